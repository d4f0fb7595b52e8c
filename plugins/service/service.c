/* service: the after-sales volume and value KPIs of docs/kpis.md "service"
 * (进厂台次 and its split into 机电 and 钣喷, 服务产值, 单车产值, 售后毛利,
 * 返修率, 售后吸收率, 人工成本率, 预约率, 回访率, 投诉率, 平均在厂时长).
 * Every figure comes from the closed, non-internal repair orders of the
 * period and is emitted per store; the engine folds stores into regions, the
 * group and months.
 *
 * Sums come from the per store and month or day rollups (rollup_ro_month,
 * rollup_ro_day: KC_RO_DAYS_SQL), the contact with the customer
 * (appointment kept, follow-up call, complaint) included
 * (013_contact_rollups.sql) and the time in the workshop (028); absorption
 * and personnel cost from store_financials. The comebacks and complaints are
 * also counts (service.comebacks, service.complaints) and lists of the ROs
 * and calls, read from rollup_ro, the per-RO rows those sums add up. */
#include <fourscore/plugin.h>
#include "../kpi_common.h"

/* --- settings --- */

enum { FOLLOWUP_DAYS };
static const fsp_setting_def service_settings[] = {
    [FOLLOWUP_DAYS] = FSP_SETTING(.name = "service.followup_days", .name_zh = "回访时限（天）",
                                  .name_en = "Follow-up within (days)", .unit = "days",
                                  .default_value = 3, .min = 0, .max = 3650),
};

/* --- volume and value --- */

/* Per store sums over the period's closed non-internal ROs. */
#define RO_COUNT(FROM) "SELECT store_code, NULL, SUM(ro_count), 1, 1" FROM " GROUP BY store_code"
#define REVENUE(FROM) "SELECT store_code, NULL, SUM(revenue), SUM(ro_count), 1" FROM " GROUP BY store_code"
#define GROSS_PROFIT(FROM) "SELECT store_code, NULL, SUM" KC_SQL_DAY_GROSS_PROFIT ", 1, 1" FROM " GROUP BY store_code"
static const kc_days_sql SQL_RO_COUNT = KC_RO_DAYS_SQL(RO_COUNT, "ro_count");
static const kc_days_sql SQL_REVENUE = KC_RO_DAYS_SQL(REVENUE, "revenue, ro_count");
static const kc_days_sql SQL_GROSS_PROFIT = KC_RO_DAYS_SQL(GROSS_PROFIT, KC_SQL_DAY_GROSS_PROFIT_COLS);
/* 进厂台次 = 机电 (every ro_type but bodywork) + 钣喷 (bodywork). */
#define MECH_RO_COUNT(FROM) \
    "SELECT store_code, NULL, SUM(ro_count) - SUM(bodywork_ro_count), 1, 1" FROM " GROUP BY store_code"
#define BODY_RO_COUNT(FROM) "SELECT store_code, NULL, SUM(bodywork_ro_count), 1, 1" FROM " GROUP BY store_code"
static const kc_days_sql SQL_MECH_RO_COUNT = KC_RO_DAYS_SQL(MECH_RO_COUNT, "ro_count, bodywork_ro_count");
static const kc_days_sql SQL_BODY_RO_COUNT = KC_RO_DAYS_SQL(BODY_RO_COUNT, "bodywork_ro_count");

/* A KPI whose definition carries its statement (.user: a kc_days_sql). */
static int compute_period_query(fsp_call *call, const fsp_kpi_args *args)
{
    return kc_query_days_emit(call, args, args->kpi->user);
}

static int compute_ro_count(fsp_call *call, const fsp_kpi_args *args)
{
    return kc_query_days_emit(call, args, &SQL_RO_COUNT);
}

/* --- time in the workshop --- */

/* The seconds from opened_at to closed_at of the period's closed non-internal
 * ROs, per store, from the repair-order sums (rollup_ro.workshop_seconds,
 * summed per day and month: schemas/028). The denominator is 3600 x ROs, so
 * the engine's numerator / denominator is the mean in hours, unrounded (a
 * division in SQL would round it to four decimals), and a region's is its
 * ROs' pooled mean. */
