/* testdb: a fresh private MariaDB for one C test, started through local
 * mode (core/store/localdb.c, the product's own code) in a new temporary data dir
 * and migrated with the project's schemas (core/store/migrate.c).
 *
 *     testdb t;
 *     if (testdb_start(&t)) return 1;          // prints why on failure
 *     db_conn *c = t.conn;                      // one connection, ready
 *     ... t.pool / t.url for more ...
 *     testdb_stop(&t);                          // stops the server, removes the dir
 *
 * Each call makes its own data dir, so tests never see each other's rows.
 * Startup costs about two seconds. The temporary dir is under $TMPDIR (or
 * /tmp); FOURSCORE_TEST_KEEP=1 keeps it for a look after a failure. The
 * server gets a 64M buffer pool unless FOURSCORE_LOCALDB_BUFFER_POOL says
 * otherwise, so that many tests can run side by side. */
#ifndef FS_TESTDB_H
#define FS_TESTDB_H
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "db.h"
#include "localdb.h"
#include "migrate.h"

typedef struct testdb {
    char dir[PATH_MAX];      /* the temporary data dir */
    localdb *local;
    db_url url;
    db_pool *pool;           /* 8 connections */
    db_conn *conn;           /* one taken from pool, released by testdb_stop */
} testdb;

/* Start with the project's schemas applied (schema_dir NULL) or those of
 * schema_dir ("" = none). 0, or -1 after printing the reason. */
static inline int testdb_start_with(testdb *t, const char *schema_dir)
{
    memset(t, 0, sizeof *t);
    const char *tmp = getenv("TMPDIR");
    snprintf(t->dir, sizeof t->dir, "%s/fourscore-test-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(t->dir)) {
        perror("testdb: mkdtemp");
        return -1;
    }
    setenv("FOURSCORE_LOCALDB_BUFFER_POOL", "64M", 0);
    char err[2048];
    if (localdb_open(t->dir, &t->local, &t->url, err, sizeof err)) {
        fprintf(stderr, "testdb: %s\n", err);
        localdb_remove_tree(t->dir);
        return -1;
    }
    t->pool = db_pool_new(&t->url, 8);
    if (!t->pool || !(t->conn = db_acquire(t->pool, 5000, err, sizeof err))) {
        fprintf(stderr, "testdb: %s\n", t->pool ? err : "out of memory");
        goto fail;
    }
    if (!schema_dir) schema_dir = migrate_schema_dir();
    if (*schema_dir && migrate_run(t->conn, schema_dir, NULL, NULL, NULL, err, sizeof err)) {
        fprintf(stderr, "testdb: migrating with %s: %s\n", schema_dir, err);
        goto fail;
    }
    return 0;
fail:
    if (t->conn) db_release(t->pool, t->conn);
    db_pool_free(t->pool);
    localdb_close(t->local);
    localdb_remove_tree(t->dir);
    memset(t, 0, sizeof *t);
    return -1;
}

static inline int testdb_start(testdb *t) { return testdb_start_with(t, NULL); }

/* Stop the server and remove its data dir. Every connection taken from
 * t->pool other than t->conn must have been released. */
static inline void testdb_stop(testdb *t)
{
    if (t->conn) db_release(t->pool, t->conn);
    db_pool_free(t->pool);
    localdb_close(t->local);
    const char *keep = getenv("FOURSCORE_TEST_KEEP");
    if (keep && *keep == '1') fprintf(stderr, "testdb: kept %s\n", t->dir);
    else if (t->dir[0]) localdb_remove_tree(t->dir);
    memset(t, 0, sizeof *t);
}
/* Run one statement of test set-up; 0, or non-zero after printing it and why. */
static inline int testdb_exec(db_conn *c, const char *sql)
{
    char err[512];
    int rc = db_exec_text(c, sql, err, sizeof err);
    if (rc) printf("# %s: %s\n", sql, err);
    return rc;
}
#endif
