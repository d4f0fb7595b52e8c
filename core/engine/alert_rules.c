/* alert_rules: the alert rules (see alerts.h): each checked member by member
 * on save, with a 400 naming the member that is wrong, a 403 for a store or
 * region outside the owner's scope, and stored as the JSON the API answers.
 * Who may manage which rule: admins every rule, regional managers their own.
 * Part of core/engine/. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "alerts.h"
#include "app.h"
#include "entities.h"
#include "freshness.h"
#include "kpi.h"
#include "log.h"
#include "notify.h"

/* A string parameter, NULL as SQL NULL. */
static db_val dbs(const char *s) { return DB_STR(s); }

#define DEFAULT_WEBHOOK_HOSTS "qyapi.weixin.qq.com,oapi.dingtalk.com"
#define MAX_NOTIFY   16
#define MAX_RULE_CODES 256

bool alert_rule_name_valid(const char *name)
{
    if (!name) return false;
    size_t n = strlen(name);
    if (n < 1 || n > ALERT_RULE_NAME_MAX) return false;
    for (size_t i = 0; i < n; i++) {
        char ch = name[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_' || ch == '-')) return false;
    }
    return true;
}

/* --- where notifications may go --- */

int alerts_webhook_allowed(const char *url, char *err, size_t errlen)
{
    char host[256];
    if (notify_url_host(url, host, sizeof host) != 0) {
        snprintf(err, errlen, "\"%.200s\" is not an http:// or https:// URL", url ? url : "");
        return -1;
    }
    const char *hosts = config_env("FOURSCORE_WEBHOOK_HOSTS");
    if (!hosts) hosts = DEFAULT_WEBHOOK_HOSTS;
    if (!notify_list_has(hosts, host)) {
        snprintf(err, errlen, "the webhook host %.200s is not one this server may send to (FOURSCORE_WEBHOOK_HOSTS: %.200s)",
                 host, hosts);
        return -1;
    }
    return 0;
}

int alerts_email_allowed(const char *address, bool admin, char *err, size_t errlen)
{
    const char *at = address ? strrchr(address, '@') : NULL;
    bool shape = at && at > address && at[1] && strlen(address) <= 254 && !strchr(at + 1, '@');
    for (const char *p = address; shape && *p; p++)
        if ((unsigned char)*p <= ' ' || *p == '<' || *p == '>' || *p == ',' || *p == '"' || *p == '\\') shape = false;
    if (!shape) {
        snprintf(err, errlen, "\"%.200s\" is not an email address", address ? address : "");
        return -1;
    }
    const char *domains = config_env("FOURSCORE_MAIL_DOMAINS");
    if (!domains) {
        if (admin) return 0;
        snprintf(err, errlen, "%.200s: only admins may send mail while FOURSCORE_MAIL_DOMAINS is not set", address);
        return -1;
    }
    if (!notify_list_has(domains, at + 1)) {
        snprintf(err, errlen, "the mail domain %.200s is not one this server may send to (FOURSCORE_MAIL_DOMAINS: %.200s)",
                 at + 1, domains);
        return -1;
    }
    return 0;
}

/* --- checking a rule --- */

typedef struct check {
    char *field;
    size_t fieldlen;
    char *err;
    size_t errlen;
} check;

static int bad(check *k, const char *field, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int bad(check *k, const char *field, const char *fmt, ...)
{
    snprintf(k->field, k->fieldlen, "%s", field);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(k->err, k->errlen, fmt, ap);
    va_end(ap);
    return 400;
}

static const cJSON *catalogue_kpi(const cJSON *cat, const char *id)
{
    const cJSON *e;
    cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(cat, "kpis")) {
        const cJSON *i = cJSON_GetObjectItemCaseSensitive(e, "id");
        if (cJSON_IsString(i) && strcmp(i->valuestring, id) == 0) return e;
    }
    return NULL;
}

static bool has_string(const cJSON *arr, const char *s)
{
    const cJSON *e;
    cJSON_ArrayForEach(e, arr) if (cJSON_IsString(e) && strcmp(e->valuestring, s) == 0) return true;
    return false;
}

/* Whether the catalogue entry has a numeric target outside_target can use:
 * a number with a direction, or a band with at least one bound. */
static bool numeric_target(const cJSON *entry)
{
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(entry, "target");
    const cJSON *d = cJSON_GetObjectItemCaseSensitive(entry, "direction");
    if (cJSON_IsNumber(t))
        return cJSON_IsString(d) && (strcmp(d->valuestring, "higher") == 0 || strcmp(d->valuestring, "lower") == 0);
    if (cJSON_IsObject(t))
        return cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(t, "low")) ||
               cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(t, "high"));
    return false;
}

