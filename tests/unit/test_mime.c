/* Unit tests for src/core/mime.c: the message builder. The exact header set,
 * CRLF everywhere, RFC 2047 encoded words decoded back, folding, the
 * multipart/alternative structure, the HTML copy (escaping, links, the code
 * paragraph), refusal of anything that could add a header, and termination
 * on hostile UTF-8 (run in a child process under a timer). */
#include <string.h>
#include <signal.h>
#include <unistd.h>
#include <sys/wait.h>
#include "apr_general.h"
#include "apr_pools.h"
#include "apr_strings.h"
#include "apr_tables.h"
#include "apr_base64.h"
#include "natomm_mime.h"
#include "natomm_text.h"
#include "check.h"
#include "json_lint.h"

static apr_pool_t *pool;

#define UNIQUE "AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_AbCdE"   /* a token's 43 */
#define DATE_2026 ((apr_time_t)1796221800 * APR_USEC_PER_SEC)

/* ------------------------------------------------------------------ */
/* reading a built message back */

typedef struct {
    const char *name;
    const char *value;     /* as written, folds ("\r\n ") kept */
    int lines;             /* physical lines */
    int longest;           /* longest physical line, without its CRLF */
} field_t;

typedef struct {
    field_t f[64];
    int n;
    const char *body;      /* after the empty line */
    int malformed;         /* a header line neither "Name: v" nor folded */
} parsed_t;

/* Every CR is followed by LF and every LF preceded by CR. */
static int crlf_only(const char *s)
{
    const char *c;
    for (c = s; *c; c++) {
        if (*c == '\r' && c[1] != '\n')
            return 0;
        if (*c == '\n' && (c == s || c[-1] != '\r'))
            return 0;
    }
    return 1;
}

/* The longest line of s (CRLF-separated), without its CRLF. */
static int longest_line(const char *s)
{
    int best = 0;
    while (*s) {
        const char *e = strstr(s, "\r\n");
        int n = e ? (int)(e - s) : (int)strlen(s);
        if (n > best)
            best = n;
        if (!e)
            break;
        s = e + 2;
    }
    return best;
}

static void parse(const char *msg, parsed_t *p)
{
    const char *s = msg;

    memset(p, 0, sizeof(*p));
    while (*s) {
        const char *eol = strstr(s, "\r\n");
        size_t len = eol ? (size_t)(eol - s) : strlen(s);
        if (len == 0) {                    /* the empty line */
            p->body = eol + 2;
            return;
        }
        if (*s == ' ' || *s == '\t') {    /* a continuation line */
            if (p->n == 0) {
                p->malformed = 1;
            }
            else {
                field_t *f = &p->f[p->n - 1];
                f->value = apr_pstrcat(pool, f->value, "\r\n",
                                       apr_pstrmemdup(pool, s, len), NULL);
                f->lines++;
                if ((int)len > f->longest)
                    f->longest = (int)len;
            }
        }
        else {
            const char *colon = memchr(s, ':', len);
            if (!colon || colon == s || colon[1] != ' ' || p->n == 64) {
                p->malformed = 1;
            }
            else {
                field_t *f = &p->f[p->n++];
                f->name = apr_pstrmemdup(pool, s, colon - s);
                f->value = apr_pstrmemdup(pool, colon + 2, len - (colon + 2 - s));
                f->lines = 1;
                f->longest = (int)len;
            }
        }
        if (!eol)
            break;
        s = eol + 2;
    }
}

static const field_t *field(const parsed_t *p, const char *name)
{
    int i;
    for (i = 0; i < p->n; i++)
        if (!strcasecmp(p->f[i].name, name))
            return &p->f[i];
    return NULL;
}

static int count_field(const parsed_t *p, const char *name)
{
    int i, n = 0;
    for (i = 0; i < p->n; i++)
        if (!strcasecmp(p->f[i].name, name))
            n++;
    return n;
}

static int valid_utf8(const char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        unsigned long cp;
        size_t len = jl_utf8((const unsigned char *)s + i, &cp);
        if (!len || i + len > n)
            return 0;
        i += len;
    }
    return 1;
}

/* Decodes a run of "=?UTF-8?B?...?=" words separated by "\r\n " (the
 * whitespace between encoded words is not part of the text, RFC 2047 6.2).
 * NULL when anything else is there; *words counts them, *split_ok says
 * whether every word decodes to whole UTF-8 characters. */
static char *decode_words(const char *v, int *words, int *split_ok)
{
    apr_array_header_t *out = apr_array_make(pool, 4, sizeof(const char *));

    *words = 0;
    *split_ok = 1;
    while (*v) {
        const char *end;
        char *b64, *dec;
        int n;
        if (*words) {
            if (strncmp(v, "\r\n ", 3))
                return NULL;
            v += 3;
        }
        if (strncmp(v, "=?UTF-8?B?", 10) || !(end = strstr(v + 10, "?=")))
            return NULL;
        if (end - v > 75)                      /* RFC 2047 2: at most 75 */
            return NULL;
        b64 = apr_pstrmemdup(pool, v + 10, end - v - 10);
        if (strspn(b64, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                        "0123456789+/=") != strlen(b64) || strlen(b64) % 4)
            return NULL;
        dec = apr_palloc(pool, apr_base64_decode_len(b64) + 1);
        n = apr_base64_decode(dec, b64);
        dec[n] = '\0';
        if (n == 0 || !valid_utf8(dec, (size_t)n))
            *split_ok = 0;
        APR_ARRAY_PUSH(out, const char *) = dec;
        (*words)++;
        v = end + 2;
    }
    return apr_array_pstrcat(pool, out, 0);
}

