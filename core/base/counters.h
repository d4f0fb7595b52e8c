/* counters: the process's event counters (imports, scorecard runs, budget
 * stops, plugin refusals, the KPI cache, failed logins). Any layer counts
 * through metrics_add(), lock-free; core/http/metrics.c serves them on
 * GET /metrics. */
#ifndef FS_COUNTERS_H
#define FS_COUNTERS_H

enum metric {
    METRIC_IMPORT_ROWS,
    METRIC_IMPORT_FILES,
    METRIC_IMPORT_REJECTED,
    METRIC_SCORECARD_RUNS,
    METRIC_SCORECARD_BUDGET_KILLS,
    METRIC_PLUGIN_LOAD_FAILURES,
    METRIC_KPI_CACHE_HITS,
    METRIC_KPI_CACHE_MISSES,
    METRIC_KPI_STORES_RECOMPUTED,
    METRIC_KPI_BATCH_HITS,
    METRIC_LOGIN_FAILURES,
    METRIC_NOTIFY_SENT,
    METRIC_NOTIFY_FAILED,
    METRIC_NOTIFY_ATTEMPT_FAILURES,
    METRIC_ALERTS_OPENED,
    METRIC_ALERTS_CLOSED,
    METRIC__COUNT
};

/* Count n events (thread-safe, lock-free). */
void metrics_add(enum metric m, long long n);
long long metrics_get(enum metric m);
/* Its exposition name, help text and type ("counter"). */
void metrics_counter_info(enum metric m, const char **name, const char **help, const char **type);
#endif
