/* Mailed codes: issue, check, and the answer to a failed one (see
 * natomm_handle.h). A code is stored as HMAC(site key, purpose|account|code). */
#include "natomm_handle.h"
#include <string.h>
#include <stdlib.h>
#include "apr_strings.h"
#include "natomm_clock.h"
#include "natomm_code.h"
#include "natomm_crypto.h"
#include "natomm_json.h"
#include "natomm_mail.h"
#include "natomm_policy.h"
#include "natomm_stats.h"

static const char *code_mac(natomm_ctx *c, const char *purpose, const char *account,
                            const char *code)
{
    return natomm_hmac_hex(c->r->pool, natomm_db_code_key(c->db),
                           apr_pstrcat(c->r->pool, purpose, "|", account, "|",
                                       code, NULL));
}

apr_int64_t natomm_codes_ttl(natomm_ctx *c, const char *purpose)
{
    return strcmp(purpose, "reset") ? c->conf->register_code_ttl
                                    : c->conf->reset_code_ttl;
}

/* Codes asked for by different clients coexist, but no more than this. */
#define LIVE_MAX 5

/* Voids the older codes the same client asked for, and the oldest of the
 * others beyond LIVE_MAX - 1, to make room for a new one. */
static void make_room(natomm_ctx *c, const char *account, const char *purpose,
                      const char *client)
{
    apr_array_header_t *rows;
    int i;

    natomm_db_exec(c->db, NATOMM_SQL_CODE_DELETE_CLIENT, (const char *[]){
        account, purpose, client});
    if (natomm_db_rows(c->db, NATOMM_SQL_CODE_LIST, (const char *[]){account, purpose},
                       &rows) < 0)
        return;
    for (i = LIVE_MAX - 1; i < rows->nelts; i++)
        natomm_db_exec(c->db, NATOMM_SQL_CODE_DELETE_ID, (const char *[]){
            APR_ARRAY_IDX(rows, i, const char **)[CODE_ID]});
}

int natomm_codes_issue(natomm_ctx *c, const natomm_code_issue_t *in)
{
    apr_pool_t *p = c->r->pool;
    apr_int64_t now = natomm_now(), ttl = natomm_codes_ttl(c, in->purpose);
    const char *code = natomm_code_generate(p, &c->conf->code);
    const char *client = natomm_limits_client(c);
    natomm_mail_t mail = {in->email, in->lang, strcmp(in->purpose, "reset")
                          ? "register_code" : "reset_code", apr_table_make(p, 4), NULL};

    if (!code)
        return -1;
    make_room(c, in->account, in->purpose, client);
    natomm_db_exec(c->db, NATOMM_SQL_CODE_INSERT, (const char *[]){
        natomm_random_id(p), in->account, in->purpose,
        code_mac(c, in->purpose, in->account, code), in->payload,
        natomm_db_num(p, c->conf->code_attempts), natomm_db_num(p, now),
        natomm_db_num(p, now + ttl), client});
    apr_table_setn(mail.vars, "code", natomm_code_display(p, code));
    apr_table_setn(mail.vars, "minutes", natomm_db_num(p, (ttl + 59) / 60));
    apr_table_setn(mail.vars, "expires", natomm_clock_utc_text(p, now + ttl));
    return natomm_mail_queue(c->db, c->r->server, p, &mail);
}

/* The password a new registration code must carry: that of this
 * client's newest pending code, else of the newest, else the account's. */
static const char *pending_password(natomm_ctx *c, const char **acct)
{
    const char *client = natomm_limits_client(c), *newest = NULL;
    apr_array_header_t *rows;

    if (natomm_db_rows(c->db, NATOMM_SQL_CODE_LIST, (const char *[]){acct[ACCT_ID],
            "register"}, &rows) > 0) {
        int i;
        for (i = 0; i < rows->nelts; i++) {
            const char **row = APR_ARRAY_IDX(rows, i, const char **);
            if (row[CODE_PAYLOAD] && row[CODE_CLIENT] && !strcmp(row[CODE_CLIENT], client))
                return row[CODE_PAYLOAD];
            if (!newest)
                newest = row[CODE_PAYLOAD];
        }
    }
    return newest ? newest : acct[ACCT_HASH];
}

