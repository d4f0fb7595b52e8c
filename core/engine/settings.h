/* settings: the KPI settings a group may change (docs/kpis.md, "可调参数 ·
 * Settings"): the definition parameters each plugin registers with
 * its default and range (fourscore/plugin.h, register_setting), the core's
 * own few, and the KPI targets ("<id>.target", "<id>.target_low",
 * "<id>.target_high"). Only changed values are stored (kpi_settings); a
 * change is checked against the definitions, then as a whole (a band's ends,
 * and every plugin's validate callback with the would-be values), stored,
 * audited and bumps the data generation. The definitions come from the
 * plugin registry passed in: this file names no plugin's setting. */
#ifndef FS_SETTINGS_H
#define FS_SETTINGS_H
#include <stdbool.h>
#include <stddef.h>
#include <cJSON.h>
#include "db.h"
#include "fourscore/plugin.h"
#include "settings_core.h"

struct app;
struct principal;
struct plugin_registry;

/* The settings in force: every registered setting (its default unless
 * changed) and the changed targets; defs is the registry they were loaded
 * against (NULL: the core's settings only). */
typedef struct kpi_setting { char name[100]; double value; } kpi_setting;
typedef struct kpi_settings {
    kpi_setting *items;
    int n;
    const struct plugin_registry *defs;
} kpi_settings;

/* The definition of name: the core's or a loaded plugin's of defs; *owner
 * (may be NULL) set to the plugin's name or "core". NULL when none. */
const fsp_setting_def *kpi_setting_def(const struct plugin_registry *defs, const char *name, const char **owner);
/* [{"name","owner","default","min","max","label":{"zh","en"}}]: the plugins'
 * settings in load and registration order, then the core's. */
cJSON *kpi_setting_defs_json(const struct plugin_registry *defs);

int kpi_settings_load(db_conn *c, const struct plugin_registry *defs, kpi_settings **out, char *err, size_t errlen);
void kpi_settings_free(kpi_settings *s);
/* The value of name: set, else its registered default, else dflt. */
double kpi_settings_get(const kpi_settings *s, const char *name, double dflt);
/* kpi_settings_get of a kpi_settings given as a context pointer (a plugin_setting_fn). */
double kpi_settings_lookup(const void *settings, const char *name, double dflt);
bool kpi_settings_has(const kpi_settings *s, const char *name);
/* {"name": value}: the registered settings (in kpi_setting_defs_json's
 * order), then the changed targets by name. */
cJSON *kpi_settings_json(const kpi_settings *s);

/* Apply changes (a JSON object: name -> number, or null for the default) to
 * a copy of current and check the result: each name registered (or a
 * target of a KPI of current->defs), each value a number in its range
 * (whole unless the setting is fractional), a band's low end not above its
 * high end, and every loaded plugin's validate callback. Returns 0 with
 * *merged (kpi_settings_free it), -1 with err naming the setting (a 400),
 * or -2 when out of memory. No database. */
int kpi_settings_apply(const kpi_settings *current, const cJSON *changes, kpi_settings **merged, char *err,
                       size_t errlen);
/* kpi_settings_apply against the settings stored in the database, with the
 * plugins of a (a->plugins; NULL: the core's settings only), then store,
 * audit (who NULL: "cli") and invalidate caches, in one transaction on c.
 * Returns 0, or -1 with *status 400 (err names the setting) or 503. */
int kpi_settings_update(struct app *a, db_conn *c, const struct principal *who, const cJSON *changes,
                        int *status, char *err, size_t errlen);
/* The setting a refusal err of kpi_settings_apply or _update is about: the
 * change it names first (else the first change), or "body" when changes
 * is not an object of settings. */
const char *kpi_settings_error_name(const cJSON *changes, const char *err);
#endif
