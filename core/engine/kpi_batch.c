/* kpi_batch: whole batch answers kept (engine layer; the batch route of
 * core/http/routes_kpi.c asks here before it reads the batch). A dashboard
 * sends the same batch again and again (the overview's: 7 queries, 98 KB of
 * JSON, 24 KB gzip'd); each query's answer is kept by kpi_query_text, but
 * joining them costs parsing the body, resolving the scope and building the
 * key of every query, per request. Here the joined bytes are kept, keyed by
 * the caller's scope (role, stores, regions), the form (gzip or not) and the
 * body's bytes, for the data generation every one of its answers was kept
 * at: a kept batch serves only while that generation is the current one (a
 * snapshot read moments ago, kpi_snapshot_fresh), so any import, settings
 * or budget change makes it miss and be joined again from the kept answers.
 * Bounded in entries and bytes, least recently used out first. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include "app.h"
#include "counters.h"
#include "kpi.h"
#include "kpi_cache.h"

#define BATCH_BUCKETS 256
#define BATCH_MAX 256                         /* kept batches */
#define BATCH_MAX_BYTES (32u << 20)           /* their keys and answers */
#define BATCH_MAX_BODY (64u << 10)            /* a longer body is not kept */

typedef struct batch_entry {
    char *key;                    /* scope "\n" form "\n" body */
    size_t key_len;
    unsigned hash;
    unsigned long long generation;
    unsigned char *bytes;
    size_t len;
    struct batch_entry *hnext, *prev, *next;
} batch_entry;

struct kpi_batches {
    pthread_mutex_t mu;
    batch_entry *buckets[BATCH_BUCKETS];
    batch_entry *head, *tail;     /* most recently used first */
    int n;
    size_t bytes;
};

kpi_batches *kpi_batches_new(void)
{
    kpi_batches *b = calloc(1, sizeof *b);
    if (b) pthread_mutex_init(&b->mu, NULL);
    return b;
}

static void entry_free(batch_entry *e)
{
    free(e->key);
    free(e->bytes);
    free(e);
}

void kpi_batches_free(kpi_batches *b)
{
    if (!b) return;
    for (batch_entry *e = b->head, *next; e; e = next) {
        next = e->next;
        entry_free(e);
    }
    pthread_mutex_destroy(&b->mu);
    free(b);
}

/* --- keys --- */

static unsigned hash_bytes(const char *s, size_t n)
{
    unsigned h = 2166136261u;
    for (size_t i = 0; i < n; i++) h = (h ^ (unsigned char)s[i]) * 16777619u;
    return h;
}

/* Append n bytes of s to the growing key (*k, *len, *cap); -1 when out of memory. */
static int key_add(char **k, size_t *len, size_t *cap, const char *s, size_t n)
{
    if (!s) n = 0;
    if (*len + n + 1 > *cap) {
        size_t c = *cap ? *cap : 256;
        while (*len + n + 1 > c) c *= 2;
        char *g = realloc(*k, c);
        if (!g) return -1;
        *k = g;
        *cap = c;
    }
    if (n) memcpy(*k + *len, s, n);
    *len += n;
    (*k)[*len] = '\0';
    return 0;
}

/* The key of body for who in form gz (malloc'd, *len bytes), or NULL. The
 * scope is what scope_resolve_dir reads of the principal: the same key is
 * the same answer. */
static char *batch_key(const principal *who, bool gz, const char *body, size_t body_len, size_t *len)
{
    char *k = NULL;
    size_t cap = 0;
    *len = 0;
    const char *role = role_name(who->role);
    int bad = key_add(&k, len, &cap, role, strlen(role)) || key_add(&k, len, &cap, who->all_stores ? "|*|" : "|", who->all_stores ? 3 : 1);
    for (int i = 0; !bad && !who->all_stores && i < who->nstores; i++)
        bad = key_add(&k, len, &cap, who->stores[i], strlen(who->stores[i])) || key_add(&k, len, &cap, ",", 1);
    bad = bad || key_add(&k, len, &cap, "|", 1);
    for (int i = 0; !bad && i < who->nregions; i++)
        bad = key_add(&k, len, &cap, who->regions[i], strlen(who->regions[i])) || key_add(&k, len, &cap, ",", 1);
    bad = bad || key_add(&k, len, &cap, gz ? "\ngzip\n" : "\nplain\n", gz ? 6 : 7) ||
          key_add(&k, len, &cap, body, body_len);
    if (bad) {
        free(k);
        return NULL;
    }
    return k;
}

/* The current generation: the snapshot read moments ago, or read now (one
 * short query every KPI_GENERATION_FRESH_MS, as any KPI query does). 1, or
 * 0 when the database cannot tell. */
