/* Sessions: the one cookie writer, session rows, the shared-memory cache of
 * session validity, and the gate (AuthType natomm). */
#ifndef NATOMM_SESSION_H
#define NATOMM_SESSION_H

#include "httpd.h"
#include "natomm.h"
#include "natomm_store.h"

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

/* The request's valid session: 1 and *info filled, 0 for none, -1 when the
 * database failed. */
int natomm_session_current(natomm_db *db, request_rec *r,
                           natomm_session_info *info);

/* Ends the request's session (row, cache entry) and clears the cookie. */
int natomm_session_end(natomm_db *db, request_rec *r);

/* Ends every session of an account (password reset, delete), in the
 * caller's transaction; after the commit, natomm_session_revoke_cached. */
int natomm_session_end_all(natomm_db *db, const char *account_id);

/* Marks every session of the account that the gate cached before now as
 * stale on this server (other servers forget them within
 * NatommSessionCacheTTL). Call after the commit that ended them, so a
 * concurrent gate check cannot cache them again. */
void natomm_session_revoke_cached(request_rec *r, const char *account_id);

/* Ends every session of the account but the request's own (password change). */
int natomm_session_end_others(natomm_db *db, request_rec *r, const char *account_id);

/* Tells the gate whether the database answers (up non-zero) or not. */
void natomm_gate_db_health(server_rec *s, apr_pool_t *p, int up);

/* Hooks and set-up, called from mod_natomm.c. */
int natomm_gate_check_authn(request_rec *r);
const char *natomm_cache_configure(cmd_parms *cmd, natomm_server_conf *conf,
                                   const char *spec);
int natomm_cache_pre_config(apr_pool_t *pconf);
int natomm_cache_post_config(apr_pool_t *pconf, apr_pool_t *ptemp,
                             server_rec *s);
void natomm_cache_child_init(apr_pool_t *p, server_rec *s);

#endif
