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
 * (months_ago >= N is "on or before to - N months"). Any other `to` after a
 * held month end (a day of a running month, a day past the horizon)
 * answers the bands from the nearer held month end's counts moved to `to`
 * with the states that start at the band's edges and those that differ
 * between the two days (SQL_BAND_BEFORE, SQL_BAND_AFTER); the cohort KPIs
 * read the states.
 *
 * The lists (ABI 1.4) show the vehicles each count is made of: the bands
 * (retention.at_risk, warning, lost) selected from the same states by the
 * same fragment (SQL_BAND_STATES), the vehicles due for maintenance and
 * those awaiting their first service by the fragments of those KPIs, so that
 * a list's total is its KPI; at a month end a band KPI reads the month-end
 * counts, which tests/integration/lists_invariant.test.mjs compares. The
 * first services pending and the maintenance due (calls to make) are read
 * from the states at every `to`. */
#include <fourscore/plugin.h>
#include "../kpi_common.h"
#include "cohort_changes.h"

/* --- settings --- */

enum { LOST_AFTER_MONTHS, AT_RISK_MONTHS, WARNING_MONTHS, BASE_MONTHS, FIRST_SERVICE_MONTHS,
       MAINTENANCE_INTERVAL_MONTHS, MAINTENANCE_NOTICE_DAYS };
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
    [MAINTENANCE_INTERVAL_MONTHS] = FSP_SETTING(.name = "retention.maintenance_interval_months",
                                                .name_zh = "保养间隔（月）", .name_en = "Maintenance interval (months)",
                                                .unit = "months", .default_value = 6, .min = 1, .max = 1200),
    [MAINTENANCE_NOTICE_DAYS] = FSP_SETTING(.name = "retention.maintenance_notice_days",
                                            .name_zh = "保养提醒提前（天）", .name_en = "Maintenance notice (days)",
                                            .unit = "days", .default_value = 30, .min = 0, .max = 3650),
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
 * last visit or sale. The keys are named: right after a rebuild the table's
 * statistics may still say it is empty. The primary key serves the ranges
 * of from_on; the VIN key the rows of a list's page (l.vin IN (...)).
 * Placeholders: STATE_PARAMS(to). */
#define SQL_STATE_AS_OF \
    " FROM rollup_vehicle_state v FORCE INDEX (PRIMARY, k_vehicle_state_vin) WHERE" KC_SQL_SPANS("v", "from_on") \
    " AND v.until_on > CAST(? AS DATE) AND v.from_on <= CAST(? AS DATE)"
#define STATE_PARAMS(to) KC_SPAN_PARAMS(to), FSP_P_TEXT(to), FSP_P_TEXT(to)

/* The same rows for a cohort: the caller bounds v.sold_on (the latest sale),
 * and they are read through the (sold_on, until_on, from_on, ...) key
 * (schemas/010), which holds every column a cohort KPI needs (and a list's
 * page through the VIN key). Placeholders: COHORT_PARAMS(to). */
#define SQL_COHORT_AS_OF \
    " FROM rollup_vehicle_state v FORCE INDEX (k_vehicle_state_sold, k_vehicle_state_vin)" \
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
/* The same, in a month whose cohort start falls a day short of what the
 * month-end counts know (to - F months lands in a 28-day February while
 * to - (F + 12) months is a 29th): the counts cover sales after
 * to - (F + 12) months, and the vehicles sold in (cohort start, that day]
 * (one day) are added from their states. Placeholders: F, to, F, F + 12;
 * F; COHORT_PARAMS(to); cohort start, to - (F + 12) months. */
static const char SQL_FIRST_SERVICE_MONTH_END_LEAP[] =
    "SELECT store_code, NULL, SUM(n), SUM(d), 1 FROM ("
    "SELECT store_code, SUM(IF(served_after <= ?, vehicles, 0)) AS n, SUM(vehicles) AS d FROM rollup_retention_first"
    " WHERE day = CAST(? AS DATE) AND sold_ago >= ? AND sold_ago < ? GROUP BY store_code"
    " UNION ALL SELECT v.sale_store_code, SUM(v.first_visit_on <= v.sold_on + INTERVAL ? MONTH), COUNT(*)"
    SQL_COHORT_AS_OF " AND v.sold_on > CAST(? AS DATE) AND v.sold_on <= CAST(? AS DATE) GROUP BY v.sale_store_code"
    ") x GROUP BY store_code";
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

/* A band as of a day `to` that is not a held month end, per store of the
 * last visit, from the nearer held month end R (the one before `to`, or the
 * end of `to`'s month): R's month-end count of the band taken at R,
 * (R - older, R - newer] months, moved to (to - older, to - newer] by the
 * vehicles whose state at R starts between the two lower edges and between
 * the two upper ones, then the states that differ between R and `to`:
 *   R before `to`: out, the states at R in the band that ended by `to`
 *     (the vehicle came back, or was sold again); in, the states begun
 *     after R that hold at `to` in the band;
 *   R after `to`: in, the states in the band that ended after `to`, by R.
 * Each part is a short range of a key of the states: the primary key's
 * per span_class for the edges and the states begun, k_vehicle_state_until
 * (schemas/026_any_day_keys.sql) for those ended. HAVING keeps the stores the states' own
 * count gives. Placeholders: BAND_BEFORE_PARAMS, BAND_AFTER_PARAMS. */
