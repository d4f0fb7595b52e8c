/* api_error: the error codes of the HTTP API, one table for the whole
 * program: every {"error":{"code":...}} the server answers is one of these
 * (http_reply_error takes the enum), and docs/api.md's table of error codes
 * lists exactly them (tests/unit/test_api_error.c checks both ways). The
 * domain layers name their failures with the same enum, so the HTTP layer
 * only passes them on. Each code has the status it is usually answered
 * with; a few are answered with another where the context says so (a
 * scorecard row outside the caller's scope is 422, an import's rows 403). */
#ifndef FS_API_ERROR_H
#define FS_API_ERROR_H

/*  name                        code                      status */
#define API_ERRORS(X) \
    X(API_BAD_PARAMETER,          "bad_parameter",          400) \
    X(API_BAD_PATH,               "bad_path",               400) \
    X(API_BAD_REQUEST,            "bad_request",            400) \
    X(API_NO_SESSION,             "no_session",             400) \
    X(API_UNREADABLE_FILE,        "unreadable_file",        400) \
    X(API_UNAUTHORIZED,           "unauthorized",           401) \
    X(API_INVALID_CREDENTIALS,    "invalid_credentials",    401) \
    X(API_FORBIDDEN,              "forbidden",              403) \
    X(API_CSRF,                   "csrf",                   403) \
    X(API_STORE_OUT_OF_SCOPE,     "store_out_of_scope",     403) \
    X(API_BENCHMARKS_OFF,         "benchmarks_off",         403) \
    X(API_NOT_FOUND,              "not_found",              404) \
    X(API_UNKNOWN_ENTITY,         "unknown_entity",         404) \
    X(API_METHOD_NOT_ALLOWED,     "method_not_allowed",     405) \
    X(API_REQUEST_TIMEOUT,        "request_timeout",        408) \
    X(API_CONFLICT,               "conflict",               409) \
    X(API_BODY_TOO_LARGE,         "body_too_large",         413) \
    X(API_URI_TOO_LONG,           "uri_too_long",           414) \
    X(API_UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type", 415) \
    X(API_INVALID_CSV,            "invalid_csv",            422) \
    X(API_INVALID_ROWS,           "invalid_rows",           422) \
    X(API_SYNTAX_ERROR,           "syntax_error",           422) \
    X(API_SCRIPT_ERROR,           "script_error",           422) \
    X(API_BAD_RESULT,             "bad_result",             422) \
    X(API_BAD_ROW,                "bad_row",                422) \
    X(API_BUDGET_EXCEEDED,        "budget_exceeded",        422) \
    X(API_RATE_LIMITED,           "rate_limited",           429) \
    X(API_HEADER_TOO_LARGE,       "header_too_large",       431) \
    X(API_INTERNAL,               "internal",               500) \
    X(API_EXPORT_FAILED,          "export_failed",          500) \
    X(API_NOT_IMPLEMENTED,        "not_implemented",        501) \
    X(API_DB_UNAVAILABLE,         "db_unavailable",         503) \
    X(API_BUSY,                   "busy",                   503) \
    X(API_MOVED,                  "moved",                  301)

#define API_ERROR_ENUM(name, code, status) name,
enum api_error { API_ERRORS(API_ERROR_ENUM) API_ERROR__COUNT };
#undef API_ERROR_ENUM

/* The code as the API writes it ("bad_parameter"). */
const char *api_error_code(enum api_error e);
/* The status it is usually answered with. */
int api_error_status(enum api_error e);
/* The enum of a code text; API_INTERNAL for a text that is not one. */
enum api_error api_error_find(const char *code);
#endif
