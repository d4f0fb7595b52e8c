/* log: JSON-lines logs on stdout (stderr for the command-line tools, whose
 * stdout is their answer). Each line is one JSON object written with a
 * single write(2) so lines from several threads never interleave. */
#include "log.h"
#include "utf8.h"
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/time.h>

static enum log_level min_level = LOG_INFO;
static int log_fd = STDOUT_FILENO;
static _Thread_local char request_id[24];

void log_set_level(enum log_level min) { min_level = min; }
void log_set_fd(int fd) { log_fd = fd; }

void log_set_request_id(const char *id)
{
    snprintf(request_id, sizeof request_id, "%s", id ? id : "");
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

static size_t timestamp(char *buf, size_t cap)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    struct tm tm;
    gmtime_r(&tv.tv_sec, &tm);
    size_t n = strftime(buf, cap, "%Y-%m-%dT%H:%M:%S", &tm);
    n += (size_t)snprintf(buf + n, cap - n, ".%03ldZ", (long)(tv.tv_usec / 1000));
    return n;
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
    timestamp(ts, sizeof ts);
    size_t pos = (size_t)snprintf(line, sizeof line,
        "{\"ts\":\"%s\",\"level\":\"info\",\"sub\":\"access\",\"req\":\"%s\",\"method\":\"", ts, request_id);
    pos = json_escape(line, sizeof line, pos, method);
    pos += (size_t)snprintf(line + pos, sizeof line - pos, "\",\"path\":\"");
    pos = json_escape(line, sizeof line - 200, pos, path);
    pos += (size_t)snprintf(line + pos, sizeof line - pos, "\",\"status\":%d,\"ms\":%.2f,\"who\":\"", status, ms);
    pos = json_escape(line, sizeof line - 4, pos, principal ? principal : "");
    line[pos++] = '"';
    emit(line, pos, sizeof line);
}
