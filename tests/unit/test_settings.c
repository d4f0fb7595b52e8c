/* test_settings: the KPI settings (core/engine/settings.c) and the settings part
 * of the plugin ABI (register_setting, register_validate, setting_value).
 *
 * The plugin directory holds the shipped plugins of the build, the
 * out-of-tree example (docs/example-plugin/), four plugins built against the
 * frozen headers of ABI 1.0, 1.1, 1.3 and 1.4 (tests/plugins/old_abi.c,
 * without settings; the 1.4 one with a list without page keys), and
 * variants of tests/plugins/broken.c that register a setting
 * wrongly. Checked: each setting's range and owner come from the plugin that
 * reads it (where the core's old table disagreed, the plugin's range: e.g.
 * receivables.terms_days to 36500, retention months from 0 to 1200,
 * service.followup_days to 3650); the core alone knows only its own
 * benchmarks.shared; retention's validate callback refuses at_risk >=
 * warning and lost > base with the would-be values; unknown names and bad
 * values are refused naming the setting; bad registrations refuse the plugin
 * with the reason; and, on a private MariaDB, the old-ABI plugins load and
 * compute with the value in force of a setting another plugin owns. The
 * expected ranges are those of the plugin sources, written out here. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "app.h"
#include "check.h"
#include "kpi.h"
#include "plugins.h"
#include "settings.h"
#include "testdb.h"

static char plugin_dir[PATH_MAX];

static const char *const SHIPPED[] = { "csi", "insurance", "labour", "parts", "receivables", "retention", "service" };
#define NSHIPPED (int)(sizeof SHIPPED / sizeof SHIPPED[0])

static const struct broken_setting {
    const char *define, *file, *reason;
} BROKEN[] = {
    { "BROKEN_SETTING_RANGE", "zz_setting_range.so", "setting broken.days: the default 9 is not within min 0 and max 5" },
    { "BROKEN_SETTING_FRACTION", "zz_setting_fraction.so", "setting broken.days: a whole-number setting needs" },
    { "BROKEN_SETTING_OWNED", "zz_setting_owned.so",
      "setting service.followup_days is already registered by plugin service" },
    { "BROKEN_SETTING_CORE", "zz_setting_core.so", "setting benchmarks.shared is the server's own" },
    { "BROKEN_SETTING_THEN_FAIL", "zz_setting_then_fail.so", "init failed (returned 1)" },
    { "BROKEN_VALIDATE_TWICE", "zz_validate_twice.so", "register_validate called twice" },
};
#define NBROKEN (int)(sizeof BROKEN / sizeof BROKEN[0])

/* --- the plugin directory --- */

static int build(const char *include_dir, const char *define, const char *src, const char *out_name)
{
    char cmd[4 * PATH_MAX];
    snprintf(cmd, sizeof cmd, "cc -std=c11 -Wall -Wextra -Werror -shared -fPIC -I %s/%s %s%s -o %s/%s %s/%s",
             FOURSCORE_SOURCE_DIR, include_dir, define ? "-D" : "", define ? define : "", plugin_dir, out_name,
             FOURSCORE_SOURCE_DIR, src);
    int rc = system(cmd);
    if (rc != 0) printf("# build failed: %s\n", cmd);
    return rc;
}

static int make_plugin_dir(void)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(plugin_dir, sizeof plugin_dir, "%s/fourscore-settings-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(plugin_dir)) {
        perror("mkdtemp");
        return -1;
    }
    int rc = 0;
    for (int i = 0; i < NSHIPPED; i++) {
        char from[PATH_MAX], to[PATH_MAX];
        snprintf(from, sizeof from, "%s/%s.so", FOURSCORE_PLUGIN_BUILD_DIR, SHIPPED[i]);
        snprintf(to, sizeof to, "%s/%s.so", plugin_dir, SHIPPED[i]);
        if (symlink(from, to) != 0) {
            printf("# symlink %s: %s\n", from, strerror(errno));
            rc = -1;
        }
    }
    rc |= build("core/include", NULL, "docs/example-plugin/example.c", "example.so");
    rc |= build("tests/plugins/abi-1.0", NULL, "tests/plugins/old_abi.c", "old_abi_1_0.so");
    rc |= build("tests/plugins/abi-1.1", NULL, "tests/plugins/old_abi.c", "old_abi_1_1.so");
    rc |= build("tests/plugins/abi-1.3", NULL, "tests/plugins/old_abi.c", "old_abi_1_3.so");
    rc |= build("tests/plugins/abi-1.4", NULL, "tests/plugins/old_abi.c", "old_abi_1_4.so");
    for (int i = 0; i < NBROKEN; i++) rc |= build("core/include", BROKEN[i].define, "tests/plugins/broken.c", BROKEN[i].file);
    return rc;
}

