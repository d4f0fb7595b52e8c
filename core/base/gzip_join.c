/* gzip_join: gzip streams joined from pieces compressed once (see
 * gzip_join.h). Base layer: zlib only. */
#include "gzip_join.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

int gzip_piece_make(const char *text, size_t len, gzip_piece *out)
{
    memset(out, 0, sizeof *out);
    z_stream z;
    memset(&z, 0, sizeof z);
    /* raw deflate (negative window bits): no zlib or gzip wrapper of its own */
    if (deflateInit2(&z, 6, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK) return -1;
    uLong cap = deflateBound(&z, (uLong)len) + 16;   /* the sync flush's empty block */
    unsigned char *buf = malloc(cap);
    int rc = -1;
    if (buf) {
        z.next_in = (Bytef *)(uintptr_t)text;
        z.avail_in = (uInt)len;
        z.next_out = buf;
        z.avail_out = (uInt)cap;
        /* a sync flush ends the piece on a byte boundary with no final block,
         * so another piece (or a stored block) can follow it */
        if (deflate(&z, Z_SYNC_FLUSH) == Z_OK && z.avail_in == 0 && z.avail_out > 0) {
            out->data = buf;
            out->len = z.total_out;
            out->text_len = len;
            out->crc = (uint32_t)crc32(crc32(0L, Z_NULL, 0), (const Bytef *)text, (uInt)len);
            rc = 0;
        } else {
            free(buf);
        }
    }
    deflateEnd(&z);
    return rc;
}

void gzip_piece_free(gzip_piece *p)
{
    if (!p) return;
    free(p->data);
    memset(p, 0, sizeof *p);
}

static void put(gzip_join *j, const void *bytes, size_t n)
{
    if (j->failed) return;
    if (j->len + n > j->cap) {
        size_t cap = j->cap ? j->cap : 4096;
        while (cap < j->len + n) cap *= 2;
        unsigned char *b = realloc(j->buf, cap);
        if (!b) { j->failed = 1; return; }
        j->buf = b;
        j->cap = cap;
    }
    memcpy(j->buf + j->len, bytes, n);
    j->len += n;
}

void gzip_join_begin(gzip_join *j)
{
    memset(j, 0, sizeof *j);
    j->crc = (uint32_t)crc32(0L, Z_NULL, 0);
    /* magic, deflate, no flags, no mtime, no extra flags, OS unknown */
    static const unsigned char header[10] = { 0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255 };
    put(j, header, sizeof header);
}

void gzip_join_piece(gzip_join *j, const gzip_piece *piece)
{
    put(j, piece->data, piece->len);
    j->crc = (uint32_t)crc32_combine(j->crc, piece->crc, (z_off_t)piece->text_len);
    j->text_len += piece->text_len;
}

void gzip_join_text(gzip_join *j, const char *text, size_t len)
{
    j->crc = (uint32_t)crc32(j->crc, (const Bytef *)text, (uInt)len);
    j->text_len += len;
    while (len > 0) {
        size_t n = len > 65535 ? 65535 : len;
        /* a stored block: BFINAL 0, BTYPE 00 (the rest of the byte is
         * padding, as every piece ends byte-aligned), LEN, NLEN, the bytes */
        unsigned char head[5] = { 0, (unsigned char)(n & 0xff), (unsigned char)(n >> 8),
                                  (unsigned char)(~n & 0xff), (unsigned char)((~n >> 8) & 0xff) };
        put(j, head, sizeof head);
        put(j, text, n);
        text += n;
        len -= n;
    }
}

int gzip_join_finish(gzip_join *j, unsigned char **out, size_t *len)
{
    /* the final block: fixed Huffman, empty (BFINAL 1, BTYPE 01, end of block) */
    static const unsigned char final_block[2] = { 0x03, 0x00 };
    put(j, final_block, sizeof final_block);
    unsigned char trailer[8];
    uint32_t size = (uint32_t)(j->text_len & 0xffffffffu);   /* ISIZE: the length mod 2^32 */
    for (int i = 0; i < 4; i++) {
        trailer[i] = (unsigned char)(j->crc >> (8 * i));
        trailer[4 + i] = (unsigned char)(size >> (8 * i));
    }
    put(j, trailer, sizeof trailer);
    if (j->failed) {
        gzip_join_abandon(j);
        return -1;
    }
    *out = j->buf;
    *len = j->len;
    memset(j, 0, sizeof *j);
    return 0;
}

void gzip_join_abandon(gzip_join *j)
{
    free(j->buf);
    memset(j, 0, sizeof *j);
}
