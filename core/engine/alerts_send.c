/* alerts_send: the messages of an alert and their delivery (see alerts.h).
 * A delivery row (schemas/022_alerts.sql) is claimed by one UPDATE from
 * pending to sending, then sent through core/base/notify.c (its attempts,
 * time limits and backoff), then marked sent or failed with the attempts and
 * the last error, which GET /api/v1/alerts shows as the alert's deliveries
 * and /metrics counts. The texts name the store, the KPI, the value, the
 * threshold and the window in Chinese. A test delivery of a rule sends a
 * sample alert to each of its targets at once and answers how each went.
 * Part of core/engine/. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "alerts.h"
#include "app.h"
#include "config.h"
#include "counters.h"
#include "freshness.h"
#include "kpi.h"
#include "log.h"
#include "notify.h"

/* A string parameter, NULL as SQL NULL. */
static db_val dbs(const char *s) { return DB_STR(s); }

/* --- the words --- */

static const char *window_zh(const char *w)
{
    if (!w) return "—";
    if (strcmp(w, "month_to_date") == 0) return "本月至今";
    if (strcmp(w, "last_month") == 0) return "上月";
    if (strcmp(w, "last_30_days") == 0) return "近30天";
    return w;
}

/* The data of a data_missing rule, as a manager names it. */
static const char *entity_zh(const char *e)
{
    static const struct { const char *name, *zh; } names[] = {
        { "repair_orders", "维修工单" }, { "vehicle_sales", "新车销售" }, { "insurance_policies", "保险保单" },
        { "invoices", "发票" }, { "payments", "收款" }, { "parts_stock", "配件库存" },
        { "follow_up_calls", "回访记录" }, { "csi_surveys", "满意度调查" }, { "appointments", "预约" },
        { "store_financials", "门店财务" },
    };
    for (size_t i = 0; e && i < sizeof names / sizeof names[0]; i++)
        if (strcmp(names[i].name, e) == 0) return names[i].zh;
    return e ? e : "数据";
}

/* A value in the KPI's unit: ratios as percentages, money in 元. */
static void format_value(double v, const char *unit, char *out, size_t cap)
{
    if (!unit) unit = "";
    if (strcmp(unit, "ratio") == 0) snprintf(out, cap, "%.1f%%", v * 100);
    else if (strcmp(unit, "CNY") == 0) snprintf(out, cap, "%.2f 元", v);
    else if (strcmp(unit, "count") == 0 && v == floor(v)) snprintf(out, cap, "%.0f", v);
    else if (strcmp(unit, "days") == 0) snprintf(out, cap, "%.1f 天", v);
    else if (strcmp(unit, "h") == 0) snprintf(out, cap, "%.1f 小时", v);
    else snprintf(out, cap, "%.2f", v);
}

static const char *str_of(const cJSON *o, const char *name)
{
    const char *s = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, name));
    return s ? s : "";
}

typedef struct facts {
    const char *store, *store_name, *kpi, *rule, *from, *to, *window, *opened, *closed;
    char kpi_line[300], value[80], threshold[120], period[80];
    bool closing;
} facts;

static void facts_of(const cJSON *al, const char *kpi_name, const char *unit, facts *f)
{
    memset(f, 0, sizeof *f);
    f->store = str_of(al, "store");
    f->store_name = *str_of(al, "store_name") ? str_of(al, "store_name") : f->store;
    f->kpi = str_of(al, "kpi");
    f->rule = str_of(al, "rule");
    f->from = str_of(al, "from");
    f->to = str_of(al, "to");
    f->window = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(al, "window"));
    f->opened = str_of(al, "opened_at");
    f->closed = str_of(al, "closed_at");
    f->closing = *f->closed != '\0';
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(al, "value");
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(al, "threshold");
    if (*f->kpi) {
        snprintf(f->kpi_line, sizeof f->kpi_line, "%s（%s）", kpi_name && *kpi_name ? kpi_name : f->kpi, f->kpi);
        if (cJSON_IsNumber(v)) format_value(v->valuedouble, unit, f->value, sizeof f->value);
        else snprintf(f->value, sizeof f->value, "无数据");
        char tv[60] = "";
        if (cJSON_IsNumber(t)) format_value(t->valuedouble, unit, tv, sizeof tv);
        const char *side = cJSON_IsNumber(v) && cJSON_IsNumber(t) ? (v->valuedouble < t->valuedouble ? "低于" : "高于") : "";
        snprintf(f->threshold, sizeof f->threshold, "%s（当前值%s阈值）", tv, side);
        snprintf(f->period, sizeof f->period, "%s（%s 至 %s）", window_zh(f->window), f->from, f->to);
    } else {
        snprintf(f->kpi_line, sizeof f->kpi_line, "%s数据未更新（%s）", entity_zh(kpi_name), kpi_name ? kpi_name : "");
        if (cJSON_IsNumber(v)) snprintf(f->value, sizeof f->value, "已 %.0f 天未更新", v->valuedouble);
        else snprintf(f->value, sizeof f->value, "从未导入");
        if (cJSON_IsNumber(t)) snprintf(f->threshold, sizeof f->threshold, "超过 %.0f 天", t->valuedouble);
        snprintf(f->period, sizeof f->period, "—（截至今日）");
    }
}

