/* retention: the customer retention (客户保持) KPIs of docs/kpis.md
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
 * Reads rollup_vehicle_state (schemas/006_asof.sql): per vehicle, its last
 * visit or sale, the store of it, its latest sale and the first visit after
 * that sale, valid from one of its visit or sale days until the next. The
 * state of every vehicle as of `to` is the one row per VIN with
 * from_on <= `to` < until_on, read through one short range of the primary
 * key per span_class (KC_SQL_SPANS); each KPI is one pass over it. Cohort
 * KPIs read only the states of vehicles sold in their window, through the
 * sold_on key of schemas/010_cohort_index.sql.
 *
 * A `to` that is a month end (every whole-month period's, each month of a
 * trend) up to the horizon reads the month-end counts of
 * schemas/017_retention_month_ends.sql instead: vehicles per store by how
 * many months before `to` their last visit and latest sale fall
 * (months_ago >= N is "on or before to - N months").
 *
 * The list retention.at_risk (ABI 1.4) shows the vehicles the at-risk band
 * counts, selected from the same states by the same fragment
 * (SQL_BAND_STATES), so that its total is the KPI's; at a month end the KPI
 * reads the month-end counts, which the list tests compare. */
#include <fourscore/plugin.h>
#include "../kpi_common.h"

/* --- settings --- */

enum { LOST_AFTER_MONTHS, AT_RISK_MONTHS, WARNING_MONTHS, BASE_MONTHS, FIRST_SERVICE_MONTHS };
static const fsp_setting_def retention_settings[] = {
    [LOST_AFTER_MONTHS] = FSP_SETTING(.name = "retention.lost_after_months", .name_zh = "流失判定（月）",
                                      .name_en = "Lost after (months)", .unit = "months",
                                      .default_value = 9, .min = 0, .max = 1200),
    [AT_RISK_MONTHS] = FSP_SETTING(.name = "retention.at_risk_months", .name_zh = "拟流失起点（月）",
                                   .name_en = "At risk from (months)", .unit = "months",
                                   .default_value = 3, .min = 0, .max = 1200),
    [WARNING_MONTHS] = FSP_SETTING(.name = "retention.warning_months", .name_zh = "流失预警起点（月）",
                                   .name_en = "Churn warning from (months)", .unit = "months",
                                   .default_value = 6, .min = 0, .max = 1200),
    [BASE_MONTHS] = FSP_SETTING(.name = "retention.base_months", .name_zh = "保有客户范围（月）",
                                .name_en = "Customer base window (months)", .unit = "months",
                                .default_value = 24, .min = 1, .max = 1200),
    [FIRST_SERVICE_MONTHS] = FSP_SETTING(.name = "retention.first_service_months", .name_zh = "首保期（月）",
                                         .name_en = "First service within (months)", .unit = "months",
                                         .default_value = 6, .min = 0, .max = 1200),
};

/* The bands must nest: at_risk < warning < lost <= base months. Called with
 * the would-be settings on every change. */
static int retention_validate(const fsp_setting_values *values, char *message, size_t message_len)
{
    static const int order[] = { AT_RISK_MONTHS, WARNING_MONTHS, LOST_AFTER_MONTHS };
    for (int i = 0; i + 1 < KC_COUNT(order); i++) {
        const fsp_setting_def *a = &retention_settings[order[i]], *b = &retention_settings[order[i + 1]];
        double va = kc_setting_value(values, a), vb = kc_setting_value(values, b);
        if (!(va < vb)) {
            snprintf(message, message_len, "%s (%g) must be less than %s (%g)", a->name, va, b->name, vb);
            return 1;
        }
    }
    const fsp_setting_def *lost = &retention_settings[LOST_AFTER_MONTHS], *base = &retention_settings[BASE_MONTHS];
    double vl = kc_setting_value(values, lost), vb = kc_setting_value(values, base);
    if (!(vl <= vb)) {
        snprintf(message, message_len, "%s (%g) must be at most %s (%g)", lost->name, vl, base->name, vb);
        return 1;
    }
    return 0;
}

/* --- each vehicle's state as of `to` --- */

/* The rows of the vehicles' states as of `to`: from_on is the day of the
 * last visit or sale. The primary key is named: right after a rebuild the
 * table's statistics may still say it is empty. Placeholders: STATE_PARAMS(to). */
