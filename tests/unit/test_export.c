/* Unit tests for src/core/export.c: RFC 4180 cells and records, the guard
 * against CSV injection, times out and in, the consent prefix, and the
 * subscriber and account records. */
#include <string.h>
#include "apr_general.h"
#include "apr_pools.h"
#include "apr_strings.h"
#include "natomm_export.h"
#include "natomm_token.h"
#include "check.h"

static apr_pool_t *pool;

static void test_cells(void)
{
    CHECK_STR(natomm_export_cell(pool, NULL), "");
    CHECK_STR(natomm_export_cell(pool, ""), "");
    CHECK_STR(natomm_export_cell(pool, "plain"), "plain");
    CHECK_STR(natomm_export_cell(pool, "caf\xc3\xa9"), "caf\xc3\xa9");
    CHECK_STR(natomm_export_cell(pool, "a,b"), "\"a,b\"");
    CHECK_STR(natomm_export_cell(pool, "say \"hi\""), "\"say \"\"hi\"\"\"");
    CHECK_STR(natomm_export_cell(pool, "\""), "\"\"\"\"");
    CHECK_STR(natomm_export_cell(pool, "two\nlines"), "\"two\nlines\"");
    CHECK_STR(natomm_export_cell(pool, "cr\rlf"), "\"cr\rlf\"");
    /* formulas: an apostrophe first, and quoted */
    CHECK_STR(natomm_export_cell(pool, "=1+2"), "\"'=1+2\"");
    CHECK_STR(natomm_export_cell(pool, "+33 1 23"), "\"'+33 1 23\"");
    CHECK_STR(natomm_export_cell(pool, "-2"), "\"'-2\"");
    CHECK_STR(natomm_export_cell(pool, "@SUM(A1)"), "\"'@SUM(A1)\"");
    CHECK_STR(natomm_export_cell(pool, "\tx"), "\"'\tx\"");
    CHECK_STR(natomm_export_cell(pool, "\rx"), "\"'\rx\"");
    CHECK_STR(natomm_export_cell(pool, "=HYPERLINK(\"http://x\",\"y\")"),
              "\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\"");
    /* only the first character counts */
    CHECK_STR(natomm_export_cell(pool, "a=b"), "a=b");
    CHECK_STR(natomm_export_cell(pool, "jane-doe@example.org"), "jane-doe@example.org");
}

static void test_records(void)
{
    const char *three[] = {"a", NULL, "c,d"};
    const char *one[] = {""};

    CHECK_STR(natomm_export_record(pool, three, 3), "a,,\"c,d\"\r\n");
    CHECK_STR(natomm_export_record(pool, one, 1), "\r\n");
    CHECK_STR(natomm_export_record(pool, NULL, 0), "\r\n");
}

static void test_times(void)
{
    apr_int64_t t = 0;

    CHECK_STR(natomm_export_time(pool, "0"), "1970-01-01T00:00:00Z");
    CHECK_STR(natomm_export_time(pool, "1735891443"), "2025-01-03T08:04:03Z");
    CHECK_STR(natomm_export_time(pool, NULL), "");
    CHECK_STR(natomm_export_time(pool, ""), "");
    CHECK_STR(natomm_export_time(pool, "12x"), "");

    CHECK_NULL(natomm_export_parse_time("1735891443", 0, &t));
    CHECK_INT(t, 1735891443);
    CHECK_NULL(natomm_export_parse_time("2025-01-03", 0, &t));
    CHECK_INT(t, 1735862400);
    CHECK_NULL(natomm_export_parse_time("2025-01-03T08:04:03Z", 0, &t));
    CHECK_INT(t, 1735891443);
    CHECK_NULL(natomm_export_parse_time("2025-01-03T08:04:03", 0, &t));
    CHECK_INT(t, 1735891443);
    CHECK_NULL(natomm_export_parse_time("2025-01-03 08:04", 0, &t));
    CHECK_INT(t, 1735891440);
    CHECK_NULL(natomm_export_parse_time("7d", 1000000, &t));
    CHECK_INT(t, 1000000 - 7 * 86400);
    CHECK_NULL(natomm_export_parse_time("90m", 10000, &t));
    CHECK_INT(t, 10000 - 5400);
    CHECK_NOT_NULL(natomm_export_parse_time("", 0, &t));
    CHECK_NOT_NULL(natomm_export_parse_time(NULL, 0, &t));
    CHECK_NOT_NULL(natomm_export_parse_time("yesterday", 0, &t));
    CHECK_NOT_NULL(natomm_export_parse_time("2025-13-01", 0, &t));
    CHECK_NOT_NULL(natomm_export_parse_time("2025-01-32", 0, &t));
    CHECK_NOT_NULL(natomm_export_parse_time("2025-01-03T25:00", 0, &t));
    CHECK_NOT_NULL(natomm_export_parse_time("2025-01-03X", 0, &t));
    CHECK_NOT_NULL(natomm_export_parse_time("2025-01-03T08:04:03+02:00", 0, &t));
    CHECK_NOT_NULL(natomm_export_parse_time("1969-12-31", 0, &t));
    CHECK_NOT_NULL(natomm_export_parse_time("0d", 0, &t));
    CHECK_NOT_NULL(natomm_export_parse_time("99999999999999999999", 0, &t));
    CHECK_NOT_NULL(natomm_export_parse_time("-5", 0, &t));
}

