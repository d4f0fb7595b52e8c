/* cmd_alerts: the commands of the alerts and the scheduled reports
 * (docs/api.md "Command line"): `fourscore alerts check` evaluates every
 * enabled rule now and sends the notifications of the alerts that opened or
 * closed (and any left pending); `fourscore report send NAME` builds and
 * sends one subscription's report now. The domain is core/engine/alerts.h
 * and reports.h. */
#include <stdio.h>
#include <string.h>
#include "alerts.h"
#include "cli.h"
#include "commands.h"
#include "kpi.h"
#include "log.h"
#include "reports.h"

int cmd_alerts(int argc, char **argv)
{
    app a;
    const char *pos[1];
    int npos = 0;
    int rc = cli_open(&a, argc, argv, NULL, 0, "fourscore alerts check [options]",
                      "Evaluate every enabled alert rule now, for every store of each rule\n"
                      "(as its owner's scope is now), open the alerts whose condition holds and\n"
                      "close those that cleared, then send their notifications (webhooks and\n"
                      "email; each is sent once even when other instances evaluate too) and any\n"
                      "left pending. Prints what it did; exit 1 when the database fails.",
                      pos, 1, &npos);
    if (rc != 0) return rc < 0 ? 0 : rc;
    if (npos != 1 || strcmp(pos[0], "check") != 0) {
        fprintf(stderr, "fourscore alerts: expected 'check' (see --help)\n");
        return 2;
    }
    log_set_level(LOG_WARN);
    char err[1024];
    if (cli_app_open(&a, "alerts") != 0) return 1;
    alerts_stats st;
    deliver_stats ds = { 0 };
    int exit_code = 0;
    if (alerts_evaluate(&a, NULL, NULL, 0, &st, err, sizeof err) != 0 ||
        alerts_deliver_pending(&a, NULL, &ds, err, sizeof err) != 0) {
        fprintf(stderr, "fourscore alerts: %s\n", err);
        exit_code = 1;
    } else {
        printf("rules evaluated: %d; alerts opened: %d, closed: %d; notifications sent: %d, failed: %d%s\n", st.rules,
               st.opened, st.closed, ds.sent, ds.failed, st.errors ? " (some rules failed: see the log)" : "");
    }
    kpi_close(&a);
    app_close(&a);
    return exit_code;
}

int cmd_report(int argc, char **argv)
{
    opt opts[] = {
        { "--owner", OPT_STR, "USER", "the subscription's owner (needed when several users have one of that name)", 0, 0, {0}, 0 },
    };
    app a;
    const char *pos[2];
    int npos = 0;
    int rc = cli_open(&a, argc, argv, opts, 1, "fourscore report send NAME [--owner USER] [options]",
                      "Build the report of the subscription NAME now, with its owner's scope as it\n"
                      "is now (daily: the 日报表 for the 1st of yesterday's month to yesterday;\n"
                      "monthly: the last full month), and email it to its recipients with the\n"
                      "summary in the body and the workbook (.xlsx) attached, through\n"
                      "FOURSCORE_SMTP_URL. Exit 1 when it cannot be built or sent.",
                      pos, 2, &npos);
    if (rc != 0) return rc < 0 ? 0 : rc;
    if (npos != 2 || strcmp(pos[0], "send") != 0) {
        fprintf(stderr, "fourscore report: expected 'send NAME' (see --help)\n");
        return 2;
    }
    log_set_level(LOG_WARN);
    char err[1024];
    if (cli_app_open(&a, "report") != 0) return 1;
    int exit_code = 0;
    if (report_send_now(&a, pos[1], opts[0].set ? opts[0].value : NULL, err, sizeof err) != 0) {
        fprintf(stderr, "fourscore report: %s\n", err);
        exit_code = 1;
    } else {
        printf("sent the report %s\n", pos[1]);
    }
    kpi_close(&a);
    app_close(&a);
    return exit_code;
}
