/* test_db: core/store/db.c against a real private MariaDB (tests/unit/testdb.h):
 * URL parsing, prepared statements with every parameter type and NULLs,
 * the statement cache, results, transactions, bulk inserts (and their
 * speed), statement timeouts, the pool under threads, and the pool's
 * recovery after the server is killed and started again. */
#include <pthread.h>
#include <signal.h>
#include <unistd.h>
#include <time.h>
#include "app.h"
#include "check.h"
#include "testdb.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* --- URL parsing --- */

static void test_url(void)
{
    db_url u;
    char err[512];
    CHECK_INT(db_parse_url("mariadb://fs:secret@db.example.com:3307/fourscore", &u, err, sizeof err), 0, "url: tcp with port");
    CHECK_STR(u.user, "fs", "url: user");
    CHECK_STR(u.pass, "secret", "url: password");
    CHECK_STR(u.host, "db.example.com", "url: host");
    CHECK_INT(u.port, 3307, "url: port");
    CHECK_STR(u.db, "fourscore", "url: database");
    CHECK_STR(u.socket, "", "url: no socket");

    CHECK_INT(db_parse_url("mariadb://fs:pw@10.0.0.5/reports", &u, err, sizeof err), 0, "url: default port");
    CHECK_INT(u.port, 3306, "url: default port is 3306");

    CHECK_INT(db_parse_url("mariadb://root:@localhost/fourscore?socket=/run/mysqld/mysqld.sock", &u, err, sizeof err), 0,
              "url: socket");
    CHECK_STR(u.socket, "/run/mysqld/mysqld.sock", "url: socket path");
    CHECK_STR(u.pass, "", "url: empty password");
    CHECK_STR(u.host, "localhost", "url: socket host");

    CHECK_INT(db_parse_url("mariadb://us%40er:p%3Aa%2Fs%25s%40w@h:1/d", &u, err, sizeof err), 0, "url: percent-encoded");
    CHECK_STR(u.user, "us@er", "url: user decoded");
    CHECK_STR(u.pass, "p:a/s%s@w", "url: password decoded");

    CHECK_INT(db_parse_url("mariadb://a:b@[::1]:3310/x", &u, err, sizeof err), 0, "url: IPv6 host");
    CHECK_STR(u.host, "::1", "url: IPv6 host without brackets");
    CHECK_INT(u.port, 3310, "url: IPv6 port");

    CHECK_INT(db_parse_url("mariadb://onlyuser@h/d", &u, err, sizeof err), 0, "url: user without password");
    CHECK_STR(u.user, "onlyuser", "url: user alone");

    CHECK_INT(db_parse_url("mariadb://a:b@localhost/d?socket=%2Ftmp%2Fmy%20db.sock", &u, err, sizeof err), 0,
              "url: socket percent-encoded");
    CHECK_STR(u.socket, "/tmp/my db.sock", "url: socket decoded");

    static const struct { const char *url, *want; } bad[] = {
        { "mysql://a:b@h/d", "mariadb://" },
        { "mariadb://a:b@h", "database name" },
        { "mariadb://a:b@h/", "database name" },
        { "mariadb://h/d", "user" },
        { "mariadb://:pw@h/d", "user" },
        { "mariadb://a:b@/d", "host" },
        { "mariadb://a:b@h:0/d", "port" },
        { "mariadb://a:b@h:65536/d", "port" },
        { "mariadb://a:b@h:33x/d", "port" },
        { "mariadb://a:b@h:/d", "port" },
        { "mariadb://a%4:b@h/d", "escape" },
        { "mariadb://a%zz:b@h/d", "escape" },
        { "mariadb://a:b@h/d?sock=/x", "unknown parameter" },
        { "mariadb://a:b@h/d?socket=relative.sock", "absolute" },
        { "mariadb://a:b@[::1/d", "IPv6" },
        { "mariadb://a:b@h/d#frag", "fragment" },
        { "mariadb://a%00:b@h/d", "%00" },
        { "", "mariadb://" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = '\0';
        int rc = db_parse_url(bad[i].url, &u, err, sizeof err);
        CHECK(rc == -1 && strstr(err, bad[i].want), "url: \"%s\" refused naming \"%s\" (got: %s)", bad[i].url,
              bad[i].want, err);
    }
    char longurl[600];
    snprintf(longurl, sizeof longurl, "mariadb://%0200d:p@h/d", 0);
    CHECK(db_parse_url(longurl, &u, err, sizeof err) == -1 && strstr(err, "too long"), "url: a too long user is refused");
}

/* --- statements and results --- */

static const char SQL_CREATE_T[] =
    "CREATE TABLE t (id INT AUTO_INCREMENT PRIMARY KEY, i BIGINT NULL, d DOUBLE NULL, s VARCHAR(200) NULL,"
    " b LONGBLOB NULL, dt DATE NULL, m DECIMAL(14,2) NULL) CHARSET=utf8mb4";
static const char SQL_INSERT_T[] = "INSERT INTO t (i, d, s, b, dt, m) VALUES (?, ?, ?, ?, ?, ?)";
static const char SQL_SELECT_T[] = "SELECT id, i, d, s, b, dt, m FROM t WHERE id = ?";

static void test_statements(db_conn *c)
{
    char err[512];
    static const char SQL_SESSION[] = "SELECT @@character_set_connection, @@character_set_results, @@autocommit, @@sql_mode";
    db_result *session = NULL;
    CHECK_INT(db_query(c, SQL_SESSION, NULL, 0, &session, err, sizeof err), 0, "session settings (%s)", err);
    if (session) {
        CHECK_STR(db_cell(session, 0, 0), "utf8mb4", "session: utf8mb4 connection charset");
        CHECK_STR(db_cell(session, 0, 1), "utf8mb4", "session: utf8mb4 results");
        CHECK_STR(db_cell(session, 0, 2), "1", "session: autocommit on");
        CHECK(db_cell(session, 0, 3) && strstr(db_cell(session, 0, 3), "STRICT_ALL_TABLES"), "session: strict SQL mode");
        db_result_free(session);
    }
    unsigned long long affected = 99;
    CHECK_INT(db_exec(c, SQL_CREATE_T, NULL, 0, &affected, err, sizeof err), 0, "create table (%s)", err);

    const char blob[] = { 'a', '\0', 'b', '\xff' };
    db_val row1[6] = { DB_INT(-9223372036854775807LL - 1), DB_DBL(0.1), DB_STR("广州天河丰田 'quote' \"dq\" \\"),
                       DB_STRN(blob, sizeof blob), DB_STR("2024-02-29"), DB_STR("12345678.90") };
    CHECK_INT(db_exec(c, SQL_INSERT_T, row1, 6, &affected, err, sizeof err), 0, "insert every type (%s)", err);
    CHECK_INT(affected, 1, "insert affects one row");
    unsigned long long id1 = db_last_insert_id(c);
    CHECK(id1 >= 1, "last insert id is set (%llu)", id1);

    const char *null_str = NULL;
    db_val row2[6] = { DB_NULL, DB_NULL, DB_STR(null_str), DB_NULL, DB_NULL, DB_NULL };
    CHECK_INT(db_exec(c, SQL_INSERT_T, row2, 6, &affected, err, sizeof err), 0, "insert NULLs (%s)", err);
    unsigned long long id2 = db_last_insert_id(c);

    db_result *r = NULL;
    db_val key = DB_INT(id1);
    CHECK_INT(db_query(c, SQL_SELECT_T, &key, 1, &r, err, sizeof err), 0, "select row 1 (%s)", err);
    if (r) {
        CHECK_INT(r->nrows, 1, "one row");
        CHECK_INT(r->ncols, 7, "seven columns");
        CHECK_STR(r->names[3], "s", "column names");
        CHECK_STR(db_cell(r, 0, 1), "-9223372036854775808", "BIGINT minimum as text");
        CHECK_INT(db_cell_int(r, 0, 1), -9223372036854775807LL - 1, "db_cell_int");
        bool is_null = true;
        CHECK_NUM(db_cell_double(r, 0, 2, &is_null), 0.1, "DOUBLE round trip");
        CHECK(!is_null, "DOUBLE not NULL");
        CHECK_STR(db_cell(r, 0, 3), "广州天河丰田 'quote' \"dq\" \\", "UTF-8 text with quotes round trip");
        CHECK_INT(r->lens[0 * 7 + 4], 4, "blob length with a NUL byte");
        CHECK(db_cell(r, 0, 4) && memcmp(db_cell(r, 0, 4), blob, 4) == 0, "blob bytes");
        CHECK_STR(db_cell(r, 0, 5), "2024-02-29", "DATE as text");
        CHECK_STR(db_cell(r, 0, 6), "12345678.90", "DECIMAL as text");
        db_result_free(r);
        r = NULL;
    }
    key = DB_INT(id2);
    CHECK_INT(db_query(c, SQL_SELECT_T, &key, 1, &r, err, sizeof err), 0, "select row 2 (%s)", err);
    if (r) {
        int nulls = 0;
        for (int j = 1; j < 7; j++) nulls += db_cell(r, 0, j) == NULL;
        CHECK_INT(nulls, 6, "six SQL NULLs come back as NULL cells");
        bool is_null = false;
        db_cell_double(r, 0, 2, &is_null);
        CHECK(is_null, "db_cell_double reports NULL");
        db_result_free(r);
        r = NULL;
    }

    /* A long value is fetched whole (past the first cell buffer). */
    size_t big_len = 300000;
    char *big = malloc(big_len);
    for (size_t k = 0; k < big_len; k++) big[k] = (char)('a' + k % 26);
    db_val row3[6] = { DB_INT(3), DB_DBL(-1.5e300), DB_STR("x"), DB_STRN(big, big_len), DB_STR("1999-12-31"), DB_DBL(-0.5) };
    CHECK_INT(db_exec(c, SQL_INSERT_T, row3, 6, NULL, err, sizeof err), 0, "insert a 300 kB blob (%s)", err);
    key = DB_INT(db_last_insert_id(c));
    CHECK_INT(db_query(c, SQL_SELECT_T, &key, 1, &r, err, sizeof err), 0, "select the blob (%s)", err);
    if (r) {
        CHECK_INT(r->lens[4], big_len, "long value length");
        CHECK(db_cell(r, 0, 4) && memcmp(db_cell(r, 0, 4), big, big_len) == 0, "long value bytes");
        CHECK_NUM(db_cell_double(r, 0, 2, NULL), -1.5e300, "large DOUBLE");
        CHECK_STR(db_cell(r, 0, 6), "-0.50", "a DOUBLE bound into DECIMAL");
        db_result_free(r);
        r = NULL;
    }
    free(big);

    /* Many rows, and an empty result. */
    static const char SQL_MANY[] = "SELECT seq, CONCAT('n', seq), IF(seq % 2, NULL, seq / 4) FROM seq_1_to_5000";
    CHECK_INT(db_query(c, SQL_MANY, NULL, 0, &r, err, sizeof err), 0, "5000 rows (%s)", err);
    if (r) {
        CHECK_INT(r->nrows, 5000, "5000 rows fetched");
        CHECK_STR(db_cell(r, 4999, 1), "n5000", "last row text");
        CHECK(db_cell(r, 4998, 2) == NULL, "odd row NULL");
        CHECK_NUM(db_cell_double(r, 4999, 2, NULL), 1250.0, "5000 / 4");
        db_result_free(r);
        r = NULL;
    }
    static const char SQL_NONE[] = "SELECT id FROM t WHERE id < ?";
    db_val zero = DB_INT(0);
    CHECK_INT(db_query(c, SQL_NONE, &zero, 1, &r, err, sizeof err), 0, "empty result");
    if (r) {
        CHECK(r->nrows == 0 && r->ncols == 1, "0 rows, 1 column");
        db_result_free(r);
        r = NULL;
    }

    /* Errors: MariaDB's message and number, and the connection stays usable. */
    static const char SQL_DUP[] = "INSERT INTO t (id) VALUES (?)";
    db_val dup = DB_INT(id1);
    CHECK_INT(db_exec(c, SQL_DUP, &dup, 1, NULL, err, sizeof err), -1, "duplicate key fails");
    CHECK(strstr(err, "Duplicate entry") && strstr(err, "(1062)"), "error names MariaDB's message and number: %s", err);
    CHECK_INT(db_errno(c), 1062, "db_errno");
    CHECK(!db_conn_lost(c), "a duplicate key does not lose the connection");
    CHECK_INT(db_exec(c, SQL_INSERT_T, row2, 5, NULL, err, sizeof err), -1, "wrong parameter count fails");
    CHECK(strstr(err, "6 parameters but 5"), "parameter count error: %s", err);
    static const char SQL_BAD[] = "SELEC oops";
    CHECK_INT(db_query(c, SQL_BAD, NULL, 0, &r, err, sizeof err), -1, "syntax error fails");
    CHECK(strstr(err, "(1064)") != NULL, "syntax error number: %s", err);
    CHECK_INT(db_exec_text(c, "DROP TABLE no_such_table", err, sizeof err), -1, "db_exec_text error");
    CHECK(strstr(err, "(1051)") != NULL, "unknown table number: %s", err);
    CHECK_INT(db_exec_text(c, "DO 1", err, sizeof err), 0, "db_exec_text works after an error");
    CHECK_INT(db_query(c, SQL_NONE, &zero, 1, &r, err, sizeof err), 0, "statements work after errors");
    db_result_free(r);
    r = NULL;
    CHECK_INT(db_exec(c, SQL_NONE, &zero, 1, NULL, err, sizeof err), 0, "a SELECT through db_exec is drained");
    CHECK_INT(db_exec(c, SQL_NONE, &zero, 1, NULL, err, sizeof err), 0, "and the statement runs again");
}

/* --- the statement cache --- */

static long long prepares(db_conn *c)
{
    static const char SQL_STATUS[] = "SHOW SESSION STATUS LIKE 'Com_stmt_prepare'";
    db_result *r;
    char err[256];
    if (db_query(c, SQL_STATUS, NULL, 0, &r, err, sizeof err)) return -1;
    long long n = r->nrows == 1 ? db_cell_int(r, 0, 1) : -1;
    db_result_free(r);
    return n;
}

static void test_cache(db_conn *c)
{
    static const char SQL_ADD[] = "SELECT ? + 1";
    char err[256];
    db_result *r;
    db_val v = DB_INT(1);
    CHECK_INT(db_query(c, SQL_ADD, &v, 1, &r, err, sizeof err), 0, "cache: first use");
    db_result_free(r);
    prepares(c);                     /* its own statement now cached too */
    long long before = prepares(c);
    long long sum = 0;
    for (int k = 0; k < 50; k++) {
        v = DB_INT(k);
        if (db_query(c, SQL_ADD, &v, 1, &r, err, sizeof err) == 0) {
            sum += db_cell_int(r, 0, 0);
            db_result_free(r);
        }
    }
    long long after = prepares(c);
    CHECK_INT(sum, 50 * 49 / 2 + 50, "cache: 50 runs give 1+2+...+50");
    CHECK(before >= 0 && after == before, "cache: no new prepare for 50 runs of one text (%lld -> %lld)", before, after);

    /* The same buffer with another text is not mistaken for the cached one. */
    char buf[64];
    snprintf(buf, sizeof buf, "SELECT 'first'");
    CHECK_INT(db_query(c, buf, NULL, 0, &r, err, sizeof err), 0, "cache: buffer text 1");
    CHECK_STR(db_cell(r, 0, 0), "first", "cache: buffer text 1 result");
    db_result_free(r);
    snprintf(buf, sizeof buf, "SELECT 'second'");
    CHECK_INT(db_query(c, buf, NULL, 0, &r, err, sizeof err), 0, "cache: buffer text 2");
    CHECK_STR(db_cell(r, 0, 0), "second", "cache: a changed text at the same address is prepared anew");
    db_result_free(r);

    /* More texts than the cache holds: the oldest go, everything still works. */
    static char texts[300][48];
    int ok = 0;
    for (int k = 0; k < 300; k++) {
        snprintf(texts[k], sizeof texts[k], "SELECT %d", k);
        if (db_query(c, texts[k], NULL, 0, &r, err, sizeof err) == 0) {
            ok += db_cell_int(r, 0, 0) == k;
            db_result_free(r);
        }
    }
    CHECK_INT(ok, 300, "cache: 300 distinct texts (past the cache size) all run");
    static const char SQL_OPEN[] = "SHOW SESSION STATUS LIKE 'Prepared_stmt_count'";
    static const char SQL_GLOBAL_OPEN[] = "SHOW GLOBAL STATUS LIKE 'Prepared_stmt_count'";
    (void)SQL_OPEN;
    CHECK_INT(db_query(c, SQL_GLOBAL_OPEN, NULL, 0, &r, err, sizeof err), 0, "prepared statement count");
    if (r) {
        CHECK(db_cell_int(r, 0, 1) <= 256 + 16, "cache: server-side statements bounded (%lld)", db_cell_int(r, 0, 1));
        db_result_free(r);
    }
}

/* --- transactions --- */

static long long count_rows(db_conn *c, const char *sql)
{
    db_result *r;
    char err[256];
    if (db_query(c, sql, NULL, 0, &r, err, sizeof err)) return -1;
    long long n = db_cell_int(r, 0, 0);
    db_result_free(r);
    return n;
}

static void test_transactions(testdb *t)
{
    static const char SQL_CREATE[] = "CREATE TABLE tx (k INT PRIMARY KEY) ENGINE=InnoDB";
    static const char SQL_INS[] = "INSERT INTO tx VALUES (?)";
    static const char SQL_COUNT[] = "SELECT COUNT(*) FROM tx";
    char err[256];
    db_conn *c = t->conn;
    db_conn *other = db_acquire(t->pool, 2000, err, sizeof err);
    CHECK(other != NULL, "tx: second connection (%s)", err);
    if (!other) return;
    CHECK_INT(db_exec(c, SQL_CREATE, NULL, 0, NULL, err, sizeof err), 0, "tx: table (%s)", err);
    db_val v = DB_INT(1);
    CHECK_INT(db_begin(c, err, sizeof err), 0, "tx: begin");
    CHECK_INT(db_exec(c, SQL_INS, &v, 1, NULL, err, sizeof err), 0, "tx: insert");
    CHECK_INT(count_rows(c, SQL_COUNT), 1, "tx: visible inside");
    CHECK_INT(count_rows(other, SQL_COUNT), 0, "tx: invisible outside before commit");
    CHECK_INT(db_rollback(c), 0, "tx: rollback");
    CHECK_INT(count_rows(c, SQL_COUNT), 0, "tx: gone after rollback");
    CHECK_INT(db_begin(c, err, sizeof err), 0, "tx: begin again");
    for (int k = 0; k < 3; k++) {
        v = DB_INT(k + 10);
        db_exec(c, SQL_INS, &v, 1, NULL, err, sizeof err);
    }
    CHECK_INT(db_commit(c, err, sizeof err), 0, "tx: commit");
    CHECK_INT(count_rows(other, SQL_COUNT), 3, "tx: committed rows visible to another connection");
    CHECK_INT(count_rows(c, SQL_COUNT), 3, "tx: autocommit is back on after commit");
    /* A connection released in a transaction is rolled back. */
    CHECK_INT(db_begin(other, err, sizeof err), 0, "tx: begin on the second connection");
    v = DB_INT(99);
    db_exec(other, SQL_INS, &v, 1, NULL, err, sizeof err);
    db_release(t->pool, other);
    CHECK_INT(count_rows(c, SQL_COUNT), 3, "tx: release rolls back an open transaction");
}

/* --- bulk --- */

static void test_bulk(db_conn *c)
{
    static const char SQL_CREATE[] =
        "CREATE TABLE bulk (k INT PRIMARY KEY, name VARCHAR(64) NULL, amount DECIMAL(14,2) NULL, qty DOUBLE NULL)";
    static const char SQL_UPSERT[] =
        "INSERT INTO bulk (k, name, amount, qty) VALUES (?, ?, ?, ?) "
        "ON DUPLICATE KEY UPDATE name = VALUES(name), amount = VALUES(amount), qty = VALUES(qty)";
    char err[512];
    CHECK_INT(db_exec(c, SQL_CREATE, NULL, 0, NULL, err, sizeof err), 0, "bulk: table (%s)", err);
    enum { ROWS = 10000, COLS = 4 };
    db_val *vals = calloc((size_t)ROWS * COLS, sizeof *vals);
    char (*names)[16] = calloc(ROWS, sizeof *names);
    char (*amounts)[24] = calloc(ROWS, sizeof *amounts);
    for (int r = 0; r < ROWS; r++) {
        snprintf(names[r], sizeof names[r], "门店%d", r);
        snprintf(amounts[r], sizeof amounts[r], "%d.%02d", r, r % 100);
        db_val *row = vals + (size_t)r * COLS;
        row[0] = DB_INT(r);
        row[1] = r % 10 == 0 ? DB_NULL : DB_STR(names[r]);
        row[2] = DB_STR(amounts[r]);
        row[3] = r % 7 == 0 ? DB_NULL : DB_DBL(r * 0.5);
    }
    unsigned long long affected = 0;
    CHECK_INT(db_exec_bulk(c, SQL_UPSERT, vals, COLS, ROWS, &affected, err, sizeof err), 0, "bulk: 10000 rows (%s)", err);
    CHECK_INT(affected, ROWS, "bulk: 10000 inserted");
    /* Independent SQL: count, NULLs, sums. sum(k) = 0+...+9999 = 49995000;
     * amount = k + (k % 100)/100: sum = 49995000 + 100 * (0+...+99)/100 = 49995000 + 4950 = 49999950;
     * rows with name NULL: k % 10 == 0 -> 1000; qty NULL: k % 7 == 0 -> 1429 (0..9996). */
    static const char SQL_CHECK[] =
        "SELECT COUNT(*), SUM(k), SUM(amount), SUM(name IS NULL), SUM(qty IS NULL), MAX(name) FROM bulk WHERE k < 10";
    static const char SQL_CHECK_ALL[] =
        "SELECT COUNT(*), SUM(k), SUM(amount), SUM(name IS NULL), SUM(qty IS NULL), SUM(qty) FROM bulk";
    db_result *r;
    CHECK_INT(db_query(c, SQL_CHECK_ALL, NULL, 0, &r, err, sizeof err), 0, "bulk: check query");
    if (r) {
        CHECK_INT(db_cell_int(r, 0, 0), 10000, "bulk: count");
        CHECK_INT(db_cell_int(r, 0, 1), 49995000, "bulk: sum of keys");
        CHECK_STR(db_cell(r, 0, 2), "49999950.00", "bulk: sum of amounts");
        CHECK_INT(db_cell_int(r, 0, 3), 1000, "bulk: NULL names");
        CHECK_INT(db_cell_int(r, 0, 4), 1429, "bulk: NULL quantities");
        db_result_free(r);
    }
    CHECK_INT(db_query(c, SQL_CHECK, NULL, 0, &r, err, sizeof err), 0, "bulk: UTF-8 check");
    if (r) {
        CHECK_STR(db_cell(r, 0, 5), "门店9", "bulk: UTF-8 text stored");
        db_result_free(r);
    }
    /* Upsert again: rows with k % 4 == 0 change, the rest are identical.
     * MariaDB counts 2 per changed row, 0 per unchanged: 2500 * 2 = 5000. */
    for (int k = 0; k < ROWS; k += 4) vals[(size_t)k * COLS + 2] = DB_STR("1.00");
    CHECK_INT(db_exec_bulk(c, SQL_UPSERT, vals, COLS, ROWS, &affected, err, sizeof err), 0, "bulk: upsert (%s)", err);
    CHECK_INT(affected, 5000, "bulk: affected = 2 x 2500 changed rows");
    /* After a bulk the same text works as a single-row statement. */
    db_val one[4] = { DB_INT(20000), DB_STR("single"), DB_STR("2.50"), DB_DBL(1) };
    CHECK_INT(db_exec(c, SQL_UPSERT, one, 4, &affected, err, sizeof err), 0, "bulk: same text, one row (%s)", err);
    CHECK_INT(affected, 1, "bulk: one row inserted");
    /* Mixed types in one column are refused; a failing row fails the batch. */
    vals[5 * COLS + 3] = DB_STR("7");
    CHECK_INT(db_exec_bulk(c, SQL_UPSERT, vals, COLS, 10, &affected, err, sizeof err), -1, "bulk: mixed types refused");
    CHECK(strstr(err, "column 4") != NULL, "bulk: error names the column: %s", err);
    vals[5 * COLS + 3] = DB_DBL(1);
    static const char SQL_STRICT[] = "INSERT INTO bulk (k, name, amount, qty) VALUES (?, ?, ?, ?)";
    db_val badrows[2 * 4] = { DB_INT(30000), DB_STR("a"), DB_STR("1"), DB_DBL(1),
                              DB_INT(30001), DB_STR("b"), DB_STR("not a number"), DB_DBL(1) };
    CHECK_INT(db_exec_bulk(c, SQL_STRICT, badrows, 4, 2, &affected, err, sizeof err), -1, "bulk: a bad value fails");
    CHECK(strstr(err, "(1366)") != NULL, "bulk: MariaDB's error: %s", err);
    CHECK_INT(db_exec_bulk(c, SQL_STRICT, badrows, 4, 1, &affected, err, sizeof err), 0, "bulk: usable after a failure (%s)", err);
    free(vals);
    free(names);
    free(amounts);

    /* A batch larger than the server's packet limit (16 MB by default) is
     * sent in several requests: 40000 rows x 600 bytes = 24 MB. */
    static const char SQL_WIDE[] = "CREATE TABLE wide (k INT PRIMARY KEY, v VARCHAR(700) CHARACTER SET ascii)";
    static const char SQL_WIDE_INS[] = "INSERT INTO wide (k, v) VALUES (?, ?)";
    CHECK_INT(db_exec(c, SQL_WIDE, NULL, 0, NULL, err, sizeof err), 0, "bulk: wide table");
    enum { WIDE_ROWS = 40000 };
    char *text = malloc(600);
    memset(text, 'w', 600);
    db_val *wide = calloc((size_t)WIDE_ROWS * 2, sizeof *wide);
    for (int w = 0; w < WIDE_ROWS; w++) {
        wide[2 * w] = DB_INT(w);
        wide[2 * w + 1] = DB_STRN(text, 600);
    }
    CHECK_INT(db_exec_bulk(c, SQL_WIDE_INS, wide, 2, WIDE_ROWS, &affected, err, sizeof err), 0, "bulk: 24 MB in one call (%s)", err);
    CHECK_INT(affected, WIDE_ROWS, "bulk: every wide row counted");
    CHECK_INT(count_rows(c, "SELECT COUNT(*) FROM wide WHERE LENGTH(v) = 600"), WIDE_ROWS, "bulk: every wide row stored");
    free(wide);
    free(text);
}

/* CPU seconds used so far by this process, and by the server process. */
static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static double server_cpu(pid_t pid)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    const char *p = strrchr(buf, ')');
    unsigned long long utime = 0, stime = 0;
    /* after "pid (comm)": state, then fields 4..13, then utime (14) and stime (15) */
    if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &utime, &stime) != 2) return 0;
    return (double)(utime + stime) / (double)sysconf(_SC_CLK_TCK);
}

