/* broken: deliberately broken KPI plugins for tests/unit/test_plugin.c. One
 * source, one variant per -D flag, each wrong in exactly one way the loader
 * must refuse with a message naming what is wrong:
 *   -DBROKEN_MAGIC        descriptor magic is not FSP_MAGIC
 *   -DBROKEN_ABI          abi_major is 99
 *   -DBROKEN_MINOR        abi_minor newer than the host's
 *   -DBROKEN_SIZE         struct_size does not match the descriptor
 *   -DBROKEN_SIGNATURE    signature.size_time_t says 4
 *   -DBROKEN_NO_SYMBOL    does not export fourscore_plugin_v1
 *   -DBROKEN_UNDEFINED    needs a symbol nobody defines (dlopen RTLD_NOW fails)
 *   -DBROKEN_INIT         init returns 1 (after registering a KPI)
 *   -DBROKEN_DUPLICATE    registers example.ro_per_day, which the example plugin owns
 *   -DBROKEN_KPI_SIZE     a KPI definition with a wrong struct_size
 * and, for tests/unit/test_settings.c, in registering a setting:
 *   -DBROKEN_SETTING_RANGE     a default outside [min, max]
 *   -DBROKEN_SETTING_FRACTION  a whole-number setting with a fractional min
 *   -DBROKEN_SETTING_OWNED     service.followup_days, which the service plugin owns
 *   -DBROKEN_SETTING_CORE      benchmarks.shared, which the server owns
 *   -DBROKEN_SETTING_THEN_FAIL a good setting (broken.kept_days), then init returns 1
 *   -DBROKEN_VALIDATE_TWICE    register_validate called twice
 * and in registering a list (ABI 1.4; also tests/unit/test_plugin.c):
 *   -DBROKEN_LIST_STORE        the first column is not "store"
 *   -DBROKEN_LIST_SORT         a default_sort key that is not a column
 *   -DBROKEN_LIST_MONEY        explains_column names a column that is not money
 *   -DBROKEN_LIST_CUSTOMER     a phone column without "customer_store" second
 *   -DBROKEN_LIST_DUPLICATE    example.ro_customers, which the example plugin owns
 *   -DBROKEN_LIST_KEYS         page keys (ABI 1.5) without a default_sort key
 * Built by the test with: cc -shared -fPIC -I core/include -DBROKEN_X broken.c */
#include <fourscore/plugin.h>

static int compute_nothing(fsp_call *call, const fsp_kpi_args *args)
{
    (void)call;
    (void)args;
    return 0;
}

#ifdef BROKEN_DUPLICATE
#define KPI_ID "example.ro_per_day"
#else
#define KPI_ID "broken.value"
#endif

static const fsp_kpi_def broken_kpi = {
#ifdef BROKEN_KPI_SIZE
    sizeof(fsp_kpi_def) + 8,
#else
    sizeof(fsp_kpi_def),
#endif
    KPI_ID, "坏", "Broken", "count", FSP_DIR_NONE, FSP_TARGET_NONE, 0, 0,
    "nothing", FSP_BY_DEFAULT, FSP_FOLD_SUM, compute_nothing, 0, 0,
};

#ifdef BROKEN_UNDEFINED
extern int fourscore_no_such_function(void);
#endif

#define BROKEN_SETTING(...) \
    static const fsp_setting_def broken_setting = FSP_SETTING(.name_zh = "坏", .name_en = "Broken", __VA_ARGS__);
#if defined(BROKEN_SETTING_RANGE)
BROKEN_SETTING(.name = "broken.days", .default_value = 9, .min = 0, .max = 5)
#elif defined(BROKEN_SETTING_FRACTION)
BROKEN_SETTING(.name = "broken.days", .default_value = 1, .min = 0.5, .max = 2)
#elif defined(BROKEN_SETTING_OWNED)
BROKEN_SETTING(.name = "service.followup_days", .default_value = 3, .min = 0, .max = 365)
#elif defined(BROKEN_SETTING_CORE)
BROKEN_SETTING(.name = "benchmarks.shared", .default_value = 1, .min = 0, .max = 1)
#elif defined(BROKEN_SETTING_THEN_FAIL)
BROKEN_SETTING(.name = "broken.kept_days", .default_value = 1, .min = 0, .max = 2)
#endif

#ifdef BROKEN_VALIDATE_TWICE
static int validate_nothing(const fsp_setting_values *values, char *message, size_t message_len)
{
    (void)values;
    (void)message;
    (void)message_len;
    return 0;
}
#endif

#if defined(BROKEN_LIST_STORE) || defined(BROKEN_LIST_SORT) || defined(BROKEN_LIST_MONEY) || \
    defined(BROKEN_LIST_CUSTOMER) || defined(BROKEN_LIST_DUPLICATE) || defined(BROKEN_LIST_KEYS)
