/* plugins: loads the KPI plugins and implements the host API table of
 * fourscore/plugin.h (see plugins.h). The descriptor is checked field by
 * field before init is called; a mismatch refuses the plugin with a message
 * naming the field, dlcloses it, and the next plugin loads as usual. Inside
 * init a plugin registers its KPIs, its settings and its check of them, and
 * its lists (ABI 1.4: checked here, answered by core/engine/lists_page.c); a
 * plugin built for an earlier minor (no settings, no lists) loads the same way. The
 * list of plugins (loaded or refused, with the reason) for GET
 * /api/v1/plugins is built here; `fourscore plugins` is core/cli/cmd_engine.c. */
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "app.h"
#include "config.h"
#include "log.h"
#include "counters.h"
#include "plugins.h"
#include "settings_core.h"

struct fsp_host {
    plugin_registry *reg;
    int plugin;                 /* index into reg->plugins */
    bool in_init;
    bool registration_failed;
    char registration_error[512];
};

/* --- small helpers --- */

static bool name_is_valid(const char *s, size_t max, bool allow_dot)
{
    if (!s || !*s) return false;
    size_t n = 0, dots = 0;
    for (const char *p = s; *p; p++, n++) {
        if (n >= max) return false;
        if ((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_') continue;
        if (allow_dot && *p == '.' && p != s && p[1]) { dots++; continue; }
        return false;
    }
    return allow_dot ? dots == 1 : true;
}

static void copy_str(char *dst, size_t len, const char *src)
{
    snprintf(dst, len, "%s", src ? src : "");
}

const char *plugin_direction_name(int direction)
{
    switch (direction) {
    case FSP_DIR_HIGHER: return "higher";
    case FSP_DIR_LOWER: return "lower";
    case FSP_DIR_BAND: return "band";
    default: return "none";
    }
}

/* --- the host API: registration and logging (inside init) --- */

/* A registration call made outside init: logged and ignored. */
static bool outside_init(const fsp_host *host, const char *what)
{
    if (host->in_init) return false;
    log_warn("plugin", "%s: %s called outside init: ignored", host->reg->plugins[host->plugin].name, what);
    return true;
}

/* A registration refused for why: the plugin will be refused with the first such reason. */
static int registration_refused(fsp_host *host, const char *why)
{
    host->registration_failed = true;
    if (!host->registration_error[0]) copy_str(host->registration_error, sizeof host->registration_error, why);
    log_error("plugin", "%s: %s", host->reg->plugins[host->plugin].name, why);
    return -1;
}

/* Room for one more element of *v (count n, capacity *cap, elements of size); -1 when out of memory. */
static int grow(void **v, int n, int *cap, size_t size)
{
    if (n < *cap) return 0;
    int ncap = *cap ? *cap * 2 : 64;
    void *g = realloc(*v, (size_t)ncap * size);
    if (!g) return -1;
    *v = g;
    *cap = ncap;
    return 0;
}

static int host_register_kpi(fsp_host *host, const fsp_kpi_def *def)
{
    if (!host || outside_init(host, "register_kpi")) return -1;
    plugin_registry *reg = host->reg;
    char why[400] = "";
    if (!def) snprintf(why, sizeof why, "register_kpi was given no definition");
    else if (def->struct_size != sizeof(fsp_kpi_def) && def->struct_size != FSP_KPI_DEF_SIZE_1_2)
        snprintf(why, sizeof why, "KPI definition struct_size is %u, this server expects %zu (or %zu before ABI 1.3)",
                 (unsigned)def->struct_size, sizeof(fsp_kpi_def), (size_t)FSP_KPI_DEF_SIZE_1_2);
    else if (!name_is_valid(def->id, 64, true))
        snprintf(why, sizeof why, "KPI id '%.64s' is not of the form domain.name ([a-z0-9_])",
                 def->id ? def->id : "(null)");
    else if (!def->name_zh || !*def->name_zh || !def->name_en || !*def->name_en)
        snprintf(why, sizeof why, "KPI %s: name_zh and name_en are required", def->id);
    else if (!def->unit || !*def->unit)
        snprintf(why, sizeof why, "KPI %s: unit is required", def->id);
    else if (!def->formula || !*def->formula)
        snprintf(why, sizeof why, "KPI %s: formula is required", def->id);
    else if (def->direction < FSP_DIR_NONE || def->direction > FSP_DIR_BAND)
        snprintf(why, sizeof why, "KPI %s: direction %d is unknown", def->id, def->direction);
    else if (def->target_kind < FSP_TARGET_NONE || def->target_kind > FSP_TARGET_BAND)
        snprintf(why, sizeof why, "KPI %s: target_kind %d is unknown", def->id, def->target_kind);
    else if (def->fold != FSP_FOLD_SUM && def->fold != FSP_FOLD_RATIO)
        snprintf(why, sizeof why, "KPI %s: fold %d is unknown", def->id, def->fold);
    else if (def->by & ~(FSP_BY_GROUP | FSP_BY_REGION | FSP_BY_STORE | FSP_BY_MONTH | FSP_BY_INSURER))
        snprintf(why, sizeof why, "KPI %s: by has unknown bits 0x%x", def->id, def->by);
    else if (!def->compute)
        snprintf(why, sizeof why, "KPI %s: compute is NULL", def->id);
    else {
        const plugin_kpi *dup = plugins_find_kpi(reg, def->id);
        if (dup) snprintf(why, sizeof why, "KPI id %s is already registered by plugin %s",
                          def->id, reg->plugins[dup->plugin].name);
    }
    if (why[0]) return registration_refused(host, why);
    if (grow((void **)&reg->kpis, reg->nkpis, &reg->kpis_cap, sizeof *reg->kpis) != 0)
        return registration_refused(host, "out of memory");
    /* budget is read only from a definition that has it (ABI 1.3 and later) */
    bool budget = def->struct_size >= offsetof(fsp_kpi_def, budget) + sizeof def->budget && def->budget != 0;
    reg->kpis[reg->nkpis++] = (plugin_kpi){ .def = def, .plugin = host->plugin, .budget = budget };
    reg->plugins[host->plugin].nkpis++;
    return 0;
}

static bool is_whole(double v) { return v == floor(v); }

static int host_register_setting(fsp_host *host, const fsp_setting_def *def)
{
    if (!host || outside_init(host, "register_setting")) return -1;
    plugin_registry *reg = host->reg;
    char why[400] = "";
    const plugin_setting *dup = def && def->struct_size == sizeof(fsp_setting_def) && def->name
                                ? plugins_find_setting(reg, def->name) : NULL;
    if (!def) snprintf(why, sizeof why, "register_setting was given no definition");
    else if (def->struct_size != sizeof(fsp_setting_def))
        snprintf(why, sizeof why, "setting definition struct_size is %u, this server expects %zu",
                 (unsigned)def->struct_size, sizeof(fsp_setting_def));
    else if (!name_is_valid(def->name, 64, true))
        snprintf(why, sizeof why, "setting name '%.64s' is not of the form domain.name ([a-z0-9_])",
                 def->name ? def->name : "(null)");
    else if (!def->name_zh || !*def->name_zh || !def->name_en || !*def->name_en)
        snprintf(why, sizeof why, "setting %s: name_zh and name_en are required", def->name);
    else if (!isfinite(def->default_value) || !isfinite(def->min) || !isfinite(def->max) ||
             !(def->min <= def->default_value && def->default_value <= def->max))
        snprintf(why, sizeof why, "setting %s: the default %g is not within min %g and max %g", def->name,
                 def->default_value, def->min, def->max);
    else if (!def->fractional && !(is_whole(def->default_value) && is_whole(def->min) && is_whole(def->max)))
        snprintf(why, sizeof why, "setting %s: a whole-number setting needs a whole default, min and max "
                 "(or set fractional)", def->name);
    else if (kpi_setting_core(def->name))
        snprintf(why, sizeof why, "setting %s is the server's own", def->name);
    else if (dup)
        snprintf(why, sizeof why, "setting %s is already registered by plugin %s", def->name,
                 reg->plugins[dup->plugin].name);
    if (why[0]) return registration_refused(host, why);
    if (grow((void **)&reg->settings, reg->nsettings, &reg->settings_cap, sizeof *reg->settings) != 0)
        return registration_refused(host, "out of memory");
    reg->settings[reg->nsettings++] = (plugin_setting){ .def = def, .plugin = host->plugin };
    reg->plugins[host->plugin].nsettings++;
    return 0;
}

static int host_register_validate(fsp_host *host, fsp_validate_fn validate)
{
    if (!host || outside_init(host, "register_validate")) return -1;
    loaded_plugin *lp = &host->reg->plugins[host->plugin];
    if (!validate) return registration_refused(host, "register_validate was given no function");
    if (lp->validate) return registration_refused(host, "register_validate called twice (one check per plugin)");
    lp->validate = validate;
    return 0;
}

/* --- lists (ABI 1.4) --- */

static int host_register_list(fsp_host *host, const fsp_list_def *def)
{
    if (!host || outside_init(host, "register_list")) return -1;
    plugin_registry *reg = host->reg;
    char why[400];
    plugins_list_check(reg, def, why, sizeof why);
    if (why[0]) return registration_refused(host, why);
    if (grow((void **)&reg->lists, reg->nlists, &reg->lists_cap, sizeof *reg->lists) != 0)
        return registration_refused(host, "out of memory");
    reg->lists[reg->nlists++] = (plugin_list){ .def = def, .plugin = host->plugin };
    reg->plugins[host->plugin].nlists++;
    return 0;
}

static double host_setting_value(const fsp_setting_values *values, const char *name, double dflt)
{
    if (!values || !name) return dflt;
    return values->get(values->ctx, name, dflt);
}

static void host_log(fsp_host *host, int level, const char *message)
{
    const char *pname = host ? host->reg->plugins[host->plugin].name : "?";
    enum log_level lv = level <= FSP_LOG_DEBUG ? LOG_DEBUG : level == FSP_LOG_INFO ? LOG_INFO
                      : level == FSP_LOG_WARN ? LOG_WARN : LOG_ERROR;
    log_msg(lv, "plugin", "%s: %s", pname, message ? message : "");
}

/* --- the host API: one compute call --- */

static void call_fail(fsp_call *call, const char *message)
{
    if (!call) return;
    if (!call->failed) copy_str(call->error, sizeof call->error, message ? message : "compute failed");
    call->failed = true;
}

#define HOST_MAX_PARAMS 64

/* --- the statement trace (FOURSCORE_KPI_TRACE=FILE) ---
 * Every statement a plugin runs, with its parameters written in as SQL
 * literals and the KPI's id in a leading comment, appended to FILE one a
 * line: to see what a KPI asks of the database, run it by hand (EXPLAIN,
 * the mariadb client), or time the same statements outside the engine
 * (tests/bench/kpi.sh, with --profile per KPI). Off unless set. */
static pthread_mutex_t trace_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t trace_once = PTHREAD_ONCE_INIT;
static FILE *trace_file;

static void trace_open(void)
{
    const char *path = config_env("FOURSCORE_KPI_TRACE");
    if (path && !(trace_file = fopen(path, "a")))
        log_warn("plugin", "FOURSCORE_KPI_TRACE: cannot open %s: %s", path, strerror(errno));
}

static void trace_statement(const char *kpi_id, const char *sql, const fsp_param *params, int nparams)
{
    pthread_once(&trace_once, trace_open);
    if (!trace_file) return;
    pthread_mutex_lock(&trace_mu);
    {
        fprintf(trace_file, "/* %s */ ", kpi_id ? kpi_id : "-");
        int k = 0;
        bool quoted = false;
        for (const char *p = sql; *p; p++) {
            if (*p == '\'') quoted = !quoted;
            if (*p != '?' || quoted || k >= nparams) {
                fputc(*p == '\n' ? ' ' : *p, trace_file);
                continue;
            }
            const fsp_param *v = &params[k++];
            if (v->type == FSP_INT) fprintf(trace_file, "%lld", v->i);
            else if (v->type == FSP_NUMBER) fprintf(trace_file, "%.17g", v->d);
            else if (v->type == FSP_TEXT && v->s) {
                fputc('\'', trace_file);
                for (const char *c = v->s; *c; c++) {
                    if (*c == '\'' || *c == '\\') fputc(*c, trace_file);
                    fputc(*c, trace_file);
                }
                fputc('\'', trace_file);
            } else fputs("NULL", trace_file);
        }
        fputs(";\n", trace_file);
        fflush(trace_file);
    }
    pthread_mutex_unlock(&trace_mu);
}

void plugins_trace(const char *id, const char *sql, const fsp_param *params, int nparams)
{
    trace_statement(id, sql, params, nparams);
}

static int host_query(fsp_call *call, const char *sql, const fsp_param *params, int nparams,
                      fsp_result **out)
{
    if (!call) return -1;
    if (out) *out = NULL;
    if (!sql || !out || nparams < 0 || nparams > HOST_MAX_PARAMS || (nparams && !params)) {
        call_fail(call, "query: bad arguments (sql, out, or more than 64 parameters)");
        return -1;
    }
    db_val vals[HOST_MAX_PARAMS];
    for (int i = 0; i < nparams; i++) {
        switch (params[i].type) {
        case FSP_INT: vals[i] = DB_INT(params[i].i); break;
        case FSP_NUMBER: vals[i] = DB_DBL(params[i].d); break;
        case FSP_TEXT: vals[i] = DB_STR(params[i].s); break;
        case FSP_NULL: vals[i] = DB_NULL; break;
        default:
            call_fail(call, "query: unknown parameter type");
            return -1;
        }
    }
    trace_statement(call->kpi_id, sql, params, nparams);
    char err[400];
    db_result *res = NULL;
    if (db_query(call->conn, sql, vals, nparams, &res, err, sizeof err) != 0) {
        char msg[512];
        snprintf(msg, sizeof msg, "query failed: %s", err);
        call_fail(call, msg);
        return -1;
    }
    *out = (fsp_result *)res;
    return 0;
}

static int host_result_rows(const fsp_result *res) { return res ? ((const db_result *)res)->nrows : 0; }
static int host_result_cols(const fsp_result *res) { return res ? ((const db_result *)res)->ncols : 0; }

static const char *host_result_text(const fsp_result *res, int row, int col)
{
    const db_result *r = (const db_result *)res;
    if (!r || row < 0 || col < 0 || row >= r->nrows || col >= r->ncols) return NULL;
    return db_cell(r, row, col);
}

static double host_result_number(const fsp_result *res, int row, int col, int *is_null)
{
    const char *s = host_result_text(res, row, col);
    if (is_null) *is_null = 1;
    if (!s || !*s) return 0.0;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (*end || errno == ERANGE) return 0.0;
    if (is_null) *is_null = 0;
    return v;
}

static void host_result_free(fsp_result *res) { db_result_free((db_result *)res); }

static double host_setting(fsp_call *call, const char *name, double dflt)
{
    if (!call || !name || !call->setting) return dflt;
    return call->setting(call->setting_ctx, name, dflt);
}

static int host_emit(fsp_call *call, const char *store_code, const char *insurer_code,
                     double numerator, double denominator, int valid)
{
    if (!call) return -1;
    if (!store_code || !*store_code || strlen(store_code) > 32 || (insurer_code && strlen(insurer_code) > 32)) {
        call_fail(call, "emit: store_code is required and codes are at most 32 characters");
        return -1;
    }
    if (call->ncomps == call->comps_cap) {
        int cap = call->comps_cap ? call->comps_cap * 2 : 256;
        kpi_component *c = realloc(call->comps, (size_t)cap * sizeof *c);
        if (!c) {
            call_fail(call, "emit: out of memory");
            return -1;
        }
        call->comps = c;
        call->comps_cap = cap;
    }
    kpi_component *c = &call->comps[call->ncomps++];
    copy_str(c->store_code, sizeof c->store_code, store_code);
    copy_str(c->insurer_code, sizeof c->insurer_code, insurer_code);
    c->num = numerator;
    c->den = denominator;
    c->valid = valid != 0;
    return 0;
}

static const char *host_call_text(fsp_call *call, const char *text)
{
    if (!call || !text) return NULL;
    if (call->ntexts == call->texts_cap) {
        int cap = call->texts_cap ? call->texts_cap * 2 : 8;
        char **g = realloc(call->texts, (size_t)cap * sizeof *g);
        if (!g) return NULL;
        call->texts = g;
        call->texts_cap = cap;
    }
    char *copy = strdup(text);
    if (!copy) return NULL;
    call->texts[call->ntexts++] = copy;
    return copy;
}

static unsigned long long host_data_generation(fsp_call *call) { return call ? call->generation : 0; }

static const fsp_host_api host_api = {
    .struct_size = sizeof(fsp_host_api),
    .version = FSP_HOST_API_VERSION,
    .register_kpi = host_register_kpi,
    .log = host_log,
    .query = host_query,
    .result_rows = host_result_rows,
    .result_cols = host_result_cols,
    .result_text = host_result_text,
    .result_number = host_result_number,
    .result_free = host_result_free,
    .data_generation = host_data_generation,
    .register_setting = host_register_setting,
    .register_validate = host_register_validate,
    .setting_value = host_setting_value,
    .setting = host_setting,
    .emit = host_emit,
    .fail = call_fail,
    .register_list = host_register_list,
    .call_text = host_call_text,
};

int plugin_compute(const fsp_kpi_def *def, fsp_call *call, const fsp_kpi_args *args)
{
    call->failed = false;
    call->error[0] = '\0';
    call->kpi_id = def->id;
    int rc = def->compute(call, args);
    if (rc != 0 && !call->failed) snprintf(call->error, sizeof call->error, "%s: compute returned %d", def->id, rc);
    return rc != 0 || call->failed ? -1 : 0;
}

void plugin_call_reset(fsp_call *call)
{
    free(call->comps);
    call->comps = NULL;
    call->ncomps = call->comps_cap = 0;
    for (int i = 0; i < call->ntexts; i++) free(call->texts[i]);
    free(call->texts);
    call->texts = NULL;
    call->ntexts = call->texts_cap = 0;
}

/* --- loading --- */

plugin_registry *plugins_new(void)
{
    return calloc(1, sizeof(plugin_registry));
}

/* Check a descriptor field by field; "" when it is acceptable. */
static void check_descriptor(const plugin_registry *reg, const fsp_plugin_descriptor *d, char *why, size_t len)
{
    static const fsp_build_signature ours = FSP_BUILD_SIGNATURE;
    why[0] = '\0';
    if (!d) { snprintf(why, len, "fourscore_plugin_v1() returned NULL"); return; }
    if (d->magic != FSP_MAGIC) {
        snprintf(why, len, "magic is 0x%08x, expected 0x%08x (not a Fourscore plugin)", (unsigned)d->magic, FSP_MAGIC);
        return;
    }
    if (d->abi_major != FSP_ABI_MAJOR) {
        snprintf(why, len, "abi_major is %u, this server speaks ABI %d.%d", (unsigned)d->abi_major, FSP_ABI_MAJOR, FSP_ABI_MINOR);
        return;
    }
    if (d->abi_minor > FSP_ABI_MINOR) {
        snprintf(why, len, "abi_minor is %u, newer than this server's ABI %d.%d (upgrade the server)",
                 (unsigned)d->abi_minor, FSP_ABI_MAJOR, FSP_ABI_MINOR);
        return;
    }
    if (d->struct_size != sizeof(fsp_plugin_descriptor)) {
        snprintf(why, len, "struct_size is %u, this server's descriptor is %zu bytes",
                 (unsigned)d->struct_size, sizeof(fsp_plugin_descriptor));
        return;
    }
#define SIG_CHECK(field) \
    if (d->signature.field != ours.field) { \
        snprintf(why, len, "signature." #field " is %u, this server has %u (built for another platform)", \
                 (unsigned)d->signature.field, (unsigned)ours.field); \
        return; }
    SIG_CHECK(size_pointer) SIG_CHECK(size_time_t) SIG_CHECK(size_long) SIG_CHECK(size_double)
    SIG_CHECK(size_size_t) SIG_CHECK(size_int) SIG_CHECK(byte_order)
#undef SIG_CHECK
    if (!name_is_valid(d->name, 32, false)) {
        snprintf(why, len, "name '%.40s' is not [a-z0-9_]{1,32}", d->name ? d->name : "(null)");
        return;
    }
    if (!d->version || !*d->version) { snprintf(why, len, "version is empty"); return; }
    if (!d->init) { snprintf(why, len, "init is NULL"); return; }
    for (int i = 0; i < reg->nplugins; i++)
        if (reg->plugins[i].loaded && strcmp(reg->plugins[i].name, d->name) == 0) {
            snprintf(why, len, "name %s is already taken by %.300s", d->name, reg->plugins[i].file);
            return;
        }
}

/* Drop what plugin index p registered (it was refused after init). */
static void drop_registrations_of(plugin_registry *reg, int p)
{
    int w = 0;
    for (int i = 0; i < reg->nkpis; i++)
        if (reg->kpis[i].plugin != p) reg->kpis[w++] = reg->kpis[i];
    reg->nkpis = w;
    w = 0;
    for (int i = 0; i < reg->nsettings; i++)
        if (reg->settings[i].plugin != p) reg->settings[w++] = reg->settings[i];
    reg->nsettings = w;
    w = 0;
    for (int i = 0; i < reg->nlists; i++)
        if (reg->lists[i].plugin != p) reg->lists[w++] = reg->lists[i];
    reg->nlists = w;
    reg->plugins[p].nkpis = reg->plugins[p].nsettings = reg->plugins[p].nlists = 0;
    reg->plugins[p].validate = NULL;
}

void plugins_load_file(plugin_registry *reg, const char *path)
{
    loaded_plugin *grown = realloc(reg->plugins, (size_t)(reg->nplugins + 1) * sizeof *grown);
    if (!grown) {
        log_error("plugin", "%s: out of memory", path);
        return;
    }
    reg->plugins = grown;
    int idx = reg->nplugins++;
    loaded_plugin *lp = &reg->plugins[idx];
    memset(lp, 0, sizeof *lp);
    copy_str(lp->file, sizeof lp->file, path);
    const char *base = strrchr(path, '/');
    copy_str(lp->name, sizeof lp->name, base ? base + 1 : path);

    dlerror();
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        const char *e = dlerror();
        snprintf(lp->reason, sizeof lp->reason, "cannot be loaded: %s", e ? e : "dlopen failed");
        goto refused;
    }
    void *sym = dlsym(h, FSP_ENTRY_SYMBOL);
    if (!sym) {
        snprintf(lp->reason, sizeof lp->reason, "does not export %s", FSP_ENTRY_SYMBOL);
        goto refused;
    }
    fsp_entry_fn entry;
    memcpy(&entry, &sym, sizeof entry);    /* object pointer to function pointer, the POSIX way */
    const fsp_plugin_descriptor *d = entry();
    check_descriptor(reg, d, lp->reason, sizeof lp->reason);
    if (lp->reason[0]) goto refused;
    copy_str(lp->name, sizeof lp->name, d->name);
    copy_str(lp->version, sizeof lp->version, d->version);
    copy_str(lp->description, sizeof lp->description, d->description);

    fsp_host *host = calloc(1, sizeof *host);
    if (!host) {
        snprintf(lp->reason, sizeof lp->reason, "out of memory");
        goto refused;
    }
    host->reg = reg;
    host->plugin = idx;
    host->in_init = true;
    lp->host = host;
    lp->handle = h;
    lp->desc = d;
    int rc = d->init(host, &host_api);
    host->in_init = false;
    if (rc != 0 || host->registration_failed) {
        if (host->registration_failed) snprintf(lp->reason, sizeof lp->reason, "%s", host->registration_error);
        else snprintf(lp->reason, sizeof lp->reason, "init failed (returned %d)", rc);
        if (rc == 0 && d->fini) d->fini();
        drop_registrations_of(reg, idx);
        lp->handle = NULL;
        lp->desc = NULL;
        lp->host = NULL;
        free(host);
        goto refused;
    }
    lp->loaded = true;
    log_info("plugin", "%s %s loaded from %s: %d KPIs, %d settings, %d lists", lp->name, lp->version, path,
             lp->nkpis, lp->nsettings, lp->nlists);
    return;
refused:
    metrics_add(METRIC_PLUGIN_LOAD_FAILURES, 1);
    if (h) dlclose(h);
    log_error("plugin", "%s refused: %s", path, lp->reason);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int plugins_load_dir(const char *dir, plugin_registry **out, char *err, size_t errlen)
{
    *out = NULL;
    DIR *d = opendir(dir);
    if (!d) {
        snprintf(err, errlen, "plugin directory %s cannot be read: %s", dir, strerror(errno));
        return -1;
    }
    char **names = NULL;
    int n = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t len = strlen(e->d_name);
        if (len < 4 || strcmp(e->d_name + len - 3, ".so") != 0 || e->d_name[0] == '.') continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            char **g = realloc(names, (size_t)cap * sizeof *g);
            if (!g) goto oom;
            names = g;
        }
        if (!(names[n] = strdup(e->d_name))) goto oom;
        n++;
    }
    closedir(d);
    d = NULL;
    qsort(names, (size_t)n, sizeof *names, cmp_str);
    plugin_registry *reg = plugins_new();
    if (!reg) goto oom;
    for (int i = 0; i < n; i++) {
        char path[PATH_MAX];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        plugins_load_file(reg, path);
    }
    for (int i = 0; i < n; i++) free(names[i]);
    free(names);
    *out = reg;
    return 0;
oom:
    if (d) closedir(d);
    for (int i = 0; i < n; i++) free(names[i]);
    free(names);
    snprintf(err, errlen, "out of memory listing %s", dir);
    return -1;
}

