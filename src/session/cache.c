/* The cache of session checks (see natomm_session.h): a table of this
 * process's own, read under one of many process-local locks, in front of
 * the server's socache (made in the parent, one for the whole server,
 * behind its global mutex), in front of the database. */
#include "natomm_session.h"
#include <string.h>
#include "http_log.h"
#include "util_mutex.h"
#include "ap_provider.h"
#include "ap_socache.h"
#include "apr_strings.h"
#include "natomm_cfg.h"
#include "natomm_clock.h"
#include "natomm_crypto.h"
#include "natomm_shared.h"
#include "apr_thread_mutex.h"

#define CACHE_MUTEX "natomm-cache"
#define VALUE_MAX 512

/* the process's table: sets of ways, a lock per stripe of sets */
#define L1_SETS 1024
#define L1_WAYS 4
#define L1_STRIPES 64
#define HASH_LEN 64
#define EMAIL_MAX 254
#define ID_MAX 24

typedef struct {
    char hash[HASH_LEN + 1];       /* "" for a free way */
    char account[ID_MAX];
    char email[EMAIL_MAX + 1];
    apr_uint64_t site;
    apr_time_t made, until;
} l1_entry_t;

static l1_entry_t *l1;
static apr_thread_mutex_t *l1_locks[L1_STRIPES];

static ap_socache_provider_t *cache_provider;
static ap_socache_instance_t *cache_instance;
static apr_global_mutex_t *cache_mutex;

int natomm_cache_pre_config(apr_pool_t *pconf)
{
    return ap_mutex_register(pconf, CACHE_MUTEX, NULL, APR_LOCK_DEFAULT, 0);
}

static apr_status_t cache_destroy(void *data)
{
    (void)data;
    if (cache_provider && cache_instance)
        cache_provider->destroy(cache_instance, NULL);
    cache_instance = NULL;
    cache_provider = NULL;
    return APR_SUCCESS;
}

/* The provider named by spec ("shmcb", "shmcb:args"), or NULL (logged
 * when the sysadmin asked for it). */
static ap_socache_provider_t *find_provider(apr_pool_t *ptemp, server_rec *s,
                                            const natomm_server_conf *conf,
                                            const char *spec, const char **args)
{
    const char *colon = strchr(spec, ':');
    const char *name = colon ? apr_pstrmemdup(ptemp, spec, colon - spec) : spec;
    ap_socache_provider_t *prov = ap_lookup_provider(AP_SOCACHE_PROVIDER_GROUP, name,
                                                     AP_SOCACHE_PROVIDER_VERSION);
    *args = colon ? colon + 1 : NULL;
    if (!prov && conf->cache_spec)
        ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s,
                     "NATOMM: NatommSessionCache %s: no such socache provider "
                     "(LoadModule socache_%s_module?)", spec, name);
    else if (!prov)
        ap_log_error(APLOG_MARK, APLOG_INFO, 0, s, "NATOMM: mod_socache_shmcb "
                     "not loaded: the gate caches in each process only");
    return prov;
}

static int cache_start(apr_pool_t *pconf, apr_pool_t *ptemp, server_rec *s,
                       const char *spec, const char *args)
{
    struct ap_socache_hints hints = {64, VALUE_MAX, 30};
    const char *err = cache_provider->create(&cache_instance, args, ptemp, pconf);
    apr_status_t rv;

    if (err) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s,
                     "NATOMM: NatommSessionCache %s: %s", spec, err);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    if ((cache_provider->flags & AP_SOCACHE_FLAG_NOTMPSAFE)
        && ap_global_mutex_create(&cache_mutex, NULL, CACHE_MUTEX, NULL, s,
                                  pconf, 0) != APR_SUCCESS)
        return HTTP_INTERNAL_SERVER_ERROR;
    rv = cache_provider->init(cache_instance, "mod_natomm", &hints, s, pconf);
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, rv, s,
                     "NATOMM: cannot initialise the session cache");
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    apr_pool_cleanup_register(pconf, NULL, cache_destroy, apr_pool_cleanup_null);
    return OK;
}

int natomm_cache_post_config(apr_pool_t *pconf, apr_pool_t *ptemp, server_rec *s)
{
    natomm_server_conf *conf = natomm_cfg_server(s);
    const char *spec = conf->cache_spec ? conf->cache_spec : "shmcb", *args;

    cache_provider = NULL;
    cache_instance = NULL;
    if (conf->cache_off)
        return OK;
    cache_provider = find_provider(ptemp, s, conf, spec, &args);
    if (!cache_provider)
        return conf->cache_spec ? HTTP_INTERNAL_SERVER_ERROR : OK;
    return cache_start(pconf, ptemp, s, spec, args);
}

