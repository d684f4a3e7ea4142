/* natommctl's database (see ctl.h): apr_dbd without mod_dbd, the module's
 * statement table, and the same care for a live server: SQLite waits for
 * httpd's writers (busy_timeout) and keeps its foreign keys, PostgreSQL
 * takes the address locks httpd takes. */
#include "ctl.h"
#include <string.h>
#include <stdlib.h>
#include <unistd.h>
#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include "apr_strings.h"

/* SQLite: how long a write waits for httpd's (ms) */
#define BUSY_MS "10000"

const char *ctl_num(apr_pool_t *p, apr_int64_t n)
{
    return apr_psprintf(p, "%" APR_INT64_T_FMT, n);
}

const char *ctl_db_error(ctl_db_t *db)
{
    const char *e = apr_dbd_error(db->driver, db->handle, 0);
    return e && *e ? e : "unknown error";
}

/* Plain SQL, rows drained; *first gets the first column of the first row.
 * Rows seen (0 or 1), or -1. */
static int raw_select(ctl_db_t *db, const char *sql, const char **first)
{
    apr_dbd_results_t *res = NULL;
    apr_dbd_row_t *row = NULL;
    int got = 0;

    if (apr_dbd_select(db->driver, db->pool, db->handle, &res, sql, 1))
        return -1;
    while (apr_dbd_get_row(db->driver, db->pool, res, &row, -1) == 0) {
        char *v = NULL;
        if (!got && first && apr_dbd_datum_get(db->driver, row, 0, APR_DBD_TYPE_STRING,
                                               &v) == APR_SUCCESS && v)
            *first = apr_pstrdup(db->pool, v);
        got = 1;
    }
    return got;
}

static int control(ctl_db_t *db, const char *sql)
{
    int n = 0;
    return apr_dbd_query(db->driver, db->handle, &n, sql) ? -1 : 0;
}

/* Run as root on a SQLite file: work as its owner, so that whatever SQLite
 * creates beside it (-wal, -shm) stays the server's. */
static const char *become_owner(apr_pool_t *p, const char *path)
{
    struct stat st;
    struct passwd *pw;

    if (geteuid() != 0 || stat(path, &st) != 0 || st.st_uid == 0)
        return NULL;
    pw = getpwuid(st.st_uid);
    if ((pw ? initgroups(pw->pw_name, st.st_gid) : setgroups(0, NULL)) != 0
        || setgid(st.st_gid) != 0 || setuid(st.st_uid) != 0)
        return apr_psprintf(p, "cannot switch to the owner of %s", path);
    return NULL;
}

static const char *check_schema(ctl_db_t *db)
{
    const char *v = NULL;
    int version;

    if (raw_select(db, "SELECT value FROM natomm_meta WHERE name = 'schema_version'",
                   &v) <= 0 || !v)
        return "the database has no mod_natomm schema yet: start httpd with the "
               "module once, it creates it";
    version = atoi(v);
    if (version < NATOMM_SQL_SCHEMA_VERSION)
        return apr_psprintf(db->pool, "the database has schema version %d, natommctl "
                            "needs %d: start the upgraded httpd once, it migrates it",
                            version, NATOMM_SQL_SCHEMA_VERSION);
    if (version > NATOMM_SQL_SCHEMA_VERSION)
        return apr_psprintf(db->pool, "the database has schema version %d, newer than "
                            "this natommctl (%d): use the natommctl of the module that "
                            "serves it", version, NATOMM_SQL_SCHEMA_VERSION);
    if (raw_select(db, "SELECT value FROM natomm_meta WHERE name = 'code_key'",
                   &db->code_key) <= 0 || !db->code_key)
        return "the database has no site key (natomm_meta.code_key)";
    return NULL;
}

ctl_db_t *ctl_db_open(apr_pool_t *p, const char *driver, const char *params,
                      const char **err)
{
    ctl_db_t *db = apr_pcalloc(p, sizeof(*db));
    const char *why = NULL;

    db->pool = p;
    *err = NULL;
    apr_dbd_init(p);
    if (apr_dbd_get_driver(p, driver, &db->driver) != APR_SUCCESS) {
        *err = apr_psprintf(p, "no apr_dbd driver %s (Debian: apt-get install "
                            "libaprutil1-dbd-%s)", driver,
                            !strcmp(driver, "sqlite3") ? "sqlite3" : driver);
        return NULL;
    }
    db->sqlite = !strcmp(driver, "sqlite3");
    if (db->sqlite) {
        struct stat st;
        /* never a new, empty database where httpd would not look */
        if (!params || stat(params, &st) != 0) {
            *err = apr_psprintf(p, "no SQLite database at %s (httpd creates it when "
                                "it starts)", params ? params : "(no DBDParams)");
            return NULL;
        }
        if ((*err = become_owner(p, params)))
            return NULL;
    }
    if (apr_dbd_open_ex(db->driver, p, params ? params : "", &db->handle, &why)
        != APR_SUCCESS || !db->handle) {
        *err = apr_psprintf(p, "cannot connect to the %s database: %s", driver,
                            why ? why : "no reason given");
        return NULL;
    }
    if (db->sqlite) {
        raw_select(db, "PRAGMA busy_timeout=" BUSY_MS, NULL);
        /* an account's sessions, codes and tokens go with it */
        raw_select(db, "PRAGMA foreign_keys=ON", NULL);
    }
    if ((*err = check_schema(db))) {
        ctl_db_close(db);
        return NULL;
    }
    natomm_sql_init();
    return db;
}

