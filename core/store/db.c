/* db: MariaDB access on Connector/C (see db.h).
 *
 * - Every statement is a server-side prepared statement with bound
 *   parameters. Each connection keeps a cache of its prepared statements,
 *   keyed by the address of the SQL text (a literal that lives as long as the
 *   program); a hit is also checked against a copy of the text, so a caller
 *   that passes a reused buffer gets a fresh prepare, never a wrong statement.
 * - Results are fetched with every column bound as a string, so each cell is
 *   MariaDB's text form of the value (NULL for SQL NULL).
 * - db_exec_bulk sends many rows in one round trip with array binding
 *   (STMT_ATTR_ARRAY_SIZE, column-wise arrays).
 * - A pool hands out up to N connections, made on demand. A connection whose
 *   server went away is marked lost; releasing it closes it (and the idle
 *   ones, which are likely dead too), and a later acquire connects afresh.
 *   An idle connection whose server closed it is noticed when it is taken
 *   from the pool (poll on its socket), so a restart of the server costs no
 *   failed request.
 *   Connecting gives up after DB_CONNECT_TIMEOUT_S, so a request fails fast
 *   while the database is down.
 * - A statement time limit (db_set_statement_timeout) is the server's
 *   max_statement_time, which a statement only notices where it checks for
 *   being killed, and some plans check rarely. So such statements are also
 *   watched here: one watchdog thread shuts down the socket of a statement
 *   still running past the limit plus a grace; the blocked call returns at
 *   once, the connection is dropped as lost, and the failure is reported as
 *   the time limit (ER_STATEMENT_TIMEOUT). A ping is cut the same way after
 *   DB_PING_LIMIT_MS.
 * - A silent server (stopped, frozen, a machine that no longer answers)
 *   answers nothing, and a long statement on a healthy server answers
 *   nothing until it ends: the socket alone cannot tell them apart. So a
 *   watched pool (db_pool_watch) has a monitor thread that pings the server
 *   on a connection of its own every DB_PROBE_EVERY_MS, each ping bounded by
 *   DB_PROBE_LIMIT_MS. Any answer (a ping, a statement of the pool ending, even
 *   a server error) counts. A call on the pool's connections that has waited
 *   the pool's bound while the server gave no answer at all for that long is
 *   cut by the watchdog (reported as CR_SERVER_LOST, the connection dropped),
 *   and while the server stays silent db_acquire fails at once. A long
 *   import or rebuild on a server that answers is never cut. db_pool_check
 *   (health) asks the monitor for a fresh ping and waits a bounded time.
 */
#include "db.h"
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <mysql.h>
#include <errmsg.h>
#include <mysqld_error.h>
#include <poll.h>
#include <pthread.h>
#include <sys/socket.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "log.h"
#include "err.h"
#include "clock.h"

#define DB_CONNECT_TIMEOUT_S   2
#define DB_IO_TIMEOUT_S        600   /* read/write: long rollups still fit */
#define DB_STMT_CACHE_MAX      256   /* per connection; least recently used goes */
#define DB_BULK_CHUNK_BYTES    (4u << 20)  /* a bulk request stays well under max_allowed_packet */
#define DB_CELL_INITIAL        64    /* first buffer size for a fetched cell */
#define DB_WATCH_GRACE_S       2.0   /* past a statement time limit before the watchdog cuts */
#define DB_ER_STATEMENT_TIMEOUT 1969 /* ER_STATEMENT_TIMEOUT: max_statement_time exceeded */
#define DB_PING_LIMIT_MS       1000  /* a ping on a pooled connection is cut after this */
#define DB_PROBE_EVERY_MS      500   /* the monitor pings a watched pool's server this often */
#define DB_PROBE_LIMIT_S       1     /* connect and read timeouts of the monitor's own connection */

/* Why the watchdog cut a call's socket. */
enum { WATCH_NOT_CUT, WATCH_CUT_LIMIT, WATCH_CUT_SILENT };

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

/* --- URL parsing --- */

static int hexval(int ch)
{
    if (ch >= '0' && ch <= '9') return ch - '0';
    if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
    return -1;
}

/* Percent-decode src[0..n) into dst (cap bytes with the NUL). */
static int url_decode(const char *src, size_t n, char *dst, size_t cap, const char *what,
                      char *err, size_t errlen)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        int ch = (unsigned char)src[i];
        if (ch == '%') {
            if (i + 2 >= n) {
                set_err(err, errlen, "database URL: incomplete %%-escape in the %s", what);
                return -1;
            }
            int h = hexval((unsigned char)src[i + 1]), l = hexval((unsigned char)src[i + 2]);
            if (h < 0 || l < 0) {
                set_err(err, errlen, "database URL: bad %%-escape \"%.3s\" in the %s", src + i, what);
                return -1;
            }
            ch = h * 16 + l;
            if (ch == 0) {
                set_err(err, errlen, "database URL: %%00 is not allowed in the %s", what);
                return -1;
            }
            i += 2;
        }
        if (o + 1 >= cap) {
            set_err(err, errlen, "database URL: the %s is too long (at most %zu bytes)", what, cap - 1);
            return -1;
        }
        dst[o++] = (char)ch;
    }
    dst[o] = '\0';
    return 0;
}

