/* Unit tests for src/core/smtp.c: natomm_smtp_parse (schemes, user and
 * password, STARTTLS options, cafile, bad hosts, unknown options; errors
 * never repeat the password) and natomm_smtp_password_file. natomm_smtp_send
 * needs a server: the integration tests cover it. */
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include "apr_general.h"
#include "apr_pools.h"
#include "apr_strings.h"
#include "apr_file_io.h"
#include "natomm_smtp.h"
#include "check.h"

static apr_pool_t *pool;

#define SECRET "s3cr3t-Pa55"

static void parse_ok(const char *url, const char *want_url, const char *user,
                     const char *password, natomm_tls_mode tls,
                     const char *cafile, int line)
{
    natomm_smtp_t t;
    const char *err;

    memset(&t, 0x5a, sizeof(t));
    err = natomm_smtp_parse(pool, url, &t);
    if (!check_report(err == NULL, __FILE__, line, "smtp url accepted",
                      "\"%s\": %s", url, err ? err : ""))
        return;
    check_str(t.url, want_url, __FILE__, line, "url");
    check_str(t.user, user, __FILE__, line, "user");
    check_str(t.password, password, __FILE__, line, "password");
    check_int(t.tls, tls, __FILE__, line, "tls mode");
    check_str(t.cafile, cafile, __FILE__, line, "cafile");
}

static void parse_refused(const char *url, int line)
{
    natomm_smtp_t t;
    const char *err = natomm_smtp_parse(pool, url, &t);

    check_report(err != NULL && *err, __FILE__, line, "smtp url refused",
                 "\"%s\" accepted as %s", url, err ? "" : (t.url ? t.url : "(null)"));
    if (err)
        check_report(!strstr(err, SECRET) && !strstr(err, "s3cr3t"), __FILE__, line,
                     "error without the password", "\"%s\"", err);
}

#define OK(url, want, user, pw, tls, ca) \
    parse_ok((url), (want), (user), (pw), (tls), (ca), __LINE__)
#define REFUSED(url) parse_refused((url), __LINE__)

static void test_schemes(void)
{
    OK("smtp://localhost", "smtp://localhost", NULL, NULL, NATOMM_TLS_NONE, NULL);
    OK("smtp://localhost:25", "smtp://localhost:25", NULL, NULL, NATOMM_TLS_NONE, NULL);
    OK("smtp://mail.example.org:587", "smtp://mail.example.org:587", NULL, NULL,
       NATOMM_TLS_NONE, NULL);
    OK("smtps://mail.example.org", "smtps://mail.example.org", NULL, NULL,
       NATOMM_TLS_IMPLICIT, NULL);
    OK("smtps://mail.example.org:465", "smtps://mail.example.org:465", NULL, NULL,
       NATOMM_TLS_IMPLICIT, NULL);
    OK("SMTP://Mail.Example.ORG", "smtp://Mail.Example.ORG", NULL, NULL,
       NATOMM_TLS_NONE, NULL);
    OK("SmTpS://h", "smtps://h", NULL, NULL, NATOMM_TLS_IMPLICIT, NULL);
    OK("smtp://127.0.0.1:2525", "smtp://127.0.0.1:2525", NULL, NULL, NATOMM_TLS_NONE, NULL);
    OK("smtp://[::1]:25", "smtp://[::1]:25", NULL, NULL, NATOMM_TLS_NONE, NULL);
    OK("smtp://[2001:db8::1]", "smtp://[2001:db8::1]", NULL, NULL, NATOMM_TLS_NONE, NULL);
    OK("smtp://mail-1.example.org", "smtp://mail-1.example.org", NULL, NULL,
       NATOMM_TLS_NONE, NULL);
    /* a path is dropped (the HELO name is the module's) */
    OK("smtp://localhost/", "smtp://localhost", NULL, NULL, NATOMM_TLS_NONE, NULL);
    OK("smtp://localhost:25/client.example", "smtp://localhost:25", NULL, NULL,
       NATOMM_TLS_NONE, NULL);

    REFUSED("");
    REFUSED("localhost");
    REFUSED("localhost:25");
    REFUSED("http://localhost");
    REFUSED("smtp:");
    REFUSED("smtp:/localhost");
    REFUSED("smtp:localhost");
    REFUSED("smtpx://localhost");
    REFUSED("file:/var/spool/natomm");
    REFUSED(" smtp://localhost");
    REFUSED("lmtp://localhost");
}