static const kc_days_sql SQL_TURNAROUND = KC_RO_SUMS_SQL("workshop_seconds, ro_count", "workshop_seconds", "3600 * SUM(ro_count)");

static int compute_turnaround_hours(fsp_call *call, const fsp_kpi_args *args)
{
    return kc_query_days_emit(call, args, &SQL_TURNAROUND);
}

/* service.revenue (numerator only) and service.revenue_per_ro (revenue / ROs). */
static int compute_revenue(fsp_call *call, const fsp_kpi_args *args)
{
    return kc_query_days_emit(call, args, &SQL_REVENUE);
}

static int compute_gross_profit(fsp_call *call, const fsp_kpi_args *args)
{
    return kc_query_days_emit(call, args, &SQL_GROSS_PROFIT);
}

/* --- quality and process rates --- */

#define COMEBACK_RATE(FROM) \
    "SELECT store_code, NULL, SUM(comeback_count), SUM(ro_count), 1" FROM " GROUP BY store_code"
static const kc_days_sql SQL_COMEBACK_RATE = KC_RO_DAYS_SQL(COMEBACK_RATE, "comeback_count, ro_count");

/* ROs with a kept appointment naming them (rollup_ro_day: appointment_kept_count). */
#define APPOINTMENT_RATE(FROM) \
    "SELECT store_code, NULL, SUM(appointment_kept_count), SUM(ro_count), 1" FROM " GROUP BY store_code"
static const kc_days_sql SQL_APPOINTMENT_RATE = KC_RO_DAYS_SQL(APPOINTMENT_RATE, "appointment_kept_count, ro_count");

/* ROs with a reached call dated from the RO's closing day to N days after
 * it: those whose first such call came at most N days after closing
 * (rollup_ro_followup_day by lag), over the period's ROs. The two parts are
 * separate components the engine adds per store.
 * Placeholders: the period's six, N, the period's six. */
#define FOLLOWUP_RATE(LAGS, ROS) \
    "SELECT store_code, NULL, SUM(ro_count), 0, 1" LAGS " WHERE lag_days <= ? GROUP BY store_code" \
    " UNION ALL SELECT store_code, NULL, 0, SUM(ro_count), 1" ROS " GROUP BY store_code"
static const kc_days_sql SQL_FOLLOWUP_RATE =
    KC_DAYS_SQL2(FOLLOWUP_RATE, "ro_count, lag_days", "rollup_ro_followup_day", "rollup_ro_followup_month", "ro_count",
                 "rollup_ro_day", "rollup_ro_month");

/* Among the reached calls of the period's ROs (whenever dated): complaints. */
#define COMPLAINT_RATE(FROM) \
    "SELECT store_code, NULL, SUM(complaint_calls), SUM(reached_calls), 1" FROM " GROUP BY store_code"
static const kc_days_sql SQL_COMPLAINT_RATE = KC_RO_DAYS_SQL(COMPLAINT_RATE, "complaint_calls, reached_calls");

static int compute_comeback_rate(fsp_call *call, const fsp_kpi_args *args)
{
    return kc_query_days_emit(call, args, &SQL_COMEBACK_RATE);
}

static int compute_appointment_rate(fsp_call *call, const fsp_kpi_args *args)
{
    return kc_query_days_emit(call, args, &SQL_APPOINTMENT_RATE);
}

static int compute_followup_rate(fsp_call *call, const fsp_kpi_args *args)
{
    int followup_days;
    if (kc_setting_int(call, &service_settings[FOLLOWUP_DAYS], &followup_days) != 0)
        return -1;
    kc_days d;
    kc_days_of(args, &d);
    fsp_param params[] = { KC_DAYS_PARAMS(d), FSP_P_INT(followup_days), KC_DAYS_PARAMS(d) };
    return kc_query_emit(call, args, kc_days_sql_of(&d, &SQL_FOLLOWUP_RATE), params, KC_COUNT(params));
}

static int compute_complaint_rate(fsp_call *call, const fsp_kpi_args *args)
{
    return kc_query_days_emit(call, args, &SQL_COMPLAINT_RATE);
}

/* The numerators alone, as counts: comeback ROs, and reached calls with a
 * complaint among the calls of the period's ROs. */
