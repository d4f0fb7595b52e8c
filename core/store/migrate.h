/* migrate: the schema migrations. schemas/NNN_name.sql files are applied in
 * the order of their number, each once; the table schema_migrations
 * (version, name, applied_at) records those that ran. See migrate.c for how
 * a file is split into statements and what a failure leaves behind. */
#ifndef FS_MIGRATE_H
#define FS_MIGRATE_H
#include <stddef.h>
#include <stdio.h>
#include "db.h"

/* The schema dir: $FOURSCORE_SCHEMA_DIR, else the source tree's schemas/. */
const char *migrate_schema_dir(void);

/* Apply the pending migrations of schema_dir in order. progress (may be
 * NULL) gets a line a file: "applying 002_auth.sql ... ok". *applied (may be
 * NULL) counts the files applied, *reshaped (may be NULL) those of them
 * that may change what the derived tables hold: every file but one whose
 * first line is MIGRATE_DERIVED_UNCHANGED (a new empty table, say), so that
 * the caller rebuilds the derived tables only when a file needs it. 0, or
 * -1 with err naming the file, the statement's line and MariaDB's message;
 * the files before it stay applied and the next run starts again at the
 * failed file. */
#define MIGRATE_DERIVED_UNCHANGED "-- derived tables: unchanged\n"
int migrate_run(db_conn *c, const char *schema_dir, FILE *progress, int *applied, int *reshaped, char *err,
                size_t errlen);

/* How many migration files of schema_dir have not run yet (-1 on error). */
int migrate_pending(db_conn *c, const char *schema_dir, char *err, size_t errlen);

/* --- the statement splitter, exposed for its tests --- */
/* Calls fn for each statement of sql (a whole file): statements end at a ';'
 * that ends its line (trailing spaces and a -- comment allowed), outside
 * quotes and comments. stmt is NUL-terminated, without the ';'; line is the
 * line it starts on. A non-zero return of fn stops the walk and is returned. */
typedef int (*migrate_stmt_fn)(void *ctx, const char *stmt, int line);
int migrate_split(const char *sql, migrate_stmt_fn fn, void *ctx);
#endif
