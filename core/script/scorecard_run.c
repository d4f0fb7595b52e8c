/* scorecard_run: compiling and running a scorecard (docs/api.md, "Lua
 * scorecards"). Part of core/script/: a run resolves the caller's stores
 * once (scope_resolve), makes a fresh sandbox (sandbox.c), runs the chunk
 * under its budgets, then reads what it returned. The returned rows are
 * read with raw access only (a table with a metatable is refused), still
 * under the deadline, and their copy counts against the memory budget and
 * a bound on the answer's size; they are checked (a store outside the
 * scope is refused, a store appears once), sorted by score and ranked
 * here. Errors come back as an outcome: the status, code, message and
 * details an HTTP answer or the command line shows. */
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lua.h>
#include <lauxlib.h>

#include "app.h"
#include "clock.h"
#include "config.h"
#include "counters.h"
#include "log.h"
#include "scorecard_private.h"
#include "utf8.h"

/* --- how many run at once --- */

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
    else if ((++run->read_ticks % SC_READ_CHECK) == 0 && clock_ms() > run->deadline_ms) run->abort = ABORT_TIME;
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
        if (!k || !read_take(run, sc_json_text_len(k, klen) + 1, klen + 17)) { lua_pop(L, 2); cJSON_Delete(obj); return NULL; }
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
        if (!read_take(run, sc_json_text_len(t, len), SC_NODE_MEM + len + 17)) return NULL;
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
static int bad_row(sc_run *run, enum api_error code, int row, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static int bad_row(sc_run *run, enum api_error code, int row, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char msg[300];
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    run->script_failed = true;
    run->err_line = -row;          /* marks a row error */
    snprintf(run->fatal_code, sizeof run->fatal_code, "%s", api_error_code(code));
    snprintf(run->err_message, sizeof run->err_message, "%s: row %d: %s", run->name, row, msg);
    return -1;
}

const char *scorecard_row_store(const cJSON *row)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(row, "store");
    return cJSON_IsString(v) && v->valuestring ? v->valuestring : "";
}

double scorecard_row_score(const cJSON *row)
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
    cJSON_ArrayForEach(row, run->rows) { refs[k].store = scorecard_row_store(row); refs[k].row = k + 1; k++; }
    qsort(refs, (size_t)n, sizeof *refs, cmp_row_refs);
    int first = 0;
    const char *store = NULL;
    for (int i = 1; i < n; i++)
        if (strcmp(refs[i].store, refs[i - 1].store) == 0 && (first == 0 || refs[i].row < first)) {
            first = refs[i].row;
            store = refs[i].store;
        }
    int rc = first ? bad_row(run, API_BAD_ROW, first, "store '%.64s' has more than one row", store) : 0;
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
        snprintf(run->fatal_code, sizeof run->fatal_code, "%s", api_error_code(API_BAD_RESULT));
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
        if (!lua_istable(L, r)) return bad_row(run, API_BAD_ROW, row, "each row must be a table, not a %s", luaL_typename(L, r));
        if (lua_getmetatable(L, r))
            return bad_row(run, API_BAD_ROW, row, "a row must be a plain table: this one has a metatable (setmetatable)");
        /* the row's rank, added after sorting: ,"rank":N */
        if (!read_take(run, 20 + (i > 1), SC_NODE_MEM)) return -1;
        char why[200] = "";
        cJSON *obj = value_to_json(L, run, r, 0, NULL, why, sizeof why);
        lua_settop(L, r - 1);
        if (!obj) return run->abort != ABORT_NONE ? -1 : bad_row(run, API_BAD_ROW, row, "%s", why);
        if (!cJSON_IsObject(obj)) { cJSON_Delete(obj); return bad_row(run, API_BAD_ROW, row, "a row must have named fields"); }
        cJSON_AddItemToArray(run->rows, obj);
        const cJSON *store = cJSON_GetObjectItemCaseSensitive(obj, "store");
        if (!cJSON_IsString(store) || !store->valuestring)
            return bad_row(run, API_BAD_ROW, row, "'store' must be a store code (text)");
        if (!sc_in_scope(run, store->valuestring))
            return bad_row(run, API_STORE_OUT_OF_SCOPE, row, "store '%.64s' is not one of your stores", store->valuestring);
        const cJSON *score = cJSON_GetObjectItemCaseSensitive(obj, "score");
        if (!cJSON_IsNumber(score) || !isfinite(score->valuedouble))
            return bad_row(run, API_BAD_ROW, row, "'score' must be a number (store %.64s)", store->valuestring);
        const cJSON *grade = cJSON_GetObjectItemCaseSensitive(obj, "grade");
        if (grade && !cJSON_IsString(grade))
            return bad_row(run, API_BAD_ROW, row, "'grade' must be text (store %.64s)", store->valuestring);
        const cJSON *items = cJSON_GetObjectItemCaseSensitive(obj, "items");
        if (items && !cJSON_IsArray(items) && !cJSON_IsObject(items))
            return bad_row(run, API_BAD_ROW, row, "'items' must be a list (store %.64s)", store->valuestring);
    }
    return check_duplicates(run);
}

