/* test_demo: the demo group generator (core/demo/). Determinism (same seed
 * and end month: byte-identical files; another seed: different files), the
 * round trip through the real importer into a private MariaDB (testdb.h):
 * row counts and money totals computed from the CSV text by this test equal
 * plain SQL over the loaded tables, the demo users exist; and the story: each
 * weak store really is the worst of the group on its measure, computed by
 * plain SQL, while the healthy stores bring 80-99 % of their new vehicles
 * back for the first service; every individual customer has a mobile number
 * of the 1xx-xxxx-xxxx form; and the targets: one per store, month and
 * budget KPI of the catalogue, each last year's figure of the month (by
 * plain SQL) times the store's growth, the pushed store asked for more. */
#include <stdlib.h>
#include <stdbool.h>
#include <dirent.h>
#include <unistd.h>
#include <sys/stat.h>
#include "check.h"
#include "testdb.h"
#include "app.h"
#include "config.h"
#include "demo.h"
#include "import.h"
#include "kpi.h"

static testdb T;
static app A;

/* --- helpers --- */

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 1 << 20, n = 0;
    char *buf = malloc(cap);
    size_t got;
    while (buf && (got = fread(buf + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap) {
            char *nb = realloc(buf, cap * 2);
            if (!nb) { free(buf); buf = NULL; break; }
            buf = nb;
            cap *= 2;
        }
    }
    fclose(f);
    *len = n;
    return buf;
}

static int files_equal(const char *a, const char *b)
{
    size_t la = 0, lb = 0;
    char *x = read_file(a, &la), *y = read_file(b, &lb);
    int eq = x && y && la == lb && memcmp(x, y, la) == 0;
    free(x);
    free(y);
    return eq;
}

static void remove_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) return;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        char p[PATH_MAX];
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        unlink(p);
    }
    closedir(d);
    rmdir(dir);
}

static double q1d(const char *sql)
{
    db_result *r = NULL;
    char err[512];
    if (db_query(T.conn, sql, NULL, 0, &r, err, sizeof err) < 0) {
        printf("query failed: %s: %s\n", sql, err);
        return -999;
    }
    bool null = true;
    double v = r->nrows ? db_cell_double(r, 0, 0, &null) : 0;
    db_result_free(r);
    return null ? -1 : v;
}

/* A decimal text ("12", "3.5", "0.07") in hundredths, parsed here rather
 * than by the importer or the generator. */
static long long hundredths(const char *s, size_t n)
{
    long long whole = 0, frac = 0;
    int fd = 0;
    size_t i = 0;
    for (; i < n && s[i] != '.'; i++) whole = whole * 10 + (s[i] - '0');
    if (i < n) for (i++; i < n && fd < 2; i++, fd++) frac = frac * 10 + (s[i] - '0');
    if (fd == 1) frac *= 10;
    return whole * 100 + frac;
}

/* Sum over the data lines of a CSV file (no quoted fields in these files) of
 * column a times column b (b < 0: column a alone), both in hundredths; the
 * result in hundredths (a product is divided by 100, exactly for these
 * data: quantities of parts are whole, material prices whole yuan). Also
 * counts the data lines. */
static long long csv_sum(const char *path, int a, int b, long long *lines)
{
    size_t len = 0;
    char *buf = read_file(path, &len);
    long long sum = 0;
    *lines = 0;
    if (!buf) return -1;
    char *p = memchr(buf, '\n', len);
    p = p ? p + 1 : buf + len;
    char *end = buf + len;
    while (p < end) {
        char *eol = memchr(p, '\n', (size_t)(end - p));
        if (!eol) eol = end;
        const char *field[20];
        size_t flen[20];
        int nf = 0;
        const char *f = p;
        for (char *q = p; q <= eol && nf < 20; q++) {
            if (q == eol || *q == ',') { field[nf] = f; flen[nf] = (size_t)(q - f); nf++; f = q + 1; }
        }
        if (a < nf && (b < 0 || b < nf)) {
            long long x = hundredths(field[a], flen[a]);
            sum += b < 0 ? x : x * hundredths(field[b], flen[b]) / 100;
        }
        (*lines)++;
        p = eol + 1;
    }
    free(buf);
    return sum;
}

