/* config: the settings of one Fourscore process. Defaults first, then the
 * environment (FOURSCORE_*), then the command line's flags, with the names of
 * docs/api.md ("Command line"). Also the one option parser every subcommand
 * uses, so that --help, --flag=value and the exit code 2 on a bad flag or
 * value behave the same everywhere. */
#include "config.h"
#include <errno.h>
#include <pthread.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef FOURSCORE_SOURCE_DIR
#define FOURSCORE_SOURCE_DIR "."
#endif
#ifndef FOURSCORE_PLUGIN_BUILD_DIR
#define FOURSCORE_PLUGIN_BUILD_DIR "./build/plugins"
#endif
#ifndef FOURSCORE_BUILD_DIR
#define FOURSCORE_BUILD_DIR "./build"
#endif
#ifndef FOURSCORE_INSTALL_LIBDIR
#define FOURSCORE_INSTALL_LIBDIR "lib"
#endif
#ifndef FOURSCORE_INSTALL_DATADIR
#define FOURSCORE_INSTALL_DATADIR "share"
#endif

/* --- the environment: every variable the program reads is read in this file --- */

/* The variables a subsystem reads for itself (the others fill struct
 * config below); docs/operations.md describes each. */
static const char *const env_known[] = {
    "FOURSCORE_ADMIN_PASSWORD", "FOURSCORE_IMPORT_ATTEMPTS", "FOURSCORE_KPI_TRACE", "FOURSCORE_KPI_REFRESH_MS",
    "FOURSCORE_LOCALDB_BUFFER_POOL", "FOURSCORE_LOCALDB_FLUSH", "FOURSCORE_MARIADBD",
    "FOURSCORE_MARIADB_INSTALL_DB", "FOURSCORE_LUA_INSTRUCTIONS", "FOURSCORE_LUA_MEMORY",
    "FOURSCORE_LUA_SECONDS", "FOURSCORE_LUA_RESULT_MAX", "FOURSCORE_LUA_CONCURRENT",
    "FOURSCORE_LUA_DIR", "FOURSCORE_SCHEMA_DIR", "FOURSCORE_TZ",
    /* alerts and scheduled reports (core/base/notify.c, core/engine/alerts*.c) */
    "FOURSCORE_WEBHOOK_HOSTS", "FOURSCORE_MAIL_DOMAINS", "FOURSCORE_SMTP_URL", "FOURSCORE_SMTP_FROM",
    "FOURSCORE_SMTP_USER", "FOURSCORE_SMTP_PASSWORD", "FOURSCORE_ALERT_TIME",
    /* the system's: temporary files (config_tmp_dir), finding mariadbd (core/store/localdb_server.c) */
    "TMPDIR", "PATH",
};

const char *config_env(const char *name)
{
    bool known = false;
    for (size_t i = 0; i < sizeof env_known / sizeof env_known[0] && !known; i++)
        known = strcmp(env_known[i], name) == 0;
    if (!known) {
        fprintf(stderr, "fourscore: internal: %s is not a known setting (core/base/config.c)\n", name);
        return NULL;
    }
    const char *v = getenv(name);
    return v && *v ? v : NULL;
}

int config_env_number(const char *name, double lo, double hi, double *out, char *err, size_t errlen)
{
    const char *v = config_env(name);
    if (!v) return 0;
    char *end;
    errno = 0;
    double d = strtod(v, &end);
    if (errno || end == v || *end || !(d >= lo && d <= hi)) {
        snprintf(err, errlen, "%s: \"%s\" is not a number between %.0f and %.0f", name, v, lo, hi);
        return -1;
    }
    *out = d;
    return 1;
}

const char *config_tmp_dir(void)
{
    const char *dir = config_env("TMPDIR");
    return dir ? dir : "/tmp";
}

/* --- where the program's files are: the tree, or beside the installed binary --- */

static char default_dirs[4][PATH_MAX];
static pthread_once_t default_dirs_once = PTHREAD_ONCE_INIT;

/* A program that runs from the build directory (the server, the tests)
 * reads the tree; an installed one, PREFIX/bin/fourscore, reads
 * PREFIX/lib/fourscore/plugins and PREFIX/share/fourscore/. */
