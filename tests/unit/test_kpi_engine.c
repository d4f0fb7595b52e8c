/* test_kpi_engine: the KPI engine (core/engine/kpi.c) apart from the plugin
 * loader. No shared object is opened: the KPI definitions are a static
 * table of this file, put into a plugin registry built here (the public
 * structs of core/engine/plugins.h, as the loader would leave them after init),
 * and their compute functions are written here too. They emit known
 * components per store from the table `components` below, straight into
 * the call (what the host API's emit leaves there), and log every call, so
 * that the cache can be watched: which (KPI, period) was computed, and how
 * often. The engine needs its directory (stores, regions, insurers) and the
 * data generation from a database: a private MariaDB (testdb.h).
 *
 * Every expected value is worked out by hand from `components`, in the
 * comment above its checks. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "app.h"
#include "auth.h"
#include "check.h"
#include "config.h"
#include "kpi.h"
#include "plugins.h"
#include "testdb.h"
#include "generation.h"

/* --- the in-process "plugin": components and KPI definitions --- */

/* One component a compute emits when its day falls in the period asked
 * for. Stores S1, S2 are in region R1; S3, S4 in R2; S5 in R3 has no
 * components; SX is in no directory (its component must be ignored). */
typedef struct component_row {
    const char *day, *store, *insurer;
    double num, den;
    int valid;
} component_row;

static const component_row components[] = {
    { "2024-01-05", "S1", "I1", 10, 4, 1 },
    { "2024-01-20", "S1", "I2", 2, 1, 1 },      /* S1 twice: the engine adds them */
    { "2024-01-10", "S2", "I1", 1, 1, 1 },
    { "2024-02-03", "S2", "I2", 8, 2, 1 },
    { "2024-02-14", "S3", "I1", 3, 0, 1 },      /* a zero denominator */
    { "2024-01-15", "S4", "I1", 4, 8, 1 },
    { "2024-03-02", "S4", "I2", 5, 5, 0 },      /* S4 is invalid in any period holding March 2 */
    { "2024-01-15", "SX", "I1", 99, 1, 1 },     /* unknown store */
};
#define NCOMPONENTS (int)(sizeof components / sizeof components[0])

enum { K_SUM, K_RATIO, K_STORE_ONLY, K_FAIL, NKPIS };

static int compute_components(fsp_call *call, const fsp_kpi_args *args);

static const fsp_kpi_def kpi_defs[NKPIS] = {
    [K_SUM] = { .struct_size = sizeof(fsp_kpi_def), .id = "t.sum", .name_zh = "求和", .name_en = "Sum",
                .unit = "count", .direction = FSP_DIR_HIGHER, .target_kind = FSP_TARGET_NUMBER, .target_low = 7,
                .formula = "sum of num", .by = FSP_BY_DEFAULT | FSP_BY_INSURER, .fold = FSP_FOLD_SUM,
                .compute = compute_components },
    [K_RATIO] = { .struct_size = sizeof(fsp_kpi_def), .id = "t.ratio", .name_zh = "比率", .name_en = "Ratio",
                  .unit = "ratio", .direction = FSP_DIR_HIGHER, .formula = "sum of num / sum of den",
                  .by = FSP_BY_DEFAULT | FSP_BY_INSURER, .fold = FSP_FOLD_RATIO, .compute = compute_components },
    [K_STORE_ONLY] = { .struct_size = sizeof(fsp_kpi_def), .id = "t.store_only", .name_zh = "仅门店",
                       .name_en = "Stores only", .unit = "count", .formula = "sum of num, by store only",
                       .by = FSP_BY_STORE, .fold = FSP_FOLD_SUM, .compute = compute_components },
    [K_FAIL] = { .struct_size = sizeof(fsp_kpi_def), .id = "t.fail", .name_zh = "失败", .name_en = "Fails",
                 .unit = "count", .formula = "always fails", .fold = FSP_FOLD_SUM, .compute = compute_components },
};

/* The calls made, in order (the engine computes on up to three threads). */
typedef struct compute_log_entry {
    int kpi;
    char from[11], to[11];
    int days, per_insurer;
} compute_log_entry;

#define LOG_MAX 256
static pthread_mutex_t log_mu = PTHREAD_MUTEX_INITIALIZER;
static compute_log_entry compute_log[LOG_MAX];
static atomic_int ncalls;
static atomic_int calls_of[NKPIS];
static atomic_int bad_args;       /* calls whose args were not what the engine promises */

/* What core/engine/plugins.c's emit does for a plugin: one more component on the call. */
static int emit_component(fsp_call *call, const char *store, const char *insurer, double num, double den, int valid)
{
    if (call->ncomps == call->comps_cap) {
        int cap = call->comps_cap ? call->comps_cap * 2 : 16;
        kpi_component *c = realloc(call->comps, (size_t)cap * sizeof *c);
        if (!c) return -1;
        call->comps = c;
        call->comps_cap = cap;
    }
    kpi_component *c = &call->comps[call->ncomps++];
    snprintf(c->store_code, sizeof c->store_code, "%s", store);
    snprintf(c->insurer_code, sizeof c->insurer_code, "%s", insurer ? insurer : "");
    c->num = num;
    c->den = den;
    c->valid = valid != 0;
    return 0;
}

