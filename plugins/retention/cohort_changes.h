/* cohort_changes.h: for the cohort KPIs of plugins/retention/retention.c
 * (churn by year, first service rate) on a day `to` after a held month end
 * R: the vehicles whose state differs between R and `to` (ended after R by
 * `to`, begun after R and holding at `to`), read once per data generation
 * and `to` and kept (kc_keep), and the answer made of a KPI's own month-end
 * counts and edges plus those changes in its cohort. Included once, by
 * retention.c, after plugins/kpi_common.h. */
#ifndef FOURSCORE_PLUGINS_RETENTION_COHORT_CHANGES_H
#define FOURSCORE_PLUGINS_RETENTION_COHORT_CHANGES_H
#include "../kpi_common.h"

/* The changed states of a `to` with a sale: selling store, sale day, last
 * visit (or sale) day, first visit, and -1 (ended after R by `to`) or +1
 * (begun after R, holding at `to`). The ended ones come from the until_on
 * key alone (schemas/033), the begun ones from one short range of the
 * primary key per span_class. The rows go to the plugin as they are: a
 * condition per row costs MariaDB more than reading the row (a group's
 * 100k changed states: 0.2 s of flags and grouping against 0.1 s), so the
 * flags are worked out here. Placeholders: R, to, R; R, to, to. */
static const char SQL_COHORT_CHANGES[] =
    "SELECT v.sale_store_code, v.sold_on, v.from_on, v.first_visit_on, -1"
    " FROM rollup_vehicle_state v FORCE INDEX (k_vehicle_state_until)"
    " WHERE v.until_on > CAST(? AS DATE) AND v.until_on <= CAST(? AS DATE) AND v.from_on <= CAST(? AS DATE)"
    " AND v.sold_on IS NOT NULL"
    " UNION ALL SELECT v.sale_store_code, v.sold_on, v.from_on, v.first_visit_on, 1"
    " FROM rollup_vehicle_state v FORCE INDEX (PRIMARY)"
    " WHERE v.span_class IN " KC_SPAN_CLASSES " AND v.from_on > CAST(? AS DATE) AND v.from_on <= CAST(? AS DATE)"
    " AND v.until_on > CAST(? AS DATE) AND v.sold_on IS NOT NULL";

/* The changes counted (vehicles: ended out, begun in) by selling store,
 * churn cohort year (1, 2, 3: sold in (to - 12y, to - 12(y - 1)] months; 0:
 * none), in the first-service cohort (sold in ((to - F) - 12, to - F]
 * months), served within F months of the sale, and last seen on or before
 * to - L months: a few thousand rows, by store. */
typedef struct cohort_change {
    char store[33];
    unsigned char churn_year, first_cohort, served, lost;
    int vehicles;                    /* signed */
} cohort_change;
typedef struct cohort_changes {
    cohort_change *rows;
    int n;
} cohort_changes;

/* The days the flags compare with: to - 12, 24, 36 months; the first
 * service cohort's (lo, hi]; to - L months. */
typedef struct change_days {
    char year1[11], year2[11], year3[11], first_lo[11], first_hi[11], lost[11];
    int first_service_months;
} change_days;

/* Whether the day `first` is on or before `sold` + F months (MariaDB's
 * interval: the same day number, clamped to a shorter month), both valid
 * 'YYYY-MM-DD': on integers, without formatting a day per row. */
#define CHANGE_NUM2(p) (((p)[0] - '0') * 10 + ((p)[1] - '0'))
static int change_by_months(const char *sold, const char *first, int months)
{
    int y = CHANGE_NUM2(sold) * 100 + CHANGE_NUM2(sold + 2), m = CHANGE_NUM2(sold + 5), d = CHANGE_NUM2(sold + 8);
    int k = y * 12 + (m - 1) + months, by_y = k / 12, by_m = k % 12 + 1;
    int by_d = d < kc_month_days(by_y, by_m) ? d : kc_month_days(by_y, by_m);
    int fk = (CHANGE_NUM2(first) * 100 + CHANGE_NUM2(first + 2)) * 12 + CHANGE_NUM2(first + 5) - 1;
    return fk < k || (fk == k && CHANGE_NUM2(first + 8) <= by_d);
}

