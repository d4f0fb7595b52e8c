/* benchmarks: the group value and the quartiles of the store values of KPIs
 * over every store of the group, whatever the caller's scope, naming no
 * store (docs/api.md "benchmarks"; what an aggregate can reveal:
 * docs/security.md). Computed through the KPI engine (kpi.h) with the
 * engine's all-store principal, by store and by group, the quartiles here.
 * Part of core/engine/; plain C values in and out. */
#ifndef FS_BENCHMARKS_H
#define FS_BENCHMARKS_H
#include <stdbool.h>
#include <stddef.h>
#include <cJSON.h>
#include "auth.h"

struct app;

/* Fewer stores with a value than this: every value but the count is null. */
#define BENCHMARK_MIN_STORES 5

/* The percentile p (0..1) of v (n values sorted ascending): h = (n - 1)·p,
 * linear between the values at floor(h) and ceil(h) (PERCENTILE.INC). */
double benchmark_percentile(const double *v, int n, double p);

/* {"from","to","values":{id:{"stores","group","p25","median","p75"}}} for
 * who. NULL with *status and err: 403 when the setting benchmarks.shared is
 * 0 and who is not an admin (benchmarks_off), 400 naming the parameter
 * (ids, from, to, or an id that has no by=store), 503 when the database
 * fails, 500 otherwise. */
cJSON *benchmarks_json(struct app *a, const principal *who, const char *const *ids, int nids, const char *from,
                       const char *to, int *status, char *err, size_t errlen);
#endif
