/* settings: the KPI settings a group may change (docs/kpis.md, "Settings a
 * group may change"): the definition parameters with the spec's defaults,
 * and KPI targets. Stored in kpi_settings (schemas/004_settings.sql) only
 * when changed; every change is validated as a whole, audited, and bumps the
 * data generation so every instance's KPI cache drops. Also `fourscore
 * settings` for the shell. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "app.h"
#include "auth.h"
#include "commands.h"
#include "config.h"
#include "kpi.h"
#include "log.h"
#include "plugins.h"

/* --- the parameters of the spec --- */

typedef struct setting_param {
    const char *name;
    double dflt, min, max;
} setting_param;

static const setting_param PARAMS[] = {
    { "retention.lost_after_months", 9, 1, 120 },
    { "retention.at_risk_months", 3, 1, 120 },
    { "retention.warning_months", 6, 1, 120 },
    { "retention.base_months", 24, 1, 240 },
    { "retention.first_service_months", 6, 1, 120 },
    { "receivables.terms_days", 90, 0, 3650 },
    { "receivables.government_terms_days", 180, 0, 3650 },
    { "parts.slow_moving_days", 180, 0, 3650 },
    { "parts.obsolete_days", 365, 0, 3650 },
    { "service.followup_days", 3, 0, 365 },
    { "insurance.renewal_window_days", 30, 0, 3650 },
    { "insurance.new_window_days", 30, 0, 3650 },
};
#define NPARAMS (int)(sizeof PARAMS / sizeof PARAMS[0])