/* The store codes ordered by a per-store measure (SQL returning store_code,
 * value); the code with the lowest (asc) or highest (!asc) value into out. */
static double extreme_store(const char *sql, bool lowest, char *out, size_t outlen)
{
    db_result *r = NULL;
    char err[512];
    out[0] = '\0';
    if (db_query(T.conn, sql, NULL, 0, &r, err, sizeof err) < 0) {
        printf("query failed: %s\n", err);
        return -999;
    }
    double best = 0;
    for (int i = 0; i < r->nrows; i++) {
        bool null = true;
        double v = db_cell_double(r, i, 1, &null);
        if (null) continue;
        if (!out[0] || (lowest ? v < best : v > best)) {
            best = v;
            snprintf(out, outlen, "%s", db_cell(r, i, 0));
        }
    }
    db_result_free(r);
    return best;
}

/* --- determinism --- */

static void test_determinism(void)
{
    demo_opts o;
    demo_opts_default(&o);
    o.stores = 3;
    o.years = 1;
    o.end_year = 2025;
    o.end_month = 6;
    o.seed = 7;
    o.quiet = true;
    char d1[PATH_MAX + 16], d2[PATH_MAX + 16], d3[PATH_MAX + 16], err[512];
    snprintf(d1, sizeof d1, "%s/det-a", T.dir);
    snprintf(d2, sizeof d2, "%s/det-b", T.dir);
    snprintf(d3, sizeof d3, "%s/det-c", T.dir);
    mkdir(d1, 0755); mkdir(d2, 0755); mkdir(d3, 0755);
    long long rows[32];
    CHECK(demo_write_csv(&o, d1, rows, err, sizeof err) == 0, "write the 3-store group (%s)", err);
    CHECK(demo_write_csv(&o, d2, NULL, err, sizeof err) == 0, "write it again");
    o.seed = 8;
    CHECK(demo_write_csv(&o, d3, NULL, err, sizeof err) == 0, "write it with another seed");
    int same = 0, differ = 0, n = 0;
    for (int k = 0; import_entities[k]; k++) {
        char a[PATH_MAX + 64], b[PATH_MAX + 64], c[PATH_MAX + 64];
        snprintf(a, sizeof a, "%s/%s.csv", d1, import_entities[k]);
        snprintf(b, sizeof b, "%s/%s.csv", d2, import_entities[k]);
        snprintf(c, sizeof c, "%s/%s.csv", d3, import_entities[k]);
        n++;
        same += files_equal(a, b);
        differ += !files_equal(a, c);
    }
    CHECK_INT(n, 18, "the demo writes the 18 entities the importer knows, targets too");
    CHECK_INT(same, n, "same seed and end month: every file identical byte for byte");
    /* regions and insurers are fixed lists; every other file depends on the seed */
    CHECK_INT(differ, n - 2, "another seed: every file but regions and insurers differs");
    CHECK(rows[6] > 3 * 12 * 250, "3 stores x 12 months: %lld repair orders (300-900 a store a month)", rows[6]);
    remove_dir(d1); remove_dir(d2); remove_dir(d3);
}

/* --- round trip through the importer --- */

static demo_opts load_opts;

