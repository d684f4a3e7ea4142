/* mod_natomm: self-service accounts and a session gate for a media portal.
 *
 * This file is the table of contents: the directives, the configuration
 * records and their merge, and the hooks. The work lives in src/:
 *   flows.c    the /account endpoints        session.c  cookie, cache, gate
 *   store.c    SQL through mod_dbd           mail.c     outbox and delivery
 *   policy.c   address and password rules    throttle.c counted limits
 *   crypto.c   tokens, MACs, argon2id        form.c, json.c, http.c, ...
 */
#define NATOMM_MODULE_RECORD
#include <string.h>
#include "httpd.h"
#include "http_config.h"
#include "http_core.h"
#include "http_log.h"
#include "http_request.h"
#include "ap_provider.h"
#include "ap_socache.h"
#include "apr_strings.h"
#include "apr_optional.h"
#include "apr_dbd.h"
#include "mod_dbd.h"
#include "mod_auth.h"

#include "natomm.h"
#include "natomm_code.h"
#include "natomm_config.h"
#include "natomm_duration.h"
#include "natomm_flows.h"
#include "natomm_mail.h"
#include "natomm_policy.h"
#include "natomm_session.h"
#include "natomm_store.h"

#ifndef NATOMM_TEMPLATE_DIR
#define NATOMM_TEMPLATE_DIR "/usr/share/mod_natomm/mail"
#endif

apr_int64_t natomm_now(void)
{
    return apr_time_sec(apr_time_now());
}

/* ---- configuration records ------------------------------------------- */

static void *create_server_conf(apr_pool_t *p, server_rec *s)
{
    natomm_server_conf *c = apr_pcalloc(p, sizeof(*c));
    (void)s;
    c->register_code_ttl = c->reset_code_ttl = NATOMM_UNSET;
    c->code_attempts = c->resend_per_hour = NATOMM_UNSET;
    c->resend_interval = c->session_idle = c->session_lifetime = NATOMM_UNSET;
    c->session_remember = c->unverified_lifetime = c->cache_ttl = NATOMM_UNSET;
    c->pw_min = c->pw_max = c->hash_concurrency = NATOMM_UNSET;
    c->body_limit = NATOMM_UNSET;
    c->reset_token_ttl = c->purge_interval = c->mail_give_up = NATOMM_UNSET;
    c->mail_retry_first = c->mail_retry_max = NATOMM_UNSET;
    return c;
}

#define MERGE_PTR(f) m->f = add->f ? add->f : base->f
#define MERGE_NUM(f) m->f = add->f != NATOMM_UNSET ? add->f : base->f

static void *merge_server_conf(apr_pool_t *p, void *basev, void *addv)
{
    natomm_server_conf *base = basev, *add = addv;
    natomm_server_conf *m = apr_pcalloc(p, sizeof(*m));
    int i;

    MERGE_PTR(site_name); MERGE_PTR(mail_from); MERGE_PTR(mail_transport);
    MERGE_PTR(mail_dir); MERGE_PTR(mail_templates); MERGE_PTR(cookie_name);
    MERGE_PTR(smtp); MERGE_PTR(mail_password_file);
    MERGE_PTR(cache_spec); MERGE_PTR(dictionaries); MERGE_PTR(public_url);
    m->code = add->code_format_set ? add->code : base->code;
    m->code_format_set = add->code_format_set || base->code_format_set;
    m->argon2 = add->argon2_set ? add->argon2 : base->argon2;
    m->argon2_set = add->argon2_set || base->argon2_set;
    if (add->lockout_set) {
        m->lockout_threshold = add->lockout_threshold;
        m->lockout_first = add->lockout_first;
        m->lockout_max = add->lockout_max;
    }
    else {
        m->lockout_threshold = base->lockout_threshold;
        m->lockout_first = base->lockout_first;
        m->lockout_max = base->lockout_max;
    }
    m->lockout_set = add->lockout_set || base->lockout_set;
    for (i = 0; i < NATOMM_IP_KINDS; i++) {
        const natomm_server_conf *from = add->ip_limits_set[i] ? add : base;
        memcpy(m->ip_limits[i], from->ip_limits[i], sizeof(m->ip_limits[i]));
        m->ip_limits_set[i] = from->ip_limits_set[i];
    }
    MERGE_NUM(register_code_ttl); MERGE_NUM(reset_code_ttl);
    MERGE_NUM(code_attempts); MERGE_NUM(resend_interval);
    MERGE_NUM(resend_per_hour); MERGE_NUM(session_idle);
    MERGE_NUM(session_lifetime); MERGE_NUM(session_remember);
    MERGE_NUM(unverified_lifetime); MERGE_NUM(cache_ttl);
    MERGE_NUM(pw_min); MERGE_NUM(pw_max); MERGE_NUM(hash_concurrency);
    MERGE_NUM(body_limit); MERGE_NUM(reset_token_ttl); MERGE_NUM(purge_interval);
    MERGE_NUM(mail_give_up); MERGE_NUM(mail_retry_first); MERGE_NUM(mail_retry_max);
    return m;
}

