/* lists_export: a whole list as a file (see lists.h, lists_export): CSV
 * (UTF-8 with a BOM, so Excel opens Chinese headers right) or xlsx written
 * by libxlsxwriter in its constant-memory mode, each row written as it
 * comes from an unbuffered result (db_query_each), so memory stays flat
 * whatever the row count; the file lives in an unlinked temporary file the
 * route sends from. Phones are masked for the caller as in a page. Every
 * export is written to the audit log (user, list, filters, row count)
 * before the file is handed out; when the audit cannot be written the
 * file is not given. Spreadsheet safety as core/engine/export.c: a text
 * cell that could read as a formula gets a leading ' in the CSV and is a
 * string cell in the workbook. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xlsxwriter.h>
#include "app.h"
#include "export.h"
#include "lists_private.h"
#include "log.h"

#define LIST_EXPORT_AUDIT_WAIT_MS 5000

typedef struct export_ctx {
    list_run *run;
    list_format format;
    FILE *csv;
    lxw_worksheet *ws;
    lxw_format *date_fmt;
    long long rows;
    bool columns_checked, failed;
    list_error *e;
} export_ctx;

static void csv_text(FILE *f, const char *s)
{
    fputc('"', f);
    if (export_formula_lead(*s)) fputc('\'', f);
    for (const char *p = s; *p; p++) {
        if (*p == '"') fputc('"', f);
        fputc(*p, f);
    }
    fputc('"', f);
}

static void write_header(export_ctx *x, bool en)
{
    const fsp_list_def *d = x->run->def;
    if (x->csv) fputs("\xEF\xBB\xBF", x->csv);
    for (int j = 0; j < d->ncolumns; j++) {
        const char *name = en ? d->columns[j].name_en : d->columns[j].name_zh;
        if (x->csv) {
            if (j) fputc(',', x->csv);
            csv_text(x->csv, name);
        } else {
            worksheet_write_string(x->ws, 0, (lxw_col_t)j, name, NULL);
        }
    }
    if (x->csv) fputs("\r\n", x->csv);
}

static int write_row(void *ctx, const db_stream_row *row)
{
    export_ctx *x = ctx;
    const fsp_list_def *d = x->run->def;
    if (!x->columns_checked) {
        if (!list_columns_match(x->run, row->names, row->ncols, x->e)) return x->failed = true, 1;
        x->columns_checked = true;
    }
    if (x->rows >= LIST_EXPORT_MAX_ROWS) {
        list_error_set(x->e, 400, API_BAD_PARAMETER, "stores", "the list has more than %lld rows, more than a "
                       "worksheet holds: ask for fewer stores", LIST_EXPORT_MAX_ROWS);
        return x->failed = true, 1;
    }
    lxw_row_t r = (lxw_row_t)(x->rows + 1);
    for (int j = 0; j < d->ncolumns; j++) {
        char masked[64];
        const char *v = list_cell_shown(x->run, j, row->cells, masked, sizeof masked);
        int type = d->columns[j].type;
        if (x->csv) {
            if (j) fputc(',', x->csv);
            if (!v) continue;
            if (type == FSP_COL_INT || type == FSP_COL_NUMBER || type == FSP_COL_BOOL) fputs(v, x->csv);
            else if (type == FSP_COL_DATE) fprintf(x->csv, "%.10s", v);
            else csv_text(x->csv, v);
            continue;
        }
        if (!v) continue;
        lxw_col_t c = (lxw_col_t)j;
        if (type == FSP_COL_INT || type == FSP_COL_NUMBER) worksheet_write_number(x->ws, r, c, strtod(v, NULL), NULL);
        else if (type == FSP_COL_BOOL) worksheet_write_boolean(x->ws, r, c, strcmp(v, "0") != 0, NULL);
        else if (type == FSP_COL_DATE) {
            char day[11];
            snprintf(day, sizeof day, "%.10s", v);
            worksheet_write_string(x->ws, r, c, day, NULL);
        } else worksheet_write_string(x->ws, r, c, v, NULL);
    }
    if (x->csv) fputs("\r\n", x->csv);
    x->rows++;
    return 0;
}

/* The filters of the request as the audit records them. */
static char *audit_detail(const list_request *q, const list_run *run, list_format format, const char *lang,
                          long long rows)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "format", format == LIST_XLSX ? "xlsx" : "csv");
    cJSON_AddStringToObject(o, "lang", lang);
    cJSON_AddStringToObject(o, "from", run->from);
    cJSON_AddStringToObject(o, "to", run->to);
    cJSON *st = q->nstores ? cJSON_AddArrayToObject(o, "stores") : cJSON_AddNullToObject(o, "stores");
    for (int i = 0; i < q->nstores; i++) cJSON_AddItemToArray(st, cJSON_CreateString(q->stores[i]));
    cJSON *rg = q->nregions ? cJSON_AddArrayToObject(o, "regions") : cJSON_AddNullToObject(o, "regions");
    for (int i = 0; i < q->nregions; i++) cJSON_AddItemToArray(rg, cJSON_CreateString(q->regions[i]));
    if (run->sort_col >= 0) cJSON_AddStringToObject(o, "sort", run->def->columns[run->sort_col].key);
    else cJSON_AddNullToObject(o, "sort");
    cJSON_AddStringToObject(o, "order", run->desc ? "desc" : "asc");
    cJSON_AddNumberToObject(o, "rows", (double)rows);
    char *text = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return text;
}

