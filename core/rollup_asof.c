/* rollup_asof: keeps the as-of tables of schemas/006_asof.sql current, so
 * that the retention and receivables KPIs (spec/kpis.md, as of the period end
 * `to`) read a few short primary-key ranges whatever `to` is, and the
 * receivables at month ends of schemas/016_receivable_month_ends.sql:
 *   rollup_vehicle_visit, vehicle_sales -> rollup_vehicle_state (by VIN)
 *   invoices, payments                  -> rollup_invoice_open (by store)
 *   rollup_invoice_open, payments, customers, rollup_ro
 *                                       -> rollup_receivable_age, _month
 *                                          (by store, from a month end on)
 * Each refresh deletes the derived rows of a VIN or store and rebuilds them
 * with one INSERT ... SELECT; the rebuild does every VIN and store at once.
 * The visits (core/rollup.c: a vehicle's closed non-internal ROs per day,
 * with that day's latest store) must be current first; nothing here reads
 * the per-store rollups, so they can be rebuilt beside them. */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include "rollup_asof.h"

#define ASOF_VINS_ONE_BY_ONE 2000    /* more VINs than this: rebuild every state at once */

/* span_class of an interval [FROM, UNTIL) (006_asof.sql): the smallest k
 * with UNTIL - FROM <= 2^k days, 99 past 2^16 days or with no end. A LOG2
 * rounded up can only err upwards, which still bounds the interval. */
#define SPAN_CLASS(FROM, UNTIL) \
    "IF(" UNTIL " >= DATE '9999-12-31' OR DATEDIFF(" UNTIL ", " FROM ") > 65536, 99," \
    " CEIL(LOG2(GREATEST(DATEDIFF(" UNTIL ", " FROM "), 1))))"

/* --- vehicle state --- */

/* One vehicle's events, in order: each day with a visit (rollup_vehicle_visit:
 * the day's latest RO by closed_at, a tie to the smaller store_code) or sales (the smaller
 * store_code of the day). Every event day starts a state lasting until the
 * next one; the latest sale up to a day is carried forward as one sortable
 * text: sale day (10), first visit day on or after it (10, '0000-00-00' for
 * none), selling store. VIN_FILTER is "" or " AND vin = ?" (twice: visits,
 * sales). */
#define STATE_INSERT(VIN_FILTER) \
    "INSERT INTO rollup_vehicle_state (vin, from_on, until_on, last_store_code, sold_on," \
    " sale_store_code, first_visit_on, span_class)" \
    " WITH event AS (SELECT vin, day, MAX(visit_store) AS visit_store, MAX(sale_store) AS sale_store FROM (" \
    "     SELECT vin, visit_on AS day, last_store_code AS visit_store, NULL AS sale_store" \
    "     FROM rollup_vehicle_visit WHERE 1 = 1" VIN_FILTER \
    "     UNION ALL" \
    "     SELECT vin, sold_on, NULL, MIN(store_code) FROM vehicle_sales WHERE 1 = 1" VIN_FILTER \
    "     GROUP BY vin, sold_on) e GROUP BY vin, day)," \
    " timeline AS (SELECT vin, day, visit_store, sale_store," \
    "     LEAD(day) OVER (PARTITION BY vin ORDER BY day) AS next_day," \
    "     MIN(IF(visit_store IS NULL, NULL, day)) OVER (PARTITION BY vin ORDER BY day" \
    "       ROWS BETWEEN CURRENT ROW AND UNBOUNDED FOLLOWING) AS next_visit FROM event)," \
    " carried AS (SELECT vin, day, visit_store, sale_store, next_day," \
    "     MAX(IF(sale_store IS NULL, NULL, CONCAT(day, COALESCE(next_visit, '0000-00-00'), sale_store)))" \
    "       OVER (PARTITION BY vin ORDER BY day ROWS UNBOUNDED PRECEDING) AS sale FROM timeline)" \
    " SELECT vin, day, COALESCE(next_day, DATE '9999-12-31'), COALESCE(visit_store, sale_store)," \
    "   CAST(LEFT(sale, 10) AS DATE), SUBSTRING(sale, 21)," \
    "   CAST(NULLIF(SUBSTRING(sale, 11, 10), '0000-00-00') AS DATE)," \
    "   " SPAN_CLASS("day", "COALESCE(next_day, DATE '9999-12-31')") " FROM carried"