#define SQL_STATE_AS_OF \
    " FROM rollup_vehicle_state v FORCE INDEX (PRIMARY) WHERE" KC_SQL_SPANS("v", "from_on") \
    " AND v.until_on > CAST(? AS DATE) AND v.from_on <= CAST(? AS DATE)"
#define STATE_PARAMS(to) KC_SPAN_PARAMS(to), FSP_P_TEXT(to), FSP_P_TEXT(to)

/* The same rows for a cohort: the caller bounds v.sold_on (the latest sale),
 * and they are read through the (sold_on, until_on, from_on, ...) key
 * (schemas/010), which holds every column a cohort KPI needs. Placeholders:
 * COHORT_PARAMS(to). */
#define SQL_COHORT_AS_OF \
    " FROM rollup_vehicle_state v FORCE INDEX (k_vehicle_state_sold)" \
    " WHERE v.until_on > CAST(? AS DATE) AND v.from_on <= CAST(? AS DATE)"
#define COHORT_PARAMS(to) FSP_P_TEXT(to), FSP_P_TEXT(to)

/* --- month ends (017) --- */

static kc_horizon_memo horizon = KC_HORIZON_MEMO_INIT;

static int month_end_held(fsp_call *call, const char *to, int *held)
{
    return kc_month_end_held(call, &horizon, "retention", to, held);
}

/* Base vehicles by store of last visit, last seen newer..older-1 months ago
 * (and less than base). Placeholders: to, newer, older, base. */
static const char SQL_BAND_MONTH_END[] =
    "SELECT store_code, NULL, SUM(vehicles), 1, 1 FROM rollup_retention_last"
    " WHERE day = CAST(? AS DATE) AND months_ago >= ? AND months_ago < ? AND months_ago < ?"
    " GROUP BY store_code";
/* Sold 12(y-1) to 12y-1 months ago: the share last seen `lost` or more
 * months ago. Placeholders: lost, to, 12(y-1), 12y. */
static const char SQL_CHURN_MONTH_END[] =
    "SELECT store_code, NULL, SUM(IF(last_ago >= ?, vehicles, 0)), SUM(vehicles), 1 FROM rollup_retention_churn"
    " WHERE day = CAST(? AS DATE) AND sold_ago >= ? AND sold_ago < ? GROUP BY store_code";
/* Sold F..F+11 months ago: the share served within F months.
 * Placeholders: F, to, F, F + 12. */
static const char SQL_FIRST_SERVICE_MONTH_END[] =
    "SELECT store_code, NULL, SUM(IF(served_after <= ?, vehicles, 0)), SUM(vehicles), 1 FROM rollup_retention_first"
    " WHERE day = CAST(? AS DATE) AND sold_ago >= ? AND sold_ago < ? GROUP BY store_code";
/* --- base and ageing bands --- */

/* The states (alias v) of the base vehicles (last visit in (to - base, to])
 * whose last visit is on or before to - newer and after to - older months:
 * the rows a band KPI counts and its list shows, from this one fragment.
 * Placeholders: BAND_PARAMS(to, base, newer, older). */
#define SQL_BAND_STATES \
    SQL_STATE_AS_OF \
    " AND v.from_on > CAST(? AS DATE) - INTERVAL ? MONTH" \
    " AND v.from_on <= CAST(? AS DATE) - INTERVAL ? MONTH" \
    " AND v.from_on > CAST(? AS DATE) - INTERVAL ? MONTH"
#define BAND_PARAMS(to, base, newer, older) \
    STATE_PARAMS(to), FSP_P_TEXT(to), FSP_P_INT(base), FSP_P_TEXT(to), FSP_P_INT(newer), FSP_P_TEXT(to), \
    FSP_P_INT(older)

/* Base vehicles of a band by store of last visit. Placeholders: BAND_PARAMS. */
static const char SQL_BAND[] =
    "SELECT v.last_store_code, NULL, COUNT(*), 1, 1" SQL_BAND_STATES " GROUP BY v.last_store_code";

typedef enum retention_band { BAND_BASE, BAND_AT_RISK, BAND_WARNING, BAND_LOST } retention_band;

