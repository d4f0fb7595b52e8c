/* bulk_load: loading a whole directory of import files into an empty or
 * existing group at the speed of the importer: the parent entities one
 * after the other, then repair orders (split in two halves by store) and
 * everything hanging off them in two lanes on two connections, with their
 * derived tables built once for all as soon as their facts are in (the
 * vehicles' visits and states, the invoices' open days, the insurance
 * matches), the targets (their KPI ids checked by the caller's check),
 * and last the per-store rollups in two lanes. The demo loads
 * through it; so can an initial migration from a DMS. Part of core/data/. */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cJSON.h>
#include "app.h"
#include "bulk_load.h"
#include "db.h"
#include "import.h"
#include "rollup.h"
#include "clock.h"
#include "generation.h"

/* The file of entity among those given, or NULL. */
static const bulk_file *file_of(const bulk_file *files, int nfiles, const char *entity)
{
    for (int e = 0; e < nfiles; e++) if (strcmp(files[e].entity, entity) == 0) return &files[e];
    return NULL;
}

/* What every file of a load is checked with: the targets' KPI ids. */
typedef struct bulk_check {
    import_kpi_fn fn;
    void *ud;
} bulk_check;

/* Import one file; on failure err gets the importer's message and its first problems. */
static int import_one(app *a, const bulk_check *chk, const char *entity, const char *path, long long expect_rows,
                      char *err, size_t errlen)
{
    import_result res;
    memset(&res, 0, sizeof res);
    double t0 = clock_ms();
    int rc = import_file_deferred(a, NULL, entity, path, &res, chk->fn, chk->ud);
    double secs = clock_seconds_since(t0);
    if (rc == 0) {
        fprintf(stderr, "  导入 import %-20s %9lld 行 rows %7.1f s %9.0f 行/秒 rows/s\n",
                entity, res.rows, secs, secs > 0 ? (double)res.rows / secs : 0.0);
        if (res.rows != expect_rows) {
            snprintf(err, errlen, "bulk load: %s: the importer took %lld rows of %lld", entity, res.rows, expect_rows);
            rc = -1;
        }
    } else {
        size_t off = (size_t)snprintf(err, errlen, "bulk load: importing %s failed: %s", entity, res.message);
        int n = res.problems ? cJSON_GetArraySize(res.problems) : 0;
        for (int k = 0; k < n && k < 5 && off < errlen; k++) {
            const cJSON *p = cJSON_GetArrayItem(res.problems, k);
            const cJSON *line = cJSON_GetObjectItemCaseSensitive(p, "line");
            const cJSON *col = cJSON_GetObjectItemCaseSensitive(p, "column");
            const cJSON *msg = cJSON_GetObjectItemCaseSensitive(p, "message");
            off += (size_t)snprintf(err + off, errlen - off, "\n  line %d, %s: %s",
                                    cJSON_IsNumber(line) ? line->valueint : 0,
                                    cJSON_IsString(col) ? col->valuestring : "-",
                                    cJSON_IsString(msg) ? msg->valuestring : "");
        }
    }
    import_result_free(&res);
    return rc;
}

/* Import <dir>/<entity>.csv when it is among the files, expecting its rows. */
static int import_file_of(app *a, const bulk_check *chk, const char *dir, const bulk_file *files, int nfiles,
                          const char *entity, char *err, size_t errlen)
{
    const bulk_file *f = file_of(files, nfiles, entity);
    if (!f) return 0;
    char path[PATH_MAX];
    if (snprintf(path, sizeof path, "%s/%s.csv", dir, f->entity) >= (int)sizeof path) {
        snprintf(err, errlen, "bulk load: directory path too long: %s", dir);
        return -1;
    }
    return import_one(a, chk, f->entity, path, f->rows, err, errlen);
}

/* Splits a repair_orders file (one line per RO, grouped by store,
 * no quoted newlines) in two at the first change of store past half its
 * rows, so each half holds whole stores: a comeback stays with its
 * original. rows[] gets the rows of each half. */
static int split_by_store(const char *src, const char *dst[2], long long total, long long rows[2],
                          char *err, size_t errlen)
{
    FILE *in = fopen(src, "r"), *out[2] = { NULL, NULL };
    if (in) out[0] = fopen(dst[0], "w");
    if (out[0]) out[1] = fopen(dst[1], "w");
    char line[4096], header[4096], store[64] = "";
    int half = 0, rc = -1;
    rows[0] = rows[1] = 0;
    if (!out[1] || !fgets(header, sizeof header, in)) {
        snprintf(err, errlen, "bulk load: splitting %s: %s", src, strerror(errno ? errno : EIO));
        goto done;
    }
    fputs(header, out[0]);
    fputs(header, out[1]);
    while (fgets(line, sizeof line, in)) {
        size_t n = strcspn(line, ",");
        if (half == 0 && rows[0] >= total / 2 && store[0] && (strlen(store) != n || strncmp(store, line, n) != 0))
            half = 1;
        snprintf(store, sizeof store, "%.*s", (int)(n < sizeof store ? n : sizeof store - 1), line);
        fputs(line, out[half]);
        rows[half]++;
    }
    rc = ferror(in) ? -1 : 0;
    if (rc) snprintf(err, errlen, "bulk load: reading %s failed", src);
done:
    for (int i = 0; i < 2; i++)
        if (out[i] && fclose(out[i]) != 0 && rc == 0) {
            snprintf(err, errlen, "bulk load: writing %s failed: %s", dst[i], strerror(errno));
            rc = -1;
        }
    if (in) fclose(in);
    return rc;
}

