/* Unit tests for src/core/lang.c: a language tag to "en" or "fr", and the
 * choice of one from an Accept-Language header (RFC 9110 12.5.4: items
 * "tag;q=value" separated by commas, optional whitespace around ";"). */
#include <stdlib.h>
#include <string.h>
#include "apr_general.h"
#include "apr_pools.h"
#include "apr_strings.h"
#include "apr_tables.h"
#include "natomm_lang.h"
#include "check.h"

static apr_pool_t *pool;

static void known_is(const char *tag, size_t n, const char *want, int line)
{
    /* a copy of exactly n bytes, no NUL after: a read past n shows under
     * AddressSanitizer (make run SANITIZE=1) */
    char *copy = malloc(n ? n : 1);
    const char *got;

    memcpy(copy, tag, n);
    got = natomm_lang_known(copy, n);
    if (!check_str(got, want, __FILE__, line, "natomm_lang_known"))
        fprintf(stderr, "    (tag \"%.*s\", n %zu)\n", (int)n, tag, n);
    free(copy);
}

#define KNOWN(tag, want) known_is((tag), strlen(tag), (want), __LINE__)

static void accept_is(const char *header, const char *want, int line)
{
    const char *got = natomm_lang_accept(header);
    if (!check_str(got, want, __FILE__, line, "natomm_lang_accept")) {
        fputs("    (header ", stderr);
        check_print_escaped(stderr, header);
        fputs(")\n", stderr);
    }
}

#define ACCEPT(header, want) accept_is((header), (want), __LINE__)

static void test_known(void)
{
    KNOWN("en", "en");
    KNOWN("fr", "fr");
    KNOWN("EN", "en");
    KNOWN("Fr", "fr");
    KNOWN("fR", "fr");
    KNOWN("fr-BE", "fr");
    KNOWN("fr-CA", "fr");
    KNOWN("fr_FR", "fr");
    KNOWN("en-GB", "en");
    KNOWN("en_US", "en");
    KNOWN("en-Latn-GB-x-private", "en");
    KNOWN("fr-", "fr");

    KNOWN("", NULL);
    KNOWN("e", NULL);
    KNOWN("f", NULL);
    KNOWN("de", NULL);
    KNOWN("es-ES", NULL);
    KNOWN("fra", NULL);
    KNOWN("eng", NULL);
    KNOWN("english", NULL);
    KNOWN("french", NULL);
    KNOWN("frx", NULL);
    KNOWN("fr.BE", NULL);
    KNOWN("fr BE", NULL);
    KNOWN("en;q=1", NULL);
    KNOWN("*", NULL);
    KNOWN(" fr", NULL);
    KNOWN("f\xc3\xa9", NULL);
    KNOWN("\xff\xfe", NULL);

    /* only n bytes count */
    known_is("fr-BE", 2, "fr", __LINE__);
    known_is("frX", 2, "fr", __LINE__);
    known_is("enormous", 2, "en", __LINE__);
    known_is("en", 1, NULL, __LINE__);
    known_is("fr", 0, NULL, __LINE__);
    known_is("fr\0BE", 5, NULL, __LINE__);
    known_is("fr-\0", 4, "fr", __LINE__);
}

static void test_accept_plain(void)
{
    ACCEPT(NULL, "en");
    ACCEPT("", "en");
    ACCEPT(" ", "en");
    ACCEPT(",", "en");
    ACCEPT(",,,,", "en");
    ACCEPT(";;;", "en");
    ACCEPT("*", "en");
    ACCEPT("de", "en");
    ACCEPT("de-DE, es;q=0.9, it;q=0.8", "en");
    ACCEPT("fr", "fr");
    ACCEPT("en", "en");
    ACCEPT("FR", "fr");
    ACCEPT("fr-CH", "fr");
    ACCEPT("fr_CA", "fr");
    ACCEPT("french", "en");
    ACCEPT("fra", "en");
    ACCEPT("fr;", "fr");
    ACCEPT("fr,", "fr");
    ACCEPT(",fr", "fr");
    ACCEPT(",,,fr,,,", "fr");
    ACCEPT("de, fr", "fr");
    ACCEPT("de,fr-FR", "fr");
    ACCEPT("\xff\xfe\x01, fr", "fr");
    ACCEPT(";q=0.5", "en");
    ACCEPT("q=0.5", "en");

    /* browsers' own headers */
    ACCEPT("fr-FR,fr;q=0.9,en-US;q=0.8,en;q=0.7", "fr");
    ACCEPT("en-US,en;q=0.9,fr;q=0.8", "en");
    ACCEPT("de-DE,de;q=0.9,fr;q=0.8,en;q=0.7", "fr");
    ACCEPT("de-DE,de;q=0.9,en;q=0.8,fr;q=0.7", "en");
    ACCEPT("nl-BE,nl;q=0.9,fr-BE;q=0.8", "fr");
}

