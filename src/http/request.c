/* What every request shares: its form body, its origin, its client (see
 * natomm_http.h). */
#include "natomm_http.h"
#include <string.h>
#include "http_protocol.h"
#include "http_core.h"
#include "util_filter.h"
#include "apr_strings.h"
#include "apr_buckets.h"
#include "natomm_form.h"

static int too_large(request_rec *r)
{
    /* the rest of the body is not read: do not reuse the connection */
    r->connection->keepalive = AP_CONN_CLOSE;
    natomm_reply_error(r, NATOMM_E_PAYLOAD_TOO_LARGE);
    return 1;
}

/* invalid_request with the reason in "detail". */
static int invalid(request_rec *r, const char *detail)
{
    natomm_json *j = natomm_reply_error_body(r->pool, NATOMM_E_INVALID_REQUEST);
    natomm_json_str(j, "detail", detail);
    natomm_reply_error_json(r, NATOMM_E_INVALID_REQUEST, j);
    return 1;
}

/* Appends the data buckets of bb to buf (n bytes so far, limit at most);
 * 1 at end of stream, 0 for more, -1 when over the limit. */
static int take_buckets(apr_bucket_brigade *bb, char *buf, apr_size_t *n,
                        apr_off_t limit)
{
    apr_bucket *b;

    for (b = APR_BRIGADE_FIRST(bb); b != APR_BRIGADE_SENTINEL(bb);
         b = APR_BUCKET_NEXT(b)) {
        const char *data;
        apr_size_t dlen;
        if (APR_BUCKET_IS_EOS(b))
            return 1;
        if (apr_bucket_read(b, &data, &dlen, APR_BLOCK_READ) != APR_SUCCESS)
            continue;
        if (*n + dlen > (apr_size_t)limit)
            return -1;
        memcpy(buf + *n, data, dlen);
        *n += dlen;
    }
    return 0;
}

/* The whole body into *out (at most limit bytes); 0, or answered. */
static int read_body(request_rec *r, apr_off_t limit, char **out, apr_size_t *len)
{
    apr_bucket_brigade *bb = apr_brigade_create(r->pool, r->connection->bucket_alloc);
    char *buf = apr_palloc(r->pool, limit + 1);
    apr_size_t n = 0;
    int done = 0;

    while (!done) {
        if (ap_get_brigade(r->input_filters, bb, AP_MODE_READBYTES,
                           APR_BLOCK_READ, 8192) != APR_SUCCESS)
            return invalid(r, "The request body could not be read.");
        done = take_buckets(bb, buf, &n, limit);
        apr_brigade_cleanup(bb);
        if (done < 0)
            return too_large(r);
    }
    buf[n] = '\0';
    *out = buf;
    *len = n;
    return 0;
}

/* A body that does not decode: an address with a control character is
 * invalid_email, anything else invalid_request with the reason. */
static int bad_form(request_rec *r, const char *body, apr_size_t len,
                    const char *why)
{
    const char *bad = natomm_form_control_field(r->pool, body, len);

    if (bad && !strcmp(bad, "email")) {
        natomm_reply_error(r, NATOMM_E_INVALID_EMAIL);
        return 1;
    }
    return invalid(r, why);
}

int natomm_request_form(request_rec *r, apr_off_t limit, int multipart,
                        apr_table_t **fields)
{
    const char *clen = apr_table_get(r->headers_in, "Content-Length");
    const char *te = apr_table_get(r->headers_in, "Transfer-Encoding");
    const char *why, *ctype, *boundary;
    char *body;
    apr_size_t len;

    if (clen && apr_atoi64(clen) > limit)
        return too_large(r);
    if ((!clen || !strcmp(clen, "0")) && !te) {
        *fields = apr_table_make(r->pool, 1);   /* empty body: no type needed */
        return 0;
    }
    if (read_body(r, limit, &body, &len))
        return 1;
    ctype = apr_table_get(r->headers_in, "Content-Type");
    if (len > 0 && multipart
        && (boundary = natomm_form_multipart_boundary(r->pool, ctype))) {
        if ((why = natomm_form_multipart_parse(r->pool, body, len, boundary, fields)))
            return invalid(r, why);
        return 0;
    }
    if (len > 0 && !natomm_form_is_urlencoded(ctype)) {
        natomm_reply_error(r, NATOMM_E_UNSUPPORTED_MEDIA_TYPE);
        return 1;
    }
    if ((why = natomm_form_parse(r->pool, body, len, fields)) != NULL)
        return bad_form(r, body, len, why);
    return 0;
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

int natomm_request_same_origin(request_rec *r)
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

const char *natomm_request_client_ip(request_rec *r)
{
    return r->useragent_ip ? r->useragent_ip : r->connection->client_ip;
}

int natomm_request_is_https(request_rec *r)
{
    return !strcmp(ap_http_scheme(r), "https");
}

int natomm_request_path_has_controls(request_rec *r)
{
    const unsigned char *c;

    for (c = (const unsigned char *)r->uri; c && *c; c++)
        if (*c < 0x20 || *c == 0x7f)
            return 1;
    return 0;
}

void natomm_request_refuse_body(request_rec *r, apr_off_t limit)
{
    const char *clen = apr_table_get(r->headers_in, "Content-Length");

    /* a small body is read and dropped; a large or chunked one is not
     * waited for: the connection ends with the answer */
    if ((clen && apr_atoi64(clen) > limit)
        || apr_table_get(r->headers_in, "Transfer-Encoding"))
        r->connection->keepalive = AP_CONN_CLOSE;
    else
        ap_discard_request_body(r);
}
