/* reports: the scheduled reports (see reports.h). A subscription belongs to
 * its owner (names are per owner); its report is built with the owner's
 * scope now: the daily report (日报表) over [the 1st of yesterday's month,
 * yesterday] per store and in total, ROs and service revenue against their
 * pro-rated budgets with achievement and the month-end projection, the
 * stores whose data is not through yesterday and the open alerts; the
 * monthly report the headline KPIs of the last full month against the month
 * before and the same month a year before. Sent as one email: the summary in
 * Chinese in its body, the table as .xlsx (export.c) attached. Part of
 * core/engine/. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "alerts.h"
#include "app.h"
#include "calendar.h"
#include "config.h"
#include "counters.h"
#include "export.h"
#include "freshness.h"
#include "kpi.h"
#include "log.h"
#include "notify.h"
#include "reports.h"

/* A string parameter, NULL as SQL NULL. */
static db_val dbs(const char *s) { return DB_STR(s); }

#define MAX_TO 16

/* --- dates --- */

static int day_of(const char *ymd)
{
    int y = 0, m = 0, d = 0;
    if (sscanf(ymd, "%4d-%2d-%2d", &y, &m, &d) != 3) return 0;
    return calendar_days_from_civil(y, m, d);
}

static void text_of(int z, char out[11])
{
    int y, m, d;
    calendar_civil_from_days(z, &y, &m, &d);
    char buf[32];
    snprintf(buf, sizeof buf, "%04u-%02u-%02u", (unsigned)y % 10000u, (unsigned)m % 100u, (unsigned)d % 100u);
    memcpy(out, buf, 10);
    out[10] = '\0';
}

/* The first and last day of the month of day z shifted by dm months. */
static void month_of(int z, int dm, char from[11], char to[11])
{
    int y, m, d;
    calendar_civil_from_days(z, &y, &m, &d);
    int k = y * 12 + (m - 1) + dm;
    y = k / 12;
    m = k % 12 + 1;
    text_of(calendar_days_from_civil(y, m, 1), from);
    text_of(calendar_days_from_civil(y, m, calendar_days_in_month(y, m)), to);
}

/* --- subscriptions --- */

static const char SQL_SUB_UPSERT[] =
    "INSERT INTO subscriptions (owner, name, report, recipients, send_time, created_at, updated_at) "
    "VALUES (?, ?, ?, ?, ?, ?, ?) ON DUPLICATE KEY UPDATE report = VALUES(report), recipients = VALUES(recipients), "
    "send_time = VALUES(send_time), updated_at = VALUES(updated_at)";
static const char SQL_SUB_EXISTS[] = "SELECT 1 FROM subscriptions WHERE owner = ? AND name = ?";
static const char SQL_RUN_SKIP[] = "INSERT IGNORE INTO schedule_runs (job, run_day, done_at) VALUES (?, ?, ?)";
static const char SQL_SUB_DELETE[] = "DELETE FROM subscriptions WHERE owner = ? AND name = ?";
static const char SQL_SUBS_ALL[] =
    "SELECT owner, name, report, recipients, send_time FROM subscriptions ORDER BY owner, name";
static const char SQL_SUBS_OWNER[] =
    "SELECT owner, name, report, recipients, send_time FROM subscriptions WHERE owner = ? ORDER BY name";
static const char SQL_SUBS_NAMED[] =
    "SELECT owner, name, report, recipients, send_time FROM subscriptions WHERE name = ? ORDER BY owner";

static cJSON *sub_json(const db_result *r, int i, bool with_owner)
{
    cJSON *o = cJSON_CreateObject();
    if (!o) return NULL;
    cJSON_AddStringToObject(o, "name", db_cell(r, i, 1));
    cJSON_AddStringToObject(o, "report", db_cell(r, i, 2));
    cJSON *to = cJSON_Parse(db_cell(r, i, 3));
    cJSON_AddItemToObject(o, "to", to ? to : cJSON_CreateArray());
    cJSON_AddStringToObject(o, "time", db_cell(r, i, 4));
    if (with_owner) cJSON_AddStringToObject(o, "owner", db_cell(r, i, 0));
    return o;
}