int natomm_codes_resend(natomm_ctx *c, const char **acct, int found,
                        const char *purpose)
{
    natomm_code_issue_t code = {found ? acct[ACCT_ID] : NULL, purpose,
                                found ? acct[ACCT_EMAIL] : NULL,
                                found ? acct[ACCT_LANG] : NULL, NULL};

    if (found && !strcmp(purpose, "register") && !acct[ACCT_VERIFIED]) {
        code.payload = pending_password(c, acct);
        return natomm_codes_issue(c, &code);
    }
    if (found && !strcmp(purpose, "reset") && acct[ACCT_VERIFIED])
        return natomm_codes_issue(c, &code);
    return 0;
}

/* A try against an address without a code behaves like one with a code,
 * so the answer does not tell whether the address has an account: wrong
 * tries count down from the last code request for the address (which
 * resets a real code too), and once that request is older than a code's
 * lifetime the answer is code_expired. */
static natomm_code_result phantom_attempt(natomm_ctx *c, const char *purpose,
                                          const char *key, apr_int64_t *left)
{
    apr_pool_t *p = c->r->pool;
    apr_int64_t now = natomm_now(), ttl = natomm_codes_ttl(c, purpose);
    apr_int64_t since = now - ttl;
    const char *fails = natomm_db_bucket(p, apr_pstrcat(p, "code:", purpose, NULL), key);
    natomm_limit_seen_t seen;

    /* as far back as a real code is kept: a day past its expiry */
    if (natomm_db_throttle_seen(c->db, natomm_limits_resend_bucket(c, purpose, key),
                                now - ttl - 86400, &seen))
        return NATOMM_CODE_ERROR;
    if (seen.newest && seen.newest + ttl <= now)
        return NATOMM_CODE_EXPIRED;
    if (seen.newest > since)
        since = seen.newest - 1;
    if (natomm_db_throttle_add(c->db, fails, NULL)
        || natomm_db_throttle_seen(c->db, fails, since, &seen))
        return NATOMM_CODE_ERROR;
    *left = c->conf->code_attempts - seen.count;
    return NATOMM_CODE_WRONG;
}

/* Whether a code may still be entered: not expired, tries left. */
static int live(const char **row, apr_int64_t now)
{
    return apr_atoi64(row[CODE_EXPIRES]) > now && atoi(row[CODE_LEFT]) > 0;
}

/* The live code that typed is, or NULL. */
static const char **find_code(natomm_ctx *c, apr_array_header_t *rows,
                              const char *purpose, const char *account,
                              const char *typed)
{
    const char *norm = natomm_code_normalise(c->r->pool, &c->conf->code, typed);
    const char *mac = norm ? code_mac(c, purpose, account, norm) : NULL;
    const char **found = NULL;
    apr_int64_t now = natomm_now();
    int i;

    for (i = 0; i < rows->nelts; i++) {
        const char **row = APR_ARRAY_IDX(rows, i, const char **);
        /* every live code is compared: the time does not tell which matched */
        if (live(row, now) && mac && natomm_secret_equal(mac, row[CODE_MAC]) && !found)
            found = row;
    }
    return found;
}

/* The tries left after a wrong entry: the most any live code has. */
static apr_int64_t tries_left(apr_array_header_t *rows)
{
    apr_int64_t now = natomm_now(), best = 0;
    int i;

    for (i = 0; i < rows->nelts; i++) {
        const char **row = APR_ARRAY_IDX(rows, i, const char **);
        if (live(row, now) && atoi(row[CODE_LEFT]) - 1 > best)
            best = atoi(row[CODE_LEFT]) - 1;
    }
    return best;
}

static int all_expired(apr_array_header_t *rows)
{
    apr_int64_t now = natomm_now();
    int i;

    for (i = 0; i < rows->nelts; i++)
        if (apr_atoi64(APR_ARRAY_IDX(rows, i, const char **)[CODE_EXPIRES]) > now)
            return 0;
    return 1;
}

natomm_code_result natomm_codes_check(natomm_ctx *c, const char **acct,
                                      const char *purpose, const char *key,
                                      const char *typed, apr_int64_t *left,
                                      const char ***match)
{
    apr_array_header_t *rows;
    const char **found;

    if (!acct)
        return phantom_attempt(c, purpose, key, left);
    if (natomm_db_rows(c->db, NATOMM_SQL_CODE_LIST, (const char *[]){
            acct[ACCT_ID], purpose}, &rows) < 0)
        return NATOMM_CODE_ERROR;
    if (rows->nelts == 0)
        return phantom_attempt(c, purpose, key, left);
    if (all_expired(rows))
        return NATOMM_CODE_EXPIRED;
    if ((found = find_code(c, rows, purpose, acct[ACCT_ID], typed))) {
        *match = found;
        return NATOMM_CODE_OK;
    }
    natomm_db_exec(c->db, NATOMM_SQL_CODE_FAIL, (const char *[]){acct[ACCT_ID], purpose});
    *left = tries_left(rows);
    return NATOMM_CODE_WRONG;
}

