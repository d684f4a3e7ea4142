/* Newsletter endpoints: subscribe/unsubscribe for a logged-in account, and
 * the RFC 8058 one-click unsubscribe that needs no cookie.
 *
 * Consent is recorded with the row: when, from which client address, and
 * when it was withdrawn. The unsubscribe token is the account id with its
 * MAC under the site key, base64url: opaque, per account, unforgeable,
 * stored nowhere, and checked with a constant-time comparison.
 */
#include <string.h>
#include <openssl/crypto.h>
#include "httpd.h"
#include "http_core.h"
#include "http_protocol.h"
#include "apr_strings.h"

#include "natomm.h"
#include "natomm_flow.h"
#include "natomm_crypto.h"
#include "natomm_form.h"
#include "natomm_http.h"
#include "natomm_json.h"
#include "natomm_mail.h"
#include "natomm_store.h"

#define ID_BYTES 8
#define MAC_BYTES 24

static int unsubscribe_mac(natomm_ctx *c, apr_uint64_t id, unsigned char *mac)
{
    unsigned char full[32];
    const char *key = natomm_db_code_key(c->db);

    if (!key || !natomm_hmac(key, apr_psprintf(c->r->pool, "unsubscribe|%"
                             APR_UINT64_T_FMT, id), full))
        return 0;
    memcpy(mac, full, MAC_BYTES);
    return 1;
}

static const char *unsubscribe_token(natomm_ctx *c, const char *account_id)
{
    unsigned char raw[ID_BYTES + MAC_BYTES];
    apr_uint64_t id = apr_strtoi64(account_id, NULL, 10);
    int i;

    for (i = 0; i < ID_BYTES; i++)
        raw[i] = (unsigned char)(id >> (8 * (ID_BYTES - 1 - i)));
    if (!unsubscribe_mac(c, id, raw + ID_BYTES))
        return NULL;
    return natomm_b64url(c->r->pool, raw, sizeof(raw));
}

/* The account id a token names, or NULL when its MAC does not match. */
static const char *token_account(natomm_ctx *c, const char *token)
{
    unsigned char raw[ID_BYTES + MAC_BYTES + 1], mac[MAC_BYTES];
    apr_uint64_t id = 0;
    int i;

    if (natomm_b64url_decode(token, raw, sizeof(raw)) != ID_BYTES + MAC_BYTES)
        return NULL;
    for (i = 0; i < ID_BYTES; i++)
        id = (id << 8) | raw[i];
    if (!unsubscribe_mac(c, id, mac) || CRYPTO_memcmp(mac, raw + ID_BYTES, MAC_BYTES))
        return NULL;
    return apr_psprintf(c->r->pool, "%" APR_UINT64_T_FMT, id);
}

static const char *unsubscribe_url(natomm_ctx *c, const char *token)
{
    const char *path = apr_pstrcat(c->r->pool, c->mount, "/newsletter/unsubscribe?token=",
                                   token, NULL);
    if (c->conf->public_url)
        return apr_pstrcat(c->r->pool, c->conf->public_url, path, NULL);
    return ap_construct_url(c->r->pool, path, c->r);
}

/* The welcome mail: RFC 8058 headers, so mail clients offer one click. */
static int welcome_mail(natomm_ctx *c, const char **acct, const char *token)
{
    const char *url = unsubscribe_url(c, token);
    apr_table_t *vars = apr_table_make(c->r->pool, 2);

    apr_table_setn(vars, "unsubscribe_url", url);
    return natomm_mail_queue(c->db, c->r, acct[I_EMAIL], acct[I_LANG],
                             "newsletter_subscribed", vars,
                             apr_pstrcat(c->r->pool, "List-Unsubscribe: <", url,
                                         ">\r\nList-Unsubscribe-Post: "
                                         "List-Unsubscribe=One-Click\r\n", NULL));
}

int natomm_flow_newsletter(natomm_ctx *c)
{
    apr_pool_t *p = c->r->pool;
    natomm_session_info info;
    const char *sub, *acct[I_NCOLS], *token, *now;
    int on, n, rv = 0;

    if (!natomm_flow_need_session(c, &info)
        || !(sub = natomm_flow_required(c, "subscribe")))
        return OK;
    if (strcmp(sub, "1") && strcmp(sub, "0"))
        return natomm_send_error(c->r, HTTP_BAD_REQUEST, "invalid_request",
                                 "The field 'subscribe' must be 1 or 0.");
    on = sub[0] == '1';
    n = natomm_db_row(c->db, "natomm_acct_by_id",
                      (const char *[]){info.account_id}, acct, I_NCOLS);
    if (n <= 0 || natomm_db_begin(c->db))
        return natomm_flow_unavailable(c->r);
    now = natomm_db_num(p, natomm_now());
    if (on) {
        /* only a change from "not subscribed" is recorded and confirmed */
        n = natomm_db_exec(c->db, "natomm_news_subscribe", (const char *[]){
            now, natomm_client_ip(c->r), info.account_id});
        token = unsubscribe_token(c, info.account_id);
        if (n == 1)
            rv = token ? welcome_mail(c, acct, token) : -1;
    }
    else {
        natomm_db_exec(c->db, "natomm_news_unsubscribe",
                       (const char *[]){now, info.account_id});
    }
    if (rv || natomm_db_commit(c->db)) {
        natomm_db_rollback(c->db);
        return natomm_flow_unavailable(c->r);
    }
    natomm_flow_log(c, on ? "newsletter_subscribe" : "newsletter_unsubscribe",
                    info.account_id);
    return natomm_flow_status(c->r, HTTP_OK, on ? "subscribed" : "unsubscribed");
}