/* Rows per second for a ro_parts-like table, batches of 5000 in one transaction. */
static void test_bulk_speed(db_conn *c, localdb *local)
{
    static const char SQL_CREATE[] =
        "CREATE TABLE speed (id INT UNSIGNED AUTO_INCREMENT PRIMARY KEY, store_code VARCHAR(32) CHARACTER SET ascii NOT NULL,"
        " ro_no VARCHAR(32) CHARACTER SET ascii NOT NULL, line_no INT NOT NULL, part_no VARCHAR(40) NOT NULL,"
        " qty DECIMAL(12,2) NOT NULL, unit_price DECIMAL(14,2) NOT NULL, cost DECIMAL(14,2) NOT NULL,"
        " issued_on DATE NOT NULL, UNIQUE KEY uk (store_code, ro_no, line_no)) ENGINE=InnoDB";
    static const char SQL_UPSERT[] =
        "INSERT INTO speed (store_code, ro_no, line_no, part_no, qty, unit_price, cost, issued_on) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON DUPLICATE KEY UPDATE part_no = VALUES(part_no), qty = VALUES(qty), "
        "unit_price = VALUES(unit_price), cost = VALUES(cost), issued_on = VALUES(issued_on)";
    char err[512];
    CHECK_INT(db_exec(c, SQL_CREATE, NULL, 0, NULL, err, sizeof err), 0, "speed: table (%s)", err);
    enum { TOTAL = 200000, BATCH = 5000, COLS = 8 };
    db_val *vals = calloc((size_t)BATCH * COLS, sizeof *vals);
    char (*text)[5][24] = calloc(BATCH, sizeof *text);
    pid_t server = localdb_pid(local);
    double t0 = now_s(), cpu0 = cpu_now(), server_cpu0 = server_cpu(server);
    int failures = 0;
    unsigned long long total_affected = 0;
    if (db_begin(c, err, sizeof err)) failures++;
    for (int base = 0; base < TOTAL; base += BATCH) {
        for (int r = 0; r < BATCH; r++) {
            int n = base + r;
            snprintf(text[r][0], sizeof text[r][0], "RO%07d", n / 4);
            snprintf(text[r][1], sizeof text[r][1], "P-%05d", n % 9973);
            snprintf(text[r][2], sizeof text[r][2], "%d.%02d", n % 7 + 1, n % 100);
            snprintf(text[r][3], sizeof text[r][3], "%d.50", n % 900 + 10);
            snprintf(text[r][4], sizeof text[r][4], "2025-%02d-%02d", n % 12 + 1, n % 28 + 1);
            db_val *row = vals + (size_t)r * COLS;
            row[0] = DB_STR("GZ01");
            row[1] = DB_STR(text[r][0]);
            row[2] = DB_INT(n % 4 + 1);
            row[3] = DB_STR(text[r][1]);
            row[4] = DB_STR(text[r][2]);
            row[5] = DB_STR(text[r][3]);
            row[6] = DB_STR(text[r][3]);
            row[7] = DB_STR(text[r][4]);
        }
        unsigned long long affected = 0;
        if (db_exec_bulk(c, SQL_UPSERT, vals, COLS, BATCH, &affected, err, sizeof err)) {
            failures++;
            printf("    %s\n", err);
            break;
        }
        total_affected += affected;
    }
    if (db_commit(c, err, sizeof err)) failures++;
    double secs = now_s() - t0;
    double rate = TOTAL / secs;
    CHECK_INT(failures, 0, "speed: 200000 rows in batches of 5000");
    CHECK_INT(total_affected, TOTAL, "speed: every row inserted");
    CHECK_INT(count_rows(c, "SELECT COUNT(*) FROM speed"), TOTAL, "speed: rows in the table");
    printf("# bulk upsert: %d rows in %.2f s = %.0f rows/s\n", TOTAL, secs, rate);
    /* The rate per CPU second, the client's and the server's together: on
     * a machine shared with other work the wall clock says little, but the
     * CPU a row costs is what limits an import on a quiet machine. */
    double cpu = (cpu_now() - cpu0) + (server_cpu(server) - server_cpu0);
    double cpu_rate = TOTAL / cpu;
    printf("# %.2f CPU s (client %.2f, server %.2f) = %.0f rows per CPU second\n", cpu, cpu_now() - cpu0,
           server_cpu(server) - server_cpu0, cpu_rate);
#if defined(__SANITIZE_ADDRESS__)
    CHECK(cpu_rate >= 20000, "speed: at least 20000 rows per CPU second under the sanitizers (%.0f)", cpu_rate);
#else
    CHECK(cpu_rate >= 50000, "speed: at least 50000 rows per CPU second (%.0f)", cpu_rate);
#endif
    const char *strict = getenv("FOURSCORE_PERF_STRICT");
    if (strict && *strict == '1') CHECK(rate >= 50000, "speed: at least 50000 rows/s by the wall clock (%.0f)", rate);
    free(vals);
    free(text);
}

