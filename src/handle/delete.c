/* POST delete: the account and everything that hangs on it (see
 * natomm_handle.h). */
#include "natomm_handle.h"
#include "http_protocol.h"
#include "natomm_clock.h"
#include "natomm_crypto.h"

int natomm_handle_delete(natomm_ctx *c)
{
    natomm_session_info info;
    const char *acct[ACCT_NCOLS];

    if (natomm_cred_confirm(c, &info, "password", acct))
        return OK;
    if (natomm_db_begin(c->db))
        return natomm_reply_error(c->r, NATOMM_E_STORAGE_UNAVAILABLE);
    /* sessions, codes, reset tokens and the consent record go with the row;
     * a subscriber's address stays 90 days for the export's ?since= */
    natomm_db_exec(c->db, NATOMM_SQL_NEWS_DELETED, (const char *[]){
        natomm_random_id(c->r->pool), natomm_db_num(c->r->pool, natomm_now()),
        info.account_id});
    natomm_db_exec(c->db, NATOMM_SQL_ACCT_DELETE, (const char *[]){info.account_id});
    if (natomm_session_end_all(c->db, info.account_id)
        || natomm_session_end(c->db, c->r) || natomm_db_commit(c->db)) {
        natomm_db_rollback(c->db);
        natomm_session_unset_cookie(c->r);
        return natomm_reply_error(c->r, NATOMM_E_STORAGE_UNAVAILABLE);
    }
    natomm_session_revoked(c->r, info.account_id);
    natomm_ctx_log(c, "delete", info.account_id);
    return natomm_reply_status(c->r, HTTP_OK, "deleted");
}