#define BAND_MONTH_END_PART \
    " SELECT store_code, SUM(vehicles) AS n FROM rollup_retention_last" \
    "   WHERE day = CAST(? AS DATE) AND months_ago >= ? AND months_ago < ? AND months_ago < ? GROUP BY store_code"
/* The states at R starting in (X - k months, Y - k months]: X, k, Y, k, R, R. */
#define BAND_EDGE_PART(SIGN) \
    " UNION ALL SELECT v.last_store_code, " SIGN "COUNT(*) FROM rollup_vehicle_state v FORCE INDEX (PRIMARY)" \
    "   WHERE v.span_class IN " KC_SPAN_CLASSES \
    "   AND v.from_on > CAST(? AS DATE) - INTERVAL ? MONTH AND v.from_on <= CAST(? AS DATE) - INTERVAL ? MONTH" \
    "   AND v.from_on <= CAST(? AS DATE) AND v.until_on > CAST(? AS DATE) GROUP BY v.last_store_code"
#define IN_BAND(T) \
    " AND " T ".from_on > CAST(? AS DATE) - INTERVAL ? MONTH AND " T ".from_on <= CAST(? AS DATE) - INTERVAL ? MONTH"
/* The states in the band that ended in (lo, hi], begun on or before a day:
 * lo, hi, to, older, to, newer, day. */
#define BAND_ENDED_PART(SIGN) \
    " UNION ALL SELECT v.last_store_code, " SIGN "COUNT(*) FROM rollup_vehicle_state v FORCE INDEX (k_vehicle_state_until)" \
    "   WHERE v.until_on > CAST(? AS DATE) AND v.until_on <= CAST(? AS DATE)" IN_BAND("v") \
    "   AND v.from_on <= CAST(? AS DATE) GROUP BY v.last_store_code"
/* The states begun in (M, to] that hold at `to` in the band: M, to, to, to, older, to, newer. */
#define BAND_BEGUN_PART \
    " UNION ALL SELECT v.last_store_code, COUNT(*) FROM rollup_vehicle_state v FORCE INDEX (PRIMARY)" \
    "   WHERE v.span_class IN " KC_SPAN_CLASSES \
    "   AND v.from_on > CAST(? AS DATE) AND v.from_on <= CAST(? AS DATE) AND v.until_on > CAST(? AS DATE)" IN_BAND("v") \
    "   GROUP BY v.last_store_code"
#define BAND_FROM(PARTS) "SELECT store_code, NULL, SUM(n), 1, 1 FROM (" PARTS ") x GROUP BY store_code HAVING SUM(n) > 0"
static const char SQL_BAND_BEFORE[] =
    BAND_FROM(BAND_MONTH_END_PART BAND_EDGE_PART("-") BAND_EDGE_PART("") BAND_ENDED_PART("-") BAND_BEGUN_PART);
static const char SQL_BAND_AFTER[] =
    BAND_FROM(BAND_MONTH_END_PART BAND_EDGE_PART("") BAND_EDGE_PART("-") BAND_ENDED_PART(""));
#define BAND_ME_PARAMS(r, base, newer, older) FSP_P_TEXT(r), FSP_P_INT(newer), FSP_P_INT(older), FSP_P_INT(base)
#define BAND_EDGE_PARAMS(x, k, y, r) FSP_P_TEXT(x), FSP_P_INT(k), FSP_P_TEXT(y), FSP_P_INT(k), FSP_P_TEXT(r), FSP_P_TEXT(r)
#define BAND_ENDED_PARAMS(lo, hi, to, newer, older, day) \
    FSP_P_TEXT(lo), FSP_P_TEXT(hi), FSP_P_TEXT(to), FSP_P_INT(older), FSP_P_TEXT(to), FSP_P_INT(newer), FSP_P_TEXT(day)
#define BAND_BEFORE_PARAMS(to, m, base, newer, older) \
    BAND_ME_PARAMS(m, base, newer, older), BAND_EDGE_PARAMS(m, older, to, m), BAND_EDGE_PARAMS(m, newer, to, m), \
    BAND_ENDED_PARAMS(m, to, to, newer, older, m), \
    FSP_P_TEXT(m), FSP_P_TEXT(to), FSP_P_TEXT(to), FSP_P_TEXT(to), FSP_P_INT(older), FSP_P_TEXT(to), FSP_P_INT(newer)
#define BAND_AFTER_PARAMS(to, r, base, newer, older) \
    BAND_ME_PARAMS(r, base, newer, older), BAND_EDGE_PARAMS(to, older, r, r), BAND_EDGE_PARAMS(to, newer, r, r), \
    BAND_ENDED_PARAMS(to, r, to, newer, older, to)

/* Base vehicles of a band by store of last visit. Placeholders: BAND_PARAMS. */
static const char SQL_BAND[] =
    "SELECT v.last_store_code, NULL, COUNT(*), 1, 1" SQL_BAND_STATES " GROUP BY v.last_store_code";

