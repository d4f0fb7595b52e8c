/* receivables: the receivables ageing (应收账款账龄) KPIs of docs/kpis.md
 * "receivables", all as of the period end `to`: an invoice issued on or
 * before `to` is open for its amount less its payments paid on or before
 * `to`, and aged in days from issued_on to `to`. Emitted per store.
 *
 * Any `to` up to the horizon (the month end of the last invoice: a month
 * end, a day of a running month, a day of a quarter not yet over) is read
 * from the day rows of schemas/031_receivable_days.sql: one row per store
 * owing anything, with the open amount, its age buckets (everyone's and the
 * government customers'), and the customers over their limit. Overdue comes
 * from the buckets when both terms settings are a bucket's upper edge (30,
 * 60, 90, 180, 365 days: the defaults are 90 and 180); for other terms, a
 * held month end reads the open amounts by customer type and age of
 * schemas/016_receivable_month_ends.sql. A `to` past the horizon (or other
 * terms on a day that is not a month end) reads the nearer held month end's
 * open amounts by customer type and age, their ages moved to `to`, with the
 * invoices issued or paid between the two days (SQL_AGES_NEAR), for every
 * aging KPI but over_limit_accounts; the nine that share one `to` are
 * computed by one statement and kept for the data generation
 * (SQL_AGES_ALL). Before the first horizon, and past it for the customers
 * over their limit, `to` reads only the invoices that may be open as of
 * `to`: those of rollup_invoice_open (schemas/006_asof.sql) not settled by
 * then, a few short ranges of its primary key, with their payments up to
 * `to` by key lookups. An invoice settled on or before `to` has every
 * payment counted and an open amount <= 0, so leaving it out changes no
 * figure. The amounts invoiced in a period (DSO) come from the per store and
 * day (month) sums of 016. The lists of the overdue invoices and of the
 * customers over their limit read the same CTEs as the KPIs they explain
 * (receivables.overdue, over_limit_accounts) over the invoices themselves,
 * and the tests hold the day rows to them. */
#include <fourscore/plugin.h>
#include "../kpi_common.h"

/* --- settings --- */

enum { TERMS_DAYS, GOVERNMENT_TERMS_DAYS };
static const fsp_setting_def receivables_settings[] = {
    [TERMS_DAYS] = FSP_SETTING(.name = "receivables.terms_days", .name_zh = "账期（天）",
                               .name_en = "Payment terms (days)", .unit = "days",
                               .default_value = 90, .min = 0, .max = 36500),
    [GOVERNMENT_TERMS_DAYS] = FSP_SETTING(.name = "receivables.government_terms_days", .name_zh = "政府客户账期（天）",
                                          .name_en = "Government payment terms (days)", .unit = "days",
                                          .default_value = 180, .min = 0, .max = 36500),
};

/* --- open invoices as of `to` --- */

/* CTEs `unsettled` (each invoice issued on or before `to` and not settled
 * by then, with its open amount: amount less its payments on or before `to`)
 * and `inv`: those still open (open amount > 0), with their age in days and
 * customer type. An invoice whose payments cover it adds 0 to every figure
 * here, so only open ones are kept, found through one short key range per
 * span_class (KC_SQL_SPANS; the keys are named, as statistics may lag a
 * load). The payments are summed by a grouped join, so each invoice's are
 * read once. The lists read the same CTEs (invoice_no, issued_on and amount
 * are theirs). Placeholders: AS_OF_PARAMS. */
#define SQL_OPEN_INVOICES \
    "unsettled AS (SELECT a.store_code, a.invoice_no, a.customer_code, a.issued_on, a.amount," \
    "   a.amount - COALESCE(SUM(p.amount), 0) AS open_amount" \
    "   FROM rollup_invoice_open a FORCE INDEX (PRIMARY)" \
    "   LEFT JOIN payments p FORCE INDEX (k_payment_invoice) ON p.store_code = a.store_code" \
    "     AND p.invoice_no = a.invoice_no AND p.paid_on <= CAST(? AS DATE)" \
    "   WHERE" KC_SQL_SPANS("a", "issued_on") \
    "   AND a.settled_on > CAST(? AS DATE) AND a.issued_on <= CAST(? AS DATE)" \
    "   GROUP BY a.store_code, a.invoice_no, a.customer_code, a.issued_on, a.amount)," \
    " inv AS (SELECT u.store_code, u.invoice_no, u.customer_code, u.issued_on, u.amount," \
    " (SELECT c.type FROM customers c" \
    "   WHERE c.store_code = u.store_code AND c.customer_code = u.customer_code) AS customer_type," \
    " DATEDIFF(CAST(? AS DATE), u.issued_on) AS age, u.open_amount" \
    " FROM unsettled u WHERE u.open_amount > 0)"

#define OPEN_PARAMS(to) FSP_P_TEXT(to), KC_SPAN_PARAMS(to), FSP_P_TEXT(to), FSP_P_TEXT(to), FSP_P_TEXT(to)
#define AS_OF_PARAMS(args) OPEN_PARAMS((args)->to)

/* --- month ends (016) --- */

static kc_horizon_memo horizon = KC_HORIZON_MEMO_INIT;

static int month_end_held(fsp_call *call, const fsp_kpi_args *args, int *held)
{
    return kc_month_end_held(call, &horizon, "receivables", args->to, held);
}

/* --- any day up to the horizon (031) --- */