/* Statement texts must outlive the connection's statement cache: literals. */
static const struct { const char *entity, *sql; } count_sql[] = {
    {"regions", "SELECT COUNT(*) FROM regions"}, {"stores", "SELECT COUNT(*) FROM stores"},
    {"insurers", "SELECT COUNT(*) FROM insurers"}, {"staff", "SELECT COUNT(*) FROM staff"},
    {"customers", "SELECT COUNT(*) FROM customers"}, {"vehicle_sales", "SELECT COUNT(*) FROM vehicle_sales"},
    {"repair_orders", "SELECT COUNT(*) FROM repair_orders"}, {"ro_labour", "SELECT COUNT(*) FROM ro_labour"},
    {"ro_parts", "SELECT COUNT(*) FROM ro_parts"}, {"parts_stock", "SELECT COUNT(*) FROM parts_stock"},
    {"insurance_policies", "SELECT COUNT(*) FROM insurance_policies"}, {"invoices", "SELECT COUNT(*) FROM invoices"},
    {"payments", "SELECT COUNT(*) FROM payments"}, {"store_financials", "SELECT COUNT(*) FROM store_financials"},
    {"follow_up_calls", "SELECT COUNT(*) FROM follow_up_calls"}, {"csi_surveys", "SELECT COUNT(*) FROM csi_surveys"},
    {"appointments", "SELECT COUNT(*) FROM appointments"}, {"targets", "SELECT COUNT(*) FROM targets"},
};

