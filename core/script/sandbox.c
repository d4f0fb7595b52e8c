/* sandbox: the Lua state a scorecard runs in (docs/api.md, "The sandbox";
 * docs/security.md, "The scorecard sandbox"). Part of core/script/; the
 * runner (scorecard_run.c) makes one fresh state per run with the pieces
 * here and the functions scripts call come from scorecard_api.c.
 *
 * Every run gets a fresh lua_State made with lua_newstate and a counting
 * allocator that refuses past the memory budget. A count hook adds up
 * instructions and checks the wall-clock deadline; once a run is over a
 * budget the hook fires on every instruction and raises again, and the
 * sandbox's pcall re-raises, so a script cannot swallow the end of its run.
 * The script sees only string, table, math, utf8 and the safe base
 * functions, through read-only proxies; the string metatable is locked;
 * chunks are text only; tostring and string.format never print addresses;
 * __gc metamethods are refused (finalizers run with hooks off); the
 * pattern functions (scorecard_pattern.c) count every step of their
 * backtracking as instructions, so that no pattern runs on inside C past
 * the budgets; string.rep of an empty text is answered without looping;
 * the library functions whose work grows with their arguments are charged
 * for it before they run. Against the known breakouts of Redis scripting:
 * every C function checks its stack (CVE-2021-32626); nothing survives a
 * run or is shared between users, and the string metatable is locked
 * (CVE-2022-24735, CVE-2024-46981); there is no load(), so nothing is
 * compiled once a script runs (CVE-2025-49844). */
#include <limits.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lua.h>
#include <lauxlib.h>
#include <lualib.h>

#include "clock.h"
#include "config.h"
#include "scorecard_private.h"

/* --- budgets --- */

int scorecard_limits_load(scorecard_limits *lim, char *err, size_t errlen)
{
    double instr = (double)SCORECARD_DEFAULT_INSTRUCTIONS;
    double mem = (double)SCORECARD_DEFAULT_MEMORY;
    double secs = SCORECARD_DEFAULT_SECONDS;
    double result = (double)SCORECARD_DEFAULT_RESULT;
    if (config_env_number("FOURSCORE_LUA_INSTRUCTIONS", 1000, 1e12, &instr, err, errlen) < 0 ||
        config_env_number("FOURSCORE_LUA_MEMORY", 1 << 20, 16e9, &mem, err, errlen) < 0 ||
        config_env_number("FOURSCORE_LUA_SECONDS", 0.01, 3600, &secs, err, errlen) < 0 ||
        config_env_number("FOURSCORE_LUA_RESULT_MAX", 1024, 4e9, &result, err, errlen) < 0)
        return -1;
    lim->instructions = (long long)instr;
    lim->memory_bytes = (size_t)mem;
    lim->seconds = secs;
    lim->result_bytes = (size_t)result;
    return 0;
}

const char *sc_abort_reason(enum sc_abort a)
{
    switch (a) {
    case ABORT_INSTRUCTIONS: return "the instruction budget";
    case ABORT_MEMORY: return "the memory budget";
    case ABORT_TIME: return "the time budget";
    case ABORT_RESULT: return "the size limit of an answer";
    default: return "a budget";
    }
}

/* --- the allocator: counts every byte, refuses growth past the budget --- */

void *sc_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
    sc_run *run = ud;
    if (!ptr) osize = 0;                  /* osize is a type tag for new blocks */
    if (nsize == 0) {
        free(ptr);
        run->mem_used -= osize;
        return NULL;
    }
    if (nsize > osize && (run->mem_used >= run->mem_limit || nsize - osize > run->mem_limit - run->mem_used))
        return NULL;                      /* Lua collects and retries, then raises LUA_ERRMEM */
    void *p = realloc(ptr, nsize);
    if (!p) return NULL;
    run->mem_used = run->mem_used - osize + nsize;
    return p;
}

/* --- the hook: CPU and wall-clock budgets --- */

/* End the run over a budget. From now on the hook fires on every
 * instruction: a pcall that catches this error ends at the very next
 * instruction of its caller. */
static int stop_run(lua_State *L, sc_run *run)
{
    if (run->hook_step != 1) {
        run->hook_step = 1;
        lua_sethook(L, sc_hook, LUA_MASKCOUNT, 1);
    }
    return luaL_error(L, "%s: run stopped (%s)", run->name, sc_abort_reason(run->abort));
}

