/* scorecard_api: the functions a scorecard calls (docs/api.md, "Lua
 * scorecards"): period, stores(), kpi(), customers(), target() and log().
 * Part of core/script/; the sandbox (sandbox.c) puts them in the script's
 * read-only environment. Figures come only from the KPI engine (kpi_query)
 * and the facts, always with the caller's scope from scope_resolve();
 * kpi() answers are cached per run, one engine lookup per (id, period, by).
 * Each function checks its stack and the run's budgets on entry; the time
 * it spends in the database and the engine is counted apart from the
 * script's own. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lua.h>
#include <lauxlib.h>

#include "app.h"
#include "calendar.h"
#include "clock.h"
#include "kpi.h"
#include "lists.h"
#include "scorecard_private.h"
#include "scorecard_lookup.h"
#include "scorecard_scale.h"

/* --- dates and the caller's stores --- */

bool scorecard_date_valid(const char *s)
{
    if (!s || strlen(s) != 10 || s[4] != '-' || s[7] != '-') return false;
    for (int i = 0; i < 10; i++)
        if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9')) return false;
    int y = atoi(s), m = atoi(s + 5), d = atoi(s + 8);
    if (y < 1900 || m < 1 || m > 12 || d < 1) return false;
    return d <= calendar_days_in_month(y, m);
}

int sc_cmp_codes(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

bool sc_in_scope(const sc_run *run, const char *code)
{
    if (!run->has_scope) return false;
    return bsearch(&code, run->scope.codes, (size_t)run->scope.n, sizeof(char *), sc_cmp_codes) != NULL;
}

void sc_need_data(lua_State *L, sc_run *run, const char *fn)
{
    luaL_checkstack(L, 8, fn);
    sc_check_budget(L, run);
    if (!run->app || !run->has_scope) luaL_error(L, "%s(): no data source in this run", fn);
}

/* Read opts.from / opts.to (validated dates) over the run's period. */
void sc_period_opts(lua_State *L, int opts, const char *fn, char from[11], char to[11])
{
    sc_run *run = run_of(L);
    memcpy(from, run->from, 11);
    memcpy(to, run->to, 11);
    if (lua_isnoneornil(L, opts)) return;
    luaL_checktype(L, opts, LUA_TTABLE);
    const char *keys[2] = { "from", "to" };
    char *dst[2] = { from, to };
    for (int i = 0; i < 2; i++) {
        int t = lua_getfield(L, opts, keys[i]);
        if (t != LUA_TNIL) {
            const char *v = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
            if (!scorecard_date_valid(v)) luaL_error(L, "%s(): opts.%s must be a date \"YYYY-MM-DD\"", fn, keys[i]);
            memcpy(dst[i], v, 11);
        }
        lua_pop(L, 1);
    }
    if (strcmp(from, to) > 0) luaL_error(L, "%s(): opts.from (%s) is after opts.to (%s)", fn, from, to);
}

static db_conn *acquire_read(lua_State *L, sc_run *run, db_pool **pool)
{
    char err[256];
    db_conn *c = app_acquire_read(run->app, pool, err, sizeof err);
    if (!c) sc_raise_fatal(L, run, 503, API_DB_UNAVAILABLE, err);
    return c;
}

/* --- the API --- */

static const char SQL_STORES[] =
    "SELECT s.store_code, s.name, s.brand, s.region_code, s.city FROM stores s ORDER BY s.store_code";

/* stores(): {code, name, brand, region, city} of every store in scope. */
static int api_stores(lua_State *L)
{
    sc_run *run = run_of(L);
    sc_need_data(L, run, "stores");
    double t0 = clock_ms(), c0 = sc_cpu_ms();
    db_pool *pool;
    db_conn *c = acquire_read(L, run, &pool);
    char err[256];
    db_result *res = NULL;
    int rc = db_query(c, SQL_STORES, NULL, 0, &res, err, sizeof err);
    db_release(pool, c);
    run->lookup_ms += clock_ms() - t0;
    run->lookup_cpu_ms += sc_cpu_ms() - c0;
    if (rc != 0) return sc_raise_fatal(L, run, 503, API_DB_UNAVAILABLE, err);
    run->pending_result = res;
    lua_newtable(L);
    int n = 0;
    for (int i = 0; i < res->nrows; i++) {
        if (!sc_in_scope(run, db_cell(res, i, 0))) continue;
        lua_createtable(L, 0, 5);
        static const char *const fields[] = { "code", "name", "brand", "region", "city" };
        for (int f = 0; f < 5; f++) {
            const char *v = db_cell(res, i, f);
            if (v) lua_pushstring(L, v); else lua_pushnil(L);
            lua_setfield(L, -2, fields[f]);
        }
        lua_rawseti(L, -2, ++n);
    }
    run->pending_result = NULL;
    db_result_free(res);
    return 1;
}

/* kpi(id [, opts]): store -> value (or region / "group" -> value) over the
 * caller's stores; cached per (id, from, to, by) within the run. */
static const char KPI_CACHE_KEY[] = "fourscore.kpi_cache";

static void push_copy(lua_State *L, int idx)
{
    idx = lua_absindex(L, idx);
    lua_newtable(L);
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        lua_pushvalue(L, -2);
        lua_insert(L, -2);
        lua_rawset(L, -4);
    }
}