static const loaded_plugin *find_file(const plugin_registry *reg, const char *file)
{
    for (int i = 0; i < reg->nplugins; i++) {
        const char *base = strrchr(reg->plugins[i].file, '/');
        if (base && strcmp(base + 1, file) == 0) return &reg->plugins[i];
    }
    return NULL;
}

/* --- loading --- */

static void test_loading(const plugin_registry *reg)
{
    CHECK_INT(reg->nplugins, NSHIPPED + 5 + NBROKEN, "every .so is listed");
    for (int i = 0; i < NSHIPPED; i++) {
        char file[64];
        snprintf(file, sizeof file, "%s.so", SHIPPED[i]);
        const loaded_plugin *lp = find_file(reg, file);
        CHECK(lp && lp->loaded, "the shipped plugin %s loads (%s)", SHIPPED[i], lp ? lp->reason : "missing");
    }
    static const struct { const char *file; unsigned minor; } OLD[] = {
        { "old_abi_1_0.so", 0 }, { "old_abi_1_1.so", 1 }, { "old_abi_1_3.so", 3 }, { "old_abi_1_4.so", 4 } };
    for (int i = 0; i < 4; i++) {
        const loaded_plugin *lp = find_file(reg, OLD[i].file);
        CHECK(lp && lp->loaded, "%s, built against the frozen ABI 1.%u header, loads (%s)", OLD[i].file, OLD[i].minor,
              lp ? lp->reason : "missing");
        CHECK(lp && lp->desc && lp->desc->abi_minor == OLD[i].minor && lp->nkpis == 1 && lp->nsettings == 0 &&
              !lp->validate && lp->nlists == (OLD[i].minor >= 4), "%s declares ABI 1.%u and registers its KPI, no "
              "setting and %s", OLD[i].file, OLD[i].minor, OLD[i].minor >= 4 ? "its list" : "no list");
    }
    const plugin_list *old_list = plugins_find_list(reg, "old_abi_1_4.stores");
    CHECK(old_list && old_list->def->struct_size == FSP_LIST_DEF_SIZE_1_4 && !plugins_list_keys_sql(old_list->def) &&
              plugins_list_key(old_list->def, "store") == -1,
          "a list definition of ABI 1.4 (ending before the page keys) is taken, with no page keys read past its end");
    const plugin_list *at_risk = plugins_find_list(reg, "retention.at_risk");
    CHECK(at_risk && plugins_list_keys_sql(at_risk->def) && plugins_list_key(at_risk->def, "vin") == 1,
          "the shipped retention.at_risk pages by its keys, vin the row key");
    CHECK(plugins_find_kpi(reg, "old_abi_1_0.followup_days") && plugins_find_kpi(reg, "old_abi_1_1.followup_days"),
          "the old plugins' KPIs are registered");
    const plugin_kpi *old10 = plugins_find_kpi(reg, "old_abi_1_0.followup_days");
    const plugin_kpi *old11 = plugins_find_kpi(reg, "old_abi_1_1.followup_days");
    CHECK(old10 && !old10->budget && old11 && !old11->budget,
          "a KPI definition of before ABI 1.3 (no budget field) takes no targets");
    const plugin_kpi *ros = plugins_find_kpi(reg, "service.ro_count"), *per_ro = plugins_find_kpi(reg, "service.revenue_per_ro");
    CHECK(ros && ros->budget && per_ro && !per_ro->budget,
          "the shipped service.ro_count takes targets, service.revenue_per_ro does not");
    for (int i = 0; i < NBROKEN; i++) {
        const loaded_plugin *lp = find_file(reg, BROKEN[i].file);
        CHECK(lp && !lp->loaded && strstr(lp->reason, BROKEN[i].reason), "%s is refused naming why: %s",
              BROKEN[i].define, lp ? lp->reason : "(missing)");
    }
    CHECK(!plugins_find_setting(reg, "broken.kept_days") && !plugins_find_setting(reg, "broken.days"),
          "a refused plugin's settings are dropped with it");
    const char *owner = NULL;
    const fsp_setting_def *d = kpi_setting_def(reg, "service.followup_days", &owner);
    CHECK(d && d->max == 3650 && owner && strcmp(owner, "service") == 0,
          "a plugin that tried to take service.followup_days did not change it");
    const loaded_plugin *ex = find_file(reg, "example.so");
    CHECK(ex && ex->loaded && ex->nsettings == 1, "the out-of-tree example registers its setting");
}

