/* POST register, verify and resend (see natomm_handle.h).
 *
 * Every endpoint validates all of its input before it touches the
 * database, writes inside one transaction (the outbox row with the code it
 * carries), and answers the same for known and unknown addresses.
 */
#include "natomm_handle.h"
#include <string.h>
#include "http_protocol.h"
#include "apr_strings.h"
#include "natomm_clock.h"
#include "natomm_crypto.h"
#include "natomm_json.h"
#include "natomm_lang.h"
#include "natomm_mail.h"
#include "natomm_policy.h"
#include "natomm_utf8.h"
#include "natomm_stats.h"

#define PROFILE_MAX 200            /* code points in name / organisation */

static int profile_ok(natomm_ctx *c, const char *name)
{
    const char *v = natomm_ctx_field(c, name);
    if (v && natomm_utf8_length(v) > PROFILE_MAX) {
        natomm_reply_bad_field(c->r, name);
        return 1;
    }
    return 0;
}

static const char *empty_to_null(const char *v)
{
    return v && *v ? v : NULL;
}

/* The language of a registration: the field, else Accept-Language.
 * 0 and *lang, or answered 400. */
static int register_language(natomm_ctx *c, const char **lang)
{
    const char *v = natomm_ctx_field(c, "language");

    if (!v || !*v) {
        *lang = natomm_lang_accept(apr_table_get(c->r->headers_in, "Accept-Language"));
        return 0;
    }
    if (!(*lang = natomm_lang_known(v, strlen(v)))) {
        natomm_reply_bad_field(c->r, "language");
        return 1;
    }
    return 0;
}

typedef struct {
    const char *email, *key, *hash, *lang;
    const char *account_id, *event;      /* filled by register_write */
} registration_t;

/* Every registration of an address, whether a code went or not: a second
 * one within a code's lifetime makes its verification ask for the
 * password, since either code may carry someone else's. */
static const char *registrations(natomm_ctx *c, const char *account_id)
{
    return natomm_db_bucket(c->r->pool, "registrations", account_id);
}

/* An address that already has a verified account: its owner hears of it;
 * the requester learns nothing. */
static int mail_owner(natomm_ctx *c, const char **acct, const char *key)
{
    natomm_mail_t mail = {acct[ACCT_EMAIL], acct[ACCT_LANG], "already_registered",
                          apr_table_make(c->r->pool, 1), NULL};

    if (natomm_limits_resend_spend(c, "register", key))
        return -1;
    return natomm_mail_queue(c->db, c->r->server, c->r->pool, &mail);
}

/* The writes of a registration, inside the caller's transaction, which
 * holds the address's lock. acct is the existing row for the address, or
 * NULL. A registration gets a code of its own, carrying its password,
 * whenever this client's budget for the address allows. */
static int register_write(natomm_ctx *c, const char **acct, registration_t *reg)
{
    apr_pool_t *p = c->r->pool;
    const char *name = empty_to_null(natomm_ctx_field(c, "name"));
    const char *org = empty_to_null(natomm_ctx_field(c, "organisation"));
    apr_int64_t wait = natomm_limits_resend_wait(c, "register", reg->key);
    natomm_code_issue_t code = {NULL, "register", reg->email, reg->lang, reg->hash};

    if (wait < 0)
        return -1;
    reg->event = "register_throttled";
    reg->account_id = acct ? acct[ACCT_ID] : NULL;
    if (acct && acct[ACCT_VERIFIED]) {
        if (wait > 0)
            return 0;
        reg->event = "register_existing";
        return mail_owner(c, acct, reg->key);
    }
    if (acct) {
        /* the new password rides with the new code, not on the account:
         * entering a code applies the password of the registration that
         * sent it */
        natomm_db_exec(c->db, NATOMM_SQL_ACCT_UPDATE_PENDING, (const char *[]){
            reg->email, name, org, reg->lang, acct[ACCT_ID]});
        reg->event = wait ? "register_throttled" : "register_again";
    }
    else {
        reg->account_id = natomm_random_id(p);
        natomm_db_exec(c->db, NATOMM_SQL_ACCT_INSERT, (const char *[]){
            reg->account_id, reg->email, reg->key, reg->hash, name, org, reg->lang,
            natomm_db_num(p, natomm_now())});
        reg->event = "register";
    }
    if (natomm_db_throttle_add(c->db, registrations(c, reg->account_id), NULL))
        return -1;
    if (wait > 0)
        return 0;                /* this client asked too often: code later */
    code.account = reg->account_id;
    return natomm_limits_resend_spend(c, "register", reg->key)
        || natomm_codes_issue(c, &code) ? -1 : 0;
}

