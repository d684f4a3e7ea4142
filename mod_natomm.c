/* mod_natomm: self-service accounts and a session gate for a media portal.
 *
 * This file is the table of contents: the module record and hooks that
 * only fan out. The work lives in src/, in layers that call only downwards
 * (docs/architecture.md):
 *   core/      pure units: codes, crypto, policy, form, json, mime, ...
 *   cfg/       directives, records and defaults, configtest checks
 *   db/        SQL through mod_dbd: schema, statements, limits, purge
 *   http/      answers and what every request shares
 *   session/   the cookie, session rows, the cache, the gate
 *   mail/      the outbox and its delivery
 *   handle/    the /account endpoints
 *   watchdog.c the background work
 */
#define NATOMM_MODULE_RECORD
#include "httpd.h"
#include "http_config.h"
#include "http_protocol.h"
#include "http_request.h"
#include "mod_auth.h"
#include "http_core.h"
#include "http_log.h"
#include "mod_status.h"

#include "natomm_cfg.h"
#include "natomm_db.h"
#include "natomm_handle.h"
#include "natomm_session.h"
#include "natomm_shared.h"
#include "natomm_watchdog.h"

static int pre_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp)
{
    (void)plog; (void)ptemp;
    return natomm_cache_pre_config(pconf) == APR_SUCCESS
           && natomm_db_pre_config(pconf) == APR_SUCCESS ? OK
                                                         : HTTP_INTERNAL_SERVER_ERROR;
}

static int post_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp,
                       server_rec *s)
{
    int rv;
    (void)plog;

    natomm_cfg_post_config(pconf, s);
    if (ap_state_query(AP_SQ_MAIN_STATE) == AP_SQ_MS_CREATE_PRE_CONFIG)
        return OK;               /* the trial pass of start-up */
    if (natomm_shared_create(s->process->pool) != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s, "NATOMM: no shared memory");
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    if ((rv = natomm_cache_post_config(pconf, ptemp, s)) != OK
        || (rv = natomm_db_post_config(pconf, s)) != OK)
        return rv;
    /* not for a server that loads the module without using it */
    return natomm_cfg_in_use() ? natomm_watchdog_register(pconf, s) : OK;
}

static void child_init(apr_pool_t *p, server_rec *s)
{
    natomm_db_child_init(p);
    natomm_cache_child_init(p, s);
    natomm_link_child_init(p);
    natomm_cred_child_init(p, s);
    natomm_watchdog_child_init(p);
}

static void register_hooks(apr_pool_t *p)
{
    /* callbacks must be registered before mod_watchdog counts them */
    static const char *const before_watchdog[] = {"mod_watchdog.c", NULL};
    (void)p;

    ap_hook_pre_config(pre_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_check_config(natomm_cfg_check, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_post_config(post_config, NULL, before_watchdog, APR_HOOK_LAST);
    ap_hook_child_init(child_init, NULL, NULL, APR_HOOK_MIDDLE);
    /* a download link leaves the request line before any other module
     * (or the access log) reads it */
    ap_hook_post_read_request(natomm_link_post_read_request, NULL, NULL,
                              APR_HOOK_REALLY_FIRST);
    ap_hook_post_read_request(natomm_router_post_read_request, NULL, NULL,
                              APR_HOOK_MIDDLE);
    ap_hook_handler(natomm_router_handler, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_handler(natomm_status_handler, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_handler(natomm_metrics_handler, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_handler(natomm_subscribers_handler, NULL, NULL, APR_HOOK_MIDDLE);
    /* mod_status's page, when it is loaded (as mod_ssl and mod_proxy_balancer) */
    APR_OPTIONAL_HOOK(ap, status_hook, natomm_metrics_status, NULL, NULL,
                      APR_HOOK_MIDDLE);
    ap_hook_check_authn(natomm_gate_check_authn, NULL, NULL, APR_HOOK_MIDDLE,
                        AP_AUTH_INTERNAL_PER_CONF);
}

AP_DECLARE_MODULE(natomm) = {
    STANDARD20_MODULE_STUFF,
    natomm_cfg_create_dir,
    natomm_cfg_merge_dir,
    natomm_cfg_create_server,
    natomm_cfg_merge_server,
    natomm_cfg_cmds,
    register_hooks,
    0                        /* flags */
};
