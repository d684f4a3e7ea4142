/* Unit tests for src/crypto.c: tokens, ids, digests, MACs, constant-time
 * comparison, argon2id hashes. */
#include <string.h>
#include <stdlib.h>
#include <errno.h>
#include "apr_general.h"
#include "apr_hash.h"
#include "apr_strings.h"
#include "natomm_crypto.h"
#include "check.h"

static apr_pool_t *pool;

static void test_random(void)
{
    unsigned char a[32], b[32], zero[32] = {0};

    memset(a, 0, sizeof(a));
    memset(b, 0, sizeof(b));
    CHECK(natomm_random(a, sizeof(a)));
    CHECK(natomm_random(b, sizeof(b)));
    CHECK(memcmp(a, zero, sizeof(a)) != 0);
    CHECK(memcmp(a, b, sizeof(a)) != 0);
}

static void test_token(void)
{
    apr_hash_t *seen = apr_hash_make(pool);
    int i, shape_ok = 1, dups = 0;
    int bad_last = 0;

    for (i = 0; i < 1000; i++) {
        const char *t = natomm_token(pool);
        if (!t || strlen(t) != 43
            || strspn(t, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                         "0123456789-_") != 43) {
            shape_ok = 0;
            CHECK_MSG(0, "bad token \"%s\"", t ? t : "(null)");
            continue;
        }
        if (apr_hash_get(seen, t, APR_HASH_KEY_STRING))
            dups++;
        apr_hash_set(seen, t, APR_HASH_KEY_STRING, "");
        /* 256 bits in 43 characters: the last one carries 4 bits, so it is
         * one of the 16 characters whose low 2 bits are zero */
        if (!strchr("AEIMQUYcgkosw048", t[42]))
            bad_last++;
    }
    CHECK(shape_ok);
    CHECK_INT(dups, 0);
    CHECK_INT(apr_hash_count(seen), 1000);
    CHECK_INT(bad_last, 0);
}

static void test_random_id(void)
{
    apr_hash_t *seen = apr_hash_make(pool);
    int i, big = 0;

    for (i = 0; i < 200; i++) {
        const char *id = natomm_random_id(pool);
        char *end;
        unsigned long long v;

        if (!CHECK_NOT_NULL(id))
            continue;
        CHECK_MSG(strspn(id, "0123456789") == strlen(id) && *id && *id != '0',
                  "id \"%s\"", id);
        errno = 0;
        v = strtoull(id, &end, 10);
        CHECK_MSG(!errno && !*end && v > 0 && v <= 9223372036854775807ULL,
                  "id %s", id);
        if (v > (1ULL << 62))
            big++;
        CHECK(!apr_hash_get(seen, id, APR_HASH_KEY_STRING));
        apr_hash_set(seen, id, APR_HASH_KEY_STRING, "");
    }
    /* about half are above 2^62 if the 63 bits are really used */
    CHECK_MSG(big > 50 && big < 150, "%d of 200 above 2^62", big);
}

