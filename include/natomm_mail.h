/* Mail (src/mail/): the outbox, written in the caller's transaction
 * (outbox.c: template + core/mime + insert), and its delivery in the
 * background (deliver.c: claim, transport, retry, give up). No HTTP answer
 * waits on a mail server. */
#ifndef NATOMM_MAIL_H
#define NATOMM_MAIL_H

#include "httpd.h"
#include "apr_tables.h"
#include "natomm_db.h"
#include "natomm_mime.h"

/* ---- outbox.c -------------------------------------------------------- */

/* The templates of conf/mail as built into the module (build/templates.c):
 * used when NatommMailTemplates has no file for a message. */
typedef struct {
    const char *name;          /* "en/register_code" */
    const char *text;
} natomm_template_t;
extern const natomm_template_t natomm_templates[];

typedef struct {
    const char *to;            /* a bare address */
    const char *lang;          /* "en" or "fr" */
    const char *name;          /* the template, e.g. "register_code" */
    apr_table_t *vars;         /* {{key}} values; {{site}} is added */
    const apr_array_header_t *headers;   /* natomm_mime_header_t, or NULL */
} natomm_mail_t;

/* Renders conf/mail/<lang>/<name>.txt and queues it, in the caller's
 * transaction. 0, or -1 (logged). */
int natomm_mail_queue(natomm_db *db, server_rec *s, apr_pool_t *p,
                      const natomm_mail_t *m);

/* ---- deliver.c ------------------------------------------------------- */

typedef struct {
    apr_int64_t queued, oldest_age, failed, sent_last_hour, retrying;
} natomm_mail_stats_t;

/* Sends what is due on the database of server s, with its mail settings:
 * each message claimed under a lease (so that of several processes or
 * servers on one database one sends it) and sent with no connection held.
 * It stops between two messages once *stop is set (the child exits).
 * The number sent, or -1 when the database failed. */
int natomm_mail_deliver_due(server_rec *s, apr_pool_t *p, const volatile int *stop);

/* The outbox in numbers; 0, or -1 when the database failed. */
int natomm_mail_stats(natomm_db *db, apr_pool_t *p, natomm_mail_stats_t *st);

/* One log line with those numbers (NOTICE), once at start. */
void natomm_mail_log_stats(natomm_db *db, server_rec *s, apr_pool_t *p);

#endif
