/* freshness: the data freshness kept by the imports and answered per store
 * in scope (see freshness.h). The update is a few single-row statements per
 * (store, entity) of a file, each an index dive on the fact table's
 * (store_code, date) index; the answer reads the freshness tables only.
 * Part of core/data/. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "config.h"
#include "freshness.h"
#include "log.h"

/* --- the time zone of the stores --- */

/* FOURSCORE_TZ as an offset east of UTC, in seconds. The zones of the
 * groups' stores keep no daylight saving time, so a fixed offset is exact;
 * an unknown name falls back to Asia/Shanghai (with a warning, once). */
static long tz_offset_seconds(void)
{
    static const struct { const char *name; long offset; } zones[] = {
        { "Asia/Shanghai", 8 * 3600 }, { "Asia/Chongqing", 8 * 3600 }, { "Asia/Harbin", 8 * 3600 },
        { "Asia/Urumqi", 6 * 3600 }, { "PRC", 8 * 3600 }, { "Asia/Hong_Kong", 8 * 3600 },
        { "Asia/Macau", 8 * 3600 }, { "Asia/Taipei", 8 * 3600 }, { "Asia/Singapore", 8 * 3600 },
        { "Asia/Tokyo", 9 * 3600 }, { "Asia/Seoul", 9 * 3600 }, { "UTC", 0 }, { "Etc/UTC", 0 }, { "GMT", 0 },
    };
    static int warned;
    const char *tz = config_env("FOURSCORE_TZ");
    if (!tz) return 8 * 3600;
    for (size_t i = 0; i < sizeof zones / sizeof zones[0]; i++)
        if (strcmp(zones[i].name, tz) == 0) return zones[i].offset;
    if (!warned) {
        warned = 1;
        log_warn("freshness", "FOURSCORE_TZ=%.64s is not a zone this server knows; using Asia/Shanghai", tz);
    }
    return 8 * 3600;
}

