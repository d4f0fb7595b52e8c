/* reports: the scheduled reports (docs/api.md "Scheduled reports"): each
 * user's subscriptions to the daily report (日报表) and the monthly report,
 * built with the owner's scope and sent by email with a Chinese summary in
 * the body and the workbook attached (core/engine/export.c). Tables:
 * schemas/022_alerts.sql (subscriptions, schedule_runs). Part of
 * core/engine/. */
#ifndef FS_REPORTS_H
#define FS_REPORTS_H
#include <stdbool.h>
#include <stddef.h>
#include <cJSON.h>
#include "auth.h"
#include "db.h"

struct app;

/* The caller's subscriptions (admins: every user's, each with its owner):
 * [{"name","report","to","time"(,"owner")}]. NULL with err. */
cJSON *subscriptions_json(db_conn *c, const principal *who, char *err, size_t errlen);
/* Create or replace who's subscription name from body {"report":"daily"|
 * "monthly","to":[emails],"time":"HH:MM"} (time: 08:00 when left out).
 * 201 created, 200 replaced (*saved the subscription), 400 with field
 * ("report", "to", "to[N]", "time"), 503. A time already past today makes
 * the first report tomorrow's. */
int subscription_put(db_conn *c, const principal *who, const char *name, const cJSON *body, cJSON **saved,
                     char *field, size_t fieldlen, char *err, size_t errlen);
/* Delete who's subscription name, or owner's (admins only): 0, 403, 404, 503. */
int subscription_delete(db_conn *c, const principal *who, const char *name, const char *owner, char *err, size_t errlen);
/* Build and send the subscription name (of owner; NULL: the one user who
 * has one of that name) now: 0, or -1 with err. */
int report_send_now(struct app *a, const char *name, const char *owner, char *err, size_t errlen);

/* The subscriptions due at now ("YYYY-MM-DD HH:MM:SS", FOURSCORE_TZ) that
 * have not been sent for today, each sent under the lock of scheduled work
 * (schedule_run_once, alerts.h). 0, or -1 with err. */
int reports_run_due(struct app *a, const char *now, const volatile bool *stop, char *err, size_t errlen);
#endif
