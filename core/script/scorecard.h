/* scorecard: Lua 5.4 scorecards (docs/api.md, "Lua scorecards"), the
 * interface of core/script/. A scorecard is a text chunk a regional
 * manager writes; it runs in a fresh, bounded sandbox per run (instruction
 * count, memory, wall clock: sandbox.c), reads figures only through period,
 * stores(), kpi(), customers(), target() and log() (scorecard_api.c),
 * always with the caller's scope, and returns rows that are checked,
 * sorted and ranked (scorecard_run.c). Scorecards are stored in the
 * database with their last 20 versions (scorecard_store.c). Plain C values
 * in and out: the routes are core/http/routes_scorecard.c, `fourscore
 * scorecard run` is core/cli/cmd_script.c. */
#ifndef FS_SCORECARD_H
#define FS_SCORECARD_H
#include <stdbool.h>
#include <stddef.h>
#include <cJSON.h>
#include "auth.h"
#include "db.h"

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

/* Whether s is a date YYYY-MM-DD of the calendar (from 1900). */
bool scorecard_date_valid(const char *s);
/* The store and the score of a row of a result ("" and 0 when absent). */
const char *scorecard_row_store(const cJSON *row);
double scorecard_row_score(const cJSON *row);
/* Whether source is UTF-8 text (stored text must be): 0, or -1 with a 422
 * syntax_error outcome whose details are [{"line","message"}]. */
int scorecard_check_text(const char *source, size_t len, scorecard_outcome *out);

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

#define SCORECARD_MAX_VERSIONS 20
typedef struct scorecard_meta {
    long long id;
    char name[65], title[201], owner[65], updated_at[32];
    int version;                /* the current one */
} scorecard_meta;
/* 1 found (*m filled), 0 none of that name, -1 database error. */
int scorecard_meta_load(db_conn *c, const char *name, scorecard_meta *m, char *err, size_t errlen);
/* {"name","title","owner","updated_at","version"}, or NULL (out of memory). */
cJSON *scorecard_meta_json(const scorecard_meta *m);
/* Whether p may read, change and delete it: its owner (a user, not a
 * token) and admins. */
bool scorecard_may_edit(const principal *p, const scorecard_meta *m);
/* The text of one version (malloc'd, NUL-terminated, *len bytes), or NULL:
 * *found 0 when that version is not kept, 1 with err filled when it could
 * not be read. */
char *scorecard_source_load(db_conn *c, long long id, int version, size_t *len, int *found,
                            char *err, size_t errlen);
/* Every scorecard as [{"name","title","owner","updated_at"}] by name, and
 * the versions kept of one as [{"version","saved_at","saved_by"}] newest
 * first: 0 with *out (NULL when out of memory), or -1 database error. */
int scorecard_list(db_conn *c, cJSON **out, char *err, size_t errlen);
int scorecard_versions(db_conn *c, long long id, cJSON **out, char *err, size_t errlen);
/* Save src as the next version of name (creating it owned by owner when
 * new), saved by who, and audit it: "scorecard.save", or
 * "scorecard.restore" when restored_from > 0 (the version it copies).
 * Keeps the last SCORECARD_MAX_VERSIONS. Returns 0 with *version, 409 when
 * someone else created the name meanwhile, -1 database error. */
int scorecard_save(db_conn *c, const principal *who, const char *name, const char *owner,
                   const char *src, size_t len, int restored_from, int *version, char *err, size_t errlen);
/* Delete m with its versions, audited ("scorecard.delete"): 0, or -1. */
int scorecard_delete(db_conn *c, const principal *who, const scorecard_meta *m, char *err, size_t errlen);
/* The principal of user name for `scorecard run --as`, with its scope as
 * a login loads it (role; a regional manager's regions and their stores; a
 * store manager's store). 1, 0 when there is no such user, -1 on error. */
int scorecard_principal_of_user(db_conn *c, const char *user, principal *p, char *err, size_t errlen);
#endif
