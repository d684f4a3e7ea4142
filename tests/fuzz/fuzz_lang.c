/* Fuzz target: natomm_lang_known and natomm_lang_accept on arbitrary bytes.
 * Oracles: natomm_lang_known gives NULL, "en" or "fr", exactly as its
 * contract says (the first two bytes case-folded, then the end or "-" or
 * "_"), and reads no byte past n (the input is copied to a buffer of exactly
 * n bytes); natomm_lang_accept always gives "en" or "fr", "fr" only when the
 * header names French somewhere, and reads no byte past its NUL. */
#include <strings.h>
#include "natomm_lang.h"
#include "fuzz_common.h"

static const char *ref_known(const uint8_t *t, size_t n)
{
    if (n < 2 || (n > 2 && t[2] != '-' && t[2] != '_'))
        return NULL;
    if ((t[0] | 0x20) == 'e' && (t[1] | 0x20) == 'n')
        return "en";
    if ((t[0] | 0x20) == 'f' && (t[1] | 0x20) == 'r')
        return "fr";
    return NULL;
}

/* Whether s holds "fr" in any case (a French tag must). */
static int names_fr(const char *s)
{
    for (; s[0] && s[1]; s++)
        if ((s[0] | 0x20) == 'f' && (s[1] | 0x20) == 'r')
            return 1;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *exact, *header;
    const char *k, *want, *a;
    size_t n;

    if (size > 8192)
        return 0;

    /* natomm_lang_known on the first min(size, 8) bytes and on all */
    for (n = size < 8 ? size : 8;; n = size) {
        exact = malloc(n ? n : 1);
        if (n)
            memcpy(exact, data, n);
        k = natomm_lang_known(exact, n);
        want = ref_known(data, n);
        FUZZ_ASSERT(k == NULL || !strcmp(k, "en") || !strcmp(k, "fr"),
                    "natomm_lang_known gave \"%s\"", k);
        FUZZ_ASSERT((k == NULL) == (want == NULL) && (!k || !strcmp(k, want)),
                    "natomm_lang_known(\"%.*s\", %zu) = %s, want %s", (int)n,
                    (const char *)data, n, k ? k : "NULL", want ? want : "NULL");
        free(exact);
        if (n == size)
            break;
    }

    /* natomm_lang_accept on the bytes as a C string (an embedded NUL ends
     * it), in a buffer of exactly that length plus the NUL */
    header = malloc(size + 1);
    if (size)
        memcpy(header, data, size);
    header[size] = '\0';
    a = natomm_lang_accept(header);
    FUZZ_ASSERT(a && (!strcmp(a, "en") || !strcmp(a, "fr")),
                "natomm_lang_accept gave \"%s\"", a ? a : "(null)");
    FUZZ_ASSERT(strcmp(a, "fr") || names_fr(header),
                "French chosen from a header without \"fr\": \"%s\"", header);
    free(header);

    a = natomm_lang_accept(NULL);
    FUZZ_ASSERT(a && !strcmp(a, "en"), "NULL header gave \"%s\"", a ? a : "(null)");
    return 0;
}
