/* Sessions, the session cookie and the gate (see natomm_session.h).
 *
 * The database keeps SHA-256(token), never the token. The gate asks the
 * shared-memory cache first; on a miss it opens its own connection with
 * ap_dbd_open and closes it before the file is served, so a long download
 * holds no pooled connection. A cached "valid" lives at most
 * NatommSessionCacheTTL: that is the bound on how late another server
 * honours a logout (this server removes the entry at once).
 */
#include <string.h>
#include "httpd.h"
#include "http_config.h"
#include "http_core.h"
#include "http_log.h"
#include "http_protocol.h"
#include "http_request.h"
#include "util_cookies.h"
#include "util_mutex.h"
#include "ap_provider.h"
#include "ap_socache.h"
#include "apr_strings.h"

#include "natomm.h"
#include "natomm_session.h"
#include "natomm_crypto.h"
#include "natomm_http.h"

#define CACHE_MUTEX "natomm-cache"
#define CACHE_VALUE_MAX 512
/* last_seen is written at most this often (or a quarter of the idle timeout) */
#define TOUCH_INTERVAL 60

/* One cache for the whole server (mod_socache instances are per process
 * tree, created in the parent). */
static ap_socache_provider_t *cache_provider;
static ap_socache_instance_t *cache_instance;
static apr_global_mutex_t *cache_mutex;

static natomm_server_conf *sconf(request_rec *r)
{
    return ap_get_module_config(r->server->module_config, &natomm_module);
}

/* ---- the cookie: the one place that writes it ------------------------ */

static int is_https(request_rec *r)
{
    return !strcmp(ap_http_scheme(r), "https");
}

/* __Host- is only honoured by browsers together with Secure and Path=/. */
static const char *cookie_name(request_rec *r)
{
    const char *name = sconf(r)->cookie_name;
    return is_https(r) ? apr_pstrcat(r->pool, "__Host-", name, NULL) : name;
}

static void cookie_write(request_rec *r, const char *value, apr_int64_t max_age)
{
    const char *attrs = apr_pstrcat(r->pool, "; Path=/",
                                    is_https(r) ? "; Secure" : "",
                                    "; HttpOnly; SameSite=Lax", NULL);
    const char *age = "";

    if (max_age > 0)
        age = apr_psprintf(r->pool, "; Max-Age=%" APR_INT64_T_FMT, max_age);
    else if (max_age < 0)
        age = "; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT";
    /* err_headers_out: the cookie must survive error and redirect answers */
    apr_table_addn(r->err_headers_out, "Set-Cookie",
                   apr_pstrcat(r->pool, cookie_name(r), "=", value, attrs, age,
                               NULL));
}

static const char *cookie_token(request_rec *r)
{
    const char *val = NULL;

    if (ap_cookie_read(r, cookie_name(r), &val, 0) != APR_SUCCESS || !val)
        return NULL;
    /* a token is 43 base64url characters; anything else is not ours */
    if (strlen(val) != 43 || strspn(val, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                    "abcdefghijklmnopqrstuvwxyz0123456789-_") != 43)
        return NULL;
    return val;
}

/* ---- the cache ------------------------------------------------------- */

const char *natomm_cache_configure(cmd_parms *cmd, natomm_server_conf *conf,
                                   const char *spec)
{
    (void)cmd;
    conf->cache_spec = spec;
    return NULL;
}

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