static const char SQL_STATE_DELETE_ALL[] = "DELETE FROM rollup_vehicle_state";
static const char SQL_STATE_INSERT_ALL[] = STATE_INSERT("");
static const char SQL_STATE_DELETE_VIN[] = "DELETE FROM rollup_vehicle_state WHERE vin = ?";
static const char SQL_STATE_INSERT_VIN[] = STATE_INSERT(" AND vin = ?");

static int state_rebuild(db_conn *c, char *err, size_t errlen)
{
    if (db_exec(c, SQL_STATE_DELETE_ALL, NULL, 0, NULL, err, errlen) != 0) return -1;
    return db_exec(c, SQL_STATE_INSERT_ALL, NULL, 0, NULL, err, errlen);
}

static int state_refresh_vins(db_conn *c, const char *const *vins, int nvins, char *err, size_t errlen)
{
    for (int i = 0; i < nvins; i++) {
        db_val vin[2] = { DB_STR(vins[i]), DB_STR(vins[i]) };
        if (db_exec(c, SQL_STATE_DELETE_VIN, vin, 1, NULL, err, errlen) != 0) return -1;
        if (db_exec(c, SQL_STATE_INSERT_VIN, vin, 2, NULL, err, errlen) != 0) return -1;
    }
    return 0;
}

/* --- invoices --- */

/* Each invoice with its settled day (see 006_asof.sql). PAYMENT_FILTER and
 * INVOICE_FILTER are "" or one store's " AND ... store_code = ?". */
#define INVOICE_INSERT(PAYMENT_FILTER, INVOICE_FILTER) \
    "INSERT INTO rollup_invoice_open (store_code, invoice_no, customer_code, issued_on, settled_on, amount," \
    " span_class)" \
    " SELECT store_code, invoice_no, customer_code, issued_on, settled_on, amount," \
    "   " SPAN_CLASS("issued_on", "settled_on") " FROM (" \
    " SELECT i.store_code, i.invoice_no, i.customer_code, i.issued_on," \
    "   IF(COALESCE(p.paid, 0) >= i.amount, GREATEST(i.issued_on, COALESCE(p.last_paid_on, i.issued_on))," \
    "      DATE '9999-12-31') AS settled_on, i.amount" \
    " FROM invoices i LEFT JOIN (SELECT store_code, invoice_no, SUM(amount) AS paid, MAX(paid_on) AS last_paid_on" \
    "   FROM payments WHERE 1 = 1" PAYMENT_FILTER " GROUP BY store_code, invoice_no) p" \
    "   ON p.store_code = i.store_code AND p.invoice_no = i.invoice_no" \
    " WHERE 1 = 1" INVOICE_FILTER ") settled"

static const char SQL_INVOICE_DELETE_ALL[] = "DELETE FROM rollup_invoice_open";
static const char SQL_INVOICE_INSERT_ALL[] = INVOICE_INSERT("", "");
static const char SQL_INVOICE_DELETE_STORE[] = "DELETE FROM rollup_invoice_open WHERE store_code = ?";
static const char SQL_INVOICE_INSERT_STORE[] = INVOICE_INSERT(" AND store_code = ?", " AND i.store_code = ?");

static int invoice_rebuild(db_conn *c, char *err, size_t errlen)
{
    if (db_exec(c, SQL_INVOICE_DELETE_ALL, NULL, 0, NULL, err, errlen) != 0) return -1;
    return db_exec(c, SQL_INVOICE_INSERT_ALL, NULL, 0, NULL, err, errlen);
}

