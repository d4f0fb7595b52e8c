/* rollup_asof: keeps the as-of tables of schemas/006_asof.sql current (the
 * per-vehicle retention state and each invoice's settled day) and the
 * receivables at month ends of 016_receivable_month_ends.sql, called from
 * rollup.c's refresh and rebuild. */
#ifndef FS_ROLLUP_ASOF_H
#define FS_ROLLUP_ASOF_H
#include <stddef.h>
#include "db.h"
#include "rollup_scope.h"

/* Refresh steps of rollup.c's table, inside the caller's transaction.
 * After vehicles changed (repair orders, once rollup_vehicle_visit is
 * current; sales): the states of vins and their retention month ends (all
 * of them when vins names none or very many) from the month end of `since`,
 * the earliest fact date the change touched ("": all). After invoices or payments:
 * the touched stores' invoices, then their receivables at month ends from
 * the first the dates touch (every store when none is named). Each returns
 * 0, or -1 with err. */
int rollup_asof_refresh_states(db_conn *c, const char *const *vins, int nvins, const char *since, char *err,
                               size_t errlen);
int rollup_asof_refresh_invoices(db_conn *c, const rollup_touch *touched, int ntouched, char *err, size_t errlen);
/* Rebuild every vehicle's states from the visits and the sales (and the
 * retention month ends that read them), and every invoice's settled day
 * from the invoices and payments (caller's transaction). */
int rollup_asof_rebuild_states(db_conn *c, char *err, size_t errlen);
int rollup_asof_rebuild_invoices(db_conn *c, char *err, size_t errlen);


/* The VINs of the repair orders and sales cut into ranges [lo[i], hi[i])
 * of some thousands each, in order, covering every VIN: the rebuilds of the
 * per-vehicle tables run a statement per range. Returns 0, or -1 with err;
 * free with rollup_vin_ranges_free. */
typedef struct rollup_vin_ranges {
    int n;
    char (*lo)[24], (*hi)[24];
} rollup_vin_ranges;
int rollup_vin_ranges_get(db_conn *c, rollup_vin_ranges *r, char *err, size_t errlen);
void rollup_vin_ranges_free(rollup_vin_ranges *r);
/* VINs per range (20000; tests cut smaller ranges to exercise the cuts). */
void rollup_set_vin_range_size(int vins);

/* The statements by a list of VINs take ROLLUP_VIN_CHUNK of them at a time
 * (a shorter list is padded with its last VIN: a repeat in IN (...) changes
 * nothing). */
#define ROLLUP_VIN_CHUNK 128
/* templ with each '@' made "(?,...,?)" of ROLLUP_VIN_CHUNK placeholders, in
 * malloc'd memory (NULL when out of memory). */
char *rollup_sql_vin_lists(const char *templ);
#endif
