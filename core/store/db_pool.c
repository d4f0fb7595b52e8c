/* db_pool: the pool of MariaDB connections (see db.h), the watchdog over
 * blocking calls, and the monitor that tells a silent server from a busy
 * one. Part of the MariaDB access layer of core/store/: db.c runs the
 * statements and brackets each blocking call with db_call_begin /
 * db_call_end (db_private.h), which are here.
 *
 * - A pool hands out up to N connections, made on demand. A connection whose
 *   server went away is marked lost; releasing it closes it (and the idle
 *   ones, which are likely dead too), and a later acquire connects afresh.
 *   An idle connection whose server closed it is noticed when it is taken
 *   from the pool (poll on its socket), so a restart of the server costs no
 *   failed request. db_acquire waits for a busy pool; db_acquire_spare never
 *   waits and takes a connection only when that leaves a given number free
 *   for others (extra hands a request can do without), and
 *   db_pool_spare_keep tells its holder when to give it back (someone
 *   waits, or the reserve is gone).
 * - A statement time limit (db_set_statement_timeout) is the server's
 *   max_statement_time, which a statement only notices where it checks for
 *   being killed, and some plans check rarely. So such statements are also
 *   watched here: one watchdog thread shuts down the socket of a statement
 *   still running past the limit plus a grace; the blocked call returns at
 *   once, the connection is dropped as lost, and the failure is reported as
 *   the time limit (ER_STATEMENT_TIMEOUT). A ping is cut the same way after
 *   its limit (db.c).
 * - A silent server (stopped, frozen, a machine that no longer answers)
 *   answers nothing, and a long statement on a healthy server answers
 *   nothing until it ends: the socket alone cannot tell them apart. So a
 *   watched pool (db_pool_watch) has a monitor thread that pings the server
 *   on a connection of its own every DB_PROBE_EVERY_MS, each ping bounded by
 *   DB_PROBE_LIMIT_S. Any answer (a ping, a statement of the pool ending, even
 *   a server error) counts. A call on the pool's connections that has waited
 *   the pool's bound while the server gave no answer at all for that long is
 *   cut by the watchdog (reported as CR_SERVER_LOST, the connection dropped),
 *   and while the server stays silent db_acquire fails at once. A long
 *   import or rebuild on a server that answers is never cut. db_pool_check
 *   (health) asks the monitor for a fresh ping and waits a bounded time.
 */
#include "db.h"
#include "db_private.h"
#include <errno.h>
#include <limits.h>
#include <mysql.h>
#include <poll.h>
#include <pthread.h>
#include <sys/socket.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "log.h"
#include "err.h"
#include "clock.h"

#define DB_PROBE_EVERY_MS      500   /* the monitor pings a watched pool's server this often */
#define DB_PROBE_LIMIT_S       1     /* connect and read timeouts of the monitor's own connection */

/* --- the watchdog --- */

static pthread_mutex_t watch_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t watch_cond = PTHREAD_COND_INITIALIZER;
static db_conn *watch_list;              /* connections in a watched call */
static pthread_once_t watch_once = PTHREAD_ONCE_INIT;
static bool watch_running;
static long long watch_wake_ms;          /* when the watchdog next looks (monotonic) */

/* The pool's figures the watchdog reads (defined with the pool). */
static long long pool_last_answer_ms(db_pool *p);
static int pool_silent_bound_ms(db_pool *p);
static void pool_note_answer(db_pool *p);

static void watch_unlink_locked(db_conn *c)
{
    if (c->watch_prev) c->watch_prev->watch_next = c->watch_next;
    else watch_list = c->watch_next;
    if (c->watch_next) c->watch_next->watch_prev = c->watch_prev;
    c->watch_prev = c->watch_next = NULL;
    c->watched = false;
}

