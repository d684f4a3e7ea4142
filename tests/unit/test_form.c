/* Unit tests for src/form.c: application/x-www-form-urlencoded bodies. */
#include <string.h>
#include "apr_general.h"
#include "apr_strings.h"
#include "apr_tables.h"
#include "natomm_form.h"
#include "check.h"

static apr_pool_t *pool;

/* Parses a C-string body; NULL when refused. */
static apr_table_t *parse(const char *body)
{
    apr_table_t *t = NULL;
    const char *err = natomm_form_parse(pool, body, strlen(body), &t);
    return err ? NULL : t;
}

static int nfields(const apr_table_t *t)
{
    return t ? apr_table_elts(t)->nelts : -1;
}

static void refused(const char *body, size_t len, int line)
{
    apr_table_t *t = NULL;
    const char *err = natomm_form_parse(pool, body, len, &t);
    char *shown = apr_pstrmemdup(pool, body, len);
    size_t i;

    for (i = 0; i < len; i++)          /* printable in the message */
        if ((unsigned char)shown[i] < 0x20 || (unsigned char)shown[i] >= 0x7f)
            shown[i] = '?';
    check_report(err != NULL && *err != '\0', __FILE__, line,
                 "form refused", "body \"%s\" (%zu bytes) was accepted",
                 shown, len);
}
#define REFUSED(body) refused((body), strlen(body), __LINE__)
#define REFUSED_N(body, n) refused((body), (n), __LINE__)

static void test_accepts(void)
{
    apr_table_t *t;

    t = parse("email=jane%40example.org&password=Secret%21");
    CHECK_INT(nfields(t), 2);
    CHECK_STR(t ? apr_table_get(t, "email") : NULL, "jane@example.org");
    CHECK_STR(t ? apr_table_get(t, "password") : NULL, "Secret!");

    t = parse("name=Jane+Doe");
    CHECK_STR(t ? apr_table_get(t, "name") : NULL, "Jane Doe");
    t = parse("name=a%2Bb");                       /* an encoded plus stays */
    CHECK_STR(t ? apr_table_get(t, "name") : NULL, "a+b");
    t = parse("x=%41%62%7e");
    CHECK_STR(t ? apr_table_get(t, "x") : NULL, "Ab~");
    t = parse("x=%4a%4A");                          /* either hex case */
    CHECK_STR(t ? apr_table_get(t, "x") : NULL, "JJ");
    t = parse("%65mail=a");                         /* names are decoded too */
    CHECK_STR(t ? apr_table_get(t, "email") : NULL, "a");
    t = parse("first+name=Jane");
    CHECK_STR(t ? apr_table_get(t, "first name") : NULL, "Jane");
    t = parse("a=b=c");                             /* only the first = splits */
    CHECK_STR(t ? apr_table_get(t, "a") : NULL, "b=c");
    t = parse("a=%26%3D");
    CHECK_STR(t ? apr_table_get(t, "a") : NULL, "&=");

    /* empty values and fields without "=" */
    t = parse("a=");
    CHECK_INT(nfields(t), 1);
    CHECK_STR(t ? apr_table_get(t, "a") : NULL, "");
    t = parse("remember");
    CHECK_INT(nfields(t), 1);
    CHECK_STR(t ? apr_table_get(t, "remember") : NULL, "");
    t = parse("a=1&remember&b=2");
    CHECK_INT(nfields(t), 3);
    CHECK_STR(t ? apr_table_get(t, "remember") : NULL, "");

    /* empty pairs are skipped */
    t = parse("a=1&");
    CHECK_INT(nfields(t), 1);
    CHECK_STR(t ? apr_table_get(t, "a") : NULL, "1");
    t = parse("a=1&&b=2");
    CHECK_INT(nfields(t), 2);
    CHECK_STR(t ? apr_table_get(t, "a") : NULL, "1");
    CHECK_STR(t ? apr_table_get(t, "b") : NULL, "2");
    t = parse("&a=1");
    CHECK_INT(nfields(t), 1);
    t = parse("");
    CHECK_INT(nfields(t), 0);
    t = parse("&");
    CHECK_INT(nfields(t), 0);
    t = parse("&&&");
    CHECK_INT(nfields(t), 0);

    /* UTF-8, encoded and raw; NBSP and U+2028 are not control characters */
    t = parse("name=%C3%89lodie");
    CHECK_STR(t ? apr_table_get(t, "name") : NULL, "\xC3\x89lodie");
    t = parse("name=\xC3\x89lodie");
    CHECK_STR(t ? apr_table_get(t, "name") : NULL, "\xC3\x89lodie");
    t = parse("name=%E6%BC%A2%F0%9F%98%80");
    CHECK_STR(t ? apr_table_get(t, "name") : NULL, "\xE6\xBC\xA2\xF0\x9F\x98\x80");
    t = parse("name=a%C2%A0b");
    CHECK_STR(t ? apr_table_get(t, "name") : NULL, "a\xC2\xA0" "b");
    t = parse("x=%F4%8F%BF%BF");                    /* U+10FFFF, the last */
    CHECK_STR(t ? apr_table_get(t, "x") : NULL, "\xF4\x8F\xBF\xBF");

    /* only len bytes are read: the rest of the buffer is not the body */
    {
        const char *body = "a=1&b=2";
        apr_table_t *u = NULL;
        CHECK_NULL(natomm_form_parse(pool, body, 3, &u));
        CHECK_INT(nfields(u), 1);
        CHECK_STR(u ? apr_table_get(u, "a") : NULL, "1");
        CHECK_NULL(u ? apr_table_get(u, "b") : NULL);
        CHECK_NULL(natomm_form_parse(pool, "a=%41zz", 5, &u));
        CHECK_STR(u ? apr_table_get(u, "a") : NULL, "A");
    }
    /* an escape cut by the body's end is malformed even if the buffer goes on */
    REFUSED_N("a=%41", 4);
    REFUSED_N("a=%41", 3);
}