#define COMEBACKS(FROM) "SELECT store_code, NULL, SUM(comeback_count), 1, 1" FROM " GROUP BY store_code"
#define COMPLAINTS(FROM) "SELECT store_code, NULL, SUM(complaint_calls), 1, 1" FROM " GROUP BY store_code"
static const kc_days_sql SQL_COMEBACKS = KC_RO_DAYS_SQL(COMEBACKS, "comeback_count");
static const kc_days_sql SQL_COMPLAINTS = KC_RO_DAYS_SQL(COMPLAINTS, "complaint_calls");

/* --- lists: the ROs and calls behind the counts --- */

/* The period's ROs one by one: rollup_ro `r`, the per-RO rows that the day
 * and month sums above add up (closed non-internal ROs, `day` = the date of
 * closed_at, is_comeback and the calls counted as there), read by its
 * (store_code, day) key, with the RO itself `ro`. JOINS: more joins.
 * Placeholders: from, to. */
#define SQL_PERIOD_ROS(JOINS) \
    " FROM rollup_ro r JOIN repair_orders ro ON ro.store_code = r.store_code AND ro.ro_no = r.ro_no" JOINS \
    " WHERE r.day BETWEEN CAST(? AS DATE) AND CAST(? AS DATE)"

/* Comeback ROs (rollup_ro's is_comeback: comeback_of set) with the RO they
 * come back to (its closing NULL when it is open). */
static const char SQL_COMEBACKS_LIST[] =
    "SELECT r.store_code AS store, r.ro_no, ro.comeback_of, r.vin, r.closed_at, o.closed_at AS original_closed_at,"
    " DATEDIFF(DATE(r.closed_at), DATE(o.closed_at)) AS days_between, ro.advisor_code, r.ro_type, r.revenue"
    SQL_PERIOD_ROS(" LEFT JOIN repair_orders o ON o.store_code = ro.store_code AND o.ro_no = ro.comeback_of")
    " AND r.is_comeback = 1";

/* The reached calls with a complaint of the period's ROs (as rollup_ro's
 * complaint_calls counts them; at most one call per RO), whenever made,
 * with the RO's customer (a customer of the RO's store). The calls are
 * joined after the ROs (STRAIGHT_JOIN): read first, all of them were
 * scanned for a month's few complaints. */
static const char SQL_COMPLAINTS_LIST[] =
    "SELECT r.store_code AS store, r.store_code AS customer_store, r.ro_no, f.called_at, r.vin, r.customer_code,"
    " c.name AS customer_name, " KC_SQL_PHONE("c") " AS phone, ro.advisor_code"
    SQL_PERIOD_ROS(" STRAIGHT_JOIN follow_up_calls f ON f.store_code = r.store_code AND f.ro_no = r.ro_no"
                   " AND f.reached = 1 AND f.complaint = 1"
                   " LEFT JOIN customers c ON c.store_code = r.store_code AND c.customer_code = r.customer_code")
    " AND r.complaint_calls > 0";

static int bind_period_list(fsp_call *call, const fsp_list_args *args, fsp_param *out, int max)
{
    fsp_param params[] = { FSP_P_TEXT(args->from), FSP_P_TEXT(args->to) };
    return kc_bind_params(call, params, KC_COUNT(params), out, max);
}

