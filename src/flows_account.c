/* Account endpoints: session, register, verify, resend, login, logout.
 *
 * Every flow validates all of its input before it touches the database,
 * writes inside one transaction (the outbox row with the code that it
 * carries), and answers the same for known and unknown addresses.
 */
#include <string.h>
#include <stdlib.h>
#include "httpd.h"
#include "http_config.h"
#include "http_log.h"
#include "http_protocol.h"
#include "http_request.h"
#include "apr_strings.h"

#include "natomm.h"
#include "natomm_flow.h"
#include "natomm_code.h"
#include "natomm_crypto.h"
#include "natomm_http.h"
#include "natomm_json.h"
#include "natomm_mail.h"
#include "natomm_policy.h"
#include "natomm_redirect.h"
#include "natomm_session.h"
#include "natomm_store.h"
#include "natomm_throttle.h"
#include "natomm_utf8.h"

#define PROFILE_MAX 200            /* code points in name / organisation */

/* ---- GET session ----------------------------------------------------- */

int natomm_flow_session(natomm_ctx *c)
{
    natomm_session_info info;
    natomm_json *j = natomm_json_object(c->r->pool);
    int rv;

    if (!(c->db = natomm_db_acquire(c->r)))
        return natomm_flow_unavailable(c->r);
    rv = natomm_session_current(c->db, c->r, &info);
    if (rv < 0)
        return natomm_flow_unavailable(c->r);
    natomm_json_bool(j, "authenticated", rv == 1);
    if (rv == 1) {
        natomm_json_str(j, "email", info.email);
        natomm_json_str(j, "name", info.name);
        natomm_json_bool(j, "newsletter", info.newsletter);
    }
    return natomm_send_json(c->r, HTTP_OK, natomm_json_finish(j));
}

/* ---- POST register --------------------------------------------------- */

static int profile_ok(natomm_ctx *c, const char *name)
{
    const char *v = natomm_flow_field(c, name);
    if (v && natomm_utf8_length(v) > PROFILE_MAX) {
        natomm_send_error(c->r, HTTP_BAD_REQUEST, "invalid_request",
                          apr_psprintf(c->r->pool, "The field '%s' is longer than "
                                       "%d characters.", name, PROFILE_MAX));
        return 0;
    }
    return 1;
}

static const char *empty_to_null(const char *v)
{
    return v && *v ? v : NULL;
}

static const char *register_language(natomm_ctx *c, int *bad)
{
    const char *v = natomm_flow_field(c, "language");
    const char *lang;

    *bad = 0;
    if (!v || !*v)
        return natomm_flow_accept_language(c->r);
    lang = natomm_flow_known_language(v, strlen(v));
    if (!lang) {
        *bad = 1;
        natomm_send_error(c->r, HTTP_BAD_REQUEST, "invalid_request",
                          "The field 'language' must be 'en' or 'fr'.");
    }
    return lang;
}

/* The writes of a registration, inside the caller's transaction. acct is
 * the existing row for the address, or NULL. */
static int register_write(natomm_ctx *c, const char **acct, const char *email,
                          const char *key, const char *hash, const char *lang,
                          const char **account_id, const char **event)
{
    apr_pool_t *p = c->r->pool;
    const char *bucket = natomm_throttle_bucket(p, "resend:register", key);
    natomm_limit_t lim = natomm_flow_resend_limit(c);
    const char *name = empty_to_null(natomm_flow_field(c, "name"));
    const char *org = empty_to_null(natomm_flow_field(c, "organisation"));
    apr_int64_t wait = natomm_throttle_check(c->db, p, bucket, &lim);

    if (wait < 0)
        return -1;
    *event = "register_throttled";
    *account_id = acct ? acct[A_ID] : NULL;
    if (acct && acct[A_VERIFIED]) {
        /* the owner hears of it; the requester learns nothing */
        if (wait > 0)
            return 0;
        *event = "register_existing";
        natomm_throttle_record(c->db, p, bucket);
        return natomm_mail_queue(c->db, c->r, acct[A_EMAIL], acct[A_LANG],
                                 "already_registered", apr_table_make(p, 1), NULL);
    }
    if (acct) {
        if (wait > 0)
            return 0;            /* nothing changes inside the cooldown */
        /* the new password rides with the new code, not on the account:
         * entering a code applies the password of the registration that
         * sent it, and the newest code voids the older ones */
        natomm_db_exec(c->db, "natomm_acct_update_pending", (const char *[]){
            email, name, org, lang, acct[A_ID]});
        *event = "register_again";
    }
    else {
        *account_id = natomm_random_id(p);
        natomm_db_exec(c->db, "natomm_acct_insert", (const char *[]){
            *account_id, email, key, hash, name, org, lang,
            natomm_db_num(p, natomm_now())});
        *event = "register";
        if (wait > 0)
            return 0;            /* the address asked too often: code later */
    }
    natomm_throttle_record(c->db, p, bucket);
    return natomm_flow_issue_code(c, *account_id, "register", email, lang, hash);
}

