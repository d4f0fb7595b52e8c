/* test_plugin: the plugin loader and the KPI engine.
 *
 * Loader: tests/plugins/broken.c is built (with nothing but the public
 * header, as a third party would) once per way of being broken; each is
 * refused with a reason naming the field, and the good plugins next to them
 * (the out-of-tree example of docs/example-plugin/ and tests/plugins/fold.c)
 * still load.
 *
 * Engine: on a private MariaDB, the fold plugin emits components from a
 * table of known rows; the expected values below are worked out by hand
 * from those rows: store / region / group folding, ratios from summed
 * numerators and denominators, invalid stores left out, nulls, by=month
 * clipping, by=insurer, scope, 400s naming the id or by, the cache and its
 * invalidation by the data generation and by a settings change. The
 * settings it changes are owned by the shipped service and retention
 * plugins (they register them, with their ranges and the retention bands'
 * check), so the engine's directory holds those two as well. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "app.h"
#include "check.h"
#include "kpi.h"
#include "plugins.h"
#include "testdb.h"
#include "../../plugins/kpi_common.h"
#include "generation.h"

static char plugin_dir[PATH_MAX];

/* --- building plugins with only the header --- */

/* Link the shipped plugin name.so of the build into the plugin directory. */
static int link_shipped_plugin(const char *name)
{
    char from[PATH_MAX], to[PATH_MAX];
    snprintf(from, sizeof from, "%s/%s.so", FOURSCORE_PLUGIN_BUILD_DIR, name);
    snprintf(to, sizeof to, "%s/%s.so", plugin_dir, name);
    int rc = symlink(from, to);
    if (rc != 0) printf("# symlink %s: %s\n", from, strerror(errno));
    return rc;
}

static int build_plugin(const char *src, const char *define, const char *out_name)
{
    char cmd[4 * PATH_MAX];
    snprintf(cmd, sizeof cmd, "cc -std=c11 -Wall -Wextra -Werror -shared -fPIC -I %s/core/include %s%s -o %s/%s %s/%s",
             FOURSCORE_SOURCE_DIR, define ? "-D" : "", define ? define : "", plugin_dir, out_name,
             FOURSCORE_SOURCE_DIR, src);
    int rc = system(cmd);
    if (rc != 0) printf("# build failed: %s\n", cmd);
    return rc;
}

static const struct broken_case {
    const char *define, *file, *reason;
} broken_cases[] = {
    { "BROKEN_MAGIC", "x_magic.so", "magic is 0x12345678" },
    { "BROKEN_ABI", "x_abi.so", "abi_major is 99" },
    { "BROKEN_MINOR", "x_minor.so", "abi_minor is" },
    { "BROKEN_SIZE", "x_size.so", "struct_size is" },
    { "BROKEN_SIGNATURE", "x_signature.so", "signature.size_time_t is 4" },
    { "BROKEN_NO_SYMBOL", "x_no_symbol.so", "does not export fourscore_plugin_v1" },
    { "BROKEN_UNDEFINED", "x_undefined.so", "fourscore_no_such_function" },
    { "BROKEN_INIT", "x_init.so", "init failed (returned 1)" },
    { "BROKEN_DUPLICATE", "x_duplicate.so", "example.ro_per_day is already registered by plugin example" },
    { "BROKEN_KPI_SIZE", "x_kpi_size.so", "KPI definition struct_size is" },
    { "BROKEN_LIST_STORE", "x_list_store.so", "the first column must be the text column \"store\"" },
    { "BROKEN_LIST_SORT", "x_list_sort.so", "default_sort key '-when' is not one of its columns" },
    { "BROKEN_LIST_MONEY", "x_list_money.so", "explains_column 'amount' is not one of its money columns" },
    { "BROKEN_LIST_CUSTOMER", "x_list_customer.so", "has the text column \"customer_store\" second" },
    { "BROKEN_LIST_DUPLICATE", "x_list_duplicate.so", "list id example.ro_customers is already registered by plugin example" },
    { "BROKEN_LIST_KEYS", "x_list_keys.so", "default_sort key amount is not among its keys" },
};
#define NBROKEN (int)(sizeof broken_cases / sizeof broken_cases[0])

