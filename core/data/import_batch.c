/* import_batch: a batch of checked rows through the database, and the end
 * of the file (part of the import engine, import_job.h). A full batch
 * goes to a temporary staging table (array binding); its stores' rows are
 * held first (FOR UPDATE, key order) so that imports of one store take
 * turns, and imports of vehicles take a group-wide turn; the parents are
 * checked with set-based queries; the stored rows are counted (inserted /
 * updated / unchanged: compared byte for byte), the unchanged ones set
 * aside and the rest upserted into the fact table, inside the transaction
 * that stays open for the whole file. What the derived tables must redo
 * (the stores and dates touched, the VINs) is noted as it goes. At the end:
 * the lines of named ROs that the file did not repeat are removed,
 * payments are checked against their invoices, rollups are refreshed
 * (rollup.c), the data freshness of the file's stores noted (freshness.c),
 * the KPI caches invalidated (for the stores it can change:
 * import_changes.c), the import audited, commit. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "clock.h"
#include "freshness.h"
#include "generation.h"
#include "import_job.h"
#include "log.h"

#define IMPORT_ANALYZE_ROWS 10000      /* a file inserting this many rows refreshes table statistics */

/* Fixed statements. */
static const char SQL_CLEAR_STAGE[] = "DELETE FROM import_stage";
/* The line keys of the file are kept only for ROs that had lines before the
 * file (had_lines, taken when the RO is first seen): only those can lose lines. */
static const char SQL_STAGE_KEYS[] =
    "INSERT INTO import_keys SELECT s.store_code, s.ro_no, s.line_no FROM import_stage s "
    "JOIN import_ros r ON r.store_code = s.store_code AND r.ro_no = s.ro_no WHERE r.had_lines = 1";
static const char SQL_RO_DATES[] =
    "SELECT o.store_code, MIN(DATE(o.opened_at)), MAX(DATE(COALESCE(o.closed_at, o.opened_at))) "
    "FROM import_ros r JOIN repair_orders o ON o.store_code = r.store_code AND o.ro_no = r.ro_no GROUP BY o.store_code";
/* The stores a batch names, in key order, and the row of one held to the
 * end of the transaction: two imports of one store take their turns instead
 * of interleaving (which deadlocks in the rollup refresh and would make
 * their counts read each other's rows too early). */
static const char SQL_STAGE_STORES[] = "SELECT DISTINCT store_code FROM import_stage ORDER BY store_code";
static const char SQL_LOCK_STORE[] = "SELECT store_code FROM stores WHERE store_code = ? FOR UPDATE";
static const char SQL_OVERPAID[] =
    "SELECT p.payment_no, p.invoice_no, p.amount, i.amount - (t.total - p.amount) "
    "FROM payments p JOIN invoices i ON i.store_code = p.store_code AND i.invoice_no = p.invoice_no "
    "JOIN (SELECT invoice_no, SUM(amount) AS total FROM payments WHERE store_code = ? GROUP BY invoice_no) t "
    "ON t.invoice_no = p.invoice_no WHERE p.store_code = ? AND t.total > i.amount";

/* --- rollup bookkeeping --- */

void touch_store(import_job *j, const char *store, const char *from, const char *to)
{
    if (!store) return;
    rollup_touch *t = NULL;
    for (int i = j->ntouched - 1; i >= 0; i--)
        if (strcmp(j->touched[i].store_code, store) == 0) { t = &j->touched[i]; break; }
    if (!t) {
        if (j->ntouched == j->touched_cap) {
            int cap = j->touched_cap ? j->touched_cap * 2 : 16;
            rollup_touch *p = realloc(j->touched, (size_t)cap * sizeof *p);
            if (!p) { job_fatal(j, 500, "out of memory"); return; }
            j->touched = p;
            j->touched_cap = cap;
        }
        t = &j->touched[j->ntouched++];
        memset(t, 0, sizeof *t);
        snprintf(t->store_code, sizeof t->store_code, "%s", store);
    }
    if (from && strlen(from) == 10 && (!t->from[0] || strcmp(from, t->from) < 0)) memcpy(t->from, from, 11);
    if (to && strlen(to) == 10 && (!t->to[0] || strcmp(to, t->to) > 0)) memcpy(t->to, to, 11);
}