/* *held = 1 when the day rows hold `to` (on or before the horizon: a store
 * without a row that day owes nothing). 0, or -1 when the lookup failed. */
static int day_held(fsp_call *call, const fsp_kpi_args *args, int *held)
{
    char day[11];
    *held = 0;
    if (kc_horizon_get(call, &horizon, "receivables", day) != 0) return -1;
    *held = day[0] && strcmp(args->to, day) <= 0;
    return 0;
}

/* One row per store owing anything on the day ?. COLS: the figure's
 * numerator and denominator over the columns of rollup_receivable_day. */
#define SQL_DAY(COLS) "SELECT store_code, NULL, " COLS ", 1 FROM rollup_receivable_day WHERE day = CAST(? AS DATE)"

/* Runs a day statement whose only placeholder is `to`. */
static int day_emit(fsp_call *call, const fsp_kpi_args *args, const char *sql)
{
    fsp_param params[] = { FSP_P_TEXT(args->to) };
    return kc_query_emit(call, args, sql, params, KC_COUNT(params));
}

/* The open amount aged more than X days, of everyone or (P "gov_") of the
 * government customers, from the buckets: exact when X is the upper edge of
 * a bucket (30, 60, 90, 180, 365). Placeholders: X five times. */
#define SQL_OVER_EDGE(P) \
    "IF(? < 31, " P "age_31_60, 0) + IF(? < 61, " P "age_61_90, 0) + IF(? < 91, " P "age_91_180, 0)" \
    " + IF(? < 181, " P "age_181_365, 0) + IF(? < 366, " P "age_over_365, 0)"
#define OVER_EDGE_PARAMS(x) FSP_P_INT(x), FSP_P_INT(x), FSP_P_INT(x), FSP_P_INT(x), FSP_P_INT(x)
static int on_edge(int days) { return days == 30 || days == 60 || days == 90 || days == 180 || days == 365; }
/* Past terms: everyone's past the terms, less the government's, plus the
 * government's past theirs. Placeholders: terms x 10, government terms x 5, to. */
static const char SQL_OVERDUE_DAY[] =
    "SELECT store_code, NULL, " SQL_OVER_EDGE("") " - (" SQL_OVER_EDGE("gov_") ") + " SQL_OVER_EDGE("gov_") ", 1, 1"
    " FROM rollup_receivable_day WHERE day = CAST(? AS DATE)";

/* --- a day near a held month end: its rows and the changes between --- */

/* CTE `hist` (store_code, government, age, open_amount): the open amounts as
 * of `to` by store, customer type and age in days at `to`, from the rows of
 * the nearer held month end R (the one before `to`, or the end of `to`'s
 * month): every invoice open at R, its age moved to `to`, and the changes
 * between: each invoice issued or paid in (lo, hi], the days between R and
 * `to`, adds its open amount at `to` and takes out the one it had at R
 * (both counted only when positive, as the month-end rows and `inv` count
 * them; an invoice issued after `to` is open for 0 at `to`). Summed per
 * store and age, the rows are `inv`'s open amounts: a store owes anything
 * at `to` exactly when its rows add up to more than 0. The invoices issued
 * in (lo, hi] are one short range of rollup_invoice_open's key per
 * span_class; the payments of (lo, hi], one range per store of
 * (store_code, paid_on). Placeholders: NEAR_PARAMS(to, R, lo, hi). */
#define SQL_AGES_NEAR \
    "changed AS (SELECT a.store_code, a.invoice_no FROM rollup_invoice_open a FORCE INDEX (PRIMARY)" \
    "   WHERE a.span_class IN " KC_SPAN_CLASSES \
    "   AND a.issued_on > CAST(? AS DATE) AND a.issued_on <= CAST(? AS DATE)" \
    " UNION SELECT p.store_code, p.invoice_no FROM stores s" \
    "   JOIN payments p FORCE INDEX (k_payment_store_paid_invoice) ON p.store_code = s.store_code" \
    "   AND p.paid_on > CAST(? AS DATE) AND p.paid_on <= CAST(? AS DATE))," \
    " delta AS (SELECT i.store_code," \
    "   COALESCE((SELECT c.type = 'government' FROM customers c" \
    "     WHERE c.store_code = i.store_code AND c.customer_code = i.customer_code), 0) AS government," \
    "   DATEDIFF(CAST(? AS DATE), i.issued_on) AS age," \
    "   IF(i.issued_on <= CAST(? AS DATE)," \
    "     GREATEST(i.amount - COALESCE(SUM(IF(p.paid_on <= CAST(? AS DATE), p.amount, 0)), 0), 0), 0)" \
    "   - IF(i.issued_on <= CAST(? AS DATE)," \
    "     GREATEST(i.amount - COALESCE(SUM(IF(p.paid_on <= CAST(? AS DATE), p.amount, 0)), 0), 0), 0) AS open_amount" \
    "   FROM changed ch JOIN invoices i FORCE INDEX (PRIMARY)" \
    "     ON i.store_code = ch.store_code AND i.invoice_no = ch.invoice_no" \
    "   LEFT JOIN payments p FORCE INDEX (k_payment_invoice) ON p.store_code = i.store_code" \
    "     AND p.invoice_no = i.invoice_no AND p.paid_on <= CAST(? AS DATE)" \
    "   WHERE i.issued_on <= CAST(? AS DATE)" \
    "   GROUP BY i.store_code, i.invoice_no, i.customer_code, i.issued_on, i.amount)," \
    " hist AS (SELECT store_code, government," \
    "   CAST(age_days AS SIGNED) + DATEDIFF(CAST(? AS DATE), CAST(? AS DATE)) AS age," \
    "   open_amount FROM rollup_receivable_age WHERE day = CAST(? AS DATE)" \
    " UNION ALL SELECT store_code, government, age, open_amount FROM delta WHERE open_amount <> 0)"
