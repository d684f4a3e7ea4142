/* Unit tests for src/json.c: the flat object writer and string quoting.
 * Output is judged by json_lint.h, a strict checker with its own UTF-8
 * decoder, and by exact strings where the text is fully determined. */
#include <string.h>
#include "apr_general.h"
#include "apr_strings.h"
#include "apr_tables.h"
#include "natomm_json.h"
#include "check.h"
#include "json_lint.h"

static apr_pool_t *pool;

/* No raw byte the writer promised to escape: controls, DEL, < and >,
 * U+2028 and U+2029; and the literal is valid JSON. */
static int quoted_clean(const char *q)
{
    const unsigned char *u = (const unsigned char *)q;
    size_t i, n = strlen(q);

    for (i = 0; i < n; i++) {
        if (u[i] < 0x20 || u[i] == 0x7f || u[i] == '<' || u[i] == '>')
            return 0;
        if (i + 2 < n && u[i] == 0xE2 && u[i + 1] == 0x80
            && (u[i + 2] == 0xA8 || u[i + 2] == 0xA9))
            return 0;
    }
    return json_lint(q) && json_unquote(q, NULL, NULL) == n;
}

/* quote(in) is a clean literal that decodes to want. */
static void roundtrip(const char *in, const char *want, int line)
{
    const char *q = natomm_json_quote(pool, in);
    char *dec = apr_palloc(pool, strlen(q) + 1);
    size_t n = 0;

    check_report(quoted_clean(q), __FILE__, line, "quoted_clean(quote(in))",
                 "quote gave %s", q);
    if (!json_unquote(q, dec, &n)) {
        check_report(0, __FILE__, line, "json_unquote", "not a literal");
        return;
    }
    check_str(dec, want, __FILE__, line, "unquote(quote(in)) == want");
    check_int((long long)n, (long long)strlen(want), __FILE__, line,
              "decoded length (no embedded NUL)");
}
#define ROUNDTRIP(in, want) roundtrip((in), (want), __LINE__)

/* Case-insensitive: "\u003c" and "\u003C" are the same JSON. */
static int contains_ci(const char *hay, const char *needle)
{
    size_t n = strlen(needle);
    for (; *hay; hay++)
        if (!strncasecmp(hay, needle, n))
            return 1;
    return 0;
}

static void test_lint_self(void)
{
    /* the checker itself must tell good from bad, or it proves nothing */
    CHECK(json_lint("{}"));
    CHECK(json_lint("{\"a\":[1,-2.5e3,true,false,null,\"x\\u00e9\\ud83d\\ude00\"]}"));
    CHECK(json_lint(" [ ] "));
    CHECK(!json_lint(""));
    CHECK(!json_lint("{"));
    CHECK(!json_lint("{\"a\":1,}"));
    CHECK(!json_lint("{\"a\" 1}"));
    CHECK(!json_lint("{a:1}"));
    CHECK(!json_lint("{\"a\":01}"));
    CHECK(!json_lint("\"a\nb\""));
    CHECK(!json_lint("\"\\x41\""));
    CHECK(!json_lint("\"\\ud800\""));
    CHECK(!json_lint("\"\xff\""));
    CHECK(!json_lint("\"\xc0\xaf\""));
    CHECK(!json_lint("{}{}"));
    CHECK(!json_lint("[1,]"));
}

static void test_quote(void)
{
    CHECK_STR(natomm_json_quote(pool, ""), "\"\"");
    CHECK_STR(natomm_json_quote(pool, "abc"), "\"abc\"");
    CHECK_STR(natomm_json_quote(pool, "a\"b"), "\"a\\\"b\"");
    CHECK_STR(natomm_json_quote(pool, "a\\b"), "\"a\\\\b\"");
    CHECK_STR(natomm_json_quote(pool, "\\\""), "\"\\\\\\\"\"");
    CHECK(!strcasecmp(natomm_json_quote(pool, "\x01"), "\"\\u0001\""));
    CHECK(!strcasecmp(natomm_json_quote(pool, "\x1f"), "\"\\u001f\""));
    CHECK(contains_ci(natomm_json_quote(pool, "<script>"), "\\u003cscript\\u003e"));
    CHECK(contains_ci(natomm_json_quote(pool, "a\xE2\x80\xA8" "b"), "\\u2028"));
    CHECK(contains_ci(natomm_json_quote(pool, "a\xE2\x80\xA9" "b"), "\\u2029"));
    /* one invalid byte: one replacement character, raw UTF-8 */
    CHECK_STR(natomm_json_quote(pool, "\xff"), "\"\xEF\xBF\xBD\"");
    /* valid multi-byte text passes through as it is */
    CHECK_STR(natomm_json_quote(pool, "\xC3\xA9t\xC3\xA9 \xE6\xBC\xA2 \xF0\x9F\x98\x80"),
              "\"\xC3\xA9t\xC3\xA9 \xE6\xBC\xA2 \xF0\x9F\x98\x80\"");

    ROUNDTRIP("plain", "plain");
    ROUNDTRIP("quote \" backslash \\ slash /", "quote \" backslash \\ slash /");
    ROUNDTRIP("\x01\x02\x08\t\n\x0b\x0c\r\x1b\x1f\x7f", "\x01\x02\x08\t\n\x0b\x0c\r\x1b\x1f\x7f");
    ROUNDTRIP("</script><!--", "</script><!--");
    ROUNDTRIP("line\xE2\x80\xA8sep\xE2\x80\xA9para", "line\xE2\x80\xA8sep\xE2\x80\xA9para");
    ROUNDTRIP("\xC2\x85\xC2\xA0", "\xC2\x85\xC2\xA0");
    ROUNDTRIP("\xF4\x8F\xBF\xBF", "\xF4\x8F\xBF\xBF");
    /* invalid UTF-8 becomes U+FFFD: bad continuation, overlong, surrogate,
     * truncated, beyond U+10FFFF, lone continuation */
    ROUNDTRIP("a\xC3\x28z", "a\xEF\xBF\xBD(z");
    ROUNDTRIP("a\xffz", "a\xEF\xBF\xBDz");
    ROUNDTRIP("a\x80z", "a\xEF\xBF\xBDz");
    {
        /* how many U+FFFD an invalid sequence gives is open; the literal must
         * be clean and hold no byte of the invalid input */
        static const char *const bad[] = {
            "\xC0\xAF", "\xE0\x80\xAF", "\xED\xA0\x80", "\xED\xBF\xBF",
            "\xF4\x90\x80\x80", "\xF5\x80\x80\x80", "\xFE\xFF", "\xF0\x9F\x98",
            "x\xC3", "a\xE6\xBC", NULL
        };
        int i;
        for (i = 0; bad[i]; i++) {
            const char *q = natomm_json_quote(pool, bad[i]);
            char *dec = apr_palloc(pool, strlen(q) + 1);
            CHECK_MSG(quoted_clean(q), "bad[%d] gave %s", i, q);
            CHECK_MSG(json_unquote(q, dec, NULL) && strstr(dec, "\xEF\xBF\xBD"),
                      "bad[%d]: no U+FFFD", i);
        }
    }
}

