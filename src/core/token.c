/* Token shapes and the unsubscribe token (see natomm_token.h). */
#include "natomm_token.h"
#include <string.h>
#include <openssl/crypto.h>
#include "apr_strings.h"
#include "natomm_crypto.h"

#define TOKEN_CHARS 43
#define ID_BYTES 8
#define MAC_BYTES 24

int natomm_token_shape(const char *s)
{
    return s && strlen(s) == TOKEN_CHARS
        && strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                     "0123456789-_") == TOKEN_CHARS;
}

static int unsubscribe_mac(apr_pool_t *p, const char *key, apr_uint64_t id,
                           unsigned char *mac)
{
    unsigned char full[32];

    if (!key || !natomm_hmac(key, apr_psprintf(p, "unsubscribe|%"
                             APR_UINT64_T_FMT, id), full))
        return 0;
    memcpy(mac, full, MAC_BYTES);
    return 1;
}

const char *natomm_token_unsubscribe(apr_pool_t *p, const char *key,
                                     const char *account_id)
{
    unsigned char raw[ID_BYTES + MAC_BYTES];
    apr_uint64_t id = (apr_uint64_t)apr_strtoi64(account_id, NULL, 10);
    int i;

    for (i = 0; i < ID_BYTES; i++)
        raw[i] = (unsigned char)(id >> (8 * (ID_BYTES - 1 - i)));
    if (!unsubscribe_mac(p, key, id, raw + ID_BYTES))
        return NULL;
    return natomm_b64url(p, raw, sizeof(raw));
}

const char *natomm_token_unsubscribe_account(apr_pool_t *p, const char *key,
                                             const char *token)
{
    unsigned char raw[ID_BYTES + MAC_BYTES + 1], mac[MAC_BYTES];
    apr_uint64_t id = 0;
    int i;

    /* one spelling only: the unused low bits of the last character are 0 */
    if (!natomm_token_shape(token)
        || natomm_b64url_decode(token, raw, sizeof(raw)) != ID_BYTES + MAC_BYTES
        || strcmp(natomm_b64url(p, raw, ID_BYTES + MAC_BYTES), token))
        return NULL;
    for (i = 0; i < ID_BYTES; i++)
        id = (id << 8) | raw[i];
    if (!unsubscribe_mac(p, key, id, mac)
        || CRYPTO_memcmp(mac, raw + ID_BYTES, MAC_BYTES))
        return NULL;
    return apr_psprintf(p, "%" APR_UINT64_T_FMT, id);
}