static void test_refuses(void)
{
    /* malformed escapes */
    REFUSED("a=%4");
    REFUSED("a=%");
    REFUSED("a=%%");
    REFUSED("a=%zz");
    REFUSED("a=%4z");
    REFUSED("a=%z4");
    REFUSED("a=%+41");
    REFUSED("a=% 4");
    REFUSED("%zz=1");
    REFUSED("a%=1");
    /* NUL and control characters, encoded and raw */
    REFUSED("a=%00");
    REFUSED("a=x%00y");
    REFUSED("%00=1");
    REFUSED("a=%01");
    REFUSED("a=%09");
    REFUSED("a=%0A");
    REFUSED("a=%0d%0a");
    REFUSED("a=%1F");
    REFUSED("a=%7F");
    REFUSED("a=%C2%80");                /* C1 controls */
    REFUSED("a=%C2%85");
    REFUSED("a=%C2%9F");
    REFUSED("a=\x01");
    REFUSED("a=x\ty");
    REFUSED("a=x\r\ny");
    REFUSED("a=x\ny");
    REFUSED("a=\x1b[2J");
    REFUSED("a=\x7f");
    REFUSED("a\x01=1");
    REFUSED_N("a=x\0y", 5);             /* a raw NUL inside the body */
    REFUSED_N("a=1&\0=2", 7);
    /* invalid UTF-8 */
    REFUSED("a=%C3%28");
    REFUSED("a=%C3");                   /* truncated */
    REFUSED("a=%E6%BC");
    REFUSED("a=%80");                   /* lone continuation */
    REFUSED("a=%BF");
    REFUSED("a=%C0%AF");                /* overlong "/" */
    REFUSED("a=%C1%81");
    REFUSED("a=%E0%80%AF");
    REFUSED("a=%F0%80%80%AF");
    REFUSED("a=%ED%A0%80");             /* surrogates */
    REFUSED("a=%ED%BF%BF");
    REFUSED("a=%F4%90%80%80");          /* above U+10FFFF */
    REFUSED("a=%F5%80%80%80");
    REFUSED("a=%FE");
    REFUSED("a=%FF");
    REFUSED("a=\xFF");
    REFUSED("a=\xC3\x28");
    REFUSED("a=\xED\xA0\x80");
    REFUSED("\xC0\xAF=1");
    /* a field twice, with or without values */
    REFUSED("a=1&a=2");
    REFUSED("a=1&a=1");
    REFUSED("a&a");
    REFUSED("a=1&b=2&a=3");
    REFUSED("a=1&%61=2");               /* the same name once decoded */
    /* a field without a name */
    REFUSED("=x");
    REFUSED("=");
    REFUSED("a=1&=2");
}

static void test_content_type(void)
{
    CHECK(natomm_form_is_urlencoded("application/x-www-form-urlencoded"));
    CHECK(natomm_form_is_urlencoded("application/x-www-form-urlencoded; charset=UTF-8"));
    CHECK(natomm_form_is_urlencoded("application/x-www-form-urlencoded;charset=utf-8"));
    CHECK(natomm_form_is_urlencoded("Application/X-WWW-Form-URLEncoded"));
    CHECK(!natomm_form_is_urlencoded("application/json"));
    CHECK(!natomm_form_is_urlencoded("application/x-www-form-urlencodedX"));
    CHECK(!natomm_form_is_urlencoded("application/x-www-form-urlencoded-x"));
    CHECK(!natomm_form_is_urlencoded("application/x-www-form"));
    CHECK(!natomm_form_is_urlencoded("multipart/form-data; boundary=x"));
    CHECK(!natomm_form_is_urlencoded("text/plain"));
    CHECK(!natomm_form_is_urlencoded("xapplication/x-www-form-urlencoded"));
    CHECK(!natomm_form_is_urlencoded(""));
    CHECK(!natomm_form_is_urlencoded(NULL));
}

/* natomm_form_control_field names the field whose value holds a control */
static void test_control_field(void)
{
    const char *b1 = "email=a%40b.c%0d%0aBcc:x%40y&password=x";
    const char *b2 = "email=a%40b.c&name=x%00y";
    const char *b3 = "email=a%40b.c&name=ok";
    const char *b4 = "name=tab%09here&email=a%40b.c%0a";

    CHECK_STR(natomm_form_control_field(pool, b1, strlen(b1)), "email");
    CHECK_STR(natomm_form_control_field(pool, b2, strlen(b2)), "name");
    CHECK_NULL(natomm_form_control_field(pool, b3, strlen(b3)));
    CHECK_STR(natomm_form_control_field(pool, b4, strlen(b4)), "name");
}

int main(void)
{
    apr_initialize();
    apr_pool_create(&pool, NULL);
    test_accepts();
    test_refuses();
    test_content_type();
    test_control_field();
    apr_pool_destroy(pool);
    apr_terminate();
    return check_done("test_form");
}
