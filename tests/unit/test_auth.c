/* test_auth: roles, scope_resolve, logins and their rate limit, session
 * expiry (idle and absolute), tokens and their revocation, the first admin,
 * the demo users and the audit log, against a fresh private MariaDB.
 * Fixture: regions R1 (stores A1, A2) and R2 (store B1). */
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include "check.h"
#include "testdb.h"
#include "auth.h"
#include "demo.h"
#include "config.h"

/* --- helpers --- */

static long long count_of(db_conn *c, const char *sql, const char *arg)
{
    char err[512];
    db_result *res = NULL;
    db_val v = DB_STR(arg);
    if (db_query(c, sql, arg ? &v : NULL, arg ? 1 : 0, &res, err, sizeof err) != 0) {
        printf("    query failed: %s\n", err);
        return -1;
    }
    long long n = res->nrows ? db_cell_int(res, 0, 0) : -1;
    db_result_free(res);
    return n;
}

static int exec_sql(db_conn *c, const char *sql)
{
    char err[512];
    int rc = db_exec(c, sql, NULL, 0, NULL, err, sizeof err);
    if (rc != 0) printf("    %s: %s\n", sql, err);
    return rc;
}

/* scope_resolve over comma-free lists; the answer joined by ',' into out, or "403:<bad>". */
static void resolve(db_conn *c, const principal *p, const char *const *stores, int ns,
                    const char *const *regions, int nr, char *out, size_t cap)
{
    store_set set;
    char bad[128];
    int rc = scope_resolve(c, p, stores, ns, regions, nr, &set, bad, sizeof bad);
    if (rc == -1) { snprintf(out, cap, "403:%s", bad); return; }
    if (rc != 0) { snprintf(out, cap, "error:%s", bad); return; }
    size_t at = 0;
    out[0] = '\0';
    for (int i = 0; i < set.n && at < cap; i++)
        at += (size_t)snprintf(out + at, cap - at, "%s%s", i ? "," : "", set.codes[i]);
    store_set_free(&set);
}

static int login(db_conn *c, const config *cfg, const char *user, const char *pw, const char *ip,
                 principal *p, char secret[65], int *retry)
{
    char err[512];
    int rc = auth_login(c, cfg, user, pw, ip, p, secret, retry, err, sizeof err);
    if (rc == -2) printf("    auth_login: %s\n", err);
    return rc;
}

/* --- the checks --- */

static void test_roles(void)
{
    const enum role all[] = { ROLE_ADMIN, ROLE_EXEC, ROLE_RM, ROLE_SM, ROLE_UPLOADER, ROLE_METRICS };
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        CHECK(role_parse(role_name(all[i])) == all[i], "role %s parses back", role_name(all[i]));
    CHECK_STR(role_name(ROLE_RM), "regional_manager", "the spec's name of a regional manager");
    CHECK(role_parse("root") == ROLE_NONE, "an unknown role is ROLE_NONE");
    CHECK(role_parse(NULL) == ROLE_NONE, "no role is ROLE_NONE");
}

static void test_import_rights(void)
{
    principal admin, bound = { .role = ROLE_UPLOADER, .is_token = true }, all = bound, metrics = { .role = ROLE_METRICS };
    principal_cli(&admin);
    all.all_stores = true;
    /* true: a group-wide entity (regions, stores, insurers, targets); false: a store's rows */
    CHECK(auth_may_import(&admin, true), "an admin imports stores");
    CHECK(auth_may_import(&bound, false), "a store-bound token imports repair orders");
    CHECK(!auth_may_import(&bound, true), "a store-bound token does not import regions, stores, insurers or targets");
    CHECK(auth_may_import(&all, true), "an all-store token imports insurers");
    CHECK(!auth_may_import(&metrics, false) && !auth_may_import(&metrics, true), "a metrics token imports nothing");
    principal exec = { .role = ROLE_EXEC, .all_stores = true };
    CHECK(!auth_may_import(&exec, false), "an executive imports nothing");
    CHECK(!auth_may_import(NULL, false), "no principal imports nothing");
}

