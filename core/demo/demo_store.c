/* demo_store: one demo store's people and vehicles: its customers, staff
 * (with their turnover), parts catalogue, the vehicles it sold or services
 * with their owners, insurance policies and the chain of service visits of
 * each until it churns. The visits become repair orders in demo_ros.c.
 * Part of the demo generator (core/demo/, demo_gen.c has the whole). */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "demo_private.h"

/* --- names and identifiers --- */


static void person_name(rng *r, char *buf, size_t len)
{
    const char *sur = surnames[rng_range(r, 0, COUNT_OF(surnames) - 1)];
    const char *g1 = given_chars[rng_range(r, 0, COUNT_OF(given_chars) - 1)];
    if (rng_chance(r, 0.6))
        snprintf(buf, len, "%s%s%s", sur, g1, given_chars[rng_range(r, 0, COUNT_OF(given_chars) - 1)]);
    else
        snprintf(buf, len, "%s%s", sur, g1);
}

/* VIN characters: A-Z and 0-9 without I, O, Q. */
static const char vin_alphabet[] = "ABCDEFGHJKLMNPRSTUVWXYZ0123456789";
#define VIN_ALPHABET_LEN 33

static int vin_char_value(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    static const char letters[] = "ABCDEFGHJKLMNPRSTUVWXYZ";
    static const int values[] = {1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3, 4, 5, 7, 9, 2, 3, 4, 5, 6, 7, 8, 9};
    const char *p = strchr(letters, c);
    return p ? values[p - letters] : 0;
}

/* A 17-character VIN with a valid ISO 3779 check digit; unique per
 * (store, vehicle) through its last six characters. */
static void make_vin(rng *r, const char *wmi, int model_year, int store_idx, int vehicle_idx, char vin[18])
{
    static const char year_codes[] = "ABCDEFGHJKLMNPRSTVWXY123456789";   /* 2010 ... */
    memcpy(vin, wmi, 3);
    for (int i = 3; i < 8; i++) vin[i] = vin_alphabet[rng_range(r, 0, VIN_ALPHABET_LEN - 1)];
    int yi = model_year - 2010;
    if (yi < 0) yi = 0;
    if (yi >= (int)sizeof year_codes - 1) yi = (int)sizeof year_codes - 2;
    vin[9] = year_codes[yi];
    vin[10] = vin_alphabet[rng_range(r, 0, 22)];          /* plant: a letter */
    unsigned long long serial = (unsigned long long)store_idx * 200000ull + (unsigned long long)vehicle_idx;
    for (int i = 16; i >= 11; i--) {
        vin[i] = vin_alphabet[serial % VIN_ALPHABET_LEN];
        serial /= VIN_ALPHABET_LEN;
    }
    static const int weights[17] = {8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2};
    int sum = 0;
    for (int i = 0; i < 17; i++) if (i != 8) sum += vin_char_value(vin[i]) * weights[i];
    int check = sum % 11;
    vin[8] = check == 10 ? 'X' : (char)('0' + check);
    vin[17] = '\0';
}

/* --- store set-up: identity, customers, staff, parts catalogue --- */

int add_customer(store_sim *s, enum customer_type type, const char *name, char *err, size_t errlen)
{
    if (grow((void **)&s->cust, &s->capcust, s->ncust + 1, sizeof *s->cust, err, errlen) != 0) return -1;
    customer *c = &s->cust[s->ncust];
    c->type = (unsigned char)type;
    snprintf(c->name, sizeof c->name, "%s", name ? name : "");
    return s->ncust++;
}

static int add_individual(store_sim *s, char *err, size_t errlen)
{
    char name[32];
    person_name(&s->r, name, sizeof name);
    return add_customer(s, CT_INDIVIDUAL, name, err, errlen);
}

void customer_code(int idx, char *buf, size_t len) { snprintf(buf, len, "C%06d", idx + 1); }

void store_name(const store_sim *s, char *buf, size_t len)
{
    int j = s->idx / N_REGIONS;
    int district = (j / CITIES_PER_REGION) % DISTRICTS_PER_CITY;
    int round = j / (CITIES_PER_REGION * DISTRICTS_PER_CITY * N_BRANDS);
    const char *city = cities[s->region][s->city].name;
    const char *dist = cities[s->region][s->city].district[district];
    if (round == 0) snprintf(buf, len, "%s%s%s", city, dist, brands[s->brand].name);
    else snprintf(buf, len, "%s%s%s%d店", city, dist, brands[s->brand].name, round + 1);
}

