/* insurance: the insurance (保险) KPIs of docs/kpis.md "insurance": premium,
 * new-car insurance penetration, renewal rate, accident repair revenue and its
 * share of service revenue, the repair-to-premium ratio and the insurers'
 * share of renewal premium.
 * Matching (a new policy for a sale, a renewal for an expiring policy)
 * searches the whole group; credit goes to the store (and insurer) the spec
 * names. With args->per_insurer the components carry the insurer, for
 * by=insurer; insurance.new_penetration and insurance.accident_share do not
 * support it. */
#include <fourscore/plugin.h>
#include "../kpi_common.h"

/* --- settings --- */

enum { RENEWAL_WINDOW_DAYS, NEW_WINDOW_DAYS };
static const fsp_setting_def insurance_settings[] = {
    [RENEWAL_WINDOW_DAYS] = FSP_SETTING(.name = "insurance.renewal_window_days", .name_zh = "续保窗口（天）",
                                        .name_en = "Renewal window (days)", .unit = "days",
                                        .default_value = 30, .min = 0, .max = 3650),
    [NEW_WINDOW_DAYS] = FSP_SETTING(.name = "insurance.new_window_days", .name_zh = "新保窗口（天）",
                                    .name_en = "New-policy window (days)", .unit = "days",
                                    .default_value = 30, .min = 0, .max = 3650),
};

/* --- premium and penetration --- */

/* Premium sold in the period, per store and insurer (the per store and day
 * or month sums of schemas/014_survey_policy_rollups.sql). */
#define PREMIUM_DAYS "rollup_premium_day", "rollup_premium_month"
#define PREMIUM(FROM) "SELECT store_code, insurer_code, SUM(premium), 1, 1" FROM " GROUP BY store_code, insurer_code"
static const kc_days_sql SQL_PREMIUM = KC_DAYS_SQL(PREMIUM, PREMIUM_DAYS);

/* Sales in the period (credited to the selling store) whose VIN has a `new`
 * policy sold anywhere in the group within ? days either side of the sale:
 * the sales counted per store, day (or month) and distance in days to the
 * nearest such policy (schemas/015_insurance_matches.sql), the distance
 * compared with the window in force. Placeholders: window, the period's six. */
#define NEW_PENETRATION(FROM) \
    "SELECT store_code, NULL, SUM(IF(gap <= ?, sales, 0)), SUM(sales), 1" FROM " GROUP BY store_code"
static const kc_days_sql SQL_NEW_PENETRATION =
    KC_DAYS_SQL(NEW_PENETRATION, "rollup_new_policy_day", "rollup_new_policy_month");

static int compute_premium(fsp_call *call, const fsp_kpi_args *args)
{
    return kc_query_days_emit(call, args, &SQL_PREMIUM);
}

static int compute_new_penetration(fsp_call *call, const fsp_kpi_args *args)
{
    int window_days;
    if (kc_setting_int(call, &insurance_settings[NEW_WINDOW_DAYS], &window_days) != 0)
        return -1;
    kc_days d;
    kc_days_of(args, &d);
    fsp_param params[] = { FSP_P_INT(window_days), KC_DAYS_PARAMS(d) };
    return kc_query_emit(call, args, kc_days_sql_of(&d, &SQL_NEW_PENETRATION), params, KC_COUNT(params));
}

/* --- renewals --- */

/* Policies ending in the period, credited to their store and insurer; renewed
 * when another policy of the same VIN (any store) starts after this one's
 * start and within ? days either side of this one's end: the policies
 * counted per store, day of their end (or month), insurer and distance in
 * days to the nearest such start (schemas/015_insurance_matches.sql), the
 * distance compared with the window in force. Placeholders: window, the
 * period's six. */
#define RENEWAL_RATE(FROM) \
    "SELECT store_code, insurer_code, SUM(IF(gap <= ?, policies, 0)), SUM(policies), 1" FROM \
    " GROUP BY store_code, insurer_code"
static const kc_days_sql SQL_RENEWAL_RATE = KC_DAYS_SQL(RENEWAL_RATE, "rollup_renewal_day", "rollup_renewal_month");