/* ------------------------------------------------------------------ */

static natomm_mime_t base(void)
{
    natomm_mime_t m;
    memset(&m, 0, sizeof(m));
    m.from = "Example <noreply@example.org>";
    m.to = "user@example.net";
    m.subject = "Your code";
    m.text = "Hello,\n\nYour code:\n\nBCDF-GHJK\n\nIt expires soon.\n";
    m.date = DATE_2026;
    m.unique = UNIQUE;
    m.headers = NULL;
    return m;
}

static char *build_ok(const natomm_mime_t *m, int line)
{
    char *out = NULL;
    const char *err = natomm_mime_build(pool, m, &out);

    check_report(err == NULL && out != NULL, __FILE__, line, "message built",
                 "%s", err ? err : "");
    return err ? NULL : out;
}

static void build_refused(const natomm_mime_t *m, const char *what, int line)
{
    char *out = NULL;
    const char *err = natomm_mime_build(pool, m, &out);

    check_report(err != NULL && *err, __FILE__, line, "message refused", "%s", what);
}

static const char *const BUILDER_NAMES[] = {
    "From", "To", "Subject", "Date", "Message-ID", "MIME-Version",
    "Auto-Submitted", "Content-Type", NULL };

static void test_headers(void)
{
    natomm_mime_t m = base();
    char *out = build_ok(&m, __LINE__);
    parsed_t p;
    int i;

    if (!out)
        return;
    CHECK(crlf_only(out));
    parse(out, &p);
    CHECK(!p.malformed);
    CHECK_NOT_NULL(p.body);
    /* exactly the builder's eight headers, each once */
    CHECK_INT(p.n, 8);
    for (i = 0; BUILDER_NAMES[i]; i++)
        CHECK_MSG(count_field(&p, BUILDER_NAMES[i]) == 1, "%s: %d times",
                  BUILDER_NAMES[i], count_field(&p, BUILDER_NAMES[i]));
    /* From first, as mail tools expect; Content-Type ends the block */
    CHECK_STR(p.n ? p.f[0].name : NULL, "From");
    CHECK_STR(p.n ? p.f[p.n - 1].name : NULL, "Content-Type");

    CHECK_STR(field(&p, "From") ? field(&p, "From")->value : NULL,
              "Example <noreply@example.org>");
    CHECK_STR(field(&p, "To") ? field(&p, "To")->value : NULL, "<user@example.net>");
    CHECK_STR(field(&p, "Subject") ? field(&p, "Subject")->value : NULL, "Your code");
    CHECK_STR(field(&p, "Date") ? field(&p, "Date")->value : NULL,
              "Wed, 02 Dec 2026 14:30:00 +0000");
    CHECK_STR(field(&p, "Message-ID") ? field(&p, "Message-ID")->value : NULL,
              "<" UNIQUE "@example.org>");
    CHECK_STR(field(&p, "MIME-Version") ? field(&p, "MIME-Version")->value : NULL, "1.0");
    CHECK_STR(field(&p, "Auto-Submitted") ? field(&p, "Auto-Submitted")->value : NULL,
              "auto-generated");
    CHECK_STR(field(&p, "Content-Type") ? field(&p, "Content-Type")->value : NULL,
              "multipart/alternative; boundary=\"=_natomm_" UNIQUE "\"");
    /* the message starts with its first header, nothing before */
    CHECK(!strncmp(out, "From: ", 6));
    /* no header line over the hard limit of RFC 5322 */
    for (i = 0; i < p.n; i++)
        CHECK_MSG(p.f[i].longest <= 998, "%s: %d", p.f[i].name, p.f[i].longest);

    /* a bare address as From; the Message-ID takes its domain */
    m.from = "noreply@mail.example.com";
    out = build_ok(&m, __LINE__);
    if (out) {
        parse(out, &p);
        CHECK_STR(field(&p, "From") ? field(&p, "From")->value : NULL,
                  "noreply@mail.example.com");
        CHECK_STR(field(&p, "Message-ID") ? field(&p, "Message-ID")->value : NULL,
                  "<" UNIQUE "@mail.example.com>");
    }
    /* no domain at all: localhost */
    m.from = "noreply";
    out = build_ok(&m, __LINE__);
    if (out) {
        parse(out, &p);
        CHECK_STR(field(&p, "Message-ID") ? field(&p, "Message-ID")->value : NULL,
                  "<" UNIQUE "@localhost>");
    }
    /* the Date is the message's date */
    m = base();
    m.date = 0;
    out = build_ok(&m, __LINE__);
    if (out) {
        parse(out, &p);
        CHECK_STR(field(&p, "Date") ? field(&p, "Date")->value : NULL,
                  "Thu, 01 Jan 1970 00:00:00 +0000");
    }
}

