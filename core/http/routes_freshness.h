/* routes_freshness: GET /api/v1/freshness, how far each store's data goes
 * for the stores in the caller's scope (core/http/router.c lists it; the
 * answer is core/data/freshness.c's). */
#ifndef FS_ROUTES_FRESHNESS_H
#define FS_ROUTES_FRESHNESS_H
#include "http.h"

void freshness_route(http_req *r);      /* GET /api/v1/freshness   users */
#endif
