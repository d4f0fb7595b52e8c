/* test_gzip_join: gzip streams joined from kept pieces (core/base/gzip_join.c).
 * Every joined stream is inflated by zlib's own gzip decoder (inflateInit2
 * with 16 + 15 window bits, which checks the CRC-32 and the length in the
 * trailer) and must give back exactly the texts in order. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include "check.h"
#include "gzip_join.h"

/* Inflate a whole gzip stream; the text malloc'd (*len bytes), or NULL when
 * zlib refuses it (a bad block, CRC or length) or it has trailing bytes. */
static char *gunzip(const unsigned char *gz, size_t gz_len, size_t *len)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    if (inflateInit2(&z, 16 + 15) != Z_OK) return NULL;
    size_t cap = 1 << 20, used = 0;
    char *out = malloc(cap);
    z.next_in = (Bytef *)(uintptr_t)gz;
    z.avail_in = (uInt)gz_len;
    int rc = Z_OK;
    while (out && rc == Z_OK) {
        if (used == cap) {
            char *g = realloc(out, cap *= 2);
            if (!g) { free(out); out = NULL; break; }
            out = g;
        }
        z.next_out = (Bytef *)out + used;
        z.avail_out = (uInt)(cap - used);
        rc = inflate(&z, Z_NO_FLUSH);
        used = cap - z.avail_out;
    }
    bool whole = rc == Z_STREAM_END && z.avail_in == 0;
    inflateEnd(&z);
    if (!whole) { free(out); return NULL; }
    *len = used;
    return out;
}

/* Deterministic text of n bytes: JSON-like, compressible, with some noise. */
static char *sample(size_t n, unsigned seed)
{
    char *t = malloc(n + 1);
    for (size_t i = 0; i < n; i++) {
        seed = seed * 1103515245u + 12345u;
        t[i] = (seed >> 16) % 7 == 0 ? (char)('0' + (seed >> 8) % 10) : "{\"store\":\"GZ01\",\"v\":12.5},"[i % 26];
    }
    t[n] = '\0';
    return t;
}

int main(void)
{
    /* a piece alone: the same text back */
    char *a = sample(5000, 1);
    gzip_piece pa;
    CHECK(gzip_piece_make(a, 5000, &pa) == 0 && pa.len > 0 && pa.len < 5000 && pa.text_len == 5000,
          "a 5000-byte text compresses into a smaller piece (%zu bytes)", pa.len);
    gzip_join j;
    gzip_join_begin(&j);
    gzip_join_piece(&j, &pa);
    unsigned char *gz = NULL;
    size_t gz_len = 0, len = 0;
    CHECK(gzip_join_finish(&j, &gz, &gz_len) == 0, "one piece joins");
    char *back = gunzip(gz, gz_len, &len);
    CHECK(back && len == 5000 && memcmp(back, a, 5000) == 0, "one piece inflates to its text");
    free(back);
    free(gz);

    /* the batch's shape: "[" piece "," short text "," piece "," empty piece "]" */
    char *b = sample(70000, 2);          /* longer than a stored block's 65535 bytes when stored */
    gzip_piece pb, pe;
    CHECK(gzip_piece_make(b, 70000, &pb) == 0 && gzip_piece_make("", 0, &pe) == 0, "more pieces, one of them empty");
    gzip_join_begin(&j);
    gzip_join_text(&j, "[", 1);
    gzip_join_piece(&j, &pa);
    gzip_join_text(&j, ",", 1);
    gzip_join_text(&j, "{\"short\":1}", 11);
    gzip_join_text(&j, ",", 1);
    gzip_join_piece(&j, &pb);
    gzip_join_text(&j, ",", 1);
    gzip_join_piece(&j, &pe);
    gzip_join_text(&j, b, 70000);       /* a long text stored: two stored blocks */
    gzip_join_text(&j, "]", 1);
    CHECK(gzip_join_finish(&j, &gz, &gz_len) == 0, "pieces and texts join");
    size_t want_len = 1 + 5000 + 1 + 11 + 1 + 70000 + 1 + 0 + 70000 + 1;
    char *want = malloc(want_len);
    size_t w = 0;
#define ADD(p, n) (memcpy(want + w, (p), (n)), w += (n))
    ADD("[", 1); ADD(a, 5000); ADD(",", 1); ADD("{\"short\":1}", 11); ADD(",", 1); ADD(b, 70000); ADD(",", 1);
    ADD(b, 70000); ADD("]", 1);
    back = gunzip(gz, gz_len, &len);
    CHECK(back && len == want_len && memcmp(back, want, want_len) == 0,
          "the joined stream inflates to the texts in order (%zu bytes), CRC and length checked", want_len);
    free(back);

    /* a flipped byte in the trailer's CRC is caught by the decoder: the CRC is real */
    gz[gz_len - 8] ^= 0x01;
    back = gunzip(gz, gz_len, &len);
    CHECK(back == NULL, "a wrong CRC-32 in the trailer is refused by zlib");
    free(back);
    free(gz);

    /* nothing but the header and the final block: the empty text */
    gzip_join_begin(&j);
    CHECK(gzip_join_finish(&j, &gz, &gz_len) == 0 && gz_len == 20, "an empty stream is 20 bytes");
    back = gunzip(gz, gz_len, &len);
    CHECK(back && len == 0, "and inflates to nothing");
    free(back);
    free(gz);

    gzip_piece_free(&pa);
    gzip_piece_free(&pb);
    gzip_piece_free(&pe);
    free(a);
    free(b);
    free(want);
    return check_done();
}