static int compute_components(fsp_call *call, const fsp_kpi_args *args)
{
    int k = (int)(args->kpi - kpi_defs);
    if (k < 0 || k >= NKPIS || args->struct_size != sizeof(fsp_kpi_args) || args->stores || !args->from || !args->to ||
        (args->per_insurer != 0 && args->per_insurer != 1))
        atomic_fetch_add(&bad_args, 1);
    if (k < 0 || k >= NKPIS) return -1;
    atomic_fetch_add(&calls_of[k], 1);
    int n = atomic_fetch_add(&ncalls, 1);
    if (n < LOG_MAX) {
        pthread_mutex_lock(&log_mu);
        compute_log_entry *e = &compute_log[n];
        e->kpi = k;
        snprintf(e->from, sizeof e->from, "%s", args->from);
        snprintf(e->to, sizeof e->to, "%s", args->to);
        e->days = args->days;
        e->per_insurer = args->per_insurer;
        pthread_mutex_unlock(&log_mu);
    }
    if (k == K_FAIL) return -1;
    for (int i = 0; i < NCOMPONENTS; i++) {
        const component_row *r = &components[i];
        if (strcmp(r->day, args->from) < 0 || strcmp(r->day, args->to) > 0) continue;
        if (emit_component(call, r->store, args->per_insurer ? r->insurer : NULL, r->num, r->den, r->valid) != 0)
            return -1;
    }
    return 0;
}

/* The registry the loader would build for one plugin that registered kpi_defs. */
static plugin_registry *registry_in_process(void)
{
    plugin_registry *reg = plugins_new();
    if (!reg) return NULL;
    reg->plugins = calloc(1, sizeof *reg->plugins);
    reg->kpis = calloc(NKPIS, sizeof *reg->kpis);
    if (!reg->plugins || !reg->kpis) {
        plugins_free(reg);
        return NULL;
    }
    reg->nplugins = 1;
    loaded_plugin *lp = &reg->plugins[0];
    snprintf(lp->file, sizeof lp->file, "(in process)");
    snprintf(lp->name, sizeof lp->name, "inproc");
    snprintf(lp->version, sizeof lp->version, "1.0.0");
    lp->loaded = true;
    for (int i = 0; i < NKPIS; i++) reg->kpis[i] = (plugin_kpi){ .def = &kpi_defs[i], .plugin = 0 };
    reg->nkpis = reg->kpis_cap = lp->nkpis = NKPIS;
    return reg;
}

/* --- queries --- */

typedef struct query_result {
    int rc, status;
    char err[512];
    kpi_answer *ans;
} query_result;

static char *every_code[] = { "S1", "S2", "S3", "S4", "S5" };
static const store_set every_store = { .codes = every_code, .n = 5 };

static query_result run(app *a, const char *ids_csv, const char *from, const char *to, const char *by,
                        const store_set *scope)
{
    query_result q = { 0 };
    char buf[256];
    const char *ids[8];
    int n = 0;
    snprintf(buf, sizeof buf, "%s", ids_csv);
    for (char *save = NULL, *p = strtok_r(buf, ",", &save); p && n < 8; p = strtok_r(NULL, ",", &save)) ids[n++] = p;
    kpi_request req = { .ids = ids, .nids = n, .by = by, .stores = scope ? scope : &every_store };
    snprintf(req.from, sizeof req.from, "%s", from);
    snprintf(req.to, sizeof req.to, "%s", to);
    q.rc = kpi_query(a, &req, &q.ans, &q.status, q.err, sizeof q.err);
    return q;
}

#define MISSING (-999.0)

/* Column k of the row keyed key: NAN for null, MISSING when there is no such row. */
static double cell(const query_result *q, const char *key, int k)
{
    if (!q->ans) return MISSING;
    for (int i = 0; i < q->ans->nrows; i++)
        if (strcmp(q->ans->rows[i].key, key) == 0) return q->ans->rows[i].is_null[k] ? NAN : q->ans->rows[i].values[k];
    return MISSING;
}

static const char *row_key(const query_result *q, int i)
{
    return q->ans && i < q->ans->nrows ? q->ans->rows[i].key : "(none)";
}

static const char *row_label(const query_result *q, int i)
{
    return q->ans && i < q->ans->nrows ? q->ans->rows[i].label : "(none)";
}

#define CHECK_NULL(v, ...) CHECK(isnan(v), __VA_ARGS__)

