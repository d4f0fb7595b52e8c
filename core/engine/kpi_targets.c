/* kpi_targets: the budgets of a KPI answer (see kpi_targets.h). One read of
 * the targets table for the answer's ids together (up to TARGETS_IDS_MAX a
 * statement), over the months of the period, into a (KPI, store, month)
 * matrix; then each row sums its stores and months pro rata by the days of
 * each month inside the row's period. A read is kept for the budgets
 * generation it is of (a few of them, the last used: generation.h), so that
 * the other answers asking the same months and ids (a batch's queries by
 * store, by region, for the group; the pages after an import of repair
 * orders or a setting change) do not read it again; an import of targets
 * moves the budgets generation and makes every kept read a miss. */
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

/* --- the reads kept --- */

typedef struct target_cell {
    int k;                           /* the id's index in the read's ids */
    char store[33], month[8];
    double value;
} target_cell;

#define TARGETS_MEMO_SLOTS 8
#define TARGETS_MEMO_CELLS 65536     /* a larger read is not kept */
#define TARGETS_KEY_MAX (16 + TARGETS_IDS_MAX * 65)
static struct {
    unsigned long long generation, used;
    char key[TARGETS_KEY_MAX];       /* "m0 m1 id,id,..." */
    target_cell *cells;
    int n;
} memo[TARGETS_MEMO_SLOTS];
static unsigned long long memo_clock;
static pthread_mutex_t memo_mu = PTHREAD_MUTEX_INITIALIZER;

static void memo_key(char *key, const char *m0, const char *m1, const char *const *ids, int n)
{
    int off = snprintf(key, TARGETS_KEY_MAX, "%s %s ", m0, m1);
    for (int k = 0; k < n && off > 0 && off < TARGETS_KEY_MAX; k++)
        off += snprintf(key + off, TARGETS_KEY_MAX - (size_t)off, "%s%s", k ? "," : "", ids[k]);
}

/* A copy of the read kept for (generation, key) into *cells (*n of them; free
 * it), or false when none is kept. */
static bool memo_get(unsigned long long generation, const char *key, target_cell **cells, int *n)
{
    bool hit = false;
    pthread_mutex_lock(&memo_mu);
    for (int i = 0; i < TARGETS_MEMO_SLOTS && !hit; i++) {
        if (!memo[i].cells || memo[i].generation != generation || strcmp(memo[i].key, key) != 0) continue;
        *cells = malloc((size_t)(memo[i].n ? memo[i].n : 1) * sizeof **cells);
        if (*cells) {
            memcpy(*cells, memo[i].cells, (size_t)memo[i].n * sizeof **cells);
            *n = memo[i].n;
            memo[i].used = ++memo_clock;
            hit = true;
        }
    }
    pthread_mutex_unlock(&memo_mu);
    return hit;
}

/* Keep a copy of a read (in the least recently used slot). */
static void memo_put(unsigned long long generation, const char *key, const target_cell *cells, int n)
{
    if (n > TARGETS_MEMO_CELLS) return;
    target_cell *copy = malloc((size_t)(n ? n : 1) * sizeof *copy);
    if (!copy) return;
    memcpy(copy, cells, (size_t)n * sizeof *copy);
    pthread_mutex_lock(&memo_mu);
    int slot = 0;
    for (int i = 1; i < TARGETS_MEMO_SLOTS; i++)
        if (memo[i].used < memo[slot].used) slot = i;
    free(memo[slot].cells);
    memo[slot].cells = copy;
    memo[slot].n = n;
    memo[slot].generation = generation;
    memo[slot].used = ++memo_clock;
    snprintf(memo[slot].key, sizeof memo[slot].key, "%s", key);
    pthread_mutex_unlock(&memo_mu);
}

/* The targets of ids (n of them) in months [m0, m1]: kept, or read on c
 * (and kept when generation > 0). 0 with *cells (free it), or -1 with err. */
static int targets_read(db_conn *c, unsigned long long generation, const char *m0, const char *m1,
                        const char *const *ids, int n, target_cell **cells, int *ncells, char *err, size_t errlen)
{
    char key[TARGETS_KEY_MAX];
    memo_key(key, m0, m1, ids, n);
    if (generation > 0 && memo_get(generation, key, cells, ncells)) return 0;
    db_val params[2 + TARGETS_IDS_MAX];
    params[0] = DB_STRN(m0, strlen(m0));
    params[1] = DB_STRN(m1, strlen(m1));
    for (int k = 0; k < n; k++) params[2 + k] = DB_STR(ids[k]);
    db_result *res = NULL;
    if (db_query(c, sql_targets[n], params, 2 + n, &res, err, errlen) != 0) return -1;
    *cells = malloc((size_t)(res->nrows ? res->nrows : 1) * sizeof **cells);
    if (!*cells) {
        db_result_free(res);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    int m = 0;
    for (int i = 0; i < res->nrows; i++) {
        int k = -1;
        for (int j = 0; j < n && k < 0; j++) if (strcmp(ids[j], db_cell(res, i, 0)) == 0) k = j;
        bool null = false;
        double v = db_cell_double(res, i, 3, &null);
        const char *store = db_cell(res, i, 1), *month = db_cell(res, i, 2);
        if (k < 0 || null || !store || !month) continue;
        target_cell *t = &(*cells)[m++];
        t->k = k;
        t->value = v;
        snprintf(t->store, sizeof t->store, "%s", store);
        snprintf(t->month, sizeof t->month, "%s", month);
    }
    db_result_free(res);
    *ncells = m;
    if (generation > 0) memo_put(generation, key, *cells, m);
    return 0;
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
        memset(value, 0, cells * (size_t)n * sizeof *value);
        memset(have, 0, cells * (size_t)n * sizeof *have);
        target_cell *read = NULL;
        int nread = 0;
        if (targets_read(c, q->generation, m0, m1, ids + k0, n, &read, &nread, err, errlen) != 0) {
            rc = -1;
            break;
        }
        for (int i = 0; i < nread; i++) {
            int s = store_pos(q->stores, q->nstores, read[i].store);
            int m = month_pos(q, read[i].month, nmonths);
            if (s < 0 || m < 0) continue;
            size_t cell = (size_t)read[i].k * cells + (size_t)s * (size_t)nmonths + (size_t)m;
            value[cell] = read[i].value;
            have[cell] = true;
        }
        free(read);
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
