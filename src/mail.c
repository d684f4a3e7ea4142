/* Mail rendering, outbox and delivery (see natomm_mail.h). */
#include <string.h>
#include <unistd.h>
#include "httpd.h"
#include "http_log.h"
#include "http_config.h"
#include "apr_strings.h"
#include "apr_file_io.h"
#include "apr_base64.h"
#include "apr_optional.h"
#include "http_protocol.h"
#include "mod_watchdog.h"
#include <curl/curl.h>

#include "natomm.h"
#include "natomm_mail.h"
#include "natomm_crypto.h"
#include "natomm_http.h"
#include "natomm_json.h"
#include "natomm_smtp.h"
#include "natomm_session.h"

#define WATCHDOG_NAME "_natomm_"
#define DELIVERY_INTERVAL apr_time_from_sec(1)
#define LEASE_SECONDS 120

static APR_OPTIONAL_FN_TYPE(ap_watchdog_get_instance) *wd_get_instance;
static APR_OPTIONAL_FN_TYPE(ap_watchdog_register_callback) *wd_register_callback;

/* Retry times are kept in milliseconds (natomm_outbox.next_attempt_ms). */
static apr_int64_t now_ms(void)
{
    return apr_time_as_msec(apr_time_now());
}

/* ---- rendering ------------------------------------------------------- */

/* The built-in copy of a template, or NULL. */
static char *builtin_template(apr_pool_t *p, const char *lang, const char *name)
{
    const char *key = apr_pstrcat(p, lang, "/", name, NULL);
    int i;

    for (i = 0; natomm_templates[i].name; i++)
        if (!strcmp(natomm_templates[i].name, key))
            return apr_pstrdup(p, natomm_templates[i].text);
    return NULL;
}

/* The template from NatommMailTemplates, else the one built in. */
static char *read_template(apr_pool_t *p, const char *dir, const char *lang,
                           const char *name)
{
    const char *path = apr_pstrcat(p, dir, "/", lang, "/", name, ".txt", NULL);
    apr_file_t *f;
    apr_finfo_t fi;
    char *buf;
    apr_size_t n;

    if (apr_file_open(&f, path, APR_FOPEN_READ, APR_OS_DEFAULT, p) != APR_SUCCESS)
        return builtin_template(p, lang, name);
    if (apr_file_info_get(&fi, APR_FINFO_SIZE, f) != APR_SUCCESS
        || fi.size > 65536) {
        apr_file_close(f);
        return NULL;
    }
    n = (apr_size_t)fi.size;
    buf = apr_palloc(p, n + 1);
    if (apr_file_read_full(f, buf, n, &n) != APR_SUCCESS && n == 0) {
        apr_file_close(f);
        return NULL;
    }
    buf[n] = '\0';
    apr_file_close(f);
    return buf;
}

/* {{key}} replaced by vars[key]; unknown keys are left as they are. */
static char *substitute(apr_pool_t *p, const char *text, apr_table_t *vars)
{
    apr_array_header_t *out = apr_array_make(p, 16, sizeof(const char *));
    const char *s = text;

    for (;;) {
        const char *open = strstr(s, "{{"), *close, *val;
        if (!open || !(close = strstr(open + 2, "}}"))) {
            APR_ARRAY_PUSH(out, const char *) = s;
            break;
        }
        APR_ARRAY_PUSH(out, const char *) = apr_pstrmemdup(p, s, open - s);
        val = apr_table_get(vars, apr_pstrmemdup(p, open + 2, close - open - 2));
        APR_ARRAY_PUSH(out, const char *) =
            val ? val : apr_pstrmemdup(p, open, close + 2 - open);
        s = close + 2;
    }
    return apr_array_pstrcat(p, out, 0);
}

static int is_ascii(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s >= 0x80)
            return 0;
    return 1;
}

/* RFC 2047: non-ASCII text as encoded-words of at most 64 characters,
 * split between UTF-8 characters, folded onto continuation lines. */
