/* sessions: who is asking. Database-held sessions (with a 2 s cache of the
 * ones just checked), API token secrets, and the login with its rate limit
 * (failures per user name and per client address in a 15-minute window).
 * The HTTP side (cookies, Bearer headers, CSRF) is core/http/routes_access.c;
 * this file takes the secrets as C strings. Part of core/access/. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sodium.h>
#include <cJSON.h>
#include "access_private.h"
#include "db.h"
#include "log.h"
#include "counters.h"
#include "clock.h"

/* --- sessions and tokens: who is asking --- */

static const char SQL_SESSION_FIND[] =
    "SELECT u.id, u.username, u.role, u.store_code, "
    "TIMESTAMPDIFF(SECOND, s.last_seen, UTC_TIMESTAMP(6)) "
    "FROM sessions s JOIN users u ON u.id = s.user_id "
    "WHERE s.id_hash = ? AND s.last_seen > UTC_TIMESTAMP(6) - INTERVAL ? SECOND "
    "AND s.created_at > UTC_TIMESTAMP(6) - INTERVAL ? SECOND";
static const char SQL_SESSION_TOUCH[] =
    "UPDATE sessions SET last_seen = UTC_TIMESTAMP(6) WHERE id_hash = ?";
static const char SQL_SESSION_INSERT[] =
    "INSERT INTO sessions (id_hash, user_id, created_at, last_seen, ip) "
    "VALUES (?, ?, UTC_TIMESTAMP(6), UTC_TIMESTAMP(6), ?)";
static const char SQL_SESSION_DELETE[] = "DELETE FROM sessions WHERE id_hash = ?";
static const char SQL_SESSION_PURGE[] =
    "DELETE FROM sessions WHERE last_seen < UTC_TIMESTAMP(6) - INTERVAL ? SECOND "
    "OR created_at < UTC_TIMESTAMP(6) - INTERVAL ? SECOND";
static const char SQL_SESSIONS_OF_USER_DELETE[] = "DELETE FROM sessions WHERE user_id = ?";

/* --- recently checked sessions ---
 * A signed-in browser sends its session with every request; looking it up
 * in the database each time costs a round trip per request. A session found
 * there is kept here for SESSION_CACHE_MS: signing out, a new password and
 * any change to a user through this server clear the cache at once; one made
 * elsewhere (another server, `fourscore user`) is seen within that time. */
#define SESSION_CACHE_SLOTS 256
#define SESSION_CACHE_MS    2000

typedef struct session_slot {
    char hash[HASH_HEX_LEN + 1];     /* "" when free */
    long long until_ms;
    principal who;
} session_slot;

static struct {
    pthread_mutex_t mu;
    session_slot slots[SESSION_CACHE_SLOTS];
} sessions = { .mu = PTHREAD_MUTEX_INITIALIZER };

static int principal_copy(principal *dst, const principal *src)
{
    *dst = *src;
    dst->stores = dst->regions = NULL;
    dst->nstores = dst->nregions = 0;
    for (int i = 0; i < src->nstores; i++)
        if (strv_push(&dst->stores, &dst->nstores, src->stores[i]) != 0) goto oom;
    for (int i = 0; i < src->nregions; i++)
        if (strv_push(&dst->regions, &dst->nregions, src->regions[i]) != 0) goto oom;
    return 0;
oom:
    principal_free(dst);
    return -1;
}

static session_slot *session_slot_of(const char *hash)
{
    unsigned h = 2166136261u;
    for (const char *p = hash; *p; p++) h = (h ^ (unsigned char)*p) * 16777619u;
    return &sessions.slots[h % SESSION_CACHE_SLOTS];
}

/* 1 with *out a copy of the cached principal of hash, 0 if none is fresh. */
static int session_cache_get(const char *hash, principal *out)
{
    int found = 0;
    pthread_mutex_lock(&sessions.mu);
    session_slot *s = session_slot_of(hash);
    if (s->hash[0] && strcmp(s->hash, hash) == 0 && s->until_ms > clock_ms_whole())
        found = principal_copy(out, &s->who) == 0;
    pthread_mutex_unlock(&sessions.mu);
    return found;
}

