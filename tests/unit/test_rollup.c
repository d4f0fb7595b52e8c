/* test_rollup: the derived tables of schemas/003_rollups.sql, kept by
 * rollup_refresh() (what the importer calls) and rollup_rebuild(). Facts go
 * in with plain SQL; the rollups are checked against hand-worked figures and
 * against an independent query over the facts written from the spec's words
 * (correlated subqueries, not the refresh's joins); then facts change (an RO
 * moves to another day, one reopens, a line changes) and a refresh of the
 * touched dates must follow; a rebuild must give the same tables. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "check.h"
#include "rollup.h"
#include "testdb.h"

static db_conn *conn;

static int exec(const char *sql)
{
    char err[512];
    int rc = db_exec_text(conn, sql, err, sizeof err);
    if (rc) printf("# %s: %s\n", sql, err);
    return rc;
}

/* The first cell of sql as text ("(null)" for NULL, "(error)" on failure). */
static const char *scalar(const char *sql)
{
    static char buf[4096];
    char err[512];
    db_result *r = NULL;
    if (db_query(conn, sql, NULL, 0, &r, err, sizeof err) != 0) {
        printf("# %s: %s\n", sql, err);
        return "(error)";
    }
    snprintf(buf, sizeof buf, "%s", r->nrows && db_cell(r, 0, 0) ? db_cell(r, 0, 0) : "(null)");
    db_result_free(r);
    return buf;
}

static const char VIN_A[] = "LVHRM1234567890AB";

static int refresh(const char *entity, const char *store, const char *from, const char *to, bool with_vin)
{
    rollup_touch t;
    memset(&t, 0, sizeof t);
    snprintf(t.store_code, sizeof t.store_code, "%s", store);
    snprintf(t.from, sizeof t.from, "%s", from);
    snprintf(t.to, sizeof t.to, "%s", to);
    const char *vins[1] = { VIN_A };
    rollup_scope s = { .entity = entity, .touched = &t, .ntouched = 1, .vins = with_vin ? vins : NULL,
                       .nvins = with_vin ? 1 : 0 };
    char err[512];
    int rc = rollup_refresh(conn, &s, err, sizeof err);
    if (rc) printf("# refresh: %s\n", err);
    return rc;
}

/* Rows where rollup_ro_day and the independent query over the facts differ
 * (in either direction). */
static const char SQL_MISMATCH[] =
    "SELECT COUNT(*) FROM ("
    " SELECT r.store_code, DATE(r.closed_at) AS day, COUNT(*) AS ro_count,"
    "  SUM(r.comeback_of IS NOT NULL) AS comebacks,"
    "  SUM((SELECT COALESCE(SUM(l.amount), 0) FROM ro_labour l WHERE l.store_code = r.store_code AND l.ro_no = r.ro_no)"
    "    + (SELECT COALESCE(SUM(p.qty * p.unit_price), 0) FROM ro_parts p WHERE p.store_code = r.store_code AND p.ro_no = r.ro_no)"
    "    + COALESCE(r.other_amount, 0) - COALESCE(r.discount_amount, 0)) AS revenue,"
    "  SUM((SELECT COALESCE(SUM(p.qty * p.unit_cost), 0) FROM ro_parts p WHERE p.store_code = r.store_code"
    "    AND p.ro_no = r.ro_no AND p.category = 'part')) AS parts_cost,"
    "  SUM((SELECT COUNT(*) FROM ro_parts p WHERE p.store_code = r.store_code AND p.ro_no = r.ro_no"
    "    AND p.category = 'part' AND (p.from_stock IS NULL OR p.from_stock = 1))) AS from_stock,"
    "  SUM((SELECT COALESCE(SUM(l.clocked_hours), 0) FROM ro_labour l WHERE l.store_code = r.store_code AND l.ro_no = r.ro_no)) AS clocked,"
    "  SUM((SELECT COALESCE(SUM(l.sold_hours), 0) FROM ro_labour l WHERE l.store_code = r.store_code AND l.ro_no = r.ro_no"
    "    AND l.clocked_hours IS NOT NULL)) AS sold_clocked"
    " FROM repair_orders r WHERE r.closed_at IS NOT NULL AND r.ro_type <> 'internal'"
    " GROUP BY r.store_code, DATE(r.closed_at)) f"
    " LEFT JOIN rollup_ro_day d ON d.store_code = f.store_code AND d.day = f.day"
    " WHERE d.day IS NULL OR d.ro_count <> f.ro_count OR d.comeback_count <> f.comebacks OR d.revenue <> f.revenue"
    "  OR d.parts_cost <> f.parts_cost OR d.part_lines_from_stock <> f.from_stock OR d.clocked_hours <> f.clocked"
    "  OR d.sold_hours_clocked <> f.sold_clocked";
