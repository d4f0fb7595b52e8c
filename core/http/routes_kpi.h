/* routes_kpi: the HTTP side of the KPI engine (core/engine/): the
 * catalogue, KPI queries and batches, the KPI settings and the plugins list
 * (core/http/router.c lists them), and the comma lists of a query. */
#ifndef FS_ROUTES_KPI_H
#define FS_ROUTES_KPI_H
#include <stddef.h>
#include "http.h"

/* Split the comma list s into at most max pieces in buf (NUL-separated;
 * empty pieces skipped): the count, or -1 when it has more than max pieces
 * or does not fit buf (never a part of it). Also the lists of `fourscore kpi`. */
int kpi_split_list(const char *s, char *buf, size_t buflen, const char **out, int max);

void kpi_route_catalogue(http_req *r);      /* GET /api/v1/kpis           users */
void kpi_route_query(http_req *r);          /* GET /api/v1/kpi            users */
void kpi_route_batch(http_req *r);          /* POST /api/v1/kpi/batch     users */
void kpi_route_settings_get(http_req *r);   /* GET /api/v1/settings       users */
void kpi_route_settings_put(http_req *r);   /* PUT /api/v1/settings       admin */
void kpi_route_plugins(http_req *r);        /* GET /api/v1/plugins        admin */
#endif
