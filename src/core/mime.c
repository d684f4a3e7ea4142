/* The message builder (see natomm_mime.h). */
#include "natomm_mime.h"
#include <string.h>
#include "apr_strings.h"
#include "apr_base64.h"
#include "natomm_clock.h"
#include "natomm_text.h"

/* 30 bytes of text make 40 of base64: a 52-character word, so that a line
 * with a header name of up to 22 characters stays within RFC 2047's 76 */
#define WORD_BYTES 30
/* RFC 5322 2.1.1: a line is at most 998 octets */
#define LINE_MAX_OCTETS 998
#define ENCODED_LINE_MAX 76

static int has_line_break(const char *s)
{
    return s && strpbrk(s, "\r\n") != NULL;
}

static int header_name_ok(const char *n)
{
    return n && *n && strspn(n, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                "0123456789-") == strlen(n);
}

static const char *b64(apr_pool_t *p, const char *s, size_t n)
{
    char *out = apr_palloc(p, apr_base64_encode_len((int)n));
    apr_base64_encode(out, s, (int)n);
    return out;
}

/* The length of the first word of s: at most WORD_BYTES, cut between UTF-8
 * characters; a stray continuation byte is cut through rather than looped on. */
static size_t word_length(const char *s)
{
    size_t len = strlen(s), n = len > WORD_BYTES ? WORD_BYTES : len;
    size_t cut = n;

    while (cut < len && cut > 0 && ((unsigned char)s[cut] & 0xC0) == 0x80)
        cut--;
    return cut > 0 ? cut : n;
}

const char *natomm_mime_encode_header(apr_pool_t *p, const char *value)
{
    apr_array_header_t *words = apr_array_make(p, 4, sizeof(const char *));
    const char *s = value;

    if (natomm_text_is_ascii(value))
        return value;
    while (*s) {
        size_t n = word_length(s);
        /* folded: CRLF and a space before every word but the first */
        APR_ARRAY_PUSH(words, const char *) = apr_pstrcat(p,
            words->nelts ? "\r\n " : "", "=?UTF-8?B?", b64(p, s, n), "?=", NULL);
        s += n;
    }
    return apr_array_pstrcat(p, words, 0);
}

const char *natomm_mime_address(apr_pool_t *p, const char *from)
{
    const char *lt = strrchr(from, '<');
    if (lt)
        return apr_pstrmemdup(p, lt + 1, strcspn(lt + 1, ">"));
    return from;
}

const char *natomm_mime_domain(apr_pool_t *p, const char *from)
{
    const char *at = strrchr(from, '@');
    if (!at)
        return "localhost";
    return apr_pstrmemdup(p, at + 1, strcspn(at + 1, "> \t"));
}

/* The last line of a folded value. */
static const char *last_line(const char *v)
{
    const char *nl = strrchr(v, '\n');
    return nl ? nl + 1 : v;
}

/* "Name <addr>" with the name encoded when it is not ASCII. */
static const char *from_header(apr_pool_t *p, const char *from)
{
    const char *lt = strrchr(from, '<');
    char *name;
    size_t n;

    if (!lt || natomm_text_is_ascii(from))
        return from;
    name = apr_pstrmemdup(p, from, lt - from);
    while (*name == ' ' || *name == '"')
        name++;
    while ((n = strlen(name)) > 0 && (name[n - 1] == ' ' || name[n - 1] == '"'))
        name[n - 1] = '\0';
    name = (char *)natomm_mime_encode_header(p, name);
    /* the address goes on a line of its own when the last word would
     * take its line past 76 */
    return apr_pstrcat(p, name, strlen("From: ") + strlen(last_line(name)) + 1
                       + strlen(lt) > ENCODED_LINE_MAX ? "\r\n " : " ", lt, NULL);
}

/* Lines end in CRLF, as RFC 5322 wants; no bare CR survives, and a line
 * longer than 998 octets is broken (between UTF-8 characters). */
static char *crlf(apr_pool_t *p, const char *text)
{
    char *out = apr_palloc(p, strlen(text) * 3 + 1), *o = out;
    size_t run = 0;

    for (; *text; text++) {
        if (*text == '\n') {
            *o++ = '\r';
            run = 0;
        }
        else if (run >= LINE_MAX_OCTETS - 4 && ((unsigned char)*text & 0xC0) != 0x80) {
            *o++ = '\r';
            *o++ = '\n';
            run = 0;
        }
        *o++ = *text;
        if (*text != '\n')
            run++;
    }
    *o = '\0';
    return out;
}

/* The text with its CRs dropped (templates may carry CRLF). */
static char *no_cr(apr_pool_t *p, const char *text)
{
    char *out = apr_palloc(p, strlen(text) + 1), *o = out;

    for (; *text; text++)
        if (*text != '\r')
            *o++ = *text;
    *o = '\0';
    return out;
}

/* Text as HTML: escaped, http(s) URLs as links. */
static const char *html_text(apr_pool_t *p, const char *text)
{
    apr_array_header_t *out = apr_array_make(p, 8, sizeof(const char *));
    const char *s = text;

    while (*s) {
        const char *url = strstr(s, "http://"), *tls = strstr(s, "https://");
        const char *link;
        if (tls && (!url || tls < url))
            url = tls;
        if (!url) {
            APR_ARRAY_PUSH(out, const char *) = natomm_text_html(p, s);
            break;
        }
        APR_ARRAY_PUSH(out, const char *) =
            natomm_text_html(p, apr_pstrmemdup(p, s, url - s));
        link = natomm_text_html(p, apr_pstrmemdup(p, url, strcspn(url, " \r\n<>\"")));
        APR_ARRAY_PUSH(out, const char *) = apr_pstrcat(p, "<a href=\"", link,
                                                        "\">", link, "</a>", NULL);
        s = url + strcspn(url, " \r\n<>\"");
    }
    return apr_array_pstrcat(p, out, 0);
}

