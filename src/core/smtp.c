/* SMTP delivery through libcurl (see natomm_smtp.h). */
#include "natomm_smtp.h"
#include <string.h>
#include <sys/stat.h>
#include <curl/curl.h>
#include "apr_strings.h"
#include "apr_file_io.h"
#include "apr_lib.h"
#include "natomm_percent.h"

static char *url_decode(apr_pool_t *p, const char *s, size_t n)
{
    return natomm_percent_decode(p, s, n, 0, NULL);
}

static const char *parse_query(apr_pool_t *p, char *query, natomm_smtp_t *out)
{
    char *last, *item;

    for (item = apr_strtok(query, "&", &last); item;
         item = apr_strtok(NULL, "&", &last)) {
        if (!strcmp(item, "starttls") || !strcmp(item, "starttls=required"))
            out->tls = NATOMM_TLS_REQUIRED;
        else if (!strcmp(item, "starttls=try"))
            out->tls = NATOMM_TLS_TRY;
        else if (!strcmp(item, "plaintext-auth"))
            out->plaintext_auth = 1;
        else if (!strncmp(item, "cafile=", 7) && item[7] == '/') {
            /* a pinned CA that does not decode must not quietly become
             * the system's CAs */
            if (!(out->cafile = url_decode(p, item + 7, strlen(item + 7))))
                return "the cafile= path has a malformed %-escape";
        }
        else
            return apr_psprintf(p, "unknown option '%s' (use starttls, "
                                "starttls=try, cafile=/path or plaintext-auth)", item);
    }
    return NULL;
}

static int all_in(const char *s, size_t n, const char *set)
{
    size_t i;
    for (i = 0; i < n; i++)
        if (!s[i] || !strchr(set, s[i]))
            return 0;
    return 1;
}

/* host[:port], [v6]:port or [v6]: a name or address, and a port from 1
 * to 65535. */
static int host_port_ok(const char *h, size_t n)
{
    const char *colon;
    size_t hn, i;
    long port = 0;

    if (n > 0 && h[0] == '[') {
        const char *close = memchr(h, ']', n);
        if (!close || close == h + 1 || !all_in(h + 1, close - h - 1,
                                                "0123456789abcdefABCDEF:."))
            return 0;
        hn = close - h + 1;
        if (hn == n)
            return 1;
        if (h[hn] != ':')
            return 0;
        colon = h + hn;
    }
    else {
        colon = memchr(h, ':', n);
        hn = colon ? (size_t)(colon - h) : n;
        if (hn == 0 || !all_in(h, hn, "abcdefghijklmnopqrstuvwxyz"
                                      "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-"))
            return 0;
        if (!colon)
            return 1;
    }
    n -= colon + 1 - h;
    if (n == 0 || n > 5 || !all_in(colon + 1, n, "0123456789"))
        return 0;
    for (i = 0; i < n; i++)
        port = port * 10 + (colon[1 + i] - '0');
    return port >= 1 && port <= 65535;
}

const char *natomm_smtp_parse(apr_pool_t *p, const char *url, natomm_smtp_t *out)
{
    const char *rest, *at, *hostport;
    char *query;
    size_t hlen;

    memset(out, 0, sizeof(*out));
    if (!strncasecmp(url, "smtps://", 8)) {
        out->tls = NATOMM_TLS_IMPLICIT;
        rest = url + 8;
    }
    else if (!strncasecmp(url, "smtp://", 7)) {
        rest = url + 7;
    }
    else {
        return "must start with smtp://, smtps:// or file:";
    }
    hlen = strcspn(rest, "/?");
    at = memchr(rest, '@', hlen);
    hostport = at ? at + 1 : rest;
    if (at) {
        const char *colon = memchr(rest, ':', at - rest);
        out->user = url_decode(p, rest, colon ? (size_t)(colon - rest)
                                              : (size_t)(at - rest));
        if (colon)
            out->password = url_decode(p, colon + 1, at - colon - 1);
        if (!out->user || !*out->user || (colon && !out->password))
            return "the user or password part of the URL is malformed";
    }
    hlen = strcspn(hostport, "/?");
    if (!host_port_ok(hostport, hlen))
        return "the host or port part of the URL is malformed";
    out->url = apr_pstrcat(p, out->tls == NATOMM_TLS_IMPLICIT ? "smtps://" : "smtp://",
                           apr_pstrmemdup(p, hostport, hlen), NULL);
    query = strchr(hostport, '?') ? apr_pstrdup(p, strchr(hostport, '?') + 1) : NULL;
    if (query) {
        const char *err = parse_query(p, query, out);
        if (err)
            return err;
        if (!strncasecmp(url, "smtps://", 8) && out->tls != NATOMM_TLS_IMPLICIT)
            return "smtps:// is TLS from the start; starttls applies to smtp://";
    }
    /* AUTH, or a STARTTLS that may silently not happen, would send the
     * password in clear: only when the URL says so */
    if (out->user && (out->tls == NATOMM_TLS_NONE || out->tls == NATOMM_TLS_TRY)
        && !out->plaintext_auth)
        return "a user without TLS sends the password in clear: add ?starttls, "
               "use smtps://, or say ?plaintext-auth";
    return NULL;
}

