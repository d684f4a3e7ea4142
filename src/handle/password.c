/* POST password/forgot, password/verify, password/reset, password/change
 * (see natomm_handle.h).
 *
 * A reset goes address -> mailed code -> single-use reset token -> new
 * password. It never logs anyone in, and it ends every session of the
 * account. Unknown and unverified addresses get the same answers as known
 * ones and nothing is sent to them.
 */
#include "natomm_handle.h"
#include "http_protocol.h"
#include "apr_strings.h"
#include "natomm_clock.h"
#include "natomm_crypto.h"
#include "natomm_json.h"
#include "natomm_mail.h"
#include "natomm_policy.h"

int natomm_handle_forgot(natomm_ctx *c)
{
    apr_pool_t *p = c->r->pool;
    const char *email, *key, *acct[ACCT_NCOLS];
    apr_int64_t wait;
    int found, rv = 0;

    if (natomm_ctx_email(c, &email) || natomm_limits_ip(c, NATOMM_IP_RESET_REQUESTS))
        return OK;
    key = natomm_email_key(p, email);
    if (natomm_ctx_begin_account(c, key, acct, &found))
        return OK;
    /* beyond this client's budget a request changes nothing, silently */
    wait = natomm_limits_resend_wait(c, "reset", key);
    if (wait == 0)
        rv = natomm_limits_resend_spend(c, "reset", key)
             || natomm_codes_resend(c, acct, found, "reset");
    if (wait < 0 || rv || natomm_db_commit(c->db)) {
        natomm_db_rollback(c->db);
        return natomm_reply_error(c->r, NATOMM_E_STORAGE_UNAVAILABLE);
    }
    natomm_ctx_log(c, "reset_requested", found ? acct[ACCT_ID] : NULL);
    return natomm_reply_status(c->r, HTTP_ACCEPTED, "code_sent");
}

static int answer_reset_token(natomm_ctx *c, const char *token)
{
    natomm_json *j = natomm_json_object(c->r->pool);

    natomm_json_str(j, "status", "code_accepted");
    natomm_json_str(j, "reset_token", token);
    natomm_json_int(j, "expires_in", c->conf->reset_token_ttl);
    return natomm_reply_json(c->r, HTTP_OK, j);
}

int natomm_handle_reset_verify(natomm_ctx *c)
{
    apr_pool_t *p = c->r->pool;
    natomm_code_entry_t e;
    const char *token, *account;

    if (natomm_codes_enter(c, "reset", &e))
        return OK;
    account = e.acct[ACCT_ID];
    if (!(token = natomm_token(p))) {
        natomm_db_rollback(c->db);
        return natomm_reply_error(c->r, NATOMM_E_STORAGE_UNAVAILABLE);
    }
    natomm_db_exec(c->db, NATOMM_SQL_CODE_DELETE, (const char *[]){account, "reset"});
    natomm_db_exec(c->db, NATOMM_SQL_RESET_INSERT, (const char *[]){
        natomm_sha256_hex(p, token), account,
        natomm_db_num(p, natomm_now() + c->conf->reset_token_ttl)});
    if (natomm_db_commit(c->db))
        return natomm_reply_error(c->r, NATOMM_E_STORAGE_UNAVAILABLE);
    natomm_ctx_log(c, "reset_code_accepted", account);
    return answer_reset_token(c, token);
}

/* The new password in place, every lock and failure count cleared, every
 * reset token and pending reset code void (a change as much as a reset),
 * and the owner told, inside the caller's transaction. */
static int store_password(natomm_ctx *c, const char *account, const char *email,
                          const char *lang, const char *hash)
{
    natomm_mail_t mail = {email, lang, "password_changed",
                          apr_table_make(c->r->pool, 1), NULL};

    natomm_db_exec(c->db, NATOMM_SQL_ACCT_SET_PASSWORD, (const char *[]){hash, account});
    natomm_db_exec(c->db, NATOMM_SQL_ACCT_LOGIN_OK, (const char *[]){account});
    natomm_db_exec(c->db, NATOMM_SQL_LOCK_CLEAR_ACCOUNT, (const char *[]){account});
    natomm_db_exec(c->db, NATOMM_SQL_RESET_DELETE_ACCOUNT, (const char *[]){account});
    natomm_db_exec(c->db, NATOMM_SQL_CODE_DELETE, (const char *[]){account, "reset"});
    return natomm_mail_queue(c->db, c->r->server, c->r->pool, &mail);
}

