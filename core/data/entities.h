/* entities: the entities of docs/import.md as data, apart from the import
 * engine that reads them (import_job.c, import_rows.c, import_batch.c) and the
 * rollup refresh that walks what they feed (rollup.c). One line of the
 * table per entity: its columns (name, value type, required, length, the
 * allowed values), its natural key, the parents a row must name, the rules
 * between the columns of one row, the business dates a row moves, the
 * derived tables it feeds, whether it names vehicles, whether a file
 * replaces the lines of the repair orders it names. And the SQL statements
 * built once from each line (the staging table, the counts, the upsert).
 * A new entity is a new line here, a fact table in schemas/ and, if it
 * feeds a derived table, a step in rollup.c's refresh table. */
#ifndef FS_ENTITIES_H
#define FS_ENTITIES_H
#include <stdbool.h>
#include <stddef.h>

#define ENTITY_MAX_COLS 16

/* T_KPI: a KPI id of the loaded catalogue that takes budgets ("budget":
 * true), checked through the caller's import_kpi_fn (import.h): the
 * catalogue lives in the engine, above this layer. */
/* T_PHONE: digits, '+', '-' and spaces, at most 20 (customers.phone). */
enum col_type { T_CODE, T_TEXT, T_DATE, T_TS, T_MONEY, T_QTY, T_UINT, T_BOOL, T_ENUM, T_VIN, T_SCORE, T_MONTH, T_KPI,
                T_PHONE };

typedef struct col_def {
    const char *name;
    enum col_type type;
    bool required;
    int maxlen;                    /* T_TEXT: characters */
    const char *const *values;     /* T_ENUM: NULL-terminated */
    const char *if_empty;          /* an optional column's value when the field is empty (NULL: SQL NULL) */
} col_def;

/* A parent check: a query over import_stage returning (src_line, value[,
 * store]) of each staged row whose parent is missing. The store itself is
 * checked only where no required store-scoped parent (customer, RO,
 * invoice) implies it. */
typedef struct parent_check {
    const char *column;            /* the column naming the parent */
    const char *message;           /* the first %s is the value, a second the store code (filled, never printf) */
    const char *sql;
    bool earlier_in_file;          /* a row whose parent is an earlier row of the same file passes (entity_def.earlier) */
} parent_check;

/* A rule between the columns of one row, checked once each value is valid
 * (values normalised: timestamps "YYYY-MM-DD HH:MM:SS", booleans "1"/"0"). */
enum rule_kind {
    RULE_NOT_BEFORE,               /* "col: X is before other Y" when col < other */
    RULE_AFTER,                    /* "col: X is not after other Y" when col <= other */
    RULE_REQUIRED_WHEN,            /* "col: required when other is value" (named at col, else at other) */
    RULE_TRUE_NEEDS_TRUE,          /* col = 1 with other = 0: "col: message" */
};
typedef struct row_rule {
    enum rule_kind kind;
    int col, other;                /* column indexes */
    const char *value;             /* RULE_REQUIRED_WHEN */
    const char *message;           /* RULE_TRUE_NEEDS_TRUE: the sentence after "col: " (no format) */
} row_rule;

/* The business dates a row moves: which (store, date range) of the derived
 * tables an import of it must redo, for the old and the new version alike. */
enum entity_dates {
    DATES_NONE,                    /* no business date: a store-scoped row touches its store's whole range */
    DATES_OWN,                     /* the row's own range, date_lo .. date_hi */
    DATES_ROS_NAMED,               /* the closing days of the repair orders the row names (ro_no) */
    DATES_OF_ITS_RO,               /* an RO's lines: the business days of their RO, read at the end of the file
                                    * from the ROs the file named (with replaces_ro_lines) */
};

/* What an entity's rows feed: the groups of derived tables an import of it
 * refreshes. rollup.c's refresh table says which tables each is, from what,
 * and in what order they are redone. */