/* The markdown text of the robots; wecom colours the value. */
static char *markdown(const facts *f, bool wecom)
{
    size_t cap = 4096;
    char *s = malloc(cap);
    if (!s) return NULL;
    snprintf(s, cap,
             "%s%s：%s\n"
             "> 门店：%s（%s）\n"
             "> 指标：%s\n"
             "> 当前值：%s%s%s\n"
             "> 阈值：%s\n"
             "> 统计区间：%s\n"
             "> 规则：%s\n"
             "> %s：%s\n",
             wecom ? "**" : "#### ", f->closing ? "预警解除" : "经营预警", f->store_name,
             f->store_name, f->store, f->kpi_line,
             wecom ? (f->closing ? "<font color=\"info\">" : "<font color=\"warning\">") : "", f->value, wecom ? "</font>" : "",
             f->threshold, f->period, f->rule,
             f->closing ? "解除时间" : "开启时间", f->closing ? f->closed : f->opened);
    if (wecom) {
        /* "**经营预警：..." needs its closing "**" before the newline */
        char *nl = strchr(s, '\n');
        size_t n = strlen(s);
        if (nl && n + 3 < cap) {
            memmove(nl + 2, nl, n - (size_t)(nl - s) + 1);
            nl[0] = '*';
            nl[1] = '*';
        }
    }
    return s;
}

char *alert_webhook_body(const cJSON *alert, const char *format, const char *kpi_name, const char *unit)
{
    facts f;
    facts_of(alert, kpi_name, unit, &f);
    cJSON *o = NULL;
    if (strcmp(format, "wecom") == 0 || strcmp(format, "dingtalk") == 0) {
        bool wecom = format[0] == 'w';
        char *md = markdown(&f, wecom);
        if (!md) return NULL;
        o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "msgtype", "markdown");
        cJSON *m = cJSON_AddObjectToObject(o, "markdown");
        if (wecom) {
            cJSON_AddStringToObject(m, "content", md);
        } else {
            char title[300];
            snprintf(title, sizeof title, "%s：%s %s", f.closing ? "预警解除" : "经营预警", f.store_name,
                     *f.kpi ? (kpi_name ? kpi_name : f.kpi) : "数据未更新");
            cJSON_AddStringToObject(m, "title", title);
            cJSON_AddStringToObject(m, "text", md);
        }
        free(md);
    } else {
        o = cJSON_Duplicate(alert, true);
        cJSON_DeleteItemFromObjectCaseSensitive(o, "deliveries");
        cJSON_AddStringToObject(o, "event", f.closing ? "close" : "open");
    }
    char *text = o ? cJSON_PrintUnformatted(o) : NULL;
    cJSON_Delete(o);
    return text;
}

