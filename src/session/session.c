/* The session cookie and the session rows (see natomm_session.h). The
 * database keeps SHA-256(token), never the token. */
#include "natomm_session.h"
#include <string.h>
#include <stdlib.h>
#include "util_cookies.h"
#include "apr_strings.h"
#include "natomm_cfg.h"
#include "natomm_clock.h"
#include "natomm_crypto.h"
#include "natomm_http.h"
#include "natomm_shared.h"
#include "natomm_token.h"

/* last_seen is written at most this often (or a quarter of the idle timeout) */
#define TOUCH_INTERVAL 60

/* ---- the cookie: the one place that writes it ------------------------ */

/* __Host- is only honoured by browsers together with Secure and Path=/. */
static const char *cookie_name(request_rec *r)
{
    const char *name = natomm_cfg_server(r->server)->cookie_name;
    return natomm_request_is_https(r) ? apr_pstrcat(r->pool, "__Host-", name, NULL)
                                      : name;
}

static void cookie_write(request_rec *r, const char *value, apr_int64_t max_age)
{
    const char *attrs = apr_pstrcat(r->pool, "; Path=/",
                                    natomm_request_is_https(r) ? "; Secure" : "",
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

void natomm_session_unset_cookie(request_rec *r)
{
    apr_table_unset(r->err_headers_out, "Set-Cookie");
}

static const char *cookie_token(request_rec *r)
{
    const char *val = NULL;

    if (ap_cookie_read(r, cookie_name(r), &val, 0) != APR_SUCCESS)
        return NULL;
    return natomm_token_shape(val) ? val : NULL;
}

const char *natomm_session_cookie_hash(request_rec *r)
{
    const char *token = cookie_token(r);
    return token ? natomm_sha256_hex(r->pool, token) : NULL;
}

/* ---- session rows ---------------------------------------------------- */

int natomm_session_create(natomm_db *db, request_rec *r, const char *account_id,
                          int remember)
{
    natomm_server_conf *conf = natomm_cfg_server(r->server);
    apr_int64_t now = natomm_now();
    apr_int64_t idle = remember ? conf->session_remember : conf->session_idle;
    apr_int64_t life = remember ? conf->session_remember : conf->session_lifetime;
    const char *token = natomm_token(r->pool);
    const char *now_s = natomm_db_num(r->pool, now);

    if (!token)
        return -1;
    if (natomm_db_exec(db, NATOMM_SQL_SESSION_INSERT, (const char *[]){
            natomm_sha256_hex(r->pool, token), account_id, now_s, now_s,
            natomm_db_num(r->pool, idle), natomm_db_num(r->pool, now + life),
            natomm_request_client_ip(r)}) != 1)
        return -1;
    cookie_write(r, token, remember ? life : 0);
    return 0;
}

int natomm_session_lookup(natomm_db *db, request_rec *r, const char *hash,
                          natomm_session_info *info, apr_int64_t *until)
{
    const char *c[SESS_NCOLS];
    apr_int64_t now = natomm_now(), last, idle, expires, touch_every;
    int n = natomm_db_row(db, NATOMM_SQL_SESSION_GET, (const char *[]){hash}, c);

    if (n <= 0)
        return n;
    last = apr_atoi64(c[SESS_LAST_SEEN]);
    idle = apr_atoi64(c[SESS_IDLE]);
    expires = apr_atoi64(c[SESS_EXPIRES]);
    if (now >= expires || now >= last + idle || !c[SESS_VERIFIED])
        return 0;
    touch_every = idle / 4 < TOUCH_INTERVAL ? idle / 4 : TOUCH_INTERVAL;
    /* a busy database that cannot note the visit now is not an outage:
     * the session stays valid and the next visit notes it */
    if (now - last >= touch_every
        && natomm_db_exec(db, NATOMM_SQL_SESSION_TOUCH, (const char *[]){
               natomm_db_num(r->pool, now), hash}) == 1)
        last = now;
    info->account_id = c[SESS_ACCOUNT];
    info->email = c[SESS_EMAIL];
    info->name = c[SESS_NAME];
    info->newsletter = c[SESS_NEWS] && atoi(c[SESS_NEWS]) != 0;
    *until = last + idle < expires ? last + idle : expires;
    return 1;
}

int natomm_session_current(natomm_db *db, request_rec *r,
                           natomm_session_info *info)
{
    const char *hash = natomm_session_cookie_hash(r);
    apr_int64_t until;

    return hash ? natomm_session_lookup(db, r, hash, info, &until) : 0;
}

int natomm_session_end(natomm_db *db, request_rec *r)
{
    const char *hash = natomm_session_cookie_hash(r);
    int rv = 0;

    if (hash) {
        rv = natomm_db_exec(db, NATOMM_SQL_SESSION_DELETE, (const char *[]){hash});
        if (natomm_db_site(db))
            natomm_cache_forget(r, natomm_db_site(db), hash);
    }
    cookie_write(r, "", -1);
    return rv < 0 ? -1 : 0;
}

int natomm_session_revoke(natomm_db *db, const char *account_id)
{
    return natomm_db_exec(db, NATOMM_SQL_REVOKE_INSERT, (const char *[]){
        account_id, natomm_db_num(natomm_db_pool(db), natomm_now_ms())}) == 1 ? 0 : -1;
}

/* Every download link of the account made until now is void too. */
static int revoke_links(natomm_db *db, const char *account_id)
{
    return natomm_db_exec(db, NATOMM_SQL_ACCT_LINKS_REVOKE, (const char *[]){
        natomm_db_num(natomm_db_pool(db), natomm_now_ms()), account_id}) < 0 ? -1 : 0;
}

void natomm_session_revoked(request_rec *r, const char *account_id)
{
    natomm_site *site = natomm_db_site_of(r->server);

    if (site)
        natomm_shared_revoke(natomm_shared_key(natomm_site_id(site)), account_id,
                             apr_time_now());
}

int natomm_session_end_all(natomm_db *db, const char *account_id)
{
    return natomm_db_exec(db, NATOMM_SQL_SESSION_DELETE_ACCOUNT,
                          (const char *[]){account_id}) < 0
        || revoke_links(db, account_id) || natomm_session_revoke(db, account_id) ? -1 : 0;
}

int natomm_session_end_others(natomm_db *db, request_rec *r,
                              const char *account_id)
{
    const char *hash = natomm_session_cookie_hash(r);

    return natomm_db_exec(db, NATOMM_SQL_SESSION_DELETE_OTHERS,
                          (const char *[]){account_id, hash ? hash : ""}) < 0
        || revoke_links(db, account_id) || natomm_session_revoke(db, account_id) ? -1 : 0;
}
