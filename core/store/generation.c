/* generation: the data generation (see generation.h). */
#include <stdatomic.h>
#include "generation.h"

static const char SQL_GENERATION_BUMP[] = "UPDATE data_generation SET generation = generation + 1 WHERE id = 1";
static const char SQL_BUDGETS_BUMP[] = "UPDATE data_generation SET generation = generation + 1 WHERE id = 2";
static const char SQL_DIRECTORY_BUMP[] = "UPDATE data_generation SET generation = generation + 1 WHERE id = 3";
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
