/* Fuzz target: natomm_duration_parse (directive values: "30s", "30m",
 * "12h", "30d", a bare number is seconds).
 * Oracle: decimal digits first (no sign, no space), then nothing or one
 * unit letter, a positive value of at most ten years. Accepted values are
 * exactly n * unit and at least 1; a refusal has a message and leaves
 * *out alone; printing an accepted value back parses to the same. */
#include "apr_strings.h"
#include "natomm_duration.h"
#include "fuzz_common.h"

#define MAXD ((apr_int64_t)10 * 365 * 86400)

/* 1 and *out when s is a duration, else 0 */
static int ref_parse(const char *s, apr_int64_t *out)
{
    apr_int64_t n = 0, unit = 1;
    int big = 0;
    const char *c = s;

    if (*c < '0' || *c > '9')
        return 0;
    for (; *c >= '0' && *c <= '9'; c++) {
        if (n > MAXD)
            big = 1;            /* stays too large; no overflow */
        else
            n = n * 10 + (*c - '0');
    }
    switch (*c) {
    case '\0': break;
    case 's': unit = 1; c++; break;
    case 'm': unit = 60; c++; break;
    case 'h': unit = 3600; c++; break;
    case 'd': unit = 86400; c++; break;
    default: return 0;
    }
    if (*c || big || n <= 0 || n > MAXD / unit)
        return 0;
    *out = n * unit;
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p;
    const char *s, *err;
    apr_int64_t got = -7, want = -9;
    int ok;

    if (size > 64)
        return 0;
    apr_pool_create(&p, fuzz_root);
    s = fuzz_cstr(p, data, size);
    err = natomm_duration_parse(s, &got);
    ok = ref_parse(s, &want);
    FUZZ_ASSERT((err == NULL) == ok, "\"%s\": %s, the reference %s", s,
                err ? err : "accepted", ok ? "accepts" : "refuses");
    if (err) {
        FUZZ_ASSERT(*err, "empty message");
        FUZZ_ASSERT(got == -7, "*out written on a refusal");
    }
    else {
        const char *back = apr_psprintf(p, "%" APR_INT64_T_FMT "s", got);
        apr_int64_t again = 0;
        FUZZ_ASSERT(got == want && got >= 1 && got <= MAXD,
                    "\"%s\" is %" APR_INT64_T_FMT ", reference %" APR_INT64_T_FMT,
                    s, got, want);
        FUZZ_ASSERT(!natomm_duration_parse(back, &again) && again == got,
                    "\"%s\" does not read back", back);
    }
    FUZZ_ASSERT(natomm_duration_parse(NULL, &got) != NULL, "NULL accepted");
    apr_pool_destroy(p);
    return 0;
}
