/* kpi_common.h: what the KPI plugins of plugins/<domain>/<domain>.c
 * share: the host API pointer each plugin keeps from init, running one
 * parameterised query and emitting its rows as components, registering
 * KPIs and settings and reading whole-number settings, and the SQL fragments that define a repair order's period and
 * value, written once here so that every domain counts the same ROs and the
 * same revenue; registering lists, and the SQL and columns the lists share
 * (a vehicle's customer as of `to`, the customer columns).
 *
 * Every query a plugin emits from returns five columns:
 *   store_code, insurer_code (or NULL), numerator, denominator, valid (0/1).
 * The engine adds components of the same (store, insurer), so a KPI whose
 * numerator and denominator come from different tables emits each part with
 * 0 for the other (e.g. insurance.repair_to_premium). */
#ifndef FOURSCORE_PLUGINS_KPI_COMMON_H
#define FOURSCORE_PLUGINS_KPI_COMMON_H
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fourscore/plugin.h>

#define KC_COUNT(a) ((int)(sizeof(a) / sizeof((a)[0])))

/* --- host API --- */

/* Set once in init, before the host calls any compute, and never written
 * again: computes running on several threads only read it. */
static const fsp_host_api *kc_api;

/* --- emitting query rows --- */

/* Emits every row of res (the five columns above). With !per_insurer the
 * insurer column is ignored and components go to the store alone. */
static inline int kc_emit_result(fsp_call *call, const fsp_kpi_args *args, const fsp_result *res)
{
    int nrows = kc_api->result_rows(res);
    if (kc_api->result_cols(res) < 5) {
        kc_api->fail(call, "internal error: a KPI query returned fewer than 5 columns");
        return -1;
    }
    for (int r = 0; r < nrows; r++) {
        const char *store_code = kc_api->result_text(res, r, 0);
        if (!store_code)
            continue;
        const char *insurer_code = args->per_insurer ? kc_api->result_text(res, r, 1) : NULL;
        if (args->per_insurer && !insurer_code)
            continue;
        int num_null = 0, den_null = 0, valid_null = 0;
        double numerator = kc_api->result_number(res, r, 2, &num_null);
        double denominator = kc_api->result_number(res, r, 3, &den_null);
        double valid = kc_api->result_number(res, r, 4, &valid_null);
        if (num_null) numerator = 0.0;      /* sums over nothing are 0 */
        if (den_null) denominator = 0.0;
        if (kc_api->emit(call, store_code, insurer_code, numerator, denominator,
                         !valid_null && valid != 0.0) != 0) {
            kc_api->fail(call, "out of memory while emitting KPI components");
            return -1;
        }
    }
    return 0;
}

/* When the engine asks for some stores alone (args->stores: it recomputes
 * the stores an import changed), kc_query_emit narrows the query to them:
 * the statement becomes a CTE whose rows are kept by store, and MariaDB
 * pushes that condition on the grouped store column down into the query's
 * own derived tables (condition pushdown), so it reads those stores' rows
 * only. A list that does not fit the host's parameters runs the query
 * whole (the engine keeps only the stores it asked for). */
#define KC_MAX_PARAMS 64
#define KC_NARROW_HEAD "WITH kc_q (store_code, insurer_code, numerator, denominator, valid) AS ("
#define KC_NARROW_TAIL ") SELECT * FROM kc_q WHERE store_code IN ("

/* sql narrowed to the stores of args into *text (malloc'd) and params into
 * *all (malloc'd): 1 when done, 0 when not asked or not fitting, -1 when out of memory. */
static inline int kc_narrow(const fsp_kpi_args *args, const char *sql, const fsp_param *params, int nparams,
                            char **text, fsp_param **all)
{
    *text = NULL;
    *all = NULL;
    if (!args->stores || args->nstores <= 0 || nparams + args->nstores > KC_MAX_PARAMS) return 0;
    size_t len = strlen(KC_NARROW_HEAD) + strlen(sql) + strlen(KC_NARROW_TAIL) + 2 * (size_t)args->nstores + 2;
    *text = malloc(len);
    *all = malloc((size_t)(nparams + args->nstores) * sizeof **all);
    if (!*text || !*all) {
        free(*text);
        free(*all);
        return -1;
    }
    size_t o = (size_t)snprintf(*text, len, "%s%s%s", KC_NARROW_HEAD, sql, KC_NARROW_TAIL);
    for (int i = 0; i < args->nstores; i++) o += (size_t)snprintf(*text + o, len - o, i ? ",?" : "?");
    snprintf(*text + o, len - o, ")");
    if (nparams > 0) memcpy(*all, params, (size_t)nparams * sizeof *params);
    for (int i = 0; i < args->nstores; i++) (*all)[nparams + i] = FSP_P_TEXT(args->stores[i]);
    return 1;
}

