/* test_migrate: core/store/migrate.c. The statement splitter; the project's own
 * schemas applied to a fresh database; then migration dirs written by the
 * test: order by number, pending only, a failing file named with its line and
 * MariaDB's message, the next run continuing from it, duplicate numbers, and
 * two migrating connections at once. */
#include <pthread.h>
#include <sys/stat.h>
#include <unistd.h>
#include "check.h"
#include "testdb.h"

/* --- the splitter --- */

typedef struct collected {
    char stmts[16][256];
    int lines[16];
    int n;
} collected;

static int collect(void *ctx, const char *stmt, int line)
{
    collected *c = ctx;
    if (c->n == 16) return 1;
    snprintf(c->stmts[c->n], sizeof c->stmts[c->n], "%s", stmt);
    c->lines[c->n++] = line;
    return 0;
}

/* Trim blanks at both ends in place (for comparing statements). */
static const char *trim(char *s)
{
    while (*s == ' ' || *s == '\n' || *s == '\t' || *s == '\r') s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\n' || s[n - 1] == '\t' || s[n - 1] == '\r')) s[--n] = '\0';
    return s;
}

static void test_split(void)
{
    static const char sql[] =
        "-- a header comment; with a semicolon;\n"          /* line 1 */
        "CREATE TABLE a (x INT);\n"                          /* line 2: statement 1 */
        "\n"
        "INSERT INTO a VALUES (1); INSERT INTO a VALUES (2);\n"   /* 4: one statement (';' mid-line) */
        "INSERT INTO t VALUES ('it''s;\n"                    /* 5: statement 3, quote spans lines */
        "still quoted;', \"dq;\n"
        "\", `bt;\n"
        "`, 'esc\\';\n"
        "') ;  -- trailing comment\n"                        /* 9: ends statement 3 */
        "/* block; comment;\n"
        "*/ SELECT 1;\n"                                     /* 10-11: statement 4 starts at line 10 */
        "# hash comment;\n"
        "SELECT 2 -- no semicolon at the end\n";             /* 13: statement 5 (end of text) */
    collected c = { .n = 0 };
    CHECK_INT(migrate_split(sql, collect, &c), 0, "split: runs");
    CHECK_INT(c.n, 5, "split: five statements");
    if (c.n == 5) {
        CHECK_STR(trim(c.stmts[0]), "-- a header comment; with a semicolon;\nCREATE TABLE a (x INT)",
                  "split: 1st, with the comment before it and without its ';'");
        CHECK_INT(c.lines[0], 2, "split: 1st starts on line 2 (after the comment)");
        CHECK_STR(trim(c.stmts[1]), "INSERT INTO a VALUES (1); INSERT INTO a VALUES (2)", "split: ';' mid-line does not split");
        CHECK_INT(c.lines[1], 4, "split: 2nd on line 4");
        CHECK(strstr(c.stmts[2], "still quoted;', \"dq;\n\", `bt;\n`, 'esc\\';\n')") != NULL,
              "split: quotes, doubled quotes, backticks and escapes keep their ';'");
        CHECK_INT(c.lines[2], 5, "split: 3rd on line 5");
        CHECK(strstr(c.stmts[3], "SELECT 1") != NULL, "split: a block comment does not end a statement");
        CHECK_INT(c.lines[3], 10, "split: 4th on line 10 (its comment)");
        CHECK(strstr(c.stmts[4], "SELECT 2") != NULL, "split: the last statement needs no ';'");
    }
    collected empty = { .n = 0 };
    migrate_split("-- nothing\n\n/* at all */\n;\n", collect, &empty);
    CHECK_INT(empty.n, 0, "split: comments and blank statements are skipped");
}

/* --- migration dirs written by the test --- */

static void write_file(const char *dir, const char *name, const char *text)
{
    char path[PATH_MAX + 300];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    if (!f) {
        perror(path);
        return;
    }
    fputs(text, f);
    fclose(f);
}

static long long scalar(db_conn *c, const char *sql)
{
    db_result *r;
    char err[512];
    if (db_query(c, sql, NULL, 0, &r, err, sizeof err)) {
        printf("    %s: %s\n", sql, err);
        return -1;
    }
    long long v = r->nrows ? db_cell_int(r, 0, 0) : -1;
    db_result_free(r);
    return v;
}

