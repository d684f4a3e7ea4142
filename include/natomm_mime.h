/* The message builder: RFC 5322 headers, RFC 2047 encoded words, a
 * multipart/alternative of the text and an HTML copy. It refuses any
 * header value that holds CR or LF, so nothing can add a header.
 * Pure: no httpd types. */
#ifndef NATOMM_MIME_H
#define NATOMM_MIME_H

#include "apr_pools.h"
#include "apr_tables.h"
#include "apr_time.h"

typedef struct {
    const char *from;         /* "Name <addr>" or "addr" */
    const char *to;           /* a bare address */
    const char *subject;      /* UTF-8 */
    const char *text;         /* UTF-8, lines ending in LF (CRs dropped) */
    apr_time_t date;
    const char *unique;       /* random text for Message-ID and the boundary */
    /* further headers, name -> value (e.g. List-Unsubscribe), or NULL */
    const apr_array_header_t *headers;   /* of natomm_mime_header_t */
} natomm_mime_t;

typedef struct {
    const char *name;
    const char *value;
} natomm_mime_header_t;

/* The whole message with CRLF line ends in *out. NULL on success, else why
 * it was refused (a CR or LF in a header value, a bad header name). */
const char *natomm_mime_build(apr_pool_t *p, const natomm_mime_t *m, char **out);

/* A header value as RFC 2047 encoded words when it is not ASCII, folded
 * between words; the value itself when it is. */
const char *natomm_mime_encode_header(apr_pool_t *p, const char *value);

/* The bare address of "Name <addr>" (or of a bare addr). */
const char *natomm_mime_address(apr_pool_t *p, const char *from);
/* The domain of that address, "localhost" when there is none. */
const char *natomm_mime_domain(apr_pool_t *p, const char *from);

#endif
