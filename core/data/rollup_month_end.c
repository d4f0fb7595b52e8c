/* rollup_month_end: the month-end tables of schemas/016 and 017, so that the
 * receivables and retention KPIs (docs/kpis.md, as of the period end `to`)
 * read a few rows per store when `to` is a month end (the end of every
 * whole-month period, and of each month of a trend):
 *   rollup_invoice_open, payments, customers, rollup_ro
 *       -> rollup_receivable_age (by store, from a month end on), and
 *          rollup_receivable_day (every day: core/data/rollup_receivable_day.c)
 *   rollup_vehicle_state -> rollup_retention_last, _churn, _first (by VIN:
 *       the states a refresh of the VINs an import touched deleted are
 *       taken out, those it inserted added)
 * Each holds every month end from the first with data to its horizon
 * (rollup_horizon); the plugins read them only for a `to` up to it.
 * Called from core/data/rollup_asof.c and core/data/rollup.c, inside their
 * transactions. */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include "calendar.h"
#include "rollup_match.h"
#include "rollup_month_end.h"
#include "rollup_receivable_day.h"

#define ASCII_COL " CHARACTER SET ascii COLLATE ascii_bin NOT NULL"
#define RECEIVABLES "receivables"
#define RETENTION "retention"
static const char SQL_STORES[] = "SELECT store_code FROM stores ORDER BY store_code";

/* --- month ends and horizons --- */

/* The month ends from the month end ? to the month end ? (the sequence
 * engine's numbers: at most 100 years). Params: first, last, first. */
#define MONTH_ENDS \
    "(SELECT LAST_DAY(CAST(? AS DATE) + INTERVAL seq MONTH) AS day FROM seq_0_to_1199" \
    " WHERE seq <= PERIOD_DIFF(EXTRACT(YEAR_MONTH FROM CAST(? AS DATE)), EXTRACT(YEAR_MONTH FROM CAST(? AS DATE)))) m"

/* Month-end arithmetic on 'YYYY-MM-DD' (valid dates from the database). */
/* The last day of the month `months` after the month of date (0: its own). */
static void month_end_after(const char *date, int months, char out[11])
{
    int y = 0, m = 1, d = 1;
    sscanf(date, "%4d-%2d-%2d", &y, &m, &d);
    int k = y * 12 + (m - 1) + months;
    y = k / 12;
    m = k % 12 + 1;
    unsigned uy = (unsigned)y % 10000u, um = (unsigned)m % 100u, ud = (unsigned)calendar_days_in_month(y, m) % 100u;
    snprintf(out, 11, "%04u-%02u-%02u", uy, um, ud);
}
static const char *later_of(const char *a, const char *b) { return strcmp(a, b) >= 0 ? a : b; }
static const char *earlier_of(const char *a, const char *b)
{
    if (!a[0]) return b;
    if (!b[0]) return a;
    return strcmp(a, b) <= 0 ? a : b;
}

/* The first one or two cells of sql's first row as dates ("" for NULL). */
static int one_row(db_conn *c, const char *sql, const db_val *params, int nparams, char *a, char *b,
                   char *err, size_t errlen)
{
    db_result *r = NULL;
    if (db_query(c, sql, params, nparams, &r, err, errlen) != 0) return -1;
    a[0] = 0;
    if (b) b[0] = 0;
    if (r->nrows > 0 && db_cell(r, 0, 0)) snprintf(a, 11, "%s", db_cell(r, 0, 0));
    if (b && r->nrows > 0 && r->ncols > 1 && db_cell(r, 0, 1)) snprintf(b, 11, "%s", db_cell(r, 0, 1));
    db_result_free(r);
    return 0;
}

static int horizon_get(db_conn *c, const char *name, bool lock, char out[11], char *err, size_t errlen)
{
    db_val p[1] = { DB_STR(name) };
    return one_row(c, lock ? "SELECT day FROM rollup_horizon WHERE name = ? FOR UPDATE"
                           : "SELECT day FROM rollup_horizon WHERE name = ?", p, 1, out, NULL, err, errlen);
}

static int horizon_set(db_conn *c, const char *name, const char *day, char *err, size_t errlen)
{
    db_val p[2] = { DB_STR(name), DB_STR(day) };
    return db_exec(c, "REPLACE INTO rollup_horizon (name, day) VALUES (?, ?)", p, 2, NULL, err, errlen);
}

