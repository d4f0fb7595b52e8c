/* routes_scorecard: the HTTP side of core/script/ (docs/api.md, "Lua
 * scorecards"). Each route parses the request (the {name} of the path, the
 * period, the body's Lua text), calls the scorecard domain (scorecard.h:
 * stored scorecards, compile, run) and writes the answer: the outcome of a
 * run or a compile as it is, a 400 bad_parameter naming the parameter, 403
 * for changing another's scorecard, 404, 409, 503 db_unavailable. Who may call each
 * route is router.c's table; who owns a scorecard is checked here. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cJSON.h>
#include "routes_scorecard.h"
#include "app.h"
#include "auth.h"
#include "http.h"
#include "log.h"
#include "route_util.h"
#include "scorecard.h"

/* The {name} of the path, checked: 400 naming it when invalid. */
static const char *route_name(http_req *r)
{
    const char *name = r->nparams > 0 ? r->params[0] : "";
    if (!scorecard_name_valid(name)) {
        char msg[160];
        snprintf(msg, sizeof msg, "name: a scorecard name is 1 to 64 of a-z 0-9 _ - (and not \"run\"), got \"%.64s\"", name);
        route_reply_bad_param(r, "name", msg);
        return NULL;
    }
    return name;
}

static void reply_out_of_memory(http_req *r)
{
    route_reply_internal(r, r->path, "out of memory");
}

static void reply_outcome(http_req *r, scorecard_outcome *o)
{
    if (o->status == 200) {
        http_reply_json(r, 200, o->result);
        o->result = NULL;
    } else {
        http_reply_error(r, o->status, api_error_find(o->code), o->message, o->details);
        o->details = NULL;
        if (o->status == 429) http_add_header(r, "Retry-After", "1");
    }
    scorecard_outcome_free(o);
}

/* Those the caller may run: every one for admins, executives and regional
 * managers (each runs with their own scope); none for store managers. */
void scorecard_route_list(http_req *r)
{
    if (!r->who || !(r->who->role == ROLE_ADMIN || r->who->role == ROLE_EXEC || r->who->role == ROLE_RM)) {
        cJSON *none = cJSON_CreateArray();
        if (!none) { reply_out_of_memory(r); return; }
        http_reply_json(r, 200, none);
        return;
    }
    db_conn *c = route_db(r);
    if (!c) return;
    cJSON *arr = NULL;
    char err[256];
    int rc = scorecard_list(c, &arr, err, sizeof err);
    route_release(r, c);
    if (rc != 0) { route_reply_db_unavailable(r, r->path, err); return; }
    if (!arr) { reply_out_of_memory(r); return; }
    http_reply_json(r, 200, arr);
}

/* Load the meta of the path's scorecard: false after replying 404/503. */
static bool route_meta(http_req *r, db_conn *c, const char *name, scorecard_meta *m)
{
    char err[256];
    int found = scorecard_meta_load(c, name, m, err, sizeof err);
    if (found < 0) { route_reply_db_unavailable(r, r->path, err); return false; }
    if (!found) {
        http_reply_errorf(r, 404, API_NOT_FOUND, "no scorecard named \"%s\"", name);
        return false;
    }
    return true;
}

static void reply_forbidden(http_req *r, const scorecard_meta *m)
{
    http_reply_errorf(r, 403, API_FORBIDDEN, "scorecard \"%s\" belongs to %s: only its owner and admins may change it (copy it into one of your own)",
                      m->name, m->owner);
}

/* The path's scorecard when the caller may change it: false after replying
 * 400/404/403/503 (c is released then). */
static bool route_editable(http_req *r, db_conn *c, const char *name, scorecard_meta *m)
{
    if (!route_meta(r, c, name, m)) { route_release(r, c); return false; }
    if (!scorecard_may_edit(r->who, m)) { route_release(r, c); reply_forbidden(r, m); return false; }
    return true;
}

