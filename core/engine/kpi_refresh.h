/* kpi_refresh: serve's background refresh of the answers people have open
 * (kpi_refresh.c), so that after an import the dashboards it changed are
 * computed again before the next person opens them. Part of core/engine/. */
#ifndef FS_KPI_REFRESH_H
#define FS_KPI_REFRESH_H
#include <stddef.h>

struct app;

/* Start the refresh thread (a->refresher). 0, or -1 with err. */
int kpi_refresh_start(struct app *a, char *err, size_t errlen);
/* Stop it and wait for it (nothing when it was not started). */
void kpi_refresh_stop(struct app *a);
#endif