/* When c's call is to be cut, and why (WATCH_*). Called with watch_mu held. */
static long long cut_time_locked(const db_conn *c, int *why)
{
    long long at = LLONG_MAX;
    *why = WATCH_NOT_CUT;
    if (c->watch_hard) {
        at = c->watch_deadline_ms;
        *why = WATCH_CUT_LIMIT;
    }
    if (c->watch_silent_ms > 0) {
        /* the bound runs from the later of the call's start and the server's last answer */
        long long last = pool_last_answer_ms(c->pool);
        long long from = last > c->call_start_ms ? last : c->call_start_ms;
        if (from + c->watch_silent_ms < at) {
            at = from + c->watch_silent_ms;
            *why = WATCH_CUT_SILENT;
        }
    }
    return at;
}

/* Cut the sockets of calls past their limit; sleep until the next one. */
static void *watch_thread(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&watch_mu);
    for (;;) {
        long long now = clock_ms_whole(), wake = now + 1000;
        for (db_conn *c = watch_list, *next; c; c = next) {
            next = c->watch_next;
            int why;
            long long at = cut_time_locked(c, &why);
            if (now >= at) {
                shutdown(c->watch_fd, SHUT_RDWR);   /* the fd stays open: its owner closes it */
                c->watch_fired = why;
                watch_unlink_locked(c);
            } else if (at < wake) {
                wake = at;
            }
        }
        watch_wake_ms = wake;
        struct timespec until = clock_timespec_at(wake);
        pthread_cond_timedwait(&watch_cond, &watch_mu, &until);
    }
    return NULL;
}

static void watch_start(void)
{
    pthread_condattr_t attr;
    pthread_t tid;
    if (pthread_condattr_init(&attr) != 0) return;
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_destroy(&watch_cond);
    pthread_cond_init(&watch_cond, &attr);
    pthread_condattr_destroy(&attr);
    if (pthread_create(&tid, NULL, watch_thread, NULL) == 0) {
        pthread_detach(tid);
        watch_running = true;
    }
}

void db_call_begin(db_conn *c, long long limit_ms)
{
    if (c->call_depth++ > 0) return;
    c->watch_fired = WATCH_NOT_CUT;
    int silent_ms = c->pool ? pool_silent_bound_ms(c->pool) : 0;
    if (limit_ms <= 0 && silent_ms <= 0) return;
    pthread_once(&watch_once, watch_start);
    if (!watch_running) return;          /* no thread: the server's limit and the read timeout alone */
    long long now = clock_ms_whole();
    pthread_mutex_lock(&watch_mu);
    c->watch_fd = (int)mysql_get_socket(c->m);
    c->call_start_ms = now;
    c->watch_hard = limit_ms > 0;
    c->watch_deadline_ms = limit_ms > 0 ? now + limit_ms : 0;
    c->watch_silent_ms = silent_ms;
    c->watch_prev = NULL;
    c->watch_next = watch_list;
    if (watch_list) watch_list->watch_prev = c;
    watch_list = c;
    c->watched = true;
    int why;
    if (cut_time_locked(c, &why) < watch_wake_ms) pthread_cond_signal(&watch_cond);
    pthread_mutex_unlock(&watch_mu);
}

void db_call_end(db_conn *c)
{
    if (c->call_depth <= 0 || --c->call_depth > 0) return;
    pthread_mutex_lock(&watch_mu);
    if (c->watched) watch_unlink_locked(c);
    if (c->watch_fired) c->lost = true;
    pthread_mutex_unlock(&watch_mu);
    if (!c->lost && c->pool) pool_note_answer(c->pool);
}

int db_watch_fired(db_conn *c)
{
    pthread_mutex_lock(&watch_mu);
    int fired = c->watch_fired;
    pthread_mutex_unlock(&watch_mu);
    return fired;
}

/* --- pool --- */

/* Whether the server closed an idle connection (killed, restarted, or its
 * wait_timeout): an idle connection has nothing to read, so anything
 * readable is the end of it. A syscall, no round trip, never blocks (a ping
 * would block on a frozen server). */
