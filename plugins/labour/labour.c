/* labour: the labour (工时) KPIs of docs/kpis.md "labour": labour revenue,
 * sold hours, effective labour rate, labour share of service revenue,
 * technician efficiency and hours per RO, over the ro_labour lines of the
 * period's closed non-internal repair orders (rollup_ro_month and
 * rollup_ro_day), per store. */
#include <fourscore/plugin.h>
#include "../kpi_common.h"

/* --- queries --- */

/* All from the per store and month (whole months) or day sums over the
 * closed non-internal ROs and their labour lines (KC_RO_SUMS_SQL). */

static const kc_days_sql SQL_LABOUR_REVENUE = KC_RO_SUMS_SQL("labour_revenue", "labour_revenue", "1");
static const kc_days_sql SQL_SOLD_HOURS = KC_RO_SUMS_SQL("sold_hours", "sold_hours", "1");
static const kc_days_sql SQL_EFFECTIVE_RATE = KC_RO_SUMS_SQL("labour_revenue, sold_hours", "labour_revenue", "SUM(sold_hours)");
static const kc_days_sql SQL_SHARE = KC_RO_SUMS_SQL("labour_revenue, revenue", "labour_revenue", "SUM(revenue)");
/* Only the lines that carry both sold and clocked hours. */
static const kc_days_sql SQL_TECH_EFFICIENCY = KC_RO_SUMS_SQL("sold_hours_clocked, clocked_hours", "sold_hours_clocked", "SUM(clocked_hours)");
static const kc_days_sql SQL_HOURS_PER_RO = KC_RO_SUMS_SQL("sold_hours, ro_count", "sold_hours", "SUM(ro_count)");

/* --- compute --- */

/* Every labour KPI takes just the period; the query is the definition's user. */
static int compute_period_query(fsp_call *call, const fsp_kpi_args *args)
{
    return kc_query_days_emit(call, args, args->kpi->user);
}

/* --- the catalogue --- */

#define LABOUR_KPI(...) FSP_KPI(.direction = FSP_DIR_HIGHER, .compute = compute_period_query, __VA_ARGS__)

static const fsp_kpi_def labour_kpis[] = {
    LABOUR_KPI(.id = "labour.revenue", .budget = 1, .name_zh = "工时收入", .name_en = "Labour revenue", .unit = "CNY",
               .fold = FSP_FOLD_SUM, .formula = "Sum of ro_labour.amount of the period's ROs.",
               .user = &SQL_LABOUR_REVENUE),
    LABOUR_KPI(.id = "labour.sold_hours", .budget = 1, .name_zh = "售出工时", .name_en = "Sold hours", .unit = "h",
               .fold = FSP_FOLD_SUM, .formula = "Sum of sold_hours of the period's ROs.",
               .user = &SQL_SOLD_HOURS),
    LABOUR_KPI(.id = "labour.effective_rate", .name_zh = "有效工时单价", .name_en = "Effective labour rate",
               .unit = "CNY/h", .fold = FSP_FOLD_RATIO, .formula = "labour.revenue / labour.sold_hours.",
               .user = &SQL_EFFECTIVE_RATE),
    LABOUR_KPI(.id = "labour.share", .name_zh = "工时产值占比", .name_en = "Labour share of service revenue",
               .unit = "ratio", FSP_TARGET(0.30), .fold = FSP_FOLD_RATIO,
               .formula = "labour.revenue / service.revenue.", .user = &SQL_SHARE),
    LABOUR_KPI(.id = "labour.tech_efficiency", .name_zh = "技师效率", .name_en = "Technician efficiency",
               .unit = "ratio", FSP_TARGET(1.05), .fold = FSP_FOLD_RATIO,
               .formula = "Sum of sold_hours / sum of clocked_hours over the labour lines that carry both.",
               .user = &SQL_TECH_EFFICIENCY),
    LABOUR_KPI(.id = "labour.hours_per_ro", .name_zh = "单车工时", .name_en = "Sold hours per repair order",
               .unit = "h", FSP_TARGET(2.0), .fold = FSP_FOLD_RATIO,
               .formula = "labour.sold_hours / service.ro_count.", .user = &SQL_HOURS_PER_RO),
};

/* --- the plugin --- */

static int labour_init(fsp_host *host, const fsp_host_api *api)
{
    return kc_register_all(host, api, labour_kpis, KC_COUNT(labour_kpis), NULL, 0, NULL);
}

FSP_PLUGIN(.name = "labour", .version = "1.0.0", .init = labour_init,
           .description = "Labour: revenue, sold hours, effective rate, share, technician efficiency, hours per RO");
