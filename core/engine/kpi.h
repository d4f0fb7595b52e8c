/* kpi: the KPI engine. Takes a request (ids, period, by, a resolved store
 * set from auth's scope_resolve), asks the plugins that provide the ids for
 * per-store components (numerator, denominator), caches them, and folds them
 * into rows keyed by group, region, store, month or insurer. The dashboards,
 * the scorecards and the CLI all ask here; none computes a KPI itself. */
#ifndef FS_KPI_H
#define FS_KPI_H
#include <stdbool.h>
#include <cJSON.h>
#include "auth.h"
#include "http.h"
#include "settings.h"

struct app;

typedef struct kpi_request {
    const char *const *ids;
    int nids;
    char from[11], to[11];          /* YYYY-MM-DD, inclusive */
    const char *by;                 /* "group" (default), "region", "store", "month", "insurer" */
    const store_set *stores;        /* the resolved scope: results only for these */
} kpi_request;

typedef struct kpi_row {
    char key[72];                   /* store code, region code, "group", "YYYY-MM", insurer code */
    char label[192];
    double *values;                 /* nids values */
    bool *is_null;
} kpi_row;

typedef struct kpi_answer {
    int nrows, nids;
    kpi_row *rows;
} kpi_answer;

/* Runs a request. On failure returns -1, sets *status (400 for an unknown id
 * or unsupported by, naming it in err; 503 when the database fails). */
int kpi_query(struct app *a, const kpi_request *req, kpi_answer **out, int *status, char *err, size_t errlen);
void kpi_answer_free(kpi_answer *ans);
/* {"from","to","by","rows":[{"key","label","values":{id: number|null}}]} */
cJSON *kpi_answer_json(const kpi_request *req, const kpi_answer *ans);
/* The catalogue target of a KPI as JSON (number, {"low","high"}) or NULL. */
cJSON *kpi_target_json(struct app *a, const char *id);
bool kpi_exists(struct app *a, const char *id);
/* --- engine lifetime (kpi.c) --- */
/* Load the plugins of cfg.plugin_dir and set up the engine (a->plugins,
 * a->kpi). Called by serve at start (refused plugins are logged then);
 * every other entry point calls it on first use. Returns 0, or -1 with err
 * when the plugin directory cannot be read. */
int kpi_open(struct app *a, char *err, size_t errlen);
void kpi_close(struct app *a);
/* The route handlers (router.c's table). */
void kpi_route_catalogue(http_req *r);      /* GET /api/v1/kpis */
void kpi_route_query(http_req *r);          /* GET /api/v1/kpi */
void kpi_route_batch(http_req *r);          /* POST /api/v1/kpi/batch */
void kpi_route_settings_get(http_req *r);   /* GET /api/v1/settings */
void kpi_route_settings_put(http_req *r);   /* PUT /api/v1/settings */
void kpi_route_plugins(http_req *r);        /* GET /api/v1/plugins */

/* --- KPI settings: settings.h (settings.c) --- */
#endif