#define DEFAULT_NUM(f, v) if (c->f == NATOMM_UNSET) c->f = (v)

static void set_ip_default(natomm_server_conf *c, int kind, int n1,
                           apr_int64_t w1, int n2, apr_int64_t w2)
{
    if (c->ip_limits_set[kind])
        return;
    c->ip_limits[kind][0].limit = n1;
    c->ip_limits[kind][0].window = w1;
    c->ip_limits[kind][1].limit = n2;
    c->ip_limits[kind][1].window = w2;
}

/* SPEC §3 defaults, applied to every server once the merge is done. */
static void apply_defaults(server_rec *s, natomm_server_conf *c)
{
    if (!c->site_name)
        c->site_name = s->server_hostname ? s->server_hostname : "localhost";
    if (!c->mail_templates)
        c->mail_templates = NATOMM_TEMPLATE_DIR;
    if (!c->cookie_name)
        c->cookie_name = "natomm_session";
    if (!c->code_format_set)
        natomm_code_format_parse(&c->code, "letters", "8");
    if (!c->argon2_set) {
        c->argon2.t_cost = 2;
        c->argon2.m_cost = 19456;
        c->argon2.parallelism = 1;
    }
    DEFAULT_NUM(register_code_ttl, 30 * 60);
    DEFAULT_NUM(reset_code_ttl, 30 * 60);
    DEFAULT_NUM(code_attempts, 5);
    DEFAULT_NUM(resend_interval, 60);
    DEFAULT_NUM(resend_per_hour, 5);
    DEFAULT_NUM(session_idle, 30 * 60);
    DEFAULT_NUM(session_lifetime, 12 * 3600);
    DEFAULT_NUM(session_remember, 30 * 86400);
    DEFAULT_NUM(unverified_lifetime, 24 * 3600);
    DEFAULT_NUM(cache_ttl, 30);
    DEFAULT_NUM(pw_min, 12);
    DEFAULT_NUM(pw_max, 128);
    DEFAULT_NUM(hash_concurrency, 4);
    DEFAULT_NUM(body_limit, 16384);
    DEFAULT_NUM(reset_token_ttl, 15 * 60);
    DEFAULT_NUM(purge_interval, 60);
    DEFAULT_NUM(mail_give_up, 2 * 86400);
    DEFAULT_NUM(mail_retry_first, 30);
    DEFAULT_NUM(mail_retry_max, 3600);
    if (!c->lockout_set) {
        c->lockout_threshold = 5;
        c->lockout_first = 60;
        c->lockout_max = 15 * 60;
    }
    set_ip_default(c, NATOMM_IP_LOGIN_FAILURES, 10, 60, 100, 3600);
    set_ip_default(c, NATOMM_IP_REGISTRATIONS, 20, 3600, 0, 0);
    set_ip_default(c, NATOMM_IP_RESET_REQUESTS, 20, 3600, 0, 0);
    set_ip_default(c, NATOMM_IP_CODE_ENTRIES, 10, 60, 0, 0);
}

static void *create_dir_conf(apr_pool_t *p, char *dir)
{
    (void)dir;
    return apr_pcalloc(p, sizeof(natomm_dir_conf));
}

static void *merge_dir_conf(apr_pool_t *p, void *basev, void *addv)
{
    natomm_dir_conf *base = basev, *add = addv;
    natomm_dir_conf *m = apr_pcalloc(p, sizeof(*m));
    MERGE_PTR(login_page);
    return m;
}

/* ---- directive handlers ---------------------------------------------- */

static natomm_server_conf *server_conf(cmd_parms *cmd)
{
    return ap_get_module_config(cmd->server->module_config, &natomm_module);
}

static const char *fail(cmd_parms *cmd, const char *why)
{
    return apr_pstrcat(cmd->pool, cmd->cmd->name, ": ", why, NULL);
}

