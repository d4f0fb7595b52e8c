/* plugins: the loader of KPI plugins (the host side of fourscore/plugin.h).
 * Loads every *.so of the plugin directory in name order, checks each
 * descriptor before calling anything, calls init with the host API table,
 * and keeps the registered KPIs, the settings each plugin owns and its
 * check of them (settings.c reads them). A refused plugin is kept in the list with
 * its reason and never stops the others. The per-call side of the host API
 * (query, emit, setting, fail) works on an fsp_call the KPI engine fills. */
#ifndef FS_PLUGINS_H
#define FS_PLUGINS_H
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <cJSON.h>
#include "db.h"
#include "log.h"
#include "fourscore/plugin.h"

/* A log level above every level: the CLI commands whose stdout is their answer. */
#define LOG_QUIET ((enum log_level)(LOG_ERROR + 1))

struct kpi_settings;

/* One plugin file, loaded or refused. */
typedef struct loaded_plugin {
    char file[PATH_MAX];            /* the .so path */
    char name[64];                  /* descriptor name, or the file name when refused early */
    char version[64];
    char description[256];
    bool loaded;
    char reason[512];               /* why it was refused ("" when loaded) */
    void *handle;                   /* dlopen handle while loaded */
    const fsp_plugin_descriptor *desc;
    fsp_host *host;
    int nkpis;                      /* KPIs it registered */
    int nsettings;                  /* settings it registered */
    int nlists;                     /* lists it registered (ABI 1.4) */
    fsp_validate_fn validate;       /* its check of the settings together, or NULL */
} loaded_plugin;

/* One registered KPI. */
typedef struct plugin_kpi {
    const fsp_kpi_def *def;
    int plugin;                     /* index into registry->plugins */
    bool budget;                    /* def->budget where the definition has it (ABI 1.3), else false */
} plugin_kpi;

/* One registered list (ABI 1.4): its definition, checked by register_list
 * (the engine's core/engine/lists_page.c answers it). */
typedef struct plugin_list {
    const fsp_list_def *def;
    int plugin;                     /* index into registry->plugins */
} plugin_list;

/* One registered setting. */
typedef struct plugin_setting {
    const fsp_setting_def *def;
    int plugin;                     /* index into registry->plugins */
} plugin_setting;

typedef struct plugin_registry {
    loaded_plugin *plugins;
    int nplugins;
    plugin_kpi *kpis;               /* in registration order (plugins in file-name order) */
    int nkpis, kpis_cap;
    plugin_setting *settings;       /* in registration order, like kpis */
    int nsettings, settings_cap;
    plugin_list *lists;             /* in registration order, like kpis */
    int nlists, lists_cap;
} plugin_registry;

/* Load every *.so in dir. Never fails for a bad plugin (it is listed as
 * refused); returns -1 with err only when dir cannot be read or memory runs out. */
int plugins_load_dir(const char *dir, plugin_registry **out, char *err, size_t errlen);
/* Load one file into reg (used by plugins_load_dir and the tests). */
void plugins_load_file(plugin_registry *reg, const char *path);
plugin_registry *plugins_new(void);
/* Call every loaded plugin's fini, dlclose, free. */
void plugins_free(plugin_registry *reg);
const plugin_kpi *plugins_find_kpi(const plugin_registry *reg, const char *id);
const loaded_plugin *plugins_of_kpi(const plugin_registry *reg, const plugin_kpi *k);
/* The list registered under id, or NULL (reg may be NULL). */
const plugin_list *plugins_find_list(const plugin_registry *reg, const char *id);
/* Why def may not be registered into reg, in why ("" when it may): the
 * checks of register_list (plugin_lists.c). */
void plugins_list_check(const plugin_registry *reg, const fsp_list_def *def, char *why, size_t len);
/* The index of the column key (keylen bytes) in def (-1 when none). */
int plugins_list_column(const fsp_list_def *def, const char *key, size_t keylen);
/* def's keys_sql, or NULL when it has none (or is of ABI 1.4, which ends before it). */
const char *plugins_list_keys_sql(const fsp_list_def *def);
/* The index of key among def's page keys, or -1 (no keys_sql, or not a key). */
int plugins_list_key(const fsp_list_def *def, const char *key);
/* The setting a loaded plugin registered under name, or NULL (reg may be NULL). */
const plugin_setting *plugins_find_setting(const plugin_registry *reg, const char *name);
/* [{"name","file","status":"loaded"|"refused", then "version","description",
 * "kpis":[ids],"lists":[ids] or "reason"}] in load order; NULL when out of memory. */
cJSON *plugins_json(const plugin_registry *reg);

/* --- one compute call (the engine fills it, the host API works on it) --- */

typedef struct kpi_component {
    char store_code[33];
    char insurer_code[33];          /* "" when none */
    double num, den;
    bool valid;
} kpi_component;

/* A setting lookup the engine provides for the call. */
typedef double (*plugin_setting_fn)(const void *ctx, const char *name, double dflt);

/* The would-be settings a plugin's check reads (fsp_setting_values of
 * fourscore/plugin.h): settings.c fills it before calling validate. */
struct fsp_setting_values {
    plugin_setting_fn get;
    const void *ctx;
};

struct fsp_call {
    db_conn *conn;                  /* the read connection, statement time limited */
    plugin_setting_fn setting;
    const void *setting_ctx;
    kpi_component *comps;
    int ncomps, comps_cap;
    const char *kpi_id;             /* the KPI (or list) being computed (for the statement trace) */
    char **texts;                   /* call_text copies, freed by plugin_call_reset */
    int ntexts, texts_cap;
    unsigned long long generation;  /* the data generation computed for */
    bool failed;
    char error[512];
};

/* Run def->compute for args on call; returns 0, or -1 with call->error set. */
int plugin_compute(const fsp_kpi_def *def, fsp_call *call, const fsp_kpi_args *args);
void plugin_call_reset(fsp_call *call);     /* free the components and the call_text copies */
/* Run def->bind for args on call into params (at most max): the number
 * bound, or -1 with call->error set. A list without bind binds nothing. */
int plugin_list_bind(const fsp_list_def *def, fsp_call *call, const fsp_list_args *args, fsp_param *params,
                     int max);

/* Append sql with its parameters to the statement trace (FOURSCORE_KPI_TRACE,
 * off unless set) under id: what the list engine runs besides the plugins' queries. */
void plugins_trace(const char *id, const char *sql, const fsp_param *params, int nparams);

/* The direction, fold and by names of the spec. */
const char *plugin_direction_name(int direction);
/* Is s a plugin-side name: [a-z0-9_]{1,max}, with exactly one inner '.'
 * when allow_dot (KPI, setting and list ids)? Shared by the checks of
 * plugins.c and plugin_lists.c. */
bool plugin_name_valid(const char *s, size_t max, bool allow_dot);
#endif
