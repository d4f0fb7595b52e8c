/* parts: the parts (配件) KPIs of docs/kpis.md "parts": flow figures over the
 * ro_parts lines of the period's closed non-internal ROs (revenue, margin,
 * fill rate, bodywork materials, accessories) and stock figures as of `to`
 * (a store's latest parts_stock snapshot on or before `to`: stock value,
 * slow-moving and obsolete shares, turnover). A store with no snapshot on or
 * before `to` is emitted invalid: null, and left out of its region and group.
 * Reads the rollups: rollup_ro_month, rollup_ro_day, rollup_stock,
 * rollup_stock_age. The list parts.slow_moving shows the parts behind
 * parts.slow_moving_share, from parts_stock with the same snapshot choice
 * and the same idle age. */
#include <fourscore/plugin.h>
#include "../kpi_common.h"

/* --- settings --- */

enum { SLOW_MOVING_DAYS, OBSOLETE_DAYS };
static const fsp_setting_def parts_settings[] = {
    [SLOW_MOVING_DAYS] = FSP_SETTING(.name = "parts.slow_moving_days", .name_zh = "滞销判定（天）",
                                     .name_en = "Slow-moving after (days)", .unit = "days",
                                     .default_value = 180, .min = 0, .max = 36500),
    [OBSOLETE_DAYS] = FSP_SETTING(.name = "parts.obsolete_days", .name_zh = "呆滞判定（天）",
                                  .name_en = "Obsolete after (days)", .unit = "days",
                                  .default_value = 365, .min = 0, .max = 36500),
};

/* --- flow: lines of the period's ROs --- */

/* From the per store and month (whole months) or day sums over the closed
 * non-internal ROs and their lines (KC_RO_SUMS_SQL). */

static const kc_days_sql SQL_PART_REVENUE = KC_RO_SUMS_SQL("parts_revenue", "parts_revenue", "1");
static const kc_days_sql SQL_GROSS_MARGIN = KC_RO_SUMS_SQL("parts_revenue, parts_cost", "parts_revenue - parts_cost", "SUM(parts_revenue)");
/* An empty from_stock counts as from stock (the rollup counts it so). */
static const kc_days_sql SQL_FILL_RATE = KC_RO_SUMS_SQL("part_lines_from_stock, part_lines", "part_lines_from_stock", "SUM(part_lines)");
static const kc_days_sql SQL_ACCESSORY_REVENUE = KC_RO_SUMS_SQL("accessory_revenue", "accessory_revenue", "1");
static const kc_days_sql SQL_ACCESSORY_MARGIN =
    KC_RO_SUMS_SQL("accessory_revenue, accessory_cost", "accessory_revenue - accessory_cost",
                   "SUM(accessory_revenue)");
/* Material cost of bodywork ROs / RO revenue of those ROs. */
static const kc_days_sql SQL_MATERIALS_COST_RATIO = KC_RO_SUMS_SQL("bodywork_material_cost, bodywork_revenue", "bodywork_material_cost",
                                                             "SUM(bodywork_revenue)");

static int compute_period_query(fsp_call *call, const fsp_kpi_args *args)
{
    return kc_query_days_emit(call, args, args->kpi->user);
}

/* --- stock as of `to` --- */

/* CTE `snap`: every store with the date of its latest snapshot on or before
 * `to` (NULL when it has none), from the snapshot totals (rollup_stock). The
 * dates come from one grouped pass (a derived table, computed once): as a
 * subquery per store, MariaDB evaluated it again for every joined row.
 * Placeholder: to. */
#define SQL_SNAPSHOT_AS_OF \
    "snap AS (SELECT s.store_code, l.snapshot_on FROM stores s" \
    " LEFT JOIN (SELECT store_code, MAX(snapshot_on) AS snapshot_on FROM rollup_stock" \
    "   WHERE snapshot_on <= CAST(? AS DATE) GROUP BY store_code) l ON l.store_code = s.store_code)"

static const char SQL_STOCK_VALUE[] =
    "WITH " SQL_SNAPSHOT_AS_OF
    " SELECT snap.store_code, NULL, COALESCE(k.stock_value, 0), 1, snap.snapshot_on IS NOT NULL"
    " FROM snap LEFT JOIN rollup_stock k"
    "   ON k.store_code = snap.store_code AND k.snapshot_on = snap.snapshot_on";

/* Stock value of parts whose last issue (else last receipt; neither: always)
 * is more than ? days before the snapshot date / stock value. rollup_stock_age
 * holds the snapshot's value by age in days (never issued nor received: a
 * huge age). Placeholders: to, days. */
