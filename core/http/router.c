/* router: the one table of HTTP routes (/api/v1/... and /metrics), path
 * matching with {name} segments, and the single place where a caller is
 * identified (auth_identify) and checked against the route's roles before
 * any handler runs. Handlers live with their subsystem; each subsystem adds
 * its own lines to the table below. The health route lives here. */
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "router.h"
#include "app.h"
#include "auth.h"
#include "db.h"
#include "log.h"
#include "routes_kpi.h"
#include "routes_lists.h"
#include "routes_scorecard.h"
#include "routes_import.h"
#include "routes_export.h"
#include "metrics.h"
#include "routes_access.h"
#include "routes_freshness.h"
#include "routes_alerts.h"
#include "routes_benchmarks.h"

/* --- the health route --- */

/* GET /api/v1/health: public. 200 when the database answers a fresh ping
 * (on the pool's own probe connection, so a busy pool does not delay it)
 * within HEALTH_WAIT_MS, else 503, whatever the database does. */
#define HEALTH_WAIT_MS 1000

static void route_health(http_req *r)
{
    char err[256] = "";
    bool up = db_pool_check(r->app->db, HEALTH_WAIT_MS, err, sizeof err);
    cJSON *body = cJSON_CreateObject();
    if (!body) {
        http_reply_error(r, 500, API_INTERNAL, "out of memory", NULL);
        return;
    }
    cJSON_AddStringToObject(body, "status", up ? "ok" : "down");
    cJSON_AddStringToObject(body, "db", up ? "ok" : "down");
    if (!up) log_warn("http", "health: database does not answer: %s", err);
    http_reply_json(r, up ? 200 : 503, body);
}

/* --- the route table --- */

/* One line per route: method, pattern, who may call it, handler, and for a
 * streamed body on_body + on_cleanup. Patterns are exact paths with {name}
 * segments that match one path segment each (available in r->params, in
 * order). Keep one block per subsystem, each with its comment. */
