/* entities: the entity table of docs/import.md as data, and the SQL built
 * from it (see entities.h). The import engine (import*.c) reads nothing
 * about an entity but what this table says. */
#include "entities.h"
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* --- the columns --- */

static const char *const role_values[] = { "technician", "advisor", "parts", "other", NULL };
static const char *const customer_type_values[] = { "individual", "fleet", "government", "insurer", "other", NULL };
static const char *const ro_type_values[] = { "first_service", "maintenance", "repair", "bodywork", "warranty", "internal", NULL };
static const char *const payer_values[] = { "customer", "insurer", "warranty", "internal", NULL };
static const char *const category_values[] = { "part", "material", "accessory", NULL };
static const char *const kind_values[] = { "new", "renewal", NULL };

#define REQ(n, t)        { n, t, true, 0, NULL, NULL }
#define OPT(n, t)        { n, t, false, 0, NULL, NULL }
#define REQ_TEXT(n, len) { n, T_TEXT, true, len, NULL, NULL }
#define OPT_TEXT(n, len) { n, T_TEXT, false, len, NULL, NULL }
#define REQ_ENUM(n, v)   { n, T_ENUM, true, 0, v, NULL }

#define STORE_EXISTS { "store_code", "store '%s' does not exist", \
    "SELECT s.src_line, s.store_code FROM import_stage s LEFT JOIN stores p ON p.store_code = s.store_code WHERE p.store_code IS NULL", false }
#define CUSTOMER_EXISTS { "customer_code", "customer '%s' does not exist in store %s (import customers first)", \
    "SELECT s.src_line, s.customer_code, s.store_code FROM import_stage s LEFT JOIN customers p " \
    "ON p.store_code = s.store_code AND p.customer_code = s.customer_code WHERE p.store_code IS NULL", false }
#define RO_EXISTS(opt) { "ro_no", "repair order '%s' does not exist in store %s (import repair_orders first)", \
    "SELECT s.src_line, s.ro_no, s.store_code FROM import_stage s LEFT JOIN repair_orders p " \
    "ON p.store_code = s.store_code AND p.ro_no = s.ro_no WHERE " opt "p.store_code IS NULL", false }

static const col_def regions_cols[] = { REQ("region_code", T_CODE), REQ_TEXT("name", 200) };
static const col_def stores_cols[] = {
    REQ("store_code", T_CODE), REQ_TEXT("name", 200), REQ_TEXT("brand", 100), REQ("region_code", T_CODE),
    OPT_TEXT("city", 100), OPT("opened_on", T_DATE) };
static const parent_check stores_parents[] = {
    { "region_code", "region '%s' does not exist (import regions first)",
      "SELECT s.src_line, s.region_code FROM import_stage s LEFT JOIN regions p ON p.region_code = s.region_code WHERE p.region_code IS NULL",
      false } };
static const col_def insurers_cols[] = { REQ("insurer_code", T_CODE), REQ_TEXT("name", 200) };
static const col_def staff_cols[] = {
    REQ("store_code", T_CODE), REQ("staff_code", T_CODE), REQ_TEXT("name", 200), REQ_ENUM("role", role_values),
    OPT("hired_on", T_DATE), OPT("left_on", T_DATE) };
static const parent_check store_parents[] = { STORE_EXISTS };
static const col_def customers_cols[] = {
    REQ("store_code", T_CODE), REQ("customer_code", T_CODE), REQ_ENUM("type", customer_type_values), OPT_TEXT("name", 200),
    OPT("phone", T_PHONE) };
static const col_def sales_cols[] = {
    REQ("store_code", T_CODE), REQ("deal_no", T_CODE), REQ("vin", T_VIN), REQ("sold_on", T_DATE),
    REQ("customer_code", T_CODE), OPT_TEXT("model", 100), REQ("sale_amount", T_MONEY), OPT("referral", T_BOOL) };
