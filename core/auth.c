/* auth: who is asking and what they may see. Users and their roles
 * (admin, executive, regional_manager, store_manager), API tokens (uploader,
 * metrics), database-held sessions, the login rate limit, CSRF for cookie
 * writes, the audit log, and scope_resolve(): the one place that turns a
 * principal and the stores/regions a query names into the stores it reads.
 * Secrets are never stored or logged: passwords as Argon2id strings
 * (crypto_pwhash_str), session ids and token secrets as their 32-byte
 * crypto_generichash in hex. docs/security.md describes the whole model. */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>
#include <sodium.h>
#include <cJSON.h>
#include "app.h"
#include "auth.h"
#include "commands.h"
#include "config.h"
#include "db.h"
#include "http.h"
#include "log.h"

/* --- constants --- */

#define SECRET_BYTES        32            /* session ids and token secrets */
#define HASH_HEX_LEN        64            /* crypto_generichash 32 bytes, hex */
#define TOKEN_PREFIX        "fs_"         /* token secrets: fs_ + 64 hex */
#define LOGIN_WINDOW_S      900           /* 15 minutes */
#define LOGIN_MAX_PER_USER  5             /* failures per user name per window */
#define LOGIN_MAX_PER_ADDR  20            /* failures per client address per window */
#define PASSWORD_MIN        8
#define PASSWORD_MAX        1024
#define NAME_MAX_LEN        64            /* user and token names */
#define CODE_MAX_LEN        32            /* store and region codes (import-format.md) */
#define MAX_USER_REGIONS    64
#define DB_WAIT_MS          5000
#define PWHASH_PARALLEL     4             /* Argon2id runs at once (memory bound) */
#define AUDIT_DETAIL_MAX    8000
#define DEMO_PASSWORD       "demo1234"
#define TOUCH_EVERY_S       60            /* refresh a session's last_seen at most this often */

/* --- roles --- */

static const char *const role_names[] = {
    [ROLE_NONE] = "none",
    [ROLE_ADMIN] = "admin",
    [ROLE_EXEC] = "executive",
    [ROLE_RM] = "regional_manager",
    [ROLE_SM] = "store_manager",
    [ROLE_UPLOADER] = "uploader",
    [ROLE_METRICS] = "metrics",
};

const char *role_name(enum role r)
{
    if ((int)r < 0 || (size_t)r >= sizeof role_names / sizeof role_names[0]) return "none";
    return role_names[r];
}

enum role role_parse(const char *s)
{
    if (!s) return ROLE_NONE;
    for (size_t i = 1; i < sizeof role_names / sizeof role_names[0]; i++)
        if (strcmp(s, role_names[i]) == 0) return (enum role)i;
    return ROLE_NONE;
}

static bool role_is_user(enum role r)
{
    return r == ROLE_ADMIN || r == ROLE_EXEC || r == ROLE_RM || r == ROLE_SM;
}

/* --- small helpers: string lists, names, bounded copies --- */

static int strv_push(char ***v, int *n, const char *s)
{
    char **grown = realloc(*v, (size_t)(*n + 1) * sizeof *grown);
    if (!grown) return -1;
    *v = grown;
    grown[*n] = strdup(s);
    if (!grown[*n]) return -1;
    (*n)++;
    return 0;
}

static void strv_free(char **v, int n)
{
    for (int i = 0; i < n; i++) free(v[i]);
    free(v);
}

static bool strv_has(char *const *v, int n, const char *s)
{
    for (int i = 0; i < n; i++)
        if (strcmp(v[i], s) == 0) return true;
    return false;
}

static void copy_bounded(char *dst, size_t cap, const char *src)
{
    snprintf(dst, cap, "%s", src ? src : "");
}

/* User and token names: [A-Za-z0-9_.-]{1,64}. */
static bool valid_name(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > NAME_MAX_LEN) return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (!isalnum(ch) && ch != '_' && ch != '.' && ch != '-') return false;
    }
    return true;
}

/* Store and region codes: [A-Za-z0-9_-]{1,32} (import-format.md). */
static bool valid_code(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > CODE_MAX_LEN) return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (!isalnum(ch) && ch != '_' && ch != '-') return false;
    }
    return true;
}

/* Length of the longest prefix of s of at most max bytes that does not cut
 * a UTF-8 sequence. */
static size_t utf8_prefix_len(const char *s, size_t max)
{
    size_t n = strlen(s);
    if (n <= max) return n;
    size_t k = max;
    while (k > 0 && ((unsigned char)s[k] & 0xC0) == 0x80) k--;
    return k;
}

static bool is_hex(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isxdigit((unsigned char)s[i])) return false;
    return s[n] == '\0';
}

/* --- principals and scope --- */

void principal_free(principal *p)
{
    if (!p) return;
    strv_free(p->stores, p->nstores);
    strv_free(p->regions, p->nregions);
    p->stores = p->regions = NULL;
    p->nstores = p->nregions = 0;
}

void principal_cli(principal *p)
{
    memset(p, 0, sizeof *p);
    p->role = ROLE_ADMIN;
    p->all_stores = true;
    copy_bounded(p->name, sizeof p->name, "cli");
}

bool principal_sees_store(const principal *p, const char *store_code)
{
    if (!p || !store_code) return false;
    if (p->all_stores) return true;
    return strv_has(p->stores, p->nstores, store_code);
}

static bool principal_sees_region(const principal *p, const char *region_code)
{
    if (!p || !region_code) return false;
    if (p->all_stores) return true;
    return p->role == ROLE_RM && strv_has(p->regions, p->nregions, region_code);
}

bool auth_may_import(const principal *p, const char *entity)
{
    if (!p || !entity) return false;
    bool shared = !strcmp(entity, "regions") || !strcmp(entity, "stores") || !strcmp(entity, "insurers");
    if (p->role == ROLE_ADMIN) return true;
    if (p->role != ROLE_UPLOADER) return false;
    return shared ? p->all_stores : true;
}

void store_set_free(store_set *s)
{
    if (!s) return;
    strv_free(s->codes, s->n);
    s->codes = NULL;
    s->n = 0;
}

static const char SQL_ALL_STORES[] =
    "SELECT store_code, region_code FROM stores ORDER BY store_code";
static const char SQL_ALL_REGIONS[] =
    "SELECT region_code FROM regions ORDER BY region_code";

static int dir_has(const char *const *codes, int n, const char *code)
{
    for (int i = 0; i < n; i++)
        if (strcmp(codes[i], code) == 0) return i;
    return -1;
}

int scope_resolve_dir(const scope_dir *dir, const principal *p, const char *const *stores, int nstores,
                      const char *const *regions, int nregions, store_set *out, char *bad, size_t badlen)
{
    out->codes = NULL;
    out->n = 0;
    if (bad && badlen) bad[0] = '\0';
    bool *picked = dir->nstores ? calloc((size_t)dir->nstores, sizeof *picked) : NULL;
    if (dir->nstores && !picked) {
        if (bad && badlen) copy_bounded(bad, badlen, "out of memory");
        return SCOPE_DB_ERROR;
    }
    int rc = 0;
    bool named = false;

    /* named stores: each must exist and be in scope */
    for (int i = 0; i < nstores && rc == 0; i++) {
        const char *code = stores[i];
        if (!code || !*code) continue;
        named = true;
        int found = dir_has(dir->store_codes, dir->nstores, code);
        if (found < 0 || !principal_sees_store(p, code)) {
            if (bad && badlen) copy_bounded(bad, badlen, code);
            rc = -1;
        } else {
            picked[found] = true;
        }
    }

    /* named regions: each must exist and be in scope; adds all its stores */
    for (int i = 0; i < nregions && rc == 0; i++) {
        const char *code = regions[i];
        if (!code || !*code) continue;
        named = true;
        if (dir_has(dir->region_codes, dir->nregions, code) < 0 || !principal_sees_region(p, code)) {
            if (bad && badlen) copy_bounded(bad, badlen, code);
            rc = -1;
            break;
        }
        for (int k = 0; k < dir->nstores; k++) {
            const char *rc_code = dir->store_regions[k];
            if (rc_code && strcmp(rc_code, code) == 0 && principal_sees_store(p, dir->store_codes[k]))
                picked[k] = true;
        }
    }

    /* neither named: every store in scope */
    if (rc == 0 && !named)
        for (int k = 0; k < dir->nstores; k++)
            picked[k] = principal_sees_store(p, dir->store_codes[k]);

    for (int k = 0; rc == 0 && k < dir->nstores; k++) {
        if (!picked[k]) continue;
        if (strv_push(&out->codes, &out->n, dir->store_codes[k]) != 0) {
            if (bad && badlen) copy_bounded(bad, badlen, "out of memory");
            rc = SCOPE_DB_ERROR;
        }
    }
    if (rc != 0) store_set_free(out);
    free(picked);
    return rc;
}

int scope_resolve(db_conn *c, const principal *p, const char *const *stores, int nstores,
                  const char *const *regions, int nregions, store_set *out, char *bad, size_t badlen)
{
    out->codes = NULL;
    out->n = 0;
    char err[512];
    db_result *all = NULL, *regs = NULL;
    if (db_query(c, SQL_ALL_STORES, NULL, 0, &all, err, sizeof err) != 0 ||
        (nregions > 0 && db_query(c, SQL_ALL_REGIONS, NULL, 0, &regs, err, sizeof err) != 0)) {
        db_result_free(all);
        if (bad && badlen) copy_bounded(bad, badlen, err);
        return SCOPE_DB_ERROR;
    }
    int n = all->nrows, nr = regs ? regs->nrows : 0;
    const char **codes = calloc((size_t)(2 * n + nr + 1), sizeof *codes);
    if (!codes) {
        db_result_free(all);
        db_result_free(regs);
        if (bad && badlen) copy_bounded(bad, badlen, "out of memory");
        return SCOPE_DB_ERROR;
    }
    for (int k = 0; k < n; k++) {
        codes[k] = db_cell(all, k, 0);
        codes[n + k] = db_cell(all, k, 1);
    }
    for (int k = 0; k < nr; k++) codes[2 * n + k] = db_cell(regs, k, 0);
    scope_dir dir = { n, codes, codes + n, nr, codes + 2 * n };
    int rc = scope_resolve_dir(&dir, p, stores, nstores, regions, nregions, out, bad, badlen);
    free(codes);
    db_result_free(all);
    db_result_free(regs);
    return rc;
}

/* Fill the scope of a user principal from the database: regions and their
 * stores for a regional manager, the one store of a store manager. */
static const char SQL_USER_REGIONS[] =
    "SELECT region_code FROM user_regions WHERE user_id = ? ORDER BY region_code";
static const char SQL_USER_REGION_STORES[] =
    "SELECT s.store_code FROM stores s JOIN user_regions ur ON ur.region_code = s.region_code "
    "WHERE ur.user_id = ? ORDER BY s.store_code";

