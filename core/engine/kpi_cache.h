/* kpi_cache: what the KPI engine (kpi.c) keeps between requests, and only
 * kpi.c includes this: the snapshot of one data generation (the directory of
 * stores, regions and insurers, and the settings in force), the cache of
 * per-store components per (KPI, period), and the cache of whole answers
 * (JSON text, and its gzip copy for long ones). A new generation clears it
 * unless it named the stores it changed: then what is cached serves the
 * queries none of those stores is in, and the rest recompute those stores
 * alone (see kpi_cache.c). */
#ifndef FS_KPI_CACHE_H
#define FS_KPI_CACHE_H
#include <stdbool.h>
#include <stddef.h>
#include "auth.h"
#include "db.h"
#include "generation.h"
#include "gzip_join.h"
#include "kpi_form.h"
#include "plugins.h"
#include "settings.h"

/* The length of a component key: "id|from|to|per_insurer". */
#define KPI_CACHE_KEY_LEN 96

/* --- the snapshot of one generation --- */

typedef struct dir_entry {
    char code[33];
    char *name;
    int region;                 /* stores: index into regions */
} dir_entry;

typedef struct kpi_snapshot {
    unsigned long long generation;
    unsigned long long budgets_generation;   /* read with it: what the targets read is kept for */
    unsigned long long directory_generation; /* read with it: the directory below is of this one */
    int refs;
    dir_entry *stores, *regions, *insurers;     /* each sorted by code (binary) */
    int nstores, nregions, ninsurers;
    kpi_settings *settings;
    scope_dir scope;             /* the stores' and regions' codes for scope_resolve_dir */
    const char **scope_codes;    /* its arrays: store codes, their regions, region codes */
} kpi_snapshot;

/* The index of code in v (sorted by code), or -1. */
int kpi_dir_find(const dir_entry *v, int n, const char *code);

/* --- reading a snapshot (kpi_snapshot.c) --- */

/* The snapshot of generations g (refs 0): its directory copied from prev
 * when prev (NULL: none) holds the same directory generation, else read;
 * its settings read. NULL with err. */
kpi_snapshot *kpi_snapshot_load(db_conn *c, const plugin_registry *plugins, const data_generations *g,
                                const kpi_snapshot *prev, char *err, size_t errlen);
void kpi_snapshot_free(kpi_snapshot *s);

/* A store a generation changed (an index of the snapshot's directory, which
 * stays the same as long as changes are kept). */
typedef struct store_change {
    unsigned long long generation;
    int store;
} store_change;
/* The changes of the generations (from, to] into *out (malloc'd, *n of
 * them; store: the index in s's directory): 0 when every one of those
 * generations named its stores, else -1 (also when they cannot be read, or
 * are too many): then everything changed. */
int kpi_changes_read(db_conn *c, const kpi_snapshot *s, unsigned long long from, unsigned long long to,
                     store_change **out, int *n);

/* --- the engine's state --- */

typedef struct kpi_engine kpi_engine;

/* A new, empty state for the KPIs and settings of plugins; NULL when out of memory. */
kpi_engine *kpi_cache_new(const plugin_registry *plugins);
void kpi_cache_free(kpi_engine *k);

/* The current snapshot when its generation was read less than
 * KPI_GENERATION_FRESH_MS ago and nothing changed in this process since (a
 * reference to release), else NULL: then read it with kpi_snapshot_get. */
kpi_snapshot *kpi_snapshot_fresh(kpi_engine *k);
/* The snapshot of the database's current generation on c (a reference the
 * caller releases with kpi_snapshot_release); a newer generation than the
 * cache's replaces it and clears the components. NULL with err when the
 * database fails. */
kpi_snapshot *kpi_snapshot_get(kpi_engine *k, db_conn *c, char *err, size_t errlen);
void kpi_snapshot_release(kpi_engine *k, kpi_snapshot *s);

/* --- components --- */

typedef struct cache_entry {
    char key[KPI_CACHE_KEY_LEN];
    unsigned hash;
    int refs;                    /* users outside the lock + 1 while cached */
    bool cached;
    unsigned long long generation;   /* the data generation it was computed at */
    kpi_component *comps;
    int ncomps;
    struct cache_entry *hnext;   /* bucket chain */
    struct cache_entry *prev, *next;   /* LRU list, most recent first */
} cache_entry;