/* Runs sql (a string literal) with params and emits its rows. */
static inline int kc_query_emit(fsp_call *call, const fsp_kpi_args *args, const char *sql,
                         const fsp_param *params, int nparams)
{
    char *narrowed = NULL;
    fsp_param *all = NULL;
    int narrow = kc_narrow(args, sql, params, nparams, &narrowed, &all);
    if (narrow < 0) {
        kc_api->fail(call, "out of memory while narrowing a KPI query");
        return -1;
    }
    fsp_result *res = NULL;
    int qrc = narrow ? kc_api->query(call, narrowed, all, nparams + args->nstores, &res)
                     : kc_api->query(call, sql, params, nparams, &res);
    free(narrowed);
    free(all);
    if (qrc != 0)
        return -1;      /* the host kept the message and failed the call */
    int rc = kc_emit_result(call, args, res);
    kc_api->result_free(res);
    return rc;
}

/* --- what one data generation computes once --- */

/* A few results a plugin computes once per data generation and key (a
 * `to`, say) and reads for several KPIs: the least recently used slot is
 * replaced. One per use, static: static kc_keep k = KC_KEEP_INIT(free_fn); */
#define KC_KEEP_SLOTS 4
typedef struct kc_keep_slot {
    unsigned long long generation;   /* 0: empty */
    char key[64];
    void *data;
    unsigned long long used;
} kc_keep_slot;
typedef struct kc_keep {
    pthread_mutex_t mu;              /* the slots */
    pthread_mutex_t fill;            /* one fill at a time; the others wait for it and then read it */
    void (*free_data)(void *data);
    kc_keep_slot slot[KC_KEEP_SLOTS];
    unsigned long long clock;
} kc_keep;
#define KC_KEEP_INIT(FREE) { PTHREAD_MUTEX_INITIALIZER, PTHREAD_MUTEX_INITIALIZER, FREE, { { 0 } }, 0 }

/* The kept data of (gen, key), marked used; NULL when none. Under k->mu. */
static inline void *kc_keep_find_locked(kc_keep *k, unsigned long long gen, const char *key)
{
    for (int i = 0; i < KC_KEEP_SLOTS; i++)
        if (k->slot[i].generation == gen && strcmp(k->slot[i].key, key) == 0) {
            k->slot[i].used = ++k->clock;
            return k->slot[i].data;
        }
    return NULL;
}

/* Calls use(call, data, ud) with the data kept for the call's generation and
 * key, made by fill(call, ud, &data) (0, or -1 with the call failed) when it
 * is not kept yet; use runs under the keep's lock and must not query. A
 * host without generations keeps nothing. Returns use's answer, or -1. */
static inline int kc_keep_use(fsp_call *call, kc_keep *k, const char *key, int (*fill)(fsp_call *, void *, void **),
                              int (*use)(fsp_call *, const void *, void *), void *ud)
{
    unsigned long long gen = kc_api->version >= 2 ? kc_api->data_generation(call) : 0;
    if (!gen) {
        void *data = NULL;
        if (fill(call, ud, &data) != 0) return -1;
        int rc = use(call, data, ud);
        k->free_data(data);
        return rc;
    }
    pthread_mutex_lock(&k->mu);
    void *data = kc_keep_find_locked(k, gen, key);
    int rc = data ? use(call, data, ud) : 0;
    pthread_mutex_unlock(&k->mu);
    if (data) return rc;
    pthread_mutex_lock(&k->fill);
    pthread_mutex_lock(&k->mu);                       /* filled while this call waited? */
    data = kc_keep_find_locked(k, gen, key);
    rc = data ? use(call, data, ud) : 0;
    pthread_mutex_unlock(&k->mu);
    if (!data) {
        if (fill(call, ud, &data) != 0) {
            pthread_mutex_unlock(&k->fill);
            return -1;
        }
        pthread_mutex_lock(&k->mu);
        kc_keep_slot *sl = &k->slot[0];
        for (int i = 1; i < KC_KEEP_SLOTS; i++)
            if (k->slot[i].used < sl->used) sl = &k->slot[i];
        if (sl->data) k->free_data(sl->data);
        *sl = (kc_keep_slot){ .generation = gen, .data = data, .used = ++k->clock };
        snprintf(sl->key, sizeof sl->key, "%s", key);
        rc = use(call, data, ud);
        pthread_mutex_unlock(&k->mu);
    }
    pthread_mutex_unlock(&k->fill);
    return rc;
}

