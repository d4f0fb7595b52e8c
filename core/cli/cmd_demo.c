/* cmd_demo: `fourscore demo`: generate the demo dealer group and load it
 * (core/demo/), or with --out only write its CSV files. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "app.h"
#include "cli.h"
#include "commands.h"
#include "config.h"
#include "demo.h"
#include "kpi.h"

static int parse_int_opt(const char *name, const char *v, long long lo, long long hi, long long *out)
{
    char *end;
    errno = 0;
    long long x = strtoll(v, &end, 10);
    if (errno || end == v || *end || x < lo || x > hi) {
        fprintf(stderr, "fourscore demo: %s must be a whole number from %lld to %lld (got '%s')\n", name, lo, hi, v);
        return -1;
    }
    *out = x;
    return 0;
}

int cmd_demo(int argc, char **argv)
{
    opt opts[] = {
        { "--stores", OPT_STR, "N", "number of stores (default 24)", 0, 0, {0}, 0 },
        { "--years", OPT_STR, "Y", "years of history (default 3)", 0, 0, {0}, 0 },
        { "--end", OPT_STR, "YYYY-MM", "last month generated (default: last month)", 0, 0, {0}, 0 },
        { "--seed", OPT_STR, "S", "random seed: the same seed and --end give the same data (default 1)", 0, 0, {0}, 0 },
        { "--out", OPT_STR, "DIR", "only write the CSV files (import format) to DIR, do not load them", 0, 0, {0}, 0 },
        { "--through", OPT_STR, "DAY", "the last day of the --end month with data (1-31, or YYYY-MM-DD, which also sets --end); "
          "nothing dated after it is generated (default: the whole month)", 0, 0, {0}, 0 },
        { "--stale", OPT_STR, "N", "N stores whose data stops 2 to 4 days before the others (default 0)", 0, 0, {0}, 0 },
    };
    app a;
    char err[4096];
    const char *pos[1];
    int npos = 0;
    int rc = cli_open(&a, argc, argv, opts, (int)(sizeof opts / sizeof opts[0]),
                          "fourscore demo [--stores N] [--years Y] [--end YYYY-MM] [--through DAY] [--stale N] [--seed S] [--out DIR] [options]",
                          "Generate the demo dealer group (4S stores in 华南, 华东, 华北, 西南 with three years of\n"
                          "sales, after-sales, insurance, receivables and stock, each store's monthly targets and\n"
                          "its customers' made-up mobile numbers) and load it into the database through the\n"
                          "importer, then create the demo users. With --out DIR, only write one CSV file per\n"
                          "entity in the import format to DIR.\n"
                          "A partial last month, for the daily report and the freshness warnings:\n"
                          "  fourscore demo --end 2026-11 --through 20 --stale 3\n"
                          "ends the data on 2026-11-20, and on 11-16 to 11-18 at three of the stores.",
                          pos, 0, &npos);
    if (rc != 0) return rc < 0 ? 0 : rc;
    demo_opts o;
    demo_opts_default(&o);
    long long v;
    if (opts[0].set) { if (parse_int_opt("--stores", opts[0].value, 1, 5000, &v) != 0) return 2; o.stores = (int)v; }
    if (opts[1].set) { if (parse_int_opt("--years", opts[1].value, 1, 10, &v) != 0) return 2; o.years = (int)v; }
    if (opts[2].set) {
        int y, m;
        char tail;
        if (sscanf(opts[2].value, "%4d-%2d%c", &y, &m, &tail) != 2 || strlen(opts[2].value) != 7 ||
            m < 1 || m > 12 || y < 2000 || y > 2100) {
            fprintf(stderr, "fourscore demo: --end must be a month YYYY-MM between 2000-01 and 2100-12 (got '%s')\n", opts[2].value);
            return 2;
        }
        o.end_year = y;
        o.end_month = m;
    }
    if (opts[5].set) {
        int y, m, d;
        char tail;
        if (strlen(opts[5].value) == 10 && sscanf(opts[5].value, "%4d-%2d-%2d%c", &y, &m, &d, &tail) == 3 &&
            y >= 2000 && y <= 2100 && m >= 1 && m <= 12) {
            if (opts[2].set && (y != o.end_year || m != o.end_month)) {
                fprintf(stderr, "fourscore demo: --through %s is not in the --end month %s\n", opts[5].value, opts[2].value);
                return 2;
            }
            o.end_year = y;
            o.end_month = m;
            v = d;
        } else if (parse_int_opt("--through", opts[5].value, 1, 31, &v) != 0) {
            return 2;
        }
        o.through = (int)v;
    }
    if (opts[6].set) { if (parse_int_opt("--stale", opts[6].value, 0, 5000, &v) != 0) return 2; o.stale = (int)v; }
    if (opts[3].set) {
        char *end;
        errno = 0;
        unsigned long long s = strtoull(opts[3].value, &end, 10);
        if (errno || end == opts[3].value || *end || opts[3].value[0] == '-') {
            fprintf(stderr, "fourscore demo: --seed must be a whole number >= 0 (got '%s')\n", opts[3].value);
            return 2;
        }
        o.seed = s;
    }
    if (opts[4].set) {
        const char *dir = opts[4].value;
        if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
            fprintf(stderr, "fourscore demo: cannot create %s: %s\n", dir, strerror(errno));
            return 1;
        }
        long long rows[DEMO_ENTITIES_MAX];
        fprintf(stderr, "生成演示集团 / generating the demo group: %d 门店 stores, %d 年 years to %04d-%02d, seed %llu\n",
                o.stores, o.years, o.end_year, o.end_month, (unsigned long long)o.seed);
        if (o.through) fprintf(stderr, "  数据截至 data through %04d-%02d-%02d\n", o.end_year, o.end_month, o.through);
        if (demo_write_csv(&o, dir, rows, err, sizeof err) != 0) {
            fprintf(stderr, "fourscore demo: %s\n", err);
            return 1;
        }
        for (int e = 0; e < demo_entity_count(); e++)
            fprintf(stderr, "  %s/%s.csv: %lld 行 rows\n", dir, demo_entity_name(e), rows[e]);
        demo_print_story(&o);
        return 0;
    }
    if (cli_app_open(&a, "demo") != 0) return 1;
    rc = demo_load(&a, &o, err, sizeof err);
    if (rc != 0) fprintf(stderr, "fourscore demo: %s\n", err);
    kpi_close(&a);      /* the targets' check loaded the plugins */
    app_close(&a);
    return rc == 0 ? 0 : 1;
}