typedef enum retention_band { BAND_BASE, BAND_AT_RISK, BAND_WARNING, BAND_LOST } retention_band;

typedef struct retention_months {      /* the settings in force for one call */
    int base_months, at_risk_months, warning_months, lost_after_months, first_service_months;
    int maintenance_interval_months, maintenance_notice_days;
} retention_months;

static int read_settings(fsp_call *call, retention_months *s)
{
    if (kc_setting_int(call, &retention_settings[BASE_MONTHS], &s->base_months) != 0 ||
        kc_setting_int(call, &retention_settings[AT_RISK_MONTHS], &s->at_risk_months) != 0 ||
        kc_setting_int(call, &retention_settings[WARNING_MONTHS], &s->warning_months) != 0 ||
        kc_setting_int(call, &retention_settings[LOST_AFTER_MONTHS], &s->lost_after_months) != 0 ||
        kc_setting_int(call, &retention_settings[FIRST_SERVICE_MONTHS], &s->first_service_months) != 0 ||
        kc_setting_int(call, &retention_settings[MAINTENANCE_INTERVAL_MONTHS], &s->maintenance_interval_months) != 0 ||
        kc_setting_int(call, &retention_settings[MAINTENANCE_NOTICE_DAYS], &s->maintenance_notice_days) != 0)
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
    char near[11];
    int after;
    if (kc_month_end_nearest(call, &horizon, "retention", to, near, &after) != 0)
        return -1;
    if (near[0] && !after) {
        const char *m = near;
        fsp_param params[] = { BAND_BEFORE_PARAMS(to, m, s.base_months, newer, older) };
        return kc_query_emit(call, args, SQL_BAND_BEFORE, params, KC_COUNT(params));
    }
    if (near[0]) {
        const char *r = near;
        fsp_param params[] = { BAND_AFTER_PARAMS(to, r, s.base_months, newer, older) };
        return kc_query_emit(call, args, SQL_BAND_AFTER, params, KC_COUNT(params));
    }
    fsp_param params[] = { BAND_PARAMS(to, s.base_months, newer, older) };
    return kc_query_emit(call, args, SQL_BAND, params, KC_COUNT(params));
}

/* --- cohorts on a day after a held month end ---
 * A cohort KPI (churn by year, first service rate) as of a day `to` that is
 * not a held month end, when the month end R before `to`'s month is held
 * and every store is asked: the month-end counts at R, moved to `to`. Over
 * the states holding at R, the cohort and the churn threshold move with the
 * day: the vehicles sold between the two days' cohort edges come in or go
 * (entering, leaving: short ranges of the sold_on key), and for churn those
 * last seen between the two days' thresholds (R - L, to - L] count as lost
 * at `to` (a short range of the primary key). Then the states that differ
 * between R and `to` (ended after R by `to`: out; begun after R and holding
 * at `to`: in), the same for every cohort KPI of one `to`: read once per
 * data generation and `to` and kept (cohort_changes), each with its sale
 * cohort, whether it was served within F months and last seen L months
 * before `to` (plugins/retention/cohort_changes.h). What the month-end counts, the edges and the changes add up to is,
 * per store, the count of the states at `to` itself (the invariant test and
 * tests/integration/retention_anyday.test.mjs compare them). */

/* The held month end R that ends the month before `to`'s, when `to` is not
 * one itself and every store is asked: 1 with r set, 0 when there is none
 * (answer from the states), -1 when the lookup failed. */
static int cohort_month_end_before(fsp_call *call, const fsp_kpi_args *args, char r[11])
{
    char day[11];
    int y = 0, m = 0, d = 0;
    if (args->stores || sscanf(args->to, "%4d-%2d-%2d", &y, &m, &d) != 3 || m < 1 || m > 12 || y < 1001) return 0;
    if (kc_horizon_get(call, &horizon, "retention", day) != 0) return -1;
    int k = y * 12 + (m - 1) - 1;
    kc_ymd(r, k / 12, k % 12 + 1, kc_month_days(k / 12, k % 12 + 1));
    return day[0] && strcmp(r, day) <= 0 ? 1 : 0;
}

/* The states at R (a held month end) with a sale in (R - A months, to - B
 * months], by selling store: the vehicles (SIGN: in, or out with "-"), and
 * NUM of them. Placeholders: A-side (R, A), B-side, then R, R. */
#define COHORT_EDGE(SIGN, NUM, UPPER) \
    " UNION ALL SELECT v.sale_store_code, " SIGN "SUM(" NUM "), " SIGN "COUNT(*)" \
    " FROM rollup_vehicle_state v FORCE INDEX (k_vehicle_state_sold)" \
    " WHERE v.sold_on > CAST(? AS DATE) - INTERVAL ? MONTH AND v.sold_on <= " UPPER \
    " AND v.until_on > CAST(? AS DATE) AND v.from_on <= CAST(? AS DATE) GROUP BY v.sale_store_code"
