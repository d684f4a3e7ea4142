/* Mail templates (see natomm_template.h). */
#include "natomm_template.h"
#include <string.h>
#include "apr_strings.h"

char *natomm_template_fill(apr_pool_t *p, const char *text, apr_table_t *vars)
{
    apr_array_header_t *out = apr_array_make(p, 16, sizeof(const char *));
    const char *s = text;

    for (;;) {
        const char *open = strstr(s, "{{"), *close, *again, *val;
        if (!open || !(close = strstr(open + 2, "}}"))) {
            APR_ARRAY_PUSH(out, const char *) = s;
            break;
        }
        /* a stray "{{" before the placeholder stays as it is */
        while ((again = strstr(open + 2, "{{")) && again < close)
            open = again;
        APR_ARRAY_PUSH(out, const char *) = apr_pstrmemdup(p, s, open - s);
        val = apr_table_get(vars, apr_pstrmemdup(p, open + 2, close - open - 2));
        APR_ARRAY_PUSH(out, const char *) =
            val ? val : apr_pstrmemdup(p, open, close + 2 - open);
        s = close + 2;
    }
    return apr_array_pstrcat(p, out, 0);
}

const char *natomm_template_split(apr_pool_t *p, const char *filled,
                                  const char **subject, const char **body)
{
    const char *eol, *b;
    char *subj;

    if (strncmp(filled, "Subject:", 8) || !(eol = strchr(filled, '\n')))
        return "it has no Subject: line";
    subj = apr_pstrmemdup(p, filled + 8, eol - filled - 8);
    while (*subj == ' ')
        subj++;
    subj[strcspn(subj, "\r\n")] = '\0';
    for (b = eol + 1; *b == '\r' || *b == '\n'; b++)
        ;
    *subject = subj;
    *body = b;
    return NULL;
}