int natomm_flow_register(natomm_ctx *c)
{
    const char *email, *pw, *lang, *hash, *key, *account_id = NULL, *event;
    const char *acct[A_NCOLS];
    natomm_json *j;
    int bad, n;

    if (!(email = natomm_flow_required_email(c)) || !(pw = natomm_flow_required(c, "password"))
        || !profile_ok(c, "name") || !profile_ok(c, "organisation"))
        return OK;
    lang = register_language(c, &bad);
    if (bad || natomm_flow_weak_password(c, pw, email)
        || natomm_flow_ip_limited(c, NATOMM_IP_REGISTRATIONS))
        return OK;
    /* hashed before the address is looked up: every answer costs the same */
    if (!(hash = natomm_flow_hash_password(c, pw)))
        return natomm_flow_unavailable(c->r);
    key = natomm_email_key(c->r->pool, email);
    if ((n = natomm_flow_begin_account(c, key, acct)) < 0)
        return natomm_flow_unavailable(c->r);
    if (register_write(c, n ? acct : NULL, email, key, hash, lang, &account_id,
                       &event) < 0 || natomm_db_commit(c->db)) {
        natomm_db_rollback(c->db);
        return natomm_flow_unavailable(c->r);
    }
    natomm_flow_log(c, event, account_id);
    j = natomm_json_object(c->r->pool);
    natomm_json_str(j, "status", "code_sent");
    natomm_json_int(j, "expires_in", c->conf->register_code_ttl);
    return natomm_send_json(c->r, HTTP_ACCEPTED, natomm_json_finish(j));
}

int natomm_flow_verify(natomm_ctx *c)
{
    const char *email, *typed, *key, *acct[A_NCOLS], *payload = NULL;
    apr_int64_t left = 0;
    natomm_code_result res;
    int n;

    if (!(email = natomm_flow_required_email(c))
        || !(typed = natomm_flow_required(c, "code"))
        || natomm_flow_ip_limited(c, NATOMM_IP_CODE_ENTRIES))
        return OK;
    key = natomm_email_key(c->r->pool, email);
    if ((n = natomm_flow_begin_account(c, key, acct)) < 0)
        return natomm_flow_unavailable(c->r);
    /* a verified account has no registration code left to enter */
    res = natomm_flow_check_code(c, n && !acct[A_VERIFIED] ? acct : NULL,
                                 "register", key, typed, &left, &payload);
    if (res != NATOMM_CODE_OK)
        return natomm_flow_code_failed(c, res, left);
    natomm_db_exec(c->db, "natomm_acct_verify", (const char *[]){
        natomm_db_num(c->r->pool, natomm_now()), payload ? payload : acct[A_HASH],
        acct[A_ID]});
    natomm_db_exec(c->db, "natomm_code_delete", (const char *[]){acct[A_ID],
                                                                 "register"});
    if (natomm_session_create(c->db, c->r, acct[A_ID], 0)
        || natomm_db_commit(c->db)) {
        natomm_db_rollback(c->db);
        apr_table_unset(c->r->err_headers_out, "Set-Cookie");
        return natomm_flow_unavailable(c->r);
    }
    natomm_flow_log(c, "verify", acct[A_ID]);
    return natomm_flow_status(c->r, HTTP_OK, "verified");
}