int alert_email_text(const cJSON *alert, const char *kpi_name, const char *unit, char **subject, char **body)
{
    facts f;
    facts_of(alert, kpi_name, unit, &f);
    *subject = malloc(512);
    *body = malloc(4096);
    if (!*subject || !*body) { free(*subject); free(*body); *subject = *body = NULL; return -1; }
    snprintf(*subject, 512, "【经营预警】%s %s：%s", f.store_name, *f.kpi ? (kpi_name ? kpi_name : f.kpi) : "数据未更新",
             f.value);
    snprintf(*body, 4096,
             "您好，\n\n"
             "门店“%s”（%s）触发了经营预警：\n\n"
             "指标：%s\n"
             "当前值：%s\n"
             "阈值：%s\n"
             "统计区间：%s\n"
             "规则：%s\n"
             "开启时间：%s\n\n"
             "条件消除后预警自动关闭。请登录 Fourscore 查看门店详情与明细。\n",
             f.store_name, f.store, f.kpi_line, f.value, f.threshold, f.period, f.rule, f.opened);
    return 0;
}

/* --- sending --- */

static const char SQL_RECLAIM[] =
    "UPDATE alert_deliveries SET status = 'pending' WHERE status = 'sending' "
    "AND claimed_at < UTC_TIMESTAMP() - INTERVAL 600 SECOND";
static const char SQL_PENDING[] =
    "SELECT id, alert_id, event, target, kind, format FROM alert_deliveries WHERE status = 'pending' ORDER BY id LIMIT 50";
static const char SQL_CLAIM[] =
    "UPDATE alert_deliveries SET status = 'sending', claimed_at = UTC_TIMESTAMP() WHERE id = ? AND status = 'pending'";
static const char SQL_DONE[] =
    "UPDATE alert_deliveries SET status = ?, attempts = ?, last_error = ? WHERE id = ?";

/* The KPI's Chinese name and unit from the catalogue (cat may be NULL). */
static void kpi_words(const cJSON *cat, const char *kpi, const char **name, const char **unit)
{
    *name = NULL;
    *unit = NULL;
    const cJSON *e;
    cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(cat, "kpis")) {
        if (strcmp(str_of(e, "id"), kpi) != 0) continue;
        *name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(e, "name"), "zh"));
        *unit = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "unit"));
    }
}

/* The data_missing rule's entity, the name its messages use. */
static char *rule_entity(db_conn *c, const char *rule)
{
    static const char sql[] = "SELECT spec FROM alert_rules WHERE name = ?";
    db_val v = dbs(rule);
    db_result *res = NULL;
    char err[256];
    if (db_query(c, sql, &v, 1, &res, err, sizeof err) != 0) return NULL;
    char *out = NULL;
    if (res->nrows) {
        cJSON *spec = cJSON_Parse(db_cell(res, 0, 0));
        const char *e = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(spec, "data_missing"), "entity"));
        if (e) out = strdup(e);
        cJSON_Delete(spec);
    }
    db_result_free(res);
    return out;
}

static int send_one(struct app *a, db_conn *c, cJSON **cat, const db_result *r, int i, notify_outcome *out)
{
    (void)a;
    char err[512];
    cJSON *al = NULL;
    long long alert_id = db_cell_int(r, i, 1);
    int found = alert_by_id(c, alert_id, &al, err, sizeof err);
    if (found <= 0) {
        snprintf(out->error, sizeof out->error, "%.300s", found < 0 ? err : "the alert no longer exists");
        return -1;
    }
    const char *event = db_cell(r, i, 2), *target = db_cell(r, i, 3), *kind = db_cell(r, i, 4);
    if (strcmp(event, "open") == 0) cJSON_ReplaceItemInObjectCaseSensitive(al, "closed_at", cJSON_CreateNull());
    const char *kpi = str_of(al, "kpi");
    const char *kname = NULL, *unit = NULL;
    char *entity = NULL;
    if (*kpi) {
        if (!*cat) {
            int status;
            *cat = kpi_catalogue_json(a, &status, err, sizeof err);
        }
        kpi_words(*cat, kpi, &kname, &unit);
    } else {
        entity = rule_entity(c, str_of(al, "rule"));
        kname = entity;
    }
    int rc = -1;
    if (strcmp(kind, "webhook") == 0) {
        const char *fmt = db_cell(r, i, 5) ? db_cell(r, i, 5) : "json";
        /* the host may have left FOURSCORE_WEBHOOK_HOSTS since the rule was saved */
        if (alerts_webhook_allowed(target, out->error, sizeof out->error) != 0) {
            rc = -1;
        } else {
            char *body = alert_webhook_body(al, fmt, kname, unit);
            if (body) rc = notify_webhook(target, body, out);
            else snprintf(out->error, sizeof out->error, "out of memory");
            free(body);
        }
    } else {
        char *subject = NULL, *text = NULL;
        if (alert_email_text(al, kname, unit, &subject, &text) == 0) {
            const char *to[1] = { target };
            const char *from = config_env("FOURSCORE_SMTP_FROM");
            notify_mail m = { .smtp_url = config_env("FOURSCORE_SMTP_URL"), .from = from ? from : "fourscore@localhost",
                              .user = config_env("FOURSCORE_SMTP_USER"), .password = config_env("FOURSCORE_SMTP_PASSWORD"),
                              .to = to, .nto = 1, .subject = subject, .text = text };
            rc = notify_email(&m, out);
        }
        free(subject);
        free(text);
    }
    free(entity);
    cJSON_Delete(al);
    return rc;
}