typedef struct retention_months {      /* the settings in force for one call */
    int base_months, at_risk_months, warning_months, lost_after_months, first_service_months;
} retention_months;

static int read_settings(fsp_call *call, retention_months *s)
{
    if (kc_setting_int(call, &retention_settings[BASE_MONTHS], &s->base_months) != 0 ||
        kc_setting_int(call, &retention_settings[AT_RISK_MONTHS], &s->at_risk_months) != 0 ||
        kc_setting_int(call, &retention_settings[WARNING_MONTHS], &s->warning_months) != 0 ||
        kc_setting_int(call, &retention_settings[LOST_AFTER_MONTHS], &s->lost_after_months) != 0 ||
        kc_setting_int(call, &retention_settings[FIRST_SERVICE_MONTHS], &s->first_service_months) != 0)
        return -1;
    return 0;
}

/* The months before `to` of a band: last seen in (to - older, to - newer]. */
static void band_months(const retention_months *s, retention_band band, int *newer, int *older)
{
    *newer = 0;
    *older = s->base_months;
    switch (band) {
    case BAND_BASE:     *newer = 0;                    *older = s->base_months;       break;
    case BAND_AT_RISK:  *newer = s->at_risk_months;    *older = s->warning_months;    break;
    case BAND_WARNING:  *newer = s->warning_months;    *older = s->lost_after_months; break;
    case BAND_LOST:     *newer = s->lost_after_months; *older = s->base_months;       break;
    }
}

static const retention_band band_base = BAND_BASE, band_at_risk = BAND_AT_RISK,
                            band_warning = BAND_WARNING, band_lost = BAND_LOST;

static int compute_band(fsp_call *call, const fsp_kpi_args *args)
{
    retention_months s;
    if (read_settings(call, &s) != 0)
        return -1;
    int newer, older;
    band_months(&s, *(const retention_band *)args->kpi->user, &newer, &older);
    const char *to = args->to;
    int held;
    if (month_end_held(call, to, &held) != 0)
        return -1;
    if (held) {
        fsp_param params[] = { FSP_P_TEXT(to), FSP_P_INT(newer), FSP_P_INT(older), FSP_P_INT(s.base_months) };
        return kc_query_emit(call, args, SQL_BAND_MONTH_END, params, KC_COUNT(params));
    }
    fsp_param params[] = { BAND_PARAMS(to, s.base_months, newer, older) };
    return kc_query_emit(call, args, SQL_BAND, params, KC_COUNT(params));
}

/* --- cohorts by selling store --- */

/* Vehicles whose latest sale (on or before `to`) is in (to - older,
 * to - newer] months: the share whose last visit (or that sale) is on or
 * before to - lost months, by selling store.
 * Placeholders: to, lost; cohort; to, older; to, newer. */
static const char SQL_CHURN[] =
    "SELECT v.sale_store_code, NULL, SUM(v.from_on <= CAST(? AS DATE) - INTERVAL ? MONTH), COUNT(*), 1"
    SQL_COHORT_AS_OF
    " AND v.sold_on > CAST(? AS DATE) - INTERVAL ? MONTH AND v.sold_on <= CAST(? AS DATE) - INTERVAL ? MONTH"
    " GROUP BY v.sale_store_code";

/* The cohort year of a churn KPI: sold in (to - 12*year, to - 12*(year-1)]. */
static const int churn_year_1 = 1, churn_year_2 = 2, churn_year_3 = 3;

static int compute_churn(fsp_call *call, const fsp_kpi_args *args)
{
    retention_months s;
    if (read_settings(call, &s) != 0)
        return -1;
    int year = *(const int *)args->kpi->user;
    const char *to = args->to;
    int held;
    if (month_end_held(call, to, &held) != 0)
        return -1;
    if (held) {
        fsp_param params[] = { FSP_P_INT(s.lost_after_months), FSP_P_TEXT(to), FSP_P_INT(12 * (year - 1)),
                               FSP_P_INT(12 * year) };
        return kc_query_emit(call, args, SQL_CHURN_MONTH_END, params, KC_COUNT(params));
    }
    fsp_param params[] = { FSP_P_TEXT(to), FSP_P_INT(s.lost_after_months), COHORT_PARAMS(to),
                           FSP_P_TEXT(to), FSP_P_INT(12 * year), FSP_P_TEXT(to), FSP_P_INT(12 * (year - 1)) };
    return kc_query_emit(call, args, SQL_CHURN, params, KC_COUNT(params));
}

