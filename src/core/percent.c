/* Percent-decoding (see natomm_percent.h). */
#include "natomm_percent.h"

int natomm_hex_digit(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

char *natomm_percent_decode(apr_pool_t *p, const char *s, size_t n,
                            int plus_is_space, size_t *outlen)
{
    char *out = apr_palloc(p, n + 1);
    size_t i, o = 0;

    for (i = 0; i < n; i++) {
        if (s[i] == '%') {
            if (i + 2 >= n || natomm_hex_digit(s[i + 1]) < 0
                || natomm_hex_digit(s[i + 2]) < 0)
                return NULL;
            out[o++] = (char)(natomm_hex_digit(s[i + 1]) * 16
                              + natomm_hex_digit(s[i + 2]));
            i += 2;
        }
        else {
            out[o++] = plus_is_space && s[i] == '+' ? ' ' : s[i];
        }
    }
    out[o] = '\0';
    if (outlen)
        *outlen = o;
    return out;
}