/* --- statement timeout --- */

static void test_timeout(testdb *t)
{
    static const char SQL_SLEEP[] = "SELECT SLEEP(3)";
    char err[256];
    db_conn *c = db_acquire(t->pool, 2000, err, sizeof err);
    CHECK(c != NULL, "timeout: connection");
    if (!c) return;
    db_set_statement_timeout(c, 0.3);
    double t0 = now_s();
    db_result *r = NULL;
    int rc = db_query(c, SQL_SLEEP, NULL, 0, &r, err, sizeof err);
    double took = now_s() - t0;
    CHECK(rc == -1 && db_errno(c) == 1969, "timeout: a statement over max_statement_time fails with 1969 (%s)", err);
    CHECK(took < 2.0, "timeout: it stopped early (%.2f s)", took);
    CHECK(!db_conn_lost(c), "timeout: the connection stays");
    if (r) db_result_free(r);
    db_release(t->pool, c);
    /* The next user of the pooled connection has no limit. */
    c = db_acquire(t->pool, 2000, err, sizeof err);
    static const char SQL_SHOW[] = "SELECT @@max_statement_time";
    db_result *show = NULL;
    if (c && db_query(c, SQL_SHOW, NULL, 0, &show, err, sizeof err) == 0) {
        CHECK_NUM(db_cell_double(show, 0, 0, NULL), 0.0, "timeout: reset for the next acquire");
        db_result_free(show);
    } else {
        CHECK(0, "timeout: query after release (%s)", err);
    }
    if (c) db_release(t->pool, c);

    /* A statement the server does not stop (SET STATEMENT lifts its
     * max_statement_time, as a plan that never checks for being killed
     * would): the watchdog cuts it at the limit plus its 2 s grace. */
    static const char SQL_UNSTOPPED[] = "SET STATEMENT max_statement_time = 0 FOR SELECT SLEEP(8)";
    c = db_acquire(t->pool, 2000, err, sizeof err);
    CHECK(c != NULL, "watchdog: connection");
    if (!c) return;
    db_set_statement_timeout(c, 0.3);
    t0 = now_s();
    r = NULL;
    rc = db_query(c, SQL_UNSTOPPED, NULL, 0, &r, err, sizeof err);
    took = now_s() - t0;
    CHECK(rc == -1 && db_errno(c) == 1969, "watchdog: reported as the time limit (%d: %s)", db_errno(c), err);
    CHECK(strstr(err, "time limit") != NULL, "watchdog: the message names the time limit (%s)", err);
    CHECK(took > 2.0 && took < 5.0, "watchdog: cut after limit + grace, long before the statement's 8 s (%.2f s)", took);
    CHECK(db_conn_lost(c), "watchdog: the cut connection is dropped");
    if (r) db_result_free(r);
    db_release(t->pool, c);
    c = db_acquire(t->pool, 2000, err, sizeof err);
    show = NULL;
    if (c && db_query(c, SQL_SHOW, NULL, 0, &show, err, sizeof err) == 0) {
        CHECK_NUM(db_cell_double(show, 0, 0, NULL), 0.0, "watchdog: the pool serves a fresh connection after the cut");
        db_result_free(show);
    } else {
        CHECK(0, "watchdog: query after the cut (%s)", err);
    }
    if (c) db_release(t->pool, c);
}

