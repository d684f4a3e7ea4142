/* Every statement mod_natomm runs, addressed by an enum; the texts are in
 * src/db/sql.c in the same order. A SELECT's columns are listed here as a
 * macro that sql.c splices into its text, beside the enum that names them,
 * so the two cannot drift apart. */
#ifndef NATOMM_SQL_H
#define NATOMM_SQL_H

/* The schema these statements are written for (src/db/schema.c makes it;
 * natommctl refuses any other). */
#define NATOMM_SQL_SCHEMA_VERSION 3

typedef enum {
    /* accounts */
    NATOMM_SQL_ACCT_BY_EMAIL, NATOMM_SQL_ACCT_BY_ID, NATOMM_SQL_ACCT_INSERT,
    NATOMM_SQL_ACCT_UPDATE_PENDING, NATOMM_SQL_ACCT_VERIFY,
    NATOMM_SQL_ACCT_SET_PASSWORD, NATOMM_SQL_ACCT_LOGIN_FAILED,
    NATOMM_SQL_ACCT_LOGIN_OK, NATOMM_SQL_ACCT_DELETE,
    /* the login lockout per account and client address */
    NATOMM_SQL_LOCK_BUMP, NATOMM_SQL_LOCK_UNBUMP, NATOMM_SQL_LOCK_GET,
    NATOMM_SQL_LOCK_SET, NATOMM_SQL_ACCT_LOGIN_UNFAIL,
    NATOMM_SQL_LOCK_CLEAR, NATOMM_SQL_LOCK_CLEAR_ACCOUNT,
    NATOMM_SQL_NEWS_SUBSCRIBE, NATOMM_SQL_NEWS_UNSUBSCRIBE,
    NATOMM_SQL_ACCT_LINKS_REVOKE, NATOMM_SQL_ACCT_LINK_STATE,
    /* codes and reset tokens */
    NATOMM_SQL_CODE_INSERT, NATOMM_SQL_CODE_DELETE, NATOMM_SQL_CODE_LIST,
    NATOMM_SQL_CODE_FAIL, NATOMM_SQL_CODE_DELETE_CLIENT, NATOMM_SQL_CODE_DELETE_ID,
    NATOMM_SQL_MISS_GET, NATOMM_SQL_MISS_BUMP, NATOMM_SQL_MISS_CLEAR,
    NATOMM_SQL_RESET_INSERT, NATOMM_SQL_RESET_GET,
    NATOMM_SQL_RESET_USE, NATOMM_SQL_RESET_DELETE_ACCOUNT,
    /* sessions */
    NATOMM_SQL_SESSION_INSERT, NATOMM_SQL_SESSION_GET, NATOMM_SQL_SESSION_TOUCH,
    NATOMM_SQL_SESSION_DELETE, NATOMM_SQL_SESSION_DELETE_ACCOUNT,
    NATOMM_SQL_SESSION_DELETE_OTHERS,
    /* throttles */
    NATOMM_SQL_THROTTLE_ADD, NATOMM_SQL_THROTTLE_COUNT, NATOMM_SQL_THROTTLE_TAKE_BACK,
    /* revocation, read by every node */
    NATOMM_SQL_REVOKE_INSERT, NATOMM_SQL_REVOKE_SINCE,
    /* the outbox */
    NATOMM_SQL_OUTBOX_INSERT, NATOMM_SQL_OUTBOX_DUE, NATOMM_SQL_OUTBOX_CLAIM,
    NATOMM_SQL_OUTBOX_SENT, NATOMM_SQL_OUTBOX_RETRY, NATOMM_SQL_OUTBOX_FAILED,
    NATOMM_SQL_OUTBOX_STATS,
    /* retention */
    NATOMM_SQL_PURGE_CODES, NATOMM_SQL_PURGE_SESSIONS, NATOMM_SQL_PURGE_RESET,
    NATOMM_SQL_PURGE_THROTTLE, NATOMM_SQL_PURGE_MISSES, NATOMM_SQL_PURGE_LOCKS,
    NATOMM_SQL_PURGE_UNVERIFIED, NATOMM_SQL_PURGE_REVOCATIONS,
    NATOMM_SQL_PURGE_OUTBOX,
    /* operations: natommctl and the exports (natomm_export.h) */
    NATOMM_SQL_ACCT_DISABLE, NATOMM_SQL_ACCT_ENABLE,
    NATOMM_SQL_ADMIN_BY_EMAIL, NATOMM_SQL_ADMIN_FIND, NATOMM_SQL_ADMIN_LIST,
    NATOMM_SQL_ADMIN_SESSIONS,
    NATOMM_SQL_EXPORT_SUBSCRIBERS, NATOMM_SQL_EXPORT_WITHDRAWN,
    NATOMM_SQL_EXPORT_DELETED, NATOMM_SQL_NEWS_DELETED, NATOMM_SQL_PURGE_WITHDRAWALS,
    /* PostgreSQL only: a lock on a name until the transaction ends */
    NATOMM_SQL_PG_LOCK,
    NATOMM_SQL_COUNT
} natomm_sql_t;

/* ACCT_BY_EMAIL and ACCT_BY_ID: one account row */
#define NATOMM_ACCT_COLUMNS "id, email, password_hash, verified_at, name," \
    " language, newsletter, failed_logins, disabled_at"