#define NEAR_PARAMS(to, r, lo, hi) \
    FSP_P_TEXT(lo), FSP_P_TEXT(hi), FSP_P_TEXT(lo), FSP_P_TEXT(hi), FSP_P_TEXT(to), FSP_P_TEXT(to), FSP_P_TEXT(to), \
    FSP_P_TEXT(r), FSP_P_TEXT(r), FSP_P_TEXT(hi), FSP_P_TEXT(hi), FSP_P_TEXT(to), FSP_P_TEXT(r), FSP_P_TEXT(r)
/* The held month end a `to` that is not one is answered from (r; "" when
 * none is held: then read the invoices) and the days between them (lo <
 * hi). */
typedef struct near_day {
    char r[11];
    const char *lo, *hi;
} near_day;
/* 0, or -1 when the lookup failed. */
static int month_end_near(fsp_call *call, const fsp_kpi_args *args, near_day *n)
{
    int after;
    if (kc_month_end_nearest(call, &horizon, "receivables", args->to, n->r, &after) != 0) return -1;
    n->lo = after ? args->to : n->r;
    n->hi = after ? n->r : args->to;
    return 0;
}
#define NEAR(args, n) NEAR_PARAMS((args)->to, (n).r, (n).lo, (n).hi)

/* Per store owing anything at `to`: COLS, the figure's numerator and
 * denominator over hist's rows. */
#define SQL_SINCE(COLS) \
    "WITH " SQL_AGES_NEAR " SELECT store_code, NULL, " COLS ", 1 FROM hist GROUP BY store_code" \
    " HAVING SUM(open_amount) > 0"
static const char SQL_OPEN_SINCE[] = SQL_SINCE("SUM(open_amount), 1");
/* Placeholders: NEAR_PARAMS, lowest age, highest age. */
static const char SQL_AGE_BUCKET_SINCE[] = SQL_SINCE("SUM(IF(age BETWEEN ? AND ?, open_amount, 0)), 1");
/* Placeholders: NEAR_PARAMS, age. */
static const char SQL_OVER_SHARE_SINCE[] = SQL_SINCE("SUM(IF(age > ?, open_amount, 0)), SUM(open_amount)");
/* Placeholders: NEAR_PARAMS, government terms, terms. */
static const char SQL_OVERDUE_SINCE[] = SQL_SINCE("SUM(IF(age > IF(government, ?, ?), open_amount, 0)), 1");
/* Placeholders: NEAR_PARAMS, days, the period's six. */
#define DSO_SINCE(FROM) \
    "WITH " SQL_AGES_NEAR " SELECT store_code, NULL, SUM(open_amount) * ?, 0, 1 FROM hist GROUP BY store_code" \
    " HAVING SUM(open_amount) > 0" INVOICED(FROM)

/* --- a day near a held month end, once for every aging KPI ---
 * The store page and the receivables page ask nine aging KPIs of one `to`
 * at once (open, the six buckets, over_90_share, overdue); near a month end
 * each would run SQL_AGES_NEAR again. SQL_AGES_ALL computes every one of
 * their figures per store in one statement, and the figures are kept for
 * the data generation (which a change of the terms moves on) and `to`
 * (kc_keep), so the other eight KPIs read memory. The sums are the same SQL sums of
 * hist's rows as each KPI's own statement makes, so the values are equal.
 * A call that asks for some stores alone (after an import) runs the KPI's
 * own statement instead. */
enum { AGE_OPEN, AGE_B0, AGE_B31, AGE_B61, AGE_B91, AGE_B181, AGE_B366, AGE_OVER_90, AGE_OVERDUE, AGE_FIGURES };
/* Placeholders: NEAR_PARAMS, government terms, terms. */
static const char SQL_AGES_ALL[] =
    "WITH " SQL_AGES_NEAR " SELECT store_code, SUM(open_amount),"
    " SUM(IF(age BETWEEN 0 AND 30, open_amount, 0)), SUM(IF(age BETWEEN 31 AND 60, open_amount, 0)),"
    " SUM(IF(age BETWEEN 61 AND 90, open_amount, 0)), SUM(IF(age BETWEEN 91 AND 180, open_amount, 0)),"
    " SUM(IF(age BETWEEN 181 AND 365, open_amount, 0)), SUM(IF(age BETWEEN 366 AND 2000000000, open_amount, 0)),"
    " SUM(IF(age > 90, open_amount, 0)), SUM(IF(age > IF(government, ?, ?), open_amount, 0))"
    " FROM hist GROUP BY store_code HAVING SUM(open_amount) > 0";

typedef struct ages_store {
    char code[33];
    double v[AGE_FIGURES];
} ages_store;
typedef struct ages_kept {
    ages_store *stores;
    int nstores;
} ages_kept;

