/* cmd_engine: the command line of the KPI engine: `fourscore plugins` (the
 * plugins of the plugin directory, their KPIs and settings, or why one was
 * refused), `fourscore settings` (show, set or reset a KPI setting) and
 * `fourscore kpi` (KPIs from the shell: the same numbers as the API). */
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cJSON.h>
#include "app.h"
#include "cli.h"
#include "commands.h"
#include "config.h"
#include "kpi.h"
#include "auth.h"
#include "log.h"
#include "plugins.h"
#include "routes_kpi.h"
#include "settings.h"

int cmd_plugins(int argc, char **argv)
{
    app a;
    char err[1024];
    const char *pos[1];
    int npos = 0;
    int rc = cli_open(&a, argc, argv, NULL, 0, "fourscore plugins [--plugin-dir DIR]",
                          "List the KPI plugins of the plugin directory and the KPIs each provides.\n"
                          "A plugin that cannot be loaded is shown with the reason.",
                          pos, 0, &npos);
    if (rc != 0) return rc < 0 ? 0 : rc;
    log_set_level(LOG_QUIET);      /* stdout is the answer: no log lines in it */
    plugin_registry *reg;
    if (plugins_load_dir(a.cfg.plugin_dir, &reg, err, sizeof err) != 0) {
        fprintf(stderr, "fourscore plugins: %s\n", err);
        return 1;
    }
    int refused = 0;
    printf("plugin directory: %s\n", a.cfg.plugin_dir);
    for (int i = 0; i < reg->nplugins; i++) {
        const loaded_plugin *lp = &reg->plugins[i];
        if (!lp->loaded) {
            refused++;
            printf("\n%s  REFUSED: %s\n", lp->file, lp->reason);
            continue;
        }
        printf("\n%s %s  (%s)  %d KPIs, %d settings%s%s\n", lp->name, lp->version, lp->file, lp->nkpis,
               lp->nsettings, lp->description[0] ? "  " : "", lp->description);
        for (int k = 0; k < reg->nkpis; k++) {
            if (reg->kpis[k].plugin != i) continue;
            const fsp_kpi_def *d = reg->kpis[k].def;
            printf("  %-32s %-8s %-7s %s / %s\n", d->id, d->unit, plugin_direction_name(d->direction),
                   d->name_zh, d->name_en);
        }
        for (int k = 0; k < reg->nsettings; k++) {
            if (reg->settings[k].plugin != i) continue;
            const fsp_setting_def *d = reg->settings[k].def;
            char range[64];
            snprintf(range, sizeof range, "%g [%g, %g]", d->default_value, d->min, d->max);
            printf("  setting %-32s %-16s %-6s %s / %s\n", d->name, range, d->unit ? d->unit : "", d->name_zh,
                   d->name_en);
        }
    }
    printf("\n%d loaded, %d refused, %d KPIs\n", reg->nplugins - refused, refused, reg->nkpis);
    plugins_free(reg);
    return 0;
}

