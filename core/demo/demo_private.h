/* demo_private: what the files of the demo generator (core/demo/) share:
 * the seedable random streams, the group's regions, cities, brands and
 * insurers, the CSV writer, the per-store simulation state, and the steps
 * one file of the generator calls in another. Nothing outside core/demo/
 * includes it; the interface is demo.h. */
#ifndef FS_DEMO_PRIVATE_H
#define FS_DEMO_PRIVATE_H
#include <limits.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "calendar.h"
#include "demo.h"

/* --- PRNG: splitmix64 seeding xoshiro256** --- */

typedef struct rng { uint64_t s[4]; } rng;

static inline uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static inline void rng_seed(rng *r, uint64_t seed, uint64_t stream)
{
    uint64_t x = seed ^ (stream * 0xD1B54A32D192ED03ull);
    for (int i = 0; i < 4; i++) r->s[i] = splitmix64(&x);
}

static inline inline uint64_t rotl64(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static inline uint64_t rng_next(rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl64(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0]; s[3] ^= s[1]; s[1] ^= s[2]; s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl64(s[3], 45);
    return result;
}

/* Uniform in [0, 1). */
static inline double rng_unit(rng *r) { return (double)(rng_next(r) >> 11) * 0x1.0p-53; }
/* Uniform integer in [lo, hi]. */
static inline long long rng_range(rng *r, long long lo, long long hi)
{
    if (hi <= lo) return lo;
    return lo + (long long)(rng_next(r) % (uint64_t)(hi - lo + 1));
}
static inline bool rng_chance(rng *r, double p) { return rng_unit(r) < p; }
/* Skewed towards the start: index in [0, n) with density falling like a power law. */
static inline int rng_skewed(rng *r, int n)
{
    double u = rng_unit(r);
    int i = (int)(n * u * u * u);
    return i < n ? i : n - 1;
}
/* Roughly normal (sum of 4 uniforms), mean 0, sd 1. */
static inline double rng_normal(rng *r)
{
    double s = rng_unit(r) + rng_unit(r) + rng_unit(r) + rng_unit(r);
    return (s - 2.0) * 1.7320508075688772;
}

/* --- calendar: days since 1970-01-01 --- */




/* The same date one year later (29 Feb -> 28 Feb). */
static inline int add_one_year(int day)
{
    int y, m, d;
    calendar_civil_from_days(day, &y, &m, &d);
    if (m == 2 && d == 29) d = 28;
    return calendar_days_from_civil(y + 1, m, d);
}

static inline int month_index(int day)   /* y * 12 + (m - 1) */
{
    int y, m, d;
    calendar_civil_from_days(day, &y, &m, &d);
    return y * 12 + m - 1;
}

/* Spring Festival (lunar new year) dates; outside the table, 5 February. */
static const struct { int year, month, day; } spring_festival[] = {
    {2016, 2, 8}, {2017, 1, 28}, {2018, 2, 16}, {2019, 2, 5}, {2020, 1, 25},
    {2021, 2, 12}, {2022, 2, 1}, {2023, 1, 22}, {2024, 2, 10}, {2025, 1, 29},
    {2026, 2, 17}, {2027, 2, 6}, {2028, 1, 26}, {2029, 2, 13}, {2030, 2, 3},
    {2031, 1, 23}, {2032, 2, 11}, {2033, 1, 31}, {2034, 2, 19}, {2035, 2, 8},
    {2036, 1, 28}, {2037, 2, 15}, {2038, 2, 4}, {2039, 1, 24}, {2040, 2, 12},
};

static inline int spring_festival_day(int year)
{
    for (size_t i = 0; i < sizeof spring_festival / sizeof spring_festival[0]; i++)
        if (spring_festival[i].year == year)
            return calendar_days_from_civil(year, spring_festival[i].month, spring_festival[i].day);
    return calendar_days_from_civil(year, 2, 5);
}

/* --- the group: regions, cities, brands, models, insurers --- */

static const struct { const char *code, *name; } regions[] = {
    {"HN", "华南"}, {"HD", "华东"}, {"HB", "华北"}, {"XN", "西南"},
};
#define N_REGIONS 4
#define CITIES_PER_REGION 5
#define DISTRICTS_PER_CITY 4

static const struct { const char *code, *name, *district[DISTRICTS_PER_CITY]; int tier; }
cities[N_REGIONS][CITIES_PER_REGION] = {
    { {"GZ", "广州", {"天河", "番禺", "白云", "海珠"}, 1},
      {"SZ", "深圳", {"南山", "福田", "宝安", "龙岗"}, 1},
      {"FS", "佛山", {"南海", "顺德", "禅城", "三水"}, 2},
      {"DG", "东莞", {"南城", "长安", "虎门", "松山湖"}, 2},
      {"ZH", "珠海", {"香洲", "金湾", "斗门", "横琴"}, 2} },
    { {"SH", "上海", {"浦东", "闵行", "嘉定", "宝山"}, 1},
      {"HZ", "杭州", {"西湖", "萧山", "余杭", "滨江"}, 1},
      {"NJ", "南京", {"江宁", "鼓楼", "建邺", "浦口"}, 1},
      {"SU", "苏州", {"园区", "吴中", "相城", "昆山"}, 2},
      {"NB", "宁波", {"鄞州", "江北", "北仑", "慈溪"}, 2} },
    { {"BJ", "北京", {"朝阳", "海淀", "丰台", "亦庄"}, 1},
      {"TJ", "天津", {"河西", "南开", "滨海", "西青"}, 1},
      {"SJ", "石家庄", {"长安", "桥西", "裕华", "正定"}, 2},
      {"JN", "济南", {"历下", "槐荫", "高新", "章丘"}, 2},
      {"TY", "太原", {"小店", "万柏林", "迎泽", "晋源"}, 2} },
    { {"CD", "成都", {"武侯", "锦江", "高新", "郫都"}, 1},
      {"CQ", "重庆", {"渝北", "九龙坡", "南岸", "江北"}, 1},
      {"KM", "昆明", {"官渡", "五华", "呈贡", "西山"}, 2},
      {"GY", "贵阳", {"观山湖", "南明", "云岩", "花溪"}, 2},
      {"MY", "绵阳", {"涪城", "游仙", "科创", "安州"}, 3} },
};

#define N_BRANDS 4
#define MODELS_PER_BRAND 4
/* Brands differ as their networks do: the labour rate the maker allows, the
 * parts markup its price list leaves the dealer (Japanese brands more than
 * the German-Chinese and American joint ventures), and the models' prices. */
static const struct {
    const char *name, *part_prefix, *wmi;
    int labour_rate;                       /* yuan per sold hour, tier-2 city */
    int parts_markup_pct;                  /* mean list price over cost of a part, percent */
    struct { const char *name; int price; } models[MODELS_PER_BRAND];  /* yuan excl. VAT */
} brands[N_BRANDS] = {
    {"丰田", "TY", "LVG", 290, 143, {{"卡罗拉", 106000}, {"凯美瑞", 159000}, {"RAV4荣放", 150000}, {"汉兰达", 230000}}},
    {"本田", "BT", "LHG", 275, 139, {{"思域", 111000}, {"雅阁", 150000}, {"CR-V", 156000}, {"奥德赛", 212000}}},
    {"大众", "DZ", "LSV", 255, 131, {{"朗逸", 97000}, {"帕萨特", 168000}, {"途观L", 195000}, {"迈腾", 172000}}},
    {"别克", "BK", "LSG", 265, 135, {{"英朗", 88000}, {"君威", 142000}, {"君越", 186000}, {"GL8", 230000}}},
};

#define N_INSURERS 3
static const struct { const char *code, *name, *branch; int split_pct, commission_pct; } insurers[N_INSURERS] = {
    {"PICC", "中国人保财险", "人保财险", 50, 10},
    {"PINGAN", "中国平安财险", "平安财险", 30, 12},
    {"CPIC", "中国太平洋财险", "太平洋财险", 20, 14},
};

static const char *const surnames[] = {
    "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡",
    "郭", "何", "林", "罗", "高", "郑", "梁", "谢", "宋", "唐", "许", "邓", "冯", "韩", "曹",
};
static const char *const given_chars[] = {
    "伟", "芳", "娜", "敏", "静", "强", "磊", "洋", "勇", "军", "杰", "娟", "涛", "明", "超",
    "秀", "霞", "平", "刚", "辉", "鹏", "华", "飞", "玲", "斌", "宇", "浩", "凯", "丹", "婷",
    "建", "国", "志", "文", "晨", "欣", "佳", "俊", "峰", "琳",
};
static const char *const fleet_names[] = {
    "顺达物流有限公司", "安行汽车租赁有限公司", "通达快运有限公司", "恒信出租汽车公司",
    "美家家居配送有限公司", "鸿运商务用车服务公司",
};
static const char *const government_names[] = {
    "机关事务管理局", "市政管理局", "交通运输局",
};

/* --- CSV output --- */

enum entity {
    E_REGIONS, E_STORES, E_INSURERS, E_STAFF, E_CUSTOMERS, E_VEHICLE_SALES,
    E_REPAIR_ORDERS, E_RO_LABOUR, E_RO_PARTS, E_PARTS_STOCK, E_INSURANCE_POLICIES,
    E_INVOICES, E_PAYMENTS, E_STORE_FINANCIALS, E_FOLLOW_UP_CALLS, E_CSI_SURVEYS,
    E_APPOINTMENTS, E_TARGETS, E_COUNT
};

static const struct { const char *name, *header; } entity_files[E_COUNT] = {
    {"regions", "region_code,name"},
    {"stores", "store_code,name,brand,region_code,city,opened_on"},
    {"insurers", "insurer_code,name"},
    {"staff", "store_code,staff_code,name,role,hired_on,left_on"},
    {"customers", "store_code,customer_code,type,name,phone"},
    {"vehicle_sales", "store_code,deal_no,vin,sold_on,customer_code,model,sale_amount,referral"},
    {"repair_orders", "store_code,ro_no,vin,customer_code,advisor_code,ro_type,payer,insurer_code,"
                      "opened_at,closed_at,mileage_km,other_amount,discount_amount,comeback_of"},
    {"ro_labour", "store_code,ro_no,line_no,op_code,technician_code,sold_hours,clocked_hours,amount"},
    {"ro_parts", "store_code,ro_no,line_no,part_no,category,qty,unit_price,unit_cost,from_stock"},
    {"parts_stock", "store_code,snapshot_on,part_no,qty_on_hand,unit_cost,last_issue_on,last_receipt_on"},
    {"insurance_policies", "store_code,policy_no,vin,insurer_code,kind,sold_on,starts_on,ends_on,premium,commission"},
    {"invoices", "store_code,invoice_no,customer_code,issued_on,due_on,amount,ro_no,deal_no"},
    {"payments", "store_code,payment_no,invoice_no,paid_on,amount"},
    {"store_financials", "store_code,month,aftersales_personnel_cost,fixed_expenses"},
    {"follow_up_calls", "store_code,ro_no,called_at,reached,complaint"},
    {"csi_surveys", "store_code,ro_no,surveyed_on,reliability,responsiveness,assurance,empathy,tangibles"},
    {"appointments", "store_code,appt_no,vin,booked_at,appointment_at,showed,ro_no"},
    {"targets", "store_code,month,kpi,value"},
};

typedef struct csv_out {
    FILE *f;
    long long rows;
    bool first_field;
} csv_out;

static inline void csv_sep(csv_out *w)
{
    if (!w->first_field) putc_unlocked(',', w->f);
    w->first_field = false;
}

/* A text field, quoted (RFC 4180) when it holds a comma, quote or line end. */
static inline void csv_str(csv_out *w, const char *s)
{
    csv_sep(w);
    if (!s) return;
    if (strpbrk(s, ",\"\r\n") == NULL) { fputs(s, w->f); return; }
    putc_unlocked('"', w->f);
    for (const char *p = s; *p; p++) {
        if (*p == '"') putc_unlocked('"', w->f);
        putc_unlocked(*p, w->f);
    }
    putc_unlocked('"', w->f);
}

static inline void csv_null(csv_out *w) { csv_sep(w); }
static inline void csv_int(csv_out *w, long long v) { csv_sep(w); fprintf(w->f, "%lld", v); }
static inline void csv_bool(csv_out *w, bool v) { csv_sep(w); putc_unlocked(v ? '1' : '0', w->f); }
/* A fixed-point value in hundredths (money in cents, hours, qty), >= 0. */
static inline void csv_hundredths(csv_out *w, long long v)
{
    csv_sep(w);
    if (v % 100 == 0) fprintf(w->f, "%lld", v / 100);
    else fprintf(w->f, "%lld.%02lld", v / 100, v % 100);
}
static inline void csv_date(csv_out *w, int day)
{
    int y, m, d;
    calendar_civil_from_days(day, &y, &m, &d);
    csv_sep(w);
    fprintf(w->f, "%04d-%02d-%02d", y, m, d);
}
/* A timestamp in minutes since 1970-01-01 00:00 (store local time). */
static inline void csv_ts(csv_out *w, long long minutes)
{
    int day = (int)(minutes / 1440), mod = (int)(minutes % 1440);
    int y, m, d;
    calendar_civil_from_days(day, &y, &m, &d);
    csv_sep(w);
    fprintf(w->f, "%04d-%02d-%02d %02d:%02d", y, m, d, mod / 60, mod % 60);
}
static inline void csv_row_start(csv_out *w) { w->first_field = true; }
static inline void csv_row_end(csv_out *w) { putc_unlocked('\n', w->f); w->rows++; }

/* --- a store's month figures: what its budgets (targets) are set from --- */

/* The budget KPIs (the catalogue's "budget": true) by the catalogue's
 * formulas over what the store generated: closed non-internal ROs by their
 * closing month, policies and sales by their day of sale. Money in cents,
 * hours in hundredths, counts whole. */
enum fig { F_RO_COUNT, F_REVENUE, F_GROSS, F_MECH, F_BODY, F_LABOUR, F_HOURS, F_PARTS, F_ACCESSORY,
           F_PREMIUM, F_ACCIDENT, F_UNITS, F_SALES, F_COUNT };
enum fig_unit { FU_COUNT, FU_CENTS, FU_HUNDREDTHS };
static const struct { const char *kpi; enum fig_unit unit; } fig_kpis[F_COUNT] = {
    {"service.ro_count", FU_COUNT}, {"service.revenue", FU_CENTS}, {"service.gross_profit", FU_CENTS},
    {"service.mech_ro_count", FU_COUNT}, {"service.body_ro_count", FU_COUNT}, {"labour.revenue", FU_CENTS},
    {"labour.sold_hours", FU_HUNDREDTHS}, {"parts.revenue", FU_CENTS}, {"parts.accessory_revenue", FU_CENTS},
    {"insurance.premium", FU_CENTS}, {"insurance.accident_revenue", FU_CENTS}, {"sales.units", FU_COUNT},
    {"sales.revenue", FU_CENTS},
};
typedef long long month_figs[F_COUNT];

/* --- per-store simulation state --- */

enum ro_kind { K_FIRST, K_MAINT, K_REPAIR, K_BODY, K_WARRANTY, K_INTERNAL };
static const char *const ro_type_names[] = {
    "first_service", "maintenance", "repair", "bodywork", "warranty", "internal",
};
enum customer_type { CT_INDIVIDUAL, CT_FLEET, CT_GOVERNMENT, CT_INSURER, CT_OTHER };
static const char *const customer_type_names[] = {
    "individual", "fleet", "government", "insurer", "other",
};

typedef struct vehicle {
    char vin[18];
    int customer;           /* owner */
    int sold_day;           /* INT_MIN: in the park before the window */
    int model;
    int km_start, km_per_day10;   /* km at km_day, tenths of km per day */
    int km_day;
    int insurer;            /* current insurer, -1 none */
} vehicle;

typedef struct event {
    int day, minute;        /* opening */
    int vehicle;
    int id;                 /* creation order, a tie breaker and comeback key */
    int comeback_of_id;     /* -1 */
    unsigned char kind;
    bool ac;                /* an air-conditioning repair */
    bool accident;          /* accident bodywork (paid by an insurer when insurer >= 0) */
    signed char insurer;    /* the insurer paying an accident repair, -1 none */
} event;

typedef struct customer {
    unsigned char type;
    char name[96];
} customer;

enum pool { P_MAINT, P_REPAIR, P_AC, P_BODY, P_MATERIAL, P_ACCESSORY, P_COUNT };
static const struct { const char *code; int n; const char *category; int cost_lo, cost_hi; } pools[P_COUNT] = {
    {"MT", 14, "part", 2500, 18000},
    {"RP", 90, "part", 8000, 320000},
    {"AC", 10, "part", 6000, 320000},
    {"BD", 40, "part", 40000, 800000},
    {"MA", 16, "material", 1500, 12000},
    {"AX", 12, "accessory", 8000, 150000},
};

/* Accident repairs by severity: most are a scrape or a dent (one panel
 * painted), some need panels replaced, a few are heavy. Hours in hundredths
 * of the two labour lines (body, paint), and how many body parts. */
#define N_SEVERITIES 3
static const struct { int share_pct, lo1, hi1, lo2, hi2, parts_lo, parts_hi; } body_jobs[N_SEVERITIES] = {
    {50, 100, 300, 150, 400, 0, 1}, {38, 250, 600, 300, 700, 2, 4}, {12, 600, 1600, 500, 1200, 4, 8},
};
/* Materials are sold at 1.35 times their cost. */
#define MATERIAL_MARKUP 1.35

typedef struct part {
    char part_no[24];
    unsigned char pool;
    bool dead;               /* never issued in the window */
    long long cost, price;   /* cents; materials in whole yuan */
    int last_issue;          /* day, INT_MIN never */
    int last_receipt;
    long long issued_this_month;   /* hundredths, since the last snapshot */
    long long dead_qty;      /* hundredths */
} part;

/* One post (an advisor's desk, a technician's bay) and the people who held
 * it in turn: number[k] from from_day[k] (from_day[0] = INT_MIN) until the
 * day before from_day[k + 1]. */
#define SLOT_HOLDERS_MAX 8
typedef struct staff_slot {
    int number[SLOT_HOLDERS_MAX];
    int from_day[SLOT_HOLDERS_MAX];
    int n;
} staff_slot;

typedef struct store_sim {
    int idx;
    char code[16];
    int region, city, brand;
    rng r;
    int start_day, end_day;  /* the window, inclusive */
    double size;             /* 0..1 */
    int labour_rate;         /* yuan per hour */
    bool weak[DEMO_WEAK_COUNT];
    /* the store's character (store_init): how it differs from the others */
    double first_service_p;  /* new vehicles back for their first service */
    double steering;         /* accident revenue / premium the insurers steer the store to */
    double accidents_per_premium;   /* accident repairs a year per yuan of a policy sold here (calibrate_accidents) */
    double tech_efficiency;  /* sold hours / clocked hours */
    double materials_ratio;  /* paint and consumables cost / bodywork revenue */
    double parts_price;      /* the store's prices against the brand list */
    double referral_p;       /* new-vehicle sales through referrals */
    double staff_turnover;   /* leavers a year per post */
    double personnel_ratio;  /* after-sales personnel cost / revenue */
    double followup_p;       /* closed ROs the store calls back */
    bool bad_debtor;         /* a fleet account that stopped paying before the window */

    vehicle *veh; int nveh, capveh;
    event *ev; int nev, capev;
    customer *cust; int ncust, capcust;
    int cust_internal, cust_oem, cust_insurer[N_INSURERS];
    int fleet_first, n_fleet, gov_first, n_gov, dealer_first, n_dealer;

    part *parts; int nparts;
    int pool_first[P_COUNT];

    staff_slot advisors[16]; int nadvisors;
    staff_slot techs[40]; int ntechs;
    staff_slot clerks[2], manager[1];

    long long next_invoice, next_payment, next_policy, next_appt;
    /* month figures (store_financials, targets), by month offset from the start */
    month_figs *figs;
    int nmonths, start_month;   /* start_month: month_index() of the window's first month */
} store_sim;

/* Adds v to figure f of the month of day (days outside the window: nothing). */
static inline void fig_add(store_sim *s, int day, enum fig f, long long v)
{
    int mo = month_index(day) - s->start_month;
    if (s->figs && mo >= 0 && mo < s->nmonths) s->figs[mo][f] += v;
}

typedef struct gen {
    const demo_opts *o;
    csv_out out[E_COUNT];
    int start_day, end_day;
    int start_month_index;
    char *err; size_t errlen;
} gen;

static inline int grow(void **p, int *cap, int need, size_t elem, char *err, size_t errlen)
{
    if (need <= *cap) return 0;
    int ncap = *cap ? *cap : 256;
    while (ncap < need) ncap *= 2;
    void *np = realloc(*p, (size_t)ncap * elem);
    if (!np) { snprintf(err, errlen, "demo: out of memory"); return -1; }
    *p = np;
    *cap = ncap;
    return 0;
}



#define COUNT_OF(a) ((int)(sizeof(a) / sizeof((a)[0])))

/* store set-up and the vehicles' lives (demo_store.c) */
int add_customer(store_sim *s, enum customer_type type, const char *name, char *err, size_t errlen);
void customer_code(int idx, char *buf, size_t len);
void store_name(const store_sim *s, char *buf, size_t len);
void store_init(store_sim *s, const gen *g, int idx);
void store_free(store_sim *s);
void write_staff(gen *g, store_sim *s, int target_ros);
void slot_code(const staff_slot *slot, const char *prefix, int day, char *buf, size_t len);
int parts_init(const gen *g, store_sim *s, char *err, size_t errlen);
void calibrate_accidents(store_sim *s);
int pick_insurer(rng *r);
void write_invoice(gen *g, store_sim *s, int payer, int issued, long long amount, const char *ro_no, const char *deal_no);
int store_vehicles(gen *g, store_sim *s, int target_ros, char *err, size_t errlen);
void write_legacy_debt(gen *g, store_sim *s);
int add_comebacks(store_sim *s, char *err, size_t errlen);

/* the store's monthly budgets, from last year's same month (demo_targets.c) */
void write_targets(gen *g, const store_sim *s);
/* a customer's mobile number, or "" for an account without one (demo_targets.c) */
void customer_phone(rng *r, char *buf, size_t len);

/* repair orders, stock, financials: one whole store (demo_ros.c) */
long long generate_store(gen *g, int idx, char *err, size_t errlen);
#endif