static int horizon_clear(db_conn *c, const char *name, char *err, size_t errlen)
{
    db_val p[1] = { DB_STR(name) };
    return db_exec(c, "DELETE FROM rollup_horizon WHERE name = ?", p, 1, NULL, err, errlen);
}

/* --- receivables --- */

/* One store's open amounts by customer type and age at each month end from
 * ? to ? (both month ends), with positive open amounts only (a covered
 * invoice adds 0 to every figure). Each invoice of the store is read once
 * and met with the month ends it is open at (a join buffer of a few dozen
 * days), its payments summed up to each: ten times faster than looking the
 * store's invoices up per month end. The keys are named: right after a bulk
 * load the statistics may not know the tables yet (a demo load took 15 s
 * per store without them). Every other figure of a month end is in its day
 * row (031). Params: store, first, last, first (the month ends), store. */
static const char SQL_RECV_AGE_INSERT[] =
    "INSERT INTO rollup_receivable_age (day, store_code, government, age_days, open_amount)"
    " SELECT day, ?, government, age_days, SUM(open_amount) FROM ("
    "  SELECT m.day,"
    "   COALESCE((SELECT c.type = 'government' FROM customers c"
    "     WHERE c.store_code = a.store_code AND c.customer_code = a.customer_code), 0) AS government,"
    "   DATEDIFF(m.day, a.issued_on) AS age_days, a.amount - COALESCE(SUM(p.amount), 0) AS open_amount"
    "  FROM rollup_invoice_open a FORCE INDEX (uk_invoice_open)"
    "  STRAIGHT_JOIN " MONTH_ENDS " ON m.day >= a.issued_on AND m.day < a.settled_on"
    "  LEFT JOIN payments p FORCE INDEX (k_payment_invoice)"
    "   ON p.store_code = a.store_code AND p.invoice_no = a.invoice_no AND p.paid_on <= m.day"
    "  WHERE a.store_code = ?"
    "  GROUP BY m.day, a.store_code, a.invoice_no, a.customer_code, a.issued_on, a.amount"
    "  HAVING open_amount > 0) o GROUP BY day, government, age_days";
/* Params: store, first, last. */
static const char SQL_RECV_AGE_DELETE[] =
    "DELETE FROM rollup_receivable_age WHERE store_code = ? AND day BETWEEN ? AND ?";
static const char SQL_RECV_BOUNDS[] =
    "SELECT LAST_DAY(MIN(issued_on)), LAST_DAY(MAX(issued_on)) FROM rollup_invoice_open";
static const char SQL_RECV_CLEAR[] = "DELETE FROM rollup_receivable_age";

/* One store's month ends [first, last] (month ends; nothing when first >
 * last; with_ages: the open amounts by age too, else only the day rows) and
 * its days from the first of first's month to last. */
static int recv_store_range(db_conn *c, const char *store, const char *first, const char *last, bool with_ages,
                            char *err, size_t errlen)
{
    if (!first[0] || !last[0] || strcmp(first, last) > 0) return 0;
    char first_day[11];
    snprintf(first_day, sizeof first_day, "%.8s01", first);
    db_val range[3] = { DB_STR(store), DB_STR(first), DB_STR(last) };
    db_val ages[5] = { DB_STR(store), DB_STR(first), DB_STR(last), DB_STR(first), DB_STR(store) };
    if (with_ages && (db_exec(c, SQL_RECV_AGE_DELETE, range, 3, NULL, err, errlen) != 0 ||
                      db_exec(c, SQL_RECV_AGE_INSERT, ages, 5, NULL, err, errlen) != 0))
        return -1;
    return receivable_days_store(c, store, first_day, last, err, errlen);
}

/* The first and last month ends with invoices, and the horizon ("" each
 * when none); the horizon row locked when lock. */
typedef struct recv_plan {
    char first[11], last[11], horizon[11];
} recv_plan;

static int recv_plan_get(db_conn *c, bool lock, recv_plan *p, char *err, size_t errlen)
{
    return one_row(c, SQL_RECV_BOUNDS, NULL, 0, p->first, p->last, err, errlen) != 0 ||
           horizon_get(c, RECEIVABLES, lock, p->horizon, err, errlen) != 0 ? -1 : 0;
}

static bool touched_has(const rollup_touch *touched, int ntouched, const char *store)
{
    for (int i = 0; i < ntouched; i++)
        if (strcmp(touched[i].store_code, store) == 0) return true;
    return false;
}