/* Add n instructions (or pattern steps) and look at the clock: sets
 * run->abort when a budget is spent. */
static void spend(sc_run *run, long long n)
{
    if (run->abort != ABORT_NONE) return;
    run->instructions += n;
    if (run->instructions > run->lim.instructions) run->abort = ABORT_INSTRUCTIONS;
    else if (clock_ms() > run->deadline_ms) run->abort = ABORT_TIME;
}

void sc_hook(lua_State *L, lua_Debug *ar)
{
    (void)ar;
    sc_run *run = run_of(L);
    spend(run, run->hook_step);
    if (run->abort != ABORT_NONE) stop_run(L, run);
}

/* The meter of the pattern functions: their steps count as instructions. */
void sc_meter_charge(lua_State *L, sc_meter *m, unsigned long long steps, const char *fn)
{
    sc_run *run = (sc_run *)(void *)((char *)m - offsetof(sc_run, meter));
    if (run->abort == ABORT_NONE) {
        spend(run, steps > (unsigned long long)LLONG_MAX / 2 ? LLONG_MAX / 2 : (long long)steps);
        if (run->abort != ABORT_NONE) snprintf(run->abort_where, sizeof run->abort_where, "%s", fn);
    }
    if (run->abort != ABORT_NONE) stop_run(L, run);
}

/* Checked at the entry of every function the script may call. */
void sc_check_budget(lua_State *L, sc_run *run)
{
    if (run->abort == ABORT_NONE && clock_ms() > run->deadline_ms) run->abort = ABORT_TIME;
    if (run->abort != ABORT_NONE) {
        if (run->abort == ABORT_FATAL) luaL_error(L, "%s: %s", run->name, run->fatal_message);
        luaL_error(L, "%s: run stopped (%s)", run->name, sc_abort_reason(run->abort));
    }
}

/* A failure of the server's side (database): ends the run with its status. */
int sc_raise_fatal(lua_State *L, sc_run *run, int status, enum api_error code, const char *msg)
{
    run->abort = ABORT_FATAL;
    run->fatal_status = status;
    snprintf(run->fatal_code, sizeof run->fatal_code, "%s", api_error_code(code));
    snprintf(run->fatal_message, sizeof run->fatal_message, "%s", msg);
    run->hook_step = 1;
    lua_sethook(L, sc_hook, LUA_MASKCOUNT, 1);
    return luaL_error(L, "%s: %s", run->name, msg);
}

/* --- safe base functions --- */

/* tostring that never shows an address: tables, functions and the like
 * without __tostring print as their type name. */
void sc_push_safe_string(lua_State *L, int idx)
{
    idx = lua_absindex(L, idx);
    luaL_checkstack(L, 3, "tostring");
    int t = lua_type(L, idx);
    if (t == LUA_TTABLE || t == LUA_TFUNCTION || t == LUA_TUSERDATA || t == LUA_TTHREAD ||
        t == LUA_TLIGHTUSERDATA) {
        if (luaL_getmetafield(L, idx, "__tostring") != LUA_TNIL) {
            lua_pop(L, 1);
            luaL_tolstring(L, idx, NULL);
            return;
        }
        lua_pushstring(L, lua_typename(L, t));
        return;
    }
    luaL_tolstring(L, idx, NULL);
}

static int sc_tostring(lua_State *L)
{
    luaL_checkany(L, 1);
    sc_push_safe_string(L, 1);
    return 1;
}

/* pcall that cannot swallow the end of a run (budgets, database failure). */
static int sc_pcall(lua_State *L)
{
    sc_run *run = run_of(L);
    luaL_checkany(L, 1);
    sc_check_budget(L, run);
    int status = lua_pcall(L, lua_gettop(L) - 1, LUA_MULTRET, 0);
    if (status == LUA_ERRMEM && run->abort == ABORT_NONE) run->abort = ABORT_MEMORY;
    if (run->abort != ABORT_NONE) return lua_error(L);
    luaL_checkstack(L, 1, "pcall");
    lua_pushboolean(L, status == LUA_OK);
    lua_insert(L, 1);
    return lua_gettop(L);
}

