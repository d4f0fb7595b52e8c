/* demo_users: the demo's logins, one user per role with the documented demo
 * password (exec, rm_<first region>, sm_<first store>), made from the demo
 * data already loaded. Never on a server with real data (README.md). */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include "auth.h"
#include "config.h"
#include "db.h"
#include "demo.h"

#define DEMO_PASSWORD "demo1234"
#define CODE_MAX_LEN 32
#define NAME_MAX_LEN 64

static const char SQL_FIRST_REGION[] = "SELECT region_code FROM regions ORDER BY region_code LIMIT 1";
static const char SQL_FIRST_STORE[] = "SELECT store_code FROM stores ORDER BY store_code LIMIT 1";

static void copy_bounded(char *dst, size_t cap, const char *src)
{
    snprintf(dst, cap, "%s", src ? src : "");
}

static int first_code(db_conn *c, const char *sql, char *out, size_t cap, char *err, size_t errlen)
{
    db_result *res = NULL;
    if (db_query(c, sql, NULL, 0, &res, err, errlen) != 0) return -1;
    int found = res->nrows > 0 && db_cell(res, 0, 0);
    if (found) copy_bounded(out, cap, db_cell(res, 0, 0));
    db_result_free(res);
    return found;
}

static void lower_ascii(char *s)
{
    for (; *s; s++) *s = (char)tolower((unsigned char)*s);
}

int auth_create_demo_users(db_conn *c, char *err, size_t errlen)
{
    config cfg;
    char cfg_err[256];
    memset(&cfg, 0, sizeof cfg);
    if (config_load_env(&cfg, cfg_err, sizeof cfg_err) != 0) {
        snprintf(err, errlen, "%s", cfg_err);
        return -1;
    }
    char region[CODE_MAX_LEN + 1], store[CODE_MAX_LEN + 1];
    int r1 = first_code(c, SQL_FIRST_REGION, region, sizeof region, err, errlen);
    int r2 = r1 > 0 ? first_code(c, SQL_FIRST_STORE, store, sizeof store, err, errlen) : r1;
    if (r1 < 0 || r2 < 0) return -1;
    if (r1 == 0 || r2 == 0) {
        snprintf(err, errlen, "demo users need the demo regions and stores: load the demo data first");
        return -1;
    }
    char rm_name[NAME_MAX_LEN + 1], sm_name[NAME_MAX_LEN + 1];
    snprintf(rm_name, sizeof rm_name, "rm_%s", region);
    snprintf(sm_name, sizeof sm_name, "sm_%s", store);
    lower_ascii(rm_name);
    lower_ascii(sm_name);
    user_spec users[3] = {
        { .username = "exec", .role = ROLE_EXEC, .password = DEMO_PASSWORD },
        { .username = rm_name, .role = ROLE_RM, .regions = { region }, .nregions = 1, .password = DEMO_PASSWORD },
        { .username = sm_name, .role = ROLE_SM, .store = store, .password = DEMO_PASSWORD },
    };
    principal cli;
    principal_cli(&cli);
    /* an existing user of the same name is left as it is (never a real
     * account's password reset by loading the demo) */
    for (int i = 0; i < 3; i++) {
        bool created;
        char field[32], why[512];
        int rc = user_save(c, &cfg, &cli, &users[i], SAVE_CREATE, &created, field, sizeof field, why, sizeof why);
        if (rc == 409) continue;
        if (rc != 0) {
            snprintf(err, errlen, "demo user %s: %s", users[i].username, why);
            return -1;
        }
    }
    printf("演示账号 / demo logins (demo only; password %s):\n"
           "  %-16s executive         所有门店 / all stores\n"
           "  %-16s regional_manager  区域 / region %s\n"
           "  %-16s store_manager     门店 / store %s\n",
           DEMO_PASSWORD, "exec", rm_name, region, sm_name, store);
    fflush(stdout);
    return 0;
}
