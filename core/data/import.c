/* import: the one way data enters Fourscore (see import.h and
 * docs/import.md). A file streams through the CSV reader; each row is
 * checked in C (columns, types, formats, rules within the row, duplicate
 * keys, scope) and kept in a batch; a full batch goes to a temporary staging
 * table (array binding) where parents are checked with set-based queries,
 * the stored rows are counted (inserted / updated / unchanged: compared byte
 * for byte), the unchanged ones set aside, and the rest upserted into the
 * fact table, all inside one transaction that stays open for the whole file. The first problem stops the writing but not
 * the checking, so the answer lists every problem; the transaction is then
 * rolled back. At the end: the lines of named ROs that the file did not
 * repeat are removed, payments are checked against their invoices, rollups
 * are refreshed, the KPI caches invalidated and the import audited, then
 * commit. Memory per file: one batch, the keys seen, the stores touched.
 * Concurrency: each batch holds its stores' rows (FOR UPDATE, key order)
 * before it reads, so imports of one store take turns; imports of vehicles
 * take a group-wide turn; a transaction that still loses a lock conflict is
 * rolled back and the whole file runs again (import_retry.h), then 503. */
#include "import.h"
#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "app.h"
#include "auth.h"
#include "commands.h"
#include "csv.h"
#include "db.h"
#include "http.h"
#include "log.h"
#include "import_retry.h"
#include "counters.h"
#include "rollup.h"
#include "generation.h"

#define BATCH_ROWS        10000              /* rows per staging round trip */
#define BATCH_ARENA       (8u << 20)         /* bytes of values per batch before a flush */
#define MAX_COLS          16
#define ACQUIRE_MS        5000
#define KEY_BLOCK         (1u << 20)
#define IMPORT_ANALYZE_ROWS 10000      /* a file inserting this many rows refreshes table statistics */

/* --- entities --- */

enum col_type { T_CODE, T_TEXT, T_DATE, T_TS, T_MONEY, T_QTY, T_UINT, T_BOOL, T_ENUM, T_VIN, T_SCORE, T_MONTH };

typedef struct col_def {
    const char *name;
    enum col_type type;
    bool required;
    int maxlen;                    /* T_TEXT: characters */
    const char *const *values;     /* T_ENUM: NULL-terminated */
} col_def;

/* A parent check: a query over import_stage returning (src_line, value) of
 * each staged row whose parent is missing. The store itself is checked only
 * where no required store-scoped parent (customer, RO, invoice) implies it. */
typedef struct parent_check {
    const char *column;            /* the column naming the parent */
    const char *message;           /* the first %s is the value, a second the store code */
    const char *sql;
} parent_check;

typedef struct entity_def {
    const char *name;
    const col_def *cols;
    int ncols;
    int nkey;                      /* the first nkey columns are the natural key */
    bool has_store;                /* column 0 is store_code */
    bool global;                   /* regions, stores, insurers: admins and all-store tokens only */
    const char *date_lo, *date_hi; /* business date range of a row; '@' stands for the table alias */
    const parent_check *parents;
    int nparents;
} entity_def;

static const char *const role_values[] = { "technician", "advisor", "parts", "other", NULL };
static const char *const customer_type_values[] = { "individual", "fleet", "government", "insurer", "other", NULL };
static const char *const ro_type_values[] = { "first_service", "maintenance", "repair", "bodywork", "warranty", "internal", NULL };
static const char *const payer_values[] = { "customer", "insurer", "warranty", "internal", NULL };
static const char *const category_values[] = { "part", "material", "accessory", NULL };
static const char *const kind_values[] = { "new", "renewal", NULL };

#define REQ(n, t)        { n, t, true, 0, NULL }
#define OPT(n, t)        { n, t, false, 0, NULL }
#define REQ_TEXT(n, len) { n, T_TEXT, true, len, NULL }
#define OPT_TEXT(n, len) { n, T_TEXT, false, len, NULL }
#define REQ_ENUM(n, v)   { n, T_ENUM, true, 0, v }

#define STORE_EXISTS { "store_code", "store '%s' does not exist", \
    "SELECT s.src_line, s.store_code FROM import_stage s LEFT JOIN stores p ON p.store_code = s.store_code WHERE p.store_code IS NULL" }
#define CUSTOMER_EXISTS { "customer_code", "customer '%s' does not exist in store %s (import customers first)", \
    "SELECT s.src_line, s.customer_code, s.store_code FROM import_stage s LEFT JOIN customers p " \
    "ON p.store_code = s.store_code AND p.customer_code = s.customer_code WHERE p.store_code IS NULL" }
#define RO_EXISTS(opt) { "ro_no", "repair order '%s' does not exist in store %s (import repair_orders first)", \
    "SELECT s.src_line, s.ro_no, s.store_code FROM import_stage s LEFT JOIN repair_orders p " \
    "ON p.store_code = s.store_code AND p.ro_no = s.ro_no WHERE " opt "p.store_code IS NULL" }

static const col_def regions_cols[] = { REQ("region_code", T_CODE), REQ_TEXT("name", 200) };
static const col_def stores_cols[] = {
    REQ("store_code", T_CODE), REQ_TEXT("name", 200), REQ_TEXT("brand", 100), REQ("region_code", T_CODE),
    OPT_TEXT("city", 100), OPT("opened_on", T_DATE) };
static const parent_check stores_parents[] = {
    { "region_code", "region '%s' does not exist (import regions first)",
      "SELECT s.src_line, s.region_code FROM import_stage s LEFT JOIN regions p ON p.region_code = s.region_code WHERE p.region_code IS NULL" } };
static const col_def insurers_cols[] = { REQ("insurer_code", T_CODE), REQ_TEXT("name", 200) };
static const col_def staff_cols[] = {
    REQ("store_code", T_CODE), REQ("staff_code", T_CODE), REQ_TEXT("name", 200), REQ_ENUM("role", role_values),
    OPT("hired_on", T_DATE), OPT("left_on", T_DATE) };
static const parent_check store_parents[] = { STORE_EXISTS };
static const col_def customers_cols[] = {
    REQ("store_code", T_CODE), REQ("customer_code", T_CODE), REQ_ENUM("type", customer_type_values), OPT_TEXT("name", 200) };
static const col_def sales_cols[] = {
    REQ("store_code", T_CODE), REQ("deal_no", T_CODE), REQ("vin", T_VIN), REQ("sold_on", T_DATE),
    REQ("customer_code", T_CODE), OPT_TEXT("model", 100), REQ("sale_amount", T_MONEY), OPT("referral", T_BOOL) };
static const parent_check sales_parents[] = { CUSTOMER_EXISTS };
static const col_def ro_cols[] = {
    REQ("store_code", T_CODE), REQ("ro_no", T_CODE), REQ("vin", T_VIN), REQ("customer_code", T_CODE),
    OPT("advisor_code", T_CODE), REQ_ENUM("ro_type", ro_type_values), REQ_ENUM("payer", payer_values),
    OPT("insurer_code", T_CODE), REQ("opened_at", T_TS), OPT("closed_at", T_TS), OPT("mileage_km", T_QTY),
    OPT("other_amount", T_MONEY), OPT("discount_amount", T_MONEY), OPT("comeback_of", T_CODE) };
enum { RO_VIN = 2, RO_PAYER = 6, RO_INSURER = 7, RO_OPENED = 8, RO_CLOSED = 9, RO_COMEBACK = 13 };
static const parent_check ro_parents[] = {
    CUSTOMER_EXISTS,
    { "advisor_code", "advisor '%s' is not on the staff of store %s (import staff first)",
      "SELECT s.src_line, s.advisor_code, s.store_code FROM import_stage s LEFT JOIN staff p "
      "ON p.store_code = s.store_code AND p.staff_code = s.advisor_code WHERE s.advisor_code IS NOT NULL AND p.store_code IS NULL" },
    { "insurer_code", "insurer '%s' does not exist (import insurers first)",
      "SELECT s.src_line, s.insurer_code FROM import_stage s LEFT JOIN insurers p "
      "ON p.insurer_code = s.insurer_code WHERE s.insurer_code IS NOT NULL AND p.insurer_code IS NULL" },
    /* comeback_of: kept last; lines whose original is earlier in the file are settled in C */
    { "comeback_of", "comeback_of '%s' is not an earlier repair order of store %s for the same vehicle",
      "SELECT s.src_line, s.comeback_of, s.store_code FROM import_stage s LEFT JOIN repair_orders p "
      "ON p.store_code = s.store_code AND p.ro_no = s.comeback_of "
      "WHERE s.comeback_of IS NOT NULL AND (p.store_code IS NULL OR p.vin <> s.vin OR p.opened_at >= s.opened_at)" } };
static const col_def labour_cols[] = {
    REQ("store_code", T_CODE), REQ("ro_no", T_CODE), REQ("line_no", T_UINT), OPT_TEXT("op_code", 32),
    OPT("technician_code", T_CODE), REQ("sold_hours", T_QTY), OPT("clocked_hours", T_QTY), REQ("amount", T_MONEY) };
static const parent_check labour_parents[] = {
    RO_EXISTS(""),
    { "technician_code", "technician '%s' is not on the staff of store %s (import staff first)",
      "SELECT s.src_line, s.technician_code, s.store_code FROM import_stage s LEFT JOIN staff p "
      "ON p.store_code = s.store_code AND p.staff_code = s.technician_code WHERE s.technician_code IS NOT NULL AND p.store_code IS NULL" } };
static const col_def parts_cols[] = {
    REQ("store_code", T_CODE), REQ("ro_no", T_CODE), REQ("line_no", T_UINT), REQ("part_no", T_CODE),
    REQ_ENUM("category", category_values), REQ("qty", T_QTY), REQ("unit_price", T_MONEY), REQ("unit_cost", T_MONEY),
    OPT("from_stock", T_BOOL) };
enum { PARTS_FROM_STOCK = 8 };
static const parent_check parts_parents[] = { RO_EXISTS("") };
static const col_def stock_cols[] = {
    REQ("store_code", T_CODE), REQ("snapshot_on", T_DATE), REQ("part_no", T_CODE), REQ("qty_on_hand", T_QTY),
    REQ("unit_cost", T_MONEY), OPT("last_issue_on", T_DATE), OPT("last_receipt_on", T_DATE) };
static const col_def policy_cols[] = {
    REQ("store_code", T_CODE), REQ("policy_no", T_CODE), REQ("vin", T_VIN), REQ("insurer_code", T_CODE),
    REQ_ENUM("kind", kind_values), REQ("sold_on", T_DATE), REQ("starts_on", T_DATE), REQ("ends_on", T_DATE),
    REQ("premium", T_MONEY), OPT("commission", T_MONEY) };
enum { POLICY_STARTS = 6, POLICY_ENDS = 7 };
static const parent_check policy_parents[] = {
    STORE_EXISTS,
    { "insurer_code", "insurer '%s' does not exist (import insurers first)",
      "SELECT s.src_line, s.insurer_code FROM import_stage s LEFT JOIN insurers p "
      "ON p.insurer_code = s.insurer_code WHERE p.insurer_code IS NULL" } };
static const col_def invoice_cols[] = {
    REQ("store_code", T_CODE), REQ("invoice_no", T_CODE), REQ("customer_code", T_CODE), REQ("issued_on", T_DATE),
    OPT("due_on", T_DATE), REQ("amount", T_MONEY), OPT("ro_no", T_CODE), OPT("deal_no", T_CODE) };
static const parent_check invoice_parents[] = {
    CUSTOMER_EXISTS, RO_EXISTS("s.ro_no IS NOT NULL AND "),
    { "deal_no", "vehicle sale '%s' does not exist in store %s (import vehicle_sales first)",
      "SELECT s.src_line, s.deal_no, s.store_code FROM import_stage s LEFT JOIN vehicle_sales p "
      "ON p.store_code = s.store_code AND p.deal_no = s.deal_no WHERE s.deal_no IS NOT NULL AND p.store_code IS NULL" } };
static const col_def payment_cols[] = {
    REQ("store_code", T_CODE), REQ("payment_no", T_CODE), REQ("invoice_no", T_CODE), REQ("paid_on", T_DATE),
    REQ("amount", T_MONEY) };
enum { PAYMENT_AMOUNT = 4 };
static const parent_check payment_parents[] = {
    { "invoice_no", "invoice '%s' does not exist in store %s (import invoices first)",
      "SELECT s.src_line, s.invoice_no, s.store_code FROM import_stage s LEFT JOIN invoices p "
      "ON p.store_code = s.store_code AND p.invoice_no = s.invoice_no WHERE p.store_code IS NULL" } };
static const col_def financial_cols[] = {
    REQ("store_code", T_CODE), REQ("month", T_MONTH), REQ("aftersales_personnel_cost", T_MONEY),
    REQ("fixed_expenses", T_MONEY) };
