/* test_scorecard: the Lua sandbox of core/script/. Every escape attempt
 * of the scorecards issue must end in a clean error (422, the right code)
 * and the next run must work; the safe functions must behave; errors carry
 * the scorecard's name and line. These runs use no database (no scope: the
 * data functions refuse); the API functions over real data are tested in
 * tests/integration/scorecard.test.mjs against the real server. The
 * installation of the shipped scorecards runs on a private database
 * (testdb.h): idempotent, upgrading an untouched shipped text, never a
 * version a person saved. */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <pthread.h>
#include <unistd.h>
#include "check.h"
#include "scorecard.h"
#include "testdb.h"

/* --- helpers --- */

static const scorecard_limits small = { 2000000, 8u << 20, 2.0, 0 };

static scorecard_outcome run_with(const char *src, const scorecard_limits *lim)
{
    scorecard_outcome o;
    scorecard_run(NULL, NULL, "t_case", src, strlen(src), "2025-01-01", "2025-01-31", lim, &o);
    return o;
}

static scorecard_outcome run(const char *src)
{
    return run_with(src, &small);
}

static const char *detail_str(const scorecard_outcome *o, const char *key)
{
    const cJSON *d = o->details ? cJSON_GetArrayItem(o->details, 0) : NULL;
    const cJSON *v = d ? cJSON_GetObjectItemCaseSensitive(d, key) : NULL;
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static int detail_int(const scorecard_outcome *o, const char *key)
{
    const cJSON *d = o->details ? cJSON_GetArrayItem(o->details, 0) : NULL;
    const cJSON *v = d ? cJSON_GetObjectItemCaseSensitive(d, key) : NULL;
    return cJSON_IsNumber(v) ? (int)v->valuedouble : -1;
}

/* The script must fail with status 422 and this code. */
static void expect_fail(const char *what, const char *src, const char *code)
{
    scorecard_outcome o = run(src);
    CHECK(o.status == 422 && strcmp(o.code, code) == 0, "%s: 422 %s (got %d %s: %s)", what, code, o.status, o.code, o.message);
    scorecard_outcome_free(&o);
}

/* The script must succeed (it calls error() itself when a check inside fails). */
static void expect_ok(const char *what, const char *src)
{
    scorecard_outcome o = run(src);
    CHECK(o.status == 200, "%s (got %d %s: %s)", what, o.status, o.code, o.message);
    scorecard_outcome_free(&o);
}

static double ms_since(const struct timespec *t0)
{
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (double)(t1.tv_sec - t0->tv_sec) * 1000.0 + (double)(t1.tv_nsec - t0->tv_nsec) / 1e6;
}

/* --- escapes: every one a clean error --- */

static void test_forbidden_libraries(void)
{
    expect_fail("io", "return io.open('/etc/passwd')", "script_error");
    expect_fail("os", "os.execute('true') return {}", "script_error");
    expect_fail("require", "require('os') return {}", "script_error");
    expect_fail("package", "return package.loadlib('libc.so.6', 'system')", "script_error");
    expect_fail("debug", "debug.sethook() return {}", "script_error");
    expect_fail("load", "load('return 1')() return {}", "script_error");
    expect_fail("loadstring", "loadstring('return 1')() return {}", "script_error");
    expect_fail("dofile", "dofile('/etc/passwd') return {}", "script_error");
    expect_fail("loadfile", "loadfile('/etc/passwd') return {}", "script_error");
    expect_fail("string.dump", "string.dump(function() end) return {}", "script_error");
    expect_fail("string.dump as a method", "local s = '' return s.dump(function() end)", "script_error");
    expect_fail("collectgarbage", "collectgarbage('stop') return {}", "script_error");
    expect_fail("coroutine", "coroutine.wrap(function() end)() return {}", "script_error");
    expect_fail("xpcall", "xpcall(function() end, print) return {}", "script_error");
    expect_fail("print", "print('x') return {}", "script_error");
    expect_fail("_G", "_G.os = 1 return {}", "script_error");
    expect_ok("none of them is reachable",
              "for _, n in ipairs({'io','os','require','package','debug','load','loadstring','dofile',"
              "'loadfile','collectgarbage','coroutine','xpcall','print','_G','rawequal_'}) do\n"
              "  if _ENV[n] ~= nil then error(n .. ' is reachable') end end\n"
              "if string.dump ~= nil then error('string.dump') end\nreturn {}");
}

static void test_binary_chunk(void)
{
    /* a precompiled chunk starts with ESC "Lua" */
    static const char bin[] = "\x1bLuaT\x00\x19\x93\r\n\x1a\n\x04\x08\x08";
    scorecard_outcome o;
    scorecard_run(NULL, NULL, "t_bin", bin, sizeof bin - 1, "2025-01-01", "2025-01-31", &small, &o);
    CHECK(o.status == 422 && strcmp(o.code, "syntax_error") == 0, "binary chunk refused (got %d %s: %s)", o.status, o.code, o.message);
    CHECK(strstr(o.message, "binary") != NULL, "the message says it is a binary chunk: %s", o.message);
    scorecard_outcome_free(&o);
    CHECK(scorecard_compile("t_bin", bin, sizeof bin - 1, &o) != 0 && o.status == 422, "compile refuses a binary chunk too");
    scorecard_outcome_free(&o);
}

static void test_cpu_budget(void)
{
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    scorecard_outcome o = run("while true do end");
    CHECK(o.status == 422 && strcmp(o.code, "budget_exceeded") == 0, "while true do end: budget_exceeded (got %d %s)", o.status, o.code);
    CHECK_STR(detail_str(&o, "budget"), "instructions", "the instruction budget is named");
    CHECK(ms_since(&t0) < 2000, "stopped quickly (%.0f ms)", ms_since(&t0));
    scorecard_outcome_free(&o);

    expect_fail("infinite loop inside pcall", "pcall(function() while true do end end) return {}", "budget_exceeded");
    expect_fail("pcall in a loop swallowing the stop",
                "while true do pcall(function() while true do end end) end", "budget_exceeded");
    expect_fail("nested pcalls", "local function f() while true do end end\n"
                "for i = 1, 10 do pcall(pcall, pcall, f) end return {}", "budget_exceeded");
    expect_fail("error handler loops via table.sort comparator",
                "local t = {} for i = 1, 100 do t[i] = i end\n"
                "table.sort(t, function(a, b) while true do end end) return {}", "budget_exceeded");
    expect_fail("string.gsub callback loops",
                "string.gsub('abc', '.', function() while true do end end) return {}", "budget_exceeded");
    expect_fail("a tail-call loop", "local function f() return f() end return f()", "budget_exceeded");
    expect_fail("a to-be-closed variable whose __close loops",
                "do local x <close> = setmetatable({}, {__close = function() while true do end end}) end return {}",
                "budget_exceeded");
    expect_fail("an error handler that loops, then error",
                "local x <close> = setmetatable({}, {__close = function() while true do end end}) error('boom')",
                "budget_exceeded");

    /* the wall clock: plenty of instructions, little time */
    scorecard_limits timed = { 1000000000000LL, 8u << 20, 0.3, 0 };
    clock_gettime(CLOCK_MONOTONIC, &t0);
    o = run_with("local x = 0 while true do x = x + 1 end", &timed);
    double ms = ms_since(&t0);
    CHECK(o.status == 422 && strcmp(o.code, "budget_exceeded") == 0, "the deadline stops a run (got %d %s)", o.status, o.code);
    CHECK_STR(detail_str(&o, "budget"), "time", "the time budget is named");
    CHECK(ms >= 250 && ms < 1500, "stopped at about the deadline (%.0f ms for 300 ms)", ms);
    scorecard_outcome_free(&o);
}

static void test_memory_budget(void)
{
    scorecard_outcome o = run("local s = string.rep('x', 1e9) return {}");
    CHECK(o.status == 422 && strcmp(o.code, "budget_exceeded") == 0, "string.rep bomb: budget_exceeded (got %d %s)", o.status, o.code);
    CHECK_STR(detail_str(&o, "budget"), "memory", "the memory budget is named");
    scorecard_outcome_free(&o);
    expect_fail("string.rep bomb inside pcall", "local ok = pcall(string.rep, 'x', 1e9) return {}", "budget_exceeded");
    expect_fail("string.rep as a method", "local s = ('x'):rep(2^30) return {}", "budget_exceeded");
    expect_fail("doubling a string", "local s = 'x' while true do s = s .. s end", "budget_exceeded");
    expect_fail("doubling inside pcall, caught and retried",
                "local s = 'x' for i = 1, 100 do pcall(function() s = s .. s end) end return {}", "budget_exceeded");
    scorecard_limits roomy = { 1000000000LL, 8u << 20, 5.0, 0 };
    o = run_with("local t = {} for i = 1, 1e8 do t[i] = {i} end return {}", &roomy);
    CHECK(o.status == 422 && strcmp(o.code, "budget_exceeded") == 0, "a huge table: budget_exceeded (got %d %s)", o.status, o.code);
    scorecard_outcome_free(&o);
    o = run_with("local t = {} for i = 1, 1e7 do t[#t + 1] = tostring(i) .. 'abcdefgh' end return {}", &roomy);
    CHECK(o.status == 422 && strcmp(o.code, "budget_exceeded") == 0, "many strings: budget_exceeded (got %d %s)", o.status, o.code);
    scorecard_outcome_free(&o);
    expect_fail("table.unpack of a huge range", "local t = {table.unpack({}, 1, 1e8)} return {}", "script_error");
    expect_fail("string.format with a huge width", "return string.format('%099999d', 1)", "script_error");
    expect_fail("table.concat of a huge table",
                "local t = {} for i = 1, 1e5 do t[i] = string.rep('y', 100) end\n"
                "local s = table.concat(t) .. table.concat(t) return {}", "budget_exceeded");
}

static void test_recursion(void)
{
    scorecard_limits roomy = { 1000000000LL, 64u << 20, 5.0, 0 };
    scorecard_outcome o = run_with("local function f(n) return 1 + f(n + 1) end return f(1)", &roomy);
    CHECK(o.status == 422, "deep recursion ends in a clean 422 (got %d %s: %.80s)", o.status, o.code, o.message);
    scorecard_outcome_free(&o);
    expect_ok("recursion through pcall stops at the C stack limit, cleanly",
              "local function f() return pcall(f) end local ok = f() return {}");
    expect_fail("recursion through __index",
                "local t = setmetatable({}, {}) getmetatable(t).__index = function(t, k) return t[k] end\n"
                "return t.x", "script_error");
    expect_fail("recursion through string.gsub",
                "local function f(s) return (string.gsub(s, '.', f)) end return f('ab')", "script_error");
}

static void test_readonly(void)
{
    expect_fail("overwriting kpi", "kpi = function() return {} end return {}", "script_error");
    expect_fail("overwriting stores", "stores = nil return {}", "script_error");
    expect_fail("overwriting string", "string = {} return {}", "script_error");
    expect_fail("overwriting string.rep", "string.rep = nil return {}", "script_error");
    expect_fail("overwriting math.floor", "math.floor = nil return {}", "script_error");
    expect_fail("overwriting period.from", "period.from = '1999-01-01' return {}", "script_error");
    expect_fail("a new global", "x = 1 return {}", "script_error");
    expect_fail("rawset on the globals", "rawset(_ENV, 'kpi', 1) return {}", "script_error");
    expect_fail("rawset on a library", "rawset(string, 'rep', 1) return {}", "script_error");
    expect_fail("setmetatable on the globals", "setmetatable(_ENV, nil) return {}", "script_error");
    expect_fail("setmetatable on a library", "setmetatable(string, {}) return {}", "script_error");
    expect_fail("replacing the string metatable's __index", "getmetatable('').__index = {} return {}", "script_error");
    expect_fail("setmetatable on a string", "setmetatable('', {}) return {}", "script_error");
    expect_fail("a __gc finalizer", "setmetatable({}, {__gc = function() while true do end end}) return {}", "script_error");
    expect_fail("string.format %p", "return string.format('%p', {})", "script_error");
    expect_fail("string.format %10p", "return string.format('%10p', print)", "script_error");
    expect_ok("the read-only tables read normally",
              "if getmetatable('') ~= false then error('string metatable visible') end\n"
              "if getmetatable(string) ~= false then error('library metatable visible') end\n"
              "if ('abc'):upper() ~= 'ABC' then error('string methods') end\n"
              "if string.format('%d-%s', 3, 'x') ~= '3-x' then error('format') end\n"
              "if math.floor(2.5) ~= 2 or math.max(1, 4) ~= 4 then error('math') end\n"
              "if table.concat({1, 2}, ',') ~= '1,2' then error('table') end\n"
              "if utf8.len('售后') ~= 2 then error('utf8') end\n"
              "if period.from ~= '2025-01-01' or period.to ~= '2025-01-31' then error('period') end\n"
              "local ok, err = pcall(error, 'x') if ok or err ~= 'x' then error('pcall') end\n"
              "local t = setmetatable({}, {__index = function() return 5 end}) if t.z ~= 5 then error('setmetatable') end\n"
              "rawset(t, 'a', 1) if rawget(t, 'a') ~= 1 then error('rawset') end\n"
              "if select('#', 1, 2, 3) ~= 3 or type(next) ~= 'function' then error('base') end\n"
              "if tonumber('0x10') ~= 16 or not rawequal(t, t) or rawlen({1, 2}) ~= 2 then error('base 2') end\n"
              "return {}");
}

static void test_tostring(void)
{
    expect_ok("tostring shows no address",
              "for _, v in ipairs({ {}, print or tostring, string.rep, setmetatable({}, {}) }) do\n"
              "  local s = tostring(v) if s:find('0x') or s:find(': ') then error('address: ' .. s) end end\n"
              "if tostring({}) ~= 'table' or tostring(tostring) ~= 'function' then error('names') end\n"
              "if tostring(setmetatable({}, {__tostring = function() return 'mine' end})) ~= 'mine' then error('__tostring') end\n"
              "if string.format('%s', {}) ~= 'table' then error('format %s') end\n"
              "if tostring(1.5) ~= '1.5' or tostring(nil) ~= 'nil' or tostring(true) ~= 'true' then error('scalars') end\n"
              "return {}");
}

static void test_patterns(void)
{
    expect_fail("a backtracking pattern on a long text",
                "return string.find(string.rep('a', 20000), 'a-b')", "budget_exceeded");
    expect_fail("the same through a method", "local s = string.rep('a', 20000) return s:match('a*a*a*a*b')", "budget_exceeded");
    expect_ok("ordinary patterns work",
              "if not ('GZ01'):match('^%u+%d+$') then error('match') end\n"
              "if select(2, string.gsub('a,b,c', ',', ';')) ~= 2 then error('gsub') end\n"
              "local n = 0 for w in string.gmatch('a b c', '%a+') do n = n + 1 end if n ~= 3 then error('gmatch') end\n"
              "if string.find(string.rep('a', 100000), 'b', 1, true) ~= nil then error('plain find') end\n"
              "if not string.find(string.rep('a', 5000) .. 'b', 'a-b') then error('one repetition on a longer text') end\n"
              "return {}");
}

/* --- errors: name, line, message --- */

static void test_error_lines(void)
{
    scorecard_outcome o = run("local a = 1\nlocal b = nil\nlocal c = b + a\nreturn {}");
    CHECK(o.status == 422 && strcmp(o.code, "script_error") == 0, "a runtime error is script_error");
    CHECK_INT(detail_int(&o, "line"), 3, "details name line 3");
    CHECK(strncmp(o.message, "t_case:3:", 9) == 0, "the message starts with name:line (%s)", o.message);
    scorecard_outcome_free(&o);

    o = run("\n\nerror('目标未达成', 0)");
    CHECK_INT(detail_int(&o, "line"), 3, "error(msg, 0) still gets its line");
    CHECK(strstr(o.message, "t_case:3:") && strstr(o.message, "目标未达成"), "and the name and the message (%s)", o.message);
    scorecard_outcome_free(&o);

    o = run("local t = {}\nerror(t)");
    CHECK_INT(detail_int(&o, "line"), 2, "an error object that is a table gets its line");
    CHECK(strstr(o.message, "table value") != NULL, "and says what it was (%s)", o.message);
    scorecard_outcome_free(&o);

    o = run("local x = 1\n\nkpi()");
    CHECK_INT(detail_int(&o, "line"), 3, "a bad argument to an API function names the caller's line");
    CHECK(strstr(o.message, "kpi") != NULL, "and the function (%s)", o.message);
    scorecard_outcome_free(&o);

    o = run("local x = 1\nx = x +\n");
    CHECK(o.status == 422 && strcmp(o.code, "syntax_error") == 0, "a syntax error at run is syntax_error (%s)", o.code);
    CHECK(detail_int(&o, "line") >= 2, "with its line (%d)", detail_int(&o, "line"));
    scorecard_outcome_free(&o);

    const char *bad = "-- 测试\nlocal t = {\nreturn t";
    CHECK(scorecard_compile("mine", bad, strlen(bad), &o) != 0, "compile refuses a syntax error");
    CHECK(o.status == 422 && strcmp(o.code, "syntax_error") == 0, "422 syntax_error");
    CHECK_INT(detail_int(&o, "line"), 3, "details [{line: 3}]");
    CHECK(detail_str(&o, "message") && strstr(detail_str(&o, "message"), "mine:3:"), "details carry the message with name:line");
    scorecard_outcome_free(&o);
    const char *good = "return {}";
    CHECK(scorecard_compile("mine", good, strlen(good), &o) == 0 && o.status == 200, "compile accepts a good chunk");
    scorecard_outcome_free(&o);
}

/* --- results: shape, rows, log --- */

static void test_results(void)
{
    expect_fail("a result that is not a table", "return 5", "bad_result");
    expect_fail("no result", "local x = 1", "bad_result");
    scorecard_outcome o = run("return { {store = 'GZ01', score = 1} }");
    CHECK(o.status == 422 && strcmp(o.code, "store_out_of_scope") == 0, "a row of a store outside the scope: 422 store_out_of_scope (got %s)", o.code);
    CHECK_INT(detail_int(&o, "row"), 1, "details name the row");
    scorecard_outcome_free(&o);
    expect_fail("a row that is not a table", "return { 5 }", "bad_row");
    expect_fail("a row without store", "return { {score = 1} }", "bad_row");

    o = run("log('总分', 1.5, {}, nil, true)\nlog()\nreturn {}");
    CHECK(o.status == 200, "log runs");
    const cJSON *log = cJSON_GetObjectItemCaseSensitive(o.result, "log");
    CHECK_INT(cJSON_GetArraySize(log), 2, "two log lines");
    CHECK_STR(cJSON_GetArrayItem(log, 0)->valuestring, "总分 1.5 table nil true", "log joins its arguments with spaces");
    CHECK(cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(o.result, "rows")), "rows is an array");
    CHECK(cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(o.result, "elapsed_ms")), "elapsed_ms is a number");
    scorecard_outcome_free(&o);

    o = run("for i = 1, 5000 do log(i) end return {}");
    log = cJSON_GetObjectItemCaseSensitive(o.result, "log");
    CHECK_INT(cJSON_GetArraySize(log), 1001, "the log is bounded (1000 lines and a note)");
    scorecard_outcome_free(&o);

    expect_fail("data functions without a scope", "return stores()", "script_error");
    expect_fail("kpi() with a bad opts.by", "return kpi('labour.share', {by = 'galaxy'})", "script_error");
    expect_fail("kpi() with a bad opts.from", "return kpi('labour.share', {from = '2025-13-01'})", "script_error");
}

