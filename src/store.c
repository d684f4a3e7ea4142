/* Storage through mod_dbd (see natomm_store.h).
 *
 * One SQL text serves SQLite and PostgreSQL: numbers are passed as %lld (the
 * pgsql driver declares %s parameters as varchar), identifiers are random
 * 63-bit integers made here (no SERIAL/AUTOINCREMENT difference), times are
 * Unix seconds in BIGINT columns.
 */
#include <string.h>
#include "httpd.h"
#include "http_log.h"
#include "http_request.h"
#include "apr_dbd.h"
#include "apr_strings.h"
#include "apr_thread_mutex.h"
#include "apr_optional.h"
#include "mod_dbd.h"

#include "natomm.h"
#include "natomm_store.h"
#include "natomm_crypto.h"

#define SCHEMA_VERSION 2
/* marks a connection whose statements are prepared */
#define READY_LABEL "natomm__ready"

struct natomm_db {
    ap_dbd_t *dbd;
    apr_pool_t *pool;
    request_rec *r;            /* for logging; may be NULL */
    server_rec *s;
    int in_transaction;        /* BEGIN sent, no COMMIT or ROLLBACK yet */
    int failed;                /* a statement failed inside the transaction */
    int opened;                /* from ap_dbd_open: must be closed */
};

typedef struct {
    const char *label;
    const char *sql;
} statement_t;

/* Every statement mod_natomm runs. Labels are SQL identifiers: PostgreSQL
 * sends "PREPARE label". */