int alerts_deliver_pending(struct app *a, const volatile bool *stop, deliver_stats *st, char *err, size_t errlen)
{
    deliver_stats local = { 0 };
    if (!st) st = &local;
    db_conn *c = db_acquire(a->db, 5000, err, errlen);
    if (!c) return -1;
    int rc = 0;
    cJSON *cat = NULL;
    if (db_exec(c, SQL_RECLAIM, NULL, 0, NULL, err, errlen) != 0) rc = -1;
    while (rc == 0 && !(stop && *stop)) {
        db_result *res = NULL;
        if (db_query(c, SQL_PENDING, NULL, 0, &res, err, errlen) != 0) { rc = -1; break; }
        int claimed_any = 0;
        for (int i = 0; i < res->nrows && !(stop && *stop); i++) {
            db_val id = DB_INT(db_cell_int(res, i, 0));
            unsigned long long n = 0;
            if (db_exec(c, SQL_CLAIM, &id, 1, &n, err, errlen) != 0) { rc = -1; break; }
            if (n != 1) continue;                /* another sender has it */
            claimed_any = 1;
            notify_outcome out;
            memset(&out, 0, sizeof out);
            int sent = send_one(a, c, &cat, res, i, &out);
            if (out.attempts > 1 || sent != 0)
                metrics_add(METRIC_NOTIFY_ATTEMPT_FAILURES, sent == 0 ? out.attempts - 1 : (out.attempts ? out.attempts : 1));
            metrics_add(sent == 0 ? METRIC_NOTIFY_SENT : METRIC_NOTIFY_FAILED, 1);
            if (sent == 0) st->sent++;
            else {
                st->failed++;
                log_warn("alerts", "delivery %lld of alert %lld to %s failed after %d attempts: %s", (long long)id.i,
                         db_cell_int(res, i, 1), db_cell(res, i, 3), out.attempts, out.error);
            }
            db_val v[4] = { dbs(sent == 0 ? "sent" : "failed"), DB_INT(out.attempts),
                            dbs(sent == 0 ? NULL : out.error), id };
            if (db_exec(c, SQL_DONE, v, 4, NULL, err, errlen) != 0) { rc = -1; break; }
        }
        int rows = res->nrows;
        db_result_free(res);
        if (rows == 0 || !claimed_any) break;
    }
    cJSON_Delete(cat);
    db_release(a->db, c);
    return rc;
}

/* --- a test delivery of a rule --- */

static const char SQL_RULE_SPEC[] = "SELECT owner, spec FROM alert_rules WHERE name = ?";

/* A sample alert of the rule (its first store, the threshold as the value,
 * today's window), marked as a test in the store's name. */
