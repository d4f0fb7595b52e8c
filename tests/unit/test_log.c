/* test_log: the JSON-lines log (core/base/log.c). Every line is one JSON
 * object that cJSON parses back to what was logged, whatever the message
 * holds: quotes, backslashes, control characters, Chinese text, and bytes
 * that are not UTF-8 (a hostile path in the access log), which come back
 * as U+FFFD. Lines go to a temporary file through log_set_fd. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cJSON.h>
#include "check.h"
#include "log.h"
#include "utf8.h"

/* The lines written since the last call, parsed; NULL when a line is not JSON. */
static cJSON *read_lines(FILE *f, long *offset)
{
    fflush(f);
    fseek(f, *offset, SEEK_SET);
    cJSON *arr = cJSON_CreateArray();
    char line[8192];
    while (fgets(line, sizeof line, f)) {
        cJSON *o = cJSON_Parse(line);
        if (!o) { cJSON_Delete(arr); return NULL; }
        cJSON_AddItemToArray(arr, o);
    }
    *offset = ftell(f);
    return arr;
}

static const char *field(const cJSON *o, const char *name)
{
    return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, name));
}

int main(void)
{
    FILE *f = tmpfile();
    CHECK(f != NULL, "a temporary file for the log");
    if (!f) return check_done();
    log_set_fd(fileno(f));
    long off = 0;

    log_error("test", "quote \" backslash \\ tab \t newline \n bell \a 门店 GZ01");
    cJSON *lines = read_lines(f, &off);
    CHECK(lines && cJSON_GetArraySize(lines) == 1, "one message is one JSON line");
    const cJSON *o = lines ? cJSON_GetArrayItem(lines, 0) : NULL;
    CHECK_STR(o ? field(o, "msg") : NULL, "quote \" backslash \\ tab \t newline \n bell \a 门店 GZ01",
              "the message comes back as it was logged");
    CHECK_STR(o ? field(o, "level") : NULL, "error", "with its level");
    CHECK_STR(o ? field(o, "sub") : NULL, "test", "and its subsystem");
    cJSON_Delete(lines);

    /* a path with bytes that are not UTF-8: a stray continuation byte, an
     * overlong '/', a surrogate, a cut sequence at the end */
    log_access("GET", "/a\x80" "b/\xC0\xAF" "c/\xED\xA0\x80" "d/\xE6\x97", 404, 1.5, "");
    lines = read_lines(f, &off);
    CHECK(lines && cJSON_GetArraySize(lines) == 1, "an access line with invalid UTF-8 is still JSON");
    o = lines ? cJSON_GetArrayItem(lines, 0) : NULL;
    const char *path = o ? field(o, "path") : NULL;
    CHECK(path != NULL, "the path is a string");
    if (path) {
        const unsigned char *p = (const unsigned char *)path;
        size_t n;
        while (*p && (n = utf8_char_len(p)) > 0) p += n;
        CHECK(*p == '\0', "the logged path is well-formed UTF-8 (%s)", path);
        CHECK(strstr(path, "/a\xEF\xBF\xBD" "b/") != NULL, "a stray byte becomes U+FFFD (%s)", path);
        CHECK(strncmp(path, "/a", 2) == 0 && strstr(path, "d/") != NULL, "the valid parts are kept");
    }
    cJSON_Delete(lines);

    /* the access line's fields, laid out by hand: the timestamp, the id of
     * the request, the status and the duration with two decimals */
    log_set_request_id("00ff00ff00ff00ff");
    log_access("HEAD", "/index.html", 304, 12.006, "admin");
    log_access("GET", "/", 200, 0.0004, NULL);
    log_access("GET", "/slow", 503, 61234.5, "");
    log_set_request_id("");
    lines = read_lines(f, &off);
    CHECK(lines && cJSON_GetArraySize(lines) == 3, "three access lines");
    static const struct { const char *method, *path, *who; int status; double ms; } want[] = {
        { "HEAD", "/index.html", "admin", 304, 12.01 },
        { "GET", "/", "", 200, 0.0 },
        { "GET", "/slow", "", 503, 61234.5 },
    };
    for (int i = 0; lines && i < 3 && i < cJSON_GetArraySize(lines); i++) {
        o = cJSON_GetArrayItem(lines, i);
        CHECK_STR(field(o, "method"), want[i].method, "access line %d: method", i);
        CHECK_STR(field(o, "path"), want[i].path, "access line %d: path", i);
        CHECK_STR(field(o, "who"), want[i].who, "access line %d: who", i);
        CHECK_STR(field(o, "req"), "00ff00ff00ff00ff", "access line %d: request id", i);
        CHECK_STR(field(o, "sub"), "access", "access line %d: sub", i);
        const cJSON *st = cJSON_GetObjectItemCaseSensitive(o, "status");
        const cJSON *ms = cJSON_GetObjectItemCaseSensitive(o, "ms");
        CHECK(cJSON_IsNumber(st) && st->valueint == want[i].status, "access line %d: status", i);
        CHECK(cJSON_IsNumber(ms) && ms->valuedouble > want[i].ms - 0.001 && ms->valuedouble < want[i].ms + 0.001,
              "access line %d: ms %.3f", i, cJSON_IsNumber(ms) ? ms->valuedouble : -1.0);
        const char *ts = field(o, "ts");
        bool shape = ts && strlen(ts) == 24 && ts[4] == '-' && ts[7] == '-' && ts[10] == 'T' &&
                     ts[13] == ':' && ts[16] == ':' && ts[19] == '.' && ts[23] == 'Z';
        CHECK(shape, "access line %d: ts like 2026-01-31T12:00:00.123Z (%s)", i, ts ? ts : "none");
    }
    cJSON_Delete(lines);
    /* the text itself: two decimals, as before */
    fflush(f);
    fseek(f, 0, SEEK_SET);
    char text[8192];
    size_t got = fread(text, 1, sizeof text - 1, f);
    text[got] = '\0';
    CHECK(strstr(text, "\"status\":304,\"ms\":12.01,\"who\":\"admin\"}") != NULL, "ms written with two decimals");
    CHECK(strstr(text, "\"status\":200,\"ms\":0.00,") != NULL, "a sub-10 µs request is 0.00 ms");
    fseek(f, off, SEEK_SET);

    /* a 10,000-byte path is cut; the line keeps its status, ms and who */
    char *longpath = malloc(10001);
    if (longpath) {
        memset(longpath, 'p', 10000);
        longpath[0] = '/';
        longpath[10000] = '\0';
        log_access("GET", longpath, 404, 3.25, "viewer");
        free(longpath);
    }
    lines = read_lines(f, &off);
    o = lines && cJSON_GetArraySize(lines) == 1 ? cJSON_GetArrayItem(lines, 0) : NULL;
    CHECK(o != NULL, "an access line with a 10,000-byte path is one JSON line");
    const cJSON *lst = o ? cJSON_GetObjectItemCaseSensitive(o, "status") : NULL;
    CHECK(cJSON_IsNumber(lst) && lst->valueint == 404, "its status is kept");
    CHECK_STR(o ? field(o, "who") : NULL, "viewer", "and its who");
    cJSON_Delete(lines);

    /* a long message is cut, never past the line's buffer, and still parses */
    char *big = malloc(20000);
    memset(big, 'x', 19999);
    big[19999] = '\0';
    big[100] = '\x80';
    log_info("test", "%s", big);
    free(big);
    lines = read_lines(f, &off);
    CHECK(lines && cJSON_GetArraySize(lines) == 1, "a 20,000-byte message is one JSON line, cut to fit");
    cJSON_Delete(lines);
    fclose(f);
    return check_done();
}
