/* Form decoding (see natomm_form.h). */
#include <string.h>
#include "apr_strings.h"
#include "apr_lib.h"
#include "natomm_form.h"
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