void store_init(store_sim *s, const gen *g, int idx)
{
    memset(s, 0, sizeof *s);
    s->idx = idx;
    s->region = idx % N_REGIONS;
    int j = idx / N_REGIONS;
    s->city = j % CITIES_PER_REGION;
    s->brand = (j + s->region + j / (CITIES_PER_REGION * DISTRICTS_PER_CITY)) % N_BRANDS;
    demo_store_code(idx, s->code, sizeof s->code);
    rng_seed(&s->r, g->o->seed, (uint64_t)idx + 1);
    s->start_day = g->start_day;
    s->end_day = g->end_day - demo_stale_days(g->o, idx);
    s->start_month = g->start_month_index;
    s->size = rng_unit(&s->r);
    for (int w = 0; w < DEMO_WEAK_COUNT; w++)
        s->weak[w] = demo_weak_store(g->o->stores, (enum demo_weakness)w) == idx;
    int tier = cities[s->region][s->city].tier;
    double tier_factor = tier == 1 ? 1.15 : tier == 2 ? 1.0 : 0.9;
    s->labour_rate = (int)(brands[s->brand].labour_rate * tier_factor);
    if (s->weak[DEMO_WEAK_LABOUR_SHARE]) s->labour_rate = s->labour_rate * 55 / 100;

    /* The store's character: few stores bring 95 % of their new vehicles
     * back for the first service (the healthy reference store 0 does);
     * insurers steer accident repairs to a store in proportion to the
     * premium it gives them (送修比例, about 0.9 by the rule, less in
     * practice); bigger stores run their workshop tighter; tier-1 wages are
     * higher. Each draw is the store's own, so stores of one brand differ. */
    s->first_service_p = idx == 0 ? 0.955 + 0.015 * rng_unit(&s->r) : 0.835 + 0.08 * rng_unit(&s->r);
    s->steering = 0.73 + 0.12 * rng_unit(&s->r);
    s->tech_efficiency = 0.98 + 0.09 * s->size + 0.08 * rng_unit(&s->r);
    s->materials_ratio = 0.158 + 0.045 * rng_unit(&s->r);
    s->parts_price = 0.975 + 0.05 * rng_unit(&s->r);
    s->referral_p = 0.12 + 0.22 * rng_unit(&s->r);
    s->staff_turnover = 0.08 + 0.16 * rng_unit(&s->r);
    s->personnel_ratio = 0.092 + 0.026 * rng_unit(&s->r) + (tier == 1 ? 0.008 : 0.0);
    s->followup_p = 0.48 + 0.36 * rng_unit(&s->r);
    s->bad_debtor = rng_chance(&s->r, 0.12);
    if (s->weak[DEMO_WEAK_CHURN]) {
        /* the high-churn store: missed first services, a cold welcome, people leaving */
        s->first_service_p = 0.70;
        s->staff_turnover = 0.27;
        s->followup_p = 0.42;
    }
    if (s->weak[DEMO_WEAK_RENEWAL]) s->steering = 0.45;   /* insurers send less to a store that renews little */
    if (s->weak[DEMO_WEAK_LABOUR_SHARE]) s->tech_efficiency = 0.97;
}

void store_free(store_sim *s)
{
    free(s->veh); free(s->ev); free(s->cust); free(s->parts);
    free(s->figs);
}

/* Staff: advisors and technicians in posts sized by the store's workload,
 * two parts clerks and the after-sales manager. People leave at the store's
 * turnover rate (the manager and the clerks less often) and a successor
 * takes the post the next day, so the headcount stays and turnover (leavers
 * / mean headcount) is about the store's rate a year. */
void write_staff(gen *g, store_sim *s, int target_ros)
{
    csv_out *w = &g->out[E_STAFF];
    s->nadvisors = target_ros / 110;
    if (s->nadvisors < 3) s->nadvisors = 3;
    if (s->nadvisors > COUNT_OF(s->advisors)) s->nadvisors = COUNT_OF(s->advisors);
    s->ntechs = target_ros / 35;
    if (s->ntechs < 6) s->ntechs = 6;
    if (s->ntechs > COUNT_OF(s->techs)) s->ntechs = COUNT_OF(s->techs);
    struct { staff_slot *slots; int n; const char *prefix, *role; int digits; double turnover; } groups[] = {
        {s->advisors, s->nadvisors, "SA", "advisor", 3, s->staff_turnover},
        {s->techs, s->ntechs, "T", "technician", 3, s->staff_turnover},
        {s->clerks, COUNT_OF(s->clerks), "PT", "parts", 2, s->staff_turnover / 2},
        {s->manager, COUNT_OF(s->manager), "MGR", "other", 2, s->staff_turnover / 3},
    };
    for (int gi = 0; gi < COUNT_OF(groups); gi++) {
        int number = 0;
        double mean_stay = 365.0 / groups[gi].turnover;
        for (int k = 0; k < groups[gi].n; k++) {
            staff_slot *slot = &groups[gi].slots[k];
            slot->n = 1;
            slot->number[0] = ++number;
            slot->from_day[0] = INT_MIN;
            int hired = s->start_day - (int)rng_range(&s->r, 60, 3000);
            for (double day = s->start_day;;) {
                day += 30 - mean_stay * log(1.0 - rng_unit(&s->r));
                if (day > s->end_day - 1 || slot->n == SLOT_HOLDERS_MAX) break;
                slot->from_day[slot->n] = (int)day;
                slot->number[slot->n++] = ++number;
            }
            for (int h = 0; h < slot->n; h++) {
                char code[16], name[32];
                snprintf(code, sizeof code, "%s%0*d", groups[gi].prefix, groups[gi].digits, slot->number[h]);
                person_name(&s->r, name, sizeof name);
                csv_row_start(w);
                csv_str(w, s->code); csv_str(w, code); csv_str(w, name); csv_str(w, groups[gi].role);
                csv_date(w, h == 0 ? hired : slot->from_day[h]);
                if (h + 1 < slot->n) csv_date(w, slot->from_day[h + 1] - 1); else csv_null(w);
                csv_row_end(w);
            }
        }
    }
}