static void default_dirs_find(void)
{
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    exe[n > 0 ? n : 0] = '\0';
    size_t blen = strlen(FOURSCORE_BUILD_DIR);
    bool in_build = n <= 0 || (strncmp(exe, FOURSCORE_BUILD_DIR, blen) == 0 && exe[blen] == '/');
    if (in_build) {
        snprintf(default_dirs[CONFIG_DIR_PLUGINS], PATH_MAX, "%s", FOURSCORE_PLUGIN_BUILD_DIR);
        snprintf(default_dirs[CONFIG_DIR_WEB], PATH_MAX, "%s/web", FOURSCORE_SOURCE_DIR);
        snprintf(default_dirs[CONFIG_DIR_SCHEMAS], PATH_MAX, "%s/schemas", FOURSCORE_SOURCE_DIR);
        snprintf(default_dirs[CONFIG_DIR_SCORECARDS], PATH_MAX, "%s/lua/scorecards", FOURSCORE_SOURCE_DIR);
        return;
    }
    /* PREFIX is the folder above the binary's own */
    char *slash = strrchr(exe, '/');
    if (slash) *slash = '\0';
    slash = strrchr(exe, '/');
    if (slash) *slash = '\0';
    const char *prefix = slash ? exe : ".";
    snprintf(default_dirs[CONFIG_DIR_PLUGINS], PATH_MAX, "%.3000s/%s/fourscore/plugins", prefix, FOURSCORE_INSTALL_LIBDIR);
    snprintf(default_dirs[CONFIG_DIR_WEB], PATH_MAX, "%.3000s/%s/fourscore/web", prefix, FOURSCORE_INSTALL_DATADIR);
    snprintf(default_dirs[CONFIG_DIR_SCHEMAS], PATH_MAX, "%.3000s/%s/fourscore/schemas", prefix, FOURSCORE_INSTALL_DATADIR);
    snprintf(default_dirs[CONFIG_DIR_SCORECARDS], PATH_MAX, "%.3000s/%s/fourscore/scorecards", prefix,
             FOURSCORE_INSTALL_DATADIR);
}

const char *config_default_dir(enum config_dir which)
{
    pthread_once(&default_dirs_once, default_dirs_find);
    return (int)which >= 0 && which <= CONFIG_DIR_SCORECARDS ? default_dirs[which] : ".";
}

const char *config_schema_dir(void)
{
    const char *env = config_env("FOURSCORE_SCHEMA_DIR");
    return env ? env : config_default_dir(CONFIG_DIR_SCHEMAS);
}

void config_scorecard_dir(char *out, size_t cap)
{
    const char *env = config_env("FOURSCORE_LUA_DIR");
    if (env) snprintf(out, cap, "%s/scorecards", env);
    else snprintf(out, cap, "%s", config_default_dir(CONFIG_DIR_SCORECARDS));
}

/* --- number parsing (strict: the whole text, in range) --- */

static int parse_ull(const char *s, unsigned long long lo, unsigned long long hi, unsigned long long *out)
{
    if (!s || !*s || *s == '-' || *s == '+') return -1;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end || v < lo || v > hi) return -1;
    *out = v;
    return 0;
}

static int parse_double(const char *s, double lo, double hi, double *out)
{
    if (!s || !*s) return -1;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || *end || !(v >= lo && v <= hi)) return -1;
    *out = v;
    return 0;
}

static int copy_str(char *dst, size_t cap, const char *src)
{
    size_t n = strlen(src);
    if (n >= cap) return -1;
    memcpy(dst, src, n + 1);
    return 0;
}

/* --- defaults and environment --- */

typedef struct num_setting {
    const char *env;
    unsigned long long lo, hi;
    size_t offset;
    int width;     /* sizeof the field: 4 (unsigned), 8 (unsigned long long / size_t) */
} num_setting;

#define NUM(env, lo, hi, field) { env, lo, hi, offsetof(config, field), (int)sizeof(((config *)0)->field) }

static const num_setting num_settings[] = {
    NUM("FOURSCORE_MAX_CONNECTIONS", 1, 100000, max_connections),
    NUM("FOURSCORE_MAX_PER_IP", 1, 100000, max_per_ip),
    NUM("FOURSCORE_REQUEST_TIMEOUT", 1, 86400, request_timeout_s),
    NUM("FOURSCORE_THREADS", 1, 256, threads),
    NUM("FOURSCORE_DB_POOL", 1, 1024, db_pool_size),
    NUM("FOURSCORE_DB_TIMEOUT", 1, 3600, db_timeout_s),
    NUM("FOURSCORE_BODY_MAX", 1024, 1ULL << 30, body_max),
    NUM("FOURSCORE_IMPORT_MAX", 1024, 1ULL << 40, import_max),
    NUM("FOURSCORE_PWHASH_OPSLIMIT", 1, 64, pwhash_opslimit),
    NUM("FOURSCORE_PWHASH_MEMLIMIT", 8ULL << 20, 4ULL << 30, pwhash_memlimit),
    NUM("FOURSCORE_SESSION_IDLE", 60, 31ULL * 86400, session_idle_s),
    NUM("FOURSCORE_SESSION_MAX", 60, 366ULL * 86400, session_max_s),
};

