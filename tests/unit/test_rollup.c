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
#include "rollup_asof.h"
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

/* Refresh after an import of entity at store naming these VINs. */
static int refresh_vins(const char *entity, const char *store, const char *const *vins, int nvins)
{
    rollup_touch t;
    memset(&t, 0, sizeof t);
    snprintf(t.store_code, sizeof t.store_code, "%s", store);
    rollup_scope s = { .entity = entity, .touched = &t, .ntouched = 1, .vins = vins, .nvins = nvins };
    char err[512];
    int rc = rollup_refresh(conn, &s, err, sizeof err);
    if (rc) printf("# refresh: %s\n", err);
    return rc;
}

/* Policies and sales whose match in the derived tables differs from the
 * spec's words run over the facts (kpis.md insurance.renewal_rate and
 * new_penetration: an EXISTS per row) for a window of W days. */
#define SQL_MATCH_MISMATCH(W) \
    "SELECT (SELECT COUNT(*) FROM insurance_policies e JOIN rollup_policy_match m" \
    "   ON m.store_code = e.store_code AND m.policy_no = e.policy_no" \
    "   WHERE (m.gap <= " #W ") <> EXISTS (SELECT 1 FROM insurance_policies n WHERE n.vin = e.vin" \
    "   AND n.starts_on > e.starts_on AND n.starts_on BETWEEN e.ends_on - INTERVAL " #W " DAY" \
    "   AND e.ends_on + INTERVAL " #W " DAY) OR m.day <> e.ends_on OR m.insurer_code <> e.insurer_code)" \
    " + (SELECT COUNT(*) FROM insurance_policies e WHERE NOT EXISTS (SELECT 1 FROM rollup_policy_match m" \
    "   WHERE m.store_code = e.store_code AND m.policy_no = e.policy_no))" \
    " + (SELECT COUNT(*) FROM rollup_policy_match m WHERE NOT EXISTS (SELECT 1 FROM insurance_policies e" \
    "   WHERE m.store_code = e.store_code AND m.policy_no = e.policy_no AND m.vin = e.vin))" \
    " + (SELECT COUNT(*) FROM vehicle_sales v JOIN rollup_sale_match m" \
    "   ON m.store_code = v.store_code AND m.deal_no = v.deal_no" \
    "   WHERE (m.gap <= " #W ") <> EXISTS (SELECT 1 FROM insurance_policies n WHERE n.vin = v.vin" \
    "   AND n.kind = 'new' AND n.sold_on BETWEEN v.sold_on - INTERVAL " #W " DAY" \
    "   AND v.sold_on + INTERVAL " #W " DAY) OR m.day <> v.sold_on)" \
    " + (SELECT COUNT(*) FROM vehicle_sales v WHERE NOT EXISTS (SELECT 1 FROM rollup_sale_match m" \
    "   WHERE m.store_code = v.store_code AND m.deal_no = v.deal_no AND m.vin = v.vin))"

/* Day rows that are not the counts of the per-row matches, and month rows
 * that are not the sums of their days (either direction). */
static const char SQL_MATCH_COUNTS_MISMATCH[] =
    "SELECT (SELECT COUNT(*) FROM (SELECT store_code, day, insurer_code, gap, COUNT(*) AS n FROM rollup_policy_match"
    "   GROUP BY 1, 2, 3, 4) f LEFT JOIN rollup_renewal_day d USING (store_code, day, insurer_code, gap)"
    "   WHERE NOT d.policies <=> f.n)"
    " + (SELECT COUNT(*) FROM rollup_renewal_day) - (SELECT COUNT(DISTINCT store_code, day, insurer_code, gap)"
    "   FROM rollup_policy_match)"
    " + (SELECT COUNT(*) FROM (SELECT store_code, DATE_FORMAT(day, '%Y-%m-01') AS day, insurer_code, gap,"
    "   SUM(policies) AS n FROM rollup_renewal_day GROUP BY 1, 2, 3, 4) f"
    "   LEFT JOIN rollup_renewal_month m USING (store_code, day, insurer_code, gap) WHERE NOT m.policies <=> f.n)"
    " + (SELECT COUNT(*) FROM rollup_renewal_month) - (SELECT COUNT(DISTINCT store_code,"
    "   DATE_FORMAT(day, '%Y-%m-01'), insurer_code, gap) FROM rollup_renewal_day)"
    " + (SELECT COUNT(*) FROM (SELECT store_code, day, gap, COUNT(*) AS n FROM rollup_sale_match GROUP BY 1, 2, 3) f"
    "   LEFT JOIN rollup_new_policy_day d USING (store_code, day, gap) WHERE NOT d.sales <=> f.n)"
    " + (SELECT COUNT(*) FROM rollup_new_policy_day) - (SELECT COUNT(DISTINCT store_code, day, gap) FROM rollup_sale_match)"
    " + (SELECT COUNT(*) FROM (SELECT store_code, DATE_FORMAT(day, '%Y-%m-01') AS day, gap, SUM(sales) AS n"
    "   FROM rollup_new_policy_day GROUP BY 1, 2, 3) f"
    "   LEFT JOIN rollup_new_policy_month m USING (store_code, day, gap) WHERE NOT m.sales <=> f.n)"
    " + (SELECT COUNT(*) FROM rollup_new_policy_month) - (SELECT COUNT(DISTINCT store_code,"
    "   DATE_FORMAT(day, '%Y-%m-01'), gap) FROM rollup_new_policy_day)";

