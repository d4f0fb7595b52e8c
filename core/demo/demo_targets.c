/* demo_targets: what the demo stores are asked to do and how their customers
 * are reached: each store's monthly budgets (the `targets` entity, one row
 * per month and budget KPI of the catalogue) and the customers' mobile
 * numbers. Part of the demo generator (core/demo/, demo_gen.c has the whole).
 *
 * A budget is set the way a group sets it: the store's figure of the same
 * month a year before times a growth rate of its own, 5-10 % for most
 * stores and 18-28 % for the few the group pushes hard (one in five),
 * which therefore fall behind. In the window's first year, which has no
 * year before it in the data, the month's own figure less a typical year's
 * growth stands in for it (a month the data stops inside counted for the
 * whole month). The budgets follow last year's calendar: a Spring Festival
 * that moves from January to February leaves February behind. The draws come
 * from a stream of their own (the seed and the store), so budgets change
 * nothing else the demo writes. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "demo_private.h"

#define TYPICAL_GROWTH 0.075      /* what an ordinary store is asked for, the middle of 5-10 % */

/* The figure f of month offset mo as a whole month: the month's own value,
 * scaled up to the whole month when the store's data stops inside it. */
static double whole_month(const store_sim *s, int mo, enum fig f)
{
    int mi = s->start_month + mo, y = mi / 12, m = mi % 12 + 1;
    int first = calendar_days_from_civil(y, m, 1), dim = calendar_days_in_month(y, m);
    int with_data = s->end_day - first + 1;
    if (with_data >= dim) return (double)s->figs[mo][f];
    if (with_data <= 0) return mo > 0 ? whole_month(s, mo - 1, f) : 0.0;
    return (double)s->figs[mo][f] * dim / with_data;
}

/* value (in the figure's unit) as the import wants it: counts whole, money
 * in whole hundreds of yuan, hours to a tenth. */
static void write_value(csv_out *w, enum fig_unit unit, double v)
{
    if (v < 0) v = 0;
    switch (unit) {
    case FU_COUNT: csv_int(w, llround(v)); break;
    case FU_CENTS: csv_hundredths(w, llround(v / 10000.0) * 10000); break;
    case FU_HUNDREDTHS: csv_hundredths(w, llround(v / 10.0) * 10); break;
    }
}

void write_targets(gen *g, const store_sim *s)
{
    csv_out *w = &g->out[E_TARGETS];
    rng r;
    rng_seed(&r, g->o->seed, 0x7A2E0000ull + (uint64_t)s->idx);
    bool pushed = s->idx % 5 == 3;        /* one store in five: 3, 8, 13, 18, 23 of 24 */
    double growth = pushed ? 0.18 + 0.10 * rng_unit(&r) : 0.05 + 0.05 * rng_unit(&r);
    for (int mo = 0; mo < s->nmonths; mo++) {
        int mi = s->start_month + mo;
        char month[16];
        snprintf(month, sizeof month, "%04d-%02d", mi / 12, mi % 12 + 1);
        for (int f = 0; f < F_COUNT; f++) {
            double noise = 0.02 * (rng_unit(&r) - 0.5);
            double v = mo >= 12 ? whole_month(s, mo - 12, (enum fig)f) * (1.0 + growth + noise)
                                : whole_month(s, mo, (enum fig)f) * (1.0 + growth - TYPICAL_GROWTH + noise);
            csv_row_start(w);
            csv_str(w, s->code); csv_str(w, month); csv_str(w, fig_kpis[f].kpi);
            write_value(w, fig_kpis[f].unit, v);
            csv_row_end(w);
        }
    }
}

/* Mobile prefixes of the three carriers (China Mobile, China Unicom, China
 * Telecom), roughly in proportion to their subscribers. */
static const char *const mobile_prefixes[] = {
    "134", "135", "136", "137", "138", "139", "150", "151", "152", "157", "158", "159", "178", "182", "183",
    "187", "188", "198", "130", "131", "132", "155", "156", "166", "175", "176", "185", "186", "133", "153",
    "173", "177", "180", "181", "189", "199",
};

/* A made-up mobile number of the 1xx-xxxx-xxxx form: a carrier prefix and
 * eight random digits (taken from no list of real subscribers). */
void customer_phone(rng *r, char *buf, size_t len)
{
    const char *prefix = mobile_prefixes[rng_range(r, 0, COUNT_OF(mobile_prefixes) - 1)];
    long long rest = rng_range(r, 0, 99999999);
    snprintf(buf, len, "%s-%04lld-%04lld", prefix, rest / 10000, rest % 10000);
}