/* Frees every kept result (from a plugin's destructor: dlclose). */
static inline void kc_keep_clear(kc_keep *k)
{
    for (int i = 0; i < KC_KEEP_SLOTS; i++) {
        if (k->slot[i].data) k->free_data(k->slot[i].data);
        k->slot[i] = (kc_keep_slot){ 0 };
    }
}

/* --- settings --- */

/* The value in force of the whole-number setting def (one of the plugin's
 * own, registered by kc_register_all, whose range the host enforces on every
 * change). Out of range or not whole all the same (a value stored under an
 * older definition): fails the call naming the setting; returns -1. */
static inline int kc_setting_int(fsp_call *call, const fsp_setting_def *def, int *out)
{
    double v = kc_api->setting(call, def->name, def->default_value);
    if (!(v >= def->min && v <= def->max) || v != (double)(long long)v) {
        char msg[160];
        snprintf(msg, sizeof msg, "setting %s = %g is invalid: expected a whole number from %g to %g",
                 def->name, v, def->min, def->max);
        kc_api->fail(call, msg);
        return -1;
    }
    *out = (int)v;
    return 0;
}

/* Inside a validate callback: the would-be value of the setting def. */
static inline double kc_setting_value(const fsp_setting_values *values, const fsp_setting_def *def)
{
    return kc_api->setting_value(values, def->name, def->default_value);
}

/* --- calendar --- */

/* Number of calendar months meeting [from, to] ('YYYY-MM-DD'); 0 if unparsable. */
static inline int kc_months_meeting(const char *from, const char *to)
{
    int fy, fm, ty, tm;
    if (sscanf(from, "%4d-%2d", &fy, &fm) != 2 || sscanf(to, "%4d-%2d", &ty, &tm) != 2)
        return 0;
    int n = (ty * 12 + tm) - (fy * 12 + fm) + 1;
    return n > 0 ? n : 0;
}

/* --- shared SQL --- */

/* The repair orders that count (kpis.md "Period and scope rules": closed,
 * `closed_at` date in the window, `ro_type` other than internal; payer never
 * excludes one) are exactly the rows of the rollups of schemas/003_rollups.sql
 * (rollup_ro per RO, rollup_ro_day per store and day, rollup_ro_insurer_day),
 * whose `day` is the date part of closed_at. Gross profit = revenue - cost of
 * parts, materials and accessories. */
#define KC_SQL_DAY_GROSS_PROFIT "(revenue - parts_cost - material_cost - accessory_cost)"
#define KC_SQL_DAY_GROSS_PROFIT_COLS "revenue, parts_cost, material_cost, accessory_cost"

/* The period's rows of a pair of per store and day / month rollups as one
 * derived table `d` of store_code and the columns COLS (the ones the
 * statement reads, comma-separated): the whole calendar months of [from,
 * to] from the month table (schemas/011, 013, 014: the same columns as the
 * day table, `day` = the month's first day) and the days of the partial
 * first and last months from the day table. A year reads 12 rows per store
 * instead of 365. DAYT: the day table (rollup_ro_day, rollup_ro_insurer_day,
 * rollup_csi_day, ...); MONTHT: its month table. Six placeholders, from
 * kc_days_of (KC_DAYS_PARAMS). The UNION ALL is materialized into a
 * temporary table at every run, which costs by the width of its rows: a
 * month to date of a few columns of rollup_ro_day at 200 stores takes a
 * third of the time of all of them, hence COLS. */
