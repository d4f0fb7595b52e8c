/* scorecard: Lua 5.4 scorecards for regional managers (docs/api.md, "Lua
 * scorecards" and "The sandbox").
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
 * pattern functions (core/scorecard_pattern.c) count every step of their
 * backtracking as instructions, so that no pattern runs on inside C past
 * the budgets; string.rep of an empty text is answered without looping.
 * The returned rows are read with raw access only (a table with a
 * metatable is refused), still under the deadline, and their copy counts
 * against the memory budget and a bound on the answer's size. Against
 * the known breakouts of Redis scripting: every C function checks its stack
 * (CVE-2021-32626); nothing survives a run or is shared between users, and
 * the string metatable is locked (CVE-2022-24735, CVE-2024-46981); there is
 * no load(), so nothing is compiled once a script runs (CVE-2025-49844).
 *
 * Figures come only from the KPI engine (kpi_query) and the facts, always
 * with the caller's scope from scope_resolve(); kpi() answers are cached per
 * run, one engine lookup per (id, period, by). The returned rows are checked
 * (a store outside the scope is refused), sorted and ranked here.
 *
 * Storage: table scorecards plus scorecard_versions (the last 20 kept),
 * schemas/005_scorecards.sql. Routes and `fourscore scorecard run` at the end. */
#include "scorecard.h"
#include "app.h"
#include "commands.h"
#include "config.h"
#include "kpi.h"
#include "log.h"
#include "counters.h"
#include "router.h"
#include "scorecard_pattern.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <lua.h>
#include <lauxlib.h>
#include <lualib.h>

#define SC_MAX_VERSIONS     20
#define SC_HOOK_STEP        100           /* instructions between budget checks */
#define SC_BYTES_PER_INSTR  16            /* bytes a library function handles for the cost of one instruction */
#define SC_LOG_MAX_LINES    1000
#define SC_LOG_MAX_LINE     1000
#define SC_RESULT_SLACK     ((size_t)4 << 20)  /* memory allowed past the budget to read the rows */
#define SC_ROW_DEPTH        4
#define SC_READ_CHECK       1024          /* values read between two looks at the clock */
#define SC_DEFAULT_CONCURRENT 4

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

/* At most this many runs at once in one process (FOURSCORE_LUA_CONCURRENT),
 * so that scripts cannot take every worker thread and memory budget. */
static pthread_mutex_t running_lock = PTHREAD_MUTEX_INITIALIZER;
static int running_now;

static int concurrent_max(void)
{
    double n = SC_DEFAULT_CONCURRENT;
    char err[128];
    if (config_env_number("FOURSCORE_LUA_CONCURRENT", 1, 4096, &n, err, sizeof err) < 0) return SC_DEFAULT_CONCURRENT;
    return (int)n;
}

static bool running_enter(void)
{
    pthread_mutex_lock(&running_lock);
    bool ok = running_now < concurrent_max();
    if (ok) running_now++;
    pthread_mutex_unlock(&running_lock);
    return ok;
}

static void running_leave(void)
{
    pthread_mutex_lock(&running_lock);
    running_now--;
    pthread_mutex_unlock(&running_lock);
}

/* --- the state of one run --- */

enum sc_abort { ABORT_NONE = 0, ABORT_INSTRUCTIONS, ABORT_MEMORY, ABORT_TIME, ABORT_RESULT, ABORT_FATAL, ABORT_CLOSING };

typedef struct sc_run {
    /* budgets */
    scorecard_limits lim;
    size_t mem_used, mem_limit;
    long long instructions;
    int hook_step;
    double start_ms, deadline_ms;
    enum sc_abort abort;
    char abort_where[48];        /* what was running when a budget ran out ("string.find"), or "" */
    sc_meter meter;              /* charges the pattern functions' steps (scorecard_pattern.h) */
    /* the answer's bound: JSON bytes counted while copying the rows, and the
     * copy's memory (counted with mem_used against mem_limit) */
    size_t result_max, result_json, result_mem;
    unsigned read_ticks;
    /* a failure that is not the script's (database): status, code, message */
    int fatal_status;
    char fatal_code[40], fatal_message[300];
    /* inputs */
    struct app *app;
    const principal *who;
    const char *name, *source;
    size_t len;
    char chunkname[80];
    char from[11], to[11];
    store_set scope;             /* the caller's stores (sorted codes) */
    bool has_scope;
    /* the script's error */
    bool script_failed, syntax_failed;
    int err_line;
    char err_message[512];
    /* outputs */
    cJSON *log;
    int log_lines;
    size_t log_json;             /* the log's size as JSON */
    cJSON *rows;                 /* built while reading the result */
    long long lookups;
    double lookup_ms;            /* time in the database and the engine (kpi, stores, customers) */
    double lookup_cpu_ms;        /* this thread's CPU time in them */
    /* resources held while Lua may raise (freed at the end if still set) */
    kpi_answer *pending_answer;
    db_result *pending_result;
} sc_run;

static sc_run *run_of(lua_State *L)
{
    return *(sc_run **)lua_getextraspace(L);
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

/* CPU time of this thread: what a run costs, whatever else the machine does. */
static double cpu_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

static const char *abort_reason(enum sc_abort a)
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

static void *sc_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
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

static void sc_hook(lua_State *L, lua_Debug *ar);

/* End the run over a budget. From now on the hook fires on every
 * instruction: a pcall that catches this error ends at the very next
 * instruction of its caller. */
static int stop_run(lua_State *L, sc_run *run)
{
    if (run->hook_step != 1) {
        run->hook_step = 1;
        lua_sethook(L, sc_hook, LUA_MASKCOUNT, 1);
    }
    return luaL_error(L, "%s: run stopped (%s)", run->name, abort_reason(run->abort));
}

/* Add n instructions (or pattern steps) and look at the clock: sets
 * run->abort when a budget is spent. */
static void spend(sc_run *run, long long n)
{
    if (run->abort != ABORT_NONE) return;
    run->instructions += n;
    if (run->instructions > run->lim.instructions) run->abort = ABORT_INSTRUCTIONS;
    else if (now_ms() > run->deadline_ms) run->abort = ABORT_TIME;
}

static void sc_hook(lua_State *L, lua_Debug *ar)
{
    (void)ar;
    sc_run *run = run_of(L);
    spend(run, run->hook_step);
    if (run->abort != ABORT_NONE) stop_run(L, run);
}

/* The meter of the pattern functions: their steps count as instructions. */
static void sc_meter_charge(lua_State *L, sc_meter *m, unsigned long long steps, const char *fn)
{
    sc_run *run = (sc_run *)(void *)((char *)m - offsetof(sc_run, meter));
    if (run->abort == ABORT_NONE) {
        spend(run, steps > (unsigned long long)LLONG_MAX / 2 ? LLONG_MAX / 2 : (long long)steps);
        if (run->abort != ABORT_NONE) snprintf(run->abort_where, sizeof run->abort_where, "%s", fn);
    }
    if (run->abort != ABORT_NONE) stop_run(L, run);
}

/* Checked at the entry of every function the script may call. */
static void check_budget(lua_State *L, sc_run *run)
{
    if (run->abort == ABORT_NONE && now_ms() > run->deadline_ms) run->abort = ABORT_TIME;
    if (run->abort != ABORT_NONE) {
        if (run->abort == ABORT_FATAL) luaL_error(L, "%s: %s", run->name, run->fatal_message);
        luaL_error(L, "%s: run stopped (%s)", run->name, abort_reason(run->abort));
    }
}

/* A failure of the server's side (database): ends the run with its status. */
static int raise_fatal(lua_State *L, sc_run *run, int status, const char *code, const char *msg)
{
    run->abort = ABORT_FATAL;
    run->fatal_status = status;
    snprintf(run->fatal_code, sizeof run->fatal_code, "%s", code);
    snprintf(run->fatal_message, sizeof run->fatal_message, "%s", msg);
    run->hook_step = 1;
    lua_sethook(L, sc_hook, LUA_MASKCOUNT, 1);
    return luaL_error(L, "%s: %s", run->name, msg);
}

/* --- safe base functions --- */

/* tostring that never shows an address: tables, functions and the like
 * without __tostring print as their type name. */
static void push_safe_string(lua_State *L, int idx)
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
    push_safe_string(L, 1);
    return 1;
}

