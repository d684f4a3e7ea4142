/* The directive table and its handlers (see natomm_cfg.h). Each handler
 * refuses a bad value with one line that names the directive. */
#include "natomm_cfg.h"
#include <string.h>
#include <stdlib.h>
#include "http_core.h"
#include "apr_strings.h"
#include "natomm_duration.h"
#include "natomm_utf8.h"


static natomm_server_conf *server_conf(cmd_parms *cmd)
{
    return natomm_cfg_server(cmd->server);
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

/* Text that may reach a mail header or a page: valid UTF-8 (a stray byte
 * once made the header encoder loop), no control characters. */
static const char *set_string(cmd_parms *cmd, void *dummy, const char *arg)
{
    const char **field = (const char **)((char *)server_conf(cmd)
                                         + (apr_size_t)cmd->info);
    (void)dummy;
    if (strpbrk(arg, "\r\n"))
        return fail(cmd, "line breaks are not allowed");
    if (!natomm_utf8_clean(arg, strlen(arg)))
        return fail(cmd, "must be UTF-8 text without control characters");
    *field = arg;
    return NULL;
}

/* A local path on the site: "/assets/site.css" */
static const char *set_stylesheet(cmd_parms *cmd, void *dummy, const char *arg)
{
    (void)dummy;
    if (arg[0] != '/' || arg[1] == '/' || strpbrk(arg, "\"<>'\\ \t\r\n"))
        return fail(cmd, "expects a local path such as /assets/site.css");
    server_conf(cmd)->stylesheet = arg;
    return NULL;
}

/* A local URL path: "/account" */
static const char *set_account_path(cmd_parms *cmd, void *dummy, const char *arg)
{
    size_t n = strlen(arg);
    (void)dummy;
    if (arg[0] != '/' || strspn(arg, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                "0123456789/-_.~") != n || strstr(arg, "//"))
        return fail(cmd, "expects the local path of SetHandler natomm, such as /account");
    server_conf(cmd)->account_path = apr_pstrndup(cmd->pool, arg,
                                                  n > 1 && arg[n - 1] == '/' ? n - 1 : n);
    return NULL;
}

static const char *set_mail_from(cmd_parms *cmd, void *dummy, const char *arg)
{
    if (!strchr(arg, '@') || strpbrk(arg, "\r\n"))
        return fail(cmd, "expects an address such as "
                         "\"Site <no-reply@example.org>\"");
    return set_string(cmd, dummy, arg);
}

/* file:/dir, or smtp[s]:// parsed by core/smtp.c */
static const char *set_transport(cmd_parms *cmd, void *dummy, const char *arg)
{
    natomm_server_conf *conf = server_conf(cmd);
    (void)dummy;

    if (!strncmp(arg, "file:", 5)) {
        const char *dir = arg + 5;
        while (dir[0] == '/' && dir[1] == '/')
            dir++;
        if (*dir != '/')
            return fail(cmd, "file: needs an absolute folder, as file:/var/spool/natomm");
        conf->mail_dir = dir;
        conf->smtp = NULL;
    }
    else {
        natomm_smtp_t *smtp = apr_pcalloc(cmd->pool, sizeof(*smtp));
        const char *err = natomm_smtp_parse(cmd->pool, arg, smtp);
        if (err)
            return fail(cmd, err);
        conf->smtp = smtp;
        conf->mail_dir = NULL;
    }
    conf->mail_transport = arg;
    return NULL;
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

/* NatommRevocationDelay: a duration, "0" for none (every check asks the
 * database), or milliseconds ("500ms") for a tighter bound. */
static const char *set_revocation_delay(cmd_parms *cmd, void *dummy, const char *arg)
{
    natomm_server_conf *c = server_conf(cmd);
    apr_int64_t sec;
    const char *err;
    size_t n = strlen(arg);
    (void)dummy;

    if (!strcmp(arg, "0")) {
        c->revocation_delay_ms = 0;
        return NULL;
    }
    if (n > 2 && !strcmp(arg + n - 2, "ms")) {
        int ms;
        if ((err = int_in(cmd, apr_pstrmemdup(cmd->pool, arg, n - 2), 100, 3600000, &ms)))
            return err;
        c->revocation_delay_ms = ms;
        return NULL;
    }
    if ((err = natomm_duration_parse(arg, &sec)))
        return fail(cmd, apr_pstrcat(cmd->pool, "'", arg, "' ", err, " (or 0, or 500ms)",
                                     NULL));
    if (sec > 3600)
        return fail(cmd, "at most 1h");
    c->revocation_delay_ms = sec * 1000;
    return NULL;
}

/* NatommDownloadLinkLifetime: a duration of at most 30 days. */
static const char *set_link_lifetime(cmd_parms *cmd, void *dummy, const char *arg)
{
    natomm_server_conf *c = server_conf(cmd);
    const char *err = natomm_duration_parse(arg, &c->link_lifetime);
    (void)dummy;

    if (err)
        return fail(cmd, apr_pstrcat(cmd->pool, "'", arg, "' ", err, NULL));
    /* a link is a bearer capability: it should not outlive a download */
    return c->link_lifetime > 30 * 86400 ? fail(cmd, "at most 30d") : NULL;
}

/* NatommCodeMisses: wrong codes in a row, and how long entry is refused. */
static const char *set_code_misses(cmd_parms *cmd, void *dummy, const char *n,
                                   const char *dur)
{
    natomm_server_conf *c = server_conf(cmd);
    const char *err = int_in(cmd, n, 1, 1000, &c->code_miss_limit);
    (void)dummy;
    if (!err && (err = natomm_duration_parse(dur, &c->code_miss_lock)))
        return fail(cmd, apr_pstrcat(cmd->pool, "'", dur, "' ", err, NULL));
    /* misses are forgotten a day after the last one */
    return err ? err : c->code_miss_lock > 86400 ? fail(cmd, "at most 1d") : NULL;
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

/* provider[:args] or none; the provider is looked up by configtest */
static const char *set_cache(cmd_parms *cmd, void *dummy, const char *arg)
{
    (void)dummy;
    server_conf(cmd)->cache_spec = arg;
    server_conf(cmd)->cache_off = !strcasecmp(arg, "none");
    return NULL;
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

const command_rec natomm_cfg_cmds[] = {
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
    AP_INIT_TAKE1("NatommResendPerDay", set_count, OFF(resend_per_day),
                  RSRC_CONF, "Codes per day to one address and purpose, from all clients"),
    AP_INIT_TAKE2("NatommCodeMisses", set_code_misses, NULL, RSRC_CONF,
                  "Wrong codes in a row for one address, and how long entry then stops"),
    AP_INIT_TAKE1("NatommLockoutCeiling", set_count, OFF(lockout_ceiling), RSRC_CONF,
                  "Failed logins from all addresses that lock an account until a reset"),
    AP_INIT_TAKE1("NatommHashWait", set_duration, OFF(hash_wait), RSRC_CONF,
                  "Longest wait for a password-hash slot before 429"),
    AP_INIT_TAKE3("NatommLockout", set_lockout, NULL, RSRC_CONF,
                  "Failures before an account locks, first lock, longest lock"),
    AP_INIT_TAKE_ARGV("NatommIPLimit", set_ip_limit, NULL, RSRC_CONF,
                      "Per client address: kind and count/duration limits"),
    AP_INIT_TAKE1("NatommPurgeInterval", set_duration, OFF(purge_interval),
                  RSRC_CONF, "How often expired rows are deleted"),
    AP_INIT_TAKE1("NatommStylesheet", set_stylesheet, NULL, RSRC_CONF,
                  "The site's stylesheet (a local path) for the module's own pages"),
    AP_INIT_TAKE1("NatommAccountPath", set_account_path, NULL, RSRC_CONF,
                  "The path of the SetHandler natomm <Location>, for links in mail"),
    AP_INIT_TAKE1("NatommPublicURL", set_public_url, NULL, RSRC_CONF,
                  "The site's base URL for links in mail"),
    AP_INIT_TAKE1("NatommDownloadLinkLifetime", set_link_lifetime, NULL, RSRC_CONF,
                  "How long a download link works after it is made"),
    AP_INIT_TAKE1("NatommSessionCache", set_cache, NULL, RSRC_CONF,
                  "socache provider[:args] for session validity, or none"),
    AP_INIT_TAKE1("NatommSessionCacheTTL", set_duration, OFF(cache_ttl), RSRC_CONF,
                  "How long the gate trusts a cached session check"),
    AP_INIT_TAKE1("NatommRevocationDelay", set_revocation_delay, NULL, RSRC_CONF,
                  "Bound on how late a node honours a logout or revocation; 0: no cache"),
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
    AP_INIT_TAKE1("NatommDatabaseBusyTimeout", set_duration, OFF(db_busy_timeout),
                  RSRC_CONF, "How long a locked database is waited for before 503"),
    {NULL}
};
