/* scorecard_lookup: the scorecard API's comparisons with figures beyond the
 * store's own KPI (docs/api.md, "Lua scorecards"): benchmark(id [, opts]),
 * the group's quartiles exactly as the benchmarks route answers them
 * (core/engine/benchmarks.c), and budget(id, store [, opts]), a store's
 * budget for the period from the `targets` entity, pro-rated as the KPI
 * route's targets=1 does (core/engine/kpi_targets.c). Part of core/script/,
 * installed by sc_api_install (scorecard_api.c) beside kpi() and target().
 * Both answer from a per-run cache (one engine lookup per id and period),
 * check the run's budgets on entry, count their time as lookup time, and
 * keep to the caller: budget() only for the caller's stores, benchmark()
 * nil when an admin has switched benchmarks off for the caller's role. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <lua.h>
#include <lauxlib.h>

#include "benchmarks.h"
#include "clock.h"
#include "kpi.h"
#include "scorecard_lookup.h"

static const char BENCH_CACHE_KEY[] = "fourscore.benchmark_cache";
static const char BUDGET_CACHE_KEY[] = "fourscore.budget_cache";

static const char *check_id(lua_State *L, const char *fn)
{
    size_t len;
    const char *id = luaL_checklstring(L, 1, &len);
    if (len == 0 || len > 64) luaL_error(L, "%s(): '%s' is not a KPI id", fn, id);
    return id;
}

/* Leaves the cache table of key on the stack and pushes the cached entry
 * (or nil). Returns the cache's index. */
static int cache_lookup(lua_State *L, const char *cache_key, const char *entry)
{
    if (lua_getfield(L, LUA_REGISTRYINDEX, cache_key) != LUA_TTABLE) {
        lua_pop(L, 1);
        lua_newtable(L);
        lua_pushvalue(L, -1);
        lua_setfield(L, LUA_REGISTRYINDEX, cache_key);
    }
    int cache = lua_gettop(L);
    lua_getfield(L, cache, entry);
    return cache;
}

static void push_number_or_nil(lua_State *L, const cJSON *o, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    if (cJSON_IsNumber(v) && isfinite(v->valuedouble)) lua_pushnumber(L, v->valuedouble);
    else lua_pushnil(L);
}

/* benchmark(id [, opts]): {stores, group, p25, median, p75} over every
 * store of the group (no store named); nil when benchmarks are off for the
 * caller. The values but stores are nil under BENCHMARK_MIN_STORES stores. */
static int api_benchmark(lua_State *L)
{
    sc_run *run = run_of(L);
    const char *id = check_id(L, "benchmark");
    sc_need_data(L, run, "benchmark");
    char from[11], to[11];
    sc_period_opts(L, 2, "benchmark", from, to);
    char key[128];
    snprintf(key, sizeof key, "%s|%s|%s", id, from, to);
    int cache = cache_lookup(L, BENCH_CACHE_KEY, key);
    if (!lua_isnil(L, -1)) {
        if (lua_type(L, -1) == LUA_TBOOLEAN) lua_pushnil(L);          /* cached "off" */
        else {                                                        /* a fresh copy: the script may change it */
            lua_createtable(L, 0, 5);
            static const char *const f[] = { "stores", "group", "p25", "median", "p75" };
            for (int i = 0; i < 5; i++) {
                lua_getfield(L, -2, f[i]);
                lua_setfield(L, -2, f[i]);
            }
        }
        return 1;
    }
    lua_pop(L, 1);

    principal cli;
    const principal *who = run->who;
    if (!who) { principal_cli(&cli); who = &cli; }      /* a shell run over every store */
    const char *ids[1] = { id };
    int status = 0;
    char err[300] = "";
    run->lookups++;
    double t0 = clock_ms(), c0 = sc_cpu_ms();
    cJSON *ans = benchmarks_json(run->app, who, ids, 1, from, to, &status, err, sizeof err);
    run->lookup_ms += clock_ms() - t0;
    run->lookup_cpu_ms += sc_cpu_ms() - c0;
    if (!ans) {
        if (status == 403) {                            /* benchmarks.shared = 0: nil, remembered */
            lua_pushboolean(L, 0);
            lua_setfield(L, cache, key);
            lua_pushnil(L);
            return 1;
        }
        if (status == 400 || status == 404) return luaL_error(L, "benchmark('%s'): %s", id, err);
        return sc_raise_fatal(L, run, status >= 500 ? status : 503, API_DB_UNAVAILABLE, err);
    }
    const cJSON *b = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(ans, "values"), id);
    lua_createtable(L, 0, 5);
    static const char *const f[] = { "stores", "group", "p25", "median", "p75" };
    for (int i = 0; i < 5; i++) {
        push_number_or_nil(L, b, f[i]);
        lua_setfield(L, -2, f[i]);
    }
    cJSON_Delete(ans);
    lua_pushvalue(L, -1);
    lua_setfield(L, cache, key);
    /* hand out a copy, so that a script changing its table leaves the cache alone */
    lua_createtable(L, 0, 5);
    for (int i = 0; i < 5; i++) {
        lua_getfield(L, -2, f[i]);
        lua_setfield(L, -2, f[i]);
    }
    return 1;
}