static const char *set_duration(cmd_parms *cmd, void *dummy, const char *arg)
{
    apr_int64_t *field = (apr_int64_t *)((char *)server_conf(cmd)
                                         + (apr_size_t)cmd->info);
    const char *err = natomm_duration_parse(arg, field);
    (void)dummy;
    return err ? fail(cmd, apr_pstrcat(cmd->pool, "'", arg, "' ", err, NULL)) : NULL;
}

static const char *int_in(cmd_parms *cmd, const char *arg, int lo, int hi,
                          int *out)
{
    char *end;
    long v = strtol(arg, &end, 10);
    if (!*arg || *end || v < lo || v > hi)
        return fail(cmd, apr_psprintf(cmd->pool, "'%s' must be a whole number "
                                      "from %d to %d", arg, lo, hi));
    *out = (int)v;
    return NULL;
}

static const char *set_count(cmd_parms *cmd, void *dummy, const char *arg)
{
    int *field = (int *)((char *)server_conf(cmd) + (apr_size_t)cmd->info);
    (void)dummy;
    return int_in(cmd, arg, 1, 1000, field);
}

static const char *set_string(cmd_parms *cmd, void *dummy, const char *arg)
{
    const char **field = (const char **)((char *)server_conf(cmd)
                                         + (apr_size_t)cmd->info);
    (void)dummy;
    if (strpbrk(arg, "\r\n"))
        return fail(cmd, "line breaks are not allowed");
    *field = arg;
    return NULL;
}

static const char *set_mail_from(cmd_parms *cmd, void *dummy, const char *arg)
{
    if (!strchr(arg, '@') || strpbrk(arg, "\r\n"))
        return fail(cmd, "expects an address such as "
                         "\"Site <no-reply@example.org>\"");
    return set_string(cmd, dummy, arg);
}

static const char *set_transport(cmd_parms *cmd, void *dummy, const char *arg)
{
    const char *err = natomm_mail_transport_parse(cmd->pool, server_conf(cmd), arg);
    (void)dummy;
    return err;
}

/* A first and a longest duration, as NatommLockout and NatommMailRetry take. */
static const char *duration_pair(cmd_parms *cmd, const char *what, const char *first,
                                 const char *max, apr_int64_t *first_out,
                                 apr_int64_t *max_out)
{
    const char *err;

    if ((err = natomm_duration_parse(first, first_out))
        || (err = natomm_duration_parse(max, max_out)))
        return fail(cmd, err);
    if (*max_out < *first_out)
        return fail(cmd, apr_pstrcat(cmd->pool, "the longest ", what,
                                     " must not be shorter than the first", NULL));
    return NULL;
}

static const char *set_mail_retry(cmd_parms *cmd, void *dummy, const char *first,
                                  const char *max)
{
    natomm_server_conf *c = server_conf(cmd);
    (void)dummy;
    return duration_pair(cmd, "wait", first, max, &c->mail_retry_first,
                         &c->mail_retry_max);
}

/* A file or folder, relative to ServerRoot unless absolute. */
static const char *set_path(cmd_parms *cmd, void *dummy, const char *arg)
{
    const char **field = (const char **)((char *)server_conf(cmd)
                                         + (apr_size_t)cmd->info);
    (void)dummy;
    *field = ap_server_root_relative(cmd->pool, arg);
    return NULL;
}

static const char *set_code_format(cmd_parms *cmd, void *dummy, const char *kind,
                                   const char *len)
{
    natomm_server_conf *c = server_conf(cmd);
    const char *err = natomm_code_format_parse(&c->code, kind, len);
    (void)dummy;
    c->code_format_set = 1;
    return err ? fail(cmd, err) : NULL;
}

static const char *set_code_lifetime(cmd_parms *cmd, void *dummy,
                                     const char *purpose, const char *dur)
{
    natomm_server_conf *c = server_conf(cmd);
    apr_int64_t *field;
    const char *err;
    (void)dummy;

    if (!strcasecmp(purpose, "register"))
        field = &c->register_code_ttl;
    else if (!strcasecmp(purpose, "reset"))
        field = &c->reset_code_ttl;
    else
        return fail(cmd, "the first argument must be 'register' or 'reset'");
    err = natomm_duration_parse(dur, field);
    if (err)
        return fail(cmd, apr_pstrcat(cmd->pool, "'", dur, "' ", err, NULL));
    /* a code is a short-lived secret; the purge keeps it a day past expiry */
    return *field > 86400 ? fail(cmd, "a code may live at most 1d") : NULL;
}

