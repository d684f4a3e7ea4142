/* httpd's configuration as natommctl reads it (see ctl.h): the directives
 * that name the database and the links, in the main server and each
 * <VirtualHost>, through every included file.
 *
 * It reads the files as httpd does, not as a full parser: lines joined by
 * a trailing backslash, "#" comments, words with "..." or '...' quoting,
 * ${VAR} from Define and the environment, <IfModule> against the
 * LoadModule lines seen so far and the modules Debian's httpd has built
 * in, <IfDefine> against Define, <IfFile> against the file system; other
 * conditions (<IfVersion>, <IfDirective>, <If>...) count as true. */
#include "ctl.h"
#include <string.h>
#include <stdlib.h>
#include <glob.h>
#include <sys/stat.h>
#include "apr_file_io.h"
#include "apr_strings.h"
#include "apr_lib.h"
#include "apr_env.h"

#define MAX_DEPTH 64
#define MAX_LINE (64 * 1024)

/* compiled into Debian's httpd (apache2 -l) */
static const char *const builtin_modules[] = {
    "core.c", "mod_so.c", "mod_watchdog.c", "http_core.c", "mod_log_config.c",
    "mod_logio.c", "mod_version.c", "mod_unixd.c", "core_module", "so_module",
    "watchdog_module", "http_module", "log_config_module", "logio_module",
    "version_module", "unixd_module", NULL
};

typedef struct {
    apr_pool_t *p;
    ctl_conf_t *conf;
    ctl_scope_t *main, *scope;
    apr_hash_t *defines, *modules;
    const char *location;            /* the <Location> being read, if any */
    apr_array_header_t *open;        /* names of the open sections, lower case */
    int skip;                        /* > 0: inside a false condition, its depth */
    int depth;                       /* of includes */
} reader_t;

static const char *read_file(reader_t *rd, const char *path);

/* One word as ap_getword_conf takes it: "..." and '...' quote, a backslash
 * escapes the quote inside. */
static char *word(apr_pool_t *p, const char **line)
{
    const char *s = *line;
    char *out, *o;

    while (*s && apr_isspace(*s))
        s++;
    if (!*s) {
        *line = s;
        return NULL;
    }
    o = out = apr_palloc(p, strlen(s) + 1);
    if (*s == '"' || *s == '\'') {
        char q = *s++;
        while (*s && *s != q) {
            if (*s == '\\' && (s[1] == q || s[1] == '\\'))
                s++;
            *o++ = *s++;
        }
        if (*s)
            s++;
    }
    else {
        while (*s && !apr_isspace(*s))
            *o++ = *s++;
    }
    *o = '\0';
    *line = s;
    return out;
}

/* ${NAME} from Define, else the environment; left as it is when unknown. */
static const char *expand(reader_t *rd, const char *s)
{
    const char *start, *end;
    char *out = "";

    if (!strstr(s, "${"))
        return s;
    while ((start = strstr(s, "${")) && (end = strchr(start, '}'))) {
        const char *name = apr_pstrmemdup(rd->p, start + 2, end - start - 2);
        const char *v = apr_hash_get(rd->defines, name, APR_HASH_KEY_STRING);
        char *env = NULL;
        if (!v && apr_env_get(&env, name, rd->p) == APR_SUCCESS)
            v = env;
        out = apr_pstrcat(rd->p, out, apr_pstrmemdup(rd->p, s, start - s),
                          v ? v : apr_pstrmemdup(rd->p, start, end - start + 1), NULL);
        s = end + 1;
    }
    return apr_pstrcat(rd->p, out, s, NULL);
}

