/* csv: a streaming RFC 4180 reader. Push bytes in chunks of any size with
 * csv_feed(); every complete record is handed to a callback with the
 * physical line where it starts and its fields (NUL-terminated copies).
 * Quoted fields, "" inside quotes, embedded newlines, CRLF / LF / lone CR
 * line ends and a leading UTF-8 BOM are understood; invalid UTF-8, a NUL
 * byte, a quote inside an unquoted field, text after a closing quote and an
 * unterminated quote are errors with a line and column. Memory is bounded:
 * a field or record over its limit is an error, never growth. */
#ifndef FS_CSV_H
#define FS_CSV_H
#include <stddef.h>

#define CSV_MAX_FIELD   (64 * 1024)   /* default bytes in one field */
#define CSV_MAX_RECORD  (256 * 1024)  /* default bytes in one record */
#define CSV_MAX_FIELDS  1024          /* fields in one record */

/* One record. fields[i] is NUL-terminated (the data holds no NUL byte);
 * field i is CSV column i + 1. */
typedef struct csv_record {
    long line;                 /* physical line where the record starts (1-based) */
    int nfields;
    const char *const *fields;
    const size_t *lens;
} csv_record;

/* Where and why the input is malformed. column is the 1-based field number,
 * char_col the 1-based character position in the physical line. */
typedef struct csv_error {
    long line;
    int column;
    long char_col;
    char message[200];
} csv_error;

/* Return 0 to go on, non-zero to stop reading (csv_feed then returns 1). */
typedef int (*csv_record_fn)(void *ud, const csv_record *rec);

typedef struct csv_reader csv_reader;

/* max_field / max_record 0 = the defaults above. NULL when out of memory. */
csv_reader *csv_new(size_t max_field, size_t max_record, csv_record_fn fn, void *ud);
void csv_free(csv_reader *r);
/* Feed the next chunk. Returns 0, -1 on malformed input (see csv_last_error;
 * the reader then refuses further input), 1 when the callback asked to stop. */
int csv_feed(csv_reader *r, const char *data, size_t len);
/* End of input: emits the last record if it has no line end; -1 for an
 * unterminated quote or a truncated UTF-8 sequence. */
int csv_finish(csv_reader *r);
const csv_error *csv_last_error(const csv_reader *r);
/* Bytes consumed so far (BOM included). */
unsigned long long csv_bytes(const csv_reader *r);
#endif
