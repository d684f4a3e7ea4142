/* The numbers operators alert on (SPEC §10): counters, gauges and one
 * histogram, kept in memory that every process of the server shares
 * (natomm_shared.h) and updated with atomic operations, so no path takes a
 * lock to count; rendered in the Prometheus text format 0.0.4.
 * Pure: C and APR. */
#ifndef NATOMM_STATS_H
#define NATOMM_STATS_H

#include "apr.h"
#include "apr_pools.h"

/* account events, by the names the error log gives them */
#define NATOMM_STAT_EVENTS(X) \
    X(register) X(register_again) X(register_existing) X(register_throttled) \
    X(verify) X(resend_register) X(resend_reset) X(login) X(login_failed) \
    X(login_locked) X(login_unverified) X(lockout) X(logout) \
    X(reset_requested) X(reset_code_accepted) X(reset) X(password_change) \
    X(password_check_failed) X(delete) X(newsletter_subscribe) \
    X(newsletter_unsubscribe) X(newsletter_unsubscribe_oneclick) \
    X(download_link) X(disable) X(enable) X(admin_logout) X(admin_delete) X(other)

#define NATOMM_STAT_EV_ENUM(name) NATOMM_EV_##name,
typedef enum { NATOMM_STAT_EVENTS(NATOMM_STAT_EV_ENUM) NATOMM_EV_COUNT } natomm_stat_event_t;

typedef enum {
    NATOMM_GATE_COOKIE, NATOMM_GATE_LINK, NATOMM_GATE_DENIED,
    NATOMM_GATE_UNAVAILABLE, NATOMM_GATE_COUNT
} natomm_stat_gate_t;

typedef enum {
    NATOMM_REFUSED_LOGIN_FAILURES, NATOMM_REFUSED_REGISTRATIONS,
    NATOMM_REFUSED_RESET_REQUESTS, NATOMM_REFUSED_CODE_ENTRIES,
    NATOMM_REFUSED_RESEND, NATOMM_REFUSED_CODE_MISSES, NATOMM_REFUSED_HASH_WAIT,
    NATOMM_REFUSED_COUNT
} natomm_stat_refusal_t;

typedef enum {
    NATOMM_MAIL_SENT, NATOMM_MAIL_RETRIED, NATOMM_MAIL_GIVEN_UP, NATOMM_MAIL_COUNT
} natomm_stat_mail_t;

#define NATOMM_HASH_WAIT_BUCKETS 10

typedef struct {
    apr_uint64_t events[NATOMM_EV_COUNT];
    apr_uint64_t gate[NATOMM_GATE_COUNT];
    apr_uint64_t refusals[NATOMM_REFUSED_COUNT];
    apr_uint64_t mail[NATOMM_MAIL_COUNT];
    /* gauges: the watchdog sets the outbox and database ones */
    apr_uint64_t outbox_queued, outbox_oldest_age, db_up, db_known;
    apr_uint64_t hash_slots_busy;
    /* the hash-slot wait: cumulative buckets, count, sum in microseconds */
    apr_uint64_t hash_wait[NATOMM_HASH_WAIT_BUCKETS];
    apr_uint64_t hash_wait_count, hash_wait_sum_us;
} natomm_stats_t;

/* The block counted into (NULL until natomm_stats_attach: then nothing is
 * counted, which suits a program without shared memory). */
void natomm_stats_attach(natomm_stats_t *block);
natomm_stats_t *natomm_stats(void);

/* The event of a log name ("login_failed"); NATOMM_EV_other when unknown. */
natomm_stat_event_t natomm_stats_event(const char *name);

void natomm_stats_count_event(const char *name);
void natomm_stats_count_gate(natomm_stat_gate_t result);
void natomm_stats_count_refusal(natomm_stat_refusal_t kind);
void natomm_stats_count_mail(natomm_stat_mail_t result);
void natomm_stats_set_outbox(apr_uint64_t queued, apr_uint64_t oldest_age);
void natomm_stats_set_db(int up);
/* delta +1 when a hash slot is taken, -1 when given back */
void natomm_stats_hash_busy(int delta);
void natomm_stats_hash_wait(apr_interval_time_t waited);

/* A copy of a block, each value read with an atomic load. */
void natomm_stats_snapshot(const natomm_stats_t *block, natomm_stats_t *copy);

/* The text format of a block (a snapshot read with atomic loads). */
char *natomm_stats_render(apr_pool_t *p, const natomm_stats_t *block);

#endif
