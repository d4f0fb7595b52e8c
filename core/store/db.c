/* db: MariaDB access on Connector/C (see db.h): connections, the statement
 * cache, statements and their results. The bulk insert is in db_bulk.c,
 * URL parsing in db_url.c, and the pool with its watchdog and monitor in
 * db_pool.c; what they share is db_private.h.
 *
 * - Every statement is a server-side prepared statement with bound
 *   parameters. Each connection keeps a cache of its prepared statements,
 *   keyed by the address of the SQL text (a literal that lives as long as the
 *   program); a hit is also checked against a copy of the text, so a caller
 *   that passes a reused buffer gets a fresh prepare, never a wrong statement.
 * - Results are fetched with every column bound as a string, so each cell is
 *   MariaDB's text form of the value (NULL for SQL NULL).
 * - Connecting gives up after DB_CONNECT_TIMEOUT_S, so a request fails fast
 *   while the database is down.
 * - Every blocking call (a statement, a commit, a ping) is bracketed by
 *   db_call_begin / db_call_end, so the watchdog of db_pool.c can cut it:
 *   a statement past its time limit (db_set_statement_timeout) plus a
 *   grace, a ping after DB_PING_LIMIT_MS, or any call of a pooled
 *   connection while its server stays silent. A cut call fails here with
 *   the reason (ER_STATEMENT_TIMEOUT or CR_SERVER_LOST) and the connection
 *   is dropped as lost.
 */
#include "db.h"
#include "db_private.h"
#include <limits.h>
#include <mysql.h>
#include <errmsg.h>
#include <mysqld_error.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "err.h"

#define DB_CONNECT_TIMEOUT_S   2
#define DB_IO_TIMEOUT_S        600   /* read/write: long rollups still fit */
#define DB_STMT_CACHE_MAX      256   /* per connection; least recently used goes */
#define DB_CELL_INITIAL        64    /* first buffer size for a fetched cell */
#define DB_PING_LIMIT_MS       1000  /* a ping on a pooled connection is cut after this */

/* Session settings every connection starts with, whatever the server's
 * defaults: strict SQL, and autocommit on. */
static const char DB_INIT_COMMAND[] =
    "SET SESSION sql_mode='STRICT_TRANS_TABLES,STRICT_ALL_TABLES,ERROR_FOR_DIVISION_BY_ZERO,"
    "NO_ZERO_IN_DATE,NO_ZERO_DATE,NO_ENGINE_SUBSTITUTION', autocommit=1";

/* --- errors --- */

bool db_errno_is_lost(int e)
{
    return e == CR_SERVER_GONE_ERROR || e == CR_SERVER_LOST || e == 4031 /* ER_CLIENT_INTERACTION_TIMEOUT */
        || e == CR_SERVER_LOST_EXTENDED || e == CR_CONNECTION_ERROR || e == CR_CONN_HOST_ERROR
        || e == ER_CONNECTION_KILLED || e == ER_SERVER_SHUTDOWN;
}

/* Lost lock conflicts, worth a retry. */
bool db_errno_is_retryable(int e)
{
    return e == 1213 /* ER_LOCK_DEADLOCK: the transaction was rolled back */
        || e == 1205 /* ER_LOCK_WAIT_TIMEOUT: the statement was rolled back */;
}

/* --- connections and the statement cache --- */

static pthread_once_t library_once = PTHREAD_ONCE_INIT;
static int library_rc;
static void library_init(void) { library_rc = mysql_library_init(0, NULL, NULL); }

void db_conn_fail(db_conn *c, MYSQL_STMT *st, char *err, size_t errlen)
{
    int e = st ? (int)mysql_stmt_errno(st) : (int)mysql_errno(c->m);
    const char *msg = st ? mysql_stmt_error(st) : mysql_error(c->m);
    int fired = db_watch_fired(c);
    if (fired == WATCH_CUT_LIMIT) {    /* cut off by the watchdog: the connection is gone */
        c->last_errno = DB_ER_STATEMENT_TIMEOUT;
        c->lost = true;
        set_err(err, errlen, "the statement ran past its time limit (%g s) and was cut off (%d)",
                c->timeout_want, DB_ER_STATEMENT_TIMEOUT);
        return;
    }
    if (fired == WATCH_CUT_SILENT) {
        c->last_errno = CR_SERVER_LOST;
        c->lost = true;
        set_err(err, errlen, "the database gave no answer for %d s (stalled or unreachable), "
                "so the statement was abandoned (%d)", (c->watch_silent_ms + 999) / 1000, CR_SERVER_LOST);
        return;
    }
    if (e == 0) {                      /* a failure the library did not describe */
        e = CR_UNKNOWN_ERROR;
        msg = "unknown database error";
    }
    c->last_errno = e;
    if (db_errno_is_lost(e)) c->lost = true;
    set_err(err, errlen, "%s (%d)", msg, e);
}