static const col_def followup_cols[] = {
    REQ("store_code", T_CODE), REQ("ro_no", T_CODE), REQ("called_at", T_TS), REQ("reached", T_BOOL),
    OPT("complaint", T_BOOL) };
enum { FOLLOWUP_REACHED = 3, FOLLOWUP_COMPLAINT = 4 };
static const parent_check ro_child_parents[] = { RO_EXISTS("") };
static const col_def csi_cols[] = {
    REQ("store_code", T_CODE), REQ("ro_no", T_CODE), REQ("surveyed_on", T_DATE), REQ("reliability", T_SCORE),
    REQ("responsiveness", T_SCORE), REQ("assurance", T_SCORE), REQ("empathy", T_SCORE), REQ("tangibles", T_SCORE) };
static const col_def appt_cols[] = {
    REQ("store_code", T_CODE), REQ("appt_no", T_CODE), REQ("vin", T_VIN), REQ("booked_at", T_TS),
    REQ("appointment_at", T_TS), OPT("showed", T_BOOL), OPT("ro_no", T_CODE) };
static const parent_check appt_parents[] = { STORE_EXISTS, RO_EXISTS("s.ro_no IS NOT NULL AND ") };

#define COLS(a) a, (int)(sizeof a / sizeof a[0])
#define PARENTS(a) a, (int)(sizeof a / sizeof a[0])
static const entity_def entities[] = {
    { "regions", COLS(regions_cols), 1, false, true, NULL, NULL, NULL, 0 },
    { "stores", COLS(stores_cols), 1, true, true, NULL, NULL, PARENTS(stores_parents) },
    { "insurers", COLS(insurers_cols), 1, false, true, NULL, NULL, NULL, 0 },
    { "staff", COLS(staff_cols), 2, true, false, NULL, NULL, PARENTS(store_parents) },
    { "customers", COLS(customers_cols), 2, true, false, NULL, NULL, PARENTS(store_parents) },
    { "vehicle_sales", COLS(sales_cols), 2, true, false, "@.sold_on", "@.sold_on", PARENTS(sales_parents) },
    { "repair_orders", COLS(ro_cols), 2, true, false, "DATE(@.opened_at)", "DATE(COALESCE(@.closed_at, @.opened_at))",
      PARENTS(ro_parents) },
    { "ro_labour", COLS(labour_cols), 3, true, false, NULL, NULL, PARENTS(labour_parents) },
    { "ro_parts", COLS(parts_cols), 3, true, false, NULL, NULL, PARENTS(parts_parents) },
    { "parts_stock", COLS(stock_cols), 3, true, false, "@.snapshot_on", "@.snapshot_on", PARENTS(store_parents) },
    { "insurance_policies", COLS(policy_cols), 2, true, false, "LEAST(@.sold_on, @.starts_on)",
      "GREATEST(@.sold_on, @.ends_on)", PARENTS(policy_parents) },
    { "invoices", COLS(invoice_cols), 2, true, false, "@.issued_on", "GREATEST(@.issued_on, COALESCE(@.due_on, @.issued_on))",
      PARENTS(invoice_parents) },
    { "payments", COLS(payment_cols), 2, true, false, "@.paid_on", "@.paid_on", PARENTS(payment_parents) },
    { "store_financials", COLS(financial_cols), 2, true, false, "CAST(CONCAT(@.month, '-01') AS DATE)",
      "LAST_DAY(CONCAT(@.month, '-01'))", PARENTS(store_parents) },
    { "follow_up_calls", COLS(followup_cols), 2, true, false, "DATE(@.called_at)", "DATE(@.called_at)",
      PARENTS(ro_child_parents) },
    { "csi_surveys", COLS(csi_cols), 2, true, false, "@.surveyed_on", "@.surveyed_on", PARENTS(ro_child_parents) },
    { "appointments", COLS(appt_cols), 2, true, false, "DATE(LEAST(@.booked_at, @.appointment_at))",
      "DATE(GREATEST(@.booked_at, @.appointment_at))", PARENTS(appt_parents) },
};
#define NENTITIES ((int)(sizeof entities / sizeof entities[0]))

const char *const import_entities[] = {
    "regions", "stores", "insurers", "staff", "customers", "vehicle_sales", "repair_orders", "ro_labour",
    "ro_parts", "parts_stock", "insurance_policies", "invoices", "payments", "store_financials",
    "follow_up_calls", "csi_surveys", "appointments", NULL
};

static const entity_def *entity_find(const char *name)
{
    for (int i = 0; i < NENTITIES; i++)
        if (strcmp(entities[i].name, name) == 0) return &entities[i];
    return NULL;
}

static bool entity_is(const entity_def *e, const char *name) { return strcmp(e->name, name) == 0; }
static bool entity_is_ro_lines(const entity_def *e) { return entity_is(e, "ro_labour") || entity_is(e, "ro_parts"); }
/* Entities whose VINs the derived tables follow (vehicle visits and states,
 * insurance matches); vin is column 2 of each. */
static bool entity_has_vins(const entity_def *e)
{
    return entity_is(e, "repair_orders") || entity_is(e, "vehicle_sales") || entity_is(e, "insurance_policies");
}

/* --- SQL built once per entity (kept for the program's life: they key the
 * statement cache) --- */

typedef struct entity_sql {
    char *create_stage;      /* db_exec_text */
    char *insert_stage;
    char *count_existing;    /* COUNT(*) of staged keys present, and how many of them are equal */
    char *upsert;
    char *drop_unchanged;    /* remove from the stage the rows equal to the stored ones */
    char *old_dates;         /* per store: business dates of the rows about to be replaced */
    char *new_dates;         /* per store: business dates of the staged rows */
    char *old_vins;          /* VINs a replaced row had and its new version has not */
    /* the same three as locking reads: they see the latest committed rows
     * where this transaction's snapshot may be older than a store's lock */
    char *count_existing_locking, *old_dates_locking, *old_vins_locking;
    char *ro_lines_delete;   /* ro_labour / ro_parts: lines of named ROs the file did not repeat */
    char *stage_ros;         /* ro_labour / ro_parts: record the ROs a batch names */
} entity_sql;

static entity_sql entity_sqls[sizeof entities / sizeof entities[0]];
static pthread_once_t entity_sql_once = PTHREAD_ONCE_INIT;
static bool entity_sql_ok;

typedef struct sbuf { char *s; size_t len, cap; bool oom; } sbuf;

static void sb_add(sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_add(sbuf *b, const char *fmt, ...)
{
    if (b->oom) return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(b->s ? b->s + b->len : NULL, b->s ? b->cap - b->len : 0, fmt, ap);
        va_end(ap);
        if (n < 0) { b->oom = true; return; }
        if (b->s && b->len + (size_t)n < b->cap) { b->len += (size_t)n; return; }
        size_t cap = (b->cap ? b->cap * 2 : 512) + (size_t)n;
        char *p = realloc(b->s, cap);
        if (!p) { b->oom = true; return; }
        b->s = p;
        b->cap = cap;
    }
}

/* An expression template with '@' replaced by alias. */
static void sb_expr(sbuf *b, const char *tmpl, const char *alias)
{
    for (const char *p = tmpl; *p; p++) {
        if (*p == '@') sb_add(b, "%s", alias);
        else sb_add(b, "%c", *p);
    }
}

static char *sb_take(sbuf *b)
{
    if (b->oom) { free(b->s); return NULL; }
    return b->s;
}

/* sql as a locking read (NULL stays NULL). */
static char *for_update(const char *sql)
{
    if (!sql) return NULL;
    sbuf b = { 0 };
    sb_add(&b, "%s FOR UPDATE", sql);
    return sb_take(&b);
}

/* " AND <stored and staged values of col are the same>": byte for byte, so
 * that a change of letter case or trailing spaces in a name is an update
 * (the text columns' collation would call them equal). */
static void sb_add_same(sbuf *b, const char *col)
{
    sb_add(b, " AND CAST(t.%s AS BINARY) <=> CAST(s.%s AS BINARY)", col, col);
}

/* The natural key of stored row t equals that of staged row s. */
static void build_key_join(const entity_def *e, sbuf *b)
{
    for (int k = 0; k < e->nkey; k++)
        sb_add(b, "%st.%s = s.%s", k ? " AND " : "", e->cols[k].name, e->cols[k].name);
}

static void build_entity_sql(void)
{
    entity_sql_ok = true;
    for (int i = 0; i < NENTITIES; i++) {
        const entity_def *e = &entities[i];
        entity_sql *q = &entity_sqls[i];
        sbuf b = { 0 };
        /* staging: the table's own column types, plus the source line */
        sb_add(&b, "CREATE TEMPORARY TABLE import_stage ENGINE=MEMORY SELECT CAST(0 AS UNSIGNED) AS src_line");
        for (int c = 0; c < e->ncols; c++) sb_add(&b, ", %s", e->cols[c].name);
        sb_add(&b, " FROM %s LIMIT 0", e->name);
        q->create_stage = sb_take(&b);

        b = (sbuf){ 0 };
        sb_add(&b, "INSERT INTO import_stage (src_line");
        for (int c = 0; c < e->ncols; c++) sb_add(&b, ", %s", e->cols[c].name);
        sb_add(&b, ") VALUES (?");
        for (int c = 0; c < e->ncols; c++) sb_add(&b, ", ?");
        sb_add(&b, ")");
        q->insert_stage = sb_take(&b);

        b = (sbuf){ 0 };
        sb_add(&b, "SELECT COUNT(*), COALESCE(SUM(1");
        for (int c = e->nkey; c < e->ncols; c++) sb_add_same(&b, e->cols[c].name);
        sb_add(&b, "), 0) FROM import_stage s JOIN %s t ON ", e->name);
        build_key_join(e, &b);
        q->count_existing = sb_take(&b);

        b = (sbuf){ 0 };
        sb_add(&b, "INSERT INTO %s (", e->name);
        for (int c = 0; c < e->ncols; c++) sb_add(&b, "%s%s", c ? ", " : "", e->cols[c].name);
        sb_add(&b, ") SELECT ");
        for (int c = 0; c < e->ncols; c++) sb_add(&b, "%ss.%s", c ? ", " : "", e->cols[c].name);
        sb_add(&b, " FROM import_stage s ORDER BY s.src_line ON DUPLICATE KEY UPDATE ");
        for (int c = e->nkey; c < e->ncols; c++)
            sb_add(&b, "%s%s.%s = VALUES(%s)", c > e->nkey ? ", " : "", e->name, e->cols[c].name, e->cols[c].name);
        q->upsert = sb_take(&b);

        /* rows equal to the stored ones leave the stage before the upsert:
         * an update that changes nothing still costs */
        b = (sbuf){ 0 };
        sb_add(&b, "DELETE s FROM import_stage s JOIN %s t ON ", e->name);
        build_key_join(e, &b);
        for (int c = e->nkey; c < e->ncols; c++) sb_add_same(&b, e->cols[c].name);
        q->drop_unchanged = sb_take(&b);

        if (e->date_lo) {
            b = (sbuf){ 0 };
            sb_add(&b, "SELECT t.store_code, MIN(");
            sb_expr(&b, e->date_lo, "t");
            sb_add(&b, "), MAX(");
            sb_expr(&b, e->date_hi, "t");
            sb_add(&b, ") FROM import_stage s JOIN %s t ON ", e->name);
            build_key_join(e, &b);
            sb_add(&b, " GROUP BY t.store_code");
            q->old_dates = sb_take(&b);
            b = (sbuf){ 0 };
            sb_add(&b, "SELECT s.store_code, MIN(");
            sb_expr(&b, e->date_lo, "s");
            sb_add(&b, "), MAX(");
            sb_expr(&b, e->date_hi, "s");
            sb_add(&b, ") FROM import_stage s GROUP BY s.store_code");
            q->new_dates = sb_take(&b);
            if (!q->old_dates || !q->new_dates) entity_sql_ok = false;
        }
        if (entity_is(e, "appointments") || entity_is(e, "follow_up_calls")) {
            /* what these change is the contact figures of the ROs they name
             * (rollup_ro and its sums: 013_contact_rollups.sql): the touched
             * days are those ROs' closing days, the old ROs' and the new */
            free(q->old_dates);
            free(q->new_dates);
            b = (sbuf){ 0 };
            sb_add(&b, "SELECT r.store_code, MIN(DATE(r.closed_at)), MAX(DATE(r.closed_at)) FROM import_stage s "
                       "JOIN %s t ON ", e->name);
            build_key_join(e, &b);
            sb_add(&b, " JOIN repair_orders r ON r.store_code = t.store_code AND r.ro_no = t.ro_no "
                       "WHERE r.closed_at IS NOT NULL GROUP BY r.store_code");
            q->old_dates = sb_take(&b);
            b = (sbuf){ 0 };
            sb_add(&b, "SELECT r.store_code, MIN(DATE(r.closed_at)), MAX(DATE(r.closed_at)) FROM import_stage s "
                       "JOIN repair_orders r ON r.store_code = s.store_code AND r.ro_no = s.ro_no "
                       "WHERE r.closed_at IS NOT NULL GROUP BY r.store_code");
            q->new_dates = sb_take(&b);
            if (!q->old_dates || !q->new_dates) entity_sql_ok = false;
        }
        if (entity_has_vins(e)) {
            b = (sbuf){ 0 };
            sb_add(&b, "SELECT DISTINCT t.vin FROM import_stage s JOIN %s t ON ", e->name);
            build_key_join(e, &b);
            sb_add(&b, " WHERE t.vin <> s.vin");
            q->old_vins = sb_take(&b);
            if (!q->old_vins) entity_sql_ok = false;
        }
        if (entity_is_ro_lines(e)) {
            b = (sbuf){ 0 };
            sb_add(&b, "DELETE t FROM %s t JOIN import_ros r ON r.store_code = t.store_code AND r.ro_no = t.ro_no "
                       "LEFT JOIN import_keys k ON k.store_code = t.store_code AND k.ro_no = t.ro_no AND k.line_no = t.line_no "
                       "WHERE r.had_lines = 1 AND k.ro_no IS NULL", e->name);
            q->ro_lines_delete = sb_take(&b);
            b = (sbuf){ 0 };
            sb_add(&b, "INSERT IGNORE INTO import_ros SELECT DISTINCT s.store_code, s.ro_no, "
                       "EXISTS (SELECT 1 FROM %s t WHERE t.store_code = s.store_code AND t.ro_no = s.ro_no) "
                       "FROM import_stage s", e->name);
            q->stage_ros = sb_take(&b);
            if (!q->ro_lines_delete || !q->stage_ros) entity_sql_ok = false;
        }
        q->count_existing_locking = for_update(q->count_existing);
        q->old_dates_locking = for_update(q->old_dates);
        q->old_vins_locking = for_update(q->old_vins);
        if (!q->create_stage || !q->insert_stage || !q->count_existing || !q->upsert || !q->drop_unchanged ||
            !q->count_existing_locking || (q->old_dates && !q->old_dates_locking) || (q->old_vins && !q->old_vins_locking))
            entity_sql_ok = false;
    }
}

