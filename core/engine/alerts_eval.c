/* alerts_eval: evaluating the alert rules and the life cycle of an alert (see
 * alerts.h). A rule runs as its owner: the owner's scope now, narrowed by the
 * rule's stores and regions (and by the stores an import touched), gives the
 * stores; the KPI engine gives each store's value over the rule's window, or
 * the freshness table each store's latest date. An alert opens with one
 * INSERT that the unique key (rule, store, open) lets through once, and
 * closes with one UPDATE of an open row; the deliveries of either are
 * inserted in the same transaction, so whichever instance wins sends them,
 * once. Also the list of alerts for a caller's scope. Part of core/engine/. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "alerts.h"
#include "app.h"
#include "calendar.h"
#include "counters.h"
#include "freshness.h"
#include "kpi.h"
#include "log.h"

/* A string parameter, NULL as SQL NULL. */
static db_val dbs(const char *s) { return DB_STR(s); }

/* --- dates --- */

static int day_number(const char *ymd)
{
    int y = 0, m = 0, d = 0;
    if (sscanf(ymd, "%4d-%2d-%2d", &y, &m, &d) != 3) return 0;
    return calendar_days_from_civil(y, m, d);
}

static void day_text(int z, char out[11])
{
    int y, m, d;
    calendar_civil_from_days(z, &y, &m, &d);
    unsigned uy = (unsigned)y % 10000u, um = (unsigned)m % 100u, ud = (unsigned)d % 100u;
    char buf[32];
    snprintf(buf, sizeof buf, "%04u-%02u-%02u", uy, um, ud);
    memcpy(out, buf, 10);
    out[10] = '\0';
}

/* The period of a window for today. 0, or -1 for an unknown window. */
static int window_period(const char *window, const char *today, char from[11], char to[11])
{
    int t = day_number(today), y, m, d;
    calendar_civil_from_days(t, &y, &m, &d);
    if (strcmp(window, "month_to_date") == 0) {
        day_text(calendar_days_from_civil(y, m, 1), from);
        day_text(t, to);
    } else if (strcmp(window, "last_month") == 0) {
        int first = calendar_days_from_civil(y, m, 1);
        int py = m == 1 ? y - 1 : y, pm = m == 1 ? 12 : m - 1;
        day_text(calendar_days_from_civil(py, pm, 1), from);
        day_text(first - 1, to);
    } else if (strcmp(window, "last_30_days") == 0) {
        day_text(t - 29, from);
        day_text(t, to);
    } else {
        return -1;
    }
    return 0;
}

/* --- opening and closing --- */

static const char SQL_ALERT_OPEN[] =
    "INSERT IGNORE INTO alerts (rule_name, store_code, kpi, value, threshold, win, from_day, to_day, opened_at, open_flag) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 1)";
static const char SQL_ALERT_CLOSE[] =
    "UPDATE alerts SET closed_at = ?, open_flag = NULL WHERE id = ? AND open_flag = 1";
static const char SQL_ALERTS_OPEN_OF_RULE[] =
    "SELECT id, store_code FROM alerts WHERE rule_name = ? AND open_flag = 1";
static const char SQL_RULE_CLOSE_ALL[] =
    "UPDATE alerts SET closed_at = ?, open_flag = NULL WHERE rule_name = ? AND open_flag = 1";
static const char SQL_DELIVERY_ADD[] =
    "INSERT IGNORE INTO alert_deliveries (alert_id, event, target, kind, format, status, created_at) "
    "VALUES (?, ?, ?, ?, ?, 'pending', ?)";
static const char SQL_RULES_ENABLED[] = "SELECT name, owner, spec FROM alert_rules WHERE enabled = 1 ORDER BY name";
static const char SQL_FRESH_LATEST[] =
    "SELECT DATE_FORMAT(latest, '%Y-%m-%d') FROM freshness WHERE store_code = ? AND entity = ?";

int alerts_close_rule(db_conn *c, const char *rule, char *err, size_t errlen)
{
    char now[20];
    freshness_local_now(now);
    db_val v[2] = { dbs(now), dbs(rule) };
    unsigned long long n = 0;
    if (db_exec(c, SQL_RULE_CLOSE_ALL, v, 2, &n, err, errlen) != 0) return -1;
    if (n) metrics_add(METRIC_ALERTS_CLOSED, (long long)n);
    return 0;
}

