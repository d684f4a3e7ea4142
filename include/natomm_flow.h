/* Inside the flows unit: the request context, the helpers the endpoint
 * functions share (src/flow_util.c), and the endpoint functions themselves
 * (src/flows_account.c, flows_password.c, flows_newsletter.c), which
 * src/flows.c routes to. */
#ifndef NATOMM_FLOW_H
#define NATOMM_FLOW_H

#include "httpd.h"
#include "apr_tables.h"
#include "natomm.h"
#include "natomm_crypto.h"
#include "natomm_store.h"
#include "natomm_throttle.h"
#include "natomm_session.h"

typedef struct {
    request_rec *r;
    natomm_server_conf *conf;
    apr_table_t *form;
    natomm_db *db;
    const char *mount;         /* the handler's URI prefix, e.g. "/account" */
} natomm_ctx;

/* columns of natomm_acct_by_email */
enum { A_ID, A_EMAIL, A_HASH, A_VERIFIED, A_NAME, A_LANG, A_NEWS, A_FAILS,
       A_LOCKED, A_NCOLS };

/* columns of natomm_acct_by_id */
enum { I_EMAIL, I_NAME, I_NEWS, I_VERIFIED, I_LANG, I_HASH, I_FAILS, I_LOCKED,
       I_NCOLS };

typedef enum {
    NATOMM_CODE_OK, NATOMM_CODE_WRONG, NATOMM_CODE_EXPIRED, NATOMM_CODE_ERROR
} natomm_code_result;

/* passwords */
natomm_hash_params_t natomm_flow_hash_params(const natomm_server_conf *conf);
char *natomm_flow_hash_password(natomm_ctx *c, const char *pw);
/* phc NULL: checked against a dummy hash, so it takes as long, and fails */
int natomm_flow_check_password(const char *phc, const char *pw);
/* Answers weak_password and returns 1 when pw breaks a rule. */
int natomm_flow_weak_password(natomm_ctx *c, const char *pw, const char *email);

/* answers; each returns what the handler returns */
int natomm_flow_status(request_rec *r, int http, const char *status);
int natomm_flow_unavailable(request_rec *r);
int natomm_flow_rate_limited(request_rec *r, apr_int64_t wait);
int natomm_flow_invalid_credentials(request_rec *r);
/* One log line per account event: event, account id, client address. */
void natomm_flow_log(natomm_ctx *c, const char *event, const char *account_id);

/* fields: a required one that is missing is answered (400) and NULL returned */
const char *natomm_flow_field(natomm_ctx *c, const char *name);
const char *natomm_flow_required(natomm_ctx *c, const char *name);
const char *natomm_flow_required_email(natomm_ctx *c);
int natomm_flow_truthy(const char *v);
const char *natomm_flow_known_language(const char *tag, size_t n);
const char *natomm_flow_accept_language(request_rec *r);

/* Opens a transaction and reads the account for an address key:
 * 1 found (acct filled), 0 not found, -1 database failure. */
int natomm_flow_begin_account(natomm_ctx *c, const char *key, const char **acct);

/* codes */
apr_int64_t natomm_flow_code_ttl(natomm_ctx *c, const char *purpose);
natomm_limit_t natomm_flow_resend_limit(natomm_ctx *c);
/* A new code that voids the older ones, mailed in the caller's
 * transaction. payload rides with the code: for a registration, the hash of
 * the password that registration chose, applied when that code is entered. */
int natomm_flow_issue_code(natomm_ctx *c, const char *account, const char *purpose,
                           const char *email, const char *lang, const char *payload);
/* Checks typed against the account's newest code for purpose (acct NULL:
 * no code, but the same answers). A wrong try uses one attempt; *left gets
 * what remains; on success *payload (if asked) gets the code's payload. */
natomm_code_result natomm_flow_check_code(natomm_ctx *c, const char **acct,
                                          const char *purpose, const char *key,
                                          const char *typed, apr_int64_t *left,
                                          const char **payload);
int natomm_flow_code_failed(natomm_ctx *c, natomm_code_result res,
                            apr_int64_t left);

/* A wrong password (login, or the confirmation of a change or delete):
 * counted for the client address and the account (fails: its count so
 * far), which locks per NatommLockout; logs event; answers 401. */
int natomm_flow_password_failed(natomm_ctx *c, const char *event,
                                const char *account_id, const char *fails);
/* Whether the client address is over its login-failures limit (answered). */
int natomm_flow_login_limited(natomm_ctx *c);

/* Counts one request of a NatommIPLimit kind for the client address;
 * answers 429 (or 503) and returns non-zero when it is over the limit. */
int natomm_flow_ip_limited(natomm_ctx *c, int kind);
/* The request's session: 1, or 0 after answering 401 (or 503). */
int natomm_flow_need_session(natomm_ctx *c, natomm_session_info *info);

/* endpoints */
int natomm_flow_session(natomm_ctx *c);
int natomm_flow_register(natomm_ctx *c);
int natomm_flow_verify(natomm_ctx *c);
int natomm_flow_resend(natomm_ctx *c);
int natomm_flow_login(natomm_ctx *c);
int natomm_flow_logout(natomm_ctx *c);
int natomm_flow_forgot(natomm_ctx *c);
int natomm_flow_reset_verify(natomm_ctx *c);
int natomm_flow_reset(natomm_ctx *c);
int natomm_flow_change_password(natomm_ctx *c);
int natomm_flow_delete(natomm_ctx *c);
int natomm_flow_newsletter(natomm_ctx *c);
int natomm_flow_unsubscribe_page(natomm_ctx *c);
int natomm_flow_unsubscribe(natomm_ctx *c);

#endif
