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
 * plugin asked for those alone, kpi_compute.c) into a new entry. A generation read less
 * than KPI_GENERATION_FRESH_MS ago is taken as it is, unless this process
 * has committed a change since (data_changed_here): under load, one read
 * serves many requests; another instance's change is seen within that
 * time. The settings are reloaded with it, and the directory (stores'
 * names and regions, regions, insurers) when the directory generation moved
 * too (only imports of those entities move it), else kept from the previous
 * snapshot: together, the snapshot.
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
#define KPI_CHANGES_READ_MAX   1024           /* rows of data_change_stores read at one new generation */

static const char SQL_CHANGES[] =
    "SELECT generation, store_code FROM data_change_stores WHERE generation > ? AND generation <= ?"
    " ORDER BY generation LIMIT 1025";

/* A store a generation changed (a directory index of the snapshot, whose
 * directory stays the same as long as changes are kept). */
typedef struct store_change {
    unsigned long long generation;
    int store;
} store_change;

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

/* --- the directory of stores, regions, insurers (per generation) --- */

static void snapshot_free(kpi_snapshot *s)
{
    if (!s) return;
    for (int i = 0; i < s->nstores; i++) free(s->stores[i].name);
    for (int i = 0; i < s->nregions; i++) free(s->regions[i].name);
    for (int i = 0; i < s->ninsurers; i++) free(s->insurers[i].name);
    free(s->stores);
    free(s->regions);
    free(s->insurers);
    kpi_settings_free(s->settings);
    free(s->scope_codes);
    free(s);
}

int kpi_dir_find(const dir_entry *v, int n, const char *code)
{
    int lo = 0, hi = n - 1;
    while (lo <= hi) {
        int mid = (lo + hi) / 2;
        int c = strcmp(v[mid].code, code);
        if (c == 0) return mid;
        if (c < 0) lo = mid + 1;
        else hi = mid - 1;
    }
    return -1;
}

/* Fill *out with the rows of sql: code, name[, region code] (sorted by code,
 * binary); keep: NULL, or where the result goes (then the caller frees it). */
static int dir_load(db_conn *c, const char *sql, dir_entry **out, int *n, db_result **keep, char *err, size_t errlen)
{
    db_result *res = NULL;
    *out = NULL;
    *n = 0;
    if (db_query(c, sql, NULL, 0, &res, err, errlen) != 0) return -1;
    dir_entry *v = res->nrows ? calloc((size_t)res->nrows, sizeof *v) : NULL;
    if (res->nrows && !v) goto oom;
    for (int i = 0; i < res->nrows; i++) {
        snprintf(v[i].code, sizeof v[i].code, "%s", db_cell(res, i, 0) ? db_cell(res, i, 0) : "");
        v[i].name = strdup(db_cell(res, i, 1) ? db_cell(res, i, 1) : "");
        v[i].region = -1;
        if (!v[i].name) {
            for (int k = 0; k < i; k++) free(v[k].name);
            free(v);
            goto oom;
        }
    }
    *out = v;
    *n = res->nrows;
    if (keep) *keep = res;
    else db_result_free(res);
    return 0;
oom:
    db_result_free(res);
    snprintf(err, errlen, "out of memory");
    return -1;
}

static const char SQL_DIR_STORES[] = "SELECT store_code, name, region_code FROM stores ORDER BY store_code";
static const char SQL_DIR_REGIONS[] = "SELECT region_code, name FROM regions ORDER BY region_code";
static const char SQL_DIR_INSURERS[] = "SELECT insurer_code, name FROM insurers ORDER BY insurer_code";

/* A copy of v[0..n) (names duplicated); NULL (and *ok false) when out of memory. */
static dir_entry *dir_copy(const dir_entry *v, int n, bool *ok)
{
    if (n == 0) return NULL;
    dir_entry *w = calloc((size_t)n, sizeof *w);
    if (!w) {
        *ok = false;
        return NULL;
    }
    for (int i = 0; i < n; i++) {
        w[i] = v[i];
        if (!(w[i].name = strdup(v[i].name))) {
            for (int k = 0; k < i; k++) free(w[k].name);
            free(w);
            *ok = false;
            return NULL;
        }
    }
    return w;
}

/* s's directory read from the database (4 statements' worth, with the settings). */
static int directory_read(db_conn *c, kpi_snapshot *s, char *err, size_t errlen)
{
    db_result *st = NULL;
    if (dir_load(c, SQL_DIR_STORES, &s->stores, &s->nstores, &st, err, errlen) != 0 ||
        dir_load(c, SQL_DIR_REGIONS, &s->regions, &s->nregions, NULL, err, errlen) != 0 ||
        dir_load(c, SQL_DIR_INSURERS, &s->insurers, &s->ninsurers, NULL, err, errlen) != 0) {
        db_result_free(st);
        return -1;
    }
    for (int i = 0; i < st->nrows && i < s->nstores; i++) {
        int k = kpi_dir_find(s->stores, s->nstores, db_cell(st, i, 0));
        if (k >= 0)
            s->stores[k].region = kpi_dir_find(s->regions, s->nregions, db_cell(st, i, 2) ? db_cell(st, i, 2) : "");
    }
    db_result_free(st);
    return 0;
}