/* The staff code of whoever held a post on a day. */
void slot_code(const staff_slot *slot, const char *prefix, int day, char *buf, size_t len)
{
    int h = 0;
    while (h + 1 < slot->n && day >= slot->from_day[h + 1]) h++;
    snprintf(buf, len, "%s%03d", prefix, slot->number[h]);
}

/* The brand's catalogue (the same for every store of the brand) plus this
 * store's dead stock (parts never issued in the window). */
int parts_init(const gen *g, store_sim *s, char *err, size_t errlen)
{
    rng cat;
    rng_seed(&cat, g->o->seed, 0x5EED0000ull + (uint64_t)s->brand);
    int n_dead = s->weak[DEMO_WEAK_SLOW_PARTS] ? 90 : 3 + (int)rng_range(&s->r, 0, 4);
    int n = n_dead;
    for (int p = 0; p < P_COUNT; p++) n += pools[p].n;
    s->parts = calloc((size_t)n, sizeof *s->parts);
    if (!s->parts) { snprintf(err, errlen, "demo: out of memory"); return -1; }
    s->nparts = n;
    int k = 0;
    for (int p = 0; p < P_COUNT; p++) {
        s->pool_first[p] = k;
        for (int i = 0; i < pools[p].n; i++, k++) {
            part *pt = &s->parts[k];
            snprintf(pt->part_no, sizeof pt->part_no, "%s-%s-%04d", brands[s->brand].part_prefix, pools[p].code, i + 1);
            pt->pool = (unsigned char)p;
            double u = rng_unit(&cat);
            /* log-uniform cost between the pool's bounds; cheaper parts first */
            double cost = pools[p].cost_lo * pow((double)pools[p].cost_hi / pools[p].cost_lo, u * (0.4 + 0.6 * i / (double)pools[p].n));
            if (p == P_MATERIAL) {
                pt->cost = (long long)(cost / 100.0 + 0.5) * 100;
                if (pt->cost < 100) pt->cost = 100;
                pt->price = (pt->cost * 135 / 100 + 99) / 100 * 100;
            } else {
                pt->cost = (long long)(cost + 0.5);
                double markup = p == P_ACCESSORY ? 1.6 + 0.4 * rng_unit(&cat)
                                                 : brands[s->brand].parts_markup_pct / 100.0 * (0.92 + 0.16 * rng_unit(&cat));
                pt->price = (long long)(pt->cost * markup + 0.5);
            }
            if (p == P_MAINT && i == 0) pt->cost = 6200 + (long long)rng_range(&cat, 0, 1500);   /* engine oil, a litre */
            if (p == P_MAINT && i == 1) pt->cost = 3500 + (long long)rng_range(&cat, 0, 2500);   /* oil filter */
            if (p == P_MAINT && i <= 1) pt->price = pt->cost * (brands[s->brand].parts_markup_pct + 4) / 100;
            /* the store's own pricing against the brand's list (local competition) */
            if (p != P_MATERIAL) pt->price = (long long)(pt->price * s->parts_price + 0.5);
            pt->last_issue = s->start_day - (int)rng_range(&s->r, 1, 45);
            pt->last_receipt = pt->last_issue - (int)rng_range(&s->r, 0, 20);
        }
    }
    for (int i = 0; i < n_dead; i++, k++) {
        part *pt = &s->parts[k];
        snprintf(pt->part_no, sizeof pt->part_no, "%s-OB-%04d", brands[s->brand].part_prefix, i + 1);
        pt->pool = P_REPAIR;
        pt->dead = true;
        pt->cost = (long long)(5000 * pow(s->weak[DEMO_WEAK_SLOW_PARTS] ? 60.0 : 10.0, rng_unit(&s->r)));
        pt->price = pt->cost * 140 / 100;
        pt->dead_qty = rng_range(&s->r, 1, s->weak[DEMO_WEAK_SLOW_PARTS] ? 14 : 2) * 100;
        pt->last_issue = rng_chance(&s->r, 0.2) ? INT_MIN : s->start_day - (int)rng_range(&s->r, 200, 900);
        pt->last_receipt = (pt->last_issue == INT_MIN ? s->start_day : pt->last_issue) - (int)rng_range(&s->r, 30, 400);
    }
    return 0;
}