/* Runs a (store, min date, max date) query and merges it. */
static void touch_from_query(import_job *j, const char *sql)
{
    char err[512];
    db_result *res = NULL;
    if (db_query(j->conn, sql, NULL, 0, &res, err, sizeof err) < 0) {
        job_db_fail(j, err, "reading the dates touched");
        return;
    }
    for (int r = 0; r < res->nrows; r++) touch_store(j, db_cell(res, r, 0), db_cell(res, r, 1), db_cell(res, r, 2));
    db_result_free(res);
}

void touch_vin(import_job *j, const char *vin)
{
    bool oom = false;
    key_add(&j->vins, vin, strlen(vin), NULL, 0, &oom);
    if (oom) job_fatal(j, 500, "out of memory");
}

/* --- a batch through the staging table --- */

static int batch_index_of_line(const import_job *j, long line)
{
    int lo = 0, hi = j->nbatch - 1;
    while (lo <= hi) {
        int mid = (lo + hi) / 2;
        if (j->batch_lines[mid] == line) return mid;
        if (j->batch_lines[mid] < line) lo = mid + 1;
        else hi = mid - 1;
    }
    return -1;
}

/* A parent check's message with its %s filled: the value, then the store
 * (never a printf format, so no text of a file can reach one). */
static void fill_message(char *out, size_t cap, const char *tmpl, const char *value, const char *store)
{
    size_t n = 0;
    int filled = 0;
    for (const char *p = tmpl; *p && n + 1 < cap; p++) {
        if (p[0] == '%' && p[1] == 's' && filled < 2) {
            const char *v = filled++ == 0 ? value : store;
            size_t k = strlen(v);
            if (k > cap - 1 - n) k = cap - 1 - n;
            memcpy(out + n, v, k);
            n += k;
            p++;
        } else {
            out[n++] = *p;
        }
    }
    out[n] = '\0';
}

static void check_parents(import_job *j)
{
    const entity_def *e = j->e;
    char err[512];
    for (int p = 0; p < e->nparents && !j->fatal; p++) {
        const parent_check *pc = &e->parents[p];
                db_result *res = NULL;
        if (db_query(j->conn, pc->sql, NULL, 0, &res, err, sizeof err) < 0) {
            job_db_fail(j, err, "checking %s", pc->column);
            return;
        }
        int col = entity_col(e, pc->column);
        int fcol = j->col_to_file[col < 0 ? 0 : col];
        for (int r = 0; r < res->nrows; r++) {
            long line = (long)db_cell_int(res, r, 0);
            if (pc->earlier_in_file) {
                int bi = batch_index_of_line(j, line);
                if (bi >= 0 && j->batch_earlier_ok[bi]) continue;
            }
            char v[64];
            const char *value = db_cell(res, r, 1) ? db_cell(res, r, 1) : "";
            const char *store = res->ncols > 2 && db_cell(res, r, 2) ? db_cell(res, r, 2) : "";
            char msg[300];
            fill_message(msg, sizeof msg, pc->message, value_shown(value, v, sizeof v), store);
            problem_add(&j->problems, line, fcol, "%s: %s", pc->column, msg);
        }
        db_result_free(res);
    }
}

/* A lock this import could not get in time: like a lock wait timeout. */
static void job_conflict(import_job *j, const char *what)
{
    if (j->fatal) return;
    j->fatal = j->fatal_db = j->retryable = true;
    j->fatal_status = 503;
    snprintf(j->fatal_msg, sizeof j->fatal_msg, "%s", what);
    log_warn("import", "%s %s (attempt %d): %s: the wait timed out", j->e->name, j->label, j->attempt, what);
}

/* The rollups of repair orders, vehicle sales and policies follow vehicles
 * across stores (visits, states, retention, insurance matches, by VIN): two
 * such imports of different stores computing them from their own snapshots
 * would each miss the other's rows. They take turns group-wide, with a named
 * lock taken before the first read of the transaction (and before any store
 * row, so the order is always the same); the demo loader, which rebuilds the
 * rollups after its load, does not need it. */
static const char SQL_VEHICLES_LOCK[] = "SELECT GET_LOCK('fourscore.import.vehicles', @@innodb_lock_wait_timeout)";
static const char SQL_VEHICLES_UNLOCK[] = "SELECT RELEASE_LOCK('fourscore.import.vehicles')";