void scorecard_route_get(http_req *r)
{
    const char *name = route_name(r);
    if (!name) return;
    db_conn *c = route_db(r);
    if (!c) return;
    scorecard_meta m;
    char err[256] = "";
    /* whoever may run it may read it (to copy it into their own): the router lets only them in */
    if (!route_meta(r, c, name, &m)) { route_release(r, c); return; }
    size_t len = 0;
    int found;
    char *src = scorecard_source_load(c, m.id, m.version, &len, &found, err, sizeof err);
    cJSON *arr = NULL;
    int rc = src ? scorecard_versions(c, m.id, &arr, err, sizeof err) : -1;
    route_release(r, c);
    if (rc != 0) {
        free(src);
        route_reply_db_unavailable(r, r->path, src || found ? err : "the current version is missing");
        return;
    }
    cJSON *o = scorecard_meta_json(&m);
    if (!o || !arr) { free(src); cJSON_Delete(o); cJSON_Delete(arr); reply_out_of_memory(r); return; }
    cJSON_AddStringToObject(o, "source", src);
    cJSON_AddItemToObject(o, "versions", arr);
    free(src);
    http_reply_json(r, 200, o);
}

/* Save (and audit) src as the next version; replies with the new meta
 * (201 when created). Releases c. */
static void save_and_reply(http_req *r, db_conn *c, const char *name, const char *owner, const char *src,
                           size_t len, bool created, int restored_from)
{
    char err[256];
    int version = 0;
    int rc = scorecard_save(c, r->who, name, owner, src, len, restored_from, &version, err, sizeof err);
    if (rc != 0) {
        route_release(r, c);
        if (rc == 409) http_reply_errorf(r, 409, API_CONFLICT, "scorecard \"%s\" was created by someone else at the same time; try again", name);
        else route_reply_db_unavailable(r, r->path, err);
        return;
    }
    scorecard_meta m;
    int found = scorecard_meta_load(c, name, &m, err, sizeof err);
    route_release(r, c);
    if (found <= 0) { route_reply_db_unavailable(r, r->path, found < 0 ? err : "scorecard vanished"); return; }
    cJSON *o = scorecard_meta_json(&m);
    if (!o) { reply_out_of_memory(r); return; }
    http_reply_json(r, created ? 201 : 200, o);
}

void scorecard_route_put(http_req *r)
{
    const char *name = route_name(r);
    if (!name) return;
    if (!r->body || r->body_len == 0) {
        route_reply_bad_param(r, "body", "body: the Lua source of the scorecard is empty");
        return;
    }
    scorecard_outcome o;
    if (scorecard_check_text(r->body, r->body_len, &o) != 0) { reply_outcome(r, &o); return; }
    scorecard_outcome_free(&o);
    if (scorecard_compile(name, r->body, r->body_len, &o) != 0) { reply_outcome(r, &o); return; }
    scorecard_outcome_free(&o);
    db_conn *c = route_db(r);
    if (!c) return;
    scorecard_meta m;
    char err[256];
    int found = scorecard_meta_load(c, name, &m, err, sizeof err);
    if (found < 0) { route_release(r, c); route_reply_db_unavailable(r, r->path, err); return; }
    if (found && !scorecard_may_edit(r->who, &m)) { route_release(r, c); reply_forbidden(r, &m); return; }
    save_and_reply(r, c, name, found ? m.owner : r->who->name, r->body, r->body_len, !found, 0);
}

void scorecard_route_delete(http_req *r)
{
    const char *name = route_name(r);
    if (!name) return;
    db_conn *c = route_db(r);
    if (!c) return;
    scorecard_meta m;
    char err[256];
    if (!route_editable(r, c, name, &m)) return;
    int rc = scorecard_delete(c, r->who, &m, err, sizeof err);
    route_release(r, c);
    if (rc != 0) { route_reply_db_unavailable(r, r->path, err); return; }
    cJSON *o = cJSON_CreateObject();
    if (!o) { reply_out_of_memory(r); return; }
    cJSON_AddStringToObject(o, "name", name);
    cJSON_AddBoolToObject(o, "deleted", 1);
    http_reply_json(r, 200, o);
}

