/* metrics: process counters for GET /metrics (Prometheus text format). */
#ifndef FS_METRICS_H
#define FS_METRICS_H
#include <stdbool.h>
#include <stddef.h>
#include "http.h"

struct app;

enum metric {
    METRIC_IMPORT_ROWS,
    METRIC_IMPORT_FILES,
    METRIC_IMPORT_REJECTED,
    METRIC_SCORECARD_RUNS,
    METRIC_SCORECARD_BUDGET_KILLS,
    METRIC_PLUGIN_LOAD_FAILURES,
    METRIC_KPI_CACHE_HITS,
    METRIC_KPI_CACHE_MISSES,
    METRIC_LOGIN_FAILURES,
    METRIC__COUNT
};

/* Count n events (thread-safe, lock-free). */
void metrics_add(enum metric m, long long n);
long long metrics_get(enum metric m);
/* One answered HTTP request: route is the route table's pattern or "static"
 * (static strings; NULL when no route matched: counted as "unmatched");
 * a method other than GET HEAD POST PUT PATCH DELETE OPTIONS is counted as
 * "other". So the series stay few whatever clients send. */
void metrics_request(const char *method, const char *route, int status, double ms);
/* The whole text; malloc'd, *len set. NULL when out of memory. */
char *metrics_render(struct app *a, size_t *len);
/* GET /metrics */
void metrics_handle(http_req *r);
#endif
