/* The statement table (see natomm_sql.h).
 *
 * One SQL text serves SQLite and PostgreSQL: numbers are passed as %lld
 * (the pgsql driver declares %s parameters as varchar), identifiers are
 * random 63-bit integers made by the caller (no SERIAL/AUTOINCREMENT
 * difference), times are Unix seconds in BIGINT columns.
 */
#include "natomm_sql.h"
#include <stddef.h>

#define S(label, sql) {label, sql, 0, 0}
#define Q(label, sql, ncols) {label, sql, ncols, 0}

static natomm_sql_statement_t statements[NATOMM_SQL_COUNT] = {
    [NATOMM_SQL_ACCT_BY_EMAIL] = Q("natomm_acct_by_email",
     "SELECT " NATOMM_ACCT_COLUMNS " FROM natomm_account WHERE email_norm = %s",
     ACCT_NCOLS),
    [NATOMM_SQL_ACCT_BY_ID] = Q("natomm_acct_by_id",
     "SELECT " NATOMM_ACCT_COLUMNS " FROM natomm_account WHERE id = %lld",
     ACCT_NCOLS),
    [NATOMM_SQL_ACCT_INSERT] = S("natomm_acct_insert",
     "INSERT INTO natomm_account (id, email, email_norm, password_hash, name,"
     " organisation, language, created_at) VALUES (%lld, %s, %s, %s, %s, %s, %s, %lld)"),
    [NATOMM_SQL_ACCT_UPDATE_PENDING] = S("natomm_acct_update_pending",
     "UPDATE natomm_account SET email = %s, name = %s,"
     " organisation = %s, language = %s WHERE id = %lld AND verified_at IS NULL"),
    [NATOMM_SQL_ACCT_VERIFY] = S("natomm_acct_verify",
     "UPDATE natomm_account SET verified_at = %lld, password_hash = %s"
     " WHERE id = %lld AND verified_at IS NULL"),
    [NATOMM_SQL_ACCT_SET_PASSWORD] = S("natomm_acct_set_password",
     "UPDATE natomm_account SET password_hash = %s WHERE id = %lld"),
    [NATOMM_SQL_ACCT_LOGIN_FAILED] = S("natomm_acct_login_failed2",
     "UPDATE natomm_account SET failed_logins = failed_logins + 1 WHERE id = %lld"),
    [NATOMM_SQL_ACCT_LOGIN_OK] = S("natomm_acct_login_ok",
     "UPDATE natomm_account SET failed_logins = 0, locked_until = 0"
     " WHERE id = %lld"),
    [NATOMM_SQL_ACCT_DELETE] = S("natomm_acct_delete",
     "DELETE FROM natomm_account WHERE id = %lld"),
    [NATOMM_SQL_LOCK_BUMP] = S("natomm_lock_bump",
     "INSERT INTO natomm_lock (account_id, client, failures, locked_until, last_at)"
     " VALUES (%lld, %s, 1, 0, %lld) ON CONFLICT (account_id, client)"
     " DO UPDATE SET failures = natomm_lock.failures + 1, last_at = %lld"),
    [NATOMM_SQL_LOCK_UNBUMP] = S("natomm_lock_unbump",
     "UPDATE natomm_lock SET failures = failures - 1"
     " WHERE account_id = %lld AND client = %s AND failures > 0"),
    [NATOMM_SQL_ACCT_LOGIN_UNFAIL] = S("natomm_acct_login_unfail",
     "UPDATE natomm_account SET failed_logins = failed_logins - 1"
     " WHERE id = %lld AND failed_logins > 0"),
    [NATOMM_SQL_LOCK_GET] = Q("natomm_lock_get",
     "SELECT " NATOMM_LOCK_COLUMNS " FROM natomm_lock"
     " WHERE account_id = %lld AND client = %s", LOCK_NCOLS),
    [NATOMM_SQL_LOCK_SET] = S("natomm_lock_set",
     "UPDATE natomm_lock SET locked_until = %lld, base = failures"
     " WHERE account_id = %lld AND client = %s AND locked_until < %lld"),
    [NATOMM_SQL_LOCK_CLEAR] = S("natomm_lock_clear",
     "DELETE FROM natomm_lock WHERE account_id = %lld AND client = %s"),
    [NATOMM_SQL_LOCK_CLEAR_ACCOUNT] = S("natomm_lock_clear_account",
     "DELETE FROM natomm_lock WHERE account_id = %lld"),
    [NATOMM_SQL_ACCT_LINKS_REVOKE] = S("natomm_acct_links_revoke",
     "UPDATE natomm_account SET links_after = %lld WHERE id = %lld"),
    [NATOMM_SQL_ACCT_LINK_STATE] = Q("natomm_acct_link_state",
     "SELECT " NATOMM_LINK_STATE_COLUMNS " FROM natomm_account WHERE id = %lld",
     LINKST_NCOLS),
    [NATOMM_SQL_NEWS_SUBSCRIBE] = S("natomm_news_subscribe",
     "UPDATE natomm_account SET newsletter = 1, newsletter_at = %lld,"
     " newsletter_ip = %s, newsletter_withdrawn_at = NULL"
     " WHERE id = %lld AND newsletter = 0"),
    [NATOMM_SQL_NEWS_UNSUBSCRIBE] = S("natomm_news_unsubscribe",
     "UPDATE natomm_account SET newsletter = 0, newsletter_withdrawn_at = %lld"
     " WHERE id = %lld AND newsletter = 1"),

    [NATOMM_SQL_CODE_INSERT] = S("natomm_code_insert2",
     "INSERT INTO natomm_code (id, account_id, purpose, code_mac, payload,"
     " attempts_left, created_at, expires_at, client)"
     " VALUES (%lld, %lld, %s, %s, %s, %lld, %lld, %lld, %s)"),
    [NATOMM_SQL_CODE_DELETE] = S("natomm_code_delete",
     "DELETE FROM natomm_code WHERE account_id = %lld AND purpose = %s"),
    [NATOMM_SQL_CODE_LIST] = Q("natomm_code_list",
     "SELECT " NATOMM_CODE_COLUMNS " FROM natomm_code"
     " WHERE account_id = %lld AND purpose = %s ORDER BY created_at DESC, id",
     CODE_NCOLS),
    /* a wrong entry uses one try of every live code of the address */
    [NATOMM_SQL_CODE_FAIL] = S("natomm_code_fail2",
     "UPDATE natomm_code SET attempts_left = attempts_left - 1"
     " WHERE account_id = %lld AND purpose = %s AND attempts_left > 0"),
    [NATOMM_SQL_CODE_DELETE_CLIENT] = S("natomm_code_delete_client",
     "DELETE FROM natomm_code WHERE account_id = %lld AND purpose = %s"
     " AND client = %s"),
    [NATOMM_SQL_CODE_DELETE_ID] = S("natomm_code_delete_id",
     "DELETE FROM natomm_code WHERE id = %lld"),
    [NATOMM_SQL_MISS_GET] = Q("natomm_miss_get",
     "SELECT " NATOMM_MISS_COLUMNS " FROM natomm_miss WHERE bucket = %s", MISS_NCOLS),
    [NATOMM_SQL_MISS_BUMP] = S("natomm_miss_bump",
     "INSERT INTO natomm_miss (bucket, misses, last_at) VALUES (%s, 1, %lld)"
     " ON CONFLICT (bucket) DO UPDATE SET misses = natomm_miss.misses + 1,"
     " last_at = %lld"),
    [NATOMM_SQL_MISS_CLEAR] = S("natomm_miss_clear",
     "DELETE FROM natomm_miss WHERE bucket = %s"),
    [NATOMM_SQL_RESET_INSERT] = S("natomm_reset_insert",
     "INSERT INTO natomm_reset_token (token_hash, account_id, expires_at)"
     " VALUES (%s, %lld, %lld)"),
    [NATOMM_SQL_RESET_GET] = Q("natomm_reset_get",
     "SELECT " NATOMM_RESET_COLUMNS " FROM natomm_reset_token t"
     " JOIN natomm_account a ON a.id = t.account_id WHERE t.token_hash = %s",
     RESET_NCOLS),
    [NATOMM_SQL_RESET_USE] = S("natomm_reset_use",
     "DELETE FROM natomm_reset_token WHERE token_hash = %s AND expires_at > %lld"),
    [NATOMM_SQL_RESET_DELETE_ACCOUNT] = S("natomm_reset_delete_account",
     "DELETE FROM natomm_reset_token WHERE account_id = %lld"),

    [NATOMM_SQL_SESSION_INSERT] = S("natomm_session_insert",
     "INSERT INTO natomm_session (token_hash, account_id, created_at, last_seen,"
     " idle_timeout, expires_at, ip) VALUES (%s, %lld, %lld, %lld, %lld, %lld, %s)"),
    /* a disabled account has no valid session, whatever rows remain */
    [NATOMM_SQL_SESSION_GET] = Q("natomm_session_get2",
     "SELECT " NATOMM_SESSION_COLUMNS " FROM natomm_session s"
     " JOIN natomm_account a ON a.id = s.account_id WHERE s.token_hash = %s"
     " AND a.disabled_at IS NULL", SESS_NCOLS),
    [NATOMM_SQL_SESSION_TOUCH] = S("natomm_session_touch",
     "UPDATE natomm_session SET last_seen = %lld WHERE token_hash = %s"),
    [NATOMM_SQL_SESSION_DELETE] = S("natomm_session_delete",
     "DELETE FROM natomm_session WHERE token_hash = %s"),
    [NATOMM_SQL_SESSION_DELETE_ACCOUNT] = S("natomm_session_delete_account",
     "DELETE FROM natomm_session WHERE account_id = %lld"),
    [NATOMM_SQL_SESSION_DELETE_OTHERS] = S("natomm_session_delete_others",
     "DELETE FROM natomm_session WHERE account_id = %lld AND token_hash <> %s"),

    [NATOMM_SQL_THROTTLE_ADD] = S("natomm_throttle_add2",
     "INSERT INTO natomm_throttle (bucket, at, id) VALUES (%s, %lld, %lld)"),
    [NATOMM_SQL_THROTTLE_COUNT] = Q("natomm_throttle_count",
     "SELECT " NATOMM_THROTTLE_COLUMNS " FROM natomm_throttle"
     " WHERE bucket = %s AND at > %lld", THR_NCOLS),
    [NATOMM_SQL_THROTTLE_TAKE_BACK] = S("natomm_throttle_take_back",
     "DELETE FROM natomm_throttle WHERE bucket = %s AND id = %lld"),

    [NATOMM_SQL_REVOKE_INSERT] = S("natomm_revoke_insert",
     "INSERT INTO natomm_revocation (account_id, at_ms) VALUES (%lld, %lld)"),
    [NATOMM_SQL_REVOKE_SINCE] = Q("natomm_revoke_since",
     "SELECT " NATOMM_REVOKE_COLUMNS " FROM natomm_revocation WHERE at_ms > %lld"
     " ORDER BY at_ms", REV_NCOLS),
    [NATOMM_SQL_OUTBOX_INSERT] = S("natomm_outbox_insert",
     "INSERT INTO natomm_outbox (id, recipient, message, created_at,"
     " next_attempt_ms) VALUES (%lld, %s, %s, %lld, %lld)"),
    [NATOMM_SQL_OUTBOX_DUE] = Q("natomm_outbox_due",
     "SELECT " NATOMM_OUTBOX_COLUMNS " FROM natomm_outbox"
     " WHERE sent_at IS NULL AND failed_at IS NULL AND next_attempt_ms <= %lld"
     " AND lease_until < %lld ORDER BY next_attempt_ms LIMIT 20", OUT_NCOLS),
    [NATOMM_SQL_OUTBOX_CLAIM] = S("natomm_outbox_claim",
     "UPDATE natomm_outbox SET lease_until = %lld, lease_owner = %s"
     " WHERE id = %lld AND sent_at IS NULL AND failed_at IS NULL"
     " AND lease_until < %lld AND next_attempt_ms <= %lld"),
    [NATOMM_SQL_OUTBOX_SENT] = S("natomm_outbox_sent",
     "UPDATE natomm_outbox SET sent_at = %lld, lease_until = 0, message = ''"
     " WHERE id = %lld AND lease_owner = %s"),
    [NATOMM_SQL_OUTBOX_RETRY] = S("natomm_outbox_retry",
     "UPDATE natomm_outbox SET attempts = attempts + 1, next_attempt_ms = %lld,"
     " lease_until = 0, last_error = %s WHERE id = %lld AND lease_owner = %s"),
    [NATOMM_SQL_OUTBOX_FAILED] = S("natomm_outbox_failed",
     "UPDATE natomm_outbox SET failed_at = %lld, lease_until = 0, last_error = %s,"
     " message = '' WHERE id = %lld AND lease_owner = %s"),
    [NATOMM_SQL_OUTBOX_STATS] = Q("natomm_outbox_stats",
     "SELECT SUM(CASE WHEN sent_at IS NULL AND failed_at IS NULL THEN 1 ELSE 0 END),"
     " MIN(CASE WHEN sent_at IS NULL AND failed_at IS NULL THEN created_at END),"
     " SUM(CASE WHEN failed_at IS NOT NULL THEN 1 ELSE 0 END),"
     " SUM(CASE WHEN sent_at > %lld THEN 1 ELSE 0 END),"
     " SUM(CASE WHEN sent_at IS NULL AND failed_at IS NULL AND attempts > 0"
     " THEN 1 ELSE 0 END) FROM natomm_outbox", STAT_NCOLS),

    [NATOMM_SQL_PURGE_CODES] = S("natomm_purge_codes",
     "DELETE FROM natomm_code WHERE expires_at < %lld"),
    [NATOMM_SQL_PURGE_SESSIONS] = S("natomm_purge_sessions",
     "DELETE FROM natomm_session WHERE expires_at < %lld"
     " OR last_seen + idle_timeout < CAST(%lld AS BIGINT)"),
    [NATOMM_SQL_PURGE_RESET] = S("natomm_purge_reset",
     "DELETE FROM natomm_reset_token WHERE expires_at < %lld"),
    [NATOMM_SQL_PURGE_THROTTLE] = S("natomm_purge_throttle",
     "DELETE FROM natomm_throttle WHERE at < %lld"),
    [NATOMM_SQL_PURGE_MISSES] = S("natomm_purge_misses",
     "DELETE FROM natomm_miss WHERE last_at < %lld"),
    [NATOMM_SQL_PURGE_LOCKS] = S("natomm_purge_locks",
     "DELETE FROM natomm_lock WHERE locked_until < %lld AND last_at < %lld"),
    [NATOMM_SQL_PURGE_UNVERIFIED] = S("natomm_purge_unverified",
     "DELETE FROM natomm_account WHERE verified_at IS NULL AND created_at < %lld"),
    [NATOMM_SQL_PURGE_REVOCATIONS] = S("natomm_purge_revocations",
     "DELETE FROM natomm_revocation WHERE at_ms < %lld"),
    [NATOMM_SQL_PURGE_OUTBOX] = S("natomm_purge_outbox",
     "DELETE FROM natomm_outbox WHERE (sent_at IS NOT NULL AND sent_at < %lld)"
     " OR (failed_at IS NOT NULL AND failed_at < %lld)"),

    [NATOMM_SQL_ACCT_DISABLE] = S("natomm_acct_disable",
     "UPDATE natomm_account SET disabled_at = %lld WHERE id = %lld"
     " AND disabled_at IS NULL"),
    [NATOMM_SQL_ACCT_ENABLE] = S("natomm_acct_enable",
     "UPDATE natomm_account SET disabled_at = NULL WHERE id = %lld"
     " AND disabled_at IS NOT NULL"),
    [NATOMM_SQL_ADMIN_BY_EMAIL] = Q("natomm_admin_by_email",
     "SELECT " NATOMM_ADMIN_COLUMNS " FROM natomm_account WHERE email_norm = %s",
     ADM_NCOLS),
    /* patterns made by the caller, with ! escaping its own % _ ! */
    [NATOMM_SQL_ADMIN_FIND] = Q("natomm_admin_find",
     "SELECT " NATOMM_ADMIN_COLUMNS " FROM natomm_account"
     " WHERE email_norm LIKE %s ESCAPE '!'"
     " OR LOWER(COALESCE(name, '')) LIKE %s ESCAPE '!'"
     " OR LOWER(COALESCE(organisation, '')) LIKE %s ESCAPE '!'"
     " ORDER BY email_norm LIMIT 1000", ADM_NCOLS),
    [NATOMM_SQL_ADMIN_LIST] = Q("natomm_admin_list",
     "SELECT " NATOMM_ADMIN_COLUMNS " FROM natomm_account WHERE id > %lld"
     " ORDER BY id LIMIT 500", ADM_NCOLS),
    [NATOMM_SQL_ADMIN_SESSIONS] = Q("natomm_admin_sessions",
     "SELECT COUNT(*), MAX(last_seen) FROM natomm_session WHERE account_id = %lld",
     ADM_SESS_NCOLS),
    [NATOMM_SQL_EXPORT_SUBSCRIBERS] = Q("natomm_export_subscribers",
     "SELECT " NATOMM_SUBSCRIBER_COLUMNS " FROM natomm_account"
     " WHERE newsletter = 1 AND verified_at IS NOT NULL AND id > %lld"
     " ORDER BY id LIMIT 500", SUB_NCOLS),
    [NATOMM_SQL_EXPORT_WITHDRAWN] = Q("natomm_export_withdrawn",
     "SELECT " NATOMM_SUBSCRIBER_COLUMNS " FROM natomm_account"
     " WHERE newsletter = 0 AND newsletter_withdrawn_at >= %lld AND id > %lld"
     " ORDER BY id LIMIT 500", SUB_NCOLS),
    [NATOMM_SQL_EXPORT_DELETED] = Q("natomm_export_deleted",
     "SELECT id, email, CAST(NULL AS VARCHAR(8)), CAST(NULL AS VARCHAR(8)),"
     " CAST(NULL AS VARCHAR(8)), subscribed_at, CAST(NULL AS VARCHAR(8)), at"
     " FROM natomm_withdrawal WHERE at >= %lld AND id > %lld ORDER BY id LIMIT 500",
     SUB_NCOLS),
    /* before an account goes: a subscriber's address stays for the sync */
    [NATOMM_SQL_NEWS_DELETED] = S("natomm_news_deleted",
     "INSERT INTO natomm_withdrawal (id, email, subscribed_at, at)"
     " SELECT %lld, email, newsletter_at, %lld FROM natomm_account"
     " WHERE id = %lld AND newsletter = 1"),
    [NATOMM_SQL_PURGE_WITHDRAWALS] = S("natomm_purge_withdrawals",
     "DELETE FROM natomm_withdrawal WHERE at < %lld"),

    /* READ COMMITTED reads what others committed since: a check-then-write
     * on one address or bucket takes this first, so such transactions
     * queue (SQLite's BEGIN IMMEDIATE already serialises every writer) */
    [NATOMM_SQL_PG_LOCK] = Q("natomm_pg_lock",
     "SELECT pg_advisory_xact_lock(hashtextextended(%s, 7245400))", 1),
};

const natomm_sql_statement_t *natomm_sql(natomm_sql_t st)
{
    return &statements[st];
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

void natomm_sql_init(void)
{
    int i;
    for (i = 0; i < NATOMM_SQL_COUNT; i++)
        statements[i].nargs = count_args(statements[i].sql);
}