static int compute_renewal_rate(fsp_call *call, const fsp_kpi_args *args)
{
    int window_days;
    if (kc_setting_int(call, &insurance_settings[RENEWAL_WINDOW_DAYS], &window_days) != 0)
        return -1;
    kc_days d;
    kc_days_of(args, &d);
    fsp_param params[] = { FSP_P_INT(window_days), KC_DAYS_PARAMS(d) };
    return kc_query_emit(call, args, kc_days_sql_of(&d, &SQL_RENEWAL_RATE), params, KC_COUNT(params));
}

/* Renewal premium of each insurer over all renewal premium. Per insurer,
 * every store with renewal premium emits one component for every insurer
 * (numerator: that insurer's premium, 0 if none; denominator: the store's
 * total), so the insurer's row is its premium over the total of the stores
 * in scope. Without insurers the value is the total over itself.
 * Placeholders: the period's six. */
#define INSURER_SHARE(FROM) \
    "WITH renewals AS (SELECT store_code, insurer_code, SUM(premium) AS premium" \
    FROM " WHERE kind = 'renewal' GROUP BY store_code, insurer_code)," \
    " store_totals AS (SELECT store_code, SUM(premium) AS premium FROM renewals GROUP BY store_code)" \
    " SELECT t.store_code, i.insurer_code, COALESCE(r.premium, 0), t.premium, 1" \
    " FROM store_totals t CROSS JOIN insurers i" \
    " LEFT JOIN renewals r ON r.store_code = t.store_code AND r.insurer_code = i.insurer_code"
static const kc_days_sql SQL_INSURER_SHARE = KC_DAYS_SQL(INSURER_SHARE, PREMIUM_DAYS);

#define RENEWAL_PREMIUM_TOTAL(FROM) \
    "SELECT store_code, NULL, SUM(premium), SUM(premium), 1" FROM " WHERE kind = 'renewal' GROUP BY store_code"
static const kc_days_sql SQL_RENEWAL_PREMIUM_TOTAL = KC_DAYS_SQL(RENEWAL_PREMIUM_TOTAL, PREMIUM_DAYS);

static int compute_insurer_share(fsp_call *call, const fsp_kpi_args *args)
{
    return kc_query_days_emit(call, args, args->per_insurer ? &SQL_INSURER_SHARE : &SQL_RENEWAL_PREMIUM_TOTAL);
}

/* --- accident repairs --- */

/* Revenue of the period's ROs paid by an insurer, by the RO's insurer_code
 * (rollup_ro_insurer_month and rollup_ro_insurer_day). */
#define RO_INSURER_DAYS "rollup_ro_insurer_day", "rollup_ro_insurer_month"
#define ACCIDENT_REVENUE(FROM) \
    "SELECT store_code, insurer_code, SUM(revenue), 1, 1" FROM " GROUP BY store_code, insurer_code"
static const kc_days_sql SQL_ACCIDENT_REVENUE = KC_DAYS_SQL(ACCIDENT_REVENUE, RO_INSURER_DAYS);

/* Accident revenue (numerator) and premium (denominator) as separate
 * components that the engine adds per (store, insurer).
 * Placeholders: the period's six twice (ROs, then premium). */
#define REPAIR_TO_PREMIUM(ROS, PREMIUMS) \
    "SELECT store_code, insurer_code, SUM(revenue), 0, 1" ROS " GROUP BY store_code, insurer_code" \
    " UNION ALL SELECT store_code, insurer_code, 0, SUM(premium), 1" PREMIUMS " GROUP BY store_code, insurer_code"
static const kc_days_sql SQL_REPAIR_TO_PREMIUM = KC_DAYS_SQL2(REPAIR_TO_PREMIUM, RO_INSURER_DAYS, PREMIUM_DAYS);

/* Accident revenue over service revenue, per store (rollup_ro_day's
 * insurer_revenue: the RO revenue of the ROs with payer = insurer); no
 * by=insurer, since service revenue has no insurer. */
#define ACCIDENT_SHARE(FROM) \
    "SELECT store_code, NULL, SUM(insurer_revenue), SUM(revenue), 1" FROM " GROUP BY store_code"
static const kc_days_sql SQL_ACCIDENT_SHARE = KC_RO_DAYS_SQL(ACCIDENT_SHARE);

static int compute_accident_share(fsp_call *call, const fsp_kpi_args *args)
{
    return kc_query_days_emit(call, args, &SQL_ACCIDENT_SHARE);
}

static int compute_accident_revenue(fsp_call *call, const fsp_kpi_args *args)
{
    return kc_query_days_emit(call, args, &SQL_ACCIDENT_REVENUE);
}