/* The files after the parents of repair orders, as tasks for two lanes
 * (two connections, two transactions at once). A task starts when the tasks
 * it needs are done: everything naming a repair order waits for both halves
 * of repair_orders, and so does every file of the whole group (it would wait
 * on the store locks of the half still running, up to the lock wait
 * timeout), payments for invoices. Listed longest first within what
 * can start, so the lanes end together. Two derived tables are rebuilt as
 * tasks too, as soon as their facts are in, beside the remaining imports:
 * the vehicles (visits and states: repair orders and sales) and the
 * invoices' open days (invoices and payments). */
typedef struct bulk_task {
    const char *entity;             /* the file to import, or the derived tables' name */
    int (*rebuild)(db_conn *c, char *err, size_t errlen);   /* a derived-table task; else NULL */
    int part;                       /* repair_orders: half 1 or 2; else 0 */
    bool needs_ros;                 /* waits for both halves of repair_orders */
    const char *needs;              /* and for this entity, or NULL */
    int state;                      /* 0 waiting, 1 running, 2 done */
} bulk_task;

typedef struct bulk_lanes {
    app *a;
    const bulk_check *chk;
    const char *dir;
    const bulk_file *files;
    int nfiles;
    long long ro_rows[2];
    bulk_task *tasks;
    int ntasks;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int rc;
    char err[1024];
} bulk_lanes;

static bool task_done(const bulk_lanes *l, const char *entity)
{
    for (int i = 0; i < l->ntasks; i++)
        if (strcmp(l->tasks[i].entity, entity) == 0 && l->tasks[i].state != 2) return false;
    return true;
}

static bool task_ready(const bulk_lanes *l, const bulk_task *t)
{
    return t->state == 0 && (!t->needs_ros || task_done(l, "repair_orders")) && (!t->needs || task_done(l, t->needs));
}

/* A derived-table task, on a connection of its own. */
static int rollup_task(app *a, const bulk_task *t, char *err, size_t errlen)
{
    double t0 = clock_ms();
    db_conn *c = db_acquire(a->db, 5000, err, errlen);
    if (!c) return -1;
    int rc = t->rebuild(c, err, errlen);
    db_release(a->db, c);
    if (rc == 0) fprintf(stderr, "  汇总 rollups %-19s %7.1f s\n", t->entity, clock_seconds_since(t0));
    return rc;
}

static void *lane_run(void *arg)
{
    bulk_lanes *l = arg;
    pthread_mutex_lock(&l->mu);
    for (;;) {
        bulk_task *t = NULL;
        bool left = false;
        for (int i = 0; i < l->ntasks && l->rc == 0; i++) {
            if (l->tasks[i].state != 2) left = true;
            if (!t && task_ready(l, &l->tasks[i])) t = &l->tasks[i];
        }
        if (l->rc != 0 || !left) break;
        if (!t) { pthread_cond_wait(&l->cv, &l->mu); continue; }
        t->state = 1;
        pthread_mutex_unlock(&l->mu);
        char err[1024];
        int rc;
        if (t->rebuild) {
            rc = rollup_task(l->a, t, err, sizeof err);
        } else if (t->part) {
            char path[PATH_MAX];
            if (snprintf(path, sizeof path, "%s/repair_orders.%d.csv", l->dir, t->part) >= (int)sizeof path)
                path[0] = 0;        /* never: import_in_lanes made these names */
            rc = import_one(l->a, l->chk, "repair_orders", path, l->ro_rows[t->part - 1], err, sizeof err);
        } else {
            rc = import_file_of(l->a, l->chk, l->dir, l->files, l->nfiles, t->entity, err, sizeof err);
        }
        pthread_mutex_lock(&l->mu);
        t->state = 2;
        if (rc != 0 && l->rc == 0) {
            l->rc = rc;
            snprintf(l->err, sizeof l->err, "%s", err);
        }
        pthread_cond_broadcast(&l->cv);
    }
    pthread_cond_broadcast(&l->cv);
    pthread_mutex_unlock(&l->mu);
    return NULL;
}

