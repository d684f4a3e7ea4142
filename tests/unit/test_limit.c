/* Unit tests for src/core/limit.c: the span a bucket is counted over, the
 * wait (Retry-After) for one more event, and the account lock durations. */
#include <limits.h>
#include "apr_general.h"
#include "natomm_limit.h"
#include "check.h"

#define NOW ((apr_int64_t)1796221800)

static void wait_is(int limit, apr_int64_t window, apr_int64_t interval,
                    int count, apr_int64_t oldest, apr_int64_t newest,
                    apr_int64_t want, int line)
{
    natomm_limit_t lim = { limit, window, interval };
    natomm_limit_seen_t seen = { count, oldest, newest };
    apr_int64_t got = natomm_limit_wait(&lim, &seen, NOW);

    if (!check_int(got, want, __FILE__, line, "natomm_limit_wait"))
        fprintf(stderr, "    (limit %d/%llds, interval %llds; count %d, oldest "
                "now%+lld, newest now%+lld)\n", limit, (long long)window,
                (long long)interval, count, (long long)(oldest - NOW),
                (long long)(newest - NOW));
}

static void test_span(void)
{
    natomm_limit_t a = { 5, 3600, 60 }, b = { 0, 0, 60 }, c = { 0, 0, 0 },
                   d = { 3, 600, 600 }, e = { 3, 10, 3600 };

    CHECK_INT(natomm_limit_span(&a), 3600);
    CHECK_INT(natomm_limit_span(&b), 60);
    CHECK_INT(natomm_limit_span(&c), 0);
    CHECK_INT(natomm_limit_span(&d), 600);
    CHECK_INT(natomm_limit_span(&e), 3600);
}

static void test_count_limit(void)
{
    /* 5 per hour, no interval */
    wait_is(5, 3600, 0, 0, 0, 0, 0, __LINE__);
    wait_is(5, 3600, 0, 1, NOW - 10, NOW - 10, 0, __LINE__);
    wait_is(5, 3600, 0, 4, NOW - 1000, NOW - 1, 0, __LINE__);
    /* the fifth is in: the sixth waits for the oldest to leave the window */
    wait_is(5, 3600, 0, 5, NOW - 1000, NOW - 1, 2600, __LINE__);
    wait_is(5, 3600, 0, 5, NOW - 3599, NOW, 1, __LINE__);
    wait_is(5, 3600, 0, 5, NOW - 3600, NOW, 0, __LINE__);   /* just left */
    wait_is(5, 3600, 0, 5, NOW - 4000, NOW, 0, __LINE__);   /* never negative */
    wait_is(5, 3600, 0, 5, NOW, NOW, 3600, __LINE__);
    /* more than the limit (a race, a lowered limit): still the oldest */
    wait_is(5, 3600, 0, 50, NOW - 100, NOW, 3500, __LINE__);
    /* a limit of one */
    wait_is(1, 60, 0, 1, NOW - 15, NOW - 15, 45, __LINE__);
    /* the count is what matters, not how close the events are */
    wait_is(5, 3600, 0, 4, NOW, NOW, 0, __LINE__);
}

static void test_interval(void)
{
    /* no count limit, 60 s between two events */
    wait_is(0, 0, 60, 1, NOW - 10, NOW - 10, 50, __LINE__);
    wait_is(0, 0, 60, 1, NOW, NOW, 60, __LINE__);
    wait_is(0, 0, 60, 1, NOW - 59, NOW - 59, 1, __LINE__);
    wait_is(0, 0, 60, 1, NOW - 60, NOW - 60, 0, __LINE__);
    wait_is(0, 0, 60, 1, NOW - 6000, NOW - 6000, 0, __LINE__);
    /* limit 0: any count is allowed */
    wait_is(0, 3600, 60, 1000000, NOW - 3000, NOW - 61, 0, __LINE__);
    wait_is(0, 3600, 60, INT_MAX, NOW - 3000, NOW - 20, 40, __LINE__);
    /* an event stamped in the future (clock step): the wait counts from it */
    wait_is(0, 0, 60, 1, NOW + 5, NOW + 5, 65, __LINE__);
    /* no interval, no limit: never a wait */
    wait_is(0, 0, 0, 7, NOW, NOW, 0, __LINE__);
}