void ctl_db_close(ctl_db_t *db)
{
    if (db->handle) {
        ctl_db_rollback(db);
        apr_dbd_close(db->driver, db->handle);
        db->handle = NULL;
    }
}

int ctl_db_begin(ctl_db_t *db)
{
    /* SQLite: the write lock at once, waiting up to busy_timeout for it */
    if (control(db, db->sqlite ? "BEGIN IMMEDIATE" : "BEGIN"))
        return -1;
    db->in_transaction = 1;
    return 0;
}

int ctl_db_commit(ctl_db_t *db)
{
    if (!db->in_transaction)
        return -1;
    db->in_transaction = 0;
    if (control(db, "COMMIT")) {
        control(db, "ROLLBACK");
        return -1;
    }
    return 0;
}

void ctl_db_rollback(ctl_db_t *db)
{
    if (db->in_transaction) {
        db->in_transaction = 0;
        control(db, "ROLLBACK");
    }
}

static apr_dbd_prepared_t *statement(ctl_db_t *db, natomm_sql_t st)
{
    const natomm_sql_statement_t *def = natomm_sql(st);

    if (!db->stmt[st] && apr_dbd_prepare(db->driver, db->pool, db->handle, def->sql,
                                         def->label, &db->stmt[st]))
        db->stmt[st] = NULL;
    return db->stmt[st];
}

int ctl_db_exec(ctl_db_t *db, natomm_sql_t st, const char **args)
{
    apr_dbd_prepared_t *stmt = statement(db, st);
    int n = 0;

    if (!stmt || apr_dbd_pquery(db->driver, db->pool, db->handle, &n, stmt,
                                natomm_sql(st)->nargs, args))
        return -1;
    return n;
}

int ctl_db_rows(ctl_db_t *db, natomm_sql_t st, const char **args,
                apr_array_header_t **rows)
{
    const natomm_sql_statement_t *def = natomm_sql(st);
    apr_dbd_prepared_t *stmt = statement(db, st);
    apr_pool_t *p = db->rows_pool ? db->rows_pool : db->pool;
    apr_dbd_results_t *res = NULL;
    apr_dbd_row_t *row = NULL;

    *rows = apr_array_make(p, 8, sizeof(const char **));
    if (!stmt || apr_dbd_pselect(db->driver, p, db->handle, &res, stmt, 1,
                                 def->nargs, args))
        return -1;
    while (apr_dbd_get_row(db->driver, p, res, &row, -1) == 0) {
        const char **cols = apr_pcalloc(p, (def->ncols ? def->ncols : 1) * sizeof(*cols));
        int i;
        for (i = 0; i < def->ncols; i++) {
            char *v = NULL;
            /* NULL is told apart from "" (the pgsql driver gives "" for both) */
            if (apr_dbd_datum_get(db->driver, row, i, APR_DBD_TYPE_STRING, &v)
                == APR_SUCCESS && v)
                cols[i] = apr_pstrdup(p, v);
        }
        APR_ARRAY_PUSH(*rows, const char **) = cols;
    }
    return (*rows)->nelts;
}

int ctl_db_row(ctl_db_t *db, natomm_sql_t st, const char **args, const char **cols)
{
    apr_array_header_t *rows;
    int n = ctl_db_rows(db, st, args, &rows);

    if (n <= 0)
        return n;
    memcpy(cols, APR_ARRAY_IDX(rows, 0, const char **),
           natomm_sql(st)->ncols * sizeof(*cols));
    return 1;
}

int ctl_db_lock(ctl_db_t *db, const char *name)
{
    apr_array_header_t *rows;

    if (db->sqlite)
        return 0;                     /* BEGIN IMMEDIATE: one writer anyway */
    return ctl_db_rows(db, NATOMM_SQL_PG_LOCK, (const char *[]){name}, &rows) < 0 ? -1 : 0;
}