static void session_cache_put(const char *hash, const principal *who)
{
    principal copy;
    if (principal_copy(&copy, who) != 0) return;
    pthread_mutex_lock(&sessions.mu);
    session_slot *s = session_slot_of(hash);
    principal_free(&s->who);
    snprintf(s->hash, sizeof s->hash, "%s", hash);
    s->until_ms = clock_ms_whole() + SESSION_CACHE_MS;
    s->who = copy;
    pthread_mutex_unlock(&sessions.mu);
}

/* Forget every cached session (a sign-out, a user changed or removed). */
void auth_sessions_forget(void)
{
    pthread_mutex_lock(&sessions.mu);
    for (int i = 0; i < SESSION_CACHE_SLOTS; i++) {
        principal_free(&sessions.slots[i].who);
        sessions.slots[i].hash[0] = '\0';
    }
    pthread_mutex_unlock(&sessions.mu);
}

void session_limits(const config *cfg, long long *idle, long long *max)
{
    *idle = cfg && cfg->session_idle_s ? cfg->session_idle_s : 8 * 3600;
    *max = cfg && cfg->session_max_s ? cfg->session_max_s : 7 * 86400;
}

int auth_session_cached(const char *session_secret, principal *out)
{
    memset(out, 0, sizeof *out);
    if (!session_secret || strlen(session_secret) != 2 * SECRET_BYTES || !is_hex(session_secret, 2 * SECRET_BYTES) ||
        crypto_ready() != 0)
        return 0;
    char hash[HASH_HEX_LEN + 1];
    secret_hash_hex(session_secret, hash);
    return session_cache_get(hash, out);
}

int auth_session_principal(db_conn *c, const config *cfg, const char *session_secret,
                           principal *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    if (!session_secret || strlen(session_secret) != 2 * SECRET_BYTES || !is_hex(session_secret, 2 * SECRET_BYTES))
        return -1;
    if (crypto_ready() != 0) { copy_bounded(err, errlen, "libsodium failed to initialise"); return -2; }
    char hash[HASH_HEX_LEN + 1];
    secret_hash_hex(session_secret, hash);
    if (session_cache_get(hash, out)) return 1;
    long long idle, max;
    session_limits(cfg, &idle, &max);
    db_val v[3] = { DB_STRN(hash, strlen(hash)), DB_INT(idle), DB_INT(max) };
    db_result *res = NULL;
    if (db_query(c, SQL_SESSION_FIND, v, 3, &res, err, errlen) != 0) return -2;
    if (res->nrows != 1) { db_result_free(res); return -1; }
    out->user_id = db_cell_int(res, 0, 0);
    copy_bounded(out->name, sizeof out->name, db_cell(res, 0, 1));
    out->role = role_parse(db_cell(res, 0, 2));
    copy_bounded(out->session_id, sizeof out->session_id, hash);
    long long idle_for = db_cell_int(res, 0, 4);
    int rc = principal_load_scope(c, out, db_cell(res, 0, 3), err, errlen);
    db_result_free(res);
    if (rc != 0) { principal_free(out); return -2; }
    /* keep the session alive; not on every request, but often enough that
     * the idle limit is honoured to within a quarter of it */
    long long every = idle / 4 < TOUCH_EVERY_S ? idle / 4 : TOUCH_EVERY_S;
    if (idle_for >= every) {
        db_val h = DB_STRN(hash, strlen(hash));
        if (db_exec(c, SQL_SESSION_TOUCH, &h, 1, NULL, err, errlen) != 0) { principal_free(out); return -2; }
    }
    session_cache_put(hash, out);
    return 1;
}

static const char SQL_TOKEN_FIND[] =
    "SELECT name, kind, store_code, all_stores, "
    "TIMESTAMPDIFF(SECOND, COALESCE(last_used_at, created_at), UTC_TIMESTAMP(6)) "
    "FROM api_tokens WHERE secret_hash = ?";
