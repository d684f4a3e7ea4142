/* Fuzz target: natomm_smtp_parse (NatommMailTransport smtp[s]://...).
 * Invariants on any input:
 *  - accepted: the scheme was smtp:// or smtps:// (any case) and the TLS
 *    mode agrees with it; url is "smtp://" or "smtps://" followed by
 *    exactly the host[:port] of the input, which passes a reference check
 *    (a name of letters, digits, dots and hyphens, or a bracketed IPv6
 *    literal; a port of 1..65535); a user is never empty; a cafile is an
 *    absolute path;
 *  - refused: a non-empty message that never repeats the password.
 * And a constructed URL (user, password, host, port, options made from the
 * input, user and password percent-encoded) is accepted with exactly
 * those parts. */
#include "apr_strings.h"
#include "apr_lib.h"
#include "natomm_smtp.h"
#include "fuzz_common.h"

static int in_set(const char *s, size_t n, const char *set)
{
    size_t i;
    for (i = 0; i < n; i++)
        if (!s[i] || !strchr(set, s[i]))
            return 0;
    return 1;
}

static int ref_host_port(const char *h, size_t n)
{
    size_t hn;
    long port = 0;
    size_t i;

    if (n && h[0] == '[') {
        const char *close = memchr(h, ']', n);
        if (!close || close == h + 1
            || !in_set(h + 1, close - h - 1, "0123456789abcdefABCDEF:."))
            return 0;
        hn = close - h + 1;
    }
    else {
        const char *colon = memchr(h, ':', n);
        hn = colon ? (size_t)(colon - h) : n;
        if (!hn || !in_set(h, hn, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                   "0123456789.-"))
            return 0;
    }
    if (hn == n)
        return 1;
    if (h[hn] != ':' || n - hn - 1 < 1 || n - hn - 1 > 5)
        return 0;
    for (i = hn + 1; i < n; i++) {
        if (h[i] < '0' || h[i] > '9')
            return 0;
        port = port * 10 + (h[i] - '0');
    }
    return port >= 1 && port <= 65535;
}

static void check_raw(apr_pool_t *p, const char *u)
{
    natomm_smtp_t t;
    const char *err = natomm_smtp_parse(p, u, &t);
    int tls = !strncasecmp(u, "smtps://", 8);
    const char *rest = tls ? u + 8 : u + 7, *auth_end, *at, *hp;
    size_t alen;

    if (err) {
        FUZZ_ASSERT(*err, "empty message for \"%s\"", u);
        /* the password: between the first ':' and the '@' of the authority */
        if (tls || !strncasecmp(u, "smtp://", 7)) {
            alen = strcspn(rest, "/?");
            at = memchr(rest, '@', alen);
            if (at) {
                const char *colon = memchr(rest, ':', at - rest);
                if (colon && at - colon - 1 >= 4) {
                    char *pw = apr_pstrmemdup(p, colon + 1, at - colon - 1);
                    /* unless the same text is elsewhere in the URL */
                    if (!strstr(at, pw) && strstr(err, pw))
                        FUZZ_ASSERT(0, "message \"%s\" repeats the password", err);
                }
            }
        }
        return;
    }
    FUZZ_ASSERT(tls || !strncasecmp(u, "smtp://", 7), "\"%s\" accepted", u);
    FUZZ_ASSERT((t.tls == NATOMM_TLS_IMPLICIT) == tls, "TLS mode %d for \"%s\"", t.tls, u);
    FUZZ_ASSERT(t.tls >= NATOMM_TLS_NONE && t.tls <= NATOMM_TLS_IMPLICIT, "mode %d", t.tls);
    alen = strcspn(rest, "/?");
    auth_end = rest + alen;
    at = memchr(rest, '@', alen);
    hp = at ? at + 1 : rest;
    FUZZ_ASSERT(ref_host_port(hp, strcspn(hp, "/?")), "host of \"%s\" accepted", u);
    FUZZ_ASSERT(!strncmp(t.url, tls ? "smtps://" : "smtp://", tls ? 8 : 7)
                && strlen(t.url) == (tls ? 8u : 7u) + strcspn(hp, "/?")
                && !strncmp(t.url + (tls ? 8 : 7), hp, strcspn(hp, "/?")),
                "url \"%s\" of \"%s\"", t.url, u);
    FUZZ_ASSERT(!strpbrk(t.url + (tls ? 8 : 7), "@/?# \t\r\n"), "url \"%s\"", t.url);
    FUZZ_ASSERT((t.user != NULL) == (at != NULL), "user of \"%s\"", u);
    FUZZ_ASSERT(!t.user || *t.user, "empty user accepted");
    FUZZ_ASSERT(!t.password || t.user, "a password without a user");
    FUZZ_ASSERT(!t.cafile || t.cafile[0] == '/', "cafile \"%s\"", t.cafile);
    (void)auth_end;
}

