/* Helpers shared by the endpoint functions (see natomm_flow.h): password
 * hashing under a concurrency bound, answers, fields, codes.
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

static const natomm_dict_t *dictionary;
static apr_thread_mutex_t *hash_lock;
static apr_thread_cond_t *hash_free;
static int hash_slots;
static const char *dummy_hash;

/* ---- password hashing with a bound on concurrency -------------------- */

natomm_hash_params_t natomm_flow_hash_params(const natomm_server_conf *conf)
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

char *natomm_flow_hash_password(natomm_ctx *c, const char *pw)
{
    natomm_hash_params_t hp = natomm_flow_hash_params(c->conf);
    char *h;
    slot_take();
    h = natomm_password_hash(c->r->pool, &hp, pw);
    slot_give();
    return h;
}

int natomm_flow_check_password(const char *phc, const char *pw)
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
    natomm_hash_params_t hp = natomm_flow_hash_params(conf);
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

int natomm_flow_status(request_rec *r, int http, const char *status)
{
    natomm_json *j = natomm_json_object(r->pool);
    natomm_json_str(j, "status", status);
    return natomm_send_json(r, http, natomm_json_finish(j));
}

int natomm_flow_unavailable(request_rec *r)
{
    return natomm_send_error(r, HTTP_SERVICE_UNAVAILABLE, "storage_unavailable",
                             "The account database cannot be reached; nothing "
                             "was changed. Try again shortly.");
}

int natomm_flow_rate_limited(request_rec *r, apr_int64_t wait)
{
    natomm_json *j = natomm_error_json(r->pool, "rate_limited",
                                       "Too many requests; wait before trying again.");
    natomm_json_int(j, "retry_after", wait);
    apr_table_setn(r->headers_out, "Retry-After", natomm_db_num(r->pool, wait));
    return natomm_send_json(r, HTTP_TOO_MANY_REQUESTS, natomm_json_finish(j));
}

int natomm_flow_invalid_credentials(request_rec *r)
{
    return natomm_send_error(r, HTTP_UNAUTHORIZED, "invalid_credentials",
                             "The e-mail address or the password is wrong.");
}

/* One line per account event: time (the log's), event, account, client. */
void natomm_flow_log(natomm_ctx *c, const char *event, const char *account_id)
{
    ap_log_rerror(APLOG_MARK, APLOG_NOTICE, 0, c->r,
                  "NATOMM: event=%s account=%s ip=%s", event,
                  account_id ? account_id : "-",
                  natomm_log_safe(c->r->pool, natomm_client_ip(c->r)));
}

/* ---- fields ---------------------------------------------------------- */

const char *natomm_flow_field(natomm_ctx *c, const char *name)
{
    return apr_table_get(c->form, name);
}

/* The value of a required field, or NULL after answering 400. */
const char *natomm_flow_required(natomm_ctx *c, const char *name)
{
    const char *v = natomm_flow_field(c, name);
    if (!v || !*v) {
        natomm_send_error(c->r, HTTP_BAD_REQUEST, "invalid_request",
                          apr_psprintf(c->r->pool, "The field '%s' is required.",
                                       name));
        return NULL;
    }
    return v;
}

const char *natomm_flow_required_email(natomm_ctx *c)
{
    const char *email = natomm_flow_required(c, "email");
    if (email && !natomm_email_valid(email)) {
        natomm_send_error(c->r, HTTP_BAD_REQUEST, "invalid_email",
                          "This is not a valid e-mail address.");
        return NULL;
    }
    return email;
}

/* "en" or "fr" from a language tag, else NULL. */
const char *natomm_flow_known_language(const char *tag, size_t n)
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
const char *natomm_flow_accept_language(request_rec *r)
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
        lang = natomm_flow_known_language(h, tag);
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

static const char *code_mac(natomm_ctx *c, const char *purpose, const char *account,
                            const char *code)
{
    return natomm_hmac_hex(c->r->pool, natomm_db_code_key(c->db),
                           apr_pstrcat(c->r->pool, purpose, "|", account, "|",
                                       code, NULL));
}