void plugins_free(plugin_registry *reg)
{
    if (!reg) return;
    for (int i = reg->nplugins - 1; i >= 0; i--) {
        loaded_plugin *lp = &reg->plugins[i];
        if (!lp->loaded) continue;
        if (lp->desc && lp->desc->fini) lp->desc->fini();
        if (lp->handle) dlclose(lp->handle);
        free(lp->host);
    }
    free(reg->plugins);
    free(reg->kpis);
    free(reg->settings);
    free(reg->lists);
    free(reg);
}

const plugin_kpi *plugins_find_kpi(const plugin_registry *reg, const char *id)
{
    if (!reg || !id) return NULL;
    for (int i = 0; i < reg->nkpis; i++)
        if (strcmp(reg->kpis[i].def->id, id) == 0) return &reg->kpis[i];
    return NULL;
}

const loaded_plugin *plugins_of_kpi(const plugin_registry *reg, const plugin_kpi *k)
{
    return k ? &reg->plugins[k->plugin] : NULL;
}

const plugin_setting *plugins_find_setting(const plugin_registry *reg, const char *name)
{
    if (!reg || !name) return NULL;
    for (int i = 0; i < reg->nsettings; i++)
        if (strcmp(reg->settings[i].def->name, name) == 0) return &reg->settings[i];
    return NULL;
}