static int api_kpi(lua_State *L)
{
    sc_run *run = run_of(L);
    size_t idlen;
    const char *id = luaL_checklstring(L, 1, &idlen);
    sc_need_data(L, run, "kpi");
    if (idlen == 0 || idlen > 64) return luaL_error(L, "kpi(): '%s' is not a KPI id", id);
    char from[11], to[11];
    sc_period_opts(L, 2, "kpi", from, to);
    const char *by = "store";
    if (lua_istable(L, 2)) {
        if (lua_getfield(L, 2, "by") != LUA_TNIL) {
            const char *b = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : "";
            if (strcmp(b, "store") == 0) by = "store";
            else if (strcmp(b, "region") == 0) by = "region";
            else if (strcmp(b, "group") == 0) by = "group";
            else return luaL_error(L, "kpi('%s'): opts.by must be \"store\", \"region\" or \"group\"", id);
        }
        lua_pop(L, 1);
    }
    char key[128];
    snprintf(key, sizeof key, "%s|%s|%s|%s", id, from, to, by);
    lua_getfield(L, LUA_REGISTRYINDEX, KPI_CACHE_KEY);
    int cache = lua_gettop(L);
    if (lua_getfield(L, cache, key) == LUA_TTABLE) {
        push_copy(L, -1);
        return 1;
    }
    lua_pop(L, 1);

    kpi_request req;
    memset(&req, 0, sizeof req);
    const char *ids[1] = { id };
    req.ids = ids;
    req.nids = 1;
    memcpy(req.from, from, 11);
    memcpy(req.to, to, 11);
    req.by = by;
    req.stores = &run->scope;
    kpi_answer *ans = NULL;
    int status = 0;
    char err[300] = "";
    run->lookups++;
    double t0 = clock_ms(), c0 = sc_cpu_ms();
    int qrc = kpi_query(run->app, &req, &ans, &status, err, sizeof err);
    run->lookup_ms += clock_ms() - t0;
    run->lookup_cpu_ms += sc_cpu_ms() - c0;
    if (qrc != 0) {
        if (status == 400 || status == 404) return luaL_error(L, "kpi('%s'): %s", id, err);
        if (status == 403) return sc_raise_fatal(L, run, 403, API_FORBIDDEN, err);
        return sc_raise_fatal(L, run, status >= 500 ? status : 503, API_DB_UNAVAILABLE, err);
    }
    run->pending_answer = ans;
    lua_createtable(L, 0, ans->nrows);
    for (int i = 0; i < ans->nrows; i++) {
        const kpi_row *row = &ans->rows[i];
        if (row->is_null[0] || !isfinite(row->values[0])) continue;
        if (strcmp(by, "store") == 0 && !sc_in_scope(run, row->key)) continue;
        lua_pushnumber(L, row->values[0]);
        lua_setfield(L, -2, row->key);
    }
    run->pending_answer = NULL;
    kpi_answer_free(ans);
    lua_pushvalue(L, -1);
    lua_setfield(L, cache, key);
    push_copy(L, -1);
    return 1;
}

