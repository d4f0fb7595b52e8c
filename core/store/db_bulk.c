/* db_bulk: db_exec_bulk (see db.h), many rows in one round trip through
 * array binding (STMT_ATTR_ARRAY_SIZE, column-wise arrays). A batch goes to
 * the server in requests of at most DB_BULK_CHUNK_BYTES, each one watched
 * call of its own (db_pool.c). Part of the MariaDB access layer of
 * core/store/ (db.c holds the connections and the statement cache). */
#include "db.h"
#include "db_private.h"
#include <mysql.h>
#include <errmsg.h>
#include <stdlib.h>
#include "err.h"

#define DB_BULK_CHUNK_BYTES    (4u << 20)  /* a bulk request stays well under max_allowed_packet */

/* Column-wise arrays for one bulk execution. */
typedef struct bulk_col {
    enum db_type type;                 /* of the column's non-NULL values */
    long long *ints;
    double *dbls;
    char **strs;
    unsigned long *lens;
    char *ind;
} bulk_col;

/* One bulk request for rows (row_base: the index of its first row, for messages). */
static int bulk_chunk_call(db_conn *c, const char *sql, const db_val *vals, int ncols, int rows, int row_base,
                      unsigned long long *affected, char *err, size_t errlen)
{
    if (affected) *affected = 0;
    if (rows == 1) return db_exec(c, sql, vals, ncols, affected, err, errlen);
    c->last_errno = 0;
    if (db_apply_session(c, err, errlen)) return -1;
    MYSQL_STMT *st = db_stmt_get(c, sql, err, errlen);
    if (!st) return -1;
    if (mysql_stmt_param_count(st) != (unsigned long)ncols) {
        c->last_errno = CR_PARAMS_NOT_BOUND;
        set_err(err, errlen, "the statement has %lu parameters but rows have %d values",
                mysql_stmt_param_count(st), ncols);
        return -1;
    }
    int rc = -1;
    bulk_col *cols = calloc((size_t)ncols, sizeof *cols);
    MYSQL_BIND *binds = calloc((size_t)ncols, sizeof *binds);
    if (!cols || !binds) goto oom;
    for (int j = 0; j < ncols; j++) {
        bulk_col *bc = &cols[j];
        bc->type = DB_T_NULL;
        for (int r = 0; r < rows; r++) {
            enum db_type t = vals[(size_t)r * (size_t)ncols + (size_t)j].type;
            if (t == DB_T_NULL) continue;
            if (bc->type == DB_T_NULL) bc->type = t;
            else if (bc->type != t) {
                set_err(err, errlen, "bulk column %d mixes value types (row %d)", j + 1, row_base + r + 1);
                goto done;
            }
        }
        if (!(bc->ind = malloc((size_t)rows))) goto oom;
        MYSQL_BIND *b = &binds[j];
        b->u.indicator = bc->ind;
        switch (bc->type) {
        case DB_T_INT:
            if (!(bc->ints = malloc((size_t)rows * sizeof *bc->ints))) goto oom;
            b->buffer_type = MYSQL_TYPE_LONGLONG;
            b->buffer = bc->ints;
            break;
        case DB_T_DOUBLE:
            if (!(bc->dbls = malloc((size_t)rows * sizeof *bc->dbls))) goto oom;
            b->buffer_type = MYSQL_TYPE_DOUBLE;
            b->buffer = bc->dbls;
            break;
        default:                          /* strings, or a column of NULLs */
            if (!(bc->strs = malloc((size_t)rows * sizeof *bc->strs))) goto oom;
            if (!(bc->lens = malloc((size_t)rows * sizeof *bc->lens))) goto oom;
            b->buffer_type = MYSQL_TYPE_STRING;
            b->buffer = bc->strs;
            b->length = bc->lens;
            break;
        }
        for (int r = 0; r < rows; r++) {
            const db_val *v = &vals[(size_t)r * (size_t)ncols + (size_t)j];
            bool null = v->type == DB_T_NULL || (v->type == DB_T_STR && !v->s);
            bc->ind[r] = null ? STMT_INDICATOR_NULL : STMT_INDICATOR_NONE;
            if (bc->ints) bc->ints[r] = null ? 0 : v->i;
            else if (bc->dbls) bc->dbls[r] = null ? 0 : v->d;
            else {
                bc->strs[r] = null ? (char *)"" : (char *)v->s;
                bc->lens[r] = null ? 0 : v->len;
            }
        }
    }
    unsigned int array_size = (unsigned int)rows, no_array = 0;
    if (mysql_stmt_attr_set(st, STMT_ATTR_ARRAY_SIZE, &array_size)) {
        db_conn_fail(c, st, err, errlen);
        goto done;
    }
    int failed = mysql_stmt_bind_param(st, binds) || mysql_stmt_execute(st);
    if (failed) db_conn_fail(c, st, err, errlen);
    else if (affected) {
        my_ulonglong a = mysql_stmt_affected_rows(st);
        *affected = a == (my_ulonglong)-1 ? 0 : a;
    }
    /* Back to single-row use for the cached statement. */
    if (mysql_stmt_attr_set(st, STMT_ATTR_ARRAY_SIZE, &no_array) && !failed) {
        db_conn_fail(c, st, err, errlen);
        failed = 1;
    }
    if (failed && !c->lost) {
        mysql_stmt_reset(st);
        /* A failed bulk leaves nothing we rely on in the statement: prepare anew next time. */
        db_stmt_cache_drop(c, sql);
    }
    rc = failed ? -1 : 0;
    goto done;
oom:
    set_err(err, errlen, "out of memory building a bulk statement");
done:
    for (int j = 0; cols && j < ncols; j++) {
        free(cols[j].ints);
        free(cols[j].dbls);
        free(cols[j].strs);
        free(cols[j].lens);
        free(cols[j].ind);
    }
    free(cols);
    free(binds);
    return rc;
}

