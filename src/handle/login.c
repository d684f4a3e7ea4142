/* GET session and settings, POST login and logout (see natomm_handle.h). */
#include "natomm_handle.h"
#include <string.h>
#include <stdlib.h>
#include "http_protocol.h"
#include "apr_strings.h"
#include "natomm_clock.h"
#include "natomm_code.h"
#include "natomm_json.h"
#include "natomm_policy.h"
#include "natomm_redirect.h"

int natomm_handle_session(natomm_ctx *c)
{
    natomm_session_info info;
    natomm_json *j = natomm_json_object(c->r->pool);
    int rv;

    if (natomm_ctx_db(c))
        return OK;
    rv = natomm_session_current(c->db, c->r, &info);
    if (rv < 0)
        return natomm_reply_error(c->r, NATOMM_E_STORAGE_UNAVAILABLE);
    natomm_json_bool(j, "authenticated", rv == 1);
    if (rv == 1) {
        natomm_json_str(j, "email", info.email);
        natomm_json_str(j, "name", info.name);
        natomm_json_bool(j, "newsletter", info.newsletter);
    }
    return natomm_reply_json(c->r, HTTP_OK, j);
}

/* What the pages must not hard-code: the rules and timings as configured. */
int natomm_handle_settings(natomm_ctx *c)
{
    natomm_json *j = natomm_json_object(c->r->pool);
    const natomm_code_format_t *code = &c->conf->code;

    natomm_json_str(j, "site_name", c->conf->site_name);
    natomm_json_int(j, "password_min", c->conf->pw_min);
    natomm_json_int(j, "password_max", c->conf->pw_max);
    natomm_json_str(j, "code_kind", strcmp(code->alphabet, NATOMM_CODE_DIGITS)
                                    ? "letters" : "digits");
    natomm_json_int(j, "code_length", code->length);
    natomm_json_str(j, "code_alphabet", code->alphabet);
    natomm_json_int(j, "register_code_lifetime", c->conf->register_code_ttl);
    natomm_json_int(j, "reset_code_lifetime", c->conf->reset_code_ttl);
    natomm_json_int(j, "resend_interval", c->conf->resend_interval);
    natomm_json_int(j, "session_remember", c->conf->session_remember);
    return natomm_reply_json(c->r, HTTP_OK, j);
}

/* Right password, address not verified: a new code (within the resend
 * budget) and 403, in the open transaction. */
static int answer_unverified(natomm_ctx *c, const char **acct, const char *key)
{
    natomm_code_issue_t code = {acct[ACCT_ID], "register", acct[ACCT_EMAIL],
                                acct[ACCT_LANG], acct[ACCT_HASH]};
    natomm_json *j;
    apr_int64_t wait = natomm_limits_resend_wait(c, "register", key);

    /* this code carries the password just proven */
    if (wait < 0 || (wait == 0 && (natomm_limits_resend_spend(c, "register", key)
                                   || natomm_codes_issue(c, &code)))
        || natomm_db_commit(c->db)) {
        natomm_db_rollback(c->db);
        return natomm_reply_error(c->r, NATOMM_E_STORAGE_UNAVAILABLE);
    }
    natomm_ctx_log(c, "login_unverified", acct[ACCT_ID]);
    j = natomm_reply_error_body(c->r->pool, NATOMM_E_VERIFICATION_REQUIRED);
    natomm_json_bool(j, "code_sent", wait == 0);
    return natomm_reply_error_json(c->r, NATOMM_E_VERIFICATION_REQUIRED, j);
}

/* A stored hash made with other parameters is made again, after the
 * login's transaction: no lock is held for the length of a hash. */
static void rehash(natomm_ctx *c, const char **acct, const char *pw)
{
    const char *h;
    int busy;

    if (natomm_cred_needs_rehash(c, acct[ACCT_HASH])
        && (h = natomm_cred_hash(c, pw, &busy)) != NULL)
        natomm_db_exec(c->db, NATOMM_SQL_ACCT_SET_PASSWORD,
                       (const char *[]){h, acct[ACCT_ID]});
}

/* A session, in the open transaction. */
static int answer_logged_in(natomm_ctx *c, const char **acct, const char *pw)
{
    natomm_json *j;

    if (natomm_session_create(c->db, c->r, acct[ACCT_ID],
                              natomm_ctx_truthy(natomm_ctx_field(c, "remember")))
        || natomm_db_commit(c->db)) {
        natomm_db_rollback(c->db);
        natomm_session_unset_cookie(c->r);
        return natomm_reply_error(c->r, NATOMM_E_STORAGE_UNAVAILABLE);
    }
    natomm_ctx_log(c, "login", acct[ACCT_ID]);
    rehash(c, acct, pw);
    j = natomm_json_object(c->r->pool);
    natomm_json_str(j, "status", "logged_in");
    natomm_json_str(j, "return", natomm_return_url(c->r->pool,
                                                   natomm_ctx_field(c, "return")));
    return natomm_reply_json(c->r, HTTP_OK, j);
}

int natomm_handle_login(natomm_ctx *c)
{
    const char *email, *pw, *key, *acct[ACCT_NCOLS];
    int n;

    if (natomm_ctx_email(c, &email) || natomm_ctx_required(c, "password", &pw)
        || natomm_ctx_db(c))
        return OK;
    key = natomm_email_key(c->r->pool, email);
    n = natomm_db_row(c->db, NATOMM_SQL_ACCT_BY_EMAIL, (const char *[]){key}, acct);
    if (n < 0)
        return natomm_reply_error(c->r, NATOMM_E_STORAGE_UNAVAILABLE);
    /* a passed attempt leaves its transaction open, with the address locked */
    if (natomm_cred_attempt(c, n ? acct : NULL, key, pw, "login_failed", 1))
        return OK;
    if (!acct[ACCT_VERIFIED])
        return answer_unverified(c, acct, key);
    return answer_logged_in(c, acct, pw);
}

/* The request's session ends; with "all", every session of the account.
 * Either way every node forgets what it cached of the account within
 * NatommRevocationDelay. */
int natomm_handle_logout(natomm_ctx *c)
{
    natomm_session_info info;
    int had, all = natomm_ctx_truthy(natomm_ctx_field(c, "all"));

    if (natomm_ctx_db(c))
        return OK;
    had = natomm_session_current(c->db, c->r, &info);
    if (had < 0 || natomm_db_begin(c->db))
        return natomm_reply_error(c->r, NATOMM_E_STORAGE_UNAVAILABLE);
    if (natomm_session_end(c->db, c->r)
        || (had == 1 && (all ? natomm_session_end_all(c->db, info.account_id)
                             : natomm_session_revoke(c->db, info.account_id)))
        || natomm_db_commit(c->db)) {
        natomm_db_rollback(c->db);
        return natomm_reply_error(c->r, NATOMM_E_STORAGE_UNAVAILABLE);
    }
    if (had == 1) {
        natomm_session_revoked(c->r, info.account_id);
        natomm_ctx_log(c, "logout", info.account_id);
    }
    return natomm_reply_status(c->r, HTTP_OK, "logged_out");
}
