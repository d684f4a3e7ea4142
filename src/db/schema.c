/* The schema: created on first start, migrated on upgrade, with a version
 * number in natomm_meta (see natomm_db.h). A released version's list is
 * never edited: a change is a new numbered list. */
#include "natomm_db.h"
#include <string.h>
#include <stdlib.h>
#include "natomm_db_internal.h"
#include "http_log.h"
#include "apr_strings.h"
#include "apr_thread_mutex.h"
#include "natomm_cfg.h"
#include "natomm_crypto.h"

#define SCHEMA_VERSION NATOMM_SQL_SCHEMA_VERSION

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

/* Version 3. Two released builds edited version 1 in place (the code's
 * payload was added, next_attempt_at became next_attempt_ms) and kept the
 * number, so a version 1 or 2 database may have either shape: repair_v3
 * brings each to today's before these run. */
static const char *const schema_v3[] = {
    /* the client that asked for a code: a new code voids only the same
     * client's older ones */
    "ALTER TABLE natomm_code ADD COLUMN client VARCHAR(64)",
    /* provisional events are taken back by id */
    "ALTER TABLE natomm_throttle ADD COLUMN id BIGINT",
    /* consecutive wrong codes per address and purpose, across codes */
    "CREATE TABLE IF NOT EXISTS natomm_miss ("
    " bucket VARCHAR(96) PRIMARY KEY,"
    " misses INTEGER NOT NULL,"
    " last_at BIGINT NOT NULL)",
    /* the login lockout per account and client address */
    "CREATE TABLE IF NOT EXISTS natomm_lock ("
    " account_id BIGINT NOT NULL REFERENCES natomm_account(id) ON DELETE CASCADE,"
    " client VARCHAR(64) NOT NULL,"
    " failures INTEGER NOT NULL DEFAULT 0,"
    " locked_until BIGINT NOT NULL DEFAULT 0,"
    " last_at BIGINT NOT NULL DEFAULT 0,"
    /* failures counted when the lock was last set */
    " base INTEGER NOT NULL DEFAULT 0,"
    " PRIMARY KEY (account_id, client))",
    /* every node reads it into its revocation state */
    "CREATE TABLE IF NOT EXISTS natomm_revocation ("
    " account_id BIGINT NOT NULL,"
    " at_ms BIGINT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS natomm_revocation_at ON natomm_revocation (at_ms)",
    /* natommctl disable */
    "ALTER TABLE natomm_account ADD COLUMN disabled_at BIGINT",
    /* download links made before this (ms) are void: logout of all
     * sessions, a password change or reset, a disable */
    "ALTER TABLE natomm_account ADD COLUMN links_after BIGINT NOT NULL DEFAULT 0",
    /* the addresses of subscribers who deleted their account, for the
     * export's ?since= (purged after 90 days) */
    "CREATE TABLE IF NOT EXISTS natomm_withdrawal ("
    " id BIGINT PRIMARY KEY,"
    " email VARCHAR(254) NOT NULL,"
    " subscribed_at BIGINT,"
    " at BIGINT NOT NULL)",
    NULL
};

static const char *const *const migrations[SCHEMA_VERSION] = {
    schema_v1, schema_v2, schema_v3
};

/* Whether a table has a column, from the driver's catalogue. */
static int has_column(natomm_db *db, const char *table, const char *column)
{
    const char *n = NULL;
    const char *sql = natomm_db_is_sqlite(db)
        ? apr_psprintf(db->pool, "SELECT COUNT(*) FROM pragma_table_info('%s')"
                       " WHERE name = '%s'", table, column)
        : apr_psprintf(db->pool, "SELECT COUNT(*) FROM information_schema.columns"
                       " WHERE table_schema = current_schema()"
                       " AND table_name = '%s' AND column_name = '%s'", table, column);

    return natomm_db_raw_select(db, sql, &n) == 1 && n && atoi(n) > 0;
}

/* The shapes of version 1 and 2 that builds 699278e to 03fb51e made. */
static void repair_v3(natomm_db *db)
{
    if (!has_column(db, "natomm_code", "payload"))
        natomm_db_raw_exec(db, "ALTER TABLE natomm_code ADD COLUMN payload VARCHAR(255)");
    if (has_column(db, "natomm_outbox", "next_attempt_ms"))
        return;
    natomm_db_raw_exec(db, "ALTER TABLE natomm_outbox ADD COLUMN next_attempt_ms"
                           " BIGINT NOT NULL DEFAULT 0");
    natomm_db_raw_exec(db, "UPDATE natomm_outbox SET next_attempt_ms = next_attempt_at * 1000");
    /* the old column is NOT NULL and in an index: both go */
    natomm_db_raw_exec(db, "DROP INDEX IF EXISTS natomm_outbox_due");
    natomm_db_raw_exec(db, "ALTER TABLE natomm_outbox DROP COLUMN next_attempt_at");
    natomm_db_raw_exec(db, "CREATE INDEX IF NOT EXISTS natomm_outbox_due"
                           " ON natomm_outbox (sent_at, next_attempt_ms)");
}