/* s's directory copied from prev's (the same directory generation). */
static int directory_copy(kpi_snapshot *s, const kpi_snapshot *prev, char *err, size_t errlen)
{
    bool ok = true;
    s->stores = dir_copy(prev->stores, prev->nstores, &ok);
    s->nstores = ok ? prev->nstores : 0;
    s->regions = dir_copy(prev->regions, prev->nregions, &ok);
    s->nregions = ok ? prev->nregions : 0;
    s->insurers = dir_copy(prev->insurers, prev->ninsurers, &ok);
    s->ninsurers = ok ? prev->ninsurers : 0;
    if (!ok) snprintf(err, errlen, "out of memory");
    return ok ? 0 : -1;
}

/* The snapshot of generations g: its directory copied from prev when prev
 * (NULL: none) holds the same directory generation, else read; its
 * settings read. */
static kpi_snapshot *snapshot_load(db_conn *c, const plugin_registry *plugins, const data_generations *g,
                                   const kpi_snapshot *prev, char *err, size_t errlen)
{
    kpi_snapshot *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    s->generation = g->data;
    s->budgets_generation = g->budgets;
    s->directory_generation = g->directory;
    bool same_directory = prev && g->directory > 0 && prev->directory_generation == g->directory;
    if ((same_directory ? directory_copy(s, prev, err, errlen) : directory_read(c, s, err, errlen)) != 0 ||
        kpi_settings_load(c, plugins, &s->settings, err, errlen) != 0) {
        snapshot_free(s);
        return NULL;
    }
    s->scope_codes = calloc((size_t)(2 * s->nstores + s->nregions + 1), sizeof *s->scope_codes);
    if (!s->scope_codes) {
        snprintf(err, errlen, "out of memory");
        snapshot_free(s);
        return NULL;
    }
    const char **codes = s->scope_codes;
    for (int i = 0; i < s->nstores; i++) {
        codes[i] = s->stores[i].code;
        codes[s->nstores + i] = s->stores[i].region >= 0 ? s->regions[s->stores[i].region].code : NULL;
    }
    for (int i = 0; i < s->nregions; i++) codes[2 * s->nstores + i] = s->regions[i].code;
    s->scope = (scope_dir){ s->nstores, codes, codes + s->nstores, s->nregions, codes + 2 * s->nstores };
    return s;
}

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

/* The changes of the generations (from, to] into *out (malloc'd, *n of
 * them; store: the index in s's directory): 0 when every one of those
 * generations named its stores, else -1 (also when they cannot be read, or
 * are too many): then everything changed. */
static int changes_read(db_conn *c, const kpi_snapshot *s, unsigned long long from, unsigned long long to,
                        store_change **out, int *n)
{
    *out = NULL;
    *n = 0;
    if (to <= from || to - from > KPI_CHANGES_READ_MAX) return -1;
    db_val p[2] = { DB_INT(from), DB_INT(to) };
    db_result *res = NULL;
    char err[256];
    if (db_query(c, SQL_CHANGES, p, 2, &res, err, sizeof err) != 0) return -1;
    int nrows = res->nrows;
    store_change *v = nrows > 0 && nrows <= KPI_CHANGES_READ_MAX ? malloc((size_t)nrows * sizeof *v) : NULL;
    int rc = v ? 0 : -1;
    unsigned long long generations = 0, last = 0;
    for (int r = 0; rc == 0 && r < nrows; r++) {
        unsigned long long g = (unsigned long long)db_cell_int(res, r, 0);
        const char *code = db_cell(res, r, 1);
        int st = code ? kpi_dir_find(s->stores, s->nstores, code) : -1;
        if (st < 0) rc = -1;           /* a store the directory lacks: start over */
        if (g != last) {
            generations++;
            last = g;
        }
        v[r] = (store_change){ g, st };
    }
    db_result_free(res);
    if (rc == 0 && generations != to - from) rc = -1;
    if (rc != 0) {
        free(v);
        return -1;
    }
    *out = v;
    *n = nrows;
    return 0;
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
    kpi_snapshot *fresh = snapshot_load(c, k->plugins, &g, prev, err, errlen);
    /* the stores the generations since prev's changed, when each named them */
    store_change *named = NULL;
    int nnamed = 0;
    unsigned long long since = prev ? prev->generation : 0;
    bool partial = fresh && prev && prev->directory_generation == g.directory && g.directory > 0 &&
                   changes_read(c, fresh, since, gen, &named, &nnamed) == 0;
    if (prev) kpi_snapshot_release(k, prev);
    if (!fresh) return NULL;
    pthread_mutex_lock(&k->mu);
    if (!k->snap || k->snap->generation < gen) {
        if (partial && k->snap && k->snap->generation >= since &&
            k->snap->directory_generation == g.directory)
            changes_add_locked(k, named, nnamed, gen);
        else
            clear_all_locked(k, gen);
        if (k->snap && --k->snap->refs == 0) snapshot_free(k->snap);
        k->snap = fresh;
        fresh->refs = 1;
        k->snap_read_ms = read_ms;
        k->snap_read_changes = changes;
    } else if (k->snap->generation == gen) {
        snapshot_free(fresh);
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
    if (--s->refs == 0) snapshot_free(s);
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

cache_entry *kpi_cache_put(kpi_engine *k, const kpi_snapshot *snap, const char *key, kpi_component *comps,
                           int ncomps)
{
    cache_entry *e = calloc(1, sizeof *e);
    if (!e) return NULL;
    snprintf(e->key, sizeof e->key, "%s", key);
    e->comps = comps;
    e->ncomps = ncomps;
    e->refs = 1;
    e->generation = snap->generation;
    pthread_mutex_lock(&k->mu);
    if (snap == k->snap) {
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
    if (k->snap && --k->snap->refs == 0) snapshot_free(k->snap);
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