/* --- the pool under threads --- */

typedef struct worker {
    db_pool *pool;
    int ok, failed;
} worker;

static void *pool_worker(void *arg)
{
    worker *w = arg;
    static const char SQL_TWICE[] = "SELECT ? * 2";
    for (int k = 0; k < 200; k++) {
        char err[256];
        db_conn *c = db_acquire(w->pool, 10000, err, sizeof err);
        if (!c) {
            w->failed++;
            continue;
        }
        db_val v = DB_INT(k);
        db_result *r;
        if (db_query(c, SQL_TWICE, &v, 1, &r, err, sizeof err) == 0) {
            if (db_cell_int(r, 0, 0) == 2 * k) w->ok++;
            else w->failed++;
            db_result_free(r);
        } else {
            w->failed++;
        }
        db_release(w->pool, c);
    }
    return NULL;
}

/* Waits for a connection of the pool (a thread of test_pool). */
static void *pool_waiter(void *arg)
{
    worker *w = arg;
    char err[256];
    db_conn *c = db_acquire(w->pool, 5000, err, sizeof err);
    if (c) { w->ok++; db_release(w->pool, c); }
    else w->failed++;
    return NULL;
}

static void test_pool(testdb *t)
{
    char err[256];
    db_pool *p = db_pool_new(&t->url, 3);
    db_conn *held[3] = { 0 };
    for (int k = 0; k < 3; k++) held[k] = db_acquire(p, 1000, err, sizeof err);
    CHECK(held[0] && held[1] && held[2], "pool: 3 of 3 connections");
    int size = 0, in_use = 0;
    long long waits = 0, errors = 0;
    db_pool_stats(p, &size, &in_use, &waits, &errors);
    CHECK(size == 3 && in_use == 3, "pool: stats size 3, in use 3 (%d, %d)", size, in_use);
    double t0 = now_s();
    db_conn *extra = db_acquire(p, 300, err, sizeof err);
    double took = now_s() - t0;
    CHECK(extra == NULL && strstr(err, "busy"), "pool: a 4th waits and fails when the pool is exhausted: %s", err);
    CHECK(took >= 0.25 && took < 2.0, "pool: it waited the timeout (%.2f s)", took);
    db_pool_stats(p, &size, &in_use, &waits, &errors);
    CHECK(waits >= 1 && errors >= 1, "pool: a wait and an error counted (%lld, %lld)", waits, errors);
    for (int k = 0; k < 3; k++) db_release(p, held[k]);
    db_pool_free(p);

    /* a spare connection leaves the reserve free, and never waits */
    p = db_pool_new(&t->url, 4);
    held[0] = db_acquire(p, 1000, err, sizeof err);
    held[1] = db_acquire_spare(p, 2, err, sizeof err);
    CHECK(held[0] && held[1], "pool: a spare with 3 of 4 free and a reserve of 2 (%s)", err);
    t0 = now_s();
    extra = db_acquire_spare(p, 2, err, sizeof err);
    took = now_s() - t0;
    CHECK(extra == NULL && strstr(err, "stay for others"), "pool: no spare when it would leave 1 of a reserve of 2: %s", err);
    CHECK(took < 0.1, "pool: a refused spare does not wait (%.3f s)", took);
    held[2] = db_acquire_spare(p, 1, err, sizeof err);
    CHECK(held[2] != NULL, "pool: a spare that leaves the reserve of 1 (%s)", err);
    db_pool_stats(p, &size, &in_use, NULL, NULL);
    CHECK_INT(in_use, 3, "pool: two spares and one waited for in use");
    extra = db_acquire(p, 1000, err, sizeof err);
    CHECK(extra != NULL, "pool: the reserve is there for a request that waits (%s)", err);
    db_conn *none = db_acquire_spare(p, 0, err, sizeof err);
    CHECK(none == NULL && strstr(err, "0 of the 4"), "pool: no spare from a pool with none free: %s", err);
    CHECK(!db_pool_spare_keep(p, 1), "pool: a spare is to be given back when the reserve is gone");
    /* someone waiting for a connection: a spare is to be given back, whatever is free */
    worker waiter = { .pool = p };
    pthread_t wt;
    pthread_create(&wt, NULL, pool_waiter, &waiter);
    struct timespec pause = { 0, 200 * 1000 * 1000 };
    nanosleep(&pause, NULL);
    CHECK(!db_pool_spare_keep(p, 0), "pool: a spare is to be given back while a request waits");
    db_release(p, held[2]);
    pthread_join(wt, NULL);
    CHECK(waiter.ok == 1, "pool: the waiter got the spare given back");
    CHECK(db_pool_spare_keep(p, 1) && !db_pool_spare_keep(p, 2), "pool: with nobody waiting and 1 free, a spare may stay for a reserve of 1, not 2");
    held[2] = NULL;
    db_release(p, extra);
    for (int k = 0; k < 3; k++) if (held[k]) db_release(p, held[k]);
    db_pool_free(p);

    p = db_pool_new(&t->url, 4);
    worker w[8];
    pthread_t th[8];
    for (int k = 0; k < 8; k++) {
        w[k] = (worker){ .pool = p };
        pthread_create(&th[k], NULL, pool_worker, &w[k]);
    }
    int ok = 0, failed = 0;
    for (int k = 0; k < 8; k++) {
        pthread_join(th[k], NULL);
        ok += w[k].ok;
        failed += w[k].failed;
    }
    CHECK(ok == 1600 && failed == 0, "pool: 8 threads x 200 queries on 4 connections (%d ok, %d failed)", ok, failed);
    db_pool_stats(p, &size, &in_use, &waits, &errors);
    CHECK_INT(in_use, 0, "pool: all released");
    db_pool_free(p);
}