static void test_project_schemas(testdb *t)
{
    char err[1024];
    const char *dir = migrate_schema_dir();
    CHECK_INT(migrate_pending(t->conn, dir, err, sizeof err), 0, "project: nothing pending after testdb_start (%s)", err);
    /* Independent count: the NNN_*.sql files of the schema dir. */
    char cmd[PATH_MAX + 64];
    snprintf(cmd, sizeof cmd, "ls '%s' | grep -cE '^[0-9]+_[A-Za-z0-9_.-]+\\.sql$'", dir);
    FILE *p = popen(cmd, "r");
    int files = -1;
    if (p) {
        if (fscanf(p, "%d", &files) != 1) files = -1;
        pclose(p);
    }
    CHECK(files >= 1, "project: schema files found (%d)", files);
    CHECK_INT(scalar(t->conn, "SELECT COUNT(*) FROM schema_migrations"), files, "project: every file recorded once");
    CHECK(scalar(t->conn, "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()"
                          " AND TABLE_NAME IN ('regions', 'stores', 'schema_migrations')") == 3,
          "project: the core tables exist");
    int applied = -1;
    CHECK_INT(migrate_run(t->conn, dir, NULL, &applied, NULL, err, sizeof err), 0, "project: a second run (%s)", err);
    CHECK_INT(applied, 0, "project: a second run applies nothing");
}

