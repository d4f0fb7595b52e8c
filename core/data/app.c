/* app: the database side of one Fourscore process (see app.h). Local mode
 * (no database URL: the private server of localdb.c) or --db; the primary
 * pool; the read replica pools, of which app_acquire_read prefers one that
 * answers and otherwise falls back to the primary; migrations when asked.
 * The plugin registry and the KPI engine are opened and closed by their own
 * subsystems; app_close releases the database side only. */
#include "app.h"
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "localdb.h"
#include "log.h"
#include "migrate.h"
#include "rollup.h"
#include "clock.h"

#define APP_ACQUIRE_MS          5000   /* wait for a busy pool */
#define APP_REPLICA_WAIT_MS     200    /* a replica busy longer than this: use another */
#define APP_REPLICA_BACKOFF_MS  10000  /* a replica that failed is left alone this long */
#define APP_DEFAULT_POOL        16
#define APP_AUTH_POOL           4      /* connections for identifying callers */
#define APP_DEFAULT_DB_TIMEOUT_S 5     /* when the config says 0 */

/* The URL without its password, for messages. */
static void url_for_humans(const db_url *u, char *out, size_t cap)
{
    if (u->socket[0])
        snprintf(out, cap, "mariadb://%s@localhost/%s?socket=%s", u->user, u->db, u->socket);
    else
        snprintf(out, cap, "mariadb://%s@%s:%u/%s", u->user, u->host, u->port, u->db);
}

/* A new version's migrations may add derived tables (rollups): when the
 * database already holds facts, fill them at once, so that KPIs are right from
 * the first request after an upgrade. A fresh database has nothing to do. */
static const char SQL_HAS_FACTS[] = "SELECT EXISTS (SELECT 1 FROM stores)";

static void upgrade_progress(void *ud, int done, int total, const char *what)
{
    (void)ud;
    if (what && (done % 10 == 0 || done + 1 == total)) fprintf(stderr, "  [%d/%d] %s\n", done + 1, total, what);
}

/* Nobody reads the database before the server starts: the rebuild takes two
 * more connections of pool when it has them (rollup_rebuild_fresh: twice as
 * fast), else runs on c alone. */
static int rebuild_after_upgrade(db_pool *pool, bool lanes, db_conn *c, char *err, size_t errlen)
{
    db_result *res = NULL;
    char cerr[512];
    if (db_query(c, SQL_HAS_FACTS, NULL, 0, &res, cerr, sizeof cerr) != 0) {
        snprintf(err, errlen, "after migrating: %s", cerr);
        return -1;
    }
    bool has_facts = res->nrows > 0 && db_cell_int(res, 0, 0) == 1;
    db_result_free(res);
    if (!has_facts) return 0;
    fprintf(stderr, "rebuilding the derived tables after the upgrade ...\n");
    if ((lanes ? rollup_rebuild_fresh(pool, upgrade_progress, NULL, cerr, sizeof cerr)
               : rollup_rebuild_progress(c, upgrade_progress, NULL, cerr, sizeof cerr)) != 0) {
        snprintf(err, errlen, "rebuilding the rollups after migrating: %s (run `fourscore rollup --rebuild`)", cerr);
        return -1;
    }
    log_info("migrate", "derived tables rebuilt after the upgrade");
    return 0;
}

/* Connect once to the primary (a clear error at start-up rather than at the
 * first request) and migrate if asked. */
static int check_and_migrate(app *a, bool migrate, char *err, size_t errlen)
{
    char cerr[1024];
    db_conn *c = db_acquire(a->db, APP_ACQUIRE_MS, cerr, sizeof cerr);
    if (!c) {
        snprintf(err, errlen, "%s", cerr);
        return -1;
    }
    const char *schema_dir = migrate_schema_dir();
    int rc = 0;
    if (migrate) {
        int applied = 0, reshaped = 0;
        rc = migrate_run(c, schema_dir, stderr, &applied, &reshaped, cerr, sizeof cerr);
        if (rc) snprintf(err, errlen, "migration failed: %s", cerr);
        else if (applied)
            log_info("migrate", "applied %d migration(s) from %s", applied, schema_dir);
        if (rc == 0 && reshaped) {
            unsigned pool_size = a->cfg.db_pool_size ? a->cfg.db_pool_size : APP_DEFAULT_POOL;
            rc = rebuild_after_upgrade(a->db, pool_size >= 3, c, err, errlen);
        }
    } else {
        int pending = migrate_pending(c, schema_dir, cerr, sizeof cerr);
        if (pending > 0)
            log_warn("migrate", "%d schema migration(s) pending: run `fourscore migrate`", pending);
    }
    db_release(a->db, c);
    return rc;
}

