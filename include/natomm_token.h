/* Shapes of the tokens the module hands out, and the unsubscribe token.
 * Pure: no httpd types. */
#ifndef NATOMM_TOKEN_H
#define NATOMM_TOKEN_H

#include "apr_pools.h"

/* Whether s looks like a 256-bit token: 43 base64url characters. Anything
 * else (a cookie of someone else's, a pasted fragment) is not ours. */
int natomm_token_shape(const char *s);

/* The one-click unsubscribe token of an account: its id and a MAC of it
 * under key, base64url (43 characters): opaque, unforgeable, stored
 * nowhere. NULL on a MAC failure. */
const char *natomm_token_unsubscribe(apr_pool_t *p, const char *key,
                                     const char *account_id);

/* The account id an unsubscribe token names, or NULL when its shape or
 * MAC is wrong (compared in constant time). */
const char *natomm_token_unsubscribe_account(apr_pool_t *p, const char *key,
                                             const char *token);

#endif
