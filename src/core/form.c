/* Form decoding (see natomm_form.h). */
#include "natomm_form.h"
#include <string.h>
#include "apr_strings.h"
#include "apr_lib.h"
#include "natomm_utf8.h"
#include "natomm_percent.h"

const char *natomm_form_parse(apr_pool_t *p, const char *body, size_t len,
                              apr_table_t **fields)
{
    apr_table_t *t = apr_table_make(p, 8);
    size_t start = 0;

    while (start <= len) {
        const char *pair = body + start;
        const char *amp = memchr(pair, '&', len - start);
        size_t plen = amp ? (size_t)(amp - pair) : len - start;
        const char *eq = memchr(pair, '=', plen);
        size_t klen_raw = eq ? (size_t)(eq - pair) : plen;
        size_t klen, vlen;

        if (plen > 0) {
            char *key = natomm_percent_decode(p, pair, klen_raw, 1, &klen);
            char *val = eq ? natomm_percent_decode(p, eq + 1, plen - klen_raw - 1, 1, &vlen)
                     : apr_pstrdup(p, "");
            if (!eq)
                vlen = 0;
            if (!key || !val)
                return "The request body is not valid form encoding.";
            if (!natomm_utf8_clean(key, klen) || !natomm_utf8_clean(val, vlen))
                return "The request contains invalid UTF-8, NUL or control characters.";
            if (klen == 0)
                return "The request body contains a field without a name.";
            if (apr_table_get(t, key))
                return apr_psprintf(p, "The field '%s' is given more than once.", key);
            apr_table_setn(t, key, val);
        }
        if (!amp)
            break;
        start += plen + 1;
    }
    *fields = t;
    return NULL;
}

const char *natomm_form_control_field(apr_pool_t *p, const char *body, size_t len)
{
    size_t start = 0;

    while (start < len) {
        const char *pair = body + start;
        const char *amp = memchr(pair, '&', len - start);
        size_t plen = amp ? (size_t)(amp - pair) : len - start;
        const char *eq = memchr(pair, '=', plen);
        size_t vlen;

        if (eq) {
            char *val = natomm_percent_decode(p, eq + 1, plen - (eq + 1 - pair), 1,
                                              &vlen);
            if (val) {
                size_t i;
                for (i = 0; i < vlen; i++)
                    if ((unsigned char)val[i] < 0x20 || val[i] == 0x7f)
                        return natomm_percent_decode(p, pair, eq - pair, 1, NULL);
            }
        }
        if (!amp)
            break;
        start += plen + 1;
    }
    return NULL;
}

int natomm_form_is_urlencoded(const char *content_type)
{
    static const char want[] = "application/x-www-form-urlencoded";
    size_t n = sizeof(want) - 1;

    if (!content_type)
        return 0;
    while (*content_type == ' ')
        content_type++;
    if (strncasecmp(content_type, want, n))
        return 0;
    return content_type[n] == '\0' || content_type[n] == ';'
        || content_type[n] == ' ';
}

const char *natomm_form_multipart_boundary(apr_pool_t *p, const char *ct)
{
    static const char want[] = "multipart/form-data";
    const char *b;
    size_t n;

    if (!ct)
        return NULL;
    while (*ct == ' ')
        ct++;
    if (strncasecmp(ct, want, sizeof(want) - 1))
        return NULL;
    for (b = ct; (b = strchr(b, ';')) != NULL; ) {
        for (b++; *b == ' ' || *b == '\t'; b++)
            ;
        if (strncasecmp(b, "boundary=", 9))
            continue;
        b += 9;
        n = *b == '"' ? strcspn(b + 1, "\"") : strcspn(b, "; \t");
        /* RFC 2046 5.1.1: 1 to 70 characters */
        if (n == 0 || n > 70)
            return NULL;
        return apr_pstrmemdup(p, *b == '"' ? b + 1 : b, n);
    }
    return NULL;
}

static const char *find(const char *hay, size_t n, const char *needle)
{
    size_t k = strlen(needle), i;

    for (i = 0; k <= n && i <= n - k; i++)
        if (hay[i] == needle[0] && !memcmp(hay + i, needle, k))
            return hay + i;
    return NULL;
}

/* The name="..." of a part's headers (hlen bytes): a form-data part
 * without a filename; NULL otherwise. */
static const char *part_name(apr_pool_t *p, const char *h, size_t hlen)
{
    char *headers = apr_pstrmemdup(p, h, hlen), *cd, *name;
    size_t n;

    for (cd = headers; cd && strncasecmp(cd, "Content-Disposition:", 20); ) {
        cd = strstr(cd, "\r\n");
        cd = cd ? cd + 2 : NULL;
    }
    if (!cd || !(name = strstr(cd, "name=\"")) || strstr(cd, "filename"))
        return NULL;
    name += 6;
    n = strcspn(name, "\"\r\n");
    return name[n] == '"' ? apr_pstrmemdup(p, name, n) : NULL;
}

const char *natomm_form_multipart_parse(apr_pool_t *p, const char *body, size_t len,
                                        const char *boundary, apr_table_t **fields)
{
    const char *delim = apr_pstrcat(p, "\r\n--", boundary, NULL);
    const char *end = body + len, *s;
    apr_table_t *t = apr_table_make(p, 4);

    /* the first delimiter may open the body without its CRLF */
    if (len >= strlen(delim) - 2 && !memcmp(body, delim + 2, strlen(delim) - 2))
        s = body + strlen(delim) - 2;
    else if ((s = find(body, len, delim)))
        s += strlen(delim);
    else
        return "The multipart body has no boundary.";
    for (;;) {
        const char *hend, *next, *name;
        if (end - s >= 2 && s[0] == '-' && s[1] == '-')
            break;                              /* the close delimiter */
        if (end - s < 2 || s[0] != '\r' || s[1] != '\n')
            return "The multipart body is malformed.";
        s += 2;
        if (!(hend = find(s, end - s, "\r\n\r\n")) || !(next = find(hend, end - hend, delim)))
            return "The multipart body is malformed.";
        if (!(name = part_name(p, s, hend - s)) || !*name)
            return "A multipart part has no field name, or is a file.";
        hend += 4;
        if (!natomm_utf8_clean(name, strlen(name))
            || !natomm_utf8_clean(hend, next - hend))
            return "The request contains invalid UTF-8, NUL or control characters.";
        if (apr_table_get(t, name))
            return apr_psprintf(p, "The field '%s' is given more than once.", name);
        apr_table_setn(t, name, apr_pstrmemdup(p, hend, next - hend));
        s = next + strlen(delim);
    }
    *fields = t;
    return NULL;
}
