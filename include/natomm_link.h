/* Download links (SPEC §5): a token that takes a download manager, a
 * player or a script through the gate without the session cookie, for one
 * file or one folder, until it expires; and the two forms of a request
 * that carry it, "/dl/<token>/videos/…" and "…?dl=<token>".
 *
 * A token is 39 bytes in unpadded base64url (52 characters): a version,
 * the folder depth (0: one file), the account id, when it was made (ms),
 * when it expires (s), and 18 bytes of HMAC-SHA256 under the database's
 * link key over those fields and the path it covers. The path itself is
 * not in the token: the gate takes it from the request (the whole decoded
 * path for a file, its first <depth> segments for a folder), so a token
 * used on another path, or on another database, fails its MAC. Nothing in
 * a token is secret but the MAC.
 *
 * Pure: C, APR and OpenSSL. */
#ifndef NATOMM_LINK_H
#define NATOMM_LINK_H

#include "apr_pools.h"
#include "apr_tables.h"

#define NATOMM_LINK_CHARS 52            /* a token's length */
#define NATOMM_LINK_PREFIX "/dl/"       /* the path form */
#define NATOMM_LINK_PARAM "dl"          /* the query form */
#define NATOMM_LINK_REDACTED "REDACTED" /* what request lines show instead */

typedef struct {
    apr_uint64_t account;      /* the account's id */
    apr_int64_t made_ms;       /* Unix ms; void when before the account's links_after */
    apr_int64_t expires;       /* Unix seconds */
    int depth;                 /* 0: one file; n: a folder, whose path has n '/' */
} natomm_link_t;

typedef enum {
    NATOMM_LINK_OK,            /* MAC right for this path, not expired */
    NATOMM_LINK_BAD,           /* malformed, tampered, another path or database */
    NATOMM_LINK_EXPIRED        /* MAC right, but expired */
} natomm_link_result_t;

/* ---- minting --------------------------------------------------------- */

/* The decoded path a link for the field value covers (what the gate will
 * compare with a request's decoded path): value must be a return-safe
 * local path (natomm_return_url keeps it), without query, fragment,
 * encoded "/" or "\", empty, "." or ".." segments, and at most 255
 * segments deep; a folder's ends in "/". NULL, and *why, when it is not. */
const char *natomm_link_scope(apr_pool_t *p, const char *value, const char **why);

/* A decoded path written for a URL: every byte but the unreserved ones,
 * "/" and the sub-delimiters percent-encoded. */
const char *natomm_link_url_path(apr_pool_t *p, const char *scope);

/* A token for scope (from natomm_link_scope); l->depth is set from it.
 * NULL without a key or when the MAC fails. */
const char *natomm_link_make(apr_pool_t *p, const char *key, natomm_link_t *l,
                             const char *scope);

/* ---- checking -------------------------------------------------------- */

/* Whether s has a token's shape (length, alphabet, version). */
int natomm_link_shape(const char *s);

/* The fields of a token, its MAC unchecked: 0, or -1 when malformed. */
int natomm_link_read(const char *token, natomm_link_t *out);

/* Checks token under key for a request's decoded path uri at now (Unix
 * seconds); the MAC is compared in constant time. *out is filled when the
 * token is well-formed. */
natomm_link_result_t natomm_link_check(apr_pool_t *p, const char *key,
                                       const char *token, const char *uri,
                                       apr_int64_t now, natomm_link_t *out);

/* ---- the request ----------------------------------------------------- */

typedef struct {
    const char *token;         /* the first token found (decoded), or NULL */
    const char *path;          /* the raw path without its /dl/<token> prefixes */
    const char *args;          /* the raw query without dl=<token>; NULL if none left */
    apr_array_header_t *raw;   /* the raw texts that held a token (const char *) */
} natomm_link_found_t;

/* Looks for tokens in a request's raw path ("/dl/<token>/rest", repeated
 * prefixes too) and raw query (every "dl=<token>"; a value or name may be
 * percent-encoded); only token-shaped values count, anything else is left
 * alone. 1 when one was found (*out filled), else 0. args may be NULL. */
int natomm_link_find(apr_pool_t *p, const char *path, const char *args,
                     natomm_link_found_t *out);

/* line with every occurrence of each raw text replaced by REDACTED, until
 * none is left. */
const char *natomm_link_redact(apr_pool_t *p, const char *line,
                               const apr_array_header_t *raw);

#endif
