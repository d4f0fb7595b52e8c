/* import_keys: the keys met in one imported file (see import_keys.h). */
#include "import_keys.h"
#include <stdlib.h>
#include <string.h>

#define KEY_BLOCK (1u << 20)         /* bytes of keys per block */

struct key_block { struct key_block *next; size_t used, cap; char data[]; };

uint64_t key_hash(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < n; i++) h = (h ^ (unsigned char)s[i]) * 1099511628211ULL;
    return h ? h : 1;
}

key_entry *key_find(const key_map *m, const char *key, size_t keylen, uint64_t h)
{
    if (!m->cap) return NULL;
    for (size_t i = h & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
        key_entry *e = &m->slots[i];
        if (!e->hash) return NULL;
        if (e->hash == h && e->keylen == keylen && memcmp(e->key, key, keylen) == 0) return e;
    }
}

static char *key_store(key_map *m, size_t need)
{
    if (!m->blocks || m->blocks->cap - m->blocks->used < need) {
        size_t cap = need > KEY_BLOCK ? need : KEY_BLOCK;
        key_block *b = malloc(sizeof *b + cap);
        if (!b) return NULL;
        b->next = m->blocks;
        b->used = 0;
        b->cap = cap;
        m->blocks = b;
    }
    char *p = m->blocks->data + m->blocks->used;
    m->blocks->used += need;
    return p;
}

key_entry *key_add(key_map *m, const char *key, size_t keylen, const char *payload, long line, bool *oom)
{
    uint64_t h = key_hash(key, keylen);
    key_entry *found = key_find(m, key, keylen, h);
    if (found) return found;
    if ((m->n + 1) * 4 > m->cap * 3) {
        size_t cap = m->cap ? m->cap * 2 : 1024;
        key_entry *slots = calloc(cap, sizeof *slots);
        if (!slots) { *oom = true; return NULL; }
        for (size_t i = 0; i < m->cap; i++) {
            if (!m->slots[i].hash) continue;
            size_t j = m->slots[i].hash & (cap - 1);
            while (slots[j].hash) j = (j + 1) & (cap - 1);
            slots[j] = m->slots[i];
        }
        free(m->slots);
        m->slots = slots;
        m->cap = cap;
    }
    size_t plen = payload ? strlen(payload) : 0;
    char *p = key_store(m, keylen + plen + 2);
    if (!p) { *oom = true; return NULL; }
    memcpy(p, key, keylen);
    p[keylen] = '\0';
    memcpy(p + keylen + 1, payload ? payload : "", plen + 1);
    size_t j = h & (m->cap - 1);
    while (m->slots[j].hash) j = (j + 1) & (m->cap - 1);
    m->slots[j] = (key_entry){ h, p, keylen, line };
    m->n++;
    return NULL;
}

void key_map_free(key_map *m)
{
    for (key_block *b = m->blocks, *next; b; b = next) { next = b->next; free(b); }
    free(m->slots);
    *m = (key_map){ 0 };
}
