/* The "SetHandler natomm" endpoints (src/handle/): the router, the request
 * context, the helpers the endpoints share (codes, credentials, limits),
 * and one file per endpoint group, named after its URL.
 *
 * The one rule for "I answered": a helper that may send the answer returns
 * int, 0 = go on, non-zero = the answer is sent (the endpoint then returns
 * OK); values come back through out-parameters. A function that always
 * answers has "answer" or "reply" in its name and returns OK, which the
 * endpoint returns.
 */
#ifndef NATOMM_HANDLE_H
#define NATOMM_HANDLE_H

#include "httpd.h"
#include "apr_tables.h"
#include "natomm_cfg.h"
#include "natomm_db.h"
#include "natomm_http.h"
#include "natomm_session.h"

/* ---- ctx.c: one request ---------------------------------------------- */

typedef struct {
    request_rec *r;
    natomm_server_conf *conf;
    apr_table_t *form;
    natomm_db *db;
    const char *mount;         /* the handler's URI prefix, e.g. "/account" */
} natomm_ctx;

/* Answers e; returns 1 (answered), for helpers. */
int natomm_ctx_fail(natomm_ctx *c, natomm_error_t e);
/* A connection for the request (acquired once): 0, or answered 503. */
int natomm_ctx_db(natomm_ctx *c);

/* An optional field (NULL when absent). */
const char *natomm_ctx_field(natomm_ctx *c, const char *name);
/* A required, non-empty field: 0 and *value, or answered 400. */
int natomm_ctx_required(natomm_ctx *c, const char *name, const char **value);
/* The required "email" field, a plausible address: 0, or answered 400. */
int natomm_ctx_email(natomm_ctx *c, const char **email);
/* Whether a checkbox-like value is on ("1", "true", "on", "yes"). */
int natomm_ctx_truthy(const char *v);

/* The request's session: 0 and *info, or answered 401 (or 503). */
int natomm_ctx_session(natomm_ctx *c, natomm_session_info *info);

/* The lock name of an address: every check-then-write on it takes it. */
const char *natomm_ctx_address_lock(natomm_ctx *c, const char *key);

/* Opens a transaction that holds the address's lock and reads its account
 * (acct: ACCT_NCOLS columns): 0 with *found 1 or 0, or answered 503. */
int natomm_ctx_begin_account(natomm_ctx *c, const char *key, const char **acct,
                             int *found);

/* One log line per account event: event, account id, client address. */
void natomm_ctx_log(natomm_ctx *c, const char *event, const char *account_id);

/* ---- credentials.c: passwords ---------------------------------------- */

/* Per child: the bound on concurrent hashes, and a dummy hash so that a
 * login for an unknown address costs what a real one costs. */
void natomm_cred_child_init(apr_pool_t *p, server_rec *s);

/* A new argon2id hash of pw, or NULL: *busy set when no hash slot came
 * within NatommHashWait. */
const char *natomm_cred_hash(natomm_ctx *c, const char *pw, int *busy);
/* Whether pw matches phc; phc NULL: checked against the dummy hash, so it
 * takes as long, and fails. *busy as for natomm_cred_hash. */
int natomm_cred_check(natomm_ctx *c, const char *phc, const char *pw, int *busy);
/* Answers a hash that could not be made: 429 with Retry-After when busy,
 * else 503. */
int natomm_cred_answer_unavailable(natomm_ctx *c, int busy);
/* Whether a stored hash should be made again with today's parameters. */
int natomm_cred_needs_rehash(natomm_ctx *c, const char *phc);
/* 0 when pw meets the rules, else answered weak_password with "failed". */
int natomm_cred_strong(natomm_ctx *c, const char *pw, const char *email);
/* A password attempt on an account (acct NULL: an unknown address), under
 * the counted limits of limits.c: 0 when it passed (the transaction left
 * open if keep_open), else answered (401, 429, 503). */
int natomm_cred_attempt(natomm_ctx *c, const char **acct, const char *key,
                        const char *pw, const char *event, int keep_open);
/* The logged-in account (acct: ACCT_NCOLS) after an attempt with the
 * password in field: 0, or answered. */
int natomm_cred_confirm(natomm_ctx *c, natomm_session_info *info,
                        const char *field, const char **acct);

/* ---- limits.c: counted limits ---------------------------------------- */

/* The client a limit counts: its address, an IPv6 one by its /64. */
const char *natomm_limits_client(natomm_ctx *c);

/* Counts one request of a NatommIPLimit kind for the client: 0, or
 * answered 429 (or 503) when it is over the limit (then not counted). */
int natomm_limits_ip(natomm_ctx *c, int kind);

/* A password attempt: counted as a failure before the hash (for the
 * client, the account and the pair), decided after it. */
typedef struct {
    const char *account_id;    /* NULL: an address without an account */
    const char *key;           /* the address as stored */
    const char *event;         /* the provisional per-client failure */
} natomm_attempt_t;

/* Before the hash: 0, or answered 429 (the client's login failures are
 * over NatommIPLimit) or 503. */
int natomm_limits_attempt_begin(natomm_ctx *c, const char *account_id,
                                const char *key, natomm_attempt_t *a);
/* An attempt that was never judged (no hash slot came in time): its
 * provisional counts are taken back. 0, or answered 503. */
int natomm_limits_attempt_cancel(natomm_ctx *c, natomm_attempt_t *a);
/* After it (ok: the password matched): 0 when the account may go on, its
 * counts started again, the transaction left open if keep_open; else
 * answered 401 (a wrong password logged as event, a right one refused by
 * a lock as login_locked, a new lock as lockout) or 503. */
