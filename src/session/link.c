/* Download links at the gate (see natomm_session.h): the token taken out
 * of the request as it is read, and the verdict on it.
 *
 * A link is a bearer capability until it expires, so what voids it early
 * is the account: deleted, disabled, or its links_after moved past the
 * link's making (logout of all sessions, a password change or reset).
 * That state is cached per process, keyed by database and account, like
 * session checks: an entry made at t is stale once the account's shared
 * revocation mark is at or after t (every node's watchdog turns the
 * database's revocation log into marks within NatommRevocationDelay), or
 * after NatommSessionCacheTTL, or when the revocations were not read in
 * time. A miss reads the account row through natomm_db_open and closes the
 * connection before the file is served.
 */
#include "natomm_session.h"
#include <string.h>
#include "http_core.h"
#include "http_log.h"
#include "apr_strings.h"
#include "apr_thread_mutex.h"
#include "natomm_cfg.h"
#include "natomm_link.h"
#include "natomm_shared.h"

#define LINK_NOTE "natomm-link"
/* after a failed lookup, cached checks are refused this long (as gate.c) */
#define DOWN_HOLD apr_time_from_sec(5)

/* ---- the request ----------------------------------------------------- */

int natomm_link_post_read_request(request_rec *r)
{
    natomm_link_found_t f;
    char *path;

    if (!natomm_cfg_in_use() || !r->parsed_uri.path
        || !natomm_link_find(r->pool, r->parsed_uri.path, r->args, &f))
        return DECLINED;
    /* one string for both, as httpd's parser leaves them */
    path = apr_pstrdup(r->pool, f.path);
    r->parsed_uri.path = path;
    r->uri = path;
    r->parsed_uri.query = r->args = f.args ? apr_pstrdup(r->pool, f.args) : NULL;
    r->unparsed_uri = apr_uri_unparse(r->pool, &r->parsed_uri,
                                      APR_URI_UNP_OMITSITEPART);
    r->the_request = apr_pstrdup(r->pool, natomm_link_redact(r->pool, r->the_request,
                                                             f.raw));
    apr_table_setn(r->notes, LINK_NOTE, f.token);
    return DECLINED;
}

const char *natomm_link_of(request_rec *r)
{
    if (r->main)
        return NULL;
    for (; r; r = r->prev) {
        const char *token = apr_table_get(r->notes, LINK_NOTE);
        if (token)
            return token;
    }
    return NULL;
}

/* ---- this process's cache of account states -------------------------- */

#define SETS 512
#define WAYS 4
#define STRIPES 32
#define ID_MAX 24
#define EMAIL_MAX 254

typedef struct {
    const char *email;         /* "" when the account is gone */
    apr_int64_t links_after;   /* ms: links made before are void */
    int usable;                /* there, verified, not disabled */
    apr_time_t made;           /* when the check began (before the lookup) */
    apr_time_t until;          /* when it must be asked again */
} state_t;

typedef struct {
    apr_uint64_t site;         /* 0: a free way */
    char account[ID_MAX];
    char email[EMAIL_MAX + 1];
    apr_int64_t links_after;
    int usable;
    apr_time_t made, until;
} entry_t;

static entry_t *table;
static apr_thread_mutex_t *locks[STRIPES];

void natomm_link_child_init(apr_pool_t *p)
{
    int i;

    table = apr_pcalloc(p, sizeof(entry_t) * SETS * WAYS);
    for (i = 0; i < STRIPES; i++)
        if (apr_thread_mutex_create(&locks[i], APR_THREAD_MUTEX_DEFAULT, p))
            table = NULL;
}

static apr_uint64_t key_of(natomm_site *site)
{
    return natomm_shared_key(natomm_site_id(site));
}

static unsigned set_of(apr_uint64_t site, const char *account)
{
    apr_uint64_t h = natomm_shared_key(account) ^ (site * APR_UINT64_C(0x9e3779b97f4a7c15));
    return (unsigned)((h ^ (h >> 31)) % SETS);
}

static int table_get(apr_uint64_t site, const char *account, state_t *out,
                     apr_pool_t *p)
{
    unsigned set = set_of(site, account);
    entry_t *e = &table[set * WAYS];
    int i, found = 0;

    apr_thread_mutex_lock(locks[set % STRIPES]);
    for (i = 0; i < WAYS && !found; i++) {
        if (e[i].site == site && !strcmp(e[i].account, account)) {
            out->email = apr_pstrdup(p, e[i].email);
            out->links_after = e[i].links_after;
            out->usable = e[i].usable;
            out->made = e[i].made;
            out->until = e[i].until;
            found = 1;
        }
    }
    apr_thread_mutex_unlock(locks[set % STRIPES]);
    return found;
}

/* Into the way that holds the account, else a free one, else the one
 * that ends first. */
