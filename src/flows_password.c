/* Password endpoints: forgot, reset code, reset, change; and account deletion.
 *
 * A reset goes address -> mailed code -> single-use reset token -> new
 * password. It never logs anyone in, and it ends every session of the
 * account. Unknown and unverified addresses get the same answers as known
 * ones and nothing is sent to them.
 */
#include <string.h>
#include <stdlib.h>
#include "httpd.h"
#include "http_protocol.h"
#include "apr_strings.h"

#include "natomm.h"
#include "natomm_flow.h"
#include "natomm_crypto.h"
#include "natomm_http.h"
#include "natomm_json.h"
#include "natomm_mail.h"
#include "natomm_policy.h"
#include "natomm_session.h"
#include "natomm_store.h"
#include "natomm_throttle.h"

/* ---- POST password/forgot -------------------------------------------- */

int natomm_flow_forgot(natomm_ctx *c)
{
    apr_pool_t *p = c->r->pool;
    const char *email, *key, *bucket, *acct[A_NCOLS];
    natomm_limit_t lim = natomm_flow_resend_limit(c);
    apr_int64_t wait;
    int n, rv = 0;

    if (!(email = natomm_flow_required_email(c))
        || natomm_flow_ip_limited(c, NATOMM_IP_RESET_REQUESTS))
        return OK;
    key = natomm_email_key(p, email);
    bucket = natomm_throttle_bucket(p, "resend:reset", key);
    if ((n = natomm_flow_begin_account(c, key, acct)) < 0)
        return natomm_flow_unavailable(c->r);
    /* inside the resend limits a request changes nothing, silently */
    wait = natomm_throttle_check(c->db, p, bucket, &lim);
    if (wait == 0) {
        natomm_throttle_record(c->db, p, bucket);
        if (n && acct[A_VERIFIED])
            rv = natomm_flow_issue_code(c, acct[A_ID], "reset", acct[A_EMAIL],
                                        acct[A_LANG], NULL);
    }
    if (wait < 0 || rv || natomm_db_commit(c->db)) {
        natomm_db_rollback(c->db);
        return natomm_flow_unavailable(c->r);
    }
    natomm_flow_log(c, "reset_requested", n ? acct[A_ID] : NULL);
    return natomm_flow_status(c->r, HTTP_ACCEPTED, "code_sent");
}

/* ---- POST password/verify -------------------------------------------- */

int natomm_flow_reset_verify(natomm_ctx *c)
{
    apr_pool_t *p = c->r->pool;
    const char *email, *typed, *key, *token, *acct[A_NCOLS];
    apr_int64_t left = 0;
    natomm_code_result res;
    natomm_json *j;
    int n;

    if (!(email = natomm_flow_required_email(c))
        || !(typed = natomm_flow_required(c, "code"))
        || natomm_flow_ip_limited(c, NATOMM_IP_CODE_ENTRIES))
        return OK;
    key = natomm_email_key(p, email);
    if ((n = natomm_flow_begin_account(c, key, acct)) < 0)
        return natomm_flow_unavailable(c->r);
    res = natomm_flow_check_code(c, n && acct[A_VERIFIED] ? acct : NULL, "reset",
                                 key, typed, &left, NULL);
    if (res != NATOMM_CODE_OK)
        return natomm_flow_code_failed(c, res, left);
    if (!(token = natomm_token(p))) {
        natomm_db_rollback(c->db);
        return natomm_flow_unavailable(c->r);
    }
    natomm_db_exec(c->db, "natomm_code_delete", (const char *[]){acct[A_ID], "reset"});
    natomm_db_exec(c->db, "natomm_reset_insert", (const char *[]){
        natomm_sha256_hex(p, token), acct[A_ID],
        natomm_db_num(p, natomm_now() + c->conf->reset_token_ttl)});
    if (natomm_db_commit(c->db))
        return natomm_flow_unavailable(c->r);
    natomm_flow_log(c, "reset_code_accepted", acct[A_ID]);
    j = natomm_json_object(p);
    natomm_json_str(j, "status", "code_accepted");
    natomm_json_str(j, "reset_token", token);
    natomm_json_int(j, "expires_in", c->conf->reset_token_ttl);
    return natomm_send_json(c->r, HTTP_OK, natomm_json_finish(j));
}

/* ---- shared by reset and change -------------------------------------- */

static int invalid_token(request_rec *r)
{
    return natomm_send_error(r, HTTP_BAD_REQUEST, "invalid_token",
                             "This reset link or token is unknown, used or "
                             "expired; ask for a new code.");
}

/* The new password in place, the failure count cleared, and the owner told,
 * inside the caller's transaction. */
static int store_password(natomm_ctx *c, const char *account, const char *email,
                          const char *lang, const char *hash)
{
    natomm_db_exec(c->db, "natomm_acct_set_password", (const char *[]){hash, account});
    natomm_db_exec(c->db, "natomm_acct_login_ok", (const char *[]){account});
    return natomm_mail_queue(c->db, c->r, email, lang, "password_changed",
                             apr_table_make(c->r->pool, 1), NULL);
}

