/* A tiny assertion kit for the unit tests: no framework, one header.
 *
 *   CHECK(cond)                  a condition
 *   CHECK_MSG(cond, fmt, ...)    the same, with context printed on failure
 *   CHECK_STR(got, want)         string equality (either may be NULL)
 *   CHECK_INT(got, want)         integer equality (as long long)
 *   CHECK_NULL(p) / CHECK_NOT_NULL(p)
 *   KNOWN_BUG(cond, why)         a check that fails today because of a bug
 *                                reported but not yet fixed in src/: counted
 *                                apart and printed loudly; when the bug is
 *                                fixed and the check passes it counts as a
 *                                failure ("remove the mark"), and with
 *                                NATOMM_STRICT=1 in the environment every
 *                                known bug counts as a failure too.
 *   return check_done("name");   prints "name: N passed, M failed[, K known bugs]"
 *                                and gives the exit status.
 *
 * A failure prints file:line, the expression and the values involved.
 * Each test program is one translation unit, so static counters suffice.
 */
#ifndef NATOMM_CHECK_H
#define NATOMM_CHECK_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdarg.h>

static int check_passed, check_failed, check_known;

/* Prints s with non-printable bytes escaped, so failures stay readable. */
static inline void check_print_escaped(FILE *f, const char *s)
{
    const unsigned char *u = (const unsigned char *)s;

    if (!s) {
        fputs("(null)", f);
        return;
    }
    fputc('"', f);
    for (; *u; u++) {
        if (*u == '\\' || *u == '"')
            fprintf(f, "\\%c", *u);
        else if (*u < 0x20 || *u >= 0x7f)
            fprintf(f, "\\x%02x", *u);
        else
            fputc(*u, f);
    }
    fputc('"', f);
}

static inline int check_report(int ok, const char *file, int line, const char *expr,
                        const char *fmt, ...)
{
    if (ok) {
        check_passed++;
        return 1;
    }
    check_failed++;
    fprintf(stderr, "FAIL %s:%d: %s", file, line, expr);
    if (fmt) {
        va_list ap;
        fputs(" -- ", stderr);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
    }
    fputc('\n', stderr);
    return 0;
}

static inline int check_str(const char *got, const char *want, const char *file,
                     int line, const char *expr)
{
    int ok = (got == NULL && want == NULL)
          || (got && want && strcmp(got, want) == 0);
    if (ok) {
        check_passed++;
        return 1;
    }
    check_failed++;
    fprintf(stderr, "FAIL %s:%d: %s\n    got:  ", file, line, expr);
    check_print_escaped(stderr, got);
    fputs("\n    want: ", stderr);
    check_print_escaped(stderr, want);
    fputc('\n', stderr);
    return 0;
}

static inline int check_int(long long got, long long want, const char *file,
                     int line, const char *expr)
{
    if (got == want) {
        check_passed++;
        return 1;
    }
    check_failed++;
    fprintf(stderr, "FAIL %s:%d: %s\n    got:  %lld\n    want: %lld\n",
            file, line, expr, got, want);
    return 0;
}

static inline int check_known_bug(int ok, const char *file, int line,
                           const char *expr, const char *why)
{
    const char *strict = getenv("NATOMM_STRICT");

    if (ok) {
        check_failed++;
        fprintf(stderr, "FAIL %s:%d: %s -- passes now: the known bug (%s) "
                "looks fixed, turn this KNOWN_BUG into a CHECK\n",
                file, line, expr, why);
        return 1;
    }
    if (strict && *strict && strcmp(strict, "0")) {
        check_failed++;
        fprintf(stderr, "FAIL %s:%d: %s -- known bug: %s\n",
                file, line, expr, why);
        return 0;
    }
    check_known++;
    fprintf(stderr, "KNOWN BUG %s:%d: %s -- %s\n", file, line, expr, why);
    return 0;
}

static inline int check_done(const char *name)
{
    printf("%s: %d passed, %d failed", name, check_passed, check_failed);
    if (check_known)
        printf(", %d known bug%s", check_known, check_known == 1 ? "" : "s");
    putchar('\n');
    fflush(stdout);
    return check_failed ? 1 : 0;
}

#define CHECK(cond) \
    check_report(!!(cond), __FILE__, __LINE__, #cond, NULL)
#define CHECK_MSG(cond, ...) \
    check_report(!!(cond), __FILE__, __LINE__, #cond, __VA_ARGS__)
#define CHECK_STR(got, want) \
    check_str((got), (want), __FILE__, __LINE__, #got " == " #want)
#define CHECK_INT(got, want) \
    check_int((long long)(got), (long long)(want), __FILE__, __LINE__, \
              #got " == " #want)
#define CHECK_NULL(p) \
    check_report((p) == NULL, __FILE__, __LINE__, #p " == NULL", NULL)
#define CHECK_NOT_NULL(p) \
    check_report((p) != NULL, __FILE__, __LINE__, #p " != NULL", NULL)
#define KNOWN_BUG(cond, why) \
    check_known_bug(!!(cond), __FILE__, __LINE__, #cond, (why))

#endif