/* The codes of member name (an array of strings) into out; 400 when malformed. */
static int codes_member(check *k, const cJSON *body, const char *name, const char **out, int *n)
{
    *n = 0;
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(body, name);
    if (!arr || cJSON_IsNull(arr)) return 0;
    if (!cJSON_IsArray(arr)) return bad(k, name, "%s: an array of codes", name);
    const cJSON *e;
    cJSON_ArrayForEach(e, arr) {
        if (!cJSON_IsString(e) || !*e->valuestring || strlen(e->valuestring) > 32)
            return bad(k, name, "%s: every item is a code (1 to 32 characters)", name);
        if (*n >= MAX_RULE_CODES) return bad(k, name, "%s: at most 256 codes", name);
        out[(*n)++] = e->valuestring;
    }
    return 0;
}

/* The notify targets, checked and copied into rule; 400 naming the target. */
static int check_notify(check *k, const cJSON *body, bool admin, cJSON *rule)
{
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(body, "notify");
    if (!cJSON_IsArray(arr) || cJSON_GetArraySize(arr) == 0)
        return bad(k, "notify", "notify: at least one target, [{\"webhook\":URL,\"format\":\"json\"|\"wecom\"|\"dingtalk\"} or {\"email\":ADDRESS}]");
    if (cJSON_GetArraySize(arr) > MAX_NOTIFY) return bad(k, "notify", "notify: at most 16 targets");
    cJSON *out = cJSON_AddArrayToObject(rule, "notify");
    int i = 0;
    const cJSON *t;
    cJSON_ArrayForEach(t, arr) {
        char field[48], why[600];
        const cJSON *hook = cJSON_GetObjectItemCaseSensitive(t, "webhook");
        const cJSON *mail = cJSON_GetObjectItemCaseSensitive(t, "email");
        if (!cJSON_IsObject(t) || (!hook == !mail)) {
            snprintf(field, sizeof field, "notify[%d]", i);
            return bad(k, field, "%s: a target is {\"webhook\":URL,\"format\":...} or {\"email\":ADDRESS}", field);
        }
        cJSON *o = cJSON_CreateObject();
        cJSON_AddItemToArray(out, o);
        if (hook) {
            snprintf(field, sizeof field, "notify[%d].webhook", i);
            if (!cJSON_IsString(hook) || strlen(hook->valuestring) > 600)
                return bad(k, field, "%s: a URL of at most 600 characters", field);
            if (alerts_webhook_allowed(hook->valuestring, why, sizeof why) != 0) {
                snprintf(k->field, k->fieldlen, "%s", field);
                snprintf(k->err, k->errlen, "%s: %s", field, why);
                return 400;
            }
            const cJSON *fmt = cJSON_GetObjectItemCaseSensitive(t, "format");
            const char *f = cJSON_IsString(fmt) ? fmt->valuestring : fmt && !cJSON_IsNull(fmt) ? "?" : "json";
            snprintf(field, sizeof field, "notify[%d].format", i);
            if (strcmp(f, "json") != 0 && strcmp(f, "wecom") != 0 && strcmp(f, "dingtalk") != 0)
                return bad(k, field, "%s: one of json, wecom, dingtalk", field);
            cJSON_AddStringToObject(o, "webhook", hook->valuestring);
            cJSON_AddStringToObject(o, "format", f);
        } else {
            snprintf(field, sizeof field, "notify[%d].email", i);
            if (!cJSON_IsString(mail)) return bad(k, field, "%s: an email address", field);
            if (alerts_email_allowed(mail->valuestring, admin, why, sizeof why) != 0) {
                snprintf(k->field, k->fieldlen, "%s", field);
                snprintf(k->err, k->errlen, "%s: %s", field, why);
                return 400;
            }
            cJSON_AddStringToObject(o, "email", mail->valuestring);
        }
        i++;
    }
    return 0;
}

