/* sales: the new-car sales (新车销售) KPIs of docs/kpis.md "sales": units
 * sold, sales revenue and the share of sales that came through a referral
 * (转介绍率). Every sale counts (a vehicle sold again too), credited to the
 * selling store by its sold_on in the period; the engine folds stores into
 * regions, the group and months.
 *
 * All read the per store and day (or month) sums of the sales
 * (schemas/030_sales_rollups.sql): units, revenue and referrals. */
#include <fourscore/plugin.h>
#include "../kpi_common.h"

/* --- queries --- */

/* Per store SUM(NUM) over DEN from the sales sums of the period. */
#define SALES_SUMS(COLS, NUM, DEN) KC_SUMS_SQL(COLS, NUM, DEN, "rollup_sales_day", "rollup_sales_month")
static const kc_days_sql SQL_UNITS = SALES_SUMS("units", "units", "1");
static const kc_days_sql SQL_REVENUE = SALES_SUMS("revenue", "revenue", "1");
/* An empty referral is false (counted so by the rollup). */
static const kc_days_sql SQL_REFERRAL_SHARE = SALES_SUMS("referrals, units", "referrals", "SUM(units)");

/* .user: the KPI's day and month statements. */
static int compute_sales(fsp_call *call, const fsp_kpi_args *args)
{
    return kc_query_days_emit(call, args, args->kpi->user);
}

/* --- the catalogue --- */

/* sales.units and sales.revenue are budgeted per store and month (the
 * targets import). */
static const fsp_kpi_def sales_kpis[] = {
    FSP_KPI(.id = "sales.units", .budget = 1, .name_zh = "新车销量", .name_en = "New vehicles sold", .unit = "count",
            .direction = FSP_DIR_HIGHER, .fold = FSP_FOLD_SUM,
            .formula = "Vehicle sales with sold_on in the period, credited to the selling store (every sale counts, "
                       "a vehicle sold again too).",
            .compute = compute_sales, .user = &SQL_UNITS),
    FSP_KPI(.id = "sales.revenue", .budget = 1, .name_zh = "新车销售额", .name_en = "New vehicle sales revenue", .unit = "CNY",
            .direction = FSP_DIR_HIGHER, .fold = FSP_FOLD_SUM,
            .formula = "Sum of sale_amount of the vehicle sales of the period (selling store).",
            .compute = compute_sales, .user = &SQL_REVENUE),
    FSP_KPI(.id = "sales.referral_share", .name_zh = "转介绍率", .name_en = "Referral share", .unit = "ratio",
            .direction = FSP_DIR_HIGHER, .fold = FSP_FOLD_RATIO,
            .formula = "Vehicle sales of the period with referral (empty is false) / vehicle sales of the period "
                       "(selling store).",
            .compute = compute_sales, .user = &SQL_REFERRAL_SHARE),
};

/* --- the plugin --- */

static int sales_init(fsp_host *host, const fsp_host_api *api)
{
    return kc_register_all(host, api, sales_kpis, KC_COUNT(sales_kpis), NULL, 0, NULL);
}

FSP_PLUGIN(.name = "sales", .version = "1.1.0", .init = sales_init,
           .description = "New-car sales: units, revenue, referral share");
