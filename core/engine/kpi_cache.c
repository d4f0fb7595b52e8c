/* kpi_cache: the state the KPI engine keeps between requests (see
 * kpi_cache.h); kpi.c is its one user.
 *
 * Components per (id, from, to, per insurer) do not depend on the caller's
 * scope, so one entry serves everyone. The cache is bounded (LRU by entries
 * and components) and follows the data generation (data_generation, bumped
 * by every import and setting change): a query reads the generation (one
 * primary-key lookup), so several instances sharing the database stay
 * consistent. A new generation that named the stores it changed (an
 * import: data_change_stores, schemas/027) only adds those stores to the
 * list of changes; any other (a setting, a rebuild, the directory) clears
 * the cache. An entry remembers the generation it was computed at: it
 * serves a query whose stores none of the later changes name, and a query
 * that needs a changed store recomputes only the changed stores (the
 * plugin asked for those alone, kpi_compute.c) into a new entry. A
 * generation read less than KPI_GENERATION_FRESH_MS ago is taken as it is, unless this process
 * has committed a change since (data_changed_here): under load, one read
 * serves many requests; another instance's change is seen within that
 * time. The settings are reloaded with it, and the directory (stores'
 * names and regions, regions, insurers) when the directory generation moved
 * too (only imports of those entities move it), else kept from the previous
 * snapshot: together, the snapshot (read by kpi_snapshot.c).
 *
 * Whole answers (the JSON text of one request and scope) are kept too, so
 * that a dashboard reloaded by many people costs a lookup and a copy, and
 * serve later generations as long as no change names a store of their
 * scope; a long answer is also kept gzip-compressed, compressed once here
 * rather than per request. */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zlib.h>
#include "kpi_cache.h"
#include "clock.h"
#include "generation.h"

#define KPI_CACHE_BUCKETS      4096
#define KPI_CACHE_MAX_ENTRIES  20000
#define KPI_CACHE_MAX_COMPS    (1 << 20)      /* ~90 MB of components at most */
#define KPI_GENERATION_FRESH_MS 20            /* a generation read this recently is taken as it is */
#define KPI_ANSWER_BUCKETS     1024
#define KPI_ANSWER_MAX         2048           /* answers kept */
#define KPI_ANSWER_MAX_BYTES   (64u << 20)    /* and their text at most */
#define KPI_FLIGHTS            2048           /* computations tracked at once for sharing */
#define KPI_FLIGHT_BUCKETS     512
#define KPI_FLIGHT_WAIT_MS     30000          /* longest wait for another request's computation */
#define KPI_ANSWER_GZIP_MIN    1024           /* answers this long are also kept gzip-compressed */
#define KPI_CHANGES_MAX        4096           /* store changes remembered; more drop the oldest half */

/* A whole answer (JSON text) for one request and scope. */
typedef struct answer_entry {
    char *key;                   /* ids|from|to|by|scope store codes */
    unsigned hash;
    char *text;
    size_t len;
    gzip_piece piece;            /* the same text compressed (data NULL: none), for clients that take gzip */
    unsigned long long generation;   /* computed at; serves later ones while no change names its stores */
    int *scope, nscope;          /* the directory indices of its stores, ascending */
    struct answer_entry *hnext, *prev, *next;
} answer_entry;

/* A computation of components in progress (single flight: one request
 * computes a key, the others asking for it at the same time wait for it). */
typedef struct flight {
    char key[KPI_CACHE_KEY_LEN];
    unsigned long long generation;
    unsigned hash;
    int next;                    /* 1-based index: the next in its bucket, or in the free list; 0: none */
} flight;

