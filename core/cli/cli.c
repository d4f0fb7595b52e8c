/* cli: opening the app for a command (see cli.h). */
#include <stdio.h>
#include <string.h>
#include "cli.h"

int cli_open(app *a, int argc, char **argv, opt *opts, int nopts,
             const char *usage, const char *description, const char **pos, int maxpos, int *npos)
{
    char err[1024];
    memset(a, 0, sizeof *a);
    if (config_load_env(&a->cfg, err, sizeof err) != 0) {
        fprintf(stderr, "fourscore: %s\n", err);
        return 2;
    }
    int rc = config_parse(&a->cfg, argc, argv, opts, nopts, usage, description, pos, maxpos, npos);
    if (rc == 1) return -1;
    if (rc != 0) return 2;
    return 0;
}

int cli_app_open(app *a, const char *cmd)
{
    char err[1024];
    if (app_open(a, true, err, sizeof err) == 0) return 0;
    if (cmd) fprintf(stderr, "fourscore %s: %s\n", cmd, err);
    else fprintf(stderr, "fourscore: %s\n", err);
    return 1;
}

int cli_connect(app *a, db_conn **c)
{
    char err[1024];
    if (cli_app_open(a, NULL) != 0) return 1;
    *c = db_acquire(a->db, CLI_DB_WAIT_MS, err, sizeof err);
    if (!*c) {
        fprintf(stderr, "fourscore: %s\n", err);
        app_close(a);
        return 1;
    }
    return 0;
}

void cli_close(app *a, db_conn *c)
{
    if (c) db_release(a->db, c);
    app_close(a);
}