static int invoice_refresh_stores(db_conn *c, const rollup_touch *touched, int ntouched, char *err, size_t errlen)
{
    for (int i = 0; i < ntouched; i++) {
        const char *store = touched[i].store_code;
        db_val p[2] = { DB_STR(store), DB_STR(store) };
        if (db_exec(c, SQL_INVOICE_DELETE_STORE, p, 1, NULL, err, errlen) != 0) return -1;
        if (db_exec(c, SQL_INVOICE_INSERT_STORE, p, 2, NULL, err, errlen) != 0) return -1;
    }
    return 0;
}

/* --- receivables at month ends --- */

/* One store's open invoices as of each month end from ? to ? (both month
 * ends), with positive open amounts only (a covered invoice adds 0 to every
 * figure), in the connection's temporary table recv_open; then its age rows
 * and month rows, and the customers over their limit (gross profit of their
 * ROs at the store closed in the six months up to the month end). */
#define ASCII_COL " CHARACTER SET ascii COLLATE ascii_bin NOT NULL"
static const char SQL_RECV_TEMP[] =
    "CREATE TEMPORARY TABLE IF NOT EXISTS recv_open (day DATE NOT NULL, customer_code VARCHAR(32)" ASCII_COL ","
    " government TINYINT(1) NOT NULL, age_days INT UNSIGNED NOT NULL, open_amount DECIMAL(20,2) NOT NULL)";
static const char SQL_RECV_TEMP_CLEAR[] = "DELETE FROM recv_open";
/* The month ends from the month end ? to the month end ? (the sequence
 * engine's numbers: at most 100 years). Params: first, last, first. */
#define MONTH_ENDS \
    "(SELECT LAST_DAY(CAST(? AS DATE) + INTERVAL seq MONTH) AS day FROM seq_0_to_1199" \
    " WHERE seq <= PERIOD_DIFF(EXTRACT(YEAR_MONTH FROM CAST(? AS DATE)), EXTRACT(YEAR_MONTH FROM CAST(? AS DATE)))) m"
/* Params: first, last, first (the month ends), store. */
static const char SQL_RECV_OPEN[] =
    "INSERT INTO recv_open (day, customer_code, government, age_days, open_amount)"
    " SELECT day, customer_code, government, age_days, open_amount FROM ("
    "  SELECT m.day, a.customer_code,"
    "   COALESCE((SELECT c.type = 'government' FROM customers c"
    "     WHERE c.store_code = a.store_code AND c.customer_code = a.customer_code), 0) AS government,"
    "   DATEDIFF(m.day, a.issued_on) AS age_days,"
    "   a.amount - COALESCE((SELECT SUM(p.amount) FROM payments p WHERE p.store_code = a.store_code"
    "     AND p.invoice_no = a.invoice_no AND p.paid_on <= m.day), 0) AS open_amount"
    "  FROM " MONTH_ENDS " JOIN rollup_invoice_open a FORCE INDEX (uk_invoice_open) ON a.store_code = ?"
    "   AND a.issued_on <= m.day AND a.settled_on > m.day) o"
    " WHERE open_amount > 0";
/* Params: store, first, last. */
static const char SQL_RECV_AGE_DELETE[] =
    "DELETE FROM rollup_receivable_age WHERE store_code = ? AND day BETWEEN ? AND ?";
static const char SQL_RECV_MONTH_DELETE[] =
    "DELETE FROM rollup_receivable_month WHERE store_code = ? AND day BETWEEN ? AND ?";
/* Params: store. */
static const char SQL_RECV_AGE_INSERT[] =
    "INSERT INTO rollup_receivable_age (day, store_code, government, age_days, open_amount)"
    " SELECT day, ?, government, age_days, SUM(open_amount) FROM recv_open GROUP BY day, government, age_days";
