/* cmd_data: the command line of core/data/: `fourscore rollup --rebuild`
 * (every derived table from the facts, with progress). */
#include <stdio.h>
#include <string.h>
#include "app.h"
#include "cli.h"
#include "commands.h"
#include "config.h"
#include "db.h"
#include "rollup.h"
#include "generation.h"

static void print_progress(void *ud, int done, int total, const char *what)
{
    (void)ud;
    if (what) fprintf(stderr, "\r[%d/%d] %-40.40s", done + 1, total, what);
    else fprintf(stderr, "\r[%d/%d] done%-40s\n", total, total, "");
    fflush(stderr);
}

int cmd_rollup(int argc, char **argv)
{
    opt opts[] = {
        { "--rebuild", OPT_FLAG, NULL, "rebuild every derived table from the facts", 0, 0, {0}, 0 },
    };
    app a;
    char err[1024];
    const char *pos[1];
    int npos = 0;
    int rc = cli_open(&a, argc, argv, opts, 1, "fourscore rollup --rebuild [options]",
                          "Rebuild the derived tables the KPIs read (per store and day sums of the\n"
                          "repair orders, stock snapshot totals, vehicle visits) from the facts.\n"
                          "Imports keep them current; run this after changing facts by hand.",
                          pos, 0, &npos);
    if (rc != 0) return rc < 0 ? 0 : rc;
    if (!opts[0].set) {
        fprintf(stderr, "fourscore rollup: nothing to do; use --rebuild (see fourscore rollup --help)\n");
        return 2;
    }
    if (app_open(&a, true, err, sizeof err) != 0) {
        fprintf(stderr, "fourscore: %s\n", err);
        return 1;
    }
    db_conn *c = db_acquire(a.db, 5000, err, sizeof err);
    if (!c) {
        fprintf(stderr, "fourscore: %s\n", err);
        app_close(&a);
        return 1;
    }
    rc = rollup_rebuild_progress(c, print_progress, NULL, err, sizeof err);
    if (rc == 0) rc = data_generation_bump(c, err, sizeof err);
    db_release(a.db, c);
    app_close(&a);
    if (rc != 0) {
        fprintf(stderr, "\nfourscore rollup: %s\n", err);
        return 1;
    }
    fprintf(stderr, "rollups rebuilt\n");
    return 0;
}
