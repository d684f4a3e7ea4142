/* Shared bits of the libFuzzer targets: one APR pool per input, and an
 * assertion that aborts (so libFuzzer saves the input) with a message. */
#ifndef NATOMM_FUZZ_COMMON_H
#define NATOMM_FUZZ_COMMON_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include "apr_general.h"
#include "apr_pools.h"

#define FUZZ_ASSERT(cond, ...) do { \
        if (!(cond)) { \
            fprintf(stderr, "\nINVARIANT BROKEN %s:%d: %s\n    ", \
                    __FILE__, __LINE__, #cond); \
            fprintf(stderr, __VA_ARGS__); \
            fputc('\n', stderr); \
            abort(); \
        } \
    } while (0)

static apr_pool_t *fuzz_root;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    apr_initialize();
    apr_pool_create(&fuzz_root, NULL);
    return 0;
}

/* A NUL-terminated copy of the input (an embedded NUL ends the string, as it
 * would for the C-string APIs). */
static inline char *fuzz_cstr(apr_pool_t *p, const uint8_t *data, size_t size)
{
    char *s = apr_palloc(p, size + 1);
    if (size)
        memcpy(s, data, size);
    s[size] = '\0';
    return s;
}

#endif