/* --- the definitions --- */

static const struct expected_def {
    const char *name, *owner;
    double dflt, min, max;
} EXPECTED[] = {
    { "insurance.renewal_window_days", "insurance", 30, 0, 3650 },
    { "insurance.new_window_days", "insurance", 30, 0, 3650 },
    { "parts.slow_moving_days", "parts", 180, 0, 36500 },
    { "parts.obsolete_days", "parts", 365, 0, 36500 },
    { "receivables.terms_days", "receivables", 90, 0, 36500 },
    { "receivables.government_terms_days", "receivables", 180, 0, 36500 },
    { "retention.lost_after_months", "retention", 9, 0, 1200 },
    { "retention.at_risk_months", "retention", 3, 0, 1200 },
    { "retention.warning_months", "retention", 6, 0, 1200 },
    { "retention.base_months", "retention", 24, 1, 1200 },
    { "retention.first_service_months", "retention", 6, 0, 1200 },
    { "service.followup_days", "service", 3, 0, 3650 },
    { "retention.maintenance_interval_months", "retention", 6, 1, 1200 },
    { "retention.maintenance_notice_days", "retention", 30, 0, 3650 },
    { "insurance.renewal_notice_days", "insurance", 60, 0, 3650 },
    { "benchmarks.shared", "core", 1, 0, 1 },
    { "example.open_days_per_week", "example", 7, 1, 7 },
};
#define NEXPECTED (int)(sizeof EXPECTED / sizeof EXPECTED[0])

static const cJSON *def_named(const cJSON *defs, const char *name)
{
    for (const cJSON *d = defs ? defs->child : NULL; d; d = d->next) {
        const cJSON *n = cJSON_GetObjectItemCaseSensitive(d, "name");
        if (cJSON_IsString(n) && strcmp(n->valuestring, name) == 0) return d;
    }
    return NULL;
}

static double num(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

static void test_definitions(const plugin_registry *reg)
{
    cJSON *defs = kpi_setting_defs_json(reg);
    CHECK_INT(cJSON_GetArraySize(defs), NEXPECTED, "setting_defs lists every registered setting once");
    for (int i = 0; i < NEXPECTED; i++) {
        const struct expected_def *e = &EXPECTED[i];
        const cJSON *d = def_named(defs, e->name);
        const cJSON *owner = cJSON_GetObjectItemCaseSensitive(d, "owner");
        CHECK(d && cJSON_IsString(owner) && strcmp(owner->valuestring, e->owner) == 0 && num(d, "default") == e->dflt &&
              num(d, "min") == e->min && num(d, "max") == e->max,
              "%s: owner %s, default %g, from %g to %g", e->name, e->owner, e->dflt, e->min, e->max);
    }
    const cJSON *first = defs ? defs->child : NULL;
    int nfields = 0;
    for (const cJSON *f = first ? first->child : NULL; f; f = f->next) nfields++;
    const cJSON *label = cJSON_GetObjectItemCaseSensitive(first, "label");
    CHECK(nfields == 6 && cJSON_GetObjectItemCaseSensitive(first, "name") && cJSON_GetObjectItemCaseSensitive(first, "owner") &&
          cJSON_GetObjectItemCaseSensitive(first, "default") && cJSON_GetObjectItemCaseSensitive(first, "min") &&
          cJSON_GetObjectItemCaseSensitive(first, "max") && cJSON_IsString(cJSON_GetObjectItemCaseSensitive(label, "zh")) &&
          cJSON_IsString(cJSON_GetObjectItemCaseSensitive(label, "en")),
          "a definition is exactly {name, owner, default, min, max, label: {zh, en}}");
    const cJSON *lost = def_named(defs, "retention.lost_after_months");
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(lost, "label"), "zh")),
              "流失判定（月）", "the plugin's Chinese label");
    cJSON_Delete(defs);

    /* the core alone: its own setting and nothing of a plugin */
    defs = kpi_setting_defs_json(NULL);
    CHECK(cJSON_GetArraySize(defs) == 1 && def_named(defs, "benchmarks.shared"),
          "without plugins only the core's benchmarks.shared is defined");
    cJSON_Delete(defs);
    CHECK(kpi_setting_def(NULL, "retention.lost_after_months", NULL) == NULL &&
          kpi_setting_def(NULL, "receivables.terms_days", NULL) == NULL,
          "the core holds no plugin's setting names");
}

