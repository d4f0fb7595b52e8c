/* lists_page: the list engine (see lists.h): the catalogue, the checks of a
 * request, the one statement of a page and its answer. A list's rows are
 * the plugin's SELECT run as a derived table:
 *   SELECT l.*, COUNT(*) OVER (), SUM(l.money) OVER () ... FROM (<sql>) AS l
 *   WHERE l.store IN (?, ...) ORDER BY l.<sort>, l.<default_sort...> LIMIT ? OFFSET ?
 * so that one pass gives the page, the total and the sums; only a page past
 * the end asks again for the count and sums alone. A list that gives a
 * keys_sql (its few sortable columns, without the per-row joins), sorted by
 * one of its keys, is paged in two statements: the page, total and sums from
 * keys_sql, then the whole rows of that page alone through sql
 *   SELECT l.* FROM (<sql>) AS l WHERE l.store IN (...) AND l.<row key> IN (...) ORDER BY ...
 * which MariaDB merges into one index lookup per row. Sort keys come from the
 * definition's column keys (never the caller's text), every value is a bound
 * parameter, and the store list is padded to a power of two so that a few
 * statement texts serve every request (and left out when the request
 * covers every store of the group) (they are interned: the statement
 * cache of core/store/db.c is keyed by the text's address). The files of an
 * export are lists_export.c's. */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "app.h"
#include "calendar.h"
#include "kpi.h"
#include "kpi_cache.h"
#include "lists_private.h"
#include "log.h"

void list_error_set(list_error *e, int status, enum api_error code, const char *param, const char *fmt, ...)
{
    e->status = status;
    e->code = code;
    snprintf(e->param, sizeof e->param, "%s", param ? param : "");
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->message, sizeof e->message, fmt, ap);
    va_end(ap);
}

/* --- phones --- */

char *list_mask_phone(const char *phone, char *out, size_t outlen)
{
    char digits[64];
    size_t n = 0;
    for (const char *p = phone ? phone : ""; *p && n + 1 < sizeof digits; p++)
        if (*p >= '0' && *p <= '9') digits[n++] = *p;
    digits[n] = '\0';
    if (outlen == 0) return out;
    if (n >= 8) snprintf(out, outlen, "%.3s****%s", digits, digits + n - 4);
    else {
        size_t k = 0;
        for (; k < n && k + 1 < outlen; k++) out[k] = '*';
        out[k] = '\0';
    }
    return out;
}

bool list_phone_whole(const principal *who, const char *customer_store)
{
    if (!who) return false;
    if (who->role == ROLE_ADMIN) return true;
    if (who->role != ROLE_SM || !customer_store || who->all_stores) return false;
    for (int i = 0; i < who->nstores; i++)
        if (strcmp(who->stores[i], customer_store) == 0) return true;
    return false;
}

const char *list_cell_shown(const list_run *run, int col, const char *const *cells, char *buf, size_t buflen)
{
    const char *v = cells[col];
    if (!v || !(run->def->columns[col].flags & FSP_COL_PHONE)) return v;
    const char *cs = run->customer_store_col >= 0 ? cells[run->customer_store_col] : NULL;
    if (list_phone_whole(run->who, cs)) return v;
    return list_mask_phone(v, buf, buflen);
}

/* --- the catalogue --- */

static cJSON *names_json(const char *zh, const char *en)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "zh", zh);
    cJSON_AddStringToObject(o, "en", en);
    return o;
}

static cJSON *explains_json(const fsp_list_def *d)
{
    static const char *const as[] = { NULL, "count", "sum", "share" };
    if (d->explains_as == FSP_EXPLAINS_NONE) return cJSON_CreateNull();
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "kpi", d->explains_kpi);
    cJSON_AddStringToObject(o, "as", as[d->explains_as]);
    if (d->explains_as != FSP_EXPLAINS_COUNT) cJSON_AddStringToObject(o, "column", d->explains_column);
    if (d->explains_as == FSP_EXPLAINS_SHARE) cJSON_AddStringToObject(o, "of", d->explains_of);
    return o;
}