static const char SQL_MATCHES[] =
    "SELECT CONCAT((SELECT GROUP_CONCAT(CONCAT(policy_no, ':', gap) ORDER BY policy_no) FROM rollup_policy_match), '/',"
    " (SELECT GROUP_CONCAT(CONCAT(deal_no, ':', gap) ORDER BY deal_no) FROM rollup_sale_match))";

/* The insurance matches (schemas/015): a renewal sold at another store, a
 * renewal that moves out of the window, a policy whose VIN changes. */
static void test_matches(testdb *t)
{
    static const char VIN_B[] = "LVHRM1234567890BB", VIN_C[] = "LVHRM1234567890CC";
    CHECK(exec("INSERT INTO insurers (insurer_code, name) VALUES ('CPIC', '太保')") == 0 &&
          exec("INSERT INTO vehicle_sales (store_code, deal_no, vin, sold_on, customer_code, sale_amount) VALUES"
               " ('S1', 'D2', 'LVHRM1234567890AB', '2024-01-03', 'C1', 150000),"
               " ('S2', 'D1', 'LVHRM1234567890BB', '2024-06-10', 'C1', 120000),"
               " ('S1', 'D3', 'LVHRM1234567890CC', '2024-06-15', 'C1', 130000)") == 0 &&
          exec("INSERT INTO insurance_policies (store_code, policy_no, vin, insurer_code, kind, sold_on, starts_on,"
               " ends_on, premium) VALUES"
               " ('S1', 'P1', 'LVHRM1234567890AB', 'PICC', 'new', '2024-01-05', '2024-01-05', '2025-01-04', 5000),"
               " ('S2', 'P2', 'LVHRM1234567890AB', 'CPIC', 'renewal', '2024-12-20', '2025-01-05', '2026-01-04', 4000),"
               " ('S1', 'P3', 'LVHRM1234567890AB', 'PICC', 'renewal', '2026-03-01', '2026-03-01', '2027-02-28', 4200),"
               " ('S1', 'PB', 'LVHRM1234567890BB', 'PICC', 'new', '2024-06-30', '2024-06-30', '2025-06-29', 4800)") == 0,
          "sales and policies inserted");
    const char *const ab[] = { VIN_A, VIN_B }, *const abc[] = { VIN_A, VIN_B, VIN_C };
    CHECK(refresh_vins("vehicle_sales", "S1", abc, 3) == 0 && refresh_vins("insurance_policies", "S1", ab, 2) == 0,
          "refresh after the sales and policies");
    /* P1 ends 2025-01-04, P2 (another store) starts 2025-01-05: 1 day; P2
     * ends 2026-01-04, P3 starts 2026-03-01: 56 days; P3 and PB: nothing
     * starts after them. D2 sold 2024-01-03, new policy P1 sold 2024-01-05:
     * 2; D1 2024-06-10, PB 2024-06-30: 20; D3: no policy. */
    CHECK_STR(scalar(SQL_MATCHES), "P1:1,P2:56,P3:99999,PB:99999/D1:20,D2:2,D3:99999", "the matches, by hand");
    CHECK_STR(scalar("SELECT GROUP_CONCAT(CONCAT(store_code, day, insurer_code, ':', gap, 'x', policies) ORDER BY 1)"
                     " FROM rollup_renewal_month"),
              "S12025-01-01PICC:1x1,S12025-06-01PICC:99999x1,S12027-02-01PICC:99999x1,S22026-01-01CPIC:56x1",
              "renewal month counts by store, ending month, insurer and gap");
    CHECK_STR(scalar(SQL_MATCH_MISMATCH(0)), "0", "window 0: the matches agree with the facts");
    CHECK_STR(scalar(SQL_MATCH_MISMATCH(30)), "0", "window 30 agrees");
    CHECK_STR(scalar(SQL_MATCH_MISMATCH(56)), "0", "window 56 agrees (inclusive)");
    CHECK_STR(scalar(SQL_MATCH_COUNTS_MISMATCH), "0", "day and month counts agree with the rows");

    /* P2 is re-imported (at S2) starting 2025-03-01: P1, at S1, now waits 56
     * days for its renewal */
    CHECK(exec("UPDATE insurance_policies SET starts_on = '2025-03-01' WHERE policy_no = 'P2'") == 0, "P2 starts later");
    CHECK(refresh_vins("insurance_policies", "S2", ab, 1) == 0, "refresh the VIN of P2");
    CHECK_STR(scalar("SELECT CONCAT(gap, 'x', policies) FROM rollup_renewal_day WHERE store_code = 'S1'"
                     " AND day = '2025-01-04'"), "56x1", "the other store's policy follows");
    /* PB's VIN was mistyped: it is VIN_C's (the importer names the old VIN and the new) */
    CHECK(exec("UPDATE insurance_policies SET vin = 'LVHRM1234567890CC' WHERE policy_no = 'PB'") == 0, "PB moves to C");
    const char *const bc[] = { VIN_B, VIN_C };
    CHECK(refresh_vins("insurance_policies", "S1", bc, 2) == 0, "refresh the old and new VIN");
    CHECK_STR(scalar(SQL_MATCHES), "P1:56,P2:56,P3:99999,PB:99999/D1:99999,D2:2,D3:15", "B's sale lost its policy, C's gained it");
    /* a sale moves a day: only its own match changes */
    CHECK(exec("UPDATE vehicle_sales SET sold_on = '2024-07-20' WHERE deal_no = 'D3'") == 0, "D3 moves");
    const char *const c_only[] = { VIN_C };
    CHECK(refresh_vins("vehicle_sales", "S1", c_only, 1) == 0, "refresh after the sale");
    CHECK_STR(scalar("SELECT GROUP_CONCAT(CONCAT(day, ':', gap) ORDER BY day) FROM rollup_new_policy_day WHERE store_code = 'S1'"),
              "2024-01-03:2,2024-07-20:20", "the sale's old day is gone, its new day has it");
    CHECK_STR(scalar(SQL_MATCH_MISMATCH(20)), "0", "after the changes the matches agree with the facts");
    CHECK_STR(scalar(SQL_MATCH_MISMATCH(55)), "0", "window 55 too");
    CHECK_STR(scalar(SQL_MATCH_COUNTS_MISMATCH), "0", "and the counts with the rows");

    /* the rebuild (one transaction, and two lanes) builds the same */
    char before[4096], err[512];
    snprintf(before, sizeof before, "%s", scalar(SQL_MATCHES));
    CHECK(rollup_rebuild(conn, err, sizeof err) == 0, "rebuild (%s)", err);
    CHECK_STR(scalar(SQL_MATCHES), before, "the rebuild equals the refreshes");
    CHECK_STR(scalar(SQL_MATCH_COUNTS_MISMATCH), "0", "rebuilt counts agree with the rows");
    CHECK(rollup_rebuild_fresh(t->pool, NULL, NULL, err, sizeof err) == 0, "two-lane rebuild (%s)", err);
    CHECK_STR(scalar(SQL_MATCHES), before, "the two-lane rebuild too");
}

