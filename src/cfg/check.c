/* Start-up checks: what configtest must refuse (see natomm_cfg.h). The
 * password files are read here, while the parent is still root.
 *
 * The directives of other modules (SetHandler, Require, DBDriver,
 * DBDParams) are read from the configuration tree, ap_conftree: a section
 * is a node whose children are its directives (<IfModule> and <IfDefine>
 * are resolved while reading, so their contents sit in the enclosing
 * section). A <VirtualHost> node is matched to its server_rec by file and
 * line. What .htaccess files hold is not in the tree. */
#include "natomm_cfg.h"
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>
#include <grp.h>
#include "httpd.h"
#include "http_config.h"
#include "http_log.h"
#include "ap_provider.h"
#include "ap_socache.h"
#include "unixd.h"
#include "apr_strings.h"
#include "apr_optional.h"
#include "apr_dbd.h"
#include "mod_dbd.h"

#define FAIL(...) ap_log_error(APLOG_MARK, APLOG_STARTUP | APLOG_CRIT, 0, NULL, \
                               __VA_ARGS__)

/* set by the last configuration check: the module is loaded and used */
static int in_use;

int natomm_cfg_in_use(void)
{
    return in_use;
}

typedef struct {
    int uses_gate, uses_handler, has_driver, has_natomm_directive;
    apr_array_header_t *handlers;      /* ap_directive_t *: SetHandler natomm */
    apr_array_header_t *exports;       /* SetHandler natomm-subscribers */
    apr_array_header_t *sections;      /* every section, for the Require lookup */
    apr_array_header_t *params;        /* DBDParams of a DBDriver sqlite3 scope */
} conf_usage;

/* The first word of a directive's arguments (quotes and a section's ">"
 * dropped). */
static const char *first_arg(apr_pool_t *p, const ap_directive_t *d)
{
    const char *a = d->args;
    char *w = ap_getword_conf(p, &a);
    size_t n = strlen(w);

    if (n && w[n - 1] == '>')
        w[n - 1] = '\0';
    return w;
}

static int arg_is(const ap_directive_t *d, const char *word)
{
    const char *a = d->args;
    size_t n = strlen(word);
    while (*a == ' ' || *a == '\t' || *a == '"')
        a++;
    return !strncasecmp(a, word, n) && (a[n] == '\0' || a[n] == '"'
                                        || a[n] == ' ' || a[n] == '\t');
}

static int is_section(const ap_directive_t *d)
{
    return d->directive[0] == '<';
}

/* The section (or NULL: the server's top level) that holds d. */
static const ap_directive_t *section_of(const ap_directive_t *d, const char *name)
{
    for (d = d->parent; d; d = d->parent)
        if (!strcasecmp(d->directive, name))
            return d;
    return NULL;
}

/* The server a directive belongs to: its <VirtualHost>'s, else the main. */
static server_rec *server_of(server_rec *s, const ap_directive_t *d)
{
    const ap_directive_t *vh = section_of(d, "<VirtualHost");
    server_rec *v;

    if (!vh)
        return s;
    for (v = s->next; v; v = v->next)
        if (v->defn_name && vh->filename && !strcmp(v->defn_name, vh->filename)
            && v->defn_line_number == (unsigned)vh->line_num)
            return v;
    return s;
}

/* Walks the whole configuration, sections included, for what mod_natomm
 * needs but cannot see through its own directives. */
static void scan(apr_pool_t *p, const ap_directive_t *d, conf_usage *u)
{
    for (; d; d = d->next) {
        if (!strcasecmp(d->directive, "AuthType") && arg_is(d, NATOMM_AUTHTYPE))
            u->uses_gate = 1;
        else if (!strcasecmp(d->directive, "SetHandler") && arg_is(d, NATOMM_HANDLER)) {
            u->uses_handler = 1;
            APR_ARRAY_PUSH(u->handlers, const ap_directive_t *) = d;
        }
        else if (!strcasecmp(d->directive, "SetHandler")
                 && arg_is(d, NATOMM_SUBSCRIBERS_HANDLER))
            APR_ARRAY_PUSH(u->exports, const ap_directive_t *) = d;
        else if (!strcasecmp(d->directive, "DBDriver")) {
            u->has_driver = 1;
        }
        else if (!strcasecmp(d->directive, "DBDParams"))
            APR_ARRAY_PUSH(u->params, const ap_directive_t *) = d;
        else if (!strncasecmp(d->directive, "Natomm", 6))
            u->has_natomm_directive = 1;
        if (is_section(d))
            APR_ARRAY_PUSH(u->sections, const ap_directive_t *) = d;
        if (d->first_child)
            scan(p, d->first_child, u);
    }
}

