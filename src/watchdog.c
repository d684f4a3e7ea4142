/* The background work, on mod_watchdog (see natomm_watchdog.h), in the
 * manner of mod_md_drive.c: a context passed as the baton, its own pool, a
 * switch on the watchdog's state, the work delegated to db/ and mail/.
 *
 * Two singleton child watchdogs, so that a relay that stalls never delays
 * the rest: "state" reads every database's revocation log into the shared
 * revocation marks (within NatommRevocationDelay), beats each database's
 * health mark, refreshes the outbox gauges and purges; "mail" delivers.
 * Every database that a virtual host reaches is served once a tick, with
 * the settings of the first host that reaches it.
 */
#include "natomm_watchdog.h"
#include <stdlib.h>
#include "http_log.h"
#include "apr_hash.h"
#include "apr_optional.h"
#include "apr_strings.h"
#include "apr_thread_mutex.h"
#include "mod_watchdog.h"
#include <curl/curl.h>
#include "natomm_cfg.h"
#include "natomm_clock.h"
#include "natomm_db.h"
#include "natomm_mail.h"
#include "natomm_shared.h"
#include "natomm_stats.h"

#define STATE_WATCHDOG "_natomm_"
#define MAIL_WATCHDOG "_natomm_mail_"
#define MAIL_TICK apr_time_from_sec(1)
/* revocations are read back this far each time: rows committed late (a
 * transaction that began before another) or by a node whose clock lags */
#define LOOKBACK_MS 10000
#define DOWN_HOLD apr_time_from_sec(5)

/* What the watchdog keeps of one database between ticks. */
typedef struct {
    apr_int64_t cursor_ms;     /* the revocations read so far */
    apr_hash_t *seen;          /* "account|at_ms" of those inside the lookback */
    apr_int64_t last_purge;
    int reported;              /* the queue was logged once */
} site_state_t;

typedef struct {
    server_rec *s;             /* the main server; virtual hosts follow it */
    apr_pool_t *parent, *pool; /* pool: this child's, made at STARTING */
    apr_hash_t *sites;         /* site id -> site_state_t */
    int mail;                  /* the mail watchdog's context */
    apr_thread_mutex_t *busy;  /* held for a tick (made in child_init) */
} natomm_watchdog_ctx;

/* A child that exits waits for a tick in progress, so that no connection
 * of mod_dbd's is out when its pools go (an abort in apr_reslist) and a
 * message being sent is recorded as sent; longer than a whole SMTP send. */
#define EXIT_WAIT apr_time_from_sec(35)

/* the two contexts (made in the parent, the same in every child) */
static natomm_watchdog_ctx *contexts[2];
static volatile int stopping;

static site_state_t *site_state(natomm_watchdog_ctx *ctx, natomm_site *site)
{
    const char *id = natomm_site_id(site);
    site_state_t *st = apr_hash_get(ctx->sites, id, APR_HASH_KEY_STRING);

    if (!st) {
        natomm_server_conf *conf = natomm_cfg_server(ctx->s);
        st = apr_pcalloc(ctx->pool, sizeof(*st));
        st->seen = apr_hash_make(ctx->pool);
        /* a new reader (a new child, a restart) begins far enough back to
         * cover whatever any process may have cached meanwhile */
        st->cursor_ms = natomm_now_ms() - 1000 * conf->cache_ttl - LOOKBACK_MS;
        apr_hash_set(ctx->sites, apr_pstrdup(ctx->pool, id), APR_HASH_KEY_STRING, st);
    }
    return st;
}

