/* Unit tests for src/core/link.c: the path a link may cover, the token
 * (round trips for files and folders, tampering with every character and
 * bit, other keys, paths, folders, expiry, the MAC compared byte by byte),
 * and the request forms that carry it (/dl/<token>/…, ?dl=…) with the
 * redaction of the request line. */
#include <string.h>
#include "apr_general.h"
#include "apr_pools.h"
#include "apr_strings.h"
#include "natomm_link.h"
#include "natomm_crypto.h"
#include "natomm_percent.h"
#include "check.h"

static apr_pool_t *pool;

static const char B64URL[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
static const char KEY[] = "7f3a0c5e9b1d2468ace013579bdf02468ace013579bdf02468ace013579bdf0";
static const apr_int64_t NOW = 1767225600;           /* 2026-01-01 */

static const char *scope_ok(const char *value)
{
    const char *why = "unset";
    const char *s = natomm_link_scope(pool, value, &why);
    CHECK_MSG(s && !why, "%s refused: %s", value, why ? why : "(no reason)");
    return s;
}

static void scope_refused(const char *value)
{
    const char *why = NULL;
    const char *s = natomm_link_scope(pool, value, &why);
    CHECK_MSG(!s && why && *why, "%s accepted as %s", value ? value : "(null)",
              s ? s : "(null)");
}

static void test_scope(void)
{
    char *deep;
    int i;

    CHECK_STR(scope_ok("/videos/summit.mp4"), "/videos/summit.mp4");
    CHECK_STR(scope_ok("/videos/hls/"), "/videos/hls/");
    CHECK_STR(scope_ok("/"), "/");
    CHECK_STR(scope_ok("/videos/my%20film.mp4"), "/videos/my film.mp4");
    CHECK_STR(scope_ok("/vid%C3%A9os/a.mp4"), "/vid\xc3\xa9os/a.mp4");
    CHECK_STR(scope_ok("/videos/.hidden/a..b.mp4"), "/videos/.hidden/a..b.mp4");
    CHECK_STR(scope_ok("/videos/a+b.mp4"), "/videos/a+b.mp4");   /* + is not a space in a path */
    CHECK_STR(scope_ok("/videos/100%25.mp4"), "/videos/100%.mp4");

    scope_refused(NULL);
    scope_refused("");
    scope_refused("videos/a.mp4");
    scope_refused("//evil.example/a.mp4");
    scope_refused("/\\evil.example/a.mp4");
    scope_refused("https://evil.example/a.mp4");
    scope_refused("/videos/a.mp4?x=1");
    scope_refused("/videos/a.mp4#t=10");
    scope_refused("/videos/a b.mp4");
    scope_refused("/videos/a\r\n.mp4");
    scope_refused("/videos/a%0d%0a.mp4");
    scope_refused("/videos/a%00.mp4");
    scope_refused("/videos%2fsecret/a.mp4");
    scope_refused("/videos%2Fsecret/a.mp4");
    scope_refused("/videos%5csecret");
    scope_refused("/videos//a.mp4");
    scope_refused("/videos/./a.mp4");
    scope_refused("/videos/../secret/a.mp4");
    scope_refused("/videos/%2e%2e/secret/a.mp4");
    scope_refused("/videos/%2E/a.mp4");
    scope_refused("/videos/..");
    scope_refused("/videos/.");
    scope_refused("/videos/%zz.mp4");
    scope_refused("/videos/%4");
    scope_refused("/%2f%2fevil.example/");

    /* 255 segments deep at most */
    deep = apr_pstrdup(pool, "");
    for (i = 0; i < 255; i++)
        deep = apr_pstrcat(pool, deep, "/a", NULL);
    CHECK(scope_ok(deep) != NULL);
    scope_refused(apr_pstrcat(pool, deep, "/", NULL));
    scope_refused(apr_pstrcat(pool, deep, "/b", NULL));
}

static void test_url_path(void)
{
    const char *scopes[] = {"/videos/summit.mp4", "/videos/hls/", "/videos/my film.mp4",
                            "/vid\xc3\xa9os/a+b(1)'\"<>&=;.mp4", "/100%.mp4", "/", NULL};
    int i;

    CHECK_STR(natomm_link_url_path(pool, "/videos/my film.mp4"), "/videos/my%20film.mp4");
    CHECK_STR(natomm_link_url_path(pool, "/a-b_c.d~e/"), "/a-b_c.d~e/");
    CHECK_STR(natomm_link_url_path(pool, "/100%.mp4"), "/100%25.mp4");
    CHECK_STR(natomm_link_url_path(pool, "/\xc3\xa9"), "/%C3%A9");
    /* what the URL says decodes back to the scope, and is a scope itself */
    for (i = 0; scopes[i]; i++) {
        const char *u = natomm_link_url_path(pool, scopes[i]), *why;
        size_t n;
        CHECK_STR(natomm_percent_decode(pool, u, strlen(u), 0, &n), scopes[i]);
        CHECK_STR(natomm_link_scope(pool, u, &why), scopes[i]);
    }
}

static natomm_link_t fields(apr_uint64_t account, apr_int64_t expires)
{
    natomm_link_t l = {account, NOW * 1000 + 123, expires, -1};
    return l;
}

static void test_round_trip(void)
{
    natomm_link_t l = fields(1234567890123456789ULL, NOW + 86400), out;
    const char *t = natomm_link_make(pool, KEY, &l, "/videos/summit.mp4");
    int i, bad = 0;

    CHECK_NOT_NULL(t);
    if (!t)
        return;
    CHECK_INT(strlen(t), NATOMM_LINK_CHARS);
    CHECK_INT(strspn(t, B64URL), NATOMM_LINK_CHARS);
    CHECK(natomm_link_shape(t));
    CHECK_INT(l.depth, 0);
    CHECK_INT(natomm_link_check(pool, KEY, t, "/videos/summit.mp4", NOW, &out),
              NATOMM_LINK_OK);
    CHECK(out.account == 1234567890123456789ULL);
    CHECK_INT(out.made_ms, NOW * 1000 + 123);
    CHECK_INT(out.expires, NOW + 86400);
    CHECK_INT(out.depth, 0);
    CHECK_INT(natomm_link_read(t, &out), 0);
    CHECK(out.account == 1234567890123456789ULL);
    /* deterministic */
    CHECK_STR(natomm_link_make(pool, KEY, &l, "/videos/summit.mp4"), t);

    /* a folder: everything below it, at any depth, and the folder itself */
    l = fields(42, NOW + 60);
    t = natomm_link_make(pool, KEY, &l, "/videos/hls/");
    CHECK_INT(l.depth, 3);
    CHECK_INT(natomm_link_check(pool, KEY, t, "/videos/hls/index.m3u8", NOW, &out),
              NATOMM_LINK_OK);
    CHECK_INT(out.depth, 3);
    CHECK_INT(natomm_link_check(pool, KEY, t, "/videos/hls/seg00001.ts", NOW, &out),
              NATOMM_LINK_OK);
    CHECK_INT(natomm_link_check(pool, KEY, t, "/videos/hls/720p/seg1.ts", NOW, &out),
              NATOMM_LINK_OK);
    CHECK_INT(natomm_link_check(pool, KEY, t, "/videos/hls/", NOW, &out), NATOMM_LINK_OK);

    /* the root folder covers the site */
    l = fields(42, NOW + 60);
    t = natomm_link_make(pool, KEY, &l, "/");
    CHECK_INT(l.depth, 1);
    CHECK_INT(natomm_link_check(pool, KEY, t, "/videos/a.mp4", NOW, &out), NATOMM_LINK_OK);

    /* random accounts and times */
    for (i = 0; i < 300; i++) {
        unsigned char r[16];
        natomm_link_t a, b;
        natomm_random(r, sizeof(r));
        a.account = ((apr_uint64_t)r[0] << 56) | ((apr_uint64_t)r[1] << 40) | r[2];
        a.made_ms = ((apr_int64_t)r[3] << 40) | ((apr_int64_t)r[4] << 16) | r[5];
        a.expires = ((apr_int64_t)r[6] << 32) | ((apr_int64_t)r[7] << 8) | r[8];
        t = natomm_link_make(pool, KEY, &a, "/v/x.mp4");
        if (!t || natomm_link_check(pool, KEY, t, "/v/x.mp4", a.expires - 1, &b)
                      != NATOMM_LINK_OK
            || b.account != a.account || b.made_ms != a.made_ms || b.expires != a.expires)
            bad++;
    }
    CHECK_INT(bad, 0);

    /* out of range fields, no key, no scope */
    l = fields(1, NOW);
    l.made_ms = APR_INT64_C(1) << 48;
    CHECK_NULL(natomm_link_make(pool, KEY, &l, "/a"));
    l = fields(1, APR_INT64_C(1) << 40);
    CHECK_NULL(natomm_link_make(pool, KEY, &l, "/a"));
    l = fields(1, -1);
    CHECK_NULL(natomm_link_make(pool, KEY, &l, "/a"));
    l = fields(1, NOW);
    CHECK_NULL(natomm_link_make(pool, NULL, &l, "/a"));
    CHECK_NULL(natomm_link_make(pool, "", &l, "/a"));
    CHECK_NULL(natomm_link_make(pool, KEY, &l, NULL));
    CHECK_NULL(natomm_link_make(pool, KEY, &l, "a"));
}

static void test_expiry(void)
{
    natomm_link_t l = fields(7, NOW + 10), out;
    const char *t = natomm_link_make(pool, KEY, &l, "/videos/a.mp4");
    char *m;

    CHECK_INT(natomm_link_check(pool, KEY, t, "/videos/a.mp4", NOW + 9, &out), NATOMM_LINK_OK);
    CHECK_INT(natomm_link_check(pool, KEY, t, "/videos/a.mp4", NOW + 10, &out),
              NATOMM_LINK_EXPIRED);
    CHECK_INT(natomm_link_check(pool, KEY, t, "/videos/a.mp4", NOW + 1000000, &out),
              NATOMM_LINK_EXPIRED);
    /* expired and tampered, or on another path: refused, not "expired" */
    m = apr_pstrdup(pool, t);
    m[30] = m[30] == 'A' ? 'B' : 'A';
    CHECK_INT(natomm_link_check(pool, KEY, m, "/videos/a.mp4", NOW + 20, &out),
              NATOMM_LINK_BAD);
    CHECK_INT(natomm_link_check(pool, KEY, t, "/videos/b.mp4", NOW + 20, &out),
              NATOMM_LINK_BAD);
    /* a later expiry written in is tampering */
    {
        unsigned char raw[40];
        CHECK_INT(natomm_b64url_decode(t, raw, sizeof(raw)), 39);
        raw[20]++;
        CHECK_INT(natomm_link_check(pool, KEY, natomm_b64url(pool, raw, 39),
                                    "/videos/a.mp4", NOW, &out), NATOMM_LINK_BAD);
    }
}

static void test_refused(void)
{
    natomm_link_t l = fields(99, NOW + 3600), out;
    const char *t = natomm_link_make(pool, KEY, &l, "/videos/a.mp4");
    const char *folder;
    char *m;
    unsigned char raw[40];
    int pos, c, accepted = 0, flips = 0, refused = 0;

    CHECK_NOT_NULL(t);
    if (!t)
        return;
    /* other paths */
    CHECK_INT(natomm_link_check(pool, KEY, t, "/videos/b.mp4", NOW, &out), NATOMM_LINK_BAD);
    CHECK_INT(natomm_link_check(pool, KEY, t, "/videos/a.mp4/", NOW, &out), NATOMM_LINK_BAD);
    CHECK_INT(natomm_link_check(pool, KEY, t, "/videos/a.mp4x", NOW, &out), NATOMM_LINK_BAD);
    CHECK_INT(natomm_link_check(pool, KEY, t, "/Videos/a.mp4", NOW, &out), NATOMM_LINK_BAD);
    CHECK_INT(natomm_link_check(pool, KEY, t, "/videos/", NOW, &out), NATOMM_LINK_BAD);
    CHECK_INT(natomm_link_check(pool, KEY, t, "videos/a.mp4", NOW, &out), NATOMM_LINK_BAD);
    CHECK_INT(natomm_link_check(pool, KEY, t, "", NOW, &out), NATOMM_LINK_BAD);
    CHECK_INT(natomm_link_check(pool, KEY, t, NULL, NOW, &out), NATOMM_LINK_BAD);
    /* other keys (another database) */
    CHECK_INT(natomm_link_check(pool, "another key", t, "/videos/a.mp4", NOW, &out),
              NATOMM_LINK_BAD);
    CHECK_INT(natomm_link_check(pool, NULL, t, "/videos/a.mp4", NOW, &out), NATOMM_LINK_BAD);
    CHECK_INT(natomm_link_check(pool, "", t, "/videos/a.mp4", NOW, &out), NATOMM_LINK_BAD);

    /* a folder link: not beside it, not above it, not the folder's name
     * without "/" */
    l = fields(99, NOW + 3600);
    folder = natomm_link_make(pool, KEY, &l, "/videos/hls/");
    CHECK_INT(natomm_link_check(pool, KEY, folder, "/videos/a.mp4", NOW, &out),
              NATOMM_LINK_BAD);
    CHECK_INT(natomm_link_check(pool, KEY, folder, "/videos/hls", NOW, &out), NATOMM_LINK_BAD);
    CHECK_INT(natomm_link_check(pool, KEY, folder, "/videos/hls2/a.ts", NOW, &out),
              NATOMM_LINK_BAD);
    CHECK_INT(natomm_link_check(pool, KEY, folder, "/other/hls/a.ts", NOW, &out),
              NATOMM_LINK_BAD);
    CHECK_INT(natomm_link_check(pool, KEY, folder, "/", NOW, &out), NATOMM_LINK_BAD);
    /* a file link turned into a folder link (its depth written in) */
    CHECK_INT(natomm_b64url_decode(t, raw, sizeof(raw)), 39);
    raw[1] = 2;
    CHECK_INT(natomm_link_check(pool, KEY, natomm_b64url(pool, raw, 39),
                                "/videos/b.mp4", NOW, &out), NATOMM_LINK_BAD);

    /* shapes */
    CHECK(!natomm_link_shape(NULL));
    CHECK(!natomm_link_shape(""));
    CHECK(!natomm_link_shape(apr_pstrndup(pool, t, 51)));
    CHECK(!natomm_link_shape(apr_pstrcat(pool, t, "A", NULL)));
    CHECK(!natomm_link_shape(apr_pstrcat(pool, t, "=", NULL)));
    CHECK(!natomm_link_shape(natomm_token(pool)));      /* a session token */
    m = apr_pstrdup(pool, t);
    m[10] = '+';
    CHECK(!natomm_link_shape(m));
    m[10] = '.';
    CHECK(!natomm_link_shape(m));
    memset(raw, 0, sizeof(raw));
    raw[0] = 2;                                        /* another version */
    CHECK(!natomm_link_shape(natomm_b64url(pool, raw, 39)));
    raw[0] = 1;
    CHECK(natomm_link_shape(natomm_b64url(pool, raw, 39)));
    CHECK_INT(natomm_link_check(pool, KEY, natomm_b64url(pool, raw, 39), "/videos/a.mp4",
                                NOW, &out), NATOMM_LINK_BAD);
    CHECK_INT(natomm_link_read("nonsense", &out), -1);

    /* every character replaced by every other character of the alphabet */
    m = apr_pstrdup(pool, t);
    for (pos = 0; pos < NATOMM_LINK_CHARS; pos++) {
        for (c = 0; c < 64; c++) {
            if (B64URL[c] == t[pos])
                continue;
            m[pos] = B64URL[c];
            if (natomm_link_check(pool, KEY, m, "/videos/a.mp4", NOW, &out) != NATOMM_LINK_BAD) {
                accepted++;
                fprintf(stderr, "    position %d as '%c' accepted\n", pos, B64URL[c]);
            }
        }
        m[pos] = t[pos];
    }
    CHECK_INT(accepted, 0);

    /* every bit of every byte flipped */
    for (pos = 0; pos < 39; pos++) {
        int bit;
        for (bit = 0; bit < 8; bit++) {
            natomm_b64url_decode(t, raw, sizeof(raw));
            raw[pos] ^= (unsigned char)(1 << bit);
            flips++;
            if (natomm_link_check(pool, KEY, natomm_b64url(pool, raw, 39), "/videos/a.mp4",
                                  NOW, &out) == NATOMM_LINK_BAD)
                refused++;
        }
    }
    CHECK_INT(flips, 312);
    CHECK_INT(refused, 312);
}

/* The MAC comparison looks at every byte: a MAC right in all but one
 * byte, whichever, is refused. */
static void test_compare_every_byte(void)
{
    natomm_link_t l = fields(31337, NOW + 60), out;
    const char *t = natomm_link_make(pool, KEY, &l, "/v/a.mp4");
    unsigned char raw[40];
    int i;

    CHECK_INT(natomm_b64url_decode(t, raw, sizeof(raw)), 39);
    for (i = 21; i < 39; i++) {
        unsigned char keep = raw[i];
        raw[i] = (unsigned char)(keep + 1);
        if (!check_report(natomm_link_check(pool, KEY, natomm_b64url(pool, raw, 39),
                                            "/v/a.mp4", NOW, &out) == NATOMM_LINK_BAD,
                          __FILE__, __LINE__, "MAC byte altered",
                          "byte %d of the MAC not compared", i - 21))
            break;
        raw[i] = keep;
    }
    CHECK_INT(natomm_link_check(pool, KEY, natomm_b64url(pool, raw, 39), "/v/a.mp4", NOW,
                                &out), NATOMM_LINK_OK);
}

static const char *a_token(apr_uint64_t account)
{
    natomm_link_t l = fields(account, NOW + 60);
    return natomm_link_make(pool, KEY, &l, "/videos/a.mp4");
}

static void test_find(void)
{
    const char *t = a_token(1), *u = a_token(2);
    natomm_link_found_t f;

    /* the path form */
    CHECK_INT(natomm_link_find(pool, apr_pstrcat(pool, "/dl/", t, "/videos/a.mp4", NULL),
                               NULL, &f), 1);
    CHECK_STR(f.token, t);
    CHECK_STR(f.path, "/videos/a.mp4");
    CHECK_NULL(f.args);
    CHECK_INT(f.raw->nelts, 1);
    CHECK_STR(APR_ARRAY_IDX(f.raw, 0, const char *), t);
    /* the query kept as it was */
    CHECK_INT(natomm_link_find(pool, apr_pstrcat(pool, "/dl/", t, "/", NULL), "x=1&y", &f), 1);
    CHECK_STR(f.path, "/");
    CHECK_STR(f.args, "x=1&y");

    /* the query form, wherever the parameter is */
    CHECK_INT(natomm_link_find(pool, "/videos/a.mp4", apr_pstrcat(pool, "dl=", t, NULL), &f), 1);
    CHECK_STR(f.token, t);
    CHECK_STR(f.path, "/videos/a.mp4");
    CHECK_NULL(f.args);
    CHECK_INT(natomm_link_find(pool, "/v", apr_pstrcat(pool, "a=1&dl=", t, "&b=2", NULL),
                               &f), 1);
    CHECK_STR(f.args, "a=1&b=2");
    CHECK_INT(natomm_link_find(pool, "/v", apr_pstrcat(pool, "dl=", t, "&b=2", NULL), &f), 1);
    CHECK_STR(f.args, "b=2");
    CHECK_INT(natomm_link_find(pool, "/v", apr_pstrcat(pool, "b=2&dl=", t, NULL), &f), 1);
    CHECK_STR(f.args, "b=2");
    /* every dl=<token> goes; the first is the one */
    CHECK_INT(natomm_link_find(pool, "/v", apr_pstrcat(pool, "dl=", t, "&dl=", u, NULL), &f), 1);
    CHECK_STR(f.token, t);
    CHECK_NULL(f.args);
    CHECK_INT(f.raw->nelts, 2);
    /* the path wins over the query; both are taken out */
    CHECK_INT(natomm_link_find(pool, apr_pstrcat(pool, "/dl/", u, "/v", NULL),
                               apr_pstrcat(pool, "dl=", t, NULL), &f), 1);
    CHECK_STR(f.token, u);
    CHECK_STR(f.path, "/v");
    CHECK_NULL(f.args);
    /* repeated prefixes */
    CHECK_INT(natomm_link_find(pool, apr_pstrcat(pool, "/dl/", t, "/dl/", u, "/v/a", NULL),
                               NULL, &f), 1);
    CHECK_STR(f.token, t);
    CHECK_STR(f.path, "/v/a");
    CHECK_INT(f.raw->nelts, 2);
    /* percent-encoded names and values count (and are what is redacted) */
    {
        char *enc = apr_pstrcat(pool, "%41", t + 1, NULL);
        if (t[0] == 'A') {
            CHECK_INT(natomm_link_find(pool, "/v", apr_pstrcat(pool, "%64l=", enc, NULL), &f), 1);
            CHECK_STR(f.token, t);
            CHECK_STR(APR_ARRAY_IDX(f.raw, 0, const char *), enc);
            CHECK_INT(natomm_link_find(pool, apr_pstrcat(pool, "/dl/", enc, "/v", NULL), NULL,
                                       &f), 1);
            CHECK_STR(f.path, "/v");
        }
    }

    /* anything else is left alone */
    CHECK_INT(natomm_link_find(pool, "/videos/a.mp4", "x=1", &f), 0);
    CHECK_STR(f.path, "/videos/a.mp4");
    CHECK_STR(f.args, "x=1");
    CHECK_INT(natomm_link_find(pool, "/dl/report.pdf", NULL, &f), 0);
    CHECK_STR(f.path, "/dl/report.pdf");
    CHECK_INT(natomm_link_find(pool, "/dl/notatoken/v", "dl=notatoken&dl=", &f), 0);
    CHECK_STR(f.path, "/dl/notatoken/v");
    CHECK_STR(f.args, "dl=notatoken&dl=");
    CHECK_INT(natomm_link_find(pool, apr_pstrcat(pool, "/dl/", t, NULL), NULL, &f), 0);
    CHECK_INT(natomm_link_find(pool, apr_pstrcat(pool, "/x/dl/", t, "/v", NULL), NULL, &f), 0);
    CHECK_INT(natomm_link_find(pool, "/v", apr_pstrcat(pool, "xdl=", t, NULL), &f), 0);
    CHECK_INT(natomm_link_find(pool, "/v", apr_pstrcat(pool, "dl=", t, "x", NULL), &f), 0);
    CHECK_INT(natomm_link_find(pool, "/v", apr_pstrcat(pool, "dl", t, NULL), &f), 0);
    CHECK_INT(natomm_link_find(pool, "/v", "", &f), 0);
    CHECK_STR(f.args, "");
    CHECK_INT(natomm_link_find(pool, NULL, NULL, &f), 0);
}

static void test_redact(void)
{
    const char *t = a_token(1), *u = a_token(2), *line;
    natomm_link_found_t f;

    natomm_link_find(pool, apr_pstrcat(pool, "/dl/", t, "/videos/a.mp4", NULL),
                     apr_pstrcat(pool, "x=1&dl=", u, NULL), &f);
    line = apr_pstrcat(pool, "GET /dl/", t, "/videos/a.mp4?x=1&dl=", u, " HTTP/1.1", NULL);
    CHECK_STR(natomm_link_redact(pool, line, f.raw),
              "GET /dl/REDACTED/videos/a.mp4?x=1&dl=REDACTED HTTP/1.1");
    /* the absolute form, and a token written twice */
    line = apr_pstrcat(pool, "GET http://h/dl/", t, "/v?dl=", t, " HTTP/1.1", NULL);
    CHECK_STR(natomm_link_redact(pool, line, f.raw), "GET http://h/dl/REDACTED/v?dl=REDACTED HTTP/1.1");
    /* nothing to do */
    CHECK_STR(natomm_link_redact(pool, "GET / HTTP/1.1", f.raw), "GET / HTTP/1.1");
    CHECK_NULL(natomm_link_redact(pool, NULL, f.raw));
    /* a replacement that completes another occurrence is caught too */
    {
        apr_array_header_t *raw = apr_array_make(pool, 1, sizeof(const char *));
        const char *r = apr_pstrcat(pool, "TED", apr_pstrndup(pool, t, 49), NULL);
        APR_ARRAY_PUSH(raw, const char *) = r;
        /* "x" r X, where r = "TED" X: once r goes, "REDACTED" X holds r again */
        line = natomm_link_redact(pool, apr_pstrcat(pool, "x", r, r + 3, NULL), raw);
        CHECK_STR(line, "xREDACREDACTED");
        CHECK_MSG(!strstr(line, r), "%s", line);
    }
}

int main(void)
{
    apr_initialize();
    apr_pool_create(&pool, NULL);
    test_scope();
    test_url_path();
    test_round_trip();
    test_expiry();
    test_refused();
    test_compare_every_byte();
    test_find();
    test_redact();
    apr_pool_destroy(pool);
    apr_terminate();
    return check_done("test_link");
}
