/* rollup_receivable_day: every day's receivables of a store
 * (schemas/031_receivable_days.sql), so that the receivables KPIs
 * (docs/kpis.md, as of the period end `to`) read one row per store for any
 * `to` up to the horizon, not only at month ends.
 *
 * An invoice's open amount is a step function of the day: its amount from
 * issued_on, less each payment from the day it is paid (a payment dated
 * before the issue counts from the issue), counted only while positive. So
 * each invoice is a few segments [a, b) of constant open amount v, and a
 * segment adds v to an age bucket on the days where the invoice's age falls
 * in it: one interval per bucket. Those intervals go into per-day
 * difference arrays (+v on the first day, -v on the day after the last),
 * whose running sums are the day rows. A customer is over its credit limit
 * on a day when it owes more than 0 and more than the gross profit of its
 * ROs at the store closed in the six months up to the day (kpis.md): its
 * open amount and its limit are both step functions (an RO counts from its
 * day until the first day whose "six months before" reaches it), swept day
 * by day over their change points. Amounts are counted exactly, in
 * ten-thousandths of a yuan (rollup_ro's scale; invoices have cents), so
 * the sums equal the SQL sums of the month ends and the lists.
 *
 * Part of the derived-data layer (core/data/); called by rollup_month_end.c. */
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "calendar.h"
#include "rollup_receivable_day.h"

#define MAX_DAYS 73000               /* a range of at most 200 years */
enum { NBUCKETS = 6 };
/* The catalogue's age buckets in days (kpis.md), the columns' order. */
static const int BUCKET_LO[NBUCKETS] = { 0, 31, 61, 91, 181, 366 };
static const int BUCKET_HI[NBUCKETS] = { 30, 60, 90, 180, 365, INT_MAX };
#define NCOLS (3 + 2 * NBUCKETS + 1)  /* day, store, open, buckets, government's buckets, over limit */
#define CELL 32                       /* a day or an amount as text */

typedef long long money;              /* 1/10000 yuan */

/* The invoices of the store that may be open on a day of [from, to], with
 * their payments up to `to`, by customer and invoice (each invoice's rows
 * together, its payments by day). The customer's type is joined, not a
 * subquery: sorted, a subquery per row cost six times the statement.
 * Params: to, store, to, from. */
static const char SQL_INVOICES[] =
    "SELECT a.customer_code, a.invoice_no, a.issued_on, a.amount, COALESCE(c.type = 'government', 0),"
    " p.paid_on, p.amount"
    " FROM rollup_invoice_open a FORCE INDEX (uk_invoice_open)"
    " LEFT JOIN customers c ON c.store_code = a.store_code AND c.customer_code = a.customer_code"
    " LEFT JOIN payments p FORCE INDEX (k_payment_invoice) ON p.store_code = a.store_code"
    "   AND p.invoice_no = a.invoice_no AND p.paid_on <= CAST(? AS DATE)"
    " WHERE a.store_code = ? AND a.issued_on <= CAST(? AS DATE) AND a.settled_on > CAST(? AS DATE)"
    " ORDER BY a.customer_code, a.invoice_no, p.paid_on";
/* The gross profit of those customers' ROs that may count for a day of
 * [from, to], by customer and day: each customer's ROs of the period by
 * its key. Params: store, to, from, store, from, to. */
static const char SQL_CREDIT[] =
    "SELECT r.customer_code, r.day, r.revenue - r.cost FROM (SELECT DISTINCT a.customer_code"
    "   FROM rollup_invoice_open a FORCE INDEX (uk_invoice_open)"
    "   WHERE a.store_code = ? AND a.issued_on <= CAST(? AS DATE) AND a.settled_on > CAST(? AS DATE)) k"
    " STRAIGHT_JOIN rollup_ro r FORCE INDEX (k_rollup_ro_customer) ON r.store_code = ?"
    "   AND r.customer_code = k.customer_code"
    "   AND r.day > CAST(? AS DATE) - INTERVAL 6 MONTH AND r.day <= CAST(? AS DATE)"
    " ORDER BY r.customer_code, r.day";
static const char SQL_DELETE[] = "DELETE FROM rollup_receivable_day WHERE store_code = ? AND day BETWEEN ? AND ?";
static const char SQL_INSERT[] =
    "INSERT INTO rollup_receivable_day (day, store_code, open_amount, age_0_30, age_31_60, age_61_90,"
    " age_91_180, age_181_365, age_over_365, gov_age_0_30, gov_age_31_60, gov_age_61_90, gov_age_91_180,"
    " gov_age_181_365, gov_age_over_365, over_limit_accounts) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";

