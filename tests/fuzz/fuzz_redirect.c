/* Fuzz target: natomm_return_url.
 * Invariants: the answer is the input itself or "/"; it starts with one "/"
 * (never "//" or "/\"), is printable ASCII without backslash or space; and
 * every percent-decoded form of it (decoded byte by byte, NULs included)
 * still starts with one "/" and holds no control character or backslash.
 * A plain path of unreserved characters must be kept.
 * A decoded NUL counts as a control character (it once hid the rest of
 * the value from the check). */
#include "apr_strings.h"
#include "natomm_redirect.h"
#include "fuzz_common.h"

static int hexv(unsigned char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* One round over s[0..*n), in place; whether anything changed. */
static int decode_round(unsigned char *s, size_t *n)
{
    size_t i, o = 0;
    int changed = 0;
    for (i = 0; i < *n; i++) {
        if (s[i] == '%' && i + 2 < *n && hexv(s[i + 1]) >= 0 && hexv(s[i + 2]) >= 0) {
            s[o++] = (unsigned char)(hexv(s[i + 1]) * 16 + hexv(s[i + 2]));
            i += 2;
            changed = 1;
        }
        else
            s[o++] = s[i];
    }
    *n = o;
    return changed;
}

static int unreserved_path(const char *s)
{
    const char *c;
    if (s[0] != '/' || s[1] == '/' || strlen(s) > NATOMM_RETURN_MAX)
        return 0;
    for (c = s; *c; c++)
        if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z')
              || (*c >= '0' && *c <= '9') || strchr("/._-~", *c)))
            return 0;
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p;
    const char *in, *r;
    size_t i, n;

    if (size > NATOMM_RETURN_MAX + 16)
        return 0;
    apr_pool_create(&p, fuzz_root);
    in = fuzz_cstr(p, data, size);
    r = natomm_return_url(p, in);

    FUZZ_ASSERT(r != NULL, "NULL answer");
    FUZZ_ASSERT(!strcmp(r, "/") || !strcmp(r, in), "answer neither the input nor \"/\"");
    FUZZ_ASSERT(r[0] == '/' && r[1] != '/' && r[1] != '\\', "answer \"%s\"", r);
    for (i = 0; r[i]; i++)
        FUZZ_ASSERT((unsigned char)r[i] > 0x20 && (unsigned char)r[i] < 0x7f
                    && r[i] != '\\', "byte 0x%02x at %zu kept", (unsigned char)r[i], i);
    FUZZ_ASSERT(strlen(r) <= NATOMM_RETURN_MAX, "answer too long");
    if (unreserved_path(in))
        FUZZ_ASSERT(!strcmp(r, in), "plain local path \"%s\" became \"%s\"", in, r);

    if (strcmp(r, "/")) {
        unsigned char *w = (unsigned char *)apr_pstrdup(p, r);
        int round;
        n = strlen(r);
        for (round = 0; round < 8; round++) {
            if (!decode_round(w, &n))
                break;
            FUZZ_ASSERT(n >= 1 && w[0] == '/', "decoded form %d lost its leading /", round);
            FUZZ_ASSERT(n < 2 || (w[1] != '/' && w[1] != '\\'),
                        "decoded form %d of \"%s\" starts with a second slash", round, r);
            for (i = 0; i < n; i++)
                FUZZ_ASSERT(w[i] >= 0x20 && w[i] != 0x7f && w[i] != '\\',
                            "decoded form %d of \"%s\" holds byte 0x%02x", round, r, w[i]);
        }
        FUZZ_ASSERT(round <= 4, "\"%s\" kept though it decodes %d times", r, round);
    }
    apr_pool_destroy(p);
    return 0;
}