/* The KPI part of a rule (kpi, when, threshold, window) into rule. */
static int check_kpi_rule(struct app *a, check *k, const cJSON *body, const char *kpi, cJSON *rule)
{
    int status = 500;
    char cerr[256];
    cJSON *cat = kpi_catalogue_json(a, &status, cerr, sizeof cerr);
    if (!cat) {
        snprintf(k->err, k->errlen, "the KPI catalogue: %s", cerr);
        return status;
    }
    int rc = 0;
    const cJSON *entry = catalogue_kpi(cat, kpi);
    const cJSON *when = cJSON_GetObjectItemCaseSensitive(body, "when");
    const cJSON *thr = cJSON_GetObjectItemCaseSensitive(body, "threshold");
    const cJSON *win = cJSON_GetObjectItemCaseSensitive(body, "window");
    const char *w = cJSON_IsString(when) ? when->valuestring : "";
    const char *wn = cJSON_IsString(win) ? win->valuestring : win && !cJSON_IsNull(win) ? "?" : "month_to_date";
    bool has_thr = thr && !cJSON_IsNull(thr);
    if (!entry)
        rc = bad(k, "kpi", "kpi: no KPI \"%.128s\" in the catalogue (GET /api/v1/kpis)", kpi);
    else if (!has_string(cJSON_GetObjectItemCaseSensitive(entry, "by"), "store"))
        rc = bad(k, "kpi", "kpi: %.128s is not answered by store, so no rule can watch it store by store", kpi);
    else if (strcmp(w, "below") != 0 && strcmp(w, "above") != 0 && strcmp(w, "outside_target") != 0)
        rc = bad(k, "when", "when: one of below, above, outside_target");
    else if (strcmp(w, "outside_target") != 0 && !cJSON_IsNumber(thr))
        rc = bad(k, "threshold", "threshold: a number is required with when \"%s\"", w);
    else if (strcmp(w, "outside_target") != 0 && !isfinite(thr->valuedouble))
        rc = bad(k, "threshold", "threshold: a finite number");
    else if (strcmp(w, "outside_target") == 0 && has_thr)
        rc = bad(k, "threshold", "threshold: outside_target uses the catalogue target; leave threshold out");
    else if (strcmp(w, "outside_target") == 0 && !numeric_target(entry))
        rc = bad(k, "when", "when: %.128s has no numeric target (a number with a direction, or a band), so outside_target cannot apply", kpi);
    else if (strcmp(wn, "month_to_date") != 0 && strcmp(wn, "last_month") != 0 && strcmp(wn, "last_30_days") != 0)
        rc = bad(k, "window", "window: one of month_to_date, last_month, last_30_days");
    if (rc == 0) {
        cJSON_AddStringToObject(rule, "kpi", kpi);
        cJSON_AddStringToObject(rule, "when", w);
        if (strcmp(w, "outside_target") != 0) cJSON_AddNumberToObject(rule, "threshold", thr->valuedouble);
        cJSON_AddStringToObject(rule, "window", wn);
    }
    cJSON_Delete(cat);
    return rc;
}

