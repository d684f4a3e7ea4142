/* application/x-www-form-urlencoded bodies. Pure: no httpd types. */
#ifndef NATOMM_FORM_H
#define NATOMM_FORM_H

#include "apr_pools.h"
#include "apr_tables.h"

/* Decodes body (len bytes) into *fields. Returns NULL on success, else a
 * sentence for the client: bad percent-encoding, invalid UTF-8, NUL or
 * control characters, a field given twice. */
const char *natomm_form_parse(apr_pool_t *p, const char *body, size_t len,
                              apr_table_t **fields);

/* The name of the first field whose value holds an ASCII control
 * character (NUL, CR, LF, ...), or NULL: lets the caller name the field in
 * its answer (an address with CR/LF is invalid_email). */
const char *natomm_form_control_field(apr_pool_t *p, const char *body, size_t len);

/* Whether a Content-Type header names form encoding (parameters ignored). */
int natomm_form_is_urlencoded(const char *content_type);

/* The boundary of a "multipart/form-data; boundary=..." Content-Type, or
 * NULL when it is not one (RFC 7578; the boundary may be quoted). */
const char *natomm_form_multipart_boundary(apr_pool_t *p, const char *content_type);

/* Decodes a multipart/form-data body of plain text fields (RFC 7578) into
 * *fields, as natomm_form_parse does a form body: NULL on success, else a
 * sentence for the client (no boundary, a part without a name, a file, a
 * field given twice, invalid UTF-8 or control characters). */
const char *natomm_form_multipart_parse(apr_pool_t *p, const char *body, size_t len,
                                        const char *boundary, apr_table_t **fields);

#endif
