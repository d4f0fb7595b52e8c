/* rollup: keeps the derived tables of schemas/003_rollups.sql current. The
 * importer calls rollup_refresh() inside its transaction with the stores and
 * business dates a file touched; each refresh deletes the derived rows of a
 * (store, date range) and rebuilds them with one INSERT ... SELECT ... GROUP
 * BY per table, never row by row (the vehicles' visits, by VIN, are computed
 * anew and only the days that differ written: refresh_visits_vins). rollup_rebuild() (`fourscore rollup
 * --rebuild`) does the same for every store over all dates.
 *
 * What depends on what is data: each entity's line of the entity table
 * (entities.c) says what it feeds (enum entity_feed), and REFRESH_STEPS
 * below says, for each feed, which derived tables are redone from what, in
 * the order the refresh walks them: first the per-store tables over each
 * touched store's dates, then those that follow vehicles, invoices and
 * month ends. An entity that feeds nothing is read by the plugins from the
 * facts directly. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "config.h"
#include "entities.h"
#include "log.h"
#include "rollup.h"
#include "rollup_asof.h"
#include "rollup_match.h"
#include "rollup_month_end.h"

#define ROLLUP_ALL_FROM "1000-01-01"
#define ROLLUP_ALL_TO   "9999-12-30"
#define ROLLUP_VINS_BY_LIST 20000    /* more VINs than this: refresh visits by date range */

/* The rows of a store's days [from, to] in a per-day table, and of the
 * months that meet them in a per-month table (`day` = the month's first day).
 * Params: store, from, to. */
#define MONTH_OF(D) "DATE_FORMAT(" D ", '%Y-%m-01')"
#define DAYS_DELETE(T) "DELETE FROM " T " WHERE store_code = ? AND day BETWEEN ? AND ?"
#define MONTHS_DELETE(T) "DELETE FROM " T " WHERE store_code = ? AND day BETWEEN " MONTH_OF("?") " AND ?"
#define MONTHS_OF_DAYS " WHERE store_code = ? AND day BETWEEN " MONTH_OF("?") " AND LAST_DAY(?)"
/* A month table's rows from its day table: KEYS ("" or ", col, ...") beside
 * store and day, VALUES its summed columns, SUMS their sums. */
#define MONTHS_INSERT(MONTHT, DAYT, KEYS, VALUES, SUMS) \
    "INSERT INTO " MONTHT " (store_code, day" KEYS ", " VALUES ")" \
    " SELECT store_code, " MONTH_OF("day") KEYS ", " SUMS " FROM " DAYT MONTHS_OF_DAYS \
    " GROUP BY store_code, " MONTH_OF("day") KEYS

/* --- repair orders: per RO, per day, per insurer and day --- */

/* Params: (store, from, to) three times: labour lines, part lines, the ROs.
 * The line sums are grouped by the RO's own ro_no, which the store's ROs are
 * read in (primary key order), so they need no temporary table and sort. */
static const char SQL_RO_DELETE[] =
    DAYS_DELETE("rollup_ro");
static const char SQL_RO_INSERT[] =
    "REPLACE INTO rollup_ro (store_code, ro_no, day, closed_at, vin, customer_code, ro_type, payer,"
    " insurer_code, is_comeback, revenue, cost, labour_revenue, sold_hours, sold_hours_clocked,"
    " clocked_hours, parts_revenue, parts_cost, part_lines, part_lines_from_stock, material_revenue,"
    " material_cost, accessory_revenue, accessory_cost, other_amount, discount_amount,"
    " appointment_kept, followup_lag, reached_calls, complaint_calls, workshop_seconds)"
    " SELECT r.store_code, r.ro_no, DATE(r.closed_at), r.closed_at, r.vin, r.customer_code,"
    "  CAST(r.ro_type AS CHAR), CAST(r.payer AS CHAR), r.insurer_code, r.comeback_of IS NOT NULL,"
    "  COALESCE(l.amount, 0) + COALESCE(p.part_rev, 0) + COALESCE(p.mat_rev, 0) + COALESCE(p.acc_rev, 0)"
    "   + COALESCE(r.other_amount, 0) - COALESCE(r.discount_amount, 0),"
    "  COALESCE(p.part_cost, 0) + COALESCE(p.mat_cost, 0) + COALESCE(p.acc_cost, 0),"
    "  COALESCE(l.amount, 0), COALESCE(l.sold, 0), COALESCE(l.sold_clocked, 0), COALESCE(l.clocked, 0),"
    "  COALESCE(p.part_rev, 0), COALESCE(p.part_cost, 0), COALESCE(p.part_lines, 0),"
    "  COALESCE(p.part_lines_stock, 0), COALESCE(p.mat_rev, 0), COALESCE(p.mat_cost, 0),"
    "  COALESCE(p.acc_rev, 0), COALESCE(p.acc_cost, 0), COALESCE(r.other_amount, 0),"
    "  COALESCE(r.discount_amount, 0),"
    /* contact with the customer (013_contact_rollups.sql): a kept
     * appointment naming the RO; its reached calls (the first on or after
     * the closing day, in days after it; how many; with a complaint) */
    "  EXISTS (SELECT 1 FROM appointments a FORCE INDEX (k_appt_ro)"
    "   WHERE a.store_code = r.store_code AND a.ro_no = r.ro_no AND a.showed = 1),"
    "  (SELECT MIN(DATEDIFF(f.called_at, r.closed_at)) FROM follow_up_calls f"
    "   WHERE f.store_code = r.store_code AND f.ro_no = r.ro_no AND f.reached = 1"
    "   AND DATE(f.called_at) >= DATE(r.closed_at)),"
    "  (SELECT COUNT(*) FROM follow_up_calls f WHERE f.store_code = r.store_code AND f.ro_no = r.ro_no"
    "   AND f.reached = 1),"
    "  (SELECT COUNT(*) FROM follow_up_calls f WHERE f.store_code = r.store_code AND f.ro_no = r.ro_no"
    "   AND f.reached = 1 AND f.complaint = 1),"
    /* the time in the workshop (service.turnaround_hours) */
    "  TIMESTAMPDIFF(SECOND, r.opened_at, r.closed_at)"
    " FROM repair_orders r"
    " LEFT JOIN (SELECT r2.ro_no, SUM(l.amount) AS amount, SUM(l.sold_hours) AS sold,"
    "   SUM(CASE WHEN l.clocked_hours IS NOT NULL THEN l.sold_hours ELSE 0 END) AS sold_clocked,"
    "   SUM(COALESCE(l.clocked_hours, 0)) AS clocked"
    "   FROM repair_orders r2 JOIN ro_labour l ON l.store_code = r2.store_code AND l.ro_no = r2.ro_no"
    "   WHERE r2.store_code = ? AND r2.closed_at >= ? AND r2.closed_at < DATE_ADD(?, INTERVAL 1 DAY)"
    "   AND r2.ro_type <> 'internal' GROUP BY r2.ro_no) l ON l.ro_no = r.ro_no"
    " LEFT JOIN (SELECT r3.ro_no,"
    "   SUM(CASE WHEN p.category = 'part' THEN p.qty * p.unit_price ELSE 0 END) AS part_rev,"
    "   SUM(CASE WHEN p.category = 'part' THEN p.qty * p.unit_cost ELSE 0 END) AS part_cost,"
    "   SUM(p.category = 'part') AS part_lines,"
    "   SUM(p.category = 'part' AND COALESCE(p.from_stock, 1) <> 0) AS part_lines_stock,"
    "   SUM(CASE WHEN p.category = 'material' THEN p.qty * p.unit_price ELSE 0 END) AS mat_rev,"
    "   SUM(CASE WHEN p.category = 'material' THEN p.qty * p.unit_cost ELSE 0 END) AS mat_cost,"
    "   SUM(CASE WHEN p.category = 'accessory' THEN p.qty * p.unit_price ELSE 0 END) AS acc_rev,"
    "   SUM(CASE WHEN p.category = 'accessory' THEN p.qty * p.unit_cost ELSE 0 END) AS acc_cost"
    "   FROM repair_orders r3 JOIN ro_parts p ON p.store_code = r3.store_code AND p.ro_no = r3.ro_no"
    "   WHERE r3.store_code = ? AND r3.closed_at >= ? AND r3.closed_at < DATE_ADD(?, INTERVAL 1 DAY)"
    "   AND r3.ro_type <> 'internal' GROUP BY r3.ro_no) p ON p.ro_no = r.ro_no"
    " WHERE r.store_code = ? AND r.closed_at >= ? AND r.closed_at < DATE_ADD(?, INTERVAL 1 DAY)"
    " AND r.ro_type <> 'internal'";