cJSON *subscriptions_json(db_conn *c, const principal *who, char *err, size_t errlen)
{
    bool all = who->role == ROLE_ADMIN;
    db_val v = dbs(who->name);
    db_result *res = NULL;
    if (db_query(c, all ? SQL_SUBS_ALL : SQL_SUBS_OWNER, all ? NULL : &v, all ? 0 : 1, &res, err, errlen) != 0) return NULL;
    cJSON *arr = cJSON_CreateArray();
    for (int i = 0; arr && i < res->nrows; i++) {
        cJSON *o = sub_json(res, i, all);
        if (o) cJSON_AddItemToArray(arr, o);
    }
    db_result_free(res);
    return arr;
}

static int bad(char *field, size_t fieldlen, char *err, size_t errlen, const char *f, const char *msg)
{
    snprintf(field, fieldlen, "%s", f);
    snprintf(err, errlen, "%s", msg);
    return 400;
}

int subscription_put(db_conn *c, const principal *who, const char *name, const cJSON *body, cJSON **saved,
                     char *field, size_t fieldlen, char *err, size_t errlen)
{
    *saved = NULL;
    field[0] = '\0';
    if (!alert_rule_name_valid(name)) return bad(field, fieldlen, err, errlen, "name", "name: 1 to 64 of a-z 0-9 _ -");
    if (!cJSON_IsObject(body)) return bad(field, fieldlen, err, errlen, "body", "body: the subscription as a JSON object");
    const char *report = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(body, "report"));
    if (!report || (strcmp(report, "daily") != 0 && strcmp(report, "monthly") != 0))
        return bad(field, fieldlen, err, errlen, "report", "report: daily or monthly");
    const cJSON *to = cJSON_GetObjectItemCaseSensitive(body, "to");
    if (!cJSON_IsArray(to) || cJSON_GetArraySize(to) < 1 || cJSON_GetArraySize(to) > MAX_TO)
        return bad(field, fieldlen, err, errlen, "to", "to: 1 to 16 email addresses");
    int i = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, to) {
        char f[32], why[600];
        snprintf(f, sizeof f, "to[%d]", i++);
        if (!cJSON_IsString(e)) return bad(field, fieldlen, err, errlen, f, "an email address");
        if (alerts_email_allowed(e->valuestring, who->role == ROLE_ADMIN, why, sizeof why) != 0) {
            snprintf(field, fieldlen, "%s", f);
            snprintf(err, errlen, "%s: %s", f, why);
            return 400;
        }
    }
    const cJSON *tm = cJSON_GetObjectItemCaseSensitive(body, "time");
    const char *t = cJSON_IsString(tm) ? tm->valuestring : tm && !cJSON_IsNull(tm) ? "?" : "08:00";
    int h = -1, m = -1;
    char extra;
    if (strlen(t) != 5 || sscanf(t, "%2d:%2d%c", &h, &m, &extra) != 2 || h < 0 || h > 23 || m < 0 || m > 59)
        return bad(field, fieldlen, err, errlen, "time", "time: HH:MM (FOURSCORE_TZ), such as 08:00");
    char *recipients = cJSON_PrintUnformatted(to);
    char now[20];
    freshness_local_now(now);
    db_val k[2] = { dbs(who->name), dbs(name) };
    db_result *res = NULL;
    int rc = 503;
    if (recipients && db_query(c, SQL_SUB_EXISTS, k, 2, &res, err, errlen) == 0) {
        bool existed = res->nrows > 0;
        db_val v[7] = { dbs(who->name), dbs(name), dbs(report), dbs(recipients), dbs(t), dbs(now), dbs(now) };
        /* a time already past today: the first report goes out tomorrow, not at once */
        char job[200], day[11];
        snprintf(job, sizeof job, "report:%.64s/%.64s", who->name, name);
        memcpy(day, now, 10);
        day[10] = '\0';
        db_val run[3] = { dbs(job), dbs(day), dbs(now) };
        if (db_exec(c, SQL_SUB_UPSERT, v, 7, NULL, err, errlen) == 0 &&
            (strncmp(now + 11, t, 5) < 0 || db_exec(c, SQL_RUN_SKIP, run, 3, NULL, err, errlen) == 0))
            rc = existed ? 200 : 201;
    }
    db_result_free(res);
    free(recipients);
    if (rc == 200 || rc == 201) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "name", name);
        cJSON_AddStringToObject(o, "report", report);
        cJSON_AddItemToObject(o, "to", cJSON_Duplicate(to, true));
        cJSON_AddStringToObject(o, "time", t);
        cJSON_AddStringToObject(o, "owner", who->name);
        *saved = o;
    }
    return rc;
}