static void ages_kept_free(void *data)
{
    ages_kept *k = data;
    if (k) free(k->stores);
    free(k);
}
static kc_keep ages = KC_KEEP_INIT(ages_kept_free);
/* The kept figures go when the host unloads the plugin (dlclose). */
__attribute__((destructor)) static void ages_free(void) { kc_keep_clear(&ages); }

/* One aging KPI's call near the held month end n: its figure num over den
 * (-1: over 1). */
typedef struct ages_call {
    const fsp_kpi_args *args;
    const near_day *n;
    int num, den;
} ages_call;

/* Every store's figures at `to` (SQL_AGES_ALL). */
static int ages_fill(fsp_call *call, void *ud, void **out)
{
    const ages_call *ac = ud;
    int gterms, terms;
    if (kc_setting_int(call, &receivables_settings[GOVERNMENT_TERMS_DAYS], &gterms) != 0 ||
        kc_setting_int(call, &receivables_settings[TERMS_DAYS], &terms) != 0)
        return -1;
    fsp_param params[] = { NEAR(ac->args, *ac->n), FSP_P_INT(gterms), FSP_P_INT(terms) };
    fsp_result *res = NULL;
    if (kc_api->query(call, SQL_AGES_ALL, params, KC_COUNT(params), &res) != 0) return -1;
    int nrows = kc_api->result_rows(res);
    ages_kept *k = calloc(1, sizeof *k);
    if (k) k->stores = calloc((size_t)(nrows > 0 ? nrows : 1), sizeof *k->stores);
    if (!k || !k->stores) {
        kc_api->result_free(res);
        ages_kept_free(k);
        kc_api->fail(call, "out of memory while keeping the ages");
        return -1;
    }
    for (int r = 0; r < nrows; r++) {
        const char *code = kc_api->result_text(res, r, 0);
        if (!code) continue;
        ages_store *st = &k->stores[k->nstores++];
        snprintf(st->code, sizeof st->code, "%s", code);
        for (int f = 0; f < AGE_FIGURES; f++) {
            int null = 0;
            double v = kc_api->result_number(res, r, 1 + f, &null);
            st->v[f] = null ? 0.0 : v;
        }
    }
    kc_api->result_free(res);
    *out = k;
    return 0;
}

static int ages_use(fsp_call *call, const void *data, void *ud)
{
    const ages_kept *k = data;
    const ages_call *ac = ud;
    for (int i = 0; i < k->nstores; i++)
        if (kc_api->emit(call, k->stores[i].code, NULL, k->stores[i].v[ac->num],
                         ac->den < 0 ? 1.0 : k->stores[i].v[ac->den], 1) != 0) {
            kc_api->fail(call, "out of memory while emitting KPI components");
            return -1;
        }
    return 0;
}

/* Emits figure num / den of every store owing anything at `to`, near the
 * held month end n, from the figures kept for the generation and `to`
 * (computing them first). 0, or -1. */
static int ages_emit(fsp_call *call, const fsp_kpi_args *args, const near_day *n, int num, int den)
{
    ages_call ac = { .args = args, .n = n, .num = num, .den = den };
    return kc_keep_use(call, &ages, args->to, ages_fill, ages_use, &ac);
}

/* Whether a near-day figure comes from the kept figures: every store asked. */
#define AGES_SHARED(args, n) ((n).r[0] && !(args)->stores)

/* --- any other day --- */

static const char SQL_OPEN[] =
    "WITH " SQL_OPEN_INVOICES
    " SELECT store_code, NULL, SUM(open_amount), 1, 1 FROM inv GROUP BY store_code";

/* Open amount aged from ? to ? days (inclusive). */
static const char SQL_AGE_BUCKET[] =
    "WITH " SQL_OPEN_INVOICES
    " SELECT store_code, NULL, SUM(CASE WHEN age BETWEEN ? AND ? THEN open_amount ELSE 0 END), 1, 1"
    " FROM inv GROUP BY store_code";

/* Open amount aged more than ? days / open amount. */
static const char SQL_OVER_SHARE[] =
    "WITH " SQL_OPEN_INVOICES
    " SELECT store_code, NULL, SUM(CASE WHEN age > ? THEN open_amount ELSE 0 END), SUM(open_amount), 1"
    " FROM inv GROUP BY store_code";

/* Past terms: aged more than ? days for government customers, ? for others
 * (an open invoice of inv; the overdue list shares it). Placeholders:
 * TERMS_PARAMS. */
#define SQL_TERMS "IF(customer_type = 'government', ?, ?)"
#define SQL_PAST_TERMS "age > " SQL_TERMS
#define TERMS_PARAMS(government, other) FSP_P_INT(government), FSP_P_INT(other)
static const char SQL_OVERDUE[] =
    "WITH " SQL_OPEN_INVOICES
    " SELECT store_code, NULL,"
    " SUM(CASE WHEN " SQL_PAST_TERMS " THEN open_amount ELSE 0 END), 1, 1"
    " FROM inv GROUP BY store_code";

/* open x days / invoiced in the period = open / (invoiced / days), the
 * amounts invoiced read from the per store and day (month) sums of 016:
 * open amounts and invoiced amounts as separate components, which the
 * engine adds per store. Placeholders: AS_OF_PARAMS, days, the period's
 * six. */
#define INVOICED(FROM) " UNION ALL SELECT store_code, NULL, 0, SUM(amount), 1" FROM " GROUP BY store_code"
#define DSO(FROM) \
    "WITH " SQL_OPEN_INVOICES \
    " SELECT store_code, NULL, SUM(open_amount) * ?, 0, 1 FROM inv GROUP BY store_code" INVOICED(FROM)