static void test_period_and_limits(void)
{
    scorecard_outcome o;
    scorecard_run(NULL, NULL, "t", "return {}", 9, "2025-02-30", "2025-03-01", &small, &o);
    CHECK(o.status == 400 && strstr(o.message, "from"), "a bad from is 400 naming from (%s)", o.message);
    scorecard_outcome_free(&o);
    scorecard_run(NULL, NULL, "t", "return {}", 9, "2025-03-01", "2025-02-01", &small, &o);
    CHECK(o.status == 400, "from after to is 400");
    scorecard_outcome_free(&o);

    CHECK(scorecard_name_valid("aftersales_balanced") && scorecard_name_valid("a-1"), "valid names");
    CHECK(!scorecard_name_valid("run") && !scorecard_name_valid("") && !scorecard_name_valid("Upper") &&
          !scorecard_name_valid("a/b") && !scorecard_name_valid("a.lua"), "invalid names (run, empty, upper case, /, .)");
    char n65[66];
    memset(n65, 'a', 65);
    n65[65] = '\0';
    CHECK(!scorecard_name_valid(n65) && scorecard_name_valid(n65 + 1), "64 characters at most");

    scorecard_limits lim;
    char err[200];
    setenv("FOURSCORE_LUA_INSTRUCTIONS", "1000000", 1);
    setenv("FOURSCORE_LUA_MEMORY", "33554432", 1);
    setenv("FOURSCORE_LUA_SECONDS", "1.5", 1);
    CHECK(scorecard_limits_load(&lim, err, sizeof err) == 0 && lim.instructions == 1000000 &&
          lim.memory_bytes == 33554432 && lim.seconds == 1.5, "budgets from the environment");
    setenv("FOURSCORE_LUA_MEMORY", "lots", 1);
    CHECK(scorecard_limits_load(&lim, err, sizeof err) != 0 && strstr(err, "FOURSCORE_LUA_MEMORY"), "a bad budget names its variable (%s)", err);
    unsetenv("FOURSCORE_LUA_INSTRUCTIONS");
    unsetenv("FOURSCORE_LUA_MEMORY");
    unsetenv("FOURSCORE_LUA_SECONDS");
    CHECK(scorecard_limits_load(&lim, err, sizeof err) == 0 && lim.instructions == SCORECARD_DEFAULT_INSTRUCTIONS &&
          lim.memory_bytes == SCORECARD_DEFAULT_MEMORY && lim.seconds == SCORECARD_DEFAULT_SECONDS, "the defaults");
}

