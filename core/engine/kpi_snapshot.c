/* kpi_snapshot: reading the snapshot of one data generation for the KPI
 * engine's state (kpi_cache.c): the directory of stores, regions and
 * insurers (read, or copied from the previous snapshot while the directory
 * generation stays), the settings in force, and the stores the generations
 * since the previous snapshot changed (data_change_stores, schemas/027).
 * Part of core/engine/; declared in kpi_cache.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "kpi_cache.h"

#define KPI_CHANGES_READ_MAX   1024           /* rows of data_change_stores read at one new generation */

static const char SQL_CHANGES[] =
    "SELECT generation, store_code FROM data_change_stores WHERE generation > ? AND generation <= ?"
    " ORDER BY generation LIMIT 1025";

/* --- the directory of stores, regions, insurers (per generation) --- */

void kpi_snapshot_free(kpi_snapshot *s)
{
    if (!s) return;
    for (int i = 0; i < s->nstores; i++) free(s->stores[i].name);
    for (int i = 0; i < s->nregions; i++) free(s->regions[i].name);
    for (int i = 0; i < s->ninsurers; i++) free(s->insurers[i].name);
    free(s->stores);
    free(s->regions);
    free(s->insurers);
    kpi_settings_free(s->settings);
    free(s->scope_codes);
    free(s);
}

int kpi_dir_find(const dir_entry *v, int n, const char *code)
{
    int lo = 0, hi = n - 1;
    while (lo <= hi) {
        int mid = (lo + hi) / 2;
        int c = strcmp(v[mid].code, code);
        if (c == 0) return mid;
        if (c < 0) lo = mid + 1;
        else hi = mid - 1;
    }
    return -1;
}

/* Fill *out with the rows of sql: code, name[, region code] (sorted by code,
 * binary); keep: NULL, or where the result goes (then the caller frees it). */
static int dir_load(db_conn *c, const char *sql, dir_entry **out, int *n, db_result **keep, char *err, size_t errlen)
{
    db_result *res = NULL;
    *out = NULL;
    *n = 0;
    if (db_query(c, sql, NULL, 0, &res, err, errlen) != 0) return -1;
    dir_entry *v = res->nrows ? calloc((size_t)res->nrows, sizeof *v) : NULL;
    if (res->nrows && !v) goto oom;
    for (int i = 0; i < res->nrows; i++) {
        snprintf(v[i].code, sizeof v[i].code, "%s", db_cell(res, i, 0) ? db_cell(res, i, 0) : "");
        v[i].name = strdup(db_cell(res, i, 1) ? db_cell(res, i, 1) : "");
        v[i].region = -1;
        if (!v[i].name) {
            for (int k = 0; k < i; k++) free(v[k].name);
            free(v);
            goto oom;
        }
    }
    *out = v;
    *n = res->nrows;
    if (keep) *keep = res;
    else db_result_free(res);
    return 0;
oom:
    db_result_free(res);
    snprintf(err, errlen, "out of memory");
    return -1;
}

static const char SQL_DIR_STORES[] = "SELECT store_code, name, region_code FROM stores ORDER BY store_code";
static const char SQL_DIR_REGIONS[] = "SELECT region_code, name FROM regions ORDER BY region_code";
static const char SQL_DIR_INSURERS[] = "SELECT insurer_code, name FROM insurers ORDER BY insurer_code";

/* A copy of v[0..n) (names duplicated); NULL (and *ok false) when out of memory. */
static dir_entry *dir_copy(const dir_entry *v, int n, bool *ok)
{
    if (n == 0) return NULL;
    dir_entry *w = calloc((size_t)n, sizeof *w);
    if (!w) {
        *ok = false;
        return NULL;
    }
    for (int i = 0; i < n; i++) {
        w[i] = v[i];
        if (!(w[i].name = strdup(v[i].name))) {
            for (int k = 0; k < i; k++) free(w[k].name);
            free(w);
            *ok = false;
            return NULL;
        }
    }
    return w;
}

/* s's directory read from the database (4 statements' worth, with the settings). */
static int directory_read(db_conn *c, kpi_snapshot *s, char *err, size_t errlen)
{
    db_result *st = NULL;
    if (dir_load(c, SQL_DIR_STORES, &s->stores, &s->nstores, &st, err, errlen) != 0 ||
        dir_load(c, SQL_DIR_REGIONS, &s->regions, &s->nregions, NULL, err, errlen) != 0 ||
        dir_load(c, SQL_DIR_INSURERS, &s->insurers, &s->ninsurers, NULL, err, errlen) != 0) {
        db_result_free(st);
        return -1;
    }
    for (int i = 0; i < st->nrows && i < s->nstores; i++) {
        int k = kpi_dir_find(s->stores, s->nstores, db_cell(st, i, 0));
        if (k >= 0)
            s->stores[k].region = kpi_dir_find(s->regions, s->nregions, db_cell(st, i, 2) ? db_cell(st, i, 2) : "");
    }
    db_result_free(st);
    return 0;
}

