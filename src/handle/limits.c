/* Counted limits (see natomm_handle.h): per client address (NatommIPLimit),
 * the login lockout per account and client address with a ceiling for the
 * account (NatommLockout, NatommLockoutCeiling), and the resend budget.
 *
 * Every decision is taken inside a transaction that holds the lock of what
 * it counts (natomm_db_lock; SQLite has one writer), so the count that
 * decides is the count that is written. A password attempt is counted as
 * a failure before the hash and taken back after it if it was a success. */
#include "natomm_handle.h"
#include <stdlib.h>
#include "apr_strings.h"
#include "natomm_backoff.h"
#include "natomm_clock.h"
#include "natomm_limit.h"
#include "natomm_policy.h"
#include "natomm_stats.h"

static const char *const ip_kinds[NATOMM_IP_KINDS] = {
    "ip:login_failures", "ip:registrations", "ip:reset_requests", "ip:code_entries"
};

const char *natomm_limits_client(natomm_ctx *c)
{
    return natomm_limit_client(c->r->pool, natomm_request_client_ip(c->r));
}

static const char *ip_bucket(natomm_ctx *c, int kind)
{
    return natomm_db_bucket(c->r->pool, ip_kinds[kind], natomm_limits_client(c));
}

/* The largest wait over the windows of one kind; 0 within all, -1 on a
 * database failure. */
static apr_int64_t ip_wait(natomm_ctx *c, int kind)
{
    const char *bucket = ip_bucket(c, kind);
    apr_int64_t wait = 0;
    int i;

    for (i = 0; i < NATOMM_IP_WINDOWS; i++) {
        const natomm_limit_t *lim = &c->conf->ip_limits[kind][i];
        apr_int64_t w;
        if (!lim->limit)
            continue;
        if ((w = natomm_db_throttle_wait(c->db, bucket, lim)) < 0)
            return -1;
        if (w > wait)
            wait = w;
    }
    return wait;
}

/* Ends the transaction and answers a wait: -1 is 503, more is 429. */
static int answer_wait(natomm_ctx *c, apr_int64_t wait, int kind)
{
    static const natomm_stat_refusal_t refusal[NATOMM_IP_KINDS] = {
        NATOMM_REFUSED_LOGIN_FAILURES, NATOMM_REFUSED_REGISTRATIONS,
        NATOMM_REFUSED_RESET_REQUESTS, NATOMM_REFUSED_CODE_ENTRIES
    };

    natomm_db_rollback(c->db);
    if (wait < 0)
        return natomm_ctx_fail(c, NATOMM_E_STORAGE_UNAVAILABLE);
    natomm_stats_count_refusal(refusal[kind]);
    natomm_reply_rate_limited(c->r, wait);
    return 1;
}

/* A transaction holding the locks of the client's bucket of kind and, if
 * key is given, of an address: 0, or answered 503. */
static int begin_locked(natomm_ctx *c, int kind, const char *key)
{
    if (natomm_ctx_db(c))
        return 1;
    if (natomm_db_begin(c->db) || natomm_db_lock(c->db, ip_bucket(c, kind))
        || (key && natomm_db_lock(c->db, natomm_ctx_address_lock(c, key)))) {
        natomm_db_rollback(c->db);
        return natomm_ctx_fail(c, NATOMM_E_STORAGE_UNAVAILABLE);
    }
    return 0;
}

int natomm_limits_ip(natomm_ctx *c, int kind)
{
    apr_int64_t wait;

    if (begin_locked(c, kind, NULL))
        return 1;
    wait = ip_wait(c, kind);
    if (wait == 0 && natomm_db_throttle_add(c->db, ip_bucket(c, kind), NULL) < 0)
        wait = -1;
    if (wait != 0)
        return answer_wait(c, wait, kind);
    return natomm_db_commit(c->db) ? natomm_ctx_fail(c, NATOMM_E_STORAGE_UNAVAILABLE) : 0;
}

/* ---- password attempts ----------------------------------------------- */

