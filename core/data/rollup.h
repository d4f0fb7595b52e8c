/* rollup: the derived tables the KPI plugins read instead of scanning facts
 * (docs/plugins.md, "Queries"): per store and day sums of closed repair orders and
 * their lines, stock snapshot totals per store and date, and the per-vehicle
 * visit summary that retention reads. The importer calls rollup_refresh()
 * inside its own transaction with what a file touched, so KPIs are right the
 * moment an import commits; `fourscore rollup --rebuild` rebuilds all of it
 * from the facts. */
#ifndef FS_ROLLUP_H
#define FS_ROLLUP_H
#include <stddef.h>
#include "db.h"
#include "rollup_scope.h"

/* Recompute the derived rows for what scope names, on c, inside the caller's
 * transaction. Returns 0, or -1 with err. */
int rollup_refresh(db_conn *c, const rollup_scope *scope, char *err, size_t errlen);
/* Rebuild every derived table from the facts (own transaction). */
int rollup_rebuild(db_conn *c, char *err, size_t errlen);
/* The same, calling progress(ud, done, total, what) as it goes (rollup_scope.h). */
int rollup_rebuild_progress(db_conn *c, rollup_progress_fn progress, void *ud, char *err, size_t errlen);
/* The same for a database nobody reads yet (the demo load): the stores are
 * rebuilt on two connections of pool at once, each store in a transaction
 * of its own, so a failure leaves the derived tables part built (run it
 * again, or `fourscore rollup --rebuild`). Returns 0, or -1 with err. */
int rollup_rebuild_fresh(db_pool *pool, rollup_progress_fn progress, void *ud, char *err, size_t errlen);
/* The pieces of rollup_rebuild_fresh, for a loader that overlaps them with
 * its imports: empty every derived table; rebuild the vehicle visits and
 * states (once repair_orders and vehicle_sales are in), the invoices' open
 * days (once invoices and payments are in) or the insurance matches (once
 * vehicle_sales and insurance_policies are in), each in a transaction of its
 * own; rebuild the per-store tables in two lanes as above (once the RO lines
 * and stock are in) and refresh statistics. Each returns 0, or -1 with err. */
int rollup_clear(db_conn *c, char *err, size_t errlen);
int rollup_rebuild_vehicles(db_conn *c, char *err, size_t errlen);
int rollup_rebuild_invoices(db_conn *c, char *err, size_t errlen);
int rollup_rebuild_matches(db_conn *c, char *err, size_t errlen);
int rollup_rebuild_stores(db_pool *pool, rollup_progress_fn progress, void *ud, char *err, size_t errlen);
/* Refresh the optimizer's statistics of the derived tables and of the fact
 * table `entity` (an entity of docs/import.md; NULL: every fact table) after a
 * bulk change, so the next KPI query is planned on what the tables hold now
 * rather than on statistics InnoDB would only refresh in the background
 * later. Outside a transaction. Returns 0, or -1 with err. */
int rollup_analyze(db_conn *c, const char *entity, char *err, size_t errlen);
#endif
