/* settings: the KPI settings a group may change (see settings.h): the
 * definitions come from the plugins that read them (register_setting) and
 * from the core's own table below; values are stored in kpi_settings
 * (schemas/004_settings.sql) only when changed; every change is checked
 * against the definitions and as a whole (each plugin's validate callback),
 * audited, and bumps the data generation so every instance's KPI cache
 * drops. The routes over it are core/http/routes_kpi.c (GET/PUT
 * /api/v1/settings); `fourscore settings` is core/cli/cmd_engine.c. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "app.h"
#include "auth.h"
#include "config.h"
#include "log.h"
#include "plugins.h"
#include "settings.h"
#include "settings_core.h"
#include "generation.h"

/* --- the definitions --- */

const fsp_setting_def *kpi_setting_def(const plugin_registry *defs, const char *name, const char **owner)
{
    const fsp_setting_def *d = kpi_setting_core(name);
    if (d) {
        if (owner) *owner = "core";
        return d;
    }
    const plugin_setting *ps = plugins_find_setting(defs, name);
    if (!ps) return NULL;
    if (owner) *owner = defs->plugins[ps->plugin].name;
    return ps->def;
}

/* The i-th definition in listing order (the plugins', then the core's), or NULL past the end. */
static const fsp_setting_def *def_at(const plugin_registry *defs, int i, const char **owner)
{
    int nplugin = defs ? defs->nsettings : 0;
    if (i < nplugin) {
        *owner = defs->plugins[defs->settings[i].plugin].name;
        return defs->settings[i].def;
    }
    *owner = "core";
    return kpi_setting_core_at(i - nplugin);
}

cJSON *kpi_setting_defs_json(const plugin_registry *defs)
{
    cJSON *arr = cJSON_CreateArray();
    const char *owner;
    const fsp_setting_def *d;
    for (int i = 0; arr && (d = def_at(defs, i, &owner)); i++) {
        cJSON *o = cJSON_CreateObject();
        cJSON *label = o ? cJSON_AddObjectToObject(o, "label") : NULL;
        if (!label || !cJSON_AddStringToObject(o, "name", d->name) || !cJSON_AddStringToObject(o, "owner", owner) ||
            !cJSON_AddNumberToObject(o, "default", d->default_value) || !cJSON_AddNumberToObject(o, "min", d->min) ||
            !cJSON_AddNumberToObject(o, "max", d->max) || !cJSON_AddStringToObject(label, "zh", d->name_zh) ||
            !cJSON_AddStringToObject(label, "en", d->name_en)) {
            cJSON_Delete(o);
            cJSON_Delete(arr);
            return NULL;
        }
        cJSON_AddItemToArray(arr, o);
    }
    return arr;
}

/* "<id>.target", "<id>.target_low", "<id>.target_high": the KPI id in id. */
static bool target_name_split(const char *name, char *id, size_t idlen)
{
    static const char *const suffixes[] = { ".target", ".target_low", ".target_high" };
    size_t n = strlen(name);
    for (size_t i = 0; i < sizeof suffixes / sizeof *suffixes; i++) {
        size_t sl = strlen(suffixes[i]);
        if (n > sl && strcmp(name + n - sl, suffixes[i]) == 0 && n - sl < idlen) {
            memcpy(id, name, n - sl);
            id[n - sl] = '\0';
            return true;
        }
    }
    return false;
}

/* --- the settings in force --- */

static int settings_set(kpi_settings *s, const char *name, double value)
{
    for (int i = 0; i < s->n; i++)
        if (strcmp(s->items[i].name, name) == 0) {
            s->items[i].value = value;
            return 0;
        }
    kpi_setting *g = realloc(s->items, (size_t)(s->n + 1) * sizeof *g);
    if (!g) return -1;
    s->items = g;
    snprintf(g[s->n].name, sizeof g[s->n].name, "%s", name);
    g[s->n].value = value;
    s->n++;
    return 0;
}

static void settings_unset(kpi_settings *s, const char *name)
{
    for (int i = 0; i < s->n; i++)
        if (strcmp(s->items[i].name, name) == 0) {
            s->items[i] = s->items[--s->n];
            return;
        }
}

static kpi_settings *settings_defaults(const plugin_registry *defs)
{
    kpi_settings *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    s->defs = defs;
    const char *owner;
    const fsp_setting_def *d;
    for (int i = 0; (d = def_at(defs, i, &owner)); i++)
        if (settings_set(s, d->name, d->default_value) != 0) {
            kpi_settings_free(s);
            return NULL;
        }
    return s;
}

static const char SQL_SETTINGS_LOAD[] = "SELECT name, value FROM kpi_settings ORDER BY name";