static void test_accept_q(void)
{
    /* the highest q wins, the first of equals */
    ACCEPT("en;q=0.1, fr;q=0.9", "fr");
    ACCEPT("fr;q=0.1, en;q=0.9", "en");
    ACCEPT("en;q=0.9, fr;q=0.9", "en");
    ACCEPT("fr;q=0.9, en;q=0.9", "fr");
    ACCEPT("fr;q=0.5, en", "en");
    ACCEPT("en;q=0.5, fr", "fr");
    ACCEPT("fr, en", "fr");
    ACCEPT("en, fr", "en");
    ACCEPT("en;q=0.001, fr;q=0.002", "fr");
    ACCEPT("fr;q=1, en;q=1.000", "fr");
    ACCEPT("en;q=0.8, fr;q=1.0", "fr");
    ACCEPT("fr-CA;q=0.2, de;q=0.9", "fr");
    ACCEPT("en-GB;q=0.3, fr-FR;q=0.2, en-US;q=0.1", "en");
    ACCEPT("fr;Q=0.9, en;Q=0.1", "fr");

    /* q=0 means "not acceptable": never chosen */
    ACCEPT("fr;q=0", "en");
    ACCEPT("fr;q=0.0", "en");
    ACCEPT("fr;q=0.000", "en");
    ACCEPT("fr;q=0, en;q=0.1", "en");
    ACCEPT("en;q=0, fr;q=0.1", "fr");
    ACCEPT("fr;q=0, en;q=0", "en");
    ACCEPT("fr;q=0, *", "en");
    ACCEPT("*;q=0.1, fr;q=0", "en");
    ACCEPT("fr-FR;q=0, de", "en");
    ACCEPT("fr;Q=0", "en");

    /* other parameters before or after q */
    ACCEPT("fr;level=1;q=0", "en");
    ACCEPT("fr;q=0;level=1", "en");
    ACCEPT("en;x=y;q=0.2, fr;a=b;q=0.3", "fr");
    ACCEPT("fr;xq=0, en;q=0.5", "fr");      /* "xq" is not q: fr has q 1 */

    /* malformed q: never wins */
    ACCEPT("fr;q=abc", "en");
    ACCEPT("fr;q=", "en");
    ACCEPT("fr;q=;", "en");
    ACCEPT("en;q=0.5, fr;q=abc", "en");
    ACCEPT("en;q=0.5, fr;q=", "en");
    ACCEPT("fr;q=-1", "en");
    ACCEPT("en;q=0.1, fr;q=-0.5", "en");
    ACCEPT("fr;q=nan", "en");
    ACCEPT("en;q=0.5, fr;q=0.50000000000000000001", "en");   /* too long */
    ACCEPT("en;q=0.5, fr;q=00000000000000000001", "en");
}

static void test_accept_whitespace(void)
{
    ACCEPT(" fr", "fr");
    ACCEPT("\tfr", "fr");
    ACCEPT("  ,  , fr", "fr");
    ACCEPT("de,\tfr", "fr");
    ACCEPT("fr ", "fr");
    ACCEPT("fr\t", "fr");
    ACCEPT(" fr ; q=0.5 , en;q=0.4", "fr");
    ACCEPT("en;q=0.4 , fr ; q=0.5", "fr");
    ACCEPT("fr ;q=0", "en");
    ACCEPT("fr; q=0", "en");
    ACCEPT("fr;  q=0", "en");
    ACCEPT("fr\t;q=0", "en");
    ACCEPT("fr;q=0 ", "en");
    ACCEPT("fr;q=0.5 , en;q=0.6 ", "en");
    ACCEPT("en;q=0.5,\tfr;q=0.6", "fr");
    /* RFC 9110 weight = OWS ";" OWS "q=" qvalue, OWS = *( SP / HTAB ):
     * a tab after ";" is whitespace like a space */
    CHECK(!strcmp(natomm_lang_accept("fr;\tq=0"), "en"));
    CHECK(!strcmp(natomm_lang_accept("en;q=0.5, fr;\tq=0.1"), "en"));
}

static void test_accept_many(void)
{
    apr_array_header_t *a = apr_array_make(pool, 2048, sizeof(const char *));
    const char *h;
    int i;

    /* many items, the one that counts at the end */
    for (i = 0; i < 2000; i++)
        APR_ARRAY_PUSH(a, const char *) = "de;q=0.9";
    APR_ARRAY_PUSH(a, const char *) = "fr;q=0.1";
    h = apr_array_pstrcat(pool, a, ',');
    ACCEPT(h, "fr");
    APR_ARRAY_PUSH(a, const char *) = "en;q=0.2";
    h = apr_array_pstrcat(pool, a, ',');
    ACCEPT(h, "en");

    /* many French items with falling q, then English just above the last */
    a->nelts = 0;
    for (i = 999; i > 0; i--)
        APR_ARRAY_PUSH(a, const char *) = apr_psprintf(pool, "fr-X%d;q=0.%03d", i, i);
    APR_ARRAY_PUSH(a, const char *) = "en;q=0.999";
    ACCEPT(apr_array_pstrcat(pool, a, ','), "fr");   /* first of equals */

    /* a long run of separators and spaces */
    h = apr_pstrcat(pool, apr_psprintf(pool, "%0*d", 5000, 0), ",", NULL);
    ACCEPT(h, "en");
    {
        char *big = apr_palloc(pool, 20003);
        memset(big, ',', 10000);
        memset(big + 10000, ' ', 10000);
        strcpy(big + 20000, "fr");
        ACCEPT(big, "fr");
        memset(big, ';', 20000);
        ACCEPT(big, "en");
    }
    /* a q value as long as the header */
    h = apr_pstrcat(pool, "en;q=0.5, fr;q=0.", apr_psprintf(pool, "%0*d", 4000, 9), NULL);
    ACCEPT(h, "en");
}

int main(void)
{
    apr_initialize();
    apr_pool_create(&pool, NULL);
    test_known();
    test_accept_plain();
    test_accept_q();
    test_accept_whitespace();
    test_accept_many();
    apr_pool_destroy(pool);
    apr_terminate();
    return check_done("test_lang");
}
