/* cmd_access: the command line of core/access/: `fourscore user add|list|
 * delete` and `fourscore token create|list|revoke`. Each parses its options
 * (with --help), opens the app with cli_open/cli_connect and calls
 * core/access/; passwords are asked on the terminal with echo off or read
 * from stdin, never taken from argv. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>
#include <sodium.h>
#include <cJSON.h>
#include "app.h"
#include "auth.h"
#include "cli.h"
#include "commands.h"
#include "config.h"
#include "db.h"

/* One line from f without its line end; -1 when empty, too long or absent. */
static int read_line(FILE *f, char *buf, size_t cap)
{
    if (!fgets(buf, (int)cap, f)) return -1;
    size_t n = strlen(buf);
    bool had_newline = n > 0 && buf[n - 1] == '\n';
    if (!had_newline && !feof(f)) return -1;         /* longer than the buffer */
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r')) buf[--n] = '\0';
    return n > 0 ? 0 : -1;
}

/* Ask for a password twice on the terminal with echo off. */
static int ask_password(const char *username, char *buf, size_t cap)
{
    FILE *tty = fopen("/dev/tty", "r+");
    if (!tty) {
        fprintf(stderr, "fourscore: no terminal to ask the password on; pipe it in with --password-stdin\n");
        return -1;
    }
    struct termios saved, quiet;
    int fd = fileno(tty);
    bool echo_off = tcgetattr(fd, &saved) == 0;
    if (echo_off) {
        quiet = saved;
        quiet.c_lflag &= ~(tcflag_t)ECHO;
        echo_off = tcsetattr(fd, TCSAFLUSH, &quiet) == 0;
    }
    char again[AUTH_PASSWORD_MAX + 2];
    fprintf(tty, "密码 / password for %s: ", username);
    fflush(tty);
    int rc = read_line(tty, buf, cap);
    fprintf(tty, "\n再输一次 / again: ");
    fflush(tty);
    if (rc == 0) rc = read_line(tty, again, sizeof again);
    fprintf(tty, "\n");
    if (echo_off) tcsetattr(fd, TCSAFLUSH, &saved);
    fclose(tty);
    if (rc != 0) {
        fprintf(stderr, "fourscore: no password given\n");
    } else if (strcmp(buf, again) != 0) {
        fprintf(stderr, "fourscore: the two passwords differ (两次输入的密码不一致)\n");
        rc = -1;
    }
    sodium_memzero(again, sizeof again);
    return rc;
}

static const char USER_USAGE[] =
    "fourscore user add NAME --role ROLE [--region CODE]... [--store CODE] [--password-stdin]\n"
    "       fourscore user list\n"
    "       fourscore user delete NAME";

