/* kpi_targets: the per-store monthly budgets (the `targets` entity,
 * docs/import.md) in a KPI answer, for `targets=1` (docs/api.md). The sum,
 * over a row's stores and the calendar months meeting the row's period, of
 * each month's target x (days of that month inside the period / days of
 * that month); null when any (store, month) of the row has none. kpi.c
 * describes the rows of its answer and calls here once for its budgetable ids. */
#ifndef FS_KPI_TARGETS_H
#define FS_KPI_TARGETS_H
#include <stdbool.h>
#include "db.h"

typedef struct kpi_target_rows {
    int fy, fm, fd, ty, tm, td;     /* the request's period [from, to] (valid dates, from <= to) */
    const char *const *stores;      /* the codes of the stores in scope, in byte order (strcmp) */
    int nstores;
    int nrows;
    const int *row_of_store;        /* per store its row (by=store, by=region); NULL: every row covers every store */
    bool monthly;                   /* by=month: row r is the r-th month of the period, clipped to it */
    unsigned long long generation;  /* > 0: the budgets generation in force (generation.h, moved by
                                       imports of targets alone); a read of the same months and ids
                                       is then shared by every answer while it holds (the queries of
                                       a batch, the pages after an import of repair orders) */
} kpi_target_rows;

/* The targets of KPI id for each row: out[r], is_null[r] (nrows each). Reads
 * the targets of the period's months on c. Returns 0, or -1 with err
 * (database failure, out of memory). */
int kpi_targets_sum(db_conn *c, const char *id, const kpi_target_rows *rows, double *out, bool *is_null,
                    char *err, size_t errlen);
/* The same for nids ids in one read (a statement per 16 ids): out and
 * is_null hold nids x nrows, id k's rows from k x nrows. */
int kpi_targets_sum_ids(db_conn *c, const char *const *ids, int nids, const kpi_target_rows *rows, double *out,
                        bool *is_null, char *err, size_t errlen);
/* The targets of a request's ids over [from, to] ("YYYY-MM-DD", valid,
 * from <= to; rows' dates are filled from them): those with budget[k] read
 * together as above, the others null in every row. out and is_null hold
 * nids x nrows as above. 0, or -1 with err. */
int kpi_targets_fill(db_conn *c, const char *from, const char *to, const char *const *ids, const bool *budget, int nids,
                     kpi_target_rows *rows, double *out, bool *is_null, char *err, size_t errlen);

#endif