static const char SQL_AGED_SHARE[] =
    "WITH " SQL_SNAPSHOT_AS_OF
    " SELECT snap.store_code, NULL,"
    " COALESCE(SUM(CASE WHEN k.age_days > ? THEN k.stock_value ELSE 0 END), 0),"
    " COALESCE(SUM(k.stock_value), 0), snap.snapshot_on IS NOT NULL"
    " FROM snap LEFT JOIN rollup_stock_age k"
    "   ON k.store_code = snap.store_code AND k.snapshot_on = snap.snapshot_on"
    " GROUP BY snap.store_code, snap.snapshot_on";

static int compute_stock_value(fsp_call *call, const fsp_kpi_args *args)
{
    fsp_param params[] = { FSP_P_TEXT(args->to) };
    return kc_query_emit(call, args, SQL_STOCK_VALUE, params, KC_COUNT(params));
}

static int compute_aged_share(fsp_call *call, const fsp_kpi_args *args, const fsp_setting_def *setting)
{
    int days;
    if (kc_setting_int(call, setting, &days) != 0)
        return -1;
    fsp_param params[] = { FSP_P_TEXT(args->to), FSP_P_INT(days) };
    return kc_query_emit(call, args, SQL_AGED_SHARE, params, KC_COUNT(params));
}

static int compute_slow_moving_share(fsp_call *call, const fsp_kpi_args *args)
{
    return compute_aged_share(call, args, &parts_settings[SLOW_MOVING_DAYS]);
}

static int compute_obsolete_share(fsp_call *call, const fsp_kpi_args *args)
{
    return compute_aged_share(call, args, &parts_settings[OBSOLETE_DAYS]);
}

/* --- the slow-moving parts, one by one --- */

/* Days a part of a snapshot has been idle: since its last issue, else its
 * last receipt; never issued nor received: a huge age, always slow moving
 * and obsolete (the age rollup_stock_age sums stock value by). */
#define SQL_IDLE_DAYS "COALESCE(DATEDIFF(p.snapshot_on, COALESCE(p.last_issue_on, p.last_receipt_on)), 1000000)"
/* The parts of each store's snapshot as of `to` idle for more than
 * parts.slow_moving_days: the stock value that parts.slow_moving_share
 * divides by parts.stock_value. Placeholders: to, obsolete days, slow-moving
 * days. */
static const char SQL_SLOW_MOVING_LIST[] =
    "WITH " SQL_SNAPSHOT_AS_OF
    " SELECT p.store_code AS store, p.part_no, p.snapshot_on, p.qty_on_hand, p.unit_cost,"
    " p.qty_on_hand * p.unit_cost AS stock_value, p.last_issue_on, p.last_receipt_on,"
    " DATEDIFF(p.snapshot_on, COALESCE(p.last_issue_on, p.last_receipt_on)) AS idle_days,"
    " " SQL_IDLE_DAYS " > ? AS obsolete"
    " FROM snap JOIN parts_stock p ON p.store_code = snap.store_code AND p.snapshot_on = snap.snapshot_on"
    " WHERE " SQL_IDLE_DAYS " > ?";

static int bind_slow_moving_list(fsp_call *call, const fsp_list_args *args, fsp_param *out, int max)
{
    int slow_days, obsolete_days;
    if (kc_setting_int(call, &parts_settings[SLOW_MOVING_DAYS], &slow_days) != 0 ||
        kc_setting_int(call, &parts_settings[OBSOLETE_DAYS], &obsolete_days) != 0)
        return -1;
    fsp_param params[] = { FSP_P_TEXT(args->to), FSP_P_INT(obsolete_days), FSP_P_INT(slow_days) };
    return kc_bind_params(call, params, KC_COUNT(params), out, max);
}

static const fsp_list_column slow_moving_columns[] = {
    KC_COL_STORE,
    FSP_COLUMN(.key = "part_no", .name_zh = "配件号", .name_en = "Part", .type = FSP_COL_TEXT),
    FSP_COLUMN(.key = "snapshot_on", .name_zh = "盘点日期", .name_en = "Snapshot on", .type = FSP_COL_DATE),
    FSP_COLUMN(.key = "qty_on_hand", .name_zh = "库存数量", .name_en = "On hand", .type = FSP_COL_NUMBER),
    FSP_COLUMN(.key = "unit_cost", .name_zh = "单位成本", .name_en = "Unit cost", .unit = "CNY", .type = FSP_COL_NUMBER),
    FSP_COLUMN(.key = "stock_value", .name_zh = "库存金额", .name_en = "Stock value", .unit = "CNY",
               .type = FSP_COL_NUMBER, .flags = FSP_COL_MONEY),
    FSP_COLUMN(.key = "last_issue_on", .name_zh = "最近出库日期", .name_en = "Last issue", .type = FSP_COL_DATE),
    FSP_COLUMN(.key = "last_receipt_on", .name_zh = "最近入库日期", .name_en = "Last receipt", .type = FSP_COL_DATE),
    FSP_COLUMN(.key = "idle_days", .name_zh = "呆滞天数", .name_en = "Idle days", .unit = "days", .type = FSP_COL_INT),
    FSP_COLUMN(.key = "obsolete", .name_zh = "呆滞", .name_en = "Obsolete", .type = FSP_COL_BOOL),
};
/* (store, part_no) is a key of a snapshot. */
static const char *const slow_moving_sort[] = { "store", "-stock_value", "part_no" };