/* --- changes, without a database --- */

/* kpi_settings_apply of the JSON text changes to the defaults of reg: its
 * return code, the error in err, the merged settings in *merged (or NULL). */
static int apply(const plugin_registry *reg, const char *changes, char *err, size_t errlen, kpi_settings **merged)
{
    kpi_settings current = { .items = NULL, .n = 0, .defs = reg };
    cJSON *ch = cJSON_Parse(changes);
    kpi_settings *m = NULL;
    err[0] = '\0';
    int rc = kpi_settings_apply(&current, ch, &m, err, errlen);
    cJSON_Delete(ch);
    if (merged) *merged = m;
    else kpi_settings_free(m);
    return rc;
}

/* changes are refused with an error holding want; or taken. */
#define REFUSED(reg, changes, want) do { char e_[512]; int rc_ = apply(reg, changes, e_, sizeof e_, NULL); \
    CHECK(rc_ == -1 && strstr(e_, want), "%s is refused: %s", changes, e_); } while (0)
#define TAKEN(reg, changes) do { char e_[512]; int rc_ = apply(reg, changes, e_, sizeof e_, NULL); \
    CHECK(rc_ == 0, "%s is taken (%s)", changes, e_); } while (0)

/* err holds every one of the names (NULL-terminated). */
static bool names_all(const char *err, const char *const *names)
{
    for (; *names; names++)
        if (!strstr(err, *names)) return false;
    return true;
}

static void test_changes(const plugin_registry *reg)
{
    char err[512];
    /* the validate callback of retention: at_risk < warning < lost <= base */
    static const char *const risk_warning[] = { "retention.at_risk_months", "retention.warning_months", NULL };
    static const char *const warning_lost[] = { "retention.warning_months", "retention.lost_after_months", NULL };
    static const char *const lost_base[] = { "retention.lost_after_months", "retention.base_months", NULL };
    CHECK(apply(reg, "{\"retention.at_risk_months\": 6}", err, sizeof err, NULL) == -1 && names_all(err, risk_warning),
          "at_risk = warning (6) is refused naming both: %s", err);
    CHECK(apply(reg, "{\"retention.at_risk_months\": 7}", err, sizeof err, NULL) == -1 && names_all(err, risk_warning),
          "at_risk > warning is refused naming both: %s", err);
    CHECK(apply(reg, "{\"retention.warning_months\": 9}", err, sizeof err, NULL) == -1 && names_all(err, warning_lost),
          "warning = lost (9) is refused naming both: %s", err);
    CHECK(apply(reg, "{\"retention.lost_after_months\": 25}", err, sizeof err, NULL) == -1 && names_all(err, lost_base),
          "lost > base (24) is refused naming both: %s", err);
    TAKEN(reg, "{\"retention.lost_after_months\": 24}");
    TAKEN(reg, "{\"retention.lost_after_months\": 30, \"retention.base_months\": 36}");
    /* the callback reads the would-be values: moving both below warning together is fine */
    TAKEN(reg, "{\"retention.warning_months\": 2, \"retention.at_risk_months\": 1}");
    kpi_settings *m = NULL;
    CHECK(apply(reg, "{\"retention.at_risk_months\": 0, \"receivables.terms_days\": null}", err, sizeof err, &m) == 0 && m &&
          kpi_settings_get(m, "retention.at_risk_months", -1) == 0 && kpi_settings_get(m, "receivables.terms_days", -1) == 90,
          "at_risk 0 is taken (the plugin's minimum, the core's was 1) and null means the default (%s)", err);
    kpi_settings_free(m);

    /* the plugins' ranges, where the core's old table said otherwise */
    TAKEN(reg, "{\"receivables.terms_days\": 36500}");
    REFUSED(reg, "{\"receivables.terms_days\": 36501}", "receivables.terms_days: must be a whole number from 0 to 36500");
    TAKEN(reg, "{\"receivables.government_terms_days\": 20000}");
    TAKEN(reg, "{\"service.followup_days\": 3650}");
    REFUSED(reg, "{\"service.followup_days\": 3651}", "service.followup_days: must be a whole number from 0 to 3650");
    TAKEN(reg, "{\"retention.base_months\": 1200}");
    REFUSED(reg, "{\"retention.base_months\": 1201}", "retention.base_months: must be a whole number from 1 to 1200");
    REFUSED(reg, "{\"retention.base_months\": 0}", "retention.base_months");
    TAKEN(reg, "{\"parts.obsolete_days\": 36500}");
    REFUSED(reg, "{\"insurance.new_window_days\": 3651}", "insurance.new_window_days");
    REFUSED(reg, "{\"service.followup_days\": 2.5}", "service.followup_days: must be a whole number");
    REFUSED(reg, "{\"service.followup_days\": -1}", "service.followup_days");
    REFUSED(reg, "{\"service.followup_days\": \"3\"}", "service.followup_days: must be a number");
    /* the core's own and the out-of-tree example's */
    TAKEN(reg, "{\"benchmarks.shared\": 0}");
    REFUSED(reg, "{\"benchmarks.shared\": 2}", "benchmarks.shared: must be a whole number from 0 to 1");
    TAKEN(reg, "{\"example.open_days_per_week\": 6}");
    REFUSED(reg, "{\"example.open_days_per_week\": 0}", "example.open_days_per_week");

    /* unknown names, targets */
    REFUSED(reg, "{\"retention.nope\": 2}", "retention.nope: unknown setting");
    REFUSED(reg, "{\"service.followup_days\": 4, \"nope.thing\": 2}", "nope.thing: unknown setting");
    TAKEN(reg, "{\"old_abi_1_0.followup_days.target\": 5}");
    REFUSED(reg, "{\"nope.kpi.target\": 5}", "nope.kpi.target: unknown setting");
    REFUSED(reg, "{\"service.personnel_cost_ratio.target_low\": 0.3, \"service.personnel_cost_ratio.target_high\": 0.2}",
            "service.personnel_cost_ratio.target_low (0.3) must not exceed");
    REFUSED(reg, "{}", "must be a JSON object of settings, e.g. {\"benchmarks.shared\": 0}");
    /* without the plugins a plugin's setting is unknown: the core holds none */
    REFUSED(NULL, "{\"retention.lost_after_months\": 12}", "retention.lost_after_months: unknown setting");
}

