/* Exports as RFC 4180 CSV in UTF-8: the newsletter's subscribers (and its
 * unsubscribes since a time), and the accounts. One writer serves the
 * "SetHandler natomm-subscribers" handler and natommctl, so both give the
 * same bytes. Pure: C and APR (and the unsubscribe token of token.c).
 *
 * A cell that a spreadsheet would run as a formula (it begins with =, +,
 * -, @, a TAB or a CR) gets a leading apostrophe, the OWASP advice against
 * CSV injection: "'=1+2". A program that reads the file strips one leading
 * apostrophe from such a cell. */
#ifndef NATOMM_EXPORT_H
#define NATOMM_EXPORT_H

#include "apr.h"
#include "apr_pools.h"

/* One cell: NULL is the empty cell; quoted when it holds a comma, a double
 * quote, CR or LF (quotes doubled), and guarded as above. */
const char *natomm_export_cell(apr_pool_t *p, const char *value);
/* A record: cells joined by commas, ended by CRLF. */
char *natomm_export_record(apr_pool_t *p, const char *const *cells, int n);

/* Unix seconds (as text, as the database gives them) as ISO 8601 UTC,
 * "2025-01-03T08:04:03Z"; "" for NULL or no number. */
const char *natomm_export_time(apr_pool_t *p, const char *unix_seconds);

/* A time given by a person: Unix seconds ("1735891443"), a date
 * ("2025-01-03", midnight UTC), a date and time ("2025-01-03T08:04:03Z",
 * "2025-01-03 08:04", UTC), or a duration back from now ("7d", "12h").
 * NULL and *out, or why not. */
const char *natomm_export_parse_time(const char *text, apr_int64_t now,
                                     apr_int64_t *out);

/* The prefix of an address kept as consent source: IPv4 by its /24, IPv6
 * by its /48 ("192.0.2.0/24", "2001:db8:1::/48"); "" for NULL, anything
 * else as it is. */
const char *natomm_export_ip_prefix(apr_pool_t *p, const char *ip);

/* ---- subscribers ------------------------------------------------------ */

typedef struct {
    const char *id, *email, *name, *organisation, *language;
    const char *subscribed_at, *consent_ip, *withdrawn_at;  /* Unix seconds */
} natomm_export_subscriber_t;

/* The header record: the subscribers, or (since) the unsubscribes. */
const char *natomm_export_subscribers_header(int since);

/* One subscriber's record, with its ready-made List-Unsubscribe URL:
 * unsubscribe_base (".../account/newsletter/unsubscribe?token=") followed
 * by natomm_token_unsubscribe of code_key; with since, an unsubscribe's
 * record (no URL). NULL when the token cannot be made. */
char *natomm_export_subscriber(apr_pool_t *p, const natomm_export_subscriber_t *s,
                               const char *code_key, const char *unsubscribe_base,
                               int since);

/* The value of List-Unsubscribe-Post for every recipient (RFC 8058). */
#define NATOMM_EXPORT_ONE_CLICK "List-Unsubscribe=One-Click"

/* ---- accounts --------------------------------------------------------- */

typedef struct {
    const char *id, *email, *name, *organisation, *language;
    const char *created_at, *verified_at, *disabled_at;      /* Unix seconds */
    const char *newsletter, *newsletter_at, *failed_logins;
} natomm_export_account_t;

const char *natomm_export_accounts_header(void);
char *natomm_export_account(apr_pool_t *p, const natomm_export_account_t *a);

#endif
