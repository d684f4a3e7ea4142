/* Sessions (src/session/): the one cookie writer and the session rows
 * (session.c), the shared-memory cache of session validity and the
 * database health mark (cache.c), the gate, AuthType natomm (gate.c), and
 * the download links it also accepts (link.c). */
#ifndef NATOMM_SESSION_H
#define NATOMM_SESSION_H

#include "httpd.h"
#include "natomm_db.h"

/* ---- session.c ------------------------------------------------------- */

typedef struct {
    const char *account_id;
    const char *email;
    const char *name;          /* may be NULL */
    int newsletter;
} natomm_session_info;

/* Starts a session for the account: a new token, its hash stored, the
 * cookie set. A cookie the client brought is never reused. 0 or -1. */
int natomm_session_create(natomm_db *db, request_rec *r, const char *account_id,
                          int remember);

/* Takes back the cookie of a session whose transaction failed. */
void natomm_session_unset_cookie(request_rec *r);

/* The request's valid session: 1 and *info filled, 0 for none, -1 when the
 * database failed. */
int natomm_session_current(natomm_db *db, request_rec *r,
                           natomm_session_info *info);

/* The session of a token hash: 1 valid (info filled, *until the time it
 * stays valid without further activity), 0 not, -1 error. Refreshes
 * last_seen when it is old enough. */
int natomm_session_lookup(natomm_db *db, request_rec *r, const char *hash,
                          natomm_session_info *info, apr_int64_t *until);

/* The token hash of the request's cookie, or NULL when it has none of ours. */
const char *natomm_session_cookie_hash(request_rec *r);

/* Ends the request's session (row, cache entry) and clears the cookie. */
int natomm_session_end(natomm_db *db, request_rec *r);

/* Ends every session of an account (password reset, delete, logout of
 * all), or all but the request's own (password change), in the caller's
 * transaction; voids the account's download links (natomm_account.
 * links_after) and revokes it (natomm_session_revoke); after the commit
 * call natomm_session_revoked. 0 or -1. */
int natomm_session_end_all(natomm_db *db, const char *account_id);
int natomm_session_end_others(natomm_db *db, request_rec *r, const char *account_id);

/* Revokes what every node may have cached of the account: a row in the
 * revocation log, in the caller's transaction (every node's watchdog reads
 * it within NatommRevocationDelay); after the commit, natomm_session_revoked
 * marks this server at once. */
int natomm_session_revoke(natomm_db *db, const char *account_id);
void natomm_session_revoked(request_rec *r, const char *account_id);

/* ---- cache.c --------------------------------------------------------- */

/* What the gate caches of a valid session. */
typedef struct {
    const char *account_id;
    const char *email;
    apr_time_t made;           /* when the check began (before the lookup) */
    apr_time_t until;          /* when it must be asked again */
} natomm_cached_t;

int natomm_cache_pre_config(apr_pool_t *pconf);
int natomm_cache_post_config(apr_pool_t *pconf, apr_pool_t *ptemp, server_rec *s);
void natomm_cache_child_init(apr_pool_t *p, server_rec *s);

/* A cached check of a token hash on a database: this process's table
 * first (no lock shared with other processes), then the socache (every
 * value MACed with a key of the database, bound to the token hash). 1
 * and *out, or 0. Revocation is the caller's to check. */
/* Whether cached checks of a database may be used now: caching on, and its
 * revocations read within NatommRevocationDelay. */
int natomm_cache_usable(request_rec *r, natomm_site *site, apr_time_t now);

int natomm_cache_get(request_rec *r, natomm_site *site, const char *hash,
                     natomm_cached_t *out);
void natomm_cache_put(request_rec *r, natomm_site *site, const char *hash,
                      const natomm_cached_t *in);
void natomm_cache_forget(request_rec *r, natomm_site *site, const char *hash);

/* ---- gate.c ---------------------------------------------------------- */

/* check_authn hook for AuthType natomm. A request that came with a
 * download link (natomm_link_of) is judged by the link alone: 403 or 410
 * with a tiny JSON body, never a redirect. */
int natomm_gate_check_authn(request_rec *r);


/* For a request whose session was checked (an account endpoint): its
 * subrequests pass the gate as its user (email), as those of a request
 * that passed the gate do; NULL takes that back. */
void natomm_gate_vouch(request_rec *r, const char *email);

/* ---- link.c: download links ------------------------------------------ */

/* post_read_request: takes a download link out of the request (the
 * "/dl/<token>" prefix of the path, "dl=<token>" parameters of the query;
 * see natomm_link.h), keeps it for the gate, and leaves REDACTED in its
 * place in the request line (what %r logs); the query (%q) loses the
 * parameter, the path (%U) the prefix. */
int natomm_link_post_read_request(request_rec *r);

/* The download link of a request (or of the request an internal redirect
 * came from); NULL for none, and for every subrequest. */
const char *natomm_link_of(request_rec *r);

typedef enum {
    NATOMM_LINKV_ALLOW,        /* *email: the account's address */
    NATOMM_LINKV_FORBIDDEN,    /* tampered, another path or database, revoked */
    NATOMM_LINKV_GONE,         /* expired */
    NATOMM_LINKV_UNAVAILABLE   /* the database is down: fail closed */
} natomm_link_verdict_t;

/* The gate's verdict on a link for the request's decoded path: its MAC
 * under the database's link key, its expiry, then its account (still
 * there, verified, not disabled, its links not voided since this one was
 * made) from this process's cache (dropped by the shared revocation
 * marks) or the database, through a connection closed at once. */
natomm_link_verdict_t natomm_link_verify(request_rec *r, const char *token,
                                         const char **email);

/* child_init: this process's cache of account states. */
void natomm_link_child_init(apr_pool_t *p);

#endif
