/* Fuzz target: natomm_email_valid, natomm_email_key and natomm_password_check.
 * The input up to the first newline is an address, the rest a password (the
 * whole input is also tried as an address).
 * Invariants:
 *  - an accepted address meets the header's contract: at most 254 bytes,
 *    printable ASCII, exactly one "@", a local part of 1..64 bytes, a
 *    dotted domain of letters, digits and hyphens; its key is its lower case;
 *  - the failed rules are known names, each once, in the fixed order;
 *  - "length" is there exactly when the code-point count is outside 12..128;
 *  - for printable ASCII passwords, upper/lower/digit/symbol/whitespace
 *    are there exactly when the class is missing (or present, for spaces);
 *  - any ASCII or Unicode space (NBSP, U+2000..U+200A, ideographic space...)
 *    fails "whitespace". */
#include <ctype.h>
#include "apr_strings.h"
#include "natomm_policy.h"
#include "fuzz_common.h"
#include "json_lint.h"

static const char *const order[] = {
    "length", "whitespace", "upper", "lower", "digit", "symbol", "common", NULL
};

static natomm_dict_t *dict;

static void check_email(apr_pool_t *p, const char *s)
{
    const char *at, *c, *d;
    size_t n = strlen(s);

    if (!natomm_email_valid(s))
        return;
    FUZZ_ASSERT(n <= NATOMM_EMAIL_MAX, "%zu bytes accepted", n);
    for (c = s; *c; c++)
        FUZZ_ASSERT((unsigned char)*c > 0x20 && (unsigned char)*c < 0x7f,
                    "byte 0x%02x accepted", (unsigned char)*c);
    at = strchr(s, '@');
    FUZZ_ASSERT(at && !strchr(at + 1, '@'), "not exactly one @ in \"%s\"", s);
    FUZZ_ASSERT(at - s >= 1 && at - s <= 64, "local part of %d bytes", (int)(at - s));
    d = at + 1;
    FUZZ_ASSERT(strchr(d, '.') != NULL, "undotted domain \"%s\"", d);
    FUZZ_ASSERT(d[0] != '.' && d[strlen(d) - 1] != '.' && !strstr(d, ".."),
                "empty domain label in \"%s\"", d);
    for (c = d; *c; c++)
        FUZZ_ASSERT(isalnum((unsigned char)*c) || *c == '-' || *c == '.',
                    "domain \"%s\" holds '%c'", d, *c);
    {
        char *k = natomm_email_key(p, s);
        FUZZ_ASSERT(strlen(k) == n, "key length");
        for (c = s; *c; c++, k++)
            FUZZ_ASSERT(*k == tolower((unsigned char)*c), "key not lower case");
    }
}

static int has(const apr_array_header_t *f, const char *name)
{
    int i;
    for (i = 0; i < f->nelts; i++)
        if (!strcmp(APR_ARRAY_IDX(f, i, const char *), name))
            return 1;
    return 0;
}

static void check_password(apr_pool_t *p, const char *pw, const char *email)
{
    natomm_password_rules_t r;
    apr_array_header_t *f;
    const unsigned char *u = (const unsigned char *)pw;
    long cps = 0;
    int i, pos = 0, printable = 1;
    int up = 0, lo = 0, dg = 0, sy = 0, sp = 0;
    size_t k;

    r.min_length = 12;
    r.max_length = 128;
    r.site_name = "NATO Multimedia";
    r.email = email;
    r.dict = dict;
    f = natomm_password_check(p, &r, pw);
    FUZZ_ASSERT(f != NULL, "NULL result");

    for (i = 0; i < f->nelts; i++) {
        const char *name = APR_ARRAY_IDX(f, i, const char *);
        int j;
        for (j = pos; order[j] && strcmp(order[j], name); j++)
            ;
        FUZZ_ASSERT(order[j] != NULL, "rule \"%s\" unknown, twice or out of order", name);
        pos = j + 1;
    }

    /* code points, counted with json_lint.h's own decoder; for invalid
     * text the count is only bounded (1 to 4 bytes a character) */
    {
        long bytes = (long)strlen(pw);
        int valid = 1;
        for (k = 0; u[k]; ) {
            unsigned long cp;
            size_t len = jl_utf8(u + k, &cp);
            if (!len) {
                valid = 0;
                break;
            }
            k += len;
            cps++;
        }
        if (valid)
            FUZZ_ASSERT(has(f, "length") == (cps < 12 || cps > 128),
                        "%ld code points, length %s", cps,
                        has(f, "length") ? "failed" : "passed");
        else if (bytes < 12 || bytes > 4 * 128)
            FUZZ_ASSERT(has(f, "length"), "%ld bytes passed length", bytes);
    }

    for (k = 0; u[k]; k++) {
        if (u[k] < 0x20 || u[k] > 0x7e)
            printable = 0;
        else if (u[k] == ' ') sp = 1;
        else if (isupper(u[k])) up = 1;
        else if (islower(u[k])) lo = 1;
        else if (isdigit(u[k])) dg = 1;
        else sy = 1;
    }
    {
        static const char *const spaces[] = {
            " ", "\t", "\n", "\v", "\f", "\r", "\xC2\xA0", "\xE1\x9A\x80",
            "\xE2\x80\x80", "\xE2\x80\x81", "\xE2\x80\x82", "\xE2\x80\x83",
            "\xE2\x80\x84", "\xE2\x80\x85", "\xE2\x80\x86", "\xE2\x80\x87",
            "\xE2\x80\x88", "\xE2\x80\x89", "\xE2\x80\x8A", "\xE2\x80\xA8",
            "\xE2\x80\xA9", "\xE2\x80\xAF", "\xE2\x81\x9F", "\xE3\x80\x80", NULL
        };
        int s_;
        for (s_ = 0; spaces[s_]; s_++)
            if (strstr(pw, spaces[s_]))
                FUZZ_ASSERT(has(f, "whitespace"), "space #%d not refused", s_);
    }
    if (printable) {
        FUZZ_ASSERT(has(f, "whitespace") == sp, "whitespace");
        FUZZ_ASSERT(has(f, "upper") == !up, "upper");
        FUZZ_ASSERT(has(f, "lower") == !lo, "lower");
        FUZZ_ASSERT(has(f, "digit") == !dg, "digit");
        FUZZ_ASSERT(has(f, "symbol") == !sy, "symbol");
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p;
    char *all, *nl;

    if (size > 1024)
        return 0;
    if (!dict)
        dict = natomm_dict_builtin(fuzz_root);
    apr_pool_create(&p, fuzz_root);
    all = fuzz_cstr(p, data, size);
    check_email(p, all);
    nl = strchr(all, '\n');
    if (nl) {
        char *email = apr_pstrmemdup(p, all, (apr_size_t)(nl - all));
        check_email(p, email);
        check_password(p, nl + 1, natomm_email_valid(email) ? email : NULL);
        check_password(p, nl + 1, email);
    }
    else {
        check_password(p, all, NULL);
    }
    apr_pool_destroy(p);
    return 0;
}
