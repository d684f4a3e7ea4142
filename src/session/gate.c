/* The gate, AuthType natomm (see natomm_session.h).
 *
 * A check that this server made lately is answered from the cache with a
 * local lookup and atomic reads of the shared state (the account's
 * revocation mark, the database's health, how fresh its revocations are),
 * no lock shared between processes and no database. Otherwise the gate
 * opens its own connection with ap_dbd_open and closes it before the file
 * is served, so a long download holds no pooled connection. A revocation
 * on any node reaches this one within NatommRevocationDelay: its watchdog
 * reads the revocation log that often, and a cache whose log was not read
 * in that time is not used.
 *
 * A request that came with a download link (link.c) is judged by the link
 * alone, cookie or not: a download manager gets the file, or 403 / 410 /
 * 503 with a tiny JSON body, never a redirect to a login page it would
 * save as the video.
 */
#include "natomm_session.h"
#include <string.h>
#include "http_core.h"
#include "http_protocol.h"
#include "http_request.h"
#include "apr_strings.h"
#include "natomm_cfg.h"
#include "natomm_clock.h"
#include "natomm_http.h"
#include "natomm_shared.h"
#include "natomm_stats.h"

/* a main request that passed this gate leaves its user here */
#define PASSED_NOTE "natomm-gate-user"
/* after a failed lookup, cached checks are refused this long */
#define DOWN_HOLD apr_time_from_sec(5)

static int is_navigation(request_rec *r)
{
    const char *accept = apr_table_get(r->headers_in, "Accept");

    return (r->method_number == M_GET) && accept
        && ap_strcasestr(accept, "text/html")
        && !apr_table_get(r->headers_in, "Range");
}

static int deny(request_rec *r)
{
    natomm_dir_conf *d = natomm_cfg_dir(r);
    const char *realm = natomm_cfg_server(r->server)->site_name;

    natomm_stats_count_gate(NATOMM_GATE_DENIED);
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
    /* RFC 9110 11.6.1: a 401 names its scheme */
    apr_table_setn(r->err_headers_out, "WWW-Authenticate",
                   apr_pstrcat(r->pool, "Natomm realm=\"",
                               ap_escape_quotes(r->pool, realm), "\"", NULL));
    ap_discard_request_body(r);
    natomm_reply_error(r, NATOMM_E_NOT_AUTHENTICATED);
    return DONE;
}

static int unavailable(request_rec *r)
{
    natomm_stats_count_gate(NATOMM_GATE_UNAVAILABLE);
    if (r->main)
        return HTTP_SERVICE_UNAVAILABLE;
    ap_discard_request_body(r);
    natomm_reply_error(r, NATOMM_E_STORAGE_UNAVAILABLE);
    return DONE;
}

static int passed(request_rec *r, const char *email)
{
    r->user = apr_pstrdup(r->pool, email);
    if (!r->main)
        apr_table_setn(r->notes, PASSED_NOTE, r->user);
    /* a shared cache must never hand a gated file to someone else */
    apr_table_setn(r->headers_out, "Cache-Control", "private");
    return OK;
}

static int allow(request_rec *r, const char *email)
{
    natomm_stats_count_gate(NATOMM_GATE_COOKIE);
    return passed(r, email);
}

void natomm_gate_vouch(request_rec *r, const char *email)
{
    if (!email) {
        apr_table_unset(r->notes, PASSED_NOTE);
        r->user = NULL;
        return;
    }
    r->user = apr_pstrdup(r->pool, email);
    apr_table_setn(r->notes, PASSED_NOTE, r->user);
}

/* ---- download links -------------------------------------------------- */

static int link_refused(request_rec *r, natomm_error_t e)
{
    natomm_stats_count_gate(NATOMM_GATE_DENIED);
    apr_table_setn(r->headers_out, "Referrer-Policy", "no-referrer");
    ap_discard_request_body(r);
    natomm_reply_error(r, e);
    return DONE;
}

