/* notify: webhooks and email through libcurl (see notify.h). Every transfer
 * has its own easy handle, a time limit, only the protocols it needs and no
 * redirects (a webhook host is checked against FOURSCORE_WEBHOOK_HOSTS by the
 * caller, and a redirect would take it elsewhere). Part of core/base/. */
#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <curl/curl.h>
#include <cJSON.h>
#include "notify.h"

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static void curl_init_once(void) { curl_global_init(CURL_GLOBAL_DEFAULT); }

int notify_backoff_ms(int attempt) { return attempt <= 2 ? 1000 : 3000; }

static void sleep_ms(int ms)
{
    struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {}
}

static void set_error(notify_outcome *out, const char *prefix, const char *msg)
{
    snprintf(out->error, sizeof out->error, "%s%s", prefix, msg);
}

int notify_url_host(const char *url, char *host, size_t cap)
{
    pthread_once(&curl_once, curl_init_once);
    if (!url || !*url || cap == 0) return -1;
    CURLU *u = curl_url();
    if (!u) return -1;
    int rc = -1;
    char *scheme = NULL, *h = NULL;
    if (curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
        (strcmp(scheme, "http") == 0 || strcmp(scheme, "https") == 0) &&
        curl_url_get(u, CURLUPART_HOST, &h, 0) == CURLUE_OK && strlen(h) < cap && *h) {
        size_t i = 0;
        for (; h[i]; i++) host[i] = (char)tolower((unsigned char)h[i]);
        host[i] = '\0';
        /* [::1] is named ::1 in the list */
        if (host[0] == '[' && i > 2 && host[i - 1] == ']') {
            memmove(host, host + 1, i - 2);
            host[i - 2] = '\0';
        }
        rc = 0;
    }
    curl_free(scheme);
    curl_free(h);
    curl_url_cleanup(u);
    return rc;
}

bool notify_list_has(const char *list, const char *name)
{
    if (!list || !name || !*name) return false;
    size_t n = strlen(name);
    const char *p = list;
    while (*p) {
        while (*p == ' ' || *p == ',') p++;
        const char *e = p;
        while (*e && *e != ',') e++;
        const char *t = e;
        while (t > p && t[-1] == ' ') t--;
        if ((size_t)(t - p) == n && strncasecmp(p, name, n) == 0) return true;
        p = e;
    }
    return false;
}

/* --- webhooks --- */

typedef struct sink { char buf[2048]; size_t n; } sink;

static size_t sink_write(char *data, size_t size, size_t nmemb, void *ud)
{
    sink *s = ud;
    size_t len = size * nmemb, room = sizeof s->buf - 1 - s->n;
    size_t k = len < room ? len : room;
    memcpy(s->buf + s->n, data, k);
    s->n += k;
    s->buf[s->n] = '\0';
    return len;
}

/* A robot's own verdict in a 2xx answer: {"errcode":0} is delivered, any
 * other errcode is not (its errmsg into out). Other bodies: delivered. */
static int robot_verdict(const sink *s, notify_outcome *out)
{
    cJSON *o = cJSON_Parse(s->buf);
    int rc = 0;
    const cJSON *code = o ? cJSON_GetObjectItemCaseSensitive(o, "errcode") : NULL;
    if (cJSON_IsNumber(code) && code->valuedouble != 0) {
        const cJSON *msg = cJSON_GetObjectItemCaseSensitive(o, "errmsg");
        snprintf(out->error, sizeof out->error, "the robot refused the message: errcode %.0f%s%.200s", code->valuedouble,
                 cJSON_IsString(msg) ? ", " : "", cJSON_IsString(msg) ? msg->valuestring : "");
        rc = -1;
    }
    cJSON_Delete(o);
    return rc;
}

static int webhook_once(const char *url, const char *body, notify_outcome *out)
{
    CURL *h = curl_easy_init();
    if (!h) { set_error(out, "", "libcurl could not start a transfer"); return -1; }
    struct curl_slist *hdr = curl_slist_append(NULL, "Content-Type: application/json; charset=utf-8");
    sink s = { .n = 0 };
    s.buf[0] = '\0';
    char ebuf[CURL_ERROR_SIZE] = "";
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)NOTIFY_WEBHOOK_TIMEOUT_MS);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)NOTIFY_WEBHOOK_TIMEOUT_MS);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
    curl_easy_setopt(h, CURLOPT_USERAGENT, "Fourscore");
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, sink_write);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &s);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, ebuf);
    CURLcode cc = curl_easy_perform(h);
    long status = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    out->http_status = status;
    int rc = -1;
    if (cc != CURLE_OK) set_error(out, "", *ebuf ? ebuf : curl_easy_strerror(cc));
    else if (status < 200 || status > 299)
        snprintf(out->error, sizeof out->error, "the receiver answered HTTP %ld", status);
    else rc = robot_verdict(&s, out);
    curl_slist_free_all(hdr);
    curl_easy_cleanup(h);
    return rc;
}

int notify_webhook(const char *url, const char *body, notify_outcome *out)
{
    pthread_once(&curl_once, curl_init_once);
    memset(out, 0, sizeof *out);
    for (int attempt = 1; attempt <= NOTIFY_ATTEMPTS; attempt++) {
        if (attempt > 1) sleep_ms(notify_backoff_ms(attempt));
        out->attempts = attempt;
        out->error[0] = '\0';
        if (webhook_once(url, body, out) == 0) return 0;
    }
    return -1;
}

/* --- email --- */