static int setup_directory(db_conn *c)
{
    return testdb_exec(c, "INSERT INTO regions (region_code, name) VALUES ('R1', '华南'), ('R2', '华北'), ('R3', '西南')")
        || testdb_exec(c, "INSERT INTO stores (store_code, name, brand, region_code) VALUES"
                   " ('S1', '广州一店', '丰田', 'R1'), ('S2', '广州二店', '丰田', 'R1'),"
                   " ('S3', '北京一店', '本田', 'R2'), ('S4', '北京二店', '本田', 'R2'), ('S5', '成都一店', '日产', 'R3')")
        || testdb_exec(c, "INSERT INTO insurers (insurer_code, name) VALUES ('I1', '人保'), ('I2', '平安')");
}

/* --- folding --- */

static void test_folding(app *a)
{
    /* 2024-01-01..2024-02-29 holds every component but S4's of March 2:
     *   S1 10/4 + 2/1 = 12/5 (2.4);  S2 1/1 + 8/2 = 9/3 (3);  S3 3/0 (null);
     *   S4 4/8 (0.5);  S5 nothing: sum 0, ratio null;  SX ignored.
     *   R1 = S1+S2 = 21/8 = 2.625 (the mean of its store ratios would be 2.7);
     *   R2 = S3+S4 = 7/8 = 0.875 (S3's numerator counts, its den is 0);
     *   R3 = S5: 0, null;  group = 28/16 = 1.75 (not 99 more: SX). */
    query_result q = run(a, "t.sum,t.ratio", "2024-01-01", "2024-02-29", "store", NULL);
    CHECK(q.rc == 0 && q.status == 200, "by=store answers (%s)", q.err);
    CHECK_INT(q.ans ? q.ans->nrows : -1, 5, "one row per store in scope, S5 without components too");
    CHECK(strcmp(row_key(&q, 0), "S1") == 0 && strcmp(row_key(&q, 4), "S5") == 0, "store rows in code order");
    CHECK_STR(row_label(&q, 0), "广州一店", "a store row's label is its name");
    CHECK_NUM(cell(&q, "S1", 0), 12, "S1 sum: two components added");
    CHECK_NUM(cell(&q, "S1", 1), 2.4, "S1 ratio 12/5");
    CHECK_NUM(cell(&q, "S2", 1), 3, "S2 ratio 9/3");
    CHECK_NUM(cell(&q, "S3", 0), 3, "S3 sum 3");
    CHECK_NULL(cell(&q, "S3", 1), "S3 ratio over a zero denominator is null");
    CHECK_NUM(cell(&q, "S4", 1), 0.5, "S4 ratio 4/8");
    CHECK_NUM(cell(&q, "S5", 0), 0, "a store without components: sum 0");
    CHECK_NULL(cell(&q, "S5", 1), "and ratio null");
    CHECK(cell(&q, "SX", 0) == MISSING, "a store outside the directory gets no row");
    char *text = q.ans ? kpi_answer_text(&(kpi_request){ .ids = (const char *const[]){ "t.sum", "t.ratio" },
                                                         .nids = 2, .from = "2024-01-01", .to = "2024-02-29",
                                                         .by = "store" }, q.ans, NULL) : NULL;
    CHECK(text && strstr(text, "{\"key\":\"S3\",\"label\":\"北京一店\",\"values\":{\"t.sum\":3,\"t.ratio\":null}}"),
          "in JSON a null value is null: %s", text ? text : "(none)");
    free(text);
    kpi_answer_free(q.ans);

    q = run(a, "t.sum,t.ratio", "2024-01-01", "2024-02-29", "region", NULL);
    CHECK(q.rc == 0 && q.ans && q.ans->nrows == 3, "by=region: one row per region with a store in scope (%s)", q.err);
    CHECK_STR(row_label(&q, 0), "华南", "a region row's label is its name");
    CHECK_NUM(cell(&q, "R1", 0), 21, "R1 sum 21");
    CHECK_NUM(cell(&q, "R1", 1), 21.0 / 8.0, "R1 ratio 21/8: summed components, not the mean of ratios (2.7)");
    CHECK_NUM(cell(&q, "R2", 1), 7.0 / 8.0, "R2 ratio 7/8: a zero-den store's numerator still counts");
    CHECK_NUM(cell(&q, "R3", 0), 0, "R3 (no components) sum 0");
    CHECK_NULL(cell(&q, "R3", 1), "R3 ratio null");
    kpi_answer_free(q.ans);

    q = run(a, "t.sum,t.ratio", "2024-01-01", "2024-02-29", "group", NULL);
    CHECK(q.rc == 0 && q.ans && q.ans->nrows == 1 && strcmp(row_key(&q, 0), "group") == 0, "by=group: one row");
    CHECK_STR(row_label(&q, 0), "集团", "the group row's label");
    CHECK_NUM(cell(&q, "group", 0), 28, "group sum 28 (SX's 99 left out)");
    CHECK_NUM(cell(&q, "group", 1), 1.75, "group ratio 28/16 (the mean of store ratios would be 1.9667)");
    kpi_answer_free(q.ans);
    q = run(a, "t.ratio,t.sum", "2024-01-01", "2024-02-29", "", NULL);
    CHECK(q.rc == 0 && q.ans && q.ans->nrows == 1 && cell(&q, "group", 0) == 1.75 && cell(&q, "group", 1) == 28,
          "by empty is group; values follow the order of the ids asked");
    kpi_answer_free(q.ans);

    /* 2024-01-01..2024-03-31 adds S4's invalid component: S4 is null, left out
     * of R2 (S3 alone: 3, null) and of the group (S1+S2+S3 = 24/8 = 3). */
    q = run(a, "t.sum,t.ratio", "2024-01-01", "2024-03-31", "store", NULL);
    CHECK_NULL(cell(&q, "S4", 0), "an invalid store's sum is null");
    CHECK_NULL(cell(&q, "S4", 1), "and its ratio");
    kpi_answer_free(q.ans);
    q = run(a, "t.sum,t.ratio", "2024-01-01", "2024-03-31", "region", NULL);
    CHECK_NUM(cell(&q, "R2", 0), 3, "an invalid store is left out of its region's sum");
    CHECK_NULL(cell(&q, "R2", 1), "R2 over S3 alone: den 0, null");
    kpi_answer_free(q.ans);
    q = run(a, "t.sum,t.ratio", "2024-01-01", "2024-03-31", "group", NULL);
    CHECK_NUM(cell(&q, "group", 0), 24, "and out of the group sum");
    CHECK_NUM(cell(&q, "group", 1), 3, "and out of the group ratio 24/8");
    kpi_answer_free(q.ans);

    /* by=month over 2024-01-10..2024-03-05: January clipped to 01-10..01-31
     * (S1 2/1, S2 1/1, S4 4/8: 7, 7/10); February whole (S2 8/2, S3 3/0:
     * 11, 11/2); March clipped to 03-01..03-05 (S4 invalid alone: null, null). */
    atomic_store(&ncalls, 0);
    q = run(a, "t.sum", "2024-01-10", "2024-03-05", "month", NULL);
    CHECK(q.rc == 0 && q.ans && q.ans->nrows == 3, "by=month: one row per month meeting the period (%s)", q.err);
    CHECK(strcmp(row_key(&q, 0), "2024-01") == 0 && strcmp(row_key(&q, 2), "2024-03") == 0 &&
          strcmp(row_label(&q, 1), "2024-02") == 0, "month rows keyed and labelled YYYY-MM, in order");
    CHECK_NUM(cell(&q, "2024-01", 0), 7, "January clipped to the period: 7");
    CHECK_NUM(cell(&q, "2024-02", 0), 11, "February: 11");
    CHECK_NULL(cell(&q, "2024-03", 0), "March: only an invalid store, null");
    kpi_answer_free(q.ans);
    q = run(a, "t.ratio", "2024-01-10", "2024-03-05", "month", NULL);
    CHECK_NUM(cell(&q, "2024-01", 0), 0.7, "January ratio 7/10");
    CHECK_NUM(cell(&q, "2024-02", 0), 5.5, "February ratio 11/2");
    kpi_answer_free(q.ans);
    /* each month is its own compute, asked for exactly the clipped days */
    static const struct { const char *from, *to; int days; } months[] = {
        { "2024-01-10", "2024-01-31", 22 }, { "2024-02-01", "2024-02-29", 29 }, { "2024-03-01", "2024-03-05", 5 },
    };
    int n = atomic_load(&ncalls);
    CHECK_INT(n, 6, "two KPIs by three months: six computes");
    for (int m = 0; m < 3; m++) {
        int found = 0;
        for (int i = 0; i < n && i < LOG_MAX; i++)
            if (strcmp(compute_log[i].from, months[m].from) == 0 && strcmp(compute_log[i].to, months[m].to) == 0 &&
                compute_log[i].days == months[m].days && compute_log[i].per_insurer == 0)
                found++;
        CHECK_INT(found, 2, "compute asked for %s..%s (%d days) once per KPI", months[m].from, months[m].to,
                  months[m].days);
    }

    /* by=insurer over 2024-01-01..2024-02-29, computed per insurer:
     *   I1 = S1 10/4 + S2 1/1 + S3 3/0 + S4 4/8 = 18/13;  I2 = S1 2/1 + S2 8/2 = 10/3. */
    atomic_store(&ncalls, 0);
    q = run(a, "t.sum,t.ratio", "2024-01-01", "2024-02-29", "insurer", NULL);
    CHECK(q.rc == 0 && q.ans && q.ans->nrows == 2, "by=insurer: one row per insurer (%s)", q.err);
    CHECK_STR(row_label(&q, 0), "人保", "an insurer row's label is its name");
    CHECK_NUM(cell(&q, "I1", 0), 18, "I1 sum 18");
    CHECK_NUM(cell(&q, "I1", 1), 18.0 / 13.0, "I1 ratio 18/13");
    CHECK_NUM(cell(&q, "I2", 1), 10.0 / 3.0, "I2 ratio 10/3");
    kpi_answer_free(q.ans);
    n = atomic_load(&ncalls);
    CHECK(n == 2 && compute_log[0].per_insurer == 1 && compute_log[1].per_insurer == 1,
          "by=insurer computes per insurer (%d calls), apart from the cached per-store components", n);

    /* nothing in the period: a sum is 0, a ratio null */
    q = run(a, "t.sum,t.ratio", "2023-01-01", "2023-12-31", "group", NULL);
    CHECK(q.rc == 0, "a period without components answers (%s)", q.err);
    CHECK_NUM(cell(&q, "group", 0), 0, "a sum over nothing is 0");
    CHECK_NULL(cell(&q, "group", 1), "a ratio over nothing is null");
    kpi_answer_free(q.ans);
    CHECK_INT(atomic_load(&bad_args), 0, "every compute got the args the engine promises (struct_size, stores NULL)");
}

