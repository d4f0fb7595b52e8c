/* routes_scorecard: the routes of Lua scorecards (core/http/router.c lists
 * them): list, read, save, delete, restore, run a stored one, and try or
 * check an unsaved text. The domain is core/script/ (scorecard.h). */
#ifndef FS_ROUTES_SCORECARD_H
#define FS_ROUTES_SCORECARD_H
#include "http.h"

void scorecard_route_list(http_req *r);      /* GET    /api/v1/scorecards */
void scorecard_route_get(http_req *r);       /* GET    /api/v1/scorecards/{name} */
void scorecard_route_put(http_req *r);       /* PUT    /api/v1/scorecards/{name} */
void scorecard_route_delete(http_req *r);    /* DELETE /api/v1/scorecards/{name} */
void scorecard_route_restore(http_req *r);   /* POST   /api/v1/scorecards/{name}/restore */
void scorecard_route_run(http_req *r);       /* POST   /api/v1/scorecards/{name}/run */
void scorecard_route_try(http_req *r);       /* POST   /api/v1/scorecards/run (?check=1: compile only) */
#endif
