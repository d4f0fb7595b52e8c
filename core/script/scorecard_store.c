/* scorecard_store: stored scorecards (docs/api.md, "Lua scorecards"). Part
 * of core/script/: table scorecards plus scorecard_versions, the last
 * SCORECARD_MAX_VERSIONS texts of each (schemas/005_scorecards.sql); who
 * may read and change one (its owner and admins); saving, restoring and
 * deleting, each audited; and the shipped scorecards, installed from
 * config_scorecard_dir() by migrate and serve. The HTTP side is
 * core/http/routes_scorecard.c. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "log.h"
#include "scorecard.h"

/* --- names and titles --- */

bool scorecard_name_valid(const char *name)
{
    if (!name) return false;
    size_t n = strlen(name);
    if (n < 1 || n > 64 || strcmp(name, "run") == 0) return false;
    for (size_t i = 0; i < n; i++) {
        char ch = name[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_' || ch == '-')) return false;
    }
    return true;
}

/* The title: the first comment line of the source ("-- 售后综合评分 ..."),
 * else the name. Cut on a character boundary. */
static void title_of(const char *name, const char *src, size_t len, char *out, size_t cap)
{
    snprintf(out, cap, "%s", name);
    size_t i = 0;
    while (i < len && (src[i] == ' ' || src[i] == '\t' || src[i] == '\r' || src[i] == '\n')) i++;
    if (i + 2 > len || src[i] != '-' || src[i + 1] != '-') return;
    while (i < len && (src[i] == '-' || src[i] == ' ' || src[i] == '[' || src[i] == '=')) i++;
    size_t end = i;
    while (end < len && src[end] != '\n' && src[end] != '\r') end++;
    while (end > i && (src[end - 1] == ' ' || src[end - 1] == '\t')) end--;
    size_t n = end - i;
    if (n == 0) return;
    if (n > cap - 1) {
        n = cap - 1;
        while (n > 0 && ((unsigned char)src[i + n] & 0xC0) == 0x80) n--;
    }
    memcpy(out, src + i, n);
    out[n] = '\0';
}

/* --- the tables --- */

#define SQL_META_SELECT \
    "SELECT id, name, title, owner, current_version, DATE_FORMAT(updated_at, '%Y-%m-%dT%H:%i:%sZ')" \
    " FROM scorecards WHERE name = ?"
static const char SQL_META[] = SQL_META_SELECT;
static const char SQL_META_LOCK[] = SQL_META_SELECT " FOR UPDATE";
static const char SQL_LIST[] =
    "SELECT name, title, owner, DATE_FORMAT(updated_at, '%Y-%m-%dT%H:%i:%sZ') FROM scorecards ORDER BY name";
static const char SQL_SOURCE[] =
    "SELECT source, shipped FROM scorecard_versions WHERE scorecard_id = ? AND version = ?";
static const char SQL_VERSIONS[] =
    "SELECT version, DATE_FORMAT(saved_at, '%Y-%m-%dT%H:%i:%sZ'), saved_by FROM scorecard_versions"
    " WHERE scorecard_id = ? ORDER BY version DESC";
static const char SQL_CREATE[] =
    "INSERT INTO scorecards (name, title, owner, current_version, updated_at) VALUES (?, ?, ?, 1, UTC_TIMESTAMP(6))";
static const char SQL_BUMP[] =
    "UPDATE scorecards SET title = ?, current_version = ?, updated_at = UTC_TIMESTAMP(6) WHERE id = ?";
static const char SQL_ADD_VERSION[] =
    "INSERT INTO scorecard_versions (scorecard_id, version, source, saved_at, saved_by, shipped)"
    " VALUES (?, ?, ?, UTC_TIMESTAMP(6), ?, ?)";
static const char SQL_PRUNE[] =
    "DELETE FROM scorecard_versions WHERE scorecard_id = ? AND version <= ?";
static const char SQL_DELETE[] =
    "DELETE FROM scorecards WHERE id = ?";

static void copy_cell(char *dst, size_t cap, const char *v)
{
    snprintf(dst, cap, "%s", v ? v : "");
}

/* 1 found, 0 not, -1 database error. */
static int meta_load(db_conn *c, const char *name, bool lock, scorecard_meta *m, char *err, size_t errlen)
{
    db_val p = DB_STR(name);
    db_result *res = NULL;
    if (db_query(c, lock ? SQL_META_LOCK : SQL_META, &p, 1, &res, err, errlen) != 0) return -1;
    int found = res->nrows > 0;
    if (found) {
        m->id = db_cell_int(res, 0, 0);
        copy_cell(m->name, sizeof m->name, db_cell(res, 0, 1));
        copy_cell(m->title, sizeof m->title, db_cell(res, 0, 2));
        copy_cell(m->owner, sizeof m->owner, db_cell(res, 0, 3));
        m->version = (int)db_cell_int(res, 0, 4);
        copy_cell(m->updated_at, sizeof m->updated_at, db_cell(res, 0, 5));
    }
    db_result_free(res);
    return found;
}

/* The source of one version (malloc'd), or NULL: *found 0 when not kept. */
static char *source_load(db_conn *c, long long id, int version, size_t *len, bool *shipped, int *found,
                         char *err, size_t errlen)
{
    db_val p[2] = { DB_INT(id), DB_INT(version) };
    db_result *res = NULL;
    *found = 0;
    if (db_query(c, SQL_SOURCE, p, 2, &res, err, errlen) != 0) return NULL;
    char *src = NULL;
    if (res->nrows > 0 && db_cell(res, 0, 0)) {
        *found = 1;
        *len = res->lens[0];
        src = malloc(*len + 1);
        if (src) {
            memcpy(src, db_cell(res, 0, 0), *len);
            src[*len] = '\0';
        } else snprintf(err, errlen, "out of memory");
        if (shipped) *shipped = db_cell_int(res, 0, 1) != 0;
    }
    db_result_free(res);
    return src;
}

/* Save src as the next version of name (creating it owned by owner when new),
 * in one transaction; prunes to the last SCORECARD_MAX_VERSIONS. Returns 0 with
 * *version_out, or -1. */
static int version_save(db_conn *c, const char *name, const char *owner, const char *saved_by,
                        const char *src, size_t len, bool shipped, int *version_out, char *err, size_t errlen)
{
    char title[201];
    title_of(name, src, len, title, sizeof title);
    if (db_begin(c, err, errlen) != 0) return -1;
    scorecard_meta m;
    int found = meta_load(c, name, true, &m, err, errlen);
    if (found < 0) goto fail;
    int version = 1;
    if (!found) {
        db_val p[3] = { DB_STR(name), DB_STRN(title, strlen(title)), DB_STR(owner) };
        if (db_exec(c, SQL_CREATE, p, 3, NULL, err, errlen) != 0) goto fail;
        m.id = (long long)db_last_insert_id(c);
    } else {
        version = m.version + 1;
        db_val p[3] = { DB_STRN(title, strlen(title)), DB_INT(version), DB_INT(m.id) };
        if (db_exec(c, SQL_BUMP, p, 3, NULL, err, errlen) != 0) goto fail;
    }
    db_val v[5] = { DB_INT(m.id), DB_INT(version), DB_STRN(src, len), DB_STR(saved_by), DB_INT(shipped ? 1 : 0) };
    if (db_exec(c, SQL_ADD_VERSION, v, 5, NULL, err, errlen) != 0) goto fail;
    db_val pr[2] = { DB_INT(m.id), DB_INT(version - SCORECARD_MAX_VERSIONS) };
    if (db_exec(c, SQL_PRUNE, pr, 2, NULL, err, errlen) != 0) goto fail;
    if (db_commit(c, err, errlen) != 0) goto fail;
    *version_out = version;
    return 0;
fail:
    db_rollback(c);
    return -1;
}

/* --- the shipped scorecards --- */

int scorecard_install_dir(db_conn *c, const char *dir, char *err, size_t errlen)
{
    DIR *d = opendir(dir);
    if (!d) {
        snprintf(err, errlen, "cannot open %s: %s", dir, strerror(errno));
        return -1;
    }
    int rc = 0;
    struct dirent *e;
    while (rc == 0 && (e = readdir(d))) {
        size_t n = strlen(e->d_name);
        if (n < 5 || strcmp(e->d_name + n - 4, ".lua") != 0) continue;
        char name[65];
        if (n - 4 >= sizeof name) continue;
        memcpy(name, e->d_name, n - 4);
        name[n - 4] = '\0';
        if (!scorecard_name_valid(name)) continue;
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        FILE *f = fopen(path, "rb");
        if (!f) { snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno)); rc = -1; break; }
        char *src = malloc(1 << 20);
        size_t len = src ? fread(src, 1, (1 << 20) - 1, f) : 0;
        bool read_err = ferror(f) != 0;
        fclose(f);
        if (!src || read_err) { free(src); snprintf(err, errlen, "cannot read %s", path); rc = -1; break; }
        src[len] = '\0';

        scorecard_meta m;
        int found = meta_load(c, name, false, &m, err, errlen);
        bool install = false;
        if (found < 0) rc = -1;
        else if (!found) install = true;
        else {
            size_t cur_len = 0;
            bool shipped = false;
            int have = 0;
            char *cur = source_load(c, m.id, m.version, &cur_len, &shipped, &have, err, errlen);
            if (!cur && have) rc = -1;
            /* an untouched shipped text that differs from the file: upgrade */
            else install = have && shipped && (cur_len != len || memcmp(cur, src, len) != 0);
            free(cur);
        }
        if (rc == 0 && install) {
            scorecard_outcome o;
            if (scorecard_compile(name, src, len, &o) != 0) {
                snprintf(err, errlen, "%s: %s", path, o.message);
                rc = -1;
            } else {
                int version;
                rc = version_save(c, name, "admin", "admin", src, len, true, &version, err, errlen);
                if (rc == 0) log_info("scorecard", "installed the shipped scorecard %s (version %d)", name, version);
            }
            scorecard_outcome_free(&o);
        }
        free(src);
    }
    closedir(d);
    return rc;
}

