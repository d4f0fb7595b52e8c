/* freshness: how far each store's data goes (docs/api.md "freshness"), kept
 * by the imports in the table of schemas/019_freshness.sql and read back for
 * the stores in a caller's scope. The importer (import_batch.c) notes each
 * file inside its own transaction; the answer reads that table only, never
 * the facts. Which entities count, and which date column each moves, is the
 * entity table's (entities.c: latest, latest_day, through_if). Part of
 * core/data/; plain C values in and out. */
#ifndef FS_FRESHNESS_H
#define FS_FRESHNESS_H
#include <stddef.h>
#include <cJSON.h>
#include "auth.h"
#include "db.h"
#include "entities.h"

/* The time now in FOURSCORE_TZ (default Asia/Shanghai): "YYYY-MM-DD HH:MM:SS"
 * (out holds 20 bytes); its first 10 bytes are today. */
void freshness_local_now(char out[20]);

/* Inside an import's transaction, for every store the file had rows of:
 * the latest date of e for the store recomputed from the facts, the import
 * time now, and (for the entity that carries it) the store's `through`.
 * Entities not counted (e->latest NULL) are left alone. 0, or -1 with err. */
int freshness_note_import(db_conn *c, const entity_def *e, const char *const *stores, int nstores,
                          char *err, size_t errlen);

/* {"as_of","stores":[{"store","name","through","entities":{ENTITY:{"latest","imported_at"}}}]}
 * for the stores in p's scope, in code order. NULL with *status 503 (the
 * database failed) or 500, err saying why. */
cJSON *freshness_json(db_conn *c, const principal *p, int *status, char *err, size_t errlen);
#endif
