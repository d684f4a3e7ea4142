/* Fuzz target: natomm_token_shape and the unsubscribe token
 * (natomm_token_unsubscribe / natomm_token_unsubscribe_account), which a
 * stranger hands back in a URL.
 * Invariants:
 *  - shape is exactly "43 characters of the base64url alphabet";
 *  - an arbitrary input is accepted only if it is the very token minted
 *    for the id it names (one spelling, the MAC under the site key), and
 *    never under another key;
 *  - minting for an id from the input and parsing it back gives the id;
 *    changing any one character of it, or the key, makes it refused. */
#include "apr_strings.h"
#include "natomm_token.h"
#include "fuzz_common.h"

static const char KEY[] = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
static const char OTHER[] = "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210";
static const char ALPHA[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static int ref_shape(const char *s)
{
    size_t i;
    for (i = 0; s[i]; i++)
        if (!memchr(ALPHA, s[i], 64))
            return 0;
    return i == 43;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p;
    const char *s, *id, *tok;
    apr_uint64_t v = 0;
    size_t i;

    if (size > 256)
        return 0;
    apr_pool_create(&p, fuzz_root);
    s = fuzz_cstr(p, data, size);

    FUZZ_ASSERT(natomm_token_shape(s) == ref_shape(s), "shape of \"%s\"", s);
    FUZZ_ASSERT(!natomm_token_shape(NULL), "NULL has the shape");
    id = natomm_token_unsubscribe_account(p, KEY, s);
    if (id) {
        FUZZ_ASSERT(ref_shape(s), "accepted \"%s\" without the shape", s);
        tok = natomm_token_unsubscribe(p, KEY, id);
        FUZZ_ASSERT(tok && !strcmp(tok, s), "accepted \"%s\" (id %s) is not the minted %s",
                    s, id, tok ? tok : "NULL");
        FUZZ_ASSERT(!natomm_token_unsubscribe_account(p, OTHER, s),
                    "accepted under two keys");
    }

    /* mint for an id made of the input (ids are positive 63-bit numbers) */
    for (i = 0; i < 8 && i < size; i++)
        v = (v << 8) | data[i];
    v &= 0x7fffffffffffffffULL;
    if (!v)
        v = 1;
    id = apr_psprintf(p, "%" APR_UINT64_T_FMT, v);
    tok = natomm_token_unsubscribe(p, KEY, id);
    FUZZ_ASSERT(tok && ref_shape(tok), "minted token \"%s\" has no shape", tok ? tok : "NULL");
    s = natomm_token_unsubscribe_account(p, KEY, tok);
    FUZZ_ASSERT(s && !strcmp(s, id), "token of %s names %s", id, s ? s : "NULL");
    FUZZ_ASSERT(!natomm_token_unsubscribe_account(p, OTHER, tok), "accepted under another key");
    if (size > 8) {
        char *bad = apr_pstrdup(p, tok);
        size_t at = data[8] % 43;
        char c = ALPHA[(size > 9 ? data[9] : 1) % 64];
        if (c != bad[at]) {
            bad[at] = c;
            FUZZ_ASSERT(!natomm_token_unsubscribe_account(p, KEY, bad),
                        "one character changed at %zu and still accepted: %s", at, bad);
        }
    }
    apr_pool_destroy(p);
    return 0;
}