/* The delivery rows of an event: every target when it opens, the webhooks when it closes. */
static int add_deliveries(db_conn *c, long long id, const char *event, const cJSON *notify, const char *now,
                          char *err, size_t errlen)
{
    const cJSON *t;
    cJSON_ArrayForEach(t, notify) {
        const cJSON *hook = cJSON_GetObjectItemCaseSensitive(t, "webhook");
        const cJSON *mail = cJSON_GetObjectItemCaseSensitive(t, "email");
        const cJSON *fmt = cJSON_GetObjectItemCaseSensitive(t, "format");
        if (cJSON_IsString(mail) && strcmp(event, "close") == 0) continue;
        const char *target = cJSON_IsString(hook) ? hook->valuestring : cJSON_IsString(mail) ? mail->valuestring : NULL;
        if (!target) continue;
        db_val v[6] = { DB_INT(id), dbs(event), dbs(target), dbs(cJSON_IsString(hook) ? "webhook" : "email"),
                        dbs(cJSON_IsString(hook) && cJSON_IsString(fmt) ? fmt->valuestring : NULL), dbs(now) };
        if (db_exec(c, SQL_DELIVERY_ADD, v, 6, NULL, err, errlen) != 0) return -1;
    }
    return 0;
}

typedef struct finding {
    const char *store;
    double value;
    bool value_null;
    double threshold;
    bool threshold_null;
} finding;

/* Open the alert of (rule, store) unless one is open: 1 opened, 0 open already, -1 error. */
static int alert_open(db_conn *c, const char *rule, const char *kpi, const char *window, const char *from,
                      const char *to, const finding *f, const cJSON *notify, char *err, size_t errlen)
{
    char now[20];
    freshness_local_now(now);
    db_val v[9] = { dbs(rule), dbs(f->store), dbs(kpi),
                    f->value_null ? dbs(NULL) : DB_DBL(f->value),
                    f->threshold_null ? dbs(NULL) : DB_DBL(f->threshold),
                    dbs(window), dbs(from), dbs(to), dbs(now) };
    if (db_begin(c, err, errlen) != 0) return -1;
    unsigned long long n = 0;
    if (db_exec(c, SQL_ALERT_OPEN, v, 9, &n, err, errlen) != 0) goto fail;
    if (n == 1) {
        long long id = (long long)db_last_insert_id(c);
        if (add_deliveries(c, id, "open", notify, now, err, errlen) != 0) goto fail;
    }
    if (db_commit(c, err, errlen) != 0) goto fail;
    if (n == 1) {
        metrics_add(METRIC_ALERTS_OPENED, 1);
        log_info("alerts", "opened: rule %s, store %s", rule, f->store);
    }
    return n == 1;
fail:
    db_rollback(c);
    return -1;
}

/* Close an open alert: 1 closed here, 0 closed already, -1 error. */
static int alert_close(db_conn *c, long long id, const char *rule, const char *store, const cJSON *notify,
                       char *err, size_t errlen)
{
    char now[20];
    freshness_local_now(now);
    db_val v[2] = { dbs(now), DB_INT(id) };
    if (db_begin(c, err, errlen) != 0) return -1;
    unsigned long long n = 0;
    if (db_exec(c, SQL_ALERT_CLOSE, v, 2, &n, err, errlen) != 0 ||
        (n == 1 && add_deliveries(c, id, "close", notify, now, err, errlen) != 0) || db_commit(c, err, errlen) != 0) {
        db_rollback(c);
        return -1;
    }
    if (n == 1) {
        metrics_add(METRIC_ALERTS_CLOSED, 1);
        log_info("alerts", "closed: rule %s, store %s", rule, store);
    }
    return n == 1;
}

/* --- evaluating one rule --- */

typedef struct eval_ctx {
    struct app *a;
    db_conn *c;
    const char *const *stores;     /* the stores an import touched, or NULL */
    int nstores;
    cJSON *catalogue;              /* loaded on first need */
    char today[11];
    alerts_stats *st;
} eval_ctx;

static bool in_list(const char *const *v, int n, const char *s)
{
    for (int i = 0; i < n; i++) if (strcmp(v[i], s) == 0) return true;
    return false;
}

static int strings_of(const cJSON *arr, const char **out, int max)
{
    int n = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, arr) if (cJSON_IsString(e) && n < max) out[n++] = e->valuestring;
    return n;
}

/* The catalogue target of kpi as the bound crossed by v: 1 crossed (*bound
 * set), 0 not, -1 no numeric target. */
