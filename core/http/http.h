/* http: the HTTP front on libmicrohttpd. Owns the daemon, per-request state,
 * body buffering or streaming (http_server.c), the request accessors
 * (http.c), responses (JSON, errors, files) and the security headers every
 * response carries (http_reply.c). Routing lives in router.c. */
#ifndef FS_HTTP_H
#define FS_HTTP_H
#include <stddef.h>
#include <stdbool.h>
#include <cJSON.h>
#include "api_error.h"

struct MHD_Connection;
struct MHD_Response;
struct route;
struct principal;
struct app;

#define HTTP_MAX_PARAMS 4

typedef struct http_req {
    struct MHD_Connection *mhd;
    struct app *app;
    const char *method;
    const char *path;                 /* decoded path, no query string */
    char request_id[20];
    const struct route *route;
    char params[HTTP_MAX_PARAMS][130];/* {name} segments of the route pattern, in order */
    int nparams;
    /* body: buffered for ordinary routes (<= the body limit), or streamed */
    char *body;
    size_t body_len, body_cap;
    unsigned long long body_total;    /* bytes received so far */
    void *stream;                     /* a streaming route's own state */
    bool too_large;
    /* who is asking (set by the router before the handler runs) */
    struct principal *who;
    /* the answer */
    int status;
    struct MHD_Response *resp;
    double start_ms;
} http_req;

/* Request accessors. */
/* Query argument or NULL. Before any handler runs, a request whose query
 * repeats a name, holds a NUL (%00) or has too many parameters is refused
 * 400 bad_parameter, so the one value returned is the only one sent. */
const char *http_query(http_req *r, const char *name);
const char *http_header(http_req *r, const char *name);     /* request header or NULL */
const char *http_cookie(http_req *r, const char *name);
const char *http_client_ip(http_req *r, char *buf, size_t len);

/* Responses: each sets r->status / r->resp; the last one set wins. */
void http_reply_json(http_req *r, int status, cJSON *body);  /* takes ownership of body */
/* Does the client take gzip? (Accept-Encoding: gzip or *, not with q=0) */
bool http_accepts_gzip(http_req *r);
/* http_reply_buffer of a body already gzip-compressed (Content-Encoding: gzip). */
void http_reply_gzip(http_req *r, int status, const char *content_type, void *gz, size_t len);
void http_reply_buffer(http_req *r, int status, const char *content_type, void *buf, size_t len); /* takes malloc'd buf (NULL: a 500 out of memory) */
/* A file's size bytes from an open fd (takes it: closed when sent). */
void http_reply_fd(http_req *r, int status, const char *content_type, int fd, size_t size);
/* {"error":{"code","message","details"}}; details may be NULL; takes ownership of details. */
void http_reply_error(http_req *r, int status, enum api_error code, const char *message, cJSON *details);
void http_reply_errorf(http_req *r, int status, enum api_error code, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* 400 bad_parameter naming the parameter: details [{"parameter","message"}]. */
void http_reply_bad_parameter(http_req *r, const char *param, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Set a response built by the caller (takes ownership of resp). */
void http_reply_response(http_req *r, int status, struct MHD_Response *resp);
/* Add a header to the response already set (e.g. Set-Cookie, Retry-After). */
void http_add_header(http_req *r, const char *name, const char *value);

/* Server lifetime. */
typedef struct http_limits {
    size_t body_max;              /* ordinary routes, bytes (413 past it) */
    unsigned long long import_max;/* streamed imports, bytes */
    unsigned connections;         /* connections before the slowest is evicted */
    unsigned per_ip;              /* connections per client address */
    unsigned timeout_s;           /* total time to receive a request's head and body; also the idle timeout */
    unsigned threads;             /* workers answering API requests */
} http_limits;

int http_start(struct app *app, const char *listen, const http_limits *lim, char *err, size_t errlen);
unsigned http_port(void);         /* the bound port (for --listen ...:0) */
void http_stop(void);             /* stop accepting, finish requests in flight */
#endif