cJSON *lists_catalogue_json(app *a, list_error *e)
{
    char err[300];
    if (kpi_open(a, err, sizeof err) != 0) {
        list_error_set(e, 500, API_INTERNAL, NULL, "%s", err);
        return NULL;
    }
    const plugin_registry *reg = a->plugins;
    cJSON *arr = cJSON_CreateArray();
    for (int i = 0; arr && i < reg->nlists; i++) {
        const fsp_list_def *d = reg->lists[i].def;
        cJSON *o = cJSON_CreateObject();
        cJSON_AddItemToArray(arr, o);
        cJSON_AddStringToObject(o, "id", d->id);
        cJSON_AddStringToObject(o, "plugin", reg->plugins[reg->lists[i].plugin].name);
        cJSON_AddItemToObject(o, "name", names_json(d->name_zh, d->name_en));
        cJSON_AddBoolToObject(o, "as_of", d->as_of != 0);
        cJSON *ds = cJSON_AddArrayToObject(o, "default_sort");
        for (int k = 0; ds && k < d->ndefault_sort; k++) cJSON_AddItemToArray(ds, cJSON_CreateString(d->default_sort[k]));
        cJSON_AddItemToObject(o, "explains", explains_json(d));
        cJSON *cols = cJSON_AddArrayToObject(o, "columns");
        for (int k = 0; cols && k < d->ncolumns; k++) {
            const fsp_list_column *c = &d->columns[k];
            cJSON *co = cJSON_CreateObject();
            cJSON_AddItemToArray(cols, co);
            cJSON_AddStringToObject(co, "key", c->key);
            cJSON_AddItemToObject(co, "name", names_json(c->name_zh, c->name_en));
            if (c->unit) cJSON_AddStringToObject(co, "unit", c->unit);
            else cJSON_AddNullToObject(co, "unit");
        }
    }
    if (!arr) list_error_set(e, 500, API_INTERNAL, NULL, "out of memory");
    return arr;
}

/* --- statements --- */

/* Interned statement texts: one copy of each, kept for the life of the process. */
#define LIST_SQL_MAX_TEXTS 8192
static pthread_mutex_t intern_mu = PTHREAD_MUTEX_INITIALIZER;
static char *interned[LIST_SQL_MAX_TEXTS];
static int ninterned;

static const char *intern(char *text)
{
    if (!text) return NULL;
    const char *found = NULL;
    pthread_mutex_lock(&intern_mu);
    for (int i = 0; i < ninterned && !found; i++)
        if (strcmp(interned[i], text) == 0) found = interned[i];
    if (!found && ninterned < LIST_SQL_MAX_TEXTS) found = interned[ninterned++] = text, text = NULL;
    pthread_mutex_unlock(&intern_mu);
    free(text);
    return found;
}

typedef struct sbuf { char *p; size_t len, cap; bool oom; } sbuf;

static void put(sbuf *b, const char *s)
{
    size_t n = strlen(s);
    if (b->oom) return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 1024;
        while (cap < b->len + n + 1) cap *= 2;
        char *g = realloc(b->p, cap);
        if (!g) { b->oom = true; return; }
        b->p = g;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n + 1);
    b->len += n;
}

/* l.`key` (keys are [a-z0-9_], checked at registration) */
static void put_col(sbuf *b, const char *key)
{
    put(b, "l.`");
    put(b, key);
    put(b, "`");
}

/* The values bound of a list: the request's, padded to a power of two (the last repeated). */
static int store_slots(int n)
{
    int k = 1;
    while (k < n) k *= 2;
    return k;
}

/* The stores bound: none when the request covers every store of the group
 * (the filter would keep every row: an all-store caller sees them all). */
static int store_filter_slots(const list_run *run)
{
    return run->set.every ? 0 : store_slots(run->set.n);
}

