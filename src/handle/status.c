/* The "SetHandler natomm-status" handler (see natomm_handle.h). */
#include "natomm_handle.h"
#include <string.h>
#include "http_protocol.h"
#include "natomm_json.h"
#include "natomm_mail.h"

int natomm_status_handler(request_rec *r)
{
    natomm_mail_stats_t st;
    natomm_json *j;
    natomm_db *db;

    if (!r->handler || strcmp(r->handler, NATOMM_STATUS_HANDLER))
        return DECLINED;
    if (r->method_number != M_GET) {
        apr_table_setn(r->headers_out, "Allow", "GET, HEAD");
        return natomm_reply_error(r, NATOMM_E_METHOD_NOT_ALLOWED);
    }
    if (!(db = natomm_db_acquire(r)) || natomm_mail_stats(db, r->pool, &st) < 0)
        return natomm_reply_error(r, NATOMM_E_STORAGE_UNAVAILABLE);
    j = natomm_json_object(r->pool);
    natomm_json_int(j, "queued", st.queued);
    natomm_json_int(j, "oldest_age", st.oldest_age);
    natomm_json_int(j, "retrying", st.retrying);
    natomm_json_int(j, "failed", st.failed);
    natomm_json_int(j, "sent_last_hour", st.sent_last_hour);
    return natomm_reply_json(r, HTTP_OK, j);
}
