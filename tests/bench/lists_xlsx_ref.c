/* lists_xlsx_ref: the reference for the export part of tests/bench/lists.sh.
 * Writes the rows of one statement (a list's export statement, as the
 * server's statement trace has it, parameters written in) to an .xlsx with
 * libxlsxwriter alone: the client library's unbuffered result
 * (mysql_use_result), one row at a time, into a constant-memory workbook
 * with a header row of the column names, frozen; numbers as numbers, the
 * rest as text. This is the least any streamed export of those rows costs;
 * the benchmark prints the server's export time beside it.
 *
 *   lists_xlsx_ref SOCKET DATABASE SQL_FILE OUT.xlsx
 * prints "rows N ms T" (T: connecting, the statement and the workbook). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <mysql.h>
#include <xlsxwriter.h>

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

static int numeric(enum enum_field_types t)
{
    switch (t) {
    case MYSQL_TYPE_TINY: case MYSQL_TYPE_SHORT: case MYSQL_TYPE_LONG: case MYSQL_TYPE_INT24:
    case MYSQL_TYPE_LONGLONG: case MYSQL_TYPE_FLOAT: case MYSQL_TYPE_DOUBLE: case MYSQL_TYPE_DECIMAL:
    case MYSQL_TYPE_NEWDECIMAL: return 1;
    default: return 0;
    }
}

static char *read_all(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 1 << 16, len = 0;
    char *buf = malloc(cap);
    size_t n;
    while (buf && (n = fread(buf + len, 1, cap - len - 1, f)) > 0) {
        len += n;
        if (len + 1 >= cap) {
            char *g = realloc(buf, cap *= 2);
            if (!g) { free(buf); buf = NULL; }
            buf = g;
        }
    }
    fclose(f);
    if (!buf) return NULL;
    buf[len] = '\0';
    /* the trace's line ends with ";\n": the client API takes the statement alone */
    while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == ';' || buf[len - 1] == ' ')) buf[--len] = '\0';
    return buf;
}

int main(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: lists_xlsx_ref SOCKET DATABASE SQL_FILE OUT.xlsx\n");
        return 2;
    }
    char *sql = read_all(argv[3]);
    if (!sql) { fprintf(stderr, "cannot read %s\n", argv[3]); return 2; }
    double t0 = now_ms();
    MYSQL *m = mysql_init(NULL);
    if (!m || !mysql_real_connect(m, NULL, "root", NULL, argv[2], 0, argv[1], 0)) {
        fprintf(stderr, "connect: %s\n", m ? mysql_error(m) : "out of memory");
        return 1;
    }
    mysql_set_character_set(m, "utf8mb4");
    if (mysql_real_query(m, sql, strlen(sql)) != 0) { fprintf(stderr, "query: %s\n", mysql_error(m)); return 1; }
    MYSQL_RES *res = mysql_use_result(m);
    if (!res) { fprintf(stderr, "result: %s\n", mysql_error(m)); return 1; }
    lxw_workbook_options opts = { .constant_memory = LXW_TRUE, .tmpdir = "/tmp" };
    lxw_workbook *wb = workbook_new_opt(argv[4], &opts);
    lxw_worksheet *ws = wb ? workbook_add_worksheet(wb, "list") : NULL;
    if (!ws) { fprintf(stderr, "cannot start the workbook\n"); return 1; }
    worksheet_freeze_panes(ws, 1, 0);
    unsigned ncols = mysql_num_fields(res);
    MYSQL_FIELD *fields = mysql_fetch_fields(res);
    for (unsigned j = 0; j < ncols; j++) worksheet_write_string(ws, 0, (lxw_col_t)j, fields[j].name, NULL);
    long long rows = 0;
    MYSQL_ROW row;
    while ((row = mysql_fetch_row(res))) {
        lxw_row_t r = (lxw_row_t)(rows + 1);
        for (unsigned j = 0; j < ncols; j++) {
            if (!row[j]) continue;
            if (numeric(fields[j].type)) worksheet_write_number(ws, r, (lxw_col_t)j, strtod(row[j], NULL), NULL);
            else worksheet_write_string(ws, r, (lxw_col_t)j, row[j], NULL);
        }
        rows++;
    }
    if (mysql_errno(m)) { fprintf(stderr, "fetch: %s\n", mysql_error(m)); return 1; }
    mysql_free_result(res);
    lxw_error le = workbook_close(wb);
    if (le != LXW_NO_ERROR) { fprintf(stderr, "workbook: %s\n", lxw_strerror(le)); return 1; }
    double t1 = now_ms();
    mysql_close(m);
    free(sql);
    printf("rows %lld ms %.1f\n", rows, t1 - t0);
    return 0;
}
