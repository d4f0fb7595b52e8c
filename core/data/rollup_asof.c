/* rollup_asof: keeps the as-of tables of schemas/006_asof.sql current, so
 * that the retention and receivables KPIs (docs/kpis.md, as of the period end
 * `to`) read a few short primary-key ranges whatever `to` is:
 *   rollup_vehicle_visit, vehicle_sales -> rollup_vehicle_state (by VIN)
 *   invoices, payments                  -> rollup_invoice_open (by store)
 * and has the month-end tables that read them follow (core/data/rollup_month_end.c).
 * A store's refresh deletes its derived rows and rebuilds them with one
 * INSERT ... SELECT; a refresh by VIN computes the VINs' states anew and
 * writes only those that differ (state_refresh_vins); the rebuild does every
 * VIN and store at once.
 * The visits (core/data/rollup.c: a vehicle's closed non-internal ROs per day,
 * with that day's latest store) must be current first; nothing here reads
 * the per-store rollups, so they can be rebuilt beside them. */
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "rollup_asof.h"
#include "rollup_month_end.h"

#define ASOF_VINS_ONE_BY_ONE 2000    /* more VINs than this: rebuild every state at once */

/* span_class of an interval [FROM, UNTIL) (006_asof.sql): the smallest k
 * with UNTIL - FROM <= 2^k days, 99 past 2^16 days or with no end. A LOG2
 * rounded up can only err upwards, which still bounds the interval. */
#define SPAN_CLASS(FROM, UNTIL) \
    "IF(" UNTIL " >= DATE '9999-12-31' OR DATEDIFF(" UNTIL ", " FROM ") > 65536, 99," \
    " CEIL(LOG2(GREATEST(DATEDIFF(" UNTIL ", " FROM "), 1))))"

/* --- ranges of VINs --- */

static int vin_range_size = 20000;   /* VINs per range of a rebuild */

void rollup_set_vin_range_size(int vins) { vin_range_size = vins > 0 ? vins : 20000; }
static const char SQL_VIN_BOUNDS[] =
    "SELECT vin FROM (SELECT vin, ROW_NUMBER() OVER (ORDER BY vin) AS rn FROM"
    " (SELECT DISTINCT vin FROM repair_orders UNION SELECT vin FROM vehicle_sales) d) x"
    " WHERE rn % ? = 0 ORDER BY vin";