int kpi_settings_load(db_conn *c, const plugin_registry *defs, kpi_settings **out, char *err, size_t errlen)
{
    *out = NULL;
    kpi_settings *s = settings_defaults(defs);
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    db_result *res = NULL;
    if (db_query(c, SQL_SETTINGS_LOAD, NULL, 0, &res, err, errlen) != 0) {
        kpi_settings_free(s);
        return -1;
    }
    for (int i = 0; i < res->nrows; i++) {
        bool is_null = false;
        double v = db_cell_double(res, i, 1, &is_null);
        if (!is_null && settings_set(s, db_cell(res, i, 0), v) != 0) {
            db_result_free(res);
            kpi_settings_free(s);
            snprintf(err, errlen, "out of memory");
            return -1;
        }
    }
    db_result_free(res);
    *out = s;
    return 0;
}

void kpi_settings_free(kpi_settings *s)
{
    if (!s) return;
    free(s->items);
    free(s);
}

bool kpi_settings_has(const kpi_settings *s, const char *name)
{
    if (!s) return false;
    for (int i = 0; i < s->n; i++)
        if (strcmp(s->items[i].name, name) == 0) return true;
    return false;
}

double kpi_settings_get(const kpi_settings *s, const char *name, double dflt)
{
    if (!s) return dflt;
    for (int i = 0; i < s->n; i++)
        if (strcmp(s->items[i].name, name) == 0) return s->items[i].value;
    const fsp_setting_def *d = kpi_setting_def(s->defs, name, NULL);
    return d ? d->default_value : dflt;
}

double kpi_settings_lookup(const void *settings, const char *name, double dflt)
{
    return kpi_settings_get(settings, name, dflt);
}

cJSON *kpi_settings_json(const kpi_settings *s)
{
    cJSON *o = cJSON_CreateObject();
    if (!o) return NULL;
    const plugin_registry *defs = s ? s->defs : NULL;
    const char *owner;
    const fsp_setting_def *d;
    for (int i = 0; (d = def_at(defs, i, &owner)); i++)
        cJSON_AddNumberToObject(o, d->name, kpi_settings_get(s, d->name, d->default_value));
    for (int i = 0; s && i < s->n; i++)
        if (!kpi_setting_def(defs, s->items[i].name, NULL)) cJSON_AddNumberToObject(o, s->items[i].name, s->items[i].value);
    return o;
}

/* --- validation and update --- */

/* Each change on its own: a registered setting or a target of a KPI of
 * defs, a number (or null) in the setting's range. 0, or -1 with err. */
static int changes_check(const plugin_registry *defs, const cJSON *changes, char *err, size_t errlen)
{
    if (!cJSON_IsObject(changes) || !changes->child) {
        snprintf(err, errlen, "the body must be a JSON object of settings, e.g. {\"benchmarks.shared\": 0}");
        return -1;
    }
    for (const cJSON *ch = changes->child; ch; ch = ch->next) {
        const char *name = ch->string;
        char id[100];
        const fsp_setting_def *d = kpi_setting_def(defs, name, NULL);
        if (!d && !(target_name_split(name, id, sizeof id) && plugins_find_kpi(defs, id))) {
            snprintf(err, errlen, "%.100s: unknown setting (the parameters of the KPI catalogue, or <kpi id>.target, "
                     ".target_low, .target_high)", name);
            return -1;
        }
        if (cJSON_IsNull(ch)) continue;
        if (!cJSON_IsNumber(ch) || !isfinite(ch->valuedouble)) {
            snprintf(err, errlen, "%.100s: must be a number (or null for the default)", name);
            return -1;
        }
        double v = ch->valuedouble;
        if (d && ((!d->fractional && v != floor(v)) || v < d->min || v > d->max)) {
            snprintf(err, errlen, "%s: must be a %s from %g to %g", name, d->fractional ? "number" : "whole number",
                     d->min, d->max);
            return -1;
        }
    }
    return 0;
}

/* The core's rule over the settings together: a band's low end not above
 * its high end. "" when fine. */
static void targets_check(const kpi_settings *m, char *err, size_t errlen)
{
    err[0] = '\0';
    for (int i = 0; i < m->n; i++) {
        char id[100];
        const char *name = m->items[i].name;
        size_t n = strlen(name);
        if (!target_name_split(name, id, sizeof id) || n < 11 || strcmp(name + n - 11, ".target_low") != 0) continue;
        char high[120];
        snprintf(high, sizeof high, "%s.target_high", id);
        if (kpi_settings_has(m, high) && kpi_settings_get(m, high, 0) < m->items[i].value) {
            snprintf(err, errlen, "%s (%g) must not exceed %s (%g)", name, m->items[i].value, high,
                     kpi_settings_get(m, high, 0));
            return;
        }
    }
}

