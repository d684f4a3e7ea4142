/* Mail: templates, the outbox and its delivery.
 *
 * A message is rendered and written to the outbox in the caller's
 * transaction; a mod_watchdog callback delivers it afterwards, so no HTTP
 * answer waits on a mail server.
 */
#ifndef NATOMM_MAIL_H
#define NATOMM_MAIL_H

#include "httpd.h"
#include "apr_tables.h"
#include "natomm.h"
#include "natomm_store.h"

/* The templates of conf/mail as built into the module (build/templates.c):
 * used when NatommMailTemplates has no file for a message. */
typedef struct {
    const char *name;          /* "en/register_code" */
    const char *text;
} natomm_template_t;
extern const natomm_template_t natomm_templates[];

/* Renders conf/mail/<lang>/<name>.txt with vars ({{key}} placeholders) and
 * queues it for to, with extra header lines (each ending in CRLF; made by
 * the caller from trusted values) or NULL. Returns 0, or -1 (logged). */
int natomm_mail_queue(natomm_db *db, request_rec *r, const char *to,
                      const char *lang, const char *name, apr_table_t *vars,
                      const char *headers);

/* Parses NatommMailTransport; NULL on success, else a message. */
const char *natomm_mail_transport_parse(apr_pool_t *p, natomm_server_conf *conf,
                                        const char *url);

/* The "SetHandler natomm-status" handler: the outbox in one JSON line
 * (queued, oldest_age, retrying, failed, sent_last_hour); protect it with
 * a Require line. */
int natomm_mail_status_handler(request_rec *r);

/* Registers delivery and purging with mod_watchdog (post_config). */
int natomm_mail_watchdog_register(apr_pool_t *p, server_rec *s);

#endif