int natomm_limits_attempt_end(natomm_ctx *c, natomm_attempt_t *a, int ok,
                              const char *event, int keep_open);

/* The resend budget of an address and purpose for this client (and the
 * daily cap for all clients), in the caller's transaction, which holds
 * the address's lock: 0 when a code may go now, else the seconds to
 * wait, -1 on a database failure. */
apr_int64_t natomm_limits_resend_wait(natomm_ctx *c, const char *purpose,
                                      const char *key);
/* Spends one code of it; 0 or -1. */
int natomm_limits_resend_spend(natomm_ctx *c, const char *purpose, const char *key);
/* The bucket of every code sent to an address for a purpose (all clients). */
const char *natomm_limits_resend_bucket(natomm_ctx *c, const char *purpose,
                                        const char *key);

/* ---- codes.c: mailed codes ------------------------------------------- */

typedef enum {
    NATOMM_CODE_OK, NATOMM_CODE_WRONG, NATOMM_CODE_EXPIRED, NATOMM_CODE_ERROR
} natomm_code_result;

apr_int64_t natomm_codes_ttl(natomm_ctx *c, const char *purpose);

typedef struct {
    const char *account, *purpose, *email, *lang;
    /* rides with the code: for a registration, the hash of the password
     * it chose, applied when that code is entered */
    const char *payload;
} natomm_code_issue_t;

/* A new code, mailed in the caller's transaction. It voids the older
 * codes the same client asked for; other clients' codes stay (five live at
 * most). 0, or -1. */
int natomm_codes_issue(natomm_ctx *c, const natomm_code_issue_t *in);

/* The code a resend or a forgot mails, in the open transaction: none for
 * an address without an account, or with nothing to confirm. A new
 * registration code carries the password of this client's newest pending
 * code (else the newest's). 0, or -1. */
int natomm_codes_resend(natomm_ctx *c, const char **acct, int found,
                        const char *purpose);

/* Checks typed against the live codes of the account and purpose (acct
 * NULL: no code, but the same answers). A wrong entry uses one try of each
 * live code; *left gets the most that remain. On success *match is the
 * code's row (CODE_NCOLS). */
natomm_code_result natomm_codes_check(natomm_ctx *c, const char **acct,
                                      const char *purpose, const char *key,
                                      const char *typed, apr_int64_t *left,
                                      const char ***match);
/* Answers a code that did not pass, after committing the used-up try. */
int natomm_codes_answer_failure(natomm_ctx *c, natomm_code_result res,
                                apr_int64_t left);

/* A code entry (verify, password/verify): the "email" and "code" fields,
 * the code-entries limit, NatommCodeMisses, the account and the check. */
typedef struct {
    const char *key;                 /* the address as stored */
    const char *acct[ACCT_NCOLS];    /* the account the code belongs to */
    const char *payload;             /* what rode with the code */
} natomm_code_entry_t;

/* 0 when the code is right, with *e filled and the transaction open for
 * the caller's writes; else answered (400, 429, 503). The code belongs to
 * a pending account for "register" and to a verified one for "reset". */
int natomm_codes_enter(natomm_ctx *c, const char *purpose, natomm_code_entry_t *e);

/* ---- router.c -------------------------------------------------------- */

/* The "SetHandler natomm" handler. */
int natomm_router_handler(request_rec *r);
/* post_read_request: a control character escaped in a path under
 * NatommAccountPath is 400 invalid_request, before httpd decodes it. */
int natomm_router_post_read_request(request_rec *r);

/* ---- the endpoints: each returns OK once it has answered ------------- */

/* login.c */
int natomm_handle_session(natomm_ctx *c);
int natomm_handle_settings(natomm_ctx *c);
int natomm_handle_login(natomm_ctx *c);
int natomm_handle_logout(natomm_ctx *c);
/* register.c */
int natomm_handle_register(natomm_ctx *c);
int natomm_handle_verify(natomm_ctx *c);
int natomm_handle_resend(natomm_ctx *c);
/* password.c */
int natomm_handle_forgot(natomm_ctx *c);
int natomm_handle_reset_verify(natomm_ctx *c);
int natomm_handle_reset(natomm_ctx *c);
int natomm_handle_change_password(natomm_ctx *c);
/* delete.c */
int natomm_handle_delete(natomm_ctx *c);
/* download_link.c */
int natomm_handle_download_link(natomm_ctx *c);
/* newsletter.c */
int natomm_handle_newsletter(natomm_ctx *c);
/* unsubscribe.c */
int natomm_handle_unsubscribe_page(natomm_ctx *c);
int natomm_handle_unsubscribe(natomm_ctx *c);

/* status.c: the "SetHandler natomm-status" handler, the outbox in one JSON
 * line; protect it with a Require line. */
int natomm_status_handler(request_rec *r);

/* metrics.c: the "SetHandler natomm-metrics" handler, the counters of
 * natomm_stats.h as Prometheus text (0.0.4); and the same few numbers on
 * mod_status's page (its optional status_hook). */
int natomm_metrics_handler(request_rec *r);
int natomm_metrics_status(request_rec *r, int flags);

/* subscribers.c: the "SetHandler natomm-subscribers" handler, the
 * newsletter's subscribers (or, with ?since=, its unsubscribes) as CSV;
 * configtest refuses it without a Require line that limits it. */
int natomm_subscribers_handler(request_rec *r);

#endif