int month_end_receivables(db_conn *c, const rollup_touch *touched, int ntouched, recv_reason why,
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
        if (recv_store_range(c, t->store_code, from, to, why != RECV_AFTER_ROS, err, errlen) != 0) return -1;
    }
    if (!moves) return 0;
    db_result *stores = NULL;
    if (db_query(c, SQL_STORES, NULL, 0, &stores, err, errlen) != 0) return -1;
    int rc = 0;
    for (int i = 0; i < stores->nrows && rc == 0; i++)
        if (!touched_has(touched, ntouched, db_cell(stores, i, 0)))
            rc = recv_store_range(c, db_cell(stores, i, 0), new_from, horizon, true, err, errlen);
    db_result_free(stores);
    return rc != 0 ? -1 : horizon_set(c, RECEIVABLES, horizon, err, errlen);
}

int month_end_rebuild_receivables(db_conn *c, rollup_progress_fn progress, void *ud, char *err, size_t errlen)
{
    recv_plan p;
    if (db_exec(c, SQL_RECV_CLEAR, NULL, 0, NULL, err, errlen) != 0 ||
        receivable_days_clear(c, err, errlen) != 0 ||
        horizon_clear(c, RECEIVABLES, err, errlen) != 0 ||
        recv_plan_get(c, true, &p, err, errlen) != 0)
        return -1;
    if (!p.first[0]) return 0;
    db_result *stores = NULL;
    if (db_query(c, SQL_STORES, NULL, 0, &stores, err, errlen) != 0) return -1;
    int rc = 0;
    for (int i = 0; i < stores->nrows && rc == 0; i++) {
        if (progress) progress(ud, i, stores->nrows, db_cell(stores, i, 0));
        rc = recv_store_range(c, db_cell(stores, i, 0), p.first, p.last, true, err, errlen);
    }
    db_result_free(stores);
    return rc != 0 ? -1 : horizon_set(c, RECEIVABLES, p.last, err, errlen);
}


/* --- retention --- */

/* months_ago of date D at month end M (017): the calendar months from D's
 * month to M's, less one when D falls after M's day number (clamped) in its
 * month. served_after of a sale on S first served on F: the calendar months
 * between, plus one when F falls after S's day number (clamped) there;
 * 65535 when never served. "After the day number, clamped" is after it
 * unclamped (a day of a shorter month is never after its last), so both
 * are integer arithmetic on the year, month and day of the month: the same
 * values as the month intervals they stand for (checked on 7.25 million
 * state and month-end pairs of the 200-store demo) at half the cost. */
#define MONTH_NO(D) "(YEAR(" D ") * 12 + MONTH(" D "))"
#define MONTHS_AGO(M, D) "(" MONTH_NO(M) " - " MONTH_NO(D) " - (DAYOFMONTH(" D ") > DAYOFMONTH(" M ")))"
#define SERVED_AFTER(S, F) \
    "COALESCE(LEAST(" MONTH_NO(F) " - " MONTH_NO(S) " + (DAYOFMONTH(" F ") > DAYOFMONTH(" S ")), 65534), 65535)"

/* The states (alias v) of a small table T (state_gone, state_came: those a
 * refresh deleted, inserted) at each month end m.day of MONTH_ENDS (params:
 * first, last, first). */
#define STATES_AT_MONTH_ENDS(T) \
    " FROM " MONTH_ENDS " JOIN " T " v ON v.from_on <= m.day AND v.until_on > m.day"
/* Every state at one month end (param: the day): one short range of the
 * primary key per span_class (006_asof.sql), as the plugins read a day's
 * states; a join of every state with every month end instead reads the
 * whole table for each (55 s at 200 stores and 37 month ends, against 26 s
 * for the 37 statements of one month end each). */
#define SPAN_AT(K, DAYS) " OR (v.span_class = " #K " AND v.from_on > m.day - INTERVAL " #DAYS " DAY)"
#define STATES_AT_ONE_MONTH_END \
    " FROM (SELECT CAST(? AS DATE) AS day) m JOIN rollup_vehicle_state v FORCE INDEX (PRIMARY)" \
    " ON v.from_on <= m.day AND v.until_on > m.day AND (v.span_class = 99" SPAN_AT(0, 1) SPAN_AT(1, 2) \
    SPAN_AT(2, 4) SPAN_AT(3, 8) SPAN_AT(4, 16) SPAN_AT(5, 32) SPAN_AT(6, 64) SPAN_AT(7, 128) SPAN_AT(8, 256) \
    SPAN_AT(9, 512) SPAN_AT(10, 1024) SPAN_AT(11, 2048) SPAN_AT(12, 4096) SPAN_AT(13, 8192) SPAN_AT(14, 16384) \
    SPAN_AT(15, 32768) SPAN_AT(16, 65536) ")"
