/* utf8: checking text for well-formed UTF-8 (RFC 3629: no overlong forms, no
 * surrogates, nothing past U+10FFFF) and scrubbing text that is echoed back to
 * a client (a path or a name in an error message, a query parameter in its
 * details) so that an answer never carries invalid UTF-8. Header-only; used
 * by the HTTP layer (http.c) on every JSON answer. */
#ifndef FS_UTF8_H
#define FS_UTF8_H
#include <stdlib.h>
#include <string.h>

/* Bytes of the well-formed UTF-8 character at s (1 to 4), or 0 when s does
 * not start one (a stray byte, an overlong form, a surrogate, past U+10FFFF,
 * cut short). s is NUL-terminated. */
static inline size_t utf8_char_len(const unsigned char *s)
{
    if (s[0] < 0x80) return 1;
    size_t n = s[0] >= 0xC2 && s[0] <= 0xDF ? 2 : s[0] >= 0xE0 && s[0] <= 0xEF ? 3 : s[0] >= 0xF0 && s[0] <= 0xF4 ? 4 : 0;
    unsigned char lo = s[0] == 0xE0 ? 0xA0 : s[0] == 0xF0 ? 0x90 : 0x80;
    unsigned char hi = s[0] == 0xED ? 0x9F : s[0] == 0xF4 ? 0x8F : 0xBF;
    for (size_t i = 1; i < n; i++)
        if (s[i] < (i == 1 ? lo : 0x80) || s[i] > (i == 1 ? hi : 0xBF)) return 0;
    return n;
}

/* s with each byte that is not part of a well-formed character replaced by
 * U+FFFD. 0 when s is valid as it is (*out NULL: use s), 1 with a malloc'd
 * copy in *out, -1 when out of memory. JSON text stays JSON text. */
static inline int utf8_scrub(const char *s, char **out_copy)
{
    *out_copy = NULL;
    const unsigned char *p = (const unsigned char *)s;
    size_t n;
    while (*p && (n = utf8_char_len(p)) > 0) p += n;
    if (!*p) return 0;
    char *out = malloc(3 * strlen(s) + 1), *o = out;
    if (!out) return -1;
    for (p = (const unsigned char *)s; *p; p += n ? n : 1) {
        n = utf8_char_len(p);
        memcpy(o, n ? (const char *)p : "\xEF\xBF\xBD", n ? n : 3);
        o += n ? n : 3;
    }
    *o = '\0';
    *out_copy = out;
    return 1;
}
#endif
