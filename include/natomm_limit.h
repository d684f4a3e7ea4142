/* Rate-limit arithmetic: what a count of events in a window means.
 * Pure: the database counts, this decides. */
#ifndef NATOMM_LIMIT_H
#define NATOMM_LIMIT_H

#include "apr.h"
#include "apr_pools.h"

typedef struct {
    int limit;                 /* events per window; 0 = no count limit */
    apr_int64_t window;        /* seconds */
    apr_int64_t min_interval;  /* seconds between two events; 0 = none */
} natomm_limit_t;

/* What the database knows of a bucket over the last natomm_limit_span(). */
typedef struct {
    int count;
    apr_int64_t oldest, newest;   /* 0 when count is 0 */
} natomm_limit_seen_t;

/* How far back events matter for lim. */
apr_int64_t natomm_limit_span(const natomm_limit_t *lim);

/* 0 when one more event at now stays within lim, else the seconds to wait
 * (for Retry-After): the interval since the newest, or the time until the
 * oldest leaves the window. */
apr_int64_t natomm_limit_wait(const natomm_limit_t *lim,
                              const natomm_limit_seen_t *seen, apr_int64_t now);

/* The lock an account gets after fails consecutive failures: none below
 * threshold, first at it, doubling with each further failure up to max. */
apr_int64_t natomm_limit_lock_for(int threshold, apr_int64_t first,
                                  apr_int64_t max, int fails);

/* The client a limit counts: an IPv4 address as it is (an IPv4-mapped IPv6
 * address as its IPv4 form), an IPv6 address by its /64 ("2001:db8:1:2::/64"),
 * since one subscriber gets a whole /64. Anything else is returned as given. */
const char *natomm_limit_client(apr_pool_t *p, const char *ip);

#endif
