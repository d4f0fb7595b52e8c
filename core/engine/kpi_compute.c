/* kpi_compute: computing a KPI query's components (see kpi_compute.h).
 *
 * Components per (id, from, to, per insurer) do not depend on the caller's
 * scope, so they are computed once for every scope and kept by
 * kpi_cache.c. A cold query first claims, in one step, every component the
 * cache lacks that no other request is computing (single flight); it
 * computes those on its own connection and on up to KPI_COMPUTE_THREADS - 1
 * more, each a spare (db_acquire_spare): taken only when that leaves a
 * reserve of the pool free (a quarter of it, at least two), and given back
 * between two components as soon as another request waits for a
 * connection or the reserve is gone: a cold query takes more than one
 * connection only while the pool has room, and the reserve stays for other
 * requests' own connections. Every claim ends
 * before the query waits for anything, so waits cannot form a cycle.
 * The components other requests are computing are then waited for by the
 * fold (kpi_components_get), holding no connection while it waits: a query
 * that only waits gives its connection back first, so requests waiting for
 * one computation never starve the pool.
 *
 * After an import that named the stores it changed, a cached entry is
 * stale only for those stores: they alone are computed again (the plugin
 * is asked for them, fsp_kpi_args.stores) and merged with the entry's other
 * stores into a new entry, labelled with the generation the computing
 * connection saw. Part of core/engine/. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "kpi_compute.h"
#include "config.h"
#include "counters.h"
#include "generation.h"
#include "log.h"

#define ER_STATEMENT_TIMEOUT   1969
#define KPI_COMPUTE_THREADS    3              /* connections a cold query computes on at most */
#define KPI_RESERVE_MIN        2              /* a spare leaves at least this many free */
#define KPI_NARROW_MAX         32             /* up to this many stores stale: recompute those alone */

/* --- the query's connection --- */

/* The data generation c sees now: what it computes is labelled with it (or
 * the snapshot's, whichever is older), so that a lagging replica's numbers
 * are never kept as the newer generation's. 0 when it cannot be read. */
static unsigned long long conn_generation(db_conn *c)
{
    data_generations g;
    char err[256];
    return data_generations_read(c, &g, err, sizeof err) == 0 ? g.data : 0;
}

db_conn *kpi_conn_get(kpi_conn *q, char *err, size_t errlen)
{
    if (!q->c) {
        q->c = app_acquire_read(q->a, &q->pool, err, errlen);
        if (q->c) {
            db_set_statement_timeout(q->c, q->a->cfg.kpi_statement_timeout_s);
            q->seen = conn_generation(q->c);
        }
    }
    return q->c;
}

void kpi_conn_drop(kpi_conn *q)
{
    if (q->c) db_release(q->pool, q->c);
    q->c = NULL;
}

/* --- one (KPI, period) --- */

/* The stores changed since an entry was computed: base (a reference) with
 * the codes of the stale ones, when few enough to recompute alone. */
typedef struct stale_part {
    cache_entry *base;           /* NULL: compute every store */
    bool *stale;                 /* per directory index of the snapshot */
    const char **codes;
    int n;
} stale_part;

/* What of key must be computed: every store, or only those changed since
 * the cached entry (at most KPI_NARROW_MAX of them, and then the plugin is
 * asked for those stores alone). *fresh: an entry that serves
 * already (another request computed it). */
static void stale_find(app *a, kpi_snapshot *snap, const char *key, stale_part *sp, cache_entry **fresh)
{
    *sp = (stale_part){ 0 };
    *fresh = NULL;
    if (snap->nstores == 0 || !(sp->stale = calloc((size_t)snap->nstores, sizeof *sp->stale))) return;
    int nstale = 0;
    cache_entry *base = kpi_cache_base(a->kpi, snap, key, sp->stale, &nstale);
    if (base && nstale == 0) {
        *fresh = base;
    } else if (base && nstale <= KPI_NARROW_MAX && nstale < snap->nstores &&
               (sp->codes = malloc((size_t)nstale * sizeof *sp->codes))) {
        for (int i = 0; i < snap->nstores; i++)
            if (sp->stale[i]) sp->codes[sp->n++] = snap->stores[i].code;
        sp->base = base;
        return;
    } else if (base) {
        kpi_cache_release(a->kpi, base);
    }
    free(sp->stale);
    sp->stale = NULL;
}