static const char SQL_EXTRA_DAYS[] =
    "SELECT COUNT(*) FROM rollup_ro_day d WHERE NOT EXISTS (SELECT 1 FROM repair_orders r"
    " WHERE r.store_code = d.store_code AND r.closed_at >= d.day AND r.closed_at < d.day + INTERVAL 1 DAY"
    " AND r.ro_type <> 'internal')";

/* Rows where a month table and the sums of its day table's rows differ, in
 * either direction (the months are grouped here, not by the refresh). */
static const char SQL_MONTH_MISMATCH[] =
    "SELECT (SELECT COUNT(*) FROM (SELECT store_code, DATE_FORMAT(day, '%Y-%m-01') AS day,"
    " SUM(ro_count) AS ro_count, SUM(comeback_count) AS comeback_count, SUM(revenue) AS revenue, SUM(labour_revenue) AS labour_revenue, SUM(sold_hours) AS sold_hours, SUM(sold_hours_clocked) AS sold_hours_clocked, SUM(clocked_hours) AS clocked_hours, SUM(parts_revenue) AS parts_revenue, SUM(parts_cost) AS parts_cost, SUM(part_lines) AS part_lines, SUM(part_lines_from_stock) AS part_lines_from_stock, SUM(material_revenue) AS material_revenue, SUM(material_cost) AS material_cost, SUM(accessory_revenue) AS accessory_revenue, SUM(accessory_cost) AS accessory_cost, SUM(other_amount) AS other_amount, SUM(discount_amount) AS discount_amount, SUM(bodywork_ro_count) AS bodywork_ro_count, SUM(bodywork_revenue) AS bodywork_revenue, SUM(bodywork_material_cost) AS bodywork_material_cost, SUM(insurer_revenue) AS insurer_revenue, SUM(appointment_kept_count) AS appointment_kept_count, SUM(reached_calls) AS reached_calls, SUM(complaint_calls) AS complaint_calls FROM rollup_ro_day GROUP BY 1, 2) f"
    " LEFT JOIN rollup_ro_month m ON m.store_code = f.store_code AND m.day = f.day"
    " WHERE m.day IS NULL OR NOT m.ro_count <=> f.ro_count OR NOT m.comeback_count <=> f.comeback_count OR NOT m.revenue <=> f.revenue OR NOT m.labour_revenue <=> f.labour_revenue OR NOT m.sold_hours <=> f.sold_hours OR NOT m.sold_hours_clocked <=> f.sold_hours_clocked OR NOT m.clocked_hours <=> f.clocked_hours OR NOT m.parts_revenue <=> f.parts_revenue OR NOT m.parts_cost <=> f.parts_cost OR NOT m.part_lines <=> f.part_lines OR NOT m.part_lines_from_stock <=> f.part_lines_from_stock OR NOT m.material_revenue <=> f.material_revenue OR NOT m.material_cost <=> f.material_cost OR NOT m.accessory_revenue <=> f.accessory_revenue OR NOT m.accessory_cost <=> f.accessory_cost OR NOT m.other_amount <=> f.other_amount OR NOT m.discount_amount <=> f.discount_amount OR NOT m.bodywork_ro_count <=> f.bodywork_ro_count OR NOT m.bodywork_revenue <=> f.bodywork_revenue OR NOT m.bodywork_material_cost <=> f.bodywork_material_cost OR NOT m.insurer_revenue <=> f.insurer_revenue OR NOT m.appointment_kept_count <=> f.appointment_kept_count OR NOT m.reached_calls <=> f.reached_calls OR NOT m.complaint_calls <=> f.complaint_calls)"
    " + (SELECT COUNT(*) FROM rollup_ro_month m WHERE NOT EXISTS (SELECT 1 FROM rollup_ro_day d"
    "   WHERE d.store_code = m.store_code AND d.day BETWEEN m.day AND LAST_DAY(m.day)))"
    " + (SELECT COUNT(*) FROM (SELECT store_code, DATE_FORMAT(day, '%Y-%m-01') AS day, insurer_code,"
    "   SUM(ro_count) AS ro_count, SUM(revenue) AS revenue FROM rollup_ro_insurer_day GROUP BY 1, 2, 3) f"
    "   LEFT JOIN rollup_ro_insurer_month m ON m.store_code = f.store_code AND m.day = f.day"
    "   AND m.insurer_code = f.insurer_code"
    "   WHERE m.day IS NULL OR NOT m.ro_count <=> f.ro_count OR NOT m.revenue <=> f.revenue)"
    " + (SELECT COUNT(*) FROM rollup_ro_insurer_month m WHERE NOT EXISTS (SELECT 1 FROM rollup_ro_insurer_day d"
    "   WHERE d.store_code = m.store_code AND d.insurer_code = m.insurer_code"
    "   AND d.day BETWEEN m.day AND LAST_DAY(m.day)))";

