/* Fuzz target: natomm_text_log_safe, natomm_text_html, natomm_text_is_ascii
 * (every untrusted value that reaches a log line or the unsubscribe page).
 * Invariants: a log-safe value is one line of bytes without C0, DEL or a
 * lone backslash, and decoding its \xNN escapes gives the input back; the
 * HTML form holds no <, >, ", ' and every & starts one of the five
 * entities, and decoding them gives the input back; is_ascii is "every
 * byte in 0x20..0x7E". */
#include "apr_strings.h"
#include "natomm_text.h"
#include "fuzz_common.h"

static int hexv(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p;
    const char *s, *l, *c;
    char *h, *back, *o;
    int ascii = 1;
    size_t i;

    if (size > 4096)
        return 0;
    apr_pool_create(&p, fuzz_root);
    s = fuzz_cstr(p, data, size);

    l = natomm_text_log_safe(p, s);
    back = o = apr_palloc(p, strlen(l) + 1);
    for (c = l; *c; c++) {
        unsigned char b = (unsigned char)*c;
        FUZZ_ASSERT(b >= 0x20 && b != 0x7f, "byte 0x%02x in a log line", b);
        if (b == '\\') {
            FUZZ_ASSERT(c[1] == 'x' && hexv(c[2]) >= 0 && hexv(c[3]) >= 0,
                        "lone backslash in \"%s\"", l);
            *o++ = (char)(hexv(c[2]) << 4 | hexv(c[3]));
            c += 3;
        }
        else
            *o++ = *c;
    }
    *o = '\0';
    FUZZ_ASSERT(!strcmp(back, s), "log form does not decode back");
    FUZZ_ASSERT(!strcmp(natomm_text_log_safe(p, NULL), "-"), "NULL");

    h = natomm_text_html(p, s);
    FUZZ_ASSERT(!strpbrk(h, "<>\"'"), "markup left in \"%s\"", h);
    back = o = apr_palloc(p, strlen(h) + 1);
    for (c = h; *c; c++) {
        static const char *const ent[] = {"&amp;", "&lt;", "&gt;", "&quot;", "&#39;", NULL};
        static const char chr[] = "&<>\"'";
        if (*c == '&') {
            int k;
            for (k = 0; ent[k] && strncmp(c, ent[k], strlen(ent[k])); k++)
                ;
            FUZZ_ASSERT(ent[k], "bare & in \"%s\"", h);
            *o++ = chr[k];
            c += strlen(ent[k]) - 1;
        }
        else
            *o++ = *c;
    }
    *o = '\0';
    FUZZ_ASSERT(!strcmp(back, s), "HTML form does not decode back");

    for (i = 0; s[i]; i++)
        if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e)
            ascii = 0;
    FUZZ_ASSERT(natomm_text_is_ascii(s) == ascii, "is_ascii of \"%s\"", l);
    apr_pool_destroy(p);
    return 0;
}
