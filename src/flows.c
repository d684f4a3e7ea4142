/* The "SetHandler natomm" handler: routes /account/... to the endpoint
 * functions, after the checks every request shares (method, origin, body).
 */
#include <string.h>
#include <stdlib.h>
#include "httpd.h"
#include "http_config.h"
#include "http_log.h"
#include "http_protocol.h"
#include "http_request.h"
#include "apr_strings.h"

#include "natomm.h"
#include "natomm_flow.h"
#include "natomm_code.h"
#include "natomm_crypto.h"
#include "natomm_http.h"
#include "natomm_json.h"
#include "natomm_mail.h"
#include "natomm_policy.h"
#include "natomm_redirect.h"
#include "natomm_session.h"
#include "natomm_store.h"
#include "natomm_throttle.h"
#include "natomm_utf8.h"

/* ---- routing --------------------------------------------------------- */

typedef struct {
    const char *path;        /* last segments of the URI below the mount */
    int method;              /* M_GET (HEAD too) or M_POST */
    int (*flow)(natomm_ctx *c);
    int cross_site;          /* 1: no origin check (RFC 8058 one-click) */
} route_t;

static const route_t routes[] = {
    {"/session", M_GET, natomm_flow_session, 0},
    {"/register", M_POST, natomm_flow_register, 0},
    {"/verify", M_POST, natomm_flow_verify, 0},
    {"/resend", M_POST, natomm_flow_resend, 0},
    {"/login", M_POST, natomm_flow_login, 0},
    {"/logout", M_POST, natomm_flow_logout, 0},
    {"/password/forgot", M_POST, natomm_flow_forgot, 0},
    {"/password/verify", M_POST, natomm_flow_reset_verify, 0},
    {"/password/reset", M_POST, natomm_flow_reset, 0},
    {"/password/change", M_POST, natomm_flow_change_password, 0},
    {"/newsletter", M_POST, natomm_flow_newsletter, 0},
    {"/newsletter/unsubscribe", M_GET, natomm_flow_unsubscribe_page, 0},
    {"/newsletter/unsubscribe", M_POST, natomm_flow_unsubscribe, 1},
    {"/delete", M_POST, natomm_flow_delete, 0},
    {NULL, 0, NULL, 0}
};

/* The longest route path that ends the URI ("/password/verify" wins over
 * "/verify"), or NULL: not an endpoint. */
static const char *match_path(const char *uri)
{
    size_t n = strlen(uri), best = 0;
    const char *path = NULL;
    int i;

    for (i = 0; routes[i].path; i++) {
        size_t k = strlen(routes[i].path);
        if (k <= n && k > best && !strcmp(uri + n - k, routes[i].path)) {
            best = k;
            path = routes[i].path;
        }
    }
    return path;
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
    return natomm_send_error(r, HTTP_METHOD_NOT_ALLOWED, "method_not_allowed",
                             apr_psprintf(r->pool, "Use %s for this address.",
                                          get && post ? "GET or POST"
                                          : get ? "GET" : "POST"));
}

/* Checks every POST shares: origin, then a form body within the limit.
 * Returns 0 when the request may go on, else the answer is sent. */
static int post_checks(natomm_ctx *c, const route_t *rt)
{
    int answered = 0;

    if (!rt->cross_site && !natomm_same_origin(c->r)) {
        ap_discard_request_body(c->r);
        natomm_send_error(c->r, HTTP_FORBIDDEN, "forbidden_origin",
                          "This request did not come from this site.");
        return 1;
    }
    return natomm_read_form(c->r, c->conf->body_limit, &c->form, &answered) != OK;
}

int natomm_flows_handler(request_rec *r)
{
    natomm_ctx c = {r, NULL, NULL, NULL, NULL};
    const char *path;
    const route_t *rt;

    if (!r->handler || strcmp(r->handler, NATOMM_HANDLER))
        return DECLINED;
    c.conf = ap_get_module_config(r->server->module_config, &natomm_module);
    if (!(path = match_path(r->uri))) {
        ap_discard_request_body(r);
        return natomm_send_error(r, HTTP_NOT_FOUND, "not_found",
                                 "There is no such account endpoint.");
    }
    if (!(rt = match_method(path, r->method_number))) {
        ap_discard_request_body(r);
        return method_not_allowed(r, path);
    }
    c.mount = apr_pstrmemdup(r->pool, r->uri, strlen(r->uri) - strlen(path));
    if (rt->method == M_POST && post_checks(&c, rt))
        return OK;
    if (!c.form)
        c.form = apr_table_make(r->pool, 1);
    return rt->flow(&c);
}
