/* import_retry: what lets an import run its file again when its transaction
 * loses a lock conflict with another import (a deadlock, a lock wait
 * timeout): the spool keeps the bytes of an upload (in memory, then in an
 * unlinked temporary file) so that the file can be read again from its first
 * byte, and the policy says how many attempts a file gets and how long to
 * wait between them. Used by import_job.c; docs/import.md ("Imports at the
 * same time") describes the behaviour. */
#ifndef FS_IMPORT_RETRY_H
#define FS_IMPORT_RETRY_H
#include <stdbool.h>
#include <stddef.h>

#define IMPORT_ATTEMPTS_DEFAULT 5        /* tries of one file, the first included */
#define IMPORT_ATTEMPTS_MAX     20
#define IMPORT_RETRY_BASE_MS    50       /* the wait before the second attempt, doubled each time */
#define IMPORT_RETRY_CAP_MS     2000     /* and never longer than this */
#define IMPORT_RETRY_AFTER_S    5        /* Retry-After of a 503 once the attempts are spent */
#define IMPORT_SPOOL_MEM        (4u << 20) /* bytes of an upload kept in memory before a temporary file */

typedef struct import_spool import_spool;

/* An empty spool (NULL when out of memory). */
import_spool *import_spool_new(void);
/* Keep len more bytes. -1 once they could not be kept (memory, disk): the
 * spool is then unusable for good and import_spool_ok says so. */
int import_spool_add(import_spool *s, const char *data, size_t len);
bool import_spool_ok(const import_spool *s);
unsigned long long import_spool_size(const import_spool *s);
/* Hand every byte kept, in order, to fn in chunks; fn returning < 0 stops
 * the replay early (not an error). 0, or -1 when the bytes could not be read
 * back. The spool may be replayed again afterwards. */
typedef int (*import_spool_fn)(void *ud, const char *data, size_t len);
int import_spool_replay(import_spool *s, import_spool_fn fn, void *ud);
void import_spool_free(import_spool *s);

/* Attempts a file gets: FOURSCORE_IMPORT_ATTEMPTS (1 to IMPORT_ATTEMPTS_MAX)
 * if set to such a number, else IMPORT_ATTEMPTS_DEFAULT. */
int import_retry_attempts(void);
/* Milliseconds to wait before attempt `attempt` (2, 3, ...): the base doubled
 * per attempt, capped, of which a random part (r in [0, 1)) is taken between
 * half and the whole, so that two imports that collided do not collide again
 * in step. */
int import_retry_delay_ms(int attempt, double r);
#endif
