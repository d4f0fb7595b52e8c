/* demo: the demo dealer group. Generates a believable, deterministic group of
 * 4S stores (sales, after-sales, insurance, receivables, stock, staff, CSI)
 * as CSV files in the import format, and loads them through the importer.
 * Used by `fourscore demo` and `fourscore serve --demo`. */
#ifndef FS_DEMO_H
#define FS_DEMO_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct app;

/* What to generate. */
typedef struct demo_opts {
    int stores;              /* 24 */
    int years;               /* 3 */
    int end_year, end_month; /* the last month generated (default: last month) */
    uint64_t seed;           /* 1 */
    double volume;           /* 1.0; tests use less: scales the ROs a store does a month */
    int through;             /* 0: the whole end month; else its last day with data (1..31): nothing
                              * dated after it (ROs closed, invoices, payments, calls, stock snapshots) */
    int stale;               /* 0; else this many stores whose data stops 2 to 4 days earlier (demo_stale_days) */
    bool quiet;              /* no progress on stderr */
} demo_opts;

/* The demo group's story: which store is weak in which domain. */
enum demo_weakness {
    DEMO_WEAK_LABOUR_SHARE,     /* low labour share of revenue */
    DEMO_WEAK_RECEIVABLES,      /* aged receivables (slow fleet/government payers) */
    DEMO_WEAK_RENEWAL,          /* poor insurance renewal */
    DEMO_WEAK_CHURN,            /* high customer churn, missed first services */
    DEMO_WEAK_SLOW_PARTS,       /* slow-moving and obsolete parts stock */
    DEMO_WEAK_COUNT
};
/* Stable keys ("labour_share", "receivables", "renewal", "churn", "slow_parts"). */
extern const char *const demo_weakness_keys[DEMO_WEAK_COUNT];
/* The index (0-based) of the store weak in w, or -1 when the group is too
 * small to have one (each weak store is weak in one domain only). */
int demo_weak_store(int nstores, enum demo_weakness w);
/* How many days before the others the data of store index i stops (0, or
 * 2 to 4 for the o->stale stores: the last ones of the group that are
 * neither store 0 nor a weak store). */
int demo_stale_days(const demo_opts *o, int i);
/* The store code of store index i (0-based) into buf. */
void demo_store_code(int i, char *buf, size_t buflen);

/* Defaults: 24 stores, 3 years ending last month (UTC clock), seed 1. */
void demo_opts_default(demo_opts *o);

/* Write one CSV file per entity (<dir>/<entity>.csv, import_entities[]
 * names) into dir, which must exist. Row counts per entity go to rows[]
 * (in import_entities[] order) when rows is not NULL. Returns 0 or -1. */
int demo_write_csv(const demo_opts *o, const char *dir, long long *rows, char *err, size_t errlen);

/* Generate into a temporary directory and import every file in load order
 * through the bulk loader (core/data/bulk_load.c; the targets' KPIs checked
 * against the loaded plugins' catalogue), showing progress; then create the
 * demo users and print their logins. Returns 0 or -1 with err. */
int demo_load(struct app *a, const demo_opts *o, char *err, size_t errlen);

/* `serve --demo`: the default demo group loaded as above when the database
 * has no store; 0 without doing anything when it has. */
int demo_load_if_empty(struct app *a, char *err, size_t errlen);
/* The demo's logins (demo_users.c): one user per role with the documented
 * demo password (exec, rm_<first region>, sm_<first store>; password
 * demo1234), made from the demo data already loaded; prints the logins on
 * stdout. A user of the same name that exists is left as it is. */
struct db_conn;
int auth_create_demo_users(struct db_conn *c, char *err, size_t errlen);
/* The entities the demo writes, in import order (rows[] of demo_write_csv
 * follows it): how many, and the name of each. */
#define DEMO_ENTITIES_MAX 32
int demo_entity_count(void);
const char *demo_entity_name(int e);
/* The story on stderr: which store is weak in which domain. */
void demo_print_story(const demo_opts *o);
#endif