static const char SQL_RO_DAY_DELETE[] =
    DAYS_DELETE("rollup_ro_day");
static const char SQL_RO_DAY_INSERT[] =
    "INSERT INTO rollup_ro_day (store_code, day, ro_count, comeback_count, revenue, labour_revenue,"
    " sold_hours, sold_hours_clocked, clocked_hours, parts_revenue, parts_cost, part_lines,"
    " part_lines_from_stock, material_revenue, material_cost, accessory_revenue, accessory_cost,"
    " other_amount, discount_amount, bodywork_ro_count, bodywork_revenue, bodywork_material_cost,"
    " insurer_revenue, appointment_kept_count, reached_calls, complaint_calls, workshop_seconds)"
    " SELECT store_code, day, COUNT(*), SUM(is_comeback), SUM(revenue), SUM(labour_revenue),"
    "  SUM(sold_hours), SUM(sold_hours_clocked), SUM(clocked_hours), SUM(parts_revenue), SUM(parts_cost),"
    "  SUM(part_lines), SUM(part_lines_from_stock), SUM(material_revenue), SUM(material_cost),"
    "  SUM(accessory_revenue), SUM(accessory_cost),"
    "  SUM(other_amount), SUM(discount_amount),"
    "  SUM(ro_type = 'bodywork'), SUM(CASE WHEN ro_type = 'bodywork' THEN revenue ELSE 0 END),"
    "  SUM(CASE WHEN ro_type = 'bodywork' THEN material_cost ELSE 0 END),"
    "  SUM(CASE WHEN payer = 'insurer' THEN revenue ELSE 0 END),"
    "  SUM(appointment_kept), SUM(reached_calls), SUM(complaint_calls), SUM(workshop_seconds)"
    " FROM rollup_ro WHERE store_code = ? AND day BETWEEN ? AND ? GROUP BY store_code, day";
static const char SQL_RO_INS_DELETE[] =
    DAYS_DELETE("rollup_ro_insurer_day");
static const char SQL_RO_INS_INSERT[] =
    "INSERT INTO rollup_ro_insurer_day (store_code, day, insurer_code, ro_count, revenue)"
    " SELECT store_code, day, insurer_code, COUNT(*), SUM(revenue) FROM rollup_ro"
    " WHERE store_code = ? AND day BETWEEN ? AND ? AND payer = 'insurer' AND insurer_code IS NOT NULL"
    " GROUP BY store_code, day, insurer_code";

/* Per store and month, from the day rows (schemas/011_month_rollups.sql):
 * the months that meet [from, to] are redone whole. Params: store, from, to. */
static const char SQL_RO_MONTH_DELETE[] =
    MONTHS_DELETE("rollup_ro_month");
static const char SQL_RO_MONTH_INSERT[] =
    "INSERT INTO rollup_ro_month (store_code, day, ro_count, comeback_count, revenue, labour_revenue,"
    " sold_hours, sold_hours_clocked, clocked_hours, parts_revenue, parts_cost, part_lines,"
    " part_lines_from_stock, material_revenue, material_cost, accessory_revenue, accessory_cost,"
    " other_amount, discount_amount, bodywork_ro_count, bodywork_revenue, bodywork_material_cost,"
    " insurer_revenue, appointment_kept_count, reached_calls, complaint_calls, workshop_seconds)"
    " SELECT store_code, " MONTH_OF("day") ", SUM(ro_count), SUM(comeback_count), SUM(revenue),"
    "  SUM(labour_revenue), SUM(sold_hours), SUM(sold_hours_clocked), SUM(clocked_hours),"
    "  SUM(parts_revenue), SUM(parts_cost), SUM(part_lines), SUM(part_lines_from_stock),"
    "  SUM(material_revenue), SUM(material_cost), SUM(accessory_revenue), SUM(accessory_cost),"
    "  SUM(other_amount), SUM(discount_amount), SUM(bodywork_ro_count), SUM(bodywork_revenue),"
    "  SUM(bodywork_material_cost), SUM(insurer_revenue), SUM(appointment_kept_count), SUM(reached_calls),"
    "  SUM(complaint_calls), SUM(workshop_seconds)"
    " FROM rollup_ro_day" MONTHS_OF_DAYS
    " GROUP BY store_code, " MONTH_OF("day");