/* (store, day) rows of a receivables table T that differ from the spec's
 * words run over the facts (kpis.md "receivables": open = amount less
 * payments on or before the day, invoices issued on or before it, positive
 * open amounts; age from issued_on; overdue past 90 days, 180 for a
 * government customer), for every day of the CTE DAYS (`m`, from the first
 * invoice's to the horizon); both directions. The credit limit is the gross
 * profit of rollup_ro (itself checked against the facts above). */
#define RECEIVABLE_MISMATCH(DAYS, T) \
    "WITH b AS (SELECT MIN(issued_on) AS first, (SELECT day FROM rollup_horizon WHERE name = 'receivables') AS last" \
    "   FROM invoices), " DAYS "," \
    " oi AS (SELECT m.day, i.store_code, i.customer_code, MAX(c.type) = 'government' AS gov," \
    "   DATEDIFF(m.day, i.issued_on) AS age, i.amount - COALESCE(SUM(p.amount), 0) AS open" \
    "   FROM m JOIN invoices i ON i.issued_on <= m.day" \
    "   JOIN customers c ON c.store_code = i.store_code AND c.customer_code = i.customer_code" \
    "   LEFT JOIN payments p ON p.store_code = i.store_code AND p.invoice_no = i.invoice_no AND p.paid_on <= m.day" \
    "   GROUP BY m.day, i.store_code, i.invoice_no, i.customer_code, i.issued_on, i.amount)," \
    " f AS (SELECT day, store_code, SUM(open) AS open, SUM(IF(age <= 30, open, 0)) AS a0," \
    "   SUM(IF(age BETWEEN 31 AND 60, open, 0)) AS a1, SUM(IF(age BETWEEN 61 AND 90, open, 0)) AS a2," \
    "   SUM(IF(age BETWEEN 91 AND 180, open, 0)) AS a3, SUM(IF(age BETWEEN 181 AND 365, open, 0)) AS a4," \
    "   SUM(IF(age > 365, open, 0)) AS a5," \
    "   SUM(IF(age > IF(gov, 180, 90), open, 0)) AS overdue FROM oi WHERE open > 0 GROUP BY day, store_code)," \
    " owed AS (SELECT day, store_code, customer_code, SUM(open) AS open FROM oi WHERE open > 0 GROUP BY 1, 2, 3)," \
    " lim AS (SELECT o.day, o.store_code, COUNT(*) AS n FROM owed o" \
    "   WHERE o.open > (SELECT COALESCE(SUM(r.revenue - r.cost), 0) FROM rollup_ro r" \
    "   WHERE r.store_code = o.store_code AND r.customer_code = o.customer_code" \
    "   AND r.day > o.day - INTERVAL 6 MONTH AND r.day <= o.day) GROUP BY 1, 2)," \
    " t AS (" T ")" \
    " SELECT (SELECT COUNT(*) FROM f LEFT JOIN t ON t.day = f.day AND t.store_code = f.store_code" \
    "   LEFT JOIN lim ON lim.day = f.day AND lim.store_code = f.store_code" \
    "   WHERE NOT (t.open_amount <=> f.open AND t.age_0_30 <=> f.a0 AND t.age_31_60 <=> f.a1" \
    "   AND t.age_61_90 <=> f.a2 AND t.age_91_180 <=> f.a3 AND t.age_181_365 <=> f.a4 AND t.age_over_365 <=> f.a5" \
    "   AND COALESCE(t.overdue, 0) <=> f.overdue AND t.over_limit_accounts <=> COALESCE(lim.n, 0)))" \
    " + (SELECT COUNT(*) FROM t WHERE NOT EXISTS (SELECT 1 FROM f WHERE f.day = t.day AND f.store_code = t.store_code))"
