/* alerts_run: the alert workers of a serving process (see alerts.h). Three
 * threads, so that nothing here makes a request or an import wait: the
 * evaluator takes the stores that imports touched (queued by the import's
 * commit hook, merged while it is busy), the sender sends the pending
 * deliveries (woken by the evaluator, and every SWEEP_S for those another
 * instance left behind), and the scheduler runs the daily evaluation at
 * FOURSCORE_ALERT_TIME and the scheduled reports, each under the MariaDB
 * named lock of scheduled work and once per day (schedule_runs). Part of
 * core/engine/. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "alerts.h"
#include "app.h"
#include "clock.h"
#include "config.h"
#include "freshness.h"
#include "log.h"
#include "reports.h"

/* A string parameter, NULL as SQL NULL. */
static db_val dbs(const char *s) { return DB_STR(s); }

#define SWEEP_S        30      /* the sender looks for pending deliveries at least this often */
#define SCHEDULE_S     15      /* the scheduler looks at the clock this often */
#define MAX_QUEUED_STORES 4096 /* more touched stores than this: evaluate every store */
#define SCHEDULE_LOCK  "fourscore.schedule"

typedef struct alerts_rt {
    struct app *a;
    pthread_t eval_t, send_t, sched_t;
    bool eval_started, send_started, sched_started;
    pthread_mutex_t mu;
    pthread_cond_t wake_eval, wake_send, wake_sched;
    volatile bool stop;
    /* the evaluation asked for */
    bool eval_pending, eval_every_store, eval_every_entity;
    char entity[48];
    char **stores;
    int nstores, capstores;
    bool send_pending;
} alerts_rt;

int alerts_daily_time(char out[6], char *err, size_t errlen)
{
    const char *v = config_env("FOURSCORE_ALERT_TIME");
    int h = 7, m = 30;
    if (v) {
        char extra;
        if (sscanf(v, "%2d:%2d%c", &h, &m, &extra) != 2 || h < 0 || h > 23 || m < 0 || m > 59 || strlen(v) != 5) {
            snprintf(err, errlen, "FOURSCORE_ALERT_TIME=%.32s is not a time HH:MM", v);
            return -1;
        }
    }
    snprintf(out, 6, "%02d:%02d", h, m);
    return 0;
}

/* --- scheduled work, once per day and on one instance at a time --- */

static const char SQL_RUN_DONE[] = "SELECT 1 FROM schedule_runs WHERE job = ? AND run_day = ?";
static const char SQL_RUN_MARK[] = "INSERT IGNORE INTO schedule_runs (job, run_day, done_at) VALUES (?, ?, ?)";
static const char SQL_GET_LOCK[] = "SELECT GET_LOCK(?, 0)";
static const char SQL_RELEASE_LOCK[] = "SELECT RELEASE_LOCK(?)";

static int run_done(db_conn *c, const char *job, const char *today, char *err, size_t errlen)
{
    db_val v[2] = { dbs(job), dbs(today) };
    db_result *res = NULL;
    if (db_query(c, SQL_RUN_DONE, v, 2, &res, err, errlen) != 0) return -1;
    int done = res->nrows > 0;
    db_result_free(res);
    return done;
}

int schedule_run_once(struct app *a, const char *job, const char *today, int (*fn)(void *ud), void *ud,
                      char *err, size_t errlen)
{
    db_conn *c = db_acquire(a->db, 5000, err, errlen);
    if (!c) return -1;
    int rc = run_done(c, job, today, err, errlen);
    if (rc != 0) { db_release(a->db, c); return rc < 0 ? -1 : 0; }
    db_val lock = dbs(SCHEDULE_LOCK);
    db_result *res = NULL;
    if (db_query(c, SQL_GET_LOCK, &lock, 1, &res, err, errlen) != 0) { db_release(a->db, c); return -1; }
    bool got = res->nrows && db_cell(res, 0, 0) && strcmp(db_cell(res, 0, 0), "1") == 0;
    db_result_free(res);
    if (!got) { db_release(a->db, c); return 0; }       /* another instance is at it */
    rc = run_done(c, job, today, err, errlen);          /* it may have finished just now */
    if (rc == 0) {
        rc = fn(ud) == 0 ? 1 : -1;
        if (rc < 0) snprintf(err, errlen, "%s failed (the log says why); it runs again at the next look", job);
        char now[20];
        freshness_local_now(now);
        db_val v[3] = { dbs(job), dbs(today), dbs(now) };
        char merr[256];
        if (rc == 1 && db_exec(c, SQL_RUN_MARK, v, 3, NULL, merr, sizeof merr) != 0)
            log_warn("alerts", "%s: marking it done: %s", job, merr);
    } else if (rc > 0) {
        rc = 0;
    }
    res = NULL;
    char rerr[256];
    if (db_query(c, SQL_RELEASE_LOCK, &lock, 1, &res, rerr, sizeof rerr) != 0)
        log_warn("alerts", "releasing the lock of scheduled work: %s", rerr);
    db_result_free(res);
    db_release(a->db, c);
    return rc;
}