static const fsp_list_def parts_lists[] = {
    FSP_LIST(.id = "parts.slow_moving", .name_zh = "滞销库存", .name_en = "Slow-moving stock", .as_of = 1,
             .explains_as = FSP_EXPLAINS_SHARE, .explains_kpi = "parts.slow_moving_share",
             .explains_column = "stock_value", .explains_of = "parts.stock_value",
             .columns = slow_moving_columns, .ncolumns = KC_COUNT(slow_moving_columns),
             .default_sort = slow_moving_sort, .ndefault_sort = KC_COUNT(slow_moving_sort),
             .sql = SQL_SLOW_MOVING_LIST, .bind = bind_slow_moving_list),
};

/* --- turnover --- */

/* Per store: cost of the `part` lines of the period's ROs, and the average
 * stock value: the mean of its snapshot totals dated inside the period, else
 * its snapshot total as of `to` (NULL when it has no snapshot at all).
 * Placeholders: to (as of), the period's six (KC_RO_SUMS_SQL), from, to
 * (inside the period). */
#define TURNOVER_PARTS(FROM) \
    "SELECT s.store_code, COALESCE(c.part_cost, 0)," \
    " COALESCE(inside.average_value," \
    "   (SELECT t.stock_value FROM rollup_stock t WHERE t.store_code = s.store_code" \
    "    AND t.snapshot_on <= CAST(? AS DATE) ORDER BY t.snapshot_on DESC LIMIT 1))" \
    " FROM stores s" \
    " LEFT JOIN (SELECT store_code, SUM(parts_cost) AS part_cost" FROM \
    "   GROUP BY store_code) c" \
    "   ON c.store_code = s.store_code" \
    " LEFT JOIN (SELECT store_code, AVG(stock_value) AS average_value FROM rollup_stock" \
    "   WHERE snapshot_on BETWEEN CAST(? AS DATE) AND CAST(? AS DATE) GROUP BY store_code) inside" \
    "   ON inside.store_code = s.store_code"
static const kc_days_sql SQL_TURNOVER_PARTS = KC_RO_DAYS_SQL(TURNOVER_PARTS, "parts_cost");

/* (part cost x 365 / days in the period) / average stock value. */
static int compute_turnover(fsp_call *call, const fsp_kpi_args *args)
{
    if (args->days <= 0) {
        kc_api->fail(call, "invalid period: from must not be after to");
        return -1;
    }
    kc_days d;
    kc_days_of(args, &d);
    fsp_param params[] = { FSP_P_TEXT(args->to), KC_DAYS_PARAMS(d), KC_PERIOD_PARAMS(args) };
    fsp_result *res = NULL;
    if (kc_api->query(call, kc_days_sql_of(&d, &SQL_TURNOVER_PARTS), params, KC_COUNT(params), &res) != 0)
        return -1;
    int rc = 0;
    int nrows = kc_api->result_rows(res);
    for (int r = 0; r < nrows && rc == 0; r++) {
        const char *store_code = kc_api->result_text(res, r, 0);
        int cost_null = 0, average_null = 0;
        double part_cost = kc_api->result_number(res, r, 1, &cost_null);
        double average_stock = kc_api->result_number(res, r, 2, &average_null);
        if (!store_code)
            continue;
        double annual_cost = cost_null ? 0.0 : part_cost * 365.0 / (double)args->days;
        if (kc_api->emit(call, store_code, NULL, annual_cost, average_null ? 0.0 : average_stock,
                         !average_null) != 0) {
            kc_api->fail(call, "out of memory while emitting KPI components");
            rc = -1;
        }
    }
    kc_api->result_free(res);
    return rc;
}

/* --- the catalogue --- */

