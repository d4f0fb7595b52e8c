/* cmd_data: the command line of core/data/: `fourscore import ENTITY
 * FILE...` (CSV files through the importer, one transaction each, problems
 * as FILE:LINE:COLUMN lines) and `fourscore rollup --rebuild` (every
 * derived table from the facts, with progress). */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <cJSON.h>
#include "alerts.h"
#include "app.h"
#include "cli.h"
#include "clock.h"
#include "commands.h"
#include "config.h"
#include "db.h"
#include "entities.h"
#include "import.h"
#include "kpi.h"
#include "log.h"
#include "rollup.h"
#include "generation.h"

/* --- fourscore import ENTITY FILE... --- */

typedef struct cli_progress {
    const char *path;
    unsigned long long size;
    double last_ms;
} cli_progress;

static void show_import_progress(void *ud, long long rows, unsigned long long bytes)
{
    cli_progress *p = ud;
    double t = clock_ms();
    if (t - p->last_ms < 1000.0) return;
    p->last_ms = t;
    if (p->size)
        fprintf(stderr, "%s: %lld rows read (%.0f%%)\n", p->path, rows, 100.0 * (double)bytes / (double)p->size);
    else
        fprintf(stderr, "%s: %lld rows read\n", p->path, rows);
}

/* A file that failed: its problems as FILE:LINE:COLUMN: message, then why. */
static void print_import_failure(const char *path, const import_result *res)
{
    int n = res->problems ? cJSON_GetArraySize(res->problems) : 0;
    for (int k = 0; k < n; k++) {
        cJSON *pr = cJSON_GetArrayItem(res->problems, k);
        fprintf(stderr, "%s:%d:%d: %s\n", path, cJSON_GetObjectItem(pr, "line")->valueint,
                cJSON_GetObjectItem(pr, "column")->valueint, cJSON_GetStringValue(cJSON_GetObjectItem(pr, "message")));
    }
    if (res->more > 0) fprintf(stderr, "%s: ... and %lld more problems\n", path, res->more);
    fprintf(stderr, "%s: %s\n", path, res->message);
}

/* The stores the committed files had rows of, for the alert rules after the import. */
typedef struct touched { char **stores; int n, cap; bool oom; } touched;

static void note_touched(void *ud, const char *entity, const char *const *stores, int n)
{
    (void)entity;
    touched *t = ud;
    for (int i = 0; i < n && !t->oom; i++) {
        bool seen = false;
        for (int k = 0; k < t->n && !seen; k++) seen = strcmp(t->stores[k], stores[i]) == 0;
        if (seen) continue;
        if (t->n == t->cap) {
            int cap = t->cap ? t->cap * 2 : 16;
            char **grown = realloc(t->stores, (size_t)cap * sizeof *grown);
            if (!grown) { t->oom = true; return; }
            t->stores = grown;
            t->cap = cap;
        }
        if (!(t->stores[t->n] = strdup(stores[i]))) { t->oom = true; return; }
        t->n++;
    }
}

/* After the files: the alert rules for the stores they touched, and the
 * notifications of what opened or closed (the files' lines are printed). */
static void alerts_after_files(app *a, const char *entity, touched *t)
{
    char err[512];
    alerts_stats st = { 0 };
    deliver_stats ds = { 0 };
    if (t->n > 0 && (alerts_evaluate(a, t->oom ? NULL : entity, t->oom ? NULL : (const char *const *)t->stores, t->n, &st,
                                     err, sizeof err) != 0 ||
                     ((st.opened || st.closed) && alerts_deliver_pending(a, NULL, &ds, err, sizeof err) != 0)))
        fprintf(stderr, "fourscore import: evaluating the alert rules: %s\n", err);
    for (int i = 0; i < t->n; i++) free(t->stores[i]);
    free(t->stores);
}

int cmd_import(int argc, char **argv)
{
    char entity_help[600];
    entity_names_list(entity_help, sizeof entity_help);
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
    app a;
    int rc = cli_open(&a, argc, argv, opts, 1, "fourscore import [--verbose] ENTITY FILE...", description,
                      pos_args, 64, &npos);
    if (rc != 0) return rc < 0 ? 0 : rc;
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
    if (cli_app_open(&a, "import") != 0) return 1;
    int exit_code = 0;
    touched t = { 0 };
    for (int i = 1; i < npos; i++) {
        const char *path = pos_args[i];
        struct stat st;
        cli_progress prog = { .path = path, .size = stat(path, &st) == 0 ? (unsigned long long)st.st_size : 0,
                              .last_ms = clock_ms() };
        import_result res;
        double t0 = clock_ms();
        /* targets.kpi is checked against the engine's catalogue (loaded on first use) */
        if (import_file_hooked(&a, NULL, entity, path, &res, show_import_progress, &prog, kpi_budget_check, &a,
                               note_touched, &t) == 0) {
            printf("%s: %lld rows: %lld inserted, %lld updated, %lld unchanged (%.1f s)\n", path, res.rows,
                   res.inserted, res.updated, res.unchanged, clock_seconds_since(t0));
            fflush(stdout);
            import_result_free(&res);
            continue;
        }
        print_import_failure(path, &res);
        import_result_free(&res);
        if (i + 1 < npos) fprintf(stderr, "fourscore import: stopped; the files after %s were not imported\n", path);
        exit_code = 1;
        break;
    }
    alerts_after_files(&a, entity, &t);
    kpi_close(&a);
    app_close(&a);
    return exit_code;
}

/* --- fourscore rollup --rebuild --- */

static void print_progress(void *ud, int done, int total, const char *what)
{
    (void)ud;
    if (what) fprintf(stderr, "\r[%d/%d] %-40.40s", done + 1, total, what);
    else fprintf(stderr, "\r[%d/%d] done%-40s\n", total, total, "");
    fflush(stderr);
}

int cmd_rollup(int argc, char **argv)
{
    opt opts[] = {
        { "--rebuild", OPT_FLAG, NULL, "rebuild every derived table from the facts", 0, 0, {0}, 0 },
    };
    app a;
    char err[1024];
    const char *pos[1];
    int npos = 0;
    int rc = cli_open(&a, argc, argv, opts, 1, "fourscore rollup --rebuild [options]",
                          "Rebuild the derived tables the KPIs read (per store and day sums of the\n"
                          "repair orders, stock snapshot totals, vehicle visits) from the facts.\n"
                          "Imports keep them current; run this after changing facts by hand.",
                          pos, 0, &npos);
    if (rc != 0) return rc < 0 ? 0 : rc;
    if (!opts[0].set) {
        fprintf(stderr, "fourscore rollup: nothing to do; use --rebuild (see fourscore rollup --help)\n");
        return 2;
    }
    if (cli_app_open(&a, NULL) != 0) return 1;
    db_conn *c = db_acquire(a.db, 5000, err, sizeof err);
    if (!c) {
        fprintf(stderr, "fourscore: %s\n", err);
        app_close(&a);
        return 1;
    }
    rc = rollup_rebuild_progress(c, print_progress, NULL, err, sizeof err);
    /* facts changed by hand may be any of them: every generation moves */
    if (rc == 0) rc = data_generation_bump(c, err, sizeof err);
    if (rc == 0) rc = budgets_generation_bump(c, err, sizeof err);
    if (rc == 0) rc = directory_generation_bump(c, err, sizeof err);
    db_release(a.db, c);
    app_close(&a);
    if (rc != 0) {
        fprintf(stderr, "\nfourscore rollup: %s\n", err);
        return 1;
    }
    fprintf(stderr, "rollups rebuilt\n");
    return 0;
}