int db_parse_url(const char *url, db_url *out, char *err, size_t errlen)
{
    static const char scheme[] = "mariadb://";
    memset(out, 0, sizeof *out);
    if (!url || strncmp(url, scheme, sizeof scheme - 1) != 0) {
        set_err(err, errlen, "database URL must start with mariadb:// "
                "(mariadb://user:pass@host:port/dbname or mariadb://user:pass@localhost/dbname?socket=/path)");
        return -1;
    }
    const char *auth = url + sizeof scheme - 1;
    const char *auth_end = auth + strcspn(auth, "/?#");
    if (*auth_end != '/') {
        set_err(err, errlen, "database URL: the database name is missing (…/dbname after the host)");
        return -1;
    }
    /* user[:pass]@host[:port]; the last '@' ends the user part (an '@' in a
     * password should be written %40, but a bare one still works). */
    const char *at = NULL;
    for (const char *p = auth; p < auth_end; p++)
        if (*p == '@') at = p;
    if (!at) {
        set_err(err, errlen, "database URL: the user is missing (mariadb://user:pass@host/dbname)");
        return -1;
    }
    const char *colon = memchr(auth, ':', (size_t)(at - auth));
    const char *user_end = colon ? colon : at;
    if (user_end == auth) {
        set_err(err, errlen, "database URL: the user is empty");
        return -1;
    }
    if (url_decode(auth, (size_t)(user_end - auth), out->user, sizeof out->user, "user", err, errlen)) return -1;
    if (colon && url_decode(colon + 1, (size_t)(at - colon - 1), out->pass, sizeof out->pass, "password", err, errlen))
        return -1;

    /* host: name, IPv4 or [IPv6], then an optional :port */
    const char *host = at + 1, *host_end, *port_str = NULL;
    if (*host == '[') {
        const char *close = memchr(host, ']', (size_t)(auth_end - host));
        if (!close) {
            set_err(err, errlen, "database URL: the IPv6 host has no closing ']'");
            return -1;
        }
        host_end = close + 1;
        if (host_end < auth_end) {
            if (*host_end != ':') {
                set_err(err, errlen, "database URL: unexpected text after the IPv6 host");
                return -1;
            }
            port_str = host_end + 1;
        }
        host++;                          /* without the brackets */
        if ((size_t)(close - host) >= sizeof out->host || close == host) {
            set_err(err, errlen, "database URL: bad host");
            return -1;
        }
        memcpy(out->host, host, (size_t)(close - host));
    } else {
        const char *pc = memchr(host, ':', (size_t)(auth_end - host));
        host_end = pc ? pc : auth_end;
        if (pc) port_str = pc + 1;
        if (host_end == host) {
            set_err(err, errlen, "database URL: the host is empty");
            return -1;
        }
        if (url_decode(host, (size_t)(host_end - host), out->host, sizeof out->host, "host", err, errlen)) return -1;
    }
    out->port = 3306;
    if (port_str) {
        unsigned long port = 0;
        const char *p = port_str;
        if (p == auth_end) {
            set_err(err, errlen, "database URL: the port after ':' is empty");
            return -1;
        }
        for (; p < auth_end; p++) {
            if (*p < '0' || *p > '9' || port > 65535) break;
            port = port * 10 + (unsigned long)(*p - '0');
        }
        if (p != auth_end || port == 0 || port > 65535) {
            set_err(err, errlen, "database URL: the port must be a number from 1 to 65535");
            return -1;
        }
        out->port = (unsigned)port;
    }

    /* /dbname */
    const char *dbname = auth_end + 1;
    const char *db_end = dbname + strcspn(dbname, "?#");
    if (db_end == dbname) {
        set_err(err, errlen, "database URL: the database name is empty");
        return -1;
    }
    if (url_decode(dbname, (size_t)(db_end - dbname), out->db, sizeof out->db, "database name", err, errlen))
        return -1;
    if (strchr(out->db, '/')) {
        set_err(err, errlen, "database URL: the database name may not contain '/'");
        return -1;
    }

    /* ?socket=/path (the only parameter) */
    if (*db_end == '#') {
        set_err(err, errlen, "database URL: a '#' fragment is not allowed");
        return -1;
    }
    if (*db_end == '?') {
        const char *q = db_end + 1;
        while (*q) {
            const char *amp = q + strcspn(q, "&#");
            if (*amp == '#') {
                set_err(err, errlen, "database URL: a '#' fragment is not allowed");
                return -1;
            }
            const char *eq = memchr(q, '=', (size_t)(amp - q));
            if (eq && (size_t)(eq - q) == 6 && strncmp(q, "socket", 6) == 0) {
                if (url_decode(eq + 1, (size_t)(amp - eq - 1), out->socket, sizeof out->socket, "socket path",
                               err, errlen))
                    return -1;
                if (out->socket[0] != '/') {
                    set_err(err, errlen, "database URL: socket= needs an absolute path");
                    return -1;
                }
            } else {
                set_err(err, errlen, "database URL: unknown parameter \"%.*s\" (only socket=/path is known)",
                        (int)(eq ? eq - q : amp - q), q);
                return -1;
            }
            q = *amp ? amp + 1 : amp;
        }
    }
    return 0;
}