int subscription_delete(db_conn *c, const principal *who, const char *name, const char *owner, char *err, size_t errlen)
{
    if (owner && strcmp(owner, who->name) != 0 && who->role != ROLE_ADMIN) {
        snprintf(err, errlen, "only an admin may delete another user's subscription");
        return 403;
    }
    db_val v[2] = { dbs(owner ? owner : who->name), dbs(name) };
    unsigned long long n = 0;
    if (db_exec(c, SQL_SUB_DELETE, v, 2, &n, err, errlen) != 0) return 503;
    if (n == 0) {
        snprintf(err, errlen, "no subscription named \"%.64s\" of %.64s", name, owner ? owner : who->name);
        return 404;
    }
    return 0;
}

/* --- building a report --- */

typedef struct report {
    cJSON *table;        /* export.c's table */
    char *summary;       /* the body of the email */
    size_t cap, len;
    char subject[256];
} report;

static void say(report *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(report *r, const char *fmt, ...)
{
    if (!r->summary) return;
    va_list ap;
    for (;;) {
        va_start(ap, fmt);
        int n = vsnprintf(r->summary + r->len, r->cap - r->len, fmt, ap);
        va_end(ap);
        if (n < 0) return;
        if ((size_t)n < r->cap - r->len) { r->len += (size_t)n; return; }
        size_t cap = r->cap * 2 + (size_t)n;
        char *grown = realloc(r->summary, cap);
        if (!grown) return;
        r->summary = grown;
        r->cap = cap;
    }
}

static cJSON *column(const char *title, const char *type)
{
    cJSON *c = cJSON_CreateObject();
    cJSON_AddStringToObject(c, "title", title);
    cJSON_AddStringToObject(c, "type", type);
    return c;
}

static cJSON *num_or_null(bool is_null, double v)
{
    return is_null || !isfinite(v) ? cJSON_CreateNull() : cJSON_CreateNumber(v);
}

static void money(double v, char *out, size_t cap) { snprintf(out, cap, "%.2f 元", v); }

/* One row of the daily report: value and budget of ROs and revenue. */
static cJSON *daily_row(const char *label, const kpi_row *row, int elapsed, int month_days)
{
    cJSON *r = cJSON_CreateArray();
    cJSON_AddItemToArray(r, cJSON_CreateString(label));
    for (int k = 0; k < 2; k++) {
        bool vn = row->is_null[k], tn = row->targets_null[k] || row->targets[k] == 0;
        double v = row->values[k], t = row->targets[k];
        cJSON_AddItemToArray(r, num_or_null(vn, v));
        cJSON_AddItemToArray(r, num_or_null(row->targets_null[k], t));
        cJSON_AddItemToArray(r, num_or_null(vn || tn, v / t));
        cJSON_AddItemToArray(r, num_or_null(vn, v / elapsed * month_days));
    }
    return r;
}

static void say_daily_line(report *r, const char *label, const kpi_row *row, int elapsed, int month_days)
{
    char v1[64], t1[64], v2[64], t2[64], p2[64];
    snprintf(v1, sizeof v1, row->is_null[0] ? "无数据" : "%.0f", row->values[0]);
    snprintf(t1, sizeof t1, row->targets_null[0] ? "未设" : "%.0f", row->targets[0]);
    if (row->is_null[1]) snprintf(v2, sizeof v2, "无数据"); else money(row->values[1], v2, sizeof v2);
    if (row->targets_null[1]) snprintf(t2, sizeof t2, "未设"); else money(row->targets[1], t2, sizeof t2);
    if (row->is_null[1]) snprintf(p2, sizeof p2, "—"); else money(row->values[1] / elapsed * month_days, p2, sizeof p2);
    char a1[32] = "—", a2[32] = "—";
    if (!row->is_null[0] && !row->targets_null[0] && row->targets[0] > 0)
        snprintf(a1, sizeof a1, "%.1f%%", 100 * row->values[0] / row->targets[0]);
    if (!row->is_null[1] && !row->targets_null[1] && row->targets[1] > 0)
        snprintf(a2, sizeof a2, "%.1f%%", 100 * row->values[1] / row->targets[1]);
    say(r, "%s：进厂台次 %s（目标 %s，达成 %s，月末预测 %.0f）；维修产值 %s（目标 %s，达成 %s，月末预测 %s）\n", label, v1, t1, a1,
        row->is_null[0] ? 0.0 : row->values[0] / elapsed * month_days, v2, t2, a2, p2);
}

static int build_daily(struct app *a, db_conn *c, const principal *owner, const store_set *set, const char *today,
                       report *r, char *err, size_t errlen)
{
    int yday = day_of(today) - 1, y, m, d;
    calendar_civil_from_days(yday, &y, &m, &d);
    char from[11], to[11];
    text_of(calendar_days_from_civil(y, m, 1), from);
    text_of(yday, to);
    int elapsed = d, month_days = calendar_days_in_month(y, m);
    const char *ids[2] = { "service.ro_count", "service.revenue" };
    kpi_request req = { .ids = ids, .nids = 2, .by = "store", .stores = set, .targets = true };
    snprintf(req.from, sizeof req.from, "%s", from);
    snprintf(req.to, sizeof req.to, "%s", to);
    kpi_answer *stores = NULL, *total = NULL;
    int status;
    if (kpi_query(a, &req, &stores, &status, err, errlen) != 0) return -1;
    req.by = "group";
    if (kpi_query(a, &req, &total, &status, err, errlen) != 0) { kpi_answer_free(stores); return -1; }
    snprintf(r->subject, sizeof r->subject, "【日报表】%s 至 %s 售后经营日报", from, to);
    say(r, "您好，\n\n以下是 %s 至 %s 的售后经营日报（%s 的范围，%d 家门店），明细见附件。\n\n", from, to, owner->name, set->n);
    cJSON *t = r->table = cJSON_CreateObject();
    char fname[64];
    snprintf(fname, sizeof fname, "daily-report-%s", to);
    cJSON_AddStringToObject(t, "filename", fname);
    cJSON_AddStringToObject(t, "title", "日报表");
    cJSON *cols = cJSON_AddArrayToObject(t, "columns");
    const char *titles[] = { "门店", "进厂台次", "台次目标", "台次达成", "台次月末预测",
                             "维修产值", "产值目标", "产值达成", "产值月末预测" };
    const char *types[] = { "text", "number", "number", "percent", "number", "number", "number", "percent", "number" };
    for (int i = 0; i < 9; i++) cJSON_AddItemToArray(cols, column(titles[i], types[i]));
    cJSON *rows = cJSON_AddArrayToObject(t, "rows");
    if (total->nrows > 0) {
        cJSON_AddItemToArray(rows, daily_row("合计", &total->rows[0], elapsed, month_days));
        say_daily_line(r, "合计", &total->rows[0], elapsed, month_days);
    }
    for (int i = 0; i < stores->nrows; i++) {
        char label[300];
        snprintf(label, sizeof label, "%s %s", stores->rows[i].key, stores->rows[i].label);
        cJSON_AddItemToArray(rows, daily_row(label, &stores->rows[i], elapsed, month_days));
        say_daily_line(r, label, &stores->rows[i], elapsed, month_days);
    }
    kpi_answer_free(stores);
    kpi_answer_free(total);

    /* the stores whose data is not through yesterday */
    static const char sql[] =
        "SELECT s.store_code, s.name, DATE_FORMAT(t.through_on, '%Y-%m-%d') FROM stores s "
        "LEFT JOIN freshness_through t ON t.store_code = s.store_code ORDER BY s.store_code";
    db_result *res = NULL;
    if (db_query(c, sql, NULL, 0, &res, err, errlen) != 0) return -1;
    int late = 0;
    for (int i = 0; i < res->nrows; i++) {
        const char *code = db_cell(res, i, 0), *through = db_cell(res, i, 2);
        bool in = false;
        for (int k = 0; k < set->n && !in; k++) in = strcmp(set->codes[k], code) == 0;
        if (!in || (through && strcmp(through, to) >= 0)) continue;
        if (!late++) say(r, "\n数据未更新至 %s 的门店：\n", to);
        say(r, "- %s %s（数据截至 %s）\n", code, db_cell(res, i, 1) ? db_cell(res, i, 1) : "", through ? through : "无数据");
    }
    db_result_free(res);
    if (!late) say(r, "\n所有门店的数据均已更新至 %s。\n", to);

    /* the open alerts in scope */
    alerts_filter f = { .state = "open", .limit = 100 };
    cJSON *open = alerts_json(c, owner, &f, err, errlen);
    if (!open) return -1;
    int n = cJSON_GetArraySize(open);
    if (n == 0) say(r, "\n当前没有未关闭的预警。\n");
    else say(r, "\n未关闭的预警（%d 条）：\n", n);
    const cJSON *al;
    cJSON_ArrayForEach(al, open) {
        const char *kpi = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(al, "kpi"));
        const char *sn = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(al, "store_name"));
        say(r, "- %s：规则 %s，%s，自 %s\n", sn ? sn : cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(al, "store")),
            cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(al, "rule")), kpi ? kpi : "数据未更新",
            cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(al, "opened_at")));
    }
    cJSON_Delete(open);
    say(r, "\n此邮件由 Fourscore 按订阅自动发送。\n");
    return 0;
}

