/* lists_private: what the two files of the list engine share (lists_page.c: the
 * checks, the statement, a page; lists_export.c: the files). One request
 * is a list_run: the list, its period and order, the caller's stores, the
 * read connection and the plugin's bound parameters. Nothing else includes it. */
#ifndef FS_LISTS_PRIVATE_H
#define FS_LISTS_PRIVATE_H
#include <stdbool.h>
#include "db.h"
#include "lists.h"
#include "plugins.h"
#include "settings.h"

#define LIST_MAX_PARAMS 64            /* the plugin's parameters */

enum list_sql_mode {
    LIST_SQL_PAGE,                    /* rows, COUNT(*) OVER () and each money column's SUM OVER (), LIMIT, OFFSET */
    LIST_SQL_ALL,                     /* every row, no window columns (export) */
    LIST_SQL_COUNT,                   /* COUNT(*) and each money column's SUM only */
    LIST_SQL_ROWS                     /* the rows of the page's keys (run->page_keys), unordered */
};

typedef struct list_run {
    struct app *a;
    const principal *who;
    const plugin_list *pl;
    const fsp_list_def *def;
    char from[11], to[11];
    int sort_col;                     /* -1: the default order alone */
    bool desc;
    int customer_store_col;           /* -1 when the list has none */
    store_set set;                    /* the stores of the request, in scope */
    db_pool *pool;
    db_conn *c;
    struct kpi_snapshot *snap;        /* the engine's directory and settings of the generation in force */
    fsp_call call;
    fsp_param params[LIST_MAX_PARAMS];
    int nparams;
    /* a list with keys_sql sorted by one of its keys: PAGE and COUNT read
     * keys_sql, then ROWS reads the page's rows through sql by their row key */
    bool by_keys;
    const char **page_keys;           /* LIST_SQL_ROWS: the page's row keys */
    int npage_keys;
} list_run;

/* Check q, resolve the stores, take a read connection and bind the
 * plugin's parameters. 0, or -1 with e (run closed). */
int list_run_open(struct app *a, const principal *who, const list_request *q, list_run *run, list_error *e);
void list_run_close(list_run *run);
/* The statement of mode for run (interned: it keys the statement cache), or NULL when out of memory. */
const char *list_run_sql(const list_run *run, enum list_sql_mode mode);
/* The parameters of that statement into vals (room for max): their count, or -1. */
int list_run_vals(const list_run *run, enum list_sql_mode mode, long long limit, long long offset, db_val *vals,
                  int max);
/* The statement with its values to the statement trace (FOURSCORE_KPI_TRACE), under the list's id. */
void list_trace(const list_run *run, const char *sql, const db_val *vals, int n);
/* Whether the result's first columns are the list's keys, in order; else e filled (500). */
bool list_columns_match(const list_run *run, const char *const *names, int ncols, list_error *e);
/* The same for the columns of keys_sql (keys true: the list's keys in order). */
bool list_names_match(const list_run *run, const char *const *names, int ncols, bool keys, list_error *e);
/* The text shown of cell col of a row (cells: the row's first ncolumns
 * cells): the phone masked for the caller into buf; NULL for SQL NULL. */
const char *list_cell_shown(const list_run *run, int col, const char *const *cells, char *buf, size_t buflen);
void list_error_set(list_error *e, int status, enum api_error code, const char *param, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
/* The number of rows a list file holds at most (an xlsx sheet's rows, less the header). */
#define LIST_EXPORT_MAX_ROWS 1048575LL
#endif