static int target_crossed(const cJSON *cat, const char *kpi, double v, double *bound)
{
    const cJSON *e;
    cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(cat, "kpis")) {
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(e, "id");
        if (!cJSON_IsString(id) || strcmp(id->valuestring, kpi) != 0) continue;
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(e, "target");
        const cJSON *d = cJSON_GetObjectItemCaseSensitive(e, "direction");
        const char *dir = cJSON_IsString(d) ? d->valuestring : "";
        if (cJSON_IsNumber(t)) {
            *bound = t->valuedouble;
            if (strcmp(dir, "higher") == 0) return v < t->valuedouble;
            if (strcmp(dir, "lower") == 0) return v > t->valuedouble;
            return -1;
        }
        const cJSON *lo = cJSON_GetObjectItemCaseSensitive(t, "low"), *hi = cJSON_GetObjectItemCaseSensitive(t, "high");
        if (!cJSON_IsNumber(lo) && !cJSON_IsNumber(hi)) return -1;
        if (cJSON_IsNumber(lo) && v < lo->valuedouble) { *bound = lo->valuedouble; return 1; }
        if (cJSON_IsNumber(hi) && v > hi->valuedouble) { *bound = hi->valuedouble; return 1; }
        *bound = cJSON_IsNumber(lo) ? lo->valuedouble : hi->valuedouble;
        return 0;
    }
    return -1;
}

/* Apply what was found for each store: open where it holds, close where it
 * no longer does; a store left out (null value) keeps its state. */
static void apply(eval_ctx *x, const char *rule, const cJSON *spec, const char *kpi, const char *window,
                  const char *from, const char *to, const finding *fs, const bool *holds, int n)
{
    char err[512];
    const cJSON *notify = cJSON_GetObjectItemCaseSensitive(spec, "notify");
    db_val rv = dbs(rule);
    db_result *open = NULL;
    if (db_query(x->c, SQL_ALERTS_OPEN_OF_RULE, &rv, 1, &open, err, sizeof err) != 0) {
        log_warn("alerts", "rule %s: reading its open alerts: %s", rule, err);
        x->st->errors++;
        return;
    }
    for (int i = 0; i < n; i++) {
        long long open_id = 0;
        for (int r = 0; r < open->nrows && !open_id; r++)
            if (strcmp(db_cell(open, r, 1), fs[i].store) == 0) open_id = db_cell_int(open, r, 0);
        int rc = 0;
        if (holds[i] && !open_id) {
            rc = alert_open(x->c, rule, kpi, window, from, to, &fs[i], notify, err, sizeof err);
            if (rc == 1) x->st->opened++;
        } else if (!holds[i] && open_id) {
            rc = alert_close(x->c, open_id, rule, fs[i].store, notify, err, sizeof err);
            if (rc == 1) x->st->closed++;
        }
        if (rc < 0) {
            log_warn("alerts", "rule %s, store %s: %s", rule, fs[i].store, err);
            x->st->errors++;
        }
    }
    db_result_free(open);
}

static int eval_kpi_rule(eval_ctx *x, const char *rule, const cJSON *spec, const store_set *set)
{
    const char *kpi = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(spec, "kpi"));
    const char *when = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(spec, "when"));
    const char *window = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(spec, "window"));
    const cJSON *thr = cJSON_GetObjectItemCaseSensitive(spec, "threshold");
    char from[11], to[11], err[512];
    if (!kpi || !when || !window || window_period(window, x->today, from, to) != 0) return -1;
    bool outside = strcmp(when, "outside_target") == 0;
    if (outside && !x->catalogue) {
        int status;
        x->catalogue = kpi_catalogue_json(x->a, &status, err, sizeof err);
        if (!x->catalogue) { log_warn("alerts", "rule %s: the KPI catalogue: %s", rule, err); return -1; }
    }
    const char *ids[1] = { kpi };
    kpi_request req = { .ids = ids, .nids = 1, .by = "store", .stores = set };
    snprintf(req.from, sizeof req.from, "%s", from);
    snprintf(req.to, sizeof req.to, "%s", to);
    kpi_answer *ans = NULL;
    int status = 0;
    if (kpi_query(x->a, &req, &ans, &status, err, sizeof err) != 0) {
        log_warn("alerts", "rule %s: %s %s..%s: %s", rule, kpi, from, to, err);
        return -1;
    }
    finding *fs = calloc((size_t)ans->nrows + 1, sizeof *fs);
    bool *holds = calloc((size_t)ans->nrows + 1, sizeof *holds);
    int n = 0;
    for (int r = 0; fs && holds && r < ans->nrows; r++) {
        if (ans->rows[r].is_null[0] || !isfinite(ans->rows[r].values[0])) continue;   /* null: neither opens nor closes */
        double v = ans->rows[r].values[0], bound = 0;
        int held;
        if (outside) held = target_crossed(x->catalogue, kpi, v, &bound);
        else {
            bound = cJSON_IsNumber(thr) ? thr->valuedouble : 0;
            held = strcmp(when, "below") == 0 ? v < bound : v > bound;
        }
        if (held < 0) continue;
        fs[n] = (finding){ .store = ans->rows[r].key, .value = v, .threshold = bound };
        holds[n++] = held == 1;
    }
    if (fs && holds) apply(x, rule, spec, kpi, window, from, to, fs, holds, n);
    free(fs);
    free(holds);
    kpi_answer_free(ans);
    return 0;
}