static void stale_part_free(app *a, stale_part *sp)
{
    if (sp->base) kpi_cache_release(a->kpi, sp->base);
    free(sp->stale);
    free(sp->codes);
}

/* The base's components of the stores that did not change, then the new
 * ones of those that did (comps, ncomps: freed); NULL when out of memory. */
static kpi_component *stale_merge(const kpi_snapshot *snap, const stale_part *sp, kpi_component *comps, int ncomps,
                                  int *nout)
{
    const cache_entry *b = sp->base;
    kpi_component *out = malloc((size_t)(b->ncomps + ncomps > 0 ? b->ncomps + ncomps : 1) * sizeof *out);
    int n = 0;
    for (int i = 0; out && i < b->ncomps; i++) {
        int st = kpi_dir_find(snap->stores, snap->nstores, b->comps[i].store_code);
        if (st < 0 || !sp->stale[st]) out[n++] = b->comps[i];
    }
    for (int i = 0; out && i < ncomps; i++) {
        int st = kpi_dir_find(snap->stores, snap->nstores, comps[i].store_code);
        if (st >= 0 && sp->stale[st]) out[n++] = comps[i];
    }
    free(comps);
    *nout = n;
    return out;
}

/* Compute the components of key on c and keep them: only the stores that
 * changed since the cached entry, when it is stale for a few. */
static cache_entry *compute_components(app *a, db_conn *c, unsigned long long seen, kpi_snapshot *snap,
                                       const plugin_kpi *pk, const period *p, bool per_insurer, const char *key,
                                       int *status, char *err, size_t errlen)
{
    stale_part sp;
    cache_entry *fresh = NULL;
    stale_find(a, snap, key, &sp, &fresh);
    if (fresh) return fresh;
    metrics_add(METRIC_KPI_CACHE_MISSES, 1);     /* hits: counted once per query, in kpi_compute_missing */
    fsp_call call = { .conn = c, .setting = kpi_settings_lookup, .setting_ctx = snap->settings,
                      .generation = snap->generation };
    fsp_kpi_args args = {
        .struct_size = sizeof(fsp_kpi_args), .kpi = pk->def, .from = p->from, .to = p->to,
        .days = p->days, .per_insurer = per_insurer ? 1 : 0, .stores = sp.codes, .nstores = sp.n,
    };
    int rc = plugin_compute(pk->def, &call, &args);
    if (rc != 0 && sp.base && db_errno(c) != ER_STATEMENT_TIMEOUT && !db_conn_lost(c)) {
        /* the stores alone failed where the whole group may not (a plugin
         * statement that cannot be narrowed): compute every store */
        log_warn("kpi", "%s %s..%s for %d stores alone: %s; computing every store", pk->def->id, p->from, p->to,
                 sp.n, call.error);
        plugin_call_reset(&call);
        stale_part_free(a, &sp);
        sp = (stale_part){ 0 };
        args.stores = NULL;
        args.nstores = 0;
        rc = plugin_compute(pk->def, &call, &args);
    }
    if (rc != 0) {
        stale_part_free(a, &sp);
        *status = db_errno(c) == ER_STATEMENT_TIMEOUT ? 503 : 500;
        if (*status == 503)
            snprintf(err, errlen, "%s took longer than the KPI statement time limit (%g s)", pk->def->id,
                     a->cfg.kpi_statement_timeout_s);
        else if (db_errno(c) != 0) {
            *status = 503;
            snprintf(err, errlen, "%s: %s", pk->def->id, call.error);
        } else snprintf(err, errlen, "%s", call.error);
        log_error("kpi", "%s %s..%s: %s", pk->def->id, p->from, p->to, call.error);
        plugin_call_reset(&call);
        return NULL;
    }
    bool merged = true;
    if (sp.base) {
        call.comps = stale_merge(snap, &sp, call.comps, call.ncomps, &call.ncomps);
        call.comps_cap = call.ncomps;
        merged = call.comps != NULL;
        metrics_add(METRIC_KPI_STORES_RECOMPUTED, sp.n);
    }
    stale_part_free(a, &sp);
    cache_entry *e = merged ? kpi_cache_put(a->kpi, snap, seen, key, call.comps, call.ncomps) : NULL;
    if (!e) {
        plugin_call_reset(&call);
        *status = 500;
        snprintf(err, errlen, "out of memory");
    }
    return e;
}

