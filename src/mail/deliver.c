/* Delivery of the outbox (see natomm_mail.h): claim, transport, retry,
 * give up. */
#include "natomm_mail.h"
#include <string.h>
#include <stdlib.h>
#include "http_log.h"
#include "apr_strings.h"
#include "apr_file_io.h"
#include "natomm_backoff.h"
#include "natomm_cfg.h"
#include "natomm_clock.h"
#include "natomm_crypto.h"
#include "natomm_smtp.h"
#include "natomm_stats.h"

/* a claimed message is not sent by another process before this: longer
 * than any one delivery may take (core/smtp.c gives up after 30 s), and
 * the bound on how late a message claimed by a process that died goes */
#define LEASE_SECONDS 60

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
    apr_status_t rv;

    rv = apr_file_open(&f, tmp, APR_FOPEN_WRITE | APR_FOPEN_CREATE
                       | APR_FOPEN_TRUNCATE, APR_FPROT_UREAD | APR_FPROT_UWRITE
                       | APR_FPROT_GREAD, p);
    if (rv == APR_SUCCESS) {
        rv = apr_file_write_full(f, message, strlen(message), NULL);
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

/* A message that will never go: kept, marked failed, counted in the status. */
static void give_up(natomm_db *db, server_rec *s, apr_pool_t *p, const char *id,
                    const char *owner, const char *why)
{
    ap_log_error(APLOG_MARK, APLOG_ERR, 0, s, "NATOMM: mail %s given up: %s", id, why);
    natomm_stats_count_mail(NATOMM_MAIL_GIVEN_UP);
    natomm_db_exec(db, NATOMM_SQL_OUTBOX_FAILED, (const char *[]){
        natomm_db_num(p, natomm_now()), why, id, owner});
}

static const char *send_one(apr_pool_t *p, const natomm_server_conf *conf,
                            const char **row, int *permanent)
{
    *permanent = 0;
    if (conf->smtp)
        return natomm_smtp_send(p, conf->smtp,
                                natomm_mime_address(p, conf->mail_from),
                                natomm_mime_domain(p, conf->mail_from),
                                row[OUT_RECIPIENT], row[OUT_MESSAGE], permanent);
    return deliver_file(p, conf, row[OUT_ID], row[OUT_CREATED], row[OUT_MESSAGE]);
}

/* What an attempt leaves: sent, a retry after the backoff, or the end. */
static void record(natomm_db *db, server_rec *s, apr_pool_t *p, const char **row,
                   const char *owner, const char *err, int permanent)
{
    natomm_server_conf *conf = natomm_cfg_server(s);
    int attempts = atoi(row[OUT_ATTEMPTS]);

    if (!err) {
        natomm_stats_count_mail(NATOMM_MAIL_SENT);
        natomm_db_exec(db, NATOMM_SQL_OUTBOX_SENT, (const char *[]){
            natomm_db_num(p, natomm_now()), row[OUT_ID], owner});
        ap_log_error(APLOG_MARK, APLOG_INFO, 0, s, "NATOMM: mail %s delivered",
                     row[OUT_ID]);
        return;
    }
    if (permanent) {
        give_up(db, s, p, row[OUT_ID], owner, err);
        return;
    }
    natomm_stats_count_mail(NATOMM_MAIL_RETRIED);
    ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s,
                 "NATOMM: mail %s not delivered (attempt %d), will retry: %s",
                 row[OUT_ID], attempts + 1, err);
    natomm_db_exec(db, NATOMM_SQL_OUTBOX_RETRY, (const char *[]){
        natomm_db_num(p, natomm_now_ms() + 1000 * natomm_backoff(
            conf->mail_retry_first, conf->mail_retry_max, attempts)),
        err, row[OUT_ID], owner});
}

/* Claims a message under a lease: 1 ours, 0 another process's (or sent,
 * failed or deferred by another server since it was read), -1 no database. */
