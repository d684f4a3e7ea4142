/* Unit tests for src/duration.c: "30s", "30m", "12h", "30d", bare seconds. */
#include "apr_general.h"
#include "natomm_duration.h"
#include "check.h"

static void accepts(const char *text, apr_int64_t want, int line)
{
    apr_int64_t out = -12345;
    const char *err = natomm_duration_parse(text, &out);

    check_report(err == NULL, __FILE__, line, "duration accepted",
                 "\"%s\": %s", text, err ? err : "");
    check_int(out, want, __FILE__, line, text);
}

static void rejects(const char *text, int line)
{
    apr_int64_t out = -12345;
    const char *err = natomm_duration_parse(text, &out);

    check_report(err != NULL && *err, __FILE__, line, "duration refused",
                 "\"%s\" gave %lld", text ? text : "(null)", (long long)out);
    /* a refused value leaves the output alone */
    check_int(out, -12345, __FILE__, line, "output untouched on error");
}

int main(void)
{
    apr_initialize();

    accepts("30s", 30, __LINE__);
    accepts("30m", 1800, __LINE__);
    accepts("12h", 43200, __LINE__);
    accepts("30d", 2592000, __LINE__);
    accepts("45", 45, __LINE__);
    accepts("1", 1, __LINE__);
    accepts("1s", 1, __LINE__);
    accepts("1m", 60, __LINE__);
    accepts("1h", 3600, __LINE__);
    accepts("1d", 86400, __LINE__);
    accepts("15m", 900, __LINE__);
    accepts("60", 60, __LINE__);
    accepts("0030s", 30, __LINE__);
    accepts("365d", 31536000, __LINE__);

    rejects(NULL, __LINE__);
    rejects("", __LINE__);
    rejects("0", __LINE__);
    rejects("0s", __LINE__);
    rejects("0d", __LINE__);
    rejects("-5m", __LINE__);
    rejects("-5", __LINE__);
    rejects("+5m", __LINE__);
    rejects("10x", __LINE__);
    rejects("10ms", __LINE__);
    rejects("10mm", __LINE__);
    rejects("10sm", __LINE__);
    rejects("m", __LINE__);
    rejects("s", __LINE__);
    rejects("1.5h", __LINE__);
    rejects("1,5h", __LINE__);
    rejects("30 m", __LINE__);
    rejects(" 30m", __LINE__);
    rejects("30m ", __LINE__);
    rejects("30m\n", __LINE__);
    rejects("0x10", __LINE__);
    rejects("1e3", __LINE__);
    rejects("thirty", __LINE__);
    rejects("30min", __LINE__);
    rejects("1h30m", __LINE__);
    /* overflow: of strtoll, and of the multiplication by the unit */
    rejects("99999999999999999999", __LINE__);
    rejects("99999999999999999999s", __LINE__);
    rejects("9223372036854775807", __LINE__);
    rejects("9223372036854775807d", __LINE__);
    rejects("106751991167301d", __LINE__);     /* * 86400 just over INT64_MAX */
    rejects("153722867280912931m", __LINE__);  /* * 60 over INT64_MAX */

    apr_terminate();
    return check_done("test_duration");
}