/* The rows of the states of SOURCE (one of the two above), each counted
 * COUNT ("COUNT(*)", or "-COUNT(*)" to take them out). */
#define LAST_ROWS(SOURCE, COUNT) \
    "SELECT m.day, v.last_store_code, " MONTHS_AGO("m.day", "v.from_on") ", " COUNT SOURCE " GROUP BY 1, 2, 3"
#define CHURN_ROWS(SOURCE, COUNT) \
    "SELECT m.day, " MONTHS_AGO("m.day", "v.sold_on") ", v.sale_store_code, " MONTHS_AGO("m.day", "v.from_on") \
    ", " COUNT SOURCE " AND v.sold_on IS NOT NULL GROUP BY 1, 2, 3, 4"
/* a first visit after the month end is not yet one there: the month end's
 * rows stay those of the facts up to it */
#define FIRST_ROWS(SOURCE, COUNT) \
    "SELECT m.day, " MONTHS_AGO("m.day", "v.sold_on") ", v.sale_store_code, " \
    SERVED_AFTER("v.sold_on", "IF(v.first_visit_on <= m.day, v.first_visit_on, NULL)") ", " COUNT \
    SOURCE " AND v.sold_on IS NOT NULL GROUP BY 1, 2, 3, 4"

#define LAST_COLS "(day, store_code, months_ago, vehicles)"
#define COHORT_COLS(K) "(day, sold_ago, store_code, " K ", vehicles)"

/* Every vehicle at the month ends [first, last]: delete, then insert one
 * month end at a time. Params: first, last (deletes); the month end (inserts). */
static const char *const SQL_RET_DELETE[] = {
    "DELETE FROM rollup_retention_last WHERE day BETWEEN ? AND ?",
    "DELETE FROM rollup_retention_churn WHERE day BETWEEN ? AND ?",
    "DELETE FROM rollup_retention_first WHERE day BETWEEN ? AND ?",
};
static const char *const SQL_RET_INSERT[] = {
    "INSERT INTO rollup_retention_last " LAST_COLS " " LAST_ROWS(STATES_AT_ONE_MONTH_END, "COUNT(*)"),
    "INSERT INTO rollup_retention_churn " COHORT_COLS("last_ago") " " CHURN_ROWS(STATES_AT_ONE_MONTH_END, "COUNT(*)"),
    "INSERT INTO rollup_retention_first " COHORT_COLS("served_after") " " FIRST_ROWS(STATES_AT_ONE_MONTH_END, "COUNT(*)"),
};

/* The changes of a refresh, collected in ret_d_* (the states it deleted
 * counted -1, those it inserted +1), then added to the tables; rows brought
 * to 0 are removed. */
static const char *const SQL_RET_TEMP[] = {
    "CREATE TEMPORARY TABLE IF NOT EXISTS ret_d_last (day DATE NOT NULL, store_code VARCHAR(32)" ASCII_COL ","
    " months_ago SMALLINT UNSIGNED NOT NULL, vehicles INT NOT NULL)",
    "CREATE TEMPORARY TABLE IF NOT EXISTS ret_d_churn (day DATE NOT NULL, sold_ago SMALLINT UNSIGNED NOT NULL,"
    " store_code VARCHAR(32)" ASCII_COL ", last_ago SMALLINT UNSIGNED NOT NULL, vehicles INT NOT NULL)",
    "CREATE TEMPORARY TABLE IF NOT EXISTS ret_d_first (day DATE NOT NULL, sold_ago SMALLINT UNSIGNED NOT NULL,"
    " store_code VARCHAR(32)" ASCII_COL ", served_after SMALLINT UNSIGNED NOT NULL, vehicles INT NOT NULL)",
    "DELETE FROM ret_d_last", "DELETE FROM ret_d_churn", "DELETE FROM ret_d_first",
};
/* Params: first, last, first. */
static const char *const SQL_RET_TAKE_OUT[] = {
    "INSERT INTO ret_d_last " LAST_COLS " " LAST_ROWS(STATES_AT_MONTH_ENDS("state_gone"), "-COUNT(*)"),
    "INSERT INTO ret_d_churn " COHORT_COLS("last_ago") " " CHURN_ROWS(STATES_AT_MONTH_ENDS("state_gone"), "-COUNT(*)"),
    "INSERT INTO ret_d_first " COHORT_COLS("served_after") " " FIRST_ROWS(STATES_AT_MONTH_ENDS("state_gone"), "-COUNT(*)"),
};
static const char *const SQL_RET_PUT_IN[] = {
    "INSERT INTO ret_d_last " LAST_COLS " " LAST_ROWS(STATES_AT_MONTH_ENDS("state_came"), "COUNT(*)"),
    "INSERT INTO ret_d_churn " COHORT_COLS("last_ago") " " CHURN_ROWS(STATES_AT_MONTH_ENDS("state_came"), "COUNT(*)"),
    "INSERT INTO ret_d_first " COHORT_COLS("served_after") " " FIRST_ROWS(STATES_AT_MONTH_ENDS("state_came"), "COUNT(*)"),
};
/* No params. */
#define RET_MERGE(T, D, KEY) \
    "INSERT INTO " T " (" KEY ", vehicles) SELECT " KEY ", SUM(vehicles) FROM " D " GROUP BY " KEY \
    " HAVING SUM(vehicles) <> 0 ON DUPLICATE KEY UPDATE vehicles = " T ".vehicles + VALUES(vehicles)"
