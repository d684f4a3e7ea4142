/* Unit tests for src/core/backoff.c: doubling waits with a ceiling, for the
 * mail retries and the account locks. Calls that might overflow run in a
 * child process, so a sanitizer abort (make run SANITIZE=1) or a hang is a
 * failed check rather than the end of the program. */
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <unistd.h>
#include <sys/wait.h>
#include "apr_general.h"
#include "natomm_backoff.h"
#include "check.h"

#define I64_MAX ((apr_int64_t)INT64_MAX)

static void backoff_is(apr_int64_t first, apr_int64_t max, int steps,
                       apr_int64_t want, int line)
{
    apr_int64_t got = natomm_backoff(first, max, steps);
    if (!check_int(got, want, __FILE__, line, "natomm_backoff"))
        fprintf(stderr, "    (first %lld, max %lld, steps %d)\n",
                (long long)first, (long long)max, steps);
}

/* natomm_backoff(first, max, steps) in a child: 1 with *out set when it
 * returned within 10 s, 0 when it crashed or hung. */
static int backoff_in_child(apr_int64_t first, apr_int64_t max, int steps,
                            apr_int64_t *out)
{
    int fd[2], status;
    pid_t pid;
    ssize_t n;

    if (pipe(fd))
        return 0;
    fflush(stdout);
    fflush(stderr);
    pid = fork();
    if (pid < 0)
        return 0;
    if (pid == 0) {
        apr_int64_t v;
        close(fd[0]);
        alarm(10);
        v = natomm_backoff(first, max, steps);
        if (write(fd[1], &v, sizeof(v)) != (ssize_t)sizeof(v))
            _exit(3);
        _exit(0);
    }
    close(fd[1]);
    n = read(fd[0], out, sizeof(*out));
    close(fd[0]);
    if (waitpid(pid, &status, 0) != pid)
        return 0;
    return n == (ssize_t)sizeof(*out) && WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

static void test_doubling(void)
{
    /* the mail retry shape: 60 s, doubling, at most an hour */
    backoff_is(60, 3600, 0, 60, __LINE__);
    backoff_is(60, 3600, 1, 120, __LINE__);
    backoff_is(60, 3600, 2, 240, __LINE__);
    backoff_is(60, 3600, 3, 480, __LINE__);
    backoff_is(60, 3600, 4, 960, __LINE__);
    backoff_is(60, 3600, 5, 1920, __LINE__);
    backoff_is(60, 3600, 6, 3600, __LINE__);      /* 3840 capped */
    backoff_is(60, 3600, 7, 3600, __LINE__);
    backoff_is(60, 3600, 100, 3600, __LINE__);
    backoff_is(60, 3600, 1000000, 3600, __LINE__);
    backoff_is(60, 3600, INT_MAX, 3600, __LINE__);
    /* exactly reaching the ceiling */
    backoff_is(1, 1024, 10, 1024, __LINE__);
    backoff_is(1, 1024, 9, 512, __LINE__);
    backoff_is(1, 1024, 11, 1024, __LINE__);
    /* not a power of two */
    backoff_is(3, 100, 5, 96, __LINE__);
    backoff_is(3, 100, 6, 100, __LINE__);
    backoff_is(7, 1000, 3, 56, __LINE__);
    /* milliseconds-sized values */
    backoff_is(1500, 86400000, 10, 1536000, __LINE__);

    /* negative steps count as none */
    backoff_is(60, 3600, -1, 60, __LINE__);
    backoff_is(60, 3600, -1000, 60, __LINE__);
    backoff_is(60, 3600, INT_MIN, 60, __LINE__);

    /* never more than max, even at step 0 */
    backoff_is(100, 50, 0, 50, __LINE__);
    backoff_is(100, 50, 5, 50, __LINE__);
    backoff_is(100, 100, 0, 100, __LINE__);
    backoff_is(100, 100, 3, 100, __LINE__);
    backoff_is(60, 0, 3, 0, __LINE__);

    /* zero doubles to zero */
    backoff_is(0, 3600, 0, 0, __LINE__);
    backoff_is(0, 3600, 1000, 0, __LINE__);
}

static void test_big(void)
{
    int steps;
    apr_int64_t got, prev;

    /* just below the signed limit: 2^62 is the last doubling that fits */
    backoff_is(1, (apr_int64_t)1 << 62, 62, (apr_int64_t)1 << 62, __LINE__);
    backoff_is(1, (apr_int64_t)1 << 62, 1000, (apr_int64_t)1 << 62, __LINE__);
    backoff_is(1, I64_MAX, 0, 1, __LINE__);
    backoff_is(1, I64_MAX, 62, (apr_int64_t)1 << 62, __LINE__);
    backoff_is(I64_MAX, I64_MAX, 0, I64_MAX, __LINE__);
    backoff_is(I64_MAX, I64_MAX, INT_MAX, I64_MAX, __LINE__);
    backoff_is(I64_MAX, 3600, 5, 3600, __LINE__);
    backoff_is((apr_int64_t)1 << 62, (apr_int64_t)1 << 62, 5,
               (apr_int64_t)1 << 62, __LINE__);

    /* no ceiling to speak of (max INT64_MAX) and many steps: the result
     * must stay within [first, max] and never go down as steps grow */
    {
        int ok = 1;
        prev = 1;
        for (steps = 60; steps <= 70; steps++) {
            if (!backoff_in_child(1, I64_MAX, steps, &got)) {
                ok = 0;
                fprintf(stderr, "    natomm_backoff(1, INT64_MAX, %d) crashed "
                        "in the child (signed overflow under UBSan?)\n", steps);
                break;
            }
            if (got < 1 || got < prev) {
                ok = 0;
                fprintf(stderr, "    natomm_backoff(1, INT64_MAX, %d) = %lld\n",
                        steps, (long long)got);
                break;
            }
            prev = got;
        }
        CHECK(ok);
    }
    {
        apr_int64_t first = ((apr_int64_t)1 << 62) + 1;
        int ok = backoff_in_child(first, I64_MAX, 1, &got) && got == I64_MAX;
        CHECK(ok);
    }
    /* a ceiling that fits: 2^62 and any number of steps is safe */
    CHECK(backoff_in_child(3, (apr_int64_t)1 << 62, INT_MAX, &got)
          && got == (apr_int64_t)1 << 62);
}

int main(void)
{
    apr_initialize();
    test_doubling();
    test_big();
    apr_terminate();
    return check_done("test_backoff");
}
