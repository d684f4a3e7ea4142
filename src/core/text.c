/* Safe text (see natomm_text.h). */
#include "natomm_text.h"
#include <string.h>
#include "apr_strings.h"

const char *natomm_text_log_safe(apr_pool_t *p, const char *s)
{
    char *out, *o;

    if (!s)
        return "-";
    out = apr_palloc(p, strlen(s) * 4 + 1);
    for (o = out; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c < 0x20 || c == 0x7f || c == '\\')
            o += apr_snprintf(o, 5, "\\x%02x", c);
        else
            *o++ = (char)c;
    }
    *o = '\0';
    return out;
}

char *natomm_text_html(apr_pool_t *p, const char *s)
{
    char *out = apr_palloc(p, strlen(s) * 6 + 1), *o = out;

    for (; *s; s++) {
        const char *e = NULL;
        switch (*s) {
        case '&': e = "&amp;"; break;
        case '<': e = "&lt;"; break;
        case '>': e = "&gt;"; break;
        case '"': e = "&quot;"; break;
        case '\'': e = "&#39;"; break;
        default: *o++ = *s; continue;
        }
        memcpy(o, e, strlen(e));
        o += strlen(e);
    }
    *o = '\0';
    return out;
}

int natomm_text_is_ascii(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f)
            return 0;
    return 1;
}
