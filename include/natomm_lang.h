/* The languages of mail and pages (English, French) from a tag or an
 * Accept-Language header. Pure: no httpd types. */
#ifndef NATOMM_LANG_H
#define NATOMM_LANG_H

#include <stddef.h>

/* "en" or "fr" for a tag such as "fr", "fr-BE", "en_GB" (n bytes), else NULL. */
const char *natomm_lang_known(const char *tag, size_t n);

/* The first of English or French with the highest q in an Accept-Language
 * value; "en" when it names neither (or header is NULL). */
const char *natomm_lang_accept(const char *header);

#endif