/* --- scope --- */

static void test_scope(app *a, db_conn *c)
{
    static char *rm_stores[] = { "S1", "S2" }, *rm_regions[] = { "R1" }, *sm_stores[] = { "S3" };
    principal rm = { .role = ROLE_RM, .name = "rm_south", .stores = rm_stores, .nstores = 2,
                     .regions = rm_regions, .nregions = 1 };
    principal sm = { .role = ROLE_SM, .name = "sm_s3", .stores = sm_stores, .nstores = 1 };
    principal admin = { .role = ROLE_ADMIN, .name = "admin", .all_stores = true };
    store_set s_rm = { 0 }, s_sm = { 0 }, s_admin = { 0 };
    char bad[128] = "";
    CHECK(scope_resolve(c, &rm, NULL, 0, NULL, 0, &s_rm, bad, sizeof bad) == 0 && s_rm.n == 2,
          "a regional manager of R1 sees its 2 stores (%s)", bad);
    CHECK(scope_resolve(c, &sm, NULL, 0, NULL, 0, &s_sm, bad, sizeof bad) == 0 && s_sm.n == 1, "a store manager sees 1");
    CHECK(scope_resolve(c, &admin, NULL, 0, NULL, 0, &s_admin, bad, sizeof bad) == 0 && s_admin.n == 5,
          "an admin sees all 5");
    CHECK(s_admin.every && !s_rm.every && !s_sm.every, "only the admin's set is every store of the group");

    /* Over 2024-01-01..2024-02-29 (see test_folding): the RM sees S1 and S2
     * only: group 21, 21/8; one region row, R1; store rows S1, S2. */
    int before = atomic_load(&ncalls);
    query_result q = run(a, "t.sum,t.ratio", "2024-01-01", "2024-02-29", "group", &s_rm);
    CHECK_NUM(cell(&q, "group", 0), 21, "the RM's group is R1's stores only: 21");
    CHECK_NUM(cell(&q, "group", 1), 21.0 / 8.0, "ratio 21/8");
    kpi_answer_free(q.ans);
    q = run(a, "t.sum", "2024-01-01", "2024-02-29", "store", &s_rm);
    CHECK(q.ans && q.ans->nrows == 2 && cell(&q, "S1", 0) == 12 && cell(&q, "S3", 0) == MISSING,
          "by=store: the RM gets rows for S1 and S2 only");
    kpi_answer_free(q.ans);
    q = run(a, "t.sum", "2024-01-01", "2024-02-29", "region", &s_rm);
    CHECK(q.ans && q.ans->nrows == 1 && cell(&q, "R1", 0) == 21, "by=region: the RM gets R1 only");
    kpi_answer_free(q.ans);
    /* the store manager of S3: R2's row holds S3 alone (3), not S4 (7) */
    q = run(a, "t.sum,t.ratio", "2024-01-01", "2024-02-29", "region", &s_sm);
    CHECK(q.ans && q.ans->nrows == 1, "by=region: the store manager gets one row");
    CHECK_NUM(cell(&q, "R2", 0), 3, "their region's row holds their store only (3, not 7)");
    CHECK_NULL(cell(&q, "R2", 1), "S3 alone: ratio null");
    kpi_answer_free(q.ans);
    q = run(a, "t.sum", "2024-01-01", "2024-02-29", "insurer", &s_sm);
    CHECK(q.ans && cell(&q, "I1", 0) == 3 && cell(&q, "I2", 0) == 0, "by=insurer: only their store's components");
    kpi_answer_free(q.ans);
    q = run(a, "t.sum", "2024-01-01", "2024-02-29", "group", &s_admin);
    CHECK_NUM(cell(&q, "group", 0), 28, "the admin's group is every store: 28");
    kpi_answer_free(q.ans);
    store_set empty = { 0 };
    q = run(a, "t.sum,t.ratio", "2024-01-01", "2024-02-29", "group", &empty);
    CHECK(q.rc == 0 && cell(&q, "group", 0) == 0 && isnan(cell(&q, "group", 1)), "an empty scope: 0 and null");
    kpi_answer_free(q.ans);
    q = run(a, "t.sum", "2024-01-01", "2024-02-29", "store", &empty);
    CHECK(q.rc == 0 && q.ans && q.ans->nrows == 0, "and no store rows");
    kpi_answer_free(q.ans);
    CHECK_INT(atomic_load(&ncalls) - before, 0, "no scope needed a compute: components are shared by every scope");

    const char *outside[] = { "S3" };
    store_set s_bad = { 0 };
    CHECK(scope_resolve(c, &rm, outside, 1, NULL, 0, &s_bad, bad, sizeof bad) == -1 && strcmp(bad, "S3") == 0,
          "the RM asking for S3 is refused, naming it");
    store_set_free(&s_bad);
    store_set_free(&s_rm);
    store_set_free(&s_sm);
    store_set_free(&s_admin);
}