/* One bulk request is one watched call (MariaDB's limit is per statement). */
static int bulk_chunk(db_conn *c, const char *sql, const db_val *vals, int ncols, int rows, int row_base,
                      unsigned long long *affected, char *err, size_t errlen)
{
    db_call_begin(c, db_stmt_limit_ms(c));
    int rc = bulk_chunk_call(c, sql, vals, ncols, rows, row_base, affected, err, errlen);
    db_call_end(c);
    return rc;
}

int db_exec_bulk(db_conn *c, const char *sql, const db_val *vals, int ncols, int rows,
                 unsigned long long *affected, char *err, size_t errlen)
{
    if (affected) *affected = 0;
    if (rows == 0) return 0;
    if (ncols <= 0 || rows < 0 || !vals) {
        set_err(err, errlen, "bad bulk shape (%d columns, %d rows)", ncols, rows);
        return -1;
    }
    /* Requests of at most DB_BULK_CHUNK_BYTES (roughly: the values plus a
     * few bytes each), so any batch size fits the server's packet limit. */
    int start = 0;
    size_t bytes = 0;
    for (int r = 0; r <= rows; r++) {
        size_t row_bytes = 0;
        if (r < rows)
            for (int j = 0; j < ncols; j++) {
                const db_val *v = &vals[(size_t)r * (size_t)ncols + (size_t)j];
                row_bytes += 10 + (v->type == DB_T_STR ? v->len : 0);
            }
        if (r == rows || (r > start && bytes + row_bytes > DB_BULK_CHUNK_BYTES)) {
            unsigned long long part = 0;
            if (bulk_chunk(c, sql, vals + (size_t)start * (size_t)ncols, ncols, r - start, start, &part, err, errlen))
                return -1;
            if (affected) *affected += part;
            start = r;
            bytes = 0;
        }
        bytes += row_bytes;
    }
    return 0;
}
