/* http_reply: the answers of the HTTP front (see http.h): the reply
 * builders (JSON, errors with their details, buffers, gzip) and the headers
 * every answer carries whoever built it (the security headers, the request
 * id, Cache-Control). http_server.c queues the answer once the request is
 * read. */
#include "http.h"
#include "http_private.h"
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <strings.h>
#include <microhttpd.h>
#include "log.h"
#include "utf8.h"

/* Scripts, styles and frames from this origin only. */
static const char CSP[] =
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/* --- reply builders --- */

void http_reply_response(http_req *r, int status, struct MHD_Response *resp)
{
    if (r->resp) MHD_destroy_response(r->resp);
    r->resp = resp;
    r->status = status;
}

void http_reply_buffer(http_req *r, int status, const char *content_type, void *buf, size_t len)
{
    /* buf NULL: the caller ran out of memory building the answer */
    struct MHD_Response *resp = buf ? MHD_create_response_from_buffer(len, buf, MHD_RESPMEM_MUST_FREE) : NULL;
    if (!resp) {
        free(buf);
        /* a constant answer needs no allocation beyond the response itself */
        static const char oom[] = "{\"error\":{\"code\":\"internal\",\"message\":\"out of memory\",\"details\":[]}}";
        resp = MHD_create_response_from_buffer(sizeof oom - 1, (void *)oom, MHD_RESPMEM_PERSISTENT);
        status = 500;
        content_type = "application/json; charset=utf-8";
        if (!resp) {
            http_reply_response(r, 500, NULL);
            return;
        }
    }
    if (content_type) MHD_add_response_header(resp, "Content-Type", content_type);
    http_reply_response(r, status, resp);
}

void http_reply_fd(http_req *r, int status, const char *content_type, int fd, size_t size)
{
    struct MHD_Response *resp = MHD_create_response_from_fd((uint64_t)size, fd);
    if (!resp) {
        close(fd);
        http_reply_error(r, 500, API_INTERNAL, "out of memory", NULL);
        return;
    }
    if (content_type) MHD_add_response_header(resp, "Content-Type", content_type);
    http_reply_response(r, status, resp);
}

/* Does the client take gzip? (Accept-Encoding: gzip, not with q=0) */
bool http_accepts_gzip(http_req *r)
{
    const char *ae = http_header(r, "Accept-Encoding");
    if (!ae) return false;
    const char *p = ae;
    while (*p) {
        while (*p == ' ' || *p == ',') p++;
        size_t n = strcspn(p, ",");
        size_t name = strcspn(p, ";, ");
        if ((name == 4 && strncasecmp(p, "gzip", 4) == 0) || (name == 1 && p[0] == '*')) {
            const char *q = p + name;
            const char *stop = p + n;
            const char *qv = NULL;
            for (const char *t = q; t + 1 < stop; t++)
                if ((t[0] == 'q' || t[0] == 'Q') && t[1] == '=') { qv = t + 2; break; }
            if (!qv || strtod(qv, NULL) > 0.0) return true;
        }
        p += n;
    }
    return false;
}

void http_reply_gzip(http_req *r, int status, const char *content_type, void *gz, size_t len)
{
    http_reply_buffer(r, status, content_type, gz, len);
    if (gz && r->resp && r->status == status) {
        MHD_add_response_header(r->resp, "Content-Encoding", "gzip");
        MHD_add_response_header(r->resp, "Vary", "Accept-Encoding");
    }
}

void http_reply_json(http_req *r, int status, cJSON *body)
{
    char *text = body ? cJSON_PrintUnformatted(body) : NULL, *clean = NULL;
    cJSON_Delete(body);
    /* errors echo paths, names and parameters: never invalid UTF-8 (U+FFFD instead) */
    if (text && utf8_scrub(text, &clean) != 0) { free(text); text = clean; }
    http_reply_buffer(r, text ? status : 500, "application/json; charset=utf-8", text, text ? strlen(text) : 0);
}

void http_reply_error(http_req *r, int status, enum api_error code, const char *message, cJSON *details)
{
    cJSON *root = cJSON_CreateObject();
    cJSON *err = root ? cJSON_AddObjectToObject(root, "error") : NULL;
    if (!err) {
        cJSON_Delete(root);
        cJSON_Delete(details);
        http_reply_json(r, 500, NULL);
        return;
    }
    cJSON_AddStringToObject(err, "code", api_error_code(code));
    cJSON_AddStringToObject(err, "message", message);
    if (!details) details = cJSON_CreateArray();
    if (details) cJSON_AddItemToObject(err, "details", details);
    http_reply_json(r, status, root);
}

void http_reply_errorf(http_req *r, int status, enum api_error code, const char *fmt, ...)
{
    char message[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(message, sizeof message, fmt, ap);
    va_end(ap);
    http_reply_error(r, status, code, message, NULL);
}

void http_reply_bad_parameter(http_req *r, const char *param, const char *fmt, ...)
{
    char message[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(message, sizeof message, fmt, ap);
    va_end(ap);
    cJSON *details = cJSON_CreateArray();
    cJSON *d = details ? cJSON_CreateObject() : NULL;
    if (d) {
        cJSON_AddStringToObject(d, "parameter", param);
        cJSON_AddStringToObject(d, "message", message);
        cJSON_AddItemToArray(details, d);
    }
    http_reply_error(r, 400, API_BAD_PARAMETER, message, details);
}

void http_add_header(http_req *r, const char *name, const char *value)
{
    if (r->resp && MHD_add_response_header(r->resp, name, value) != MHD_YES)
        log_warn("http", "cannot add header %s", name);
}


/* --- the headers of every answer --- */

void http_add_standard_headers(struct MHD_Response *resp, const char *request_id, bool no_store)
{
    MHD_add_response_header(resp, "Content-Security-Policy", CSP);
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(resp, "Referrer-Policy", "same-origin");
    MHD_add_response_header(resp, "X-Frame-Options", "DENY");
    MHD_add_response_header(resp, "X-Request-Id", request_id);
    if (no_store || !MHD_get_response_header(resp, "Cache-Control"))
        MHD_add_response_header(resp, "Cache-Control", "no-store");
}