/* --- the component cache --- */

static void sleep_ms(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
    nanosleep(&ts, NULL);
}

static void test_cache(app *a, db_conn *c)
{
    char err[512];
    /* a period no other test asked for: cold */
    const char *from = "2024-01-06", *to = "2024-02-10";
    int s0 = atomic_load(&calls_of[K_SUM]), r0 = atomic_load(&calls_of[K_RATIO]);
    query_result q = run(a, "t.sum,t.ratio", from, to, "group", NULL);
    /* 01-06..02-10: S1 2/1, S2 1/1 + 8/2, S4 4/8: 15/12 */
    CHECK(q.rc == 0 && cell(&q, "group", 0) == 15, "a cold query answers (%s)", q.err);
    kpi_answer_free(q.ans);
    CHECK(atomic_load(&calls_of[K_SUM]) == s0 + 1 && atomic_load(&calls_of[K_RATIO]) == r0 + 1,
          "a cold query computes each KPI once");

    q = run(a, "t.sum,t.ratio", from, to, "group", NULL);
    CHECK_NUM(cell(&q, "group", 1), 1.25, "the second identical query answers the same (15/12)");
    kpi_answer_free(q.ans);
    q = run(a, "t.sum,t.ratio", from, to, "store", NULL);
    kpi_answer_free(q.ans);
    q = run(a, "t.ratio", from, to, "region", NULL);
    kpi_answer_free(q.ans);
    CHECK(atomic_load(&calls_of[K_SUM]) == s0 + 1 && atomic_load(&calls_of[K_RATIO]) == r0 + 1,
          "the same query again, and by store and region, compute nothing");

    /* data_changed_here() alone makes the engine read the generation again;
     * the generation has not moved, so the cache stands */
    data_changed_here();
    q = run(a, "t.sum", from, to, "group", NULL);
    kpi_answer_free(q.ans);
    CHECK_INT(atomic_load(&calls_of[K_SUM]), s0 + 1, "data_changed_here without a new generation keeps the cache");

    /* data_generation_bump bumps the generation (and says so here): computed again, once */
    CHECK(data_generation_bump(c, err, sizeof err) == 0, "data_generation_bump (%s)", err);
    q = run(a, "t.sum", from, to, "group", NULL);
    CHECK_NUM(cell(&q, "group", 0), 15, "after data_generation_bump the answer is computed again");
    kpi_answer_free(q.ans);
    q = run(a, "t.sum", from, to, "group", NULL);
    kpi_answer_free(q.ans);
    CHECK_INT(atomic_load(&calls_of[K_SUM]), s0 + 2, "after data_generation_bump: one more compute, then cached again");

    /* another instance's change: the generation moves in the database
     * without data_changed_here here; it is read again within 20 ms */
    CHECK(testdb_exec(c, "UPDATE data_generation SET generation = generation + 1 WHERE id = 1") == 0,
          "another instance bumps the generation");
    sleep_ms(60);
    q = run(a, "t.sum", from, to, "group", NULL);
    kpi_answer_free(q.ans);
    CHECK_INT(atomic_load(&calls_of[K_SUM]), s0 + 3, "another instance's new generation is seen 60 ms later");

    /* the directory is kept while the directory generation stays: a store
     * renamed by hand with the data generation alone moved keeps its old
     * label (the new snapshot copied the directory, reading only the
     * settings); once the directory generation moves too (as an import of
     * stores does), the new name shows */
    q = run(a, "t.sum", from, to, "store", NULL);
    char before[64];
    snprintf(before, sizeof before, "%s", row_label(&q, 0));
    kpi_answer_free(q.ans);
    CHECK(testdb_exec(c, "UPDATE stores SET name = '广州旗舰店' WHERE store_code = 'S1'") == 0 &&
          data_generation_bump(c, err, sizeof err) == 0, "rename S1 and bump the data generation alone");
    q = run(a, "t.sum", from, to, "store", NULL);
    CHECK(strcmp(before, "广州旗舰店") != 0 && strcmp(row_label(&q, 0), before) == 0,
          "the directory is kept: S1 still labelled %s (got %s)", before, row_label(&q, 0));
    kpi_answer_free(q.ans);
    CHECK(directory_generation_bump(c, err, sizeof err) == 0 && data_generation_bump(c, err, sizeof err) == 0,
          "bump the directory generation and the data generation");
    q = run(a, "t.sum", from, to, "store", NULL);
    CHECK_STR(row_label(&q, 0), "广州旗舰店", "the new name is the store row's label");
    kpi_answer_free(q.ans);

    /* a failing compute: an error naming the KPI, and nothing cached */
    int f0 = atomic_load(&calls_of[K_FAIL]);
    q = run(a, "t.fail", from, to, "group", NULL);
    CHECK(q.rc == -1 && q.status == 500 && strstr(q.err, "t.fail") && !q.ans,
          "a failing compute fails the query, naming the KPI (%d: %s)", q.status, q.err);
    q = run(a, "t.fail", from, to, "group", NULL);
    CHECK(q.rc == -1 && atomic_load(&calls_of[K_FAIL]) == f0 + 2, "a failure is not cached: the next query computes again");
    q = run(a, "t.sum,t.fail", from, to, "group", NULL);
    CHECK(q.rc == -1 && strstr(q.err, "t.fail") && !q.ans, "one failing KPI fails the whole query (%s)", q.err);
}

