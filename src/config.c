/* Start-up checks and loads: what configtest must refuse, and what the
 * parent reads once while it is still root. */
#include <string.h>
#include "httpd.h"
#include "http_config.h"
#include "http_log.h"
#include "ap_provider.h"
#include "ap_socache.h"
#include "apr_strings.h"
#include "apr_optional.h"
#include "apr_dbd.h"
#include "mod_dbd.h"

#include "natomm.h"
#include "natomm_config.h"
#include "natomm_flows.h"
#include "natomm_policy.h"
#include "natomm_smtp.h"

#define DEFAULT_DICTIONARY "/usr/share/dict/words"

/* set by the last configuration check: the module is loaded and used */
static int in_use;

int natomm_config_in_use(void)
{
    return in_use;
}


typedef struct {
    int uses_gate, uses_handler, has_driver, has_natomm_directive;
} conf_usage;

static int arg_is(const ap_directive_t *d, const char *word)
{
    const char *a = d->args;
    size_t n = strlen(word);
    while (*a == ' ' || *a == '\t' || *a == '"')
        a++;
    return !strncasecmp(a, word, n) && (a[n] == '\0' || a[n] == '"'
                                        || a[n] == ' ' || a[n] == '\t');
}

/* Walks the whole configuration, sections included, for what mod_natomm
 * needs but cannot see through its own directives. */
static void scan(const ap_directive_t *d, conf_usage *u)
{
    for (; d; d = d->next) {
        if (!strcasecmp(d->directive, "AuthType") && arg_is(d, NATOMM_AUTHTYPE))
            u->uses_gate = 1;
        else if (!strcasecmp(d->directive, "SetHandler") && arg_is(d, NATOMM_HANDLER))
            u->uses_handler = 1;
        else if (!strcasecmp(d->directive, "DBDriver"))
            u->has_driver = 1;
        else if (!strncasecmp(d->directive, "Natomm", 6))
            u->has_natomm_directive = 1;
        if (d->first_child)
            scan(d->first_child, u);
    }
}

/* Read while httpd is still root: the file may be readable by root only. */
static int read_password_files(apr_pool_t *p, server_rec *s)
{
    for (; s; s = s->next) {
        natomm_server_conf *c = ap_get_module_config(s->module_config,
                                                     &natomm_module);
        const char *err;
        if (!c->mail_password_file)
            continue;
        if (!c->smtp) {
            ap_log_error(APLOG_MARK, APLOG_STARTUP | APLOG_CRIT, 0, NULL,
                         "NATOMM: NatommMailPasswordFile needs an smtp:// or "
                         "smtps:// NatommMailTransport");
            return HTTP_INTERNAL_SERVER_ERROR;
        }
        if ((err = natomm_smtp_password_file(p, c->mail_password_file, c->smtp))) {
            ap_log_error(APLOG_MARK, APLOG_STARTUP | APLOG_CRIT, 0, NULL,
                         "NATOMM: NatommMailPasswordFile %s", err);
            return HTTP_INTERNAL_SERVER_ERROR;
        }
    }
    return OK;
}

/* An unknown socache provider must stop configtest, not only the start. */
static int check_cache(server_rec *s)
{
    natomm_server_conf *c = ap_get_module_config(s->module_config, &natomm_module);
    const char *spec = c->cache_spec, *colon;
    char name[64];

    if (!spec || !strcasecmp(spec, "none"))
        return OK;
    colon = strchr(spec, ':');
    apr_cpystrn(name, spec, colon && (size_t)(colon - spec) < sizeof(name)
                ? (apr_size_t)(colon - spec) + 1 : sizeof(name));
    if (!ap_lookup_provider(AP_SOCACHE_PROVIDER_GROUP, name,
                            AP_SOCACHE_PROVIDER_VERSION)) {
        ap_log_error(APLOG_MARK, APLOG_STARTUP | APLOG_CRIT, 0, NULL,
                     "NATOMM: NatommSessionCache %s: no such socache provider "
                     "(LoadModule socache_%s_module?)", spec, name);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    return OK;
}

int natomm_check_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp,
                        server_rec *s)
{
    natomm_server_conf *c = ap_get_module_config(s->module_config, &natomm_module);
    conf_usage u = {0, 0, 0, 0};
    const char *what;
    (void)plog; (void)ptemp;

    if (read_password_files(pconf, s) != OK || check_cache(s) != OK)
        return HTTP_INTERNAL_SERVER_ERROR;
    scan(ap_conftree, &u);
    /* a gate only in .htaccess files is not in this tree: any Natomm
     * directive in the server configuration also says the module is used */
    in_use = u.uses_gate || u.uses_handler || u.has_natomm_directive;
    if (!u.uses_gate && !u.uses_handler)
        return OK;
    what = u.uses_gate ? "AuthType natomm" : "SetHandler natomm";
    if (!APR_RETRIEVE_OPTIONAL_FN(ap_dbd_acquire)) {
        ap_log_error(APLOG_MARK, APLOG_STARTUP | APLOG_CRIT, 0, NULL,
                     "NATOMM: %s needs mod_dbd: add LoadModule dbd_module", what);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    if (!u.has_driver) {
        ap_log_error(APLOG_MARK, APLOG_STARTUP | APLOG_CRIT, 0, NULL,
                     "NATOMM: %s needs a database: set DBDriver and DBDParams", what);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    if (u.uses_handler && (!c->mail_from || !c->mail_transport)) {
        ap_log_error(APLOG_MARK, APLOG_STARTUP | APLOG_CRIT, 0, NULL,
                     "NATOMM: SetHandler natomm needs %s",
                     !c->mail_from ? "NatommMailFrom" : "NatommMailTransport");
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    return OK;
}

void natomm_load_dictionary(apr_pool_t *p, server_rec *s, natomm_server_conf *c)
{
    natomm_dict_t *dict = natomm_dict_builtin(p);

    if (!c->dictionaries) {
        natomm_dict_load(dict, p, DEFAULT_DICTIONARY);    /* if installed */
    }
    else {
        int i;
        for (i = 0; i < c->dictionaries->nelts; i++) {
            const char *path = APR_ARRAY_IDX(c->dictionaries, i, const char *);
            if (natomm_dict_load(dict, p, path) != APR_SUCCESS)
                ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s,
                             "NATOMM: NatommPasswordDictionary %s cannot be read",
                             path);
        }
    }
    natomm_flows_set_dictionary(dict);
}