enum entity_feed {
    FEED_RO_DAYS        = 1u << 0, /* rollup_ro and its day, insurer, month and follow-up sums (per store, dates) */
    FEED_STOCK          = 1u << 1, /* rollup_stock, rollup_stock_age (per store, dates) */
    FEED_CSI            = 1u << 2, /* rollup_csi_day, _month (per store, dates) */
    FEED_PREMIUM        = 1u << 3, /* rollup_premium_day, _month (per store, dates) */
    FEED_INVOICED       = 1u << 4, /* rollup_invoice_day, _month (per store, dates) */
    FEED_RO_RECEIVABLES = 1u << 5, /* the receivables at month ends an RO's gross profit limits */
    FEED_VISITS         = 1u << 6, /* rollup_vehicle_visit (by VIN, or by the dates) */
    FEED_STATES         = 1u << 7, /* rollup_vehicle_state and the retention month ends (by VIN) */
    FEED_INVOICE_OPEN   = 1u << 8, /* rollup_invoice_open and the receivables from the dates on */
    FEED_RECEIVABLES    = 1u << 9, /* the receivables at every month end of the store (a customer's type) */
    FEED_NEW_POLICIES   = 1u << 10,/* rollup_sale_match and its counts (by VIN) */
    FEED_RENEWALS       = 1u << 11,/* rollup_policy_match and its counts (by VIN, with the new-policy matches) */
    FEED_SALES          = 1u << 12,/* rollup_sales_day, _month (per store, dates) */
};

/* A column naming an earlier row of the same entity and store for the same
 * vehicle (repair_orders' comeback_of): the earlier row may be in the same
 * file, which the engine checks itself (same VIN, opened before). */
typedef struct earlier_ref {
    int col;                       /* the column naming the earlier row's key */
    int vin_col, at_col;           /* the vehicle and the time the two rows compare */
} earlier_ref;

typedef struct entity_def {
    const char *name;              /* the entity and its fact table */
    const col_def *cols;
    int ncols;
    int nkey;                      /* the first nkey columns are the natural key */
    bool has_store;                /* column 0 is store_code */
    bool global;                   /* regions, stores, insurers, targets: admins and all-store tokens only */
    bool budgets;                  /* targets: a write moves the budgets generation too (generation.h) */
    bool directory;                /* regions, stores, insurers: a write moves the directory generation too */
    enum entity_dates dates;
    const char *date_lo, *date_hi; /* DATES_OWN: business date range of a row; '@' stands for the table alias */
    const parent_check *parents;
    int nparents;
    const row_rule *rules;
    int nrules;
    unsigned feeds;                /* enum entity_feed bits */
    int vin_col;                   /* > 0: the VIN the derived tables follow across stores; imports of it take
                                    * the group-wide vehicle turn */
    bool replaces_ro_lines;        /* the lines of a named RO that the file does not repeat are removed */
    const earlier_ref *earlier;    /* NULL: none */
    int open_balance_col;          /* > 0: the amount column checked, after the file, against what is left
                                    * open on its invoice (payments) */
    const char *latest;            /* the column of the date a row brings, as its store's data freshness counts it
                                    * (core/data/freshness.c); NULL: the entity is not counted */
    const char *latest_day;        /* the day of the greatest value of latest ('@' stands for it); NULL: DATE(@) */
    const char *through_if;        /* the rows whose greatest latest is also the store's `through` (a condition
                                    * on the fact table); NULL: none */
} entity_def;

/* The entities in load order (parents first), NULL-terminated. */
extern const char *const import_entities[];
/* The table line of an entity, NULL when there is none. */
const entity_def *entity_find(const char *name);
/* The column of e named name, or -1. */
int entity_col(const entity_def *e, const char *name);
/* "regions, stores, ..." (cut at len). */
const char *entity_names_list(char *buf, size_t len);

/* --- SQL built once per entity (kept for the program's life: the texts
 * key db.c's statement cache) --- */
typedef struct entity_sql {
    char *create_stage;      /* db_exec_text */
    char *insert_stage;
    char *count_existing;    /* COUNT(*) of staged keys present, and how many of them are equal */
    char *upsert;
    char *drop_unchanged;    /* remove from the stage the rows equal to the stored ones */
    char *old_dates;         /* per store: business dates of the rows about to be replaced */
    char *new_dates;         /* per store: business dates of the staged rows */
    char *old_vins;          /* VINs a replaced row had and its new version has not */
    /* the same three as locking reads: they see the latest committed rows
     * where this transaction's snapshot may be older than a store's lock */
    char *count_existing_locking, *old_dates_locking, *old_vins_locking;
    char *ro_lines_delete;   /* replaces_ro_lines: lines of named ROs the file did not repeat */
    char *stage_ros;         /* replaces_ro_lines: record the ROs a batch names */
} entity_sql;

/* The statements of e, NULL when they could not be built (out of memory). */
const entity_sql *entity_sql_of(const entity_def *e);
#endif
