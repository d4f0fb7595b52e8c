/* main: the fourscore command. Dispatches argv[1] to the subcommands of
 * docs/api.md ("Command line"); each subcommand lives with its subsystem
 * (core/cli/commands.h) and parses its own options. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "commands.h"
#include "log.h"

typedef struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} command;

/* The subcommands, in the order `fourscore --help` lists them. */
static const command commands[] = {
    { "serve", cmd_serve, "serve the API and the dashboards (serve --demo: with the demo group)" },
    { "migrate", cmd_migrate, "apply pending schema migrations" },
    { "import", cmd_import, "import CSV files of one entity (import ENTITY FILE...)" },
    { "demo", cmd_demo, "generate the demo dealer group: load it, or write CSV files (--out DIR)" },
    { "scorecard", cmd_scorecard, "run a Lua scorecard from the shell (scorecard run FILE.lua)" },
    { "plugins", cmd_plugins, "list the KPI plugins and their KPIs (refused ones with the reason)" },
    { "kpi", cmd_kpi, "compute KPIs from the shell" },
    { "settings", cmd_settings, "show or change the KPI settings (set NAME VALUE, reset NAME)" },
    { "rollup", cmd_rollup, "rebuild the derived tables from the facts (--rebuild)" },
    { "user", cmd_user, "add, list or delete users (user add NAME --role ROLE ...)" },
    { "token", cmd_token, "create, list or revoke API tokens (uploader, metrics)" },
    { "alerts", cmd_alerts, "evaluate the alert rules now and send their notifications (alerts check)" },
    { "report", cmd_report, "send a subscription's scheduled report now (report send NAME --owner USER)" },
    { NULL, NULL, NULL }
};

static void print_help(FILE *f)
{
    fprintf(f,
        "fourscore: the dealer group's after-sales reporting server\n"
        "\n"
        "usage: fourscore COMMAND [options]   (fourscore COMMAND --help for its options)\n"
        "\n"
        "commands:\n");
    for (const command *c = commands; c->name; c++)
        fprintf(f, "  %-12s %s\n", c->name, c->summary);
    fprintf(f,
        "\n"
        "Configuration comes from flags, then FOURSCORE_* environment variables, then\n"
        "defaults. With no --db (FOURSCORE_DB_URL) Fourscore runs its own private\n"
        "MariaDB server in --data-dir (default ./var): local mode.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        print_help(stderr);
        return 2;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        print_help(stdout);
        return 0;
    }
    for (const command *c = commands; c->name; c++) {
        if (strcmp(c->name, argv[1]) != 0) continue;
        /* the server logs to stdout; every other command answers there and
         * tells a person its progress itself, so its log keeps to warnings */
        if (c->run != cmd_serve) {
            log_set_fd(STDERR_FILENO);
            log_set_level(LOG_WARN);
        }
        return c->run(argc - 1, argv + 1);
    }
    fprintf(stderr, "fourscore: unknown command '%s' (see fourscore --help)\n", argv[1]);
    return 2;
}
