/* audit: the audit log, an append-only table of who did what (logins,
 * imports, user and token changes, scorecard saves, exports of personal
 * data), written inside the caller's transaction, and read a page at a
 * time by admins. Part of core/access/. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cJSON.h>
#include "access_private.h"
#include "db.h"

/* --- audit --- */

static const char SQL_AUDIT_INSERT[] =
    "INSERT INTO audit_log (at, actor, actor_kind, action, target, detail) "
    "VALUES (UTC_TIMESTAMP(6), ?, ?, ?, ?, ?)";

int audit_log(db_conn *c, const principal *who, const char *action, const char *target,
              const char *detail, char *err, size_t errlen)
{
    const char *actor = "cli", *kind = "cli";
    if (who && who->role != ROLE_NONE && !(who->user_id == 0 && !who->is_token)) {
        actor = who->name;
        kind = who->is_token ? "token" : "user";
    } else if (who && who->role == ROLE_NONE && who->name[0]) {
        actor = who->name;          /* e.g. a failed login: the name tried */
        kind = "anonymous";
    }
    const char *act = action ? action : "unknown";
    db_val v[5] = {
        DB_STRN(actor, utf8_prefix_len(actor, 72)),
        DB_STR(kind),
        DB_STRN(act, utf8_prefix_len(act, 64)),
        target ? DB_STRN(target, utf8_prefix_len(target, 255)) : DB_NULL,
        detail ? DB_STRN(detail, utf8_prefix_len(detail, AUDIT_DETAIL_MAX)) : DB_NULL,
    };
    return db_exec(c, SQL_AUDIT_INSERT, v, 5, NULL, err, errlen);
}

/* audit_log with a JSON detail built by the caller (takes ownership). */
int audit_json(db_conn *c, const principal *who, const char *action, const char *target,
                      cJSON *detail, char *err, size_t errlen)
{
    char *text = detail ? cJSON_PrintUnformatted(detail) : NULL;
    cJSON_Delete(detail);
    int rc = audit_log(c, who, action, target, text, err, errlen);
    free(text);
    return rc;
}

static const char SQL_AUDIT_PAGE[] =
    "SELECT id, DATE_FORMAT(at, '%Y-%m-%dT%H:%i:%sZ'), actor, actor_kind, action, target, detail "
    "FROM audit_log WHERE id < ? ORDER BY id DESC LIMIT ?";

static cJSON *string_or_null(const char *s)
{
    return s ? cJSON_CreateString(s) : cJSON_CreateNull();
}

cJSON *audit_page(db_conn *c, long long before, long long limit, char *err, size_t errlen)
{
    db_val v[2] = { DB_INT(before), DB_INT(limit) };
    db_result *res = NULL;
    if (db_query(c, SQL_AUDIT_PAGE, v, 2, &res, err, errlen) != 0) return NULL;
    cJSON *arr = cJSON_CreateArray();
    for (int i = 0; i < res->nrows; i++) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "id", (double)db_cell_int(res, i, 0));
        cJSON_AddStringToObject(o, "at", db_cell(res, i, 1));
        cJSON_AddStringToObject(o, "actor", db_cell(res, i, 2));
        cJSON_AddStringToObject(o, "actor_kind", db_cell(res, i, 3));
        cJSON_AddStringToObject(o, "action", db_cell(res, i, 4));
        cJSON_AddItemToObject(o, "target", string_or_null(db_cell(res, i, 5)));
        const char *detail = db_cell(res, i, 6);
        cJSON *parsed = detail ? cJSON_Parse(detail) : NULL;
        cJSON_AddItemToObject(o, "detail", parsed ? parsed : string_or_null(detail));
        cJSON_AddItemToArray(arr, o);
    }
    db_result_free(res);
    return arr;
}
