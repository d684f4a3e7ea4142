/* The "SetHandler natomm-metrics" handler, and the module's lines on
 * mod_status's page (see natomm_handle.h). Both read the counters of
 * natomm_stats.h, which every process of the server shares: whichever
 * child answers, the numbers are the server's. */
#include "natomm_handle.h"
#include <string.h>
#include "http_protocol.h"
#include "apr_strings.h"
#include "mod_status.h"
#include "natomm_stats.h"

int natomm_metrics_handler(request_rec *r)
{
    /* no shared memory (cannot happen once started): every number is 0 */
    static const natomm_stats_t none;
    const natomm_stats_t *s = natomm_stats() ? natomm_stats() : &none;
    const char *text;

    if (!r->handler || strcmp(r->handler, NATOMM_METRICS_HANDLER))
        return DECLINED;
    ap_discard_request_body(r);
    if (r->method_number != M_GET) {
        apr_table_setn(r->headers_out, "Allow", "GET, HEAD");
        return natomm_reply_error(r, NATOMM_E_METHOD_NOT_ALLOWED);
    }
    text = natomm_stats_render(r->pool, s);
    ap_set_content_type(r, "text/plain; version=0.0.4");
    apr_table_setn(r->headers_out, "Cache-Control", "no-store");
    ap_set_content_length(r, strlen(text));
    if (!r->header_only)
        ap_rputs(text, r);
    return OK;
}

/* ---- mod_status ------------------------------------------------------ */

typedef struct {
    const char *key;           /* for ?auto: "NatommLogins: 3" */
    const char *label;         /* for the page */
    apr_uint64_t value;
} status_line_t;

static apr_uint64_t sum(const apr_uint64_t *v, int n)
{
    apr_uint64_t total = 0;
    int i;

    for (i = 0; i < n; i++)
        total += v[i];
    return total;
}

int natomm_metrics_status(request_rec *r, int flags)
{
    natomm_stats_t s;

    if (!natomm_stats())
        return OK;
    natomm_stats_snapshot(natomm_stats(), &s);
    {
        const status_line_t lines[] = {
            {"NatommLogins", "logins", s.events[NATOMM_EV_login]},
            {"NatommLoginsFailed", "failed logins", s.events[NATOMM_EV_login_failed]},
            {"NatommLockouts", "lockouts", s.events[NATOMM_EV_lockout]},
            {"NatommRegistrations", "registrations", s.events[NATOMM_EV_register]},
            {"NatommGateCookie", "gate: passed by cookie", s.gate[NATOMM_GATE_COOKIE]},
            {"NatommGateLink", "gate: passed by link", s.gate[NATOMM_GATE_LINK]},
            {"NatommGateDenied", "gate: denied", s.gate[NATOMM_GATE_DENIED]},
            {"NatommGateUnavailable", "gate: database unavailable",
             s.gate[NATOMM_GATE_UNAVAILABLE]},
            {"NatommThrottleRefusals", "refused by a limit",
             sum(s.refusals, NATOMM_REFUSED_COUNT)},
            {"NatommMailSent", "mail sent", s.mail[NATOMM_MAIL_SENT]},
            {"NatommMailRetried", "mail retried", s.mail[NATOMM_MAIL_RETRIED]},
            {"NatommMailGivenUp", "mail given up", s.mail[NATOMM_MAIL_GIVEN_UP]},
            {"NatommOutboxQueued", "outbox: queued", s.outbox_queued},
            {"NatommOutboxOldestAge", "outbox: oldest (seconds)", s.outbox_oldest_age},
            {"NatommDatabaseUp", "database up", s.db_known ? s.db_up : 1},
            /* a decrement racing the read may wrap for an instant */
            {"NatommHashSlotsBusy", "password hashes running",
             s.hash_slots_busy > APR_UINT64_C(1) << 62 ? 0 : s.hash_slots_busy},
        };
        int n = (int)(sizeof(lines) / sizeof(lines[0])), i;

        if (flags & AP_STATUS_SHORT) {
            for (i = 0; i < n; i++)
                ap_rprintf(r, "%s: %" APR_UINT64_T_FMT "\n", lines[i].key,
                           lines[i].value);
            return OK;
        }
        ap_rputs("<hr />\n<h2>mod_natomm</h2>\n", r);
        ap_rputs(flags & AP_STATUS_NOTABLE ? "<dl>\n" : "<table border=\"0\">\n", r);
        for (i = 0; i < n; i++)
            ap_rprintf(r, flags & AP_STATUS_NOTABLE
                       ? "<dt>%s: %" APR_UINT64_T_FMT "</dt>\n"
                       : "<tr><td>%s</td><td>%" APR_UINT64_T_FMT "</td></tr>\n",
                       lines[i].label, lines[i].value);
        ap_rputs(flags & AP_STATUS_NOTABLE ? "</dl>\n" : "</table>\n", r);
        ap_rputs("<p>The same and more as Prometheus text: "
                 "<code>SetHandler natomm-metrics</code>.</p>\n", r);
    }
    return OK;
}
