/* metrics: the process's counters, served as Prometheus text on GET /metrics
 * (an admin session or a `metrics` token). Subsystems count through
 * metrics_add() (core/base/counters.c) and the HTTP layer reports each request
 * through metrics_request() (a small table of route x method x status under
 * a mutex, bounded: routes are the route table's patterns, "static" or
 * "unmatched", never raw paths; methods other than the standard seven fold
 * into "other"). Label values are escaped as the Prometheus text format says
 * (backslash, double quote, line feed), whatever they hold. */
#include "metrics.h"
#include "counters.h"
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "app.h"
#include "db.h"

/* --- requests: by route and status, and a latency histogram --- */

#define MAX_SERIES 1024
static const double buckets_ms[] = { 1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000 };
#define NBUCKETS (int)(sizeof buckets_ms / sizeof buckets_ms[0])

typedef struct series {
    const char *route;        /* a route pattern, "static" or "unmatched" (static strings) */
    const char *method;       /* one of known_methods[] or "other" */
    int status;
    long long count;
} series;

/* The methods counted by name; any other folds into "other", so a client
 * cannot make a series (or a label value) of its own choosing. */
static const char *const known_methods[] = { "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS" };

static const char *method_bucket(const char *method)
{
    for (size_t i = 0; method && i < sizeof known_methods / sizeof known_methods[0]; i++)
        if (strcmp(method, known_methods[i]) == 0) return known_methods[i];
    return "other";
}

static pthread_mutex_t req_lock = PTHREAD_MUTEX_INITIALIZER;
static series req_series[MAX_SERIES];
static int n_series;
static long long overflow;
static long long hist[NBUCKETS + 1];
static double hist_sum_ms;
static long long hist_count;

void metrics_request(const char *method, const char *route, int status, double ms)
{
    if (!route) route = "unmatched";
    method = method_bucket(method);
    if (status < 100 || status > 599) status = 0;
    pthread_mutex_lock(&req_lock);
    int i;
    for (i = 0; i < n_series; i++)
        if (req_series[i].status == status && req_series[i].method == method && strcmp(req_series[i].route, route) == 0) break;
    if (i == n_series) {
        if (n_series < MAX_SERIES) {
            req_series[i].route = route;
            req_series[i].method = method;
            req_series[i].status = status;
            req_series[i].count = 0;
            n_series++;
        } else {
            i = -1;
            overflow++;
        }
    }
    if (i >= 0) req_series[i].count++;
    int b = 0;
    while (b < NBUCKETS && ms > buckets_ms[b]) b++;
    hist[b]++;
    hist_sum_ms += ms;
    hist_count++;
    pthread_mutex_unlock(&req_lock);
}

/* --- the text format --- */

typedef struct out { char *p; size_t len, cap; bool failed; } out;

static void outf(out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void outf(out *o, const char *fmt, ...)
{
    if (o->failed) return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(o->p + o->len, o->cap - o->len, fmt, ap);
        va_end(ap);
        if (n < 0) { o->failed = true; return; }
        if ((size_t)n < o->cap - o->len) { o->len += (size_t)n; return; }
        size_t cap = o->cap * 2 + (size_t)n;
        char *np = realloc(o->p, cap);
        if (!np) { o->failed = true; return; }
        o->p = np;
        o->cap = cap;
    }
}

/* A label value as the text format wants it: \\ for a backslash, \" for a
 * double quote, \n for a line feed; everything else as it is. */
static void out_label(out *o, const char *v)
{
    outf(o, "\"");
    for (const char *p = v; *p && !o->failed; p++) {
        if (*p == '\\') outf(o, "\\\\");
        else if (*p == '"') outf(o, "\\\"");
        else if (*p == '\n') outf(o, "\\n");
        else outf(o, "%c", *p);
    }
    outf(o, "\"");
}

char *metrics_render(struct app *a, size_t *len)
{
    out o = { .cap = 8192 };
    o.p = malloc(o.cap);
    if (!o.p) return NULL;
    o.p[0] = '\0';
    for (int m = 0; m < METRIC__COUNT; m++) {
        const char *name, *help, *type;
        metrics_counter_info((enum metric)m, &name, &help, &type);
        outf(&o, "# HELP %s %s\n# TYPE %s %s\n%s %lld\n", name, help, name, type, name, metrics_get((enum metric)m));
    }
    pthread_mutex_lock(&req_lock);
    outf(&o, "# HELP fourscore_http_requests_total HTTP requests by route pattern, method and status.\n"
             "# TYPE fourscore_http_requests_total counter\n");
    for (int i = 0; i < n_series; i++) {
        outf(&o, "fourscore_http_requests_total{route=");
        out_label(&o, req_series[i].route);
        outf(&o, ",method=");
        out_label(&o, req_series[i].method);
        outf(&o, ",status=\"%d\"} %lld\n", req_series[i].status, req_series[i].count);
    }
    if (overflow) outf(&o, "fourscore_http_requests_total{route=\"overflow\",method=\"other\",status=\"0\"} %lld\n", overflow);
    outf(&o, "# HELP fourscore_http_request_duration_seconds Time to answer a request.\n"
             "# TYPE fourscore_http_request_duration_seconds histogram\n");
    long long cum = 0;
    for (int b = 0; b < NBUCKETS; b++) {
        cum += hist[b];
        outf(&o, "fourscore_http_request_duration_seconds_bucket{le=\"%g\"} %lld\n", buckets_ms[b] / 1000.0, cum);
    }
    cum += hist[NBUCKETS];
    outf(&o, "fourscore_http_request_duration_seconds_bucket{le=\"+Inf\"} %lld\n", cum);
    outf(&o, "fourscore_http_request_duration_seconds_sum %.6f\nfourscore_http_request_duration_seconds_count %lld\n",
         hist_sum_ms / 1000.0, hist_count);
    pthread_mutex_unlock(&req_lock);

    if (a && a->db) {
        int size, in_use;
        long long waits, errors;
        db_pool_stats(a->db, &size, &in_use, &waits, &errors);
        outf(&o, "# HELP fourscore_db_pool_connections Database connections of the primary pool.\n"
                 "# TYPE fourscore_db_pool_connections gauge\n"
                 "fourscore_db_pool_connections{state=\"max\"} %d\nfourscore_db_pool_connections{state=\"in_use\"} %d\n"
                 "# HELP fourscore_db_pool_waits_total Acquires that had to wait for a free connection.\n"
                 "# TYPE fourscore_db_pool_waits_total counter\nfourscore_db_pool_waits_total %lld\n"
                 "# HELP fourscore_db_pool_errors_total Acquires that failed (database down or lost).\n"
                 "# TYPE fourscore_db_pool_errors_total counter\nfourscore_db_pool_errors_total %lld\n",
             size, in_use, waits, errors);
    }
    if (o.failed) { free(o.p); return NULL; }
    *len = o.len;
    return o.p;
}

void metrics_handle(http_req *r)
{
    size_t len = 0;
    char *text = metrics_render(r->app, &len);
    if (!text) {
        http_reply_error(r, 500, API_INTERNAL, "the metrics could not be rendered", NULL);
        return;
    }
    http_reply_buffer(r, 200, "text/plain; version=0.0.4; charset=utf-8", text, len);
}
