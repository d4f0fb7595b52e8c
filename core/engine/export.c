/* export: turns a table the dashboards show into a file to download (see
 * export.h; the route, POST /api/v1/export?format=csv|xlsx, is
 * core/http/routes_export.c). The table
 *   {"filename","title","columns":[{"title","type":"text|number|percent"}],"rows":[[cell,...],...]}
 * becomes a UTF-8 CSV (with a BOM, so Excel opens Chinese headers right) or an
 * .xlsx workbook built with libxlsxwriter (Chinese headers, numbers stored as
 * numbers, percentages formatted as such). The table holds only figures the
 * caller was already given, so any signed-in user may export.
 * Safe for spreadsheets: a text cell that a spreadsheet could read as a
 * formula (starting with = + - @, or TAB or CR, which Excel skips before
 * reading one) gets a leading ' in the CSV and is written as a string cell in
 * the workbook; a number that is not finite (JSON 1e999 is infinity) is
 * written as an empty cell, never as inf, nan or <v>INF</v>. */
#include "export.h"
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <xlsxwriter.h>

#define EXPORT_MAX_COLS 256
#define EXPORT_MAX_ROWS 200000

enum col_type { COL_TEXT, COL_NUMBER, COL_PERCENT };

typedef struct export_table {
    const char *title;
    char filename[96];
    int ncols, nrows;
    const char *col_title[EXPORT_MAX_COLS];
    enum col_type col_type[EXPORT_MAX_COLS];
    const cJSON *rows;
} export_table;

/* --- parsing and checking the body --- */

/* Keep a file name to [A-Za-z0-9._-] (others become '_'), at most 80 bytes. */
static void safe_filename(const char *in, char *out, size_t cap)
{
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)(in ? in : ""); *p && n + 1 < cap && n < 80; p++)
        out[n++] = (char)((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
                          *p == '.' || *p == '-' || *p == '_' ? *p : '_');
    out[n] = '\0';
    if (n == 0) snprintf(out, cap, "fourscore");
}

static int parse_table(const cJSON *body, export_table *t, char *err, size_t errlen)
{
    memset(t, 0, sizeof *t);
    if (!cJSON_IsObject(body)) { snprintf(err, errlen, "the body must be a JSON object"); return -1; }
    const cJSON *cols = cJSON_GetObjectItemCaseSensitive(body, "columns");
    const cJSON *rows = cJSON_GetObjectItemCaseSensitive(body, "rows");
    if (!cJSON_IsArray(cols) || cJSON_GetArraySize(cols) == 0) { snprintf(err, errlen, "columns: a non-empty array is required"); return -1; }
    if (!cJSON_IsArray(rows)) { snprintf(err, errlen, "rows: an array is required"); return -1; }
    t->ncols = cJSON_GetArraySize(cols);
    t->nrows = cJSON_GetArraySize(rows);
    if (t->ncols > EXPORT_MAX_COLS) { snprintf(err, errlen, "columns: at most %d", EXPORT_MAX_COLS); return -1; }
    if (t->nrows > EXPORT_MAX_ROWS) { snprintf(err, errlen, "rows: at most %d", EXPORT_MAX_ROWS); return -1; }
    int i = 0;
    const cJSON *c;
    cJSON_ArrayForEach(c, cols) {
        const cJSON *title = cJSON_GetObjectItemCaseSensitive(c, "title");
        const cJSON *type = cJSON_GetObjectItemCaseSensitive(c, "type");
        if (!cJSON_IsString(title)) { snprintf(err, errlen, "columns[%d].title: a string is required", i); return -1; }
        t->col_title[i] = title->valuestring;
        t->col_type[i] = COL_TEXT;
        if (cJSON_IsString(type)) {
            if (!strcmp(type->valuestring, "number")) t->col_type[i] = COL_NUMBER;
            else if (!strcmp(type->valuestring, "percent")) t->col_type[i] = COL_PERCENT;
            else if (strcmp(type->valuestring, "text") != 0) {
                snprintf(err, errlen, "columns[%d].type: text, number or percent", i);
                return -1;
            }
        }
        i++;
    }
    int r = 0;
    const cJSON *row;
    cJSON_ArrayForEach(row, rows) {
        if (!cJSON_IsArray(row) || cJSON_GetArraySize(row) > t->ncols) {
            snprintf(err, errlen, "rows[%d]: an array of at most %d cells is required", r, t->ncols);
            return -1;
        }
        const cJSON *cell;
        cJSON_ArrayForEach(cell, row)
            if (!cJSON_IsNull(cell) && !cJSON_IsNumber(cell) && !cJSON_IsString(cell)) {
                snprintf(err, errlen, "rows[%d]: cells are numbers, strings or null", r);
                return -1;
            }
        r++;
    }
    t->rows = rows;
    const cJSON *title = cJSON_GetObjectItemCaseSensitive(body, "title");
    t->title = cJSON_IsString(title) ? title->valuestring : "Fourscore";
    const cJSON *fn = cJSON_GetObjectItemCaseSensitive(body, "filename");
    safe_filename(cJSON_IsString(fn) ? fn->valuestring : NULL, t->filename, sizeof t->filename);
    return 0;
}

/* --- CSV --- */

typedef struct buf { char *p; size_t len, cap; } buf;

static int buf_put(buf *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (b->len + n + 1 > cap) cap *= 2;
        char *np = realloc(b->p, cap);
        if (!np) return -1;
        b->p = np;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    return 0;
}