const char *list_run_sql(const list_run *run, enum list_sql_mode mode)
{
    const fsp_list_def *d = run->def;
    bool keys = run->by_keys && (mode == LIST_SQL_PAGE || mode == LIST_SQL_COUNT);
    sbuf b = { 0 };
    put(&b, mode == LIST_SQL_COUNT ? "SELECT COUNT(*)" : mode == LIST_SQL_PAGE ? "SELECT l.*, COUNT(*) OVER ()"
                                                                               : "SELECT l.*");
    if (mode == LIST_SQL_PAGE || mode == LIST_SQL_COUNT)
        for (int i = 0; i < d->ncolumns; i++)
            if (d->columns[i].flags & FSP_COL_MONEY) {
                put(&b, ", SUM(");
                put_col(&b, d->columns[i].key);
                put(&b, mode == LIST_SQL_PAGE ? ") OVER ()" : ")");
            }
    put(&b, " FROM (");
    put(&b, keys ? plugins_list_keys_sql(d) : d->sql);
    put(&b, ") AS l WHERE ");
    if (store_filter_slots(run) > 0) {
        put(&b, "l.`store` IN (");
        for (int i = 0, n = store_filter_slots(run); i < n; i++) put(&b, i ? ", ?" : "?");
        put(&b, ")");
    } else {
        put(&b, "l.`store` IS NOT NULL");
    }
    if (mode == LIST_SQL_ROWS) {
        put(&b, " AND ");
        put_col(&b, d->keys[1]);
        put(&b, " IN (");
        for (int i = 0, n = store_slots(run->npage_keys); i < n; i++) put(&b, i ? ", ?" : "?");
        put(&b, ")");
    }
    if (mode != LIST_SQL_COUNT) {
        put(&b, " ORDER BY ");
        if (run->sort_col >= 0) {
            put_col(&b, d->columns[run->sort_col].key);
            put(&b, run->desc ? " DESC, " : " ASC, ");
        }
        for (int i = 0; i < d->ndefault_sort; i++) {
            const char *k = d->default_sort[i];
            bool desc = *k == '-';
            if (i) put(&b, ", ");
            put_col(&b, desc ? k + 1 : k);
            put(&b, desc ? " DESC" : " ASC");
        }
    }
    if (mode == LIST_SQL_PAGE) put(&b, " LIMIT ? OFFSET ?");
    if (b.oom) {
        free(b.p);
        return NULL;
    }
    return intern(b.p);
}

int list_run_vals(const list_run *run, enum list_sql_mode mode, long long limit, long long offset, db_val *vals,
                  int max)
{
    int slots = store_filter_slots(run), n = 0;
    if (run->nparams + slots + 2 > max) return -1;
    for (int i = 0; i < run->nparams; i++) {
        const fsp_param *p = &run->params[i];
        vals[n++] = p->type == FSP_INT ? DB_INT(p->i) : p->type == FSP_NUMBER ? DB_DBL(p->d)
                  : p->type == FSP_TEXT ? DB_STR(p->s) : DB_NULL;
    }
    for (int i = 0; i < slots; i++) vals[n++] = DB_STR(run->set.codes[i < run->set.n ? i : run->set.n - 1]);
    if (mode == LIST_SQL_ROWS) {
        int kslots = store_slots(run->npage_keys);
        if (n + kslots > max) return -1;
        for (int i = 0; i < kslots; i++) vals[n++] = DB_STR(run->page_keys[i < run->npage_keys ? i : run->npage_keys - 1]);
    }
    if (mode == LIST_SQL_PAGE) {
        vals[n++] = DB_INT(limit);
        vals[n++] = DB_INT(offset);
    }
    return n;
}

void list_trace(const list_run *run, const char *sql, const db_val *vals, int n)
{
    fsp_param *p = malloc((size_t)(n ? n : 1) * sizeof *p);
    if (!p) return;
    for (int i = 0; i < n; i++)
        p[i] = vals[i].type == DB_T_INT ? FSP_P_INT(vals[i].i) : vals[i].type == DB_T_DOUBLE ? FSP_P_NUMBER(vals[i].d)
             : vals[i].type == DB_T_STR ? FSP_P_TEXT(vals[i].s) : FSP_P_NULL;
    char id[80];
    snprintf(id, sizeof id, "list %s", run->def->id);
    plugins_trace(id, sql, p, n);
    free(p);
}

