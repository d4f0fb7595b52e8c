/* import_retry: the spool of an upload and the retry policy of an import
 * (see import_retry.h). The first IMPORT_SPOOL_MEM bytes stay in memory; the
 * rest goes to a temporary file in $TMPDIR (else /tmp), unlinked at once so
 * that nothing is left behind whatever happens to the process. */
#include "import_retry.h"
#include "config.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "log.h"

#define SPOOL_READ_CHUNK (256u * 1024)

struct import_spool {
    char *mem;
    size_t mem_len, mem_cap;
    FILE *file;                    /* the bytes past IMPORT_SPOOL_MEM */
    unsigned long long size;
    bool failed;
};

import_spool *import_spool_new(void) { return calloc(1, sizeof(import_spool)); }

bool import_spool_ok(const import_spool *s) { return s && !s->failed; }

unsigned long long import_spool_size(const import_spool *s) { return s ? s->size : 0; }

static FILE *spool_file_open(void)
{
    const char *dir = config_tmp_dir();
    char path[4096];
    int n = snprintf(path, sizeof path, "%s/fourscore-import-XXXXXX", dir);
    if (n < 0 || (size_t)n >= sizeof path) return NULL;
    int fd = mkstemp(path);
    if (fd < 0) {
        log_warn("import", "cannot create a spool file in %s (%s): this upload cannot be retried", dir, strerror(errno));
        return NULL;
    }
    unlink(path);
    FILE *f = fdopen(fd, "w+b");
    if (!f) close(fd);
    return f;
}

int import_spool_add(import_spool *s, const char *data, size_t len)
{
    if (!s || s->failed) return -1;
    if (len == 0) return 0;
    size_t to_mem = 0;
    if (!s->file && s->mem_len < IMPORT_SPOOL_MEM) {
        to_mem = IMPORT_SPOOL_MEM - s->mem_len;
        if (to_mem > len) to_mem = len;
        if (s->mem_len + to_mem > s->mem_cap) {
            size_t cap = s->mem_cap ? s->mem_cap : 64 * 1024;
            while (cap < s->mem_len + to_mem) cap *= 2;
            if (cap > IMPORT_SPOOL_MEM) cap = IMPORT_SPOOL_MEM;
            char *p = realloc(s->mem, cap);
            if (!p) { s->failed = true; return -1; }
            s->mem = p;
            s->mem_cap = cap;
        }
        memcpy(s->mem + s->mem_len, data, to_mem);
        s->mem_len += to_mem;
    }
    if (to_mem < len) {
        if (!s->file && !(s->file = spool_file_open())) { s->failed = true; return -1; }
        if (fwrite(data + to_mem, 1, len - to_mem, s->file) != len - to_mem) {
            log_warn("import", "writing the spool file failed (%s): this upload cannot be retried", strerror(errno));
            s->failed = true;
            return -1;
        }
    }
    s->size += len;
    return 0;
}

int import_spool_replay(import_spool *s, import_spool_fn fn, void *ud)
{
    if (!s || s->failed) return -1;
    for (size_t at = 0; at < s->mem_len; at += SPOOL_READ_CHUNK) {
        size_t n = s->mem_len - at < SPOOL_READ_CHUNK ? s->mem_len - at : SPOOL_READ_CHUNK;
        if (fn(ud, s->mem + at, n) < 0) return 0;
    }
    if (!s->file) return 0;
    if (fflush(s->file) != 0 || fseek(s->file, 0, SEEK_SET) != 0) return -1;
    char *buf = malloc(SPOOL_READ_CHUNK);
    if (!buf) return -1;
    int rc = 0;
    size_t n;
    while ((n = fread(buf, 1, SPOOL_READ_CHUNK, s->file)) > 0)
        if (fn(ud, buf, n) < 0) break;
    if (ferror(s->file)) rc = -1;
    free(buf);
    /* later bytes are appended at the end again */
    if (fseek(s->file, 0, SEEK_END) != 0) rc = -1;
    return rc;
}

void import_spool_free(import_spool *s)
{
    if (!s) return;
    if (s->file) fclose(s->file);
    free(s->mem);
    free(s);
}

int import_retry_attempts(void)
{
    double n = IMPORT_ATTEMPTS_DEFAULT;
    char err[160];
    if (config_env_number("FOURSCORE_IMPORT_ATTEMPTS", 1, IMPORT_ATTEMPTS_MAX, &n, err, sizeof err) <= 0 || n != (int)n)
        return IMPORT_ATTEMPTS_DEFAULT;
    return (int)n;
}

int import_retry_delay_ms(int attempt, double r)
{
    if (attempt < 2) return 0;
    if (r < 0) r = 0;
    if (r >= 1) r = 0.999999;
    long full = IMPORT_RETRY_BASE_MS;
    for (int i = 2; i < attempt && full < IMPORT_RETRY_CAP_MS; i++) full *= 2;
    if (full > IMPORT_RETRY_CAP_MS) full = IMPORT_RETRY_CAP_MS;
    return (int)(full / 2 + (long)((double)(full - full / 2) * r));
}
