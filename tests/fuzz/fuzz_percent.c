/* Fuzz target: natomm_percent_decode and natomm_hex_digit.
 * The first byte picks "+" as a space or not; the rest is the text.
 * Oracle: a reference decoder (every "%" needs two hex digits, any case);
 * both agree on refusal, bytes and length, NULs included, and the answer
 * is NUL-terminated after its length. Encoding the bytes (each as %HH, or
 * kept when unreserved) decodes back to them, in both modes. */
#include "apr_strings.h"
#include "natomm_percent.h"
#include "fuzz_common.h"

static int ref_hex(unsigned char c)
{
    static const char digits[] = "0123456789abcdef";
    const char *d;
    if (c >= 'A' && c <= 'F')
        c = (unsigned char)(c - 'A' + 'a');
    d = c ? strchr(digits, c) : NULL;
    return d ? (int)(d - digits) : -1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p;
    const char *s;
    char *got, *want, *enc, *o;
    size_t n, i, glen = 12345, wlen = 0;
    int plus, bad = 0;

    if (size < 1 || size > 4096)
        return 0;
    apr_pool_create(&p, fuzz_root);
    plus = data[0] & 1;
    FUZZ_ASSERT(natomm_hex_digit((char)data[0]) == ref_hex(data[0]),
                "hex digit of 0x%02x", data[0]);
    s = (const char *)data + 1;
    n = size - 1;

    /* exactly n bytes: a read past them is an ASan report */
    got = natomm_percent_decode(p, s, n, plus, &glen);
    want = apr_palloc(p, n + 1);
    for (i = 0; i < n && !bad; i++) {
        if (s[i] == '%') {
            if (n - i < 3 || ref_hex(s[i + 1]) < 0 || ref_hex(s[i + 2]) < 0)
                bad = 1;
            else {
                want[wlen++] = (char)(ref_hex(s[i + 1]) << 4 | ref_hex(s[i + 2]));
                i += 2;
            }
        }
        else
            want[wlen++] = plus && s[i] == '+' ? ' ' : s[i];
    }
    FUZZ_ASSERT((got == NULL) == bad, "decode %s, the reference %s", got ? "accepted" : "refused",
                bad ? "refuses" : "accepts");
    if (got) {
        FUZZ_ASSERT(glen == wlen && !memcmp(got, want, wlen) && got[glen] == '\0',
                    "decoded %zu bytes, the reference %zu", glen, wlen);
        FUZZ_ASSERT(natomm_percent_decode(p, s, n, plus, NULL) != NULL, "NULL outlen");
    }

    /* encode, decode back */
    enc = o = apr_palloc(p, n * 3 + 1);
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || (i & 1 && c >= 'A' && c <= 'Z'))
            *o++ = (char)c;
        else
            o += sprintf(o, (i & 2) ? "%%%02x" : "%%%02X", c);
    }
    *o = '\0';
    got = natomm_percent_decode(p, enc, (size_t)(o - enc), plus, &glen);
    FUZZ_ASSERT(got && glen == n && !memcmp(got, s, n), "encoded form does not decode back");
    apr_pool_destroy(p);
    return 0;
}