/* --- the threads --- */

/* Waits on the monotonic clock (the condition variables are set to it in
 * alerts_start), so that a change of the wall clock neither cuts nor stretches a wait. */
static void wait_s(alerts_rt *rt, pthread_cond_t *cv, int seconds)
{
    struct timespec ts = clock_timespec_after(seconds * 1000LL);
    pthread_cond_timedwait(cv, &rt->mu, &ts);
}

static void *eval_main(void *ud)
{
    alerts_rt *rt = ud;
    pthread_mutex_lock(&rt->mu);
    while (!rt->stop) {
        if (!rt->eval_pending) { wait_s(rt, &rt->wake_eval, 60); continue; }
        /* take what was asked; imports arriving meanwhile queue the next round */
        char entity[48];
        snprintf(entity, sizeof entity, "%s", rt->eval_every_entity ? "" : rt->entity);
        bool every = rt->eval_every_store;
        char **stores = rt->stores;
        int n = rt->nstores;
        rt->stores = NULL;
        rt->nstores = rt->capstores = 0;
        rt->eval_pending = rt->eval_every_store = rt->eval_every_entity = false;
        pthread_mutex_unlock(&rt->mu);
        alerts_stats st;
        char err[512];
        if (alerts_evaluate(rt->a, *entity ? entity : NULL, every ? NULL : (const char *const *)stores, n, &st,
                            err, sizeof err) != 0)
            log_warn("alerts", "evaluating after an import: %s", err);
        for (int i = 0; i < n; i++) free(stores[i]);
        free(stores);
        pthread_mutex_lock(&rt->mu);
        rt->send_pending = true;
        pthread_cond_signal(&rt->wake_send);
    }
    pthread_mutex_unlock(&rt->mu);
    return NULL;
}

static void *send_main(void *ud)
{
    alerts_rt *rt = ud;
    pthread_mutex_lock(&rt->mu);
    while (!rt->stop) {
        if (!rt->send_pending) wait_s(rt, &rt->wake_send, SWEEP_S);
        if (rt->stop) break;
        rt->send_pending = false;
        pthread_mutex_unlock(&rt->mu);
        char err[512];
        if (alerts_deliver_pending(rt->a, &rt->stop, NULL, err, sizeof err) != 0)
            log_warn("alerts", "sending notifications: %s", err);
        pthread_mutex_lock(&rt->mu);
    }
    pthread_mutex_unlock(&rt->mu);
    return NULL;
}

static int daily_evaluation(void *ud)
{
    alerts_rt *rt = ud;
    alerts_stats st;
    char err[512];
    if (alerts_evaluate(rt->a, NULL, NULL, 0, &st, err, sizeof err) != 0) {
        log_warn("alerts", "the daily evaluation: %s", err);
        return -1;
    }
    log_info("alerts", "daily evaluation: %d rules, %d opened, %d closed, %d errors", st.rules, st.opened, st.closed,
             st.errors);
    pthread_mutex_lock(&rt->mu);
    rt->send_pending = true;
    pthread_cond_signal(&rt->wake_send);
    pthread_mutex_unlock(&rt->mu);
    return 0;
}

