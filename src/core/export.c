/* CSV exports (see natomm_export.h). */
#include "natomm_export.h"
#include <string.h>
#include <stdlib.h>
#include <errno.h>
#include <arpa/inet.h>
#include "apr_strings.h"
#include "apr_time.h"
#include "natomm_duration.h"
#include "natomm_token.h"

const char *natomm_export_cell(apr_pool_t *p, const char *v)
{
    const char *s;
    char *out, *o;
    int guard, quote;

    if (!v)
        return "";
    guard = v[0] == '=' || v[0] == '+' || v[0] == '-' || v[0] == '@'
            || v[0] == '\t' || v[0] == '\r';
    quote = guard || strpbrk(v, ",\"\r\n") != NULL;
    if (!quote)
        return v;
    /* each quote doubled, the apostrophe and two quotes around */
    o = out = apr_palloc(p, 2 * strlen(v) + 4);
    *o++ = '"';
    if (guard)
        *o++ = '\'';
    for (s = v; *s; s++) {
        if (*s == '"')
            *o++ = '"';
        *o++ = *s;
    }
    *o++ = '"';
    *o = '\0';
    return out;
}

char *natomm_export_record(apr_pool_t *p, const char *const *cells, int n)
{
    apr_size_t len = 2;
    char *out, *o;
    const char **done = apr_palloc(p, (n > 0 ? n : 1) * sizeof(*done));
    int i;

    for (i = 0; i < n; i++) {
        done[i] = natomm_export_cell(p, cells[i]);
        len += strlen(done[i]) + 1;
    }
    o = out = apr_palloc(p, len + 1);
    for (i = 0; i < n; i++) {
        apr_size_t k = strlen(done[i]);
        if (i)
            *o++ = ',';
        memcpy(o, done[i], k);
        o += k;
    }
    memcpy(o, "\r\n", 3);
    return out;
}

const char *natomm_export_time(apr_pool_t *p, const char *unix_seconds)
{
    apr_time_exp_t e;
    char *end;
    apr_int64_t t;

    if (!unix_seconds || !*unix_seconds)
        return "";
    errno = 0;
    t = apr_strtoi64(unix_seconds, &end, 10);
    if (errno || *end)
        return "";
    apr_time_exp_gmt(&e, apr_time_from_sec(t));
    return apr_psprintf(p, "%04d-%02d-%02dT%02d:%02d:%02dZ", e.tm_year + 1900,
                        e.tm_mon + 1, e.tm_mday, e.tm_hour, e.tm_min, e.tm_sec);
}

