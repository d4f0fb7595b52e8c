/* csv: the streaming RFC 4180 reader behind every import (see csv.h). A
 * byte-at-a-time state machine: the bytes of the record being read are
 * copied into one fixed buffer (fields separated by NULs), handed to the
 * callback when the record ends, then reused. UTF-8 is validated as the
 * bytes go by, so a chunk boundary may fall anywhere, even inside a
 * character or the BOM. */
#include "csv.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdbool.h>
#include <stdarg.h>

/* --- state --- */

enum csv_state {
    ST_FIELD_START,     /* at the start of a field (or of a record) */
    ST_UNQUOTED,        /* inside an unquoted field */
    ST_QUOTED,          /* inside a quoted field */
    ST_QUOTE_IN_QUOTED, /* a quote inside a quoted field: closing, or the first of "" */
    ST_AFTER_CR,        /* a record ended with CR: an LF may follow */
    ST_FAILED           /* malformed input seen: no more input accepted */
};

struct csv_reader {
    csv_record_fn on_record;
    void *ud;
    size_t max_field, max_record;
    enum csv_state state;
    int bom_matched;            /* bytes of the BOM seen so far; -1 once past it */
    /* position of the byte being read */
    long line;
    long char_col;
    unsigned long long bytes;
    /* UTF-8 validation: continuation bytes still expected, and the range of the next one */
    int utf8_need;
    unsigned char utf8_lo, utf8_hi;
    /* the record being read */
    bool record_started;
    long record_line;
    int nfields;
    size_t record_bytes;        /* data bytes of the record, NULs excluded */
    size_t field_bytes;         /* data bytes of the current field */
    long field_line, field_char_col;   /* where the current quoted field opened */
    char *buf;                  /* record bytes, fields NUL-separated */
    size_t buf_used, buf_cap;
    size_t field_start[CSV_MAX_FIELDS];
    const char *field_ptr[CSV_MAX_FIELDS];
    size_t field_len[CSV_MAX_FIELDS];
    csv_error err;
};

static const unsigned char utf8_bom[3] = { 0xEF, 0xBB, 0xBF };

/* --- lifetime --- */

csv_reader *csv_new(size_t max_field, size_t max_record, csv_record_fn fn, void *ud)
{
    csv_reader *r = calloc(1, sizeof *r);
    if (!r) return NULL;
    r->on_record = fn;
    r->ud = ud;
    r->max_field = max_field ? max_field : CSV_MAX_FIELD;
    r->max_record = max_record ? max_record : CSV_MAX_RECORD;
    if (r->max_field > r->max_record) r->max_field = r->max_record;
    r->buf_cap = r->max_record + CSV_MAX_FIELDS + 1;
    r->buf = malloc(r->buf_cap);
    if (!r->buf) { free(r); return NULL; }
    r->state = ST_FIELD_START;
    r->line = 1;
    r->utf8_lo = 0x80;
    r->utf8_hi = 0xBF;
    return r;
}

void csv_free(csv_reader *r)
{
    if (!r) return;
    free(r->buf);
    free(r);
}

const csv_error *csv_last_error(const csv_reader *r) { return &r->err; }
unsigned long long csv_bytes(const csv_reader *r) { return r->bytes; }

/* --- errors --- */

static int fail_at(csv_reader *r, long line, int column, long char_col, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static int fail_at(csv_reader *r, long line, int column, long char_col, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->err.message, sizeof r->err.message, fmt, ap);
    va_end(ap);
    r->err.line = line;
    r->err.column = column;
    r->err.char_col = char_col;
    r->state = ST_FAILED;
    return -1;
}

/* --- building the record --- */

static int field_begin(csv_reader *r)
{
    if (r->nfields >= CSV_MAX_FIELDS)
        return fail_at(r, r->line, r->nfields + 1, r->char_col,
                       "more than %d fields in one record", CSV_MAX_FIELDS);
    r->field_start[r->nfields] = r->buf_used;
    r->field_bytes = 0;
    return 0;
}

