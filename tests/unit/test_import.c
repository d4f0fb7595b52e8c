/* test_import: the importer (core/data/import.c) against a real private MariaDB
 * (testdb.h). Loads the good fixtures (tests/fixtures/import/good), then
 * checks idempotency, a corrected row, whole-row upserts, ro_parts line
 * replacement, every validation rule with its line, column and message (and
 * that the database is unchanged after each refused file), scope, the cap on
 * problems, rollups and cache invalidation inside the transaction, and a
 * 100,000-row ro_parts file checked against an independent SQL sum; and
 * the retry policy (which errors are retried, the waits, the attempts) and
 * the spool an upload is read again from (core/data/import_retry.c). */
#include <stdlib.h>
#include <stdbool.h>
#include <time.h>
#include "check.h"
#include "testdb.h"
#include "app.h"
#include "auth.h"
#include "import.h"
#include "import_retry.h"

static testdb T;
static app A;
static int file_seq;

/* --- helpers --- */

/* Imports content (written to a file in the test's data dir) as who. */
/* The catalogue's answer for targets.kpi, as the engine would give it
 * (kpi_budget_check): two budgetable KPIs, one without budget, the rest unknown. */
static int test_kpi_check(void *ud, const char *id)
{
    (void)ud;
    if (!strcmp(id, "service.ro_count") || !strcmp(id, "service.revenue")) return 1;
    return !strcmp(id, "service.revenue_per_ro") ? 0 : -1;
}

static int import_text(const principal *who, const char *entity, const char *content, import_result *res)
{
    char path[PATH_MAX + 128];
    snprintf(path, sizeof path, "%s/in-%d-%s.csv", T.dir, ++file_seq, entity);
    FILE *f = fopen(path, "wb");
    if (!f) { perror(path); exit(1); }
    fputs(content, f);
    fclose(f);
    return import_file_progress(&A, who, entity, path, res, NULL, NULL, test_kpi_check, NULL);
}

static long long q1(const char *sql)
{
    db_result *r = NULL;
    char err[512];
    if (db_query(T.conn, sql, NULL, 0, &r, err, sizeof err) < 0) {
        printf("query failed: %s: %s\n", sql, err);
        return -999;
    }
    long long v = r->nrows && db_cell(r, 0, 0) ? db_cell_int(r, 0, 0) : -1;
    db_result_free(r);
    return v;
}

static char *q1s(const char *sql, char *buf, size_t len)
{
    db_result *r = NULL;
    char err[512];
    buf[0] = '\0';
    if (db_query(T.conn, sql, NULL, 0, &r, err, sizeof err) < 0) {
        snprintf(buf, len, "ERROR %s", err);
        return buf;
    }
    if (r->nrows && db_cell(r, 0, 0)) snprintf(buf, len, "%s", db_cell(r, 0, 0));
    else snprintf(buf, len, "NULL");
    db_result_free(r);
    return buf;
}

/* A checksum of every fact table: equal before and after = nothing written. */
static void fingerprint(char *buf, size_t len)
{
    db_result *r = NULL;
    char err[512];
    buf[0] = '\0';
    if (db_query(T.conn, "CHECKSUM TABLE regions, stores, insurers, staff, customers, vehicle_sales, repair_orders, "
                 "ro_labour, ro_parts, parts_stock, insurance_policies, invoices, payments, store_financials, "
                 "follow_up_calls, csi_surveys, appointments, data_generation, rollup_ro", NULL, 0, &r, err, sizeof err) < 0) {
        snprintf(buf, len, "ERROR %s", err);
        return;
    }
    size_t pos = 0;
    for (int i = 0; i < r->nrows; i++) {
        int w = snprintf(buf + pos, len - pos, "%s;", db_cell(r, i, 1) ? db_cell(r, i, 1) : "-");
        if (w < 0 || (size_t)w >= len - pos) break;
        pos += (size_t)w;
    }
    db_result_free(r);
}

/* Is there a problem at line:column whose message contains want? */
static bool has_problem(const import_result *res, long line, int column, const char *want)
{
    int n = res->problems ? cJSON_GetArraySize(res->problems) : 0;
    for (int i = 0; i < n; i++) {
        cJSON *p = cJSON_GetArrayItem(res->problems, i);
        const char *msg = cJSON_GetStringValue(cJSON_GetObjectItem(p, "message"));
        if (cJSON_GetObjectItem(p, "line")->valuedouble == line && cJSON_GetObjectItem(p, "column")->valueint == column &&
            msg && strstr(msg, want))
            return true;
    }
    return false;
}

static void print_problems(const import_result *res)
{
    int n = res->problems ? cJSON_GetArraySize(res->problems) : 0;
    printf("    status %d %s: %s\n", res->status, res->code, res->message);
    for (int i = 0; i < n && i < 8; i++) {
        cJSON *p = cJSON_GetArrayItem(res->problems, i);
        printf("    %d:%d: %s\n", cJSON_GetObjectItem(p, "line")->valueint, cJSON_GetObjectItem(p, "column")->valueint,
               cJSON_GetStringValue(cJSON_GetObjectItem(p, "message")));
    }
}

/* A file that must be refused with (status, code) and a problem at line:column
 * containing want, leaving the database exactly as it was. */
static void expect_refused(const char *name, const principal *who, const char *entity, const char *content,
                           int status, const char *code, long line, int column, const char *want)
{
    char before[2048], after[2048];
    fingerprint(before, sizeof before);
    import_result res;
    int rc = import_text(who, entity, content, &res);
    bool ok = rc == -1 && res.status == status && strcmp(res.code, code) == 0 && has_problem(&res, line, column, want);
    CHECK(ok, "%s: %d %s at %ld:%d \"%s\"", name, status, code, line, column, want);
    if (!ok) print_problems(&res);
    fingerprint(after, sizeof after);
    CHECK_STR(after, before, "%s: the database is unchanged", name);
    import_result_free(&res);
}

static void expect_counts(const char *name, const principal *who, const char *entity, const char *content,
                          long long inserted, long long updated, long long unchanged)
{
    import_result res;
    int rc = import_text(who, entity, content, &res);
    CHECK(rc == 0 && res.inserted == inserted && res.updated == updated && res.unchanged == unchanged &&
          res.rows == inserted + updated + unchanged,
          "%s: %lld inserted, %lld updated, %lld unchanged", name, inserted, updated, unchanged);
    if (rc) print_problems(&res);
    else if (res.inserted != inserted || res.updated != updated || res.unchanged != unchanged)
        printf("    got %lld/%lld/%lld\n", res.inserted, res.updated, res.unchanged);
    import_result_free(&res);
}