/* FOURSCORE_LUA_CONCURRENT bounds the runs in flight: with 1, a second run
 * while one is busy is refused with 429 at once. */
static void *busy_run(void *arg)
{
    scorecard_limits lim = { 1000000000000LL, 8u << 20, 0.8, 0 };
    *(scorecard_outcome *)arg = run_with("while true do end", &lim);
    return NULL;
}

static void test_concurrency_bound(void)
{
    setenv("FOURSCORE_LUA_CONCURRENT", "1", 1);
    pthread_t th;
    scorecard_outcome first;
    memset(&first, 0, sizeof first);
    CHECK(pthread_create(&th, NULL, busy_run, &first) == 0, "a long run in another thread");
    struct timespec pause = { 0, 200 * 1000 * 1000 };
    nanosleep(&pause, NULL);
    scorecard_outcome second = run("return {}");
    CHECK(second.status == 429 && strcmp(second.code, "busy") == 0, "a second run is refused with 429 busy (got %d %s)", second.status, second.code);
    scorecard_outcome_free(&second);
    pthread_join(th, NULL);
    CHECK(first.status == 422 && strcmp(first.code, "budget_exceeded") == 0, "the first ends on its deadline");
    scorecard_outcome_free(&first);
    second = run("return {}");
    CHECK(second.status == 200, "and then runs are taken again");
    scorecard_outcome_free(&second);
    unsetenv("FOURSCORE_LUA_CONCURRENT");
}