static void test_hosts(void)
{
    REFUSED("smtp://");
    REFUSED("smtps://");
    REFUSED("smtp:///");
    REFUSED("smtp://?starttls");
    REFUSED("smtp:///path");
    REFUSED("smtp://exa mple.org");
    REFUSED("smtp://example.org ");
    REFUSED("smtp://example.org\r\n");
    REFUSED("smtp://example.org\nRCPT TO:<x@y>");
    REFUSED("smtp://ex_ample.org");
    REFUSED("smtp://ex%61mple.org");
    REFUSED("smtp://exa\xc3\xa9mple.org");
    REFUSED("smtp://example.org#frag");
    REFUSED("smtp://example.org\\evil");
    REFUSED("smtp://example.org;x");
    REFUSED("smtp://example.org,other.org");
    REFUSED("smtp://\"example.org\"");
    REFUSED("smtp://user@");
    REFUSED("smtp://user:" SECRET "@");
    REFUSED("smtp://user:" SECRET "@exa mple");
    REFUSED("smtp://user:" SECRET "@host@other");   /* a raw "@" in the host */
    REFUSED("smtp://user:p@ss@host");                 /* a raw "@": refused */

    /* a port is digits (RFC 3986) up to 65535, after a non-empty host */
    {
        static const char *const bad[] = {
            "smtp://mail.example.org:smtp", "smtp://host:99999",
            "smtp://host:25:26", "smtp://host:", "smtp://:25",
            /* an unescaped "/" in the password ends the authority (RFC
             * 3986): "u:<password>" is then a host and a "port", which must be
     * refused */
            "smtp://u:" SECRET "/x@host", NULL };
        int i, accepted = 0;
        for (i = 0; bad[i]; i++) {
            natomm_smtp_t t;
            if (!natomm_smtp_parse(pool, bad[i], &t)) {
                accepted++;
                fprintf(stderr, "    \"%s\" accepted as url \"%s\"\n", bad[i], t.url);
            }
        }
        CHECK(accepted == 0);
    }
}

static void test_userinfo(void)
{
    OK("smtp://mailer@localhost?plaintext-auth", "smtp://localhost", "mailer", NULL, NATOMM_TLS_NONE, NULL);
    OK("smtp://mailer:" SECRET "@localhost:587?plaintext-auth", "smtp://localhost:587", "mailer",
       SECRET, NATOMM_TLS_NONE, NULL);
    OK("smtps://mailer:" SECRET "@mail.example.org", "smtps://mail.example.org",
       "mailer", SECRET, NATOMM_TLS_IMPLICIT, NULL);
    /* escapes in the user and the password */
    OK("smtp://me%40example.org:p%40ss%3Aw%2Fd%25@localhost?plaintext-auth", "smtp://localhost",
       "me@example.org", "p@ss:w/d%", NATOMM_TLS_NONE, NULL);
    OK("smtp://u:%3F%26%23@h?plaintext-auth", "smtp://h", "u", "?&#", NATOMM_TLS_NONE, NULL);
    /* the first ":" splits, later ones are the password's */
    OK("smtp://u:a:b:c@h?plaintext-auth", "smtp://h", "u", "a:b:c", NATOMM_TLS_NONE, NULL);
    /* an empty password is a password (AUTH with ""); none at all is NULL */
    OK("smtp://u:@h?plaintext-auth", "smtp://h", "u", "", NATOMM_TLS_NONE, NULL);
    /* "+" is not a space in a URL's user part */
    OK("smtp://a+b:c+d@h?plaintext-auth", "smtp://h", "a+b", "c+d", NATOMM_TLS_NONE, NULL);
    /* a user, password and options together */
    OK("smtp://u:" SECRET "@h:587?starttls&cafile=/etc/ssl/ca.pem", "smtp://h:587",
       "u", SECRET, NATOMM_TLS_REQUIRED, "/etc/ssl/ca.pem");

    /* a user over plain smtp:// or STARTTLS that may not happen: the
     * password would go in clear, so only with ?plaintext-auth */
    REFUSED("smtp://mailer@localhost");
    REFUSED("smtp://mailer:" SECRET "@localhost:587");
    REFUSED("smtp://mailer:" SECRET "@localhost:587?starttls=try");
    OK("smtp://mailer:" SECRET "@localhost:587?starttls", "smtp://localhost:587",
       "mailer", SECRET, NATOMM_TLS_REQUIRED, NULL);

    /* no user, bad escapes: refused, and the message keeps the password out */
    REFUSED("smtp://@localhost");
    REFUSED("smtp://:" SECRET "@localhost");
    REFUSED("smtp://u%zz:" SECRET "@localhost");
    REFUSED("smtp://u:" SECRET "%@localhost");
    REFUSED("smtp://u:" SECRET "%4@localhost");
    REFUSED("smtp://u:" SECRET "%G0@localhost");
    REFUSED("smtp://%:" SECRET "@localhost");
}

