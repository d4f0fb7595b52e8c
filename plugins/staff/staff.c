/* staff: the staff (人员) KPIs of docs/kpis.md "staff": the staff in post at
 * the period end (在岗人数) and staff turnover (员工流失率), per store. A
 * member of staff is in post on a day d when hired_on is empty or on or
 * before d, and left_on is empty or after d.
 *
 * The staff table is small (a few dozen rows a store) and has no date to
 * range over both ends of, so each KPI is one grouped pass over it. */
#include <fourscore/plugin.h>
#include "../kpi_common.h"

/* --- queries --- */

/* 1 when the row is in post on the day bound to the placeholder, else 0. */
#define IN_POST_ON \
    "IF((hired_on IS NULL OR hired_on <= CAST(? AS DATE)) AND (left_on IS NULL OR left_on > CAST(? AS DATE)), 1, 0)"

/* In post on `to` (as of the period end; by month, each month's end).
 * Placeholders: to, to. */
static const char SQL_HEADCOUNT[] =
    "SELECT store_code, NULL, SUM(" IN_POST_ON "), 1, 1 FROM staff GROUP BY store_code";

/* Leavers (left_on in [from, to]) over the mean of the staff in post on
 * `from` and on `to`; the engine sums both over stores, so a region's
 * turnover is its leavers over the mean of its headcounts. Placeholders:
 * from, to, from, from, to, to. */
static const char SQL_TURNOVER[] =
    "SELECT store_code, NULL, SUM(IF(left_on BETWEEN CAST(? AS DATE) AND CAST(? AS DATE), 1, 0)),"
    " (SUM(" IN_POST_ON ") + SUM(" IN_POST_ON ")) / 2, 1"
    " FROM staff GROUP BY store_code";

static int compute_headcount(fsp_call *call, const fsp_kpi_args *args)
{
    fsp_param params[] = { FSP_P_TEXT(args->to), FSP_P_TEXT(args->to) };
    return kc_query_emit(call, args, SQL_HEADCOUNT, params, KC_COUNT(params));
}

static int compute_turnover(fsp_call *call, const fsp_kpi_args *args)
{
    fsp_param params[] = { FSP_P_TEXT(args->from), FSP_P_TEXT(args->to), FSP_P_TEXT(args->from),
                           FSP_P_TEXT(args->from), FSP_P_TEXT(args->to), FSP_P_TEXT(args->to) };
    return kc_query_emit(call, args, SQL_TURNOVER, params, KC_COUNT(params));
}

/* --- the catalogue --- */

static const fsp_kpi_def staff_kpis[] = {
    FSP_KPI(.id = "staff.headcount", .name_zh = "在岗人数", .name_en = "Staff in post", .unit = "count",
            .direction = FSP_DIR_NONE, .fold = FSP_FOLD_SUM,
            .formula = "Staff in post on the period end (hired_on empty or on or before it, left_on empty or "
                       "after it).",
            .compute = compute_headcount),
    FSP_KPI(.id = "staff.turnover", .name_zh = "员工流失率", .name_en = "Staff turnover", .unit = "ratio",
            .direction = FSP_DIR_LOWER, .fold = FSP_FOLD_RATIO,
            .formula = "Staff whose left_on is in the period / the mean of the staff in post on the period's first "
                       "and last days.",
            .compute = compute_turnover),
};

/* --- the plugin --- */

static int staff_init(fsp_host *host, const fsp_host_api *api)
{
    return kc_register_all(host, api, staff_kpis, KC_COUNT(staff_kpis), NULL, 0, NULL);
}

FSP_PLUGIN(.name = "staff", .version = "1.0.0", .init = staff_init,
           .description = "Staff: headcount in post and turnover");
