/* csi: customer satisfaction (客户满意度) KPIs of docs/kpis.md "csi": the
 * SERVQUAL-weighted score pooled over the surveys dated in the period, the
 * number of those surveys, and the mean of each of the five SERVQUAL
 * dimensions behind the score (可靠性, 响应性, 安全性, 移情性, 有形性), per
 * store (a mean pools all observations: the engine divides summed scores by
 * summed counts).
 *
 * Every KPI reads the per store and day (or month) sums of
 * schemas/014_survey_policy_rollups.sql and 029_csi_dimensions.sql: the
 * weights of the source documents (reliability 0.32, responsiveness 0.22,
 * assurance 0.19, empathy 0.16, tangibles 0.11, 0-10 scale) are applied
 * there, by the data layer, and each dimension is summed beside the score,
 * over the surveys counted in `responses`. */
#include <fourscore/plugin.h>
#include "../kpi_common.h"

/* --- queries --- */

/* Per store SUM(NUM) over DEN from the survey sums. */
#define CSI_SUMS(NUM, DEN) KC_SUMS_SQL(NUM ", responses", NUM, DEN, "rollup_csi_day", "rollup_csi_month")
static const kc_days_sql SQL_SCORE = CSI_SUMS("score_sum", "SUM(responses)");
static const kc_days_sql SQL_RESPONSES = KC_SUMS_SQL("responses", "responses", "1", "rollup_csi_day", "rollup_csi_month");
/* A dimension: its sum over the surveys dated in the period, and their number. */
static const kc_days_sql SQL_RELIABILITY = CSI_SUMS("reliability_sum", "SUM(responses)");
static const kc_days_sql SQL_RESPONSIVENESS = CSI_SUMS("responsiveness_sum", "SUM(responses)");
static const kc_days_sql SQL_ASSURANCE = CSI_SUMS("assurance_sum", "SUM(responses)");
static const kc_days_sql SQL_EMPATHY = CSI_SUMS("empathy_sum", "SUM(responses)");
static const kc_days_sql SQL_TANGIBLES = CSI_SUMS("tangibles_sum", "SUM(responses)");

static int compute_period_query(fsp_call *call, const fsp_kpi_args *args)
{
    return kc_query_days_emit(call, args, args->kpi->user);
}

/* --- the catalogue --- */

#define DIMENSION_KPI(ID, ZH, EN, NAME, SQL) \
    FSP_KPI(.id = ID, .name_zh = ZH, .name_en = EN, .unit = "score", .direction = FSP_DIR_HIGHER, \
            .fold = FSP_FOLD_RATIO, \
            .formula = "Mean of " NAME " (0-10) over the surveys dated in the period (a SERVQUAL dimension of " \
                       "csi.score).", \
            .compute = compute_period_query, .user = &SQL)

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
    DIMENSION_KPI("csi.reliability", "可靠性", "Reliability", "reliability", SQL_RELIABILITY),
    DIMENSION_KPI("csi.responsiveness", "响应性", "Responsiveness", "responsiveness", SQL_RESPONSIVENESS),
    DIMENSION_KPI("csi.assurance", "安全性", "Assurance", "assurance", SQL_ASSURANCE),
    DIMENSION_KPI("csi.empathy", "移情性", "Empathy", "empathy", SQL_EMPATHY),
    DIMENSION_KPI("csi.tangibles", "有形性", "Tangibles", "tangibles", SQL_TANGIBLES),
};

/* --- the plugin --- */

static int csi_init(fsp_host *host, const fsp_host_api *api)
{
    return kc_register_all(host, api, csi_kpis, KC_COUNT(csi_kpis), NULL, 0, NULL);
}

FSP_PLUGIN(.name = "csi", .version = "1.2.0", .init = csi_init,
           .description = "Customer satisfaction: SERVQUAL-weighted score, responses and the five dimensions");