#define KC_SQL_DAYS(COLS, DAYT, MONTHT) \
    " FROM (SELECT store_code, " COLS " FROM " MONTHT " WHERE day BETWEEN CAST(? AS DATE) AND CAST(? AS DATE)" \
    " UNION ALL SELECT store_code, " COLS " FROM " DAYT " WHERE day BETWEEN CAST(? AS DATE) AND CAST(? AS DATE)" \
    " UNION ALL SELECT store_code, " COLS " FROM " DAYT " WHERE day BETWEEN CAST(? AS DATE) AND CAST(? AS DATE)) d"
/* The same six placeholders reading only the month table, for a period of
 * whole months (the day ranges are then empty, and asserted so). A derived
 * table of one SELECT is merged into the query; KC_SQL_DAYS' UNION ALL is
 * materialized, which doubles the time of a month's query (each month of a
 * trend is one). */
#define KC_SQL_MONTHS(COLS, DAYT, MONTHT) \
    " FROM (SELECT store_code, " COLS " FROM " MONTHT " WHERE day BETWEEN CAST(? AS DATE) AND CAST(? AS DATE)" \
    " AND CAST(? AS DATE) > CAST(? AS DATE) AND CAST(? AS DATE) > CAST(? AS DATE)) d"

/* A statement over a pair of day and month rollups in its two forms: Q is a
 * function-like macro of its FROM clause, COLS the columns it reads
 * (KC_DAYS_SQL2: of two FROM clauses, for two pairs). kc_days_sql_of picks
 * the one for a period. */
typedef struct kc_days_sql {
    const char *any;             /* KC_SQL_DAYS: whole and partial months */
    const char *whole_months;    /* KC_SQL_MONTHS */
} kc_days_sql;
#define KC_DAYS_SQL(...) KC_DAYS_SQL_(__VA_ARGS__)      /* (a pair may come from one macro) */
#define KC_DAYS_SQL_(Q, COLS, DAYT, MONTHT) { Q(KC_SQL_DAYS(COLS, DAYT, MONTHT)), Q(KC_SQL_MONTHS(COLS, DAYT, MONTHT)) }
#define KC_DAYS_SQL2(...) KC_DAYS_SQL2_(__VA_ARGS__)
#define KC_DAYS_SQL2_(Q, C1, D1, M1, C2, D2, M2) \
    { Q(KC_SQL_DAYS(C1, D1, M1), KC_SQL_DAYS(C2, D2, M2)), Q(KC_SQL_MONTHS(C1, D1, M1), KC_SQL_MONTHS(C2, D2, M2)) }
/* The repair-order sums (rollup_ro_day, rollup_ro_month). */
#define KC_RO_DAYS_SQL(Q, COLS) KC_DAYS_SQL(Q, COLS, "rollup_ro_day", "rollup_ro_month")
/* Per store SUM(NUM) over DEN, both over the columns COLS, from the per
 * store and day (month) sums of DAYT and MONTHT; KC_RO_SUMS_SQL: of the
 * repair orders (labour, parts). */
#define KC_SUMS_FROM_(NUM, DEN, FROM) \
    "SELECT store_code, NULL, SUM(" NUM "), " DEN ", 1" FROM " GROUP BY store_code"
#define KC_SUMS_SQL(COLS, NUM, DEN, DAYT, MONTHT) \
    { KC_SUMS_FROM_(NUM, DEN, KC_SQL_DAYS(COLS, DAYT, MONTHT)), \
      KC_SUMS_FROM_(NUM, DEN, KC_SQL_MONTHS(COLS, DAYT, MONTHT)) }
#define KC_RO_SUMS_SQL(COLS, NUM, DEN) KC_SUMS_SQL(COLS, NUM, DEN, "rollup_ro_day", "rollup_ro_month")

/* The three ranges of KC_SQL_DAYS, 'YYYY-MM-DD' each; an unused range
 * runs backwards (from after to) and so holds no day. */
typedef struct kc_days {
    char month_from[11], month_to[11];     /* first days of the whole months */
    char head_from[11], head_to[11];       /* days before the first whole month */
    char tail_from[11], tail_to[11];       /* days after the last whole month */
} kc_days;

static inline int kc_month_days(int y, int m)
{
    static const int dm[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    return m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0) ? 29 : dm[m - 1];
}

