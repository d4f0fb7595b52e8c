/* example: a complete KPI plugin built out of tree with nothing but
 * fourscore/plugin.h (docs/plugins.md walks through it):
 *
 *     cc -std=c11 -shared -fPIC -I core/include -o example.so docs/example-plugin/example.c
 *
 * It provides one KPI, example.ro_per_day (日均进厂台次): repair orders per
 * store and open day, from the per-store, per-day rollup, and the one
 * setting it reads, example.open_days_per_week (7 unless an admin changes
 * it). Its numerator is the ROs of a store in the period, its denominator
 * the open days of the period (days x open days per week / 7), so the
 * engine's folding gives a store its own daily average and a region or the
 * group the average per store and day. */
#include <fourscore/plugin.h>

static const fsp_host_api *api;     /* kept from init; lives until fini */
static fsp_host *host;

/* The setting: registered in init, read in compute (it may change at any time). */
static const fsp_setting_def open_days_per_week = FSP_SETTING(
    .name = "example.open_days_per_week",
    .name_zh = "每周营业天数",
    .name_en = "Open days per week",
    .unit = "days",
    .default_value = 7, .min = 1, .max = 7);

/* One row per store: its closed, non-internal ROs in [from, to]. Stores with
 * none get a 0 row too (LEFT JOIN), so their average is 0, not missing. */
static const char SQL_RO_COUNT[] =
    "SELECT s.store_code, COALESCE(SUM(d.ro_count), 0)"
    " FROM stores s LEFT JOIN rollup_ro_day d"
    "  ON d.store_code = s.store_code AND d.day BETWEEN ? AND ?"
    " GROUP BY s.store_code";

static int ro_per_day(fsp_call *call, const fsp_kpi_args *args)
{
    /* whole, 1 to 7: the host refuses any other value when it is set */
    double open_days = api->setting(call, open_days_per_week.name, open_days_per_week.default_value);
    fsp_param params[2] = { FSP_P_TEXT(args->from), FSP_P_TEXT(args->to) };
    fsp_result *res;
    if (api->query(call, SQL_RO_COUNT, params, 2, &res) != 0) return -1;
    for (int i = 0; i < api->result_rows(res); i++) {
        double ros = api->result_number(res, i, 1, NULL);
        if (api->emit(call, api->result_text(res, i, 0), NULL, ros, args->days * open_days / 7, 1) != 0) {
            api->result_free(res);
            return -1;
        }
    }
    api->result_free(res);
    return 0;
}

static const fsp_kpi_def ro_per_day_kpi = FSP_KPI(
    .id = "example.ro_per_day",
    .name_zh = "日均进厂台次",
    .name_en = "Repair orders per day",
    .unit = "count",
    .direction = FSP_DIR_HIGHER,
    FSP_TARGET(20),
    .formula = "closed non-internal ROs of the period / open days of the period "
               "(days x example.open_days_per_week / 7), per store",
    .by = FSP_BY_DEFAULT,
    .fold = FSP_FOLD_RATIO,
    .compute = ro_per_day);

static int example_init(fsp_host *h, const fsp_host_api *a)
{
    if (a->version < 3 || a->struct_size < sizeof(fsp_host_api)) return 1;   /* needs host API 3 (settings) */
    host = h;
    api = a;
    api->log(host, FSP_LOG_INFO, "example plugin ready");
    if (api->register_setting(host, &open_days_per_week) != 0) return 1;
    return api->register_kpi(host, &ro_per_day_kpi);
}

static void example_fini(void)
{
    api = NULL;
    host = NULL;
}

FSP_PLUGIN(.name = "example", .version = "1.1.0",
           .description = "an out-of-tree example: repair orders per store and open day",
           .init = example_init, .fini = example_fini);