/* The accident rate that gives the store its steering: insurers send a
 * store accident repairs worth about s->steering of the premium it sells
 * them (the 1:0.9 rule), so a vehicle insured here comes back for accidents
 * in proportion to its premium, and a store with cheap labour or parts gets
 * more cars. The rate per yuan of premium a year is the steering over the
 * expected revenue of an insurer-paid repair (body_jobs, the store's labour
 * rate and body parts prices, materials). Call after parts_init(). */
void calibrate_accidents(store_sim *s)
{
    double hours = 0, nparts = 0;
    for (int k = 0; k < N_SEVERITIES; k++) {
        hours += body_jobs[k].share_pct / 100.0 * (body_jobs[k].lo1 + body_jobs[k].hi1 + body_jobs[k].lo2 + body_jobs[k].hi2) / 200.0;
        nparts += body_jobs[k].share_pct / 100.0 * (body_jobs[k].parts_lo + body_jobs[k].parts_hi) / 2.0;
    }
    if (s->weak[DEMO_WEAK_LABOUR_SHARE]) hours *= 0.75;   /* labour_line() */
    /* the mean price of a body part under rng_skewed(): index i with
     * probability ((i + 1) / n)^(1/3) - (i / n)^(1/3) */
    double part_price = 0;
    int n = pools[P_BODY].n;
    for (int i = 0; i < n; i++)
        part_price += (cbrt((i + 1.0) / n) - cbrt((double)i / n)) * s->parts[s->pool_first[P_BODY] + i].price / 100.0;
    double c = s->materials_ratio / (1.0 - MATERIAL_MARKUP * s->materials_ratio);
    double revenue = (hours * s->labour_rate + nparts * part_price) * (1.0 + MATERIAL_MARKUP * c);
    s->accidents_per_premium = s->steering / (0.9 * revenue);
}

/* --- vehicles, sales, policies and the visit chain --- */

static int add_vehicle(const gen *g, store_sim *s, int owner, int sold_day, int model, int model_year,
                       char *err, size_t errlen)
{
    if (s->nveh >= 190000) { snprintf(err, errlen, "demo: too many vehicles in one store"); return -1; }
    if (grow((void **)&s->veh, &s->capveh, s->nveh + 1, sizeof *s->veh, err, errlen) != 0) return -1;
    vehicle *v = &s->veh[s->nveh];
    memset(v, 0, sizeof *v);
    make_vin(&s->r, brands[s->brand].wmi, model_year, s->idx, s->nveh, v->vin);
    v->customer = owner;
    v->sold_day = sold_day;
    v->model = model;
    v->insurer = -1;
    v->km_per_day10 = (int)rng_range(&s->r, 250, 650);
    if (sold_day == INT_MIN) {
        int age = (int)rng_range(&s->r, 300, 2900);
        v->km_day = g->start_day;
        v->km_start = age * v->km_per_day10 / 10;
    } else {
        v->km_day = sold_day;
        v->km_start = (int)rng_range(&s->r, 5, 40);
    }
    return s->nveh++;
}

static int add_event(store_sim *s, int day, enum ro_kind kind, int veh, char *err, size_t errlen)
{
    if (day < s->start_day || day > s->end_day) return 0;
    if (grow((void **)&s->ev, &s->capev, s->nev + 1, sizeof *s->ev, err, errlen) != 0) return -1;
    event *e = &s->ev[s->nev];
    memset(e, 0, sizeof *e);
    e->day = day;
    e->minute = kind == K_INTERNAL ? (int)rng_range(&s->r, 9 * 60, 16 * 60)
                                   : (int)rng_range(&s->r, 8 * 60, 17 * 60 + 30);
    e->vehicle = veh;
    e->id = s->nev;
    e->comeback_of_id = -1;
    e->kind = (unsigned char)kind;
    e->insurer = -1;
    s->nev++;
    return 0;
}

/* Visits around the Spring Festival move to after the holiday (the dip). */
static int festival_shift(rng *r, int day)
{
    int y, m, d;
    calendar_civil_from_days(day, &y, &m, &d);
    if (m > 3) return day;
    int sf = spring_festival_day(y);
    bool holiday = day >= sf - 1 && day <= sf + 4;          /* the store is shut */
    if (day >= sf - 6 && day <= sf + 6 && (holiday || rng_chance(r, 0.6)))
        return sf + 7 + (int)rng_range(r, 0, 14);
    return day;
}

int pick_insurer(rng *r)
{
    int u = (int)rng_range(r, 0, 99), acc = 0;
    for (int i = 0; i < N_INSURERS; i++) {
        acc += insurers[i].split_pct;
        if (u < acc) return i;
    }
    return 0;
}

/* The yearly premium of a vehicle's policy, yuan: 950 plus 3.2 % of its
 * price, 8 % less for every year of its age (the no-claim discount). */
static long long policy_premium(const store_sim *s, const vehicle *v, int age_years)
{
    long long premium_yuan = 950 + (long long)brands[s->brand].models[v->model].price * 32 / 1000;
    for (int y = 0; y < age_years; y++) premium_yuan = premium_yuan * 92 / 100;
    return premium_yuan;
}