static void test_both(void)
{
    /* 3 per 10 minutes and 30 s apart: the larger wait wins */
    wait_is(3, 600, 30, 3, NOW - 500, NOW - 10, 100, __LINE__);
    wait_is(3, 600, 30, 3, NOW - 590, NOW - 5, 25, __LINE__);
    wait_is(3, 600, 30, 2, NOW - 590, NOW - 5, 25, __LINE__);
    wait_is(3, 600, 30, 2, NOW - 590, NOW - 30, 0, __LINE__);
    wait_is(3, 600, 30, 3, NOW - 600, NOW - 30, 0, __LINE__);
    wait_is(3, 600, 30, 3, NOW - 600, NOW - 29, 1, __LINE__);
    /* nothing seen: no wait whatever the stale times say */
    wait_is(3, 600, 30, 0, NOW, NOW, 0, __LINE__);
    wait_is(3, 600, 30, -1, NOW, NOW, 0, __LINE__);
}

static void lock_is(int threshold, apr_int64_t first, apr_int64_t max,
                    int fails, apr_int64_t want, int line)
{
    apr_int64_t got = natomm_limit_lock_for(threshold, first, max, fails);
    if (!check_int(got, want, __FILE__, line, "natomm_limit_lock_for"))
        fprintf(stderr, "    (threshold %d, first %lld, max %lld, fails %d)\n",
                threshold, (long long)first, (long long)max, fails);
}

static void test_lock(void)
{
    /* none below the threshold */
    lock_is(5, 60, 3600, 0, 0, __LINE__);
    lock_is(5, 60, 3600, 1, 0, __LINE__);
    lock_is(5, 60, 3600, 4, 0, __LINE__);
    lock_is(5, 60, 3600, -3, 0, __LINE__);
    lock_is(5, 60, 3600, INT_MIN, 0, __LINE__);
    /* first at it, doubling after, up to max */
    lock_is(5, 60, 3600, 5, 60, __LINE__);
    lock_is(5, 60, 3600, 6, 120, __LINE__);
    lock_is(5, 60, 3600, 7, 240, __LINE__);
    lock_is(5, 60, 3600, 8, 480, __LINE__);
    lock_is(5, 60, 3600, 9, 960, __LINE__);
    lock_is(5, 60, 3600, 10, 1920, __LINE__);
    lock_is(5, 60, 3600, 11, 3600, __LINE__);
    lock_is(5, 60, 3600, 12, 3600, __LINE__);
    lock_is(5, 60, 3600, 1000, 3600, __LINE__);
    lock_is(5, 60, 3600, INT_MAX, 3600, __LINE__);
    /* a threshold of one: locked from the first failure */
    lock_is(1, 30, 86400, 1, 30, __LINE__);
    lock_is(1, 30, 86400, 2, 60, __LINE__);
    lock_is(1, 30, 86400, 0, 0, __LINE__);
    /* first above max: max */
    lock_is(3, 7200, 3600, 3, 3600, __LINE__);
    /* a day-long cap reached exactly */
    lock_is(3, 675, 86400, 10, 86400, __LINE__);   /* 675 * 128 = 86400 */
    lock_is(3, 675, 86400, 9, 43200, __LINE__);
}

/* IPv4 as it is, IPv4-mapped IPv6 as IPv4, IPv6 by its /64 */
static void test_client(void)
{
    apr_pool_t *p;
    static const char *const same64[] = {
        "2001:db8:1:2::1", "2001:db8:1:2:ffff:ffff:ffff:ffff", "2001:0db8:0001:0002::abcd",
        "2001:DB8:1:2:0:0:0:7", NULL
    };
    int i;

    apr_pool_create(&p, NULL);
    CHECK_STR(natomm_limit_client(p, "192.0.2.7"), "192.0.2.7");
    CHECK_STR(natomm_limit_client(p, "127.0.0.2"), "127.0.0.2");
    CHECK_STR(natomm_limit_client(p, "::ffff:192.0.2.7"), "192.0.2.7");
    CHECK_STR(natomm_limit_client(p, "::FFFF:127.0.0.3"), "127.0.0.3");
    for (i = 0; same64[i]; i++)
        CHECK_STR(natomm_limit_client(p, same64[i]), "2001:db8:1:2::/64");
    /* the next /64 is another client */
    CHECK_STR(natomm_limit_client(p, "2001:db8:1:3::1"), "2001:db8:1:3::/64");
    CHECK_STR(natomm_limit_client(p, "::1"), "0:0:0:0::/64");
    CHECK_STR(natomm_limit_client(p, "fe80::1%eth0"), "fe80::1%eth0");
    /* not an address: returned as given */
    CHECK_STR(natomm_limit_client(p, "not-an-ip"), "not-an-ip");
    CHECK_STR(natomm_limit_client(p, "1:2:3"), "1:2:3");
    CHECK_NULL(natomm_limit_client(p, NULL));
    apr_pool_destroy(p);
}

int main(void)
{
    apr_initialize();
    test_client();
    test_span();
    test_count_limit();
    test_interval();
    test_both();
    test_lock();
    apr_terminate();
    return check_done("test_limit");
}
