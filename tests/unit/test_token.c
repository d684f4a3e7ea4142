/* Unit tests for src/core/token.c: the shape of a 256-bit token, and the
 * unsubscribe token (an account id and a MAC of it): round trips, tampering
 * with every character, wrong keys, wrong lengths, the comparison. */
#include <string.h>
#include "apr_general.h"
#include "apr_pools.h"
#include "apr_strings.h"
#include "natomm_token.h"
#include "natomm_crypto.h"
#include "check.h"

static apr_pool_t *pool;

static const char B64URL[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
static const char KEY[] = "0123456789abcdef0123456789abcdef-unit-test-key";

static void test_shape(void)
{
    char s[64];
    int i, bad = 0;

    CHECK(natomm_token_shape("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"));
    CHECK(natomm_token_shape("abcdefghijklmnopqrstuvwxyz0123456789-_ABCDE"));
    CHECK(natomm_token_shape("___________________________________________"));
    CHECK(natomm_token_shape("-------------------------------------------"));
    CHECK(!natomm_token_shape(NULL));
    CHECK(!natomm_token_shape(""));
    CHECK(!natomm_token_shape("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"));    /* 42 */
    CHECK(!natomm_token_shape("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"));  /* 44 */
    /* standard base64, padding, spaces, line breaks are not ours */
    CHECK(!natomm_token_shape("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA+"));
    CHECK(!natomm_token_shape("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA/"));
    CHECK(!natomm_token_shape("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="));
    CHECK(!natomm_token_shape("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA "));
    CHECK(!natomm_token_shape(" AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"));
    CHECK(!natomm_token_shape("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n"));
    CHECK(!natomm_token_shape("AAAAAAAAAAAAAAAAAAAAA.AAAAAAAAAAAAAAAAAAAAA"));
    /* 43 bytes but 42 characters: a two-byte UTF-8 letter */
    CHECK(!natomm_token_shape("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\xc3\xa9"));
    /* an embedded NUL ends the string: 21 characters */
    CHECK(!natomm_token_shape("AAAAAAAAAAAAAAAAAAAAA\0AAAAAAAAAAAAAAAAAAAAA"));

    /* every byte in every position: accepted exactly when in the alphabet */
    for (i = 1; i < 256; i++) {
        int pos;
        for (pos = 0; pos < 43; pos += 21) {
            memset(s, 'A', 43);
            s[43] = '\0';
            s[pos] = (char)i;
            if (natomm_token_shape(s) != (strchr(B64URL, i) != NULL)) {
                bad++;
                fprintf(stderr, "    byte 0x%02x at %d misjudged\n", i, pos);
            }
        }
    }
    CHECK_INT(bad, 0);

    /* the module's own tokens have the shape */
    for (i = 0; i < 200; i++) {
        const char *t = natomm_token(pool);
        if (!t || !natomm_token_shape(t))
            bad++;
    }
    CHECK_INT(bad, 0);
}

static void round_trip(const char *id, const char *want_back)
{
    const char *t = natomm_token_unsubscribe(pool, KEY, id);

    CHECK_MSG(t && natomm_token_shape(t), "token of %s: %s", id, t ? t : "(null)");
    if (!t)
        return;
    CHECK_STR(natomm_token_unsubscribe_account(pool, KEY, t), want_back);
    /* deterministic: stored nowhere, made again the same */
    CHECK_STR(natomm_token_unsubscribe(pool, KEY, id), t);
}

static void test_round_trip(void)
{
    const char *a, *b;
    int i, bad = 0;

    round_trip("1", "1");
    round_trip("42", "42");
    round_trip("0", "0");
    round_trip("255", "255");
    round_trip("256", "256");
    round_trip("4294967296", "4294967296");
    round_trip("1234567890123456789", "1234567890123456789");
    round_trip("9223372036854775807", "9223372036854775807");

    /* random account ids as the module makes them */
    for (i = 0; i < 300; i++) {
        const char *id = natomm_random_id(pool);
        const char *t = natomm_token_unsubscribe(pool, KEY, id);
        const char *back = t ? natomm_token_unsubscribe_account(pool, KEY, t) : NULL;
        if (!back || strcmp(back, id)) {
            bad++;
            fprintf(stderr, "    id %s gave back %s\n", id, back ? back : "(null)");
        }
    }
    CHECK_INT(bad, 0);

    /* different accounts, different tokens; different keys too */
    a = natomm_token_unsubscribe(pool, KEY, "1");
    b = natomm_token_unsubscribe(pool, KEY, "2");
    CHECK(a && b && strcmp(a, b));
    b = natomm_token_unsubscribe(pool, "another key", "1");
    CHECK(a && b && strcmp(a, b));
    /* the MAC part differs too, not only the id part (the first 11 chars
     * carry the id) */
    a = natomm_token_unsubscribe(pool, KEY, "7");
    b = natomm_token_unsubscribe(pool, "other", "7");
    CHECK(a && b && !strncmp(a, b, 10) && strcmp(a + 11, b + 11));

    /* no key: no token */
    CHECK_NULL(natomm_token_unsubscribe(pool, NULL, "1"));
}

static void test_refused(void)
{
    const char *t = natomm_token_unsubscribe(pool, KEY, "123456789");
    char *m;
    unsigned char raw[40];
    int pos, c, accepted = 0, tail_accepted = 0, flips = 0, flip_ok = 0;

    CHECK_NOT_NULL(t);
    if (!t)
        return;
    CHECK_STR(natomm_token_unsubscribe_account(pool, KEY, t), "123456789");

    /* wrong keys */
    CHECK_NULL(natomm_token_unsubscribe_account(pool, "another key", t));
    CHECK_NULL(natomm_token_unsubscribe_account(pool, "", t));
    CHECK_NULL(natomm_token_unsubscribe_account(pool, NULL, t));
    m = apr_pstrdup(pool, KEY);
    m[strlen(m) - 1] ^= 1;
    CHECK_NULL(natomm_token_unsubscribe_account(pool, m, t));
    CHECK_NULL(natomm_token_unsubscribe_account(pool, apr_pstrcat(pool, KEY, "x", NULL), t));
    CHECK_NULL(natomm_token_unsubscribe_account(pool, apr_pstrndup(pool, KEY, 10), t));

    /* wrong shapes and lengths */
    CHECK_NULL(natomm_token_unsubscribe_account(pool, KEY, NULL));
    CHECK_NULL(natomm_token_unsubscribe_account(pool, KEY, ""));
    CHECK_NULL(natomm_token_unsubscribe_account(pool, KEY, apr_pstrndup(pool, t, 42)));
    CHECK_NULL(natomm_token_unsubscribe_account(pool, KEY, apr_pstrndup(pool, t, 11)));
    CHECK_NULL(natomm_token_unsubscribe_account(pool, KEY, apr_pstrcat(pool, t, "A", NULL)));
    CHECK_NULL(natomm_token_unsubscribe_account(pool, KEY, apr_pstrcat(pool, t, "=", NULL)));
    CHECK_NULL(natomm_token_unsubscribe_account(pool, KEY, apr_pstrcat(pool, t, t, NULL)));
    CHECK_NULL(natomm_token_unsubscribe_account(pool, KEY, apr_pstrcat(pool, " ", t, NULL)));
    CHECK_NULL(natomm_token_unsubscribe_account(pool, KEY, apr_pstrcat(pool, t + 1, "A", NULL)));
    CHECK_NULL(natomm_token_unsubscribe_account(pool, KEY,
               "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"));
    /* a session-style random token is not an unsubscribe token */
    CHECK_NULL(natomm_token_unsubscribe_account(pool, KEY, natomm_token(pool)));
    /* 32 zero bytes claim account 0: the MAC is wrong */
    memset(raw, 0, sizeof(raw));
    CHECK_NULL(natomm_token_unsubscribe_account(pool, KEY, natomm_b64url(pool, raw, 32)));

    /* the id part of one account and the MAC of another */
    {
        const char *u = natomm_token_unsubscribe(pool, KEY, "987654321");
        char *mix = apr_pstrdup(pool, t);
        memcpy(mix, u, 10);    /* the first 60 bits: the id, for sure */
        CHECK_NULL(natomm_token_unsubscribe_account(pool, KEY, mix));
        mix = apr_pstrdup(pool, u);
        memcpy(mix + 11, t + 11, 32);
        CHECK_NULL(natomm_token_unsubscribe_account(pool, KEY, mix));
    }

    /* every character replaced by every other character of the alphabet */
    m = apr_pstrdup(pool, t);
    for (pos = 0; pos < 43; pos++) {
        for (c = 0; c < 64; c++) {
            if (B64URL[c] == t[pos])
                continue;
            m[pos] = B64URL[c];
            if (natomm_token_unsubscribe_account(pool, KEY, m)) {
                if (pos == 42)
                    tail_accepted++;
                else {
                    accepted++;
                    fprintf(stderr, "    position %d as '%c' accepted\n", pos, B64URL[c]);
                }
            }
        }
        m[pos] = t[pos];
    }
    CHECK_INT(accepted, 0);
    /* the last character carries the MAC's last 4 bits and 2 unused bits
     * (43 * 6 = 258 = 256 + 2): a strict decoder refuses the 3 other
     * values of the unused bits too */
    if (tail_accepted)
        fprintf(stderr, "    the last character was accepted in %d of its 63 "
                "other values\n", tail_accepted);
    CHECK(tail_accepted == 0);

    /* every bit of every decoded byte flipped */
    for (pos = 0; pos < 32; pos++) {
        int bit;
        for (bit = 0; bit < 8; bit++) {
            int n = natomm_b64url_decode(t, raw, sizeof(raw));
            if (n != 32)
                break;
            raw[pos] ^= (unsigned char)(1 << bit);
            flips++;
            if (!natomm_token_unsubscribe_account(pool, KEY, natomm_b64url(pool, raw, 32)))
                flip_ok++;
        }
    }
    CHECK_INT(flips, 256);
    CHECK_INT(flip_ok, 256);

    /* every byte of the string flipped in its low bit (most become other
     * alphabet characters, some leave it) */
    m = apr_pstrdup(pool, t);
    accepted = 0;
    for (pos = 0; pos < 42; pos++) {
        m[pos] ^= 1;
        if (natomm_token_unsubscribe_account(pool, KEY, m))
            accepted++;
        m[pos] ^= 1;
    }
    CHECK_INT(accepted, 0);

    /* an unsubscribe token is an opaque token: it has the shape */
    CHECK(natomm_token_shape(t));
}

/* The MAC comparison must look at every byte: a token whose MAC matches in
 * all but the last byte (or all but the first) is refused like any other.
 * (Constant time itself is CRYPTO_memcmp's; here only its behaviour.) */
static void test_compare_every_byte(void)
{
    const char *t = natomm_token_unsubscribe(pool, KEY, "31337");
    unsigned char raw[40];
    int i, n = t ? natomm_b64url_decode(t, raw, sizeof(raw)) : -1;

    CHECK_INT(n, 32);
    if (n != 32)
        return;
    for (i = 8; i < 32; i++) {
        unsigned char keep = raw[i];
        raw[i] = (unsigned char)(keep + 1);
        if (!check_report(!natomm_token_unsubscribe_account(pool, KEY,
                                natomm_b64url(pool, raw, 32)),
                          __FILE__, __LINE__, "MAC byte altered",
                          "byte %d of the MAC not compared", i - 8))
            break;
        raw[i] = keep;
    }
    CHECK_STR(natomm_token_unsubscribe_account(pool, KEY, natomm_b64url(pool, raw, 32)),
              "31337");
}

int main(void)
{
    apr_initialize();
    apr_pool_create(&pool, NULL);
    test_shape();
    test_round_trip();
    test_refused();
    test_compare_every_byte();
    apr_pool_destroy(pool);
    apr_terminate();
    return check_done("test_token");
}