/* customers([opts]): every customer of an in-scope store with ROs closed in
 * the period, with their RO revenue and RO count, from the per-RO rollup
 * (closed, non-internal ROs; revenue as docs/kpis.md defines service.revenue). One
 * indexed query per store in scope. */
static const char SQL_CUSTOMERS[] =
    "SELECT r.customer_code, COALESCE(c.type, 'other'), SUM(r.revenue), COUNT(*)"
    " FROM rollup_ro r LEFT JOIN customers c"
    "  ON c.store_code = r.store_code AND c.customer_code = r.customer_code"
    " WHERE r.store_code = ? AND r.day >= ? AND r.day <= ?"
    " GROUP BY r.customer_code, c.type ORDER BY r.customer_code";

static int api_customers(lua_State *L)
{
    sc_run *run = run_of(L);
    sc_need_data(L, run, "customers");
    char from[11], to[11];
    sc_period_opts(L, 1, "customers", from, to);
    lua_newtable(L);
    int n = 0;
    for (int s = 0; s < run->scope.n; s++) {
        sc_check_budget(L, run);
        const char *store = run->scope.codes[s];
        double t0 = clock_ms(), c0 = sc_cpu_ms();
        db_pool *pool;
        db_conn *c = acquire_read(L, run, &pool);
        db_val params[3] = { DB_STR(store), DB_STRN(from, 10), DB_STRN(to, 10) };
        db_result *res = NULL;
        char err[256];
        int rc = db_query(c, SQL_CUSTOMERS, params, 3, &res, err, sizeof err);
        db_release(pool, c);
        run->lookup_ms += clock_ms() - t0;
        run->lookup_cpu_ms += sc_cpu_ms() - c0;
        if (rc != 0) return sc_raise_fatal(L, run, 503, API_DB_UNAVAILABLE, err);
        run->pending_result = res;
        for (int i = 0; i < res->nrows; i++) {
            bool isnull;
            lua_createtable(L, 0, 5);
            lua_pushstring(L, store);
            lua_setfield(L, -2, "store");
            lua_pushstring(L, db_cell(res, i, 0));
            lua_setfield(L, -2, "code");
            lua_pushstring(L, db_cell(res, i, 1));
            lua_setfield(L, -2, "type");
            lua_pushnumber(L, db_cell_double(res, i, 2, &isnull));
            lua_setfield(L, -2, "revenue");
            lua_pushinteger(L, db_cell_int(res, i, 3));
            lua_setfield(L, -2, "visits");
            lua_rawseti(L, -2, ++n);
        }
        run->pending_result = NULL;
        db_result_free(res);
    }
    return 1;
}

/* list(id [, opts]): the rows of a list (core/engine/lists_page.c) for the
 * caller's stores, or opts.stores, as tables with the list's column keys;
 * opts.from / opts.to as for kpi(), opts.limit rows (default 1000, at
 * most 10000); phones masked as for the caller. */
#define SC_LIST_LIMIT_DEFAULT 1000
#define SC_LIST_LIMIT_MAX     10000
#define SC_LIST_MAX_STORES    KPI_MAX_STORES

static void push_json_value(lua_State *L, const cJSON *v)
{
    if (cJSON_IsString(v)) lua_pushstring(L, v->valuestring);
    else if (cJSON_IsBool(v)) lua_pushboolean(L, cJSON_IsTrue(v));
    else if (cJSON_IsNumber(v) && v->valuedouble == floor(v->valuedouble) && fabs(v->valuedouble) < 9e15)
        lua_pushinteger(L, (lua_Integer)v->valuedouble);
    else if (cJSON_IsNumber(v)) lua_pushnumber(L, v->valuedouble);
    else lua_pushnil(L);
}