/* One changed state's flags (a row of SQL_COHORT_CHANGES) into row (its
 * store not copied): 0, or -1 when its cells are not what the statement
 * gives. */
static int change_flag(const fsp_result *res, int i, const change_days *d, cohort_change *row)
{
    const char *sold = kc_api->result_text(res, i, 1), *seen = kc_api->result_text(res, i, 2);
    const char *first = kc_api->result_text(res, i, 3);
    if (!sold || !seen || strlen(sold) < 10 || strlen(seen) < 10 || (first && strlen(first) < 10)) return -1;
    row->churn_year = strcmp(sold, d->year1) > 0 ? 1 : strcmp(sold, d->year2) > 0 ? 2
                    : strcmp(sold, d->year3) > 0 ? 3 : 0;
    row->first_cohort = strcmp(sold, d->first_lo) > 0 && strcmp(sold, d->first_hi) <= 0;
    row->served = first && change_by_months(sold, first, d->first_service_months);
    row->lost = strcmp(seen, d->lost) <= 0;
    row->vehicles = (int)kc_api->result_number(res, i, 4, NULL);
    return 0;
}

/* The flags as one of 32 counters of a store. */
#define CHANGE_COMBOS 32
static int change_combo(const cohort_change *r)
{
    return r->churn_year * 8 + r->first_cohort * 4 + r->served * 2 + r->lost;
}

/* The counters of the stores met so far, found by a hash of the code. */
typedef struct change_store {
    char code[33];
    long long n[CHANGE_COMBOS];
} change_store;
typedef struct change_stores {
    change_store *v;
    int *slot;                       /* open addressing: index into v + 1, 0 free */
    int n, cap, nslots;
} change_stores;

static change_store *change_store_of(change_stores *t, const char *code)
{
    unsigned h = 2166136261u;
    for (const char *p = code; *p; p++) h = (h ^ (unsigned char)*p) * 16777619u;
    for (int i = (int)(h % (unsigned)t->nslots);; i = (i + 1) % t->nslots) {
        if (!t->slot[i]) {
            if (t->n == t->cap) return NULL;
            change_store *st = &t->v[t->n++];
            snprintf(st->code, sizeof st->code, "%s", code);
            t->slot[i] = t->n;
            return st;
        }
        if (strcmp(t->v[t->slot[i] - 1].code, code) == 0) return &t->v[t->slot[i] - 1];
    }
}

static int change_store_cmp(const void *a, const void *b)
{
    return strcmp(((const change_store *)a)->code, ((const change_store *)b)->code);
}

static void cohort_changes_free(void *data)
{
    cohort_changes *c = data;
    if (c) free(c->rows);
    free(c);
}
static kc_keep cohort_kept = KC_KEEP_INIT(cohort_changes_free);
__attribute__((destructor)) static void cohort_kept_free(void) { kc_keep_clear(&cohort_kept); }

/* One cohort KPI's figures near R: the statement of its month-end counts
 * and edges (store_code, numerator, denominator, by store) and its
 * parameters; its cohort among the changes: churn of year 1-3 (numerator:
 * lost), or 0 for first service (numerator: served). */
typedef struct cohort_near {
    const char *to, *r;
    int first_service_months, lost_after_months;  /* F and L */
    const char *sql;
    const fsp_param *params;
    int nparams;
    int churn_year;
    fsp_result *base;
} cohort_near;