int scorecard_install_shipped(db_conn *c, char *err, size_t errlen)
{
    char dir[4096];
    config_scorecard_dir(dir, sizeof dir);
    return scorecard_install_dir(c, dir, err, errlen);
}


/* --- reading, saving and deleting (the routes of core/http/routes_scorecard.c) --- */

int scorecard_meta_load(db_conn *c, const char *name, scorecard_meta *m, char *err, size_t errlen)
{
    return meta_load(c, name, false, m, err, errlen);
}

cJSON *scorecard_meta_json(const scorecard_meta *m)
{
    cJSON *o = cJSON_CreateObject();
    if (!o) return NULL;
    cJSON_AddStringToObject(o, "name", m->name);
    cJSON_AddStringToObject(o, "title", m->title);
    cJSON_AddStringToObject(o, "owner", m->owner);
    cJSON_AddStringToObject(o, "updated_at", m->updated_at);
    cJSON_AddNumberToObject(o, "version", m->version);
    return o;
}

bool scorecard_may_edit(const principal *p, const scorecard_meta *m)
{
    if (p && p->role == ROLE_ADMIN) return true;
    return p && !p->is_token && strcmp(p->name, m->owner) == 0;
}

char *scorecard_source_load(db_conn *c, long long id, int version, size_t *len, int *found,
                            char *err, size_t errlen)
{
    return source_load(c, id, version, len, NULL, found, err, errlen);
}