db_conn *db_connect_timed(const db_url *u, unsigned connect_timeout, unsigned io_timeout,
                          int *mysql_err, char *err, size_t errlen)
{
    if (mysql_err) *mysql_err = 0;
    pthread_once(&library_once, library_init);
    if (library_rc) {
        set_err(err, errlen, "the MariaDB client library failed to initialise");
        return NULL;
    }
    db_conn *c = calloc(1, sizeof *c);
    if (!c) {
        set_err(err, errlen, "out of memory");
        return NULL;
    }
    c->m = mysql_init(NULL);
    if (!c->m) {
        free(c);
        set_err(err, errlen, "out of memory");
        return NULL;
    }
    my_bool no = 0;
    unsigned int protocol = u->socket[0] ? MYSQL_PROTOCOL_SOCKET : MYSQL_PROTOCOL_TCP;
    if (mysql_optionsv(c->m, MYSQL_SET_CHARSET_NAME, "utf8mb4")
        || mysql_optionsv(c->m, MYSQL_OPT_CONNECT_TIMEOUT, &connect_timeout)
        || mysql_optionsv(c->m, MYSQL_OPT_READ_TIMEOUT, &io_timeout)
        || mysql_optionsv(c->m, MYSQL_OPT_WRITE_TIMEOUT, &io_timeout)
        || mysql_optionsv(c->m, MYSQL_OPT_RECONNECT, &no)
        || mysql_optionsv(c->m, MYSQL_OPT_LOCAL_INFILE, &no)
        || mysql_optionsv(c->m, MYSQL_OPT_PROTOCOL, &protocol)
        || mysql_optionsv(c->m, MYSQL_INIT_COMMAND, DB_INIT_COMMAND)) {
        set_err(err, errlen, "setting connection options failed: %s", mysql_error(c->m));
        mysql_close(c->m);
        free(c);
        return NULL;
    }
    const char *host = u->socket[0] ? "localhost" : u->host;
    if (!mysql_real_connect(c->m, host, u->user, u->pass, u->db, u->socket[0] ? 0 : u->port,
                            u->socket[0] ? u->socket : NULL, 0)) {
        if (mysql_err) *mysql_err = (int)mysql_errno(c->m);
        if (u->socket[0])
            set_err(err, errlen, "cannot connect to MariaDB at socket %s (database %s): %s (%u)",
                    u->socket, u->db, mysql_error(c->m), mysql_errno(c->m));
        else
            set_err(err, errlen, "cannot connect to MariaDB at %s:%u (database %s): %s (%u)",
                    u->host, u->port, u->db, mysql_error(c->m), mysql_errno(c->m));
        mysql_close(c->m);
        free(c);
        return NULL;
    }
    return c;
}

db_conn *db_connect(const db_url *u, char *err, size_t errlen)
{
    return db_connect_timed(u, DB_CONNECT_TIMEOUT_S, DB_IO_TIMEOUT_S, NULL, err, errlen);
}

static void stmt_entry_free(stmt_entry *e)
{
    if (e->st) mysql_stmt_close(e->st);
    free(e->text);
    memset(e, 0, sizeof *e);
}

void db_close(db_conn *c)
{
    if (!c) return;
    for (int i = 0; i < c->nstmts; i++) stmt_entry_free(&c->stmts[i]);
    free(c->stmts);
    mysql_close(c->m);
    free(c);
}