/* --- the run, in protected mode --- */

static int sc_main(lua_State *L)
{
    sc_run *run = lua_touserdata(L, 1);
    lua_settop(L, 0);
    sc_build_env(L, run);                                    /* 1: env */
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

/* read_rows has checked every row; scorecard_row_score and
 * scorecard_row_store still never assume a field is there. */
static int cmp_rows(const void *a, const void *b)
{
    const cJSON *ra = *(cJSON *const *)a, *rb = *(cJSON *const *)b;
    double sa = scorecard_row_score(ra), sb = scorecard_row_score(rb);
    if (sa > sb) return -1;
    if (sa < sb) return 1;
    return strcmp(scorecard_row_store(ra), scorecard_row_store(rb));
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
        double s = scorecard_row_score(items[i]);
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

static void set_error(scorecard_outcome *out, int status, enum api_error code, const char *msg, cJSON *details)
{
    out->status = status;
    snprintf(out->code, sizeof out->code, "%s", api_error_code(code));
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
    if (!L) { set_error(out, 503, API_BUSY, "cannot start Lua", NULL); return -1; }
    *(sc_run **)lua_getextraspace(L) = &run;
    int st = luaL_loadbufferx(L, source, len, run.chunkname, "t");
    int rc = 0;
    if (st == LUA_ERRMEM) {
        set_error(out, 422, API_BUDGET_EXCEEDED, "the scorecard is too large to compile within the memory budget", NULL);
        rc = -1;
    } else if (st != LUA_OK) {
        const char *msg = lua_tostring(L, -1);
        int line = message_line(&run, msg);
        if (line == 0) line = 1;
        char text[512];
        snprintf(text, sizeof text, "%s", msg ? msg : "syntax error");
        set_error(out, 422, API_SYNTAX_ERROR, text, line_details(line, text));
        rc = -1;
    } else out->status = 200;
    lua_gc(L, LUA_GCCOLLECT);
    lua_close(L);
    return rc;
}

/* The line of the first byte that is not UTF-8, or 0. */
static int invalid_utf8_line(const char *s, size_t len)
{
    int line = 1;
    for (size_t i = 0; i < len;) {
        unsigned char tail[5] = { 0 };           /* the last bytes, NUL-terminated for utf8_char_len */
        const unsigned char *p = (const unsigned char *)s + i;
        if (len - i < 4) p = memcpy(tail, p, len - i);
        size_t n = utf8_char_len(p);
        if (n == 0) return line;
        if (*p == '\n') line++;
        i += n;
    }
    return 0;
}

int scorecard_check_text(const char *source, size_t len, scorecard_outcome *out)
{
    memset(out, 0, sizeof *out);
    int bad_line = invalid_utf8_line(source, len);
    if (bad_line == 0) {
        out->status = 200;
        return 0;
    }
    set_error(out, 422, API_SYNTAX_ERROR, "the source must be UTF-8 text (save the file as UTF-8)",
              line_details(bad_line, "not UTF-8 text"));
    return -1;
}

int scorecard_run(struct app *a, const principal *who, const char *name,
                  const char *source, size_t len, const char *from, const char *to,
                  const scorecard_limits *limits, scorecard_outcome *out)
{
    memset(out, 0, sizeof *out);
    if (!scorecard_date_valid(from)) { set_error(out, 400, API_BAD_PARAMETER, "from: expected a date YYYY-MM-DD", NULL); return -1; }
    if (!scorecard_date_valid(to)) { set_error(out, 400, API_BAD_PARAMETER, "to: expected a date YYYY-MM-DD", NULL); return -1; }
    if (strcmp(from, to) > 0) { set_error(out, 400, API_BAD_PARAMETER, "from: must not be after to", NULL); return -1; }
    if (!source) { set_error(out, 400, API_BAD_PARAMETER, "no scorecard source", NULL); return -1; }

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
        if (!c) { set_error(out, 503, API_DB_UNAVAILABLE, err, NULL); return -1; }
        int rc = scope_resolve(c, who, NULL, 0, NULL, 0, &run.scope, bad, sizeof bad);
        db_release(pool, c);
        if (rc != 0) { set_error(out, 503, API_DB_UNAVAILABLE, "cannot resolve the caller's stores", NULL); return -1; }
        qsort(run.scope.codes, (size_t)run.scope.n, sizeof(char *), sc_cmp_codes);
        run.has_scope = true;
    }

    if (!running_enter()) {
        store_set_free(&run.scope);
        set_error(out, 429, API_BUSY, "too many scorecards are running; try again in a moment", NULL);
        return -1;
    }
    run.log = cJSON_CreateArray();
    run.start_ms = clock_ms();
    run.deadline_ms = run.start_ms + run.lim.seconds * 1000.0;
    double cpu_start = sc_cpu_ms();
    bool made = run.log && run_in_state(&run, source);
    bool ranked = made && run.rows && run.abort == ABORT_NONE && !run.script_failed && rank_rows(run.rows);
    double elapsed = clock_ms() - run.start_ms;
    out->own_cpu_ms = sc_cpu_ms() - cpu_start - run.lookup_cpu_ms;
    running_leave();
    metrics_add(METRIC_SCORECARD_RUNS, 1);
    out->kpi_lookups = run.lookups;
    out->kpi_ms = run.lookup_ms;

    if (run.pending_answer) kpi_answer_free(run.pending_answer);
    if (run.pending_result) db_result_free(run.pending_result);
    if (run.pending_json) cJSON_Delete(run.pending_json);
    char msg[sizeof out->message];
    if (!made) {
        set_error(out, 503, API_BUSY, "cannot start Lua", NULL);
    } else if (run.abort == ABORT_FATAL) {
        set_error(out, run.fatal_status, api_error_find(run.fatal_code), run.fatal_message, NULL);
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
        set_error(out, 422, API_BUDGET_EXCEEDED, msg, d);
    } else if (run.abort != ABORT_NONE) {
        char where[80] = "";
        if (run.abort_where[0]) snprintf(where, sizeof where, " in %s", run.abort_where);
        snprintf(msg, sizeof msg, "%s: the run went over %s%s (%lld instructions, %zu bytes, %.1f s allowed)",
                 run.name, sc_abort_reason(run.abort), where, run.lim.instructions, run.lim.memory_bytes, run.lim.seconds);
        cJSON *d = cJSON_CreateArray(), *o = cJSON_CreateObject();
        if (d && o) {
            cJSON_AddStringToObject(o, "budget", run.abort == ABORT_MEMORY ? "memory" :
                                    run.abort == ABORT_TIME ? "time" : "instructions");
            if (run.abort_where[0]) cJSON_AddStringToObject(o, "while", run.abort_where);
            cJSON_AddItemToArray(d, o);
        } else { cJSON_Delete(o); cJSON_Delete(d); d = NULL; }
        set_error(out, 422, API_BUDGET_EXCEEDED, msg, d);
    } else if (run.syntax_failed) {
        set_error(out, 422, API_SYNTAX_ERROR, run.err_message, line_details(run.err_line, run.err_message));
    } else if (run.script_failed && run.err_line < 0) {
        cJSON *d = cJSON_CreateArray(), *o = cJSON_CreateObject();
        if (d && o) { cJSON_AddNumberToObject(o, "row", -run.err_line); cJSON_AddItemToArray(d, o); }
        else { cJSON_Delete(o); cJSON_Delete(d); d = NULL; }
        set_error(out, 422, api_error_find(run.fatal_code), run.err_message, d);
    } else if (run.script_failed) {
        set_error(out, 422, run.fatal_code[0] ? api_error_find(run.fatal_code) : API_SCRIPT_ERROR, run.err_message,
                  line_details(run.err_line, NULL));
    } else if (!ranked) {
        set_error(out, 503, API_BUSY, "out of memory", NULL);
    } else {
        out->status = 200;
        out->result = cJSON_CreateObject();
        if (out->result) {
            cJSON_AddItemToObject(out->result, "rows", run.rows);
            cJSON_AddItemToObject(out->result, "log", run.log);
            cJSON_AddNumberToObject(out->result, "elapsed_ms", round(elapsed * 100) / 100);
            run.rows = run.log = NULL;
        } else set_error(out, 503, API_BUSY, "out of memory", NULL);
    }
    cJSON_Delete(run.rows);
    cJSON_Delete(run.log);
    store_set_free(&run.scope);
    if (out->status == 422 && strcmp(out->code, "budget_exceeded") == 0) metrics_add(METRIC_SCORECARD_BUDGET_KILLS, 1);
    return out->status == 200 ? 0 : -1;
}