static const kc_days_sql SQL_DSO = KC_DAYS_SQL(DSO, "amount", "rollup_invoice_day", "rollup_invoice_month");
/* The same on a held day. Placeholders: days, to, the period's six. */
#define DSO_DAY(FROM) \
    "SELECT store_code, NULL, open_amount * ?, 0, 1 FROM rollup_receivable_day WHERE day = CAST(? AS DATE)" \
    INVOICED(FROM)
static const kc_days_sql SQL_DSO_DAY = KC_DAYS_SQL(DSO_DAY, "amount", "rollup_invoice_day", "rollup_invoice_month");
static const kc_days_sql SQL_DSO_SINCE =
    KC_DAYS_SQL(DSO_SINCE, "amount", "rollup_invoice_day", "rollup_invoice_month");

/* Customers (store, customer) owing more than their credit limit: the gross
 * profit of their ROs at that store closed in (to - 6 months, to] (rollup_ro,
 * by its (store_code, customer_code, day) key). A customer who owes nothing is
 * never over the limit, even with a negative one. CTEs `owing` (each
 * customer owing anything) and `owed` (with the limit), which the list of
 * those customers reads too.
 * Placeholders: AS_OF_PARAMS, to, to (the six months). */
#define SQL_CUSTOMER_LIMITS \
    SQL_OPEN_INVOICES "," \
    " owing AS (SELECT store_code, customer_code, SUM(open_amount) AS open_amount FROM inv" \
    "   GROUP BY store_code, customer_code HAVING SUM(open_amount) > 0)," \
    " owed AS (SELECT g.store_code, g.customer_code, g.open_amount," \
    "   COALESCE((SELECT SUM(r.revenue - r.cost) FROM rollup_ro r" \
    "     WHERE r.store_code = g.store_code AND r.customer_code = g.customer_code" \
    "     AND r.day > CAST(? AS DATE) - INTERVAL 6 MONTH AND r.day <= CAST(? AS DATE)), 0) AS credit_limit" \
    "   FROM owing g)"
#define SQL_OVER_LIMIT "o.open_amount > o.credit_limit"
static const char SQL_OVER_LIMIT_ACCOUNTS[] =
    "WITH " SQL_CUSTOMER_LIMITS
    " SELECT o.store_code, NULL, SUM(" SQL_OVER_LIMIT "), 1, 1 FROM owed o GROUP BY o.store_code";

/* --- compute --- */

static const char SQL_OPEN_DAY[] = SQL_DAY("open_amount, 1");
static const char SQL_OVER_90_DAY[] = SQL_DAY("age_91_180 + age_181_365 + age_over_365, open_amount");
static const char SQL_OVER_LIMIT_DAY[] = SQL_DAY("over_limit_accounts, 1");
/* Past terms at a held month end, from the open amounts by customer type
 * and age. Placeholders: government terms, terms, to, government terms,
 * terms. */
static const char SQL_OVERDUE_MONTH_END[] =
    "SELECT store_code, NULL, SUM(IF(age_days > IF(government, ?, ?), open_amount, 0)), 1, 1"
    " FROM rollup_receivable_age WHERE day = CAST(? AS DATE) AND age_days > LEAST(?, ?) GROUP BY store_code";

static int compute_open(fsp_call *call, const fsp_kpi_args *args)
{
    int held;
    if (day_held(call, args, &held) != 0) return -1;
    if (held) return day_emit(call, args, SQL_OPEN_DAY);
    near_day n;
    if (month_end_near(call, args, &n) != 0) return -1;
    if (AGES_SHARED(args, n)) return ages_emit(call, args, &n, AGE_OPEN, -1);
    if (n.r[0]) {
        fsp_param params[] = { NEAR(args, n) };
        return kc_query_emit(call, args, SQL_OPEN_SINCE, params, KC_COUNT(params));
    }
    fsp_param params[] = { AS_OF_PARAMS(args) };
    return kc_query_emit(call, args, SQL_OPEN, params, KC_COUNT(params));
}

/* The bucket of a definition: its user points to {lowest age, highest age,
 * its statement on a held day}. */
typedef struct age_bucket {
    int min_days, max_days;
    const char *day_sql;
    int figure;                  /* its column of SQL_AGES_ALL */
} age_bucket;

static const age_bucket bucket_0_30 = { 0, 30, SQL_DAY("age_0_30, 1"), AGE_B0 },
                        bucket_31_60 = { 31, 60, SQL_DAY("age_31_60, 1"), AGE_B31 },
                        bucket_61_90 = { 61, 90, SQL_DAY("age_61_90, 1"), AGE_B61 },
                        bucket_91_180 = { 91, 180, SQL_DAY("age_91_180, 1"), AGE_B91 },
                        bucket_181_365 = { 181, 365, SQL_DAY("age_181_365, 1"), AGE_B181 },
                        bucket_over_365 = { 366, 2000000000, SQL_DAY("age_over_365, 1"), AGE_B366 };