/* Reads the revocation log into the shared marks; 0, or -1. */
static int read_revocations(natomm_db *db, natomm_site *site, site_state_t *st,
                            apr_pool_t *p)
{
    apr_uint64_t key = natomm_shared_key(natomm_site_id(site));
    apr_int64_t from = st->cursor_ms - LOOKBACK_MS, top = st->cursor_ms;
    apr_array_header_t *rows;
    apr_hash_index_t *hi;
    int i;

    if (natomm_db_rows(db, NATOMM_SQL_REVOKE_SINCE,
                       (const char *[]){natomm_db_num(p, from)}, &rows) < 0)
        return -1;
    for (i = 0; i < rows->nelts; i++) {
        const char **row = APR_ARRAY_IDX(rows, i, const char **);
        const char *name = apr_pstrcat(p, row[REV_ACCOUNT], "|", row[REV_AT], NULL);
        apr_int64_t at = apr_atoi64(row[REV_AT]);
        if (apr_hash_get(st->seen, name, APR_HASH_KEY_STRING))
            continue;
        /* everything cached of the account until now is stale */
        natomm_shared_revoke(key, row[REV_ACCOUNT], apr_time_now());
        apr_hash_set(st->seen, apr_pstrdup(apr_hash_pool_get(st->seen), name),
                     APR_HASH_KEY_STRING, row[REV_AT]);
        if (at > top)
            top = at;
    }
    st->cursor_ms = top;
    /* forget what fell out of the lookback (the hash's pool keeps the keys
     * until the context pool goes; a handful a revocation) */
    for (hi = apr_hash_first(p, st->seen); hi; hi = apr_hash_next(hi)) {
        const void *k;
        void *v;
        apr_hash_this(hi, &k, NULL, &v);
        if (apr_atoi64(v) < top - 2 * LOOKBACK_MS)
            apr_hash_set(st->seen, k, APR_HASH_KEY_STRING, NULL);
    }
    return 0;
}

/* One database, once a tick: revocations, health, gauges, purge. */
static int state_tick(natomm_watchdog_ctx *ctx, server_rec *s, natomm_db *db,
                      apr_pool_t *p, natomm_mail_stats_t *sum)
{
    natomm_server_conf *conf = natomm_cfg_server(s);
    natomm_site *site = natomm_db_site(db);
    site_state_t *st = site_state(ctx, site);
    apr_uint64_t key = natomm_shared_key(natomm_site_id(site));
    natomm_mail_stats_t ms;
    int up = read_revocations(db, site, st, p) == 0;

    if (up) {
        natomm_shared_site_up(key);
        natomm_shared_site_polled(key, apr_time_now());
    }
    else {
        natomm_shared_site_down(key, apr_time_now() + DOWN_HOLD);
    }
    if (up && natomm_mail_stats(db, p, &ms) == 0) {
        sum->queued += ms.queued;
        if (ms.oldest_age > sum->oldest_age)
            sum->oldest_age = ms.oldest_age;
    }
    if (!st->reported) {
        st->reported = 1;
        natomm_mail_log_stats(db, s, p);
    }
    if (natomm_now() - st->last_purge >= conf->purge_interval) {
        st->last_purge = natomm_now();
        natomm_db_purge(db, conf->unverified_lifetime);
    }
    return up;
}

/* Every database once: the first server that reaches it does its work. */
static void each_site(natomm_watchdog_ctx *ctx, apr_pool_t *p)
{
    apr_hash_t *done = apr_hash_make(p);
    natomm_mail_stats_t sum = {0, 0, 0, 0, 0};
    int all_up = 1;
    server_rec *v;

    for (v = ctx->s; v; v = v->next) {
        natomm_site *known = natomm_db_site_of(v);
        natomm_db *db;
        const char *id;

        if (known && apr_hash_get(done, natomm_site_id(known), APR_HASH_KEY_STRING))
            continue;
        /* mail goes with the first host that has a transport for it (the
         * main server may have none, its virtual hosts their own) */
        if (ctx->mail && !natomm_cfg_server(v)->mail_transport)
            continue;
        if (!(db = natomm_db_open(p, v))) {
            if (known)
                natomm_shared_site_down(natomm_shared_key(natomm_site_id(known)),
                                        apr_time_now() + DOWN_HOLD);
            all_up = 0;
            continue;
        }
        id = natomm_site_id(natomm_db_site(db));
        if (!apr_hash_get(done, id, APR_HASH_KEY_STRING)) {
            apr_hash_set(done, id, APR_HASH_KEY_STRING, v);
            if (ctx->mail) {
                natomm_db_close(db);
                db = NULL;
                natomm_mail_deliver_due(v, p, &stopping);
            }
            else if (!state_tick(ctx, v, db, p, &sum)) {
                all_up = 0;
            }
        }
        if (db)
            natomm_db_close(db);
    }
    if (!ctx->mail) {
        natomm_stats_set_outbox((apr_uint64_t)sum.queued, (apr_uint64_t)sum.oldest_age);
        natomm_stats_set_db(all_up);
    }
}

