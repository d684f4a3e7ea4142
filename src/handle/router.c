/* The "SetHandler natomm" handler: routes /account/... to the endpoints,
 * after the checks every request shares (method, origin, body); see
 * natomm_handle.h. */
#include "natomm_handle.h"
#include <string.h>
#include "http_protocol.h"
#include "apr_strings.h"
#include "apr_lib.h"

typedef struct {
    const char *path;        /* last segments of the URI below the mount */
    int method;              /* M_GET (HEAD too) or M_POST */
    int (*endpoint)(natomm_ctx *c);
    int cross_site;          /* 1: no origin check, multipart too (RFC 8058) */
} route_t;

static const route_t routes[] = {
    {"/session", M_GET, natomm_handle_session, 0},
    {"/settings", M_GET, natomm_handle_settings, 0},
    {"/register", M_POST, natomm_handle_register, 0},
    {"/verify", M_POST, natomm_handle_verify, 0},
    {"/resend", M_POST, natomm_handle_resend, 0},
    {"/login", M_POST, natomm_handle_login, 0},
    {"/logout", M_POST, natomm_handle_logout, 0},
    {"/password/forgot", M_POST, natomm_handle_forgot, 0},
    {"/password/verify", M_POST, natomm_handle_reset_verify, 0},
    {"/password/reset", M_POST, natomm_handle_reset, 0},
    {"/password/change", M_POST, natomm_handle_change_password, 0},
    {"/newsletter", M_POST, natomm_handle_newsletter, 0},
    {"/newsletter/unsubscribe", M_GET, natomm_handle_unsubscribe_page, 0},
    {"/newsletter/unsubscribe", M_POST, natomm_handle_unsubscribe, 1},
    {"/delete", M_POST, natomm_handle_delete, 0},
    {"/download-link", M_POST, natomm_handle_download_link, 0},
    {NULL, 0, NULL, 0}
};

/* The route path of a URI: what follows NatommAccountPath (by default the
 * <Location> that holds SetHandler natomm), exactly; NULL for anything else
 * (a path below it, or a handler mounted elsewhere). */
static const char *match_path(const natomm_ctx *c, const char *uri)
{
    size_t n = strlen(c->conf->account_path);
    int i;

    if (strncmp(uri, c->conf->account_path, n))
        return NULL;
    for (i = 0; routes[i].path; i++)
        if (!strcmp(uri + n, routes[i].path))
            return routes[i].path;
    return NULL;
}

static const route_t *match_method(const char *path, int method)
{
    int i;
    for (i = 0; routes[i].path; i++)
        if (!strcmp(routes[i].path, path) && routes[i].method == method)
            return &routes[i];
    return NULL;
}

static int method_not_allowed(request_rec *r, const char *path)
{
    int get = match_method(path, M_GET) != NULL;
    int post = match_method(path, M_POST) != NULL;

    apr_table_setn(r->headers_out, "Allow", get && post ? "GET, HEAD, POST"
                                             : get ? "GET, HEAD" : "POST");
    return natomm_reply_error(r, NATOMM_E_METHOD_NOT_ALLOWED);
}

/* What every POST shares: the origin, then a form body within the limit.
 * 0, or answered. */
static int post_checks(natomm_ctx *c, const route_t *rt)
{
    if (!rt->cross_site && !natomm_request_same_origin(c->r)) {
        natomm_request_refuse_body(c->r, c->conf->body_limit);
        return natomm_ctx_fail(c, NATOMM_E_FORBIDDEN_ORIGIN);
    }
    return natomm_request_form(c->r, c->conf->body_limit, rt->cross_site, &c->form);
}

int natomm_router_handler(request_rec *r)
{
    natomm_ctx c = {r, NULL, NULL, NULL, NULL};
    const char *path;
    const route_t *rt;

    if (!r->handler || strcmp(r->handler, NATOMM_HANDLER))
        return DECLINED;
    c.conf = natomm_cfg_server(r->server);
    /* nothing of a request's path may reach a mail or a log line: a path
     * with a control character (decoded from %0D%0A, %00, ...) is refused */
    if (natomm_request_path_has_controls(r)) {
        natomm_request_refuse_body(r, c.conf->body_limit);
        return natomm_reply_bad_field(r, NULL);
    }
    if (!(path = match_path(&c, r->uri))) {
        natomm_request_refuse_body(r, c.conf->body_limit);
        return natomm_reply_error(r, NATOMM_E_NOT_FOUND);
    }
    if (!(rt = match_method(path, r->method_number))) {
        natomm_request_refuse_body(r, c.conf->body_limit);
        return method_not_allowed(r, path);
    }
    c.mount = c.conf->account_path;
    if (rt->method == M_POST && post_checks(&c, rt))
        return OK;
    if (!c.form)
        c.form = apr_table_make(r->pool, 1);
    return rt->endpoint(&c);
}

/* A control character escaped in the path (%00 among them, which httpd
 * itself refuses before any handler with an HTML 404) is answered here as
 * the handler would answer it: 400 invalid_request. */
static int escaped_control(const char *path)
{
    const char *pct;

    for (pct = strchr(path, '%'); pct; pct = strchr(pct + 1, '%')) {
        if (apr_isxdigit(pct[1]) && apr_isxdigit(pct[2])) {
            int v = (apr_isdigit(pct[1]) ? pct[1] - '0' : (pct[1] | 0x20) - 'a' + 10) * 16
                  + (apr_isdigit(pct[2]) ? pct[2] - '0' : (pct[2] | 0x20) - 'a' + 10);
            if (v < 0x20 || v == 0x7f)
                return 1;
        }
    }
    return 0;
}

int natomm_router_post_read_request(request_rec *r)
{
    natomm_server_conf *conf = natomm_cfg_server(r->server);
    const char *path = r->parsed_uri.path;
    size_t n;

    if (!path || !conf->account_path)
        return DECLINED;
    n = strlen(conf->account_path);
    if (strncmp(path, conf->account_path, n) || (path[n] && path[n] != '/')
        || !escaped_control(path + n))
        return DECLINED;
    natomm_request_refuse_body(r, conf->body_limit);
    natomm_reply_bad_field(r, NULL);
    return DONE;
}