static const char SQL_RO_INS_MONTH_DELETE[] =
    MONTHS_DELETE("rollup_ro_insurer_month");
static const char SQL_RO_INS_MONTH_INSERT[] =
    MONTHS_INSERT("rollup_ro_insurer_month", "rollup_ro_insurer_day", ", insurer_code", "ro_count, revenue",
                  "SUM(ro_count), SUM(revenue)");

/* ROs by the lag of their first reached call, per day, then per month. */
static const char SQL_FOLLOWUP_DAY_DELETE[] =
    DAYS_DELETE("rollup_ro_followup_day");
static const char SQL_FOLLOWUP_DAY_INSERT[] =
    "INSERT INTO rollup_ro_followup_day (store_code, day, lag_days, ro_count)"
    " SELECT store_code, day, followup_lag, COUNT(*) FROM rollup_ro"
    " WHERE store_code = ? AND day BETWEEN ? AND ? AND followup_lag IS NOT NULL"
    " GROUP BY store_code, day, followup_lag";
static const char SQL_FOLLOWUP_MONTH_DELETE[] =
    MONTHS_DELETE("rollup_ro_followup_month");
static const char SQL_FOLLOWUP_MONTH_INSERT[] =
    MONTHS_INSERT("rollup_ro_followup_month", "rollup_ro_followup_day", ", lag_days", "ro_count", "SUM(ro_count)");

/* --- new-car sales (030_sales_rollups.sql): per store and day, then month. Params: store, from, to. --- */

static const char SQL_SALES_DAY_DELETE[] = DAYS_DELETE("rollup_sales_day");
static const char SQL_SALES_DAY_INSERT[] =
    "INSERT INTO rollup_sales_day (store_code, day, units, revenue, referrals)"
    " SELECT store_code, sold_on, COUNT(*), SUM(sale_amount), SUM(IF(referral, 1, 0)) FROM vehicle_sales"
    " WHERE store_code = ? AND sold_on BETWEEN ? AND ? GROUP BY store_code, sold_on";
static const char SQL_SALES_MONTH_DELETE[] = MONTHS_DELETE("rollup_sales_month");
static const char SQL_SALES_MONTH_INSERT[] =
    MONTHS_INSERT("rollup_sales_month", "rollup_sales_day", "", "units, revenue, referrals",
                  "SUM(units), SUM(revenue), SUM(referrals)");

/* --- surveys and premium (014_survey_policy_rollups.sql) --- */

/* Per store and day, then month. Params: store, from, to. */
static const char SQL_CSI_DAY_DELETE[] =
    DAYS_DELETE("rollup_csi_day");
static const char SQL_CSI_DAY_INSERT[] =
    "INSERT INTO rollup_csi_day (store_code, day, responses, score_sum, reliability_sum, responsiveness_sum,"
    " assurance_sum, empathy_sum, tangibles_sum)"
    " SELECT store_code, surveyed_on, COUNT(*),"
    "  SUM(0.32 * reliability + 0.22 * responsiveness + 0.19 * assurance + 0.16 * empathy + 0.11 * tangibles),"
    "  SUM(reliability), SUM(responsiveness), SUM(assurance), SUM(empathy), SUM(tangibles)"
    " FROM csi_surveys WHERE store_code = ? AND surveyed_on BETWEEN ? AND ? GROUP BY store_code, surveyed_on";
static const char SQL_CSI_MONTH_DELETE[] =
    MONTHS_DELETE("rollup_csi_month");
static const char SQL_CSI_MONTH_INSERT[] =
    MONTHS_INSERT("rollup_csi_month", "rollup_csi_day", "",
                  "responses, score_sum, reliability_sum, responsiveness_sum, assurance_sum, empathy_sum, tangibles_sum",
                  "SUM(responses), SUM(score_sum), SUM(reliability_sum), SUM(responsiveness_sum), SUM(assurance_sum),"
                  " SUM(empathy_sum), SUM(tangibles_sum)");
static const char SQL_PREMIUM_DAY_DELETE[] =
    DAYS_DELETE("rollup_premium_day");
static const char SQL_PREMIUM_DAY_INSERT[] =
    "INSERT INTO rollup_premium_day (store_code, day, insurer_code, kind, policies, premium)"
    " SELECT store_code, sold_on, insurer_code, kind, COUNT(*), SUM(premium) FROM insurance_policies"
    " WHERE store_code = ? AND sold_on BETWEEN ? AND ? GROUP BY store_code, sold_on, insurer_code, kind";
static const char SQL_PREMIUM_MONTH_DELETE[] =
    MONTHS_DELETE("rollup_premium_month");
static const char SQL_PREMIUM_MONTH_INSERT[] =
    MONTHS_INSERT("rollup_premium_month", "rollup_premium_day", ", insurer_code, kind", "policies, premium",
                  "SUM(policies), SUM(premium)");

/* Amounts invoiced per store and day, then month (016_receivable_month_ends.sql). */
static const char SQL_INVOICE_DAY_DELETE[] =
    DAYS_DELETE("rollup_invoice_day");
static const char SQL_INVOICE_DAY_INSERT[] =
    "INSERT INTO rollup_invoice_day (store_code, day, invoices, amount)"
    " SELECT store_code, issued_on, COUNT(*), SUM(amount) FROM invoices"
    " WHERE store_code = ? AND issued_on BETWEEN ? AND ? GROUP BY store_code, issued_on";
static const char SQL_INVOICE_MONTH_DELETE[] =
    MONTHS_DELETE("rollup_invoice_month");
static const char SQL_INVOICE_MONTH_INSERT[] =
    MONTHS_INSERT("rollup_invoice_month", "rollup_invoice_day", "", "invoices, amount", "SUM(invoices), SUM(amount)");

/* --- stock snapshots --- */

static const char SQL_STOCK_DELETE[] =
    "DELETE FROM rollup_stock WHERE store_code = ? AND snapshot_on BETWEEN ? AND ?";
