/* kpi: the KPI engine (see kpi.h). A request names KPI ids, a period, a
 * grouping (`by`) and the stores of the caller's scope (from auth's
 * scope_resolve). For each id and period the engine asks the plugin that
 * provides the id for per-store components (numerator, denominator, valid),
 * computed over the whole group once, and folds them here, in one place:
 * a ratio from the summed numerator and denominator of the stores (never an
 * average of ratios), a store flagged invalid left out of its region and
 * the group, null for a ratio over nothing, 0 for a sum over nothing.
 *
 * Cache: components per (id, from, to, per insurer) do not depend on the
 * caller's scope, so one entry serves everyone. The cache is bounded (LRU by
 * entries and components) and belongs to one data generation
 * (data_generation, bumped by every import and setting change): a query
 * reads the generation (one primary-key lookup) and a new one clears the
 * cache, so several instances sharing the database stay consistent. A
 * generation read less than KPI_GENERATION_FRESH_MS ago is taken as it is,
 * unless this process has committed a change since (data_changed_here): under
 * load, one read serves many requests; another instance's change is seen
 * within that time. The store directory (names, regions) and the settings
 * are reloaded with it.
 *
 * Also the KPI routes (/api/v1/kpis, /kpi, /kpi/batch, /settings, /plugins)
 * and `fourscore kpi`. */
#include <math.h>
#include <stdatomic.h>
#include <time.h>
#include <pthread.h>
#include <zlib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "app.h"
#include "calendar.h"
#include "auth.h"
#include "commands.h"
#include "config.h"
#include "http.h"
#include "kpi.h"
#include "clock.h"
#include "generation.h"
#include "log.h"
#include "counters.h"
#include "plugins.h"

#define KPI_CACHE_BUCKETS      4096
#define KPI_CACHE_MAX_ENTRIES  20000
#define KPI_CACHE_MAX_COMPS    (1 << 20)      /* ~90 MB of components at most */
#define KPI_MAX_IDS            256
#define KPI_MAX_MONTHS         600
#define KPI_MAX_BATCH          200
#define KPI_ACQUIRE_MS         5000
#define ER_STATEMENT_TIMEOUT   1969
#define GROUP_LABEL            "集团"
#define KPI_COMPUTE_THREADS    3              /* workers for a cold request */
#define KPI_WORKER_ACQUIRE_MS  20             /* a worker waits this long for a connection */
#define KPI_GENERATION_FRESH_MS 20            /* a generation read this recently is taken as it is */
#define KPI_ANSWER_BUCKETS     1024
#define KPI_ANSWER_MAX         2048           /* answers kept */
#define KPI_ANSWER_MAX_BYTES   (64u << 20)    /* and their text at most */
#define KPI_ANSWER_GZIP_MIN    1024           /* answers this long are also kept gzip-compressed */

/* --- dates --- */

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm). */
static long days_from_civil(int y, int m, int d)
{
    y -= m <= 2;
    long era = (y >= 0 ? y : y - 399) / 400;
    long yoe = y - era * 400;
    long doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}


/* A real date 'YYYY-MM-DD' (years 1000-9998). */
static bool date_parse(const char *s, int *y, int *m, int *d)
{
    if (!s || strlen(s) != 10 || s[4] != '-' || s[7] != '-') return false;
    for (int i = 0; i < 10; i++)
        if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9')) return false;
    *y = atoi(s);
    *m = (s[5] - '0') * 10 + (s[6] - '0');
    *d = (s[8] - '0') * 10 + (s[9] - '0');
    return *y >= 1000 && *y <= 9998 && *m >= 1 && *m <= 12 && *d >= 1 && *d <= calendar_days_in_month(*y, *m);
}

/* --- the directory of stores, regions, insurers (per generation) --- */

typedef struct dir_entry {
    char code[33];
    char *name;
    int region;                 /* stores: index into regions */
} dir_entry;

typedef struct kpi_snapshot {
    unsigned long long generation;
    int refs;
    dir_entry *stores, *regions, *insurers;
    int nstores, nregions, ninsurers;
    kpi_settings *settings;
    scope_dir scope;             /* the stores' and regions' codes for scope_resolve_dir */
    const char **scope_codes;    /* its arrays: store codes, their regions, region codes */
} kpi_snapshot;

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

static int dir_find(const dir_entry *v, int n, const char *code)
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

/* Fill *out with the rows of sql: code, name[, region code] (sorted by code, binary). */
static int dir_load(db_conn *c, const char *sql, dir_entry **out, int *n, char *err, size_t errlen)
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
    db_result_free(res);
    return 0;
oom:
    db_result_free(res);
    snprintf(err, errlen, "out of memory");
    return -1;
}

static const char SQL_DIR_STORES[] = "SELECT store_code, name, region_code FROM stores ORDER BY store_code";
static const char SQL_DIR_REGIONS[] = "SELECT region_code, name FROM regions ORDER BY region_code";
static const char SQL_DIR_INSURERS[] = "SELECT insurer_code, name FROM insurers ORDER BY insurer_code";

static kpi_snapshot *snapshot_load(db_conn *c, const plugin_registry *plugins, unsigned long long generation,
                                   char *err, size_t errlen)
{
    kpi_snapshot *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    s->generation = generation;
    db_result *st = NULL;
    if (dir_load(c, SQL_DIR_STORES, &s->stores, &s->nstores, err, errlen) != 0 ||
        dir_load(c, SQL_DIR_REGIONS, &s->regions, &s->nregions, err, errlen) != 0 ||
        dir_load(c, SQL_DIR_INSURERS, &s->insurers, &s->ninsurers, err, errlen) != 0 ||
        db_query(c, SQL_DIR_STORES, NULL, 0, &st, err, errlen) != 0 ||
        kpi_settings_load(c, plugins, &s->settings, err, errlen) != 0) {
        db_result_free(st);
        snapshot_free(s);
        return NULL;
    }
    for (int i = 0; i < st->nrows && i < s->nstores; i++) {
        int k = dir_find(s->stores, s->nstores, db_cell(st, i, 0));
        if (k >= 0) s->stores[k].region = dir_find(s->regions, s->nregions, db_cell(st, i, 2) ? db_cell(st, i, 2) : "");
    }
    db_result_free(st);
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

typedef struct cache_entry {
    char key[96];                /* id|from|to|i */
    unsigned hash;
    int refs;                    /* users outside the lock + 1 while cached */
    bool cached;
    kpi_component *comps;
    int ncomps;
    struct cache_entry *hnext;   /* bucket chain */
    struct cache_entry *prev, *next;   /* LRU list, most recent first */
} cache_entry;

/* A whole HTTP answer (JSON text) for one request and scope, so that a
 * dashboard reloaded by many people costs a lookup and a copy. */
typedef struct answer_entry {
    char *key;                   /* ids|from|to|by|scope store codes */
    unsigned hash;
    char *text;
    size_t len;
    char *gz;                    /* the same text gzip-compressed (NULL: none), for clients that take it */
    size_t gz_len;
    struct answer_entry *hnext, *prev, *next;
} answer_entry;

typedef struct kpi_engine {
    pthread_mutex_t mu;
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
    /* answers: valid for answers_generation only */
    unsigned long long answers_generation;
    answer_entry *answer_buckets[KPI_ANSWER_BUCKETS];
    answer_entry *answers_head, *answers_tail;
    int nanswers;
    size_t answer_bytes;
} kpi_engine;

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
    k->answer_bytes -= e->len + e->gz_len;
    free(e->key);
    free(e->text);
    free(e->gz);
    free(e);
}

static void answers_clear_locked(kpi_engine *k)
{
    while (k->answers_head) answer_unlink_locked(k, k->answers_head);
}