static const char SQL_CHECKSUM[] =
    "SELECT CONCAT((SELECT COUNT(*) FROM rollup_ro), '/', (SELECT COALESCE(SUM(revenue), 0) FROM rollup_ro_day), '/',"
    " (SELECT COALESCE(SUM(revenue), 0) FROM rollup_ro_insurer_day), '/', (SELECT COALESCE(SUM(stock_value), 0) FROM rollup_stock), '/',"
    " (SELECT COALESCE(GROUP_CONCAT(CONCAT(store_code, day, revenue) ORDER BY store_code, day), '') FROM rollup_ro_month), '/',"
    " (SELECT COALESCE(GROUP_CONCAT(CONCAT(store_code, day, insurer_code, revenue) ORDER BY 1), '') FROM rollup_ro_insurer_month), '/',"
    " (SELECT COALESCE(SUM(stock_value * age_days), 0) FROM rollup_stock_age), '/',"
    " (SELECT COALESCE(SUM(visits), 0) FROM rollup_vehicle_visit), '/',"
    " (SELECT COALESCE(GROUP_CONCAT(CONCAT(vin, from_on, until_on, last_store_code, COALESCE(sold_on, '-'),"
    "   COALESCE(first_visit_on, '-')) ORDER BY vin, from_on), '') FROM rollup_vehicle_state), '/',"
    " (SELECT COALESCE(GROUP_CONCAT(CONCAT(vin, visit_on, last_store_code) ORDER BY vin, visit_on), '') FROM rollup_vehicle_visit))";

static int seed(void)
{
    return exec("INSERT INTO regions (region_code, name) VALUES ('R1', '华南')")
        || exec("INSERT INTO stores (store_code, name, brand, region_code) VALUES ('S1', '一店', '丰田', 'R1'), ('S2', '二店', '丰田', 'R1')")
        || exec("INSERT INTO insurers (insurer_code, name) VALUES ('PICC', '人保')")
        || exec("INSERT INTO customers (store_code, customer_code, type) VALUES ('S1', 'C1', 'individual'), ('S2', 'C1', 'individual')")
        || exec("INSERT INTO repair_orders (store_code, ro_no, vin, customer_code, ro_type, payer, insurer_code, opened_at,"
                " closed_at, other_amount, discount_amount, comeback_of) VALUES"
                " ('S1', 'R1', 'LVHRM1234567890AB', 'C1', 'repair', 'customer', NULL, '2024-01-01 09:00', '2024-01-01 17:00', 10, 5, NULL),"
                " ('S1', 'R2', 'LVHRM1234567890AB', 'C1', 'bodywork', 'insurer', 'PICC', '2024-01-02 09:00', '2024-01-03 17:00', NULL, NULL, 'R1'),"
                " ('S2', 'R9', 'LVHRM1234567890AB', 'C1', 'maintenance', 'customer', NULL, '2024-01-03 09:00', '2024-01-03 17:00', NULL, NULL, NULL),"
                " ('S1', 'R3', 'LVHRM1234567890AB', 'C1', 'internal', 'internal', NULL, '2024-01-02 09:00', '2024-01-03 18:00', NULL, NULL, NULL),"
                " ('S1', 'R4', 'LVHRM1234567890AB', 'C1', 'repair', 'customer', NULL, '2024-01-04 09:00', NULL, NULL, NULL, NULL)")
        || exec("INSERT INTO ro_labour (store_code, ro_no, line_no, sold_hours, clocked_hours, amount) VALUES"
                " ('S1', 'R1', 1, 2, 1.5, 300), ('S1', 'R1', 2, 1, NULL, 100), ('S1', 'R3', 1, 1, 1, 100), ('S1', 'R4', 1, 1, 1, 100)")
        || exec("INSERT INTO ro_parts (store_code, ro_no, line_no, part_no, category, qty, unit_price, unit_cost, from_stock) VALUES"
                " ('S1', 'R1', 1, 'P1', 'part', 1.5, 10.33, 5, NULL), ('S1', 'R1', 2, 'P2', 'part', 1, 100, 60, 0),"
                " ('S1', 'R2', 1, 'M1', 'material', 2, 50, 20, 1), ('S1', 'R2', 2, 'A1', 'accessory', 1, 80, 30, 1)")
        || exec("INSERT INTO parts_stock (store_code, snapshot_on, part_no, qty_on_hand, unit_cost, last_issue_on, last_receipt_on) VALUES"
                " ('S1', '2024-01-31', 'P1', 10, 5, '2023-06-01', NULL), ('S1', '2024-01-31', 'P2', 1, 60, NULL, NULL),"
                " ('S1', '2024-01-31', 'P3', 2, 7.5, NULL, '2024-01-30')");
}