/* --- through the database and the engine --- */

static char *codes[] = { "S1", "S2" };
static store_set both_stores = { .codes = codes, .n = 2 };

/* Each old plugin's value for store S1 (their KPIs emit the setting in force). */
static void old_values(app *a, double out[2])
{
    const char *ids[] = { "old_abi_1_0.followup_days", "old_abi_1_1.followup_days" };
    kpi_request req = { .ids = ids, .nids = 2, .by = "store", .stores = &both_stores };
    snprintf(req.from, sizeof req.from, "2024-01-01");
    snprintf(req.to, sizeof req.to, "2024-01-31");
    kpi_answer *ans = NULL;
    int status = 0;
    char err[512];
    out[0] = out[1] = NAN;
    if (kpi_query(a, &req, &ans, &status, err, sizeof err) != 0) {
        printf("# kpi_query: %s\n", err);
        return;
    }
    for (int i = 0; i < ans->nrows; i++)
        if (strcmp(ans->rows[i].key, "S1") == 0)
            for (int k = 0; k < 2; k++) out[k] = ans->rows[i].is_null[k] ? NAN : ans->rows[i].values[k];
    kpi_answer_free(ans);
}

static int update(app *a, db_conn *c, const char *changes, int *status, char *err, size_t errlen)
{
    cJSON *ch = cJSON_Parse(changes);
    int rc = kpi_settings_update(a, c, NULL, ch, status, err, errlen);
    cJSON_Delete(ch);
    return rc;
}

