/* http_server: the HTTP front's server on libmicrohttpd (see http.h), on
 * top of the routes: http.c reads a request for its handler, http_reply.c
 * builds the answer, router.c picks the handler. One daemon with a few
 * epoll I/O threads that read requests and serve static files; every API
 * request, once read, is suspended and answered by a pool of worker threads
 * (limits.threads), then resumed, so a request that computes for a while (a
 * cold KPI batch, a scorecard) never holds up the other connections an I/O
 * thread serves; health and who the caller is have two workers of their
 * own (router_is_quick), so they never queue behind such requests. Each request gets an http_req in *req_cls on the
 * first call of the access handler (path decoded, route found, caller
 * authorized, so a refused upload is never streamed to its route; a request
 * without a body is authorized by its worker, as identifying the caller may
 * wait on the database); body
 * chunks then arrive one call each, buffered up to the body limit or handed
 * to the route's on_body; the answer is queued on the last call only (a
 * response queued on the first call would force "Connection: close"), and
 * the state is freed in the completion callback. Every answer carries the
 * security headers and X-Request-Id (the reply builders and those headers
 * are http_reply.c); every request leaves one access line.
 * Each connection is also known to the guard of http_conn.c (told which
 * phase its request is in), which enforces the total request deadline and
 * evicts slow connections at the connection limit. The head as a whole and
 * the query parameters are checked here before any handler runs. */
#include "http.h"
#include "http_private.h"
#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <pthread.h>
#include <unistd.h>
#include <microhttpd.h>
#include "app.h"
#include "auth.h"
#include "config.h"
#include "http_conn.h"
#include "log.h"
#include "metrics.h"
#include "router.h"
#include "static.h"
#include "clock.h"

#define DRAIN_MAX        (8ull << 20)      /* refused bodies read and dropped up to this */
#define STOP_WAIT_MS     10000             /* graceful stop: longest wait for requests in flight */
/* Per-connection memory (request head + upload chunk + the answer's
 * header text). libmicrohttpd needs about twice a header's size (the line,
 * and a copy when it parses cookies); this much lets a head of up to
 * HEAD_MAX, cookie and all, reach the handler, which answers a larger one
 * 431 in JSON. Larger still, the library answers 431 itself (see
 * docs/security.md, "HTTP errors the library answers"). No more than that:
 * libmicrohttpd 0.9.75 zeroes the whole of it after every request of a
 * kept-alive connection (MHD_pool_reset), which at 192 KiB was the largest
 * single cost of a small static file. */
#define CONN_MEMORY      (80u * 1024u)
#define HEAD_MAX         (32u * 1024u)     /* request line + header lines, bytes (431 past it) */
#define QUERY_ARGS_MAX   64                /* query parameters of one request (400 past it) */


/* --- the one server of this process --- */

static struct MHD_Daemon *daemon_handle;
static app *server_app;
static http_limits limits;
static static_root *web_root;
static atomic_int requests_in_flight;

/* The workers that answer API requests, in two lanes, each with its queue
 * (FIFO): the quick lane (QUICK_THREADS threads of its own) answers the
 * routes router_is_quick names (health, who the caller is, signing out),
 * so that they never queue behind KPI work; the other lane, everything
 * else. */
#define QUICK_THREADS    2
typedef struct lane {
    pthread_mutex_t mu;
    pthread_cond_t wake;
    struct req_state *head, *tail;
    pthread_t *tids;
    unsigned n;
    bool stopping;
} lane;
enum { LANE_WORK, LANE_QUICK, NLANES };
static lane lanes[NLANES] = {
    { .mu = PTHREAD_MUTEX_INITIALIZER, .wake = PTHREAD_COND_INITIALIZER },
    { .mu = PTHREAD_MUTEX_INITIALIZER, .wake = PTHREAD_COND_INITIALIZER },
};

/* Per request: the public http_req and what the front needs besides. */
typedef struct req_state {
    http_req r;                  /* first: the handlers see only this */
    conn_state *conn;            /* its connection (NULL: not tracked, out of memory) */
    char *path_buf;              /* the decoded path r.path points to (malloc'd) */
    size_t path_cap;
    bool is_static;              /* a file from the web root */
    bool no_store;               /* /api/ and /metrics answers */
    bool streaming;              /* the body goes to route->on_body */
    bool authorize_on_answer;    /* no body: the worker identifies the caller */
    bool draining;               /* the answer is decided: body read and dropped */
    bool queued;                 /* the answer went to libmicrohttpd already */
    bool offloaded;              /* handed to a worker (suspended until answered) */
    bool head_refused;           /* the head itself is refused: answer before any body */
    struct req_state *next_job;  /* in the worker queue */
    unsigned long long dropped;  /* body bytes read and dropped while draining */
} req_state;

