/* Unit tests for src/core/template.c: {{key}} placeholders and the split of
 * a filled template into its subject and body; the shipped templates of
 * conf/mail/ must all split, with no placeholder left once filled with the
 * keys the module sets (site, code, minutes, expires, unsubscribe_url). */
#include <string.h>
#include "apr_general.h"
#include "apr_pools.h"
#include "apr_strings.h"
#include "apr_tables.h"
#include "apr_file_io.h"
#include "natomm_template.h"
#include "check.h"

static apr_pool_t *pool;
static apr_table_t *vars;

#define FILL(text, want) CHECK_STR(natomm_template_fill(pool, (text), vars), (want))

static void test_fill(void)
{
    apr_table_t *none = apr_table_make(pool, 1);
    char *big;
    const char *s;
    int i;

    vars = apr_table_make(pool, 8);
    apr_table_set(vars, "site", "Example");
    apr_table_set(vars, "code", "BCDF-GHJK");
    apr_table_set(vars, "empty", "");
    apr_table_set(vars, "loop", "{{site}}");
    apr_table_set(vars, "html", "<b>&</b>");
    apr_table_set(vars, "url", "https://example.org/u?t=a&b=c");

    FILL("", "");
    FILL("no placeholder", "no placeholder");
    FILL("{{site}}", "Example");
    FILL("Welcome to {{site}}.", "Welcome to Example.");
    FILL("{{site}} {{site}}{{site}}", "Example ExampleExample");
    FILL("{{site}}: {{code}}", "Example: BCDF-GHJK");
    FILL("[{{empty}}]", "[]");
    FILL("{{url}}", "https://example.org/u?t=a&b=c");
    /* values go in as they are: no escaping here */
    FILL("{{html}}", "<b>&</b>");
    /* a value is not expanded again */
    FILL("{{loop}}", "{{site}}");
    FILL("{{loop}}{{loop}}", "{{site}}{{site}}");
    /* unknown keys stay as they are */
    FILL("{{nope}}", "{{nope}}");
    FILL("a {{nope}} b {{site}}", "a {{nope}} b Example");
    FILL("{{}}", "{{}}");
    FILL("{{ site }}", "{{ site }}");
    FILL("{{site }}", "{{site }}");
    /* unclosed or lone braces stay */
    FILL("{{site", "{{site");
    FILL("{{", "{{");
    FILL("}}", "}}");
    FILL("}}{{", "}}{{");
    FILL("{site}", "{site}");
    FILL("{ {site} }", "{ {site} }");
    FILL("{{site}", "{{site}");
    FILL("{{site}} {{", "Example {{");
    FILL("{{site}}}", "Example}");
    FILL("{{{{site}}}}", "{{Example}}");    /* the innermost pair is the placeholder */
    /* an empty table: everything stays */
    CHECK_STR(natomm_template_fill(pool, "{{site}} {{code}}", none),
              "{{site}} {{code}}");
    /* UTF-8 around placeholders */
    FILL("D\xc3\xa9j\xc3\xa0 {{site}} \xe2\x9c\x93", "D\xc3\xa9j\xc3\xa0 Example \xe2\x9c\x93");

    /* a stray "{{" earlier in the text must not swallow a real placeholder */
    CHECK(!strcmp(natomm_template_fill(pool, "a {{ b {{site}}", vars),
                      "a {{ b Example"));

    /* many placeholders */
    {
        apr_array_header_t *a = apr_array_make(pool, 1000, sizeof(const char *));
        for (i = 0; i < 1000; i++)
            APR_ARRAY_PUSH(a, const char *) = "{{code}}";
        s = natomm_template_fill(pool, apr_array_pstrcat(pool, a, ' '), vars);
        CHECK_INT(strlen(s), 1000 * 9 + 999);
        CHECK(!strstr(s, "{{"));
    }
    /* many unclosed openings: linear enough to finish */
    big = apr_palloc(pool, 200001);
    for (i = 0; i < 200000; i += 2) {
        big[i] = '{';
        big[i + 1] = '{';
    }
    big[200000] = '\0';
    s = natomm_template_fill(pool, big, vars);
    CHECK(s && strlen(s) == 200000);
}

static void split_ok(const char *filled, const char *want_subject,
                     const char *want_body, int line)
{
    const char *subject = "unset", *body = "unset";
    const char *err = natomm_template_split(pool, filled, &subject, &body);

    check_report(err == NULL, __FILE__, line, "template split", "%s", err ? err : "");
    check_str(subject, want_subject, __FILE__, line, "subject");
    check_str(body, want_body, __FILE__, line, "body");
}

static void split_refused(const char *filled, int line)
{
    const char *subject = "unset", *body = "unset";
    const char *err = natomm_template_split(pool, filled, &subject, &body);

    check_report(err != NULL && *err, __FILE__, line, "template refused", "%s", filled);
    check_str(subject, "unset", __FILE__, line, "subject untouched");
    check_str(body, "unset", __FILE__, line, "body untouched");
}