struct kpi_engine {
    pthread_mutex_t mu;
    pthread_cond_t flight_done;  /* broadcast when a flight ends */
    flight flights[KPI_FLIGHTS];
    int flight_bucket[KPI_FLIGHT_BUCKETS];   /* 1-based heads of the chains of flights in progress */
    int flight_free;             /* 1-based head of the free ones */
    const plugin_registry *plugins;   /* the app's, which define the settings */
    kpi_snapshot *snap;          /* current generation's directory and settings */
    cache_entry *buckets[KPI_CACHE_BUCKETS];
    cache_entry *lru_head, *lru_tail;
    int nentries;
    long ncomps;
    long long hits, misses;
    /* when k->snap's generation was last read (CLOCK_MONOTONIC ms), and the
     * count of this process's changes then */
    long long snap_read_ms;
    unsigned long long snap_read_changes;
    /* the stores changed since the cache was last cleared, in generation
     * order; nothing cached is older than cleared_generation */
    store_change changes[KPI_CHANGES_MAX];
    int nchanges;
    unsigned long long cleared_generation;
    answer_entry *answer_buckets[KPI_ANSWER_BUCKETS];
    answer_entry *answers_head, *answers_tail;
    int nanswers;
    size_t answer_bytes;
};

/* --- the component cache --- */

static unsigned hash_str(const char *s)
{
    unsigned h = 2166136261u;
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

static void entry_unref_locked(cache_entry *e)
{
    if (--e->refs == 0) {
        free(e->comps);
        free(e);
    }
}

static void cache_unlink_locked(kpi_engine *k, cache_entry *e)
{
    cache_entry **pp = &k->buckets[e->hash % KPI_CACHE_BUCKETS];
    while (*pp && *pp != e) pp = &(*pp)->hnext;
    if (*pp) *pp = e->hnext;
    if (e->prev) e->prev->next = e->next;
    else k->lru_head = e->next;
    if (e->next) e->next->prev = e->prev;
    else k->lru_tail = e->prev;
    e->prev = e->next = e->hnext = NULL;
    e->cached = false;
    k->nentries--;
    k->ncomps -= e->ncomps;
    entry_unref_locked(e);
}

static void cache_clear_locked(kpi_engine *k)
{
    while (k->lru_head) cache_unlink_locked(k, k->lru_head);
}

/* --- the store changes --- */

/* The index of the first change after generation g. */
static int changes_after_locked(const kpi_engine *k, unsigned long long g)
{
    int lo = 0, hi = k->nchanges;
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        if (k->changes[mid].generation <= g) lo = mid + 1;
        else hi = mid;
    }
    return lo;
}

/* Whether a change after generation g names a store of need (directory
 * indices; NULL: any store). */
static bool changed_since_locked(const kpi_engine *k, unsigned long long g, const bool *need)
{
    for (int i = changes_after_locked(k, g); i < k->nchanges; i++)
        if (!need || need[k->changes[i].store]) return true;
    return false;
}

