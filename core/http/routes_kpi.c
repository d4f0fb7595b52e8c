/* routes_kpi: the routes of the KPI engine (see routes_kpi.h). Each parses
 * the request (query parameters, the batch's JSON array, the settings'
 * object), calls core/engine/ (kpi.h, settings.h, plugins.h) and writes the
 * answer. A query's answer is the engine's JSON text as it is, gzip-
 * compressed when the engine kept a compressed copy and the client takes it;
 * a batch taken as gzip is one stream joined from its answers' compressed
 * pieces (gzip_join.h). */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cJSON.h>
#include "routes_kpi.h"
#include "app.h"
#include "http.h"
#include "kpi.h"
#include "plugins.h"
#include "route_util.h"
#include "settings.h"

#define KPI_MAX_BATCH 200           /* queries in one batch */

int kpi_split_list(const char *s, char *buf, size_t buflen, const char **out, int max)
{
    int n = 0;
    if (!s || !*s) return 0;
    if (strlen(s) >= buflen) return -1;
    snprintf(buf, buflen, "%s", s);
    for (char *p = buf; p && *p;) {
        char *comma = strchr(p, ',');
        if (comma) *comma = '\0';
        if (*p) {
            if (n >= max) return -1;
            out[n++] = p;
        }
        p = comma ? comma + 1 : NULL;
    }
    return n;
}

/* The answer of a failed query: err is the engine's, naming what is wrong. */
static void reply_kpi_error(http_req *r, int status, const char *err)
{
    if (status == 400) http_reply_error(r, 400, API_BAD_PARAMETER, err, NULL);
    else if (status == 403) http_reply_error(r, 403, API_FORBIDDEN, err, NULL);
    else if (status == 503) http_reply_error(r, 503, API_DB_UNAVAILABLE, err, NULL);
    else http_reply_error(r, 500, API_INTERNAL, err, NULL);
}

/* --- the catalogue, queries, batch --- */

void kpi_route_catalogue(http_req *r)
{
    char err[512];
    int status;
    cJSON *o = kpi_catalogue_json(r->app, &status, err, sizeof err);
    if (!o && status == 503) route_reply_db_unavailable(r, r->path, err);
    else if (!o) http_reply_error(r, 500, API_INTERNAL, err, NULL);
    else http_reply_json(r, 200, o);
}

void kpi_route_query(http_req *r)
{
    char idbuf[8192], stbuf[8192], rgbuf[4096], err[512];
    const char *ids[KPI_MAX_IDS], *stores[KPI_MAX_STORES], *regions[KPI_MAX_REGIONS];
    int nids = kpi_split_list(http_query(r, "ids"), idbuf, sizeof idbuf, ids, KPI_MAX_IDS);
    int nstores = kpi_split_list(http_query(r, "stores"), stbuf, sizeof stbuf, stores, KPI_MAX_STORES);
    int nregions = kpi_split_list(http_query(r, "regions"), rgbuf, sizeof rgbuf, regions, KPI_MAX_REGIONS);
    if (nids < 0 || nstores < 0 || nregions < 0) {
        const char *name = nids < 0 ? "ids" : nstores < 0 ? "stores" : "regions";
        int max = nids < 0 ? KPI_MAX_IDS : nstores < 0 ? KPI_MAX_STORES : KPI_MAX_REGIONS;
        http_reply_bad_parameter(r, name, "列表过长 (%s: the list is too long, at most %d values in one query)", name, max);
        return;
    }
    const char *targets = http_query(r, "targets");
    if (targets && strcmp(targets, "1") != 0 && strcmp(targets, "0") != 0) {
        http_reply_bad_parameter(r, "targets", "targets: '%.20s' is not 1 or 0 (1: add each row's budgets)", targets);
        return;
    }
    kpi_text_query q = { .ids = ids, .nids = nids, .from = http_query(r, "from"), .to = http_query(r, "to"),
                         .by = http_query(r, "by"), .stores = stores, .nstores = nstores, .regions = regions,
                         .nregions = nregions, .targets = targets && strcmp(targets, "1") == 0 };
    int status;
    size_t len = 0;
    int got;
    char *text = kpi_query_text(r->app, r->who, &q, http_accepts_gzip(r) ? KPI_FORM_GZIP : KPI_FORM_TEXT, &len, &got,
                                NULL, &status, err, sizeof err);
    if (!text) reply_kpi_error(r, status, err);
    else if (got == KPI_FORM_GZIP) http_reply_gzip(r, 200, "application/json; charset=utf-8", text, len);
    else http_reply_buffer(r, 200, "application/json; charset=utf-8", text, len);
}

/* Strings of a JSON array field into out (at most max); -1 when it is not
 * an array of strings, -2 when it has more than max. */
