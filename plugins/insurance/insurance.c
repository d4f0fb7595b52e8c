/* insurance: the insurance (保险) KPIs of docs/kpis.md "insurance": premium,
 * new-car insurance penetration, renewal rate, accident repair revenue and its
 * share of service revenue, the repair-to-premium ratio and the insurers'
 * share of renewal premium.
 * Matching (a new policy for a sale, a renewal for an expiring policy)
 * searches the whole group; credit goes to the store (and insurer) the spec
 * names. With args->per_insurer the components carry the insurer, for
 * by=insurer; insurance.new_penetration and insurance.accident_share do not
 * support it. insurance.renewals_due (the policies about to end, not renewed)
 * and its list read the same statement fragments. */
#include <fourscore/plugin.h>
#include "../kpi_common.h"

/* --- settings --- */

enum { RENEWAL_WINDOW_DAYS, NEW_WINDOW_DAYS, RENEWAL_NOTICE_DAYS };
static const fsp_setting_def insurance_settings[] = {
    [RENEWAL_WINDOW_DAYS] = FSP_SETTING(.name = "insurance.renewal_window_days", .name_zh = "续保窗口（天）",
                                        .name_en = "Renewal window (days)", .unit = "days",
                                        .default_value = 30, .min = 0, .max = 3650),
    [NEW_WINDOW_DAYS] = FSP_SETTING(.name = "insurance.new_window_days", .name_zh = "新保窗口（天）",
                                    .name_en = "New-policy window (days)", .unit = "days",
                                    .default_value = 30, .min = 0, .max = 3650),
    [RENEWAL_NOTICE_DAYS] = FSP_SETTING(.name = "insurance.renewal_notice_days", .name_zh = "续保提醒提前（天）",
                                        .name_en = "Renewal notice (days)", .unit = "days",
                                        .default_value = 60, .min = 0, .max = 3650),
};

/* --- premium and penetration --- */

/* Premium sold in the period, per store and insurer (the per store and day
 * or month sums of schemas/014_survey_policy_rollups.sql). */
#define PREMIUM_DAYS "rollup_premium_day", "rollup_premium_month"
#define PREMIUM(FROM) "SELECT store_code, insurer_code, SUM(premium), 1, 1" FROM " GROUP BY store_code, insurer_code"
static const kc_days_sql SQL_PREMIUM = KC_DAYS_SQL(PREMIUM, "insurer_code, premium", PREMIUM_DAYS);

/* Sales in the period (credited to the selling store) whose VIN has a `new`
 * policy sold anywhere in the group within ? days either side of the sale:
 * the sales counted per store, day (or month) and distance in days to the
 * nearest such policy (schemas/015_insurance_matches.sql), the distance
 * compared with the window in force. Placeholders: window, the period's six. */
#define NEW_PENETRATION(FROM) \
    "SELECT store_code, NULL, SUM(IF(gap <= ?, sales, 0)), SUM(sales), 1" FROM " GROUP BY store_code"
static const kc_days_sql SQL_NEW_PENETRATION =
    KC_DAYS_SQL(NEW_PENETRATION, "gap, sales", "rollup_new_policy_day", "rollup_new_policy_month");

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
static const kc_days_sql SQL_RENEWAL_RATE = KC_DAYS_SQL(RENEWAL_RATE, "insurer_code, gap, policies", "rollup_renewal_day",
                                                              "rollup_renewal_month");

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
static const kc_days_sql SQL_INSURER_SHARE = KC_DAYS_SQL(INSURER_SHARE, "insurer_code, kind, premium", PREMIUM_DAYS);

#define RENEWAL_PREMIUM_TOTAL(FROM) \
    "SELECT store_code, NULL, SUM(premium), SUM(premium), 1" FROM " WHERE kind = 'renewal' GROUP BY store_code"
static const kc_days_sql SQL_RENEWAL_PREMIUM_TOTAL = KC_DAYS_SQL(RENEWAL_PREMIUM_TOTAL, "kind, premium", PREMIUM_DAYS);

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
static const kc_days_sql SQL_ACCIDENT_REVENUE = KC_DAYS_SQL(ACCIDENT_REVENUE, "insurer_code, revenue", RO_INSURER_DAYS);

/* Accident revenue (numerator) and premium (denominator) as separate
 * components that the engine adds per (store, insurer).
 * Placeholders: the period's six twice (ROs, then premium). */
