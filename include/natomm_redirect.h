/* The one place that decides whether a return URL may be followed. */
#ifndef NATOMM_REDIRECT_H
#define NATOMM_REDIRECT_H

#include "apr_pools.h"

#define NATOMM_RETURN_MAX 2048

/* The value itself when it is a safe local path (and query), else "/".
 * Never returns NULL. */
const char *natomm_return_url(apr_pool_t *p, const char *value);

#endif