static const char SQL_RECV_MONTH_INSERT[] =
    "INSERT INTO rollup_receivable_month (store_code, day, open_amount, age_0_30, age_31_60, age_61_90,"
    " age_91_180, age_181_365, age_over_365, over_limit_accounts)"
    " SELECT ?, day, SUM(open_amount), SUM(IF(age_days <= 30, open_amount, 0)),"
    "  SUM(IF(age_days BETWEEN 31 AND 60, open_amount, 0)), SUM(IF(age_days BETWEEN 61 AND 90, open_amount, 0)),"
    "  SUM(IF(age_days BETWEEN 91 AND 180, open_amount, 0)), SUM(IF(age_days BETWEEN 181 AND 365, open_amount, 0)),"
    "  SUM(IF(age_days > 365, open_amount, 0)), 0"
    " FROM recv_open GROUP BY day";
/* Params: store, store. */
static const char SQL_RECV_OVER_LIMIT[] =
    "UPDATE rollup_receivable_month r JOIN (SELECT day, COUNT(*) AS accounts FROM"
    "  (SELECT day, customer_code, SUM(open_amount) AS open_amount FROM recv_open GROUP BY day, customer_code) c"
    "  WHERE c.open_amount > COALESCE((SELECT SUM(x.revenue - x.cost) FROM rollup_ro x"
    "   WHERE x.store_code = ? AND x.customer_code = c.customer_code"
    "   AND x.day > c.day - INTERVAL 6 MONTH AND x.day <= c.day), 0)"
    "  GROUP BY day) o ON o.day = r.day"
    " SET r.over_limit_accounts = o.accounts WHERE r.store_code = ?";

static const char SQL_RECV_BOUNDS[] =
    "SELECT LAST_DAY(MIN(issued_on)), LAST_DAY(MAX(issued_on)) FROM rollup_invoice_open";
static const char SQL_RECV_HORIZON[] = "SELECT day FROM rollup_horizon WHERE name = 'receivables'";
static const char SQL_RECV_HORIZON_LOCK[] = "SELECT day FROM rollup_horizon WHERE name = 'receivables' FOR UPDATE";
static const char SQL_RECV_HORIZON_SET[] = "REPLACE INTO rollup_horizon (name, day) VALUES ('receivables', ?)";
static const char SQL_RECV_CLEAR[] = "DELETE FROM rollup_receivable_age";
static const char SQL_RECV_CLEAR_MONTHS[] = "DELETE FROM rollup_receivable_month";
static const char SQL_RECV_HORIZON_CLEAR[] = "DELETE FROM rollup_horizon WHERE name = 'receivables'";
static const char SQL_RECV_STORES[] = "SELECT store_code FROM stores ORDER BY store_code";

/* Month-end arithmetic on 'YYYY-MM-DD' (valid dates from the database). */
static int ymd_days_in_month(int y, int m)
{
    static const int dm[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    return m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0) ? 29 : dm[m - 1];
}
/* The last day of the month `months` after the month of date (0: its own). */
static void month_end_after(const char *date, int months, char out[11])
{
    int y = 0, m = 1, d = 1;
    sscanf(date, "%4d-%2d-%2d", &y, &m, &d);
    int k = y * 12 + (m - 1) + months;
    y = k / 12;
    m = k % 12 + 1;
    unsigned uy = (unsigned)y % 10000u, um = (unsigned)m % 100u, ud = (unsigned)ymd_days_in_month(y, m) % 100u;
    snprintf(out, 11, "%04u-%02u-%02u", uy, um, ud);
}
static const char *later_of(const char *a, const char *b) { return strcmp(a, b) >= 0 ? a : b; }

