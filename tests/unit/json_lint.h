/* A strict, independent JSON checker for the tests (RFC 8259): the writer
 * under test must not be judged by its own UTF-8 code, so this file has its
 * own decoder. Used by tests/unit/test_json.c and the fuzz targets.
 *
 *   json_lint(s)                 1 when s is exactly one JSON value
 *   json_unquote(lit, out, &n)   decodes one string literal (lit starts at its
 *                                opening quote) into out (at least strlen(lit)
 *                                bytes); returns the bytes of lit consumed, or
 *                                0 when it is not a valid literal
 */
#ifndef NATOMM_JSON_LINT_H
#define NATOMM_JSON_LINT_H

#include <stddef.h>
#include <string.h>

/* One UTF-8 sequence at s: its length, or 0 (invalid, overlong, surrogate,
 * beyond U+10FFFF). */
static inline size_t jl_utf8(const unsigned char *s, unsigned long *cp)
{
    unsigned long c;
    size_t len, i;

    if (s[0] < 0x80) { *cp = s[0]; return 1; }
    if (s[0] >= 0xC2 && s[0] <= 0xDF) { len = 2; c = s[0] & 0x1F; }
    else if (s[0] >= 0xE0 && s[0] <= 0xEF) { len = 3; c = s[0] & 0x0F; }
    else if (s[0] >= 0xF0 && s[0] <= 0xF4) { len = 4; c = s[0] & 0x07; }
    else return 0;
    for (i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80)      /* also stops at the terminating NUL */
            return 0;
        c = (c << 6) | (s[i] & 0x3F);
    }
    if ((len == 3 && c < 0x800) || (len == 4 && (c < 0x10000 || c > 0x10FFFF))
        || (c >= 0xD800 && c <= 0xDFFF))
        return 0;
    *cp = c;
    return len;
}

static inline int jl_hex4(const char *s, unsigned long *v)
{
    int i;
    *v = 0;
    for (i = 0; i < 4; i++) {
        char c = s[i];
        int d = (c >= '0' && c <= '9') ? c - '0'
              : (c >= 'a' && c <= 'f') ? c - 'a' + 10
              : (c >= 'A' && c <= 'F') ? c - 'A' + 10 : -1;
        if (d < 0)
            return 0;
        *v = *v * 16 + (unsigned long)d;
    }
    return 1;
}

static inline char *jl_put(char *o, unsigned long cp)
{
    if (cp < 0x80) { *o++ = (char)cp; }
    else if (cp < 0x800) { *o++ = (char)(0xC0 | (cp >> 6)); *o++ = (char)(0x80 | (cp & 0x3F)); }
    else if (cp < 0x10000) {
        *o++ = (char)(0xE0 | (cp >> 12)); *o++ = (char)(0x80 | ((cp >> 6) & 0x3F));
        *o++ = (char)(0x80 | (cp & 0x3F));
    }
    else {
        *o++ = (char)(0xF0 | (cp >> 18)); *o++ = (char)(0x80 | ((cp >> 12) & 0x3F));
        *o++ = (char)(0x80 | ((cp >> 6) & 0x3F)); *o++ = (char)(0x80 | (cp & 0x3F));
    }
    return o;
}

/* out may be NULL to only validate. */
static inline size_t json_unquote(const char *lit, char *out, size_t *outlen)
{
    const char *s = lit;
    char *o = out;

    if (*s++ != '"')
        return 0;
    for (;;) {
        unsigned char c = (unsigned char)*s;
        unsigned long cp;
        if (c == '"')
            break;
        if (c < 0x20)                   /* raw control, or the end */
            return 0;
        if (c == '\\') {
            switch (s[1]) {
            case '"': cp = '"'; s += 2; break;
            case '\\': cp = '\\'; s += 2; break;
            case '/': cp = '/'; s += 2; break;
            case 'b': cp = 8; s += 2; break;
            case 'f': cp = 12; s += 2; break;
            case 'n': cp = 10; s += 2; break;
            case 'r': cp = 13; s += 2; break;
            case 't': cp = 9; s += 2; break;
            case 'u':
                if (!jl_hex4(s + 2, &cp))
                    return 0;
                s += 6;
                if (cp >= 0xDC00 && cp <= 0xDFFF)
                    return 0;           /* a low surrogate alone */
                if (cp >= 0xD800 && cp <= 0xDBFF) {
                    unsigned long lo;
                    if (s[0] != '\\' || s[1] != 'u' || !jl_hex4(s + 2, &lo)
                        || lo < 0xDC00 || lo > 0xDFFF)
                        return 0;
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                    s += 6;
                }
                break;
            default:
                return 0;
            }
        }
        else {
            size_t len = jl_utf8((const unsigned char *)s, &cp);
            if (!len)
                return 0;
            s += len;
        }
        if (o)
            o = jl_put(o, cp);
    }
    if (o) {
        *o = '\0';
        if (outlen)
            *outlen = (size_t)(o - out);
    }
    return (size_t)(s + 1 - lit);
}

static inline const char *jl_ws(const char *s)
{
    while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
        s++;
    return s;
}

static inline const char *jl_number(const char *s)
{
    if (*s == '-')
        s++;
    if (*s == '0')
        s++;
    else if (*s >= '1' && *s <= '9')
        while (*s >= '0' && *s <= '9') s++;
    else
        return NULL;
    if (*s == '.') {
        s++;
        if (!(*s >= '0' && *s <= '9'))
            return NULL;
        while (*s >= '0' && *s <= '9') s++;
    }
    if (*s == 'e' || *s == 'E') {
        s++;
        if (*s == '+' || *s == '-')
            s++;
        if (!(*s >= '0' && *s <= '9'))
            return NULL;
        while (*s >= '0' && *s <= '9') s++;
    }
    return s;
}

/* The end of the value at s, or NULL. */
static inline const char *jl_value(const char *s, int depth)
{
    size_t n;

    if (depth > 64)
        return NULL;
    s = jl_ws(s);
    switch (*s) {
    case '"':
        n = json_unquote(s, NULL, NULL);
        return n ? s + n : NULL;
    case '{':
        s = jl_ws(s + 1);
        if (*s == '}')
            return s + 1;
        for (;;) {
            s = jl_ws(s);
            if (*s != '"' || !(n = json_unquote(s, NULL, NULL)))
                return NULL;
            s = jl_ws(s + n);
            if (*s++ != ':')
                return NULL;
            if (!(s = jl_value(s, depth + 1)))
                return NULL;
            s = jl_ws(s);
            if (*s == '}')
                return s + 1;
            if (*s++ != ',')
                return NULL;
        }
    case '[':
        s = jl_ws(s + 1);
        if (*s == ']')
            return s + 1;
        for (;;) {
            if (!(s = jl_value(s, depth + 1)))
                return NULL;
            s = jl_ws(s);
            if (*s == ']')
                return s + 1;
            if (*s++ != ',')
                return NULL;
        }
    case 't':
        return strncmp(s, "true", 4) ? NULL : s + 4;
    case 'f':
        return strncmp(s, "false", 5) ? NULL : s + 5;
    case 'n':
        return strncmp(s, "null", 4) ? NULL : s + 4;
    default:
        return jl_number(s);
    }
}

static inline int json_lint(const char *s)
{
    const char *end = s ? jl_value(s, 0) : NULL;
    return end && *jl_ws(end) == '\0';
}

#endif