static bool idle_conn_closed(db_conn *c)
{
    my_socket fd = mysql_get_socket(c->m);
    if ((int)fd < 0) return true;
    struct pollfd pf = { .fd = (int)fd, .events = POLLIN };
    int n;
    while ((n = poll(&pf, 1, 0)) < 0 && errno == EINTR) {}
    return n != 0;
}

struct db_pool {
    db_url url;
    int size;
    pthread_mutex_t mu;
    pthread_cond_t freed;
    db_conn *idle;          /* a stack of idle connections */
    int open;               /* connections that exist: idle + in use */
    int in_use;
    int waiting;            /* threads waiting in db_acquire now */
    long long waits, errors;
    /* watching for a silent server (db_pool_watch); silent_ms is set before
     * the monitor starts and never changes after */
    int silent_ms;          /* 0: not watched */
    long long last_answer_ms;   /* monotonic; atomic: the server's last sign of life */
    /* the monitor and its probe: guarded by probe_mu */
    pthread_mutex_t probe_mu;
    pthread_cond_t probe_done;  /* a probe ended (probe_gen moved on) */
    pthread_cond_t probe_wake;  /* the monitor: a probe is wanted, or stop */
    db_conn *probe;             /* the monitor's own connection */
    bool probe_running, probe_wanted, probe_ok;
    unsigned long long probe_gen;   /* probes finished */
    char probe_err[256];
    pthread_t monitor;
    bool monitor_running, monitor_stop;
    bool silent;                /* the monitor reported the server silent */
};

static long long pool_last_answer_ms(db_pool *p) { return __atomic_load_n(&p->last_answer_ms, __ATOMIC_ACQUIRE); }
static int pool_silent_bound_ms(db_pool *p) { return __atomic_load_n(&p->silent_ms, __ATOMIC_ACQUIRE); }

static void pool_note_answer(db_pool *p)
{
    if (!pool_silent_bound_ms(p)) return;
    long long now = clock_ms_whole();
    long long seen = pool_last_answer_ms(p);
    while (seen < now && !__atomic_compare_exchange_n(&p->last_answer_ms, &seen, now, false,
                                                      __ATOMIC_RELEASE, __ATOMIC_ACQUIRE)) {}
}

/* How long a watched pool's server has given no answer, when that is past
 * its bound; 0 while it answers (or the pool is not watched). */
static long long pool_silent_for_ms(db_pool *p)
{
    int bound = pool_silent_bound_ms(p);
    if (bound <= 0) return 0;
    long long quiet = clock_ms_whole() - pool_last_answer_ms(p);
    return quiet >= bound ? quiet : 0;
}

db_pool *db_pool_new(const db_url *u, int size)
{
    db_pool *p = calloc(1, sizeof *p);
    if (!p) return NULL;
    p->url = *u;
    p->size = size > 0 ? size : 1;
    pthread_condattr_t ca;
    if (pthread_condattr_init(&ca)) {
        free(p);
        return NULL;
    }
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    int made = 0;                   /* how many of the five below exist */
    if (pthread_mutex_init(&p->mu, NULL) == 0) made++;
    if (made == 1 && pthread_cond_init(&p->freed, &ca) == 0) made++;
    if (made == 2 && pthread_mutex_init(&p->probe_mu, NULL) == 0) made++;
    if (made == 3 && pthread_cond_init(&p->probe_done, &ca) == 0) made++;
    if (made == 4 && pthread_cond_init(&p->probe_wake, &ca) == 0) made++;
    pthread_condattr_destroy(&ca);
    if (made < 5) {
        if (made > 3) pthread_cond_destroy(&p->probe_done);
        if (made > 2) pthread_mutex_destroy(&p->probe_mu);
        if (made > 1) pthread_cond_destroy(&p->freed);
        if (made > 0) pthread_mutex_destroy(&p->mu);
        free(p);
        return NULL;
    }
    return p;
}

