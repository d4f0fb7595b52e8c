/* log: JSON-lines logs on stdout (access and error alike), one object a line,
 * with the request id of the request being served carried into every line. */
#ifndef FS_LOG_H
#define FS_LOG_H
#include <stdarg.h>

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

void log_set_level(enum log_level min);
/* Where lines go: stdout (the default, for the server) or stderr (set by the
 * command-line tools, whose stdout is their answer). */
void log_set_fd(int fd);
/* The request id of the request this thread is serving ("" when none). */
void log_set_request_id(const char *id);
const char *log_request_id(void);
/* A line {"ts","level","sub","req","msg"}; sub names the subsystem. */
void log_msg(enum log_level lv, const char *sub, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void log_vmsg(enum log_level lv, const char *sub, const char *fmt, va_list ap);
/* The access line of one HTTP request. */
void log_access(const char *method, const char *path, int status, double ms, const char *principal);

#define log_info(sub, ...)  log_msg(LOG_INFO, sub, __VA_ARGS__)
#define log_warn(sub, ...)  log_msg(LOG_WARN, sub, __VA_ARGS__)
#define log_error(sub, ...) log_msg(LOG_ERROR, sub, __VA_ARGS__)
#define log_debug(sub, ...) log_msg(LOG_DEBUG, sub, __VA_ARGS__)
#endif
