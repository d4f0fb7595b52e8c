/* export: CSV and Excel (.xlsx) downloads of the dashboards' tables
 * (POST /api/v1/export?format=csv|xlsx). */
#ifndef FS_EXPORT_H
#define FS_EXPORT_H
#include "http.h"

void export_handle(http_req *r);
#endif
