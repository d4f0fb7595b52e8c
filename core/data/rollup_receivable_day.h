/* rollup_receivable_day: the receivables of a store for every day of a range
 * (schemas/031_receivable_days.sql), written from its invoices, payments,
 * customers' types and rollup_ro; called by core/data/rollup_month_end.c for
 * the same stores and ranges as the month ends, inside its transaction. */
#ifndef FS_ROLLUP_RECEIVABLE_DAY_H
#define FS_ROLLUP_RECEIVABLE_DAY_H
#include <stddef.h>
#include "db.h"

/* Replaces store's rows of rollup_receivable_day for every day from `from`
 * to `to` (YYYY-MM-DD, inclusive; nothing when from > to), after
 * rollup_invoice_open and rollup_ro are current. 0, or -1 with err. */
int receivable_days_store(db_conn *c, const char *store, const char *from, const char *to, char *err, size_t errlen);
/* Every row (a rebuild, inside its transaction). */
int receivable_days_clear(db_conn *c, char *err, size_t errlen);
#endif