/* The password a new registration code must carry: that of the newest
 * pending code, else the account's. */
static const char *pending_password(natomm_ctx *c, const char **acct)
{
    const char *row[5];
    if (natomm_db_row(c->db, "natomm_code_latest", (const char *[]){acct[A_ID],
            "register"}, row, 5) == 1 && row[4])
        return row[4];
    return acct[A_HASH];
}

/* ---- POST resend ----------------------------------------------------- */

int natomm_flow_resend(natomm_ctx *c)
{
    apr_pool_t *p = c->r->pool;
    const char *email, *purpose, *key, *bucket, *acct[A_NCOLS];
    natomm_limit_t lim = natomm_flow_resend_limit(c);
    apr_int64_t wait;
    int n, rv = 0;

    if (!(email = natomm_flow_required_email(c)) || !(purpose = natomm_flow_required(c, "purpose")))
        return OK;
    if (strcmp(purpose, "register") && strcmp(purpose, "reset"))
        return natomm_send_error(c->r, HTTP_BAD_REQUEST, "invalid_request",
                                 "The field 'purpose' must be 'register' or 'reset'.");
    key = natomm_email_key(p, email);
    bucket = natomm_throttle_bucket(p, apr_pstrcat(p, "resend:", purpose, NULL), key);
    if ((n = natomm_flow_begin_account(c, key, acct)) < 0)
        return natomm_flow_unavailable(c->r);
    /* counted per address whether or not it has an account */
    if ((wait = natomm_throttle_check(c->db, p, bucket, &lim)) != 0) {
        natomm_db_rollback(c->db);
        return wait < 0 ? natomm_flow_unavailable(c->r) : natomm_flow_rate_limited(c->r, wait);
    }
    natomm_throttle_record(c->db, p, bucket);
    if (n && !strcmp(purpose, "register") && !acct[A_VERIFIED])
        rv = natomm_flow_issue_code(c, acct[A_ID], "register", acct[A_EMAIL],
                                    acct[A_LANG], pending_password(c, acct));
    else if (n && !strcmp(purpose, "reset") && acct[A_VERIFIED])
        rv = natomm_flow_issue_code(c, acct[A_ID], "reset", acct[A_EMAIL],
                                    acct[A_LANG], NULL);
    if (rv || natomm_db_commit(c->db)) {
        natomm_db_rollback(c->db);
        return natomm_flow_unavailable(c->r);
    }
    natomm_flow_log(c, apr_pstrcat(p, "resend_", purpose, NULL), n ? acct[A_ID] : NULL);
    return natomm_flow_status(c->r, HTTP_ACCEPTED, "code_sent");
}

/* Right password, address not verified: a new code (within the resend
 * limits) and 403. */
static int login_unverified(natomm_ctx *c, const char **acct, const char *key)
{
    apr_pool_t *p = c->r->pool;
    const char *bucket = natomm_throttle_bucket(p, "resend:register", key);
    natomm_limit_t lim = natomm_flow_resend_limit(c);
    natomm_json *j;
    apr_int64_t wait;
    int rv = 0;

    if (natomm_db_begin(c->db))
        return natomm_flow_unavailable(c->r);
    wait = natomm_throttle_check(c->db, p, bucket, &lim);
    if (wait == 0) {
        natomm_throttle_record(c->db, p, bucket);
        /* this code carries the password just proven */
        rv = natomm_flow_issue_code(c, acct[A_ID], "register", acct[A_EMAIL],
                                    acct[A_LANG], acct[A_HASH]);
    }
    if (wait < 0 || rv || natomm_db_commit(c->db)) {
        natomm_db_rollback(c->db);
        return natomm_flow_unavailable(c->r);
    }
    natomm_flow_log(c, "login_unverified", acct[A_ID]);
    j = natomm_error_json(p, "verification_required", wait == 0
        ? "Confirm your e-mail address first: we have sent you a new code."
        : "Confirm your e-mail address first with the code from our most "
          "recent e-mail.");
    natomm_json_bool(j, "code_sent", wait == 0);
    return natomm_send_json(c->r, HTTP_FORBIDDEN, natomm_json_finish(j));
}

