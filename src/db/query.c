/* Transactions and statements (see natomm_db.h). */
#include "natomm_db.h"
#include <string.h>
#include "natomm_db_internal.h"
#include "http_log.h"
#include "apr_strings.h"
#include "natomm_cfg.h"
#include <sqlite3.h>
#include <dlfcn.h>

static void log_text(natomm_db *db, int level, const char *what, const char *err)
{
    if (db->r)
        ap_log_rerror(APLOG_MARK, level, 0, db->r, "NATOMM: database: %s: %s",
                      what, err ? err : "");
    else
        ap_log_error(APLOG_MARK, level, 0, db->s, "NATOMM: database: %s: %s",
                     what, err ? err : "");
}

void natomm_db_log(natomm_db *db, int level, const char *what)
{
    log_text(db, level, what, db->dbd ? apr_dbd_error(db->dbd->driver, db->dbd->handle, 0)
                                      : "no connection");
}

int natomm_db_is_sqlite(natomm_db *db)
{
    return !strcmp(apr_dbd_name(db->dbd->driver), "sqlite3");
}

int natomm_db_is_pgsql(natomm_db *db)
{
    return !strcmp(apr_dbd_name(db->dbd->driver), "pgsql");
}

apr_pool_t *natomm_db_pool(natomm_db *db)
{
    return db->pool;
}

const char *natomm_db_num(apr_pool_t *p, apr_int64_t n)
{
    return apr_psprintf(p, "%" APR_INT64_T_FMT, n);
}

/* apr_dbd_get_entry cannot tell NULL: the pgsql driver returns "" for it. */
const char *natomm_db_entry(natomm_db *db, apr_dbd_row_t *row, int i)
{
    char *v = NULL;

    if (apr_dbd_datum_get(db->dbd->driver, row, i, APR_DBD_TYPE_STRING, &v)
        != APR_SUCCESS || !v)
        return NULL;
    return apr_pstrdup(db->pool, v);
}

int natomm_db_raw_select(natomm_db *db, const char *sql, const char **first)
{
    apr_dbd_results_t *res = NULL;
    apr_dbd_row_t *row = NULL;
    int got = 0;

    /* random access: on pgsql a sequential (async) result reads an error
     * as "no more rows" */
    if (apr_dbd_select(db->dbd->driver, db->pool, db->dbd->handle, &res, sql, 1))
        return -1;
    /* drain every row: PostgreSQL's async mode requires it */
    while (apr_dbd_get_row(db->dbd->driver, db->pool, res, &row, -1) == 0) {
        if (!got && first)
            *first = natomm_db_entry(db, row, 0);
        got = 1;
    }
    return got;
}

int natomm_db_raw_exec(natomm_db *db, const char *sql)
{
    int nrows = 0;
    if (apr_dbd_query(db->dbd->driver, db->dbd->handle, &nrows, sql)) {
        db->failed = 1;
        natomm_db_log(db, APLOG_ERR, "schema migration");
        return -1;
    }
    return nrows;
}

/* Transactions are plain SQL rather than apr_dbd_transaction_*: the pgsql
 * driver writes through a NULL transaction when BEGIN fails (a lost
 * server), and the sqlite3 driver's BEGIN is what we send anyway. */
static int control(natomm_db *db, const char *sql)
{
    int nrows = 0;
    return apr_dbd_query(db->dbd->driver, db->dbd->handle, &nrows, sql);
}

void natomm_db_session_settings(natomm_db *db)
{
    /* a lock held elsewhere (another transaction, a DBA's LOCK TABLE) is
     * waited for NatommDatabaseBusyTimeout at most: then 503, not a worker
     * held for as long as the lock lasts */
    if (natomm_db_is_pgsql(db))
        control(db, apr_psprintf(db->pool, "SET lock_timeout = %" APR_INT64_T_FMT,
                                 natomm_cfg_server(db->s)->db_busy_timeout * 1000));
}

/* libpq's PQbackendPID, found in the process when the pgsql driver has
 * loaded libpq (APR loads drivers RTLD_GLOBAL), so that mod_natomm itself
 * needs no libpq; NULL without it. It asks the server nothing. */
typedef int (*backend_pid_fn)(const void *conn);

static int backend_pid(natomm_db *db)
{
    /* threads that race here store the same address */
    static backend_pid_fn fn;

    if (!fn)
        fn = (backend_pid_fn)dlsym(RTLD_DEFAULT, "PQbackendPID");
    return fn ? fn(apr_dbd_native_handle(db->dbd->driver, db->dbd->handle)) : 0;
}