enum { SALE_VIN = 2 };
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
      "ON p.store_code = s.store_code AND p.staff_code = s.advisor_code WHERE s.advisor_code IS NOT NULL AND p.store_code IS NULL",
      false },
    { "insurer_code", "insurer '%s' does not exist (import insurers first)",
      "SELECT s.src_line, s.insurer_code FROM import_stage s LEFT JOIN insurers p "
      "ON p.insurer_code = s.insurer_code WHERE s.insurer_code IS NOT NULL AND p.insurer_code IS NULL", false },
    /* comeback_of: kept last; lines whose original is earlier in the file are settled by the engine */
    { "comeback_of", "comeback_of '%s' is not an earlier repair order of store %s for the same vehicle",
      "SELECT s.src_line, s.comeback_of, s.store_code FROM import_stage s LEFT JOIN repair_orders p "
      "ON p.store_code = s.store_code AND p.ro_no = s.comeback_of "
      "WHERE s.comeback_of IS NOT NULL AND (p.store_code IS NULL OR p.vin <> s.vin OR p.opened_at >= s.opened_at)",
      true } };
static const row_rule ro_rules[] = {
    { RULE_NOT_BEFORE, RO_CLOSED, RO_OPENED, NULL, NULL },
    { RULE_REQUIRED_WHEN, RO_INSURER, RO_PAYER, "insurer", NULL },
};
static const earlier_ref ro_comeback = { RO_COMEBACK, RO_VIN, RO_OPENED };
static const col_def labour_cols[] = {
    REQ("store_code", T_CODE), REQ("ro_no", T_CODE), REQ("line_no", T_UINT), OPT_TEXT("op_code", 32),
    OPT("technician_code", T_CODE), REQ("sold_hours", T_QTY), OPT("clocked_hours", T_QTY), REQ("amount", T_MONEY) };
static const parent_check labour_parents[] = {
    RO_EXISTS(""),
    { "technician_code", "technician '%s' is not on the staff of store %s (import staff first)",
      "SELECT s.src_line, s.technician_code, s.store_code FROM import_stage s LEFT JOIN staff p "
      "ON p.store_code = s.store_code AND p.staff_code = s.technician_code WHERE s.technician_code IS NOT NULL AND p.store_code IS NULL",
      false } };
static const col_def parts_cols[] = {
    REQ("store_code", T_CODE), REQ("ro_no", T_CODE), REQ("line_no", T_UINT), REQ("part_no", T_CODE),
    REQ_ENUM("category", category_values), REQ("qty", T_QTY), REQ("unit_price", T_MONEY), REQ("unit_cost", T_MONEY),
    { "from_stock", T_BOOL, false, 0, NULL, "1" } };     /* empty means from stock */
static const parent_check parts_parents[] = { RO_EXISTS("") };
static const col_def stock_cols[] = {
    REQ("store_code", T_CODE), REQ("snapshot_on", T_DATE), REQ("part_no", T_CODE), REQ("qty_on_hand", T_QTY),
    REQ("unit_cost", T_MONEY), OPT("last_issue_on", T_DATE), OPT("last_receipt_on", T_DATE) };
static const col_def policy_cols[] = {
    REQ("store_code", T_CODE), REQ("policy_no", T_CODE), REQ("vin", T_VIN), REQ("insurer_code", T_CODE),
    REQ_ENUM("kind", kind_values), REQ("sold_on", T_DATE), REQ("starts_on", T_DATE), REQ("ends_on", T_DATE),
    REQ("premium", T_MONEY), OPT("commission", T_MONEY) };
enum { POLICY_VIN = 2, POLICY_STARTS = 6, POLICY_ENDS = 7 };
static const parent_check policy_parents[] = {
    STORE_EXISTS,
    { "insurer_code", "insurer '%s' does not exist (import insurers first)",
      "SELECT s.src_line, s.insurer_code FROM import_stage s LEFT JOIN insurers p "
      "ON p.insurer_code = s.insurer_code WHERE p.insurer_code IS NULL", false } };
static const row_rule policy_rules[] = { { RULE_AFTER, POLICY_ENDS, POLICY_STARTS, NULL, NULL } };
static const col_def invoice_cols[] = {
    REQ("store_code", T_CODE), REQ("invoice_no", T_CODE), REQ("customer_code", T_CODE), REQ("issued_on", T_DATE),
    OPT("due_on", T_DATE), REQ("amount", T_MONEY), OPT("ro_no", T_CODE), OPT("deal_no", T_CODE) };
