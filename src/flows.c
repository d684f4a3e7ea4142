/* The account endpoints (see natomm_flows.h and SPEC §4).
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
#include "apr_thread_cond.h"
#include "apr_thread_mutex.h"

#include "natomm.h"
#include "natomm_flows.h"
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

typedef struct {
    request_rec *r;
    natomm_server_conf *conf;
    apr_table_t *form;
    natomm_db *db;
} ctx_t;

/* columns of natomm_acct_by_email */
enum { A_ID, A_EMAIL, A_HASH, A_VERIFIED, A_NAME, A_LANG, A_NEWS, A_FAILS,
       A_LOCKED, A_NCOLS };

static const natomm_dict_t *dictionary;
static apr_thread_mutex_t *hash_lock;
static apr_thread_cond_t *hash_free;
static int hash_slots;
static const char *dummy_hash;

/* ---- password hashing with a bound on concurrency -------------------- */

static natomm_hash_params_t hash_params(const natomm_server_conf *conf)
{
    natomm_hash_params_t hp = {conf->argon2.t_cost, conf->argon2.m_cost,
                               conf->argon2.parallelism};
    return hp;
}

/* Memory is m_cost per hash: NatommHashConcurrency bounds it per process. */
static void slot_take(void)
{
    if (!hash_lock)
        return;
    apr_thread_mutex_lock(hash_lock);
    while (hash_slots <= 0)
        apr_thread_cond_wait(hash_free, hash_lock);
    hash_slots--;
    apr_thread_mutex_unlock(hash_lock);
}

static void slot_give(void)
{
    if (!hash_lock)
        return;
    apr_thread_mutex_lock(hash_lock);
    hash_slots++;
    apr_thread_cond_signal(hash_free);
    apr_thread_mutex_unlock(hash_lock);
}

static char *hash_password(ctx_t *c, const char *pw)
{
    natomm_hash_params_t hp = hash_params(c->conf);
    char *h;
    slot_take();
    h = natomm_password_hash(c->r->pool, &hp, pw);
    slot_give();
    return h;
}

static int check_password(const char *phc, const char *pw)
{
    int ok;
    slot_take();
    ok = natomm_password_verify(phc ? phc : dummy_hash, pw);
    slot_give();
    return phc ? ok : 0;
}

void natomm_flows_child_init(apr_pool_t *p, server_rec *s)
{
    natomm_server_conf *conf = ap_get_module_config(s->module_config,
                                                    &natomm_module);
    natomm_hash_params_t hp = hash_params(conf);
    char *random = natomm_token(p);

    hash_slots = conf->hash_concurrency;
    apr_thread_mutex_create(&hash_lock, APR_THREAD_MUTEX_DEFAULT, p);
    apr_thread_cond_create(&hash_free, p);
    dummy_hash = random ? natomm_password_hash(p, &hp, random) : NULL;
}

void natomm_flows_set_dictionary(const natomm_dict_t *dict)
{
    dictionary = dict;
}

/* ---- answers --------------------------------------------------------- */

static int status_json(request_rec *r, int http, const char *status)
{
    natomm_json *j = natomm_json_object(r->pool);
    natomm_json_str(j, "status", status);
    return natomm_send_json(r, http, natomm_json_finish(j));
}

static int unavailable(request_rec *r)
{
    return natomm_send_error(r, HTTP_SERVICE_UNAVAILABLE, "storage_unavailable",
                             "The account database cannot be reached; nothing "
                             "was changed. Try again shortly.");
}

static int rate_limited(request_rec *r, apr_int64_t wait)
{
    natomm_json *j = natomm_error_json(r->pool, "rate_limited",
                                       "Too many requests; wait before trying again.");
    natomm_json_int(j, "retry_after", wait);
    apr_table_setn(r->err_headers_out, "Retry-After", natomm_db_num(r->pool, wait));
    apr_table_setn(r->headers_out, "Retry-After", natomm_db_num(r->pool, wait));
    return natomm_send_json(r, HTTP_TOO_MANY_REQUESTS, natomm_json_finish(j));
}

