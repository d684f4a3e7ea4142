/* Verification codes: format, generation and normalisation of what people type.
 * Pure logic: no httpd types, unit-tested and fuzzed alone. */
#ifndef NATOMM_CODE_H
#define NATOMM_CODE_H

#include "apr_pools.h"

#define NATOMM_CODE_MAX 32
#define NATOMM_CODE_LETTERS "BCDFGHJKLMNPQRSTVWXZ"
#define NATOMM_CODE_DIGITS  "0123456789"

typedef struct {
    const char *alphabet;   /* NATOMM_CODE_LETTERS or NATOMM_CODE_DIGITS */
    int length;
} natomm_code_format_t;

/* Parses "letters 8" / "digits 6"; NULL on success, else a message. */
const char *natomm_code_format_parse(natomm_code_format_t *fmt,
                                     const char *kind, const char *length);

/* A new random code from the format's alphabet, without separators.
 * Returns NULL only when the random source fails. */
char *natomm_code_generate(apr_pool_t *p, const natomm_code_format_t *fmt);

/* What a person types (any case, spaces, dashes) to the canonical code;
 * NULL when it cannot be a code of this format. */
char *natomm_code_normalise(apr_pool_t *p, const natomm_code_format_t *fmt,
                            const char *input);

/* The canonical code as shown in mail: halves joined by a dash (XXXX-XXXX). */
char *natomm_code_display(apr_pool_t *p, const char *code);

#endif