/* ---- POST password/reset --------------------------------------------- */

int natomm_flow_reset(natomm_ctx *c)
{
    apr_pool_t *p = c->r->pool;
    const char *token, *pw, *hash, *tokhash, *row[4];
    int n;

    if (!(token = natomm_flow_required(c, "reset_token"))
        || !(pw = natomm_flow_required(c, "password")))
        return OK;
    if (!(c->db = natomm_db_acquire(c->r)))
        return natomm_flow_unavailable(c->r);
    tokhash = natomm_sha256_hex(p, token);
    n = natomm_db_row(c->db, "natomm_reset_get", (const char *[]){tokhash}, row, 4);
    if (n < 0)
        return natomm_flow_unavailable(c->r);
    if (n == 0 || apr_atoi64(row[1]) <= natomm_now())
        return invalid_token(c->r);
    if (natomm_flow_weak_password(c, pw, row[2]))
        return OK;
    if (!(hash = natomm_flow_hash_password(c, pw)) || natomm_db_begin(c->db))
        return natomm_flow_unavailable(c->r);
    /* single use: of two requests racing with one token, one deletes it */
    n = natomm_db_exec(c->db, "natomm_reset_use", (const char *[]){
        tokhash, natomm_db_num(p, natomm_now())});
    if (n == 0) {
        natomm_db_rollback(c->db);
        return invalid_token(c->r);
    }
    natomm_db_exec(c->db, "natomm_reset_delete_account", (const char *[]){row[0]});
    if (store_password(c, row[0], row[2], row[3], hash)
        || natomm_session_end_all(c->db, row[0])
        || natomm_db_commit(c->db)) {
        natomm_db_rollback(c->db);
        return natomm_flow_unavailable(c->r);
    }
    natomm_session_revoke_cached(c->r, row[0]);
    natomm_flow_log(c, "reset", row[0]);
    return natomm_flow_status(c->r, HTTP_OK, "password_updated");
}

/* ---- POST password/change -------------------------------------------- */

/* The logged-in account's row and a check of its password; 1 when both
 * pass, else 0 with the answer sent. */
static int confirm_password(natomm_ctx *c, natomm_session_info *info,
                            const char *field, const char **acct)
{
    const char *pw;
    int n;

    if (!natomm_flow_need_session(c, info) || !(pw = natomm_flow_required(c, field))
        || natomm_flow_login_limited(c))
        return 0;
    n = natomm_db_row(c->db, "natomm_acct_by_id", (const char *[]){info->account_id},
                      acct, I_NCOLS);
    if (n <= 0) {
        natomm_flow_unavailable(c->r);
        return 0;
    }
    /* a locked account refuses even the right password, as login does */
    if (!natomm_flow_check_password(acct[I_HASH], pw)
        || apr_atoi64(acct[I_LOCKED]) > natomm_now()) {
        natomm_flow_password_failed(c, "password_check_failed", info->account_id,
                                    acct[I_FAILS]);
        return 0;
    }
    return 1;
}

int natomm_flow_change_password(natomm_ctx *c)
{
    natomm_session_info info;
    const char *acct[I_NCOLS], *pw, *hash;

    if (!confirm_password(c, &info, "current_password", acct)
        || !(pw = natomm_flow_required(c, "password"))
        || natomm_flow_weak_password(c, pw, acct[I_EMAIL]))
        return OK;
    if (!(hash = natomm_flow_hash_password(c, pw)) || natomm_db_begin(c->db))
        return natomm_flow_unavailable(c->r);
    if (store_password(c, info.account_id, acct[I_EMAIL], acct[I_LANG], hash)
        || natomm_session_end_others(c->db, c->r, info.account_id)
        || natomm_db_commit(c->db)) {
        natomm_db_rollback(c->db);
        return natomm_flow_unavailable(c->r);
    }
    natomm_session_revoke_cached(c->r, info.account_id);
    natomm_flow_log(c, "password_change", info.account_id);
    return natomm_flow_status(c->r, HTTP_OK, "password_updated");
}

/* ---- POST delete ----------------------------------------------------- */

int natomm_flow_delete(natomm_ctx *c)
{
    natomm_session_info info;
    const char *acct[I_NCOLS];

    if (!confirm_password(c, &info, "password", acct))
        return OK;
    if (natomm_db_begin(c->db))
        return natomm_flow_unavailable(c->r);
    /* sessions, codes, reset tokens and the consent record go with the row */
    natomm_db_exec(c->db, "natomm_acct_delete", (const char *[]){info.account_id});
    if (natomm_session_end_all(c->db, info.account_id)
        || natomm_session_end(c->db, c->r) || natomm_db_commit(c->db)) {
        natomm_db_rollback(c->db);
        apr_table_unset(c->r->err_headers_out, "Set-Cookie");
        return natomm_flow_unavailable(c->r);
    }
    natomm_session_revoke_cached(c->r, info.account_id);
    natomm_flow_log(c, "delete", info.account_id);
    return natomm_flow_status(c->r, HTTP_OK, "deleted");
}
