/* Fuzz target: natomm_json_quote and the object writer.
 * Invariants: the literal is one valid JSON string (checked by json_lint.h,
 * which has its own UTF-8 decoder), holds no raw control character, DEL,
 * "<", ">", U+2028 or U+2029, and decodes to the input with invalid UTF-8
 * replaced: removing U+FFFD from both sides, the decoded text equals the
 * input's valid characters. An object of such strings is valid JSON. */
#include "apr_strings.h"
#include "apr_tables.h"
#include "natomm_json.h"
#include "fuzz_common.h"
#include "json_lint.h"

/* The valid characters of s, without U+FFFD, into out; its length. */
static size_t valid_only(const char *s, char *out)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0, o = 0;
    while (u[i]) {
        unsigned long cp;
        size_t len = jl_utf8(u + i, &cp);
        if (!len) {
            i++;
            continue;
        }
        if (cp != 0xFFFD) {
            memcpy(out + o, u + i, len);
            o += len;
        }
        i += len;
    }
    out[o] = '\0';
    return o;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p;
    const char *in, *q;
    char *dec, *a, *b;
    size_t n, qn, i, dn = 0;

    if (size > 4096)
        return 0;
    apr_pool_create(&p, fuzz_root);
    in = fuzz_cstr(p, data, size);
    q = natomm_json_quote(p, in);
    qn = strlen(q);

    FUZZ_ASSERT(qn >= 2 && q[0] == '"' && q[qn - 1] == '"', "not quoted");
    for (i = 0; i < qn; i++) {
        unsigned char c = (unsigned char)q[i];
        FUZZ_ASSERT(c >= 0x20 && c != 0x7f && c != '<' && c != '>',
                    "raw byte 0x%02x at %zu", c, i);
        FUZZ_ASSERT(!(c == 0xE2 && i + 2 < qn && (unsigned char)q[i + 1] == 0x80
                      && ((unsigned char)q[i + 2] == 0xA8 || (unsigned char)q[i + 2] == 0xA9)),
                    "raw U+2028/U+2029 at %zu", i);
    }
    dec = apr_palloc(p, qn + 1);
    n = json_unquote(q, dec, &dn);
    FUZZ_ASSERT(n == qn, "not one valid JSON string literal (%zu of %zu)", n, qn);
    FUZZ_ASSERT(json_lint(q), "json_lint refuses the literal");

    a = apr_palloc(p, strlen(in) + 1);
    b = apr_palloc(p, dn + 1);
    valid_only(in, a);
    FUZZ_ASSERT(strlen(dec) == dn, "decoded text holds a NUL");
    valid_only(dec, b);
    FUZZ_ASSERT(!strcmp(a, b), "decoded text differs from the input");
    /* valid input comes back byte for byte */
    if (strlen(a) == strlen(in))
        FUZZ_ASSERT(!strcmp(dec, in) || strstr(in, "\xEF\xBF\xBD"),
                    "valid input changed");

    {
        natomm_json *j = natomm_json_object(p);
        apr_array_header_t *items = apr_array_make(p, 2, sizeof(const char *));
        const char *out;
        APR_ARRAY_PUSH(items, const char *) = in;
        APR_ARRAY_PUSH(items, const char *) = "";
        natomm_json_str(j, in, in);
        natomm_json_str(j, "null", NULL);
        natomm_json_int(j, "n", (apr_int64_t)size * -7919);
        natomm_json_bool(j, "b", (int)size & 1);
        natomm_json_strs(j, "a", items);
        out = natomm_json_finish(j);
        FUZZ_ASSERT(json_lint(out), "object is not valid JSON");
    }
    apr_pool_destroy(p);
    return 0;
}