bool db_ping(db_conn *c)
{
    db_call_begin(c, DB_PING_LIMIT_MS);
    bool ok = mysql_ping(c->m) == 0;
    if (!ok) {
        c->last_errno = (int)mysql_errno(c->m);
        if (db_errno_is_lost(c->last_errno) || c->last_errno == 0) c->lost = true;
    }
    db_call_end(c);                         /* a ping cut by the watchdog: lost */
    if (!ok && c->watch_fired) c->last_errno = CR_SERVER_LOST;
    return ok;
}

bool db_conn_lost(const db_conn *c) { return c->lost; }
int db_errno(db_conn *c) { return c->last_errno; }
unsigned long long db_last_insert_id(db_conn *c) { return mysql_insert_id(c->m); }
void db_set_statement_timeout(db_conn *c, double seconds) { c->timeout_want = seconds > 0 ? seconds : 0; }

void db_stmt_cache_drop(db_conn *c, const char *sql)
{
    for (int i = 0; i < c->nstmts; i++)
        if (c->stmts[i].key == sql) {
            stmt_entry_free(&c->stmts[i]);
            c->stmts[i] = c->stmts[--c->nstmts];
            return;
        }
}

MYSQL_STMT *db_stmt_get(db_conn *c, const char *sql, char *err, size_t errlen)
{
    c->use_clock++;
    for (int i = 0; i < c->nstmts; i++) {
        stmt_entry *e = &c->stmts[i];
        if (e->key != sql) continue;
        if (strcmp(e->text, sql) == 0) {
            e->last_use = c->use_clock;
            return e->st;
        }
        stmt_entry_free(e);              /* same address, other text */
        c->stmts[i] = c->stmts[--c->nstmts];
        break;
    }
    if (c->nstmts == DB_STMT_CACHE_MAX) {   /* evict the least recently used */
        int oldest = 0;
        for (int i = 1; i < c->nstmts; i++)
            if (c->stmts[i].last_use < c->stmts[oldest].last_use) oldest = i;
        stmt_entry_free(&c->stmts[oldest]);
        c->stmts[oldest] = c->stmts[--c->nstmts];
    }
    if (c->nstmts == c->capstmts) {
        int cap = c->capstmts ? c->capstmts * 2 : 16;
        stmt_entry *grown = realloc(c->stmts, (size_t)cap * sizeof *grown);
        if (!grown) {
            set_err(err, errlen, "out of memory");
            return NULL;
        }
        c->stmts = grown;
        c->capstmts = cap;
    }
    MYSQL_STMT *st = mysql_stmt_init(c->m);
    if (!st) {
        db_conn_fail(c, NULL, err, errlen);
        return NULL;
    }
    if (mysql_stmt_prepare(st, sql, (unsigned long)strlen(sql))) {
        db_conn_fail(c, st, err, errlen);
        mysql_stmt_close(st);
        return NULL;
    }
    char *text = strdup(sql);
    if (!text) {
        mysql_stmt_close(st);
        set_err(err, errlen, "out of memory");
        return NULL;
    }
    c->stmts[c->nstmts++] = (stmt_entry){ .key = sql, .text = text, .st = st, .last_use = c->use_clock };
    return st;
}

int db_apply_session(db_conn *c, char *err, size_t errlen)
{
    if (c->timeout_want == c->timeout_set) return 0;
    static const char sql[] = "SET SESSION max_statement_time = ?";
    MYSQL_STMT *st = db_stmt_get(c, sql, err, errlen);
    if (!st) return -1;
    double v = c->timeout_want;
    MYSQL_BIND b;
    memset(&b, 0, sizeof b);
    b.buffer_type = MYSQL_TYPE_DOUBLE;
    b.buffer = &v;
    if (mysql_stmt_bind_param(st, &b) || mysql_stmt_execute(st)) {
        db_conn_fail(c, st, err, errlen);
        return -1;
    }
    c->timeout_set = v;
    return 0;
}

/* --- statements --- */

/* Bind params into binds (n of them) for one execution. */
static void bind_params(MYSQL_BIND *binds, const db_val *params, int n)
{
    memset(binds, 0, (size_t)n * sizeof *binds);
    for (int i = 0; i < n; i++) {
        MYSQL_BIND *b = &binds[i];
        const db_val *v = &params[i];
        switch (v->type) {
        case DB_T_INT:
            b->buffer_type = MYSQL_TYPE_LONGLONG;
            b->buffer = (void *)&v->i;
            break;
        case DB_T_DOUBLE:
            b->buffer_type = MYSQL_TYPE_DOUBLE;
            b->buffer = (void *)&v->d;
            break;
        case DB_T_STR:
            b->buffer_type = MYSQL_TYPE_STRING;
            b->buffer = (void *)(v->s ? v->s : "");
            b->buffer_length = v->s ? v->len : 0;
            b->length = v->s ? (unsigned long *)&v->len : NULL;
            break;
        default:
            b->buffer_type = MYSQL_TYPE_NULL;
            break;
        }
    }
}