int cmd_settings(int argc, char **argv)
{
    app a;
    char err[1024];
    const char *pos[3];
    int npos = 0;
    int rc = cli_open(&a, argc, argv, NULL, 0,
                          "fourscore settings [set NAME VALUE | reset NAME] [options]",
                          "Show the KPI settings in force (definition parameters and changed\n"
                          "targets), change one (set), or put one back to its default (reset).\n"
                          "Targets: <kpi id>.target, or .target_low and .target_high for a band.\n"
                          "Changes are validated, audited as \"cli\" and take effect at once.",
                          pos, 3, &npos);
    if (rc != 0) return rc < 0 ? 0 : rc;
    cJSON *changes = NULL;
    if (npos > 0) {
        bool set = strcmp(pos[0], "set") == 0 && npos == 3, reset = strcmp(pos[0], "reset") == 0 && npos == 2;
        if (!set && !reset) {
            fprintf(stderr, "fourscore settings: expected 'set NAME VALUE' or 'reset NAME' (see --help)\n");
            return 2;
        }
        char *end;
        double v = set ? strtod(pos[2], &end) : 0;
        if (set && (*end || end == pos[2])) {
            fprintf(stderr, "fourscore settings: VALUE '%s' is not a number\n", pos[2]);
            return 2;
        }
        changes = cJSON_CreateObject();
        if (!changes || !(set ? cJSON_AddNumberToObject(changes, pos[1], v) : cJSON_AddNullToObject(changes, pos[1]))) {
            cJSON_Delete(changes);
            fprintf(stderr, "fourscore settings: out of memory\n");
            return 1;
        }
    }
    log_set_level(LOG_QUIET);      /* stdout is the answer: no log lines in it */
    if (cli_app_open(&a, NULL) != 0) {
        cJSON_Delete(changes);
        return 1;
    }
    rc = 0;
    /* the plugins define the settings they read */
    if (kpi_open(&a, err, sizeof err) != 0) {
        fprintf(stderr, "fourscore settings: %s\n", err);
        rc = 1;
        goto done;
    }
    db_conn *c = db_acquire(a.db, 5000, err, sizeof err);
    if (!c) {
        fprintf(stderr, "fourscore: %s\n", err);
        rc = 1;
        goto done;
    }
    int status;
    if (changes && kpi_settings_update(&a, c, NULL, changes, &status, err, sizeof err) != 0) {
        fprintf(stderr, "fourscore settings: %s\n", err);
        rc = status == 400 ? 2 : 1;
    }
    kpi_settings *s = NULL;
    if (rc == 0 && kpi_settings_load(c, a.plugins, &s, err, sizeof err) != 0) {
        fprintf(stderr, "fourscore settings: %s\n", err);
        rc = 1;
    }
    if (s) {
        cJSON *o = kpi_settings_json(s);
        for (const cJSON *it = o ? o->child : NULL; it; it = it->next) printf("%-40s %g\n", it->string, it->valuedouble);
        cJSON_Delete(o);
        kpi_settings_free(s);
    }
    db_release(a.db, c);
done:
    cJSON_Delete(changes);
    kpi_close(&a);
    app_close(&a);
    return rc;
}

/* --- fourscore kpi --- */

static void print_value(FILE *f, double v, bool is_null, const char *null_text)
{
    if (is_null || !isfinite(v)) fputs(null_text, f);
    else fprintf(f, "%.10g", v);
}