static void test_still_serving(void)
{
    /* after every escape above, a plain run still works */
    expect_ok("a run after all the escapes", "local t = {} for i = 1, 1000 do t[i] = i * 2 end return {}");
}

/* --- hostile scripts: each a clean 422 within its budget --- */

/* 422 budget_exceeded naming budget (NULL: any), within max_ms. */
static void expect_budget(const char *what, const char *src, const scorecard_limits *lim, const char *budget, double max_ms)
{
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    scorecard_outcome o = run_with(src, lim);
    double ms = ms_since(&t0);
    CHECK(o.status == 422 && strcmp(o.code, "budget_exceeded") == 0, "%s: 422 budget_exceeded (got %d %s: %.160s)",
          what, o.status, o.code, o.message);
    if (budget) CHECK_STR(detail_str(&o, "budget"), budget, "%s: the %s budget is named", what, budget);
    CHECK(ms < max_ms, "%s: stopped within %.0f ms (took %.0f ms)", what, max_ms, ms);
    scorecard_outcome_free(&o);
}

/* 422 with code, details naming row, and a message holding part. */
static void expect_row_error(const char *what, const char *src, const char *code, int row, const char *part)
{
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    scorecard_outcome o = run(src);
    CHECK(o.status == 422 && strcmp(o.code, code) == 0, "%s: 422 %s (got %d %s: %.160s)", what, code, o.status, o.code, o.message);
    if (row > 0) CHECK_INT(detail_int(&o, "row"), row, "%s: details name row %d", what, row);
    CHECK(strstr(o.message, part) != NULL, "%s: the message says '%s' (%.160s)", what, part, o.message);
    CHECK(ms_since(&t0) < 2000, "%s: at once (%.0f ms)", what, ms_since(&t0));
    scorecard_outcome_free(&o);
}