static void test_split(void)
{
    split_ok("Subject: Hello\n\nBody text.\n", "Hello", "Body text.\n", __LINE__);
    split_ok("Subject:Hello\n\nBody", "Hello", "Body", __LINE__);
    split_ok("Subject:    Hello\n\nBody", "Hello", "Body", __LINE__);
    split_ok("Subject: Hello\r\n\r\nBody\r\n", "Hello", "Body\r\n", __LINE__);
    split_ok("Subject: Hello\nBody", "Hello", "Body", __LINE__);
    split_ok("Subject: Hello\n", "Hello", "", __LINE__);
    split_ok("Subject: \n\nBody", "", "Body", __LINE__);
    split_ok("Subject:\n\nBody", "", "Body", __LINE__);
    split_ok("Subject: Hello\n\n\n\n\nBody", "Hello", "Body", __LINE__);
    split_ok("Subject: Hello\n\nPara 1\n\nPara 2\n", "Hello", "Para 1\n\nPara 2\n", __LINE__);
    split_ok("Subject: A: B: C\n\nx", "A: B: C", "x", __LINE__);
    split_ok("Subject: Votre code {{site}}\n\nx", "Votre code {{site}}", "x", __LINE__);
    split_ok("Subject: Vous \xc3\xaates abonn\xc3\xa9\n\nx",
             "Vous \xc3\xaates abonn\xc3\xa9", "x", __LINE__);
    /* a CR inside the subject line ends it: nothing after a CR can reach
     * the header (natomm_mime_build refuses CR/LF anyway) */
    split_ok("Subject: Hi\rBcc: x@example.org\n\nBody", "Hi", "Body", __LINE__);
    split_ok("Subject: Hi\r\r\n\nBody", "Hi", "Body", __LINE__);
    /* the body keeps its own leading spaces */
    split_ok("Subject: Hi\n\n  indented\n", "Hi", "  indented\n", __LINE__);

    split_refused("", __LINE__);
    split_refused("Hello\n\nBody", __LINE__);
    split_refused("subject: Hello\n\nBody", __LINE__);
    split_refused("SUBJECT: Hello\n\nBody", __LINE__);
    split_refused(" Subject: Hello\n\nBody", __LINE__);
    split_refused("\nSubject: Hello\n\nBody", __LINE__);
    split_refused("Subject Hello\n\nBody", __LINE__);
    split_refused("Subj", __LINE__);
    split_refused("Subject:", __LINE__);
    split_refused("Subject: no line end", __LINE__);
    split_refused("From: a@example.org\nSubject: Hi\n\nBody", __LINE__);
}

/* The templates shipped in conf/mail/: each splits into a subject and a
 * non-empty body, and has no placeholder left once filled. */
static void test_shipped(void)
{
    static const char *const langs[] = {"en", "fr"};
    static const char *const names[] = {"already_registered", "newsletter_subscribed",
                                        "password_changed", "register_code",
                                        "reset_code"};
    apr_table_t *v = apr_table_make(pool, 8);
    size_t l, n;

    apr_table_set(v, "site", "Example");
    apr_table_set(v, "code", "BCDF-GHJK");
    apr_table_set(v, "unsubscribe_url", "https://example.org/unsubscribe?t=x");
    apr_table_set(v, "minutes", "15");
    apr_table_set(v, "expires", "2026-12-02 14:30 UTC");
    for (l = 0; l < 2; l++) {
        for (n = 0; n < sizeof(names) / sizeof(names[0]); n++) {
            const char *path = apr_psprintf(pool, "%s/../../conf/mail/%s/%s.txt",
                                            UNIT_DIR, langs[l], names[n]);
            apr_file_t *f;
            apr_finfo_t fi;
            char *text;
            apr_size_t len;
            const char *subject = NULL, *body = NULL, *err;

            if (apr_file_open(&f, path, APR_FOPEN_READ, APR_OS_DEFAULT, pool)
                != APR_SUCCESS) {
                CHECK_MSG(0, "cannot open %s", path);
                continue;
            }
            apr_file_info_get(&fi, APR_FINFO_SIZE, f);
            len = (apr_size_t)fi.size;
            text = apr_palloc(pool, len + 1);
            apr_file_read_full(f, text, len, &len);
            text[len] = '\0';
            apr_file_close(f);

            err = natomm_template_split(pool, natomm_template_fill(pool, text, v),
                                        &subject, &body);
            CHECK_MSG(err == NULL, "%s: %s", path, err ? err : "");
            if (err)
                continue;
            CHECK_MSG(*subject && !strpbrk(subject, "\r\n"), "%s: subject", path);
            CHECK_MSG(*body, "%s: empty body", path);
            CHECK_MSG(!strstr(subject, "{{") && !strstr(body, "{{"),
                      "%s: placeholder left", path);
        }
    }
}

int main(void)
{
    apr_initialize();
    apr_pool_create(&pool, NULL);
    test_fill();
    test_split();
    test_shipped();
    apr_pool_destroy(pool);
    apr_terminate();
    return check_done("test_template");
}
