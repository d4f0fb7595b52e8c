/* rollup_match: keeps the insurance matches of
 * schemas/015_insurance_matches.sql current. A policy's renewal or a sale's
 * new policy may be sold at any store of the group, so a match changes with
 * any policy of the same VIN: a refresh redoes the per-row matches of the
 * VINs an import named (old and new values alike), then the per-store day
 * and month counts of every (store, day) those rows had before or have now.
 *   insurance_policies -> rollup_policy_match -> rollup_renewal_day, _month
 *   insurance_policies, vehicle_sales
 *                      -> rollup_sale_match   -> rollup_new_policy_day, _month
 * The VINs go into a temporary table (touched_vins), so each step is one
 * statement whatever their number; the rebuild does every VIN at once. */
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "rollup_match.h"

#define MATCH_VIN_CHUNK 256          /* VINs per insert into touched_vins */
#define MATCH_VINS_REBUILD 50000     /* more VINs than this: rebuild every match */

#define ASCII_KEY " CHARACTER SET ascii COLLATE ascii_bin NOT NULL"
#define MONTH_OF(D) "DATE_FORMAT(" D ", '%Y-%m-01')"
/* No match: farther than any window (the settings stop at 3650 days). */
#define NO_MATCH "99999"

static const char *const SQL_TEMP_TABLES[] = {
    "CREATE TEMPORARY TABLE IF NOT EXISTS match_days (store_code VARCHAR(32)" ASCII_KEY ","
    " day DATE NOT NULL, PRIMARY KEY (store_code, day))",
    "CREATE TEMPORARY TABLE IF NOT EXISTS match_months (store_code VARCHAR(32)" ASCII_KEY ","
    " day DATE NOT NULL, PRIMARY KEY (store_code, day))",
};
static const char *const SQL_VINS_TABLE[] = {
    "CREATE TEMPORARY TABLE IF NOT EXISTS touched_vins (vin CHAR(17)" ASCII_KEY ", PRIMARY KEY (vin))",
    "DELETE FROM touched_vins",
};
static const char *const SQL_KEYS_CLEAR[] = { "DELETE FROM match_days", "DELETE FROM match_months" };

/* One kind of match: its per-row table, filled from the facts (alias f),
 * and its day and month counts. VIN_JOIN(A) limits a statement to the VINs
 * of touched_vins (a refresh) or is not there (the rebuild). */
#define VIN_JOIN(A) " JOIN touched_vins mv ON mv.vin = " A ".vin"

/* Each policy and the distance from its end to the nearest start of a
 * policy of its VIN that starts after it (k_policy_vin: vin, starts_on). */
#define POLICY_ROWS(JOIN) \
    "INSERT INTO rollup_policy_match (store_code, policy_no, vin, insurer_code, day, gap)" \
    " SELECT f.store_code, f.policy_no, f.vin, f.insurer_code, f.ends_on," \
    "  COALESCE((SELECT LEAST(MIN(ABS(DATEDIFF(n.starts_on, f.ends_on))), " NO_MATCH ")" \
    "   FROM insurance_policies n WHERE n.vin = f.vin AND n.starts_on > f.starts_on), " NO_MATCH ")" \
    " FROM insurance_policies f" JOIN
/* Each sale and the distance to the nearest sale of a new policy of its VIN. */
#define SALE_ROWS(JOIN) \
    "INSERT INTO rollup_sale_match (store_code, deal_no, vin, day, gap)" \
    " SELECT f.store_code, f.deal_no, f.vin, f.sold_on," \
    "  COALESCE((SELECT LEAST(MIN(ABS(DATEDIFF(n.sold_on, f.sold_on))), " NO_MATCH ")" \
    "   FROM insurance_policies n WHERE n.vin = f.vin AND n.kind = 'new'), " NO_MATCH ")" \
    " FROM vehicle_sales f" JOIN