bool export_formula_lead(char c)
{
    return c == '=' || c == '+' || c == '-' || c == '@' || c == '\t' || c == '\r';
}

/* A number cell holds a value only when it is finite. */
static bool finite_number(const cJSON *cell)
{
    return cJSON_IsNumber(cell) && isfinite(cell->valuedouble);
}

/* A text cell, always quoted; a leading = + - @ TAB or CR gets a ' so that a
 * spreadsheet never runs it as a formula. */
static int csv_text(buf *b, const char *s)
{
    int rc = buf_put(b, "\"", 1);
    if (export_formula_lead(*s)) rc |= buf_put(b, "'", 1);
    for (const char *p = s; *p; p++) rc |= *p == '"' ? buf_put(b, "\"\"", 2) : buf_put(b, p, 1);
    return rc | buf_put(b, "\"", 1);
}

static int build_csv(const export_table *t, buf *b)
{
    int rc = buf_put(b, "\xEF\xBB\xBF", 3);
    for (int c = 0; c < t->ncols; c++) {
        if (c) rc |= buf_put(b, ",", 1);
        rc |= csv_text(b, t->col_title[c]);
    }
    rc |= buf_put(b, "\r\n", 2);
    const cJSON *row;
    cJSON_ArrayForEach(row, t->rows) {
        int c = 0;
        const cJSON *cell;
        cJSON_ArrayForEach(cell, row) {
            if (c++) rc |= buf_put(b, ",", 1);
            if (finite_number(cell)) {
                char num[64];
                int n = snprintf(num, sizeof num, "%.15g", cell->valuedouble);
                rc |= buf_put(b, num, (size_t)n);
            } else if (cJSON_IsString(cell)) {
                rc |= csv_text(b, cell->valuestring);
            }
        }
        for (; c < t->ncols; c++) rc |= buf_put(b, ",", 1);
        rc |= buf_put(b, "\r\n", 2);
    }
    return rc ? -1 : 0;
}

/* --- XLSX --- */

static int build_xlsx(const export_table *t, buf *out, char *err, size_t errlen)
{
    char path[] = "/tmp/fourscore-export-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0) { snprintf(err, errlen, "cannot create a temporary file"); return -1; }
    close(fd);
    lxw_workbook *wb = workbook_new(path);
    if (!wb) { unlink(path); snprintf(err, errlen, "cannot start the workbook"); return -1; }
    char sheet_name[32];
    /* a sheet name: at most 31 characters and none of []:*?/\ ; keep it ASCII-safe */
    safe_filename(t->filename, sheet_name, sizeof sheet_name);
    lxw_worksheet *ws = workbook_add_worksheet(wb, sheet_name);
    lxw_format *head = workbook_add_format(wb);
    format_set_bold(head);
    format_set_bg_color(head, 0xE8EDF5);
    format_set_border(head, LXW_BORDER_THIN);
    lxw_format *pct = workbook_add_format(wb);
    format_set_num_format(pct, "0.0%");
    lxw_format *num = workbook_add_format(wb);
    format_set_num_format(num, "#,##0.00");
    for (int c = 0; c < t->ncols; c++) {
        worksheet_write_string(ws, 0, (lxw_col_t)c, t->col_title[c], head);
        worksheet_set_column(ws, (lxw_col_t)c, (lxw_col_t)c, c == 0 ? 22 : 14, NULL);
    }
    worksheet_freeze_panes(ws, 1, 1);
    lxw_row_t r = 1;
    const cJSON *row;
    cJSON_ArrayForEach(row, t->rows) {
        lxw_col_t c = 0;
        const cJSON *cell;
        cJSON_ArrayForEach(cell, row) {
            if (finite_number(cell))
                worksheet_write_number(ws, r, c, cell->valuedouble,
                                       t->col_type[c] == COL_PERCENT ? pct : t->col_type[c] == COL_NUMBER ? num : NULL);
            else if (cJSON_IsString(cell))
                worksheet_write_string(ws, r, c, cell->valuestring, NULL);
            c++;
        }
        r++;
    }
    lxw_error e = workbook_close(wb);
    if (e != LXW_NO_ERROR) {
        unlink(path);
        snprintf(err, errlen, "writing the workbook failed: %s", lxw_strerror(e));
        return -1;
    }
    FILE *f = fopen(path, "rb");
    int rc = -1;
    if (f) {
        char chunk[65536];
        size_t n;
        rc = 0;
        while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
            if (buf_put(out, chunk, n) != 0) { rc = -1; break; }
        if (ferror(f)) rc = -1;
        fclose(f);
    }
    unlink(path);
    if (rc != 0) snprintf(err, errlen, "reading the workbook back failed");
    return rc;
}

/* --- building --- */

int export_build(const cJSON *table, export_format format, export_file *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    export_table t;
    if (parse_table(table, &t, err, errlen) != 0) return -1;
    bool xlsx = format == EXPORT_XLSX;
    buf b = { 0 };
    int rc = xlsx ? build_xlsx(&t, &b, err, errlen) : build_csv(&t, &b);
    if (rc != 0) {
        free(b.p);
        if (!xlsx) snprintf(err, errlen, "out of memory building CSV");
        return -2;
    }
    out->data = b.p;
    out->len = b.len;
    out->content_type = xlsx ? "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
                             : "text/csv; charset=utf-8";
    snprintf(out->filename, sizeof out->filename, "%s.%s", t.filename, xlsx ? "xlsx" : "csv");
    return 0;
}