static const char SQL_STOCK_INSERT[] =
    "INSERT INTO rollup_stock (store_code, snapshot_on, part_rows, stock_value)"
    " SELECT store_code, snapshot_on, COUNT(*), SUM(qty_on_hand * unit_cost) FROM parts_stock"
    " WHERE store_code = ? AND snapshot_on BETWEEN ? AND ? GROUP BY store_code, snapshot_on";
static const char SQL_STOCK_AGE_DELETE[] =
    "DELETE FROM rollup_stock_age WHERE store_code = ? AND snapshot_on BETWEEN ? AND ?";
static const char SQL_STOCK_AGE_INSERT[] =
    "INSERT INTO rollup_stock_age (store_code, snapshot_on, age_days, stock_value)"
    " SELECT store_code, snapshot_on, age, SUM(v) FROM (SELECT store_code, snapshot_on,"
    "  COALESCE(DATEDIFF(snapshot_on, COALESCE(last_issue_on, last_receipt_on)), 1000000) AS age,"
    "  qty_on_hand * unit_cost AS v FROM parts_stock WHERE store_code = ? AND snapshot_on BETWEEN ? AND ?) s"
    " GROUP BY store_code, snapshot_on, age";

/* --- vehicle visits --- */

#define VISIT_SELECT \
    "SELECT vin, DATE(closed_at), COUNT(*), MAX(closed_at)," \
    " SUBSTRING_INDEX(GROUP_CONCAT(store_code ORDER BY closed_at DESC, store_code ASC SEPARATOR ','), ',', 1)" \
    " FROM repair_orders WHERE closed_at IS NOT NULL AND ro_type <> 'internal' "
#define VISIT_INSERT "INSERT INTO rollup_vehicle_visit (vin, visit_on, visits, last_closed_at, last_store_code) "

static const char SQL_VISIT_RANGE_DELETE[] =
    "DELETE FROM rollup_vehicle_visit WHERE visit_on BETWEEN ? AND ?";
static const char SQL_VISIT_RANGE_INSERT[] =
    VISIT_INSERT VISIT_SELECT
    " AND closed_at >= ? AND closed_at < DATE_ADD(?, INTERVAL 1 DAY) GROUP BY vin, DATE(closed_at)";

/* A refresh by VINs writes only the visit days that changed (as the states
 * do, core/data/rollup_asof.c): the VINs' days go to the connection's
 * temporary table visit_new, the old days it does not hold are deleted and
 * its days are inserted over the old ones, an unchanged row being left as
 * it is. The by-VIN statements are built once and kept for the life of the
 * process (db.h caches statements by text). */
static const char SQL_VISIT_NEW_TEMP[] =
    "CREATE TEMPORARY TABLE IF NOT EXISTS visit_new (vin CHAR(17) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,"
    " visit_on DATE NOT NULL, visits INT UNSIGNED NOT NULL, last_closed_at DATETIME NOT NULL,"
    " last_store_code VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL, PRIMARY KEY (vin, visit_on))";
static const char SQL_VISIT_NEW_CLEAR[] = "DELETE FROM visit_new";
static const char SQL_VISIT_NEW_APPLY[] =
    VISIT_INSERT "SELECT vin, visit_on, visits, last_closed_at, last_store_code FROM visit_new"
    " ON DUPLICATE KEY UPDATE visits = VALUES(visits), last_closed_at = VALUES(last_closed_at),"
    " last_store_code = VALUES(last_store_code)";
static char *sql_visit_vin_new, *sql_visit_vin_stale_delete;
static pthread_once_t visit_sql_once = PTHREAD_ONCE_INIT;

static void build_visit_sql(void)
{
    sql_visit_vin_new = rollup_sql_vin_lists("INSERT INTO visit_new (vin, visit_on, visits, last_closed_at, last_store_code) "
                                             VISIT_SELECT " AND vin IN @ GROUP BY vin, DATE(closed_at)");
    sql_visit_vin_stale_delete = rollup_sql_vin_lists(
        "DELETE v FROM rollup_vehicle_visit v LEFT JOIN visit_new n ON n.vin = v.vin AND n.visit_on = v.visit_on"
        " WHERE v.vin IN @ AND n.vin IS NULL");
}

/* --- refresh steps --- */

static int exec3(db_conn *c, const char *sql, const char *store, const char *from, const char *to,
                 char *err, size_t errlen)
{
    db_val p[3] = { DB_STR(store), DB_STR(from), DB_STR(to) };
    return db_exec(c, sql, p, 3, NULL, err, errlen);
}

/* Runs each statement of sqls (params: store, from, to) in order. */
static int exec_each(db_conn *c, const char *const *sqls, size_t n, const char *store, const char *from,
                     const char *to, char *err, size_t errlen)
{
    for (size_t i = 0; i < n; i++)
        if (exec3(c, sqls[i], store, from, to, err, errlen) != 0) return -1;
    return 0;
}
#define EXEC_EACH(c, list, store, from, to, err, errlen) \
    exec_each(c, list, sizeof list / sizeof *list, store, from, to, err, errlen)

static const char *const RO_AFTER_ROS[] = {
    SQL_RO_DAY_DELETE, SQL_RO_DAY_INSERT, SQL_RO_INS_DELETE, SQL_RO_INS_INSERT,
    SQL_RO_MONTH_DELETE, SQL_RO_MONTH_INSERT, SQL_RO_INS_MONTH_DELETE, SQL_RO_INS_MONTH_INSERT,
    SQL_FOLLOWUP_DAY_DELETE, SQL_FOLLOWUP_DAY_INSERT, SQL_FOLLOWUP_MONTH_DELETE, SQL_FOLLOWUP_MONTH_INSERT,
};
static const char *const STOCK_ALL[] = { SQL_STOCK_DELETE, SQL_STOCK_INSERT, SQL_STOCK_AGE_DELETE, SQL_STOCK_AGE_INSERT };
static const char *const SALES_ALL[] = {
    SQL_SALES_DAY_DELETE, SQL_SALES_DAY_INSERT, SQL_SALES_MONTH_DELETE, SQL_SALES_MONTH_INSERT,
};
static const char *const CSI_ALL[] = { SQL_CSI_DAY_DELETE, SQL_CSI_DAY_INSERT, SQL_CSI_MONTH_DELETE, SQL_CSI_MONTH_INSERT };
static const char *const PREMIUM_ALL[] = {
    SQL_PREMIUM_DAY_DELETE, SQL_PREMIUM_DAY_INSERT, SQL_PREMIUM_MONTH_DELETE, SQL_PREMIUM_MONTH_INSERT,
};
static const char *const INVOICED_ALL[] = {
    SQL_INVOICE_DAY_DELETE, SQL_INVOICE_DAY_INSERT, SQL_INVOICE_MONTH_DELETE, SQL_INVOICE_MONTH_INSERT,
};