static const statement_t statements[] = {
    {"natomm_acct_by_email",
     "SELECT id, email, password_hash, verified_at, name, language, newsletter,"
     " failed_logins, locked_until FROM natomm_account WHERE email_norm = %s"},
    {"natomm_acct_by_id",
     "SELECT email, name, newsletter, verified_at, language, password_hash,"
     " failed_logins, locked_until FROM natomm_account"
     " WHERE id = %lld"},
    {"natomm_acct_login_failed",
     "UPDATE natomm_account SET failed_logins = failed_logins + 1,"
     " locked_until = %lld WHERE id = %lld"},
    {"natomm_acct_login_ok",
     "UPDATE natomm_account SET failed_logins = 0, locked_until = 0"
     " WHERE id = %lld"},
    {"natomm_acct_delete",
     "DELETE FROM natomm_account WHERE id = %lld"},
    {"natomm_news_subscribe",
     "UPDATE natomm_account SET newsletter = 1, newsletter_at = %lld,"
     " newsletter_ip = %s, newsletter_withdrawn_at = NULL"
     " WHERE id = %lld AND newsletter = 0"},
    {"natomm_news_unsubscribe",
     "UPDATE natomm_account SET newsletter = 0, newsletter_withdrawn_at = %lld"
     " WHERE id = %lld AND newsletter = 1"},
    {"natomm_reset_insert",
     "INSERT INTO natomm_reset_token (token_hash, account_id, expires_at)"
     " VALUES (%s, %lld, %lld)"},
    {"natomm_reset_get",
     "SELECT t.account_id, t.expires_at, a.email, a.language FROM natomm_reset_token t"
     " JOIN natomm_account a ON a.id = t.account_id WHERE t.token_hash = %s"},
    {"natomm_reset_use",
     "DELETE FROM natomm_reset_token WHERE token_hash = %s AND expires_at > %lld"},
    {"natomm_reset_delete_account",
     "DELETE FROM natomm_reset_token WHERE account_id = %lld"},
    {"natomm_session_delete_others",
     "DELETE FROM natomm_session WHERE account_id = %lld AND token_hash <> %s"},
    {"natomm_acct_insert",
     "INSERT INTO natomm_account (id, email, email_norm, password_hash, name,"
     " organisation, language, created_at) VALUES (%lld, %s, %s, %s, %s, %s, %s, %lld)"},
    {"natomm_acct_update_pending",
     "UPDATE natomm_account SET email = %s, name = %s,"
     " organisation = %s, language = %s WHERE id = %lld AND verified_at IS NULL"},
    {"natomm_acct_verify",
     "UPDATE natomm_account SET verified_at = %lld, password_hash = %s"
     " WHERE id = %lld AND verified_at IS NULL"},
    {"natomm_acct_set_password",
     "UPDATE natomm_account SET password_hash = %s WHERE id = %lld"},
    {"natomm_code_insert",
     "INSERT INTO natomm_code (id, account_id, purpose, code_mac, payload,"
     " attempts_left, created_at, expires_at)"
     " VALUES (%lld, %lld, %s, %s, %s, %lld, %lld, %lld)"},
    {"natomm_code_delete",
     "DELETE FROM natomm_code WHERE account_id = %lld AND purpose = %s"},
    {"natomm_code_latest",
     "SELECT id, code_mac, attempts_left, expires_at, payload FROM natomm_code"
     " WHERE account_id = %lld AND purpose = %s ORDER BY created_at DESC LIMIT 1"},
    {"natomm_code_fail",
     "UPDATE natomm_code SET attempts_left = attempts_left - 1"
     " WHERE id = %lld AND attempts_left > 0"},
    {"natomm_session_insert",
     "INSERT INTO natomm_session (token_hash, account_id, created_at, last_seen,"
     " idle_timeout, expires_at, ip) VALUES (%s, %lld, %lld, %lld, %lld, %lld, %s)"},
    {"natomm_session_get",
     "SELECT s.account_id, s.last_seen, s.idle_timeout, s.expires_at, a.email,"
     " a.name, a.newsletter, a.verified_at FROM natomm_session s"
     " JOIN natomm_account a ON a.id = s.account_id WHERE s.token_hash = %s"},
    {"natomm_session_touch",
     "UPDATE natomm_session SET last_seen = %lld WHERE token_hash = %s"},
    {"natomm_session_delete",
     "DELETE FROM natomm_session WHERE token_hash = %s"},
    {"natomm_session_delete_account",
     "DELETE FROM natomm_session WHERE account_id = %lld"},
    {"natomm_throttle_add",
     "INSERT INTO natomm_throttle (bucket, at) VALUES (%s, %lld)"},
    {"natomm_throttle_count",
     "SELECT COUNT(*), MIN(at), MAX(at) FROM natomm_throttle"
     " WHERE bucket = %s AND at > %lld"},
    {"natomm_outbox_insert",
     "INSERT INTO natomm_outbox (id, recipient, message, created_at,"
     " next_attempt_ms) VALUES (%lld, %s, %s, %lld, %lld)"},
    {"natomm_outbox_due",
     "SELECT id, recipient, message, attempts, created_at FROM natomm_outbox"
     " WHERE sent_at IS NULL AND failed_at IS NULL AND next_attempt_ms <= %lld"
     " AND lease_until < %lld"
     " ORDER BY next_attempt_ms LIMIT 20"},
    {"natomm_outbox_claim",
     "UPDATE natomm_outbox SET lease_until = %lld, lease_owner = %s"
     " WHERE id = %lld AND sent_at IS NULL AND failed_at IS NULL"
     " AND lease_until < %lld AND next_attempt_ms <= %lld"},
    {"natomm_outbox_sent",
     "UPDATE natomm_outbox SET sent_at = %lld, lease_until = 0, message = ''"
     " WHERE id = %lld AND lease_owner = %s"},
    {"natomm_outbox_retry",
     "UPDATE natomm_outbox SET attempts = attempts + 1, next_attempt_ms = %lld,"
     " lease_until = 0, last_error = %s WHERE id = %lld AND lease_owner = %s"},
    {"natomm_outbox_failed",
     "UPDATE natomm_outbox SET failed_at = %lld, lease_until = 0, last_error = %s,"
     " message = '' WHERE id = %lld AND lease_owner = %s"},
    {"natomm_outbox_stats",
     "SELECT SUM(CASE WHEN sent_at IS NULL AND failed_at IS NULL THEN 1 ELSE 0 END),"
     " MIN(CASE WHEN sent_at IS NULL AND failed_at IS NULL THEN created_at END),"
     " SUM(CASE WHEN failed_at IS NOT NULL THEN 1 ELSE 0 END),"
     " SUM(CASE WHEN sent_at > %lld THEN 1 ELSE 0 END),"
     " SUM(CASE WHEN sent_at IS NULL AND failed_at IS NULL AND attempts > 0"
     " THEN 1 ELSE 0 END) FROM natomm_outbox"},
    {"natomm_purge_codes",
     "DELETE FROM natomm_code WHERE expires_at < %lld"},
    {"natomm_purge_sessions",
     "DELETE FROM natomm_session WHERE expires_at < %lld"
     " OR last_seen + idle_timeout < CAST(%lld AS BIGINT)"},
    {"natomm_purge_reset",
     "DELETE FROM natomm_reset_token WHERE expires_at < %lld"},
    {"natomm_purge_throttle",
     "DELETE FROM natomm_throttle WHERE at < %lld"},
    {"natomm_purge_unverified",
     "DELETE FROM natomm_account WHERE verified_at IS NULL AND created_at < %lld"},
    {"natomm_purge_outbox",
     "DELETE FROM natomm_outbox WHERE (sent_at IS NOT NULL AND sent_at < %lld)"
     " OR (failed_at IS NOT NULL AND failed_at < %lld)"},
    {NULL, NULL}
};

