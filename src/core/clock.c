/* The clock (see natomm_clock.h). */
#include "natomm_clock.h"
#include "apr_strings.h"

apr_int64_t natomm_now(void)
{
    return apr_time_sec(apr_time_now());
}

apr_int64_t natomm_now_ms(void)
{
    return apr_time_as_msec(apr_time_now());
}

static const char *format(apr_pool_t *p, apr_time_t t, const char *fmt)
{
    apr_time_exp_t e;
    char buf[64];
    apr_size_t n = 0;

    apr_time_exp_gmt(&e, t);
    apr_strftime(buf, &n, sizeof(buf), fmt, &e);
    return apr_pstrmemdup(p, buf, n);
}

const char *natomm_clock_utc_text(apr_pool_t *p, apr_int64_t when)
{
    return format(p, apr_time_from_sec(when), "%Y-%m-%d %H:%M UTC");
}

const char *natomm_clock_rfc5322(apr_pool_t *p, apr_time_t t)
{
    /* C locale names: %a and %b are English whatever the server's locale */
    static const char *const days[] = {"Sun", "Mon", "Tue", "Wed", "Thu",
                                       "Fri", "Sat"};
    static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May",
                                         "Jun", "Jul", "Aug", "Sep", "Oct",
                                         "Nov", "Dec"};
    apr_time_exp_t e;

    apr_time_exp_gmt(&e, t);
    return apr_psprintf(p, "%s, %02d %s %d %02d:%02d:%02d +0000",
                        days[e.tm_wday], e.tm_mday, months[e.tm_mon],
                        e.tm_year + 1900, e.tm_hour, e.tm_min, e.tm_sec);
}
