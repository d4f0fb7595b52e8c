/* routes_lists: the routes of the lists (see routes_lists.h). Each parses
 * the query (id, from, to, stores, regions, sort, order, limit, offset,
 * and for an export format and lang), calls core/engine/lists_page.c and
 * answers: the catalogue and a page as JSON, an export as the file,
 * sent from the engine's temporary file. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cJSON.h>
#include "routes_lists.h"
#include "app.h"
#include "http.h"
#include "kpi.h"
#include "lists.h"
#include "route_util.h"
#include "routes_kpi.h"

static void reply_list_error(http_req *r, const list_error *e)
{
    if (e->status == 400 && e->param[0]) http_reply_bad_parameter(r, e->param, "%s", e->message);
    else http_reply_error(r, e->status ? e->status : 500, e->status ? e->code : API_INTERNAL, e->message, NULL);
}

/* A whole number >= 0 of the query, or dflt when absent; -1 after answering 400. */
static long long query_count(http_req *r, const char *name, long long dflt, long long max)
{
    const char *s = http_query(r, name);
    if (!s || !*s) return dflt;
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (*end || errno || v < 0 || s[0] == '-' || s[0] == '+' || s[0] == ' ') {
        http_reply_bad_parameter(r, name, "%s: '%.20s' is not a whole number >= 0", name, s);
        return -1;
    }
    if (max >= 0 && v > max) {
        http_reply_bad_parameter(r, name, "%s: %lld is more than %lld", name, v, max);
        return -1;
    }
    return v;
}

typedef struct parsed {
    char stbuf[8192], rgbuf[4096];
    const char *stores[KPI_MAX_STORES], *regions[KPI_MAX_REGIONS];
    list_request q;
} parsed;

/* The request of the query string into p; false after answering 400. */
static bool parse_request(http_req *r, parsed *p, bool paged)
{
    memset(&p->q, 0, sizeof p->q);
    int nstores = kpi_split_list(http_query(r, "stores"), p->stbuf, sizeof p->stbuf, p->stores, KPI_MAX_STORES);
    int nregions = kpi_split_list(http_query(r, "regions"), p->rgbuf, sizeof p->rgbuf, p->regions, KPI_MAX_REGIONS);
    if (nstores < 0 || nregions < 0) {
        const char *name = nstores < 0 ? "stores" : "regions";
        http_reply_bad_parameter(r, name, "%s: the list is too long (at most %d values)", name,
                                 nstores < 0 ? KPI_MAX_STORES : KPI_MAX_REGIONS);
        return false;
    }
    p->q = (list_request){ .id = http_query(r, "id"), .from = http_query(r, "from"), .to = http_query(r, "to"),
                           .sort = http_query(r, "sort"), .order = http_query(r, "order"), .stores = p->stores,
                           .nstores = nstores, .regions = p->regions, .nregions = nregions };
    if (!paged) return true;
    if ((p->q.limit = query_count(r, "limit", LIST_LIMIT_DEFAULT, LIST_LIMIT_MAX)) < 0) return false;
    if ((p->q.offset = query_count(r, "offset", 0, -1)) < 0) return false;
    return true;
}

void lists_route_catalogue(http_req *r)
{
    list_error e = { 0 };
    cJSON *o = lists_catalogue_json(r->app, &e);
    if (!o) reply_list_error(r, &e);
    else http_reply_json(r, 200, o);
}

void lists_route_page(http_req *r)
{
    parsed *p = malloc(sizeof *p);
    if (!p) {
        http_reply_error(r, 500, API_INTERNAL, "out of memory", NULL);
        return;
    }
    if (parse_request(r, p, true)) {
        list_error e = { 0 };
        cJSON *o = lists_page_json(r->app, r->who, &p->q, &e);
        if (!o) reply_list_error(r, &e);
        else http_reply_json(r, 200, o);
    }
    free(p);
}

void lists_route_export(http_req *r)
{
    const char *format = http_query(r, "format");
    if (!format || (strcmp(format, "csv") != 0 && strcmp(format, "xlsx") != 0)) {
        route_reply_bad_param(r, "format", "format: csv or xlsx is required");
        return;
    }
    parsed *p = malloc(sizeof *p);
    if (!p) {
        http_reply_error(r, 500, API_INTERNAL, "out of memory", NULL);
        return;
    }
    if (parse_request(r, p, false)) {
        list_error e = { 0 };
        list_file f;
        if (lists_export(r->app, r->who, &p->q, strcmp(format, "xlsx") == 0 ? LIST_XLSX : LIST_CSV,
                         http_query(r, "lang"), &f, &e) != 0) {
            reply_list_error(r, &e);
        } else {
            char disposition[160];
            snprintf(disposition, sizeof disposition, "attachment; filename=\"%s\"", f.filename);
            http_reply_fd(r, 200, f.content_type, f.fd, f.size);
            http_add_header(r, "Content-Disposition", disposition);
        }
    }
    free(p);
}