/* 'YYYY-MM-DD' of y (1000-9999), m, d into out[11]. */
static inline void kc_ymd(char out[11], int y, int m, int d)
{
    int v[3] = { y, m, d }, w[3] = { 4, 2, 2 }, o = 0;
    for (int i = 0; i < 3; i++) {
        if (i) out[o++] = '-';
        for (int k = w[i] - 1, x = v[i]; k >= 0; k--, x /= 10) out[o + k] = (char)('0' + x % 10);
        o += w[i];
    }
    out[o] = 0;
}

/* Splits args' period (checked by the engine: real dates, from <= to). */
static inline void kc_days_of(const fsp_kpi_args *args, kc_days *d)
{
    int fy = 0, fm = 1, fd = 1, ty = 0, tm = 1, td = 1;
    sscanf(args->from, "%4d-%2d-%2d", &fy, &fm, &fd);
    sscanf(args->to, "%4d-%2d-%2d", &ty, &tm, &td);
    if (fm < 1 || fm > 12) fm = 1;     /* never, after the engine's check */
    if (tm < 1 || tm > 12) tm = 1;
    int first = fy * 12 + fm - 1 + (fd != 1);                  /* first whole month */
    int last = ty * 12 + tm - 1 - (td != kc_month_days(ty, tm)); /* last whole month */
    static const char NONE_FROM[] = "9999-12-31", NONE_TO[] = "1000-01-01";
    if (first > last) {                /* no whole month: all days */
        snprintf(d->month_from, sizeof d->month_from, "%s", NONE_FROM);
        snprintf(d->month_to, sizeof d->month_to, "%s", NONE_TO);
        snprintf(d->head_from, sizeof d->head_from, "%.10s", args->from);
        snprintf(d->head_to, sizeof d->head_to, "%.10s", args->to);
        snprintf(d->tail_from, sizeof d->tail_from, "%s", NONE_FROM);
        snprintf(d->tail_to, sizeof d->tail_to, "%s", NONE_TO);
        return;
    }
    kc_ymd(d->month_from, first / 12, first % 12 + 1, 1);
    kc_ymd(d->month_to, last / 12, last % 12 + 1, 1);
    if (fd != 1) {
        snprintf(d->head_from, sizeof d->head_from, "%.10s", args->from);
        kc_ymd(d->head_to, fy, fm, kc_month_days(fy, fm));
    } else {
        snprintf(d->head_from, sizeof d->head_from, "%s", NONE_FROM);
        snprintf(d->head_to, sizeof d->head_to, "%s", NONE_TO);
    }
    if (td != kc_month_days(ty, tm)) {
        kc_ymd(d->tail_from, ty, tm, 1);
        snprintf(d->tail_to, sizeof d->tail_to, "%.10s", args->to);
    } else {
        snprintf(d->tail_from, sizeof d->tail_from, "%s", NONE_FROM);
        snprintf(d->tail_to, sizeof d->tail_to, "%s", NONE_TO);
    }
}

#define KC_DAYS_PARAMS(d) \
    FSP_P_TEXT((d).month_from), FSP_P_TEXT((d).month_to), FSP_P_TEXT((d).head_from), \
    FSP_P_TEXT((d).head_to), FSP_P_TEXT((d).tail_from), FSP_P_TEXT((d).tail_to)

/* 'YYYY-MM-DD' of `date` - months calendar months, as MariaDB counts it: the
 * same day number, clamped to the end of a shorter month. */
static inline void kc_months_before(const char *date, int months, char out[11])
{
    int y = 2000, m = 1, d = 1;
    sscanf(date, "%4d-%2d-%2d", &y, &m, &d);
    int k = y * 12 + (m - 1) - months;
    y = k / 12;
    m = k % 12 + 1;
    kc_ymd(out, y, m, d < kc_month_days(y, m) ? d : kc_month_days(y, m));
}

/* --- month-end tables --- */

/* How far a month-end table reaches (rollup_horizon, schemas/016 and 017),
 * read once per data generation (the host's data_generation) and kept here;
 * one per plugin: static kc_horizon_memo m = KC_HORIZON_MEMO_INIT; */
typedef struct kc_horizon_memo {
    pthread_mutex_t mu;
    unsigned long long generation;   /* 0: never read */
    char day[11];                    /* "": no horizon */
} kc_horizon_memo;
#define KC_HORIZON_MEMO_INIT { PTHREAD_MUTEX_INITIALIZER, 0, "" }

/* The horizon of the month-end table `name` into day ("" when it holds
 * none). Returns 0, or -1 when the lookup failed (the call has failed). */
