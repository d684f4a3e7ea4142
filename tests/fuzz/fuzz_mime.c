/* Fuzz target: natomm_mime_build with fuzzed header values and text.
 * The input is split on NUL bytes: subject, text, from, to, then pairs of
 * extra header name and value (missing fields take a default).
 * Oracles:
 *  - it is refused exactly when the contract says: a CR or LF in From, To or
 *    Subject, "<", ">" or '"' in To, a bad extra name (not [A-Za-z0-9-]+) or
 *    a CR or LF in an extra value;
 *  - otherwise the message has CRLF line ends only; its header block (up to
 *    the first empty line) is made of "Name: value" lines whose names are
 *    exactly the builder's (From, To, Subject, Date, Message-ID,
 *    MIME-Version, Auto-Submitted, Content-Type) plus the given extra names,
 *    each as many times as given, and of continuation lines that start with
 *    a space: nothing a value holds can add a header;
 *  - a non-ASCII Subject is encoded words that decode back to it, and an
 *    ASCII one is itself; the message ends with the closing delimiter.
 * A hang (the encoder once looped on stray UTF-8 continuation bytes) is a
 * libFuzzer timeout. */
#include <strings.h>
#include "apr_strings.h"
#include "apr_tables.h"
#include "apr_hash.h"
#include "apr_lib.h"
#include "apr_base64.h"
#include "natomm_mime.h"
#include "fuzz_common.h"

#define UNIQUE "fuzzUniqueToken0123456789abcdefghijklmnopq"
#define MAX_FIELDS 16

static const char *const BUILDER[] = {
    "From", "To", "Subject", "Date", "Message-ID", "MIME-Version",
    "Auto-Submitted", "Content-Type", NULL };

static int has_break(const char *s)
{
    return strpbrk(s, "\r\n") != NULL;
}

static int name_ok(const char *n)
{
    if (!*n)
        return 0;
    for (; *n; n++)
        if (!((*n >= 'A' && *n <= 'Z') || (*n >= 'a' && *n <= 'z')
              || (*n >= '0' && *n <= '9') || *n == '-'))
            return 0;
    return 1;
}

static int printable_ascii(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f)
            return 0;
    return 1;
}

/* Decodes "=?UTF-8?B?...?=" words separated by CRLF SP; NULL when the
 * value is anything else. */
