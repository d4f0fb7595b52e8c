/* rollup_asof: keeps the as-of tables of schemas/006_asof.sql current (the
 * per-vehicle retention state and each invoice's settled day) and the
 * receivables at month ends of 016_receivable_month_ends.sql, called from
 * rollup.c's refresh and rebuild. */
#ifndef FS_ROLLUP_ASOF_H
#define FS_ROLLUP_ASOF_H
#include <stddef.h>
#include "db.h"
#include "rollup.h"

/* Recompute what scope's entity changed, inside the caller's transaction:
 * repair_orders and vehicle_sales -> the state of scope's VINs (all of them
 * when it names none or very many); invoices and payments -> the touched
 * stores' invoices, then their receivables at month ends from the first the
 * dates touch; customers -> every month end of the touched stores. Other
 * entities: nothing. repair_orders must be called
 * after rollup_vehicle_visit is current. Returns 0, or -1 with err. */
int rollup_asof_refresh(db_conn *c, const rollup_scope *scope, char *err, size_t errlen);
/* Rebuild every vehicle's states from the visits and the sales, and every
 * invoice's settled day from the invoices and payments (caller's
 * transaction). */
int rollup_asof_rebuild_states(db_conn *c, char *err, size_t errlen);
int rollup_asof_rebuild_invoices(db_conn *c, char *err, size_t errlen);

/* The receivables at month ends of the touched stores, inside the caller's
 * transaction, after rollup_invoice_open (and rollup_ro) are current:
 * RECV_DATES from the month end of each store's `from` on (invoices,
 * payments); RECV_WHOLE every month end (customers); RECV_AFTER_ROS the month
 * ends from `from` to six months after `to` (repair orders and their lines:
 * the credit limit). When the last invoice's month end passes the horizon,
 * every other store gets the new month ends too. */
typedef enum recv_reason { RECV_DATES, RECV_WHOLE, RECV_AFTER_ROS } recv_reason;
int rollup_asof_receivables(db_conn *c, const rollup_touch *touched, int ntouched, recv_reason why,
                            char *err, size_t errlen);
/* Every store's month ends from the facts (caller's transaction), after
 * rollup_invoice_open and rollup_ro are complete. */
int rollup_asof_rebuild_receivables(db_conn *c, rollup_progress_fn progress, void *ud, char *err, size_t errlen);
#endif
