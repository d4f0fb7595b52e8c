/* router: the table of /api/v1 routes and the one place where a request is
 * authenticated and checked against the roles of docs/api.md ("Roles") before its
 * handler runs. Handlers live with their subsystem (auth.c, import.c, kpi.c,
 * scorecard.c, ...); each subsystem exports its routes to the table here. */
#ifndef FS_ROUTER_H
#define FS_ROUTER_H
#include "http.h"

/* Who may call a route. */
enum {
    WHO_PUBLIC   = 1 << 0,   /* no credentials needed */
    WHO_ADMIN    = 1 << 1,
    WHO_EXEC     = 1 << 2,
    WHO_RM       = 1 << 3,   /* regional manager */
    WHO_SM       = 1 << 4,   /* store manager */
    WHO_UPLOADER = 1 << 5,   /* uploader token */
    WHO_METRICS  = 1 << 6,   /* metrics token */
};
#define WHO_USERS (WHO_ADMIN | WHO_EXEC | WHO_RM | WHO_SM)

typedef void (*route_fn)(http_req *r);
/* Streaming body: called per chunk; return false to stop reading (after setting an error reply). */
typedef bool (*route_body_fn)(http_req *r, const char *data, size_t len);

typedef struct route {
    const char *method;
    const char *pattern;       /* "/api/v1/scorecards/{name}/run" */
    unsigned who;
    route_fn handler;          /* called once the whole body is in (or streamed) */
    route_body_fn on_body;     /* non-NULL: the body is streamed to it, not buffered */
    route_fn on_cleanup;       /* non-NULL: called when the request ends, to free r->stream */
} route;

/* Find the route for method + path; fills r->params. *method_mismatch is set
 * when the path exists under another method (405). */
const route *router_match(http_req *r, const char *method, const char *path, bool *method_mismatch);
/* The methods the route table has for path, as "GET, PUT" (for Allow on a 405). */
size_t router_allowed_methods(const char *path, char *buf, size_t len);
/* Whether a caller of principal p may call rt at all (its role against the
 * route's who; a public route admits anyone, p NULL included). */
bool router_role_allows(const route *rt, const struct principal *p);
/* Whether rt is answered by the quick lane of workers (http_server.c):
 * health, GET /api/v1/me and signing out, which never wait behind KPI work. */
bool router_is_quick(const route *rt);
/* Authenticate and authorize r for its route; on refusal sets the 401/403 reply and returns false. */
bool router_authorize(http_req *r);
#endif