static const char B64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* base64 of n bytes into out (room for 4 * ((n + 2) / 3) + 1). */
static void base64(const unsigned char *in, size_t n, char *out)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i += 3) {
        unsigned v = (unsigned)in[i] << 16 | (i + 1 < n ? (unsigned)in[i + 1] << 8 : 0) | (i + 2 < n ? in[i + 2] : 0);
        out[o++] = B64[v >> 18 & 63];
        out[o++] = B64[v >> 12 & 63];
        out[o++] = i + 1 < n ? B64[v >> 6 & 63] : '=';
        out[o++] = i + 2 < n ? B64[v & 63] : '=';
    }
    out[o] = '\0';
}

/* "Subject: =?UTF-8?B?...?= =?UTF-8?B?...?=": encoded words of at most 45
 * bytes each, cut between characters. NULL when out of memory. */
static char *subject_header(const char *subject)
{
    size_t n = strlen(subject);
    char *h = malloc(16 + n * 2 + (n / 45 + 1) * 16);
    if (!h) return NULL;
    size_t o = (size_t)sprintf(h, "Subject:");
    size_t i = 0;
    while (i < n) {
        size_t k = n - i < 45 ? n - i : 45;
        while (k < n - i && k > 0 && ((unsigned char)subject[i + k] & 0xC0) == 0x80) k--;
        if (k == 0) k = n - i < 45 ? n - i : 45;
        o += (size_t)sprintf(h + o, " =?UTF-8?B?");
        base64((const unsigned char *)subject + i, k, h + o);
        o += strlen(h + o);
        o += (size_t)sprintf(h + o, "?=");
        i += k;
    }
    h[o] = '\0';
    return h;
}

static int email_once(const notify_mail *m, notify_outcome *out)
{
    CURL *h = curl_easy_init();
    if (!h) { set_error(out, "", "libcurl could not start a transfer"); return -1; }
    char ebuf[CURL_ERROR_SIZE] = "";
    struct curl_slist *rcpt = NULL, *hdr = NULL;
    char line[1024];
    for (int i = 0; i < m->nto; i++) rcpt = curl_slist_append(rcpt, m->to[i]);
    char *subj = subject_header(m->subject ? m->subject : "");
    if (subj) hdr = curl_slist_append(hdr, subj);
    free(subj);
    snprintf(line, sizeof line, "From: <%s>", m->from);
    hdr = curl_slist_append(hdr, line);
    size_t o = (size_t)snprintf(line, sizeof line, "To:");
    for (int i = 0; i < m->nto && o < sizeof line; i++)
        o += (size_t)snprintf(line + o, sizeof line - o, "%s <%s>", i ? "," : "", m->to[i]);
    hdr = curl_slist_append(hdr, line);
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(line, sizeof line, "Date: %a, %d %b %Y %H:%M:%S +0000", &tm);
    hdr = curl_slist_append(hdr, line);
    hdr = curl_slist_append(hdr, "MIME-Version: 1.0");

    curl_mime *mime = curl_mime_init(h);
    curl_mimepart *part = curl_mime_addpart(mime);
    curl_mime_data(part, m->text ? m->text : "", CURL_ZERO_TERMINATED);
    curl_mime_type(part, "text/plain; charset=UTF-8");
    curl_mime_encoder(part, "base64");
    if (m->attach_name && m->attach_data) {
        part = curl_mime_addpart(mime);
        curl_mime_data(part, m->attach_data, m->attach_len);
        curl_mime_filename(part, m->attach_name);
        curl_mime_type(part, m->attach_type ? m->attach_type : "application/octet-stream");
        curl_mime_encoder(part, "base64");
    }
    char from[512];
    snprintf(from, sizeof from, "<%s>", m->from);
    curl_easy_setopt(h, CURLOPT_URL, m->smtp_url);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)NOTIFY_SMTP_TIMEOUT_MS);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)NOTIFY_WEBHOOK_TIMEOUT_MS);
    curl_easy_setopt(h, CURLOPT_MAIL_FROM, from);
    curl_easy_setopt(h, CURLOPT_MAIL_RCPT, rcpt);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
    curl_easy_setopt(h, CURLOPT_MIMEPOST, mime);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, ebuf);
    if (m->user && *m->user) {
        curl_easy_setopt(h, CURLOPT_USERNAME, m->user);
        curl_easy_setopt(h, CURLOPT_PASSWORD, m->password ? m->password : "");
        /* smtp:// with a password: upgrade to TLS or refuse */
        if (strncmp(m->smtp_url, "smtp://", 7) == 0) curl_easy_setopt(h, CURLOPT_USE_SSL, (long)CURLUSESSL_ALL);
    }
    CURLcode cc = curl_easy_perform(h);
    int rc = 0;
    if (cc != CURLE_OK) {
        set_error(out, "SMTP: ", *ebuf ? ebuf : curl_easy_strerror(cc));
        rc = -1;
    }
    curl_mime_free(mime);
    curl_slist_free_all(rcpt);
    curl_slist_free_all(hdr);
    curl_easy_cleanup(h);
    return rc;
}

int notify_email(const notify_mail *m, notify_outcome *out)
{
    pthread_once(&curl_once, curl_init_once);
    memset(out, 0, sizeof *out);
    if (!m->smtp_url || !*m->smtp_url) {
        out->attempts = 0;
        snprintf(out->error, sizeof out->error, "no SMTP server is set (FOURSCORE_SMTP_URL)");
        return -1;
    }
    if (!m->from || !*m->from || m->nto < 1) {
        snprintf(out->error, sizeof out->error, "no sender (FOURSCORE_SMTP_FROM) or no recipient");
        return -1;
    }
    for (int attempt = 1; attempt <= NOTIFY_ATTEMPTS; attempt++) {
        if (attempt > 1) sleep_ms(notify_backoff_ms(attempt));
        out->attempts = attempt;
        out->error[0] = '\0';
        if (email_once(m, out) == 0) return 0;
    }
    return -1;
}
