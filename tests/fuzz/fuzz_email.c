/* Fuzz target: natomm_email_valid and natomm_email_key.
 * Oracle: a reference written from the header's contract (at most 254
 * bytes, printable ASCII, exactly one "@", a local part of 1..64 bytes
 * without "\"(),:;<>[\]", no leading, trailing or doubled dot, a domain of
 * at least two labels of 1..63 letters, digits and inner hyphens). Both
 * must agree on every input, both ways (fuzz_policy only checks accepted
 * addresses). The key is the ASCII lower case, a fixed point of itself,
 * and lower-casing never changes validity (uniqueness is by key). */
#include <ctype.h>
#include "apr_strings.h"
#include "natomm_policy.h"
#include "fuzz_common.h"

static int ref_label_char(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
        || c == '-';
}

static int ref_valid(const char *s)
{
    size_t n = strlen(s), i, at = n, ats = 0, start, labels = 0;

    if (n > 254)
        return 0;
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '@') {
            ats++;
            at = i;
        }
    }
    if (ats != 1 || at == 0 || at > 64)
        return 0;
    for (i = 0; i < at; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x21 || c > 0x7e || strchr("\"(),:;<>[\\]", c))
            return 0;
        if (c == '.' && (i == 0 || i == at - 1 || s[i + 1] == '.'))
            return 0;
    }
    /* the domain: labels separated by single dots */
    start = at + 1;
    for (;;) {
        size_t end = start;
        while (end < n && s[end] != '.')
            end++;
        if (end == start || end - start > 63 || s[start] == '-' || s[end - 1] == '-')
            return 0;
        for (i = start; i < end; i++)
            if (!ref_label_char((unsigned char)s[i]))
                return 0;
        labels++;
        if (end == n)
            break;
        start = end + 1;
    }
    return labels >= 2;
}

static void check(apr_pool_t *p, const char *s)
{
    int v = natomm_email_valid(s), r = ref_valid(s);
    char *k;
    size_t i, n = strlen(s);

    FUZZ_ASSERT(v == r, "\"%s\": natomm_email_valid %d, reference %d", s, v, r);
    k = natomm_email_key(p, s);
    FUZZ_ASSERT(k && strlen(k) == n, "key of \"%s\" has another length", s);
    for (i = 0; i < n; i++)
        FUZZ_ASSERT(k[i] == (char)tolower((unsigned char)s[i]),
                    "key of \"%s\" is \"%s\"", s, k);
    FUZZ_ASSERT(!strcmp(natomm_email_key(p, k), k), "key not a fixed point: \"%s\"", k);
    FUZZ_ASSERT(natomm_email_valid(k) == v, "\"%s\" valid %d, its key %d", s, v, !v);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p;
    char *s, *nl;

    if (size > 600)
        return 0;
    apr_pool_create(&p, fuzz_root);
    s = fuzz_cstr(p, data, size);
    check(p, s);
    /* the part before a newline too, as a form field is split */
    if ((nl = strchr(s, '\n')) != NULL) {
        *nl = '\0';
        check(p, s);
    }
    FUZZ_ASSERT(!natomm_email_valid(NULL), "NULL accepted");
    apr_pool_destroy(p);
    return 0;
}
