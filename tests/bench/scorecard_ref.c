/* scorecard_ref: the reference for tests/bench/scorecard.sh. The same
 * 10-KPI weighted scoring as the benchmark's Lua scorecard, written in C
 * against the same engine: ten kpi_query() lookups by store over every store,
 * then points = weight * min(1, value / target) summed per store, sorted by
 * score (ties by store code) and ranked. Prints the time of the lookups and
 * of the scoring alone, and the top rows, so the Lua run can be compared.
 *
 *   scorecard_ref --data-dir DIR --from D --to D */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "app.h"
#include "auth.h"
#include "config.h"
#include "kpi.h"

/* --- the scorecard: ids, weights, targets (as in scorecard.sh's Lua) --- */

static const char *const ids[10] = {
    "service.revenue", "service.ro_count", "service.revenue_per_ro", "service.gross_profit",
    "labour.revenue", "labour.sold_hours", "labour.share", "labour.effective_rate",
    "parts.revenue", "parts.gross_margin",
};
static const double weights[10] = { 15, 10, 10, 10, 10, 10, 10, 10, 10, 5 };
static const double targets[10] = { 12000, 6, 2000, 6000, 3500, 14, 0.5, 250, 6000, 0.6 };

typedef struct scored { const char *store; double score; int rank; } scored;

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

static int by_score(const void *a, const void *b)
{
    const scored *x = a, *y = b;
    if (x->score != y->score) return x->score > y->score ? -1 : 1;
    return strcmp(x->store, y->store);
}

int main(int argc, char **argv)
{
    opt opts[] = {
        { "--from", OPT_STR, "YYYY-MM-DD", "first day", 0, 0, {0}, 0 },
        { "--to", OPT_STR, "YYYY-MM-DD", "last day", 0, 0, {0}, 0 },
    };
    app a;
    memset(&a, 0, sizeof a);
    char err[1024];
    if (config_load_env(&a.cfg, err, sizeof err) != 0) { fprintf(stderr, "%s\n", err); return 2; }
    const char *pos[1];
    int npos = 0;
    int rc = config_parse(&a.cfg, argc, argv, opts, 2, "scorecard_ref --from D --to D [--data-dir DIR]",
                          "The C reference of the scorecard benchmark.", pos, 0, &npos);
    if (rc != 0) return rc == 1 ? 0 : 2;
    if (!opts[0].value || !opts[1].value) { fprintf(stderr, "--from and --to are required\n"); return 2; }
    if (app_open(&a, true, err, sizeof err) != 0) { fprintf(stderr, "%s\n", err); return 1; }

    principal who;
    principal_cli(&who);
    store_set scope = { 0 };
    db_pool *pool = NULL;
    db_conn *c = app_acquire_read(&a, &pool, err, sizeof err);
    char bad[128];
    if (!c || scope_resolve(c, &who, NULL, 0, NULL, 0, &scope, bad, sizeof bad) != 0) {
        fprintf(stderr, "scope: %s\n", c ? bad : err);
        if (c) db_release(pool, c);
        app_close(&a);
        return 1;
    }
    db_release(pool, c);

    /* the lookups */
    double t0 = now_ms();
    kpi_answer *ans[10] = { 0 };
    for (int k = 0; k < 10; k++) {
        kpi_request req = { .ids = &ids[k], .nids = 1, .by = "store", .stores = &scope };
        snprintf(req.from, sizeof req.from, "%s", opts[0].value);
        snprintf(req.to, sizeof req.to, "%s", opts[1].value);
        int status;
        if (kpi_query(&a, &req, &ans[k], &status, err, sizeof err) != 0) {
            fprintf(stderr, "kpi %s: %s (%d)\n", ids[k], err, status);
            for (int j = 0; j < k; j++) kpi_answer_free(ans[j]);
            store_set_free(&scope);
            app_close(&a);
            return 1;
        }
    }
    double t1 = now_ms();

    /* the scoring */
    scored *rows = calloc((size_t)scope.n + 1, sizeof *rows);
    if (!rows) return 1;
    for (int s = 0; s < scope.n; s++) {
        rows[s].store = scope.codes[s];
        for (int k = 0; k < 10; k++) {
            for (int r = 0; r < ans[k]->nrows; r++) {
                const kpi_row *row = &ans[k]->rows[r];
                if (row->is_null[0] || strcmp(row->key, scope.codes[s]) != 0) continue;
                double ratio = row->values[0] / targets[k];
                rows[s].score += weights[k] * (ratio > 1 ? 1 : ratio < 0 ? 0 : ratio);
                break;
            }
        }
    }
    qsort(rows, (size_t)scope.n, sizeof *rows, by_score);
    for (int s = 0; s < scope.n; s++)
        rows[s].rank = s > 0 && rows[s].score == rows[s - 1].score ? rows[s - 1].rank : s + 1;
    double t2 = now_ms();

    for (int s = 0; s < scope.n; s++) printf("%d %s %.2f\n", rows[s].rank, rows[s].store, rows[s].score);
    printf("C reference: %d stores, lookups %.1f ms, scoring %.3f ms\n", scope.n, t1 - t0, t2 - t1);
    free(rows);
    for (int k = 0; k < 10; k++) kpi_answer_free(ans[k]);
    store_set_free(&scope);
    app_close(&a);
    return 0;
}