/* --- refusals: 400 naming the culprit, before any compute --- */

static void test_refusals(app *a)
{
    int before = atomic_load(&ncalls);
    query_result q = run(a, "t.sum,t.nope", "2024-01-01", "2024-01-31", "group", NULL);
    CHECK(q.rc == -1 && q.status == 400 && strstr(q.err, "t.nope") && !q.ans, "an unknown id: 400 naming it (%s)", q.err);
    q = run(a, "fold.sum", "2024-01-01", "2024-01-31", "group", NULL);
    CHECK(q.rc == -1 && q.status == 400 && strstr(q.err, "fold.sum"), "a KPI of no registered plugin is unknown (%s)", q.err);
    q = run(a, "t.store_only", "2024-01-01", "2024-01-31", "group", NULL);
    CHECK(q.rc == -1 && q.status == 400 && strstr(q.err, "t.store_only") && strstr(q.err, "group"),
          "a by the KPI does not support: 400 naming the id and the by (%s)", q.err);
    q = run(a, "t.fail", "2024-01-01", "2024-01-31", "insurer", NULL);
    CHECK(q.rc == -1 && q.status == 400 && strstr(q.err, "insurer"), "by=insurer needs FSP_BY_INSURER (%s)", q.err);
    q = run(a, "t.sum", "2024-01-01", "2024-01-31", "week", NULL);
    CHECK(q.rc == -1 && q.status == 400 && strstr(q.err, "by") && strstr(q.err, "week"), "an unknown by (%s)", q.err);
    q = run(a, "t.sum", "2024-02-30", "2024-03-31", "group", NULL);
    CHECK(q.rc == -1 && q.status == 400 && strstr(q.err, "from"), "an impossible from date (%s)", q.err);
    q = run(a, "t.sum", "2024-03-01", "2024-02-01", "group", NULL);
    CHECK(q.rc == -1 && q.status == 400 && strstr(q.err, "before"), "to before from (%s)", q.err);
    q = run(a, "", "2024-01-01", "2024-01-31", "group", NULL);
    CHECK(q.rc == -1 && q.status == 400 && strstr(q.err, "ids"), "no id at all (%s)", q.err);
    CHECK_INT(atomic_load(&ncalls) - before, 0, "a refused query computes nothing");
    q = run(a, "t.store_only", "2024-01-01", "2024-01-31", "store", NULL);
    CHECK(q.rc == 0 && cell(&q, "S4", 0) == 4, "the same KPI by a by it supports answers (%s)", q.err);
    kpi_answer_free(q.ans);
}