static int invalid_credentials(request_rec *r)
{
    return natomm_send_error(r, HTTP_UNAUTHORIZED, "invalid_credentials",
                             "The e-mail address or the password is wrong.");
}

/* One line per account event: time (the log's), event, account, client. */
static void log_event(ctx_t *c, const char *event, const char *account_id)
{
    ap_log_rerror(APLOG_MARK, APLOG_NOTICE, 0, c->r,
                  "NATOMM: event=%s account=%s ip=%s", event,
                  account_id ? account_id : "-",
                  natomm_log_safe(c->r->pool, natomm_client_ip(c->r)));
}

/* ---- fields ---------------------------------------------------------- */

static const char *field(ctx_t *c, const char *name)
{
    return apr_table_get(c->form, name);
}

/* The value of a required field, or NULL after answering 400. */
static const char *required(ctx_t *c, const char *name)
{
    const char *v = field(c, name);
    if (!v || !*v) {
        natomm_send_error(c->r, HTTP_BAD_REQUEST, "invalid_request",
                          apr_psprintf(c->r->pool, "The field '%s' is required.",
                                       name));
        return NULL;
    }
    return v;
}

static const char *required_email(ctx_t *c)
{
    const char *email = required(c, "email");
    if (email && !natomm_email_valid(email)) {
        natomm_send_error(c->r, HTTP_BAD_REQUEST, "invalid_email",
                          "This is not a valid e-mail address.");
        return NULL;
    }
    return email;
}

/* "en" or "fr" from a language tag, else NULL. */
static const char *known_language(const char *tag, size_t n)
{
    if (n >= 2 && (n == 2 || tag[2] == '-' || tag[2] == '_')) {
        if (!strncasecmp(tag, "en", 2))
            return "en";
        if (!strncasecmp(tag, "fr", 2))
            return "fr";
    }
    return NULL;
}

/* The first of English or French with the highest q in Accept-Language. */
static const char *accept_language(request_rec *r)
{
    const char *h = apr_table_get(r->headers_in, "Accept-Language");
    const char *best = "en";
    double best_q = -1;

    while (h && *h) {
        size_t n = strcspn(h, ",");
        size_t tag = strcspn(h, ";,");
        const char *q = memchr(h, ';', n), *lang;
        double qv = 1.0;
        while (*h == ' ')
            h++, n--, tag--;
        if (q && (q = strstr(apr_pstrmemdup(r->pool, q, h + n - q), "q=")))
            qv = atof(q + 2);
        lang = known_language(h, tag);
        if (lang && qv > best_q && qv > 0) {
            best = lang;
            best_q = qv;
        }
        h += n;
        if (*h == ',')
            h++;
    }
    return best;
}

/* ---- codes ----------------------------------------------------------- */

static const char *code_mac(ctx_t *c, const char *purpose, const char *account,
                            const char *code)
{
    return natomm_hmac_hex(c->r->pool, natomm_db_code_key(c->db),
                           apr_pstrcat(c->r->pool, purpose, "|", account, "|",
                                       code, NULL));
}

static apr_int64_t code_ttl(ctx_t *c, const char *purpose)
{
    return strcmp(purpose, "reset") ? c->conf->register_code_ttl
                                    : c->conf->reset_code_ttl;
}

static const char *expiry_text(apr_pool_t *p, apr_int64_t when)
{
    apr_time_exp_t e;
    char buf[64];
    apr_size_t n;

    apr_time_exp_gmt(&e, apr_time_from_sec(when));
    apr_strftime(buf, &n, sizeof(buf), "%Y-%m-%d %H:%M UTC", &e);
    return apr_pstrdup(p, buf);
}

/* A new code for the account that voids the older ones, queued by mail in
 * the caller's transaction. */