/* Schema, one list of statements per version; each list runs in the
 * migration transaction that raises natomm_meta.schema_version to it. */
static const char *const schema_v1[] = {
    "CREATE TABLE IF NOT EXISTS natomm_account ("
    " id BIGINT PRIMARY KEY,"
    " email VARCHAR(254) NOT NULL,"
    " email_norm VARCHAR(254) NOT NULL UNIQUE,"
    " password_hash VARCHAR(255) NOT NULL,"
    " name VARCHAR(400),"
    " organisation VARCHAR(400),"
    " language VARCHAR(8) NOT NULL,"
    " created_at BIGINT NOT NULL,"
    " verified_at BIGINT,"
    " failed_logins INTEGER NOT NULL DEFAULT 0,"
    " locked_until BIGINT NOT NULL DEFAULT 0,"
    " newsletter INTEGER NOT NULL DEFAULT 0,"
    " newsletter_at BIGINT,"
    " newsletter_ip VARCHAR(64),"
    " newsletter_withdrawn_at BIGINT)",
    "CREATE TABLE IF NOT EXISTS natomm_code ("
    " id BIGINT PRIMARY KEY,"
    " account_id BIGINT NOT NULL REFERENCES natomm_account(id) ON DELETE CASCADE,"
    " purpose VARCHAR(16) NOT NULL,"
    " code_mac VARCHAR(64) NOT NULL,"
    " payload VARCHAR(255),"
    " attempts_left INTEGER NOT NULL,"
    " created_at BIGINT NOT NULL,"
    " expires_at BIGINT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS natomm_code_account ON natomm_code (account_id, purpose)",
    "CREATE TABLE IF NOT EXISTS natomm_session ("
    " token_hash VARCHAR(64) PRIMARY KEY,"
    " account_id BIGINT NOT NULL REFERENCES natomm_account(id) ON DELETE CASCADE,"
    " created_at BIGINT NOT NULL,"
    " last_seen BIGINT NOT NULL,"
    " idle_timeout BIGINT NOT NULL,"
    " expires_at BIGINT NOT NULL,"
    " ip VARCHAR(64))",
    "CREATE INDEX IF NOT EXISTS natomm_session_account ON natomm_session (account_id)",
    "CREATE TABLE IF NOT EXISTS natomm_reset_token ("
    " token_hash VARCHAR(64) PRIMARY KEY,"
    " account_id BIGINT NOT NULL REFERENCES natomm_account(id) ON DELETE CASCADE,"
    " expires_at BIGINT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS natomm_throttle ("
    " bucket VARCHAR(96) NOT NULL,"
    " at BIGINT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS natomm_throttle_bucket ON natomm_throttle (bucket, at)",
    "CREATE TABLE IF NOT EXISTS natomm_outbox ("
    " id BIGINT PRIMARY KEY,"
    " recipient VARCHAR(254) NOT NULL,"
    " message TEXT NOT NULL,"
    " created_at BIGINT NOT NULL,"
    /* milliseconds: retry waits of a second or two stay exact, while a
     * whole-second schedule would err by up to a second each way */
    " next_attempt_ms BIGINT NOT NULL,"
    " attempts INTEGER NOT NULL DEFAULT 0,"
    " lease_until BIGINT NOT NULL DEFAULT 0,"
    " lease_owner VARCHAR(32),"
    " sent_at BIGINT,"
    " last_error VARCHAR(512))",
    "CREATE INDEX IF NOT EXISTS natomm_outbox_due ON natomm_outbox (sent_at, next_attempt_ms)",
    NULL
};