void natomm_cache_child_init(apr_pool_t *p, server_rec *s)
{
    int i;

    if (cache_mutex
        && apr_global_mutex_child_init(&cache_mutex,
                                       apr_global_mutex_lockfile(cache_mutex),
                                       p) != APR_SUCCESS)
        ap_log_error(APLOG_MARK, APLOG_ERR, 0, s,
                     "NATOMM: session cache mutex unusable in this child");
    l1 = apr_pcalloc(p, sizeof(l1_entry_t) * L1_SETS * L1_WAYS);
    for (i = 0; i < L1_STRIPES; i++)
        if (apr_thread_mutex_create(&l1_locks[i], APR_THREAD_MUTEX_DEFAULT, p))
            l1 = NULL;
}


static int cache_lock(void)
{
    return !cache_mutex || apr_global_mutex_lock(cache_mutex) == APR_SUCCESS;
}

static void cache_unlock(void)
{
    if (cache_mutex)
        apr_global_mutex_unlock(cache_mutex);
}

/* ---- this process's table -------------------------------------------- */

/* The token hash is uniform: its first hex digits pick the set. */
static unsigned set_of(const char *hash)
{
    unsigned v = 0;
    int i;

    for (i = 0; i < 6 && hash[i]; i++)
        v = v * 16 + (unsigned)(hash[i] <= '9' ? hash[i] - '0' : hash[i] - 'a' + 10);
    return v % L1_SETS;
}

static int l1_get(apr_uint64_t site, const char *hash, natomm_cached_t *out,
                  apr_pool_t *p)
{
    unsigned set = set_of(hash);
    l1_entry_t *e = &l1[set * L1_WAYS];
    int i, found = 0;

    apr_thread_mutex_lock(l1_locks[set % L1_STRIPES]);
    for (i = 0; i < L1_WAYS && !found; i++) {
        if (e[i].site == site && !strcmp(e[i].hash, hash)) {
            out->account_id = apr_pstrdup(p, e[i].account);
            out->email = apr_pstrdup(p, e[i].email);
            out->made = e[i].made;
            out->until = e[i].until;
            found = 1;
        }
    }
    apr_thread_mutex_unlock(l1_locks[set % L1_STRIPES]);
    return found;
}

/* Into the way that holds the hash, else a free one, else the one that
 * ends first. */
static void l1_put(apr_uint64_t site, const char *hash, const natomm_cached_t *in)
{
    unsigned set = set_of(hash);
    l1_entry_t *e = &l1[set * L1_WAYS], *w = &e[0];
    int i;

    if (strlen(hash) != HASH_LEN || strlen(in->account_id) >= ID_MAX
        || strlen(in->email) > EMAIL_MAX)
        return;
    apr_thread_mutex_lock(l1_locks[set % L1_STRIPES]);
    for (i = 0; i < L1_WAYS; i++) {
        if (!strcmp(e[i].hash, hash) && e[i].site == site) {
            w = &e[i];
            break;
        }
        if (!e[i].hash[0] || e[i].until < w->until)
            w = &e[i];
    }
    memcpy(w->hash, hash, HASH_LEN + 1);
    apr_cpystrn(w->account, in->account_id, sizeof(w->account));
    apr_cpystrn(w->email, in->email, sizeof(w->email));
    w->site = site;
    w->made = in->made;
    w->until = in->until;
    apr_thread_mutex_unlock(l1_locks[set % L1_STRIPES]);
}

static void l1_forget(apr_uint64_t site, const char *hash)
{
    unsigned set = set_of(hash);
    l1_entry_t *e = &l1[set * L1_WAYS];
    int i;

    apr_thread_mutex_lock(l1_locks[set % L1_STRIPES]);
    for (i = 0; i < L1_WAYS; i++)
        if (e[i].site == site && !strcmp(e[i].hash, hash))
            e[i].hash[0] = '\0';
    apr_thread_mutex_unlock(l1_locks[set % L1_STRIPES]);
}

/* ---- the server's socache -------------------------------------------- */

static const char *l2_key(apr_pool_t *p, natomm_site *site, const char *hash)
{
    return apr_pstrcat(p, "natomm:", natomm_site_id(site), ":", hash, NULL);
}

