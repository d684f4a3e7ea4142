/* JSON writer (see natomm_json.h). */
#include "natomm_json.h"
#include <string.h>
#include "apr_strings.h"
#include "natomm_utf8.h"

struct natomm_json {
    apr_pool_t *pool;
    apr_array_header_t *parts;   /* of const char *, "key":value */
};

natomm_json *natomm_json_object(apr_pool_t *p)
{
    natomm_json *j = apr_palloc(p, sizeof(*j));
    j->pool = p;
    j->parts = apr_array_make(p, 8, sizeof(const char *));
    return j;
}

char *natomm_json_quote(apr_pool_t *p, const char *s)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t n = strlen(s), i = 0;
    /* worst case: every byte becomes \u00XX */
    char *out = apr_palloc(p, n * 6 + 3), *o = out;

    *o++ = '"';
    while (i < n) {
        unsigned long cp;
        size_t len = natomm_utf8_next(u + i, n - i, &cp);
        if (!len) {                 /* replacement character */
            memcpy(o, "\xEF\xBF\xBD", 3);
            o += 3;
            i++;
            continue;
        }
        if (cp == '"' || cp == '\\') {
            *o++ = '\\';
            *o++ = (char)cp;
        }
        else if (cp < 0x20 || cp == 0x7F || cp == 0x2028 || cp == 0x2029
                 || cp == '<' || cp == '>') {
            /* < and > escaped so a JSON body can never be read as markup */
            o += apr_snprintf(o, 7, "\\u%04lx", cp);
        }
        else {
            memcpy(o, u + i, len);
            o += len;
        }
        i += len;
    }
    *o++ = '"';
    *o = '\0';
    return out;
}

static void add(natomm_json *j, const char *key, const char *value)
{
    APR_ARRAY_PUSH(j->parts, const char *) =
        apr_pstrcat(j->pool, natomm_json_quote(j->pool, key), ":", value, NULL);
}

void natomm_json_str(natomm_json *j, const char *key, const char *value)
{
    add(j, key, value ? natomm_json_quote(j->pool, value) : "null");
}

void natomm_json_int(natomm_json *j, const char *key, apr_int64_t value)
{
    add(j, key, apr_psprintf(j->pool, "%" APR_INT64_T_FMT, value));
}

void natomm_json_bool(natomm_json *j, const char *key, int value)
{
    add(j, key, value ? "true" : "false");
}

void natomm_json_strs(natomm_json *j, const char *key,
                      const apr_array_header_t *items)
{
    apr_array_header_t *q = apr_array_make(j->pool, items->nelts,
                                           sizeof(const char *));
    int i;

    for (i = 0; i < items->nelts; i++)
        APR_ARRAY_PUSH(q, const char *) =
            natomm_json_quote(j->pool, APR_ARRAY_IDX(items, i, const char *));
    add(j, key, apr_pstrcat(j->pool, "[", apr_array_pstrcat(j->pool, q, ','),
                            "]", NULL));
}

const char *natomm_json_finish(natomm_json *j)
{
    return apr_pstrcat(j->pool, "{", apr_array_pstrcat(j->pool, j->parts, ','),
                       "}", NULL);
}