/* Newlines as <br>, for a paragraph whose lines were broken on purpose. */
static char *html_breaks(apr_pool_t *p, const char *s)
{
    apr_array_header_t *out = apr_array_make(p, 4, sizeof(const char *));
    const char *nl;

    while ((nl = strchr(s, '\n')) != NULL) {
        APR_ARRAY_PUSH(out, const char *) = apr_pstrmemdup(p, s, nl - s);
        APR_ARRAY_PUSH(out, const char *) = "<br>\r\n";
        s = nl + 1;
    }
    APR_ARRAY_PUSH(out, const char *) = s;
    return apr_array_pstrcat(p, out, 0);
}

/* One <p> per paragraph of the text; the code (a paragraph of capitals,
 * digits and dashes) stands out. */
static const char *html_paragraph(apr_pool_t *p, const char *para)
{
    if (strspn(para, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-") == strlen(para))
        return apr_pstrcat(p, "<p style=\"font-size:1.6em;letter-spacing:.12em\">"
                           "<strong>", natomm_text_html(p, para),
                           "</strong></p>\r\n", NULL);
    return apr_pstrcat(p, "<p>", html_breaks(p, html_text(p, para)), "</p>\r\n",
                       NULL);
}

static const char *html_body(apr_pool_t *p, const char *subject, const char *body)
{
    apr_array_header_t *out = apr_array_make(p, 16, sizeof(const char *));
    char *copy = apr_pstrdup(p, body), *para;

    APR_ARRAY_PUSH(out, const char *) = apr_pstrcat(p,
        "<!doctype html>\r\n<html><head><meta charset=\"utf-8\"><title>",
        natomm_text_html(p, subject), "</title></head>\r\n<body>\r\n", NULL);
    while ((para = copy) != NULL && *para) {
        char *end = strstr(para, "\n\n");
        copy = end ? end + 2 : NULL;
        if (end)
            *end = '\0';
        while (*para == '\n')
            para++;
        if (*para)
            APR_ARRAY_PUSH(out, const char *) = html_paragraph(p, para);
    }
    APR_ARRAY_PUSH(out, const char *) = "</body></html>\r\n";
    return apr_array_pstrcat(p, out, 0);
}

/* The extra headers as lines, or NULL when one would break the message. */
static const char *extra_headers(apr_pool_t *p, const apr_array_header_t *h)
{
    apr_array_header_t *out = apr_array_make(p, 4, sizeof(const char *));
    int i;

    for (i = 0; h && i < h->nelts; i++) {
        const natomm_mime_header_t *e = &APR_ARRAY_IDX(h, i, natomm_mime_header_t);
        if (!header_name_ok(e->name) || !e->value || has_line_break(e->value))
            return NULL;
        APR_ARRAY_PUSH(out, const char *) = apr_pstrcat(p, e->name, ": ",
            natomm_mime_encode_header(p, e->value), "\r\n", NULL);
    }
    return apr_array_pstrcat(p, out, 0);
}

const char *natomm_mime_build(apr_pool_t *p, const natomm_mime_t *m, char **out)
{
    const char *boundary = apr_pstrcat(p, "=_natomm_", m->unique, NULL);
    const char *extra;
    char *text;

    if (!m->from || !m->to || !m->subject || !m->text || !m->unique
        || has_line_break(m->from) || has_line_break(m->to)
        || has_line_break(m->subject) || has_line_break(m->unique)
        || strpbrk(m->to, "<>\"") || strpbrk(m->unique, "<>\" "))
        return "a header value holds a line break or is missing";
    if (!(extra = extra_headers(p, m->headers)))
        return "an extra header has a bad name or a line break in its value";
    text = no_cr(p, m->text);
    *out = apr_pstrcat(p,
        "From: ", from_header(p, m->from), "\r\n",
        "To: <", m->to, ">\r\n",
        "Subject: ", natomm_mime_encode_header(p, m->subject), "\r\n",
        "Date: ", natomm_clock_rfc5322(p, m->date), "\r\n",
        "Message-ID: <", m->unique, "@", natomm_mime_domain(p, m->from), ">\r\n",
        "MIME-Version: 1.0\r\n",
        "Auto-Submitted: auto-generated\r\n",
        extra,
        "Content-Type: multipart/alternative; boundary=\"", boundary, "\"\r\n",
        "\r\n",
        "--", boundary, "\r\n",
        "Content-Type: text/plain; charset=utf-8\r\n",
        "Content-Transfer-Encoding: 8bit\r\n\r\n",
        crlf(p, text), "\r\n",
        "--", boundary, "\r\n",
        "Content-Type: text/html; charset=utf-8\r\n",
        "Content-Transfer-Encoding: 8bit\r\n\r\n",
        crlf(p, no_cr(p, html_body(p, m->subject, text))),
        "--", boundary, "--\r\n", NULL);
    return NULL;
}