/* --- connections and the statement cache --- */

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
    /* the watchdog's: guarded by watch_mu */
    db_conn *watch_prev, *watch_next;   /* in the watched list while a watched call runs */
    long long watch_deadline_ms;        /* monotonic; the hard limit when watch_hard */
    long long call_start_ms;            /* when the call began */
    int watch_silent_ms;                /* the pool's bound on a silent server (0: none) */
    int watch_fd;
    bool watched, watch_hard;
    int watch_fired;                    /* WATCH_*: why the socket was cut */
};

static pthread_once_t library_once = PTHREAD_ONCE_INIT;
static int library_rc;
static void library_init(void) { library_rc = mysql_library_init(0, NULL, NULL); }

/* Note an error of the connection m (or of statement st) in c and err. */
static int watch_fired(db_conn *c);
static void conn_fail(db_conn *c, MYSQL_STMT *st, char *err, size_t errlen)
{
    int e = st ? (int)mysql_stmt_errno(st) : (int)mysql_errno(c->m);
    const char *msg = st ? mysql_stmt_error(st) : mysql_error(c->m);
    int fired = watch_fired(c);
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

/* Connect with the given timeouts (seconds); *mysql_err: the MariaDB error
 * number of a failure (0 when none was given). */
static db_conn *connect_timed(const db_url *u, unsigned connect_timeout, unsigned io_timeout,
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
    return connect_timed(u, DB_CONNECT_TIMEOUT_S, DB_IO_TIMEOUT_S, NULL, err, errlen);
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

static void call_begin(db_conn *c, long long limit_ms);
static void call_end(db_conn *c);

bool db_ping(db_conn *c)
{
    call_begin(c, DB_PING_LIMIT_MS);
    bool ok = mysql_ping(c->m) == 0;
    if (!ok) {
        c->last_errno = (int)mysql_errno(c->m);
        if (db_errno_is_lost(c->last_errno) || c->last_errno == 0) c->lost = true;
    }
    call_end(c);                         /* a ping cut by the watchdog: lost */
    if (!ok && c->watch_fired) c->last_errno = CR_SERVER_LOST;
    return ok;
}

bool db_conn_lost(const db_conn *c) { return c->lost; }
int db_errno(db_conn *c) { return c->last_errno; }
unsigned long long db_last_insert_id(db_conn *c) { return mysql_insert_id(c->m); }
void db_set_statement_timeout(db_conn *c, double seconds) { c->timeout_want = seconds > 0 ? seconds : 0; }

/* Drop one cached statement (after it can no longer be trusted). */
static void stmt_cache_drop(db_conn *c, const char *sql)
{
    for (int i = 0; i < c->nstmts; i++)
        if (c->stmts[i].key == sql) {
            stmt_entry_free(&c->stmts[i]);
            c->stmts[i] = c->stmts[--c->nstmts];
            return;
        }
}

/* The prepared statement for sql, from the cache or newly prepared. */
static MYSQL_STMT *stmt_get(db_conn *c, const char *sql, char *err, size_t errlen)
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
        conn_fail(c, NULL, err, errlen);
        return NULL;
    }
    if (mysql_stmt_prepare(st, sql, (unsigned long)strlen(sql))) {
        conn_fail(c, st, err, errlen);
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

/* Apply a pending max_statement_time change before the next statement. */
static int apply_session(db_conn *c, char *err, size_t errlen)
{
    if (c->timeout_want == c->timeout_set) return 0;
    static const char sql[] = "SET SESSION max_statement_time = ?";
    MYSQL_STMT *st = stmt_get(c, sql, err, errlen);
    if (!st) return -1;
    double v = c->timeout_want;
    MYSQL_BIND b;
    memset(&b, 0, sizeof b);
    b.buffer_type = MYSQL_TYPE_DOUBLE;
    b.buffer = &v;
    if (mysql_stmt_bind_param(st, &b) || mysql_stmt_execute(st)) {
        conn_fail(c, st, err, errlen);
        return -1;
    }
    c->timeout_set = v;
    return 0;
}

/* --- the watchdog --- */

static pthread_mutex_t watch_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t watch_cond = PTHREAD_COND_INITIALIZER;
static db_conn *watch_list;              /* connections in a watched call */
static pthread_once_t watch_once = PTHREAD_ONCE_INIT;
static bool watch_running;
static long long watch_wake_ms;          /* when the watchdog next looks (monotonic) */

static struct timespec ms_to_timespec(long long ms)
{
    struct timespec t = { .tv_sec = (time_t)(ms / 1000), .tv_nsec = (long)(ms % 1000) * 1000000L };
    return t;
}

/* The monotonic clock ms milliseconds from now. */
static struct timespec mono_after_ms(long long ms) { return ms_to_timespec(clock_ms_whole() + ms); }

/* The pool's figures the watchdog reads (defined with the pool). */
static long long pool_last_answer_ms(db_pool *p);
static int pool_silent_bound_ms(db_pool *p);
static void pool_note_answer(db_pool *p);

static void watch_unlink_locked(db_conn *c)
{
    if (c->watch_prev) c->watch_prev->watch_next = c->watch_next;
    else watch_list = c->watch_next;
    if (c->watch_next) c->watch_next->watch_prev = c->watch_prev;
    c->watch_prev = c->watch_next = NULL;
    c->watched = false;
}

/* When c's call is to be cut, and why (WATCH_*). Called with watch_mu held. */
static long long cut_time_locked(const db_conn *c, int *why)
{
    long long at = LLONG_MAX;
    *why = WATCH_NOT_CUT;
    if (c->watch_hard) {
        at = c->watch_deadline_ms;
        *why = WATCH_CUT_LIMIT;
    }
    if (c->watch_silent_ms > 0) {
        /* the bound runs from the later of the call's start and the server's last answer */
        long long last = pool_last_answer_ms(c->pool);
        long long from = last > c->call_start_ms ? last : c->call_start_ms;
        if (from + c->watch_silent_ms < at) {
            at = from + c->watch_silent_ms;
            *why = WATCH_CUT_SILENT;
        }
    }
    return at;
}

/* Cut the sockets of calls past their limit; sleep until the next one. */
static void *watch_thread(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&watch_mu);
    for (;;) {
        long long now = clock_ms_whole(), wake = now + 1000;
        for (db_conn *c = watch_list, *next; c; c = next) {
            next = c->watch_next;
            int why;
            long long at = cut_time_locked(c, &why);
            if (now >= at) {
                shutdown(c->watch_fd, SHUT_RDWR);   /* the fd stays open: its owner closes it */
                c->watch_fired = why;
                watch_unlink_locked(c);
            } else if (at < wake) {
                wake = at;
            }
        }
        watch_wake_ms = wake;
        struct timespec until = ms_to_timespec(wake);
        pthread_cond_timedwait(&watch_cond, &watch_mu, &until);
    }
    return NULL;
}

static void watch_start(void)
{
    pthread_condattr_t attr;
    pthread_t tid;
    if (pthread_condattr_init(&attr) != 0) return;
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_destroy(&watch_cond);
    pthread_cond_init(&watch_cond, &attr);
    pthread_condattr_destroy(&attr);
    if (pthread_create(&tid, NULL, watch_thread, NULL) == 0) {
        pthread_detach(tid);
        watch_running = true;
    }
}

/* The hard limit of c's statements: their time limit plus the grace (0: none). */
static long long stmt_limit_ms(const db_conn *c)
{
    return c->timeout_want > 0 ? (long long)((c->timeout_want + DB_WATCH_GRACE_S) * 1000.0) : 0;
}

/* A blocking call on c begins. It is watched when it has a hard limit
 * (limit_ms > 0) or c's pool bounds the wait for a silent server. Calls
 * nest (a bulk of one row is a db_exec): the outermost one is watched. */
static void call_begin(db_conn *c, long long limit_ms)
{
    if (c->call_depth++ > 0) return;
    c->watch_fired = WATCH_NOT_CUT;
    int silent_ms = c->pool ? pool_silent_bound_ms(c->pool) : 0;
    if (limit_ms <= 0 && silent_ms <= 0) return;
    pthread_once(&watch_once, watch_start);
    if (!watch_running) return;          /* no thread: the server's limit and the read timeout alone */
    long long now = clock_ms_whole();
    pthread_mutex_lock(&watch_mu);
    c->watch_fd = (int)mysql_get_socket(c->m);
    c->call_start_ms = now;
    c->watch_hard = limit_ms > 0;
    c->watch_deadline_ms = limit_ms > 0 ? now + limit_ms : 0;
    c->watch_silent_ms = silent_ms;
    c->watch_prev = NULL;
    c->watch_next = watch_list;
    if (watch_list) watch_list->watch_prev = c;
    watch_list = c;
    c->watched = true;
    int why;
    if (cut_time_locked(c, &why) < watch_wake_ms) pthread_cond_signal(&watch_cond);
    pthread_mutex_unlock(&watch_mu);
}

/* The call is over: stop watching; a connection that was cut is lost; one
 * that got its answer is news that the server answers. */
static void call_end(db_conn *c)
{
    if (c->call_depth <= 0 || --c->call_depth > 0) return;
    pthread_mutex_lock(&watch_mu);
    if (c->watched) watch_unlink_locked(c);
    if (c->watch_fired) c->lost = true;
    pthread_mutex_unlock(&watch_mu);
    if (!c->lost && c->pool) pool_note_answer(c->pool);
}

static int watch_fired(db_conn *c)
{
    pthread_mutex_lock(&watch_mu);
    int fired = c->watch_fired;
    pthread_mutex_unlock(&watch_mu);
    return fired;
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
    if (apply_session(c, err, errlen)) return NULL;
    for (int attempt = 0; attempt < 2; attempt++) {
        MYSQL_STMT *st = stmt_get(c, sql, err, errlen);
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
            stmt_cache_drop(c, sql);
            continue;
        }
        conn_fail(c, st, err, errlen);
        if (!c->lost) mysql_stmt_reset(st);
        return NULL;
    }
    return NULL;
}