#define RECV_COLUMNS \
    "r.day, r.store_code, r.open_amount, r.age_0_30, r.age_31_60, r.age_61_90, r.age_91_180," \
    " r.age_181_365, r.age_over_365, r.over_limit_accounts"
/* The month ends' open amounts by customer type and age (schemas/016), the
 * customers over their limit from the day rows. */
static const char SQL_RECEIVABLE_MISMATCH[] = RECEIVABLE_MISMATCH(
    "m AS (SELECT LAST_DAY(b.first + INTERVAL seq MONTH) AS day FROM b JOIN seq_0_to_1199"
    "   WHERE LAST_DAY(b.first + INTERVAL seq MONTH) <= b.last)",
    "SELECT a.day, a.store_code, SUM(a.open_amount) AS open_amount,"
    " SUM(IF(a.age_days <= 30, a.open_amount, 0)) AS age_0_30,"
    " SUM(IF(a.age_days BETWEEN 31 AND 60, a.open_amount, 0)) AS age_31_60,"
    " SUM(IF(a.age_days BETWEEN 61 AND 90, a.open_amount, 0)) AS age_61_90,"
    " SUM(IF(a.age_days BETWEEN 91 AND 180, a.open_amount, 0)) AS age_91_180,"
    " SUM(IF(a.age_days BETWEEN 181 AND 365, a.open_amount, 0)) AS age_181_365,"
    " SUM(IF(a.age_days > 365, a.open_amount, 0)) AS age_over_365,"
    " SUM(IF(a.age_days > IF(a.government, 180, 90), a.open_amount, 0)) AS overdue,"
    " (SELECT d.over_limit_accounts FROM rollup_receivable_day d WHERE d.day = a.day"
    "   AND d.store_code = a.store_code) AS over_limit_accounts"
    " FROM rollup_receivable_age a GROUP BY a.day, a.store_code");
/* Every day (schemas/031), overdue from the buckets on the terms' edges:
 * everyone's over 90 days less the government's, plus the government's
 * over 180. */
static const char SQL_RECEIVABLE_DAY_MISMATCH[] = RECEIVABLE_MISMATCH(
    "m AS (SELECT b.first + INTERVAL seq DAY AS day FROM b JOIN seq_0_to_99999 WHERE b.first + INTERVAL seq DAY <= b.last)",
    "SELECT " RECV_COLUMNS ", r.age_91_180 + r.age_181_365 + r.age_over_365"
    " - r.gov_age_91_180 - r.gov_age_181_365 - r.gov_age_over_365 + r.gov_age_181_365 + r.gov_age_over_365 AS overdue"
    " FROM rollup_receivable_day r");

/* The receivables at month ends (schemas/016) and by day (031): built by
 * the imports' refreshes, checked by hand and against the facts; the horizon moving on
 * gives every store the new month ends; the rebuild builds the same. */