static int check_missing_rule(check *k, const cJSON *body, const cJSON *dm, cJSON *rule)
{
    const char *kpi_only[] = { "when", "threshold", "window" };
    for (size_t i = 0; i < 3; i++) {
        const cJSON *m = cJSON_GetObjectItemCaseSensitive(body, kpi_only[i]);
        if (m && !cJSON_IsNull(m)) return bad(k, kpi_only[i], "%s: a data_missing rule takes no when, threshold or window", kpi_only[i]);
    }
    if (!cJSON_IsObject(dm)) return bad(k, "data_missing", "data_missing: {\"entity\":ENTITY,\"days\":N}");
    const cJSON *ent = cJSON_GetObjectItemCaseSensitive(dm, "entity");
    const cJSON *days = cJSON_GetObjectItemCaseSensitive(dm, "days");
    const entity_def *e = cJSON_IsString(ent) ? entity_find(ent->valuestring) : NULL;
    if (!e || !e->latest)
        return bad(k, "data_missing.entity", "data_missing.entity: an entity whose freshness is kept (repair_orders, vehicle_sales, "
                   "insurance_policies, invoices, payments, parts_stock, follow_up_calls, csi_surveys, appointments, store_financials)");
    if (!cJSON_IsNumber(days) || days->valuedouble != floor(days->valuedouble) || days->valuedouble < 0 || days->valuedouble > 3650)
        return bad(k, "data_missing.days", "data_missing.days: a whole number of days from 0 to 3650");
    cJSON *o = cJSON_AddObjectToObject(rule, "data_missing");
    cJSON_AddStringToObject(o, "entity", e->name);
    cJSON_AddNumberToObject(o, "days", days->valuedouble);
    return 0;
}

/* The whole rule checked against the owner (principal): the normalized rule
 * into *out, or a status with field and err. */
static int check_rule(struct app *a, db_conn *c, const principal *owner, const char *name, const cJSON *body,
                      cJSON **out, bool *out_of_scope, check *k)
{
    *out = NULL;
    cJSON *rule = cJSON_CreateObject();
    if (!rule) { snprintf(k->err, k->errlen, "out of memory"); return 500; }
    cJSON_AddStringToObject(rule, "name", name);
    const cJSON *kpi = cJSON_GetObjectItemCaseSensitive(body, "kpi");
    const cJSON *dm = cJSON_GetObjectItemCaseSensitive(body, "data_missing");
    bool has_kpi = kpi && !cJSON_IsNull(kpi), has_dm = dm && !cJSON_IsNull(dm);
    int rc = 0;
    if (has_kpi && has_dm) rc = bad(k, "kpi", "kpi: a rule watches a KPI or data_missing, not both");
    else if (!has_kpi && !has_dm) rc = bad(k, "kpi", "kpi: the KPI id the rule watches (or data_missing)");
    else if (has_kpi && !cJSON_IsString(kpi)) rc = bad(k, "kpi", "kpi: a KPI id such as service.revenue");
    else if (has_kpi) rc = check_kpi_rule(a, k, body, kpi->valuestring, rule);
    else rc = check_missing_rule(k, body, dm, rule);

    const char *stores[MAX_RULE_CODES], *regions[MAX_RULE_CODES];
    int ns = 0, nr = 0;
    if (rc == 0) rc = codes_member(k, body, "stores", stores, &ns);
    if (rc == 0) rc = codes_member(k, body, "regions", regions, &nr);
    if (rc == 0 && (ns || nr)) {
        store_set set = { 0 };
        char badc[128] = "";
        int sr = scope_resolve(c, owner, stores, ns, regions, nr, &set, badc, sizeof badc);
        store_set_free(&set);
        if (sr == SCOPE_DB_ERROR) {
            snprintf(k->err, k->errlen, "%s", badc);
            rc = 503;
        } else if (sr != 0) {
            bool is_store = false;
            for (int i = 0; i < ns; i++) is_store = is_store || strcmp(stores[i], badc) == 0;
            snprintf(k->field, k->fieldlen, "%s", is_store ? "stores" : "regions");
            snprintf(k->err, k->errlen, "%s %.64s is outside the scope of the rule's owner %.64s", is_store ? "store" : "region",
                     badc, owner->name);
            *out_of_scope = true;
            rc = 403;
        }
    }
    if (rc == 0) {
        cJSON *s = cJSON_AddArrayToObject(rule, "stores");
        for (int i = 0; i < ns; i++) cJSON_AddItemToArray(s, cJSON_CreateString(stores[i]));
        cJSON *r = cJSON_AddArrayToObject(rule, "regions");
        for (int i = 0; i < nr; i++) cJSON_AddItemToArray(r, cJSON_CreateString(regions[i]));
        rc = check_notify(k, body, owner->role == ROLE_ADMIN, rule);
    }
    const cJSON *en = cJSON_GetObjectItemCaseSensitive(body, "enabled");
    if (rc == 0 && en && !cJSON_IsNull(en) && !cJSON_IsBool(en)) rc = bad(k, "enabled", "enabled: true or false");
    if (rc == 0) cJSON_AddBoolToObject(rule, "enabled", !cJSON_IsFalse(en));
    if (rc != 0) { cJSON_Delete(rule); return rc; }
    *out = rule;
    return 0;
}