int scorecard_list(db_conn *c, cJSON **out, char *err, size_t errlen)
{
    db_result *res = NULL;
    *out = NULL;
    if (db_query(c, SQL_LIST, NULL, 0, &res, err, errlen) != 0) return -1;
    cJSON *arr = cJSON_CreateArray();
    for (int i = 0; arr && i < res->nrows; i++) {
        cJSON *o = cJSON_CreateObject();
        if (!o) break;
        cJSON_AddStringToObject(o, "name", db_cell(res, i, 0));
        cJSON_AddStringToObject(o, "title", db_cell(res, i, 1));
        cJSON_AddStringToObject(o, "owner", db_cell(res, i, 2));
        cJSON_AddStringToObject(o, "updated_at", db_cell(res, i, 3));
        cJSON_AddItemToArray(arr, o);
    }
    db_result_free(res);
    *out = arr;
    return 0;
}

int scorecard_versions(db_conn *c, long long id, cJSON **out, char *err, size_t errlen)
{
    db_val p = DB_INT(id);
    db_result *res = NULL;
    *out = NULL;
    if (db_query(c, SQL_VERSIONS, &p, 1, &res, err, errlen) != 0) return -1;
    cJSON *arr = cJSON_CreateArray();
    for (int i = 0; arr && i < res->nrows; i++) {
        cJSON *v = cJSON_CreateObject();
        if (!v) break;
        cJSON_AddNumberToObject(v, "version", (double)db_cell_int(res, i, 0));
        cJSON_AddStringToObject(v, "saved_at", db_cell(res, i, 1));
        cJSON_AddStringToObject(v, "saved_by", db_cell(res, i, 2));
        cJSON_AddItemToArray(arr, v);
    }
    db_result_free(res);
    *out = arr;
    return 0;
}