static const char *encode_header(apr_pool_t *p, const char *value)
{
    apr_array_header_t *words = apr_array_make(p, 4, sizeof(const char *));
    const char *s = value;
    int i;

    if (is_ascii(value))
        return value;
    while (*s) {
        /* 39 bytes of text make 52 of base64: a 64-character word, and a
         * "Subject: " line within 78 */
        size_t n = strlen(s) > 39 ? 39 : strlen(s);
        while (n < strlen(s) && n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
            n--;
        APR_ARRAY_PUSH(words, const char *) = apr_pstrcat(p, "=?UTF-8?B?",
            ap_pbase64encode(p, apr_pstrmemdup(p, s, n)), "?=", NULL);
        s += n;
    }
    for (i = 1; i < words->nelts; i++)      /* folded: CRLF and a space */
        APR_ARRAY_IDX(words, i, const char *) = apr_pstrcat(p, "\r\n ",
            APR_ARRAY_IDX(words, i, const char *), NULL);
    return apr_array_pstrcat(p, words, 0);
}

/* Lines end in CRLF, as RFC 5322 wants; no bare CR survives. */
static char *crlf(apr_pool_t *p, const char *text)
{
    char *out = apr_palloc(p, strlen(text) * 2 + 1), *o = out;
    for (; *text; text++) {
        if (*text == '\r')
            continue;
        if (*text == '\n')
            *o++ = '\r';
        *o++ = *text;
    }
    *o = '\0';
    return out;
}

static const char *rfc5322_date(apr_pool_t *p, apr_time_t t)
{
    apr_time_exp_t e;
    char buf[64];
    apr_size_t n;

    apr_time_exp_gmt(&e, t);
    apr_strftime(buf, &n, sizeof(buf), "%a, %d %b %Y %H:%M:%S +0000", &e);
    return apr_pstrdup(p, buf);
}

static const char *from_domain(apr_pool_t *p, const char *from)
{
    const char *at = strrchr(from, '@');
    const char *end;
    if (!at)
        return "localhost";
    end = at + 1 + strcspn(at + 1, "> \t");
    return apr_pstrmemdup(p, at + 1, end - at - 1);
}

/* "Name <addr>" with the name encoded when it is not ASCII. */
static const char *from_header(apr_pool_t *p, const char *from)
{
    const char *lt = strrchr(from, '<');
    char *name;

    if (!lt || is_ascii(from))
        return from;
    name = apr_pstrmemdup(p, from, lt - from);
    while (*name == ' ' || *name == '"')
        name++;
    while (*name && (name[strlen(name) - 1] == ' ' || name[strlen(name) - 1] == '"'))
        name[strlen(name) - 1] = '\0';
    return apr_pstrcat(p, encode_header(p, name), " ", lt, NULL);
}

/* The bare address of "Name <addr>" (or of a bare addr). */
static const char *from_address(apr_pool_t *p, const char *from)
{
    const char *lt = strrchr(from, '<');
    if (lt)
        return apr_pstrmemdup(p, lt + 1, strcspn(lt + 1, ">"));
    return from;
}

/* Text as HTML: escaped, http(s) URLs as links, newlines as <br>. */
static const char *html_text(apr_pool_t *p, const char *text)
{
    apr_array_header_t *out = apr_array_make(p, 8, sizeof(const char *));
    const char *s = text;

    while (*s) {
        const char *url = strstr(s, "http://"), *tls = strstr(s, "https://");
        size_t n;
        if (tls && (!url || tls < url))
            url = tls;
        if (!url) {
            APR_ARRAY_PUSH(out, const char *) = ap_escape_html(p, s);
            break;
        }
        n = strcspn(url, " \r\n<>\"");
        APR_ARRAY_PUSH(out, const char *) =
            ap_escape_html(p, apr_pstrmemdup(p, s, url - s));
        APR_ARRAY_PUSH(out, const char *) = apr_pstrcat(p, "<a href=\"",
            ap_escape_html(p, apr_pstrmemdup(p, url, n)), "\">",
            ap_escape_html(p, apr_pstrmemdup(p, url, n)), "</a>", NULL);
        s = url + n;
    }
    return apr_array_pstrcat(p, out, 0);
}

/* The HTML alternative: one <p> per paragraph of the text; the code (a
 * paragraph of capitals, digits and dashes) stands out. */
/* Newlines as <br>, for a paragraph whose lines were broken on purpose. */
static char *html_breaks(apr_pool_t *p, const char *s)
{
    apr_array_header_t *out = apr_array_make(p, 4, sizeof(const char *));
    const char *nl;

    while ((nl = strchr(s, '\n')) != NULL) {
        APR_ARRAY_PUSH(out, const char *) = apr_pstrmemdup(p, s, nl - s);
        APR_ARRAY_PUSH(out, const char *) = "<br>\r\n";
        s = nl + 1;
    }
    APR_ARRAY_PUSH(out, const char *) = s;
    return apr_array_pstrcat(p, out, 0);
}

static const char *html_body(apr_pool_t *p, const char *subject, const char *body)
{
    apr_array_header_t *out = apr_array_make(p, 16, sizeof(const char *));
    char *copy = apr_pstrdup(p, body), *para;

    APR_ARRAY_PUSH(out, const char *) = apr_pstrcat(p,
        "<!doctype html>\r\n<html><head><meta charset=\"utf-8\"><title>",
        ap_escape_html(p, subject), "</title></head>\r\n<body>\r\n", NULL);
    while ((para = copy) != NULL && *para) {
        char *end = strstr(para, "\n\n");
        copy = end ? end + 2 : NULL;
        if (end)
            *end = '\0';
        while (*para == '\n')
            para++;
        if (!*para)
            continue;
        if (strspn(para, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-") == strlen(para))
            APR_ARRAY_PUSH(out, const char *) = apr_pstrcat(p,
                "<p style=\"font-size:1.6em;letter-spacing:.12em\"><strong>",
                ap_escape_html(p, para), "</strong></p>\r\n", NULL);
        else
            APR_ARRAY_PUSH(out, const char *) = apr_pstrcat(p, "<p>",
                html_breaks(p, html_text(p, para)), "</p>\r\n", NULL);
    }
    APR_ARRAY_PUSH(out, const char *) = "</body></html>\r\n";
    return apr_array_pstrcat(p, out, 0);
}

static char *build_message(request_rec *r, const natomm_server_conf *conf,
                           const char *to, const char *subject, const char *body,
                           const char *headers)
{
    apr_pool_t *p = r->pool;
    const char *id = natomm_token(p);
    const char *boundary = apr_pstrcat(p, "=_natomm_", natomm_token(p), NULL);
    char *text = apr_pstrdup(p, body), *c;

    for (c = text; *c; c++)         /* templates may carry CRs */
        if (*c == '\r')
            *c = ' ';
    return apr_pstrcat(p,
        "From: ", from_header(p, conf->mail_from), "\r\n",
        "To: <", to, ">\r\n",
        "Subject: ", encode_header(p, subject), "\r\n",
        "Date: ", rfc5322_date(p, apr_time_now()), "\r\n",
        "Message-ID: <", id, "@", from_domain(p, conf->mail_from), ">\r\n",
        "MIME-Version: 1.0\r\n",
        "Auto-Submitted: auto-generated\r\n",
        headers ? headers : "",
        "Content-Type: multipart/alternative; boundary=\"", boundary, "\"\r\n",
        "\r\n",
        "--", boundary, "\r\n",
        "Content-Type: text/plain; charset=utf-8\r\n",
        "Content-Transfer-Encoding: 8bit\r\n\r\n",
        crlf(p, text), "\r\n",
        "--", boundary, "\r\n",
        "Content-Type: text/html; charset=utf-8\r\n",
        "Content-Transfer-Encoding: 8bit\r\n\r\n",
        html_body(p, subject, text),
        "--", boundary, "--\r\n", NULL);
}

int natomm_mail_queue(natomm_db *db, request_rec *r, const char *to,
                      const char *lang, const char *name, apr_table_t *vars,
                      const char *headers)
{
    natomm_server_conf *conf = ap_get_module_config(r->server->module_config,
                                                    &natomm_module);
    char *text = read_template(r->pool, conf->mail_templates, lang, name);
    char *subject, *body, *eol;
    const char *id = natomm_random_id(r->pool);
    const char *now = natomm_db_num(r->pool, natomm_now());

    if (!text)
        text = read_template(r->pool, conf->mail_templates, "en", name);
    if (!text || strncmp(text, "Subject:", 8) || !(eol = strchr(text, '\n'))) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                      "NATOMM: mail template %s/%s/%s.txt is missing or has no "
                      "Subject: line", conf->mail_templates, lang, name);
        return -1;
    }
    apr_table_setn(vars, "site", conf->site_name);
    text = substitute(r->pool, text, vars);
    eol = strchr(text, '\n');
    subject = apr_pstrmemdup(r->pool, text + 8, eol - text - 8);
    while (*subject == ' ')
        subject++;
    subject[strcspn(subject, "\r\n")] = '\0';
    body = eol + 1;
    while (*body == '\r' || *body == '\n')
        body++;
    return natomm_db_exec(db, "natomm_outbox_insert", (const char *[]){
        id, to, build_message(r, conf, to, subject, body, headers), now,
        natomm_db_num(r->pool, now_ms())})
        == 1 ? 0 : -1;
}

/* ---- transports ------------------------------------------------------ */

const char *natomm_mail_transport_parse(apr_pool_t *p, natomm_server_conf *conf,
                                        const char *url)
{
    if (!strncmp(url, "file:", 5)) {
        const char *dir = url + 5;
        while (dir[0] == '/' && dir[1] == '/')
            dir++;
        if (*dir != '/')
            return "NatommMailTransport file: needs an absolute folder, as file:/var/spool/natomm";
        conf->mail_dir = apr_pstrdup(p, dir);
        conf->smtp = NULL;
    }
    else {
        natomm_smtp_t *smtp = apr_pcalloc(p, sizeof(*smtp));
        const char *err = natomm_smtp_parse(p, url, smtp);
        if (err)
            return apr_pstrcat(p, "NatommMailTransport: ", err, NULL);
        conf->smtp = smtp;
        conf->mail_dir = NULL;
    }
    conf->mail_transport = url;
    return NULL;
}

/* One .eml per message; written under a temporary name and renamed, so a
 * reader never sees half a message. */
static const char *deliver_file(apr_pool_t *p, const natomm_server_conf *conf,
                                const char *id, const char *created,
                                const char *message)
{
    const char *tmp = apr_pstrcat(p, conf->mail_dir, "/.tmp-", id, NULL);
    const char *dst = apr_pstrcat(p, conf->mail_dir, "/", created, "-", id,
                                  ".eml", NULL);
    apr_file_t *f;
    apr_size_t n = strlen(message);
    apr_status_t rv;

    rv = apr_file_open(&f, tmp, APR_FOPEN_WRITE | APR_FOPEN_CREATE
                       | APR_FOPEN_TRUNCATE, APR_FPROT_UREAD | APR_FPROT_UWRITE
                       | APR_FPROT_GREAD, p);
    if (rv == APR_SUCCESS) {
        rv = apr_file_write_full(f, message, n, NULL);
        if (rv == APR_SUCCESS)
            rv = apr_file_sync(f);
        apr_file_close(f);
    }
    if (rv == APR_SUCCESS)
        rv = apr_file_rename(tmp, dst, p);
    if (rv != APR_SUCCESS) {
        char err[120];
        apr_file_remove(tmp, p);
        return apr_pstrcat(p, "writing to ", conf->mail_dir, ": ",
                           apr_strerror(rv, err, sizeof(err)), NULL);
    }
    return NULL;
}

/* ---- delivery -------------------------------------------------------- */

/* The wait before retry n+1: the first step doubled n times, capped. */
static apr_int64_t backoff(const natomm_server_conf *conf, int attempts)
{
    apr_int64_t d = conf->mail_retry_first;
    int i;

    for (i = 0; i < attempts && d < conf->mail_retry_max; i++)
        d *= 2;
    return d < conf->mail_retry_max ? d : conf->mail_retry_max;
}

/* A message that will never go: kept, marked failed, counted in the status. */
static void give_up(natomm_db *db, server_rec *s, apr_pool_t *p, const char *id,
                    const char *owner, const char *why)
{
    ap_log_error(APLOG_MARK, APLOG_ERR, 0, s,
                 "NATOMM: mail %s given up: %s", id, why);
    natomm_db_exec(db, "natomm_outbox_failed", (const char *[]){
        natomm_db_num(p, natomm_now()), why, id, owner});
}

static void deliver_one(natomm_db *db, server_rec *s, apr_pool_t *p,
                        const natomm_server_conf *conf, const char **row,
                        const char *owner)
{
    apr_int64_t now = natomm_now();
    const char *err;
    int permanent = 0;

    /* the row was read before the claim: another server may have sent,
     * failed or deferred it since */
    if (natomm_db_exec(db, "natomm_outbox_claim", (const char *[]){
            natomm_db_num(p, now + LEASE_SECONDS), owner, row[0],
            natomm_db_num(p, now), natomm_db_num(p, now_ms())}) != 1)
        return;                  /* another process holds it */
    if (apr_atoi64(row[4]) < now - conf->mail_give_up) {
        give_up(db, s, p, row[0], owner, "too old: no longer retried");
        return;
    }
    if (conf->smtp)
        err = natomm_smtp_send(p, conf->smtp, from_address(p, conf->mail_from),
                               from_domain(p, conf->mail_from), row[1], row[2],
                               &permanent);
    else
        err = deliver_file(p, conf, row[0], row[4], row[2]);
    if (!err) {
        natomm_db_exec(db, "natomm_outbox_sent", (const char *[]){
            natomm_db_num(p, natomm_now()), row[0], owner});
        ap_log_error(APLOG_MARK, APLOG_INFO, 0, s,
                     "NATOMM: mail %s delivered", row[0]);
        return;
    }
    if (permanent) {
        give_up(db, s, p, row[0], owner, err);
        return;
    }
    ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s,
                 "NATOMM: mail %s not delivered (attempt %d), will retry: %s",
                 row[0], atoi(row[3]) + 1, err);
    natomm_db_exec(db, "natomm_outbox_retry", (const char *[]){
        natomm_db_num(p, now_ms() + 1000 * backoff(conf, atoi(row[3]))), err,
        row[0], owner});
}