static int principal_load_scope(db_conn *c, principal *p, const char *store_code, char *err, size_t errlen)
{
    p->all_stores = (p->role == ROLE_ADMIN || p->role == ROLE_EXEC);
    if (p->role == ROLE_SM && store_code) {
        if (strv_push(&p->stores, &p->nstores, store_code) != 0) goto oom;
    } else if (p->role == ROLE_RM) {
        db_val id = DB_INT(p->user_id);
        db_result *res = NULL;
        if (db_query(c, SQL_USER_REGIONS, &id, 1, &res, err, errlen) != 0) return -2;
        for (int i = 0; i < res->nrows; i++)
            if (strv_push(&p->regions, &p->nregions, db_cell(res, i, 0)) != 0) { db_result_free(res); goto oom; }
        db_result_free(res);
        if (db_query(c, SQL_USER_REGION_STORES, &id, 1, &res, err, errlen) != 0) return -2;
        for (int i = 0; i < res->nrows; i++)
            if (strv_push(&p->stores, &p->nstores, db_cell(res, i, 0)) != 0) { db_result_free(res); goto oom; }
        db_result_free(res);
    }
    return 0;
oom:
    copy_bounded(err, errlen, "out of memory");
    return -2;
}

/* --- secrets and password hashing --- */

static int crypto_ready(void)
{
    return sodium_init() < 0 ? -1 : 0;
}

/* hex of crypto_generichash(secret): what the database keeps of a session id or token. */
static void secret_hash_hex(const char *secret, char out[HASH_HEX_LEN + 1])
{
    unsigned char bin[32];
    crypto_generichash(bin, sizeof bin, (const unsigned char *)secret, strlen(secret), NULL, 0);
    sodium_bin2hex(out, HASH_HEX_LEN + 1, bin, sizeof bin);
    sodium_memzero(bin, sizeof bin);
}

static void random_hex(char out[2 * SECRET_BYTES + 1])
{
    unsigned char bin[SECRET_BYTES];
    randombytes_buf(bin, sizeof bin);
    sodium_bin2hex(out, 2 * SECRET_BYTES + 1, bin, sizeof bin);
    sodium_memzero(bin, sizeof bin);
}

/* Argon2id needs pwhash_memlimit bytes per run: at most PWHASH_PARALLEL run
 * at once, so a burst of logins cannot exhaust memory. The gate is process
 * state by nature (it guards this process's memory). */
static pthread_mutex_t pwhash_gate_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t pwhash_gate_cv = PTHREAD_COND_INITIALIZER;
static int pwhash_running;

static void pwhash_enter(void)
{
    pthread_mutex_lock(&pwhash_gate_mu);
    while (pwhash_running >= PWHASH_PARALLEL) pthread_cond_wait(&pwhash_gate_cv, &pwhash_gate_mu);
    pwhash_running++;
    pthread_mutex_unlock(&pwhash_gate_mu);
}

static void pwhash_leave(void)
{
    pthread_mutex_lock(&pwhash_gate_mu);
    pwhash_running--;
    pthread_cond_signal(&pwhash_gate_cv);
    pthread_mutex_unlock(&pwhash_gate_mu);
}

/* Cost from the configuration, never under libsodium's floor nor 8 MiB. */
static void pwhash_cost(const config *cfg, unsigned long long *ops, size_t *mem)
{
    *ops = cfg && cfg->pwhash_opslimit ? cfg->pwhash_opslimit : 3;
    *mem = cfg && cfg->pwhash_memlimit ? cfg->pwhash_memlimit : (size_t)64 << 20;
    if (*ops < crypto_pwhash_OPSLIMIT_MIN) *ops = crypto_pwhash_OPSLIMIT_MIN;
    if (*mem < ((size_t)8 << 20)) *mem = (size_t)8 << 20;
}

static int password_hash(const config *cfg, const char *password, char out[crypto_pwhash_STRBYTES],
                         char *err, size_t errlen)
{
    unsigned long long ops;
    size_t mem;
    pwhash_cost(cfg, &ops, &mem);
    if (crypto_ready() != 0) { copy_bounded(err, errlen, "libsodium failed to initialise"); return -1; }
    pwhash_enter();
    int rc = crypto_pwhash_str(out, password, strlen(password), ops, mem);
    pwhash_leave();
    if (rc != 0) { copy_bounded(err, errlen, "password hashing ran out of memory"); return -1; }
    return 0;
}

static bool password_verify(const char *stored, const char *password)
{
    pwhash_enter();
    bool ok = crypto_pwhash_str_verify(stored, password, strlen(password)) == 0;
    pwhash_leave();
    return ok;
}

/* Why a password is refused, or NULL when it is acceptable. */
static const char *password_problem(const char *password)
{
    size_t n = password ? strlen(password) : 0;
    if (n < PASSWORD_MIN) return "the password needs at least 8 characters (密码至少 8 位)";
    if (n > PASSWORD_MAX) return "the password is longer than 1024 bytes";
    return NULL;
}

/* --- audit --- */

static const char SQL_AUDIT_INSERT[] =
    "INSERT INTO audit_log (at, actor, actor_kind, action, target, detail) "
    "VALUES (UTC_TIMESTAMP(6), ?, ?, ?, ?, ?)";

int audit_log(db_conn *c, const principal *who, const char *action, const char *target,
              const char *detail, char *err, size_t errlen)
{
    const char *actor = "cli", *kind = "cli";
    if (who && who->role != ROLE_NONE && !(who->user_id == 0 && !who->is_token)) {
        actor = who->name;
        kind = who->is_token ? "token" : "user";
    } else if (who && who->role == ROLE_NONE && who->name[0]) {
        actor = who->name;          /* e.g. a failed login: the name tried */
        kind = "anonymous";
    }
    const char *act = action ? action : "unknown";
    db_val v[5] = {
        DB_STRN(actor, utf8_prefix_len(actor, 72)),
        DB_STR(kind),
        DB_STRN(act, utf8_prefix_len(act, 64)),
        target ? DB_STRN(target, utf8_prefix_len(target, 255)) : DB_NULL,
        detail ? DB_STRN(detail, utf8_prefix_len(detail, AUDIT_DETAIL_MAX)) : DB_NULL,
    };
    return db_exec(c, SQL_AUDIT_INSERT, v, 5, NULL, err, errlen);
}

/* audit_log with a JSON detail built by the caller (takes ownership). */
static int audit_json(db_conn *c, const principal *who, const char *action, const char *target,
                      cJSON *detail, char *err, size_t errlen)
{
    char *text = detail ? cJSON_PrintUnformatted(detail) : NULL;
    cJSON_Delete(detail);
    int rc = audit_log(c, who, action, target, text, err, errlen);
    free(text);
    return rc;
}

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

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

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
    if (s->hash[0] && strcmp(s->hash, hash) == 0 && s->until_ms > now_ms())
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
    s->until_ms = now_ms() + SESSION_CACHE_MS;
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