static int compute_repair_to_premium(fsp_call *call, const fsp_kpi_args *args)
{
    kc_days d;
    kc_days_of(args, &d);
    fsp_param params[] = { KC_DAYS_PARAMS(d), KC_DAYS_PARAMS(d) };
    return kc_query_emit(call, args, kc_days_sql_of(&d, &SQL_REPAIR_TO_PREMIUM), params, KC_COUNT(params));
}

/* --- the catalogue --- */

#define BY_WITH_INSURER (FSP_BY_DEFAULT | FSP_BY_INSURER)

static const fsp_kpi_def insurance_kpis[] = {
    FSP_KPI(.id = "insurance.premium", .budget = 1, .name_zh = "保费", .name_en = "Insurance premium", .unit = "CNY",
            .direction = FSP_DIR_HIGHER, .by = BY_WITH_INSURER, .fold = FSP_FOLD_SUM,
            .formula = "Sum of premium of the policies sold in the period.",
            .compute = compute_premium),
    FSP_KPI(.id = "insurance.new_penetration", .name_zh = "新保渗透率", .name_en = "New-car insurance penetration",
            .unit = "ratio", .direction = FSP_DIR_HIGHER, .by = FSP_BY_DEFAULT, .fold = FSP_FOLD_RATIO,
            .formula = "Vehicle sales of the period whose VIN has a new policy sold anywhere in the group within "
                       "insurance.new_window_days (30) days of the sale / vehicle sales of the period (selling store).",
            .compute = compute_new_penetration),
    FSP_KPI(.id = "insurance.renewal_rate", .name_zh = "续保率", .name_en = "Renewal rate", .unit = "ratio",
            .direction = FSP_DIR_HIGHER, .by = BY_WITH_INSURER, .fold = FSP_FOLD_RATIO,
            .formula = "Policies ending in the period that are renewed (another policy of the VIN, sold anywhere in "
                       "the group, starting after this one's start and within insurance.renewal_window_days (30) "
                       "days of its end) / policies ending in the period, credited to the store and insurer of the "
                       "expiring policy.",
            .compute = compute_renewal_rate),
    FSP_KPI(.id = "insurance.accident_revenue", .budget = 1, .name_zh = "事故车产值", .name_en = "Accident repair revenue",
            .unit = "CNY", .direction = FSP_DIR_HIGHER, .by = BY_WITH_INSURER, .fold = FSP_FOLD_SUM,
            .formula = "Revenue of the period's ROs with payer insurer (by the RO's insurer).",
            .compute = compute_accident_revenue),
    FSP_KPI(.id = "insurance.repair_to_premium", .name_zh = "送修比例", .name_en = "Repairs to premium",
            .unit = "ratio", .direction = FSP_DIR_BAND, FSP_BAND(0.85, 0.95), .by = BY_WITH_INSURER,
            .fold = FSP_FOLD_RATIO,
            .formula = "insurance.accident_revenue / insurance.premium (about 0.9: the insurer returns 0.9 of "
                       "premium as repairs).",
            .compute = compute_repair_to_premium),
    FSP_KPI(.id = "insurance.accident_share", .name_zh = "事故车产值占比", .name_en = "Accident share of service revenue",
            .unit = "ratio", .direction = FSP_DIR_HIGHER, .by = FSP_BY_DEFAULT, .fold = FSP_FOLD_RATIO,
            .formula = "insurance.accident_revenue / service.revenue (not by insurer).",
            .compute = compute_accident_share),
    FSP_KPI(.id = "insurance.insurer_share", .name_zh = "续保分配", .name_en = "Insurer share of renewals",
            .unit = "ratio", .direction = FSP_DIR_NONE, .by = FSP_BY_INSURER, .fold = FSP_FOLD_RATIO,
            .formula = "Renewal premium of the insurer / all renewal premium of the period (about 5:3:2 over "
                       "three insurers).",
            .compute = compute_insurer_share),
};

/* --- the plugin --- */

static int insurance_init(fsp_host *host, const fsp_host_api *api)
{
    return kc_register_all(host, api, insurance_kpis, KC_COUNT(insurance_kpis), insurance_settings,
                           KC_COUNT(insurance_settings), NULL);
}

FSP_PLUGIN(.name = "insurance", .version = "1.1.0", .init = insurance_init,
           .description = "Insurance: premium, new-car penetration, renewal rate, accident repairs and their share, "
                          "insurer shares");