/* --- dates and amounts --- */

/* Days since 1970-01-01 of 'YYYY-MM-DD'; false when it is not one. */
static bool day_parse(const char *s, int *out)
{
    int y, m, d;
    if (!s || sscanf(s, "%4d-%2d-%2d", &y, &m, &d) != 3 || m < 1 || m > 12 || d < 1 ||
        d > calendar_days_in_month(y, m))
        return false;
    *out = calendar_days_from_civil(y, m, d);
    return true;
}

static void day_format(int z, char out[CELL])
{
    int y, m, d;
    calendar_civil_from_days(z, &y, &m, &d);
    snprintf(out, CELL, "%04d-%02d-%02d", y % 10000, m, d);
}

/* The day `months` calendar months before day z, clamped to the end of a
 * shorter month (MariaDB's DATE - INTERVAL n MONTH). */
static int months_before(int z, int months)
{
    int y, m, d;
    calendar_civil_from_days(z, &y, &m, &d);
    int k = y * 12 + (m - 1) - months;
    int y2 = k / 12, m2 = k % 12 + 1, dim = calendar_days_in_month(y2, m2);
    return calendar_days_from_civil(y2, m2, d < dim ? d : dim);
}

/* The first day on which an RO of day x no longer counts for the limit:
 * the first d with d - 6 months >= x (d - 6 months only grows with d, and
 * x + 178 days less six months, at least 181 days, is before x). */
static int credit_end(int x)
{
    int d = x + 178;
    while (months_before(d, 6) < x) d++;
    return d;
}

/* A decimal's text ("-12.5", "300.0000") in 1/10000; false when it is not one. */
static bool money_parse(const char *s, money *out)
{
    if (!s) return false;
    bool neg = *s == '-';
    if (*s == '-' || *s == '+') s++;
    money v = 0;
    int digits = 0, frac = -1;
    for (; *s; s++) {
        if (*s == '.' && frac < 0) {
            frac = 0;
            continue;
        }
        if (*s < '0' || *s > '9' || frac >= 4 || v > (LLONG_MAX - 9) / 10) return false;
        v = v * 10 + (*s - '0');
        digits++;
        if (frac >= 0) frac++;
    }
    if (!digits) return false;
    for (int f = frac < 0 ? 0 : frac; f < 4; f++) {
        if (v > LLONG_MAX / 10) return false;
        v *= 10;
    }
    *out = neg ? -v : v;
    return true;
}

/* An amount of whole cents as text. */
static void money_format(money v, char out[CELL])
{
    unsigned long long a = v < 0 ? (unsigned long long)-(v + 1) + 1u : (unsigned long long)v;
    snprintf(out, CELL, "%s%llu.%02llu", v < 0 ? "-" : "", a / 10000u, a % 10000u / 100u);
}

/* --- the sums of one store --- */

/* Difference arrays over the days [from, to]: index i is day from + i, and
 * the extra last slot takes the ends that fall after `to`. */
typedef struct day_sums {
    int from, to, n;
    money *age[NBUCKETS], *gov[NBUCKETS];
    int *over;
} day_sums;

/* One change of a customer's open amount or limit, from `day` on. */
typedef struct change {
    int day;
    money open, limit;
} change;

typedef struct customer_changes {
    change *v;
    size_t n, cap;
} customer_changes;

static bool changes_add(customer_changes *cc, int day, money open, money limit)
{
    if (cc->n == cc->cap) {
        size_t cap = cc->cap ? cc->cap * 2 : 64;
        change *v = realloc(cc->v, cap * sizeof *v);
        if (!v) return false;
        cc->v = v;
        cc->cap = cap;
    }
    cc->v[cc->n++] = (change){ day, open, limit };
    return true;
}

static int change_cmp(const void *a, const void *b)
{
    int x = ((const change *)a)->day, y = ((const change *)b)->day;
    return (x > y) - (x < y);
}

/* Adds v to [a, b) of the difference array d (days clipped to the range). */
static void span_add(const day_sums *s, money *d, int a, int b, money v)
{
    if (a < s->from) a = s->from;
    if (b > s->to + 1) b = s->to + 1;
    if (a >= b) return;
    d[a - s->from] += v;
    d[b - s->from] -= v;
}

/* An invoice issued on `issued` open for v > 0 on the days [a, b) (b =
 * INT_MAX: every day after): its buckets, and its customer's open amount. */
