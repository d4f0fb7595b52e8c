/* lists: the engine of the lists plugins register (fourscore/plugin.h,
 * ABI 1.4): the rows behind a KPI, for the people who act on them. One
 * place does for every list what the contract asks (docs/api.md "Lists"):
 * the caller's scope, the period, sorting by a column and then by the
 * list's default order, paging, `total` and `sums` over every row, phone
 * masking, CSV and xlsx export streamed from an unbuffered result, and
 * the audit of every export. Plain C values in and out: the routes are
 * core/http/routes_lists.c, the scorecards' list() core/script/. */
#ifndef FS_LISTS_H
#define FS_LISTS_H
#include <stdbool.h>
#include <stddef.h>
#include <cJSON.h>
#include "api_error.h"
#include "auth.h"

struct app;

#define LIST_LIMIT_DEFAULT 100      /* rows of a page when limit is not given */
#define LIST_LIMIT_MAX     1000     /* the most a page of the API holds */

/* One request as the caller gave it (strings unchecked; lists_page.c checks). */
typedef struct list_request {
    const char *id, *from, *to;     /* from is ignored for an as-of list */
    const char *sort, *order;       /* NULL: the default order; order "asc" / "desc" */
    const char *const *stores;      /* asked for (none: the caller's whole scope) */
    int nstores;
    const char *const *regions;
    int nregions;
    long long limit, offset;        /* the caller checks their bounds; export ignores both */
} list_request;

/* Why a request failed: status 400 (param names the parameter), 403, 500, 503. */
typedef struct list_error {
    int status;
    enum api_error code;
    char param[24];                 /* "" when no parameter is at fault */
    char message[400];
} list_error;

/* The catalogue: [{"id","plugin","name":{"zh","en"},"as_of","default_sort",
 * "explains","columns":[{"key","name":{"zh","en"},"unit"}]}]. NULL with e. */
cJSON *lists_catalogue_json(struct app *a, list_error *e);

/* One page: {"id","from","to","total","sums":{column: number},"rows":[{key: value}]},
 * phones masked for who. NULL with e. */
cJSON *lists_page_json(struct app *a, const principal *who, const list_request *q, list_error *e);

typedef enum list_format { LIST_CSV, LIST_XLSX } list_format;

/* An exported list: an open file (unlinked: closing fd removes it). */
typedef struct list_file {
    int fd;                         /* -1 when none; the caller closes it */
    size_t size;
    const char *content_type;
    char filename[112];
    long long rows;
} list_file;

/* The whole list as a file (no limit), headers in lang ("zh" default, "en"),
 * phones masked for who, written to the audit log (user, list, filters, row
 * count) before it is handed out. Returns 0 with *out, or -1 with e. */
int lists_export(struct app *a, const principal *who, const list_request *q, list_format format,
                 const char *lang, list_file *out, list_error *e);

/* The masked form of a phone number (docs/api.md, GET /api/v1/list): of its digits (other
 * characters dropped), with 8 or more the first 3, "****" and the last 4;
 * with fewer one '*' per digit. Writes at most outlen - 1 bytes; returns out. */
char *list_mask_phone(const char *phone, char *out, size_t outlen);

/* Whether who sees a phone of a row whose customer record is at
 * customer_store whole: admins, and a store manager for their own store. */
bool list_phone_whole(const principal *who, const char *customer_store);
#endif