static void test_scope(db_conn *c, const config *cfg)
{
    char out[256], secret[65];
    int retry;
    principal exec, rm, sm;
    CHECK_INT(login(c, cfg, "exec", "demo1234", "10.0.0.1", &exec, secret, &retry), 1, "exec logs in");
    CHECK_INT(login(c, cfg, "rm_r1", "demo1234", "10.0.0.1", &rm, secret, &retry), 1, "rm_r1 logs in");
    CHECK_INT(login(c, cfg, "sm_a1", "demo1234", "10.0.0.1", &sm, secret, &retry), 1, "sm_a1 logs in");
    CHECK(exec.role == ROLE_EXEC && exec.all_stores, "an executive sees all stores");
    CHECK(rm.role == ROLE_RM && !rm.all_stores && rm.nregions == 1 && !strcmp(rm.regions[0], "R1"),
          "the regional manager's region is R1");
    CHECK(rm.nstores == 2 && !strcmp(rm.stores[0], "A1") && !strcmp(rm.stores[1], "A2"),
          "the regional manager's stores are those of R1");
    CHECK(sm.role == ROLE_SM && sm.nstores == 1 && !strcmp(sm.stores[0], "A1"), "the store manager's store is A1");
    CHECK(principal_sees_store(&rm, "A2") && !principal_sees_store(&rm, "B1"), "principal_sees_store follows the region");

    const char *a1[] = { "A1" }, *a2[] = { "A2" }, *b1[] = { "B1" }, *zz[] = { "ZZ" }, *empty[] = { "" };
    const char *r1[] = { "R1" }, *r2[] = { "R2" }, *r9[] = { "R9" };
    resolve(c, &exec, NULL, 0, NULL, 0, out, sizeof out);
    CHECK_STR(out, "A1,A2,B1", "executive, nothing named: every store");
    resolve(c, &exec, NULL, 0, r2, 1, out, sizeof out);
    CHECK_STR(out, "B1", "executive, region R2: its store");
    resolve(c, &exec, zz, 1, NULL, 0, out, sizeof out);
    CHECK_STR(out, "403:ZZ", "executive, an unknown store: refused naming it");
    resolve(c, &exec, NULL, 0, r9, 1, out, sizeof out);
    CHECK_STR(out, "403:R9", "executive, an unknown region: refused naming it");
    resolve(c, &rm, NULL, 0, NULL, 0, out, sizeof out);
    CHECK_STR(out, "A1,A2", "regional manager, nothing named: the region's stores");
    resolve(c, &rm, a1, 1, NULL, 0, out, sizeof out);
    CHECK_STR(out, "A1", "regional manager, store A1");
    resolve(c, &rm, b1, 1, NULL, 0, out, sizeof out);
    CHECK_STR(out, "403:B1", "regional manager, a store of another region: refused, not dropped");
    resolve(c, &rm, zz, 1, NULL, 0, out, sizeof out);
    CHECK_STR(out, "403:ZZ", "regional manager, an unknown store: the same refusal");
    resolve(c, &rm, NULL, 0, r1, 1, out, sizeof out);
    CHECK_STR(out, "A1,A2", "regional manager, own region");
    resolve(c, &rm, NULL, 0, r2, 1, out, sizeof out);
    CHECK_STR(out, "403:R2", "regional manager, another region: refused");
    resolve(c, &rm, a2, 1, r1, 1, out, sizeof out);
    CHECK_STR(out, "A1,A2", "store and region together: the union, once each");
    const char *mixed[] = { "A1", "B1" };
    resolve(c, &rm, mixed, 2, NULL, 0, out, sizeof out);
    CHECK_STR(out, "403:B1", "one store out of scope among several: the whole query refused");
    resolve(c, &rm, empty, 1, NULL, 0, out, sizeof out);
    CHECK_STR(out, "A1,A2", "an empty name names nothing");
    resolve(c, &sm, NULL, 0, NULL, 0, out, sizeof out);
    CHECK_STR(out, "A1", "store manager, nothing named: the store");
    resolve(c, &sm, a2, 1, NULL, 0, out, sizeof out);
    CHECK_STR(out, "403:A2", "store manager, a neighbour store: refused");
    resolve(c, &sm, NULL, 0, r1, 1, out, sizeof out);
    CHECK_STR(out, "403:R1", "store manager, their own store's region: refused (it holds other stores)");
    principal metrics = { .role = ROLE_METRICS, .is_token = true };
    resolve(c, &metrics, NULL, 0, NULL, 0, out, sizeof out);
    CHECK_STR(out, "", "a metrics token sees no store");
    resolve(c, &metrics, a1, 1, NULL, 0, out, sizeof out);
    CHECK_STR(out, "403:A1", "a metrics token naming a store: refused");
    principal_free(&exec);
    principal_free(&rm);
    principal_free(&sm);
}

