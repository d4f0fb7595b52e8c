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
 * Reads vehicle_sales (key k_sale_vin) and the per-vehicle visit summary
 * rollup_vehicle_visit (one row per VIN and visit day, holding the store of
 * that day's latest visit with the tie already resolved to the smaller
 * store_code): one grouping of the visit days and sales in the window each
 * KPI needs, then key lookups for the stores of the vehicles counted. */
#include <fourscore/plugin.h>
#include "../kpi_common.h"

/* --- each vehicle's latest sale and last visit as of `to` --- */

/* Every query looks back only as far as its KPI needs: `since` = `to` - N
 * months (N a placeholder). That changes no answer: a vehicle's latest sale
 * and its last visit matter only when they fall after `since` (the base, a
 * cohort), and the latest of the dates after `since` is the latest of all. */

/* CTEs `latest` and `vehicle`: every VIN sold or visited in (since, to],
 * with its latest sale (sold_on), its latest visit day (visit_on) and the day
 * of its last visit or sale (last_on). The visits since the latest sale are
 * exactly those dated on or after it, so the latest visit counts when it is
 * not older than the sale; otherwise the sale date does. One grouping over
 * visit days and sales together. Placeholders: to, months, to (visits); to,
 * months, to (sales). */
#define SQL_VEHICLES \
    "latest AS (SELECT vin, MAX(IF(is_visit = 1, NULL, day)) AS sold_on," \
    "   MAX(IF(is_visit = 1, day, NULL)) AS visit_on FROM (" \
    "   SELECT vin, visit_on AS day, 1 AS is_visit FROM rollup_vehicle_visit" \
    "   WHERE visit_on > CAST(? AS DATE) - INTERVAL ? MONTH AND visit_on <= CAST(? AS DATE)" \
    "   UNION ALL" \
    "   SELECT vin, sold_on, 0 FROM vehicle_sales" \
    "   WHERE sold_on > CAST(? AS DATE) - INTERVAL ? MONTH AND sold_on <= CAST(? AS DATE)) dated" \
    " GROUP BY vin), " \
    "vehicle AS (SELECT vin, sold_on, visit_on," \
    "   IF(visit_on >= sold_on OR sold_on IS NULL, visit_on, sold_on) AS last_on FROM latest)"

/* CTE `sale`: each VIN's latest sale in (to - months, to]. Placeholders:
 * to, months, to. */
#define SQL_LATEST_SALE \
    "sale AS (SELECT vin, MAX(sold_on) AS sold_on FROM vehicle_sales" \
    "   WHERE sold_on > CAST(? AS DATE) - INTERVAL ? MONTH AND sold_on <= CAST(? AS DATE) GROUP BY vin)"

/* The selling store of vehicle v (two sales on its latest day: the smaller
 * store_code), and the store of its last visit (the visit summary's store of
 * that day's latest visit, ties already to the smaller store_code), or the
 * selling store when the sale is the last date. */
#define SQL_SALE_STORE \
    "(SELECT MIN(s.store_code) FROM vehicle_sales s WHERE s.vin = v.vin AND s.sold_on = v.sold_on)"
#define SQL_LAST_STORE \
    "IF(v.last_on = v.visit_on, (SELECT r.last_store_code FROM rollup_vehicle_visit r" \
    "   WHERE r.vin = v.vin AND r.visit_on = v.visit_on), " SQL_SALE_STORE ")"

/* The six placeholders of SQL_VEHICLES looking back `months` from `to`. */
#define VEHICLES_PARAMS(to, months) \
    FSP_P_TEXT(to), FSP_P_INT(months), FSP_P_TEXT(to), FSP_P_TEXT(to), FSP_P_INT(months), FSP_P_TEXT(to)

/* --- base and ageing bands --- */

/* Base vehicles (last visit in (to - base, to]) whose last visit is on or
 * before to - newer and after to - older months, by store of last visit.
 * Placeholders: vehicles (to, base months); to, base months, to, to, newer,
 * to, older. */
