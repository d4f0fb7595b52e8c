/* http_private: what the files of the HTTP front (http_server.c,
 * http_reply.c) share and nobody else includes. The public side is http.h. */
#ifndef FS_HTTP_PRIVATE_H
#define FS_HTTP_PRIVATE_H
#include <stdbool.h>

struct MHD_Response;

/* The headers every answer carries, whoever built it (http_reply.c): the
 * security headers (Content-Security-Policy, X-Content-Type-Options,
 * Referrer-Policy, X-Frame-Options), X-Request-Id, and Cache-Control:
 * no-store when no_store (API and /metrics answers) or when the answer set
 * no Cache-Control of its own. */
void http_add_standard_headers(struct MHD_Response *resp, const char *request_id, bool no_store);
#endif