static int compute_age_bucket(fsp_call *call, const fsp_kpi_args *args)
{
    const age_bucket *bucket = args->kpi->user;
    int held;
    if (day_held(call, args, &held) != 0) return -1;
    if (held) return day_emit(call, args, bucket->day_sql);
    near_day n;
    if (month_end_near(call, args, &n) != 0) return -1;
    if (AGES_SHARED(args, n)) return ages_emit(call, args, &n, bucket->figure, -1);
    if (n.r[0]) {
        fsp_param params[] = { NEAR(args, n), FSP_P_INT(bucket->min_days), FSP_P_INT(bucket->max_days) };
        return kc_query_emit(call, args, SQL_AGE_BUCKET_SINCE, params, KC_COUNT(params));
    }
    fsp_param params[] = { AS_OF_PARAMS(args), FSP_P_INT(bucket->min_days), FSP_P_INT(bucket->max_days) };
    return kc_query_emit(call, args, SQL_AGE_BUCKET, params, KC_COUNT(params));
}

static int compute_over_90_share(fsp_call *call, const fsp_kpi_args *args)
{
    int held;
    if (day_held(call, args, &held) != 0) return -1;
    if (held) return day_emit(call, args, SQL_OVER_90_DAY);
    near_day n;
    if (month_end_near(call, args, &n) != 0) return -1;
    if (AGES_SHARED(args, n)) return ages_emit(call, args, &n, AGE_OVER_90, AGE_OPEN);
    if (n.r[0]) {
        fsp_param params[] = { NEAR(args, n), FSP_P_INT(90) };
        return kc_query_emit(call, args, SQL_OVER_SHARE_SINCE, params, KC_COUNT(params));
    }
    fsp_param params[] = { AS_OF_PARAMS(args), FSP_P_INT(90) };
    return kc_query_emit(call, args, SQL_OVER_SHARE, params, KC_COUNT(params));
}

static int compute_overdue(fsp_call *call, const fsp_kpi_args *args)
{
    int terms_days, government_terms_days, held;
    if (kc_setting_int(call, &receivables_settings[TERMS_DAYS], &terms_days) != 0 ||
        kc_setting_int(call, &receivables_settings[GOVERNMENT_TERMS_DAYS], &government_terms_days) != 0 ||
        day_held(call, args, &held) != 0)
        return -1;
    if (held && on_edge(terms_days) && on_edge(government_terms_days)) {
        fsp_param params[] = { OVER_EDGE_PARAMS(terms_days), OVER_EDGE_PARAMS(terms_days),
                               OVER_EDGE_PARAMS(government_terms_days), FSP_P_TEXT(args->to) };
        return kc_query_emit(call, args, SQL_OVERDUE_DAY, params, KC_COUNT(params));
    }
    if (held && month_end_held(call, args, &held) != 0) return -1;
    if (held) {
        fsp_param params[] = { FSP_P_INT(government_terms_days), FSP_P_INT(terms_days), FSP_P_TEXT(args->to),
                               FSP_P_INT(government_terms_days), FSP_P_INT(terms_days) };
        return kc_query_emit(call, args, SQL_OVERDUE_MONTH_END, params, KC_COUNT(params));
    }
    near_day n;
    if (month_end_near(call, args, &n) != 0) return -1;
    if (AGES_SHARED(args, n)) return ages_emit(call, args, &n, AGE_OVERDUE, -1);
    if (n.r[0]) {
        fsp_param params[] = { NEAR(args, n), TERMS_PARAMS(government_terms_days, terms_days) };
        return kc_query_emit(call, args, SQL_OVERDUE_SINCE, params, KC_COUNT(params));
    }
    fsp_param params[] = { AS_OF_PARAMS(args), TERMS_PARAMS(government_terms_days, terms_days) };
    return kc_query_emit(call, args, SQL_OVERDUE, params, KC_COUNT(params));
}

static int compute_dso(fsp_call *call, const fsp_kpi_args *args)
{
    int held;
    if (day_held(call, args, &held) != 0) return -1;
    kc_days d;
    kc_days_of(args, &d);
    if (held) {
        fsp_param params[] = { FSP_P_INT(args->days), FSP_P_TEXT(args->to), KC_DAYS_PARAMS(d) };
        return kc_query_emit(call, args, kc_days_sql_of(&d, &SQL_DSO_DAY), params, KC_COUNT(params));
    }
    near_day n;
    if (month_end_near(call, args, &n) != 0) return -1;
    if (n.r[0]) {
        fsp_param params[] = { NEAR(args, n), FSP_P_INT(args->days), KC_DAYS_PARAMS(d) };
        return kc_query_emit(call, args, kc_days_sql_of(&d, &SQL_DSO_SINCE), params, KC_COUNT(params));
    }
    fsp_param params[] = { AS_OF_PARAMS(args), FSP_P_INT(args->days), KC_DAYS_PARAMS(d) };
    return kc_query_emit(call, args, kc_days_sql_of(&d, &SQL_DSO), params, KC_COUNT(params));
}

static int compute_over_limit_accounts(fsp_call *call, const fsp_kpi_args *args)
{
    int held;
    if (day_held(call, args, &held) != 0) return -1;
    if (held) return day_emit(call, args, SQL_OVER_LIMIT_DAY);
    fsp_param params[] = { AS_OF_PARAMS(args), FSP_P_TEXT(args->to), FSP_P_TEXT(args->to) };
    return kc_query_emit(call, args, SQL_OVER_LIMIT_ACCOUNTS, params, KC_COUNT(params));
}

/* --- lists: the invoices and customers behind the amounts --- */