static void test_database(app *a, db_conn *c)
{
    char err[512];
    int status = 0;
    if (testdb_exec(c, "INSERT INTO regions (region_code, name) VALUES ('R1', '华南')") ||
        testdb_exec(c, "INSERT INTO stores (store_code, name, brand, region_code) VALUES"
                " ('S1', '广州一店', '丰田', 'R1'), ('S2', '广州二店', '丰田', 'R1')")) {
        CHECK(0, "test data");
        return;
    }
    double v[2];
    old_values(a, v);
    CHECK(v[0] == 3 && v[1] == 3, "the old-ABI plugins compute with service.followup_days' registered default 3 "
          "(not their own -1): %g, %g", v[0], v[1]);

    CHECK(update(a, c, "{\"service.followup_days\": 3651}", &status, err, sizeof err) == -1 && status == 400 &&
          strstr(err, "service.followup_days"), "out of range through the database: 400 naming it (%s)", err);
    CHECK(update(a, c, "{\"retention.at_risk_months\": 6}", &status, err, sizeof err) == -1 && status == 400 &&
          strstr(err, "retention.at_risk_months") && strstr(err, "retention.warning_months"),
          "the validate callback refuses at_risk >= warning through the database: 400 (%s)", err);
    CHECK(update(a, c, "{\"retention.lost_months\": 12}", &status, err, sizeof err) == -1 && status == 400 &&
          strstr(err, "retention.lost_months"), "an unknown setting: 400 naming it (%s)", err);
    CHECK(update(a, c, "{\"service.followup_days\": 5, \"receivables.terms_days\": 36500}", &status, err, sizeof err) == 0,
          "changes in the plugins' ranges are stored (%s)", err);
    old_values(a, v);
    CHECK(v[0] == 5 && v[1] == 5, "the old-ABI plugins see the change at once: %g, %g", v[0], v[1]);

    kpi_settings *s = NULL;
    CHECK(kpi_settings_load(c, a->plugins, &s, err, sizeof err) == 0, "the settings load (%s)", err);
    CHECK(s && kpi_settings_get(s, "receivables.terms_days", -1) == 36500 &&
          kpi_settings_get(s, "retention.lost_after_months", -1) == 9 && kpi_settings_get(s, "benchmarks.shared", -1) == 1,
          "stored values and registered defaults are in force");
    cJSON *o = kpi_settings_json(s);
    CHECK(o && cJSON_GetArraySize(o) == NEXPECTED && num(o, "receivables.terms_days") == 36500 &&
          num(o, "example.open_days_per_week") == 7 && num(o, "benchmarks.shared") == 1,
          "the settings in force list every registered setting");
    cJSON_Delete(o);
    kpi_settings_free(s);

    /* a stored value of a setting no loaded plugin registers stays listed, and is kept */
    CHECK(testdb_exec(c, "INSERT INTO kpi_settings (name, value, updated_at, updated_by) VALUES"
                  " ('gone.window_days', 12, NOW(), 'test')") == 0, "a stored setting of a removed plugin");
    CHECK(kpi_settings_load(c, a->plugins, &s, err, sizeof err) == 0 && kpi_settings_get(s, "gone.window_days", -1) == 12,
          "its value still loads");
    kpi_settings_free(s);

    CHECK(update(a, c, "{\"service.followup_days\": null}", &status, err, sizeof err) == 0, "reset (%s)", err);
    old_values(a, v);
    CHECK(v[0] == 3 && v[1] == 3, "reset: the registered default again: %g, %g", v[0], v[1]);
}

int main(void)
{
    CHECK(make_plugin_dir() == 0, "the plugin directory: shipped plugins, example, old-ABI and broken test plugins");
    plugin_registry *reg = NULL;
    char err[512];
    CHECK(plugins_load_dir(plugin_dir, &reg, err, sizeof err) == 0, "the plugin directory loads (%s)", err);
    if (reg) {
        test_loading(reg);
        test_definitions(reg);
        test_changes(reg);
        plugins_free(reg);
    }

    testdb t;
    if (testdb_start(&t) == 0) {
        app a;
        memset(&a, 0, sizeof a);
        CHECK(config_load_env(&a.cfg, err, sizeof err) == 0, "config");
        snprintf(a.cfg.plugin_dir, sizeof a.cfg.plugin_dir, "%s", plugin_dir);
        a.url = t.url;
        a.db = t.pool;
        CHECK(kpi_open(&a, err, sizeof err) == 0, "the engine opens (%s)", err);
        test_database(&a, t.conn);
        kpi_close(&a);
        testdb_stop(&t);
    } else {
        CHECK(0, "the test database starts");
    }

    char cmd[PATH_MAX + 16];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", plugin_dir);
    if (system(cmd) != 0) printf("# could not remove %s\n", plugin_dir);
    return check_done();
}