static int build_monthly(struct app *a, const principal *owner, const store_set *set, const char *today, report *r,
                         char *err, size_t errlen)
{
    static const char *const ids[] = { "service.revenue", "service.ro_count", "service.revenue_per_ro", "labour.share",
                                       "parts.gross_margin", "receivables.over_90_share", "insurance.renewal_rate",
                                       "retention.churn_y1", "csi.score" };
    enum { N = sizeof ids / sizeof ids[0] };
    char from[3][11], to[3][11];
    int t = day_of(today);
    month_of(t, -1, from[0], to[0]);
    month_of(t, -2, from[1], to[1]);
    month_of(t, -13, from[2], to[2]);
    kpi_answer *ans[3] = { NULL, NULL, NULL };
    int status;
    for (int i = 0; i < 3; i++) {
        kpi_request req = { .ids = ids, .nids = N, .by = "group", .stores = set };
        snprintf(req.from, sizeof req.from, "%s", from[i]);
        snprintf(req.to, sizeof req.to, "%s", to[i]);
        if (kpi_query(a, &req, &ans[i], &status, err, errlen) != 0) {
            for (int k = 0; k < i; k++) kpi_answer_free(ans[k]);
            return -1;
        }
    }
    int dummy;
    cJSON *cat = kpi_catalogue_json(a, &dummy, err, errlen);
    snprintf(r->subject, sizeof r->subject, "【月报】%.7s 售后经营月报", from[0]);
    say(r, "您好，\n\n以下是 %.7s 的售后经营月报（%s 的范围，%d 家门店），与上月（%.7s）及去年同月（%.7s）对比，明细见附件。\n\n",
        from[0], owner->name, set->n, from[1], from[2]);
    cJSON *tb = r->table = cJSON_CreateObject();
    char fname[64];
    snprintf(fname, sizeof fname, "monthly-report-%.7s", from[0]);
    cJSON_AddStringToObject(tb, "filename", fname);
    cJSON_AddStringToObject(tb, "title", "月报");
    cJSON *cols = cJSON_AddArrayToObject(tb, "columns");
    const char *titles[] = { "指标", "本月", "上月", "环比", "去年同月", "同比" };
    const char *types[] = { "text", "number", "number", "percent", "number", "percent" };
    for (int i = 0; i < 6; i++) cJSON_AddItemToArray(cols, column(titles[i], types[i]));
    cJSON *rows = cJSON_AddArrayToObject(tb, "rows");
    for (int k = 0; k < N; k++) {
        const char *name = ids[k];
        const cJSON *e;
        cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(cat, "kpis")) {
            const char *id = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "id"));
            const char *zh = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(e, "name"), "zh"));
            if (id && zh && strcmp(id, ids[k]) == 0) name = zh;
        }
        bool n0 = ans[0]->nrows < 1 || ans[0]->rows[0].is_null[k], n1 = ans[1]->nrows < 1 || ans[1]->rows[0].is_null[k],
             n2 = ans[2]->nrows < 1 || ans[2]->rows[0].is_null[k];
        double v0 = n0 ? 0 : ans[0]->rows[0].values[k], v1 = n1 ? 0 : ans[1]->rows[0].values[k],
               v2 = n2 ? 0 : ans[2]->rows[0].values[k];
        cJSON *row = cJSON_CreateArray();
        cJSON_AddItemToArray(row, cJSON_CreateString(name));
        cJSON_AddItemToArray(row, num_or_null(n0, v0));
        cJSON_AddItemToArray(row, num_or_null(n1, v1));
        cJSON_AddItemToArray(row, num_or_null(n0 || n1 || v1 == 0, v0 / v1 - 1));
        cJSON_AddItemToArray(row, num_or_null(n2, v2));
        cJSON_AddItemToArray(row, num_or_null(n0 || n2 || v2 == 0, v0 / v2 - 1));
        cJSON_AddItemToArray(rows, row);
        char a0[48] = "无数据", mom[48] = "—", yoy[48] = "—";
        if (!n0) snprintf(a0, sizeof a0, "%.4g", v0);
        if (!n0 && !n1 && v1 != 0) snprintf(mom, sizeof mom, "%+.1f%%", 100 * (v0 / v1 - 1));
        if (!n0 && !n2 && v2 != 0) snprintf(yoy, sizeof yoy, "%+.1f%%", 100 * (v0 / v2 - 1));
        say(r, "%s：%s（环比 %s，同比 %s）\n", name, a0, mom, yoy);
    }
    say(r, "\n此邮件由 Fourscore 按订阅自动发送。\n");
    cJSON_Delete(cat);
    for (int i = 0; i < 3; i++) kpi_answer_free(ans[i]);
    return 0;
}