/* Prepare (or find) sql, bind params and execute. Retries once when the
 * server asks for a re-prepare (a table changed under a cached statement). */
static MYSQL_STMT *stmt_run(db_conn *c, const char *sql, const db_val *params, int n,
                            char *err, size_t errlen)
{
    if (!sql) {
        set_err(err, errlen, "no SQL text given");
        return NULL;
    }
    if (n < 0 || (n > 0 && !params)) {
        set_err(err, errlen, "bad parameter list");
        return NULL;
    }
    c->last_errno = 0;
    if (db_apply_session(c, err, errlen)) return NULL;
    for (int attempt = 0; attempt < 2; attempt++) {
        MYSQL_STMT *st = db_stmt_get(c, sql, err, errlen);
        if (!st) return NULL;
        unsigned long want = mysql_stmt_param_count(st);
        if (want != (unsigned long)n) {
            c->last_errno = CR_PARAMS_NOT_BOUND;
            set_err(err, errlen, "the statement has %lu parameters but %d were given", want, n);
            return NULL;
        }
        MYSQL_BIND stack_binds[32], *binds = stack_binds;
        if (n > 32 && !(binds = malloc((size_t)n * sizeof *binds))) {
            set_err(err, errlen, "out of memory");
            return NULL;
        }
        if (n) bind_params(binds, params, n);
        int rc = (n && mysql_stmt_bind_param(st, binds)) || mysql_stmt_execute(st);
        if (binds != stack_binds) free(binds);
        if (!rc) return st;
        if (mysql_stmt_errno(st) == ER_NEED_REPREPARE && attempt == 0) {
            db_stmt_cache_drop(c, sql);
            continue;
        }
        db_conn_fail(c, st, err, errlen);
        if (!c->lost) mysql_stmt_reset(st);
        return NULL;
    }
    return NULL;
}

int db_exec(db_conn *c, const char *sql, const db_val *params, int n,
            unsigned long long *affected, char *err, size_t errlen)
{
    db_call_begin(c, db_stmt_limit_ms(c));
    MYSQL_STMT *st = stmt_run(c, sql, params, n, err, errlen);
    if (st) {
        if (affected) {
            my_ulonglong a = mysql_stmt_affected_rows(st);
            *affected = a == (my_ulonglong)-1 ? 0 : a;
        }
        if (mysql_stmt_field_count(st) > 0) mysql_stmt_free_result(st);   /* a SELECT run for effect */
    }
    db_call_end(c);
    return st ? 0 : -1;
}

/* --- results --- */

/* The result as handed out plus the one block its cells live in. */
typedef struct result_block {
    db_result r;
    char *arena;
} result_block;

typedef struct arena_buf {
    char *data;
    size_t len, cap;
} arena_buf;

static int arena_add(arena_buf *a, const char *s, size_t n, size_t *off)
{
    if (a->len + n + 1 > a->cap) {
        size_t cap = a->cap ? a->cap : 1024;
        while (cap < a->len + n + 1) cap *= 2;
        char *grown = realloc(a->data, cap);
        if (!grown) return -1;
        a->data = grown;
        a->cap = cap;
    }
    if (n) memcpy(a->data + a->len, s, n);
    a->data[a->len + n] = '\0';
    *off = a->len;
    a->len += n + 1;
    return 0;
}

void db_result_free(db_result *r)
{
    if (!r) return;
    result_block *blk = (result_block *)r;
    free(r->cells);
    free(r->lens);
    free(r->names);
    free(blk->arena);
    free(blk);
}

/* Per-column fetch buffers. */
typedef struct col_buf {
    char *buf;
    unsigned long cap, len;
    my_bool is_null, error;
} col_buf;

