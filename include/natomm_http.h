/* HTTP plumbing shared by the endpoints and the gate: JSON answers, the
 * request body, the origin check. */
#ifndef NATOMM_HTTP_H
#define NATOMM_HTTP_H

#include "httpd.h"
#include "apr_tables.h"
#include "natomm_json.h"

/* Sends body as application/json with Cache-Control: no-store and the
 * given status; returns what a handler returns (OK). */
int natomm_send_json(request_rec *r, int status, const char *body);

/* {"error":code,"message":message}, to which a caller may add fields
 * before sending it with natomm_send_json. */
natomm_json *natomm_error_json(apr_pool_t *p, const char *code,
                               const char *message);
/* Sends {"error":code,"message":message} with status. */
int natomm_send_error(request_rec *r, int status, const char *code,
                      const char *message);

/* Reads and decodes a form body into *fields. Returns OK, or a status for
 * which the error answer has already been sent (caller returns OK then). */
int natomm_read_form(request_rec *r, apr_off_t limit, apr_table_t **fields,
                     int *answered);

/* Whether a POST comes from this site (Origin, then Referer, then
 * Sec-Fetch-Site); a request with none of them is allowed (not a browser's). */
int natomm_same_origin(request_rec *r);

/* The client's address, for logs and throttles. */
const char *natomm_client_ip(request_rec *r);

/* A value made safe for one log line: CR, LF and other controls escaped. */
const char *natomm_log_safe(apr_pool_t *p, const char *s);

#endif