static void test_receivables(testdb *t)
{
    CHECK(exec("INSERT INTO customers (store_code, customer_code, type) VALUES ('S1', 'G1', 'government')") == 0 &&
          exec("INSERT INTO invoices (store_code, invoice_no, customer_code, issued_on, amount) VALUES"
               " ('S1', 'V1', 'C1', '2023-11-15', 1000), ('S1', 'V2', 'G1', '2023-12-20', 2000),"
               " ('S1', 'V3', 'C1', '2024-01-02', 500), ('S2', 'W1', 'C1', '2024-01-10', 300)") == 0 &&
          exec("INSERT INTO payments (store_code, payment_no, invoice_no, paid_on, amount) VALUES"
               " ('S1', 'P1', 'V1', '2023-12-10', 400), ('S1', 'P2', 'V1', '2024-01-20', 600),"
               " ('S1', 'P3', 'V3', '2024-01-05', 100)") == 0,
          "invoices and payments inserted");
    CHECK(refresh("invoices", "S1", "2023-11-15", "2024-01-02", false) == 0 &&
          refresh("invoices", "S2", "2024-01-10", "2024-01-10", false) == 0 &&
          refresh("payments", "S1", "2023-12-10", "2024-01-20", false) == 0, "refresh after the imports");
    /* S1 on 2023-12-31: V1 1000 - 400 = 600 aged 46, V2 (government) 2000
     * aged 11. On 2024-01-31: V1 paid off, V2 2000 aged 42, V3 400 aged 29.
     * S2 has nothing before 2024-01-31 (W1 300 aged 21). */
    CHECK_STR(scalar("SELECT GROUP_CONCAT(CONCAT(store_code, ' ', day, ' ', open_amount, '=', age_0_30, '+', age_31_60)"
                     " ORDER BY day, store_code SEPARATOR '; ') FROM rollup_receivable_day WHERE day = LAST_DAY(day)"),
              "S1 2023-11-30 1000.00=1000.00+0.00; S1 2023-12-31 2600.00=2000.00+600.00; "
              "S1 2024-01-31 2400.00=400.00+2000.00; S2 2024-01-31 300.00=300.00+0.00",
              "month ends by hand");
    CHECK_STR(scalar("SELECT day FROM rollup_horizon WHERE name = 'receivables'"), "2024-01-31", "the horizon");
    CHECK_STR(scalar(SQL_RECEIVABLE_MISMATCH), "0", "the month ends agree with the facts");
    /* by day: on 2023-12-15 V1's 600 is 30 days old, on the 16th 31; on
     * 2024-01-20 V1 is paid off, V2 (government) is 31 days old, V3's 400 18 */
    CHECK_STR(scalar("SELECT GROUP_CONCAT(CONCAT_WS(' ', day, open_amount, age_0_30, age_31_60, gov_age_31_60)"
                     " ORDER BY day SEPARATOR '; ') FROM rollup_receivable_day WHERE store_code = 'S1'"
                     " AND day IN ('2023-12-15', '2023-12-16', '2024-01-20')"),
              "2023-12-15 600.00 600.00 0.00 0.00; 2023-12-16 600.00 0.00 600.00 0.00; "
              "2024-01-20 2400.00 400.00 2000.00 2000.00", "days by hand");
    CHECK_STR(scalar(SQL_RECEIVABLE_DAY_MISMATCH), "0", "every day agrees with the facts");
    /* S2's W3 of 100 on 2024-01-05 was paid 30 before it was issued (it counts
     * from the issue) and overpaid by two payments on the 8th; the credit
     * note W4 (-50) never adds: 70 from the 5th to the 7th, nothing owed on
     * the 8th and 9th (W1 comes on the 10th) */
    CHECK(exec("INSERT INTO invoices (store_code, invoice_no, customer_code, issued_on, amount) VALUES"
               " ('S2', 'W3', 'C1', '2024-01-05', 100), ('S2', 'W4', 'C1', '2024-01-06', -50)") == 0 &&
          exec("INSERT INTO payments (store_code, payment_no, invoice_no, paid_on, amount) VALUES"
               " ('S2', 'Q1', 'W3', '2024-01-01', 30), ('S2', 'Q2', 'W3', '2024-01-08', 50),"
               " ('S2', 'Q3', 'W3', '2024-01-08', 50)") == 0 &&
          refresh("invoices", "S2", "2024-01-05", "2024-01-06", false) == 0 &&
          refresh("payments", "S2", "2024-01-01", "2024-01-08", false) == 0, "odd invoices and payments");
    CHECK_STR(scalar("SELECT GROUP_CONCAT(CONCAT_WS(' ', day, open_amount) ORDER BY day SEPARATOR '; ')"
                     " FROM rollup_receivable_day WHERE store_code = 'S2' AND day BETWEEN '2024-01-04' AND '2024-01-09'"),
              "2024-01-05 70.00; 2024-01-06 70.00; 2024-01-07 70.00", "odd days by hand");
    CHECK_STR(scalar(SQL_RECEIVABLE_DAY_MISMATCH), "0", "and every day still agrees with the facts");
    /* an S2 invoice of March moves the horizon: S1, not imported, gets
     * February and March too: V2 2000 aged 71 then 102, V3 400 aged 58
     * then 89 (61-90 days: 2000, then 400) */
    CHECK(exec("INSERT INTO invoices (store_code, invoice_no, customer_code, issued_on, amount) VALUES"
               " ('S2', 'W2', 'C1', '2024-03-05', 700)") == 0, "an invoice of March");
    CHECK(refresh("invoices", "S2", "2024-03-05", "2024-03-05", false) == 0, "refresh S2");
    CHECK_STR(scalar("SELECT GROUP_CONCAT(CONCAT(day, ' ', open_amount, ' ', age_61_90) ORDER BY day SEPARATOR '; ')"
                     " FROM rollup_receivable_day WHERE store_code = 'S1' AND day > '2024-01-31' AND day = LAST_DAY(day)"),
              "2024-02-29 2400.00 2000.00; 2024-03-31 2400.00 400.00", "the other store follows the horizon");
    CHECK_STR(scalar(SQL_RECEIVABLE_MISMATCH), "0", "still in agreement");
    CHECK_STR(scalar("SELECT CONCAT(MAX(day), ' ', COUNT(*)) FROM rollup_receivable_day WHERE store_code = 'S1'"),
              "2024-03-31 138", "S1 owes something every day from 2023-11-15 to the new horizon");
    CHECK_STR(scalar(SQL_RECEIVABLE_DAY_MISMATCH), "0", "every day still in agreement");
    /* S2's C9 owes 1000 from 2024-01-20 against a limit of 2000, the gross
     * profit of an RO of 2023-09-15, which counts up to 2024-03-14 (the 15th
     * less six months is the RO's day): over the limit from the 15th, beside
     * C1 (owing 300 from 01-10 with no profit at all) */
    CHECK(exec("INSERT INTO customers (store_code, customer_code, type) VALUES ('S2', 'C9', 'fleet')") == 0 &&
          exec("INSERT INTO repair_orders (store_code, ro_no, vin, customer_code, ro_type, payer, opened_at, closed_at,"
               " other_amount) VALUES ('S2', 'R20', 'LVHRM0000000000X9', 'C9', 'repair', 'customer',"
               " '2023-09-15 09:00', '2023-09-15 17:00', 2000)") == 0 &&
          exec("INSERT INTO invoices (store_code, invoice_no, customer_code, issued_on, amount) VALUES"
               " ('S2', 'X1', 'C9', '2024-01-20', 1000)") == 0 &&
          refresh("repair_orders", "S2", "2023-09-15", "2023-09-15", false) == 0 &&
          refresh("invoices", "S2", "2024-01-20", "2024-01-20", false) == 0, "a fleet's RO and invoice");
    CHECK_STR(scalar("SELECT GROUP_CONCAT(CONCAT_WS(' ', day, over_limit_accounts) ORDER BY day SEPARATOR '; ')"
                     " FROM rollup_receivable_day WHERE store_code = 'S2' AND day IN ('2024-01-19', '2024-01-20',"
                     " '2024-03-14', '2024-03-15')"),
              "2024-01-19 1; 2024-01-20 1; 2024-03-14 1; 2024-03-15 2", "the limit lapses by hand");
    CHECK_STR(scalar(SQL_RECEIVABLE_DAY_MISMATCH), "0", "the limits agree with the facts every day");
    CHECK(exec("DELETE FROM invoices WHERE store_code = 'S2' AND invoice_no = 'X1'") == 0 &&
          exec("DELETE FROM repair_orders WHERE store_code = 'S2' AND ro_no = 'R20'") == 0 &&
          refresh("repair_orders", "S2", "2023-09-15", "2023-09-15", false) == 0 &&
          refresh("invoices", "S2", "2024-01-20", "2024-01-20", false) == 0, "the fleet's RO and invoice gone");
    CHECK_STR(scalar(SQL_RECEIVABLE_DAY_MISMATCH), "0", "and gone from every day");
    /* G1 becomes a customer of another type: its overdue terms change */
    CHECK(exec("UPDATE customers SET type = 'fleet' WHERE store_code = 'S1' AND customer_code = 'G1'") == 0,
          "G1 is a fleet now");
    CHECK(refresh("customers", "S1", "", "", false) == 0, "refresh after customers");
    CHECK_STR(scalar("SELECT GROUP_CONCAT(DISTINCT government) FROM rollup_receivable_age WHERE store_code = 'S1'"),
              "0", "the age rows follow the customer's type");
    CHECK_STR(scalar(SQL_RECEIVABLE_MISMATCH), "0", "and agree with the facts");
    CHECK_STR(scalar("SELECT SUM(gov_age_0_30 + gov_age_31_60 + gov_age_61_90 + gov_age_91_180 + gov_age_181_365"
                     " + gov_age_over_365) FROM rollup_receivable_day WHERE store_code = 'S1'"),
              "0.00", "the day rows follow the customer's type");
    CHECK_STR(scalar(SQL_RECEIVABLE_DAY_MISMATCH), "0", "and agree with the facts every day");
    /* a rebuild gives the same */
    char before[4096], err[512];
    snprintf(before, sizeof before, "%s",
             scalar("SELECT CONCAT((SELECT GROUP_CONCAT(CONCAT_WS(' ', day, store_code, government, age_days, open_amount)"
                    " ORDER BY day, store_code, government, age_days) FROM rollup_receivable_age), '/',"
                    " (SELECT MD5(GROUP_CONCAT(CONCAT_WS(' ', day, store_code, open_amount, age_0_30, age_31_60, age_61_90,"
                    " age_91_180, age_181_365, age_over_365, gov_age_0_30, gov_age_31_60, gov_age_61_90, gov_age_91_180,"
                    " gov_age_181_365, gov_age_over_365, over_limit_accounts) ORDER BY day, store_code))"
                    " FROM rollup_receivable_day))"));
    CHECK(rollup_rebuild(conn, err, sizeof err) == 0, "rebuild (%s)", err);
    CHECK(rollup_rebuild_fresh(t->pool, NULL, NULL, err, sizeof err) == 0, "two-lane rebuild (%s)", err);
    CHECK_STR(scalar("SELECT CONCAT((SELECT GROUP_CONCAT(CONCAT_WS(' ', day, store_code, government, age_days, open_amount)"
                     " ORDER BY day, store_code, government, age_days) FROM rollup_receivable_age), '/',"
                     " (SELECT MD5(GROUP_CONCAT(CONCAT_WS(' ', day, store_code, open_amount, age_0_30, age_31_60,"
                     " age_61_90, age_91_180, age_181_365, age_over_365, gov_age_0_30, gov_age_31_60, gov_age_61_90,"
                     " gov_age_91_180, gov_age_181_365, gov_age_over_365, over_limit_accounts) ORDER BY day, store_code))"
                     " FROM rollup_receivable_day))"),
              before, "the rebuilds equal the refreshes");
}

