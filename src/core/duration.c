/* Duration parsing (see natomm_duration.h). */
#include "natomm_duration.h"
#include <errno.h>
#include <stdlib.h>

#define NATOMM_DURATION_MAX ((apr_int64_t)10 * 365 * 86400)

const char *natomm_duration_parse(const char *text, apr_int64_t *out)
{
    static const char *usage =
        "expects a duration such as 30s, 30m, 12h or 30d";
    char *end;
    long long n;
    apr_int64_t unit = 1;

    if (!text || *text < '0' || *text > '9')
        return usage;
    errno = 0;
    n = strtoll(text, &end, 10);
    if (errno || n <= 0)
        return usage;
    switch (*end) {
    case '\0': break;
    case 's': unit = 1; end++; break;
    case 'm': unit = 60; end++; break;
    case 'h': unit = 3600; end++; break;
    case 'd': unit = 86400; end++; break;
    default: return usage;
    }
    if (*end || n > NATOMM_DURATION_MAX / unit)
        return usage;
    *out = (apr_int64_t)n * unit;
    return NULL;
}
