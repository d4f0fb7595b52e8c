/* kpi_targets: the budgets of a KPI answer (see kpi_targets.h). One read of
 * the targets table per KPI id, over the months of the period, into a
 * (store, month) matrix; then each row sums its stores and months pro rata
 * by the days of each month inside the row's period. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "calendar.h"
#include "kpi_targets.h"

static const char SQL_TARGETS[] =
    "SELECT store_code, month, value FROM targets WHERE kpi = ? AND month >= ? AND month <= ?";

/* The position of code in the sorted stores, or -1. */
static int store_pos(const char *const *stores, int n, const char *code)
{
    int lo = 0, hi = n - 1;
    while (lo <= hi) {
        int mid = (lo + hi) / 2;
        int c = strcmp(stores[mid], code);
        if (c == 0) return mid;
        if (c < 0) lo = mid + 1;
        else hi = mid - 1;
    }
    return -1;
}

/* Month index (since the period's first month) of "YYYY-MM", or -1. */
static int month_pos(const kpi_target_rows *q, const char *s, int nmonths)
{
    if (!s || strlen(s) != 7 || s[4] != '-') return -1;
    int y = atoi(s), m = atoi(s + 5);
    int i = (y - q->fy) * 12 + (m - q->fm);
    return i >= 0 && i < nmonths ? i : -1;
}

/* A month's target pro rata: value x (days of month i of the period inside
 * it / days of that month), multiplied first so that whole shares stay exact. */
static double month_part(const kpi_target_rows *q, int i, int nmonths, double value)
{
    int y = q->fy + (q->fm - 1 + i) / 12, m = (q->fm - 1 + i) % 12 + 1;
    int dim = calendar_days_in_month(y, m);
    int d0 = i == 0 ? q->fd : 1, d1 = i == nmonths - 1 ? q->td : dim;
    return value * (double)(d1 - d0 + 1) / (double)dim;
}

int kpi_targets_sum(db_conn *c, const char *id, const kpi_target_rows *q, double *out, bool *is_null,
                    char *err, size_t errlen)
{
    int nmonths = (q->ty - q->fy) * 12 + (q->tm - q->fm) + 1;
    for (int r = 0; r < q->nrows; r++) {
        out[r] = 0;
        is_null[r] = false;
    }
    if (q->nrows == 0) return 0;
    size_t cells = (size_t)(q->nstores ? q->nstores : 1) * (size_t)nmonths;
    double *value = calloc(cells, sizeof *value);
    bool *have = calloc(cells, sizeof *have);
    if (!value || !have) {
        free(value);
        free(have);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    char m0[8], m1[8];
    snprintf(m0, sizeof m0, "%04u-%02u", (unsigned)q->fy % 10000u, (unsigned)q->fm % 100u);
    snprintf(m1, sizeof m1, "%04u-%02u", (unsigned)q->ty % 10000u, (unsigned)q->tm % 100u);
    db_val params[] = { DB_STR(id), DB_STRN(m0, strlen(m0)), DB_STRN(m1, strlen(m1)) };
    db_result *res = NULL;
    if (db_query(c, SQL_TARGETS, params, 3, &res, err, errlen) != 0) {
        free(value);
        free(have);
        return -1;
    }
    for (int i = 0; i < res->nrows; i++) {
        int s = store_pos(q->stores, q->nstores, db_cell(res, i, 0));
        int m = month_pos(q, db_cell(res, i, 1), nmonths);
        bool null = false;
        double v = db_cell_double(res, i, 2, &null);
        if (s < 0 || m < 0 || null) continue;
        value[(size_t)s * (size_t)nmonths + (size_t)m] = v;
        have[(size_t)s * (size_t)nmonths + (size_t)m] = true;
    }
    db_result_free(res);
    for (int s = 0; s < q->nstores; s++) {
        int row = q->row_of_store ? q->row_of_store[s] : -1;
        if (q->row_of_store && (row < 0 || row >= q->nrows)) continue;
        for (int m = 0; m < nmonths; m++) {
            /* the rows this (store, month) falls in: its own row; with by=month
             * the month's row; otherwise every row (group) */
            int r = q->monthly ? m : q->row_of_store ? row : 0;
            if (r >= q->nrows) continue;
            size_t cell = (size_t)s * (size_t)nmonths + (size_t)m;
            if (!have[cell]) is_null[r] = true;
            else out[r] += month_part(q, m, nmonths, value[cell]);
        }
    }
    for (int r = 0; r < q->nrows; r++)
        if (is_null[r]) out[r] = 0;
    free(value);
    free(have);
    return 0;
}
