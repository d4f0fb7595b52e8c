/* export: a table the dashboards show as a file to download, CSV or Excel
 * (.xlsx). Plain C in and out; the route is core/http/routes_export.c. */
#ifndef FS_EXPORT_H
#define FS_EXPORT_H
#include <stdbool.h>
#include <stddef.h>
#include <cJSON.h>

typedef enum export_format { EXPORT_CSV, EXPORT_XLSX } export_format;

/* A built file. */
typedef struct export_file {
    char *data;                     /* malloc'd, len bytes: the caller frees it */
    size_t len;
    const char *content_type;       /* the file's media type */
    char filename[112];             /* the safe file name with its extension */
} export_file;

/* Build the file of table, a JSON object {"filename","title",
 * "columns":[{"title","type":"text|number|percent"}],"rows":[[cell,...]]}.
 * Returns 0 with *out filled; -1 when the table is malformed (err names
 * the field: a 400); -2 when the file could not be built (err says why,
 * for the log). */
int export_build(const cJSON *table, export_format format, export_file *out, char *err, size_t errlen);

/* Whether a spreadsheet could take a text starting with c for a formula
 * (= + - @, and TAB or CR, which Excel skips before one): such a CSV cell
 * gets a leading '. Every file Fourscore writes for a spreadsheet asks this. */
bool export_formula_lead(char c);
#endif
