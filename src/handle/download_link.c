/* POST download-link: a link to a gated file or folder that works without
 * the session cookie, for download managers and players (SPEC §5; see
 * natomm_link.h for the token, session/link.c for the gate's side). */
#include "natomm_handle.h"
#include <string.h>
#include "http_core.h"
#include "http_protocol.h"
#include "http_request.h"
#include "apr_strings.h"
#include "natomm_clock.h"
#include "natomm_json.h"
#include "natomm_link.h"

/* invalid_request on "path", with the reason. */
static int bad_path(natomm_ctx *c, const char *why)
{
    natomm_json *j = natomm_reply_error_body(c->r->pool, NATOMM_E_INVALID_REQUEST);

    natomm_json_str(j, "field", "path");
    natomm_json_str(j, "detail", why);
    natomm_reply_error_json(c->r, NATOMM_E_INVALID_REQUEST, j);
    return 1;
}

/* The decoded path a link for value covers: 0, or answered 400. */
static int link_scope(natomm_ctx *c, const char *value, const char **scope)
{
    const char *why;

    *scope = natomm_link_scope(c->r->pool, value, &why);
    return *scope ? 0 : bad_path(c, why);
}

/* Whether url_path is behind AuthType natomm and names what it says (a
 * file; a folder when folder): a lookup as a subrequest, which passes the
 * gate as the account whose session this request has. 0, or answered. */
static int gated(natomm_ctx *c, const char *url_path, int folder, const char *email)
{
    const char *type, *why = NULL;
    request_rec *rr;

    natomm_gate_vouch(c->r, email);
    rr = ap_sub_req_lookup_uri(url_path, c->r, NULL);
    natomm_gate_vouch(c->r, NULL);
    type = ap_auth_type(rr);
    if (!type || strcasecmp(type, NATOMM_AUTHTYPE))
        why = "this path is not behind AuthType natomm";
    else if (!folder && rr->finfo.filetype == APR_DIR)
        why = "this is a folder: end its path with /";
    else if (rr->status != HTTP_OK || rr->finfo.filetype == APR_NOFILE
             || (rr->path_info && *rr->path_info))
        why = "nothing can be downloaded at this path";
    ap_destroy_sub_req(rr);
    return why ? bad_path(c, why) : 0;
}

/* From configuration, as links in mail are: the link may be pasted far
 * from this request. */
static const char *link_url(natomm_ctx *c, const char *token, const char *url_path)
{
    return apr_pstrcat(c->r->pool, natomm_cfg_base_url(c->r), NATOMM_LINK_PREFIX, token,
                       url_path, NULL);
}

int natomm_handle_download_link(natomm_ctx *c)
{
    natomm_session_info info;
    natomm_site *site;
    const char *value, *scope, *url_path, *token = NULL;
    natomm_link_t l;
    natomm_json *j;

    if (natomm_ctx_session(c, &info) || natomm_ctx_required(c, "path", &value)
        || link_scope(c, value, &scope))
        return OK;
    url_path = natomm_link_url_path(c->r->pool, scope);
    if (gated(c, url_path, scope[strlen(scope) - 1] == '/', info.email))
        return OK;
    l.account = (apr_uint64_t)apr_strtoi64(info.account_id, NULL, 10);
    l.made_ms = natomm_now_ms();
    l.expires = natomm_now() + c->conf->link_lifetime;
    if ((site = natomm_db_site(c->db)))
        token = natomm_link_make(c->r->pool, natomm_site_link_key(site), &l, scope);
    if (!token)
        return natomm_reply_error(c->r, NATOMM_E_STORAGE_UNAVAILABLE);
    natomm_ctx_log(c, "download_link", info.account_id);
    j = natomm_json_object(c->r->pool);
    natomm_json_str(j, "url", link_url(c, token, url_path));
    natomm_json_int(j, "expires_in", c->conf->link_lifetime);
    return natomm_reply_json(c->r, HTTP_OK, j);
}
