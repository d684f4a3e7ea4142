/* Randomness, digests, MACs, constant-time comparison and password hashes.
 * Pure: no httpd types (OpenSSL, libargon2 and APR only). */
#ifndef NATOMM_CRYPTO_H
#define NATOMM_CRYPTO_H

#include "apr_pools.h"

#define NATOMM_TOKEN_BYTES 32    /* 256-bit session and reset tokens */

/* Fills buf from the CSPRNG; non-zero on success. */
int natomm_random(unsigned char *buf, size_t n);
/* A random token as unpadded base64url (43 characters), or NULL. */
char *natomm_token(apr_pool_t *p);
/* Unpadded base64url of n bytes. */
char *natomm_b64url(apr_pool_t *p, const unsigned char *raw, size_t n);
/* Decodes unpadded base64url into out (at most max bytes): the byte
 * count, or -1 for a character outside the alphabet or too long a value. */
int natomm_b64url_decode(const char *s, unsigned char *out, size_t max);
/* Raw HMAC-SHA256(key, msg); non-zero on success. */
int natomm_hmac(const char *key, const char *msg, unsigned char out[32]);
/* A random positive 63-bit identifier as decimal text, or NULL. */
char *natomm_random_id(apr_pool_t *p);
/* Lower-case hex SHA-256 of s. */
char *natomm_sha256_hex(apr_pool_t *p, const char *s);
/* Lower-case hex HMAC-SHA256(key, msg). */
char *natomm_hmac_hex(apr_pool_t *p, const char *key, const char *msg);
/* Constant-time equality of two strings (lengths are not secret). */
int natomm_secret_equal(const char *a, const char *b);

typedef struct {
    int t_cost, m_cost, parallelism;
} natomm_hash_params_t;

/* argon2id PHC string of password with a fresh 16-byte salt, or NULL. */
char *natomm_password_hash(apr_pool_t *p, const natomm_hash_params_t *hp,
                           const char *password);
/* Whether password matches the PHC string (constant-time inside libargon2). */
int natomm_password_verify(const char *phc, const char *password);
/* Whether a stored hash was made with other parameters than hp. */
int natomm_password_needs_rehash(const char *phc, const natomm_hash_params_t *hp);

#endif