static void session_limits(const config *cfg, long long *idle, long long *max)
{
    *idle = cfg && cfg->session_idle_s ? cfg->session_idle_s : 8 * 3600;
    *max = cfg && cfg->session_max_s ? cfg->session_max_s : 7 * 86400;
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

/* The authority (host[:port]) of an Origin or Referer value, or NULL. */
static bool origin_authority(const char *url, char *out, size_t cap)
{
    const char *p = strstr(url, "://");
    if (!p) return false;
    p += 3;
    size_t n = strcspn(p, "/?#");
    if (n == 0 || n >= cap) return false;
    memcpy(out, p, n);
    out[n] = '\0';
    return true;
}

/* CSRF: a cookie-authenticated write must come from a page of this host.
 * SameSite=Strict already keeps the cookie off cross-site requests; this is
 * the second fence (OWASP: verify the source origin against the target). */
static bool source_matches_host(http_req *r, const char *source, const char **why)
{
    const char *host = http_header(r, "Host");
    if (!host || !*host) { *why = "the request has no Host header"; return false; }
    char authority[300];
    if (!origin_authority(source, authority, sizeof authority) || strcasecmp(authority, host) != 0) {
        *why = "the request comes from another site (Origin/Referer does not match Host)";
        return false;
    }
    return true;
}

static bool csrf_ok(http_req *r, const char **why)
{
    const char *m = r->method ? r->method : "";
    if (!strcmp(m, "GET") || !strcmp(m, "HEAD") || !strcmp(m, "OPTIONS")) return true;
    const char *origin = http_header(r, "Origin");
    const char *source = origin && strcmp(origin, "null") != 0 ? origin : http_header(r, "Referer");
    if (!source) { *why = "a write with a session cookie needs an Origin or Referer header"; return false; }
    return source_matches_host(r, source, why);
}

/* "Bearer SECRET" -> SECRET (trailing blanks cut into buf), or NULL. */
static const char *bearer_secret(const char *header, char *buf, size_t cap)
{
    if (strncasecmp(header, "Bearer", 6) != 0 || (header[6] != ' ' && header[6] != '\t')) return NULL;
    const char *s = header + 6;
    while (*s == ' ' || *s == '\t') s++;
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t')) n--;
    if (n == 0 || n >= cap) return NULL;
    memcpy(buf, s, n);
    buf[n] = '\0';
    return buf;
}

int auth_identify(http_req *r, principal *out)
{
    memset(out, 0, sizeof *out);
    /* A Bearer token wins over a cookie. Another Authorization scheme (say,
     * Basic from a proxy in front) does not hide the session cookie. */
    const char *authz = http_header(r, "Authorization");
    char secret[160];
    const char *token = authz ? bearer_secret(authz, secret, sizeof secret) : NULL;
    bool is_bearer = authz && strncasecmp(authz, "Bearer", 6) == 0;
    const char *cookie = is_bearer ? NULL : http_cookie(r, AUTH_SESSION_COOKIE);
    if (is_bearer && !token) return -1;
    if (!token && (!cookie || !*cookie)) return authz ? -1 : 0;
    if (!token) {
        const char *why = NULL;
        if (!csrf_ok(r, &why)) {
            log_warn("auth", "csrf: refused %s %s: %s", r->method, r->path, why);
            http_reply_errorf(r, 403, "csrf", "%s", why);
            return AUTH_REFUSED;
        }
    }
    app *a = r->app;
    char err[512];
    db_conn *c = db_acquire(a->db, DB_WAIT_MS, err, sizeof err);
    if (!c) {
        log_error("auth", "database: %s", err);
        return -2;
    }
    int rc = token ? auth_token_principal(c, token, out, err, sizeof err)
                   : auth_session_principal(c, &a->cfg, cookie, out, err, sizeof err);
    db_release(a->db, c);
    sodium_memzero(secret, sizeof secret);
    if (rc == -2) log_error("auth", "identifying the caller: %s", err);
    return rc;
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

/* --- users: create, update, delete (the command line and the API alike) --- */

typedef struct user_spec {
    const char *username;
    enum role role;
    const char *regions[MAX_USER_REGIONS];
    int nregions;
    const char *store;        /* a store manager's store, else NULL */
    const char *password;     /* NULL: keep the current one (updates) */
} user_spec;

enum save_mode { SAVE_CREATE, SAVE_UPDATE, SAVE_UPSERT };

static const char SQL_USER_LOCK[] = "SELECT id, role FROM users WHERE username = ? FOR UPDATE";
/* a locking read: two transactions cannot each demote or delete one of
 * the last two admins */
static const char SQL_ADMIN_COUNT[] = "SELECT COUNT(*) FROM users WHERE role = 'admin' FOR UPDATE";
static const char SQL_REGION_EXISTS[] = "SELECT 1 FROM regions WHERE region_code = ?";
static const char SQL_STORE_EXISTS[] = "SELECT 1 FROM stores WHERE store_code = ?";
static const char SQL_USER_INSERT[] =
    "INSERT INTO users (username, role, password_hash, store_code, created_at, updated_at) "
    "VALUES (?, ?, ?, ?, UTC_TIMESTAMP(6), UTC_TIMESTAMP(6))";
static const char SQL_USER_UPDATE[] =
    "UPDATE users SET role = ?, store_code = ?, updated_at = UTC_TIMESTAMP(6) WHERE id = ?";
static const char SQL_USER_SET_PASSWORD[] =
    "UPDATE users SET password_hash = ?, updated_at = UTC_TIMESTAMP(6) WHERE id = ?";
static const char SQL_USER_REGIONS_CLEAR[] = "DELETE FROM user_regions WHERE user_id = ?";
static const char SQL_USER_REGION_ADD[] =
    "INSERT IGNORE INTO user_regions (user_id, region_code) VALUES (?, ?)";
static const char SQL_USER_DELETE[] = "DELETE FROM users WHERE id = ?";

/* 1 when sql (one code parameter) finds a row, 0 when not, -1 on error. */
static int row_exists(db_conn *c, const char *sql, const char *code, char *err, size_t errlen)
{
    db_val v = DB_STR(code);
    db_result *res = NULL;
    if (db_query(c, sql, &v, 1, &res, err, errlen) != 0) return -1;
    int found = res->nrows > 0;
    db_result_free(res);
    return found;
}

static long long count_admins(db_conn *c, char *err, size_t errlen)
{
    db_result *res = NULL;
    if (db_query(c, SQL_ADMIN_COUNT, NULL, 0, &res, err, errlen) != 0) return -1;
    long long n = res->nrows ? db_cell_int(res, 0, 0) : 0;
    db_result_free(res);
    return n;
}

#define FAIL(status, fld, ...) do { copy_bounded(field, fieldlen, fld); snprintf(err, errlen, __VA_ARGS__); return status; } while (0)

/* Check a user_spec against the rules and the data: 0, 400 or 500. */
static int user_spec_check(db_conn *c, const user_spec *u, enum save_mode mode,
                           char *field, size_t fieldlen, char *err, size_t errlen)
{
    if (!valid_name(u->username))
        FAIL(400, "username", "username: 1 to 64 letters, digits, '_', '.' or '-' (用户名格式不对)");
    if (!role_is_user(u->role))
        FAIL(400, "role", "role: one of admin, executive, regional_manager, store_manager");
    if (u->role == ROLE_RM && u->nregions == 0)
        FAIL(400, "regions", "a regional_manager needs at least one region (区域经理至少要有一个区域)");
    if (u->role != ROLE_RM && u->nregions > 0)
        FAIL(400, "regions", "only a regional_manager has regions");
    if (u->role == ROLE_SM && !u->store)
        FAIL(400, "store", "a store_manager needs a store (店长需要指定门店)");
    if (u->role != ROLE_SM && u->store)
        FAIL(400, "store", "only a store_manager has a store");
    for (int i = 0; i < u->nregions; i++) {
        int found = valid_code(u->regions[i]) ? row_exists(c, SQL_REGION_EXISTS, u->regions[i], err, errlen) : 0;
        if (found < 0) return 500;
        if (!found) FAIL(400, "regions", "region %.64s does not exist (import the regions first)", u->regions[i]);
    }
    if (u->store) {
        int found = valid_code(u->store) ? row_exists(c, SQL_STORE_EXISTS, u->store, err, errlen) : 0;
        if (found < 0) return 500;
        if (!found) FAIL(400, "store", "store %.64s does not exist (import the stores first)", u->store);
    }
    if (mode == SAVE_CREATE && !u->password) FAIL(400, "password", "a new user needs a password");
    if (u->password) {
        const char *problem = password_problem(u->password);
        if (problem) FAIL(400, "password", "%s", problem);
    }
    return 0;
}

/* Save a user in one transaction; audited. Returns 0 (*created says which),
 * or an HTTP status: 400 (field names the parameter), 404, 409, 500. */
static int user_save(db_conn *c, const config *cfg, const principal *who, const user_spec *u,
                     enum save_mode mode, bool *created, char *field, size_t fieldlen, char *err, size_t errlen)
{
    *created = false;
    copy_bounded(field, fieldlen, "");
    int rc = user_spec_check(c, u, mode, field, fieldlen, err, errlen);
    if (rc != 0) return rc;
    char hash[crypto_pwhash_STRBYTES] = "";
    if (u->password && password_hash(cfg, u->password, hash, err, errlen) != 0) return 500;

    if (db_begin(c, err, errlen) != 0) return 500;
    db_val name = DB_STR(u->username);
    db_result *res = NULL;
    if (db_query(c, SQL_USER_LOCK, &name, 1, &res, err, errlen) != 0) goto db_fail;
    bool exists = res->nrows == 1;
    long long id = exists ? db_cell_int(res, 0, 0) : 0;
    bool was_admin = exists && role_parse(db_cell(res, 0, 1)) == ROLE_ADMIN;
    db_result_free(res);

    if (exists && mode == SAVE_CREATE) {
        db_rollback(c);
        FAIL(409, "username", "user %s already exists", u->username);
    }
    if (!exists && mode == SAVE_UPDATE) {
        db_rollback(c);
        FAIL(404, "username", "no user named %s", u->username);
    }
    if (!exists && !u->password) {
        db_rollback(c);
        FAIL(400, "password", "a new user needs a password");
    }
    if (was_admin && u->role != ROLE_ADMIN) {
        long long admins = count_admins(c, err, errlen);
        if (admins < 0) goto db_fail;
        if (admins <= 1) {
            db_rollback(c);
            FAIL(409, "role", "%s is the last admin: make another user admin first", u->username);
        }
    }

    const char *role = role_name(u->role);
    if (!exists) {
        db_val v[4] = { name, DB_STR(role), DB_STRN(hash, strlen(hash)), DB_STR(u->store) };
        if (db_exec(c, SQL_USER_INSERT, v, 4, NULL, err, errlen) != 0) {
            if (db_errno(c) == 1062) { db_rollback(c); FAIL(409, "username", "user %s already exists", u->username); }
            goto db_fail;
        }
        id = (long long)db_last_insert_id(c);
    } else {
        db_val v[3] = { DB_STR(role), DB_STR(u->store), DB_INT(id) };
        if (db_exec(c, SQL_USER_UPDATE, v, 3, NULL, err, errlen) != 0) goto db_fail;
        if (u->password) {
            /* a new password ends every session of the user */
            db_val pv[2] = { DB_STRN(hash, strlen(hash)), DB_INT(id) };
            db_val uid = DB_INT(id);
            if (db_exec(c, SQL_USER_SET_PASSWORD, pv, 2, NULL, err, errlen) != 0 ||
                db_exec(c, SQL_SESSIONS_OF_USER_DELETE, &uid, 1, NULL, err, errlen) != 0)
                goto db_fail;
        }
    }
    db_val uid = DB_INT(id);
    if (db_exec(c, SQL_USER_REGIONS_CLEAR, &uid, 1, NULL, err, errlen) != 0) goto db_fail;
    for (int i = 0; i < u->nregions; i++) {
        db_val v[2] = { uid, DB_STR(u->regions[i]) };
        if (db_exec(c, SQL_USER_REGION_ADD, v, 2, NULL, err, errlen) != 0) goto db_fail;
    }
    cJSON *detail = cJSON_CreateObject();
    cJSON_AddStringToObject(detail, "role", role);
    cJSON *regions = cJSON_AddArrayToObject(detail, "regions");
    for (int i = 0; i < u->nregions; i++) cJSON_AddItemToArray(regions, cJSON_CreateString(u->regions[i]));
    if (u->store) cJSON_AddStringToObject(detail, "store", u->store);
    cJSON_AddBoolToObject(detail, "password_set", u->password != NULL);
    if (audit_json(c, who, exists ? "user.update" : "user.create", u->username, detail, err, errlen) != 0)
        goto db_fail;
    if (db_commit(c, err, errlen) != 0) goto db_fail;
    auth_sessions_forget();                  /* a role, scope or password may have changed */
    sodium_memzero(hash, sizeof hash);
    *created = !exists;
    return 0;

db_fail:
    db_rollback(c);
    sodium_memzero(hash, sizeof hash);
    return 500;
}

/* Delete a user (and, by cascade, their sessions and regions): 0, 404, 409, 500. */
static int user_remove(db_conn *c, const principal *who, const char *username, char *err, size_t errlen)
{
    if (db_begin(c, err, errlen) != 0) return 500;
    db_val name = DB_STR(username);
    db_result *res = NULL;
    if (db_query(c, SQL_USER_LOCK, &name, 1, &res, err, errlen) != 0) { db_rollback(c); return 500; }
    bool exists = res->nrows == 1;
    long long id = exists ? db_cell_int(res, 0, 0) : 0;
    bool was_admin = exists && role_parse(db_cell(res, 0, 1)) == ROLE_ADMIN;
    db_result_free(res);
    if (!exists) {
        db_rollback(c);
        snprintf(err, errlen, "no user named %.64s", username);
        return 404;
    }
    if (was_admin) {
        long long admins = count_admins(c, err, errlen);
        if (admins < 0) { db_rollback(c); return 500; }
        if (admins <= 1) {
            db_rollback(c);
            snprintf(err, errlen, "%.64s is the last admin: make another user admin first", username);
            return 409;
        }
    }
    db_val uid = DB_INT(id);
    if (db_exec(c, SQL_USER_DELETE, &uid, 1, NULL, err, errlen) != 0 ||
        audit_log(c, who, "user.delete", username, NULL, err, errlen) != 0 ||
        db_commit(c, err, errlen) != 0) {
        db_rollback(c);
        return 500;
    }
    auth_sessions_forget();
    return 0;
}

static const char SQL_USERS_LIST[] =
    "SELECT u.username, u.role, u.store_code, DATE_FORMAT(u.created_at, '%Y-%m-%dT%H:%i:%sZ'), "
    "DATE_FORMAT(u.updated_at, '%Y-%m-%dT%H:%i:%sZ'), "
    "GROUP_CONCAT(ur.region_code ORDER BY ur.region_code SEPARATOR ',') "
    "FROM users u LEFT JOIN user_regions ur ON ur.user_id = u.id "
    "GROUP BY u.id, u.username, u.role, u.store_code, u.created_at, u.updated_at ORDER BY u.username";
static const char SQL_USERS_ONE[] =
    "SELECT u.username, u.role, u.store_code, DATE_FORMAT(u.created_at, '%Y-%m-%dT%H:%i:%sZ'), "
    "DATE_FORMAT(u.updated_at, '%Y-%m-%dT%H:%i:%sZ'), "
    "GROUP_CONCAT(ur.region_code ORDER BY ur.region_code SEPARATOR ',') "
    "FROM users u LEFT JOIN user_regions ur ON ur.user_id = u.id WHERE u.username = ? "
    "GROUP BY u.id, u.username, u.role, u.store_code, u.created_at, u.updated_at";

static cJSON *json_string_or_null(const char *s)
{
    return s ? cJSON_CreateString(s) : cJSON_CreateNull();
}

/* Users as [{"username","role","regions","store","created_at","updated_at"}];
 * never a password hash. username NULL: all of them. */
static cJSON *users_json(db_conn *c, const char *username, char *err, size_t errlen)
{
    db_result *res = NULL;
    db_val v = DB_STR(username);
    if (db_query(c, username ? SQL_USERS_ONE : SQL_USERS_LIST, username ? &v : NULL, username ? 1 : 0,
                 &res, err, errlen) != 0)
        return NULL;
    cJSON *arr = cJSON_CreateArray();
    for (int i = 0; i < res->nrows; i++) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "username", db_cell(res, i, 0));
        cJSON_AddStringToObject(o, "role", db_cell(res, i, 1));
        cJSON *regions = cJSON_AddArrayToObject(o, "regions");
        const char *list = db_cell(res, i, 5);
        while (list && *list) {
            size_t n = strcspn(list, ",");
            char code[CODE_MAX_LEN + 1];
            snprintf(code, sizeof code, "%.*s", (int)(n < CODE_MAX_LEN ? n : CODE_MAX_LEN), list);
            cJSON_AddItemToArray(regions, cJSON_CreateString(code));
            list += n;
            if (*list == ',') list++;
        }
        cJSON_AddItemToObject(o, "store", json_string_or_null(db_cell(res, i, 2)));
        cJSON_AddStringToObject(o, "created_at", db_cell(res, i, 3));
        cJSON_AddStringToObject(o, "updated_at", db_cell(res, i, 4));
        cJSON_AddItemToArray(arr, o);
    }
    db_result_free(res);
    return arr;
}

