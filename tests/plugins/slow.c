/* slow: a test plugin whose KPIs take longer than any sane KPI statement
 * time limit (tests/integration/timeout.test.mjs):
 *   slow.server_stops  a SLEEP that MariaDB's max_statement_time ends;
 *   slow.unstoppable   the same with max_statement_time lifted for the
 *                      statement (SET STATEMENT), as a plan that never
 *                      checks for being killed would behave: only the
 *                      server's watchdog can end it. */
#include <fourscore/plugin.h>

static const fsp_host_api *api;

static const char SQL_SERVER_STOPS[] = "SELECT SLEEP(20), 1";
static const char SQL_UNSTOPPABLE[] = "SET STATEMENT max_statement_time = 0 FOR SELECT SLEEP(20), 1";

static int slow_compute(fsp_call *call, const fsp_kpi_args *args)
{
    fsp_result *res;
    if (api->query(call, args->kpi->user ? SQL_UNSTOPPABLE : SQL_SERVER_STOPS, NULL, 0, &res) != 0) return -1;
    api->result_free(res);
    return 0;
}

static const int unstoppable = 1;

static const fsp_kpi_def kpis[] = {
    FSP_KPI(.id = "slow.server_stops", .name_zh = "慢查询", .name_en = "Slow query", .unit = "count",
            .direction = FSP_DIR_NONE, .formula = "sleeps past the statement time limit",
            .fold = FSP_FOLD_SUM, .compute = slow_compute),
    FSP_KPI(.id = "slow.unstoppable", .name_zh = "停不下的查询", .name_en = "Unstoppable query", .unit = "count",
            .direction = FSP_DIR_NONE, .formula = "sleeps with the server's limit lifted",
            .fold = FSP_FOLD_SUM, .compute = slow_compute, .user = &unstoppable),
};

static int slow_init(fsp_host *host, const fsp_host_api *a)
{
    api = a;
    for (unsigned i = 0; i < sizeof kpis / sizeof kpis[0]; i++)
        if (api->register_kpi(host, &kpis[i]) != 0) return 1;
    return 0;
}

FSP_PLUGIN(.name = "slow", .version = "1.0.0", .description = "test plugin: KPIs slower than the statement time limit",
           .init = slow_init);