/* Cohort: latest sale (on or before `to`) in the 12 months that end F
 * months before `to`; served when the first visit (a non-internal RO at any
 * store) on or after the sale closed by sold_on + F months. By selling store.
 * Placeholders: F; cohort; to, F; to, F. */
static const char SQL_FIRST_SERVICE[] =
    "SELECT v.sale_store_code, NULL, SUM(v.first_visit_on <= v.sold_on + INTERVAL ? MONTH), COUNT(*), 1"
    SQL_COHORT_AS_OF
    " AND v.sold_on > CAST(? AS DATE) - INTERVAL ? MONTH - INTERVAL 12 MONTH"
    " AND v.sold_on <= CAST(? AS DATE) - INTERVAL ? MONTH"
    " GROUP BY v.sale_store_code";

static int compute_first_service(fsp_call *call, const fsp_kpi_args *args)
{
    retention_months s;
    if (read_settings(call, &s) != 0)
        return -1;
    int months = s.first_service_months;
    const char *to = args->to;
    int held;
    if (month_end_held(call, to, &held) != 0)
        return -1;
    if (held) {
        /* the cohort starts after (to - F months) - 12 months; the month-end
         * counts know to - (F + 12) months: the same day but in rare leap years */
        char end[11], start[11], direct[11];
        kc_months_before(to, months, end);
        kc_months_before(end, 12, start);
        kc_months_before(to, months + 12, direct);
        held = strcmp(start, direct) == 0;
    }
    if (held) {
        fsp_param params[] = { FSP_P_INT(months), FSP_P_TEXT(to), FSP_P_INT(months), FSP_P_INT(months + 12) };
        return kc_query_emit(call, args, SQL_FIRST_SERVICE_MONTH_END, params, KC_COUNT(params));
    }
    fsp_param params[] = { FSP_P_INT(months), COHORT_PARAMS(to),
                           FSP_P_TEXT(to), FSP_P_INT(months), FSP_P_TEXT(to), FSP_P_INT(months) };
    return kc_query_emit(call, args, SQL_FIRST_SERVICE, params, KC_COUNT(params));
}

/* --- the catalogue --- */

static const fsp_kpi_def retention_kpis[] = {
    FSP_KPI(.id = "retention.base", .name_zh = "保有客户", .name_en = "Customer base", .unit = "count",
            .direction = FSP_DIR_HIGHER, .fold = FSP_FOLD_SUM,
            .formula = "Vehicles whose last visit (or sale) is within retention.base_months (24) months up to the "
                       "period end, credited to the store of the last visit.",
            .compute = compute_band, .user = &band_base),
    FSP_KPI(.id = "retention.at_risk", .name_zh = "拟流失 (3–6 月)", .name_en = "At risk (3-6 months)", .unit = "count",
            .direction = FSP_DIR_LOWER, .fold = FSP_FOLD_SUM,
            .formula = "Base vehicles last seen on or before retention.at_risk_months (3) and after "
                       "retention.warning_months (6) months before the period end.",
            .compute = compute_band, .user = &band_at_risk),
    FSP_KPI(.id = "retention.warning", .name_zh = "流失预警 (6–9 月)", .name_en = "Churn warning (6-9 months)",
            .unit = "count", .direction = FSP_DIR_LOWER, .fold = FSP_FOLD_SUM,
            .formula = "Base vehicles last seen on or before retention.warning_months (6) and after "
                       "retention.lost_after_months (9) months before the period end.",
            .compute = compute_band, .user = &band_warning),
    FSP_KPI(.id = "retention.lost", .name_zh = "流失 (≥ 9 月)", .name_en = "Lost (9 months or more)", .unit = "count",
            .direction = FSP_DIR_LOWER, .fold = FSP_FOLD_SUM,
            .formula = "Base vehicles last seen on or before retention.lost_after_months (9) months before the "
                       "period end.",
            .compute = compute_band, .user = &band_lost),
    FSP_KPI(.id = "retention.churn_y1", .name_zh = "一年流失率", .name_en = "Year-1 churn", .unit = "ratio",
            .direction = FSP_DIR_LOWER, FSP_TARGET(0.05), .fold = FSP_FOLD_RATIO,
            .formula = "Of the vehicles sold by the group in the 12 months up to the period end: the share last "
                       "seen retention.lost_after_months (9) months or more before it (selling store).",
            .compute = compute_churn, .user = &churn_year_1),
    FSP_KPI(.id = "retention.churn_y2", .name_zh = "二年流失率", .name_en = "Year-2 churn", .unit = "ratio",
            .direction = FSP_DIR_LOWER, FSP_TARGET(0.08), .fold = FSP_FOLD_RATIO,
            .formula = "Of the vehicles sold by the group 12 to 24 months before the period end: the share last "
                       "seen retention.lost_after_months (9) months or more before it (selling store).",
            .compute = compute_churn, .user = &churn_year_2),
    FSP_KPI(.id = "retention.churn_y3", .name_zh = "三年流失率", .name_en = "Year-3 churn", .unit = "ratio",
            .direction = FSP_DIR_LOWER, FSP_TARGET(0.12), .fold = FSP_FOLD_RATIO,
            .formula = "Of the vehicles sold by the group 24 to 36 months before the period end: the share last "
                       "seen retention.lost_after_months (9) months or more before it (selling store).",
            .compute = compute_churn, .user = &churn_year_3),
    FSP_KPI(.id = "retention.first_service_rate", .name_zh = "首保进站率", .name_en = "First service rate",
            .unit = "ratio", .direction = FSP_DIR_HIGHER, FSP_TARGET(0.95), .fold = FSP_FOLD_RATIO,
            .formula = "Of the vehicles sold in the 12 months ending retention.first_service_months (6) months "
                       "before the period end: the share with a non-internal RO at any group store within that "
                       "many months of the sale.",
            .compute = compute_first_service),
};