/* --- tokens --- */

static const char SQL_TOKEN_INSERT[] =
    "INSERT INTO api_tokens (name, kind, store_code, all_stores, secret_hash, created_by, created_at) "
    "VALUES (?, ?, ?, ?, ?, ?, UTC_TIMESTAMP(6))";
static const char SQL_TOKEN_DELETE[] = "DELETE FROM api_tokens WHERE name = ?";
static const char SQL_TOKENS_LIST[] =
    "SELECT name, kind, store_code, all_stores, created_by, "
    "DATE_FORMAT(created_at, '%Y-%m-%dT%H:%i:%sZ'), DATE_FORMAT(last_used_at, '%Y-%m-%dT%H:%i:%sZ') "
    "FROM api_tokens ORDER BY name";

/* What is wrong with a token's arguments: the parameter's name (err says
 * why), or NULL when they are fine. */
static const char *token_problem(const char *name, const char *kind, const char *store, bool all_stores,
                                 char *err, size_t errlen)
{
    if (!valid_name(name)) {
        snprintf(err, errlen, "name: 1 to 64 letters, digits, '_', '.' or '-'");
        return "name";
    }
    bool metrics = kind && !strcmp(kind, "metrics");
    if (!kind || (!metrics && strcmp(kind, "uploader") != 0)) {
        snprintf(err, errlen, "kind: uploader or metrics");
        return "kind";
    }
    if (metrics && (store || all_stores)) {
        snprintf(err, errlen, "a metrics token has no store (give neither store nor all_stores)");
        return store ? "store" : "all_stores";
    }
    if (!metrics && (store != NULL) == all_stores) {
        snprintf(err, errlen, "an uploader token needs exactly one of store (--store CODE) or all_stores (--all-stores)");
        return "store";
    }
    if (store && !valid_code(store)) {
        snprintf(err, errlen, "store: a store code is 1 to 32 letters, digits, '_' or '-'");
        return "store";
    }
    return NULL;
}

int auth_token_create(db_conn *c, const principal *who, const char *name, const char *kind,
                      const char *store, bool all_stores, char secret_out[80], char *err, size_t errlen)
{
    secret_out[0] = '\0';
    if (token_problem(name, kind, store, all_stores, err, errlen)) return 400;
    bool metrics = !strcmp(kind, "metrics");
    if (crypto_ready() != 0) { copy_bounded(err, errlen, "libsodium failed to initialise"); return 500; }
    char random[2 * SECRET_BYTES + 1], secret[80], hash[HASH_HEX_LEN + 1];
    random_hex(random);
    snprintf(secret, sizeof secret, "%s%s", TOKEN_PREFIX, random);
    sodium_memzero(random, sizeof random);
    secret_hash_hex(secret, hash);
    const char *creator = who && who->user_id ? who->name : "cli";
    if (db_begin(c, err, errlen) != 0) return 500;
    db_val v[6] = { DB_STR(name), DB_STR(metrics ? "metrics" : "uploader"), DB_STR(store),
                    DB_INT(all_stores ? 1 : 0), DB_STRN(hash, strlen(hash)), DB_STR(creator) };
    if (db_exec(c, SQL_TOKEN_INSERT, v, 6, NULL, err, errlen) != 0) {
        int dup = db_errno(c) == 1062;
        db_rollback(c);
        sodium_memzero(secret, sizeof secret);
        if (dup) {
            snprintf(err, errlen, "a token named %s exists already (revoke it first, or pick another name)", name);
            return 409;
        }
        return 500;
    }
    cJSON *detail = cJSON_CreateObject();
    cJSON_AddStringToObject(detail, "kind", metrics ? "metrics" : "uploader");
    if (store) cJSON_AddStringToObject(detail, "store", store);
    if (all_stores) cJSON_AddBoolToObject(detail, "all_stores", true);
    if (audit_json(c, who, "token.create", name, detail, err, errlen) != 0 || db_commit(c, err, errlen) != 0) {
        db_rollback(c);
        sodium_memzero(secret, sizeof secret);
        return 500;
    }
    memcpy(secret_out, secret, strlen(secret) + 1);
    sodium_memzero(secret, sizeof secret);
    return 0;
}

int auth_token_revoke(db_conn *c, const principal *who, const char *name, char *err, size_t errlen)
{
    if (!valid_name(name)) {
        snprintf(err, errlen, "no token named %.64s", name ? name : "");
        return 404;
    }
    if (db_begin(c, err, errlen) != 0) return 500;
    db_val v = DB_STR(name);
    unsigned long long gone = 0;
    if (db_exec(c, SQL_TOKEN_DELETE, &v, 1, &gone, err, errlen) != 0) { db_rollback(c); return 500; }
    if (gone == 0) {
        db_rollback(c);
        snprintf(err, errlen, "no token named %.64s", name);
        return 404;
    }
    if (audit_log(c, who, "token.revoke", name, NULL, err, errlen) != 0 || db_commit(c, err, errlen) != 0) {
        db_rollback(c);
        return 500;
    }
    return 0;
}

/* Tokens as [{"name","kind","store","all_stores","created_by","created_at","last_used_at"}]. */
static cJSON *tokens_json(db_conn *c, char *err, size_t errlen)
{
    db_result *res = NULL;
    if (db_query(c, SQL_TOKENS_LIST, NULL, 0, &res, err, errlen) != 0) return NULL;
    cJSON *arr = cJSON_CreateArray();
    for (int i = 0; i < res->nrows; i++) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "name", db_cell(res, i, 0));
        cJSON_AddStringToObject(o, "kind", db_cell(res, i, 1));
        cJSON_AddItemToObject(o, "store", json_string_or_null(db_cell(res, i, 2)));
        cJSON_AddBoolToObject(o, "all_stores", db_cell_int(res, i, 3) != 0);
        cJSON_AddStringToObject(o, "created_by", db_cell(res, i, 4));
        cJSON_AddStringToObject(o, "created_at", db_cell(res, i, 5));
        cJSON_AddItemToObject(o, "last_used_at", json_string_or_null(db_cell(res, i, 6)));
        cJSON_AddItemToArray(arr, o);
    }
    db_result_free(res);
    return arr;
}

/* --- first start and demo users --- */

static void random_password(char *out, size_t len)
{
    static const char alphabet[] = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    for (size_t i = 0; i + 1 < len; i++) out[i] = alphabet[randombytes_uniform(sizeof alphabet - 1)];
    out[len - 1] = '\0';
}

int auth_ensure_admin(db_conn *c, const config *cfg, char *err, size_t errlen)
{
    if (crypto_ready() != 0) { copy_bounded(err, errlen, "libsodium failed to initialise"); return -1; }
    long long admins = count_admins(c, err, errlen);
    if (admins < 0) return -1;
    if (admins > 0) return 0;
    const char *given = getenv("FOURSCORE_ADMIN_PASSWORD");
    char made[21];
    bool random = !given || !*given;
    if (random) {
        random_password(made, sizeof made);
    } else {
        const char *problem = password_problem(given);
        if (problem) { snprintf(err, errlen, "FOURSCORE_ADMIN_PASSWORD: %s", problem); return -1; }
    }
    principal cli;
    principal_cli(&cli);
    user_spec u = { .username = "admin", .role = ROLE_ADMIN, .password = random ? made : given };
    bool created;
    char field[32];
    int rc = user_save(c, cfg, &cli, &u, SAVE_CREATE, &created, field, sizeof field, err, errlen);
    if (rc == 409) {
        /* another instance made it meanwhile, or a user "admin" exists
         * without the role: promote it only if there is still no admin */
        admins = count_admins(c, err, errlen);
        if (admins < 0) { sodium_memzero(made, sizeof made); return -1; }
        rc = admins > 0 ? 0 : user_save(c, cfg, &cli, &u, SAVE_UPSERT, &created, field, sizeof field, err, errlen);
        if (admins > 0) random = false;
    }
    if (rc != 0) {
        sodium_memzero(made, sizeof made);
        char why[512];
        copy_bounded(why, sizeof why, err);
        snprintf(err, errlen, "creating the first admin: %s", why);
        return -1;
    }
    log_info("auth", "created the first admin user \"admin\"%s", random ? " with a random password (printed on stderr)" : "");
    if (random) {
        fprintf(stderr,
                "\n"
                "  ================================================================\n"
                "  首次启动：已创建管理员 admin / first start: created user admin\n"
                "  password / 密码:  %s\n"
                "  Shown only this once. Change it with:\n"
                "    fourscore user add admin --role admin\n"
                "  ================================================================\n\n",
                made);
        fflush(stderr);
    }
    sodium_memzero(made, sizeof made);
    return 0;
}

static const char SQL_FIRST_REGION[] = "SELECT region_code FROM regions ORDER BY region_code LIMIT 1";
static const char SQL_FIRST_STORE[] = "SELECT store_code FROM stores ORDER BY store_code LIMIT 1";