static int fetch_rows(db_conn *c, MYSQL_STMT *st, db_result **out, char *err, size_t errlen)
{
    int rc = -1;
    MYSQL_RES *meta = mysql_stmt_result_metadata(st);
    result_block *blk = calloc(1, sizeof *blk);
    MYSQL_BIND *binds = NULL;
    col_buf *cols = NULL;
    int ncols_alloc = 0;                 /* entries of cols to free */
    size_t *offs = NULL;                 /* cell offsets in the arena; SIZE_MAX = NULL */
    arena_buf arena = { 0 };
    if (!blk) goto oom;
    db_result *r = &blk->r;
    if (!meta) {
        if (mysql_stmt_errno(st)) {
            db_conn_fail(c, st, err, errlen);
            goto done;
        }
        *out = r;                         /* not a SELECT: no columns, no rows */
        blk = NULL;
        return 0;
    }
    int ncols = (int)mysql_num_fields(meta);
    MYSQL_FIELD *fields = mysql_fetch_fields(meta);
    if (mysql_stmt_store_result(st)) {
        db_conn_fail(c, st, err, errlen);
        goto done;
    }
    unsigned long long nrows = mysql_stmt_num_rows(st);
    if (nrows > (unsigned long long)INT32_MAX / (unsigned long long)(ncols ? ncols : 1)) {
        set_err(err, errlen, "the result is too large (%llu rows)", nrows);
        goto done;
    }
    r->ncols = ncols;
    size_t ncells = (size_t)nrows * (size_t)ncols;
    binds = calloc((size_t)ncols ? (size_t)ncols : 1, sizeof *binds);
    cols = calloc((size_t)ncols ? (size_t)ncols : 1, sizeof *cols);
    offs = malloc((ncells ? ncells : 1) * sizeof *offs);
    r->names = calloc((size_t)ncols ? (size_t)ncols : 1, sizeof *r->names);
    r->cells = calloc(ncells ? ncells : 1, sizeof *r->cells);
    r->lens = calloc(ncells ? ncells : 1, sizeof *r->lens);
    if (!binds || !cols || !offs || !r->names || !r->cells || !r->lens) goto oom;
    ncols_alloc = ncols;
    size_t *name_offs = malloc(((size_t)ncols ? (size_t)ncols : 1) * sizeof *name_offs);
    if (!name_offs) goto oom;
    for (int j = 0; j < ncols; j++) {
        if (arena_add(&arena, fields[j].name, fields[j].name_length, &name_offs[j])) {
            free(name_offs);
            goto oom;
        }
        cols[j].cap = DB_CELL_INITIAL;
        if (!(cols[j].buf = malloc(cols[j].cap))) {
            free(name_offs);
            goto oom;
        }
        binds[j].buffer_type = MYSQL_TYPE_STRING;
        binds[j].buffer = cols[j].buf;
        binds[j].buffer_length = cols[j].cap;
        binds[j].length = &cols[j].len;
        binds[j].is_null = &cols[j].is_null;
        binds[j].error = &cols[j].error;
    }
    if (ncols && mysql_stmt_bind_result(st, binds)) {
        free(name_offs);
        db_conn_fail(c, st, err, errlen);
        goto done;
    }
    size_t cell = 0;
    for (;;) {
        int f = mysql_stmt_fetch(st);
        if (f == MYSQL_NO_DATA) break;
        if (f == 1) {
            free(name_offs);
            db_conn_fail(c, st, err, errlen);
            goto done;
        }
        if (cell + (size_t)ncols > ncells) break;   /* never more than stored */
        bool rebind = false;
        for (int j = 0; j < ncols; j++, cell++) {
            col_buf *cb = &cols[j];
            if (cb->is_null) {
                offs[cell] = SIZE_MAX;
                continue;
            }
            if (cb->len > cb->cap) {            /* truncated: fetch it whole */
                unsigned long cap = cb->len + 1;
                char *grown = realloc(cb->buf, cap);
                if (!grown) {
                    free(name_offs);
                    goto oom;
                }
                cb->buf = grown;
                cb->cap = cap;
                binds[j].buffer = grown;
                binds[j].buffer_length = cap;
                if (mysql_stmt_fetch_column(st, &binds[j], (unsigned)j, 0)) {
                    free(name_offs);
                    db_conn_fail(c, st, err, errlen);
                    goto done;
                }
                rebind = true;
            }
            r->lens[cell] = cb->len;
            if (arena_add(&arena, cb->buf, cb->len, &offs[cell])) {
                free(name_offs);
                goto oom;
            }
        }
        r->nrows++;
        if (rebind && mysql_stmt_bind_result(st, binds)) {
            free(name_offs);
            db_conn_fail(c, st, err, errlen);
            goto done;
        }
    }
    for (int j = 0; j < ncols; j++) r->names[j] = arena.data + name_offs[j];
    for (size_t i = 0; i < (size_t)r->nrows * (size_t)ncols; i++)
        r->cells[i] = offs[i] == SIZE_MAX ? NULL : arena.data + offs[i];
    free(name_offs);
    blk->arena = arena.data;
    arena.data = NULL;
    *out = r;
    blk = NULL;
    rc = 0;
    goto done;
oom:
    set_err(err, errlen, "out of memory reading a result");
done:
    if (meta) mysql_free_result(meta);
    mysql_stmt_free_result(st);
    for (int j = 0; cols && j < ncols_alloc; j++) free(cols[j].buf);
    free(cols);
    free(binds);
    free(offs);
    free(arena.data);
    if (blk) db_result_free(&blk->r);
    return rc;
}