/* setmetatable without __gc: finalizers run with hooks off, out of budget. */
static int sc_setmetatable(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    if (lua_type(L, 2) == LUA_TTABLE) {
        lua_pushliteral(L, "__gc");
        if (lua_rawget(L, 2) != LUA_TNIL) return luaL_error(L, "__gc metamethods are not allowed in a scorecard");
        lua_pop(L, 1);
    }
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_pushvalue(L, 1);
    lua_pushvalue(L, 2);
    lua_call(L, 2, 1);
    return 1;
}

static const char READONLY_KEY[] = "fourscore.readonly";

static bool is_readonly(lua_State *L, int idx)
{
    idx = lua_absindex(L, idx);
    lua_getfield(L, LUA_REGISTRYINDEX, READONLY_KEY);
    lua_pushvalue(L, idx);
    bool ro = lua_rawget(L, -2) != LUA_TNIL;
    lua_pop(L, 2);
    return ro;
}

/* rawset that cannot write into the read-only globals and libraries. */
static int sc_rawset(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    luaL_checkany(L, 2);
    luaL_checkany(L, 3);
    if (is_readonly(L, 1)) return luaL_error(L, "this table is read-only");
    lua_settop(L, 3);
    lua_rawset(L, 1);
    return 1;
}

static int sc_readonly_newindex(lua_State *L)
{
    const char *what = lua_tostring(L, lua_upvalueindex(1));
    const char *key = lua_type(L, 2) == LUA_TSTRING ? lua_tostring(L, 2) : "?";
    if (strcmp(what, "_ENV") == 0)
        return luaL_error(L, "cannot assign global '%s': globals are read-only (use 'local %s = ...')", key, key);
    return luaL_error(L, "cannot assign %s.%s: the %s library is read-only", what, key, what);
}

/* Push a read-only proxy of the table at real (what names it in errors). */
void sc_push_readonly(lua_State *L, int real, const char *what)
{
    real = lua_absindex(L, real);
    lua_newtable(L);
    lua_createtable(L, 0, 3);
    lua_pushvalue(L, real);
    lua_setfield(L, -2, "__index");
    lua_pushstring(L, what);
    lua_pushcclosure(L, sc_readonly_newindex, 1);
    lua_setfield(L, -2, "__newindex");
    lua_pushboolean(L, 0);
    lua_setfield(L, -2, "__metatable");
    lua_setmetatable(L, -2);
    lua_getfield(L, LUA_REGISTRYINDEX, READONLY_KEY);
    lua_pushvalue(L, -2);
    lua_pushboolean(L, 1);
    lua_rawset(L, -3);
    lua_pop(L, 1);
}

/* --- string functions made safe --- */

static void charge_call(lua_State *L, sc_run *run, double cost, const char *fn);

/* string.format without %p, and with tables and functions shown by name;
 * charged by the length of its texts. */
static int sc_format(lua_State *L)
{
    size_t flen;
    const char *fmt = luaL_checklstring(L, 1, &flen);
    for (size_t i = 0; i < flen; i++) {
        if (fmt[i] != '%') continue;
        i++;
        if (i < flen && fmt[i] == '%') continue;
        while (i < flen && strchr("-+ #0123456789.", fmt[i])) i++;
        if (i < flen && fmt[i] == 'p') return luaL_error(L, "string.format: '%%p' is not allowed in a scorecard");
    }
    int n = lua_gettop(L);
    double cost = 1.0 + (double)flen / SC_BYTES_PER_INSTR;
    for (int i = 2; i <= n; i++)
        if (lua_type(L, i) == LUA_TSTRING) cost += (double)lua_rawlen(L, i) / SC_BYTES_PER_INSTR;
    charge_call(L, run_of(L), cost, "string.format");
    for (int i = 2; i <= n; i++) {
        int t = lua_type(L, i);
        if (t == LUA_TTABLE || t == LUA_TFUNCTION || t == LUA_TUSERDATA || t == LUA_TTHREAD ||
            t == LUA_TLIGHTUSERDATA) {
            sc_push_safe_string(L, i);
            lua_replace(L, i);
        }
    }
    luaL_checkstack(L, 1, "format");
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, n, 1);
    return 1;
}

/* Charge a library function's work inside C as instructions before it
 * runs (the hook only counts the script's own instructions): stops the
 * run when that spends a budget. */
static void charge_call(lua_State *L, sc_run *run, double cost, const char *fn)
{
    if (run->abort == ABORT_NONE) {
        spend(run, cost > 1e15 ? (long long)1e15 : (long long)cost);
        if (run->abort != ABORT_NONE) snprintf(run->abort_where, sizeof run->abort_where, "%s", fn);
    }
    if (run->abort != ABORT_NONE) stop_run(L, run);
}

