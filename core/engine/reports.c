/* reports: the scheduled reports (see reports.h). Part of core/engine/. */
#include "reports.h"

int reports_run_due(struct app *a, const char *now, const volatile bool *stop, char *err, size_t errlen)
{
    (void)a;
    (void)now;
    (void)stop;
    (void)err;
    (void)errlen;
    return 0;
}
