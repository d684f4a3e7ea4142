/* Fuzz target: code format parsing, natomm_code_normalise and display.
 * The first byte picks the format (letters or digits, length 5..32); the
 * rest is what a person typed. Oracle: strip spaces, tabs and dashes, fold
 * ASCII case; the code is that when it has the right length and alphabet,
 * else NULL. A code is a fixed point of normalise, and of display+normalise. */
#include "apr_strings.h"
#include "natomm_code.h"
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p;
    natomm_code_format_t fmt;
    const char *in, *r, *kind, *err;
    char len[8], *want;
    const char *c;
    size_t n = 0;
    int ok = 1;

    if (size < 1 || size > 512)
        return 0;
    apr_pool_create(&p, fuzz_root);
    kind = (data[0] & 0x80) ? "digits" : "letters";
    snprintf(len, sizeof(len), "%d", (data[0] & 0x7f) % 40);
    err = natomm_code_format_parse(&fmt, kind, len);
    if (err) {
        int l = atoi(len);
        FUZZ_ASSERT(l < 5 || l > NATOMM_CODE_MAX || (kind[0] == 'd' && l < 6),
                    "format %s %s refused: %s", kind, len, err);
        apr_pool_destroy(p);
        return 0;
    }
    FUZZ_ASSERT(fmt.length == atoi(len) && fmt.length >= 5 && fmt.length <= NATOMM_CODE_MAX,
                "format length %d from \"%s\"", fmt.length, len);
    FUZZ_ASSERT(!strcmp(fmt.alphabet, kind[0] == 'd' ? NATOMM_CODE_DIGITS
                                                     : NATOMM_CODE_LETTERS), "alphabet");

    in = fuzz_cstr(p, data + 1, size - 1);
    r = natomm_code_normalise(p, &fmt, in);

    want = apr_palloc(p, strlen(in) + 1);
    for (c = in; *c; c++) {
        char u;
        if (*c == ' ' || *c == '-' || *c == '\t')
            continue;
        u = (*c >= 'a' && *c <= 'z') ? (char)(*c - 32) : *c;
        if (!strchr(fmt.alphabet, u))
            ok = 0;
        want[n++] = u;
    }
    want[n] = '\0';
    if (n != (size_t)fmt.length)
        ok = 0;

    if (!ok) {
        FUZZ_ASSERT(r == NULL, "\"%s\" taken as code \"%s\"", in, r);
    }
    else {
        const char *shown;
        FUZZ_ASSERT(r != NULL, "\"%s\" refused, want \"%s\"", in, want);
        FUZZ_ASSERT(!strcmp(r, want), "\"%s\" gave \"%s\", want \"%s\"", in, r, want);
        FUZZ_ASSERT(!strcmp(natomm_code_normalise(p, &fmt, r), r), "not a fixed point");
        shown = natomm_code_display(p, r);
        FUZZ_ASSERT(shown && strlen(shown) >= strlen(r), "display shorter");
        FUZZ_ASSERT(!strcmp(natomm_code_normalise(p, &fmt, shown), r),
                    "display \"%s\" does not normalise back to \"%s\"", shown, r);
    }
    apr_pool_destroy(p);
    return 0;
}
