/* import_job: the import engine's job, one file from its start to its
 * answer (the API is import.h; docs/import.md what a user sees).
 * A file streams through the CSV reader; each row is checked in C
 * (import_rows.c) and kept in a batch; a full batch goes through a
 * temporary staging table into the fact table (import_batch.c), all inside
 * one transaction that stays open for the whole file. The first problem
 * stops the writing but not the checking, so the answer lists every
 * problem; the transaction is then rolled back. At the end of the file the
 * whole-file rules, rollups and audit run, then commit. Memory per file:
 * one batch, the keys seen, the stores touched. A transaction that loses a
 * lock conflict to another import is rolled back and the whole file runs
 * again (import_retry.h), then 503. What each entity is comes from the
 * entity table (entities.c). This file: the job's lifetime (start, feed,
 * finish, run the file again) and how it answers. */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "clock.h"
#include "counters.h"
#include "import_job.h"
#include "log.h"

#define ACQUIRE_MS        5000

/* Fixed statements: the staging tables of a connection. */
static const char SQL_DROP_STAGE[] = "DROP TEMPORARY TABLE IF EXISTS import_stage, import_ros, import_keys";
static const char SQL_HEAP_SIZE[] = "SET SESSION max_heap_table_size = 268435456";
static const char SQL_CREATE_ROS[] =
    "CREATE TEMPORARY TABLE import_ros (store_code VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL, "
    "ro_no VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL, had_lines TINYINT(1) NOT NULL, "
    "PRIMARY KEY (store_code, ro_no)) ENGINE=InnoDB";
static const char SQL_CREATE_KEYS[] =
    "CREATE TEMPORARY TABLE import_keys (store_code VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL, "
    "ro_no VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL, line_no INT UNSIGNED NOT NULL, "
    "PRIMARY KEY (store_code, ro_no, line_no)) ENGINE=InnoDB";

/* A failure that is not a statement's (memory, buffers): fmt is the client's. */
void job_fatal(import_job *j, int status, const char *fmt, ...)
{
    if (j->fatal) return;
    j->fatal = true;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(j->fatal_msg, sizeof j->fatal_msg, fmt, ap);
    va_end(ap);
    j->fatal_status = status;
    if (j->conn && db_conn_lost(j->conn)) j->fatal_status = 503;
    log_error("import", "%s %s: %s", j->e->name, j->label, j->fatal_msg);
}

/* The MariaDB error number of a failure: the connection's, else the "(NNNN)"
 * that ends db.c's messages. */
static int failure_errno(db_conn *c, const char *err)
{
    int e = c ? db_errno(c) : 0;
    if (e) return e;
    const char *open = err ? strrchr(err, '(') : NULL;
    if (open) {
        char *end;
        long n = strtol(open + 1, &end, 10);
        if (end != open + 1 && *end == ')' && end[1] == '\0' && n > 0 && n < 100000) return (int)n;
    }
    return 0;
}

/* A statement failed while doing what fmt says: the log gets MariaDB's
 * text (err), the client only what was being done. A lost lock conflict
 * (deadlock, lock wait timeout) is marked retryable: the file runs again. */
void job_db_fail(import_job *j, const char *err, const char *fmt, ...)
{
    if (j->fatal) return;
    j->fatal = true;
    j->fatal_db = true;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(j->fatal_msg, sizeof j->fatal_msg, fmt, ap);
    va_end(ap);
    int e = failure_errno(j->conn, err);
    if (j->conn && db_conn_lost(j->conn)) {
        j->fatal_status = 503;
    } else if (db_errno_is_retryable(e)) {
        j->fatal_status = 503;
        j->retryable = true;
    } else {
        j->fatal_status = 500;
    }
    if (j->retryable)
        log_warn("import", "%s %s (attempt %d): %s: %s", j->e->name, j->label, j->attempt, j->fatal_msg, err);
    else
        log_error("import", "%s %s: %s: %s", j->e->name, j->label, j->fatal_msg, err);
}

bool job_writing(const import_job *j)
{
    return !j->fatal && !j->csv_failed && !j->header_bad && j->problems.total == 0 && j->scope_problems.total == 0;
}