/* One store's month ends [first, last] (month ends; nothing when first > last). */
static int recv_store_range(db_conn *c, const char *store, const char *first, const char *last,
                            char *err, size_t errlen)
{
    if (!first[0] || !last[0] || strcmp(first, last) > 0) return 0;
    db_val range[3] = { DB_STR(store), DB_STR(first), DB_STR(last) };
    db_val open[4] = { DB_STR(first), DB_STR(last), DB_STR(first), DB_STR(store) };
    db_val two[2] = { DB_STR(store), DB_STR(store) };
    return db_exec_text(c, SQL_RECV_TEMP, err, errlen) != 0 ||
           db_exec(c, SQL_RECV_TEMP_CLEAR, NULL, 0, NULL, err, errlen) != 0 ||
           db_exec(c, SQL_RECV_OPEN, open, 4, NULL, err, errlen) != 0 ||
           db_exec(c, SQL_RECV_AGE_DELETE, range, 3, NULL, err, errlen) != 0 ||
           db_exec(c, SQL_RECV_MONTH_DELETE, range, 3, NULL, err, errlen) != 0 ||
           db_exec(c, SQL_RECV_AGE_INSERT, range, 1, NULL, err, errlen) != 0 ||
           db_exec(c, SQL_RECV_MONTH_INSERT, range, 1, NULL, err, errlen) != 0 ||
           db_exec(c, SQL_RECV_OVER_LIMIT, two, 2, NULL, err, errlen) != 0 ? -1 : 0;
}

/* The first and last month ends with invoices, and the horizon ("" each
 * when none); the horizon row locked when lock. */
typedef struct recv_plan {
    char first[11], last[11], horizon[11];
} recv_plan;

static int one_row(db_conn *c, const char *sql, char *a, char *b, char *err, size_t errlen)
{
    db_result *r = NULL;
    if (db_query(c, sql, NULL, 0, &r, err, errlen) != 0) return -1;
    a[0] = 0;
    if (b) b[0] = 0;
    if (r->nrows > 0 && db_cell(r, 0, 0)) snprintf(a, 11, "%s", db_cell(r, 0, 0));
    if (b && r->nrows > 0 && r->ncols > 1 && db_cell(r, 0, 1)) snprintf(b, 11, "%s", db_cell(r, 0, 1));
    db_result_free(r);
    return 0;
}

static int recv_plan_get(db_conn *c, bool lock, recv_plan *p, char *err, size_t errlen)
{
    return one_row(c, SQL_RECV_BOUNDS, p->first, p->last, err, errlen) != 0 ||
           one_row(c, lock ? SQL_RECV_HORIZON_LOCK : SQL_RECV_HORIZON, p->horizon, NULL, err, errlen) != 0 ? -1 : 0;
}

static int recv_horizon_set(db_conn *c, const char *day, char *err, size_t errlen)
{
    db_val p[1] = { DB_STR(day) };
    return db_exec(c, SQL_RECV_HORIZON_SET, p, 1, NULL, err, errlen);
}

static bool touched_has(const rollup_touch *touched, int ntouched, const char *store)
{
    for (int i = 0; i < ntouched; i++)
        if (strcmp(touched[i].store_code, store) == 0) return true;
    return false;
}

int rollup_asof_receivables(db_conn *c, const rollup_touch *touched, int ntouched, recv_reason why,
                            char *err, size_t errlen)
{
    recv_plan p;
    if (recv_plan_get(c, why != RECV_AFTER_ROS, &p, err, errlen) != 0) return -1;
    if (!p.first[0] && !p.horizon[0]) return 0;              /* no invoices, none ever taken */
    const char *horizon = later_of(p.last, p.horizon);
    /* past the horizon, every store needs the new month ends: from the one
     * after the old horizon (all of them when there was none) */
    bool moves = why != RECV_AFTER_ROS && strcmp(horizon, p.horizon) > 0;
    char new_from[11] = "";
    if (moves && p.horizon[0]) month_end_after(p.horizon, 1, new_from);
    else if (moves) snprintf(new_from, sizeof new_from, "%s", p.first);
    for (int i = 0; i < ntouched; i++) {
        const rollup_touch *t = &touched[i];
        char from[11], to[11];
        snprintf(from, sizeof from, "%s", p.first);
        snprintf(to, sizeof to, "%s", horizon);
        if (why != RECV_WHOLE && t->from[0]) {
            month_end_after(t->from, 0, from);
            if (strcmp(from, p.first) < 0) snprintf(from, sizeof from, "%s", p.first);
            if (moves && strcmp(new_from, from) < 0) snprintf(from, sizeof from, "%s", new_from);
        }
        if (why == RECV_AFTER_ROS && t->to[0]) {
            char six[11];
            month_end_after(t->to, 6, six);              /* the limit looks back six months */
            if (strcmp(six, to) < 0) snprintf(to, sizeof to, "%s", six);
        }
        if (recv_store_range(c, t->store_code, from, to, err, errlen) != 0) return -1;
    }
    if (!moves) return 0;
    db_result *stores = NULL;
    if (db_query(c, SQL_RECV_STORES, NULL, 0, &stores, err, errlen) != 0) return -1;
    int rc = 0;
    for (int i = 0; i < stores->nrows && rc == 0; i++)
        if (!touched_has(touched, ntouched, db_cell(stores, i, 0)))
            rc = recv_store_range(c, db_cell(stores, i, 0), new_from, horizon, err, errlen);
    db_result_free(stores);
    return rc != 0 ? -1 : recv_horizon_set(c, horizon, err, errlen);
}