/* (month end, store, N...) counts where the retention month-end tables
 * (schemas/017) differ from the vehicles' states at that month end read
 * with MariaDB's own date arithmetic (what a non-month-end `to` reads):
 * vehicles by store of the last visit with it on or before M - N months;
 * by selling store with the sale on or before M - N months and the last
 * visit on or before M - L months; and served within F months of the sale
 * (by M: a first visit after M is not yet one).
 * Both directions; every month end up to the horizon, N up to 40. */
#define RET_MONTHS \
    "WITH m AS (SELECT LAST_DAY(f.first + INTERVAL seq MONTH) AS day FROM (SELECT LEAST(" \
    "   (SELECT MIN(visit_on) FROM rollup_vehicle_visit), (SELECT MIN(sold_on) FROM vehicle_sales)) AS first) f" \
    "   JOIN seq_0_to_1199 WHERE LAST_DAY(f.first + INTERVAL seq MONTH)" \
    "   <= (SELECT day FROM rollup_horizon WHERE name = 'retention')),"
#define RET_STATES " FROM m JOIN rollup_vehicle_state v ON v.from_on <= m.day AND v.until_on > m.day"
#define RET_COMPARE \
    " SELECT (SELECT COUNT(*) FROM direct d LEFT JOIN held h USING (day, store_code, n, k) WHERE NOT h.c <=> d.c)" \
    " + (SELECT COUNT(*) FROM held h LEFT JOIN direct d USING (day, store_code, n, k) WHERE d.c IS NULL)"