static int eval_missing_rule(eval_ctx *x, const char *rule, const cJSON *spec, const store_set *set)
{
    const cJSON *dm = cJSON_GetObjectItemCaseSensitive(spec, "data_missing");
    const char *entity = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(dm, "entity"));
    const cJSON *days = cJSON_GetObjectItemCaseSensitive(dm, "days");
    if (!entity || !cJSON_IsNumber(days)) return -1;
    finding *fs = calloc((size_t)set->n + 1, sizeof *fs);
    bool *holds = calloc((size_t)set->n + 1, sizeof *holds);
    int n = 0, rc = 0, today = day_number(x->today);
    char err[512];
    for (int i = 0; fs && holds && i < set->n; i++) {
        db_val v[2] = { dbs(set->codes[i]), dbs(entity) };
        db_result *res = NULL;
        if (db_query(x->c, SQL_FRESH_LATEST, v, 2, &res, err, sizeof err) != 0) {
            log_warn("alerts", "rule %s: freshness of %s: %s", rule, set->codes[i], err);
            rc = -1;
            break;
        }
        const char *latest = res->nrows ? db_cell(res, 0, 0) : NULL;
        fs[n] = (finding){ .store = set->codes[i], .threshold = days->valuedouble, .value_null = !latest };
        if (latest) fs[n].value = today - day_number(latest);
        holds[n] = !latest || fs[n].value > days->valuedouble;
        n++;
        db_result_free(res);
    }
    if (rc == 0 && fs && holds) apply(x, rule, spec, NULL, NULL, NULL, NULL, fs, holds, n);
    free(fs);
    free(holds);
    return rc;
}

static void eval_rule(eval_ctx *x, const char *entity, const char *rule, const char *owner_name, const cJSON *spec)
{
    const cJSON *dm = cJSON_GetObjectItemCaseSensitive(spec, "data_missing");
    if (dm && entity) {
        const char *e = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(dm, "entity"));
        if (!e || strcmp(e, entity) != 0) return;      /* another entity's freshness did not move */
    }
    char err[512];
    principal owner;
    int pr = auth_user_principal(x->c, owner_name, &owner, err, sizeof err);
    if (pr <= 0) {
        if (pr < 0) x->st->errors++;
        log_warn("alerts", "rule %s: its owner %s %s", rule, owner_name, pr < 0 ? err : "no longer exists; the rule is skipped");
        return;
    }
    const char *stores[256], *regions[256];
    int ns = strings_of(cJSON_GetObjectItemCaseSensitive(spec, "stores"), stores, 256);
    int nr = strings_of(cJSON_GetObjectItemCaseSensitive(spec, "regions"), regions, 256);
    store_set set = { 0 };
    char bad[128] = "";
    int sr = scope_resolve(x->c, &owner, stores, ns, regions, nr, &set, bad, sizeof bad);
    principal_free(&owner);
    if (sr != 0) {
        x->st->errors++;
        log_warn("alerts", "rule %s: %s %s; the rule is skipped", rule, bad, sr == SCOPE_DB_ERROR ? "" : "is no longer in its owner's scope");
        store_set_free(&set);
        return;
    }
    /* only the stores an import touched */
    if (x->stores) {
        int k = 0;
        for (int i = 0; i < set.n; i++) {
            if (in_list(x->stores, x->nstores, set.codes[i])) { char *t = set.codes[k]; set.codes[k++] = set.codes[i]; set.codes[i] = t; }
        }
        for (int i = k; i < set.n; i++) free(set.codes[i]);
        set.n = k;
    }
    if (set.n > 0) {
        x->st->rules++;
        int rc = dm ? eval_missing_rule(x, rule, spec, &set) : eval_kpi_rule(x, rule, spec, &set);
        if (rc != 0) x->st->errors++;
    }
    store_set_free(&set);
}

