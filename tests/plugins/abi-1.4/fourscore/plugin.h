/* fourscore/plugin.h: the public ABI of Fourscore KPI plugins, and the only
 * header a plugin includes. A plugin is a shared object that exports one
 * symbol, fourscore_plugin_v1, returning a const descriptor. The host checks
 * the descriptor (magic, ABI version, struct size, build signature) before it
 * calls anything, then calls init() with the host API table; inside init the
 * plugin registers its KPIs and the settings it reads (name, default, range,
 * names), and may register a check of the settings taken together. Later
 * the KPI engine calls a KPI's compute()
 * for a period; compute() runs parameterised queries through the host and
 * emits per-store components (numerator, denominator, valid), which the
 * engine folds into store, region, group, month and insurer rows.
 *
 * Build out of tree with nothing but this header:
 *     cc -std=c11 -shared -fPIC -I core/include -o myplugin.so myplugin.c
 * See docs/plugins.md for a complete example.
 *
 * Compatibility rules (like SQLite's sqlite3ext.h): the host API table and
 * every struct here carry their size; members and functions are only ever
 * appended. FSP_ABI_MAJOR changes only when something is removed or changes
 * meaning; the host refuses a plugin of another major, or of a newer minor
 * than its own. No MYSQL*, cJSON* or other library type crosses this line. */
#ifndef FOURSCORE_PLUGIN_H
#define FOURSCORE_PLUGIN_H
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#ifdef __cplusplus
extern "C" {
#endif

/* --- versions and the build signature --- */

#define FSP_MAGIC        0x46534b50u     /* "FSKP" */
#define FSP_ABI_MAJOR    1
#define FSP_ABI_MINOR    4
#define FSP_HOST_API_VERSION 4           /* of fsp_host_api; see its members */

/* The sizes of the C types the two sides must agree on. A plugin built with
 * another data model (e.g. 32-bit, or a 32-bit time_t) is refused with the
 * name of the field that differs. */
typedef struct fsp_build_signature {
    uint8_t size_pointer;      /* sizeof(void *) */
    uint8_t size_time_t;       /* sizeof(time_t) */
    uint8_t size_long;         /* sizeof(long) */
    uint8_t size_double;       /* sizeof(double) */
    uint8_t size_size_t;       /* sizeof(size_t) */
    uint8_t size_int;          /* sizeof(int) */
    uint16_t byte_order;       /* 0x0102 as stored by the builder (endianness check) */
} fsp_build_signature;

#define FSP_BUILD_SIGNATURE { (uint8_t)sizeof(void *), (uint8_t)sizeof(time_t), \
    (uint8_t)sizeof(long), (uint8_t)sizeof(double), (uint8_t)sizeof(size_t),   \
    (uint8_t)sizeof(int), 0x0102 }

/* --- opaque handles --- */

typedef struct fsp_host fsp_host;        /* the host side of one loaded plugin (init, log) */
typedef struct fsp_call fsp_call;        /* one running compute() call */
typedef struct fsp_result fsp_result;    /* a fetched query result */
typedef struct fsp_setting_values fsp_setting_values;   /* the would-be settings a check reads */

/* --- query parameters --- */

enum fsp_param_type {
    FSP_NULL = 0,
    FSP_INT,        /* .i */
    FSP_NUMBER,     /* .d */
    FSP_TEXT        /* .s, NUL-terminated (dates are text 'YYYY-MM-DD') */
};
typedef struct fsp_param {
    int type;               /* enum fsp_param_type */
    long long i;
    double d;
    const char *s;
} fsp_param;
#define FSP_P_NULL       ((fsp_param){ .type = FSP_NULL })
#define FSP_P_INT(x)     ((fsp_param){ .type = FSP_INT, .i = (long long)(x) })
#define FSP_P_NUMBER(x)  ((fsp_param){ .type = FSP_NUMBER, .d = (double)(x) })
#define FSP_P_TEXT(x)    ((fsp_param){ .type = (x) ? FSP_TEXT : FSP_NULL, .s = (x) })

