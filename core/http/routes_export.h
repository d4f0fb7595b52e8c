/* routes_export: POST /api/v1/export?format=csv|xlsx, a table the caller
 * was shown as a file to download (core/http/router.c lists it; the file is
 * built by core/engine/export.c). */
#ifndef FS_ROUTES_EXPORT_H
#define FS_ROUTES_EXPORT_H
#include "http.h"

void export_handle(http_req *r);    /* POST /api/v1/export   users */
#endif