static int cmp_int(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

/* Whether a change after the answer's generation names a store of its scope. */
static bool answer_changed_locked(const kpi_engine *k, const answer_entry *e)
{
    for (int i = changes_after_locked(k, e->generation); i < k->nchanges; i++)
        if (bsearch(&k->changes[i].store, e->scope, (size_t)e->nscope, sizeof *e->scope, cmp_int)) return true;
    return false;
}

static void answer_unlink_locked(kpi_engine *k, answer_entry *e);
static void answers_clear_locked(kpi_engine *k);
static void answer_free(answer_entry *e);

/* Everything changed at generation gen: nothing cached serves it. */
static void clear_all_locked(kpi_engine *k, unsigned long long gen)
{
    cache_clear_locked(k);
    answers_clear_locked(k);
    k->nchanges = 0;
    k->cleared_generation = gen;
}

/* Forget the older half of the changes, and what was cached before them. */
static void changes_trim_locked(kpi_engine *k)
{
    unsigned long long floor = k->changes[k->nchanges / 2].generation;
    for (cache_entry *e = k->lru_head, *next; e; e = next) {
        next = e->next;
        if (e->generation < floor) cache_unlink_locked(k, e);
    }
    for (answer_entry *e = k->answers_head, *next; e; e = next) {
        next = e->next;
        if (e->generation < floor) answer_unlink_locked(k, e);
    }
    int keep = changes_after_locked(k, floor);
    memmove(k->changes, k->changes + keep, (size_t)(k->nchanges - keep) * sizeof *k->changes);
    k->nchanges -= keep;
    k->cleared_generation = floor;
}

/* Add the changes v[0..n) of generations after the cached snapshot's;
 * clears everything when they do not fit even after a trim. */
static void changes_add_locked(kpi_engine *k, const store_change *v, int n, unsigned long long gen)
{
    int first = 0;
    while (first < n && v[first].generation <= k->snap->generation) first++;
    n -= first;
    if (k->nchanges + n > KPI_CHANGES_MAX && k->nchanges > 0) changes_trim_locked(k);
    if (k->nchanges + n > KPI_CHANGES_MAX) {
        clear_all_locked(k, gen);
        return;
    }
    memcpy(k->changes + k->nchanges, v + first, (size_t)n * sizeof *v);
    k->nchanges += n;
}

static cache_entry *cache_get_locked(kpi_engine *k, const char *key)
{
    unsigned h = hash_str(key);
    for (cache_entry *e = k->buckets[h % KPI_CACHE_BUCKETS]; e; e = e->hnext) {
        if (e->hash != h || strcmp(e->key, key) != 0) continue;
        if (e != k->lru_head) {        /* move to the front */
            e->prev->next = e->next;
            if (e->next) e->next->prev = e->prev;
            else k->lru_tail = e->prev;
            e->prev = NULL;
            e->next = k->lru_head;
            k->lru_head->prev = e;
            k->lru_head = e;
        }
        e->refs++;
        return e;
    }
    return NULL;
}

static void cache_put_locked(kpi_engine *k, cache_entry *e)
{
    e->hash = hash_str(e->key);
    e->cached = true;
    e->refs++;
    e->hnext = k->buckets[e->hash % KPI_CACHE_BUCKETS];
    k->buckets[e->hash % KPI_CACHE_BUCKETS] = e;
    e->prev = NULL;
    e->next = k->lru_head;
    if (k->lru_head) k->lru_head->prev = e;
    k->lru_head = e;
    if (!k->lru_tail) k->lru_tail = e;
    k->nentries++;
    k->ncomps += e->ncomps;
    while ((k->nentries > KPI_CACHE_MAX_ENTRIES || k->ncomps > KPI_CACHE_MAX_COMPS) && k->lru_tail != e)
        cache_unlink_locked(k, k->lru_tail);
}

static void answer_unlink_locked(kpi_engine *k, answer_entry *e)
{
    answer_entry **pp = &k->answer_buckets[e->hash % KPI_ANSWER_BUCKETS];
    while (*pp && *pp != e) pp = &(*pp)->hnext;
    if (*pp) *pp = e->hnext;
    if (e->prev) e->prev->next = e->next;
    else k->answers_head = e->next;
    if (e->next) e->next->prev = e->prev;
    else k->answers_tail = e->prev;
    k->nanswers--;
    k->answer_bytes -= e->len + e->piece.len;
    answer_free(e);
}

static void answers_clear_locked(kpi_engine *k)
{
    while (k->answers_head) answer_unlink_locked(k, k->answers_head);
}

/* A copy of e in the form asked (see kpi_answers_get), under k->mu. */
static char *answer_copy_locked(const answer_entry *e, int want, size_t *len, int *got, gzip_piece *piece)
{
    char *copy = NULL;
    if (want == KPI_FORM_PIECE && e->piece.data) {
        if ((copy = malloc(e->piece.len))) {
            memcpy(copy, e->piece.data, e->piece.len);
            *len = e->piece.len;
            *got = KPI_FORM_PIECE;
            *piece = e->piece;
            piece->data = (unsigned char *)copy;
        }
    } else if (want == KPI_FORM_GZIP && e->piece.data) {
        gzip_join j;
        gzip_join_begin(&j);
        gzip_join_piece(&j, &e->piece);
        unsigned char *gz = NULL;
        if (gzip_join_finish(&j, &gz, len) == 0) {
            copy = (char *)gz;
            *got = KPI_FORM_GZIP;
        }
    } else if ((copy = malloc(e->len + 1))) {
        memcpy(copy, e->text, e->len + 1);
        *len = e->len;
    }
    return copy;
}

char *kpi_answers_get(kpi_engine *k, unsigned long long gen, const char *key, int want, size_t *len, int *got,
                      gzip_piece *piece)
{
    *got = KPI_FORM_TEXT;
    unsigned h = hash_str(key);
    char *copy = NULL;
    pthread_mutex_lock(&k->mu);
    if (gen >= k->cleared_generation)
        for (answer_entry *e = k->answer_buckets[h % KPI_ANSWER_BUCKETS]; e; e = e->hnext) {
            if (e->hash != h || strcmp(e->key, key) != 0) continue;
            /* an older answer serves while no later change names its stores */
            bool serves = e->generation == gen ||
                          (e->generation < gen && k->snap && k->snap->generation == gen && !answer_changed_locked(k, e));
            if (!serves) break;
            e->generation = gen;
            if (e != k->answers_head) {
                e->prev->next = e->next;
                if (e->next) e->next->prev = e->prev;
                else k->answers_tail = e->prev;
                e->prev = NULL;
                e->next = k->answers_head;
                k->answers_head->prev = e;
                k->answers_head = e;
            }
            copy = answer_copy_locked(e, want, len, got, piece);
            break;
        }
    pthread_mutex_unlock(&k->mu);
    return copy;
}

static void answer_free(answer_entry *e)
{
    free(e->key);
    free(e->text);
    free(e->scope);
    gzip_piece_free(&e->piece);
    free(e);
}

void kpi_answers_put(kpi_engine *k, unsigned long long gen, const char *key, const char *const *stores, int nstores,
                     const char *text, size_t len)
{
    if (len > KPI_ANSWER_MAX_BYTES / 4) return;
    answer_entry *e = calloc(1, sizeof *e);
    if (!e) return;
    e->key = strdup(key);
    e->text = malloc(len + 1);
    e->scope = malloc((size_t)(nstores > 0 ? nstores : 1) * sizeof *e->scope);
    if (!e->key || !e->text || !e->scope) {
        answer_free(e);
        return;
    }
    e->generation = gen;
    memcpy(e->text, text, len + 1);
    e->len = len;
    /* answers worth compressing are compressed once, here, not per request */
    if (len >= KPI_ANSWER_GZIP_MIN && gzip_piece_make(text, len, &e->piece) != 0) memset(&e->piece, 0, sizeof e->piece);
    e->hash = hash_str(key);
    pthread_mutex_lock(&k->mu);
    /* its stores as indices of the directory in force since the last clear */
    bool keep = k->snap && gen >= k->cleared_generation && gen <= k->snap->generation;
    for (int i = 0; keep && i < nstores; i++) {
        int st = kpi_dir_find(k->snap->stores, k->snap->nstores, stores[i]);
        if (st >= 0) e->scope[e->nscope++] = st;
    }
    if (keep) qsort(e->scope, (size_t)e->nscope, sizeof *e->scope, cmp_int);
    for (answer_entry *o = k->answer_buckets[e->hash % KPI_ANSWER_BUCKETS]; o && keep; o = o->hnext) {
        if (o->hash != e->hash || strcmp(o->key, e->key) != 0) continue;
        if (o->generation >= gen) keep = false;     /* one as new is kept already */
        else answer_unlink_locked(k, o);
        break;
    }
    if (!keep) {
        pthread_mutex_unlock(&k->mu);
        answer_free(e);
        return;
    }
    e->hnext = k->answer_buckets[e->hash % KPI_ANSWER_BUCKETS];
    k->answer_buckets[e->hash % KPI_ANSWER_BUCKETS] = e;
    e->next = k->answers_head;
    if (k->answers_head) k->answers_head->prev = e;
    k->answers_head = e;
    if (!k->answers_tail) k->answers_tail = e;
    k->nanswers++;
    k->answer_bytes += len + e->piece.len;
    while ((k->nanswers > KPI_ANSWER_MAX || k->answer_bytes > KPI_ANSWER_MAX_BYTES) && k->answers_tail != e)
        answer_unlink_locked(k, k->answers_tail);
    pthread_mutex_unlock(&k->mu);
}

int kpi_answers_stale(kpi_engine *k, char **keys, int max)
{
    int n = 0;
    pthread_mutex_lock(&k->mu);
    for (answer_entry *e = k->answers_head; e && n < max && k->snap; e = e->next) {
        if (e->generation >= k->snap->generation || e->generation < k->cleared_generation) continue;
        if (!answer_changed_locked(k, e))
            e->generation = k->snap->generation;   /* no change since names its stores: current (the next look is short) */
        else if ((keys[n] = strdup(e->key)))
            n++;
    }
    pthread_mutex_unlock(&k->mu);
    return n;
}

/* --- snapshots --- */

kpi_snapshot *kpi_snapshot_fresh(kpi_engine *k)
{
    kpi_snapshot *s = NULL;
    unsigned long long changes = data_changes_here();
    long long now = clock_ms_whole();
    pthread_mutex_lock(&k->mu);
    if (k->snap && k->snap_read_changes == changes && now - k->snap_read_ms < KPI_GENERATION_FRESH_MS) {
        s = k->snap;
        s->refs++;
    }
    pthread_mutex_unlock(&k->mu);
    return s;
}

kpi_snapshot *kpi_snapshot_get(kpi_engine *k, db_conn *c, char *err, size_t errlen)
{
    unsigned long long changes = data_changes_here();
    long long read_ms = clock_ms_whole();
    data_generations g;
    if (data_generations_read(c, &g, err, errlen) != 0) return NULL;
    unsigned long long gen = g.data;
    pthread_mutex_lock(&k->mu);
    if (k->snap && k->snap->generation == gen) {
        kpi_snapshot *s = k->snap;
        s->refs++;
        if (read_ms >= k->snap_read_ms) {
            k->snap_read_ms = read_ms;
            k->snap_read_changes = changes;
        }
        pthread_mutex_unlock(&k->mu);
        return s;
    }
    kpi_snapshot *prev = k->snap;   /* its directory may serve again */
    if (prev) prev->refs++;
    pthread_mutex_unlock(&k->mu);
    kpi_snapshot *fresh = kpi_snapshot_load(c, k->plugins, &g, prev, err, errlen);
    /* the stores the generations since prev's changed, when each named them */
    store_change *named = NULL;
    int nnamed = 0;
    unsigned long long since = prev ? prev->generation : 0;
    bool partial = fresh && prev && prev->directory_generation == g.directory && g.directory > 0 &&
                   kpi_changes_read(c, fresh, since, gen, &named, &nnamed) == 0;
    if (prev) kpi_snapshot_release(k, prev);
    if (!fresh) return NULL;
    pthread_mutex_lock(&k->mu);
    if (!k->snap || k->snap->generation < gen) {
        if (partial && k->snap && k->snap->generation >= since &&
            k->snap->directory_generation == g.directory)
            changes_add_locked(k, named, nnamed, gen);
        else
            clear_all_locked(k, gen);
        if (k->snap && --k->snap->refs == 0) kpi_snapshot_free(k->snap);
        k->snap = fresh;
        fresh->refs = 1;
        k->snap_read_ms = read_ms;
        k->snap_read_changes = changes;
    } else if (k->snap->generation == gen) {
        kpi_snapshot_free(fresh);
        fresh = k->snap;
    } else {
        /* this connection saw an older generation (a lagging replica):
         * answer from its own snapshot, leave the shared one alone */
        fresh->refs = 0;
    }
    fresh->refs++;
    pthread_mutex_unlock(&k->mu);
    free(named);
    return fresh;
}

void kpi_snapshot_release(kpi_engine *k, kpi_snapshot *s)
{
    pthread_mutex_lock(&k->mu);
    if (--s->refs == 0) kpi_snapshot_free(s);
    pthread_mutex_unlock(&k->mu);
}

/* --- components --- */

void kpi_cache_key(char key[KPI_CACHE_KEY_LEN], const char *id, const char *from, const char *to, bool per_insurer)
{
    snprintf(key, KPI_CACHE_KEY_LEN, "%s|%s|%s|%d", id, from, to, per_insurer ? 1 : 0);
}

cache_entry *kpi_cache_lookup(kpi_engine *k, const kpi_snapshot *snap, const char *key, const bool *need)
{
    pthread_mutex_lock(&k->mu);
    cache_entry *e = snap == k->snap ? cache_get_locked(k, key) : NULL;
    if (e && changed_since_locked(k, e->generation, need)) {
        entry_unref_locked(e);
        e = NULL;
    }
    if (e) k->hits++;
    else k->misses++;
    pthread_mutex_unlock(&k->mu);
    return e;
}

cache_entry *kpi_cache_put(kpi_engine *k, const kpi_snapshot *snap, unsigned long long seen, const char *key,
                           kpi_component *comps, int ncomps)
{
    cache_entry *e = calloc(1, sizeof *e);
    if (!e) return NULL;
    snprintf(e->key, sizeof e->key, "%s", key);
    e->comps = comps;
    e->ncomps = ncomps;
    e->refs = 1;
    e->generation = seen < snap->generation ? seen : snap->generation;
    pthread_mutex_lock(&k->mu);
    if (snap == k->snap && e->generation >= k->cleared_generation) {
        cache_entry *other = cache_get_locked(k, key);
        if (other && other->generation >= e->generation) {   /* computed twice at once: keep the first */
            entry_unref_locked(e);
            e = other;
        } else {
            if (other) {              /* an older one: this replaces it */
                cache_unlink_locked(k, other);
                entry_unref_locked(other);
            }
            cache_put_locked(k, e);
        }
    }
    pthread_mutex_unlock(&k->mu);
    return e;
}

cache_entry *kpi_cache_base(kpi_engine *k, const kpi_snapshot *snap, const char *key, bool *stale, int *nstale)
{
    *nstale = 0;
    pthread_mutex_lock(&k->mu);
    cache_entry *e = snap == k->snap ? cache_get_locked(k, key) : NULL;
    if (e) {
        memset(stale, 0, (size_t)snap->nstores * sizeof *stale);
        for (int i = changes_after_locked(k, e->generation); i < k->nchanges; i++)
            if (!stale[k->changes[i].store]) {
                stale[k->changes[i].store] = true;
                (*nstale)++;
            }
    }
    pthread_mutex_unlock(&k->mu);
    return e;
}

void kpi_cache_release(kpi_engine *k, cache_entry *e)
{
    if (!e) return;
    pthread_mutex_lock(&k->mu);
    entry_unref_locked(e);
    pthread_mutex_unlock(&k->mu);
}

/* --- lifetime --- */

kpi_engine *kpi_cache_new(const plugin_registry *plugins)
{
    kpi_engine *k = calloc(1, sizeof *k);
    if (!k || pthread_mutex_init(&k->mu, NULL) != 0) {
        free(k);
        return NULL;
    }
    pthread_condattr_t ca;
    bool cv = pthread_condattr_init(&ca) == 0;
    if (cv) {
        cv = pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) == 0 && pthread_cond_init(&k->flight_done, &ca) == 0;
        pthread_condattr_destroy(&ca);
    }
    if (!cv) {
        pthread_mutex_destroy(&k->mu);
        free(k);
        return NULL;
    }
    for (int i = 0; i < KPI_FLIGHTS; i++) k->flights[i].next = i + 2 <= KPI_FLIGHTS ? i + 2 : 0;
    k->flight_free = 1;
    k->plugins = plugins;
    return k;
}