static void test_fixture_dirs(db_conn *c, const char *base)
{
    char dir[PATH_MAX + 16], err[2048];
    snprintf(dir, sizeof dir, "%s/schemas", base);
    mkdir(dir, 0755);
    /* 9 before 10 although "10_" sorts first as text; 10 needs 9's table. */
    write_file(dir, "9_first.sql",
               "-- the first migration\n"
               "CREATE TABLE IF NOT EXISTS fx (id INT PRIMARY KEY);\n"
               "INSERT IGNORE INTO fx VALUES (1), (2);\n");
    write_file(dir, "10_second.sql", "ALTER TABLE fx ADD COLUMN IF NOT EXISTS note VARCHAR(20) NULL;\n");
    write_file(dir, "README.txt", "not a migration;\n");
    write_file(dir, "x_not_numbered.sql", "THIS IS NOT SQL;\n");

    char *progress_text = NULL;
    size_t progress_len = 0;
    FILE *progress = open_memstream(&progress_text, &progress_len);
    int applied = -1;
    CHECK_INT(migrate_run(c, dir, progress, &applied, NULL, err, sizeof err), 0, "fixture: first run (%s)", err);
    fclose(progress);
    CHECK_INT(applied, 2, "fixture: two files applied");
    CHECK_STR(progress_text, "applying 9_first.sql ... ok\napplying 10_second.sql ... ok\n",
              "fixture: progress lines, in numeric order");
    free(progress_text);
    CHECK_INT(scalar(c, "SELECT COUNT(*) FROM fx WHERE note IS NULL"), 2, "fixture: both files took effect");
    CHECK_INT(scalar(c, "SELECT GROUP_CONCAT(version ORDER BY applied_at, version) = '9,10' FROM schema_migrations"), 1,
              "fixture: recorded as 9, 10");
    CHECK_INT(scalar(c, "SELECT COUNT(*) FROM schema_migrations WHERE name = '10_second.sql' AND applied_at IS NOT NULL"), 1,
              "fixture: name and time recorded");

    CHECK_INT(migrate_run(c, dir, NULL, &applied, NULL, err, sizeof err), 0, "fixture: second run");
    CHECK_INT(applied, 0, "fixture: only pending files run (none)");

    /* A failing file: its first statement runs, the second fails at line 5. */
    write_file(dir, "11_broken.sql",
               "CREATE TABLE IF NOT EXISTS half (id INT);\n"
               "\n"
               "-- the next statement is wrong\n"
               "\n"
               "INSERT INTO half VALUES (1, 'too many');\n");
    write_file(dir, "12_after.sql", "-- derived tables: unchanged\nCREATE TABLE IF NOT EXISTS after_broken (id INT);\n");
    CHECK_INT(migrate_pending(c, dir, err, sizeof err), 2, "fixture: two pending");
    err[0] = '\0';
    CHECK_INT(migrate_run(c, dir, NULL, &applied, NULL, err, sizeof err), -1, "fixture: a failing migration stops the run");
    CHECK(strstr(err, "11_broken.sql") && strstr(err, "line 5") && strstr(err, "(1136)"),
          "fixture: the error names the file, the line and MariaDB's message: %s", err);
    CHECK_INT(applied, 0, "fixture: nothing counted as applied");
    CHECK_INT(scalar(c, "SELECT COUNT(*) FROM schema_migrations WHERE version >= 11"), 0, "fixture: the failed file is not recorded");
    CHECK_INT(scalar(c, "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'after_broken'"),
              0, "fixture: the files after it did not run");
    CHECK_INT(scalar(c, "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'half'"),
              1, "fixture: the statements before the failure stay applied (DDL is not transactional)");

    /* Fixed, the next run continues from the failed file. */
    write_file(dir, "11_broken.sql",
               "CREATE TABLE IF NOT EXISTS half (id INT);\n"
               "INSERT INTO half VALUES (1);\n");
    int reshaped = -1;
    CHECK_INT(migrate_run(c, dir, NULL, &applied, &reshaped, err, sizeof err), 0, "fixture: the next run (%s)", err);
    CHECK_INT(applied, 2, "fixture: it applies the fixed file and the one after");
    CHECK_INT(reshaped, 1, "fixture: of which one may change the derived tables (12 says it does not)");
    CHECK_INT(scalar(c, "SELECT COUNT(*) FROM half"), 1, "fixture: the fixed file ran whole");
    CHECK_INT(scalar(c, "SELECT MAX(version) FROM schema_migrations"), 12, "fixture: recorded up to 12");

    /* Two files with one number. */
    write_file(dir, "012_again.sql", "SELECT 1;\n");
    CHECK_INT(migrate_run(c, dir, NULL, &applied, NULL, err, sizeof err), -1, "fixture: a duplicate number is refused");
    CHECK(strstr(err, "12_after.sql") && strstr(err, "012_again.sql"), "fixture: naming both files: %s", err);
    char path[PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/012_again.sql", dir);
    unlink(path);

    CHECK_INT(migrate_run(c, "/nonexistent/schemas", NULL, &applied, NULL, err, sizeof err), -1, "fixture: a missing dir fails");
    CHECK(strstr(err, "/nonexistent/schemas") && strstr(err, "FOURSCORE_SCHEMA_DIR"), "fixture: naming the dir: %s", err);

    setenv("FOURSCORE_SCHEMA_DIR", dir, 1);
    CHECK_STR(migrate_schema_dir(), dir, "fixture: FOURSCORE_SCHEMA_DIR overrides the schema dir");
    unsetenv("FOURSCORE_SCHEMA_DIR");
}

/* --- two processes' worth of connections migrating at once --- */

typedef struct racer {
    db_url url;
    const char *dir;
    int rc, applied;
    char err[512];
} racer;

static void *race_migrate(void *arg)
{
    racer *r = arg;
    db_conn *c = db_connect(&r->url, r->err, sizeof r->err);
    if (!c) {
        r->rc = -1;
        return NULL;
    }
    r->rc = migrate_run(c, r->dir, NULL, &r->applied, NULL, r->err, sizeof r->err);
    db_close(c);
    return NULL;
}

static void test_concurrent(const db_url *url, const char *base)
{
    char dir[PATH_MAX + 16];
    snprintf(dir, sizeof dir, "%s/race", base);
    mkdir(dir, 0755);
    /* Not idempotent on purpose: running a file twice would fail. */
    write_file(dir, "1_slow.sql", "CREATE TABLE race1 (id INT);\nDO SLEEP(0.5);\n");
    write_file(dir, "2_next.sql", "CREATE TABLE race2 (id INT);\n");
    racer r[2];
    pthread_t th[2];
    for (int k = 0; k < 2; k++) {
        r[k] = (racer){ .url = *url, .dir = dir };
        pthread_create(&th[k], NULL, race_migrate, &r[k]);
    }
    for (int k = 0; k < 2; k++) pthread_join(th[k], NULL);
    CHECK(r[0].rc == 0 && r[1].rc == 0, "concurrent: both runs succeed (%s / %s)", r[0].err, r[1].err);
    CHECK_INT(r[0].applied + r[1].applied, 2, "concurrent: each file applied once in all");
}

int main(void)
{
    test_split();
    testdb t;
    if (testdb_start(&t)) {
        CHECK(0, "a private database with the project's schemas started");
        return check_done();
    }
    test_project_schemas(&t);

    /* The fixture tests use a database of their own on the same server. */
    char err[512];
    CHECK_INT(db_exec_text(t.conn, "CREATE DATABASE fx CHARACTER SET utf8mb4", err, sizeof err), 0, "fx database (%s)", err);
    db_url fx = t.url;
    snprintf(fx.db, sizeof fx.db, "fx");
    db_conn *c = db_connect(&fx, err, sizeof err);
    CHECK(c != NULL, "connect to fx (%s)", err);
    if (c) {
        test_fixture_dirs(c, t.dir);
        db_close(c);
    }
    CHECK_INT(db_exec_text(t.conn, "CREATE DATABASE rc CHARACTER SET utf8mb4", err, sizeof err), 0, "rc database (%s)", err);
    db_url rc = t.url;
    snprintf(rc.db, sizeof rc.db, "rc");
    test_concurrent(&rc, t.dir);
    testdb_stop(&t);
    return check_done();
}
