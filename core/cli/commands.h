/* commands: the subcommands of the fourscore program (docs/api.md, "Command
 * line"). main.c dispatches argv[1] to one of these. Each lives in the
 * commands file of the domain it drives (core/cli/cmd_<domain>.c; serve and
 * migrate in core/cli/serve.c), parses its own options and opens the app
 * with cli_open / cli_connect (cli.h), so --help works on every one, and
 * returns the process exit code: 0 ok, 1 failure, 2 bad usage. argv[0] is
 * the subcommand's name. */
#ifndef FS_COMMANDS_H
#define FS_COMMANDS_H

int cmd_serve(int argc, char **argv);      /* serve.c */
int cmd_migrate(int argc, char **argv);    /* serve.c */
int cmd_import(int argc, char **argv);     /* cmd_data.c */
int cmd_demo(int argc, char **argv);       /* cmd_demo.c */
int cmd_user(int argc, char **argv);       /* cmd_access.c: user add|list|delete */
int cmd_token(int argc, char **argv);      /* cmd_access.c: token create|list|revoke */
int cmd_plugins(int argc, char **argv);    /* cmd_engine.c */
int cmd_kpi(int argc, char **argv);        /* cmd_engine.c */
int cmd_scorecard(int argc, char **argv);  /* cmd_script.c: scorecard run */
int cmd_rollup(int argc, char **argv);     /* cmd_data.c: rollup --rebuild */
int cmd_settings(int argc, char **argv);   /* cmd_engine.c: settings [set NAME VALUE | reset NAME] */
int cmd_alerts(int argc, char **argv);    /* cmd_alerts.c: alerts check */
int cmd_report(int argc, char **argv);    /* cmd_alerts.c: report send NAME */
#endif
