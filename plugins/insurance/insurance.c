/* insurance: the insurance (保险) KPIs of docs/kpis.md "insurance": premium,
 * new-car insurance penetration, renewal rate, accident repair revenue, the
 * repair-to-premium ratio and the insurers' share of renewal premium.
 * Matching (a new policy for a sale, a renewal for an expiring policy)
 * searches the whole group; credit goes to the store (and insurer) the spec
 * names. With args->per_insurer the components carry the insurer, for
 * by=insurer; insurance.new_penetration does not support it. */
#include <fourscore/plugin.h>
#include "../kpi_common.h"

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
    if (kc_setting_int(call, "insurance.new_window_days", 30, 0, 3650, &window_days) != 0)
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
    if (kc_setting_int(call, "insurance.renewal_window_days", 30, 0, 3650, &window_days) != 0)
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

#define DEF(ID, ZH, EN, UNIT, DIR, TKIND, TLO, THI, FORMULA, BY, FOLD, FN) \
    { sizeof(fsp_kpi_def), ID, ZH, EN, UNIT, DIR, TKIND, TLO, THI, FORMULA, BY, FOLD, FN, NULL }

static const fsp_kpi_def insurance_kpis[] = {
    DEF("insurance.premium", "保费", "Insurance premium", "CNY", FSP_DIR_HIGHER, FSP_TARGET_NONE, 0, 0,
        "Sum of premium of the policies sold in the period.",
        BY_WITH_INSURER, FSP_FOLD_SUM, compute_premium),
    DEF("insurance.new_penetration", "新保渗透率", "New-car insurance penetration", "ratio",
        FSP_DIR_HIGHER, FSP_TARGET_NONE, 0, 0,
        "Vehicle sales of the period whose VIN has a new policy sold anywhere in the group within "
        "insurance.new_window_days (30) days of the sale / vehicle sales of the period (selling store).",
        FSP_BY_DEFAULT, FSP_FOLD_RATIO, compute_new_penetration),
    DEF("insurance.renewal_rate", "续保率", "Renewal rate", "ratio", FSP_DIR_HIGHER, FSP_TARGET_NONE, 0, 0,
        "Policies ending in the period that are renewed (another policy of the VIN, sold anywhere in the group, "
        "starting after this one's start and within insurance.renewal_window_days (30) days of its end) / "
        "policies ending in the period, credited to the store and insurer of the expiring policy.",
        BY_WITH_INSURER, FSP_FOLD_RATIO, compute_renewal_rate),
    DEF("insurance.accident_revenue", "事故车产值", "Accident repair revenue", "CNY", FSP_DIR_HIGHER,
        FSP_TARGET_NONE, 0, 0,
        "Revenue of the period's ROs with payer insurer (by the RO's insurer).",
        BY_WITH_INSURER, FSP_FOLD_SUM, compute_accident_revenue),
    DEF("insurance.repair_to_premium", "送修比例", "Repairs to premium", "ratio", FSP_DIR_BAND,
        FSP_TARGET_BAND, 0.85, 0.95,
        "insurance.accident_revenue / insurance.premium (about 0.9: the insurer returns 0.9 of premium as repairs).",
        BY_WITH_INSURER, FSP_FOLD_RATIO, compute_repair_to_premium),
    DEF("insurance.insurer_share", "续保分配", "Insurer share of renewals", "ratio", FSP_DIR_NONE,
        FSP_TARGET_NONE, 0, 0,
        "Renewal premium of the insurer / all renewal premium of the period (about 5:3:2 over three insurers).",
        FSP_BY_INSURER, FSP_FOLD_RATIO, compute_insurer_share),
};

/* --- the plugin --- */

static int insurance_init(fsp_host *host, const fsp_host_api *api)
{
    return kc_register_all(host, api, insurance_kpis, KC_COUNT(insurance_kpis));
}

static const fsp_plugin_descriptor insurance_descriptor = {
    FSP_MAGIC, FSP_ABI_MAJOR, FSP_ABI_MINOR, sizeof(fsp_plugin_descriptor),
    FSP_BUILD_SIGNATURE, "insurance", "1.0.0",
    "Insurance: premium, new-car penetration, renewal rate, accident repairs, insurer shares",
    insurance_init, NULL
};

FSP_EXPORT const fsp_plugin_descriptor *fourscore_plugin_v1(void)
{
    return &insurance_descriptor;
}
