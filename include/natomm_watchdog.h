/* The background work, on httpd's mod_watchdog (src/watchdog.c): mail
 * delivery, the purge of expired rows, and the database health mark. */
#ifndef NATOMM_WATCHDOG_H
#define NATOMM_WATCHDOG_H

#include "httpd.h"

/* post_config: registers the callback with a singleton child watchdog, so
 * one process of the server does the work. OK or a failure status. */
int natomm_watchdog_register(apr_pool_t *pconf, server_rec *s);

/* child_init: a child that exits first waits for a tick in progress (no
 * database connection out, no message half sent). */
void natomm_watchdog_child_init(apr_pool_t *pchild);

#endif
