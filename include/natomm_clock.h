/* The clock: every expiry in the database is in these units.
 * Pure: APR only. */
#ifndef NATOMM_CLOCK_H
#define NATOMM_CLOCK_H

#include "apr_pools.h"
#include "apr_time.h"

/* Unix time in whole seconds. */
apr_int64_t natomm_now(void);
/* Unix time in milliseconds: retry schedules of a second or two. */
apr_int64_t natomm_now_ms(void);

/* "2026-12-02 14:30 UTC": an expiry as a mail states it. */
const char *natomm_clock_utc_text(apr_pool_t *p, apr_int64_t when);
/* "Wed, 02 Dec 2026 14:30:00 +0000": an RFC 5322 Date. */
const char *natomm_clock_rfc5322(apr_pool_t *p, apr_time_t t);

#endif
