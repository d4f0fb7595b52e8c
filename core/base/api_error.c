/* api_error: the table of API error codes (see api_error.h). */
#include <string.h>
#include "api_error.h"

#define API_ERROR_ROW(name, code, status) { code, status },
static const struct { const char *code; int status; } api_errors[] = { API_ERRORS(API_ERROR_ROW) };
#undef API_ERROR_ROW

const char *api_error_code(enum api_error e)
{
    return (int)e >= 0 && e < API_ERROR__COUNT ? api_errors[e].code : "internal";
}

int api_error_status(enum api_error e)
{
    return (int)e >= 0 && e < API_ERROR__COUNT ? api_errors[e].status : 500;
}

enum api_error api_error_find(const char *code)
{
    for (int i = 0; code && i < API_ERROR__COUNT; i++)
        if (strcmp(api_errors[i].code, code) == 0) return (enum api_error)i;
    return API_INTERNAL;
}