/* --- KPI definitions --- */

enum fsp_direction {        /* which way is good */
    FSP_DIR_NONE = 0,       /* "none": informative only */
    FSP_DIR_HIGHER,         /* "higher" */
    FSP_DIR_LOWER,          /* "lower" */
    FSP_DIR_BAND            /* "band": inside [target.low, target.high] */
};

enum fsp_target_kind {
    FSP_TARGET_NONE = 0,    /* target null */
    FSP_TARGET_NUMBER,      /* target_low is the number */
    FSP_TARGET_BAND         /* {"low": target_low, "high": target_high} */
};

/* How the engine folds components into a value (docs/kpis.md: a ratio is computed
 * from summed numerator and denominator, never an average of ratios). */
enum fsp_fold {
    FSP_FOLD_SUM = 0,       /* value = sum of numerators (sums, counts, money);
                               den is ignored; over no component the value is 0 */
    FSP_FOLD_RATIO          /* value = sum num / sum den (ratios, means, per-unit);
                               null when the summed den is 0 or nothing is valid */
};

/* `by` dimensions a KPI supports (bit mask). */
#define FSP_BY_GROUP    (1u << 0)
#define FSP_BY_REGION   (1u << 1)
#define FSP_BY_STORE    (1u << 2)
#define FSP_BY_MONTH    (1u << 3)
#define FSP_BY_INSURER  (1u << 4)
#define FSP_BY_DEFAULT  (FSP_BY_GROUP | FSP_BY_REGION | FSP_BY_STORE | FSP_BY_MONTH)

struct fsp_kpi_def;

/* What one compute() call is asked for. */
typedef struct fsp_kpi_args {
    uint32_t struct_size;             /* sizeof(fsp_kpi_args) of the host */
    const struct fsp_kpi_def *kpi;    /* the definition being computed (one compute
                                         function may serve several KPIs) */
    const char *from, *to;            /* 'YYYY-MM-DD', inclusive; as-of KPIs use `to` */
    int days;                         /* to - from + 1 */
    int per_insurer;                  /* 1: emit one component per (store, insurer),
                                         for by=insurer; 0: insurer_code NULL */
    const char *const *stores;        /* NULL: every store of the group (the usual
                                         case). Otherwise a list the plugin MAY use
                                         to narrow its work; emitting more stores is
                                         harmless (the engine filters by scope). */
    int nstores;
} fsp_kpi_args;

/* Computes one KPI for args->from..args->to over the whole group (matching
 * searches the whole group; the engine keeps only the stores in scope).
 * Emits components through host->emit(call, ...). Returns 0, or -1 after
 * host->fail(call, "message"). Must be thread-safe: the engine may run
 * several computes at once (keep no mutable globals). */
typedef int (*fsp_compute_fn)(fsp_call *call, const fsp_kpi_args *args);

typedef struct fsp_kpi_def {
    uint32_t struct_size;             /* sizeof(fsp_kpi_def): set it, the host checks it */
    const char *id;                   /* "service.ro_count": [a-z0-9_]+ '.' [a-z0-9_]+ */
    const char *name_zh;              /* "进厂台次" (UTF-8) */
    const char *name_en;              /* "Repair orders" */
    const char *unit;                 /* "count", "CNY", "ratio", "h", "CNY/h", "times/yr", "days", "score" */
    int direction;                    /* enum fsp_direction */
    int target_kind;                  /* enum fsp_target_kind (default, settable as "<id>.target") */
    double target_low, target_high;   /* number: target_low; band: both */
    const char *formula;              /* the formula as one sentence (English) */
    unsigned by;                      /* FSP_BY_* mask of the supported `by` (usually FSP_BY_DEFAULT,
                                         plus FSP_BY_INSURER where it applies; 0 = FSP_BY_DEFAULT) */
    int fold;                         /* enum fsp_fold */
    fsp_compute_fn compute;
    const void *user;                 /* anything the plugin wants back via args->kpi->user */
    /* -- ABI 1.3 -- (a definition of an older plugin ends before here; the
     * host tells the two apart by struct_size and reads budget as 0) */
    int budget;                       /* 1: a flow KPI that adds up over days and stores, so
                                         it takes per-store monthly budgets (the `targets`
                                         entity; "budget": true in the catalogue); 0: not */
} fsp_kpi_def;