static const fsp_list_column comebacks_columns[] = {
    KC_COL_STORE,
    FSP_COLUMN(.key = "ro_no", .name_zh = "工单号", .name_en = "RO", .type = FSP_COL_TEXT),
    FSP_COLUMN(.key = "comeback_of", .name_zh = "原工单号", .name_en = "Comeback of", .type = FSP_COL_TEXT),
    KC_COL_VIN,
    FSP_COLUMN(.key = "closed_at", .name_zh = "结算时间", .name_en = "Closed at", .type = FSP_COL_DATETIME),
    FSP_COLUMN(.key = "original_closed_at", .name_zh = "原工单结算时间", .name_en = "Original closed at",
               .type = FSP_COL_DATETIME),
    FSP_COLUMN(.key = "days_between", .name_zh = "间隔天数", .name_en = "Days between", .unit = "days",
               .type = FSP_COL_INT),
    FSP_COLUMN(.key = "advisor_code", .name_zh = "服务顾问", .name_en = "Advisor", .type = FSP_COL_TEXT),
    FSP_COLUMN(.key = "ro_type", .name_zh = "工单类型", .name_en = "RO type", .type = FSP_COL_TEXT),
    FSP_COLUMN(.key = "revenue", .name_zh = "产值", .name_en = "Revenue", .unit = "CNY", .type = FSP_COL_NUMBER,
               .flags = FSP_COL_MONEY),
};
static const fsp_list_column complaints_columns[] = {
    KC_COL_STORE, KC_COL_CUSTOMER_STORE,
    FSP_COLUMN(.key = "ro_no", .name_zh = "工单号", .name_en = "RO", .type = FSP_COL_TEXT),
    FSP_COLUMN(.key = "called_at", .name_zh = "回访时间", .name_en = "Called at", .type = FSP_COL_DATETIME),
    KC_COL_VIN, KC_COL_CUSTOMER_CODE, KC_COL_CUSTOMER_NAME, KC_COL_PHONE,
    FSP_COLUMN(.key = "advisor_code", .name_zh = "服务顾问", .name_en = "Advisor", .type = FSP_COL_TEXT),
};
/* (store, ro_no) is the RO's key. */
static const char *const comebacks_sort[] = { "store", "closed_at", "ro_no" };
static const char *const complaints_sort[] = { "store", "called_at", "ro_no" };

static const fsp_list_def service_lists[] = {
    FSP_LIST(.id = "service.comebacks", .name_zh = "返修工单", .name_en = "Comeback repair orders", .as_of = 0,
             .explains_as = FSP_EXPLAINS_COUNT, .explains_kpi = "service.comebacks",
             .columns = comebacks_columns, .ncolumns = KC_COUNT(comebacks_columns),
             .default_sort = comebacks_sort, .ndefault_sort = KC_COUNT(comebacks_sort),
             .sql = SQL_COMEBACKS_LIST, .bind = bind_period_list),
    FSP_LIST(.id = "service.complaints", .name_zh = "投诉回访", .name_en = "Complaints", .as_of = 0,
             .explains_as = FSP_EXPLAINS_COUNT, .explains_kpi = "service.complaints",
             .columns = complaints_columns, .ncolumns = KC_COUNT(complaints_columns),
             .default_sort = complaints_sort, .ndefault_sort = KC_COUNT(complaints_sort),
             .sql = SQL_COMPLAINTS_LIST, .bind = bind_period_list),
};

/* --- against the store's monthly financials --- */

/* Every store, with its figure and the financials of the calendar months that
 * meet the period; valid only when the store has a row for each of them
 * (placeholders: months expected, the period's six (KC_RO_DAYS_SQL),
 * first month, last month). */
#define SQL_WITH_FINANCIALS(NUM, DEN, FROM) \
    "SELECT s.store_code, NULL, " NUM ", " DEN ", COALESCE(fin.months, 0) = ?" \
    " FROM stores s" \
    " LEFT JOIN (SELECT store_code, SUM(revenue) AS revenue," \
    "   SUM" KC_SQL_DAY_GROSS_PROFIT " AS gross_profit" FROM " GROUP BY store_code) v" \
    "   ON v.store_code = s.store_code" \
    " LEFT JOIN (SELECT store_code, COUNT(*) AS months, SUM(fixed_expenses) AS fixed_expenses," \
    "   SUM(aftersales_personnel_cost) AS personnel_cost FROM store_financials" \
    "   WHERE month >= ? AND month <= ? GROUP BY store_code) fin" \
    "   ON fin.store_code = s.store_code"

#define ABSORPTION(FROM) SQL_WITH_FINANCIALS("COALESCE(v.gross_profit, 0)", "COALESCE(fin.fixed_expenses, 0)", FROM)
#define PERSONNEL_COST_RATIO(FROM) SQL_WITH_FINANCIALS("COALESCE(fin.personnel_cost, 0)", "COALESCE(v.revenue, 0)", FROM)
static const kc_days_sql SQL_ABSORPTION = KC_RO_DAYS_SQL(ABSORPTION, KC_SQL_DAY_GROSS_PROFIT_COLS);
static const kc_days_sql SQL_PERSONNEL_COST_RATIO = KC_RO_DAYS_SQL(PERSONNEL_COST_RATIO, KC_SQL_DAY_GROSS_PROFIT_COLS);

