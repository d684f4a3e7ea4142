/* Form decoding (see natomm_form.h). */
#include <string.h>
#include "apr_strings.h"
#include "apr_lib.h"
#include "natomm_form.h"
#include "natomm_utf8.h"

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Decodes s[0..n) into a new string; *outlen gets its length (NULs kept so
 * the caller can refuse them). NULL on a malformed escape. */
static char *unescape(apr_pool_t *p, const char *s, size_t n, size_t *outlen)
{
    char *out = apr_palloc(p, n + 1);
    size_t i, o = 0;

    for (i = 0; i < n; i++) {
        if (s[i] == '+') {
            out[o++] = ' ';
        }
        else if (s[i] == '%') {
            if (i + 2 >= n || hexval(s[i + 1]) < 0 || hexval(s[i + 2]) < 0)
                return NULL;
            out[o++] = (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
            i += 2;
        }
        else {
            out[o++] = s[i];
        }
    }
    out[o] = '\0';
    *outlen = o;
    return out;
}

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
            char *key = unescape(p, pair, klen_raw, &klen);
            char *val = eq ? unescape(p, eq + 1, plen - klen_raw - 1, &vlen)
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
