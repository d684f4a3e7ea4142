/* Return-URL validation: only local paths on this site survive.
 *
 * Browsers are lenient: "//host", "/\host", "/%2f/host" after a decoder, tabs
 * and newlines inside a URL, all can leave the site. So the value must start
 * with exactly one "/", contain only printable ASCII, no backslash, and stay
 * that way however many times it is percent-decoded.
 */
#include "natomm_redirect.h"
#include <string.h>
#include "apr_strings.h"
#include "apr_lib.h"
#include "natomm_percent.h"

/* One round of percent-decoding; returns whether anything was decoded,
 * or -1 when a control character (NUL included) was: that is never safe,
 * and a NUL would hide the rest of the value from the next check. */
static int decode_once(char *s)
{
    char *in = s, *out = s;
    int changed = 0;

    while (*in) {
        if (in[0] == '%' && natomm_hex_digit(in[1]) >= 0 && natomm_hex_digit(in[2]) >= 0) {
            char c = (char)(natomm_hex_digit(in[1]) * 16 + natomm_hex_digit(in[2]));
            if ((unsigned char)c < 0x20 || c == 0x7f)
                return -1;
            *out++ = c;
            in += 3;
            changed = 1;
        }
        else {
            *out++ = *in++;
        }
    }
    *out = '\0';
    return changed;
}

/* The raw value must be printable ASCII; a decoded form may also hold
 * spaces and UTF-8 (a path like /vid%C3%A9os), never controls. */
static int safe_form(const char *s, int decoded)
{
    const unsigned char *c;

    if (s[0] != '/' || s[1] == '/' || s[1] == '\\')
        return 0;
    for (c = (const unsigned char *)s; *c; c++) {
        if (*c < 0x20 || *c == 0x7f || *c == '\\')
            return 0;
        if (!decoded && (*c == ' ' || *c > 0x7f))
            return 0;
    }
    return 1;
}

const char *natomm_return_url(apr_pool_t *p, const char *value)
{
    char *work;
    int round;

    if (!value || !*value || strlen(value) > NATOMM_RETURN_MAX
        || !safe_form(value, 0))
        return "/";
    work = apr_pstrdup(p, value);
    /* an attacker may encode several times; each decoded form must be safe */
    for (round = 0; round < 4; round++) {
        int changed = decode_once(work);
        if (changed < 0)
            return "/";
        if (!changed)
            return value;
        if (!safe_form(work, 1))
            return "/";
    }
    return "/";
}
