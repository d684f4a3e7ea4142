/* Unit tests for src/code.c: code formats, generation, normalisation, display. */
#include <string.h>
#include "apr_general.h"
#include "apr_pools.h"
#include "apr_hash.h"
#include "natomm_code.h"
#include "check.h"

static apr_pool_t *pool;

static void test_format_parse(void)
{
    natomm_code_format_t f;

    memset(&f, 0, sizeof(f));
    CHECK_NULL(natomm_code_format_parse(&f, "letters", "8"));
    CHECK_STR(f.alphabet, NATOMM_CODE_LETTERS);
    CHECK_INT(f.length, 8);

    memset(&f, 0, sizeof(f));
    CHECK_NULL(natomm_code_format_parse(&f, "digits", "6"));
    CHECK_STR(f.alphabet, NATOMM_CODE_DIGITS);
    CHECK_INT(f.length, 6);

    CHECK_NULL(natomm_code_format_parse(&f, "LETTERS", "5"));
    CHECK_INT(f.length, 5);
    CHECK_NULL(natomm_code_format_parse(&f, "letters", "32"));
    CHECK_INT(f.length, NATOMM_CODE_MAX);
    CHECK_NULL(natomm_code_format_parse(&f, "digits", "10"));
    CHECK_INT(f.length, 10);

    /* refused: too short (under ~20 bits), too long, unknown kinds */
    CHECK_NOT_NULL(natomm_code_format_parse(&f, "letters", "4"));
    CHECK_NOT_NULL(natomm_code_format_parse(&f, "letters", "3"));
    CHECK_NOT_NULL(natomm_code_format_parse(&f, "letters", "0"));
    CHECK_NOT_NULL(natomm_code_format_parse(&f, "letters", "-8"));
    CHECK_NOT_NULL(natomm_code_format_parse(&f, "letters", "33"));
    CHECK_NOT_NULL(natomm_code_format_parse(&f, "digits", "5"));
    CHECK_NOT_NULL(natomm_code_format_parse(&f, "digits", "4"));
    CHECK_NOT_NULL(natomm_code_format_parse(&f, "emoji", "8"));
    CHECK_NOT_NULL(natomm_code_format_parse(&f, "hex", "8"));
    CHECK_NOT_NULL(natomm_code_format_parse(&f, "", "8"));
    CHECK_NOT_NULL(natomm_code_format_parse(&f, "letters", "8x"));
    CHECK_NOT_NULL(natomm_code_format_parse(&f, "letters", "eight"));
    CHECK_NOT_NULL(natomm_code_format_parse(&f, "letters", ""));
    CHECK_NOT_NULL(natomm_code_format_parse(&f, "letters", NULL));
    CHECK_NOT_NULL(natomm_code_format_parse(&f, "letters", "99999999999999999999"));
}

/* Counts each alphabet character over n codes, checks shape and returns the
 * chi-square statistic against a uniform distribution. */
static double chi_square(const natomm_code_format_t *f, int n, int *shape_ok,
                         apr_hash_t *seen, int *dups, int *min, int *max)
{
    size_t k = strlen(f->alphabet), i;
    long counts[64] = {0};
    double expected = (double)n * f->length / (double)k, chi = 0;
    int c;

    *shape_ok = 1;
    for (c = 0; c < n; c++) {
        const char *code = natomm_code_generate(pool, f);
        const char *s;
        if (!code || strlen(code) != (size_t)f->length) {
            *shape_ok = 0;
            continue;
        }
        for (s = code; *s; s++) {
            const char *at = strchr(f->alphabet, *s);
            if (!at)
                *shape_ok = 0;
            else
                counts[at - f->alphabet]++;
        }
        if (seen) {
            if (apr_hash_get(seen, code, APR_HASH_KEY_STRING))
                (*dups)++;
            apr_hash_set(seen, code, APR_HASH_KEY_STRING, "");
        }
    }
    *min = *max = (int)counts[0];
    for (i = 0; i < k; i++) {
        double d = counts[i] - expected;
        chi += d * d / expected;
        if (counts[i] < *min) *min = (int)counts[i];
        if (counts[i] > *max) *max = (int)counts[i];
    }
    return chi;
}

