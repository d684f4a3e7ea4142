/* The state every process of the server shares, read on the gate's path
 * with atomic loads and no lock: the counters (natomm_stats.h), each
 * database's health and revocation freshness, and the revocation marks.
 *
 * A revocation mark is the latest time an account's sessions or links were
 * revoked, kept in a slot chosen by hashing the database and the account:
 * two accounts may share a slot, which only sends the other one's next
 * check to the database. One anonymous segment, made once in the parent
 * and kept across graceful restarts. Pure: C and APR. */
#ifndef NATOMM_SHARED_H
#define NATOMM_SHARED_H

#include "apr.h"
#include "apr_pools.h"
#include "apr_time.h"
#include "natomm_stats.h"

#define NATOMM_SHARED_SITES 32
#define NATOMM_REVOKE_SLOTS 65536

/* Makes (or finds, after a graceful restart) the segment, in the parent;
 * keep is a pool that lives as long as the server (the process pool). The
 * counters attach to it. APR_SUCCESS, or why not. */
apr_status_t natomm_shared_create(apr_pool_t *keep);
/* The segment of a program that made none (natommctl, unit tests): plain
 * memory of this process. */
void natomm_shared_private(apr_pool_t *p);

/* A 64-bit name for a database identity (or any string): FNV-1a. */
apr_uint64_t natomm_shared_key(const char *s);

/* Revocation: every cached check of account on the database made before
 * at is stale. Atomic and monotonic (a later mark is never lowered). */
void natomm_shared_revoke(apr_uint64_t site, const char *account_id, apr_time_t at);
/* Whether a check made at made is stale by a revocation mark. */
int natomm_shared_revoked_since(apr_uint64_t site, const char *account_id,
                                apr_time_t made);

/* The health of a database: down until a time (0: up), and when its
 * revocations were last read from it. */
void natomm_shared_site_down(apr_uint64_t site, apr_time_t until);
void natomm_shared_site_up(apr_uint64_t site);
int natomm_shared_site_is_down(apr_uint64_t site, apr_time_t now);
void natomm_shared_site_polled(apr_uint64_t site, apr_time_t at);
/* When the revocations were last read (0: never, or no room to say). */
apr_time_t natomm_shared_site_poll_time(apr_uint64_t site);

#endif