/* --- losing the server --- */

static void test_reconnect(testdb *t)
{
    static const char SQL_ID[] = "SELECT CONNECTION_ID()";
    char err[1024];
    db_pool *p = db_pool_new(&t->url, 2);
    db_conn *c = db_acquire(p, 1000, err, sizeof err);
    long long id_before = -1;
    db_result *r;
    if (c && db_query(c, SQL_ID, NULL, 0, &r, err, sizeof err) == 0) {
        id_before = db_cell_int(r, 0, 0);
        db_result_free(r);
    }
    CHECK(id_before > 0, "reconnect: a connection id before");
    /* Two connections: one stays held, one goes back to the pool idle. */
    db_conn *idle = db_acquire(p, 1000, err, sizeof err);
    CHECK(idle != NULL, "reconnect: a second connection (%s)", err);
    if (idle) db_release(p, idle);

    CHECK_INT(localdb_kill_server(t->local, err, sizeof err), 0, "reconnect: server killed (%s)", err);
    if (c) {
        int rc = db_query(c, SQL_ID, NULL, 0, &r, err, sizeof err);
        CHECK(rc == -1 && db_conn_lost(c), "reconnect: a query on a held connection fails, marked lost (%s)", err);
        CHECK(db_errno_is_lost(db_errno(c)), "reconnect: error %d counts as lost", db_errno(c));
        db_release(p, c);
    }
    int size = 0, in_use = 0;
    db_pool_stats(p, &size, &in_use, NULL, NULL);
    CHECK_INT(in_use, 0, "reconnect: the lost connection left the pool");
    double t0 = now_s();
    c = db_acquire(p, 1000, err, sizeof err);
    double took = now_s() - t0;
    CHECK(c == NULL, "reconnect: acquire fails while the server is down (no dead idle connection handed out)");
    CHECK(took < 3.0, "reconnect: it fails fast (%.2f s)", took);
    CHECK(strstr(err, "cannot connect") && strstr(err, t->url.socket), "reconnect: the error says where: %s", err);
    if (c) db_release(p, c);

    CHECK_INT(localdb_restart_server(t->local, err, sizeof err), 0, "reconnect: server started again (%s)", err);
    c = db_acquire(p, 1000, err, sizeof err);
    CHECK(c != NULL, "reconnect: acquire works again (%s)", err);
    if (c) {
        long long id_after = -1;
        if (db_query(c, SQL_ID, NULL, 0, &r, err, sizeof err) == 0) {
            id_after = db_cell_int(r, 0, 0);
            db_result_free(r);
        }
        CHECK(id_after > 0, "reconnect: queries work on the new connection (%s)", err);
        db_release(p, c);
    }
    /* The server restarts under an idle pooled connection: the next acquire
     * notices before handing it out, and the first query works. */
    CHECK_INT(localdb_kill_server(t->local, err, sizeof err), 0, "reconnect: killed again");
    CHECK_INT(localdb_restart_server(t->local, err, sizeof err), 0, "reconnect: and started again (%s)", err);
    c = db_acquire(p, 1000, err, sizeof err);
    CHECK(c != NULL && db_query(c, SQL_ID, NULL, 0, &r, err, sizeof err) == 0,
          "reconnect: the first query after a restart works (%s)", err);
    if (c && r) db_result_free(r);
    if (c) db_release(p, c);
    db_pool_free(p);
    /* testdb's own connection died with the server: mark and replace it. */
    db_ping(t->conn);
    CHECK(db_conn_lost(t->conn), "reconnect: the old connection knows it is lost");
    db_release(t->pool, t->conn);
    t->conn = db_acquire(t->pool, 2000, err, sizeof err);
    CHECK(t->conn != NULL, "reconnect: testdb's pool reconnects (%s)", err);

    /* A TCP address that does not answer: bounded by the connect timeout. */
    db_url u;
    db_parse_url("mariadb://x:y@10.255.255.1:3306/d", &u, err, sizeof err);
    t0 = now_s();
    db_conn *nowhere = db_connect(&u, err, sizeof err);
    took = now_s() - t0;
    CHECK(nowhere == NULL && took < 4.0, "connect: an unreachable host fails within the timeout (%.2f s: %s)", took, err);
    if (nowhere) db_close(nowhere);
}