int db_query(db_conn *c, const char *sql, const db_val *params, int n,
             db_result **out, char *err, size_t errlen)
{
    *out = NULL;
    db_call_begin(c, db_stmt_limit_ms(c));
    MYSQL_STMT *st = stmt_run(c, sql, params, n, err, errlen);
    int rc = st ? fetch_rows(c, st, out, err, errlen) : -1;
    db_call_end(c);
    return rc;
}

/* --- streamed results --- */

/* Fetch the rows of st one at a time, straight from the server (no
 * mysql_stmt_store_result): fn sees each row as it arrives, so memory stays
 * that of one row whatever the count. */
static int stream_rows(db_conn *c, MYSQL_STMT *st, db_row_fn fn, void *ctx, char *err, size_t errlen)
{
    MYSQL_RES *meta = mysql_stmt_result_metadata(st);
    if (!meta) {
        if (mysql_stmt_errno(st)) db_conn_fail(c, st, err, errlen);
        else set_err(err, errlen, "the statement returns no rows");
        return -1;
    }
    int ncols = (int)mysql_num_fields(meta), rc = -1;
    MYSQL_FIELD *fields = mysql_fetch_fields(meta);
    size_t nc = ncols ? (size_t)ncols : 1;
    MYSQL_BIND *binds = calloc(nc, sizeof *binds);
    col_buf *cols = calloc(nc, sizeof *cols);
    const char **names = calloc(nc, sizeof *names), **cells = calloc(nc, sizeof *cells);
    unsigned long *lens = calloc(nc, sizeof *lens);
    if (!binds || !cols || !names || !cells || !lens) goto oom;
    for (int j = 0; j < ncols; j++) {
        names[j] = fields[j].name;
        cols[j].cap = DB_CELL_INITIAL;
        if (!(cols[j].buf = malloc(cols[j].cap))) goto oom;
        binds[j].buffer_type = MYSQL_TYPE_STRING;
        binds[j].buffer = cols[j].buf;
        binds[j].buffer_length = cols[j].cap - 1;
        binds[j].length = &cols[j].len;
        binds[j].is_null = &cols[j].is_null;
        binds[j].error = &cols[j].error;
    }
    if (ncols && mysql_stmt_bind_result(st, binds)) {
        db_conn_fail(c, st, err, errlen);
        goto done;
    }
    db_stream_row row = { .ncols = ncols, .names = names, .cells = cells, .lens = lens };
    for (;;) {
        int f = mysql_stmt_fetch(st);
        if (f == MYSQL_NO_DATA) break;
        if (f == 1) {
            db_conn_fail(c, st, err, errlen);
            goto done;
        }
        bool rebind = false;
        for (int j = 0; j < ncols; j++) {
            col_buf *cb = &cols[j];
            if (cb->is_null) { cells[j] = NULL; lens[j] = 0; continue; }
            if (cb->len + 1 > cb->cap) {           /* truncated: fetch it whole */
                unsigned long cap = cb->len + 1;
                char *grown = realloc(cb->buf, cap);
                if (!grown) goto oom;
                cb->buf = grown;
                cb->cap = cap;
                binds[j].buffer = grown;
                binds[j].buffer_length = cap - 1;
                if (mysql_stmt_fetch_column(st, &binds[j], (unsigned)j, 0)) {
                    db_conn_fail(c, st, err, errlen);
                    goto done;
                }
                rebind = true;
            }
            cb->buf[cb->len] = '\0';
            cells[j] = cb->buf;
            lens[j] = cb->len;
        }
        int stop = fn(ctx, &row);
        row.index++;
        if (stop) {
            set_err(err, errlen, "stopped by the reader");
            rc = stop;
            goto done;
        }
        if (rebind && mysql_stmt_bind_result(st, binds)) {
            db_conn_fail(c, st, err, errlen);
            goto done;
        }
    }
    rc = 0;
    goto done;
oom:
    set_err(err, errlen, "out of memory reading a result");
done:
    mysql_free_result(meta);
    mysql_stmt_free_result(st);          /* reads and drops what the server still sends */
    if (rc != 0 && !c->lost) mysql_stmt_reset(st);
    for (int j = 0; cols && j < ncols; j++) free(cols[j].buf);
    free(cols);
    free(binds);
    free(names);
    free(cells);
    free(lens);
    return rc;
}