static void table_put(apr_uint64_t site, const char *account, const state_t *in)
{
    unsigned set = set_of(site, account);
    entry_t *e = &table[set * WAYS], *w = &e[0];
    int i;

    if (strlen(account) >= ID_MAX || strlen(in->email) > EMAIL_MAX)
        return;
    apr_thread_mutex_lock(locks[set % STRIPES]);
    for (i = 0; i < WAYS; i++) {
        if (e[i].site == site && !strcmp(e[i].account, account)) {
            w = &e[i];
            break;
        }
        if (!e[i].site || e[i].until < w->until)
            w = &e[i];
    }
    w->site = site;
    apr_cpystrn(w->account, account, sizeof(w->account));
    apr_cpystrn(w->email, in->email, sizeof(w->email));
    w->links_after = in->links_after;
    w->usable = in->usable;
    w->made = in->made;
    w->until = in->until;
    apr_thread_mutex_unlock(locks[set % STRIPES]);
}

/* A cached state still good: in time, not revoked since it was made. */
static int cached(request_rec *r, natomm_site *site, const char *account,
                  apr_time_t now, state_t *st)
{
    return table && natomm_cache_usable(r, site, now)
        && table_get(key_of(site), account, st, r->pool)
        && now < st->until
        && !natomm_shared_revoked_since(key_of(site), account, st->made);
}

static void remember(request_rec *r, natomm_site *site, const char *account,
                     const state_t *st)
{
    if (table && natomm_cfg_server(r->server)->revocation_delay_ms > 0)
        table_put(key_of(site), account, st);
}

/* ---- the verdict ----------------------------------------------------- */

static natomm_link_verdict_t refused(request_rec *r, const char *why,
                                     const char *account)
{
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r,
                  "NATOMM: download link refused: %s (account=%s)", why,
                  account ? account : "-");
    return NATOMM_LINKV_FORBIDDEN;
}

/* The account row: 1 (st filled, also for an account that is gone), or -1. */
static int read_state(natomm_db *db, const char *account, state_t *st)
{
    const char *c[LINKST_NCOLS];
    int n = natomm_db_row(db, NATOMM_SQL_ACCT_LINK_STATE, (const char *[]){account}, c);

    if (n < 0)
        return -1;
    st->email = n && c[LINKST_EMAIL] ? c[LINKST_EMAIL] : "";
    st->links_after = n && c[LINKST_AFTER] ? apr_atoi64(c[LINKST_AFTER]) : 0;
    st->usable = n && c[LINKST_VERIFIED] && !c[LINKST_DISABLED] && *st->email;
    return 1;
}

static natomm_link_verdict_t decide(request_rec *r, const natomm_link_t *l,
                                    const char *account, const state_t *st,
                                    const char **email)
{
    if (!st->usable)
        return refused(r, "the account is gone or disabled", account);
    if (l->made_ms < st->links_after)
        return refused(r, "revoked", account);
    *email = st->email;
    return NATOMM_LINKV_ALLOW;
}

static void mark_down(natomm_site *site, apr_time_t now)
{
    if (site)
        natomm_shared_site_down(key_of(site), now + DOWN_HOLD);
}

natomm_link_verdict_t natomm_link_verify(request_rec *r, const char *token,
                                         const char **email)
{
    natomm_site *site = natomm_db_site_of(r->server);
    apr_time_t now = apr_time_now();
    natomm_db *db = NULL;
    natomm_link_t l;
    natomm_link_result_t res;
    const char *account;
    state_t st;
    int rv;

    /* fail closed: a database marked down lets nothing through */
    if (site && natomm_shared_site_is_down(key_of(site), now))
        return NATOMM_LINKV_UNAVAILABLE;
    /* the key is the database's: before this process's first connection
     * to it, ask it */
    if (!site) {
        if (!(db = natomm_db_open(r->pool, r->server)))
            return NATOMM_LINKV_UNAVAILABLE;
        site = natomm_db_site(db);
    }
    res = natomm_link_check(r->pool, natomm_site_link_key(site), token, r->uri,
                            apr_time_sec(now), &l);
    if (res != NATOMM_LINK_OK) {
        if (db)
            natomm_db_close(db);
        if (res == NATOMM_LINK_EXPIRED)
            return NATOMM_LINKV_GONE;
        return refused(r, "malformed, tampered, or for another path", NULL);
    }
    account = apr_psprintf(r->pool, "%" APR_UINT64_T_FMT, l.account);
    if (!db && cached(r, site, account, now, &st))
        return decide(r, &l, account, &st, email);
    /* dated before the lookup: a revocation committed meanwhile wins */
    if (!db && !(db = natomm_db_open(r->pool, r->server))) {
        mark_down(site, now);
        return NATOMM_LINKV_UNAVAILABLE;
    }
    rv = read_state(db, account, &st);
    natomm_db_close(db);
    if (rv < 0) {
        mark_down(site, now);
        return NATOMM_LINKV_UNAVAILABLE;
    }
    st.made = now;
    st.until = now + apr_time_from_sec(natomm_cfg_server(r->server)->cache_ttl);
    remember(r, site, account, &st);
    return decide(r, &l, account, &st, email);
}
