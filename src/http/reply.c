/* The one JSON writer for answers, with one text per error code (see
 * natomm_http.h). */
#include "natomm_http.h"
#include <string.h>
#include "http_protocol.h"
#include "apr_strings.h"

static const struct {
    const char *code;
    int status;
    const char *message;
} errors[NATOMM_E_COUNT] = {
    [NATOMM_E_INVALID_REQUEST] = {"invalid_request", HTTP_BAD_REQUEST,
        "A field is missing or malformed."},
    [NATOMM_E_INVALID_EMAIL] = {"invalid_email", HTTP_BAD_REQUEST,
        "This is not a valid e-mail address."},
    [NATOMM_E_WEAK_PASSWORD] = {"weak_password", HTTP_BAD_REQUEST,
        "The password does not meet the rules."},
    [NATOMM_E_INVALID_CODE] = {"invalid_code", HTTP_BAD_REQUEST,
        "The code is wrong."},
    [NATOMM_E_CODE_EXPIRED] = {"code_expired", HTTP_BAD_REQUEST,
        "The code has expired; ask for a new one."},
    [NATOMM_E_INVALID_TOKEN] = {"invalid_token", HTTP_BAD_REQUEST,
        "This token or link is unknown, used or expired."},
    [NATOMM_E_INVALID_CREDENTIALS] = {"invalid_credentials", HTTP_UNAUTHORIZED,
        "The e-mail address or the password is wrong."},
    [NATOMM_E_NOT_AUTHENTICATED] = {"not_authenticated", HTTP_UNAUTHORIZED,
        "Log in first."},
    [NATOMM_E_VERIFICATION_REQUIRED] = {"verification_required", HTTP_FORBIDDEN,
        "Confirm your e-mail address first with the code we sent you."},
    [NATOMM_E_FORBIDDEN_ORIGIN] = {"forbidden_origin", HTTP_FORBIDDEN,
        "This request did not come from this site."},
    [NATOMM_E_NOT_FOUND] = {"not_found", HTTP_NOT_FOUND,
        "There is no such account endpoint."},
    [NATOMM_E_METHOD_NOT_ALLOWED] = {"method_not_allowed", HTTP_METHOD_NOT_ALLOWED,
        "This address does not take that method; see Allow."},
    [NATOMM_E_PAYLOAD_TOO_LARGE] = {"payload_too_large", HTTP_REQUEST_ENTITY_TOO_LARGE,
        "The request body is too large."},
    [NATOMM_E_UNSUPPORTED_MEDIA_TYPE] = {"unsupported_media_type",
        HTTP_UNSUPPORTED_MEDIA_TYPE,
        "Send the fields as application/x-www-form-urlencoded."},
    [NATOMM_E_RATE_LIMITED] = {"rate_limited", HTTP_TOO_MANY_REQUESTS,
        "Too many requests; wait before trying again."},
    [NATOMM_E_STORAGE_UNAVAILABLE] = {"storage_unavailable",
        HTTP_SERVICE_UNAVAILABLE,
        "The account database cannot be reached; nothing was changed. "
        "Try again shortly."},
    [NATOMM_E_LINK_REFUSED] = {"link_refused", HTTP_FORBIDDEN,
        "This download link is not valid for this file, or it has been revoked."},
    [NATOMM_E_LINK_EXPIRED] = {"link_expired", HTTP_GONE,
        "This download link has expired; make a new one from your account."},
};

int natomm_reply_json(request_rec *r, int status, natomm_json *body)
{
    const char *text = natomm_json_finish(body);

    r->status = status;
    ap_set_content_type(r, "application/json; charset=utf-8");
    apr_table_setn(r->headers_out, "Cache-Control", "no-store");
    ap_set_content_length(r, strlen(text));
    if (!r->header_only)
        ap_rputs(text, r);
    return OK;
}

int natomm_reply_status(request_rec *r, int http, const char *status)
{
    natomm_json *j = natomm_json_object(r->pool);
    natomm_json_str(j, "status", status);
    return natomm_reply_json(r, http, j);
}

natomm_json *natomm_reply_error_body(apr_pool_t *p, natomm_error_t e)
{
    natomm_json *j = natomm_json_object(p);
    natomm_json_str(j, "error", errors[e].code);
    natomm_json_str(j, "message", errors[e].message);
    return j;
}

int natomm_reply_error_json(request_rec *r, natomm_error_t e, natomm_json *body)
{
    return natomm_reply_json(r, errors[e].status, body);
}

int natomm_reply_error(request_rec *r, natomm_error_t e)
{
    return natomm_reply_error_json(r, e, natomm_reply_error_body(r->pool, e));
}

int natomm_reply_bad_field(request_rec *r, const char *field)
{
    natomm_json *j = natomm_reply_error_body(r->pool, NATOMM_E_INVALID_REQUEST);
    if (field)
        natomm_json_str(j, "field", field);
    return natomm_reply_error_json(r, NATOMM_E_INVALID_REQUEST, j);
}

int natomm_reply_rate_limited(request_rec *r, apr_int64_t wait)
{
    natomm_json *j = natomm_reply_error_body(r->pool, NATOMM_E_RATE_LIMITED);
    natomm_json_int(j, "retry_after", wait);
    apr_table_setn(r->headers_out, "Retry-After",
                   apr_psprintf(r->pool, "%" APR_INT64_T_FMT, wait));
    return natomm_reply_error_json(r, NATOMM_E_RATE_LIMITED, j);
}