/* The token from the query string, or NULL after answering 400. */
static const char *query_token(natomm_ctx *c)
{
    apr_table_t *q;
    const char *t = NULL;

    if (c->r->args && !natomm_form_parse(c->r->pool, c->r->args,
                                         strlen(c->r->args), &q))
        t = apr_table_get(q, "token");
    /* echoed into the page: only the token alphabet may pass */
    if (!t || strlen(t) != 43 || strspn(t, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                        "abcdefghijklmnopqrstuvwxyz0123456789-_") != 43) {
        natomm_send_error(c->r, HTTP_BAD_REQUEST, "invalid_token",
                          "This unsubscribe link is not valid.");
        return NULL;
    }
    return t;
}

/* The page's language: the account's, else the browser's. */
static int page_in_french(natomm_ctx *c, const char *token)
{
    const char *account, *acct[I_NCOLS];

    if ((c->db || (c->db = natomm_db_acquire(c->r)))
        && (account = token_account(c, token))
        && natomm_db_row(c->db, "natomm_acct_by_id", (const char *[]){account},
                         acct, I_NCOLS) == 1 && acct[I_LANG])
        return !strcmp(acct[I_LANG], "fr");
    return !strcmp(natomm_flow_accept_language(c->r), "fr");
}

/* A small page of the module's own, under a CSP that allows nothing but
 * posting the form back here. */
static int send_page(request_rec *r, int fr, const char *title, const char *body)
{
    const char *page = apr_pstrcat(r->pool,
        "<!doctype html>\n<html lang=\"", fr ? "fr" : "en", "\"><head>"
        "<meta charset=\"utf-8\">"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
        "<title>", title, "</title></head>\n<body><main>\n", body,
        "\n</main></body></html>\n", NULL);

    ap_set_content_type(r, "text/html; charset=utf-8");
    apr_table_setn(r->headers_out, "Cache-Control", "no-store");
    apr_table_setn(r->headers_out, "Content-Security-Policy",
                   "default-src 'none'; form-action 'self'; frame-ancestors 'none'");
    apr_table_setn(r->headers_out, "X-Content-Type-Options", "nosniff");
    ap_set_content_length(r, strlen(page));
    if (!r->header_only)
        ap_rputs(page, r);
    return OK;
}

/* GET: a page with a button. Link scanners follow GETs, so GET changes
 * nothing; the button POSTs the one-click form. */
int natomm_flow_unsubscribe_page(natomm_ctx *c)
{
    request_rec *r = c->r;
    const char *token = query_token(c), *site;
    int fr;

    if (!token)
        return OK;
    fr = page_in_french(c, token);
    site = ap_escape_html(r->pool, c->conf->site_name);
    return send_page(r, fr, apr_pstrcat(r->pool, fr ? "Désabonnement" : "Unsubscribe",
                                        " — ", site, NULL),
        apr_pstrcat(r->pool, "<h1>",
            fr ? "Se désabonner de la lettre d'information " :
                 "Unsubscribe from the newsletter of ", site, "</h1>\n<p>",
            fr ? "Appuyez sur le bouton pour ne plus recevoir la lettre d'information."
               : "Press the button to stop receiving the newsletter.",
            "</p>\n<form method=\"post\" action=\"?token=", token, "\">"
            "<input type=\"hidden\" name=\"List-Unsubscribe\" value=\"One-Click\">"
            "<button type=\"submit\">", fr ? "Se désabonner" : "Unsubscribe",
            "</button></form>", NULL));
}

/* Whether the POST is a person's browser submitting the page's form (mail
 * providers' one-click POSTs are not navigations): it gets a page back. */
static int browser_navigation(request_rec *r)
{
    const char *mode = apr_table_get(r->headers_in, "Sec-Fetch-Mode");
    return mode && !strcasecmp(mode, "navigate");
}

static int unsubscribed(natomm_ctx *c, const char *token)
{
    int fr;

    if (!browser_navigation(c->r))
        return natomm_flow_status(c->r, HTTP_OK, "unsubscribed");
    fr = page_in_french(c, token);
    return send_page(c->r, fr, fr ? "Désabonné" : "Unsubscribed",
                     fr ? "<h1>Vous êtes désabonné</h1>\n<p>Vous ne recevrez plus "
                          "la lettre d'information.</p>"
                        : "<h1>You are unsubscribed</h1>\n<p>You will not receive "
                          "the newsletter any more.</p>");
}

/* POST with List-Unsubscribe=One-Click (RFC 8058): no cookie, no redirect;
 * JSON, or a page for a person's browser. */
int natomm_flow_unsubscribe(natomm_ctx *c)
{
    const char *token, *one, *account;

    if (!(token = query_token(c)))
        return OK;
    one = natomm_flow_field(c, "List-Unsubscribe");
    if (!one || strcmp(one, "One-Click"))
        return natomm_send_error(c->r, HTTP_BAD_REQUEST, "invalid_request",
                                 "Send List-Unsubscribe=One-Click.");
    if (!(c->db = natomm_db_acquire(c->r)))
        return natomm_flow_unavailable(c->r);
    if (!(account = token_account(c, token)))
        return natomm_send_error(c->r, HTTP_BAD_REQUEST, "invalid_token",
                                 "This unsubscribe link is not valid.");
    /* a deleted account has nothing left to unsubscribe: the same answer */
    if (natomm_db_exec(c->db, "natomm_news_unsubscribe", (const char *[]){
            natomm_db_num(c->r->pool, natomm_now()), account}) < 0)
        return natomm_flow_unavailable(c->r);
    natomm_flow_log(c, "newsletter_unsubscribe_oneclick", account);
    return unsubscribed(c, token);
}
