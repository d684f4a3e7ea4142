/* Connections from mod_dbd (see natomm_db.h). */
#include "natomm_db.h"
#include <string.h>
#include "natomm_db_internal.h"
#include "http_log.h"
#include "apr_strings.h"
#include "apr_optional.h"
#include "natomm_cfg.h"

/* the key of natomm_db_handle_t in a handle's "prepared" hash */
#define HANDLE_KEY "natomm__handle"

static APR_OPTIONAL_FN_TYPE(ap_dbd_acquire) *dbd_acquire;
static APR_OPTIONAL_FN_TYPE(ap_dbd_open) *dbd_open;
static APR_OPTIONAL_FN_TYPE(ap_dbd_close) *dbd_close;

/* SQLite settings that belong to each connection; the sysadmin need not
 * repeat them in DBDInitSQL. */
static void sqlite_pragmas(natomm_db *db)
{
    /* no waiting inside the driver, which would hold its process-wide
     * mutex all the while: natomm_db_begin waits for the write lock */
    natomm_db_raw_select(db, "PRAGMA busy_timeout=0", NULL);
    natomm_db_raw_select(db, "PRAGMA journal_mode=WAL", NULL);
    natomm_db_raw_select(db, "PRAGMA foreign_keys=ON", NULL);
    /* WAL: a commit is durable once checkpointed; a power cut may lose the
     * last commits but never corrupts the file, and no commit waits for a
     * disk flush (SQLite docs, "WAL mode": synchronous=NORMAL) */
    natomm_db_raw_select(db, "PRAGMA synchronous=NORMAL", NULL);
}

/* A handle new to mod_natomm gets its settings and a schema check; its
 * statements are prepared as they are first used. */
static int handle_state(natomm_db *db)
{
    apr_hash_t *prepared = db->dbd->prepared;
    const char *id, *code_key, *link_key;
    natomm_db_handle_t *h = apr_hash_get(prepared, HANDLE_KEY, APR_HASH_KEY_STRING);

    if (!h) {
        if (natomm_db_is_sqlite(db))
            sqlite_pragmas(db);
        natomm_db_session_settings(db);
        if (natomm_db_schema_ensure(db, &id, &code_key, &link_key))
            return -1;
        h = apr_pcalloc(db->dbd->pool, sizeof(*h));
        h->site = natomm_db_site_find(id, code_key, link_key, natomm_db_is_sqlite(db));
        apr_hash_set(prepared, HANDLE_KEY, APR_HASH_KEY_STRING, h);
    }
    db->handle = h;
    natomm_db_note_connection(db);
    /* the gate finds its database's cache entries without a connection */
    natomm_cfg_server(db->s)->site = h->site;
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

void natomm_db_child_init(apr_pool_t *p)
{
    lookup_fns();
    natomm_sql_init();
    natomm_db_schema_child_init(p);
    natomm_db_site_child_init(p);
}

/* A transaction left open by an early return must not go back to the pool. */
static apr_status_t end_open_transaction(void *data)
{
    natomm_db_rollback(data);
    return APR_SUCCESS;
}

static natomm_db *ready(natomm_db *db)
{
    if (!db->dbd) {
        natomm_db_log(db, APLOG_ERR, "no connection");
        return NULL;
    }
    if (handle_state(db)) {
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