/* CSV field: quoted when it holds a comma, quote or line end. */
static void print_csv_field(FILE *f, const char *s)
{
    if (!strpbrk(s, ",\"\r\n")) { fputs(s, f); return; }
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"') fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

int cmd_kpi(int argc, char **argv)
{
    opt opts[] = {
        { "--from", OPT_STR, "YYYY-MM-DD", "first day of the period (required)", 0, 0, {0}, 0 },
        { "--to", OPT_STR, "YYYY-MM-DD", "last day of the period (required)", 0, 0, {0}, 0 },
        { "--by", OPT_STR, "BY", "group (default), region, store, month or insurer", 0, 0, {0}, 0 },
        { "--stores", OPT_STR, "S1,S2", "only these stores", 0, 0, {0}, 0 },
        { "--regions", OPT_STR, "R1,R2", "only the stores of these regions", 0, 0, {0}, 0 },
        { "--format", OPT_STR, "FORMAT", "table (default), csv or json", 0, 0, {0}, 0 },
    };
    app a;
    char err[1024];
    const char *pos[1];
    int npos = 0;
    int rc = cli_open(&a, argc, argv, opts, 6, "fourscore kpi IDS --from D --to D [--by BY] [--format F]",
                      "Compute KPIs from the shell (IDS: comma-separated KPI ids, e.g.\n"
                      "service.ro_count,labour.share). The same numbers as the API, over every\n"
                      "store (or --stores / --regions).", pos, 1, &npos);
    if (rc != 0) return rc < 0 ? 0 : rc;
    const char *format = opts[5].set ? opts[5].value : "table";
    if (npos != 1) { fprintf(stderr, "fourscore kpi: IDS is required (see --help)\n"); return 2; }
    if (!opts[0].set) { fprintf(stderr, "fourscore kpi: --from is required\n"); return 2; }
    if (!opts[1].set) { fprintf(stderr, "fourscore kpi: --to is required\n"); return 2; }
    if (strcmp(format, "table") && strcmp(format, "csv") && strcmp(format, "json")) {
        fprintf(stderr, "fourscore kpi: --format must be table, csv or json\n");
        return 2;
    }
    if (strlen(opts[0].value) != 10 || strlen(opts[1].value) != 10) {
        fprintf(stderr, "fourscore kpi: --%s is not a date YYYY-MM-DD\n", strlen(opts[0].value) != 10 ? "from" : "to");
        return 2;
    }
    char idbuf[8192], stbuf[8192], rgbuf[4096];
    const char *ids[KPI_MAX_IDS], *stores[KPI_MAX_STORES], *regions[KPI_MAX_REGIONS];
    int nids = kpi_split_list(pos[0], idbuf, sizeof idbuf, ids, KPI_MAX_IDS);
    int nstores = kpi_split_list(opts[3].value, stbuf, sizeof stbuf, stores, KPI_MAX_STORES);
    int nregions = kpi_split_list(opts[4].value, rgbuf, sizeof rgbuf, regions, KPI_MAX_REGIONS);
    if (nids < 0 || nstores < 0 || nregions < 0) {
        fprintf(stderr, "fourscore kpi: %s: at most %d values\n", nids < 0 ? "IDS" : nstores < 0 ? "--stores" : "--regions",
                nids < 0 ? KPI_MAX_IDS : nstores < 0 ? KPI_MAX_STORES : KPI_MAX_REGIONS);
        return 2;
    }

    log_set_level(LOG_QUIET);      /* stdout is the answer: no log lines in it */
    if (cli_app_open(&a, NULL) != 0) return 1;
    principal cli = { .role = ROLE_ADMIN, .all_stores = true };
    snprintf(cli.name, sizeof cli.name, "cli");
    store_set set = { 0 };
    kpi_answer *ans = NULL;
    db_pool *from = NULL;
    rc = 1;
    db_conn *c = app_acquire_read(&a, &from, err, sizeof err);
    if (!c) {
        fprintf(stderr, "fourscore kpi: %s\n", err);
        goto done;
    }
    char bad[200];
    int src = scope_resolve(c, &cli, stores, nstores, regions, nregions, &set, bad, sizeof bad);
    db_release(from, c);
    if (src != 0) {
        fprintf(stderr, "fourscore kpi: %s\n", src == SCOPE_DB_ERROR ? bad : "unknown store or region");
        if (src != SCOPE_DB_ERROR) fprintf(stderr, "  (%s)\n", bad);
        rc = src == SCOPE_DB_ERROR ? 1 : 2;
        goto done;
    }
    kpi_request req = { .ids = ids, .nids = nids, .by = opts[2].set ? opts[2].value : "group", .stores = &set };
    memcpy(req.from, opts[0].value, 11);
    memcpy(req.to, opts[1].value, 11);
    int status;
    if (kpi_query(&a, &req, &ans, &status, err, sizeof err) != 0) {
        fprintf(stderr, "fourscore kpi: %s\n", err);
        rc = status == 400 ? 2 : 1;
        goto done;
    }
    if (!strcmp(format, "json")) {
        /* the server's own text of the answer, laid out for a person to read */
        char *compact = kpi_answer_text(&req, ans, NULL);
        cJSON *j = compact ? cJSON_Parse(compact) : NULL;
        char *text = j ? cJSON_Print(j) : NULL;
        if (text) printf("%s\n", text);
        free(text);
        cJSON_Delete(j);
        free(compact);
    } else if (!strcmp(format, "csv")) {
        printf("key,label");
        for (int k = 0; k < nids; k++) { putchar(','); print_csv_field(stdout, ids[k]); }
        putchar('\n');
        for (int i = 0; i < ans->nrows; i++) {
            print_csv_field(stdout, ans->rows[i].key);
            putchar(',');
            print_csv_field(stdout, ans->rows[i].label);
            for (int k = 0; k < nids; k++) { putchar(','); print_value(stdout, ans->rows[i].values[k], ans->rows[i].is_null[k], ""); }
            putchar('\n');
        }
    } else {
        printf("%-12s", req.by);
        for (int k = 0; k < nids; k++) printf(" %22s", ids[k]);
        putchar('\n');
        for (int i = 0; i < ans->nrows; i++) {
            printf("%-12s", ans->rows[i].key);
            for (int k = 0; k < nids; k++) {
                char v[64];
                if (ans->rows[i].is_null[k] || !isfinite(ans->rows[i].values[k])) snprintf(v, sizeof v, "null");
                else snprintf(v, sizeof v, "%.6g", ans->rows[i].values[k]);
                printf(" %22s", v);
            }
            printf("  %s\n", ans->rows[i].label);
        }
    }
    rc = 0;
done:
    kpi_answer_free(ans);
    store_set_free(&set);
    kpi_close(&a);
    app_close(&a);
    return rc;
}
