/* gzip_join: one gzip stream made of pieces compressed once and kept
 * (base layer; used by the KPI answer cache and the batch route). A piece
 * is a raw deflate stream ended with a sync flush (not final, byte-aligned),
 * kept with the CRC-32 and length of its text. Any sequence of such pieces,
 * with short texts in between as stored blocks, is one valid deflate stream
 * (RFC 1951), so a gzip answer (RFC 1952) of several cached answers is
 * built by copying their compressed bytes: no compression per request.
 *
 *     gzip_join j;  gzip_join_begin(&j);
 *     gzip_join_text(&j, "[", 1);  gzip_join_piece(&j, piece);  ...
 *     gzip_join_finish(&j, &bytes, &len);   // malloc'd gzip stream, or -1 */
#ifndef FS_GZIP_JOIN_H
#define FS_GZIP_JOIN_H
#include <stddef.h>
#include <stdint.h>

/* A compressed piece: raw deflate bytes (sync-flushed, not final). */
typedef struct gzip_piece {
    unsigned char *data;
    size_t len;              /* bytes of data */
    size_t text_len;         /* bytes of the text it holds */
    uint32_t crc;            /* CRC-32 of that text */
} gzip_piece;

/* Compress text (len bytes) into *out (its data malloc'd; free with
 * gzip_piece_free). Returns 0, or -1 when out of memory. */
int gzip_piece_make(const char *text, size_t len, gzip_piece *out);
void gzip_piece_free(gzip_piece *p);

/* A gzip stream in the making (a growing buffer). */
typedef struct gzip_join {
    unsigned char *buf;
    size_t len, cap;
    uint32_t crc;
    uint64_t text_len;
    int failed;              /* out of memory at some step: finish fails */
} gzip_join;

void gzip_join_begin(gzip_join *j);
/* Append a copy of piece's compressed bytes. */
void gzip_join_piece(gzip_join *j, const gzip_piece *piece);
/* Append text as it is (stored blocks: for short texts and punctuation). */
void gzip_join_text(gzip_join *j, const char *text, size_t len);
/* The finished stream (malloc'd, *len bytes; the joiner is spent): 0, or -1
 * when out of memory (nothing to free). */
int gzip_join_finish(gzip_join *j, unsigned char **out, size_t *len);
/* Drop an unfinished stream. */
void gzip_join_abandon(gzip_join *j);
#endif