void db_pool_free(db_pool *p)
{
    if (!p) return;
    if (p->monitor_running) {
        pthread_mutex_lock(&p->probe_mu);
        p->monitor_stop = true;
        pthread_cond_broadcast(&p->probe_wake);
        pthread_mutex_unlock(&p->probe_mu);
        pthread_join(p->monitor, NULL);
    }
    db_close(p->probe);
    while (p->idle) {
        db_conn *c = p->idle;
        p->idle = c->next_idle;
        db_close(c);
    }
    pthread_cond_destroy(&p->probe_wake);
    pthread_cond_destroy(&p->probe_done);
    pthread_mutex_destroy(&p->probe_mu);
    pthread_cond_destroy(&p->freed);
    pthread_mutex_destroy(&p->mu);
    free(p);
}

/* --- the monitor: is the server answering? --- */

/* One ping of the server on the probe connection (connecting first when
 * there is none), bounded by DB_PROBE_LIMIT_S: the probe_running holder only. */
static bool probe_once(db_pool *p, db_conn **conn, char *err, size_t errlen)
{
    db_conn *c = *conn;
    bool answered = false, ok = false;
    if (c && idle_conn_closed(c)) {      /* the server closed it (restart, wait_timeout) */
        db_close(c);
        c = NULL;
    }
    if (!c) {
        int e = 0;
        c = db_connect_timed(&p->url, DB_PROBE_LIMIT_S, DB_PROBE_LIMIT_S, &e, err, errlen);
        /* an error of the server's own (too many connections, access denied)
         * is an answer: the server is there, though the probe cannot use it */
        if (!c) answered = e > 0 && e < 2000;
    }
    if (c) {
        if (mysql_ping(c->m) == 0) {
            answered = ok = true;
        } else {
            int e = (int)mysql_errno(c->m);
            answered = e > 0 && e < 2000;
            set_err(err, errlen, "the database does not answer a ping: %s (%d)", mysql_error(c->m), e);
            if (!answered) {
                db_close(c);
                c = NULL;
            }
        }
    }
    if (answered) {
        long long now = clock_ms_whole(), seen = pool_last_answer_ms(p);
        while (seen < now && !__atomic_compare_exchange_n(&p->last_answer_ms, &seen, now, false,
                                                          __ATOMIC_RELEASE, __ATOMIC_ACQUIRE)) {}
    }
    *conn = c;
    return ok;
}

/* Run one probe, with probe_mu held on entry and on return (released while
 * the probe waits on the server). */
static void probe_run_locked(db_pool *p)
{
    p->probe_running = true;
    p->probe_wanted = false;
    db_conn *c = p->probe;
    p->probe = NULL;
    pthread_mutex_unlock(&p->probe_mu);
    char err[256] = "";
    bool ok = probe_once(p, &c, err, sizeof err);
    pthread_mutex_lock(&p->probe_mu);
    p->probe = c;
    p->probe_ok = ok;
    snprintf(p->probe_err, sizeof p->probe_err, "%s", ok ? "" : err);
    p->probe_running = false;
    p->probe_gen++;
    pthread_cond_broadcast(&p->probe_done);
}

/* Log when the server goes silent past the bound and when it answers
 * again; wake acquire waiters so that they fail at once. */
static void monitor_note_state(db_pool *p)
{
    long long silent_for = pool_silent_for_ms(p);
    if (silent_for > 0 && !p->silent) {
        p->silent = true;
        log_warn("db", "the database has given no answer for %lld ms (stalled or unreachable): "
                 "requests fail with 503 until it answers", silent_for);
        pthread_mutex_lock(&p->mu);
        pthread_cond_broadcast(&p->freed);
        pthread_mutex_unlock(&p->mu);
    } else if (silent_for == 0 && p->silent) {
        p->silent = false;
        log_info("db", "the database answers again");
    }
}

