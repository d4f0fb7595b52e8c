/* demo_ros: one demo store's repair orders and everything hanging off them
 * (labour and parts lines, invoices, payments, follow-up calls, surveys,
 * appointments), its month-end parts stock snapshots and its monthly
 * financials: generate_store() writes one whole store. Part of the demo
 * generator (core/demo/, demo_gen.c has the whole). */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "demo_private.h"

/* --- parts stock snapshots at each month end --- */

static void write_snapshot(gen *g, store_sim *s, int day)
{
    csv_out *w = &g->out[E_PARTS_STOCK];
    bool slow = s->weak[DEMO_WEAK_SLOW_PARTS];
    for (int k = 0; k < s->nparts; k++) {
        part *pt = &s->parts[k];
        long long qty;
        if (pt->dead) {
            qty = pt->dead_qty;
        } else {
            double cover = slow ? 2.5 + 2.0 * rng_unit(&s->r) : 0.9 + 0.8 * rng_unit(&s->r);
            qty = (long long)(pt->issued_this_month * cover) / 100 * 100;
            qty += rng_range(&s->r, 0, slow ? 6 : 2) * 100;
            if (pt->issued_this_month > 0) pt->last_receipt = day - (int)rng_range(&s->r, 0, 12);
            pt->issued_this_month = 0;
        }
        if (qty <= 0) continue;
        csv_row_start(w);
        csv_str(w, s->code); csv_date(w, day); csv_str(w, pt->part_no);
        csv_hundredths(w, qty); csv_hundredths(w, pt->cost);
        if (pt->last_issue == INT_MIN) csv_null(w); else csv_date(w, pt->last_issue);
        csv_date(w, pt->last_receipt);
        csv_row_end(w);
    }
}

/* --- repair orders and everything hanging off them --- */

/* An RO's sums as it is written: labour, parts sold (every category) and
 * their cost, and for the budget figures the part and accessory sales and
 * the sold hours. */
typedef struct ro_totals { long long labour, sale, cost, part_sale, accessory_sale, hours; } ro_totals;

static void labour_line(gen *g, store_sim *s, const char *ro_no, int *line, const char *op,
                        long long hours100, int rate, int day, ro_totals *t)
{
    csv_out *w = &g->out[E_RO_LABOUR];
    if (s->weak[DEMO_WEAK_LABOUR_SHARE]) hours100 = hours100 * 75 / 100;
    if (hours100 < 10) hours100 = 10;
    char tech[16];
    slot_code(&s->techs[rng_range(&s->r, 0, s->ntechs - 1)], "T", day, tech, sizeof tech);
    long long amount = hours100 * rate;     /* hundredths of an hour x yuan = cents */
    csv_row_start(w);
    csv_str(w, s->code); csv_str(w, ro_no); csv_int(w, ++*line); csv_str(w, op); csv_str(w, tech);
    csv_hundredths(w, hours100);
    if (rng_chance(&s->r, 0.08)) csv_null(w);
    else csv_hundredths(w, (long long)(hours100 * (0.9 + 0.2 * rng_unit(&s->r)) / s->tech_efficiency));
    csv_hundredths(w, amount);
    csv_row_end(w);
    t->labour += amount;
    t->hours += hours100;
}

/* One parts line of pool p (index from the pool's skewed popularity unless
 * fixed >= 0); qty in hundredths. */
static void parts_line(gen *g, store_sim *s, const char *ro_no, int *line, enum pool p, int fixed,
                       long long qty100, int day, ro_totals *t)
{
    csv_out *w = &g->out[E_RO_PARTS];
    int k = s->pool_first[p] + (fixed >= 0 ? fixed : rng_skewed(&s->r, pools[p].n));
    part *pt = &s->parts[k];
    if (p != P_MATERIAL) qty100 = qty100 / 100 * 100;      /* whole units: cents stay exact */
    if (qty100 < (p == P_MATERIAL ? 1 : 100)) qty100 = p == P_MATERIAL ? 10 : 100;
    bool from_stock = p == P_MATERIAL || rng_chance(&s->r, 0.93);
    csv_row_start(w);
    csv_str(w, s->code); csv_str(w, ro_no); csv_int(w, ++*line); csv_str(w, pt->part_no);
    csv_str(w, pools[p].category); csv_hundredths(w, qty100);
    csv_hundredths(w, pt->price); csv_hundredths(w, pt->cost); csv_bool(w, from_stock);
    csv_row_end(w);
    t->sale += qty100 * pt->price / 100;
    t->cost += qty100 * pt->cost / 100;
    if (p == P_ACCESSORY) t->accessory_sale += qty100 * pt->price / 100;
    else if (p != P_MATERIAL) t->part_sale += qty100 * pt->price / 100;
    if (from_stock) {
        pt->last_issue = day;
        pt->issued_this_month += qty100;
    }
}