/* Metamethods on every level of the result never run and never reach the
 * ranking with a missing field: such a table is refused, naming the row.
 * (These runs have no scope, so a row that passes would then be refused as
 * out of scope: every case here must be refused for its metatable first.) */
static void test_result_metatables(void)
{
    expect_row_error("a row answering store and score through __index (once a crash)",
                     "local mine = 'S1'\n"
                     "return { setmetatable({}, {__index=function(t,k) if k=='store' then return mine end if k=='score' then return 1 end end}) }",
                     "bad_row", 1, "metatable");
    static const char *const metamethods[] = {
        "__index = function() while true do end end", "__index = {store = 'S1', score = 1}",
        "__newindex = function() while true do end end", "__len = function() while true do end end",
        "__pairs = function() while true do end end", "__tostring = function() while true do end end",
        "__eq = function() while true do end end", "__lt = function() while true do end end",
        "__concat = function() while true do end end", "__call = function() while true do end end",
        "__metatable = 'locked'", "__name = 'x'", "__close = function() while true do end end",
    };
    char src[512], what[200];
    for (size_t i = 0; i < sizeof metamethods / sizeof *metamethods; i++) {
        snprintf(src, sizeof src, "return { setmetatable({store = 'S1', score = 1}, {%s}) }", metamethods[i]);
        snprintf(what, sizeof what, "a row with %s", metamethods[i]);
        expect_row_error(what, src, "bad_row", 1, "metatable");
        snprintf(src, sizeof src, "return { {store = 'S1', score = 1, items = setmetatable({{kpi = 'x'}}, {%s})} }", metamethods[i]);
        snprintf(what, sizeof what, "items with %s", metamethods[i]);
        expect_row_error(what, src, "bad_row", 1, "'items'");
        snprintf(src, sizeof src, "return { {store = 'S1', score = 1, items = {{kpi = 'a'}, setmetatable({kpi = 'b'}, {%s})}} }", metamethods[i]);
        snprintf(what, sizeof what, "an item with %s", metamethods[i]);
        expect_row_error(what, src, "bad_row", 1, "metatable");
        snprintf(src, sizeof src, "return setmetatable({ {store = 'S1', score = 1} }, {%s})", metamethods[i]);
        snprintf(what, sizeof what, "the result table with %s", metamethods[i]);
        expect_row_error(what, src, "bad_result", 0, "metatable");
    }
    expect_row_error("an empty result answering rows through __index and __len",
                     "return setmetatable({}, {__len = function() return 3 end, __index = function(t, i) return {store = 'S1', score = i} end})",
                     "bad_result", 0, "metatable");
    expect_row_error("a nested table deep in an item",
                     "return { {store = 'S1', score = 1, items = {{kpi = 'a', detail = {x = setmetatable({}, {})}}}} }",
                     "bad_row", 1, "metatable");
    expect_row_error("a store with a NUL byte (the scope check and the copy would see different codes)",
                     "return { {store = 'S1\\0N1', score = 1} }", "bad_row", 1, "NUL");
    expect_row_error("a key with a NUL byte (it would duplicate 'store' in the JSON)",
                     "return { {store = 'S1', score = 1, ['store\\0x'] = 'N1'} }", "bad_row", 1, "NUL");
    expect_row_error("a function in a row", "return { {store = 'S1', score = 1, f = print or tostring} }", "bad_row", 1, "function");
    expect_row_error("a row nested in itself", "local r = {store = 'S1', score = 1} r.me = r return { r }", "bad_row", 1, "nested");
    expect_row_error("a row that is a list", "return { {1, 2, 3} }", "bad_row", 1, "named fields");
}

/* The answer's size: counted while it is copied, refused at the bound
 * (FOURSCORE_LUA_RESULT_MAX) before anything beyond it is built. */
static void test_result_size(void)
{
    scorecard_limits lim = { 1000000000LL, 64u << 20, 5.0, 0 };
    expect_budget("one 4 MiB text referenced 40 times (168 MB of JSON)",
                  "local s = string.rep('x', 4 << 20) local items = {}\n"
                  "for i = 1, 40 do items[i] = s end return { {store = 'S1', score = 1, items = items} }", &lim, "result", 3000);
    expect_budget("the same text in 40 fields of a row",
                  "local s = string.rep('x', 4 << 20) local row = {store = 'S1', score = 1}\n"
                  "for i = 1, 40 do row['f' .. i] = s end return { row }", &lim, "result", 3000);
    expect_budget("a table of 100 numbers referenced 100 times, referenced 100 times (1M numbers)",
                  "local t = {} for i = 1, 100 do t[i] = i * 1000.5 end\n"
                  "local l2 = {} for i = 1, 100 do l2[i] = t end\n"
                  "local l3 = {} for i = 1, 100 do l3[i] = l2 end\n"
                  "return { {store = 'S1', score = 1, items = l3} }", &lim, NULL, 3000);
    expect_budget("texts full of control characters (six bytes each in JSON)",
                  "local s = string.rep('\\1', 1 << 20) return { {store = 'S1', score = 1, items = {s, s}} }", &lim, "result", 3000);
    scorecard_limits tight = { 1000000000LL, 64u << 20, 5.0, 4096 };
    scorecard_outcome o = run_with("return { {store = 'S1', score = 1, grade = string.rep('A', 5000)} }", &tight);
    CHECK(o.status == 422 && strcmp(o.code, "budget_exceeded") == 0 && strcmp(detail_str(&o, "budget") ? detail_str(&o, "budget") : "", "result") == 0,
          "a 5000-byte grade over a 4096-byte bound: budget_exceeded result (got %d %s %s)", o.status, o.code, o.message);
    CHECK(strstr(o.message, "too large") && strstr(o.message, "fewer rows"), "the message tells what to do (%s)", o.message);
    CHECK_INT(detail_int(&o, "limit_bytes"), 4096, "details give the bound");
    scorecard_outcome_free(&o);
    o = run_with("return { {store = 'S1', score = 1, grade = string.rep('A', 3000)} }", &tight);
    CHECK(o.status == 422 && strcmp(o.code, "store_out_of_scope") == 0, "3000 bytes fit in 4096: read, then refused for its scope (got %s)", o.code);
    scorecard_outcome_free(&o);
    for (int i = 0; i < 3; i++) {
        o = run_with("for i = 1, 1000 do log(string.rep('y', 1000)) end return {}", &tight);
        CHECK(o.status == 422 && strcmp(o.code, "budget_exceeded") == 0, "the log counts toward the answer's bound (got %d %s)", o.status, o.code);
        scorecard_outcome_free(&o);
    }
    /* a result larger than the memory left: the copy counts as memory */
    scorecard_limits lean = { 1000000000LL, 8u << 20, 5.0, 1u << 30 };
    expect_budget("a copy larger than the memory budget", "local s = string.rep('x', 3 << 20)\n"
                  "return { {store = 'S1', score = 1, items = {s, s, s, s, s}} }", &lean, "memory", 3000);

    /* the bound from the environment, read like the other budgets */
    scorecard_limits env;
    char err[200];
    setenv("FOURSCORE_LUA_RESULT_MAX", "65536", 1);
    CHECK(scorecard_limits_load(&env, err, sizeof err) == 0 && env.result_bytes == 65536, "FOURSCORE_LUA_RESULT_MAX sets the bound");
    setenv("FOURSCORE_LUA_RESULT_MAX", "12MB", 1);
    CHECK(scorecard_limits_load(&env, err, sizeof err) != 0 && strstr(err, "FOURSCORE_LUA_RESULT_MAX"), "a bad one is named (%s)", err);
    setenv("FOURSCORE_LUA_RESULT_MAX", "10", 1);
    CHECK(scorecard_limits_load(&env, err, sizeof err) != 0, "too small a bound is refused (%s)", err);
    unsetenv("FOURSCORE_LUA_RESULT_MAX");
    CHECK(scorecard_limits_load(&env, err, sizeof err) == 0 && env.result_bytes == SCORECARD_DEFAULT_RESULT, "default 8 MiB");
    CHECK(SCORECARD_DEFAULT_RESULT == 8u << 20, "8 MiB");
}