/* Everything from repair_orders on, in two lanes. */
static int import_in_lanes(app *a, const bulk_check *chk, const char *dir, const bulk_file *files, int nfiles,
                           char *err, size_t errlen)
{
    bulk_task tasks[] = {
        { "repair_orders", NULL, 1, false, NULL, 0 }, { "repair_orders", NULL, 2, false, NULL, 0 },
        { "车辆 vehicles", rollup_rebuild_vehicles, 0, true, NULL, 0 },
        { "insurance_policies", NULL, 0, true, NULL, 0 }, { "parts_stock", NULL, 0, true, NULL, 0 },
        { "store_financials", NULL, 0, true, NULL, 0 },
        { "ro_parts", NULL, 0, true, NULL, 0 }, { "ro_labour", NULL, 0, true, NULL, 0 },
        { "invoices", NULL, 0, true, NULL, 0 }, { "follow_up_calls", NULL, 0, true, NULL, 0 },
        { "payments", NULL, 0, true, "invoices", 0 }, { "appointments", NULL, 0, true, NULL, 0 },
        { "csi_surveys", NULL, 0, true, NULL, 0 }, { "发票 invoices", rollup_rebuild_invoices, 0, true, "payments", 0 },
        { "保险 insurance", rollup_rebuild_matches, 0, false, "insurance_policies", 0 },
        { "targets", NULL, 0, true, NULL, 0 },
    };
    bulk_lanes l = { .a = a, .chk = chk, .dir = dir, .files = files, .nfiles = nfiles, .tasks = tasks, .ntasks = (int)(sizeof tasks / sizeof *tasks) };
    char src[PATH_MAX], half1[PATH_MAX], half2[PATH_MAX];
    if (snprintf(src, sizeof src, "%s/repair_orders.csv", dir) >= (int)sizeof src ||
        snprintf(half1, sizeof half1, "%s/repair_orders.1.csv", dir) >= (int)sizeof half1 ||
        snprintf(half2, sizeof half2, "%s/repair_orders.2.csv", dir) >= (int)sizeof half2) {
        snprintf(err, errlen, "bulk load: directory path too long: %s", dir);
        return -1;
    }
    const char *halves[2] = { half1, half2 };
    const bulk_file *ros = file_of(files, nfiles, "repair_orders");
    int rc = split_by_store(src, halves, ros ? ros->rows : 0, l.ro_rows, err, errlen);
    if (rc == 0 && (pthread_mutex_init(&l.mu, NULL) != 0 || pthread_cond_init(&l.cv, NULL) != 0)) {
        snprintf(err, errlen, "bulk load: cannot create a mutex");
        rc = -1;
    }
    if (rc == 0) {
        pthread_t tid;
        bool threaded = pthread_create(&tid, NULL, lane_run, &l) == 0;
        lane_run(&l);                      /* no thread: this lane does every task */
        if (threaded) pthread_join(tid, NULL);
        pthread_cond_destroy(&l.cv);
        pthread_mutex_destroy(&l.mu);
        if (l.rc != 0) {
            snprintf(err, errlen, "%s", l.err);
            rc = -1;
        }
    }
    unlink(half1);
    unlink(half2);
    return rc;
}

static void rollup_progress(void *ud, int done, int total, const char *what)
{
    (void)ud;
    if (what) fprintf(stderr, "\r  汇总 rollups [%d/%d] %-30s", done, total, what);
    else fprintf(stderr, "\r  汇总 rollups [%d/%d] %-30s\n", done, total, "done");
}

int bulk_load_dir(app *a, const char *dir, const bulk_file *files, int nfiles, import_kpi_fn kpi_check, void *kpi_ud,
                  char *err, size_t errlen)
{
    double t0 = clock_ms();
    const bulk_check chk = { kpi_check, kpi_ud };
    /* the parents of repair orders one after the other ... */
    for (int k = 0; import_entities[k] && strcmp(import_entities[k], "repair_orders") != 0; k++)
        if (import_file_of(a, &chk, dir, files, nfiles, import_entities[k], err, errlen) != 0) return -1;
    /* ... then the rest in two lanes, with the derived tables of the
     * vehicles and invoices as soon as their facts are in (the files go in
     * with their rollups deferred: each is built once, for all) ... */
    db_conn *c = db_acquire(a->db, 5000, err, errlen);
    int rc = c ? rollup_clear(c, err, errlen) : -1;
    if (c) db_release(a->db, c);
    if (rc == 0) rc = import_in_lanes(a, &chk, dir, files, nfiles, err, errlen);
    if (rc != 0) return -1;
    /* ... and last the per-store ones, in two lanes */
    fprintf(stderr, "汇总 / building the store rollups (%.1f s so far)\n", clock_seconds_since(t0));
    if (rollup_rebuild_stores(a->db, rollup_progress, NULL, err, errlen) != 0) return -1;
    c = db_acquire(a->db, 5000, err, errlen);
    if (!c) return -1;
    rc = data_generation_bump(c, err, errlen);
    db_release(a->db, c);
    return rc;
}