static void ro_lines(gen *g, store_sim *s, const event *e, const char *ro_no, ro_totals *t)
{
    rng *r = &s->r;
    int ln = 0, pn = 0, day = e->day, rate = s->labour_rate;
    switch ((enum ro_kind)e->kind) {
    case K_FIRST:
        labour_line(g, s, ro_no, &ln, "FS01", 80, rate, day, t);
        parts_line(g, s, ro_no, &pn, P_MAINT, 0, 400, day, t);
        parts_line(g, s, ro_no, &pn, P_MAINT, 1, 100, day, t);
        break;
    case K_MAINT:
        labour_line(g, s, ro_no, &ln, "MT01", rng_range(r, 50, 100), rate, day, t);
        if (rng_chance(r, 0.3)) labour_line(g, s, ro_no, &ln, "MT02", rng_range(r, 30, 80), rate, day, t);
        parts_line(g, s, ro_no, &pn, P_MAINT, 0, rng_range(r, 4, 5) * 100, day, t);
        parts_line(g, s, ro_no, &pn, P_MAINT, 1, 100, day, t);
        if (rng_chance(r, 0.6)) parts_line(g, s, ro_no, &pn, P_MAINT, 2 + rng_skewed(r, pools[P_MAINT].n - 2), rng_range(r, 1, 4) * 100, day, t);
        if (rng_chance(r, 0.08)) parts_line(g, s, ro_no, &pn, P_ACCESSORY, -1, 100, day, t);
        break;
    case K_REPAIR:
        if (e->ac) {
            labour_line(g, s, ro_no, &ln, "AC01", rng_range(r, 100, 300), rate, day, t);
            for (int i = (int)rng_range(r, 1, 2); i > 0; i--) parts_line(g, s, ro_no, &pn, P_AC, -1, 100, day, t);
        } else {
            for (int i = (int)rng_range(r, 1, 2); i > 0; i--)
                labour_line(g, s, ro_no, &ln, i == 1 ? "RP01" : "RP02", rng_range(r, 50, 250), rate, day, t);
            for (int i = (int)rng_range(r, 1, 3); i > 0; i--)
                parts_line(g, s, ro_no, &pn, P_REPAIR, -1, rng_range(r, 1, 2) * 100, day, t);
        }
        break;
    case K_BODY: {
        int u = (int)rng_range(r, 0, 99), severity = 0;
        for (int acc = body_jobs[0].share_pct; u >= acc && severity + 1 < N_SEVERITIES; acc += body_jobs[++severity].share_pct) {}
        labour_line(g, s, ro_no, &ln, "BD01", rng_range(r, body_jobs[severity].lo1, body_jobs[severity].hi1), rate, day, t);
        labour_line(g, s, ro_no, &ln, "BD02", rng_range(r, body_jobs[severity].lo2, body_jobs[severity].hi2), rate, day, t);
        for (int i = (int)rng_range(r, body_jobs[severity].parts_lo, body_jobs[severity].parts_hi); i > 0; i--)
            parts_line(g, s, ro_no, &pn, P_BODY, -1, 100, day, t);
        /* paint and consumables: the store's share of the job's revenue at
         * cost (c / (1 + 1.35 c) of the revenue with materials sold at 1.35) */
        double c = s->materials_ratio / (1.0 - MATERIAL_MARKUP * s->materials_ratio);
        long long target_cost = (long long)((t->labour + t->sale) * c * (0.85 + 0.3 * rng_unit(r)));
        int nmat = (int)rng_range(r, 1, 2);
        for (int i = 0; i < nmat; i++) {
            int idx = rng_skewed(r, pools[P_MATERIAL].n);
            long long cost = s->parts[s->pool_first[P_MATERIAL] + idx].cost;
            parts_line(g, s, ro_no, &pn, P_MATERIAL, idx, target_cost / nmat * 100 / cost, day, t);
        }
        break;
    }
    case K_WARRANTY:
        labour_line(g, s, ro_no, &ln, "WR01", rng_range(r, 100, 400), rate, day, t);
        for (int i = (int)rng_range(r, 1, 2); i > 0; i--) parts_line(g, s, ro_no, &pn, P_REPAIR, -1, 100, day, t);
        break;
    case K_INTERNAL:
        labour_line(g, s, ro_no, &ln, "PDI1", rng_range(r, 80, 150), rate / 2, day, t);
        if (rng_chance(r, 0.3)) parts_line(g, s, ro_no, &pn, P_MATERIAL, 0, 50, day, t);
        break;
    }
}