int natomm_limits_attempt_begin(natomm_ctx *c, const char *account_id,
                                const char *key, natomm_attempt_t *a)
{
    const char *now = natomm_db_num(c->r->pool, natomm_now());
    apr_int64_t wait;

    a->account_id = account_id;
    a->key = key;
    a->event = NULL;
    if (begin_locked(c, NATOMM_IP_LOGIN_FAILURES, key))
        return 1;
    if ((wait = ip_wait(c, NATOMM_IP_LOGIN_FAILURES)) != 0)
        return answer_wait(c, wait, NATOMM_IP_LOGIN_FAILURES);
    natomm_db_throttle_add(c->db, ip_bucket(c, NATOMM_IP_LOGIN_FAILURES), &a->event);
    if (account_id) {
        natomm_db_exec(c->db, NATOMM_SQL_LOCK_BUMP, (const char *[]){
            account_id, natomm_limits_client(c), now, now});
        natomm_db_exec(c->db, NATOMM_SQL_ACCT_LOGIN_FAILED, (const char *[]){account_id});
    }
    return natomm_db_commit(c->db) ? natomm_ctx_fail(c, NATOMM_E_STORAGE_UNAVAILABLE) : 0;
}

typedef struct {
    int failures;              /* of this account from this client, this one too */
    int base;                  /* failures when the pair's lock was last set */
    apr_int64_t locked_until;  /* of the pair */
    int account_failures;      /* from all clients, this one too */
    int disabled;
} attempt_state_t;

static int read_state(natomm_ctx *c, const natomm_attempt_t *a, attempt_state_t *st)
{
    const char *lock[LOCK_NCOLS], *acct[ACCT_NCOLS];
    /* no row: a success from this client has just cleared the count */
    int n = natomm_db_row(c->db, NATOMM_SQL_LOCK_GET, (const char *[]){
        a->account_id, natomm_limits_client(c)}, lock);

    int found = n < 0 ? -1 : natomm_db_row(c->db, NATOMM_SQL_ACCT_BY_ID,
                                           (const char *[]){a->account_id}, acct);

    if (found < 0)
        return -1;
    st->failures = n ? atoi(lock[LOCK_FAILURES]) : 1;
    st->base = n ? atoi(lock[LOCK_BASE]) : 0;
    st->locked_until = n ? apr_atoi64(lock[LOCK_UNTIL]) : 0;
    /* deleted meanwhile: it can log in no more than a disabled one */
    st->account_failures = found ? atoi(acct[ACCT_FAILS]) : 0;
    st->disabled = !found || acct[ACCT_DISABLED] != NULL;
    return 0;
}

/* Whether a right password may log in: the pair not locked, fewer than the
 * threshold of other failures from this client since its last lock (in
 * flight ones too, so a burst of wrong ones cannot carry a right one
 * through), the account short of its ceiling and not disabled. */
static int may_pass(natomm_ctx *c, const attempt_state_t *st)
{
    return st->locked_until <= natomm_now()
        && st->failures - 1 - st->base < c->conf->lockout_threshold
        && st->account_failures - 1 < c->conf->lockout_ceiling
        && !st->disabled;
}

/* The attempt stays a failure: the pair locks from the threshold on, and
 * the lockout is logged when a lock begins or the ceiling is reached. */
static int answer_failure(natomm_ctx *c, const natomm_attempt_t *a,
                          const attempt_state_t *st, const char *event)
{
    apr_int64_t now = natomm_now();
    int locks = 0;

    if (a->account_id && st->failures >= c->conf->lockout_threshold) {
        apr_int64_t lock = now + natomm_backoff(c->conf->lockout_first, c->conf->lockout_max,
                                    st->failures - c->conf->lockout_threshold);
        locks = st->locked_until <= now;
        natomm_db_exec(c->db, NATOMM_SQL_LOCK_SET, (const char *[]){
            natomm_db_num(c->r->pool, lock), a->account_id, natomm_limits_client(c),
            natomm_db_num(c->r->pool, lock)});
    }
    if (natomm_db_commit(c->db))
        return natomm_ctx_fail(c, NATOMM_E_STORAGE_UNAVAILABLE);
    natomm_ctx_log(c, event, a->account_id);
    if (locks || (a->account_id && st->account_failures == c->conf->lockout_ceiling))
        natomm_ctx_log(c, "lockout", a->account_id);
    return natomm_ctx_fail(c, NATOMM_E_INVALID_CREDENTIALS);
}

/* Takes back what natomm_limits_attempt_begin counted: for the client's
 * limit, and for the account and the pair. */