/* --- storing --- */

static const char SQL_RULE_OWNER_LOCK[] = "SELECT owner FROM alert_rules WHERE name = ? FOR UPDATE";
static const char SQL_RULE_OWNER[] = "SELECT owner FROM alert_rules WHERE name = ?";
static const char SQL_RULE_UPSERT[] =
    "INSERT INTO alert_rules (name, owner, spec, enabled, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?) "
    "ON DUPLICATE KEY UPDATE spec = VALUES(spec), enabled = VALUES(enabled), updated_at = VALUES(updated_at)";
static const char SQL_RULE_DELETE[] = "DELETE FROM alert_rules WHERE name = ?";
static const char SQL_RULES_ALL[] = "SELECT name, owner, spec FROM alert_rules ORDER BY name";
static const char SQL_RULES_OWNED[] = "SELECT name, owner, spec FROM alert_rules WHERE owner = ? ORDER BY name";

/* The owner of a stored rule into owner: 1, 0 none, -1 error. */
static int rule_owner(db_conn *c, const char *sql, const char *name, char *owner, size_t cap, char *err, size_t errlen)
{
    db_val v = dbs(name);
    db_result *res = NULL;
    if (db_query(c, sql, &v, 1, &res, err, errlen) != 0) return -1;
    int found = res->nrows > 0;
    if (found) snprintf(owner, cap, "%s", db_cell(res, 0, 0));
    db_result_free(res);
    return found;
}