static void test_login_and_limits(db_conn *c, const config *cfg)
{
    char secret[65];
    int retry = 0;
    principal p;
    CHECK_INT(login(c, cfg, "rm_r1", "wrong-password", "10.0.0.2", &p, secret, &retry), 0, "a wrong password is refused");
    CHECK_INT(login(c, cfg, "nobody", "whatever-1", "10.0.0.2", &p, secret, &retry), 0, "an unknown user is refused the same way");
    CHECK(secret[0] == '\0', "a refused login gets no session");
    CHECK_INT(login(c, cfg, "张三", "whatever-1", "10.0.0.2", &p, secret, &retry), 0, "a name no user can have is unknown, not an error");
    /* per user: 5 failures in the window, then even the right password waits */
    for (int i = 1; i < 5; i++) login(c, cfg, "rm_r1", "wrong-password", "10.0.0.3", &p, secret, &retry);
    int rc = login(c, cfg, "rm_r1", "demo1234", "10.0.0.4", &p, secret, &retry);
    CHECK_INT(rc, AUTH_LOGIN_RATE_LIMITED, "after 5 failures the user is rate-limited, right password or not");
    CHECK(retry >= 1 && retry <= 900, "Retry-After is within the 15-minute window (%d s)", retry);
    CHECK_INT(login(c, cfg, "exec", "demo1234", "10.0.0.4", &p, secret, &retry), 1, "another user from the same address still logs in");
    principal_free(&p);
    /* per address: 20 failures (any names) from one address */
    for (int i = 0; i < 20; i++) {
        char name[32];
        snprintf(name, sizeof name, "guess%d", i);
        login(c, cfg, name, "wrong-password", "10.0.0.9", &p, secret, &retry);
    }
    CHECK_INT(login(c, cfg, "exec", "demo1234", "10.0.0.9", &p, secret, &retry), AUTH_LOGIN_RATE_LIMITED,
              "after 20 failures from one address, that address is rate-limited");
    CHECK_INT(login(c, cfg, "exec", "demo1234", "10.0.0.10", &p, secret, &retry), 1, "another address is not");
    principal_free(&p);
    /* the window passes (rows aged past 15 minutes) */
    exec_sql(c, "UPDATE login_failures SET at = at - INTERVAL 901 SECOND");
    CHECK_INT(login(c, cfg, "rm_r1", "demo1234", "10.0.0.9", &p, secret, &retry), 1, "once the window has passed, the user logs in");
    principal_free(&p);
    CHECK_INT(count_of(c, "SELECT COUNT(*) FROM login_failures WHERE username = ?", "rm_r1"), 0,
              "a successful login clears the user's failures");
}