bool list_columns_match(const list_run *run, const char *const *names, int ncols, list_error *e)
{
    return list_names_match(run, names, ncols, false, e);
}

bool list_names_match(const list_run *run, const char *const *names, int ncols, bool keys, list_error *e)
{
    const fsp_list_def *d = run->def;
    int want = keys ? d->nkeys : d->ncolumns;
    bool ok = ncols >= want;
    for (int i = 0; ok && i < want; i++)
        ok = names[i] && strcmp(names[i], keys ? d->keys[i] : d->columns[i].key) == 0;
    if (!ok) {
        log_error("lists", "list %s: the columns of its %s are not its %s in order", d->id, keys ? "keys_sql" : "sql",
                  keys ? "keys" : "column keys");
        list_error_set(e, 500, API_INTERNAL, NULL, "list %s is defined wrongly (see the server log)", d->id);
    }
    return ok;
}

/* --- a request --- */

static bool date_valid(const char *s)
{
    if (!s || strlen(s) != 10 || s[4] != '-' || s[7] != '-') return false;
    for (int i = 0; i < 10; i++)
        if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9')) return false;
    int y = atoi(s), m = atoi(s + 5), d = atoi(s + 8);
    return y >= 1000 && y <= 9998 && m >= 1 && m <= 12 && d >= 1 && d <= calendar_days_in_month(y, m);
}

/* The checks that need no database: id, period, sort, order. */
static int check_request(app *a, const list_request *q, list_run *run, list_error *e)
{
    if (!q->id || !*q->id) {
        list_error_set(e, 400, API_BAD_PARAMETER, "id", "id: missing (a list id of GET /api/v1/lists)");
        return -1;
    }
    run->pl = plugins_find_list(a->plugins, q->id);
    if (!run->pl) {
        list_error_set(e, 400, API_BAD_PARAMETER, "id", "id: '%.64s' is not a list (see GET /api/v1/lists)", q->id);
        return -1;
    }
    const fsp_list_def *d = run->def = run->pl->def;
    if (!q->to || !*q->to) {
        list_error_set(e, 400, API_BAD_PARAMETER, "to", "to: missing (YYYY-MM-DD)");
        return -1;
    }
    if (!date_valid(q->to)) {
        list_error_set(e, 400, API_BAD_PARAMETER, "to", "to: '%.20s' is not a date YYYY-MM-DD", q->to);
        return -1;
    }
    memcpy(run->to, q->to, 11);
    memcpy(run->from, q->to, 11);
    if (!d->as_of) {
        if (!q->from || !*q->from) {
            list_error_set(e, 400, API_BAD_PARAMETER, "from", "from: missing (YYYY-MM-DD; list %s is of a period)",
                           d->id);
            return -1;
        }
        if (!date_valid(q->from)) {
            list_error_set(e, 400, API_BAD_PARAMETER, "from", "from: '%.20s' is not a date YYYY-MM-DD", q->from);
            return -1;
        }
        if (strcmp(q->from, q->to) > 0) {
            list_error_set(e, 400, API_BAD_PARAMETER, "from", "from: %s is after to (%s)", q->from, q->to);
            return -1;
        }
        memcpy(run->from, q->from, 11);
    }
    run->sort_col = -1;
    if (q->sort && *q->sort) {
        run->sort_col = plugins_list_column(d, q->sort, strlen(q->sort));
        if (run->sort_col < 0) {
            list_error_set(e, 400, API_BAD_PARAMETER, "sort", "sort: '%.64s' is not a column of list %s", q->sort,
                           d->id);
            return -1;
        }
    }
    if (q->order && *q->order) {
        if (strcmp(q->order, "asc") != 0 && strcmp(q->order, "desc") != 0) {
            list_error_set(e, 400, API_BAD_PARAMETER, "order", "order: '%.20s' is not asc or desc", q->order);
            return -1;
        }
        run->desc = strcmp(q->order, "desc") == 0;
    }
    run->customer_store_col = plugins_list_column(d, "customer_store", strlen("customer_store"));
    /* by keys: a page of the API's size (a larger one, as a scorecard may ask, reads its rows in one pass) */
    run->by_keys = plugins_list_keys_sql(d) && q->limit <= LIST_LIMIT_MAX &&
                   (run->sort_col < 0 || plugins_list_key(d, d->columns[run->sort_col].key) >= 0);
    return 0;
}