/* rollup_ro (its insert names the store and dates three times), then the sums read from it. */
static int refresh_ro_range(db_conn *c, const char *store, const char *from, const char *to,
                            char *err, size_t errlen)
{
    db_val p9[9] = { DB_STR(store), DB_STR(from), DB_STR(to), DB_STR(store), DB_STR(from), DB_STR(to),
                     DB_STR(store), DB_STR(from), DB_STR(to) };
    if (exec3(c, SQL_RO_DELETE, store, from, to, err, errlen) != 0) return -1;
    if (db_exec(c, SQL_RO_INSERT, p9, 9, NULL, err, errlen) != 0) return -1;
    return EXEC_EACH(c, RO_AFTER_ROS, store, from, to, err, errlen);
}

static int refresh_stock(db_conn *c, const char *store, const char *from, const char *to, char *err, size_t errlen)
{
    return EXEC_EACH(c, STOCK_ALL, store, from, to, err, errlen);
}

static int refresh_sales(db_conn *c, const char *store, const char *from, const char *to, char *err, size_t errlen)
{
    return EXEC_EACH(c, SALES_ALL, store, from, to, err, errlen);
}

static int refresh_csi(db_conn *c, const char *store, const char *from, const char *to, char *err, size_t errlen)
{
    return EXEC_EACH(c, CSI_ALL, store, from, to, err, errlen);
}

static int refresh_premium(db_conn *c, const char *store, const char *from, const char *to, char *err, size_t errlen)
{
    return EXEC_EACH(c, PREMIUM_ALL, store, from, to, err, errlen);
}

static int refresh_invoiced(db_conn *c, const char *store, const char *from, const char *to, char *err, size_t errlen)
{
    return EXEC_EACH(c, INVOICED_ALL, store, from, to, err, errlen);
}

static int refresh_visits_range(db_conn *c, const char *from, const char *to, char *err, size_t errlen)
{
    db_val p[2] = { DB_STR(from), DB_STR(to) };
    if (db_exec(c, SQL_VISIT_RANGE_DELETE, p, 2, NULL, err, errlen) != 0) return -1;
    return db_exec(c, SQL_VISIT_RANGE_INSERT, p, 2, NULL, err, errlen);
}

static int refresh_visits_vins(db_conn *c, const char *const *vins, int nvins, char *err, size_t errlen)
{
    pthread_once(&visit_sql_once, build_visit_sql);
    if (!sql_visit_vin_new || !sql_visit_vin_stale_delete) {
        snprintf(err, errlen, "out of memory building the visit refresh");
        return -1;
    }
    if (db_exec_text(c, SQL_VISIT_NEW_TEMP, err, errlen) != 0) return -1;
    db_val p[ROLLUP_VIN_CHUNK];
    for (int at = 0; at < nvins; at += ROLLUP_VIN_CHUNK) {
        int n = nvins - at < ROLLUP_VIN_CHUNK ? nvins - at : ROLLUP_VIN_CHUNK;
        for (int i = 0; i < ROLLUP_VIN_CHUNK; i++) p[i] = DB_STR(vins[at + (i < n ? i : n - 1)]);
        if (db_exec(c, SQL_VISIT_NEW_CLEAR, NULL, 0, NULL, err, errlen) != 0 ||
            db_exec(c, sql_visit_vin_new, p, ROLLUP_VIN_CHUNK, NULL, err, errlen) != 0 ||
            db_exec(c, sql_visit_vin_stale_delete, p, ROLLUP_VIN_CHUNK, NULL, err, errlen) != 0 ||
            db_exec(c, SQL_VISIT_NEW_APPLY, NULL, 0, NULL, err, errlen) != 0)
            return -1;
    }
    return 0;
}

/* Every vehicle's visits, a range of VINs at a time (short statements on a
 * large group), then its states (which read the visits). */
static const char SQL_VISIT_DELETE_ALL[] = "DELETE FROM rollup_vehicle_visit";
static const char SQL_VISIT_VIN_RANGE_INSERT[] =
    VISIT_INSERT VISIT_SELECT " AND vin >= ? AND vin < ? GROUP BY vin, DATE(closed_at)";

static int vehicles_all(db_conn *c, char *err, size_t errlen)
{
    rollup_vin_ranges r;
    if (db_exec(c, SQL_VISIT_DELETE_ALL, NULL, 0, NULL, err, errlen) != 0 ||
        rollup_vin_ranges_get(c, &r, err, errlen) != 0)
        return -1;
    int rc = 0;
    for (int i = 0; i < r.n && rc == 0; i++) {
        db_val p[2] = { DB_STR(r.lo[i]), DB_STR(r.hi[i]) };
        rc = db_exec(c, SQL_VISIT_VIN_RANGE_INSERT, p, 2, NULL, err, errlen);
    }
    rollup_vin_ranges_free(&r);
    return rc != 0 ? -1 : rollup_asof_rebuild_states(c, err, errlen);
}

/* --- what depends on what: the refresh table --- */

/* What a refresh step is given: the importer's scope, what its entity
 * feeds, and the span of the dates touched over every store ("" when no
 * store was touched). */
typedef struct refresh_ctx {
    const rollup_scope *scope;
    unsigned feeds;
    char min_from[11], max_to[11];
} refresh_ctx;

/* an RO's gross profit is its customer's credit limit for six months */
static int refresh_ro_receivables(db_conn *c, const refresh_ctx *x, char *err, size_t errlen)
{
    return month_end_receivables(c, x->scope->touched, x->scope->ntouched, RECV_AFTER_ROS, err, errlen);
}

/* the visits, by VIN for the usual file (a store's day or month); a file
 * naming very many vehicles is cheaper redone by its dates in one statement */
static int refresh_visits(db_conn *c, const refresh_ctx *x, char *err, size_t errlen)
{
    const rollup_scope *s = x->scope;
    if (s->nvins > 0 && s->vins && (s->nvins <= ROLLUP_VINS_BY_LIST || !x->min_from[0]))
        return refresh_visits_vins(c, s->vins, s->nvins, err, errlen);
    if (x->min_from[0]) return refresh_visits_range(c, x->min_from, x->max_to, err, errlen);
    return 0;
}