#define COHORT_NEAR(PARTS) "SELECT store_code, SUM(n), SUM(d) FROM (" PARTS ") x GROUP BY store_code ORDER BY store_code"
#define CHURN_LOST "v.from_on <= CAST(? AS DATE)"
/* Churn of the cohort year y at `to` from R. Placeholders: L, R, 12(y-1),
 * 12y; entering: to - L, R, 12(y-1), to, 12(y-1), R, R; leaving: to - L, R,
 * 12y, to, 12y, R, R; threshold: R, L, to, L, R, R, R, 12y, R, 12(y-1). */
static const char SQL_CHURN_NEAR[] = COHORT_NEAR(
    "SELECT store_code, SUM(IF(last_ago >= ?, vehicles, 0)) AS n, SUM(vehicles) AS d FROM rollup_retention_churn"
    " WHERE day = CAST(? AS DATE) AND sold_ago >= ? AND sold_ago < ? GROUP BY store_code"
    COHORT_EDGE("", CHURN_LOST, "CAST(? AS DATE) - INTERVAL ? MONTH")
    COHORT_EDGE("-", CHURN_LOST, "CAST(? AS DATE) - INTERVAL ? MONTH")
    " UNION ALL SELECT v.sale_store_code, COUNT(*), 0 FROM rollup_vehicle_state v FORCE INDEX (PRIMARY)"
    " WHERE v.span_class IN " KC_SPAN_CLASSES
    " AND v.from_on > CAST(? AS DATE) - INTERVAL ? MONTH AND v.from_on <= CAST(? AS DATE) - INTERVAL ? MONTH"
    " AND v.from_on <= CAST(? AS DATE) AND v.until_on > CAST(? AS DATE)"
    " AND v.sold_on > CAST(? AS DATE) - INTERVAL ? MONTH AND v.sold_on <= CAST(? AS DATE) - INTERVAL ? MONTH"
    " GROUP BY v.sale_store_code");
#define FIRST_SERVED "v.first_visit_on <= v.sold_on + INTERVAL ? MONTH"
/* First service at `to` from R: the counts of the sales in (R - (F + 12),
 * R - F], those in (R - F, to - F] in, those in (R - (F + 12),
 * (to - F) - 12] out. Placeholders: F, R, F, F + 12; F, R, F, to, F, R, R;
 * F, R, F + 12, to, F, R, R. */
static const char SQL_FIRST_SERVICE_NEAR[] = COHORT_NEAR(
    "SELECT store_code, SUM(IF(served_after <= ?, vehicles, 0)) AS n, SUM(vehicles) AS d FROM rollup_retention_first"
    " WHERE day = CAST(? AS DATE) AND sold_ago >= ? AND sold_ago < ? GROUP BY store_code"
    COHORT_EDGE("", FIRST_SERVED, "CAST(? AS DATE) - INTERVAL ? MONTH")
    COHORT_EDGE("-", FIRST_SERVED, "CAST(? AS DATE) - INTERVAL ? MONTH - INTERVAL 12 MONTH"));

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
    char r_day[11];
    const char *r = r_day;
    int near = cohort_month_end_before(call, args, r_day);
    if (near < 0) return -1;
    if (near) {
        int l = s.lost_after_months, newer = 12 * (year - 1), older = 12 * year;
        char lost_day_buf[11];
        const char *lost_day = lost_day_buf;
        kc_months_before(to, l, lost_day_buf);
        fsp_param params[] = {
            FSP_P_INT(l), FSP_P_TEXT(r), FSP_P_INT(newer), FSP_P_INT(older),
            FSP_P_TEXT(lost_day), FSP_P_TEXT(r), FSP_P_INT(newer), FSP_P_TEXT(to), FSP_P_INT(newer),
            FSP_P_TEXT(r), FSP_P_TEXT(r),
            FSP_P_TEXT(lost_day), FSP_P_TEXT(r), FSP_P_INT(older), FSP_P_TEXT(to), FSP_P_INT(older),
            FSP_P_TEXT(r), FSP_P_TEXT(r),
            FSP_P_TEXT(r), FSP_P_INT(l), FSP_P_TEXT(to), FSP_P_INT(l), FSP_P_TEXT(r), FSP_P_TEXT(r),
            FSP_P_TEXT(r), FSP_P_INT(older), FSP_P_TEXT(r), FSP_P_INT(newer) };
        cohort_near cn = { .to = to, .r = r, .first_service_months = s.first_service_months,
                           .lost_after_months = s.lost_after_months, .sql = SQL_CHURN_NEAR, .params = params,
                           .nparams = KC_COUNT(params), .churn_year = year };
        return cohort_near_compute(call, &cn);
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
         * counts know to - (F + 12) months: the same day, or (a 28-day
         * February against a 29th) the day after it */
        char end[11], start[11], direct[11];
        kc_months_before(to, months, end);
        kc_months_before(end, 12, start);
        kc_months_before(to, months + 12, direct);
        if (strcmp(start, direct) == 0) {
            fsp_param params[] = { FSP_P_INT(months), FSP_P_TEXT(to), FSP_P_INT(months), FSP_P_INT(months + 12) };
            return kc_query_emit(call, args, SQL_FIRST_SERVICE_MONTH_END, params, KC_COUNT(params));
        }
        if (strcmp(start, direct) < 0) {
            const char *after = start, *until = direct;
            fsp_param params[] = { FSP_P_INT(months), FSP_P_TEXT(to), FSP_P_INT(months), FSP_P_INT(months + 12),
                                   FSP_P_INT(months), COHORT_PARAMS(to), FSP_P_TEXT(after), FSP_P_TEXT(until) };
            return kc_query_emit(call, args, SQL_FIRST_SERVICE_MONTH_END_LEAP, params, KC_COUNT(params));
        }
    }
    char r_day[11];
    const char *r = r_day;
    int near = held ? 0 : cohort_month_end_before(call, args, r_day);
    if (near < 0) return -1;
    if (near) {
        fsp_param params[] = {
            FSP_P_INT(months), FSP_P_TEXT(r), FSP_P_INT(months), FSP_P_INT(months + 12),
            FSP_P_INT(months), FSP_P_TEXT(r), FSP_P_INT(months), FSP_P_TEXT(to), FSP_P_INT(months),
            FSP_P_TEXT(r), FSP_P_TEXT(r),
            FSP_P_INT(months), FSP_P_TEXT(r), FSP_P_INT(months + 12), FSP_P_TEXT(to), FSP_P_INT(months),
            FSP_P_TEXT(r), FSP_P_TEXT(r) };
        cohort_near cn = { .to = to, .r = r, .first_service_months = s.first_service_months,
                           .lost_after_months = s.lost_after_months, .sql = SQL_FIRST_SERVICE_NEAR, .params = params,
                           .nparams = KC_COUNT(params), .churn_year = 0 };
        return cohort_near_compute(call, &cn);
    }
    fsp_param params[] = { FSP_P_INT(months), COHORT_PARAMS(to),
                           FSP_P_TEXT(to), FSP_P_INT(months), FSP_P_TEXT(to), FSP_P_INT(months) };
    return kc_query_emit(call, args, SQL_FIRST_SERVICE, params, KC_COUNT(params));
}