static int append_byte(csv_reader *r, unsigned char b)
{
    if (r->field_bytes >= r->max_field)
        return fail_at(r, r->line, r->nfields + 1, r->char_col,
                       "field longer than %zu bytes", r->max_field);
    if (r->record_bytes >= r->max_record)
        return fail_at(r, r->line, r->nfields + 1, r->char_col,
                       "record longer than %zu bytes", r->max_record);
    r->buf[r->buf_used++] = (char)b;
    r->field_bytes++;
    r->record_bytes++;
    return 0;
}

static void field_end(csv_reader *r)
{
    r->buf[r->buf_used++] = '\0';
    r->field_len[r->nfields] = r->field_bytes;
    r->nfields++;
}

/* Ends the record (its last field included) and hands it over. */
static int record_end(csv_reader *r)
{
    field_end(r);
    for (int i = 0; i < r->nfields; i++) r->field_ptr[i] = r->buf + r->field_start[i];
    csv_record rec = { .line = r->record_line, .nfields = r->nfields,
                       .fields = r->field_ptr, .lens = r->field_len };
    int stop = r->on_record ? r->on_record(r->ud, &rec) : 0;
    r->record_started = false;
    r->nfields = 0;
    r->buf_used = 0;
    r->record_bytes = 0;
    r->field_bytes = 0;
    return stop ? 1 : 0;
}

/* --- UTF-8 --- */

/* Checks one byte against the sequence in progress. */
static int utf8_check(csv_reader *r, unsigned char b)
{
    if (r->utf8_need > 0) {
        if (b < r->utf8_lo || b > r->utf8_hi) goto bad;
        r->utf8_need--;
        r->utf8_lo = 0x80;
        r->utf8_hi = 0xBF;
        return 0;
    }
    if (b < 0x80) {
        if (b == 0)
            return fail_at(r, r->line, r->nfields + 1, r->char_col, "a NUL byte is not allowed in a CSV file");
        return 0;
    }
    if (b >= 0xC2 && b <= 0xDF) { r->utf8_need = 1; return 0; }
    if (b == 0xE0) { r->utf8_need = 2; r->utf8_lo = 0xA0; return 0; }
    if (b == 0xED) { r->utf8_need = 2; r->utf8_hi = 0x9F; return 0; }
    if (b >= 0xE1 && b <= 0xEF) { r->utf8_need = 2; return 0; }
    if (b == 0xF0) { r->utf8_need = 3; r->utf8_lo = 0x90; return 0; }
    if (b >= 0xF1 && b <= 0xF3) { r->utf8_need = 3; return 0; }
    if (b == 0xF4) { r->utf8_need = 3; r->utf8_hi = 0x8F; return 0; }
bad:
    return fail_at(r, r->line, r->nfields + 1, r->char_col,
                   "invalid UTF-8 (byte 0x%02X); save the file as UTF-8 (not GBK or another code page)", b);
}

/* --- the state machine --- */

static int start_record_if_needed(csv_reader *r)
{
    if (r->record_started) return 0;
    r->record_started = true;
    r->record_line = r->line;
    return field_begin(r);
}

static void new_line(csv_reader *r)
{
    r->line++;
    r->char_col = 0;
}

