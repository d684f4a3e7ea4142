/* Rate-limit arithmetic (see natomm_limit.h). */
#include "natomm_limit.h"
#include <string.h>
#include <arpa/inet.h>
#include "apr_strings.h"
#include "natomm_backoff.h"

apr_int64_t natomm_limit_span(const natomm_limit_t *lim)
{
    return lim->window > lim->min_interval ? lim->window : lim->min_interval;
}

apr_int64_t natomm_limit_wait(const natomm_limit_t *lim,
                              const natomm_limit_seen_t *seen, apr_int64_t now)
{
    apr_int64_t wait = 0;

    if (seen->count <= 0)
        return 0;
    if (lim->min_interval && seen->newest + lim->min_interval > now)
        wait = seen->newest + lim->min_interval - now;
    if (lim->limit && seen->count >= lim->limit) {
        /* the window frees a place when its oldest event leaves it */
        apr_int64_t w = seen->oldest + lim->window - now;
        if (w > wait)
            wait = w;
    }
    return wait > 0 ? wait : 0;
}

apr_int64_t natomm_limit_lock_for(int threshold, apr_int64_t first,
                                  apr_int64_t max, int fails)
{
    if (fails < threshold)
        return 0;
    return natomm_backoff(first, max, fails - threshold);
}

const char *natomm_limit_client(apr_pool_t *p, const char *ip)
{
    unsigned char a[16];
    static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

    if (!ip || !strchr(ip, ':') || inet_pton(AF_INET6, ip, a) != 1)
        return ip;
    if (!memcmp(a, mapped, sizeof(mapped)))
        return apr_psprintf(p, "%u.%u.%u.%u", a[12], a[13], a[14], a[15]);
    return apr_psprintf(p, "%x:%x:%x:%x::/64", (a[0] << 8) | a[1], (a[2] << 8) | a[3],
                        (a[4] << 8) | a[5], (a[6] << 8) | a[7]);
}