void list_run_close(list_run *run)
{
    plugin_call_reset(&run->call);
    if (run->snap) kpi_snapshot_release(run->a->kpi, run->snap);
    run->snap = NULL;
    if (run->c) db_release(run->pool, run->c);
    run->c = NULL;
    store_set_free(&run->set);
}

int list_run_open(app *a, const principal *who, const list_request *q, list_run *run, list_error *e)
{
    memset(run, 0, sizeof *run);
    run->a = a;
    run->who = who;
    char err[400];
    if (kpi_open(a, err, sizeof err) != 0) {
        list_error_set(e, 500, API_INTERNAL, NULL, "%s", err);
        return -1;
    }
    if (check_request(a, q, run, e) != 0) return -1;
    run->c = app_acquire_read(a, &run->pool, err, sizeof err);
    if (!run->c) {
        list_error_set(e, 503, API_DB_UNAVAILABLE, NULL, "%s", err);
        return -1;
    }
    /* the stores and settings of the generation in force, as the KPI engine holds them */
    run->snap = kpi_snapshot_fresh(a->kpi);
    if (!run->snap) run->snap = kpi_snapshot_get(a->kpi, run->c, err, sizeof err);
    if (!run->snap) {
        list_error_set(e, 503, API_DB_UNAVAILABLE, NULL, "%s", err);
        list_run_close(run);
        return -1;
    }
    char bad[200];
    int rc = scope_resolve_dir(&run->snap->scope, who, q->stores, q->nstores, q->regions, q->nregions, &run->set, bad,
                               sizeof bad);
    if (rc == SCOPE_DB_ERROR) {
        list_error_set(e, 500, API_INTERNAL, NULL, "%s", bad);
        list_run_close(run);
        return -1;
    }
    if (rc != 0) {
        bool is_store = false;
        for (int i = 0; i < q->nstores && !is_store; i++) is_store = strcmp(q->stores[i], bad) == 0;
        list_error_set(e, 403, API_FORBIDDEN, is_store ? "stores" : "regions",
                       "%.150s is not a store or region you may see", bad);
        list_run_close(run);
        return -1;
    }
    db_set_statement_timeout(run->c, a->cfg.kpi_statement_timeout_s);
    run->call = (fsp_call){ .conn = run->c, .setting = kpi_settings_lookup, .setting_ctx = run->snap->settings };
    fsp_list_args args = { .struct_size = sizeof args, .list = run->def, .from = run->from, .to = run->to,
                           .stores = (const char *const *)run->set.codes, .nstores = run->set.n };
    run->nparams = plugin_list_bind(run->def, &run->call, &args, run->params, LIST_MAX_PARAMS);
    if (run->nparams < 0) {
        log_error("lists", "%s", run->call.error);
        list_error_set(e, 500, API_INTERNAL, NULL, "list %s failed: %.300s", run->def->id, run->call.error);
        list_run_close(run);
        return -1;
    }
    return 0;
}

/* --- a page --- */

/* A cell as JSON, by the column's type; text already shown (masked). */
static cJSON *cell_json(const fsp_list_column *col, const char *v)
{
    if (!v) return cJSON_CreateNull();
    switch (col->type) {
    case FSP_COL_INT:
    case FSP_COL_NUMBER: return cJSON_CreateNumber(strtod(v, NULL));
    case FSP_COL_BOOL: return cJSON_CreateBool(strcmp(v, "0") != 0);
    case FSP_COL_DATE: {
        char day[11];
        snprintf(day, sizeof day, "%.10s", v);
        return cJSON_CreateString(day);
    }
    default: return cJSON_CreateString(v);
    }
}

