/* natommctl: the command-line tool of mod_natomm (see natommctl.8).
 *
 * It is not part of httpd: it reads the server's configuration files for
 * DBDriver and DBDParams (conf.c), talks to that database with APR-util's
 * apr_dbd directly (db.c), and runs the module's own statements
 * (src/db/sql.c, natomm_sql.h) and pure units (src/core/: the address key,
 * the unsubscribe token, the CSV writer), so what it reads and writes is
 * what the module reads and writes. */
#ifndef NATOMM_CTL_H
#define NATOMM_CTL_H

#include "apr_pools.h"
#include "apr_tables.h"
#include "apr_hash.h"
#include "apr_dbd.h"
#include "natomm_sql.h"

/* exit codes */
#define CTL_OK          0
#define CTL_NOT_FOUND   1
#define CTL_USAGE       2
#define CTL_UNAVAILABLE 3

/* Debian's compiled-in ServerRoot, and its main configuration file */
#define CTL_SERVER_ROOT "/etc/apache2"
#define CTL_DEFAULT_CONF "/etc/apache2/apache2.conf"

/* ---- conf.c: httpd's configuration ------------------------------------ */

/* What natommctl needs of one server (the main server, or a virtual host):
 * unset values are inherited from the main server, as httpd merges them. */
typedef struct {
    const char *driver, *params;     /* DBDriver, DBDParams */
    const char *public_url;          /* NatommPublicURL */
    const char *mount;               /* the <Location> of SetHandler natomm */
    const char *server_name;         /* ServerName */
    const char *where;               /* "file:line" of its <VirtualHost> */
} ctl_scope_t;

typedef struct {
    apr_array_header_t *scopes;      /* ctl_scope_t *: [0] the main server */
    const char *server_root;
} ctl_conf_t;

/* Reads path and every file it includes (Include, IncludeOptional, globs,
 * folders; relative paths against ServerRoot), resolving <IfModule>,
 * <IfDefine> and ${VAR}. NULL, or why not. */
const char *ctl_conf_read(apr_pool_t *p, const char *path, ctl_conf_t *conf);

/* The scope whose database to use: the one named by vhost (its ServerName,
 * or "main"), else the only database configured. NULL and *err (usage)
 * when there is none, or several and no choice. */
const ctl_scope_t *ctl_conf_pick(apr_pool_t *p, const ctl_conf_t *conf,
                                 const char *vhost, const char **err);

/* ---- db.c: the database ----------------------------------------------- */

typedef struct {
    apr_pool_t *pool;
    apr_pool_t *rows_pool;           /* where rows go, if not pool (a page's) */
    const apr_dbd_driver_t *driver;
    apr_dbd_t *handle;
    apr_dbd_prepared_t *stmt[NATOMM_SQL_COUNT];
    int sqlite, in_transaction;
    const char *code_key;            /* natomm_meta.code_key */
} ctl_db_t;

/* Opens the database of driver/params and checks its schema: NULL and
 * *err (exit 3) when it cannot. A SQLite file is never created (httpd
 * makes it), and a root natommctl works as the file's owner. */
ctl_db_t *ctl_db_open(apr_pool_t *p, const char *driver, const char *params,
                      const char **err);
void ctl_db_close(ctl_db_t *db);

int ctl_db_begin(ctl_db_t *db);
int ctl_db_commit(ctl_db_t *db);
void ctl_db_rollback(ctl_db_t *db);
/* PostgreSQL: the lock a name's check-then-write takes in httpd too. */
int ctl_db_lock(ctl_db_t *db, const char *name);

/* As natomm_db_exec, natomm_db_rows and natomm_db_row (natomm_db.h). */
int ctl_db_exec(ctl_db_t *db, natomm_sql_t st, const char **args);
int ctl_db_rows(ctl_db_t *db, natomm_sql_t st, const char **args,
                apr_array_header_t **rows);
int ctl_db_row(ctl_db_t *db, natomm_sql_t st, const char **args, const char **cols);

/* The driver's last error, for a message. */
const char *ctl_db_error(ctl_db_t *db);
const char *ctl_num(apr_pool_t *p, apr_int64_t n);

#endif
