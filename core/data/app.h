/* app: the state one running Fourscore process holds: its configuration,
 * database pools (primary and read replicas), the loaded plugins and the KPI
 * engine. One instance, passed explicitly; no other globals hold state. */
#ifndef FS_APP_H
#define FS_APP_H
#include "config.h"
#include "db.h"

struct plugin_registry;
struct kpi_engine;
struct kpi_batches;
struct localdb;
struct alerts_rt;
struct kpi_refresher;

typedef struct app {
    config cfg;
    db_url url;                      /* the primary */
    db_pool *db;                     /* writes and everything by default */
    db_pool *db_auth;                /* identifying callers (sessions, tokens): a small pool of
                                        its own on the primary, so a sign-in check never waits
                                        behind KPI work */
    db_pool *db_read[CONFIG_MAX_READ_URLS];  /* KPI / scorecard reads */
    int n_db_read;
    long long db_read_down_until[CONFIG_MAX_READ_URLS];  /* a replica that failed is skipped until then (monotonic ms) */
    unsigned db_read_next;           /* round robin over the replicas */
    struct localdb *local;           /* non-NULL in local mode */
    struct plugin_registry *plugins;
    struct kpi_engine *kpi;
    struct kpi_batches *kpi_batches; /* whole batch answers kept (core/engine/kpi_batch.c) */
    struct alerts_rt *alerts;        /* serve's alert workers (core/engine/alerts_run.c), else NULL */
    struct kpi_refresher *refresher; /* serve's refresh of answers after imports (core/engine/kpi_refresh.c) */
} app;

/* Open the database side of the app: local mode (start or attach to the
 * private mariadbd) or --db; connect pools; migrate if asked. */
int app_open(app *a, bool migrate, char *err, size_t errlen);
void app_close(app *a);
/* A connection for reading KPIs: a replica when one answers, else the primary. */
db_conn *app_acquire_read(app *a, db_pool **from, char *err, size_t errlen);
#endif