static void test_round_trip(void)
{
    demo_opts_default(&load_opts);
    load_opts.stores = 6;              /* one healthy store and the five weak ones */
    load_opts.years = 2;               /* two years: policies end and renew inside the window */
    load_opts.volume = 0.25;           /* a quarter of the ROs: the suite stays fast */
    load_opts.end_year = 2025;
    load_opts.end_month = 9;
    load_opts.seed = 42;
    char dir[PATH_MAX + 16], err[4096] = "";
    snprintf(dir, sizeof dir, "%s/files", T.dir);
    mkdir(dir, 0755);
    load_opts.quiet = true;
    long long rows[32];
    CHECK(demo_write_csv(&load_opts, dir, rows, err, sizeof err) == 0, "write the 6-store group (%s)", err);
    load_opts.quiet = false;
    CHECK(demo_load(&A, &load_opts, err, sizeof err) == 0, "demo_load through import_file: %s", err);

    /* row counts: file lines (minus the header) = table rows */
    for (int k = 0; import_entities[k]; k++) {
        char path[PATH_MAX + 64];
        snprintf(path, sizeof path, "%s/%s.csv", dir, import_entities[k]);
        long long lines = 0;
        csv_sum(path, 0, -1, &lines);
        const char *sql = NULL;
        for (int q = 0; q < (int)(sizeof count_sql / sizeof count_sql[0]); q++)
            if (strcmp(count_sql[q].entity, import_entities[k]) == 0) sql = count_sql[q].sql;
        long long n = sql ? (long long)q1d(sql) : -1;
        CHECK(lines > 0 && n == lines, "%s: %lld rows in the file, %lld in the table", import_entities[k], lines, n);
    }
    /* money totals from the CSV text against SQL */
    char path[PATH_MAX + 64];
    long long lines;
    snprintf(path, sizeof path, "%s/ro_parts.csv", dir);
    long long parts_sale = csv_sum(path, 5, 6, &lines);     /* qty x unit_price */
    long long parts_cost = csv_sum(path, 5, 7, &lines);     /* qty x unit_cost */
    CHECK_NUM(q1d("SELECT SUM(qty * unit_price) * 100 FROM ro_parts"), (double)parts_sale,
              "sum of ro_parts qty*unit_price: %.2f from the CSV = SQL", parts_sale / 100.0);
    CHECK_NUM(q1d("SELECT SUM(qty * unit_cost) * 100 FROM ro_parts"), (double)parts_cost,
              "sum of ro_parts qty*unit_cost: %.2f from the CSV = SQL", parts_cost / 100.0);
    snprintf(path, sizeof path, "%s/ro_labour.csv", dir);
    long long labour = csv_sum(path, 7, -1, &lines);
    CHECK_NUM(q1d("SELECT SUM(amount) * 100 FROM ro_labour"), (double)labour, "sum of ro_labour.amount = SQL");
    snprintf(path, sizeof path, "%s/invoices.csv", dir);
    long long invoiced = csv_sum(path, 5, -1, &lines);
    snprintf(path, sizeof path, "%s/payments.csv", dir);
    long long paid = csv_sum(path, 4, -1, &lines);
    CHECK_NUM(q1d("SELECT SUM(amount) * 100 FROM invoices"), (double)invoiced, "sum of invoices.amount = SQL");
    CHECK_NUM(q1d("SELECT SUM(amount) * 100 FROM payments"), (double)paid, "sum of payments.amount = SQL");
    snprintf(path, sizeof path, "%s/insurance_policies.csv", dir);
    long long premium = csv_sum(path, 8, -1, &lines);
    CHECK_NUM(q1d("SELECT SUM(premium) * 100 FROM insurance_policies"), (double)premium, "sum of premiums = SQL");

    /* the rules of the import spec hold on the data, by plain SQL */
    CHECK_NUM(q1d("SELECT COUNT(*) FROM invoices i JOIN (SELECT store_code, invoice_no, SUM(amount) paid FROM payments "
                  "GROUP BY store_code, invoice_no) p USING (store_code, invoice_no) WHERE p.paid > i.amount"), 0,
              "no invoice is paid beyond its amount");
    CHECK_NUM(q1d("SELECT COUNT(*) FROM invoices i JOIN repair_orders r USING (store_code, ro_no) "
                  "WHERE i.amount <> (SELECT COALESCE(SUM(amount), 0) FROM ro_labour l WHERE l.store_code = r.store_code AND l.ro_no = r.ro_no) "
                  "+ (SELECT COALESCE(SUM(qty * unit_price), 0) FROM ro_parts p WHERE p.store_code = r.store_code AND p.ro_no = r.ro_no) "
                  "+ COALESCE(r.other_amount, 0) - COALESCE(r.discount_amount, 0)"), 0,
              "every RO invoice is the RO's revenue");
    CHECK_NUM(q1d("SELECT COUNT(*) FROM repair_orders c JOIN repair_orders o ON o.store_code = c.store_code AND o.ro_no = c.comeback_of "
                  "WHERE o.vin <> c.vin OR o.opened_at >= c.opened_at"), 0, "every comeback names an earlier RO of the same vehicle");
    CHECK(q1d("SELECT COUNT(*) FROM repair_orders WHERE comeback_of IS NOT NULL") > 0, "there are comebacks");
    CHECK(q1d("SELECT COUNT(*) FROM repair_orders WHERE closed_at IS NULL") > 0, "a few ROs are still open at the end");
    CHECK_NUM(q1d("SELECT COUNT(DISTINCT type) FROM customers"), 5, "customers of every type");
    CHECK_NUM(q1d("SELECT COUNT(DISTINCT ro_type) FROM repair_orders"), 6, "ROs of every type");
    CHECK_NUM(q1d("SELECT COUNT(DISTINCT insurer_code) FROM insurance_policies"), 3, "policies with all three insurers");
    CHECK(q1d("SELECT COUNT(*) FROM users WHERE username = 'exec'") == 1, "the demo users were created");
    double ros_before = q1d("SELECT COUNT(*) FROM repair_orders");
    CHECK(demo_load_if_empty(&A, err, sizeof err) == 0, "serve --demo on a database with stores: no error (%s)", err);
    CHECK_NUM(q1d("SELECT COUNT(*) FROM repair_orders"), ros_before, "and nothing loaded again");
    /* seasonality: the Spring Festival month of 2025 (29 January) is below the
     * March after it; the summer (AC) months above the spring ones */
    double jan = q1d("SELECT COUNT(*) FROM repair_orders WHERE opened_at >= '2025-01-20' AND opened_at < '2025-02-10'");
    double mar = q1d("SELECT COUNT(*) FROM repair_orders WHERE opened_at >= '2025-03-01' AND opened_at < '2025-03-22'");
    CHECK(jan < 0.85 * mar, "Spring Festival dip: %.0f ROs around the festival vs %.0f in as many March days", jan, mar);
    double ac_summer = q1d("SELECT COUNT(*) FROM ro_labour WHERE op_code = 'AC01' AND ro_no IN (SELECT ro_no FROM repair_orders r "
                           "WHERE r.store_code = ro_labour.store_code AND MONTH(opened_at) IN (6, 7, 8))");
    double ac_winter = q1d("SELECT COUNT(*) FROM ro_labour WHERE op_code = 'AC01' AND ro_no IN (SELECT ro_no FROM repair_orders r "
                           "WHERE r.store_code = ro_labour.store_code AND MONTH(opened_at) IN (12, 1, 2))");
    CHECK(ac_summer > 5 * ac_winter, "AC repairs peak in summer: %.0f in Jun-Aug, %.0f in Dec-Feb", ac_summer, ac_winter);
}