static void test_sessions(db_conn *c, const config *cfg)
{
    char secret[65], err[512];
    int retry;
    principal p, q;
    CHECK_INT(login(c, cfg, "sm_a1", "demo1234", "10.0.1.1", &p, secret, &retry), 1, "sm_a1 logs in");
    CHECK(strlen(secret) == 64, "the session id is 64 hex digits");
    CHECK_INT(count_of(c, "SELECT COUNT(*) FROM sessions WHERE id_hash = ?", secret), 0, "the session id itself is not stored");
    CHECK_INT(count_of(c, "SELECT COUNT(*) FROM sessions WHERE id_hash = ?", p.session_id), 1, "its hash is");
    CHECK_INT(auth_session_principal(c, cfg, secret, &q, err, sizeof err), 1, "the session identifies its user");
    CHECK_STR(q.name, "sm_a1", "as sm_a1");
    CHECK(q.role == ROLE_SM && q.nstores == 1, "with the store manager's scope");
    principal_free(&q);
    char forged[65];
    memcpy(forged, secret, sizeof forged);
    forged[0] = forged[0] == 'a' ? 'b' : 'a';
    CHECK_INT(auth_session_principal(c, cfg, forged, &q, err, sizeof err), -1, "a changed session id is unknown");
    CHECK_INT(auth_session_principal(c, cfg, "not-a-session", &q, err, sizeof err), -1, "a malformed cookie is refused");
    /* idle expiry */
    db_val h = DB_STR(p.session_id);
    char sql_err[256];
    db_exec(c, "UPDATE sessions SET last_seen = last_seen - INTERVAL 28801 SECOND WHERE id_hash = ?", &h, 1, NULL, sql_err, sizeof sql_err);
    /* checked a moment ago, the session is remembered (2 s) ... */
    CHECK_INT(auth_session_principal(c, cfg, secret, &q, err, sizeof err), 1, "a session checked a moment ago is remembered");
    principal_free(&q);
    /* ... and looked up again once forgotten */
    auth_sessions_forget();
    CHECK_INT(auth_session_principal(c, cfg, secret, &q, err, sizeof err), -1, "idle longer than session_idle_s: expired");
    principal_free(&p);
    /* absolute expiry, though in use */
    CHECK_INT(login(c, cfg, "sm_a1", "demo1234", "10.0.1.1", &p, secret, &retry), 1, "sm_a1 logs in again");
    db_val h2 = DB_STR(p.session_id);
    db_exec(c, "UPDATE sessions SET created_at = created_at - INTERVAL 604801 SECOND WHERE id_hash = ?", &h2, 1, NULL, sql_err, sizeof sql_err);
    auth_sessions_forget();
    CHECK_INT(auth_session_principal(c, cfg, secret, &q, err, sizeof err), -1, "older than session_max_s: expired though active");
    principal_free(&p);
    /* an active session is kept alive: last_seen moves */
    CHECK_INT(login(c, cfg, "sm_a1", "demo1234", "10.0.1.1", &p, secret, &retry), 1, "and once more");
    db_val h3 = DB_STR(p.session_id);
    db_exec(c, "UPDATE sessions SET last_seen = last_seen - INTERVAL 28000 SECOND WHERE id_hash = ?", &h3, 1, NULL, sql_err, sizeof sql_err);
    auth_sessions_forget();
    CHECK_INT(auth_session_principal(c, cfg, secret, &q, err, sizeof err), 1, "idle just under the limit: still valid");
    principal_free(&q);
    CHECK_INT(count_of(c, "SELECT COUNT(*) FROM sessions WHERE id_hash = ? AND last_seen > UTC_TIMESTAMP(6) - INTERVAL 10 SECOND",
                       p.session_id), 1, "and using it refreshed last_seen");
    principal_free(&p);
}