int natomm_cache_post_config(apr_pool_t *pconf, apr_pool_t *ptemp, server_rec *s)
{
    natomm_server_conf *conf = ap_get_module_config(s->module_config,
                                                    &natomm_module);
    const char *spec = conf->cache_spec ? conf->cache_spec : "shmcb";
    const char *args = strchr(spec, ':'), *name, *err;
    struct ap_socache_hints hints = {64, CACHE_VALUE_MAX, 30};
    apr_status_t rv;

    cache_provider = NULL;
    cache_instance = NULL;
    if (!strcasecmp(spec, "none"))
        return OK;
    name = args ? apr_pstrmemdup(ptemp, spec, args - spec) : spec;
    cache_provider = ap_lookup_provider(AP_SOCACHE_PROVIDER_GROUP, name,
                                        AP_SOCACHE_PROVIDER_VERSION);
    if (!cache_provider) {
        if (conf->cache_spec) {
            ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s,
                         "NATOMM: NatommSessionCache %s: no such socache provider "
                         "(LoadModule socache_%s_module?)", spec, name);
            return HTTP_INTERNAL_SERVER_ERROR;
        }
        ap_log_error(APLOG_MARK, APLOG_INFO, 0, s, "NATOMM: mod_socache_shmcb "
                     "not loaded: every gate check reads the database");
        return OK;
    }
    err = cache_provider->create(&cache_instance, args ? args + 1 : NULL,
                                 ptemp, pconf);
    if (err) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s,
                     "NATOMM: NatommSessionCache %s: %s", spec, err);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    if (cache_provider->flags & AP_SOCACHE_FLAG_NOTMPSAFE) {
        rv = ap_global_mutex_create(&cache_mutex, NULL, CACHE_MUTEX, NULL, s,
                                    pconf, 0);
        if (rv != APR_SUCCESS)
            return HTTP_INTERNAL_SERVER_ERROR;
    }
    rv = cache_provider->init(cache_instance, "mod_natomm", &hints, s, pconf);
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, rv, s,
                     "NATOMM: cannot initialise the session cache");
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    apr_pool_cleanup_register(pconf, NULL, cache_destroy, apr_pool_cleanup_null);
    return OK;
}