static int cmd_user_add(int argc, char **argv)
{
    opt opts[] = {
        { "--role", OPT_STR, "ROLE", "admin, executive, regional_manager or store_manager", 0, 0, {0}, 0 },
        { "--region", OPT_MULTI, "CODE", "a regional manager's region", 0, 0, {0}, 0 },
        { "--store", OPT_STR, "CODE", "a store manager's store", 0, 0, {0}, 0 },
        { "--password-stdin", OPT_FLAG, NULL, "read the password from the first line of stdin instead of asking", 0, 0, {0}, 0 },
    };
    app a;
    db_conn *c;
    const char *pos[1];
    int npos = 0;
    int rc = cli_open(&a, argc, argv, opts, 4, "fourscore user add NAME --role ROLE [--region CODE]... [--store CODE] [--password-stdin]",
                      "Create a user, or update one: role, regions, store and password.\n"
                      "Without --password-stdin the password is asked twice on the terminal.",
                      pos, 1, &npos);
    if (rc != 0) return rc < 0 ? 0 : rc;
    if (npos != 1) { fprintf(stderr, "fourscore: user add needs the user's NAME\nusage: %s\n", USER_USAGE); return 2; }
    if (!opts[0].set) { fprintf(stderr, "fourscore: user add needs --role (admin, executive, regional_manager or store_manager)\n"); return 2; }
    user_spec u = { .username = pos[0], .role = role_parse(opts[0].value), .store = opts[2].value };
    if (!role_is_user(u.role)) {
        fprintf(stderr, "fourscore: --role %s: one of admin, executive, regional_manager, store_manager\n", opts[0].value);
        return 2;
    }
    if (!auth_name_valid(u.username)) {
        fprintf(stderr, "fourscore: user name '%s': 1 to 64 letters, digits, '_', '.' or '-'\n", u.username);
        return 2;
    }
    for (int i = 0; i < opts[1].nvalues && i < MAX_USER_REGIONS; i++) u.regions[u.nregions++] = opts[1].values[i];

    char password[AUTH_PASSWORD_MAX + 2];
    if (opts[3].set) {
        if (read_line(stdin, password, sizeof password) != 0) {
            fprintf(stderr, "fourscore: --password-stdin: no password on the first line of stdin (or longer than 1024 bytes)\n");
            return 2;
        }
    } else if (ask_password(u.username, password, sizeof password) != 0) {
        return 1;
    }
    u.password = password;
    const char *problem = password_problem(password);
    if (problem) {
        fprintf(stderr, "fourscore: %s\n", problem);
        sodium_memzero(password, sizeof password);
        return 2;
    }
    rc = cli_connect(&a, &c);
    if (rc != 0) { sodium_memzero(password, sizeof password); return rc; }
    principal cli;
    principal_cli(&cli);
    char field[32], err[512];
    bool created;
    int st = user_save(c, &a.cfg, &cli, &u, SAVE_UPSERT, &created, field, sizeof field, err, sizeof err);
    sodium_memzero(password, sizeof password);
    cli_close(&a, c);
    if (st != 0) {
        fprintf(stderr, "fourscore: user %s: %s\n", u.username, err);
        return st == 400 ? 2 : 1;
    }
    printf("user %s %s: %s", u.username, created ? "created" : "updated", role_name(u.role));
    for (int i = 0; i < u.nregions; i++) printf("%s%s", i ? "," : " of region ", u.regions[i]);
    if (u.store) printf(" of store %s", u.store);
    printf("\n");
    return 0;
}

static int cmd_user_list(int argc, char **argv)
{
    app a;
    db_conn *c;
    const char *pos[1];
    int npos = 0;
    int rc = cli_open(&a, argc, argv, NULL, 0, "fourscore user list", "List the users with their roles and scope.", pos, 0, &npos);
    if (rc != 0) return rc < 0 ? 0 : rc;
    if ((rc = cli_connect(&a, &c)) != 0) return rc;
    char err[512];
    cJSON *arr = users_json(c, NULL, err, sizeof err);
    cli_close(&a, c);
    if (!arr) { fprintf(stderr, "fourscore: %s\n", err); return 1; }
    printf("%-24s %-18s %s\n", "NAME", "ROLE", "SCOPE");
    const cJSON *u;
    cJSON_ArrayForEach(u, arr) {
        const char *role = cJSON_GetObjectItem(u, "role")->valuestring;
        char scope[512] = "all stores";
        const cJSON *store = cJSON_GetObjectItem(u, "store");
        if (!strcmp(role, "regional_manager")) {
            size_t at = (size_t)snprintf(scope, sizeof scope, "region");
            const cJSON *reg;
            cJSON_ArrayForEach(reg, cJSON_GetObjectItem(u, "regions"))
                if (at < sizeof scope) at += (size_t)snprintf(scope + at, sizeof scope - at, " %s", reg->valuestring);
        } else if (!strcmp(role, "store_manager")) {
            snprintf(scope, sizeof scope, "store %s", cJSON_IsString(store) ? store->valuestring : "-");
        }
        printf("%-24s %-18s %s\n", cJSON_GetObjectItem(u, "username")->valuestring, role, scope);
    }
    cJSON_Delete(arr);
    return 0;
}

