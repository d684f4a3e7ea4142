/* Retention: what is deleted, and when (see natomm_db.h). */
#include "natomm_db.h"
#include "natomm_db_internal.h"
#include "natomm_clock.h"

void natomm_db_purge(natomm_db *db, apr_int64_t unverified_lifetime)
{
    apr_int64_t now = natomm_now();
    const char *n = natomm_db_num(db->pool, now), *week;

    /* kept a day past expiry, so a late try still hears "code_expired" */
    natomm_db_exec(db, NATOMM_SQL_PURGE_CODES,
                   (const char *[]){natomm_db_num(db->pool, now - 86400)});
    natomm_db_exec(db, NATOMM_SQL_PURGE_SESSIONS, (const char *[]){n, n});
    natomm_db_exec(db, NATOMM_SQL_PURGE_RESET, (const char *[]){n});
    /* throttle windows are at most a day; code requests are looked back
     * on as long as codes are kept (lifetime, at most a day, plus a day);
     * a pending account's registrations as long as it lives (a second one
     * makes its verification name the password) */
    natomm_db_exec(db, NATOMM_SQL_PURGE_THROTTLE, (const char *[]){natomm_db_num(
        db->pool, now - (unverified_lifetime > 2 * 86400 ? unverified_lifetime
                                                         : 2 * 86400))});
    /* counts of wrong codes and failed logins are forgotten a day after the
     * last one, once no lock they set is running */
    natomm_db_exec(db, NATOMM_SQL_PURGE_MISSES,
                   (const char *[]){natomm_db_num(db->pool, now - 86400)});
    natomm_db_exec(db, NATOMM_SQL_PURGE_LOCKS,
                   (const char *[]){n, natomm_db_num(db->pool, now - 86400)});
    natomm_db_exec(db, NATOMM_SQL_PURGE_UNVERIFIED, (const char *[]){
        natomm_db_num(db->pool, now - unverified_lifetime)});
    /* revocations are read within seconds; a day covers any watchdog that
     * was away and every cache lifetime */
    natomm_db_exec(db, NATOMM_SQL_PURGE_REVOCATIONS,
                   (const char *[]){natomm_db_num(db->pool, (now - 86400) * 1000)});
    /* a deleted subscriber's address, for the export's ?since= */
    natomm_db_exec(db, NATOMM_SQL_PURGE_WITHDRAWALS,
                   (const char *[]){natomm_db_num(db->pool, now - 90 * 86400)});
    week = natomm_db_num(db->pool, now - 7 * 86400);
    natomm_db_exec(db, NATOMM_SQL_PURGE_OUTBOX, (const char *[]){week, week});
}