static const char *set_password_length(cmd_parms *cmd, void *dummy,
                                       const char *lo, const char *hi)
{
    natomm_server_conf *c = server_conf(cmd);
    const char *err = int_in(cmd, lo, 8, 1024, &c->pw_min);
    (void)dummy;
    if (!err)
        err = int_in(cmd, hi, c->pw_min, 4096, &c->pw_max);
    return err;
}

static const char *add_dictionary(cmd_parms *cmd, void *dummy, const char *arg)
{
    natomm_server_conf *c = server_conf(cmd);
    (void)dummy;
    if (!c->dictionaries)
        c->dictionaries = apr_array_make(cmd->pool, 2, sizeof(const char *));
    if (strcasecmp(arg, "none"))
        APR_ARRAY_PUSH(c->dictionaries, const char *) =
            ap_server_root_relative(cmd->pool, arg);
    return NULL;
}

static const char *set_argon2(cmd_parms *cmd, void *dummy, const char *t,
                              const char *m, const char *par)
{
    natomm_server_conf *c = server_conf(cmd);
    const char *err;
    (void)dummy;
    if ((err = int_in(cmd, t, 1, 100, &c->argon2.t_cost))
        || (err = int_in(cmd, m, 8192, 4 * 1024 * 1024, &c->argon2.m_cost))
        || (err = int_in(cmd, par, 1, 64, &c->argon2.parallelism)))
        return err;
    c->argon2_set = 1;
    return NULL;
}

static const char *set_body_limit(cmd_parms *cmd, void *dummy, const char *arg)
{
    int v;
    const char *err = int_in(cmd, arg, 1024, 1024 * 1024, &v);
    (void)dummy;
    if (!err)
        server_conf(cmd)->body_limit = v;
    return err;
}

static const char *set_lockout(cmd_parms *cmd, void *dummy, const char *n,
                               const char *first, const char *max)
{
    natomm_server_conf *c = server_conf(cmd);
    const char *err = int_in(cmd, n, 1, 1000, &c->lockout_threshold);
    (void)dummy;
    if (err || (err = duration_pair(cmd, "lock", first, max, &c->lockout_first,
                                    &c->lockout_max)))
        return err;
    c->lockout_set = 1;
    return NULL;
}

/* "10/1m": a count per window; "off" for none. */
static const char *parse_rate(cmd_parms *cmd, const char *arg, natomm_limit_t *lim)
{
    const char *slash = strchr(arg, '/');
    const char *err;
    int n;

    memset(lim, 0, sizeof(*lim));
    if (!strcasecmp(arg, "off"))
        return NULL;
    if (!slash)
        return fail(cmd, apr_pstrcat(cmd->pool, "'", arg, "' must be a count per "
                                     "duration such as 10/1m, or off", NULL));
    if ((err = int_in(cmd, apr_pstrmemdup(cmd->pool, arg, slash - arg), 1,
                      1000000, &n)))
        return err;
    if ((err = natomm_duration_parse(slash + 1, &lim->window)))
        return fail(cmd, apr_pstrcat(cmd->pool, "'", slash + 1, "' ", err, NULL));
    /* throttle events are purged after a day */
    if (lim->window > 86400)
        return fail(cmd, "a window may be at most 1d");
    lim->limit = n;
    return NULL;
}

static const char *set_ip_limit(cmd_parms *cmd, void *dummy, int argc,
                                char *const argv[])
{
    static const char *const kinds[NATOMM_IP_KINDS] = {
        "login-failures", "registrations", "reset-requests", "code-entries"
    };
    natomm_server_conf *c = server_conf(cmd);
    int kind, i;
    (void)dummy;

    if (argc < 2 || argc > 1 + NATOMM_IP_WINDOWS)
        return fail(cmd, "expects a kind and one or two limits such as 10/1m 100/1h");
    for (kind = 0; kind < NATOMM_IP_KINDS; kind++)
        if (!strcasecmp(argv[0], kinds[kind]))
            break;
    if (kind == NATOMM_IP_KINDS)
        return fail(cmd, "the kind must be login-failures, registrations, "
                         "reset-requests or code-entries");
    memset(c->ip_limits[kind], 0, sizeof(c->ip_limits[kind]));
    for (i = 1; i < argc; i++) {
        const char *err = parse_rate(cmd, argv[i], &c->ip_limits[kind][i - 1]);
        if (err)
            return err;
    }
    c->ip_limits_set[kind] = 1;
    return NULL;
}