static int issue_code(ctx_t *c, const char *account, const char *purpose,
                      const char *email, const char *lang)
{
    apr_pool_t *p = c->r->pool;
    apr_int64_t now = natomm_now(), ttl = code_ttl(c, purpose);
    const char *code = natomm_code_generate(p, &c->conf->code);
    apr_table_t *vars = apr_table_make(p, 4);

    if (!code)
        return -1;
    natomm_db_exec(c->db, "natomm_code_delete", (const char *[]){account, purpose});
    natomm_db_exec(c->db, "natomm_code_insert", (const char *[]){
        natomm_random_id(p), account, purpose, code_mac(c, purpose, account, code),
        natomm_db_num(p, c->conf->code_attempts), natomm_db_num(p, now),
        natomm_db_num(p, now + ttl)});
    apr_table_setn(vars, "code", natomm_code_display(p, code));
    apr_table_setn(vars, "minutes", natomm_db_num(p, (ttl + 59) / 60));
    apr_table_setn(vars, "expires", expiry_text(p, now + ttl));
    return natomm_mail_queue(c->db, c->r, email, lang,
                             strcmp(purpose, "reset") ? "register_code" : "reset_code",
                             vars);
}

static natomm_limit_t resend_limit(ctx_t *c)
{
    natomm_limit_t lim = {c->conf->resend_per_hour, 3600, c->conf->resend_interval};
    return lim;
}

/* ---- GET session ----------------------------------------------------- */

static int flow_session(ctx_t *c)
{
    natomm_session_info info;
    natomm_json *j = natomm_json_object(c->r->pool);
    int rv = natomm_session_current(c->db, c->r, &info);

    if (rv < 0)
        return unavailable(c->r);
    natomm_json_bool(j, "authenticated", rv == 1);
    if (rv == 1) {
        natomm_json_str(j, "email", info.email);
        natomm_json_str(j, "name", info.name);
        natomm_json_bool(j, "newsletter", info.newsletter);
    }
    return natomm_send_json(c->r, HTTP_OK, natomm_json_finish(j));
}

/* ---- POST register --------------------------------------------------- */

static int profile_ok(ctx_t *c, const char *name)
{
    const char *v = field(c, name);
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

static int weak_password(ctx_t *c, const char *pw, const char *email)
{
    natomm_password_rules_t rules = {c->conf->pw_min, c->conf->pw_max,
                                     c->conf->site_name, email, dictionary};
    apr_array_header_t *failed = natomm_password_check(c->r->pool, &rules, pw);
    natomm_json *j;

    if (failed->nelts == 0)
        return 0;
    j = natomm_error_json(c->r->pool, "weak_password",
                          "The password does not meet the rules.");
    natomm_json_strs(j, "failed", failed);
    natomm_send_json(c->r, HTTP_BAD_REQUEST, natomm_json_finish(j));
    return 1;
}

/* The registration's language: the field, else the browser's. */
static const char *register_language(ctx_t *c, int *bad)
{
    const char *v = field(c, "language");
    const char *lang;

    *bad = 0;
    if (!v || !*v)
        return accept_language(c->r);
    lang = known_language(v, strlen(v));
    if (!lang) {
        *bad = 1;
        natomm_send_error(c->r, HTTP_BAD_REQUEST, "invalid_request",
                          "The field 'language' must be 'en' or 'fr'.");
    }
    return lang;
}

/* The writes of a registration, inside the caller's transaction. acct is
 * the existing row for the address, or NULL. */
static int register_write(ctx_t *c, const char **acct, const char *email,
                          const char *key, const char *hash, const char *lang,
                          const char **account_id, const char **event)
{
    apr_pool_t *p = c->r->pool;
    const char *bucket = natomm_throttle_bucket(p, "resend:register", key);
    natomm_limit_t lim = resend_limit(c);
    const char *name = empty_to_null(field(c, "name"));
    const char *org = empty_to_null(field(c, "organisation"));
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
                                 "already_registered", apr_table_make(p, 1));
    }
    if (acct) {
        if (wait > 0)
            return 0;            /* nothing changes inside the cooldown */
        natomm_db_exec(c->db, "natomm_acct_update_pending", (const char *[]){
            email, hash, name, org, lang, acct[A_ID]});
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
    return issue_code(c, *account_id, "register", email, lang);
}