static const char SQL_TOKEN_TOUCH[] =
    "UPDATE api_tokens SET last_used_at = UTC_TIMESTAMP(6) WHERE secret_hash = ?";

int auth_token_principal(db_conn *c, const char *token_secret, principal *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    size_t plen = strlen(TOKEN_PREFIX);
    if (!token_secret || strncmp(token_secret, TOKEN_PREFIX, plen) != 0 ||
        strlen(token_secret) != plen + 2 * SECRET_BYTES || !is_hex(token_secret + plen, 2 * SECRET_BYTES))
        return -1;
    if (crypto_ready() != 0) { copy_bounded(err, errlen, "libsodium failed to initialise"); return -2; }
    char hash[HASH_HEX_LEN + 1];
    secret_hash_hex(token_secret, hash);
    db_val h = DB_STRN(hash, strlen(hash));
    db_result *res = NULL;
    if (db_query(c, SQL_TOKEN_FIND, &h, 1, &res, err, errlen) != 0) return -2;
    if (res->nrows != 1) { db_result_free(res); return -1; }
    out->is_token = true;
    copy_bounded(out->name, sizeof out->name, db_cell(res, 0, 0));
    const char *kind = db_cell(res, 0, 1);
    out->role = kind && !strcmp(kind, "metrics") ? ROLE_METRICS : ROLE_UPLOADER;
    const char *store = db_cell(res, 0, 2);
    out->all_stores = out->role == ROLE_UPLOADER && db_cell_int(res, 0, 3) != 0;
    int rc = 0;
    if (out->role == ROLE_UPLOADER && !out->all_stores && store)
        rc = strv_push(&out->stores, &out->nstores, store);
    long long unused_for = db_cell_int(res, 0, 4);
    db_result_free(res);
    if (rc != 0) { principal_free(out); copy_bounded(err, errlen, "out of memory"); return -2; }
    if (unused_for >= TOUCH_EVERY_S && db_exec(c, SQL_TOKEN_TOUCH, &h, 1, NULL, err, errlen) != 0) {
        principal_free(out);
        return -2;
    }
    return 1;
}


/* --- login and its rate limit --- */

static const char SQL_USER_LOGIN[] =
    "SELECT id, password_hash, role, store_code FROM users WHERE username = ?";
static const char SQL_FAILURES_BY_USER[] =
    "SELECT COUNT(*), TIMESTAMPDIFF(SECOND, UTC_TIMESTAMP(6), MIN(at) + INTERVAL ? SECOND) "
    "FROM login_failures WHERE username = ? AND at > UTC_TIMESTAMP(6) - INTERVAL ? SECOND";
static const char SQL_FAILURES_BY_ADDR[] =
    "SELECT COUNT(*), TIMESTAMPDIFF(SECOND, UTC_TIMESTAMP(6), MIN(at) + INTERVAL ? SECOND) "
    "FROM login_failures WHERE ip = ? AND at > UTC_TIMESTAMP(6) - INTERVAL ? SECOND";
static const char SQL_FAILURE_INSERT[] =
    "INSERT INTO login_failures (username, ip, at) VALUES (?, ?, UTC_TIMESTAMP(6))";
static const char SQL_FAILURES_PURGE[] =
    "DELETE FROM login_failures WHERE at < UTC_TIMESTAMP(6) - INTERVAL ? SECOND";
static const char SQL_FAILURES_OF_USER_DELETE[] = "DELETE FROM login_failures WHERE username = ?";
static const char SQL_USER_REHASH[] = "UPDATE users SET password_hash = ? WHERE id = ?";

