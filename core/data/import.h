/* import: the one way data enters Fourscore. Reads CSV files of the entities
 * of docs/import.md (through csv.c), validates every rule of the format,
 * and applies a file all-or-nothing in one transaction (upsert on the natural
 * key, rollups refreshed inside the same transaction). A transaction that
 * loses a lock conflict to another import runs the whole file again, a few
 * times (import_retry.h), before it answers 503. Used by
 * `fourscore import` (core/cli/cmd_data.c), `POST /api/v1/import/{entity}`
 * (streamed: core/http/routes_import.c) and the demo loader (bulk_load.c).
 * The engine: import_job.c, import_rows.c, import_batch.c (import_job.h);
 * a file on disk: import.c; the entities it knows: entities.c. */
#ifndef FS_IMPORT_H
#define FS_IMPORT_H
#include "api_error.h"
#include <stdbool.h>
#include <stddef.h>
#include <cJSON.h>
#include "entities.h"      /* import_entities[]: the entities in load order */

struct app;
struct principal;

typedef struct import_result {
    long long rows, inserted, updated, unchanged;   /* rows = inserted + updated + unchanged */
    /* On failure: the HTTP status it maps to (415, 422, 403, 503, ...), the
     * error code ("invalid_csv", "store_out_of_scope", ...), a sentence, and
     * the problems [{"line","column","message"}] in line order (at most
     * IMPORT_MAX_PROBLEMS; `more` counts the rest). */
    int status;
    char code[48];
    char message[512];
    cJSON *problems;
    long long more;
    int retry_after;     /* 503: seconds for the Retry-After header (0 = none) */
} import_result;

#define IMPORT_MAX_PROBLEMS 1000

/* Import one file of one entity as `who` (NULL = the command line, which may
 * import everything). Returns 0 when the file was applied, -1 otherwise (res
 * says why; nothing was written). */
int import_file(struct app *a, const struct principal *who, const char *entity,
                const char *path, import_result *res);
void import_result_free(import_result *res);

/* --- streaming: what import_file and the HTTP route are built on --- */
typedef struct import_job import_job;
/* Called after each batch with the rows read and bytes consumed so far. */
typedef void (*import_progress_fn)(void *ud, long long rows, unsigned long long bytes);
/* Start importing one file (label names it in the audit). NULL with res set
 * (404 unknown_entity, 403 forbidden, 503 unavailable) when it cannot start. */
import_job *import_job_new(struct app *a, const struct principal *who, const char *entity,
                           const char *label, import_result *res);
void import_job_set_progress(import_job *j, import_progress_fn fn, void *ud);
/* What a T_KPI column (targets.kpi) is checked against: the loaded KPI
 * catalogue, which the engine holds above this layer, so the caller (the
 * HTTP route, the CLI command) passes a check that asks it. Returns 1 for a
 * KPI marked "budget": true, 0 for a KPI without it, -1 for an id the
 * catalogue does not have. A job without a check refuses every T_KPI value. */
typedef int (*import_kpi_fn)(void *ud, const char *id);
void import_job_set_kpi_check(import_job *j, import_kpi_fn fn, void *ud);
/* Told, after a file has committed, its entity and the stores it had rows
 * of (the caller above this layer queues what follows from new data, such
 * as the alert rules' evaluation; it must not block). */
typedef void (*import_commit_fn)(void *ud, const char *entity, const char *const *stores, int nstores);
void import_job_set_commit_hook(import_job *j, import_commit_fn fn, void *ud);
/* Feed the next chunk of the file; -1 once the file is known to fail
 * (further chunks are ignored; finish then reports why). */
int import_job_feed(import_job *j, const char *data, size_t len);
/* End of the file: commit (0) or roll back (-1, res says why). Frees j. */
int import_job_finish(import_job *j, import_result *res);
/* Roll back and free (the upload was cut off). */
void import_job_abort(import_job *j);
/* Leave the rollups alone for this file: the caller rebuilds them once after a
 * bulk load (rollup_rebuild) — the demo loader does, to load three years of a
 * group in one pass instead of refreshing every store's rollups per file. */
void import_job_defer_rollups(import_job *j);
/* The job's file is on disk at path: a second attempt reads it again from
 * there instead of keeping the bytes fed. 0, or -1 when out of memory. */
int import_job_replay_from(import_job *j, const char *path);
/* Fill res with a failure: the HTTP status it maps to, the code, a sentence. */
void import_result_fail(import_result *res, int status, enum api_error code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* import_file with progress reports and the KPI check (import_job_set_kpi_check). */
int import_file_progress(struct app *a, const struct principal *who, const char *entity,
                         const char *path, import_result *res, import_progress_fn fn, void *ud,
                         import_kpi_fn kpi_check, void *kpi_ud);
/* import_file_progress that also tells on_commit the stores of the file
 * once it has committed (import_job_set_commit_hook). */
int import_file_hooked(struct app *a, const struct principal *who, const char *entity, const char *path,
                       import_result *res, import_progress_fn fn, void *ud, import_kpi_fn kpi_check, void *kpi_ud,
                       import_commit_fn on_commit, void *commit_ud);
/* import_file for a bulk load whose rollups the caller rebuilds afterwards,
 * with the KPI check (NULL: every T_KPI value refused). */
int import_file_deferred(struct app *a, const struct principal *who, const char *entity,
                         const char *path, import_result *res, import_kpi_fn kpi_check, void *kpi_ud);

#endif
