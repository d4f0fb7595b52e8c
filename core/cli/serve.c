/* serve: the life of a serving process and of `fourscore migrate`. Opens the
 * database (local mode or --db), migrates, makes sure an admin exists,
 * optionally loads the demo group, starts HTTP, then waits for SIGTERM or
 * SIGINT (in local mode restarting the private mariadbd meanwhile if it
 * exits) and shuts down in order: stop accepting, finish requests in flight,
 * release the database (stopping the local server if this process owns it),
 * exit 0. */
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include "alerts.h"
#include "app.h"
#include "auth.h"
#include "cli.h"
#include "commands.h"
#include "config.h"
#include "demo.h"
#include "http.h"
#include "kpi.h"
#include "kpi_refresh.h"
#include "localdb.h"
#include "log.h"
#include "scorecard.h"

/* --- shared start-up: configuration and the database --- */

/* Load config from the environment and the flags; open the app. Returns 0,
 * or the exit code to return (1 failure, 2 usage, 0 after --help). */
static int open_from_args(app *a, int argc, char **argv, opt *opts, int nopts,
                          const char *usage, const char *description)
{
    const char *pos[1];
    int npos;
    int rc = cli_open(a, argc, argv, opts, nopts, usage, description, pos, 0, &npos);
    if (rc != 0) return rc;           /* -1: --help printed; 2: bad usage */
    return cli_app_open(a, NULL);
}

/* --- fourscore migrate --- */

int cmd_migrate(int argc, char **argv)
{
    app a;
    int rc = open_from_args(&a, argc, argv, NULL, 0, "fourscore migrate [options]",
                            "Apply the pending schema migrations (schemas/NNN_*.sql) in order,\n"
                            "each in its own step; a failure names the file and stops there.");
    if (rc != 0) return rc < 0 ? 0 : rc;
    char err[512];
    db_conn *c = db_acquire(a.db, 5000, err, sizeof err);
    if (!c) {
        fprintf(stderr, "fourscore: %s\n", err);
        app_close(&a);
        return 1;
    }
    rc = scorecard_install_shipped(c, err, sizeof err);
    db_release(a.db, c);
    if (rc != 0) fprintf(stderr, "fourscore: installing the shipped scorecards: %s\n", err);
    app_close(&a);
    return rc == 0 ? 0 : 1;
}

/* --- fourscore serve --- */

#define SUPERVISE_EVERY_MS 500     /* how often local mode looks after its mariadbd */

/* Wait for SIGTERM or SIGINT (blocked in every thread); meanwhile, in local
 * mode, restart the private mariadbd this process started when it exits. */
static int wait_for_stop(const sigset_t *stop_signals, struct localdb *local)
{
    const struct timespec tick = { SUPERVISE_EVERY_MS / 1000, (SUPERVISE_EVERY_MS % 1000) * 1000000L };
    for (;;) {
        int sig = local ? sigtimedwait(stop_signals, NULL, &tick) : sigwaitinfo(stop_signals, NULL);
        if (sig > 0) return sig;
        if (errno != EAGAIN && errno != EINTR) {      /* cannot wait for a signal: wait the plain way */
            int got = SIGTERM;
            sigwait(stop_signals, &got);
            return got;
        }
        if (local) localdb_supervise(local);
    }
}

int cmd_serve(int argc, char **argv)
{
    opt opts[] = {
        { "--demo", OPT_FLAG, NULL, "load the demo group first if the database is empty, and print the demo logins", 0, 0, {0}, 0 },
    };
    /* Block the stop signals before any thread starts, so that every thread
     * inherits the mask and only sigwait() below sees them. */
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGTERM);
    sigaddset(&stop_signals, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop_signals, NULL);
    signal(SIGPIPE, SIG_IGN);
    /* glibc gives each of the many HTTP threads its own malloc arena; with
     * caches that empty and refill at every import, the arenas fragment and
     * resident memory creeps up for hours (seen in the soak). A few shared
     * arenas keep it flat at no measurable cost here. */
    mallopt(M_ARENA_MAX, 4);

    app a;
    int rc = open_from_args(&a, argc, argv, opts, 1, "fourscore serve [--demo] [options]",
                            "Migrate if needed, load the KPI plugins and serve the API and the\n"
                            "dashboards over HTTP until SIGTERM or Ctrl-C (then shut down gracefully).");
    if (rc != 0) return rc < 0 ? 0 : rc;
    a.cfg.demo = opts[0].set;

    char err[1024];
    db_conn *c = db_acquire(a.db, 5000, err, sizeof err);
    if (!c) goto fail;
    if (auth_ensure_admin(c, &a.cfg, err, sizeof err) != 0 ||
        scorecard_install_shipped(c, err, sizeof err) != 0) {
        db_release(a.db, c);
        goto fail;
    }
    db_release(a.db, c);
    if (a.cfg.demo && demo_load_if_empty(&a, err, sizeof err) != 0) goto fail;
    if (kpi_open(&a, err, sizeof err) != 0) goto fail;

    http_limits lim = {
        .body_max = a.cfg.body_max,
        .import_max = a.cfg.import_max,
        .connections = a.cfg.max_connections,
        .per_ip = a.cfg.max_per_ip,
        .timeout_s = a.cfg.request_timeout_s,
        .threads = a.cfg.threads,
    };
    if (alerts_start(&a, err, sizeof err) != 0) goto fail;
    if (kpi_refresh_start(&a, err, sizeof err) != 0) goto fail;
    if (http_start(&a, a.cfg.listen, &lim, err, sizeof err) != 0) goto fail;

    char host[256];
    unsigned port = 0;
    if (config_listen_split(a.cfg.listen, host, sizeof host, &port) != 0)
        snprintf(host, sizeof host, "127.0.0.1");
    log_info("serve", "listening on http://%s:%u", host, http_port());
    fprintf(stderr, "Fourscore 已启动 / serving: http://%s:%u  (Ctrl-C 停止 / to stop)\n", host, http_port());

    int sig = wait_for_stop(&stop_signals, a.local);
    log_info("serve", "received %s: stopping", sig == SIGINT ? "SIGINT" : "SIGTERM");
    http_stop();
    kpi_refresh_stop(&a);
    alerts_stop(&a);
    kpi_close(&a);
    app_close(&a);
    log_info("serve", "stopped");
    return 0;

fail:
    fprintf(stderr, "fourscore: %s\n", err);
    log_error("serve", "%s", err);
    kpi_refresh_stop(&a);
    alerts_stop(&a);
    kpi_close(&a);
    app_close(&a);
    return 1;
}