/* Build and send one subscription's report now. 0 sent, -1 with err. */
static int send_report(struct app *a, const char *owner_name, const char *name, const char *kind,
                       const char *recipients, char *err, size_t errlen)
{
    db_conn *c = db_acquire(a->db, 5000, err, errlen);
    if (!c) return -1;
    principal owner;
    int pr = auth_user_principal(c, owner_name, &owner, err, errlen);
    if (pr <= 0) {
        if (pr == 0) snprintf(err, errlen, "the owner %s of the subscription %s no longer exists", owner_name, name);
        db_release(a->db, c);
        return -1;
    }
    store_set set = { 0 };
    char badc[128] = "";
    int rc = scope_resolve(c, &owner, NULL, 0, NULL, 0, &set, badc, sizeof badc);
    if (rc != 0) snprintf(err, errlen, "the scope of %s: %s", owner_name, badc);
    char now[20];
    freshness_local_now(now);
    now[10] = '\0';
    report r = { .cap = 4096 };
    r.summary = malloc(r.cap);
    if (r.summary) r.summary[0] = '\0';
    if (rc == 0) rc = strcmp(kind, "monthly") == 0 ? build_monthly(a, &owner, &set, now, &r, err, errlen)
                                                    : build_daily(a, c, &owner, &set, now, &r, err, errlen);
    db_release(a->db, c);
    export_file file = { 0 };
    if (rc == 0 && export_build(r.table, EXPORT_XLSX, &file, err, errlen) != 0) rc = -1;
    if (rc == 0 && !r.summary) { snprintf(err, errlen, "out of memory"); rc = -1; }
    if (rc == 0) {
        cJSON *to = cJSON_Parse(recipients);
        const char *addr[MAX_TO];
        int n = 0;
        const cJSON *e;
        cJSON_ArrayForEach(e, to) if (cJSON_IsString(e) && n < MAX_TO) addr[n++] = e->valuestring;
        const char *from = config_env("FOURSCORE_SMTP_FROM");
        notify_mail m = { .smtp_url = config_env("FOURSCORE_SMTP_URL"), .from = from ? from : "fourscore@localhost",
                          .user = config_env("FOURSCORE_SMTP_USER"), .password = config_env("FOURSCORE_SMTP_PASSWORD"),
                          .to = addr, .nto = n, .subject = r.subject, .text = r.summary,
                          .attach_name = file.filename, .attach_type = file.content_type,
                          .attach_data = file.data, .attach_len = file.len };
        notify_outcome out;
        rc = notify_email(&m, &out);
        if (out.attempts > 1 || rc != 0) metrics_add(METRIC_NOTIFY_ATTEMPT_FAILURES, rc == 0 ? out.attempts - 1 : out.attempts);
        metrics_add(rc == 0 ? METRIC_NOTIFY_SENT : METRIC_NOTIFY_FAILED, 1);
        if (rc != 0) snprintf(err, errlen, "sending the report: %s", out.error);
        else log_info("reports", "sent %s of %s (%s) to %d recipients", name, owner_name, kind, n);
        cJSON_Delete(to);
    }
    free(file.data);
    free(r.summary);
    cJSON_Delete(r.table);
    store_set_free(&set);
    principal_free(&owner);
    return rc;
}

