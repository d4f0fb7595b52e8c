/* benchmarks: KPI values of the whole group set beside a store's own, as
 * the group value and the store quartiles (see benchmarks.h). Two engine
 * queries (by store and by group over every store), whose answers the KPI
 * engine keeps per data generation like any other; the store values are
 * then sorted and their quartiles taken. The answer holds numbers only.
 * Part of core/engine/. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "benchmarks.h"
#include "app.h"
#include "db.h"
#include "kpi.h"
#include "kpi_cache.h"
#include "settings.h"

double benchmark_percentile(const double *v, int n, double p)
{
    if (n <= 0) return NAN;
    double h = (n - 1) * p;
    int lo = (int)floor(h), hi = (int)ceil(h);
    if (lo < 0) lo = 0;
    if (hi > n - 1) hi = n - 1;
    return v[lo] + (h - lo) * (v[hi] - v[lo]);
}

/* Whether who may see benchmarks now: admins always, the others while
 * benchmarks.shared is not 0. 0, or -1 with *status and err. */
static int benchmarks_allowed(app *a, const principal *who, bool *allowed, int *status, char *err, size_t errlen)
{
    *allowed = true;
    if (who->role == ROLE_ADMIN) return 0;
    if (kpi_open(a, err, errlen) != 0) { *status = 500; return -1; }
    kpi_snapshot *snap = kpi_snapshot_fresh(a->kpi);
    if (!snap) {
        db_pool *from = NULL;
        db_conn *c = app_acquire_read(a, &from, err, errlen);
        if (!c) { *status = 503; return -1; }
        snap = kpi_snapshot_get(a->kpi, c, err, errlen);
        db_release(from, c);
    }
    if (!snap) { *status = 503; return -1; }
    *allowed = kpi_settings_get(snap->settings, "benchmarks.shared", 1) != 0;
    kpi_snapshot_release(a->kpi, snap);
    return 0;
}

/* One engine query over every store, parsed. NULL with *status and err. */
static cJSON *query_all(app *a, const char *const *ids, int nids, const char *from, const char *to, const char *by,
                        int *status, char *err, size_t errlen)
{
    principal all;
    principal_cli(&all);                 /* every store of the group, whoever asks */
    kpi_text_query q = { .ids = ids, .nids = nids, .from = from, .to = to, .by = by };
    size_t len = 0;
    int got;
    char *text = kpi_query_text(a, &all, &q, KPI_FORM_TEXT, &len, &got, NULL, status, err, errlen);
    if (!text) return NULL;
    cJSON *o = cJSON_ParseWithLength(text, len);
    free(text);
    if (!o) { *status = 500; snprintf(err, errlen, "benchmarks: the KPI answer could not be read"); }
    return o;
}

static void add_number_or_null(cJSON *o, const char *name, bool have, double v)
{
    if (have && isfinite(v)) cJSON_AddNumberToObject(o, name, v);
    else cJSON_AddNullToObject(o, name);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* The benchmark of id from the by-store and by-group answers. */
static cJSON *one_benchmark(const char *id, const cJSON *by_store, const cJSON *by_group, double *vals)
{
    int n = 0;
    const cJSON *rows = cJSON_GetObjectItemCaseSensitive(by_store, "rows");
    for (const cJSON *row = rows ? rows->child : NULL; row; row = row->next) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(row, "values"), id);
        if (cJSON_IsNumber(v) && isfinite(v->valuedouble)) vals[n++] = v->valuedouble;
    }
    double group = NAN;
    const cJSON *grows = cJSON_GetObjectItemCaseSensitive(by_group, "rows");
    if (grows && grows->child) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(grows->child, "values"), id);
        if (cJSON_IsNumber(v)) group = v->valuedouble;
    }
    qsort(vals, (size_t)n, sizeof *vals, cmp_double);
    bool enough = n >= BENCHMARK_MIN_STORES;
    cJSON *o = cJSON_CreateObject();
    if (!o) return NULL;
    cJSON_AddNumberToObject(o, "stores", n);
    add_number_or_null(o, "group", enough, group);
    add_number_or_null(o, "p25", enough, enough ? benchmark_percentile(vals, n, 0.25) : NAN);
    add_number_or_null(o, "median", enough, enough ? benchmark_percentile(vals, n, 0.5) : NAN);
    add_number_or_null(o, "p75", enough, enough ? benchmark_percentile(vals, n, 0.75) : NAN);
    return o;
}

cJSON *benchmarks_json(app *a, const principal *who, const char *const *ids, int nids, const char *from,
                       const char *to, int *status, char *err, size_t errlen)
{
    bool allowed;
    if (benchmarks_allowed(a, who, &allowed, status, err, errlen) != 0) return NULL;
    if (!allowed) {
        *status = 403;
        snprintf(err, errlen, "对标已由管理员关闭 (benchmarks are switched off for non-admins: setting benchmarks.shared = 0)");
        return NULL;
    }
    cJSON *by_store = query_all(a, ids, nids, from, to, "store", status, err, errlen);
    if (!by_store) return NULL;
    cJSON *by_group = query_all(a, ids, nids, from, to, "group", status, err, errlen);
    if (!by_group) { cJSON_Delete(by_store); return NULL; }
    int nrows = cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(by_store, "rows"));
    double *vals = malloc((size_t)(nrows > 0 ? nrows : 1) * sizeof *vals);
    cJSON *out = cJSON_CreateObject(), *values = NULL;
    bool ok = vals && out && cJSON_AddStringToObject(out, "from", from) && cJSON_AddStringToObject(out, "to", to) &&
              (values = cJSON_AddObjectToObject(out, "values"));
    for (int i = 0; ok && i < nids; i++) {
        if (cJSON_GetObjectItemCaseSensitive(values, ids[i])) continue;      /* named twice */
        cJSON *b = one_benchmark(ids[i], by_store, by_group, vals);
        ok = b && cJSON_AddItemToObject(values, ids[i], b);
        if (b && !ok) cJSON_Delete(b);
    }
    free(vals);
    cJSON_Delete(by_store);
    cJSON_Delete(by_group);
    if (!ok) {
        cJSON_Delete(out);
        *status = 500;
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    *status = 200;
    return out;
}