/* Call the original function (upvalue 1) with this call's arguments. */
static int call_original(lua_State *L)
{
    int nargs = lua_gettop(L);
    luaL_checkstack(L, 1, "call");
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, nargs, LUA_MULTRET);
    return lua_gettop(L);
}

/* Library functions whose work grows with their argument (a text's
 * length, a table's length, a range): upvalues original, cost kind, name. */
enum sc_cost { COST_TEXT, COST_TABLE, COST_RANGE };

static int sc_charged(lua_State *L)
{
    double cost = 1;
    switch ((int)lua_tointeger(L, lua_upvalueindex(2))) {
    case COST_TEXT:
        if (lua_type(L, 1) == LUA_TSTRING) cost += (double)lua_rawlen(L, 1) / SC_BYTES_PER_INSTR;
        break;
    case COST_TABLE:
        if (lua_type(L, 1) == LUA_TTABLE) cost += (double)lua_rawlen(L, 1);
        break;
    case COST_RANGE:
        if (lua_isinteger(L, 2) && lua_isinteger(L, 3) && lua_tointeger(L, 3) > lua_tointeger(L, 2))
            cost += (double)lua_tointeger(L, 3) - (double)lua_tointeger(L, 2);
        break;
    }
    charge_call(L, run_of(L), cost, lua_tostring(L, lua_upvalueindex(3)));
    return call_original(L);
}

static void wrap_charged(lua_State *L, int lib, const char *libname, const char *fname, enum sc_cost kind)
{
    char name[48];
    snprintf(name, sizeof name, "%s.%s", libname, fname);
    lua_getfield(L, lib, fname);
    lua_pushinteger(L, kind);
    lua_pushstring(L, name);
    lua_pushcclosure(L, sc_charged, 3);
    lua_setfield(L, lib, fname);
}

/* table.sort's comparisons run inside C: n*log2(n) of them are charged
 * before it starts, and without a comparator of the script's each goes
 * through sc_less, which charges the length of the texts it compares (two
 * long texts are read whole by every comparison). */
static int sc_less(lua_State *L)
{
    size_t la = lua_type(L, 1) == LUA_TSTRING ? lua_rawlen(L, 1) : 0;
    size_t lb = lua_type(L, 2) == LUA_TSTRING ? lua_rawlen(L, 2) : 0;
    charge_call(L, run_of(L), 1.0 + (double)(la < lb ? la : lb) / SC_BYTES_PER_INSTR, "table.sort");
    lua_pushboolean(L, lua_compare(L, 1, 2, LUA_OPLT));
    return 1;
}

static int sc_sort(lua_State *L)
{
    sc_run *run = run_of(L);
    luaL_checktype(L, 1, LUA_TTABLE);
    double n = (double)lua_rawlen(L, 1);
    charge_call(L, run, n > 1 ? n * log2(n) : 1, "table.sort");
    if (lua_isnoneornil(L, 2)) {
        lua_settop(L, 1);
        lua_pushcfunction(L, sc_less);
    } else {
        luaL_checktype(L, 2, LUA_TFUNCTION);
        lua_settop(L, 2);
    }
    return call_original(L);
}

/* string.rep: its output is charged by length (when it fits in the memory
 * left; a larger one fails on the memory budget); an empty text with an
 * empty separator is answered at once (Lua's own loops n times copying
 * nothing: string.rep('', 2^62) spins for years inside C). */
static int sc_rep(lua_State *L)
{
    size_t l, lsep;
    luaL_checklstring(L, 1, &l);
    lua_Integer n = luaL_checkinteger(L, 2);
    luaL_optlstring(L, 3, "", &lsep);
    if (l + lsep == 0 || n <= 0) {
        lua_pushliteral(L, "");
        return 1;
    }
    sc_run *run = run_of(L);
    double total = (double)n * (double)(l + lsep);
    if (total <= (double)(run->mem_limit - run->mem_used)) charge_call(L, run, 1.0 + total / SC_BYTES_PER_INSTR, "string.rep");
    return call_original(L);
}

/* --- building the sandbox --- */

static void copy_field(lua_State *L, int from, int to, const char *name)
{
    lua_getfield(L, from, name);
    lua_setfield(L, to, name);
}

