/* db_private: what the files of the MariaDB access layer share and nobody
 * else includes: the insides of a connection, and the calls between them.
 *   db.c        connections, the statement cache, statements and results
 *   db_bulk.c   bulk inserts through array binding
 *   db_url.c    parsing a database URL
 *   db_pool.c   the pool, the watchdog over blocking calls, and the monitor
 *               that tells a silent server from a busy one
 * The public side is db.h (this header repeats its two typedefs so that it
 * stands alone). */
#ifndef FS_DB_PRIVATE_H
#define FS_DB_PRIVATE_H
#include <stdbool.h>
#include <stddef.h>
#include <mysql.h>

typedef struct db_conn db_conn;
typedef struct db_pool db_pool;
struct db_url;

#define DB_WATCH_GRACE_S        2.0   /* past a statement time limit before the watchdog cuts */
#define DB_ER_STATEMENT_TIMEOUT 1969  /* ER_STATEMENT_TIMEOUT: max_statement_time exceeded */

/* Why the watchdog cut a call's socket. */
enum { WATCH_NOT_CUT, WATCH_CUT_LIMIT, WATCH_CUT_SILENT };

typedef struct stmt_entry {
    const char *key;        /* the caller's SQL pointer */
    char *text;             /* a copy, to check a hit */
    MYSQL_STMT *st;
    unsigned long long last_use;
} stmt_entry;

struct db_conn {
    MYSQL *m;
    stmt_entry *stmts;
    int nstmts, capstmts;
    unsigned long long use_clock;
    int last_errno;
    bool lost;
    bool in_tx;
    double timeout_want, timeout_set;   /* max_statement_time */
    db_conn *next_idle;
    db_pool *pool;                      /* the pool it was made for; NULL from db_connect */
    int call_depth;                     /* blocking calls in progress (they nest) */
    /* the watchdog's: guarded by its mutex (db_pool.c) */
    db_conn *watch_prev, *watch_next;   /* in the watched list while a watched call runs */
    long long watch_deadline_ms;        /* monotonic; the hard limit when watch_hard */
    long long call_start_ms;            /* when the call began */
    int watch_silent_ms;                /* the pool's bound on a silent server (0: none) */
    int watch_fd;
    bool watched, watch_hard;
    int watch_fired;                    /* WATCH_*: why the socket was cut */
};

/* --- db.c --- */

/* Connect with the given timeouts (seconds); *mysql_err: the MariaDB error
 * number of a failure (0 when none was given). */
db_conn *db_connect_timed(const struct db_url *u, unsigned connect_timeout, unsigned io_timeout,
                          int *mysql_err, char *err, size_t errlen);
/* Note an error of the connection (or of statement st) in c and err. */
void db_conn_fail(db_conn *c, MYSQL_STMT *st, char *err, size_t errlen);
/* The prepared statement for sql, from the cache or newly prepared. */
MYSQL_STMT *db_stmt_get(db_conn *c, const char *sql, char *err, size_t errlen);
/* Drop one cached statement (after it can no longer be trusted). */
void db_stmt_cache_drop(db_conn *c, const char *sql);
/* Apply a pending max_statement_time change before the next statement. */
int db_apply_session(db_conn *c, char *err, size_t errlen);

/* --- db_pool.c: the watchdog --- */

/* A blocking call on c begins. It is watched when it has a hard limit
 * (limit_ms > 0) or c's pool bounds the wait for a silent server. Calls
 * nest (a bulk of one row is a db_exec): the outermost one is watched. */
void db_call_begin(db_conn *c, long long limit_ms);
/* The call is over: stop watching; a connection that was cut is lost; one
 * that got its answer is news that the server answers. */
void db_call_end(db_conn *c);
/* Why the watchdog cut c's socket (WATCH_*), read under its lock. */
int db_watch_fired(db_conn *c);

/* The hard limit of c's statements: their time limit plus the grace (0: none). */
static inline long long db_stmt_limit_ms(const db_conn *c)
{
    return c->timeout_want > 0 ? (long long)((c->timeout_want + DB_WATCH_GRACE_S) * 1000.0) : 0;
}
#endif
