/* route_util: the shared pieces of the route handlers (see route_util.h). */
#include <stdio.h>
#include <string.h>
#include "route_util.h"
#include "app.h"
#include "log.h"

db_conn *route_db(http_req *r)
{
    char err[512];
    db_conn *c = db_acquire(r->app->db, ROUTE_DB_WAIT_MS, err, sizeof err);
    if (!c) route_reply_db_unavailable(r, r->path, err);
    return c;
}

void route_release(http_req *r, db_conn *c)
{
    if (c) db_release(r->app->db, c);
}

void route_reply_db_unavailable(http_req *r, const char *what, const char *err)
{
    log_error("http", "%s: database: %s", what ? what : "-", err ? err : "-");
    http_reply_error(r, 503, API_DB_UNAVAILABLE,
                     "数据库暂时无法连接，请稍后再试 (the database does not answer; try again shortly)", NULL);
}

void route_reply_internal(http_req *r, const char *what, const char *err)
{
    log_error("http", "%s: %s", what ? what : "-", err ? err : "-");
    http_reply_error(r, 500, API_INTERNAL, "服务器内部错误 (internal error; the server log has the details)", NULL);
}

void route_reply_bad_param(http_req *r, const char *param, const char *message)
{
    cJSON *details = cJSON_CreateArray();
    cJSON *d = cJSON_CreateObject();
    cJSON_AddStringToObject(d, "parameter", param);
    cJSON_AddStringToObject(d, "message", message);
    cJSON_AddItemToArray(details, d);
    http_reply_error(r, 400, API_BAD_PARAMETER, message, details);
}

void route_reply_status(http_req *r, int status, const char *field, const char *err)
{
    if (status == 400) route_reply_bad_param(r, field && *field ? field : "body", err);
    else if (status == 404) http_reply_error(r, 404, API_NOT_FOUND, err, NULL);
    else if (status == 409) http_reply_error(r, 409, API_CONFLICT, err, NULL);
    else route_reply_internal(r, r->path, err);
}

cJSON *json_parse_located(const char *text, size_t len, char *msg, size_t msglen)
{
    const char *end = NULL;
    cJSON *j = text && len ? cJSON_ParseWithLengthOpts(text, len, &end, false) : NULL;
    if (j) return j;
    if (!text || !len) snprintf(msg, msglen, "the body is empty");
    else if (end && end >= text && end <= text + len)
        snprintf(msg, msglen, "the body is not valid JSON (at byte %zu)", (size_t)(end - text) + 1);
    else snprintf(msg, msglen, "the body is not valid JSON");
    return NULL;
}

cJSON *route_body_json(http_req *r, int kind, const char *shape)
{
    char msg[300];
    cJSON *j = json_parse_located(r->body, r->body_len, msg, sizeof msg);
    if (j && kind && !(j->type & kind)) {
        cJSON_Delete(j);
        j = NULL;
        snprintf(msg, sizeof msg, "%s", shape);
    } else if (!j && r->body_len) {
        size_t n = strlen(msg);
        snprintf(msg + n, sizeof msg - n, ": %s", shape);
    } else if (!j) {
        snprintf(msg, sizeof msg, "%s", shape);
    }
    if (!j) route_reply_bad_param(r, "body", msg);
    return j;
}

cJSON *route_body_object(http_req *r)
{
    return route_body_json(r, cJSON_Object, "the request body must be a JSON object");
}

const char *json_member_string(const cJSON *o, const char *name, bool *bad)
{
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(o, name);
    if (!m || cJSON_IsNull(m)) return NULL;
    if (!cJSON_IsString(m)) { *bad = true; return NULL; }
    return m->valuestring;
}

int json_member_strings(const cJSON *o, const char *name, const char **out, int max, bool *present)
{
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(o, name);
    *present = m && !cJSON_IsNull(m);
    if (!*present) return 0;
    if (!cJSON_IsArray(m)) return -1;
    int n = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, m) {
        if (!cJSON_IsString(it) || n >= max) return -1;
        out[n++] = it->valuestring;
    }
    return n;
}
