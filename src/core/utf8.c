/* UTF-8 helpers (see natomm_utf8.h). */
#include "natomm_utf8.h"
#include <string.h>

size_t natomm_utf8_next(const unsigned char *s, size_t n, unsigned long *cp)
{
    unsigned long c;
    size_t len, i;

    if (n == 0)
        return 0;
    if (s[0] < 0x80) {
        *cp = s[0];
        return 1;
    }
    if ((s[0] & 0xE0) == 0xC0) { len = 2; c = s[0] & 0x1F; }
    else if ((s[0] & 0xF0) == 0xE0) { len = 3; c = s[0] & 0x0F; }
    else if ((s[0] & 0xF8) == 0xF0) { len = 4; c = s[0] & 0x07; }
    else return 0;
    if (len > n)
        return 0;
    for (i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        c = (c << 6) | (s[i] & 0x3F);
    }
    if ((len == 2 && c < 0x80) || (len == 3 && c < 0x800)
        || (len == 4 && (c < 0x10000 || c > 0x10FFFF))
        || (c >= 0xD800 && c <= 0xDFFF))
        return 0;
    *cp = c;
    return len;
}

int natomm_utf8_clean(const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0;

    while (i < n) {
        unsigned long cp;
        size_t len = natomm_utf8_next(u + i, n - i, &cp);
        if (!len || cp < 0x20 || (cp >= 0x7F && cp <= 0x9F))
            return 0;
        i += len;
    }
    return 1;
}

long natomm_utf8_length(const char *s)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t n = strlen(s), i = 0;
    long count = 0;

    while (i < n) {
        unsigned long cp;
        size_t len = natomm_utf8_next(u + i, n - i, &cp);
        if (!len)
            return -1;
        i += len;
        count++;
    }
    return count;
}