/* text gzip-compressed into a new buffer (*out_len bytes), or NULL. */
static char *gzip_text(const char *text, size_t len, size_t *out_len)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    if (deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) return NULL;
    uLong cap = deflateBound(&z, (uLong)len);
    char *out = malloc(cap);
    if (out) {
        z.next_in = (Bytef *)(uintptr_t)text;
        z.avail_in = (uInt)len;
        z.next_out = (Bytef *)out;
        z.avail_out = (uInt)cap;
        if (deflate(&z, Z_FINISH) == Z_STREAM_END) {
            *out_len = z.total_out;
        } else {
            free(out);
            out = NULL;
        }
    }
    deflateEnd(&z);
    return out;
}

/* A copy of the cached answer for key at generation gen (gzip-compressed
 * when want_gz and the cache has it: *is_gz), or NULL. */
static char *answer_get(kpi_engine *k, unsigned long long gen, const char *key, bool want_gz, size_t *len,
                        bool *is_gz)
{
    *is_gz = false;
    unsigned h = hash_str(key);
    char *copy = NULL;
    pthread_mutex_lock(&k->mu);
    if (k->answers_generation == gen)
        for (answer_entry *e = k->answer_buckets[h % KPI_ANSWER_BUCKETS]; e; e = e->hnext) {
            if (e->hash != h || strcmp(e->key, key) != 0) continue;
            if (e != k->answers_head) {
                e->prev->next = e->next;
                if (e->next) e->next->prev = e->prev;
                else k->answers_tail = e->prev;
                e->prev = NULL;
                e->next = k->answers_head;
                k->answers_head->prev = e;
                k->answers_head = e;
            }
            if (want_gz && e->gz) {
                if ((copy = malloc(e->gz_len))) {
                    memcpy(copy, e->gz, e->gz_len);
                    *len = e->gz_len;
                    *is_gz = true;
                }
            } else if ((copy = malloc(e->len + 1))) {
                memcpy(copy, e->text, e->len + 1);
                *len = e->len;
            }
            break;
        }
    pthread_mutex_unlock(&k->mu);
    return copy;
}

/* Keep a copy of text as the answer for key at generation gen. */
static void answer_put(kpi_engine *k, unsigned long long gen, const char *key, const char *text, size_t len)
{
    if (len > KPI_ANSWER_MAX_BYTES / 4) return;
    answer_entry *e = calloc(1, sizeof *e);
    if (!e) return;
    e->key = strdup(key);
    e->text = malloc(len + 1);
    if (!e->key || !e->text) {
        free(e->key);
        free(e->text);
        free(e);
        return;
    }
    memcpy(e->text, text, len + 1);
    e->len = len;
    /* answers worth compressing are compressed once, here, not per request */
    if (len >= KPI_ANSWER_GZIP_MIN) e->gz = gzip_text(text, len, &e->gz_len);
    e->hash = hash_str(key);
    pthread_mutex_lock(&k->mu);
    if (gen > k->answers_generation) {
        answers_clear_locked(k);
        k->answers_generation = gen;
    }
    bool dup = false;
    for (answer_entry *o = k->answer_buckets[e->hash % KPI_ANSWER_BUCKETS]; o && !dup; o = o->hnext)
        dup = o->hash == e->hash && strcmp(o->key, e->key) == 0;
    if (gen != k->answers_generation || dup) {
        pthread_mutex_unlock(&k->mu);
        free(e->key);
        free(e->text);
        free(e->gz);
        free(e);
        return;
    }
    e->hnext = k->answer_buckets[e->hash % KPI_ANSWER_BUCKETS];
    k->answer_buckets[e->hash % KPI_ANSWER_BUCKETS] = e;
    e->next = k->answers_head;
    if (k->answers_head) k->answers_head->prev = e;
    k->answers_head = e;
    if (!k->answers_tail) k->answers_tail = e;
    k->nanswers++;
    k->answer_bytes += len + e->gz_len;
    while ((k->nanswers > KPI_ANSWER_MAX || k->answer_bytes > KPI_ANSWER_MAX_BYTES) && k->answers_tail != e)
        answer_unlink_locked(k, k->answers_tail);
    pthread_mutex_unlock(&k->mu);
}

/* --- engine lifetime --- */

static pthread_mutex_t kpi_open_mu = PTHREAD_MUTEX_INITIALIZER;

int kpi_open(app *a, char *err, size_t errlen)
{
    pthread_mutex_lock(&kpi_open_mu);
    int rc = 0;
    if (!a->plugins && plugins_load_dir(a->cfg.plugin_dir, &a->plugins, err, errlen) != 0) rc = -1;
    if (rc == 0 && !a->kpi) {
        kpi_engine *k = calloc(1, sizeof *k);
        if (!k || pthread_mutex_init(&k->mu, NULL) != 0) {
            free(k);
            snprintf(err, errlen, "out of memory");
            rc = -1;
        } else {
            k->plugins = a->plugins;
            a->kpi = k;
        }
    }
    pthread_mutex_unlock(&kpi_open_mu);
    return rc;
}

void kpi_close(app *a)
{
    if (!a) return;
    pthread_mutex_lock(&kpi_open_mu);
    kpi_engine *k = a->kpi;
    if (k) {
        cache_clear_locked(k);
        answers_clear_locked(k);
        if (k->snap && --k->snap->refs == 0) snapshot_free(k->snap);
        pthread_mutex_destroy(&k->mu);
        free(k);
        a->kpi = NULL;
    }
    plugins_free(a->plugins);
    a->plugins = NULL;
    pthread_mutex_unlock(&kpi_open_mu);
}

static int engine_ready(app *a, char *err, size_t errlen)
{
    if (a->kpi && a->plugins) return 0;
    return kpi_open(a, err, errlen);
}


/* The current snapshot when its generation was read less than
 * KPI_GENERATION_FRESH_MS ago and nothing changed here since (a reference
 * to release), else NULL: read the generation (engine_snapshot). */
static kpi_snapshot *engine_snapshot_fresh(kpi_engine *k)
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

/* The snapshot of the database's current generation (a reference the
 * caller releases with snapshot_release); a new generation clears the cache. */
