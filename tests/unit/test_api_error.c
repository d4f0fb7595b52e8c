/* test_api_error: the one table of API error codes (core/base/api_error.h)
 * and docs/api.md's table of error codes list the same codes with the same
 * statuses, both ways; every code is snake_case and once in the table;
 * api_error_find turns a code back into its enum and anything else into
 * internal. docs/api.md is read from the tree (FOURSCORE_TEST_DATA/..). */
#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "check.h"
#include "api_error.h"

static char *read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = malloc((size_t)n + 1);
    if (s && fread(s, 1, (size_t)n, f) != (size_t)n) { free(s); s = NULL; }
    if (s) s[n] = '\0';
    fclose(f);
    return s;
}

/* The status cell of the docs row of code ("| `code` | 503 | ..."), or NULL. */
static const char *docs_row(const char *docs, const char *code, char *status, size_t cap)
{
    char key[80];
    snprintf(key, sizeof key, "\n| `%s` | ", code);
    const char *p = strstr(docs, key);
    if (!p) return NULL;
    p += strlen(key);
    size_t n = strcspn(p, "|");
    snprintf(status, cap, "%.*s", (int)(n < cap ? n : cap - 1), p);
    return p;
}

int main(void)
{
    const char *data = getenv("FOURSCORE_TEST_DATA");
    char path[4096];
    snprintf(path, sizeof path, "%s/../docs/api.md", data ? data : "tests");
    char *docs = read_file(path);
    CHECK(docs != NULL, "docs/api.md is read (%s)", path);
    if (!docs) return check_done();
    const char *table = strstr(docs, "## Error codes");
    CHECK(table != NULL, "docs/api.md has its table of error codes");
    if (!table) { free(docs); return check_done(); }
    const char *table_end = strstr(table + 1, "\n## ");

    for (int e = 0; e < API_ERROR__COUNT; e++) {
        const char *code = api_error_code((enum api_error)e);
        bool snake = *code != '\0';
        for (const char *c = code; *c; c++) snake = snake && (islower((unsigned char)*c) || *c == '_');
        CHECK(snake, "%s is snake_case", code);
        for (int k = 0; k < e; k++) CHECK(strcmp(code, api_error_code((enum api_error)k)) != 0, "%s is once in the table", code);
        CHECK(api_error_find(code) == (enum api_error)e, "api_error_find(\"%s\") gives it back", code);
        char status[40], want[8];
        const char *row = docs_row(table, code, status, sizeof status);
        CHECK(row != NULL && (!table_end || row < table_end), "docs/api.md's table has %s", code);
        snprintf(want, sizeof want, "%d", api_error_status((enum api_error)e));
        CHECK(row && strstr(status, want), "docs/api.md gives %s its status %s (has \"%s\")", code, want, row ? status : "");
    }

    /* the other way: every row of the docs table is a code of the program */
    int rows = 0;
    for (const char *p = strstr(table, "\n| `"); p && (!table_end || p < table_end); p = strstr(p + 1, "\n| `")) {
        char code[80];
        const char *s = p + 4;
        size_t n = strcspn(s, "`");
        snprintf(code, sizeof code, "%.*s", (int)(n < sizeof code ? n : sizeof code - 1), s);
        bool known = false;
        for (int e = 0; e < API_ERROR__COUNT && !known; e++) known = strcmp(code, api_error_code((enum api_error)e)) == 0;
        CHECK(known, "the documented code %s is one the program answers", code);
        rows++;
    }
    CHECK_INT(rows, API_ERROR__COUNT, "docs/api.md lists as many codes as the table holds");
    CHECK(api_error_find("unavailable") == API_INTERNAL && api_error_find(NULL) == API_INTERNAL,
          "a text that is no code is internal");
    CHECK_STR(api_error_code(API_ERROR__COUNT), "internal", "past the table: internal");
    free(docs);
    return check_done();
}