int report_send_now(struct app *a, const char *name, const char *owner, char *err, size_t errlen)
{
    db_conn *c = db_acquire(a->db, 5000, err, errlen);
    if (!c) return -1;
    db_val v = dbs(name);
    db_result *res = NULL;
    if (db_query(c, SQL_SUBS_NAMED, &v, 1, &res, err, errlen) != 0) { db_release(a->db, c); return -1; }
    db_release(a->db, c);
    int pick = -1, matches = 0;
    for (int i = 0; i < res->nrows; i++)
        if (!owner || strcmp(db_cell(res, i, 0), owner) == 0) { pick = i; matches++; }
    int rc = -1;
    if (matches == 0) snprintf(err, errlen, "no subscription named \"%.64s\"%s%.64s", name, owner ? " of " : "", owner ? owner : "");
    else if (matches > 1) snprintf(err, errlen, "%d users have a subscription named \"%.64s\": name one with --owner", matches, name);
    else rc = send_report(a, db_cell(res, pick, 0), name, db_cell(res, pick, 2), db_cell(res, pick, 3), err, errlen);
    db_result_free(res);
    return rc;
}

/* --- on schedule --- */

typedef struct due { struct app *a; const char *owner, *name, *kind, *to; } due;

static int run_due_one(void *ud)
{
    due *d = ud;
    char err[512];
    if (send_report(d->a, d->owner, d->name, d->kind, d->to, err, sizeof err) != 0)
        /* given up for today (after notify's attempts): `fourscore report send` sends it by hand */
        log_error("reports", "the report %s of %s was not sent: %s", d->name, d->owner, err);
    return 0;
}