/* The reference of the answer's text: the answer built as a cJSON tree of
 * the shape of docs/api.md, node by node. */
static cJSON *answer_tree(const kpi_request *req, const kpi_answer *ans)
{
    cJSON *o = cJSON_CreateObject();
    if (!o) return NULL;
    cJSON_AddStringToObject(o, "from", req->from);
    cJSON_AddStringToObject(o, "to", req->to);
    cJSON_AddStringToObject(o, "by", req->by && *req->by ? req->by : "group");
    cJSON *rows = cJSON_AddArrayToObject(o, "rows");
    for (int i = 0; rows && i < ans->nrows; i++) {
        const kpi_row *r = &ans->rows[i];
        cJSON *row = cJSON_CreateObject();
        if (!row) break;
        cJSON_AddItemToArray(rows, row);
        cJSON_AddStringToObject(row, "key", r->key);
        cJSON_AddStringToObject(row, "label", r->label);
        cJSON *vals = cJSON_AddObjectToObject(row, "values");
        for (int k = 0; vals && k < ans->nids && k < req->nids; k++) {
            if (r->is_null[k] || !isfinite(r->values[k])) cJSON_AddNullToObject(vals, req->ids[k]);
            else cJSON_AddNumberToObject(vals, req->ids[k], r->values[k]);
        }
        cJSON *tg = req->targets && r->targets ? cJSON_AddObjectToObject(row, "targets") : NULL;
        for (int k = 0; tg && k < ans->nids && k < req->nids; k++) {
            if (r->targets_null[k] || !isfinite(r->targets[k])) cJSON_AddNullToObject(tg, req->ids[k]);
            else cJSON_AddNumberToObject(tg, req->ids[k], r->targets[k]);
        }
    }
    return o;
}

