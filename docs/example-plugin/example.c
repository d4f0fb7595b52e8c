/* example: a complete KPI plugin built out of tree with nothing but
 * fourscore/plugin.h (docs/plugins.md walks through it):
 *
 *     cc -std=c11 -shared -fPIC -I core/include -o example.so docs/example-plugin/example.c
 *
 * It provides one KPI, example.ro_per_day (日均进厂台次): repair orders per
 * store and day, from the per-store, per-day rollup. Its numerator is the
 * ROs of a store in the period, its denominator the days of the period, so
 * the engine's folding gives a store its own daily average and a region or
 * the group the average per store and day. */
#include <fourscore/plugin.h>

static const fsp_host_api *api;     /* kept from init; lives until fini */
static fsp_host *host;

/* One row per store: its closed, non-internal ROs in [from, to]. Stores with
 * none get a 0 row too (LEFT JOIN), so their average is 0, not missing. */
static const char SQL_RO_COUNT[] =
    "SELECT s.store_code, COALESCE(SUM(d.ro_count), 0)"
    " FROM stores s LEFT JOIN rollup_ro_day d"
    "  ON d.store_code = s.store_code AND d.day BETWEEN ? AND ?"
    " GROUP BY s.store_code";

static int ro_per_day(fsp_call *call, const fsp_kpi_args *args)
{
    fsp_param params[2] = { FSP_P_TEXT(args->from), FSP_P_TEXT(args->to) };
    fsp_result *res;
    if (api->query(call, SQL_RO_COUNT, params, 2, &res) != 0) return -1;
    for (int i = 0; i < api->result_rows(res); i++) {
        double ros = api->result_number(res, i, 1, NULL);
        if (api->emit(call, api->result_text(res, i, 0), NULL, ros, (double)args->days, 1) != 0) {
            api->result_free(res);
            return -1;
        }
    }
    api->result_free(res);
    return 0;
}

static const fsp_kpi_def ro_per_day_kpi = {
    .struct_size = sizeof(fsp_kpi_def),
    .id = "example.ro_per_day",
    .name_zh = "日均进厂台次",
    .name_en = "Repair orders per day",
    .unit = "count",
    .direction = FSP_DIR_HIGHER,
    .target_kind = FSP_TARGET_NUMBER,
    .target_low = 20,
    .formula = "closed non-internal ROs of the period / days in the period, per store",
    .by = FSP_BY_DEFAULT,
    .fold = FSP_FOLD_RATIO,
    .compute = ro_per_day,
};

static int example_init(fsp_host *h, const fsp_host_api *a)
{
    if (a->version < 1 || a->struct_size < sizeof(fsp_host_api)) return 1;   /* need API v1 */
    host = h;
    api = a;
    api->log(host, FSP_LOG_INFO, "example plugin ready");
    return api->register_kpi(host, &ro_per_day_kpi);
}

static void example_fini(void)
{
    api = NULL;
    host = NULL;
}

static const fsp_plugin_descriptor example_descriptor = {
    .magic = FSP_MAGIC,
    .abi_major = FSP_ABI_MAJOR,
    .abi_minor = FSP_ABI_MINOR,
    .struct_size = sizeof(fsp_plugin_descriptor),
    .signature = FSP_BUILD_SIGNATURE,
    .name = "example",
    .version = "1.0.0",
    .description = "an out-of-tree example: repair orders per store and day",
    .init = example_init,
    .fini = example_fini,
};

FSP_EXPORT const fsp_plugin_descriptor *fourscore_plugin_v1(void)
{
    return &example_descriptor;
}