static void set_num(config *c, const num_setting *s, unsigned long long v)
{
    char *p = (char *)c + s->offset;
    if (s->width == 4) *(unsigned *)p = (unsigned)v;
    else *(unsigned long long *)p = v;
}

static void config_defaults(config *c)
{
    memset(c, 0, sizeof *c);
    copy_str(c->listen, sizeof c->listen, "127.0.0.1:8080");
    copy_str(c->data_dir, sizeof c->data_dir, "./var");
    copy_str(c->plugin_dir, sizeof c->plugin_dir, config_default_dir(CONFIG_DIR_PLUGINS));
    copy_str(c->web_root, sizeof c->web_root, config_default_dir(CONFIG_DIR_WEB));
    c->max_connections = 512;
    c->max_per_ip = 64;
    c->request_timeout_s = 60;
    c->threads = 16;
    c->db_pool_size = 16;
    c->db_timeout_s = 5;
    c->body_max = 1 << 20;
    c->import_max = 2ULL << 30;
    c->kpi_statement_timeout_s = 30;
    c->pwhash_opslimit = 3;
    c->pwhash_memlimit = 64 << 20;
    c->session_idle_s = 8 * 3600;
    c->session_max_s = 7 * 86400;
}

static int add_read_url(config *c, const char *url, size_t len, char *err, size_t errlen, const char *from)
{
    if (c->n_db_read >= CONFIG_MAX_READ_URLS) {
        snprintf(err, errlen, "%s: at most %d read replicas", from, CONFIG_MAX_READ_URLS);
        return -1;
    }
    if (len == 0) return 0;
    if (len >= sizeof c->db_read[0]) {
        snprintf(err, errlen, "%s: a replica URL is longer than %zu bytes", from, sizeof c->db_read[0] - 1);
        return -1;
    }
    memcpy(c->db_read[c->n_db_read], url, len);
    c->db_read[c->n_db_read][len] = '\0';
    c->n_db_read++;
    return 0;
}

int config_load_env(config *c, char *err, size_t errlen)
{
    config_defaults(c);
    static const struct { const char *env; size_t offset, cap; } strs[] = {
        { "FOURSCORE_LISTEN", offsetof(config, listen), sizeof ((config *)0)->listen },
        { "FOURSCORE_DB_URL", offsetof(config, db_url), sizeof ((config *)0)->db_url },
        { "FOURSCORE_DATA_DIR", offsetof(config, data_dir), sizeof ((config *)0)->data_dir },
        { "FOURSCORE_PLUGIN_DIR", offsetof(config, plugin_dir), sizeof ((config *)0)->plugin_dir },
        { "FOURSCORE_WEB_ROOT", offsetof(config, web_root), sizeof ((config *)0)->web_root },
    };
    for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++) {
        const char *v = getenv(strs[i].env);
        if (!v || !*v) continue;
        if (copy_str((char *)c + strs[i].offset, strs[i].cap, v) != 0) {
            snprintf(err, errlen, "%s is too long (at most %zu bytes)", strs[i].env, strs[i].cap - 1);
            return -1;
        }
    }
    const char *reads = getenv("FOURSCORE_DB_READ_URLS");
    if (reads && *reads) {
        const char *p = reads;
        for (;;) {
            const char *comma = strchr(p, ',');
            size_t len = comma ? (size_t)(comma - p) : strlen(p);
            if (add_read_url(c, p, len, err, errlen, "FOURSCORE_DB_READ_URLS") != 0) return -1;
            if (!comma) break;
            p = comma + 1;
        }
    }
    for (size_t i = 0; i < sizeof num_settings / sizeof num_settings[0]; i++) {
        const num_setting *s = &num_settings[i];
        const char *v = getenv(s->env);
        if (!v || !*v) continue;
        unsigned long long n;
        if (parse_ull(v, s->lo, s->hi, &n) != 0) {
            snprintf(err, errlen, "%s=%s: expected a whole number from %llu to %llu", s->env, v, s->lo, s->hi);
            return -1;
        }
        set_num(c, s, n);
    }
    const char *st = getenv("FOURSCORE_KPI_STATEMENT_TIMEOUT");
    if (st && *st && parse_double(st, 0.001, 86400, &c->kpi_statement_timeout_s) != 0) {
        snprintf(err, errlen, "FOURSCORE_KPI_STATEMENT_TIMEOUT=%s: expected seconds from 0.001 to 86400", st);
        return -1;
    }
    const char *sc = getenv("FOURSCORE_SECURE_COOKIE");
    if (sc && *sc) {
        if (!strcmp(sc, "1") || !strcmp(sc, "true")) c->secure_cookie = true;
        else if (!strcmp(sc, "0") || !strcmp(sc, "false")) c->secure_cookie = false;
        else {
            snprintf(err, errlen, "FOURSCORE_SECURE_COOKIE=%s: expected 1 or 0", sc);
            return -1;
        }
    }
    if (config_localdb_flush(err, errlen) < 0) return -1;
    return 0;
}