/* The first value of a one-column query into out (lower-cased when asked); 1, 0 none, -1 error. */
static int first_code(db_conn *c, const char *sql, char *out, size_t cap, char *err, size_t errlen)
{
    db_result *res = NULL;
    if (db_query(c, sql, NULL, 0, &res, err, errlen) != 0) return -1;
    int found = res->nrows > 0 && db_cell(res, 0, 0);
    if (found) copy_bounded(out, cap, db_cell(res, 0, 0));
    db_result_free(res);
    return found;
}

static void lower_ascii(char *s)
{
    for (; *s; s++) *s = (char)tolower((unsigned char)*s);
}

int auth_create_demo_users(db_conn *c, char *err, size_t errlen)
{
    if (crypto_ready() != 0) { copy_bounded(err, errlen, "libsodium failed to initialise"); return -1; }
    config cfg;
    char cfg_err[256];
    memset(&cfg, 0, sizeof cfg);
    if (config_load_env(&cfg, cfg_err, sizeof cfg_err) != 0) {
        snprintf(err, errlen, "%s", cfg_err);
        return -1;
    }
    char region[CODE_MAX_LEN + 1], store[CODE_MAX_LEN + 1];
    int r1 = first_code(c, SQL_FIRST_REGION, region, sizeof region, err, errlen);
    int r2 = r1 > 0 ? first_code(c, SQL_FIRST_STORE, store, sizeof store, err, errlen) : r1;
    if (r1 < 0 || r2 < 0) return -1;
    if (r1 == 0 || r2 == 0) {
        snprintf(err, errlen, "demo users need the demo regions and stores: load the demo data first");
        return -1;
    }
    char rm_name[NAME_MAX_LEN + 1], sm_name[NAME_MAX_LEN + 1];
    snprintf(rm_name, sizeof rm_name, "rm_%s", region);
    snprintf(sm_name, sizeof sm_name, "sm_%s", store);
    lower_ascii(rm_name);
    lower_ascii(sm_name);
    user_spec users[3] = {
        { .username = "exec", .role = ROLE_EXEC, .password = DEMO_PASSWORD },
        { .username = rm_name, .role = ROLE_RM, .regions = { region }, .nregions = 1, .password = DEMO_PASSWORD },
        { .username = sm_name, .role = ROLE_SM, .store = store, .password = DEMO_PASSWORD },
    };
    principal cli;
    principal_cli(&cli);
    /* an existing user of the same name is left as it is (never a real
     * account's password reset by loading the demo) */
    for (int i = 0; i < 3; i++) {
        bool created;
        char field[32], why[512];
        int rc = user_save(c, &cfg, &cli, &users[i], SAVE_CREATE, &created, field, sizeof field, why, sizeof why);
        if (rc == 409) continue;
        if (rc != 0) {
            snprintf(err, errlen, "demo user %s: %s", users[i].username, why);
            return -1;
        }
    }
    printf("演示账号 / demo logins (demo only; password %s):\n"
           "  %-16s executive         所有门店 / all stores\n"
           "  %-16s regional_manager  区域 / region %s\n"
           "  %-16s store_manager     门店 / store %s\n",
           DEMO_PASSWORD, "exec", rm_name, region, sm_name, store);
    fflush(stdout);
    return 0;
}

/* --- HTTP: shared pieces of the routes --- */

/* A connection for a route, or NULL after answering 503. */
static db_conn *route_db(http_req *r)
{
    char err[512];
    db_conn *c = db_acquire(r->app->db, DB_WAIT_MS, err, sizeof err);
    if (!c) {
        log_error("auth", "database: %s", err);
        http_reply_error(r, 503, "unavailable", "数据库暂时无法连接，请稍后再试 (the database does not answer; try again shortly)", NULL);
    }
    return c;
}

static void reply_internal(http_req *r, const char *what, const char *err)
{
    log_error("auth", "%s: %s", what, err);
    http_reply_error(r, 500, "internal", "服务器内部错误 (internal error; the server log has the details)", NULL);
}

/* 400 naming the parameter: details [{"parameter","message"}]. */
static void reply_bad_param(http_req *r, const char *param, const char *message)
{
    cJSON *details = cJSON_CreateArray();
    cJSON *d = cJSON_CreateObject();
    cJSON_AddStringToObject(d, "parameter", param);
    cJSON_AddStringToObject(d, "message", message);
    cJSON_AddItemToArray(details, d);
    http_reply_error(r, 400, "invalid_parameter", message, details);
}

/* The answer of a save: 400 naming the field, 404, 409, 500. */
static void reply_save_error(http_req *r, int status, const char *field, const char *err)
{
    if (status == 400) reply_bad_param(r, field && *field ? field : "body", err);
    else if (status == 404) http_reply_error(r, 404, "not_found", err, NULL);
    else if (status == 409) http_reply_error(r, 409, "conflict", err, NULL);
    else reply_internal(r, "saving", err);
}

/* The request body as a JSON object, or NULL after answering 400. */
static cJSON *body_object(http_req *r)
{
    if (!r->body || r->body_len == 0) {
        reply_bad_param(r, "body", "the request body must be a JSON object");
        return NULL;
    }
    const char *end = NULL;
    cJSON *j = cJSON_ParseWithLengthOpts(r->body, r->body_len, &end, false);
    if (!j || !cJSON_IsObject(j)) {
        char msg[128];
        if (!j && end && end >= r->body && end <= r->body + r->body_len)
            snprintf(msg, sizeof msg, "the body is not valid JSON (at byte %zu)", (size_t)(end - r->body) + 1);
        else
            snprintf(msg, sizeof msg, "the request body must be a JSON object");
        cJSON_Delete(j);
        reply_bad_param(r, "body", msg);
        return NULL;
    }
    return j;
}

/* A string member: its value, NULL when absent or null; *bad when of another type. */
static const char *member_string(const cJSON *o, const char *name, bool *bad)
{
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(o, name);
    if (!m || cJSON_IsNull(m)) return NULL;
    if (!cJSON_IsString(m)) { *bad = true; return NULL; }
    return m->valuestring;
}

/* An array of strings into out (at most max): count, or -1 when malformed. */
static int member_strings(const cJSON *o, const char *name, const char **out, int max, bool *present)
{
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(o, name);
    *present = m && !cJSON_IsNull(m);
    if (!*present) return 0;
    if (!cJSON_IsArray(m)) return -1;
    int n = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, m) {
        if (!cJSON_IsString(it) || n >= max) return -1;
        out[n++] = it->valuestring;
    }
    return n;
}

static cJSON *string_array(char *const *v, int n)
{
    cJSON *a = cJSON_CreateArray();
    for (int i = 0; i < n; i++) cJSON_AddItemToArray(a, cJSON_CreateString(v[i]));
    return a;
}

/* {"username","role","regions":[codes],"stores":[codes]}: the scope in force. */
static cJSON *scope_json(db_conn *c, const principal *p, char *err, size_t errlen)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "username", p->name);
    cJSON_AddStringToObject(o, "role", role_name(p->role));
    if (p->all_stores) {
        db_result *res = NULL;
        if (db_query(c, SQL_ALL_REGIONS, NULL, 0, &res, err, errlen) != 0) { cJSON_Delete(o); return NULL; }
        cJSON *regions = cJSON_AddArrayToObject(o, "regions");
        for (int i = 0; i < res->nrows; i++) cJSON_AddItemToArray(regions, cJSON_CreateString(db_cell(res, i, 0)));
        db_result_free(res);
    } else {
        cJSON_AddItemToObject(o, "regions", string_array(p->role == ROLE_RM ? p->regions : NULL,
                                                         p->role == ROLE_RM ? p->nregions : 0));
    }
    store_set set;
    if (scope_resolve(c, p, NULL, 0, NULL, 0, &set, err, errlen) != 0) { cJSON_Delete(o); return NULL; }
    cJSON_AddItemToObject(o, "stores", string_array(set.codes, set.n));
    store_set_free(&set);
    return o;
}

/* --- HTTP: session, me, regions, stores --- */

void auth_route_session_create(http_req *r)
{
    /* login CSRF: a page of another site may not sign the browser in (to
     * an account of its choosing); clients without Origin are not browsers */
    const char *origin = http_header(r, "Origin"), *why = NULL;
    if (origin && !source_matches_host(r, origin, &why)) {
        log_warn("auth", "csrf: refused a login: %s", why);
        http_reply_errorf(r, 403, "csrf", "%s", why);
        return;
    }
    cJSON *body = body_object(r);
    if (!body) return;
    bool bad = false;
    const char *username = member_string(body, "username", &bad);
    if (bad || !username || !*username) {
        reply_bad_param(r, "username", "username is required (请输入用户名)");
        cJSON_Delete(body);
        return;
    }
    const char *password = member_string(body, "password", &bad);
    if (bad || !password || !*password) {
        reply_bad_param(r, "password", "password is required (请输入密码)");
        cJSON_Delete(body);
        return;
    }
    if (strlen(password) > PASSWORD_MAX) password = "";   /* never matches; still counted */
    char ipbuf[64];
    const char *ip = http_client_ip(r, ipbuf, sizeof ipbuf);
    db_conn *c = route_db(r);
    if (!c) { cJSON_Delete(body); return; }
    principal who;
    char secret[65], err[512];
    int retry_after = 0;
    int rc = auth_login(c, &r->app->cfg, username, password, ip, &who, secret, &retry_after, err, sizeof err);
    cJSON_Delete(body);
    if (rc == 1) {
        cJSON *me = scope_json(c, &who, err, sizeof err);
        db_release(r->app->db, c);
        principal_free(&who);
        if (!me) { sodium_memzero(secret, sizeof secret); reply_internal(r, "login", err); return; }
        char cookie[256];
        long long idle, max;
        session_limits(&r->app->cfg, &idle, &max);
        snprintf(cookie, sizeof cookie, "%s=%s; Path=/; HttpOnly; SameSite=Strict; Max-Age=%lld%s",
                 AUTH_SESSION_COOKIE, secret, max, r->app->cfg.secure_cookie ? "; Secure" : "");
        sodium_memzero(secret, sizeof secret);
        http_reply_json(r, 200, me);
        http_add_header(r, "Set-Cookie", cookie);
        sodium_memzero(cookie, sizeof cookie);
        return;
    }
    db_release(r->app->db, c);
    if (rc == 0) {
        http_reply_error(r, 401, "invalid_credentials", "用户名或密码错误 (wrong user name or password)", NULL);
    } else if (rc == AUTH_LOGIN_RATE_LIMITED) {
        char wait[32];
        snprintf(wait, sizeof wait, "%d", retry_after);
        http_reply_errorf(r, 429, "rate_limited",
                          "登录失败次数过多，请 %d 秒后再试 (too many failed logins; try again in %d s)",
                          retry_after, retry_after);
        http_add_header(r, "Retry-After", wait);
    } else {
        log_error("auth", "login: %s", err);
        http_reply_error(r, 503, "unavailable", "数据库暂时无法连接，请稍后再试 (the database does not answer; try again shortly)", NULL);
    }
}