static void forget_statements(natomm_db *db)
{
    int i;

    for (i = 0; i < NATOMM_SQL_COUNT; i++)
        db->handle->stmt[i] = NULL;
}

void natomm_db_note_connection(natomm_db *db)
{
    int pid;

    if (!natomm_db_is_pgsql(db) || !db->handle)
        return;
    pid = backend_pid(db);
    if (db->handle->backend && pid && pid != db->handle->backend) {
        forget_statements(db);
        natomm_db_session_settings(db);
    }
    db->handle->backend = pid;
}

/* PostgreSQL: a pooled handle whose server went away and came back is
 * reconnected in place by the driver, without its prepared statements.
 * After a failure outside a transaction the handle is checked (which
 * reconnects it) and its statements forgotten, once per request; the
 * caller then tries again. */
static int recover(natomm_db *db)
{
    if (!natomm_db_is_pgsql(db) || db->in_transaction || db->recovered || !db->handle)
        return 0;
    db->recovered = 1;
    if (apr_dbd_check_conn(db->dbd->driver, db->pool, db->dbd->handle) != APR_SUCCESS)
        return 0;
    forget_statements(db);
    /* a connection that was not lost still has them */
    control(db, "DEALLOCATE ALL");
    natomm_db_session_settings(db);
    db->handle->backend = backend_pid(db);
    return 1;
}

static apr_interval_time_t busy_timeout(natomm_db *db)
{
    return apr_time_from_sec(natomm_cfg_server(db->s)->db_busy_timeout);
}

/* SQLite: one writer at a time across the server's processes, queued
 * here, so that no thread waits for the file's write lock inside the
 * driver (which holds its process-wide mutex, and sleeps 100 ms a try)
 * while another thread holds that lock and waits for the driver. */
static int take_write_lock(natomm_db *db, apr_time_t deadline)
{
    apr_global_mutex_t *lock = natomm_db_site_write_lock(natomm_db_site(db));
    apr_interval_time_t left = deadline - apr_time_now();

    if (!lock)
        return 0;
    if (apr_global_mutex_timedlock(lock, left > 0 ? left : 0) != APR_SUCCESS)
        return -1;
    db->writing = lock;
    return 0;
}

static void release_write_lock(natomm_db *db)
{
    if (db->writing) {
        apr_global_mutex_unlock(db->writing);
        db->writing = NULL;
    }
}

/* SQLite: BEGIN IMMEDIATE until the file's write lock is ours (another
 * process may hold it), by the deadline. Sent on the native handle:
 * apr_dbd_sqlite3 would retry a busy statement for 1.5 s inside one call
 * (15 times 100 ms, whatever busy_timeout says), overshooting the
 * deadline; here a try costs microseconds (busy_timeout is 0). */
static int begin_sqlite(natomm_db *db, apr_time_t deadline)
{
    sqlite3 *h = apr_dbd_native_handle(db->dbd->driver, db->dbd->handle);
    /* short naps: writers of other processes get their turn in about the
     * order they came, as a lock queue would give it */
    apr_interval_time_t nap = apr_time_from_msec(1);
    int rv;

    while ((rv = sqlite3_exec(h, "BEGIN IMMEDIATE", NULL, NULL, NULL)) == SQLITE_BUSY
           && apr_time_now() + nap < deadline) {
        apr_sleep(nap);
        if (nap < apr_time_from_msec(4))
            nap *= 2;
    }
    return rv;
}

int natomm_db_begin(natomm_db *db)
{
    /* one NatommDatabaseBusyTimeout for the queue and the file's lock
     * together: a writer behind a stuck one answers 503 in time too */
    apr_time_t deadline = apr_time_now() + busy_timeout(db);
    int rv;

    db->failed = 0;
    if (take_write_lock(db, deadline)) {
        log_text(db, APLOG_ERR, "waiting for the write lock",
                 "another writer held it longer than NatommDatabaseBusyTimeout");
        return -1;
    }
    if (natomm_db_is_sqlite(db))
        rv = begin_sqlite(db, deadline);
    else if ((rv = control(db, "BEGIN")) != 0 && recover(db))
        rv = control(db, "BEGIN");
    if (rv) {
        natomm_db_log(db, APLOG_ERR, "begin transaction");
        release_write_lock(db);
        return -1;
    }
    db->in_transaction = 1;
    return 0;
}