int scorecard_save(db_conn *c, const principal *who, const char *name, const char *owner,
                   const char *src, size_t len, int restored_from, int *version, char *err, size_t errlen)
{
    if (version_save(c, name, owner, who->name, src, len, false, version, err, errlen) != 0)
        return db_errno(c) == 1062 ? 409 : -1;   /* ER_DUP_ENTRY: created by someone else meanwhile */
    const char *action = restored_from > 0 ? "scorecard.restore" : "scorecard.save";
    char detail[160], aerr[256];
    if (restored_from > 0) snprintf(detail, sizeof detail, "{\"version\":%d,\"restored_from\":%d}", *version, restored_from);
    else snprintf(detail, sizeof detail, "{\"version\":%d}", *version);
    if (audit_log(c, who, action, name, detail, aerr, sizeof aerr) != 0)
        log_error("scorecard", "audit of %s %s failed: %s", action, name, aerr);
    return 0;
}

int scorecard_delete(db_conn *c, const principal *who, const scorecard_meta *m, char *err, size_t errlen)
{
    db_val id = DB_INT(m->id);
    char detail[64], aerr[256];
    snprintf(detail, sizeof detail, "{\"version\":%d}", m->version);
    if (db_exec(c, SQL_DELETE, &id, 1, NULL, err, errlen) != 0) return -1;
    if (audit_log(c, who, "scorecard.delete", m->name, detail, aerr, sizeof aerr) != 0)
        log_error("scorecard", "audit of scorecard.delete %s failed: %s", m->name, aerr);
    return 0;
}

/* --- running as a user (`fourscore scorecard run --as`) --- */

static const char SQL_CLI_USER[] = "SELECT id, role, store_code FROM users WHERE username = ?";
static const char SQL_CLI_USER_REGIONS[] = "SELECT region_code FROM user_regions WHERE user_id = ? ORDER BY region_code";
static const char SQL_CLI_USER_STORES[] =
    "SELECT s.store_code FROM stores s JOIN user_regions ur ON ur.region_code = s.region_code"
    " WHERE ur.user_id = ? ORDER BY s.store_code";

static int push_code(char ***v, int *n, const char *s)
{
    char **nv = realloc(*v, (size_t)(*n + 1) * sizeof *nv);
    if (!nv) return -1;
    *v = nv;
    if (!(nv[*n] = strdup(s))) return -1;
    (*n)++;
    return 0;
}

int scorecard_principal_of_user(db_conn *c, const char *user, principal *p, char *err, size_t errlen)
{
    memset(p, 0, sizeof *p);
    db_val u = DB_STR(user);
    db_result *res = NULL;
    if (db_query(c, SQL_CLI_USER, &u, 1, &res, err, errlen) != 0) return -1;
    if (res->nrows == 0) { db_result_free(res); return 0; }
    snprintf(p->name, sizeof p->name, "%s", user);
    p->user_id = db_cell_int(res, 0, 0);
    p->role = role_parse(db_cell(res, 0, 1));
    p->all_stores = p->role == ROLE_ADMIN || p->role == ROLE_EXEC;
    int rc = 0;
    if (p->role == ROLE_SM && db_cell(res, 0, 2)) rc = push_code(&p->stores, &p->nstores, db_cell(res, 0, 2));
    db_result_free(res);
    if (rc == 0 && p->role == ROLE_RM) {
        db_val id = DB_INT(p->user_id);
        if (db_query(c, SQL_CLI_USER_REGIONS, &id, 1, &res, err, errlen) != 0) { principal_free(p); return -1; }
        for (int i = 0; rc == 0 && i < res->nrows; i++) rc = push_code(&p->regions, &p->nregions, db_cell(res, i, 0));
        db_result_free(res);
        if (rc == 0 && db_query(c, SQL_CLI_USER_STORES, &id, 1, &res, err, errlen) != 0) { principal_free(p); return -1; }
        for (int i = 0; rc == 0 && i < res->nrows; i++) rc = push_code(&p->stores, &p->nstores, db_cell(res, i, 0));
        db_result_free(res);
    }
    if (rc != 0) { principal_free(p); snprintf(err, errlen, "out of memory"); return -1; }
    return 1;
}