/* The open invoices past terms as of `to` (the rows whose open amounts
 * receivables.overdue adds up), with the terms in force for the customer's
 * type. Placeholders: OPEN_PARAMS, TERMS_PARAMS (terms_days),
 * TERMS_PARAMS (past terms). */
static const char SQL_OVERDUE_LIST[] =
    "WITH " SQL_OPEN_INVOICES
    " SELECT inv.store_code AS store, inv.store_code AS customer_store, inv.invoice_no, inv.customer_code,"
    " c.name AS customer_name, inv.customer_type, inv.issued_on, inv.amount, inv.open_amount, inv.age AS age_days,"
    " " SQL_TERMS " AS terms_days, i.ro_no"
    " FROM inv JOIN invoices i ON i.store_code = inv.store_code AND i.invoice_no = inv.invoice_no"
    " LEFT JOIN customers c ON c.store_code = inv.store_code AND c.customer_code = inv.customer_code"
    " WHERE " SQL_PAST_TERMS;

/* The customers over their credit limit, with the excess.
 * Placeholders: OPEN_PARAMS, to, to (the six months). */
static const char SQL_OVER_LIMIT_LIST[] =
    "WITH " SQL_CUSTOMER_LIMITS
    " SELECT o.store_code AS store, o.store_code AS customer_store, o.customer_code, c.name AS customer_name,"
    " CAST(c.type AS CHAR) AS customer_type, o.open_amount, o.credit_limit, o.open_amount - o.credit_limit AS excess"
    " FROM owed o LEFT JOIN customers c ON c.store_code = o.store_code AND c.customer_code = o.customer_code"
    " WHERE " SQL_OVER_LIMIT;

static int bind_overdue_list(fsp_call *call, const fsp_list_args *args, fsp_param *out, int max)
{
    int terms_days, government_terms_days;
    if (kc_setting_int(call, &receivables_settings[TERMS_DAYS], &terms_days) != 0 ||
        kc_setting_int(call, &receivables_settings[GOVERNMENT_TERMS_DAYS], &government_terms_days) != 0)
        return -1;
    fsp_param params[] = { OPEN_PARAMS(args->to), TERMS_PARAMS(government_terms_days, terms_days),
                           TERMS_PARAMS(government_terms_days, terms_days) };
    return kc_bind_params(call, params, KC_COUNT(params), out, max);
}

static int bind_over_limit_list(fsp_call *call, const fsp_list_args *args, fsp_param *out, int max)
{
    fsp_param params[] = { OPEN_PARAMS(args->to), FSP_P_TEXT(args->to), FSP_P_TEXT(args->to) };
    return kc_bind_params(call, params, KC_COUNT(params), out, max);
}

#define COL_CUSTOMER_TYPE \
    FSP_COLUMN(.key = "customer_type", .name_zh = "客户类型", .name_en = "Customer type", .type = FSP_COL_TEXT)
#define COL_MONEY(KEY, ZH, EN) \
    FSP_COLUMN(.key = KEY, .name_zh = ZH, .name_en = EN, .unit = "CNY", .type = FSP_COL_NUMBER, .flags = FSP_COL_MONEY)
static const fsp_list_column overdue_columns[] = {
    KC_COL_STORE, KC_COL_CUSTOMER_STORE,
    FSP_COLUMN(.key = "invoice_no", .name_zh = "发票号", .name_en = "Invoice", .type = FSP_COL_TEXT),
    KC_COL_CUSTOMER_CODE, KC_COL_CUSTOMER_NAME, COL_CUSTOMER_TYPE,
    FSP_COLUMN(.key = "issued_on", .name_zh = "开票日期", .name_en = "Issued on", .type = FSP_COL_DATE),
    COL_MONEY("amount", "发票金额", "Amount"),
    COL_MONEY("open_amount", "未收金额", "Open amount"),
    FSP_COLUMN(.key = "age_days", .name_zh = "账龄（天）", .name_en = "Age", .unit = "days", .type = FSP_COL_INT),
    FSP_COLUMN(.key = "terms_days", .name_zh = "账期（天）", .name_en = "Terms", .unit = "days", .type = FSP_COL_INT),
    FSP_COLUMN(.key = "ro_no", .name_zh = "工单号", .name_en = "RO", .type = FSP_COL_TEXT),
};
static const fsp_list_column over_limit_columns[] = {
    KC_COL_STORE, KC_COL_CUSTOMER_STORE, KC_COL_CUSTOMER_CODE, KC_COL_CUSTOMER_NAME, COL_CUSTOMER_TYPE,
    COL_MONEY("open_amount", "未收金额", "Open amount"),
    COL_MONEY("credit_limit", "信用额度", "Credit limit"),
    COL_MONEY("excess", "超额", "Excess"),
};
/* (store, invoice_no) and (store, customer_code) are keys. */
static const char *const overdue_sort[] = { "store", "-age_days", "invoice_no" };
static const char *const over_limit_sort[] = { "store", "-excess", "customer_code" };

