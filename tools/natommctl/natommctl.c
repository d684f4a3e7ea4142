/* natommctl: accounts and exports of mod_natomm from the command line
 * (see ctl.h and natommctl.8).
 *
 * Every command is logged like an account event, to syslog (authpriv,
 * ident "natommctl") and to stderr (unless -q):
 *     natommctl: event=disable account=123 by=root
 * Changes that end sessions do exactly what the module's
 * natomm_session_end_all does (sessions deleted, links_after set, a row in
 * natomm_revocation), so every node forgets what it cached of the account
 * within NatommRevocationDelay. */
#include "ctl.h"
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <unistd.h>
#include <pwd.h>
#include <syslog.h>
#include "apr_general.h"
#include "apr_lib.h"
#include "apr_strings.h"
#include "natomm_clock.h"
#include "natomm_crypto.h"
#include "natomm_export.h"
#include "natomm_policy.h"
#include "natomm_text.h"

#ifndef NATOMM_VERSION
#define NATOMM_VERSION "unknown"
#endif

static const char usage_text[] =
"Usage: natommctl [OPTIONS] COMMAND [ARGUMENT]\n"
"\n"
"Accounts and exports of mod_natomm, on the database httpd uses.\n"
"\n"
"Commands:\n"
"  find TEXT             accounts whose address, name or organisation holds TEXT\n"
"  show ADDRESS          one account in full\n"
"  disable ADDRESS       no more logins (answered like a wrong password); its\n"
"                        sessions and download links end\n"
"  enable ADDRESS        undo disable\n"
"  logout ADDRESS        end every session and download link of the account\n"
"  delete ADDRESS        delete the account, its sessions, codes and tokens\n"
"  accounts [--csv]      every account (CSV: RFC 4180, UTF-8, a header row)\n"
"  subscribers [--csv] [--since TIME]\n"
"                        the newsletter's subscribers, each with its one-click\n"
"                        List-Unsubscribe URL; with --since, the unsubscribes\n"
"                        since TIME (2025-01-31, 2025-01-31T12:00:00Z, Unix\n"
"                        seconds, or a duration back such as 7d)\n"
"\n"
"Options:\n"
"  -f HTTPD.CONF         read DBDriver and DBDParams (and NatommPublicURL) from\n"
"                        this file and what it includes (default\n"
"                        " CTL_DEFAULT_CONF ")\n"
"  --driver NAME --params STRING\n"
"                        the database itself (sqlite3 or pgsql), no file read\n"
"  --vhost NAME          the <VirtualHost> (by ServerName) whose database to use,\n"
"                        when several are configured; \"main\" for the main server\n"
"  --url BASE            the site's public URL for unsubscribe links (default:\n"
"                        NatommPublicURL)\n"
"  --mount PATH          where SetHandler natomm is mounted (default: its\n"
"                        <Location>, else /account)\n"
"  -q, --quiet           no copy of the log line on stderr\n"
"  -h, --help            this text\n"
"  --version             the version\n"
"\n"
"Exit status: 0 done, 1 not found, 2 usage or configuration, 3 database\n"
"unavailable. See natommctl(8).\n";

typedef struct {
    apr_pool_t *p;
    const char *conf_file, *driver, *params, *vhost, *url, *mount, *since;
    int csv, quiet;
    const char *command, *arg;
    const char *actor;           /* who ran it, before any change of user */
    ctl_db_t *db;
    const ctl_scope_t *scope;
} ctl_t;