static void test_tokens(db_conn *c)
{
    principal admin, t;
    principal_cli(&admin);
    char secret[80], err[512];
    CHECK_INT(auth_token_create(c, &admin, "up-a1", "uploader", "A1", false, secret, err, sizeof err), 0, "an uploader token for A1");
    CHECK(!strncmp(secret, "fs_", 3) && strlen(secret) == 67, "its secret is fs_ + 64 hex digits");
    CHECK_INT(count_of(c, "SELECT COUNT(*) FROM api_tokens WHERE secret_hash = ?", secret), 0, "the secret is not stored");
    CHECK_INT(auth_token_principal(c, secret, &t, err, sizeof err), 1, "the token identifies itself");
    CHECK(t.role == ROLE_UPLOADER && t.is_token && !t.all_stores && t.nstores == 1 && !strcmp(t.stores[0], "A1"),
          "as an uploader bound to A1");
    CHECK(principal_sees_store(&t, "A1") && !principal_sees_store(&t, "A2"), "it sees A1 only");
    principal_free(&t);
    CHECK_INT(auth_token_create(c, &admin, "up-a1", "uploader", "A2", false, secret, err, sizeof err), 409, "a taken name: 409");
    CHECK_INT(auth_token_create(c, &admin, "x", "uploader", NULL, false, secret, err, sizeof err), 400, "uploader without a store: 400");
    CHECK_INT(auth_token_create(c, &admin, "x", "uploader", "A1", true, secret, err, sizeof err), 400, "store and all stores: 400");
    CHECK_INT(auth_token_create(c, &admin, "x", "metrics", "A1", false, secret, err, sizeof err), 400, "metrics with a store: 400");
    CHECK_INT(auth_token_create(c, &admin, "bad name", "metrics", NULL, false, secret, err, sizeof err), 400, "a bad name: 400");
    CHECK_INT(auth_token_create(c, &admin, "x", "admin", NULL, false, secret, err, sizeof err), 400, "an unknown kind: 400");

    char all_secret[80], metrics_secret[80];
    CHECK_INT(auth_token_create(c, &admin, "up-all", "uploader", NULL, true, all_secret, err, sizeof err), 0, "an all-store token");
    CHECK_INT(auth_token_principal(c, all_secret, &t, err, sizeof err), 1, "it identifies itself");
    CHECK(t.all_stores && auth_may_import(&t, true), "it sees every store and may import regions");
    principal_free(&t);
    CHECK_INT(auth_token_create(c, &admin, "prom", "metrics", NULL, false, metrics_secret, err, sizeof err), 0, "a metrics token");
    CHECK_INT(auth_token_principal(c, metrics_secret, &t, err, sizeof err), 1, "it identifies itself");
    CHECK(t.role == ROLE_METRICS && !t.all_stores && t.nstores == 0, "as metrics, with no store");
    principal_free(&t);

    CHECK_INT(auth_token_revoke(c, &admin, "up-a1", err, sizeof err), 0, "revoke up-a1");
    CHECK_INT(auth_token_principal(c, secret, &t, err, sizeof err), -1, "a revoked token is refused at once");
    CHECK_INT(auth_token_revoke(c, &admin, "up-a1", err, sizeof err), 404, "revoking it again: 404");
    CHECK_INT(auth_token_principal(c, "fs_0123", &t, err, sizeof err), -1, "a malformed token is refused");
    sodium_memzero(secret, sizeof secret);
}

static void test_audit(db_conn *c)
{
    CHECK(count_of(c, "SELECT COUNT(*) FROM audit_log WHERE action = ?", "login") >= 3, "logins are audited");
    CHECK(count_of(c, "SELECT COUNT(*) FROM audit_log WHERE action = ?", "login.failure") >= 25, "failed logins are audited");
    CHECK_INT(count_of(c, "SELECT COUNT(*) FROM audit_log WHERE action = ?", "token.create"), 3, "token creations are audited");
    CHECK_INT(count_of(c, "SELECT COUNT(*) FROM audit_log WHERE action = ?", "token.revoke"), 1, "the revocation is audited");
    CHECK_INT(count_of(c, "SELECT COUNT(*) FROM audit_log WHERE action = ?", "user.create"), 4, "user creations are audited (admin + 3 demo)");
    CHECK_INT(count_of(c, "SELECT COUNT(*) FROM audit_log WHERE CONCAT_WS(' ', actor, target, detail) LIKE CONCAT('%', ?, '%')", "demo1234"), 0,
              "no password in the audit log");
    CHECK_INT(count_of(c, "SELECT COUNT(*) FROM audit_log WHERE CONCAT_WS(' ', actor, target, detail) LIKE CONCAT('%', ?, '%')", "wrong-password"), 0,
              "not even a wrong one");
    char err[512];
    CHECK_INT(audit_log(c, NULL, "settings.update", "retention.lost_months", "{\"from\":24,\"to\":18}", err, sizeof err), 0,
              "audit_log from the command line");
    CHECK_INT(count_of(c, "SELECT COUNT(*) FROM audit_log WHERE actor = 'cli' AND actor_kind = 'cli' AND action = ?", "settings.update"), 1,
              "is recorded as cli");
    char big[10000];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    CHECK_INT(audit_log(c, NULL, "import", big, big, err, sizeof err), 0, "an over-long target and detail are cut, not refused");
}

