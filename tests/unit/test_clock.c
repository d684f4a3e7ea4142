/* Unit tests for src/core/clock.c: the clock, the mail expiry text and the
 * RFC 5322 Date, for known times (every month and weekday, leap days, the
 * 32-bit rollover, before 1970) and whatever the local time zone. */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "apr_general.h"
#include "apr_pools.h"
#include "apr_time.h"
#include "natomm_clock.h"
#include "check.h"

static apr_pool_t *pool;

typedef struct {
    apr_int64_t sec;
    const char *rfc5322, *utc;
} known_t;

static const known_t known[] = {
    { 0LL, "Thu, 01 Jan 1970 00:00:00 +0000", "1970-01-01 00:00 UTC" },
    { 1796221800LL, "Wed, 02 Dec 2026 14:30:00 +0000", "2026-12-02 14:30 UTC" },
    { 1709168461LL, "Thu, 29 Feb 2024 01:01:01 +0000", "2024-02-29 01:01 UTC" },
    { 951782400LL, "Tue, 29 Feb 2000 00:00:00 +0000", "2000-02-29 00:00 UTC" },
    { 946684800LL, "Sat, 01 Jan 2000 00:00:00 +0000", "2000-01-01 00:00 UTC" },
    { 4107542400LL, "Mon, 01 Mar 2100 00:00:00 +0000", "2100-03-01 00:00 UTC" },
    { 2147483647LL, "Tue, 19 Jan 2038 03:14:07 +0000", "2038-01-19 03:14 UTC" },
    { 2147483648LL, "Tue, 19 Jan 2038 03:14:08 +0000", "2038-01-19 03:14 UTC" },
    { -1LL, "Wed, 31 Dec 1969 23:59:59 +0000", "1969-12-31 23:59 UTC" },
    /* one of each month, seconds and minutes that differ */
    { 1735891443LL, "Fri, 03 Jan 2025 08:04:03 +0000", "2025-01-03 08:04 UTC" },
    { 1738660086LL, "Tue, 04 Feb 2025 09:08:06 +0000", "2025-02-04 09:08 UTC" },
    { 1741169529LL, "Wed, 05 Mar 2025 10:12:09 +0000", "2025-03-05 10:12 UTC" },
    { 1743938172LL, "Sun, 06 Apr 2025 11:16:12 +0000", "2025-04-06 11:16 UTC" },
    { 1746620415LL, "Wed, 07 May 2025 12:20:15 +0000", "2025-05-07 12:20 UTC" },
    { 1749389058LL, "Sun, 08 Jun 2025 13:24:18 +0000", "2025-06-08 13:24 UTC" },
    { 1752071301LL, "Wed, 09 Jul 2025 14:28:21 +0000", "2025-07-09 14:28 UTC" },
    { 1754839944LL, "Sun, 10 Aug 2025 15:32:24 +0000", "2025-08-10 15:32 UTC" },
    { 1757608587LL, "Thu, 11 Sep 2025 16:36:27 +0000", "2025-09-11 16:36 UTC" },
    { 1760290830LL, "Sun, 12 Oct 2025 17:40:30 +0000", "2025-10-12 17:40 UTC" },
    { 1763059473LL, "Thu, 13 Nov 2025 18:44:33 +0000", "2025-11-13 18:44 UTC" },
    { 1765741716LL, "Sun, 14 Dec 2025 19:48:36 +0000", "2025-12-14 19:48 UTC" },
};

static void test_known(const char *zone)
{
    size_t i;

    for (i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
        const known_t *k = &known[i];
        const char *d = natomm_clock_rfc5322(pool, apr_time_from_sec(k->sec));
        const char *u = natomm_clock_utc_text(pool, k->sec);
        if (!check_str(d, k->rfc5322, __FILE__, __LINE__, "rfc5322"))
            fprintf(stderr, "    (time %lld, TZ=%s)\n", (long long)k->sec, zone);
        if (!check_str(u, k->utc, __FILE__, __LINE__, "utc_text"))
            fprintf(stderr, "    (time %lld, TZ=%s)\n", (long long)k->sec, zone);
    }
    /* microseconds do not show, and do not round up */
    CHECK_STR(natomm_clock_rfc5322(pool, apr_time_from_sec(1796221800) + 999999),
              "Wed, 02 Dec 2026 14:30:00 +0000");
    /* seconds do not show in the text, and do not round up */
    CHECK_STR(natomm_clock_utc_text(pool, 1796221800 + 59), "2026-12-02 14:30 UTC");
}

/* The shape of a Date: "Ddd, DD Mmm YYYY HH:MM:SS +0000". */
static int date_shape(const char *d)
{
    static const char *const days = "Sun Mon Tue Wed Thu Fri Sat ";
    static const char *const months =
        "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec ";
    char day[5], mon[5];
    int i;

    if (!d || strlen(d) != 31)
        return 0;
    memcpy(day, d, 3); day[3] = ' '; day[4] = '\0';
    memcpy(mon, d + 8, 3); mon[3] = ' '; mon[4] = '\0';
    if (!strstr(days, day) || !strstr(months, mon))
        return 0;
    for (i = 0; i < 31; i++) {
        const char *pat = "xxx, 00 xxx 0000 00:00:00 +0000";
        if (pat[i] == '0' && (d[i] < '0' || d[i] > '9'))
            return 0;
        if (pat[i] != '0' && pat[i] != 'x' && pat[i] != d[i])
            return 0;
    }
    return 1;
}

static void test_now(void)
{
    apr_int64_t before = (apr_int64_t)time(NULL);
    apr_int64_t s = natomm_now(), ms = natomm_now_ms();
    apr_int64_t after = (apr_int64_t)time(NULL);
    const char *d;

    CHECK_MSG(s >= before && s <= after, "now %lld not in [%lld, %lld]",
              (long long)s, (long long)before, (long long)after);
    CHECK_MSG(ms / 1000 >= s && ms / 1000 <= after + 1,
              "now_ms %lld against now %lld", (long long)ms, (long long)s);
    /* the clock does not go backwards between two reads */
    CHECK(natomm_now_ms() >= ms);
    CHECK(natomm_now() >= s);

    d = natomm_clock_rfc5322(pool, apr_time_now());
    CHECK_MSG(date_shape(d), "Date \"%s\"", d ? d : "(null)");
    d = natomm_clock_utc_text(pool, natomm_now());
    CHECK_MSG(d && strlen(d) == 20 && !strcmp(d + 16, " UTC")
              && d[4] == '-' && d[7] == '-' && d[10] == ' ' && d[13] == ':',
              "utc_text \"%s\"", d ? d : "(null)");
}

int main(void)
{
    static const char *const zones[] = {
        "America/New_York", "Asia/Kolkata", "Pacific/Kiritimati", "EST5EDT",
        "XYZ-13:45", NULL };
    int i;

    apr_initialize();
    apr_pool_create(&pool, NULL);

    test_known(getenv("TZ") ? getenv("TZ") : "(unset)");
    /* the output is UTC whatever the server's zone */
    for (i = 0; zones[i]; i++) {
        setenv("TZ", zones[i], 1);
        tzset();
        test_known(zones[i]);
    }
    unsetenv("TZ");
    tzset();
    test_now();

    apr_pool_destroy(pool);
    apr_terminate();
    return check_done("test_clock");
}