static const fsp_list_def receivables_lists[] = {
    FSP_LIST(.id = "receivables.overdue_invoices", .name_zh = "逾期发票", .name_en = "Overdue invoices", .as_of = 1,
             .explains_as = FSP_EXPLAINS_SUM, .explains_kpi = "receivables.overdue", .explains_column = "open_amount",
             .columns = overdue_columns, .ncolumns = KC_COUNT(overdue_columns),
             .default_sort = overdue_sort, .ndefault_sort = KC_COUNT(overdue_sort),
             .sql = SQL_OVERDUE_LIST, .bind = bind_overdue_list),
    FSP_LIST(.id = "receivables.over_limit_customers", .name_zh = "超额度客户", .name_en = "Customers over credit limit",
             .as_of = 1, .explains_as = FSP_EXPLAINS_COUNT, .explains_kpi = "receivables.over_limit_accounts",
             .columns = over_limit_columns, .ncolumns = KC_COUNT(over_limit_columns),
             .default_sort = over_limit_sort, .ndefault_sort = KC_COUNT(over_limit_sort),
             .sql = SQL_OVER_LIMIT_LIST, .bind = bind_over_limit_list),
};

/* --- the catalogue --- */

/* An ageing bucket: the open amount (CNY, a sum) in the ages of its .user (an age_bucket). */
#define BUCKET(...) FSP_KPI(.unit = "CNY", .fold = FSP_FOLD_SUM, .compute = compute_age_bucket, __VA_ARGS__)

static const fsp_kpi_def receivables_kpis[] = {
    FSP_KPI(.id = "receivables.open", .name_zh = "应收余额", .name_en = "Open receivables", .unit = "CNY",
            .direction = FSP_DIR_LOWER, .fold = FSP_FOLD_SUM,
            .formula = "Sum of open amounts (amount less payments on or before the period end) of invoices issued "
                       "on or before it.",
            .compute = compute_open),
    BUCKET(.id = "receivables.age_0_30", .name_zh = "账龄 0-30天", .name_en = "Aged 0-30 days",
           .direction = FSP_DIR_NONE, .formula = "Open amount aged 0 to 30 days at the period end.",
           .user = &bucket_0_30),
    BUCKET(.id = "receivables.age_31_60", .name_zh = "账龄 31-60天", .name_en = "Aged 31-60 days",
           .direction = FSP_DIR_NONE, .formula = "Open amount aged 31 to 60 days at the period end.",
           .user = &bucket_31_60),
    BUCKET(.id = "receivables.age_61_90", .name_zh = "账龄 61-90天", .name_en = "Aged 61-90 days",
           .direction = FSP_DIR_NONE, .formula = "Open amount aged 61 to 90 days at the period end.",
           .user = &bucket_61_90),
    BUCKET(.id = "receivables.age_91_180", .name_zh = "账龄 91-180天", .name_en = "Aged 91-180 days",
           .direction = FSP_DIR_NONE, .formula = "Open amount aged 91 to 180 days at the period end.",
           .user = &bucket_91_180),
    BUCKET(.id = "receivables.age_181_365", .name_zh = "坏账 (超过6个月)", .name_en = "Bad debt (181-365 days)",
           .direction = FSP_DIR_LOWER, FSP_TARGET(0), .formula = "Open amount aged 181 to 365 days at the period end.",
           .user = &bucket_181_365),
    BUCKET(.id = "receivables.age_over_365", .name_zh = "死账 (超过1年)", .name_en = "Dead debt (over 365 days)",
           .direction = FSP_DIR_LOWER, FSP_TARGET(0),
           .formula = "Open amount aged more than 365 days at the period end.", .user = &bucket_over_365),
    FSP_KPI(.id = "receivables.over_90_share", .name_zh = "超90天占比", .name_en = "Share aged over 90 days",
            .unit = "ratio", .direction = FSP_DIR_LOWER, .fold = FSP_FOLD_RATIO,
            .formula = "Open amount aged more than 90 days / receivables.open.",
            .compute = compute_over_90_share),
    FSP_KPI(.id = "receivables.overdue", .name_zh = "逾期金额", .name_en = "Overdue receivables", .unit = "CNY",
            .direction = FSP_DIR_LOWER, FSP_TARGET(0), .fold = FSP_FOLD_SUM,
            .formula = "Open amount aged more than receivables.terms_days (90) days from issue, "
                       "receivables.government_terms_days (180) for government customers.",
            .compute = compute_overdue),
    FSP_KPI(.id = "receivables.dso", .name_zh = "应收周转天数", .name_en = "Days sales outstanding", .unit = "days",
            .direction = FSP_DIR_LOWER, .fold = FSP_FOLD_RATIO,
            .formula = "receivables.open / (amount invoiced in the period / days in the period).",
            .compute = compute_dso),
    FSP_KPI(.id = "receivables.over_limit_accounts", .name_zh = "超额度客户数", .name_en = "Accounts over credit limit",
            .unit = "count", .direction = FSP_DIR_LOWER, FSP_TARGET(0), .fold = FSP_FOLD_SUM,
            .formula = "Customers (store, customer) whose open amount exceeds the gross profit of their ROs at that "
                       "store closed in the 6 months up to the period end.",
            .compute = compute_over_limit_accounts),
};

/* --- the plugin --- */

static int receivables_init(fsp_host *host, const fsp_host_api *api)
{
    if (kc_register_all(host, api, receivables_kpis, KC_COUNT(receivables_kpis), receivables_settings,
                        KC_COUNT(receivables_settings), NULL) != 0)
        return -1;
    return kc_register_lists(host, receivables_lists, KC_COUNT(receivables_lists));
}

FSP_PLUGIN(.name = "receivables", .version = "1.1.0", .init = receivables_init,
           .description = "Receivables as of the period end: open amount, ageing buckets, overdue, DSO, accounts over limit");
