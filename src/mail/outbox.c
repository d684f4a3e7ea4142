/* The outbox: a message rendered from its template and written in the
 * caller's transaction (see natomm_mail.h). */
#include "natomm_mail.h"
#include <string.h>
#include "http_log.h"
#include "apr_strings.h"
#include "apr_file_io.h"
#include "natomm_cfg.h"
#include "natomm_clock.h"
#include "natomm_crypto.h"
#include "natomm_template.h"

#define TEMPLATE_MAX 65536

/* The built-in copy of a template, or NULL. */
static char *builtin_template(apr_pool_t *p, const char *lang, const char *name)
{
    const char *key = apr_pstrcat(p, lang, "/", name, NULL);
    int i;

    for (i = 0; natomm_templates[i].name; i++)
        if (!strcmp(natomm_templates[i].name, key))
            return apr_pstrdup(p, natomm_templates[i].text);
    return NULL;
}

/* The template from NatommMailTemplates, else the one built in. */
static char *read_template(apr_pool_t *p, const char *dir, const char *lang,
                           const char *name)
{
    const char *path = apr_pstrcat(p, dir, "/", lang, "/", name, ".txt", NULL);
    apr_file_t *f;
    apr_finfo_t fi;
    char *buf = NULL;
    apr_size_t n;

    if (apr_file_open(&f, path, APR_FOPEN_READ, APR_OS_DEFAULT, p) != APR_SUCCESS)
        return builtin_template(p, lang, name);
    if (apr_file_info_get(&fi, APR_FINFO_SIZE, f) == APR_SUCCESS
        && fi.size <= TEMPLATE_MAX) {
        n = (apr_size_t)fi.size;
        buf = apr_palloc(p, n + 1);
        if (apr_file_read_full(f, buf, n, &n) != APR_SUCCESS && n == 0)
            buf = NULL;
        else
            buf[n] = '\0';
    }
    apr_file_close(f);
    return buf;
}

static const char *template_text(apr_pool_t *p, const natomm_server_conf *conf,
                                 const char *lang, const char *name)
{
    const char *text = read_template(p, conf->mail_templates, lang, name);
    return text ? text : read_template(p, conf->mail_templates, "en", name);
}

/* Newsletter mail names its list (RFC 2919), so that mail clients and
 * filters can tell it from the account mail: <newsletter.DOMAIN>, the
 * domain of NatommMailFrom, with the site's name when it is plain ASCII. */
static const apr_array_header_t *with_list_id(apr_pool_t *p,
                                              const natomm_server_conf *conf,
                                              const natomm_mail_t *mail)
{
    apr_array_header_t *h;
    natomm_mime_header_t *e;
    const char *id, *name = conf->site_name;
    int plain = name && *name && !strpbrk(name, "\"\\<>");
    const char *c;

    if (strncmp(mail->name, "newsletter", 10))
        return mail->headers;
    for (c = name; plain && *c; c++)
        plain = *c >= 0x20 && *c < 0x7f;
    h = mail->headers ? apr_array_copy(p, mail->headers)
                      : apr_array_make(p, 1, sizeof(natomm_mime_header_t));
    id = apr_pstrcat(p, "<newsletter.", natomm_mime_domain(p, conf->mail_from), ">", NULL);
    e = apr_array_push(h);
    e->name = "List-Id";
    e->value = plain ? apr_pstrcat(p, "\"", name, "\" ", id, NULL) : id;
    return h;
}

/* The message of a template, or NULL (logged). */
static char *render(apr_pool_t *p, server_rec *s, const natomm_mail_t *mail)
{
    natomm_server_conf *conf = natomm_cfg_server(s);
    const char *text = template_text(p, conf, mail->lang, mail->name), *err;
    natomm_mime_t m = {conf->mail_from, mail->to, NULL, NULL, apr_time_now(),
                       natomm_token(p), with_list_id(p, conf, mail)};
    char *out = NULL;

    apr_table_setn(mail->vars, "site", conf->site_name);
    err = text ? natomm_template_split(p, natomm_template_fill(p, text, mail->vars),
                                       &m.subject, &m.text)
               : "it is missing";
    if (!err && !m.unique)
        err = "no random bytes for its Message-ID";
    if (!err)
        err = natomm_mime_build(p, &m, &out);
    if (err) {
        ap_log_error(APLOG_MARK, APLOG_ERR, 0, s, "NATOMM: mail template "
                     "%s/%s/%s.txt not sent: %s", conf->mail_templates,
                     mail->lang, mail->name, err);
        return NULL;
    }
    return out;
}

int natomm_mail_queue(natomm_db *db, server_rec *s, apr_pool_t *p,
                      const natomm_mail_t *m)
{
    char *message = render(p, s, m);

    if (!message)
        return -1;
    return natomm_db_exec(db, NATOMM_SQL_OUTBOX_INSERT, (const char *[]){
        natomm_random_id(p), m->to, message, natomm_db_num(p, natomm_now()),
        natomm_db_num(p, natomm_now_ms())}) == 1 ? 0 : -1;
}