static int json_strings(const cJSON *o, const char *field, const char **out, int max)
{
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(o, field);
    if (!arr || cJSON_IsNull(arr)) return 0;
    if (!cJSON_IsArray(arr)) return -1;
    int n = 0;
    for (const cJSON *it = arr->child; it; it = it->next) {
        if (!cJSON_IsString(it)) return -1;
        if (n >= max) return -2;
        out[n++] = it->valuestring;
    }
    return n;
}

/* A string member, NULL when absent or of another type (then "missing"). */
static const char *json_string(const cJSON *o, const char *field)
{
    bool other = false;
    return json_member_string(o, field, &other);
}

/* One query of a batch: its answer (*len bytes) in the form want when it
 * has one (*got, *piece: see kpi_query_text), or NULL with status and err. */
static char *batch_query(http_req *r, const cJSON *q, int want, size_t *len, int *got, gzip_piece *piece,
                         unsigned long long *kept_at, int *status, char *err, size_t errlen)
{
    const char *ids[KPI_MAX_IDS], *stores[KPI_MAX_STORES], *regions[KPI_MAX_REGIONS];
    *status = 400;
    int nids = cJSON_IsObject(q) ? json_strings(q, "ids", ids, KPI_MAX_IDS) : -1;
    int nstores = cJSON_IsObject(q) ? json_strings(q, "stores", stores, KPI_MAX_STORES) : -1;
    int nregions = cJSON_IsObject(q) ? json_strings(q, "regions", regions, KPI_MAX_REGIONS) : -1;
    const cJSON *targets = cJSON_IsObject(q) ? cJSON_GetObjectItemCaseSensitive(q, "targets") : NULL;
    if (cJSON_IsNull(targets)) targets = NULL;
    if (!cJSON_IsObject(q)) snprintf(err, errlen, "must be an object");
    else if (nids == -2) snprintf(err, errlen, "ids: the list is too long (at most %d)", KPI_MAX_IDS);
    else if (nstores == -2) snprintf(err, errlen, "stores: the list is too long (at most %d)", KPI_MAX_STORES);
    else if (nregions == -2) snprintf(err, errlen, "regions: the list is too long (at most %d)", KPI_MAX_REGIONS);
    else if (nids < 0) snprintf(err, errlen, "ids: must be an array of KPI ids");
    else if (nstores < 0) snprintf(err, errlen, "stores: must be an array of store codes");
    else if (nregions < 0) snprintf(err, errlen, "regions: must be an array of region codes");
    else if (targets && !cJSON_IsBool(targets)) snprintf(err, errlen, "targets: must be true or false");
    else {
        kpi_text_query kq = { .ids = ids, .nids = nids, .from = json_string(q, "from"), .to = json_string(q, "to"),
                              .by = json_string(q, "by"), .stores = stores, .nstores = nstores,
                              .regions = regions, .nregions = nregions, .targets = cJSON_IsTrue(targets),
                              .kept_at = kept_at };
        return kpi_query_text(r->app, r->who, &kq, want, len, got, piece, status, err, errlen);
    }
    return NULL;
}

/* The batch's answers joined into one array "[a,b,...]": as plain text, or
 * as one gzip stream when the client takes gzip. */
typedef struct batch_out {
    bool gz;                     /* one gzip stream of the answers' kept compressed pieces */
    gzip_join join;
    char *text;                  /* else the plain text */
    size_t used, cap;
    bool oom;
} batch_out;

static void out_text(batch_out *o, const char *t, size_t n)
{
    if (o->gz) { gzip_join_text(&o->join, t, n); return; }
    if (o->oom) return;
    if (o->used + n > o->cap) {
        size_t cap = o->cap ? o->cap : 4096;
        while (o->used + n > cap) cap *= 2;
        char *g = realloc(o->text, cap);
        if (!g) { o->oom = true; return; }
        o->text = g;
        o->cap = cap;
    }
    memcpy(o->text + o->used, t, n);
    o->used += n;
}

/* Add one answer: a kept piece is copied as it is; a long text (a fresh
 * answer) is compressed here, a short one stored. */
static void out_answer(batch_out *o, const char *bytes, size_t len, int got, const gzip_piece *piece)
{
    if (got == KPI_FORM_PIECE) {
        gzip_join_piece(&o->join, piece);
    } else if (o->gz && len >= 1024) {
        gzip_piece p;
        if (gzip_piece_make(bytes, len, &p) == 0) {
            gzip_join_piece(&o->join, &p);
            gzip_piece_free(&p);
        } else {
            o->join.failed = 1;
        }
    } else {
        out_text(o, bytes, len);
    }
}