/* Looks the address up inside a new transaction: 1 found (acct filled),
 * 0 not found, -1 database failure (nothing open). */
static int begin_with_account(ctx_t *c, const char *key, const char **acct)
{
    int n;

    if (!c->db && !(c->db = natomm_db_acquire(c->r)))
        return -1;
    if (natomm_db_begin(c->db))
        return -1;
    n = natomm_db_row(c->db, "natomm_acct_by_email", (const char *[]){key},
                      acct, A_NCOLS);
    if (n < 0)
        natomm_db_rollback(c->db);
    return n;
}

static int flow_register(ctx_t *c)
{
    const char *email, *pw, *lang, *hash, *key, *account_id = NULL, *event;
    const char *acct[A_NCOLS];
    natomm_json *j;
    int bad, n;

    if (!(email = required_email(c)) || !(pw = required(c, "password"))
        || !profile_ok(c, "name") || !profile_ok(c, "organisation"))
        return OK;
    lang = register_language(c, &bad);
    if (bad || weak_password(c, pw, email))
        return OK;
    /* hashed before the address is looked up: every answer costs the same */
    if (!(hash = hash_password(c, pw)))
        return unavailable(c->r);
    key = natomm_email_key(c->r->pool, email);
    if ((n = begin_with_account(c, key, acct)) < 0)
        return unavailable(c->r);
    if (register_write(c, n ? acct : NULL, email, key, hash, lang, &account_id,
                       &event) < 0 || natomm_db_commit(c->db)) {
        natomm_db_rollback(c->db);
        return unavailable(c->r);
    }
    log_event(c, event, account_id);
    j = natomm_json_object(c->r->pool);
    natomm_json_str(j, "status", "code_sent");
    natomm_json_int(j, "expires_in", c->conf->register_code_ttl);
    return natomm_send_json(c->r, HTTP_ACCEPTED, natomm_json_finish(j));
}

/* ---- POST verify ----------------------------------------------------- */

static int invalid_code(ctx_t *c, apr_int64_t left)
{
    natomm_json *j = natomm_error_json(c->r->pool, "invalid_code",
                                       "The code is wrong.");
    natomm_json_int(j, "attempts_left", left > 0 ? left : 0);
    return natomm_send_json(c->r, HTTP_BAD_REQUEST, natomm_json_finish(j));
}

/* A try against an address without a code counts like a wrong code, so
 * attempts_left does not tell whether the address has an account. */
static apr_int64_t phantom_attempt(ctx_t *c, const char *purpose, const char *key)
{
    apr_pool_t *p = c->r->pool;
    const char *bucket = natomm_throttle_bucket(p, apr_pstrcat(p, "code:",
                                                purpose, NULL), key);
    const char *cols[3];

    natomm_throttle_record(c->db, p, bucket);
    if (natomm_db_row(c->db, "natomm_throttle_count", (const char *[]){bucket,
            natomm_db_num(p, natomm_now() - code_ttl(c, purpose))}, cols, 3) != 1)
        return 0;
    return c->conf->code_attempts - atoi(cols[0]);
}

typedef enum { CODE_OK, CODE_WRONG, CODE_EXPIRED, CODE_ERROR } code_result;

/* Checks code against the account's newest code for purpose; a wrong try
 * uses up one attempt. *left gets the attempts that remain. */
