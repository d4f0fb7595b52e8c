/* kpi: the KPI engine (see kpi.h). A request names KPI ids, a period, a
 * grouping (`by`) and the stores of the caller's scope (from auth's
 * scope_resolve). For each id and period the engine asks the plugin that
 * provides the id for per-store components (numerator, denominator, valid),
 * computed over the whole group once, and folds them here, in one place:
 * a ratio from the summed numerator and denominator of the stores (never an
 * average of ratios), a store flagged invalid left out of its region and
 * the group, null for a ratio over nothing, 0 for a sum over nothing.
 *
 * What is kept between requests (the snapshot of the data generation, the
 * components, whole answers) is kpi_cache.c's; computing the components a
 * query lacks (once for every caller, in parallel within the query's share
 * of the pool) is kpi_compute.c's. The HTTP routes over this
 * engine are core/http/routes_kpi.c; `fourscore kpi` is core/cli/cmd_engine.c. */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "app.h"
#include "calendar.h"
#include "auth.h"
#include "config.h"
#include "kpi.h"
#include "kpi_cache.h"
#include "kpi_compute.h"
#include "kpi_targets.h"
#include "log.h"
#include "counters.h"
#include "plugins.h"

#define KPI_MAX_MONTHS         600
#define GROUP_LABEL            "集团"
#define KPI_REFRESH_MAX_STORES 4096

/* --- dates --- */

/* A real date 'YYYY-MM-DD' (years 1000-9998). */
static bool date_parse(const char *s, int *y, int *m, int *d)
{
    if (!s || strlen(s) != 10 || s[4] != '-' || s[7] != '-') return false;
    for (int i = 0; i < 10; i++)
        if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9')) return false;
    *y = atoi(s);
    *m = (s[5] - '0') * 10 + (s[6] - '0');
    *d = (s[8] - '0') * 10 + (s[9] - '0');
    return *y >= 1000 && *y <= 9998 && *m >= 1 && *m <= 12 && *d >= 1 && *d <= calendar_days_in_month(*y, *m);
}

/* --- engine lifetime --- */

static pthread_mutex_t kpi_open_mu = PTHREAD_MUTEX_INITIALIZER;

int kpi_open(app *a, char *err, size_t errlen)
{
    pthread_mutex_lock(&kpi_open_mu);
    int rc = 0;
    if (!a->plugins && plugins_load_dir(a->cfg.plugin_dir, &a->plugins, err, errlen) != 0) rc = -1;
    if (rc == 0 && !a->kpi) {
        a->kpi = kpi_cache_new(a->plugins);
        a->kpi_batches = kpi_batches_new();
        if (!a->kpi || !a->kpi_batches) {
            snprintf(err, errlen, "out of memory");
            rc = -1;
        }
    }
    pthread_mutex_unlock(&kpi_open_mu);
    return rc;
}

void kpi_close(app *a)
{
    if (!a) return;
    pthread_mutex_lock(&kpi_open_mu);
    kpi_batches_free(a->kpi_batches);
    a->kpi_batches = NULL;
    kpi_cache_free(a->kpi);
    a->kpi = NULL;
    plugins_free(a->plugins);
    a->plugins = NULL;
    pthread_mutex_unlock(&kpi_open_mu);
}

static int engine_ready(app *a, char *err, size_t errlen)
{
    if (a->kpi && a->plugins) return 0;
    return kpi_open(a, err, errlen);
}

/* --- catalogue --- */

int kpi_budget_check(void *ud, const char *id)
{
    char err[256];
    app *a = ud;
    if (!a || engine_ready(a, err, sizeof err) != 0) return -1;
    const plugin_kpi *pk = plugins_find_kpi(a->plugins, id);
    return !pk ? -1 : pk->budget ? 1 : 0;
}

bool kpi_exists(app *a, const char *id)
{
    char err[256];
    if (engine_ready(a, err, sizeof err) != 0) return false;
    return plugins_find_kpi(a->plugins, id) != NULL;
}

