/* Fuzz target: natomm_form_parse and natomm_form_is_urlencoded.
 * Oracle: a small reference parser written from the header's contract
 * (split on "&", skip empty pairs, first "=" splits, "+" is a space, %HH
 * strict, no invalid UTF-8 / NUL / C0 / DEL / C1, no nameless field, no
 * field twice). Both must agree on accept/refuse and on the fields. */
#include "apr_strings.h"
#include "apr_tables.h"
#include "natomm_form.h"
#include "fuzz_common.h"
#include "json_lint.h"

typedef struct { char *key, *val; size_t klen, vlen; } field_t;

static int hexv(unsigned char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Decodes s[0..n); -1 on a bad escape. */
static long ref_decode(const uint8_t *s, size_t n, char *out)
{
    size_t i, o = 0;
    for (i = 0; i < n; i++) {
        if (s[i] == '+')
            out[o++] = ' ';
        else if (s[i] == '%') {
            if (i + 2 >= n)
                return -1;
            if (hexv(s[i + 1]) < 0 || hexv(s[i + 2]) < 0)
                return -1;
            out[o++] = (char)(hexv(s[i + 1]) * 16 + hexv(s[i + 2]));
            i += 2;
        }
        else
            out[o++] = (char)s[i];
    }
    out[o] = '\0';
    return (long)o;
}

/* Valid UTF-8 (json_lint's own decoder), no NUL, C0, DEL or C1. */
static int ref_clean(const char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        unsigned long cp;
        size_t len;
        if ((unsigned char)s[i] < 0x80) {
            cp = (unsigned char)s[i];
            len = 1;
        }
        else {
            /* jl_utf8 stops at a NUL, and the decoded text has its own */
            char buf[5] = {0};
            size_t k;
            for (k = 0; k < 4 && i + k < n; k++)
                buf[k] = s[i + k];
            len = jl_utf8((const unsigned char *)buf, &cp);
            if (!len)
                return 0;
        }
        if (cp < 0x20 || (cp >= 0x7F && cp <= 0x9F))
            return 0;
        i += len;
    }
    return 1;
}

/* The reference: number of fields in *out, or -1 when refused. */
static int ref_parse(apr_pool_t *p, const uint8_t *b, size_t len, field_t **out)
{
    field_t *f = apr_pcalloc(p, sizeof(field_t) * (len + 1));
    int n = 0, i;
    size_t start = 0;

    while (start <= len) {
        size_t end = start, eq;
        while (end < len && b[end] != '&')
            end++;
        if (end > start) {
            long kl, vl;
            eq = start;
            while (eq < end && b[eq] != '=')
                eq++;
            f[n].key = apr_palloc(p, eq - start + 1);
            kl = ref_decode(b + start, eq - start, f[n].key);
            if (eq < end) {
                f[n].val = apr_palloc(p, end - eq);
                vl = ref_decode(b + eq + 1, end - eq - 1, f[n].val);
            }
            else {
                f[n].val = "";
                vl = 0;
            }
            if (kl < 0 || vl < 0)
                return -1;
            f[n].klen = (size_t)kl;
            f[n].vlen = (size_t)vl;
            if (!ref_clean(f[n].key, f[n].klen) || !ref_clean(f[n].val, f[n].vlen))
                return -1;
            if (kl == 0)
                return -1;
            /* APR tables compare names without regard to ASCII case */
            for (i = 0; i < n; i++)
                if (!strcasecmp(f[i].key, f[n].key))
                    return -1;
            n++;
        }
        if (end >= len)
            break;
        start = end + 1;
    }
    *out = f;
    return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p;
    apr_table_t *t = NULL;
    const char *err;
    field_t *ref = NULL;
    int nref, i;

    if (size > 4096)
        return 0;
    apr_pool_create(&p, fuzz_root);

    /* data is exactly size bytes: a read past it is an ASan report */
    err = natomm_form_parse(p, (const char *)data, size, &t);
    nref = ref_parse(p, data, size, &ref);
    FUZZ_ASSERT((err == NULL) == (nref >= 0),
                "form_parse %s, the reference %s (%zu bytes)",
                err ? err : "accepted", nref >= 0 ? "accepts" : "refuses", size);
    if (err) {
        FUZZ_ASSERT(*err, "empty error message");
    }
    else {
        const apr_array_header_t *elts = apr_table_elts(t);
        const apr_table_entry_t *e = (const apr_table_entry_t *)elts->elts;
        FUZZ_ASSERT(elts->nelts == nref, "%d fields, reference %d", elts->nelts, nref);
        for (i = 0; i < elts->nelts; i++) {
            FUZZ_ASSERT(!strcmp(e[i].key, ref[i].key), "field %d name differs", i);
            FUZZ_ASSERT(strlen(e[i].val) == ref[i].vlen
                        && !memcmp(e[i].val, ref[i].val, ref[i].vlen),
                        "field %d value differs", i);
            FUZZ_ASSERT(*e[i].key && ref_clean(e[i].key, strlen(e[i].key))
                        && ref_clean(e[i].val, strlen(e[i].val)),
                        "field %d not clean", i);
        }
    }

    /* the Content-Type test on the same bytes, as a header value */
    {
        const char *ct = fuzz_cstr(p, data, size);
        static const char want[] = "application/x-www-form-urlencoded";
        if (natomm_form_is_urlencoded(ct)) {
            const char *s = ct;
            size_t n = sizeof(want) - 1;
            while (*s == ' ')
                s++;
            FUZZ_ASSERT(!strncasecmp(s, want, n)
                        && (s[n] == '\0' || s[n] == ';' || s[n] == ' ' || s[n] == '\t'),
                        "\"%s\" taken for form encoding", ct);
        }
    }
    apr_pool_destroy(p);
    return 0;
}
