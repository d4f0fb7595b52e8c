/* generation: the data generation (see generation.h). */
#include <stdatomic.h>
#include "generation.h"

static const char SQL_GENERATION_BUMP[] = "UPDATE data_generation SET generation = generation + 1 WHERE id = 1";
static const char SQL_BUDGETS_BUMP[] = "UPDATE data_generation SET generation = generation + 1 WHERE id = 2";
static const char SQL_DIRECTORY_BUMP[] = "UPDATE data_generation SET generation = generation + 1 WHERE id = 3";
static const char SQL_CHANGE_NOTE[] =
    "INSERT IGNORE INTO data_change_stores (generation, store_code) SELECT generation, ? FROM data_generation WHERE id = 1";
static const char SQL_CHANGE_NOW[] = "SELECT generation FROM data_generation WHERE id = 1";
static const char SQL_CHANGE_PRUNE[] = "DELETE FROM data_change_stores WHERE generation < ?";
static const char SQL_GENERATIONS[] = "SELECT id, generation FROM data_generation WHERE id IN (1, 2, 3)";

static atomic_ullong local_changes;

void data_changed_here(void)
{
    atomic_fetch_add(&local_changes, 1);
}

unsigned long long data_changes_here(void)
{
    return atomic_load(&local_changes);
}

int data_generation_bump(db_conn *c, char *err, size_t errlen)
{
    data_changed_here();
    return db_exec(c, SQL_GENERATION_BUMP, NULL, 0, NULL, err, errlen);
}

int budgets_generation_bump(db_conn *c, char *err, size_t errlen)
{
    return db_exec(c, SQL_BUDGETS_BUMP, NULL, 0, NULL, err, errlen);
}

int directory_generation_bump(db_conn *c, char *err, size_t errlen)
{
    return db_exec(c, SQL_DIRECTORY_BUMP, NULL, 0, NULL, err, errlen);
}

int data_generations_read(db_conn *c, data_generations *g, char *err, size_t errlen)
{
    db_result *res = NULL;
    if (db_query(c, SQL_GENERATIONS, NULL, 0, &res, err, errlen) != 0) return -1;
    *g = (data_generations){ 0, 0, 0 };
    for (int i = 0; i < res->nrows; i++) {
        unsigned long long v = (unsigned long long)db_cell_int(res, i, 1);
        switch (db_cell_int(res, i, 0)) {
        case 1: g->data = v; break;
        case 2: g->budgets = v; break;
        default: g->directory = v; break;
        }
    }
    db_result_free(res);
    return 0;
}

int data_change_stores_note(db_conn *c, const char *const *stores, int n, char *err, size_t errlen)
{
    for (int i = 0; i < n; i++) {
        db_val p[1] = { DB_STR(stores[i]) };
        if (db_exec(c, SQL_CHANGE_NOTE, p, 1, NULL, err, errlen) != 0) return -1;
    }
    /* one change in 256 deletes the rows far behind (the engine treats a
     * generation without rows as a change of everything) */
    db_result *res = NULL;
    if (db_query(c, SQL_CHANGE_NOW, NULL, 0, &res, err, errlen) != 0) return -1;
    long long now = res->nrows ? db_cell_int(res, 0, 0) : 0;
    db_result_free(res);
    if (now % 256 != 0 || now <= DATA_CHANGE_KEEP) return 0;
    db_val keep[1] = { DB_INT(now - DATA_CHANGE_KEEP) };
    return db_exec(c, SQL_CHANGE_PRUNE, keep, 1, NULL, err, errlen) != 0 ? -1 : 0;
}