static cJSON *sample_alert(const char *name, const cJSON *spec, const cJSON *cat)
{
    char opened[20], from[16], to[16];
    freshness_local_now(opened);
    /* the window's days for today (calendar arithmetic through a normalized struct tm) */
    const char *win = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(spec, "window"));
    struct tm d = { 0 };
    sscanf(opened, "%d-%d-%d", &d.tm_year, &d.tm_mon, &d.tm_mday);
    d.tm_year -= 1900;
    d.tm_mon -= 1;
    d.tm_hour = 12;
    struct tm f = d, l = d;
    if (win && strcmp(win, "last_month") == 0) { f.tm_mon -= 1; f.tm_mday = 1; l.tm_mday = 0; }
    else if (win && strcmp(win, "last_30_days") == 0) f.tm_mday -= 29;
    else f.tm_mday = 1;
    timegm(&f);
    timegm(&l);
    strftime(from, sizeof from, "%Y-%m-%d", &f);
    strftime(to, sizeof to, "%Y-%m-%d", &l);
    const char *store = cJSON_GetStringValue(cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(spec, "stores"), 0));
    char store_name[120];
    snprintf(store_name, sizeof store_name, "【测试】%s", store ? store : "示例门店");
    cJSON *al = cJSON_CreateObject();
    cJSON_AddNumberToObject(al, "id", 0);
    cJSON_AddStringToObject(al, "rule", name);
    cJSON_AddStringToObject(al, "store", store ? store : "TEST");
    cJSON_AddStringToObject(al, "store_name", store_name);
    const char *kpi = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(spec, "kpi"));
    if (kpi) {
        cJSON_AddStringToObject(al, "kpi", kpi);
        const cJSON *thr = cJSON_GetObjectItemCaseSensitive(spec, "threshold");
        double bound = cJSON_IsNumber(thr) ? thr->valuedouble : NAN;
        if (!cJSON_IsNumber(thr)) {          /* outside_target: the catalogue's target (a band's low end) */
            const cJSON *e;
            cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(cat, "kpis")) {
                if (strcmp(str_of(e, "id"), kpi) != 0) continue;
                const cJSON *tg = cJSON_GetObjectItemCaseSensitive(e, "target");
                if (cJSON_IsNumber(tg)) bound = tg->valuedouble;
                else if (cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(tg, "low")))
                    bound = cJSON_GetObjectItemCaseSensitive(tg, "low")->valuedouble;
            }
        }
        if (isnan(bound)) {
            cJSON_AddNullToObject(al, "value");
            cJSON_AddNullToObject(al, "threshold");
        } else {
            cJSON_AddNumberToObject(al, "value", bound);
            cJSON_AddNumberToObject(al, "threshold", bound);
        }
        cJSON_AddStringToObject(al, "window", win ? win : "month_to_date");
        cJSON_AddStringToObject(al, "from", from);
        cJSON_AddStringToObject(al, "to", to);
    } else {
        const cJSON *days = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(spec, "data_missing"), "days");
        double nd = cJSON_IsNumber(days) ? days->valuedouble : 0;
        cJSON_AddNullToObject(al, "kpi");
        cJSON_AddNumberToObject(al, "value", nd + 1);
        cJSON_AddNumberToObject(al, "threshold", nd);
        cJSON_AddNullToObject(al, "window");
        cJSON_AddNullToObject(al, "from");
        cJSON_AddNullToObject(al, "to");
    }
    cJSON_AddStringToObject(al, "opened_at", opened);
    cJSON_AddNullToObject(al, "closed_at");
    cJSON_AddBoolToObject(al, "test", true);
    return al;
}