/* One policy row; returns its ends_on, its premium (yuan) to *premium_out. */
static int write_policy(gen *g, store_sim *s, const vehicle *v, int insurer, bool renewal,
                        int sold_on, int starts_on, int age_years, long long *premium_out)
{
    csv_out *w = &g->out[E_INSURANCE_POLICIES];
    int ends_on = add_one_year(starts_on) - 1;
    long long premium_yuan = policy_premium(s, v, age_years) + rng_range(&s->r, -200, 200);
    *premium_out = premium_yuan;
    long long premium = premium_yuan * 100 + rng_range(&s->r, 0, 99);
    long long commission = premium * insurers[insurer].commission_pct / 100;
    char no[24];
    snprintf(no, sizeof no, "PL%07lld", ++s->next_policy);
    csv_row_start(w);
    csv_str(w, s->code); csv_str(w, no); csv_str(w, v->vin); csv_str(w, insurers[insurer].code);
    csv_str(w, renewal ? "renewal" : "new");
    csv_date(w, sold_on); csv_date(w, starts_on); csv_date(w, ends_on);
    csv_hundredths(w, premium); csv_hundredths(w, commission);
    csv_row_end(w);
    fig_add(s, sold_on, F_PREMIUM, premium);
    return ends_on;
}

/* A vehicle's cover by the store's policies: the days [from, to] insured
 * with insurer for a premium (yuan a year); the whole chain of one vehicle,
 * at most one a year. */
typedef struct cover { int from, to; int insurer; long long premium; } cover;
#define COVERS_MAX 16

/* The vehicle's policies in the window: new at sale (when sold here), then
 * yearly renewals, fewer once the vehicle stopped coming. The cover they
 * give goes to covers[] (a vehicle of the park insured here is covered from
 * the window's start by a policy sold before it). Returns how many. */
static int vehicle_policies(gen *g, store_sim *s, vehicle *v, int active_until, cover *covers)
{
    double renew = s->weak[DEMO_WEAK_RENEWAL] ? 0.30 : 0.66 + 0.12 * rng_unit(&s->r);
    int insurer = pick_insurer(&s->r);
    int starts_on, age = 0, n = 0;
    if (v->sold_day != INT_MIN) {
        if (!rng_chance(&s->r, 0.86)) return 0;          /* insured elsewhere */
        v->insurer = insurer;
        long long premium;
        starts_on = write_policy(g, s, v, insurer, false, v->sold_day, v->sold_day, 0, &premium) + 1;
        covers[n++] = (cover){ v->sold_day, starts_on - 1, insurer, premium };
    } else {
        starts_on = s->start_day + (int)rng_range(&s->r, 0, 364);
        age = (int)((v->km_start * 10LL / (v->km_per_day10 ? v->km_per_day10 : 1)) / 365) + 1;
        if (!rng_chance(&s->r, 0.7)) return 0;
        v->insurer = insurer;
        covers[n++] = (cover){ s->start_day, starts_on - 1, insurer, policy_premium(s, v, age) };
    }
    while (starts_on - 1 <= s->end_day + 30 && n < COVERS_MAX) {
        double p = renew;
        if (starts_on > active_until) p *= 0.35;
        int sold_on = starts_on - (int)rng_range(&s->r, 1, 25);
        if (sold_on < s->start_day) sold_on = s->start_day;
        if (sold_on > s->end_day || !rng_chance(&s->r, p)) break;
        if (rng_chance(&s->r, 0.2)) insurer = pick_insurer(&s->r);
        age++;
        long long premium;
        int ends_on = write_policy(g, s, v, insurer, true, sold_on, starts_on, age, &premium);
        covers[n++] = (cover){ starts_on, ends_on, insurer, premium };
        starts_on = ends_on + 1;   /* the day after it ends */
    }
    return n;
}

/* The chain of service visits of a vehicle until it churns: a new vehicle's
 * first service (most come; some owners skip it and first come for the
 * yearly service; a few never), then maintenance every 4-6 months, each
 * visit the last with a small chance (more after the free first service).
 * A vehicle of the park is somewhere inside its interval at the start.
 * *customer_from: the day it is first a customer (INT_MAX: never);
 * *active_until: the last day it still is. */