void auth_route_session_delete(http_req *r)
{
    const principal *p = r->who;
    if (!p || p->is_token || !p->session_id[0]) {
        http_reply_error(r, 400, "no_session", "this request carries no session to end", NULL);
        return;
    }
    db_conn *c = route_db(r);
    if (!c) return;
    char err[512];
    db_val h = DB_STR(p->session_id);
    int rc = db_exec(c, SQL_SESSION_DELETE, &h, 1, NULL, err, sizeof err);
    auth_sessions_forget();
    if (rc == 0) rc = audit_log(c, p, "logout", p->name, NULL, err, sizeof err);
    db_release(r->app->db, c);
    if (rc != 0) { reply_internal(r, "logout", err); return; }
    cJSON *o = cJSON_CreateObject();
    cJSON_AddBoolToObject(o, "logged_out", true);
    http_reply_json(r, 200, o);
    char cookie[160];
    snprintf(cookie, sizeof cookie, "%s=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0%s",
             AUTH_SESSION_COOKIE, r->app->cfg.secure_cookie ? "; Secure" : "");
    http_add_header(r, "Set-Cookie", cookie);
}

void auth_route_me(http_req *r)
{
    db_conn *c = route_db(r);
    if (!c) return;
    char err[512];
    cJSON *me = scope_json(c, r->who, err, sizeof err);
    db_release(r->app->db, c);
    if (!me) { reply_internal(r, "me", err); return; }
    http_reply_json(r, 200, me);
}

static const char SQL_REGIONS_LIST[] = "SELECT region_code, name FROM regions ORDER BY region_code";
static const char SQL_STORES_LIST[] =
    "SELECT s.store_code, s.name, s.brand, s.region_code, r.name, s.city "
    "FROM stores s JOIN regions r ON r.region_code = s.region_code ORDER BY s.store_code";

void auth_route_regions(http_req *r)
{
    db_conn *c = route_db(r);
    if (!c) return;
    char err[512];
    db_result *res = NULL;
    int rc = db_query(c, SQL_REGIONS_LIST, NULL, 0, &res, err, sizeof err);
    db_release(r->app->db, c);
    if (rc != 0) { reply_internal(r, "regions", err); return; }
    cJSON *arr = cJSON_CreateArray();
    for (int i = 0; i < res->nrows; i++) {
        if (!principal_sees_region(r->who, db_cell(res, i, 0))) continue;
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "code", db_cell(res, i, 0));
        cJSON_AddStringToObject(o, "name", db_cell(res, i, 1));
        cJSON_AddItemToArray(arr, o);
    }
    db_result_free(res);
    http_reply_json(r, 200, arr);
}

void auth_route_stores(http_req *r)
{
    db_conn *c = route_db(r);
    if (!c) return;
    char err[512];
    db_result *res = NULL;
    int rc = db_query(c, SQL_STORES_LIST, NULL, 0, &res, err, sizeof err);
    db_release(r->app->db, c);
    if (rc != 0) { reply_internal(r, "stores", err); return; }
    cJSON *arr = cJSON_CreateArray();
    for (int i = 0; i < res->nrows; i++) {
        if (!principal_sees_store(r->who, db_cell(res, i, 0))) continue;
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "code", db_cell(res, i, 0));
        cJSON_AddStringToObject(o, "name", db_cell(res, i, 1));
        cJSON_AddStringToObject(o, "brand", db_cell(res, i, 2));
        cJSON_AddStringToObject(o, "region", db_cell(res, i, 3));
        cJSON_AddStringToObject(o, "region_name", db_cell(res, i, 4));
        cJSON_AddItemToObject(o, "city", json_string_or_null(db_cell(res, i, 5)));
        cJSON_AddItemToArray(arr, o);
    }
    db_result_free(res);
    http_reply_json(r, 200, arr);
}

/* --- HTTP: users (admin) --- */

void auth_route_users_list(http_req *r)
{
    db_conn *c = route_db(r);
    if (!c) return;
    char err[512];
    cJSON *arr = users_json(c, NULL, err, sizeof err);
    db_release(r->app->db, c);
    if (!arr) { reply_internal(r, "users", err); return; }
    http_reply_json(r, 200, arr);
}

/* Fill spec fields from a body; absent members keep what spec holds.
 * Returns 0, or -1 after answering 400. */
static int user_spec_from_body(http_req *r, const cJSON *body, user_spec *u, bool *role_given)
{
    bool bad = false, present;
    const char *role = member_string(body, "role", &bad);
    if (bad) { reply_bad_param(r, "role", "role must be a string"); return -1; }
    *role_given = role != NULL;
    if (role) {
        u->role = role_parse(role);
        if (!role_is_user(u->role)) {
            reply_bad_param(r, "role", "role: one of admin, executive, regional_manager, store_manager");
            return -1;
        }
    }
    const char *regions[MAX_USER_REGIONS];
    int n = member_strings(body, "regions", regions, MAX_USER_REGIONS, &present);
    if (n < 0) { reply_bad_param(r, "regions", "regions must be an array of region codes (at most 64)"); return -1; }
    if (present) {
        u->nregions = n;
        for (int i = 0; i < n; i++) u->regions[i] = regions[i];
    }
    const cJSON *store = cJSON_GetObjectItemCaseSensitive(body, "store");
    if (store) {
        if (cJSON_IsNull(store)) u->store = NULL;
        else if (cJSON_IsString(store)) u->store = store->valuestring;
        else { reply_bad_param(r, "store", "store must be a store code or null"); return -1; }
    }
    const char *password = member_string(body, "password", &bad);
    if (bad) { reply_bad_param(r, "password", "password must be a string"); return -1; }
    if (password) u->password = password;
    return 0;
}

/* 201/200 with the saved user. */
static void reply_user(http_req *r, db_conn *c, int status, const char *username)
{
    char err[512];
    cJSON *arr = users_json(c, username, err, sizeof err);
    db_release(r->app->db, c);
    if (!arr) { reply_internal(r, "users", err); return; }
    cJSON *one = cJSON_DetachItemFromArray(arr, 0);
    cJSON_Delete(arr);
    if (!one) { http_reply_errorf(r, 404, "not_found", "no user named %.64s", username); return; }
    http_reply_json(r, status, one);
}

void auth_route_users_create(http_req *r)
{
    cJSON *body = body_object(r);
    if (!body) return;
    bool bad = false, role_given;
    user_spec u = { .role = ROLE_NONE };
    u.username = member_string(body, "username", &bad);
    if (bad || !u.username) {
        reply_bad_param(r, "username", "username is required");
        cJSON_Delete(body);
        return;
    }
    if (user_spec_from_body(r, body, &u, &role_given) != 0) { cJSON_Delete(body); return; }
    if (!role_given) {
        reply_bad_param(r, "role", "role is required: admin, executive, regional_manager or store_manager");
        cJSON_Delete(body);
        return;
    }
    db_conn *c = route_db(r);
    if (!c) { cJSON_Delete(body); return; }
    char field[32], err[512], name[NAME_MAX_LEN + 1];
    bool created;
    copy_bounded(name, sizeof name, u.username);
    int rc = user_save(c, &r->app->cfg, r->who, &u, SAVE_CREATE, &created, field, sizeof field, err, sizeof err);
    cJSON_Delete(body);
    if (rc != 0) {
        db_release(r->app->db, c);
        reply_save_error(r, rc, field, err);
        return;
    }
    reply_user(r, c, 201, name);
}

static const char SQL_USER_CURRENT[] = "SELECT id, role, store_code FROM users WHERE username = ?";

void auth_route_users_update(http_req *r)
{
    const char *username = r->nparams > 0 ? r->params[0] : "";
    if (!valid_name(username)) { http_reply_errorf(r, 404, "not_found", "no user named %.64s", username); return; }
    cJSON *body = body_object(r);
    if (!body) return;
    db_conn *c = route_db(r);
    if (!c) { cJSON_Delete(body); return; }
    char err[512], field[32];
    /* start from the user as stored; the body overrides what it names */
    db_val v = DB_STR(username);
    db_result *cur = NULL, *regs = NULL;
    if (db_query(c, SQL_USER_CURRENT, &v, 1, &cur, err, sizeof err) != 0) {
        db_release(r->app->db, c);
        cJSON_Delete(body);
        reply_internal(r, "users", err);
        return;
    }
    if (cur->nrows != 1) {
        db_result_free(cur);
        db_release(r->app->db, c);
        cJSON_Delete(body);
        http_reply_errorf(r, 404, "not_found", "no user named %.64s", username);
        return;
    }
    user_spec u = { .username = username, .role = role_parse(db_cell(cur, 0, 1)), .store = db_cell(cur, 0, 2) };
    enum role stored_role = u.role;
    db_val id = DB_INT(db_cell_int(cur, 0, 0));
    if (db_query(c, SQL_USER_REGIONS, &id, 1, &regs, err, sizeof err) != 0) {
        db_result_free(cur);
        db_release(r->app->db, c);
        cJSON_Delete(body);
        reply_internal(r, "users", err);
        return;
    }
    for (int i = 0; i < regs->nrows && u.nregions < MAX_USER_REGIONS; i++) u.regions[u.nregions++] = db_cell(regs, i, 0);
    bool role_given;
    int rc = -1;
    if (user_spec_from_body(r, body, &u, &role_given) == 0) {
        /* a new role starts without the old role's regions or store unless given */
        if (u.role != stored_role) {
            if (!cJSON_GetObjectItemCaseSensitive(body, "regions")) u.nregions = 0;
            if (!cJSON_GetObjectItemCaseSensitive(body, "store")) u.store = NULL;
        }
        bool created;
        rc = user_save(c, &r->app->cfg, r->who, &u, SAVE_UPDATE, &created, field, sizeof field, err, sizeof err);
        if (rc != 0) reply_save_error(r, rc, field, err);
    }
    db_result_free(regs);
    db_result_free(cur);
    cJSON_Delete(body);
    if (rc != 0) { db_release(r->app->db, c); return; }
    reply_user(r, c, 200, username);
}

void auth_route_users_delete(http_req *r)
{
    const char *username = r->nparams > 0 ? r->params[0] : "";
    if (!valid_name(username)) { http_reply_errorf(r, 404, "not_found", "no user named %.64s", username); return; }
    db_conn *c = route_db(r);
    if (!c) return;
    char err[512];
    int rc = user_remove(c, r->who, username, err, sizeof err);
    db_release(r->app->db, c);
    if (rc != 0) { reply_save_error(r, rc, "username", err); return; }
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "deleted", username);
    http_reply_json(r, 200, o);
}

/* --- HTTP: tokens (admin) --- */

void auth_route_tokens_list(http_req *r)
{
    db_conn *c = route_db(r);
    if (!c) return;
    char err[512];
    cJSON *arr = tokens_json(c, err, sizeof err);
    db_release(r->app->db, c);
    if (!arr) { reply_internal(r, "tokens", err); return; }
    http_reply_json(r, 200, arr);
}