/* Version 2: mail that failed for good is kept, marked, not retried. */
static const char *const schema_v2[] = {
    "ALTER TABLE natomm_outbox ADD COLUMN failed_at BIGINT",
    NULL
};

static const char *const *const migrations[SCHEMA_VERSION] = { schema_v1, schema_v2 };

static APR_OPTIONAL_FN_TYPE(ap_dbd_acquire) *dbd_acquire;
static APR_OPTIONAL_FN_TYPE(ap_dbd_open) *dbd_open;
static APR_OPTIONAL_FN_TYPE(ap_dbd_close) *dbd_close;

/* Process-wide: the schema is checked once per process, under a lock. */
static apr_thread_mutex_t *schema_lock;
static volatile int schema_ready;
static const char *code_key;

static void db_log(natomm_db *db, int level, const char *what)
{
    const char *err = db->dbd ? apr_dbd_error(db->dbd->driver, db->dbd->handle, 0)
                              : "no connection";
    if (db->r)
        ap_log_rerror(APLOG_MARK, level, 0, db->r, "NATOMM: database: %s: %s",
                      what, err ? err : "");
    else
        ap_log_error(APLOG_MARK, level, 0, db->s, "NATOMM: database: %s: %s",
                     what, err ? err : "");
}

static int is_sqlite(natomm_db *db)
{
    return !strcmp(apr_dbd_name(db->dbd->driver), "sqlite3");
}

static int is_pgsql(natomm_db *db)
{
    return !strcmp(apr_dbd_name(db->dbd->driver), "pgsql");
}

const char *natomm_db_num(apr_pool_t *p, apr_int64_t n)
{
    return apr_psprintf(p, "%" APR_INT64_T_FMT, n);
}

/* Column i of a row, or NULL for SQL NULL. apr_dbd_get_entry cannot say:
 * the pgsql driver returns "" for NULL. */
static const char *entry(natomm_db *db, apr_dbd_row_t *row, int i)
{
    char *v = NULL;

    if (apr_dbd_datum_get(db->dbd->driver, row, i, APR_DBD_TYPE_STRING, &v)
        != APR_SUCCESS || !v)
        return NULL;
    return apr_pstrdup(db->pool, v);
}

/* A plain query whose rows are read and dropped; -1 on error. */
static int raw_select(natomm_db *db, const char *sql, const char **first)
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
            *first = entry(db, row, 0);
        got = 1;
    }
    return got;
}

/* Runs schema SQL; on failure logs that it failed, never the text (one
 * statement carries the site key). */
static int raw_exec(natomm_db *db, const char *sql)
{
    int nrows = 0;
    if (apr_dbd_query(db->dbd->driver, db->dbd->handle, &nrows, sql)) {
        db->failed = 1;
        db_log(db, APLOG_ERR, "schema migration");
        return -1;
    }
    return nrows;
}

static int read_version(natomm_db *db)
{
    const char *v = NULL;
    if (raw_select(db, "SELECT value FROM natomm_meta WHERE name = 'schema_version'",
                   &v) <= 0 || !v)
        return 0;
    return atoi(v);
}

