/* cli: what every subcommand of core/cli/ does first: read the environment,
 * parse its flags (so --help works on every command), open the app (local
 * mode or --db, migrated) and take one connection. */
#ifndef FS_CLI_H
#define FS_CLI_H
#include "app.h"
#include "config.h"

/* Configuration and flags of a subcommand: 0, -1 when --help was printed
 * (the command exits 0), or an exit code (2: bad usage). */
int cli_open(app *a, int argc, char **argv, opt *opts, int nopts,
             const char *usage, const char *description, const char **pos, int maxpos, int *npos);
/* Open the app (local mode or --db, migrated): 0, or exit code 1 after
 * printing why as "fourscore CMD: ..." ("fourscore: ..." when cmd is NULL). */
int cli_app_open(app *a, const char *cmd);
/* The same, then take a connection: 0, or exit code 1 after printing why. */
int cli_connect(app *a, db_conn **c);
void cli_close(app *a, db_conn *c);
/* The wait for a pooled connection on the command line. */
#define CLI_DB_WAIT_MS 30000
#endif