/* One target of a test delivery: its outcome as {target, kind, status, attempts, http_status, last_error}. */
static cJSON *test_target(const cJSON *t, const cJSON *al, bool owner_admin, const char *kname, const char *unit)
{
    notify_outcome out;
    memset(&out, 0, sizeof out);
    const char *hook = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(t, "webhook"));
    const char *mail = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(t, "email"));
    int rc = -1;
    if (hook) {
        const char *fmt = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(t, "format"));
        if (alerts_webhook_allowed(hook, out.error, sizeof out.error) == 0) {
            char *body = alert_webhook_body(al, fmt ? fmt : "json", kname, unit);
            if (body) rc = notify_webhook(hook, body, &out);
            else snprintf(out.error, sizeof out.error, "out of memory");
            free(body);
        }
    } else if (mail) {
        char *subject = NULL, *text = NULL;
        if (alerts_email_allowed(mail, owner_admin, out.error, sizeof out.error) != 0) {
            rc = -1;
        } else if (!config_env("FOURSCORE_SMTP_URL")) {
            snprintf(out.error, sizeof out.error, "no mail server: FOURSCORE_SMTP_URL is not set");
        } else if (alert_email_text(al, kname, unit, &subject, &text) == 0) {
            char *tagged = malloc(strlen(subject) + 16);
            if (tagged) sprintf(tagged, "【测试】%s", subject);
            const char *to[1] = { mail };
            const char *from = config_env("FOURSCORE_SMTP_FROM");
            notify_mail m = { .smtp_url = config_env("FOURSCORE_SMTP_URL"), .from = from ? from : "fourscore@localhost",
                              .user = config_env("FOURSCORE_SMTP_USER"), .password = config_env("FOURSCORE_SMTP_PASSWORD"),
                              .to = to, .nto = 1, .subject = tagged ? tagged : subject, .text = text };
            rc = notify_email(&m, &out);
            free(tagged);
        }
        free(subject);
        free(text);
    }
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "target", hook ? hook : mail ? mail : "");
    cJSON_AddStringToObject(o, "kind", hook ? "webhook" : "email");
    cJSON_AddStringToObject(o, "status", rc == 0 ? "sent" : "failed");
    cJSON_AddNumberToObject(o, "attempts", out.attempts);
    if (hook) cJSON_AddNumberToObject(o, "http_status", (double)out.http_status);
    if (rc == 0) cJSON_AddNullToObject(o, "last_error");
    else cJSON_AddStringToObject(o, "last_error", out.error[0] ? out.error : "not sent");
    metrics_add(rc == 0 ? METRIC_NOTIFY_SENT : METRIC_NOTIFY_FAILED, 1);
    return o;
}

int alert_rule_test(struct app *a, const principal *who, const char *name, cJSON **out, char *err, size_t errlen)
{
    *out = NULL;
    db_conn *c = db_acquire(a->db, 5000, err, errlen);
    if (!c) return 503;
    db_val v = dbs(name);
    db_result *res = NULL;
    if (db_query(c, SQL_RULE_SPEC, &v, 1, &res, err, errlen) != 0) { db_release(a->db, c); return 503; }
    if (res->nrows == 0) {
        db_result_free(res);
        db_release(a->db, c);
        snprintf(err, errlen, "no alert rule %.64s", name);
        return 404;
    }
    char owner[72];
    snprintf(owner, sizeof owner, "%s", db_cell(res, 0, 0));
    cJSON *spec = cJSON_Parse(db_cell(res, 0, 1));
    db_result_free(res);
    if (strcmp(owner, who->name) != 0 && who->role != ROLE_ADMIN) {
        db_release(a->db, c);
        cJSON_Delete(spec);
        snprintf(err, errlen, "the rule %s belongs to %s; only its owner or an admin may test it", name, owner);
        return 403;
    }
    /* where mail may go is decided by the owner's role, as for the rule's real alerts */
    bool owner_admin = who->role == ROLE_ADMIN && strcmp(owner, who->name) == 0;
    if (!owner_admin && strcmp(owner, who->name) != 0) {
        principal p;
        memset(&p, 0, sizeof p);
        if (auth_user_principal(c, owner, &p, err, errlen) == 1) owner_admin = p.role == ROLE_ADMIN;
        principal_free(&p);
    }
    db_release(a->db, c);
    if (!spec) { snprintf(err, errlen, "the stored rule %s does not parse", name); return 500; }
    int status = 500;
    char cerr[256];
    cJSON *cat = kpi_catalogue_json(a, &status, cerr, sizeof cerr);   /* NULL: the texts name the KPI by id */
    const char *kpi = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(spec, "kpi"));
    const char *kname = NULL, *unit = NULL;
    if (kpi) kpi_words(cat, kpi, &kname, &unit);
    else kname = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(spec, "data_missing"), "entity"));
    cJSON *al = sample_alert(name, spec, cat);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "rule", name);
    cJSON_AddItemToObject(o, "alert", al);
    cJSON *results = cJSON_AddArrayToObject(o, "results");
    const cJSON *t;
    cJSON_ArrayForEach(t, cJSON_GetObjectItemCaseSensitive(spec, "notify"))
        cJSON_AddItemToArray(results, test_target(t, al, owner_admin, kname, unit));
    cJSON_Delete(cat);
    cJSON_Delete(spec);
    *out = o;
    return 200;
}