/* 1 when key has used up its failures (*retry_after set), 0 if not, -2 on error. */
static int failures_exceeded(db_conn *c, const char *sql, const db_val *key, int limit,
                             int *retry_after, char *err, size_t errlen)
{
    db_val v[3] = { DB_INT(LOGIN_WINDOW_S), *key, DB_INT(LOGIN_WINDOW_S) };
    db_result *res = NULL;
    if (db_query(c, sql, v, 3, &res, err, errlen) != 0) return -2;
    long long count = res->nrows ? db_cell_int(res, 0, 0) : 0;
    long long wait = res->nrows && db_cell(res, 0, 1) ? db_cell_int(res, 0, 1) + 1 : 1;
    db_result_free(res);
    if (count < limit) return 0;
    if (wait < 1) wait = 1;
    if (wait > LOGIN_WINDOW_S) wait = LOGIN_WINDOW_S;
    if (wait > *retry_after) *retry_after = (int)wait;
    return 1;
}

int auth_login(db_conn *c, const config *cfg, const char *username, const char *password,
               const char *ip, principal *out, char session_secret_out[65], int *retry_after_s,
               char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    session_secret_out[0] = '\0';
    *retry_after_s = 0;
    if (!ip || !*ip) ip = "-";
    if (crypto_ready() != 0) { copy_bounded(err, errlen, "libsodium failed to initialise"); return -2; }
    db_val user_key = DB_STRN(username, utf8_prefix_len(username, NAME_MAX_LEN));
    db_val addr_key = DB_STRN(ip, utf8_prefix_len(ip, 64));

    int over_user = failures_exceeded(c, SQL_FAILURES_BY_USER, &user_key, LOGIN_MAX_PER_USER, retry_after_s, err, errlen);
    if (over_user < 0) return -2;
    int over_addr = failures_exceeded(c, SQL_FAILURES_BY_ADDR, &addr_key, LOGIN_MAX_PER_ADDR, retry_after_s, err, errlen);
    if (over_addr < 0) return -2;
    if (over_user || over_addr) {
        log_warn("auth", "login rate-limited: user \"%.64s\" from %s (%s)", username, ip,
                 over_user ? "too many failures for the user" : "too many failures from the address");
        metrics_add(METRIC_LOGIN_FAILURES, 1);
        return AUTH_LOGIN_RATE_LIMITED;
    }

    /* a name that no user can have is not looked up (nor compared with
     * the ASCII column): it is simply unknown */
    db_result *res = NULL;
    if (valid_name(username) && db_query(c, SQL_USER_LOGIN, &user_key, 1, &res, err, errlen) != 0) return -2;
    bool known = res && res->nrows == 1;
    bool ok;
    if (known) {
        ok = password_verify(db_cell(res, 0, 1), password);
    } else {
        /* spend the same time on an unknown name as on a wrong password */
        char dummy[crypto_pwhash_STRBYTES];
        if (password_hash(cfg, password, dummy, err, errlen) != 0) { db_result_free(res); return -2; }
        ok = false;
    }

    if (!ok) {
        db_result_free(res);
        db_val fv[2] = { user_key, addr_key };
        db_val window = DB_INT(LOGIN_WINDOW_S);
        principal tried = { .role = ROLE_NONE };
        copy_bounded(tried.name, sizeof tried.name, username);
        cJSON *detail = cJSON_CreateObject();
        cJSON_AddStringToObject(detail, "ip", ip);
        cJSON_AddStringToObject(detail, "reason", known ? "wrong password" : "unknown user");
        if (db_exec(c, SQL_FAILURES_PURGE, &window, 1, NULL, err, errlen) != 0 ||
            db_exec(c, SQL_FAILURE_INSERT, fv, 2, NULL, err, errlen) != 0 ||
            audit_json(c, &tried, "login.failure", tried.name, detail, err, errlen) != 0)
            return -2;
        log_info("auth", "login failed: user \"%.64s\" from %s", username, ip);
        metrics_add(METRIC_LOGIN_FAILURES, 1);
        return 0;
    }

    out->user_id = db_cell_int(res, 0, 0);
    copy_bounded(out->name, sizeof out->name, username);
    out->role = role_parse(db_cell(res, 0, 2));
    char *store = db_cell(res, 0, 3) ? strdup(db_cell(res, 0, 3)) : NULL;
    /* the configured cost went up (or down) since this hash was made: redo it now */
    unsigned long long ops;
    size_t mem;
    pwhash_cost(cfg, &ops, &mem);
    bool rehash = crypto_pwhash_str_needs_rehash(db_cell(res, 0, 1), ops, mem) != 0;
    db_result_free(res);
    int rc = principal_load_scope(c, out, store, err, errlen);
    free(store);
    if (rc != 0) { principal_free(out); return -2; }
    if (rehash) {
        char fresh[crypto_pwhash_STRBYTES];
        if (password_hash(cfg, password, fresh, err, errlen) != 0) { principal_free(out); return -2; }
        db_val rv[2] = { DB_STRN(fresh, strlen(fresh)), DB_INT(out->user_id) };
        if (db_exec(c, SQL_USER_REHASH, rv, 2, NULL, err, errlen) != 0) { principal_free(out); return -2; }
    }

    char secret[2 * SECRET_BYTES + 1], hash[HASH_HEX_LEN + 1];
    random_hex(secret);
    secret_hash_hex(secret, hash);
    long long idle, max;
    session_limits(cfg, &idle, &max);
    db_val purge[2] = { DB_INT(idle), DB_INT(max) };
    db_val ins[3] = { DB_STRN(hash, strlen(hash)), DB_INT(out->user_id), addr_key };
    db_val uk = DB_STR(out->name);
    cJSON *detail = cJSON_CreateObject();
    cJSON_AddStringToObject(detail, "ip", ip);
    if (db_exec(c, SQL_SESSION_PURGE, purge, 2, NULL, err, errlen) != 0 ||
        db_exec(c, SQL_SESSION_INSERT, ins, 3, NULL, err, errlen) != 0 ||
        db_exec(c, SQL_FAILURES_OF_USER_DELETE, &uk, 1, NULL, err, errlen) != 0 ||
        audit_json(c, out, "login", out->name, detail, err, errlen) != 0) {
        principal_free(out);
        sodium_memzero(secret, sizeof secret);
        return -2;
    }
    copy_bounded(out->session_id, sizeof out->session_id, hash);
    memcpy(session_secret_out, secret, sizeof secret);
    sodium_memzero(secret, sizeof secret);
    log_info("auth", "login: user \"%s\" (%s) from %s", out->name, role_name(out->role), ip);
    return 1;
}

