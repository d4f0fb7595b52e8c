/* retention: the customer retention (客户保持) KPIs of spec/kpis.md
 * "retention", as of the period end `to`, by VIN across every store of the
 * group. Each vehicle has one latest sale on or before `to` (a vehicle sold
 * more than once counts from that sale: its selling store and cohort are that
 * sale's, and visits before it belong to an earlier owner) and one last visit:
 * its latest non-internal RO closed on or before `to` (and not before that
 * sale), by full timestamp, a tie going to the smaller store_code; its sale
 * date if it has no such visit. Base and ageing bands are credited to the
 * store of the last visit (the selling store if none); cohort KPIs (churn,
 * first service) to the selling store. "N months before" is MariaDB's
 * `date - INTERVAL N MONTH`: same day number, clamped to a shorter month's end.
 *
 * Reads vehicle_sales and the per-vehicle visit summary rollup_vehicle_visit
 * (one row per VIN and visit day, holding the store of that day's latest
 * visit with the tie already resolved to the smaller store_code). */
#include <fourscore/plugin.h>
#include "../kpi_common.h"

/* --- each vehicle's latest sale and last visit as of `to` --- */

/* CTE `sale`: each VIN's latest sale on or before `to` (two sales on one day:
 * the smaller store_code, then deal_no). Placeholder: to. */
#define SQL_LATEST_SALE \
    "sale AS (SELECT vin, store_code, sold_on FROM (" \
    "   SELECT vin, store_code, sold_on, ROW_NUMBER() OVER (PARTITION BY vin" \
    "     ORDER BY sold_on DESC, store_code, deal_no) AS pick" \
    "   FROM vehicle_sales WHERE sold_on <= CAST(? AS DATE)) ranked WHERE pick = 1)"

/* CTEs `visit` (each VIN's last visit day and its store) and `vehicle` (every VIN sold or
 * visited: selling store and date, store and date of the last visit or sale).
 * Placeholders: to (sale), to (visit). */
#define SQL_VEHICLES \
    SQL_LATEST_SALE ", " \
    "visit AS (SELECT vin, store_code, visit_on FROM (" \
    "   SELECT v.vin, v.last_store_code AS store_code, v.visit_on," \
    "     ROW_NUMBER() OVER (PARTITION BY v.vin ORDER BY v.visit_on DESC) AS pick" \
    "   FROM rollup_vehicle_visit v LEFT JOIN sale s ON s.vin = v.vin" \
    "   WHERE v.visit_on <= CAST(? AS DATE)" \
    "   AND (s.sold_on IS NULL OR v.visit_on >= s.sold_on)) ranked WHERE pick = 1), " \
    "vehicle AS (" \
    "   SELECT s.vin, s.store_code AS sale_store, s.sold_on," \
    "     COALESCE(v.store_code, s.store_code) AS last_store," \
    "     COALESCE(v.visit_on, s.sold_on) AS last_on" \
    "   FROM sale s LEFT JOIN visit v ON v.vin = s.vin" \
    "   UNION ALL" \
    "   SELECT v.vin, NULL, NULL, v.store_code, v.visit_on FROM visit v" \
    "   WHERE NOT EXISTS (SELECT 1 FROM sale s WHERE s.vin = v.vin))"

/* --- base and ageing bands --- */

/* Base vehicles (last visit in (to - base, to]) whose last visit is on or
 * before to - newer and after to - older months, by store of last visit.
 * Placeholders: to, to (CTEs); to, base months, to, to, newer, to, older. */
static const char SQL_BAND[] =
    "WITH " SQL_VEHICLES
    " SELECT last_store, NULL, COUNT(*), 1, 1 FROM vehicle"
    " WHERE last_on > CAST(? AS DATE) - INTERVAL ? MONTH AND last_on <= CAST(? AS DATE)"
    " AND last_on <= CAST(? AS DATE) - INTERVAL ? MONTH"
    " AND last_on > CAST(? AS DATE) - INTERVAL ? MONTH"
    " GROUP BY last_store";

typedef enum retention_band { BAND_BASE, BAND_AT_RISK, BAND_WARNING, BAND_LOST } retention_band;

typedef struct retention_settings {
    int base_months, at_risk_months, warning_months, lost_after_months, first_service_months;
} retention_settings;