static const char *server_relative(reader_t *rd, const char *path)
{
    if (path[0] == '/')
        return path;
    return apr_pstrcat(rd->p, rd->conf->server_root, "/", path, NULL);
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* A folder: every file in it and its subfolders, in name order. */
static const char *read_dir(reader_t *rd, const char *dir)
{
    apr_dir_t *d;
    apr_finfo_t fi;
    apr_array_header_t *names = apr_array_make(rd->p, 16, sizeof(const char *));
    const char *err = NULL;
    int i;

    if (apr_dir_open(&d, dir, rd->p) != APR_SUCCESS)
        return apr_psprintf(rd->p, "cannot read the folder %s", dir);
    while (apr_dir_read(&fi, APR_FINFO_NAME, d) == APR_SUCCESS)
        if (strcmp(fi.name, ".") && strcmp(fi.name, ".."))
            APR_ARRAY_PUSH(names, const char *) = apr_pstrdup(rd->p, fi.name);
    apr_dir_close(d);
    qsort(names->elts, names->nelts, sizeof(const char *), compare_names);
    for (i = 0; i < names->nelts && !err; i++)
        err = read_file(rd, apr_pstrcat(rd->p, dir, "/",
                                        APR_ARRAY_IDX(names, i, const char *), NULL));
    return err;
}

/* Include and IncludeOptional: a file, a folder, or a glob. */
static const char *include(reader_t *rd, const char *arg, int optional)
{
    const char *path = server_relative(rd, arg);
    const char *err = NULL;
    glob_t g;
    size_t i;
    int rv;

    if (!strpbrk(path, "*?[")) {
        struct stat st;
        if (stat(path, &st) != 0)
            return optional ? NULL : apr_psprintf(rd->p, "Include %s: no such file", path);
        return read_file(rd, path);
    }
    rv = glob(path, 0, NULL, &g);
    if (rv == GLOB_NOMATCH)
        return optional ? NULL : apr_psprintf(rd->p, "Include %s: no file matches", path);
    if (rv != 0)
        return apr_psprintf(rd->p, "Include %s: cannot be expanded", path);
    for (i = 0; i < g.gl_pathc && !err; i++)
        err = read_file(rd, apr_pstrdup(rd->p, g.gl_pathv[i]));
    globfree(&g);
    return err;
}

static void load_module(reader_t *rd, const char *name, const char *file)
{
    const char *base;
    size_t n;

    /* <IfModule> takes the identifier or the source file's name */
    apr_hash_set(rd->modules, apr_pstrdup(rd->p, name), APR_HASH_KEY_STRING, "");
    if (!file)
        return;
    base = strrchr(file, '/');
    base = base ? base + 1 : file;
    n = strlen(base);
    if (n > 3 && !strcmp(base + n - 3, ".so"))
        apr_hash_set(rd->modules, apr_pstrcat(rd->p, apr_pstrmemdup(rd->p, base, n - 3),
                                              ".c", NULL), APR_HASH_KEY_STRING, "");
}

/* Whether a condition section is true. */
static int condition(reader_t *rd, const char *name, const char *arg)
{
    int not = arg && arg[0] == '!';
    int yes;

    if (not)
        arg++;
    if (!arg)
        return 1;
    if (!strcasecmp(name, "ifmodule"))
        yes = apr_hash_get(rd->modules, arg, APR_HASH_KEY_STRING) != NULL;
    else if (!strcasecmp(name, "ifdefine"))
        yes = apr_hash_get(rd->defines, arg, APR_HASH_KEY_STRING) != NULL;
    else if (!strcasecmp(name, "iffile")) {
        struct stat st;
        yes = stat(server_relative(rd, arg), &st) == 0;
    }
    else
        return 1;
    return not ? !yes : yes;
}

static int is_condition(const char *name)
{
    return !strncasecmp(name, "if", 2) && strcasecmp(name, "if");
}

/* "<Name args>" or "</Name>": the section's name, lower case, and its
 * first argument (the ">" dropped). */
static char *section(reader_t *rd, const char *line, const char **arg)
{
    const char *rest = line + (line[1] == '/' ? 2 : 1);
    char *name = word(rd->p, &rest), *a, *gt;

    if (!name)
        return apr_pstrdup(rd->p, "");
    if ((gt = strchr(name, '>')))
        *gt = '\0';
    a = word(rd->p, &rest);
    if (a && (gt = strrchr(a, '>')) && gt[1] == '\0')
        *gt = '\0';
    *arg = a && *a ? a : NULL;
    return apr_pstrdup(rd->p, name);
}

static void open_vhost(reader_t *rd, const char *file, int line)
{
    ctl_scope_t *v = apr_pcalloc(rd->p, sizeof(*v));
    v->where = apr_psprintf(rd->p, "%s:%d", file, line);
    APR_ARRAY_PUSH(rd->conf->scopes, ctl_scope_t *) = v;
    rd->scope = v;
}

static const char *directive(reader_t *rd, const char *line)
{
    const char *rest = line;
    char *name = word(rd->p, &rest), *a1;

    if (!name)
        return NULL;
    a1 = word(rd->p, &rest);
    if (!strcasecmp(name, "ServerRoot") && a1)
        rd->conf->server_root = a1;
    else if ((!strcasecmp(name, "Include") || !strcasecmp(name, "IncludeOptional")) && a1)
        return include(rd, a1, !strcasecmp(name, "IncludeOptional"));
    else if (!strcasecmp(name, "Define") && a1) {
        const char *v = word(rd->p, &rest);
        apr_hash_set(rd->defines, a1, APR_HASH_KEY_STRING, v ? v : "");
    }
    else if (!strcasecmp(name, "UnDefine") && a1)
        apr_hash_set(rd->defines, a1, APR_HASH_KEY_STRING, NULL);
    else if (!strcasecmp(name, "LoadModule") && a1)
        load_module(rd, a1, word(rd->p, &rest));
    else if (!strcasecmp(name, "DBDriver") && a1)
        rd->scope->driver = a1;
    else if (!strcasecmp(name, "DBDParams") && a1)
        rd->scope->params = a1;
    else if (!strcasecmp(name, "NatommPublicURL") && a1) {
        size_t n = strlen(a1);
        rd->scope->public_url = n > 1 && a1[n - 1] == '/' ? apr_pstrndup(rd->p, a1, n - 1)
                                                          : a1;
    }
    else if (!strcasecmp(name, "ServerName") && a1)
        rd->scope->server_name = a1;
    else if (!strcasecmp(name, "SetHandler") && a1 && !strcasecmp(a1, "natomm")
             && rd->location && !rd->scope->mount)
        rd->scope->mount = strcmp(rd->location, "/") ? rd->location : "";
    return NULL;
}

static const char *line_of(reader_t *rd, const char *file, int lineno, const char *line)
{
    const char *arg = NULL;
    char *name;

    if (rd->skip) {
        if (line[0] == '<' && line[1] == '/')
            rd->skip--;
        else if (line[0] == '<')
            rd->skip++;
        return NULL;
    }
    if (line[0] == '<' && line[1] == '/') {
        name = section(rd, line, &arg);
        if (rd->open->nelts == 0)
            return apr_psprintf(rd->p, "%s:%d: </%s> without its section", file, lineno,
                                name);
        (void)apr_array_pop(rd->open);
        if (!strcasecmp(name, "virtualhost"))
            rd->scope = rd->main;
        else if (!strcasecmp(name, "location"))
            rd->location = NULL;
        return NULL;
    }
    if (line[0] == '<') {
        name = section(rd, line, &arg);
        if (is_condition(name) && !condition(rd, name, arg)) {
            rd->skip = 1;
            return NULL;
        }
        APR_ARRAY_PUSH(rd->open, const char *) = name;
        if (!strcasecmp(name, "virtualhost"))
            open_vhost(rd, file, lineno);
        else if (!strcasecmp(name, "location"))
            rd->location = arg;
        return NULL;
    }
    return directive(rd, line);
}

static const char *read_file(reader_t *rd, const char *path)
{
    apr_file_t *f;
    apr_finfo_t fi;
    char *buf, *line, *next;
    const char *err = NULL;
    char *joined = NULL;
    int lineno = 0, start = 0;

    if (++rd->depth > MAX_DEPTH)
        return apr_psprintf(rd->p, "%s: Include nested too deep (a loop?)", path);
    if (apr_stat(&fi, path, APR_FINFO_TYPE, rd->p) == APR_SUCCESS && fi.filetype == APR_DIR) {
        err = read_dir(rd, path);
        rd->depth--;
        return err;
    }
    if (apr_file_open(&f, path, APR_FOPEN_READ, APR_OS_DEFAULT, rd->p) != APR_SUCCESS
        || apr_file_info_get(&fi, APR_FINFO_SIZE, f) != APR_SUCCESS)
        return apr_psprintf(rd->p, "cannot read %s", path);
    buf = apr_palloc(rd->p, (apr_size_t)fi.size + 1);
    {
        apr_size_t n = (apr_size_t)fi.size;
        if (apr_file_read_full(f, buf, n, &n) != APR_SUCCESS && n != (apr_size_t)fi.size) {
            apr_file_close(f);
            return apr_psprintf(rd->p, "cannot read %s", path);
        }
        buf[n] = '\0';
    }
    apr_file_close(f);
    for (line = buf; line && !err; line = next) {
        size_t n;
        next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        lineno++;
        n = strlen(line);
        while (n && apr_isspace(line[n - 1]))
            line[--n] = '\0';
        /* a trailing backslash continues the line */
        if (n && line[n - 1] == '\\') {
            line[n - 1] = '\0';
            if (!joined)
                start = lineno;
            joined = apr_pstrcat(rd->p, joined ? joined : "", line, NULL);
            continue;
        }
        if (joined) {
            line = apr_pstrcat(rd->p, joined, line, NULL);
            joined = NULL;
        }
        else
            start = lineno;
        while (*line && apr_isspace(*line))
            line++;
        if (!*line || *line == '#' || strlen(line) > MAX_LINE)
            continue;
        err = line_of(rd, path, start, expand(rd, line));
    }
    rd->depth--;
    return err;
}

const char *ctl_conf_read(apr_pool_t *p, const char *path, ctl_conf_t *conf)
{
    reader_t rd;
    int i;

    memset(&rd, 0, sizeof(rd));
    rd.p = p;
    rd.conf = conf;
    conf->scopes = apr_array_make(p, 4, sizeof(ctl_scope_t *));
    conf->server_root = CTL_SERVER_ROOT;
    rd.main = apr_pcalloc(p, sizeof(*rd.main));
    rd.main->where = path;
    APR_ARRAY_PUSH(conf->scopes, ctl_scope_t *) = rd.main;
    rd.scope = rd.main;
    rd.defines = apr_hash_make(p);
    rd.modules = apr_hash_make(p);
    rd.open = apr_array_make(p, 8, sizeof(const char *));
    for (i = 0; builtin_modules[i]; i++)
        apr_hash_set(rd.modules, builtin_modules[i], APR_HASH_KEY_STRING, "");
    return read_file(&rd, path);
}

/* The host of a ServerName ("[scheme://]host[:port]"). */
static const char *host_of(apr_pool_t *p, const char *name)
{
    const char *h = strstr(name, "://"), *colon;

    h = h ? h + 3 : name;
    colon = strrchr(h, ':');
    return colon && !strchr(h, ']') ? apr_pstrmemdup(p, h, colon - h) : h;
}

const ctl_scope_t *ctl_conf_pick(apr_pool_t *p, const ctl_conf_t *conf,
                                 const char *vhost, const char **err)
{
    const ctl_scope_t *main = APR_ARRAY_IDX(conf->scopes, 0, ctl_scope_t *);
    apr_hash_t *seen = apr_hash_make(p);
    const ctl_scope_t *first = NULL;
    const char *list = "";
    int i, databases = 0;

    *err = NULL;
    for (i = 0; i < conf->scopes->nelts; i++) {
        ctl_scope_t *e = apr_pmemdup(p, APR_ARRAY_IDX(conf->scopes, i, ctl_scope_t *),
                                     sizeof(ctl_scope_t));
        const char *key, *label;

        /* what a virtual host does not set, it has from the main server */
        if (i > 0) {
            if (!e->driver)
                e->driver = main->driver;
            if (!e->params)
                e->params = main->params;
            if (!e->public_url)
                e->public_url = main->public_url;
            if (!e->mount)
                e->mount = main->mount;
        }
        label = i == 0 ? "main" : e->server_name ? e->server_name : e->where;
        if (vhost) {
            if ((i == 0 && !strcasecmp(vhost, "main"))
                || (i > 0 && e->server_name
                    && (!strcasecmp(vhost, e->server_name)
                        || !strcasecmp(vhost, host_of(p, e->server_name))))) {
                if (!e->driver)
                    *err = apr_psprintf(p, "%s has no DBDriver", label);
                return *err ? NULL : e;
            }
            continue;
        }
        if (!e->driver)
            continue;
        key = apr_pstrcat(p, e->driver, "\n", e->params ? e->params : "", NULL);
        if (apr_hash_get(seen, key, APR_HASH_KEY_STRING))
            continue;
        apr_hash_set(seen, key, APR_HASH_KEY_STRING, e);
        list = apr_pstrcat(p, list, "\n  --vhost ", label, ": ", e->driver, " ",
                           e->params ? e->params : "", NULL);
        if (!first)
            first = e;
        databases++;
    }
    if (vhost)
        *err = apr_psprintf(p, "no <VirtualHost> with ServerName %s", vhost);
    else if (databases == 0)
        *err = "no DBDriver in the configuration (give -f HTTPD.CONF, or --driver "
               "and --params)";
    else if (databases > 1)
        *err = apr_pstrcat(p, "several databases are configured; choose one:", list,
                           NULL);
    return *err ? NULL : first;
}
