/* Mail templates: a "Subject:" line, a blank line, the text; {{key}}
 * placeholders. Pure: no httpd types. */
#ifndef NATOMM_TEMPLATE_H
#define NATOMM_TEMPLATE_H

#include "apr_pools.h"
#include "apr_tables.h"

/* text with {{key}} replaced by vars[key]; unknown keys stay as they are. */
char *natomm_template_fill(apr_pool_t *p, const char *text, apr_table_t *vars);

/* Splits a filled template into its subject and body. NULL on success,
 * else why it is not a template (no "Subject:" line). */
const char *natomm_template_split(apr_pool_t *p, const char *filled,
                                  const char **subject, const char **body);

#endif