enum { ACCT_ID, ACCT_EMAIL, ACCT_HASH, ACCT_VERIFIED, ACCT_NAME, ACCT_LANG,
       ACCT_NEWS, ACCT_FAILS, ACCT_DISABLED, ACCT_NCOLS };

/* ACCT_LINK_STATE: what the gate needs of an account to honour its links */
#define NATOMM_LINK_STATE_COLUMNS "email, links_after, verified_at, disabled_at"
enum { LINKST_EMAIL, LINKST_AFTER, LINKST_VERIFIED, LINKST_DISABLED, LINKST_NCOLS };

/* CODE_LIST: the codes of an account and purpose, newest first */
#define NATOMM_CODE_COLUMNS "id, code_mac, attempts_left, expires_at, payload," \
    " client"
enum { CODE_ID, CODE_MAC, CODE_LEFT, CODE_EXPIRES, CODE_PAYLOAD, CODE_CLIENT,
       CODE_NCOLS };

/* LOCK_GET: one account and client address */
#define NATOMM_LOCK_COLUMNS "failures, locked_until, base"
enum { LOCK_FAILURES, LOCK_UNTIL, LOCK_BASE, LOCK_NCOLS };

/* MISS_GET: consecutive wrong codes of an address and purpose */
#define NATOMM_MISS_COLUMNS "misses, last_at"
enum { MISS_COUNT, MISS_LAST, MISS_NCOLS };

/* RESET_GET: a reset token with its account */
#define NATOMM_RESET_COLUMNS "t.account_id, t.expires_at, a.email, a.language"
enum { RESET_ACCOUNT, RESET_EXPIRES, RESET_EMAIL, RESET_LANG, RESET_NCOLS };

/* SESSION_GET: a session with its account */
#define NATOMM_SESSION_COLUMNS "s.account_id, s.last_seen, s.idle_timeout," \
    " s.expires_at, a.email, a.name, a.newsletter, a.verified_at"
enum { SESS_ACCOUNT, SESS_LAST_SEEN, SESS_IDLE, SESS_EXPIRES, SESS_EMAIL,
       SESS_NAME, SESS_NEWS, SESS_VERIFIED, SESS_NCOLS };

/* THROTTLE_COUNT: the events of a bucket since a time */
#define NATOMM_THROTTLE_COLUMNS "COUNT(*), MIN(at), MAX(at)"
enum { THR_COUNT, THR_OLDEST, THR_NEWEST, THR_NCOLS };

/* REVOKE_SINCE: revocations since a time */
#define NATOMM_REVOKE_COLUMNS "account_id, at_ms"
enum { REV_ACCOUNT, REV_AT, REV_NCOLS };

/* OUTBOX_DUE: messages to send now */
#define NATOMM_OUTBOX_COLUMNS "id, recipient, message, attempts, created_at"
enum { OUT_ID, OUT_RECIPIENT, OUT_MESSAGE, OUT_ATTEMPTS, OUT_CREATED,
       OUT_NCOLS };

/* ADMIN_BY_EMAIL, ADMIN_FIND, ADMIN_LIST: an account as natommctl shows it */
#define NATOMM_ADMIN_COLUMNS "id, email, name, organisation, language, created_at," \
    " verified_at, disabled_at, newsletter, newsletter_at, failed_logins," \
    " newsletter_ip, newsletter_withdrawn_at"
enum { ADM_ID, ADM_EMAIL, ADM_NAME, ADM_ORG, ADM_LANG, ADM_CREATED, ADM_VERIFIED,
       ADM_DISABLED, ADM_NEWS, ADM_NEWS_AT, ADM_FAILS, ADM_NEWS_IP, ADM_NEWS_OUT,
       ADM_NCOLS };

/* ADMIN_SESSIONS: an account's sessions */
enum { ADM_SESSIONS, ADM_LAST_SEEN, ADM_SESS_NCOLS };

/* EXPORT_SUBSCRIBERS, EXPORT_WITHDRAWN, EXPORT_DELETED: one subscriber, or
 * one unsubscribe (EXPORT_DELETED: a subscriber who deleted the account,
 * its id that of the natomm_withdrawal row) */
#define NATOMM_SUBSCRIBER_COLUMNS "id, email, name, organisation, language," \
    " newsletter_at, newsletter_ip, newsletter_withdrawn_at"
enum { SUB_ID, SUB_EMAIL, SUB_NAME, SUB_ORG, SUB_LANG, SUB_AT, SUB_IP, SUB_WITHDRAWN,
       SUB_NCOLS };
/* rows per page of an export (keyset by id) */
#define NATOMM_EXPORT_PAGE 500

/* OUTBOX_STATS: the queue in numbers */
enum { STAT_QUEUED, STAT_OLDEST, STAT_FAILED, STAT_SENT_HOUR, STAT_RETRYING,
       STAT_NCOLS };

typedef struct {
    const char *label;        /* an SQL identifier: PostgreSQL sends PREPARE label */
    const char *sql;
    int ncols;                /* columns a SELECT returns; 0 for the others */
    int nargs;                /* its parameters (filled by natomm_sql_init) */
} natomm_sql_statement_t;

/* The statement table, indexed by natomm_sql_t. */
const natomm_sql_statement_t *natomm_sql(natomm_sql_t st);

/* Counts every statement's parameters once (child_init). */
void natomm_sql_init(void);

#endif