int alerts_evaluate(struct app *a, const char *entity, const char *const *stores, int nstores,
                    alerts_stats *st, char *err, size_t errlen)
{
    alerts_stats local = { 0 };
    if (!st) st = &local;
    memset(st, 0, sizeof *st);
    db_conn *c = db_acquire(a->db, 5000, err, errlen);
    if (!c) return -1;
    db_result *rules = NULL;
    if (db_query(c, SQL_RULES_ENABLED, NULL, 0, &rules, err, errlen) != 0) {
        db_release(a->db, c);
        return -1;
    }
    char now[20];
    freshness_local_now(now);
    eval_ctx x = { .a = a, .c = c, .stores = stores, .nstores = stores ? nstores : 0, .st = st };
    memcpy(x.today, now, 10);
    x.today[10] = '\0';
    for (int i = 0; i < rules->nrows; i++) {
        cJSON *spec = cJSON_Parse(db_cell(rules, i, 2));
        if (!spec) { st->errors++; continue; }
        eval_rule(&x, entity, db_cell(rules, i, 0), db_cell(rules, i, 1), spec);
        cJSON_Delete(spec);
    }
    cJSON_Delete(x.catalogue);
    db_result_free(rules);
    db_release(a->db, c);
    return 0;
}

/* --- the list --- */

static const char SQL_ALERTS_PAGE[] =
    "SELECT a.id, a.rule_name, a.kpi, a.store_code, s.name, a.value, a.threshold, a.win, "
    "DATE_FORMAT(a.from_day, '%Y-%m-%d'), DATE_FORMAT(a.to_day, '%Y-%m-%d'), "
    "DATE_FORMAT(a.opened_at, '%Y-%m-%d %H:%i:%s'), DATE_FORMAT(a.closed_at, '%Y-%m-%d %H:%i:%s') "
    "FROM alerts a LEFT JOIN stores s ON s.store_code = a.store_code "
    "WHERE a.id < ? AND (? = 'all' OR (? = 'open' AND a.open_flag = 1) OR (? = 'closed' AND a.open_flag IS NULL)) "
    "AND (? IS NULL OR a.store_code = ?) AND (? IS NULL OR a.kpi = ?) AND (? IS NULL OR a.rule_name = ?) "
    "ORDER BY a.id DESC LIMIT 1000";
static const char SQL_DELIVERIES_RANGE[] =
    "SELECT alert_id, target, event, status, attempts, last_error, kind FROM alert_deliveries "
    "WHERE alert_id BETWEEN ? AND ? ORDER BY id";

static cJSON *num_or_null(const db_result *r, int row, int col)
{
    bool is_null = false;
    double v = db_cell_double(r, row, col, &is_null);
    return is_null ? cJSON_CreateNull() : cJSON_CreateNumber(v);
}

static cJSON *str_or_null(const char *s) { return s ? cJSON_CreateString(s) : cJSON_CreateNull(); }

/* A webhook's query (the robot's key or access token) is a secret that lets
 * anyone post to the group: the list shows the first 4 characters of its
 * value only (key=k123…). */
static void target_shown(const char *target, bool webhook, char *out, size_t cap)
{
    const char *q = webhook ? strchr(target, '?') : NULL;
    const char *eq = q ? strchr(q, '=') : NULL;
    const char *secret = eq ? eq + 1 : q ? q + 1 : NULL;
    if (!secret || strlen(secret) <= 4) { snprintf(out, cap, "%s", target); return; }
    snprintf(out, cap, "%.*s%.4s…", (int)(secret - target), target, secret);
}

static int add_deliveries_json(db_conn *c, cJSON *arr, long long lo, long long hi, char *err, size_t errlen)
{
    db_val v[2] = { DB_INT(lo), DB_INT(hi) };
    db_result *res = NULL;
    if (db_query(c, SQL_DELIVERIES_RANGE, v, 2, &res, err, errlen) != 0) return -1;
    cJSON *al;
    cJSON_ArrayForEach(al, arr) {
        long long id = (long long)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(al, "id"));
        cJSON *d = cJSON_AddArrayToObject(al, "deliveries");
        for (int i = 0; d && i < res->nrows; i++) {
            if (db_cell_int(res, i, 0) != id) continue;
            cJSON *o = cJSON_CreateObject();
            char shown[720];
            target_shown(db_cell(res, i, 1), strcmp(db_cell(res, i, 6), "webhook") == 0, shown, sizeof shown);
            cJSON_AddStringToObject(o, "target", shown);
            cJSON_AddStringToObject(o, "event", db_cell(res, i, 2));
            cJSON_AddStringToObject(o, "status", db_cell(res, i, 3));
            cJSON_AddNumberToObject(o, "attempts", (double)db_cell_int(res, i, 4));
            cJSON_AddItemToObject(o, "last_error", str_or_null(db_cell(res, i, 5)));
            cJSON_AddItemToArray(d, o);
        }
    }
    db_result_free(res);
    return 0;
}