/* The reset token's row, still valid: 0, or answered (400, 503). */
static int reset_row(natomm_ctx *c, const char *tokhash, const char **row)
{
    int n = natomm_db_row(c->db, NATOMM_SQL_RESET_GET, (const char *[]){tokhash}, row);

    if (n < 0)
        return natomm_ctx_fail(c, NATOMM_E_STORAGE_UNAVAILABLE);
    if (n == 0 || apr_atoi64(row[RESET_EXPIRES]) <= natomm_now())
        return natomm_ctx_fail(c, NATOMM_E_INVALID_TOKEN);
    return 0;
}

int natomm_handle_reset(natomm_ctx *c)
{
    apr_pool_t *p = c->r->pool;
    const char *token, *pw, *hash, *tokhash, *row[RESET_NCOLS];
    int busy;

    if (natomm_ctx_required(c, "reset_token", &token)
        || natomm_ctx_required(c, "password", &pw) || natomm_ctx_db(c))
        return OK;
    tokhash = natomm_sha256_hex(p, token);
    if (reset_row(c, tokhash, row) || natomm_cred_strong(c, pw, row[RESET_EMAIL]))
        return OK;
    if (!(hash = natomm_cred_hash(c, pw, &busy)))
        return natomm_cred_answer_unavailable(c, busy);
    if (natomm_db_begin(c->db))
        return natomm_reply_error(c->r, NATOMM_E_STORAGE_UNAVAILABLE);
    /* single use: of two requests racing with one token, one deletes it */
    if (natomm_db_exec(c->db, NATOMM_SQL_RESET_USE, (const char *[]){
            tokhash, natomm_db_num(p, natomm_now())}) == 0) {
        natomm_db_rollback(c->db);
        return natomm_reply_error(c->r, NATOMM_E_INVALID_TOKEN);
    }
    if (store_password(c, row[RESET_ACCOUNT], row[RESET_EMAIL], row[RESET_LANG], hash)
        || natomm_session_end_all(c->db, row[RESET_ACCOUNT])
        || natomm_db_commit(c->db)) {
        natomm_db_rollback(c->db);
        return natomm_reply_error(c->r, NATOMM_E_STORAGE_UNAVAILABLE);
    }
    natomm_session_revoked(c->r, row[RESET_ACCOUNT]);
    natomm_ctx_log(c, "reset", row[RESET_ACCOUNT]);
    return natomm_reply_status(c->r, HTTP_OK, "password_updated");
}

int natomm_handle_change_password(natomm_ctx *c)
{
    natomm_session_info info;
    const char *acct[ACCT_NCOLS], *pw, *hash;
    int busy;

    if (natomm_cred_confirm(c, &info, "current_password", acct)
        || natomm_ctx_required(c, "password", &pw)
        || natomm_cred_strong(c, pw, acct[ACCT_EMAIL]))
        return OK;
    if (!(hash = natomm_cred_hash(c, pw, &busy)))
        return natomm_cred_answer_unavailable(c, busy);
    if (natomm_db_begin(c->db))
        return natomm_reply_error(c->r, NATOMM_E_STORAGE_UNAVAILABLE);
    if (store_password(c, info.account_id, acct[ACCT_EMAIL], acct[ACCT_LANG], hash)
        || natomm_session_end_others(c->db, c->r, info.account_id)
        || natomm_db_commit(c->db)) {
        natomm_db_rollback(c->db);
        return natomm_reply_error(c->r, NATOMM_E_STORAGE_UNAVAILABLE);
    }
    natomm_session_revoked(c->r, info.account_id);
    natomm_ctx_log(c, "password_change", info.account_id);
    return natomm_reply_status(c->r, HTTP_OK, "password_updated");
}
