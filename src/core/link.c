/* Download links (see natomm_link.h). */
#include "natomm_link.h"
#include <string.h>
#include <openssl/crypto.h>
#include "apr_strings.h"
#include "natomm_crypto.h"
#include "natomm_percent.h"
#include "natomm_redirect.h"

#define VERSION 1
#define HEAD_BYTES 21              /* version, depth, account, made, expires */
#define MAC_BYTES 18
#define RAW_BYTES (HEAD_BYTES + MAC_BYTES)   /* 39: 52 characters, no spare bits */
#define MAX_DEPTH 255
#define MADE_MAX (APR_INT64_C(1) << 48)
#define EXPIRES_MAX (APR_INT64_C(1) << 40)

static const char B64URL[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* ---- minting --------------------------------------------------------- */

static int has_encoded(const char *s, const char *code)
{
    for (; (s = strchr(s, '%')) != NULL; s++)
        if (!strncasecmp(s, code, 3))
            return 1;
    return 0;
}

/* Whether a decoded path has an empty, "." or ".." segment after its
 * leading "/" (a folder's trailing "/" ends the last segment, not one). */
static int odd_segment(const char *s)
{
    const char *seg = s + 1;

    while (*seg) {
        const char *end = strchr(seg, '/');
        if (!end)
            end = seg + strlen(seg);
        if (end == seg && *end == '/')
            return 1;
        if ((end - seg == 1 && seg[0] == '.')
            || (end - seg == 2 && seg[0] == '.' && seg[1] == '.'))
            return 1;
        seg = *end ? end + 1 : end;
    }
    return 0;
}

static int slashes(const char *s)
{
    int n = 0;
    for (; *s; s++)
        n += *s == '/';
    return n;
}

const char *natomm_link_scope(apr_pool_t *p, const char *value, const char **why)
{
    const unsigned char *c;
    char *decoded;
    size_t n;

    *why = "it is missing";
    if (!value || !*value)
        return NULL;
    *why = "it is not a local path such as /videos/a.mp4";
    if (strlen(value) > NATOMM_RETURN_MAX
        || strcmp(natomm_return_url(p, value), value))
        return NULL;
    *why = "a link names a file or a folder, without a query or fragment";
    if (strpbrk(value, "?#"))
        return NULL;
    *why = "an encoded / or \\ is not allowed";
    if (has_encoded(value, "%2f") || has_encoded(value, "%5c"))
        return NULL;
    *why = "it is not a valid percent-encoded path";
    decoded = natomm_percent_decode(p, value, strlen(value), 0, &n);
    if (!decoded || strlen(decoded) != n)
        return NULL;
    for (c = (const unsigned char *)decoded; *c; c++)
        if (*c < 0x20 || *c == 0x7f || *c == '\\')
            return NULL;
    *why = "empty, . and .. segments are not allowed";
    if (odd_segment(decoded))
        return NULL;
    *why = "it is too deep";
    if (slashes(decoded) > MAX_DEPTH)
        return NULL;
    *why = NULL;
    return decoded;
}

const char *natomm_link_url_path(apr_pool_t *p, const char *scope)
{
    static const char hex[] = "0123456789ABCDEF";
    char *out = apr_palloc(p, strlen(scope) * 3 + 1), *o = out;
    const unsigned char *c;

    for (c = (const unsigned char *)scope; *c; c++) {
        if ((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z')
            || (*c >= '0' && *c <= '9') || strchr("-._~/", *c)) {
            *o++ = (char)*c;
        }
        else {
            *o++ = '%';
            *o++ = hex[*c >> 4];
            *o++ = hex[*c & 15];
        }
    }
    *o = '\0';
    return out;
}

static void put(unsigned char *at, apr_uint64_t v, int bytes)
{
    int i;
    for (i = bytes - 1; i >= 0; i--, v >>= 8)
        at[i] = (unsigned char)(v & 0xFF);
}

static apr_uint64_t get(const unsigned char *at, int bytes)
{
    apr_uint64_t v = 0;
    int i;
    for (i = 0; i < bytes; i++)
        v = (v << 8) | at[i];
    return v;
}

/* The MAC of a token's fields for the path it covers. */
static int mac_of(apr_pool_t *p, const char *key, const unsigned char *head,
                  const char *scope, unsigned char out[32])
{
    static const char hex[] = "0123456789abcdef";
    char fields[2 * HEAD_BYTES + 1];
    int i;

    if (!key || !*key)
        return 0;
    for (i = 0; i < HEAD_BYTES; i++) {
        fields[2 * i] = hex[head[i] >> 4];
        fields[2 * i + 1] = hex[head[i] & 15];
    }
    fields[2 * HEAD_BYTES] = '\0';
    return natomm_hmac(key, apr_pstrcat(p, "natomm-link|", fields, "|", scope, NULL),
                       out);
}

const char *natomm_link_make(apr_pool_t *p, const char *key, natomm_link_t *l,
                             const char *scope)
{
    unsigned char raw[RAW_BYTES], mac[32];
    const char *out;

    if (!scope || scope[0] != '/' || l->made_ms < 0 || l->made_ms >= MADE_MAX
        || l->expires < 0 || l->expires >= EXPIRES_MAX)
        return NULL;
    l->depth = scope[strlen(scope) - 1] == '/' ? slashes(scope) : 0;
    if (l->depth > MAX_DEPTH)
        return NULL;
    raw[0] = VERSION;
    raw[1] = (unsigned char)l->depth;
    put(raw + 2, l->account, 8);
    put(raw + 10, (apr_uint64_t)l->made_ms, 6);
    put(raw + 16, (apr_uint64_t)l->expires, 5);
    if (!mac_of(p, key, raw, scope, mac))
        return NULL;
    memcpy(raw + HEAD_BYTES, mac, MAC_BYTES);
    out = natomm_b64url(p, raw, sizeof(raw));
    OPENSSL_cleanse(mac, sizeof(mac));
    return out;
}

/* ---- checking -------------------------------------------------------- */

static int decode(const char *s, unsigned char raw[RAW_BYTES + 1])
{
    return s && strlen(s) == NATOMM_LINK_CHARS
        && strspn(s, B64URL) == NATOMM_LINK_CHARS
        && natomm_b64url_decode(s, raw, RAW_BYTES + 1) == RAW_BYTES
        && raw[0] == VERSION;
}

int natomm_link_shape(const char *s)
{
    unsigned char raw[RAW_BYTES + 1];
    return decode(s, raw);
}

int natomm_link_read(const char *token, natomm_link_t *out)
{
    unsigned char raw[RAW_BYTES + 1];

    if (!decode(token, raw))
        return -1;
    out->depth = raw[1];
    out->account = get(raw + 2, 8);
    out->made_ms = (apr_int64_t)get(raw + 10, 6);
    out->expires = (apr_int64_t)get(raw + 16, 5);
    return 0;
}

/* What a link of depth covers of uri: all of it for a file, its first
 * depth segments (up to the depth-th "/") for a folder; NULL when uri is
 * not that deep. */
static const char *covered(apr_pool_t *p, const char *uri, int depth)
{
    const char *c = uri;
    int n = 0;

    if (depth == 0)
        return uri;
    for (; *c; c++)
        if (*c == '/' && ++n == depth)
            return apr_pstrmemdup(p, uri, (apr_size_t)(c - uri) + 1);
    return NULL;
}

natomm_link_result_t natomm_link_check(apr_pool_t *p, const char *key,
                                       const char *token, const char *uri,
                                       apr_int64_t now, natomm_link_t *out)
{
    unsigned char raw[RAW_BYTES + 1], mac[32];
    const char *scope;
    int same;

    if (natomm_link_read(token, out) || !uri || uri[0] != '/'
        || !(scope = covered(p, uri, out->depth)))
        return NATOMM_LINK_BAD;
    decode(token, raw);
    if (!mac_of(p, key, raw, scope, mac))
        return NATOMM_LINK_BAD;
    same = CRYPTO_memcmp(mac, raw + HEAD_BYTES, MAC_BYTES) == 0;
    OPENSSL_cleanse(mac, sizeof(mac));
    if (!same)
        return NATOMM_LINK_BAD;
    return now >= out->expires ? NATOMM_LINK_EXPIRED : NATOMM_LINK_OK;
}

/* ---- the request ----------------------------------------------------- */

/* The token a raw text holds once percent-decoded, or NULL. */
static const char *token_in(apr_pool_t *p, const char *s, size_t n, int plus)
{
    size_t len;
    char *d = natomm_percent_decode(p, s, n, plus, &len);

    return d && strlen(d) == len && natomm_link_shape(d) ? d : NULL;
}

static void found(natomm_link_found_t *out, const char *token, const char *raw)
{
    if (!out->token)
        out->token = token;
    APR_ARRAY_PUSH(out->raw, const char *) = raw;
}

static void find_in_path(apr_pool_t *p, natomm_link_found_t *out)
{
    size_t pre = strlen(NATOMM_LINK_PREFIX);

    while (!strncmp(out->path, NATOMM_LINK_PREFIX, pre)) {
        const char *seg = out->path + pre, *end = strchr(seg, '/'), *t;
        if (!end || !(t = token_in(p, seg, (size_t)(end - seg), 0)))
            return;
        found(out, t, apr_pstrmemdup(p, seg, (apr_size_t)(end - seg)));
        out->path = end;
    }
}

static void find_in_query(apr_pool_t *p, natomm_link_found_t *out)
{
    const char *s = out->args;
    char *kept = apr_palloc(p, strlen(s) + 1), *k = kept;
    int changed = 0;

    while (1) {
        const char *end = strchr(s, '&'), *eq, *name, *t = NULL;
        size_t n = end ? (size_t)(end - s) : strlen(s), len;

        eq = memchr(s, '=', n);
        if (eq && (name = natomm_percent_decode(p, s, (size_t)(eq - s), 1, &len))
            && len == strlen(NATOMM_LINK_PARAM) && !strcmp(name, NATOMM_LINK_PARAM))
            t = token_in(p, eq + 1, n - (size_t)(eq + 1 - s), 1);
        if (t) {
            found(out, t, apr_pstrmemdup(p, eq + 1, n - (size_t)(eq + 1 - s)));
            changed = 1;
        }
        else {
            if (k != kept)
                *k++ = '&';
            memcpy(k, s, n);
            k += n;
        }
        if (!end)
            break;
        s = end + 1;
    }
    *k = '\0';
    if (changed)
        out->args = k == kept ? NULL : kept;
}

int natomm_link_find(apr_pool_t *p, const char *path, const char *args,
                     natomm_link_found_t *out)
{
    out->token = NULL;
    out->path = path;
    out->args = args;
    out->raw = apr_array_make(p, 2, sizeof(const char *));
    if (path)
        find_in_path(p, out);
    if (args)
        find_in_query(p, out);
    return out->token != NULL;
}

const char *natomm_link_redact(apr_pool_t *p, const char *line,
                               const apr_array_header_t *raw)
{
    int i, changed = 1;

    if (!line || !raw)
        return line;
    /* again until nothing changes: a replacement may complete an
     * occurrence with what follows it (each one shortens the line) */
    while (changed) {
        changed = 0;
        for (i = 0; i < raw->nelts; i++) {
            const char *r = APR_ARRAY_IDX(raw, i, const char *), *at;
            size_t n = strlen(r);
            if (n <= strlen(NATOMM_LINK_REDACTED))
                continue;
            while ((at = strstr(line, r)) != NULL) {
                line = apr_pstrcat(p, apr_pstrmemdup(p, line, (apr_size_t)(at - line)),
                                   NATOMM_LINK_REDACTED, at + n, NULL);
                changed = 1;
            }
        }
    }
    return line;
}