/* Migrations of one process run one at a time (other processes and servers
 * wait on the database's own lock). */
static apr_thread_mutex_t *schema_lock;

/* A random hex value under name in natomm_meta, made if it is not there. */
static void meta_key(natomm_db *db, const char *name, int bytes)
{
    const char *have = NULL;
    unsigned char raw[32];
    char hex[65];
    int k;

    if (db->failed || natomm_db_raw_select(db, apr_psprintf(db->pool,
            "SELECT value FROM natomm_meta WHERE name = '%s'", name), &have) != 0)
        return;
    if (!natomm_random(raw, bytes)) {
        db->failed = 1;
        return;
    }
    for (k = 0; k < bytes; k++)
        apr_snprintf(hex + 2 * k, 3, "%02x", raw[k]);
    natomm_db_raw_exec(db, apr_psprintf(db->pool, "INSERT INTO natomm_meta"
                                        " (name, value) VALUES ('%s', '%s')", name, hex));
}

static const char *meta(natomm_db *db, const char *name)
{
    const char *v = NULL;
    if (natomm_db_raw_select(db, apr_psprintf(db->pool, "SELECT value FROM natomm_meta"
                                              " WHERE name = '%s'", name), &v) != 1)
        return NULL;
    return v;
}

static int read_version(natomm_db *db)
{
    const char *v = NULL;
    if (natomm_db_raw_select(db, "SELECT value FROM natomm_meta WHERE name = 'schema_version'",
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
    if (natomm_db_is_pgsql(db))
        natomm_db_raw_select(db, "SELECT pg_advisory_xact_lock(7245400101)", NULL);
    /* SQLite: another process may have changed the schema since this
     * connection last read it, and the driver's sqlite3_prepare then fails
     * the next statement; one throwaway read under the write lock takes
     * that failure and reloads the schema */
    if (natomm_db_is_sqlite(db)) {
        natomm_db_raw_select(db, "SELECT COUNT(*) FROM sqlite_master", NULL);
        db->failed = 0;
    }
    natomm_db_raw_exec(db, "CREATE TABLE IF NOT EXISTS natomm_meta ("
                 " name VARCHAR(64) PRIMARY KEY, value VARCHAR(255) NOT NULL)");
    version = db->failed ? 0 : read_version(db);
    for (v = version; v < SCHEMA_VERSION && !db->failed; v++) {
        if (v == 2 && version > 0)
            repair_v3(db);
        for (i = 0; migrations[v][i]; i++)
            natomm_db_raw_exec(db, migrations[v][i]);
    }
    if (version == 0)
        natomm_db_raw_exec(db, "INSERT INTO natomm_meta (name, value)"
                               " VALUES ('schema_version', '0')");
    /* the code key came with version 1; the identity and the link key with 3 */
    meta_key(db, "code_key", 32);
    meta_key(db, "db_id", 16);
    meta_key(db, "link_key", 32);
    if (version < SCHEMA_VERSION)
        natomm_db_raw_exec(db, apr_psprintf(db->pool, "UPDATE natomm_meta SET value = '%d'"
                                  " WHERE name = 'schema_version'", SCHEMA_VERSION));
    if (natomm_db_commit(db))
        return -1;
    if (version < SCHEMA_VERSION)
        ap_log_error(APLOG_MARK, APLOG_NOTICE, 0, db->s,
                     "NATOMM: database schema migrated from version %d to %d",
                     version, SCHEMA_VERSION);
    return 0;
}

int natomm_db_schema_ensure(natomm_db *db, const char **id, const char **code_key,
                            const char **link_key)
{
    int rv = 0;

    if (read_version(db) != SCHEMA_VERSION) {
        if (schema_lock)
            apr_thread_mutex_lock(schema_lock);
        if (read_version(db) != SCHEMA_VERSION)
            rv = migrate(db);
        if (schema_lock)
            apr_thread_mutex_unlock(schema_lock);
    }
    if (rv)
        return -1;
    *id = meta(db, "db_id");
    *code_key = meta(db, "code_key");
    *link_key = meta(db, "link_key");
    return *id && *code_key && *link_key ? 0 : -1;
}

void natomm_db_schema_child_init(apr_pool_t *p)
{
    apr_thread_mutex_create(&schema_lock, APR_THREAD_MUTEX_DEFAULT, p);
}