void kpi_route_batch(http_req *r)
{
    /* the same batch for the same scope, joined before at the current generation */
    size_t kept_len = 0;
    unsigned char *kept = kpi_batch_get(r->app, r->who, r->body, r->body_len, http_accepts_gzip(r), &kept_len);
    if (kept) {
        if (http_accepts_gzip(r)) http_reply_gzip(r, 200, "application/json; charset=utf-8", kept, kept_len);
        else http_reply_buffer(r, 200, "application/json; charset=utf-8", (char *)kept, kept_len);
        return;
    }
    cJSON *body = route_body_json(r, cJSON_Array, "the body must be a JSON array of queries "
                                  "[{\"ids\":[..],\"from\",\"to\",\"by\",\"stores\":[..],\"regions\":[..]}]");
    if (!body) return;
    int n = cJSON_GetArraySize(body);
    if (n > KPI_MAX_BATCH) {
        cJSON_Delete(body);
        http_reply_errorf(r, 400, API_BAD_PARAMETER, "a batch holds at most %d queries (got %d)", KPI_MAX_BATCH, n);
        return;
    }
    batch_out o = { .gz = http_accepts_gzip(r) };
    /* every answer holds for one generation: the joined batch is kept for it */
    unsigned long long gen = 0;
    bool same_gen = true;
    if (o.gz) gzip_join_begin(&o.join);
    out_text(&o, "[", 1);
    int i = 0;
    for (const cJSON *q = body->child; q; q = q->next, i++) {
        char err[512], msg[600];
        int status, got = KPI_FORM_TEXT;
        size_t len = 0;
        gzip_piece piece = { 0 };
        unsigned long long kept_at = 0;
        char *bytes = batch_query(r, q, o.gz ? KPI_FORM_PIECE : KPI_FORM_TEXT, &len, &got, &piece, &kept_at,
                                  &status, err, sizeof err);
        if (bytes && i == 0) gen = kept_at;
        else if (bytes && kept_at != gen) same_gen = false;
        if (!bytes) {
            snprintf(msg, sizeof msg, "query %d: %s", i, err);
            if (o.gz) gzip_join_abandon(&o.join);
            free(o.text);
            cJSON_Delete(body);
            reply_kpi_error(r, status, msg);
            return;
        }
        if (i) out_text(&o, ",", 1);
        out_answer(&o, bytes, len, got, &piece);
        free(bytes);
    }
    out_text(&o, "]", 1);
    cJSON_Delete(body);
    if (o.gz) {
        unsigned char *gz = NULL;
        size_t gz_len = 0;
        if (gzip_join_finish(&o.join, &gz, &gz_len) != 0) {
            http_reply_error(r, 500, API_INTERNAL, "out of memory", NULL);
            return;
        }
        if (same_gen) kpi_batch_put(r->app, r->who, r->body, r->body_len, true, gen, gz, gz_len);
        http_reply_gzip(r, 200, "application/json; charset=utf-8", gz, gz_len);
    } else if (o.oom) {
        free(o.text);
        http_reply_error(r, 500, API_INTERNAL, "out of memory", NULL);
    } else {
        if (same_gen) kpi_batch_put(r->app, r->who, r->body, r->body_len, false, gen, (unsigned char *)o.text, o.used);
        http_reply_buffer(r, 200, "application/json; charset=utf-8", o.text, o.used);
    }
}

/* --- settings and plugins --- */

/* The settings in force on c as the answer. */
static void reply_settings(http_req *r, db_conn *c)
{
    char err[512];
    kpi_settings *s = NULL;
    if (kpi_settings_load(c, r->app->plugins, &s, err, sizeof err) != 0) {
        route_reply_db_unavailable(r, r->path, err);
        return;
    }
    cJSON *o = kpi_settings_json(s);
    kpi_settings_free(s);
    if (!o) http_reply_error(r, 500, API_INTERNAL, "out of memory", NULL);
    else http_reply_json(r, 200, o);
}

void kpi_route_settings_get(http_req *r)
{
    char err[512];
    db_pool *from = NULL;
    db_conn *c = app_acquire_read(r->app, &from, err, sizeof err);
    if (!c) {
        route_reply_db_unavailable(r, r->path, err);
        return;
    }
    reply_settings(r, c);
    db_release(from, c);
}

void kpi_route_settings_put(http_req *r)
{
    char err[512] = "";
    cJSON *body = route_body_json(r, cJSON_Object, "the body must be a JSON object {\"setting name\": number}");
    if (!body) return;
    db_conn *c = route_db(r);
    if (!c) {
        cJSON_Delete(body);
        return;
    }
    int status = 0;
    if (kpi_settings_update(r->app, c, r->who, body, &status, err, sizeof err) != 0) {
        if (status == 400) route_reply_bad_param(r, kpi_settings_error_name(body, err), err);
        else route_reply_db_unavailable(r, r->path, err);
    } else {
        reply_settings(r, c);
    }
    route_release(r, c);
    cJSON_Delete(body);
}

void kpi_route_plugins(http_req *r)
{
    char err[512];
    if (kpi_open(r->app, err, sizeof err) != 0) {
        http_reply_error(r, 500, API_INTERNAL, err, NULL);
        return;
    }
    cJSON *arr = plugins_json(r->app->plugins);
    if (!arr) http_reply_error(r, 500, API_INTERNAL, "out of memory", NULL);
    else http_reply_json(r, 200, arr);
}