int auth_session_end(db_conn *c, const char *id_hash, char *err, size_t errlen)
{
    db_val h = DB_STR(id_hash);
    int rc = db_exec(c, SQL_SESSION_DELETE, &h, 1, NULL, err, errlen);
    auth_sessions_forget();
    return rc;
}

int auth_sessions_end_user(db_conn *c, long long user_id, char *err, size_t errlen)
{
    db_val uid = DB_INT(user_id);
    return db_exec(c, SQL_SESSIONS_OF_USER_DELETE, &uid, 1, NULL, err, errlen);
}

/* --- a user's principal without a session (scheduled work as its owner) --- */

static const char SQL_USER_PRINCIPAL[] =
    "SELECT id, role, store_code FROM users WHERE username = ?";

int auth_user_principal(db_conn *c, const char *username, principal *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    db_val v = DB_STR(username);
    db_result *res = NULL;
    if (db_query(c, SQL_USER_PRINCIPAL, &v, 1, &res, err, errlen) != 0) return -2;
    if (res->nrows != 1) { db_result_free(res); return 0; }
    out->user_id = db_cell_int(res, 0, 0);
    copy_bounded(out->name, sizeof out->name, username);
    out->role = role_parse(db_cell(res, 0, 1));
    int rc = principal_load_scope(c, out, db_cell(res, 0, 2), err, errlen);
    db_result_free(res);
    if (rc != 0) { principal_free(out); return -2; }
    return 1;
}
