/* Account input rules: plausible e-mail addresses and password strength.
 * Pure: no httpd types, unit-tested and fuzzed alone. */
#ifndef NATOMM_POLICY_H
#define NATOMM_POLICY_H

#include "apr_pools.h"
#include "apr_tables.h"
#include "apr_hash.h"

#define NATOMM_EMAIL_MAX 254

/* Whether s is a plausible address: at most 254 bytes, printable ASCII,
 * exactly one "@", a local part of 1..64, and a dotted domain of
 * letters, digits and hyphens. */
int natomm_email_valid(const char *s);

/* The address as stored for uniqueness: ASCII lower case. */
char *natomm_email_key(apr_pool_t *p, const char *email);

/* Words a password core may not be; keys are lower-case words. */
typedef struct {
    apr_hash_t *words;
} natomm_dict_t;

/* A dictionary holding the built-in list of common passwords and words. */
natomm_dict_t *natomm_dict_builtin(apr_pool_t *p);
/* Adds one word per line of a file (lines of 3 to 64 bytes, lower-cased). */
apr_status_t natomm_dict_load(natomm_dict_t *d, apr_pool_t *p, const char *path);

typedef struct {
    int min_length;           /* code points */
    int max_length;
    const char *site_name;    /* may be NULL */
    const char *email;        /* may be NULL */
    const natomm_dict_t *dict;
} natomm_password_rules_t;

/* Every rule the password fails, as rule names in a fixed order:
 * length, whitespace, upper, lower, digit, symbol, common.
 * An empty array means the password is acceptable. */
apr_array_header_t *natomm_password_check(apr_pool_t *p,
                                          const natomm_password_rules_t *rules,
                                          const char *password);

#endif