/* pcall that cannot swallow the end of a run (budgets, database failure). */
static int sc_pcall(lua_State *L)
{
    sc_run *run = run_of(L);
    luaL_checkany(L, 1);
    check_budget(L, run);
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
static void push_readonly(lua_State *L, int real, const char *what)
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
            push_safe_string(L, i);
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

/* --- the API: period, stores(), kpi(), customers(), target(), log() --- */

static bool valid_date(const char *s)
{
    if (!s || strlen(s) != 10 || s[4] != '-' || s[7] != '-') return false;
    for (int i = 0; i < 10; i++)
        if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9')) return false;
    int y = atoi(s), m = atoi(s + 5), d = atoi(s + 8);
    static const int mdays[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    if (y < 1900 || m < 1 || m > 12 || d < 1) return false;
    int md = mdays[m - 1] + (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0));
    return d <= md;
}

static int cmp_codes(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool in_scope(const sc_run *run, const char *code)
{
    if (!run->has_scope) return false;
    return bsearch(&code, run->scope.codes, (size_t)run->scope.n, sizeof(char *), cmp_codes) != NULL;
}

static void need_data(lua_State *L, sc_run *run, const char *fn)
{
    luaL_checkstack(L, 8, fn);
    check_budget(L, run);
    if (!run->app || !run->has_scope) luaL_error(L, "%s(): no data source in this run", fn);
}

/* Read opts.from / opts.to (validated dates) over the run's period. */
static void read_period_opts(lua_State *L, int opts, const char *fn, char from[11], char to[11])
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
            if (!valid_date(v)) luaL_error(L, "%s(): opts.%s must be a date \"YYYY-MM-DD\"", fn, keys[i]);
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
    if (!c) raise_fatal(L, run, 503, "db_unavailable", err);
    return c;
}

static const char SQL_STORES[] =
    "SELECT s.store_code, s.name, s.brand, s.region_code, s.city FROM stores s ORDER BY s.store_code";

/* stores(): {code, name, brand, region, city} of every store in scope. */
static int api_stores(lua_State *L)
{
    sc_run *run = run_of(L);
    need_data(L, run, "stores");
    double t0 = now_ms(), c0 = cpu_ms();
    db_pool *pool;
    db_conn *c = acquire_read(L, run, &pool);
    char err[256];
    db_result *res = NULL;
    int rc = db_query(c, SQL_STORES, NULL, 0, &res, err, sizeof err);
    db_release(pool, c);
    run->lookup_ms += now_ms() - t0;
    run->lookup_cpu_ms += cpu_ms() - c0;
    if (rc != 0) return raise_fatal(L, run, 503, "db_unavailable", err);
    run->pending_result = res;
    lua_newtable(L);
    int n = 0;
    for (int i = 0; i < res->nrows; i++) {
        if (!in_scope(run, db_cell(res, i, 0))) continue;
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
    need_data(L, run, "kpi");
    if (idlen == 0 || idlen > 64) return luaL_error(L, "kpi(): '%s' is not a KPI id", id);
    char from[11], to[11];
    read_period_opts(L, 2, "kpi", from, to);
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
    double t0 = now_ms(), c0 = cpu_ms();
    int qrc = kpi_query(run->app, &req, &ans, &status, err, sizeof err);
    run->lookup_ms += now_ms() - t0;
    run->lookup_cpu_ms += cpu_ms() - c0;
    if (qrc != 0) {
        if (status == 400 || status == 404) return luaL_error(L, "kpi('%s'): %s", id, err);
        if (status == 403) return raise_fatal(L, run, 403, "forbidden", err);
        return raise_fatal(L, run, status >= 500 ? status : 503, "db_unavailable", err);
    }
    run->pending_answer = ans;
    lua_createtable(L, 0, ans->nrows);
    for (int i = 0; i < ans->nrows; i++) {
        const kpi_row *row = &ans->rows[i];
        if (row->is_null[0] || !isfinite(row->values[0])) continue;
        if (strcmp(by, "store") == 0 && !in_scope(run, row->key)) continue;
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
 * (closed, non-internal ROs; revenue as import-format.md derives it). One
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
    need_data(L, run, "customers");
    char from[11], to[11];
    read_period_opts(L, 1, "customers", from, to);
    lua_newtable(L);
    int n = 0;
    for (int s = 0; s < run->scope.n; s++) {
        check_budget(L, run);
        const char *store = run->scope.codes[s];
        double t0 = now_ms(), c0 = cpu_ms();
        db_pool *pool;
        db_conn *c = acquire_read(L, run, &pool);
        db_val params[3] = { DB_STR(store), DB_STRN(from, 10), DB_STRN(to, 10) };
        db_result *res = NULL;
        char err[256];
        int rc = db_query(c, SQL_CUSTOMERS, params, 3, &res, err, sizeof err);
        db_release(pool, c);
        run->lookup_ms += now_ms() - t0;
        run->lookup_cpu_ms += cpu_ms() - c0;
        if (rc != 0) return raise_fatal(L, run, 503, "db_unavailable", err);
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

/* target(id): the catalogue target, a number or {low, high}, or nil. */
static int api_target(lua_State *L)
{
    sc_run *run = run_of(L);
    const char *id = luaL_checkstring(L, 1);
    need_data(L, run, "target");
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
static size_t json_text_len(const char *s, size_t len)
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
    check_budget(L, run);
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
        push_safe_string(L, i);
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
    run->log_json += json_text_len(line, strlen(line)) + 1;
    return 0;
}

/* --- building the sandbox --- */

static void copy_field(lua_State *L, int from, int to, const char *name)
{
    lua_getfield(L, from, name);
    lua_setfield(L, to, name);
}

/* Leaves the script's environment (a read-only proxy) on the stack. */
static void build_env(lua_State *L, sc_run *run)
{
    lua_newtable(L);
    lua_setfield(L, LUA_REGISTRYINDEX, READONLY_KEY);
    lua_newtable(L);
    lua_setfield(L, LUA_REGISTRYINDEX, KPI_CACHE_KEY);

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

    push_readonly(L, strlib, "string");
    lua_setfield(L, real, "string");
    push_readonly(L, tablib, "table");
    lua_setfield(L, real, "table");
    push_readonly(L, mathlib, "math");
    lua_setfield(L, real, "math");
    push_readonly(L, utf8lib, "utf8");
    lua_setfield(L, real, "utf8");

    lua_createtable(L, 0, 2);
    lua_pushstring(L, run->from);
    lua_setfield(L, -2, "from");
    lua_pushstring(L, run->to);
    lua_setfield(L, -2, "to");
    push_readonly(L, -1, "period");
    lua_setfield(L, real, "period");
    lua_pop(L, 1);

    static const luaL_Reg api[] = {
        { "stores", api_stores }, { "kpi", api_kpi }, { "customers", api_customers },
        { "target", api_target }, { "log", api_log }, { NULL, NULL },
    };
    lua_pushvalue(L, real);
    luaL_setfuncs(L, api, 0);
    lua_pop(L, 1);

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

    push_readonly(L, real, "_ENV");
    lua_replace(L, base);
    lua_settop(L, base);
}

/* --- reading the script's error --- */

/* The first line of this scorecard's chunk on the stack, or 0. */
static int script_line(lua_State *L, const sc_run *run)
{
    lua_Debug ar;
    for (int level = 0; level < 64 && lua_getstack(L, level, &ar); level++) {
        if (!lua_getinfo(L, "Sl", &ar)) continue;
        if (ar.currentline > 0 && strcmp(ar.source, run->chunkname) == 0) return ar.currentline;
    }
    return 0;
}

/* The message handler of the script's call: keeps the message and line. */
static int sc_msgh(lua_State *L)
{
    sc_run *run = run_of(L);
    const char *msg = lua_type(L, 1) == LUA_TSTRING || lua_type(L, 1) == LUA_TNUMBER ? lua_tostring(L, 1) : NULL;
    char buf[128];
    if (!msg) {
        snprintf(buf, sizeof buf, "error object is a %s value", luaL_typename(L, 1));
        msg = buf;
    }
    run->err_line = script_line(L, run);
    size_t nlen = strlen(run->name);
    if (strncmp(msg, run->name, nlen) == 0 && msg[nlen] == ':')
        snprintf(run->err_message, sizeof run->err_message, "%s", msg);
    else if (run->err_line > 0)
        snprintf(run->err_message, sizeof run->err_message, "%s:%d: %s", run->name, run->err_line, msg);
    else
        snprintf(run->err_message, sizeof run->err_message, "%s: %s", run->name, msg);
    lua_settop(L, 1);
    return 1;
}

/* A syntax error's line: the digits after "name:". */
static int message_line(const sc_run *run, const char *msg)
{
    size_t nlen = strlen(run->name);
    if (!msg || strncmp(msg, run->name, nlen) != 0 || msg[nlen] != ':') return 0;
    return atoi(msg + nlen + 1);
}

/* --- reading the rows --- */

/* The result is read with raw access only (lua_rawlen, lua_rawgeti,
 * lua_next), so that no code of the script runs once it has returned: a
 * table of the result with a metatable is refused outright, whatever its
 * metamethods (__index, __len, __pairs, __tostring, __eq, ...). Nothing here
 * calls a Lua function that can raise, so a cJSON being built is never left
 * behind by a longjmp. The copy is counted as it is made: its JSON bytes
 * against run->result_max, its memory with the script's against the memory
 * budget, and the clock is read every SC_READ_CHECK values. */

#define SC_NODE_MEM (sizeof(cJSON) + 16)    /* a cJSON node and its malloc overhead */

/* Count one value of the copy; false (run->abort set) once a bound is hit. */
static bool read_take(sc_run *run, size_t json, size_t mem)
{
    run->result_json += json;
    run->result_mem += mem;
    if (run->result_json > run->result_max) run->abort = ABORT_RESULT;
    else if (run->mem_used + run->result_mem > run->mem_limit) run->abort = ABORT_MEMORY;
    else if ((++run->read_ticks % SC_READ_CHECK) == 0 && now_ms() > run->deadline_ms) run->abort = ABORT_TIME;
    if (run->abort != ABORT_NONE) {
        snprintf(run->abort_where, sizeof run->abort_where, "reading the result");
        return false;
    }
    return true;
}

/* The JSON length of a number as cJSON prints it, or more. */
static size_t json_number_len(double d)
{
    if (!isfinite(d)) return 4;
    if (d == floor(d) && fabs(d) < 1e15) {
        size_t n = d < 0 ? 2 : 1;
        for (double a = fabs(d); a >= 10; a /= 10) n++;
        return n;
    }
    return 24;                          /* "%1.17g": sign, 17 digits, point, e-308 */
}

static cJSON *value_to_json(lua_State *L, sc_run *run, int idx, int depth, const char *key, char *why, size_t whylen);

/* A text of the result: refused when it holds a NUL byte (cJSON and the
 * client would see less than the script returned). */
static const char *plain_text(lua_State *L, int idx, size_t *len, const char *what, char *why, size_t whylen)
{
    const char *v = lua_tolstring(L, idx, len);
    if (strlen(v) != *len) {
        snprintf(why, whylen, "%s holds a NUL byte (\\0), which a result cannot carry", what);
        return NULL;
    }
    return v;
}

static cJSON *table_to_json(lua_State *L, sc_run *run, int idx, int depth, const char *key, char *why, size_t whylen)
{
    idx = lua_absindex(L, idx);
    if (depth > SC_ROW_DEPTH) { snprintf(why, whylen, "nested more than %d levels", SC_ROW_DEPTH); return NULL; }
    if (lua_getmetatable(L, idx)) {
        lua_pop(L, 1);
        if (key) snprintf(why, whylen, "'%.40s' (or a table in it) has a metatable (setmetatable): a result holds plain tables only", key);
        else snprintf(why, whylen, "a table in the row has a metatable (setmetatable): a result holds plain tables only");
        return NULL;
    }
    if (!lua_checkstack(L, 4)) { run->abort = ABORT_MEMORY; return NULL; }
    lua_Unsigned n = lua_rawlen(L, idx);
    size_t count = 0;
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        count++;
        lua_pop(L, 1);
        if (!read_take(run, 0, 0)) { lua_pop(L, 1); return NULL; }
    }
    if (n > 0 && count == n) {
        if (!read_take(run, 2 + (size_t)n - 1, SC_NODE_MEM)) return NULL;
        cJSON *arr = cJSON_CreateArray();
        if (!arr) { run->abort = ABORT_MEMORY; return NULL; }
        for (lua_Unsigned i = 1; i <= n; i++) {
            lua_rawgeti(L, idx, (lua_Integer)i);
            cJSON *v = value_to_json(L, run, -1, depth + 1, key, why, whylen);
            lua_pop(L, 1);
            if (!v) { cJSON_Delete(arr); return NULL; }
            cJSON_AddItemToArray(arr, v);
        }
        return arr;
    }
    if (!read_take(run, 2 + (count > 0 ? count - 1 : 0), SC_NODE_MEM)) return NULL;
    cJSON *obj = cJSON_CreateObject();
    if (!obj) { run->abort = ABORT_MEMORY; return NULL; }
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        if (lua_type(L, -2) != LUA_TSTRING) {
            snprintf(why, whylen, "a table mixes a list with other keys, or has a key that is not a name");
            lua_pop(L, 2);
            cJSON_Delete(obj);
            return NULL;
        }
        size_t klen;
        const char *k = plain_text(L, -2, &klen, "a key", why, whylen);
        if (!k || !read_take(run, json_text_len(k, klen) + 1, klen + 17)) { lua_pop(L, 2); cJSON_Delete(obj); return NULL; }
        cJSON *v = value_to_json(L, run, -1, depth + 1, k, why, whylen);
        if (!v) { lua_pop(L, 2); cJSON_Delete(obj); return NULL; }
        cJSON_AddItemToObject(obj, k, v);
        lua_pop(L, 1);
    }
    return obj;
}

static cJSON *value_to_json(lua_State *L, sc_run *run, int idx, int depth, const char *key, char *why, size_t whylen)
{
    cJSON *v = NULL;
    switch (lua_type(L, idx)) {
    case LUA_TNIL:
        if (!read_take(run, 4, SC_NODE_MEM)) return NULL;
        v = cJSON_CreateNull();
        break;
    case LUA_TBOOLEAN:
        if (!read_take(run, 5, SC_NODE_MEM)) return NULL;
        v = cJSON_CreateBool(lua_toboolean(L, idx));
        break;
    case LUA_TNUMBER: {
        double d = lua_tonumber(L, idx);
        if (!read_take(run, json_number_len(d), SC_NODE_MEM)) return NULL;
        v = isfinite(d) ? cJSON_CreateNumber(d) : cJSON_CreateNull();
        break;
    }
    case LUA_TSTRING: {
        size_t len;
        const char *t = plain_text(L, idx, &len, key ? "a text" : "a text in a list", why, whylen);
        if (!t) return NULL;
        if (!read_take(run, json_text_len(t, len), SC_NODE_MEM + len + 17)) return NULL;
        v = cJSON_CreateString(t);
        break;
    }
    case LUA_TTABLE:
        return table_to_json(L, run, idx, depth, key, why, whylen);
    default:
        snprintf(why, whylen, "a %s cannot be part of a result", luaL_typename(L, idx));
        return NULL;
    }
    if (!v) run->abort = ABORT_MEMORY;
    return v;
}

/* Row-level failure: 422 with {"row": i, "message"}. */
static int bad_row(sc_run *run, const char *code, int row, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static int bad_row(sc_run *run, const char *code, int row, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char msg[300];
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    run->script_failed = true;
    run->err_line = -row;          /* marks a row error */
    snprintf(run->fatal_code, sizeof run->fatal_code, "%s", code);
    snprintf(run->err_message, sizeof run->err_message, "%s: row %d: %s", run->name, row, msg);
    return -1;
}

static const char *row_store(const cJSON *row)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(row, "store");
    return cJSON_IsString(v) && v->valuestring ? v->valuestring : "";
}

static double row_score(const cJSON *row)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(row, "score");
    return cJSON_IsNumber(v) && isfinite(v->valuedouble) ? v->valuedouble : 0.0;
}

typedef struct row_ref { const char *store; int row; } row_ref;

static int cmp_row_refs(const void *a, const void *b)
{
    const row_ref *x = a, *y = b;
    int c = strcmp(x->store, y->store);
    return c ? c : (x->row > y->row) - (x->row < y->row);
}

/* A store with more than one row: the first row (in the script's order)
 * that repeats a store, as bad_row; 0 when every store is once. */
static int check_duplicates(sc_run *run)
{
    int n = cJSON_GetArraySize(run->rows), k = 0;
    if (n < 2) return 0;
    row_ref *refs = calloc((size_t)n, sizeof *refs);
    if (!refs) { run->abort = ABORT_MEMORY; return -1; }
    const cJSON *row;
    cJSON_ArrayForEach(row, run->rows) { refs[k].store = row_store(row); refs[k].row = k + 1; k++; }
    qsort(refs, (size_t)n, sizeof *refs, cmp_row_refs);
    int first = 0;
    const char *store = NULL;
    for (int i = 1; i < n; i++)
        if (strcmp(refs[i].store, refs[i - 1].store) == 0 && (first == 0 || refs[i].row < first)) {
            first = refs[i].row;
            store = refs[i].store;
        }
    int rc = first ? bad_row(run, "bad_row", first, "store '%.64s' has more than one row", store) : 0;
    free(refs);
    return rc;
}

/* Turn the chunk's return value (at idx) into run->rows: each row copied
 * first (raw), then checked on the copy, so that what is checked is what
 * is answered. -1 with run->abort (a budget) or a row error set. */
static int read_rows(lua_State *L, sc_run *run, int idx)
{
    if (!lua_istable(L, idx) || lua_getmetatable(L, idx)) {
        bool meta = lua_istable(L, idx);
        if (meta) lua_pop(L, 1);
        run->script_failed = true;
        run->err_line = 0;
        snprintf(run->fatal_code, sizeof run->fatal_code, "bad_result");
        if (meta)
            snprintf(run->err_message, sizeof run->err_message,
                     "%s: the returned table has a metatable (setmetatable): return a plain table of rows", run->name);
        else
            snprintf(run->err_message, sizeof run->err_message,
                     "%s: the scorecard must end with 'return { {store = ..., score = ...}, ... }' (it returned a %s)",
                     run->name, luaL_typename(L, idx));
        return -1;
    }
    lua_Unsigned n = lua_rawlen(L, idx);
    run->rows = cJSON_CreateArray();
    if (!run->rows) { run->abort = ABORT_MEMORY; return -1; }
    /* the answer around the rows: {"rows":[],"log":[...],"elapsed_ms":N} */
    if (!read_take(run, 64 + run->log_json, SC_NODE_MEM * 4)) return -1;
    if (n > (lua_Unsigned)INT_MAX) n = (lua_Unsigned)INT_MAX;
    for (lua_Unsigned i = 1; i <= n; i++) {
        int row = (int)i;
        lua_rawgeti(L, idx, (lua_Integer)i);
        int r = lua_gettop(L);
        if (!lua_istable(L, r)) return bad_row(run, "bad_row", row, "each row must be a table, not a %s", luaL_typename(L, r));
        if (lua_getmetatable(L, r))
            return bad_row(run, "bad_row", row, "a row must be a plain table: this one has a metatable (setmetatable)");
        /* the row's rank, added after sorting: ,"rank":N */
        if (!read_take(run, 20 + (i > 1), SC_NODE_MEM)) return -1;
        char why[200] = "";
        cJSON *obj = value_to_json(L, run, r, 0, NULL, why, sizeof why);
        lua_settop(L, r - 1);
        if (!obj) return run->abort != ABORT_NONE ? -1 : bad_row(run, "bad_row", row, "%s", why);
        if (!cJSON_IsObject(obj)) { cJSON_Delete(obj); return bad_row(run, "bad_row", row, "a row must have named fields"); }
        cJSON_AddItemToArray(run->rows, obj);
        const cJSON *store = cJSON_GetObjectItemCaseSensitive(obj, "store");
        if (!cJSON_IsString(store) || !store->valuestring)
            return bad_row(run, "bad_row", row, "'store' must be a store code (text)");
        if (!in_scope(run, store->valuestring))
            return bad_row(run, "store_out_of_scope", row, "store '%.64s' is not one of your stores", store->valuestring);
        const cJSON *score = cJSON_GetObjectItemCaseSensitive(obj, "score");
        if (!cJSON_IsNumber(score) || !isfinite(score->valuedouble))
            return bad_row(run, "bad_row", row, "'score' must be a number (store %.64s)", store->valuestring);
        const cJSON *grade = cJSON_GetObjectItemCaseSensitive(obj, "grade");
        if (grade && !cJSON_IsString(grade))
            return bad_row(run, "bad_row", row, "'grade' must be text (store %.64s)", store->valuestring);
        const cJSON *items = cJSON_GetObjectItemCaseSensitive(obj, "items");
        if (items && !cJSON_IsArray(items) && !cJSON_IsObject(items))
            return bad_row(run, "bad_row", row, "'items' must be a list (store %.64s)", store->valuestring);
    }
    return check_duplicates(run);
}

/* --- the run, in protected mode --- */

static int sc_main(lua_State *L)
{
    sc_run *run = lua_touserdata(L, 1);
    lua_settop(L, 0);
    build_env(L, run);                                    /* 1: env */
    lua_pushcfunction(L, sc_msgh);                        /* 2: message handler */
    int st = luaL_loadbufferx(L, run->source, run->len, run->chunkname, "t");
    if (st != LUA_OK) {
        if (st == LUA_ERRMEM) { run->abort = ABORT_MEMORY; return 0; }
        const char *msg = lua_tostring(L, -1);
        run->syntax_failed = true;
        run->err_line = message_line(run, msg);
        if (run->err_line == 0) run->err_line = 1;        /* e.g. a binary chunk */
        if (msg && strncmp(msg, run->name, strlen(run->name)) == 0)
            snprintf(run->err_message, sizeof run->err_message, "%s", msg);
        else
            snprintf(run->err_message, sizeof run->err_message, "%s:%d: %s", run->name, run->err_line, msg ? msg : "cannot load");
        return 0;
    }
    lua_pushvalue(L, 1);
    lua_setupvalue(L, -2, 1);                             /* _ENV */
    run->hook_step = SC_HOOK_STEP;
    lua_sethook(L, sc_hook, LUA_MASKCOUNT, SC_HOOK_STEP);
    st = lua_pcall(L, 0, 1, 2);
    /* The hook stays: the budgets hold until the state is closed (reading
     * the rows runs no Lua code, and run_in_state closes with every
     * instruction refused). */
    if (st == LUA_ERRMEM && run->abort == ABORT_NONE) run->abort = ABORT_MEMORY;
    if (run->abort != ABORT_NONE) return 0;
    if (st != LUA_OK) {
        run->script_failed = true;
        if (run->err_message[0] == '\0')
            snprintf(run->err_message, sizeof run->err_message, "%s: %s", run->name,
                     lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : "error");
        return 0;
    }
    run->mem_limit += SC_RESULT_SLACK;                    /* reading the rows allocates a little */
    read_rows(L, run, lua_gettop(L));
    return 0;
}

/* --- sorting and ranking --- */

/* read_rows has checked every row; row_score and row_store still never
 * assume a field is there. */
static int cmp_rows(const void *a, const void *b)
{
    const cJSON *ra = *(cJSON *const *)a, *rb = *(cJSON *const *)b;
    double sa = row_score(ra), sb = row_score(rb);
    if (sa > sb) return -1;
    if (sa < sb) return 1;
    return strcmp(row_store(ra), row_store(rb));
}

/* Sort rows by score descending (ties by store code) and number them
 * 1, 2, 2, 4. Returns a new array holding the same items. */
static cJSON *rank_rows(cJSON *rows)
{
    int n = cJSON_GetArraySize(rows);
    cJSON **items = calloc((size_t)(n > 0 ? n : 1), sizeof *items);
    if (!items) return NULL;
    int k = 0;
    while (rows->child) items[k++] = cJSON_DetachItemViaPointer(rows, rows->child);
    qsort(items, (size_t)n, sizeof *items, cmp_rows);
    int rank = 0;
    double prev = 0;
    for (int i = 0; i < n; i++) {
        double s = row_score(items[i]);
        if (i == 0 || s != prev) rank = i + 1;
        prev = s;
        cJSON_DeleteItemFromObjectCaseSensitive(items[i], "rank");
        cJSON_AddNumberToObject(items[i], "rank", rank);
        cJSON_AddItemToArray(rows, items[i]);
    }
    free(items);
    return rows;
}

/* --- running a scorecard --- */

void scorecard_outcome_free(scorecard_outcome *o)
{
    if (!o) return;
    cJSON_Delete(o->details);
    cJSON_Delete(o->result);
    o->details = o->result = NULL;
}

static void set_error(scorecard_outcome *out, int status, const char *code, const char *msg, cJSON *details)
{
    out->status = status;
    snprintf(out->code, sizeof out->code, "%s", code);
    snprintf(out->message, sizeof out->message, "%s", msg);
    cJSON_Delete(out->details);
    out->details = details;
}

static cJSON *line_details(int line, const char *msg)
{
    cJSON *arr = cJSON_CreateArray(), *d = cJSON_CreateObject();
    if (!arr || !d) { cJSON_Delete(arr); cJSON_Delete(d); return NULL; }
    if (line > 0) cJSON_AddNumberToObject(d, "line", line); else cJSON_AddNullToObject(d, "line");
    if (msg) cJSON_AddStringToObject(d, "message", msg);
    cJSON_AddItemToArray(arr, d);
    return arr;
}

static void run_init(sc_run *run, const char *name, const char *source, size_t len, const scorecard_limits *lim)
{
    memset(run, 0, sizeof *run);
    run->name = name && *name ? name : "scorecard";
    snprintf(run->chunkname, sizeof run->chunkname, "=%s", run->name);
    run->source = source;
    run->len = len;
    if (lim) run->lim = *lim;
    else {
        char err[200];
        if (scorecard_limits_load(&run->lim, err, sizeof err) != 0) {
            log_warn("scorecard", "%s; using the defaults", err);
            run->lim = (scorecard_limits){ SCORECARD_DEFAULT_INSTRUCTIONS, SCORECARD_DEFAULT_MEMORY, SCORECARD_DEFAULT_SECONDS,
                                           SCORECARD_DEFAULT_RESULT };
        }
    }
    if (run->lim.result_bytes == 0) run->lim.result_bytes = SCORECARD_DEFAULT_RESULT;
    run->mem_limit = run->lim.memory_bytes;
    run->result_max = run->lim.result_bytes;
    run->meter.charge = sc_meter_charge;
}

/* Run sc_main in a fresh state and close it. Returns false when the state
 * could not even be made. */
static bool run_in_state(sc_run *run, const char *source)
{
    run->source = source;
    lua_State *L = lua_newstate(sc_alloc, run);
    if (!L) return false;
    *(sc_run **)lua_getextraspace(L) = run;
    lua_pushcfunction(L, sc_main);
    lua_pushlightuserdata(L, run);
    int st = lua_pcall(L, 1, 0, 0);
    if (st == LUA_ERRMEM && run->abort == ABORT_NONE) run->abort = ABORT_MEMORY;
    else if (st != LUA_OK && run->abort == ABORT_NONE && !run->script_failed && !run->syntax_failed) {
        run->script_failed = true;
        snprintf(run->err_message, sizeof run->err_message, "%s: %s", run->name,
                 lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : "could not read the result");
    }
    /* Nothing of the script may run while closing. */
    enum sc_abort kept = run->abort;
    run->abort = ABORT_CLOSING;
    run->mem_limit = (size_t)-1 / 2;
    lua_sethook(L, sc_hook, LUA_MASKCOUNT, 1);
    lua_gc(L, LUA_GCCOLLECT);
    lua_close(L);
    run->abort = kept;
    return true;
}

int scorecard_compile(const char *name, const char *source, size_t len, scorecard_outcome *out)
{
    memset(out, 0, sizeof *out);
    sc_run run;
    run_init(&run, name, source, len, NULL);
    lua_State *L = lua_newstate(sc_alloc, &run);
    if (!L) { set_error(out, 503, "unavailable", "cannot start Lua", NULL); return -1; }
    *(sc_run **)lua_getextraspace(L) = &run;
    int st = luaL_loadbufferx(L, source, len, run.chunkname, "t");
    int rc = 0;
    if (st == LUA_ERRMEM) {
        set_error(out, 422, "budget_exceeded", "the scorecard is too large to compile within the memory budget", NULL);
        rc = -1;
    } else if (st != LUA_OK) {
        const char *msg = lua_tostring(L, -1);
        int line = message_line(&run, msg);
        if (line == 0) line = 1;
        char text[512];
        snprintf(text, sizeof text, "%s", msg ? msg : "syntax error");
        set_error(out, 422, "syntax_error", text, line_details(line, text));
        rc = -1;
    } else out->status = 200;
    lua_gc(L, LUA_GCCOLLECT);
    lua_close(L);
    return rc;
}

int scorecard_run(struct app *a, const principal *who, const char *name,
                  const char *source, size_t len, const char *from, const char *to,
                  const scorecard_limits *limits, scorecard_outcome *out)
{
    memset(out, 0, sizeof *out);
    if (!valid_date(from)) { set_error(out, 400, "bad_parameter", "from: expected a date YYYY-MM-DD", NULL); return -1; }
    if (!valid_date(to)) { set_error(out, 400, "bad_parameter", "to: expected a date YYYY-MM-DD", NULL); return -1; }
    if (strcmp(from, to) > 0) { set_error(out, 400, "bad_parameter", "from: must not be after to", NULL); return -1; }
    if (!source) { set_error(out, 400, "bad_parameter", "no scorecard source", NULL); return -1; }

    sc_run run;
    run_init(&run, name, source, len, limits);
    memcpy(run.from, from, 11);
    memcpy(run.to, to, 11);
    run.app = a;
    run.who = who;

    /* the caller's scope, once, from auth */
    if (a && who) {
        char err[256], bad[128] = "";
        db_pool *pool = NULL;
        db_conn *c = app_acquire_read(a, &pool, err, sizeof err);
        if (!c) { set_error(out, 503, "db_unavailable", err, NULL); return -1; }
        int rc = scope_resolve(c, who, NULL, 0, NULL, 0, &run.scope, bad, sizeof bad);
        db_release(pool, c);
        if (rc != 0) { set_error(out, 503, "db_unavailable", "cannot resolve the caller's stores", NULL); return -1; }
        qsort(run.scope.codes, (size_t)run.scope.n, sizeof(char *), cmp_codes);
        run.has_scope = true;
    }

    if (!running_enter()) {
        store_set_free(&run.scope);
        set_error(out, 429, "busy", "too many scorecards are running; try again in a moment", NULL);
        return -1;
    }
    run.log = cJSON_CreateArray();
    run.start_ms = now_ms();
    run.deadline_ms = run.start_ms + run.lim.seconds * 1000.0;
    double cpu_start = cpu_ms();
    bool made = run.log && run_in_state(&run, source);
    bool ranked = made && run.rows && run.abort == ABORT_NONE && !run.script_failed && rank_rows(run.rows);
    double elapsed = now_ms() - run.start_ms;
    out->own_cpu_ms = cpu_ms() - cpu_start - run.lookup_cpu_ms;
    running_leave();
    metrics_add(METRIC_SCORECARD_RUNS, 1);
    out->kpi_lookups = run.lookups;
    out->kpi_ms = run.lookup_ms;

    if (run.pending_answer) kpi_answer_free(run.pending_answer);
    if (run.pending_result) db_result_free(run.pending_result);
    char msg[sizeof out->message];
    if (!made) {
        set_error(out, 503, "unavailable", "cannot start Lua", NULL);
    } else if (run.abort == ABORT_FATAL) {
        set_error(out, run.fatal_status, run.fatal_code, run.fatal_message, NULL);
    } else if (run.abort == ABORT_RESULT) {
        snprintf(msg, sizeof msg, "%s: the answer is too large: its rows come to more than %.1f MiB "
                 "(the limit of one run's answer); return fewer rows, or shorter texts and items",
                 run.name, (double)run.lim.result_bytes / (1024.0 * 1024.0));
        cJSON *d = cJSON_CreateArray(), *o = cJSON_CreateObject();
        if (d && o) {
            cJSON_AddStringToObject(o, "budget", "result");
            cJSON_AddNumberToObject(o, "limit_bytes", (double)run.lim.result_bytes);
            cJSON_AddItemToArray(d, o);
        } else { cJSON_Delete(o); cJSON_Delete(d); d = NULL; }
        set_error(out, 422, "budget_exceeded", msg, d);
    } else if (run.abort != ABORT_NONE) {
        char where[80] = "";
        if (run.abort_where[0]) snprintf(where, sizeof where, " in %s", run.abort_where);
        snprintf(msg, sizeof msg, "%s: the run went over %s%s (%lld instructions, %zu bytes, %.1f s allowed)",
                 run.name, abort_reason(run.abort), where, run.lim.instructions, run.lim.memory_bytes, run.lim.seconds);
        cJSON *d = cJSON_CreateArray(), *o = cJSON_CreateObject();
        if (d && o) {
            cJSON_AddStringToObject(o, "budget", run.abort == ABORT_MEMORY ? "memory" :
                                    run.abort == ABORT_TIME ? "time" : "instructions");
            if (run.abort_where[0]) cJSON_AddStringToObject(o, "while", run.abort_where);
            cJSON_AddItemToArray(d, o);
        } else { cJSON_Delete(o); cJSON_Delete(d); d = NULL; }
        set_error(out, 422, "budget_exceeded", msg, d);
    } else if (run.syntax_failed) {
        set_error(out, 422, "syntax_error", run.err_message, line_details(run.err_line, run.err_message));
    } else if (run.script_failed && run.err_line < 0) {
        cJSON *d = cJSON_CreateArray(), *o = cJSON_CreateObject();
        if (d && o) { cJSON_AddNumberToObject(o, "row", -run.err_line); cJSON_AddItemToArray(d, o); }
        else { cJSON_Delete(o); cJSON_Delete(d); d = NULL; }
        set_error(out, 422, run.fatal_code, run.err_message, d);
    } else if (run.script_failed) {
        set_error(out, 422, run.fatal_code[0] ? run.fatal_code : "script_error", run.err_message,
                  line_details(run.err_line, NULL));
    } else if (!ranked) {
        set_error(out, 503, "unavailable", "out of memory", NULL);
    } else {
        out->status = 200;
        out->result = cJSON_CreateObject();
        if (out->result) {
            cJSON_AddItemToObject(out->result, "rows", run.rows);
            cJSON_AddItemToObject(out->result, "log", run.log);
            cJSON_AddNumberToObject(out->result, "elapsed_ms", round(elapsed * 100) / 100);
            run.rows = run.log = NULL;
        } else set_error(out, 503, "unavailable", "out of memory", NULL);
    }
    cJSON_Delete(run.rows);
    cJSON_Delete(run.log);
    store_set_free(&run.scope);
    if (out->status == 422 && strcmp(out->code, "budget_exceeded") == 0) metrics_add(METRIC_SCORECARD_BUDGET_KILLS, 1);
    return out->status == 200 ? 0 : -1;
}

/* --- storage --- */

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

typedef struct sc_meta {
    long long id;
    char name[65], title[201], owner[65], updated_at[32];
    int version;
} sc_meta;

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
static int meta_load(db_conn *c, const char *name, bool lock, sc_meta *m, char *err, size_t errlen)
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
 * in one transaction; prunes to the last SC_MAX_VERSIONS. Returns 0 with
 * *version_out, or -1. */
static int version_save(db_conn *c, const char *name, const char *owner, const char *saved_by,
                        const char *src, size_t len, bool shipped, int *version_out, char *err, size_t errlen)
{
    char title[201];
    title_of(name, src, len, title, sizeof title);
    if (db_begin(c, err, errlen) != 0) return -1;
    sc_meta m;
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
    db_val pr[2] = { DB_INT(m.id), DB_INT(version - SC_MAX_VERSIONS) };
    if (db_exec(c, SQL_PRUNE, pr, 2, NULL, err, errlen) != 0) goto fail;
    if (db_commit(c, err, errlen) != 0) goto fail;
    *version_out = version;
    return 0;
fail:
    db_rollback(c);
    return -1;
}

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

        sc_meta m;
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

/* --- routes --- */

#define SC_ACQUIRE_MS 5000

static bool is_admin(const principal *p) { return p && p->role == ROLE_ADMIN; }

static bool owns(const principal *p, const sc_meta *m)
{
    return is_admin(p) || (p && !p->is_token && strcmp(p->name, m->owner) == 0);
}

static db_conn *route_conn(http_req *r)
{
    char err[256];
    db_conn *c = db_acquire(r->app->db, SC_ACQUIRE_MS, err, sizeof err);
    if (!c) {
        log_error("scorecard", "database: %s", err);
        http_reply_error(r, 503, "db_unavailable", "the database does not answer; try again shortly", NULL);
    }
    return c;
}

static void reply_db_error(http_req *r, const char *err)
{
    log_error("scorecard", "database: %s", err);
    http_reply_error(r, 503, "db_unavailable", "the database failed; try again shortly", NULL);
}

/* The {name} of the path, checked: 400 naming it when invalid. */
static const char *route_name(http_req *r)
{
    const char *name = r->nparams > 0 ? r->params[0] : "";
    if (!scorecard_name_valid(name)) {
        http_reply_errorf(r, 400, "bad_parameter",
                          "name: a scorecard name is 1 to 64 of a-z 0-9 _ - (and not \"run\"), got \"%.64s\"", name);
        return NULL;
    }
    return name;
}

static cJSON *meta_json(const sc_meta *m)
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

static void reply_outcome(http_req *r, scorecard_outcome *o)
{
    if (o->status == 200) {
        http_reply_json(r, 200, o->result);
        o->result = NULL;
    } else {
        http_reply_error(r, o->status, o->code, o->message, o->details);
        o->details = NULL;
        if (o->status == 429) http_add_header(r, "Retry-After", "1");
    }
    scorecard_outcome_free(o);
}

/* Those the caller may run: every one for admins, executives and regional
 * managers (each runs with their own scope); none for store managers. */
void scorecard_route_list(http_req *r)
{
    if (!r->who || !(r->who->role == ROLE_ADMIN || r->who->role == ROLE_EXEC || r->who->role == ROLE_RM)) {
        cJSON *none = cJSON_CreateArray();
        if (!none) { http_reply_error(r, 500, "internal", "out of memory", NULL); return; }
        http_reply_json(r, 200, none);
        return;
    }
    db_conn *c = route_conn(r);
    if (!c) return;
    db_result *res = NULL;
    char err[256];
    int rc = db_query(c, SQL_LIST, NULL, 0, &res, err, sizeof err);
    db_release(r->app->db, c);
    if (rc != 0) { reply_db_error(r, err); return; }
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
    if (!arr) { http_reply_error(r, 500, "internal", "out of memory", NULL); return; }
    http_reply_json(r, 200, arr);
}

/* Load the meta of the path's scorecard: NULL after replying 404/503. */
static bool route_meta(http_req *r, db_conn *c, const char *name, sc_meta *m)
{
    char err[256];
    int found = meta_load(c, name, false, m, err, sizeof err);
    if (found < 0) { reply_db_error(r, err); return false; }
    if (!found) {
        http_reply_errorf(r, 404, "not_found", "no scorecard named \"%s\"", name);
        return false;
    }
    return true;
}

static void reply_forbidden(http_req *r, const sc_meta *m)
{
    http_reply_errorf(r, 403, "forbidden", "scorecard \"%s\" belongs to %s: only its owner and admins may read or change it",
                      m->name, m->owner);
}

void scorecard_route_get(http_req *r)
{
    const char *name = route_name(r);
    if (!name) return;
    db_conn *c = route_conn(r);
    if (!c) return;
    sc_meta m;
    char err[256];
    if (!route_meta(r, c, name, &m)) { db_release(r->app->db, c); return; }
    if (!owns(r->who, &m)) { db_release(r->app->db, c); reply_forbidden(r, &m); return; }
    size_t len = 0;
    int found;
    char *src = source_load(c, m.id, m.version, &len, NULL, &found, err, sizeof err);
    db_val id = DB_INT(m.id);
    db_result *vers = NULL;
    int rc = src ? db_query(c, SQL_VERSIONS, &id, 1, &vers, err, sizeof err) : -1;
    db_release(r->app->db, c);
    if (rc != 0) { free(src); reply_db_error(r, err); return; }
    cJSON *o = meta_json(&m), *arr = cJSON_CreateArray();
    for (int i = 0; arr && i < vers->nrows; i++) {
        cJSON *v = cJSON_CreateObject();
        if (!v) break;
        cJSON_AddNumberToObject(v, "version", (double)db_cell_int(vers, i, 0));
        cJSON_AddStringToObject(v, "saved_at", db_cell(vers, i, 1));
        cJSON_AddStringToObject(v, "saved_by", db_cell(vers, i, 2));
        cJSON_AddItemToArray(arr, v);
    }
    db_result_free(vers);
    if (!o || !arr) { free(src); cJSON_Delete(o); cJSON_Delete(arr); http_reply_error(r, 500, "internal", "out of memory", NULL); return; }
    cJSON_AddStringToObject(o, "source", src);
    cJSON_AddItemToObject(o, "versions", arr);
    free(src);
    http_reply_json(r, 200, o);
}

/* Save and audit; replies with the new meta (201 when created). */
static void save_and_reply(http_req *r, db_conn *c, const char *name, const char *owner, const char *src,
                           size_t len, const char *action, bool created, int restored_from)
{
    char err[256], detail[160];
    int version = 0;
    if (version_save(c, name, owner, r->who->name, src, len, false, &version, err, sizeof err) != 0) {
        bool taken = db_errno(c) == 1062;      /* ER_DUP_ENTRY: created by someone else meanwhile */
        db_release(r->app->db, c);
        if (taken) http_reply_errorf(r, 409, "conflict", "scorecard \"%s\" was created by someone else at the same time; try again", name);
        else reply_db_error(r, err);
        return;
    }
    if (restored_from > 0) snprintf(detail, sizeof detail, "{\"version\":%d,\"restored_from\":%d}", version, restored_from);
    else snprintf(detail, sizeof detail, "{\"version\":%d}", version);
    if (audit_log(c, r->who, action, name, detail, err, sizeof err) != 0)
        log_error("scorecard", "audit of %s %s failed: %s", action, name, err);
    sc_meta m;
    int found = meta_load(c, name, false, &m, err, sizeof err);
    db_release(r->app->db, c);
    if (found <= 0) { reply_db_error(r, found < 0 ? err : "scorecard vanished"); return; }
    cJSON *o = meta_json(&m);
    if (!o) { http_reply_error(r, 500, "internal", "out of memory", NULL); return; }
    http_reply_json(r, created ? 201 : 200, o);
}

/* The line of the first byte that is not UTF-8 (stored text must be), or 0. */
static int invalid_utf8_line(const char *s, size_t len)
{
    int line = 1;
    for (size_t i = 0; i < len;) {
        unsigned char c = (unsigned char)s[i];
        size_t n = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 0;
        if (n == 0 || (n == 2 && c < 0xC2) || (n == 4 && c > 0xF4) || i + n > len) return line;
        for (size_t k = 1; k < n; k++)
            if (((unsigned char)s[i + k] & 0xC0) != 0x80) return line;
        if (n == 3) {
            unsigned cp = ((c & 0x0Fu) << 12) | (((unsigned char)s[i + 1] & 0x3Fu) << 6) | ((unsigned char)s[i + 2] & 0x3Fu);
            if (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF)) return line;
        } else if (n == 4) {
            unsigned cp = ((c & 0x07u) << 18) | (((unsigned char)s[i + 1] & 0x3Fu) << 12);
            if (cp < 0x10000 || cp > 0x10FFFF) return line;
        }
        if (c == '\n') line++;
        i += n;
    }
    return 0;
}

void scorecard_route_put(http_req *r)
{
    const char *name = route_name(r);
    if (!name) return;
    if (!r->body || r->body_len == 0) {
        http_reply_error(r, 400, "bad_parameter", "body: the Lua source of the scorecard is empty", NULL);
        return;
    }
    int bad_line = invalid_utf8_line(r->body, r->body_len);
    if (bad_line > 0) {
        cJSON *d = line_details(bad_line, "not UTF-8 text");
        http_reply_error(r, 422, "syntax_error", "the source must be UTF-8 text (save the file as UTF-8)", d);
        return;
    }
    scorecard_outcome o;
    if (scorecard_compile(name, r->body, r->body_len, &o) != 0) { reply_outcome(r, &o); return; }
    scorecard_outcome_free(&o);
    db_conn *c = route_conn(r);
    if (!c) return;
    sc_meta m;
    char err[256];
    int found = meta_load(c, name, false, &m, err, sizeof err);
    if (found < 0) { db_release(r->app->db, c); reply_db_error(r, err); return; }
    if (found && !owns(r->who, &m)) { db_release(r->app->db, c); reply_forbidden(r, &m); return; }
    save_and_reply(r, c, name, found ? m.owner : r->who->name, r->body, r->body_len, "scorecard.save", !found, 0);
}

void scorecard_route_delete(http_req *r)
{
    const char *name = route_name(r);
    if (!name) return;
    db_conn *c = route_conn(r);
    if (!c) return;
    sc_meta m;
    char err[256], detail[64];
    if (!route_meta(r, c, name, &m)) { db_release(r->app->db, c); return; }
    if (!owns(r->who, &m)) { db_release(r->app->db, c); reply_forbidden(r, &m); return; }
    db_val id = DB_INT(m.id);
    snprintf(detail, sizeof detail, "{\"version\":%d}", m.version);
    int rc = db_exec(c, SQL_DELETE, &id, 1, NULL, err, sizeof err);
    if (rc == 0 && audit_log(c, r->who, "scorecard.delete", name, detail, err, sizeof err) != 0)
        log_error("scorecard", "audit of scorecard.delete %s failed: %s", name, err);
    db_release(r->app->db, c);
    if (rc != 0) { reply_db_error(r, err); return; }
    cJSON *o = cJSON_CreateObject();
    if (!o) { http_reply_error(r, 500, "internal", "out of memory", NULL); return; }
    cJSON_AddStringToObject(o, "name", name);
    cJSON_AddBoolToObject(o, "deleted", 1);
    http_reply_json(r, 200, o);
}

void scorecard_route_restore(http_req *r)
{
    const char *name = route_name(r);
    if (!name) return;
    const char *vtext = http_query(r, "version");
    char *end = NULL;
    long want = vtext ? strtol(vtext, &end, 10) : 0;
    if (!vtext || !*vtext || *end || want < 1 || want > 1000000000L) {
        http_reply_error(r, 400, "bad_parameter", "version: expected a version number (see GET /api/v1/scorecards/{name})", NULL);
        return;
    }
    db_conn *c = route_conn(r);
    if (!c) return;
    sc_meta m;
    char err[256];
    if (!route_meta(r, c, name, &m)) { db_release(r->app->db, c); return; }
    if (!owns(r->who, &m)) { db_release(r->app->db, c); reply_forbidden(r, &m); return; }
    size_t len = 0;
    int found;
    char *src = source_load(c, m.id, (int)want, &len, NULL, &found, err, sizeof err);
    if (!src) {
        db_release(r->app->db, c);
        if (found) reply_db_error(r, err);
        else http_reply_errorf(r, 404, "not_found", "version %ld of \"%s\" is not kept (the last %d are)", want, name, SC_MAX_VERSIONS);
        return;
    }
    save_and_reply(r, c, name, m.owner, src, len, "scorecard.restore", false, (int)want);
    free(src);
}

/* from and to of the query: 400 naming the one missing or bad. */
static bool route_period(http_req *r, const char **from, const char **to)
{
    *from = http_query(r, "from");
    *to = http_query(r, "to");
    if (!*from || !valid_date(*from)) { http_reply_error(r, 400, "bad_parameter", "from: required, a date YYYY-MM-DD", NULL); return false; }
    if (!*to || !valid_date(*to)) { http_reply_error(r, 400, "bad_parameter", "to: required, a date YYYY-MM-DD", NULL); return false; }
    if (strcmp(*from, *to) > 0) { http_reply_error(r, 400, "bad_parameter", "from: must not be after to", NULL); return false; }
    return true;
}

void scorecard_route_run(http_req *r)
{
    const char *name = route_name(r);
    if (!name) return;
    const char *from, *to;
    if (!route_period(r, &from, &to)) return;
    db_conn *c = route_conn(r);
    if (!c) return;
    sc_meta m;
    char err[256];
    if (!route_meta(r, c, name, &m)) { db_release(r->app->db, c); return; }
    size_t len = 0;
    int found;
    char *src = source_load(c, m.id, m.version, &len, NULL, &found, err, sizeof err);
    db_release(r->app->db, c);
    if (!src) { reply_db_error(r, found ? err : "the current version is missing"); return; }
    scorecard_outcome o;
    scorecard_run(r->app, r->who, name, src, len, from, to, NULL, &o);
    free(src);
    log_info("scorecard", "run %s %s..%s by %s: %d (%lld KPI lookups)", name, from, to, r->who->name, o.status, o.kpi_lookups);
    reply_outcome(r, &o);
}

/* The editor's "try": run the body without saving it. With ?check=1 only
 * compile it (the editor's "check"): 200 {"ok":true} or 422 syntax_error. */
void scorecard_route_try(http_req *r)
{
    if (!r->body || r->body_len == 0) {
        http_reply_error(r, 400, "bad_parameter", "body: the Lua source to run is empty", NULL);
        return;
    }
    const char *name = http_query(r, "name");
    if (!name || !scorecard_name_valid(name)) name = "try";
    const char *check = http_query(r, "check");
    scorecard_outcome o;
    if (check && strcmp(check, "1") == 0) {
        if (scorecard_compile(name, r->body, r->body_len, &o) != 0) { reply_outcome(r, &o); return; }
        scorecard_outcome_free(&o);
        cJSON *ok = cJSON_CreateObject();
        if (!ok || !cJSON_AddTrueToObject(ok, "ok")) { cJSON_Delete(ok); http_reply_error(r, 500, "internal", "out of memory", NULL); return; }
        http_reply_json(r, 200, ok);
        return;
    }
    const char *from, *to;
    if (!route_period(r, &from, &to)) return;
    scorecard_run(r->app, r->who, name, r->body, r->body_len, from, to, NULL, &o);
    log_info("scorecard", "try %s..%s by %s: %d (%lld KPI lookups)", from, to, r->who->name, o.status, o.kpi_lookups);
    reply_outcome(r, &o);
}

/* --- fourscore scorecard run --- */

/* The principal of user name for --as, with its scope as auth loads it at
 * login (role; a regional manager's regions and their stores; a store
 * manager's store). Returns 1, 0 when there is no such user, -1 on error. */
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

static int cli_principal(db_conn *c, const char *user, principal *p, char *err, size_t errlen)
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

static char *read_file(const char *path, size_t max, size_t *len, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) { snprintf(err, errlen, "%s: %s", path, strerror(errno)); return NULL; }
    char *buf = malloc(max + 1);
    size_t n = buf ? fread(buf, 1, max + 1, f) : 0;
    bool bad = !buf || ferror(f);
    fclose(f);
    if (bad) { free(buf); snprintf(err, errlen, "%s: cannot read", path); return NULL; }
    if (n > max) { free(buf); snprintf(err, errlen, "%s: larger than %zu bytes", path, max); return NULL; }
    buf[n] = '\0';
    *len = n;
    return buf;
}