/* One alert row as the API answers it (without deliveries). */
static cJSON *alert_row_json(const db_result *r, int i)
{
    cJSON *o = cJSON_CreateObject();
    if (!o) return NULL;
    cJSON_AddNumberToObject(o, "id", (double)db_cell_int(r, i, 0));
    cJSON_AddStringToObject(o, "rule", db_cell(r, i, 1));
    cJSON_AddItemToObject(o, "kpi", str_or_null(db_cell(r, i, 2)));
    cJSON_AddStringToObject(o, "store", db_cell(r, i, 3));
    cJSON_AddItemToObject(o, "store_name", str_or_null(db_cell(r, i, 4)));
    cJSON_AddItemToObject(o, "value", num_or_null(r, i, 5));
    cJSON_AddItemToObject(o, "threshold", num_or_null(r, i, 6));
    cJSON_AddItemToObject(o, "window", str_or_null(db_cell(r, i, 7)));
    cJSON_AddItemToObject(o, "from", str_or_null(db_cell(r, i, 8)));
    cJSON_AddItemToObject(o, "to", str_or_null(db_cell(r, i, 9)));
    cJSON_AddItemToObject(o, "opened_at", str_or_null(db_cell(r, i, 10)));
    cJSON_AddItemToObject(o, "closed_at", str_or_null(db_cell(r, i, 11)));
    return o;
}

cJSON *alerts_json(db_conn *c, const principal *who, const alerts_filter *f, char *err, size_t errlen)
{
    cJSON *arr = cJSON_CreateArray();
    if (!arr) { snprintf(err, errlen, "out of memory"); return NULL; }
    long long before = f->before > 0 ? f->before : 9223372036854775807LL;
    int got = 0;
    long long lo = 0, hi = 0;
    for (;;) {
        db_val v[10] = { DB_INT(before), dbs(f->state), dbs(f->state), dbs(f->state),
                         dbs(f->store), dbs(f->store), dbs(f->kpi), dbs(f->kpi),
                         dbs(f->rule), dbs(f->rule) };
        db_result *res = NULL;
        if (db_query(c, SQL_ALERTS_PAGE, v, 10, &res, err, errlen) != 0) { cJSON_Delete(arr); return NULL; }
        int rows = res->nrows;
        for (int i = 0; i < rows && got < f->limit; i++) {
            before = db_cell_int(res, i, 0);
            if (!who->all_stores && !principal_sees_store(who, db_cell(res, i, 3))) continue;
            cJSON *o = alert_row_json(res, i);
            if (!o) continue;
            cJSON_AddItemToArray(arr, o);
            if (!hi) hi = before;
            lo = before;
            got++;
        }
        db_result_free(res);
        if (rows < 1000 || got >= f->limit) break;
    }
    if (got && add_deliveries_json(c, arr, lo, hi, err, errlen) != 0) { cJSON_Delete(arr); return NULL; }
    return arr;
}

static const char SQL_ALERT_BY_ID[] =
    "SELECT a.id, a.rule_name, a.kpi, a.store_code, s.name, a.value, a.threshold, a.win, "
    "DATE_FORMAT(a.from_day, '%Y-%m-%d'), DATE_FORMAT(a.to_day, '%Y-%m-%d'), "
    "DATE_FORMAT(a.opened_at, '%Y-%m-%d %H:%i:%s'), DATE_FORMAT(a.closed_at, '%Y-%m-%d %H:%i:%s') "
    "FROM alerts a LEFT JOIN stores s ON s.store_code = a.store_code WHERE a.id = ?";

int alert_by_id(db_conn *c, long long id, cJSON **out, char *err, size_t errlen)
{
    *out = NULL;
    db_val v = DB_INT(id);
    db_result *res = NULL;
    if (db_query(c, SQL_ALERT_BY_ID, &v, 1, &res, err, errlen) != 0) return -1;
    if (res->nrows) *out = alert_row_json(res, 0);
    int found = *out != NULL;
    db_result_free(res);
    return found;
}