/* --- calls to make: first service and maintenance due --- */

/* Vehicles whose latest sale (on or before `to`) is in (to - F months, to]
 * and that have not visited since it by `to`, by selling store.
 * Placeholders: to, F, to, to (with the cohort's COHORT_PARAMS before). */
#define SQL_FIRST_SERVICE_PENDING_WHERE \
    " AND v.sold_on > CAST(? AS DATE) - INTERVAL ? MONTH AND v.sold_on <= CAST(? AS DATE)" \
    " AND (v.first_visit_on IS NULL OR v.first_visit_on > CAST(? AS DATE))"
#define FIRST_SERVICE_PENDING_PARAMS(to, s) \
    FSP_P_TEXT(to), FSP_P_INT((s).first_service_months), FSP_P_TEXT(to), FSP_P_TEXT(to)
static const char SQL_FIRST_SERVICE_PENDING[] =
    "SELECT v.sale_store_code, NULL, COUNT(*), 1, 1" SQL_COHORT_AS_OF SQL_FIRST_SERVICE_PENDING_WHERE
    " GROUP BY v.sale_store_code";

/* A state whose day is a visit: the vehicle has visited since its latest
 * sale (or was never sold by the group, so its state comes from visits). */
#define SQL_VISITED " (v.sold_on IS NULL OR v.first_visit_on <= v.from_on)"
/* Base vehicles that have visited since their latest sale whose last visit
 * + I months is in (to, to + D days], by store of last visit. A day + I
 * months after `to` is after `to` - I months (adding months keeps the
 * order), which bounds the key ranges of the states read.
 * Placeholders: to, base months; to, I; I, to; I, to, D. */
#define SQL_MAINTENANCE_DUE_WHERE \
    " AND v.from_on > CAST(? AS DATE) - INTERVAL ? MONTH AND" SQL_VISITED \
    " AND v.from_on > CAST(? AS DATE) - INTERVAL ? MONTH" \
    " AND v.from_on + INTERVAL ? MONTH > CAST(? AS DATE)" \
    " AND v.from_on + INTERVAL ? MONTH <= CAST(? AS DATE) + INTERVAL ? DAY"
#define MAINTENANCE_DUE_PARAMS(to, s) \
    FSP_P_TEXT(to), FSP_P_INT((s).base_months), FSP_P_TEXT(to), FSP_P_INT((s).maintenance_interval_months), \
    FSP_P_INT((s).maintenance_interval_months), FSP_P_TEXT(to), \
    FSP_P_INT((s).maintenance_interval_months), FSP_P_TEXT(to), FSP_P_INT((s).maintenance_notice_days)
static const char SQL_MAINTENANCE_DUE[] =
    "SELECT v.last_store_code, NULL, COUNT(*), 1, 1" SQL_STATE_AS_OF SQL_MAINTENANCE_DUE_WHERE
    " GROUP BY v.last_store_code";