static void *sched_main(void *ud)
{
    alerts_rt *rt = ud;
    char at[6], err[512];
    if (alerts_daily_time(at, err, sizeof err) != 0) {
        log_warn("alerts", "%s; the daily evaluation runs at 07:30", err);
        snprintf(at, sizeof at, "07:30");
    }
    pthread_mutex_lock(&rt->mu);
    while (!rt->stop) {
        pthread_mutex_unlock(&rt->mu);
        char now[20], today[11];
        freshness_local_now(now);
        memcpy(today, now, 10);
        today[10] = '\0';
        if (strncmp(now + 11, at, 5) >= 0) {
            int rc = schedule_run_once(rt->a, "alerts.daily", today, daily_evaluation, rt, err, sizeof err);
            if (rc < 0) log_warn("alerts", "the daily evaluation: %s", err);
            else if (rc == 1) log_info("alerts", "the daily evaluation of %s ran on this instance", today);
        }
        if (reports_run_due(rt->a, now, &rt->stop, err, sizeof err) != 0)
            log_warn("reports", "scheduled reports: %s", err);
        pthread_mutex_lock(&rt->mu);
        if (!rt->stop) wait_s(rt, &rt->wake_sched, SCHEDULE_S);
    }
    pthread_mutex_unlock(&rt->mu);
    return NULL;
}

int alerts_start(struct app *a, char *err, size_t errlen)
{
    alerts_rt *rt = calloc(1, sizeof *rt);
    if (!rt) { snprintf(err, errlen, "out of memory"); return -1; }
    rt->a = a;
    pthread_mutex_init(&rt->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&rt->wake_eval, &ca);
    pthread_cond_init(&rt->wake_send, &ca);
    pthread_cond_init(&rt->wake_sched, &ca);
    pthread_condattr_destroy(&ca);
    a->alerts = rt;
    rt->eval_started = pthread_create(&rt->eval_t, NULL, eval_main, rt) == 0;
    rt->send_started = rt->eval_started && pthread_create(&rt->send_t, NULL, send_main, rt) == 0;
    rt->sched_started = rt->send_started && pthread_create(&rt->sched_t, NULL, sched_main, rt) == 0;
    if (!rt->sched_started) {
        snprintf(err, errlen, "could not start the alert threads: %s", strerror(errno));
        alerts_stop(a);
        return -1;
    }
    return 0;
}

void alerts_stop(struct app *a)
{
    alerts_rt *rt = a->alerts;
    if (!rt) return;
    pthread_mutex_lock(&rt->mu);
    rt->stop = true;
    pthread_cond_broadcast(&rt->wake_eval);
    pthread_cond_broadcast(&rt->wake_send);
    pthread_cond_broadcast(&rt->wake_sched);
    pthread_mutex_unlock(&rt->mu);
    if (rt->eval_started) pthread_join(rt->eval_t, NULL);
    if (rt->send_started) pthread_join(rt->send_t, NULL);
    if (rt->sched_started) pthread_join(rt->sched_t, NULL);
    for (int i = 0; i < rt->nstores; i++) free(rt->stores[i]);
    free(rt->stores);
    pthread_cond_destroy(&rt->wake_eval);
    pthread_cond_destroy(&rt->wake_send);
    pthread_cond_destroy(&rt->wake_sched);
    pthread_mutex_destroy(&rt->mu);
    free(rt);
    a->alerts = NULL;
}

/* Add a store to the queued round (unless it is there); false when full. */
static bool queue_store(alerts_rt *rt, const char *s)
{
    for (int i = 0; i < rt->nstores; i++) if (strcmp(rt->stores[i], s) == 0) return true;
    if (rt->nstores >= MAX_QUEUED_STORES) return false;
    if (rt->nstores == rt->capstores) {
        int cap = rt->capstores ? rt->capstores * 2 : 16;
        char **grown = realloc(rt->stores, (size_t)cap * sizeof *grown);
        if (!grown) return false;
        rt->stores = grown;
        rt->capstores = cap;
    }
    char *copy = strdup(s);
    if (!copy) return false;
    rt->stores[rt->nstores++] = copy;
    return true;
}

void alerts_after_import(void *ud, const char *entity, const char *const *stores, int nstores)
{
    struct app *a = ud;
    alerts_rt *rt = a ? a->alerts : NULL;
    if (!rt) return;
    pthread_mutex_lock(&rt->mu);
    if (!rt->eval_pending) snprintf(rt->entity, sizeof rt->entity, "%s", entity);
    else if (strcmp(rt->entity, entity) != 0) rt->eval_every_entity = true;
    rt->eval_pending = true;
    for (int i = 0; i < nstores && !rt->eval_every_store; i++)
        if (!queue_store(rt, stores[i])) rt->eval_every_store = true;
    pthread_cond_signal(&rt->wake_eval);
    pthread_mutex_unlock(&rt->mu);
}