static void *monitor_main(void *arg)
{
    db_pool *p = arg;
    pthread_mutex_lock(&p->probe_mu);
    while (!p->monitor_stop) {
        probe_run_locked(p);
        pthread_mutex_unlock(&p->probe_mu);
        monitor_note_state(p);
        pthread_mutex_lock(&p->probe_mu);
        struct timespec next = clock_timespec_after(DB_PROBE_EVERY_MS);
        while (!p->monitor_stop && !p->probe_wanted)
            if (pthread_cond_timedwait(&p->probe_wake, &p->probe_mu, &next) == ETIMEDOUT) break;
    }
    pthread_mutex_unlock(&p->probe_mu);
    return NULL;
}

int db_pool_watch(db_pool *p, int silent_ms, char *err, size_t errlen)
{
    if (silent_ms <= 0 || p->monitor_running) return 0;
    __atomic_store_n(&p->last_answer_ms, clock_ms_whole(), __ATOMIC_RELEASE);
    __atomic_store_n(&p->silent_ms, silent_ms, __ATOMIC_RELEASE);
    if (pthread_create(&p->monitor, NULL, monitor_main, p) != 0) {
        __atomic_store_n(&p->silent_ms, 0, __ATOMIC_RELEASE);   /* without a monitor, no silence is seen */
        set_err(err, errlen, "cannot start the database monitor thread");
        return -1;
    }
    p->monitor_running = true;
    return 0;
}

bool db_pool_check(db_pool *p, int wait_ms, char *err, size_t errlen)
{
    pthread_mutex_lock(&p->probe_mu);
    if (!p->monitor_running) {               /* no monitor: probe here */
        while (p->probe_running) pthread_cond_wait(&p->probe_done, &p->probe_mu);
        probe_run_locked(p);
    } else {
        /* a probe that starts after this call: the one running may predate
         * what the caller wants to know */
        unsigned long long want = p->probe_gen + (p->probe_running ? 2 : 1);
        p->probe_wanted = true;
        pthread_cond_signal(&p->probe_wake);
        struct timespec until = clock_timespec_after(wait_ms < 0 ? 0 : wait_ms);
        while (p->probe_gen < want)
            if (pthread_cond_timedwait(&p->probe_done, &p->probe_mu, &until) == ETIMEDOUT) break;
        if (p->probe_gen < want) {
            pthread_mutex_unlock(&p->probe_mu);
            set_err(err, errlen, "the database gave no answer within %d ms", wait_ms);
            return false;
        }
    }
    bool ok = p->probe_ok;
    if (!ok) set_err(err, errlen, "%s", p->probe_err[0] ? p->probe_err : "the database does not answer");
    pthread_mutex_unlock(&p->probe_mu);
    return ok;
}

/* --- handing out connections --- */

/* Take the idle connections out (under the lock) to close them outside it. */
static db_conn *pool_take_idle(db_pool *p)
{
    db_conn *all = p->idle;
    for (db_conn *c = all; c; c = c->next_idle) p->open--;
    p->idle = NULL;
    return all;
}

static void close_list(db_conn *c)
{
    while (c) {
        db_conn *next = c->next_idle;
        db_close(c);
        c = next;
    }
}

/* db_acquire (reserve < 0: waits up to timeout_ms) and db_acquire_spare
 * (reserve >= 0: never waits, and leaves reserve connections free). */