static int api_list(lua_State *L)
{
    sc_run *run = run_of(L);
    size_t idlen;
    const char *id = luaL_checklstring(L, 1, &idlen);
    sc_need_data(L, run, "list");
    if (idlen == 0 || idlen > 64) return luaL_error(L, "list(): '%s' is not a list id", id);
    char from[11], to[11];
    sc_period_opts(L, 2, "list", from, to);
    long long limit = SC_LIST_LIMIT_DEFAULT;
    const char **picked = NULL;
    int nstores = 0;
    if (lua_istable(L, 2)) {
        if (lua_getfield(L, 2, "limit") != LUA_TNIL) {
            int isnum = 0;
            lua_Integer v = lua_tointegerx(L, -1, &isnum);
            if (!isnum || v < 1 || v > SC_LIST_LIMIT_MAX)
                return luaL_error(L, "list('%s'): opts.limit must be a whole number from 1 to %d", id, SC_LIST_LIMIT_MAX);
            limit = v;
        }
        lua_pop(L, 1);
        if (lua_getfield(L, 2, "stores") != LUA_TNIL) {
            if (!lua_istable(L, -1)) return luaL_error(L, "list('%s'): opts.stores must be an array of store codes", id);
            nstores = (int)luaL_len(L, -1);
            if (nstores > SC_LIST_MAX_STORES) return luaL_error(L, "list('%s'): opts.stores: too many stores", id);
            picked = lua_newuserdatauv(L, (size_t)(nstores ? nstores : 1) * sizeof *picked, 0);
            for (int i = 0; i < nstores; i++) {
                lua_rawgeti(L, -2, i + 1);
                if (lua_type(L, -1) != LUA_TSTRING)
                    return luaL_error(L, "list('%s'): opts.stores[%d] must be a store code", id, i + 1);
                picked[i] = lua_tostring(L, -1);      /* kept alive by the opts table */
                lua_pop(L, 1);
            }
        } else {
            lua_pop(L, 1);
        }
    }
    list_request q = { .id = id, .from = from, .to = to, .stores = picked, .nstores = nstores, .limit = limit };
    list_error e = { 0 };
    run->lookups++;
    double t0 = clock_ms(), c0 = sc_cpu_ms();
    cJSON *o = lists_page_json(run->app, run->who, &q, &e);
    run->lookup_ms += clock_ms() - t0;
    run->lookup_cpu_ms += sc_cpu_ms() - c0;
    if (!o) {
        if (e.status == 400) return luaL_error(L, "list('%s'): %s", id, e.message);
        if (e.status == 403) return sc_raise_fatal(L, run, 403, API_FORBIDDEN, e.message);
        return sc_raise_fatal(L, run, e.status >= 500 ? e.status : 503, e.code, e.message);
    }
    run->pending_json = o;
    const cJSON *rows = cJSON_GetObjectItemCaseSensitive(o, "rows");
    lua_createtable(L, cJSON_GetArraySize(rows), 0);
    int n = 0;
    const cJSON *row;
    cJSON_ArrayForEach(row, rows) {
        if ((n & 63) == 0) sc_check_budget(L, run);
        lua_createtable(L, 0, 12);
        const cJSON *cell;
        cJSON_ArrayForEach(cell, row) {
            push_json_value(L, cell);
            lua_setfield(L, -2, cell->string);
        }
        lua_rawseti(L, -2, ++n);
    }
    run->pending_json = NULL;
    cJSON_Delete(o);
    return 1;
}