int natomm_db_commit(natomm_db *db)
{
    int failed = db->failed;

    if (!db->in_transaction)
        return -1;
    db->in_transaction = 0;
    if (control(db, failed ? "ROLLBACK" : "COMMIT")) {
        natomm_db_log(db, APLOG_ERR, "commit");
        control(db, "ROLLBACK");
        failed = 1;
    }
    release_write_lock(db);
    return failed ? -1 : 0;
}

void natomm_db_rollback(natomm_db *db)
{
    if (!db->in_transaction)
        return;
    db->in_transaction = 0;
    control(db, "ROLLBACK");
    release_write_lock(db);
}

/* The handle's prepared form of st, prepared now if this is its first use
 * on the handle; NULL (logged) when the driver refuses it. */
static apr_dbd_prepared_t *statement(natomm_db *db, natomm_sql_t st)
{
    const natomm_sql_statement_t *def = natomm_sql(st);
    apr_dbd_prepared_t **slot = &db->handle->stmt[st];

    if (!*slot && apr_dbd_prepare(db->dbd->driver, db->dbd->pool, db->dbd->handle,
                                  def->sql, def->label, slot)) {
        *slot = NULL;
        natomm_db_log(db, APLOG_ERR, apr_pstrcat(db->pool, "preparing ",
                                                 def->label, NULL));
    }
    return *slot;
}

static int statement_failed(natomm_db *db, natomm_sql_t st)
{
    db->failed = 1;
    natomm_db_log(db, APLOG_ERR, natomm_sql(st)->label);
    return -1;
}

static int run_exec(natomm_db *db, natomm_sql_t st, const char **args, int *nrows)
{
    apr_dbd_prepared_t *stmt = statement(db, st);

    return !stmt || apr_dbd_pquery(db->dbd->driver, db->pool, db->dbd->handle,
                                   nrows, stmt, natomm_sql(st)->nargs, args);
}

/* A write outside a transaction, on SQLite: in one of its own, so that it
 * waits for the write lock as transactions do. */
static int exec_alone(natomm_db *db, natomm_sql_t st, const char **args)
{
    int n;

    if (natomm_db_begin(db))
        return -1;
    n = natomm_db_exec(db, st, args);
    return natomm_db_commit(db) ? -1 : n;
}

int natomm_db_exec(natomm_db *db, natomm_sql_t st, const char **args)
{
    int nrows = 0;

    if (!db->in_transaction && natomm_db_is_sqlite(db) && db->handle)
        return exec_alone(db, st, args);
    if (run_exec(db, st, args, &nrows)
        && (!recover(db) || run_exec(db, st, args, &nrows)))
        return statement_failed(db, st);
    return nrows;
}

static int run_select(natomm_db *db, natomm_sql_t st, const char **args,
                      apr_dbd_results_t **res)
{
    apr_dbd_prepared_t *stmt = statement(db, st);

    *res = NULL;
    return !stmt || apr_dbd_pselect(db->dbd->driver, db->pool, db->dbd->handle,
                                    res, stmt, 1, natomm_sql(st)->nargs, args);
}

int natomm_db_rows(natomm_db *db, natomm_sql_t st, const char **args,
                   apr_array_header_t **rows)
{
    const natomm_sql_statement_t *def = natomm_sql(st);
    apr_dbd_results_t *res = NULL;
    apr_dbd_row_t *row = NULL;

    *rows = apr_array_make(db->pool, 4, sizeof(const char **));
    if (run_select(db, st, args, &res)
        && (!recover(db) || run_select(db, st, args, &res)))
        return statement_failed(db, st);
    while (apr_dbd_get_row(db->dbd->driver, db->pool, res, &row, -1) == 0) {
        const char **cols = apr_pcalloc(db->pool, def->ncols * sizeof(*cols));
        int i;
        for (i = 0; i < def->ncols; i++)
            cols[i] = natomm_db_entry(db, row, i);
        APR_ARRAY_PUSH(*rows, const char **) = cols;
    }
    return (*rows)->nelts;
}

int natomm_db_row(natomm_db *db, natomm_sql_t st, const char **args,
                  const char **cols)
{
    apr_array_header_t *rows;
    int n = natomm_db_rows(db, st, args, &rows);

    if (n <= 0)
        return n;
    memcpy(cols, APR_ARRAY_IDX(rows, 0, const char **),
           natomm_sql(st)->ncols * sizeof(*cols));
    return 1;
}

int natomm_db_lock(natomm_db *db, const char *name)
{
    apr_array_header_t *rows;

    if (!natomm_db_is_pgsql(db))
        return 0;
    return natomm_db_rows(db, NATOMM_SQL_PG_LOCK, (const char *[]){name}, &rows) < 0
        ? -1 : 0;
}