/* Read while httpd is still root: the file may be readable by root only. */
static int read_password_files(apr_pool_t *p, server_rec *s)
{
    for (; s; s = s->next) {
        natomm_server_conf *c = natomm_cfg_server(s);
        const char *err;
        if (!c->mail_password_file)
            continue;
        if (!c->smtp) {
            FAIL("NATOMM: NatommMailPasswordFile needs an smtp:// or smtps:// "
                 "NatommMailTransport");
            return HTTP_INTERNAL_SERVER_ERROR;
        }
        if ((err = natomm_smtp_password_file(p, c->mail_password_file, c->smtp))) {
            FAIL("NATOMM: NatommMailPasswordFile %s", err);
            return HTTP_INTERNAL_SERVER_ERROR;
        }
    }
    return OK;
}

/* An unknown socache provider must stop configtest, not only the start. */
static int check_cache(server_rec *s)
{
    natomm_server_conf *c = natomm_cfg_server(s);
    const char *spec = c->cache_spec, *colon;
    char name[64];

    if (!spec || c->cache_off)
        return OK;
    colon = strchr(spec, ':');
    apr_cpystrn(name, spec, colon && (size_t)(colon - spec) < sizeof(name)
                ? (apr_size_t)(colon - spec) + 1 : sizeof(name));
    if (!ap_lookup_provider(AP_SOCACHE_PROVIDER_GROUP, name,
                            AP_SOCACHE_PROVIDER_VERSION)) {
        FAIL("NATOMM: NatommSessionCache %s: no such socache provider "
             "(LoadModule socache_%s_module?)", spec, name);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    return OK;
}

/* ---- the children's user --------------------------------------------- */

typedef struct {
    uid_t uid;
    gid_t groups[64];
    int ngroups;
    const char *name;
} child_user_t;

/* Who the children run as: the User/Group of the configuration when httpd
 * starts as root, else whoever starts it. */
static void child_user(child_user_t *u)
{
    int n = (int)(sizeof(u->groups) / sizeof(u->groups[0]));

    if (geteuid() == 0 && ap_unixd_config.user_name) {
        u->uid = ap_unixd_config.user_id;
        u->name = ap_unixd_config.user_name;
        if (getgrouplist(u->name, ap_unixd_config.group_id, u->groups, &n) < 0)
            n = 0;
        if (n == 0) {
            u->groups[0] = ap_unixd_config.group_id;
            n = 1;
        }
    }
    else {
        u->uid = geteuid();
        u->name = "the user httpd runs as";
        u->groups[0] = getegid();
        n = 1 + getgroups(n - 1, u->groups + 1);
        if (n < 1)
            n = 1;
    }
    u->ngroups = n;
}

/* Whether the user has the permission bits (4 read, 2 write, 1 search) on
 * an existing path by its mode alone (ACLs aside). */
static int user_may(const child_user_t *u, const struct stat *st, int bits)
{
    int shift = 0;

    if (u->uid == 0)
        return 1;
    if (st->st_uid == u->uid)
        shift = 6;
    else
        for (int i = 0; i < u->ngroups; i++)
            if (st->st_gid == u->groups[i]) {
                shift = 3;
                break;
            }
    return ((int)(st->st_mode >> shift) & bits) == bits;
}

/* The first folder above path (itself excluded) the user cannot search,
 * or NULL. */
static const char *unsearchable_parent(apr_pool_t *p, const child_user_t *u,
                                       const char *path)
{
    char *prefix = apr_pstrdup(p, path), *slash;
    struct stat st;

    for (slash = strchr(prefix + 1, '/'); slash; slash = strchr(slash + 1, '/')) {
        *slash = '\0';
        if (stat(prefix, &st) == 0 && !user_may(u, &st, 1))
            return prefix;
        *slash = '/';
    }
    return NULL;
}

/* SQLite writes the database, and beside it natomm.db-wal and -shm: the
 * folder must exist and be writable by the children. */
static int check_sqlite_path(apr_pool_t *p, const child_user_t *u, const char *path)
{
    char *dir = ap_make_dirstr_parent(p, path);
    const char *blocked;
    const char *files[3];
    struct stat st;
    int i;

    if (path[0] != '/')
        return OK;                 /* relative to the server's working folder */
    if (strlen(dir) > 1)
        dir[strlen(dir) - 1] = '\0';      /* "/var/lib/natomm", not ".../" */
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        FAIL("NATOMM: DBDParams %s: the folder %s does not exist (create it, "
             "owned by %s)", path, dir, u->name);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    if ((blocked = unsearchable_parent(p, u, dir))) {
        FAIL("NATOMM: DBDParams %s: %s cannot enter the folder %s", path, u->name,
             blocked);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    if (!user_may(u, &st, 3)) {
        FAIL("NATOMM: DBDParams %s: the folder %s is not writable by %s (SQLite "
             "writes the -wal and -shm files beside the database)", path, dir, u->name);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    files[0] = path;
    files[1] = apr_pstrcat(p, path, "-wal", NULL);
    files[2] = apr_pstrcat(p, path, "-shm", NULL);
    for (i = 0; i < 3; i++)
        if (stat(files[i], &st) == 0 && !user_may(u, &st, 6)) {
            FAIL("NATOMM: DBDParams %s: the file %s is not readable and writable "
                 "by %s", path, files[i], u->name);
            return HTTP_INTERNAL_SERVER_ERROR;
        }
    return OK;
}

/* The DBDParams of every scope whose DBDriver is sqlite3. */
static int check_sqlite(apr_pool_t *p, const conf_usage *usage,
                        const child_user_t *u)
{
    int i;

    for (i = 0; i < usage->params->nelts; i++) {
        const ap_directive_t *d = APR_ARRAY_IDX(usage->params, i, const ap_directive_t *);
        const ap_directive_t *k;
        int sqlite = 0;
        /* the DBDriver beside it (mod_dbd's scopes are the server and its
         * virtual hosts) */
        for (k = d->parent ? d->parent->first_child : ap_conftree; k; k = k->next)
            if (!strcasecmp(k->directive, "DBDriver"))
                sqlite = !strcasecmp(first_arg(p, k), "sqlite3");
        if (sqlite && check_sqlite_path(p, u, first_arg(p, d)) != OK)
            return HTTP_INTERNAL_SERVER_ERROR;
    }
    return OK;
}

/* libcurl reads cafile= in the child that sends. */
static int check_cafiles(apr_pool_t *p, server_rec *s, const child_user_t *u)
{
    for (; s; s = s->next) {
        natomm_server_conf *c = natomm_cfg_server(s);
        struct stat st;

        if (!c->smtp || !c->smtp->cafile)
            continue;
        if (stat(c->smtp->cafile, &st) != 0 || !S_ISREG(st.st_mode)) {
            FAIL("NATOMM: NatommMailTransport cafile=%s: no such file", c->smtp->cafile);
            return HTTP_INTERNAL_SERVER_ERROR;
        }
        if (unsearchable_parent(p, u, c->smtp->cafile) || !user_may(u, &st, 4)) {
            FAIL("NATOMM: NatommMailTransport cafile=%s cannot be read by %s",
                 c->smtp->cafile, u->name);
            return HTTP_INTERNAL_SERVER_ERROR;
        }
    }
    return OK;
}

/* ---- the handlers ---------------------------------------------------- */

/* The mail settings a server with the account handler needs; NULL when it
 * has them. */
static const char *mail_missing(server_rec *v)
{
    natomm_server_conf *c = natomm_cfg_server(v);
    return !c->mail_from ? "NatommMailFrom" : !c->mail_transport ? "NatommMailTransport"
                                                                 : NULL;
}

static const char *server_label(apr_pool_t *p, const server_rec *s,
                                const server_rec *v)
{
    if (v == s)
        return "";
    return apr_psprintf(p, " (in the <VirtualHost> of %s:%u, or the main server)",
                        v->defn_name ? v->defn_name : "?", v->defn_line_number);
}

/* Every SetHandler natomm: its server (a top-level one serves them all)
 * has the mail settings, and learns its mount from the <Location>. */
static int check_handlers(apr_pool_t *p, server_rec *s, const conf_usage *u)
{
    int i, warned = 0;

    for (i = 0; i < u->handlers->nelts; i++) {
        const ap_directive_t *d = APR_ARRAY_IDX(u->handlers, i, const ap_directive_t *);
        const ap_directive_t *loc = d->parent;
        server_rec *owner = server_of(s, d), *v;
        const char *mount = NULL;
        int top = owner == s;

        if (loc && !strcasecmp(loc->directive, "<Location"))
            mount = first_arg(p, loc);
        for (v = top ? s : owner; v; v = top ? v->next : NULL) {
            natomm_server_conf *c = natomm_cfg_server(v);
            const char *missing = mail_missing(v);
            if (missing) {
                FAIL("NATOMM: SetHandler natomm needs %s%s", missing,
                     server_label(p, s, v));
                return HTTP_INTERNAL_SERVER_ERROR;
            }
            /* a virtual host's own <Location> wins over the main server's */
            if (mount && (!c->account_mount || !top))
                c->account_mount = apr_pstrdup(p, strcmp(mount, "/") ? mount : "");
            if (!c->public_url && !warned) {
                warned = 1;
                ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s,
                             "NATOMM: NatommPublicURL is not set%s: links in mail "
                             "and in the subscriber export are built from each "
                             "request's host name; set NatommPublicURL "
                             "https://your.site", server_label(p, s, v));
            }
        }
    }
    return OK;
}

/* Whether a Require line limits who may pass: anything but "all granted",
 * and "valid-user" only where the users are not simply every account. */
static int limits(apr_pool_t *p, const ap_directive_t *section)
{
    const ap_directive_t *k;
    int natomm_auth = 0;

    for (k = section->first_child; k; k = k->next)
        if (!strcasecmp(k->directive, "AuthType") && arg_is(k, NATOMM_AUTHTYPE))
            natomm_auth = 1;
    for (k = section->first_child; k; k = k->next) {
        if (!strcasecmp(k->directive, "Require")) {
            const char *a = k->args, *w = ap_getword_conf(p, &a);
            if (!strcasecmp(w, "all") && !strcasecmp(ap_getword_conf(p, &a), "granted"))
                continue;
            if (!strcasecmp(w, "valid-user") && natomm_auth)
                continue;
            return 1;
        }
        /* <RequireAll>, <RequireAny>, <RequireNone>, <If> */
        if (is_section(k) && limits(p, k))
            return 1;
    }
    return 0;
}

/* Whether a section holding SetHandler natomm-subscribers is guarded: by
 * itself, or by a section of the same kind for the same or an enclosing
 * path (<Location /admin> guards <Location /admin/subscribers>). */
static int guarded(apr_pool_t *p, const conf_usage *u, const ap_directive_t *section)
{
    const char *path;
    int i;

    if (!section || !strcasecmp(section->directive, "<VirtualHost"))
        return 0;
    if (limits(p, section))
        return 1;
    path = first_arg(p, section);
    for (i = 0; i < u->sections->nelts; i++) {
        const ap_directive_t *o = APR_ARRAY_IDX(u->sections, i, const ap_directive_t *);
        const char *op;
        size_t n;
        if (o == section || strcasecmp(o->directive, section->directive))
            continue;
        op = first_arg(p, o);
        n = strlen(op);
        if (!strncmp(path, op, n) && (path[n] == '\0' || path[n] == '/'
                                      || (n && op[n - 1] == '/'))
            && limits(p, o))
            return 1;
    }
    return 0;
}

static int check_exports(apr_pool_t *p, const conf_usage *u)
{
    int i;

    for (i = 0; i < u->exports->nelts; i++) {
        const ap_directive_t *d = APR_ARRAY_IDX(u->exports, i, const ap_directive_t *);
        if (!guarded(p, u, d->parent)) {
            FAIL("NATOMM: SetHandler natomm-subscribers (%s:%d) needs a Require "
                 "line that limits who may read the list, such as Require ip "
                 "127.0.0.1 (Require all granted, or valid-user with AuthType "
                 "natomm, lets anyone or any account read it)",
                 d->filename ? d->filename : "?", d->line_num);
            return HTTP_INTERNAL_SERVER_ERROR;
        }
    }
    return OK;
}

int natomm_cfg_check(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp,
                        server_rec *s)
{
    conf_usage u = {0, 0, 0, 0, NULL, NULL, NULL, NULL};
    child_user_t user;
    server_rec *v;
    const char *what;
    (void)plog;

    if (read_password_files(pconf, s) != OK || check_cache(s) != OK)
        return HTTP_INTERNAL_SERVER_ERROR;
    u.handlers = apr_array_make(ptemp, 2, sizeof(const ap_directive_t *));
    u.exports = apr_array_make(ptemp, 1, sizeof(const ap_directive_t *));
    u.sections = apr_array_make(ptemp, 32, sizeof(const ap_directive_t *));
    u.params = apr_array_make(ptemp, 2, sizeof(const ap_directive_t *));
    scan(ptemp, ap_conftree, &u);
    for (v = s; v; v = v->next)
        natomm_cfg_server(v)->account_mount = NULL;
    /* a gate only in .htaccess files is not in this tree: any Natomm
     * directive in the server configuration also says the module is used */
    in_use = u.uses_gate || u.uses_handler || u.has_natomm_directive
             || u.exports->nelts > 0;
    if (check_exports(ptemp, &u) != OK)
        return HTTP_INTERNAL_SERVER_ERROR;
    if (!u.uses_gate && !u.uses_handler && !u.exports->nelts)
        return OK;
    what = u.uses_gate ? "AuthType natomm" : u.uses_handler ? "SetHandler natomm"
                                                            : "SetHandler natomm-subscribers";
    if (!APR_RETRIEVE_OPTIONAL_FN(ap_dbd_acquire)) {
        FAIL("NATOMM: %s needs mod_dbd: add LoadModule dbd_module", what);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    if (!u.has_driver) {
        FAIL("NATOMM: %s needs a database: set DBDriver and DBDParams", what);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    child_user(&user);
    if (check_handlers(pconf, s, &u) != OK || check_sqlite(ptemp, &u, &user) != OK
        || check_cafiles(ptemp, s, &user) != OK)
        return HTTP_INTERNAL_SERVER_ERROR;
    return OK;
}
