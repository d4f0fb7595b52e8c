/* scorecard: Lua 5.4 scorecards (docs/api.md, "Lua scorecards"). A
 * scorecard is a text chunk a regional manager writes; it runs in a fresh,
 * bounded sandbox per run (instruction count, memory, wall clock), reads
 * figures only through period, stores(), kpi(), customers(), target() and
 * log(), always with the caller's scope, and returns rows that are checked,
 * sorted and ranked here. Scorecards are stored in the database with their
 * last 20 versions; the routes and `fourscore scorecard run` live here too. */
#ifndef FS_SCORECARD_H
#define FS_SCORECARD_H
#include <stdbool.h>
#include <stddef.h>
#include <cJSON.h>
#include "auth.h"
#include "db.h"
#include "http.h"

struct app;

/* --- budgets --- */
/* Per run. Defaults 50M instructions, 64 MiB, 5 s, an answer of at most
 * 8 MiB of JSON; the environment (FOURSCORE_LUA_INSTRUCTIONS,
 * FOURSCORE_LUA_MEMORY in bytes, FOURSCORE_LUA_SECONDS,
 * FOURSCORE_LUA_RESULT_MAX in bytes) overrides them. Pattern matching
 * counts its steps as instructions; reading the result keeps the deadline
 * and counts its copy against the memory budget. */
typedef struct scorecard_limits {
    long long instructions;
    size_t memory_bytes;
    double seconds;
    size_t result_bytes;        /* 0: SCORECARD_DEFAULT_RESULT */
} scorecard_limits;
#define SCORECARD_DEFAULT_INSTRUCTIONS 50000000LL
#define SCORECARD_DEFAULT_MEMORY       ((size_t)64 << 20)
#define SCORECARD_DEFAULT_SECONDS      5.0
#define SCORECARD_DEFAULT_RESULT       ((size_t)8 << 20)
/* Defaults, then the environment. Returns 0, or -1 naming the bad variable. */
int scorecard_limits_load(scorecard_limits *lim, char *err, size_t errlen);

/* --- running --- */
/* The outcome of a run or a compile. status 200: result holds
 * {"rows":[...],"log":[...],"elapsed_ms":N}. Otherwise status (422 for the
 * script's faults and budgets, 403/503 for scope and database), code,
 * message and details (an array or NULL) describe the error. */
typedef struct scorecard_outcome {
    int status;
    char code[40];
    char message[512];
    cJSON *details;
    cJSON *result;
    long long kpi_lookups;      /* engine queries made by kpi() in this run */
    double kpi_ms;              /* time spent looking up data: kpi(), stores(), customers() */
    double own_cpu_ms;          /* CPU time of the run itself: all but those lookups */
} scorecard_outcome;
void scorecard_outcome_free(scorecard_outcome *o);

/* Run source (named name in messages) for the period [from, to] with the
 * scope of who. limits NULL: scorecard_limits_load(). Always returns with
 * out filled; the return value is out->status == 200 ? 0 : -1. */
int scorecard_run(struct app *a, const principal *who, const char *name,
                  const char *source, size_t len, const char *from, const char *to,
                  const scorecard_limits *limits, scorecard_outcome *out);
/* Compile only (mode "t"): 0, or -1 with a 422 syntax_error outcome whose
 * details are [{"line","message"}]. */
int scorecard_compile(const char *name, const char *source, size_t len, scorecard_outcome *out);

/* --- storage --- */
/* [a-z0-9_-]{1,64} and not "run". */
bool scorecard_name_valid(const char *name);
/* Install the shipped scorecards (the .lua files of $FOURSCORE_LUA_DIR/scorecards,
 * by default the project's lua/scorecards/) owned by admin. Idempotent: a scorecard
 * missing is created; one whose current version is an older shipped text is
 * updated; one a person has saved since is left alone. Called by migrate
 * and serve. */
int scorecard_install_shipped(db_conn *c, char *err, size_t errlen);
int scorecard_install_dir(db_conn *c, const char *dir, char *err, size_t errlen);

/* --- routes (core/router.c's table) --- */
void scorecard_route_list(http_req *r);      /* GET    /api/v1/scorecards */
void scorecard_route_get(http_req *r);       /* GET    /api/v1/scorecards/{name} */
void scorecard_route_put(http_req *r);       /* PUT    /api/v1/scorecards/{name} */
void scorecard_route_delete(http_req *r);    /* DELETE /api/v1/scorecards/{name} */
void scorecard_route_restore(http_req *r);   /* POST   /api/v1/scorecards/{name}/restore */
void scorecard_route_run(http_req *r);       /* POST   /api/v1/scorecards/{name}/run */
void scorecard_route_try(http_req *r);       /* POST   /api/v1/scorecards/run (?check=1: compile only) */
#endif
