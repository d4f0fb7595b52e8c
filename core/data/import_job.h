/* import_job: what the files of the import engine share and nobody else
 * reads (the engine's API is import.h): the job (one file being imported)
 * and the functions each file offers the others.
 *   import_job.c    the job's lifetime: start, feed, finish (and run the
 *                   file again after a lost lock conflict), the answer
 *   import_rows.c   the header, each row and value, the rules within a row,
 *                   duplicate keys and scope; the problem list
 *   import_batch.c  a batch through the staging table: the stores' locks,
 *                   the parent checks, the counts and the writes; and the
 *                   end of the file (RO lines, payments, rollups, audit,
 *                   commit)
 *   import_keys.c   the keys met in a file
 *   import.c        a file on disk, through import.h alone
 * What an entity is (columns, keys, parents, dates, feeds) is entities.c's. */
#ifndef FS_IMPORT_JOB_H
#define FS_IMPORT_JOB_H
#include <stdbool.h>
#include <stddef.h>
#include <cJSON.h>
#include "app.h"
#include "auth.h"
#include "csv.h"
#include "db.h"
#include "entities.h"
#include "import.h"
#include "import_keys.h"
#include "import_retry.h"
#include "rollup.h"

#define BATCH_ROWS        10000              /* rows per staging round trip */
#define BATCH_ARENA       (8u << 20)         /* bytes of values per batch before a flush */
#define MAX_COLS          ENTITY_MAX_COLS

/* --- problems: the first IMPORT_MAX_PROBLEMS in (line, column) order --- */

typedef struct problem {
    long line;
    int column;
    char *message;
} problem;

typedef struct problem_list {
    problem *items;      /* sorted, at most IMPORT_MAX_PROBLEMS */
    int n;
    long long total;
} problem_list;

void problem_add(problem_list *pl, long line, int column, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
void problem_list_free(problem_list *pl);
cJSON *problem_list_json(const problem_list *pl);
/* A value for a message: at most 40 bytes, cut on a character boundary. */
const char *value_shown(const char *s, char *buf, size_t buflen);

/* --- the job: one file being imported --- */

typedef struct import_job {
    app *app;
    const principal *who;
    const entity_def *e;
    const entity_sql *q;
    char label[256];                 /* file name or "upload", for the audit */
    db_conn *conn;
    bool in_txn;
    csv_reader *csv;
    /* header */
    bool have_header;
    int nfile_cols;
    int file_to_col[CSV_MAX_FIELDS]; /* file column -> entity column, -1 for none */
    int col_to_file[MAX_COLS];       /* entity column -> 1-based file column, 0 when absent */
    bool header_bad;
    /* the batch being collected */
    db_val *vals;                    /* BATCH_ROWS x (1 + ncols) */
    long *batch_lines;
    bool *batch_earlier_ok;          /* e->earlier: settled by an earlier row of the file */
    int nbatch;
    char *arena;
    size_t arena_used, arena_cap;
    /* per file */
    key_map keys;                    /* natural keys -> line (e->earlier: payload vin + time) */
    key_map vins;                    /* VINs touched (e->vin_col) */
    rollup_touch *touched;
    int ntouched, touched_cap;
    long long rows, inserted, updated, unchanged;
    long long removed;               /* replaces_ro_lines: lines the file did not repeat */
    bool ros_had_lines;              /* replaces_ro_lines: some RO named had lines before the file */
    bool defer_rollups;              /* the caller rebuilds the rollups after a bulk load */
    problem_list problems, scope_problems;
    bool csv_failed;
    bool fatal;                      /* a database or memory failure: stop */
    int fatal_status;
    char fatal_msg[512];             /* what failed, for the client (never MariaDB's text) */
    bool fatal_db;                   /* a statement failed (the log has MariaDB's text) */
    /* running the file again after a lost lock conflict (import_retry.h) */
    bool retryable;                  /* the failure was a deadlock or a lock wait timeout */
    int attempt;                     /* 1 for the first run of the file */
    import_spool *spool;             /* an upload's bytes, to read them again */
    char *replay_path;               /* or the file itself (the command line) */
    bool replaying;                  /* feeding from the spool: keep nothing again */
    key_map locked;                  /* stores whose row this transaction holds (FOR UPDATE) */
    char **lock_first;               /* a retry locks the stores the last attempt met, first */
    int nlock_first;
    bool read_view;                  /* a consistent read ran in this transaction already */
    bool batch_locking;              /* this batch reads the stored rows with locking reads */
    bool vehicles_locked;            /* holds the group-wide turn of the vehicle imports */
    /* where the time goes (seconds), for the log line */
    double t_stage, t_check, t_write, t_finish;
    /* progress */
    import_progress_fn progress;
    void *progress_ud;
    import_kpi_fn kpi_check;         /* T_KPI columns (import_job_set_kpi_check) */
    void *kpi_ud;
    import_commit_fn on_commit;      /* told the stores of a committed file (import_job_set_commit_hook) */
    void *commit_ud;
} import_job;

/* import_job.c: the job's failures. A failure that is not a statement's
 * (memory, buffers): fmt is the client's. A statement failed while doing
 * what fmt says: the log gets MariaDB's text (err), the client only what
 * was being done; a lost lock conflict is marked retryable. */
void job_fatal(import_job *j, int status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void job_db_fail(import_job *j, const char *err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Nothing is wrong so far: batches are written. */
bool job_writing(const import_job *j);

/* import_rows.c: the CSV reader's callback (the header, then each row). */
int job_on_record(void *ud, const csv_record *rec);

/* import_batch.c */
void touch_store(import_job *j, const char *store, const char *from, const char *to);
void touch_vin(import_job *j, const char *vin);
/* import_changes.c: note the stores whose KPIs the file can move (the
 * file's VINs: vins[0..nvins)), after the generation's bump. 0, or -1 with err. */
int import_note_changes(import_job *j, const char *const *vins, int nvins, char *err, size_t errlen);
/* The collected rows through the staging table (checked, then written
 * while nothing is wrong). */
void flush_batch(import_job *j);
/* The group-wide turn of the imports of vehicles, taken before any store. */
void lock_vehicles(import_job *j);
/* Holds the row of store (once per transaction); *late is set when that
 * happens after the transaction's snapshot was taken. */
void lock_store(import_job *j, const char *store, bool *late);
/* Rolls back (if a transaction is open) and gives up the vehicle turn. */
void job_rollback(import_job *j);
/* The end of the file: the whole-file rules, rollups, audit, commit. */
void finish_writes(import_job *j);
#endif
