/* Durations in directives: "30s", "30m", "12h", "30d" (a bare number is seconds). */
#ifndef NATOMM_DURATION_H
#define NATOMM_DURATION_H

#include "apr.h"

/* Stores whole seconds (at least 1) in *out; NULL on success, else a message. */
const char *natomm_duration_parse(const char *text, apr_int64_t *out);

#endif