static const loaded_plugin *find_file(const plugin_registry *reg, const char *file)
{
    for (int i = 0; i < reg->nplugins; i++) {
        const char *base = strrchr(reg->plugins[i].file, '/');
        if (base && strcmp(base + 1, file) == 0) return &reg->plugins[i];
    }
    return NULL;
}

static void test_loader(void)
{
    plugin_registry *reg = NULL;
    char err[512];
    CHECK(plugins_load_dir(plugin_dir, &reg, err, sizeof err) == 0, "the plugin directory loads");
    if (!reg) return;
    CHECK_INT(reg->nplugins, NBROKEN + 2, "every .so is listed, loaded or refused");
    for (int i = 0; i < NBROKEN; i++) {
        const loaded_plugin *lp = find_file(reg, broken_cases[i].file);
        CHECK(lp && !lp->loaded, "%s is refused", broken_cases[i].define);
        CHECK(lp && strstr(lp->reason, broken_cases[i].reason), "%s: reason names it: %s", broken_cases[i].define,
              lp ? lp->reason : "(missing)");
    }
    const loaded_plugin *ex = find_file(reg, "example.so"), *fold = find_file(reg, "fold.so");
    CHECK(ex && ex->loaded && ex->nkpis == 1, "the out-of-tree example loads with its KPI");
    CHECK(ex && ex->nlists == 1 && reg->nlists == 1, "the example registers its one list; the refused plugins none");
    const plugin_list *pl = plugins_find_list(reg, "example.ro_customers");
    CHECK(pl && strcmp(reg->plugins[pl->plugin].name, "example") == 0 && pl->def->ncolumns == 9,
          "example.ro_customers is found, the example's (the duplicate did not take it over)");
    CHECK(pl && plugins_list_column(pl->def, "sale_amount", 11) == 8 && plugins_list_column(pl->def, "nope", 4) == -1,
          "a list's columns are found by key");
    CHECK(fold && fold->loaded && fold->nkpis == 4, "the fold plugin loads with its 4 KPIs");
    CHECK_INT(reg->nkpis, 5, "only the good plugins' KPIs are registered");
    CHECK(plugins_find_kpi(reg, "example.ro_per_day") != NULL, "example.ro_per_day is found");
    CHECK(plugins_find_kpi(reg, "broken.value") == NULL, "a KPI of a plugin whose init failed is dropped");
    const plugin_kpi *k = plugins_find_kpi(reg, "example.ro_per_day");
    CHECK(k && strcmp(plugins_of_kpi(reg, k)->name, "example") == 0, "the duplicate did not take over the id");
    plugins_free(reg);

    CHECK(plugins_load_dir("/nonexistent/fourscore-plugins", &reg, err, sizeof err) == -1 &&
          strstr(err, "/nonexistent/fourscore-plugins"), "a missing plugin directory is an error naming it");
}

/* --- the engine --- */

