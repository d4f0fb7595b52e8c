/* db: MariaDB access for the whole server. A pool of connections; every
 * statement prepared with bound parameters (prepared statements are cached per
 * connection); results fetched as text cells. No MYSQL* leaves this file's
 * callers' hands except through db_conn. */
#ifndef FS_DB_H
#define FS_DB_H
#include <stddef.h>
#include <stdbool.h>
#include <string.h>

typedef struct db_conn db_conn;
typedef struct db_pool db_pool;

/* A bound parameter. Build with the DB_* macros. */
enum db_type { DB_T_NULL, DB_T_INT, DB_T_DOUBLE, DB_T_STR };
typedef struct db_val {
    enum db_type type;
    long long i;
    double d;
    const char *s;
    unsigned long len;
} db_val;
#define DB_NULL        ((db_val){.type = DB_T_NULL})
#define DB_INT(x)      ((db_val){.type = DB_T_INT, .i = (long long)(x)})
#define DB_DBL(x)      ((db_val){.type = DB_T_DOUBLE, .d = (double)(x)})
#define DB_STR(x)      ((db_val){.type = (x) ? DB_T_STR : DB_T_NULL, .s = (x), .len = (x) ? (unsigned long)strlen(x) : 0})
#define DB_STRN(x, n)  ((db_val){.type = DB_T_STR, .s = (x), .len = (unsigned long)(n)})

/* A fetched result: nrows x ncols text cells; a NULL cell is SQL NULL. */
typedef struct db_result {
    int nrows, ncols;
    char **cells;          /* cells[r * ncols + c] */
    unsigned long *lens;
    char **names;          /* column names */
} db_result;

/* Parsed database URL (mariadb://user:pass@host:port/db?socket=/path). */
typedef struct db_url {
    char user[128], pass[256], host[256], db[128], socket[512];
    unsigned port;
} db_url;
int db_parse_url(const char *url, db_url *out, char *err, size_t errlen);

/* Connections. */
db_conn *db_connect(const db_url *u, char *err, size_t errlen);
void db_close(db_conn *c);
/* A ping, cut after a second when the server does not answer (then lost). */
bool db_ping(db_conn *c);

/* Pool: up to size connections made on demand, reconnecting after a loss. */
db_pool *db_pool_new(const db_url *u, int size);
/* Every connection must have been released first. */
void db_pool_free(db_pool *p);
/* Waits up to timeout_ms for a free connection; NULL with err on failure
 * (database down: fails fast). */
db_conn *db_acquire(db_pool *p, int timeout_ms, char *err, size_t errlen);
/* A connection now, never waiting, and only when taking it leaves at least
 * reserve of the pool's connections free (idle, or not yet made) for
 * others: for extra hands that a request can do without (the KPI engine's
 * workers). NULL with err otherwise. */
db_conn *db_acquire_spare(db_pool *p, int reserve, char *err, size_t errlen);
/* Whether the holder of a spare may keep it for more work: nobody is waiting
 * in db_acquire on the pool, and at least reserve connections are free. */
bool db_pool_spare_keep(db_pool *p, int reserve);
void db_release(db_pool *p, db_conn *c);
/* Watch the pool's server: a monitor thread pings it on a connection of its
 * own every half second (each ping bounded by a second). While the server
 * gives no answer at all (no ping, no statement of the pool ending) for
 * silent_ms, a call on a connection of the pool that has waited that long is
 * cut (it fails with CR_SERVER_LOST, 2013, and the connection is dropped)
 * and db_acquire fails at once; a busy pool is also waited for no longer
 * than silent_ms. A long statement on a server that answers is never cut.
 * Call once, before the pool is used; 0, or -1 with err (no thread). */
int db_pool_watch(db_pool *p, int silent_ms, char *err, size_t errlen);
/* Whether the server answers a ping now: a probe that starts after this
 * call, on the pool's own probe connection (never a pooled one, so a busy
 * pool does not delay it), waited for at most wait_ms on a watched pool.
 * false with err when it does not answer. */
bool db_pool_check(db_pool *p, int wait_ms, char *err, size_t errlen);
/* Pool figures for /metrics. */
void db_pool_stats(db_pool *p, int *size, int *in_use, long long *waits, long long *errors);

/* Statements. Return 0 on success, -1 with err filled ("MariaDB message (errno)").
 * The sql text must be a string that lives as long as the program (a literal
 * or an interned string): it keys the per-connection statement cache. */
int db_exec(db_conn *c, const char *sql, const db_val *params, int n,
            unsigned long long *affected, char *err, size_t errlen);
int db_query(db_conn *c, const char *sql, const db_val *params, int n,
             db_result **out, char *err, size_t errlen);
/* Run a statement with no cache (for one-off texts such as migrations); no params. */
int db_exec_text(db_conn *c, const char *sql, char *err, size_t errlen);
unsigned long long db_last_insert_id(db_conn *c);
int db_errno(db_conn *c);    /* MariaDB error number of the last failure, 0 if none */
/* The session's max_statement_time for the statements that follow (0 = none),
 * applied lazily before the next statement; every db_acquire resets it to 0.
 * A statement over the limit fails with MariaDB error 1969. */
void db_set_statement_timeout(db_conn *c, double seconds);
/* True once the connection was found lost (server gone, killed, restarted);
 * db_release then closes it and the pool reconnects on a later acquire. */
bool db_conn_lost(const db_conn *c);
/* True for the MariaDB error numbers that mean the connection is gone. */
bool db_errno_is_lost(int err);

/* A row of a streamed result: ncols cells as text (NULL for SQL NULL,
 * NUL-terminated, lens[j] bytes), valid only during the callback. */
typedef struct db_stream_row {
    int ncols;
    const char *const *names;      /* the column names */
    const char *const *cells;
    const unsigned long *lens;
    long long index;               /* 0 for the first row */
} db_stream_row;
/* Return 0 to go on, non-zero to stop (db_query_each then returns it). */
typedef int (*db_row_fn)(void *ctx, const db_stream_row *row);
/* Run a SELECT and hand each row to fn as it comes from the server, never
 * storing the result (memory flat whatever the row count; the connection
 * is busy until it returns). 0 when every row was read, -1 with err, or
 * fn's non-zero answer when it stopped. */
int db_query_each(db_conn *c, const char *sql, const db_val *params, int n, db_row_fn fn, void *ctx,
                  char *err, size_t errlen);

void db_result_free(db_result *r);
static inline const char *db_cell(const db_result *r, int row, int col) { return r->cells[row * r->ncols + col]; }
double db_cell_double(const db_result *r, int row, int col, bool *is_null);
long long db_cell_int(const db_result *r, int row, int col);

int db_begin(db_conn *c, char *err, size_t errlen);
int db_commit(db_conn *c, char *err, size_t errlen);
int db_rollback(db_conn *c);

/* Bulk insert through array binding: rows x ncols values, row-major. Every
 * non-NULL value of one column must have the same type. affected follows
 * MariaDB's rule (no CLIENT_FOUND_ROWS): 1 per inserted row, 2 per row changed
 * by ON DUPLICATE KEY UPDATE, 0 per duplicate left unchanged. A batch over
 * a few MB goes to the server in several requests: inside a transaction
 * (db_begin) it is still all or nothing. */
int db_exec_bulk(db_conn *c, const char *sql, const db_val *vals, int ncols, int rows,
                 unsigned long long *affected, char *err, size_t errlen);
/* True for the MariaDB error numbers of a lost lock conflict (deadlock, lock
 * wait timeout): the transaction did nothing wrong and may be run again from
 * its start, after a rollback. */
bool db_errno_is_retryable(int err);
#endif