static int vehicle_visits(store_sim *s, int vi, char *err, size_t errlen, int *customer_from, int *active_until)
{
    vehicle *v = &s->veh[vi];
    bool weak_churn = s->weak[DEMO_WEAK_CHURN];
    int entry, day;
    enum ro_kind kind = K_MAINT;
    double churn_first, churn;
    if (v->sold_day != INT_MIN) {
        entry = v->sold_day;
        if (rng_chance(&s->r, 0.3) && add_event(s, v->sold_day, K_INTERNAL, vi, err, errlen) != 0) return -1;
        churn_first = weak_churn ? 0.10 : 0.03;
        churn = weak_churn ? 0.07 : 0.02;
        /* first service inside 6 months even after a Spring Festival delay */
        if (rng_chance(&s->r, s->first_service_p)) {
            day = v->sold_day + (int)rng_range(&s->r, 30, 150);
            kind = K_FIRST;
        } else if (rng_chance(&s->r, weak_churn ? 0.5 : 0.75)) {
            day = v->sold_day + (int)rng_range(&s->r, 330, 480);
        } else {
            day = INT_MAX;
        }
    } else {
        entry = s->start_day;
        churn_first = churn = weak_churn ? 0.24 : 0.15;
        /* already in its rhythm: somewhere inside its current interval */
        int interval = weak_churn ? (int)rng_range(&s->r, 140, 240) : (int)rng_range(&s->r, 115, 185);
        day = s->start_day + (int)rng_range(&s->r, 0, interval - 1);
    }
    int until = entry + 60;
    bool first = true;
    /* a new vehicle that skips its first service is no customer until it comes */
    *customer_from = v->sold_day == INT_MIN || kind == K_FIRST ? entry : day;
    while (day <= s->end_day) {
        day = festival_shift(&s->r, day);
        if (add_event(s, day, kind, vi, err, errlen) != 0) return -1;
        until = day + 180;
        if (rng_chance(&s->r, first ? churn_first : churn)) break;
        first = false;
        day += weak_churn ? (int)rng_range(&s->r, 140, 240) : (int)rng_range(&s->r, 115, 185);
        kind = K_MAINT;
    }
    *active_until = until;
    return 0;
}

/* Unplanned work month by month: while the vehicle is a customer, repairs,
 * the summer's air-conditioning repairs and warranty work on young vehicles;
 * and accidents. An accident of a vehicle insured here comes back to the
 * store as long as the policy runs, the owner still a customer or not (the
 * insurer steers it), and the insurer pays (small ones the owner pays to
 * keep the no-claim bonus); a vehicle insured elsewhere is mostly repaired
 * where its insurer sends it. */
static int vehicle_unplanned(store_sim *s, int vi, int customer_from, int active_until, const cover *covers,
                             int ncovers, char *err, size_t errlen)
{
    const vehicle *v = &s->veh[vi];
    int entry = customer_from;
    bool young = v->sold_day != INT_MIN || rng_chance(&s->r, 0.35);
    int last = active_until < s->end_day ? active_until : s->end_day;
    int last_covered = ncovers > 0 && covers[ncovers - 1].to < s->end_day ? covers[ncovers - 1].to : s->end_day;
    if (ncovers > 0 && last_covered > last) last = last_covered;
    int c = 0;
    for (int m0 = entry; m0 <= last && m0 < INT_MAX - 30; m0 += 30) {
        int y, m, d;
        calendar_civil_from_days(m0, &y, &m, &d);
        double ac = (m >= 6 && m <= 8) ? 0.035 : (m == 5 || m == 9) ? 0.012 : 0.002;
        bool active = m0 <= active_until;
        while (c < ncovers && covers[c].to < m0) c++;
        bool covered = c < ncovers && covers[c].from <= m0;
        if (!active && !covered) continue;
        double rate = covered ? covers[c].premium * s->accidents_per_premium : 0.06;
        if (rng_chance(&s->r, rate / 12)) {
            int n0 = s->nev;
            if (add_event(s, m0 + (int)rng_range(&s->r, 0, 29), K_BODY, vi, err, errlen) != 0) return -1;
            if (s->nev > n0) {
                s->ev[n0].accident = true;
                if (covered ? rng_chance(&s->r, 0.9) : rng_chance(&s->r, 0.5))
                    s->ev[n0].insurer = (signed char)(covered ? covers[c].insurer : pick_insurer(&s->r));
            }
        }
        if (!active) continue;
        if (rng_chance(&s->r, 0.30 / 12)) {
            if (add_event(s, festival_shift(&s->r, m0 + (int)rng_range(&s->r, 0, 29)), K_REPAIR, vi, err, errlen) != 0) return -1;
        }
        if (rng_chance(&s->r, ac)) {
            int n0 = s->nev;
            if (add_event(s, m0 + (int)rng_range(&s->r, 0, 29), K_REPAIR, vi, err, errlen) != 0) return -1;
            if (s->nev > n0) s->ev[n0].ac = true;
        }
        if (young && rng_chance(&s->r, 0.09 / 12)) {
            if (add_event(s, festival_shift(&s->r, m0 + (int)rng_range(&s->r, 0, 29)), K_WARRANTY, vi, err, errlen) != 0) return -1;
        }
    }
    return 0;
}

/* A customer's invoice and its payments. A vehicle is paid for on delivery
 * (government offices pay within weeks); insurers settle claims in weeks, a
 * few disputed ones in months; fleets and government offices pay their
 * service bills on terms, often in two parts, government more slowly. At
 * the weak-receivables store fleets and offices pay late, in part or not at
 * all. Individuals pay their service bills at the till (no invoice). */
