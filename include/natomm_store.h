/* The one place that talks SQL: schema, migrations, statements, transactions.
 *
 * Connections come from mod_dbd. Statements are prepared lazily on each
 * connection the first time it serves mod_natomm (mod_dbd prepares its own
 * list before DBDInitSQL runs, and one statement over a missing table would
 * fail every connection), after the schema has been created or migrated.
 */
#ifndef NATOMM_STORE_H
#define NATOMM_STORE_H

#include "httpd.h"
#include "apr_dbd.h"
#include "mod_dbd.h"

typedef struct natomm_db natomm_db;

/* A connection for the rest of the request (ap_dbd_acquire), ready to use;
 * NULL when the database cannot be reached (answer 503). */
natomm_db *natomm_db_acquire(request_rec *r);
/* A connection not tied to a request (ap_dbd_open); give it back with
 * natomm_db_close. For the gate, which must not hold one during a download,
 * and for background work. */
natomm_db *natomm_db_open(apr_pool_t *p, server_rec *s);
void natomm_db_close(natomm_db *db);

/* Transactions. natomm_db_commit returns 0 when everything since begin was
 * written, -1 when it was rolled back (a statement had failed). */
int natomm_db_begin(natomm_db *db);
int natomm_db_commit(natomm_db *db);
void natomm_db_rollback(natomm_db *db);

/* Runs a prepared statement that returns no rows. Returns the number of
 * rows changed, or -1 on error (logged). args hold as many values as the
 * statement has parameters; NULL is SQL NULL. */
int natomm_db_exec(natomm_db *db, const char *label, const char **args);

/* Runs a prepared query and copies the first row's first ncols columns to
 * cols (NULL for SQL NULL). Returns 1 for a row, 0 for none, -1 on error. */
int natomm_db_row(natomm_db *db, const char *label, const char **args,
                  const char **cols, int ncols);

/* All rows: an array of (const char **) rows of ncols columns each. */
int natomm_db_rows(natomm_db *db, const char *label, const char **args,
                   int ncols, apr_array_header_t **rows);

/* The site's secret key for code MACs, created with the schema; shared by
 * every server on the database. */
const char *natomm_db_code_key(natomm_db *db);

/* Deletes expired codes, tokens, sessions, throttle events, delivered
 * mail older than a week, and accounts never verified within
 * unverified_lifetime seconds. */
void natomm_db_purge(natomm_db *db, apr_int64_t unverified_lifetime);

/* Per child: looks up mod_dbd's functions and makes the schema lock. */
void natomm_store_child_init(apr_pool_t *p);

/* Decimal text of a number, for statement arguments. */
const char *natomm_db_num(apr_pool_t *p, apr_int64_t n);

#endif