static int audit_export(app *a, const principal *who, const char *id, const char *detail, list_error *e)
{
    char err[300];
    db_conn *c = detail ? db_acquire(a->db, LIST_EXPORT_AUDIT_WAIT_MS, err, sizeof err) : NULL;
    if (!detail) snprintf(err, sizeof err, "out of memory");
    int rc = c ? audit_log(c, who, "list.export", id, detail, err, sizeof err) : -1;
    if (c) db_release(a->db, c);
    if (rc != 0) {
        log_error("lists", "export of %s not audited: %s", id, err);
        list_error_set(e, 503, API_DB_UNAVAILABLE, NULL, "the export could not be written to the audit log: %.200s",
                       err);
    }
    return rc;
}

/* Run the statement of every row into the writer of x. */
static int stream(export_ctx *x, list_error *e)
{
    list_run *run = x->run;
    if (run->set.n == 0) return 0;
    int max = run->nparams + 2 * run->set.n + 2;
    db_val *vals = malloc((size_t)max * sizeof *vals);
    const char *sql = list_run_sql(run, LIST_SQL_ALL);
    int n = vals ? list_run_vals(run, LIST_SQL_ALL, 0, 0, vals, max) : -1;
    if (!sql || n < 0) {
        free(vals);
        list_error_set(e, 500, API_INTERNAL, NULL, "out of memory building list %s", run->def->id);
        return -1;
    }
    char err[400];
    list_trace(run, sql, vals, n);
    int rc = db_query_each(run->c, sql, vals, n, write_row, x, err, sizeof err);
    free(vals);
    if (rc != 0 && !x->failed) {
        log_error("lists", "export of %s: %s", run->def->id, err);
        list_error_set(e, 503, API_DB_UNAVAILABLE, NULL, "list %s could not be read: %.300s", run->def->id, err);
    }
    return rc != 0 ? -1 : 0;
}

static int export_csv(export_ctx *x, int fd, bool en, list_error *e)
{
    int dupfd = dup(fd);
    x->csv = dupfd >= 0 ? fdopen(dupfd, "w") : NULL;
    if (!x->csv) {
        if (dupfd >= 0) close(dupfd);
        list_error_set(e, 500, API_EXPORT_FAILED, NULL, "cannot write the file: %s", strerror(errno));
        return -1;
    }
    write_header(x, en);
    int rc = stream(x, e);
    bool bad = ferror(x->csv) != 0;
    if ((fclose(x->csv) != 0 || bad) && rc == 0) {
        list_error_set(e, 500, API_EXPORT_FAILED, NULL, "cannot write the file: %s", strerror(errno));
        rc = -1;
    }
    x->csv = NULL;
    return rc;
}

