/* Database-backed throttles (see natomm_throttle.h). */
#include <stdlib.h>
#include "apr_strings.h"
#include "natomm.h"
#include "natomm_throttle.h"
#include "natomm_crypto.h"

apr_int64_t natomm_throttle_check(natomm_db *db, apr_pool_t *p,
                                  const char *bucket, const natomm_limit_t *lim)
{
    apr_int64_t now = natomm_now(), span, wait = 0;
    const char *cols[3];
    int n;

    span = lim->window > lim->min_interval ? lim->window : lim->min_interval;
    n = natomm_db_row(db, "natomm_throttle_count", (const char *[]){
        bucket, natomm_db_num(p, now - span)}, cols, 3);
    if (n < 0)
        return -1;
    if (n == 0 || !cols[0] || !cols[1] || !cols[2])
        return 0;
    if (lim->min_interval) {
        apr_int64_t last = apr_atoi64(cols[2]);
        if (last + lim->min_interval > now)
            wait = last + lim->min_interval - now;
    }
    if (lim->limit && atoi(cols[0]) >= lim->limit) {
        /* the window frees a place when its oldest event leaves it */
        apr_int64_t oldest = apr_atoi64(cols[1]);
        apr_int64_t w = oldest + lim->window - now;
        if (w > wait)
            wait = w;
    }
    return wait > 0 ? wait : 0;
}

int natomm_throttle_record(natomm_db *db, apr_pool_t *p, const char *bucket)
{
    return natomm_db_exec(db, "natomm_throttle_add", (const char *[]){
        bucket, natomm_db_num(p, natomm_now())}) == 1 ? 0 : -1;
}

const char *natomm_throttle_bucket(apr_pool_t *p, const char *kind,
                                   const char *subject)
{
    return apr_pstrcat(p, kind, ":",
                       apr_pstrndup(p, natomm_sha256_hex(p, subject), 40), NULL);
}

static const char *const ip_kinds[NATOMM_IP_KINDS] = {
    "ip:login_failures", "ip:registrations", "ip:reset_requests", "ip:code_entries"
};

apr_int64_t natomm_throttle_ip_check(natomm_db *db, apr_pool_t *p,
                                     const natomm_server_conf *conf, int kind,
                                     const char *ip)
{
    const char *bucket = natomm_throttle_bucket(p, ip_kinds[kind], ip);
    apr_int64_t wait = 0;
    int i;

    for (i = 0; i < NATOMM_IP_WINDOWS; i++) {
        const natomm_limit_t *lim = &conf->ip_limits[kind][i];
        apr_int64_t w;
        if (!lim->limit)
            continue;
        w = natomm_throttle_check(db, p, bucket, lim);
        if (w < 0)
            return -1;
        if (w > wait)
            wait = w;
    }
    return wait;
}

int natomm_throttle_ip_record(natomm_db *db, apr_pool_t *p, int kind,
                              const char *ip)
{
    return natomm_throttle_record(db, p, natomm_throttle_bucket(p, ip_kinds[kind], ip));
}