typedef struct {
    apr_int64_t queued, oldest_age, failed, sent_last_hour, retrying;
} queue_stats_t;

static int queue_stats(natomm_db *db, apr_pool_t *p, queue_stats_t *st)
{
    const char *c[5];
    apr_int64_t now = natomm_now();

    if (natomm_db_row(db, "natomm_outbox_stats", (const char *[]){
            natomm_db_num(p, now - 3600)}, c, 5) < 0)
        return -1;
    st->queued = c[0] ? apr_atoi64(c[0]) : 0;
    st->oldest_age = c[1] ? now - apr_atoi64(c[1]) : 0;
    st->failed = c[2] ? apr_atoi64(c[2]) : 0;
    st->sent_last_hour = c[3] ? apr_atoi64(c[3]) : 0;
    st->retrying = c[4] ? apr_atoi64(c[4]) : 0;
    return 0;
}

static void log_stats(natomm_db *db, server_rec *s, apr_pool_t *p)
{
    queue_stats_t st;
    if (queue_stats(db, p, &st) == 0)
        ap_log_error(APLOG_MARK, APLOG_NOTICE, 0, s,
                     "NATOMM: mail queue: %" APR_INT64_T_FMT " queued (oldest %"
                     APR_INT64_T_FMT " s, %" APR_INT64_T_FMT " retrying), %"
                     APR_INT64_T_FMT " failed", st.queued, st.oldest_age,
                     st.retrying, st.failed);
}

