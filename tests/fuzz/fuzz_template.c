/* Fuzz target: natomm_template_fill and natomm_template_split.
 * The input up to the first NUL is a template; the bytes after it (or a
 * fixed text) are a value such as a person's name (untrusted).
 * Invariants of fill:
 *  - with no variables, or with every variable mapped to its own
 *    "{{key}}", the text comes back unchanged (unknown keys stay; keys
 *    match without regard to ASCII case, as APR tables do, so only the
 *    case of a key may differ);
 *  - with markers as values (a byte the text lacks), putting "{{key}}"
 *    back for each marker gives the text again: only whole placeholders
 *    of known keys were replaced, nothing else changed or lost;
 *  - "prefix{{name}}suffix", without braces around, is always replaced;
 *  - a value is inserted as it is, never expanded again (a name holding
 *    "{{code}}" does not reveal the code).
 * Invariants of split: refused exactly without a leading "Subject:" or a
 * newline; the subject is the first line's text (leading spaces and a CR
 * off), holds no CR or LF; the body is a suffix of the input and does not
 * start with CR or LF. */
#include "apr_strings.h"
#include "apr_tables.h"
#include "natomm_template.h"
#include "fuzz_common.h"

static const char *const KEYS[] = {"name", "code", "site", "expires", "url", "", "a b",
                                   "x}", "{y", NULL};

static void check_fill(apr_pool_t *p, const char *text, const char *value)
{
    apr_table_t *none = apr_table_make(p, 1), *self = apr_table_make(p, 8),
                *mark = apr_table_make(p, 8), *real;
    char *out, *back;
    int i;

    out = natomm_template_fill(p, text, none);
    FUZZ_ASSERT(out && !strcmp(out, text), "no variables changed \"%s\" into \"%s\"", text, out);
    for (i = 0; KEYS[i]; i++)
        apr_table_setn(self, KEYS[i], apr_pstrcat(p, "{{", KEYS[i], "}}", NULL));
    out = natomm_template_fill(p, text, self);
    FUZZ_ASSERT(!strcasecmp(out, text) && strlen(out) == strlen(text), "identity variables changed \"%s\" into \"%s\"", text, out);

    if (!strchr(text, '\x01')) {
        for (i = 0; KEYS[i]; i++)
            apr_table_setn(mark, KEYS[i], apr_psprintf(p, "\x01%c", 'A' + i));
        out = natomm_template_fill(p, text, mark);
        /* markers back to their placeholders */
        back = apr_palloc(p, strlen(out) * 8 + 1);
        {
            char *o = back;
            const char *c;
            for (c = out; *c; c++) {
                if (*c == '\x01') {
                    int k = c[1] - 'A';
                    FUZZ_ASSERT(k >= 0 && k < 9, "broken marker in \"%s\"", out);
                    o += sprintf(o, "{{%s}}", KEYS[k]);
                    c++;
                }
                else
                    *o++ = *c;
            }
            *o = '\0';
        }
        FUZZ_ASSERT(!strcasecmp(back, text), "\"%s\" filled as \"%s\"", text, out);
    }

    real = apr_table_make(p, 4);
    apr_table_setn(real, "name", value);
    apr_table_setn(real, "code", "BCDF-GHJK");
    if (!strpbrk(text, "{}")) {
        const char *t = apr_pstrcat(p, text, "{{name}}", text, NULL);
        out = natomm_template_fill(p, t, real);
        FUZZ_ASSERT(!strcmp(out, apr_pstrcat(p, text, value, text, NULL)),
                    "\"%s\" with name \"%s\" gave \"%s\"", t, value, out);
    }
    out = natomm_template_fill(p, "Hello {{name}}!", real);
    FUZZ_ASSERT(!strcmp(out, apr_pstrcat(p, "Hello ", value, "!", NULL)),
                "a value was changed: \"%s\"", out);
    FUZZ_ASSERT(strstr(value, "BCDF-GHJK") || !strstr(out, "BCDF-GHJK"),
                "a value was expanded: \"%s\"", out);
}

static void check_split(apr_pool_t *p, const char *text)
{
    const char *subject = NULL, *body = NULL, *err, *eol;
    size_t n;

    err = natomm_template_split(p, text, &subject, &body);
    eol = strchr(text, '\n');
    if (strncmp(text, "Subject:", 8) || !eol) {
        FUZZ_ASSERT(err && *err, "\"%s\" split", text);
        return;
    }
    FUZZ_ASSERT(!err, "\"%s\" refused: %s", text, err);
    FUZZ_ASSERT(!strpbrk(subject, "\r\n") && subject[0] != ' ', "subject \"%s\"", subject);
    {
        const char *s = text + 8;
        while (*s == ' ')
            s++;
        n = strcspn(s, "\r\n");
        FUZZ_ASSERT(strlen(subject) == n && !strncmp(subject, s, n),
                    "subject \"%s\" of \"%s\"", subject, text);
    }
    FUZZ_ASSERT(body >= eol + 1 && body <= text + strlen(text), "body outside the input");
    FUZZ_ASSERT(*body != '\r' && *body != '\n', "body starts with a line end");
    for (eol = eol + 1; eol < body; eol++)
        FUZZ_ASSERT(*eol == '\r' || *eol == '\n', "text skipped before the body");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p;
    const char *text, *value;
    const uint8_t *nul;

    if (size > 2048)
        return 0;
    apr_pool_create(&p, fuzz_root);
    text = fuzz_cstr(p, data, size);
    nul = memchr(data, 0, size);
    value = nul ? fuzz_cstr(p, nul + 1, size - (nul + 1 - data)) : "Ada {{code}} Lovelace";
    check_fill(p, text, value);
    check_split(p, text);
    check_split(p, apr_pstrcat(p, "Subject: ", text, NULL));
    apr_pool_destroy(p);
    return 0;
}
