/* Fuzz target: natomm_limit_client, the key a per-IP limit counts (the
 * client address, which an X-Forwarded-For through mod_remoteip makes
 * untrusted text).
 * Invariants:
 *  - text that is not an IPv6 address comes back as it is;
 *  - an IPv4-mapped address becomes its dotted IPv4 form;
 *  - any other IPv6 address becomes "<first 64 bits>::/64", which parses
 *    back to the same 64 bits and zeros;
 *  - every address of one /64 gives the same key, and changing a bit of
 *    the first 64 always gives another key (no two subscribers share one,
 *    no subscriber gets two).
 * The first 16 bytes are also used as a raw address, printed by
 * inet_ntop, and the next 8 as another interface id in the same /64. */
#include <arpa/inet.h>
#include "apr_strings.h"
#include "natomm_limit.h"
#include "fuzz_common.h"

static const unsigned char MAPPED[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

static void check_key(apr_pool_t *p, const char *ip, const char *key)
{
    unsigned char a[16], b[16];

    if (!strchr(ip, ':') || inet_pton(AF_INET6, ip, a) != 1) {
        FUZZ_ASSERT(key == ip, "\"%s\" became \"%s\"", ip, key);
        return;
    }
    if (!memcmp(a, MAPPED, 12)) {
        struct in_addr v4;
        FUZZ_ASSERT(inet_pton(AF_INET, key, &v4) == 1 && !memcmp(&v4, a + 12, 4)
                    && !strchr(key, ':'), "mapped \"%s\" became \"%s\"", ip, key);
        return;
    }
    {
        size_t n = strlen(key);
        char *net;
        FUZZ_ASSERT(n > 5 && !strcmp(key + n - 5, "::/64"), "\"%s\" became \"%s\"", ip, key);
        net = apr_pstrmemdup(p, key, n - 3);
        FUZZ_ASSERT(inet_pton(AF_INET6, net, b) == 1, "key \"%s\" does not parse", key);
        FUZZ_ASSERT(!memcmp(a, b, 8), "key \"%s\" is another /64 than \"%s\"", key, ip);
        {
            static const unsigned char zero[8];
            FUZZ_ASSERT(!memcmp(b + 8, zero, 8), "key \"%s\" keeps host bits", key);
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p;
    const char *ip, *key;

    if (size > 128)
        return 0;
    apr_pool_create(&p, fuzz_root);
    ip = fuzz_cstr(p, data, size);
    key = natomm_limit_client(p, ip);
    FUZZ_ASSERT(key != NULL, "NULL key");
    check_key(p, ip, key);
    FUZZ_ASSERT(natomm_limit_client(p, NULL) == NULL, "NULL not kept");

    if (size >= 16) {
        unsigned char a[16], b[16];
        char t1[INET6_ADDRSTRLEN], t2[INET6_ADDRSTRLEN];
        const char *k1, *k2;
        size_t i;

        memcpy(a, data, 16);
        FUZZ_ASSERT(inet_ntop(AF_INET6, a, t1, sizeof(t1)), "inet_ntop");
        k1 = natomm_limit_client(p, t1);
        check_key(p, t1, k1);
        if (memcmp(a, MAPPED, 12)) {
            /* the same /64, another interface id */
            memcpy(b, a, 16);
            for (i = 0; i < 8; i++)
                b[8 + i] = 16 + i < size ? data[16 + i] : (unsigned char)~a[8 + i];
            if (memcmp(b, MAPPED, 12)) {
                FUZZ_ASSERT(inet_ntop(AF_INET6, b, t2, sizeof(t2)), "inet_ntop");
                k2 = natomm_limit_client(p, t2);
                FUZZ_ASSERT(!strcmp(k1, k2), "%s -> %s but %s -> %s", t1, k1, t2, k2);
            }
            /* one bit of the first 64 changed */
            memcpy(b, a, 16);
            i = size > 24 ? data[24] % 64 : 0;
            b[i / 8] ^= (unsigned char)(1u << (i % 8));
            FUZZ_ASSERT(inet_ntop(AF_INET6, b, t2, sizeof(t2)), "inet_ntop");
            k2 = natomm_limit_client(p, t2);
            FUZZ_ASSERT(strcmp(k1, k2), "%s and %s share the key %s", t1, t2, k1);
        }
    }
    apr_pool_destroy(p);
    return 0;
}