/* Print the ranked rows as a table: rank, store, name, score, grade. */
static void print_table(FILE *out, const cJSON *result, db_result *stores)
{
    fprintf(out, "%-5s %-12s %-10s %-6s %s\n", "名次", "门店/store", "得分/score", "等级", "名称/name");
    const cJSON *row;
    cJSON_ArrayForEach(row, cJSON_GetObjectItemCaseSensitive(result, "rows")) {
        const char *store = row_store(row);
        const cJSON *grade = cJSON_GetObjectItemCaseSensitive(row, "grade");
        const cJSON *rank = cJSON_GetObjectItemCaseSensitive(row, "rank");
        const char *sname = "";
        for (int i = 0; stores && i < stores->nrows; i++)
            if (strcmp(db_cell(stores, i, 0), store) == 0) { sname = db_cell(stores, i, 1); break; }
        fprintf(out, "%-5d %-12s %10.2f %-6s %s\n",
                cJSON_IsNumber(rank) ? (int)rank->valuedouble : 0, store, row_score(row),
                cJSON_IsString(grade) ? grade->valuestring : "-", sname ? sname : "");
    }
    const cJSON *line;
    cJSON_ArrayForEach(line, cJSON_GetObjectItemCaseSensitive(result, "log"))
        fprintf(out, "log: %s\n", cJSON_IsString(line) ? line->valuestring : "");
}