/* The body: two parts and the closing delimiter, the plain part the text
 * with CRLF, nothing after the end. */
static void test_structure(void)
{
    natomm_mime_t m = base();
    char *out = build_ok(&m, __LINE__);
    const char *delim = "--=_natomm_" UNIQUE;
    const char *plain_head = "--=_natomm_" UNIQUE "\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n"
        "Content-Transfer-Encoding: 8bit\r\n\r\n";
    const char *html_head = "\r\n--=_natomm_" UNIQUE "\r\n"
        "Content-Type: text/html; charset=utf-8\r\n"
        "Content-Transfer-Encoding: 8bit\r\n\r\n";
    const char *close = "--=_natomm_" UNIQUE "--\r\n";
    parsed_t p;
    const char *b, *h, *c;
    int n = 0;

    if (!out)
        return;
    parse(out, &p);
    b = p.body;
    CHECK_NOT_NULL(b);
    if (!b)
        return;
    CHECK(!strncmp(b, plain_head, strlen(plain_head)));
    CHECK(!strncmp(b + strlen(plain_head),
                   "Hello,\r\n\r\nYour code:\r\n\r\nBCDF-GHJK\r\n\r\nIt expires soon.\r\n",
                   strlen("Hello,\r\n\r\nYour code:\r\n\r\nBCDF-GHJK\r\n\r\nIt expires soon.\r\n")));
    h = strstr(b, html_head);
    CHECK_NOT_NULL(h);
    /* the plain part is exactly the text */
    if (h)
        CHECK_STR(apr_pstrmemdup(pool, b + strlen(plain_head), h - b - strlen(plain_head)),
                  "Hello,\r\n\r\nYour code:\r\n\r\nBCDF-GHJK\r\n\r\nIt expires soon.\r\n");
    /* the message ends with the closing delimiter */
    c = strstr(b, close);
    CHECK(c && !strcmp(c, close));
    /* the boundary appears three times: two parts, the close */
    for (c = strstr(out, delim); c; c = strstr(c + 1, delim))
        n++;
    CHECK_INT(n, 3);
    /* the HTML part is a document */
    if (h) {
        const char *html = h + strlen(html_head);
        CHECK(!strncmp(html, "<!doctype html>\r\n<html><head><meta charset=\"utf-8\">"
                             "<title>Your code</title></head>\r\n<body>\r\n",
                       strlen("<!doctype html>\r\n<html><head><meta charset=\"utf-8\">"
                              "<title>Your code</title></head>\r\n<body>\r\n")));
        CHECK_NOT_NULL(strstr(html, "</body></html>\r\n--=_natomm_" UNIQUE "--\r\n"));
        CHECK_NOT_NULL(strstr(html, "<p>Hello,</p>\r\n"));
        CHECK_NOT_NULL(strstr(html, "<p>Your code:</p>\r\n"));
        CHECK_NOT_NULL(strstr(html, "<p>It expires soon."));
        /* the code paragraph stands out */
        CHECK_NOT_NULL(strstr(html, "<p style=\"font-size:1.6em;letter-spacing:.12em\">"
                                    "<strong>BCDF-GHJK</strong></p>\r\n"));
    }
}

static void test_crlf(void)
{
    static const char *const texts[] = {
        "one line",
        "one line\n",
        "a\nb\nc\n",
        "a\n\n\n\nb",
        "\n\nleading blank lines",
        "trailing blank lines\n\n\n",
        "dos\r\nline\r\nends\r\n",
        "bare\rcarriage\rreturns",
        "mixed\r\n\r\n\n\r\r\n",
        "\r",
        "\n",
        "",
        "para one\n\npara two\n\nABC-123\n\nhttps://example.org/x\n",
        NULL };
    int i;

    for (i = 0; texts[i]; i++) {
        natomm_mime_t m = base();
        char *out;
        m.text = texts[i];
        out = build_ok(&m, __LINE__);
        if (!out)
            continue;
        if (!check_report(crlf_only(out), __FILE__, __LINE__, "CRLF only", NULL)) {
            fputs("    text ", stderr);
            check_print_escaped(stderr, texts[i]);
            fputc('\n', stderr);
        }
        CHECK(longest_line(out) <= 998);
    }

    /* "CRs dropped": a text with CRLF line ends (a template saved on
     * Windows) gives the same message as with LF */
    {
        natomm_mime_t a = base(), b = base();
        char *oa, *ob;
        a.text = "Hello,\r\n\r\nBCDF-GHJK\r\n\r\nBye.\r\n";
        b.text = "Hello,\n\nBCDF-GHJK\n\nBye.\n";
        oa = build_ok(&a, __LINE__);
        ob = build_ok(&b, __LINE__);
        CHECK(oa && ob && !strcmp(oa, ob));
    }
}

static void test_long_lines(void)
{
    natomm_mime_t m = base();
    char *line = apr_palloc(pool, 1501), *out;

    memset(line, 'x', 1500);
    line[1500] = '\0';
    m.text = apr_pstrcat(pool, "Hello,\n\n", line, "\n", NULL);
    out = build_ok(&m, __LINE__);
    /* RFC 5322 2.1.1 and RFC 2045 2.8 (8bit): lines MUST be at most 998
     * octets; a longer text line has to be wrapped or encoded */
    CHECK(out && longest_line(out) <= 998);
}

