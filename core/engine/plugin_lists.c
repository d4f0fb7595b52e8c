/* plugin_lists: the host side of the lists of fourscore/plugin.h (ABI 1.4, page keys 1.5)
 * that needs no loader state: the check of a list definition that
 * register_list (plugins.c) runs before keeping it, finding a list and a
 * column, and running a list's bind function. What a list answers is
 * core/engine/lists_page.c's. Declared in plugins.h. */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include "plugins.h"


int plugins_list_column(const fsp_list_def *def, const char *key, size_t keylen)
{
    for (int i = 0; def && key && i < def->ncolumns; i++)
        if (strlen(def->columns[i].key) == keylen && strncmp(def->columns[i].key, key, keylen) == 0) return i;
    return -1;
}

const char *plugins_list_keys_sql(const fsp_list_def *def)
{
    return def && def->struct_size >= sizeof(fsp_list_def) ? def->keys_sql : NULL;
}

int plugins_list_key(const fsp_list_def *def, const char *key)
{
    for (int i = 0; key && plugins_list_keys_sql(def) && i < def->nkeys; i++)
        if (def->keys[i] && strcmp(def->keys[i], key) == 0) return i;
    return -1;
}

#define LIST_MAX_COLUMNS 64

/* Why the columns of def are not acceptable, into why ("" when they are). */
static void check_list_columns(const fsp_list_def *def, char *why, size_t len)
{
    bool personal = false;
    for (int i = 0; i < def->ncolumns; i++) {
        const fsp_list_column *c = &def->columns[i];
        if (c->struct_size != sizeof(fsp_list_column)) {
            snprintf(why, len, "list %s: column %d struct_size is %u, this server expects %zu", def->id, i,
                     (unsigned)c->struct_size, sizeof(fsp_list_column));
            return;
        }
        if (!plugin_name_valid(c->key, 64, false)) {
            snprintf(why, len, "list %s: column %d key '%.64s' is not [a-z0-9_]{1,64}", def->id, i,
                     c->key ? c->key : "(null)");
            return;
        }
        if (plugins_list_column(def, c->key, strlen(c->key)) != i) {
            snprintf(why, len, "list %s: column key %s is given twice", def->id, c->key);
            return;
        }
        if (!c->name_zh || !*c->name_zh || !c->name_en || !*c->name_en) {
            snprintf(why, len, "list %s: column %s: name_zh and name_en are required", def->id, c->key);
            return;
        }
        if (c->type < FSP_COL_TEXT || c->type > FSP_COL_BOOL) {
            snprintf(why, len, "list %s: column %s: type %d is unknown", def->id, c->key, c->type);
            return;
        }
        if (c->flags & ~(FSP_COL_MONEY | FSP_COL_PHONE | FSP_COL_PERSONAL)) {
            snprintf(why, len, "list %s: column %s: flags has unknown bits 0x%x", def->id, c->key, c->flags);
            return;
        }
        if ((c->flags & FSP_COL_MONEY) && c->type != FSP_COL_INT && c->type != FSP_COL_NUMBER) {
            snprintf(why, len, "list %s: column %s: a money column must be of type INT or NUMBER", def->id, c->key);
            return;
        }
        if ((c->flags & FSP_COL_PHONE) && c->type != FSP_COL_TEXT) {
            snprintf(why, len, "list %s: column %s: a phone column must be of type TEXT", def->id, c->key);
            return;
        }
        if (c->flags & (FSP_COL_PHONE | FSP_COL_PERSONAL)) personal = true;
    }
    if (strcmp(def->columns[0].key, "store") != 0 || def->columns[0].type != FSP_COL_TEXT)
        snprintf(why, len, "list %s: the first column must be the text column \"store\"", def->id);
    else if (personal && (def->ncolumns < 2 || strcmp(def->columns[1].key, "customer_store") != 0 ||
                          def->columns[1].type != FSP_COL_TEXT))
        snprintf(why, len, "list %s: a list with customer columns has the text column \"customer_store\" second",
                 def->id);
}

/* Why the page keys of def (ABI 1.5) are not acceptable, into why ("" when they are). */
static void check_list_keys(const fsp_list_def *def, char *why, size_t len)
{
    if (!*def->keys_sql || !def->keys || def->nkeys < 2 || def->nkeys > def->ncolumns) {
        snprintf(why, len, "list %s: keys_sql needs from 2 to %d keys", def->id, def->ncolumns);
        return;
    }
    for (int i = 0; i < def->nkeys; i++) {
        const char *k = def->keys[i];
        if (!k || plugins_list_column(def, k, strlen(k)) < 0) {
            snprintf(why, len, "list %s: key '%.64s' is not one of its columns", def->id, k ? k : "(null)");
            return;
        }
    }
    if (strcmp(def->keys[0], "store") != 0) {
        snprintf(why, len, "list %s: the first key must be \"store\"", def->id);
        return;
    }
    for (int i = 0; i < def->ndefault_sort; i++) {
        const char *k = def->default_sort[i];
        if (*k == '-') k++;
        if (plugins_list_key(def, k) < 0) {
            snprintf(why, len, "list %s: default_sort key %s is not among its keys", def->id, k);
            return;
        }
    }
    for (int i = 0; i < def->ncolumns; i++)
        if ((def->columns[i].flags & FSP_COL_MONEY) && plugins_list_key(def, def->columns[i].key) < 0) {
            snprintf(why, len, "list %s: money column %s is not among its keys", def->id, def->columns[i].key);
            return;
        }
}