apr_int64_t natomm_flow_code_ttl(natomm_ctx *c, const char *purpose)
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
int natomm_flow_issue_code(natomm_ctx *c, const char *account, const char *purpose,
                      const char *email, const char *lang, const char *payload)
{
    apr_pool_t *p = c->r->pool;
    apr_int64_t now = natomm_now(), ttl = natomm_flow_code_ttl(c, purpose);
    const char *code = natomm_code_generate(p, &c->conf->code);
    apr_table_t *vars = apr_table_make(p, 4);

    if (!code)
        return -1;
    natomm_db_exec(c->db, "natomm_code_delete", (const char *[]){account, purpose});
    natomm_db_exec(c->db, "natomm_code_insert", (const char *[]){
        natomm_random_id(p), account, purpose, code_mac(c, purpose, account, code),
        payload, natomm_db_num(p, c->conf->code_attempts), natomm_db_num(p, now),
        natomm_db_num(p, now + ttl)});
    apr_table_setn(vars, "code", natomm_code_display(p, code));
    apr_table_setn(vars, "minutes", natomm_db_num(p, (ttl + 59) / 60));
    apr_table_setn(vars, "expires", expiry_text(p, now + ttl));
    return natomm_mail_queue(c->db, c->r, email, lang,
                             strcmp(purpose, "reset") ? "register_code" : "reset_code",
                             vars, NULL);
}

natomm_limit_t natomm_flow_resend_limit(natomm_ctx *c)
{
    natomm_limit_t lim = {c->conf->resend_per_hour, 3600, c->conf->resend_interval};
    return lim;
}

int natomm_flow_weak_password(natomm_ctx *c, const char *pw, const char *email)
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


/* Looks the address up inside a new transaction: 1 found (acct filled),
 * 0 not found, -1 database failure (nothing open). */
int natomm_flow_begin_account(natomm_ctx *c, const char *key, const char **acct)
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

static int invalid_code(natomm_ctx *c, apr_int64_t left)
{
    natomm_json *j = natomm_error_json(c->r->pool, "invalid_code",
                                       "The code is wrong.");
    natomm_json_int(j, "attempts_left", left > 0 ? left : 0);
    return natomm_send_json(c->r, HTTP_BAD_REQUEST, natomm_json_finish(j));
}

/* A try against an address without a code behaves like one with a code,
 * so the answer does not tell whether the address has an account: wrong
 * tries count down from the last code request for the address (which
 * resets a real code too), and once that request is older than a code's
 * lifetime the answer is code_expired. */
static natomm_code_result phantom_attempt(natomm_ctx *c, const char *purpose,
                                          const char *key, apr_int64_t *left)
{
    apr_pool_t *p = c->r->pool;
    apr_int64_t now = natomm_now(), ttl = natomm_flow_code_ttl(c, purpose);
    apr_int64_t since = now - ttl, requested;
    const char *fails = natomm_throttle_bucket(p, apr_pstrcat(p, "code:", purpose,
                                               NULL), key);
    const char *asked = natomm_throttle_bucket(p, apr_pstrcat(p, "resend:", purpose,
                                               NULL), key);
    const char *cols[3];

    /* as far back as a real code is kept: a day past its expiry */
    if (natomm_db_row(c->db, "natomm_throttle_count", (const char *[]){asked,
            natomm_db_num(p, now - ttl - 86400)}, cols, 3) < 0)
        return NATOMM_CODE_ERROR;
    requested = cols[2] ? apr_atoi64(cols[2]) : 0;
    if (requested && requested + ttl <= now)
        return NATOMM_CODE_EXPIRED;
    if (requested > since)
        since = requested - 1;
    natomm_throttle_record(c->db, p, fails);
    if (natomm_db_row(c->db, "natomm_throttle_count", (const char *[]){fails,
            natomm_db_num(p, since)}, cols, 3) != 1)
        return NATOMM_CODE_ERROR;
    *left = c->conf->code_attempts - atoi(cols[0]);
    return NATOMM_CODE_WRONG;
}

natomm_code_result natomm_flow_check_code(natomm_ctx *c, const char **acct,
                                          const char *purpose, const char *key,
                                          const char *typed, apr_int64_t *left,
                                          const char **payload)
{
    apr_pool_t *p = c->r->pool;
    const char *row[5], *norm;
    int n = 0;

    if (acct)
        n = natomm_db_row(c->db, "natomm_code_latest", (const char *[]){
            acct[A_ID], purpose}, row, 5);
    if (n < 0)
        return NATOMM_CODE_ERROR;
    if (n == 0)
        return phantom_attempt(c, purpose, key, left);
    if (natomm_now() >= apr_atoi64(row[3]))
        return NATOMM_CODE_EXPIRED;
    *left = atoi(row[2]);
    if (*left <= 0)
        return NATOMM_CODE_WRONG;      /* void after too many wrong tries */
    norm = natomm_code_normalise(p, &c->conf->code, typed);
    if (norm && natomm_secret_equal(code_mac(c, purpose, acct[A_ID], norm), row[1])) {
        if (payload)
            *payload = row[4];
        return NATOMM_CODE_OK;
    }
    natomm_db_exec(c->db, "natomm_code_fail", (const char *[]){row[0]});
    *left -= 1;
    return NATOMM_CODE_WRONG;
}