void auth_route_tokens_create(http_req *r)
{
    cJSON *body = body_object(r);
    if (!body) return;
    bool bad = false;
    const char *name = member_string(body, "name", &bad);
    if (bad || !name) { reply_bad_param(r, "name", "name is required"); cJSON_Delete(body); return; }
    const char *kind = member_string(body, "kind", &bad);
    if (bad || !kind) { reply_bad_param(r, "kind", "kind is required: uploader or metrics"); cJSON_Delete(body); return; }
    const char *store = member_string(body, "store", &bad);
    if (bad) { reply_bad_param(r, "store", "store must be a store code"); cJSON_Delete(body); return; }
    const cJSON *all = cJSON_GetObjectItemCaseSensitive(body, "all_stores");
    if (all && !cJSON_IsBool(all) && !cJSON_IsNull(all)) {
        reply_bad_param(r, "all_stores", "all_stores must be true or false");
        cJSON_Delete(body);
        return;
    }
    bool all_stores = cJSON_IsTrue(all);
    db_conn *c = route_db(r);
    if (!c) { cJSON_Delete(body); return; }
    char secret[80], err[512];
    int rc = auth_token_create(c, r->who, name, kind, store, all_stores, secret, err, sizeof err);
    db_release(r->app->db, c);
    if (rc != 0) {
        char why[512];
        const char *param = rc == 400 ? token_problem(name, kind, store, all_stores, why, sizeof why) : NULL;
        reply_save_error(r, rc, param ? param : "name", err);
        cJSON_Delete(body);
        return;
    }
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "name", name);
    cJSON_AddStringToObject(o, "kind", !strcmp(kind, "metrics") ? "metrics" : "uploader");
    cJSON_AddItemToObject(o, "store", json_string_or_null(store));
    cJSON_AddBoolToObject(o, "all_stores", all_stores);
    cJSON_AddStringToObject(o, "secret", secret);
    sodium_memzero(secret, sizeof secret);
    cJSON_Delete(body);
    http_reply_json(r, 201, o);
}

void auth_route_tokens_delete(http_req *r)
{
    const char *name = r->nparams > 0 ? r->params[0] : "";
    db_conn *c = route_db(r);
    if (!c) return;
    char err[512];
    int rc = auth_token_revoke(c, r->who, name, err, sizeof err);
    db_release(r->app->db, c);
    if (rc != 0) { reply_save_error(r, rc, "name", err); return; }
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "revoked", name);
    http_reply_json(r, 200, o);
}

/* --- HTTP: audit (admin) --- */

#define AUDIT_PAGE_DEFAULT 50
#define AUDIT_PAGE_MAX 500

static const char SQL_AUDIT_PAGE[] =
    "SELECT id, DATE_FORMAT(at, '%Y-%m-%dT%H:%i:%sZ'), actor, actor_kind, action, target, detail "
    "FROM audit_log WHERE id < ? ORDER BY id DESC LIMIT ?";

/* A whole decimal number in [lo, hi], or false. */
static bool parse_int_param(const char *s, long long lo, long long hi, long long *out)
{
    if (!s || !*s) return false;
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || *end || v < lo || v > hi || !isdigit((unsigned char)s[0])) return false;
    *out = v;
    return true;
}

void auth_route_audit(http_req *r)
{
    long long before = LLONG_MAX, limit = AUDIT_PAGE_DEFAULT;
    const char *b = http_query(r, "before"), *l = http_query(r, "limit");
    if (b && !parse_int_param(b, 1, LLONG_MAX, &before)) {
        reply_bad_param(r, "before", "before: the id of an audit entry (a positive whole number)");
        return;
    }
    if (l && !parse_int_param(l, 1, AUDIT_PAGE_MAX, &limit)) {
        reply_bad_param(r, "limit", "limit: a whole number from 1 to 500");
        return;
    }
    db_conn *c = route_db(r);
    if (!c) return;
    char err[512];
    db_val v[2] = { DB_INT(before), DB_INT(limit) };
    db_result *res = NULL;
    int rc = db_query(c, SQL_AUDIT_PAGE, v, 2, &res, err, sizeof err);
    db_release(r->app->db, c);
    if (rc != 0) { reply_internal(r, "audit", err); return; }
    cJSON *arr = cJSON_CreateArray();
    for (int i = 0; i < res->nrows; i++) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "id", (double)db_cell_int(res, i, 0));
        cJSON_AddStringToObject(o, "at", db_cell(res, i, 1));
        cJSON_AddStringToObject(o, "actor", db_cell(res, i, 2));
        cJSON_AddStringToObject(o, "actor_kind", db_cell(res, i, 3));
        cJSON_AddStringToObject(o, "action", db_cell(res, i, 4));
        cJSON_AddItemToObject(o, "target", json_string_or_null(db_cell(res, i, 5)));
        const char *detail = db_cell(res, i, 6);
        cJSON *parsed = detail ? cJSON_Parse(detail) : NULL;
        cJSON_AddItemToObject(o, "detail", parsed ? parsed : json_string_or_null(detail));
        cJSON_AddItemToArray(arr, o);
    }
    db_result_free(res);
    http_reply_json(r, 200, arr);
}

/* --- command line: fourscore user, fourscore token --- */

/* Configuration and flags of a subcommand: 0, or the exit code (-1: --help
 * was printed). cli_connect then opens the database (migrated). */
static int cli_open(app *a, int argc, char **argv, opt *opts, int nopts,
                    const char *usage, const char *description, const char **pos, int maxpos, int *npos)
{
    char err[1024];
    memset(a, 0, sizeof *a);
    if (config_load_env(&a->cfg, err, sizeof err) != 0) {
        fprintf(stderr, "fourscore: %s\n", err);
        return 2;
    }
    int rc = config_parse(&a->cfg, argc, argv, opts, nopts, usage, description, pos, maxpos, npos);
    if (rc == 1) return -1;
    if (rc != 0) return 2;
    return 0;
}

static int cli_connect(app *a, db_conn **c)
{
    char err[1024];
    if (app_open(a, true, err, sizeof err) != 0) {
        fprintf(stderr, "fourscore: %s\n", err);
        return 1;
    }
    *c = db_acquire(a->db, DB_WAIT_MS, err, sizeof err);
    if (!*c) {
        fprintf(stderr, "fourscore: %s\n", err);
        app_close(a);
        return 1;
    }
    if (crypto_ready() != 0) {
        fprintf(stderr, "fourscore: libsodium failed to initialise\n");
        db_release(a->db, *c);
        app_close(a);
        return 1;
    }
    return 0;
}

static void cli_close(app *a, db_conn *c)
{
    if (c) db_release(a->db, c);
    app_close(a);
}

/* One line from f without its line end; -1 when empty, too long or absent. */
static int read_line(FILE *f, char *buf, size_t cap)
{
    if (!fgets(buf, (int)cap, f)) return -1;
    size_t n = strlen(buf);
    bool had_newline = n > 0 && buf[n - 1] == '\n';
    if (!had_newline && !feof(f)) return -1;         /* longer than the buffer */
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r')) buf[--n] = '\0';
    return n > 0 ? 0 : -1;
}

/* Ask for a password twice on the terminal with echo off. */
static int ask_password(const char *username, char *buf, size_t cap)
{
    FILE *tty = fopen("/dev/tty", "r+");
    if (!tty) {
        fprintf(stderr, "fourscore: no terminal to ask the password on; pipe it in with --password-stdin\n");
        return -1;
    }
    struct termios saved, quiet;
    int fd = fileno(tty);
    bool echo_off = tcgetattr(fd, &saved) == 0;
    if (echo_off) {
        quiet = saved;
        quiet.c_lflag &= ~(tcflag_t)ECHO;
        echo_off = tcsetattr(fd, TCSAFLUSH, &quiet) == 0;
    }
    char again[PASSWORD_MAX + 2];
    fprintf(tty, "密码 / password for %s: ", username);
    fflush(tty);
    int rc = read_line(tty, buf, cap);
    fprintf(tty, "\n再输一次 / again: ");
    fflush(tty);
    if (rc == 0) rc = read_line(tty, again, sizeof again);
    fprintf(tty, "\n");
    if (echo_off) tcsetattr(fd, TCSAFLUSH, &saved);
    fclose(tty);
    if (rc != 0) {
        fprintf(stderr, "fourscore: no password given\n");
    } else if (strcmp(buf, again) != 0) {
        fprintf(stderr, "fourscore: the two passwords differ (两次输入的密码不一致)\n");
        rc = -1;
    }
    sodium_memzero(again, sizeof again);
    return rc;
}

static const char USER_USAGE[] =
    "fourscore user add NAME --role ROLE [--region CODE]... [--store CODE] [--password-stdin]\n"
    "       fourscore user list\n"
    "       fourscore user delete NAME";

static int cmd_user_add(int argc, char **argv)
{
    opt opts[] = {
        { "--role", OPT_STR, "ROLE", "admin, executive, regional_manager or store_manager", 0, 0, {0}, 0 },
        { "--region", OPT_MULTI, "CODE", "a regional manager's region", 0, 0, {0}, 0 },
        { "--store", OPT_STR, "CODE", "a store manager's store", 0, 0, {0}, 0 },
        { "--password-stdin", OPT_FLAG, NULL, "read the password from the first line of stdin instead of asking", 0, 0, {0}, 0 },
    };
    app a;
    db_conn *c;
    const char *pos[1];
    int npos = 0;
    int rc = cli_open(&a, argc, argv, opts, 4, "fourscore user add NAME --role ROLE [--region CODE]... [--store CODE] [--password-stdin]",
                      "Create a user, or update one: role, regions, store and password.\n"
                      "Without --password-stdin the password is asked twice on the terminal.",
                      pos, 1, &npos);
    if (rc != 0) return rc < 0 ? 0 : rc;
    if (npos != 1) { fprintf(stderr, "fourscore: user add needs the user's NAME\nusage: %s\n", USER_USAGE); return 2; }
    if (!opts[0].set) { fprintf(stderr, "fourscore: user add needs --role (admin, executive, regional_manager or store_manager)\n"); return 2; }
    user_spec u = { .username = pos[0], .role = role_parse(opts[0].value), .store = opts[2].value };
    if (!role_is_user(u.role)) {
        fprintf(stderr, "fourscore: --role %s: one of admin, executive, regional_manager, store_manager\n", opts[0].value);
        return 2;
    }
    if (!valid_name(u.username)) {
        fprintf(stderr, "fourscore: user name '%s': 1 to 64 letters, digits, '_', '.' or '-'\n", u.username);
        return 2;
    }
    for (int i = 0; i < opts[1].nvalues && i < MAX_USER_REGIONS; i++) u.regions[u.nregions++] = opts[1].values[i];

    char password[PASSWORD_MAX + 2];
    if (opts[3].set) {
        if (read_line(stdin, password, sizeof password) != 0) {
            fprintf(stderr, "fourscore: --password-stdin: no password on the first line of stdin (or longer than 1024 bytes)\n");
            return 2;
        }
    } else if (ask_password(u.username, password, sizeof password) != 0) {
        return 1;
    }
    u.password = password;
    const char *problem = password_problem(password);
    if (problem) {
        fprintf(stderr, "fourscore: %s\n", problem);
        sodium_memzero(password, sizeof password);
        return 2;
    }
    rc = cli_connect(&a, &c);
    if (rc != 0) { sodium_memzero(password, sizeof password); return rc; }
    principal cli;
    principal_cli(&cli);
    char field[32], err[512];
    bool created;
    int st = user_save(c, &a.cfg, &cli, &u, SAVE_UPSERT, &created, field, sizeof field, err, sizeof err);
    sodium_memzero(password, sizeof password);
    cli_close(&a, c);
    if (st != 0) {
        fprintf(stderr, "fourscore: user %s: %s\n", u.username, err);
        return st == 400 ? 2 : 1;
    }
    printf("user %s %s: %s", u.username, created ? "created" : "updated", role_name(u.role));
    for (int i = 0; i < u.nregions; i++) printf("%s%s", i ? "," : " of region ", u.regions[i]);
    if (u.store) printf(" of store %s", u.store);
    printf("\n");
    return 0;
}

