/* fold: a test plugin for the KPI engine's folding, cache and settings
 * (tests/unit/test_plugin.c). Its KPIs read the test's own table
 *     test_components (day, store_code, insurer_code, num, den, valid)
 * and emit, per store (and insurer when asked), the sums of num and den of
 * the rows dated in the period; a store with any row valid = 0 in the
 * period is emitted invalid. The test knows the rows, so it can work out
 * every folded value by hand. */
#include <fourscore/plugin.h>

static const fsp_host_api *api;

static const char SQL_BY_STORE[] =
    "SELECT store_code, NULL, SUM(num), SUM(den), MIN(valid) FROM test_components"
    " WHERE day BETWEEN ? AND ? GROUP BY store_code";
static const char SQL_BY_INSURER[] =
    "SELECT store_code, insurer_code, SUM(num), SUM(den), MIN(valid) FROM test_components"
    " WHERE day BETWEEN ? AND ? GROUP BY store_code, insurer_code";

static int fold_compute(fsp_call *call, const fsp_kpi_args *args)
{
    /* fold.setting scales the numerator by a setting, to see settings reach compute */
    double factor = args->kpi->user ? api->setting(call, "service.followup_days", -1) : 1;
    fsp_param p[2] = { FSP_P_TEXT(args->from), FSP_P_TEXT(args->to) };
    fsp_result *res;
    if (api->query(call, args->per_insurer ? SQL_BY_INSURER : SQL_BY_STORE, p, 2, &res) != 0) return -1;
    int rc = 0;
    for (int i = 0; i < api->result_rows(res) && rc == 0; i++) {
        int valid = (int)api->result_number(res, i, 4, NULL);
        rc = api->emit(call, api->result_text(res, i, 0), args->per_insurer ? api->result_text(res, i, 1) : NULL,
                       factor * api->result_number(res, i, 2, NULL), api->result_number(res, i, 3, NULL), valid);
    }
    api->result_free(res);
    return rc;
}

static const int scaled = 1;

static const fsp_kpi_def kpis[] = {
    { sizeof(fsp_kpi_def), "fold.sum", "求和", "Sum", "count", FSP_DIR_HIGHER, FSP_TARGET_NUMBER, 7, 0,
      "sum of num", FSP_BY_DEFAULT | FSP_BY_INSURER, FSP_FOLD_SUM, fold_compute, 0 },
    { sizeof(fsp_kpi_def), "fold.ratio", "比率", "Ratio", "ratio", FSP_DIR_BAND, FSP_TARGET_BAND, 0.1, 0.12,
      "sum of num / sum of den", FSP_BY_DEFAULT | FSP_BY_INSURER, FSP_FOLD_RATIO, fold_compute, 0 },
    { sizeof(fsp_kpi_def), "fold.setting", "设置", "Scaled sum", "count", FSP_DIR_NONE, FSP_TARGET_NONE, 0, 0,
      "sum of num times service.followup_days", FSP_BY_DEFAULT, FSP_FOLD_SUM, fold_compute, &scaled },
    { sizeof(fsp_kpi_def), "fold.no_month", "无月", "No month", "count", FSP_DIR_LOWER, FSP_TARGET_NONE, 0, 0,
      "sum of num, not by month", FSP_BY_GROUP | FSP_BY_REGION | FSP_BY_STORE, FSP_FOLD_SUM, fold_compute, 0 },
};

static int fold_init(fsp_host *host, const fsp_host_api *a)
{
    api = a;
    for (unsigned i = 0; i < sizeof kpis / sizeof kpis[0]; i++)
        if (api->register_kpi(host, &kpis[i]) != 0) return 1;
    return 0;
}

static const fsp_plugin_descriptor fold_descriptor = {
    FSP_MAGIC, FSP_ABI_MAJOR, FSP_ABI_MINOR, sizeof(fsp_plugin_descriptor), FSP_BUILD_SIGNATURE,
    "fold", "1.0.0", "test plugin: folds the rows of test_components", fold_init, 0,
};

FSP_EXPORT const fsp_plugin_descriptor *fourscore_plugin_v1(void) { return &fold_descriptor; }
