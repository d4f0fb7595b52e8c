/* test_log: the JSON-lines log (core/base/log.c). Every line is one JSON
 * object that cJSON parses back to what was logged, whatever the message
 * holds: quotes, backslashes, control characters, Chinese text, and bytes
 * that are not UTF-8 (a hostile path in the access log), which come back
 * as U+FFFD. Lines go to a temporary file through log_set_fd. */
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
