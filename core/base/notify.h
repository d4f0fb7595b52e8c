/* notify: sending a message out of the server, through libcurl only: a JSON
 * POST to a webhook (the WeCom and DingTalk group robots take one) and an
 * email over SMTP (smtp:// or smtps://, MIME with an optional attachment).
 * Each call makes up to NOTIFY_ATTEMPTS attempts with a growing pause between
 * them and a time limit on each, and says how it went; it blocks, so callers
 * run it on a thread of their own (core/engine/alerts_send.c). Knows nothing
 * of alerts; part of core/base/. */
#ifndef FS_NOTIFY_H
#define FS_NOTIFY_H
#include <stdbool.h>
#include <stddef.h>

#define NOTIFY_ATTEMPTS          3
#define NOTIFY_WEBHOOK_TIMEOUT_MS 5000
#define NOTIFY_SMTP_TIMEOUT_MS   30000

typedef struct notify_outcome {
    int attempts;            /* attempts made (1..NOTIFY_ATTEMPTS) */
    long http_status;        /* webhooks: the last answer's status (0: none) */
    char error[400];         /* the last failure, "" when it went through */
} notify_outcome;

/* The host of an http:// or https:// URL (lower case) into host: 0, or -1
 * when url is not such a URL. */
int notify_url_host(const char *url, char *host, size_t cap);
/* Whether name (a host or a mail domain) is one of the comma-separated list
 * (case-insensitive, spaces around the commas ignored). */
bool notify_list_has(const char *list, const char *name);

/* POST body (JSON) to url; a 2xx answer counts as delivered, and so does a
 * robot's {"errcode":0} (any other errcode is a failure it says). Redirects
 * are not followed. 0 delivered, -1 not (out->error says why). */
int notify_webhook(const char *url, const char *body, notify_outcome *out);

typedef struct notify_mail {
    const char *smtp_url;        /* smtp://host:port or smtps://host:port */
    const char *from;            /* the envelope and From: address */
    const char *user, *password; /* NULL: no authentication */
    const char *const *to;       /* recipients */
    int nto;
    const char *subject;         /* UTF-8 (encoded as RFC 2047) */
    const char *text;            /* the body, UTF-8 plain text */
    const char *attach_name;     /* NULL: no attachment */
    const char *attach_type;     /* its MIME type */
    const void *attach_data;
    size_t attach_len;
} notify_mail;
/* Send one email to every recipient: 0, or -1 with out->error. */
int notify_email(const notify_mail *m, notify_outcome *out);

/* The pause before attempt n (2, 3, ...): 1 s, then 3 s. */
int notify_backoff_ms(int attempt);
#endif