#define REPAIR_TO_PREMIUM(ROS, PREMIUMS) \
    "SELECT store_code, insurer_code, SUM(revenue), 0, 1" ROS " GROUP BY store_code, insurer_code" \
    " UNION ALL SELECT store_code, insurer_code, 0, SUM(premium), 1" PREMIUMS " GROUP BY store_code, insurer_code"
static const kc_days_sql SQL_REPAIR_TO_PREMIUM = KC_DAYS_SQL2(REPAIR_TO_PREMIUM, "insurer_code, revenue", RO_INSURER_DAYS,
                                                                  "insurer_code, premium", PREMIUM_DAYS);

/* Accident revenue over service revenue, per store (rollup_ro_day's
 * insurer_revenue: the RO revenue of the ROs with payer = insurer); no
 * by=insurer, since service revenue has no insurer. */
#define ACCIDENT_SHARE(FROM) \
    "SELECT store_code, NULL, SUM(insurer_revenue), SUM(revenue), 1" FROM " GROUP BY store_code"
static const kc_days_sql SQL_ACCIDENT_SHARE = KC_RO_DAYS_SQL(ACCIDENT_SHARE, "insurer_revenue, revenue");

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

/* --- renewals due: the calls to make --- */

/* Policies sold on or before `to` ending in (to, to + N days] and not
 * renewed as insurance.renewal_rate defines it (no policy of the VIN
 * starting after this one's start within the renewal window of its end: the
 * distance of rollup_policy_match, as for the rate), credited to their
 * store. Read through the policies' ends_on key, with the match by its key.
 * Placeholders (WHERE): to, to, N, window, to. */
#define SQL_RENEWALS_DUE_FROM \
    " FROM insurance_policies p FORCE INDEX (k_policy_ends)" \
    " JOIN rollup_policy_match m ON m.store_code = p.store_code AND m.policy_no = p.policy_no"
#define SQL_RENEWALS_DUE_WHERE \
    " WHERE p.ends_on > CAST(? AS DATE) AND p.ends_on <= CAST(? AS DATE) + INTERVAL ? DAY AND m.gap > ?" \
    " AND p.sold_on <= CAST(? AS DATE)"
#define RENEWALS_DUE_PARAMS(to, notice, window) \
    FSP_P_TEXT(to), FSP_P_TEXT(to), FSP_P_INT(notice), FSP_P_INT(window), FSP_P_TEXT(to)
static const char SQL_RENEWALS_DUE[] =
    "SELECT p.store_code, NULL, COUNT(*), 1, 1" SQL_RENEWALS_DUE_FROM SQL_RENEWALS_DUE_WHERE " GROUP BY p.store_code";

static int renewal_days(fsp_call *call, int *notice_days, int *window_days)
{
    if (kc_setting_int(call, &insurance_settings[RENEWAL_NOTICE_DAYS], notice_days) != 0 ||
        kc_setting_int(call, &insurance_settings[RENEWAL_WINDOW_DAYS], window_days) != 0)
        return -1;
    return 0;
}

static int compute_renewals_due(fsp_call *call, const fsp_kpi_args *args)
{
    int notice_days, window_days;
    if (renewal_days(call, &notice_days, &window_days) != 0)
        return -1;
    fsp_param params[] = { RENEWALS_DUE_PARAMS(args->to, notice_days, window_days) };
    return kc_query_emit(call, args, SQL_RENEWALS_DUE, params, KC_COUNT(params));
}

/* The list of those policies, each with its VIN's customer as of `to`: of
 * the vehicle's last visit, else of its latest sale (its state in
 * rollup_vehicle_state, by the VIN key), else none. Placeholders: to (as_of),
 * to, to (the state), RENEWALS_DUE_PARAMS. */
static const char SQL_RENEWALS_DUE_LIST[] =
    "SELECT x.store, " KC_SQL_CUSTOMER_STORE " AS customer_store, x.policy_no, x.vin, x.insurer_code,"
    " i.name AS insurer_name, x.kind, x.ends_on, DATEDIFF(x.ends_on, x.as_of) AS days_left, x.premium,"
    " " KC_SQL_CUSTOMER_CODE " AS customer_code, c.name AS customer_name, " KC_SQL_PHONE("c") " AS phone"
    " FROM (SELECT p.store_code AS store, p.policy_no, p.vin, p.insurer_code, CAST(p.kind AS CHAR) AS kind,"
    "   p.ends_on, p.premium, CAST(? AS DATE) AS as_of, v.last_store_code, v.sale_store_code,"
    "   " KC_SQL_LAST_RO_NO("v") " AS last_ro_no, " KC_SQL_SALE_DEAL_NO("v") " AS sale_deal_no"
    SQL_RENEWALS_DUE_FROM
    "   LEFT JOIN rollup_vehicle_state v FORCE INDEX (k_vehicle_state_vin) ON v.vin = p.vin"
    "     AND v.from_on <= CAST(? AS DATE) AND v.until_on > CAST(? AS DATE)"
    SQL_RENEWALS_DUE_WHERE ") x"
    " JOIN insurers i ON i.insurer_code = x.insurer_code"
    KC_SQL_VEHICLE_CUSTOMER_JOINS("x");