static int setup_data(db_conn *c)
{
    return testdb_exec(c, "INSERT INTO regions (region_code, name) VALUES ('R1', '华南'), ('R2', '华北')")
        || testdb_exec(c, "INSERT INTO stores (store_code, name, brand, region_code) VALUES"
                   " ('S1', '广州一店', '丰田', 'R1'), ('S2', '广州二店', '丰田', 'R1'), ('S3', '北京一店', '本田', 'R2')")
        || testdb_exec(c, "INSERT INTO insurers (insurer_code, name) VALUES ('I1', '人保'), ('I2', '平安')")
        || testdb_exec(c, "CREATE TABLE test_components (day DATE NOT NULL, store_code VARCHAR(32) NOT NULL,"
                   " insurer_code VARCHAR(32) NULL, num DOUBLE NOT NULL, den DOUBLE NOT NULL, valid TINYINT NOT NULL)")
        || testdb_exec(c, "INSERT INTO test_components VALUES"
                   " ('2024-01-15', 'S1', 'I1', 10, 4, 1), ('2024-01-15', 'S2', 'I2', 6, 2, 1),"
                   " ('2024-01-20', 'S3', 'I1', 1, 0, 1), ('2024-02-10', 'S1', 'I2', 5, 1, 1),"
                   " ('2024-02-10', 'S2', 'I2', 3, 4, 1), ('2024-02-20', 'S3', NULL, 7, 7, 0)");
}

typedef struct query_result {
    int rc, status;
    char err[512];
    kpi_answer *ans;
} query_result;

static char *all_codes[] = { "S1", "S2", "S3" };
static store_set all_stores = { .codes = all_codes, .n = 3 };

static query_result run(app *a, const char *ids_csv, const char *from, const char *to, const char *by,
                        const store_set *scope)
{
    query_result q = { 0 };
    char buf[256];
    const char *ids[8];
    int n = 0;
    snprintf(buf, sizeof buf, "%s", ids_csv);
    for (char *p = strtok(buf, ","); p && n < 8; p = strtok(NULL, ",")) ids[n++] = p;
    kpi_request req = { .ids = ids, .nids = n, .by = by, .stores = scope ? scope : &all_stores };
    snprintf(req.from, sizeof req.from, "%s", from);
    snprintf(req.to, sizeof req.to, "%s", to);
    q.rc = kpi_query(a, &req, &q.ans, &q.status, q.err, sizeof q.err);
    return q;
}

/* Value of column k of the row keyed key; NAN for null, -999 when the row is missing. */
static double cell(const query_result *q, const char *key, int k)
{
    if (!q->ans) return -999;
    for (int i = 0; i < q->ans->nrows; i++)
        if (strcmp(q->ans->rows[i].key, key) == 0) return q->ans->rows[i].is_null[k] ? NAN : q->ans->rows[i].values[k];
    return -999;
}

#define CHECK_NULL(v, ...) CHECK(isnan(v), __VA_ARGS__)

