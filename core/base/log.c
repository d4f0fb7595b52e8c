/* log: JSON-lines logs on stdout (stderr for the command-line tools, whose
 * stdout is their answer). Each line is one JSON object written with a
 * single write(2) so lines from several threads never interleave. The
 * access line, one per request, is laid out by hand (no printf), and each
 * thread keeps the text of the current second of its timestamps. */
#include "log.h"
#include "utf8.h"
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static enum log_level min_level = LOG_INFO;
static int log_fd = STDOUT_FILENO;
static _Thread_local char request_id[24];

void log_set_level(enum log_level min) { min_level = min; }
void log_set_fd(int fd) { log_fd = fd; }

void log_set_request_id(const char *id)
{
    size_t n = id ? strnlen(id, sizeof request_id - 1) : 0;
    if (n) memcpy(request_id, id, n);
    request_id[n] = '\0';
}

const char *log_request_id(void) { return request_id; }

static const char *level_name(enum log_level lv)
{
    switch (lv) {
    case LOG_DEBUG: return "debug";
    case LOG_INFO: return "info";
    case LOG_WARN: return "warn";
    default: return "error";
    }
}

/* Append s to buf as JSON string content (without quotes), bounded; a
 * byte that is not part of well-formed UTF-8 (a hostile path, say) is
 * written as U+FFFD, so every log line stays valid JSON text. */
static size_t json_escape(char *buf, size_t cap, size_t pos, const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    while (*p && pos + 7 < cap) {
        unsigned char ch = *p;
        size_t n = utf8_char_len(p);
        if (n == 0) { memcpy(buf + pos, "\xEF\xBF\xBD", 3); pos += 3; p++; continue; }
        if (n > 1) { memcpy(buf + pos, p, n); pos += n; p += n; continue; }
        if (ch == '"' || ch == '\\') { buf[pos++] = '\\'; buf[pos++] = (char)ch; }
        else if (ch == '\n') { buf[pos++] = '\\'; buf[pos++] = 'n'; }
        else if (ch == '\r') { buf[pos++] = '\\'; buf[pos++] = 'r'; }
        else if (ch == '\t') { buf[pos++] = '\\'; buf[pos++] = 't'; }
        else if (ch < 0x20) pos += (size_t)snprintf(buf + pos, cap - pos, "\\u%04x", ch);
        else buf[pos++] = (char)ch;
        p++;
    }
    return pos;
}

/* "2026-01-31T12:00:00.123Z" into buf (cap >= 32); its length. The text up
 * to the seconds is made once per second per thread. */
static size_t timestamp(char *buf, size_t cap)
{
    static _Thread_local time_t sec_of = (time_t)-1;
    static _Thread_local char sec_text[32];
    static _Thread_local size_t sec_len;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    if (ts.tv_sec != sec_of) {
        struct tm tm;
        gmtime_r(&ts.tv_sec, &tm);
        sec_len = strftime(sec_text, sizeof sec_text, "%Y-%m-%dT%H:%M:%S", &tm);
        sec_of = ts.tv_sec;
    }
    if (cap < sec_len + 6) { if (cap) buf[0] = '\0'; return 0; }
    memcpy(buf, sec_text, sec_len);
    long ms = ts.tv_nsec / 1000000;
    size_t n = sec_len;
    buf[n++] = '.';
    buf[n++] = (char)('0' + ms / 100);
    buf[n++] = (char)('0' + ms / 10 % 10);
    buf[n++] = (char)('0' + ms % 10);
    buf[n++] = 'Z';
    buf[n] = '\0';
    return n;
}

/* Append the len bytes of s at pos if they fit below cap; the new pos. */
static size_t put(char *buf, size_t cap, size_t pos, const char *s, size_t len)
{
    if (pos + len > cap) return pos;
    memcpy(buf + pos, s, len);
    return pos + len;
}
#define PUT_LIT(buf, cap, pos, lit) put(buf, cap, pos, lit, sizeof lit - 1)

/* Append v in decimal at pos (room permitting); the new pos. */
static size_t put_ull(char *buf, size_t cap, size_t pos, unsigned long long v)
{
    char d[24];
    size_t n = 0;
    do { d[n++] = (char)('0' + v % 10); v /= 10; } while (v);
    if (pos + n > cap) return pos;
    while (n) buf[pos++] = d[--n];
    return pos;
}

static void emit(char *line, size_t pos, size_t cap)
{
    if (pos + 3 > cap) pos = cap - 3;
    line[pos++] = '}';
    line[pos++] = '\n';
    ssize_t off = 0;
    while ((size_t)off < pos) {
        ssize_t w = write(log_fd, line + off, pos - (size_t)off);
        if (w <= 0) break;
        off += w;
    }
}

void log_vmsg(enum log_level lv, const char *sub, const char *fmt, va_list ap)
{
    if (lv < min_level) return;
    char msg[2048], ts[40], line[4096];
    vsnprintf(msg, sizeof msg, fmt, ap);
    timestamp(ts, sizeof ts);
    size_t pos = (size_t)snprintf(line, sizeof line, "{\"ts\":\"%s\",\"level\":\"%s\",\"sub\":\"", ts, level_name(lv));
    pos = json_escape(line, sizeof line, pos, sub);
    pos += (size_t)snprintf(line + pos, sizeof line - pos, "\",\"req\":\"%s\",\"msg\":\"", request_id);
    pos = json_escape(line, sizeof line - 4, pos, msg);
    line[pos++] = '"';
    emit(line, pos, sizeof line);
}

void log_msg(enum log_level lv, const char *sub, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_vmsg(lv, sub, fmt, ap);
    va_end(ap);
}

void log_access(const char *method, const char *path, int status, double ms, const char *principal)
{
    char ts[40], line[4096];
    size_t tlen = timestamp(ts, sizeof ts);
    size_t cap = sizeof line;
    size_t pos = PUT_LIT(line, cap, 0, "{\"ts\":\"");
    pos = put(line, cap, pos, ts, tlen);
    pos = PUT_LIT(line, cap, pos, "\",\"level\":\"info\",\"sub\":\"access\",\"req\":\"");
    pos = put(line, cap, pos, request_id, strlen(request_id));
    pos = PUT_LIT(line, cap, pos, "\",\"method\":\"");
    pos = json_escape(line, 256, pos, method);
    pos = PUT_LIT(line, cap, pos, "\",\"path\":\"");
    pos = json_escape(line, cap - 200, pos, path);
    pos = PUT_LIT(line, cap, pos, "\",\"status\":");
    long long st = status;
    if (st < 0) { pos = PUT_LIT(line, cap, pos, "-"); st = -st; }
    pos = put_ull(line, cap, pos, (unsigned long long)st);
    /* ms with two decimals, as %.2f would write it (a duration: never negative) */
    unsigned long long hundredths = ms > 0 ? (unsigned long long)((ms < 1e15 ? ms : 1e15) * 100.0 + 0.5) : 0;
    pos = PUT_LIT(line, cap, pos, ",\"ms\":");
    pos = put_ull(line, cap, pos, hundredths / 100);
    char frac[3] = { '.', (char)('0' + hundredths / 10 % 10), (char)('0' + hundredths % 10) };
    pos = put(line, cap, pos, frac, sizeof frac);
    pos = PUT_LIT(line, cap, pos, ",\"who\":\"");
    pos = json_escape(line, cap - 4, pos, principal ? principal : "");
    if (pos > cap - 4) pos = cap - 4;
    line[pos++] = '"';
    emit(line, pos, sizeof line);
}