typedef struct match_kind {
    const char *rows_delete_vins, *rows_insert_vins, *keys_of_vins;
    const char *days_delete, *days_insert, *months_delete, *months_insert;
    const char *delete_all[3], *rows_insert_all, *days_insert_all, *months_insert_all;
} match_kind;

/* The statements of a kind whose day table has GROUP_COLS besides the
 * count COUNT_COL. */
#define MATCH_KIND(ROWT, DAYT, MONTHT, ROWS, GROUP_COLS, COUNT_COL) { \
    "DELETE m FROM " ROWT " m" VIN_JOIN("m"), \
    ROWS(VIN_JOIN("f")), \
    "INSERT IGNORE INTO match_days (store_code, day) SELECT m.store_code, m.day FROM " ROWT " m" VIN_JOIN("m"), \
    "DELETE d FROM " DAYT " d JOIN match_days k ON k.store_code = d.store_code AND k.day = d.day", \
    "INSERT INTO " DAYT " (store_code, day, " GROUP_COLS ", " COUNT_COL ")" \
    " SELECT m.store_code, m.day, " GROUP_COLS ", COUNT(*) FROM match_days k" \
    " JOIN " ROWT " m ON m.store_code = k.store_code AND m.day = k.day" \
    " GROUP BY m.store_code, m.day, " GROUP_COLS, \
    "DELETE d FROM " MONTHT " d JOIN match_months k ON k.store_code = d.store_code AND k.day = d.day", \
    "INSERT INTO " MONTHT " (store_code, day, " GROUP_COLS ", " COUNT_COL ")" \
    " SELECT d.store_code, k.day, " GROUP_COLS ", SUM(" COUNT_COL ") FROM match_months k" \
    " JOIN " DAYT " d ON d.store_code = k.store_code AND d.day BETWEEN k.day AND LAST_DAY(k.day)" \
    " GROUP BY d.store_code, k.day, " GROUP_COLS, \
    { "DELETE FROM " ROWT, "DELETE FROM " DAYT, "DELETE FROM " MONTHT }, \
    ROWS(""), \
    "INSERT INTO " DAYT " (store_code, day, " GROUP_COLS ", " COUNT_COL ")" \
    " SELECT store_code, day, " GROUP_COLS ", COUNT(*) FROM " ROWT " GROUP BY store_code, day, " GROUP_COLS, \
    "INSERT INTO " MONTHT " (store_code, day, " GROUP_COLS ", " COUNT_COL ")" \
    " SELECT store_code, " MONTH_OF("day") ", " GROUP_COLS ", SUM(" COUNT_COL ") FROM " DAYT \
    " GROUP BY store_code, " MONTH_OF("day") ", " GROUP_COLS }

static const match_kind RENEWALS =
    MATCH_KIND("rollup_policy_match", "rollup_renewal_day", "rollup_renewal_month", POLICY_ROWS,
               "insurer_code, gap", "policies");
static const match_kind NEW_POLICIES =
    MATCH_KIND("rollup_sale_match", "rollup_new_policy_day", "rollup_new_policy_month", SALE_ROWS,
               "gap", "sales");

static const char SQL_MONTHS_OF_DAYS[] =
    "INSERT IGNORE INTO match_months (store_code, day) SELECT store_code, " MONTH_OF("day") " FROM match_days";

static int exec_list(db_conn *c, const char *const *sqls, size_t n, char *err, size_t errlen)
{
    for (size_t i = 0; i < n; i++)
        if (db_exec(c, sqls[i], NULL, 0, NULL, err, errlen) != 0) return -1;
    return 0;
}
#define EXEC_LIST(c, list, err, errlen) exec_list(c, list, sizeof list / sizeof *list, err, errlen)

/* The matches of the VINs in touched_vins: the (store, day) keys their rows
 * had, the rows redone, the keys they have now; then those days and their
 * months recounted. */