/* s's directory copied from prev's (the same directory generation). */
static int directory_copy(kpi_snapshot *s, const kpi_snapshot *prev, char *err, size_t errlen)
{
    bool ok = true;
    s->stores = dir_copy(prev->stores, prev->nstores, &ok);
    s->nstores = ok ? prev->nstores : 0;
    s->regions = dir_copy(prev->regions, prev->nregions, &ok);
    s->nregions = ok ? prev->nregions : 0;
    s->insurers = dir_copy(prev->insurers, prev->ninsurers, &ok);
    s->ninsurers = ok ? prev->ninsurers : 0;
    if (!ok) snprintf(err, errlen, "out of memory");
    return ok ? 0 : -1;
}

/* The snapshot of generations g: its directory copied from prev when prev
 * (NULL: none) holds the same directory generation, else read; its
 * settings read. */
kpi_snapshot *kpi_snapshot_load(db_conn *c, const plugin_registry *plugins, const data_generations *g,
                                   const kpi_snapshot *prev, char *err, size_t errlen)
{
    kpi_snapshot *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    s->generation = g->data;
    s->budgets_generation = g->budgets;
    s->directory_generation = g->directory;
    bool same_directory = prev && g->directory > 0 && prev->directory_generation == g->directory;
    if ((same_directory ? directory_copy(s, prev, err, errlen) : directory_read(c, s, err, errlen)) != 0 ||
        kpi_settings_load(c, plugins, &s->settings, err, errlen) != 0) {
        kpi_snapshot_free(s);
        return NULL;
    }
    s->scope_codes = calloc((size_t)(2 * s->nstores + s->nregions + 1), sizeof *s->scope_codes);
    if (!s->scope_codes) {
        snprintf(err, errlen, "out of memory");
        kpi_snapshot_free(s);
        return NULL;
    }
    const char **codes = s->scope_codes;
    for (int i = 0; i < s->nstores; i++) {
        codes[i] = s->stores[i].code;
        codes[s->nstores + i] = s->stores[i].region >= 0 ? s->regions[s->stores[i].region].code : NULL;
    }
    for (int i = 0; i < s->nregions; i++) codes[2 * s->nstores + i] = s->regions[i].code;
    s->scope = (scope_dir){ s->nstores, codes, codes + s->nstores, s->nregions, codes + 2 * s->nstores };
    return s;
}

/* The changes of the generations (from, to] into *out (malloc'd, *n of
 * them; store: the index in s's directory): 0 when every one of those
 * generations named its stores, else -1 (also when they cannot be read, or
 * are too many): then everything changed. */
int kpi_changes_read(db_conn *c, const kpi_snapshot *s, unsigned long long from, unsigned long long to,
                        store_change **out, int *n)
{
    *out = NULL;
    *n = 0;
    if (to <= from || to - from > KPI_CHANGES_READ_MAX) return -1;
    db_val p[2] = { DB_INT(from), DB_INT(to) };
    db_result *res = NULL;
    char err[256];
    if (db_query(c, SQL_CHANGES, p, 2, &res, err, sizeof err) != 0) return -1;
    int nrows = res->nrows;
    store_change *v = nrows > 0 && nrows <= KPI_CHANGES_READ_MAX ? malloc((size_t)nrows * sizeof *v) : NULL;
    int rc = v ? 0 : -1;
    unsigned long long generations = 0, last = 0;
    for (int r = 0; rc == 0 && r < nrows; r++) {
        unsigned long long g = (unsigned long long)db_cell_int(res, r, 0);
        const char *code = db_cell(res, r, 1);
        int st = code ? kpi_dir_find(s->stores, s->nstores, code) : -1;
        if (st < 0) rc = -1;           /* a store the directory lacks: start over */
        if (g != last) {
            generations++;
            last = g;
        }
        v[r] = (store_change){ g, st };
    }
    db_result_free(res);
    if (rc == 0 && generations != to - from) rc = -1;
    if (rc != 0) {
        free(v);
        return -1;
    }
    *out = v;
    *n = nrows;
    return 0;
}

