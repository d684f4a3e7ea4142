/* The one place that talks SQL (src/db/): connections from mod_dbd
 * (conn.c), transactions and statements (query.c), the schema and its
 * migrations (schema.c), the statement table (sql.c, natomm_sql.h),
 * counted limits (throttle.c) and retention (purge.c).
 *
 * Statements are prepared lazily, on each connection the first time it
 * runs each one, after the schema has been created or migrated: mod_dbd
 * prepares its own list before DBDInitSQL runs, and one statement over a
 * missing table would fail every connection.
 */
#ifndef NATOMM_DB_H
#define NATOMM_DB_H

#include "httpd.h"
#include "apr_dbd.h"
#include "mod_dbd.h"

#include "natomm_limit.h"
#include "natomm_sql.h"

typedef struct natomm_db natomm_db;

/* ---- conn.c: connections --------------------------------------------- */

/* A connection for the rest of the request (ap_dbd_acquire), ready to use;
 * NULL when the database cannot be reached (answer 503). */
natomm_db *natomm_db_acquire(request_rec *r);
/* A connection not tied to a request (ap_dbd_open); give it back with
 * natomm_db_close. For the gate, which must not hold one during a download,
 * and for background work. */
natomm_db *natomm_db_open(apr_pool_t *p, server_rec *s);
void natomm_db_close(natomm_db *db);

/* pre_config, post_config and child_init: mod_dbd's functions, the
 * schema lock, the SQLite writers' locks. */
int natomm_db_pre_config(apr_pool_t *pconf);
int natomm_db_post_config(apr_pool_t *pconf, server_rec *s);
void natomm_db_child_init(apr_pool_t *p);

/* ---- query.c: transactions and statements ---------------------------- */

/* natomm_db_commit returns 0 when everything since begin was written, -1
 * when it was rolled back (a statement had failed). */
int natomm_db_begin(natomm_db *db);
int natomm_db_commit(natomm_db *db);
void natomm_db_rollback(natomm_db *db);

/* Inside a transaction: waits until no other transaction holds name, and
 * holds it until this one ends. Every check-then-write on an address or a
 * bucket takes its name first (PostgreSQL; SQLite has one writer anyway).
 * 0, or -1. */
int natomm_db_lock(natomm_db *db, const char *name);

/* Runs a statement that returns no rows: the number of rows changed, or -1
 * on error (logged). args hold as many values as the statement has
 * parameters; NULL is SQL NULL. */
int natomm_db_exec(natomm_db *db, natomm_sql_t st, const char **args);

/* Runs a query and copies the first row's columns (natomm_sql.h says how
 * many) to cols, NULL for SQL NULL. 1 for a row, 0 for none, -1 on error. */
int natomm_db_row(natomm_db *db, natomm_sql_t st, const char **args,
                  const char **cols);

/* All rows: an array of (const char **) rows. The count, or -1. */
int natomm_db_rows(natomm_db *db, natomm_sql_t st, const char **args,
                   apr_array_header_t **rows);

/* The pool of a connection's work (the request's, or the caller's). */
apr_pool_t *natomm_db_pool(natomm_db *db);

/* Decimal text of a number, for statement arguments. */
const char *natomm_db_num(apr_pool_t *p, apr_int64_t n);

/* ---- site.c: one database ---------------------------------------------- */

/* What mod_natomm knows of one database, whichever virtual hosts reach it:
 * its identity and keys (made with the schema, shared by every server on
 * it) and, for SQLite, the lock that lets one thread of a process write at
 * a time. Several databases on one httpd share nothing. */
typedef struct natomm_site natomm_site;

/* The database of a connection. */
natomm_site *natomm_db_site(natomm_db *db);
/* The database a server's connections reach, once one has been made in
 * this process; NULL before. */
natomm_site *natomm_db_site_of(const server_rec *s);

/* Its random identity (natomm_meta db_id): names it in caches. */
const char *natomm_site_id(const natomm_site *site);
/* The key of code and unsubscribe MACs. */
const char *natomm_site_code_key(const natomm_site *site);
/* The key of download links: a key of its own. */
const char *natomm_site_link_key(const natomm_site *site);
/* A key for one use, derived from the code key (e.g. "cache"). */
const char *natomm_site_derived_key(const natomm_site *site, const char *use);

/* The code key of a connection's database. */
const char *natomm_db_code_key(natomm_db *db);

/* ---- throttle.c: limits counted in the database ---------------------- */

/* An event log per bucket ("resend:register:<hash of the address>",
 * "ip:login_failures:<hash of the client>", ...), counted over a sliding
 * window, so the limits hold across processes and servers. */

/* A bucket name from a kind and a subject (hashed: addresses are not kept). */
const char *natomm_db_bucket(apr_pool_t *p, const char *kind, const char *subject);

/* 0 when one more event in bucket stays within lim, else the seconds to
 * wait (for Retry-After); -1 when the database failed. */
apr_int64_t natomm_db_throttle_wait(natomm_db *db, const char *bucket,
                                    const natomm_limit_t *lim);
/* What the bucket holds since a time; 0, or -1 on failure. */
int natomm_db_throttle_seen(natomm_db *db, const char *bucket, apr_int64_t since,
                            natomm_limit_seen_t *seen);
/* Records one event in bucket now (*id, if asked, names it for
 * natomm_db_throttle_take_back); 0, or -1 when the database failed. */
int natomm_db_throttle_add(natomm_db *db, const char *bucket, const char **id);
/* Takes back one event (a provisional failure that turned out a success). */
int natomm_db_throttle_take_back(natomm_db *db, const char *bucket, const char *id);

/* ---- purge.c --------------------------------------------------------- */

/* Deletes expired codes, tokens, sessions, throttle events, delivered
 * mail older than a week, and accounts never verified within
 * unverified_lifetime seconds. */
void natomm_db_purge(natomm_db *db, apr_int64_t unverified_lifetime);

#endif
