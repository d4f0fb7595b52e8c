/* import_changes: which stores' KPIs an import can move, noted with its bump
 * of the data generation (generation.h, schemas/027) so that the KPI engine
 * recomputes only those stores' components (part of the import engine,
 * import_job.h; called by import_batch.c at the end of a file).
 *
 * The stores are the ones the file wrote rows of and, for a file that names
 * vehicles (repair orders, sales, policies), every store credited with one
 * of its VINs: the KPIs that follow a vehicle across the group (retention
 * by its last visit, first service and churn by its selling store, new
 * policies by the sale, renewals by the expiring policy) credit only stores
 * where the VIN has a repair order, a sale or a policy. A file of the
 * directory (regions, stores, insurers) or of an entity without stores, a
 * load whose rollups are deferred, or one that names more than
 * IMPORT_CHANGES_MAX stores notes none: it changed everything. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "generation.h"
#include "import_job.h"
#include "rollup_asof.h"

#define IMPORT_CHANGES_MAX 256

/* The stores credited with a chunk of VINs (rollup_sql_vin_lists: three lists, one chunk). */
static char *sql_vin_stores;
static pthread_once_t vin_stores_once = PTHREAD_ONCE_INIT;

static void build_vin_stores(void)
{
    sql_vin_stores = rollup_sql_vin_lists(
        "SELECT store_code FROM repair_orders WHERE vin IN @"
        " UNION SELECT store_code FROM vehicle_sales WHERE vin IN @"
        " UNION SELECT store_code FROM insurance_policies WHERE vin IN @");
}

/* Adds code to stores (once); false when out of memory. */
static bool store_add(key_map *stores, const char *code)
{
    bool oom = false;
    key_add(stores, code, strlen(code), NULL, 0, &oom);
    return !oom;
}

/* Adds the stores credited with vins[0..nvins) to stores. 0, or -1 with err. */
static int add_vin_stores(db_conn *c, const char *const *vins, int nvins, key_map *stores, char *err, size_t errlen)
{
    pthread_once(&vin_stores_once, build_vin_stores);
    if (!sql_vin_stores) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    db_val p[3 * ROLLUP_VIN_CHUNK];
    for (int at = 0; at < nvins && stores->n <= IMPORT_CHANGES_MAX; at += ROLLUP_VIN_CHUNK) {
        int n = nvins - at < ROLLUP_VIN_CHUNK ? nvins - at : ROLLUP_VIN_CHUNK;
        for (int l = 0; l < 3; l++)
            for (int i = 0; i < ROLLUP_VIN_CHUNK; i++) p[l * ROLLUP_VIN_CHUNK + i] = DB_STR(vins[at + (i < n ? i : n - 1)]);
        db_result *res = NULL;
        if (db_query(c, sql_vin_stores, p, 3 * ROLLUP_VIN_CHUNK, &res, err, errlen) != 0) return -1;
        bool ok = true;
        for (int r = 0; r < res->nrows && ok; r++)
            if (db_cell(res, r, 0)) ok = store_add(stores, db_cell(res, r, 0));
        db_result_free(res);
        if (!ok) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
    }
    return 0;
}

int import_note_changes(import_job *j, const char *const *vins, int nvins, char *err, size_t errlen)
{
    const entity_def *e = j->e;
    if (e->directory || j->defer_rollups || j->locked.n == 0) return 0;
    key_map stores = { 0 };
    int rc = 0;
    for (size_t i = 0; i < j->locked.cap && rc == 0; i++)
        if (j->locked.slots[i].hash && !store_add(&stores, j->locked.slots[i].key)) {
            snprintf(err, errlen, "out of memory");
            rc = -1;
        }
    if (rc == 0 && nvins > 0) rc = add_vin_stores(j->conn, vins, nvins, &stores, err, errlen);
    if (rc == 0 && stores.n <= IMPORT_CHANGES_MAX) {
        const char *codes[IMPORT_CHANGES_MAX];
        int n = 0;
        for (size_t i = 0; i < stores.cap; i++)
            if (stores.slots[i].hash) codes[n++] = stores.slots[i].key;
        rc = data_change_stores_note(j->conn, codes, n, err, errlen);
    }
    key_map_free(&stores);
    return rc;
}
