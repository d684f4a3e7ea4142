/* Verification codes (see natomm_code.h). */
#include "natomm_code.h"
#include <string.h>
#include <stdlib.h>
#include <openssl/rand.h>
#include "apr_strings.h"
#include "apr_lib.h"

const char *natomm_code_format_parse(natomm_code_format_t *fmt,
                                     const char *kind, const char *length)
{
    char *end;
    long n = strtol(length ? length : "", &end, 10);

    if (!length || !*length || *end || n < 4 || n > NATOMM_CODE_MAX)
        return "the code length must be a number from 4 to 32";
    /* 20 bits is the floor for an out-of-band code (ASVS 6.5.4):
     * 5 letters of 20 give 21.6 bits, 6 digits 19.9 */
    if (!strcasecmp(kind, "letters")) {
        if (n < 5)
            return "letter codes need at least 5 letters";
        fmt->alphabet = NATOMM_CODE_LETTERS;
    }
    else if (!strcasecmp(kind, "digits")) {
        if (n < 6)
            return "digit codes need at least 6 digits";
        fmt->alphabet = NATOMM_CODE_DIGITS;
    }
    else {
        return "the code alphabet must be 'letters' or 'digits'";
    }
    fmt->length = (int)n;
    return NULL;
}

char *natomm_code_generate(apr_pool_t *p, const natomm_code_format_t *fmt)
{
    size_t k = strlen(fmt->alphabet);
    /* rejection sampling: accept only bytes below the largest multiple of k */
    unsigned int limit = 256 - (256 % k);
    char *out = apr_palloc(p, fmt->length + 1);
    int i = 0;

    while (i < fmt->length) {
        unsigned char buf[64];
        size_t j;
        if (RAND_bytes(buf, sizeof(buf)) != 1)
            return NULL;
        for (j = 0; j < sizeof(buf) && i < fmt->length; j++) {
            if (buf[j] < limit)
                out[i++] = fmt->alphabet[buf[j] % k];
        }
    }
    out[i] = '\0';
    return out;
}

char *natomm_code_normalise(apr_pool_t *p, const natomm_code_format_t *fmt,
                            const char *input)
{
    char *out = apr_palloc(p, fmt->length + 1);
    int n = 0;
    const char *s;

    for (s = input; *s; s++) {
        char c = *s;
        if (c == ' ' || c == '-' || c == '\t')
            continue;
        c = (char)apr_toupper((unsigned char)c);
        if (c == '\0' || !strchr(fmt->alphabet, c) || n >= fmt->length)
            return NULL;
        out[n++] = c;
    }
    if (n != fmt->length)
        return NULL;
    out[n] = '\0';
    return out;
}

char *natomm_code_display(apr_pool_t *p, const char *code)
{
    size_t n = strlen(code);

    if (n < 6 || n % 2)
        return apr_pstrdup(p, code);
    return apr_pstrcat(p, apr_pstrndup(p, code, n / 2), "-", code + n / 2, NULL);
}
