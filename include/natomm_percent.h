/* Percent-decoding, shared by form bodies, return URLs and SMTP URLs.
 * Pure: no httpd types. */
#ifndef NATOMM_PERCENT_H
#define NATOMM_PERCENT_H

#include "apr_pools.h"

/* 0..15 for a hex digit, else -1. */
int natomm_hex_digit(char c);

/* Decodes s[0..n) ("+" as space when plus_is_space) into a new string and
 * its length (NULs kept, for the caller to refuse); NULL on a malformed
 * escape. */
char *natomm_percent_decode(apr_pool_t *p, const char *s, size_t n,
                            int plus_is_space, size_t *outlen);

#endif
