/* Shared by the files of src/db/ only: the connection record and the raw
 * SQL that schema work needs. Nothing outside src/db/ includes this. */
#ifndef NATOMM_DB_INTERNAL_H
#define NATOMM_DB_INTERNAL_H

#include "natomm_db.h"
#include "apr_global_mutex.h"

/* What a pooled handle carries across requests: its prepared statements,
 * made on first use (mod_dbd keeps this in the handle's "prepared" hash). */
typedef struct {
    apr_dbd_prepared_t *stmt[NATOMM_SQL_COUNT];
    natomm_site *site;         /* the database it reaches */
    int backend;               /* PostgreSQL: the server process it was
                                * prepared on (0: not known yet) */
} natomm_db_handle_t;

struct natomm_db {
    ap_dbd_t *dbd;
    natomm_db_handle_t *handle;
    apr_pool_t *pool;
    request_rec *r;            /* for logging; may be NULL */
    server_rec *s;
    int in_transaction;        /* BEGIN sent, no COMMIT or ROLLBACK yet */
    int failed;                /* a statement failed inside the transaction */
    int opened;                /* from ap_dbd_open: must be closed */
    int recovered;             /* PostgreSQL: reconnected once already */
    apr_global_mutex_t *writing;   /* SQLite: the site's writer lock, held */
};

/* Logs what failed with the driver's message (never a statement's text). */
void natomm_db_log(natomm_db *db, int level, const char *what);
int natomm_db_is_sqlite(natomm_db *db);
int natomm_db_is_pgsql(natomm_db *db);

/* Settings a new (or reconnected) PostgreSQL session needs: lock_timeout. */
void natomm_db_session_settings(natomm_db *db);

/* PostgreSQL: a handle that the driver reconnected since it was last used
 * (mod_dbd's own check on acquire resets a lost connection in place) has
 * lost its prepared statements and session settings: forget and redo
 * them. Called whenever a handle is taken. */
void natomm_db_note_connection(natomm_db *db);

/* Column i of a row, or NULL for SQL NULL. */
const char *natomm_db_entry(natomm_db *db, apr_dbd_row_t *row, int i);

/* Plain SQL: a query whose rows are read and dropped (*first gets the
 * first column of the first row): rows seen (0 or 1), or -1; a statement
 * without rows: 0, or -1 (logged, the transaction marked failed). */
int natomm_db_raw_select(natomm_db *db, const char *sql, const char **first);
int natomm_db_raw_exec(natomm_db *db, const char *sql);

/* schema.c: creates or migrates the schema of a handle's database, and
 * reads its identity and keys into *id, *code_key, *link_key; 0 or -1. */
int natomm_db_schema_ensure(natomm_db *db, const char **id, const char **code_key,
                            const char **link_key);
void natomm_db_schema_child_init(apr_pool_t *p);

/* site.c: the site of a database identity, made on first sight (process
 * lifetime); and the process's registry. */
natomm_site *natomm_db_site_find(const char *id, const char *code_key,
                                 const char *link_key, int sqlite);
void natomm_db_site_child_init(apr_pool_t *p);
/* SQLite: the writer lock of the site, shared by every process (NULL for
 * other drivers). */
apr_global_mutex_t *natomm_db_site_write_lock(natomm_site *site);

#endif
