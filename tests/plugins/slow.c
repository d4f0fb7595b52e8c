/* slow: a test plugin whose KPIs take longer than any sane KPI statement
 * time limit (tests/integration/timeout.test.mjs):
 *   slow.server_stops  a SLEEP that MariaDB's max_statement_time ends;
 *   slow.unstoppable   the same with max_statement_time lifted for the
 *                      statement (SET STATEMENT), as a plan that never
 *                      checks for being killed would behave: only the
 *                      server's watchdog can end it;
 *   slow.three_seconds a legitimately long query (3 s) on a database that
 *                      answers: longer than the bound on a silent database
 *                      (FOURSCORE_DB_TIMEOUT) the test sets, so it shows
 *                      that bound never cuts a working statement. */
#include <fourscore/plugin.h>

static const fsp_host_api *api;

static const char SQL_SERVER_STOPS[] = "SELECT SLEEP(20), 1";
static const char SQL_UNSTOPPABLE[] = "SET STATEMENT max_statement_time = 0 FOR SELECT SLEEP(20), 1";
static const char SQL_THREE_SECONDS[] = "SELECT SLEEP(3), 1";

enum { SLOW_SERVER_STOPS, SLOW_UNSTOPPABLE, SLOW_THREE_SECONDS };
static const int unstoppable = SLOW_UNSTOPPABLE, three_seconds = SLOW_THREE_SECONDS;

static int slow_compute(fsp_call *call, const fsp_kpi_args *args)
{
    fsp_result *res;
    int kind = args->kpi->user ? *(const int *)args->kpi->user : SLOW_SERVER_STOPS;
    const char *sql = kind == SLOW_UNSTOPPABLE ? SQL_UNSTOPPABLE
                    : kind == SLOW_THREE_SECONDS ? SQL_THREE_SECONDS : SQL_SERVER_STOPS;
    if (api->query(call, sql, NULL, 0, &res) != 0) return -1;
    api->result_free(res);
    return 0;
}

static const fsp_kpi_def kpis[] = {
    FSP_KPI(.id = "slow.server_stops", .name_zh = "慢查询", .name_en = "Slow query", .unit = "count",
            .direction = FSP_DIR_NONE, .formula = "sleeps past the statement time limit",
            .fold = FSP_FOLD_SUM, .compute = slow_compute),
    FSP_KPI(.id = "slow.unstoppable", .name_zh = "停不下的查询", .name_en = "Unstoppable query", .unit = "count",
            .direction = FSP_DIR_NONE, .formula = "sleeps with the server's limit lifted",
            .fold = FSP_FOLD_SUM, .compute = slow_compute, .user = &unstoppable),
    FSP_KPI(.id = "slow.three_seconds", .name_zh = "三秒查询", .name_en = "Three-second query", .unit = "count",
            .direction = FSP_DIR_NONE, .formula = "a long query on a database that answers",
            .fold = FSP_FOLD_SUM, .compute = slow_compute, .user = &three_seconds),
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