int natomm_mail_status_handler(request_rec *r)
{
    natomm_json *j;
    queue_stats_t st;
    natomm_db *db;

    if (!r->handler || strcmp(r->handler, NATOMM_STATUS_HANDLER))
        return DECLINED;
    if (r->method_number != M_GET) {
        apr_table_setn(r->headers_out, "Allow", "GET, HEAD");
        return natomm_send_error(r, HTTP_METHOD_NOT_ALLOWED, "method_not_allowed",
                                 "Use GET for this address.");
    }
    if (!(db = natomm_db_acquire(r)) || queue_stats(db, r->pool, &st) < 0)
        return natomm_send_error(r, HTTP_SERVICE_UNAVAILABLE, "storage_unavailable",
                                 "The account database cannot be reached.");
    j = natomm_json_object(r->pool);
    natomm_json_int(j, "queued", st.queued);
    natomm_json_int(j, "oldest_age", st.oldest_age);
    natomm_json_int(j, "retrying", st.retrying);
    natomm_json_int(j, "failed", st.failed);
    natomm_json_int(j, "sent_last_hour", st.sent_last_hour);
    return natomm_send_json(r, HTTP_OK, natomm_json_finish(j));
}

static apr_status_t watchdog_tick(int state, void *data, apr_pool_t *p)
{
    server_rec *s = data;
    natomm_server_conf *conf = ap_get_module_config(s->module_config,
                                                    &natomm_module);
    static apr_int64_t last_purge;
    static int reported;
    int n;
    apr_array_header_t *due;
    natomm_db *db;
    const char *owner;

    /* at STARTING mod_dbd may not be set up in this child yet */
    if (state != AP_WATCHDOG_STATE_RUNNING)
        return APR_SUCCESS;
    db = natomm_db_open(p, s);
    if (!db) {
        natomm_gate_db_health(s, p, 0);
        return APR_SUCCESS;      /* logged; tried again next tick */
    }
    if (!reported) {
        reported = 1;
        log_stats(db, s, p);
    }
    owner = natomm_random_id(p);
    n = natomm_db_rows(db, "natomm_outbox_due", (const char *[]){
            natomm_db_num(p, now_ms()), natomm_db_num(p, natomm_now())},
            5, &due);
    natomm_gate_db_health(s, p, n >= 0);
    if (n > 0 && conf->mail_transport) {
        int i;
        for (i = 0; i < due->nelts; i++)
            deliver_one(db, s, p, conf, APR_ARRAY_IDX(due, i, const char **), owner);
    }
    if (natomm_now() - last_purge >= conf->purge_interval) {
        last_purge = natomm_now();
        natomm_db_purge(db, conf->unverified_lifetime);
    }
    natomm_db_close(db);
    return APR_SUCCESS;
}

int natomm_mail_watchdog_register(apr_pool_t *p, server_rec *s)
{
    ap_watchdog_t *wd;
    apr_status_t rv;

    /* before any thread exists: libcurl's global set-up is not thread-safe */
    curl_global_init(CURL_GLOBAL_DEFAULT);
    wd_get_instance = APR_RETRIEVE_OPTIONAL_FN(ap_watchdog_get_instance);
    wd_register_callback = APR_RETRIEVE_OPTIONAL_FN(ap_watchdog_register_callback);
    if (!wd_get_instance || !wd_register_callback) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s,
                     "NATOMM: mod_watchdog is required for mail delivery");
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    /* a singleton child watchdog: one process of the server delivers */
    rv = wd_get_instance(&wd, WATCHDOG_NAME, 0, 1, p);
    if (rv == APR_SUCCESS)
        rv = wd_register_callback(wd, DELIVERY_INTERVAL, s, watchdog_tick);
    if (rv != APR_SUCCESS && rv != APR_EEXIST) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, rv, s,
                     "NATOMM: cannot register the mail watchdog");
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    return OK;
}