static void test_object(void)
{
    natomm_json *j;
    apr_array_header_t *items;
    const char *out;

    j = natomm_json_object(pool);
    CHECK_STR(natomm_json_finish(j), "{}");

    j = natomm_json_object(pool);
    natomm_json_str(j, "status", "code_sent");
    natomm_json_int(j, "expires_in", 1800);
    CHECK_STR(natomm_json_finish(j), "{\"status\":\"code_sent\",\"expires_in\":1800}");

    j = natomm_json_object(pool);
    natomm_json_bool(j, "authenticated", 1);
    natomm_json_str(j, "email", "jane@example.org");
    natomm_json_str(j, "name", NULL);
    natomm_json_bool(j, "newsletter", 0);
    natomm_json_bool(j, "yes", 42);          /* any non-zero is true */
    CHECK_STR(natomm_json_finish(j),
              "{\"authenticated\":true,\"email\":\"jane@example.org\","
              "\"name\":null,\"newsletter\":false,\"yes\":true}");

    items = apr_array_make(pool, 4, sizeof(const char *));
    APR_ARRAY_PUSH(items, const char *) = "length";
    APR_ARRAY_PUSH(items, const char *) = "upper";
    APR_ARRAY_PUSH(items, const char *) = "common";
    j = natomm_json_object(pool);
    natomm_json_str(j, "error", "weak_password");
    natomm_json_str(j, "message", "The password is too weak.");
    natomm_json_strs(j, "failed", items);
    CHECK_STR(natomm_json_finish(j),
              "{\"error\":\"weak_password\",\"message\":\"The password is too weak.\","
              "\"failed\":[\"length\",\"upper\",\"common\"]}");

    j = natomm_json_object(pool);
    natomm_json_strs(j, "empty", apr_array_make(pool, 0, sizeof(const char *)));
    natomm_json_int(j, "zero", 0);
    natomm_json_int(j, "neg", -5);
    natomm_json_int(j, "max", APR_INT64_MAX);
    natomm_json_int(j, "min", APR_INT64_MIN);
    out = natomm_json_finish(j);
    CHECK_STR(out, "{\"empty\":[],\"zero\":0,\"neg\":-5,"
              "\"max\":9223372036854775807,\"min\":-9223372036854775808}");
    CHECK(json_lint(out));

    /* hostile keys, values and array items stay inside their strings */
    items = apr_array_make(pool, 2, sizeof(const char *));
    APR_ARRAY_PUSH(items, const char *) = "\",\"x\":\"";
    APR_ARRAY_PUSH(items, const char *) = "]}\xff\n";
    j = natomm_json_object(pool);
    natomm_json_str(j, "k\"ey", "v\"al\\ue\r\n</script>");
    natomm_json_str(j, "\xff", "\xE2\x80\xA8");
    natomm_json_strs(j, "a", items);
    out = natomm_json_finish(j);
    CHECK_MSG(json_lint(out), "%s", out);
    CHECK(!strchr(out, '<') && !strchr(out, '>') && !strchr(out, '\n')
          && !strchr(out, '\r'));
    CHECK(!strstr(out, "\xE2\x80\xA8"));
    {
        /* the first key decodes back to what was given */
        char *dec = apr_palloc(pool, strlen(out) + 1);
        CHECK(json_unquote(out + 1, dec, NULL) > 0);
        CHECK_STR(dec, "k\"ey");
    }
}

int main(void)
{
    apr_initialize();
    apr_pool_create(&pool, NULL);
    test_lint_self();
    test_quote();
    test_object();
    apr_pool_destroy(pool);
    apr_terminate();
    return check_done("test_json");
}