int reports_run_due(struct app *a, const char *now, const volatile bool *stop, char *err, size_t errlen)
{
    db_conn *c = db_acquire(a->db, 5000, err, errlen);
    if (!c) return -1;
    db_result *res = NULL;
    int rc = db_query(c, SQL_SUBS_ALL, NULL, 0, &res, err, errlen);
    db_release(a->db, c);
    if (rc != 0) return -1;
    char today[11];
    memcpy(today, now, 10);
    today[10] = '\0';
    for (int i = 0; i < res->nrows && !(stop && *stop); i++) {
        const char *kind = db_cell(res, i, 2), *at = db_cell(res, i, 4);
        if (strcmp(kind, "monthly") == 0 && strcmp(today + 8, "01") != 0) continue;
        if (strncmp(now + 11, at, 5) < 0) continue;
        char job[200];
        snprintf(job, sizeof job, "report:%.64s/%.64s", db_cell(res, i, 0), db_cell(res, i, 1));
        due d = { a, db_cell(res, i, 0), db_cell(res, i, 1), kind, db_cell(res, i, 3) };
        char jerr[512];
        if (schedule_run_once(a, job, today, run_due_one, &d, jerr, sizeof jerr) < 0)
            log_warn("reports", "%s: %s", job, jerr);
    }
    db_result_free(res);
    return 0;
}
