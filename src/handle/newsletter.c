/* POST newsletter: subscribe or unsubscribe the logged-in account (see
 * natomm_handle.h). Consent is recorded with the row: when, from which
 * client address, and when it was withdrawn. */
#include "natomm_handle.h"
#include <string.h>
#include "http_core.h"
#include "http_protocol.h"
#include "apr_strings.h"
#include "natomm_clock.h"
#include "natomm_mail.h"
#include "natomm_token.h"

/* From configuration only: no byte of the request reaches a mail header. */
static const char *unsubscribe_url(natomm_ctx *c, const char *token)
{
    return natomm_cfg_account_url(c->r, apr_pstrcat(c->r->pool,
                                  "/newsletter/unsubscribe?token=", token, NULL));
}

/* The welcome mail: RFC 8058 headers, so mail clients offer one click. */
static int welcome_mail(natomm_ctx *c, const char **acct, const char *token)
{
    apr_pool_t *p = c->r->pool;
    const char *url = unsubscribe_url(c, token);
    apr_array_header_t *h = apr_array_make(p, 2, sizeof(natomm_mime_header_t));
    natomm_mail_t mail = {acct[ACCT_EMAIL], acct[ACCT_LANG], "newsletter_subscribed",
                          apr_table_make(p, 2), h};
    natomm_mime_header_t *e;

    e = apr_array_push(h);
    e->name = "List-Unsubscribe";
    e->value = apr_pstrcat(p, "<", url, ">", NULL);
    e = apr_array_push(h);
    e->name = "List-Unsubscribe-Post";
    e->value = "List-Unsubscribe=One-Click";
    apr_table_setn(mail.vars, "unsubscribe_url", url);
    return natomm_mail_queue(c->db, c->r->server, p, &mail);
}

/* Only a change from "not subscribed" is recorded and confirmed. */
static int subscribe(natomm_ctx *c, const char *account_id)
{
    const char *acct[ACCT_NCOLS], *token;
    int n = natomm_db_exec(c->db, NATOMM_SQL_NEWS_SUBSCRIBE, (const char *[]){
        natomm_db_num(c->r->pool, natomm_now()), natomm_request_client_ip(c->r),
        account_id});

    if (n != 1)
        return n < 0 ? -1 : 0;
    if (natomm_db_row(c->db, NATOMM_SQL_ACCT_BY_ID, (const char *[]){account_id},
                      acct) != 1
        || !(token = natomm_token_unsubscribe(c->r->pool, natomm_db_code_key(c->db),
                                              account_id)))
        return -1;
    return welcome_mail(c, acct, token);
}

int natomm_handle_newsletter(natomm_ctx *c)
{
    natomm_session_info info;
    const char *sub;
    int on, rv;

    if (natomm_ctx_session(c, &info) || natomm_ctx_required(c, "subscribe", &sub))
        return OK;
    if (strcmp(sub, "1") && strcmp(sub, "0"))
        return natomm_reply_bad_field(c->r, "subscribe");
    on = sub[0] == '1';
    if (natomm_db_begin(c->db))
        return natomm_reply_error(c->r, NATOMM_E_STORAGE_UNAVAILABLE);
    rv = on ? subscribe(c, info.account_id)
            : natomm_db_exec(c->db, NATOMM_SQL_NEWS_UNSUBSCRIBE, (const char *[]){
                  natomm_db_num(c->r->pool, natomm_now()), info.account_id});
    if (rv < 0 || natomm_db_commit(c->db)) {
        natomm_db_rollback(c->db);
        return natomm_reply_error(c->r, NATOMM_E_STORAGE_UNAVAILABLE);
    }
    natomm_ctx_log(c, on ? "newsletter_subscribe" : "newsletter_unsubscribe",
                   info.account_id);
    return natomm_reply_status(c->r, HTTP_OK, on ? "subscribed" : "unsubscribed");
}