static const entity_sql *entity_sql_of(const entity_def *e)
{
    pthread_once(&entity_sql_once, build_entity_sql);
    return entity_sql_ok ? &entity_sqls[e - entities] : NULL;
}

/* Fixed statements. */
static const char SQL_DROP_STAGE[] = "DROP TEMPORARY TABLE IF EXISTS import_stage, import_ros, import_keys";
static const char SQL_HEAP_SIZE[] = "SET SESSION max_heap_table_size = 268435456";
static const char SQL_CLEAR_STAGE[] = "DELETE FROM import_stage";
static const char SQL_CREATE_ROS[] =
    "CREATE TEMPORARY TABLE import_ros (store_code VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL, "
    "ro_no VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL, had_lines TINYINT(1) NOT NULL, "
    "PRIMARY KEY (store_code, ro_no)) ENGINE=InnoDB";
static const char SQL_CREATE_KEYS[] =
    "CREATE TEMPORARY TABLE import_keys (store_code VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL, "
    "ro_no VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL, line_no INT UNSIGNED NOT NULL, "
    "PRIMARY KEY (store_code, ro_no, line_no)) ENGINE=InnoDB";
/* The line keys of the file are kept only for ROs that had lines before the
 * file (had_lines, taken when the RO is first seen): only those can lose lines. */
static const char SQL_STAGE_KEYS[] =
    "INSERT INTO import_keys SELECT s.store_code, s.ro_no, s.line_no FROM import_stage s "
    "JOIN import_ros r ON r.store_code = s.store_code AND r.ro_no = s.ro_no WHERE r.had_lines = 1";
static const char SQL_RO_DATES[] =
    "SELECT o.store_code, MIN(DATE(o.opened_at)), MAX(DATE(COALESCE(o.closed_at, o.opened_at))) "
    "FROM import_ros r JOIN repair_orders o ON o.store_code = r.store_code AND o.ro_no = r.ro_no GROUP BY o.store_code";
/* The stores a batch names, in key order, and the row of one held to the
 * end of the transaction: two imports of one store take their turns instead
 * of interleaving (which deadlocks in the rollup refresh and would make
 * their counts read each other's rows too early). */
static const char SQL_STAGE_STORES[] = "SELECT DISTINCT store_code FROM import_stage ORDER BY store_code";
static const char SQL_LOCK_STORE[] = "SELECT store_code FROM stores WHERE store_code = ? FOR UPDATE";
static const char SQL_OVERPAID[] =
    "SELECT p.payment_no, p.invoice_no, p.amount, i.amount - (t.total - p.amount) "
    "FROM payments p JOIN invoices i ON i.store_code = p.store_code AND i.invoice_no = p.invoice_no "
    "JOIN (SELECT invoice_no, SUM(amount) AS total FROM payments WHERE store_code = ? GROUP BY invoice_no) t "
    "ON t.invoice_no = p.invoice_no WHERE p.store_code = ? AND t.total > i.amount";

/* --- value checks (pure functions; the unit tests call them through rows) --- */

static bool is_code(const char *s, size_t n)
{
    if (n < 1 || n > 32) return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (!(isalnum(ch) && ch < 0x80) && ch != '_' && ch != '-') return false;
    }
    return true;
}

static bool is_vin(const char *s, size_t n)
{
    if (n != 17) return false;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        bool ok = (ch >= '0' && ch <= '9') || (ch >= 'A' && ch <= 'Z' && ch != 'I' && ch != 'O' && ch != 'Q');
        if (!ok) return false;
    }
    return true;
}

static int digits(const char *s, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

static bool valid_ymd(int y, int m, int d)
{
    static const int mdays[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    if (y < 1000 || m < 1 || m > 12 || d < 1) return false;
    int max = mdays[m - 1];
    if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0)) max = 29;
    return d <= max;
}

static bool is_date(const char *s, size_t n)
{
    if (n != 10 || s[4] != '-' || s[7] != '-') return false;
    return valid_ymd(digits(s, 4), digits(s + 5, 2), digits(s + 8, 2));
}

/* YYYY-MM-DD HH:MM[:SS] -> "YYYY-MM-DD HH:MM:SS" in out[20]. */
static bool norm_timestamp(const char *s, size_t n, char *out)
{
    if ((n != 16 && n != 19) || !is_date(s, 10) || s[10] != ' ' || s[13] != ':') return false;
    int hh = digits(s + 11, 2), mm = digits(s + 14, 2), ss = 0;
    if (n == 19) {
        if (s[16] != ':') return false;
        ss = digits(s + 17, 2);
    }
    if (hh < 0 || hh > 23 || mm < 0 || mm > 59 || ss < 0 || ss > 59) return false;
    memcpy(out, s, 16);
    snprintf(out + 16, 4, ":%02d", ss);
    return true;
}

static bool is_month(const char *s, size_t n)
{
    if (n != 7 || s[4] != '-') return false;
    int y = digits(s, 4), m = digits(s + 5, 2);
    return y >= 1000 && m >= 1 && m <= 12;
}

/* A decimal >= 0 with at most 2 decimals and at most int_digits before the point. */
static bool is_decimal(const char *s, size_t n, int int_digits)
{
    size_t i = 0;
    while (i < n && s[i] >= '0' && s[i] <= '9') i++;
    if (i == 0 || i > (size_t)int_digits) return false;
    if (i == n) return true;
    if (s[i] != '.') return false;
    size_t frac = n - i - 1;
    if (frac < 1 || frac > 2) return false;
    for (size_t k = i + 1; k < n; k++)
        if (s[k] < '0' || s[k] > '9') return false;
    return true;
}

static bool is_score(const char *s, size_t n)
{
    if (!is_decimal(s, n, 2)) return false;
    return strtod(s, NULL) <= 10.0;
}

static bool is_uint32(const char *s, size_t n)
{
    if (n < 1 || n > 10) return false;
    unsigned long long v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return false;
        v = v * 10 + (unsigned)(s[i] - '0');
    }
    return v <= 4294967295ULL;
}

/* 1/0, true/false, Y/N in any case -> 1, 0; -1 otherwise. */
static int parse_bool(const char *s)
{
    if (!strcmp(s, "1") || !strcasecmp(s, "true") || !strcasecmp(s, "y")) return 1;
    if (!strcmp(s, "0") || !strcasecmp(s, "false") || !strcasecmp(s, "n")) return 0;
    return -1;
}

static size_t utf8_chars(const char *s, size_t n)
{
    size_t chars = 0;
    for (size_t i = 0; i < n; i++)
        if (((unsigned char)s[i] & 0xC0) != 0x80) chars++;
    return chars;
}

/* A value for a message: at most 40 bytes, cut on a character boundary. */
static const char *shown(const char *s, char *buf, size_t buflen)
{
    size_t n = strlen(s);
    size_t max = buflen - 4 < 40 ? buflen - 4 : 40;
    if (n <= max) { snprintf(buf, buflen, "%s", s); return buf; }
    size_t cut = max;
    while (cut > 0 && ((unsigned char)s[cut] & 0xC0) == 0x80) cut--;
    snprintf(buf, buflen, "%.*s...", (int)cut, s);
    return buf;
}

/* --- problems: the first IMPORT_MAX_PROBLEMS in (line, column) order --- */

typedef struct problem {
    long line;
    int column;
    char *message;
} problem;

typedef struct problem_list {
    problem *items;      /* sorted, at most IMPORT_MAX_PROBLEMS */
    int n;
    long long total;
} problem_list;

static int problem_cmp(long l1, int c1, long l2, int c2)
{
    if (l1 != l2) return l1 < l2 ? -1 : 1;
    return c1 < c2 ? -1 : c1 > c2;
}