static const parent_check invoice_parents[] = {
    CUSTOMER_EXISTS, RO_EXISTS("s.ro_no IS NOT NULL AND "),
    { "deal_no", "vehicle sale '%s' does not exist in store %s (import vehicle_sales first)",
      "SELECT s.src_line, s.deal_no, s.store_code FROM import_stage s LEFT JOIN vehicle_sales p "
      "ON p.store_code = s.store_code AND p.deal_no = s.deal_no WHERE s.deal_no IS NOT NULL AND p.store_code IS NULL",
      false } };
static const col_def payment_cols[] = {
    REQ("store_code", T_CODE), REQ("payment_no", T_CODE), REQ("invoice_no", T_CODE), REQ("paid_on", T_DATE),
    REQ("amount", T_MONEY) };
enum { PAYMENT_AMOUNT = 4 };
static const parent_check payment_parents[] = {
    { "invoice_no", "invoice '%s' does not exist in store %s (import invoices first)",
      "SELECT s.src_line, s.invoice_no, s.store_code FROM import_stage s LEFT JOIN invoices p "
      "ON p.store_code = s.store_code AND p.invoice_no = s.invoice_no WHERE p.store_code IS NULL", false } };
static const col_def financial_cols[] = {
    REQ("store_code", T_CODE), REQ("month", T_MONTH), REQ("aftersales_personnel_cost", T_MONEY),
    REQ("fixed_expenses", T_MONEY) };
static const col_def followup_cols[] = {
    REQ("store_code", T_CODE), REQ("ro_no", T_CODE), REQ("called_at", T_TS), REQ("reached", T_BOOL),
    OPT("complaint", T_BOOL) };
enum { FOLLOWUP_REACHED = 3, FOLLOWUP_COMPLAINT = 4 };
static const row_rule followup_rules[] = {
    { RULE_TRUE_NEEDS_TRUE, FOLLOWUP_COMPLAINT, FOLLOWUP_REACHED, NULL,
      "a call with a complaint must have reached the customer (reached = 1)" } };
static const parent_check ro_child_parents[] = { RO_EXISTS("") };
static const col_def csi_cols[] = {
    REQ("store_code", T_CODE), REQ("ro_no", T_CODE), REQ("surveyed_on", T_DATE), REQ("reliability", T_SCORE),
    REQ("responsiveness", T_SCORE), REQ("assurance", T_SCORE), REQ("empathy", T_SCORE), REQ("tangibles", T_SCORE) };
static const col_def appt_cols[] = {
    REQ("store_code", T_CODE), REQ("appt_no", T_CODE), REQ("vin", T_VIN), REQ("booked_at", T_TS),
    REQ("appointment_at", T_TS), OPT("showed", T_BOOL), OPT("ro_no", T_CODE) };
static const parent_check appt_parents[] = { STORE_EXISTS, RO_EXISTS("s.ro_no IS NOT NULL AND ") };
static const col_def target_cols[] = {
    REQ("store_code", T_CODE), REQ("month", T_MONTH), REQ("kpi", T_KPI), REQ("value", T_MONEY) };

/* --- the table, in load order (parents first) --- */

#define COLS(a) .cols = a, .ncols = (int)(sizeof a / sizeof a[0])
#define PARENTS(a) .parents = a, .nparents = (int)(sizeof a / sizeof a[0])
#define RULES(a) .rules = a, .nrules = (int)(sizeof a / sizeof a[0])
#define OWN_DATES(lo, hi) .dates = DATES_OWN, .date_lo = lo, .date_hi = hi
/* What a repair order's figures feed: the per-RO rows and their sums. */
#define FEEDS_RO_FIGURES (FEED_RO_DAYS | FEED_RO_RECEIVABLES)

