/* commands: the subcommands of the fourscore program (docs/api.md, "Command
 * line"). main.c dispatches argv[1] to one of these; each lives with the
 * subsystem it drives, parses its own options with config_parse() (so
 * --help works on every one) and returns the process exit code:
 * 0 ok, 1 failure, 2 bad usage. argv[0] is the subcommand's name. */
#ifndef FS_COMMANDS_H
#define FS_COMMANDS_H

int cmd_serve(int argc, char **argv);      /* main.c */
int cmd_migrate(int argc, char **argv);    /* main.c */
int cmd_import(int argc, char **argv);     /* cmd_data.c */
int cmd_demo(int argc, char **argv);       /* demo.c */
int cmd_user(int argc, char **argv);       /* auth.c: user add */
int cmd_token(int argc, char **argv);      /* auth.c: token create|list|revoke */
int cmd_plugins(int argc, char **argv);    /* plugin.c */
int cmd_kpi(int argc, char **argv);        /* kpi.c */
int cmd_scorecard(int argc, char **argv);  /* scorecard.c: scorecard run */
int cmd_rollup(int argc, char **argv);     /* rollup.c: rollup --rebuild */
int cmd_settings(int argc, char **argv);   /* settings.c: settings [set NAME VALUE | reset NAME] */
#endif
