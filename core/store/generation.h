/* generation: the core's change signal. Every writer of facts or settings
 * (imports, rebuilds, settings, the bulk loader) bumps the data generation
 * inside its transaction and says so again once it has committed; the KPI
 * engine reads the generation and drops what it cached for an older one.
 * So the data layer tells the engine that something changed without
 * calling into it (the data_generation row of schemas/001_core.sql). The
 * budgets generation (row 2) moves with imports of the targets alone, the
 * directory generation (row 3) with imports of regions, stores, insurers.
 * An import that can move only some stores' KPIs also names them
 * (data_change_stores_note), so that the engine recomputes only theirs. */
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
/* The directory generation (row 3, schemas/024): bumped, inside the
 * caller's transaction, by a write of the regions, stores or insurers. */
int directory_generation_bump(db_conn *c, char *err, size_t errlen);

/* The stores whose KPIs the change of the caller's transaction can move
 * (schemas/027): one row each for the generation just bumped on c (call it
 * after data_generation_bump, in the same transaction). A change that
 * notes no store changed everything. Now and then also deletes the rows
 * DATA_CHANGE_KEEP generations behind. 0, or -1 with err. */
#define DATA_CHANGE_KEEP 20000
int data_change_stores_note(db_conn *c, const char *const *stores, int n, char *err, size_t errlen);

/* The generations in force (0 where a row is missing). */
typedef struct data_generations {
    unsigned long long data;        /* row 1: every change of facts or settings */
    unsigned long long budgets;     /* row 2: the targets */
    unsigned long long directory;   /* row 3: regions, stores, insurers */
} data_generations;
/* Read them, in one statement. 0, or -1 with err. */
int data_generations_read(db_conn *c, data_generations *g, char *err, size_t errlen);
#endif
