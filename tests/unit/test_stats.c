/* Unit tests for src/core/stats.c: counting into a block, the snapshot,
 * and the Prometheus text format 0.0.4 of every family. */
#include <string.h>
#include "apr_general.h"
#include "apr_pools.h"
#include "apr_strings.h"
#include "natomm_stats.h"
#include "check.h"

static apr_pool_t *pool;

/* Whether text has line as one whole line. */
static int has_line(const char *text, const char *line)
{
    size_t n = strlen(line);
    const char *s = text;

    while ((s = strstr(s, line)) != NULL) {
        if ((s == text || s[-1] == '\n') && s[n] == '\n')
            return 1;
        s++;
    }
    return 0;
}

static void test_nothing_attached(void)
{
    natomm_stats_attach(NULL);
    CHECK_NULL(natomm_stats());
    /* no block: counting is a no-op, not a crash */
    natomm_stats_count_event("login");
    natomm_stats_count_gate(NATOMM_GATE_COOKIE);
    natomm_stats_set_outbox(3, 4);
    natomm_stats_hash_wait(1000);
    CHECK(1);
}

static void test_counting(void)
{
    natomm_stats_t *b = apr_pcalloc(pool, sizeof(*b)), copy;
    char *text;

    natomm_stats_attach(b);
    CHECK(natomm_stats() == b);
    CHECK_INT(natomm_stats_event("login_failed"), NATOMM_EV_login_failed);
    CHECK_INT(natomm_stats_event("no such event"), NATOMM_EV_other);
    CHECK_INT(natomm_stats_event(NULL), NATOMM_EV_other);
    natomm_stats_count_event("register");
    natomm_stats_count_event("login_failed");
    natomm_stats_count_event("login_failed");
    natomm_stats_count_event("whatever");
    natomm_stats_count_gate(NATOMM_GATE_DENIED);
    natomm_stats_count_gate(NATOMM_GATE_COUNT);          /* out of range: ignored */
    natomm_stats_count_refusal(NATOMM_REFUSED_RESEND);
    natomm_stats_count_mail(NATOMM_MAIL_RETRIED);
    natomm_stats_set_outbox(7, 42);
    natomm_stats_set_db(0);
    natomm_stats_hash_busy(1);
    natomm_stats_hash_busy(1);
    natomm_stats_hash_busy(-1);
    natomm_stats_hash_wait(3000);                        /* 3 ms */
    natomm_stats_hash_wait(2000000);                     /* 2 s */
    CHECK_INT(b->events[NATOMM_EV_register], 1);
    CHECK_INT(b->events[NATOMM_EV_login_failed], 2);
    CHECK_INT(b->events[NATOMM_EV_other], 1);
    CHECK_INT(b->gate[NATOMM_GATE_DENIED], 1);

    natomm_stats_snapshot(b, &copy);
    CHECK(!memcmp(&copy, b, sizeof(copy)));

    text = natomm_stats_render(pool, b);
    CHECK(has_line(text, "# TYPE natomm_events_total counter"));
    CHECK(has_line(text, "natomm_events_total{event=\"register\"} 1"));
    CHECK(has_line(text, "natomm_events_total{event=\"login_failed\"} 2"));
    CHECK(has_line(text, "natomm_events_total{event=\"login\"} 0"));
    CHECK(has_line(text, "natomm_gate_requests_total{result=\"denied\"} 1"));
    CHECK(has_line(text, "natomm_gate_requests_total{result=\"cookie\"} 0"));
    CHECK(has_line(text, "natomm_throttle_refusals_total{kind=\"resend\"} 1"));
    CHECK(has_line(text, "natomm_mail_total{result=\"retried\"} 1"));
    CHECK(has_line(text, "# TYPE natomm_outbox_queued gauge"));
    CHECK(has_line(text, "natomm_outbox_queued 7"));
    CHECK(has_line(text, "natomm_outbox_oldest_age_seconds 42"));
    CHECK(has_line(text, "natomm_db_up 0"));
    CHECK(has_line(text, "natomm_hash_slots_busy 1"));
    CHECK(has_line(text, "# TYPE natomm_hash_wait_seconds histogram"));
    CHECK(has_line(text, "natomm_hash_wait_seconds_bucket{le=\"0.001\"} 0"));
    CHECK(has_line(text, "natomm_hash_wait_seconds_bucket{le=\"0.005\"} 1"));
    CHECK(has_line(text, "natomm_hash_wait_seconds_bucket{le=\"1\"} 1"));
    CHECK(has_line(text, "natomm_hash_wait_seconds_bucket{le=\"5\"} 2"));
    CHECK(has_line(text, "natomm_hash_wait_seconds_bucket{le=\"+Inf\"} 2"));
    CHECK(has_line(text, "natomm_hash_wait_seconds_sum 2.003000"));
    CHECK(has_line(text, "natomm_hash_wait_seconds_count 2"));
    /* the text format ends every line, the last one too */
    CHECK(text[strlen(text) - 1] == '\n');

    /* a database never reported is not shown down; a wrapped busy count is 0 */
    memset(b, 0, sizeof(*b));
    natomm_stats_hash_busy(-1);
    text = natomm_stats_render(pool, b);
    CHECK(has_line(text, "natomm_db_up 1"));
    CHECK(has_line(text, "natomm_hash_slots_busy 0"));
    natomm_stats_attach(NULL);
}

int main(void)
{
    apr_initialize();
    apr_pool_create(&pool, NULL);
    test_nothing_attached();
    test_counting();
    apr_pool_destroy(pool);
    apr_terminate();
    return check_done("test_stats");
}