/* The size of a KPI definition of ABI 1.0-1.2 (without budget): the host
 * accepts it and takes budget as 0. */
#define FSP_KPI_DEF_SIZE_1_2  offsetof(fsp_kpi_def, budget)

/* A KPI definition with its struct_size set; name the other fields:
 *     FSP_KPI(.id = "service.ro_count", .name_zh = "进厂台次", .name_en = "Repair orders",
 *             .unit = "count", .direction = FSP_DIR_HIGHER, .formula = "...",
 *             .fold = FSP_FOLD_SUM, .compute = compute_ro_count)
 * A field left out is 0: no target, by = FSP_BY_DEFAULT, fold = FSP_FOLD_SUM,
 * user = NULL, budget = 0. */
#define FSP_KPI(...)  { .struct_size = sizeof(fsp_kpi_def), __VA_ARGS__ }
/* The default target, inside FSP_KPI: a number, or a band [low, high]. */
#define FSP_TARGET(x)        .target_kind = FSP_TARGET_NUMBER, .target_low = (x)
#define FSP_BAND(low, high)  .target_kind = FSP_TARGET_BAND, .target_low = (low), .target_high = (high)

/* --- settings a plugin reads (ABI 1.2) ---
 * Each definition parameter a plugin reads through api->setting (a number of
 * months, a window in days) is registered in init with its default and range:
 * the host then lists it in the catalogue (GET /api/v1/kpis "setting_defs",
 * owned by the plugin), refuses a change out of range naming it, and hands
 * compute the value in force. Register only the settings the plugin owns:
 * a name another plugin (or the core) registered refuses the plugin. */
typedef struct fsp_setting_def {
    uint32_t struct_size;             /* sizeof(fsp_setting_def): set it, the host checks it */
    const char *name;                 /* "retention.lost_after_months": [a-z0-9_]+ '.' [a-z0-9_]+ */
    const char *name_zh;              /* "流失判定（月）" (UTF-8) */
    const char *name_en;              /* "Lost after (months)" */
    const char *unit;                 /* "months", "days", ...; may be NULL */
    double default_value;             /* in force until an admin changes it */
    double min, max;                  /* inclusive; a change outside is refused */
    int fractional;                   /* 0: whole numbers only (and default, min, max are
                                         whole); 1: any number in [min, max] */
} fsp_setting_def;

/* A setting definition with its struct_size set; name the other fields. */
#define FSP_SETTING(...)  { .struct_size = sizeof(fsp_setting_def), __VA_ARGS__ }

/* A check of the settings taken together (e.g. at_risk < warning < lost
 * months), registered in init. Called on every change of any setting, with
 * the values the settings would have after it (read them with
 * api->setting_value), before anything is stored; possibly on several
 * threads at once (keep no mutable state). Returns 0 to accept, or non-zero
 * after writing a message that names the setting at fault into message
 * (message_len bytes): the change is refused with it (HTTP 400). */
typedef int (*fsp_validate_fn)(const fsp_setting_values *values, char *message, size_t message_len);

