/* Fuzz target: download links (natomm_link.h), on what a client sends.
 * The input is a request target, "path[?query]", read as the module reads
 * a request; and its first line is also tried as a token for each path.
 * Invariants:
 *  - natomm_link_find: a token found has the shape; the rewritten path
 *    still starts with "/" and is a suffix of the raw path; what is left of
 *    the query holds no dl=<token>; the request line, once redacted, holds
 *    none of the raw texts that carried a token, nor the token itself
 *    when it was sent as is;
 *  - natomm_link_check never accepts a token made under another key, or
 *    one for another file; an accepted token is made again identically
 *    from its fields, and was not expired;
 *  - natomm_link_scope: what it accepts starts with "/", holds no empty,
 *    "." or ".." segment and no control character, and survives
 *    natomm_link_url_path and a decoding unchanged. */
#include "apr_strings.h"
#include "natomm_link.h"
#include "natomm_percent.h"
#include "natomm_redirect.h"
#include "fuzz_common.h"

static const char KEY[] = "fuzz-link-key";
static const apr_int64_t NOW = 1767225600;

static void check_find(apr_pool_t *p, const char *target)
{
    const char *q = strchr(target, '?');
    const char *path = q ? apr_pstrmemdup(p, target, (apr_size_t)(q - target)) : target;
    const char *args = q ? q + 1 : NULL;
    const char *line = apr_pstrcat(p, "GET ", target, " HTTP/1.1", NULL), *red;
    natomm_link_found_t f;
    natomm_link_found_t again;
    int i;

    if (!natomm_link_find(p, path, args, &f)) {
        FUZZ_ASSERT(f.path == path && f.args == args, "changed without a token");
        return;
    }
    FUZZ_ASSERT(natomm_link_shape(f.token), "found \"%s\", not a token", f.token);
    FUZZ_ASSERT(f.raw->nelts > 0, "a token without its raw text");
    FUZZ_ASSERT(strlen(f.path) <= strlen(path)
                && !strcmp(path + strlen(path) - strlen(f.path), f.path),
                "path \"%s\" is not a suffix of \"%s\"", f.path, path);
    if (f.path != path)
        FUZZ_ASSERT(f.path[0] == '/', "rewritten path \"%s\"", f.path);
    if (f.args) {
        natomm_link_find(p, "/", f.args, &again);
        FUZZ_ASSERT(!again.token, "a dl= token left in \"%s\"", f.args);
    }
    red = natomm_link_redact(p, line, f.raw);
    for (i = 0; i < f.raw->nelts; i++)
        FUZZ_ASSERT(!strstr(red, APR_ARRAY_IDX(f.raw, i, const char *)),
                    "raw text %d left in \"%s\"", i, red);
    if (strstr(line, f.token) && !strstr(path, "%") && !(args && strpbrk(args, "%+")))
        FUZZ_ASSERT(!strstr(red, f.token), "token left in \"%s\"", red);
}

/* What a link of depth covers of path (as the gate computes it). */
static const char *covered(apr_pool_t *p, const char *path, int depth)
{
    const char *c;
    int n = 0;

    if (!depth)
        return path;
    for (c = path; *c; c++)
        if (*c == '/' && ++n == depth)
            return apr_pstrmemdup(p, path, (apr_size_t)(c - path) + 1);
    return NULL;
}

static void check_token(apr_pool_t *p, const char *token)
{
    static const char *const paths[] = {"/videos/a.mp4", "/videos/b.mp4",
                                        "/videos/hls/seg1.ts", "/", NULL};
    natomm_link_t l, again;
    int i, ok = 0;

    for (i = 0; paths[i]; i++) {
        natomm_link_result_t res = natomm_link_check(p, KEY, token, paths[i], NOW, &l);
        const char *scope, *made;
        FUZZ_ASSERT(natomm_link_check(p, "other key", token, paths[i], NOW, &again)
                    == NATOMM_LINK_BAD, "a token passes under two keys");
        if (res == NATOMM_LINK_BAD)
            continue;
        FUZZ_ASSERT(res == NATOMM_LINK_OK || res == NATOMM_LINK_EXPIRED, "result %d", res);
        if (res == NATOMM_LINK_OK)
            FUZZ_ASSERT(l.expires > NOW, "accepted though expired");
        /* only a token made under KEY gets here (from the seeds): the
         * same fields for the same path make it again */
        scope = covered(p, paths[i], l.depth);
        FUZZ_ASSERT(scope != NULL, "accepted for a path it does not cover");
        again = l;
        made = natomm_link_make(p, KEY, &again, scope);
        FUZZ_ASSERT(made && !strcmp(made, token), "\"%s\" not made again the same", token);
        FUZZ_ASSERT(again.depth == l.depth, "depth %d became %d", l.depth, again.depth);
        /* a file link opens one file */
        if (!l.depth)
            ok++;
    }
    FUZZ_ASSERT(ok <= 1, "a file link opened %d files", ok);
}

static void check_scope(apr_pool_t *p, const char *value)
{
    const char *why, *s = natomm_link_scope(p, value, &why), *u, *c;
    size_t n;

    if (!s) {
        FUZZ_ASSERT(why && *why, "refused without a reason");
        return;
    }
    FUZZ_ASSERT(!why, "accepted with a reason");
    FUZZ_ASSERT(s[0] == '/', "scope \"%s\"", s);
    FUZZ_ASSERT(!strstr(s, "//") && !strstr(s, "/./") && !strstr(s, "/../"),
                "scope \"%s\" has an odd segment", s);
    for (c = s; *c; c++)
        FUZZ_ASSERT((unsigned char)*c >= 0x20 && *c != 0x7f && *c != '\\',
                    "scope holds byte 0x%02x", (unsigned char)*c);
    u = natomm_link_url_path(p, s);
    FUZZ_ASSERT(!strcmp(natomm_percent_decode(p, u, strlen(u), 0, &n), s),
                "url path \"%s\" does not decode to \"%s\"", u, s);
    /* (encoding may make it longer than a return URL may be) */
    if (strlen(u) <= NATOMM_RETURN_MAX) {
        const char *back = natomm_link_scope(p, u, &why);
        FUZZ_ASSERT(back && !strcmp(back, s), "url path \"%s\" refused: %s", u,
                    why ? why : "changed");
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p;
    const char *in, *nl;

    if (size > 8192)
        return 0;
    apr_pool_create(&p, fuzz_root);
    in = fuzz_cstr(p, data, size);
    nl = strchr(in, '\n');
    check_find(p, nl ? apr_pstrmemdup(p, in, (apr_size_t)(nl - in)) : in);
    check_token(p, nl ? apr_pstrmemdup(p, in, (apr_size_t)(nl - in)) : in);
    check_scope(p, nl ? nl + 1 : in);
    apr_pool_destroy(p);
    return 0;
}
