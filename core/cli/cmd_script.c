/* cmd_script: the command line of core/script/: `fourscore scorecard run
 * FILE.lua` runs a Lua scorecard from the shell with the budgets and the
 * scope the API would use (every store, or --as USER's) and prints its
 * ranked table or the API's JSON (docs/scorecards.md). Exit codes: 0 ok,
 * 1 the run or the database failed, 2 bad usage. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cJSON.h>
#include "app.h"
#include "auth.h"
#include "cli.h"
#include "commands.h"
#include "config.h"
#include "scorecard.h"

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

/* The name of store code in stores (stores_json's answer), or "". */
static const char *store_name(const cJSON *stores, const char *code)
{
    const cJSON *s;
    cJSON_ArrayForEach(s, stores) {
        const cJSON *c = cJSON_GetObjectItemCaseSensitive(s, "code");
        if (cJSON_IsString(c) && strcmp(c->valuestring, code) == 0) {
            const cJSON *n = cJSON_GetObjectItemCaseSensitive(s, "name");
            return cJSON_IsString(n) ? n->valuestring : "";
        }
    }
    return "";
}

/* Print the ranked rows as a table: rank, store, name, score, grade. */
static void print_table(FILE *out, const cJSON *result, const cJSON *stores)
{
    fprintf(out, "%-5s %-12s %-10s %-6s %s\n", "名次", "门店/store", "得分/score", "等级", "名称/name");
    const cJSON *row;
    cJSON_ArrayForEach(row, cJSON_GetObjectItemCaseSensitive(result, "rows")) {
        const char *store = scorecard_row_store(row);
        const cJSON *grade = cJSON_GetObjectItemCaseSensitive(row, "grade");
        const cJSON *rank = cJSON_GetObjectItemCaseSensitive(row, "rank");
        fprintf(out, "%-5d %-12s %10.2f %-6s %s\n",
                cJSON_IsNumber(rank) ? (int)rank->valuedouble : 0, store, scorecard_row_score(row),
                cJSON_IsString(grade) ? grade->valuestring : "-", store_name(stores, store));
    }
    const cJSON *line;
    cJSON_ArrayForEach(line, cJSON_GetObjectItemCaseSensitive(result, "log"))
        fprintf(out, "log: %s\n", cJSON_IsString(line) ? line->valuestring : "");
}

/* The outcome of a run on the terminal: the answer on stdout (a table or
 * JSON), a summary or the error on stderr. Returns the exit code. */
static int print_outcome(const scorecard_outcome *o, const cJSON *stores, bool json)
{
    if (o->status == 200) {
        if (json) {
            char *text = cJSON_PrintUnformatted(o->result);
            if (text) puts(text);
            free(text);
        } else print_table(stdout, o->result, stores);
        fprintf(stderr, "%d rows, %.1f ms, %lld KPI lookups (%.1f ms in lookups), %.2f ms CPU beyond the lookups\n",
                cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(o->result, "rows")),
                cJSON_GetObjectItemCaseSensitive(o->result, "elapsed_ms")->valuedouble, o->kpi_lookups, o->kpi_ms,
                o->own_cpu_ms);
        return 0;
    }
    fprintf(stderr, "fourscore scorecard run: %s (%s)\n", o->message, o->code);
    const cJSON *d;
    cJSON_ArrayForEach(d, o->details) {
        const cJSON *line = cJSON_GetObjectItemCaseSensitive(d, "line");
        const cJSON *row = cJSON_GetObjectItemCaseSensitive(d, "row");
        if (cJSON_IsNumber(line)) fprintf(stderr, "  line %d\n", (int)line->valuedouble);
        if (cJSON_IsNumber(row)) fprintf(stderr, "  row %d\n", (int)row->valuedouble);
    }
    return 1;
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
    if (argc < 2 || strcmp(argv[1], "run") != 0) {
        bool help = argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0);
        fprintf(help ? stdout : stderr, "usage: %s\n\n%s\n", usage, description);
        if (!help) fprintf(stderr, "\nfourscore scorecard: expected the subcommand \"run\"\n");
        return help ? 0 : 2;
    }
    app a;
    char err[1024];
    const char *pos[2];
    int npos = 0;
    int rc = cli_open(&a, argc - 1, argv + 1, opts, 4, usage, description, pos, 2, &npos);
    if (rc != 0) return rc < 0 ? 0 : rc;
    const char *from = opts[0].value, *to = opts[1].value, *as = opts[2].value, *format = opts[3].value;
    if (npos != 1) { fprintf(stderr, "fourscore scorecard run: expected one FILE.lua (see --help)\n"); return 2; }
    if (!from || !scorecard_date_valid(from)) { fprintf(stderr, "fourscore scorecard run: --from: expected a date YYYY-MM-DD\n"); return 2; }
    if (!to || !scorecard_date_valid(to)) { fprintf(stderr, "fourscore scorecard run: --to: expected a date YYYY-MM-DD\n"); return 2; }
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

    db_conn *c;
    if (cli_connect(&a, &c) != 0) { free(src); return 1; }
    principal who;
    cJSON *stores = NULL;
    int found = 1;
    if (as) found = scorecard_principal_of_user(c, as, &who, err, sizeof err);
    else principal_cli(&who);
    if (found > 0) stores = stores_json(c, &who, err, sizeof err);   /* the names of the table; none when it fails */
    /* the run takes its own connections (a pool may hold only one) */
    db_release(a.db, c);
    if (found <= 0) {
        if (found == 0) fprintf(stderr, "fourscore scorecard run: --as: no user named \"%s\"\n", as);
        else fprintf(stderr, "fourscore: %s\n", err);
        free(src);
        cli_close(&a, NULL);
        return 1;
    }
    fprintf(stderr, "正在运行 / running %s for %s..%s as %s ...\n", name, from, to, who.name);
    scorecard_outcome o;
    scorecard_run(&a, &who, name, src, len, from, to, &lim, &o);
    free(src);
    rc = print_outcome(&o, stores, format && strcmp(format, "json") == 0);
    scorecard_outcome_free(&o);
    cJSON_Delete(stores);
    principal_free(&who);
    cli_close(&a, NULL);
    return rc;
}
