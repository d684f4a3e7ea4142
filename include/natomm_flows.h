/* The account endpoints: one function per endpoint, and the handler that
 * routes /account/... to them. */
#ifndef NATOMM_FLOWS_H
#define NATOMM_FLOWS_H

#include "httpd.h"
#include "natomm.h"
#include "natomm_policy.h"

/* The "SetHandler natomm" handler. */
int natomm_flows_handler(request_rec *r);

/* Per child: the bound on concurrent password hashes, and a dummy hash so
 * that a login for an unknown address costs what a real one costs. */
void natomm_flows_child_init(apr_pool_t *p, server_rec *s);

/* The password dictionary, loaded once in the parent (post_config). */
void natomm_flows_set_dictionary(const natomm_dict_t *dict);

#endif