static void test_digests(void)
{
    CHECK_STR(natomm_sha256_hex(pool, "abc"),
              "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    CHECK_STR(natomm_sha256_hex(pool, ""),
              "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    CHECK_STR(natomm_sha256_hex(pool,
              "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
              "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    /* RFC 4231 test case 2 */
    CHECK_STR(natomm_hmac_hex(pool, "Jefe", "what do ya want for nothing?"),
              "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    /* RFC 4231 test case 1: key 0x0b x 20, "Hi There" */
    CHECK_STR(natomm_hmac_hex(pool, "\x0b\x0b\x0b\x0b\x0b\x0b\x0b\x0b\x0b\x0b"
                                    "\x0b\x0b\x0b\x0b\x0b\x0b\x0b\x0b\x0b\x0b",
                              "Hi There"),
              "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
    /* the key matters */
    CHECK(strcmp(natomm_hmac_hex(pool, "Jefe", "x"),
                 natomm_hmac_hex(pool, "Jeff", "x")) != 0);
}

static void test_secret_equal(void)
{
    CHECK(natomm_secret_equal("", ""));
    CHECK(natomm_secret_equal("abc", "abc"));
    CHECK(natomm_secret_equal("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
                              "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));
    CHECK(!natomm_secret_equal("abc", "abd"));
    CHECK(!natomm_secret_equal("abc", "xbc"));
    CHECK(!natomm_secret_equal("abc", "ab"));
    CHECK(!natomm_secret_equal("ab", "abc"));
    CHECK(!natomm_secret_equal("abc", ""));
    CHECK(!natomm_secret_equal("abc", "ABC"));
    CHECK(!natomm_secret_equal(NULL, "abc"));
    CHECK(!natomm_secret_equal("abc", NULL));
    CHECK(!natomm_secret_equal(NULL, NULL));
}

static void test_password_hash(void)
{
    natomm_hash_params_t hp = { 1, 8192, 1 };
    natomm_hash_params_t other;
    const char *prefix = "$argon2id$v=19$m=8192,t=1,p=1$";
    const char *pw = "Kx7#mQ2!vR9@pL";
    char *h1 = natomm_password_hash(pool, &hp, pw);
    char *h2 = natomm_password_hash(pool, &hp, pw);
    char *h3 = natomm_password_hash(pool, &hp, "\xC3\x89\xC3\xA9\xC3\xA9 \xE6\xBC\xA2");

    CHECK_NOT_NULL(h1);
    CHECK_NOT_NULL(h2);
    if (!h1 || !h2 || !h3)
        return;
    CHECK_MSG(!strncmp(h1, prefix, strlen(prefix)), "hash %s", h1);
    /* PHC: $argon2id$v=19$m=..,t=..,p=..$<salt b64>$<tag b64>; a 16-byte salt
     * is 22 base64 characters, a 32-byte tag 43 */
    {
        const char *salt = h1 + strlen(prefix);
        const char *dollar = strchr(salt, '$');
        CHECK(dollar != NULL);
        if (dollar) {
            CHECK_INT(dollar - salt, 22);
            CHECK_INT(strlen(dollar + 1), 43);
        }
    }
    CHECK(strcmp(h1, h2) != 0);                     /* fresh salt each time */

    CHECK(natomm_password_verify(h1, pw));
    CHECK(natomm_password_verify(h2, pw));
    CHECK(!natomm_password_verify(h1, "Kx7#mQ2!vR9@pl"));
    CHECK(!natomm_password_verify(h1, ""));
    CHECK(!natomm_password_verify(h1, "Kx7#mQ2!vR9@pL "));
    CHECK(natomm_password_verify(h3, "\xC3\x89\xC3\xA9\xC3\xA9 \xE6\xBC\xA2"));
    CHECK(!natomm_password_verify(h3, "\xC3\x89\xC3\xA9\xC3\xA9 "));
    CHECK(!natomm_password_verify(NULL, pw));
    CHECK(!natomm_password_verify("", pw));
    CHECK(!natomm_password_verify("not a hash", pw));
    {
        /* a tampered tag, and a downgrade to argon2i, are refused */
        char *bad = apr_pstrdup(pool, h1);
        size_t n = strlen(bad);
        bad[n - 1] = bad[n - 1] == 'A' ? 'B' : 'A';
        CHECK(!natomm_password_verify(bad, pw));
        bad = apr_pstrcat(pool, "$argon2i$", h1 + strlen("$argon2id$"), NULL);
        CHECK(!natomm_password_verify(bad, pw));
    }

    CHECK(!natomm_password_needs_rehash(h1, &hp));
    other = hp; other.t_cost = 2;
    CHECK(natomm_password_needs_rehash(h1, &other));
    other = hp; other.m_cost = 19456;
    CHECK(natomm_password_needs_rehash(h1, &other));
    other = hp; other.m_cost = 819;              /* a prefix of 8192 */
    CHECK(natomm_password_needs_rehash(h1, &other));
    other = hp; other.m_cost = 81920;
    CHECK(natomm_password_needs_rehash(h1, &other));
    other = hp; other.parallelism = 2;
    CHECK(natomm_password_needs_rehash(h1, &other));
    CHECK(natomm_password_needs_rehash(NULL, &hp));
    CHECK(natomm_password_needs_rehash("", &hp));
    CHECK(natomm_password_needs_rehash(
        "$argon2i$v=19$m=8192,t=1,p=1$c2FsdHNhbHRzYWx0c2FsdA$aGFzaA", &hp));
    CHECK(natomm_password_needs_rehash(
        "$argon2id$v=16$m=8192,t=1,p=1$c2FsdHNhbHRzYWx0c2FsdA$aGFzaA", &hp));

    /* the default parameters of SPEC §3 */
    {
        natomm_hash_params_t def = { 2, 19456, 1 };
        char *h = natomm_password_hash(pool, &def, pw);
        CHECK(h && !strncmp(h, "$argon2id$v=19$m=19456,t=2,p=1$", 31));
        CHECK(h && natomm_password_verify(h, pw));
        CHECK(h && !natomm_password_needs_rehash(h, &def));
        CHECK(h && natomm_password_needs_rehash(h, &hp));
    }
}

int main(void)
{
    apr_initialize();
    apr_pool_create(&pool, NULL);
    test_random();
    test_token();
    test_random_id();
    test_digests();
    test_secret_equal();
    test_password_hash();
    apr_pool_destroy(pool);
    apr_terminate();
    return check_done("test_crypto");
}
