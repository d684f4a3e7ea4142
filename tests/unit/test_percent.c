/* Unit tests for src/percent.c: hex digits and percent-decoding. */
#include <string.h>
#include "apr_general.h"
#include "natomm_percent.h"
#include "check.h"

static apr_pool_t *pool;

static void test_hex_digit(void)
{
    const char *digits = "0123456789abcdef", *upper = "ABCDEF";
    int i, c, bad = 0;

    for (i = 0; i < 16; i++)
        CHECK_INT(natomm_hex_digit(digits[i]), i);
    for (i = 0; i < 6; i++)
        CHECK_INT(natomm_hex_digit(upper[i]), 10 + i);
    for (c = -128; c < 128; c++)
        if (!strchr("0123456789abcdefABCDEF", c) || c == 0)
            bad += natomm_hex_digit((char)c) != -1;
    CHECK_INT(bad, 0);
}

/* Decodes a C string; want NULL for a malformed escape. */
static void decodes(const char *in, int plus, const char *want, size_t want_len,
                    int line)
{
    size_t n = 12345;
    char *got = natomm_percent_decode(pool, in, strlen(in), plus, &n);

    if (!want) {
        check_report(got == NULL, __FILE__, line, "percent_decode refuses",
                     "\"%s\" decoded", in);
        return;
    }
    if (!check_report(got != NULL, __FILE__, line, "percent_decode accepts",
                      "\"%s\" refused", in))
        return;
    check_int((long long)n, (long long)want_len, __FILE__, line, "decoded length");
    check_report(!memcmp(got, want, want_len) && got[want_len] == '\0',
                 __FILE__, line, "decoded bytes", "\"%s\"", in);
}
#define DECODES(in, plus, want) decodes((in), (plus), (want), sizeof(want) - 1, __LINE__)
#define REFUSES(in) decodes((in), 1, NULL, 0, __LINE__)

static void test_decode(void)
{
    DECODES("", 1, "");
    DECODES("abc", 1, "abc");
    DECODES("a+b", 1, "a b");
    DECODES("a+b", 0, "a+b");                 /* "+" only in form bodies */
    DECODES("%41%62%7e%7E", 1, "Ab~~");
    DECODES("%2B", 1, "+");
    DECODES("%2b", 0, "+");
    DECODES("%25", 1, "%");
    DECODES("%2541", 1, "%41");               /* one round only */
    DECODES("%00", 1, "\0");                  /* NUL kept, for the caller */
    DECODES("a%00b", 0, "a\0b");
    DECODES("%C3%A9", 1, "\xC3\xA9");
    DECODES("%ff", 1, "\xff");

    REFUSES("%");
    REFUSES("%4");
    REFUSES("a%");
    REFUSES("%zz");
    REFUSES("%4g");
    REFUSES("%g4");
    REFUSES("%%41");
    REFUSES("% 41");
    REFUSES("%+1");

    /* only n bytes are read: an escape cut at n is malformed */
    {
        size_t n = 0;
        CHECK_NULL(natomm_percent_decode(pool, "%41", 2, 1, &n));
        CHECK_NULL(natomm_percent_decode(pool, "%41", 1, 1, &n));
        CHECK_STR(natomm_percent_decode(pool, "ab%41", 2, 1, &n), "ab");
        CHECK_INT(n, 2);
        /* outlen may be NULL */
        CHECK_STR(natomm_percent_decode(pool, "x%41", 4, 0, NULL), "xA");
    }
}

int main(void)
{
    apr_initialize();
    apr_pool_create(&pool, NULL);
    test_hex_digit();
    test_decode();
    apr_pool_destroy(pool);
    apr_terminate();
    return check_done("test_percent");
}