static int claim(server_rec *s, apr_pool_t *p, const char **row, const char *owner)
{
    natomm_db *db = natomm_db_open(p, s);
    apr_int64_t now = natomm_now();
    int n;

    if (!db)
        return -1;
    n = natomm_db_exec(db, NATOMM_SQL_OUTBOX_CLAIM, (const char *[]){
        natomm_db_num(p, now + LEASE_SECONDS), owner, row[OUT_ID],
        natomm_db_num(p, now), natomm_db_num(p, natomm_now_ms())});
    if (n == 1 && apr_atoi64(row[OUT_CREATED]) < now - natomm_cfg_server(s)->mail_give_up) {
        give_up(db, s, p, row[OUT_ID], owner, "too old: no longer retried");
        n = 0;
    }
    natomm_db_close(db);
    return n < 0 ? -1 : n == 1;
}

/* One message: claimed, then sent with no database connection held (a
 * relay may take its time; a graceful restart must not find a pooled
 * connection out), then its outcome recorded. */
static int deliver_one(server_rec *s, apr_pool_t *p, const char **row,
                       const char *owner)
{
    const char *err;
    natomm_db *db;
    int permanent, n = claim(s, p, row, owner);

    if (n <= 0)
        return n;
    err = send_one(p, natomm_cfg_server(s), row, &permanent);
    /* the lease outlives the send: if the database is away now, the
     * message is retried after it, perhaps sent twice; never lost */
    if (!(db = natomm_db_open(p, s)))
        return -1;
    record(db, s, p, row, owner, err, permanent);
    natomm_db_close(db);
    return 1;
}

int natomm_mail_deliver_due(server_rec *s, apr_pool_t *p, const volatile int *stop)
{
    natomm_server_conf *conf = natomm_cfg_server(s);
    const char *owner = natomm_random_id(p);
    apr_array_header_t *due;
    natomm_db *db = natomm_db_open(p, s);
    int i, n, sent = 0;

    if (!db)
        return -1;
    n = natomm_db_rows(db, NATOMM_SQL_OUTBOX_DUE, (const char *[]){
        natomm_db_num(p, natomm_now_ms()), natomm_db_num(p, natomm_now())}, &due);
    natomm_db_close(db);
    for (i = 0; n > 0 && conf->mail_transport && i < due->nelts && !*stop; i++) {
        apr_pool_t *mp;
        int rv;
        apr_pool_create(&mp, p);
        rv = deliver_one(s, mp, APR_ARRAY_IDX(due, i, const char **), owner);
        apr_pool_destroy(mp);
        if (rv < 0)
            return -1;
        sent += rv;
    }
    return n < 0 ? -1 : sent;
}

static apr_int64_t num(const char *v)
{
    return v ? apr_atoi64(v) : 0;
}

int natomm_mail_stats(natomm_db *db, apr_pool_t *p, natomm_mail_stats_t *st)
{
    const char *c[STAT_NCOLS] = {NULL};
    apr_int64_t now = natomm_now();

    if (natomm_db_row(db, NATOMM_SQL_OUTBOX_STATS, (const char *[]){
            natomm_db_num(p, now - 3600)}, c) < 0)
        return -1;
    st->queued = num(c[STAT_QUEUED]);
    st->oldest_age = c[STAT_OLDEST] ? now - num(c[STAT_OLDEST]) : 0;
    st->failed = num(c[STAT_FAILED]);
    st->sent_last_hour = num(c[STAT_SENT_HOUR]);
    st->retrying = num(c[STAT_RETRYING]);
    return 0;
}

void natomm_mail_log_stats(natomm_db *db, server_rec *s, apr_pool_t *p)
{
    natomm_mail_stats_t st;

    if (natomm_mail_stats(db, p, &st) == 0)
        ap_log_error(APLOG_MARK, APLOG_NOTICE, 0, s,
                     "NATOMM: mail queue: %" APR_INT64_T_FMT " queued (oldest %"
                     APR_INT64_T_FMT " s, %" APR_INT64_T_FMT " retrying), %"
                     APR_INT64_T_FMT " failed", st.queued, st.oldest_age,
                     st.retrying, st.failed);
}
