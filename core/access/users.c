/* users: users (create, update, delete, list: the command line and the API
 * alike), API tokens (create, revoke, list) and the first admin. Every change
 * is one transaction and audited; the last admin cannot be removed or
 * demoted. Part of core/access/. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include <cJSON.h>
#include "access_private.h"
#include "db.h"
#include "log.h"

/* --- users: create, update, delete (the command line and the API alike) --- */


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
int user_save(db_conn *c, const config *cfg, const principal *who, const user_spec *u,
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
            if (db_exec(c, SQL_USER_SET_PASSWORD, pv, 2, NULL, err, errlen) != 0 ||
                auth_sessions_end_user(c, id, err, errlen) != 0)
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
int user_remove(db_conn *c, const principal *who, const char *username, char *err, size_t errlen)
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
cJSON *users_json(db_conn *c, const char *username, char *err, size_t errlen)
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
const char *token_problem(const char *name, const char *kind, const char *store, bool all_stores,
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
cJSON *tokens_json(db_conn *c, char *err, size_t errlen)
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

/* --- first start (the demo users are core/demo/demo_users.c) --- */

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
    const char *given = config_env("FOURSCORE_ADMIN_PASSWORD");
    char made[21];
    bool random = !given;
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


bool auth_name_valid(const char *s)
{
    return valid_name(s);
}

static const char SQL_USER_CURRENT[] = "SELECT id, role, store_code FROM users WHERE username = ?";
static const char SQL_USER_REGION_CODES[] =
    "SELECT region_code FROM user_regions WHERE user_id = ? ORDER BY region_code";

int user_stored_load(db_conn *c, const char *username, user_stored *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    db_val v = DB_STR(username);
    db_result *cur = NULL, *regs = NULL;
    if (db_query(c, SQL_USER_CURRENT, &v, 1, &cur, err, errlen) != 0) return -1;
    if (cur->nrows != 1) { db_result_free(cur); return 0; }
    out->role = role_parse(db_cell(cur, 0, 1));
    copy_bounded(out->store, sizeof out->store, db_cell(cur, 0, 2));
    db_val id = DB_INT(db_cell_int(cur, 0, 0));
    db_result_free(cur);
    if (db_query(c, SQL_USER_REGION_CODES, &id, 1, &regs, err, errlen) != 0) return -1;
    for (int i = 0; i < regs->nrows && out->nregions < MAX_USER_REGIONS; i++)
        copy_bounded(out->regions[out->nregions++], sizeof out->regions[0], db_cell(regs, i, 0));
    db_result_free(regs);
    return 1;
}