static const char SQL_BAND[] =
    "WITH " SQL_VEHICLES
    " SELECT " SQL_LAST_STORE " AS store_code, NULL, COUNT(*), 1, 1 FROM vehicle v"
    " WHERE v.last_on > CAST(? AS DATE) - INTERVAL ? MONTH AND v.last_on <= CAST(? AS DATE)"
    " AND v.last_on <= CAST(? AS DATE) - INTERVAL ? MONTH"
    " AND v.last_on > CAST(? AS DATE) - INTERVAL ? MONTH"
    " GROUP BY store_code";

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
    fsp_param params[] = { VEHICLES_PARAMS(to, s.base_months),
                           FSP_P_TEXT(to), FSP_P_INT(s.base_months), FSP_P_TEXT(to),
                           FSP_P_TEXT(to), FSP_P_INT(newer), FSP_P_TEXT(to), FSP_P_INT(older) };
    return kc_query_emit(call, args, SQL_BAND, params, KC_COUNT(params));
}

/* --- cohorts by selling store --- */

/* Vehicles whose latest sale is in (to - older, to - newer] months: the share
 * whose last visit (or sale) is on or before to - lost months. Each cohort
 * vehicle's latest visit on or before `to` is one key lookup in the visit
 * summary; it counts when not older than the sale.
 * Placeholders: to, older, to (sale); to (visit); to, newer; to, lost. */
static const char SQL_CHURN[] =
    "WITH " SQL_LATEST_SALE ", "
    "cohort AS (SELECT sale.vin, sale.sold_on,"
    "   (SELECT MAX(r.visit_on) FROM rollup_vehicle_visit r"
    "    WHERE r.vin = sale.vin AND r.visit_on <= CAST(? AS DATE)) AS visit_on"
    "   FROM sale WHERE sale.sold_on <= CAST(? AS DATE) - INTERVAL ? MONTH)"
    " SELECT " SQL_SALE_STORE " AS store_code, NULL,"
    " SUM(GREATEST(v.sold_on, COALESCE(v.visit_on, v.sold_on)) <= CAST(? AS DATE) - INTERVAL ? MONTH),"
    " COUNT(*), 1 FROM cohort v GROUP BY store_code";

/* The cohort year of a churn KPI: sold in (to - 12*year, to - 12*(year-1)]. */
static const int churn_year_1 = 1, churn_year_2 = 2, churn_year_3 = 3;

static int compute_churn(fsp_call *call, const fsp_kpi_args *args)
{
    retention_settings s;
    if (read_settings(call, &s) != 0)
        return -1;
    int year = *(const int *)args->kpi->user;
    const char *to = args->to;
    fsp_param params[] = { FSP_P_TEXT(to), FSP_P_INT(12 * year), FSP_P_TEXT(to),
                           FSP_P_TEXT(to),
                           FSP_P_TEXT(to), FSP_P_INT(12 * (year - 1)),
                           FSP_P_TEXT(to), FSP_P_INT(s.lost_after_months) };
    return kc_query_emit(call, args, SQL_CHURN, params, KC_COUNT(params));
}

/* Cohort: latest sale in the 12 months that end F months before `to`; served
 * when a non-internal RO of the VIN at any store closed from sold_on to
 * sold_on + F months (a visit day in the visit summary). The sales looked at
 * go back F + 13 months, past the cohort's first day whatever the clamping.
 * Placeholders: to, F + 13, to (sale); F; to, F, to, F. */
static const char SQL_FIRST_SERVICE[] =
    "WITH " SQL_LATEST_SALE
    " SELECT " SQL_SALE_STORE " AS store_code, NULL,"
    " SUM(EXISTS (SELECT 1 FROM rollup_vehicle_visit r WHERE r.vin = v.vin"
    "   AND r.visit_on >= v.sold_on AND r.visit_on <= v.sold_on + INTERVAL ? MONTH)),"
    " COUNT(*), 1 FROM sale v"
    " WHERE v.sold_on > CAST(? AS DATE) - INTERVAL ? MONTH - INTERVAL 12 MONTH"
    " AND v.sold_on <= CAST(? AS DATE) - INTERVAL ? MONTH"
    " GROUP BY store_code";

static int compute_first_service(fsp_call *call, const fsp_kpi_args *args)
{
    retention_settings s;
    if (read_settings(call, &s) != 0)
        return -1;
    int months = s.first_service_months;
    const char *to = args->to;
    fsp_param params[] = { FSP_P_TEXT(to), FSP_P_INT(months + 13), FSP_P_TEXT(to), FSP_P_INT(months),
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
