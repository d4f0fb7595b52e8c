/* routes_alerts: the alert rules and alerts routes (docs/api.md "Alert rules
 * and alerts") and the subscriptions of the scheduled reports; core/http/router.c lists them with who may call each, the
 * domain is core/engine/alerts.h. */
#ifndef FS_ROUTES_ALERTS_H
#define FS_ROUTES_ALERTS_H
#include "http.h"

void alert_rules_route_list(http_req *r);     /* GET /api/v1/alert-rules          admin, regional_manager */
void alert_rules_route_put(http_req *r);      /* PUT /api/v1/alert-rules/{name}   admin, regional_manager */
void alert_rules_route_delete(http_req *r);   /* DELETE /api/v1/alert-rules/{name} owner, admin */
void alert_rules_route_test(http_req *r);     /* POST /api/v1/alert-rules/{name}/test owner, admin */
void alerts_route_list(http_req *r);          /* GET /api/v1/alerts               users */
/* the scheduled reports' subscriptions (core/engine/reports.h) */
void subscriptions_route_list(http_req *r);   /* GET /api/v1/subscriptions        users */
void subscriptions_route_put(http_req *r);    /* PUT /api/v1/subscriptions/{name} users */
void subscriptions_route_delete(http_req *r); /* DELETE /api/v1/subscriptions/{name}[?owner=] owner, admin */
#endif