/* --- phones and targets --- */

static void test_phones_and_targets(void)
{
    /* every individual, fleet, government office and the used-car dealer
     * has a mobile number: a 1[3-9]x prefix and eight digits, dashed; the
     * house, the maker's warranty desk and the insurers have none */
    CHECK_NUM(q1d("SELECT COUNT(*) FROM customers WHERE type IN ('individual', 'fleet', 'government') AND "
                  "(phone IS NULL OR phone NOT REGEXP '^1[3-9][0-9]-[0-9]{4}-[0-9]{4}$')"), 0,
              "every individual, fleet and government customer has a 1xx-xxxx-xxxx mobile number");
    CHECK_NUM(q1d("SELECT COUNT(*) FROM customers WHERE type = 'insurer' AND phone IS NOT NULL"), 0, "insurers have none");
    CHECK(q1d("SELECT COUNT(DISTINCT phone) / COUNT(phone) FROM customers") > 0.99, "the numbers are (almost all) distinct");

    /* one target per store, month and budget KPI: 6 stores x 24 months x 13 */
    const int months = load_opts.years * 12;
    CHECK_NUM(q1d("SELECT COUNT(*) FROM targets"), load_opts.stores * months * 13, "a target for every store, month and KPI");
    CHECK_NUM(q1d("SELECT COUNT(DISTINCT kpi) FROM targets"), 13, "every budget KPI of the catalogue");
    CHECK_NUM(q1d("SELECT COUNT(DISTINCT month) FROM targets"), months, "every month of the window");
    for (const char *const *id = (const char *const[]){ "service.ro_count", "service.revenue", "sales.units", "insurance.premium", NULL }; *id; id++)
        CHECK(kpi_budget_check(&A, *id) == 1, "%s takes budgets in the loaded catalogue", *id);

    /* the last month's targets over the same month a year before, by plain
     * SQL from the facts (closed non-internal ROs by closing month, RO
     * revenue = labour + parts of every category + other - discount):
     * ordinary stores 5-10 % more (within the 1 %% noise and the rounding to
     * whole ROs and hundreds of yuan), the pushed store (index 3) 18-28 % */
    static const char *const ratio_sql =
        "SELECT t.store_code, t.value / a.n, t2.value / a.rev FROM targets t "
        "JOIN targets t2 ON t2.store_code = t.store_code AND t2.month = t.month AND t2.kpi = 'service.revenue' "
        "JOIN (SELECT r.store_code, COUNT(*) n, SUM(COALESCE(l.lab, 0) + COALESCE(p.sale, 0) + COALESCE(r.other_amount, 0) "
        "      - COALESCE(r.discount_amount, 0)) rev FROM repair_orders r "
        "  LEFT JOIN (SELECT store_code, ro_no, SUM(amount) lab FROM ro_labour GROUP BY store_code, ro_no) l USING (store_code, ro_no) "
        "  LEFT JOIN (SELECT store_code, ro_no, SUM(qty * unit_price) sale FROM ro_parts GROUP BY store_code, ro_no) p USING (store_code, ro_no) "
        "  WHERE r.ro_type <> 'internal' AND r.closed_at >= '2024-09-01' AND r.closed_at < '2024-10-01' GROUP BY r.store_code) a "
        "  ON a.store_code = t.store_code "
        "WHERE t.month = '2025-09' AND t.kpi = 'service.ro_count' ORDER BY t.store_code";
    db_result *r = NULL;
    char err[512], pushed[16];
    demo_store_code(3, pushed, sizeof pushed);
    int rows = 0, ok = 0;
    if (db_query(T.conn, ratio_sql, NULL, 0, &r, err, sizeof err) == 0) {
        for (int i = 0; i < r->nrows; i++, rows++) {
            bool n1, n2;
            double ros = db_cell_double(r, i, 1, &n1), rev = db_cell_double(r, i, 2, &n2);
            bool is_pushed = strcmp(db_cell(r, i, 0), pushed) == 0;
            double lo = is_pushed ? 1.17 : 1.035, hi = is_pushed ? 1.30 : 1.115;
            bool good = !n1 && !n2 && ros >= lo && ros <= hi && rev >= lo && rev <= hi;
            if (!good) printf("  %s: ROs x%.3f, revenue x%.3f (want %.3f-%.3f)\n", db_cell(r, i, 0), ros, rev, lo, hi);
            ok += good;
        }
        db_result_free(r);
    } else {
        printf("query failed: %s\n", err);
    }
    CHECK(rows == load_opts.stores && ok == rows, "2025-09 targets over 2024-09 by SQL: %d of %d stores as planned", ok, rows);
}