static const route routes[] = {
    /* health (router.c): public, for load balancers and monitoring */
    { "GET", "/api/v1/health", WHO_PUBLIC, route_health, NULL, NULL },
    /* import (routes_import.c): the CSV body is streamed to the importer as it arrives */
    { "POST", "/api/v1/import/{entity}", WHO_ADMIN | WHO_UPLOADER, import_route_done, import_route_body, import_route_cleanup },
    /* auth (auth.c): sessions, the caller's scope, regions and stores in scope, users, tokens, audit */
    { "POST", "/api/v1/session", WHO_PUBLIC, auth_route_session_create, NULL, NULL },
    { "DELETE", "/api/v1/session", WHO_USERS, auth_route_session_delete, NULL, NULL },
    { "GET", "/api/v1/me", WHO_USERS, auth_route_me, NULL, NULL },
    { "GET", "/api/v1/regions", WHO_USERS, auth_route_regions, NULL, NULL },
    { "GET", "/api/v1/stores", WHO_USERS, auth_route_stores, NULL, NULL },
    { "GET", "/api/v1/users", WHO_ADMIN, auth_route_users_list, NULL, NULL },
    { "POST", "/api/v1/users", WHO_ADMIN, auth_route_users_create, NULL, NULL },
    { "PUT", "/api/v1/users/{name}", WHO_ADMIN, auth_route_users_update, NULL, NULL },
    { "DELETE", "/api/v1/users/{name}", WHO_ADMIN, auth_route_users_delete, NULL, NULL },
    { "GET", "/api/v1/tokens", WHO_ADMIN, auth_route_tokens_list, NULL, NULL },
    { "POST", "/api/v1/tokens", WHO_ADMIN, auth_route_tokens_create, NULL, NULL },
    { "DELETE", "/api/v1/tokens/{name}", WHO_ADMIN, auth_route_tokens_delete, NULL, NULL },
    { "GET", "/api/v1/audit", WHO_ADMIN, auth_route_audit, NULL, NULL },
    /* kpi (kpi.c): the catalogue, KPI queries and batches, KPI settings, plugins */
    { "GET", "/api/v1/kpis", WHO_USERS, kpi_route_catalogue, NULL, NULL },
    { "GET", "/api/v1/kpi", WHO_USERS, kpi_route_query, NULL, NULL },
    { "POST", "/api/v1/kpi/batch", WHO_USERS, kpi_route_batch, NULL, NULL },
    { "GET", "/api/v1/settings", WHO_USERS, kpi_route_settings_get, NULL, NULL },
    { "PUT", "/api/v1/settings", WHO_ADMIN, kpi_route_settings_put, NULL, NULL },
    { "GET", "/api/v1/plugins", WHO_ADMIN, kpi_route_plugins, NULL, NULL },
    /* lists (lists_page.c): the catalogue, a page, the whole list as a file */
    { "GET", "/api/v1/lists", WHO_USERS, lists_route_catalogue, NULL, NULL },
    { "GET", "/api/v1/list", WHO_USERS, lists_route_page, NULL, NULL },
    { "GET", "/api/v1/list/export", WHO_USERS, lists_route_export, NULL, NULL },
    /* freshness (routes_freshness.c): how far each store's data goes, for the stores in scope */
    { "GET", "/api/v1/freshness", WHO_USERS, freshness_route, NULL, NULL },
    /* benchmarks (routes_benchmarks.c): group value and store quartiles over the whole group, no store named */
    { "GET", "/api/v1/benchmarks", WHO_USERS, benchmarks_route, NULL, NULL },
    /* scorecards (routes_scorecard.c): Lua scorecards; the source for whoever may run it; save and delete for the owner and admins (checked inside) */
    { "POST", "/api/v1/scorecards/run", WHO_ADMIN | WHO_RM, scorecard_route_try, NULL, NULL },
    { "GET", "/api/v1/scorecards", WHO_USERS, scorecard_route_list, NULL, NULL },
    { "GET", "/api/v1/scorecards/{name}", WHO_ADMIN | WHO_EXEC | WHO_RM, scorecard_route_get, NULL, NULL },
    { "PUT", "/api/v1/scorecards/{name}", WHO_ADMIN | WHO_RM, scorecard_route_put, NULL, NULL },
    { "DELETE", "/api/v1/scorecards/{name}", WHO_ADMIN | WHO_RM, scorecard_route_delete, NULL, NULL },
    { "POST", "/api/v1/scorecards/{name}/restore", WHO_ADMIN | WHO_RM, scorecard_route_restore, NULL, NULL },
    { "POST", "/api/v1/scorecards/{name}/run", WHO_ADMIN | WHO_EXEC | WHO_RM, scorecard_route_run, NULL, NULL },
    /* alerts (routes_alerts.c): rules for admins and regional managers (owner checked inside), alerts in scope,
     * every user's own report subscriptions */
    { "GET", "/api/v1/alert-rules", WHO_ADMIN | WHO_RM, alert_rules_route_list, NULL, NULL },
    { "PUT", "/api/v1/alert-rules/{name}", WHO_ADMIN | WHO_RM, alert_rules_route_put, NULL, NULL },
    { "DELETE", "/api/v1/alert-rules/{name}", WHO_ADMIN | WHO_RM, alert_rules_route_delete, NULL, NULL },
    { "POST", "/api/v1/alert-rules/{name}/test", WHO_ADMIN | WHO_RM, alert_rules_route_test, NULL, NULL },
    { "GET", "/api/v1/alerts", WHO_USERS, alerts_route_list, NULL, NULL },
    { "GET", "/api/v1/subscriptions", WHO_USERS, subscriptions_route_list, NULL, NULL },
    { "PUT", "/api/v1/subscriptions/{name}", WHO_USERS, subscriptions_route_put, NULL, NULL },
    { "DELETE", "/api/v1/subscriptions/{name}", WHO_USERS, subscriptions_route_delete, NULL, NULL },
    /* export (export.c): a table the caller was shown, as CSV or .xlsx */
    { "POST", "/api/v1/export", WHO_USERS, export_handle, NULL, NULL },
    /* metrics (metrics.c): Prometheus text for admins and metrics tokens */
    { "GET", "/metrics", WHO_ADMIN | WHO_METRICS, metrics_handle, NULL, NULL },
};

#define NROUTES (sizeof routes / sizeof routes[0])

/* --- matching --- */

/* Match path against pattern; on success fill params (decoded segments). */
static bool pattern_match(const char *pattern, const char *path,
                          char params[][130], int *nparams)
{
    int n = 0;
    const char *p = pattern, *s = path;
    while (*p && *s) {
        if (*p == '{') {
            const char *close = strchr(p, '}');
            if (!close) return false;
            size_t seg = strcspn(s, "/");
            if (seg == 0 || seg >= sizeof params[0] || n >= HTTP_MAX_PARAMS) return false;
            memcpy(params[n], s, seg);
            params[n][seg] = '\0';
            n++;
            p = close + 1;
            s += seg;
            continue;
        }
        if (*p != *s) return false;
        p++;
        s++;
    }
    if (*p || *s) return false;
    *nparams = n;
    return true;
}

/* The first segments of the table's patterns ("api", "metrics"), found once:
 * a path whose first segment is none of them (a file of the web root) is no
 * route without trying each pattern. any_first: a pattern starts with a
 * {name} segment, or there are too many to list; every path is tried. */
#define FIRST_SEGS_MAX 8
static struct { const char *seg[FIRST_SEGS_MAX]; size_t len[FIRST_SEGS_MAX]; size_t n; bool any_first; } firsts;
static pthread_once_t firsts_once = PTHREAD_ONCE_INIT;