static int cmd_user_list(int argc, char **argv)
{
    app a;
    db_conn *c;
    const char *pos[1];
    int npos = 0;
    int rc = cli_open(&a, argc, argv, NULL, 0, "fourscore user list", "List the users with their roles and scope.", pos, 0, &npos);
    if (rc != 0) return rc < 0 ? 0 : rc;
    if ((rc = cli_connect(&a, &c)) != 0) return rc;
    char err[512];
    cJSON *arr = users_json(c, NULL, err, sizeof err);
    cli_close(&a, c);
    if (!arr) { fprintf(stderr, "fourscore: %s\n", err); return 1; }
    printf("%-24s %-18s %s\n", "NAME", "ROLE", "SCOPE");
    const cJSON *u;
    cJSON_ArrayForEach(u, arr) {
        const char *role = cJSON_GetObjectItem(u, "role")->valuestring;
        char scope[512] = "all stores";
        const cJSON *store = cJSON_GetObjectItem(u, "store");
        if (!strcmp(role, "regional_manager")) {
            size_t at = (size_t)snprintf(scope, sizeof scope, "region");
            const cJSON *reg;
            cJSON_ArrayForEach(reg, cJSON_GetObjectItem(u, "regions"))
                if (at < sizeof scope) at += (size_t)snprintf(scope + at, sizeof scope - at, " %s", reg->valuestring);
        } else if (!strcmp(role, "store_manager")) {
            snprintf(scope, sizeof scope, "store %s", cJSON_IsString(store) ? store->valuestring : "-");
        }
        printf("%-24s %-18s %s\n", cJSON_GetObjectItem(u, "username")->valuestring, role, scope);
    }
    cJSON_Delete(arr);
    return 0;
}

static int cmd_user_delete(int argc, char **argv)
{
    app a;
    db_conn *c;
    const char *pos[1];
    int npos = 0;
    int rc = cli_open(&a, argc, argv, NULL, 0, "fourscore user delete NAME",
                      "Delete a user; their sessions end at once.", pos, 1, &npos);
    if (rc != 0) return rc < 0 ? 0 : rc;
    if (npos != 1) { fprintf(stderr, "fourscore: user delete needs the user's NAME\n"); return 2; }
    if ((rc = cli_connect(&a, &c)) != 0) return rc;
    principal cli;
    principal_cli(&cli);
    char err[512];
    int st = user_remove(c, &cli, pos[0], err, sizeof err);
    cli_close(&a, c);
    if (st != 0) { fprintf(stderr, "fourscore: %s\n", err); return 1; }
    printf("user %s deleted\n", pos[0]);
    return 0;
}

int cmd_user(int argc, char **argv)
{
    const char *sub = argc > 1 ? argv[1] : NULL;
    if (sub && (!strcmp(sub, "--help") || !strcmp(sub, "-h") || !strcmp(sub, "help"))) {
        printf("usage: %s\n\nManage the users who sign in to the dashboards (see docs/security.md).\n"
               "fourscore user add --help shows the options of add.\n", USER_USAGE);
        return 0;
    }
    if (sub && !strcmp(sub, "add")) return cmd_user_add(argc - 1, argv + 1);
    if (sub && !strcmp(sub, "list")) return cmd_user_list(argc - 1, argv + 1);
    if (sub && !strcmp(sub, "delete")) return cmd_user_delete(argc - 1, argv + 1);
    if (sub) fprintf(stderr, "fourscore: user %s: unknown action (add, list or delete)\n", sub);
    else fprintf(stderr, "fourscore: user: say what to do (add, list or delete)\n");
    fprintf(stderr, "usage: %s\n", USER_USAGE);
    return 2;
}

static const char TOKEN_USAGE[] =
    "fourscore token create NAME (--store CODE | --all-stores | --metrics)\n"
    "       fourscore token list\n"
    "       fourscore token revoke NAME";

static int cmd_token_create(int argc, char **argv)
{
    opt opts[] = {
        { "--store", OPT_STR, "CODE", "an uploader token that imports rows of this store only", 0, 0, {0}, 0 },
        { "--all-stores", OPT_FLAG, NULL, "an uploader token for every store (and regions, stores, insurers)", 0, 0, {0}, 0 },
        { "--metrics", OPT_FLAG, NULL, "a token that may only read /metrics", 0, 0, {0}, 0 },
    };
    app a;
    db_conn *c;
    const char *pos[1];
    int npos = 0;
    int rc = cli_open(&a, argc, argv, opts, 3, "fourscore token create NAME (--store CODE | --all-stores | --metrics)",
                      "Create an API token. The secret is printed once, alone on the last line;\n"
                      "only its hash is kept. Send it as Authorization: Bearer SECRET.",
                      pos, 1, &npos);
    if (rc != 0) return rc < 0 ? 0 : rc;
    if (npos != 1) { fprintf(stderr, "fourscore: token create needs the token's NAME\nusage: %s\n", TOKEN_USAGE); return 2; }
    int kinds = (opts[0].set ? 1 : 0) + (opts[1].set ? 1 : 0) + (opts[2].set ? 1 : 0);
    if (kinds != 1) {
        fprintf(stderr, "fourscore: token create needs exactly one of --store CODE, --all-stores, --metrics\n");
        return 2;
    }
    if (!valid_name(pos[0])) {
        fprintf(stderr, "fourscore: token name '%s': 1 to 64 letters, digits, '_', '.' or '-'\n", pos[0]);
        return 2;
    }
    if ((rc = cli_connect(&a, &c)) != 0) return rc;
    char err[512], secret[80];
    if (opts[0].set) {
        int found = valid_code(opts[0].value) ? row_exists(c, SQL_STORE_EXISTS, opts[0].value, err, sizeof err) : 0;
        if (found == 0)
            fprintf(stderr, "fourscore: note: store %s does not exist yet; the token will import its rows once it does\n", opts[0].value);
    }
    principal cli;
    principal_cli(&cli);
    int st = auth_token_create(c, &cli, pos[0], opts[2].set ? "metrics" : "uploader", opts[0].value,
                               opts[1].set, secret, err, sizeof err);
    cli_close(&a, c);
    if (st != 0) {
        fprintf(stderr, "fourscore: token %s: %s\n", pos[0], err);
        return st == 400 ? 2 : 1;
    }
    if (opts[2].set) printf("token %s created: metrics (may only read /metrics)\n", pos[0]);
    else if (opts[1].set) printf("token %s created: uploader for every store\n", pos[0]);
    else printf("token %s created: uploader for store %s\n", pos[0], opts[0].value);
    printf("The secret follows; it is shown only this once (只显示这一次，请妥善保存):\n%s\n", secret);
    sodium_memzero(secret, sizeof secret);
    return 0;
}

static int cmd_token_list(int argc, char **argv)
{
    app a;
    db_conn *c;
    const char *pos[1];
    int npos = 0;
    int rc = cli_open(&a, argc, argv, NULL, 0, "fourscore token list", "List the API tokens (never their secrets).", pos, 0, &npos);
    if (rc != 0) return rc < 0 ? 0 : rc;
    if ((rc = cli_connect(&a, &c)) != 0) return rc;
    char err[512];
    cJSON *arr = tokens_json(c, err, sizeof err);
    cli_close(&a, c);
    if (!arr) { fprintf(stderr, "fourscore: %s\n", err); return 1; }
    printf("%-24s %-9s %-14s %-21s %s\n", "NAME", "KIND", "SCOPE", "CREATED", "LAST USED");
    const cJSON *t;
    cJSON_ArrayForEach(t, arr) {
        const cJSON *store = cJSON_GetObjectItem(t, "store"), *used = cJSON_GetObjectItem(t, "last_used_at");
        const char *kind = cJSON_GetObjectItem(t, "kind")->valuestring;
        const char *scope = !strcmp(kind, "metrics") ? "/metrics" : cJSON_IsTrue(cJSON_GetObjectItem(t, "all_stores")) ? "all stores"
                            : cJSON_IsString(store) ? store->valuestring : "-";
        printf("%-24s %-9s %-14s %-21s %s\n", cJSON_GetObjectItem(t, "name")->valuestring, kind, scope,
               cJSON_GetObjectItem(t, "created_at")->valuestring, cJSON_IsString(used) ? used->valuestring : "never");
    }
    cJSON_Delete(arr);
    return 0;
}

static int cmd_token_revoke(int argc, char **argv)
{
    app a;
    db_conn *c;
    const char *pos[1];
    int npos = 0;
    int rc = cli_open(&a, argc, argv, NULL, 0, "fourscore token revoke NAME",
                      "Revoke a token: it stops working at once, on every server instance.", pos, 1, &npos);
    if (rc != 0) return rc < 0 ? 0 : rc;
    if (npos != 1) { fprintf(stderr, "fourscore: token revoke needs the token's NAME\n"); return 2; }
    if ((rc = cli_connect(&a, &c)) != 0) return rc;
    principal cli;
    principal_cli(&cli);
    char err[512];
    int st = auth_token_revoke(c, &cli, pos[0], err, sizeof err);
    cli_close(&a, c);
    if (st != 0) { fprintf(stderr, "fourscore: %s\n", err); return 1; }
    printf("token %s revoked\n", pos[0]);
    return 0;
}

int cmd_token(int argc, char **argv)
{
    const char *sub = argc > 1 ? argv[1] : NULL;
    if (sub && (!strcmp(sub, "--help") || !strcmp(sub, "-h") || !strcmp(sub, "help"))) {
        printf("usage: %s\n\nAPI tokens for store systems (uploader) and monitoring (metrics); see docs/security.md.\n"
               "fourscore token create --help shows the options of create.\n", TOKEN_USAGE);
        return 0;
    }
    if (sub && !strcmp(sub, "create")) return cmd_token_create(argc - 1, argv + 1);
    if (sub && !strcmp(sub, "list")) return cmd_token_list(argc - 1, argv + 1);
    if (sub && !strcmp(sub, "revoke")) return cmd_token_revoke(argc - 1, argv + 1);
    if (sub) fprintf(stderr, "fourscore: token %s: unknown action (create, list or revoke)\n", sub);
    else fprintf(stderr, "fourscore: token: say what to do (create, list or revoke)\n");
    fprintf(stderr, "usage: %s\n", TOKEN_USAGE);
    return 2;
}