/* The answer's text is the text cJSON prints of its tree: the same bytes,
 * over numbers of every form cJSON distinguishes (whole numbers in and out
 * of int range, 15 and 17 significant digits, tiny and huge, negative zero,
 * non-finite as null) and strings needing every escape, with and without
 * budgets. */
static void test_answer_text(void)
{
    static const double vals[] = { 0, -0.0, 1, -7, 2147483647.0, 2147483648.0, -2147483649.0, 1e15, 123456789012.0,
                                   0.1, 1.0 / 3, 2.0 / 3 * 1e-300, 6.02214076e23, -12345.678, 1e300 * 10, 0.0 / 0.0,
                                   3100.62, 1023.0 * 15 / 31 };
    const int nids = (int)(sizeof vals / sizeof vals[0]);
    const char *ids[sizeof vals / sizeof vals[0]];
    char names[sizeof vals / sizeof vals[0]][16];
    for (int k = 0; k < nids; k++) {
        snprintf(names[k], sizeof names[k], "t.v%d", k);
        ids[k] = names[k];
    }
    for (int with_targets = 0; with_targets <= 1; with_targets++) {
        kpi_answer *ans = kpi_answer_new(3, nids, with_targets);
        CHECK(ans != NULL, "an answer is made");
        if (!ans) return;
        snprintf(ans->rows[0].key, sizeof ans->rows[0].key, "S1");
        snprintf(ans->rows[0].label, sizeof ans->rows[0].label, "广州天河丰田 \"总店\" \\ a\tb\nc\x01\x1f");
        snprintf(ans->rows[1].key, sizeof ans->rows[1].key, "2024-03");
        snprintf(ans->rows[2].key, sizeof ans->rows[2].key, "group");
        for (int r = 0; r < 3; r++)
            for (int k = 0; k < nids; k++) {
                ans->rows[r].values[k] = vals[(k + r) % nids] * (r == 2 ? -1 : 1);
                ans->rows[r].is_null[k] = r == 1 && k % 5 == 0;
                if (with_targets) {
                    ans->rows[r].targets[k] = vals[(k + 3 * r + 1) % nids];
                    ans->rows[r].targets_null[k] = k % 4 == 1;
                }
            }
        kpi_request req = { .ids = ids, .nids = nids, .by = "store", .targets = with_targets };
        memcpy(req.from, "2024-03-01", 11);
        memcpy(req.to, "2024-03-31", 11);
        cJSON *tree = answer_tree(&req, ans);
        char *printed = tree ? cJSON_PrintUnformatted(tree) : NULL;
        size_t len = 0;
        char *text = kpi_answer_text(&req, ans, &len);
        size_t at = 0;
        while (printed && text && printed[at] && printed[at] == text[at]) at++;
        CHECK(printed && text && strcmp(printed, text) == 0 && len == strlen(printed),
              "the text %s budgets is cJSON's, byte for byte (first difference at %zu: cJSON \"%.40s\", text \"%.40s\")",
              with_targets ? "with" : "without", at, printed ? printed + at : "(null)", text ? text + at : "(null)");
        free(printed);
        free(text);
        cJSON_Delete(tree);
        kpi_answer_free(ans);
    }
}

int main(void)
{
    test_answer_text();
    testdb t;
    if (testdb_start(&t) != 0) {
        CHECK(0, "the test database starts");
        return check_done();
    }
    app a;
    memset(&a, 0, sizeof a);
    char err[512] = "";
    CHECK(config_load_env(&a.cfg, err, sizeof err) == 0, "config (%s)", err);
    /* a plugin directory that does not exist: the engine must never look at it */
    snprintf(a.cfg.plugin_dir, sizeof a.cfg.plugin_dir, "/nonexistent/fourscore-test-plugins");
    a.url = t.url;
    a.db = t.pool;
    a.plugins = registry_in_process();
    CHECK(a.plugins != NULL, "the in-process registry is built");
    CHECK(kpi_open(&a, err, sizeof err) == 0, "the engine opens over it, no plugin directory read (%s)", err);
    CHECK(kpi_exists(&a, "t.ratio") && !kpi_exists(&a, "t.nope"), "the engine knows the in-process KPIs, only them");
    if (setup_directory(t.conn) == 0 && a.plugins && a.kpi) {
        test_folding(&a);
        test_scope(&a, t.conn);
        test_cache(&a, t.conn);
        test_refusals(&a);
    } else {
        CHECK(0, "the directory is set up and the engine open");
    }
    kpi_close(&a);
    testdb_stop(&t);
    return check_done();
}