/* Leaves the script's environment (a read-only proxy) on the stack. */
void sc_build_env(lua_State *L, sc_run *run)
{
    lua_newtable(L);
    lua_setfield(L, LUA_REGISTRYINDEX, READONLY_KEY);

    luaL_requiref(L, "_G", luaopen_base, 0);
    int base = lua_gettop(L);
    luaL_requiref(L, LUA_STRLIBNAME, luaopen_string, 0);
    int strlib = lua_gettop(L);
    luaL_requiref(L, LUA_TABLIBNAME, luaopen_table, 0);
    int tablib = lua_gettop(L);
    luaL_requiref(L, LUA_MATHLIBNAME, luaopen_math, 0);
    int mathlib = lua_gettop(L);
    luaL_requiref(L, LUA_UTF8LIBNAME, luaopen_utf8, 0);
    int utf8lib = lua_gettop(L);

    /* the string library as the script and its methods see it */
    lua_pushnil(L);
    lua_setfield(L, strlib, "dump");
    lua_getfield(L, strlib, "format");
    lua_pushcclosure(L, sc_format, 1);
    lua_setfield(L, strlib, "format");
    lua_getfield(L, strlib, "rep");
    lua_pushcclosure(L, sc_rep, 1);
    lua_setfield(L, strlib, "rep");
    scorecard_pattern_install(L, strlib, &run->meter);
    static const char *const text_fns[] = { "upper", "lower", "reverse" };
    for (size_t i = 0; i < sizeof text_fns / sizeof *text_fns; i++) wrap_charged(L, strlib, "string", text_fns[i], COST_TEXT);
    wrap_charged(L, utf8lib, "utf8", "len", COST_TEXT);
    wrap_charged(L, utf8lib, "utf8", "offset", COST_TEXT);
    wrap_charged(L, tablib, "table", "insert", COST_TABLE);
    wrap_charged(L, tablib, "table", "remove", COST_TABLE);
    wrap_charged(L, tablib, "table", "concat", COST_TABLE);
    wrap_charged(L, tablib, "table", "move", COST_RANGE);
    lua_getfield(L, tablib, "sort");
    lua_pushcclosure(L, sc_sort, 1);
    lua_setfield(L, tablib, "sort");
    lua_pushliteral(L, "");
    lua_getmetatable(L, -1);                 /* the string metatable: lock it */
    lua_pushboolean(L, 0);
    lua_setfield(L, -2, "__metatable");
    lua_pop(L, 2);

    int real = (lua_newtable(L), lua_gettop(L));
    static const char *const safe_base[] = {
        "pairs", "ipairs", "next", "select", "type", "tonumber", "error", "assert",
        "getmetatable", "rawequal", "rawlen", "rawget",
    };
    for (size_t i = 0; i < sizeof safe_base / sizeof *safe_base; i++) copy_field(L, base, real, safe_base[i]);
    lua_pushcfunction(L, sc_tostring);
    lua_setfield(L, real, "tostring");
    lua_pushcfunction(L, sc_pcall);
    lua_setfield(L, real, "pcall");
    lua_pushcfunction(L, sc_rawset);
    lua_setfield(L, real, "rawset");
    lua_getfield(L, base, "setmetatable");
    lua_pushcclosure(L, sc_setmetatable, 1);
    lua_setfield(L, real, "setmetatable");

    sc_push_readonly(L, strlib, "string");
    lua_setfield(L, real, "string");
    sc_push_readonly(L, tablib, "table");
    lua_setfield(L, real, "table");
    sc_push_readonly(L, mathlib, "math");
    lua_setfield(L, real, "math");
    sc_push_readonly(L, utf8lib, "utf8");
    lua_setfield(L, real, "utf8");

    /* period and the functions of the API (scorecard_api.c) */
    sc_api_install(L, real, run);

    /* the base library also filled the state's own globals: empty them so
     * nothing but the proxy below is reachable */
    lua_pushglobaltable(L);
    lua_pushnil(L);
    while (lua_next(L, -2)) {
        lua_pop(L, 1);
        lua_pushvalue(L, -1);
        lua_pushnil(L);
        lua_rawset(L, -4);
    }
    lua_pop(L, 1);

    sc_push_readonly(L, real, "_ENV");
    lua_replace(L, base);
    lua_settop(L, base);
}