static int refresh_states(db_conn *c, const refresh_ctx *x, char *err, size_t errlen)
{
    /* the states change from the earliest touched date on: no retention
     * month end before it moves ("" when no store was touched: all) */
    return rollup_asof_refresh_states(c, x->scope->vins, x->scope->nvins, x->min_from, err, errlen);
}

static int refresh_invoice_open(db_conn *c, const refresh_ctx *x, char *err, size_t errlen)
{
    return rollup_asof_refresh_invoices(c, x->scope->touched, x->scope->ntouched, err, errlen);
}

/* a customer's type decides which of its store's receivables count */
static int refresh_receivables(db_conn *c, const refresh_ctx *x, char *err, size_t errlen)
{
    if (!x->scope->touched || x->scope->ntouched <= 0) return 0;
    return month_end_receivables(c, x->scope->touched, x->scope->ntouched, RECV_WHOLE, err, errlen);
}

static int refresh_matches(db_conn *c, const refresh_ctx *x, char *err, size_t errlen)
{
    return rollup_match_refresh(c, x->scope, (x->feeds & FEED_RENEWALS) != 0, err, errlen);
}

/* One step of a refresh: run when the entity feeds any of `feeds`, either
 * per touched store over its dates (per_store; a store whose importer could
 * not tell the dates is redone whole) or once for the file (once). */
typedef struct refresh_step {
    unsigned feeds;
    const char *tables;          /* what it redoes, from what */
    int (*per_store)(db_conn *c, const char *store, const char *from, const char *to, char *err, size_t errlen);
    int (*once)(db_conn *c, const refresh_ctx *x, char *err, size_t errlen);
} refresh_step;

/* In the order they run: a step reads what the steps before it wrote. */
static const refresh_step REFRESH_STEPS[] = {
    { FEED_RO_DAYS, "rollup_ro, rollup_ro_day, rollup_ro_insurer_day, then rollup_ro_month, "
      "rollup_ro_insurer_month, rollup_ro_followup_day and _month: from the ROs, their lines, "
      "appointments and follow-up calls, by DATE(closed_at)", refresh_ro_range, NULL },
    { FEED_STOCK, "rollup_stock, rollup_stock_age: from parts_stock by snapshot_on", refresh_stock, NULL },
    { FEED_CSI, "rollup_csi_day, _month: from csi_surveys by surveyed_on", refresh_csi, NULL },
    { FEED_SALES, "rollup_sales_day, _month: from vehicle_sales by sold_on", refresh_sales, NULL },
    { FEED_PREMIUM, "rollup_premium_day, _month: from insurance_policies by sold_on", refresh_premium, NULL },
    { FEED_INVOICED, "rollup_invoice_day, _month: from invoices by issued_on", refresh_invoiced, NULL },
    { FEED_RO_RECEIVABLES, "the receivables at month ends (rollup_month_end.c): from rollup_ro's gross profit",
      NULL, refresh_ro_receivables },
    { FEED_VISITS, "rollup_vehicle_visit: from the closed ROs, by VIN or by the dates", NULL, refresh_visits },
    { FEED_STATES, "rollup_vehicle_state and the retention month ends (rollup_asof.c): from the visits and "
      "the sales, by VIN", NULL, refresh_states },
    { FEED_INVOICE_OPEN, "rollup_invoice_open, then the receivables at month ends from the dates on "
      "(rollup_asof.c): from invoices and payments", NULL, refresh_invoice_open },
    { FEED_RECEIVABLES, "the receivables at every month end of the store: from the customers' types",
      NULL, refresh_receivables },
    { FEED_RENEWALS | FEED_NEW_POLICIES, "rollup_policy_match (renewals) and rollup_sale_match (new policies) "
      "with their day and month counts (rollup_match.c): from policies and sales, by VIN", NULL, refresh_matches },
};
#define NSTEPS (sizeof REFRESH_STEPS / sizeof *REFRESH_STEPS)

int rollup_refresh(db_conn *c, const rollup_scope *scope, char *err, size_t errlen)
{
    const entity_def *e = scope ? entity_find(scope->entity) : NULL;
    if (!e || !e->feeds) return 0;
    refresh_ctx x = { .scope = scope, .feeds = e->feeds };
    for (size_t k = 0; k < NSTEPS; k++) {
        const refresh_step *st = &REFRESH_STEPS[k];
        if (!(st->feeds & x.feeds) || !st->per_store) continue;
        for (int i = 0; i < scope->ntouched; i++) {
            const rollup_touch *t = &scope->touched[i];
            /* nothing dated (e.g. only open ROs): no derived row can change... unless
             * an importer could not tell the dates: then the store is redone whole */
            const char *from = t->from[0] ? t->from : ROLLUP_ALL_FROM;
            const char *to = t->to[0] ? t->to : ROLLUP_ALL_TO;
            if (st->per_store(c, t->store_code, from, to, err, errlen) != 0) return -1;
        }
    }
    for (int i = 0; i < scope->ntouched; i++) {
        const rollup_touch *t = &scope->touched[i];
        const char *from = t->from[0] ? t->from : ROLLUP_ALL_FROM;
        const char *to = t->to[0] ? t->to : ROLLUP_ALL_TO;
        if (!x.min_from[0] || strcmp(from, x.min_from) < 0) snprintf(x.min_from, sizeof x.min_from, "%s", from);
        if (!x.max_to[0] || strcmp(to, x.max_to) > 0) snprintf(x.max_to, sizeof x.max_to, "%s", to);
    }
    for (size_t k = 0; k < NSTEPS; k++) {
        const refresh_step *st = &REFRESH_STEPS[k];
        if ((st->feeds & x.feeds) && st->once && st->once(c, &x, err, errlen) != 0) return -1;
    }
    return 0;
}

/* Everything per store over all dates (the rebuilds): every per-store step. */
static int refresh_store_all(db_conn *c, const char *store, char *err, size_t errlen)
{
    for (size_t k = 0; k < NSTEPS; k++)
        if (REFRESH_STEPS[k].per_store &&
            REFRESH_STEPS[k].per_store(c, store, ROLLUP_ALL_FROM, ROLLUP_ALL_TO, err, errlen) != 0)
            return -1;
    return 0;
}