static int run_query(list_run *run, enum list_sql_mode mode, long long limit, long long offset, db_result **res,
                     list_error *e)
{
    int max = run->nparams + 2 * run->set.n + 2 * run->npage_keys + 2;
    db_val *vals = malloc((size_t)max * sizeof *vals);
    const char *sql = list_run_sql(run, mode);
    int n = vals ? list_run_vals(run, mode, limit, offset, vals, max) : -1;
    if (!sql || n < 0) {
        free(vals);
        list_error_set(e, 500, API_INTERNAL, NULL, "out of memory building list %s", run->def->id);
        return -1;
    }
    char err[400];
    list_trace(run, sql, vals, n);
    int rc = db_query(run->c, sql, vals, n, res, err, sizeof err);
    free(vals);
    if (rc != 0) {
        log_error("lists", "list %s: %s", run->def->id, err);
        list_error_set(e, 503, API_DB_UNAVAILABLE, NULL, "list %s could not be read: %.300s", run->def->id, err);
        return -1;
    }
    return 0;
}

/* The whole rows of a page cut from keys_sql, read through sql by their row
 * keys LIST_KEYS_CHUNK at a time (past about 200 values of an IN list
 * MariaDB stops probing the index for each and guesses from statistics,
 * which after a bulk load can send it to a scan), in the page's order. */
#define LIST_KEYS_CHUNK 128
#define LIST_KEYS_PARTS ((LIST_LIMIT_MAX + LIST_KEYS_CHUNK - 1) / LIST_KEYS_CHUNK)
typedef struct page_rowset {
    db_result *parts[LIST_KEYS_PARTS];
    int nparts;
    const char *const **row;          /* every part's rows, in order: their cells */
    int n;
} page_rowset;

static void page_rowset_free(page_rowset *rs)
{
    for (int i = 0; i < rs->nparts; i++) db_result_free(rs->parts[i]);
    free(rs->row);
    memset(rs, 0, sizeof *rs);
}

/* The rows of the page kres (keys_sql's) into rs: 0, or -1 with e. */
static int page_rows(list_run *run, const db_result *kres, page_rowset *rs, list_error *e)
{
    const char **keys = malloc((size_t)kres->nrows * sizeof *keys);
    rs->row = malloc((size_t)kres->nrows * sizeof *rs->row);
    if (!keys || !rs->row || kres->nrows > LIST_KEYS_PARTS * LIST_KEYS_CHUNK) {
        free(keys);
        list_error_set(e, 500, API_INTERNAL, NULL, "out of memory reading list %s", run->def->id);
        return -1;
    }
    for (int r = 0; r < kres->nrows; r++) keys[r] = db_cell(kres, r, 1);
    int rc = 0;
    for (int k0 = 0; rc == 0 && k0 < kres->nrows; k0 += LIST_KEYS_CHUNK) {
        run->page_keys = keys + k0;
        run->npage_keys = kres->nrows - k0 < LIST_KEYS_CHUNK ? kres->nrows - k0 : LIST_KEYS_CHUNK;
        db_result *part = NULL;
        rc = run_query(run, LIST_SQL_ROWS, 0, 0, &part, e);
        if (rc == 0 && !list_columns_match(run, (const char *const *)part->names, part->ncols, e)) rc = -1;
        if (part) rs->parts[rs->nparts++] = part;
        for (int i = 0; rc == 0 && i < part->nrows && rs->n < kres->nrows; i++)
            rs->row[rs->n++] = (const char *const *)&part->cells[i * part->ncols];
    }
    free(keys);
    run->page_keys = NULL;
    run->npage_keys = 0;
    return rc;
}

/* The cells of row r of the page: res's own, or (by keys) the row of rs
 * with the store and row key of res's row r; NULL when it is gone (changed
 * between the reads). rs is in the page's order, so the search starts where
 * the last one ended (*next) and is one step when nothing changed; kcol:
 * the row key's column. */
