/* import: the one way data enters Fourscore. Reads CSV files of the entities
 * of spec/import-format.md (through csv.c), validates every rule of the spec,
 * and applies a file all-or-nothing in one transaction (upsert on the natural
 * key, rollups refreshed inside the same transaction). Used by
 * `fourscore import`, `POST /api/v1/import/{entity}` (streamed) and the demo
 * loader. */
#ifndef FS_IMPORT_H
#define FS_IMPORT_H
#include <stdbool.h>
#include <stddef.h>
#include <cJSON.h>

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
} import_result;

#define IMPORT_MAX_PROBLEMS 1000

/* Import one file of one entity as `who` (NULL = the command line, which may
 * import everything). Returns 0 when the file was applied, -1 otherwise (res
 * says why; nothing was written). */
int import_file(struct app *a, const struct principal *who, const char *entity,
                const char *path, import_result *res);
void import_result_free(import_result *res);
/* The entities in load order (parents first), NULL-terminated. */
extern const char *const import_entities[];
#endif