static void firsts_find(void)
{
    for (size_t i = 0; i < NROUTES && !firsts.any_first; i++) {
        const char *seg = routes[i].pattern + 1;
        size_t len = strcspn(seg, "/");
        if (routes[i].pattern[0] != '/' || memchr(seg, '{', len)) { firsts.any_first = true; break; }
        size_t k = 0;
        while (k < firsts.n && !(firsts.len[k] == len && memcmp(firsts.seg[k], seg, len) == 0)) k++;
        if (k < firsts.n) continue;
        if (firsts.n == FIRST_SEGS_MAX) { firsts.any_first = true; break; }
        firsts.seg[firsts.n] = seg;
        firsts.len[firsts.n++] = len;
    }
}

/* Could path match some pattern, by its first segment? */
static bool first_segment_known(const char *path)
{
    pthread_once(&firsts_once, firsts_find);
    if (firsts.any_first) return true;
    if (path[0] != '/') return false;
    size_t len = strcspn(path + 1, "/");
    for (size_t k = 0; k < firsts.n; k++)
        if (firsts.len[k] == len && memcmp(firsts.seg[k], path + 1, len) == 0) return true;
    return false;
}

const route *router_match(http_req *r, const char *method, const char *path, bool *method_mismatch)
{
    *method_mismatch = false;
    if (!first_segment_known(path)) return NULL;
    /* HEAD is answered like GET (the library leaves the body out). */
    const char *m = strcmp(method, "HEAD") == 0 ? "GET" : method;
    for (size_t i = 0; i < NROUTES; i++) {
        char params[HTTP_MAX_PARAMS][130];
        int nparams = 0;
        if (!pattern_match(routes[i].pattern, path, params, &nparams)) continue;
        if (strcmp(routes[i].method, m) != 0) {
            *method_mismatch = true;
            continue;
        }
        memcpy(r->params, params, sizeof params);
        r->nparams = nparams;
        return &routes[i];
    }
    return NULL;
}

size_t router_allowed_methods(const char *path, char *buf, size_t len)
{
    size_t pos = 0;
    if (len) buf[0] = '\0';
    for (size_t i = 0; i < NROUTES; i++) {
        char params[HTTP_MAX_PARAMS][130];
        int nparams = 0;
        if (!pattern_match(routes[i].pattern, path, params, &nparams)) continue;
        const char *m = routes[i].method;
        if (strstr(buf, m)) continue;       /* listed already (methods are distinct words) */
        int w = snprintf(buf + pos, len - pos, "%s%s", pos ? ", " : "", m);
        if (w < 0 || (size_t)w >= len - pos) break;
        pos += (size_t)w;
    }
    return pos;
}

/* --- authorization --- */

static unsigned who_bit(enum role role)
{
    switch (role) {
    case ROLE_ADMIN: return WHO_ADMIN;
    case ROLE_EXEC: return WHO_EXEC;
    case ROLE_RM: return WHO_RM;
    case ROLE_SM: return WHO_SM;
    case ROLE_UPLOADER: return WHO_UPLOADER;
    case ROLE_METRICS: return WHO_METRICS;
    default: return 0;
    }
}

bool router_is_quick(const route *rt)
{
    return rt->handler == route_health || rt->handler == auth_route_me || rt->handler == auth_route_session_delete;
}

bool router_role_allows(const route *rt, const principal *p)
{
    return rt && ((rt->who & WHO_PUBLIC) || (p && (who_bit(p->role) & rt->who)));
}

bool router_authorize(http_req *r)
{
    const route *rt = r->route;
    if (!rt) return false;
    if (rt->who & WHO_PUBLIC) return true;

    principal *p = calloc(1, sizeof *p);
    if (!p) {
        http_reply_error(r, 500, API_INTERNAL, "out of memory", NULL);
        return false;
    }
    int rc = auth_identify(r, p);
    if (rc != 1) {
        principal_free(p);
        free(p);
        /* auth_identify may have set a more precise answer (e.g. 403 csrf) */
        if (r->resp) return false;
        if (rc == -2)
            http_reply_error(r, 503, API_DB_UNAVAILABLE, "数据库暂时无法访问，请稍后再试 (the database does not answer; try again shortly)", NULL);
        else if (rc == 0)
            http_reply_error(r, 401, API_UNAUTHORIZED, "请先登录 (sign in first, or send Authorization: Bearer <token>)", NULL);
        else
            http_reply_error(r, 401, API_UNAUTHORIZED, "登录已失效，请重新登录 (the session or token is invalid or has expired)", NULL);
        return false;
    }
    r->who = p;
    if (!router_role_allows(rt, p)) {
        http_reply_errorf(r, 403, API_FORBIDDEN, "无权访问 (forbidden): role %s may not call %s %s",
                          role_name(p->role), rt->method, rt->pattern);
        return false;
    }
    return true;
}
