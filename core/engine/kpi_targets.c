/* kpi_targets: the budgets of a KPI answer (see kpi_targets.h). One read of
 * the targets table for the answer's ids together (up to TARGETS_IDS_MAX a
 * statement), over the months of the period, into a (KPI, store, month)
 * matrix; then each row sums its stores and months pro rata by the days of
 * each month inside the row's period. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "calendar.h"
#include "kpi_targets.h"

#define TARGETS_IDS_MAX 16

/* "... AND kpi IN (?, ..., ?)" with 1 to TARGETS_IDS_MAX placeholders: built
 * once, kept for the life of the program (they key the statement cache). */
static char sql_targets[TARGETS_IDS_MAX + 1][192];
static pthread_once_t sql_targets_once = PTHREAD_ONCE_INIT;

static void sql_targets_build(void)
{
    for (int n = 1; n <= TARGETS_IDS_MAX; n++) {
        int off = snprintf(sql_targets[n], sizeof sql_targets[n],
                           "SELECT kpi, store_code, month, value FROM targets WHERE month >= ? AND month <= ? AND kpi IN (?");
        for (int k = 1; k < n; k++) off += snprintf(sql_targets[n] + off, sizeof sql_targets[n] - (size_t)off, ", ?");
        snprintf(sql_targets[n] + off, sizeof sql_targets[n] - (size_t)off, ")");
    }
}

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

/* The sums of one KPI's (store, month) matrix into its rows. */
static void sum_rows(const kpi_target_rows *q, int nmonths, const double *value, const bool *have, double *out, bool *is_null)
{
    for (int r = 0; r < q->nrows; r++) {
        out[r] = 0;
        is_null[r] = false;
    }
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
}

int kpi_targets_sum_ids(db_conn *c, const char *const *ids, int nids, const kpi_target_rows *q, double *out,
                        bool *is_null, char *err, size_t errlen)
{
    int nmonths = (q->ty - q->fy) * 12 + (q->tm - q->fm) + 1;
    if (q->nrows == 0 || nids <= 0) return 0;
    pthread_once(&sql_targets_once, sql_targets_build);
    size_t cells = (size_t)(q->nstores ? q->nstores : 1) * (size_t)nmonths;
    int chunk = nids < TARGETS_IDS_MAX ? nids : TARGETS_IDS_MAX;
    double *value = calloc(cells * (size_t)chunk, sizeof *value);
    bool *have = calloc(cells * (size_t)chunk, sizeof *have);
    if (!value || !have) {
        free(value);
        free(have);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    char m0[8], m1[8];
    snprintf(m0, sizeof m0, "%04u-%02u", (unsigned)q->fy % 10000u, (unsigned)q->fm % 100u);
    snprintf(m1, sizeof m1, "%04u-%02u", (unsigned)q->ty % 10000u, (unsigned)q->tm % 100u);
    int rc = 0;
    for (int k0 = 0; k0 < nids && rc == 0; k0 += TARGETS_IDS_MAX) {
        int n = nids - k0 < TARGETS_IDS_MAX ? nids - k0 : TARGETS_IDS_MAX;
        db_val params[2 + TARGETS_IDS_MAX];
        params[0] = DB_STRN(m0, strlen(m0));
        params[1] = DB_STRN(m1, strlen(m1));
        for (int k = 0; k < n; k++) params[2 + k] = DB_STR(ids[k0 + k]);
        memset(value, 0, cells * (size_t)n * sizeof *value);
        memset(have, 0, cells * (size_t)n * sizeof *have);
        db_result *res = NULL;
        if (db_query(c, sql_targets[n], params, 2 + n, &res, err, errlen) != 0) {
            rc = -1;
            break;
        }
        for (int i = 0; i < res->nrows; i++) {
            int k = -1;
            for (int j = 0; j < n && k < 0; j++) if (strcmp(ids[k0 + j], db_cell(res, i, 0)) == 0) k = j;
            int s = store_pos(q->stores, q->nstores, db_cell(res, i, 1));
            int m = month_pos(q, db_cell(res, i, 2), nmonths);
            bool null = false;
            double v = db_cell_double(res, i, 3, &null);
            if (k < 0 || s < 0 || m < 0 || null) continue;
            size_t cell = (size_t)k * cells + (size_t)s * (size_t)nmonths + (size_t)m;
            value[cell] = v;
            have[cell] = true;
        }
        db_result_free(res);
        for (int k = 0; k < n; k++)
            sum_rows(q, nmonths, value + (size_t)k * cells, have + (size_t)k * cells,
                     out + (size_t)(k0 + k) * (size_t)q->nrows, is_null + (size_t)(k0 + k) * (size_t)q->nrows);
    }
    free(value);
    free(have);
    return rc;
}

int kpi_targets_sum(db_conn *c, const char *id, const kpi_target_rows *q, double *out, bool *is_null,
                    char *err, size_t errlen)
{
    for (int r = 0; r < q->nrows; r++) {
        out[r] = 0;
        is_null[r] = false;
    }
    return kpi_targets_sum_ids(c, &id, 1, q, out, is_null, err, errlen);
}

int kpi_targets_fill(db_conn *c, const char *from, const char *to, const char *const *ids, const bool *budget, int nids,
                     kpi_target_rows *q, double *out, bool *is_null, char *err, size_t errlen)
{
    if (sscanf(from, "%4d-%2d-%2d", &q->fy, &q->fm, &q->fd) != 3 || sscanf(to, "%4d-%2d-%2d", &q->ty, &q->tm, &q->td) != 3) {
        snprintf(err, errlen, "from, to: not dates");   /* checked before the values were computed */
        return -1;
    }
    size_t nrows = (size_t)q->nrows;
    for (size_t i = 0; i < (size_t)nids * nrows; i++) {
        out[i] = 0;
        is_null[i] = true;
    }
    const char **bids = calloc((size_t)(nids ? nids : 1), sizeof *bids);
    double *v = calloc((size_t)(nids ? nids : 1) * (nrows ? nrows : 1), sizeof *v);
    bool *null = calloc((size_t)(nids ? nids : 1) * (nrows ? nrows : 1), sizeof *null);
    int rc = bids && v && null ? 0 : -1, nb = 0;
    if (rc) snprintf(err, errlen, "out of memory");
    for (int k = 0; !rc && k < nids; k++) if (budget[k]) bids[nb++] = ids[k];
    if (!rc && nb > 0) rc = kpi_targets_sum_ids(c, bids, nb, q, v, null, err, errlen);
    for (int k = 0, b = 0; !rc && k < nids; k++) {
        if (!budget[k]) continue;
        memcpy(out + (size_t)k * nrows, v + (size_t)b * nrows, nrows * sizeof *out);
        memcpy(is_null + (size_t)k * nrows, null + (size_t)b * nrows, nrows * sizeof *is_null);
        b++;
    }
    free(bids);
    free(v);
    free(null);
    return rc;
}