/* --- rebuild --- */

static const char SQL_STORES[] = "SELECT store_code FROM stores ORDER BY store_code";
/* Every derived table (schemas/003 on), for statistics and the fresh clear. */
static const char *const DERIVED_TABLES[] = {
    "rollup_ro", "rollup_ro_day", "rollup_ro_insurer_day", "rollup_ro_month", "rollup_ro_insurer_month",
    "rollup_ro_followup_day", "rollup_ro_followup_month", "rollup_csi_day", "rollup_csi_month",
    "rollup_premium_day", "rollup_premium_month", "rollup_invoice_day", "rollup_invoice_month",
    "rollup_stock", "rollup_stock_age", "rollup_vehicle_visit", "rollup_vehicle_state", "rollup_invoice_open",
    "rollup_policy_match", "rollup_sale_match", "rollup_renewal_day", "rollup_renewal_month",
    "rollup_new_policy_day", "rollup_new_policy_month", "rollup_receivable_age", "rollup_receivable_day",
    "rollup_retention_last", "rollup_retention_churn", "rollup_retention_first", "rollup_horizon",
    "rollup_sales_day", "rollup_sales_month",
};
/* The per-store tables, emptied inside the one-transaction rebuild. */
static const char *const ROLLUP_TABLES_CLEAR[] = {
    "DELETE FROM rollup_ro", "DELETE FROM rollup_ro_day", "DELETE FROM rollup_ro_insurer_day",
    "DELETE FROM rollup_ro_month", "DELETE FROM rollup_ro_insurer_month",
    "DELETE FROM rollup_ro_followup_day", "DELETE FROM rollup_ro_followup_month",
    "DELETE FROM rollup_csi_day", "DELETE FROM rollup_csi_month", "DELETE FROM rollup_sales_day",
    "DELETE FROM rollup_sales_month",
    "DELETE FROM rollup_premium_day", "DELETE FROM rollup_premium_month",
    "DELETE FROM rollup_invoice_day", "DELETE FROM rollup_invoice_month",
    "DELETE FROM rollup_stock", "DELETE FROM rollup_stock_age", "DELETE FROM rollup_vehicle_visit",
};

int rollup_rebuild_progress(db_conn *c, rollup_progress_fn progress, void *ud, char *err, size_t errlen)
{
    if (db_begin(c, err, errlen) != 0) return -1;
    db_result *stores = NULL;
    for (size_t i = 0; i < sizeof ROLLUP_TABLES_CLEAR / sizeof *ROLLUP_TABLES_CLEAR; i++)
        if (db_exec(c, ROLLUP_TABLES_CLEAR[i], NULL, 0, NULL, err, errlen) != 0) goto fail;
    if (db_query(c, SQL_STORES, NULL, 0, &stores, err, errlen) != 0) goto fail;
    for (int i = 0; i < stores->nrows; i++) {
        const char *store = db_cell(stores, i, 0);
        if (progress) progress(ud, i, stores->nrows + 1, store);
        if (refresh_store_all(c, store, err, errlen) != 0) goto fail;
    }
    if (progress) progress(ud, stores->nrows, stores->nrows + 1, "vehicle visits");
    if (vehicles_all(c, err, errlen) != 0 || rollup_asof_rebuild_invoices(c, err, errlen) != 0 ||
        rollup_match_rebuild(c, err, errlen) != 0 || month_end_rebuild_receivables(c, NULL, NULL, err, errlen) != 0)
        goto fail;
    if (progress) progress(ud, stores->nrows + 1, stores->nrows + 1, NULL);
    db_result_free(stores);
    if (db_commit(c, err, errlen) != 0) return -1;
    return rollup_analyze(c, NULL, err, errlen);
fail:
    db_result_free(stores);
    db_rollback(c);
    return -1;
}

/* --- rebuild in two lanes (a database nobody reads yet) --- */

typedef struct rebuild_lanes {
    db_pool *pool;
    db_result *stores;
    rollup_progress_fn progress;
    void *ud;
    bool with_vehicles;          /* the second lane first rebuilds the vehicles and invoices */
    pthread_mutex_t mu;          /* next, done, failed, err, progress */
    int next, done, total;
    bool failed;
    char err[600];
} rebuild_lanes;

/* One store's derived rows in their own transaction, read committed (the
 * other lane writes the neighbouring key ranges: no gap locks between them). */
static int rebuild_store(db_conn *c, const char *store, char *err, size_t errlen)
{
    if (db_exec_text(c, "SET TRANSACTION ISOLATION LEVEL READ COMMITTED", err, errlen) != 0 ||
        db_begin(c, err, errlen) != 0)
        return -1;
    if (refresh_store_all(c, store, err, errlen) != 0) {
        db_rollback(c);
        return -1;
    }
    return db_commit(c, err, errlen);
}

/* Take stores until none is left (or a lane failed). */
static void rebuild_stores(rebuild_lanes *l, db_conn *c)
{
    char err[512];
    for (;;) {
        pthread_mutex_lock(&l->mu);
        int i = l->failed || l->next >= l->stores->nrows ? -1 : l->next++;
        pthread_mutex_unlock(&l->mu);
        if (i < 0) break;
        const char *store = db_cell(l->stores, i, 0);
        int rc = rebuild_store(c, store, err, sizeof err);
        pthread_mutex_lock(&l->mu);
        if (rc != 0 && !l->failed) {
            l->failed = true;
            snprintf(l->err, sizeof l->err, "store %.40s: %s", store, err);
        }
        if (rc == 0 && l->progress) l->progress(l->ud, l->done, l->total, store);
        l->done++;
        pthread_mutex_unlock(&l->mu);
    }
}

static void lane_fail(rebuild_lanes *l, const char *what, const char *err)
{
    pthread_mutex_lock(&l->mu);
    if (!l->failed) snprintf(l->err, sizeof l->err, "%s: %s", what, err);
    l->failed = true;
    pthread_mutex_unlock(&l->mu);
}

/* Runs fn on c in a read-committed transaction of its own. */
static int in_own_transaction(db_conn *c, int (*fn)(db_conn *, char *, size_t), char *err, size_t errlen)
{
    if (db_exec_text(c, "SET TRANSACTION ISOLATION LEVEL READ COMMITTED", err, errlen) != 0 ||
        db_begin(c, err, errlen) != 0)
        return -1;
    if (fn(c, err, errlen) != 0) {
        db_rollback(c);
        return -1;
    }
    return db_commit(c, err, errlen);
}