/* --- small helpers --- */

/* A short random hex id: 64 bits from a per-thread generator seeded by the kernel. */
static void make_request_id(char *out, size_t len)
{
    static _Thread_local uint64_t state;
    static _Thread_local bool seeded;
    if (!seeded) {
        if (getrandom(&state, sizeof state, 0) != (ssize_t)sizeof state)
            state = (uint64_t)time(NULL) ^ (uint64_t)(uintptr_t)&state;
        seeded = true;
    }
    /* splitmix64 */
    uint64_t z = (state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    z ^= z >> 31;
    static const char hex[] = "0123456789abcdef";
    if (len < 17) { if (len) out[0] = '\0'; return; }
    for (int i = 15; i >= 0; i--, z >>= 4) out[i] = hex[z & 15];
    out[16] = '\0';
}

static bool starts_with(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* --- the answer --- */

/* The answer for r: every response gets the standard headers (the security
 * headers and the request id, http_reply.c) here, whoever built it. Queued
 * once; the response is then libmicrohttpd's. */
static enum MHD_Result queue_reply(req_state *rs)
{
    http_req *r = &rs->r;
    if (!r->resp) http_reply_error(r, 500, API_INTERNAL, "the request was not answered", NULL);
    if (!r->resp) return MHD_NO;
    struct MHD_Response *resp = r->resp;
    http_add_standard_headers(resp, r->request_id, rs->no_store);
    enum MHD_Result ok = MHD_queue_response(r->mhd, (unsigned)r->status, resp);
    MHD_destroy_response(resp);
    r->resp = NULL;
    rs->queued = true;
    if (ok != MHD_YES) log_warn("http", "could not queue the %d answer", r->status);
    return ok;
}

/* --- request life: first call (headers in) --- */

static void set_allow_405(http_req *r, const char *allow)
{
    http_reply_errorf(r, 405, API_METHOD_NOT_ALLOWED, "%s is not allowed on %s (allowed: %s)", r->method, r->path, allow);
    http_add_header(r, "Allow", allow);
}

/* A query parameter's name as it may be shown back: printable ASCII, at most 64 bytes. */
static void printable_name(const char *key, size_t key_size, char *out, size_t outlen)
{
    size_t n = 0;
    for (size_t i = 0; i < key_size && n + 1 < outlen && i < 64; i++)
        out[n++] = (key[i] >= 0x20 && key[i] < 0x7f) ? key[i] : '?';
    out[n] = '\0';
}

typedef struct query_scan {
    http_req *r;
    int count;
    const char *keys[QUERY_ARGS_MAX];
    size_t key_sizes[QUERY_ARGS_MAX];
    bool refused;
} query_scan;

/* One query parameter: refuse a NUL in its name or value ("%00") and a name
 * given twice (which of the two would count?), naming the parameter. Names
 * compare as the lookup does: without regard to case. */
static enum MHD_Result query_arg(void *cls, enum MHD_ValueKind kind, const char *key, size_t key_size,
                                 const char *value, size_t value_size)
{
    (void)kind;
    query_scan *q = cls;
    char name[80];
    printable_name(key, key_size, name, sizeof name);
    if (q->count >= QUERY_ARGS_MAX) {
        http_reply_errorf(q->r, 400, API_BAD_PARAMETER, "查询参数过多 (the query string has more than %d parameters)", QUERY_ARGS_MAX);
        q->refused = true;
        return MHD_NO;
    }
    if (strlen(key) != key_size || (value && strlen(value) != value_size)) {
        http_reply_bad_parameter(q->r, name, "参数 %s 含有空字符 (%s: contains a NUL character, %%00)", name, name);
        q->refused = true;
        return MHD_NO;
    }
    for (int i = 0; i < q->count; i++) {
        if (q->key_sizes[i] == key_size && strncasecmp(q->keys[i], key, key_size) == 0) {
            http_reply_bad_parameter(q->r, name, "参数 %s 重复 (%s: given more than once; send it once, a list as one comma-separated value such as stores=A,B)", name, name);
            q->refused = true;
            return MHD_NO;
        }
    }
    q->keys[q->count] = key;
    q->key_sizes[q->count] = key_size;
    q->count++;
    return MHD_YES;
}

/* Query parameters every route takes the same way; false after a 400. */
static bool query_ok(http_req *r)
{
    query_scan q = { .r = r };
    MHD_get_connection_values_n(r->mhd, MHD_GET_ARGUMENT_KIND, query_arg, &q);
    return !q.refused;
}

/* The head as a whole: its size, and a body framing this front can read;
 * false after an answer. */
static bool head_ok(http_req *r)
{
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(r->mhd, MHD_CONNECTION_INFO_REQUEST_HEADER_SIZE);
    if (ci && ci->header_size > HEAD_MAX) {
        http_reply_errorf(r, 431, API_HEADER_TOO_LARGE,
                          "请求头过大 (the request head is %zu bytes; at most %u are read: clear the site's cookies)",
                          ci->header_size, HEAD_MAX);
        return false;
    }
    const char *te = http_header(r, MHD_HTTP_HEADER_TRANSFER_ENCODING);
    if (te && strcasecmp(te, "chunked") != 0) {
        http_reply_errorf(r, 501, API_NOT_IMPLEMENTED, "Transfer-Encoding %.60s is not supported (send chunked or Content-Length)", te);
        return false;
    }
    if (te && http_header(r, MHD_HTTP_HEADER_CONTENT_LENGTH)) {
        http_reply_error(r, 400, API_BAD_REQUEST, "a request may not carry both Transfer-Encoding and Content-Length", NULL);
        return false;
    }
    return true;
}

/* Decode the path, find the route, authorize; leaves an answer in r->resp
 * when the request is refused already. */
static void request_begin(req_state *rs, conn_state *cs, const char *url)
{
    http_req *r = &rs->r;
    const char *raw = cs ? cs->raw_uri : url;
    const char *why = NULL;
    /* absolute form ("GET http://host/path"): the path starts after the authority */
    if (strncasecmp(raw, "http://", 7) == 0 || strncasecmp(raw, "https://", 8) == 0) {
        const char *slash = strchr(strstr(raw, "//") + 2, '/');
        raw = slash ? slash : "/";
    }
    size_t rawlen = strlen(raw);
    rs->path_cap = rawlen < 256 ? 256 : rawlen + 1;
    rs->path_buf = malloc(rs->path_cap);
    if (!rs->path_buf) {
        r->path = "";
        http_reply_error(r, 500, API_INTERNAL, "out of memory", NULL);
        return;
    }
    r->path = rs->path_buf;
    if (cs && cs->uri_too_long) {
        snprintf(rs->path_buf, rs->path_cap, "%.200s", url);
        http_reply_errorf(r, 414, API_URI_TOO_LONG, "the request target is longer than %d bytes", RAW_URI_MAX - 1);
        return;
    }
    if (url_path_decode(raw, rs->path_buf, rs->path_cap, &why) != 0) {
        snprintf(rs->path_buf, rs->path_cap, "%.200s", raw);
        http_reply_errorf(r, 400, API_BAD_PATH, "%s", why);
        return;
    }
    const char *path = rs->path_buf;
    if (!head_ok(r)) {
        rs->head_refused = true;
        return;
    }
    bool api = starts_with(path, "/api/") || strcmp(path, "/api") == 0 ||
               strcmp(path, "/metrics") == 0 || starts_with(path, "/metrics/");
    rs->no_store = api;

    bool method_mismatch = false;
    const route *rt = router_match(r, r->method, path, &method_mismatch);
    if (rt) {
        r->route = rt;
        /* Identifying the caller may wait on the database: a request without
         * a body is identified by the worker that answers it, so that an I/O
         * thread never waits on a slow or silent database for it; one with a
         * body is identified here, before its body is read. */
        if (!query_ok(r)) return;   /* 400 naming the parameter is set */
        const char *cl = MHD_lookup_connection_value(r->mhd, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
        bool has_body = (cl && strcmp(cl, "0") != 0)
                        || MHD_lookup_connection_value(r->mhd, MHD_HEADER_KIND, MHD_HTTP_HEADER_TRANSFER_ENCODING);
        if (!rt->on_body && !has_body) rs->authorize_on_answer = true;
        else if (router_authorize(r) && rt->on_body) rs->streaming = true;
        return;
    }
    if (method_mismatch) {
        char allow[128];
        router_allowed_methods(path, allow, sizeof allow);
        set_allow_405(r, allow);
        return;
    }
    if (api) {
        http_reply_errorf(r, 404, API_NOT_FOUND, "没有这个接口 (no route) %s %s", r->method, path);
        return;
    }
    if (strcmp(r->method, "GET") != 0 && strcmp(r->method, "HEAD") != 0) {
        set_allow_405(r, "GET, HEAD");
        return;
    }
    rs->is_static = true;
}

static void reply_too_large(req_state *rs, unsigned long long limit)
{
    http_reply_errorf(&rs->r, 413, API_BODY_TOO_LARGE, "请求内容过大 (the request body is larger than the limit of %llu bytes)", limit);
    rs->r.too_large = true;
    rs->draining = true;
}

static unsigned long long body_limit(const req_state *rs)
{
    return rs->streaming ? limits.import_max : (unsigned long long)limits.body_max;
}

/* --- request life: body chunks --- */

static void request_chunk(req_state *rs, const char *data, size_t len)
{
    http_req *r = &rs->r;
    r->body_total += len;
    if (rs->draining || r->resp) {
        rs->draining = true;
        rs->dropped += len;
        return;
    }
    if (r->body_total > body_limit(rs)) {
        free(r->body);
        r->body = NULL;
        r->body_len = r->body_cap = 0;
        reply_too_large(rs, body_limit(rs));
        return;
    }
    if (rs->streaming) {
        if (!r->route->on_body(r, data, len)) {
            if (!r->resp) http_reply_error(r, 400, API_BAD_REQUEST, "the request body was refused", NULL);
            rs->draining = true;
        }
        return;
    }
    if (rs->is_static) return;          /* a GET with a body: the body means nothing */
    if (r->body_len + len + 1 > r->body_cap) {
        size_t cap = r->body_cap ? r->body_cap : 4096;
        while (cap < r->body_len + len + 1) cap *= 2;
        if (cap > limits.body_max + 1) cap = limits.body_max + 1;
        char *grown = realloc(r->body, cap);
        if (!grown) {
            http_reply_error(r, 500, API_INTERNAL, "out of memory", NULL);
            rs->draining = true;
            return;
        }
        r->body = grown;
        r->body_cap = cap;
    }
    memcpy(r->body + r->body_len, data, len);
    r->body_len += len;
    r->body[r->body_len] = '\0';
}

/* --- request life: the last call --- */

static void request_answer(req_state *rs)
{
    http_req *r = &rs->r;
    if (r->resp) return;
    if (r->route) {
        if (rs->authorize_on_answer && !router_authorize(r)) return;   /* refused: the answer is set */
        r->route->handler(r);
        if (!r->resp) {
            log_error("http", "%s %s: the handler set no answer", r->method, r->path);
            http_reply_error(r, 500, API_INTERNAL, "the request was not answered", NULL);
        }
    } else if (rs->is_static) {
        if (web_root) static_serve(web_root, r, r->path);
        else http_reply_errorf(r, 404, API_NOT_FOUND, "no file %s (no web root)", r->path);
    }
}

/* --- the workers --- */

static void *worker_main(void *arg)
{
    lane *w = arg;
    pthread_mutex_lock(&w->mu);
    for (;;) {
        while (!w->head && !w->stopping) pthread_cond_wait(&w->wake, &w->mu);
        req_state *rs = w->head;
        if (!rs) break;                  /* stopping, and the queue is empty */
        w->head = rs->next_job;
        if (!w->head) w->tail = NULL;
        pthread_mutex_unlock(&w->mu);
        log_set_request_id(rs->r.request_id);
        request_answer(rs);
        log_set_request_id("");
        MHD_resume_connection(rs->r.mhd);   /* the I/O thread queues the answer */
        pthread_mutex_lock(&w->mu);
    }
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

/* Hand a read request to the workers of its lane; false if there are none. */
static bool offload(req_state *rs)
{
    lane *w = &lanes[rs->r.route && router_is_quick(rs->r.route) ? LANE_QUICK : LANE_WORK];
    pthread_mutex_lock(&w->mu);
    bool ok = w->n > 0 && !w->stopping;
    if (ok) {
        rs->offloaded = true;
        MHD_suspend_connection(rs->r.mhd);  /* before a worker can resume it */
        rs->next_job = NULL;
        if (w->tail) w->tail->next_job = rs;
        else w->head = rs;
        w->tail = rs;
    }
    pthread_mutex_unlock(&w->mu);
    /* after unlocking: a worker woken while the lock is still held only
     * sleeps again on it */
    if (ok) pthread_cond_signal(&w->wake);
    return ok;
}

static int lane_start(lane *w, unsigned n)
{
    w->tids = calloc(n, sizeof *w->tids);
    if (!w->tids) return -1;
    w->stopping = false;
    for (w->n = 0; w->n < n; w->n++)
        if (pthread_create(&w->tids[w->n], NULL, worker_main, w) != 0) break;
    return w->n > 0 ? 0 : -1;
}

/* Let a lane's workers finish its queue, then join them. */
static void lane_stop(lane *w)
{
    pthread_mutex_lock(&w->mu);
    w->stopping = true;
    pthread_cond_broadcast(&w->wake);
    pthread_mutex_unlock(&w->mu);
    for (unsigned i = 0; i < w->n; i++) pthread_join(w->tids[i], NULL);
    free(w->tids);
    w->tids = NULL;
    w->n = 0;
}

static void workers_stop(void)
{
    for (int i = 0; i < NLANES; i++) lane_stop(&lanes[i]);
}

/* n workers for the work lane, QUICK_THREADS for the quick one. */
static int workers_start(unsigned n)
{
    if (lane_start(&lanes[LANE_WORK], n) != 0 || lane_start(&lanes[LANE_QUICK], QUICK_THREADS) != 0) {
        workers_stop();
        return -1;
    }
    return 0;
}

/* --- libmicrohttpd callbacks --- */

static conn_state *conn_of(struct MHD_Connection *con)
{
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(con, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return ci ? ci->socket_context : NULL;
}


static enum MHD_Result access_step(struct MHD_Connection *con, const char *url, const char *method,
                                   const char *upload_data, size_t *upload_data_size, void **req_cls)
{
    req_state *rs = *req_cls;
    if (!rs) {
        conn_state *cs = conn_of(con);
        /* the head is in: from now on the body's clock runs (cut already: close) */
        if (!conn_enter(cs, CONN_BODY, false)) return MHD_NO;
        rs = calloc(1, sizeof *rs);
        if (!rs) return MHD_NO;
        *req_cls = rs;
        atomic_fetch_add(&requests_in_flight, 1);
        http_req *r = &rs->r;
        rs->conn = cs;
        r->mhd = con;
        r->app = server_app;
        r->method = method;
        r->start_ms = clock_ms();
        make_request_id(r->request_id, sizeof r->request_id);
        log_set_request_id(r->request_id);
        request_begin(rs, cs, url);
        if (rs->streaming && !conn_enter(cs, CONN_BODY, true)) return MHD_NO;
        if (rs->head_refused) {          /* a body this front cannot frame is never read */
            conn_enter(cs, CONN_ANSWERING, false);
            return queue_reply(rs);
        }
        /* A body announced far past what will be read: answer now (the
         * library then skips "100 Continue" and closes the connection). */
        const char *cl = MHD_lookup_connection_value(con, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
        if (cl) {
            unsigned long long announced = strtoull(cl, NULL, 10);
            if (!r->resp && announced > body_limit(rs)) reply_too_large(rs, body_limit(rs));
            if (r->resp && announced > DRAIN_MAX) {
                conn_enter(cs, CONN_ANSWERING, false);
                return queue_reply(rs);
            }
        }
        return MHD_YES;
    }
    log_set_request_id(rs->r.request_id);
    if (rs->queued) {                    /* answered early: drop what still comes */
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (*upload_data_size > 0) {
        size_t n = *upload_data_size;
        *upload_data_size = 0;
        if (!conn_body(rs->conn, n)) return MHD_NO;   /* too slow: cut (answered 408) */
        request_chunk(rs, upload_data, n);
        if (rs->draining && rs->dropped > DRAIN_MAX) {
            /* libmicrohttpd 0.9 cannot answer in the middle of a body (one
             * without Content-Length; with one, the answer went out at the
             * start): stop reading it by closing the connection. */
            log_warn("http", "%s %s: closing the connection: %llu bytes of a refused body (answer was %d)",
                     rs->r.method, rs->r.path, rs->r.body_total, rs->r.status);
            return MHD_NO;
        }
        return MHD_YES;
    }
    if (rs->offloaded) return queue_reply(rs);   /* resumed: a worker answered */
    /* the whole request is in: no deadline while it is answered */
    if (!conn_enter(rs->conn, CONN_ANSWERING, false)) return MHD_NO;
    if (rs->r.route && !rs->r.resp && offload(rs)) return MHD_YES;
    request_answer(rs);                  /* static files, early answers: here */
    return queue_reply(rs);
}

static enum MHD_Result on_access(void *cls, struct MHD_Connection *con, const char *url,
                                 const char *method, const char *version,
                                 const char *upload_data, size_t *upload_data_size, void **req_cls)
{
    (void)cls;
    (void)version;
    enum MHD_Result rc = access_step(con, url, method, upload_data, upload_data_size, req_cls);
    log_set_request_id("");      /* this thread serves other connections in between */
    return rc;
}

static void on_completed(void *cls, struct MHD_Connection *con, void **req_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)con;
    req_state *rs = *req_cls;
    if (!rs) return;
    http_req *r = &rs->r;
    /* cut by the guard before an answer was queued: it was answered 408 */
    if (!rs->queued && conn_was_cut(rs->conn)) r->status = 408;
    conn_enter(rs->conn, CONN_WAITING, false);   /* kept alive: the next request's clock starts */
    log_set_request_id(r->request_id);
    if (toe != MHD_REQUEST_TERMINATED_COMPLETED_OK && toe != MHD_REQUEST_TERMINATED_DAEMON_SHUTDOWN)
        log_info("http", "%s %s ended early (code %d)", r->method, r->path ? r->path : "", (int)toe);
    double ms = clock_ms() - r->start_ms;
    log_access(r->method ? r->method : "", r->path ? r->path : "", r->status, ms, r->who ? r->who->name : NULL);
    metrics_request(r->method, r->route ? r->route->pattern : rs->is_static ? "static" : NULL, r->status, ms);
    if (r->route && r->route->on_cleanup) r->route->on_cleanup(r);
    if (r->who) {
        principal_free(r->who);
        free(r->who);
    }
    free(r->body);
    if (r->resp) MHD_destroy_response(r->resp);
    free(rs->path_buf);
    free(rs);
    *req_cls = NULL;
    atomic_fetch_sub(&requests_in_flight, 1);
    log_set_request_id("");
}

static void on_connection(void *cls, struct MHD_Connection *con, void **socket_context,
                          enum MHD_ConnectionNotificationCode toe)
{
    (void)cls;
    if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
        const union MHD_ConnectionInfo *ci = MHD_get_connection_info(con, MHD_CONNECTION_INFO_CONNECTION_FD);
        /* NULL (out of memory): the decoded URL is used, and no deadline but the idle timeout */
        *socket_context = ci ? conn_opened(ci->connect_fd) : NULL;
    } else {
        conn_closed(*socket_context);
        *socket_context = NULL;
    }
}

static void *on_uri(void *cls, const char *uri, struct MHD_Connection *con)
{
    (void)cls;
    conn_state *cs = conn_of(con);
    if (cs) {
        size_t n = strlen(uri);
        cs->uri_too_long = n >= sizeof cs->raw_uri;
        if (!cs->uri_too_long) memcpy(cs->raw_uri, uri, n + 1);
        else cs->raw_uri[0] = '\0';
        conn_enter(cs, CONN_HEAD, false);   /* cut already: the first handler call closes it */
    }
    return NULL;
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char msg[1024];
    vsnprintf(msg, sizeof msg, fmt, ap);
    size_t n = strlen(msg);
    while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r')) msg[--n] = '\0';
    log_warn("http", "libmicrohttpd: %s", msg);
}

/* --- server lifetime --- */

/* I/O threads: one per core (2 to 8); they only read, write and serve files. */
static long io_threads(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 2 ? 2 : n > 8 ? 8 : n;
}

int http_start(app *a, const char *listen, const http_limits *lim, char *err, size_t errlen)
{
    if (daemon_handle) {
        snprintf(err, errlen, "the HTTP server is running already");
        return -1;
    }
    server_app = a;
    limits = *lim;
    if (!limits.body_max) limits.body_max = 1u << 20;
    if (!limits.import_max) limits.import_max = 2ull << 30;
    if (!limits.connections) limits.connections = 512;
    if (!limits.per_ip) limits.per_ip = 64;
    if (!limits.timeout_s) limits.timeout_s = 60;
    if (!limits.threads) limits.threads = 16;

    char host[256];
    unsigned port = 0;
    if (config_listen_split(listen, host, sizeof host, &port) != 0) {
        snprintf(err, errlen, "--listen %s: expected HOST:PORT (e.g. 127.0.0.1:8080 or [::1]:8080)", listen);
        return -1;
    }
    struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                              .ai_flags = AI_NUMERICSERV | AI_PASSIVE };
    struct addrinfo *ai = NULL;
    char portstr[16];
    snprintf(portstr, sizeof portstr, "%u", port);
    int gai = getaddrinfo(host[0] ? host : NULL, portstr, &hints, &ai);
    if (gai != 0 || !ai) {
        snprintf(err, errlen, "--listen %s: cannot resolve %s: %s", listen, host, gai_strerror(gai));
        return -1;
    }
    struct sockaddr_storage addr;
    memset(&addr, 0, sizeof addr);
    memcpy(&addr, ai->ai_addr, ai->ai_addrlen);
    bool v6 = ai->ai_family == AF_INET6;
    freeaddrinfo(ai);

    char why[512];
    web_root = static_root_open(a->cfg.web_root, why, sizeof why);
    if (!web_root) log_warn("http", "%s: static files will answer 404", why);

    signal(SIGPIPE, SIG_IGN);    /* a client gone mid-answer is not a reason to die */
    if (workers_start(limits.threads) != 0) {
        snprintf(err, errlen, "cannot start the worker threads");
        static_root_close(web_root);
        web_root = NULL;
        return -1;
    }
    /* the guard evicts the slowest connection past limits.connections; the
     * library's own limit (shared out among the I/O threads) is above it,
     * so the connection that does the evicting is accepted at all */
    unsigned hard_limit = limits.connections + limits.connections / 8 + 16;
    if (conn_guard_start(limits.connections, limits.timeout_s) != 0) {
        snprintf(err, errlen, "cannot start the connection guard");
        workers_stop();
        static_root_close(web_root);
        web_root = NULL;
        return -1;
    }
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ITC | MHD_ALLOW_SUSPEND_RESUME |
                     MHD_USE_TURBO | MHD_USE_ERROR_LOG | (v6 ? MHD_USE_IPv6 : 0);
    daemon_handle = MHD_start_daemon(flags, (uint16_t)port, NULL, NULL, on_access, NULL,
        MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, NULL,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
        MHD_OPTION_THREAD_POOL_SIZE, (unsigned)io_threads(),
        MHD_OPTION_CONNECTION_LIMIT, hard_limit,
        MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)limits.per_ip,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)limits.timeout_s,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)CONN_MEMORY,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
        MHD_OPTION_NOTIFY_CONNECTION, on_connection, NULL,
        MHD_OPTION_URI_LOG_CALLBACK, on_uri, NULL,
        MHD_OPTION_SIGPIPE_HANDLED_BY_APP, 1,
        MHD_OPTION_END);
    if (!daemon_handle) {
        snprintf(err, errlen, "cannot listen on %s (address in use, or not an address of this machine?)", listen);
        conn_guard_stop();
        workers_stop();
        static_root_close(web_root);
        web_root = NULL;
        return -1;
    }
    return 0;
}

unsigned http_port(void)
{
    if (!daemon_handle) return 0;
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(daemon_handle, MHD_DAEMON_INFO_BIND_PORT);
    return di ? di->port : 0;
}

void http_stop(void)
{
    if (!daemon_handle) return;
    /* stop accepting: the library lets go of the listening socket, and
     * closing it at once refuses new connections instead of queueing them */
    MHD_socket listen_fd = MHD_quiesce_daemon(daemon_handle);
    if (listen_fd != MHD_INVALID_SOCKET) close(listen_fd);
    double until = clock_ms() + STOP_WAIT_MS;
    while (atomic_load(&requests_in_flight) > 0 && clock_ms() < until) {
        struct timespec ts = { 0, 10 * 1000 * 1000 };
        nanosleep(&ts, NULL);
    }
    int left = atomic_load(&requests_in_flight);
    if (left > 0) log_warn("http", "stopping with %d request(s) still in flight", left);
    workers_stop();                      /* they answer what is queued, and resume it */
    MHD_stop_daemon(daemon_handle);
    daemon_handle = NULL;
    conn_guard_stop();
    static_root_close(web_root);
    web_root = NULL;
}