int db_query_each(db_conn *c, const char *sql, const db_val *params, int n, db_row_fn fn, void *ctx,
                  char *err, size_t errlen)
{
    db_call_begin(c, db_stmt_limit_ms(c));
    MYSQL_STMT *st = stmt_run(c, sql, params, n, err, errlen);
    int rc = st ? stream_rows(c, st, fn, ctx, err, errlen) : -1;
    db_call_end(c);
    return rc;
}

double db_cell_double(const db_result *r, int row, int col, bool *is_null)
{
    const char *s = db_cell(r, row, col);
    if (is_null) *is_null = s == NULL;
    return s ? strtod(s, NULL) : 0.0;
}

long long db_cell_int(const db_result *r, int row, int col)
{
    const char *s = db_cell(r, row, col);
    return s ? strtoll(s, NULL, 10) : 0;
}

/* --- plain text statements (migrations, transactions) --- */

static int exec_text_call(db_conn *c, const char *sql, char *err, size_t errlen)
{
    c->last_errno = 0;
    if (db_apply_session(c, err, errlen)) return -1;
    if (mysql_real_query(c->m, sql, (unsigned long)strlen(sql))) {
        db_conn_fail(c, NULL, err, errlen);
        return -1;
    }
    /* Consume whatever result the statement produced. */
    for (;;) {
        MYSQL_RES *res = mysql_store_result(c->m);
        if (res) mysql_free_result(res);
        else if (mysql_field_count(c->m) != 0) {
            db_conn_fail(c, NULL, err, errlen);
            return -1;
        }
        int more = mysql_next_result(c->m);
        if (more > 0) {
            db_conn_fail(c, NULL, err, errlen);
            return -1;
        }
        if (more < 0) break;
    }
    return 0;
}

int db_exec_text(db_conn *c, const char *sql, char *err, size_t errlen)
{
    db_call_begin(c, db_stmt_limit_ms(c));
    int rc = exec_text_call(c, sql, err, errlen);
    db_call_end(c);
    return rc;
}

int db_begin(db_conn *c, char *err, size_t errlen)
{
    if (db_exec_text(c, "START TRANSACTION", err, errlen)) return -1;
    c->in_tx = true;
    return 0;
}

int db_commit(db_conn *c, char *err, size_t errlen)
{
    c->in_tx = false;
    db_call_begin(c, db_stmt_limit_ms(c));
    int failed = mysql_commit(c->m) != 0;
    if (failed) db_conn_fail(c, NULL, err, errlen);
    db_call_end(c);
    return failed ? -1 : 0;
}

int db_rollback(db_conn *c)
{
    c->in_tx = false;
    db_call_begin(c, db_stmt_limit_ms(c));
    int failed = mysql_rollback(c->m) != 0;
    if (failed) db_conn_fail(c, NULL, NULL, 0);
    db_call_end(c);
    return failed ? -1 : 0;
}
