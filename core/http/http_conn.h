/* http_conn: the connections the HTTP front holds open (http_server.c),
 * and the guard that keeps slow or abandoned ones from taking the server
 * down: a total deadline to receive a request's head and body (not an idle gap), a
 * minimum rate for streamed uploads, and the eviction of the slowest
 * connection when the connection limit is reached. See docs/security.md. */
#ifndef FS_HTTP_CONN_H
#define FS_HTTP_CONN_H
#include <stdbool.h>
#include <stddef.h>

#define RAW_URI_MAX 8192                 /* request target, bytes (longer: 414) */

/* Where a connection is in its current request. */
enum conn_phase {
    CONN_WAITING,    /* no request line yet: just accepted, or kept alive after an answer */
    CONN_HEAD,       /* request line in, header lines still arriving */
    CONN_BODY,       /* head read (the handler ran once), body arriving */
    CONN_ANSWERING,  /* request read: computing or sending the answer (no deadline) */
};

/* Per connection (libmicrohttpd's socket context). The list links and the
 * fields above raw_uri belong to the guard (change them through the calls
 * below); raw_uri is the I/O thread's alone. */
typedef struct conn_state {
    struct conn_state *prev, *next;      /* oldest first */
    int fd;
    double request_ms;                   /* start of the request being read */
    enum conn_phase phase;
    bool streaming;                      /* the body goes to a streaming route */
    bool cut;                            /* shut down by the guard: stop serving it */
    unsigned long long body_bytes;       /* body bytes of this request so far */
    /* the raw request target of the request being read (libmicrohttpd hands
     * the handler a decoded URL, in which "%2f" and "/" or "%00" and the end
     * of the string can no longer be told apart) */
    char raw_uri[RAW_URI_MAX];
    bool uri_too_long;
} conn_state;

/* Start the guard: soft_limit connections before the slowest is evicted,
 * timeout_s the total time to receive a request. 0 on success. */
int conn_guard_start(unsigned soft_limit, unsigned timeout_s);
void conn_guard_stop(void);

/* A connection was accepted on fd / is being closed (from libmicrohttpd's
 * connection notifications; closing runs before the socket is closed). */
conn_state *conn_opened(int fd);
void conn_closed(conn_state *cs);

/* Move to phase p (a new request starts its clock at CONN_WAITING); false
 * when the guard has cut the connection already (close it: return MHD_NO). */
bool conn_enter(conn_state *cs, enum conn_phase p, bool streaming);
/* n more body bytes arrived; false when the connection was cut. */
bool conn_body(conn_state *cs, size_t n);
/* Has the guard cut it (answered 408, or closed it at the limit)? */
bool conn_was_cut(conn_state *cs);
#endif
