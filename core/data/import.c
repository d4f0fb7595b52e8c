/* import: a CSV file on disk through the import job (import.h), for the
 * command line and the demo loader: read in chunks and fed to the job,
 * which reads the file again from disk if it has to run it a second time
 * (import_retry.h). The engine itself is import_job.c. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "import.h"

static int import_file_run(struct app *a, const struct principal *who, const char *entity, const char *path,
                           import_result *res, import_progress_fn fn, void *ud, import_kpi_fn kpi_check,
                           void *kpi_ud, bool defer_rollups, import_commit_fn on_commit, void *commit_ud)
{
    import_job *j = import_job_new(a, who, entity, path, res);
    if (!j) return -1;
    import_job_set_progress(j, fn, ud);
    import_job_set_kpi_check(j, kpi_check, kpi_ud);
    import_job_set_commit_hook(j, on_commit, commit_ud);
    if (defer_rollups) import_job_defer_rollups(j);
    if (import_job_replay_from(j, path) < 0) {
        import_job_abort(j);
        import_result_fail(res, 500, API_INTERNAL, "out of memory");
        return -1;
    }
    FILE *f = fopen(path, "rb");
    if (!f) {
        int e = errno;
        import_job_abort(j);
        import_result_fail(res, 400, API_UNREADABLE_FILE, "cannot open %s: %s", path, strerror(e));
        return -1;
    }
    static const size_t chunk = 256 * 1024;
    char *buf = malloc(chunk);
    if (!buf) {
        fclose(f);
        import_job_abort(j);
        import_result_fail(res, 500, API_INTERNAL, "out of memory");
        return -1;
    }
    size_t n;
    bool read_error = false;
    while ((n = fread(buf, 1, chunk, f)) > 0)
        if (import_job_feed(j, buf, n) < 0) break;
    if (ferror(f)) read_error = true;
    free(buf);
    fclose(f);
    if (read_error) {
        import_job_abort(j);
        import_result_fail(res, 400, API_UNREADABLE_FILE, "error reading %s", path);
        return -1;
    }
    return import_job_finish(j, res);
}

int import_file_progress(struct app *a, const struct principal *who, const char *entity, const char *path,
                         import_result *res, import_progress_fn fn, void *ud, import_kpi_fn kpi_check, void *kpi_ud)
{
    return import_file_run(a, who, entity, path, res, fn, ud, kpi_check, kpi_ud, false, NULL, NULL);
}

int import_file_deferred(struct app *a, const struct principal *who, const char *entity, const char *path,
                         import_result *res, import_kpi_fn kpi_check, void *kpi_ud)
{
    return import_file_run(a, who, entity, path, res, NULL, NULL, kpi_check, kpi_ud, true, NULL, NULL);
}

int import_file(struct app *a, const struct principal *who, const char *entity, const char *path, import_result *res)
{
    return import_file_run(a, who, entity, path, res, NULL, NULL, NULL, NULL, false, NULL, NULL);
}


int import_file_hooked(struct app *a, const struct principal *who, const char *entity, const char *path,
                       import_result *res, import_progress_fn fn, void *ud, import_kpi_fn kpi_check, void *kpi_ud,
                       import_commit_fn on_commit, void *commit_ud)
{
    return import_file_run(a, who, entity, path, res, fn, ud, kpi_check, kpi_ud, false, on_commit, commit_ud);
}