/* --- the story: each weak store is the worst on its measure --- */

static void test_weak_stores(void)
{
    char want[16], got[16];
    const int n = load_opts.stores;

    /* labour share = labour revenue / RO revenue over closed non-internal ROs */
    demo_store_code(demo_weak_store(n, DEMO_WEAK_LABOUR_SHARE), want, sizeof want);
    double share = extreme_store(
        "SELECT r.store_code, SUM(COALESCE(l.lab, 0)) / SUM(COALESCE(l.lab, 0) + COALESCE(p.sale, 0) "
        "  + COALESCE(r.other_amount, 0) - COALESCE(r.discount_amount, 0)) "
        "FROM repair_orders r "
        "LEFT JOIN (SELECT store_code, ro_no, SUM(amount) lab FROM ro_labour GROUP BY store_code, ro_no) l USING (store_code, ro_no) "
        "LEFT JOIN (SELECT store_code, ro_no, SUM(qty * unit_price) sale FROM ro_parts GROUP BY store_code, ro_no) p USING (store_code, ro_no) "
        "WHERE r.closed_at IS NOT NULL AND r.ro_type <> 'internal' GROUP BY r.store_code", true, got, sizeof got);
    CHECK_STR(got, want, "the lowest labour share (%.3f) is the weak labour store", share);
    CHECK(share < 0.25, "and it is clearly low: %.3f", share);

    /* receivables: share of the open amount at the end aged over 90 days */
    demo_store_code(demo_weak_store(n, DEMO_WEAK_RECEIVABLES), want, sizeof want);
    double over90 = extreme_store(
        "SELECT i.store_code, SUM(CASE WHEN DATEDIFF('2025-09-30', i.issued_on) > 90 THEN i.amount - COALESCE(p.paid, 0) ELSE 0 END) "
        "  / SUM(i.amount - COALESCE(p.paid, 0)) "
        "FROM invoices i LEFT JOIN (SELECT store_code, invoice_no, SUM(amount) paid FROM payments GROUP BY store_code, invoice_no) p "
        "USING (store_code, invoice_no) GROUP BY i.store_code", false, got, sizeof got);
    CHECK_STR(got, want, "the highest share of receivables over 90 days (%.3f) is the weak receivables store", over90);

    /* renewal: policies ending in the last 12 months, renewed for the same VIN
     * starting after them and within 30 days of their end */
    demo_store_code(demo_weak_store(n, DEMO_WEAK_RENEWAL), want, sizeof want);
    double renewal = extreme_store(
        "SELECT p.store_code, AVG(EXISTS (SELECT 1 FROM insurance_policies q WHERE q.vin = p.vin AND q.starts_on > p.starts_on "
        "  AND ABS(DATEDIFF(q.starts_on, p.ends_on)) <= 30)) "
        "FROM insurance_policies p WHERE p.ends_on BETWEEN '2024-10-01' AND '2025-09-30' GROUP BY p.store_code", true, got, sizeof got);
    CHECK_STR(got, want, "the lowest renewal rate (%.3f) is the weak renewal store", renewal);

    /* first service: vehicles sold in the 12 months ending 6 months before the
     * end (here the window starts 2023-10), visiting within 6 months of sale */
    const char *first_service_sql =
        "SELECT s.store_code, AVG(EXISTS (SELECT 1 FROM repair_orders r WHERE r.vin = s.vin AND r.ro_type <> 'internal' "
        "  AND r.closed_at IS NOT NULL AND DATE(r.closed_at) BETWEEN s.sold_on AND s.sold_on + INTERVAL 6 MONTH)) "
        "FROM vehicle_sales s WHERE s.sold_on > '2024-03-31' AND s.sold_on <= '2025-03-31' GROUP BY s.store_code";
    demo_store_code(demo_weak_store(n, DEMO_WEAK_CHURN), want, sizeof want);
    double first = extreme_store(first_service_sql, true, got, sizeof got);
    CHECK_STR(got, want, "the lowest first-service rate (%.3f) is the high-churn store", first);
    /* the others bring most of their new vehicles back, as real stores do:
     * 80-99 %, few of them 95 % (the sources' target) */
    double lowest_of_rest = 2, highest_of_rest = -1;
    {
        db_result *r = NULL;
        char err[512];
        if (db_query(T.conn, first_service_sql, NULL, 0, &r, err, sizeof err) == 0) {
            for (int i = 0; i < r->nrows; i++) {
                bool null;
                double v = db_cell_double(r, i, 1, &null);
                if (strcmp(db_cell(r, i, 0), want) == 0 || null) continue;
                if (v < lowest_of_rest) lowest_of_rest = v;
                if (v > highest_of_rest) highest_of_rest = v;
            }
            db_result_free(r);
        }
    }
    CHECK(lowest_of_rest >= 0.80 && highest_of_rest <= 0.99,
          "every other store brings 80-99 %% of its new vehicles back for first service (%.3f-%.3f)", lowest_of_rest, highest_of_rest);
    CHECK(lowest_of_rest > first, "and more than the high-churn store (%.3f)", first);

    /* slow-moving stock: value of the last snapshot's parts not issued (or,
     * never issued, not received) in the 180 days before it */
    demo_store_code(demo_weak_store(n, DEMO_WEAK_SLOW_PARTS), want, sizeof want);
    double slow = extreme_store(
        "SELECT store_code, SUM(CASE WHEN DATEDIFF(snapshot_on, COALESCE(last_issue_on, last_receipt_on)) > 180 "
        "  OR COALESCE(last_issue_on, last_receipt_on) IS NULL THEN qty_on_hand * unit_cost ELSE 0 END) / SUM(qty_on_hand * unit_cost) "
        "FROM parts_stock WHERE snapshot_on = '2025-09-30' GROUP BY store_code", false, got, sizeof got);
    CHECK_STR(got, want, "the highest slow-moving stock share (%.3f) is the weak parts store", slow);
}

int main(void)
{
    if (testdb_start(&T)) return 1;
    char err[512];
    /* the plugins (FOURSCORE_PLUGIN_DIR, else the built ones): the targets' KPI check */
    CHECK(config_load_env(&A.cfg, err, sizeof err) == 0, "config (%s)", err);
    A.db = T.pool;
    snprintf(A.cfg.data_dir, sizeof A.cfg.data_dir, "%s", T.dir);
    test_determinism();
    test_round_trip();
    test_phones_and_targets();
    test_weak_stores();
    kpi_close(&A);
    testdb_stop(&T);
    return check_done();
}