const char *natomm_smtp_password_file(apr_pool_t *p, const char *path,
                                      natomm_smtp_t *smtp)
{
    struct stat st;
    apr_file_t *f;
    char buf[512];
    apr_size_t n = sizeof(buf) - 1;

    if (stat(path, &st) != 0)
        return apr_pstrcat(p, path, " cannot be read", NULL);
    if (st.st_mode & (S_IRWXG | S_IRWXO))
        return apr_pstrcat(p, path, " must be readable by its owner only "
                           "(chmod 600)", NULL);
    if (apr_file_open(&f, path, APR_FOPEN_READ, APR_OS_DEFAULT, p) != APR_SUCCESS)
        return apr_pstrcat(p, path, " cannot be read", NULL);
    if (apr_file_read(f, buf, &n) != APR_SUCCESS)
        n = 0;
    apr_file_close(f);
    buf[n] = '\0';
    buf[strcspn(buf, "\r\n")] = '\0';
    if (!*buf)
        return apr_pstrcat(p, path, " is empty", NULL);
    smtp->password = apr_pstrdup(p, buf);
    memset(buf, 0, sizeof(buf));
    return NULL;
}

typedef struct {
    const char *data;
    size_t len, pos;
} reader_t;

static size_t read_message(char *buf, size_t size, size_t nitems, void *userp)
{
    reader_t *rd = userp;
    size_t room = size * nitems, left = rd->len - rd->pos;
    size_t n = left < room ? left : room;

    memcpy(buf, rd->data + rd->pos, n);
    rd->pos += n;
    return n;
}

static void set_tls(CURL *h, const natomm_smtp_t *t)
{
    if (t->tls == NATOMM_TLS_REQUIRED)
        curl_easy_setopt(h, CURLOPT_USE_SSL, (long)CURLUSESSL_ALL);
    else if (t->tls == NATOMM_TLS_TRY)
        curl_easy_setopt(h, CURLOPT_USE_SSL, (long)CURLUSESSL_TRY);
    if (t->cafile)
        curl_easy_setopt(h, CURLOPT_CAINFO, t->cafile);
}

const char *natomm_smtp_send(apr_pool_t *p, const natomm_smtp_t *t,
                             const char *from, const char *helo,
                             const char *rcpt, const char *message,
                             int *permanent)
{
    CURL *h = curl_easy_init();
    struct curl_slist *rcpts;
    reader_t rd = {message, strlen(message), 0};
    char err[CURL_ERROR_SIZE] = "";
    long code = 0;
    CURLcode rc;

    *permanent = 0;
    if (!h)
        return "cannot start libcurl";
    rcpts = curl_slist_append(NULL, apr_pstrcat(p, "<", rcpt, ">", NULL));
    curl_easy_setopt(h, CURLOPT_URL, apr_pstrcat(p, t->url, "/", helo, NULL));
    if (t->user) {
        curl_easy_setopt(h, CURLOPT_USERNAME, t->user);
        curl_easy_setopt(h, CURLOPT_PASSWORD, t->password ? t->password : "");
    }
    set_tls(h, t);
    curl_easy_setopt(h, CURLOPT_MAIL_FROM, apr_pstrcat(p, "<", from, ">", NULL));
    curl_easy_setopt(h, CURLOPT_MAIL_RCPT, rcpts);
    curl_easy_setopt(h, CURLOPT_READFUNCTION, read_message);
    curl_easy_setopt(h, CURLOPT_READDATA, &rd);
    curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 10L);
    /* well within the outbox lease (mail/deliver.c), so a message is never
     * claimed again while this send may still be going */
    curl_easy_setopt(h, CURLOPT_TIMEOUT, 30L);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, err);
    rc = curl_easy_perform(h);
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
    curl_slist_free_all(rcpts);
    curl_easy_cleanup(h);
    if (rc == CURLE_OK)
        return NULL;
    /* a 5xx answer to the message or its recipient is final; anything else
     * (4xx, network, TLS, and authentication: a wrong or missing password
     * is the sysadmin's to fix, and the mail must wait for it) is retried */
    *permanent = code >= 500 && code < 600 && rc != CURLE_LOGIN_DENIED
        && code != 530 && code != 534 && code != 535 && code != 538;
    return apr_psprintf(p, "%s (SMTP %ld): %s", curl_easy_strerror(rc), code,
                        *err ? err : "-");
}
