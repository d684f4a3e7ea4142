/* The "SetHandler natomm-subscribers" handler (see natomm_handle.h): the
 * newsletter's subscribers as CSV for whoever sends it, each with a
 * ready-made one-click unsubscribe URL, so the sender never needs the site
 * key; ?since=<time> lists the unsubscribes since then instead (accounts
 * that unsubscribed, and subscribers who deleted their account), so the
 * sending tool can sync. natommctl subscribers --csv writes the same bytes
 * (natomm_export.h).
 *
 * The list is read a page at a time, each page on a connection of its own
 * in a pool of its own, so a long list holds neither a connection nor its
 * rows for the length of the answer. */
#include "natomm_handle.h"
#include <string.h>
#include "http_core.h"
#include "http_log.h"
#include "http_protocol.h"
#include "apr_buckets.h"
#include "apr_strings.h"
#include "util_filter.h"
#include "natomm_clock.h"
#include "natomm_export.h"
#include "natomm_form.h"

/* The ?since= of the request: 0 and *since (-1: none), or answered 400. */
static int since_arg(request_rec *r, apr_int64_t *since)
{
    apr_table_t *q;
    const char *v = NULL;

    *since = -1;
    if (r->args && *r->args) {
        if (natomm_form_parse(r->pool, r->args, strlen(r->args), &q)) {
            natomm_reply_bad_field(r, "since");
            return 1;
        }
        v = apr_table_get(q, "since");
    }
    if (v && natomm_export_parse_time(v, natomm_now(), since)) {
        natomm_reply_bad_field(r, "since");
        return 1;
    }
    return 0;
}

/* What every one-click URL begins with: the same as in the mail. */
static const char *unsubscribe_base(request_rec *r)
{
    return natomm_cfg_account_url(r, "/newsletter/unsubscribe?token=");
}

/* One page of a listing, after the id *cursor: its records appended to
 * out, *cursor moved on. The rows read, or -1. */
static int page(request_rec *r, natomm_sql_t st, apr_int64_t since,
                apr_int64_t *cursor, const char *base, apr_bucket_brigade *out)
{
    apr_pool_t *p;
    natomm_db *db;
    apr_array_header_t *rows;
    const char *key;
    int n, i, listing_since = st != NATOMM_SQL_EXPORT_SUBSCRIBERS;

    apr_pool_create(&p, r->pool);
    if (!(db = natomm_db_open(p, r->server)) || !(key = natomm_db_code_key(db))) {
        apr_pool_destroy(p);
        return -1;
    }
    n = natomm_db_rows(db, st, listing_since
                       ? (const char *[]){natomm_db_num(p, since), natomm_db_num(p, *cursor)}
                       : (const char *[]){natomm_db_num(p, *cursor)}, &rows);
    natomm_db_close(db);
    for (i = 0; i < n; i++) {
        const char **c = APR_ARRAY_IDX(rows, i, const char **);
        natomm_export_subscriber_t s = {
            st == NATOMM_SQL_EXPORT_DELETED ? NULL : c[SUB_ID], c[SUB_EMAIL],
            c[SUB_NAME], c[SUB_ORG], c[SUB_LANG], c[SUB_AT], c[SUB_IP],
            c[SUB_WITHDRAWN]
        };
        char *rec = natomm_export_subscriber(p, &s, key, base, listing_since);

        *cursor = apr_atoi64(c[SUB_ID]);
        if (!rec) {
            n = -1;
            break;
        }
        apr_brigade_write(out, NULL, NULL, rec, strlen(rec));
    }
    apr_pool_destroy(p);
    return n;
}

/* Sends what is gathered; 0, or -1 when the client went away. */
static int flush(request_rec *r, apr_bucket_brigade *bb)
{
    apr_status_t rv = ap_pass_brigade(r->output_filters, bb);
    apr_brigade_cleanup(bb);
    return rv == APR_SUCCESS && !r->connection->aborted ? 0 : -1;
}

/* A failure after the first bytes: the answer is cut short, so that the
 * client cannot take a partial list for a whole one (no last chunk, the
 * connection closed, as mod_proxy does when its backend fails). */
static int cut_short(request_rec *r, apr_bucket_brigade *bb)
{
    ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                  "NATOMM: the subscriber export failed while it was sent");
    apr_brigade_cleanup(bb);
    APR_BRIGADE_INSERT_TAIL(bb, ap_bucket_error_create(HTTP_BAD_GATEWAY, NULL,
                                                       r->pool, r->connection->bucket_alloc));
    APR_BRIGADE_INSERT_TAIL(bb, apr_bucket_eos_create(r->connection->bucket_alloc));
    r->connection->keepalive = AP_CONN_CLOSE;
    ap_pass_brigade(r->output_filters, bb);
    return OK;
}

int natomm_subscribers_handler(request_rec *r)
{
    static const natomm_sql_t subscribers[] = {NATOMM_SQL_EXPORT_SUBSCRIBERS};
    static const natomm_sql_t since_lists[] = {NATOMM_SQL_EXPORT_WITHDRAWN,
                                               NATOMM_SQL_EXPORT_DELETED};
    const natomm_sql_t *lists;
    apr_bucket_brigade *bb;
    apr_int64_t since, cursor;
    const char *base, *header;
    int nlists, i, n, sent = 0;

    if (!r->handler || strcmp(r->handler, NATOMM_SUBSCRIBERS_HANDLER))
        return DECLINED;
    ap_discard_request_body(r);
    if (r->method_number != M_GET) {
        apr_table_setn(r->headers_out, "Allow", "GET, HEAD");
        return natomm_reply_error(r, NATOMM_E_METHOD_NOT_ALLOWED);
    }
    if (since_arg(r, &since))
        return OK;
    lists = since < 0 ? subscribers : since_lists;
    nlists = since < 0 ? 1 : 2;
    base = unsubscribe_base(r);
    header = natomm_export_subscribers_header(since >= 0);
    bb = apr_brigade_create(r->pool, r->connection->bucket_alloc);
    apr_brigade_write(bb, NULL, NULL, header, strlen(header));
    for (i = 0; i < nlists; i++) {
        cursor = 0;
        do {
            if ((n = page(r, lists[i], since, &cursor, base, bb)) < 0) {
                if (!sent) {
                    apr_brigade_cleanup(bb);
                    return natomm_reply_error(r, NATOMM_E_STORAGE_UNAVAILABLE);
                }
                return cut_short(r, bb);
            }
            if (!sent) {
                ap_set_content_type(r, "text/csv; charset=utf-8; header=present");
                apr_table_setn(r->headers_out, "Cache-Control", "no-store");
                apr_table_setn(r->headers_out, "X-Content-Type-Options", "nosniff");
                apr_table_setn(r->headers_out, "Content-Disposition", since < 0
                               ? "attachment; filename=\"subscribers.csv\""
                               : "attachment; filename=\"unsubscribes.csv\"");
                sent = 1;
                if (r->header_only)
                    return OK;
            }
            if (flush(r, bb))
                return OK;
        } while (n == NATOMM_EXPORT_PAGE);
    }
    return OK;
}
