/* alerts: alert rules, the alerts they open and close, and the delivery of
 * their notifications (docs/api.md "Alert rules and alerts"). The rules
 * (alert_rules.c): validated on save, owned by a user whose scope decides
 * their stores. The evaluation (alerts_eval.c): a rule's KPI by store over its
 * window, or a store's data freshness, opening one alert per (rule, store)
 * while the condition holds and closing it when it clears. The deliveries
 * (alerts_send.c): the messages (JSON, WeCom and DingTalk markdown, email)
 * sent through core/base/notify.c, each claimed once. The workers of a
 * serving process (alerts_run.c): the evaluation after imports, the
 * deliveries and the daily schedule on threads of their own. Tables:
 * schemas/022_alerts.sql. Part of core/engine/; plain C values in and out. */
#ifndef FS_ALERTS_H
#define FS_ALERTS_H
#include <stdbool.h>
#include <stddef.h>
#include <cJSON.h>
#include "auth.h"
#include "db.h"

struct app;

#define ALERT_RULE_NAME_MAX 64
#define ALERTS_LIST_MAX     1000

/* --- rules (alert_rules.c) --- */

/* Rule names: 1 to 64 of a-z 0-9 _ - (the scorecards' names). */
bool alert_rule_name_valid(const char *name);
/* Create or replace the rule name from body as who. Returns 201 created,
 * 200 replaced, or an HTTP status with err: 400 (field names the member:
 * "kpi", "when", "threshold", "window", "notify", "notify[N].webhook", ...),
 * 403 (a store or region outside the owner's scope: *out_of_scope set, or
 * another's rule), 503 (database), 500. *saved gets the rule as answered. */
int alert_rule_put(struct app *a, const principal *who, const char *name, const cJSON *body, cJSON **saved,
                   bool *out_of_scope, char *field, size_t fieldlen, char *err, size_t errlen);
/* The rules who may manage (admins: all, regional managers: their own),
 * each with its owner, by name. NULL with err on a database failure. */
cJSON *alert_rules_json(db_conn *c, const principal *who, char *err, size_t errlen);
/* Delete a rule (its open alerts are closed): 0, 403 (another's), 404, 503. */
int alert_rule_delete(db_conn *c, const principal *who, const char *name, char *err, size_t errlen);

/* --- alerts (alerts_eval.c) --- */

typedef struct alerts_filter {
    const char *state;       /* "open", "closed", "all" */
    long long before;        /* alert ids below this; 0: from the newest */
    int limit;               /* 1..ALERTS_LIST_MAX */
    const char *store, *kpi, *rule;   /* NULL: any */
} alerts_filter;
/* The alerts on stores in who's scope, newest first, each with its
 * deliveries. NULL with err on a database failure. */
cJSON *alerts_json(db_conn *c, const principal *who, const alerts_filter *f, char *err, size_t errlen);

typedef struct alerts_stats {
    int rules, opened, closed, errors;
} alerts_stats;
/* Evaluate the enabled rules now: for the stores given (NULL: every store
 * of each rule), and after an import of entity (NULL: every rule; else the
 * KPI rules and the data_missing rules of that entity). The alerts that open
 * or close get their deliveries queued (pending rows). 0, or -1 with err
 * when the database cannot be reached (a rule that fails is logged and
 * counted in errors, and the others still run). */
int alerts_evaluate(struct app *a, const char *entity, const char *const *stores, int nstores,
                    alerts_stats *st, char *err, size_t errlen);
/* One alert by id as alerts_json gives it, without deliveries: 1 found
 * (*out set), 0 none, -1 with err. */
int alert_by_id(db_conn *c, long long id, cJSON **out, char *err, size_t errlen);
/* Close the open alerts of a rule (replaced, disabled, deleted), inside the
 * caller's transaction, without notifications. */
int alerts_close_rule(db_conn *c, const char *rule, char *err, size_t errlen);

/* --- deliveries (alerts_send.c) --- */

typedef struct deliver_stats { int sent, failed; } deliver_stats;
/* Send the pending deliveries (of any instance's alerts), each claimed by
 * one UPDATE first so that no two senders send the same one; a claim left
 * by a sender that died is taken again after ALERTS_RECLAIM_S. Blocks while
 * it sends. stop (may be NULL) is read between deliveries. 0, or -1 with err. */
#define ALERTS_RECLAIM_S 600
int alerts_deliver_pending(struct app *a, const volatile bool *stop, deliver_stats *st, char *err, size_t errlen);
/* The webhook body of an alert (as alerts_json gives it) for a format
 * ("json", "wecom", "dingtalk"), with the KPI's Chinese name and unit;
 * malloc'd text, NULL when out of memory. */
char *alert_webhook_body(const cJSON *alert, const char *format, const char *kpi_name, const char *unit);
/* The email of an alert: subject and body (malloc'd), 0 or -1. */
int alert_email_text(const cJSON *alert, const char *kpi_name, const char *unit, char **subject, char **body);

/* A test delivery of the rule name (its owner or an admin): a sample alert
 * of the rule, marked as a test, sent now to each of its notify targets
 * through the same texts and notify.c calls (their time limits and
 * attempts), blocking until all are done. 200 with *out
 * {"rule","alert","results":[{"target","kind","status","attempts","last_error"}]},
 * or 403 (another's rule), 404, 503, 500 with err. Nothing is recorded in
 * the alerts or their deliveries. */
int alert_rule_test(struct app *a, const principal *who, const char *name, cJSON **out, char *err, size_t errlen);

/* Where notifications may go (FOURSCORE_WEBHOOK_HOSTS, FOURSCORE_MAIL_DOMAINS):
 * 0 allowed, -1 with err saying why not. admin: the rule's owner is an admin. */
int alerts_webhook_allowed(const char *url, char *err, size_t errlen);
int alerts_email_allowed(const char *address, bool admin, char *err, size_t errlen);

/* --- the workers of a serving process (alerts_run.c) --- */

/* Start the evaluation, delivery and schedule threads (a->alerts). 0 or -1. */
int alerts_start(struct app *a, char *err, size_t errlen);
/* Stop them (a delivery in flight finishes first) and free a->alerts. */
void alerts_stop(struct app *a);
/* An import committed rows of entity for these stores: queue their
 * evaluation and return at once (nothing when the workers are not running).
 * The shape of import_commit_fn (import.h), ud the struct app. */
void alerts_after_import(void *ud, const char *entity, const char *const *stores, int nstores);
/* "HH:MM" of FOURSCORE_ALERT_TIME (default 07:30) into out[6]: 0, or -1 with
 * err when it is not a time. */
int alerts_daily_time(char out[6], char *err, size_t errlen);
/* Run the job "job" for the day today under the named lock of scheduled
 * work, unless it has run for that day already (schedule_runs): fn(ud) runs
 * on one instance at a time and, once it returns 0, is marked done. 1 ran,
 * 0 not its turn or done already, -1 with err. */
int schedule_run_once(struct app *a, const char *job, const char *today, int (*fn)(void *ud), void *ud,
                      char *err, size_t errlen);
#endif