/* --- lists: the rows behind a number (ABI 1.4) ---
 * A list is the set of rows a KPI counts or sums (the at-risk vehicles, the
 * overdue invoices), for the people who act on them. The plugin gives one
 * SELECT whose result columns are the list's columns, named by their keys
 * and in their order, and a function that binds its '?' placeholders for a
 * request. The engine runs that statement as a derived table and does the
 * rest once for every list: the scope (only rows whose `store` is in the
 * caller's scope), sorting by any column then by default_sort, paging,
 * `total` and `sums`, phone masking, CSV and xlsx export, the audit of
 * exports. The statement must read the same derived state, or share the
 * same SQL fragments, as the KPI it explains, so that the two cannot drift:
 * `total` (or the sum of a column) equals the KPI (docs/plugins.md). */

enum fsp_list_explains {
    FSP_EXPLAINS_NONE = 0,          /* explains no KPI ("explains": null) */
    FSP_EXPLAINS_COUNT,             /* total == explains_kpi */
    FSP_EXPLAINS_SUM,               /* sums[explains_column] == explains_kpi */
    FSP_EXPLAINS_SHARE              /* sums[explains_column] / explains_of == explains_kpi */
};

enum fsp_column_type {              /* how a cell is answered, compared and exported */
    FSP_COL_TEXT = 0,               /* a JSON string */
    FSP_COL_INT,                    /* a JSON integer */
    FSP_COL_NUMBER,                 /* a JSON number */
    FSP_COL_DATE,                   /* 'YYYY-MM-DD' */
    FSP_COL_DATETIME,               /* 'YYYY-MM-DD HH:MM:SS' */
    FSP_COL_BOOL                    /* 0/1 in SQL, false/true in JSON */
};

/* Column flags (bit mask). */
#define FSP_COL_MONEY     (1u << 0) /* a money column: summed into "sums" over every row */
#define FSP_COL_PHONE     (1u << 1) /* a phone number: whole only to admins and to the store
                                       manager of the row's customer_store, masked for others */
#define FSP_COL_PERSONAL  (1u << 2) /* other personal data (a customer's name) */

typedef struct fsp_list_column {
    uint32_t struct_size;             /* sizeof(fsp_list_column) */
    const char *key;                  /* "vin": [a-z0-9_]+, the SELECT's column name */
    const char *name_zh;              /* "车架号" */
    const char *name_en;              /* "VIN" */
    const char *unit;                 /* "CNY", "days", "months", ...; NULL for none */
    int type;                         /* enum fsp_column_type */
    unsigned flags;                   /* FSP_COL_* */
} fsp_list_column;
#define FSP_COLUMN(...)  { .struct_size = sizeof(fsp_list_column), __VA_ARGS__ }

struct fsp_list_def;

/* What one request of a list is for. */
typedef struct fsp_list_args {
    uint32_t struct_size;             /* sizeof(fsp_list_args) of the host */
    const struct fsp_list_def *list;
    const char *from, *to;            /* 'YYYY-MM-DD'; from == to for as-of lists */
    const char *const *stores;        /* the stores the request covers (never NULL
                                         here; the plugin MAY narrow by them, the
                                         engine filters by them in any case) */
    int nstores;
} fsp_list_args;

/* Binds the statement's placeholders for args into params (at most
 * max_params), reading settings with api->setting(call, ...). Returns the
 * number of parameters bound, or -1 after host->fail(call, "message"). Text
 * parameters must stay valid until the call returns (args' strings, string
 * literals, or buffers of the call kept with api->call_text). */
typedef int (*fsp_list_bind_fn)(fsp_call *call, const fsp_list_args *args,
                                fsp_param *params, int max_params);

