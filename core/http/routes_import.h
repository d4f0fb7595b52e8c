/* routes_import: POST /api/v1/import/{entity}, the CSV body streamed to the
 * importer (core/http/router.c lists the route). */
#ifndef FS_ROUTES_IMPORT_H
#define FS_ROUTES_IMPORT_H
#include <stdbool.h>
#include <stddef.h>
#include "http.h"

bool import_route_body(http_req *r, const char *data, size_t len);   /* each chunk of the body */
void import_route_done(http_req *r);                                   /* the body is in: the answer */
void import_route_cleanup(http_req *r);                                /* the request ends (or was cut off) */
#endif