int alert_rule_put(struct app *a, const principal *who, const char *name, const cJSON *body, cJSON **saved,
                   bool *out_of_scope, char *field, size_t fieldlen, char *err, size_t errlen)
{
    *saved = NULL;
    *out_of_scope = false;
    field[0] = '\0';
    check k = { field, fieldlen, err, errlen };
    if (!alert_rule_name_valid(name)) return bad(&k, "name", "name: 1 to 64 of a-z 0-9 _ -");
    if (!cJSON_IsObject(body)) return bad(&k, "body", "body: the rule as a JSON object");
    db_conn *c = db_acquire(a->db, 5000, err, errlen);
    if (!c) return 503;
    char owner_name[72] = "";
    int found = rule_owner(c, SQL_RULE_OWNER, name, owner_name, sizeof owner_name, err, errlen);
    if (found < 0) { db_release(a->db, c); return 503; }
    if (found && strcmp(owner_name, who->name) != 0 && who->role != ROLE_ADMIN) {
        db_release(a->db, c);
        snprintf(err, errlen, "the rule %s belongs to %s; only its owner or an admin may replace it", name, owner_name);
        return 403;
    }
    /* the owner stays (an admin replacing another's rule); their scope decides */
    principal other;
    const principal *owner = who;
    bool loaded = false;
    if (found && strcmp(owner_name, who->name) != 0) {
        int pr = auth_user_principal(c, owner_name, &other, err, errlen);
        if (pr < 0) { db_release(a->db, c); return 503; }
        if (pr == 0) {
            db_release(a->db, c);
            snprintf(err, errlen, "the owner %s of the rule %s no longer exists; delete the rule and make it again", owner_name, name);
            return 409;
        }
        owner = &other;
        loaded = true;
    }
    cJSON *rule = NULL;
    int rc = check_rule(a, c, owner, name, body, &rule, out_of_scope, &k);
    if (rc != 0) goto done;
    char *spec = cJSON_PrintUnformatted(rule);
    char now[20];
    freshness_local_now(now);
    int enabled = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(rule, "enabled"));
    db_val v[6] = { dbs(name), dbs(owner->name), dbs(spec), DB_INT(enabled), dbs(now), dbs(now) };
    char dummy[72];
    rc = 503;
    if (!spec) { snprintf(err, errlen, "out of memory"); rc = 500; }
    else if (db_begin(c, err, errlen) == 0) {
        int again = rule_owner(c, SQL_RULE_OWNER_LOCK, name, dummy, sizeof dummy, err, errlen);
        if (again > 0 && strcmp(dummy, owner->name) != 0) {
            /* another user made a rule of this name meanwhile */
            db_rollback(c);
            free(spec);
            snprintf(err, errlen, "the rule %s was just made by %s; choose another name", name, dummy);
            rc = 409;
            goto done;
        }
        if (again >= 0 && db_exec(c, SQL_RULE_UPSERT, v, 6, NULL, err, errlen) == 0 &&
            (again == 0 || alerts_close_rule(c, name, err, errlen) == 0) &&
            audit_log(c, who, "alert_rule.save", name, spec, err, errlen) == 0 && db_commit(c, err, errlen) == 0)
            rc = again ? 200 : 201;
        else
            db_rollback(c);
    }
    free(spec);
    if (rc == 200 || rc == 201) {
        cJSON_AddStringToObject(rule, "owner", owner->name);
        *saved = rule;
        rule = NULL;
        log_info("alerts", "rule %s saved by %s", name, who->name);
    }
done:
    cJSON_Delete(rule);
    if (loaded) principal_free(&other);
    db_release(a->db, c);
    return rc;
}

cJSON *alert_rules_json(db_conn *c, const principal *who, char *err, size_t errlen)
{
    db_val v = dbs(who->name);
    db_result *res = NULL;
    bool all = who->role == ROLE_ADMIN;
    if (db_query(c, all ? SQL_RULES_ALL : SQL_RULES_OWNED, all ? NULL : &v, all ? 0 : 1, &res, err, errlen) != 0)
        return NULL;
    cJSON *arr = cJSON_CreateArray();
    for (int i = 0; arr && i < res->nrows; i++) {
        cJSON *r = cJSON_Parse(db_cell(res, i, 2));
        if (!r) continue;
        cJSON_AddStringToObject(r, "owner", db_cell(res, i, 1));
        cJSON_AddItemToArray(arr, r);
    }
    db_result_free(res);
    if (!arr) snprintf(err, errlen, "out of memory");
    return arr;
}

int alert_rule_delete(db_conn *c, const principal *who, const char *name, char *err, size_t errlen)
{
    if (db_begin(c, err, errlen) != 0) return 503;
    char owner[72];
    int found = rule_owner(c, SQL_RULE_OWNER_LOCK, name, owner, sizeof owner, err, errlen);
    int rc = 503;
    db_val v = dbs(name);
    if (found < 0) {
        rc = 503;
    } else if (!found) {
        snprintf(err, errlen, "no alert rule named \"%.64s\"", name);
        rc = 404;
    } else if (strcmp(owner, who->name) != 0 && who->role != ROLE_ADMIN) {
        snprintf(err, errlen, "the rule %s belongs to %s; only its owner or an admin may delete it", name, owner);
        rc = 403;
    } else if (db_exec(c, SQL_RULE_DELETE, &v, 1, NULL, err, errlen) == 0 && alerts_close_rule(c, name, err, errlen) == 0 &&
               audit_log(c, who, "alert_rule.delete", name, NULL, err, errlen) == 0 && db_commit(c, err, errlen) == 0) {
        return 0;
    }
    db_rollback(c);
    return rc;
}
