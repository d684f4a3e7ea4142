/* Doubling waits (see natomm_backoff.h). */
#include "natomm_backoff.h"

apr_int64_t natomm_backoff(apr_int64_t first, apr_int64_t max, int steps)
{
    apr_int64_t d = first;

    /* doubling past max / 2 would reach max anyway (and could overflow) */
    for (; steps > 0 && d < max; steps--)
        d = d > max / 2 ? max : d * 2;
    return d < max ? d : max;
}
