/* rollup_month_end: the receivables and retention month-end tables of
 * schemas/016 and 017 (and the receivables' day rows of 031), kept current from the as-of tables (core/data/rollup_asof.c)
 * and rollup_ro; each holds every month end up to its horizon. */
#ifndef FS_ROLLUP_MONTH_END_H
#define FS_ROLLUP_MONTH_END_H
#include <stdbool.h>
#include <stddef.h>
#include "db.h"
#include "rollup_scope.h"

/* The receivables of the touched stores at month ends (by age) and on every
 * day (core/data/rollup_receivable_day.c), inside the caller's transaction,
 * after rollup_invoice_open (and rollup_ro) are current: RECV_DATES from the
 * month of each store's `from` on (invoices, payments); RECV_WHOLE every
 * month (customers); RECV_AFTER_ROS the days from the month of `from` to six
 * months after `to` (repair orders and their lines: the credit limit, which
 * only the day rows hold). When the last invoice's month end passes the
 * horizon, every other store gets the new month ends and days too. Returns
 * 0, or -1 with err. */
typedef enum recv_reason { RECV_DATES, RECV_WHOLE, RECV_AFTER_ROS } recv_reason;
int month_end_receivables(db_conn *c, const rollup_touch *touched, int ntouched, recv_reason why,
                          char *err, size_t errlen);
/* Every store's month ends from the facts (caller's transaction), after
 * rollup_invoice_open and rollup_ro are complete. */
int month_end_rebuild_receivables(db_conn *c, rollup_progress_fn progress, void *ud, char *err, size_t errlen);

/* Retention around a refresh of some VINs' states (caller's transaction):
 * _begin reads the bounds and the horizon before rollup_vehicle_state
 * changes; the refresh (core/data/rollup_asof.c) keeps the states it
 * deleted in the connection's temporary table state_gone and those it
 * inserted in state_came (both made by month_end_retention_prepare); _end
 * takes the gone ones out, puts the new ones in (a state left as it was
 * counts the same before and after, so it is neither), and builds the
 * month ends past the horizon for every vehicle. A month end's rows depend on the facts up to it alone
 * (a first service after it is not yet one), so a change of facts dated
 * `since` or later (YYYY-MM-DD; "" = unknown: every month end) leaves the
 * month ends before `since` as they are, and only the later ones are
 * redone. r carries what _begin saw to _end. */
typedef struct month_end_retention {
    char first[11], last[11], horizon[11];
    char since[11];             /* the first month end the change can reach ("" = every one) */
    bool taken_out;
} month_end_retention;
int month_end_retention_begin(db_conn *c, const char *since, month_end_retention *r, char *err, size_t errlen);
int month_end_retention_end(db_conn *c, const month_end_retention *r, char *err, size_t errlen);
/* A temporary table T of the columns of rollup_vehicle_state, keyed by VIN
 * and day (made if need be). */
#define STATE_ROWS_TEMP(T) \
    "CREATE TEMPORARY TABLE IF NOT EXISTS " T " (vin CHAR(17) CHARACTER SET ascii COLLATE ascii_bin NOT NULL," \
    " from_on DATE NOT NULL, until_on DATE NOT NULL," \
    " last_store_code VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL, sold_on DATE NULL," \
    " sale_store_code VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NULL, first_visit_on DATE NULL," \
    " span_class TINYINT UNSIGNED NOT NULL, PRIMARY KEY (vin, from_on))"
/* The temporary tables state_gone and state_came, made if need be and emptied. */
int month_end_retention_prepare(db_conn *c, char *err, size_t errlen);
/* Every vehicle at every month end (caller's transaction), after
 * rollup_vehicle_state is complete. */
int month_end_rebuild_retention(db_conn *c, char *err, size_t errlen);
#endif