static void test_generate(void)
{
    natomm_code_format_t letters = { NATOMM_CODE_LETTERS, 8 };
    natomm_code_format_t digits = { NATOMM_CODE_DIGITS, 6 };
    natomm_code_format_t longest = { NATOMM_CODE_LETTERS, NATOMM_CODE_MAX };
    apr_hash_t *seen = apr_hash_make(pool);
    int shape_ok, dups = 0, min, max;
    double chi;
    const char *code;

    /* 2000 codes: right shape, no duplicate (20^8 codes: a collision among
     * 2000 has probability below 1e-4), each letter near 800 times */
    chi = chi_square(&letters, 2000, &shape_ok, seen, &dups, &min, &max);
    CHECK(shape_ok);
    CHECK_INT(dups, 0);
    CHECK_INT(apr_hash_count(seen), 2000);
    /* 16000 draws, 800 expected per letter, sd about 28 */
    CHECK_MSG(min > 650 && max < 950, "min %d max %d", min, max);
    /* 19 degrees of freedom: P(chi2 > 60) is about 3e-6 */
    CHECK_MSG(chi < 60.0, "chi2 = %.1f", chi);

    /* enough draws to see a modulo bias (256 % 20 = 16 letters favoured by
     * 1/12): that would push chi2 to about 175; rejection sampling keeps it
     * near 19 */
    chi = chi_square(&letters, 20000, &shape_ok, NULL, NULL, &min, &max);
    CHECK(shape_ok);
    CHECK_MSG(chi < 60.0, "chi2 = %.1f over 160000 letters (modulo bias?)", chi);

    /* digits: 9 degrees of freedom, P(chi2 > 45) is about 1e-6; a modulo
     * bias (256 % 10 = 6) would give about 120 over 300000 draws */
    chi = chi_square(&digits, 50000, &shape_ok, NULL, NULL, &min, &max);
    CHECK(shape_ok);
    CHECK_MSG(chi < 45.0, "chi2 = %.1f over 300000 digits (modulo bias?)", chi);

    code = natomm_code_generate(pool, &longest);
    CHECK_NOT_NULL(code);
    CHECK_INT(code ? strlen(code) : 0, NATOMM_CODE_MAX);
    CHECK(code && strspn(code, NATOMM_CODE_LETTERS) == NATOMM_CODE_MAX);

    /* a generated code survives normalisation unchanged */
    code = natomm_code_generate(pool, &letters);
    CHECK_STR(natomm_code_normalise(pool, &letters, code), code);
    code = natomm_code_generate(pool, &digits);
    CHECK_STR(natomm_code_normalise(pool, &digits, code), code);
}

