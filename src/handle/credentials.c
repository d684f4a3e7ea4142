/* Passwords: hashing under a bound on concurrency, the rules, and the
 * check of a logged-in account's password (see natomm_handle.h). */
#include "natomm_handle.h"
#include "apr_strings.h"
#include "apr_thread_cond.h"
#include "apr_thread_mutex.h"
#include "natomm_clock.h"
#include "natomm_crypto.h"
#include "natomm_json.h"
#include "natomm_policy.h"
#include "natomm_stats.h"

static apr_thread_mutex_t *hash_lock;
static apr_thread_cond_t *hash_free;
static int hash_slots;
static const char *dummy_hash;

static natomm_hash_params_t params(const natomm_server_conf *conf)
{
    natomm_hash_params_t hp = {conf->argon2.t_cost, conf->argon2.m_cost,
                               conf->argon2.parallelism};
    return hp;
}

/* Memory is m_cost per hash: NatommHashConcurrency bounds it per process,
 * and a request waits for a slot NatommHashWait at most (a flood of
 * logins must not park every worker). 0, or -1 when none came in time. */
static int slot_take(natomm_ctx *c)
{
    apr_time_t start = apr_time_now();
    apr_time_t deadline = start + apr_time_from_sec(c->conf->hash_wait);
    int rv = 0;

    if (!hash_lock)
        return 0;
    apr_thread_mutex_lock(hash_lock);
    while (hash_slots <= 0 && rv == 0) {
        apr_interval_time_t left = deadline - apr_time_now();
        if (left <= 0 || apr_thread_cond_timedwait(hash_free, hash_lock, left)
                         == APR_TIMEUP)
            rv = hash_slots > 0 ? 0 : -1;
    }
    if (rv == 0)
        hash_slots--;
    apr_thread_mutex_unlock(hash_lock);
    natomm_stats_hash_wait(apr_time_now() - start);
    if (rv == 0)
        natomm_stats_hash_busy(1);
    else
        natomm_stats_count_refusal(NATOMM_REFUSED_HASH_WAIT);
    return rv;
}

static void slot_give(void)
{
    if (!hash_lock)
        return;
    apr_thread_mutex_lock(hash_lock);
    hash_slots++;
    apr_thread_cond_signal(hash_free);
    apr_thread_mutex_unlock(hash_lock);
    natomm_stats_hash_busy(-1);
}

void natomm_cred_child_init(apr_pool_t *p, server_rec *s)
{
    natomm_server_conf *conf = natomm_cfg_server(s);
    natomm_hash_params_t hp = params(conf);
    char *random = natomm_token(p);

    hash_slots = conf->hash_concurrency;
    apr_thread_mutex_create(&hash_lock, APR_THREAD_MUTEX_DEFAULT, p);
    apr_thread_cond_create(&hash_free, p);
    dummy_hash = random ? natomm_password_hash(p, &hp, random) : NULL;
}

const char *natomm_cred_hash(natomm_ctx *c, const char *pw, int *busy)
{
    natomm_hash_params_t hp = params(c->conf);
    const char *hash;

    if ((*busy = slot_take(c) != 0))
        return NULL;
    hash = natomm_password_hash(c->r->pool, &hp, pw);
    slot_give();
    return hash;
}

int natomm_cred_check(natomm_ctx *c, const char *phc, const char *pw, int *busy)
{
    int ok;

    if ((*busy = slot_take(c) != 0))
        return 0;
    ok = natomm_password_verify(phc ? phc : dummy_hash, pw);
    slot_give();
    return phc ? ok : 0;
}

int natomm_cred_answer_unavailable(natomm_ctx *c, int busy)
{
    if (busy)
        return natomm_reply_rate_limited(c->r, 1);
    return natomm_reply_error(c->r, NATOMM_E_STORAGE_UNAVAILABLE);
}

int natomm_cred_needs_rehash(natomm_ctx *c, const char *phc)
{
    natomm_hash_params_t hp = params(c->conf);
    return natomm_password_needs_rehash(phc, &hp);
}

int natomm_cred_strong(natomm_ctx *c, const char *pw, const char *email)
{
    natomm_password_rules_t rules = {c->conf->pw_min, c->conf->pw_max,
                                     c->conf->site_name, email,
                                     c->conf->dictionary};
    apr_array_header_t *failed = natomm_password_check(c->r->pool, &rules, pw);
    natomm_json *j;

    if (failed->nelts == 0)
        return 0;
    j = natomm_reply_error_body(c->r->pool, NATOMM_E_WEAK_PASSWORD);
    natomm_json_strs(j, "failed", failed);
    natomm_reply_error_json(c->r, NATOMM_E_WEAK_PASSWORD, j);
    return 1;
}

int natomm_cred_attempt(natomm_ctx *c, const char **acct, const char *key,
                        const char *pw, const char *event, int keep_open)
{
    natomm_attempt_t a;
    int ok, busy;

    if (natomm_limits_attempt_begin(c, acct ? acct[ACCT_ID] : NULL, key, &a))
        return 1;
    /* always one hash check, against a dummy for an unknown address, so
     * unknown, wrong and locked all take the same time */
    ok = natomm_cred_check(c, acct ? acct[ACCT_HASH] : NULL, pw, &busy);
    /* not judged: no failure to count (else a flood of logins would lock
     * the owner out of their own address) */
    if (busy) {
        if (!natomm_limits_attempt_cancel(c, &a))
            natomm_cred_answer_unavailable(c, busy);
        return 1;
    }
    return natomm_limits_attempt_end(c, &a, ok, event, keep_open);
}

int natomm_cred_confirm(natomm_ctx *c, natomm_session_info *info,
                        const char *field, const char **acct)
{
    const char *pw;
    int n;

    if (natomm_ctx_session(c, info) || natomm_ctx_required(c, field, &pw))
        return 1;
    n = natomm_db_row(c->db, NATOMM_SQL_ACCT_BY_ID,
                      (const char *[]){info->account_id}, acct);
    if (n <= 0)
        return natomm_ctx_fail(c, NATOMM_E_STORAGE_UNAVAILABLE);
    return natomm_cred_attempt(c, acct, natomm_email_key(c->r->pool, acct[ACCT_EMAIL]),
                               pw, "password_check_failed", 0);
}
