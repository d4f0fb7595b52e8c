/* kpi_answer: the rows of a KPI answer (kpi.h's kpi_answer): made, freed,
 * and written as the JSON of docs/api.md. The engine (kpi.c) fills them. */
#include <math.h>
#include <stdlib.h>
#include "kpi.h"

void kpi_answer_free(kpi_answer *ans)
{
    if (!ans) return;
    for (int i = 0; i < ans->nrows; i++) {
        free(ans->rows[i].values);
        free(ans->rows[i].is_null);
        free(ans->rows[i].targets);
        free(ans->rows[i].targets_null);
    }
    free(ans->rows);
    free(ans);
}

kpi_answer *kpi_answer_new(int nrows, int nids, bool targets)
{
    kpi_answer *ans = calloc(1, sizeof *ans);
    if (!ans) return NULL;
    ans->nids = nids;
    ans->rows = nrows ? calloc((size_t)nrows, sizeof *ans->rows) : NULL;
    if (nrows && !ans->rows) {
        free(ans);
        return NULL;
    }
    for (int i = 0; i < nrows; i++) {
        ans->rows[i].values = calloc((size_t)(nids ? nids : 1), sizeof(double));
        ans->rows[i].is_null = calloc((size_t)(nids ? nids : 1), sizeof(bool));
        if (targets) {
            ans->rows[i].targets = calloc((size_t)(nids ? nids : 1), sizeof(double));
            ans->rows[i].targets_null = calloc((size_t)(nids ? nids : 1), sizeof(bool));
        }
        ans->nrows = i + 1;
        if (!ans->rows[i].values || !ans->rows[i].is_null ||
            (targets && (!ans->rows[i].targets || !ans->rows[i].targets_null))) {
            kpi_answer_free(ans);
            return NULL;
        }
    }
    return ans;
}

cJSON *kpi_answer_json(const kpi_request *req, const kpi_answer *ans)
{
    cJSON *o = cJSON_CreateObject();
    if (!o) return NULL;
    cJSON_AddStringToObject(o, "from", req->from);
    cJSON_AddStringToObject(o, "to", req->to);
    cJSON_AddStringToObject(o, "by", req->by && *req->by ? req->by : "group");
    cJSON *rows = cJSON_AddArrayToObject(o, "rows");
    for (int i = 0; rows && i < ans->nrows; i++) {
        const kpi_row *r = &ans->rows[i];
        cJSON *row = cJSON_CreateObject();
        if (!row) break;
        cJSON_AddItemToArray(rows, row);
        cJSON_AddStringToObject(row, "key", r->key);
        cJSON_AddStringToObject(row, "label", r->label);
        cJSON *vals = cJSON_AddObjectToObject(row, "values");
        for (int k = 0; vals && k < ans->nids && k < req->nids; k++) {
            if (r->is_null[k] || !isfinite(r->values[k])) cJSON_AddNullToObject(vals, req->ids[k]);
            else cJSON_AddNumberToObject(vals, req->ids[k], r->values[k]);
        }
        cJSON *tg = req->targets && r->targets ? cJSON_AddObjectToObject(row, "targets") : NULL;
        for (int k = 0; tg && k < ans->nids && k < req->nids; k++) {
            if (r->targets_null[k] || !isfinite(r->targets[k])) cJSON_AddNullToObject(tg, req->ids[k]);
            else cJSON_AddNumberToObject(tg, req->ids[k], r->targets[k]);
        }
    }
    return o;
}