static inline int kc_horizon_get(fsp_call *call, kc_horizon_memo *memo, const char *name, char day[11])
{
    unsigned long long gen = kc_api->version >= 2 ? kc_api->data_generation(call) : 0;
    day[0] = 0;
    if (gen) {
        int known = 0;
        pthread_mutex_lock(&memo->mu);
        if (memo->generation == gen) {
            memcpy(day, memo->day, 11);
            known = 1;
        }
        pthread_mutex_unlock(&memo->mu);
        if (known) return 0;
    }
    static const char SQL_HORIZON[] = "SELECT day FROM rollup_horizon WHERE name = ?";
    fsp_param params[] = { FSP_P_TEXT(name) };
    fsp_result *res = NULL;
    if (kc_api->query(call, SQL_HORIZON, params, KC_COUNT(params), &res) != 0)
        return -1;
    const char *v = kc_api->result_rows(res) > 0 ? kc_api->result_text(res, 0, 0) : NULL;
    snprintf(day, 11, "%.10s", v ? v : "");
    kc_api->result_free(res);
    if (gen) {
        pthread_mutex_lock(&memo->mu);
        memo->generation = gen;
        memcpy(memo->day, day, 11);
        pthread_mutex_unlock(&memo->mu);
    }
    return 0;
}

/* *held = 1 when `to` is a month end the month-end table `name` holds (the
 * last day of its month, on or before the horizon). Returns 0, or -1 when
 * the lookup failed (the call has failed). */
static inline int kc_month_end_held(fsp_call *call, kc_horizon_memo *memo, const char *name, const char *to,
                                    int *held)
{
    int y = 0, m = 0, d = 0;
    *held = 0;
    if (sscanf(to, "%4d-%2d-%2d", &y, &m, &d) != 3 || m < 1 || m > 12 || d != kc_month_days(y, m))
        return 0;
    char day[11];
    if (kc_horizon_get(call, memo, name, day) != 0) return -1;
    *held = day[0] && strcmp(to, day) <= 0;
    return 0;
}

/* The held month end of the table `name` nearest `to` (not a held month
 * end itself) into near[11]: the end of the month before `to`'s, or the end
 * of `to`'s own month (*after = 1) when that is held and no farther; ""
 * when the table holds none. Returns 0, or -1 when the lookup failed. */
static inline int kc_month_end_nearest(fsp_call *call, kc_horizon_memo *memo, const char *name, const char *to,
                                       char near[11], int *after)
{
    char day[11];
    near[0] = 0;
    *after = 0;
    if (kc_horizon_get(call, memo, name, day) != 0) return -1;
    int y = 0, m = 0, d = 0;
    if (!day[0] || sscanf(to, "%4d-%2d-%2d", &y, &m, &d) != 3 || m < 1 || m > 12 || y < 1001) return 0;
    char end[11];
    kc_ymd(end, y, m, kc_month_days(y, m));
    int k = y * 12 + (m - 1) - 1;
    kc_ymd(near, k / 12, k % 12 + 1, kc_month_days(k / 12, k % 12 + 1));
    if (strcmp(day, near) < 0) {          /* the horizon is earlier still */
        memcpy(near, day, 11);
        return 0;
    }
    /* days from the month before's end to `to`, and from `to` to its month's end */
    if (strcmp(end, day) <= 0 && kc_month_days(y, m) - d <= d) *after = 1;
    if (*after) memcpy(near, end, 11);
    return 0;
}

/* The form of sql for the period split as d. */
static inline const char *kc_days_sql_of(const kc_days *d, const kc_days_sql *sql)
{
    int whole = strcmp(d->head_from, d->head_to) > 0 && strcmp(d->tail_from, d->tail_to) > 0;
    return whole ? sql->whole_months : sql->any;
}

/* Runs sql, whose only placeholders are one day-and-month source, and emits its rows. */
static inline int kc_query_days_emit(fsp_call *call, const fsp_kpi_args *args, const kc_days_sql *sql)
{
    kc_days d;
    kc_days_of(args, &d);
    fsp_param params[] = { KC_DAYS_PARAMS(d) };
    return kc_query_emit(call, args, kc_days_sql_of(&d, sql), params, KC_COUNT(params));
}

