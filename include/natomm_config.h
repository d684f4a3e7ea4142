/* Start-up: the checks configtest runs and the loads done once as root. */
#ifndef NATOMM_CONFIG_H
#define NATOMM_CONFIG_H

#include "httpd.h"
#include "natomm.h"

/* check_config hook: AuthType/SetHandler natomm need mod_dbd, a DBDriver
 * and (for the handler) the mail directives; password files are read and
 * socache providers looked up, so configtest refuses what start would. */
int natomm_check_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp,
                        server_rec *s);

/* Whether the configuration uses AuthType natomm or SetHandler natomm
 * (known after natomm_check_config). */
int natomm_config_in_use(void);

/* The password dictionary: built-in words plus NatommPasswordDictionary
 * files (default /usr/share/dict/words when present). */
void natomm_load_dictionary(apr_pool_t *p, server_rec *s, natomm_server_conf *c);

#endif