static const char *const *page_cells(const list_run *run, const db_result *res, const page_rowset *rs, int r,
                                     int kcol, int *next)
{
    if (!run->by_keys) return (const char *const *)&res->cells[r * res->ncols];
    const char *store = db_cell(res, r, 0), *key = db_cell(res, r, 1);
    for (int n = 0; store && key && n < rs->n; n++) {
        int i = (*next + n) % rs->n;
        const char *s = rs->row[i][0], *k = rs->row[i][kcol];
        if (s && k && strcmp(k, key) == 0 && strcmp(s, store) == 0) {
            *next = i + 1;
            return rs->row[i];
        }
    }
    return NULL;
}

cJSON *lists_page_json(app *a, const principal *who, const list_request *q, list_error *e)
{
    list_run run;
    if (list_run_open(a, who, q, &run, e) != 0) return NULL;
    const fsp_list_def *d = run.def;
    int nmoney = 0;
    for (int i = 0; i < d->ncolumns; i++) nmoney += (d->columns[i].flags & FSP_COL_MONEY) != 0;
    /* by keys, the page's money sums are its keys' columns: their place there */
    int width = run.by_keys ? d->nkeys : d->ncolumns;
    db_result *res = NULL, *count = NULL;
    page_rowset rows = { 0 };
    cJSON *o = NULL;
    if (run.set.n > 0 && run_query(&run, LIST_SQL_PAGE, q->limit, q->offset, &res, e) != 0) goto done;
    if (res && !list_names_match(&run, (const char *const *)res->names, res->ncols, run.by_keys, e)) goto done;
    if (res && res->ncols != width + 1 + nmoney) {
        list_names_match(&run, NULL, 0, run.by_keys, e);
        goto done;
    }
    if (run.by_keys && res && res->nrows > 0 && page_rows(&run, res, &rows, e) != 0) goto done;
    /* total and sums: the window columns of the first row, or (a page past the end) their own query */
    const db_result *tot = res && res->nrows > 0 ? res : NULL;
    int tcol = width;
    if (res && !tot && (q->offset > 0 || q->limit <= 0)) {
        if (run_query(&run, LIST_SQL_COUNT, 0, 0, &count, e) != 0) goto done;
        tot = count;
        tcol = 0;
    }
    o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "id", d->id);
    cJSON_AddStringToObject(o, "from", run.from);
    cJSON_AddStringToObject(o, "to", run.to);
    cJSON_AddNumberToObject(o, "total", tot && tot->nrows > 0 ? (double)db_cell_int(tot, 0, tcol) : 0);
    cJSON *sums = cJSON_AddObjectToObject(o, "sums");
    for (int i = 0, m = 0; i < d->ncolumns; i++) {
        if (!(d->columns[i].flags & FSP_COL_MONEY)) continue;
        bool isnull = true;
        double v = tot && tot->nrows > 0 ? db_cell_double(tot, 0, tcol + 1 + m, &isnull) : 0;
        cJSON_AddNumberToObject(sums, d->columns[i].key, isnull ? 0 : v);
        m++;
    }
    cJSON *out = cJSON_AddArrayToObject(o, "rows");
    int kcol = run.by_keys ? plugins_list_column(d, d->keys[1], strlen(d->keys[1])) : -1, next = 0;
    for (int r = 0; res && out && r < res->nrows; r++) {
        const char *const *cells = page_cells(&run, res, &rows, r, kcol, &next);
        if (!cells) continue;
        cJSON *row = cJSON_CreateObject();
        if (!row) break;
        cJSON_AddItemToArray(out, row);
        for (int j = 0; j < d->ncolumns; j++) {
            char masked[64];
            cJSON_AddItemToObject(row, d->columns[j].key,
                                  cell_json(&d->columns[j], list_cell_shown(&run, j, cells, masked, sizeof masked)));
        }
    }
done:
    db_result_free(res);
    db_result_free(count);
    page_rowset_free(&rows);
    list_run_close(&run);
    return o;
}
