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
    FSP_KPI(.id = "fold.sum", .name_zh = "求和", .name_en = "Sum", .unit = "count", .direction = FSP_DIR_HIGHER,
            FSP_TARGET(7), .formula = "sum of num", .by = FSP_BY_DEFAULT | FSP_BY_INSURER,
            .fold = FSP_FOLD_SUM, .compute = fold_compute),
    FSP_KPI(.id = "fold.ratio", .name_zh = "比率", .name_en = "Ratio", .unit = "ratio", .direction = FSP_DIR_BAND,
            FSP_BAND(0.1, 0.12), .formula = "sum of num / sum of den", .by = FSP_BY_DEFAULT | FSP_BY_INSURER,
            .fold = FSP_FOLD_RATIO, .compute = fold_compute),
    FSP_KPI(.id = "fold.setting", .name_zh = "设置", .name_en = "Scaled sum", .unit = "count",
            .direction = FSP_DIR_NONE, .formula = "sum of num times service.followup_days",
            .fold = FSP_FOLD_SUM, .compute = fold_compute, .user = &scaled),
    FSP_KPI(.id = "fold.no_month", .name_zh = "无月", .name_en = "No month", .unit = "count",
            .direction = FSP_DIR_LOWER, .formula = "sum of num, not by month",
            .by = FSP_BY_GROUP | FSP_BY_REGION | FSP_BY_STORE, .fold = FSP_FOLD_SUM, .compute = fold_compute),
};

static int fold_init(fsp_host *host, const fsp_host_api *a)
{
    api = a;
    for (unsigned i = 0; i < sizeof kpis / sizeof kpis[0]; i++)
        if (api->register_kpi(host, &kpis[i]) != 0) return 1;
    return 0;
}

FSP_PLUGIN(.name = "fold", .version = "1.0.0", .description = "test plugin: folds the rows of test_components",
           .init = fold_init);