void lock_vehicles(import_job *j)
{
    if (j->vehicles_locked || j->defer_rollups || j->e->vin_col <= 0 || j->fatal) return;
    char err[512];
    db_result *res = NULL;
    if (db_query(j->conn, SQL_VEHICLES_LOCK, NULL, 0, &res, err, sizeof err) < 0) {
        job_db_fail(j, err, "waiting for other imports of vehicles");
        return;
    }
    bool got = res->nrows == 1 && db_cell(res, 0, 0) && strcmp(db_cell(res, 0, 0), "1") == 0;
    db_result_free(res);
    if (!got) { job_conflict(j, "waiting for other imports of vehicles"); return; }
    j->vehicles_locked = true;
}

static void unlock_vehicles(import_job *j)
{
    if (!j->vehicles_locked) return;
    j->vehicles_locked = false;
    if (db_conn_lost(j->conn)) return;          /* the server let it go with the session */
    char err[512];
    db_result *res = NULL;
    if (db_query(j->conn, SQL_VEHICLES_UNLOCK, NULL, 0, &res, err, sizeof err) < 0) {
        /* never hand the pool a session holding it: a lost connection is closed */
        log_error("import", "releasing the vehicle imports' lock: %s", err);
        return;
    }
    db_result_free(res);
}

/* Rolls back (if a transaction is open) and gives up the vehicle turn. */
void job_rollback(import_job *j)
{
    if (j->in_txn) db_rollback(j->conn);
    j->in_txn = false;
    unlock_vehicles(j);
}

/* Holds the row of store (once per transaction); *late is set when that
 * happens after the transaction's snapshot was taken. */
void lock_store(import_job *j, const char *store, bool *late)
{
    size_t n = strlen(store);
    if (key_find(&j->locked, store, n, key_hash(store, n))) return;
    char err[512];
    db_val p[1] = { DB_STRN(store, n) };
    db_result *res = NULL;
    if (db_query(j->conn, SQL_LOCK_STORE, p, 1, &res, err, sizeof err) < 0) {
        job_db_fail(j, err, "waiting for other imports of store %.32s", store);
        return;
    }
    db_result_free(res);
    bool oom = false;
    key_add(&j->locked, store, n, NULL, 0, &oom);
    if (oom) { job_fatal(j, 500, "out of memory"); return; }
    if (j->read_view) *late = true;
}

/* Locks the stores of the staged batch in key order; a store first met after
 * the snapshot makes the batch read the stored rows with locking reads. */
static void lock_batch_stores(import_job *j)
{
    j->batch_locking = false;
    lock_vehicles(j);
    if (j->fatal || !j->e->has_store || j->e->global) return;
    char err[512];
    db_result *res = NULL;
    if (db_query(j->conn, SQL_STAGE_STORES, NULL, 0, &res, err, sizeof err) < 0) {
        job_db_fail(j, err, "reading the stores of the file");
        return;
    }
    for (int r = 0; r < res->nrows && !j->fatal; r++)
        if (db_cell(res, r, 0)) lock_store(j, db_cell(res, r, 0), &j->batch_locking);
    db_result_free(res);
}