/* --- lists: the vehicles behind a band (actions.md "Lists") --- */

/* The vehicles of a band as of `to`, from the same states as the band's
 * KPI (SQL_BAND_STATES), with their last visit (rollup_vehicle_visit of
 * the state's day: its latest RO by closed_at, a tie to the smaller
 * store_code, then the smaller ro_no), their latest sale (the smaller
 * store_code of its day, then the smaller deal_no) and the customer of the
 * last visit's RO, else of that sale. months_since is the greatest N with
 * the last visit (or the sale) on or before to - N months: the months
 * between the two dates, less one when the day of the month is not reached.
 * Placeholders: to, to, then BAND_PARAMS. */
#define SQL_BAND_VEHICLES \
    "SELECT b.store, IF(ro.ro_no IS NOT NULL, ro.store_code, sa.store_code) AS customer_store, b.vin," \
    " IF(ro.ro_no IS NOT NULL, ro.customer_code, sa.customer_code) AS customer_code," \
    " cu.name AS customer_name, cu.phone AS phone, sa.model AS model, b.sold_on," \
    " vv.visit_on AS last_visit_on, vv.last_store_code AS last_visit_store, ro.ro_no AS last_ro_no," \
    " b.n0 - (b.from_on > b.as_of - INTERVAL b.n0 MONTH) AS months_since" \
    " FROM (SELECT v.vin, v.last_store_code AS store, v.from_on, v.sold_on, v.sale_store_code," \
    "   CAST(? AS DATE) AS as_of," \
    "   PERIOD_DIFF(EXTRACT(YEAR_MONTH FROM CAST(? AS DATE)), EXTRACT(YEAR_MONTH FROM v.from_on)) AS n0" \
    SQL_BAND_STATES ") b" \
    " LEFT JOIN rollup_vehicle_visit vv ON vv.vin = b.vin AND vv.visit_on = b.from_on" \
    " LEFT JOIN repair_orders ro ON ro.store_code = vv.last_store_code AND ro.ro_no =" \
    "   (SELECT MIN(r2.ro_no) FROM repair_orders r2 WHERE r2.vin = b.vin AND r2.closed_at = vv.last_closed_at" \
    "    AND r2.store_code = vv.last_store_code AND r2.ro_type <> 'internal')" \
    " LEFT JOIN vehicle_sales sa ON sa.store_code = b.sale_store_code AND sa.deal_no =" \
    "   (SELECT MIN(s2.deal_no) FROM vehicle_sales s2 WHERE s2.vin = b.vin AND s2.sold_on = b.sold_on" \
    "    AND s2.store_code = b.sale_store_code)" \
    " LEFT JOIN customers cu ON cu.store_code = IF(ro.ro_no IS NOT NULL, ro.store_code, sa.store_code)" \
    "   AND cu.customer_code = IF(ro.ro_no IS NOT NULL, ro.customer_code, sa.customer_code)"