static char *read_fixture(const char *entity)
{
    const char *base = getenv("FOURSCORE_TEST_DATA");
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/fixtures/import/good/%s.csv", base ? base : FOURSCORE_SOURCE_DIR "/tests", entity);
    FILE *f = fopen(path, "rb");
    if (!f) { perror(path); exit(1); }
    static char buf[65536];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

/* --- the good fixtures, twice --- */

static void test_full_load(void)
{
    /* rows per fixture file, in load order */
    static const long long rows[] = { 2, 3, 2, 4, 5, 2, 4, 3, 4, 2, 1, 3, 3, 1, 2, 1, 2, 3 };
    long long gen0 = q1("SELECT generation FROM data_generation WHERE id = 1");
    long long audit0 = q1("SELECT COUNT(*) FROM audit_log WHERE action = 'import'");
    for (int i = 0; import_entities[i]; i++)
        expect_counts(import_entities[i], NULL, import_entities[i], read_fixture(import_entities[i]), rows[i], 0, 0);
    CHECK(q1("SELECT generation FROM data_generation WHERE id = 1") >= gen0 + 18, "every import bumped the data generation");
    CHECK_INT(q1("SELECT COUNT(*) FROM audit_log WHERE action = 'import'"), audit0 + 18, "every import is audited");
    /* again: nothing changes */
    for (int i = 0; import_entities[i]; i++)
        expect_counts(import_entities[i], NULL, import_entities[i], read_fixture(import_entities[i]), 0, 0, rows[i]);

    char v[64];
    /* values as stored: timestamps completed, booleans normalised, empty = NULL, from_stock empty = 1 */
    CHECK_STR(q1s("SELECT DATE_FORMAT(opened_at, '%Y-%m-%d %H:%i:%s') FROM repair_orders WHERE store_code='GZ01' AND ro_no='R001'",
                  v, sizeof v), "2024-03-01 09:00:00", "a timestamp without seconds gets :00");
    CHECK_STR(q1s("SELECT closed_at FROM repair_orders WHERE store_code='GZ01' AND ro_no='R003'", v, sizeof v), "NULL",
              "an empty closed_at is NULL (open RO)");
    CHECK_INT(q1("SELECT from_stock FROM ro_parts WHERE store_code='GZ01' AND ro_no='R001' AND line_no=2"), 1,
              "an empty from_stock is stored as 1");
    CHECK_INT(q1("SELECT from_stock FROM ro_parts WHERE store_code='SZ01' AND ro_no='R001' AND line_no=1"), 1, "true is 1");
    CHECK_INT(q1("SELECT complaint FROM follow_up_calls WHERE store_code='GZ01' AND ro_no='R002'"), 1, "y is 1");
    CHECK_INT(q1("SELECT referral FROM vehicle_sales WHERE store_code='SZ01' AND deal_no='D001'"), 0, "N is 0");
    CHECK_STR(q1s("SELECT name FROM stores WHERE store_code='GZ01'", v, sizeof v), "广州天河丰田", "Chinese names kept");
    /* rollups refreshed inside the import: R001 of GZ01 closed 2024-03-01;
     * revenue = labour 300 + material 4.5*60 (270) + part 1*80 (80) + other 0 - discount 0 = 650 */
    CHECK_STR(q1s("SELECT CAST(revenue AS DECIMAL(12,2)) FROM rollup_ro WHERE store_code='GZ01' AND ro_no='R001'", v, sizeof v),
              "650.00", "rollup_ro holds R001 with its revenue 650");
    /* R002: labour 480 + part 2*350.50 (701) + other 50 - discount 20 = 1211 */
    CHECK_STR(q1s("SELECT CAST(revenue AS DECIMAL(12,2)) FROM rollup_ro WHERE store_code='GZ01' AND ro_no='R002'", v, sizeof v),
              "1211.00", "rollup_ro holds R002 with its revenue 1211");
}

/* --- updates --- */

static void test_updates(void)
{
    char v[64];
    long long gen = q1("SELECT generation FROM data_generation WHERE id = 1");
    expect_counts("a corrected row", NULL, "customers",
                  "store_code,customer_code,type,name\nGZ01,C001,individual,张伟 (corrected)\nGZ01,C002,fleet,广州出租车公司\n",
                  0, 1, 1);
    CHECK_STR(q1s("SELECT name FROM customers WHERE store_code='GZ01' AND customer_code='C001'", v, sizeof v),
              "张伟 (corrected)", "the corrected name is stored");
    CHECK(q1("SELECT generation FROM data_generation WHERE id = 1") > gen, "the data generation moved");
    /* an upsert replaces the whole row: a column left out becomes NULL */
    expect_counts("an upsert without the optional column", NULL, "customers",
                  "type,customer_code,store_code\nindividual,C001,GZ01\n", 0, 1, 0);
    CHECK_STR(q1s("SELECT name FROM customers WHERE store_code='GZ01' AND customer_code='C001'", v, sizeof v), "NULL",
              "the left-out name is now NULL");
    expect_counts("columns in another order, CRLF and a BOM", NULL, "customers",
                  "\xEF\xBB\xBFname,type,customer_code,store_code\r\n张伟,individual,C001,GZ01\r\n", 0, 1, 0);
    expect_counts("a header alone", NULL, "customers", "store_code,customer_code,type,name\n", 0, 0, 0);
    /* a change of letter case or a trailing space in a name is a change */
    expect_counts("a name in other letter case", NULL, "stores",
                  "store_code,name,brand,region_code,city,opened_on\nGZ01,广州天河丰田,TOYOTA,SOUTH,广州,2015-03-01\n", 0, 1, 0);
    CHECK_STR(q1s("SELECT brand FROM stores WHERE store_code='GZ01'", v, sizeof v), "TOYOTA", "the new letter case is stored");
    expect_counts("a trailing space", NULL, "stores",
                  "store_code,name,brand,region_code,city,opened_on\nGZ01,广州天河丰田,TOYOTA ,SOUTH,广州,2015-03-01\n", 0, 1, 0);
    expect_counts("the brand back", NULL, "stores",
                  "store_code,name,brand,region_code,city,opened_on\nGZ01,广州天河丰田,Toyota,SOUTH,广州,2015-03-01\n", 0, 1, 0);
    expect_counts("amounts written differently are the same", NULL, "ro_parts",
                  "store_code,ro_no,line_no,part_no,category,qty,unit_price,unit_cost,from_stock\n"
                  "GZ01,R002,1,BRAKE-PAD,part,2.00,350.5,210.25,false\n", 0, 0, 1);
    /* codes are case-sensitive: c001 is another customer */
    expect_counts("codes are case-sensitive", NULL, "customers", "store_code,customer_code,type\nGZ01,c001,other\n", 1, 0, 0);

    /* ro_parts: a file names GZ01 R001 with line 1 only: line 2 goes */
    CHECK_INT(q1("SELECT COUNT(*) FROM ro_parts WHERE store_code='GZ01' AND ro_no='R001'"), 2, "R001 has 2 part lines");
    expect_counts("ro_parts replacing the lines of R001", NULL, "ro_parts",
                  "store_code,ro_no,line_no,part_no,category,qty,unit_price,unit_cost,from_stock\n"
                  "GZ01,R001,1,OIL-5W30,material,4.5,60.00,40.00,1\n", 0, 0, 1);
    CHECK_INT(q1("SELECT COUNT(*) FROM ro_parts WHERE store_code='GZ01' AND ro_no='R001'"), 1, "line 2 of R001 is removed");
    CHECK_INT(q1("SELECT COUNT(*) FROM ro_parts WHERE store_code='GZ01' AND ro_no='R002'"), 1, "R002 (not named) keeps its line");
    CHECK_INT(q1("SELECT COUNT(*) FROM ro_parts"), 3, "3 part lines in all");
    /* R001 revenue now: labour 300 + material 270 = 570 */
    CHECK_STR(q1s("SELECT CAST(revenue AS DECIMAL(12,2)) FROM rollup_ro WHERE store_code='GZ01' AND ro_no='R001'", v, sizeof v),
              "570.00", "the rollup follows the removed line");
    expect_counts("ro_parts putting line 2 back", NULL, "ro_parts",
                  "store_code,ro_no,line_no,part_no,category,qty,unit_price,unit_cost,from_stock\n"
                  "GZ01,R001,1,OIL-5W30,material,4.5,60.00,40.00,1\nGZ01,R001,2,FILTER-01,part,1,80,50,\n", 1, 0, 1);
    expect_counts("ro_labour replacing: R001 gets a second line", NULL, "ro_labour",
                  "store_code,ro_no,line_no,sold_hours,amount,technician_code,op_code,clocked_hours\n"
                  "GZ01,R001,1,1.5,300.00,T01,MAINT-1,1.2\nGZ01,R001,2,0.5,100,,,\n", 1, 0, 1);
    /* payments: replacing PAY003 by itself is not counted twice */
    expect_counts("a payment re-sent is not its own older version", NULL, "payments",
                  "store_code,payment_no,invoice_no,paid_on,amount\nGZ01,PAY003,INV002,2024-04-10,2000\n", 0, 0, 1);
    expect_counts("a payment lowered", NULL, "payments",
                  "store_code,payment_no,invoice_no,paid_on,amount\nGZ01,PAY003,INV002,2024-04-10,1999.99\n", 0, 1, 0);
    expect_counts("a new payment filling the rest exactly", NULL, "payments",
                  "store_code,payment_no,invoice_no,paid_on,amount\nGZ01,PAY004,INV002,2024-04-11,0.01\n", 1, 0, 0);
    /* comeback_of naming an earlier RO of the same file */
    expect_counts("comeback_of an earlier RO of the same file", NULL, "repair_orders",
                  "store_code,ro_no,vin,customer_code,ro_type,payer,opened_at,closed_at,comeback_of\n"
                  "SH01,R100,LSVAA4180E2000004,C001,repair,customer,2024-05-01 09:00,2024-05-01 12:00,\n"
                  "SH01,R101,LSVAA4180E2000004,C001,repair,customer,2024-05-09 09:00,2024-05-09 12:00,R100\n", 2, 0, 0);
}

/* --- every rule, refused with its position --- */

#define RO_HDR "store_code,ro_no,vin,customer_code,advisor_code,ro_type,payer,insurer_code,opened_at,closed_at,mileage_km,other_amount,discount_amount,comeback_of\n"
#define RO_OK  "GZ01,R050,LVGBE40K8GP000001,C001,A01,repair,customer,,2024-04-01 09:00,2024-04-01 10:00,,,,\n"
#define PARTS_HDR "store_code,ro_no,line_no,part_no,category,qty,unit_price,unit_cost,from_stock\n"
#define PARTS_OK "GZ01,R003,1,GLASS-1,part,1,900,600,1\n"

static void test_rules(void)
{
    /* header */
    expect_refused("missing required column", NULL, "repair_orders", "store_code,ro_no\nGZ01,R9\n",
                   422, "invalid_rows", 1, 1, "missing required column 'vin'");
    expect_refused("unknown column", NULL, "regions", "region_code,name,extra\nNORTH,华北,x\n",
                   422, "invalid_rows", 1, 3, "unknown column 'extra'");
    expect_refused("unknown column by case", NULL, "regions", "region_code,Name\nNORTH,华北\n",
                   422, "invalid_rows", 1, 2, "column names are lower case");
    expect_refused("duplicate column", NULL, "regions", "region_code,name,name\nNORTH,a,b\n",
                   422, "invalid_rows", 1, 3, "appears twice");
    expect_refused("a row with too few fields", NULL, "regions", "region_code,name\nNORTH,华北\nWEST\n",
                   422, "invalid_rows", 3, 2, "1 fields but the header has 2");
    /* values */
    expect_refused("required value empty", NULL, "regions", "region_code,name\nNORTH,华北\nWEST,\n",
                   422, "invalid_rows", 3, 2, "name: a value is required");
    expect_refused("required value empty when quoted", NULL, "regions", "region_code,name\n\"\",x\n",
                   422, "invalid_rows", 2, 1, "region_code: a value is required");
    expect_refused("bad date", NULL, "stores", "store_code,name,brand,region_code,opened_on\nGZ09,x,y,SOUTH,2024-02-30\n",
                   422, "invalid_rows", 2, 5, "opened_on: '2024-02-30' is not a date");
    expect_refused("bad timestamp", NULL, "repair_orders", RO_HDR
                   "GZ01,R050,LVGBE40K8GP000001,C001,A01,repair,customer,,2024-04-01T09:00,,,,,\n",
                   422, "invalid_rows", 2, 9, "opened_at: '2024-04-01T09:00' is not a timestamp");
    expect_refused("timestamp hour 24", NULL, "follow_up_calls", "store_code,ro_no,called_at,reached\nGZ01,R001,2024-03-03 24:00,1\n",
                   422, "invalid_rows", 2, 3, "is not a timestamp");
    expect_refused("three decimals", NULL, "ro_parts", PARTS_HDR "GZ01,R003,1,GLASS-1,part,1,900.125,600,1\n",
                   422, "invalid_rows", 2, 7, "unit_price: '900.125' is not a valid amount");
    expect_refused("negative amount", NULL, "ro_labour", "store_code,ro_no,line_no,sold_hours,amount\nGZ01,R003,1,1,-5\n",
                   422, "invalid_rows", 2, 5, "amount: '-5' is not a valid amount");
    expect_refused("negative discount", NULL, "repair_orders", RO_HDR
                   "GZ01,R050,LVGBE40K8GP000001,C001,A01,repair,customer,,2024-04-01 09:00,,,,-1,\n",
                   422, "invalid_rows", 2, 13, "discount_amount: '-1'");
    expect_refused("thousands separator", NULL, "vehicle_sales",
                   "store_code,deal_no,vin,sold_on,customer_code,sale_amount\nGZ01,D009,LVGBE40K8GP000001,2024-01-15,C001,\"1,000.00\"\n",
                   422, "invalid_rows", 2, 6, "no thousands separators");
    expect_refused("decimal comma", NULL, "parts_stock",
                   "store_code,snapshot_on,part_no,qty_on_hand,unit_cost\nGZ01,2024-04-30,X1,\"1,5\",3\n",
                   422, "invalid_rows", 2, 4, "qty_on_hand: '1,5'");
    expect_refused("integer with a fraction", NULL, "ro_parts", PARTS_HDR "GZ01,R003,1.5,GLASS-1,part,1,900,600,1\n",
                   422, "invalid_rows", 2, 3, "line_no: '1.5' is not a whole number");
    expect_refused("boolean", NULL, "ro_parts", PARTS_HDR "GZ01,R003,1,GLASS-1,part,1,900,600,yes\n",
                   422, "invalid_rows", 2, 9, "from_stock: 'yes' is not a boolean");
    expect_refused("enum", NULL, "staff", "store_code,staff_code,name,role\nGZ01,M01,x,manager\n",
                   422, "invalid_rows", 2, 4, "role: 'manager' is not one of: technician, advisor, parts, other");
    expect_refused("enum is case-sensitive", NULL, "ro_parts", PARTS_HDR "GZ01,R003,1,GLASS-1,Part,1,900,600,1\n",
                   422, "invalid_rows", 2, 5, "category: 'Part' is not one of");
    expect_refused("code with a space", NULL, "customers", "store_code,customer_code,type\nGZ01,C 01,individual\n",
                   422, "invalid_rows", 2, 2, "customer_code: 'C 01' is not a valid code");
    expect_refused("code never trimmed", NULL, "customers", "store_code,customer_code,type\n GZ01,C01,individual\n",
                   422, "invalid_rows", 2, 1, "store_code: ' GZ01' is not a valid code");
    expect_refused("code of 33 characters", NULL, "regions", "region_code,name\nABCDEFGHIJABCDEFGHIJABCDEFGHIJABC,x\n",
                   422, "invalid_rows", 2, 1, "is not a valid code");
    expect_refused("code in Chinese", NULL, "regions", "region_code,name\n华南,x\n",
                   422, "invalid_rows", 2, 1, "'华南' is not a valid code");
    expect_refused("VIN in lower case", NULL, "vehicle_sales",
                   "store_code,deal_no,vin,sold_on,customer_code,sale_amount\nGZ01,D009,lvgbe40k8gp000001,2024-01-15,C001,1\n",
                   422, "invalid_rows", 2, 3, "vin: 'lvgbe40k8gp000001' is not a VIN");
    expect_refused("VIN with an O", NULL, "appointments",
                   "store_code,appt_no,vin,booked_at,appointment_at\nGZ01,AP9,LVGBE40K8GP00000O,2024-01-01 10:00,2024-01-02 10:00\n",
                   422, "invalid_rows", 2, 3, "is not a VIN");
    expect_refused("VIN of 16", NULL, "insurance_policies",
                   "store_code,policy_no,vin,insurer_code,kind,sold_on,starts_on,ends_on,premium\n"
                   "GZ01,P9,LVGBE40K8GP00000,PICC,new,2024-01-01,2024-01-02,2025-01-01,100\n",
                   422, "invalid_rows", 2, 3, "is not a VIN");
    expect_refused("score over 10", NULL, "csi_surveys",
                   "store_code,ro_no,surveyed_on,reliability,responsiveness,assurance,empathy,tangibles\nGZ01,R002,2024-03-15,9,10.5,8,8,8\n",
                   422, "invalid_rows", 2, 5, "responsiveness: '10.5' is not a score from 0 to 10");
    expect_refused("month", NULL, "store_financials",
                   "store_code,month,aftersales_personnel_cost,fixed_expenses\nGZ01,2024-13,1,1\n",
                   422, "invalid_rows", 2, 2, "month: '2024-13' is not a month");
    expect_refused("text too long", NULL, "regions",
                   "region_code,name\nN1,\"012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789"
                   "01234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789X\"\n",
                   422, "invalid_rows", 2, 2, "name: longer than 200 characters");
    /* rules within a row */
    expect_refused("closed before opened", NULL, "repair_orders", RO_HDR
                   "GZ01,R050,LVGBE40K8GP000001,C001,A01,repair,customer,,2024-04-01 09:00,2024-04-01 08:59,,,,\n",
                   422, "invalid_rows", 2, 10, "closed_at: 2024-04-01 08:59:00 is before opened_at");
    expect_refused("payer insurer without insurer", NULL, "repair_orders", RO_HDR
                   "GZ01,R050,LVGBE40K8GP000001,C001,A01,bodywork,insurer,,2024-04-01 09:00,,,,,\n",
                   422, "invalid_rows", 2, 8, "insurer_code: required when payer is insurer");
    expect_refused("ends_on not after starts_on", NULL, "insurance_policies",
                   "store_code,policy_no,vin,insurer_code,kind,sold_on,starts_on,ends_on,premium\n"
                   "GZ01,P9,LVGBE40K8GP000001,PICC,renewal,2024-01-01,2024-01-02,2024-01-02,100\n",
                   422, "invalid_rows", 2, 8, "ends_on: 2024-01-02 is not after starts_on 2024-01-02");
    expect_refused("complaint without reaching", NULL, "follow_up_calls",
                   "store_code,ro_no,called_at,reached,complaint\nGZ01,R003,2024-03-20 10:00,0,1\n",
                   422, "invalid_rows", 2, 5, "must have reached the customer");
    expect_refused("duplicate key names both lines", NULL, "ro_parts", PARTS_HDR PARTS_OK "GZ01,R003,2,X,part,1,1,1,\n" PARTS_OK,
                   422, "invalid_rows", 4, 1, "duplicate key (store_code=GZ01, ro_no=R003, line_no=1): the same key is on line 2");
    /* parents */
    expect_refused("store missing", NULL, "staff", "store_code,staff_code,name,role\nGZ01,T09,x,technician\nXX01,T01,x,technician\n",
                   422, "invalid_rows", 3, 1, "store 'XX01' does not exist");
    expect_refused("store code case", NULL, "customers", "store_code,customer_code,type\ngz01,C009,individual\n",
                   422, "invalid_rows", 2, 1, "store 'gz01' does not exist");
    expect_refused("region missing", NULL, "stores", "store_code,name,brand,region_code\nGZ09,x,y,NORTH\n",
                   422, "invalid_rows", 2, 4, "region 'NORTH' does not exist");
    expect_refused("customer missing", NULL, "vehicle_sales",
                   "store_code,deal_no,vin,sold_on,customer_code,sale_amount\nGZ01,D009,LVGBE40K8GP000001,2024-01-15,C999,1\n",
                   422, "invalid_rows", 2, 5, "customer 'C999' does not exist in store GZ01");
    expect_refused("customer of another store", NULL, "repair_orders", RO_HDR
                   "GZ01,R050,LVGBE40K8GP000001,C002,A01,repair,customer,,2024-04-01 09:00,,,,,\n"
                   "SZ01,R050,LVGBE40K8GP000001,C002,,repair,customer,,2024-04-01 09:00,,,,,\n",
                   422, "invalid_rows", 3, 4, "customer 'C002' does not exist in store SZ01");
    expect_refused("advisor missing", NULL, "repair_orders", RO_HDR
                   "GZ01,R050,LVGBE40K8GP000001,C001,A99,repair,customer,,2024-04-01 09:00,,,,,\n",
                   422, "invalid_rows", 2, 5, "advisor 'A99' is not on the staff of store GZ01");
    expect_refused("insurer missing", NULL, "repair_orders", RO_HDR
                   "GZ01,R050,LVGBE40K8GP000001,C001,,bodywork,insurer,AXA,2024-04-01 09:00,,,,,\n",
                   422, "invalid_rows", 2, 8, "insurer 'AXA' does not exist");
    expect_refused("comeback_of unknown", NULL, "repair_orders", RO_HDR
                   "GZ01,R050,LVGBE40K8GP000001,C001,,repair,customer,,2024-04-01 09:00,,,,,R999\n",
                   422, "invalid_rows", 2, 14, "comeback_of 'R999' is not an earlier repair order of store GZ01");
    expect_refused("comeback_of another vehicle", NULL, "repair_orders", RO_HDR
                   "GZ01,R050,LFV2A21K7A3000003,C001,,repair,customer,,2024-04-01 09:00,,,,,R001\n",
                   422, "invalid_rows", 2, 14, "comeback_of 'R001' is not an earlier repair order");
    expect_refused("comeback_of a later RO", NULL, "repair_orders", RO_HDR
                   "GZ01,R050,LVGBE40K8GP000001,C001,,repair,customer,,2024-02-01 09:00,,,,,R002\n",
                   422, "invalid_rows", 2, 14, "comeback_of 'R002' is not an earlier repair order");
    expect_refused("comeback_of a later line of the file", NULL, "repair_orders", RO_HDR
                   "GZ01,R050,LVGBE40K8GP000001,C001,,repair,customer,,2024-04-01 09:00,,,,,R051\n"
                   "GZ01,R051,LVGBE40K8GP000001,C001,,repair,customer,,2024-03-30 09:00,,,,,\n",
                   422, "invalid_rows", 2, 14, "comeback_of 'R051'");
    expect_refused("comeback_of an earlier line with another vehicle", NULL, "repair_orders", RO_HDR
                   "GZ01,R051,LFV2A21K7A3000003,C001,,repair,customer,,2024-03-30 09:00,,,,,\n"
                   "GZ01,R050,LVGBE40K8GP000001,C001,,repair,customer,,2024-04-01 09:00,,,,,R051\n",
                   422, "invalid_rows", 3, 14, "(see line 2)");
    expect_refused("RO of a labour line missing", NULL, "ro_labour",
                   "store_code,ro_no,line_no,sold_hours,amount\nGZ01,R999,1,1,100\n",
                   422, "invalid_rows", 2, 2, "repair order 'R999' does not exist in store GZ01");
    expect_refused("technician missing", NULL, "ro_labour",
                   "store_code,ro_no,line_no,sold_hours,amount,technician_code\nGZ01,R003,1,1,100,T77\n",
                   422, "invalid_rows", 2, 6, "technician 'T77' is not on the staff");
    expect_refused("RO of a part line missing", NULL, "ro_parts", PARTS_HDR "SZ01,R003,1,GLASS-1,part,1,900,600,1\n",
                   422, "invalid_rows", 2, 2, "repair order 'R003' does not exist in store SZ01");
    expect_refused("policy insurer missing", NULL, "insurance_policies",
                   "store_code,policy_no,vin,insurer_code,kind,sold_on,starts_on,ends_on,premium\n"
                   "GZ01,P9,LVGBE40K8GP000001,picc,new,2024-01-01,2024-01-02,2025-01-01,100\n",
                   422, "invalid_rows", 2, 4, "insurer 'picc' does not exist");
    expect_refused("invoice customer, RO and deal missing", NULL, "invoices",
                   "store_code,invoice_no,customer_code,issued_on,amount,ro_no,deal_no\nGZ01,INV9,C001,2024-03-01,1,R777,D777\n",
                   422, "invalid_rows", 2, 6, "repair order 'R777'");
    expect_refused("invoice deal missing", NULL, "invoices",
                   "store_code,invoice_no,customer_code,issued_on,amount,ro_no,deal_no\nGZ01,INV9,C001,2024-03-01,1,,D777\n",
                   422, "invalid_rows", 2, 7, "vehicle sale 'D777' does not exist in store GZ01");
    expect_refused("payment invoice missing", NULL, "payments",
                   "store_code,payment_no,invoice_no,paid_on,amount\nGZ01,PAY9,INV999,2024-03-01,1\n",
                   422, "invalid_rows", 2, 3, "invoice 'INV999' does not exist in store GZ01");
    expect_refused("follow-up RO missing", NULL, "follow_up_calls",
                   "store_code,ro_no,called_at,reached\nGZ01,R404,2024-03-03 10:00,1\n",
                   422, "invalid_rows", 2, 2, "repair order 'R404'");
    expect_refused("survey RO missing", NULL, "csi_surveys",
                   "store_code,ro_no,surveyed_on,reliability,responsiveness,assurance,empathy,tangibles\nGZ01,R404,2024-03-15,9,9,8,8,8\n",
                   422, "invalid_rows", 2, 2, "repair order 'R404'");
    expect_refused("appointment RO missing", NULL, "appointments",
                   "store_code,appt_no,vin,booked_at,appointment_at,ro_no\nGZ01,AP9,LVGBE40K8GP000001,2024-01-01 10:00,2024-01-02 10:00,R404\n",
                   422, "invalid_rows", 2, 6, "repair order 'R404'");
    expect_refused("stock of a missing store", NULL, "parts_stock",
                   "store_code,snapshot_on,part_no,qty_on_hand,unit_cost\nBJ01,2024-04-30,X1,1,3\n",
                   422, "invalid_rows", 2, 1, "store 'BJ01' does not exist");
    /* INV001 440.00 is paid by PAY001 440.00: nothing is open */
    expect_refused("payment over what is open", NULL, "payments",
                   "store_code,payment_no,invoice_no,paid_on,amount\nGZ01,PAY010,INV001,2024-03-02,0.01\n",
                   422, "invalid_rows", 2, 5, "0.01 exceeds what is left open on invoice INV001");
    /* INV003 189000: two payments of the file together exceed it */
    expect_refused("payments of the file counted together", NULL, "payments",
                   "store_code,payment_no,invoice_no,paid_on,amount\nGZ01,PAY011,INV003,2024-01-16,100000\nGZ01,PAY012,INV003,2024-01-17,89000.01\n",
                   422, "invalid_rows", 3, 5, "exceeds what is left open on invoice INV003");
    expect_refused("a payment raised over the invoice", NULL, "payments",
                   "store_code,payment_no,invoice_no,paid_on,amount\nGZ01,PAY001,INV001,2024-03-01,440.01\n",
                   422, "invalid_rows", 2, 5, "440.01 exceeds");
    /* CSV itself */
    expect_refused("unterminated quote", NULL, "regions", "region_code,name\nN1,\"华北\nN2,x\n",
                   422, "invalid_csv", 2, 2, "unterminated quote");
    expect_refused("quote in an unquoted field", NULL, "regions", "region_code,name\nN1,华\"北\n",
                   422, "invalid_csv", 2, 2, "a quote inside an unquoted field");
    expect_refused("text after a closing quote", NULL, "regions", "region_code,name\nN1,\"华北\"x\n",
                   422, "invalid_csv", 2, 2, "text after the closing quote");
    expect_refused("GBK bytes", NULL, "regions", "region_code,name\nN1,\xBB\xAA\xB1\xB1\n",
                   422, "invalid_csv", 2, 2, "invalid UTF-8");
    expect_refused("empty file", NULL, "regions", "", 422, "invalid_csv", 1, 1, "the file is empty");
    /* several problems: all of them, in line order */
    import_result res;
    import_text(NULL, "regions", "region_code,name\nN 1,x\nN2,\nN3,ok\nN2,again\n", &res);
    int n = res.problems ? cJSON_GetArraySize(res.problems) : 0;
    CHECK_INT(n, 3, "three problems reported");
    CHECK(has_problem(&res, 2, 1, "not a valid code") && has_problem(&res, 3, 2, "a value is required") &&
          has_problem(&res, 5, 1, "duplicate key"), "each at its line and column");
    import_result_free(&res);
}

/* --- more than 1000 problems --- */

static void test_problem_cap(void)
{
    size_t cap = 1600 * 32 + 64;
    char *csv = malloc(cap);
    size_t pos = (size_t)snprintf(csv, cap, "region_code,name\n");
    for (int i = 0; i < 1500; i++) pos += (size_t)snprintf(csv + pos, cap - pos, "bad code %d,x\n", i);
    import_result res;
    int rc = import_text(NULL, "regions", csv, &res);
    free(csv);
    CHECK(rc == -1 && res.status == 422, "1500 bad rows refused");
    CHECK_INT(res.problems ? cJSON_GetArraySize(res.problems) : 0, 1000, "1000 problems listed");
    CHECK_INT(res.more, 500, "500 more counted");
    cJSON *first = cJSON_GetArrayItem(res.problems, 0), *last = cJSON_GetArrayItem(res.problems, 999);
    CHECK(first && cJSON_GetObjectItem(first, "line")->valueint == 2 && last && cJSON_GetObjectItem(last, "line")->valueint == 1001,
          "the first 1000 in line order (lines 2..1001)");
    import_result_free(&res);
}

/* --- scope --- */

static void test_scope(void)
{
    char *gz = "GZ01";
    principal token = { .role = ROLE_UPLOADER, .is_token = true, .all_stores = false, .stores = &gz, .nstores = 1 };
    snprintf(token.name, sizeof token.name, "gz-uploader");
    expect_refused("rows of another store", &token, "customers",
                   "store_code,customer_code,type\nGZ01,C050,individual\nSZ01,C050,individual\nGZ01,C051,fleet\nSH01,C050,other\n",
                   403, "store_out_of_scope", 2 + 1, 1, "store 'SZ01' is outside");
    import_result res;
    import_text(&token, "customers", "store_code,customer_code,type\nGZ01,C050,individual\nSZ01,C050,individual\nSH01,C050,other\n", &res);
    CHECK(res.problems && cJSON_GetArraySize(res.problems) == 2 && has_problem(&res, 4, 1, "SH01"),
          "every out-of-scope line is listed, and only those");
    import_result_free(&res);
    expect_counts("the bound token imports its own store", &token, "customers", "store_code,customer_code,type\nGZ01,C050,individual\n",
                  1, 0, 0);
    char before[2048], after[2048];
    fingerprint(before, sizeof before);
    int rc = import_text(&token, "regions", "region_code,name\nNORTH,华北\n", &res);
    CHECK(rc == -1 && res.status == 403 && strcmp(res.code, "forbidden") == 0, "a store token may not import regions");
    import_result_free(&res);
    rc = import_text(&token, "stores", "store_code,name,brand,region_code\nGZ01,x,y,SOUTH\n", &res);
    CHECK(rc == -1 && res.status == 403, "nor stores");
    import_result_free(&res);
    /* the group-wide entities are those of the entity table marked global,
     * and only those: the token is refused these, before any row is read */
    int global = 0;
    for (int k = 0; import_entities[k]; k++) {
        const entity_def *e = entity_find(import_entities[k]);
        bool want = !strcmp(import_entities[k], "regions") || !strcmp(import_entities[k], "stores") ||
                    !strcmp(import_entities[k], "insurers") || !strcmp(import_entities[k], "targets");
        CHECK(e && e->global == want, "%s: %s", import_entities[k], want ? "group-wide" : "a store's rows");
        global += e && e->global;
    }
    CHECK_INT(global, 4, "four group-wide entities");
    rc = import_text(&token, "insurers", "insurer_code,name\nPICC,x\n", &res);
    CHECK(rc == -1 && res.status == 403 && strstr(res.message, "all-store tokens"), "nor insurers (%s)", res.message);
    import_result_free(&res);
    rc = import_text(&token, "targets", "store_code,month,kpi,value\nGZ01,2024-01,service.revenue,1\n", &res);
    CHECK(rc == -1 && res.status == 403 && strstr(res.message, "all-store tokens"), "nor targets (%s)", res.message);
    import_result_free(&res);
    fingerprint(after, sizeof after);
    CHECK_STR(after, before, "nothing written");
    principal all = { .role = ROLE_UPLOADER, .is_token = true, .all_stores = true };
    snprintf(all.name, sizeof all.name, "all-uploader");
    expect_counts("an all-store token imports regions", &all, "regions", "region_code,name\nNORTH,华北区\n", 1, 0, 0);
    rc = import_text(NULL, "no_such_entity", "a\n", &res);
    CHECK(rc == -1 && res.status == 404 && strcmp(res.code, "unknown_entity") == 0, "an unknown entity is 404");
    import_result_free(&res);
}

/* --- 100,000 rows --- */

static void test_big_file(void)
{
    enum { ROS = 1000, LINES = 100 };
    size_t cap = (size_t)ROS * 160 + 256;
    char *ros = malloc(cap);
    size_t pos = (size_t)snprintf(ros, cap, "store_code,ro_no,vin,customer_code,ro_type,payer,opened_at,closed_at\n");
    for (int i = 0; i < ROS; i++)
        pos += (size_t)snprintf(ros + pos, cap - pos, "SH01,B%05d,LSVAA4180E2%06d,C001,maintenance,customer,2024-06-%02d 09:00,2024-06-%02d 17:00\n",
                                i, i, 1 + i % 28, 1 + i % 28);
    expect_counts("1000 repair orders", NULL, "repair_orders", ros, ROS, 0, 0);
    free(ros);

    cap = (size_t)ROS * LINES * 80 + 256;
    char *parts = malloc(cap);
    pos = (size_t)snprintf(parts, cap, PARTS_HDR);
    long long cents = 0;     /* sum of qty * unit_price, in cents, worked out here independently */
    for (int i = 0; i < ROS; i++)
        for (int l = 1; l <= LINES; l++) {
            int qty = 1 + (i + l) % 5, price_cents = 100 + (i * 7 + l * 13) % 10000;
            cents += (long long)qty * price_cents;
            pos += (size_t)snprintf(parts + pos, cap - pos, "SH01,B%05d,%d,P%d,%s,%d,%d.%02d,1.00,\n", i, l, l,
                                    l % 3 == 0 ? "material" : "part", qty, price_cents / 100, price_cents % 100);
        }
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    expect_counts("100,000 ro_parts rows", NULL, "ro_parts", parts, (long long)ROS * LINES, 0, 0);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    printf("# 100,000 rows in %.2f s (%.0f rows/s)\n", s, 100000 / s);
    char want[64], got[64];
    snprintf(want, sizeof want, "%lld.%02lld", cents / 100, cents % 100);
    CHECK_STR(q1s("SELECT CAST(SUM(qty * unit_price) AS DECIMAL(20,2)) FROM ro_parts WHERE store_code = 'SH01'", got, sizeof got),
              want, "the stored lines sum to the file's total");
    expect_counts("100,000 rows again: all unchanged", NULL, "ro_parts", parts, 0, 0, (long long)ROS * LINES);

    /* the same file with line 1 of B00000 moved to the end (another batch)
     * and line 100 of B00999 left out: only that line goes */
    char *hdr_end = strchr(parts, '\n') + 1;
    char *first = hdr_end, *first_end = strchr(first, '\n') + 1;
    size_t len = strlen(parts);
    char *last = parts + len - 1;
    while (last > parts && last[-1] != '\n') last--;
    char *moved = malloc(len + 1);
    size_t n = 0;
    memcpy(moved + n, parts, (size_t)(hdr_end - parts)); n += (size_t)(hdr_end - parts);
    memcpy(moved + n, first_end, (size_t)(last - first_end)); n += (size_t)(last - first_end);
    memcpy(moved + n, first, (size_t)(first_end - first)); n += (size_t)(first_end - first);
    moved[n] = '\0';
    expect_counts("lines of an RO in two batches, one line left out", NULL, "ro_parts", moved, 0, 0, (long long)ROS * LINES - 1);
    CHECK_INT(q1("SELECT COUNT(*) FROM ro_parts WHERE store_code='SH01' AND ro_no='B00000'"), LINES, "B00000 keeps its 100 lines");
    CHECK_INT(q1("SELECT COUNT(*) FROM ro_parts WHERE store_code='SH01' AND ro_no='B00999'"), LINES - 1, "B00999 lost line 100");
    free(moved);
    free(parts);
}

/* --- retries: pure policy and the spool --- */

static void test_retry_policy(void)
{
    CHECK(db_errno_is_retryable(1213), "a deadlock is retried");
    CHECK(db_errno_is_retryable(1205), "a lock wait timeout is retried");
    const int not_retried[] = { 0, 1062, 1317, 1452, 1969, 2006, 2013, 1927 };
    for (size_t i = 0; i < sizeof not_retried / sizeof *not_retried; i++)
        CHECK(!db_errno_is_retryable(not_retried[i]), "error %d is not retried", not_retried[i]);
    CHECK_INT(import_retry_delay_ms(1, 0.5), 0, "no wait before the first attempt");
    CHECK_INT(import_retry_delay_ms(2, 0.0), IMPORT_RETRY_BASE_MS / 2, "the second attempt: at least half the base");
    CHECK(import_retry_delay_ms(2, 0.999999) <= IMPORT_RETRY_BASE_MS, "the second attempt: at most the base");
    CHECK_INT(import_retry_delay_ms(3, 0.0), IMPORT_RETRY_BASE_MS, "the third: the base doubled, halved");
    CHECK_INT(import_retry_delay_ms(40, 0.0), IMPORT_RETRY_CAP_MS / 2, "a late attempt is capped (low end)");
    CHECK(import_retry_delay_ms(40, 0.999) <= IMPORT_RETRY_CAP_MS, "a late attempt is capped (high end)");
    CHECK_INT(import_retry_delay_ms(3, -4.0), IMPORT_RETRY_BASE_MS, "r below 0 counts as 0");
    CHECK(import_retry_delay_ms(3, 7.0) <= 2 * IMPORT_RETRY_BASE_MS, "r past 1 counts as almost 1");
    /* the default five attempts wait well under three seconds in all */
    int total = 0;
    for (int a = 2; a <= IMPORT_ATTEMPTS_DEFAULT; a++) total += import_retry_delay_ms(a, 0.999999);
    CHECK(total < 3000, "five attempts wait %d ms at most", total);
    struct { const char *v; int want; } env[] = { { NULL, 5 }, { "3", 3 }, { "1", 1 }, { "20", 20 }, { "0", 5 },
                                                  { "21", 5 }, { "-2", 5 }, { "3x", 5 }, { "", 5 } };
    for (size_t i = 0; i < sizeof env / sizeof *env; i++) {
        if (env[i].v) setenv("FOURSCORE_IMPORT_ATTEMPTS", env[i].v, 1);
        else unsetenv("FOURSCORE_IMPORT_ATTEMPTS");
        CHECK_INT(import_retry_attempts(), env[i].want, "FOURSCORE_IMPORT_ATTEMPTS=%s", env[i].v ? env[i].v : "(unset)");
    }
    unsetenv("FOURSCORE_IMPORT_ATTEMPTS");
}

typedef struct replay_check { unsigned long long at, bad; int stop_after; int calls; } replay_check;

/* Byte i of the test stream is (i * 7 + i / 4099) & 0xff: order and position both show. */
static unsigned char spool_byte(unsigned long long i) { return (unsigned char)((i * 7 + i / 4099) & 0xff); }

static int replay_compare(void *ud, const char *data, size_t len)
{
    replay_check *rc = ud;
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)data[i] != spool_byte(rc->at + i)) rc->bad++;
    rc->at += len;
    return ++rc->calls == rc->stop_after ? -1 : 0;
}