static code_result check_code(ctx_t *c, const char **acct, const char *purpose,
                              const char *key, const char *typed, apr_int64_t *left)
{
    apr_pool_t *p = c->r->pool;
    const char *row[4], *norm;
    int n = 0;

    if (acct)
        n = natomm_db_row(c->db, "natomm_code_latest", (const char *[]){
            acct[A_ID], purpose}, row, 4);
    if (n < 0)
        return CODE_ERROR;
    if (n == 0) {
        *left = phantom_attempt(c, purpose, key);
        return CODE_WRONG;
    }
    if (natomm_now() >= apr_atoi64(row[3]))
        return CODE_EXPIRED;
    *left = atoi(row[2]);
    if (*left <= 0)
        return CODE_WRONG;      /* void after too many wrong tries */
    norm = natomm_code_normalise(p, &c->conf->code, typed);
    if (norm && natomm_secret_equal(code_mac(c, purpose, acct[A_ID], norm), row[1]))
        return CODE_OK;
    natomm_db_exec(c->db, "natomm_code_fail", (const char *[]){row[0]});
    *left -= 1;
    return CODE_WRONG;
}

/* Answers a code that did not pass; commits the used-up attempt. */
static int code_failed(ctx_t *c, code_result res, apr_int64_t left)
{
    if (res == CODE_ERROR || natomm_db_commit(c->db))
        return unavailable(c->r);
    if (res == CODE_EXPIRED)
        return natomm_send_error(c->r, HTTP_BAD_REQUEST, "code_expired",
                                 "The code has expired; ask for a new one.");
    return invalid_code(c, left);
}

static int flow_verify(ctx_t *c)
{
    const char *email, *typed, *key, *acct[A_NCOLS];
    apr_int64_t left = 0;
    code_result res;
    int n;

    if (!(email = required_email(c)) || !(typed = required(c, "code")))
        return OK;
    key = natomm_email_key(c->r->pool, email);
    if ((n = begin_with_account(c, key, acct)) < 0)
        return unavailable(c->r);
    /* a verified account has no registration code left to enter */
    res = check_code(c, n && !acct[A_VERIFIED] ? acct : NULL, "register", key,
                     typed, &left);
    if (res != CODE_OK)
        return code_failed(c, res, left);
    natomm_db_exec(c->db, "natomm_acct_verify", (const char *[]){
        natomm_db_num(c->r->pool, natomm_now()), acct[A_ID]});
    natomm_db_exec(c->db, "natomm_code_delete", (const char *[]){acct[A_ID],
                                                                 "register"});
    if (natomm_session_create(c->db, c->r, acct[A_ID], 0)
        || natomm_db_commit(c->db)) {
        natomm_db_rollback(c->db);
        apr_table_unset(c->r->err_headers_out, "Set-Cookie");
        return unavailable(c->r);
    }
    log_event(c, "verify", acct[A_ID]);
    return status_json(c->r, HTTP_OK, "verified");
}

/* ---- POST resend ----------------------------------------------------- */

static int flow_resend(ctx_t *c)
{
    apr_pool_t *p = c->r->pool;
    const char *email, *purpose, *key, *bucket, *acct[A_NCOLS];
    natomm_limit_t lim = resend_limit(c);
    apr_int64_t wait;
    int n, rv = 0;

    if (!(email = required_email(c)) || !(purpose = required(c, "purpose")))
        return OK;
    if (strcmp(purpose, "register") && strcmp(purpose, "reset"))
        return natomm_send_error(c->r, HTTP_BAD_REQUEST, "invalid_request",
                                 "The field 'purpose' must be 'register' or 'reset'.");
    key = natomm_email_key(p, email);
    bucket = natomm_throttle_bucket(p, apr_pstrcat(p, "resend:", purpose, NULL), key);
    if ((n = begin_with_account(c, key, acct)) < 0)
        return unavailable(c->r);
    /* counted per address whether or not it has an account */
    if ((wait = natomm_throttle_check(c->db, p, bucket, &lim)) != 0) {
        natomm_db_rollback(c->db);
        return wait < 0 ? unavailable(c->r) : rate_limited(c->r, wait);
    }
    natomm_throttle_record(c->db, p, bucket);
    if (n && !strcmp(purpose, "register") && !acct[A_VERIFIED])
        rv = issue_code(c, acct[A_ID], "register", acct[A_EMAIL], acct[A_LANG]);
    else if (n && !strcmp(purpose, "reset") && acct[A_VERIFIED])
        rv = issue_code(c, acct[A_ID], "reset", acct[A_EMAIL], acct[A_LANG]);
    if (rv || natomm_db_commit(c->db)) {
        natomm_db_rollback(c->db);
        return unavailable(c->r);
    }
    log_event(c, apr_pstrcat(p, "resend_", purpose, NULL), n ? acct[A_ID] : NULL);
    return status_json(c->r, HTTP_ACCEPTED, "code_sent");
}