static void test_prefix(void)
{
    CHECK_STR(natomm_export_ip_prefix(pool, "192.0.2.17"), "192.0.2.0/24");
    CHECK_STR(natomm_export_ip_prefix(pool, "2001:db8:1:2:3:4:5:6"), "2001:db8:1::/48");
    CHECK_STR(natomm_export_ip_prefix(pool, "::ffff:198.51.100.9"), "198.51.100.0/24");
    CHECK_STR(natomm_export_ip_prefix(pool, "::1"), "::/48");
    CHECK_STR(natomm_export_ip_prefix(pool, NULL), "");
    CHECK_STR(natomm_export_ip_prefix(pool, "unix"), "unix");
}

static void test_subscriber(void)
{
    const char *key = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    natomm_export_subscriber_t s = {"42", "Jane@Example.org", "Jane, \"JD\"", "=cmd",
                                    "fr", "1735891443", "192.0.2.17", NULL};
    const char *token = natomm_token_unsubscribe(pool, key, "42");
    char *rec = natomm_export_subscriber(pool, &s, key,
                                         "https://m.example.org/account/newsletter/"
                                         "unsubscribe?token=", 0);

    CHECK_STR(natomm_export_subscribers_header(0),
              "address,name,organisation,language,subscribed_at,consent_ip,"
              "consent_ip_prefix,list_unsubscribe_url,list_unsubscribe_post\r\n");
    CHECK_NOT_NULL(token);
    CHECK_STR(rec, apr_pstrcat(pool, "Jane@Example.org,\"Jane, \"\"JD\"\"\",\"'=cmd\",fr,"
              "2025-01-03T08:04:03Z,192.0.2.17,192.0.2.0/24,"
              "https://m.example.org/account/newsletter/unsubscribe?token=", token,
              ",List-Unsubscribe=One-Click\r\n", NULL));
    /* the token is the one the unsubscribe endpoint accepts */
    CHECK_STR(natomm_token_unsubscribe_account(pool, key, token), "42");
    /* no key, no record */
    CHECK_NULL(natomm_export_subscriber(pool, &s, NULL, "x", 0));

    s.withdrawn_at = "1735891500";
    CHECK_STR(natomm_export_subscribers_header(1),
              "address,name,organisation,language,subscribed_at,unsubscribed_at,"
              "reason\r\n");
    CHECK_STR(natomm_export_subscriber(pool, &s, key, "x", 1),
              "Jane@Example.org,\"Jane, \"\"JD\"\"\",\"'=cmd\",fr,2025-01-03T08:04:03Z,"
              "2025-01-03T08:05:00Z,unsubscribed\r\n");
    {
        natomm_export_subscriber_t gone = {NULL, "old@example.org", NULL, NULL, NULL,
                                           NULL, NULL, "1735891500"};
        CHECK_STR(natomm_export_subscriber(pool, &gone, key, "x", 1),
                  "old@example.org,,,,,2025-01-03T08:05:00Z,deleted\r\n");
    }
}

static void test_account(void)
{
    natomm_export_account_t a = {"7", "a@example.org", "A", NULL, "en", "0", "60", NULL,
                                 "1", "120", "3"};

    CHECK_STR(natomm_export_accounts_header(),
              "id,address,name,organisation,language,created_at,verified_at,"
              "disabled_at,newsletter,newsletter_since,failed_logins\r\n");
    CHECK_STR(natomm_export_account(pool, &a),
              "7,a@example.org,A,,en,1970-01-01T00:00:00Z,1970-01-01T00:01:00Z,,yes,"
              "1970-01-01T00:02:00Z,3\r\n");
    a.newsletter = "0";
    a.disabled_at = "180";
    CHECK_STR(natomm_export_account(pool, &a),
              "7,a@example.org,A,,en,1970-01-01T00:00:00Z,1970-01-01T00:01:00Z,"
              "1970-01-01T00:03:00Z,no,,3\r\n");
}

int main(void)
{
    apr_initialize();
    apr_pool_create(&pool, NULL);
    test_cells();
    test_records();
    test_times();
    test_prefix();
    test_subscriber();
    test_account();
    apr_pool_destroy(pool);
    apr_terminate();
    return check_done("test_export");
}