/* --- app: --db, read replicas, local mode --- */

static void test_app(testdb *t)
{
    char err[1024];
    app a;
    memset(&a, 0, sizeof a);
    snprintf(a.cfg.db_url, sizeof a.cfg.db_url, "mariadb://root:@localhost/%s?socket=%s", t->url.db, t->url.socket);
    /* Replica 1 does not answer; replica 2 is the test server itself. */
    snprintf(a.cfg.db_read[0], sizeof a.cfg.db_read[0], "mariadb://root:@localhost/%s?socket=%s.missing", t->url.db,
             t->url.socket);
    snprintf(a.cfg.db_read[1], sizeof a.cfg.db_read[1], "%s", a.cfg.db_url);
    a.cfg.n_db_read = 2;
    a.cfg.db_pool_size = 4;
    CHECK_INT(app_open(&a, false, err, sizeof err), 0, "app: open with --db and two replicas (%s)", err);
    CHECK(a.local == NULL && a.db && a.n_db_read == 2, "app: no local server, a primary pool, two replica pools");
    int from_replica2 = 0, from_primary = 0;
    for (int k = 0; k < 4; k++) {
        db_pool *from = NULL;
        db_conn *c = app_acquire_read(&a, &from, err, sizeof err);
        if (c) {
            from_replica2 += from == a.db_read[1];
            from_primary += from == a.db;
            db_release(from, c);
        }
    }
    CHECK_INT(from_replica2, 4, "app: reads go to the replica that answers, never the down one");
    CHECK_INT(from_primary, 0, "app: none to the primary while a replica answers");
    /* Both replicas down: the primary serves. */
    snprintf(a.cfg.db_read[1], sizeof a.cfg.db_read[1], "%s", a.cfg.db_read[0]);
    app_close(&a);
    CHECK(a.db == NULL && a.n_db_read == 0, "app: close releases the pools");
    app_close(&a);                    /* twice is harmless */
    CHECK_INT(app_open(&a, false, err, sizeof err), 0, "app: open with two down replicas (%s)", err);
    db_pool *from = NULL;
    double t0 = now_s();
    db_conn *c = app_acquire_read(&a, &from, err, sizeof err);
    CHECK(c != NULL && from == a.db, "app: with no replica answering, reads fall back to the primary");
    if (c) db_release(from, c);
    c = app_acquire_read(&a, &from, err, sizeof err);
    CHECK(c != NULL && from == a.db && now_s() - t0 < 2.0, "app: and keep doing so quickly");
    if (c) db_release(from, c);
    app_close(&a);

    /* Errors name the setting. */
    memset(&a, 0, sizeof a);
    snprintf(a.cfg.db_url, sizeof a.cfg.db_url, "mariadb://nobody@host-without-port:x/db");
    CHECK(app_open(&a, false, err, sizeof err) == -1 && strstr(err, "--db") && strstr(err, "port"),
          "app: a bad --db names it: %s", err);
    memset(&a, 0, sizeof a);
    snprintf(a.cfg.db_url, sizeof a.cfg.db_url, "mariadb://root:@localhost/%s?socket=%s", t->url.db, t->url.socket);
    snprintf(a.cfg.db_read[0], sizeof a.cfg.db_read[0], "postgres://x");
    a.cfg.n_db_read = 1;
    CHECK(app_open(&a, false, err, sizeof err) == -1 && strstr(err, "--db-read") && a.db == NULL,
          "app: a bad --db-read names it and leaves nothing open: %s", err);

    /* Local mode on the test's data dir: attaches to its running server. */
    memset(&a, 0, sizeof a);
    snprintf(a.cfg.data_dir, sizeof a.cfg.data_dir, "%s", t->dir);
    CHECK_INT(app_open(&a, false, err, sizeof err), 0, "app: local mode (%s)", err);
    CHECK(a.local && !localdb_started_here(a.local), "app: attached to the running local server");
    CHECK_STR(a.url.socket, t->url.socket, "app: the same socket");
    pid_t server = localdb_pid(t->local);
    app_close(&a);
    CHECK(server > 0 && localdb_pid(t->local) == server, "app: closing an attached app leaves the server running");
    c = db_acquire(t->pool, 2000, err, sizeof err);
    CHECK(c && db_ping(c), "app: the test's own connection still works");
    if (c) db_release(t->pool, c);
}

int main(void)
{
    test_url();
    testdb t;
    if (testdb_start_with(&t, "")) {
        CHECK(0, "a private database started");
        return check_done();
    }
    test_statements(t.conn);
    test_cache(t.conn);
    test_transactions(&t);
    test_bulk(t.conn);
    test_bulk_speed(t.conn, t.local);
    test_timeout(&t);
    test_pool(&t);
    test_app(&t);
    test_reconnect(&t);
    testdb_stop(&t);
    return check_done();
}
