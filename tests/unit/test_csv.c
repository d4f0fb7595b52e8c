/* test_csv: the streaming CSV reader (core/base/csv.c). Every input is fed in
 * chunks of 1, 2, 3, 7 bytes and whole, and must give the same records
 * (rendered as "L<line>[f1|f2]") or the same error (line, column, message). */
#include <stdlib.h>
#include <stdbool.h>
#include "check.h"
#include "csv.h"

/* --- helpers --- */

typedef struct collected {
    char out[4096];
    size_t used;
    int records;
    int stop_after;      /* > 0: ask the reader to stop after this many records */
} collected;

static int on_record(void *ud, const csv_record *rec)
{
    collected *c = ud;
    int n = snprintf(c->out + c->used, sizeof c->out - c->used, "L%ld[", rec->line);
    if (n > 0) c->used += (size_t)n;
    for (int i = 0; i < rec->nfields; i++) {
        n = snprintf(c->out + c->used, sizeof c->out - c->used, "%s%s", i ? "|" : "", rec->fields[i]);
        if (n > 0) c->used += (size_t)n;
        if (strlen(rec->fields[i]) != rec->lens[i]) {
            n = snprintf(c->out + c->used, sizeof c->out - c->used, "<len mismatch>");
            if (n > 0) c->used += (size_t)n;
        }
    }
    n = snprintf(c->out + c->used, sizeof c->out - c->used, "]");
    if (n > 0) c->used += (size_t)n;
    if (c->used >= sizeof c->out) c->used = sizeof c->out - 1;
    c->records++;
    return c->stop_after && c->records >= c->stop_after;
}

/* Parses in chunks of `chunk` bytes (0 = all at once). Returns the rendered
 * records, or "ERR line:col: message" (col = field number). */
static const char *parse(const char *in, size_t len, size_t chunk, size_t max_field, char *buf, size_t buflen)
{
    collected c = { .used = 0 };
    c.out[0] = '\0';
    csv_reader *r = csv_new(max_field, 0, on_record, &c);
    if (!r) { snprintf(buf, buflen, "OOM"); return buf; }
    int rc = 0;
    if (chunk == 0) chunk = len ? len : 1;
    for (size_t off = 0; off < len && rc == 0; off += chunk)
        rc = csv_feed(r, in + off, len - off < chunk ? len - off : chunk);
    if (rc == 0) rc = csv_finish(r);
    if (rc < 0) {
        const csv_error *e = csv_last_error(r);
        snprintf(buf, buflen, "ERR %ld:%d: %s", e->line, e->column, e->message);
    } else {
        snprintf(buf, buflen, "%s", c.out);
    }
    csv_free(r);
    return buf;
}

/* Checks that every chunking gives `want` (a prefix match for errors). */
static void expect(const char *name, const char *in, size_t len, const char *want)
{
    static const size_t chunks[] = { 0, 1, 2, 3, 7 };
    for (size_t i = 0; i < sizeof chunks / sizeof chunks[0]; i++) {
        char got[4096];
        parse(in, len, chunks[i], 0, got, sizeof got);
        bool ok = strncmp(want, "ERR", 3) == 0 ? strncmp(got, want, strlen(want)) == 0 : strcmp(got, want) == 0;
        CHECK(ok, "%s (chunks of %zu)", name, chunks[i]);
        if (!ok) printf("    got  %s\n    want %s\n", got, want);
    }
}
#define EXPECT(name, lit, want) expect(name, lit, sizeof(lit) - 1, want)

/* --- good input --- */

static void test_good(void)
{
    EXPECT("simple LF", "a,b\n1,2\n", "L1[a|b]L2[1|2]");
    EXPECT("CRLF", "a,b\r\n1,2\r\n", "L1[a|b]L2[1|2]");
    EXPECT("lone CR line ends", "a,b\r1,2\r", "L1[a|b]L2[1|2]");
    EXPECT("no final line end", "a,b\n1,2", "L1[a|b]L2[1|2]");
    EXPECT("empty fields", ",\n,,x\n", "L1[|]L2[||x]");
    EXPECT("quoted comma and doubled quote", "\"a,b\",\"say \"\"hi\"\"\"\n", "L1[a,b|say \"hi\"]");
    EXPECT("embedded newline advances the line", "h\n\"x\ny\",z\nlast\n", "L1[h]L2[x\ny|z]L4[last]");
    EXPECT("embedded CRLF kept", "\"x\r\ny\"\nq\n", "L1[x\r\ny]L3[q]");
    EXPECT("BOM ignored", "\xEF\xBB\xBF" "a,b\n", "L1[a|b]");
    EXPECT("BOM only in first position", "a\n\xEF\xBB\xBF" "b\n", "L1[a]L2[\xEF\xBB\xBF" "b]");
    EXPECT("partial BOM-like start is data", "\xEF\xBB\xBE" "x\n", "L1[\xEF\xBB\xBE" "x]");
    EXPECT("blank lines skipped", "a\n\n\r\nb\n", "L1[a]L4[b]");
    EXPECT("Chinese text", "门店,广州天河\n", "L1[门店|广州天河]");
    EXPECT("4-byte UTF-8", "\xF0\x9F\x98\x80\n", "L1[\xF0\x9F\x98\x80]");
    EXPECT("empty quoted field", "\"\",x\n", "L1[|x]");
    EXPECT("spaces kept", " a , b \n", "L1[ a | b ]");
    EXPECT("empty input", "", "");
    EXPECT("only a BOM", "\xEF\xBB\xBF", "");
}