/* Pattern bombs of every backtracking construct, in every function that
 * matches: stopped by the instruction budget (steps are counted), and with
 * an unlimited instruction count by the deadline, within a small margin. */
static void test_pattern_bombs(void)
{
    static const char *const bombs[] = {
        /* the first bomb found: 2^27 ways, 10 s in C under a 5 s budget before */
        "string.find(('a'):rep(27), '^' .. ('a?'):rep(27) .. ('a'):rep(27) .. '$')",
        "string.match(('a'):rep(27), '^' .. ('a?'):rep(27) .. ('a'):rep(27) .. '$')",
        "for m in string.gmatch(('a'):rep(27), ('a?'):rep(27) .. ('a'):rep(27) .. 'b') do end",
        "string.gsub(('a'):rep(27), ('a?'):rep(27) .. ('a'):rep(27) .. 'b', 'x')",
        "(('a'):rep(27)):find(('a?'):rep(27) .. ('a'):rep(27) .. 'b')",
        "string.find(('a'):rep(5000), 'a*a*a*a*b')",
        "string.find(('a'):rep(20000), 'a-b')",
        "string.match(('a'):rep(5000), 'a+a+a+b')",
        "string.find(('a'):rep(5000), '.-.-.-b')",
        "string.find(('a'):rep(5000), '[%a]*[%w]*[^b]*b')",
        "string.find(('a'):rep(30), '^' .. ('(a?)'):rep(30) .. ('a'):rep(30) .. '$')",
        "string.find(('a'):rep(30), '^((((a?)a?)a?)a?)' .. ('a?'):rep(26) .. ('a'):rep(30) .. '$')",
        "string.find(('('):rep(60000), '%b()')",
        "string.gsub(('('):rep(60000), '%b()', '')",
        "string.match(('('):rep(60000), '%b()')",
        "for m in string.gmatch(('('):rep(60000), '%b()') do end",
        "string.find(('a'):rep(30000), '.-%f[%d]')",
        "string.match(('a'):rep(30000), '.-%f[%d]')",
        "for m in string.gmatch(('a'):rep(30000), '.-%f[%d]') do end",
        "string.gsub(('a'):rep(30000), '.-%f[%d]', '')",
        "string.find(('a'):rep(20000), '(a*)%1b')",
        "for m in string.gmatch(('a'):rep(20000), '(a*)%1b') do end",
        "string.gsub(('a'):rep(20000), '(a*)%1b', '')",
        "local h, n = ('a'):rep(3 << 20), ('a'):rep(300) .. 'b' for i = 1, 1e9 do h:find(n, 1, true) end",
        "local h, n = ('a'):rep(3 << 20), ('a'):rep(300) .. 'b' for i = 1, 1e9 do h:find(n) end",
        "local s = ('a'):rep(1000) for i = 1, 1e9 do s:find('a-b') end",
        "for i = 1, 1e9 do pcall(string.find, ('a'):rep(27), ('a?'):rep(27) .. ('a'):rep(27) .. 'b') end",
        "string.gsub(('a'):rep(100000), 'a', function(c) return string.find(('a'):rep(27), ('a?'):rep(27) .. ('a'):rep(27) .. 'b') end)",
    };
    char src[600], what[700];
    for (size_t i = 0; i < sizeof bombs / sizeof *bombs; i++) {
        snprintf(src, sizeof src, "%s\nreturn {}", bombs[i]);
        snprintf(what, sizeof what, "instructions: %s", bombs[i]);
        expect_budget(what, src, &small, "instructions", 2500);
        scorecard_limits wall = { 1000000000000LL, 32u << 20, 0.4, 0 };
        snprintf(what, sizeof what, "deadline 0.4 s: %s", bombs[i]);
        expect_budget(what, src, &wall, "time", 1400);
    }
    scorecard_outcome o = run("string.find(('a'):rep(27), '^' .. ('a?'):rep(27) .. ('a'):rep(27) .. '$') return {}");
    CHECK(strstr(o.message, "string.find") != NULL, "the message names the function (%s)", o.message);
    CHECK_STR(detail_str(&o, "while"), "string.find", "and so do the details");
    scorecard_outcome_free(&o);
    /* through the sandbox; tests/unit/test_scorecard_pattern.c compares the
     * counted functions with Lua's own on a generated corpus */
    expect_ok("what the counted matcher answers is Lua's",
              "local s = ('GZ01 广州 2024-03-01\\n'):rep(3)\n"
              "local n = 0 for line in s:gmatch('[^\\n]+') do n = n + 1 end if n ~= 3 then error('gmatch lines ' .. n) end\n"
              "local y, m, d = ('2024-03-15'):match('^(%d%d%d%d)-(%d%d)-(%d%d)$') if y ~= '2024' or m ~= '03' or d ~= '15' then error('match') end\n"
              "if ('  x y  '):match('^%s*(.-)%s*$') ~= 'x y' then error('trim') end\n"
              "local a, b = string.find('f(a(b)c)d', '%b()') if a ~= 2 or b ~= 8 then error('%b') end\n"
              "local w = {} for x in ('THE (quick) fox'):gmatch('%f[%a]%a+') do w[#w + 1] = x end if table.concat(w, ',') ~= 'THE,quick,fox' then error('%f') end\n"
              "if not ('hello'):find('(l)%1') then error('back-reference') end\n"
              "local r, k = ('hello world'):gsub('(%w+)', '<%1>') if r ~= '<hello> <world>' or k ~= 2 then error('gsub %1') end\n"
              "local t = ('abc'):gsub('%w', {a = 1, b = false}) if t ~= '1bc' then error('gsub table ' .. t) end\n"
              "local p1, p2 = ('hello'):find('l', -2) if p1 ~= 4 or p2 ~= 4 then error('negative init') end\n"
              "if ('a.b'):find('.', 1, true) ~= 2 then error('plain') end\n"
              "if ('a+b'):find('+', 1, true) ~= 2 or ('ab'):find('b', 10) ~= nil then error('plain 2') end\n"
              "local pos = {('abc'):match('()b()')} if pos[1] ~= 2 or pos[2] ~= 3 then error('position captures') end\n"
              "local c = 0 for k, v in string.gmatch('a=1, b=2', '(%w+)=(%w+)') do c = c + tonumber(v) end if c ~= 3 then error('gmatch pairs') end\n"
              "local e = 0 for x in ('abc'):gmatch('') do e = e + 1 end if e ~= 4 then error('empty matches ' .. e) end\n"
              "if select('#', pcall(string.find, 'x', '[a')) ~= 2 or pcall(string.find, 'x', '%') then error('malformed patterns are errors') end\n"
              "local big = ('word '):rep(40000) local cnt = select(2, big:gsub('%a+', '')) if cnt ~= 40000 then error('long text ' .. cnt) end\n"
              "return {}");
    scorecard_outcome bad = run("return string.find('x', '[a')");
    CHECK(bad.status == 422 && strcmp(bad.code, "script_error") == 0 && strstr(bad.message, "missing ']'"),
          "a malformed pattern is Lua's error (%s)", bad.message);
    scorecard_outcome_free(&bad);
}

