/* demo_gen: the demo dealer group generator (`fourscore demo`, `serve --demo`):
 * the files of the whole group, and loading them (core/data/bulk_load.c).
 *
 * The group is simulated store by store, vehicle by vehicle, so the numbers
 * hang together: every vehicle has an owner, a sale (if the group sold it in
 * the window) or a place in the store's existing park, a chain of service
 * visits every 4-6 months until it churns, repairs, accidents paid by its
 * insurer, warranty work, yearly insurance policies, and each visit has its
 * labour and parts lines, invoice (when a company pays), payments, follow-up
 * call, survey and appointment. Parts issues drive the month-end stock snapshots; revenue
 * drives the month's personnel cost and fixed expenses.
 *
 * Determinism: one seedable xoshiro256** stream per store (seeded through
 * splitmix64 from the seed and the store index), integer money (cents),
 * hours and quantities (hundredths), and no clock but the --end month. The
 * same seed and end month give the same files byte for byte.
 *
 * The story: a few stores are weak in one domain each (demo_weak_store()):
 * low labour share, aged receivables, poor insurance renewal, high churn,
 * slow-moving parts. The others look like real 4S stores of their brand,
 * city and size (store_init()): insurers steer accident repairs worth about
 * 0.8 of the premium a store sells them, few stores bring 95 % of their new
 * vehicles back for the first service, brands leave different parts
 * margins, and each store has its own materials use, workshop efficiency,
 * referral share, staff turnover, personnel cost and follow-up habits.
 * Over any 12 months the group's figures stay in the ranges of Chinese 4S
 * practice; tests/integration/demo_story.test.mjs checks them.
 * Seasonality: a dip around the Spring Festival and an air-conditioning
 * repair peak in summer. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "app.h"
#include "auth.h"
#include "bulk_load.h"
#include "db.h"
#include "demo_private.h"
#include "clock.h"
#include "kpi.h"

/* --- weak stores: the story the dashboards tell --- */

const char *const demo_weakness_keys[DEMO_WEAK_COUNT] = {
    "labour_share", "receivables", "renewal", "churn", "slow_parts",
};

int demo_weak_store(int nstores, enum demo_weakness w)
{
    /* Store 0 stays a healthy reference; the weak ones are spread over the
     * group (1, 5, 10, 14, 19 of 24), one weakness each. */
    if (nstores < 2 || (int)w < 0 || w >= DEMO_WEAK_COUNT) return -1;
    if (nstores <= DEMO_WEAK_COUNT) return (int)w + 1 < nstores ? (int)w + 1 : -1;
    return 1 + (int)w * (nstores - 1) / DEMO_WEAK_COUNT;
}

int demo_stale_days(const demo_opts *o, int i)
{
    /* the stale stores: from the last store down, skipping store 0 and the weak ones */
    int k = 0;
    for (int j = o->stores - 1; j > 0 && k < o->stale; j--) {
        bool weak = false;
        for (int w = 0; w < DEMO_WEAK_COUNT; w++) weak = weak || demo_weak_store(o->stores, (enum demo_weakness)w) == j;
        if (weak) continue;
        if (j == i) return 2 + k % 3;
        k++;
    }
    return 0;
}

void demo_store_code(int i, char *buf, size_t buflen)
{
    int r = i % N_REGIONS, j = i / N_REGIONS;
    snprintf(buf, buflen, "%s%03d", cities[r][j % CITIES_PER_REGION].code, i + 1);
}


/* --- the files --- */

void demo_opts_default(demo_opts *o)
{
    memset(o, 0, sizeof *o);
    o->stores = 24;
    o->years = 3;
    o->seed = 1;
    o->volume = 1.0;
    time_t now = time(NULL);
    struct tm tmv;
    gmtime_r(&now, &tmv);
    int y = tmv.tm_year + 1900, m = tmv.tm_mon + 1;   /* this month; the default ends last month */
    if (--m == 0) { m = 12; y--; }
    o->end_year = y;
    o->end_month = m;
}

static int close_files(gen *g, const char *dir, char *err, size_t errlen)
{
    int rc = 0;
    for (int e = 0; e < E_COUNT; e++) {
        if (!g->out[e].f) continue;
        bool bad = ferror(g->out[e].f) != 0;
        if (fclose(g->out[e].f) != 0) bad = true;
        g->out[e].f = NULL;
        if (bad && rc == 0) {
            snprintf(err, errlen, "demo: writing %s/%s.csv failed: %s", dir, entity_files[e].name, strerror(errno));
            rc = -1;
        }
    }
    return rc;
}