static const char SQL_RET_LAST_MISMATCH[] =
    RET_MONTHS
    " direct AS (SELECT m.day, v.last_store_code AS store_code, n.seq AS n, 0 AS k, COUNT(*) AS c" RET_STATES
    "   JOIN seq_0_to_40 n ON v.from_on <= m.day - INTERVAL n.seq MONTH GROUP BY 1, 2, 3),"
    " held AS (SELECT r.day, r.store_code, n.seq AS n, 0 AS k, SUM(r.vehicles) AS c FROM rollup_retention_last r"
    "   JOIN seq_0_to_40 n ON r.months_ago >= n.seq GROUP BY 1, 2, 3)" RET_COMPARE;
static const char SQL_RET_CHURN_MISMATCH[] =
    RET_MONTHS
    " direct AS (SELECT m.day, v.sale_store_code AS store_code, n.seq AS n, l.seq AS k, COUNT(*) AS c" RET_STATES
    "   JOIN seq_0_to_40 n ON v.sold_on <= m.day - INTERVAL n.seq MONTH"
    "   JOIN seq_0_to_12 l ON v.from_on <= m.day - INTERVAL l.seq MONTH GROUP BY 1, 2, 3, 4),"
    " held AS (SELECT r.day, r.store_code, n.seq AS n, l.seq AS k, SUM(r.vehicles) AS c FROM rollup_retention_churn r"
    "   JOIN seq_0_to_40 n ON r.sold_ago >= n.seq JOIN seq_0_to_12 l ON r.last_ago >= l.seq GROUP BY 1, 2, 3, 4)"
    RET_COMPARE;
static const char SQL_RET_FIRST_MISMATCH[] =
    RET_MONTHS
    " direct AS (SELECT m.day, v.sale_store_code AS store_code, n.seq AS n, f.seq AS k, COUNT(*) AS c" RET_STATES
    "   JOIN seq_0_to_40 n ON v.sold_on <= m.day - INTERVAL n.seq MONTH"
    "   JOIN seq_0_to_12 f ON v.first_visit_on <= LEAST(v.sold_on + INTERVAL f.seq MONTH, m.day) GROUP BY 1, 2, 3, 4),"
    " held AS (SELECT r.day, r.store_code, n.seq AS n, f.seq AS k, SUM(r.vehicles) AS c FROM rollup_retention_first r"
    "   JOIN seq_0_to_40 n ON r.sold_ago >= n.seq JOIN seq_0_to_12 f ON r.served_after <= f.seq GROUP BY 1, 2, 3, 4)"
    RET_COMPARE;

static void check_retention_month_ends(const char *when)
{
    CHECK_STR(scalar(SQL_RET_LAST_MISMATCH), "0", "%s: last visits by store at month ends agree with the states", when);
    CHECK_STR(scalar(SQL_RET_CHURN_MISMATCH), "0", "%s: sales and last visits agree", when);
    CHECK_STR(scalar(SQL_RET_FIRST_MISMATCH), "0", "%s: sales and first services agree", when);
}

/* The tables up to 2024-07-31, the last event's month end: a refresh never
 * moves the horizon back (the month ends past the last event stay right),
 * a rebuild starts it there. */
static const char SQL_RET_DIGEST[] =
    "SELECT CONCAT((SELECT GROUP_CONCAT(CONCAT_WS(' ', day, store_code, months_ago, vehicles) ORDER BY 1)"
    " FROM rollup_retention_last WHERE day <= '2024-07-31'),"
    " '/', (SELECT GROUP_CONCAT(CONCAT_WS(' ', day, sold_ago, store_code, last_ago, vehicles) ORDER BY 1)"
    " FROM rollup_retention_churn WHERE day <= '2024-07-31'),"
    " '/', (SELECT GROUP_CONCAT(CONCAT_WS(' ', day, sold_ago, store_code, served_after, vehicles) ORDER BY 1)"
    " FROM rollup_retention_first WHERE day <= '2024-07-31'))";

/* The retention month ends (schemas/017): kept by the imports' refreshes
 * (old states out, new in), moved on with the horizon and back with the
 * first month; a rebuild builds the same. */
