/* csi: customer satisfaction (客户满意度) KPIs of docs/kpis.md "csi": the
 * SERVQUAL-weighted score pooled over the surveys dated in the period, and
 * the number of those surveys, per store (a mean pools all observations: the
 * engine divides summed scores by summed counts). They read the per store
 * and day (or month) sums of schemas/014_survey_policy_rollups.sql: the
 * weights of the source documents (reliability 0.32, responsiveness 0.22,
 * assurance 0.19, empathy 0.16, tangibles 0.11, 0-10 scale) are applied
 * there, in core/rollup.c. */
#include <fourscore/plugin.h>
#include "../kpi_common.h"

/* --- queries --- */

#define SCORE(FROM) "SELECT store_code, NULL, SUM(score_sum), SUM(responses), 1" FROM " GROUP BY store_code"
#define RESPONSES(FROM) "SELECT store_code, NULL, SUM(responses), 1, 1" FROM " GROUP BY store_code"
static const kc_days_sql SQL_SCORE = KC_DAYS_SQL(SCORE, "rollup_csi_day", "rollup_csi_month");
static const kc_days_sql SQL_RESPONSES = KC_DAYS_SQL(RESPONSES, "rollup_csi_day", "rollup_csi_month");

static int compute_period_query(fsp_call *call, const fsp_kpi_args *args)
{
    return kc_query_days_emit(call, args, args->kpi->user);
}

/* --- the catalogue --- */

static const fsp_kpi_def csi_kpis[] = {
    FSP_KPI(.id = "csi.score", .name_zh = "满意度", .name_en = "Customer satisfaction", .unit = "score",
            .direction = FSP_DIR_HIGHER, .fold = FSP_FOLD_RATIO,
            .formula = "Mean over the surveys dated in the period of 0.32 reliability + 0.22 responsiveness "
                       "+ 0.19 assurance + 0.16 empathy + 0.11 tangibles (0-10).",
            .compute = compute_period_query, .user = &SQL_SCORE),
    FSP_KPI(.id = "csi.responses", .name_zh = "样本量", .name_en = "Survey responses", .unit = "count",
            .direction = FSP_DIR_NONE, .fold = FSP_FOLD_SUM,
            .formula = "Number of surveys dated in the period.",
            .compute = compute_period_query, .user = &SQL_RESPONSES),
};

/* --- the plugin --- */

static int csi_init(fsp_host *host, const fsp_host_api *api)
{
    return kc_register_all(host, api, csi_kpis, KC_COUNT(csi_kpis), NULL, 0, NULL);
}

FSP_PLUGIN(.name = "csi", .version = "1.0.0", .init = csi_init,
           .description = "Customer satisfaction: SERVQUAL-weighted score and responses");
