/* One database, whichever virtual hosts reach it (see natomm_db.h). Sites
 * live for the process: a handful per httpd, looked up by identity. */
#include "natomm_db.h"
#include "natomm_db_internal.h"
#include <string.h>
#include "apr_hash.h"
#include "apr_strings.h"
#include "apr_global_mutex.h"
#include "apr_thread_mutex.h"
#include "util_mutex.h"
#include "natomm_cfg.h"
#include "natomm_crypto.h"

struct natomm_site {
    const char *id;
    const char *code_key;
    const char *link_key;
    apr_global_mutex_t *writer;       /* SQLite only */
    apr_hash_t *derived;              /* use -> key, under registry_lock */
};

/* SQLite writers of all processes queue here rather than in the driver,
 * whose retries sleep 100 ms each: a database takes one of these by its
 * identity (two databases may share one, which only serialises more). */
#define WRITERS 4
#define WRITER_MUTEX "natomm-sqlite-writer"
static apr_global_mutex_t *writers[WRITERS];

int natomm_db_pre_config(apr_pool_t *pconf)
{
    return ap_mutex_register(pconf, WRITER_MUTEX, NULL, APR_LOCK_DEFAULT_TIMED, 0);
}

int natomm_db_post_config(apr_pool_t *pconf, server_rec *s)
{
    int i;

    for (i = 0; i < WRITERS; i++)
        if (ap_global_mutex_create(&writers[i], NULL, WRITER_MUTEX,
                                   apr_itoa(pconf, i), s, pconf, 0) != APR_SUCCESS)
            return HTTP_INTERNAL_SERVER_ERROR;
    return OK;
}

static void writers_child_init(apr_pool_t *p)
{
    int i;

    for (i = 0; i < WRITERS; i++)
        if (writers[i] && apr_global_mutex_child_init(&writers[i],
                apr_global_mutex_lockfile(writers[i]), p) != APR_SUCCESS)
            writers[i] = NULL;
}

static apr_pool_t *registry_pool;
static apr_thread_mutex_t *registry_lock;
static apr_hash_t *sites;             /* id -> natomm_site */

void natomm_db_site_child_init(apr_pool_t *p)
{
    writers_child_init(p);
    apr_pool_create(&registry_pool, p);
    apr_thread_mutex_create(&registry_lock, APR_THREAD_MUTEX_DEFAULT, p);
    sites = apr_hash_make(registry_pool);
}

static void lock(void)
{
    if (registry_lock)
        apr_thread_mutex_lock(registry_lock);
}

static void unlock(void)
{
    if (registry_lock)
        apr_thread_mutex_unlock(registry_lock);
}

natomm_site *natomm_db_site_find(const char *id, const char *code_key,
                                 const char *link_key, int sqlite)
{
    natomm_site *site;

    if (!sites)                       /* no child_init: a one-off process */
        natomm_db_site_child_init(NULL);
    lock();
    site = apr_hash_get(sites, id, APR_HASH_KEY_STRING);
    if (!site) {
        site = apr_pcalloc(registry_pool, sizeof(*site));
        site->id = apr_pstrdup(registry_pool, id);
        site->code_key = apr_pstrdup(registry_pool, code_key);
        site->link_key = apr_pstrdup(registry_pool, link_key);
        site->derived = apr_hash_make(registry_pool);
        if (sqlite)
            site->writer = writers[(unsigned char)site->id[0] % WRITERS];
        apr_hash_set(sites, site->id, APR_HASH_KEY_STRING, site);
    }
    unlock();
    return site;
}

natomm_site *natomm_db_site(natomm_db *db)
{
    return db->handle ? db->handle->site : NULL;
}

natomm_site *natomm_db_site_of(const server_rec *s)
{
    return natomm_cfg_server(s)->site;
}

const char *natomm_site_id(const natomm_site *site)
{
    return site->id;
}

const char *natomm_site_code_key(const natomm_site *site)
{
    return site->code_key;
}

const char *natomm_site_link_key(const natomm_site *site)
{
    return site->link_key;
}

const char *natomm_site_derived_key(const natomm_site *site, const char *use)
{
    const char *key;

    lock();
    key = apr_hash_get(site->derived, use, APR_HASH_KEY_STRING);
    if (!key) {
        key = natomm_hmac_hex(registry_pool, site->code_key,
                              apr_pstrcat(registry_pool, "natomm-key|", use, NULL));
        if (key)
            apr_hash_set(site->derived, apr_pstrdup(registry_pool, use),
                         APR_HASH_KEY_STRING, key);
    }
    unlock();
    return key;
}

const char *natomm_db_code_key(natomm_db *db)
{
    natomm_site *site = natomm_db_site(db);
    return site ? site->code_key : NULL;
}

apr_global_mutex_t *natomm_db_site_write_lock(natomm_site *site)
{
    return site ? site->writer : NULL;
}