static int read_settings(fsp_call *call, retention_settings *s)
{
    if (kc_setting_int(call, "retention.base_months", 24, 1, 1200, &s->base_months) != 0 ||
        kc_setting_int(call, "retention.at_risk_months", 3, 0, 1200, &s->at_risk_months) != 0 ||
        kc_setting_int(call, "retention.warning_months", 6, 0, 1200, &s->warning_months) != 0 ||
        kc_setting_int(call, "retention.lost_after_months", 9, 0, 1200, &s->lost_after_months) != 0 ||
        kc_setting_int(call, "retention.first_service_months", 6, 0, 1200, &s->first_service_months) != 0)
        return -1;
    return 0;
}

static const retention_band band_base = BAND_BASE, band_at_risk = BAND_AT_RISK,
                            band_warning = BAND_WARNING, band_lost = BAND_LOST;

static int compute_band(fsp_call *call, const fsp_kpi_args *args)
{
    retention_settings s;
    if (read_settings(call, &s) != 0)
        return -1;
    int newer = 0, older = s.base_months;    /* months before `to`: (to - older, to - newer] */
    switch (*(const retention_band *)args->kpi->user) {
    case BAND_BASE:     newer = 0;                   older = s.base_months;       break;
    case BAND_AT_RISK:  newer = s.at_risk_months;    older = s.warning_months;    break;
    case BAND_WARNING:  newer = s.warning_months;    older = s.lost_after_months; break;
    case BAND_LOST:     newer = s.lost_after_months; older = s.base_months;       break;
    }
    const char *to = args->to;
    fsp_param params[] = { FSP_P_TEXT(to), FSP_P_TEXT(to),
                           FSP_P_TEXT(to), FSP_P_INT(s.base_months), FSP_P_TEXT(to),
                           FSP_P_TEXT(to), FSP_P_INT(newer), FSP_P_TEXT(to), FSP_P_INT(older) };
    return kc_query_emit(call, args, SQL_BAND, params, KC_COUNT(params));
}

/* --- cohorts by selling store --- */

/* Vehicles whose latest sale is in (to - older, to - newer] months: the share
 * whose last visit is on or before to - lost months.
 * Placeholders: to, to (CTEs); to, lost months; to, older, to, newer. */
static const char SQL_CHURN[] =
    "WITH " SQL_VEHICLES
    " SELECT sale_store, NULL, SUM(last_on <= CAST(? AS DATE) - INTERVAL ? MONTH), COUNT(*), 1"
    " FROM vehicle WHERE sale_store IS NOT NULL"
    " AND sold_on > CAST(? AS DATE) - INTERVAL ? MONTH AND sold_on <= CAST(? AS DATE) - INTERVAL ? MONTH"
    " GROUP BY sale_store";

/* The cohort year of a churn KPI: sold in (to - 12*year, to - 12*(year-1)]. */
static const int churn_year_1 = 1, churn_year_2 = 2, churn_year_3 = 3;

static int compute_churn(fsp_call *call, const fsp_kpi_args *args)
{
    retention_settings s;
    if (read_settings(call, &s) != 0)
        return -1;
    int year = *(const int *)args->kpi->user;
    const char *to = args->to;
    fsp_param params[] = { FSP_P_TEXT(to), FSP_P_TEXT(to),
                           FSP_P_TEXT(to), FSP_P_INT(s.lost_after_months),
                           FSP_P_TEXT(to), FSP_P_INT(12 * year), FSP_P_TEXT(to), FSP_P_INT(12 * (year - 1)) };
    return kc_query_emit(call, args, SQL_CHURN, params, KC_COUNT(params));
}

/* Cohort: latest sale in the 12 months that end F months before `to`; served
 * when a non-internal RO of the VIN at any store closed from sold_on to
 * sold_on + F months. Placeholders: to (sale); to, F, to, F; F. */
static const char SQL_FIRST_SERVICE[] =
    "WITH " SQL_LATEST_SALE
    " SELECT s.store_code, NULL,"
    " SUM(EXISTS (SELECT 1 FROM rollup_vehicle_visit v WHERE v.vin = s.vin"
    "   AND v.visit_on >= s.sold_on AND v.visit_on <= s.sold_on + INTERVAL ? MONTH)),"
    " COUNT(*), 1 FROM sale s"
    " WHERE s.sold_on > CAST(? AS DATE) - INTERVAL ? MONTH - INTERVAL 12 MONTH"
    " AND s.sold_on <= CAST(? AS DATE) - INTERVAL ? MONTH"
    " GROUP BY s.store_code";