static int kind_refresh(db_conn *c, const match_kind *k, char *err, size_t errlen)
{
    const char *const steps[] = {
        k->keys_of_vins, k->rows_delete_vins, k->rows_insert_vins, k->keys_of_vins,
        k->days_delete, k->days_insert, SQL_MONTHS_OF_DAYS, k->months_delete, k->months_insert,
    };
    return EXEC_LIST(c, SQL_KEYS_CLEAR, err, errlen) != 0 || EXEC_LIST(c, steps, err, errlen) != 0 ? -1 : 0;
}

static int kind_rebuild(db_conn *c, const match_kind *k, char *err, size_t errlen)
{
    const char *const steps[] = { k->rows_insert_all, k->days_insert_all, k->months_insert_all };
    return EXEC_LIST(c, k->delete_all, err, errlen) != 0 || EXEC_LIST(c, steps, err, errlen) != 0 ? -1 : 0;
}

/* "INSERT IGNORE INTO touched_vins (vin) VALUES (?), ... (?)": built once
 * (db.h caches statements by their text). */
static char *sql_vins_insert;
static pthread_once_t vins_sql_once = PTHREAD_ONCE_INIT;

static void build_vins_sql(void)
{
    static const char head[] = "INSERT IGNORE INTO touched_vins (vin) VALUES ";
    size_t len = sizeof head + MATCH_VIN_CHUNK * 4;
    char *s = malloc(len);
    if (!s) return;
    size_t o = (size_t)snprintf(s, len, "%s", head);
    for (int i = 0; i < MATCH_VIN_CHUNK; i++) o += (size_t)snprintf(s + o, len - o, i ? ",(?)" : "(?)");
    sql_vins_insert = s;
}

int rollup_vins_load(db_conn *c, const char *const *vins, int nvins, char *err, size_t errlen)
{
    pthread_once(&vins_sql_once, build_vins_sql);
    if (!sql_vins_insert) {
        snprintf(err, errlen, "out of memory building the VIN list");
        return -1;
    }
    if (EXEC_LIST(c, SQL_VINS_TABLE, err, errlen) != 0) return -1;
    db_val p[MATCH_VIN_CHUNK];
    for (int at = 0; at < nvins; at += MATCH_VIN_CHUNK) {
        int n = nvins - at < MATCH_VIN_CHUNK ? nvins - at : MATCH_VIN_CHUNK;
        /* pad with the chunk's last VIN: INSERT IGNORE drops the repeats */
        for (int i = 0; i < MATCH_VIN_CHUNK; i++) p[i] = DB_STR(vins[at + (i < n ? i : n - 1)]);
        if (db_exec(c, sql_vins_insert, p, MATCH_VIN_CHUNK, NULL, err, errlen) != 0) return -1;
    }
    return 0;
}

int rollup_match_refresh(db_conn *c, const rollup_scope *scope, bool renewals, char *err, size_t errlen)
{
    if (!scope) return 0;
    if (!scope->vins || scope->nvins <= 0) {
        /* an importer that names no VINs but touched stores: redo everything */
        return scope->ntouched > 0 ? rollup_match_rebuild(c, err, errlen) : 0;
    }
    if (scope->nvins > MATCH_VINS_REBUILD) return rollup_match_rebuild(c, err, errlen);
    if (rollup_vins_load(c, scope->vins, scope->nvins, err, errlen) != 0 ||
        EXEC_LIST(c, SQL_TEMP_TABLES, err, errlen) != 0)
        return -1;
    if (renewals && kind_refresh(c, &RENEWALS, err, errlen) != 0) return -1;
    return kind_refresh(c, &NEW_POLICIES, err, errlen);
}

int rollup_match_rebuild(db_conn *c, char *err, size_t errlen)
{
    return kind_rebuild(c, &RENEWALS, err, errlen) != 0 || kind_rebuild(c, &NEW_POLICIES, err, errlen) != 0 ? -1 : 0;
}