/* ------------------------------------------------------------------ */
/* RFC 2047 */

static void subject_round_trip(const char *subject, int line)
{
    natomm_mime_t m = base();
    char *out;
    parsed_t p;
    const field_t *f;
    char *dec;
    int words, split_ok;

    m.subject = subject;
    out = build_ok(&m, line);
    if (!out)
        return;
    check_report(crlf_only(out), __FILE__, line, "CRLF only", NULL);
    parse(out, &p);
    check_report(!p.malformed, __FILE__, line, "header block well formed", NULL);
    check_int(p.n, 8, __FILE__, line, "eight headers");
    f = field(&p, "Subject");
    if (!check_report(f != NULL, __FILE__, line, "Subject present", NULL))
        return;
    dec = decode_words(f->value, &words, &split_ok);
    if (!check_report(dec != NULL, __FILE__, line, "Subject as encoded words",
                      "%s", f->value))
        return;
    check_str(dec, subject, __FILE__, line, "Subject decoded back");
    check_report(split_ok, __FILE__, line, "words cut between characters", NULL);
    check_int(words, f->lines, __FILE__, line, "one word per line");
    /* RFC 2047 2: a line holding encoded words is at most 76 characters */
    check_report(f->longest <= 76, __FILE__, line, "Subject lines within 76",
                 "longest %d", f->longest);
    /* the HTML title carries the subject, escaped */
    check_report(strstr(out, apr_pstrcat(pool, "<title>",
                 natomm_text_html(pool, subject), "</title>", NULL)) != NULL,
                 __FILE__, line, "HTML title", NULL);
}

static void test_subjects(void)
{
    char buf[512];
    int i, k;

    /* ASCII stays as it is */
    {
        natomm_mime_t m = base();
        parsed_t p;
        char *out;
        m.subject = "Plain =?not-a-word?= subject";
        out = build_ok(&m, __LINE__);
        if (out) {
            parse(out, &p);
            CHECK_STR(field(&p, "Subject") ? field(&p, "Subject")->value : NULL,
                      "Plain =?not-a-word?= subject");
        }
    }
    subject_round_trip("Votre code de v\xc3\xa9rification Exemple", __LINE__);
    subject_round_trip("\xc3\xa9", __LINE__);
    subject_round_trip("Vous \xc3\xaates abonn\xc3\xa9 \xc3\xa0 la lettre d'information "
                       "de l'Association fran\xc3\xa7" "aise des \xc3\xa9" "diteurs",
                       __LINE__);
    subject_round_trip("\xe2\x82\xac 100 \xe2\x80\x94 \xe2\x9c\x93 \xf0\x9f\x98\x80 "
                       "\xe4\xb8\xad\xe6\x96\x87 \xd0\x9f\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82",
                       __LINE__);
    /* a tab or another control makes a value non-ASCII: encoded too */
    subject_round_trip("tab\there", __LINE__);
    /* Unicode line separators stay inside base64, never raw in a header */
    subject_round_trip("a\xe2\x80\xa8" "b\xc2\x85" "c", __LINE__);
    /* a quote, angle brackets, "=?" and "?=" in the text */
    subject_round_trip("\xc3\xa9 <b>\"x\"</b> =?UTF-8?B?QQ==?= ?= end", __LINE__);

    /* every cut position: n ASCII characters, then multi-byte characters
     * of 2, 3 and 4 bytes, long enough for several words */
    for (k = 2; k <= 4; k++) {
        static const char *const chars[] = {NULL, NULL, "\xc3\xa9", "\xe2\x82\xac",
                                            "\xf0\x9f\x98\x80"};
        for (i = 0; i < 45; i++) {
            size_t o = 0;
            int j;
            memset(buf, 'a', (size_t)i);
            o = (size_t)i;
            for (j = 0; j < 40 && o + 4 < sizeof(buf); j++) {
                memcpy(buf + o, chars[k], (size_t)k);
                o += (size_t)k;
            }
            buf[o] = '\0';
            subject_round_trip(apr_pstrdup(pool, buf), __LINE__);
        }
    }
    /* a long subject: many words, every line within 76 */
    {
        apr_array_header_t *a = apr_array_make(pool, 64, sizeof(const char *));
        for (i = 0; i < 60; i++)
            APR_ARRAY_PUSH(a, const char *) = "\xc3\xa9t\xc3\xa9";
        subject_round_trip(apr_array_pstrcat(pool, a, ' '), __LINE__);
    }
}

static void test_encode_header(void)
{
    const char *v = "ascii value";
    int words, split_ok;
    const char *e;

    CHECK(natomm_mime_encode_header(pool, v) == v);    /* the value itself */
    CHECK_STR(natomm_mime_encode_header(pool, ""), "");
    CHECK_STR(natomm_mime_encode_header(pool, "\xc3\xa9"), "=?UTF-8?B?w6k=?=");
    CHECK_STR(natomm_mime_encode_header(pool, "caf\xc3\xa9"), "=?UTF-8?B?Y2Fmw6k=?=");
    /* 39 bytes per word: 40 ASCII-plus-one bytes fold into two words */
    e = natomm_mime_encode_header(pool, "\xc3\xa9" "0123456789012345678901234567890123456789");
    CHECK_STR(decode_words(e, &words, &split_ok),
              "\xc3\xa9" "0123456789012345678901234567890123456789");
    CHECK_INT(words, 2);
    CHECK(split_ok);
    CHECK(strstr(e, "?=\r\n =?UTF-8?B?") != NULL);
}