static int by_flag(const char *by)
{
    if (!strcmp(by, "group")) return FSP_BY_GROUP;
    if (!strcmp(by, "region")) return FSP_BY_REGION;
    if (!strcmp(by, "store")) return FSP_BY_STORE;
    if (!strcmp(by, "month")) return FSP_BY_MONTH;
    if (!strcmp(by, "insurer")) return FSP_BY_INSURER;
    return 0;
}

/* The by dimensions of a KPI: exactly its mask (0 means FSP_BY_DEFAULT). */
static unsigned def_by(const fsp_kpi_def *d)
{
    return d->by ? d->by : FSP_BY_DEFAULT;
}

/* The target in force: a setting "<id>.target" / ".target_low" / ".target_high", else the plugin's. */
static cJSON *target_json(const fsp_kpi_def *d, const kpi_settings *s)
{
    char n1[120], n2[120], n3[120];
    snprintf(n1, sizeof n1, "%s.target", d->id);
    snprintf(n2, sizeof n2, "%s.target_low", d->id);
    snprintf(n3, sizeof n3, "%s.target_high", d->id);
    if (kpi_settings_has(s, n1)) return cJSON_CreateNumber(kpi_settings_get(s, n1, 0));
    if (kpi_settings_has(s, n2) || kpi_settings_has(s, n3) || d->target_kind == FSP_TARGET_BAND) {
        double low = kpi_settings_get(s, n2, d->target_kind == FSP_TARGET_BAND ? d->target_low : NAN);
        double high = kpi_settings_get(s, n3, d->target_kind == FSP_TARGET_BAND ? d->target_high : NAN);
        cJSON *o = cJSON_CreateObject();
        if (!o) return NULL;
        if (isfinite(low)) cJSON_AddNumberToObject(o, "low", low);
        else cJSON_AddNullToObject(o, "low");
        if (isfinite(high)) cJSON_AddNumberToObject(o, "high", high);
        else cJSON_AddNullToObject(o, "high");
        return o;
    }
    if (d->target_kind == FSP_TARGET_NUMBER) return cJSON_CreateNumber(d->target_low);
    return cJSON_CreateNull();
}

static cJSON *catalogue_entry(const plugin_registry *reg, const plugin_kpi *pk, const kpi_settings *s)
{
    const fsp_kpi_def *d = pk->def;
    cJSON *o = cJSON_CreateObject();
    if (!o) return NULL;
    cJSON_AddStringToObject(o, "id", d->id);
    cJSON_AddStringToObject(o, "plugin", reg->plugins[pk->plugin].name);
    cJSON *name = cJSON_AddObjectToObject(o, "name");
    if (name) {
        cJSON_AddStringToObject(name, "zh", d->name_zh);
        cJSON_AddStringToObject(name, "en", d->name_en);
    }
    cJSON_AddStringToObject(o, "unit", d->unit);
    cJSON_AddStringToObject(o, "direction", plugin_direction_name(d->direction));
    cJSON *t = target_json(d, s);
    if (t) cJSON_AddItemToObject(o, "target", t);
    cJSON_AddStringToObject(o, "formula", d->formula);
    cJSON *by = cJSON_AddArrayToObject(o, "by");
    static const char *const bys[] = { "group", "region", "store", "month", "insurer" };
    for (size_t i = 0; by && i < sizeof bys / sizeof *bys; i++)
        if (def_by(d) & (unsigned)by_flag(bys[i])) cJSON_AddItemToArray(by, cJSON_CreateString(bys[i]));
    cJSON_AddBoolToObject(o, "budget", pk->budget);
    return o;
}

cJSON *kpi_target_json(app *a, const char *id)
{
    char err[256];
    if (engine_ready(a, err, sizeof err) != 0) return NULL;
    const plugin_kpi *pk = plugins_find_kpi(a->plugins, id);
    if (!pk) return NULL;
    /* the settings in force (target overrides); the plugin's target alone
     * when the database does not answer */
    kpi_snapshot *snap = NULL;
    db_pool *from = NULL;
    db_conn *c = app_acquire_read(a, &from, err, sizeof err);
    if (c) {
        snap = kpi_snapshot_get(a->kpi, c, err, sizeof err);
        db_release(from, c);
    }
    cJSON *t = target_json(pk->def, snap ? snap->settings : NULL);
    if (snap) kpi_snapshot_release(a->kpi, snap);
    if (cJSON_IsNull(t)) {
        cJSON_Delete(t);
        return NULL;
    }
    return t;
}