static void write_followups(gen *g, store_sim *s, const char *ro_no, int closed_day, const double csi[5])
{
    rng *r = &s->r;
    if (rng_chance(r, s->followup_p)) {
        int day = closed_day + (rng_chance(r, 0.8) ? (int)rng_range(r, 1, 3) : (int)rng_range(r, 4, 8));
        if (day <= s->end_day) {
            csv_out *w = &g->out[E_FOLLOW_UP_CALLS];
            bool reached = rng_chance(r, 0.86);
            bool complaint = reached && rng_chance(r, 0.035);
            csv_row_start(w);
            csv_str(w, s->code); csv_str(w, ro_no);
            csv_ts(w, (long long)day * 1440 + rng_range(r, 9 * 60 + 30, 18 * 60));
            csv_bool(w, reached); csv_bool(w, complaint);
            csv_row_end(w);
        }
    }
    if (rng_chance(r, 0.22)) {
        int day = closed_day + (int)rng_range(r, 2, 10);
        if (day <= s->end_day) {
            csv_out *w = &g->out[E_CSI_SURVEYS];
            csv_row_start(w);
            csv_str(w, s->code); csv_str(w, ro_no); csv_date(w, day);
            for (int d = 0; d < 5; d++) {
                double v = csi[d] + 0.7 * rng_normal(r);
                long long tenths = (long long)(v * 10 + 0.5);
                if (tenths < 0) tenths = 0;
                if (tenths > 100) tenths = 100;
                csv_hundredths(w, tenths * 10);
            }
            csv_row_end(w);
        }
    }
}

static void write_appointments(gen *g, store_sim *s, const event *e, const char *ro_no, double appt_share)
{
    rng *r = &s->r;
    csv_out *w = &g->out[E_APPOINTMENTS];
    const char *vin = s->veh[e->vehicle].vin;
    if (rng_chance(r, 0.08)) {          /* an earlier booking not kept */
        int day = e->day - (int)rng_range(r, 5, 20);
        if (day >= s->start_day + 7) {
            long long at = (long long)day * 1440 + rng_range(r, 16, 34) * 30;
            char no[24];
            snprintf(no, sizeof no, "A%07lld", ++s->next_appt);
            csv_row_start(w);
            csv_str(w, s->code); csv_str(w, no); csv_str(w, vin);
            csv_ts(w, at - rng_range(r, 1, 5) * 1440 - rng_range(r, 0, 600)); csv_ts(w, at);
            csv_bool(w, false); csv_null(w);
            csv_row_end(w);
        }
    }
    if (rng_chance(r, appt_share)) {
        long long at = (long long)e->day * 1440 + e->minute / 30 * 30;
        char no[24];
        snprintf(no, sizeof no, "A%07lld", ++s->next_appt);
        csv_row_start(w);
        csv_str(w, s->code); csv_str(w, no); csv_str(w, vin);
        csv_ts(w, at - rng_range(r, 1, 7) * 1440 - rng_range(r, 0, 600)); csv_ts(w, at);
        csv_bool(w, true); csv_str(w, ro_no);
        csv_row_end(w);
    }
}

/* Every RO of the store in opening order; month-end stock snapshots as the
 * months pass. */