#define RET_ZEROS(T, D, KEY) \
    "DELETE r FROM " T " r JOIN (SELECT DISTINCT " KEY " FROM " D ") k USING (" KEY ") WHERE r.vehicles = 0"
static const char *const SQL_RET_MERGE[] = {
    RET_MERGE("rollup_retention_last", "ret_d_last", "day, store_code, months_ago"),
    RET_ZEROS("rollup_retention_last", "ret_d_last", "day, store_code, months_ago"),
    RET_MERGE("rollup_retention_churn", "ret_d_churn", "day, sold_ago, store_code, last_ago"),
    RET_ZEROS("rollup_retention_churn", "ret_d_churn", "day, sold_ago, store_code, last_ago"),
    RET_MERGE("rollup_retention_first", "ret_d_first", "day, sold_ago, store_code, served_after"),
    RET_ZEROS("rollup_retention_first", "ret_d_first", "day, sold_ago, store_code, served_after"),
};

/* The month ends with any vehicle: the first and the last (visits and sales). */
static const char SQL_RET_BOUNDS[] =
    "SELECT LAST_DAY(LEAST(COALESCE((SELECT MIN(visit_on) FROM rollup_vehicle_visit), '9999-12-31'),"
    "   COALESCE((SELECT MIN(sold_on) FROM vehicle_sales), '9999-12-31'))),"
    " LAST_DAY(GREATEST(COALESCE((SELECT MAX(visit_on) FROM rollup_vehicle_visit), '1000-01-01'),"
    "   COALESCE((SELECT MAX(sold_on) FROM vehicle_sales), '1000-01-01')))";

/* Each of sqls with the params first, last (deletes: nparams 2) or first,
 * last, first (MONTH_ENDS: nparams 3). */
static int exec_range(db_conn *c, const char *const *sqls, int n, int nparams, const char *first, const char *last,
                      char *err, size_t errlen)
{
    db_val p[3] = { DB_STR(first), DB_STR(last), DB_STR(first) };
    for (int i = 0; i < n; i++)
        if (db_exec(c, sqls[i], p, nparams, NULL, err, errlen) != 0) return -1;
    return 0;
}

static int exec_plain(db_conn *c, const char *const *sqls, int n, char *err, size_t errlen)
{
    for (int i = 0; i < n; i++)
        if (db_exec(c, sqls[i], NULL, 0, NULL, err, errlen) != 0) return -1;
    return 0;
}
#define NSQL(list) ((int)(sizeof list / sizeof *list))

/* Every vehicle at the month ends [first, last] (a rebuild, or the month
 * ends past the old horizon). */
static int ret_build_range(db_conn *c, const char *first, const char *last, char *err, size_t errlen)
{
    if (!first[0] || !last[0] || strcmp(first, last) > 0) return 0;
    if (exec_range(c, SQL_RET_DELETE, NSQL(SQL_RET_DELETE), 2, first, last, err, errlen) != 0) return -1;
    char day[11];
    snprintf(day, sizeof day, "%s", first);
    for (int n = 0; strcmp(day, last) <= 0 && n < 1200; n++) {    /* 1200: MONTH_ENDS's bound */
        db_val p[1] = { DB_STRN(day, strlen(day)) };
        for (int i = 0; i < NSQL(SQL_RET_INSERT); i++)
            if (db_exec(c, SQL_RET_INSERT[i], p, 1, NULL, err, errlen) != 0) return -1;
        char next[11];
        month_end_after(day, 1, next);
        memcpy(day, next, sizeof day);
    }
    return 0;
}