int config_localdb_flush(char *err, size_t errlen)
{
    const char *v = getenv("FOURSCORE_LOCALDB_FLUSH");
    if (!v || !*v || !strcmp(v, "1")) return 1;
    if (!strcmp(v, "2")) return 2;
    snprintf(err, errlen, "FOURSCORE_LOCALDB_FLUSH=%.40s: expected 1 (each acknowledged commit on disk) "
             "or 2 (flushed about once a second)", v);
    return -1;
}

/* --- option parsing --- */

/* The options every subcommand takes: they land in cfg. */
static const opt global_opts[] = {
    { "--listen", OPT_STR, "ADDR:PORT", "address to serve HTTP on (FOURSCORE_LISTEN; default 127.0.0.1:8080)", 0, 0, {0}, 0 },
    { "--db", OPT_STR, "URL", "MariaDB server: mariadb://user:pass@host:port/db (FOURSCORE_DB_URL; default: local mode)", 0, 0, {0}, 0 },
    { "--db-read", OPT_MULTI, "URL", "a read replica for KPI and scorecard reads (FOURSCORE_DB_READ_URLS, comma-separated)", 0, 0, {0}, 0 },
    { "--data-dir", OPT_STR, "DIR", "local mode's data directory (FOURSCORE_DATA_DIR; default ./var)", 0, 0, {0}, 0 },
    { "--plugin-dir", OPT_STR, "DIR", "directory of KPI plugins (FOURSCORE_PLUGIN_DIR; default: the built plugins)", 0, 0, {0}, 0 },
    { "--web-root", OPT_STR, "DIR", "directory of the dashboards (FOURSCORE_WEB_ROOT; default: the project's web/)", 0, 0, {0}, 0 },
};
#define N_GLOBAL (int)(sizeof global_opts / sizeof global_opts[0])

opt *opt_find(opt *opts, int n, const char *name)
{
    for (int i = 0; i < n; i++)
        if (strcmp(opts[i].name, name) == 0) return &opts[i];
    return NULL;
}

static void print_opt(FILE *f, const opt *o)
{
    char left[64];
    if (o->kind == OPT_FLAG) snprintf(left, sizeof left, "%s", o->name);
    else snprintf(left, sizeof left, "%s %s", o->name, o->metavar ? o->metavar : "VALUE");
    fprintf(f, "  %-26s %s%s\n", left, o->help ? o->help : "", o->kind == OPT_MULTI ? " (repeatable)" : "");
}

static void print_usage(FILE *f, const char *usage, const char *description, const opt *opts, int nopts)
{
    fprintf(f, "usage: %s\n", usage);
    if (description && *description) fprintf(f, "\n%s\n", description);
    if (nopts > 0) {
        fprintf(f, "\noptions:\n");
        for (int i = 0; i < nopts; i++) print_opt(f, &opts[i]);
    }
    fprintf(f, "\ncommon options:\n");
    for (int i = 0; i < N_GLOBAL; i++) print_opt(f, &global_opts[i]);
    fprintf(f, "  %-26s %s\n", "--help", "show this help");
}