static int cmd_user_delete(int argc, char **argv)
{
    app a;
    db_conn *c;
    const char *pos[1];
    int npos = 0;
    int rc = cli_open(&a, argc, argv, NULL, 0, "fourscore user delete NAME",
                      "Delete a user; their sessions end at once.", pos, 1, &npos);
    if (rc != 0) return rc < 0 ? 0 : rc;
    if (npos != 1) { fprintf(stderr, "fourscore: user delete needs the user's NAME\n"); return 2; }
    if ((rc = cli_connect(&a, &c)) != 0) return rc;
    principal cli;
    principal_cli(&cli);
    char err[512];
    int st = user_remove(c, &cli, pos[0], err, sizeof err);
    cli_close(&a, c);
    if (st != 0) { fprintf(stderr, "fourscore: %s\n", err); return 1; }
    printf("user %s deleted\n", pos[0]);
    return 0;
}

int cmd_user(int argc, char **argv)
{
    const char *sub = argc > 1 ? argv[1] : NULL;
    if (sub && (!strcmp(sub, "--help") || !strcmp(sub, "-h") || !strcmp(sub, "help"))) {
        printf("usage: %s\n\nManage the users who sign in to the dashboards (see docs/security.md).\n"
               "fourscore user add --help shows the options of add.\n", USER_USAGE);
        return 0;
    }
    if (sub && !strcmp(sub, "add")) return cmd_user_add(argc - 1, argv + 1);
    if (sub && !strcmp(sub, "list")) return cmd_user_list(argc - 1, argv + 1);
    if (sub && !strcmp(sub, "delete")) return cmd_user_delete(argc - 1, argv + 1);
    if (sub) fprintf(stderr, "fourscore: user %s: unknown action (add, list or delete)\n", sub);
    else fprintf(stderr, "fourscore: user: say what to do (add, list or delete)\n");
    fprintf(stderr, "usage: %s\n", USER_USAGE);
    return 2;
}

static const char TOKEN_USAGE[] =
    "fourscore token create NAME (--store CODE | --all-stores | --metrics)\n"
    "       fourscore token list\n"
    "       fourscore token revoke NAME";

static int cmd_token_create(int argc, char **argv)
{
    opt opts[] = {
        { "--store", OPT_STR, "CODE", "an uploader token that imports rows of this store only", 0, 0, {0}, 0 },
        { "--all-stores", OPT_FLAG, NULL, "an uploader token for every store (and regions, stores, insurers)", 0, 0, {0}, 0 },
        { "--metrics", OPT_FLAG, NULL, "a token that may only read /metrics", 0, 0, {0}, 0 },
    };
    app a;
    db_conn *c;
    const char *pos[1];
    int npos = 0;
    int rc = cli_open(&a, argc, argv, opts, 3, "fourscore token create NAME (--store CODE | --all-stores | --metrics)",
                      "Create an API token. The secret is printed once, alone on the last line;\n"
                      "only its hash is kept. Send it as Authorization: Bearer SECRET.",
                      pos, 1, &npos);
    if (rc != 0) return rc < 0 ? 0 : rc;
    if (npos != 1) { fprintf(stderr, "fourscore: token create needs the token's NAME\nusage: %s\n", TOKEN_USAGE); return 2; }
    int kinds = (opts[0].set ? 1 : 0) + (opts[1].set ? 1 : 0) + (opts[2].set ? 1 : 0);
    if (kinds != 1) {
        fprintf(stderr, "fourscore: token create needs exactly one of --store CODE, --all-stores, --metrics\n");
        return 2;
    }
    if (!auth_name_valid(pos[0])) {
        fprintf(stderr, "fourscore: token name '%s': 1 to 64 letters, digits, '_', '.' or '-'\n", pos[0]);
        return 2;
    }
    if ((rc = cli_connect(&a, &c)) != 0) return rc;
    char err[512], secret[80];
    if (opts[0].set) {
        int found = auth_store_exists(c, opts[0].value, err, sizeof err);
        if (found == 0)
            fprintf(stderr, "fourscore: note: store %s does not exist yet; the token will import its rows once it does\n", opts[0].value);
    }
    principal cli;
    principal_cli(&cli);
    int st = auth_token_create(c, &cli, pos[0], opts[2].set ? "metrics" : "uploader", opts[0].value,
                               opts[1].set, secret, err, sizeof err);
    cli_close(&a, c);
    if (st != 0) {
        fprintf(stderr, "fourscore: token %s: %s\n", pos[0], err);
        return st == 400 ? 2 : 1;
    }
    if (opts[2].set) printf("token %s created: metrics (may only read /metrics)\n", pos[0]);
    else if (opts[1].set) printf("token %s created: uploader for every store\n", pos[0]);
    else printf("token %s created: uploader for store %s\n", pos[0], opts[0].value);
    printf("The secret follows; it is shown only this once (只显示这一次，请妥善保存):\n%s\n", secret);
    sodium_memzero(secret, sizeof secret);
    return 0;
}