void scorecard_route_restore(http_req *r)
{
    const char *name = route_name(r);
    if (!name) return;
    const char *vtext = http_query(r, "version");
    char *end = NULL;
    long want = vtext ? strtol(vtext, &end, 10) : 0;
    if (!vtext || !*vtext || *end || want < 1 || want > 1000000000L) {
        route_reply_bad_param(r, "version", "version: expected a version number (see GET /api/v1/scorecards/{name})");
        return;
    }
    db_conn *c = route_db(r);
    if (!c) return;
    scorecard_meta m;
    char err[256];
    if (!route_editable(r, c, name, &m)) return;
    size_t len = 0;
    int found;
    char *src = scorecard_source_load(c, m.id, (int)want, &len, &found, err, sizeof err);
    if (!src) {
        route_release(r, c);
        if (found) route_reply_db_unavailable(r, r->path, err);
        else http_reply_errorf(r, 404, API_NOT_FOUND, "version %ld of \"%s\" is not kept (the last %d are)", want, name,
                               SCORECARD_MAX_VERSIONS);
        return;
    }
    save_and_reply(r, c, name, m.owner, src, len, false, (int)want);
    free(src);
}

/* from and to of the query: 400 naming the one missing or bad. */
static bool route_period(http_req *r, const char **from, const char **to)
{
    *from = http_query(r, "from");
    *to = http_query(r, "to");
    if (!*from || !scorecard_date_valid(*from)) { route_reply_bad_param(r, "from", "from: required, a date YYYY-MM-DD"); return false; }
    if (!*to || !scorecard_date_valid(*to)) { route_reply_bad_param(r, "to", "to: required, a date YYYY-MM-DD"); return false; }
    if (strcmp(*from, *to) > 0) { route_reply_bad_param(r, "from", "from: must not be after to"); return false; }
    return true;
}

void scorecard_route_run(http_req *r)
{
    const char *name = route_name(r);
    if (!name) return;
    const char *from, *to;
    if (!route_period(r, &from, &to)) return;
    db_conn *c = route_db(r);
    if (!c) return;
    scorecard_meta m;
    char err[256];
    if (!route_meta(r, c, name, &m)) { route_release(r, c); return; }
    size_t len = 0;
    int found;
    char *src = scorecard_source_load(c, m.id, m.version, &len, &found, err, sizeof err);
    route_release(r, c);
    if (!src) { route_reply_db_unavailable(r, r->path, found ? err : "the current version is missing"); return; }
    scorecard_outcome o;
    scorecard_run(r->app, r->who, name, src, len, from, to, NULL, &o);
    free(src);
    log_info("scorecard", "run %s %s..%s by %s: %d (%lld KPI lookups)", name, from, to, r->who->name, o.status, o.kpi_lookups);
    reply_outcome(r, &o);
}

/* The editor's "try": run the body without saving it. With ?check=1 only
 * compile it (the editor's "check"): 200 {"ok":true} or 422 syntax_error. */
void scorecard_route_try(http_req *r)
{
    if (!r->body || r->body_len == 0) {
        route_reply_bad_param(r, "body", "body: the Lua source to run is empty");
        return;
    }
    const char *name = http_query(r, "name");
    if (!name || !scorecard_name_valid(name)) name = "try";
    const char *check = http_query(r, "check");
    scorecard_outcome o;
    if (check && strcmp(check, "1") == 0) {
        if (scorecard_compile(name, r->body, r->body_len, &o) != 0) { reply_outcome(r, &o); return; }
        scorecard_outcome_free(&o);
        cJSON *ok = cJSON_CreateObject();
        if (!ok || !cJSON_AddTrueToObject(ok, "ok")) { cJSON_Delete(ok); reply_out_of_memory(r); return; }
        http_reply_json(r, 200, ok);
        return;
    }
    const char *from, *to;
    if (!route_period(r, &from, &to)) return;
    scorecard_run(r->app, r->who, name, r->body, r->body_len, from, to, NULL, &o);
    log_info("scorecard", "try %s..%s by %s: %d (%lld KPI lookups)", from, to, r->who->name, o.status, o.kpi_lookups);
    reply_outcome(r, &o);
}