/* Why the definition def is not acceptable, into why ("" when it is). */
void plugins_list_check(const plugin_registry *reg, const fsp_list_def *def, char *why, size_t len)
{
    why[0] = '\0';
    if (!def) { snprintf(why, len, "register_list was given no definition"); return; }
    if (def->struct_size != sizeof(fsp_list_def) && def->struct_size != FSP_LIST_DEF_SIZE_1_4) {
        snprintf(why, len, "list definition struct_size is %u, this server expects %zu (or %zu of ABI 1.4)",
                 (unsigned)def->struct_size, sizeof(fsp_list_def), (size_t)FSP_LIST_DEF_SIZE_1_4);
        return;
    }
    if (!plugin_name_valid(def->id, 64, true)) {
        snprintf(why, len, "list id '%.64s' is not of the form domain.name ([a-z0-9_])", def->id ? def->id : "(null)");
        return;
    }
    if (!def->name_zh || !*def->name_zh || !def->name_en || !*def->name_en) {
        snprintf(why, len, "list %s: name_zh and name_en are required", def->id);
        return;
    }
    if (def->as_of != 0 && def->as_of != 1) { snprintf(why, len, "list %s: as_of must be 0 or 1", def->id); return; }
    if (!def->sql || !*def->sql) { snprintf(why, len, "list %s: sql is required", def->id); return; }
    if (!def->columns || def->ncolumns < 1 || def->ncolumns > LIST_MAX_COLUMNS) {
        snprintf(why, len, "list %s: from 1 to %d columns are required", def->id, LIST_MAX_COLUMNS);
        return;
    }
    check_list_columns(def, why, len);
    if (why[0]) return;
    if (!def->default_sort || def->ndefault_sort < 1 || def->ndefault_sort > def->ncolumns) {
        snprintf(why, len, "list %s: default_sort needs from 1 to %d column keys", def->id, def->ncolumns);
        return;
    }
    for (int i = 0; i < def->ndefault_sort; i++) {
        const char *k = def->default_sort[i];
        if (k && *k == '-') k++;
        if (!k || plugins_list_column(def, k, strlen(k)) < 0) {
            snprintf(why, len, "list %s: default_sort key '%.64s' is not one of its columns", def->id,
                     def->default_sort[i] ? def->default_sort[i] : "(null)");
            return;
        }
    }
    int ex = def->explains_as;
    if (ex < FSP_EXPLAINS_NONE || ex > FSP_EXPLAINS_SHARE) {
        snprintf(why, len, "list %s: explains_as %d is unknown", def->id, ex);
        return;
    }
    if (ex != FSP_EXPLAINS_NONE && !plugin_name_valid(def->explains_kpi, 64, true)) {
        snprintf(why, len, "list %s: explains_kpi '%.64s' is not a KPI id", def->id,
                 def->explains_kpi ? def->explains_kpi : "(null)");
        return;
    }
    if (ex == FSP_EXPLAINS_SUM || ex == FSP_EXPLAINS_SHARE) {
        const char *col = def->explains_column;
        int c = col ? plugins_list_column(def, col, strlen(col)) : -1;
        if (c < 0 || !(def->columns[c].flags & FSP_COL_MONEY)) {
            snprintf(why, len, "list %s: explains_column '%.64s' is not one of its money columns", def->id,
                     col ? col : "(null)");
            return;
        }
    }
    if (ex == FSP_EXPLAINS_SHARE && !plugin_name_valid(def->explains_of, 64, true)) {
        snprintf(why, len, "list %s: explains_of '%.64s' is not a KPI id", def->id,
                 def->explains_of ? def->explains_of : "(null)");
        return;
    }
    if (plugins_list_keys_sql(def)) {
        check_list_keys(def, why, len);
        if (why[0]) return;
    }
    const plugin_list *dup = plugins_find_list(reg, def->id);
    if (dup) snprintf(why, len, "list id %s is already registered by plugin %s", def->id, reg->plugins[dup->plugin].name);
}

const plugin_list *plugins_find_list(const plugin_registry *reg, const char *id)
{
    if (!reg || !id) return NULL;
    for (int i = 0; i < reg->nlists; i++)
        if (strcmp(reg->lists[i].def->id, id) == 0) return &reg->lists[i];
    return NULL;
}

int plugin_list_bind(const fsp_list_def *def, fsp_call *call, const fsp_list_args *args, fsp_param *params, int max)
{
    call->failed = false;
    call->error[0] = '\0';
    call->kpi_id = def->id;
    if (!def->bind) return 0;
    int n = def->bind(call, args, params, max);
    if (n < 0 || n > max || call->failed) {
        if (!call->failed) snprintf(call->error, sizeof call->error, "%s: bind returned %d", def->id, n);
        return -1;
    }
    return n;
}

