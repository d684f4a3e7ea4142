/* Doubling waits with a ceiling: mail retries and account locks.
 * Pure: no httpd types. */
#ifndef NATOMM_BACKOFF_H
#define NATOMM_BACKOFF_H

#include "apr.h"

/* first doubled steps times, never more than max (steps < 0 counts as 0). */
apr_int64_t natomm_backoff(apr_int64_t first, apr_int64_t max, int steps);

#endif