static int store_repair_orders(gen *g, store_sim *s, char *err, size_t errlen)
{
    csv_out *w = &g->out[E_REPAIR_ORDERS];
    rng *r = &s->r;
    int *ro_seq_of_id = malloc((size_t)(s->nev ? s->nev : 1) * sizeof *ro_seq_of_id);
    if (!ro_seq_of_id) { snprintf(err, errlen, "demo: out of memory"); return -1; }
    /* the store's mean score of each SERVQUAL dimension (reliability,
     * responsiveness, assurance, empathy, tangibles): a common pattern (the
     * showroom scores best, waiting worst), each store's own strengths and
     * weaknesses around it; the high-churn store keeps people waiting and
     * does not listen */
    static const double dimension_offset[5] = {0.1, -0.2, 0.2, -0.1, 0.3};
    double csi_base = 8.4 + 0.5 * rng_unit(r) - (s->weak[DEMO_WEAK_CHURN] ? 0.6 : 0.0), csi[5];
    for (int d = 0; d < 5; d++) csi[d] = csi_base + dimension_offset[d] + 0.5 * (rng_unit(r) - 0.5);
    if (s->weak[DEMO_WEAK_CHURN]) { csi[1] -= 0.6; csi[3] -= 0.5; }
    double appt_share = 0.25 + 0.3 * rng_unit(r);
    int month = g->start_month_index;          /* the month whose end is next */
    for (int i = 0; i <= s->nev; i++) {
        int day = i < s->nev ? s->ev[i].day : s->end_day + 1;
        while (month_index(day) > month) {
            int y = month / 12, m = month % 12 + 1;
            write_snapshot(g, s, calendar_days_from_civil(y, m, calendar_days_in_month(y, m)));
            month++;
        }
        if (i == s->nev) break;
        const event *e = &s->ev[i];
        ro_seq_of_id[e->id] = i + 1;
        const vehicle *v = &s->veh[e->vehicle];
        enum ro_kind kind = (enum ro_kind)e->kind;
        char ro_no[16], cc[16], advisor[16], comeback[16] = "";
        snprintf(ro_no, sizeof ro_no, "R%07d", i + 1);
        if (e->comeback_of_id >= 0) snprintf(comeback, sizeof comeback, "R%07d", ro_seq_of_id[e->comeback_of_id]);
        const char *payer = "customer";
        int insurer = -1, bill_to = v->customer;
        switch (kind) {
        case K_FIRST: case K_WARRANTY: payer = "warranty"; bill_to = s->cust_oem; break;
        case K_INTERNAL: payer = "internal"; bill_to = s->cust_internal; break;
        case K_BODY:
            if (e->accident && e->insurer >= 0) {
                payer = "insurer";
                insurer = e->insurer;
                bill_to = s->cust_insurer[insurer];
            }
            break;
        default: break;
        }
        slot_code(&s->advisors[rng_range(r, 0, s->nadvisors - 1)], "SA", e->day, advisor, sizeof advisor);
        long long opened = (long long)e->day * 1440 + e->minute, duration;
        switch (kind) {
        case K_BODY: duration = rng_range(r, 1, 9) * 1440 + rng_range(r, -180, 180); break;
        case K_REPAIR: duration = rng_chance(r, 0.7) ? rng_range(r, 90, 420) : rng_range(r, 1, 3) * 1440; break;
        case K_WARRANTY: duration = rng_range(r, 120, 1440); break;
        default: duration = rng_range(r, 50, 240); break;
        }
        long long closed = opened + duration;
        int closed_day = (int)(closed / 1440);
        bool is_closed = closed_day <= s->end_day;
        ro_totals t = {0, 0, 0, 0, 0, 0};
        ro_lines(g, s, e, ro_no, &t);
        long long other = 0, discount = 0;
        if ((kind == K_REPAIR || kind == K_BODY) && rng_chance(r, 0.05)) other = rng_range(r, 100, 800) * 100;
        if ((kind == K_MAINT || kind == K_REPAIR) && rng_chance(r, 0.12))
            discount = (t.labour + t.sale) * rng_range(r, 5, 12) / 100 / 100 * 100;
        long long revenue = t.labour + t.sale + other - discount;

        /* the RO names the vehicle's owner, the house for internal work and
         * the insurer for a claim it settles (its account with the store);
         * the invoice goes to whoever pays */
        customer_code(kind == K_INTERNAL ? s->cust_internal : insurer >= 0 ? bill_to : v->customer, cc, sizeof cc);
        csv_row_start(w);
        csv_str(w, s->code); csv_str(w, ro_no); csv_str(w, v->vin); csv_str(w, cc); csv_str(w, advisor);
        csv_str(w, ro_type_names[kind]); csv_str(w, payer);
        if (insurer >= 0) csv_str(w, insurers[insurer].code); else csv_null(w);
        csv_ts(w, opened);
        if (is_closed) csv_ts(w, closed); else csv_null(w);
        csv_int(w, v->km_start + (long long)(e->day - v->km_day) * v->km_per_day10 / 10);
        if (other) csv_hundredths(w, other); else csv_null(w);
        if (discount) csv_hundredths(w, discount); else csv_null(w);
        csv_str(w, comeback[0] ? comeback : NULL);
        csv_row_end(w);

        if (!is_closed || kind == K_INTERNAL) continue;
        fig_add(s, closed_day, F_RO_COUNT, 1);
        fig_add(s, closed_day, F_REVENUE, revenue);
        fig_add(s, closed_day, F_GROSS, revenue - t.cost);
        fig_add(s, closed_day, kind == K_BODY ? F_BODY : F_MECH, 1);
        fig_add(s, closed_day, F_LABOUR, t.labour);
        fig_add(s, closed_day, F_HOURS, t.hours);
        fig_add(s, closed_day, F_PARTS, t.part_sale);
        fig_add(s, closed_day, F_ACCESSORY, t.accessory_sale);
        if (insurer >= 0) fig_add(s, closed_day, F_ACCIDENT, revenue);
        /* individuals pay their own bills at the till: no receivable; the
         * maker settles first services and warranty claims through its claim
         * system against the store's parts account: no invoice either */
        if (s->cust[bill_to].type != CT_INDIVIDUAL && bill_to != s->cust_oem)
            write_invoice(g, s, bill_to, closed_day, revenue, ro_no, NULL);
        write_followups(g, s, ro_no, closed_day, csi);
        if (kind == K_FIRST || kind == K_MAINT) write_appointments(g, s, e, ro_no, appt_share);
    }
    free(ro_seq_of_id);
    return 0;
}