static int compute_first_service_pending(fsp_call *call, const fsp_kpi_args *args)
{
    retention_months s;
    if (read_settings(call, &s) != 0)
        return -1;
    fsp_param params[] = { COHORT_PARAMS(args->to), FIRST_SERVICE_PENDING_PARAMS(args->to, s) };
    return kc_query_emit(call, args, SQL_FIRST_SERVICE_PENDING, params, KC_COUNT(params));
}

static int compute_maintenance_due(fsp_call *call, const fsp_kpi_args *args)
{
    retention_months s;
    if (read_settings(call, &s) != 0)
        return -1;
    fsp_param params[] = { STATE_PARAMS(args->to), MAINTENANCE_DUE_PARAMS(args->to, s) };
    return kc_query_emit(call, args, SQL_MAINTENANCE_DUE, params, KC_COUNT(params));
}

/* --- lists: the vehicles behind the counts --- */

/* The vehicles of a list as rows, from the same states and conditions as
 * the KPI it explains (FROM_WHERE: SQL_STATE_AS_OF or SQL_COHORT_AS_OF and
 * the KPI's own WHERE fragment): each state's store (STORE: the column the
 * KPI credits), its last visit (NULL when its day is a sale only: then
 * months_since counts from the sale), its latest sale and customer
 * (KC_SQL_VEHICLE_CUSTOMER_JOINS). months_since = the greatest N with the
 * state's day on or before to - N months: the months between the two
 * calendar months, less one when the day is after `to` - that many months,
 * which is when its day of the month is after `to`'s (`to` - that many
 * months is in the state's month, on `to`'s day or that month's last day
 * when shorter): integer arithmetic, twice as fast over the 150k rows of a
 * group's band as the date formatting and interval it equals.
 * X_COLS: more columns of x (with their placeholders, after as_of's);
 * COLS: the columns after sold_on. Placeholders: to (as_of), X_COLS',
 * FROM_WHERE's. */
#define SQL_VEHICLE_ROWS(COLS, STORE, X_COLS, FROM_WHERE) \
    "SELECT x.store, " KC_SQL_CUSTOMER_STORE " AS customer_store, x.vin, " KC_SQL_CUSTOMER_CODE " AS customer_code," \
    " c.name AS customer_name, " KC_SQL_PHONE("c") " AS phone, ls.model, x.sold_on" COLS \
    " FROM (SELECT " STORE " AS store, v.vin, v.from_on, v.last_store_code, v.sold_on, v.sale_store_code," \
    "   CAST(? AS DATE) AS as_of" X_COLS ", " KC_SQL_LAST_RO_NO("v") " AS last_ro_no, " \
    KC_SQL_SALE_DEAL_NO("v") " AS sale_deal_no" FROM_WHERE ") x" \
    KC_SQL_VEHICLE_CUSTOMER_JOINS("x")
#define SQL_MONTHS_SINCE \
    " (YEAR(x.as_of) * 12 + MONTH(x.as_of)) - (YEAR(x.from_on) * 12 + MONTH(x.from_on))" \
    " - (DAYOFMONTH(x.from_on) > DAYOFMONTH(x.as_of)) AS months_since"
/* last_visit_on, last_visit_store, last_ro_no, months_since */
#define SQL_LAST_VISIT_COLS \
    ", IF(x.last_ro_no IS NULL, NULL, x.from_on) AS last_visit_on," \
    " IF(x.last_ro_no IS NULL, NULL, x.last_store_code) AS last_visit_store, x.last_ro_no," SQL_MONTHS_SINCE
/* The page keys of the same rows (fsp_list_def.keys_sql): store, vin,
 * sold_on and KCOLS, from the same states, conditions and placeholders,
 * without the customer joins and the last RO's lookup that the engine then
 * makes for the page's rows alone. */
#define SQL_VEHICLE_KEYS(KCOLS, STORE, X_COLS, FROM_WHERE) \
    "SELECT x.store, x.vin, x.sold_on" KCOLS \
    " FROM (SELECT " STORE " AS store, v.vin, v.from_on, v.sold_on, CAST(? AS DATE) AS as_of" X_COLS FROM_WHERE ") x"

/* The vehicles of a band (retention.at_risk, retention.warning,
 * retention.lost; .user: the band), from the band KPI's own states. */
static const char SQL_BAND_LIST[] =
    SQL_VEHICLE_ROWS(SQL_LAST_VISIT_COLS, "v.last_store_code", "", SQL_BAND_STATES);
static const char SQL_BAND_KEYS[] =
    SQL_VEHICLE_KEYS("," SQL_MONTHS_SINCE, "v.last_store_code", "", SQL_BAND_STATES);
/* The vehicles due for maintenance, with the day it is due. */
static const char SQL_MAINTENANCE_DUE_LIST[] =
    SQL_VEHICLE_ROWS(SQL_LAST_VISIT_COLS ", x.due_on", "v.last_store_code", ", v.from_on + INTERVAL ? MONTH AS due_on",
                     SQL_STATE_AS_OF SQL_MAINTENANCE_DUE_WHERE);
static const char SQL_MAINTENANCE_DUE_KEYS[] =
    SQL_VEHICLE_KEYS("," SQL_MONTHS_SINCE ", x.due_on", "v.last_store_code", ", v.from_on + INTERVAL ? MONTH AS due_on",
                     SQL_STATE_AS_OF SQL_MAINTENANCE_DUE_WHERE);
