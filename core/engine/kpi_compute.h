/* kpi_compute: computing the components of a KPI query (kpi_compute.c) for
 * the KPI engine (kpi.c, its one user): a query's connection taken only
 * when it is needed, the components of one (KPI, period) from the cache or
 * computed once for every caller, and a cold query's missing components
 * computed in parallel within its share of the pool; after an import that
 * named the stores it changed, only those stores. */
#ifndef FS_KPI_COMPUTE_H
#define FS_KPI_COMPUTE_H
#include <stdbool.h>
#include <stddef.h>
#include "app.h"
#include "kpi_cache.h"
#include "plugins.h"

typedef struct period {
    char key[8];                 /* YYYY-MM for by=month */
    char from[11], to[11];
    int days;
} period;

/* A query's read connection, taken the first time it is asked for
 * (app_acquire_read, with the KPI statement time limit) and released with
 * kpi_conn_drop; pool is where it came from. */
typedef struct kpi_conn {
    app *a;
    db_pool *pool;
    db_conn *c;
    unsigned long long seen;     /* the data generation c saw when taken (a replica may lag the snapshot) */
} kpi_conn;
/* The connection (taken now if need be), or NULL with err (503: the pool
 * stayed busy, or the database does not answer). */
db_conn *kpi_conn_get(kpi_conn *q, char *err, size_t errlen);
void kpi_conn_drop(kpi_conn *q);

/* The components of one KPI over one period, from the cache or computed
 * (identical concurrent misses are computed once: the others wait for it,
 * holding no connection while they wait); a referenced entry the caller
 * releases with kpi_cache_release. need (indexed like snap's stores; NULL:
 * every store): the stores the caller folds, which an entry must hold as
 * they are now; an entry stale for some of them recomputes only the stores
 * changed since it was computed. NULL with *status and err. */
cache_entry *kpi_components_get(app *a, kpi_conn *q, kpi_snapshot *snap, const plugin_kpi *pk, const period *p,
                                bool per_insurer, const bool *need, int *status, char *err, size_t errlen);

/* Compute the components of (pks[k], periods[p]) that the cache lacks and
 * no other request computes: on q's connection and on up to
 * KPI_COMPUTE_THREADS - 1 more, each taken only when the pool keeps a
 * reserve free for other requests (need: as for kpi_components_get). meanwhile(ud), when not NULL, runs on
 * q's connection while the others compute (the caller takes it first).
 * q's connection is released on return: the fold finds the components in
 * the cache, or waits with kpi_components_get for those other requests are
 * computing. 0, or -1 with *status and err: the first computation that
 * failed (or no connection). */
int kpi_compute_missing(app *a, kpi_conn *q, kpi_snapshot *snap, const plugin_kpi **pks, int nids,
                        const period *periods, int nperiods, bool per_insurer, const bool *need,
                        void (*meanwhile)(void *), void *ud, int *status, char *err, size_t errlen);
#endif
