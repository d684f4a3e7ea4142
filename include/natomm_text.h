/* Text made safe for where it goes: one log line, an HTML page.
 * Pure: no httpd types. */
#ifndef NATOMM_TEXT_H
#define NATOMM_TEXT_H

#include "apr_pools.h"

/* s for one log line: CR, LF, other controls and backslash as \xNN;
 * "-" for NULL. */
const char *natomm_text_log_safe(apr_pool_t *p, const char *s);

/* s with &, <, >, " and ' as HTML entities. */
char *natomm_text_html(apr_pool_t *p, const char *s);

/* Whether s holds only printable ASCII (no controls, no bytes >= 0x80). */
int natomm_text_is_ascii(const char *s);

#endif
