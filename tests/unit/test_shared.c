/* Unit tests for src/core/shared.c: the key, revocation marks (monotonic,
 * per database and account) and the health of a database, on a private
 * segment (as natommctl and the tests have no httpd parent). */
#include <string.h>
#include "apr_general.h"
#include "apr_pools.h"
#include "natomm_shared.h"
#include "natomm_stats.h"
#include "check.h"

static apr_pool_t *pool;

static void test_without_segment(void)
{
    /* nothing can be trusted from a cache without shared state */
    CHECK(natomm_shared_revoked_since(1, "42", 0));
    CHECK(!natomm_shared_site_is_down(1, 0));
    CHECK_INT(natomm_shared_site_poll_time(1), 0);
    natomm_shared_revoke(1, "42", 10);      /* a no-op */
}

static void test_key(void)
{
    CHECK(natomm_shared_key("a") != natomm_shared_key("b"));
    CHECK(natomm_shared_key("site") == natomm_shared_key("site"));
    CHECK(natomm_shared_key("") != 0);
    CHECK(natomm_shared_key(NULL) != 0);
}

static void test_revocation(void)
{
    apr_uint64_t a = natomm_shared_key("db-a"), b = natomm_shared_key("db-b");

    natomm_shared_private(pool);
    CHECK_NOT_NULL(natomm_stats());
    CHECK(!natomm_shared_revoked_since(a, "42", 100));
    natomm_shared_revoke(a, "42", 200);
    CHECK(natomm_shared_revoked_since(a, "42", 100));
    CHECK(natomm_shared_revoked_since(a, "42", 200));
    CHECK(!natomm_shared_revoked_since(a, "42", 201));
    /* another database, another account */
    CHECK(!natomm_shared_revoked_since(b, "42", 100));
    CHECK(!natomm_shared_revoked_since(a, "43", 100));
    /* a mark is never lowered */
    natomm_shared_revoke(a, "42", 150);
    CHECK(!natomm_shared_revoked_since(a, "42", 201));
    CHECK(natomm_shared_revoked_since(a, "42", 199));
    CHECK(natomm_shared_revoked_since(a, NULL, 1));
}

static void test_health(void)
{
    apr_uint64_t a = natomm_shared_key("health-a");
    int i;

    CHECK(!natomm_shared_site_is_down(a, 10));
    natomm_shared_site_down(a, 20);
    CHECK(natomm_shared_site_is_down(a, 10));
    CHECK(!natomm_shared_site_is_down(a, 20));
    natomm_shared_site_up(a);
    CHECK(!natomm_shared_site_is_down(a, 10));
    natomm_shared_site_polled(a, 1234);
    CHECK_INT(natomm_shared_site_poll_time(a), 1234);
    /* the table is full after NATOMM_SHARED_SITES databases: no room, no state */
    for (i = 0; i < NATOMM_SHARED_SITES + 4; i++)
        natomm_shared_site_polled((apr_uint64_t)(1000 + i), 5);
    CHECK_INT(natomm_shared_site_poll_time(a), 1234);
    CHECK_INT(natomm_shared_site_poll_time(1000 + NATOMM_SHARED_SITES + 3), 0);
}

int main(void)
{
    apr_initialize();
    apr_pool_create(&pool, NULL);
    test_without_segment();
    test_key();
    test_revocation();
    test_health();
    apr_pool_destroy(pool);
    apr_terminate();
    return check_done("test_shared");
}