/* Creates or upgrades the schema in one transaction. Two servers starting
 * together serialise on the write lock (SQLite: BEGIN IMMEDIATE) or an
 * advisory lock (PostgreSQL), and the second finds the work done. */
static int migrate(natomm_db *db)
{
    int version, v, i;

    if (natomm_db_begin(db))
        return -1;
    if (is_pgsql(db))
        raw_select(db, "SELECT pg_advisory_xact_lock(7245400101)", NULL);
    /* SQLite: another process may have changed the schema since this
     * connection last read it, and the driver's sqlite3_prepare then fails
     * the next statement; one throwaway read under the write lock takes
     * that failure and reloads the schema */
    if (is_sqlite(db)) {
        raw_select(db, "SELECT COUNT(*) FROM sqlite_master", NULL);
        db->failed = 0;
    }
    raw_exec(db, "CREATE TABLE IF NOT EXISTS natomm_meta ("
                 " name VARCHAR(64) PRIMARY KEY, value VARCHAR(255) NOT NULL)");
    version = db->failed ? 0 : read_version(db);
    for (v = version; v < SCHEMA_VERSION && !db->failed; v++) {
        for (i = 0; migrations[v][i]; i++)
            raw_exec(db, migrations[v][i]);
    }
    if (version == 0 && !db->failed) {
        unsigned char raw[32];
        char *key = apr_palloc(db->pool, 65);
        int k;
        if (!natomm_random(raw, sizeof(raw)))
            db->failed = 1;
        for (k = 0; k < 32; k++)
            apr_snprintf(key + 2 * k, 3, "%02x", raw[k]);
        raw_exec(db, apr_psprintf(db->pool, "INSERT INTO natomm_meta (name, value)"
                                  " VALUES ('code_key', '%s')", key));
        raw_exec(db, "INSERT INTO natomm_meta (name, value) VALUES ('schema_version', '0')");
    }
    if (version < SCHEMA_VERSION)
        raw_exec(db, apr_psprintf(db->pool, "UPDATE natomm_meta SET value = '%d'"
                                  " WHERE name = 'schema_version'", SCHEMA_VERSION));
    if (natomm_db_commit(db))
        return -1;
    if (version < SCHEMA_VERSION)
        ap_log_error(APLOG_MARK, APLOG_NOTICE, 0, db->s,
                     "NATOMM: database schema migrated from version %d to %d",
                     version, SCHEMA_VERSION);
    return 0;
}

static int ensure_schema(natomm_db *db)
{
    const char *key = NULL;
    int rv = 0;

    if (schema_ready)
        return 0;
    if (schema_lock)
        apr_thread_mutex_lock(schema_lock);
    if (!schema_ready) {
        if (read_version(db) != SCHEMA_VERSION)
            rv = migrate(db);
        if (!rv && raw_select(db, "SELECT value FROM natomm_meta"
                              " WHERE name = 'code_key'", &key) == 1 && key) {
            /* process lifetime: the key is needed by every later request */
            code_key = strdup(key);
            schema_ready = code_key != NULL;
        }
        else {
            rv = -1;
        }
    }
    if (schema_lock)
        apr_thread_mutex_unlock(schema_lock);
    return rv;
}

/* SQLite settings that belong to each connection; the sysadmin need not
 * repeat them in DBDInitSQL. */
static void sqlite_pragmas(natomm_db *db)
{
    /* the timeout first: switching to WAL takes a lock another may hold */
    raw_select(db, "PRAGMA busy_timeout=5000", NULL);
    raw_select(db, "PRAGMA journal_mode=WAL", NULL);
    raw_select(db, "PRAGMA foreign_keys=ON", NULL);
}