typedef struct fsp_list_def {
    uint32_t struct_size;             /* sizeof(fsp_list_def) */
    const char *id;                   /* "retention.at_risk" */
    const char *name_zh, *name_en;    /* "拟流失车辆", "At-risk vehicles" */
    int as_of;                        /* 1: rows as of `to` (from is ignored); 0: of [from, to] */
    int explains_as;                  /* enum fsp_list_explains */
    const char *explains_kpi;         /* the KPI explained, or NULL */
    const char *explains_column;      /* SUM and SHARE: the money column summed */
    const char *explains_of;          /* SHARE: the KPI the sum is divided by */
    const fsp_list_column *columns;   /* in answer order; the first is "store", and a
                                         list with customer columns has "customer_store"
                                         second */
    int ncolumns;
    const char *const *default_sort;  /* column keys, each optionally prefixed with '-'
                                         for descending; together they order rows totally */
    int ndefault_sort;
    const char *sql;                  /* one SELECT (static text) producing the columns */
    fsp_list_bind_fn bind;
    const void *user;                 /* back to the plugin via args->list->user */
} fsp_list_def;
#define FSP_LIST(...)  { .struct_size = sizeof(fsp_list_def), __VA_ARGS__ }

/* --- the host API table --- */

enum fsp_log_level { FSP_LOG_DEBUG = 0, FSP_LOG_INFO, FSP_LOG_WARN, FSP_LOG_ERROR };

typedef struct fsp_host_api {
    uint32_t struct_size;             /* sizeof(fsp_host_api) of the host */
    uint32_t version;                 /* FSP_HOST_API_VERSION of the host */

    /* -- version 1 -- */

    /* Register a KPI. Only valid inside init (returns -1 otherwise). def and
     * every string it points to must live until fini (static const data).
     * Returns -1 (and the plugin should fail init) on an invalid definition or
     * an id another plugin already registered; the reason is logged. */
    int (*register_kpi)(fsp_host *host, const fsp_kpi_def *def);

    /* Log a line under the plugin's name. */
    void (*log)(fsp_host *host, int level, const char *message);

    /* Run one SELECT with '?' placeholders bound to params, on the engine's
     * read connection (statement time limited). sql must be a string literal
     * (it keys a prepared-statement cache). Returns 0 with *out (free it with
     * result_free), or -1: the call has failed (the message is kept), return
     * -1 from compute. */
    int (*query)(fsp_call *call, const char *sql, const fsp_param *params, int nparams,
                 fsp_result **out);
    int (*result_rows)(const fsp_result *res);
    int (*result_cols)(const fsp_result *res);
    /* A cell as text; NULL for SQL NULL (or out of range). */
    const char *(*result_text)(const fsp_result *res, int row, int col);
    /* A cell as a number; *is_null (may be NULL) set to 1 for SQL NULL or a
     * non-number (then 0.0 is returned). */
    double (*result_number)(const fsp_result *res, int row, int col, int *is_null);
    void (*result_free)(fsp_result *res);

    /* The KPI setting in force (docs/kpis.md, e.g.
     * "retention.lost_after_months"): its value when set, else the default
     * its owner registered (register_setting), else dflt. Read it in
     * compute, not in init: settings change at run time. */
    double (*setting)(fsp_call *call, const char *name, double dflt);

    /* Emit one component of the KPI being computed: a store's (and, when
     * args->per_insurer, an insurer's) numerator and denominator. valid = 0
     * marks the store's value null and leaves it out of region and group
     * (e.g. no stock snapshot on or before `to`). Components emitted twice for
     * the same (store, insurer) are added. insurer_code NULL when
     * !per_insurer. Returns 0, or -1 when out of memory. */
    int (*emit)(fsp_call *call, const char *store_code, const char *insurer_code,
                double numerator, double denominator, int valid);

    /* Fail the call with a message (logged and reported as a 503-class error). */
    void (*fail)(fsp_call *call, const char *message);

    /* -- version 2 (ABI 1.1) -- */

    /* The data generation the call computes for: a number that grows with
     * every import and setting change. What a plugin reads from the database
     * apart from its args (e.g. how far a derived table reaches) may be kept
     * for one generation and reused while the number stays the same. Before
     * calling it, check that api->version >= 2. */
    unsigned long long (*data_generation)(fsp_call *call);

    /* -- version 3 (ABI 1.2) -- */

    /* Register a setting the plugin reads (see fsp_setting_def). Only valid
     * inside init; def and its strings must live until fini. Returns -1 (and
     * the plugin should fail init) on an invalid definition (default outside
     * [min, max], a whole-number setting with a fraction) or a name already
     * registered; the reason is logged. */
    int (*register_setting)(fsp_host *host, const fsp_setting_def *def);
    /* Register the plugin's check of the settings taken together (one per
     * plugin). Only valid inside init. Returns 0, or -1. */
    int (*register_validate)(fsp_host *host, fsp_validate_fn validate);
    /* Inside a validate callback: the value name would have after the change
     * (its default when not set); dflt for a name no one registered. */
    double (*setting_value)(const fsp_setting_values *values, const char *name, double dflt);

    /* -- version 4 (ABI 1.4) -- */

    /* Register a list (see fsp_list_def). Only valid inside init; def, its
     * columns and strings must live until fini. Returns -1 (and the plugin
     * should fail init) on an invalid definition (no store column first, an
     * unknown default_sort key, an explains_column that is not a money column)
     * or an id already registered; the reason is logged. */
    int (*register_list)(fsp_host *host, const fsp_list_def *def);
    /* A copy of text kept until the call returns (for bound parameters built
     * in a bind function); NULL when out of memory. */
    const char *(*call_text)(fsp_call *call, const char *text);

    /* -- later versions: appended below, never reordered -- */
} fsp_host_api;

