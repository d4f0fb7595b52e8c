/* scope: roles, principals (who is asking: a user or a token, and the stores
 * they may see), and scope_resolve(), the one place that turns a principal
 * and the stores/regions a query names into the stores it reads. The KPI
 * engine, the importer, lists and the scorecard runner take their scope from
 * here, never from their own rules. Part of core/access/ (docs/security.md). */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cJSON.h>
#include "access_private.h"
#include "db.h"

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

bool role_is_user(enum role r)
{
    return r == ROLE_ADMIN || r == ROLE_EXEC || r == ROLE_RM || r == ROLE_SM;
}

/* --- small helpers: string lists, names, bounded copies --- */

int strv_push(char ***v, int *n, const char *s)
{
    char **grown = realloc(*v, (size_t)(*n + 1) * sizeof *grown);
    if (!grown) return -1;
    *v = grown;
    grown[*n] = strdup(s);
    if (!grown[*n]) return -1;
    (*n)++;
    return 0;
}

void strv_free(char **v, int n)
{
    for (int i = 0; i < n; i++) free(v[i]);
    free(v);
}

bool strv_has(char *const *v, int n, const char *s)
{
    for (int i = 0; i < n; i++)
        if (strcmp(v[i], s) == 0) return true;
    return false;
}

void copy_bounded(char *dst, size_t cap, const char *src)
{
    snprintf(dst, cap, "%s", src ? src : "");
}

/* User and token names: [A-Za-z0-9_.-]{1,64}. */
bool valid_name(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > NAME_MAX_LEN) return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (!isalnum(ch) && ch != '_' && ch != '.' && ch != '-') return false;
    }
    return true;
}

/* Store and region codes: [A-Za-z0-9_-]{1,32} (docs/import.md). */
bool valid_code(const char *s)
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
size_t utf8_prefix_len(const char *s, size_t max)
{
    size_t n = strlen(s);
    if (n <= max) return n;
    size_t k = max;
    while (k > 0 && ((unsigned char)s[k] & 0xC0) == 0x80) k--;
    return k;
}

bool is_hex(const char *s, size_t n)
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

bool principal_sees_region(const principal *p, const char *region_code)
{
    if (!p || !region_code) return false;
    if (p->all_stores) return true;
    return p->role == ROLE_RM && strv_has(p->regions, p->nregions, region_code);
}

bool auth_may_import(const principal *p, bool group_wide)
{
    if (!p) return false;
    if (p->role == ROLE_ADMIN) return true;
    if (p->role != ROLE_UPLOADER) return false;
    return group_wide ? p->all_stores : true;
}

void store_set_free(store_set *s)
{
    if (!s) return;
    strv_free(s->codes, s->n);
    s->codes = NULL;
    s->n = 0;
    s->every = false;
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
    out->every = false;
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
    out->every = rc == 0 && out->n == dir->nstores;
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

int principal_load_scope(db_conn *c, principal *p, const char *store_code, char *err, size_t errlen)
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

static cJSON *string_array(char *const *v, int n)
{
    cJSON *a = cJSON_CreateArray();
    for (int i = 0; i < n; i++) cJSON_AddItemToArray(a, cJSON_CreateString(v[i]));
    return a;
}

/* {"username","role","regions":[codes],"stores":[codes]}: the scope in force. */
cJSON *scope_json(db_conn *c, const principal *p, char *err, size_t errlen)
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

static const char SQL_REGIONS_LIST[] = "SELECT region_code, name FROM regions ORDER BY region_code";
static const char SQL_STORES_LIST[] =
    "SELECT s.store_code, s.name, s.brand, s.region_code, r.name, s.city "
    "FROM stores s JOIN regions r ON r.region_code = s.region_code ORDER BY s.store_code";

cJSON *regions_json(db_conn *c, const principal *p, char *err, size_t errlen)
{
    db_result *res = NULL;
    if (db_query(c, SQL_REGIONS_LIST, NULL, 0, &res, err, errlen) != 0) return NULL;
    cJSON *arr = cJSON_CreateArray();
    for (int i = 0; i < res->nrows; i++) {
        if (!principal_sees_region(p, db_cell(res, i, 0))) continue;
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "code", db_cell(res, i, 0));
        cJSON_AddStringToObject(o, "name", db_cell(res, i, 1));
        cJSON_AddItemToArray(arr, o);
    }
    db_result_free(res);
    return arr;
}

cJSON *stores_json(db_conn *c, const principal *p, char *err, size_t errlen)
{
    db_result *res = NULL;
    if (db_query(c, SQL_STORES_LIST, NULL, 0, &res, err, errlen) != 0) return NULL;
    cJSON *arr = cJSON_CreateArray();
    for (int i = 0; i < res->nrows; i++) {
        if (!principal_sees_store(p, db_cell(res, i, 0))) continue;
        const char *city = db_cell(res, i, 5);
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "code", db_cell(res, i, 0));
        cJSON_AddStringToObject(o, "name", db_cell(res, i, 1));
        cJSON_AddStringToObject(o, "brand", db_cell(res, i, 2));
        cJSON_AddStringToObject(o, "region", db_cell(res, i, 3));
        cJSON_AddStringToObject(o, "region_name", db_cell(res, i, 4));
        cJSON_AddItemToObject(o, "city", city ? cJSON_CreateString(city) : cJSON_CreateNull());
        cJSON_AddItemToArray(arr, o);
    }
    db_result_free(res);
    return arr;
}

static const char SQL_STORE_EXISTS[] = "SELECT 1 FROM stores WHERE store_code = ?";

int auth_store_exists(db_conn *c, const char *code, char *err, size_t errlen)
{
    if (!valid_code(code)) return 0;
    db_val v = DB_STR(code);
    db_result *res = NULL;
    if (db_query(c, SQL_STORE_EXISTS, &v, 1, &res, err, errlen) != 0) return -1;
    int found = res->nrows > 0;
    db_result_free(res);
    return found;
}