static void write_financials(gen *g, store_sim *s)
{
    csv_out *w = &g->out[E_STORE_FINANCIALS];
    for (int mo = 0; mo < s->nmonths; mo++) {
        int mi = g->start_month_index + mo;
        /* a month's accounts are closed after it ends: none for a month the data stops inside */
        if (calendar_days_from_civil(mi / 12, mi % 12 + 1, calendar_days_in_month(mi / 12, mi % 12 + 1)) > s->end_day) break;
        long long revenue = s->figs[mo][F_REVENUE], gross = s->figs[mo][F_GROSS];
        long long personnel = (long long)(revenue * (s->personnel_ratio + 0.016 * (rng_unit(&s->r) - 0.5)));
        long long fixed = (long long)((gross > 0 ? gross : 1000000) / (0.85 + 0.35 * rng_unit(&s->r)));
        char month[16];
        snprintf(month, sizeof month, "%04d-%02d", mi / 12, mi % 12 + 1);
        csv_row_start(w);
        csv_str(w, s->code); csv_str(w, month);
        csv_hundredths(w, personnel); csv_hundredths(w, fixed);
        csv_row_end(w);
    }
}

/* The customers, each with a mobile number drawn from a stream of its own
 * (the seed and the store), so the numbers change nothing else. */
static void write_customers(gen *g, store_sim *s)
{
    csv_out *w = &g->out[E_CUSTOMERS];
    rng phones;
    rng_seed(&phones, g->o->seed, 0x9A0E0000ull + (uint64_t)s->idx);
    for (int i = 0; i < s->ncust; i++) {
        char cc[16], phone[24] = "";
        customer_code(i, cc, sizeof cc);
        if (i != s->cust_internal && i != s->cust_oem && s->cust[i].type != CT_INSURER)
            customer_phone(&phones, phone, sizeof phone);
        csv_row_start(w);
        csv_str(w, s->code); csv_str(w, cc); csv_str(w, customer_type_names[s->cust[i].type]);
        csv_str(w, s->cust[i].name[0] ? s->cust[i].name : NULL);
        csv_str(w, phone[0] ? phone : NULL);
        csv_row_end(w);
    }
}

