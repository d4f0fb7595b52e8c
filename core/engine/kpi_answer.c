/* kpi_answer: the rows of a KPI answer (kpi.h's kpi_answer): made, freed,
 * and written as the JSON of docs/api.md, straight as the text the server
 * sends and caches (the command line lays the same text out): the text
 * cJSON would print (its number and string forms) without a tree of
 * thousands of nodes in between. The engine (kpi.c) fills them. */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

/* --- the text --- */

typedef struct jbuf { char *p; size_t len, cap; bool oom; } jbuf;

static void jput(jbuf *b, const char *s, size_t n)
{
    if (b->oom) return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (b->len + n + 1 > cap) cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p) { b->oom = true; return; }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}
#define JLIT(b, lit) jput((b), (lit), sizeof(lit) - 1)

/* A string as cJSON prints it: quotes, backslash and the C0 controls escaped. */
static void jstr(jbuf *b, const char *s)
{
    JLIT(b, "\"");
    const char *run = s;
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c >= 0x20 && c != '"' && c != '\\') continue;
        jput(b, run, (size_t)(s - run));
        char esc[8];
        switch (c) {
        case '"': JLIT(b, "\\\""); break;
        case '\\': JLIT(b, "\\\\"); break;
        case '\b': JLIT(b, "\\b"); break;
        case '\f': JLIT(b, "\\f"); break;
        case '\n': JLIT(b, "\\n"); break;
        case '\r': JLIT(b, "\\r"); break;
        case '\t': JLIT(b, "\\t"); break;
        default: snprintf(esc, sizeof esc, "\\u%04x", c); jput(b, esc, 6); break;
        }
        run = s + 1;
    }
    jput(b, run, (size_t)(s - run));
    JLIT(b, "\"");
}

/* A number as cJSON prints it: 15 significant digits ("%1.15g") when they
 * read back as the same double, else 17. A whole number under 10^15 prints
 * its digits under %1.15g, so it is written straight. */
static void jnum(jbuf *b, double d)
{
    char buf[32];
    int n;
    if (d == floor(d) && fabs(d) < 1e15 && !(d == 0 && signbit(d))) {
        n = snprintf(buf, sizeof buf, "%lld", (long long)d);
    } else {
        n = snprintf(buf, sizeof buf, "%1.15g", d);
        double back = strtod(buf, NULL);
        double big = fabs(back) > fabs(d) ? fabs(back) : fabs(d);
        if (!(fabs(back - d) <= big * DBL_EPSILON)) n = snprintf(buf, sizeof buf, "%1.17g", d);
    }
    jput(b, buf, (size_t)n);
}

/* {"id":number|null,...} of one row's values or budgets. */
static void jvalues(jbuf *b, const kpi_request *req, int nids, const double *v, const bool *is_null)
{
    JLIT(b, "{");
    for (int k = 0; k < nids; k++) {
        if (k) JLIT(b, ",");
        jstr(b, req->ids[k]);
        JLIT(b, ":");
        if (is_null[k] || !isfinite(v[k])) JLIT(b, "null");
        else jnum(b, v[k]);
    }
    JLIT(b, "}");
}

char *kpi_answer_text(const kpi_request *req, const kpi_answer *ans, size_t *len)
{
    jbuf b = { 0 };
    int nids = ans->nids < req->nids ? ans->nids : req->nids;
    JLIT(&b, "{\"from\":");
    jstr(&b, req->from);
    JLIT(&b, ",\"to\":");
    jstr(&b, req->to);
    JLIT(&b, ",\"by\":");
    jstr(&b, req->by && *req->by ? req->by : "group");
    JLIT(&b, ",\"rows\":[");
    for (int i = 0; i < ans->nrows; i++) {
        const kpi_row *r = &ans->rows[i];
        if (i) JLIT(&b, ",");
        JLIT(&b, "{\"key\":");
        jstr(&b, r->key);
        JLIT(&b, ",\"label\":");
        jstr(&b, r->label);
        JLIT(&b, ",\"values\":");
        jvalues(&b, req, nids, r->values, r->is_null);
        if (req->targets && r->targets) {
            JLIT(&b, ",\"targets\":");
            jvalues(&b, req, nids, r->targets, r->targets_null);
        }
        JLIT(&b, "}");
    }
    JLIT(&b, "]}");
    if (b.oom) {
        free(b.p);
        return NULL;
    }
    if (len) *len = b.len;
    return b.p;
}