cache_entry *kpi_components_get(app *a, kpi_conn *q, kpi_snapshot *snap, const plugin_kpi *pk, const period *p,
                                bool per_insurer, const bool *need, int *status, char *err, size_t errlen)
{
    kpi_engine *k = a->kpi;
    char key[KPI_CACHE_KEY_LEN];
    kpi_cache_key(key, pk->def->id, p->from, p->to, per_insurer);
    cache_entry *e = NULL;
    int claim = 0;
    /* identical concurrent misses are computed once: the others wait for it */
    while (!(e = kpi_cache_lookup(k, snap, key, need)) && (claim = kpi_cache_claim(k, snap, key)) < 0) {}
    if (e) return e;
    db_conn *c = kpi_conn_get(q, err, errlen);
    if (!c) *status = 503;
    else e = compute_components(a, c, q->seen, snap, pk, p, per_insurer, key, status, err, errlen);
    kpi_cache_done(k, claim);
    return e;
}

/* --- a cold query: its own components, in parallel --- */

/* The (id, period) pairs a query claimed, handed out one at a time to the
 * query's own thread and its helpers, each computing on a connection of
 * its own. */
typedef struct compute_job {
    app *a;
    db_pool *pool;               /* the pool of the query's own connection */
    int reserve;                 /* connections of it a helper leaves free */
    kpi_snapshot *snap;
    const plugin_kpi **pks;
    const period *periods;
    int nperiods;
    bool per_insurer;
    int *mine, *claims, nmine;   /* pair index (k * nperiods + p) and its claim */
    pthread_mutex_t mu;
    int next;                    /* the next of mine to hand out */
    bool failed;                 /* then the first failure: */
    int status;
    char err[512];
} compute_job;

/* Compute pairs of the job on c until none is left (or one failed); a
 * helper (spare) also stops when the pool wants its connection back. */
static void run_pairs(compute_job *job, db_conn *c, unsigned long long seen, bool spare)
{
    char err[512];
    int status;
    for (;;) {
        if (spare && !db_pool_spare_keep(job->pool, job->reserve)) break;
        pthread_mutex_lock(&job->mu);
        int j = job->failed || job->next >= job->nmine ? -1 : job->next++;
        pthread_mutex_unlock(&job->mu);
        if (j < 0) break;
        int i = job->mine[j];
        const period *p = &job->periods[i % job->nperiods];
        const plugin_kpi *pk = job->pks[i / job->nperiods];
        char key[KPI_CACHE_KEY_LEN];
        kpi_cache_key(key, pk->def->id, p->from, p->to, job->per_insurer);
        cache_entry *e = compute_components(job->a, c, seen, job->snap, pk, p, job->per_insurer, key, &status, err,
                                            sizeof err);
        kpi_cache_done(job->a->kpi, job->claims[j]);
        if (!e) {
            pthread_mutex_lock(&job->mu);
            if (!job->failed) {
                job->failed = true;
                job->status = status;
                snprintf(job->err, sizeof job->err, "%s", err);
            }
            pthread_mutex_unlock(&job->mu);
            break;
        }
        kpi_cache_release(job->a->kpi, e);
    }
}