int app_open(app *a, bool migrate, char *err, size_t errlen)
{
    char uerr[1024];
    int pool_size = a->cfg.db_pool_size ? (int)a->cfg.db_pool_size : APP_DEFAULT_POOL;
    a->db = NULL;
    a->db_auth = NULL;
    a->local = NULL;
    a->n_db_read = 0;
    a->db_read_next = 0;
    if (a->cfg.db_url[0] == '\0') {
        const char *dir = a->cfg.data_dir[0] ? a->cfg.data_dir : "./var";
        if (localdb_open(dir, &a->local, &a->url, uerr, sizeof uerr)) {
            snprintf(err, errlen, "local database in %s: %s", dir, uerr);
            return -1;
        }
    } else if (db_parse_url(a->cfg.db_url, &a->url, uerr, sizeof uerr)) {
        snprintf(err, errlen, "--db / FOURSCORE_DB_URL: %s", uerr);
        return -1;
    }
    a->db = db_pool_new(&a->url, pool_size);
    if (!a->db) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    /* a silent database (stalled, unreachable) fails requests after this
     * long; a long import or rebuild on a database that answers goes on */
    int silent_ms = (int)(a->cfg.db_timeout_s ? a->cfg.db_timeout_s : APP_DEFAULT_DB_TIMEOUT_S) * 1000;
    if (db_pool_watch(a->db, silent_ms, uerr, sizeof uerr)) {
        snprintf(err, errlen, "%s", uerr);
        goto fail;
    }
    if (!(a->db_auth = db_pool_new(&a->url, APP_AUTH_POOL))) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    if (db_pool_watch(a->db_auth, silent_ms, uerr, sizeof uerr)) {
        snprintf(err, errlen, "%s", uerr);
        goto fail;
    }
    for (int i = 0; i < a->cfg.n_db_read && i < CONFIG_MAX_READ_URLS; i++) {
        db_url ru;
        if (db_parse_url(a->cfg.db_read[i], &ru, uerr, sizeof uerr)) {
            snprintf(err, errlen, "--db-read / FOURSCORE_DB_READ_URLS (number %d): %s", i + 1, uerr);
            goto fail;
        }
        if (!(a->db_read[i] = db_pool_new(&ru, pool_size))) {
            snprintf(err, errlen, "out of memory");
            goto fail;
        }
        a->db_read_down_until[i] = 0;
        a->n_db_read = i + 1;
        if (db_pool_watch(a->db_read[i], silent_ms, uerr, sizeof uerr)) {
            snprintf(err, errlen, "%s", uerr);
            goto fail;
        }
    }
    if (check_and_migrate(a, migrate, err, errlen)) goto fail;
    char where[1200];
    url_for_humans(&a->url, where, sizeof where);
    log_debug("db", "database %s%s, %d connection(s) at most, %d read replica(s)", where,
             a->local ? " (local mode)" : "", pool_size, a->n_db_read);
    return 0;
fail:
    app_close(a);
    return -1;
}

void app_close(app *a)
{
    for (int i = 0; i < a->n_db_read; i++) {
        db_pool_free(a->db_read[i]);
        a->db_read[i] = NULL;
    }
    a->n_db_read = 0;
    db_pool_free(a->db_auth);
    a->db_auth = NULL;
    db_pool_free(a->db);
    a->db = NULL;
    localdb_close(a->local);       /* stops the local server if this process is the last one */
    a->local = NULL;
}

db_conn *app_acquire_read(app *a, db_pool **from, char *err, size_t errlen)
{
    int n = a->n_db_read;
    if (n > 0) {
        unsigned first = __atomic_fetch_add(&a->db_read_next, 1, __ATOMIC_RELAXED);
        long long now = clock_ms_whole();
        for (int k = 0; k < n; k++) {
            int i = (int)((first + (unsigned)k) % (unsigned)n);
            if (__atomic_load_n(&a->db_read_down_until[i], __ATOMIC_RELAXED) > now) continue;
            char rerr[512];
            db_conn *c = db_acquire(a->db_read[i], APP_REPLICA_WAIT_MS, rerr, sizeof rerr);
            /* a pooled connection to a replica that went away since its last
             * use would fail the request: one round trip finds out, and the
             * read goes to another replica or the primary instead */
            if (c && !db_ping(c)) {
                snprintf(rerr, sizeof rerr, "it does not answer (MariaDB error %d)", db_errno(c));
                db_release(a->db_read[i], c);
                c = NULL;
                log_warn("db", "read replica %d not used for %d s: %s", i + 1, APP_REPLICA_BACKOFF_MS / 1000, rerr);
                __atomic_store_n(&a->db_read_down_until[i], now + APP_REPLICA_BACKOFF_MS, __ATOMIC_RELAXED);
                continue;
            }
            if (c) {
                *from = a->db_read[i];
                return c;
            }
            int size = 0, in_use = 0;
            db_pool_stats(a->db_read[i], &size, &in_use, NULL, NULL);
            if (in_use >= size) continue;                    /* only busy: try the next one */
            log_warn("db", "read replica %d not used for %d s: %s", i + 1, APP_REPLICA_BACKOFF_MS / 1000, rerr);
            __atomic_store_n(&a->db_read_down_until[i], now + APP_REPLICA_BACKOFF_MS, __ATOMIC_RELAXED);
        }
    }
    db_conn *c = db_acquire(a->db, APP_ACQUIRE_MS, err, errlen);
    *from = c ? a->db : NULL;
    return c;
}
