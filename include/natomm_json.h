/* The one JSON writer: a flat object of strings, numbers, booleans and
 * string arrays, built on a pool. Pure: no httpd types. */
#ifndef NATOMM_JSON_H
#define NATOMM_JSON_H

#include "apr_pools.h"
#include "apr_tables.h"

typedef struct natomm_json natomm_json;

natomm_json *natomm_json_object(apr_pool_t *p);
/* value NULL writes null */
void natomm_json_str(natomm_json *j, const char *key, const char *value);
void natomm_json_int(natomm_json *j, const char *key, apr_int64_t value);
void natomm_json_bool(natomm_json *j, const char *key, int value);
/* items: an array of const char * */
void natomm_json_strs(natomm_json *j, const char *key,
                      const apr_array_header_t *items);
/* The finished object text ("{...}"). */
const char *natomm_json_finish(natomm_json *j);

/* s as a JSON string literal with its quotes; invalid UTF-8 becomes U+FFFD. */
char *natomm_json_quote(apr_pool_t *p, const char *s);

#endif