/* Every loaded plugin's check of the would-be settings m. "" when all accept. */
static void plugins_check(const kpi_settings *m, char *err, size_t errlen)
{
    err[0] = '\0';
    const plugin_registry *defs = m->defs;
    const fsp_setting_values values = { kpi_settings_lookup, m };
    for (int i = 0; defs && i < defs->nplugins; i++) {
        const loaded_plugin *lp = &defs->plugins[i];
        if (!lp->loaded || !lp->validate) continue;
        char msg[400] = "";
        if (lp->validate(&values, msg, sizeof msg) != 0) {
            msg[sizeof msg - 1] = '\0';
            if (msg[0]) snprintf(err, errlen, "%s", msg);
            else snprintf(err, errlen, "plugin %s refused the settings (without saying why)", lp->name);
            return;
        }
    }
}

int kpi_settings_apply(const kpi_settings *current, const cJSON *changes, kpi_settings **merged, char *err,
                       size_t errlen)
{
    *merged = NULL;
    const plugin_registry *defs = current ? current->defs : NULL;
    if (changes_check(defs, changes, err, errlen) != 0) return -1;
    kpi_settings *m = calloc(1, sizeof *m);
    if (!m) goto oom;
    m->defs = defs;
    for (int i = 0; current && i < current->n; i++)
        if (settings_set(m, current->items[i].name, current->items[i].value) != 0) goto oom;
    for (const cJSON *ch = changes->child; ch; ch = ch->next) {
        const fsp_setting_def *d = kpi_setting_def(defs, ch->string, NULL);
        if (cJSON_IsNull(ch)) {
            if (d) {
                if (settings_set(m, ch->string, d->default_value) != 0) goto oom;
            } else settings_unset(m, ch->string);
        } else if (settings_set(m, ch->string, ch->valuedouble) != 0) goto oom;
    }
    targets_check(m, err, errlen);
    if (!err[0]) plugins_check(m, err, errlen);
    if (err[0]) {
        kpi_settings_free(m);
        return -1;
    }
    *merged = m;
    return 0;
oom:
    kpi_settings_free(m);
    snprintf(err, errlen, "out of memory");
    return -2;
}

static const char SQL_SETTING_UPSERT[] =
    "INSERT INTO kpi_settings (name, value, updated_at, updated_by) VALUES (?, ?, NOW(), ?)"
    " ON DUPLICATE KEY UPDATE value = VALUES(value), updated_at = VALUES(updated_at), updated_by = VALUES(updated_by)";
static const char SQL_SETTING_DELETE[] = "DELETE FROM kpi_settings WHERE name = ?";

int kpi_settings_update(struct app *a, db_conn *c, const principal *who, const cJSON *changes,
                        int *status, char *err, size_t errlen)
{
    *status = 400;
    const plugin_registry *defs = a ? a->plugins : NULL;
    if (changes_check(defs, changes, err, errlen) != 0) return -1;   /* before touching the database */
    *status = 503;
    if (db_begin(c, err, errlen) != 0) return -1;
    kpi_settings *current = NULL, *merged = NULL;
    if (kpi_settings_load(c, defs, &current, err, errlen) != 0) goto fail;
    int rc = kpi_settings_apply(current, changes, &merged, err, errlen);
    kpi_settings_free(current);
    if (rc != 0) {
        if (rc == -1) *status = 400;
        goto fail;
    }
    kpi_settings_free(merged);
    const char *by = who ? who->name : "cli";
    for (const cJSON *ch = changes->child; ch; ch = ch->next) {
        if (cJSON_IsNull(ch)) {
            db_val pd[1] = { DB_STR(ch->string) };
            if (db_exec(c, SQL_SETTING_DELETE, pd, 1, NULL, err, errlen) != 0) goto fail;
        } else {
            db_val pu[3] = { DB_STR(ch->string), DB_DBL(ch->valuedouble), DB_STR(by) };
            if (db_exec(c, SQL_SETTING_UPSERT, pu, 3, NULL, err, errlen) != 0) goto fail;
        }
    }
    char *detail = cJSON_PrintUnformatted(changes);
    if (!detail) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    rc = audit_log(c, who, "settings.update", "settings", detail, err, errlen);
    free(detail);
    if (rc != 0 || data_generation_bump(c, err, errlen) != 0) goto fail;
    if (db_commit(c, err, errlen) != 0) {
        db_rollback(c);
        return -1;
    }
    data_changed_here();
    return 0;
fail:
    db_rollback(c);
    return -1;
}

const char *kpi_settings_error_name(const cJSON *changes, const char *err)
{
    const char *best = NULL, *at = NULL;
    for (const cJSON *ch = cJSON_IsObject(changes) ? changes->child : NULL; ch && err; ch = ch->next) {
        const char *p = ch->string ? strstr(err, ch->string) : NULL;
        /* the first named; of two named at the same place ("x.target" and
         * "x.target_low"), the longer */
        if (p && (!at || p < at || (p == at && strlen(ch->string) > strlen(best)))) {
            best = ch->string;
            at = p;
        }
    }
    if (best) return best;
    return cJSON_IsObject(changes) && changes->child && changes->child->string ? changes->child->string : "body";
}
