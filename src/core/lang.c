/* Languages (see natomm_lang.h). */
#include "natomm_lang.h"
#include <stdlib.h>
#include <string.h>
#include <strings.h>

const char *natomm_lang_known(const char *tag, size_t n)
{
    if (n >= 2 && (n == 2 || tag[2] == '-' || tag[2] == '_')) {
        if (!strncasecmp(tag, "en", 2))
            return "en";
        if (!strncasecmp(tag, "fr", 2))
            return "fr";
    }
    return NULL;
}

static int is_ows(char c)
{
    return c == ' ' || c == '\t';
}

/* A qvalue (RFC 9110 12.4.2): "0", "1", "0.5", "1.000", in thousandths;
 * -1 when malformed. No locale, no strtod. */
static int qvalue(const char *s, size_t n)
{
    int v, digits = 0;
    size_t i = 2;

    if (n == 0 || (s[0] != '0' && s[0] != '1'))
        return -1;
    v = (s[0] - '0') * 1000;
    if (n == 1)
        return v;
    if (s[1] != '.' || n > 5)
        return -1;
    for (; i < n; i++, digits++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v += (s[i] - '0') * (digits == 0 ? 100 : digits == 1 ? 10 : 1);
    }
    return v > 1000 ? -1 : v;
}

/* The q of one "tag;q=0.5;..." item of n bytes, in thousandths: 1000 when
 * it has none, 0 for a malformed one (which then never wins). */
static int quality(const char *item, size_t n)
{
    size_t i = 0;

    while (i < n) {
        size_t len;
        while (i < n && item[i] != ';')
            i++;
        if (i >= n)
            break;
        for (i++; i < n && is_ows(item[i]); i++)
            ;
        if (i + 2 > n || (item[i] != 'q' && item[i] != 'Q') || item[i + 1] != '=')
            continue;
        for (len = 0; i + 2 + len < n && item[i + 2 + len] != ';'
                      && !is_ows(item[i + 2 + len]); len++)
            ;
        return qvalue(item + i + 2, len) < 0 ? 0 : qvalue(item + i + 2, len);
    }
    return 1000;
}

const char *natomm_lang_accept(const char *h)
{
    const char *best = "en";
    int best_q = -1;

    while (h && *h) {
        size_t n, tag;
        const char *lang;
        int q;

        while (is_ows(*h))
            h++;
        n = strcspn(h, ",");
        tag = strcspn(h, ";, \t");
        if (tag > n)
            tag = n;
        q = quality(h, n);
        lang = natomm_lang_known(h, tag);
        if (lang && q > best_q && q > 0) {
            best = lang;
            best_q = q;
        }
        h += n;
        if (*h == ',')
            h++;
    }
    return best;
}
