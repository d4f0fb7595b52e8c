/* counters: the event counters (see counters.h). */
#include <stdatomic.h>
#include "counters.h"

static _Atomic long long counters[METRIC__COUNT];

static const struct { const char *name, *help, *type; } counter_info[METRIC__COUNT] = {
    [METRIC_IMPORT_ROWS] = { "fourscore_import_rows_total", "Rows applied by imports (inserted, updated or unchanged).", "counter" },
    [METRIC_IMPORT_FILES] = { "fourscore_import_files_total", "Files applied by imports.", "counter" },
    [METRIC_IMPORT_REJECTED] = { "fourscore_import_rejected_total", "Import files rejected (nothing written).", "counter" },
    [METRIC_SCORECARD_RUNS] = { "fourscore_scorecard_runs_total", "Scorecard runs.", "counter" },
    [METRIC_SCORECARD_BUDGET_KILLS] = { "fourscore_scorecard_budget_exceeded_total", "Scorecard runs ended by a CPU, memory or time budget.", "counter" },
    [METRIC_PLUGIN_LOAD_FAILURES] = { "fourscore_plugin_load_failures_total", "KPI plugins refused at load.", "counter" },
    [METRIC_KPI_CACHE_HITS] = { "fourscore_kpi_cache_hits_total", "KPI computations answered from the cache.", "counter" },
    [METRIC_KPI_CACHE_MISSES] = { "fourscore_kpi_cache_misses_total", "KPI computations that asked the database.", "counter" },
    [METRIC_KPI_STORES_RECOMPUTED] = { "fourscore_kpi_stores_recomputed_total", "Stores' KPI components recomputed alone, after an import named the stores it changed.", "counter" },
    [METRIC_KPI_BATCH_HITS] = { "fourscore_kpi_batch_hits_total", "KPI batches answered whole from the batches kept, not joined again.", "counter" },
    [METRIC_LOGIN_FAILURES] = { "fourscore_login_failures_total", "Failed logins.", "counter" },
    [METRIC_NOTIFY_SENT] = { "fourscore_notifications_sent_total", "Alert and report notifications delivered (webhook or email).", "counter" },
    [METRIC_NOTIFY_FAILED] = { "fourscore_notifications_failed_total", "Notifications given up after every attempt failed.", "counter" },
    [METRIC_NOTIFY_ATTEMPT_FAILURES] = { "fourscore_notification_attempt_failures_total", "Single delivery attempts that failed (retried or given up).", "counter" },
    [METRIC_ALERTS_OPENED] = { "fourscore_alerts_opened_total", "Alerts opened by this process.", "counter" },
    [METRIC_ALERTS_CLOSED] = { "fourscore_alerts_closed_total", "Alerts closed by this process.", "counter" },
};

void metrics_add(enum metric m, long long n)
{
    if ((int)m >= 0 && m < METRIC__COUNT) atomic_fetch_add_explicit(&counters[m], n, memory_order_relaxed);
}

long long metrics_get(enum metric m)
{
    return ((int)m >= 0 && m < METRIC__COUNT) ? atomic_load_explicit(&counters[m], memory_order_relaxed) : 0;
}

void metrics_counter_info(enum metric m, const char **name, const char **help, const char **type)
{
    if ((int)m < 0 || m >= METRIC__COUNT) m = 0;
    *name = counter_info[m].name;
    *help = counter_info[m].help;
    *type = counter_info[m].type;
}
