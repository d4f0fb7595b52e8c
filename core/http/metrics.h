/* metrics: GET /metrics (Prometheus text format): the counters of
 * counters.h, the requests by route, method and status, and the pool. */
#ifndef FS_METRICS_H
#define FS_METRICS_H
#include <stdbool.h>
#include <stddef.h>
#include "counters.h"
#include "http.h"

struct app;

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