static db_conn *pool_get(db_pool *p, int timeout_ms, int reserve, char *err, size_t errlen)
{
    /* a watched pool waits for a busy connection no longer than its bound */
    int bound = pool_silent_bound_ms(p);
    if (timeout_ms < 0) timeout_ms = 0;
    if (bound > 0 && timeout_ms > bound) timeout_ms = bound;
    struct timespec deadline = clock_timespec_after(timeout_ms);
    bool waited = false;
    pthread_mutex_lock(&p->mu);
    for (;;) {
        long long silent_for = pool_silent_for_ms(p);
        if (silent_for > 0) {                /* fail fast: it would only wait */
            p->errors++;
            pthread_mutex_unlock(&p->mu);
            set_err(err, errlen, "the database has given no answer for %lld s (stalled or unreachable); "
                    "try again shortly", (silent_for + 500) / 1000);
            return NULL;
        }
        if (reserve >= 0 && p->size - p->in_use - 1 < reserve) {
            pthread_mutex_unlock(&p->mu);
            set_err(err, errlen, "%d of the %d database connections are free, and %d stay for others",
                    p->size - p->in_use, p->size, reserve);
            return NULL;
        }
        if (p->idle) {
            db_conn *c = p->idle;
            p->idle = c->next_idle;
            c->next_idle = NULL;
            p->in_use++;
            pthread_mutex_unlock(&p->mu);
            if (idle_conn_closed(c)) {      /* its server went away meanwhile */
                pthread_mutex_lock(&p->mu);
                p->in_use--;
                p->open--;
                db_conn *stale = pool_take_idle(p);
                pthread_mutex_unlock(&p->mu);
                db_close(c);
                close_list(stale);
                pthread_mutex_lock(&p->mu);
                continue;                 /* connect afresh below */
            }
            c->timeout_want = 0;
            c->last_errno = 0;
            return c;
        }
        if (p->open < p->size) {
            p->open++;
            p->in_use++;
            pthread_mutex_unlock(&p->mu);
            db_conn *c = db_connect(&p->url, err, errlen);
            if (c) {
                c->pool = p;
                pool_note_answer(p);
                return c;
            }
            pthread_mutex_lock(&p->mu);
            p->open--;
            p->in_use--;
            p->errors++;
            pthread_cond_signal(&p->freed);
            pthread_mutex_unlock(&p->mu);
            return NULL;
        }
        if (reserve >= 0) {                  /* a spare never waits (the check above sees this first) */
            pthread_mutex_unlock(&p->mu);
            set_err(err, errlen, "all %d database connections are in use", p->size);
            return NULL;
        }
        if (!waited) {
            p->waits++;
            waited = true;
        }
        p->waiting++;
        int w = pthread_cond_timedwait(&p->freed, &p->mu, &deadline);
        p->waiting--;
        if (w == ETIMEDOUT && !p->idle && p->open >= p->size) {
            p->errors++;
            pthread_mutex_unlock(&p->mu);
            set_err(err, errlen, "all %d database connections stayed busy for %d ms", p->size, timeout_ms);
            return NULL;
        }
    }
}

db_conn *db_acquire(db_pool *p, int timeout_ms, char *err, size_t errlen)
{
    return pool_get(p, timeout_ms, -1, err, errlen);
}

db_conn *db_acquire_spare(db_pool *p, int reserve, char *err, size_t errlen)
{
    return pool_get(p, 0, reserve < 0 ? 0 : reserve, err, errlen);
}

bool db_pool_spare_keep(db_pool *p, int reserve)
{
    pthread_mutex_lock(&p->mu);
    bool keep = p->waiting == 0 && p->size - p->in_use >= reserve;
    pthread_mutex_unlock(&p->mu);
    return keep;
}

void db_release(db_pool *p, db_conn *c)
{
    if (!c) return;
    if (c->in_tx && !c->lost) db_rollback(c);   /* never hand on an open transaction */
    if (c->lost) {
        pthread_mutex_lock(&p->mu);
        p->in_use--;
        p->open--;
        p->errors++;
        db_conn *stale = pool_take_idle(p);   /* the same server: likely gone too */
        pthread_cond_broadcast(&p->freed);
        pthread_mutex_unlock(&p->mu);
        db_close(c);
        close_list(stale);
        return;
    }
    pthread_mutex_lock(&p->mu);
    c->next_idle = p->idle;
    p->idle = c;
    p->in_use--;
    pthread_cond_signal(&p->freed);
    pthread_mutex_unlock(&p->mu);
}

void db_pool_stats(db_pool *p, int *size, int *in_use, long long *waits, long long *errors)
{
    pthread_mutex_lock(&p->mu);
    if (size) *size = p->size;
    if (in_use) *in_use = p->in_use;
    if (waits) *waits = p->waits;
    if (errors) *errors = p->errors;
    pthread_mutex_unlock(&p->mu);
}

