/* HTTP plumbing (see natomm_http.h). */
#include <string.h>
#include "httpd.h"
#include "http_protocol.h"
#include "http_core.h"
#include "http_log.h"
#include "util_filter.h"
#include "apr_strings.h"
#include "apr_buckets.h"

#include "natomm.h"
#include "natomm_http.h"
#include "natomm_form.h"

int natomm_send_json(request_rec *r, int status, const char *body)
{
    r->status = status;
    ap_set_content_type(r, "application/json; charset=utf-8");
    apr_table_setn(r->headers_out, "Cache-Control", "no-store");
    ap_set_content_length(r, strlen(body));
    if (!r->header_only)
        ap_rputs(body, r);
    return OK;
}

natomm_json *natomm_error_json(apr_pool_t *p, const char *code,
                               const char *message)
{
    natomm_json *j = natomm_json_object(p);
    natomm_json_str(j, "error", code);
    natomm_json_str(j, "message", message);
    return j;
}

int natomm_send_error(request_rec *r, int status, const char *code,
                      const char *message)
{
    return natomm_send_json(r, status, natomm_json_finish(
                                natomm_error_json(r->pool, code, message)));
}

static int too_large(request_rec *r, int *answered)
{
    *answered = 1;
    /* the rest of the body is not read: do not reuse the connection */
    r->connection->keepalive = AP_CONN_CLOSE;
    natomm_send_error(r, HTTP_REQUEST_ENTITY_TOO_LARGE, "payload_too_large",
                      "The request body is too large.");
    return HTTP_REQUEST_ENTITY_TOO_LARGE;
}

static int read_body(request_rec *r, apr_off_t limit, char **out,
                     apr_size_t *len, int *answered)
{
    apr_bucket_brigade *bb = apr_brigade_create(r->pool, r->connection->bucket_alloc);
    char *buf = apr_palloc(r->pool, limit + 1);
    apr_size_t n = 0;
    int seen_eos = 0;

    while (!seen_eos) {
        apr_bucket *b;
        apr_status_t rv = ap_get_brigade(r->input_filters, bb, AP_MODE_READBYTES,
                                         APR_BLOCK_READ, 8192);
        if (rv != APR_SUCCESS) {
            *answered = 1;
            natomm_send_error(r, HTTP_BAD_REQUEST, "invalid_request",
                              "The request body could not be read.");
            return HTTP_BAD_REQUEST;
        }
        for (b = APR_BRIGADE_FIRST(bb); b != APR_BRIGADE_SENTINEL(bb);
             b = APR_BUCKET_NEXT(b)) {
            const char *data;
            apr_size_t dlen;
            if (APR_BUCKET_IS_EOS(b)) {
                seen_eos = 1;
                break;
            }
            if (apr_bucket_read(b, &data, &dlen, APR_BLOCK_READ) != APR_SUCCESS)
                continue;
            if (n + dlen > (apr_size_t)limit)
                return too_large(r, answered);
            memcpy(buf + n, data, dlen);
            n += dlen;
        }
        apr_brigade_cleanup(bb);
    }
    buf[n] = '\0';
    *out = buf;
    *len = n;
    return OK;
}

int natomm_read_form(request_rec *r, apr_off_t limit, apr_table_t **fields,
                     int *answered)
{
    const char *clen = apr_table_get(r->headers_in, "Content-Length");
    const char *te = apr_table_get(r->headers_in, "Transfer-Encoding");
    const char *ctype = apr_table_get(r->headers_in, "Content-Type");
    const char *err;
    char *body;
    apr_size_t len;
    int rv;

    *answered = 0;
    if (clen && apr_atoi64(clen) > limit)
        return too_large(r, answered);
    if ((!clen || !strcmp(clen, "0")) && !te) {
        *fields = apr_table_make(r->pool, 1);   /* empty body: no type needed */
        return OK;
    }
    if ((rv = read_body(r, limit, &body, &len, answered)) != OK)
        return rv;
    if (len > 0 && !natomm_form_is_urlencoded(ctype)) {
        *answered = 1;
        natomm_send_error(r, HTTP_UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type",
                          "Send the fields as application/x-www-form-urlencoded.");
        return HTTP_UNSUPPORTED_MEDIA_TYPE;
    }
    if ((err = natomm_form_parse(r->pool, body, len, fields)) != NULL) {
        const char *bad = natomm_form_control_field(r->pool, body, len);
        *answered = 1;
        if (bad && !strcmp(bad, "email"))
            natomm_send_error(r, HTTP_BAD_REQUEST, "invalid_email",
                              "This is not a valid e-mail address.");
        else
            natomm_send_error(r, HTTP_BAD_REQUEST, "invalid_request", err);
        return HTTP_BAD_REQUEST;
    }
    return OK;
}

/* scheme://host[:port] of this request, as a browser would write it. */
static const char *own_origin(request_rec *r)
{
    const char *host = apr_table_get(r->headers_in, "Host");
    if (!host)
        host = r->hostname ? r->hostname : "";
    return apr_pstrcat(r->pool, ap_http_scheme(r), "://", host, NULL);
}

static int origin_matches(request_rec *r, const char *value, int prefix)
{
    const char *own = own_origin(r);
    size_t n = strlen(own);

    if (strncasecmp(value, own, n))
        return 0;
    return prefix ? (value[n] == '\0' || value[n] == '/') : value[n] == '\0';
}

int natomm_same_origin(request_rec *r)
{
    const char *origin = apr_table_get(r->headers_in, "Origin");
    const char *referer = apr_table_get(r->headers_in, "Referer");
    const char *site = apr_table_get(r->headers_in, "Sec-Fetch-Site");

    if (site && !strcasecmp(site, "cross-site"))
        return 0;
    if (origin && strcmp(origin, "null"))
        return origin_matches(r, origin, 0);
    if (origin)     /* "null": sandboxed or privacy-redirected context */
        return 0;
    if (referer)
        return origin_matches(r, referer, 1);
    return 1;
}

const char *natomm_client_ip(request_rec *r)
{
    return r->useragent_ip ? r->useragent_ip : r->connection->client_ip;
}

const char *natomm_log_safe(apr_pool_t *p, const char *s)
{
    char *out, *o;

    if (!s)
        return "-";
    out = apr_palloc(p, strlen(s) * 4 + 1);
    for (o = out; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c < 0x20 || c == 0x7f || c == '\\')
            o += apr_snprintf(o, 5, "\\x%02x", c);
        else
            *o++ = (char)c;
    }
    *o = '\0';
    return out;
}
