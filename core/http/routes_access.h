/* routes_access: identifying the caller of a request, and the routes of
 * sessions, scope, users, tokens and the audit log (core/http/router.c lists
 * them). */
#ifndef FS_ROUTES_ACCESS_H
#define FS_ROUTES_ACCESS_H
#include "http.h"

struct principal;

/* Identify the caller of r from its session cookie or Bearer token. Returns
 * 1 with *out filled, 0 when the request carries no credentials, -1 when
 * they are invalid or expired (the router answers 401 for both), -2 when
 * the database fails (503), AUTH_REFUSED when it refused the request itself
 * with its reply already set (403 `csrf`: a cookie-authenticated
 * POST/PUT/DELETE whose Origin, or else Referer, does not name this Host).
 * The router sends that reply as it is. */
#define AUTH_REFUSED (-3)
int auth_identify(http_req *r, struct principal *out);

void auth_route_session_create(http_req *r);   /* POST /api/v1/session      public */
void auth_route_session_delete(http_req *r);   /* DELETE /api/v1/session    users */
void auth_route_me(http_req *r);               /* GET /api/v1/me            users */
void auth_route_regions(http_req *r);          /* GET /api/v1/regions       users */
void auth_route_stores(http_req *r);           /* GET /api/v1/stores        users */
void auth_route_users_list(http_req *r);       /* GET /api/v1/users         admin */
void auth_route_users_create(http_req *r);     /* POST /api/v1/users        admin */
void auth_route_users_update(http_req *r);     /* PUT /api/v1/users/{name}  admin */
void auth_route_users_delete(http_req *r);     /* DELETE /api/v1/users/{name} admin */
void auth_route_tokens_list(http_req *r);      /* GET /api/v1/tokens        admin */
void auth_route_tokens_create(http_req *r);    /* POST /api/v1/tokens       admin */
void auth_route_tokens_delete(http_req *r);    /* DELETE /api/v1/tokens/{name} admin */
void auth_route_audit(http_req *r);            /* GET /api/v1/audit         admin */
#endif