static int step(csv_reader *r, unsigned char b)
{
    r->bytes++;
    if ((b & 0xC0) != 0x80) r->char_col++;
    if (utf8_check(r, b) < 0) return -1;
    int rc;
    switch (r->state) {
    case ST_AFTER_CR:
        r->state = ST_FIELD_START;
        if (b == '\n') { r->char_col = 0; return 0; }   /* CRLF: the line was counted at CR */
        __attribute__((fallthrough));      /* a lone CR ended the line */
    case ST_FIELD_START:
        if (!r->record_started && (b == '\n' || b == '\r')) {   /* a blank line: skipped */
            new_line(r);
            if (b == '\r') r->state = ST_AFTER_CR;
            return 0;
        }
        if ((rc = start_record_if_needed(r)) < 0) return rc;
        switch (b) {
        case '"':
            r->state = ST_QUOTED;
            r->field_line = r->line;
            r->field_char_col = r->char_col;
            return 0;
        case ',':
            field_end(r);
            return field_begin(r);
        case '\n':
            new_line(r);
            return record_end(r);
        case '\r':
            new_line(r);
            r->state = ST_AFTER_CR;
            return record_end(r);
        default:
            r->state = ST_UNQUOTED;
            return append_byte(r, b);
        }
    case ST_UNQUOTED:
        switch (b) {
        case ',':
            field_end(r);
            r->state = ST_FIELD_START;
            return field_begin(r);
        case '\n':
            new_line(r);
            r->state = ST_FIELD_START;
            return record_end(r);
        case '\r':
            new_line(r);
            r->state = ST_AFTER_CR;
            return record_end(r);
        case '"':
            return fail_at(r, r->line, r->nfields + 1, r->char_col,
                           "a quote inside an unquoted field (quote the whole field and double the quote: \"\")");
        default:
            return append_byte(r, b);
        }
    case ST_QUOTED:
        if (b == '"') { r->state = ST_QUOTE_IN_QUOTED; return 0; }
        if (b == '\n') { rc = append_byte(r, b); new_line(r); return rc; }
        return append_byte(r, b);
    case ST_QUOTE_IN_QUOTED:
        switch (b) {
        case '"':
            r->state = ST_QUOTED;
            return append_byte(r, b);
        case ',':
            field_end(r);
            r->state = ST_FIELD_START;
            return field_begin(r);
        case '\n':
            new_line(r);
            r->state = ST_FIELD_START;
            return record_end(r);
        case '\r':
            new_line(r);
            r->state = ST_AFTER_CR;
            return record_end(r);
        default:
            return fail_at(r, r->line, r->nfields + 1, r->char_col,
                           "text after the closing quote of a field (a quote inside a quoted field is written \"\")");
        }
    case ST_FAILED:
        return -1;
    }
    return -1;
}

/* --- feeding --- */

int csv_feed(csv_reader *r, const char *data, size_t len)
{
    if (r->state == ST_FAILED) return -1;
    const unsigned char *p = (const unsigned char *)data;
    for (size_t i = 0; i < len; i++) {
        unsigned char b = p[i];
        if (r->bom_matched >= 0) {
            if (b == utf8_bom[r->bom_matched]) {
                if (++r->bom_matched == 3) { r->bom_matched = -1; r->bytes += 3; }
                continue;
            }
            /* not a BOM after all: replay what was held back, then go on */
            int held = r->bom_matched;
            r->bom_matched = -1;
            for (int k = 0; k < held; k++) {
                int rc = step(r, utf8_bom[k]);
                if (rc) return rc;
            }
        }
        int rc = step(r, b);
        if (rc) return rc;
    }
    return 0;
}

int csv_finish(csv_reader *r)
{
    if (r->state == ST_FAILED) return -1;
    if (r->bom_matched > 0) {           /* a file holding only the start of a BOM */
        int held = r->bom_matched;
        r->bom_matched = -1;
        for (int k = 0; k < held; k++) {
            int rc = step(r, utf8_bom[k]);
            if (rc) return rc;
        }
    }
    if (r->utf8_need > 0)
        return fail_at(r, r->line, r->nfields + 1, r->char_col, "invalid UTF-8: the file ends inside a character");
    if (r->state == ST_QUOTED)
        return fail_at(r, r->field_line, r->nfields + 1, r->field_char_col,
                       "unterminated quote: the quoted field opened here is never closed");
    if (r->record_started) {
        int rc = record_end(r);
        r->state = ST_FIELD_START;
        return rc;
    }
    return 0;
}