static int ret_bounds(db_conn *c, char first[11], char last[11], char *err, size_t errlen)
{
    if (one_row(c, SQL_RET_BOUNDS, NULL, 0, first, last, err, errlen) != 0) return -1;
    if (strcmp(first, "9999-12-31") >= 0) first[0] = 0;     /* no vehicle at all */
    if (strcmp(last, "1000-01-31") <= 0) last[0] = 0;
    return 0;
}

/* The states a refresh deleted and inserted (core/data/rollup_asof.c). */
static const char *const SQL_STATE_ROWS_TEMP[] = {
    STATE_ROWS_TEMP("state_gone"), STATE_ROWS_TEMP("state_came"), "DELETE FROM state_gone", "DELETE FROM state_came",
};

int month_end_retention_prepare(db_conn *c, char *err, size_t errlen)
{
    return exec_plain(c, SQL_STATE_ROWS_TEMP, NSQL(SQL_STATE_ROWS_TEMP), err, errlen);
}

int month_end_retention_begin(db_conn *c, const char *since, month_end_retention *r, char *err, size_t errlen)
{
    memset(r, 0, sizeof *r);
    if (since && since[0]) month_end_after(since, 0, r->since);
    if (ret_bounds(c, r->first, r->last, err, errlen) != 0 ||
        horizon_get(c, RETENTION, false, r->horizon, err, errlen) != 0)
        return -1;
    if (!r->horizon[0] || !r->first[0]) return 0;            /* nothing held yet: _end builds it all */
    if (exec_plain(c, SQL_RET_TEMP, NSQL(SQL_RET_TEMP), err, errlen) != 0) return -1;
    r->taken_out = true;
    return 0;
}

int month_end_retention_end(db_conn *c, const month_end_retention *r, char *err, size_t errlen)
{
    char first[11], last[11];
    if (ret_bounds(c, first, last, err, errlen) != 0) return -1;
    if (!first[0]) return 0;
    if (!r->taken_out) {                                      /* nothing was held: everything */
        if (ret_build_range(c, first, last, err, errlen) != 0) return -1;
        return horizon_set(c, RETENTION, last, err, errlen);
    }
    /* the states deleted, from the old first month end or the change's, to
     * the old horizon; those inserted, from the earlier first month end
     * (the old states held nothing before the old one), or from the
     * change's */
    const char *take_from = later_of(r->first, r->since);
    if (strcmp(take_from, r->horizon) <= 0 &&
        exec_range(c, SQL_RET_TAKE_OUT, NSQL(SQL_RET_TAKE_OUT), 3, take_from, r->horizon, err, errlen) != 0)
        return -1;
    const char *put_from = later_of(earlier_of(first, r->first), r->since);
    if (strcmp(put_from, r->horizon) <= 0 &&
        exec_range(c, SQL_RET_PUT_IN, NSQL(SQL_RET_PUT_IN), 3, put_from, r->horizon, err, errlen) != 0)
        return -1;
    if (exec_plain(c, SQL_RET_MERGE, NSQL(SQL_RET_MERGE), err, errlen) != 0) return -1;
    if (strcmp(last, r->horizon) <= 0) return 0;
    /* past the horizon: every vehicle at the new month ends */
    char from[11], locked[11];
    if (horizon_get(c, RETENTION, true, locked, err, errlen) != 0) return -1;
    month_end_after(later_of(locked, r->horizon), 1, from);
    if (ret_build_range(c, from, last, err, errlen) != 0) return -1;
    return horizon_set(c, RETENTION, later_of(last, locked), err, errlen);
}

int month_end_rebuild_retention(db_conn *c, char *err, size_t errlen)
{
    char first[11], last[11];
    if (exec_plain(c, (const char *const[]){ "DELETE FROM rollup_retention_last", "DELETE FROM rollup_retention_churn",
                                             "DELETE FROM rollup_retention_first" }, 3, err, errlen) != 0 ||
        horizon_clear(c, RETENTION, err, errlen) != 0 || ret_bounds(c, first, last, err, errlen) != 0)
        return -1;
    if (!first[0]) return 0;
    return ret_build_range(c, first, last, err, errlen) != 0 ? -1 : horizon_set(c, RETENTION, last, err, errlen);
}