static void test_engine(app *a, db_conn *c)
{
    /* Rows in 2024-01-10..2024-02-15: S1 (10,4)+(5,1); S2 (6,2)+(3,4); S3 (1,0).
     * S1 sum 15, ratio 15/5 = 3; S2 sum 9, ratio 9/6 = 1.5; S3 sum 1, ratio null (den 0).
     * R1 = S1+S2: sum 24, ratio 24/11 (the mean of the store ratios would be 2.25);
     * R2 = S3: sum 1, ratio null.
     * group: sum 25, ratio 25/11 (S3's numerator counts, its den is 0). */
    query_result q = run(a, "fold.sum,fold.ratio", "2024-01-10", "2024-02-15", "store", NULL);
    CHECK(q.rc == 0, "by=store answers (%s)", q.err);
    CHECK_INT(q.ans ? q.ans->nrows : -1, 3, "one row per store in scope");
    CHECK_NUM(cell(&q, "S1", 0), 15, "S1 sum");
    CHECK_NUM(cell(&q, "S1", 1), 3, "S1 ratio");
    CHECK_NUM(cell(&q, "S2", 1), 1.5, "S2 ratio");
    CHECK_NUM(cell(&q, "S3", 0), 1, "S3 sum");
    CHECK_NULL(cell(&q, "S3", 1), "S3 ratio over a zero denominator is null");
    CHECK_STR(q.ans && q.ans->nrows ? q.ans->rows[0].label : NULL, "广州一店", "the store row's label is its name");
    kpi_answer_free(q.ans);

    q = run(a, "fold.sum,fold.ratio", "2024-01-10", "2024-02-15", "region", NULL);
    CHECK(q.rc == 0 && q.ans && q.ans->nrows == 2, "by=region: two regions");
    CHECK_NUM(cell(&q, "R1", 0), 24, "R1 sum");
    CHECK_NUM(cell(&q, "R1", 1), 24.0 / 11.0, "R1 ratio from summed numerator and denominator, not a mean of ratios");
    CHECK_NULL(cell(&q, "R2", 1), "R2 ratio null");
    kpi_answer_free(q.ans);

    q = run(a, "fold.sum,fold.ratio", "2024-01-10", "2024-02-15", "group", NULL);
    CHECK_NUM(cell(&q, "group", 0), 25, "group sum");
    CHECK_NUM(cell(&q, "group", 1), 25.0 / 11.0, "group ratio 25/11");
    kpi_answer_free(q.ans);

    /* To 2024-02-29 the invalid S3 row of 02-20 is inside: S3 is null and
     * left out of R2 (null: nothing valid) and of the group (24, 24/11). */
    q = run(a, "fold.sum,fold.ratio", "2024-01-10", "2024-02-29", "store", NULL);
    CHECK_NULL(cell(&q, "S3", 0), "an invalid store's sum is null");
    CHECK_NUM(cell(&q, "S1", 0), 15, "the others are unaffected");
    kpi_answer_free(q.ans);
    q = run(a, "fold.sum,fold.ratio", "2024-01-10", "2024-02-29", "region", NULL);
    CHECK_NULL(cell(&q, "R2", 0), "a region of only invalid stores is null");
    kpi_answer_free(q.ans);
    q = run(a, "fold.sum,fold.ratio", "2024-01-10", "2024-02-29", "group", NULL);
    CHECK_NUM(cell(&q, "group", 0), 24, "an invalid store is left out of the group sum");
    CHECK_NUM(cell(&q, "group", 1), 24.0 / 11.0, "and out of the group ratio");
    kpi_answer_free(q.ans);

    /* by=month over 2024-01-16..2024-02-12: January is clipped to 01-16..01-31
     * (only S3's 01-20 row: sum 1, ratio null); February to 02-01..02-12
     * (S1 5/1, S2 3/4: sum 8, ratio 8/5). */
    q = run(a, "fold.sum,fold.ratio", "2024-01-16", "2024-02-12", "month", NULL);
    CHECK(q.rc == 0 && q.ans && q.ans->nrows == 2, "by=month: one row per month meeting the period");
    CHECK_STR(q.ans && q.ans->nrows ? q.ans->rows[0].key : NULL, "2024-01", "month key YYYY-MM");
    CHECK_NUM(cell(&q, "2024-01", 0), 1, "January clipped to the period");
    CHECK_NULL(cell(&q, "2024-01", 1), "January ratio null");
    CHECK_NUM(cell(&q, "2024-02", 0), 8, "February clipped to the period");
    CHECK_NUM(cell(&q, "2024-02", 1), 1.6, "February ratio");
    kpi_answer_free(q.ans);

    /* by=insurer over 2024-01-01..2024-02-15: I1 = S1 (10,4) + S3 (1,0): 11, 11/4;
     * I2 = S2 (6,2) + S1 (5,1) + S2 (3,4): 14, 14/7. */
    q = run(a, "fold.sum,fold.ratio", "2024-01-01", "2024-02-15", "insurer", NULL);
    CHECK(q.rc == 0 && q.ans && q.ans->nrows == 2, "by=insurer: one row per insurer (%s)", q.err);
    CHECK_NUM(cell(&q, "I1", 0), 11, "I1 sum");
    CHECK_NUM(cell(&q, "I1", 1), 2.75, "I1 ratio");
    CHECK_NUM(cell(&q, "I2", 1), 2, "I2 ratio");
    CHECK_STR(q.ans && q.ans->nrows ? q.ans->rows[0].label : NULL, "人保", "insurer label is its name");
    kpi_answer_free(q.ans);

    /* scope: only S2 and S3; by insurer only their components (I2 = S2: 9, 9/5) */
    char *some_codes[] = { "S2", "S3" };
    store_set some = { .codes = some_codes, .n = 2 };
    q = run(a, "fold.sum,fold.ratio", "2024-01-01", "2024-02-15", "insurer", &some);
    CHECK_NUM(cell(&q, "I2", 0), 9, "by=insurer over the scope's stores only");
    kpi_answer_free(q.ans);
    q = run(a, "fold.sum", "2024-01-10", "2024-02-15", "group", &some);
    CHECK_NUM(cell(&q, "group", 0), 10, "group over the scope only (9 + 1)");
    kpi_answer_free(q.ans);
    q = run(a, "fold.sum", "2024-01-10", "2024-02-15", "store", &some);
    CHECK(q.ans && q.ans->nrows == 2 && cell(&q, "S1", 0) == -999, "by=store returns only the scope's stores");
    kpi_answer_free(q.ans);

    /* nothing in the period: a sum is 0, a ratio null */
    q = run(a, "fold.sum,fold.ratio", "2023-01-01", "2023-12-31", "group", NULL);
    CHECK_NUM(cell(&q, "group", 0), 0, "a sum over nothing is 0");
    CHECK_NULL(cell(&q, "group", 1), "a ratio over nothing is null");
    kpi_answer_free(q.ans);

    /* 400s naming the culprit */
    q = run(a, "fold.sum,fold.nope", "2024-01-01", "2024-01-31", "group", NULL);
    CHECK(q.rc == -1 && q.status == 400 && strstr(q.err, "fold.nope"), "unknown id: 400 naming it (%s)", q.err);
    q = run(a, "fold.sum,fold.no_month", "2024-01-01", "2024-01-31", "month", NULL);
    CHECK(q.rc == -1 && q.status == 400 && strstr(q.err, "fold.no_month") && strstr(q.err, "month"),
          "unsupported by: 400 naming the id and by (%s)", q.err);
    q = run(a, "fold.no_month", "2024-01-01", "2024-01-31", "insurer", NULL);
    CHECK(q.rc == -1 && q.status == 400 && strstr(q.err, "insurer"), "by=insurer unsupported: 400 (%s)", q.err);
    q = run(a, "fold.sum", "2024-01-01", "2024-01-31", "week", NULL);
    CHECK(q.rc == -1 && q.status == 400 && strstr(q.err, "by"), "unknown by: 400 naming by (%s)", q.err);
    q = run(a, "fold.sum", "2024-02-30", "2024-03-31", "group", NULL);
    CHECK(q.rc == -1 && q.status == 400 && strstr(q.err, "from"), "a bad date: 400 naming from (%s)", q.err);
    q = run(a, "fold.sum", "2024-03-01", "2024-02-01", "group", NULL);
    CHECK(q.rc == -1 && q.status == 400, "to before from: 400 (%s)", q.err);

    /* the cache: a change the engine is not told about is not seen... */
    char err[512];
    CHECK(testdb_exec(c, "UPDATE test_components SET num = num + 100 WHERE store_code = 'S1' AND day = '2024-01-15'") == 0,
          "change the rows behind the engine's back");
    q = run(a, "fold.sum", "2024-01-10", "2024-02-15", "group", NULL);
    CHECK_NUM(cell(&q, "group", 0), 25, "the cached answer is served while the generation is unchanged");
    kpi_answer_free(q.ans);
    /* ...until the data generation moves (what every import does) */
    CHECK(data_generation_bump(c, err, sizeof err) == 0, "data_generation_bump bumps the generation");
    q = run(a, "fold.sum", "2024-01-10", "2024-02-15", "group", NULL);
    CHECK_NUM(cell(&q, "group", 0), 125, "after invalidation the new rows are seen");
    kpi_answer_free(q.ans);

    /* settings reach compute, and a change invalidates: fold.setting = sum x service.followup_days */
    q = run(a, "fold.setting", "2024-01-10", "2024-02-15", "group", NULL);
    CHECK_NUM(cell(&q, "group", 0), 125 * 3, "the default setting (3) is in force");
    kpi_answer_free(q.ans);
    cJSON *ch = cJSON_Parse("{\"service.followup_days\": 5}");
    int status = 0;
    CHECK(kpi_settings_update(a, c, NULL, ch, &status, err, sizeof err) == 0, "a setting changes (%s)", err);
    cJSON_Delete(ch);
    q = run(a, "fold.setting", "2024-01-10", "2024-02-15", "group", NULL);
    CHECK_NUM(cell(&q, "group", 0), 125 * 5, "a settings change is seen at once");
    kpi_answer_free(q.ans);

    /* settings validation */
    ch = cJSON_Parse("{\"retention.at_risk_months\": 7}");
    CHECK(kpi_settings_update(a, c, NULL, ch, &status, err, sizeof err) == -1 && status == 400 &&
          strstr(err, "retention.at_risk_months") && strstr(err, "retention.warning_months"),
          "at_risk must stay below warning (%s)", err);
    cJSON_Delete(ch);
    ch = cJSON_Parse("{\"retention.lost_after_months\": 30}");
    CHECK(kpi_settings_update(a, c, NULL, ch, &status, err, sizeof err) == -1 && status == 400 &&
          strstr(err, "retention.base_months"), "lost must stay at most base (%s)", err);
    cJSON_Delete(ch);
    ch = cJSON_Parse("{\"retention.lost_after_months\": 12, \"retention.base_months\": 36}");
    CHECK(kpi_settings_update(a, c, NULL, ch, &status, err, sizeof err) == 0, "a consistent pair of changes is taken (%s)", err);
    cJSON_Delete(ch);
    ch = cJSON_Parse("{\"retention.lost_months\": 12}");
    CHECK(kpi_settings_update(a, c, NULL, ch, &status, err, sizeof err) == -1 && status == 400 &&
          strstr(err, "retention.lost_months"), "an unknown setting is named (%s)", err);
    cJSON_Delete(ch);
    ch = cJSON_Parse("{\"service.followup_days\": 2.5}");
    CHECK(kpi_settings_update(a, c, NULL, ch, &status, err, sizeof err) == -1 && status == 400,
          "a day count must be whole (%s)", err);
    cJSON_Delete(ch);

    /* targets: the plugin's, then a setting */
    cJSON *t = kpi_target_json(a, "fold.sum");
    CHECK(cJSON_IsNumber(t) && t->valuedouble == 7, "the plugin's number target");
    cJSON_Delete(t);
    t = kpi_target_json(a, "fold.ratio");
    CHECK(cJSON_IsObject(t) && cJSON_GetObjectItem(t, "low") && cJSON_GetObjectItem(t, "low")->valuedouble == 0.1,
          "the plugin's band target");
    cJSON_Delete(t);
    ch = cJSON_Parse("{\"fold.sum.target\": 9, \"fold.ratio.target_high\": 0.2}");
    CHECK(kpi_settings_update(a, c, NULL, ch, &status, err, sizeof err) == 0, "targets are settable (%s)", err);
    cJSON_Delete(ch);
    t = kpi_target_json(a, "fold.sum");
    CHECK(cJSON_IsNumber(t) && t->valuedouble == 9, "the target setting is in force");
    cJSON_Delete(t);
    t = kpi_target_json(a, "fold.ratio");
    CHECK(cJSON_IsObject(t) && cJSON_GetObjectItem(t, "high") && cJSON_GetObjectItem(t, "high")->valuedouble == 0.2 &&
          cJSON_GetObjectItem(t, "low")->valuedouble == 0.1, "a band target keeps its other end");
    cJSON_Delete(t);
    CHECK(kpi_target_json(a, "fold.setting") == NULL, "no target: NULL");

    /* the example plugin over the (empty) rollups: 0 ROs a day */
    q = run(a, "example.ro_per_day", "2024-01-01", "2024-01-31", "group", NULL);
    CHECK(q.rc == 0, "the example plugin answers (%s)", q.err);
    CHECK_NUM(cell(&q, "group", 0), 0, "no ROs: 0 a day");
    kpi_answer_free(q.ans);
}

