/* http_conn: the guard over the HTTP front's connections (see http_conn.h).
 *
 * libmicrohttpd 0.9.75 only knows an idle timeout: a client that trickles a
 * byte now and then keeps its connection (and its share of the connection
 * limit) for ever, and once the limit is full new connections wait in the
 * kernel's backlog. The guard keeps a list of the open connections with the
 * phase of the request each one is reading (http_server.c moves it), and:
 * - a sweep thread cuts every connection whose request head and body have
 *   not arrived within the request timeout since the request began
 *   (streamed uploads: the timeout plus one second per STREAM_MIN_RATE
 *   bytes received, so a large import over a slow line still fits);
 * - when more than the soft limit are open, a new connection evicts the
 *   oldest one that is waiting or reading slowly (never one being answered,
 *   never a streamed upload), so health and signed-in users get in while
 *   slow clients hold the rest. libmicrohttpd's own limit is set above the
 *   soft limit (http_server.c), so the new connection is accepted at all.
 * Cutting: a connection that had started a request is answered 408 in JSON
 * (written straight to the socket: libmicrohttpd has written nothing for
 * that request yet), then both directions are shut down; libmicrohttpd then
 * reads end-of-stream and closes the connection at once. The list is
 * guarded by one mutex, and a connection leaves it in the CLOSED
 * notification, which runs before libmicrohttpd closes the descriptor, so a
 * shutdown never reaches a descriptor number that was reused. */
#include "http_conn.h"
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include "log.h"
#include "clock.h"

#define SWEEP_MS          200               /* how often deadlines are checked */
#define EVICT_MIN_AGE_MS  500.0             /* a request this young is not evicted */
#define STREAM_MIN_RATE   (32.0 * 1024.0)   /* bytes/s a streamed upload must average */

static struct {
    pthread_mutex_t mu;
    pthread_cond_t wake;
    conn_state *head, *tail;
    unsigned open;
    unsigned soft_limit;
    double timeout_ms;
    char timeout_reply[512];
    size_t timeout_reply_len;
    pthread_t sweeper;
    bool running, stopping;
    unsigned long cut_deadline, cut_evicted;
} guard = { .mu = PTHREAD_MUTEX_INITIALIZER };

/* The deadline of cs's request, or 0 when it has none (being answered). */
static double deadline_of(const conn_state *cs)
{
    if (cs->phase == CONN_ANSWERING) return 0;
    double d = cs->request_ms + guard.timeout_ms;
    if (cs->phase == CONN_BODY && cs->streaming) d += (double)cs->body_bytes * 1000.0 / STREAM_MIN_RATE;
    return d;
}

/* Under the lock: answer 408 if a request had begun, and shut the socket
 * down both ways (libmicrohttpd closes it on the end-of-stream it reads). */
static void cut_locked(conn_state *cs)
{
    if (cs->cut) return;
    cs->cut = true;
    if (cs->phase == CONN_HEAD || cs->phase == CONN_BODY) {
        /* a fresh socket's send buffer takes these few hundred bytes at once */
        ssize_t w = send(cs->fd, guard.timeout_reply, guard.timeout_reply_len, MSG_DONTWAIT | MSG_NOSIGNAL);
        (void)w;                 /* a client that is gone reads nothing: the shutdown is what matters */
    }
    if (shutdown(cs->fd, SHUT_RDWR) != 0 && errno != ENOTCONN)
        log_warn("http", "cannot shut down a slow connection: %s", strerror(errno));
}

static void *sweep_main(void *arg)
{
    (void)arg;
    unsigned long evicted_logged = 0;
    pthread_mutex_lock(&guard.mu);
    while (!guard.stopping) {
        struct timespec until = clock_timespec_after(SWEEP_MS);
        pthread_cond_timedwait(&guard.wake, &guard.mu, &until);
        if (guard.stopping) break;
        double now = clock_ms();
        unsigned cut = 0;
        for (conn_state *cs = guard.head; cs; cs = cs->next) {
            double d = deadline_of(cs);
            if (cs->cut || d == 0 || now < d) continue;
            cut_locked(cs);
            cut++;
        }
        guard.cut_deadline += cut;
        if (cut) log_info("http", "closed %u connection(s) that did not send their request within %.0f s",
                          cut, guard.timeout_ms / 1000.0);
        if (guard.cut_evicted != evicted_logged) {      /* one line per sweep, not one per connection */
            log_warn("http", "connection limit (%u) reached: closed %lu of the slowest connection(s)",
                     guard.soft_limit, guard.cut_evicted - evicted_logged);
            evicted_logged = guard.cut_evicted;
        }
    }
    pthread_mutex_unlock(&guard.mu);
    return NULL;
}