static kpi_snapshot *engine_snapshot(kpi_engine *k, db_conn *c, char *err, size_t errlen)
{
    unsigned long long changes = data_changes_here();
    long long read_ms = clock_ms_whole();
    unsigned long long gen;
    if (data_generation_read(c, &gen, err, errlen) != 0) return NULL;
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
    pthread_mutex_unlock(&k->mu);
    kpi_snapshot *fresh = snapshot_load(c, k->plugins, gen, err, errlen);
    if (!fresh) return NULL;
    pthread_mutex_lock(&k->mu);
    if (!k->snap || k->snap->generation < gen) {
        if (k->snap && --k->snap->refs == 0) snapshot_free(k->snap);
        k->snap = fresh;
        fresh->refs = 1;
        k->snap_read_ms = read_ms;
        k->snap_read_changes = changes;
        cache_clear_locked(k);
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
    return fresh;
}

static void snapshot_release(kpi_engine *k, kpi_snapshot *s)
{
    pthread_mutex_lock(&k->mu);
    if (--s->refs == 0) snapshot_free(s);
    pthread_mutex_unlock(&k->mu);
}

/* --- catalogue --- */

bool kpi_exists(app *a, const char *id)
{
    char err[256];
    if (engine_ready(a, err, sizeof err) != 0) return false;
    return plugins_find_kpi(a->plugins, id) != NULL;
}

static int by_flag(const char *by)
{
    if (!strcmp(by, "group")) return FSP_BY_GROUP;
    if (!strcmp(by, "region")) return FSP_BY_REGION;
    if (!strcmp(by, "store")) return FSP_BY_STORE;
    if (!strcmp(by, "month")) return FSP_BY_MONTH;
    if (!strcmp(by, "insurer")) return FSP_BY_INSURER;
    return 0;
}

/* The by dimensions of a KPI: exactly its mask (0 means FSP_BY_DEFAULT). */
static unsigned def_by(const fsp_kpi_def *d)
{
    return d->by ? d->by : FSP_BY_DEFAULT;
}

/* The target in force: a setting "<id>.target" / ".target_low" / ".target_high", else the plugin's. */
static cJSON *target_json(const fsp_kpi_def *d, const kpi_settings *s)
{
    char n1[120], n2[120], n3[120];
    snprintf(n1, sizeof n1, "%s.target", d->id);
    snprintf(n2, sizeof n2, "%s.target_low", d->id);
    snprintf(n3, sizeof n3, "%s.target_high", d->id);
    if (kpi_settings_has(s, n1)) return cJSON_CreateNumber(kpi_settings_get(s, n1, 0));
    if (kpi_settings_has(s, n2) || kpi_settings_has(s, n3) || d->target_kind == FSP_TARGET_BAND) {
        double low = kpi_settings_get(s, n2, d->target_kind == FSP_TARGET_BAND ? d->target_low : NAN);
        double high = kpi_settings_get(s, n3, d->target_kind == FSP_TARGET_BAND ? d->target_high : NAN);
        cJSON *o = cJSON_CreateObject();
        if (!o) return NULL;
        if (isfinite(low)) cJSON_AddNumberToObject(o, "low", low);
        else cJSON_AddNullToObject(o, "low");
        if (isfinite(high)) cJSON_AddNumberToObject(o, "high", high);
        else cJSON_AddNullToObject(o, "high");
        return o;
    }
    if (d->target_kind == FSP_TARGET_NUMBER) return cJSON_CreateNumber(d->target_low);
    return cJSON_CreateNull();
}

static cJSON *catalogue_entry(const plugin_registry *reg, const plugin_kpi *pk, const kpi_settings *s)
{
    const fsp_kpi_def *d = pk->def;
    cJSON *o = cJSON_CreateObject();
    if (!o) return NULL;
    cJSON_AddStringToObject(o, "id", d->id);
    cJSON_AddStringToObject(o, "plugin", reg->plugins[pk->plugin].name);
    cJSON *name = cJSON_AddObjectToObject(o, "name");
    if (name) {
        cJSON_AddStringToObject(name, "zh", d->name_zh);
        cJSON_AddStringToObject(name, "en", d->name_en);
    }
    cJSON_AddStringToObject(o, "unit", d->unit);
    cJSON_AddStringToObject(o, "direction", plugin_direction_name(d->direction));
    cJSON *t = target_json(d, s);
    if (t) cJSON_AddItemToObject(o, "target", t);
    cJSON_AddStringToObject(o, "formula", d->formula);
    cJSON *by = cJSON_AddArrayToObject(o, "by");
    static const char *const bys[] = { "group", "region", "store", "month", "insurer" };
    for (size_t i = 0; by && i < sizeof bys / sizeof *bys; i++)
        if (def_by(d) & (unsigned)by_flag(bys[i])) cJSON_AddItemToArray(by, cJSON_CreateString(bys[i]));
    return o;
}

cJSON *kpi_target_json(app *a, const char *id)
{
    char err[256];
    if (engine_ready(a, err, sizeof err) != 0) return NULL;
    const plugin_kpi *pk = plugins_find_kpi(a->plugins, id);
    if (!pk) return NULL;
    /* the settings in force (target overrides); the plugin's target alone
     * when the database does not answer */
    kpi_snapshot *snap = NULL;
    db_pool *from = NULL;
    db_conn *c = app_acquire_read(a, &from, err, sizeof err);
    if (c) {
        snap = engine_snapshot(a->kpi, c, err, sizeof err);
        db_release(from, c);
    }
    cJSON *t = target_json(pk->def, snap ? snap->settings : NULL);
    if (snap) snapshot_release(a->kpi, snap);
    if (cJSON_IsNull(t)) {
        cJSON_Delete(t);
        return NULL;
    }
    return t;
}

/* --- computing components --- */

typedef struct period {
    char key[8];                 /* YYYY-MM for by=month */
    char from[11], to[11];
    int days;
} period;

static double setting_lookup(const void *ctx, const char *name, double dflt)
{
    return kpi_settings_get((const kpi_settings *)ctx, name, dflt);
}

/* The components of one KPI over one period (from the cache or computed);
 * a referenced entry the caller releases with entry_release. */
static cache_entry *components_get(app *a, db_conn *c, kpi_snapshot *snap, const plugin_kpi *pk,
                                   const period *p, bool per_insurer, int *status, char *err, size_t errlen)
{
    kpi_engine *k = a->kpi;
    char key[96];
    snprintf(key, sizeof key, "%s|%s|%s|%d", pk->def->id, p->from, p->to, per_insurer ? 1 : 0);
    pthread_mutex_lock(&k->mu);
    cache_entry *e = snap == k->snap ? cache_get_locked(k, key) : NULL;
    if (e) k->hits++;
    else k->misses++;
    pthread_mutex_unlock(&k->mu);
    if (e) return e;
    metrics_add(METRIC_KPI_CACHE_MISSES, 1);     /* hits: counted once per request, in compute_missing */

    fsp_call call = { .conn = c, .setting = setting_lookup, .setting_ctx = snap->settings,
                      .generation = snap->generation };
    fsp_kpi_args args = {
        .struct_size = sizeof(fsp_kpi_args), .kpi = pk->def, .from = p->from, .to = p->to,
        .days = p->days, .per_insurer = per_insurer ? 1 : 0, .stores = NULL, .nstores = 0,
    };
    if (plugin_compute(pk->def, &call, &args) != 0) {
        *status = db_errno(c) == ER_STATEMENT_TIMEOUT ? 503 : 500;
        if (*status == 503)
            snprintf(err, errlen, "%s took longer than the KPI statement time limit (%g s)", pk->def->id,
                     a->cfg.kpi_statement_timeout_s);
        else if (db_errno(c) != 0) {
            *status = 503;
            snprintf(err, errlen, "%s: %s", pk->def->id, call.error);
        } else snprintf(err, errlen, "%s", call.error);
        log_error("kpi", "%s %s..%s: %s", pk->def->id, p->from, p->to, call.error);
        plugin_call_reset(&call);
        return NULL;
    }
    e = calloc(1, sizeof *e);
    if (!e) {
        plugin_call_reset(&call);
        *status = 500;
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    snprintf(e->key, sizeof e->key, "%s", key);
    e->comps = call.comps;
    e->ncomps = call.ncomps;
    e->refs = 1;
    pthread_mutex_lock(&k->mu);
    if (snap == k->snap) {
        cache_entry *other = cache_get_locked(k, key);
        if (other) {                  /* computed twice at once: keep the first */
            entry_unref_locked(e);
            e = other;
        } else {
            cache_put_locked(k, e);
        }
    }
    pthread_mutex_unlock(&k->mu);
    return e;
}

static void entry_release(kpi_engine *k, cache_entry *e)
{
    if (!e) return;
    pthread_mutex_lock(&k->mu);
    entry_unref_locked(e);
    pthread_mutex_unlock(&k->mu);
}

/* --- computing in parallel (a cold cache) --- */

/* The (id, period) pairs of a request missing from the cache are computed
 * by up to KPI_COMPUTE_THREADS workers, each on its own read connection;
 * the fold then finds them all in the cache. A worker that gets no
 * connection just stops: whatever is left is computed by the fold itself. */
typedef struct compute_job {
    app *a;
    db_pool *pool;               /* the pool of the request's own connection */
    kpi_snapshot *snap;
    const plugin_kpi **pks;
    const period *periods;
    int nperiods;
    bool per_insurer;
    int *todo, ntodo;            /* k * nperiods + p */
    pthread_mutex_t mu;
    int next;
    bool failed;
} compute_job;

static void *compute_worker(void *arg)
{
    compute_job *job = arg;
    char err[512];
    int status;
    db_conn *c = db_acquire(job->pool, KPI_WORKER_ACQUIRE_MS, err, sizeof err);
    if (!c) return NULL;          /* a busy pool: the request computes alone */
    db_set_statement_timeout(c, job->a->cfg.kpi_statement_timeout_s);
    for (;;) {
        pthread_mutex_lock(&job->mu);
        int i = job->failed || job->next >= job->ntodo ? -1 : job->todo[job->next++];
        pthread_mutex_unlock(&job->mu);
        if (i < 0) break;
        cache_entry *e = components_get(job->a, c, job->snap, job->pks[i / job->nperiods],
                                        &job->periods[i % job->nperiods], job->per_insurer, &status, err, sizeof err);
        if (!e) {                 /* the fold meets the same failure and reports it */
            pthread_mutex_lock(&job->mu);
            job->failed = true;
            pthread_mutex_unlock(&job->mu);
            break;
        }
        entry_release(job->a->kpi, e);
    }
    db_release(job->pool, c);
    return NULL;
}

static void compute_missing(app *a, db_pool *pool, kpi_snapshot *snap, const plugin_kpi **pks, int nids,
                            const period *periods, int nperiods, bool per_insurer)
{
    kpi_engine *k = a->kpi;
    int total = nids * nperiods;
    compute_job job = { .a = a, .pool = pool, .snap = snap, .pks = pks, .periods = periods, .nperiods = nperiods,
                        .per_insurer = per_insurer };
    job.todo = malloc((size_t)total * sizeof *job.todo);
    if (!job.todo) return;
    int found = 0;                 /* answered from the cache: the request's hits */
    pthread_mutex_lock(&k->mu);
    for (int i = 0; i < total && snap == k->snap; i++) {
        char key[96];
        const period *p = &periods[i % nperiods];
        snprintf(key, sizeof key, "%s|%s|%s|%d", pks[i / nperiods]->def->id, p->from, p->to, per_insurer ? 1 : 0);
        cache_entry *e = cache_get_locked(k, key);
        if (e) { entry_unref_locked(e); found++; }
        else job.todo[job.ntodo++] = i;
    }
    pthread_mutex_unlock(&k->mu);
    metrics_add(METRIC_KPI_CACHE_HITS, found);
    int nthreads = job.ntodo < KPI_COMPUTE_THREADS ? job.ntodo : KPI_COMPUTE_THREADS;
    if (nthreads >= 2 && pthread_mutex_init(&job.mu, NULL) == 0) {
        pthread_t tids[KPI_COMPUTE_THREADS];
        int started = 0;
        for (int t = 0; t < nthreads; t++)
            if (pthread_create(&tids[started], NULL, compute_worker, &job) == 0) started++;
        for (int t = 0; t < started; t++) pthread_join(tids[t], NULL);
        pthread_mutex_destroy(&job.mu);
    }
    free(job.todo);
}

/* --- folding --- */

/* Per-store sums of one component list (indexed like snap->stores). */
typedef struct store_acc {
    double num, den;
    bool any, invalid;
} store_acc;

typedef struct fold_acc {
    double num, den;
    bool any_valid, any_invalid;
} fold_acc;

/* Sum comps into acc by store (only the components of insurer, when not NULL). */
static void acc_by_store(const kpi_snapshot *snap, const cache_entry *e, const char *insurer, store_acc *acc)
{
    memset(acc, 0, (size_t)snap->nstores * sizeof *acc);
    for (int i = 0; i < e->ncomps; i++) {
        const kpi_component *c = &e->comps[i];
        int s = dir_find(snap->stores, snap->nstores, c->store_code);
        if (s < 0) continue;
        if (!c->valid) { acc[s].invalid = true; continue; }   /* invalid under any insurer: the store is out */
        if (insurer && strcmp(c->insurer_code, insurer) != 0) continue;
        acc[s].num += c->num;
        acc[s].den += c->den;
        acc[s].any = true;
    }
}

static void fold_add(fold_acc *f, const store_acc *s)
{
    if (s->invalid) { f->any_invalid = true; return; }
    if (!s->any) return;
    f->num += s->num;
    f->den += s->den;
    f->any_valid = true;
}

static void fold_value(const fsp_kpi_def *d, const fold_acc *f, double *value, bool *is_null)
{
    *value = 0;
    *is_null = false;
    if (d->fold == FSP_FOLD_RATIO) {
        if (!f->any_valid || f->den == 0) *is_null = true;
        else *value = f->num / f->den;
    } else {
        if (f->any_valid) *value = f->num;
        else if (f->any_invalid) *is_null = true;
    }
    if (!*is_null && !isfinite(*value)) {
        *is_null = true;
        *value = 0;
    }
}

/* --- answers --- */

void kpi_answer_free(kpi_answer *ans)
{
    if (!ans) return;
    for (int i = 0; i < ans->nrows; i++) {
        free(ans->rows[i].values);
        free(ans->rows[i].is_null);
    }
    free(ans->rows);
    free(ans);
}

static kpi_answer *answer_new(int nrows, int nids)
{
    kpi_answer *ans = calloc(1, sizeof *ans);
    if (!ans) return NULL;
    ans->nids = nids;
    ans->rows = nrows ? calloc((size_t)nrows, sizeof *ans->rows) : NULL;
    if (nrows && !ans->rows) {
        free(ans);
        return NULL;
    }
    for (int i = 0; i < nrows; i++) {
        ans->rows[i].values = calloc((size_t)(nids ? nids : 1), sizeof(double));
        ans->rows[i].is_null = calloc((size_t)(nids ? nids : 1), sizeof(bool));
        ans->nrows = i + 1;
        if (!ans->rows[i].values || !ans->rows[i].is_null) {
            kpi_answer_free(ans);
            return NULL;
        }
    }
    return ans;
}

cJSON *kpi_answer_json(const kpi_request *req, const kpi_answer *ans)
{
    cJSON *o = cJSON_CreateObject();
    if (!o) return NULL;
    cJSON_AddStringToObject(o, "from", req->from);
    cJSON_AddStringToObject(o, "to", req->to);
    cJSON_AddStringToObject(o, "by", req->by && *req->by ? req->by : "group");
    cJSON *rows = cJSON_AddArrayToObject(o, "rows");
    for (int i = 0; rows && i < ans->nrows; i++) {
        const kpi_row *r = &ans->rows[i];
        cJSON *row = cJSON_CreateObject();
        if (!row) break;
        cJSON_AddItemToArray(rows, row);
        cJSON_AddStringToObject(row, "key", r->key);
        cJSON_AddStringToObject(row, "label", r->label);
        cJSON *vals = cJSON_AddObjectToObject(row, "values");
        for (int k = 0; vals && k < ans->nids && k < req->nids; k++) {
            if (r->is_null[k] || !isfinite(r->values[k])) cJSON_AddNullToObject(vals, req->ids[k]);
            else cJSON_AddNumberToObject(vals, req->ids[k], r->values[k]);
        }
    }
    return o;
}

/* --- the query --- */

static int build_periods(const kpi_request *req, bool monthly, period **out, int *n, char *err, size_t errlen)
{
    int fy, fm, fd, ty, tm, td;
    *out = NULL;
    *n = 0;
    if (!date_parse(req->from, &fy, &fm, &fd)) {
        snprintf(err, errlen, "from: '%.20s' is not a date YYYY-MM-DD", req->from);
        return -1;
    }
    if (!date_parse(req->to, &ty, &tm, &td)) {
        snprintf(err, errlen, "to: '%.20s' is not a date YYYY-MM-DD", req->to);
        return -1;
    }
    long f = days_from_civil(fy, fm, fd), t = days_from_civil(ty, tm, td);
    if (t < f) {
        snprintf(err, errlen, "to (%s) is before from (%s)", req->to, req->from);
        return -1;
    }
    int months = (ty - fy) * 12 + (tm - fm) + 1;
    if (monthly && months > KPI_MAX_MONTHS) {
        snprintf(err, errlen, "by=month: the period covers %d months, at most %d", months, KPI_MAX_MONTHS);
        return -1;
    }
    int count = monthly ? months : 1;
    period *ps = calloc((size_t)count, sizeof *ps);
    if (!ps) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (!monthly) {
        snprintf(ps[0].from, sizeof ps[0].from, "%s", req->from);
        snprintf(ps[0].to, sizeof ps[0].to, "%s", req->to);
        ps[0].days = (int)(t - f + 1);
    } else {
        int y = fy, m = fm;
        for (int i = 0; i < count; i++) {
            int d0 = (y == fy && m == fm) ? fd : 1;
            int d1 = (y == ty && m == tm) ? td : calendar_days_in_month(y, m);
            unsigned uy = (unsigned)y % 10000u, um = (unsigned)m % 100u;
            snprintf(ps[i].key, sizeof ps[i].key, "%04u-%02u", uy, um);
            snprintf(ps[i].from, sizeof ps[i].from, "%04u-%02u-%02u", uy, um, (unsigned)d0 % 100u);
            snprintf(ps[i].to, sizeof ps[i].to, "%04u-%02u-%02u", uy, um, (unsigned)d1 % 100u);
            ps[i].days = d1 - d0 + 1;
            if (++m > 12) { m = 1; y++; }
        }
    }
    *out = ps;
    *n = count;
    return 0;
}

int kpi_query(app *a, const kpi_request *req, kpi_answer **out, int *status, char *err, size_t errlen)
{
    *out = NULL;
    *status = 400;
    if (engine_ready(a, err, errlen) != 0) {
        *status = 500;
        return -1;
    }
    const char *by = req->by && *req->by ? req->by : "group";
    int byf = by_flag(by);
    if (!byf) {
        snprintf(err, errlen, "by: '%.20s' is not one of group, region, store, month, insurer", by);
        return -1;
    }
    if (req->nids < 1 || req->nids > KPI_MAX_IDS) {
        snprintf(err, errlen, "ids: between 1 and %d KPI ids are needed", KPI_MAX_IDS);
        return -1;
    }
    const plugin_kpi **pks = calloc((size_t)req->nids, sizeof *pks);
    if (!pks) {
        *status = 500;
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    period *periods = NULL;
    int nperiods = 0;
    for (int i = 0; i < req->nids; i++) {
        pks[i] = plugins_find_kpi(a->plugins, req->ids[i]);
        if (!pks[i]) {
            snprintf(err, errlen, "ids: unknown KPI id '%.64s'", req->ids[i] ? req->ids[i] : "");
            free(pks);
            return -1;
        }
        if (!(def_by(pks[i]->def) & (unsigned)byf)) {
            snprintf(err, errlen, "by: %s does not support by=%s", req->ids[i], by);
            free(pks);
            return -1;
        }
    }
    if (build_periods(req, byf == FSP_BY_MONTH, &periods, &nperiods, err, errlen) != 0) {
        free(pks);
        return -1;
    }

    *status = 503;
    db_pool *from_pool = NULL;
    db_conn *c = app_acquire_read(a, &from_pool, err, errlen);
    if (!c) {
        free(pks);
        free(periods);
        return -1;
    }
    db_set_statement_timeout(c, a->cfg.kpi_statement_timeout_s);
    kpi_snapshot *snap = engine_snapshot(a->kpi, c, err, errlen);
    kpi_answer *ans = NULL;
    store_acc *acc = NULL;
    int *scope_idx = NULL, nscope = 0;
    int rc = -1;
    if (!snap) goto done;

    /* the stores of the scope, as directory indices in code order */
    *status = 500;
    scope_idx = calloc((size_t)(snap->nstores ? snap->nstores : 1), sizeof *scope_idx);
    acc = calloc((size_t)(snap->nstores ? snap->nstores : 1), sizeof *acc);
    bool *in_scope = calloc((size_t)(snap->nstores ? snap->nstores : 1), sizeof *in_scope);
    if (!scope_idx || !acc || !in_scope) {
        free(in_scope);
        snprintf(err, errlen, "out of memory");
        goto done;
    }
    for (int i = 0; req->stores && i < req->stores->n; i++) {
        int s = dir_find(snap->stores, snap->nstores, req->stores->codes[i]);
        if (s >= 0) in_scope[s] = true;
    }
    for (int s = 0; s < snap->nstores; s++)
        if (in_scope[s]) scope_idx[nscope++] = s;
    free(in_scope);

    /* the rows */
    int nrows = 0;
    int *row_ref = NULL;     /* store / region / insurer index per row */
    switch (byf) {
    case FSP_BY_GROUP: nrows = 1; break;
    case FSP_BY_STORE: nrows = nscope; break;
    case FSP_BY_MONTH: nrows = nperiods; break;
    case FSP_BY_INSURER: nrows = snap->ninsurers; break;
    case FSP_BY_REGION: {
        bool *seen = calloc((size_t)(snap->nregions ? snap->nregions : 1), sizeof *seen);
        if (!seen) goto oom;
        for (int i = 0; i < nscope; i++)
            if (snap->stores[scope_idx[i]].region >= 0) seen[snap->stores[scope_idx[i]].region] = true;
        row_ref = calloc((size_t)(snap->nregions ? snap->nregions : 1), sizeof *row_ref);
        if (!row_ref) { free(seen); goto oom; }
        for (int r = 0; r < snap->nregions; r++)
            if (seen[r]) row_ref[nrows++] = r;
        free(seen);
        break;
    }
    }
    ans = answer_new(nrows, req->nids);
    if (!ans) { free(row_ref); goto oom; }
    for (int r = 0; r < nrows; r++) {
        kpi_row *row = &ans->rows[r];
        const char *key = "group", *label = GROUP_LABEL;
        if (byf == FSP_BY_STORE) { key = snap->stores[scope_idx[r]].code; label = snap->stores[scope_idx[r]].name; }
        else if (byf == FSP_BY_REGION) { key = snap->regions[row_ref[r]].code; label = snap->regions[row_ref[r]].name; }
        else if (byf == FSP_BY_INSURER) { key = snap->insurers[r].code; label = snap->insurers[r].name; }
        else if (byf == FSP_BY_MONTH) { key = periods[r].key; label = periods[r].key; }
        snprintf(row->key, sizeof row->key, "%s", key);
        snprintf(row->label, sizeof row->label, "%s", label);
    }

    /* the values: per id and period, fold the components (computing the
     * missing ones in parallel first) */
    compute_missing(a, from_pool, snap, pks, req->nids, periods, nperiods, byf == FSP_BY_INSURER);
    for (int k = 0; k < req->nids; k++) {
        const fsp_kpi_def *d = pks[k]->def;
        for (int p = 0; p < nperiods; p++) {
            cache_entry *e = components_get(a, c, snap, pks[k], &periods[p], byf == FSP_BY_INSURER, status, err, errlen);
            if (!e) { free(row_ref); goto done; }
            if (byf == FSP_BY_INSURER) {
                for (int r = 0; r < nrows; r++) {
                    acc_by_store(snap, e, snap->insurers[r].code, acc);
                    fold_acc f = { 0 };
                    for (int i = 0; i < nscope; i++) fold_add(&f, &acc[scope_idx[i]]);
                    fold_value(d, &f, &ans->rows[r].values[k], &ans->rows[r].is_null[k]);
                }
            } else {
                acc_by_store(snap, e, NULL, acc);
                if (byf == FSP_BY_STORE) {
                    for (int r = 0; r < nrows; r++) {
                        fold_acc f = { 0 };
                        fold_add(&f, &acc[scope_idx[r]]);
                        fold_value(d, &f, &ans->rows[r].values[k], &ans->rows[r].is_null[k]);
                    }
                } else if (byf == FSP_BY_REGION) {
                    for (int r = 0; r < nrows; r++) {
                        fold_acc f = { 0 };
                        for (int i = 0; i < nscope; i++)
                            if (snap->stores[scope_idx[i]].region == row_ref[r]) fold_add(&f, &acc[scope_idx[i]]);
                        fold_value(d, &f, &ans->rows[r].values[k], &ans->rows[r].is_null[k]);
                    }
                } else {   /* group, or this month's row */
                    int r = byf == FSP_BY_MONTH ? p : 0;
                    fold_acc f = { 0 };
                    for (int i = 0; i < nscope; i++) fold_add(&f, &acc[scope_idx[i]]);
                    fold_value(d, &f, &ans->rows[r].values[k], &ans->rows[r].is_null[k]);
                }
            }
            entry_release(a->kpi, e);
        }
    }
    free(row_ref);
    *out = ans;
    ans = NULL;
    *status = 200;
    rc = 0;
    goto done;
oom:
    *status = 500;
    snprintf(err, errlen, "out of memory");
done:
    kpi_answer_free(ans);
    free(acc);
    free(scope_idx);
    if (snap) snapshot_release(a->kpi, snap);
    db_release(from_pool, c);
    free(pks);
    free(periods);
    return rc;
}

/* --- HTTP: the catalogue, queries, batch --- */

/* Split a comma list into at most max pieces in buf (NUL-separated); -1
 * when it has more than max pieces or does not fit buf (never a part of it). */
static int split_csv(const char *s, char *buf, size_t buflen, const char **out, int max)
{
    int n = 0;
    if (!s || !*s) return 0;
    if (strlen(s) >= buflen) return -1;
    snprintf(buf, buflen, "%s", s);
    for (char *p = buf; p && *p;) {
        char *comma = strchr(p, ',');
        if (comma) *comma = '\0';
        if (*p) {
            if (n >= max) return -1;
            out[n++] = p;
        }
        p = comma ? comma + 1 : NULL;
    }
    return n;
}

static void reply_kpi_error(http_req *r, int status, const char *err)
{
    if (status == 400) http_reply_error(r, 400, "bad_parameter", err, NULL);
    else if (status == 403) http_reply_error(r, 403, "forbidden", err, NULL);
    else if (status == 503) http_reply_error(r, 503, "db_unavailable", err, NULL);
    else http_reply_error(r, 500, "internal", err, NULL);
}

/* Resolve the scope of a query (403 naming an unknown or out-of-scope store
 * or region) against the directory of the current data generation: one
 * read of the generation, on one read connection. */
static int resolve_scope(http_req *r, const char *const *stores, int nstores, const char *const *regions,
                         int nregions, store_set *set, unsigned long long *generation,
                         int *status, char *err, size_t errlen)
{
    kpi_snapshot *snap = engine_snapshot_fresh(r->app->kpi);
    if (!snap) {
        db_pool *from = NULL;
        db_conn *c = app_acquire_read(r->app, &from, err, errlen);
        if (!c) {
            *status = 503;
            return -1;
        }
        snap = engine_snapshot(r->app->kpi, c, err, errlen);
        db_release(from, c);
    }
    if (!snap) {
        *status = 503;
        return -1;
    }
    char bad[200];
    int rc = scope_resolve_dir(&snap->scope, r->who, stores, nstores, regions, nregions, set, bad, sizeof bad);
    *generation = snap->generation;
    snapshot_release(r->app->kpi, snap);
    if (rc == SCOPE_DB_ERROR) {
        *status = 500;
        snprintf(err, errlen, "%s", bad);
        return -1;
    }
    if (rc != 0) {
        *status = 403;
        snprintf(err, errlen, "%.150s is not a store or region you may see", bad);
        return -1;
    }
    return 0;
}

void kpi_route_catalogue(http_req *r)
{
    char err[512];
    app *a = r->app;
    if (engine_ready(a, err, sizeof err) != 0) {
        http_reply_error(r, 500, "internal", err, NULL);
        return;
    }
    db_pool *from = NULL;
    db_conn *c = app_acquire_read(a, &from, err, sizeof err);
    if (!c) {
        http_reply_error(r, 503, "db_unavailable", err, NULL);
        return;
    }
    kpi_snapshot *snap = engine_snapshot(a->kpi, c, err, sizeof err);
    db_release(from, c);
    if (!snap) {
        http_reply_error(r, 503, "db_unavailable", err, NULL);
        return;
    }
    cJSON *o = cJSON_CreateObject();
    cJSON *list = o ? cJSON_AddArrayToObject(o, "kpis") : NULL;
    for (int i = 0; list && i < a->plugins->nkpis; i++) {
        cJSON *e = catalogue_entry(a->plugins, &a->plugins->kpis[i], snap->settings);
        if (e) cJSON_AddItemToArray(list, e);
    }
    cJSON *s = kpi_settings_json(snap->settings);
    if (o && s) cJSON_AddItemToObject(o, "settings", s);
    else cJSON_Delete(s);
    cJSON *defs = kpi_setting_defs_json(a->plugins);
    if (o && defs) cJSON_AddItemToObject(o, "setting_defs", defs);
    else cJSON_Delete(defs);
    snapshot_release(a->kpi, snap);
    if (!o) {
        http_reply_error(r, 500, "internal", "out of memory", NULL);
        return;
    }
    http_reply_json(r, 200, o);
}

/* The cache key of an answer: the request and the scope's stores. */
static char *answer_key(const char *const *ids, int nids, const char *from, const char *to, const char *by,
                        const store_set *set)
{
    size_t len = strlen(from) + strlen(to) + strlen(by) + 8;
    for (int i = 0; i < nids; i++) len += strlen(ids[i]) + 1;
    for (int i = 0; i < set->n; i++) len += strlen(set->codes[i]) + 1;
    char *key = malloc(len);
    if (!key) return NULL;
    size_t o = (size_t)snprintf(key, len, "%s|%s|%s|", from, to, by);
    for (int i = 0; i < nids; i++) o += (size_t)snprintf(key + o, len - o, "%s,", ids[i]);
    key[o++] = '|';
    key[o] = '\0';
    for (int i = 0; i < set->n; i++) o += (size_t)snprintf(key + o, len - o, "%s,", set->codes[i]);
    return key;
}

/* Run one query given as strings/arrays; returns the answer as JSON text
 * (malloc'd, *len bytes; gzip-compressed when want_gz and the answer came
 * compressed from the cache: *is_gz), or NULL with status/err. */
static char *run_one(http_req *r, const char *const *ids, int nids, const char *from, const char *to,
                     const char *by, const char *const *stores, int nstores, const char *const *regions,
                     int nregions, bool want_gz, size_t *len, bool *is_gz, int *status, char *err, size_t errlen)
{
    *status = 400;
    *is_gz = false;
    if (nids == 0) { snprintf(err, errlen, "ids: missing (a comma-separated list of KPI ids)"); return NULL; }
    if (!from || !*from) { snprintf(err, errlen, "from: missing (YYYY-MM-DD)"); return NULL; }
    if (!to || !*to) { snprintf(err, errlen, "to: missing (YYYY-MM-DD)"); return NULL; }
    if (strlen(from) != 10) { snprintf(err, errlen, "from: '%.20s' is not a date YYYY-MM-DD", from); return NULL; }
    if (strlen(to) != 10) { snprintf(err, errlen, "to: '%.20s' is not a date YYYY-MM-DD", to); return NULL; }
    if (engine_ready(r->app, err, errlen) != 0) { *status = 500; return NULL; }
    by = by && *by ? by : "group";
    store_set set = { 0 };
    unsigned long long gen = 0;
    if (resolve_scope(r, stores, nstores, regions, nregions, &set, &gen, status, err, errlen) != 0) return NULL;
    char *key = answer_key(ids, nids, from, to, by, &set);
    char *text = key ? answer_get(r->app->kpi, gen, key, want_gz, len, is_gz) : NULL;
    if (text) {
        free(key);
        store_set_free(&set);
        *status = 200;
        return text;
    }
    kpi_request req = { .ids = ids, .nids = nids, .by = by, .stores = &set };
    memcpy(req.from, from, 11);
    memcpy(req.to, to, 11);
    kpi_answer *ans = NULL;
    if (kpi_query(r->app, &req, &ans, status, err, errlen) == 0) {
        cJSON *j = kpi_answer_json(&req, ans);
        text = j ? cJSON_PrintUnformatted(j) : NULL;
        cJSON_Delete(j);
        if (!text) {
            *status = 500;
            snprintf(err, errlen, "out of memory");
        } else {
            *len = strlen(text);
            if (key) answer_put(r->app->kpi, gen, key, text, *len);
        }
    }
    free(key);
    kpi_answer_free(ans);
    store_set_free(&set);
    return text;
}

void kpi_route_query(http_req *r)
{
    char idbuf[8192], stbuf[8192], rgbuf[4096], err[512];
    const char *ids[KPI_MAX_IDS], *stores[1024], *regions[256];
    int nids = split_csv(http_query(r, "ids"), idbuf, sizeof idbuf, ids, KPI_MAX_IDS);
    int nstores = split_csv(http_query(r, "stores"), stbuf, sizeof stbuf, stores, 1024);
    int nregions = split_csv(http_query(r, "regions"), rgbuf, sizeof rgbuf, regions, 256);
    if (nids < 0 || nstores < 0 || nregions < 0) {
        const char *name = nids < 0 ? "ids" : nstores < 0 ? "stores" : "regions";
        int max = nids < 0 ? KPI_MAX_IDS : nstores < 0 ? 1024 : 256;
        http_reply_bad_parameter(r, name, "列表过长 (%s: the list is too long, at most %d values in one query)", name, max);
        return;
    }
    int status;
    size_t len = 0;
    bool gz = false;
    char *text = run_one(r, ids, nids, http_query(r, "from"), http_query(r, "to"), http_query(r, "by"),
                         stores, nstores, regions, nregions, http_accepts_gzip(r), &len, &gz, &status,
                         err, sizeof err);
    if (!text) reply_kpi_error(r, status, err);
    else if (gz) http_reply_gzip(r, 200, "application/json; charset=utf-8", text, len);
    else http_reply_buffer(r, 200, "application/json; charset=utf-8", text, len);
}

/* Strings of a JSON array field into out (at most max); -1 when it is not
 * an array of strings, -2 when it has more than max. */
static int json_strings(const cJSON *o, const char *field, const char **out, int max)
{
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(o, field);
    if (!arr || cJSON_IsNull(arr)) return 0;
    if (!cJSON_IsArray(arr)) return -1;
    int n = 0;
    for (const cJSON *it = arr->child; it; it = it->next) {
        if (!cJSON_IsString(it)) return -1;
        if (n >= max) return -2;
        out[n++] = it->valuestring;
    }
    return n;
}

static const char *json_string(const cJSON *o, const char *field)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, field);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

void kpi_route_batch(http_req *r)
{
    cJSON *body = r->body_len ? cJSON_ParseWithLength(r->body, r->body_len) : NULL;
    if (!cJSON_IsArray(body)) {
        cJSON_Delete(body);
        http_reply_error(r, 400, "bad_json", "the body must be a JSON array of queries "
                         "[{\"ids\":[..],\"from\",\"to\",\"by\",\"stores\":[..],\"regions\":[..]}]", NULL);
        return;
    }
    int n = cJSON_GetArraySize(body);
    if (n > KPI_MAX_BATCH) {
        cJSON_Delete(body);
        http_reply_errorf(r, 400, "bad_parameter", "a batch holds at most %d queries (got %d)", KPI_MAX_BATCH, n);
        return;
    }
    /* the answers' texts joined into one array */
    size_t cap = 4096, used = 0;
    char *out = malloc(cap);
    int i = 0;
    for (const cJSON *q = body->child; q && out; q = q->next, i++) {
        const char *ids[KPI_MAX_IDS], *stores[1024], *regions[256];
        char err[512], msg[600];
        int status = 400;
        int nids = cJSON_IsObject(q) ? json_strings(q, "ids", ids, KPI_MAX_IDS) : -1;
        int nstores = cJSON_IsObject(q) ? json_strings(q, "stores", stores, 1024) : -1;
        int nregions = cJSON_IsObject(q) ? json_strings(q, "regions", regions, 256) : -1;
        char *text = NULL;
        size_t len = 0;
        bool gz = false;             /* never asked for: the answers are joined as text */
        if (!cJSON_IsObject(q)) snprintf(err, sizeof err, "must be an object");
        else if (nids == -2) snprintf(err, sizeof err, "ids: the list is too long (at most %d)", KPI_MAX_IDS);
        else if (nstores == -2) snprintf(err, sizeof err, "stores: the list is too long (at most 1024)");
        else if (nregions == -2) snprintf(err, sizeof err, "regions: the list is too long (at most 256)");
        else if (nids < 0) snprintf(err, sizeof err, "ids: must be an array of KPI ids");
        else if (nstores < 0) snprintf(err, sizeof err, "stores: must be an array of store codes");
        else if (nregions < 0) snprintf(err, sizeof err, "regions: must be an array of region codes");
        else text = run_one(r, ids, nids, json_string(q, "from"), json_string(q, "to"), json_string(q, "by"),
                            stores, nstores, regions, nregions, false, &len, &gz, &status, err, sizeof err);
        if (!text) {
            snprintf(msg, sizeof msg, "query %d: %s", i, err);
            free(out);
            cJSON_Delete(body);
            reply_kpi_error(r, status, msg);
            return;
        }
        if (used + len + 3 > cap) {
            while (used + len + 3 > cap) cap *= 2;
            char *g = realloc(out, cap);
            if (!g) { free(out); out = NULL; free(text); break; }
            out = g;
        }
        out[used++] = i ? ',' : '[';
        memcpy(out + used, text, len);
        used += len;
        free(text);
    }
    cJSON_Delete(body);
    if (!out) {
        http_reply_error(r, 500, "internal", "out of memory", NULL);
        return;
    }
    if (i == 0) out[used++] = '[';
    out[used++] = ']';
    http_reply_buffer(r, 200, "application/json; charset=utf-8", out, used);
}

/* --- HTTP: settings and plugins --- */

void kpi_route_settings_get(http_req *r)
{
    char err[512];
    db_pool *from = NULL;
    db_conn *c = app_acquire_read(r->app, &from, err, sizeof err);
    if (!c) {
        http_reply_error(r, 503, "db_unavailable", err, NULL);
        return;
    }
    kpi_settings *s = NULL;
    int rc = kpi_settings_load(c, r->app->plugins, &s, err, sizeof err);
    db_release(from, c);
    if (rc != 0) {
        http_reply_error(r, 503, "db_unavailable", err, NULL);
        return;
    }
    cJSON *o = kpi_settings_json(s);
    kpi_settings_free(s);
    if (!o) http_reply_error(r, 500, "internal", "out of memory", NULL);
    else http_reply_json(r, 200, o);
}

void kpi_route_settings_put(http_req *r)
{
    char err[512] = "";
    cJSON *body = r->body_len ? cJSON_ParseWithLength(r->body, r->body_len) : NULL;
    if (!cJSON_IsObject(body)) {
        cJSON_Delete(body);
        http_reply_error(r, 400, "bad_json", "the body must be a JSON object {\"setting name\": number}", NULL);
        return;
    }
    db_conn *c = db_acquire(r->app->db, KPI_ACQUIRE_MS, err, sizeof err);
    if (!c) {
        cJSON_Delete(body);
        http_reply_error(r, 503, "db_unavailable", err, NULL);
        return;
    }
    int status = 0;
    int rc = kpi_settings_update(r->app, c, r->who, body, &status, err, sizeof err);
    kpi_settings *s = NULL;
    if (rc == 0 && kpi_settings_load(c, r->app->plugins, &s, err, sizeof err) != 0) {
        rc = -1;
        status = 503;
    }
    db_release(r->app->db, c);
    cJSON_Delete(body);
    if (rc != 0) {
        if (status == 400) http_reply_error(r, 400, "invalid_setting", err, NULL);
        else http_reply_error(r, 503, "db_unavailable", err, NULL);
        return;
    }
    cJSON *o = kpi_settings_json(s);
    kpi_settings_free(s);
    if (!o) http_reply_error(r, 500, "internal", "out of memory", NULL);
    else http_reply_json(r, 200, o);
}

void kpi_route_plugins(http_req *r)
{
    char err[512];
    app *a = r->app;
    if (engine_ready(a, err, sizeof err) != 0) {
        http_reply_error(r, 500, "internal", err, NULL);
        return;
    }
    cJSON *arr = cJSON_CreateArray();
    for (int i = 0; arr && i < a->plugins->nplugins; i++) {
        const loaded_plugin *lp = &a->plugins->plugins[i];
        cJSON *o = cJSON_CreateObject();
        if (!o) break;
        cJSON_AddItemToArray(arr, o);
        cJSON_AddStringToObject(o, "name", lp->name);
        cJSON_AddStringToObject(o, "file", lp->file);
        cJSON_AddStringToObject(o, "status", lp->loaded ? "loaded" : "refused");
        if (lp->loaded) {
            cJSON_AddStringToObject(o, "version", lp->version);
            cJSON_AddStringToObject(o, "description", lp->description);
            cJSON *ids = cJSON_AddArrayToObject(o, "kpis");
            for (int k = 0; ids && k < a->plugins->nkpis; k++)
                if (a->plugins->kpis[k].plugin == i)
                    cJSON_AddItemToArray(ids, cJSON_CreateString(a->plugins->kpis[k].def->id));
        } else {
            cJSON_AddStringToObject(o, "reason", lp->reason);
        }
    }
    if (!arr) http_reply_error(r, 500, "internal", "out of memory", NULL);
    else http_reply_json(r, 200, arr);
}

/* --- fourscore kpi --- */

static void print_value(FILE *f, double v, bool is_null, const char *null_text)
{
    if (is_null || !isfinite(v)) fputs(null_text, f);
    else fprintf(f, "%.10g", v);
}

/* CSV field: quoted when it holds a comma, quote or line end. */
static void print_csv_field(FILE *f, const char *s)
{
    if (!strpbrk(s, ",\"\r\n")) { fputs(s, f); return; }
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"') fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

int cmd_kpi(int argc, char **argv)
{
    opt opts[] = {
        { "--from", OPT_STR, "YYYY-MM-DD", "first day of the period (required)", 0, 0, {0}, 0 },
        { "--to", OPT_STR, "YYYY-MM-DD", "last day of the period (required)", 0, 0, {0}, 0 },
        { "--by", OPT_STR, "BY", "group (default), region, store, month or insurer", 0, 0, {0}, 0 },
        { "--stores", OPT_STR, "S1,S2", "only these stores", 0, 0, {0}, 0 },
        { "--regions", OPT_STR, "R1,R2", "only the stores of these regions", 0, 0, {0}, 0 },
        { "--format", OPT_STR, "FORMAT", "table (default), csv or json", 0, 0, {0}, 0 },
    };
    app a;
    memset(&a, 0, sizeof a);
    char err[1024];
    if (config_load_env(&a.cfg, err, sizeof err) != 0) {
        fprintf(stderr, "fourscore: %s\n", err);
        return 2;
    }
    const char *pos[1];
    int npos = 0;
    int rc = config_parse(&a.cfg, argc, argv, opts, 6, "fourscore kpi IDS --from D --to D [--by BY] [--format F]",
                          "Compute KPIs from the shell (IDS: comma-separated KPI ids, e.g.\n"
                          "service.ro_count,labour.share). The same numbers as the API, over every\n"
                          "store (or --stores / --regions).", pos, 1, &npos);
    if (rc == 1) return 0;
    if (rc != 0) return 2;
    const char *format = opts[5].set ? opts[5].value : "table";
    if (npos != 1) { fprintf(stderr, "fourscore kpi: IDS is required (see --help)\n"); return 2; }
    if (!opts[0].set) { fprintf(stderr, "fourscore kpi: --from is required\n"); return 2; }
    if (!opts[1].set) { fprintf(stderr, "fourscore kpi: --to is required\n"); return 2; }
    if (strcmp(format, "table") && strcmp(format, "csv") && strcmp(format, "json")) {
        fprintf(stderr, "fourscore kpi: --format must be table, csv or json\n");
        return 2;
    }
    if (strlen(opts[0].value) != 10 || strlen(opts[1].value) != 10) {
        fprintf(stderr, "fourscore kpi: --%s is not a date YYYY-MM-DD\n", strlen(opts[0].value) != 10 ? "from" : "to");
        return 2;
    }
    char idbuf[8192], stbuf[8192], rgbuf[4096];
    const char *ids[KPI_MAX_IDS], *stores[1024], *regions[256];
    int nids = split_csv(pos[0], idbuf, sizeof idbuf, ids, KPI_MAX_IDS);
    int nstores = split_csv(opts[3].value, stbuf, sizeof stbuf, stores, 1024);
    int nregions = split_csv(opts[4].value, rgbuf, sizeof rgbuf, regions, 256);
    if (nids < 0 || nstores < 0 || nregions < 0) {
        fprintf(stderr, "fourscore kpi: %s: at most %d values\n", nids < 0 ? "IDS" : nstores < 0 ? "--stores" : "--regions",
                nids < 0 ? KPI_MAX_IDS : nstores < 0 ? 1024 : 256);
        return 2;
    }

    log_set_level(LOG_QUIET);      /* stdout is the answer: no log lines in it */
    if (app_open(&a, true, err, sizeof err) != 0) {
        fprintf(stderr, "fourscore: %s\n", err);
        return 1;
    }
    principal cli = { .role = ROLE_ADMIN, .all_stores = true };
    snprintf(cli.name, sizeof cli.name, "cli");
    store_set set = { 0 };
    kpi_answer *ans = NULL;
    db_pool *from = NULL;
    rc = 1;
    db_conn *c = app_acquire_read(&a, &from, err, sizeof err);
    if (!c) {
        fprintf(stderr, "fourscore kpi: %s\n", err);
        goto done;
    }
    char bad[200];
    int src = scope_resolve(c, &cli, stores, nstores, regions, nregions, &set, bad, sizeof bad);
    db_release(from, c);
    if (src != 0) {
        fprintf(stderr, "fourscore kpi: %s\n", src == SCOPE_DB_ERROR ? bad : "unknown store or region");
        if (src != SCOPE_DB_ERROR) fprintf(stderr, "  (%s)\n", bad);
        rc = src == SCOPE_DB_ERROR ? 1 : 2;
        goto done;
    }
    kpi_request req = { .ids = ids, .nids = nids, .by = opts[2].set ? opts[2].value : "group", .stores = &set };
    memcpy(req.from, opts[0].value, 11);
    memcpy(req.to, opts[1].value, 11);
    int status;
    if (kpi_query(&a, &req, &ans, &status, err, sizeof err) != 0) {
        fprintf(stderr, "fourscore kpi: %s\n", err);
        rc = status == 400 ? 2 : 1;
        goto done;
    }
    if (!strcmp(format, "json")) {
        cJSON *j = kpi_answer_json(&req, ans);
        char *text = j ? cJSON_Print(j) : NULL;
        if (text) printf("%s\n", text);
        free(text);
        cJSON_Delete(j);
    } else if (!strcmp(format, "csv")) {
        printf("key,label");
        for (int k = 0; k < nids; k++) { putchar(','); print_csv_field(stdout, ids[k]); }
        putchar('\n');
        for (int i = 0; i < ans->nrows; i++) {
            print_csv_field(stdout, ans->rows[i].key);
            putchar(',');
            print_csv_field(stdout, ans->rows[i].label);
            for (int k = 0; k < nids; k++) { putchar(','); print_value(stdout, ans->rows[i].values[k], ans->rows[i].is_null[k], ""); }
            putchar('\n');
        }
    } else {
        printf("%-12s", req.by);
        for (int k = 0; k < nids; k++) printf(" %22s", ids[k]);
        putchar('\n');
        for (int i = 0; i < ans->nrows; i++) {
            printf("%-12s", ans->rows[i].key);
            for (int k = 0; k < nids; k++) {
                char v[64];
                if (ans->rows[i].is_null[k] || !isfinite(ans->rows[i].values[k])) snprintf(v, sizeof v, "null");
                else snprintf(v, sizeof v, "%.6g", ans->rows[i].values[k]);
                printf(" %22s", v);
            }
            printf("  %s\n", ans->rows[i].label);
        }
    }
    rc = 0;
done:
    kpi_answer_free(ans);
    store_set_free(&set);
    kpi_close(&a);
    app_close(&a);
    return rc;
}