static void test_spool(void)
{
    char tmp[PATH_MAX + 16];
    snprintf(tmp, sizeof tmp, "%s", T.dir);
    setenv("TMPDIR", tmp, 1);
    import_spool *sp = import_spool_new();
    CHECK(sp != NULL, "a spool");
    /* 10 MiB in odd-sized pieces: past the memory part into the file */
    const unsigned long long total = 10ull << 20;
    char piece[70001];
    unsigned long long at = 0;
    int rc = 0;
    while (at < total && rc == 0) {
        size_t n = sizeof piece;
        if (n > total - at) n = (size_t)(total - at);
        for (size_t i = 0; i < n; i++) piece[i] = (char)spool_byte(at + i);
        rc = import_spool_add(sp, piece, n);
        at += n;
    }
    CHECK_INT(rc, 0, "10 MiB kept");
    CHECK(import_spool_ok(sp), "the spool is usable");
    CHECK_INT(import_spool_size(sp), total, "its size");
    for (int round = 0; round < 2; round++) {
        replay_check c = { 0 };
        CHECK_INT(import_spool_replay(sp, replay_compare, &c), 0, "replay %d", round + 1);
        CHECK_INT(c.at, total, "replay %d gives every byte", round + 1);
        CHECK_INT(c.bad, 0, "replay %d gives them in order", round + 1);
    }
    /* more after a replay goes at the end; a replay stopped early is not an error */
    for (size_t i = 0; i < 1000; i++) piece[i] = (char)spool_byte(total + i);
    CHECK_INT(import_spool_add(sp, piece, 1000), 0, "more bytes after a replay");
    replay_check c = { 0 };
    CHECK_INT(import_spool_replay(sp, replay_compare, &c), 0, "replay of the longer spool");
    CHECK_INT(c.at, total + 1000, "every byte, the new ones last");
    CHECK_INT(c.bad, 0, "in order");
    replay_check early = { .stop_after = 2 };
    CHECK_INT(import_spool_replay(sp, replay_compare, &early), 0, "a replay stopped by its reader");
    CHECK_INT(early.calls, 2, "stops at once");
    import_spool_free(sp);

    /* nowhere to put the file: the spool says so, and cannot be replayed */
    setenv("TMPDIR", "/nonexistent/fourscore-spool", 1);
    sp = import_spool_new();
    memset(piece, 'x', sizeof piece);
    rc = 0;
    for (unsigned long long n = 0; n < (6ull << 20) && rc == 0; n += sizeof piece) rc = import_spool_add(sp, piece, sizeof piece);
    CHECK_INT(rc, -1, "past the memory part with no temporary directory: refused");
    CHECK(!import_spool_ok(sp), "the spool knows it is incomplete");
    replay_check none = { 0 };
    CHECK_INT(import_spool_replay(sp, replay_compare, &none), -1, "and refuses a replay");
    CHECK_INT(import_spool_add(sp, "a", 1), -1, "and stays refused");
    import_spool_free(sp);
    unsetenv("TMPDIR");
}

int main(void)
{
    test_retry_policy();
    if (testdb_start(&T)) return 1;
    test_spool();
    A.db = T.pool;
    test_full_load();
    test_updates();
    test_rules();
    test_problem_cap();
    test_scope();
    test_big_file();
    testdb_stop(&T);
    return check_done();
}