static int bind_band_vehicles(fsp_call *call, const fsp_list_args *args, fsp_param *params, int max)
{
    retention_months s;
    if (read_settings(call, &s) != 0)
        return -1;
    int newer, older;
    band_months(&s, *(const retention_band *)args->list->user, &newer, &older);
    const char *to = args->to;
    fsp_param p[] = { FSP_P_TEXT(to), FSP_P_TEXT(to), BAND_PARAMS(to, s.base_months, newer, older) };
    if (KC_COUNT(p) > max) {
        kc_api->fail(call, "internal error: too many parameters");
        return -1;
    }
    memcpy(params, p, sizeof p);
    return KC_COUNT(p);
}

/* The columns of a band's vehicles (actions.md: retention.at_risk). */
static const fsp_list_column band_vehicle_columns[] = {
    FSP_COLUMN(.key = "store", .name_zh = "门店", .name_en = "Store"),
    FSP_COLUMN(.key = "customer_store", .name_zh = "客户所属门店", .name_en = "Customer's store"),
    FSP_COLUMN(.key = "vin", .name_zh = "车架号", .name_en = "VIN"),
    FSP_COLUMN(.key = "customer_code", .name_zh = "客户编号", .name_en = "Customer code"),
    FSP_COLUMN(.key = "customer_name", .name_zh = "客户姓名", .name_en = "Customer name", .flags = FSP_COL_PERSONAL),
    FSP_COLUMN(.key = "phone", .name_zh = "电话", .name_en = "Phone", .flags = FSP_COL_PHONE),
    FSP_COLUMN(.key = "model", .name_zh = "车型", .name_en = "Model"),
    FSP_COLUMN(.key = "sold_on", .name_zh = "销售日期", .name_en = "Sold on", .type = FSP_COL_DATE),
    FSP_COLUMN(.key = "last_visit_on", .name_zh = "最近进厂日期", .name_en = "Last visit", .type = FSP_COL_DATE),
    FSP_COLUMN(.key = "last_visit_store", .name_zh = "最近进厂门店", .name_en = "Last visit store"),
    FSP_COLUMN(.key = "last_ro_no", .name_zh = "最近工单号", .name_en = "Last RO"),
    FSP_COLUMN(.key = "months_since", .name_zh = "未进厂月数", .name_en = "Months since", .unit = "months",
               .type = FSP_COL_INT),
};
static const char *const band_vehicle_sort[] = { "store", "-months_since", "vin" };

static const fsp_list_def retention_lists[] = {
    FSP_LIST(.id = "retention.at_risk", .name_zh = "拟流失车辆", .name_en = "At-risk vehicles", .as_of = 1,
             .explains_as = FSP_EXPLAINS_COUNT, .explains_kpi = "retention.at_risk",
             .columns = band_vehicle_columns, .ncolumns = KC_COUNT(band_vehicle_columns),
             .default_sort = band_vehicle_sort, .ndefault_sort = KC_COUNT(band_vehicle_sort),
             .sql = SQL_BAND_VEHICLES, .bind = bind_band_vehicles, .user = &band_at_risk),
};

/* --- the plugin --- */

static int retention_init(fsp_host *host, const fsp_host_api *api)
{
    if (kc_register_all(host, api, retention_kpis, KC_COUNT(retention_kpis), retention_settings,
                        KC_COUNT(retention_settings), retention_validate) != 0)
        return -1;
    for (int i = 0; i < KC_COUNT(retention_lists); i++)
        if (api->register_list(host, &retention_lists[i]) != 0)
            return -1;
    return 0;
}

FSP_PLUGIN(.name = "retention", .version = "1.0.0", .init = retention_init,
           .description = "Customer retention as of the period end: base, at risk, warning, lost, churn by year, "
                          "first service; the at-risk vehicles as a list");