/* Subjects of broken UTF-8 must give a message (or a refusal) in bounded
 * time: the encoder once looped forever on a stray continuation byte. */
static int hostile_subjects(void)
{
    static const char *const subjects[] = {
        "\x80", "\xbf\xbf", "\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80"
        "\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80"
        "\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80",
        "abc\x80", "\xc3", "\xe2\x82", "\xf0\x9f\x98", "\xff\xfe\xfd", "\xc0\xaf",
        "\xed\xa0\x80", "\xf5\x80\x80\x80", NULL };
    char buf[300];
    int i, n;

    for (i = 0; subjects[i]; i++) {
        natomm_mime_t m = base();
        char *out = NULL;
        m.subject = subjects[i];
        if (!natomm_mime_build(pool, &m, &out) && (!out || !crlf_only(out)))
            return 10 + i;
    }
    /* n plain bytes, then only continuation bytes: every alignment of a
     * run of continuation bytes against the 39-byte word */
    for (n = 0; n < 80; n++) {
        natomm_mime_t m = base();
        char *out = NULL;
        memset(buf, 'a', (size_t)n);
        memset(buf + n, 0x80, sizeof(buf) - 1 - (size_t)n);
        buf[sizeof(buf) - 1] = '\0';
        m.subject = buf;
        if (!natomm_mime_build(pool, &m, &out) && (!out || !crlf_only(out)))
            return 100 + n;
        m.subject = "x";
        m.from = apr_pstrcat(pool, buf, " <a@example.org>", NULL);
        if (!natomm_mime_build(pool, &m, &out) && (!out || !crlf_only(out)))
            return 200 + n;
    }
    return 0;
}

