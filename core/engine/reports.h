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

struct app;

/* The subscriptions due at now ("YYYY-MM-DD HH:MM:SS", FOURSCORE_TZ) that
 * have not been sent for today, each sent under the lock of scheduled work
 * (schedule_run_once, alerts.h). 0, or -1 with err. */
int reports_run_due(struct app *a, const char *now, const volatile bool *stop, char *err, size_t errlen);
#endif
