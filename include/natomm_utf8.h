/* UTF-8 decoding shared by form parsing, the password policy and the JSON writer. */
#ifndef NATOMM_UTF8_H
#define NATOMM_UTF8_H

#include <stddef.h>

/* Decodes one code point at s (n bytes available). Returns its length in
 * bytes, or 0 for an invalid, overlong or surrogate sequence. */
size_t natomm_utf8_next(const unsigned char *s, size_t n, unsigned long *cp);

/* Whether the n bytes are valid UTF-8 without control characters
 * (C0, DEL, C1); NUL included. */
int natomm_utf8_clean(const char *s, size_t n);

/* Number of code points in a valid UTF-8 string, or -1. */
long natomm_utf8_length(const char *s);

#endif