int main(void)
{
    setenv("FOURSCORE_PWHASH_OPSLIMIT", "1", 1);
    setenv("FOURSCORE_PWHASH_MEMLIMIT", "8388608", 1);
    setenv("FOURSCORE_ADMIN_PASSWORD", "admin-pass-1234", 1);
    test_roles();
    test_import_rights();

    testdb t;
    if (testdb_start(&t)) return 1;
    db_conn *c = t.conn;
    config cfg;
    char err[512];
    if (config_load_env(&cfg, err, sizeof err) != 0) { printf("config: %s\n", err); return 1; }

    CHECK_INT(exec_sql(c, "INSERT INTO regions (region_code, name) VALUES ('R1', '华南'), ('R2', '华北')"), 0, "fixture regions");
    CHECK_INT(exec_sql(c, "INSERT INTO stores (store_code, name, brand, region_code, city) VALUES "
                          "('A1', '广州天河丰田', 'Toyota', 'R1', '广州'), ('A2', '深圳福田本田', 'Honda', 'R1', '深圳'), "
                          "('B1', '北京朝阳大众', 'VW', 'R2', '北京')"), 0, "fixture stores");

    /* first start */
    CHECK_INT(auth_ensure_admin(c, &cfg, err, sizeof err), 0, "auth_ensure_admin creates admin");
    CHECK_INT(count_of(c, "SELECT COUNT(*) FROM users WHERE role = 'admin' AND username = ?", "admin"), 1, "user admin exists");
    CHECK_INT(count_of(c, "SELECT COUNT(*) FROM users WHERE password_hash LIKE '$argon2id$%' AND username = ?", "admin"), 1,
              "its password is an Argon2id hash");
    CHECK_INT(auth_ensure_admin(c, &cfg, err, sizeof err), 0, "a second start");
    CHECK_INT(count_of(c, "SELECT COUNT(*) FROM users", NULL), 1, "creates nothing more");
    char secret[65];
    int retry;
    principal p;
    CHECK_INT(login(c, &cfg, "admin", "admin-pass-1234", "127.0.0.1", &p, secret, &retry), 1,
              "admin logs in with FOURSCORE_ADMIN_PASSWORD");
    CHECK(p.role == ROLE_ADMIN && p.all_stores, "as an admin over all stores");
    principal_free(&p);

    /* demo users from the data in place */
    CHECK_INT(auth_create_demo_users(c, err, sizeof err), 0, "demo users");
    CHECK_INT(count_of(c, "SELECT COUNT(*) FROM users WHERE username IN ('exec', 'rm_r1', 'sm_a1') AND ? = 'x'", "x"), 3,
              "exec, rm_r1 and sm_a1 exist");
    CHECK_INT(auth_create_demo_users(c, err, sizeof err), 0, "demo users again (idempotent)");
    CHECK_INT(count_of(c, "SELECT COUNT(*) FROM users", NULL), 4, "still four users");

    test_scope(c, &cfg);
    test_login_and_limits(c, &cfg);
    test_sessions(c, &cfg);
    test_tokens(c);
    test_audit(c);

    testdb_stop(&t);
    return check_done();
}