static int compute_with_financials(fsp_call *call, const fsp_kpi_args *args, const kc_days_sql *sql)
{
    char first_month[8], last_month[8];
    snprintf(first_month, sizeof first_month, "%.7s", args->from);
    snprintf(last_month, sizeof last_month, "%.7s", args->to);
    int months = kc_months_meeting(args->from, args->to);
    if (months <= 0) {
        kc_api->fail(call, "invalid period: from and to must be YYYY-MM-DD with from <= to");
        return -1;
    }
    const char *first = first_month, *last = last_month;
    kc_days d;
    kc_days_of(args, &d);
    fsp_param params[] = { FSP_P_INT(months), KC_DAYS_PARAMS(d), FSP_P_TEXT(first), FSP_P_TEXT(last) };
    return kc_query_emit(call, args, kc_days_sql_of(&d, sql), params, KC_COUNT(params));
}

static int compute_absorption(fsp_call *call, const fsp_kpi_args *args)
{
    return compute_with_financials(call, args, &SQL_ABSORPTION);
}

static int compute_personnel_cost_ratio(fsp_call *call, const fsp_kpi_args *args)
{
    return compute_with_financials(call, args, &SQL_PERSONNEL_COST_RATIO);
}

/* --- the catalogue --- */

static const fsp_kpi_def service_kpis[] = {
    FSP_KPI(.id = "service.ro_count", .budget = 1, .name_zh = "进厂台次", .name_en = "Repair orders", .unit = "count",
            .direction = FSP_DIR_HIGHER, .fold = FSP_FOLD_SUM,
            .formula = "Number of closed non-internal repair orders closed in the period.",
            .compute = compute_ro_count),
    FSP_KPI(.id = "service.revenue", .budget = 1, .name_zh = "服务产值", .name_en = "Service revenue", .unit = "CNY",
            .direction = FSP_DIR_HIGHER, .fold = FSP_FOLD_SUM,
            .formula = "Sum of RO revenue (labour + parts + materials + accessories + other - discount) of the "
                       "period's ROs.",
            .compute = compute_revenue),
    FSP_KPI(.id = "service.revenue_per_ro", .name_zh = "单车产值", .name_en = "Revenue per repair order", .unit = "CNY",
            .direction = FSP_DIR_HIGHER, .fold = FSP_FOLD_RATIO,
            .formula = "service.revenue / service.ro_count.",
            .compute = compute_revenue),
    FSP_KPI(.id = "service.gross_profit", .budget = 1, .name_zh = "售后毛利", .name_en = "After-sales gross profit", .unit = "CNY",
            .direction = FSP_DIR_HIGHER, .fold = FSP_FOLD_SUM,
            .formula = "RO revenue minus the cost of parts, materials and accessories of the period's ROs.",
            .compute = compute_gross_profit),
    FSP_KPI(.id = "service.comeback_rate", .name_zh = "返修率", .name_en = "Comeback rate", .unit = "ratio",
            .direction = FSP_DIR_LOWER, .fold = FSP_FOLD_RATIO,
            .formula = "ROs with comeback_of set / ROs.",
            .compute = compute_comeback_rate),
    FSP_KPI(.id = "service.absorption", .name_zh = "售后吸收率", .name_en = "Service absorption", .unit = "ratio",
            .direction = FSP_DIR_HIGHER, FSP_TARGET(1.0), .fold = FSP_FOLD_RATIO,
            .formula = "service.gross_profit / fixed_expenses of the calendar months that overlap the period "
                       "(null for a store missing one of those months).",
            .compute = compute_absorption),
    FSP_KPI(.id = "service.personnel_cost_ratio", .name_zh = "人工成本率", .name_en = "After-sales personnel cost ratio",
            .unit = "ratio", .direction = FSP_DIR_BAND, FSP_BAND(0.10, 0.12), .fold = FSP_FOLD_RATIO,
            .formula = "aftersales_personnel_cost of the calendar months that overlap the period / service.revenue "
                       "(null for a store missing one of those months).",
            .compute = compute_personnel_cost_ratio),
    FSP_KPI(.id = "service.appointment_rate", .name_zh = "预约率", .name_en = "Appointment rate", .unit = "ratio",
            .direction = FSP_DIR_HIGHER, .fold = FSP_FOLD_RATIO,
            .formula = "ROs whose (store, ro_no) appears in an appointment with showed / ROs.",
            .compute = compute_appointment_rate),
    FSP_KPI(.id = "service.followup_rate", .name_zh = "回访率", .name_en = "Follow-up rate", .unit = "ratio",
            .direction = FSP_DIR_HIGHER, .fold = FSP_FOLD_RATIO,
            .formula = "ROs with a reached follow-up call dated from the closing date to service.followup_days (3) "
                       "days after it / ROs.",
            .compute = compute_followup_rate),
    FSP_KPI(.id = "service.complaint_rate", .name_zh = "投诉率", .name_en = "Complaint rate", .unit = "ratio",
            .direction = FSP_DIR_LOWER, .fold = FSP_FOLD_RATIO,
            .formula = "Among the follow-up calls of the period's ROs: calls reached with a complaint / calls reached.",
            .compute = compute_complaint_rate),
    /* budgeted per store and month (the targets import) like service.ro_count */
    FSP_KPI(.id = "service.mech_ro_count", .budget = 1, .name_zh = "机电进厂台次", .name_en = "Mechanical repair orders",
            .unit = "count", .direction = FSP_DIR_HIGHER, .fold = FSP_FOLD_SUM,
            .formula = "ROs of the period whose ro_type is not bodywork.",
            .compute = compute_period_query, .user = &SQL_MECH_RO_COUNT),
    FSP_KPI(.id = "service.body_ro_count", .budget = 1, .name_zh = "钣喷进厂台次", .name_en = "Bodywork repair orders",
            .unit = "count", .direction = FSP_DIR_HIGHER, .fold = FSP_FOLD_SUM,
            .formula = "ROs of the period whose ro_type is bodywork.",
            .compute = compute_period_query, .user = &SQL_BODY_RO_COUNT),
    FSP_KPI(.id = "service.turnaround_hours", .name_zh = "平均在厂时长", .name_en = "Average time in the workshop",
            .unit = "h", .direction = FSP_DIR_LOWER, .fold = FSP_FOLD_RATIO,
            .formula = "Mean over the period's ROs of (closed_at - opened_at) in seconds / 3600, unrounded.",
            .compute = compute_turnaround_hours),
    FSP_KPI(.id = "service.comebacks", .name_zh = "返修台次", .name_en = "Comebacks", .unit = "count",
            .direction = FSP_DIR_LOWER, .fold = FSP_FOLD_SUM,
            .formula = "ROs of the period with comeback_of set (the numerator of service.comeback_rate).",
            .compute = compute_period_query, .user = &SQL_COMEBACKS),
    FSP_KPI(.id = "service.complaints", .name_zh = "投诉数", .name_en = "Complaints", .unit = "count",
            .direction = FSP_DIR_LOWER, .fold = FSP_FOLD_SUM,
            .formula = "Follow-up calls reached and with a complaint among the calls of the period's ROs (the "
                       "numerator of service.complaint_rate).",
            .compute = compute_period_query, .user = &SQL_COMPLAINTS),
};

/* --- the plugin --- */

static int service_init(fsp_host *host, const fsp_host_api *api)
{
    if (kc_register_all(host, api, service_kpis, KC_COUNT(service_kpis), service_settings,
                        KC_COUNT(service_settings), NULL) != 0)
        return -1;
    return kc_register_lists(host, service_lists, KC_COUNT(service_lists));
}

FSP_PLUGIN(.name = "service", .version = "1.1.0", .init = service_init,
           .description = "After-sales volume and value: ROs (mechanical, bodywork), revenue, gross profit, comebacks, absorption, "
                          "follow-up, time in the workshop");