void write_invoice(gen *g, store_sim *s, int payer, int issued, long long amount,
                          const char *ro_no, const char *deal_no)
{
    if (amount <= 0) return;
    csv_out *w = &g->out[E_INVOICES], *pw = &g->out[E_PAYMENTS];
    enum customer_type type = (enum customer_type)s->cust[payer].type;
    static const int terms[] = {0, 30, 90, 30, 45};
    char no[24], cc[16];
    snprintf(no, sizeof no, "I%07lld", ++s->next_invoice);
    customer_code(payer, cc, sizeof cc);
    csv_row_start(w);
    csv_str(w, s->code); csv_str(w, no); csv_str(w, cc); csv_date(w, issued);
    csv_date(w, issued + terms[type]); csv_hundredths(w, amount);
    csv_str(w, ro_no); csv_str(w, deal_no);
    csv_row_end(w);

    /* the plan: up to two payments (amount, days after issue); -1 = never */
    long long amt[2] = {amount, 0};
    int after[2] = {0, -1};
    rng *r = &s->r;
    double u = rng_unit(r);
    if (deal_no) {
        if (type == CT_GOVERNMENT) after[0] = (int)rng_range(r, 15, 60);
    } else switch (type) {
    case CT_INDIVIDUAL:
        break;
    case CT_INSURER:
        if (u < 0.84) after[0] = (int)rng_range(r, 12, 60);
        else if (u < 0.94) { amt[0] = amount * rng_range(r, 40, 70) / 100; amt[1] = amount - amt[0];
                             after[0] = (int)rng_range(r, 15, 40); after[1] = (int)rng_range(r, 50, 120); }
        else after[0] = (int)rng_range(r, 100, 240);      /* a disputed claim */
        break;
    case CT_OTHER:
        after[0] = (int)rng_range(r, 20, 50);
        break;
    case CT_FLEET:
    case CT_GOVERNMENT: {
        int slow = type == CT_GOVERNMENT ? 2 : 1;
        if (s->weak[DEMO_WEAK_RECEIVABLES]) {
            if (u < 0.35) { after[0] = -1; }
            else if (u < 0.7) { amt[0] = amount * rng_range(r, 30, 60) / 100; amt[1] = amount - amt[0];
                                after[0] = (int)rng_range(r, 60, 240) * slow; after[1] = -1; }
            else after[0] = (int)rng_range(r, 120, 400);
        } else {
            if (u < 0.65) after[0] = (int)rng_range(r, 15, 75) * slow;
            else { amt[0] = amount * rng_range(r, 40, 70) / 100; amt[1] = amount - amt[0];
                   after[0] = (int)rng_range(r, 20, 60) * slow; after[1] = (int)rng_range(r, 70, 160) * slow; }
        }
        break;
    }
    }
    for (int k = 0; k < 2; k++) {
        if (after[k] < 0 || amt[k] <= 0 || issued + after[k] > s->end_day) continue;
        char pno[24];
        snprintf(pno, sizeof pno, "P%07lld", ++s->next_payment);
        csv_row_start(pw);
        csv_str(pw, s->code); csv_str(pw, pno); csv_str(pw, no);
        csv_date(pw, issued + after[k]); csv_hundredths(pw, amt[k]);
        csv_row_end(pw);
    }
}

/* Dead debt from before the window: at a few stores (and at the weak
 * receivables store) a fleet customer stopped paying more than a year before
 * the window starts; its last bills are still open. */
void write_legacy_debt(gen *g, store_sim *s)
{
    bool weak = s->weak[DEMO_WEAK_RECEIVABLES];
    if (!s->bad_debtor && !weak) return;
    csv_out *w = &g->out[E_INVOICES];
    int debtor = s->fleet_first + s->n_fleet - 1, n = (int)rng_range(&s->r, 1, weak ? 6 : 3);
    int day = s->start_day - (int)rng_range(&s->r, 420, 700);
    for (int k = 0; k < n; k++, day += (int)rng_range(&s->r, 10, 40)) {
        char no[24], cc[16];
        snprintf(no, sizeof no, "I%07lld", ++s->next_invoice);
        customer_code(debtor, cc, sizeof cc);
        csv_row_start(w);
        csv_str(w, s->code); csv_str(w, no); csv_str(w, cc); csv_date(w, day);
        csv_date(w, day + 30); csv_hundredths(w, rng_range(&s->r, 3000, 40000) * 100);
        csv_null(w); csv_null(w);
        csv_row_end(w);
    }
}

/* Monthly new-vehicle sales factor: the Spring Festival month is weak, the
 * autumn "golden September, silver October" and December strong. */
static const double sales_season[12] = {1.05, 0.65, 0.9, 0.95, 1.0, 0.95, 0.9, 0.95, 1.1, 1.15, 1.05, 1.25};

static int pick_model(rng *r)
{
    static const int weight[MODELS_PER_BRAND] = {40, 28, 20, 12};
    int u = (int)rng_range(r, 0, 99), acc = 0;
    for (int i = 0; i < MODELS_PER_BRAND; i++) { acc += weight[i]; if (u < acc) return i; }
    return 0;
}