/* A helper: a spare connection, or none (the pool is busy: the query's own
 * thread and the other helpers compute the rest). */
static void *compute_helper(void *arg)
{
    compute_job *job = arg;
    char err[256];
    db_conn *c = db_acquire_spare(job->pool, job->reserve, err, sizeof err);
    if (!c) return NULL;
    db_set_statement_timeout(c, job->a->cfg.kpi_statement_timeout_s);
    run_pairs(job, c, conn_generation(c), true);
    db_release(job->pool, c);
    return NULL;
}

/* The component key of pair i of a compute_job. */
static void job_key(const void *ctx, int i, char key[KPI_CACHE_KEY_LEN])
{
    const compute_job *job = ctx;
    const period *p = &job->periods[i % job->nperiods];
    kpi_cache_key(key, job->pks[i / job->nperiods]->def->id, p->from, p->to, job->per_insurer);
}

int kpi_compute_missing(app *a, kpi_conn *q, kpi_snapshot *snap, const plugin_kpi **pks, int nids,
                        const period *periods, int nperiods, bool per_insurer, const bool *need,
                        void (*meanwhile)(void *), void *ud, int *status, char *err, size_t errlen)
{
    int total = nids * nperiods;
    compute_job job = { .a = a, .snap = snap, .pks = pks, .periods = periods, .nperiods = nperiods,
                        .per_insurer = per_insurer };
    job.mine = malloc((size_t)total * sizeof *job.mine);
    job.claims = malloc((size_t)total * sizeof *job.claims);
    if (!job.mine || !job.claims || pthread_mutex_init(&job.mu, NULL) != 0) {
        free(job.mine);
        free(job.claims);
        if (meanwhile) meanwhile(ud);
        return 0;                 /* the fold computes one at a time */
    }
    int found = 0, theirs = 0;          /* theirs: waited for by the fold */
    job.nmine = kpi_cache_claim_missing(a->kpi, snap, total, job_key, &job, need, job.mine, job.claims, &found,
                                        &theirs);
    metrics_add(METRIC_KPI_CACHE_HITS, found);
    db_conn *c = job.nmine > 0 || meanwhile ? kpi_conn_get(q, err, errlen) : NULL;
    if (!c && (job.nmine > 0 || meanwhile)) {
        job.failed = true;
        job.status = 503;
        snprintf(job.err, sizeof job.err, "%s", err);
    }
    if (c) {
        job.pool = q->pool;
        int size = 0;
        db_pool_stats(job.pool, &size, NULL, NULL, NULL);
        job.reserve = size / 4 > KPI_RESERVE_MIN ? size / 4 : KPI_RESERVE_MIN;
        int helpers = job.nmine - 1 < KPI_COMPUTE_THREADS - 1 ? job.nmine - 1 : KPI_COMPUTE_THREADS - 1;
        pthread_t tids[KPI_COMPUTE_THREADS];
        int started = 0;
        for (int t = 0; t < helpers; t++)
            if (pthread_create(&tids[started], NULL, compute_helper, &job) == 0) started++;
        if (meanwhile) meanwhile(ud);
        run_pairs(&job, c, q->seen, false);
        for (int t = 0; t < started; t++) pthread_join(tids[t], NULL);
    }
    /* the claims never handed out (a failure, no connection): the fold computes or waits for them */
    for (int j = job.next; j < job.nmine; j++) kpi_cache_done(a->kpi, job.claims[j]);
    /* nothing left to compute here: the fold finds the rest in the cache, or
     * waits for the requests computing it, holding no connection */
    kpi_conn_drop(q);
    pthread_mutex_destroy(&job.mu);
    free(job.mine);
    free(job.claims);
    if (!job.failed) return 0;
    *status = job.status;
    snprintf(err, errlen, "%s", job.err);
    return -1;
}
