/* Counters in shared memory (see natomm_stats.h). */
#include "natomm_stats.h"
#include <string.h>
#include "apr_strings.h"
#include "apr_tables.h"

static natomm_stats_t *stats;

#define NATOMM_STAT_EV_NAME(name) #name,
static const char *const event_names[NATOMM_EV_COUNT] = {
    NATOMM_STAT_EVENTS(NATOMM_STAT_EV_NAME)
};
static const char *const gate_names[NATOMM_GATE_COUNT] = {
    "cookie", "link", "denied", "unavailable"
};
static const char *const refusal_names[NATOMM_REFUSED_COUNT] = {
    "login_failures", "registrations", "reset_requests", "code_entries",
    "resend", "code_misses", "hash_wait"
};
static const char *const mail_names[NATOMM_MAIL_COUNT] = {
    "sent", "retried", "given_up"
};
/* upper bounds of the hash-wait buckets, in microseconds and as printed */
static const apr_uint64_t wait_bounds_us[NATOMM_HASH_WAIT_BUCKETS] = {
    1000, 5000, 10000, 25000, 50000, 100000, 250000, 500000, 1000000, 5000000
};
static const char *const wait_bounds[NATOMM_HASH_WAIT_BUCKETS] = {
    "0.001", "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "5"
};

void natomm_stats_attach(natomm_stats_t *block)
{
    stats = block;
}

natomm_stats_t *natomm_stats(void)
{
    return stats;
}

static void add(apr_uint64_t *counter, apr_uint64_t n)
{
    __atomic_fetch_add(counter, n, __ATOMIC_RELAXED);
}

static apr_uint64_t load(const apr_uint64_t *v)
{
    return __atomic_load_n(v, __ATOMIC_RELAXED);
}

natomm_stat_event_t natomm_stats_event(const char *name)
{
    int i;
    for (i = 0; name && i < NATOMM_EV_other; i++)
        if (!strcmp(event_names[i], name))
            return (natomm_stat_event_t)i;
    return NATOMM_EV_other;
}

void natomm_stats_count_event(const char *name)
{
    if (stats)
        add(&stats->events[natomm_stats_event(name)], 1);
}

void natomm_stats_count_gate(natomm_stat_gate_t result)
{
    if (stats && result < NATOMM_GATE_COUNT)
        add(&stats->gate[result], 1);
}

void natomm_stats_count_refusal(natomm_stat_refusal_t kind)
{
    if (stats && kind < NATOMM_REFUSED_COUNT)
        add(&stats->refusals[kind], 1);
}

void natomm_stats_count_mail(natomm_stat_mail_t result)
{
    if (stats && result < NATOMM_MAIL_COUNT)
        add(&stats->mail[result], 1);
}

void natomm_stats_set_outbox(apr_uint64_t queued, apr_uint64_t oldest_age)
{
    if (!stats)
        return;
    __atomic_store_n(&stats->outbox_queued, queued, __ATOMIC_RELAXED);
    __atomic_store_n(&stats->outbox_oldest_age, oldest_age, __ATOMIC_RELAXED);
}

void natomm_stats_set_db(int up)
{
    if (!stats)
        return;
    __atomic_store_n(&stats->db_up, up ? 1 : 0, __ATOMIC_RELAXED);
    __atomic_store_n(&stats->db_known, 1, __ATOMIC_RELAXED);
}

void natomm_stats_hash_busy(int delta)
{
    if (stats)
        __atomic_fetch_add(&stats->hash_slots_busy, (apr_uint64_t)(apr_int64_t)delta,
                           __ATOMIC_RELAXED);
}

void natomm_stats_hash_wait(apr_interval_time_t waited)
{
    apr_uint64_t us = waited > 0 ? (apr_uint64_t)waited : 0;
    int i;

    if (!stats)
        return;
    for (i = 0; i < NATOMM_HASH_WAIT_BUCKETS; i++)
        if (us <= wait_bounds_us[i])
            add(&stats->hash_wait[i], 1);
    add(&stats->hash_wait_count, 1);
    add(&stats->hash_wait_sum_us, us);
}