static int receivables_all(db_conn *c, char *err, size_t errlen)
{
    return month_end_rebuild_receivables(c, NULL, NULL, err, errlen);
}

int rollup_rebuild_vehicles(db_conn *c, char *err, size_t errlen)
{
    return in_own_transaction(c, vehicles_all, err, errlen);
}

int rollup_rebuild_invoices(db_conn *c, char *err, size_t errlen)
{
    return in_own_transaction(c, rollup_asof_rebuild_invoices, err, errlen);
}

int rollup_rebuild_matches(db_conn *c, char *err, size_t errlen)
{
    return in_own_transaction(c, rollup_match_rebuild, err, errlen);
}

/* Every derived table, emptied by TRUNCATE (a fresh load or an upgrade,
 * nobody reading: far faster than deleting millions of rows). */
int rollup_clear(db_conn *c, char *err, size_t errlen)
{
    char sql[128];
    for (size_t i = 0; i < sizeof DERIVED_TABLES / sizeof *DERIVED_TABLES; i++) {
        snprintf(sql, sizeof sql, "TRUNCATE TABLE %s", DERIVED_TABLES[i]);   /* names from the list */
        if (db_exec_text(c, sql, err, errlen) != 0) return -1;
    }
    return 0;
}

/* The other lane of rollup_rebuild_fresh: the vehicles, the invoices and the
 * insurance matches (they read only the facts and the visits), then whatever
 * stores are left. */
static void *rebuild_other_lane(void *arg)
{
    rebuild_lanes *l = arg;
    char err[512];
    db_conn *c = db_acquire(l->pool, 5000, err, sizeof err);
    if (!c) {
        lane_fail(l, "a second connection", err);
        return NULL;
    }
    if (l->with_vehicles) {
        if (rollup_rebuild_vehicles(c, err, sizeof err) != 0 || rollup_rebuild_invoices(c, err, sizeof err) != 0 ||
            rollup_rebuild_matches(c, err, sizeof err) != 0) {
            lane_fail(l, "vehicle visits, invoices and insurance matches", err);
        } else {
            pthread_mutex_lock(&l->mu);
            if (l->progress) l->progress(l->ud, l->done, l->total, "vehicle visits");
            l->done++;
            pthread_mutex_unlock(&l->mu);
        }
    }
    rebuild_stores(l, c);
    db_release(l->pool, c);
    return NULL;
}

/* The stores in two lanes (and the vehicles and invoices first in the second
 * lane, with_vehicles), then statistics. */
static int rebuild_lanes_run(db_pool *pool, bool with_vehicles, rollup_progress_fn progress, void *ud,
                             char *err, size_t errlen)
{
    db_conn *c = db_acquire(pool, 5000, err, errlen);
    if (!c) return -1;
    rebuild_lanes l = { .pool = pool, .progress = progress, .ud = ud, .with_vehicles = with_vehicles };
    int rc = -1;
    if (db_query(c, SQL_STORES, NULL, 0, &l.stores, err, errlen) != 0) goto done;
    l.total = l.stores->nrows + (with_vehicles ? 1 : 0);
    if (pthread_mutex_init(&l.mu, NULL) != 0) {
        snprintf(err, errlen, "cannot create a mutex");
        goto done;
    }
    pthread_t tid;
    if (pthread_create(&tid, NULL, rebuild_other_lane, &l) == 0) {
        rebuild_stores(&l, c);            /* this thread is the store lane */
        pthread_join(tid, NULL);
    } else {
        rebuild_other_lane(&l);          /* no thread: one lane after the other */
    }
    pthread_mutex_destroy(&l.mu);
    if (l.failed) {
        snprintf(err, errlen, "%s", l.err);
        goto done;
    }
    /* the receivables at month ends read rollup_invoice_open and rollup_ro,
     * both complete now */
    if (progress) progress(ud, l.total - 1, l.total, "应收 receivables at month ends");
    if (in_own_transaction(c, receivables_all, err, errlen) != 0) goto done;
    if (progress) progress(ud, l.total, l.total, NULL);
    rc = rollup_analyze(c, NULL, err, errlen);
done:
    db_result_free(l.stores);
    db_release(pool, c);
    return rc;
}

int rollup_rebuild_stores(db_pool *pool, rollup_progress_fn progress, void *ud, char *err, size_t errlen)
{
    return rebuild_lanes_run(pool, false, progress, ud, err, errlen);
}

int rollup_rebuild_fresh(db_pool *pool, rollup_progress_fn progress, void *ud, char *err, size_t errlen)
{
    db_conn *c = db_acquire(pool, 5000, err, errlen);
    if (!c) return -1;
    int rc = rollup_clear(c, err, errlen);
    db_release(pool, c);
    return rc != 0 ? -1 : rebuild_lanes_run(pool, true, progress, ud, err, errlen);
}

/* --- statistics --- */

/* The derived tables and the per-store fact tables (every entity of the
 * entity table but the group-wide ones: regions, stores, insurers). */
int rollup_analyze(db_conn *c, const char *entity, char *err, size_t errlen)
{
    char sql[2048];
    size_t n = (size_t)snprintf(sql, sizeof sql, "ANALYZE TABLE %s", DERIVED_TABLES[0]);
    for (size_t i = 1; i < sizeof DERIVED_TABLES / sizeof *DERIVED_TABLES && n < sizeof sql; i++)
        n += (size_t)snprintf(sql + n, sizeof sql - n, ", %s", DERIVED_TABLES[i]);
    for (int i = 0; import_entities[i] && n < sizeof sql; i++) {
        const entity_def *e = entity_find(import_entities[i]);
        if (e && !e->global && (!entity || strcmp(entity, e->name) == 0))   /* only names from the table */
            n += (size_t)snprintf(sql + n, sizeof sql - n, ", %s", e->name);
    }
    if (n >= sizeof sql) {
        snprintf(err, errlen, "the ANALYZE statement does not fit its buffer");
        return -1;
    }
    return db_exec_text(c, sql, err, errlen);
}

int rollup_rebuild(db_conn *c, char *err, size_t errlen)
{
    return rollup_rebuild_progress(c, NULL, NULL, err, errlen);
}

