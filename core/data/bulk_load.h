/* bulk_load: a directory of import files (<entity>.csv each) loaded with
 * the derived tables built once at the end, in two lanes (bulk_load.c). */
#ifndef FS_BULK_LOAD_H
#define FS_BULK_LOAD_H
#include <stddef.h>
#include "import.h"

struct app;

/* One file of the directory: <dir>/<entity>.csv and the rows it holds
 * (checked against what the importer took). */
typedef struct bulk_file {
    const char *entity;
    long long rows;
} bulk_file;

/* Import every file given, in the importer's entity order, with progress on
 * stderr; then rebuild the derived tables and drop the KPI cache. Files of
 * entities not given are skipped. The targets' KPI ids are checked with
 * kpi_check (the engine's kpi_budget_check: the catalogue lives above this
 * layer; NULL refuses every target). 0, or -1 with err saying which file
 * and its first problems. */
int bulk_load_dir(struct app *a, const char *dir, const bulk_file *files, int nfiles,
                  import_kpi_fn kpi_check, void *kpi_ud, char *err, size_t errlen);
#endif
