/* Limits counted in the database (see natomm_db.h): the database counts,
 * core/limit.c decides. */
#include "natomm_db.h"
#include <stdlib.h>
#include "natomm_db_internal.h"
#include "apr_strings.h"
#include "natomm_clock.h"
#include "natomm_crypto.h"

const char *natomm_db_bucket(apr_pool_t *p, const char *kind, const char *subject)
{
    return apr_pstrcat(p, kind, ":",
                       apr_pstrndup(p, natomm_sha256_hex(p, subject), 40), NULL);
}

int natomm_db_throttle_seen(natomm_db *db, const char *bucket, apr_int64_t since,
                            natomm_limit_seen_t *seen)
{
    const char *cols[THR_NCOLS];
    int n = natomm_db_row(db, NATOMM_SQL_THROTTLE_COUNT, (const char *[]){
        bucket, natomm_db_num(db->pool, since)}, cols);

    seen->count = 0;
    seen->oldest = seen->newest = 0;
    if (n < 0)
        return -1;
    if (n == 1 && cols[THR_COUNT] && cols[THR_OLDEST] && cols[THR_NEWEST]) {
        seen->count = atoi(cols[THR_COUNT]);
        seen->oldest = apr_atoi64(cols[THR_OLDEST]);
        seen->newest = apr_atoi64(cols[THR_NEWEST]);
    }
    return 0;
}

apr_int64_t natomm_db_throttle_wait(natomm_db *db, const char *bucket,
                                    const natomm_limit_t *lim)
{
    apr_int64_t now = natomm_now();
    natomm_limit_seen_t seen;

    if (natomm_db_throttle_seen(db, bucket, now - natomm_limit_span(lim), &seen))
        return -1;
    return natomm_limit_wait(lim, &seen, now);
}

int natomm_db_throttle_add(natomm_db *db, const char *bucket, const char **id)
{
    const char *event = natomm_random_id(db->pool);

    if (id)
        *id = event;
    return event && natomm_db_exec(db, NATOMM_SQL_THROTTLE_ADD, (const char *[]){
        bucket, natomm_db_num(db->pool, natomm_now()), event}) == 1 ? 0 : -1;
}

int natomm_db_throttle_take_back(natomm_db *db, const char *bucket, const char *id)
{
    return natomm_db_exec(db, NATOMM_SQL_THROTTLE_TAKE_BACK,
                          (const char *[]){bucket, id}) < 0 ? -1 : 0;
}
