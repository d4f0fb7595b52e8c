/* fuzz_csv: libFuzzer target for the streaming CSV reader (core/base/csv.c).
 * The first byte picks a chunk size and a field limit; the rest is the
 * input, fed in chunks. Checks the invariants every caller relies on:
 * fields are NUL-terminated with their stated length, lines only grow,
 * errors carry a position, and parsing whole or chunked agrees. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
/* The reader is compiled into this target (not taken from the core library)
 * so that libFuzzer's coverage instrumentation reaches it. */
#include "csv.c"

/* --- invariants checked per record --- */

typedef struct fuzz_state {
    long last_line;
    unsigned long long digest;   /* order-sensitive hash of every record */
    int records;
} fuzz_state;

static int on_record(void *ud, const csv_record *rec)
{
    fuzz_state *st = ud;
    if (rec->line < 1 || rec->line < st->last_line) abort();
    if (rec->nfields < 1 || rec->nfields > CSV_MAX_FIELDS) abort();
    st->last_line = rec->line;
    unsigned long long h = st->digest * 1099511628211ULL + (unsigned long long)rec->line;
    for (int i = 0; i < rec->nfields; i++) {
        if (strlen(rec->fields[i]) != rec->lens[i]) abort();
        for (size_t k = 0; k < rec->lens[i]; k++) h = (h ^ (unsigned char)rec->fields[i][k]) * 1099511628211ULL;
        h = (h ^ 0x1F) * 1099511628211ULL;
    }
    st->digest = h;
    st->records++;
    return 0;
}

/* Parses data in chunks; returns the final rc and fills st. */
static int run(const uint8_t *data, size_t size, size_t chunk, size_t max_field, fuzz_state *st, csv_error *err)
{
    memset(st, 0, sizeof *st);
    csv_reader *r = csv_new(max_field, 4096, on_record, st);
    if (!r) abort();
    int rc = 0;
    for (size_t off = 0; off < size && rc == 0; off += chunk)
        rc = csv_feed(r, (const char *)data + off, size - off < chunk ? size - off : chunk);
    if (rc == 0) rc = csv_finish(r);
    *err = *csv_last_error(r);
    if (rc < 0 && (err->line < 1 || err->column < 1 || err->message[0] == '\0')) abort();
    csv_free(r);
    return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    size_t chunk = (size_t)(data[0] & 0x0F) + 1;
    size_t max_field = (data[0] & 0x10) ? 16 : 0;
    data++, size--;
    fuzz_state whole, chunked;
    csv_error e1, e2;
    int rc1 = run(data, size, size ? size : 1, max_field, &whole, &e1);
    int rc2 = run(data, size, chunk, max_field, &chunked, &e2);
    if (rc1 != rc2 || whole.digest != chunked.digest || whole.records != chunked.records) abort();
    if (rc1 < 0 && (e1.line != e2.line || e1.column != e2.column || strcmp(e1.message, e2.message) != 0)) abort();
    return 0;
}