static const entity_def entities[] = {
    { .name = "regions", COLS(regions_cols), .nkey = 1, .global = true, .directory = true },
    { .name = "stores", COLS(stores_cols), .nkey = 1, .has_store = true, .global = true, .directory = true,
      PARENTS(stores_parents) },
    { .name = "insurers", COLS(insurers_cols), .nkey = 1, .global = true, .directory = true },
    { .name = "staff", COLS(staff_cols), .nkey = 2, .has_store = true, PARENTS(store_parents) },
    /* a customer's type decides which receivables count */
    { .name = "customers", COLS(customers_cols), .nkey = 2, .has_store = true, PARENTS(store_parents),
      .feeds = FEED_RECEIVABLES },
    { .name = "vehicle_sales", COLS(sales_cols), .nkey = 2, .has_store = true, OWN_DATES("@.sold_on", "@.sold_on"),
      PARENTS(sales_parents), .feeds = FEED_SALES | FEED_STATES | FEED_NEW_POLICIES, .vin_col = SALE_VIN,
      .latest = "sold_on" },
    { .name = "repair_orders", COLS(ro_cols), .nkey = 2, .has_store = true,
      OWN_DATES("DATE(@.opened_at)", "DATE(COALESCE(@.closed_at, @.opened_at))"), PARENTS(ro_parents), RULES(ro_rules),
      .feeds = FEEDS_RO_FIGURES | FEED_VISITS | FEED_STATES, .vin_col = RO_VIN, .earlier = &ro_comeback,
      .latest = "closed_at", .through_if = "ro_type <> 'internal'" },
    { .name = "ro_labour", COLS(labour_cols), .nkey = 3, .has_store = true, .dates = DATES_OF_ITS_RO,
      PARENTS(labour_parents), .feeds = FEEDS_RO_FIGURES, .replaces_ro_lines = true },
    { .name = "ro_parts", COLS(parts_cols), .nkey = 3, .has_store = true, .dates = DATES_OF_ITS_RO,
      PARENTS(parts_parents), .feeds = FEEDS_RO_FIGURES, .replaces_ro_lines = true },
    { .name = "parts_stock", COLS(stock_cols), .nkey = 3, .has_store = true, OWN_DATES("@.snapshot_on", "@.snapshot_on"),
      PARENTS(store_parents), .feeds = FEED_STOCK, .latest = "snapshot_on" },
    { .name = "insurance_policies", COLS(policy_cols), .nkey = 2, .has_store = true,
      OWN_DATES("LEAST(@.sold_on, @.starts_on)", "GREATEST(@.sold_on, @.ends_on)"), PARENTS(policy_parents),
      RULES(policy_rules), .feeds = FEED_PREMIUM | FEED_RENEWALS | FEED_NEW_POLICIES, .vin_col = POLICY_VIN,
      .latest = "sold_on" },
    { .name = "invoices", COLS(invoice_cols), .nkey = 2, .has_store = true,
      OWN_DATES("@.issued_on", "GREATEST(@.issued_on, COALESCE(@.due_on, @.issued_on))"), PARENTS(invoice_parents),
      .feeds = FEED_INVOICED | FEED_INVOICE_OPEN, .latest = "issued_on" },
    { .name = "payments", COLS(payment_cols), .nkey = 2, .has_store = true, OWN_DATES("@.paid_on", "@.paid_on"),
      PARENTS(payment_parents), .feeds = FEED_INVOICE_OPEN, .open_balance_col = PAYMENT_AMOUNT, .latest = "paid_on" },
    /* read by the plugins from the facts directly */
    { .name = "store_financials", COLS(financial_cols), .nkey = 2, .has_store = true,
      OWN_DATES("CAST(CONCAT(@.month, '-01') AS DATE)", "LAST_DAY(CONCAT(@.month, '-01'))"), PARENTS(store_parents),
      .latest = "month", .latest_day = "LAST_DAY(CONCAT(@, '-01'))" },
    /* calls and appointments change the contact figures of the ROs they name
     * (rollup_ro and its sums: 013_contact_rollups.sql) */
    { .name = "follow_up_calls", COLS(followup_cols), .nkey = 2, .has_store = true, .dates = DATES_ROS_NAMED,
      PARENTS(ro_child_parents), RULES(followup_rules), .feeds = FEED_RO_DAYS, .latest = "called_at" },
    { .name = "csi_surveys", COLS(csi_cols), .nkey = 2, .has_store = true, OWN_DATES("@.surveyed_on", "@.surveyed_on"),
      PARENTS(ro_child_parents), .feeds = FEED_CSI, .latest = "surveyed_on" },
    { .name = "appointments", COLS(appt_cols), .nkey = 2, .has_store = true, .dates = DATES_ROS_NAMED,
      PARENTS(appt_parents), .feeds = FEED_RO_DAYS, .latest = "booked_at" },
    /* per-store monthly budgets, read by the KPI engine directly (kpi_targets.c) */
    { .name = "targets", COLS(target_cols), .nkey = 3, .has_store = true, .global = true, .budgets = true,
      OWN_DATES("CAST(CONCAT(@.month, '-01') AS DATE)", "LAST_DAY(CONCAT(@.month, '-01'))"), PARENTS(store_parents) },
};
#define NENTITIES ((int)(sizeof entities / sizeof entities[0]))