static int cmd_token_list(int argc, char **argv)
{
    app a;
    db_conn *c;
    const char *pos[1];
    int npos = 0;
    int rc = cli_open(&a, argc, argv, NULL, 0, "fourscore token list", "List the API tokens (never their secrets).", pos, 0, &npos);
    if (rc != 0) return rc < 0 ? 0 : rc;
    if ((rc = cli_connect(&a, &c)) != 0) return rc;
    char err[512];
    cJSON *arr = tokens_json(c, err, sizeof err);
    cli_close(&a, c);
    if (!arr) { fprintf(stderr, "fourscore: %s\n", err); return 1; }
    printf("%-24s %-9s %-14s %-21s %s\n", "NAME", "KIND", "SCOPE", "CREATED", "LAST USED");
    const cJSON *t;
    cJSON_ArrayForEach(t, arr) {
        const cJSON *store = cJSON_GetObjectItem(t, "store"), *used = cJSON_GetObjectItem(t, "last_used_at");
        const char *kind = cJSON_GetObjectItem(t, "kind")->valuestring;
        const char *scope = !strcmp(kind, "metrics") ? "/metrics" : cJSON_IsTrue(cJSON_GetObjectItem(t, "all_stores")) ? "all stores"
                            : cJSON_IsString(store) ? store->valuestring : "-";
        printf("%-24s %-9s %-14s %-21s %s\n", cJSON_GetObjectItem(t, "name")->valuestring, kind, scope,
               cJSON_GetObjectItem(t, "created_at")->valuestring, cJSON_IsString(used) ? used->valuestring : "never");
    }
    cJSON_Delete(arr);
    return 0;
}

static int cmd_token_revoke(int argc, char **argv)
{
    app a;
    db_conn *c;
    const char *pos[1];
    int npos = 0;
    int rc = cli_open(&a, argc, argv, NULL, 0, "fourscore token revoke NAME",
                      "Revoke a token: it stops working at once, on every server instance.", pos, 1, &npos);
    if (rc != 0) return rc < 0 ? 0 : rc;
    if (npos != 1) { fprintf(stderr, "fourscore: token revoke needs the token's NAME\n"); return 2; }
    if ((rc = cli_connect(&a, &c)) != 0) return rc;
    principal cli;
    principal_cli(&cli);
    char err[512];
    int st = auth_token_revoke(c, &cli, pos[0], err, sizeof err);
    cli_close(&a, c);
    if (st != 0) { fprintf(stderr, "fourscore: %s\n", err); return 1; }
    printf("token %s revoked\n", pos[0]);
    return 0;
}

int cmd_token(int argc, char **argv)
{
    const char *sub = argc > 1 ? argv[1] : NULL;
    if (sub && (!strcmp(sub, "--help") || !strcmp(sub, "-h") || !strcmp(sub, "help"))) {
        printf("usage: %s\n\nAPI tokens for store systems (uploader) and monitoring (metrics); see docs/security.md.\n"
               "fourscore token create --help shows the options of create.\n", TOKEN_USAGE);
        return 0;
    }
    if (sub && !strcmp(sub, "create")) return cmd_token_create(argc - 1, argv + 1);
    if (sub && !strcmp(sub, "list")) return cmd_token_list(argc - 1, argv + 1);
    if (sub && !strcmp(sub, "revoke")) return cmd_token_revoke(argc - 1, argv + 1);
    if (sub) fprintf(stderr, "fourscore: token %s: unknown action (create, list or revoke)\n", sub);
    else fprintf(stderr, "fourscore: token: say what to do (create, list or revoke)\n");
    fprintf(stderr, "usage: %s\n", TOKEN_USAGE);
    return 2;
}