/* Two text parameters: from, to. */
#define KC_PERIOD_PARAMS(args) FSP_P_TEXT((args)->from), FSP_P_TEXT((args)->to)


/* --- registration --- */

/* Registers a plugin's KPIs, the settings it reads (NULL, 0: none) and its
 * check of them (NULL: none); keeps api for the rest of the plugin. */
static inline int kc_register_all(fsp_host *host, const fsp_host_api *api, const fsp_kpi_def *defs, int ndefs,
                                  const fsp_setting_def *settings, int nsettings, fsp_validate_fn validate)
{
    kc_api = api;
    for (int i = 0; i < ndefs; i++)
        if (api->register_kpi(host, &defs[i]) != 0)
            return -1;
    for (int i = 0; i < nsettings; i++)
        if (api->register_setting(host, &settings[i]) != 0)
            return -1;
    if (validate && api->register_validate(host, validate) != 0)
        return -1;
    return 0;
}

/* --- lists (ABI 1.4) --- */

/* Registers a plugin's lists when the host has lists (host API version 4
 * with register_list set; an older host, or one whose list engine is not
 * there, gets the KPIs alone). Call after kc_register_all. */
static inline int kc_register_lists(fsp_host *host, const fsp_list_def *defs, int ndefs)
{
    if (kc_api->version < 4 || kc_api->struct_size <= offsetof(fsp_host_api, register_list) ||
        !kc_api->register_list)
        return 0;
    for (int i = 0; i < ndefs; i++)
        if (kc_api->register_list(host, &defs[i]) != 0)
            return -1;
    return 0;
}

/* Binds params (kept by the caller, at most max) into out; -1 after failing
 * the call when they do not fit. */
static inline int kc_bind_params(fsp_call *call, const fsp_param *params, int n, fsp_param *out, int max)
{
    if (n > max) {
        kc_api->fail(call, "internal error: a list statement has more parameters than the host takes");
        return -1;
    }
    for (int i = 0; i < n; i++) out[i] = params[i];
    return n;
}

/* The phone number of the customer record C (customers.phone). */
#define KC_SQL_PHONE(C) C ".phone"

/* A vehicle's customer as the lists define it (docs/kpis.md, "Lists"):
 * the customer of its last visit's RO, else of its latest sale. From a
 * state row V of rollup_vehicle_state (the vehicle as of `to`; visits before
 * its latest sale belong to an earlier owner and are not in it):
 * KC_SQL_LAST_RO_NO(V) is the RO of its last visit (the latest non-internal
 * RO of the state's day, by closed_at, at the store of the visit; NULL when
 * the state's day is a sale without a visit) and KC_SQL_SALE_DEAL_NO(V) the
 * deal of its latest sale (NULL when it was never sold by the group). */
#define KC_SQL_LAST_RO_NO(V) \
    "(SELECT MIN(vr.ro_no) FROM rollup_vehicle_visit w JOIN repair_orders vr ON vr.vin = w.vin" \
    " AND vr.closed_at = w.last_closed_at AND vr.store_code = w.last_store_code AND vr.ro_type <> 'internal'" \
    " WHERE w.vin = " V ".vin AND w.visit_on = " V ".from_on)"
#define KC_SQL_SALE_DEAL_NO(V) \
    "(SELECT MIN(vs.deal_no) FROM vehicle_sales vs WHERE vs.vin = " V ".vin AND vs.sold_on = " V ".sold_on" \
    " AND vs.store_code = " V ".sale_store_code)"
/* Joined to a derived table X holding last_store_code, last_ro_no,
 * sale_store_code and sale_deal_no (from the two above): the last visit's RO
 * `lr`, the latest sale `ls` and the customer record `c`. */
#define KC_SQL_VEHICLE_CUSTOMER_JOINS(X) \
    " LEFT JOIN repair_orders lr ON lr.store_code = " X ".last_store_code AND lr.ro_no = " X ".last_ro_no" \
    " LEFT JOIN vehicle_sales ls ON ls.store_code = " X ".sale_store_code AND ls.deal_no = " X ".sale_deal_no" \
    " LEFT JOIN customers c ON c.store_code = COALESCE(lr.store_code, ls.store_code)" \
    " AND c.customer_code = COALESCE(lr.customer_code, ls.customer_code)"
