/* Unit tests for src/redirect.c: natomm_return_url keeps safe local paths
 * verbatim and turns everything else into "/".
 * The attack list lives in open-redirect-payloads.txt (one per line). */
#include <stdio.h>
#include <string.h>
#include "apr_general.h"
#include "apr_strings.h"
#include "natomm_redirect.h"
#include "check.h"

#ifndef UNIT_DIR
#define UNIT_DIR "."
#endif

static apr_pool_t *pool;

static int hexval(int c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* The line with \xHH turned into bytes; the result is a C string, so a
 * \x00 ends it. */
static char *unescape_line(apr_pool_t *p, const char *line)
{
    char *out = apr_palloc(p, strlen(line) + 1), *o = out;
    const char *s = line;

    while (*s) {
        if (s[0] == '\\' && s[1] == 'x' && hexval(s[2]) >= 0 && hexval(s[3]) >= 0) {
            *o++ = (char)(hexval(s[2]) * 16 + hexval(s[3]));
            s += 4;
        }
        else {
            *o++ = *s++;
        }
    }
    *o = '\0';
    return out;
}

static void test_payload_file(void)
{
    const char *path = UNIT_DIR "/open-redirect-payloads.txt";
    FILE *f = fopen(path, "r");
    char line[4096];
    int count = 0, lineno = 0;

    CHECK_MSG(f != NULL, "cannot open %s", path);
    if (!f)
        return;
    while (fgets(line, sizeof(line), f)) {
        const char *payload, *got;
        size_t n = strlen(line);

        lineno++;
        if (n && line[n - 1] == '\n')
            line[--n] = '\0';
        if (n == 0 || line[0] == '#')
            continue;
        payload = unescape_line(pool, line);
        got = natomm_return_url(pool, payload);
        count++;
        CHECK_MSG(got && !strcmp(got, "/"),
                  "payload line %d \"%s\" gave \"%s\"", lineno, line,
                  got ? got : "(null)");
    }
    fclose(f);
    CHECK_MSG(count >= 80, "only %d payloads", count);
}

static void test_safe_paths(void)
{
    static const char *const safe[] = {
        "/",
        "/videos/a.mp4",
        "/videos/a.mp4?x=1&y=2",
        "/news/2024/02/15/defence-ministers#video",
        "/vid%C3%A9os/x",
        "/a%20b",
        "/account/login.html",
        "/search?q=a%2Bb&page=2",
        "/100%25",
        "/a?b=/c",
        "/a/b/c/",
        "/@evil.com",
        "/?return=%2Fvideos",
        "/~user/page",
        "/a;b=c",
        "/path/with:colon",
        NULL
    };
    int i;

    for (i = 0; safe[i]; i++)
        CHECK_STR(natomm_return_url(pool, safe[i]), safe[i]);
}

static void test_edges(void)
{
    char *longest, *too_long;

    CHECK_STR(natomm_return_url(pool, NULL), "/");
    CHECK_STR(natomm_return_url(pool, ""), "/");

    /* NATOMM_RETURN_MAX bytes are kept, one more is not */
    longest = apr_palloc(pool, NATOMM_RETURN_MAX + 2);
    memset(longest, 'a', NATOMM_RETURN_MAX + 1);
    longest[0] = '/';
    longest[NATOMM_RETURN_MAX] = '\0';
    CHECK_STR(natomm_return_url(pool, longest), longest);
    too_long = apr_pstrdup(pool, longest);
    too_long = apr_pstrcat(pool, too_long, "a", NULL);
    CHECK_INT(strlen(too_long), NATOMM_RETURN_MAX + 1);
    CHECK_STR(natomm_return_url(pool, too_long), "/");

    /* the answer never starts with "//" or "/\" and never holds CR/LF */
    {
        const char *r = natomm_return_url(pool, "/%2f%2f%2fevil.com");
        CHECK_STR(r, "/");
    }
}

int main(void)
{
    apr_initialize();
    apr_pool_create(&pool, NULL);
    test_payload_file();
    test_safe_paths();
    test_edges();
    apr_pool_destroy(pool);
    apr_terminate();
    return check_done("test_redirect");
}
