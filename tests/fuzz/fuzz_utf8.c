/* Fuzz target: natomm_utf8_next, natomm_utf8_clean, natomm_utf8_length
 * (every form field, password and JSON string goes through them).
 * Oracle: the well-formed byte sequences of RFC 3629 section 4 (Table 3-7
 * of Unicode), written as byte ranges, independent of the bit arithmetic:
 * no overlong form, no surrogate, nothing above U+10FFFF. Both decoders
 * agree at every position; clean is "decodes, no C0, DEL or C1"; length
 * counts code points or is -1; a decoded code point re-encodes to the
 * same bytes. */
#include "natomm_utf8.h"
#include "fuzz_common.h"

static int in(unsigned char c, unsigned lo, unsigned hi)
{
    return c >= lo && c <= hi;
}

/* length of the well-formed sequence at s, or 0 */
static size_t ref_len(const unsigned char *s, size_t n)
{
    if (!n)
        return 0;
    if (s[0] <= 0x7F)
        return 1;
    if (in(s[0], 0xC2, 0xDF))
        return n >= 2 && in(s[1], 0x80, 0xBF) ? 2 : 0;
    if (s[0] == 0xE0)
        return n >= 3 && in(s[1], 0xA0, 0xBF) && in(s[2], 0x80, 0xBF) ? 3 : 0;
    if (in(s[0], 0xE1, 0xEC) || in(s[0], 0xEE, 0xEF))
        return n >= 3 && in(s[1], 0x80, 0xBF) && in(s[2], 0x80, 0xBF) ? 3 : 0;
    if (s[0] == 0xED)
        return n >= 3 && in(s[1], 0x80, 0x9F) && in(s[2], 0x80, 0xBF) ? 3 : 0;
    if (s[0] == 0xF0)
        return n >= 4 && in(s[1], 0x90, 0xBF) && in(s[2], 0x80, 0xBF)
            && in(s[3], 0x80, 0xBF) ? 4 : 0;
    if (in(s[0], 0xF1, 0xF3))
        return n >= 4 && in(s[1], 0x80, 0xBF) && in(s[2], 0x80, 0xBF)
            && in(s[3], 0x80, 0xBF) ? 4 : 0;
    if (s[0] == 0xF4)
        return n >= 4 && in(s[1], 0x80, 0x8F) && in(s[2], 0x80, 0xBF)
            && in(s[3], 0x80, 0xBF) ? 4 : 0;
    return 0;
}

static size_t encode(unsigned long cp, unsigned char *o)
{
    if (cp < 0x80) { o[0] = (unsigned char)cp; return 1; }
    if (cp < 0x800) { o[0] = (unsigned char)(0xC0 | cp >> 6); o[1] = (unsigned char)(0x80 | (cp & 63)); return 2; }
    if (cp < 0x10000) {
        o[0] = (unsigned char)(0xE0 | cp >> 12); o[1] = (unsigned char)(0x80 | ((cp >> 6) & 63));
        o[2] = (unsigned char)(0x80 | (cp & 63)); return 3;
    }
    o[0] = (unsigned char)(0xF0 | cp >> 18); o[1] = (unsigned char)(0x80 | ((cp >> 12) & 63));
    o[2] = (unsigned char)(0x80 | ((cp >> 6) & 63)); o[3] = (unsigned char)(0x80 | (cp & 63));
    return 4;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p;
    size_t i, len, want, cps = 0;
    int valid = 1, clean = 1;
    unsigned long cp;
    char *s;

    if (size > 4096)
        return 0;
    for (i = 0; i < size; i++) {
        unsigned char enc[4];
        want = ref_len(data + i, size - i);
        cp = 0xFFFFFFFF;
        len = natomm_utf8_next(data + i, size - i, &cp);
        FUZZ_ASSERT(len == want, "at %zu: length %zu, the reference %zu", i, len, want);
        if (len) {
            FUZZ_ASSERT(cp <= 0x10FFFF && !(cp >= 0xD800 && cp <= 0xDFFF), "code point %lx", cp);
            FUZZ_ASSERT(encode(cp, enc) == len && !memcmp(enc, data + i, len),
                        "U+%04lX does not re-encode to its bytes", cp);
        }
    }
    /* walking from the start */
    for (i = 0; i < size; ) {
        len = natomm_utf8_next(data + i, size - i, &cp);
        if (!len) {
            valid = clean = 0;
            break;
        }
        if (cp < 0x20 || (cp >= 0x7F && cp <= 0x9F))
            clean = 0;
        if (cp == 0)
            valid = 0;          /* a C string ends there */
        cps++;
        i += len;
    }
    FUZZ_ASSERT(natomm_utf8_clean((const char *)data, size) == clean, "clean %d, reference %d",
                !clean, clean);
    apr_pool_create(&p, fuzz_root);
    s = fuzz_cstr(p, data, size);
    if (!memchr(data, 0, size))
        FUZZ_ASSERT(natomm_utf8_length(s) == (valid ? (long)cps : -1),
                    "length %ld, the reference %ld", natomm_utf8_length(s),
                    valid ? (long)cps : -1L);
    else
        FUZZ_ASSERT(natomm_utf8_length(s) == natomm_utf8_length(
                        fuzz_cstr(p, data, strlen(s))), "length past a NUL");
    FUZZ_ASSERT(natomm_utf8_next(data, 0, &cp) == 0, "empty input decoded");
    apr_pool_destroy(p);
    return 0;
}