static apr_status_t callback(int state, void *baton, apr_pool_t *ptemp)
{
    natomm_watchdog_ctx *ctx = baton;

    switch (state) {
    case AP_WATCHDOG_STATE_STARTING:
        /* mod_dbd may not be set up in this child yet: the work waits for
         * RUNNING */
        apr_pool_create(&ctx->pool, ctx->parent);
        ctx->sites = apr_hash_make(ctx->pool);
        break;
    case AP_WATCHDOG_STATE_RUNNING:
        if (!ctx->pool || stopping || !ctx->busy)
            break;
        apr_thread_mutex_lock(ctx->busy);
        if (!stopping)
            each_site(ctx, ptemp);
        apr_thread_mutex_unlock(ctx->busy);
        break;
    case AP_WATCHDOG_STATE_STOPPING:
        if (ctx->pool)
            apr_pool_destroy(ctx->pool);
        ctx->pool = NULL;
        break;
    }
    return APR_SUCCESS;
}

/* Half the shortest NatommRevocationDelay of any server (1 s at most,
 * 100 ms at least). */
static apr_interval_time_t state_tick_interval(server_rec *s)
{
    apr_int64_t ms = 2000;

    for (; s; s = s->next) {
        apr_int64_t d = natomm_cfg_server(s)->revocation_delay_ms;
        if (d > 0 && d < ms)
            ms = d;
    }
    ms /= 2;
    return apr_time_from_msec(ms < 100 ? 100 : ms > 1000 ? 1000 : ms);
}

static int start(apr_pool_t *pconf, server_rec *s, const char *name,
                 apr_interval_time_t interval, int mail)
{
    APR_OPTIONAL_FN_TYPE(ap_watchdog_get_instance) *get_instance
        = APR_RETRIEVE_OPTIONAL_FN(ap_watchdog_get_instance);
    APR_OPTIONAL_FN_TYPE(ap_watchdog_register_callback) *register_callback
        = APR_RETRIEVE_OPTIONAL_FN(ap_watchdog_register_callback);
    natomm_watchdog_ctx *ctx = apr_pcalloc(pconf, sizeof(*ctx));
    ap_watchdog_t *wd;
    apr_status_t rv;

    if (!get_instance || !register_callback) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s,
                     "NATOMM: mod_watchdog is required for mail delivery");
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    ctx->s = s;
    ctx->parent = pconf;
    ctx->mail = mail;
    contexts[mail ? 1 : 0] = ctx;
    /* a singleton child watchdog: one process of the server works */
    rv = get_instance(&wd, name, 0, 1, pconf);
    if (rv == APR_SUCCESS)
        rv = register_callback(wd, interval, ctx, callback);
    if (rv != APR_SUCCESS && rv != APR_EEXIST) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, rv, s,
                     "NATOMM: cannot register the %s watchdog", name);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    return OK;
}

int natomm_watchdog_register(apr_pool_t *pconf, server_rec *s)
{
    int rv;

    /* before any thread exists: libcurl's global set-up is not thread-safe */
    curl_global_init(CURL_GLOBAL_DEFAULT);
    if ((rv = start(pconf, s, STATE_WATCHDOG, state_tick_interval(s), 0)) != OK)
        return rv;
    return start(pconf, s, MAIL_WATCHDOG, MAIL_TICK, 1);
}

/* Runs before the child's pools go (a pre-cleanup): no new tick begins,
 * and the one in progress is waited for. */
static apr_status_t wait_for_ticks(void *data)
{
    int i;
    (void)data;

    stopping = 1;
    for (i = 0; i < 2; i++)
        if (contexts[i] && contexts[i]->busy
            && apr_thread_mutex_timedlock(contexts[i]->busy, EXIT_WAIT) == APR_SUCCESS)
            apr_thread_mutex_unlock(contexts[i]->busy);
    return APR_SUCCESS;
}

void natomm_watchdog_child_init(apr_pool_t *pchild)
{
    int i;

    stopping = 0;
    for (i = 0; i < 2; i++)
        if (contexts[i])
            apr_thread_mutex_create(&contexts[i]->busy, APR_THREAD_MUTEX_TIMED, pchild);
    apr_pool_pre_cleanup_register(pchild, NULL, wait_for_ticks);
}
