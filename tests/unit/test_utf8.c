/* Unit tests for src/utf8.c: one code point at a time, clean text, length. */
#include <string.h>
#include "natomm_utf8.h"
#include "check.h"

/* next() on the whole of s (n bytes): want_len and, when valid, want_cp. */
static void next_is(const char *s, size_t n, size_t want_len,
                    unsigned long want_cp, int line)
{
    unsigned long cp = 0xDEADBEEF;
    size_t len = natomm_utf8_next((const unsigned char *)s, n, &cp);

    check_int((long long)len, (long long)want_len, __FILE__, line, "utf8_next length");
    if (want_len)
        check_int((long long)cp, (long long)want_cp, __FILE__, line, "utf8_next code point");
}
#define NEXT(s, len, cp) next_is((s), sizeof(s) - 1, (len), (cp), __LINE__)
#define BAD(s) next_is((s), sizeof(s) - 1, 0, 0, __LINE__)

static void test_next(void)
{
    NEXT("A", 1, 0x41);
    NEXT("\x7f", 1, 0x7F);
    NEXT("Az", 1, 0x41);                        /* one code point at a time */
    NEXT("\xC2\x80", 2, 0x80);                  /* first two-byte */
    NEXT("\xC3\xA9", 2, 0xE9);
    NEXT("\xDF\xBF", 2, 0x7FF);                 /* last two-byte */
    NEXT("\xE0\xA0\x80", 3, 0x800);             /* first three-byte */
    NEXT("\xE2\x82\xAC", 3, 0x20AC);            /* euro */
    NEXT("\xED\x9F\xBF", 3, 0xD7FF);            /* just below the surrogates */
    NEXT("\xEE\x80\x80", 3, 0xE000);            /* just above */
    NEXT("\xEF\xBF\xBD", 3, 0xFFFD);
    NEXT("\xEF\xBF\xBF", 3, 0xFFFF);
    NEXT("\xF0\x90\x80\x80", 4, 0x10000);       /* first four-byte */
    NEXT("\xF0\x9F\x98\x80", 4, 0x1F600);
    NEXT("\xF4\x8F\xBF\xBF", 4, 0x10FFFF);      /* the last code point */

    /* the NUL byte is a code point when it is inside the n bytes */
    next_is("\0", 1, 1, 0, __LINE__);

    BAD("\x80");                                /* lone continuations */
    BAD("\xBF");
    BAD("\xC0\x80");                            /* overlong NUL */
    BAD("\xC0\xAF");                            /* overlong "/" */
    BAD("\xC1\xBF");
    BAD("\xE0\x80\x80");
    BAD("\xE0\x9F\xBF");                        /* overlong U+07FF */
    BAD("\xF0\x80\x80\x80");
    BAD("\xF0\x8F\xBF\xBF");                    /* overlong U+FFFF */
    BAD("\xED\xA0\x80");                        /* surrogates D800..DFFF */
    BAD("\xED\xAD\xBF");
    BAD("\xED\xB0\x80");
    BAD("\xED\xBF\xBF");
    BAD("\xF4\x90\x80\x80");                    /* U+110000 */
    BAD("\xF5\x80\x80\x80");
    BAD("\xF7\xBF\xBF\xBF");
    BAD("\xF8\x88\x80\x80\x80");                /* five- and six-byte forms */
    BAD("\xFC\x84\x80\x80\x80\x80");
    BAD("\xFE");
    BAD("\xFF");
    BAD("\xC3\x28");                            /* bad continuation */
    BAD("\xE2\x28\xA1");
    BAD("\xE2\x82\x28");
    BAD("\xF0\x9F\x98\x28");
    BAD("\xC3\xC3\xA9");
    /* truncated: the bytes are there in memory, but not within n */
    next_is("\xC3\xA9", 1, 0, 0, __LINE__);
    next_is("\xE2\x82\xAC", 2, 0, 0, __LINE__);
    next_is("\xF0\x9F\x98\x80", 3, 0, 0, __LINE__);
    next_is("A", 0, 0, 0, __LINE__);
    BAD("\xE2\x82");
    BAD("\xF0\x9F\x98");
}

static void test_clean(void)
{
    CHECK(natomm_utf8_clean("", 0));
    CHECK(natomm_utf8_clean("hello", 5));
    CHECK(natomm_utf8_clean("Jane Doe ~!", 11));
    CHECK(natomm_utf8_clean("\xC3\xA9t\xC3\xA9", 5));
    CHECK(natomm_utf8_clean("\xC2\xA0", 2));                /* NBSP: not a control */
    CHECK(natomm_utf8_clean("\xE2\x80\xA8", 3));            /* U+2028: not C0/C1 */
    CHECK(natomm_utf8_clean("\xF0\x9F\x98\x80", 4));
    CHECK(natomm_utf8_clean("\xC2\xA0", 2));
    CHECK(natomm_utf8_clean("ab\0cd", 2));                  /* only n bytes count */

    CHECK(!natomm_utf8_clean("a\0b", 3));                   /* NUL */
    CHECK(!natomm_utf8_clean("\0", 1));
    CHECK(!natomm_utf8_clean("\x01", 1));
    CHECK(!natomm_utf8_clean("a\tb", 3));
    CHECK(!natomm_utf8_clean("a\nb", 3));
    CHECK(!natomm_utf8_clean("a\rb", 3));
    CHECK(!natomm_utf8_clean("\x1b[0m", 4));
    CHECK(!natomm_utf8_clean("\x1f", 1));
    CHECK(!natomm_utf8_clean("\x7f", 1));                   /* DEL */
    CHECK(!natomm_utf8_clean("\xC2\x80", 2));               /* C1 */
    CHECK(!natomm_utf8_clean("\xC2\x85", 2));               /* NEL */
    CHECK(!natomm_utf8_clean("\xC2\x9F", 2));
    CHECK(!natomm_utf8_clean("ok\xff", 3));
    CHECK(!natomm_utf8_clean("\xC0\xAF", 2));
    CHECK(!natomm_utf8_clean("\xED\xA0\x80", 3));
    CHECK(!natomm_utf8_clean("\xC3\xA9", 1));               /* cut by n */
}

static void test_length(void)
{
    CHECK_INT(natomm_utf8_length(""), 0);
    CHECK_INT(natomm_utf8_length("abc"), 3);
    CHECK_INT(natomm_utf8_length("\xC3\xA9t\xC3\xA9"), 3);
    CHECK_INT(natomm_utf8_length("\xE6\xBC\xA2\xE5\xAD\x97"), 2);
    CHECK_INT(natomm_utf8_length("\xF0\x9F\x98\x80!"), 2);
    CHECK_INT(natomm_utf8_length("a\tb\x7f"), 4);            /* controls count */
    CHECK_INT(natomm_utf8_length("abc\xff"), -1);
    CHECK_INT(natomm_utf8_length("\xC3"), -1);
    CHECK_INT(natomm_utf8_length("\xC0\xAF"), -1);
    CHECK_INT(natomm_utf8_length("\xED\xA0\x80"), -1);
    CHECK_INT(natomm_utf8_length("\xF4\x90\x80\x80"), -1);
}

int main(void)
{
    test_next();
    test_clean();
    test_length();
    return check_done("test_utf8");
}