static int link_gate(request_rec *r, const char *token)
{
    const char *email = NULL;

    switch (natomm_link_verify(r, token, &email)) {
    case NATOMM_LINKV_ALLOW:
        natomm_stats_count_gate(NATOMM_GATE_LINK);
        /* the link must not travel on in a Referer: a player's requests
         * to elsewhere, a page in the folder */
        apr_table_setn(r->headers_out, "Referrer-Policy", "no-referrer");
        return passed(r, email);
    case NATOMM_LINKV_GONE:
        return link_refused(r, NATOMM_E_LINK_EXPIRED);
    case NATOMM_LINKV_UNAVAILABLE:
        return unavailable(r);
    default:
        return link_refused(r, NATOMM_E_LINK_REFUSED);
    }
}

/* ---- session cookies ------------------------------------------------- */

/* A cached check still good: not over, not revoked since it was made. */
static int cached(request_rec *r, natomm_site *site, const char *hash,
                  apr_time_t now, natomm_cached_t *c)
{
    return natomm_cache_usable(r, site, now) && natomm_cache_get(r, site, hash, c)
        && now < c->until
        && !natomm_shared_revoked_since(natomm_shared_key(natomm_site_id(site)),
                                        c->account_id, c->made);
}

/* Asks the database, without holding a pooled connection afterwards. */
static int lookup(request_rec *r, const char *hash, natomm_session_info *info,
                  apr_int64_t *until, natomm_site **site)
{
    natomm_db *db = natomm_db_open(r->pool, r->server);
    int rv;

    if (!db)
        return -1;
    *site = natomm_db_site(db);
    rv = natomm_session_lookup(db, r, hash, info, until);
    natomm_db_close(db);
    return rv;
}

/* Remembers a valid session until its end or NatommSessionCacheTTL. */
static void remember(request_rec *r, natomm_site *site, const char *hash,
                     const natomm_session_info *info, apr_time_t made,
                     apr_int64_t until)
{
    apr_int64_t ttl_end = natomm_now() + natomm_cfg_server(r->server)->cache_ttl;
    natomm_cached_t c = {info->account_id, info->email, made,
                         apr_time_from_sec(until < ttl_end ? until : ttl_end)};

    if (site && natomm_cfg_server(r->server)->revocation_delay_ms > 0)
        natomm_cache_put(r, site, hash, &c);
}

/* A subrequest (SSI, mod_include, a rewrite) has the user of its main
 * request only when that request passed this gate itself. */
static const char *inherited_user(request_rec *r)
{
    request_rec *m = r->main;

    while (m && m->main)
        m = m->main;
    return m ? apr_table_get(m->notes, PASSED_NOTE) : NULL;
}

int natomm_gate_check_authn(request_rec *r)
{
    const char *type = ap_auth_type(r), *hash, *user, *token;
    natomm_site *site = natomm_db_site_of(r->server);
    apr_time_t now = apr_time_now();
    natomm_session_info info;
    natomm_cached_t c;
    apr_int64_t until;
    int rv;

    if (!type || strcasecmp(type, NATOMM_AUTHTYPE))
        return DECLINED;
    if ((user = inherited_user(r))) {
        r->user = apr_pstrdup(r->pool, user);
        return OK;
    }
    if ((token = natomm_link_of(r)))
        return link_gate(r, token);
    if (!(hash = natomm_session_cookie_hash(r)))
        return deny(r);
    /* fail closed: a database marked down lets nothing through */
    if (site && natomm_shared_site_is_down(natomm_shared_key(natomm_site_id(site)), now))
        return unavailable(r);
    if (cached(r, site, hash, now, &c))
        return allow(r, c.email);
    /* dated before the lookup: a revocation committed meanwhile wins */
    rv = lookup(r, hash, &info, &until, &site);
    if (rv < 0) {
        if (site)
            natomm_shared_site_down(natomm_shared_key(natomm_site_id(site)),
                                    now + DOWN_HOLD);
        return unavailable(r);
    }
    if (rv == 0)
        return deny(r);
    remember(r, site, hash, &info, now, until);
    return allow(r, info.email);
}