/* Budget stops inside metamethods and tostring, pcall swallowing the stop,
 * string.rep and other work inside C: each ends in a clean 422. */
static void test_budget_stops(void)
{
    static const char *const cases[] = {
        "local t = setmetatable({}, {__index = function() while true do end end}) local x = t.a",
        "local t = setmetatable({}, {__newindex = function() while true do end end}) t.a = 1",
        "local a = setmetatable({}, {__eq = function() while true do end end}) local b = setmetatable({}, getmetatable(a)) local x = a == b",
        "local a = setmetatable({}, {__lt = function() while true do end end}) local x = a < a",
        "local a = setmetatable({}, {__concat = function() while true do end end}) local x = a .. 'x'",
        "local a = setmetatable({}, {__len = function() while true do end end}) local x = #a",
        "local a = setmetatable({}, {__call = function() while true do end end}) a()",
        "local x = tostring(setmetatable({}, {__tostring = function() while true do end end}))",
        "log(setmetatable({}, {__tostring = function() while true do end end}))",
        "local x = string.format('%s', setmetatable({}, {__tostring = function() while true do end end}))",
        "pcall(tostring, setmetatable({}, {__tostring = function() while true do end end}))",
        "while true do pcall(tostring, setmetatable({}, {__tostring = function() while true do end end})) end",
        "local ok = pcall(pcall, pcall, function() while true do end end) while true do pcall(error) end",
        "local t = {} for i = 1, 100 do t[i] = i end table.sort(t, function(a, b) while true do end end)",
        "local t = setmetatable({}, {__index = function(t, k) return k end}) while true do string.gsub(('a'):rep(1e5), '.', t) end",
        "local a = ('x'):rep(1 << 20) local t = {} for i = 1, 10000 do t[i] = a end table.sort(t)",
        "local t = {} for i = 1, 1e6 do t[i] = i end for i = 1, 1e9 do table.insert(t, 1, i) table.remove(t, 1) end",
        "local t = {} for i = 1, 1e5 do t[i] = 'x' end while true do local s = table.concat(t) end",
        "local s = ('x'):rep(4 << 20) while true do local u = s:upper() end",
        "local s = ('x'):rep(1 << 20) while true do local f = string.format('%s%s', s, s) end",
        "while true do local s = string.rep('x', 1 << 20) end",
        "local a = ('x'):rep(4 << 20) local b = a:sub(1, -2) .. 'x' while true do local x = a < b end",
    };
    char src[600], what[700];
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        snprintf(src, sizeof src, "%s\nreturn {}", cases[i]);
        snprintf(what, sizeof what, "instructions: %s", cases[i]);
        expect_budget(what, src, &small, NULL, 2500);
        scorecard_limits wall = { 1000000000000LL, 32u << 20, 0.4, 0 };
        snprintf(what, sizeof what, "deadline 0.4 s: %s", cases[i]);
        expect_budget(what, src, &wall, NULL, 1400);
    }
    expect_fail("a __tostring making a huge text", "local x = tostring(setmetatable({}, {__tostring = function() return ('x'):rep(1e9) end})) return {}",
                "budget_exceeded");
    expect_fail("string.rep past the memory budget, with a separator", "local s = string.rep('ab', 1e8, ',') return {}", "budget_exceeded");
    expect_fail("string.rep of 2^40 (Lua refuses it: too large)", "local s = string.rep('x', 2^40) return {}", "script_error");
    expect_ok("string.rep of an empty text is answered at once, whatever the count",
              "if string.rep('', 2^62) ~= '' or ('').rep('', 1e15, '') ~= '' then error('rep') end\n"
              "if string.rep('ab', 3, ',') ~= 'ab,ab,ab' or string.rep('x', 0) ~= '' or string.rep('x', -1) ~= '' then error('rep 2') end\n"
              "local t = {3, 1, 2} table.sort(t) if table.concat(t, ',') ~= '1,2,3' then error('sort') end\n"
              "table.sort(t, function(a, b) return a > b end) if table.concat(t, ',') ~= '3,2,1' then error('sort desc') end\n"
              "local w = {'b', 'a', 'c'} table.sort(w) if table.concat(w) ~= 'abc' then error('sort texts') end\n"
              "table.insert(t, 4) table.insert(t, 1, 9) if table.concat(t, ',') ~= '9,3,2,1,4' then error('insert') end\n"
              "if table.remove(t, 1) ~= 9 or table.remove(t) ~= 4 then error('remove') end\n"
              "local m = table.move({1, 2, 3}, 1, 3, 2) if table.concat(m, ',') ~= '1,1,2,3' then error('move') end\n"
              "if ('AbC'):upper() ~= 'ABC' or ('AbC'):lower() ~= 'abc' or ('abc'):reverse() ~= 'cba' then error('case') end\n"
              "if utf8.len('售后') ~= 2 or utf8.offset('售后', 2) ~= 4 then error('utf8') end\n"
              "return {}");
    scorecard_limits timed = { 1000000000000LL, 64u << 20, 0.3, 0 };
    /* the script ends past its deadline (a long sort inside C), leaving a
     * result to read: the run ends with the time budget, never a 200 */
    expect_budget("a result left to read after the deadline",
                  "local l = {} for i = 1, 3000 do l[i] = {kpi = 'k' .. i, value = i} end\n"
                  "local t = {} for i = 1, 1e6 do t[i] = (i * 7919) % 1000003 end table.sort(t)\n"
                  "return { {store = 'S1', score = 1, items = l} }", &timed, "time", 3000);
}