/* n digits at s as a number, or -1. */
static int digits(const char *s, int n)
{
    int v = 0, i;

    for (i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

static const char *parse_date(const char *s, apr_int64_t *out)
{
    static const char *usage = "expects a time such as 2025-01-31, "
        "2025-01-31T12:00:00Z, Unix seconds or a duration back such as 7d";
    apr_time_exp_t e;
    apr_time_t t;
    int y, mo, d, h = 0, mi = 0, sec = 0;
    size_t n = strlen(s);

    if (n < 10 || s[4] != '-' || s[7] != '-' || (y = digits(s, 4)) < 1970
        || (mo = digits(s + 5, 2)) < 1 || mo > 12 || (d = digits(s + 8, 2)) < 1 || d > 31)
        return usage;
    s += 10;
    if (*s == 'T' || *s == ' ') {
        if ((h = digits(s + 1, 2)) < 0 || h > 23 || s[3] != ':'
            || (mi = digits(s + 4, 2)) < 0 || mi > 59)
            return usage;
        s += 6;
        if (*s == ':') {
            if ((sec = digits(s + 1, 2)) < 0 || sec > 60)
                return usage;
            s += 3;
        }
    }
    if (*s == 'Z')
        s++;
    if (*s)
        return usage;
    memset(&e, 0, sizeof(e));
    e.tm_year = y - 1900;
    e.tm_mon = mo - 1;
    e.tm_mday = d;
    e.tm_hour = h;
    e.tm_min = mi;
    e.tm_sec = sec;
    if (apr_time_exp_gmt_get(&t, &e) != APR_SUCCESS)
        return usage;
    *out = apr_time_sec(t);
    return NULL;
}

const char *natomm_export_parse_time(const char *text, apr_int64_t now,
                                     apr_int64_t *out)
{
    size_t n = text ? strlen(text) : 0;
    apr_int64_t back;

    if (!n)
        return "expects a time";
    if (strspn(text, "0123456789") == n) {
        char *end;
        errno = 0;
        *out = apr_strtoi64(text, &end, 10);
        return errno || n > 12 ? "is not a Unix time" : NULL;
    }
    if (strchr("smhd", text[n - 1]) && strspn(text, "0123456789") == n - 1) {
        const char *err = natomm_duration_parse(text, &back);
        if (err)
            return err;
        *out = now - back;
        return NULL;
    }
    return parse_date(text, out);
}

const char *natomm_export_ip_prefix(apr_pool_t *p, const char *ip)
{
    unsigned char a[16];

    if (!ip)
        return "";
    if (inet_pton(AF_INET, ip, a) == 1)
        return apr_psprintf(p, "%u.%u.%u.0/24", a[0], a[1], a[2]);
    if (inet_pton(AF_INET6, ip, a) == 1) {
        static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                                                 0xff, 0xff};
        char text[INET6_ADDRSTRLEN];
        if (!memcmp(a, mapped, sizeof(mapped)))
            return apr_psprintf(p, "%u.%u.%u.0/24", a[12], a[13], a[14]);
        memset(a + 6, 0, 10);
        if (!inet_ntop(AF_INET6, a, text, sizeof(text)))
            return "";
        return apr_pstrcat(p, text, "/48", NULL);
    }
    return ip;
}

/* ---- subscribers ------------------------------------------------------ */

const char *natomm_export_subscribers_header(int since)
{
    return since
        ? "address,name,organisation,language,subscribed_at,unsubscribed_at,"
          "reason\r\n"
        : "address,name,organisation,language,subscribed_at,consent_ip,"
          "consent_ip_prefix,list_unsubscribe_url,list_unsubscribe_post\r\n";
}

char *natomm_export_subscriber(apr_pool_t *p, const natomm_export_subscriber_t *s,
                               const char *code_key, const char *unsubscribe_base,
                               int since)
{
    const char *token;

    if (since) {
        const char *cells[] = {
            s->email, s->name, s->organisation, s->language,
            natomm_export_time(p, s->subscribed_at), natomm_export_time(p, s->withdrawn_at),
            /* a row without an account id is one deleted while subscribed */
            s->id ? "unsubscribed" : "deleted"
        };
        return natomm_export_record(p, cells, 7);
    }
    if (!s->id || !(token = natomm_token_unsubscribe(p, code_key, s->id)))
        return NULL;
    {
        const char *cells[] = {
            s->email, s->name, s->organisation, s->language,
            natomm_export_time(p, s->subscribed_at), s->consent_ip,
            natomm_export_ip_prefix(p, s->consent_ip),
            apr_pstrcat(p, unsubscribe_base, token, NULL), NATOMM_EXPORT_ONE_CLICK
        };
        return natomm_export_record(p, cells, 9);
    }
}

/* ---- accounts --------------------------------------------------------- */

const char *natomm_export_accounts_header(void)
{
    return "id,address,name,organisation,language,created_at,verified_at,"
           "disabled_at,newsletter,newsletter_since,failed_logins\r\n";
}

char *natomm_export_account(apr_pool_t *p, const natomm_export_account_t *a)
{
    int news = a->newsletter && atoi(a->newsletter) != 0;
    const char *cells[] = {
        a->id, a->email, a->name, a->organisation, a->language,
        natomm_export_time(p, a->created_at), natomm_export_time(p, a->verified_at),
        natomm_export_time(p, a->disabled_at), news ? "yes" : "no",
        news ? natomm_export_time(p, a->newsletter_at) : "", a->failed_logins
    };
    return natomm_export_record(p, cells, 11);
}
