/* csi: customer satisfaction (客户满意度) KPIs of docs/kpis.md "csi": the
 * SERVQUAL-weighted score pooled over the surveys dated in the period, the
 * number of those surveys, and the mean of each of the five SERVQUAL
 * dimensions behind the score (可靠性, 响应性, 安全性, 移情性, 有形性), per
 * store (a mean pools all observations: the engine divides summed scores by
 * summed counts).
 *
 * The score and the count read the per store and day (or month) sums of
 * schemas/014_survey_policy_rollups.sql: the weights of the source documents
 * (reliability 0.32, responsiveness 0.22, assurance 0.19, empathy 0.16,
 * tangibles 0.11, 0-10 scale) are applied there, by the data layer. That
 * rollup keeps no sum per dimension, so the dimensions read csi_surveys by
 * its surveyed_on index (k_csi_day, schemas/007_kpi_indexes.sql). */
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

/* Per store: the sum of one dimension over the surveys dated in the period,
 * and their number. Placeholders: from, to. */
#define DIMENSION_SQL(COLUMN) \
    "SELECT store_code, NULL, SUM(" COLUMN "), COUNT(*), 1 FROM csi_surveys" \
    " WHERE surveyed_on BETWEEN CAST(? AS DATE) AND CAST(? AS DATE) GROUP BY store_code"
static const char SQL_RELIABILITY[] = DIMENSION_SQL("reliability");
static const char SQL_RESPONSIVENESS[] = DIMENSION_SQL("responsiveness");
static const char SQL_ASSURANCE[] = DIMENSION_SQL("assurance");
static const char SQL_EMPATHY[] = DIMENSION_SQL("empathy");
static const char SQL_TANGIBLES[] = DIMENSION_SQL("tangibles");

/* .user: the dimension's statement. */
static int compute_dimension(fsp_call *call, const fsp_kpi_args *args)
{
    fsp_param params[] = { KC_PERIOD_PARAMS(args) };
    return kc_query_emit(call, args, args->kpi->user, params, KC_COUNT(params));
}

/* --- the catalogue --- */

#define DIMENSION_KPI(ID, ZH, EN, NAME, SQL) \
    FSP_KPI(.id = ID, .name_zh = ZH, .name_en = EN, .unit = "score", .direction = FSP_DIR_HIGHER, \
            .fold = FSP_FOLD_RATIO, \
            .formula = "Mean of " NAME " (0-10) over the surveys dated in the period (a SERVQUAL dimension of " \
                       "csi.score).", \
            .compute = compute_dimension, .user = SQL)

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

FSP_PLUGIN(.name = "csi", .version = "1.1.0", .init = csi_init,
           .description = "Customer satisfaction: SERVQUAL-weighted score, responses and the five dimensions");