/* Answers a code that did not pass; commits the used-up attempt. */
int natomm_flow_code_failed(natomm_ctx *c, natomm_code_result res, apr_int64_t left)
{
    if (res == NATOMM_CODE_ERROR || natomm_db_commit(c->db))
        return natomm_flow_unavailable(c->r);
    if (res == NATOMM_CODE_EXPIRED)
        return natomm_send_error(c->r, HTTP_BAD_REQUEST, "code_expired",
                                 "The code has expired; ask for a new one.");
    return invalid_code(c, left);
}

int natomm_flow_truthy(const char *v)
{
    return v && (!strcmp(v, "1") || !strcasecmp(v, "true") || !strcasecmp(v, "on")
                 || !strcasecmp(v, "yes"));
}

int natomm_flow_ip_limited(natomm_ctx *c, int kind)
{
    const char *ip = natomm_client_ip(c->r);
    apr_int64_t wait;

    if (!c->db && !(c->db = natomm_db_acquire(c->r))) {
        natomm_flow_unavailable(c->r);
        return 1;
    }
    wait = natomm_throttle_ip_check(c->db, c->r->pool, c->conf, kind, ip);
    if (wait == 0 && natomm_throttle_ip_record(c->db, c->r->pool, kind, ip) < 0)
        wait = -1;
    if (wait < 0)
        natomm_flow_unavailable(c->r);
    else if (wait > 0)
        natomm_flow_rate_limited(c->r, wait);
    return wait != 0;
}

int natomm_flow_need_session(natomm_ctx *c, natomm_session_info *info)
{
    int rv;

    if (!c->db && !(c->db = natomm_db_acquire(c->r))) {
        natomm_flow_unavailable(c->r);
        return 0;
    }
    rv = natomm_session_current(c->db, c->r, info);
    if (rv < 0)
        natomm_flow_unavailable(c->r);
    else if (rv == 0)
        natomm_send_error(c->r, HTTP_UNAUTHORIZED, "not_authenticated",
                          "Log in first.");
    return rv == 1;
}

/* Lock length after the given number of failures: the first lock at the
 * threshold, doubling with each further failure, up to the longest. */
static apr_int64_t lock_for(const natomm_server_conf *conf, int fails)
{
    apr_int64_t d = conf->lockout_first;
    int k;

    if (fails < conf->lockout_threshold)
        return 0;
    for (k = fails - conf->lockout_threshold; k > 0 && d < conf->lockout_max; k--)
        d *= 2;
    return d < conf->lockout_max ? d : conf->lockout_max;
}

int natomm_flow_password_failed(natomm_ctx *c, const char *event,
                                const char *account_id, const char *fails)
{
    apr_pool_t *p = c->r->pool;
    apr_int64_t lock = 0;

    if (natomm_db_begin(c->db))
        return natomm_flow_unavailable(c->r);
    natomm_throttle_ip_record(c->db, p, NATOMM_IP_LOGIN_FAILURES,
                              natomm_client_ip(c->r));
    if (account_id) {
        lock = lock_for(c->conf, (fails ? atoi(fails) : 0) + 1);
        natomm_db_exec(c->db, "natomm_acct_login_failed", (const char *[]){
            natomm_db_num(p, lock ? natomm_now() + lock : 0), account_id});
    }
    if (natomm_db_commit(c->db))
        return natomm_flow_unavailable(c->r);
    natomm_flow_log(c, event, account_id);
    if (lock)
        natomm_flow_log(c, "lockout", account_id);
    return natomm_flow_invalid_credentials(c->r);
}

int natomm_flow_login_limited(natomm_ctx *c)
{
    apr_int64_t wait = natomm_throttle_ip_check(c->db, c->r->pool, c->conf,
                                                NATOMM_IP_LOGIN_FAILURES,
                                                natomm_client_ip(c->r));
    if (wait < 0)
        natomm_flow_unavailable(c->r);
    else if (wait > 0)
        natomm_flow_rate_limited(c->r, wait);
    return wait != 0;
}
