/* kpi: the KPI engine. Takes a request (ids, period, by, a resolved store
 * set from auth's scope_resolve), asks the plugins that provide the ids for
 * per-store components (numerator, denominator), caches them, and folds them
 * into rows keyed by group, region, store, month or insurer. The dashboards
 * (core/http/routes_kpi.c), the scorecards and the CLI all ask here; none
 * computes a KPI itself. Plain C values in and out. */
#ifndef FS_KPI_H
#define FS_KPI_H
#include <stdbool.h>
#include <cJSON.h>
#include <stddef.h>
#include "auth.h"
#include "gzip_join.h"
#include "kpi_form.h"
#include "settings.h"

struct app;

/* The most one query names: KPI ids, stores, regions. */
#define KPI_MAX_IDS      256
#define KPI_MAX_STORES   1024
#define KPI_MAX_REGIONS  256

typedef struct kpi_request {
    const char *const *ids;
    int nids;
    char from[11], to[11];          /* YYYY-MM-DD, inclusive */
    const char *by;                 /* "group" (default), "region", "store", "month", "insurer" */
    const store_set *stores;        /* the resolved scope: results only for these */
    bool targets;                   /* add each row's budgets (kpi_targets.h) */
} kpi_request;

typedef struct kpi_row {
    char key[72];                   /* store code, region code, "group", "YYYY-MM", insurer code */
    char label[192];
    double *values;                 /* nids values */
    bool *is_null;
    double *targets;                /* req->targets: nids budgets (kpi_targets.h), else NULL */
    bool *targets_null;
} kpi_row;

typedef struct kpi_answer {
    int nrows, nids;
    kpi_row *rows;
    unsigned long long generation;  /* the oldest data generation of what it was folded from */
} kpi_answer;

/* Runs a request. On failure returns -1, sets *status (400 for an unknown id
 * or unsupported by, naming it in err; 503 when the database fails). */
int kpi_query(struct app *a, const kpi_request *req, kpi_answer **out, int *status, char *err, size_t errlen);
void kpi_answer_free(kpi_answer *ans);
/* nrows rows of nids values each (and of nids budgets when targets), all 0
 * (kpi_answer.c; the engine fills them). NULL when out of memory. */
kpi_answer *kpi_answer_new(int nrows, int nids, bool targets);
/* {"from","to","by","rows":[{"key","label","values":{id: number|null}}]},
 * with "targets":{id: number|null} in each row when req->targets, as the
 * text cJSON_PrintUnformatted would make of that tree (malloc'd, *len its
 * length when len is not NULL); NULL when out of memory. */
char *kpi_answer_text(const kpi_request *req, const kpi_answer *ans, size_t *len);
/* The catalogue target of a KPI as JSON (number, {"low","high"}) or NULL. */
cJSON *kpi_target_json(struct app *a, const char *id);
bool kpi_exists(struct app *a, const char *id);
/* Whether id takes budgets: 1 for a KPI of the catalogue marked "budget":
 * true, 0 for one without it, -1 for an id the catalogue does not have (or
 * when the plugins cannot be loaded). ud is the struct app: the shape of
 * the importer's KPI check (import_kpi_fn, import.h). */
int kpi_budget_check(void *ud, const char *id);
/* --- engine lifetime (kpi.c) --- */
/* Load the plugins of cfg.plugin_dir and set up the engine (a->plugins,
 * a->kpi). Called by serve at start (refused plugins are logged then);
 * every other entry point calls it on first use. Returns 0, or -1 with err
 * when the plugin directory cannot be read. */
int kpi_open(struct app *a, char *err, size_t errlen);
void kpi_close(struct app *a);

/* The catalogue: {"kpis":[{"id","plugin","name":{"zh","en"},"unit",
 * "direction","target","formula","by","budget"}],"settings":{..},"setting_defs":[..]}
 * with the targets and settings in force. NULL with *status 500 or 503
 * (err says why). */
cJSON *kpi_catalogue_json(struct app *a, int *status, char *err, size_t errlen);

/* A query as the caller gave it: ids, period, by (NULL: "group") and the
 * stores and regions asked for (none: the whole scope). */
typedef struct kpi_text_query {
    const char *const *ids;
    int nids;
    const char *from, *to, *by;
    const char *const *stores;
    int nstores;
    const char *const *regions;
    int nregions;
    bool targets;                   /* targets=1: each row's budgets too */
    unsigned long long *kept_at;    /* when not NULL: set to the data generation the answer holds for */
} kpi_text_query;
/* Run q for who (its scope decides the stores) and return the answer
 * (malloc'd, *len bytes). Whole answers are kept per data generation and
 * scope; a kept answer long enough to be worth it has a compressed copy,
 * and then comes in the form want (GZIP: a gzip stream; PIECE: a deflate
 * piece described by *piece, whose data is the returned bytes), else as
 * kpi_answer_text text: *got says which. NULL with *status and err: 400
 * naming the parameter (ids, from, to, by), 403 naming a store or region
 * outside the scope, 503 when the database fails or a statement runs past
 * the KPI time limit, 500 otherwise. */
char *kpi_query_text(struct app *a, const struct principal *who, const kpi_text_query *q, int want,
                     size_t *len, int *got, gzip_piece *piece, int *status, char *err, size_t errlen);

/* Compute again the kept answer of key (kpi_answers_stale), as an admin
 * asking for its stores, so that it is kept for the current generation.
 * 0, or -1 with *status and err. */
int kpi_answer_refresh(struct app *a, const char *key, int *status, char *err, size_t errlen);

/* --- whole batches (kpi_batch.c) ---
 * A batch's joined answer (gzip'd or plain) kept for the caller's scope and
 * the body's bytes, serving while the data generation it was joined at is
 * the current one. */
typedef struct kpi_batches kpi_batches;
kpi_batches *kpi_batches_new(void);
void kpi_batches_free(kpi_batches *b);
/* A copy (malloc'd, *len bytes) of the kept answer of body for who in the
 * form gz, or NULL. */
unsigned char *kpi_batch_get(struct app *a, const struct principal *who, const char *body, size_t body_len, bool gz,
                             size_t *len);
/* Keep bytes as the answer of body for who in the form gz, joined from
 * answers that hold for generation gen (kept only while gen is current). */
void kpi_batch_put(struct app *a, const struct principal *who, const char *body, size_t body_len, bool gz,
                   unsigned long long gen, const unsigned char *bytes, size_t len);

/* --- KPI settings: settings.h (settings.c) --- */
#endif