static const setting_param *param_find(const char *name)
{
    for (int i = 0; i < NPARAMS; i++)
        if (strcmp(PARAMS[i].name, name) == 0) return &PARAMS[i];
    return NULL;
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

static kpi_settings *settings_defaults(void)
{
    kpi_settings *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    for (int i = 0; i < NPARAMS; i++)
        if (settings_set(s, PARAMS[i].name, PARAMS[i].dflt) != 0) {
            kpi_settings_free(s);
            return NULL;
        }
    return s;
}

static const char SQL_SETTINGS_LOAD[] = "SELECT name, value FROM kpi_settings ORDER BY name";

int kpi_settings_load(db_conn *c, kpi_settings **out, char *err, size_t errlen)
{
    *out = NULL;
    kpi_settings *s = settings_defaults();
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
    if (s)
        for (int i = 0; i < s->n; i++)
            if (strcmp(s->items[i].name, name) == 0) return s->items[i].value;
    const setting_param *p = param_find(name);
    return p ? p->dflt : dflt;
}

cJSON *kpi_settings_json(const kpi_settings *s)
{
    cJSON *o = cJSON_CreateObject();
    if (!o) return NULL;
    /* the spec's parameters first, in the spec's order, then targets by name */
    for (int i = 0; i < NPARAMS; i++)
        cJSON_AddNumberToObject(o, PARAMS[i].name, kpi_settings_get(s, PARAMS[i].name, PARAMS[i].dflt));
    for (int i = 0; s && i < s->n; i++)
        if (!param_find(s->items[i].name)) cJSON_AddNumberToObject(o, s->items[i].name, s->items[i].value);
    return o;
}

/* --- validation and update --- */

/* Check the relations between the parameters of merged; "" when fine. */
static void settings_check_relations(const kpi_settings *m, char *err, size_t errlen)
{
    static const char *const order[] = { "retention.at_risk_months", "retention.warning_months",
                                         "retention.lost_after_months" };
    for (int i = 0; i + 1 < 3; i++) {
        double a = kpi_settings_get(m, order[i], 0), b = kpi_settings_get(m, order[i + 1], 0);
        if (!(a < b)) {
            snprintf(err, errlen, "%s (%g) must be less than %s (%g)", order[i], a, order[i + 1], b);
            return;
        }
    }
    double lost = kpi_settings_get(m, "retention.lost_after_months", 0);
    double base = kpi_settings_get(m, "retention.base_months", 0);
    if (!(lost <= base)) {
        snprintf(err, errlen, "retention.lost_after_months (%g) must be at most retention.base_months (%g)", lost, base);
        return;
    }
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
    err[0] = '\0';
}

static const char SQL_SETTING_UPSERT[] =
    "INSERT INTO kpi_settings (name, value, updated_at, updated_by) VALUES (?, ?, NOW(), ?)"
    " ON DUPLICATE KEY UPDATE value = VALUES(value), updated_at = VALUES(updated_at), updated_by = VALUES(updated_by)";
static const char SQL_SETTING_DELETE[] = "DELETE FROM kpi_settings WHERE name = ?";

int kpi_settings_update(struct app *a, db_conn *c, const principal *who, const cJSON *changes,
                        int *status, char *err, size_t errlen)
{
    *status = 400;
    if (!cJSON_IsObject(changes) || !changes->child) {
        snprintf(err, errlen, "the body must be a JSON object of settings, e.g. {\"retention.lost_after_months\": 12}");
        return -1;
    }
    /* each change on its own */
    for (const cJSON *ch = changes->child; ch; ch = ch->next) {
        const char *name = ch->string;
        char id[100];
        const setting_param *p = param_find(name);
        if (!p && !(target_name_split(name, id, sizeof id) && kpi_exists(a, id))) {
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
        if (p && (v != floor(v) || v < p->min || v > p->max)) {
            snprintf(err, errlen, "%s: must be a whole number from %g to %g", name, p->min, p->max);
            return -1;
        }
    }
    *status = 503;
    if (db_begin(c, err, errlen) != 0) return -1;
    kpi_settings *merged = NULL;
    if (kpi_settings_load(c, &merged, err, errlen) != 0) goto fail;
    for (const cJSON *ch = changes->child; ch; ch = ch->next) {
        const setting_param *p = param_find(ch->string);
        if (cJSON_IsNull(ch)) {
            if (p) {
                if (settings_set(merged, ch->string, p->dflt) != 0) goto oom;
            } else settings_unset(merged, ch->string);
        } else if (settings_set(merged, ch->string, ch->valuedouble) != 0) goto oom;
    }
    settings_check_relations(merged, err, errlen);
    if (err[0]) {
        *status = 400;
        goto fail;
    }
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
    if (!detail) goto oom;
    int rc = audit_log(c, who, "settings.update", "settings", detail, err, errlen);
    free(detail);
    if (rc != 0 || kpi_invalidate(c, err, errlen) != 0) goto fail;
    kpi_settings_free(merged);
    if (db_commit(c, err, errlen) != 0) {
        db_rollback(c);
        return -1;
    }
    kpi_changed_here();
    return 0;
oom:
    snprintf(err, errlen, "out of memory");
fail:
    kpi_settings_free(merged);
    db_rollback(c);
    return -1;
}

/* --- fourscore settings --- */

int cmd_settings(int argc, char **argv)
{
    app a;
    memset(&a, 0, sizeof a);
    char err[1024];
    if (config_load_env(&a.cfg, err, sizeof err) != 0) {
        fprintf(stderr, "fourscore: %s\n", err);
        return 2;
    }
    const char *pos[3];
    int npos = 0;
    int rc = config_parse(&a.cfg, argc, argv, NULL, 0,
                          "fourscore settings [set NAME VALUE | reset NAME] [options]",
                          "Show the KPI settings in force (definition parameters and changed\n"
                          "targets), change one (set), or put one back to its default (reset).\n"
                          "Targets: <kpi id>.target, or .target_low and .target_high for a band.\n"
                          "Changes are validated, audited as \"cli\" and take effect at once.",
                          pos, 3, &npos);
    if (rc == 1) return 0;
    if (rc != 0) return 2;
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
    if (rc == 0 && kpi_settings_load(c, &s, err, sizeof err) != 0) {
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