int rollup_vin_ranges_get(db_conn *c, rollup_vin_ranges *r, char *err, size_t errlen)
{
    memset(r, 0, sizeof *r);
    db_val p[1] = { DB_INT(vin_range_size) };
    db_result *res = NULL;
    if (db_query(c, SQL_VIN_BOUNDS, p, 1, &res, err, errlen) != 0) return -1;
    int n = res->nrows + 1;
    r->lo = calloc((size_t)n, sizeof *r->lo);
    r->hi = calloc((size_t)n, sizeof *r->hi);
    if (!r->lo || !r->hi) {
        db_result_free(res);
        rollup_vin_ranges_free(r);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    /* [lo, hi): "" below every VIN, "~" above (VINs are digits and capitals) */
    for (int i = 0; i < n; i++) {
        snprintf(r->lo[i], sizeof r->lo[i], "%s", i == 0 ? "" : db_cell(res, i - 1, 0));
        snprintf(r->hi[i], sizeof r->hi[i], "%s", i == n - 1 ? "~" : db_cell(res, i, 0));
    }
    r->n = n;
    db_result_free(res);
    return 0;
}

void rollup_vin_ranges_free(rollup_vin_ranges *r)
{
    free(r->lo);
    free(r->hi);
    memset(r, 0, sizeof *r);
}

/* --- vehicle state --- */

/* One vehicle's events, in order: each day with a visit (rollup_vehicle_visit:
 * the day's latest RO by closed_at, a tie to the smaller store_code) or sales (the smaller
 * store_code of the day). Every event day starts a state lasting until the
 * next one; the latest sale up to a day is carried forward as one sortable
 * text: sale day (10), first visit day on or after it (10, '0000-00-00' for
 * none), selling store. VIN_FILTER is "" or " AND vin IN (...)" (twice: visits,
 * sales). */
#define STATE_COLUMNS \
    "(vin, from_on, until_on, last_store_code, sold_on, sale_store_code, first_visit_on, span_class)"
#define STATE_INSERT(VIN_FILTER) "INSERT INTO rollup_vehicle_state " STATE_COLUMNS STATE_SELECT(VIN_FILTER)
#define STATE_SELECT(VIN_FILTER) \
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
static const char SQL_STATE_INSERT_RANGE[] = STATE_INSERT(" AND vin >= ? AND vin < ?");
/* A refresh by VINs writes only the states that differ: the VINs' new
 * states go to the connection's temporary table state_new, their old ones
 * that no new one equals are deleted (kept in state_gone) and the new ones
 * that no old one equals are inserted (kept in state_came): the retention
 * month ends then take out and put in those alone
 * (core/data/rollup_month_end.c). An upload adds a visit or two to each
 * vehicle's history: its last state ends and a new one starts, so two rows
 * are written per vehicle instead of all of its history, each row being
 * four keys to keep (the primary key, the VIN's, the cohorts', the ends'). The
 * old rows left equal a new one in every column; a new row with the primary
 * key of an old one left is that row, so the insert skips new rows by the
 * primary key. */
static const char SQL_STATE_NEW_TEMP[] = STATE_ROWS_TEMP("state_new");
static const char SQL_STATE_NEW_CLEAR[] = "DELETE FROM state_new";
static const char SQL_STATE_CAME[] =
    "INSERT INTO state_came " STATE_COLUMNS
    " SELECT n.vin, n.from_on, n.until_on, n.last_store_code, n.sold_on, n.sale_store_code, n.first_visit_on,"
    "  n.span_class FROM state_new n LEFT JOIN rollup_vehicle_state s FORCE INDEX (PRIMARY)"
    "  ON s.span_class = n.span_class AND s.from_on = n.from_on AND s.vin = n.vin WHERE s.vin IS NULL";
/* By VIN lists (rollup_sql_vin_lists), built once. */
static char *sql_state_vin_new, *sql_state_vin_gone, *sql_state_vin_gone_delete, *sql_state_vin_came_insert;
static pthread_once_t state_sql_once = PTHREAD_ONCE_INIT;

static void build_state_sql(void)
{
    sql_state_vin_new = rollup_sql_vin_lists("INSERT INTO state_new " STATE_COLUMNS STATE_SELECT(" AND vin IN @"));
    sql_state_vin_gone = rollup_sql_vin_lists(
        "INSERT INTO state_gone " STATE_COLUMNS " SELECT s.vin, s.from_on, s.until_on, s.last_store_code, s.sold_on,"
        " s.sale_store_code, s.first_visit_on, s.span_class"
        " FROM rollup_vehicle_state s FORCE INDEX (k_vehicle_state_vin) LEFT JOIN state_new n"
        " ON n.vin = s.vin AND n.from_on = s.from_on"
        " AND n.until_on = s.until_on AND n.last_store_code = s.last_store_code AND n.sold_on <=> s.sold_on"
        " AND n.sale_store_code <=> s.sale_store_code AND n.first_visit_on <=> s.first_visit_on"
        " AND n.span_class = s.span_class WHERE s.vin IN @ AND n.vin IS NULL");
    sql_state_vin_gone_delete = rollup_sql_vin_lists(
        "DELETE s FROM state_gone g JOIN rollup_vehicle_state s"
        " ON s.span_class = g.span_class AND s.from_on = g.from_on AND s.vin = g.vin WHERE g.vin IN @");
    sql_state_vin_came_insert = rollup_sql_vin_lists(
        "INSERT INTO rollup_vehicle_state " STATE_COLUMNS " SELECT vin, from_on, until_on, last_store_code, sold_on,"
        " sale_store_code, first_visit_on, span_class FROM state_came WHERE vin IN @");
}

char *rollup_sql_vin_lists(const char *templ)
{
    int lists = 0;
    for (const char *t = templ; *t; t++) lists += *t == '@';
    size_t len = strlen(templ) + (size_t)lists * (ROLLUP_VIN_CHUNK * 2 + 2) + 1;
    char *s = malloc(len), *o = s;
    if (!s) return NULL;
    for (const char *t = templ; *t; t++) {
        if (*t != '@') {
            *o++ = *t;
            continue;
        }
        *o++ = '(';
        for (int i = 0; i < ROLLUP_VIN_CHUNK; i++) {
            if (i) *o++ = ',';
            *o++ = '?';
        }
        *o++ = ')';
    }
    *o = 0;
    return s;
}

/* Every state, a range of VINs at a time (rollup_vins_ranges): each
 * statement reads one key range of the visits and sales and sorts little,
 * where one statement for every vehicle of a large group ran for many
 * minutes. */
static int state_rebuild(db_conn *c, char *err, size_t errlen)
{
    if (db_exec(c, SQL_STATE_DELETE_ALL, NULL, 0, NULL, err, errlen) != 0) return -1;
    rollup_vin_ranges r;
    if (rollup_vin_ranges_get(c, &r, err, errlen) != 0) return -1;
    int rc = 0;
    for (int i = 0; i < r.n && rc == 0; i++) {
        db_val p[4] = { DB_STR(r.lo[i]), DB_STR(r.hi[i]), DB_STR(r.lo[i]), DB_STR(r.hi[i]) };
        rc = db_exec(c, SQL_STATE_INSERT_RANGE, p, 4, NULL, err, errlen);
    }
    rollup_vin_ranges_free(&r);
    return rc;
}

/* The states of vins, ROLLUP_VIN_CHUNK VINs a statement (the insert names
 * the list twice: visits, then sales). */
static int state_refresh_vins(db_conn *c, const char *const *vins, int nvins, char *err, size_t errlen)
{
    pthread_once(&state_sql_once, build_state_sql);
    if (!sql_state_vin_new || !sql_state_vin_gone || !sql_state_vin_gone_delete || !sql_state_vin_came_insert) {
        snprintf(err, errlen, "out of memory building the state refresh");
        return -1;
    }
    if (db_exec_text(c, SQL_STATE_NEW_TEMP, err, errlen) != 0 || month_end_retention_prepare(c, err, errlen) != 0)
        return -1;
    db_val p[2 * ROLLUP_VIN_CHUNK];
    for (int at = 0; at < nvins; at += ROLLUP_VIN_CHUNK) {
        int n = nvins - at < ROLLUP_VIN_CHUNK ? nvins - at : ROLLUP_VIN_CHUNK;
        for (int i = 0; i < ROLLUP_VIN_CHUNK; i++)
            p[i] = p[ROLLUP_VIN_CHUNK + i] = DB_STR(vins[at + (i < n ? i : n - 1)]);
        if (db_exec(c, SQL_STATE_NEW_CLEAR, NULL, 0, NULL, err, errlen) != 0 ||
            db_exec(c, sql_state_vin_new, p, 2 * ROLLUP_VIN_CHUNK, NULL, err, errlen) != 0 ||
            db_exec(c, sql_state_vin_gone, p, ROLLUP_VIN_CHUNK, NULL, err, errlen) != 0 ||
            db_exec(c, sql_state_vin_gone_delete, p, ROLLUP_VIN_CHUNK, NULL, err, errlen) != 0 ||
            db_exec(c, SQL_STATE_CAME, NULL, 0, NULL, err, errlen) != 0 ||
            db_exec(c, sql_state_vin_came_insert, p, ROLLUP_VIN_CHUNK, NULL, err, errlen) != 0)
            return -1;
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

/* --- entry points --- */

int rollup_asof_refresh_states(db_conn *c, const char *const *vins, int nvins, const char *since, char *err,
                               size_t errlen)
{
    if (!vins || nvins <= 0 || nvins > ASOF_VINS_ONE_BY_ONE) return rollup_asof_rebuild_states(c, err, errlen);
    /* the retention month ends follow the VINs' states: old out, new in */
    month_end_retention r;
    return month_end_retention_begin(c, since, &r, err, errlen) != 0 ||
           state_refresh_vins(c, vins, nvins, err, errlen) != 0 ||
           month_end_retention_end(c, &r, err, errlen) != 0 ? -1 : 0;
}

int rollup_asof_refresh_invoices(db_conn *c, const rollup_touch *touched, int ntouched, char *err, size_t errlen)
{
    if (!touched || ntouched <= 0)
        return invoice_rebuild(c, err, errlen) != 0 ? -1 : month_end_rebuild_receivables(c, NULL, NULL, err, errlen);
    return invoice_refresh_stores(c, touched, ntouched, err, errlen) != 0 ? -1 :
           month_end_receivables(c, touched, ntouched, RECV_DATES, err, errlen);
}

int rollup_asof_rebuild_states(db_conn *c, char *err, size_t errlen)
{
    return state_rebuild(c, err, errlen) != 0 ? -1 : month_end_rebuild_retention(c, err, errlen);
}

int rollup_asof_rebuild_invoices(db_conn *c, char *err, size_t errlen) { return invoice_rebuild(c, err, errlen); }