static int generation_now(struct app *a, unsigned long long *gen)
{
    if (!a->kpi) return 0;
    kpi_snapshot *s = kpi_snapshot_fresh(a->kpi);
    if (!s) {
        char err[256];
        db_pool *from = NULL;
        db_conn *c = app_acquire_read(a, &from, err, sizeof err);
        if (!c) return 0;
        s = kpi_snapshot_get(a->kpi, c, err, sizeof err);
        db_release(from, c);
        if (!s) return 0;
    }
    *gen = s->generation;
    kpi_snapshot_release(a->kpi, s);
    return 1;
}

static void unlink_locked(kpi_batches *b, batch_entry *e)
{
    batch_entry **p = &b->buckets[e->hash % BATCH_BUCKETS];
    while (*p && *p != e) p = &(*p)->hnext;
    if (*p) *p = e->hnext;
    if (e->prev) e->prev->next = e->next;
    else b->head = e->next;
    if (e->next) e->next->prev = e->prev;
    else b->tail = e->prev;
    b->n--;
    b->bytes -= e->key_len + e->len;
    entry_free(e);
}

static batch_entry *find_locked(kpi_batches *b, const char *key, size_t key_len, unsigned h)
{
    for (batch_entry *e = b->buckets[h % BATCH_BUCKETS]; e; e = e->hnext)
        if (e->hash == h && e->key_len == key_len && memcmp(e->key, key, key_len) == 0) return e;
    return NULL;
}

/* --- get and put --- */

unsigned char *kpi_batch_get(struct app *a, const principal *who, const char *body, size_t body_len, bool gz,
                             size_t *len)
{
    kpi_batches *b = a->kpi_batches;
    unsigned long long gen;
    if (!b || !who || !body || !body_len || body_len > BATCH_MAX_BODY || !generation_now(a, &gen)) return NULL;
    size_t key_len;
    char *key = batch_key(who, gz, body, body_len, &key_len);
    if (!key) return NULL;
    unsigned h = hash_bytes(key, key_len);
    unsigned char *copy = NULL;
    pthread_mutex_lock(&b->mu);
    batch_entry *e = find_locked(b, key, key_len, h);
    if (e && e->generation != gen) {
        unlink_locked(b, e);          /* of another generation: never serves again */
        e = NULL;
    }
    if (e && (copy = malloc(e->len ? e->len : 1))) {
        memcpy(copy, e->bytes, e->len);
        *len = e->len;
        if (e != b->head) {
            e->prev->next = e->next;
            if (e->next) e->next->prev = e->prev;
            else b->tail = e->prev;
            e->prev = NULL;
            e->next = b->head;
            b->head->prev = e;
            b->head = e;
        }
    }
    pthread_mutex_unlock(&b->mu);
    free(key);
    if (copy) metrics_add(METRIC_KPI_BATCH_HITS, 1);
    return copy;
}

void kpi_batch_put(struct app *a, const principal *who, const char *body, size_t body_len, bool gz,
                   unsigned long long gen, const unsigned char *bytes, size_t len)
{
    kpi_batches *b = a->kpi_batches;
    unsigned long long now;
    if (!b || !who || !gen || !body || !body_len || body_len > BATCH_MAX_BODY || len > BATCH_MAX_BYTES / 8) return;
    if (!generation_now(a, &now) || now != gen) return;     /* already older than the data */
    batch_entry *e = calloc(1, sizeof *e);
    if (!e) return;
    e->key = batch_key(who, gz, body, body_len, &e->key_len);
    e->bytes = malloc(len ? len : 1);
    if (!e->key || !e->bytes) {
        entry_free(e);
        return;
    }
    memcpy(e->bytes, bytes, len);
    e->len = len;
    e->generation = gen;
    e->hash = hash_bytes(e->key, e->key_len);
    pthread_mutex_lock(&b->mu);
    batch_entry *old = find_locked(b, e->key, e->key_len, e->hash);
    if (old) unlink_locked(b, old);
    e->hnext = b->buckets[e->hash % BATCH_BUCKETS];
    b->buckets[e->hash % BATCH_BUCKETS] = e;
    e->next = b->head;
    if (b->head) b->head->prev = e;
    b->head = e;
    if (!b->tail) b->tail = e;
    b->n++;
    b->bytes += e->key_len + e->len;
    while ((b->n > BATCH_MAX || b->bytes > BATCH_MAX_BYTES) && b->tail != e) unlink_locked(b, b->tail);
    pthread_mutex_unlock(&b->mu);
}