void kpi_cache_free(kpi_engine *k)
{
    if (!k) return;
    cache_clear_locked(k);
    answers_clear_locked(k);
    if (k->snap && --k->snap->refs == 0) kpi_snapshot_free(k->snap);
    pthread_cond_destroy(&k->flight_done);
    pthread_mutex_destroy(&k->mu);
    free(k);
}

/* --- single flight ---
 * The flights in progress are chained by the hash of their key; a claim is
 * the 1-based index of its flight. */

static int flight_find_locked(const kpi_engine *k, unsigned long long gen, const char *key, unsigned h)
{
    for (int i = k->flight_bucket[h % KPI_FLIGHT_BUCKETS]; i; i = k->flights[i - 1].next) {
        const flight *f = &k->flights[i - 1];
        if (f->hash == h && f->generation == gen && strcmp(f->key, key) == 0) return i;
    }
    return 0;
}

/* A new flight of key: its claim, or 0 when every one is taken. */
static int flight_add_locked(kpi_engine *k, unsigned long long gen, const char *key, unsigned h)
{
    int i = k->flight_free;
    if (!i) return 0;
    flight *f = &k->flights[i - 1];
    k->flight_free = f->next;
    snprintf(f->key, sizeof f->key, "%s", key);
    f->generation = gen;
    f->hash = h;
    f->next = k->flight_bucket[h % KPI_FLIGHT_BUCKETS];
    k->flight_bucket[h % KPI_FLIGHT_BUCKETS] = i;
    return i;
}

