/* routes_alerts: the HTTP side of the alerts (see routes_alerts.h): parse
 * the path, the query and the body, call core/engine/alerts.h, answer. Who
 * owns a rule is checked by the domain (403 for another's rule). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "routes_alerts.h"
#include "alerts.h"
#include "app.h"
#include "auth.h"
#include "reports.h"
#include "route_util.h"

/* The {name} of the path: NULL after answering 400. */
static const char *rule_name(http_req *r)
{
    const char *name = r->nparams > 0 ? r->params[0] : "";
    if (!alert_rule_name_valid(name)) {
        char msg[160];
        snprintf(msg, sizeof msg, "name: a rule name is 1 to 64 of a-z 0-9 _ -, got \"%.64s\"", name);
        route_reply_bad_param(r, "name", msg);
        return NULL;
    }
    return name;
}

void alert_rules_route_list(http_req *r)
{
    db_conn *c = route_db(r);
    if (!c) return;
    char err[512];
    cJSON *arr = alert_rules_json(c, r->who, err, sizeof err);
    route_release(r, c);
    if (!arr) route_reply_db_unavailable(r, "alert rules", err);
    else http_reply_json(r, 200, arr);
}

void alert_rules_route_put(http_req *r)
{
    const char *name = rule_name(r);
    if (!name) return;
    cJSON *body = route_body_object(r);
    if (!body) return;
    cJSON *saved = NULL;
    bool out_of_scope = false;
    char field[64], err[1024];
    int rc = alert_rule_put(r->app, r->who, name, body, &saved, &out_of_scope, field, sizeof field, err, sizeof err);
    cJSON_Delete(body);
    if (rc == 200 || rc == 201) http_reply_json(r, rc, saved);
    else if (rc == 403 && out_of_scope) {
        cJSON *details = cJSON_CreateArray();
        cJSON *d = cJSON_CreateObject();
        cJSON_AddStringToObject(d, "parameter", field);
        cJSON_AddStringToObject(d, "message", err);
        cJSON_AddItemToArray(details, d);
        http_reply_error(r, 403, API_STORE_OUT_OF_SCOPE, err, details);
    } else if (rc == 403) http_reply_error(r, 403, API_FORBIDDEN, err, NULL);
    else if (rc == 503) route_reply_db_unavailable(r, "alert rules", err);
    else route_reply_status(r, rc, field, err);
}

void alert_rules_route_delete(http_req *r)
{
    const char *name = rule_name(r);
    if (!name) return;
    db_conn *c = route_db(r);
    if (!c) return;
    char err[512];
    int rc = alert_rule_delete(c, r->who, name, err, sizeof err);
    route_release(r, c);
    if (rc == 0) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "deleted", name);
        http_reply_json(r, 200, o);
    } else if (rc == 403) http_reply_error(r, 403, API_FORBIDDEN, err, NULL);
    else if (rc == 503) route_reply_db_unavailable(r, "alert rules", err);
    else route_reply_status(r, rc, "name", err);
}

void alert_rules_route_test(http_req *r)
{
    const char *name = rule_name(r);
    if (!name) return;
    cJSON *out = NULL;
    char err[512];
    int rc = alert_rule_test(r->app, r->who, name, &out, err, sizeof err);
    if (rc == 200) http_reply_json(r, 200, out);
    else if (rc == 403) http_reply_error(r, 403, API_FORBIDDEN, err, NULL);
    else if (rc == 503) route_reply_db_unavailable(r, "alert rules", err);
    else route_reply_status(r, rc, "name", err);
}

/* A whole number in [lo, hi] from the query: 1 set, 0 absent, -1 after answering 400. */
static int query_int(http_req *r, const char *name, long long lo, long long hi, long long *out)
{
    const char *v = http_query(r, name);
    if (!v) return 0;
    char *end;
    long long n = strtoll(v, &end, 10);
    if (!*v || *end || n < lo || n > hi) {
        char msg[160];
        snprintf(msg, sizeof msg, "%s: a whole number from %lld to %lld", name, lo, hi);
        route_reply_bad_param(r, name, msg);
        return -1;
    }
    *out = n;
    return 1;
}

void alerts_route_list(http_req *r)
{
    alerts_filter f = { .state = http_query(r, "state"), .limit = 100, .store = http_query(r, "store"),
                        .kpi = http_query(r, "kpi"), .rule = http_query(r, "rule") };
    if (!f.state) f.state = "all";
    if (strcmp(f.state, "open") != 0 && strcmp(f.state, "closed") != 0 && strcmp(f.state, "all") != 0) {
        route_reply_bad_param(r, "state", "state: one of open, closed, all");
        return;
    }
    long long limit = 100, before = 0;
    if (query_int(r, "limit", 1, ALERTS_LIST_MAX, &limit) < 0) return;
    if (query_int(r, "before", 1, 9223372036854775807LL, &before) < 0) return;
    f.limit = (int)limit;
    f.before = before;
    if (f.store && !r->who->all_stores && !principal_sees_store(r->who, f.store)) {
        http_reply_errorf(r, 403, API_STORE_OUT_OF_SCOPE, "store %.64s is outside your scope", f.store);
        return;
    }
    db_conn *c = route_db(r);
    if (!c) return;
    char err[512];
    cJSON *arr = alerts_json(c, r->who, &f, err, sizeof err);
    route_release(r, c);
    if (!arr) route_reply_db_unavailable(r, "alerts", err);
    else http_reply_json(r, 200, arr);
}

/* --- subscriptions --- */

void subscriptions_route_list(http_req *r)
{
    db_conn *c = route_db(r);
    if (!c) return;
    char err[512];
    cJSON *arr = subscriptions_json(c, r->who, err, sizeof err);
    route_release(r, c);
    if (!arr) route_reply_db_unavailable(r, "subscriptions", err);
    else http_reply_json(r, 200, arr);
}

void subscriptions_route_put(http_req *r)
{
    const char *name = rule_name(r);
    if (!name) return;
    cJSON *body = route_body_object(r);
    if (!body) return;
    db_conn *c = route_db(r);
    if (!c) { cJSON_Delete(body); return; }
    cJSON *saved = NULL;
    char field[64], err[1024];
    int rc = subscription_put(c, r->who, name, body, &saved, field, sizeof field, err, sizeof err);
    route_release(r, c);
    cJSON_Delete(body);
    if (rc == 200 || rc == 201) http_reply_json(r, rc, saved);
    else if (rc == 503) route_reply_db_unavailable(r, "subscriptions", err);
    else route_reply_status(r, rc, field, err);
}

void subscriptions_route_delete(http_req *r)
{
    const char *name = rule_name(r);
    if (!name) return;
    db_conn *c = route_db(r);
    if (!c) return;
    char err[512];
    int rc = subscription_delete(c, r->who, name, http_query(r, "owner"), err, sizeof err);
    route_release(r, c);
    if (rc == 0) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "deleted", name);
        http_reply_json(r, 200, o);
    } else if (rc == 403) http_reply_error(r, 403, API_FORBIDDEN, err, NULL);
    else if (rc == 503) route_reply_db_unavailable(r, "subscriptions", err);
    else route_reply_status(r, rc, "name", err);
}