static int prepare_all(natomm_db *db)
{
    apr_hash_t *prepared = db->dbd->prepared;
    int i;

    if (apr_hash_get(prepared, READY_LABEL, APR_HASH_KEY_STRING))
        return 0;
    if (is_sqlite(db))
        sqlite_pragmas(db);
    if (ensure_schema(db))
        return -1;
    for (i = 0; statements[i].label; i++) {
        apr_dbd_prepared_t *stmt = NULL;
        if (apr_dbd_prepare(db->dbd->driver, db->dbd->pool, db->dbd->handle,
                            statements[i].sql, statements[i].label, &stmt)) {
            db_log(db, APLOG_ERR, apr_pstrcat(db->pool, "preparing ",
                                              statements[i].label, NULL));
            return -1;
        }
        apr_hash_set(prepared, statements[i].label, APR_HASH_KEY_STRING, stmt);
    }
    apr_hash_set(prepared, READY_LABEL, APR_HASH_KEY_STRING, "");
    return 0;
}

static void lookup_fns(void)
{
    if (!dbd_acquire) {
        dbd_open = APR_RETRIEVE_OPTIONAL_FN(ap_dbd_open);
        dbd_close = APR_RETRIEVE_OPTIONAL_FN(ap_dbd_close);
        dbd_acquire = APR_RETRIEVE_OPTIONAL_FN(ap_dbd_acquire);
    }
}

void natomm_store_child_init(apr_pool_t *p)
{
    lookup_fns();
    apr_thread_mutex_create(&schema_lock, APR_THREAD_MUTEX_DEFAULT, p);
}

/* A transaction left open by an early return must not go back to the pool. */
static apr_status_t end_open_transaction(void *data)
{
    natomm_db *db = data;
    natomm_db_rollback(db);
    return APR_SUCCESS;
}

static natomm_db *ready(natomm_db *db)
{
    if (!db->dbd) {
        db_log(db, APLOG_ERR, "no connection");
        return NULL;
    }
    if (prepare_all(db)) {
        if (db->opened)
            natomm_db_close(db);
        return NULL;
    }
    apr_pool_cleanup_register(db->pool, db, end_open_transaction,
                              apr_pool_cleanup_null);
    return db;
}

natomm_db *natomm_db_acquire(request_rec *r)
{
    natomm_db *db = apr_pcalloc(r->pool, sizeof(*db));

    lookup_fns();
    db->r = r;
    db->s = r->server;
    db->pool = r->pool;
    db->dbd = dbd_acquire ? dbd_acquire(r) : NULL;
    return ready(db);
}

natomm_db *natomm_db_open(apr_pool_t *p, server_rec *s)
{
    natomm_db *db = apr_pcalloc(p, sizeof(*db));

    lookup_fns();
    db->s = s;
    db->pool = p;
    db->opened = 1;
    db->dbd = dbd_open ? dbd_open(p, s) : NULL;
    return ready(db);
}

void natomm_db_close(natomm_db *db)
{
    natomm_db_rollback(db);
    if (db->opened && db->dbd) {
        dbd_close(db->s, db->dbd);
        db->dbd = NULL;
    }
}

/* Transactions are plain SQL rather than apr_dbd_transaction_*: the pgsql
 * driver writes through a NULL transaction when BEGIN fails (a lost
 * server), and the sqlite3 driver's BEGIN is what we send anyway. */
static int control(natomm_db *db, const char *sql)
{
    int nrows = 0;
    return apr_dbd_query(db->dbd->driver, db->dbd->handle, &nrows, sql) ? -1 : 0;
}

int natomm_db_begin(natomm_db *db)
{
    db->failed = 0;
    /* SQLite: take the write lock now, so two writers queue, not deadlock */
    if (control(db, is_sqlite(db) ? "BEGIN IMMEDIATE" : "BEGIN")) {
        db_log(db, APLOG_ERR, "begin transaction");
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
        db_log(db, APLOG_ERR, "commit");
        failed = 1;
    }
    return failed ? -1 : 0;
}

void natomm_db_rollback(natomm_db *db)
{
    if (!db->in_transaction)
        return;
    db->in_transaction = 0;
    control(db, "ROLLBACK");
}