/* budget(id, store [, opts]): the store's budget of KPI id for the period
 * (the sum over the months meeting it of each month's target x the share
 * of the month inside the period), or nil when a month has none. One
 * engine lookup per (id, period) for all the caller's stores. */
static int api_budget(lua_State *L)
{
    sc_run *run = run_of(L);
    const char *id = check_id(L, "budget");
    const char *store = luaL_checkstring(L, 2);
    sc_need_data(L, run, "budget");
    char from[11], to[11];
    sc_period_opts(L, 3, "budget", from, to);
    if (!sc_in_scope(run, store)) return luaL_error(L, "budget('%s', '%s'): '%s' is not one of your stores", id, store, store);
    int takes = kpi_budget_check(run->app, id);
    if (takes < 0) return luaL_error(L, "budget('%s'): unknown KPI", id);
    if (takes == 0) return luaL_error(L, "budget('%s'): this KPI takes no budgets (the catalogue's \"budget\": false)", id);

    char key[128];
    snprintf(key, sizeof key, "%s|%s|%s", id, from, to);
    int cache = cache_lookup(L, BUDGET_CACHE_KEY, key);
    if (lua_istable(L, -1)) {
        lua_getfield(L, -1, store);
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
    req.by = "store";
    req.stores = &run->scope;
    req.targets = true;
    kpi_answer *ans = NULL;
    int status = 0;
    char err[300] = "";
    run->lookups++;
    double t0 = clock_ms(), c0 = sc_cpu_ms();
    int qrc = kpi_query(run->app, &req, &ans, &status, err, sizeof err);
    run->lookup_ms += clock_ms() - t0;
    run->lookup_cpu_ms += sc_cpu_ms() - c0;
    if (qrc != 0) {
        if (status == 400 || status == 404) return luaL_error(L, "budget('%s'): %s", id, err);
        if (status == 403) return sc_raise_fatal(L, run, 403, API_FORBIDDEN, err);
        return sc_raise_fatal(L, run, status >= 500 ? status : 503, API_DB_UNAVAILABLE, err);
    }
    run->pending_answer = ans;
    lua_createtable(L, 0, ans->nrows);
    for (int i = 0; i < ans->nrows; i++) {
        const kpi_row *row = &ans->rows[i];
        if (!row->targets || row->targets_null[0] || !isfinite(row->targets[0])) continue;
        if (!sc_in_scope(run, row->key)) continue;
        lua_pushnumber(L, row->targets[0]);
        lua_setfield(L, -2, row->key);
    }
    run->pending_answer = NULL;
    kpi_answer_free(ans);
    lua_pushvalue(L, -1);
    lua_setfield(L, cache, key);
    lua_getfield(L, -1, store);
    return 1;
}

void sc_lookup_install(lua_State *L, int env)
{
    env = lua_absindex(L, env);
    lua_newtable(L);
    lua_setfield(L, LUA_REGISTRYINDEX, BENCH_CACHE_KEY);
    lua_newtable(L);
    lua_setfield(L, LUA_REGISTRYINDEX, BUDGET_CACHE_KEY);
    static const luaL_Reg fns[] = { { "benchmark", api_benchmark }, { "budget", api_budget }, { NULL, NULL } };
    lua_pushvalue(L, env);
    luaL_setfuncs(L, fns, 0);
    lua_pop(L, 1);
}
