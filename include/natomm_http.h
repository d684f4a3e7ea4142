/* HTTP for the account endpoints and the gate (src/http/): the one
 * JSON/error writer with one text per error code (reply.c), and what every
 * request shares: its body, its origin, its client's address (request.c). */
#ifndef NATOMM_HTTP_H
#define NATOMM_HTTP_H

#include <stddef.h>   /* before APR: offsetof for APR_OFFSETOF */
#include "httpd.h"
#include "apr_tables.h"
#include "natomm_json.h"

/* ---- reply.c --------------------------------------------------------- */

/* The error codes of SPEC §4. */
typedef enum {
    NATOMM_E_INVALID_REQUEST, NATOMM_E_INVALID_EMAIL, NATOMM_E_WEAK_PASSWORD,
    NATOMM_E_INVALID_CODE, NATOMM_E_CODE_EXPIRED, NATOMM_E_INVALID_TOKEN,
    NATOMM_E_INVALID_CREDENTIALS, NATOMM_E_NOT_AUTHENTICATED,
    NATOMM_E_VERIFICATION_REQUIRED, NATOMM_E_FORBIDDEN_ORIGIN,
    NATOMM_E_NOT_FOUND, NATOMM_E_METHOD_NOT_ALLOWED, NATOMM_E_PAYLOAD_TOO_LARGE,
    NATOMM_E_UNSUPPORTED_MEDIA_TYPE, NATOMM_E_RATE_LIMITED,
    NATOMM_E_STORAGE_UNAVAILABLE,
    /* the gate's answers to a download link (SPEC §5) */
    NATOMM_E_LINK_REFUSED, NATOMM_E_LINK_EXPIRED, NATOMM_E_COUNT
} natomm_error_t;

/* Sends body as application/json; charset=utf-8 with Cache-Control:
 * no-store and the status; returns OK (what a handler returns). */
int natomm_reply_json(request_rec *r, int status, natomm_json *body);

/* {"status":status} with the HTTP status. */
int natomm_reply_status(request_rec *r, int http, const char *status);

/* {"error":code,"message":its one text}, to which a caller may add fields
 * before sending it with natomm_reply_error_json. */
natomm_json *natomm_reply_error_body(apr_pool_t *p, natomm_error_t e);
int natomm_reply_error_json(request_rec *r, natomm_error_t e, natomm_json *body);

/* The error alone. */
int natomm_reply_error(request_rec *r, natomm_error_t e);

/* invalid_request naming the field at fault (field may be NULL). */
int natomm_reply_bad_field(request_rec *r, const char *field);

/* rate_limited with Retry-After (and "retry_after") of wait seconds. */
int natomm_reply_rate_limited(request_rec *r, apr_int64_t wait);

/* ---- request.c ------------------------------------------------------- */

/* Reads and decodes a form body into *fields (multipart/form-data too,
 * when multipart is set). 0, or non-zero when the error answer has been
 * sent (413, 415, 400). */
int natomm_request_form(request_rec *r, apr_off_t limit, int multipart,
                        apr_table_t **fields);

/* Whether the request's decoded path holds a control character (a
 * CR or LF from %0D%0A, a NUL, ...). */
int natomm_request_path_has_controls(request_rec *r);

/* Before an answer that does not read the body (404, 405, 403): a small
 * body is discarded, a large or chunked one ends the connection instead of
 * being waited for. */
void natomm_request_refuse_body(request_rec *r, apr_off_t limit);

/* Whether a POST comes from this site (Origin, then Referer, then
 * Sec-Fetch-Site); a request with none of them is allowed (not a browser's). */
int natomm_request_same_origin(request_rec *r);

/* The client's address, for logs and throttles. */
const char *natomm_request_client_ip(request_rec *r);

/* Whether the request is over HTTPS. */
int natomm_request_is_https(request_rec *r);

#endif