/* ---- POST login ------------------------------------------------------ */

static int truthy(const char *v)
{
    return v && (!strcmp(v, "1") || !strcasecmp(v, "true") || !strcasecmp(v, "on")
                 || !strcasecmp(v, "yes"));
}

/* Right password, address not verified: a new code (within the resend
 * limits) and 403. */
static int login_unverified(ctx_t *c, const char **acct, const char *key)
{
    apr_pool_t *p = c->r->pool;
    const char *bucket = natomm_throttle_bucket(p, "resend:register", key);
    natomm_limit_t lim = resend_limit(c);
    apr_int64_t wait;
    int rv = 0;

    if (natomm_db_begin(c->db))
        return unavailable(c->r);
    wait = natomm_throttle_check(c->db, p, bucket, &lim);
    if (wait == 0) {
        natomm_throttle_record(c->db, p, bucket);
        rv = issue_code(c, acct[A_ID], "register", acct[A_EMAIL], acct[A_LANG]);
    }
    if (wait < 0 || rv || natomm_db_commit(c->db)) {
        natomm_db_rollback(c->db);
        return unavailable(c->r);
    }
    log_event(c, "login_unverified", acct[A_ID]);
    return natomm_send_error(c->r, HTTP_FORBIDDEN, "verification_required",
                             "Confirm your e-mail address first: we have sent "
                             "you a new code.");
}

static int flow_login(ctx_t *c)
{
    apr_pool_t *p = c->r->pool;
    const char *email, *pw, *key, *acct[A_NCOLS], *ret;
    natomm_hash_params_t hp = hash_params(c->conf);
    natomm_json *j;
    int n;

    if (!(email = required_email(c)) || !(pw = required(c, "password")))
        return OK;
    key = natomm_email_key(p, email);
    if (!(c->db = natomm_db_acquire(c->r)))
        return unavailable(c->r);
    n = natomm_db_row(c->db, "natomm_acct_by_email", (const char *[]){key},
                      acct, A_NCOLS);
    if (n < 0)
        return unavailable(c->r);
    /* an unknown address is checked against a dummy hash: same time */
    if (!check_password(n ? acct[A_HASH] : NULL, pw)) {
        log_event(c, "login_failed", n ? acct[A_ID] : NULL);
        return invalid_credentials(c->r);
    }
    if (!acct[A_VERIFIED])
        return login_unverified(c, acct, key);
    if (natomm_db_begin(c->db))
        return unavailable(c->r);
    if (natomm_password_needs_rehash(acct[A_HASH], &hp)) {
        const char *h = hash_password(c, pw);
        if (h)
            natomm_db_exec(c->db, "natomm_acct_set_password",
                           (const char *[]){h, acct[A_ID]});
    }
    if (natomm_session_create(c->db, c->r, acct[A_ID], truthy(field(c, "remember")))
        || natomm_db_commit(c->db)) {
        natomm_db_rollback(c->db);
        apr_table_unset(c->r->err_headers_out, "Set-Cookie");
        return unavailable(c->r);
    }
    log_event(c, "login", acct[A_ID]);
    ret = natomm_return_url(p, field(c, "return"));
    j = natomm_json_object(p);
    natomm_json_str(j, "status", "logged_in");
    natomm_json_str(j, "return", ret);
    return natomm_send_json(c->r, HTTP_OK, natomm_json_finish(j));
}