cJSON *kpi_catalogue_json(app *a, int *status, char *err, size_t errlen)
{
    *status = 500;
    if (engine_ready(a, err, errlen) != 0) return NULL;
    *status = 503;
    db_pool *from = NULL;
    db_conn *c = app_acquire_read(a, &from, err, errlen);
    if (!c) return NULL;
    kpi_snapshot *snap = kpi_snapshot_get(a->kpi, c, err, errlen);
    db_release(from, c);
    if (!snap) return NULL;
    cJSON *o = cJSON_CreateObject();
    cJSON *list = o ? cJSON_AddArrayToObject(o, "kpis") : NULL;
    for (int i = 0; list && i < a->plugins->nkpis; i++) {
        cJSON *e = catalogue_entry(a->plugins, &a->plugins->kpis[i], snap->settings);
        if (e) cJSON_AddItemToArray(list, e);
    }
    cJSON *s = kpi_settings_json(snap->settings);
    if (o && s) cJSON_AddItemToObject(o, "settings", s);
    else cJSON_Delete(s);
    cJSON *defs = kpi_setting_defs_json(a->plugins);
    if (o && defs) cJSON_AddItemToObject(o, "setting_defs", defs);
    else cJSON_Delete(defs);
    kpi_snapshot_release(a->kpi, snap);
    if (!o) {
        *status = 500;
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    *status = 200;
    return o;
}

/* --- folding --- */

/* Per-store sums of one component list (indexed like snap->stores). */
typedef struct store_acc {
    double num, den;
    bool any, invalid;
} store_acc;

typedef struct fold_acc {
    double num, den;
    bool any_valid, any_invalid;
} fold_acc;

/* Sum comps into acc by store (only the components of insurer, when not NULL). */
static void acc_by_store(const kpi_snapshot *snap, const cache_entry *e, const char *insurer, store_acc *acc)
{
    memset(acc, 0, (size_t)snap->nstores * sizeof *acc);
    for (int i = 0; i < e->ncomps; i++) {
        const kpi_component *c = &e->comps[i];
        int s = kpi_dir_find(snap->stores, snap->nstores, c->store_code);
        if (s < 0) continue;
        if (!c->valid) { acc[s].invalid = true; continue; }   /* invalid under any insurer: the store is out */
        if (insurer && strcmp(c->insurer_code, insurer) != 0) continue;
        acc[s].num += c->num;
        acc[s].den += c->den;
        acc[s].any = true;
    }
}

static void fold_add(fold_acc *f, const store_acc *s)
{
    if (s->invalid) { f->any_invalid = true; return; }
    if (!s->any) return;
    f->num += s->num;
    f->den += s->den;
    f->any_valid = true;
}

static void fold_value(const fsp_kpi_def *d, const fold_acc *f, double *value, bool *is_null)
{
    *value = 0;
    *is_null = false;
    if (d->fold == FSP_FOLD_RATIO) {
        if (!f->any_valid || f->den == 0) *is_null = true;
        else *value = f->num / f->den;
    } else {
        if (f->any_valid) *value = f->num;
        else if (f->any_invalid) *is_null = true;
    }
    if (!*is_null && !isfinite(*value)) {
        *is_null = true;
        *value = 0;
    }
}

/* --- answers --- */

/* --- the query --- */

static int build_periods(const kpi_request *req, bool monthly, period **out, int *n, char *err, size_t errlen)
{
    int fy, fm, fd, ty, tm, td;
    *out = NULL;
    *n = 0;
    if (!date_parse(req->from, &fy, &fm, &fd)) {
        snprintf(err, errlen, "from: '%.20s' is not a date YYYY-MM-DD", req->from);
        return -1;
    }
    if (!date_parse(req->to, &ty, &tm, &td)) {
        snprintf(err, errlen, "to: '%.20s' is not a date YYYY-MM-DD", req->to);
        return -1;
    }
    int f = calendar_days_from_civil(fy, fm, fd), t = calendar_days_from_civil(ty, tm, td);
    if (t < f) {
        snprintf(err, errlen, "to (%s) is before from (%s)", req->to, req->from);
        return -1;
    }
    int months = (ty - fy) * 12 + (tm - fm) + 1;
    if (monthly && months > KPI_MAX_MONTHS) {
        snprintf(err, errlen, "by=month: the period covers %d months, at most %d", months, KPI_MAX_MONTHS);
        return -1;
    }
    int count = monthly ? months : 1;
    period *ps = calloc((size_t)count, sizeof *ps);
    if (!ps) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (!monthly) {
        snprintf(ps[0].from, sizeof ps[0].from, "%s", req->from);
        snprintf(ps[0].to, sizeof ps[0].to, "%s", req->to);
        ps[0].days = (int)(t - f + 1);
    } else {
        int y = fy, m = fm;
        for (int i = 0; i < count; i++) {
            int d0 = (y == fy && m == fm) ? fd : 1;
            int d1 = (y == ty && m == tm) ? td : calendar_days_in_month(y, m);
            unsigned uy = (unsigned)y % 10000u, um = (unsigned)m % 100u;
            snprintf(ps[i].key, sizeof ps[i].key, "%04u-%02u", uy, um);
            snprintf(ps[i].from, sizeof ps[i].from, "%04u-%02u-%02u", uy, um, (unsigned)d0 % 100u);
            snprintf(ps[i].to, sizeof ps[i].to, "%04u-%02u-%02u", uy, um, (unsigned)d1 % 100u);
            ps[i].days = d1 - d0 + 1;
            if (++m > 12) { m = 1; y++; }
        }
    }
    *out = ps;
    *n = count;
    return 0;
}

/* The budgets of every row of ans (kpi_targets_fill; null for by=insurer), on the request's own
 * connection while the workers compute the values (kpi_compute_missing's meanwhile). */
typedef struct targets_job {
    db_conn *c; const kpi_request *req; const plugin_kpi **pks; const kpi_snapshot *snap;
    const int *scope_idx; int nscope, byf; const int *row_ref; kpi_answer *ans; int rc; char err[512];
} targets_job;
static void fill_targets(void *arg)
{
    targets_job *t = arg;
    const int nscope = t->nscope, byf = t->byf, nrows = t->ans->nrows, nids = t->req->nids;
    size_t cells = (size_t)(nrows ? nrows : 1) * (size_t)(nids ? nids : 1);
    const char **codes = calloc((size_t)(nscope ? nscope : 1), sizeof *codes), **ids = calloc((size_t)(nids ? nids : 1), sizeof *ids);
    int *row_of = calloc((size_t)(nscope ? nscope : 1), sizeof *row_of);
    bool *budget = calloc((size_t)(nids ? nids : 1), sizeof *budget), *null = calloc(cells, sizeof *null);
    double *v = calloc(cells, sizeof *v);
    t->rc = codes && ids && row_of && budget && null && v ? 0 : -1;
    if (t->rc) snprintf(t->err, sizeof t->err, "out of memory");
    for (int i = 0; !t->rc && i < nscope; i++) {
        codes[i] = t->snap->stores[t->scope_idx[i]].code;
        row_of[i] = byf == FSP_BY_STORE ? i : -1;
        for (int r = 0; byf == FSP_BY_REGION && r < nrows; r++)
            if (t->snap->stores[t->scope_idx[i]].region == t->row_ref[r]) row_of[i] = r;
    }
    for (int k = 0; !t->rc && k < nids; k++) ids[k] = t->pks[k]->def->id, budget[k] = t->pks[k]->budget && byf != FSP_BY_INSURER;
    kpi_target_rows q = { .stores = codes, .nstores = nscope, .nrows = nrows, .monthly = byf == FSP_BY_MONTH,
                          .row_of_store = byf == FSP_BY_STORE || byf == FSP_BY_REGION ? row_of : NULL,
                          .generation = t->snap->budgets_generation };
    if (!t->rc) t->rc = kpi_targets_fill(t->c, t->req->from, t->req->to, ids, budget, nids, &q, v, null, t->err, sizeof t->err);
    for (size_t k = 0, i = 0; !t->rc && k < (size_t)nids; k++)
        for (int r = 0; r < nrows; r++, i++) t->ans->rows[r].targets[k] = v[i], t->ans->rows[r].targets_null[k] = null[i];
    free(codes); free(ids); free(row_of); free(budget); free(null); free(v);
}

int kpi_query(app *a, const kpi_request *req, kpi_answer **out, int *status, char *err, size_t errlen)
{
    *out = NULL;
    *status = 400;
    if (engine_ready(a, err, errlen) != 0) {
        *status = 500;
        return -1;
    }
    const char *by = req->by && *req->by ? req->by : "group";
    int byf = by_flag(by);
    if (!byf) {
        snprintf(err, errlen, "by: '%.20s' is not one of group, region, store, month, insurer", by);
        return -1;
    }
    if (req->nids < 1 || req->nids > KPI_MAX_IDS) {
        snprintf(err, errlen, "ids: between 1 and %d KPI ids are needed", KPI_MAX_IDS);
        return -1;
    }
    const plugin_kpi **pks = calloc((size_t)req->nids, sizeof *pks);
    if (!pks) {
        *status = 500;
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    period *periods = NULL;
    int nperiods = 0;
    for (int i = 0; i < req->nids; i++) {
        pks[i] = plugins_find_kpi(a->plugins, req->ids[i]);
        if (!pks[i]) {
            snprintf(err, errlen, "ids: unknown KPI id '%.64s'", req->ids[i] ? req->ids[i] : "");
            free(pks);
            return -1;
        }
        if (!(def_by(pks[i]->def) & (unsigned)byf)) {
            snprintf(err, errlen, "by: %s does not support by=%s", req->ids[i], by);
            free(pks);
            return -1;
        }
    }
    if (build_periods(req, byf == FSP_BY_MONTH, &periods, &nperiods, err, errlen) != 0) {
        free(pks);
        return -1;
    }

    /* the query's connection is taken when it is needed: for the snapshot
     * (unless one was just read), the targets, the components it computes */
    *status = 503;
    kpi_conn qc = { .a = a };
    kpi_snapshot *snap = kpi_snapshot_fresh(a->kpi);
    if (!snap) {
        db_conn *c = kpi_conn_get(&qc, err, errlen);
        if (!c) {
            free(pks);
            free(periods);
            return -1;
        }
        snap = kpi_snapshot_get(a->kpi, c, err, errlen);
    }
    kpi_answer *ans = NULL;
    store_acc *acc = NULL;
    int *scope_idx = NULL, nscope = 0;
    bool *in_scope = NULL;       /* per directory index: the stores the fold needs */
    int rc = -1;
    if (!snap) goto done;

    /* the stores of the scope, as directory indices in code order */
    *status = 500;
    scope_idx = calloc((size_t)(snap->nstores ? snap->nstores : 1), sizeof *scope_idx);
    acc = calloc((size_t)(snap->nstores ? snap->nstores : 1), sizeof *acc);
    in_scope = calloc((size_t)(snap->nstores ? snap->nstores : 1), sizeof *in_scope);
    if (!scope_idx || !acc || !in_scope) {
        snprintf(err, errlen, "out of memory");
        goto done;
    }
    for (int i = 0; req->stores && i < req->stores->n; i++) {
        int s = kpi_dir_find(snap->stores, snap->nstores, req->stores->codes[i]);
        if (s >= 0) in_scope[s] = true;
    }
    for (int s = 0; s < snap->nstores; s++)
        if (in_scope[s]) scope_idx[nscope++] = s;

    /* the rows */
    int nrows = 0;
    int *row_ref = NULL;     /* store / region / insurer index per row */
    switch (byf) {
    case FSP_BY_GROUP: nrows = 1; break;
    case FSP_BY_STORE: nrows = nscope; break;
    case FSP_BY_MONTH: nrows = nperiods; break;
    case FSP_BY_INSURER: nrows = snap->ninsurers; break;
    case FSP_BY_REGION: {
        bool *seen = calloc((size_t)(snap->nregions ? snap->nregions : 1), sizeof *seen);
        if (!seen) goto oom;
        for (int i = 0; i < nscope; i++)
            if (snap->stores[scope_idx[i]].region >= 0) seen[snap->stores[scope_idx[i]].region] = true;
        row_ref = calloc((size_t)(snap->nregions ? snap->nregions : 1), sizeof *row_ref);
        if (!row_ref) { free(seen); goto oom; }
        for (int r = 0; r < snap->nregions; r++)
            if (seen[r]) row_ref[nrows++] = r;
        free(seen);
        break;
    }
    }
    ans = kpi_answer_new(nrows, req->nids, req->targets);
    if (!ans) { free(row_ref); goto oom; }
    ans->generation = snap->generation;
    for (int r = 0; r < nrows; r++) {
        kpi_row *row = &ans->rows[r];
        const char *key = "group", *label = GROUP_LABEL;
        if (byf == FSP_BY_STORE) { key = snap->stores[scope_idx[r]].code; label = snap->stores[scope_idx[r]].name; }
        else if (byf == FSP_BY_REGION) { key = snap->regions[row_ref[r]].code; label = snap->regions[row_ref[r]].name; }
        else if (byf == FSP_BY_INSURER) { key = snap->insurers[r].code; label = snap->insurers[r].name; }
        else if (byf == FSP_BY_MONTH) { key = periods[r].key; label = periods[r].key; }
        snprintf(row->key, sizeof row->key, "%s", key);
        snprintf(row->label, sizeof row->label, "%s", label);
    }

    /* the values: per id and period, fold the components (computing the
     * missing ones in parallel first) */
    targets_job tj = { NULL, req, pks, snap, scope_idx, nscope, byf, row_ref, ans, 0, "" };
    if (req->targets && !(tj.c = kpi_conn_get(&qc, err, errlen))) {
        free(row_ref);
        *status = 503;
        goto done;
    }
    if (kpi_compute_missing(a, &qc, snap, pks, req->nids, periods, nperiods, byf == FSP_BY_INSURER, in_scope,
                            req->targets ? fill_targets : NULL, &tj, status, err, errlen) != 0) {
        free(row_ref);
        goto done;
    }
    for (int k = 0; k < req->nids; k++) {
        const fsp_kpi_def *d = pks[k]->def;
        for (int p = 0; p < nperiods; p++) {
            cache_entry *e = kpi_components_get(a, &qc, snap, pks[k], &periods[p], byf == FSP_BY_INSURER, in_scope,
                                                status, err, errlen);
            if (!e) { free(row_ref); goto done; }
            if (e->generation < ans->generation) ans->generation = e->generation;
            if (byf == FSP_BY_INSURER) {
                for (int r = 0; r < nrows; r++) {
                    acc_by_store(snap, e, snap->insurers[r].code, acc);
                    fold_acc f = { 0 };
                    for (int i = 0; i < nscope; i++) fold_add(&f, &acc[scope_idx[i]]);
                    fold_value(d, &f, &ans->rows[r].values[k], &ans->rows[r].is_null[k]);
                }
            } else {
                acc_by_store(snap, e, NULL, acc);
                if (byf == FSP_BY_STORE) {
                    for (int r = 0; r < nrows; r++) {
                        fold_acc f = { 0 };
                        fold_add(&f, &acc[scope_idx[r]]);
                        fold_value(d, &f, &ans->rows[r].values[k], &ans->rows[r].is_null[k]);
                    }
                } else if (byf == FSP_BY_REGION) {
                    for (int r = 0; r < nrows; r++) {
                        fold_acc f = { 0 };
                        for (int i = 0; i < nscope; i++)
                            if (snap->stores[scope_idx[i]].region == row_ref[r]) fold_add(&f, &acc[scope_idx[i]]);
                        fold_value(d, &f, &ans->rows[r].values[k], &ans->rows[r].is_null[k]);
                    }
                } else {   /* group, or this month's row */
                    int r = byf == FSP_BY_MONTH ? p : 0;
                    fold_acc f = { 0 };
                    for (int i = 0; i < nscope; i++) fold_add(&f, &acc[scope_idx[i]]);
                    fold_value(d, &f, &ans->rows[r].values[k], &ans->rows[r].is_null[k]);
                }
            }
            kpi_cache_release(a->kpi, e);
        }
    }
    if (req->targets && tj.rc != 0) {
        free(row_ref);
        snprintf(err, errlen, "%s", tj.err);
        *status = 503;
        goto done;
    }
    free(row_ref);
    *out = ans;
    ans = NULL;
    *status = 200;
    rc = 0;
    goto done;
oom:
    *status = 500;
    snprintf(err, errlen, "out of memory");
done:
    kpi_answer_free(ans);
    free(acc);
    free(scope_idx);
    free(in_scope);
    if (snap) kpi_snapshot_release(a->kpi, snap);
    kpi_conn_drop(&qc);
    free(pks);
    free(periods);
    return rc;
}

/* --- a query given as the caller's strings, answered as JSON text --- */

/* Resolve the scope of a query (403 naming an unknown or out-of-scope store
 * or region) against the directory of the current data generation: one
 * read of the generation, on one read connection. */
static int resolve_scope(app *a, const principal *who, const kpi_text_query *q, store_set *set,
                         unsigned long long *generation, int *status, char *err, size_t errlen)
{
    kpi_snapshot *snap = kpi_snapshot_fresh(a->kpi);
    if (!snap) {
        db_pool *from = NULL;
        db_conn *c = app_acquire_read(a, &from, err, errlen);
        if (!c) {
            *status = 503;
            return -1;
        }
        snap = kpi_snapshot_get(a->kpi, c, err, errlen);
        db_release(from, c);
    }
    if (!snap) {
        *status = 503;
        return -1;
    }
    char bad[200];
    int rc = scope_resolve_dir(&snap->scope, who, q->stores, q->nstores, q->regions, q->nregions, set, bad,
                               sizeof bad);
    *generation = snap->generation;
    kpi_snapshot_release(a->kpi, snap);
    if (rc == SCOPE_DB_ERROR) {
        *status = 500;
        snprintf(err, errlen, "%s", bad);
        return -1;
    }
    if (rc != 0) {
        *status = 403;
        snprintf(err, errlen, "%.150s is not a store or region you may see", bad);
        return -1;
    }
    return 0;
}

/* The cache key of an answer: the request and the scope's stores. */
static char *answer_key(const char *const *ids, int nids, const char *from, const char *to, const char *by,
                        bool targets, const store_set *set)
{
    size_t len = strlen(from) + strlen(to) + strlen(by) + 10;
    for (int i = 0; i < nids; i++) len += strlen(ids[i]) + 1;
    for (int i = 0; i < set->n; i++) len += strlen(set->codes[i]) + 1;
    char *key = malloc(len);
    if (!key) return NULL;
    size_t o = (size_t)snprintf(key, len, "%s|%s|%s|%s", from, to, by, targets ? "t|" : "");
    for (int i = 0; i < nids; i++) o += (size_t)snprintf(key + o, len - o, "%s,", ids[i]);
    key[o++] = '|';
    key[o] = '\0';
    for (int i = 0; i < set->n; i++) o += (size_t)snprintf(key + o, len - o, "%s,", set->codes[i]);
    return key;
}


char *kpi_query_text(app *a, const principal *who, const kpi_text_query *q, int want, size_t *len, int *got,
                     gzip_piece *piece, int *status, char *err, size_t errlen)
{
    *status = 400;
    *got = KPI_FORM_TEXT;
    const char *from = q->from, *to = q->to;
    if (q->nids == 0) { snprintf(err, errlen, "ids: missing (a comma-separated list of KPI ids)"); return NULL; }
    if (!from || !*from) { snprintf(err, errlen, "from: missing (YYYY-MM-DD)"); return NULL; }
    if (!to || !*to) { snprintf(err, errlen, "to: missing (YYYY-MM-DD)"); return NULL; }
    if (strlen(from) != 10) { snprintf(err, errlen, "from: '%.20s' is not a date YYYY-MM-DD", from); return NULL; }
    if (strlen(to) != 10) { snprintf(err, errlen, "to: '%.20s' is not a date YYYY-MM-DD", to); return NULL; }
    if (engine_ready(a, err, errlen) != 0) { *status = 500; return NULL; }
    const char *by = q->by && *q->by ? q->by : "group";
    store_set set = { 0 };
    unsigned long long gen = 0;
    if (resolve_scope(a, who, q, &set, &gen, status, err, errlen) != 0) return NULL;
    char *key = answer_key(q->ids, q->nids, from, to, by, q->targets, &set);
    char *text = key ? kpi_answers_get(a->kpi, gen, key, want, len, got, piece) : NULL;
    if (text) {
        free(key);
        store_set_free(&set);
        *status = 200;
        if (q->kept_at) *q->kept_at = gen;
        return text;
    }
    kpi_request req = { .ids = q->ids, .nids = q->nids, .by = by, .stores = &set, .targets = q->targets };
    memcpy(req.from, from, 11);
    memcpy(req.to, to, 11);
    kpi_answer *ans = NULL;
    if (kpi_query(a, &req, &ans, status, err, errlen) == 0) {
        text = kpi_answer_text(&req, ans, len);
        if (!text) {
            *status = 500;
            snprintf(err, errlen, "out of memory");
        } else if (key) {
            /* kept at the oldest generation it was folded from (a lagging replica's) */
            kpi_answers_put(a->kpi, ans->generation < gen ? ans->generation : gen, key,
                            (const char *const *)set.codes, set.n, text, *len);
        }
        if (text && q->kept_at) *q->kept_at = ans->generation < gen ? ans->generation : gen;
    }
    free(key);
    kpi_answer_free(ans);
    store_set_free(&set);
    return text;
}

/* --- refreshing a kept answer --- */

/* Split s in place at each sep into out (at most max pieces): their number. */
static int split_in_place(char *s, char sep, char **out, int max)
{
    int n = 0;
    while (s && n < max) {
        out[n++] = s;
        char *at = strchr(s, sep);
        if (at) *at++ = '\0';
        s = at;
    }
    return n;
}

/* The pieces of a list "a,b,c," into out (the text split in place): their number. */
static int list_pieces(char *s, char **out, int max)
{
    int n = *s ? split_in_place(s, ',', out, max) : 0;
    if (n > 0 && !*out[n - 1]) n--;        /* the trailing comma */
    return n;
}

int kpi_answer_refresh(app *a, const char *key, int *status, char *err, size_t errlen)
{
    *status = 500;
    char *text = strdup(key);
    int nstores_max = KPI_REFRESH_MAX_STORES;
    char **ids = calloc(KPI_MAX_IDS + 1, sizeof *ids), **stores = calloc((size_t)nstores_max + 1, sizeof *stores);
    if (!text || !ids || !stores) {
        free(text); free(ids); free(stores);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    /* answer_key: from|to|by|[t|]ids,|stores, */
    char *f[6];
    int nf = split_in_place(text, '|', f, 6);
    bool targets = nf == 6;
    int rc = -1;
    if ((nf == 5 || (nf == 6 && strcmp(f[3], "t") == 0))) {
        int nids = list_pieces(f[targets ? 4 : 3], ids, KPI_MAX_IDS);
        int nstores = list_pieces(f[targets ? 5 : 4], stores, nstores_max);
        principal who = { .role = ROLE_ADMIN, .all_stores = true };
        snprintf(who.name, sizeof who.name, "kpi refresh");
        kpi_text_query q = { .ids = (const char *const *)ids, .nids = nids, .from = f[0], .to = f[1], .by = f[2],
                             .stores = (const char *const *)stores, .nstores = nstores, .targets = targets };
        size_t len = 0;
        int got = 0;
        char *answer = nids > 0 && nstores > 0 ? kpi_query_text(a, &who, &q, KPI_FORM_TEXT, &len, &got, NULL, status,
                                                                err, errlen) : NULL;
        rc = answer ? 0 : -1;
        if (nids == 0 || nstores == 0) snprintf(err, errlen, "an answer over nothing");
        free(answer);
    } else {
        snprintf(err, errlen, "not an answer key");
    }
    free(text);
    free(ids);
    free(stores);
    return rc;
}