int kpi_cache_claim(kpi_engine *k, const kpi_snapshot *snap, const char *key)
{
    struct timespec until = clock_timespec_after(KPI_FLIGHT_WAIT_MS);
    unsigned h = hash_str(key);
    pthread_mutex_lock(&k->mu);
    int rc;
    if (!flight_find_locked(k, snap->generation, key, h)) {
        /* no one computes it: the caller does (tracked, when a flight is free) */
        rc = flight_add_locked(k, snap->generation, key, h);
    } else {
        /* wait for the one computing it; a flight that ends (or a wait past
         * the bound) sends the caller back to the cache */
        bool waited_out = pthread_cond_timedwait(&k->flight_done, &k->mu, &until) != 0;
        rc = waited_out ? 0 : -1;
    }
    pthread_mutex_unlock(&k->mu);
    return rc;
}

int kpi_cache_claim_missing(kpi_engine *k, const kpi_snapshot *snap, int total,
                            void (*key_of)(const void *ctx, int i, char key[KPI_CACHE_KEY_LEN]), const void *ctx,
                            const bool *need, int *mine, int *claims, int *found, int *theirs)
{
    int nmine = 0;
    *found = *theirs = 0;
    pthread_mutex_lock(&k->mu);
    for (int i = 0; i < total && snap == k->snap; i++) {
        char key[KPI_CACHE_KEY_LEN];
        key_of(ctx, i, key);
        cache_entry *e = cache_get_locked(k, key);
        bool fresh = e && !changed_since_locked(k, e->generation, need);
        if (e) entry_unref_locked(e);
        if (fresh) {
            (*found)++;
            continue;
        }
        unsigned h = hash_str(key);
        if (flight_find_locked(k, snap->generation, key, h)) {
            (*theirs)++;
            continue;
        }
        mine[nmine] = i;
        claims[nmine++] = flight_add_locked(k, snap->generation, key, h);
    }
    pthread_mutex_unlock(&k->mu);
    return nmine;
}

void kpi_cache_done(kpi_engine *k, int claim)
{
    if (claim <= 0 || claim > KPI_FLIGHTS) return;
    pthread_mutex_lock(&k->mu);
    flight *f = &k->flights[claim - 1];
    for (int *at = &k->flight_bucket[f->hash % KPI_FLIGHT_BUCKETS]; *at; at = &k->flights[*at - 1].next) {
        if (*at == claim) {
            *at = f->next;
            f->next = k->flight_free;
            k->flight_free = claim;
            break;
        }
    }
    pthread_cond_broadcast(&k->flight_done);
    pthread_mutex_unlock(&k->mu);
}