int natomm_handle_register(natomm_ctx *c)
{
    registration_t reg = {NULL, NULL, NULL, NULL, NULL, NULL};
    const char *pw, *acct[ACCT_NCOLS];
    natomm_json *j;
    int found, busy;

    if (natomm_ctx_email(c, &reg.email) || natomm_ctx_required(c, "password", &pw)
        || profile_ok(c, "name") || profile_ok(c, "organisation")
        || register_language(c, &reg.lang) || natomm_cred_strong(c, pw, reg.email)
        || natomm_limits_ip(c, NATOMM_IP_REGISTRATIONS))
        return OK;
    /* hashed before the address is looked up: every answer costs the same */
    if (!(reg.hash = natomm_cred_hash(c, pw, &busy)))
        return natomm_cred_answer_unavailable(c, busy);
    reg.key = natomm_email_key(c->r->pool, reg.email);
    if (natomm_ctx_begin_account(c, reg.key, acct, &found))
        return OK;
    if (register_write(c, found ? acct : NULL, &reg) < 0 || natomm_db_commit(c->db)) {
        natomm_db_rollback(c->db);
        return natomm_reply_error(c->r, NATOMM_E_STORAGE_UNAVAILABLE);
    }
    natomm_ctx_log(c, reg.event, reg.account_id);
    j = natomm_json_object(c->r->pool);
    natomm_json_str(j, "status", "code_sent");
    natomm_json_int(j, "expires_in", c->conf->register_code_ttl);
    return natomm_reply_json(c->r, HTTP_ACCEPTED, j);
}

/* When a pending account was registered more than once, a code may carry
 * a password its entrant did not choose (an
 * attacker may have registered the address first, or after): then the
 * verification names the password too, and it must be the one that rode
 * with that code. 0 to go on, else answered. */
static int check_chooser(natomm_ctx *c, const natomm_code_entry_t *e)
{
    natomm_limit_seen_t seen;
    const char *pw = natomm_ctx_field(c, "password");
    int busy = 0;

    /* every registration of this pending account counts: a code sent
     * later (a resend, an unverified login) may still carry the first
     * registrant's password */
    if (natomm_db_throttle_seen(c->db, registrations(c, e->acct[ACCT_ID]), 0, &seen)) {
        natomm_db_rollback(c->db);
        return natomm_ctx_fail(c, NATOMM_E_STORAGE_UNAVAILABLE);
    }
    if (seen.count <= 1 || !e->payload)
        return 0;
    if (pw && *pw && natomm_cred_check(c, e->payload, pw, &busy))
        return 0;
    /* not a wrong code: nothing is counted, the code stays as it was */
    natomm_db_rollback(c->db);
    if (busy) {
        natomm_cred_answer_unavailable(c, busy);
        return 1;
    }
    natomm_reply_bad_field(c->r, "password");
    return 1;
}

int natomm_handle_verify(natomm_ctx *c)
{
    natomm_code_entry_t e;
    const char **acct = e.acct;

    if (natomm_codes_enter(c, "register", &e) || check_chooser(c, &e))
        return OK;
    natomm_db_exec(c->db, NATOMM_SQL_ACCT_VERIFY, (const char *[]){
        natomm_db_num(c->r->pool, natomm_now()),
        e.payload ? e.payload : acct[ACCT_HASH], acct[ACCT_ID]});
    natomm_db_exec(c->db, NATOMM_SQL_CODE_DELETE, (const char *[]){acct[ACCT_ID],
                                                                   "register"});
    if (natomm_session_create(c->db, c->r, acct[ACCT_ID], 0)
        || natomm_db_commit(c->db)) {
        natomm_db_rollback(c->db);
        natomm_session_unset_cookie(c->r);
        return natomm_reply_error(c->r, NATOMM_E_STORAGE_UNAVAILABLE);
    }
    natomm_ctx_log(c, "verify", acct[ACCT_ID]);
    return natomm_reply_status(c->r, HTTP_OK, "verified");
}

int natomm_handle_resend(natomm_ctx *c)
{
    apr_pool_t *p = c->r->pool;
    const char *email, *purpose, *key, *acct[ACCT_NCOLS];
    apr_int64_t wait;
    int found, reset;

    if (natomm_ctx_email(c, &email) || natomm_ctx_required(c, "purpose", &purpose))
        return OK;
    if (strcmp(purpose, "register") && strcmp(purpose, "reset"))
        return natomm_reply_bad_field(c->r, "purpose");
    reset = !strcmp(purpose, "reset");
    /* a resend is a reset request or a registration for the client's limit */
    if (natomm_limits_ip(c, reset ? NATOMM_IP_RESET_REQUESTS : NATOMM_IP_REGISTRATIONS))
        return OK;
    key = natomm_email_key(p, email);
    if (natomm_ctx_begin_account(c, key, acct, &found))
        return OK;
    /* counted per address whether or not it has an account */
    if ((wait = natomm_limits_resend_wait(c, purpose, key)) != 0) {
        natomm_db_rollback(c->db);
        if (wait < 0)
            return natomm_reply_error(c->r, NATOMM_E_STORAGE_UNAVAILABLE);
        natomm_stats_count_refusal(NATOMM_REFUSED_RESEND);
        return natomm_reply_rate_limited(c->r, wait);
    }
    if (natomm_limits_resend_spend(c, purpose, key) || natomm_codes_resend(c, acct, found, purpose)
        || natomm_db_commit(c->db)) {
        natomm_db_rollback(c->db);
        return natomm_reply_error(c->r, NATOMM_E_STORAGE_UNAVAILABLE);
    }
    natomm_ctx_log(c, apr_pstrcat(p, "resend_", purpose, NULL),
                   found ? acct[ACCT_ID] : NULL);
    return natomm_reply_status(c->r, HTTP_ACCEPTED, "code_sent");
}