/* ---- POST logout ----------------------------------------------------- */

static int flow_logout(ctx_t *c)
{
    natomm_session_info info;
    int had;

    if (!(c->db = natomm_db_acquire(c->r)))
        return unavailable(c->r);
    had = natomm_session_current(c->db, c->r, &info);
    if (natomm_session_end(c->db, c->r))
        return unavailable(c->r);
    if (had == 1)
        log_event(c, "logout", info.account_id);
    return status_json(c->r, HTTP_OK, "logged_out");
}

/* ---- routing --------------------------------------------------------- */

typedef struct {
    const char *path;        /* suffix of the URI below the mount */
    int method;              /* M_GET or M_POST */
    int (*flow)(ctx_t *c);
    int needs_db;            /* acquire before the flow (else the flow does) */
} route_t;

/* Longer paths first: "/password/verify" must win over "/verify". */
static const route_t routes[] = {
    {"/session", M_GET, flow_session, 1},
    {"/register", M_POST, flow_register, 0},
    {"/verify", M_POST, flow_verify, 0},
    {"/resend", M_POST, flow_resend, 0},
    {"/login", M_POST, flow_login, 0},
    {"/logout", M_POST, flow_logout, 0},
    {NULL, 0, NULL, 0}
};

static const route_t *route_for(const char *uri)
{
    size_t n = strlen(uri);
    const route_t *best = NULL;
    int i;

    for (i = 0; routes[i].path; i++) {
        size_t k = strlen(routes[i].path);
        if (k <= n && !strcmp(uri + n - k, routes[i].path)
            && (!best || k > strlen(best->path)))
            best = &routes[i];
    }
    return best;
}

static int method_not_allowed(request_rec *r, const route_t *rt)
{
    apr_table_setn(r->err_headers_out, "Allow",
                   rt->method == M_GET ? "GET, HEAD" : "POST");
    apr_table_setn(r->headers_out, "Allow",
                   rt->method == M_GET ? "GET, HEAD" : "POST");
    return natomm_send_error(r, HTTP_METHOD_NOT_ALLOWED, "method_not_allowed",
                             apr_psprintf(r->pool, "Use %s for this address.",
                                          rt->method == M_GET ? "GET" : "POST"));
}

int natomm_flows_handler(request_rec *r)
{
    ctx_t c = {r, NULL, NULL, NULL};
    const route_t *rt;
    int answered = 0;

    if (!r->handler || strcmp(r->handler, NATOMM_HANDLER))
        return DECLINED;
    c.conf = ap_get_module_config(r->server->module_config, &natomm_module);
    rt = route_for(r->uri);
    if (!rt) {
        ap_discard_request_body(r);
        return natomm_send_error(r, HTTP_NOT_FOUND, "not_found",
                                 "There is no such account endpoint.");
    }
    if (r->method_number != rt->method) {
        ap_discard_request_body(r);
        return method_not_allowed(r, rt);
    }
    if (rt->method == M_POST) {
        if (!natomm_same_origin(r)) {
            ap_discard_request_body(r);
            return natomm_send_error(r, HTTP_FORBIDDEN, "forbidden_origin",
                                     "This request did not come from this site.");
        }
        if (natomm_read_form(r, c.conf->body_limit, &c.form, &answered) != OK)
            return OK;
    }
    else {
        c.form = apr_table_make(r->pool, 1);
    }
    if (rt->needs_db && !(c.db = natomm_db_acquire(r)))
        return unavailable(r);
    return rt->flow(&c);
}