int demo_write_csv(const demo_opts *o, const char *dir, long long *rows, char *err, size_t errlen)
{
    if (o->stores < 1 || o->stores > 5000) { snprintf(err, errlen, "--stores must be 1..5000 (got %d)", o->stores); return -1; }
    if (o->years < 1 || o->years > 10) { snprintf(err, errlen, "--years must be 1..10 (got %d)", o->years); return -1; }
    if (!(o->volume > 0 && o->volume <= 10)) { snprintf(err, errlen, "demo: volume must be in (0, 10]"); return -1; }
    if (o->end_month < 1 || o->end_month > 12 || o->end_year < 2000 || o->end_year > 2100) {
        snprintf(err, errlen, "--end must be a month YYYY-MM between 2000-01 and 2100-12");
        return -1;
    }
    int dim = calendar_days_in_month(o->end_year, o->end_month);
    if (o->through < 0 || o->through > dim) {
        snprintf(err, errlen, "--through must be a day of %04d-%02d (1 to %d, got %d)", o->end_year, o->end_month, dim, o->through);
        return -1;
    }
    if (o->stale < 0 || o->stale > o->stores) { snprintf(err, errlen, "--stale must be 0..%d (got %d)", o->stores, o->stale); return -1; }
    gen g;
    memset(&g, 0, sizeof g);
    g.o = o;
    int end_index = o->end_year * 12 + o->end_month - 1;
    g.start_month_index = end_index - o->years * 12 + 1;
    g.start_day = calendar_days_from_civil(g.start_month_index / 12, g.start_month_index % 12 + 1, 1);
    g.end_day = calendar_days_from_civil(o->end_year, o->end_month, o->through ? o->through : dim);

    for (int e = 0; e < E_COUNT; e++) {
        char path[PATH_MAX];
        if (snprintf(path, sizeof path, "%s/%s.csv", dir, entity_files[e].name) >= (int)sizeof path) {
            snprintf(err, errlen, "demo: output directory path too long: %s", dir);
            close_files(&g, dir, err, errlen);
            return -1;
        }
        g.out[e].f = fopen(path, "w");
        if (!g.out[e].f) {
            snprintf(err, errlen, "demo: cannot create %s: %s", path, strerror(errno));
            char ignored[8];
            close_files(&g, dir, ignored, sizeof ignored);
            return -1;
        }
        fprintf(g.out[e].f, "%s\n", entity_files[e].header);
    }
    for (int r = 0; r < N_REGIONS; r++) {
        csv_out *w = &g.out[E_REGIONS];
        csv_row_start(w); csv_str(w, regions[r].code); csv_str(w, regions[r].name); csv_row_end(w);
    }
    for (int i = 0; i < N_INSURERS; i++) {
        csv_out *w = &g.out[E_INSURERS];
        csv_row_start(w); csv_str(w, insurers[i].code); csv_str(w, insurers[i].name); csv_row_end(w);
    }
    double t0 = clock_ms();
    long long total_ros = 0;
    for (int i = 0; i < o->stores; i++) {
        long long n = generate_store(&g, i, err, errlen);
        if (n < 0) {
            char ignored[8];
            close_files(&g, dir, ignored, sizeof ignored);
            return -1;
        }
        total_ros += n;
        if (!o->quiet && (o->stores <= 30 || (i + 1) % 10 == 0 || i + 1 == o->stores)) {
            fprintf(stderr, "  生成 generating: 门店 store %d/%d, %lld 工单 ROs, %.1f s\n",
                    i + 1, o->stores, total_ros, clock_seconds_since(t0));
        }
    }
    if (rows) for (int e = 0; e < E_COUNT; e++) rows[e] = g.out[e].rows;
    return close_files(&g, dir, err, errlen);
}

