/* kpi_refresh: the answers kept by the KPI engine computed again after an
 * import (see kpi_refresh.h). Every KPI_REFRESH_MS the thread reads the data
 * generation (as a query would, so an import through another instance or
 * the command line is seen too); when an import named the stores it changed,
 * the kept answers whose scope holds one of them are stale
 * (kpi_answers_stale), and the most recently used KPI_REFRESH_MAX of them
 * are computed again (kpi_answer_refresh: only the changed stores' components
 * are recomputed, kpi_compute.c). So the group overview a manager reloads
 * after a store's upload is warm again within a moment, not computed on his
 * request. Answers dropped by a change of everything (a setting, a rebuild)
 * are not refreshed: the next request computes them, as before. */
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include "kpi_refresh.h"
#include "app.h"
#include "clock.h"
#include "config.h"
#include "kpi.h"
#include "kpi_cache.h"
#include "log.h"

#define KPI_REFRESH_MS   500      /* how often the generation is looked at (FOURSCORE_KPI_REFRESH_MS; 0: never) */
#define KPI_REFRESH_MAX  64       /* stale answers computed again per look, most recently used first */

struct kpi_refresher {
    app *a;
    double every_ms;
    pthread_t tid;
    pthread_mutex_t mu;
    pthread_cond_t wake;
    bool stop;
};

/* One look: the generation read, the stale answers computed again. */
static void refresh_once(struct kpi_refresher *r)
{
    app *a = r->a;
    char err[512];
    kpi_snapshot *snap = kpi_snapshot_fresh(a->kpi);
    if (!snap) {
        db_pool *from = NULL;
        db_conn *c = app_acquire_read(a, &from, err, sizeof err);
        if (!c) return;              /* the database is away: the next look */
        snap = kpi_snapshot_get(a->kpi, c, err, sizeof err);
        db_release(from, c);
    }
    if (!snap) return;
    kpi_snapshot_release(a->kpi, snap);
    char *keys[KPI_REFRESH_MAX];
    int n = kpi_answers_stale(a->kpi, keys, KPI_REFRESH_MAX);
    bool stop = false;
    for (int i = 0; i < n; i++) {
        pthread_mutex_lock(&r->mu);
        stop = stop || r->stop;
        pthread_mutex_unlock(&r->mu);
        int status = 0;
        if (!stop && kpi_answer_refresh(a, keys[i], &status, err, sizeof err) != 0) {
            /* the rest wait for the next look (or for the request that needs them) */
            log_warn("kpi", "refreshing a kept answer after an import: %s (%d)", err, status);
            stop = true;
        }
        free(keys[i]);
    }
}

static void *refresh_main(void *arg)
{
    struct kpi_refresher *r = arg;
    pthread_mutex_lock(&r->mu);
    while (!r->stop) {
        struct timespec until = clock_timespec_after((long long)r->every_ms);
        pthread_cond_timedwait(&r->wake, &r->mu, &until);
        if (r->stop) break;
        pthread_mutex_unlock(&r->mu);
        refresh_once(r);
        pthread_mutex_lock(&r->mu);
    }
    pthread_mutex_unlock(&r->mu);
    return NULL;
}

int kpi_refresh_start(app *a, char *err, size_t errlen)
{
    double every_ms = KPI_REFRESH_MS;
    if (config_env_number("FOURSCORE_KPI_REFRESH_MS", 0, 3600000, &every_ms, err, errlen) < 0) return -1;
    if (every_ms == 0) return 0;
    struct kpi_refresher *r = calloc(1, sizeof *r);
    if (!r) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    r->a = a;
    r->every_ms = every_ms;
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    bool mu = pthread_mutex_init(&r->mu, NULL) == 0;
    bool cv = mu && pthread_cond_init(&r->wake, &ca) == 0;
    pthread_condattr_destroy(&ca);
    if (!cv || pthread_create(&r->tid, NULL, refresh_main, r) != 0) {
        if (cv) pthread_cond_destroy(&r->wake);
        if (mu) pthread_mutex_destroy(&r->mu);
        snprintf(err, errlen, "could not start the KPI refresh thread");
        free(r);
        return -1;
    }
    a->refresher = r;
    return 0;
}

void kpi_refresh_stop(app *a)
{
    struct kpi_refresher *r = a->refresher;
    if (!r) return;
    pthread_mutex_lock(&r->mu);
    r->stop = true;
    pthread_cond_broadcast(&r->wake);
    pthread_mutex_unlock(&r->mu);
    pthread_join(r->tid, NULL);
    pthread_cond_destroy(&r->wake);
    pthread_mutex_destroy(&r->mu);
    free(r);
    a->refresher = NULL;
}