static void test_retention(testdb *t)
{
    check_retention_month_ends("after the refreshes so far");
    /* VIN_A (sold at S1 on 2024-01-03, R1 2024-01-01 at S1, ...) visits S2 in September, after
     * every other event (the latest, a sale of 2024-07-20): the month ends move on to
     * September, and at its end VIN_A is S2's, seen 0 months ago */
    CHECK(exec("INSERT INTO repair_orders (store_code, ro_no, vin, customer_code, ro_type, payer, opened_at, closed_at)"
               " VALUES ('S2', 'R30', 'LVHRM1234567890AB', 'C1', 'maintenance', 'customer', '2024-09-10 09:00',"
               " '2024-09-10 11:00')") == 0, "a visit in September");
    CHECK_STR(scalar("SELECT day FROM rollup_horizon WHERE name = 'retention'"), "2024-07-31", "the horizon before");
    CHECK(refresh("repair_orders", "S2", "2024-09-10", "2024-09-10", true) == 0, "refresh");
    CHECK_STR(scalar("SELECT day FROM rollup_horizon WHERE name = 'retention'"), "2024-09-30", "the horizon moves on");
    CHECK_STR(scalar("SELECT CONCAT(store_code, ':', months_ago, 'x', vehicles) FROM rollup_retention_last"
                     " WHERE day = '2024-09-30' AND store_code = 'S2' AND months_ago = 0"), "S2:0x1",
              "VIN_A at the end of September");
    check_retention_month_ends("after a visit past the horizon");
    /* the visit was in fact in 2023: before every other event */
    CHECK(exec("UPDATE repair_orders SET closed_at = '2023-06-15 11:00', opened_at = '2023-06-15 09:00'"
               " WHERE store_code = 'S2' AND ro_no = 'R30'") == 0, "the visit moves to 2023");
    CHECK(refresh("repair_orders", "S2", "2023-06-15", "2024-09-10", true) == 0, "refresh");
    CHECK_STR(scalar("SELECT MIN(day) FROM rollup_retention_last"), "2023-06-30", "the month ends start earlier");
    check_retention_month_ends("after a visit before the first month end");
    /* VIN_C (sold at S1, the sale moved to 2024-07-20 above, never seen) has its
     * first service at S2 on 2024-08-05: the refresh, told the date, redoes the
     * month ends from August on; July's row (no first service known by then)
     * stays, and must be what a rebuild makes of it (checked below) */
    static const char *const vin_c[1] = { "LVHRM1234567890CC" };
    rollup_touch aug = { .store_code = "S2", .from = "2024-08-05", .to = "2024-08-05" };
    rollup_scope aug_scope = { .entity = "repair_orders", .touched = &aug, .ntouched = 1, .vins = vin_c, .nvins = 1 };
    char rerr[512];
    CHECK(exec("INSERT INTO repair_orders (store_code, ro_no, vin, customer_code, ro_type, payer, opened_at, closed_at)"
               " VALUES ('S2', 'R31', 'LVHRM1234567890CC', 'C1', 'first_service', 'customer', '2024-08-05 09:00',"
               " '2024-08-05 11:00')") == 0 &&
          rollup_refresh(conn, &aug_scope, rerr, sizeof rerr) == 0, "a first service in August (%s)", rerr);
    CHECK_STR(scalar("SELECT GROUP_CONCAT(CONCAT(day, ':', served_after) ORDER BY day) FROM rollup_retention_first"
                     " WHERE store_code = 'S1' AND day BETWEEN '2024-06-30' AND '2024-08-31' AND sold_ago = 0"
                     " AND vehicles > 0 AND day <> '2024-08-31'"), "2024-07-31:65535",
              "at the end of July VIN_C is not served yet");
    CHECK_STR(scalar("SELECT GROUP_CONCAT(CONCAT(sold_ago, ':', served_after)) FROM rollup_retention_first"
                     " WHERE store_code = 'S1' AND day = '2024-08-31' AND sold_ago = 1"), "1:1",
              "at the end of August: sold a month before, served within a month (08-05 <= 08-20)");
    check_retention_month_ends("after a first service inside the held months");
    char before[8192], err[512];
    snprintf(before, sizeof before, "%s", scalar(SQL_RET_DIGEST));
    CHECK(rollup_rebuild(conn, err, sizeof err) == 0, "rebuild (%s)", err);
    CHECK_STR(scalar(SQL_RET_DIGEST), before, "the rebuild equals the refreshes");
    CHECK(rollup_rebuild_fresh(t->pool, NULL, NULL, err, sizeof err) == 0, "two-lane rebuild (%s)", err);
    CHECK_STR(scalar(SQL_RET_DIGEST), before, "the two-lane rebuild too");
    /* the vehicles rebuilt one VIN range at a time (three VINs, ranges of one) */
    char states[4096];
    snprintf(states, sizeof states, "%s", scalar(SQL_CHECKSUM));
    rollup_set_vin_range_size(1);
    CHECK(rollup_rebuild(conn, err, sizeof err) == 0, "rebuild in VIN ranges of one (%s)", err);
    rollup_set_vin_range_size(0);
    CHECK_STR(scalar(SQL_CHECKSUM), states, "the visits and states are the same");
    CHECK_STR(scalar(SQL_RET_DIGEST), before, "and so are the month ends");
    /* a refresh naming more VINs than one statement takes (ROLLUP_VIN_CHUNK):
     * the three real ones first, 128th and 130th, the rest VINs without facts */
    static char names[130][18];
    const char *many[130];
    for (int i = 0; i < 130; i++) {
        snprintf(names[i], sizeof names[i], "LVHRM0000000%05d", i);
        many[i] = names[i];
    }
    many[0] = VIN_A;
    many[127] = "LVHRM1234567890BB";
    many[129] = "LVHRM1234567890CC";
    CHECK(exec("DELETE FROM rollup_vehicle_state") == 0, "the states gone");
    rollup_touch all = { .store_code = "S1", .from = "", .to = "" };
    rollup_scope many_scope = { .entity = "vehicle_sales", .touched = &all, .ntouched = 1, .vins = many, .nvins = 130 };
    CHECK(rollup_refresh(conn, &many_scope, err, sizeof err) == 0, "a refresh of 130 VINs (%s)", err);
    CHECK_STR(scalar(SQL_CHECKSUM), states, "the states of the three, in two statements' lists, as rebuilt");
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

    test_matches(&t);
    test_receivables(&t);
    test_retention(&t);
    testdb_stop(&t);
    return check_done();
}
