/* scorecard_private: what the files of core/script/ share and nothing else
 * includes: the state of one run (sc_run), its budgets' bookkeeping, and
 * the entry points by which the sandbox (sandbox.c), the functions scripts
 * call (scorecard_api.c) and the runner (scorecard_run.c) reach each other.
 * The public interface is scorecard.h. */
#ifndef FS_SCORECARD_PRIVATE_H
#define FS_SCORECARD_PRIVATE_H
#include <stdbool.h>
#include <stddef.h>
#include <time.h>
#include <cJSON.h>
#include <lua.h>
#include "api_error.h"
#include "auth.h"
#include "db.h"
#include "kpi.h"
#include "scorecard.h"
#include "scorecard_pattern.h"

#define SC_HOOK_STEP        100           /* instructions between budget checks */
#define SC_BYTES_PER_INSTR  16            /* bytes a library function handles for the cost of one instruction */
#define SC_LOG_MAX_LINES    1000
#define SC_LOG_MAX_LINE     1000
#define SC_RESULT_SLACK     ((size_t)4 << 20)  /* memory allowed past the budget to read the rows */
#define SC_ROW_DEPTH        4
#define SC_READ_CHECK       1024          /* values read between two looks at the clock */
#define SC_DEFAULT_CONCURRENT 4

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
    cJSON *pending_json;         /* a list() answer being copied */
} sc_run;

/* The run a state belongs to (its extra space holds the pointer). */
static inline sc_run *run_of(lua_State *L)
{
    return *(sc_run **)lua_getextraspace(L);
}

/* CPU time of this thread: what a run costs, whatever else the machine
 * does (the wall clock of the budgets is clock_ms(), core/base/clock.h). */
static inline double sc_cpu_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

/* --- the sandbox (sandbox.c) --- */

/* The allocator of a run's state (ud: the sc_run): counts every byte and
 * refuses growth past run->mem_limit. */
void *sc_alloc(void *ud, void *ptr, size_t osize, size_t nsize);
/* The count hook: instructions and the wall-clock deadline. */
void sc_hook(lua_State *L, lua_Debug *ar);
/* The meter that charges the pattern functions' steps as instructions. */
void sc_meter_charge(lua_State *L, sc_meter *m, unsigned long long steps, const char *fn);
/* "the instruction budget", "the memory budget", ... */
const char *sc_abort_reason(enum sc_abort a);
/* Checked at the entry of every function the script may call: raises when
 * the run is over (a budget, or a database failure). */
void sc_check_budget(lua_State *L, sc_run *run);
/* A failure of the server's side (database): ends the run with its status. */
int sc_raise_fatal(lua_State *L, sc_run *run, int status, enum api_error code, const char *msg);
/* tostring that never shows an address. */
void sc_push_safe_string(lua_State *L, int idx);
/* Push a read-only proxy of the table at real (what names it in errors). */
void sc_push_readonly(lua_State *L, int real, const char *what);
/* Leaves the script's environment (a read-only proxy) on the stack. */
void sc_build_env(lua_State *L, sc_run *run);

/* --- the functions scripts call (scorecard_api.c) --- */

/* Fill the environment table at env with period, stores(), kpi(),
 * customers(), target() and log() (and the per-run KPI cache). */
void sc_api_install(lua_State *L, int env, sc_run *run);
/* Whether code is one of the run's stores (run->scope, sorted by sc_cmp_codes). */
bool sc_in_scope(const sc_run *run, const char *code);
int sc_cmp_codes(const void *a, const void *b);
/* The start of every data function of the Lua API: stack room, the budget
 * check, and an error naming fn when the run has no data source. */
void sc_need_data(lua_State *L, sc_run *run, const char *fn);
/* opts.from / opts.to (at index opts; validated dates, from <= to) over the
 * run's period; a bad one is a Lua error naming fn. */
void sc_period_opts(lua_State *L, int opts, const char *fn, char from[11], char to[11]);
/* The length of s as a JSON string, quotes included, as cJSON prints it. */
size_t sc_json_text_len(const char *s, size_t len);
#endif