static void test_termination(void)
{
    pid_t pid;
    int status = 0;

    fflush(stdout);
    fflush(stderr);
    pid = fork();
    if (pid == 0) {
        alarm(20);
        _exit(hostile_subjects());
    }
    CHECK(pid > 0);
    if (pid <= 0)
        return;
    CHECK(waitpid(pid, &status, 0) == pid);
    CHECK_MSG(WIFEXITED(status) && WEXITSTATUS(status) == 0,
              "hostile subjects: %s %d",
              WIFSIGNALED(status) ? "signal (SIGALRM = hung)" : "exit",
              WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
}

static void test_from(void)
{
    natomm_mime_t m = base();
    parsed_t p;
    char *out;
    const field_t *f;
    int words, split_ok;

    /* a non-ASCII name: encoded, the address after it as it is */
    m.from = "\xc3\x89quipe Exemple <noreply@example.org>";
    out = build_ok(&m, __LINE__);
    if (out) {
        CHECK(crlf_only(out));
        parse(out, &p);
        f = field(&p, "From");
        CHECK_NOT_NULL(f);
        if (f) {
            const char *lt = strstr(f->value, " <noreply@example.org>");
            CHECK(lt && !strcmp(lt, " <noreply@example.org>"));
            if (lt)
                CHECK_STR(decode_words(apr_pstrmemdup(pool, f->value, lt - f->value),
                                       &words, &split_ok), "\xc3\x89quipe Exemple");
        }
        CHECK_STR(field(&p, "Message-ID") ? field(&p, "Message-ID")->value : NULL,
                  "<" UNIQUE "@example.org>");
    }
    /* quotes around the name are not part of it */
    m.from = "\"\xc3\x89quipe\" <noreply@example.org>";
    out = build_ok(&m, __LINE__);
    if (out) {
        parse(out, &p);
        f = field(&p, "From");
        if (f && strstr(f->value, " <"))
            CHECK_STR(decode_words(apr_pstrmemdup(pool, f->value,
                                   strstr(f->value, " <") - f->value),
                                   &words, &split_ok), "\xc3\x89quipe");
        else
            CHECK(0);
    }
    /* a long name: several words, each whole characters */
    m.from = "Association fran\xc3\xa7" "aise des \xc3\xa9" "diteurs de logiciels "
             "libres et ouverts <noreply@example.org>";
    out = build_ok(&m, __LINE__);
    if (out) {
        parse(out, &p);
        CHECK(!p.malformed);
        f = field(&p, "From");
        if (f && strstr(f->value, " <")) {
            CHECK_STR(decode_words(apr_pstrmemdup(pool, f->value,
                                   strstr(f->value, " <") - f->value),
                                   &words, &split_ok),
                      "Association fran\xc3\xa7" "aise des \xc3\xa9" "diteurs de "
                      "logiciels libres et ouverts");
            CHECK(words >= 2 && split_ok);
        }
        else
            CHECK(0);
    }
    /* RFC 2047 2: a line with an encoded word is at most 76 characters;
     * the address follows the last word on the same line */
    m.from = "Service d'authentification \xc3\x89 <noreply@example.org>";
    out = build_ok(&m, __LINE__);
    if (out) {
        parse(out, &p);
        f = field(&p, "From");
        CHECK(f && f->longest <= 76);
    }
}

static natomm_mime_header_t *add_header(apr_array_header_t *h, const char *name,
                                        const char *value)
{
    natomm_mime_header_t *e = apr_array_push(h);
    e->name = name;
    e->value = value;
    return e;
}

static void test_extra_headers(void)
{
    natomm_mime_t m = base();
    apr_array_header_t *h = apr_array_make(pool, 4, sizeof(natomm_mime_header_t));
    parsed_t p;
    char *out;
    int i, words, split_ok;

    add_header(h, "List-Unsubscribe", "<https://example.org/unsubscribe?t=" UNIQUE ">");
    add_header(h, "List-Unsubscribe-Post", "List-Unsubscribe=One-Click");
    m.headers = h;
    out = build_ok(&m, __LINE__);
    if (out) {
        CHECK(crlf_only(out));
        parse(out, &p);
        CHECK(!p.malformed);
        CHECK_INT(p.n, 10);
        for (i = 0; BUILDER_NAMES[i]; i++)
            CHECK_INT(count_field(&p, BUILDER_NAMES[i]), 1);
        CHECK_STR(field(&p, "List-Unsubscribe") ? field(&p, "List-Unsubscribe")->value : NULL,
                  "<https://example.org/unsubscribe?t=" UNIQUE ">");
        CHECK_STR(field(&p, "List-Unsubscribe-Post")
                  ? field(&p, "List-Unsubscribe-Post")->value : NULL,
                  "List-Unsubscribe=One-Click");
        /* in the header block, not in a part */
        CHECK(strstr(out, "List-Unsubscribe:") < strstr(out, "\r\n\r\n"));
    }
    /* no extra headers: an empty array is like NULL */
    m.headers = apr_array_make(pool, 1, sizeof(natomm_mime_header_t));
    out = build_ok(&m, __LINE__);
    if (out) {
        parse(out, &p);
        CHECK_INT(p.n, 8);
    }
    /* a non-ASCII value is encoded */
    h = apr_array_make(pool, 4, sizeof(natomm_mime_header_t));
    add_header(h, "X-Note", "d\xc3\xa9j\xc3\xa0 vu");
    m.headers = h;
    out = build_ok(&m, __LINE__);
    if (out) {
        parse(out, &p);
        CHECK_STR(field(&p, "X-Note")
                  ? decode_words(field(&p, "X-Note")->value, &words, &split_ok) : NULL,
                  "d\xc3\xa9j\xc3\xa0 vu");
    }
    /* an empty value is a value */
    h = apr_array_make(pool, 4, sizeof(natomm_mime_header_t));
    add_header(h, "X-Empty", "");
    m.headers = h;
    out = build_ok(&m, __LINE__);
    if (out)
        CHECK(strstr(out, "\r\nX-Empty: \r\n") != NULL);
    /* many */
    h = apr_array_make(pool, 50, sizeof(natomm_mime_header_t));
    for (i = 0; i < 50; i++)
        add_header(h, apr_psprintf(pool, "X-H%d", i), apr_psprintf(pool, "v%d", i));
    m.headers = h;
    out = build_ok(&m, __LINE__);
    if (out) {
        parse(out, &p);
        CHECK(!p.malformed);
        CHECK_INT(p.n, 58);
        CHECK_STR(field(&p, "X-H49") ? field(&p, "X-H49")->value : NULL, "v49");
    }
    /* a long non-ASCII value under a long name: each line within 76 */
    h = apr_array_make(pool, 4, sizeof(natomm_mime_header_t));
    add_header(h, "List-Unsubscribe", "<mailto:d\xc3\xa9sabonnement@example.org?"
               "subject=d\xc3\xa9sabonner-moi-de-la-liste>");
    m.headers = h;
    out = build_ok(&m, __LINE__);
    if (out) {
        parse(out, &p);
        CHECK(field(&p, "List-Unsubscribe")
                  && field(&p, "List-Unsubscribe")->longest <= 76);
    }
}

static void test_refusals(void)
{
    static const char *const breaks[] = {
        "\r", "\n", "\r\n", "x\r\nBcc: victim@example.org", "x\nBcc: victim@example.org",
        "x\rBcc: victim@example.org", "\r\n\r\nbody", "x\r\n", "\nx", NULL };
    static const char *const bad_names[] = {
        "", "X Foo", "X:Foo", "X-Foo:", "Bcc: x\r\nX", "X\r\nBcc", "X\n", "X_Foo",
        "X.Foo", "\xc3\x9c" "ber", "X\tFoo", " X", "X ", "X@", NULL };
    int i;

    for (i = 0; breaks[i]; i++) {
        natomm_mime_t m = base();
        const char *v = apr_pstrcat(pool, "Ok ", breaks[i], NULL);
        apr_array_header_t *h;

        m = base();
        m.from = apr_pstrcat(pool, "Example <noreply@example.org>", breaks[i], NULL);
        build_refused(&m, "line break in From", __LINE__);
        m = base();
        m.from = apr_pstrcat(pool, "\xc3\x89quipe", breaks[i], " <noreply@example.org>", NULL);
        build_refused(&m, "line break in a non-ASCII From name", __LINE__);
        m = base();
        m.to = apr_pstrcat(pool, "user@example.net", breaks[i], NULL);
        build_refused(&m, "line break in To", __LINE__);
        m = base();
        m.subject = v;
        build_refused(&m, "line break in Subject", __LINE__);
        m = base();
        m.subject = apr_pstrcat(pool, "\xc3\xa9", breaks[i], NULL);
        build_refused(&m, "line break in a non-ASCII Subject", __LINE__);
        m = base();
        m.unique = apr_pstrcat(pool, "abc", breaks[i], NULL);
        build_refused(&m, "line break in the unique part", __LINE__);
        m = base();
        h = apr_array_make(pool, 2, sizeof(natomm_mime_header_t));
        add_header(h, "List-Unsubscribe", "<https://example.org/u>");
        add_header(h, "X-Extra", v);
        m.headers = h;
        build_refused(&m, "line break in an extra value", __LINE__);
        m = base();
        h = apr_array_make(pool, 2, sizeof(natomm_mime_header_t));
        add_header(h, "X-Extra", apr_pstrcat(pool, "\xc3\xa9", breaks[i], NULL));
        m.headers = h;
        build_refused(&m, "line break in a non-ASCII extra value", __LINE__);
    }
    for (i = 0; bad_names[i]; i++) {
        natomm_mime_t m = base();
        apr_array_header_t *h = apr_array_make(pool, 2, sizeof(natomm_mime_header_t));
        add_header(h, bad_names[i], "value");
        m.headers = h;
        build_refused(&m, apr_pstrcat(pool, "extra name \"", bad_names[i], "\"", NULL),
                      __LINE__);
    }
    /* NULL name or value */
    {
        natomm_mime_t m = base();
        apr_array_header_t *h = apr_array_make(pool, 2, sizeof(natomm_mime_header_t));
        add_header(h, NULL, "value");
        m.headers = h;
        build_refused(&m, "NULL extra name", __LINE__);
        h = apr_array_make(pool, 2, sizeof(natomm_mime_header_t));
        add_header(h, "X-Foo", NULL);
        m.headers = h;
        build_refused(&m, "NULL extra value", __LINE__);
    }
    /* To is a bare address: no brackets or quotes that would close "<...>" */
    {
        static const char *const tos[] = {"a@b>", "<a@b>", "a@b>, <c@d", "\"a\"@b",
                                          "Name <a@b>", NULL};
        for (i = 0; tos[i]; i++) {
            natomm_mime_t m = base();
            m.to = tos[i];
            build_refused(&m, tos[i], __LINE__);
        }
    }
    /* the unique part goes in "<...@...>" and a quoted boundary */
    {
        static const char *const bad[] = {"a>b", "a<b", "a\"b", "a b", NULL};
        for (i = 0; bad[i]; i++) {
            natomm_mime_t m = base();
            m.unique = bad[i];
            build_refused(&m, bad[i], __LINE__);
        }
    }
    /* anything missing */
    {
        natomm_mime_t m;
        m = base(); m.from = NULL; build_refused(&m, "no From", __LINE__);
        m = base(); m.to = NULL; build_refused(&m, "no To", __LINE__);
        m = base(); m.subject = NULL; build_refused(&m, "no Subject", __LINE__);
        m = base(); m.text = NULL; build_refused(&m, "no text", __LINE__);
        m = base(); m.unique = NULL; build_refused(&m, "no unique", __LINE__);
    }
    /* good names are accepted */
    {
        static const char *const good[] = {"X-Foo", "List-Unsubscribe-Post", "x",
                                           "X-1", "Precedence", NULL};
        for (i = 0; good[i]; i++) {
            natomm_mime_t m = base();
            apr_array_header_t *h = apr_array_make(pool, 2, sizeof(natomm_mime_header_t));
            add_header(h, good[i], "value");
            m.headers = h;
            build_ok(&m, __LINE__);
        }
    }
}

static const char *html_of(const char *text)
{
    natomm_mime_t m = base();
    char *out;
    const char *h;

    m.text = text;
    out = build_ok(&m, __LINE__);
    if (!out)
        return "";
    h = strstr(out, "Content-Type: text/html; charset=utf-8\r\n");
    h = h ? strstr(h, "<body>\r\n") : NULL;
    if (!h)
        return "";
    h += strlen("<body>\r\n");
    return apr_pstrmemdup(pool, h, strstr(h, "</body>") ? (size_t)(strstr(h, "</body>") - h)
                                                        : strlen(h));
}

static void test_html(void)
{
    const char *h;

    CHECK_STR(html_of("Hello"), "<p>Hello</p>\r\n");
    CHECK_STR(html_of("One\n\nTwo"), "<p>One</p>\r\n<p>Two</p>\r\n");
    CHECK_STR(html_of("One\n\n\n\nTwo"), "<p>One</p>\r\n<p>Two</p>\r\n");
    CHECK_STR(html_of("line 1\nline 2"), "<p>line 1<br>\r\nline 2</p>\r\n");
    CHECK_STR(html_of(""), "");
    CHECK_STR(html_of("\n\n\n"), "");
    /* the code paragraph */
    CHECK_STR(html_of("BCDF-GHJK"),
              "<p style=\"font-size:1.6em;letter-spacing:.12em\"><strong>BCDF-GHJK"
              "</strong></p>\r\n");
    CHECK_STR(html_of("Code:\n\n123-456\n\nEnd"),
              "<p>Code:</p>\r\n<p style=\"font-size:1.6em;letter-spacing:.12em\">"
              "<strong>123-456</strong></p>\r\n<p>End</p>\r\n");
    /* not a code: lower case, a space, a line break */
    CHECK(strstr(html_of("bcdf-ghjk"), "<strong>") == NULL);
    CHECK(strstr(html_of("BCDF GHJK"), "<strong>") == NULL);
    CHECK(strstr(html_of("BCDF\nGHJK"), "<strong>") == NULL);
    /* escaping */
    CHECK_STR(html_of("<script>alert('x')</script> & \"q\""),
              "<p>&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot;</p>\r\n");
    CHECK_STR(html_of("l'adresse"), "<p>l&#39;adresse</p>\r\n");
    /* links, escaped in the href and the text */
    CHECK_STR(html_of("Go to https://example.org/reset?t=abc&x=1 now"),
              "<p>Go to <a href=\"https://example.org/reset?t=abc&amp;x=1\">"
              "https://example.org/reset?t=abc&amp;x=1</a> now</p>\r\n");
    CHECK_STR(html_of("http://example.org/"),
              "<p><a href=\"http://example.org/\">http://example.org/</a></p>\r\n");
    CHECK_STR(html_of("a https://x.example/1\nb http://y.example/2"),
              "<p>a <a href=\"https://x.example/1\">https://x.example/1</a><br>\r\n"
              "b <a href=\"http://y.example/2\">http://y.example/2</a></p>\r\n");
    /* a link ends at a quote or an angle bracket: no attribute injection */
    h = html_of("https://evil.example/\"onmouseover=\"alert(1)");
    CHECK_STR(h, "<p><a href=\"https://evil.example/\">https://evil.example/</a>"
                 "&quot;onmouseover=&quot;alert(1)</p>\r\n");
    h = html_of("https://evil.example/'onmouseover='alert(1)'");
    CHECK(strstr(h, "href=\"https://evil.example/&#39;onmouseover=&#39;alert(1)&#39;\"")
          != NULL);
    h = html_of("<https://example.org/x>");
    CHECK_STR(h, "<p>&lt;<a href=\"https://example.org/x\">https://example.org/x</a>&gt;</p>\r\n");
    /* other schemes are not links */
    CHECK(strstr(html_of("javascript:alert(1)"), "<a ") == NULL);
    CHECK(strstr(html_of("ftp://example.org/"), "<a ") == NULL);
    /* the title is the escaped subject */
    {
        natomm_mime_t m = base();
        char *out;
        m.subject = "<b>&\"'";
        out = build_ok(&m, __LINE__);
        CHECK(out && strstr(out, "<title>&lt;b&gt;&amp;&quot;&#39;</title>"));
    }
    /* the HTML part has only CRLF line ends, whatever the text */
    {
        natomm_mime_t m = base();
        char *out;
        m.text = "a\n\nb\nc\r\nhttps://x.example/\n\nABC\n\n\n";
        out = build_ok(&m, __LINE__);
        CHECK(out && crlf_only(out));
    }
}

static void test_address(void)
{
    CHECK_STR(natomm_mime_address(pool, "Example <noreply@example.org>"), "noreply@example.org");
    CHECK_STR(natomm_mime_address(pool, "noreply@example.org"), "noreply@example.org");
    CHECK_STR(natomm_mime_address(pool, "<noreply@example.org>"), "noreply@example.org");
    CHECK_STR(natomm_mime_address(pool, "\"A <b>\" <c@example.org>"), "c@example.org");
    CHECK_STR(natomm_mime_address(pool, "Name <a@example.org"), "a@example.org");
    CHECK_STR(natomm_mime_address(pool, "Name <>"), "");
    CHECK_STR(natomm_mime_domain(pool, "noreply@example.org"), "example.org");
    CHECK_STR(natomm_mime_domain(pool, "Example <noreply@example.org>"), "example.org");
    CHECK_STR(natomm_mime_domain(pool, "Example <noreply@Mail.Example.ORG>"), "Mail.Example.ORG");
    CHECK_STR(natomm_mime_domain(pool, "noreply"), "localhost");
    CHECK_STR(natomm_mime_domain(pool, ""), "localhost");
    CHECK_STR(natomm_mime_domain(pool, "a@b@example.org"), "example.org");
    CHECK_STR(natomm_mime_domain(pool, "a@example.org (comment)"), "example.org");
    CHECK_STR(natomm_mime_domain(pool, "a@example.org\tx"), "example.org");
}

int main(void)
{
    apr_initialize();
    apr_pool_create(&pool, NULL);
    test_headers();
    test_structure();
    test_crlf();
    test_long_lines();
    test_subjects();
    test_encode_header();
    test_termination();
    test_from();
    test_extra_headers();
    test_refusals();
    test_html();
    test_address();
    apr_pool_destroy(pool);
    apr_terminate();
    return check_done("test_mime");
}