int cmd_scorecard(int argc, char **argv)
{
    static const char usage[] = "fourscore scorecard run FILE.lua --from YYYY-MM-DD --to YYYY-MM-DD [--as USER] [--format table|json]";
    static const char description[] =
        "Run a Lua scorecard from the shell and print its ranked table (rank, store,\n"
        "score, grade), as the API would answer it. --as USER runs it with that\n"
        "user's stores (a regional manager sees their region only); without it, with\n"
        "every store. Budgets: FOURSCORE_LUA_INSTRUCTIONS, FOURSCORE_LUA_MEMORY,\n"
        "FOURSCORE_LUA_SECONDS. See docs/scorecards.md.";
    opt opts[] = {
        { "--from", OPT_STR, "YYYY-MM-DD", "first day of the period (required)", 0, 0, {0}, 0 },
        { "--to", OPT_STR, "YYYY-MM-DD", "last day of the period (required)", 0, 0, {0}, 0 },
        { "--as", OPT_STR, "USER", "run with this user's scope (default: every store)", 0, 0, {0}, 0 },
        { "--format", OPT_STR, "table|json", "output: a table (default) or the API's JSON", 0, 0, {0}, 0 },
    };
    app a;
    memset(&a, 0, sizeof a);
    char err[1024];
    if (config_load_env(&a.cfg, err, sizeof err) != 0) {
        fprintf(stderr, "fourscore: %s\n", err);
        return 2;
    }
    if (argc < 2 || strcmp(argv[1], "run") != 0) {
        bool help = argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0);
        fprintf(help ? stdout : stderr, "usage: %s\n\n%s\n", usage, description);
        if (!help) fprintf(stderr, "\nfourscore scorecard: expected the subcommand \"run\"\n");
        return help ? 0 : 2;
    }
    const char *pos[2];
    int npos = 0;
    int rc = config_parse(&a.cfg, argc - 1, argv + 1, opts, 4, usage, description, pos, 2, &npos);
    if (rc == 1) return 0;
    if (rc != 0) return 2;
    const char *from = opts[0].value, *to = opts[1].value, *as = opts[2].value, *format = opts[3].value;
    if (npos != 1) { fprintf(stderr, "fourscore scorecard run: expected one FILE.lua (see --help)\n"); return 2; }
    if (!from || !valid_date(from)) { fprintf(stderr, "fourscore scorecard run: --from: expected a date YYYY-MM-DD\n"); return 2; }
    if (!to || !valid_date(to)) { fprintf(stderr, "fourscore scorecard run: --to: expected a date YYYY-MM-DD\n"); return 2; }
    if (format && strcmp(format, "table") != 0 && strcmp(format, "json") != 0) {
        fprintf(stderr, "fourscore scorecard run: --format: expected table or json, got \"%s\"\n", format);
        return 2;
    }
    scorecard_limits lim;
    if (scorecard_limits_load(&lim, err, sizeof err) != 0) { fprintf(stderr, "fourscore: %s\n", err); return 2; }

    size_t len = 0;
    char *src = read_file(pos[0], 1 << 20, &len, err, sizeof err);
    if (!src) { fprintf(stderr, "fourscore scorecard run: %s\n", err); return 1; }
    /* the scorecard's name: the file's base name without .lua */
    char name[65];
    const char *base = strrchr(pos[0], '/');
    base = base ? base + 1 : pos[0];
    snprintf(name, sizeof name, "%.*s", (int)(strcspn(base, ".") < 64 ? strcspn(base, ".") : 64), base);

    if (app_open(&a, true, err, sizeof err) != 0) {
        fprintf(stderr, "fourscore: %s\n", err);
        free(src);
        return 1;
    }
    principal who;
    db_result *stores = NULL;
    db_conn *c = db_acquire(a.db, SC_ACQUIRE_MS, err, sizeof err);
    int found = 1;
    if (!c) found = -1;
    else {
        if (as) found = cli_principal(c, as, &who, err, sizeof err);
        else principal_cli(&who);
        if (found > 0 && db_query(c, SQL_STORES, NULL, 0, &stores, err, sizeof err) != 0) stores = NULL;
        db_release(a.db, c);
    }
    if (found <= 0) {
        if (found == 0) fprintf(stderr, "fourscore scorecard run: --as: no user named \"%s\"\n", as);
        else fprintf(stderr, "fourscore: %s\n", err);
        free(src);
        app_close(&a);
        return 1;
    }
    fprintf(stderr, "正在运行 / running %s for %s..%s as %s ...\n", name, from, to, who.name);
    scorecard_outcome o;
    scorecard_run(&a, &who, name, src, len, from, to, &lim, &o);
    free(src);
    rc = 0;
    if (o.status == 200) {
        if (format && strcmp(format, "json") == 0) {
            char *text = cJSON_PrintUnformatted(o.result);
            if (text) puts(text);
            free(text);
        } else print_table(stdout, o.result, stores);
        fprintf(stderr, "%d rows, %.1f ms, %lld KPI lookups (%.1f ms in lookups), %.2f ms CPU beyond the lookups\n",
                cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(o.result, "rows")),
                cJSON_GetObjectItemCaseSensitive(o.result, "elapsed_ms")->valuedouble, o.kpi_lookups, o.kpi_ms,
                o.own_cpu_ms);
    } else {
        fprintf(stderr, "fourscore scorecard run: %s (%s)\n", o.message, o.code);
        const cJSON *d;
        cJSON_ArrayForEach(d, o.details) {
            const cJSON *line = cJSON_GetObjectItemCaseSensitive(d, "line");
            const cJSON *row = cJSON_GetObjectItemCaseSensitive(d, "row");
            if (cJSON_IsNumber(line)) fprintf(stderr, "  line %d\n", (int)line->valuedouble);
            if (cJSON_IsNumber(row)) fprintf(stderr, "  row %d\n", (int)row->valuedouble);
        }
        rc = 1;
    }
    scorecard_outcome_free(&o);
    db_result_free(stores);
    principal_free(&who);
    app_close(&a);
    return rc;
}