/* Parameters of a statement: its % signs, less the %% pairs. */
static int count_args(const char *sql)
{
    int n = 0;
    for (; *sql; sql++) {
        if (*sql == '%' && sql[1] == '%')
            sql++;
        else if (*sql == '%')
            n++;
    }
    return n;
}

static apr_dbd_prepared_t *statement(natomm_db *db, const char *label, int *nargs)
{
    apr_dbd_prepared_t *stmt = apr_hash_get(db->dbd->prepared, label,
                                            APR_HASH_KEY_STRING);
    int i;

    *nargs = 0;
    for (i = 0; statements[i].label; i++)
        if (!strcmp(statements[i].label, label))
            *nargs = count_args(statements[i].sql);
    if (!stmt)
        ap_log_error(APLOG_MARK, APLOG_CRIT, 0, db->s,
                     "NATOMM: unknown statement %s", label);
    return stmt;
}

int natomm_db_exec(natomm_db *db, const char *label, const char **args)
{
    int nargs, nrows = 0;
    apr_dbd_prepared_t *stmt = statement(db, label, &nargs);

    if (!stmt || apr_dbd_pquery(db->dbd->driver, db->pool, db->dbd->handle,
                                &nrows, stmt, nargs, args)) {
        db->failed = 1;
        db_log(db, APLOG_ERR, label);
        return -1;
    }
    return nrows;
}

int natomm_db_rows(natomm_db *db, const char *label, const char **args,
                   int ncols, apr_array_header_t **rows)
{
    int nargs;
    apr_dbd_prepared_t *stmt = statement(db, label, &nargs);
    apr_dbd_results_t *res = NULL;
    apr_dbd_row_t *row = NULL;

    *rows = apr_array_make(db->pool, 4, sizeof(const char **));
    if (!stmt || apr_dbd_pselect(db->dbd->driver, db->pool, db->dbd->handle,
                                 &res, stmt, 1, nargs, args)) {
        db->failed = 1;
        db_log(db, APLOG_ERR, label);
        return -1;
    }
    while (apr_dbd_get_row(db->dbd->driver, db->pool, res, &row, -1) == 0) {
        const char **cols = apr_pcalloc(db->pool, ncols * sizeof(*cols));
        int i;
        for (i = 0; i < ncols; i++)
            cols[i] = entry(db, row, i);
        APR_ARRAY_PUSH(*rows, const char **) = cols;
    }
    return (*rows)->nelts;
}

int natomm_db_row(natomm_db *db, const char *label, const char **args,
                  const char **cols, int ncols)
{
    apr_array_header_t *rows;
    int n = natomm_db_rows(db, label, args, ncols, &rows);

    if (n <= 0)
        return n;
    memcpy(cols, APR_ARRAY_IDX(rows, 0, const char **), ncols * sizeof(*cols));
    return 1;
}

const char *natomm_db_code_key(natomm_db *db)
{
    (void)db;
    return code_key;
}

void natomm_db_purge(natomm_db *db, apr_int64_t unverified_lifetime)
{
    apr_int64_t now = natomm_now();
    const char *n = natomm_db_num(db->pool, now), *week;

    /* kept a day past expiry, so a late try still hears "code_expired" */
    natomm_db_exec(db, "natomm_purge_codes",
                   (const char *[]){natomm_db_num(db->pool, now - 86400)});
    natomm_db_exec(db, "natomm_purge_sessions", (const char *[]){n, n});
    natomm_db_exec(db, "natomm_purge_reset", (const char *[]){n});
    /* throttle windows are at most a day; code requests are looked back
     * on as long as codes are kept (lifetime, at most a day, plus a day) */
    natomm_db_exec(db, "natomm_purge_throttle",
                   (const char *[]){natomm_db_num(db->pool, now - 2 * 86400)});
    natomm_db_exec(db, "natomm_purge_unverified", (const char *[]){
        natomm_db_num(db->pool, now - unverified_lifetime)});
    week = natomm_db_num(db->pool, now - 7 * 86400);
    natomm_db_exec(db, "natomm_purge_outbox", (const char *[]){week, week});
}
