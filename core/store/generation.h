/* generation: the core's change signal. Every writer of facts or settings
 * (imports, rebuilds, settings, the bulk loader) bumps the data generation
 * inside its transaction and says so again once it has committed; the KPI
 * engine reads the generation and drops what it cached for an older one.
 * So the data layer tells the engine that something changed without
 * calling into it (the data_generation row of schemas/001_core.sql). The
 * budgets generation (row 2) moves with imports of the targets alone. */
#ifndef FS_GENERATION_H
#define FS_GENERATION_H
#include <stddef.h>
#include "db.h"

/* Bump the generation on c (inside the caller's transaction); counts as a
 * change made here. 0, or -1 with err. */
int data_generation_bump(db_conn *c, char *err, size_t errlen);
/* This process committed a change: the next read of the generation must
 * not be served from the engine's short memory of it. */
void data_changed_here(void);
/* How many changes this process has made so far (the engine compares it). */
unsigned long long data_changes_here(void);
/* The budgets generation (row 2, schemas/023): bumped, inside the caller's
 * transaction, by a write of the targets entity only. */
int budgets_generation_bump(db_conn *c, char *err, size_t errlen);
/* The generations in force, in one read: *data the data generation, *budgets
 * the budgets generation (0 when its row is missing). 0, or -1 with err. */
int data_generations_read(db_conn *c, unsigned long long *data, unsigned long long *budgets, char *err,
                          size_t errlen);
#endif
