/* routes_benchmarks: GET /api/v1/benchmarks?ids=&from=&to=, the group value
 * and store quartiles of KPIs over the whole group (core/http/router.c
 * lists it; the numbers are core/engine/benchmarks.c's). */
#ifndef FS_ROUTES_BENCHMARKS_H
#define FS_ROUTES_BENCHMARKS_H
#include "http.h"

void benchmarks_route(http_req *r);     /* GET /api/v1/benchmarks   users */
#endif