/* target(id): the catalogue target, a number or {low, high}, or nil. */
static int api_target(lua_State *L)
{
    sc_run *run = run_of(L);
    const char *id = luaL_checkstring(L, 1);
    sc_need_data(L, run, "target");
    cJSON *t = kpi_target_json(run->app, id);
    if (!t) { lua_pushnil(L); return 1; }
    double v = 0, lo = 0, hi = 0;
    int kind = 0;
    if (cJSON_IsNumber(t)) { v = t->valuedouble; kind = 1; }
    else if (cJSON_IsObject(t)) {
        cJSON *l = cJSON_GetObjectItemCaseSensitive(t, "low"), *h = cJSON_GetObjectItemCaseSensitive(t, "high");
        if (cJSON_IsNumber(l) && cJSON_IsNumber(h)) { lo = l->valuedouble; hi = h->valuedouble; kind = 2; }
    }
    cJSON_Delete(t);
    if (kind == 1) lua_pushnumber(L, v);
    else if (kind == 2) {
        lua_createtable(L, 0, 2);
        lua_pushnumber(L, lo);
        lua_setfield(L, -2, "low");
        lua_pushnumber(L, hi);
        lua_setfield(L, -2, "high");
    } else lua_pushnil(L);
    return 1;
}

/* The length of s as a JSON string, quotes included, as cJSON prints it
 * (control characters as \uXXXX, bytes from 0x80 as they are). */
size_t sc_json_text_len(const char *s, size_t len)
{
    size_t n = len + 2;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\' || c == '\b' || c == '\f' || c == '\n' || c == '\r' || c == '\t') n += 1;
        else if (c < 0x20) n += 5;
    }
    return n;
}

/* log(...): one line of the run's log (at most SC_LOG_MAX_LINES lines). */
static int api_log(lua_State *L)
{
    sc_run *run = run_of(L);
    luaL_checkstack(L, 4, "log");
    sc_check_budget(L, run);
    if (run->log_lines > SC_LOG_MAX_LINES) return 0;
    if (run->log_lines == SC_LOG_MAX_LINES) {
        cJSON_AddItemToArray(run->log, cJSON_CreateString("(log truncated)"));
        run->log_lines++;
        run->log_json += 18;
        return 0;
    }
    int n = lua_gettop(L);
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    for (int i = 1; i <= n; i++) {
        if (i > 1) luaL_addchar(&b, ' ');
        sc_push_safe_string(L, i);
        luaL_addvalue(&b);
    }
    luaL_pushresult(&b);
    size_t len;
    const char *line = lua_tolstring(L, -1, &len);
    char cut[SC_LOG_MAX_LINE + 4];
    if (len > SC_LOG_MAX_LINE) {
        size_t k = SC_LOG_MAX_LINE;
        while (k > 0 && ((unsigned char)line[k] & 0xC0) == 0x80) k--;   /* whole UTF-8 characters */
        memcpy(cut, line, k);
        memcpy(cut + k, "...", 4);
        line = cut;
    }
    cJSON *s = cJSON_CreateString(line);
    if (s) cJSON_AddItemToArray(run->log, s);
    run->log_lines++;
    run->log_json += sc_json_text_len(line, strlen(line)) + 1;
    return 0;
}


/* --- installing them --- */

void sc_api_install(lua_State *L, int env, sc_run *run)
{
    env = lua_absindex(L, env);
    lua_newtable(L);
    lua_setfield(L, LUA_REGISTRYINDEX, KPI_CACHE_KEY);

    lua_createtable(L, 0, 2);
    lua_pushstring(L, run->from);
    lua_setfield(L, -2, "from");
    lua_pushstring(L, run->to);
    lua_setfield(L, -2, "to");
    sc_push_readonly(L, -1, "period");
    lua_setfield(L, env, "period");
    lua_pop(L, 1);

    static const luaL_Reg api[] = {
        { "stores", api_stores }, { "kpi", api_kpi }, { "customers", api_customers },
        { "target", api_target }, { "list", api_list }, { "log", api_log }, { NULL, NULL },
    };
    lua_pushvalue(L, env);
    luaL_setfuncs(L, api, 0);
    lua_pop(L, 1);
    sc_scale_install(L, env);          /* at_least, at_most, band, ratio (scorecard_scale.c) */
    sc_lookup_install(L, env);         /* benchmark, budget (scorecard_lookup.c) */
}
