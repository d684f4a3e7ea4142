/* mod_natomm: shared types.
 *
 * The server configuration holds everything the account endpoints, the
 * gate and the mail worker need; the directory configuration only what a
 * <Directory>/<Location>/.htaccess may change (the login page).
 */
#ifndef NATOMM_H
#define NATOMM_H

#include "httpd.h"
#include "http_config.h"
#include "http_log.h"
#include "apr_global_mutex.h"
#include "ap_socache.h"

#include "natomm_code.h"
#include "natomm_smtp.h"

/* mod_natomm.c declares the module itself (AP_DECLARE_MODULE) */
#ifndef NATOMM_MODULE_RECORD
APLOG_USE_MODULE(natomm);
#endif

extern module AP_MODULE_DECLARE_DATA natomm_module;

#define NATOMM_HANDLER   "natomm"
#define NATOMM_STATUS_HANDLER "natomm-status"
#define NATOMM_AUTHTYPE  "natomm"
#define NATOMM_UNSET     (-1)

typedef struct {
    int limit;                 /* events per window; 0 = no count limit */
    apr_int64_t window;        /* seconds */
    apr_int64_t min_interval;  /* seconds between two events; 0 = none */
} natomm_limit_t;

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
    natomm_limit_t ip_limits[NATOMM_IP_KINDS][NATOMM_IP_WINDOWS];
    int ip_limits_set[NATOMM_IP_KINDS];
    const char *public_url;         /* base of links in mail; else the request's */
    apr_int64_t cache_ttl;          /* bound on how long a revoked session may still pass the gate */
    const char *cache_spec;         /* "shmcb[:args]" or "none" */
    int pw_min, pw_max;
    apr_array_header_t *dictionaries;  /* const char * paths */
    natomm_argon2_t argon2;
    int argon2_set;
    int hash_concurrency;
    apr_off_t body_limit;

    /* run time, not configuration */
    ap_socache_provider_t *cache_provider;
    ap_socache_instance_t *cache;
    apr_global_mutex_t *cache_mutex;
} natomm_server_conf;

typedef struct {
    const char *login_page;
} natomm_dir_conf;

/* Time in whole seconds; every expiry in the database is in these units. */
apr_int64_t natomm_now(void);

#endif