/* The vehicles waiting for their first service, with the end of its window. */
static const char SQL_FIRST_SERVICE_PENDING_LIST[] =
    SQL_VEHICLE_ROWS(", x.window_ends_on, DATEDIFF(x.window_ends_on, x.as_of) AS days_left", "v.sale_store_code",
                     ", v.sold_on + INTERVAL ? MONTH AS window_ends_on",
                     SQL_COHORT_AS_OF SQL_FIRST_SERVICE_PENDING_WHERE);
static const char SQL_FIRST_SERVICE_PENDING_KEYS[] =
    SQL_VEHICLE_KEYS(", x.window_ends_on, DATEDIFF(x.window_ends_on, x.as_of) AS days_left", "v.sale_store_code",
                     ", v.sold_on + INTERVAL ? MONTH AS window_ends_on",
                     SQL_COHORT_AS_OF SQL_FIRST_SERVICE_PENDING_WHERE);

static int bind_band_list(fsp_call *call, const fsp_list_args *args, fsp_param *out, int max)
{
    retention_months s;
    if (read_settings(call, &s) != 0)
        return -1;
    int newer, older;
    band_months(&s, *(const retention_band *)args->list->user, &newer, &older);
    const char *to = args->to;
    fsp_param params[] = { FSP_P_TEXT(to), BAND_PARAMS(to, s.base_months, newer, older) };
    return kc_bind_params(call, params, KC_COUNT(params), out, max);
}

static int bind_maintenance_due_list(fsp_call *call, const fsp_list_args *args, fsp_param *out, int max)
{
    retention_months s;
    if (read_settings(call, &s) != 0)
        return -1;
    const char *to = args->to;
    fsp_param params[] = { FSP_P_TEXT(to), FSP_P_INT(s.maintenance_interval_months), STATE_PARAMS(to),
                           MAINTENANCE_DUE_PARAMS(to, s) };
    return kc_bind_params(call, params, KC_COUNT(params), out, max);
}

static int bind_first_service_pending_list(fsp_call *call, const fsp_list_args *args, fsp_param *out, int max)
{
    retention_months s;
    if (read_settings(call, &s) != 0)
        return -1;
    const char *to = args->to;
    fsp_param params[] = { FSP_P_TEXT(to), FSP_P_INT(s.first_service_months), COHORT_PARAMS(to),
                           FIRST_SERVICE_PENDING_PARAMS(to, s) };
    return kc_bind_params(call, params, KC_COUNT(params), out, max);
}

/* The columns of a band's vehicles (and, with due_on, of maintenance due). */
#define VEHICLE_COLUMNS \
    KC_COL_STORE, KC_COL_CUSTOMER_STORE, KC_COL_VIN, KC_COL_CUSTOMER_CODE, KC_COL_CUSTOMER_NAME, KC_COL_PHONE, \
    KC_COL_MODEL, KC_COL_SOLD_ON
#define LAST_VISIT_COLUMNS \
    FSP_COLUMN(.key = "last_visit_on", .name_zh = "最近进厂日期", .name_en = "Last visit", .type = FSP_COL_DATE), \
    FSP_COLUMN(.key = "last_visit_store", .name_zh = "最近进厂门店", .name_en = "Last visit store", \
               .type = FSP_COL_TEXT), \
    FSP_COLUMN(.key = "last_ro_no", .name_zh = "最近工单号", .name_en = "Last RO", .type = FSP_COL_TEXT), \
    FSP_COLUMN(.key = "months_since", .name_zh = "未进厂月数", .name_en = "Months since", .unit = "months", \
               .type = FSP_COL_INT)
static const fsp_list_column band_columns[] = { VEHICLE_COLUMNS, LAST_VISIT_COLUMNS };
static const fsp_list_column maintenance_due_columns[] = {
    VEHICLE_COLUMNS, LAST_VISIT_COLUMNS,
    FSP_COLUMN(.key = "due_on", .name_zh = "保养到期日", .name_en = "Due on", .type = FSP_COL_DATE),
};
static const fsp_list_column first_service_pending_columns[] = {
    VEHICLE_COLUMNS,
    FSP_COLUMN(.key = "window_ends_on", .name_zh = "首保截止日", .name_en = "Window ends on", .type = FSP_COL_DATE),
    FSP_COLUMN(.key = "days_left", .name_zh = "剩余天数", .name_en = "Days left", .unit = "days", .type = FSP_COL_INT),
};
/* One row per VIN: store, then the longest unseen first, then the VIN. */
static const char *const band_sort[] = { "store", "-months_since", "vin" };
static const char *const maintenance_due_sort[] = { "store", "due_on", "vin" };
static const char *const first_service_pending_sort[] = { "store", "days_left", "vin" };
/* The page keys (the columns of the *_KEYS statements): store, the row key vin, then the sortable rest. */
static const char *const band_keys[] = { "store", "vin", "sold_on", "months_since" };
static const char *const maintenance_due_keys[] = { "store", "vin", "sold_on", "months_since", "due_on" };
static const char *const first_service_pending_keys[] = { "store", "vin", "sold_on", "window_ends_on", "days_left" };
#define BAND_KEYS .keys_sql = SQL_BAND_KEYS, .keys = band_keys, .nkeys = KC_COUNT(band_keys)

