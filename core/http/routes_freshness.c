/* routes_freshness: the data freshness route (see routes_freshness.h): a
 * connection, the domain's answer for the caller's scope, the reply. */
#include "routes_freshness.h"
#include "freshness.h"
#include "route_util.h"

void freshness_route(http_req *r)
{
    db_conn *c = route_db(r);
    if (!c) return;
    char err[512];
    int status;
    cJSON *o = freshness_json(c, r->who, &status, err, sizeof err);
    route_release(r, c);
    if (!o && status == 503) route_reply_db_unavailable(r, "freshness", err);
    else if (!o) route_reply_internal(r, "freshness", err);
    else http_reply_json(r, 200, o);
}
