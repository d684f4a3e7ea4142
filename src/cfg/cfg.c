/* Configuration records: create, merge, the SPEC §3 defaults, accessors
 * (see natomm_cfg.h). */
#include "natomm_cfg.h"
#include <string.h>
#include "http_core.h"
#include "http_protocol.h"
#include "apr_strings.h"

#ifndef NATOMM_TEMPLATE_DIR
#define NATOMM_TEMPLATE_DIR "/usr/share/mod_natomm/mail"
#endif
#define DEFAULT_DICTIONARY "/usr/share/dict/words"


void *natomm_cfg_create_server(apr_pool_t *p, server_rec *s)
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
    c->db_busy_timeout = NATOMM_UNSET;
    c->revocation_delay_ms = NATOMM_UNSET;
    c->lockout_ceiling = c->code_miss_limit = c->resend_per_day = NATOMM_UNSET;
    c->code_miss_lock = c->hash_wait = NATOMM_UNSET;
    c->link_lifetime = NATOMM_UNSET;
    return c;
}

#define MERGE_PTR(f) m->f = add->f ? add->f : base->f
#define MERGE_NUM(f) m->f = add->f != NATOMM_UNSET ? add->f : base->f

void *natomm_cfg_merge_server(apr_pool_t *p, void *basev, void *addv)
{
    natomm_server_conf *base = basev, *add = addv;
    natomm_server_conf *m = apr_pcalloc(p, sizeof(*m));
    int i;

    MERGE_PTR(site_name); MERGE_PTR(mail_from); MERGE_PTR(mail_transport);
    MERGE_PTR(mail_dir); MERGE_PTR(mail_templates); MERGE_PTR(cookie_name);
    MERGE_PTR(smtp); MERGE_PTR(mail_password_file);
    MERGE_PTR(cache_spec); MERGE_PTR(dictionaries); MERGE_PTR(public_url);
    MERGE_PTR(account_path); MERGE_PTR(stylesheet);
    m->cache_off = add->cache_spec ? add->cache_off : base->cache_off;
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
    MERGE_NUM(db_busy_timeout); MERGE_NUM(lockout_ceiling);
    MERGE_NUM(revocation_delay_ms);
    MERGE_NUM(code_miss_limit); MERGE_NUM(code_miss_lock);
    MERGE_NUM(resend_per_day); MERGE_NUM(hash_wait);
    MERGE_NUM(link_lifetime);
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
    /* NatommAccountPath, else the <Location> of SetHandler natomm that
     * configtest found for this server, else SPEC's /account */
    if (!c->account_mount)
        c->account_mount = "/account";
    if (!c->account_path)
        c->account_path = c->account_mount;
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
    DEFAULT_NUM(cache_ttl, 300);
    DEFAULT_NUM(revocation_delay_ms, 2000);
    DEFAULT_NUM(pw_min, 12);
    DEFAULT_NUM(pw_max, 128);
    DEFAULT_NUM(hash_concurrency, 4);
    DEFAULT_NUM(body_limit, 16384);
    DEFAULT_NUM(reset_token_ttl, 15 * 60);
    DEFAULT_NUM(purge_interval, 60);
    DEFAULT_NUM(mail_give_up, 2 * 86400);
    DEFAULT_NUM(mail_retry_first, 30);
    DEFAULT_NUM(mail_retry_max, 3600);
    DEFAULT_NUM(db_busy_timeout, 5);
    DEFAULT_NUM(lockout_ceiling, 100);
    DEFAULT_NUM(code_miss_limit, 20);
    DEFAULT_NUM(code_miss_lock, 3600);
    DEFAULT_NUM(resend_per_day, 50);
    DEFAULT_NUM(hash_wait, 10);
    DEFAULT_NUM(link_lifetime, 24 * 3600);
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

void *natomm_cfg_create_dir(apr_pool_t *p, char *dir)
{
    (void)dir;
    return apr_pcalloc(p, sizeof(natomm_dir_conf));
}

void *natomm_cfg_merge_dir(apr_pool_t *p, void *basev, void *addv)
{
    natomm_dir_conf *base = basev, *add = addv;
    natomm_dir_conf *m = apr_pcalloc(p, sizeof(*m));
    MERGE_PTR(login_page);
    return m;
}

natomm_server_conf *natomm_cfg_server(const server_rec *s)
{
    return ap_get_module_config(s->module_config, &natomm_module);
}

natomm_dir_conf *natomm_cfg_dir(const request_rec *r)
{
    return ap_get_module_config(r->per_dir_config, &natomm_module);
}

const char *natomm_cfg_base_url(request_rec *r)
{
    natomm_server_conf *c = natomm_cfg_server(r->server);
    int https = !strcmp(ap_http_scheme(r), "https");
    apr_port_t port = r->server->port ? r->server->port
                                      : r->connection->local_addr->port;

    if (c->public_url)
        return c->public_url;
    if (port == (https ? 443 : 80))
        return apr_pstrcat(r->pool, https ? "https://" : "http://",
                           r->server->server_hostname, NULL);
    return apr_psprintf(r->pool, "%s://%s:%u", https ? "https" : "http",
                        r->server->server_hostname, (unsigned)port);
}

const char *natomm_cfg_account_url(request_rec *r, const char *suffix)
{
    return apr_pstrcat(r->pool, natomm_cfg_base_url(r),
                       natomm_cfg_server(r->server)->account_path, suffix, NULL);
}

/* The built-in words plus NatommPasswordDictionary files (default
 * /usr/share/dict/words when present). */
static const natomm_dict_t *load_dictionary(apr_pool_t *p, server_rec *s,
                                            const natomm_server_conf *c)
{
    natomm_dict_t *dict = natomm_dict_builtin(p);
    int i;

    if (!c->dictionaries) {
        natomm_dict_load(dict, p, DEFAULT_DICTIONARY);    /* if installed */
        return dict;
    }
    for (i = 0; i < c->dictionaries->nelts; i++) {
        const char *path = APR_ARRAY_IDX(c->dictionaries, i, const char *);
        if (natomm_dict_load(dict, p, path) != APR_SUCCESS)
            ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s,
                         "NATOMM: NatommPasswordDictionary %s cannot be read", path);
    }
    return dict;
}

void natomm_cfg_post_config(apr_pool_t *pconf, server_rec *s)
{
    server_rec *v;
    /* a virtual host without dictionary directives shares the main one's */
    const natomm_dict_t *main_dict = NULL;

    for (v = s; v; v = v->next) {
        natomm_server_conf *c = natomm_cfg_server(v);
        apply_defaults(v, c);
        c->site = NULL;
        if (v == s || c->dictionaries != natomm_cfg_server(s)->dictionaries)
            c->dictionary = load_dictionary(pconf, v, c);
        else
            c->dictionary = main_dict;
        if (v == s)
            main_dict = c->dictionary;
    }
}