static void test_normalise(void)
{
    natomm_code_format_t letters = { NATOMM_CODE_LETTERS, 8 };
    natomm_code_format_t digits = { NATOMM_CODE_DIGITS, 6 };

    CHECK_STR(natomm_code_normalise(pool, &letters, "FGXBDZJW"), "FGXBDZJW");
    CHECK_STR(natomm_code_normalise(pool, &letters, "fgxb dzjw"), "FGXBDZJW");
    CHECK_STR(natomm_code_normalise(pool, &letters, "FGXB-DZJW"), "FGXBDZJW");
    CHECK_STR(natomm_code_normalise(pool, &letters, " f-g-x-b-d-z-j-w "), "FGXBDZJW");
    CHECK_STR(natomm_code_normalise(pool, &letters, "fGxB--DzJw"), "FGXBDZJW");
    CHECK_STR(natomm_code_normalise(pool, &letters, "  FGXB   DZJW  "), "FGXBDZJW");

    /* wrong length */
    CHECK_NULL(natomm_code_normalise(pool, &letters, ""));
    CHECK_NULL(natomm_code_normalise(pool, &letters, "   "));
    CHECK_NULL(natomm_code_normalise(pool, &letters, "--------"));
    CHECK_NULL(natomm_code_normalise(pool, &letters, "FGXBDZJ"));
    CHECK_NULL(natomm_code_normalise(pool, &letters, "FGXB-DZJ"));
    CHECK_NULL(natomm_code_normalise(pool, &letters, "FGXBDZJWB"));
    CHECK_NULL(natomm_code_normalise(pool, &letters, "FGXB-DZJW-BCDF-GHJK"));
    /* characters outside the alphabet: vowels, Y, digits, punctuation */
    CHECK_NULL(natomm_code_normalise(pool, &letters, "FGXBDZJA"));
    CHECK_NULL(natomm_code_normalise(pool, &letters, "AEIOUYBC"));
    CHECK_NULL(natomm_code_normalise(pool, &letters, "fgxbdzje"));
    CHECK_NULL(natomm_code_normalise(pool, &letters, "FGXBDZJY"));
    CHECK_NULL(natomm_code_normalise(pool, &letters, "FGXB1ZJW"));
    CHECK_NULL(natomm_code_normalise(pool, &letters, "12345678"));
    CHECK_NULL(natomm_code_normalise(pool, &letters, "FGXB_DZJW"));
    CHECK_NULL(natomm_code_normalise(pool, &letters, "FGXB.DZJW"));
    CHECK_NULL(natomm_code_normalise(pool, &letters, "FGXB\nDZJW"));
    /* look-alikes from other scripts: en dash, full-width letters, Cyrillic */
    CHECK_NULL(natomm_code_normalise(pool, &letters, "FGXB\xE2\x80\x93" "DZJW"));
    CHECK_NULL(natomm_code_normalise(pool, &letters, "\xEF\xBC\xA6GXBDZJW"));
    CHECK_NULL(natomm_code_normalise(pool, &letters, "FGXBDZJ\xD0\x92"));
    CHECK_NULL(natomm_code_normalise(pool, &letters, "FGXBDZJ\xFF"));

    CHECK_STR(natomm_code_normalise(pool, &digits, "123456"), "123456");
    CHECK_STR(natomm_code_normalise(pool, &digits, "123 456"), "123456");
    CHECK_STR(natomm_code_normalise(pool, &digits, "123-456"), "123456");
    CHECK_STR(natomm_code_normalise(pool, &digits, " 0 0 0 0 0 7 "), "000007");
    CHECK_NULL(natomm_code_normalise(pool, &digits, "12345"));
    CHECK_NULL(natomm_code_normalise(pool, &digits, "1234567"));
    CHECK_NULL(natomm_code_normalise(pool, &digits, "12345a"));
    CHECK_NULL(natomm_code_normalise(pool, &digits, "BCDFGH"));
    CHECK_NULL(natomm_code_normalise(pool, &digits, "12345\xD9\xA1"));  /* Arabic-Indic 1 */
    CHECK_NULL(natomm_code_normalise(pool, &digits, "+12345"));
}

static void test_display(void)
{
    CHECK_STR(natomm_code_display(pool, "BCDFGHJK"), "BCDF-GHJK");
    CHECK_STR(natomm_code_display(pool, "123456"), "123-456");
    CHECK_STR(natomm_code_display(pool, "BCDFGHJKLM"), "BCDFG-HJKLM");
    /* display then normalise gives the code back */
    {
        natomm_code_format_t letters = { NATOMM_CODE_LETTERS, 8 };
        const char *code = natomm_code_generate(pool, &letters);
        const char *shown = natomm_code_display(pool, code);
        CHECK_INT(strlen(shown), 9);
        CHECK(shown[4] == '-');
        CHECK_STR(natomm_code_normalise(pool, &letters, shown), code);
    }
}

int main(void)
{
    apr_initialize();
    apr_pool_create(&pool, NULL);
    test_format_parse();
    test_generate();
    test_normalise();
    test_display();
    apr_pool_destroy(pool);
    apr_terminate();
    return check_done("test_code");
}