int natomm_codes_answer_failure(natomm_ctx *c, natomm_code_result res,
                                apr_int64_t left)
{
    natomm_json *j;

    if (res == NATOMM_CODE_ERROR || natomm_db_commit(c->db))
        return natomm_reply_error(c->r, NATOMM_E_STORAGE_UNAVAILABLE);
    if (res == NATOMM_CODE_EXPIRED)
        return natomm_reply_error(c->r, NATOMM_E_CODE_EXPIRED);
    j = natomm_reply_error_body(c->r->pool, NATOMM_E_INVALID_CODE);
    natomm_json_int(j, "attempts_left", left > 0 ? left : 0);
    return natomm_reply_error_json(c->r, NATOMM_E_INVALID_CODE, j);
}

/* ---- wrong codes in a row -------------------------------------------- */

static const char *miss_bucket(natomm_ctx *c, const char *purpose, const char *key)
{
    return natomm_db_bucket(c->r->pool, apr_pstrcat(c->r->pool, "miss:", purpose,
                                                    NULL), key);
}

/* 0 while the address may enter codes, else the seconds until it may
 * again (NatommCodeMisses), -1 on failure. A count whose lock has run out
 * starts again. */
static apr_int64_t misses_wait(natomm_ctx *c, const char *bucket)
{
    const char *row[MISS_NCOLS];
    apr_int64_t until;
    int n = natomm_db_row(c->db, NATOMM_SQL_MISS_GET, (const char *[]){bucket}, row);

    if (n <= 0)
        return n;
    if (atoi(row[MISS_COUNT]) < c->conf->code_miss_limit)
        return 0;
    until = apr_atoi64(row[MISS_LAST]) + c->conf->code_miss_lock;
    if (until > natomm_now())
        return until - natomm_now();
    return natomm_db_exec(c->db, NATOMM_SQL_MISS_CLEAR, (const char *[]){bucket}) < 0
        ? -1 : 0;
}

static void count_miss(natomm_ctx *c, const char *bucket)
{
    const char *now = natomm_db_num(c->r->pool, natomm_now());
    natomm_db_exec(c->db, NATOMM_SQL_MISS_BUMP, (const char *[]){bucket, now, now});
}

int natomm_codes_enter(natomm_ctx *c, const char *purpose, natomm_code_entry_t *e)
{
    const char *email, *typed, *bucket, **match = NULL;
    apr_int64_t left = 0, wait;
    natomm_code_result res;
    int found, owner;

    if (natomm_ctx_email(c, &email) || natomm_ctx_required(c, "code", &typed)
        || natomm_limits_ip(c, NATOMM_IP_CODE_ENTRIES))
        return 1;
    e->key = natomm_email_key(c->r->pool, email);
    if (natomm_ctx_begin_account(c, e->key, e->acct, &found))
        return 1;
    bucket = miss_bucket(c, purpose, e->key);
    if ((wait = misses_wait(c, bucket)) != 0) {
        natomm_db_rollback(c->db);
        if (wait < 0)
            return natomm_ctx_fail(c, NATOMM_E_STORAGE_UNAVAILABLE);
        natomm_stats_count_refusal(NATOMM_REFUSED_CODE_MISSES);
        natomm_reply_rate_limited(c->r, wait);
        return 1;
    }
    /* a verified account has no registration code left to enter, and an
     * unverified one no reset code */
    owner = found && (!strcmp(purpose, "reset") ? e->acct[ACCT_VERIFIED] != NULL
                                                : e->acct[ACCT_VERIFIED] == NULL);
    res = natomm_codes_check(c, owner ? e->acct : NULL, purpose, e->key, typed,
                             &left, &match);
    if (res == NATOMM_CODE_WRONG)
        count_miss(c, bucket);
    if (res != NATOMM_CODE_OK) {
        natomm_codes_answer_failure(c, res, left);
        return 1;
    }
    natomm_db_exec(c->db, NATOMM_SQL_MISS_CLEAR, (const char *[]){bucket});
    e->payload = match[CODE_PAYLOAD];
    return 0;
}