int db_exec(db_conn *c, const char *sql, const db_val *params, int n,
            unsigned long long *affected, char *err, size_t errlen)
{
    call_begin(c, stmt_limit_ms(c));
    MYSQL_STMT *st = stmt_run(c, sql, params, n, err, errlen);
    if (st) {
        if (affected) {
            my_ulonglong a = mysql_stmt_affected_rows(st);
            *affected = a == (my_ulonglong)-1 ? 0 : a;
        }
        if (mysql_stmt_field_count(st) > 0) mysql_stmt_free_result(st);   /* a SELECT run for effect */
    }
    call_end(c);
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
            conn_fail(c, st, err, errlen);
            goto done;
        }
        *out = r;                         /* not a SELECT: no columns, no rows */
        blk = NULL;
        return 0;
    }
    int ncols = (int)mysql_num_fields(meta);
    MYSQL_FIELD *fields = mysql_fetch_fields(meta);
    if (mysql_stmt_store_result(st)) {
        conn_fail(c, st, err, errlen);
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
        conn_fail(c, st, err, errlen);
        goto done;
    }
    size_t cell = 0;
    for (;;) {
        int f = mysql_stmt_fetch(st);
        if (f == MYSQL_NO_DATA) break;
        if (f == 1) {
            free(name_offs);
            conn_fail(c, st, err, errlen);
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
                    conn_fail(c, st, err, errlen);
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
            conn_fail(c, st, err, errlen);
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
    call_begin(c, stmt_limit_ms(c));
    MYSQL_STMT *st = stmt_run(c, sql, params, n, err, errlen);
    int rc = st ? fetch_rows(c, st, out, err, errlen) : -1;
    call_end(c);
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
    if (apply_session(c, err, errlen)) return -1;
    if (mysql_real_query(c->m, sql, (unsigned long)strlen(sql))) {
        conn_fail(c, NULL, err, errlen);
        return -1;
    }
    /* Consume whatever result the statement produced. */
    for (;;) {
        MYSQL_RES *res = mysql_store_result(c->m);
        if (res) mysql_free_result(res);
        else if (mysql_field_count(c->m) != 0) {
            conn_fail(c, NULL, err, errlen);
            return -1;
        }
        int more = mysql_next_result(c->m);
        if (more > 0) {
            conn_fail(c, NULL, err, errlen);
            return -1;
        }
        if (more < 0) break;
    }
    return 0;
}

int db_exec_text(db_conn *c, const char *sql, char *err, size_t errlen)
{
    call_begin(c, stmt_limit_ms(c));
    int rc = exec_text_call(c, sql, err, errlen);
    call_end(c);
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
    call_begin(c, stmt_limit_ms(c));
    int failed = mysql_commit(c->m) != 0;
    if (failed) conn_fail(c, NULL, err, errlen);
    call_end(c);
    return failed ? -1 : 0;
}

int db_rollback(db_conn *c)
{
    c->in_tx = false;
    call_begin(c, stmt_limit_ms(c));
    int failed = mysql_rollback(c->m) != 0;
    if (failed) conn_fail(c, NULL, NULL, 0);
    call_end(c);
    return failed ? -1 : 0;
}

/* --- bulk --- */

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
    if (apply_session(c, err, errlen)) return -1;
    MYSQL_STMT *st = stmt_get(c, sql, err, errlen);
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
        conn_fail(c, st, err, errlen);
        goto done;
    }
    int failed = mysql_stmt_bind_param(st, binds) || mysql_stmt_execute(st);
    if (failed) conn_fail(c, st, err, errlen);
    else if (affected) {
        my_ulonglong a = mysql_stmt_affected_rows(st);
        *affected = a == (my_ulonglong)-1 ? 0 : a;
    }
    /* Back to single-row use for the cached statement. */
    if (mysql_stmt_attr_set(st, STMT_ATTR_ARRAY_SIZE, &no_array) && !failed) {
        conn_fail(c, st, err, errlen);
        failed = 1;
    }
    if (failed && !c->lost) {
        mysql_stmt_reset(st);
        /* A failed bulk leaves nothing we rely on in the statement: prepare anew next time. */
        stmt_cache_drop(c, sql);
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
    call_begin(c, stmt_limit_ms(c));
    int rc = bulk_chunk_call(c, sql, vals, ncols, rows, row_base, affected, err, errlen);
    call_end(c);
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

/* --- pool --- */

/* Whether the server closed an idle connection (killed, restarted, or its
 * wait_timeout): an idle connection has nothing to read, so anything
 * readable is the end of it. A syscall, no round trip, never blocks (a ping
 * would block on a frozen server). */
static bool idle_conn_closed(db_conn *c)
{
    my_socket fd = mysql_get_socket(c->m);
    if ((int)fd < 0) return true;
    struct pollfd pf = { .fd = (int)fd, .events = POLLIN };
    int n;
    while ((n = poll(&pf, 1, 0)) < 0 && errno == EINTR) {}
    return n != 0;
}

struct db_pool {
    db_url url;
    int size;
    pthread_mutex_t mu;
    pthread_cond_t freed;
    db_conn *idle;          /* a stack of idle connections */
    int open;               /* connections that exist: idle + in use */
    int in_use;
    long long waits, errors;
    /* watching for a silent server (db_pool_watch); silent_ms is set before
     * the monitor starts and never changes after */
    int silent_ms;          /* 0: not watched */
    long long last_answer_ms;   /* monotonic; atomic: the server's last sign of life */
    /* the monitor and its probe: guarded by probe_mu */
    pthread_mutex_t probe_mu;
    pthread_cond_t probe_done;  /* a probe ended (probe_gen moved on) */
    pthread_cond_t probe_wake;  /* the monitor: a probe is wanted, or stop */
    db_conn *probe;             /* the monitor's own connection */
    bool probe_running, probe_wanted, probe_ok;
    unsigned long long probe_gen;   /* probes finished */
    char probe_err[256];
    pthread_t monitor;
    bool monitor_running, monitor_stop;
    bool silent;                /* the monitor reported the server silent */
};

static long long pool_last_answer_ms(db_pool *p) { return __atomic_load_n(&p->last_answer_ms, __ATOMIC_ACQUIRE); }
static int pool_silent_bound_ms(db_pool *p) { return __atomic_load_n(&p->silent_ms, __ATOMIC_ACQUIRE); }

static void pool_note_answer(db_pool *p)
{
    if (!pool_silent_bound_ms(p)) return;
    long long now = clock_ms_whole();
    long long seen = pool_last_answer_ms(p);
    while (seen < now && !__atomic_compare_exchange_n(&p->last_answer_ms, &seen, now, false,
                                                      __ATOMIC_RELEASE, __ATOMIC_ACQUIRE)) {}
}

/* How long a watched pool's server has given no answer, when that is past
 * its bound; 0 while it answers (or the pool is not watched). */
static long long pool_silent_for_ms(db_pool *p)
{
    int bound = pool_silent_bound_ms(p);
    if (bound <= 0) return 0;
    long long quiet = clock_ms_whole() - pool_last_answer_ms(p);
    return quiet >= bound ? quiet : 0;
}

db_pool *db_pool_new(const db_url *u, int size)
{
    db_pool *p = calloc(1, sizeof *p);
    if (!p) return NULL;
    p->url = *u;
    p->size = size > 0 ? size : 1;
    pthread_condattr_t ca;
    if (pthread_condattr_init(&ca)) {
        free(p);
        return NULL;
    }
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    int made = 0;                   /* how many of the five below exist */
    if (pthread_mutex_init(&p->mu, NULL) == 0) made++;
    if (made == 1 && pthread_cond_init(&p->freed, &ca) == 0) made++;
    if (made == 2 && pthread_mutex_init(&p->probe_mu, NULL) == 0) made++;
    if (made == 3 && pthread_cond_init(&p->probe_done, &ca) == 0) made++;
    if (made == 4 && pthread_cond_init(&p->probe_wake, &ca) == 0) made++;
    pthread_condattr_destroy(&ca);
    if (made < 5) {
        if (made > 3) pthread_cond_destroy(&p->probe_done);
        if (made > 2) pthread_mutex_destroy(&p->probe_mu);
        if (made > 1) pthread_cond_destroy(&p->freed);
        if (made > 0) pthread_mutex_destroy(&p->mu);
        free(p);
        return NULL;
    }
    return p;
}

void db_pool_free(db_pool *p)
{
    if (!p) return;
    if (p->monitor_running) {
        pthread_mutex_lock(&p->probe_mu);
        p->monitor_stop = true;
        pthread_cond_broadcast(&p->probe_wake);
        pthread_mutex_unlock(&p->probe_mu);
        pthread_join(p->monitor, NULL);
    }
    db_close(p->probe);
    while (p->idle) {
        db_conn *c = p->idle;
        p->idle = c->next_idle;
        db_close(c);
    }
    pthread_cond_destroy(&p->probe_wake);
    pthread_cond_destroy(&p->probe_done);
    pthread_mutex_destroy(&p->probe_mu);
    pthread_cond_destroy(&p->freed);
    pthread_mutex_destroy(&p->mu);
    free(p);
}

/* --- the monitor: is the server answering? --- */

/* One ping of the server on the probe connection (connecting first when
 * there is none), bounded by DB_PROBE_LIMIT_S: the probe_running holder only. */
static bool probe_once(db_pool *p, db_conn **conn, char *err, size_t errlen)
{
    db_conn *c = *conn;
    bool answered = false, ok = false;
    if (c && idle_conn_closed(c)) {      /* the server closed it (restart, wait_timeout) */
        db_close(c);
        c = NULL;
    }
    if (!c) {
        int e = 0;
        c = connect_timed(&p->url, DB_PROBE_LIMIT_S, DB_PROBE_LIMIT_S, &e, err, errlen);
        /* an error of the server's own (too many connections, access denied)
         * is an answer: the server is there, though the probe cannot use it */
        if (!c) answered = e > 0 && e < 2000;
    }
    if (c) {
        if (mysql_ping(c->m) == 0) {
            answered = ok = true;
        } else {
            int e = (int)mysql_errno(c->m);
            answered = e > 0 && e < 2000;
            set_err(err, errlen, "the database does not answer a ping: %s (%d)", mysql_error(c->m), e);
            if (!answered) {
                db_close(c);
                c = NULL;
            }
        }
    }
    if (answered) {
        long long now = clock_ms_whole(), seen = pool_last_answer_ms(p);
        while (seen < now && !__atomic_compare_exchange_n(&p->last_answer_ms, &seen, now, false,
                                                          __ATOMIC_RELEASE, __ATOMIC_ACQUIRE)) {}
    }
    *conn = c;
    return ok;
}

/* Run one probe, with probe_mu held on entry and on return (released while
 * the probe waits on the server). */
static void probe_run_locked(db_pool *p)
{
    p->probe_running = true;
    p->probe_wanted = false;
    db_conn *c = p->probe;
    p->probe = NULL;
    pthread_mutex_unlock(&p->probe_mu);
    char err[256] = "";
    bool ok = probe_once(p, &c, err, sizeof err);
    pthread_mutex_lock(&p->probe_mu);
    p->probe = c;
    p->probe_ok = ok;
    snprintf(p->probe_err, sizeof p->probe_err, "%s", ok ? "" : err);
    p->probe_running = false;
    p->probe_gen++;
    pthread_cond_broadcast(&p->probe_done);
}

/* Log when the server goes silent past the bound and when it answers
 * again; wake acquire waiters so that they fail at once. */
static void monitor_note_state(db_pool *p)
{
    long long silent_for = pool_silent_for_ms(p);
    if (silent_for > 0 && !p->silent) {
        p->silent = true;
        log_warn("db", "the database has given no answer for %lld ms (stalled or unreachable): "
                 "requests fail with 503 until it answers", silent_for);
        pthread_mutex_lock(&p->mu);
        pthread_cond_broadcast(&p->freed);
        pthread_mutex_unlock(&p->mu);
    } else if (silent_for == 0 && p->silent) {
        p->silent = false;
        log_info("db", "the database answers again");
    }
}

static void *monitor_main(void *arg)
{
    db_pool *p = arg;
    pthread_mutex_lock(&p->probe_mu);
    while (!p->monitor_stop) {
        probe_run_locked(p);
        pthread_mutex_unlock(&p->probe_mu);
        monitor_note_state(p);
        pthread_mutex_lock(&p->probe_mu);
        struct timespec next = mono_after_ms(DB_PROBE_EVERY_MS);
        while (!p->monitor_stop && !p->probe_wanted)
            if (pthread_cond_timedwait(&p->probe_wake, &p->probe_mu, &next) == ETIMEDOUT) break;
    }
    pthread_mutex_unlock(&p->probe_mu);
    return NULL;
}

int db_pool_watch(db_pool *p, int silent_ms, char *err, size_t errlen)
{
    if (silent_ms <= 0 || p->monitor_running) return 0;
    __atomic_store_n(&p->last_answer_ms, clock_ms_whole(), __ATOMIC_RELEASE);
    __atomic_store_n(&p->silent_ms, silent_ms, __ATOMIC_RELEASE);
    if (pthread_create(&p->monitor, NULL, monitor_main, p) != 0) {
        __atomic_store_n(&p->silent_ms, 0, __ATOMIC_RELEASE);   /* without a monitor, no silence is seen */
        set_err(err, errlen, "cannot start the database monitor thread");
        return -1;
    }
    p->monitor_running = true;
    return 0;
}

bool db_pool_check(db_pool *p, int wait_ms, char *err, size_t errlen)
{
    pthread_mutex_lock(&p->probe_mu);
    if (!p->monitor_running) {               /* no monitor: probe here */
        while (p->probe_running) pthread_cond_wait(&p->probe_done, &p->probe_mu);
        probe_run_locked(p);
    } else {
        /* a probe that starts after this call: the one running may predate
         * what the caller wants to know */
        unsigned long long want = p->probe_gen + (p->probe_running ? 2 : 1);
        p->probe_wanted = true;
        pthread_cond_signal(&p->probe_wake);
        struct timespec until = mono_after_ms(wait_ms < 0 ? 0 : wait_ms);
        while (p->probe_gen < want)
            if (pthread_cond_timedwait(&p->probe_done, &p->probe_mu, &until) == ETIMEDOUT) break;
        if (p->probe_gen < want) {
            pthread_mutex_unlock(&p->probe_mu);
            set_err(err, errlen, "the database gave no answer within %d ms", wait_ms);
            return false;
        }
    }
    bool ok = p->probe_ok;
    if (!ok) set_err(err, errlen, "%s", p->probe_err[0] ? p->probe_err : "the database does not answer");
    pthread_mutex_unlock(&p->probe_mu);
    return ok;
}

/* --- handing out connections --- */

/* Take the idle connections out (under the lock) to close them outside it. */
static db_conn *pool_take_idle(db_pool *p)
{
    db_conn *all = p->idle;
    for (db_conn *c = all; c; c = c->next_idle) p->open--;
    p->idle = NULL;
    return all;
}

static void close_list(db_conn *c)
{
    while (c) {
        db_conn *next = c->next_idle;
        db_close(c);
        c = next;
    }
}

db_conn *db_acquire(db_pool *p, int timeout_ms, char *err, size_t errlen)
{
    /* a watched pool waits for a busy connection no longer than its bound */
    int bound = pool_silent_bound_ms(p);
    if (timeout_ms < 0) timeout_ms = 0;
    if (bound > 0 && timeout_ms > bound) timeout_ms = bound;
    struct timespec deadline = mono_after_ms(timeout_ms);
    bool waited = false;
    pthread_mutex_lock(&p->mu);
    for (;;) {
        long long silent_for = pool_silent_for_ms(p);
        if (silent_for > 0) {                /* fail fast: it would only wait */
            p->errors++;
            pthread_mutex_unlock(&p->mu);
            set_err(err, errlen, "the database has given no answer for %lld s (stalled or unreachable); "
                    "try again shortly", (silent_for + 500) / 1000);
            return NULL;
        }
        if (p->idle) {
            db_conn *c = p->idle;
            p->idle = c->next_idle;
            c->next_idle = NULL;
            p->in_use++;
            pthread_mutex_unlock(&p->mu);
            if (idle_conn_closed(c)) {      /* its server went away meanwhile */
                pthread_mutex_lock(&p->mu);
                p->in_use--;
                p->open--;
                db_conn *stale = pool_take_idle(p);
                pthread_mutex_unlock(&p->mu);
                db_close(c);
                close_list(stale);
                pthread_mutex_lock(&p->mu);
                continue;                 /* connect afresh below */
            }
            c->timeout_want = 0;
            c->last_errno = 0;
            return c;
        }
        if (p->open < p->size) {
            p->open++;
            p->in_use++;
            pthread_mutex_unlock(&p->mu);
            db_conn *c = db_connect(&p->url, err, errlen);
            if (c) {
                c->pool = p;
                pool_note_answer(p);
                return c;
            }
            pthread_mutex_lock(&p->mu);
            p->open--;
            p->in_use--;
            p->errors++;
            pthread_cond_signal(&p->freed);
            pthread_mutex_unlock(&p->mu);
            return NULL;
        }
        if (!waited) {
            p->waits++;
            waited = true;
        }
        int w = pthread_cond_timedwait(&p->freed, &p->mu, &deadline);
        if (w == ETIMEDOUT && !p->idle && p->open >= p->size) {
            p->errors++;
            pthread_mutex_unlock(&p->mu);
            set_err(err, errlen, "all %d database connections stayed busy for %d ms", p->size, timeout_ms);
            return NULL;
        }
    }
}

void db_release(db_pool *p, db_conn *c)
{
    if (!c) return;
    if (c->in_tx && !c->lost) db_rollback(c);   /* never hand on an open transaction */
    if (c->lost) {
        pthread_mutex_lock(&p->mu);
        p->in_use--;
        p->open--;
        p->errors++;
        db_conn *stale = pool_take_idle(p);   /* the same server: likely gone too */
        pthread_cond_broadcast(&p->freed);
        pthread_mutex_unlock(&p->mu);
        db_close(c);
        close_list(stale);
        return;
    }
    pthread_mutex_lock(&p->mu);
    c->next_idle = p->idle;
    p->idle = c;
    p->in_use--;
    pthread_cond_signal(&p->freed);
    pthread_mutex_unlock(&p->mu);
}

void db_pool_stats(db_pool *p, int *size, int *in_use, long long *waits, long long *errors)
{
    pthread_mutex_lock(&p->mu);
    if (size) *size = p->size;
    if (in_use) *in_use = p->in_use;
    if (waits) *waits = p->waits;
    if (errors) *errors = p->errors;
    pthread_mutex_unlock(&p->mu);
}

/* --- errors worth a retry --- */

bool db_errno_is_retryable(int e)
{
    return e == 1213 /* ER_LOCK_DEADLOCK: the transaction was rolled back */
        || e == 1205 /* ER_LOCK_WAIT_TIMEOUT: the statement was rolled back */;
}