void freshness_local_now(char out[20])
{
    time_t t = time(NULL) + tz_offset_seconds();
    struct tm tm;
    if (!gmtime_r(&t, &tm)) memset(&tm, 0, sizeof tm);
    if (snprintf(out, 20, "%04d-%02d-%02d %02d:%02d:%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                 tm.tm_hour, tm.tm_min, tm.tm_sec) >= 20)
        out[19] = '\0';
}

/* --- kept by the imports --- */

/* "DATE(MAX(col))", or latest_day with '@' replaced by "MAX(col)". */
static int day_of_max(const entity_def *e, char *out, size_t cap)
{
    char max[80];
    if (snprintf(max, sizeof max, "MAX(%s)", e->latest) >= (int)sizeof max) return -1;
    if (!e->latest_day) return snprintf(out, cap, "DATE(%s)", max) < (int)cap ? 0 : -1;
    size_t n = 0;
    for (const char *p = e->latest_day; *p; p++) {
        const char *put = *p == '@' ? max : NULL;
        size_t k = put ? strlen(put) : 1;
        if (n + k + 1 > cap) return -1;
        memcpy(out + n, put ? put : p, k);
        n += k;
    }
    out[n] = '\0';
    return 0;
}

int freshness_note_import(db_conn *c, const entity_def *e, const char *const *stores, int nstores,
                          char *err, size_t errlen)
{
    if (!e->latest || !e->has_store || nstores == 0) return 0;
    char day[200], note[600], through[600], now[20];
    /* the texts are the same for every file of e (they key the statement cache) */
    if (day_of_max(e, day, sizeof day) < 0 ||
        snprintf(note, sizeof note,
                 "INSERT INTO freshness (store_code, entity, latest, imported_at) "
                 "SELECT ?, ?, (SELECT %s FROM %s WHERE store_code = ?), ? "
                 "ON DUPLICATE KEY UPDATE latest = VALUES(latest), imported_at = VALUES(imported_at)",
                 day, e->name) >= (int)sizeof note ||
        (e->through_if &&
         snprintf(through, sizeof through,
                  "INSERT INTO freshness_through (store_code, through_on) "
                  "SELECT ?, (SELECT DATE(%s) FROM %s WHERE store_code = ? AND %s IS NOT NULL AND %s "
                  "ORDER BY %s DESC LIMIT 1) ON DUPLICATE KEY UPDATE through_on = VALUES(through_on)",
                  e->latest, e->name, e->latest, e->through_if, e->latest) >= (int)sizeof through)) {
        snprintf(err, errlen, "freshness of %s: statement too long", e->name);
        return -1;
    }
    freshness_local_now(now);
    for (int i = 0; i < nstores; i++) {
        db_val p[4] = { DB_STR(stores[i]), DB_STR(e->name), DB_STR(stores[i]), DB_STRN(now, 19) };
        if (db_exec(c, note, p, 4, NULL, err, errlen) < 0) return -1;
        db_val tp[2] = { DB_STR(stores[i]), DB_STR(stores[i]) };
        if (e->through_if && db_exec(c, through, tp, 2, NULL, err, errlen) < 0) return -1;
    }
    return 0;
}

/* --- the answer --- */

static const char SQL_STORES[] =
    "SELECT s.store_code, s.name, DATE_FORMAT(t.through_on, '%Y-%m-%d') FROM stores s "
    "LEFT JOIN freshness_through t ON t.store_code = s.store_code ORDER BY s.store_code";
static const char SQL_ROWS[] =
    "SELECT store_code, entity, DATE_FORMAT(latest, '%Y-%m-%d'), DATE_FORMAT(imported_at, '%Y-%m-%d %H:%i:%s') "
    "FROM freshness ORDER BY store_code";

static int cmp_code(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static void add_string_or_null(cJSON *o, const char *name, const char *v)
{
    if (v) cJSON_AddStringToObject(o, name, v);
    else cJSON_AddNullToObject(o, name);
}

/* A store's entry with every counted entity at {null, null}. */
static cJSON *store_entry(const char *code, const char *name, const char *through)
{
    cJSON *o = cJSON_CreateObject(), *ents = cJSON_CreateObject();
    if (!o || !ents) { cJSON_Delete(o); cJSON_Delete(ents); return NULL; }
    cJSON_AddStringToObject(o, "store", code);
    add_string_or_null(o, "name", name);
    add_string_or_null(o, "through", through);
    cJSON_AddItemToObject(o, "entities", ents);
    for (int k = 0; import_entities[k]; k++) {
        const entity_def *e = entity_find(import_entities[k]);
        if (!e || !e->latest) continue;
        cJSON *one = cJSON_AddObjectToObject(ents, e->name);
        if (!one) { cJSON_Delete(o); return NULL; }
        cJSON_AddNullToObject(one, "latest");
        cJSON_AddNullToObject(one, "imported_at");
    }
    return o;
}

cJSON *freshness_json(db_conn *c, const principal *p, int *status, char *err, size_t errlen)
{
    *status = 500;
    store_set scope = { 0 };
    char bad[256] = "";
    int rc = scope_resolve(c, p, NULL, 0, NULL, 0, &scope, bad, sizeof bad);
    if (rc != 0) {
        if (rc == SCOPE_DB_ERROR) *status = 503;
        snprintf(err, errlen, "resolving the scope: %s", bad);
        return NULL;
    }
    if (scope.n > 1) qsort(scope.codes, (size_t)scope.n, sizeof *scope.codes, cmp_code);
    db_result *stores = NULL, *rows = NULL;
    cJSON *out = NULL, *arr = NULL;
    if (db_query(c, SQL_STORES, NULL, 0, &stores, err, errlen) < 0 ||
        db_query(c, SQL_ROWS, NULL, 0, &rows, err, errlen) < 0) {
        *status = 503;
        goto done;
    }
    char now[20];
    freshness_local_now(now);
    now[10] = '\0';
    out = cJSON_CreateObject();
    if (!out || !cJSON_AddStringToObject(out, "as_of", now) || !(arr = cJSON_AddArrayToObject(out, "stores"))) goto oom;
    /* both results are in store code order: walk them together */
    int r = 0;
    for (int s = 0; s < stores->nrows; s++) {
        const char *code = db_cell(stores, s, 0);
        if (!code) continue;
        while (r < rows->nrows && (!db_cell(rows, r, 0) || strcmp(db_cell(rows, r, 0), code) < 0)) r++;
        if (!bsearch(&code, scope.codes, (size_t)scope.n, sizeof *scope.codes, cmp_code)) continue;
        cJSON *entry = store_entry(code, db_cell(stores, s, 1), db_cell(stores, s, 2));
        if (!entry) goto oom;
        cJSON_AddItemToArray(arr, entry);
        cJSON *ents = cJSON_GetObjectItemCaseSensitive(entry, "entities");
        for (int k = r; k < rows->nrows && db_cell(rows, k, 0) && strcmp(db_cell(rows, k, 0), code) == 0; k++) {
            cJSON *one = cJSON_GetObjectItemCaseSensitive(ents, db_cell(rows, k, 1) ? db_cell(rows, k, 1) : "");
            if (!one) continue;             /* an entity no longer counted */
            cJSON_ReplaceItemInObjectCaseSensitive(one, "latest", db_cell(rows, k, 2) ? cJSON_CreateString(db_cell(rows, k, 2))
                                                                                      : cJSON_CreateNull());
            cJSON_ReplaceItemInObjectCaseSensitive(one, "imported_at", db_cell(rows, k, 3)
                                                       ? cJSON_CreateString(db_cell(rows, k, 3)) : cJSON_CreateNull());
        }
    }
    goto done;
oom:
    cJSON_Delete(out);
    out = NULL;
    *status = 500;
    snprintf(err, errlen, "out of memory");
done:
    db_result_free(stores);
    db_result_free(rows);
    store_set_free(&scope);
    return out;
}
