/* The RFC 8058 one-click unsubscribe, which needs no cookie: GET shows a
 * page with a button and changes nothing (link scanners follow GETs); POST
 * with List-Unsubscribe=One-Click unsubscribes (see natomm_handle.h). */
#include "natomm_handle.h"
#include <string.h>
#include "http_protocol.h"
#include "apr_strings.h"
#include "natomm_clock.h"
#include "natomm_form.h"
#include "natomm_lang.h"
#include "natomm_text.h"
#include "natomm_token.h"

/* The token from the query string: 0 and *token, or answered 400. */
static int query_token(natomm_ctx *c, const char **token)
{
    apr_table_t *q;

    *token = NULL;
    if (c->r->args && !natomm_form_parse(c->r->pool, c->r->args,
                                         strlen(c->r->args), &q))
        *token = apr_table_get(q, "token");
    /* echoed into the page: only the token alphabet may pass */
    if (!natomm_token_shape(*token))
        return natomm_ctx_fail(c, NATOMM_E_INVALID_TOKEN);
    return 0;
}

static const char *token_account(natomm_ctx *c, const char *token)
{
    return natomm_token_unsubscribe_account(c->r->pool, natomm_db_code_key(c->db),
                                            token);
}

/* The page's language: the account's, else the browser's. */
static int page_in_french(natomm_ctx *c, const char *token)
{
    const char *account, *acct[ACCT_NCOLS];

    if ((c->db || (c->db = natomm_db_acquire(c->r)))
        && (account = token_account(c, token))
        && natomm_db_row(c->db, NATOMM_SQL_ACCT_BY_ID, (const char *[]){account},
                         acct) == 1 && acct[ACCT_LANG])
        return !strcmp(acct[ACCT_LANG], "fr");
    return !strcmp(natomm_lang_accept(apr_table_get(c->r->headers_in,
                                                    "Accept-Language")), "fr");
}

/* A small page of the module's own in the site's clothes (its header, a
 * card, NatommStylesheet), under a CSP that allows nothing but the site's
 * own stylesheet and images and posting the form back here. */
static int send_page(natomm_ctx *c, int fr, const char *title, const char *body)
{
    request_rec *r = c->r;
    const char *site = natomm_text_html(r->pool, c->conf->site_name);
    const char *css = c->conf->stylesheet
        ? apr_pstrcat(r->pool, "<link rel=\"stylesheet\" href=\"",
                      natomm_text_html(r->pool, c->conf->stylesheet), "\">", NULL)
        : "";
    const char *page = apr_pstrcat(r->pool,
        "<!doctype html>\n<html lang=\"", fr ? "fr" : "en", "\"><head>"
        "<meta charset=\"utf-8\">"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
        "<title>", title, "</title>", css, "</head>\n<body>\n"
        "<header class=\"site-header\"><div class=\"bar\"><a class=\"brand\" href=\"",
        natomm_text_html(r->pool, natomm_cfg_base_url(r)), "/\"><span>", site,
        "</span></a></div></header>\n"
        "<main id=\"main\"><div class=\"narrow\"><section class=\"card\">\n", body,
        "\n<p><a href=\"", natomm_text_html(r->pool, natomm_cfg_base_url(r)), "/\">",
        fr ? "Retour au site" : "Back to the site", "</a></p>\n"
        "</section></div></main>\n</body></html>\n", NULL);

    ap_set_content_type(r, "text/html; charset=utf-8");
    apr_table_setn(r->headers_out, "Cache-Control", "no-store");
    apr_table_setn(r->headers_out, "Content-Security-Policy",
                   "default-src 'none'; style-src 'self'; img-src 'self'; "
                   "form-action 'self'; frame-ancestors 'none'; base-uri 'none'");
    apr_table_setn(r->headers_out, "X-Content-Type-Options", "nosniff");
    apr_table_setn(r->headers_out, "Referrer-Policy", "no-referrer");
    ap_set_content_length(r, strlen(page));
    if (!r->header_only)
        ap_rputs(page, r);
    return OK;
}

int natomm_handle_unsubscribe_page(natomm_ctx *c)
{
    request_rec *r = c->r;
    const char *token, *site;
    int fr;

    if (query_token(c, &token))
        return OK;
    fr = page_in_french(c, token);
    site = natomm_text_html(r->pool, c->conf->site_name);
    return send_page(c, fr, apr_pstrcat(r->pool, fr ? "Désabonnement" : "Unsubscribe",
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

static int answer_unsubscribed(natomm_ctx *c, const char *token)
{
    int fr;

    if (!browser_navigation(c->r))
        return natomm_reply_status(c->r, HTTP_OK, "unsubscribed");
    fr = page_in_french(c, token);
    return send_page(c, fr, fr ? "Désabonné" : "Unsubscribed",
                     fr ? "<h1>Vous êtes désabonné</h1>\n<p>Vous ne recevrez plus "
                          "la lettre d'information.</p>"
                        : "<h1>You are unsubscribed</h1>\n<p>You will not receive "
                          "the newsletter any more.</p>");
}

int natomm_handle_unsubscribe(natomm_ctx *c)
{
    const char *token, *one, *account;

    if (query_token(c, &token))
        return OK;
    one = natomm_ctx_field(c, "List-Unsubscribe");
    if (!one || strcmp(one, "One-Click"))
        return natomm_reply_bad_field(c->r, "List-Unsubscribe");
    if (natomm_ctx_db(c))
        return OK;
    if (!(account = token_account(c, token)))
        return natomm_reply_error(c->r, NATOMM_E_INVALID_TOKEN);
    /* a deleted account has nothing left to unsubscribe: the same answer */
    if (natomm_db_exec(c->db, NATOMM_SQL_NEWS_UNSUBSCRIBE, (const char *[]){
            natomm_db_num(c->r->pool, natomm_now()), account}) < 0)
        return natomm_reply_error(c->r, NATOMM_E_STORAGE_UNAVAILABLE);
    natomm_ctx_log(c, "newsletter_unsubscribe_oneclick", account);
    return answer_unsubscribed(c, token);
}