static char *decode_words(apr_pool_t *p, const char *v)
{
    apr_array_header_t *out = apr_array_make(p, 4, sizeof(const char *));
    int first = 1;

    while (*v) {
        const char *end;
        char *b64, *dec;
        int n;
        if (!first) {
            if (strncmp(v, "\r\n ", 3))
                return NULL;
            v += 3;
        }
        first = 0;
        if (strncmp(v, "=?UTF-8?B?", 10) || !(end = strstr(v + 10, "?=")))
            return NULL;
        b64 = apr_pstrmemdup(p, v + 10, end - v - 10);
        dec = apr_palloc(p, apr_base64_decode_len(b64) + 1);
        n = apr_base64_decode(dec, b64);
        dec[n] = '\0';
        APR_ARRAY_PUSH(out, const char *) = dec;
        v = end + 2;
    }
    return apr_array_pstrcat(p, out, 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p;
    const char *f[MAX_FIELDS];
    int nf = 0, i, nextra, refuse = 0;
    natomm_mime_t m;
    apr_array_header_t *h;
    char *out = NULL, *s;
    const char *err, *block_end, *line, *subject_value = NULL;
    apr_hash_index_t *hi;
    apr_pool_t *hp;
    size_t start = 0, k;

    if (size > 4096)
        return 0;
    apr_pool_create(&p, fuzz_root);

    /* NUL-separated fields */
    for (k = 0; k <= size && nf < MAX_FIELDS; k++) {
        if (k == size || data[k] == '\0') {
            f[nf++] = apr_pstrmemdup(p, (const char *)data + start, k - start);
            start = k + 1;
        }
    }

    memset(&m, 0, sizeof(m));
    m.subject = nf > 0 ? f[0] : "Subject";
    m.text = nf > 1 ? f[1] : "Text";
    m.from = nf > 2 ? f[2] : "Example <noreply@example.org>";
    m.to = nf > 3 ? f[3] : "user@example.net";
    m.date = (apr_time_t)1796221800 * APR_USEC_PER_SEC;
    m.unique = UNIQUE;
    h = apr_array_make(p, 8, sizeof(natomm_mime_header_t));
    for (i = 4; i + 1 < nf; i += 2) {
        natomm_mime_header_t *e = apr_array_push(h);
        e->name = f[i];
        e->value = f[i + 1];
    }
    nextra = h->nelts;
    m.headers = h;

    /* what the contract refuses */
    refuse = has_break(m.from) || has_break(m.to) || has_break(m.subject)
          || strpbrk(m.to, "<>\"") != NULL;
    for (i = 0; i < nextra; i++) {
        const natomm_mime_header_t *e = &APR_ARRAY_IDX(h, i, natomm_mime_header_t);
        if (!name_ok(e->name) || has_break(e->value))
            refuse = 1;
    }

    err = natomm_mime_build(p, &m, &out);
    FUZZ_ASSERT((err != NULL) == refuse, "build %s, the contract %s",
                err ? err : "accepted", refuse ? "refuses" : "accepts");
    if (err) {
        FUZZ_ASSERT(*err, "empty error message");
        apr_pool_destroy(p);
        return 0;
    }
    FUZZ_ASSERT(out != NULL, "accepted without a message");

    /* CRLF only */
    for (s = out; *s; s++) {
        FUZZ_ASSERT(*s != '\r' || s[1] == '\n', "bare CR at offset %ld", (long)(s - out));
        FUZZ_ASSERT(*s != '\n' || (s > out && s[-1] == '\r'), "bare LF at offset %ld",
                    (long)(s - out));
    }

    /* the header block */
    block_end = strstr(out, "\r\n\r\n");
    FUZZ_ASSERT(block_end != NULL, "no empty line after the headers");
    apr_pool_create(&hp, p);
    {
        /* expected name counts, lower-cased */
        apr_hash_t *want = apr_hash_make(hp), *got = apr_hash_make(hp);
        int nlines = 0;

        for (i = 0; BUILDER[i]; i++) {
            char *n = apr_pstrdup(hp, BUILDER[i]);
            int *c;
            for (s = n; *s; s++) *s = (char)apr_tolower(*s);
            c = apr_hash_get(want, n, APR_HASH_KEY_STRING);
            if (!c) {
                c = apr_pcalloc(hp, sizeof(int));
                apr_hash_set(want, n, APR_HASH_KEY_STRING, c);
            }
            (*c)++;
        }
        for (i = 0; i < nextra; i++) {
            char *n = apr_pstrdup(hp, APR_ARRAY_IDX(h, i, natomm_mime_header_t).name);
            int *c;
            for (s = n; *s; s++) *s = (char)apr_tolower(*s);
            c = apr_hash_get(want, n, APR_HASH_KEY_STRING);
            if (!c) {
                c = apr_pcalloc(hp, sizeof(int));
                apr_hash_set(want, n, APR_HASH_KEY_STRING, c);
            }
            (*c)++;
        }

        for (line = out; line < block_end + 2; ) {
            const char *eol = strstr(line, "\r\n");
            size_t len = (size_t)(eol - line);
            if (*line == ' ') {
                FUZZ_ASSERT(nlines > 0, "the header block starts with a continuation");
            }
            else {
                const char *colon = memchr(line, ':', len);
                char *n;
                int *c;
                FUZZ_ASSERT(colon && colon > line && colon[1] == ' ',
                            "header line without \"Name: \": \"%.*s\"", (int)len, line);
                n = apr_pstrmemdup(hp, line, colon - line);
                for (s = n; *s; s++) *s = (char)apr_tolower(*s);
                FUZZ_ASSERT(apr_hash_get(want, n, APR_HASH_KEY_STRING) != NULL,
                            "header \"%s\" not from the builder nor given", n);
                c = apr_hash_get(got, n, APR_HASH_KEY_STRING);
                if (!c) {
                    c = apr_pcalloc(hp, sizeof(int));
                    apr_hash_set(got, n, APR_HASH_KEY_STRING, c);
                }
                (*c)++;
                if (!strcmp(n, "subject") && !subject_value) {
                    /* its value with its continuation lines (the first
                     * Subject is the builder's: an extra header may be
                     * named Subject too) */
                    const char *e = line + len;
                    while (e[0] == '\r' && e[1] == '\n' && e[2] == ' ')
                        e = strstr(e + 2, "\r\n");
                    subject_value = apr_pstrmemdup(hp, colon + 2, e - colon - 2);
                }
            }
            nlines++;
            line = eol + 2;
        }
        /* each name exactly as many times as expected */
        for (hi = apr_hash_first(hp, want); hi; hi = apr_hash_next(hi)) {
            const void *key;
            void *val;
            int *c;
            apr_hash_this(hi, &key, NULL, &val);
            c = apr_hash_get(got, key, APR_HASH_KEY_STRING);
            FUZZ_ASSERT(c && *c == *(int *)val, "header \"%s\" %d times, want %d",
                        (const char *)key, c ? *c : 0, *(int *)val);
        }
    }

    /* the Subject: itself when printable ASCII, else encoded words of it */
    FUZZ_ASSERT(subject_value != NULL, "no Subject");
    if (printable_ascii(m.subject)) {
        FUZZ_ASSERT(!strcmp(subject_value, m.subject), "ASCII subject changed");
    }
    else {
        const char *dec = decode_words(hp, subject_value);
        FUZZ_ASSERT(dec && !strcmp(dec, m.subject), "Subject does not decode back");
    }

    /* the end */
    {
        static const char close[] = "\r\n--=_natomm_" UNIQUE "--\r\n";
        size_t n = strlen(out);
        FUZZ_ASSERT(n >= sizeof(close) - 1
                    && !strcmp(out + n - (sizeof(close) - 1), close),
                    "the message does not end with the closing delimiter");
    }
    apr_pool_destroy(p);
    return 0;
}