cJSON *plugins_json(const plugin_registry *reg)
{
    cJSON *arr = cJSON_CreateArray();
    for (int i = 0; arr && reg && i < reg->nplugins; i++) {
        const loaded_plugin *lp = &reg->plugins[i];
        cJSON *o = cJSON_CreateObject();
        if (!o) break;
        cJSON_AddItemToArray(arr, o);
        cJSON_AddStringToObject(o, "name", lp->name);
        cJSON_AddStringToObject(o, "file", lp->file);
        cJSON_AddStringToObject(o, "status", lp->loaded ? "loaded" : "refused");
        if (lp->loaded) {
            cJSON_AddStringToObject(o, "version", lp->version);
            cJSON_AddStringToObject(o, "description", lp->description);
            cJSON *ids = cJSON_AddArrayToObject(o, "kpis");
            for (int k = 0; ids && k < reg->nkpis; k++)
                if (reg->kpis[k].plugin == i) cJSON_AddItemToArray(ids, cJSON_CreateString(reg->kpis[k].def->id));
            cJSON *lists = cJSON_AddArrayToObject(o, "lists");
            for (int k = 0; lists && k < reg->nlists; k++)
                if (reg->lists[k].plugin == i) cJSON_AddItemToArray(lists, cJSON_CreateString(reg->lists[k].def->id));
        } else {
            cJSON_AddStringToObject(o, "reason", lp->reason);
        }
    }
    return arr;
}