int main(void)
{
    testdb t;
    if (testdb_start(&t) != 0) {
        CHECK(0, "the test database starts");
        return check_done();
    }
    conn = t.conn;
    CHECK(seed() == 0, "facts inserted");

    /* as the importer would after loading repair_orders (lines included) */
    CHECK(refresh("repair_orders", "S1", "2024-01-01", "2024-01-04", true) == 0, "refresh S1");
    CHECK(refresh("repair_orders", "S2", "2024-01-03", "2024-01-03", true) == 0, "refresh S2");

    /* S1 2024-01-01, R1: labour 300 + 100; parts 1.5 x 10.33 = 15.495 and 100;
     * other 10, discount 5: revenue 520.495 (kept exact, not rounded to cents);
     * cost 1.5 x 5 + 60 = 67.5; part lines 2, from stock 1 (empty counts as 1);
     * clocked 1.5 on the line with both, sold 2 there. */
    CHECK_STR(scalar("SELECT revenue FROM rollup_ro_day WHERE store_code = 'S1' AND day = '2024-01-01'"), "520.4950",
              "RO revenue: labour + parts + other - discount, exact");
    CHECK_STR(scalar("SELECT CONCAT(ro_count, '/', parts_cost, '/', part_lines, '/', part_lines_from_stock, '/',"
                     " clocked_hours, '/', sold_hours_clocked, '/', sold_hours) FROM rollup_ro_day"
                     " WHERE store_code = 'S1' AND day = '2024-01-01'"),
              "1/67.5000/2/1/1.50/2.00/3.00", "counts, costs, hours of 2024-01-01");
    /* S1 2024-01-03: R2 only (R3 is internal): bodywork, insurer PICC, comeback;
     * revenue = materials 100 + accessories 80 = 180; material cost 40 */
    CHECK_STR(scalar("SELECT CONCAT(ro_count, '/', comeback_count, '/', revenue, '/', bodywork_revenue, '/',"
                     " bodywork_material_cost, '/', insurer_revenue, '/', accessory_revenue) FROM rollup_ro_day"
                     " WHERE store_code = 'S1' AND day = '2024-01-03'"),
              "1/1/180.0000/180.0000/40.0000/180.0000/80.0000", "internal ROs left out; bodywork and insurer sums");
    CHECK_STR(scalar("SELECT CONCAT(insurer_code, '/', ro_count, '/', revenue) FROM rollup_ro_insurer_day WHERE store_code = 'S1'"),
              "PICC/1/180.0000", "insurer day rollup");
    CHECK_STR(scalar("SELECT COUNT(*) FROM rollup_ro WHERE ro_no IN ('R3', 'R4')"), "0", "internal and open ROs have no rollup row");
    CHECK_STR(scalar(SQL_MISMATCH), "0", "rollup_ro_day agrees with the independent query over the facts");
    CHECK_STR(scalar(SQL_EXTRA_DAYS), "0", "no rollup day without ROs");
    CHECK_STR(scalar(SQL_MONTH_MISMATCH), "0", "the month tables are the sums of the day tables");
    CHECK_STR(scalar("SELECT CONCAT(day, '/', ro_count) FROM rollup_ro_insurer_month WHERE store_code = 'S1'"),
              "2024-01-01/1", "insurer month rollup: keyed by the month's first day");

    /* visits: R2 (S1) and R9 (S2) both closed 2024-01-03 17:00: a tie goes to S1 */
    CHECK_STR(scalar("SELECT CONCAT(visits, '/', last_closed_at, '/', last_store_code) FROM rollup_vehicle_visit"
                     " WHERE vin = 'LVHRM1234567890AB' AND visit_on = '2024-01-03'"),
              "2/2024-01-03 17:00:00/S1", "two visits that day; the tie goes to the smaller store code");
    CHECK_STR(scalar("SELECT COUNT(*) FROM rollup_vehicle_visit"), "2", "the internal RO is no visit, the open one neither");

    /* stock: 10 x 5 + 1 x 60 + 2 x 7.5 = 125; ages at 2024-01-31: P1 issued 2023-06-01 -> 244 days;
     * P2 never moved -> 1000000; P3 received 2024-01-30 -> 1 day */
    CHECK(refresh("parts_stock", "S1", "2024-01-31", "2024-01-31", false) == 0, "refresh stock");
    CHECK_STR(scalar("SELECT CONCAT(part_rows, '/', stock_value) FROM rollup_stock WHERE store_code = 'S1'"), "3/125.0000",
              "snapshot total");
    CHECK_STR(scalar("SELECT GROUP_CONCAT(CONCAT(age_days, ':', stock_value) ORDER BY age_days) FROM rollup_stock_age"),
              "1:15.0000,244:50.0000,1000000:60.0000", "stock value by age in days");
    CHECK_STR(scalar("SELECT SUM(stock_value) FROM rollup_stock_age WHERE age_days > 180"), "110.0000",
              "slow-moving value for any threshold (180 days: P1 and P2)");

    /* an RO moves to another day: the importer touches the old and new dates */
    CHECK(exec("UPDATE repair_orders SET closed_at = '2024-01-05 10:00' WHERE store_code = 'S1' AND ro_no = 'R2'") == 0, "R2 moves");
    CHECK(refresh("repair_orders", "S1", "2024-01-02", "2024-01-05", true) == 0, "refresh the touched dates");
    CHECK_STR(scalar("SELECT COUNT(*) FROM rollup_ro_day WHERE store_code = 'S1' AND day = '2024-01-03'"), "0", "the old day is gone");
    CHECK_STR(scalar("SELECT revenue FROM rollup_ro_day WHERE store_code = 'S1' AND day = '2024-01-05'"), "180.0000", "the new day is there");
    CHECK_STR(scalar("SELECT GROUP_CONCAT(CONCAT(visit_on, ':', last_store_code) ORDER BY visit_on) FROM rollup_vehicle_visit"),
              "2024-01-01:S1,2024-01-03:S2,2024-01-05:S1", "visits follow");

    /* a line changes (ro_parts import of R1): only lines, the importer gives R1's dates */
    CHECK(exec("UPDATE ro_parts SET qty = 2 WHERE store_code = 'S1' AND ro_no = 'R1' AND line_no = 1") == 0, "a line changes");
    CHECK(refresh("ro_parts", "S1", "2024-01-01", "2024-01-01", false) == 0, "refresh after lines");
    CHECK_STR(scalar("SELECT revenue FROM rollup_ro_day WHERE store_code = 'S1' AND day = '2024-01-01'"), "525.6600",
              "revenue follows the line (2 x 10.33 = 20.66)");
    /* an RO reopens (closed_at cleared) */
    CHECK(exec("UPDATE repair_orders SET closed_at = NULL WHERE store_code = 'S1' AND ro_no = 'R1'") == 0, "R1 reopens");
    CHECK(refresh("repair_orders", "S1", "2024-01-01", "2024-01-01", true) == 0, "refresh");
    CHECK_STR(scalar("SELECT COUNT(*) FROM rollup_ro_day WHERE store_code = 'S1' AND day = '2024-01-01'"), "0", "an open RO counts nowhere");
    CHECK_STR(scalar(SQL_MISMATCH), "0", "still in agreement with the facts");
    CHECK_STR(scalar(SQL_EXTRA_DAYS), "0", "and nothing extra");
    /* an entity with no rollup: a no-op */
    CHECK(refresh("csi_surveys", "S1", "2024-01-01", "2024-01-31", false) == 0, "other entities refresh nothing");
    /* no dates from the importer: the store is redone whole */
    CHECK(exec("UPDATE repair_orders SET closed_at = '2024-01-02 12:00' WHERE store_code = 'S1' AND ro_no = 'R1'") == 0, "R1 closes again");
    CHECK(refresh("ro_labour", "S1", "", "", false) == 0, "refresh without dates");
    CHECK_STR(scalar(SQL_MISMATCH), "0", "a refresh without dates redoes the store");

    /* visits redone by the touched dates when no VINs are named (the path of
     * a file naming very many vehicles) */
    CHECK(exec("UPDATE repair_orders SET closed_at = '2024-01-06 09:00' WHERE store_code = 'S1' AND ro_no = 'R2'") == 0, "R2 moves again");
    CHECK(refresh("repair_orders", "S1", "2024-01-02", "2024-01-06", false) == 0, "refresh by dates only");
    CHECK_STR(scalar("SELECT GROUP_CONCAT(CONCAT(visit_on, ':', last_store_code) ORDER BY visit_on) FROM rollup_vehicle_visit"),
              "2024-01-02:S1,2024-01-03:S2,2024-01-06:S1", "visits follow by dates");

    /* an RO moves to the next month: both months follow */
    CHECK(exec("UPDATE repair_orders SET closed_at = '2024-02-01 08:00' WHERE store_code = 'S1' AND ro_no = 'R2'") == 0,
          "R2 moves to February");
    CHECK(refresh("repair_orders", "S1", "2024-01-06", "2024-02-01", true) == 0, "refresh across months");
    CHECK_STR(scalar("SELECT GROUP_CONCAT(CONCAT(day, ':', ro_count) ORDER BY day) FROM rollup_ro_month WHERE store_code = 'S1'"),
              "2024-01-01:1,2024-02-01:1", "January lost R2, February has it");
    CHECK_STR(scalar(SQL_MONTH_MISMATCH), "0", "the month tables still agree with the days");

    /* a rebuild gives the same tables as the refreshes */
    CHECK(refresh("repair_orders", "S1", "2024-01-01", "2024-01-05", true) == 0, "refresh the visits too");
    char before[4096];
    snprintf(before, sizeof before, "%s", scalar(SQL_CHECKSUM));
    CHECK(strchr(before, '/') && strstr(before, "LVHRM1234567890AB"), "the checksum holds the derived rows: %.80s", before);
    char err[512];
    CHECK(rollup_rebuild(conn, err, sizeof err) == 0, "rebuild (%s)", err);
    CHECK_STR(scalar(SQL_CHECKSUM), before, "the rebuild equals the incremental refreshes");
    /* the two-lane rebuild of a fresh load (stores on one connection, the
     * visits and as-of tables on another) builds the same tables */
    CHECK(exec("DELETE FROM rollup_ro") == 0 && exec("DELETE FROM rollup_vehicle_visit") == 0, "empty two derived tables");
    CHECK(rollup_rebuild_fresh(t.pool, NULL, NULL, err, sizeof err) == 0, "two-lane rebuild (%s)", err);
    CHECK_STR(scalar(SQL_CHECKSUM), before, "the two-lane rebuild equals the one-transaction rebuild");

    /* the rebuild leaves the optimizer statistics current. InnoDB's own
     * background refresh is switched off for two tables, so only the
     * rebuild's ANALYZE can make their persistent row estimate (exact for
     * tables this small) equal their row count. */
    CHECK(exec("ALTER TABLE rollup_vehicle_visit STATS_AUTO_RECALC = 0") == 0 &&
          exec("ALTER TABLE repair_orders STATS_AUTO_RECALC = 0") == 0 &&
          exec("UPDATE mysql.innodb_table_stats SET n_rows = 999 WHERE database_name = DATABASE()"
               " AND table_name IN ('rollup_vehicle_visit', 'repair_orders')") == 0, "stale statistics");
    CHECK(rollup_rebuild(conn, err, sizeof err) == 0, "rebuild again (%s)", err);
    CHECK_STR(scalar("SELECT CONCAT(s.n_rows, '/', (SELECT COUNT(*) FROM rollup_vehicle_visit))"
                     " FROM mysql.innodb_table_stats s WHERE s.database_name = DATABASE()"
                     " AND s.table_name = 'rollup_vehicle_visit'"),
              "3/3", "rebuild: rollup_vehicle_visit statistics are current");
    char want[64];
    snprintf(want, sizeof want, "%s", scalar("SELECT CONCAT(COUNT(*), '/', COUNT(*)) FROM repair_orders"));
    CHECK_STR(scalar("SELECT CONCAT(s.n_rows, '/', (SELECT COUNT(*) FROM repair_orders))"
                     " FROM mysql.innodb_table_stats s WHERE s.database_name = DATABASE()"
                     " AND s.table_name = 'repair_orders'"),
              want, "rebuild: repair_orders statistics are current");

    testdb_stop(&t);
    return check_done();
}