void natomm_cache_child_init(apr_pool_t *p, server_rec *s)
{
    if (cache_mutex
        && apr_global_mutex_child_init(&cache_mutex,
                                       apr_global_mutex_lockfile(cache_mutex),
                                       p) != APR_SUCCESS)
        ap_log_error(APLOG_MARK, APLOG_ERR, 0, s,
                     "NATOMM: session cache mutex unusable in this child");
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

static int cache_get_s(server_rec *s, apr_pool_t *p, const char *key, char *value)
{
    unsigned int len = CACHE_VALUE_MAX - 1;
    apr_status_t rv;

    if (!cache_instance || !cache_lock())
        return 0;
    rv = cache_provider->retrieve(cache_instance, s,
                                  (const unsigned char *)key, strlen(key),
                                  (unsigned char *)value, &len, p);
    cache_unlock();
    if (rv != APR_SUCCESS)
        return 0;
    value[len] = '\0';
    return 1;
}

static void cache_put_s(server_rec *s, apr_pool_t *p, const char *key,
                        const char *value, apr_int64_t until)
{
    if (!cache_instance || strlen(value) >= CACHE_VALUE_MAX || !cache_lock())
        return;
    cache_provider->store(cache_instance, s, (const unsigned char *)key,
                          strlen(key), apr_time_from_sec(until),
                          (unsigned char *)value, strlen(value), p);
    cache_unlock();
}

static void cache_remove_s(server_rec *s, apr_pool_t *p, const char *key)
{
    if (!cache_instance || !cache_lock())
        return;
    cache_provider->remove(cache_instance, s, (const unsigned char *)key,
                           strlen(key), p);
    cache_unlock();
}

static int cache_get(request_rec *r, const char *key, char *value)
{
    return cache_get_s(r->server, r->pool, key, value);
}

static void cache_put(request_rec *r, const char *key, const char *value,
                      apr_int64_t until)
{
    cache_put_s(r->server, r->pool, key, value, until);
}

static void cache_remove(request_rec *r, const char *key)
{
    cache_remove_s(r->server, r->pool, key);
}

/* The database's health, shared by every process of the server: while it
 * is marked down, the gate refuses even sessions it has cached (SPEC §5:
 * fail closed). Refreshed by the mail watchdog every second and by every
 * failed gate lookup; the mark lapses DB_DOWN_HOLD seconds after the last. */
#define DB_DOWN_KEY "natomm:db-down"
#define DB_DOWN_HOLD 5

void natomm_gate_db_health(server_rec *s, apr_pool_t *p, int up)
{
    if (up)
        cache_remove_s(s, p, DB_DOWN_KEY);
    else
        cache_put_s(s, p, DB_DOWN_KEY, "1", natomm_now() + DB_DOWN_HOLD);
}

static int db_marked_down(request_rec *r)
{
    char v[CACHE_VALUE_MAX];
    return cache_get(r, DB_DOWN_KEY, v);
}

/* ---- session rows ---------------------------------------------------- */

int natomm_session_create(natomm_db *db, request_rec *r, const char *account_id,
                          int remember)
{
    natomm_server_conf *conf = sconf(r);
    apr_int64_t now = natomm_now();
    apr_int64_t idle = remember ? conf->session_remember : conf->session_idle;
    apr_int64_t life = remember ? conf->session_remember : conf->session_lifetime;
    const char *token = natomm_token(r->pool);
    const char *now_s = natomm_db_num(r->pool, now);

    if (!token)
        return -1;
    if (natomm_db_exec(db, "natomm_session_insert", (const char *[]){
            natomm_sha256_hex(r->pool, token), account_id, now_s, now_s,
            natomm_db_num(r->pool, idle), natomm_db_num(r->pool, now + life),
            natomm_client_ip(r)}) != 1)
        return -1;
    cookie_write(r, token, remember ? life : 0);
    return 0;
}

/* Reads the session row for a token hash; 1 valid, 0 not, -1 error.
 * Refreshes last_seen when it is old enough; *until gets the time the
 * session stays valid without further activity. */
static int session_lookup(natomm_db *db, request_rec *r, const char *hash,
                          natomm_session_info *info, apr_int64_t *until)
{
    const char *c[8];
    apr_int64_t now = natomm_now(), last, idle, expires, touch_every;
    int n = natomm_db_row(db, "natomm_session_get", (const char *[]){hash}, c, 8);

    if (n <= 0)
        return n;
    last = apr_atoi64(c[1]);
    idle = apr_atoi64(c[2]);
    expires = apr_atoi64(c[3]);
    if (now >= expires || now >= last + idle || !c[7])
        return 0;
    touch_every = idle / 4 < TOUCH_INTERVAL ? idle / 4 : TOUCH_INTERVAL;
    if (now - last >= touch_every) {
        if (natomm_db_exec(db, "natomm_session_touch", (const char *[]){
                natomm_db_num(r->pool, now), hash}) < 0)
            return -1;
        last = now;
    }
    info->account_id = c[0];
    info->email = c[4];
    info->name = c[5];
    info->newsletter = c[6] && atoi(c[6]) != 0;
    *until = last + idle < expires ? last + idle : expires;
    return 1;
}

int natomm_session_current(natomm_db *db, request_rec *r,
                           natomm_session_info *info)
{
    const char *token = cookie_token(r);
    apr_int64_t until;

    if (!token)
        return 0;
    return session_lookup(db, r, natomm_sha256_hex(r->pool, token), info, &until);
}

int natomm_session_end(natomm_db *db, request_rec *r)
{
    const char *token = cookie_token(r);
    int rv = 0;

    if (token) {
        const char *hash = natomm_sha256_hex(r->pool, token);
        rv = natomm_db_exec(db, "natomm_session_delete", (const char *[]){hash});
        cache_remove(r, hash);
    }
    cookie_write(r, "", -1);
    return rv < 0 ? -1 : 0;
}

void natomm_session_revoke_cached(request_rec *r, const char *account_id)
{
    natomm_server_conf *conf = sconf(r);
    cache_put(r, apr_pstrcat(r->pool, "revoked:", account_id, NULL),
              apr_psprintf(r->pool, "%" APR_TIME_T_FMT, apr_time_now()),
              natomm_now() + conf->cache_ttl + 1);
}

int natomm_session_end_all(natomm_db *db, const char *account_id)
{
    return natomm_db_exec(db, "natomm_session_delete_account",
                          (const char *[]){account_id}) < 0 ? -1 : 0;
}

int natomm_session_end_others(natomm_db *db, request_rec *r,
                              const char *account_id)
{
    const char *token = cookie_token(r);
    const char *keep = token ? natomm_sha256_hex(r->pool, token) : "";

    return natomm_db_exec(db, "natomm_session_delete_others",
                          (const char *[]){account_id, keep}) < 0 ? -1 : 0;
}

/* ---- the gate -------------------------------------------------------- */

static int is_navigation(request_rec *r)
{
    const char *accept = apr_table_get(r->headers_in, "Accept");

    return (r->method_number == M_GET) && accept
        && ap_strcasestr(accept, "text/html")
        && !apr_table_get(r->headers_in, "Range");
}

static int deny(request_rec *r)
{
    natomm_dir_conf *d = ap_get_module_config(r->per_dir_config, &natomm_module);

    if (r->main)                 /* a subrequest: the main request answers */
        return HTTP_UNAUTHORIZED;
    if (is_navigation(r)) {
        const char *page = d->login_page ? d->login_page : "/login.html";
        apr_table_setn(r->err_headers_out, "Location", apr_pstrcat(r->pool,
                       page, strchr(page, '?') ? "&" : "?", "return=",
                       ap_escape_urlencoded(r->pool, r->unparsed_uri), NULL));
        apr_table_setn(r->err_headers_out, "Cache-Control", "no-store");
        return HTTP_MOVED_TEMPORARILY;
    }
    ap_discard_request_body(r);
    natomm_send_error(r, HTTP_UNAUTHORIZED, "not_authenticated",
                      "Log in to download this file.");
    return DONE;
}

static int unavailable(request_rec *r)
{
    if (r->main)
        return HTTP_SERVICE_UNAVAILABLE;
    ap_discard_request_body(r);
    natomm_send_error(r, HTTP_SERVICE_UNAVAILABLE, "storage_unavailable",
                      "The account database cannot be reached; try again shortly.");
    return DONE;
}

static int allow(request_rec *r, const char *email)
{
    r->user = apr_pstrdup(r->pool, email);
    /* a shared cache must never hand a gated file to someone else */
    apr_table_setn(r->headers_out, "Cache-Control", "private");
    return OK;
}

/* The address of a cached "<account>\t<made>\t<email>", or NULL when the
 * account's sessions were revoked after the entry was made. */
static const char *cached_email(request_rec *r, char *value)
{
    char marker[CACHE_VALUE_MAX], *made, *email;

    if (!(made = strchr(value, '\t')) || !(email = strchr(made + 1, '\t')))
        return NULL;
    *made++ = '\0';
    *email++ = '\0';
    if (cache_get(r, apr_pstrcat(r->pool, "revoked:", value, NULL), marker)
        && apr_atoi64(marker) >= apr_atoi64(made))
        return NULL;
    return email;
}

/* Asks the database, without holding a pooled connection afterwards. */
static int gate_lookup(request_rec *r, const char *hash, natomm_session_info *info,
                       apr_int64_t *until)
{
    natomm_db *db = natomm_db_open(r->pool, r->server);
    int rv;

    if (!db)
        return -1;
    rv = session_lookup(db, r, hash, info, until);
    natomm_db_close(db);
    return rv;
}

int natomm_gate_check_authn(request_rec *r)
{
    natomm_server_conf *conf = sconf(r);
    const char *type = ap_auth_type(r), *token, *hash, *email;
    char cached[CACHE_VALUE_MAX];
    natomm_session_info info;
    apr_int64_t until, ttl_end;
    apr_time_t made;
    int rv;

    if (!type || strcasecmp(type, NATOMM_AUTHTYPE))
        return DECLINED;
    if (r->main && r->main->user) {
        r->user = r->main->user;
        return OK;
    }
    token = cookie_token(r);
    if (!token)
        return deny(r);
    hash = natomm_sha256_hex(r->pool, token);
    if (cache_get(r, hash, cached) && (email = cached_email(r, cached))) {
        if (db_marked_down(r))
            return unavailable(r);
        return allow(r, email);
    }
    /* dated before the lookup: a revocation committed meanwhile wins */
    made = apr_time_now();
    rv = gate_lookup(r, hash, &info, &until);
    if (rv < 0) {
        natomm_gate_db_health(r->server, r->pool, 0);
        return unavailable(r);
    }
    if (rv == 0)
        return deny(r);
    ttl_end = natomm_now() + conf->cache_ttl;
    cache_put(r, hash, apr_psprintf(r->pool, "%s\t%" APR_TIME_T_FMT "\t%s",
                                    info.account_id, made, info.email),
              until < ttl_end ? until : ttl_end);
    return allow(r, info.email);
}
