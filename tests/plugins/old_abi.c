/* old_abi: a KPI plugin as written for an earlier minor of the ABI, built by
 * tests/unit/test_settings.c against that minor's header, a frozen copy of
 * fourscore/plugin.h as released:
 *     cc -shared -fPIC -I tests/plugins/abi-1.0 old_abi.c     ABI 1.0, host API 1
 *     cc -shared -fPIC -I tests/plugins/abi-1.1 old_abi.c     ABI 1.1, host API 2
 *     cc -shared -fPIC -I tests/plugins/abi-1.3 old_abi.c     ABI 1.3, host API 3 (before lists)
 *     cc -shared -fPIC -I tests/plugins/abi-1.4 old_abi.c     ABI 1.4, host API 4 (lists before page keys)
 * It registers no setting (the call did not exist then) and reads one that a
 * plugin of this server registers, service.followup_days, giving -1 as its
 * own default: the host must load it and hand compute the value in force.
 * Its one KPI, old_abi_1_<minor>.followup_days, emits that value for every
 * store (a sum, so each store's value is the setting). The 1.1 build also
 * calls data_generation (host API 2), and fails the call when it says 0.
 * The 1.4 build also registers a list, old_abi_1_4.stores, whose definition
 * ends before the page keys of ABI 1.5: the host must take it and page it
 * through its sql alone. */
#include <fourscore/plugin.h>

#if FSP_ABI_MINOR == 0
#define OLD_NAME "old_abi_1_0"
#elif FSP_ABI_MINOR == 1
#define OLD_NAME "old_abi_1_1"
#elif FSP_ABI_MINOR == 3
#define OLD_NAME "old_abi_1_3"
#elif FSP_ABI_MINOR == 4
#define OLD_NAME "old_abi_1_4"
#else
#error "build old_abi.c against tests/plugins/abi-1.0, abi-1.1, abi-1.3 or abi-1.4"
#endif

static const fsp_host_api *api;

static const char SQL_STORES[] = "SELECT store_code FROM stores";

static int followup_days(fsp_call *call, const fsp_kpi_args *args)
{
    (void)args;
#if FSP_ABI_MINOR >= 1
    if (api->version < 2 || api->data_generation(call) == 0) {
        api->fail(call, "data_generation is missing or 0");
        return -1;
    }
#endif
    double days = api->setting(call, "service.followup_days", -1);
    fsp_result *res;
    if (api->query(call, SQL_STORES, NULL, 0, &res) != 0) return -1;
    int rc = 0;
    for (int i = 0; i < api->result_rows(res) && rc == 0; i++)
        rc = api->emit(call, api->result_text(res, i, 0), NULL, days, 1, 1);
    api->result_free(res);
    return rc;
}

/* Written as a plugin of that time was: positional, every field given. */
static const fsp_kpi_def kpi = {
    sizeof(fsp_kpi_def), OLD_NAME ".followup_days", "回访天数", "Follow-up days", "days",
    FSP_DIR_NONE, FSP_TARGET_NONE, 0, 0, "service.followup_days in force, per store",
    FSP_BY_DEFAULT, FSP_FOLD_SUM, followup_days, 0,
#if FSP_ABI_MINOR >= 3
    0,                                                  /* budget (ABI 1.3) */
#endif
};

#if FSP_ABI_MINOR >= 4
static const fsp_list_column list_columns[] = {
    FSP_COLUMN(.key = "store", .name_zh = "门店", .name_en = "Store", .type = FSP_COL_TEXT),
};
static const char *const list_sort[] = { "store" };
static const fsp_list_def list = FSP_LIST(
    .id = OLD_NAME ".stores", .name_zh = "门店", .name_en = "Stores", .as_of = 1, .columns = list_columns,
    .ncolumns = 1, .default_sort = list_sort, .ndefault_sort = 1, .sql = "SELECT store_code AS store FROM stores");
#endif

static int old_init(fsp_host *host, const fsp_host_api *a)
{
    if (a->version < FSP_HOST_API_VERSION || a->struct_size < sizeof(fsp_host_api)) return 1;
    api = a;
    int rc = api->register_kpi(host, &kpi);
#if FSP_ABI_MINOR >= 4
    if (rc == 0) rc = api->register_list(host, &list);
#endif
    return rc;
}

static const fsp_plugin_descriptor descriptor = {
    FSP_MAGIC, FSP_ABI_MAJOR, FSP_ABI_MINOR, sizeof(fsp_plugin_descriptor), FSP_BUILD_SIGNATURE,
    OLD_NAME, "1.0.0", "a plugin of an earlier ABI minor, without settings", old_init, 0,
};

FSP_EXPORT const fsp_plugin_descriptor *fourscore_plugin_v1(void) { return &descriptor; }