/* --- job lifetime --- */

void import_result_fail(import_result *res, int status, enum api_error code, const char *fmt, ...)
{
    res->status = status;
    snprintf(res->code, sizeof res->code, "%s", api_error_code(code));
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(res->message, sizeof res->message, fmt, ap);
    va_end(ap);
}

/* 503: the database cannot be reached; the log has why. */
static void set_unavailable(import_result *res)
{
    import_result_fail(res, 503, API_DB_UNAVAILABLE, "the database is not available; nothing was written: send the file "
                       "again in a minute (if this lasts, tell the group's IT: the server log has the details)");
    res->retry_after = IMPORT_RETRY_AFTER_S;
}

static void job_free(import_job *j)
{
    if (!j) return;
    if (j->conn) {
        job_rollback(j);
        char err[256];
        if (db_exec_text(j->conn, SQL_DROP_STAGE, err, sizeof err) < 0)
            log_warn("import", "dropping the staging tables: %s", err);
        db_release(j->app->db, j->conn);
    }
    csv_free(j->csv);
    free(j->vals);
    free(j->batch_lines);
    free(j->batch_earlier_ok);
    free(j->arena);
    key_map_free(&j->keys);
    key_map_free(&j->vins);
    key_map_free(&j->locked);
    for (int i = 0; i < j->nlock_first; i++) free(j->lock_first[i]);
    free(j->lock_first);
    import_spool_free(j->spool);
    free(j->replay_path);
    free(j->touched);
    problem_list_free(&j->problems);
    problem_list_free(&j->scope_problems);
    free(j);
}

/* The connection made ready for a file: fresh staging tables, a transaction,
 * and (on a retry) the stores the last attempt met locked first, in key
 * order. 0, or -1 with err (the job's own failure already set when a lock
 * could not be had). */
