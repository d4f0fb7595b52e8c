/* import_keys: the keys an import has met in one file: the natural keys of
 * its rows (the duplicate check, the comeback and payment lookups), the
 * VINs it touched and the stores it holds. An open-addressing hash map of
 * byte strings, each with the line it was seen on and an optional text
 * payload, kept in blocks of memory freed all at once. Private to the
 * import engine (import_job.h). */
#ifndef FS_IMPORT_KEYS_H
#define FS_IMPORT_KEYS_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct key_entry {
    uint64_t hash;           /* 0: an empty slot */
    const char *key;         /* key bytes, NUL, then the payload (NUL-terminated) */
    size_t keylen;
    long line;
} key_entry;

typedef struct key_block key_block;

typedef struct key_map {
    key_entry *slots;        /* cap slots, a power of two; walk them for every key */
    size_t cap, n;
    key_block *blocks;
} key_map;

uint64_t key_hash(const char *s, size_t n);
/* The entry of key (h = key_hash(key, keylen)), NULL when not met. */
key_entry *key_find(const key_map *m, const char *key, size_t keylen, uint64_t h);
/* Adds key (with an optional payload) seen on line. Returns the existing
 * entry when the key was met before (nothing added), NULL when added, and
 * sets *oom on failure. */
key_entry *key_add(key_map *m, const char *key, size_t keylen, const char *payload, long line, bool *oom);
static inline const char *key_payload(const key_entry *e) { return e->key + e->keylen + 1; }
void key_map_free(key_map *m);
#endif
