/* Shared state (see natomm_shared.h). */
#include "natomm_shared.h"
#include <string.h>
#include "apr_shm.h"
#include "apr_strings.h"

/* the layout version is in the name: a new layout after an upgrade and a
 * graceful restart gets a segment of its own */
#define USERDATA_KEY "natomm-shared-segment-3"
#define MAGIC APR_UINT64_C(0x4e41544f4d4d0003)   /* "NATOMM" and a layout version */

typedef struct {
    apr_uint64_t key;          /* natomm_shared_key of the database; 0 free */
    apr_uint64_t down_until;   /* apr_time_t; 0 up */
    apr_uint64_t polled;       /* apr_time_t of the last revocation read */
} site_t;

typedef struct {
    apr_uint64_t magic;
    natomm_stats_t stats;
    site_t sites[NATOMM_SHARED_SITES];
    apr_uint64_t revoke[NATOMM_REVOKE_SLOTS];
} segment_t;

static segment_t *seg;

static void attach(segment_t *s)
{
    seg = s;
    natomm_stats_attach(&s->stats);
}

apr_status_t natomm_shared_create(apr_pool_t *keep)
{
    apr_shm_t *shm = NULL;
    void *found = NULL;
    apr_status_t rv;

    apr_pool_userdata_get(&found, USERDATA_KEY, keep);
    if (found) {                     /* a graceful restart: the same segment */
        attach(found);
        return APR_SUCCESS;
    }
    /* anonymous: inherited by every child forked from now on */
    rv = apr_shm_create(&shm, sizeof(segment_t), NULL, keep);
    if (rv != APR_SUCCESS)
        return rv;
    memset(apr_shm_baseaddr_get(shm), 0, sizeof(segment_t));
    ((segment_t *)apr_shm_baseaddr_get(shm))->magic = MAGIC;
    attach(apr_shm_baseaddr_get(shm));
    apr_pool_userdata_set(seg, USERDATA_KEY, apr_pool_cleanup_null, keep);
    return APR_SUCCESS;
}

void natomm_shared_private(apr_pool_t *p)
{
    attach(apr_pcalloc(p, sizeof(segment_t)));
    seg->magic = MAGIC;
}

apr_uint64_t natomm_shared_key(const char *s)
{
    apr_uint64_t h = APR_UINT64_C(0xcbf29ce484222325);

    for (; s && *s; s++) {
        h ^= (unsigned char)*s;
        h *= APR_UINT64_C(0x100000001b3);
    }
    return h ? h : 1;
}

static apr_uint64_t *slot(apr_uint64_t site, const char *account_id)
{
    apr_uint64_t h = natomm_shared_key(account_id) ^ (site * APR_UINT64_C(0x9e3779b97f4a7c15));
    return &seg->revoke[(h ^ (h >> 29)) % NATOMM_REVOKE_SLOTS];
}

void natomm_shared_revoke(apr_uint64_t site, const char *account_id, apr_time_t at)
{
    apr_uint64_t *s, old;

    if (!seg || !account_id)
        return;
    s = slot(site, account_id);
    old = __atomic_load_n(s, __ATOMIC_ACQUIRE);
    while (old < (apr_uint64_t)at
           && !__atomic_compare_exchange_n(s, &old, (apr_uint64_t)at, 1,
                                           __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
        ;
}

int natomm_shared_revoked_since(apr_uint64_t site, const char *account_id,
                                apr_time_t made)
{
    /* without shared state nothing can be trusted from a cache */
    if (!seg || !account_id)
        return 1;
    return __atomic_load_n(slot(site, account_id), __ATOMIC_ACQUIRE)
        >= (apr_uint64_t)made;
}

/* The entry of a database, claimed on first use; NULL when all are taken. */
static site_t *site_entry(apr_uint64_t key, int claim)
{
    int i;

    if (!seg)
        return NULL;
    for (i = 0; i < NATOMM_SHARED_SITES; i++) {
        apr_uint64_t k = __atomic_load_n(&seg->sites[i].key, __ATOMIC_ACQUIRE);
        if (k == key)
            return &seg->sites[i];
        if (k == 0 && claim) {
            apr_uint64_t zero = 0;
            if (__atomic_compare_exchange_n(&seg->sites[i].key, &zero, key, 0,
                                            __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)
                || zero == key)
                return &seg->sites[i];
        }
    }
    return NULL;
}

void natomm_shared_site_down(apr_uint64_t site, apr_time_t until)
{
    site_t *e = site_entry(site, 1);
    if (e)
        __atomic_store_n(&e->down_until, (apr_uint64_t)until, __ATOMIC_RELEASE);
}

void natomm_shared_site_up(apr_uint64_t site)
{
    site_t *e = site_entry(site, 1);
    if (e)
        __atomic_store_n(&e->down_until, 0, __ATOMIC_RELEASE);
}

int natomm_shared_site_is_down(apr_uint64_t site, apr_time_t now)
{
    site_t *e = site_entry(site, 0);
    return e && __atomic_load_n(&e->down_until, __ATOMIC_ACQUIRE) > (apr_uint64_t)now;
}

void natomm_shared_site_polled(apr_uint64_t site, apr_time_t at)
{
    site_t *e = site_entry(site, 1);
    if (e)
        __atomic_store_n(&e->polled, (apr_uint64_t)at, __ATOMIC_RELEASE);
}

apr_time_t natomm_shared_site_poll_time(apr_uint64_t site)
{
    site_t *e = site_entry(site, 0);
    return e ? (apr_time_t)__atomic_load_n(&e->polled, __ATOMIC_ACQUIRE) : 0;
}