static void write_batch(import_job *j)
{
    const entity_def *e = j->e;
    const entity_sql *q = j->q;
    char err[512];
    db_result *res = NULL;
    /* RO lines: first record the ROs named; a batch whose ROs all had no
     * lines before the file (the usual case: new ROs) cannot meet a stored
     * line, so the lookup of existing rows is skipped */
    bool may_exist = true;
    if (e->replaces_ro_lines) {
        unsigned long long keyed = 0;
        if (db_exec(j->conn, q->stage_ros, NULL, 0, NULL, err, sizeof err) < 0 ||
            db_exec(j->conn, SQL_STAGE_KEYS, NULL, 0, &keyed, err, sizeof err) < 0) {
            job_db_fail(j, err, "recording the repair orders named");
            return;
        }
        may_exist = keyed > 0;
        if (may_exist) j->ros_had_lines = true;
    }
    long long existing = 0, same = 0;
    if (may_exist) {
        if (db_query(j->conn, j->batch_locking ? q->count_existing_locking : q->count_existing, NULL, 0, &res,
                     err, sizeof err) < 0) {
            job_db_fail(j, err, "counting existing rows");
            return;
        }
        existing = res->nrows ? db_cell_int(res, 0, 0) : 0;
        same = res->nrows ? db_cell_int(res, 0, 1) : 0;
        db_result_free(res);
    }
    if (q->old_dates) touch_from_query(j, j->batch_locking ? q->old_dates_locking : q->old_dates);
    if (q->new_dates) touch_from_query(j, q->new_dates);
    if (q->old_vins && !j->fatal) {
        if (db_query(j->conn, j->batch_locking ? q->old_vins_locking : q->old_vins, NULL, 0, &res, err, sizeof err) < 0) {
            job_db_fail(j, err, "reading replaced VINs");
            return;
        }
        for (int r = 0; r < res->nrows; r++) touch_vin(j, db_cell(res, r, 0));
        db_result_free(res);
    }
    if (j->fatal) return;
    unsigned long long affected = 0;
    if (same > 0 && same < j->nbatch && db_exec(j->conn, q->drop_unchanged, NULL, 0, NULL, err, sizeof err) < 0) {
        job_db_fail(j, err, "setting aside unchanged rows");
        return;
    }
    if (same < j->nbatch && db_exec(j->conn, q->upsert, NULL, 0, &affected, err, sizeof err) < 0) {
        job_db_fail(j, err, "writing %s", e->name);
        return;
    }
    j->inserted += j->nbatch - existing;
    j->updated += existing - same;
    j->unchanged += same;
}

void flush_batch(import_job *j)
{
    if (j->nbatch == 0 || j->fatal) { j->nbatch = 0; j->arena_used = 0; return; }
    char err[512];
    unsigned long long affected;
    double t0 = clock_ms();
    if (db_exec(j->conn, SQL_CLEAR_STAGE, NULL, 0, NULL, err, sizeof err) < 0 ||
        db_exec_bulk(j->conn, j->q->insert_stage, j->vals, 1 + j->e->ncols, j->nbatch, &affected, err, sizeof err) < 0) {
        job_db_fail(j, err, "staging rows");
    } else {
        lock_batch_stores(j);
        j->read_view = true;             /* the parent checks read under a snapshot from here on */
        double t1 = clock_ms();
        if (!j->fatal) check_parents(j);
        double t2 = clock_ms();
        if (job_writing(j)) write_batch(j);
        j->t_stage += (t1 - t0) / 1000.0;
        j->t_check += (t2 - t1) / 1000.0;
        j->t_write += (clock_ms() - t2) / 1000.0;
    }
    j->nbatch = 0;
    j->arena_used = 0;
    if (j->progress) j->progress(j->progress_ud, j->rows, csv_bytes(j->csv));
}

static int cmp_touch(const void *a, const void *b)
{
    return strcmp(((const rollup_touch *)a)->store_code, ((const rollup_touch *)b)->store_code);
}

/* The freshness of every store the file has rows of (the stores it held),
 * even when every row was unchanged. 0, or -1 with the job failed. */
static int note_freshness(import_job *j)
{
    if (!j->e->latest || j->locked.n == 0) return 0;
    const char **stores = malloc(j->locked.n * sizeof *stores);
    if (!stores) { job_fatal(j, 500, "out of memory"); return -1; }
    int n = 0;
    for (size_t i = 0; i < j->locked.cap; i++)
        if (j->locked.slots[i].hash) stores[n++] = j->locked.slots[i].key;
    char err[512];
    int rc = freshness_note_import(j->conn, j->e, stores, n, err, sizeof err);
    free(stores);
    if (rc < 0) job_db_fail(j, err, "noting the data freshness");
    return rc;
}

