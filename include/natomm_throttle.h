/* Throttles counted in the database, so they hold across processes and
 * servers: an event log per bucket ("resend:register:<address>",
 * "ip:login_failed:<address>", ...), counted over a sliding window. */
#ifndef NATOMM_THROTTLE_H
#define NATOMM_THROTTLE_H

#include "natomm.h"
#include "natomm_store.h"

/* 0 when one more event in bucket stays within lim, else the seconds to
 * wait (for Retry-After); -1 when the database failed. */
apr_int64_t natomm_throttle_check(natomm_db *db, apr_pool_t *p,
                                  const char *bucket, const natomm_limit_t *lim);

/* The largest wait over the per-client-address limits of one kind
 * (NatommIPLimit); 0 when within all of them, -1 on database failure. */
apr_int64_t natomm_throttle_ip_check(natomm_db *db, apr_pool_t *p,
                                     const natomm_server_conf *conf, int kind,
                                     const char *ip);
int natomm_throttle_ip_record(natomm_db *db, apr_pool_t *p, int kind,
                              const char *ip);

/* Records one event in bucket; -1 when the database failed. */
int natomm_throttle_record(natomm_db *db, apr_pool_t *p, const char *bucket);

/* A bucket name from a kind and a subject (hashed: addresses are not kept). */
const char *natomm_throttle_bucket(apr_pool_t *p, const char *kind,
                                   const char *subject);

#endif