/* The customer columns over those joins: customer_store, customer_code, customer_name, phone. */
#define KC_SQL_CUSTOMER_STORE "COALESCE(lr.store_code, ls.store_code)"
#define KC_SQL_CUSTOMER_CODE "COALESCE(lr.customer_code, ls.customer_code)"

/* The list columns of a customer (after store): customer_store second,
 * then wherever the list puts them, customer_code, customer_name, phone. */
#define KC_COL_STORE \
    FSP_COLUMN(.key = "store", .name_zh = "门店", .name_en = "Store", .type = FSP_COL_TEXT)
#define KC_COL_CUSTOMER_STORE \
    FSP_COLUMN(.key = "customer_store", .name_zh = "客户所属门店", .name_en = "Customer's store", .type = FSP_COL_TEXT)
#define KC_COL_CUSTOMER_CODE \
    FSP_COLUMN(.key = "customer_code", .name_zh = "客户编号", .name_en = "Customer code", .type = FSP_COL_TEXT)
#define KC_COL_CUSTOMER_NAME \
    FSP_COLUMN(.key = "customer_name", .name_zh = "客户姓名", .name_en = "Customer name", .type = FSP_COL_TEXT, \
               .flags = FSP_COL_PERSONAL)
#define KC_COL_PHONE \
    FSP_COLUMN(.key = "phone", .name_zh = "电话", .name_en = "Phone", .type = FSP_COL_TEXT, \
               .flags = FSP_COL_PHONE | FSP_COL_PERSONAL)
#define KC_COL_VIN FSP_COLUMN(.key = "vin", .name_zh = "车架号", .name_en = "VIN", .type = FSP_COL_TEXT)
#define KC_COL_MODEL FSP_COLUMN(.key = "model", .name_zh = "车型", .name_en = "Model", .type = FSP_COL_TEXT)
#define KC_COL_SOLD_ON \
    FSP_COLUMN(.key = "sold_on", .name_zh = "购车日期", .name_en = "Sold on", .type = FSP_COL_DATE)

/* --- as-of intervals --- */

/* The rows of an as-of table of schemas/006_asof.sql whose interval may hold
 * `to`: span_class k (the interval lasts at most 2^k days) and a start after
 * `to` - 2^k days, or span_class 99 (no bound). One short key range per
 * class; the caller still tests start <= `to` < end. T: the table's alias,
 * START: its start column. 17 placeholders: `to` each (KC_SPAN_PARAMS). */
#define KC_SPAN_(T, START, K, DAYS) \
    " OR (" T ".span_class = " #K " AND " T "." START " > CAST(? AS DATE) - INTERVAL " #DAYS " DAY)"
#define KC_SQL_SPANS(T, START) \
    " (" T ".span_class = 99" \
    KC_SPAN_(T, START, 0, 1) KC_SPAN_(T, START, 1, 2) KC_SPAN_(T, START, 2, 4) KC_SPAN_(T, START, 3, 8) \
    KC_SPAN_(T, START, 4, 16) KC_SPAN_(T, START, 5, 32) KC_SPAN_(T, START, 6, 64) \
    KC_SPAN_(T, START, 7, 128) KC_SPAN_(T, START, 8, 256) KC_SPAN_(T, START, 9, 512) \
    KC_SPAN_(T, START, 10, 1024) KC_SPAN_(T, START, 11, 2048) KC_SPAN_(T, START, 12, 4096) \
    KC_SPAN_(T, START, 13, 8192) KC_SPAN_(T, START, 14, 16384) KC_SPAN_(T, START, 15, 32768) \
    KC_SPAN_(T, START, 16, 65536) ")"
/* Every span_class of those tables, for a range of the start column alone
 * (start > a AND start <= b): one short key range per class. */
#define KC_SPAN_CLASSES "(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 99)"
#define KC_SPAN_PARAMS(to) \
    FSP_P_TEXT(to), FSP_P_TEXT(to), FSP_P_TEXT(to), FSP_P_TEXT(to), FSP_P_TEXT(to), FSP_P_TEXT(to), \
    FSP_P_TEXT(to), FSP_P_TEXT(to), FSP_P_TEXT(to), FSP_P_TEXT(to), FSP_P_TEXT(to), FSP_P_TEXT(to), \
    FSP_P_TEXT(to), FSP_P_TEXT(to), FSP_P_TEXT(to), FSP_P_TEXT(to), FSP_P_TEXT(to)
#endif