static const char *set_public_url(cmd_parms *cmd, void *dummy, const char *arg)
{
    (void)dummy;
    if (strncasecmp(arg, "https://", 8) && strncasecmp(arg, "http://", 7))
        return fail(cmd, "expects the site's base URL, such as https://media.example.org");
    if (strpbrk(arg, "\r\n \t\"<>"))
        return fail(cmd, "the URL contains characters that are not allowed");
    server_conf(cmd)->public_url = apr_pstrndup(cmd->pool, arg,
        strlen(arg) - (arg[strlen(arg) - 1] == '/' ? 1 : 0));
    return NULL;
}

static const char *set_cache(cmd_parms *cmd, void *dummy, const char *arg)
{
    (void)dummy;
    return natomm_cache_configure(cmd, server_conf(cmd), arg);
}

static const char *set_cookie_name(cmd_parms *cmd, void *dummy, const char *arg)
{
    (void)dummy;
    if (!*arg || strspn(arg, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                        "0123456789_-") != strlen(arg))
        return fail(cmd, "use letters, digits, '_' and '-' only");
    server_conf(cmd)->cookie_name = arg;
    return NULL;
}

static const char *set_login_page(cmd_parms *cmd, void *dirv, const char *arg)
{
    natomm_dir_conf *d = dirv;
    if (arg[0] != '/' && strncasecmp(arg, "https://", 8)
        && strncasecmp(arg, "http://", 7))
        return fail(cmd, "expects a local path such as /login.html or an "
                         "http(s) URL");
    if (strpbrk(arg, "\r\n"))
        return fail(cmd, "line breaks are not allowed");
    d->login_page = arg;
    return NULL;
}

#define OFF(f) (void *)APR_OFFSETOF(natomm_server_conf, f)

static const command_rec natomm_cmds[] = {
    AP_INIT_TAKE1("NatommSiteName", set_string, OFF(site_name), RSRC_CONF,
                  "The site's name, in mail and the password rules"),
    AP_INIT_TAKE1("NatommMailFrom", set_mail_from, OFF(mail_from), RSRC_CONF,
                  "The From: of every mail"),
    AP_INIT_TAKE1("NatommMailTransport", set_transport, NULL, RSRC_CONF,
                  "Where mail goes: smtp://host:port, smtps://, file:/folder"),
    AP_INIT_TAKE1("NatommMailPasswordFile", set_path, OFF(mail_password_file), RSRC_CONF,
                  "File with the SMTP AUTH password, readable by its owner only"),
    AP_INIT_TAKE1("NatommMailGiveUp", set_duration, OFF(mail_give_up), RSRC_CONF,
                  "Age after which undelivered mail is no longer retried"),
    AP_INIT_TAKE2("NatommMailRetry", set_mail_retry, NULL, RSRC_CONF,
                  "First wait before a retry, and the longest (doubling between)"),
    AP_INIT_TAKE1("NatommMailTemplates", set_path, OFF(mail_templates), RSRC_CONF,
                  "Folder of mail templates (en/, fr/)"),
    AP_INIT_TAKE1("NatommLoginPage", set_login_page, NULL, RSRC_CONF | OR_AUTHCFG,
                  "Where the gate sends browsers that are not logged in"),
    AP_INIT_TAKE2("NatommCodeFormat", set_code_format, NULL, RSRC_CONF,
                  "letters|digits and a length"),
    AP_INIT_TAKE2("NatommCodeLifetime", set_code_lifetime, NULL, RSRC_CONF,
                  "register|reset and a duration"),
    AP_INIT_TAKE1("NatommCodeAttempts", set_count, OFF(code_attempts), RSRC_CONF,
                  "Wrong tries before a code is void"),
    AP_INIT_TAKE1("NatommResendInterval", set_duration, OFF(resend_interval),
                  RSRC_CONF, "Shortest time between two codes to one address"),
    AP_INIT_TAKE1("NatommResendPerHour", set_count, OFF(resend_per_hour),
                  RSRC_CONF, "Codes per hour to one address and purpose"),
    AP_INIT_TAKE1("NatommSessionIdle", set_duration, OFF(session_idle), RSRC_CONF,
                  "Idle timeout of a session"),
    AP_INIT_TAKE1("NatommSessionLifetime", set_duration, OFF(session_lifetime),
                  RSRC_CONF, "Absolute lifetime of a session"),
    AP_INIT_TAKE1("NatommSessionRemember", set_duration, OFF(session_remember),
                  RSRC_CONF, "Lifetime of a 'remember me' session"),
    AP_INIT_TAKE1("NatommResetTokenLifetime", set_duration, OFF(reset_token_ttl),
                  RSRC_CONF, "Lifetime of the token that allows a password reset"),
    AP_INIT_TAKE3("NatommLockout", set_lockout, NULL, RSRC_CONF,
                  "Failures before an account locks, first lock, longest lock"),
    AP_INIT_TAKE_ARGV("NatommIPLimit", set_ip_limit, NULL, RSRC_CONF,
                      "Per client address: kind and count/duration limits"),
    AP_INIT_TAKE1("NatommPurgeInterval", set_duration, OFF(purge_interval),
                  RSRC_CONF, "How often expired rows are deleted"),
    AP_INIT_TAKE1("NatommPublicURL", set_public_url, NULL, RSRC_CONF,
                  "The site's base URL for links in mail"),
    AP_INIT_TAKE1("NatommSessionCache", set_cache, NULL, RSRC_CONF,
                  "socache provider[:args] for session validity, or none"),
    AP_INIT_TAKE1("NatommSessionCacheTTL", set_duration, OFF(cache_ttl), RSRC_CONF,
                  "How long the gate trusts a cached session"),
    AP_INIT_TAKE1("NatommCookieName", set_cookie_name, NULL, RSRC_CONF,
                  "Name of the session cookie"),
    AP_INIT_TAKE1("NatommUnverifiedLifetime", set_duration,
                  OFF(unverified_lifetime), RSRC_CONF,
                  "When never-verified accounts are deleted"),
    AP_INIT_TAKE2("NatommPasswordLength", set_password_length, NULL, RSRC_CONF,
                  "Shortest and longest password, in characters"),
    AP_INIT_ITERATE("NatommPasswordDictionary", add_dictionary, NULL, RSRC_CONF,
                    "Word lists a password may not be based on, or none"),
    AP_INIT_TAKE3("NatommArgon2", set_argon2, NULL, RSRC_CONF,
                  "argon2id iterations, memory in KiB, lanes"),
    AP_INIT_TAKE1("NatommHashConcurrency", set_count, OFF(hash_concurrency),
                  RSRC_CONF, "Password hashes at once per process"),
    AP_INIT_TAKE1("NatommRequestBodyLimit", set_body_limit, NULL, RSRC_CONF,
                  "Largest request body in bytes"),
    {NULL}
};