void natomm_stats_snapshot(const natomm_stats_t *block, natomm_stats_t *copy)
{
    /* every field is an apr_uint64_t */
    const apr_uint64_t *from = (const apr_uint64_t *)block;
    apr_uint64_t *to = (apr_uint64_t *)copy;
    apr_size_t i;

    for (i = 0; i < sizeof(*block) / sizeof(apr_uint64_t); i++)
        to[i] = load(&from[i]);
}

/* One metric family: HELP, TYPE and its labelled samples. */
static void family(apr_array_header_t *out, apr_pool_t *p, const char *name,
                   const char *type, const char *help, const char *label,
                   const char *const *values, const apr_uint64_t *counts, int n)
{
    int i;

    APR_ARRAY_PUSH(out, const char *) = apr_psprintf(p, "# HELP %s %s\n# TYPE %s %s\n",
                                                     name, help, name, type);
    for (i = 0; i < n; i++)
        APR_ARRAY_PUSH(out, const char *) = label
            ? apr_psprintf(p, "%s{%s=\"%s\"} %" APR_UINT64_T_FMT "\n", name, label,
                           values[i], load(&counts[i]))
            : apr_psprintf(p, "%s %" APR_UINT64_T_FMT "\n", name, load(&counts[i]));
}

static void histogram(apr_array_header_t *out, apr_pool_t *p, const natomm_stats_t *s)
{
    const char *name = "natomm_hash_wait_seconds";
    apr_uint64_t sum = load(&s->hash_wait_sum_us);
    int i;

    APR_ARRAY_PUSH(out, const char *) = apr_psprintf(p, "# HELP %s Time a password "
        "hash waited for a slot.\n# TYPE %s histogram\n", name, name);
    for (i = 0; i < NATOMM_HASH_WAIT_BUCKETS; i++)
        APR_ARRAY_PUSH(out, const char *) = apr_psprintf(p, "%s_bucket{le=\"%s\"} %"
            APR_UINT64_T_FMT "\n", name, wait_bounds[i], load(&s->hash_wait[i]));
    APR_ARRAY_PUSH(out, const char *) = apr_psprintf(p,
        "%s_bucket{le=\"+Inf\"} %" APR_UINT64_T_FMT "\n%s_sum %" APR_UINT64_T_FMT
        ".%06" APR_UINT64_T_FMT "\n%s_count %" APR_UINT64_T_FMT "\n", name,
        load(&s->hash_wait_count), name, sum / 1000000, sum % 1000000, name,
        load(&s->hash_wait_count));
}

char *natomm_stats_render(apr_pool_t *p, const natomm_stats_t *s)
{
    apr_array_header_t *out = apr_array_make(p, 32, sizeof(const char *));
    apr_uint64_t busy = load(&s->hash_slots_busy);
    apr_uint64_t db_up = load(&s->db_known) ? load(&s->db_up) : 1;

    family(out, p, "natomm_events_total", "counter", "Account events.", "event",
           event_names, s->events, NATOMM_EV_COUNT);
    family(out, p, "natomm_gate_requests_total", "counter",
           "Requests the gate decided, by how.", "result", gate_names, s->gate,
           NATOMM_GATE_COUNT);
    family(out, p, "natomm_throttle_refusals_total", "counter",
           "Requests refused by a limit, by kind.", "kind", refusal_names,
           s->refusals, NATOMM_REFUSED_COUNT);
    family(out, p, "natomm_mail_total", "counter", "Mail delivery attempts, by "
           "outcome.", "result", mail_names, s->mail, NATOMM_MAIL_COUNT);
    family(out, p, "natomm_outbox_queued", "gauge", "Messages waiting in the outbox.",
           NULL, NULL, &s->outbox_queued, 1);
    family(out, p, "natomm_outbox_oldest_age_seconds", "gauge",
           "Age of the oldest waiting message.", NULL, NULL, &s->outbox_oldest_age, 1);
    family(out, p, "natomm_db_up", "gauge", "1 when every database answers.",
           NULL, NULL, &db_up, 1);
    /* a decrement racing a read may show a transient wrap: never below 0 */
    if (busy > APR_UINT64_C(1) << 62)
        busy = 0;
    family(out, p, "natomm_hash_slots_busy", "gauge",
           "Password hashes running now.", NULL, NULL, &busy, 1);
    histogram(out, p, s);
    return apr_array_pstrcat(p, out, 0);
}
