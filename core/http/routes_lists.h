/* routes_lists: the list routes (docs/api.md "Lists"), listed in
 * core/http/router.c; the engine is core/engine/lists_page.c. */
#ifndef FS_ROUTES_LISTS_H
#define FS_ROUTES_LISTS_H
#include "http.h"

void lists_route_catalogue(http_req *r);   /* GET /api/v1/lists         users */
void lists_route_page(http_req *r);        /* GET /api/v1/list          users */
void lists_route_export(http_req *r);      /* GET /api/v1/list/export   users */
#endif