int rollup_asof_rebuild_receivables(db_conn *c, rollup_progress_fn progress, void *ud, char *err, size_t errlen)
{
    recv_plan p;
    if (db_exec(c, SQL_RECV_CLEAR, NULL, 0, NULL, err, errlen) != 0 ||
        db_exec(c, SQL_RECV_CLEAR_MONTHS, NULL, 0, NULL, err, errlen) != 0 ||
        db_exec(c, SQL_RECV_HORIZON_CLEAR, NULL, 0, NULL, err, errlen) != 0 ||
        recv_plan_get(c, true, &p, err, errlen) != 0)
        return -1;
    if (!p.first[0]) return 0;
    db_result *stores = NULL;
    if (db_query(c, SQL_RECV_STORES, NULL, 0, &stores, err, errlen) != 0) return -1;
    int rc = 0;
    for (int i = 0; i < stores->nrows && rc == 0; i++) {
        if (progress) progress(ud, i, stores->nrows, db_cell(stores, i, 0));
        rc = recv_store_range(c, db_cell(stores, i, 0), p.first, p.last, err, errlen);
    }
    db_result_free(stores);
    return rc != 0 ? -1 : recv_horizon_set(c, p.last, err, errlen);
}

/* --- entry points --- */

int rollup_asof_refresh(db_conn *c, const rollup_scope *scope, char *err, size_t errlen)
{
    if (!scope || !scope->entity) return 0;
    const char *e = scope->entity;
    if (strcmp(e, "repair_orders") == 0 || strcmp(e, "vehicle_sales") == 0) {
        if (!scope->vins || scope->nvins <= 0 || scope->nvins > ASOF_VINS_ONE_BY_ONE)
            return state_rebuild(c, err, errlen);
        return state_refresh_vins(c, scope->vins, scope->nvins, err, errlen);
    }
    if (strcmp(e, "invoices") == 0 || strcmp(e, "payments") == 0) {
        if (!scope->touched || scope->ntouched <= 0)
            return invoice_rebuild(c, err, errlen) != 0 ? -1 : rollup_asof_rebuild_receivables(c, NULL, NULL, err, errlen);
        return invoice_refresh_stores(c, scope->touched, scope->ntouched, err, errlen) != 0 ? -1 :
               rollup_asof_receivables(c, scope->touched, scope->ntouched, RECV_DATES, err, errlen);
    }
    if (strcmp(e, "customers") == 0 && scope->touched && scope->ntouched > 0)   /* a customer's type */
        return rollup_asof_receivables(c, scope->touched, scope->ntouched, RECV_WHOLE, err, errlen);
    return 0;
}

int rollup_asof_rebuild_states(db_conn *c, char *err, size_t errlen) { return state_rebuild(c, err, errlen); }

int rollup_asof_rebuild_invoices(db_conn *c, char *err, size_t errlen) { return invoice_rebuild(c, err, errlen); }