static void uncount_for_client(natomm_ctx *c, const natomm_attempt_t *a)
{
    if (a->event)
        natomm_db_throttle_take_back(c->db, ip_bucket(c, NATOMM_IP_LOGIN_FAILURES),
                                     a->event);
}

static void uncount_for_account(natomm_ctx *c, const natomm_attempt_t *a)
{
    natomm_db_exec(c->db, NATOMM_SQL_LOCK_UNBUMP, (const char *[]){
        a->account_id, natomm_limits_client(c)});
    natomm_db_exec(c->db, NATOMM_SQL_ACCT_LOGIN_UNFAIL, (const char *[]){a->account_id});
}

int natomm_limits_attempt_cancel(natomm_ctx *c, natomm_attempt_t *a)
{
    if (begin_locked(c, NATOMM_IP_LOGIN_FAILURES, a->key))
        return 1;
    uncount_for_client(c, a);
    if (a->account_id)
        uncount_for_account(c, a);
    if (natomm_db_commit(c->db))
        return natomm_ctx_fail(c, NATOMM_E_STORAGE_UNAVAILABLE);
    return 0;
}

int natomm_limits_attempt_end(natomm_ctx *c, natomm_attempt_t *a, int ok,
                              const char *event, int keep_open)
{
    attempt_state_t st = {0, 0, 0, 0, 0};

    if (begin_locked(c, NATOMM_IP_LOGIN_FAILURES, a->key))
        return 1;
    if (a->account_id && read_state(c, a, &st)) {
        natomm_db_rollback(c->db);
        return natomm_ctx_fail(c, NATOMM_E_STORAGE_UNAVAILABLE);
    }
    if (!ok || !a->account_id)
        return answer_failure(c, a, &st, event);
    if (!may_pass(c, &st)) {
        /* a right password refused by a lock: a failure for the client's
         * limit only; it neither extends the lock nor counts for the account */
        uncount_for_account(c, a);
        st.failures = st.account_failures = 0;
        return answer_failure(c, a, &st, "login_locked");
    }
    /* a success: not a failure after all, and its counts start again */
    uncount_for_client(c, a);
    natomm_db_exec(c->db, NATOMM_SQL_LOCK_CLEAR, (const char *[]){
        a->account_id, natomm_limits_client(c)});
    natomm_db_exec(c->db, NATOMM_SQL_ACCT_LOGIN_OK, (const char *[]){a->account_id});
    if (!keep_open && natomm_db_commit(c->db))
        return natomm_ctx_fail(c, NATOMM_E_STORAGE_UNAVAILABLE);
    return 0;
}

/* ---- the resend budget ----------------------------------------------- */

const char *natomm_limits_resend_bucket(natomm_ctx *c, const char *purpose,
                                        const char *key)
{
    return natomm_db_bucket(c->r->pool, apr_pstrcat(c->r->pool, "resend-day:",
                                                    purpose, NULL), key);
}

static const char *client_bucket(natomm_ctx *c, const char *purpose, const char *key)
{
    apr_pool_t *p = c->r->pool;
    return natomm_db_bucket(p, apr_pstrcat(p, "resend:", purpose, NULL),
                            apr_pstrcat(p, key, "|", natomm_limits_client(c), NULL));
}

apr_int64_t natomm_limits_resend_wait(natomm_ctx *c, const char *purpose,
                                      const char *key)
{
    natomm_limit_t mine = {c->conf->resend_per_hour, 3600, c->conf->resend_interval};
    natomm_limit_t all = {c->conf->resend_per_day, 86400, 0};
    apr_int64_t w1 = natomm_db_throttle_wait(c->db, client_bucket(c, purpose, key), &mine);
    apr_int64_t w2 = w1 < 0 ? -1 : natomm_db_throttle_wait(c->db,
        natomm_limits_resend_bucket(c, purpose, key), &all);

    return w1 < 0 || w2 < 0 ? -1 : w1 > w2 ? w1 : w2;
}

int natomm_limits_resend_spend(natomm_ctx *c, const char *purpose, const char *key)
{
    return natomm_db_throttle_add(c->db, client_bucket(c, purpose, key), NULL)
        || natomm_db_throttle_add(c->db, natomm_limits_resend_bucket(c, purpose, key),
                                  NULL) ? -1 : 0;
}