/* The key of the components of id over from..to (per insurer or not). */
void kpi_cache_key(char key[KPI_CACHE_KEY_LEN], const char *id, const char *from, const char *to, bool per_insurer);
/* The cached components of key when snap is the current snapshot and no
 * change since they were computed names a store of need (indexed like
 * snap's stores; NULL: every store): a reference to release with
 * kpi_cache_release, else NULL. Counted as a hit or a miss. */
cache_entry *kpi_cache_lookup(kpi_engine *k, const kpi_snapshot *snap, const char *key, const bool *need);
/* The cached components of key whatever changed since (a reference, or
 * NULL), with the stores changed since they were computed marked in
 * stale[0..snap->nstores) and counted in *nstale: the base a computation of
 * those stores alone completes. */
cache_entry *kpi_cache_base(kpi_engine *k, const kpi_snapshot *snap, const char *key, bool *stale, int *nstale);
/* Keep comps (ncomps of them, malloc'd; the entry owns them from here) as
 * the components of key at snap's generation, or at seen (the generation
 * the computing connection saw) when that is older, when snap is still the
 * current snapshot and nothing cleared the cache since that generation
 * (replacing an entry of an older generation). Returns a
 * referenced entry: the new one, or the one another request put first
 * (comps are then freed). NULL when out of memory (comps untouched). */
cache_entry *kpi_cache_put(kpi_engine *k, const kpi_snapshot *snap, unsigned long long seen, const char *key,
                           kpi_component *comps, int ncomps);
void kpi_cache_release(kpi_engine *k, cache_entry *e);
/* Single flight, for a key the cache lacks: > 0 when the caller now
 * computes it (a claim to end with kpi_cache_done, whatever the outcome);
 * 0 when it should compute it untracked (nothing to end); -1 after waiting
 * for another request that was computing it: look it up again (and claim
 * again if it is still missing: that one failed). Never waits while the
 * caller holds a claim of its own, so waits cannot form a cycle. */
int kpi_cache_claim(kpi_engine *k, const kpi_snapshot *snap, const char *key);
/* The same for total keys at once (key_of(ctx, i, key) writes key i), never
 * waiting: the indices of those the cache lacks and no one computes go to
 * mine, each with its claim (as kpi_cache_claim's: > 0, or 0 untracked) in
 * claims (total of each at most); their count is returned. *found: the keys
 * the cache holds; *theirs: those another request computes now (look them
 * up, with kpi_cache_claim, once the caller's own are done). None at all
 * when snap is no longer current. A key is held when it serves need (as
 * for kpi_cache_lookup). */
int kpi_cache_claim_missing(kpi_engine *k, const kpi_snapshot *snap, int total,
                            void (*key_of)(const void *ctx, int i, char key[KPI_CACHE_KEY_LEN]), const void *ctx,
                            const bool *need, int *mine, int *claims, int *found, int *theirs);
void kpi_cache_done(kpi_engine *k, int claim);

/* --- answers --- */

/* A copy of the answer kept for key at generation gen (or at an earlier
 * one, when no change since names a store of its scope), *len bytes, NULL
 * when none: in the form want when the answer has a compressed copy (GZIP,
 * or PIECE: then *piece describes it and piece->data is the returned
 * copy), else the text; *got says which. */
char *kpi_answers_get(kpi_engine *k, unsigned long long gen, const char *key, int want, size_t *len, int *got,
                      gzip_piece *piece);
/* Keep a copy of text (len bytes, NUL-terminated) as the answer for key at
 * generation gen, over the stores stores[0..nstores) (its scope); it
 * replaces an answer of an older generation. */
void kpi_answers_put(kpi_engine *k, unsigned long long gen, const char *key, const char *const *stores, int nstores,
                     const char *text, size_t len);
/* The keys of up to max kept answers, most recently used first, that a
 * change since they were computed made stale (strdup'd into keys): what a
 * refresh computes again. Their number. */
int kpi_answers_stale(kpi_engine *k, char **keys, int max);
#endif
