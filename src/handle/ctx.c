/* One request of an endpoint: its connection, its fields, its session,
 * its log line (see natomm_handle.h). */
#include "natomm_handle.h"
#include <string.h>
#include "http_log.h"
#include "apr_strings.h"
#include "natomm_policy.h"
#include "natomm_text.h"
#include "natomm_stats.h"

int natomm_ctx_fail(natomm_ctx *c, natomm_error_t e)
{
    natomm_reply_error(c->r, e);
    return 1;
}

int natomm_ctx_db(natomm_ctx *c)
{
    if (!c->db && !(c->db = natomm_db_acquire(c->r)))
        return natomm_ctx_fail(c, NATOMM_E_STORAGE_UNAVAILABLE);
    return 0;
}

const char *natomm_ctx_field(natomm_ctx *c, const char *name)
{
    return apr_table_get(c->form, name);
}

int natomm_ctx_required(natomm_ctx *c, const char *name, const char **value)
{
    *value = natomm_ctx_field(c, name);
    if (!*value || !**value) {
        natomm_reply_bad_field(c->r, name);
        return 1;
    }
    return 0;
}

int natomm_ctx_email(natomm_ctx *c, const char **email)
{
    if (natomm_ctx_required(c, "email", email))
        return 1;
    if (!natomm_email_valid(*email))
        return natomm_ctx_fail(c, NATOMM_E_INVALID_EMAIL);
    return 0;
}

int natomm_ctx_truthy(const char *v)
{
    return v && (!strcmp(v, "1") || !strcasecmp(v, "true") || !strcasecmp(v, "on")
                 || !strcasecmp(v, "yes"));
}

int natomm_ctx_session(natomm_ctx *c, natomm_session_info *info)
{
    int rv;

    if (natomm_ctx_db(c))
        return 1;
    rv = natomm_session_current(c->db, c->r, info);
    if (rv < 0)
        return natomm_ctx_fail(c, NATOMM_E_STORAGE_UNAVAILABLE);
    if (rv == 0)
        return natomm_ctx_fail(c, NATOMM_E_NOT_AUTHENTICATED);
    return 0;
}

const char *natomm_ctx_address_lock(natomm_ctx *c, const char *key)
{
    return apr_pstrcat(c->r->pool, "addr:", key, NULL);
}

int natomm_ctx_begin_account(natomm_ctx *c, const char *key, const char **acct,
                             int *found)
{
    int n;

    if (natomm_ctx_db(c))
        return 1;
    if (natomm_db_begin(c->db)
        || natomm_db_lock(c->db, natomm_ctx_address_lock(c, key))) {
        natomm_db_rollback(c->db);
        return natomm_ctx_fail(c, NATOMM_E_STORAGE_UNAVAILABLE);
    }
    n = natomm_db_row(c->db, NATOMM_SQL_ACCT_BY_EMAIL, (const char *[]){key}, acct);
    if (n < 0) {
        natomm_db_rollback(c->db);
        return natomm_ctx_fail(c, NATOMM_E_STORAGE_UNAVAILABLE);
    }
    *found = n;
    return 0;
}

/* One line per account event: time (the log's), event, account, client. */
void natomm_ctx_log(natomm_ctx *c, const char *event, const char *account_id)
{
    natomm_stats_count_event(event);
    ap_log_rerror(APLOG_MARK, APLOG_NOTICE, 0, c->r,
                  "NATOMM: event=%s account=%s ip=%s", event,
                  account_id ? account_id : "-",
                  natomm_text_log_safe(c->r->pool, natomm_request_client_ip(c->r)));
}