static void test_options(void)
{
    OK("smtp://h?starttls", "smtp://h", NULL, NULL, NATOMM_TLS_REQUIRED, NULL);
    OK("smtp://h:587?starttls", "smtp://h:587", NULL, NULL, NATOMM_TLS_REQUIRED, NULL);
    OK("smtp://h?starttls=required", "smtp://h", NULL, NULL, NATOMM_TLS_REQUIRED, NULL);
    OK("smtp://h?starttls=try", "smtp://h", NULL, NULL, NATOMM_TLS_TRY, NULL);
    OK("smtp://h/?starttls=try", "smtp://h", NULL, NULL, NATOMM_TLS_TRY, NULL);
    OK("smtp://h?cafile=/etc/ssl/ca.pem", "smtp://h", NULL, NULL, NATOMM_TLS_NONE,
       "/etc/ssl/ca.pem");
    OK("smtp://h?starttls&cafile=/etc/ssl/ca.pem", "smtp://h", NULL, NULL,
       NATOMM_TLS_REQUIRED, "/etc/ssl/ca.pem");
    OK("smtp://h?cafile=/etc/ssl/ca.pem&starttls=try", "smtp://h", NULL, NULL,
       NATOMM_TLS_TRY, "/etc/ssl/ca.pem");
    OK("smtps://h:465?cafile=/srv/ca%20bundle.pem", "smtps://h:465", NULL, NULL,
       NATOMM_TLS_IMPLICIT, "/srv/ca bundle.pem");
    OK("smtp://h?cafile=/a%26b.pem", "smtp://h", NULL, NULL, NATOMM_TLS_NONE, "/a&b.pem");
    /* empty queries and separators */
    OK("smtp://h?", "smtp://h", NULL, NULL, NATOMM_TLS_NONE, NULL);
    OK("smtp://h?&&", "smtp://h", NULL, NULL, NATOMM_TLS_NONE, NULL);
    OK("smtp://h?&starttls&", "smtp://h", NULL, NULL, NATOMM_TLS_REQUIRED, NULL);
    /* the last word counts */
    OK("smtp://h?starttls&starttls=try", "smtp://h", NULL, NULL, NATOMM_TLS_TRY, NULL);
    OK("smtp://h?starttls=try&starttls", "smtp://h", NULL, NULL, NATOMM_TLS_REQUIRED, NULL);

    /* STARTTLS has no meaning with smtps:// */
    REFUSED("smtps://h?starttls");
    REFUSED("smtps://h?starttls=try");
    REFUSED("smtps://h:465?starttls=required");
    REFUSED("smtps://h?cafile=/etc/ca.pem&starttls");
    /* unknown options and values */
    REFUSED("smtp://h?tls");
    REFUSED("smtp://h?STARTTLS");
    REFUSED("smtp://h?starttls=yes");
    REFUSED("smtp://h?starttls=");
    REFUSED("smtp://h?starttls=tryx");
    REFUSED("smtp://h?starttlsx");
    REFUSED("smtp://h?starttls;cafile=/x");
    REFUSED("smtp://h?cafile=");
    REFUSED("smtp://h?cafile=relative.pem");
    REFUSED("smtp://h?cafile");
    REFUSED("smtp://h?CAFILE=/x");
    REFUSED("smtp://h?starttls&verify=no");
    REFUSED("smtp://h?=");
    {
        natomm_smtp_t t;
        const char *err = natomm_smtp_parse(pool, "smtp://h?bogus=1", &t);
        CHECK(err && strstr(err, "bogus"));   /* the option is named */
    }

    /* a cafile= whose escape is malformed must not fall back silently to
     * the system's CAs */
    {
        natomm_smtp_t t;
        const char *err = natomm_smtp_parse(pool, "smtp://h?starttls&cafile=/etc/my%zzca.pem", &t);
        CHECK(err != NULL);
    }
    /* smtps:// with a CA file whose path merely contains "starttls" */
    {
        natomm_smtp_t t;
        const char *err = natomm_smtp_parse(pool, "smtps://h?cafile=/etc/starttls/ca.pem", &t);
        CHECK(err == NULL && t.cafile && !strcmp(t.cafile, "/etc/starttls/ca.pem"));
    }
}