static int compute_first_service(fsp_call *call, const fsp_kpi_args *args)
{
    retention_settings s;
    if (read_settings(call, &s) != 0)
        return -1;
    int months = s.first_service_months;
    const char *to = args->to;
    fsp_param params[] = { FSP_P_TEXT(to), FSP_P_INT(months),
                           FSP_P_TEXT(to), FSP_P_INT(months), FSP_P_TEXT(to), FSP_P_INT(months) };
    return kc_query_emit(call, args, SQL_FIRST_SERVICE, params, KC_COUNT(params));
}

/* --- the catalogue --- */

#define DEF(ID, ZH, EN, UNIT, DIR, TKIND, TLO, FORMULA, FOLD, FN, USER) \
    { sizeof(fsp_kpi_def), ID, ZH, EN, UNIT, DIR, TKIND, TLO, 0, FORMULA, FSP_BY_DEFAULT, FOLD, FN, USER }

static const fsp_kpi_def retention_kpis[] = {
    DEF("retention.base", "保有客户", "Customer base", "count", FSP_DIR_HIGHER, FSP_TARGET_NONE, 0,
        "Vehicles whose last visit (or sale) is within retention.base_months (24) months up to the period end, "
        "credited to the store of the last visit.",
        FSP_FOLD_SUM, compute_band, &band_base),
    DEF("retention.at_risk", "拟流失 (3–6 月)", "At risk (3-6 months)", "count", FSP_DIR_LOWER, FSP_TARGET_NONE, 0,
        "Base vehicles last seen on or before retention.at_risk_months (3) and after retention.warning_months (6) "
        "months before the period end.",
        FSP_FOLD_SUM, compute_band, &band_at_risk),
    DEF("retention.warning", "流失预警 (6–9 月)", "Churn warning (6-9 months)", "count", FSP_DIR_LOWER, FSP_TARGET_NONE, 0,
        "Base vehicles last seen on or before retention.warning_months (6) and after "
        "retention.lost_after_months (9) months before the period end.",
        FSP_FOLD_SUM, compute_band, &band_warning),
    DEF("retention.lost", "流失 (≥ 9 月)", "Lost (9 months or more)", "count", FSP_DIR_LOWER, FSP_TARGET_NONE, 0,
        "Base vehicles last seen on or before retention.lost_after_months (9) months before the period end.",
        FSP_FOLD_SUM, compute_band, &band_lost),
    DEF("retention.churn_y1", "一年流失率", "Year-1 churn", "ratio", FSP_DIR_LOWER, FSP_TARGET_NUMBER, 0.05,
        "Of the vehicles sold by the group in the 12 months up to the period end: the share last seen "
        "retention.lost_after_months (9) months or more before it (selling store).",
        FSP_FOLD_RATIO, compute_churn, &churn_year_1),
    DEF("retention.churn_y2", "二年流失率", "Year-2 churn", "ratio", FSP_DIR_LOWER, FSP_TARGET_NUMBER, 0.08,
        "Of the vehicles sold by the group 12 to 24 months before the period end: the share last seen "
        "retention.lost_after_months (9) months or more before it (selling store).",
        FSP_FOLD_RATIO, compute_churn, &churn_year_2),
    DEF("retention.churn_y3", "三年流失率", "Year-3 churn", "ratio", FSP_DIR_LOWER, FSP_TARGET_NUMBER, 0.12,
        "Of the vehicles sold by the group 24 to 36 months before the period end: the share last seen "
        "retention.lost_after_months (9) months or more before it (selling store).",
        FSP_FOLD_RATIO, compute_churn, &churn_year_3),
    DEF("retention.first_service_rate", "首保进站率", "First service rate", "ratio", FSP_DIR_HIGHER,
        FSP_TARGET_NUMBER, 0.95,
        "Of the vehicles sold in the 12 months ending retention.first_service_months (6) months before the period "
        "end: the share with a non-internal RO at any group store within that many months of the sale.",
        FSP_FOLD_RATIO, compute_first_service, NULL),
};

/* --- the plugin --- */

static int retention_init(fsp_host *host, const fsp_host_api *api)
{
    return kc_register_all(host, api, retention_kpis, KC_COUNT(retention_kpis));
}

static const fsp_plugin_descriptor retention_descriptor = {
    FSP_MAGIC, FSP_ABI_MAJOR, FSP_ABI_MINOR, sizeof(fsp_plugin_descriptor),
    FSP_BUILD_SIGNATURE, "retention", "1.0.0",
    "Customer retention as of the period end: base, at risk, warning, lost, churn by year, first service",
    retention_init, NULL
};

FSP_EXPORT const fsp_plugin_descriptor *fourscore_plugin_v1(void)
{
    return &retention_descriptor;
}