static int bind_renewals_due_list(fsp_call *call, const fsp_list_args *args, fsp_param *out, int max)
{
    int notice_days, window_days;
    if (renewal_days(call, &notice_days, &window_days) != 0)
        return -1;
    const char *to = args->to;
    fsp_param params[] = { FSP_P_TEXT(to), FSP_P_TEXT(to), FSP_P_TEXT(to),
                           RENEWALS_DUE_PARAMS(to, notice_days, window_days) };
    return kc_bind_params(call, params, KC_COUNT(params), out, max);
}

static const fsp_list_column renewals_due_columns[] = {
    KC_COL_STORE, KC_COL_CUSTOMER_STORE,
    FSP_COLUMN(.key = "policy_no", .name_zh = "保单号", .name_en = "Policy", .type = FSP_COL_TEXT),
    KC_COL_VIN,
    FSP_COLUMN(.key = "insurer_code", .name_zh = "保险公司代码", .name_en = "Insurer code", .type = FSP_COL_TEXT),
    FSP_COLUMN(.key = "insurer_name", .name_zh = "保险公司", .name_en = "Insurer", .type = FSP_COL_TEXT),
    FSP_COLUMN(.key = "kind", .name_zh = "类型", .name_en = "Kind", .type = FSP_COL_TEXT),
    FSP_COLUMN(.key = "ends_on", .name_zh = "到期日", .name_en = "Ends on", .type = FSP_COL_DATE),
    FSP_COLUMN(.key = "days_left", .name_zh = "剩余天数", .name_en = "Days left", .unit = "days", .type = FSP_COL_INT),
    FSP_COLUMN(.key = "premium", .name_zh = "保费", .name_en = "Premium", .unit = "CNY", .type = FSP_COL_NUMBER,
               .flags = FSP_COL_MONEY),
    KC_COL_CUSTOMER_CODE, KC_COL_CUSTOMER_NAME, KC_COL_PHONE,
};
/* (store, policy_no) is the policy's key. */
static const char *const renewals_due_sort[] = { "store", "ends_on", "policy_no" };

static const fsp_list_def insurance_lists[] = {
    FSP_LIST(.id = "insurance.renewals_due", .name_zh = "待续保保单", .name_en = "Policies due for renewal", .as_of = 1,
             .explains_as = FSP_EXPLAINS_COUNT, .explains_kpi = "insurance.renewals_due",
             .columns = renewals_due_columns, .ncolumns = KC_COUNT(renewals_due_columns),
             .default_sort = renewals_due_sort, .ndefault_sort = KC_COUNT(renewals_due_sort),
             .sql = SQL_RENEWALS_DUE_LIST, .bind = bind_renewals_due_list),
};

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
    FSP_KPI(.id = "insurance.renewals_due", .name_zh = "待续保", .name_en = "Renewals due", .unit = "count",
            .direction = FSP_DIR_NONE, .by = FSP_BY_DEFAULT, .fold = FSP_FOLD_SUM,
            .formula = "Policies sold on or before the period end, ending in the insurance.renewal_notice_days (60) "
                       "days after it, not renewed as insurance.renewal_rate defines it (credited to their store).",
            .compute = compute_renewals_due),
};

/* --- the plugin --- */

static int insurance_init(fsp_host *host, const fsp_host_api *api)
{
    if (kc_register_all(host, api, insurance_kpis, KC_COUNT(insurance_kpis), insurance_settings,
                        KC_COUNT(insurance_settings), NULL) != 0)
        return -1;
    return kc_register_lists(host, insurance_lists, KC_COUNT(insurance_lists));
}

FSP_PLUGIN(.name = "insurance", .version = "1.1.0", .init = insurance_init,
           .description = "Insurance: premium, new-car penetration, renewal rate, accident repairs and their share, "
                          "insurer shares");