static const char *write_file(const char *name, const char *text, mode_t mode)
{
    const char *path = apr_psprintf(pool, "%s/build/%s.%ld", UNIT_DIR, name, (long)getpid());
    FILE *f = fopen(path, "w");

    if (!f)
        return NULL;
    fputs(text, f);
    fclose(f);
    chmod(path, mode);
    return path;
}

static void test_password_file(void)
{
    natomm_smtp_t t;
    const char *path, *err;

    memset(&t, 0, sizeof(t));
    path = write_file("pw-ok", SECRET "\n", 0600);
    CHECK_NOT_NULL(path);
    if (!path)
        return;
    CHECK_NULL(natomm_smtp_password_file(pool, path, &t));
    CHECK_STR(t.password, SECRET);
    unlink(path);

    /* CRLF, no line end, only the first line */
    path = write_file("pw-crlf", "pw1\r\nsecond line\n", 0600);
    t.password = NULL;
    CHECK_NULL(natomm_smtp_password_file(pool, path, &t));
    CHECK_STR(t.password, "pw1");
    unlink(path);
    path = write_file("pw-bare", "pw2", 0400);
    t.password = NULL;
    CHECK_NULL(natomm_smtp_password_file(pool, path, &t));
    CHECK_STR(t.password, "pw2");
    unlink(path);

    /* readable by others or the group: refused, the password untouched */
    path = write_file("pw-open", SECRET "\n", 0644);
    t.password = "before";
    err = natomm_smtp_password_file(pool, path, &t);
    CHECK(err && strstr(err, "600") && !strstr(err, SECRET));
    CHECK_STR(t.password, "before");
    unlink(path);
    path = write_file("pw-group", SECRET "\n", 0640);
    CHECK_NOT_NULL(natomm_smtp_password_file(pool, path, &t));
    unlink(path);
    path = write_file("pw-gw", SECRET "\n", 0620);
    CHECK_NOT_NULL(natomm_smtp_password_file(pool, path, &t));
    unlink(path);

    /* empty, or an empty first line */
    path = write_file("pw-empty", "", 0600);
    err = natomm_smtp_password_file(pool, path, &t);
    CHECK(err && strstr(err, "empty"));
    unlink(path);
    path = write_file("pw-blank", "\nsecond\n", 0600);
    CHECK_NOT_NULL(natomm_smtp_password_file(pool, path, &t));
    unlink(path);

    /* missing */
    err = natomm_smtp_password_file(pool, "/nonexistent/natomm/pw", &t);
    CHECK(err && *err);
    CHECK_STR(t.password, "before");
}

int main(void)
{
    apr_initialize();
    apr_pool_create(&pool, NULL);
    test_schemes();
    test_hosts();
    test_userinfo();
    test_options();
    test_password_file();
    apr_pool_destroy(pool);
    apr_terminate();
    return check_done("test_smtp");
}