#define BROKEN_LIST 1
static const fsp_list_column broken_columns[] = {
#ifdef BROKEN_LIST_STORE
    FSP_COLUMN(.key = "shop", .name_zh = "门店", .name_en = "Store"),
#else
    FSP_COLUMN(.key = "store", .name_zh = "门店", .name_en = "Store"),
#endif
    FSP_COLUMN(.key = "amount", .name_zh = "金额", .name_en = "Amount", .type = FSP_COL_NUMBER),
#ifdef BROKEN_LIST_KEYS
    FSP_COLUMN(.key = "row", .name_zh = "行", .name_en = "Row"),
#endif
#ifdef BROKEN_LIST_CUSTOMER
    FSP_COLUMN(.key = "phone", .name_zh = "电话", .name_en = "Phone", .flags = FSP_COL_PHONE),
#endif
};
#ifdef BROKEN_LIST_SORT
static const char *const broken_sort[] = { "store", "-when" };
#elif defined(BROKEN_LIST_KEYS)
static const char *const broken_sort[] = { "store", "-amount" };
static const char *const broken_keys[] = { "store", "row" };
#else
static const char *const broken_sort[] = { "store" };
#endif
#ifdef BROKEN_LIST_DUPLICATE
#define LIST_ID "example.ro_customers"
#else
#define LIST_ID "broken.rows"
#endif
static const fsp_list_def broken_list = FSP_LIST(
    .id = LIST_ID, .name_zh = "坏", .name_en = "Broken", .as_of = 1,
#ifdef BROKEN_LIST_MONEY
    .explains_as = FSP_EXPLAINS_SUM, .explains_kpi = "broken.value", .explains_column = "amount",
#endif
    .columns = broken_columns, .ncolumns = sizeof broken_columns / sizeof broken_columns[0],
    .default_sort = broken_sort, .ndefault_sort = sizeof broken_sort / sizeof broken_sort[0],
#ifdef BROKEN_LIST_KEYS
    .keys_sql = "SELECT store_code AS store, store_code AS row FROM stores", .keys = broken_keys, .nkeys = 2,
#endif
    .sql = "SELECT store_code AS store, 1 AS amount FROM stores");
#endif

static int broken_init(fsp_host *host, const fsp_host_api *api)
{
#ifdef BROKEN_UNDEFINED
    if (fourscore_no_such_function()) return 1;
#endif
    int rc = api->register_kpi(host, &broken_kpi);
#if defined(BROKEN_SETTING_RANGE) || defined(BROKEN_SETTING_FRACTION) || defined(BROKEN_SETTING_OWNED) || \
    defined(BROKEN_SETTING_CORE) || defined(BROKEN_SETTING_THEN_FAIL)
    if (rc == 0) rc = api->register_setting(host, &broken_setting);
#endif
#ifdef BROKEN_LIST
    if (rc == 0) rc = api->register_list(host, &broken_list);
#endif
#ifdef BROKEN_VALIDATE_TWICE
    if (rc == 0) rc = api->register_validate(host, validate_nothing);
    if (rc == 0) rc = api->register_validate(host, validate_nothing);
#endif
#if defined(BROKEN_INIT) || defined(BROKEN_SETTING_THEN_FAIL)
    (void)rc;
    return 1;
#else
    return rc;
#endif
}

static const fsp_plugin_descriptor broken_descriptor = {
#ifdef BROKEN_MAGIC
    0x12345678u,
#else
    FSP_MAGIC,
#endif
#ifdef BROKEN_ABI
    99,
#else
    FSP_ABI_MAJOR,
#endif
#ifdef BROKEN_MINOR
    FSP_ABI_MINOR + 1,
#else
    FSP_ABI_MINOR,
#endif
#ifdef BROKEN_SIZE
    sizeof(fsp_plugin_descriptor) + 16,
#else
    sizeof(fsp_plugin_descriptor),
#endif
#ifdef BROKEN_SIGNATURE
    { sizeof(void *), 4, sizeof(long), sizeof(double), sizeof(size_t), sizeof(int), 0x0102 },
#else
    FSP_BUILD_SIGNATURE,
#endif
    "broken", "0.0.1", "a deliberately broken plugin", broken_init, 0,
};

#ifdef BROKEN_NO_SYMBOL
FSP_EXPORT const fsp_plugin_descriptor *fourscore_plugin_v0(void) { return &broken_descriptor; }
#else
FSP_EXPORT const fsp_plugin_descriptor *fourscore_plugin_v1(void) { return &broken_descriptor; }
#endif