/* The names of the table above, in its order (a new line there is a new name here). */
const char *const import_entities[] = {
    "regions", "stores", "insurers", "staff", "customers", "vehicle_sales", "repair_orders", "ro_labour",
    "ro_parts", "parts_stock", "insurance_policies", "invoices", "payments", "store_financials",
    "follow_up_calls", "csi_surveys", "appointments", "targets", NULL
};

const entity_def *entity_find(const char *name)
{
    if (!name) return NULL;
    for (int i = 0; i < NENTITIES; i++)
        if (strcmp(entities[i].name, name) == 0) return &entities[i];
    return NULL;
}

int entity_col(const entity_def *e, const char *name)
{
    for (int c = 0; c < e->ncols; c++)
        if (strcmp(e->cols[c].name, name) == 0) return c;
    return -1;
}

const char *entity_names_list(char *buf, size_t len)
{
    size_t pos = 0;
    buf[0] = '\0';
    for (int i = 0; import_entities[i]; i++) {
        int w = snprintf(buf + pos, len - pos, "%s%s", i ? ", " : "", import_entities[i]);
        if (w < 0 || (size_t)w >= len - pos) break;
        pos += (size_t)w;
    }
    return buf;
}

/* --- the SQL of each entity, built once --- */

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

/* The statements every entity has: stage, count, upsert, set aside. */
static void build_rows_sql(const entity_def *e, entity_sql *q)
{
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
}

/* What the derived tables need to know: the dates a batch moves, the VINs
 * its replaced rows had; and the RO lines a file replaces. */
static void build_touch_sql(const entity_def *e, entity_sql *q)
{
    sbuf b = { 0 };
    if (e->dates == DATES_OWN) {
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
    } else if (e->dates == DATES_ROS_NAMED) {
        /* the touched days are the closing days of the ROs named, the old ROs' and the new */
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
    if (e->vin_col > 0) {
        const char *vin = e->cols[e->vin_col].name;
        b = (sbuf){ 0 };
        sb_add(&b, "SELECT DISTINCT t.%s FROM import_stage s JOIN %s t ON ", vin, e->name);
        build_key_join(e, &b);
        sb_add(&b, " WHERE t.%s <> s.%s", vin, vin);
        q->old_vins = sb_take(&b);
        if (!q->old_vins) entity_sql_ok = false;
    }
    if (e->replaces_ro_lines) {
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
}

static void build_entity_sql(void)
{
    entity_sql_ok = true;
    for (int i = 0; i < NENTITIES; i++) {
        const entity_def *e = &entities[i];
        entity_sql *q = &entity_sqls[i];
        build_rows_sql(e, q);
        build_touch_sql(e, q);
        q->count_existing_locking = for_update(q->count_existing);
        q->old_dates_locking = for_update(q->old_dates);
        q->old_vins_locking = for_update(q->old_vins);
        if (!q->create_stage || !q->insert_stage || !q->count_existing || !q->upsert || !q->drop_unchanged ||
            !q->count_existing_locking || (q->old_dates && !q->old_dates_locking) || (q->old_vins && !q->old_vins_locking))
            entity_sql_ok = false;
    }
}

const entity_sql *entity_sql_of(const entity_def *e)
{
    pthread_once(&entity_sql_once, build_entity_sql);
    return entity_sql_ok ? &entity_sqls[e - entities] : NULL;
}
