/* Unit tests for src/core/text.c: text for one log line, text for HTML, and
 * the printable-ASCII test. */
#include <string.h>
#include "apr_general.h"
#include "apr_pools.h"
#include "apr_strings.h"
#include "natomm_text.h"
#include "check.h"

static apr_pool_t *pool;

static void test_log_safe(void)
{
    char all[256], *big;
    const char *s;
    int i;

    CHECK_STR(natomm_text_log_safe(pool, NULL), "-");
    CHECK_STR(natomm_text_log_safe(pool, ""), "");
    CHECK_STR(natomm_text_log_safe(pool, "plain text 123"), "plain text 123");
    CHECK_STR(natomm_text_log_safe(pool, "a\r\nb"), "a\\x0d\\x0ab");
    CHECK_STR(natomm_text_log_safe(pool, "\n"), "\\x0a");
    CHECK_STR(natomm_text_log_safe(pool, "\r"), "\\x0d");
    CHECK_STR(natomm_text_log_safe(pool, "tab\there"), "tab\\x09here");
    CHECK_STR(natomm_text_log_safe(pool, "\x01\x1f\x7f"), "\\x01\\x1f\\x7f");
    CHECK_STR(natomm_text_log_safe(pool, "\x1b[31mred"), "\\x1b[31mred");
    /* a backslash is escaped too, so "\x0a" typed by someone stays apart
     * from a real line break */
    CHECK_STR(natomm_text_log_safe(pool, "a\\b"), "a\\x5cb");
    CHECK_STR(natomm_text_log_safe(pool, "\\x0a"), "\\x5cx0a");
    /* printable ASCII, quotes and UTF-8 pass */
    CHECK_STR(natomm_text_log_safe(pool, "\"quoted\" 'x' %s %n"), "\"quoted\" 'x' %s %n");
    CHECK_STR(natomm_text_log_safe(pool, "caf\xc3\xa9"), "caf\xc3\xa9");
    CHECK_STR(natomm_text_log_safe(pool, " ~"), " ~");
    /* a forged log line cannot start */
    s = natomm_text_log_safe(pool, "user\n[error] forged entry\r\n");
    CHECK(s && !strpbrk(s, "\r\n"));
    CHECK_STR(s, "user\\x0a[error] forged entry\\x0d\\x0a");

    /* every byte: no control survives, each control becomes four characters */
    for (i = 1; i < 256; i++)
        all[i - 1] = (char)i;
    all[255] = '\0';
    s = natomm_text_log_safe(pool, all);
    CHECK_NOT_NULL(s);
    if (s) {
        const unsigned char *u;
        int bad = 0;
        for (u = (const unsigned char *)s; *u; u++)
            if (*u < 0x20 || *u == 0x7f)
                bad++;
        CHECK_INT(bad, 0);
        /* 31 C0 + DEL + backslash grow by 3 */
        CHECK_INT(strlen(s), 255 + 33 * 3);
    }

    /* the worst case: every byte escaped (the buffer is 4 per byte) */
    big = apr_palloc(pool, 10001);
    memset(big, '\n', 10000);
    big[10000] = '\0';
    s = natomm_text_log_safe(pool, big);
    CHECK_INT(strlen(s), 40000);
    CHECK(!strncmp(s, "\\x0a\\x0a", 8) && !strcmp(s + 39996, "\\x0a"));
    memset(big, '\\', 10000);
    s = natomm_text_log_safe(pool, big);
    CHECK_INT(strlen(s), 40000);
}

static void test_html(void)
{
    char *big;
    const char *s;

    CHECK_STR(natomm_text_html(pool, ""), "");
    CHECK_STR(natomm_text_html(pool, "plain"), "plain");
    CHECK_STR(natomm_text_html(pool, "&"), "&amp;");
    CHECK_STR(natomm_text_html(pool, "<"), "&lt;");
    CHECK_STR(natomm_text_html(pool, ">"), "&gt;");
    CHECK_STR(natomm_text_html(pool, "\""), "&quot;");
    CHECK_STR(natomm_text_html(pool, "'"), "&#39;");
    CHECK_STR(natomm_text_html(pool, "<script>alert('x')</script>"),
              "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;");
    CHECK_STR(natomm_text_html(pool, "\" onmouseover=\"x"),
              "&quot; onmouseover=&quot;x");
    /* an entity is escaped again, not passed through */
    CHECK_STR(natomm_text_html(pool, "&amp; &lt;"), "&amp;amp; &amp;lt;");
    CHECK_STR(natomm_text_html(pool, "a=1&b=2"), "a=1&amp;b=2");
    /* UTF-8, controls and line breaks are left alone */
    CHECK_STR(natomm_text_html(pool, "d\xc3\xa9j\xc3\xa0 vu\n\t"), "d\xc3\xa9j\xc3\xa0 vu\n\t");
    CHECK_STR(natomm_text_html(pool, "l'adresse \"\xc3\xa9\""),
              "l&#39;adresse &quot;\xc3\xa9&quot;");

    /* the worst case: every byte a six-character entity */
    big = apr_palloc(pool, 5001);
    memset(big, '"', 5000);
    big[5000] = '\0';
    s = natomm_text_html(pool, big);
    CHECK_INT(strlen(s), 30000);
    memset(big, '\'', 5000);
    s = natomm_text_html(pool, big);
    CHECK_INT(strlen(s), 25000);
    CHECK(!strncmp(s, "&#39;&#39;", 10));
    memset(big, '<', 5000);
    s = natomm_text_html(pool, big);
    CHECK_INT(strlen(s), 20000);
    /* no raw special character survives, whatever the mix */
    s = natomm_text_html(pool, "<<&&>>\"\"''<a href='x'>");
    CHECK(s && !strpbrk(s, "<>\"'"));
}

static void test_is_ascii(void)
{
    int i, bad = 0;
    char one[2] = {0, 0};

    CHECK(natomm_text_is_ascii(""));
    CHECK(natomm_text_is_ascii("Hello, world!"));
    CHECK(natomm_text_is_ascii(" ~"));
    CHECK(natomm_text_is_ascii("=?UTF-8?B?abc?="));
    CHECK(!natomm_text_is_ascii("caf\xc3\xa9"));
    CHECK(!natomm_text_is_ascii("\xc3"));
    CHECK(!natomm_text_is_ascii("\x80"));
    CHECK(!natomm_text_is_ascii("\xff"));
    CHECK(!natomm_text_is_ascii("a\tb"));
    CHECK(!natomm_text_is_ascii("a\nb"));
    CHECK(!natomm_text_is_ascii("a\rb"));
    CHECK(!natomm_text_is_ascii("\x7f"));
    CHECK(!natomm_text_is_ascii("\x01"));
    CHECK(!natomm_text_is_ascii("end\n"));
    /* each byte alone: exactly 0x20..0x7e are printable */
    for (i = 1; i < 256; i++) {
        one[0] = (char)i;
        if (natomm_text_is_ascii(one) != (i >= 0x20 && i < 0x7f)) {
            bad++;
            fprintf(stderr, "    byte 0x%02x misjudged\n", i);
        }
    }
    CHECK_INT(bad, 0);
}

int main(void)
{
    apr_initialize();
    apr_pool_create(&pool, NULL);
    test_log_safe();
    test_html();
    test_is_ascii();
    apr_pool_destroy(pool);
    apr_terminate();
    return check_done("test_text");
}