static bool segment_add(day_sums *s, customer_changes *cc, int issued, bool government, int a, int b, money v)
{
    if (v <= 0 || a >= b) return true;
    for (int k = 0; k < NBUCKETS; k++) {
        int lo = issued + BUCKET_LO[k];
        int hi = BUCKET_HI[k] == INT_MAX || issued > INT_MAX - BUCKET_HI[k] - 1 ? INT_MAX : issued + BUCKET_HI[k] + 1;
        int st = a > lo ? a : lo, en = b < hi ? b : hi;
        span_add(s, s->age[k], st, en, v);
        if (government) span_add(s, s->gov[k], st, en, v);
    }
    return changes_add(cc, a, v, 0) && (b == INT_MAX || changes_add(cc, b, -v, 0));
}

/* A customer's days over its limit, from its changes: +1 over each run. */
static void customer_sweep(day_sums *s, customer_changes *cc)
{
    qsort(cc->v, cc->n, sizeof *cc->v, change_cmp);
    money open = 0, limit = 0;
    size_t k = 0;
    for (; k < cc->n && cc->v[k].day <= s->from; k++) {
        open += cc->v[k].open;
        limit += cc->v[k].limit;
    }
    int day = s->from, start = -1;
    for (;;) {
        bool over = open > 0 && open > limit;
        if (over && start < 0) start = day;
        if (!over && start >= 0) {
            s->over[start - s->from]++;
            s->over[day - s->from]--;
            start = -1;
        }
        if (k >= cc->n || cc->v[k].day > s->to) break;
        day = cc->v[k].day;
        for (; k < cc->n && cc->v[k].day == day; k++) {
            open += cc->v[k].open;
            limit += cc->v[k].limit;
        }
    }
    if (start >= 0) {
        s->over[start - s->from]++;
        s->over[s->n]--;
    }
    cc->n = 0;
}

/* One invoice: rows [r0, r1) of inv (its payments by day, or one row
 * without). */
static bool invoice_add(day_sums *s, customer_changes *cc, const db_result *inv, int r0, int r1)
{
    int issued;
    money amount;
    if (!day_parse(db_cell(inv, r0, 2), &issued) || !money_parse(db_cell(inv, r0, 3), &amount)) return false;
    bool government = db_cell(inv, r0, 4) && strcmp(db_cell(inv, r0, 4), "1") == 0;
    money open = amount;
    int since = issued;
    for (int r = r0; r < r1; r++) {
        if (!db_cell(inv, r, 5)) continue;                   /* no payment */
        int paid;
        money paid_amount;
        if (!day_parse(db_cell(inv, r, 5), &paid) || !money_parse(db_cell(inv, r, 6), &paid_amount)) return false;
        if (paid < issued) paid = issued;
        if (paid > since) {
            if (!segment_add(s, cc, issued, government, since, paid, open)) return false;
            since = paid;
        }
        open -= paid_amount;
    }
    return segment_add(s, cc, issued, government, since, INT_MAX, open);
}

/* The customer's ROs among credit's rows from *r on (both by customer):
 * each counts for the limit from its day to credit_end. */
static bool credit_add(customer_changes *cc, const db_result *credit, int *r, const char *customer)
{
    for (; *r < credit->nrows; (*r)++) {
        int c = strcmp(db_cell(credit, *r, 0), customer);
        if (c > 0) break;
        if (c < 0) continue;                                 /* a customer owing nothing in the range */
        int day;
        money profit;
        if (!day_parse(db_cell(credit, *r, 1), &day) || !money_parse(db_cell(credit, *r, 2), &profit)) return false;
        if (!changes_add(cc, day, 0, profit) || !changes_add(cc, credit_end(day), 0, -profit)) return false;
    }
    return true;
}

/* Every invoice and customer of the store into s. */
static bool sums_fill(day_sums *s, const db_result *inv, const db_result *credit)
{
    customer_changes cc = { 0 };
    int cr = 0;
    bool ok = true;
    for (int r0 = 0; ok && r0 < inv->nrows;) {
        const char *customer = db_cell(inv, r0, 0);
        int r1 = r0;
        while (r1 < inv->nrows && strcmp(db_cell(inv, r1, 0), customer) == 0) r1++;
        for (int i0 = r0; ok && i0 < r1;) {                  /* each invoice of the customer */
            int i1 = i0 + 1;
            while (i1 < r1 && strcmp(db_cell(inv, i1, 1), db_cell(inv, i0, 1)) == 0) i1++;
            ok = invoice_add(s, &cc, inv, i0, i1);
            i0 = i1;
        }
        ok = ok && credit_add(&cc, credit, &cr, customer);
        if (ok) customer_sweep(s, &cc);
        r0 = r1;
    }
    free(cc.v);
    return ok;
}

