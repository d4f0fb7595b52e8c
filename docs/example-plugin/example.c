/* example: a complete KPI plugin built out of tree with nothing but
 * fourscore/plugin.h (docs/plugins.md walks through it):
 *
 *     cc -std=c11 -shared -fPIC -I core/include -o example.so docs/example-plugin/example.c
 *
 * It provides one KPI, example.ro_per_day (日均进厂台次): repair orders per
 * store and open day, from the per-store, per-day rollup, and the one
 * setting it reads, example.open_days_per_week (7 unless an admin changes
 * it). Its numerator is the ROs of a store in the period, its denominator
 * the open days of the period (days x open days per week / 7), so the
 * engine's folding gives a store its own daily average and a region or the
 * group the average per store and day.
 *
 * And one list (ABI 1.4), example.ro_customers (工单车辆客户): the period's
 * closed repair orders with the customer who bought the vehicle, whose
 * record may be at another store than the RO (customer_store), the phone
 * from it, and the sale amount as a money column. The plugin gives only
 * the SELECT and its parameters; the engine adds the scope, the order,
 * paging, the total and sums, masking and export. */
#include <fourscore/plugin.h>

static const fsp_host_api *api;     /* kept from init; lives until fini */
static fsp_host *host;

/* The setting: registered in init, read in compute (it may change at any time). */
static const fsp_setting_def open_days_per_week = FSP_SETTING(
    .name = "example.open_days_per_week",
    .name_zh = "每周营业天数",
    .name_en = "Open days per week",
    .unit = "days",
    .default_value = 7, .min = 1, .max = 7);

/* One row per store: its closed, non-internal ROs in [from, to]. Stores with
 * none get a 0 row too (LEFT JOIN), so their average is 0, not missing. */
static const char SQL_RO_COUNT[] =
    "SELECT s.store_code, COALESCE(SUM(d.ro_count), 0)"
    " FROM stores s LEFT JOIN rollup_ro_day d"
    "  ON d.store_code = s.store_code AND d.day BETWEEN ? AND ?"
    " GROUP BY s.store_code";

static int ro_per_day(fsp_call *call, const fsp_kpi_args *args)
{
    /* whole, 1 to 7: the host refuses any other value when it is set */
    double open_days = api->setting(call, open_days_per_week.name, open_days_per_week.default_value);
    fsp_param params[2] = { FSP_P_TEXT(args->from), FSP_P_TEXT(args->to) };
    fsp_result *res;
    if (api->query(call, SQL_RO_COUNT, params, 2, &res) != 0) return -1;
    for (int i = 0; i < api->result_rows(res); i++) {
        double ros = api->result_number(res, i, 1, NULL);
        if (api->emit(call, api->result_text(res, i, 0), NULL, ros, args->days * open_days / 7, 1) != 0) {
            api->result_free(res);
            return -1;
        }
    }
    api->result_free(res);
    return 0;
}

static const fsp_kpi_def ro_per_day_kpi = FSP_KPI(
    .id = "example.ro_per_day",
    .name_zh = "日均进厂台次",
    .name_en = "Repair orders per day",
    .unit = "count",
    .direction = FSP_DIR_HIGHER,
    FSP_TARGET(20),
    .formula = "closed non-internal ROs of the period / open days of the period "
               "(days x example.open_days_per_week / 7), per store",
    .by = FSP_BY_DEFAULT,
    .fold = FSP_FOLD_RATIO,
    .compute = ro_per_day);

/* The list: one SELECT whose columns are the list's keys, in order; "store"
 * first, "customer_store" second (it has customer columns). Placeholders:
 * from, to (bound by ro_customers_bind). */
static const char SQL_RO_CUSTOMERS[] =
    "SELECT r.store_code AS store, sa.store_code AS customer_store, r.ro_no, r.vin,"
    " sa.customer_code, cu.name AS customer_name, cu.phone, DATE(r.closed_at) AS closed_on, sa.sale_amount"
    " FROM repair_orders r"
    " JOIN vehicle_sales sa ON sa.vin = r.vin"
    " LEFT JOIN customers cu ON cu.store_code = sa.store_code AND cu.customer_code = sa.customer_code"
    " WHERE r.closed_at >= ? AND r.closed_at < CAST(? AS DATE) + INTERVAL 1 DAY AND r.ro_type <> 'internal'";

static int ro_customers_bind(fsp_call *call, const fsp_list_args *args, fsp_param *params, int max)
{
    (void)call;
    if (max < 2) return -1;
    params[0] = FSP_P_TEXT(args->from);
    params[1] = FSP_P_TEXT(args->to);
    return 2;
}

static const fsp_list_column ro_customer_columns[] = {
    FSP_COLUMN(.key = "store", .name_zh = "门店", .name_en = "Store"),
    FSP_COLUMN(.key = "customer_store", .name_zh = "客户所属门店", .name_en = "Customer's store"),
    FSP_COLUMN(.key = "ro_no", .name_zh = "工单号", .name_en = "RO"),
    FSP_COLUMN(.key = "vin", .name_zh = "车架号", .name_en = "VIN"),
    FSP_COLUMN(.key = "customer_code", .name_zh = "客户编号", .name_en = "Customer code"),
    FSP_COLUMN(.key = "customer_name", .name_zh = "客户姓名", .name_en = "Customer name", .flags = FSP_COL_PERSONAL),
    FSP_COLUMN(.key = "phone", .name_zh = "电话", .name_en = "Phone", .flags = FSP_COL_PHONE),
    FSP_COLUMN(.key = "closed_on", .name_zh = "结算日期", .name_en = "Closed on", .type = FSP_COL_DATE),
    FSP_COLUMN(.key = "sale_amount", .name_zh = "购车金额", .name_en = "Sale amount", .unit = "CNY",
               .type = FSP_COL_NUMBER, .flags = FSP_COL_MONEY),
};
/* store and ro_no identify a row: together they order the rows totally */
static const char *const ro_customer_sort[] = { "store", "-closed_on", "ro_no" };

static const fsp_list_def ro_customers_list = FSP_LIST(
    .id = "example.ro_customers",
    .name_zh = "工单车辆客户",
    .name_en = "Repair-order customers",
    .as_of = 0,                                  /* of a period: from and to */
    .explains_as = FSP_EXPLAINS_NONE,
    .columns = ro_customer_columns, .ncolumns = sizeof ro_customer_columns / sizeof ro_customer_columns[0],
    .default_sort = ro_customer_sort, .ndefault_sort = sizeof ro_customer_sort / sizeof ro_customer_sort[0],
    .sql = SQL_RO_CUSTOMERS,
    .bind = ro_customers_bind);

static int example_init(fsp_host *h, const fsp_host_api *a)
{
    if (a->version < 3 || a->struct_size < sizeof(fsp_host_api)) return 1;   /* needs host API 3 (settings) */
    host = h;
    api = a;
    api->log(host, FSP_LOG_INFO, "example plugin ready");
    if (api->register_setting(host, &open_days_per_week) != 0) return 1;
    if (api->register_kpi(host, &ro_per_day_kpi) != 0) return 1;
    /* lists came with host API 4 (ABI 1.4): an older host has none */
    if (a->version >= 4 && api->register_list(host, &ro_customers_list) != 0) return 1;
    return 0;
}

static void example_fini(void)
{
    api = NULL;
    host = NULL;
}

FSP_PLUGIN(.name = "example", .version = "1.2.0",
           .description = "an out-of-tree example: repair orders per store and open day, and their customers",
           .init = example_init, .fini = example_fini);