static const fsp_list_def retention_lists[] = {
    FSP_LIST(.id = "retention.at_risk", .name_zh = "拟流失车辆", .name_en = "At-risk vehicles", .as_of = 1,
             .explains_as = FSP_EXPLAINS_COUNT, .explains_kpi = "retention.at_risk",
             .columns = band_columns, .ncolumns = KC_COUNT(band_columns),
             .default_sort = band_sort, .ndefault_sort = KC_COUNT(band_sort),
             .sql = SQL_BAND_LIST, .bind = bind_band_list, .user = &band_at_risk, BAND_KEYS),
    FSP_LIST(.id = "retention.warning", .name_zh = "流失预警车辆", .name_en = "Churn warning vehicles", .as_of = 1,
             .explains_as = FSP_EXPLAINS_COUNT, .explains_kpi = "retention.warning",
             .columns = band_columns, .ncolumns = KC_COUNT(band_columns),
             .default_sort = band_sort, .ndefault_sort = KC_COUNT(band_sort),
             .sql = SQL_BAND_LIST, .bind = bind_band_list, .user = &band_warning, BAND_KEYS),
    FSP_LIST(.id = "retention.lost", .name_zh = "流失车辆", .name_en = "Lost vehicles", .as_of = 1,
             .explains_as = FSP_EXPLAINS_COUNT, .explains_kpi = "retention.lost",
             .columns = band_columns, .ncolumns = KC_COUNT(band_columns),
             .default_sort = band_sort, .ndefault_sort = KC_COUNT(band_sort),
             .sql = SQL_BAND_LIST, .bind = bind_band_list, .user = &band_lost, BAND_KEYS),
    FSP_LIST(.id = "retention.maintenance_due", .name_zh = "到期保养车辆", .name_en = "Vehicles due for maintenance",
             .as_of = 1, .explains_as = FSP_EXPLAINS_COUNT, .explains_kpi = "retention.maintenance_due",
             .columns = maintenance_due_columns, .ncolumns = KC_COUNT(maintenance_due_columns),
             .default_sort = maintenance_due_sort, .ndefault_sort = KC_COUNT(maintenance_due_sort),
             .sql = SQL_MAINTENANCE_DUE_LIST, .bind = bind_maintenance_due_list,
             .keys_sql = SQL_MAINTENANCE_DUE_KEYS, .keys = maintenance_due_keys, .nkeys = KC_COUNT(maintenance_due_keys)),
    FSP_LIST(.id = "retention.first_service_pending", .name_zh = "待首保车辆", .name_en = "Vehicles awaiting first service",
             .as_of = 1, .explains_as = FSP_EXPLAINS_COUNT, .explains_kpi = "retention.first_service_pending",
             .columns = first_service_pending_columns, .ncolumns = KC_COUNT(first_service_pending_columns),
             .default_sort = first_service_pending_sort, .ndefault_sort = KC_COUNT(first_service_pending_sort),
             .sql = SQL_FIRST_SERVICE_PENDING_LIST, .bind = bind_first_service_pending_list,
             .keys_sql = SQL_FIRST_SERVICE_PENDING_KEYS, .keys = first_service_pending_keys,
             .nkeys = KC_COUNT(first_service_pending_keys)),
};

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
    FSP_KPI(.id = "retention.first_service_pending", .name_zh = "待首保", .name_en = "Awaiting first service",
            .unit = "count", .direction = FSP_DIR_NONE, .fold = FSP_FOLD_SUM,
            .formula = "Vehicles sold by the group in the retention.first_service_months (6) months up to the "
                       "period end with no visit since the sale, credited to the selling store.",
            .compute = compute_first_service_pending),
    FSP_KPI(.id = "retention.maintenance_due", .name_zh = "到期保养", .name_en = "Maintenance due", .unit = "count",
            .direction = FSP_DIR_NONE, .fold = FSP_FOLD_SUM,
            .formula = "Base vehicles that have visited since their latest sale whose last visit + "
                       "retention.maintenance_interval_months (6) months falls in the "
                       "retention.maintenance_notice_days (30) days after the period end, credited like the base.",
            .compute = compute_maintenance_due),
};

/* --- the plugin --- */

static int retention_init(fsp_host *host, const fsp_host_api *api)
{
    if (kc_register_all(host, api, retention_kpis, KC_COUNT(retention_kpis), retention_settings,
                        KC_COUNT(retention_settings), retention_validate) != 0)
        return -1;
    return kc_register_lists(host, retention_lists, KC_COUNT(retention_lists));
}

FSP_PLUGIN(.name = "retention", .version = "1.0.0", .init = retention_init,
           .description = "Customer retention as of the period end: base, at risk, warning, lost, churn by year, "
                          "first service, first services pending, maintenance due; the vehicles behind the counts as lists");
