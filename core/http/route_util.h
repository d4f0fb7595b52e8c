/* route_util: what every route handler of core/http/ does the same way: a
 * database connection or a 503, the 400 that names a parameter, the 500
 * that keeps details in the log, and the request body as a JSON object
 * (with the byte offset of a syntax error). Domain code never includes it. */
#ifndef FS_ROUTE_UTIL_H
#define FS_ROUTE_UTIL_H
#include <stdbool.h>
#include <cJSON.h>
#include "http.h"
#include "db.h"

/* How long a route waits for a pooled connection before answering 503. */
#define ROUTE_DB_WAIT_MS 5000

/* A connection of the primary pool, or NULL after answering 503 db_unavailable. */
db_conn *route_db(http_req *r);
void route_release(http_req *r, db_conn *c);
/* 503 db_unavailable with the message users see; the detail goes to the log. */
void route_reply_db_unavailable(http_req *r, const char *what, const char *err);
/* 500 internal; what and err go to the log, never to the client. */
void route_reply_internal(http_req *r, const char *what, const char *err);
/* 400 bad_parameter naming the parameter: details [{"parameter","message"}]. */
void route_reply_bad_param(http_req *r, const char *param, const char *message);
/* The answer of a domain save: 400 naming field, 404, 409, else 500. */
void route_reply_status(http_req *r, int status, const char *field, const char *err);
/* Parse text as JSON: the value, or NULL with msg saying why ("not valid
 * JSON (at byte N)"). */
cJSON *json_parse_located(const char *text, size_t len, char *msg, size_t msglen);
/* The request body as a JSON object, or NULL after answering 400 (body). */
cJSON *route_body_object(http_req *r);
/* The request body as JSON of the kind given (cJSON_Object, cJSON_Array, or
 * 0 for any), or NULL after answering 400 bad_parameter naming "body": with
 * the byte of a syntax error, or shape (what the route takes) when the body
 * is valid JSON of another kind. */
cJSON *route_body_json(http_req *r, int kind, const char *shape);
/* A string member: its value, NULL when absent or null; *bad when of another type. */
const char *json_member_string(const cJSON *o, const char *name, bool *bad);
/* An array of strings into out (at most max): count, or -1 when malformed;
 * *present says whether the member is there (and not null). */
int json_member_strings(const cJSON *o, const char *name, const char **out, int max, bool *present);
#endif
