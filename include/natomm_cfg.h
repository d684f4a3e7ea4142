/* Configuration: the records, their defaults and merge (src/cfg/cfg.c),
 * the directive table (src/cfg/cmds.c) and the start-up checks that
 * configtest runs (src/cfg/check.c).
 *
 * Every layer above reads its settings through natomm_cfg_server() and
 * natomm_cfg_dir(); nothing writes them after post_config.
 */
#ifndef NATOMM_CFG_H
#define NATOMM_CFG_H

#include <stddef.h>   /* before APR: offsetof for APR_OFFSETOF */
#include "httpd.h"
#include "http_config.h"
#include "http_log.h"

#include "natomm_code.h"
#include "natomm_limit.h"
#include "natomm_policy.h"
#include "natomm_smtp.h"

/* mod_natomm.c declares the module itself (AP_DECLARE_MODULE) */
#ifndef NATOMM_MODULE_RECORD
APLOG_USE_MODULE(natomm);
#endif

extern module AP_MODULE_DECLARE_DATA natomm_module;

#define NATOMM_HANDLER        "natomm"
#define NATOMM_STATUS_HANDLER "natomm-status"
#define NATOMM_METRICS_HANDLER "natomm-metrics"
#define NATOMM_SUBSCRIBERS_HANDLER "natomm-subscribers"
#define NATOMM_AUTHTYPE       "natomm"
#define NATOMM_UNSET          (-1)

/* Kinds of per-client-address limits (NatommIPLimit). */
enum {
    NATOMM_IP_LOGIN_FAILURES, NATOMM_IP_REGISTRATIONS, NATOMM_IP_RESET_REQUESTS,
    NATOMM_IP_CODE_ENTRIES, NATOMM_IP_KINDS
};
#define NATOMM_IP_WINDOWS 2

typedef struct {
    int t_cost;           /* iterations */
    int m_cost;           /* KiB */
    int parallelism;
} natomm_argon2_t;

typedef struct {
    const char *site_name;
    const char *mail_from;
    const char *mail_transport;     /* as configured: file:/dir, smtp://... */
    const char *mail_dir;           /* parsed from file: transports */
    natomm_smtp_t *smtp;            /* parsed from smtp:// and smtps:// */
    const char *mail_password_file;
    apr_int64_t mail_give_up;       /* seconds after which mail is not retried */
    apr_int64_t mail_retry_first, mail_retry_max;   /* backoff of retries */
    const char *mail_templates;
    const char *cookie_name;
    natomm_code_format_t code;
    int code_format_set;
    apr_int64_t register_code_ttl;  /* seconds */
    apr_int64_t reset_code_ttl;
    int code_attempts;
    apr_int64_t resend_interval;
    int resend_per_hour;
    apr_int64_t session_idle;
    apr_int64_t session_lifetime;
    apr_int64_t session_remember;
    apr_int64_t unverified_lifetime;
    apr_int64_t reset_token_ttl;
    apr_int64_t purge_interval;
    int lockout_threshold;          /* failures before the account locks */
    apr_int64_t lockout_first, lockout_max;
    int lockout_set;
    int lockout_ceiling;            /* failures from all addresses: locked until reset */
    int code_miss_limit;            /* wrong codes in a row per address and purpose */
    apr_int64_t code_miss_lock;     /* ... then code entry refused this long */
    int resend_per_day;             /* codes per address and purpose, all clients */
    apr_int64_t hash_wait;          /* longest wait for a hash slot */
    natomm_limit_t ip_limits[NATOMM_IP_KINDS][NATOMM_IP_WINDOWS];
    int ip_limits_set[NATOMM_IP_KINDS];
    const char *public_url;         /* base of links in mail; else ServerName's */
    const char *account_path;       /* where SetHandler natomm is: links in mail */
    const char *stylesheet;         /* the site's CSS, for the module's own pages */
    apr_int64_t link_lifetime;      /* seconds a download link works */
    apr_int64_t cache_ttl;          /* how long the gate trusts a cached check */
    apr_int64_t revocation_delay_ms;  /* bound on a revocation reaching every node; 0: no cache */
    const char *cache_spec;         /* "shmcb[:args]" or "none"; NULL: shmcb if loaded */
    int cache_off;                  /* cache_spec is "none": decided by the directive alone */
    int pw_min, pw_max;
    apr_array_header_t *dictionaries;  /* const char * paths */
    natomm_argon2_t argon2;
    int argon2_set;
    int hash_concurrency;
    apr_off_t body_limit;
    apr_int64_t db_busy_timeout;    /* seconds a locked database is waited for */

    /* found by configtest, not configured: the URL path of the
     * <Location> that holds SetHandler natomm ("/account" when none says) */
    const char *account_mount;

    /* loaded in post_config, not configured */
    const natomm_dict_t *dictionary;
    /* run time: the database this server's connections reach, learned by
     * src/db/ on first use in each process (a natomm_site *) */
    void *volatile site;
} natomm_server_conf;

typedef struct {
    const char *login_page;
} natomm_dir_conf;

/* ---- cfg.c: records -------------------------------------------------- */

void *natomm_cfg_create_server(apr_pool_t *p, server_rec *s);
void *natomm_cfg_merge_server(apr_pool_t *p, void *basev, void *addv);
void *natomm_cfg_create_dir(apr_pool_t *p, char *dir);
void *natomm_cfg_merge_dir(apr_pool_t *p, void *basev, void *addv);

natomm_server_conf *natomm_cfg_server(const server_rec *s);
natomm_dir_conf *natomm_cfg_dir(const request_rec *r);

/* The site's base URL for links that leave the request (mail, exports,
 * download links): NatommPublicURL, else built from ServerName and the
 * port the request came to, never from the request's Host header. */
const char *natomm_cfg_base_url(request_rec *r);
/* base URL + NatommAccountPath + suffix (e.g. "/newsletter/unsubscribe?token=..."). */
const char *natomm_cfg_account_url(request_rec *r, const char *suffix);

/* post_config: the SPEC §3 defaults applied to every server once the
 * merge is done, and the password dictionary loaded while still root. */
void natomm_cfg_post_config(apr_pool_t *pconf, server_rec *s);

/* ---- cmds.c: directives ---------------------------------------------- */

extern const command_rec natomm_cfg_cmds[];

/* ---- check.c: what configtest refuses -------------------------------- */

/* check_config hook: AuthType/SetHandler natomm need mod_dbd, a DBDriver
 * and (for the handler, in the server or virtual host that mounts it) the
 * mail directives; a natomm-subscribers handler needs a Require that limits
 * it; a SQLite database folder must be writable, and an SMTP cafile=
 * readable, by the children's user; password files are read and socache
 * providers looked up, so configtest refuses what start would. A missing
 * NatommPublicURL is a warning. Each refusal is one line naming the
 * directive. */
int natomm_cfg_check(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp,
                     server_rec *s);

/* Whether the configuration uses the module (known after natomm_cfg_check). */
int natomm_cfg_in_use(void);


#endif