static const fsp_kpi_def parts_kpis[] = {
    FSP_KPI(.id = "parts.revenue", .budget = 1, .name_zh = "配件收入", .name_en = "Parts revenue", .unit = "CNY",
            .direction = FSP_DIR_HIGHER, .fold = FSP_FOLD_SUM,
            .formula = "Sum of qty * unit_price of the part lines of the period's ROs.",
            .compute = compute_period_query, .user = &SQL_PART_REVENUE),
    FSP_KPI(.id = "parts.gross_margin", .name_zh = "配件毛利率", .name_en = "Parts gross margin", .unit = "ratio",
            .direction = FSP_DIR_HIGHER, .fold = FSP_FOLD_RATIO,
            .formula = "(revenue - cost) / revenue of the part lines of the period's ROs.",
            .compute = compute_period_query, .user = &SQL_GROSS_MARGIN),
    FSP_KPI(.id = "parts.fill_rate", .name_zh = "一次满足率", .name_en = "First-time fill rate", .unit = "ratio",
            .direction = FSP_DIR_HIGHER, FSP_TARGET(0.90), .fold = FSP_FOLD_RATIO,
            .formula = "Part lines served from stock / part lines of the period's ROs.",
            .compute = compute_period_query, .user = &SQL_FILL_RATE),
    FSP_KPI(.id = "parts.stock_value", .name_zh = "库存金额", .name_en = "Stock value", .unit = "CNY",
            .direction = FSP_DIR_NONE, .fold = FSP_FOLD_SUM,
            .formula = "Sum of qty_on_hand * unit_cost of the store's latest snapshot on or before the period end.",
            .compute = compute_stock_value),
    FSP_KPI(.id = "parts.turnover", .name_zh = "库存周转率", .name_en = "Stock turnover", .unit = "times/yr",
            .direction = FSP_DIR_HIGHER, FSP_TARGET(8), .fold = FSP_FOLD_RATIO,
            .formula = "(Cost of the part lines of the period's ROs x 365 / days in the period) / average stock "
                       "value (mean of the snapshot totals inside the period, else the snapshot as of the period "
                       "end).",
            .compute = compute_turnover),
    FSP_KPI(.id = "parts.slow_moving_share", .name_zh = "滞销库存比例", .name_en = "Slow-moving stock share",
            .unit = "ratio", .direction = FSP_DIR_LOWER, .fold = FSP_FOLD_RATIO,
            .formula = "Stock value of parts last issued (else received; neither: always) more than "
                       "parts.slow_moving_days (180) days before the snapshot date / stock value.",
            .compute = compute_slow_moving_share),
    FSP_KPI(.id = "parts.obsolete_share", .name_zh = "呆滞库存比例", .name_en = "Obsolete stock share",
            .unit = "ratio", .direction = FSP_DIR_LOWER, FSP_TARGET(0.05), .fold = FSP_FOLD_RATIO,
            .formula = "Stock value of parts last issued (else received; neither: always) more than "
                       "parts.obsolete_days (365) days before the snapshot date / stock value.",
            .compute = compute_obsolete_share),
    FSP_KPI(.id = "parts.materials_cost_ratio", .name_zh = "钣喷辅料成本率", .name_en = "Bodywork materials cost ratio",
            .unit = "ratio", .direction = FSP_DIR_BAND, FSP_BAND(0.16, 0.20), .fold = FSP_FOLD_RATIO,
            .formula = "Cost of the material lines of bodywork ROs / RO revenue of those bodywork ROs (about 0.18).",
            .compute = compute_period_query, .user = &SQL_MATERIALS_COST_RATIO),
    FSP_KPI(.id = "parts.accessory_revenue", .budget = 1, .name_zh = "精品收入", .name_en = "Accessory revenue", .unit = "CNY",
            .direction = FSP_DIR_HIGHER, .fold = FSP_FOLD_SUM,
            .formula = "Sum of qty * unit_price of the accessory lines of the period's ROs.",
            .compute = compute_period_query, .user = &SQL_ACCESSORY_REVENUE),
    FSP_KPI(.id = "parts.accessory_margin", .name_zh = "精品毛利率", .name_en = "Accessory gross margin",
            .unit = "ratio", .direction = FSP_DIR_HIGHER, .fold = FSP_FOLD_RATIO,
            .formula = "(revenue - cost) / revenue of the accessory lines of the period's ROs.",
            .compute = compute_period_query, .user = &SQL_ACCESSORY_MARGIN),
};

/* --- the plugin --- */

static int parts_init(fsp_host *host, const fsp_host_api *api)
{
    if (kc_register_all(host, api, parts_kpis, KC_COUNT(parts_kpis), parts_settings, KC_COUNT(parts_settings),
                        NULL) != 0)
        return -1;
    return kc_register_lists(host, parts_lists, KC_COUNT(parts_lists));
}

FSP_PLUGIN(.name = "parts", .version = "1.1.0", .init = parts_init,
           .description = "Parts: revenue, margin, fill rate, stock value and ageing, turnover, materials, accessories and "
                          "their margin");