/* The shipped plugins' calendar helpers (plugins/kpi_common.h), by hand:
 * MariaDB's `date - INTERVAL n MONTH` keeps the day number, clamped to a
 * shorter month; a period splits into whole months and partial ones. */
static void test_calendar(void)
{
    (void)kc_api;
    char out[11];
    kc_months_before("2025-08-31", 6, out);
    CHECK_STR(out, "2025-02-28", "2025-08-31 - 6 months");
    kc_months_before(out, 12, out);
    CHECK_STR(out, "2024-02-28", "then - 12 months keeps the 28th");
    kc_months_before("2025-08-31", 18, out);
    CHECK_STR(out, "2024-02-29", "2025-08-31 - 18 months is the 29th: the first-service cohort's exception");
    kc_months_before("2026-11-30", 3, out);
    CHECK_STR(out, "2026-08-30", "a 30-day month end minus 3 months is not a month end");
    kc_months_before("2024-01-15", 25, out);
    CHECK_STR(out, "2021-12-15", "across years");
    fsp_kpi_args args = { 0 };
    args.from = "2025-11-03";
    args.to = "2026-10-31";
    kc_days d;
    kc_days_of(&args, &d);
    CHECK_STR(d.month_from, "2025-12-01", "whole months from December");
    CHECK_STR(d.month_to, "2026-10-01", "to October");
    CHECK(strcmp(d.head_from, "2025-11-03") == 0 && strcmp(d.head_to, "2025-11-30") == 0, "November's days");
    CHECK(strcmp(d.tail_from, d.tail_to) > 0, "no partial last month");
}