static int apply_global(config *cfg, const char *name, const char *value, char *err, size_t errlen)
{
    struct { const char *name; char *dst; size_t cap; } strs[] = {
        { "--listen", cfg->listen, sizeof cfg->listen },
        { "--db", cfg->db_url, sizeof cfg->db_url },
        { "--data-dir", cfg->data_dir, sizeof cfg->data_dir },
        { "--plugin-dir", cfg->plugin_dir, sizeof cfg->plugin_dir },
        { "--web-root", cfg->web_root, sizeof cfg->web_root },
    };
    for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++) {
        if (strcmp(name, strs[i].name) != 0) continue;
        if (copy_str(strs[i].dst, strs[i].cap, value) != 0) {
            snprintf(err, errlen, "%s: the value is longer than %zu bytes", name, strs[i].cap - 1);
            return -1;
        }
        return 0;
    }
    /* --db-read: the flags replace the environment's list */
    return add_read_url(cfg, value, strlen(value), err, errlen, "--db-read");
}

int config_parse(config *cfg, int argc, char **argv, opt *opts, int nopts,
                 const char *usage, const char *description,
                 const char **pos, int maxpos, int *npos)
{
    char err[512];
    bool db_read_from_flags = false;
    *npos = 0;
    for (int i = 0; i < nopts; i++) { opts[i].set = false; opts[i].value = NULL; opts[i].nvalues = 0; }
    bool only_positional = false;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (only_positional || arg[0] != '-' || arg[1] == '\0') {
            if (*npos >= maxpos) {
                fprintf(stderr, "fourscore: unexpected argument '%s'\n", arg);
                fprintf(stderr, "usage: %s\n(see --help)\n", usage);
                return 2;
            }
            pos[(*npos)++] = arg;
            continue;
        }
        if (strcmp(arg, "--") == 0) { only_positional = true; continue; }
        if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
            print_usage(stdout, usage, description, opts, nopts);
            return 1;
        }
        char name[64];
        const char *eq = strchr(arg, '=');
        size_t nlen = eq ? (size_t)(eq - arg) : strlen(arg);
        if (nlen >= sizeof name) nlen = sizeof name - 1;
        memcpy(name, arg, nlen);
        name[nlen] = '\0';

        opt *o = opt_find(opts, nopts, name);
        const opt *g = NULL;
        for (int k = 0; !o && k < N_GLOBAL; k++)
            if (strcmp(global_opts[k].name, name) == 0) g = &global_opts[k];
        if (!o && !g) {
            fprintf(stderr, "fourscore: unknown option '%s'\n", name);
            fprintf(stderr, "usage: %s\n(see --help)\n", usage);
            return 2;
        }
        enum opt_kind kind = o ? o->kind : g->kind;
        const char *value = NULL;
        if (kind == OPT_FLAG) {
            if (eq) {
                fprintf(stderr, "fourscore: option %s takes no value\n", name);
                return 2;
            }
        } else if (eq) {
            value = eq + 1;
        } else if (i + 1 < argc) {
            value = argv[++i];
        } else {
            fprintf(stderr, "fourscore: option %s needs a value (%s)\n", name,
                    (o ? o->metavar : g->metavar) ? (o ? o->metavar : g->metavar) : "VALUE");
            return 2;
        }
        if (value && !*value) {
            fprintf(stderr, "fourscore: option %s needs a non-empty value\n", name);
            return 2;
        }
        if (o) {
            o->set = true;
            if (kind == OPT_STR) o->value = value;
            else if (kind == OPT_MULTI) {
                if (o->nvalues >= (int)(sizeof o->values / sizeof o->values[0])) {
                    fprintf(stderr, "fourscore: option %s given too many times\n", name);
                    return 2;
                }
                o->values[o->nvalues++] = value;
            }
        } else {
            if (strcmp(name, "--db-read") == 0 && !db_read_from_flags) {
                cfg->n_db_read = 0;
                db_read_from_flags = true;
            }
            if (apply_global(cfg, name, value, err, sizeof err) != 0) {
                fprintf(stderr, "fourscore: %s\n", err);
                return 2;
            }
        }
    }
    return 0;
}

int config_listen_split(const char *listen, char *host, size_t hostlen, unsigned *port)
{
    const char *colon = strrchr(listen, ':');
    if (!colon) return -1;
    size_t hl = (size_t)(colon - listen);
    const char *h = listen;
    if (hl >= 2 && h[0] == '[' && h[hl - 1] == ']') { h++; hl -= 2; }
    if (hl == 0 || hl >= hostlen) return -1;
    unsigned long long p;
    if (parse_ull(colon + 1, 0, 65535, &p) != 0) return -1;
    memcpy(host, h, hl);
    host[hl] = '\0';
    *port = (unsigned)p;
    return 0;
}