/* ---- hooks ----------------------------------------------------------- */

static int pre_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp)
{
    (void)plog; (void)ptemp;
    return natomm_cache_pre_config(pconf) == APR_SUCCESS ? OK
                                                         : HTTP_INTERNAL_SERVER_ERROR;
}

static int post_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp,
                       server_rec *s)
{
    natomm_server_conf *main_conf = ap_get_module_config(s->module_config,
                                                         &natomm_module);
    server_rec *v;
    int rv;
    (void)plog;

    for (v = s; v; v = v->next)
        apply_defaults(v, ap_get_module_config(v->module_config, &natomm_module));
    if (ap_state_query(AP_SQ_MAIN_STATE) == AP_SQ_MS_CREATE_PRE_CONFIG)
        return OK;               /* the trial pass of start-up */
    natomm_load_dictionary(pconf, s, main_conf);
    if ((rv = natomm_cache_post_config(pconf, ptemp, s)) != OK)
        return rv;
    /* delivery, purging and the database health mark run there; not for a
     * server that loads the module without using it */
    return natomm_config_in_use() ? natomm_mail_watchdog_register(pconf, s) : OK;
}

static void child_init(apr_pool_t *p, server_rec *s)
{
    natomm_store_child_init(p);
    natomm_cache_child_init(p, s);
    natomm_flows_child_init(p, s);
}

static void register_hooks(apr_pool_t *p)
{
    /* callbacks must be registered before mod_watchdog counts them */
    static const char *const before_watchdog[] = {"mod_watchdog.c", NULL};
    (void)p;

    ap_hook_pre_config(pre_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_check_config(natomm_check_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_post_config(post_config, NULL, before_watchdog, APR_HOOK_LAST);
    ap_hook_child_init(child_init, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_handler(natomm_flows_handler, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_handler(natomm_mail_status_handler, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_check_authn(natomm_gate_check_authn, NULL, NULL, APR_HOOK_MIDDLE,
                        AP_AUTH_INTERNAL_PER_CONF);
}

AP_DECLARE_MODULE(natomm) = {
    STANDARD20_MODULE_STUFF,
    create_dir_conf,
    merge_dir_conf,
    create_server_conf,
    merge_server_conf,
    natomm_cmds,
    register_hooks,
    0                        /* flags */
};