/* The store's accounts that are not individuals: the house, the maker's
 * warranty desk, the three insurers, fleets, government offices, a used-car
 * dealer. */
static int store_accounts(store_sim *s, char *err, size_t errlen)
{
    const char *city = cities[s->region][s->city].name;
    const char *dist = cities[s->region][s->city].district[0];
    char name[96];
    snprintf(name, sizeof name, "本店内部");
    if ((s->cust_internal = add_customer(s, CT_OTHER, name, err, errlen)) < 0) return -1;
    snprintf(name, sizeof name, "%s厂家索赔", brands[s->brand].name);
    if ((s->cust_oem = add_customer(s, CT_OTHER, name, err, errlen)) < 0) return -1;
    for (int i = 0; i < N_INSURERS; i++) {
        snprintf(name, sizeof name, "%s%s分公司", insurers[i].branch, city);
        if ((s->cust_insurer[i] = add_customer(s, CT_INSURER, name, err, errlen)) < 0) return -1;
    }
    s->n_fleet = (int)rng_range(&s->r, 3, COUNT_OF(fleet_names));
    s->fleet_first = s->ncust;
    for (int i = 0; i < s->n_fleet; i++) {
        snprintf(name, sizeof name, "%s%s", city, fleet_names[i]);
        if (add_customer(s, CT_FLEET, name, err, errlen) < 0) return -1;
    }
    s->n_gov = COUNT_OF(government_names);
    s->gov_first = s->ncust;
    for (int i = 0; i < s->n_gov; i++) {
        snprintf(name, sizeof name, "%s%s区%s", city, dist, government_names[i]);
        if (add_customer(s, CT_GOVERNMENT, name, err, errlen) < 0) return -1;
    }
    s->n_dealer = 1;
    s->dealer_first = s->ncust;
    snprintf(name, sizeof name, "%s诚信二手车行", city);
    if (add_customer(s, CT_OTHER, name, err, errlen) < 0) return -1;
    return 0;
}

/* One store, start to finish. Returns its RO count, or -1. */
long long generate_store(gen *g, int idx, char *err, size_t errlen)
{
    store_sim s;
    store_init(&s, g, idx);
    long long result = -1;
    int target_ros = (int)((300 + 600 * s.size) * g->o->volume);       /* ROs a month */
    if (target_ros < 20) target_ros = 20;
    s.nmonths = g->o->years * 12;
    s.figs = calloc((size_t)s.nmonths, sizeof *s.figs);
    if (!s.figs) { snprintf(err, errlen, "demo: out of memory"); goto done; }

    char name[128];
    store_name(&s, name, sizeof name);
    csv_out *w = &g->out[E_STORES];
    csv_row_start(w);
    csv_str(w, s.code); csv_str(w, name); csv_str(w, brands[s.brand].name);
    csv_str(w, regions[s.region].code); csv_str(w, cities[s.region][s.city].name);
    csv_date(w, calendar_days_from_civil(2006 + (int)rng_range(&s.r, 0, 12), (int)rng_range(&s.r, 1, 12), (int)rng_range(&s.r, 1, 28)));
    csv_row_end(w);

    write_staff(g, &s, target_ros);
    if (store_accounts(&s, err, errlen) != 0) goto done;
    write_legacy_debt(g, &s);
    if (parts_init(g, &s, err, errlen) != 0) goto done;
    calibrate_accidents(&s);
    if (store_vehicles(g, &s, target_ros, err, errlen) != 0) goto done;
    if (add_comebacks(&s, err, errlen) != 0) goto done;
    if (store_repair_orders(g, &s, err, errlen) != 0) goto done;
    write_financials(g, &s);
    write_customers(g, &s);
    write_targets(g, &s);
    result = s.nev;
done:
    store_free(&s);
    return result;
}

