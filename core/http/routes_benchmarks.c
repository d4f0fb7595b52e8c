/* routes_benchmarks: the benchmarks route (see routes_benchmarks.h): the
 * query's ids, from and to, the engine's answer, the reply; a 403 when an
 * admin has switched benchmarks off for the caller. */
#include "routes_benchmarks.h"
#include "benchmarks.h"
#include "kpi.h"
#include "route_util.h"
#include "routes_kpi.h"

void benchmarks_route(http_req *r)
{
    char idbuf[8192], err[512];
    const char *ids[KPI_MAX_IDS];
    int nids = kpi_split_list(http_query(r, "ids"), idbuf, sizeof idbuf, ids, KPI_MAX_IDS);
    if (nids < 0) {
        http_reply_bad_parameter(r, "ids", "列表过长 (ids: the list is too long, at most %d values in one query)", KPI_MAX_IDS);
        return;
    }
    int status;
    cJSON *o = benchmarks_json(r->app, r->who, ids, nids, http_query(r, "from"), http_query(r, "to"), &status, err,
                               sizeof err);
    if (o) http_reply_json(r, 200, o);
    else if (status == 400) http_reply_error(r, 400, API_BAD_PARAMETER, err, NULL);
    else if (status == 403) http_reply_error(r, 403, API_BENCHMARKS_OFF, err, NULL);
    else if (status == 503) http_reply_error(r, 503, API_DB_UNAVAILABLE, err, NULL);
    else route_reply_internal(r, "benchmarks", err);
}
