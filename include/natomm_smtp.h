/* The SMTP transport, through libcurl: smtp://, smtps://, STARTTLS, AUTH. */
#ifndef NATOMM_SMTP_H
#define NATOMM_SMTP_H

#include "apr_pools.h"

typedef enum { NATOMM_TLS_NONE, NATOMM_TLS_TRY, NATOMM_TLS_REQUIRED,
               NATOMM_TLS_IMPLICIT } natomm_tls_mode;

typedef struct {
    const char *url;          /* scheme://host:port, without user or query */
    const char *user;         /* NULL: no AUTH */
    const char *password;
    natomm_tls_mode tls;
    const char *cafile;       /* NULL: the system's CAs */
    int plaintext_auth;       /* ?plaintext-auth: AUTH without TLS accepted */
} natomm_smtp_t;

/* Parses smtp[s]://[user[:password]@]host[:port][?starttls[=try]][&cafile=/path]
 * [&plaintext-auth]. A user over smtp:// needs starttls (required) unless
 * plaintext-auth says the clear password is meant.
 * NULL on success, else a message (which never repeats the password). */
const char *natomm_smtp_parse(apr_pool_t *p, const char *url, natomm_smtp_t *out);

/* Reads an AUTH password from a file that only its owner may read.
 * NULL on success, else a message. */
const char *natomm_smtp_password_file(apr_pool_t *p, const char *path,
                                      natomm_smtp_t *smtp);

/* Sends message (RFC 5322, CRLF) from one address to one recipient.
 * NULL on success, else a reason for the log (no body, no password);
 * *permanent is set when the server refused for good (5xx). */
const char *natomm_smtp_send(apr_pool_t *p, const natomm_smtp_t *t,
                             const char *from, const char *helo,
                             const char *rcpt, const char *message,
                             int *permanent);

#endif