static void sums_free(day_sums *s)
{
    for (int k = 0; k < NBUCKETS; k++) {
        free(s->age[k]);
        free(s->gov[k]);
    }
    free(s->over);
}

static bool sums_alloc(day_sums *s, int from, int to)
{
    *s = (day_sums){ .from = from, .to = to, .n = to - from + 1 };
    bool ok = (s->over = calloc((size_t)s->n + 1, sizeof *s->over)) != NULL;
    for (int k = 0; k < NBUCKETS; k++)
        ok = ok && (s->age[k] = calloc((size_t)s->n + 1, sizeof(money))) != NULL &&
             (s->gov[k] = calloc((size_t)s->n + 1, sizeof(money))) != NULL;
    return ok;
}

/* The running sums of s as rows (the days the store owes anything) into
 * vals/text; the number of rows. */
static int sums_rows(const day_sums *s, const char *store, db_val *vals, char (*text)[CELL])
{
    money age[NBUCKETS] = { 0 }, gov[NBUCKETS] = { 0 };
    int over = 0, rows = 0;
    for (int i = 0; i < s->n; i++) {
        money open = 0;
        for (int k = 0; k < NBUCKETS; k++) {
            age[k] += s->age[k][i];
            gov[k] += s->gov[k][i];
            open += age[k];
        }
        over += s->over[i];
        if (open <= 0) continue;
        db_val *v = vals + (size_t)rows * NCOLS;
        char (*t)[CELL] = text + (size_t)rows * NCOLS;
        day_format(s->from + i, t[0]);
        money_format(open, t[2]);
        for (int k = 0; k < NBUCKETS; k++) {
            money_format(age[k], t[3 + k]);
            money_format(gov[k], t[3 + NBUCKETS + k]);
        }
        for (int j = 0; j < NCOLS - 1; j++) v[j] = DB_STR(t[j]);
        v[1] = DB_STR(store);
        v[NCOLS - 1] = DB_INT(over);
        rows++;
    }
    return rows;
}

/* --- entry points --- */

int receivable_days_store(db_conn *c, const char *store, const char *from, const char *to, char *err, size_t errlen)
{
    int first, last;
    if (!day_parse(from, &first) || !day_parse(to, &last)) {
        snprintf(err, errlen, "receivables by day: %s to %s is not a range of days", from, to);
        return -1;
    }
    if (first > last) return 0;
    if (last - first >= MAX_DAYS) {
        snprintf(err, errlen, "receivables by day: %s to %s spans more than %d days", from, to, MAX_DAYS);
        return -1;
    }
    db_val range[3] = { DB_STR(store), DB_STR(from), DB_STR(to) };
    db_val inv_params[4] = { DB_STR(to), DB_STR(store), DB_STR(to), DB_STR(from) };
    db_val credit_params[6] = { DB_STR(store), DB_STR(to), DB_STR(from), DB_STR(store), DB_STR(from), DB_STR(to) };
    db_result *inv = NULL, *credit = NULL;
    if (db_exec(c, SQL_DELETE, range, 3, NULL, err, errlen) != 0 ||
        db_query(c, SQL_INVOICES, inv_params, 4, &inv, err, errlen) != 0 ||
        db_query(c, SQL_CREDIT, credit_params, 6, &credit, err, errlen) != 0) {
        db_result_free(inv);
        return -1;
    }
    day_sums s;
    int rc = -1;
    db_val *vals = NULL;
    char (*text)[CELL] = NULL;
    if (!sums_alloc(&s, first, last)) {
        snprintf(err, errlen, "receivables by day of %s: out of memory", store);
        goto done;
    }
    if (!sums_fill(&s, inv, credit)) {
        snprintf(err, errlen, "receivables by day of %s: an invoice, payment or RO amount or day is not readable",
                 store);
        goto done;
    }
    vals = calloc((size_t)s.n * NCOLS, sizeof *vals);
    text = calloc((size_t)s.n * NCOLS, sizeof *text);
    if (!vals || !text) {
        snprintf(err, errlen, "receivables by day of %s: out of memory", store);
        goto done;
    }
    int rows = sums_rows(&s, store, vals, text);
    rc = rows == 0 ? 0 : db_exec_bulk(c, SQL_INSERT, vals, NCOLS, rows, NULL, err, errlen);
done:
    free(vals);
    free(text);
    sums_free(&s);
    db_result_free(inv);
    db_result_free(credit);
    return rc;
}

int receivable_days_clear(db_conn *c, char *err, size_t errlen)
{
    return db_exec(c, "DELETE FROM rollup_receivable_day", NULL, 0, NULL, err, errlen);
}