static int job_prepare_conn(import_job *j, char *err, size_t errlen)
{
    if (db_exec_text(j->conn, SQL_DROP_STAGE, err, errlen) < 0 ||
        db_exec_text(j->conn, SQL_HEAP_SIZE, err, errlen) < 0 ||
        db_exec_text(j->conn, j->q->create_stage, err, errlen) < 0 ||
        (j->e->replaces_ro_lines && (db_exec_text(j->conn, SQL_CREATE_ROS, err, errlen) < 0 ||
                                      db_exec_text(j->conn, SQL_CREATE_KEYS, err, errlen) < 0)) ||
        db_begin(j->conn, err, errlen) < 0)
        return -1;
    j->in_txn = true;
    if (j->attempt > 1) lock_vehicles(j);     /* a first attempt takes it with its first batch */
    bool late = false;
    for (int i = 0; i < j->nlock_first && !j->fatal; i++) lock_store(j, j->lock_first[i], &late);
    if (j->fatal) {
        snprintf(err, errlen, "%s", j->fatal_msg);
        return -1;
    }
    return 0;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Back to the state before the first byte of the file, on a fresh
 * transaction: every count, key, problem and store touched is forgotten (the
 * next attempt counts from scratch against what is committed then). */
static int job_restart(import_job *j)
{
    job_rollback(j);
    /* the stores met so far are locked first next time, in key order */
    char **first = j->locked.n ? calloc(j->locked.n, sizeof *first) : NULL;
    int nfirst = 0;
    for (size_t i = 0; first && i < j->locked.cap; i++)
        if (j->locked.slots[i].hash && !(first[nfirst++] = strdup(j->locked.slots[i].key))) nfirst--;
    if (first) qsort(first, (size_t)nfirst, sizeof *first, cmp_str);
    for (int i = 0; i < j->nlock_first; i++) free(j->lock_first[i]);
    free(j->lock_first);
    j->lock_first = first;
    j->nlock_first = nfirst;
    key_map_free(&j->locked);
    key_map_free(&j->keys);
    key_map_free(&j->vins);
    problem_list_free(&j->problems);
    problem_list_free(&j->scope_problems);
    csv_free(j->csv);
    j->csv = csv_new(0, 0, job_on_record, j);
    j->have_header = j->header_bad = j->csv_failed = false;
    j->nfile_cols = 0;
    j->nbatch = 0;
    j->arena_used = 0;
    j->ntouched = 0;
    j->rows = j->inserted = j->updated = j->unchanged = j->removed = 0;
    j->ros_had_lines = j->read_view = j->batch_locking = false;
    j->fatal = j->fatal_db = j->retryable = false;
    j->fatal_status = 0;
    j->fatal_msg[0] = '\0';
    if (!j->csv) {
        job_fatal(j, 500, "out of memory");
        return -1;
    }
    char err[512];
    if (job_prepare_conn(j, err, sizeof err) < 0) {
        job_db_fail(j, err, "preparing the next attempt");
        return -1;
    }
    return 0;
}

import_job *import_job_new(struct app *a, const struct principal *who, const char *entity, const char *label,
                           import_result *res)
{
    memset(res, 0, sizeof *res);
    const entity_def *e = entity_find(entity);
    if (!e) {
        char list[400];
        import_result_fail(res, 404, API_UNKNOWN_ENTITY, "unknown entity '%.60s'; one of: %s", entity,
                           entity_names_list(list, sizeof list));
        return NULL;
    }
    if (who && !auth_may_import(who, e->global)) {
        if (e->global) import_result_fail(res, 403, API_FORBIDDEN, "only admins and all-store tokens may import %s", e->name);
        else import_result_fail(res, 403, API_FORBIDDEN, "only admins and uploader tokens may import");
        return NULL;
    }
    const entity_sql *q = entity_sql_of(e);
    import_job *j = calloc(1, sizeof *j);
    if (!q || !j) {
        free(j);
        import_result_fail(res, 500, API_INTERNAL, "out of memory");
        return NULL;
    }
    j->app = a;
    j->who = who;
    j->e = e;
    j->q = q;
    snprintf(j->label, sizeof j->label, "%s", label ? label : "upload");
    j->arena_cap = BATCH_ARENA + CSV_MAX_RECORD + 8u * MAX_COLS + 4096;
    j->vals = calloc((size_t)BATCH_ROWS * (size_t)(1 + e->ncols), sizeof *j->vals);
    j->batch_lines = calloc(BATCH_ROWS, sizeof *j->batch_lines);
    j->batch_earlier_ok = calloc(BATCH_ROWS, sizeof *j->batch_earlier_ok);
    j->arena = malloc(j->arena_cap);
    j->csv = csv_new(0, 0, job_on_record, j);
    if (!j->vals || !j->batch_lines || !j->batch_earlier_ok || !j->arena || !j->csv) {
        job_free(j);
        import_result_fail(res, 500, API_INTERNAL, "out of memory");
        return NULL;
    }
    char err[512];
    j->conn = db_acquire(a->db, ACQUIRE_MS, err, sizeof err);
    if (!j->conn) {
        log_error("import", "%s %s: no database connection: %s", e->name, j->label, err);
        job_free(j);
        set_unavailable(res);
        return NULL;
    }
    j->attempt = 1;
    if (job_prepare_conn(j, err, sizeof err) < 0) {
        int status = db_conn_lost(j->conn) ? 503 : 500;
        log_error("import", "preparing the import of %s: %s", e->name, err);
        job_free(j);
        if (status == 503) set_unavailable(res);
        else import_result_fail(res, 500, API_INTERNAL, "the import could not be prepared (a database error; the server log "
                                "has the details); nothing was written");
        return NULL;
    }
    return j;
}

void import_job_set_progress(import_job *j, import_progress_fn fn, void *ud)
{
    j->progress = fn;
    j->progress_ud = ud;
}

void import_job_set_commit_hook(import_job *j, import_commit_fn fn, void *ud)
{
    j->on_commit = fn;
    j->commit_ud = ud;
}

/* The stores the committed file held (had rows of), to the commit hook. */
static void tell_commit(import_job *j)
{
    if (!j->on_commit) return;
    const char **stores = malloc((j->locked.n ? j->locked.n : 1) * sizeof *stores);
    if (!stores) { log_warn("import", "%s: out of memory telling the stores of the file", j->e->name); return; }
    int n = 0;
    for (size_t i = 0; i < j->locked.cap; i++)
        if (j->locked.slots[i].hash) stores[n++] = j->locked.slots[i].key;
    if (n > 0) j->on_commit(j->commit_ud, j->e->name, stores, n);
    free(stores);
}

void import_job_set_kpi_check(import_job *j, import_kpi_fn fn, void *ud)
{
    j->kpi_check = fn;
    j->kpi_ud = ud;
}

/* Keep the bytes of an upload while a second attempt may need them. */
static bool job_needs_spool(const import_job *j)
{
    return !j->replay_path && !j->replaying && !j->csv_failed && !j->header_bad && j->problems.total == 0 &&
           j->scope_problems.total == 0 && !(j->fatal && !j->retryable);
}

static bool job_replayable(const import_job *j) { return j->replay_path || import_spool_ok(j->spool); }

/* The bytes through the CSV reader (and so the checks and the writes). */
static int job_process(import_job *j, const char *data, size_t len)
{
    if (j->fatal || j->csv_failed) return -1;
    int rc = csv_feed(j->csv, data, len);
    if (rc < 0) {
        const csv_error *ce = csv_last_error(j->csv);
        problem_add(&j->problems, ce->line, ce->column, "%s (character %ld of the line)", ce->message, ce->char_col);
        j->csv_failed = true;
        return -1;
    }
    return j->fatal ? -1 : 0;
}

int import_job_feed(import_job *j, const char *data, size_t len)
{
    if (job_needs_spool(j)) {
        if (!j->spool && !(j->spool = import_spool_new())) log_warn("import", "%s: out of memory for the spool", j->label);
        else if (import_spool_ok(j->spool)) import_spool_add(j->spool, data, len);
    } else if (j->spool && !j->replay_path && !(j->fatal && j->retryable)) {
        import_spool_free(j->spool);        /* the file fails whatever happens: no second attempt */
        j->spool = NULL;
    }
    /* the file runs again at its end: an upload is kept reading (and spooled) */
    if (j->fatal && j->retryable) return j->replay_path ? -1 : 0;
    int rc = job_process(j, data, len);
    if (j->fatal && j->retryable) {
        /* let the other transaction go on now (a lock wait timeout leaves ours open) */
        job_rollback(j);
        return j->replay_path ? -1 : 0;
    }
    return rc;
}

/* One run of the end of the file: the last batch, the whole-file rules, the commit. */
static void job_finish_attempt(import_job *j)
{
    if (!j->fatal && !j->csv_failed) {
        if (csv_finish(j->csv) < 0) {
            const csv_error *ce = csv_last_error(j->csv);
            problem_add(&j->problems, ce->line, ce->column, "%s (character %ld of the line)", ce->message, ce->char_col);
            j->csv_failed = true;
        }
    }
    if (!j->fatal && !j->csv_failed && !j->have_header) {
        problem_add(&j->problems, 1, 1, "the file is empty: expected a header line naming the columns of %s", j->e->name);
        j->csv_failed = true;
    }
    if (!j->fatal) flush_batch(j);
    double t0 = clock_ms();
    if (!j->fatal && job_writing(j)) finish_writes(j);
    j->t_finish += clock_seconds_since(t0);
}

static int replay_chunk(void *ud, const char *data, size_t len) { return job_process(ud, data, len); }

/* The whole file through the reader again (after job_restart). */
static void job_replay(import_job *j)
{
    j->replaying = true;
    if (j->replay_path) {
        FILE *f = fopen(j->replay_path, "rb");
        char *buf = f ? malloc(256 * 1024) : NULL;
        if (!f || !buf) {
            job_fatal(j, 500, "the file could not be read again for another attempt");
        } else {
            size_t n;
            while ((n = fread(buf, 1, 256 * 1024, f)) > 0)
                if (job_process(j, buf, n) < 0) break;
            if (ferror(f)) job_fatal(j, 500, "the file could not be read again for another attempt");
        }
        free(buf);
        if (f) fclose(f);
    } else if (import_spool_replay(j->spool, replay_chunk, j) < 0) {
        job_fatal(j, 500, "the upload could not be read back for another attempt");
    }
    j->replaying = false;
}

static void sleep_ms(int ms)
{
    struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {}
}

int import_job_finish(import_job *j, import_result *res)
{
    memset(res, 0, sizeof *res);
    int attempts = import_retry_attempts();
    unsigned seed = (unsigned)(clock_ms() * 1e3) ^ (unsigned)(uintptr_t)j;
    for (;;) {
        job_finish_attempt(j);
        if (!j->fatal || !j->retryable || j->attempt >= attempts) break;
        if (!job_replayable(j)) {
            log_warn("import", "%s %s: the file cannot be read again, so it is not retried", j->e->name, j->label);
            break;
        }
        job_rollback(j);
        int ms = import_retry_delay_ms(j->attempt + 1, (double)rand_r(&seed) / ((double)RAND_MAX + 1.0));
        log_warn("import", "%s %s: lost a lock conflict with another transaction while %s (attempt %d of %d); "
                 "the whole file runs again in %d ms", j->e->name, j->label, j->fatal_msg, j->attempt, attempts, ms);
        sleep_ms(ms);
        j->attempt++;
        if (job_restart(j) == 0) job_replay(j);
    }
    int rc = -1;
    if (j->fatal && j->retryable) {
        log_error("import", "%s %s: still losing lock conflicts after %d attempts; answered 503", j->e->name, j->label,
                  j->attempt);
        import_result_fail(res, 503, API_BUSY, "other imports were writing the same data at the same time and this file did "
                           "not get its turn (%d attempts); nothing was written: send it again in a few seconds", j->attempt);
        res->retry_after = IMPORT_RETRY_AFTER_S;
    } else if (j->fatal && j->fatal_status == 503) {
        set_unavailable(res);
    } else if (j->fatal && j->fatal_db) {
        import_result_fail(res, 500, API_INTERNAL, "the import failed while %s (a database error; the server log has the "
                           "details); nothing was written", j->fatal_msg);
    } else if (j->fatal) {
        import_result_fail(res, j->fatal_status, API_INTERNAL, "the import failed and nothing was written: %s", j->fatal_msg);
    } else if (j->scope_problems.total) {
        import_result_fail(res, 403, API_STORE_OUT_OF_SCOPE, "%lld rows belong to stores outside this token's scope; nothing was written",
                           j->scope_problems.total);
        res->problems = problem_list_json(&j->scope_problems);
        res->more = j->scope_problems.total - j->scope_problems.n;
    } else if (j->problems.total) {
        import_result_fail(res, 422, j->csv_failed ? API_INVALID_CSV : API_INVALID_ROWS,
                           j->csv_failed ? "the file is not valid CSV; nothing was written"
                                       : "%lld problems in the file; nothing was written", j->problems.total);
        res->problems = problem_list_json(&j->problems);
        res->more = j->problems.total - j->problems.n;
    } else {
        res->rows = j->inserted + j->updated + j->unchanged;
        res->inserted = j->inserted;
        res->updated = j->updated;
        res->unchanged = j->unchanged;
        rc = 0;
        log_info("import", "%s %s: %lld rows, %lld inserted, %lld updated, %lld unchanged, attempt %d "
                 "(seconds: staging %.2f, checks %.2f, writing %.2f, rollups and commit %.2f)", j->e->name, j->label,
                 res->rows, res->inserted, res->updated, res->unchanged, j->attempt, j->t_stage, j->t_check, j->t_write,
                 j->t_finish);
    }
    metrics_add(rc == 0 ? METRIC_IMPORT_FILES : METRIC_IMPORT_REJECTED, 1);
    if (rc == 0) metrics_add(METRIC_IMPORT_ROWS, res->rows);
    if (rc == 0) tell_commit(j);
    job_free(j);
    return rc;
}

void import_job_abort(import_job *j) { job_free(j); }

void import_result_free(import_result *res)
{
    if (!res) return;
    cJSON_Delete(res->problems);
    res->problems = NULL;
}

void import_job_defer_rollups(import_job *j) { j->defer_rollups = true; }

int import_job_replay_from(import_job *j, const char *path)
{
    free(j->replay_path);
    j->replay_path = strdup(path);
    return j->replay_path ? 0 : -1;
}