static const char *enc(apr_pool_t *p, const char *s)
{
    char *out = apr_palloc(p, strlen(s) * 3 + 1), *o = out;
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (apr_isalnum(c) || strchr("-._~", c))
            *o++ = (char)c;
        else
            o += sprintf(o, "%%%02X", c);
    }
    *o = '\0';
    return out;
}

/* n bytes of the input mapped onto the non-NUL bytes */
static char *take(apr_pool_t *p, const uint8_t **d, size_t *left, size_t n)
{
    char *s;
    size_t i;
    if (n > *left)
        n = *left;
    s = apr_palloc(p, n + 1);
    for (i = 0; i < n; i++)
        s[i] = (*d)[i] ? (char)(*d)[i] : 'x';
    s[n] = '\0';
    *d += n;
    *left -= n;
    return s;
}

static void check_built(apr_pool_t *p, const uint8_t *d, size_t size)
{
    static const char HOST[] = "abcdefghijklmnopqrstuvwxyz0123456789.-";
    static const char *const opts[] = {"", "?starttls", "?starttls=try", "?starttls=required",
                                       "?cafile=/etc/ssl/ca%20x.pem", "?starttls&cafile=/c"};
    natomm_smtp_t t;
    const char *user, *pw, *err, *url, *opt;
    char *host;
    size_t hn, i;
    unsigned port;
    int tls;

    if (size < 6)
        return;
    tls = d[0] & 1;
    opt = tls ? "" : opts[(d[0] >> 1) % 6];
    port = 1 + ((d[1] << 8 | d[2]) % 65535);
    hn = 1 + d[3] % 24;
    d += 4;
    size -= 4;
    host = take(p, &d, &size, hn);
    for (i = 0; host[i]; i++)
        host[i] = HOST[(unsigned char)host[i] % (sizeof(HOST) - 1)];
    if (!*host)
        host = "h";
    user = take(p, &d, &size, size / 2);
    pw = take(p, &d, &size, size);
    url = apr_psprintf(p, "%s://%s%s%s%s%s:%u%s", tls ? "smtps" : "smtp",
                       *user ? enc(p, user) : "", *user && *pw ? ":" : "",
                       *user && *pw ? enc(p, pw) : "", *user ? "@" : "", host, port, opt);
    err = natomm_smtp_parse(p, url, &t);
    FUZZ_ASSERT(!err, "\"%s\" refused: %s", url, err);
    FUZZ_ASSERT(!strcmp(t.url, apr_psprintf(p, "%s://%s:%u", tls ? "smtps" : "smtp",
                                            host, port)), "url \"%s\" of \"%s\"", t.url, url);
    if (*user) {
        FUZZ_ASSERT(t.user && !strcmp(t.user, user), "user of \"%s\"", url);
        if (*pw)
            FUZZ_ASSERT(t.password && !strcmp(t.password, pw), "password of \"%s\"", url);
        else
            FUZZ_ASSERT(!t.password, "a password in \"%s\"", url);
    }
    else
        FUZZ_ASSERT(!t.user && !t.password, "a user in \"%s\"", url);
    if (!tls)
        FUZZ_ASSERT(t.tls == (strstr(opt, "=try") ? NATOMM_TLS_TRY
                              : strstr(opt, "starttls") ? NATOMM_TLS_REQUIRED
                              : NATOMM_TLS_NONE), "TLS mode of \"%s\"", url);
    if (strstr(opt, "cafile"))
        FUZZ_ASSERT(t.cafile && t.cafile[0] == '/' && !strchr(t.cafile, '%'),
                    "cafile of \"%s\"", url);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p;

    if (size > 1024)
        return 0;
    apr_pool_create(&p, fuzz_root);
    check_raw(p, fuzz_cstr(p, data, size));
    check_built(p, data, size);
    apr_pool_destroy(p);
    return 0;
}