/* The story, for the person who will look at the dashboards. */
void demo_print_story(const demo_opts *o)
{
    static const char *const zh[DEMO_WEAK_COUNT] = {
        "工时产值占比偏低", "应收账款账龄偏长", "续保率偏低", "客户流失偏高", "滞销/呆滞库存偏高",
    };
    bool any = false;
    for (int w = 0; w < DEMO_WEAK_COUNT; w++) {
        int i = demo_weak_store(o->stores, (enum demo_weakness)w);
        if (i < 0) continue;
        if (!any) fprintf(stderr, "演示集团的薄弱门店 / weak stores of the demo group:\n");
        any = true;
        char code[16];
        demo_store_code(i, code, sizeof code);
        fprintf(stderr, "  weak %s: %s  %s\n", demo_weakness_keys[w], code, zh[w]);
    }
}


static int make_temp_dir(const char *base, char *dir, size_t len)
{
    if (snprintf(dir, len, "%s/demo-XXXXXX", base) >= (int)len) { errno = ENAMETOOLONG; return -1; }
    return mkdtemp(dir) ? 0 : -1;
}

static void remove_files(const char *dir)
{
    for (int e = 0; e < E_COUNT; e++) {
        char path[PATH_MAX];
        if (snprintf(path, sizeof path, "%s/%s.csv", dir, entity_files[e].name) < (int)sizeof path) unlink(path);
    }
    rmdir(dir);
}

int demo_load(app *a, const demo_opts *o, char *err, size_t errlen)
{
    /* the files go next to the database (local mode), else to $TMPDIR */
    char dir[PATH_MAX];
    const char *tmp = config_tmp_dir();
    const char *base = a->cfg.data_dir[0] ? a->cfg.data_dir : tmp;
    if (make_temp_dir(base, dir, sizeof dir) != 0 && (base == tmp || make_temp_dir(base = tmp, dir, sizeof dir) != 0)) {
        snprintf(err, errlen, "demo: cannot create a temporary directory in %s: %s", base, strerror(errno));
        return -1;
    }
    fprintf(stderr, "生成演示集团 / generating the demo group: %d 门店 stores, %d 年 years to %04d-%02d, seed %llu\n",
            o->stores, o->years, o->end_year, o->end_month, (unsigned long long)o->seed);
    if (o->through) fprintf(stderr, "  数据截至 data through %04d-%02d-%02d\n", o->end_year, o->end_month, o->through);
    long long rows[E_COUNT];
    double t0 = clock_ms();
    if (demo_write_csv(o, dir, rows, err, errlen) != 0) { remove_files(dir); return -1; }
    fprintf(stderr, "导入演示数据 / importing (%.1f s so far)\n", clock_seconds_since(t0));
    bulk_file files[E_COUNT];
    for (int e = 0; e < E_COUNT; e++) files[e] = (bulk_file){ entity_files[e].name, rows[e] };
    /* the targets name KPIs: checked against the catalogue of the loaded plugins */
    int rc = bulk_load_dir(a, dir, files, E_COUNT, kpi_budget_check, a, err, errlen);
    remove_files(dir);
    if (rc != 0) return -1;
    db_conn *c = db_acquire(a->db, 5000, err, errlen);
    if (!c) return -1;
    rc = auth_create_demo_users(c, err, errlen);     /* prints the demo logins */
    db_release(a->db, c);
    if (rc != 0) return -1;
    fprintf(stderr, "演示数据已加载 / demo group loaded in %.1f s\n", clock_seconds_since(t0));
    demo_print_story(o);
    return 0;
}

int demo_entity_count(void)
{
    return E_COUNT;
}

const char *demo_entity_name(int e)
{
    return e >= 0 && e < E_COUNT ? entity_files[e].name : NULL;
}

int demo_load_if_empty(app *a, char *err, size_t errlen)
{
    db_conn *c = db_acquire(a->db, 5000, err, errlen);
    if (!c) return -1;
    db_result *res = NULL;
    int rc = db_query(c, "SELECT COUNT(*) FROM stores", NULL, 0, &res, err, errlen);
    long long n = rc == 0 && res->nrows == 1 ? db_cell_int(res, 0, 0) : -1;
    if (res) db_result_free(res);
    db_release(a->db, c);
    if (rc != 0) return -1;
    if (n > 0) {
        fprintf(stderr, "数据库已有 %lld 家门店，不加载演示数据 / the database has stores: the demo group is not loaded\n", n);
        return 0;
    }
    demo_opts o;
    demo_opts_default(&o);
    return demo_load(a, &o, err, errlen);
}