static int export_xlsx(export_ctx *x, const char *path, bool en, list_error *e)
{
    lxw_workbook_options opts = { .constant_memory = LXW_TRUE, .tmpdir = "/tmp" };
    lxw_workbook *wb = workbook_new_opt(path, &opts);
    char sheet[32];
    snprintf(sheet, sizeof sheet, "%.31s", x->run->def->id);
    for (char *p = sheet; *p; p++)
        if (*p == '.') *p = '_';
    x->ws = wb ? workbook_add_worksheet(wb, sheet) : NULL;
    if (!x->ws) {
        if (wb) workbook_close(wb);
        list_error_set(e, 500, API_EXPORT_FAILED, NULL, "cannot start the workbook");
        return -1;
    }
    worksheet_freeze_panes(x->ws, 1, 0);
    write_header(x, en);
    int rc = stream(x, e);
    lxw_error le = workbook_close(wb);
    if (le != LXW_NO_ERROR && rc == 0) {
        list_error_set(e, 500, API_EXPORT_FAILED, NULL, "writing the workbook failed: %s", lxw_strerror(le));
        rc = -1;
    }
    return rc;
}

int lists_export(app *a, const principal *who, const list_request *q, list_format format, const char *lang,
                 list_file *out, list_error *e)
{
    memset(out, 0, sizeof *out);
    out->fd = -1;
    if (lang && *lang && strcmp(lang, "zh") != 0 && strcmp(lang, "en") != 0) {
        list_error_set(e, 400, API_BAD_PARAMETER, "lang", "lang: '%.20s' is not zh or en", lang);
        return -1;
    }
    bool en = lang && strcmp(lang, "en") == 0;
    list_run run;
    if (list_run_open(a, who, q, &run, e) != 0) return -1;
    db_set_statement_timeout(run.c, a->cfg.kpi_statement_timeout_s * 10);
    char path[] = "/tmp/fourscore-list-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0) {
        list_error_set(e, 500, API_EXPORT_FAILED, NULL, "cannot create a temporary file: %s", strerror(errno));
        list_run_close(&run);
        return -1;
    }
    export_ctx x = { .run = &run, .format = format, .e = e };
    int rc;
    if (format == LIST_CSV) {
        unlink(path);
        rc = export_csv(&x, fd, en, e);
    } else {
        close(fd);
        rc = export_xlsx(&x, path, en, e);
        fd = open(path, O_RDONLY);
        unlink(path);
        if (fd < 0 && rc == 0) {
            list_error_set(e, 500, API_EXPORT_FAILED, NULL, "cannot read the workbook back: %s", strerror(errno));
            rc = -1;
        }
    }
    struct stat sb;
    if (rc == 0 && (fstat(fd, &sb) != 0 || lseek(fd, 0, SEEK_SET) != 0)) {
        list_error_set(e, 500, API_EXPORT_FAILED, NULL, "cannot read the file back: %s", strerror(errno));
        rc = -1;
    }
    char *detail = rc == 0 ? audit_detail(q, &run, format, en ? "en" : "zh", x.rows) : NULL;
    char id[80];
    snprintf(id, sizeof id, "%s", run.def->id);
    snprintf(out->filename, sizeof out->filename, "%s-%s.%s", run.def->id, run.to, format == LIST_XLSX ? "xlsx" : "csv");
    list_run_close(&run);
    if (rc == 0) rc = audit_export(a, who, id, detail, e);
    free(detail);
    if (rc != 0) {
        if (fd >= 0) close(fd);
        return -1;
    }
    out->fd = fd;
    out->size = (size_t)sb.st_size;
    out->rows = x.rows;
    out->content_type = format == LIST_XLSX ? "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
                                            : "text/csv; charset=utf-8";
    return 0;
}
