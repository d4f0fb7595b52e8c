/* cmd_engine: the command line of the KPI engine: `fourscore plugins` (the
 * plugins of the plugin directory, their KPIs and settings, or why one was
 * refused) and `fourscore settings` (show, set or reset a KPI setting). */
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
#include "log.h"
#include "plugins.h"
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
    if (app_open(&a, true, err, sizeof err) != 0) {
        cJSON_Delete(changes);
        fprintf(stderr, "fourscore: %s\n", err);
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
