/* routes_import: the HTTP side of the importer (core/data/import.h):
 * POST /api/v1/import/{entity}, a CSV body streamed to an import job as it
 * arrives (router.c's table names the three callbacks). The request is
 * checked before its first byte is read (Content-Type, entity, role); the
 * answer is the job's counts, or its error with the problems by line and
 * column (docs/import.md, "Sending a file over HTTP"). */
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <cJSON.h>
#include "routes_import.h"
#include "alerts.h"
#include "app.h"
#include "http.h"
#include "import.h"
#include "kpi.h"

static bool content_type_is_csv(const char *ct)
{
    if (!ct) return false;
    while (*ct == ' ') ct++;
    if (strncasecmp(ct, "text/csv", 8) != 0) return false;
    const char *rest = ct + 8;
    while (*rest == ' ') rest++;
    if (*rest == '\0') return true;
    if (*rest != ';') return false;
    const char *cs = strcasestr(rest, "charset=");
    if (!cs) return true;
    cs += 8;
    if (*cs == '"') cs++;
    return strncasecmp(cs, "utf-8", 5) == 0 || strncasecmp(cs, "utf8", 4) == 0;
}

static void reply_result(http_req *r, const import_result *res)
{
    cJSON *details = res->problems ? cJSON_Duplicate(res->problems, 1) : NULL;
    if (res->more > 0) {
        cJSON *body = cJSON_CreateObject();
        cJSON *err = cJSON_AddObjectToObject(body, "error");
        if (!body || !err) {
            cJSON_Delete(body);
            cJSON_Delete(details);
            http_reply_error(r, 500, API_INTERNAL, "out of memory", NULL);
            return;
        }
        cJSON_AddStringToObject(err, "code", res->code);
        cJSON_AddStringToObject(err, "message", res->message);
        cJSON_AddItemToObject(err, "details", details ? details : cJSON_CreateArray());
        cJSON_AddNumberToObject(err, "more", (double)res->more);
        http_reply_json(r, res->status, body);
    } else {
        http_reply_error(r, res->status, api_error_find(res->code), res->message, details);
    }
    if (res->retry_after > 0) {
        char secs[16];
        snprintf(secs, sizeof secs, "%d", res->retry_after);
        http_add_header(r, "Retry-After", secs);
    }
}

/* Checks the request before its first byte is read; false after replying. */
static bool import_route_start(http_req *r)
{
    if (!content_type_is_csv(http_header(r, "Content-Type"))) {
        http_reply_error(r, 415, API_UNSUPPORTED_MEDIA_TYPE, "send the file with Content-Type: text/csv (UTF-8)", NULL);
        return false;
    }
    import_result res;
    import_job *j = import_job_new(r->app, r->who, r->params[0], "upload", &res);
    if (!j) {
        reply_result(r, &res);
        import_result_free(&res);
        return false;
    }
    import_job_set_kpi_check(j, kpi_budget_check, r->app);   /* targets.kpi: the engine's catalogue */
    import_job_set_commit_hook(j, alerts_after_import, r->app); /* the alert rules, on their own thread */
    r->stream = j;
    return true;
}

bool import_route_body(http_req *r, const char *data, size_t len)
{
    if (!r->stream && !import_route_start(r)) return false;
    /* malformed CSV ends the reading; the handler answers with the problems */
    import_job_feed(r->stream, data, len);
    return true;
}

void import_route_done(http_req *r)
{
    if (r->resp) return;                 /* answered already (415, 404, ...) */
    if (!r->stream) {
        if (!import_route_start(r)) return;
    }
    import_job *j = r->stream;
    r->stream = NULL;
    import_result res;
    if (import_job_finish(j, &res) == 0) {
        cJSON *body = cJSON_CreateObject();
        if (!body) {
            http_reply_error(r, 500, API_INTERNAL, "out of memory", NULL);
            return;
        }
        cJSON_AddStringToObject(body, "entity", r->params[0]);
        cJSON_AddNumberToObject(body, "rows", (double)res.rows);
        cJSON_AddNumberToObject(body, "inserted", (double)res.inserted);
        cJSON_AddNumberToObject(body, "updated", (double)res.updated);
        cJSON_AddNumberToObject(body, "unchanged", (double)res.unchanged);
        http_reply_json(r, 200, body);
    } else {
        reply_result(r, &res);
    }
    import_result_free(&res);
}

void import_route_cleanup(http_req *r)
{
    if (r->stream) {
        import_job_abort(r->stream);
        r->stream = NULL;
    }
}