static int cohort_changes_fill(fsp_call *call, void *ud, void **out)
{
    const cohort_near *cn = ud;
    const char *to = cn->to, *r = cn->r;
    change_days d = { .first_service_months = cn->first_service_months };
    kc_months_before(to, 12, d.year1);
    kc_months_before(to, 24, d.year2);
    kc_months_before(to, 36, d.year3);
    kc_months_before(to, cn->first_service_months, d.first_hi);
    kc_months_before(d.first_hi, 12, d.first_lo);
    kc_months_before(to, cn->lost_after_months, d.lost);
    fsp_param params[] = { FSP_P_TEXT(r), FSP_P_TEXT(to), FSP_P_TEXT(r), FSP_P_TEXT(r), FSP_P_TEXT(to), FSP_P_TEXT(to) };
    fsp_result *res = NULL;
    if (kc_api->query(call, SQL_COHORT_CHANGES, params, KC_COUNT(params), &res) != 0) return -1;
    int n = kc_api->result_rows(res);
    /* counted per store (at most one per two rows, and a few thousand) */
    change_stores t = { .cap = n / 2 + 1 < 20000 ? n / 2 + 1 : 20000 };
    t.nslots = 2 * t.cap + 1;
    t.v = calloc((size_t)t.cap, sizeof *t.v);
    t.slot = calloc((size_t)t.nslots, sizeof *t.slot);
    cohort_changes *c = calloc(1, sizeof *c);
    int rc = t.v && t.slot && c ? 0 : -1;
    for (int i = 0; rc == 0 && i < n; i++) {
        cohort_change row;
        const char *store = kc_api->result_text(res, i, 0);
        if (!store || change_flag(res, i, &d, &row) != 0) continue;
        change_store *st = change_store_of(&t, store);
        if (!st) rc = -1;
        else st->n[change_combo(&row)] += row.vehicles;
    }
    kc_api->result_free(res);
    /* as rows by store: the counters that are not 0 */
    if (rc == 0) {
        qsort(t.v, (size_t)t.n, sizeof *t.v, change_store_cmp);
        c->rows = calloc((size_t)t.n * CHANGE_COMBOS + 1, sizeof *c->rows);
        if (!c->rows) rc = -1;
    }
    for (int i = 0; rc == 0 && i < t.n; i++)
        for (int k = 0; k < CHANGE_COMBOS; k++) {
            if (!t.v[i].n[k]) continue;
            cohort_change *row = &c->rows[c->n++];
            snprintf(row->store, sizeof row->store, "%s", t.v[i].code);
            row->churn_year = (unsigned char)(k / 8);
            row->first_cohort = (k / 4) % 2;
            row->served = (k / 2) % 2;
            row->lost = k % 2;
            row->vehicles = (int)t.v[i].n[k];
        }
    free(t.v);
    free(t.slot);
    if (rc != 0) {
        cohort_changes_free(c);
        kc_api->fail(call, "out of memory while keeping the vehicles' changes");
        return -1;
    }
    *out = c;
    return 0;
}

/* Emits every store's month-end counts and edges (cn->base, by store) plus
 * its changes in the cohort, where the cohort holds any vehicle. */
static int cohort_near_emit(fsp_call *call, const void *data, void *ud)
{
    const cohort_changes *c = data;
    const cohort_near *cn = ud;
    int nbase = kc_api->result_rows(cn->base), b = 0, k = 0;
    while (b < nbase || k < c->n) {
        const char *bs = b < nbase ? kc_api->result_text(cn->base, b, 0) : NULL;
        if (b < nbase && !bs) {
            b++;
            continue;
        }
        const char *store = !bs ? c->rows[k].store : k >= c->n || strcmp(bs, c->rows[k].store) <= 0 ? bs
                                                                                                        : c->rows[k].store;
        double num = 0, den = 0;
        if (bs && strcmp(bs, store) == 0) {
            num = kc_api->result_number(cn->base, b, 1, NULL);
            den = kc_api->result_number(cn->base, b, 2, NULL);
            b++;
        }
        for (; k < c->n && strcmp(c->rows[k].store, store) == 0; k++) {
            const cohort_change *row = &c->rows[k];
            if (cn->churn_year ? row->churn_year != cn->churn_year : !row->first_cohort) continue;
            den += row->vehicles;
            if (cn->churn_year ? row->lost : row->served) num += row->vehicles;
        }
        if (den > 0 && kc_api->emit(call, store, NULL, num, den, 1) != 0) {
            kc_api->fail(call, "out of memory while emitting KPI components");
            return -1;
        }
    }
    return 0;
}

/* The near answer of cn (its base statement run first): 0, or -1. */
static int cohort_near_compute(fsp_call *call, cohort_near *cn)
{
    if (kc_api->query(call, cn->sql, cn->params, cn->nparams, &cn->base) != 0) return -1;
    int rc = kc_keep_use(call, &cohort_kept, cn->to, cohort_changes_fill, cohort_near_emit, cn);
    kc_api->result_free(cn->base);
    return rc;
}

#endif