int main(void)
{
    test_calendar();
    const char *tmp = getenv("TMPDIR");
    snprintf(plugin_dir, sizeof plugin_dir, "%s/fourscore-plugins-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(plugin_dir)) {
        perror("mkdtemp");
        return 1;
    }
    int built = 0;
    for (int i = 0; i < NBROKEN; i++)
        built |= build_plugin("tests/plugins/broken.c", broken_cases[i].define, broken_cases[i].file);
    built |= build_plugin("docs/example-plugin/example.c", NULL, "example.so");
    built |= build_plugin("tests/plugins/fold.c", NULL, "fold.so");
    CHECK(built == 0, "the test plugins build with only the public header");

    test_loader();
    CHECK(link_shipped_plugin("service") == 0 && link_shipped_plugin("retention") == 0,
          "the plugins owning the settings the engine test changes are in the directory");

    testdb t;
    if (testdb_start(&t) == 0) {
        app a;
        memset(&a, 0, sizeof a);
        char err[512];
        CHECK(config_load_env(&a.cfg, err, sizeof err) == 0, "config");
        snprintf(a.cfg.plugin_dir, sizeof a.cfg.plugin_dir, "%s", plugin_dir);
        a.url = t.url;
        a.db = t.pool;
        CHECK(kpi_open(&a, err, sizeof err) == 0, "the engine opens (%s)", err);
        if (setup_data(t.conn) == 0) test_engine(&a, t.conn);
        else CHECK(0, "test data");
        kpi_close(&a);
        testdb_stop(&t);
    } else {
        CHECK(0, "the test database starts");
    }

    char cmd[PATH_MAX + 16];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", plugin_dir);
    if (system(cmd) != 0) printf("# could not remove %s\n", plugin_dir);
    return check_done();
}