/* The end of the file: the whole-file rules, rollups, audit, commit. */
void finish_writes(import_job *j)
{
    const entity_def *e = j->e;
    char err[512];
    if (e->replaces_ro_lines) {
        /* only an RO that had lines before the file can lose some */
        unsigned long long removed = 0;
        if (j->ros_had_lines && db_exec(j->conn, j->q->ro_lines_delete, NULL, 0, &removed, err, sizeof err) < 0)
            job_db_fail(j, err, "removing the lines the file did not repeat");
        j->removed = (long long)removed;
    }
    /* the business dates of the named ROs, for the rollups (only when something changed) */
    if (e->dates == DATES_OF_ITS_RO && !j->fatal && (j->inserted || j->updated || j->removed))
        touch_from_query(j, SQL_RO_DATES);
    if (e->open_balance_col > 0) {
        for (int t = 0; t < j->ntouched && !j->fatal; t++) {
            db_val p[2] = { DB_STR(j->touched[t].store_code), DB_STR(j->touched[t].store_code) };
            db_result *res = NULL;
            if (db_query(j->conn, SQL_OVERPAID, p, 2, &res, err, sizeof err) < 0) {
                job_db_fail(j, err, "checking payments against invoices");
                break;
            }
            for (int r = 0; r < res->nrows; r++) {
                char key[80];
                int kn = snprintf(key, sizeof key, "%s\x1f%s", j->touched[t].store_code, db_cell(res, r, 0));
                key_entry *ke = key_find(&j->keys, key, (size_t)kn, key_hash(key, (size_t)kn));
                if (!ke) continue;     /* a payment the file did not name */
                problem_add(&j->problems, ke->line, j->col_to_file[e->open_balance_col],
                            "%s: %s exceeds what is left open on invoice %s (%s, counting its other payments)",
                            e->cols[e->open_balance_col].name, db_cell(res, r, 2), db_cell(res, r, 1),
                            db_cell(res, r, 3));
            }
            db_result_free(res);
        }
    }
    if (!job_writing(j)) return;
    /* rollups, caches, audit; the stores in key order, as every import refreshes them */
    if (j->ntouched > 1) qsort(j->touched, (size_t)j->ntouched, sizeof *j->touched, cmp_touch);
    const char **vins = NULL;
    if (j->vins.n) {
        vins = malloc(j->vins.n * sizeof *vins);
        if (!vins) { job_fatal(j, 500, "out of memory"); return; }
        size_t k = 0;
        for (size_t i = 0; i < j->vins.cap; i++)
            if (j->vins.slots[i].hash) vins[k++] = j->vins.slots[i].key;
    }
    rollup_scope scope = { .entity = e->name, .touched = j->touched, .ntouched = j->ntouched,
                           .vins = vins, .nvins = (int)j->vins.n };
    /* a file that changed nothing leaves the derived rows as they are */
    bool changed = j->inserted || j->updated || j->removed;
    int rc = changed && !j->defer_rollups ? rollup_refresh(j->conn, &scope, err, sizeof err) : 0;
    if (rc < 0) { free(vins); job_db_fail(j, err, "refreshing rollups"); return; }
    if (note_freshness(j) < 0) { free(vins); return; }
    if (data_generation_bump(j->conn, err, sizeof err) < 0 ||
        (e->budgets && budgets_generation_bump(j->conn, err, sizeof err) < 0) ||
        (e->directory && directory_generation_bump(j->conn, err, sizeof err) < 0) ||
        import_note_changes(j, vins, (int)j->vins.n, err, sizeof err) < 0) {
        free(vins);
        job_db_fail(j, err, "invalidating KPI caches");
        return;
    }
    free(vins);
    char detail[400];
    snprintf(detail, sizeof detail, "{\"file\":\"%.200s\",\"rows\":%lld,\"inserted\":%lld,\"updated\":%lld,\"unchanged\":%lld}",
             j->label, j->rows, j->inserted, j->updated, j->unchanged);
    for (char *p = detail + 9; *p && p < detail + 9 + strlen(j->label); p++)   /* keep the JSON valid */
        if (*p == '"' || *p == '\\' || (unsigned char)*p < 0x20) *p = '_';
    if (audit_log(j->conn, j->who, "import", e->name, detail, err, sizeof err) < 0) {
        job_db_fail(j, err, "writing the audit record");
        return;
    }
    if (db_commit(j->conn, err, sizeof err) < 0) { job_db_fail(j, err, "commit"); return; }
    j->in_txn = false;
    unlock_vehicles(j);
    data_changed_here();
    /* a big load: plan the next KPI queries on the new sizes (committed already, so only a warning) */
    if (j->inserted >= IMPORT_ANALYZE_ROWS && !j->defer_rollups && rollup_analyze(j->conn, e->name, err, sizeof err) < 0)
        log_warn("import", "%s: refreshing table statistics: %s", e->name, err);
}