/* --- installing the shipped scorecards --- */

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (f) { fputs(text, f); fclose(f); }
}

/* The current version of name and whether it is a shipped text. */
static int current_version(db_conn *c, const char *name, int *shipped, char *source, size_t cap)
{
    static const char sql[] =
        "SELECT s.current_version, v.shipped, v.source FROM scorecards s"
        " JOIN scorecard_versions v ON v.scorecard_id = s.id AND v.version = s.current_version WHERE s.name = ?";
    db_val p = DB_STR(name);
    db_result *res = NULL;
    char err[256];
    if (db_query(c, sql, &p, 1, &res, err, sizeof err) != 0) { printf("    %s\n", err); return -1; }
    int v = 0;
    if (res->nrows == 1) {
        v = (int)db_cell_int(res, 0, 0);
        *shipped = (int)db_cell_int(res, 0, 1);
        snprintf(source, cap, "%s", db_cell(res, 0, 2));
    }
    db_result_free(res);
    return v;
}

static void test_install_shipped(void)
{
    testdb t;
    if (testdb_start(&t) != 0) { CHECK(0, "a private database for the installation tests"); return; }
    db_conn *c = t.conn;
    char dir[] = "/tmp/fs-scorecards-XXXXXX", path[512], err[512], src[4096];
    CHECK(mkdtemp(dir) != NULL, "a directory of shipped scorecards");
    snprintf(path, sizeof path, "%s/team_a.lua", dir);
    write_text(path, "-- 团队评分 A\nreturn {}\n");
    int shipped = -1;

    CHECK(scorecard_install_dir(c, dir, err, sizeof err) == 0, "install (%s)", err);
    CHECK_INT(current_version(c, "team_a", &shipped, src, sizeof src), 1, "installed as version 1");
    CHECK_INT(shipped, 1, "marked shipped");
    CHECK(scorecard_install_dir(c, dir, err, sizeof err) == 0, "install again");
    CHECK_INT(current_version(c, "team_a", &shipped, src, sizeof src), 1, "idempotent: still version 1");

    write_text(path, "-- 团队评分 A\nreturn {} -- v2\n");
    CHECK(scorecard_install_dir(c, dir, err, sizeof err) == 0, "install a newer shipped text");
    CHECK_INT(current_version(c, "team_a", &shipped, src, sizeof src), 2, "an untouched shipped scorecard is upgraded");
    CHECK(strstr(src, "v2") != NULL, "to the new text");

    /* a person saves version 3 (what PUT does), then the product ships v3 */
    static const char bump[] = "UPDATE scorecards SET current_version = 3 WHERE name = 'team_a'";
    static const char add[] =
        "INSERT INTO scorecard_versions (scorecard_id, version, source, saved_at, saved_by, shipped)"
        " SELECT id, 3, 'return {} -- mine', UTC_TIMESTAMP(6), 'rm1', 0 FROM scorecards WHERE name = 'team_a'";
    CHECK(db_exec(c, add, NULL, 0, NULL, err, sizeof err) == 0 && db_exec(c, bump, NULL, 0, NULL, err, sizeof err) == 0,
          "a person's version 3");
    write_text(path, "-- 团队评分 A\nreturn {} -- v3\n");
    CHECK(scorecard_install_dir(c, dir, err, sizeof err) == 0, "install after a person's save");
    CHECK_INT(current_version(c, "team_a", &shipped, src, sizeof src), 3, "a person's version is never replaced");
    CHECK_STR(src, "return {} -- mine", "their text stays");

    snprintf(path, sizeof path, "%s/broken.lua", dir);
    write_text(path, "return {\n");
    CHECK(scorecard_install_dir(c, dir, err, sizeof err) != 0 && strstr(err, "broken.lua"),
          "a shipped file with a syntax error is refused, naming it (%s)", err);
    unlink(path);
    snprintf(path, sizeof path, "%s/team_a.lua", dir);
    unlink(path);
    rmdir(dir);

    /* the project's own shipped scorecards compile and install */
    CHECK(scorecard_install_shipped(c, err, sizeof err) == 0, "the project's shipped scorecards install (%s)", err);
    const char *names[] = { "aftersales_balanced", "customer_tiers", "yoy_growth", "first_service_lockin" };
    for (int i = 0; i < 4; i++)
        CHECK_INT(current_version(c, names[i], &shipped, src, sizeof src), 1, "%s installed", names[i]);
    testdb_stop(&t);
}

int main(void)
{
    test_forbidden_libraries();
    test_binary_chunk();
    test_cpu_budget();
    test_memory_budget();
    test_recursion();
    test_readonly();
    test_tostring();
    test_patterns();
    test_error_lines();
    test_results();
    test_period_and_limits();
    test_concurrency_bound();
    test_result_metatables();
    test_result_size();
    test_pattern_bombs();
    test_budget_stops();
    test_still_serving();
    test_install_shipped();
    return check_done();
}