int conn_guard_start(unsigned soft_limit, unsigned timeout_s)
{
    guard.soft_limit = soft_limit;
    guard.timeout_ms = (double)timeout_s * 1000.0;
    char body[256];
    int blen = snprintf(body, sizeof body,
        "{\"error\":{\"code\":\"request_timeout\",\"message\":\"请求超时：%u 秒内未收到完整请求 "
        "(the request was not received within %u s)\",\"details\":[]}}", timeout_s, timeout_s);
    int n = snprintf(guard.timeout_reply, sizeof guard.timeout_reply,
        "HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Type: application/json; charset=utf-8\r\n"
        "Cache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\nContent-Length: %d\r\n\r\n%s", blen, body);
    if (blen < 0 || n < 0 || (size_t)n >= sizeof guard.timeout_reply) return -1;
    guard.timeout_reply_len = (size_t)n;
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&guard.wake, &ca);
    pthread_condattr_destroy(&ca);
    guard.stopping = false;
    if (pthread_create(&guard.sweeper, NULL, sweep_main, NULL) != 0) {
        pthread_cond_destroy(&guard.wake);
        return -1;
    }
    guard.running = true;
    return 0;
}

void conn_guard_stop(void)
{
    if (!guard.running) return;
    pthread_mutex_lock(&guard.mu);
    guard.stopping = true;
    pthread_cond_signal(&guard.wake);
    pthread_mutex_unlock(&guard.mu);
    pthread_join(guard.sweeper, NULL);
    pthread_cond_destroy(&guard.wake);
    guard.running = false;
    if (guard.cut_deadline || guard.cut_evicted)
        log_info("http", "slow connections closed: %lu past the deadline, %lu evicted at the limit",
                 guard.cut_deadline, guard.cut_evicted);
}

/* Under the lock: the connection to give up for a new one, or NULL. Idle
 * kept-alive connections first, then the oldest request still arriving. */
static conn_state *evictable_locked(double now)
{
    conn_state *slow = NULL;
    for (conn_state *cs = guard.head; cs; cs = cs->next) {
        if (cs->cut || now - cs->request_ms < EVICT_MIN_AGE_MS) continue;
        if (cs->phase == CONN_WAITING) return cs;
        if (!slow && (cs->phase == CONN_HEAD || (cs->phase == CONN_BODY && !cs->streaming))) slow = cs;
    }
    return slow;
}

conn_state *conn_opened(int fd)
{
    conn_state *cs = calloc(1, sizeof *cs);
    if (!cs) return NULL;
    cs->fd = fd;
    cs->phase = CONN_WAITING;
    double now = clock_ms();
    cs->request_ms = now;
    pthread_mutex_lock(&guard.mu);
    cs->prev = guard.tail;
    if (guard.tail) guard.tail->next = cs;
    else guard.head = cs;
    guard.tail = cs;
    guard.open++;
    if (guard.soft_limit && guard.open > guard.soft_limit) {
        /* count the ones cut already but not yet closed: each new one cuts one more */
        unsigned live = 0;
        for (conn_state *c = guard.head; c; c = c->next) live += !c->cut;
        conn_state *victim = live > guard.soft_limit ? evictable_locked(now) : NULL;
        if (victim) {
            cut_locked(victim);
            guard.cut_evicted++;
        }
    }
    pthread_mutex_unlock(&guard.mu);
    return cs;
}

void conn_closed(conn_state *cs)
{
    if (!cs) return;
    pthread_mutex_lock(&guard.mu);
    if (cs->prev) cs->prev->next = cs->next;
    else guard.head = cs->next;
    if (cs->next) cs->next->prev = cs->prev;
    else guard.tail = cs->prev;
    guard.open--;
    pthread_mutex_unlock(&guard.mu);
    free(cs);
}

bool conn_enter(conn_state *cs, enum conn_phase p, bool streaming)
{
    if (!cs) return true;
    pthread_mutex_lock(&guard.mu);
    bool ok = !cs->cut;
    if (ok) {
        if (p == CONN_WAITING) {
            cs->request_ms = clock_ms();
            cs->body_bytes = 0;
        }
        cs->phase = p;
        cs->streaming = streaming;
    }
    pthread_mutex_unlock(&guard.mu);
    return ok;
}

bool conn_body(conn_state *cs, size_t n)
{
    if (!cs) return true;
    pthread_mutex_lock(&guard.mu);
    bool ok = !cs->cut;
    cs->body_bytes += n;
    pthread_mutex_unlock(&guard.mu);
    return ok;
}

bool conn_was_cut(conn_state *cs)
{
    if (!cs) return false;
    pthread_mutex_lock(&guard.mu);
    bool cut = cs->cut;
    pthread_mutex_unlock(&guard.mu);
    return cut;
}