static int fail(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(int code, const char *fmt, ...)
{
    va_list ap;

    fputs("natommctl: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return code;
}

/* Who runs the command: the sudo user too, if any. */
static const char *actor(apr_pool_t *p)
{
    struct passwd *pw = getpwuid(getuid());
    const char *name = pw ? pw->pw_name : apr_psprintf(p, "uid%ld", (long)getuid());
    const char *sudo = getenv("SUDO_USER");

    return natomm_text_log_safe(p, sudo && *sudo ? apr_pstrcat(p, name, "(sudo:", sudo,
                                                               ")", NULL) : name);
}

/* One line per action, like the module's account events. */
static void log_event(ctl_t *c, const char *event, const char *account)
{
    const char *line = apr_psprintf(c->p, "event=%s account=%s by=%s", event,
                                    account ? account : "-", c->actor);

    syslog(LOG_AUTHPRIV | LOG_NOTICE, "%s", line);
    if (!c->quiet)
        fprintf(stderr, "natommctl: %s\n", line);
}

/* ---- options ------------------------------------------------------------ */

static int option_value(int argc, const char *const *argv, int *i, const char **out)
{
    if (*i + 1 >= argc || !argv[*i + 1][0])
        return fail(CTL_USAGE, "%s needs a value (see --help)", argv[*i]);
    *out = argv[++*i];
    return 0;
}

static int parse(ctl_t *c, int argc, const char *const *argv)
{
    const char *pos[3];
    int i, n = 0, rv;

    for (i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            fputs(usage_text, stdout);
            exit(CTL_OK);
        }
        if (!strcmp(a, "--version")) {
            printf("natommctl (mod_natomm) %s\n", NATOMM_VERSION);
            exit(CTL_OK);
        }
        if (!strcmp(a, "-f"))
            rv = option_value(argc, argv, &i, &c->conf_file);
        else if (!strcmp(a, "--driver"))
            rv = option_value(argc, argv, &i, &c->driver);
        else if (!strcmp(a, "--params"))
            rv = option_value(argc, argv, &i, &c->params);
        else if (!strcmp(a, "--vhost"))
            rv = option_value(argc, argv, &i, &c->vhost);
        else if (!strcmp(a, "--url"))
            rv = option_value(argc, argv, &i, &c->url);
        else if (!strcmp(a, "--mount"))
            rv = option_value(argc, argv, &i, &c->mount);
        else if (!strcmp(a, "--since"))
            rv = option_value(argc, argv, &i, &c->since);
        else if (!strcmp(a, "--csv"))
            rv = 0, c->csv = 1;
        else if (!strcmp(a, "-q") || !strcmp(a, "--quiet"))
            rv = 0, c->quiet = 1;
        else if (!strcmp(a, "--"))
            rv = 0;
        else if (a[0] == '-' && a[1])
            rv = fail(CTL_USAGE, "unknown option %s (see --help)", a);
        else if (n < 3)
            rv = 0, pos[n++] = a;
        else
            rv = fail(CTL_USAGE, "too many arguments (see --help)");
        if (rv)
            return rv;
    }
    if (n == 0)
        return fail(CTL_USAGE, "no command (see --help)");
    c->command = pos[0];
    c->arg = n > 1 ? pos[1] : NULL;
    if (n > 2)
        return fail(CTL_USAGE, "too many arguments (see --help)");
    if ((c->driver != NULL) != (c->params != NULL))
        return fail(CTL_USAGE, "--driver and --params go together");
    if (c->driver && c->conf_file)
        return fail(CTL_USAGE, "-f, or --driver and --params, not both");
    return 0;
}

/* ---- the database ------------------------------------------------------- */

static int open_db(ctl_t *c)
{
    const char *err;

    if (!c->driver) {
        ctl_conf_t conf;
        const char *file = c->conf_file ? c->conf_file : CTL_DEFAULT_CONF;
        if ((err = ctl_conf_read(c->p, file, &conf)))
            return fail(CTL_USAGE, "%s", err);
        if (!(c->scope = ctl_conf_pick(c->p, &conf, c->vhost, &err)))
            return fail(CTL_USAGE, "%s: %s", file, err);
        c->driver = c->scope->driver;
        c->params = c->scope->params;
    }
    if (!(c->db = ctl_db_open(c->p, c->driver, c->params, &err)))
        return fail(CTL_UNAVAILABLE, "%s", err);
    return 0;
}

static int db_failed(ctl_t *c, const char *what)
{
    const char *e = ctl_db_error(c->db);
    ctl_db_rollback(c->db);
    return fail(CTL_UNAVAILABLE, "%s: %s", what, e);
}

/* The address argument as stored: 0 and *key, or a usage error. */
static int address_key(ctl_t *c, const char **key)
{
    if (!c->arg)
        return fail(CTL_USAGE, "%s needs an ADDRESS (see --help)", c->command);
    if (!natomm_email_valid(c->arg))
        return fail(CTL_USAGE, "%s is not an e-mail address", c->arg);
    *key = natomm_email_key(c->p, c->arg);
    return 0;
}

/* A transaction that holds the address's lock, and its account: 0 with
 * acct filled, or an exit code (1 when there is none). */
static int begin_account(ctl_t *c, const char **acct)
{
    const char *key;
    int rv, n;

    if ((rv = address_key(c, &key)))
        return rv;
    /* the lock name of natomm_limits_address_lock */
    if (ctl_db_begin(c->db) || ctl_db_lock(c->db, apr_pstrcat(c->p, "addr:", key, NULL)))
        return db_failed(c, "begin");
    n = ctl_db_row(c->db, NATOMM_SQL_ADMIN_BY_EMAIL, (const char *[]){key}, acct);
    if (n < 0)
        return db_failed(c, "reading the account");
    if (n == 0) {
        ctl_db_rollback(c->db);
        return fail(CTL_NOT_FOUND, "no account for %s", c->arg);
    }
    return 0;
}

/* natomm_session_end_all: sessions, links, and the revocation every node
 * reads. The sessions ended, or -1. */
static int end_all(ctl_t *c, const char *id)
{
    const char *now_ms = ctl_num(c->p, natomm_now_ms());
    int n = ctl_db_exec(c->db, NATOMM_SQL_SESSION_DELETE_ACCOUNT, (const char *[]){id});

    if (n < 0
        || ctl_db_exec(c->db, NATOMM_SQL_ACCT_LINKS_REVOKE, (const char *[]){now_ms, id}) < 0
        || ctl_db_exec(c->db, NATOMM_SQL_REVOKE_INSERT, (const char *[]){id, now_ms}) != 1)
        return -1;
    return n;
}

static int commit(ctl_t *c)
{
    return ctl_db_commit(c->db) ? db_failed(c, "commit") : 0;
}

/* ---- the commands ------------------------------------------------------- */

static const char *state(apr_pool_t *p, const char **a)
{
    return apr_pstrcat(p, a[ADM_VERIFIED] ? "verified" : "pending",
                       a[ADM_DISABLED] ? ",disabled" : "",
                       a[ADM_NEWS] && atoi(a[ADM_NEWS]) ? ",newsletter" : "", NULL);
}

/* One line: id, address, state, name, organisation, separated by TABs. */
static void print_line(ctl_t *c, const char **a)
{
    printf("%s\t%s\t%s\t%s\t%s\n", a[ADM_ID], natomm_text_log_safe(c->p, a[ADM_EMAIL]),
           state(c->p, a), a[ADM_NAME] ? natomm_text_log_safe(c->p, a[ADM_NAME]) : "",
           a[ADM_ORG] ? natomm_text_log_safe(c->p, a[ADM_ORG]) : "");
}

/* A LIKE pattern for text, lower case, with ! escaping % _ and ! */
static const char *like(apr_pool_t *p, const char *text)
{
    char *out = apr_palloc(p, 2 * strlen(text) + 3), *o = out;

    *o++ = '%';
    for (; *text; text++) {
        if (*text == '%' || *text == '_' || *text == '!')
            *o++ = '!';
        *o++ = (char)apr_tolower((unsigned char)*text);
    }
    *o++ = '%';
    *o = '\0';
    return out;
}

static int cmd_find(ctl_t *c)
{
    apr_array_header_t *rows;
    const char *pat;
    int i, n;

    if (!c->arg || !*c->arg)
        return fail(CTL_USAGE, "find needs a TEXT (see --help)");
    pat = like(c->p, c->arg);
    n = ctl_db_rows(c->db, NATOMM_SQL_ADMIN_FIND, (const char *[]){pat, pat, pat}, &rows);
    if (n < 0)
        return db_failed(c, "find");
    log_event(c, "admin_find", NULL);
    for (i = 0; i < n; i++)
        print_line(c, APR_ARRAY_IDX(rows, i, const char **));
    return n ? CTL_OK : fail(CTL_NOT_FOUND, "no account matches %s", c->arg);
}

static void field(const char *name, const char *value)
{
    printf("%-14s %s\n", name, value && *value ? value : "-");
}

static int cmd_show(ctl_t *c)
{
    const char *a[ADM_NCOLS], *sess[ADM_SESS_NCOLS], *key;
    apr_pool_t *p = c->p;
    int rv, n;

    if ((rv = address_key(c, &key)))
        return rv;
    n = ctl_db_row(c->db, NATOMM_SQL_ADMIN_BY_EMAIL, (const char *[]){key}, a);
    if (n < 0)
        return db_failed(c, "reading the account");
    if (n == 0)
        return fail(CTL_NOT_FOUND, "no account for %s", c->arg);
    if (ctl_db_row(c->db, NATOMM_SQL_ADMIN_SESSIONS, (const char *[]){a[ADM_ID]}, sess) < 0)
        return db_failed(c, "reading the sessions");
    log_event(c, "admin_show", a[ADM_ID]);
    field("id:", a[ADM_ID]);
    field("address:", natomm_text_log_safe(p, a[ADM_EMAIL]));
    field("name:", a[ADM_NAME] ? natomm_text_log_safe(p, a[ADM_NAME]) : NULL);
    field("organisation:", a[ADM_ORG] ? natomm_text_log_safe(p, a[ADM_ORG]) : NULL);
    field("language:", a[ADM_LANG]);
    field("created:", natomm_export_time(p, a[ADM_CREATED]));
    field("verified:", a[ADM_VERIFIED] ? natomm_export_time(p, a[ADM_VERIFIED]) : "no");
    field("disabled:", a[ADM_DISABLED] ? natomm_export_time(p, a[ADM_DISABLED]) : "no");
    if (a[ADM_NEWS] && atoi(a[ADM_NEWS]))
        field("newsletter:", apr_pstrcat(p, "yes, since ",
                                         natomm_export_time(p, a[ADM_NEWS_AT]), " from ",
                                         a[ADM_NEWS_IP] ? a[ADM_NEWS_IP] : "?", NULL));
    else if (a[ADM_NEWS_OUT])
        field("newsletter:", apr_pstrcat(p, "no, withdrawn ",
                                         natomm_export_time(p, a[ADM_NEWS_OUT]), NULL));
    else
        field("newsletter:", "no");
    field("failed logins:", a[ADM_FAILS]);
    field("sessions:", sess[ADM_SESSIONS] && atoi(sess[ADM_SESSIONS])
          ? apr_pstrcat(p, sess[ADM_SESSIONS], ", last seen ",
                        natomm_export_time(p, sess[ADM_LAST_SEEN]), NULL) : "0");
    return CTL_OK;
}

static int cmd_disable(ctl_t *c, int disable)
{
    const char *a[ADM_NCOLS], *now = ctl_num(c->p, natomm_now());
    int rv, changed, ended = 0;

    if ((rv = begin_account(c, a)))
        return rv;
    changed = disable
        ? ctl_db_exec(c->db, NATOMM_SQL_ACCT_DISABLE, (const char *[]){now, a[ADM_ID]})
        : ctl_db_exec(c->db, NATOMM_SQL_ACCT_ENABLE, (const char *[]){a[ADM_ID]});
    /* disabled again: its sessions end again, should any have come since */
    if (changed < 0 || (disable && (ended = end_all(c, a[ADM_ID])) < 0))
        return db_failed(c, disable ? "disable" : "enable");
    if ((rv = commit(c)))
        return rv;
    log_event(c, disable ? "disable" : "enable", a[ADM_ID]);
    if (disable)
        printf("%s (account %s) %s; %d session(s) ended, download links void\n",
               natomm_text_log_safe(c->p, a[ADM_EMAIL]), a[ADM_ID],
               changed ? "disabled" : "was already disabled", ended);
    else
        printf("%s (account %s) %s\n", natomm_text_log_safe(c->p, a[ADM_EMAIL]), a[ADM_ID],
               changed ? "enabled" : "was not disabled");
    return CTL_OK;
}

static int cmd_logout(ctl_t *c)
{
    const char *a[ADM_NCOLS];
    int rv, ended;

    if ((rv = begin_account(c, a)))
        return rv;
    if ((ended = end_all(c, a[ADM_ID])) < 0)
        return db_failed(c, "logout");
    if ((rv = commit(c)))
        return rv;
    log_event(c, "admin_logout", a[ADM_ID]);
    printf("%s (account %s): %d session(s) ended, download links void\n",
           natomm_text_log_safe(c->p, a[ADM_EMAIL]), a[ADM_ID], ended);
    return CTL_OK;
}

/* As POST /account/delete does (src/handle/delete.c). */
static int cmd_delete(ctl_t *c)
{
    const char *a[ADM_NCOLS], *id;
    int rv;

    if ((rv = begin_account(c, a)))
        return rv;
    if (!(id = natomm_random_id(c->p)))
        return db_failed(c, "no random bytes");
    if (ctl_db_exec(c->db, NATOMM_SQL_NEWS_DELETED, (const char *[]){
            id, ctl_num(c->p, natomm_now()), a[ADM_ID]}) < 0
        || ctl_db_exec(c->db, NATOMM_SQL_ACCT_DELETE, (const char *[]){a[ADM_ID]}) != 1
        || end_all(c, a[ADM_ID]) < 0)
        return db_failed(c, "delete");
    if ((rv = commit(c)))
        return rv;
    log_event(c, "admin_delete", a[ADM_ID]);
    printf("%s (account %s) deleted\n", natomm_text_log_safe(c->p, a[ADM_EMAIL]), a[ADM_ID]);
    return CTL_OK;
}

static int put(const char *s)
{
    return fputs(s, stdout) < 0 ? -1 : 0;
}

static int cmd_accounts(ctl_t *c)
{
    apr_int64_t cursor = 0;
    apr_pool_t *page;
    int n, i;

    log_event(c, "admin_export_accounts", NULL);
    if (c->csv && put(natomm_export_accounts_header()))
        return fail(CTL_UNAVAILABLE, "cannot write the output");
    apr_pool_create(&page, c->p);
    c->db->rows_pool = page;
    do {
        apr_array_header_t *rows;
        apr_pool_clear(page);
        n = ctl_db_rows(c->db, NATOMM_SQL_ADMIN_LIST,
                        (const char *[]){ctl_num(page, cursor)}, &rows);
        if (n < 0)
            return db_failed(c, "accounts");
        for (i = 0; i < n; i++) {
            const char **a = APR_ARRAY_IDX(rows, i, const char **);
            natomm_export_account_t e = {a[ADM_ID], a[ADM_EMAIL], a[ADM_NAME], a[ADM_ORG],
                                         a[ADM_LANG], a[ADM_CREATED], a[ADM_VERIFIED],
                                         a[ADM_DISABLED], a[ADM_NEWS], a[ADM_NEWS_AT],
                                         a[ADM_FAILS]};
            cursor = apr_atoi64(a[ADM_ID]);
            if (c->csv) {
                if (put(natomm_export_account(page, &e)))
                    return fail(CTL_UNAVAILABLE, "cannot write the output");
            }
            else
                print_line(c, a);
        }
    } while (n == NATOMM_EXPORT_PAGE);
    c->db->rows_pool = NULL;
    return fflush(stdout) ? fail(CTL_UNAVAILABLE, "cannot write the output") : CTL_OK;
}

/* The same lists as the natomm-subscribers handler, in the same bytes. */
static int cmd_subscribers(ctl_t *c)
{
    static const natomm_sql_t all[] = {NATOMM_SQL_EXPORT_SUBSCRIBERS};
    static const natomm_sql_t since_lists[] = {NATOMM_SQL_EXPORT_WITHDRAWN,
                                               NATOMM_SQL_EXPORT_DELETED};
    const char *url = c->url ? c->url : c->scope ? c->scope->public_url : NULL;
    const char *mount = c->mount ? c->mount : c->scope && c->scope->mount
                        ? c->scope->mount : "/account";
    const char *base = NULL;
    const natomm_sql_t *lists = all;
    apr_int64_t since = -1;
    apr_pool_t *page;
    int nlists = 1, l;

    if (c->since) {
        const char *err = natomm_export_parse_time(c->since, natomm_now(), &since);
        if (err)
            return fail(CTL_USAGE, "--since %s: %s", c->since, err);
        lists = since_lists;
        nlists = 2;
    }
    else {
        size_t n;
        if (!url)
            return fail(CTL_USAGE, "no NatommPublicURL in the configuration: give "
                        "--url https://your.site for the unsubscribe links");
        n = strlen(url);
        if (n && url[n - 1] == '/')
            url = apr_pstrndup(c->p, url, n - 1);
        if (!strcmp(mount, "/"))
            mount = "";
        base = apr_pstrcat(c->p, url, mount, "/newsletter/unsubscribe?token=", NULL);
    }
    log_event(c, since < 0 ? "admin_export_subscribers" : "admin_export_unsubscribes",
              NULL);
    if (put(natomm_export_subscribers_header(since >= 0)))
        return fail(CTL_UNAVAILABLE, "cannot write the output");
    apr_pool_create(&page, c->p);
    c->db->rows_pool = page;
    for (l = 0; l < nlists; l++) {
        apr_int64_t cursor = 0;
        int n, i;
        do {
            apr_array_header_t *rows;
            apr_pool_clear(page);
            n = since < 0
                ? ctl_db_rows(c->db, lists[l], (const char *[]){ctl_num(page, cursor)}, &rows)
                : ctl_db_rows(c->db, lists[l], (const char *[]){ctl_num(page, since),
                                                               ctl_num(page, cursor)}, &rows);
            if (n < 0)
                return db_failed(c, "subscribers");
            for (i = 0; i < n; i++) {
                const char **r = APR_ARRAY_IDX(rows, i, const char **);
                natomm_export_subscriber_t s = {
                    lists[l] == NATOMM_SQL_EXPORT_DELETED ? NULL : r[SUB_ID], r[SUB_EMAIL],
                    r[SUB_NAME], r[SUB_ORG], r[SUB_LANG], r[SUB_AT], r[SUB_IP],
                    r[SUB_WITHDRAWN]
                };
                const char *rec = natomm_export_subscriber(page, &s, c->db->code_key,
                                                           base, since >= 0);
                cursor = apr_atoi64(r[SUB_ID]);
                if (!rec)
                    return fail(CTL_UNAVAILABLE, "cannot make an unsubscribe token");
                if (put(rec))
                    return fail(CTL_UNAVAILABLE, "cannot write the output");
            }
        } while (n == NATOMM_EXPORT_PAGE);
    }
    c->db->rows_pool = NULL;
    return fflush(stdout) ? fail(CTL_UNAVAILABLE, "cannot write the output") : CTL_OK;
}

static int run(ctl_t *c)
{
    static const char *const commands[] = {"find", "show", "disable", "enable", "logout",
                                           "delete", "accounts", "subscribers", NULL};
    int i, rv;

    for (i = 0; commands[i] && strcmp(commands[i], c->command); i++)
        ;
    if (!commands[i])
        return fail(CTL_USAGE, "unknown command %s (see --help)", c->command);
    if (i >= 6 && c->arg)
        return fail(CTL_USAGE, "%s takes no argument", c->command);
    if (i < 6 && !c->arg)
        return fail(CTL_USAGE, "%s needs an argument (see --help)", c->command);
    if (c->since && i != 7)
        return fail(CTL_USAGE, "--since goes with subscribers");
    if ((rv = open_db(c)))
        return rv;
    switch (i) {
    case 0: return cmd_find(c);
    case 1: return cmd_show(c);
    case 2: return cmd_disable(c, 1);
    case 3: return cmd_disable(c, 0);
    case 4: return cmd_logout(c);
    case 5: return cmd_delete(c);
    case 6: return cmd_accounts(c);
    default: return cmd_subscribers(c);
    }
}

int main(int argc, const char *const *argv)
{
    ctl_t c;
    int rv;

    memset(&c, 0, sizeof(c));
    if (apr_app_initialize(&argc, &argv, NULL) != APR_SUCCESS)
        return fail(CTL_UNAVAILABLE, "cannot initialise APR");
    apr_pool_create(&c.p, NULL);
    openlog("natommctl", LOG_PID, LOG_AUTHPRIV);
    c.actor = actor(c.p);
    rv = parse(&c, argc, argv);
    if (!rv)
        rv = run(&c);
    if (c.db)
        ctl_db_close(c.db);
    closelog();
    apr_pool_destroy(c.p);
    apr_terminate();
    return rv;
}