static int pick_owner(store_sim *s, double fleet_share, double gov_share, char *err, size_t errlen)
{
    double u = rng_unit(&s->r);
    if (u < fleet_share) return s->fleet_first + (int)rng_range(&s->r, 0, s->n_fleet - 1);
    if (u < fleet_share + gov_share) return s->gov_first + (int)rng_range(&s->r, 0, s->n_gov - 1);
    if (u < fleet_share + gov_share + 0.01) return s->dealer_first + (int)rng_range(&s->r, 0, s->n_dealer - 1);
    return add_individual(s, err, errlen);
}

/* The park before the window, then the window's sales (written with their
 * invoices and payments), then every vehicle's visits and policies. */
int store_vehicles(gen *g, store_sim *s, int target_ros, char *err, size_t errlen)
{
    bool weak_ar = s->weak[DEMO_WEAK_RECEIVABLES];
    double fleet_share = weak_ar ? 0.10 : 0.03, gov_share = weak_ar ? 0.06 : 0.015;
    int park = (int)(3.4 * target_ros);
    for (int i = 0; i < park; i++) {
        int owner = pick_owner(s, fleet_share, gov_share, err, errlen);
        if (owner < 0) return -1;
        int sy, sm, sd;
        calendar_civil_from_days(s->start_day, &sy, &sm, &sd);
        if (add_vehicle(g, s, owner, INT_MIN, pick_model(&s->r), sy - (int)rng_range(&s->r, 1, 8), err, errlen) < 0) return -1;
    }
    csv_out *w = &g->out[E_VEHICLE_SALES];
    long long deal = 0;
    int nmonths = g->o->years * 12;
    for (int mo = 0; mo < nmonths; mo++) {
        int mi = g->start_month_index + mo, y = mi / 12, m = mi % 12 + 1;
        int first = calendar_days_from_civil(y, m, 1), ndays = calendar_days_in_month(y, m);
        int n = (int)(0.08 * target_ros * sales_season[m - 1] * (0.85 + 0.3 * rng_unit(&s->r)) + 0.5);
        for (int k = 0; k < n; k++) {
            int day = first + (int)rng_range(&s->r, 0, ndays - 1);
            if (day > s->end_day) continue;
            int owner = pick_owner(s, fleet_share * 1.5, gov_share, err, errlen);
            if (owner < 0) return -1;
            int model = pick_model(&s->r);
            int vi = add_vehicle(g, s, owner, day, model, y, err, errlen);
            if (vi < 0) return -1;
            const vehicle *v = &s->veh[vi];
            long long price = brands[s->brand].models[model].price * (long long)rng_range(&s->r, 90, 102) / 100 / 100 * 100;
            char dno[24], cc[16];
            snprintf(dno, sizeof dno, "D%07lld", ++deal);
            customer_code(owner, cc, sizeof cc);
            csv_row_start(w);
            csv_str(w, s->code); csv_str(w, dno); csv_str(w, v->vin); csv_date(w, day); csv_str(w, cc);
            csv_str(w, brands[s->brand].models[model].name); csv_hundredths(w, price * 100);
            csv_bool(w, rng_chance(&s->r, s->referral_p));
            csv_row_end(w);
            fig_add(s, day, F_UNITS, 1);
            fig_add(s, day, F_SALES, price * 100);
            write_invoice(g, s, owner, day, price * 100, NULL, dno);
        }
    }
    for (int vi = 0; vi < s->nveh; vi++) {
        int from = 0, until = 0;
        cover covers[COVERS_MAX];
        if (vehicle_visits(s, vi, err, errlen, &from, &until) != 0) return -1;
        int ncovers = vehicle_policies(g, s, &s->veh[vi], until, covers);
        if (vehicle_unplanned(s, vi, from, until, covers, ncovers, err, errlen) != 0) return -1;
    }
    return 0;
}

static int event_cmp(const void *a, const void *b)
{
    const event *x = a, *y = b;
    if (x->day != y->day) return x->day < y->day ? -1 : 1;
    if (x->minute != y->minute) return x->minute < y->minute ? -1 : 1;
    return x->id < y->id ? -1 : x->id > y->id;
}

/* Comebacks: a few repairs come back within weeks for the same fault. */
int add_comebacks(store_sim *s, char *err, size_t errlen)
{
    qsort(s->ev, (size_t)s->nev, sizeof *s->ev, event_cmp);
    int n = s->nev;
    for (int i = 0; i < n; i++) {
        enum ro_kind k = (enum ro_kind)s->ev[i].kind;
        if (k != K_REPAIR && k != K_BODY && k != K_WARRANTY) continue;
        double p = s->weak[DEMO_WEAK_LABOUR_SHARE] ? 0.05 : 0.025;
        if (!rng_chance(&s->r, p)) continue;
        int day = s->ev[i].day + (int)rng_range(&s->r, 3, 25), orig_id = s->ev[i].id, vi = s->ev[i].vehicle;
        int n0 = s->nev;
        if (add_event(s, day, K_REPAIR, vi, err, errlen) != 0) return -1;
        if (s->nev > n0) s->ev[n0].comeback_of_id = orig_id;
    }
    qsort(s->ev, (size_t)s->nev, sizeof *s->ev, event_cmp);
    return 0;
}

