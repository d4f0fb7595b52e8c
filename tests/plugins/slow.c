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
    { sizeof(fsp_kpi_def), "slow.server_stops", "慢查询", "Slow query", "count", FSP_DIR_NONE, FSP_TARGET_NONE, 0, 0,
      "sleeps past the statement time limit", FSP_BY_DEFAULT, FSP_FOLD_SUM, slow_compute, 0 },
    { sizeof(fsp_kpi_def), "slow.unstoppable", "停不下的查询", "Unstoppable query", "count", FSP_DIR_NONE,
      FSP_TARGET_NONE, 0, 0, "sleeps with the server's limit lifted", FSP_BY_DEFAULT, FSP_FOLD_SUM, slow_compute,
      &unstoppable },
    { sizeof(fsp_kpi_def), "slow.three_seconds", "三秒查询", "Three-second query", "count", FSP_DIR_NONE,
      FSP_TARGET_NONE, 0, 0, "a long query on a database that answers", FSP_BY_DEFAULT, FSP_FOLD_SUM, slow_compute,
      &three_seconds },
};

static int slow_init(fsp_host *host, const fsp_host_api *a)
{
    api = a;
    for (unsigned i = 0; i < sizeof kpis / sizeof kpis[0]; i++)
        if (api->register_kpi(host, &kpis[i]) != 0) return 1;
    return 0;
}

static const fsp_plugin_descriptor slow_descriptor = {
    FSP_MAGIC, FSP_ABI_MAJOR, FSP_ABI_MINOR, sizeof(fsp_plugin_descriptor), FSP_BUILD_SIGNATURE,
    "slow", "1.0.0", "test plugin: KPIs slower than the statement time limit", slow_init, 0,
};

FSP_EXPORT const fsp_plugin_descriptor *fourscore_plugin_v1(void) { return &slow_descriptor; }