/* --- malformed input --- */

static void test_bad(void)
{
    EXPECT("quote in unquoted field", "a,b\nx,y\"z\n", "ERR 2:2: a quote inside an unquoted field");
    EXPECT("text after closing quote", "a\n\"x\"y,1\n", "ERR 2:1: text after the closing quote");
    EXPECT("unterminated quote names where it opened", "a,b\n1,\"open\nmore\nmore\n", "ERR 2:2: unterminated quote");
    EXPECT("invalid UTF-8 (GBK)", "a\n\xB9\xE3\xD6\xDD\n", "ERR 2:1: invalid UTF-8 (byte 0xB9)");
    EXPECT("overlong encoding", "a,\xC0\xAF\n", "ERR 1:2: invalid UTF-8 (byte 0xC0)");
    EXPECT("UTF-16 surrogate", "\xED\xA0\x80\n", "ERR 1:1: invalid UTF-8 (byte 0xA0)");
    EXPECT("above U+10FFFF", "\xF4\x90\x80\x80\n", "ERR 1:1: invalid UTF-8 (byte 0x90)");
    EXPECT("truncated at end", "abc\xE5\xB9", "ERR 1:1: invalid UTF-8: the file ends inside a character");
    EXPECT("NUL byte", "a\0b\n", "ERR 1:1: a NUL byte");
}

/* --- limits and control --- */

static void test_limits(void)
{
    char got[4096];
    /* a field of 10 bytes with a 8-byte limit */
    CHECK(strncmp(parse("x,0123456789\n", 13, 0, 8, got, sizeof got), "ERR 1:2: field longer than 8 bytes", 34) == 0,
          "field over the limit is an error: %s", got);
    CHECK_STR(parse("x,01234567\n", 11, 3, 8, got, sizeof got), "L1[x|01234567]", "field at the limit is fine");
    /* a record of 300 KiB in 10-byte fields exceeds the default record limit */
    size_t big = 300 * 1024;
    char *in = malloc(big + 1);
    for (size_t i = 0; i < big; i++) in[i] = (i % 11 == 10) ? ',' : 'x';
    in[big] = '\n';
    parse(in, big + 1, 4096, 0, got, sizeof got);
    CHECK(strncmp(got, "ERR 1:", 6) == 0 && strstr(got, "fields in one record"), "too many fields is an error: %.60s", got);
    for (size_t i = 0; i < big; i++) in[i] = (i % 1001 == 1000) ? ',' : 'x';
    parse(in, big + 1, 4096, 0, got, sizeof got);
    CHECK(strncmp(got, "ERR 1:", 6) == 0 && strstr(got, "record longer than"), "record over the limit is an error: %.60s", got);
    free(in);

    /* the callback can stop the reader */
    collected c = { .stop_after = 2 };
    csv_reader *r = csv_new(0, 0, on_record, &c);
    int rc = csv_feed(r, "a\nb\nc\nd\n", 8);
    CHECK_INT(rc, 1, "csv_feed returns 1 when the callback stops");
    CHECK_INT(c.records, 2, "no record after the stop");
    csv_free(r);

    /* after an error, more input is refused */
    r = csv_new(0, 0, on_record, &c);
    CHECK_INT(csv_feed(r, "a\"\n", 3), -1, "malformed input: -1");
    CHECK_INT(csv_feed(r, "ok\n", 3), -1, "then refused");
    CHECK_INT(csv_last_error(r)->char_col, 2, "character column of the stray quote");
    csv_free(r);
}

int main(void)
{
    test_good();
    test_bad();
    test_limits();
    return check_done();
}