/* A value names what it vouches for, so that one cannot be moved to
 * another token or database: the MAC covers the database, the token hash
 * and every field. */
static const char *l2_mac(apr_pool_t *p, natomm_site *site, const char *hash,
                          const char *fields)
{
    return natomm_hmac_hex(p, natomm_site_derived_key(site, "socache"),
                           apr_pstrcat(p, natomm_site_id(site), "|", hash, "|",
                                       fields, NULL));
}

static int l2_get(request_rec *r, natomm_site *site, const char *hash,
                  natomm_cached_t *out)
{
    char value[VALUE_MAX];
    unsigned int len = VALUE_MAX - 1;
    const char *key = l2_key(r->pool, site, hash);
    char *fields, *mac, *made, *until, *email;
    apr_status_t rv;

    if (!cache_instance || !cache_lock())
        return 0;
    rv = cache_provider->retrieve(cache_instance, r->server, (const unsigned char *)key,
                                  strlen(key), (unsigned char *)value, &len, r->pool);
    cache_unlock();
    if (rv != APR_SUCCESS)
        return 0;
    value[len] = '\0';
    /* "<account>\t<made>\t<until>\t<email>\t<mac>" */
    if (!(mac = strrchr(value, '\t')))
        return 0;
    *mac++ = '\0';
    fields = apr_pstrdup(r->pool, value);
    if (!natomm_secret_equal(l2_mac(r->pool, site, hash, fields), mac)
        || !(made = strchr(value, '\t')) || !(until = strchr(made + 1, '\t'))
        || !(email = strchr(until + 1, '\t')))
        return 0;
    *made++ = *until++ = *email++ = '\0';
    out->account_id = apr_pstrdup(r->pool, value);
    out->made = apr_atoi64(made);
    out->until = apr_atoi64(until);
    out->email = apr_pstrdup(r->pool, email);
    return 1;
}

static void l2_put(request_rec *r, natomm_site *site, const char *hash,
                   const natomm_cached_t *in)
{
    const char *key = l2_key(r->pool, site, hash);
    const char *fields = apr_psprintf(r->pool, "%s\t%" APR_TIME_T_FMT "\t%"
                                      APR_TIME_T_FMT "\t%s", in->account_id, in->made,
                                      in->until, in->email);
    const char *mac = l2_mac(r->pool, site, hash, fields);
    const char *value = mac ? apr_pstrcat(r->pool, fields, "\t", mac, NULL) : NULL;

    if (!cache_instance || !value || strlen(value) >= VALUE_MAX || !cache_lock())
        return;
    cache_provider->store(cache_instance, r->server, (const unsigned char *)key,
                          strlen(key), in->until, (unsigned char *)value,
                          strlen(value), r->pool);
    cache_unlock();
}

static void l2_forget(request_rec *r, natomm_site *site, const char *hash)
{
    const char *key = l2_key(r->pool, site, hash);

    if (!cache_instance || !cache_lock())
        return;
    cache_provider->remove(cache_instance, r->server, (const unsigned char *)key,
                           strlen(key), r->pool);
    cache_unlock();
}

/* ---- both ------------------------------------------------------------ */

int natomm_cache_usable(request_rec *r, natomm_site *site, apr_time_t now)
{
    const natomm_server_conf *conf = natomm_cfg_server(r->server);

    /* NatommSessionCache none: no cache at all, this process's neither */
    return site && conf->revocation_delay_ms > 0 && !conf->cache_off
        && now - natomm_shared_site_poll_time(natomm_shared_key(natomm_site_id(site)))
           <= apr_time_from_msec(conf->revocation_delay_ms);
}

static apr_uint64_t site_key(natomm_site *site)
{
    return natomm_shared_key(natomm_site_id(site));
}

int natomm_cache_get(request_rec *r, natomm_site *site, const char *hash,
                     natomm_cached_t *out)
{
    if (l1 && l1_get(site_key(site), hash, out, r->pool))
        return 1;
    if (!l2_get(r, site, hash, out))
        return 0;
    if (l1)
        l1_put(site_key(site), hash, out);
    return 1;
}

void natomm_cache_put(request_rec *r, natomm_site *site, const char *hash,
                      const natomm_cached_t *in)
{
    if (l1)
        l1_put(site_key(site), hash, in);
    l2_put(r, site, hash, in);
}

void natomm_cache_forget(request_rec *r, natomm_site *site, const char *hash)
{
    if (l1)
        l1_forget(site_key(site), hash);
    l2_forget(r, site, hash);
}