/* --- the plugin descriptor --- */

typedef struct fsp_plugin_descriptor {
    uint32_t magic;                   /* FSP_MAGIC */
    uint16_t abi_major;               /* FSP_ABI_MAJOR the plugin was built with */
    uint16_t abi_minor;               /* FSP_ABI_MINOR the plugin was built with */
    uint32_t struct_size;             /* sizeof(fsp_plugin_descriptor) */
    fsp_build_signature signature;    /* FSP_BUILD_SIGNATURE */
    const char *name;                 /* "service": [a-z0-9_]{1,32}, unique */
    const char *version;              /* "1.0.0" */
    const char *description;          /* one line, may be NULL */
    /* Called once after the checks. Register the KPIs here; keep host and api
     * (both live until fini). Return 0, or non-zero to be refused (every KPI
     * it registered is dropped). */
    int (*init)(fsp_host *host, const fsp_host_api *api);
    /* Called once before dlclose (may be NULL). */
    void (*fini)(void);
} fsp_plugin_descriptor;

/* The one exported symbol. */
#define FSP_ENTRY_SYMBOL "fourscore_plugin_v1"
typedef const fsp_plugin_descriptor *(*fsp_entry_fn)(void);

#if defined(__GNUC__)
#define FSP_EXPORT __attribute__((visibility("default")))
#else
#define FSP_EXPORT
#endif

/* Declares the plugin's descriptor and exports fourscore_plugin_v1; name
 * the fields the plugin sets (magic, versions, size and signature are filled
 * in), once per plugin, at file scope:
 *     FSP_PLUGIN(.name = "example", .version = "1.0.0", .description = "An example",
 *                .init = example_init);
 * .fini may be left out (NULL). (C only: it relies on a tentative definition.) */
#define FSP_PLUGIN(...) \
    static const fsp_plugin_descriptor fsp_plugin_descriptor_; \
    FSP_EXPORT const fsp_plugin_descriptor *fourscore_plugin_v1(void) { return &fsp_plugin_descriptor_; } \
    static const fsp_plugin_descriptor fsp_plugin_descriptor_ = { \
        .magic = FSP_MAGIC, .abi_major = FSP_ABI_MAJOR, .abi_minor = FSP_ABI_MINOR, \
        .struct_size = sizeof(fsp_plugin_descriptor), .signature = FSP_BUILD_SIGNATURE, __VA_ARGS__ }

FSP_EXPORT const fsp_plugin_descriptor *fourscore_plugin_v1(void);

#ifdef __cplusplus
}
#endif
#endif
