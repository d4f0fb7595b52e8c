/* routes_export: the export route (see routes_export.h). Reads the format
 * and the JSON table, has core/engine/export.c build the file and answers
 * it as an attachment. */
#include <stdio.h>
#include <string.h>
#include <cJSON.h>
#include "routes_export.h"
#include "export.h"
#include "http.h"
#include "log.h"
#include "route_util.h"

void export_handle(http_req *r)
{
    const char *format = http_query(r, "format");
    if (!format || (strcmp(format, "csv") != 0 && strcmp(format, "xlsx") != 0)) {
        route_reply_bad_param(r, "format", "format: csv or xlsx is required");
        return;
    }
    cJSON *body = route_body_json(r, 0, "the body must be JSON: {\"columns\":[...],\"rows\":[...]}");
    if (!body) return;
    char err[256];
    export_file f;
    int rc = export_build(body, strcmp(format, "xlsx") == 0 ? EXPORT_XLSX : EXPORT_CSV, &f, err, sizeof err);
    cJSON_Delete(body);
    if (rc == -1) {
        http_reply_error(r, 400, API_BAD_PARAMETER, err, NULL);
        return;
    }
    if (rc != 0) {
        log_error("export", "%s", err);
        http_reply_error(r, 500, API_EXPORT_FAILED, "the file could not be built", NULL);
        return;
    }
    char disposition[160];
    snprintf(disposition, sizeof disposition, "attachment; filename=\"%s\"", f.filename);
    http_reply_buffer(r, 200, f.content_type, f.data, f.len);
    http_add_header(r, "Content-Disposition", disposition);
}