static int login_ok(natomm_ctx *c, const char **acct, const char *pw)
{
    apr_pool_t *p = c->r->pool;
    natomm_hash_params_t hp = natomm_flow_hash_params(c->conf);
    natomm_json *j;

    if (natomm_db_begin(c->db))
        return natomm_flow_unavailable(c->r);
    if (natomm_password_needs_rehash(acct[A_HASH], &hp)) {
        const char *h = natomm_flow_hash_password(c, pw);
        if (h)
            natomm_db_exec(c->db, "natomm_acct_set_password",
                           (const char *[]){h, acct[A_ID]});
    }
    if (atoi(acct[A_FAILS]))
        natomm_db_exec(c->db, "natomm_acct_login_ok", (const char *[]){acct[A_ID]});
    if (natomm_session_create(c->db, c->r, acct[A_ID],
                              natomm_flow_truthy(natomm_flow_field(c, "remember")))
        || natomm_db_commit(c->db)) {
        natomm_db_rollback(c->db);
        apr_table_unset(c->r->err_headers_out, "Set-Cookie");
        return natomm_flow_unavailable(c->r);
    }
    natomm_flow_log(c, "login", acct[A_ID]);
    j = natomm_json_object(p);
    natomm_json_str(j, "status", "logged_in");
    natomm_json_str(j, "return", natomm_return_url(p, natomm_flow_field(c, "return")));
    return natomm_send_json(c->r, HTTP_OK, natomm_json_finish(j));
}

int natomm_flow_login(natomm_ctx *c)
{
    apr_pool_t *p = c->r->pool;
    const char *email, *pw, *key, *acct[A_NCOLS];
    int n, ok, locked;

    if (!(email = natomm_flow_required_email(c))
        || !(pw = natomm_flow_required(c, "password")))
        return OK;
    key = natomm_email_key(p, email);
    if (!(c->db = natomm_db_acquire(c->r)))
        return natomm_flow_unavailable(c->r);
    if (natomm_flow_login_limited(c))
        return OK;
    n = natomm_db_row(c->db, "natomm_acct_by_email", (const char *[]){key},
                      acct, A_NCOLS);
    if (n < 0)
        return natomm_flow_unavailable(c->r);
    /* always one hash check, against a dummy for an unknown address, so
     * unknown, wrong and locked all take the same time */
    ok = natomm_flow_check_password(n ? acct[A_HASH] : NULL, pw);
    locked = n && apr_atoi64(acct[A_LOCKED]) > natomm_now();
    if (!ok)
        return natomm_flow_password_failed(c, "login_failed", n ? acct[A_ID] : NULL,
                                           n ? acct[A_FAILS] : NULL);
    if (locked) {
        natomm_flow_log(c, "login_locked", acct[A_ID]);
        return natomm_flow_invalid_credentials(c->r);
    }
    if (!acct[A_VERIFIED])
        return login_unverified(c, acct, key);
    return login_ok(c, acct, pw);
}

/* ---- POST logout ----------------------------------------------------- */

int natomm_flow_logout(natomm_ctx *c)
{
    natomm_session_info info;
    int had;

    if (!(c->db = natomm_db_acquire(c->r)))
        return natomm_flow_unavailable(c->r);
    had = natomm_session_current(c->db, c->r, &info);
    if (natomm_session_end(c->db, c->r))
        return natomm_flow_unavailable(c->r);
    if (had == 1) {
        /* a gate check racing the logout may have cached the session again */
        natomm_session_revoke_cached(c->r, info.account_id);
        natomm_flow_log(c, "logout", info.account_id);
    }
    return natomm_flow_status(c->r, HTTP_OK, "logged_out");
}
