/* config: settings from flags, then environment, then defaults, with the
 * names of docs/api.md ("Command line"), and the option parser every
 * subcommand uses (--help on each, exit code 2 on a bad flag or value). */
#ifndef FS_CONFIG_H
#define FS_CONFIG_H
#include <stdbool.h>
#include <stddef.h>
#include <limits.h>

#define CONFIG_MAX_READ_URLS 8

typedef struct config {
    char listen[256];
    char db_url[1024];                 /* "" = local mode */
    char db_read[CONFIG_MAX_READ_URLS][1024];
    int n_db_read;
    char data_dir[PATH_MAX];
    char plugin_dir[PATH_MAX];
    char web_root[PATH_MAX];
    /* limits (FOURSCORE_* environment, see docs/operations.md) */
    unsigned max_connections;          /* FOURSCORE_MAX_CONNECTIONS, 512 */
    unsigned max_per_ip;               /* FOURSCORE_MAX_PER_IP, 64 */
    unsigned request_timeout_s;        /* FOURSCORE_REQUEST_TIMEOUT, 60 */
    unsigned threads;                  /* FOURSCORE_THREADS, 16 */
    unsigned db_pool_size;             /* FOURSCORE_DB_POOL, 16 */
    unsigned db_timeout_s;             /* FOURSCORE_DB_TIMEOUT, 5: the longest wait on a silent database */
    size_t body_max;                   /* FOURSCORE_BODY_MAX, 1 MiB */
    unsigned long long import_max;     /* FOURSCORE_IMPORT_MAX, 2 GiB */
    double kpi_statement_timeout_s;    /* FOURSCORE_KPI_STATEMENT_TIMEOUT, 30 */
    /* security */
    bool secure_cookie;                /* FOURSCORE_SECURE_COOKIE=1 behind TLS */
    unsigned long long pwhash_opslimit;/* FOURSCORE_PWHASH_OPSLIMIT (floor: 1 for tests; default 3) */
    size_t pwhash_memlimit;            /* FOURSCORE_PWHASH_MEMLIMIT (floor 8 MiB; default 64 MiB) */
    unsigned session_idle_s;           /* FOURSCORE_SESSION_IDLE, 8 h */
    unsigned session_max_s;            /* FOURSCORE_SESSION_MAX, 7 days */
    bool demo;                         /* serve --demo */
} config;

/* A variable a subsystem reads for itself (the rest fill struct config):
 * its value, or NULL when unset or empty. Every environment variable
 * (FOURSCORE_*, and the system's TMPDIR and PATH) is read through config.c;
 * a name it does not know is refused (NULL and a message on stderr). */
const char *config_env(const char *name);
/* A number from such a variable: 1 with *out set, 0 when unset (*out kept),
 * -1 with err naming the variable when it is not a number in [lo, hi]. */
int config_env_number(const char *name, double lo, double hi, double *out, char *err, size_t errlen);
/* Where temporary files go: $TMPDIR, else /tmp. */
const char *config_tmp_dir(void);

/* The program's own directories: in the source tree when it runs from its
 * build directory, else beside the installed binary (PREFIX/bin/fourscore:
 * PREFIX/lib/fourscore/plugins, PREFIX/share/fourscore/web, .../schemas,
 * .../scorecards). */
enum config_dir { CONFIG_DIR_PLUGINS, CONFIG_DIR_WEB, CONFIG_DIR_SCHEMAS, CONFIG_DIR_SCORECARDS };
const char *config_default_dir(enum config_dir which);
/* The migrations (FOURSCORE_SCHEMA_DIR, else the default) and the shipped
 * scorecards (FOURSCORE_LUA_DIR/scorecards, else the default). */
const char *config_schema_dir(void);
void config_scorecard_dir(char *out, size_t cap);

/* Defaults, then the environment. Returns 0, or -1 with a message naming the variable. */
int config_load_env(config *c, char *err, size_t errlen);

/* FOURSCORE_LOCALDB_FLUSH: innodb_flush_log_at_trx_commit of local mode's
 * own MariaDB server. 1 (the default): an acknowledged commit is on disk, so
 * not even a power cut loses it. 2: written to the OS at commit and flushed
 * to disk about once a second, so a crash of the machine (not of a process)
 * can lose the last second of acknowledged imports. Returns 1 or 2, or -1
 * with a message naming the variable. Read when local mode starts its server. */
int config_localdb_flush(char *err, size_t errlen);

/* --- option parsing shared by every subcommand --- */
enum opt_kind { OPT_FLAG, OPT_STR, OPT_MULTI };
typedef struct opt {
    const char *name;        /* "--from" */
    enum opt_kind kind;
    const char *metavar;     /* "YYYY-MM-DD" */
    const char *help;
    /* results */
    bool set;
    const char *value;       /* OPT_STR: last value */
    const char *values[16];  /* OPT_MULTI */
    int nvalues;
} opt;

/* Parses argv against opts (plus the global --db, --db-read, --data-dir,
 * --plugin-dir, --web-root, --listen which go into cfg). Positional
 * arguments are returned in pos (up to maxpos). Prints usage and returns 1
 * for --help; prints a clear error and returns 2 for a bad flag; 0 otherwise. */
int config_parse(config *cfg, int argc, char **argv, opt *opts, int nopts,
                 const char *usage, const char *description,
                 const char **pos, int maxpos, int *npos);
opt *opt_find(opt *opts, int n, const char *name);
/* "host:port" or "[v6]:port" -> host and port; -1 when malformed. */
int config_listen_split(const char *listen, char *host, size_t hostlen, unsigned *port);
#endif
