/* err: the core's one way to say what went wrong. Functions that can fail
 * take (char *err, size_t errlen) and fill it with a sentence a person can
 * act on; set_err writes it, bounded, and does nothing when err is NULL. */
#ifndef FS_ERR_H
#define FS_ERR_H
#include <stddef.h>

void set_err(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
#endif
