/* Cryptographic helpers (see natomm_crypto.h). */
#include "natomm_crypto.h"
#include <string.h>
#include <openssl/rand.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/crypto.h>
#include <argon2.h>
#include "apr_strings.h"

#define SALT_BYTES 16
#define TAG_BYTES 32

int natomm_random(unsigned char *buf, size_t n)
{
    return RAND_bytes(buf, (int)n) == 1;
}

static const char b64url[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

char *natomm_b64url(apr_pool_t *p, const unsigned char *raw, size_t n)
{
    char *out = apr_palloc(p, (n * 4 + 2) / 3 + 1), *o = out;
    size_t i;

    for (i = 0; i < n; i += 3) {
        unsigned long v = ((unsigned long)raw[i] << 16)
                        | (i + 1 < n ? (unsigned long)raw[i + 1] << 8 : 0)
                        | (i + 2 < n ? raw[i + 2] : 0);
        *o++ = b64url[(v >> 18) & 63];
        *o++ = b64url[(v >> 12) & 63];
        if (i + 1 < n)
            *o++ = b64url[(v >> 6) & 63];
        if (i + 2 < n)
            *o++ = b64url[v & 63];
    }
    *o = '\0';
    return out;
}

int natomm_b64url_decode(const char *s, unsigned char *out, size_t max)
{
    unsigned long acc = 0;
    int bits = 0;
    size_t n = 0;

    for (; *s; s++) {
        const char *at = strchr(b64url, *s);
        if (!at)
            return -1;
        acc = (acc << 6) | (unsigned long)(at - b64url);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (n >= max)
                return -1;
            out[n++] = (unsigned char)((acc >> bits) & 0xFF);
        }
    }
    return (int)n;
}

char *natomm_token(apr_pool_t *p)
{
    unsigned char raw[NATOMM_TOKEN_BYTES];
    char *out;

    if (!natomm_random(raw, sizeof(raw)))
        return NULL;
    out = natomm_b64url(p, raw, sizeof(raw));
    OPENSSL_cleanse(raw, sizeof(raw));
    return out;
}

char *natomm_random_id(apr_pool_t *p)
{
    unsigned char raw[8];
    apr_uint64_t v = 0;
    int i;

    if (!natomm_random(raw, sizeof(raw)))
        return NULL;
    for (i = 0; i < 8; i++)
        v = (v << 8) | raw[i];
    v &= APR_UINT64_C(0x7FFFFFFFFFFFFFFF);
    if (v == 0)
        v = 1;
    return apr_psprintf(p, "%" APR_UINT64_T_FMT, v);
}

static char *hex(apr_pool_t *p, const unsigned char *d, unsigned int n)
{
    static const char digits[] = "0123456789abcdef";
    char *out = apr_palloc(p, n * 2 + 1);
    unsigned int i;

    for (i = 0; i < n; i++) {
        out[2 * i] = digits[d[i] >> 4];
        out[2 * i + 1] = digits[d[i] & 15];
    }
    out[2 * n] = '\0';
    return out;
}

char *natomm_sha256_hex(apr_pool_t *p, const char *s)
{
    unsigned char d[EVP_MAX_MD_SIZE];
    unsigned int n = 0;

    if (!EVP_Digest(s, strlen(s), d, &n, EVP_sha256(), NULL))
        return NULL;
    return hex(p, d, n);
}

int natomm_hmac(const char *key, const char *msg, unsigned char out[32])
{
    unsigned int n = 0;
    return HMAC(EVP_sha256(), key, (int)strlen(key), (const unsigned char *)msg,
                strlen(msg), out, &n) != NULL && n == 32;
}

char *natomm_hmac_hex(apr_pool_t *p, const char *key, const char *msg)
{
    unsigned char d[32];

    if (!natomm_hmac(key, msg, d))
        return NULL;
    return hex(p, d, sizeof(d));
}

int natomm_secret_equal(const char *a, const char *b)
{
    size_t n;

    if (!a || !b)
        return 0;
    n = strlen(a);
    if (n != strlen(b))
        return 0;
    return CRYPTO_memcmp(a, b, n) == 0;
}

char *natomm_password_hash(apr_pool_t *p, const natomm_hash_params_t *hp,
                           const char *password)
{
    unsigned char salt[SALT_BYTES];
    size_t len = argon2_encodedlen(hp->t_cost, hp->m_cost, hp->parallelism,
                                   SALT_BYTES, TAG_BYTES, Argon2_id);
    char *out = apr_palloc(p, len);

    if (!natomm_random(salt, sizeof(salt)))
        return NULL;
    if (argon2id_hash_encoded(hp->t_cost, hp->m_cost, hp->parallelism,
                              password, strlen(password), salt, SALT_BYTES,
                              TAG_BYTES, out, len) != ARGON2_OK)
        return NULL;
    return out;
}

int natomm_password_verify(const char *phc, const char *password)
{
    if (!phc || strncmp(phc, "$argon2id$", 10))
        return 0;
    return argon2id_verify(phc, password, strlen(password)) == ARGON2_OK;
}

int natomm_password_needs_rehash(const char *phc, const natomm_hash_params_t *hp)
{
    char want[64];

    apr_snprintf(want, sizeof(want), "$argon2id$v=19$m=%d,t=%d,p=%d$",
                 hp->m_cost, hp->t_cost, hp->parallelism);
    return !phc || strncmp(phc, want, strlen(want)) != 0;
}
