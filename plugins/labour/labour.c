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

static const kc_days_sql SQL_LABOUR_REVENUE = KC_RO_SUMS_SQL("labour_revenue", "1");
static const kc_days_sql SQL_SOLD_HOURS = KC_RO_SUMS_SQL("sold_hours", "1");
static const kc_days_sql SQL_EFFECTIVE_RATE = KC_RO_SUMS_SQL("labour_revenue", "SUM(sold_hours)");
static const kc_days_sql SQL_SHARE = KC_RO_SUMS_SQL("labour_revenue", "SUM(revenue)");
/* Only the lines that carry both sold and clocked hours. */
static const kc_days_sql SQL_TECH_EFFICIENCY = KC_RO_SUMS_SQL("sold_hours_clocked", "SUM(clocked_hours)");
static const kc_days_sql SQL_HOURS_PER_RO = KC_RO_SUMS_SQL("sold_hours", "SUM(ro_count)");

/* --- compute --- */

/* Every labour KPI takes just the period; the query is the definition's user. */
static int compute_period_query(fsp_call *call, const fsp_kpi_args *args)
{
    return kc_query_days_emit(call, args, args->kpi->user);
}

/* --- the catalogue --- */

#define DEF(ID, ZH, EN, UNIT, DIR, TKIND, TLO, FORMULA, FOLD, SQL) \
    { sizeof(fsp_kpi_def), ID, ZH, EN, UNIT, DIR, TKIND, TLO, 0, FORMULA, FSP_BY_DEFAULT, FOLD, \
      compute_period_query, SQL }

static const fsp_kpi_def labour_kpis[] = {
    DEF("labour.revenue", "工时收入", "Labour revenue", "CNY", FSP_DIR_HIGHER, FSP_TARGET_NONE, 0,
        "Sum of ro_labour.amount of the period's ROs.", FSP_FOLD_SUM, &SQL_LABOUR_REVENUE),
    DEF("labour.sold_hours", "售出工时", "Sold hours", "h", FSP_DIR_HIGHER, FSP_TARGET_NONE, 0,
        "Sum of sold_hours of the period's ROs.", FSP_FOLD_SUM, &SQL_SOLD_HOURS),
    DEF("labour.effective_rate", "有效工时单价", "Effective labour rate", "CNY/h", FSP_DIR_HIGHER, FSP_TARGET_NONE, 0,
        "labour.revenue / labour.sold_hours.", FSP_FOLD_RATIO, &SQL_EFFECTIVE_RATE),
    DEF("labour.share", "工时产值占比", "Labour share of service revenue", "ratio", FSP_DIR_HIGHER,
        FSP_TARGET_NUMBER, 0.30,
        "labour.revenue / service.revenue.", FSP_FOLD_RATIO, &SQL_SHARE),
    DEF("labour.tech_efficiency", "技师效率", "Technician efficiency", "ratio", FSP_DIR_HIGHER,
        FSP_TARGET_NUMBER, 1.05,
        "Sum of sold_hours / sum of clocked_hours over the labour lines that carry both.",
        FSP_FOLD_RATIO, &SQL_TECH_EFFICIENCY),
    DEF("labour.hours_per_ro", "单车工时", "Sold hours per repair order", "h", FSP_DIR_HIGHER,
        FSP_TARGET_NUMBER, 2.0,
        "labour.sold_hours / service.ro_count.", FSP_FOLD_RATIO, &SQL_HOURS_PER_RO),
};

/* --- the plugin --- */

static int labour_init(fsp_host *host, const fsp_host_api *api)
{
    return kc_register_all(host, api, labour_kpis, KC_COUNT(labour_kpis));
}

static const fsp_plugin_descriptor labour_descriptor = {
    FSP_MAGIC, FSP_ABI_MAJOR, FSP_ABI_MINOR, sizeof(fsp_plugin_descriptor),
    FSP_BUILD_SIGNATURE, "labour", "1.0.0",
    "Labour: revenue, sold hours, effective rate, share, technician efficiency, hours per RO",
    labour_init, NULL
};

FSP_EXPORT const fsp_plugin_descriptor *fourscore_plugin_v1(void)
{
    return &labour_descriptor;
}