static void problem_add(problem_list *pl, long line, int column, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void problem_add(problem_list *pl, long line, int column, const char *fmt, ...)
{
    pl->total++;
    if (!pl->items && !(pl->items = calloc(IMPORT_MAX_PROBLEMS, sizeof *pl->items))) return;
    if (pl->n == IMPORT_MAX_PROBLEMS) {
        problem *last = &pl->items[pl->n - 1];
        if (problem_cmp(line, column, last->line, last->column) >= 0) return;
        free(last->message);
        pl->n--;
    }
    char msg[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    char *copy = strdup(msg);
    if (!copy) return;
    int pos = pl->n;
    while (pos > 0 && problem_cmp(line, column, pl->items[pos - 1].line, pl->items[pos - 1].column) < 0) pos--;
    memmove(&pl->items[pos + 1], &pl->items[pos], (size_t)(pl->n - pos) * sizeof *pl->items);
    pl->items[pos] = (problem){ line, column, copy };
    pl->n++;
}

static void problem_list_free(problem_list *pl)
{
    for (int i = 0; i < pl->n; i++) free(pl->items[i].message);
    free(pl->items);
    *pl = (problem_list){ 0 };
}

static cJSON *problem_list_json(const problem_list *pl)
{
    cJSON *arr = cJSON_CreateArray();
    if (!arr) return NULL;
    for (int i = 0; i < pl->n; i++) {
        cJSON *o = cJSON_CreateObject();
        if (!o) break;
        cJSON_AddNumberToObject(o, "line", (double)pl->items[i].line);
        cJSON_AddNumberToObject(o, "column", pl->items[i].column);
        cJSON_AddStringToObject(o, "message", pl->items[i].message);
        cJSON_AddItemToArray(arr, o);
    }
    return arr;
}

/* --- the keys seen in a file (duplicate check, RO lookups) --- */

typedef struct key_entry {
    uint64_t hash;
    const char *key;         /* key bytes, NUL, then the payload (NUL-terminated) */
    size_t keylen;
    long line;
} key_entry;

typedef struct key_block { struct key_block *next; size_t used, cap; char data[]; } key_block;

typedef struct key_map {
    key_entry *slots;
    size_t cap, n;
    key_block *blocks;
} key_map;

static uint64_t hash_bytes(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < n; i++) h = (h ^ (unsigned char)s[i]) * 1099511628211ULL;
    return h ? h : 1;
}

static key_entry *key_find(const key_map *m, const char *key, size_t keylen, uint64_t h)
{
    if (!m->cap) return NULL;
    for (size_t i = h & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
        key_entry *e = &m->slots[i];
        if (!e->hash) return NULL;
        if (e->hash == h && e->keylen == keylen && memcmp(e->key, key, keylen) == 0) return e;
    }
}

static char *key_store(key_map *m, size_t need)
{
    if (!m->blocks || m->blocks->cap - m->blocks->used < need) {
        size_t cap = need > KEY_BLOCK ? need : KEY_BLOCK;
        key_block *b = malloc(sizeof *b + cap);
        if (!b) return NULL;
        b->next = m->blocks;
        b->used = 0;
        b->cap = cap;
        m->blocks = b;
    }
    char *p = m->blocks->data + m->blocks->used;
    m->blocks->used += need;
    return p;
}

/* Adds key (with an optional payload) seen on line. Returns the existing
 * entry when the key was seen before (nothing added), NULL when added, and
 * sets *oom on failure. */
static key_entry *key_add(key_map *m, const char *key, size_t keylen, const char *payload, long line, bool *oom)
{
    uint64_t h = hash_bytes(key, keylen);
    key_entry *found = key_find(m, key, keylen, h);
    if (found) return found;
    if ((m->n + 1) * 4 > m->cap * 3) {
        size_t cap = m->cap ? m->cap * 2 : 1024;
        key_entry *slots = calloc(cap, sizeof *slots);
        if (!slots) { *oom = true; return NULL; }
        for (size_t i = 0; i < m->cap; i++) {
            if (!m->slots[i].hash) continue;
            size_t j = m->slots[i].hash & (cap - 1);
            while (slots[j].hash) j = (j + 1) & (cap - 1);
            slots[j] = m->slots[i];
        }
        free(m->slots);
        m->slots = slots;
        m->cap = cap;
    }
    size_t plen = payload ? strlen(payload) : 0;
    char *p = key_store(m, keylen + plen + 2);
    if (!p) { *oom = true; return NULL; }
    memcpy(p, key, keylen);
    p[keylen] = '\0';
    memcpy(p + keylen + 1, payload ? payload : "", plen + 1);
    size_t j = h & (m->cap - 1);
    while (m->slots[j].hash) j = (j + 1) & (m->cap - 1);
    m->slots[j] = (key_entry){ h, p, keylen, line };
    m->n++;
    return NULL;
}

static const char *key_payload(const key_entry *e) { return e->key + e->keylen + 1; }

static void key_map_free(key_map *m)
{
    for (key_block *b = m->blocks, *next; b; b = next) { next = b->next; free(b); }
    free(m->slots);
    *m = (key_map){ 0 };
}

/* --- the job: one file being imported --- */

typedef struct import_job {
    app *app;
    const principal *who;
    const entity_def *e;
    const entity_sql *q;
    char label[256];                 /* file name or "upload", for the audit */
    db_conn *conn;
    bool in_txn;
    csv_reader *csv;
    /* header */
    bool have_header;
    int nfile_cols;
    int file_to_col[CSV_MAX_FIELDS]; /* file column -> entity column, -1 for none */
    int col_to_file[MAX_COLS];       /* entity column -> 1-based file column, 0 when absent */
    bool header_bad;
    /* the batch being collected */
    db_val *vals;                    /* BATCH_ROWS x (1 + ncols) */
    long *batch_lines;
    bool *batch_comeback_ok;         /* repair_orders: comeback settled by an earlier row of the file */
    int nbatch;
    char *arena;
    size_t arena_used, arena_cap;
    /* per file */
    key_map keys;                    /* natural keys -> line (repair_orders: payload vin + opened_at) */
    key_map vins;                    /* VINs touched (repair_orders, vehicle_sales) */
    rollup_touch *touched;
    int ntouched, touched_cap;
    long long rows, inserted, updated, unchanged;
    long long removed;               /* ro_labour / ro_parts lines the file did not repeat */
    bool ros_had_lines;              /* ro_labour / ro_parts: some RO named had lines before the file */
    bool defer_rollups;              /* the caller rebuilds the rollups after a bulk load */
    problem_list problems, scope_problems;
    bool csv_failed;
    bool fatal;                      /* a database or memory failure: stop */
    int fatal_status;
    char fatal_msg[512];             /* what failed, for the client (never MariaDB's text) */
    bool fatal_db;                   /* a statement failed (the log has MariaDB's text) */
    /* running the file again after a lost lock conflict (import_retry.h) */
    bool retryable;                  /* the failure was a deadlock or a lock wait timeout */
    int attempt;                     /* 1 for the first run of the file */
    import_spool *spool;             /* an upload's bytes, to read them again */
    char *replay_path;               /* or the file itself (the command line) */
    bool replaying;                  /* feeding from the spool: keep nothing again */
    key_map locked;                  /* stores whose row this transaction holds (FOR UPDATE) */
    char **lock_first;               /* a retry locks the stores the last attempt met, first */
    int nlock_first;
    bool read_view;                  /* a consistent read ran in this transaction already */
    bool batch_locking;              /* this batch reads the stored rows with locking reads */
    bool vehicles_locked;            /* holds the group-wide turn of the vehicle imports */
    /* where the time goes (seconds), for the log line */
    double t_stage, t_check, t_write, t_finish;
    /* progress */
    import_progress_fn progress;
    void *progress_ud;
} import_job;

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A failure that is not a statement's (memory, buffers): fmt is the client's. */
static void job_fatal(import_job *j, int status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void job_fatal(import_job *j, int status, const char *fmt, ...)
{
    if (j->fatal) return;
    j->fatal = true;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(j->fatal_msg, sizeof j->fatal_msg, fmt, ap);
    va_end(ap);
    j->fatal_status = status;
    if (j->conn && db_conn_lost(j->conn)) j->fatal_status = 503;
    log_error("import", "%s %s: %s", j->e->name, j->label, j->fatal_msg);
}

/* The MariaDB error number of a failure: the connection's, else the "(NNNN)"
 * that ends db.c's messages. */
static int failure_errno(db_conn *c, const char *err)
{
    int e = c ? db_errno(c) : 0;
    if (e) return e;
    const char *open = err ? strrchr(err, '(') : NULL;
    if (open) {
        char *end;
        long n = strtol(open + 1, &end, 10);
        if (end != open + 1 && *end == ')' && end[1] == '\0' && n > 0 && n < 100000) return (int)n;
    }
    return 0;
}

/* A statement failed while doing what fmt says: the log gets MariaDB's
 * text (err), the client only what was being done. A lost lock conflict
 * (deadlock, lock wait timeout) is marked retryable: the file runs again. */
static void job_db_fail(import_job *j, const char *err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void job_db_fail(import_job *j, const char *err, const char *fmt, ...)
{
    if (j->fatal) return;
    j->fatal = true;
    j->fatal_db = true;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(j->fatal_msg, sizeof j->fatal_msg, fmt, ap);
    va_end(ap);
    int e = failure_errno(j->conn, err);
    if (j->conn && db_conn_lost(j->conn)) {
        j->fatal_status = 503;
    } else if (db_errno_is_retryable(e)) {
        j->fatal_status = 503;
        j->retryable = true;
    } else {
        j->fatal_status = 500;
    }
    if (j->retryable)
        log_warn("import", "%s %s (attempt %d): %s: %s", j->e->name, j->label, j->attempt, j->fatal_msg, err);
    else
        log_error("import", "%s %s: %s: %s", j->e->name, j->label, j->fatal_msg, err);
}

static bool job_writing(const import_job *j)
{
    return !j->fatal && !j->csv_failed && !j->header_bad && j->problems.total == 0 && j->scope_problems.total == 0;
}

/* --- rollup bookkeeping --- */

static void touch_store(import_job *j, const char *store, const char *from, const char *to)
{
    if (!store) return;
    rollup_touch *t = NULL;
    for (int i = j->ntouched - 1; i >= 0; i--)
        if (strcmp(j->touched[i].store_code, store) == 0) { t = &j->touched[i]; break; }
    if (!t) {
        if (j->ntouched == j->touched_cap) {
            int cap = j->touched_cap ? j->touched_cap * 2 : 16;
            rollup_touch *p = realloc(j->touched, (size_t)cap * sizeof *p);
            if (!p) { job_fatal(j, 500, "out of memory"); return; }
            j->touched = p;
            j->touched_cap = cap;
        }
        t = &j->touched[j->ntouched++];
        memset(t, 0, sizeof *t);
        snprintf(t->store_code, sizeof t->store_code, "%s", store);
    }
    if (from && strlen(from) == 10 && (!t->from[0] || strcmp(from, t->from) < 0)) memcpy(t->from, from, 11);
    if (to && strlen(to) == 10 && (!t->to[0] || strcmp(to, t->to) > 0)) memcpy(t->to, to, 11);
}

/* Runs a (store, min date, max date) query and merges it. */
static void touch_from_query(import_job *j, const char *sql)
{
    char err[512];
    db_result *res = NULL;
    if (db_query(j->conn, sql, NULL, 0, &res, err, sizeof err) < 0) {
        job_db_fail(j, err, "reading the dates touched");
        return;
    }
    for (int r = 0; r < res->nrows; r++) touch_store(j, db_cell(res, r, 0), db_cell(res, r, 1), db_cell(res, r, 2));
    db_result_free(res);
}

static void touch_vin(import_job *j, const char *vin)
{
    bool oom = false;
    key_add(&j->vins, vin, strlen(vin), NULL, 0, &oom);
    if (oom) job_fatal(j, 500, "out of memory");
}

/* --- the header --- */

static void read_header(import_job *j, const csv_record *rec)
{
    const entity_def *e = j->e;
    j->have_header = true;
    j->nfile_cols = rec->nfields;
    for (int c = 0; c < e->ncols; c++) j->col_to_file[c] = 0;
    for (int f = 0; f < rec->nfields; f++) {
        j->file_to_col[f] = -1;
        const char *name = rec->fields[f];
        int col = -1;
        for (int c = 0; c < e->ncols; c++)
            if (strcmp(e->cols[c].name, name) == 0) { col = c; break; }
        char v[64];
        if (col < 0) {
            int near = -1;
            for (int c = 0; c < e->ncols; c++)
                if (strcasecmp(e->cols[c].name, name) == 0) near = c;
            if (near >= 0)
                problem_add(&j->problems, rec->line, f + 1, "unknown column '%s' (column names are lower case: %s)",
                            shown(name, v, sizeof v), e->cols[near].name);
            else if (name[0] == '\0')
                problem_add(&j->problems, rec->line, f + 1, "empty column name in the header");
            else
                problem_add(&j->problems, rec->line, f + 1, "unknown column '%s' for %s", shown(name, v, sizeof v), e->name);
            j->header_bad = true;
            continue;
        }
        if (j->col_to_file[col]) {
            problem_add(&j->problems, rec->line, f + 1, "column '%s' appears twice in the header (also column %d)",
                        name, j->col_to_file[col]);
            j->header_bad = true;
            continue;
        }
        j->col_to_file[col] = f + 1;
        j->file_to_col[f] = col;
    }
    for (int c = 0; c < e->ncols; c++) {
        if (e->cols[c].required && !j->col_to_file[c]) {
            problem_add(&j->problems, rec->line, 1, "missing required column '%s'", e->cols[c].name);
            j->header_bad = true;
        }
    }
}

/* --- one row --- */

/* Copies n bytes to the batch arena, NUL-terminated. */
static const char *arena_put(import_job *j, const char *s, size_t n)
{
    if (j->arena_used + n + 1 > j->arena_cap) return NULL;
    char *p = j->arena + j->arena_used;
    memcpy(p, s, n);
    p[n] = '\0';
    j->arena_used += n + 1;
    return p;
}

static const char *enum_list(const char *const *values, char *buf, size_t len)
{
    size_t pos = 0;
    buf[0] = '\0';
    for (int i = 0; values[i]; i++) {
        int w = snprintf(buf + pos, len - pos, "%s%s", i ? ", " : "", values[i]);
        if (w < 0 || (size_t)w >= len - pos) break;
        pos += (size_t)w;
    }
    return buf;
}

/* Checks one value and puts its normalised form (copied to the batch arena)
 * or DB_NULL in *out; false after adding a problem. */
static bool check_value(import_job *j, long line, int fcol, const col_def *cd, const char *s, size_t n, db_val *out)
{
    char v[64], list[200], ts[20];
    const char *norm = s;
    size_t normlen = n;
    if (n == 0) {
        if (cd->required) {
            problem_add(&j->problems, line, fcol, "%s: a value is required", cd->name);
            return false;
        }
        if (cd->type == T_BOOL && strcmp(cd->name, "from_stock") == 0) {   /* empty means 1 */
            norm = "1";
            normlen = 1;
        } else {
            *out = DB_NULL;
            return true;
        }
    } else {
        switch (cd->type) {
        case T_CODE:
            if (!is_code(s, n)) {
                problem_add(&j->problems, line, fcol, "%s: '%s' is not a valid code (1 to 32 of A-Z a-z 0-9 _ -, no spaces)",
                            cd->name, shown(s, v, sizeof v));
                return false;
            }
            break;
        case T_TEXT:
            if (utf8_chars(s, n) > (size_t)cd->maxlen) {
                problem_add(&j->problems, line, fcol, "%s: longer than %d characters", cd->name, cd->maxlen);
                return false;
            }
            break;
        case T_DATE:
            if (!is_date(s, n)) {
                problem_add(&j->problems, line, fcol, "%s: '%s' is not a date (YYYY-MM-DD)", cd->name, shown(s, v, sizeof v));
                return false;
            }
            break;
        case T_TS:
            if (!norm_timestamp(s, n, ts)) {
                problem_add(&j->problems, line, fcol, "%s: '%s' is not a timestamp (YYYY-MM-DD HH:MM or YYYY-MM-DD HH:MM:SS)",
                            cd->name, shown(s, v, sizeof v));
                return false;
            }
            norm = ts;
            normlen = 19;
            break;
        case T_MONEY:
        case T_QTY:
            if (!is_decimal(s, n, cd->type == T_MONEY ? 12 : 10)) {
                problem_add(&j->problems, line, fcol,
                            "%s: '%s' is not a valid amount (a number >= 0 with at most 2 decimals, '.' as the decimal point, "
                            "no thousands separators)", cd->name, shown(s, v, sizeof v));
                return false;
            }
            break;
        case T_UINT:
            if (!is_uint32(s, n)) {
                problem_add(&j->problems, line, fcol, "%s: '%s' is not a whole number >= 0", cd->name, shown(s, v, sizeof v));
                return false;
            }
            break;
        case T_BOOL: {
            int b = parse_bool(s);
            if (b < 0) {
                problem_add(&j->problems, line, fcol, "%s: '%s' is not a boolean (1/0, true/false, Y/N)", cd->name,
                            shown(s, v, sizeof v));
                return false;
            }
            norm = b ? "1" : "0";
            normlen = 1;
            break;
        }
        case T_ENUM: {
            bool ok = false;
            for (int i = 0; cd->values[i] && !ok; i++) ok = strcmp(cd->values[i], s) == 0;
            if (!ok) {
                problem_add(&j->problems, line, fcol, "%s: '%s' is not one of: %s", cd->name, shown(s, v, sizeof v),
                            enum_list(cd->values, list, sizeof list));
                return false;
            }
            break;
        }
        case T_VIN:
            if (!is_vin(s, n)) {
                problem_add(&j->problems, line, fcol,
                            "%s: '%s' is not a VIN (17 characters of A-H J-N P R-Z 0-9, upper case; no I, O or Q)",
                            cd->name, shown(s, v, sizeof v));
                return false;
            }
            break;
        case T_SCORE:
            if (!is_score(s, n)) {
                problem_add(&j->problems, line, fcol, "%s: '%s' is not a score from 0 to 10 (at most 2 decimals)", cd->name,
                            shown(s, v, sizeof v));
                return false;
            }
            break;
        case T_MONTH:
            if (!is_month(s, n)) {
                problem_add(&j->problems, line, fcol, "%s: '%s' is not a month (YYYY-MM)", cd->name, shown(s, v, sizeof v));
                return false;
            }
            break;
        }
    }
    const char *p = arena_put(j, norm, normlen);
    if (!p) {
        job_fatal(j, 500, "batch buffer exhausted");
        return false;
    }
    *out = DB_STRN(p, normlen);
    return true;
}

static const char *val_str(const db_val *v) { return v->type == DB_T_STR ? v->s : NULL; }

static void flush_batch(import_job *j);

/* Rules between the columns of one row. */
static bool check_row_rules(import_job *j, long line, const db_val *row)
{
    const entity_def *e = j->e;
    bool ok = true;
    if (entity_is(e, "repair_orders")) {
        const char *opened = val_str(&row[RO_OPENED]), *closed = val_str(&row[RO_CLOSED]);
        if (opened && closed && strcmp(closed, opened) < 0) {
            problem_add(&j->problems, line, j->col_to_file[RO_CLOSED], "closed_at: %s is before opened_at %s", closed, opened);
            ok = false;
        }
        const char *payer = val_str(&row[RO_PAYER]);
        if (payer && strcmp(payer, "insurer") == 0 && !val_str(&row[RO_INSURER])) {
            problem_add(&j->problems, line, j->col_to_file[RO_INSURER] ? j->col_to_file[RO_INSURER] : j->col_to_file[RO_PAYER],
                        "insurer_code: required when payer is insurer");
            ok = false;
        }
    } else if (entity_is(e, "insurance_policies")) {
        const char *starts = val_str(&row[POLICY_STARTS]), *ends = val_str(&row[POLICY_ENDS]);
        if (starts && ends && strcmp(ends, starts) <= 0) {
            problem_add(&j->problems, line, j->col_to_file[POLICY_ENDS], "ends_on: %s is not after starts_on %s", ends, starts);
            ok = false;
        }
    } else if (entity_is(e, "follow_up_calls")) {
        const char *reached = val_str(&row[FOLLOWUP_REACHED]), *complaint = val_str(&row[FOLLOWUP_COMPLAINT]);
        if (complaint && complaint[0] == '1' && reached && reached[0] == '0') {
            problem_add(&j->problems, line, j->col_to_file[FOLLOWUP_COMPLAINT],
                        "complaint: a call with a complaint must have reached the customer (reached = 1)");
            ok = false;
        }
    }
    return ok;
}

/* Builds the natural key "a\x1fb\x1fc" of a row. */
static size_t row_key(const entity_def *e, const db_val *row, char *buf, size_t len)
{
    size_t pos = 0;
    for (int k = 0; k < e->nkey; k++) {
        const char *v = row[k].type == DB_T_STR ? row[k].s : "";
        size_t n = strlen(v);
        if (pos + (k ? 1 : 0) + n >= len) return len;
        if (k) buf[pos++] = '\x1f';
        memcpy(buf + pos, v, n);
        pos += n;
    }
    buf[pos] = '\0';
    return pos;
}

static const char *row_key_text(const entity_def *e, const db_val *row, char *buf, size_t len)
{
    size_t pos = 0;
    buf[0] = '\0';
    for (int k = 0; k < e->nkey; k++) {
        int w = snprintf(buf + pos, len - pos, "%s%s=%s", k ? ", " : "", e->cols[k].name, row[k].type == DB_T_STR ? row[k].s : "");
        if (w < 0 || (size_t)w >= len - pos) break;
        pos += (size_t)w;
    }
    return buf;
}

static void read_row(import_job *j, const csv_record *rec)
{
    const entity_def *e = j->e;
    j->rows++;
    if (rec->nfields != j->nfile_cols) {
        problem_add(&j->problems, rec->line, (rec->nfields < j->nfile_cols ? rec->nfields : j->nfile_cols) + 1,
                    "this row has %d fields but the header has %d", rec->nfields, j->nfile_cols);
        return;
    }
    if (j->header_bad) return;
    if (j->arena_cap - j->arena_used < CSV_MAX_RECORD + 8u * MAX_COLS + 64) flush_batch(j);
    if (j->fatal) return;
    size_t arena_mark = j->arena_used;
    db_val *row = &j->vals[(size_t)j->nbatch * (size_t)(1 + e->ncols)];
    row[0] = DB_INT(rec->line);
    db_val *cols = row + 1;
    bool ok = true;
    for (int c = 0; c < e->ncols; c++) {
        int f = j->col_to_file[c];
        const char *s = f ? rec->fields[f - 1] : "";
        size_t n = f ? rec->lens[f - 1] : 0;
        if (!check_value(j, rec->line, f ? f : 1, &e->cols[c], s, n, &cols[c])) ok = false;
        if (j->fatal) return;
    }
    if (ok) ok = check_row_rules(j, rec->line, cols);
    /* scope: a row of a store the caller may not import */
    if (e->has_store && cols[0].type == DB_T_STR && j->who && !j->who->all_stores &&
        !principal_sees_store(j->who, cols[0].s)) {
        char v[64];
        problem_add(&j->scope_problems, rec->line, j->col_to_file[0],
                    "store_code: store '%s' is outside the stores this token may import", shown(cols[0].s, v, sizeof v));
        ok = false;
    }
    /* the same key twice in the file (checked whenever the key itself is valid) */
    bool key_valid = true;
    for (int k = 0; k < e->nkey; k++)
        if (cols[k].type != DB_T_STR) key_valid = false;
    if (key_valid) {
        char key[200];
        size_t keylen = row_key(e, cols, key, sizeof key);
        char payload[48] = "";
        if (ok && entity_is(e, "repair_orders"))
            snprintf(payload, sizeof payload, "%s\x1f%s", cols[RO_VIN].s, cols[RO_OPENED].s);
        bool oom = false;
        key_entry *seen = key_add(&j->keys, key, keylen, payload, rec->line, &oom);
        if (oom) { job_fatal(j, 500, "out of memory"); return; }
        if (seen) {
            char kt[200];
            problem_add(&j->problems, rec->line, j->col_to_file[0], "duplicate key (%s): the same key is on line %ld",
                        row_key_text(e, cols, kt, sizeof kt), seen->line);
            ok = false;
        }
    }
    if (!ok) { j->arena_used = arena_mark; return; }
    /* comeback_of naming an earlier row of this file: settled here */
    bool comeback_ok = false;
    if (entity_is(e, "repair_orders") && cols[RO_COMEBACK].type == DB_T_STR) {
        char ck[80];
        int cn = snprintf(ck, sizeof ck, "%s\x1f%s", cols[0].s, cols[RO_COMEBACK].s);
        key_entry *orig = key_find(&j->keys, ck, (size_t)cn, hash_bytes(ck, (size_t)cn));
        if (orig && orig->line != rec->line) {
            const char *pl = key_payload(orig);      /* vin \x1f opened_at ("" when that row was invalid) */
            if (strlen(pl) < 19 || strncmp(pl, cols[RO_VIN].s, 17) != 0 || strcmp(pl + 18, cols[RO_OPENED].s) >= 0) {
                problem_add(&j->problems, rec->line, j->col_to_file[RO_COMEBACK],
                            "comeback_of '%s' is not an earlier repair order of store %s for the same vehicle (see line %ld)",
                            cols[RO_COMEBACK].s, cols[0].s, orig->line);
                j->arena_used = arena_mark;
                return;
            }
            comeback_ok = true;
        }
    }
    if (entity_has_vins(e)) touch_vin(j, cols[RO_VIN].s);     /* vin is column 2 of each */
    if (e->has_store && !e->date_lo) touch_store(j, cols[0].s, NULL, NULL);
    j->batch_lines[j->nbatch] = rec->line;
    j->batch_comeback_ok[j->nbatch] = comeback_ok;
    j->nbatch++;
    if (j->nbatch == BATCH_ROWS || j->arena_used > BATCH_ARENA) flush_batch(j);
}

static int on_record(void *ud, const csv_record *rec)
{
    import_job *j = ud;
    if (!j->have_header) read_header(j, rec);
    else read_row(j, rec);
    return j->fatal ? 1 : 0;
}

/* --- a batch through the staging table --- */

static int batch_index_of_line(const import_job *j, long line)
{
    int lo = 0, hi = j->nbatch - 1;
    while (lo <= hi) {
        int mid = (lo + hi) / 2;
        if (j->batch_lines[mid] == line) return mid;
        if (j->batch_lines[mid] < line) lo = mid + 1;
        else hi = mid - 1;
    }
    return -1;
}

static int col_index(const entity_def *e, const char *name)
{
    for (int c = 0; c < e->ncols; c++)
        if (strcmp(e->cols[c].name, name) == 0) return c;
    return 0;
}

/* A parent check's message with its %s filled: the value, then the store
 * (never a printf format, so no text of a file can reach one). */
static void fill_message(char *out, size_t cap, const char *tmpl, const char *value, const char *store)
{
    size_t n = 0;
    int filled = 0;
    for (const char *p = tmpl; *p && n + 1 < cap; p++) {
        if (p[0] == '%' && p[1] == 's' && filled < 2) {
            const char *v = filled++ == 0 ? value : store;
            size_t k = strlen(v);
            if (k > cap - 1 - n) k = cap - 1 - n;
            memcpy(out + n, v, k);
            n += k;
            p++;
        } else {
            out[n++] = *p;
        }
    }
    out[n] = '\0';
}

static void check_parents(import_job *j)
{
    const entity_def *e = j->e;
    char err[512];
    for (int p = 0; p < e->nparents && !j->fatal; p++) {
        const parent_check *pc = &e->parents[p];
        bool is_comeback = strcmp(pc->column, "comeback_of") == 0;
        db_result *res = NULL;
        if (db_query(j->conn, pc->sql, NULL, 0, &res, err, sizeof err) < 0) {
            job_db_fail(j, err, "checking %s", pc->column);
            return;
        }
        int fcol = j->col_to_file[col_index(e, pc->column)];
        for (int r = 0; r < res->nrows; r++) {
            long line = (long)db_cell_int(res, r, 0);
            if (is_comeback) {
                int bi = batch_index_of_line(j, line);
                if (bi >= 0 && j->batch_comeback_ok[bi]) continue;
            }
            char v[64];
            const char *value = db_cell(res, r, 1) ? db_cell(res, r, 1) : "";
            const char *store = res->ncols > 2 && db_cell(res, r, 2) ? db_cell(res, r, 2) : "";
            char msg[300];
            fill_message(msg, sizeof msg, pc->message, shown(value, v, sizeof v), store);
            problem_add(&j->problems, line, fcol, "%s: %s", pc->column, msg);
        }
        db_result_free(res);
    }
}

/* A lock this import could not get in time: like a lock wait timeout. */
static void job_conflict(import_job *j, const char *what)
{
    if (j->fatal) return;
    j->fatal = j->fatal_db = j->retryable = true;
    j->fatal_status = 503;
    snprintf(j->fatal_msg, sizeof j->fatal_msg, "%s", what);
    log_warn("import", "%s %s (attempt %d): %s: the wait timed out", j->e->name, j->label, j->attempt, what);
}

/* The rollups of repair orders, vehicle sales and policies follow vehicles
 * across stores (visits, states, retention, insurance matches, by VIN): two
 * such imports of different stores computing them from their own snapshots
 * would each miss the other's rows. They take turns group-wide, with a named
 * lock taken before the first read of the transaction (and before any store
 * row, so the order is always the same); the demo loader, which rebuilds the
 * rollups after its load, does not need it. */
static const char SQL_VEHICLES_LOCK[] = "SELECT GET_LOCK('fourscore.import.vehicles', @@innodb_lock_wait_timeout)";
static const char SQL_VEHICLES_UNLOCK[] = "SELECT RELEASE_LOCK('fourscore.import.vehicles')";

static void lock_vehicles(import_job *j)
{
    if (j->vehicles_locked || j->defer_rollups || !entity_has_vins(j->e) || j->fatal) return;
    char err[512];
    db_result *res = NULL;
    if (db_query(j->conn, SQL_VEHICLES_LOCK, NULL, 0, &res, err, sizeof err) < 0) {
        job_db_fail(j, err, "waiting for other imports of vehicles");
        return;
    }
    bool got = res->nrows == 1 && db_cell(res, 0, 0) && strcmp(db_cell(res, 0, 0), "1") == 0;
    db_result_free(res);
    if (!got) { job_conflict(j, "waiting for other imports of vehicles"); return; }
    j->vehicles_locked = true;
}

static void unlock_vehicles(import_job *j)
{
    if (!j->vehicles_locked) return;
    j->vehicles_locked = false;
    if (db_conn_lost(j->conn)) return;          /* the server let it go with the session */
    char err[512];
    db_result *res = NULL;
    if (db_query(j->conn, SQL_VEHICLES_UNLOCK, NULL, 0, &res, err, sizeof err) < 0) {
        /* never hand the pool a session holding it: a lost connection is closed */
        log_error("import", "releasing the vehicle imports' lock: %s", err);
        return;
    }
    db_result_free(res);
}

/* Rolls back (if a transaction is open) and gives up the vehicle turn. */
static void job_rollback(import_job *j)
{
    if (j->in_txn) db_rollback(j->conn);
    j->in_txn = false;
    unlock_vehicles(j);
}

/* Holds the row of store (once per transaction); *late is set when that
 * happens after the transaction's snapshot was taken. */
static void lock_store(import_job *j, const char *store, bool *late)
{
    size_t n = strlen(store);
    if (key_find(&j->locked, store, n, hash_bytes(store, n))) return;
    char err[512];
    db_val p[1] = { DB_STRN(store, n) };
    db_result *res = NULL;
    if (db_query(j->conn, SQL_LOCK_STORE, p, 1, &res, err, sizeof err) < 0) {
        job_db_fail(j, err, "waiting for other imports of store %.32s", store);
        return;
    }
    db_result_free(res);
    bool oom = false;
    key_add(&j->locked, store, n, NULL, 0, &oom);
    if (oom) { job_fatal(j, 500, "out of memory"); return; }
    if (j->read_view) *late = true;
}

/* Locks the stores of the staged batch in key order; a store first met after
 * the snapshot makes the batch read the stored rows with locking reads. */
static void lock_batch_stores(import_job *j)
{
    j->batch_locking = false;
    lock_vehicles(j);
    if (j->fatal || !j->e->has_store || j->e->global) return;
    char err[512];
    db_result *res = NULL;
    if (db_query(j->conn, SQL_STAGE_STORES, NULL, 0, &res, err, sizeof err) < 0) {
        job_db_fail(j, err, "reading the stores of the file");
        return;
    }
    for (int r = 0; r < res->nrows && !j->fatal; r++)
        if (db_cell(res, r, 0)) lock_store(j, db_cell(res, r, 0), &j->batch_locking);
    db_result_free(res);
}

static void write_batch(import_job *j)
{
    const entity_def *e = j->e;
    const entity_sql *q = j->q;
    char err[512];
    db_result *res = NULL;
    /* RO lines: first record the ROs named; a batch whose ROs all had no
     * lines before the file (the usual case: new ROs) cannot meet a stored
     * line, so the lookup of existing rows is skipped */
    bool may_exist = true;
    if (entity_is_ro_lines(e)) {
        unsigned long long keyed = 0;
        if (db_exec(j->conn, q->stage_ros, NULL, 0, NULL, err, sizeof err) < 0 ||
            db_exec(j->conn, SQL_STAGE_KEYS, NULL, 0, &keyed, err, sizeof err) < 0) {
            job_db_fail(j, err, "recording the repair orders named");
            return;
        }
        may_exist = keyed > 0;
        if (may_exist) j->ros_had_lines = true;
    }
    long long existing = 0, same = 0;
    if (may_exist) {
        if (db_query(j->conn, j->batch_locking ? q->count_existing_locking : q->count_existing, NULL, 0, &res,
                     err, sizeof err) < 0) {
            job_db_fail(j, err, "counting existing rows");
            return;
        }
        existing = res->nrows ? db_cell_int(res, 0, 0) : 0;
        same = res->nrows ? db_cell_int(res, 0, 1) : 0;
        db_result_free(res);
    }
    if (q->old_dates) touch_from_query(j, j->batch_locking ? q->old_dates_locking : q->old_dates);
    if (q->new_dates) touch_from_query(j, q->new_dates);
    if (q->old_vins && !j->fatal) {
        if (db_query(j->conn, j->batch_locking ? q->old_vins_locking : q->old_vins, NULL, 0, &res, err, sizeof err) < 0) {
            job_db_fail(j, err, "reading replaced VINs");
            return;
        }
        for (int r = 0; r < res->nrows; r++) touch_vin(j, db_cell(res, r, 0));
        db_result_free(res);
    }
    if (j->fatal) return;
    unsigned long long affected = 0;
    if (same > 0 && same < j->nbatch && db_exec(j->conn, q->drop_unchanged, NULL, 0, NULL, err, sizeof err) < 0) {
        job_db_fail(j, err, "setting aside unchanged rows");
        return;
    }
    if (same < j->nbatch && db_exec(j->conn, q->upsert, NULL, 0, &affected, err, sizeof err) < 0) {
        job_db_fail(j, err, "writing %s", e->name);
        return;
    }
    j->inserted += j->nbatch - existing;
    j->updated += existing - same;
    j->unchanged += same;
}

static void flush_batch(import_job *j)
{
    if (j->nbatch == 0 || j->fatal) { j->nbatch = 0; j->arena_used = 0; return; }
    char err[512];
    unsigned long long affected;
    double t0 = mono_s();
    if (db_exec(j->conn, SQL_CLEAR_STAGE, NULL, 0, NULL, err, sizeof err) < 0 ||
        db_exec_bulk(j->conn, j->q->insert_stage, j->vals, 1 + j->e->ncols, j->nbatch, &affected, err, sizeof err) < 0) {
        job_db_fail(j, err, "staging rows");
    } else {
        lock_batch_stores(j);
        j->read_view = true;             /* the parent checks read under a snapshot from here on */
        double t1 = mono_s();
        if (!j->fatal) check_parents(j);
        double t2 = mono_s();
        if (job_writing(j)) write_batch(j);
        j->t_stage += t1 - t0;
        j->t_check += t2 - t1;
        j->t_write += mono_s() - t2;
    }
    j->nbatch = 0;
    j->arena_used = 0;
    if (j->progress) j->progress(j->progress_ud, j->rows, csv_bytes(j->csv));
}

/* --- job lifetime --- */

static void set_result_error(import_result *res, int status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void set_result_error(import_result *res, int status, const char *code, const char *fmt, ...)
{
    res->status = status;
    snprintf(res->code, sizeof res->code, "%s", code);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(res->message, sizeof res->message, fmt, ap);
    va_end(ap);
}

/* 503: the database cannot be reached; the log has why. */
static void set_unavailable(import_result *res)
{
    set_result_error(res, 503, "unavailable", "the database is not available; nothing was written: send the file "
                     "again in a minute (if this lasts, tell the group's IT: the server log has the details)");
    res->retry_after = IMPORT_RETRY_AFTER_S;
}

static void job_free(import_job *j)
{
    if (!j) return;
    if (j->conn) {
        job_rollback(j);
        char err[256];
        if (db_exec_text(j->conn, SQL_DROP_STAGE, err, sizeof err) < 0)
            log_warn("import", "dropping the staging tables: %s", err);
        db_release(j->app->db, j->conn);
    }
    csv_free(j->csv);
    free(j->vals);
    free(j->batch_lines);
    free(j->batch_comeback_ok);
    free(j->arena);
    key_map_free(&j->keys);
    key_map_free(&j->vins);
    key_map_free(&j->locked);
    for (int i = 0; i < j->nlock_first; i++) free(j->lock_first[i]);
    free(j->lock_first);
    import_spool_free(j->spool);
    free(j->replay_path);
    free(j->touched);
    problem_list_free(&j->problems);
    problem_list_free(&j->scope_problems);
    free(j);
}

/* The connection made ready for a file: fresh staging tables, a transaction,
 * and (on a retry) the stores the last attempt met locked first, in key
 * order. 0, or -1 with err (the job's own failure already set when a lock
 * could not be had). */
static int job_prepare_conn(import_job *j, char *err, size_t errlen)
{
    if (db_exec_text(j->conn, SQL_DROP_STAGE, err, errlen) < 0 ||
        db_exec_text(j->conn, SQL_HEAP_SIZE, err, errlen) < 0 ||
        db_exec_text(j->conn, j->q->create_stage, err, errlen) < 0 ||
        (entity_is_ro_lines(j->e) && (db_exec_text(j->conn, SQL_CREATE_ROS, err, errlen) < 0 ||
                                      db_exec_text(j->conn, SQL_CREATE_KEYS, err, errlen) < 0)) ||
        db_begin(j->conn, err, errlen) < 0)
        return -1;
    j->in_txn = true;
    if (j->attempt > 1) lock_vehicles(j);     /* a first attempt takes it with its first batch */
    bool late = false;
    for (int i = 0; i < j->nlock_first && !j->fatal; i++) lock_store(j, j->lock_first[i], &late);
    if (j->fatal) {
        snprintf(err, errlen, "%s", j->fatal_msg);
        return -1;
    }
    return 0;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Back to the state before the first byte of the file, on a fresh
 * transaction: every count, key, problem and store touched is forgotten (the
 * next attempt counts from scratch against what is committed then). */
static int job_restart(import_job *j)
{
    job_rollback(j);
    /* the stores met so far are locked first next time, in key order */
    char **first = j->locked.n ? calloc(j->locked.n, sizeof *first) : NULL;
    int nfirst = 0;
    for (size_t i = 0; first && i < j->locked.cap; i++)
        if (j->locked.slots[i].hash && !(first[nfirst++] = strdup(j->locked.slots[i].key))) nfirst--;
    if (first) qsort(first, (size_t)nfirst, sizeof *first, cmp_str);
    for (int i = 0; i < j->nlock_first; i++) free(j->lock_first[i]);
    free(j->lock_first);
    j->lock_first = first;
    j->nlock_first = nfirst;
    key_map_free(&j->locked);
    key_map_free(&j->keys);
    key_map_free(&j->vins);
    problem_list_free(&j->problems);
    problem_list_free(&j->scope_problems);
    csv_free(j->csv);
    j->csv = csv_new(0, 0, on_record, j);
    j->have_header = j->header_bad = j->csv_failed = false;
    j->nfile_cols = 0;
    j->nbatch = 0;
    j->arena_used = 0;
    j->ntouched = 0;
    j->rows = j->inserted = j->updated = j->unchanged = j->removed = 0;
    j->ros_had_lines = j->read_view = j->batch_locking = false;
    j->fatal = j->fatal_db = j->retryable = false;
    j->fatal_status = 0;
    j->fatal_msg[0] = '\0';
    if (!j->csv) {
        job_fatal(j, 500, "out of memory");
        return -1;
    }
    char err[512];
    if (job_prepare_conn(j, err, sizeof err) < 0) {
        job_db_fail(j, err, "preparing the next attempt");
        return -1;
    }
    return 0;
}

import_job *import_job_new(struct app *a, const struct principal *who, const char *entity, const char *label,
                           import_result *res)
{
    memset(res, 0, sizeof *res);
    const entity_def *e = entity_find(entity);
    if (!e) {
        char list[400];
        size_t pos = 0;
        list[0] = '\0';
        for (int i = 0; import_entities[i]; i++) {
            int w = snprintf(list + pos, sizeof list - pos, "%s%s", i ? ", " : "", import_entities[i]);
            if (w < 0 || (size_t)w >= sizeof list - pos) break;
            pos += (size_t)w;
        }
        set_result_error(res, 404, "unknown_entity", "unknown entity '%.60s'; one of: %s", entity, list);
        return NULL;
    }
    if (who && !auth_may_import(who, e->name)) {
        if (e->global) set_result_error(res, 403, "forbidden", "only admins and all-store tokens may import %s", e->name);
        else set_result_error(res, 403, "forbidden", "only admins and uploader tokens may import");
        return NULL;
    }
    const entity_sql *q = entity_sql_of(e);
    import_job *j = calloc(1, sizeof *j);
    if (!q || !j) {
        free(j);
        set_result_error(res, 500, "internal", "out of memory");
        return NULL;
    }
    j->app = a;
    j->who = who;
    j->e = e;
    j->q = q;
    snprintf(j->label, sizeof j->label, "%s", label ? label : "upload");
    j->arena_cap = BATCH_ARENA + CSV_MAX_RECORD + 8u * MAX_COLS + 4096;
    j->vals = calloc((size_t)BATCH_ROWS * (size_t)(1 + e->ncols), sizeof *j->vals);
    j->batch_lines = calloc(BATCH_ROWS, sizeof *j->batch_lines);
    j->batch_comeback_ok = calloc(BATCH_ROWS, sizeof *j->batch_comeback_ok);
    j->arena = malloc(j->arena_cap);
    j->csv = csv_new(0, 0, on_record, j);
    if (!j->vals || !j->batch_lines || !j->batch_comeback_ok || !j->arena || !j->csv) {
        job_free(j);
        set_result_error(res, 500, "internal", "out of memory");
        return NULL;
    }
    char err[512];
    j->conn = db_acquire(a->db, ACQUIRE_MS, err, sizeof err);
    if (!j->conn) {
        log_error("import", "%s %s: no database connection: %s", e->name, j->label, err);
        job_free(j);
        set_unavailable(res);
        return NULL;
    }
    j->attempt = 1;
    if (job_prepare_conn(j, err, sizeof err) < 0) {
        int status = db_conn_lost(j->conn) ? 503 : 500;
        log_error("import", "preparing the import of %s: %s", e->name, err);
        job_free(j);
        if (status == 503) set_unavailable(res);
        else set_result_error(res, 500, "internal", "the import could not be prepared (a database error; the server log "
                              "has the details); nothing was written");
        return NULL;
    }
    return j;
}

void import_job_set_progress(import_job *j, import_progress_fn fn, void *ud)
{
    j->progress = fn;
    j->progress_ud = ud;
}

/* Keep the bytes of an upload while a second attempt may need them. */
static bool job_needs_spool(const import_job *j)
{
    return !j->replay_path && !j->replaying && !j->csv_failed && !j->header_bad && j->problems.total == 0 &&
           j->scope_problems.total == 0 && !(j->fatal && !j->retryable);
}

static bool job_replayable(const import_job *j) { return j->replay_path || import_spool_ok(j->spool); }

/* The bytes through the CSV reader (and so the checks and the writes). */
static int job_process(import_job *j, const char *data, size_t len)
{
    if (j->fatal || j->csv_failed) return -1;
    int rc = csv_feed(j->csv, data, len);
    if (rc < 0) {
        const csv_error *ce = csv_last_error(j->csv);
        problem_add(&j->problems, ce->line, ce->column, "%s (character %ld of the line)", ce->message, ce->char_col);
        j->csv_failed = true;
        return -1;
    }
    return j->fatal ? -1 : 0;
}

static int cmp_touch(const void *a, const void *b)
{
    return strcmp(((const rollup_touch *)a)->store_code, ((const rollup_touch *)b)->store_code);
}

/* The end of the file: the whole-file rules, rollups, audit, commit. */
static void finish_writes(import_job *j)
{
    const entity_def *e = j->e;
    char err[512];
    if (entity_is_ro_lines(e)) {
        /* only an RO that had lines before the file can lose some */
        unsigned long long removed = 0;
        if (j->ros_had_lines && db_exec(j->conn, j->q->ro_lines_delete, NULL, 0, &removed, err, sizeof err) < 0)
            job_db_fail(j, err, "removing the lines the file did not repeat");
        j->removed = (long long)removed;
        /* the business dates of the named ROs, for the rollups (only when something changed) */
        if (!j->fatal && (j->inserted || j->updated || j->removed)) touch_from_query(j, SQL_RO_DATES);
    }
    if (entity_is(e, "payments")) {
        for (int t = 0; t < j->ntouched && !j->fatal; t++) {
            db_val p[2] = { DB_STR(j->touched[t].store_code), DB_STR(j->touched[t].store_code) };
            db_result *res = NULL;
            if (db_query(j->conn, SQL_OVERPAID, p, 2, &res, err, sizeof err) < 0) {
                job_db_fail(j, err, "checking payments against invoices");
                break;
            }
            for (int r = 0; r < res->nrows; r++) {
                char key[80];
                int kn = snprintf(key, sizeof key, "%s\x1f%s", j->touched[t].store_code, db_cell(res, r, 0));
                key_entry *ke = key_find(&j->keys, key, (size_t)kn, hash_bytes(key, (size_t)kn));
                if (!ke) continue;     /* a payment the file did not name */
                problem_add(&j->problems, ke->line, j->col_to_file[PAYMENT_AMOUNT],
                            "amount: %s exceeds what is left open on invoice %s (%s, counting its other payments)",
                            db_cell(res, r, 2), db_cell(res, r, 1), db_cell(res, r, 3));
            }
            db_result_free(res);
        }
    }
    if (!job_writing(j)) return;
    /* rollups, caches, audit; the stores in key order, as every import refreshes them */
    if (j->ntouched > 1) qsort(j->touched, (size_t)j->ntouched, sizeof *j->touched, cmp_touch);
    const char **vins = NULL;
    if (j->vins.n) {
        vins = malloc(j->vins.n * sizeof *vins);
        if (!vins) { job_fatal(j, 500, "out of memory"); return; }
        size_t k = 0;
        for (size_t i = 0; i < j->vins.cap; i++)
            if (j->vins.slots[i].hash) vins[k++] = j->vins.slots[i].key;
    }
    rollup_scope scope = { .entity = e->name, .touched = j->touched, .ntouched = j->ntouched,
                           .vins = vins, .nvins = (int)j->vins.n };
    /* a file that changed nothing leaves the derived rows as they are */
    bool changed = j->inserted || j->updated || j->removed;
    int rc = changed && !j->defer_rollups ? rollup_refresh(j->conn, &scope, err, sizeof err) : 0;
    free(vins);
    if (rc < 0) { job_db_fail(j, err, "refreshing rollups"); return; }
    if (data_generation_bump(j->conn, err, sizeof err) < 0) { job_db_fail(j, err, "invalidating KPI caches"); return; }
    char detail[400];
    snprintf(detail, sizeof detail, "{\"file\":\"%.200s\",\"rows\":%lld,\"inserted\":%lld,\"updated\":%lld,\"unchanged\":%lld}",
             j->label, j->rows, j->inserted, j->updated, j->unchanged);
    for (char *p = detail + 9; *p && p < detail + 9 + strlen(j->label); p++)   /* keep the JSON valid */
        if (*p == '"' || *p == '\\' || (unsigned char)*p < 0x20) *p = '_';
    if (audit_log(j->conn, j->who, "import", e->name, detail, err, sizeof err) < 0) {
        job_db_fail(j, err, "writing the audit record");
        return;
    }
    if (db_commit(j->conn, err, sizeof err) < 0) { job_db_fail(j, err, "commit"); return; }
    j->in_txn = false;
    unlock_vehicles(j);
    data_changed_here();
    /* a big load: plan the next KPI queries on the new sizes (committed already, so only a warning) */
    if (j->inserted >= IMPORT_ANALYZE_ROWS && !j->defer_rollups && rollup_analyze(j->conn, e->name, err, sizeof err) < 0)
        log_warn("import", "%s: refreshing table statistics: %s", e->name, err);
}

int import_job_feed(import_job *j, const char *data, size_t len)
{
    if (job_needs_spool(j)) {
        if (!j->spool && !(j->spool = import_spool_new())) log_warn("import", "%s: out of memory for the spool", j->label);
        else if (import_spool_ok(j->spool)) import_spool_add(j->spool, data, len);
    } else if (j->spool && !j->replay_path && !(j->fatal && j->retryable)) {
        import_spool_free(j->spool);        /* the file fails whatever happens: no second attempt */
        j->spool = NULL;
    }
    /* the file runs again at its end: an upload is kept reading (and spooled) */
    if (j->fatal && j->retryable) return j->replay_path ? -1 : 0;
    int rc = job_process(j, data, len);
    if (j->fatal && j->retryable) {
        /* let the other transaction go on now (a lock wait timeout leaves ours open) */
        job_rollback(j);
        return j->replay_path ? -1 : 0;
    }
    return rc;
}

/* One run of the end of the file: the last batch, the whole-file rules, the commit. */
static void job_finish_attempt(import_job *j)
{
    if (!j->fatal && !j->csv_failed) {
        if (csv_finish(j->csv) < 0) {
            const csv_error *ce = csv_last_error(j->csv);
            problem_add(&j->problems, ce->line, ce->column, "%s (character %ld of the line)", ce->message, ce->char_col);
            j->csv_failed = true;
        }
    }
    if (!j->fatal && !j->csv_failed && !j->have_header) {
        problem_add(&j->problems, 1, 1, "the file is empty: expected a header line naming the columns of %s", j->e->name);
        j->csv_failed = true;
    }
    if (!j->fatal) flush_batch(j);
    double t0 = mono_s();
    if (!j->fatal && job_writing(j)) finish_writes(j);
    j->t_finish += mono_s() - t0;
}

static int replay_chunk(void *ud, const char *data, size_t len) { return job_process(ud, data, len); }

/* The whole file through the reader again (after job_restart). */
static void job_replay(import_job *j)
{
    j->replaying = true;
    if (j->replay_path) {
        FILE *f = fopen(j->replay_path, "rb");
        char *buf = f ? malloc(256 * 1024) : NULL;
        if (!f || !buf) {
            job_fatal(j, 500, "the file could not be read again for another attempt");
        } else {
            size_t n;
            while ((n = fread(buf, 1, 256 * 1024, f)) > 0)
                if (job_process(j, buf, n) < 0) break;
            if (ferror(f)) job_fatal(j, 500, "the file could not be read again for another attempt");
        }
        free(buf);
        if (f) fclose(f);
    } else if (import_spool_replay(j->spool, replay_chunk, j) < 0) {
        job_fatal(j, 500, "the upload could not be read back for another attempt");
    }
    j->replaying = false;
}

static void sleep_ms(int ms)
{
    struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {}
}

int import_job_finish(import_job *j, import_result *res)
{
    memset(res, 0, sizeof *res);
    int attempts = import_retry_attempts();
    unsigned seed = (unsigned)(mono_s() * 1e6) ^ (unsigned)(uintptr_t)j;
    for (;;) {
        job_finish_attempt(j);
        if (!j->fatal || !j->retryable || j->attempt >= attempts) break;
        if (!job_replayable(j)) {
            log_warn("import", "%s %s: the file cannot be read again, so it is not retried", j->e->name, j->label);
            break;
        }
        job_rollback(j);
        int ms = import_retry_delay_ms(j->attempt + 1, (double)rand_r(&seed) / ((double)RAND_MAX + 1.0));
        log_warn("import", "%s %s: lost a lock conflict with another transaction while %s (attempt %d of %d); "
                 "the whole file runs again in %d ms", j->e->name, j->label, j->fatal_msg, j->attempt, attempts, ms);
        sleep_ms(ms);
        j->attempt++;
        if (job_restart(j) == 0) job_replay(j);
    }
    int rc = -1;
    if (j->fatal && j->retryable) {
        log_error("import", "%s %s: still losing lock conflicts after %d attempts; answered 503", j->e->name, j->label,
                  j->attempt);
        set_result_error(res, 503, "busy", "other imports were writing the same data at the same time and this file did "
                         "not get its turn (%d attempts); nothing was written: send it again in a few seconds", j->attempt);
        res->retry_after = IMPORT_RETRY_AFTER_S;
    } else if (j->fatal && j->fatal_status == 503) {
        set_unavailable(res);
    } else if (j->fatal && j->fatal_db) {
        set_result_error(res, 500, "internal", "the import failed while %s (a database error; the server log has the "
                         "details); nothing was written", j->fatal_msg);
    } else if (j->fatal) {
        set_result_error(res, j->fatal_status, "internal", "the import failed and nothing was written: %s", j->fatal_msg);
    } else if (j->scope_problems.total) {
        set_result_error(res, 403, "store_out_of_scope", "%lld rows belong to stores outside this token's scope; nothing was written",
                         j->scope_problems.total);
        res->problems = problem_list_json(&j->scope_problems);
        res->more = j->scope_problems.total - j->scope_problems.n;
    } else if (j->problems.total) {
        set_result_error(res, 422, j->csv_failed ? "invalid_csv" : "invalid_rows",
                         j->csv_failed ? "the file is not valid CSV; nothing was written"
                                       : "%lld problems in the file; nothing was written", j->problems.total);
        res->problems = problem_list_json(&j->problems);
        res->more = j->problems.total - j->problems.n;
    } else {
        res->rows = j->inserted + j->updated + j->unchanged;
        res->inserted = j->inserted;
        res->updated = j->updated;
        res->unchanged = j->unchanged;
        rc = 0;
        log_info("import", "%s %s: %lld rows, %lld inserted, %lld updated, %lld unchanged, attempt %d "
                 "(seconds: staging %.2f, checks %.2f, writing %.2f, rollups and commit %.2f)", j->e->name, j->label,
                 res->rows, res->inserted, res->updated, res->unchanged, j->attempt, j->t_stage, j->t_check, j->t_write,
                 j->t_finish);
    }
    metrics_add(rc == 0 ? METRIC_IMPORT_FILES : METRIC_IMPORT_REJECTED, 1);
    if (rc == 0) metrics_add(METRIC_IMPORT_ROWS, res->rows);
    job_free(j);
    return rc;
}

void import_job_abort(import_job *j) { job_free(j); }

void import_result_free(import_result *res)
{
    if (!res) return;
    cJSON_Delete(res->problems);
    res->problems = NULL;
}

/* --- a file --- */

void import_job_defer_rollups(import_job *j) { j->defer_rollups = true; }

static int import_file_run(struct app *a, const struct principal *who, const char *entity, const char *path,
                           import_result *res, import_progress_fn fn, void *ud, bool defer_rollups)
{
    import_job *j = import_job_new(a, who, entity, path, res);
    if (!j) return -1;
    import_job_set_progress(j, fn, ud);
    j->defer_rollups = defer_rollups;
    if (!(j->replay_path = strdup(path))) {
        import_job_abort(j);
        set_result_error(res, 500, "internal", "out of memory");
        return -1;
    }
    FILE *f = fopen(path, "rb");
    if (!f) {
        int e = errno;
        import_job_abort(j);
        set_result_error(res, 400, "unreadable_file", "cannot open %s: %s", path, strerror(e));
        return -1;
    }
    static const size_t chunk = 256 * 1024;
    char *buf = malloc(chunk);
    if (!buf) {
        fclose(f);
        import_job_abort(j);
        set_result_error(res, 500, "internal", "out of memory");
        return -1;
    }
    size_t n;
    bool read_error = false;
    while ((n = fread(buf, 1, chunk, f)) > 0)
        if (import_job_feed(j, buf, n) < 0) break;
    if (ferror(f)) read_error = true;
    free(buf);
    fclose(f);
    if (read_error) {
        import_job_abort(j);
        set_result_error(res, 400, "unreadable_file", "error reading %s", path);
        return -1;
    }
    return import_job_finish(j, res);
}

int import_file_progress(struct app *a, const struct principal *who, const char *entity, const char *path,
                         import_result *res, import_progress_fn fn, void *ud)
{
    return import_file_run(a, who, entity, path, res, fn, ud, false);
}

int import_file_deferred(struct app *a, const struct principal *who, const char *entity, const char *path,
                         import_result *res)
{
    return import_file_run(a, who, entity, path, res, NULL, NULL, true);
}

int import_file(struct app *a, const struct principal *who, const char *entity, const char *path, import_result *res)
{
    return import_file_run(a, who, entity, path, res, NULL, NULL, false);
}

/* --- HTTP: POST /api/v1/import/{entity} --- */

static bool content_type_is_csv(const char *ct)
{
    if (!ct) return false;
    while (*ct == ' ') ct++;
    if (strncasecmp(ct, "text/csv", 8) != 0) return false;
    const char *rest = ct + 8;
    while (*rest == ' ') rest++;
    if (*rest == '\0') return true;
    if (*rest != ';') return false;
    const char *cs = strcasestr(rest, "charset=");
    if (!cs) return true;
    cs += 8;
    if (*cs == '"') cs++;
    return strncasecmp(cs, "utf-8", 5) == 0 || strncasecmp(cs, "utf8", 4) == 0;
}

static void reply_result(http_req *r, const import_result *res)
{
    cJSON *details = res->problems ? cJSON_Duplicate(res->problems, 1) : NULL;
    if (res->more > 0) {
        cJSON *body = cJSON_CreateObject();
        cJSON *err = cJSON_AddObjectToObject(body, "error");
        if (!body || !err) {
            cJSON_Delete(body);
            cJSON_Delete(details);
            http_reply_error(r, 500, "internal", "out of memory", NULL);
            return;
        }
        cJSON_AddStringToObject(err, "code", res->code);
        cJSON_AddStringToObject(err, "message", res->message);
        cJSON_AddItemToObject(err, "details", details ? details : cJSON_CreateArray());
        cJSON_AddNumberToObject(err, "more", (double)res->more);
        http_reply_json(r, res->status, body);
    } else {
        http_reply_error(r, res->status, res->code, res->message, details);
    }
    if (res->retry_after > 0) {
        char secs[16];
        snprintf(secs, sizeof secs, "%d", res->retry_after);
        http_add_header(r, "Retry-After", secs);
    }
}

/* Checks the request before its first byte is read; false after replying. */
static bool import_route_start(http_req *r)
{
    if (!content_type_is_csv(http_header(r, "Content-Type"))) {
        http_reply_error(r, 415, "unsupported_media_type", "send the file with Content-Type: text/csv (UTF-8)", NULL);
        return false;
    }
    import_result res;
    import_job *j = import_job_new(r->app, r->who, r->params[0], "upload", &res);
    if (!j) {
        reply_result(r, &res);
        import_result_free(&res);
        return false;
    }
    r->stream = j;
    return true;
}

bool import_route_body(http_req *r, const char *data, size_t len)
{
    if (!r->stream && !import_route_start(r)) return false;
    /* malformed CSV ends the reading; the handler answers with the problems */
    import_job_feed(r->stream, data, len);
    return true;
}

void import_route_done(http_req *r)
{
    if (r->resp) return;                 /* answered already (415, 404, ...) */
    if (!r->stream) {
        if (!import_route_start(r)) return;
    }
    import_job *j = r->stream;
    r->stream = NULL;
    import_result res;
    if (import_job_finish(j, &res) == 0) {
        cJSON *body = cJSON_CreateObject();
        if (!body) {
            http_reply_error(r, 500, "internal", "out of memory", NULL);
            return;
        }
        cJSON_AddStringToObject(body, "entity", r->params[0]);
        cJSON_AddNumberToObject(body, "rows", (double)res.rows);
        cJSON_AddNumberToObject(body, "inserted", (double)res.inserted);
        cJSON_AddNumberToObject(body, "updated", (double)res.updated);
        cJSON_AddNumberToObject(body, "unchanged", (double)res.unchanged);
        http_reply_json(r, 200, body);
    } else {
        reply_result(r, &res);
    }
    import_result_free(&res);
}

void import_route_cleanup(http_req *r)
{
    if (r->stream) {
        import_job_abort(r->stream);
        r->stream = NULL;
    }
}

/* --- the command: fourscore import ENTITY FILE... --- */

typedef struct cli_progress {
    const char *path;
    unsigned long long size;
    double last;
} cli_progress;

static void cli_show_progress(void *ud, long long rows, unsigned long long bytes)
{
    cli_progress *p = ud;
    double t = mono_s();
    if (t - p->last < 1.0) return;
    p->last = t;
    if (p->size)
        fprintf(stderr, "%s: %lld rows read (%.0f%%)\n", p->path, rows, 100.0 * (double)bytes / (double)p->size);
    else
        fprintf(stderr, "%s: %lld rows read\n", p->path, rows);
}

int cmd_import(int argc, char **argv)
{
    config cfg;
    char err[512];
    if (config_load_env(&cfg, err, sizeof err) < 0) {
        fprintf(stderr, "fourscore import: %s\n", err);
        return 2;
    }
    char entity_help[600];
    size_t pos = 0;
    for (int i = 0; import_entities[i]; i++) {
        int w = snprintf(entity_help + pos, sizeof entity_help - pos, "%s%s", i ? ", " : "", import_entities[i]);
        if (w < 0 || (size_t)w >= sizeof entity_help - pos) break;
        pos += (size_t)w;
    }
    char description[1200];
    snprintf(description, sizeof description,
             "Import CSV files of one entity (spec: docs/import.md). Each file is applied\n"
             "all-or-nothing in its own transaction; problems are printed as\n"
             "FILE:LINE:COLUMN: message and nothing of that file is written.\n"
             "Files are imported in the order given; the first failing file stops the run.\n"
             "Entities, in load order: %s", entity_help);
    const char *pos_args[64];
    int npos = 0;
    opt opts[] = {
        { .name = "--verbose", .kind = OPT_FLAG, .help = "also print the log lines (with where the time went)" },
    };
    int prc = config_parse(&cfg, argc, argv, opts, 1, "fourscore import [--verbose] ENTITY FILE...", description,
                           pos_args, 64, &npos);
    if (prc == 1) return 0;
    if (prc) return prc;
    if (npos < 2) {
        fprintf(stderr, "fourscore import: name an entity and at least one file (see fourscore import --help)\n");
        return 2;
    }
    const char *entity = pos_args[0];
    if (!entity_find(entity)) {
        fprintf(stderr, "fourscore import: unknown entity '%s'; one of: %s\n", entity, entity_help);
        return 2;
    }
    log_set_level(opts[0].set ? LOG_INFO : LOG_WARN);  /* the command prints its own lines */
    app a;
    memset(&a, 0, sizeof a);
    a.cfg = cfg;
    if (app_open(&a, true, err, sizeof err) < 0) {
        fprintf(stderr, "fourscore import: %s\n", err);
        return 1;
    }
    int exit_code = 0;
    for (int i = 1; i < npos; i++) {
        const char *path = pos_args[i];
        struct stat st;
        cli_progress prog = { .path = path, .size = stat(path, &st) == 0 ? (unsigned long long)st.st_size : 0,
                              .last = mono_s() };
        import_result res;
        double t0 = mono_s();
        if (import_file_progress(&a, NULL, entity, path, &res, cli_show_progress, &prog) == 0) {
            printf("%s: %lld rows: %lld inserted, %lld updated, %lld unchanged (%.1f s)\n", path, res.rows,
                   res.inserted, res.updated, res.unchanged, mono_s() - t0);
            fflush(stdout);
            import_result_free(&res);
            continue;
        }
        int n = res.problems ? cJSON_GetArraySize(res.problems) : 0;
        for (int k = 0; k < n; k++) {
            cJSON *pr = cJSON_GetArrayItem(res.problems, k);
            fprintf(stderr, "%s:%d:%d: %s\n", path, cJSON_GetObjectItem(pr, "line")->valueint,
                    cJSON_GetObjectItem(pr, "column")->valueint, cJSON_GetStringValue(cJSON_GetObjectItem(pr, "message")));
        }
        if (res.more > 0) fprintf(stderr, "%s: ... and %lld more problems\n", path, res.more);
        fprintf(stderr, "%s: %s\n", path, res.message);
        import_result_free(&res);
        if (i + 1 < npos) fprintf(stderr, "fourscore import: stopped; the files after %s were not imported\n", path);
        exit_code = 1;
        break;
    }
    app_close(&a);
    return exit_code;
}
