/* demo: the demo dealer group generator (`fourscore demo`, `serve --demo`).
 *
 * The group is simulated store by store, vehicle by vehicle, so the numbers
 * hang together: every vehicle has an owner, a sale (if the group sold it in
 * the window) or a place in the store's existing park, a chain of service
 * visits every 4-6 months until it churns, repairs, accidents paid by its
 * insurer, warranty work, yearly insurance policies, and each visit has its
 * labour and parts lines, invoice, payments, follow-up call, survey and
 * appointment. Parts issues drive the month-end stock snapshots; revenue
 * drives the month's personnel cost and fixed expenses.
 *
 * Determinism: one seedable xoshiro256** stream per store (seeded through
 * splitmix64 from the seed and the store index), integer money (cents),
 * hours and quantities (hundredths), and no clock but the --end month. The
 * same seed and end month give the same files byte for byte.
 *
 * The story: a few stores are weak in one domain each (demo_weak_store()):
 * low labour share, aged receivables, poor insurance renewal, high churn,
 * slow-moving parts. Seasonality: a dip around the Spring Festival and an
 * air-conditioning repair peak in summer. */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "app.h"
#include "calendar.h"
#include "auth.h"
#include "commands.h"
#include "config.h"
#include "db.h"
#include "demo.h"
#include "import.h"
#include "kpi.h"
#include "rollup.h"

/* --- PRNG: splitmix64 seeding xoshiro256** --- */

typedef struct rng { uint64_t s[4]; } rng;

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static void rng_seed(rng *r, uint64_t seed, uint64_t stream)
{
    uint64_t x = seed ^ (stream * 0xD1B54A32D192ED03ull);
    for (int i = 0; i < 4; i++) r->s[i] = splitmix64(&x);
}

static inline uint64_t rotl64(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static uint64_t rng_next(rng *r)
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
static double rng_unit(rng *r) { return (double)(rng_next(r) >> 11) * 0x1.0p-53; }
/* Uniform integer in [lo, hi]. */
static long long rng_range(rng *r, long long lo, long long hi)
{
    if (hi <= lo) return lo;
    return lo + (long long)(rng_next(r) % (uint64_t)(hi - lo + 1));
}
static bool rng_chance(rng *r, double p) { return rng_unit(r) < p; }
/* Skewed towards the start: index in [0, n) with density falling like a power law. */
static int rng_skewed(rng *r, int n)
{
    double u = rng_unit(r);
    int i = (int)(n * u * u * u);
    return i < n ? i : n - 1;
}
/* Roughly normal (sum of 4 uniforms), mean 0, sd 1. */
static double rng_normal(rng *r)
{
    double s = rng_unit(r) + rng_unit(r) + rng_unit(r) + rng_unit(r);
    return (s - 2.0) * 1.7320508075688772;
}

/* --- calendar: days since 1970-01-01 --- */

static int days_from_civil(int y, int m, int d)
{
    y -= m <= 2;
    int era = (y >= 0 ? y : y - 399) / 400;
    int yoe = y - era * 400;
    int doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static void civil_from_days(int z, int *y, int *m, int *d)
{
    z += 719468;
    int era = (z >= 0 ? z : z - 146096) / 146097;
    int doe = z - era * 146097;
    int yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp + (mp < 10 ? 3 : -9);
    *y = yoe + era * 400 + (*m <= 2);
}


/* The same date one year later (29 Feb -> 28 Feb). */
static int add_one_year(int day)
{
    int y, m, d;
    civil_from_days(day, &y, &m, &d);
    if (m == 2 && d == 29) d = 28;
    return days_from_civil(y + 1, m, d);
}

static int month_index(int day)   /* y * 12 + (m - 1) */
{
    int y, m, d;
    civil_from_days(day, &y, &m, &d);
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

static int spring_festival_day(int year)
{
    for (size_t i = 0; i < sizeof spring_festival / sizeof spring_festival[0]; i++)
        if (spring_festival[i].year == year)
            return days_from_civil(year, spring_festival[i].month, spring_festival[i].day);
    return days_from_civil(year, 2, 5);
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
static const struct {
    const char *name, *part_prefix, *wmi;
    int labour_rate;                       /* yuan per sold hour, tier-2 city */
    struct { const char *name; int price; } models[MODELS_PER_BRAND];  /* yuan excl. VAT */
} brands[N_BRANDS] = {
    {"丰田", "TY", "LVG", 290, {{"卡罗拉", 106000}, {"凯美瑞", 159000}, {"RAV4荣放", 150000}, {"汉兰达", 230000}}},
    {"本田", "BT", "LHG", 275, {{"思域", 111000}, {"雅阁", 150000}, {"CR-V", 156000}, {"奥德赛", 212000}}},
    {"大众", "DZ", "LSV", 255, {{"朗逸", 97000}, {"帕萨特", 168000}, {"途观L", 195000}, {"迈腾", 172000}}},
    {"别克", "BK", "LSG", 265, {{"英朗", 88000}, {"君威", 142000}, {"君越", 186000}, {"GL8", 230000}}},
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

void demo_store_code(int i, char *buf, size_t buflen)
{
    int r = i % N_REGIONS, j = i / N_REGIONS;
    snprintf(buf, buflen, "%s%03d", cities[r][j % CITIES_PER_REGION].code, i + 1);
}

/* --- CSV output --- */

enum entity {
    E_REGIONS, E_STORES, E_INSURERS, E_STAFF, E_CUSTOMERS, E_VEHICLE_SALES,
    E_REPAIR_ORDERS, E_RO_LABOUR, E_RO_PARTS, E_PARTS_STOCK, E_INSURANCE_POLICIES,
    E_INVOICES, E_PAYMENTS, E_STORE_FINANCIALS, E_FOLLOW_UP_CALLS, E_CSI_SURVEYS,
    E_APPOINTMENTS, E_COUNT
};

static const struct { const char *name, *header; } entity_files[E_COUNT] = {
    {"regions", "region_code,name"},
    {"stores", "store_code,name,brand,region_code,city,opened_on"},
    {"insurers", "insurer_code,name"},
    {"staff", "store_code,staff_code,name,role,hired_on,left_on"},
    {"customers", "store_code,customer_code,type,name"},
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
};

typedef struct csv_out {
    FILE *f;
    long long rows;
    bool first_field;
} csv_out;

static void csv_sep(csv_out *w)
{
    if (!w->first_field) putc_unlocked(',', w->f);
    w->first_field = false;
}

/* A text field, quoted (RFC 4180) when it holds a comma, quote or line end. */
static void csv_str(csv_out *w, const char *s)
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

static void csv_null(csv_out *w) { csv_sep(w); }
static void csv_int(csv_out *w, long long v) { csv_sep(w); fprintf(w->f, "%lld", v); }
static void csv_bool(csv_out *w, bool v) { csv_sep(w); putc_unlocked(v ? '1' : '0', w->f); }
/* A fixed-point value in hundredths (money in cents, hours, qty), >= 0. */
static void csv_hundredths(csv_out *w, long long v)
{
    csv_sep(w);
    if (v % 100 == 0) fprintf(w->f, "%lld", v / 100);
    else fprintf(w->f, "%lld.%02lld", v / 100, v % 100);
}
static void csv_date(csv_out *w, int day)
{
    int y, m, d;
    civil_from_days(day, &y, &m, &d);
    csv_sep(w);
    fprintf(w->f, "%04d-%02d-%02d", y, m, d);
}
/* A timestamp in minutes since 1970-01-01 00:00 (store local time). */
static void csv_ts(csv_out *w, long long minutes)
{
    int day = (int)(minutes / 1440), mod = (int)(minutes % 1440);
    int y, m, d;
    civil_from_days(day, &y, &m, &d);
    csv_sep(w);
    fprintf(w->f, "%04d-%02d-%02d %02d:%02d", y, m, d, mod / 60, mod % 60);
}
static void csv_row_start(csv_out *w) { w->first_field = true; }
static void csv_row_end(csv_out *w) { putc_unlocked('\n', w->f); w->rows++; }

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
    bool accident;          /* insurer-paid bodywork */
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
    {"BD", 40, "part", 25000, 480000},
    {"MA", 16, "material", 1500, 12000},
    {"AX", 12, "accessory", 8000, 150000},
};

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

typedef struct staff_slot {
    int first, second;       /* staff numbers; second replaces first from change_day */
    int change_day;          /* INT_MAX: no change */
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

    vehicle *veh; int nveh, capveh;
    event *ev; int nev, capev;
    customer *cust; int ncust, capcust;
    int cust_internal, cust_oem, cust_insurer[N_INSURERS];
    int fleet_first, n_fleet, gov_first, n_gov, dealer_first, n_dealer;

    part *parts; int nparts;
    int pool_first[P_COUNT];

    staff_slot advisors[16]; int nadvisors;
    staff_slot techs[40]; int ntechs;

    long long next_invoice, next_payment, next_policy, next_appt;
    /* month figures for store_financials, by month offset from the start */
    long long *month_revenue, *month_gross;
    int nmonths;
} store_sim;

typedef struct gen {
    const demo_opts *o;
    csv_out out[E_COUNT];
    int start_day, end_day;
    int start_month_index;
    char *err; size_t errlen;
} gen;

static int grow(void **p, int *cap, int need, size_t elem, char *err, size_t errlen)
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


/* --- names and identifiers --- */

#define COUNT_OF(a) ((int)(sizeof(a) / sizeof((a)[0])))

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

static int add_customer(store_sim *s, enum customer_type type, const char *name, char *err, size_t errlen)
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

static void customer_code(int idx, char *buf, size_t len) { snprintf(buf, len, "C%06d", idx + 1); }

static void store_name(const store_sim *s, char *buf, size_t len)
{
    int j = s->idx / N_REGIONS;
    int district = (j / CITIES_PER_REGION) % DISTRICTS_PER_CITY;
    int round = j / (CITIES_PER_REGION * DISTRICTS_PER_CITY * N_BRANDS);
    const char *city = cities[s->region][s->city].name;
    const char *dist = cities[s->region][s->city].district[district];
    if (round == 0) snprintf(buf, len, "%s%s%s", city, dist, brands[s->brand].name);
    else snprintf(buf, len, "%s%s%s%d店", city, dist, brands[s->brand].name, round + 1);
}

static void store_init(store_sim *s, const gen *g, int idx)
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
    s->end_day = g->end_day;
    s->size = rng_unit(&s->r);
    for (int w = 0; w < DEMO_WEAK_COUNT; w++)
        s->weak[w] = demo_weak_store(g->o->stores, (enum demo_weakness)w) == idx;
    int tier = cities[s->region][s->city].tier;
    double tier_factor = tier == 1 ? 1.15 : tier == 2 ? 1.0 : 0.9;
    s->labour_rate = (int)(brands[s->brand].labour_rate * tier_factor);
    if (s->weak[DEMO_WEAK_LABOUR_SHARE]) s->labour_rate = s->labour_rate * 55 / 100;
}

static void store_free(store_sim *s)
{
    free(s->veh); free(s->ev); free(s->cust); free(s->parts);
    free(s->month_revenue); free(s->month_gross);
}

/* Staff: advisors and technicians in slots (a leaver and a replacement share
 * a slot), two parts clerks and the after-sales manager. */
static void write_staff(gen *g, store_sim *s, int target_ros)
{
    csv_out *w = &g->out[E_STAFF];
    s->nadvisors = target_ros / 110;
    if (s->nadvisors < 3) s->nadvisors = 3;
    if (s->nadvisors > COUNT_OF(s->advisors)) s->nadvisors = COUNT_OF(s->advisors);
    s->ntechs = target_ros / 35;
    if (s->ntechs < 6) s->ntechs = 6;
    if (s->ntechs > COUNT_OF(s->techs)) s->ntechs = COUNT_OF(s->techs);
    struct { staff_slot *slots; int n; const char *prefix, *role; } groups[] = {
        {s->advisors, s->nadvisors, "SA", "advisor"},
        {s->techs, s->ntechs, "T", "technician"},
    };
    for (int gi = 0; gi < COUNT_OF(groups); gi++) {
        int number = 0;
        for (int k = 0; k < groups[gi].n; k++) {
            staff_slot *slot = &groups[gi].slots[k];
            slot->first = ++number;
            slot->second = -1;
            slot->change_day = INT_MAX;
            int hired = s->start_day - (int)rng_range(&s->r, 60, 3000);
            bool changes = s->end_day - s->start_day > 120 && rng_chance(&s->r, 0.2);
            if (changes) {
                slot->change_day = (int)rng_range(&s->r, s->start_day + 30, s->end_day - 30);
                slot->second = ++number;
            }
            char code[16], name[32];
            snprintf(code, sizeof code, "%s%03d", groups[gi].prefix, slot->first);
            person_name(&s->r, name, sizeof name);
            csv_row_start(w);
            csv_str(w, s->code); csv_str(w, code); csv_str(w, name); csv_str(w, groups[gi].role);
            csv_date(w, hired);
            if (changes) csv_date(w, slot->change_day - 1); else csv_null(w);
            csv_row_end(w);
            if (changes) {
                snprintf(code, sizeof code, "%s%03d", groups[gi].prefix, slot->second);
                person_name(&s->r, name, sizeof name);
                csv_row_start(w);
                csv_str(w, s->code); csv_str(w, code); csv_str(w, name); csv_str(w, groups[gi].role);
                csv_date(w, slot->change_day); csv_null(w);
                csv_row_end(w);
            }
        }
    }
    static const struct { const char *code, *role; } others[] = {
        {"PT01", "parts"}, {"PT02", "parts"}, {"MGR01", "other"},
    };
    for (int k = 0; k < COUNT_OF(others); k++) {
        char name[32];
        person_name(&s->r, name, sizeof name);
        csv_row_start(w);
        csv_str(w, s->code); csv_str(w, others[k].code); csv_str(w, name); csv_str(w, others[k].role);
        csv_date(w, s->start_day - (int)rng_range(&s->r, 200, 2500)); csv_null(w);
        csv_row_end(w);
    }
}

/* The staff code working slot k of a group on a day. */
static void slot_code(const staff_slot *slot, const char *prefix, int day, char *buf, size_t len)
{
    int number = (slot->second > 0 && day >= slot->change_day) ? slot->second : slot->first;
    snprintf(buf, len, "%s%03d", prefix, number);
}

/* The brand's catalogue (the same for every store of the brand) plus this
 * store's dead stock (parts never issued in the window). */
static int parts_init(const gen *g, store_sim *s, char *err, size_t errlen)
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
                double markup = p == P_ACCESSORY ? 1.6 + 0.4 * rng_unit(&cat) : 1.28 + 0.22 * rng_unit(&cat);
                pt->price = (long long)(pt->cost * markup + 0.5);
            }
            if (p == P_MAINT && i == 0) pt->cost = 6200 + (long long)rng_range(&cat, 0, 1500);   /* engine oil, a litre */
            if (p == P_MAINT && i == 1) pt->cost = 3500 + (long long)rng_range(&cat, 0, 2500);   /* oil filter */
            if (p == P_MAINT && i <= 1) pt->price = pt->cost * 145 / 100;
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

/* --- vehicles, sales, policies and the visit chain --- */

static int add_vehicle(const gen *g, store_sim *s, int customer, int sold_day, int model, int model_year,
                       char *err, size_t errlen)
{
    if (s->nveh >= 190000) { snprintf(err, errlen, "demo: too many vehicles in one store"); return -1; }
    if (grow((void **)&s->veh, &s->capveh, s->nveh + 1, sizeof *s->veh, err, errlen) != 0) return -1;
    vehicle *v = &s->veh[s->nveh];
    memset(v, 0, sizeof *v);
    make_vin(&s->r, brands[s->brand].wmi, model_year, s->idx, s->nveh, v->vin);
    v->customer = customer;
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

static int add_event(store_sim *s, int day, enum ro_kind kind, int vehicle, char *err, size_t errlen)
{
    if (day < s->start_day || day > s->end_day) return 0;
    if (grow((void **)&s->ev, &s->capev, s->nev + 1, sizeof *s->ev, err, errlen) != 0) return -1;
    event *e = &s->ev[s->nev];
    memset(e, 0, sizeof *e);
    e->day = day;
    e->minute = kind == K_INTERNAL ? (int)rng_range(&s->r, 9 * 60, 16 * 60)
                                   : (int)rng_range(&s->r, 8 * 60, 17 * 60 + 30);
    e->vehicle = vehicle;
    e->id = s->nev;
    e->comeback_of_id = -1;
    e->kind = (unsigned char)kind;
    s->nev++;
    return 0;
}

/* Visits around the Spring Festival move to after the holiday (the dip). */
static int festival_shift(rng *r, int day)
{
    int y, m, d;
    civil_from_days(day, &y, &m, &d);
    if (m > 3) return day;
    int sf = spring_festival_day(y);
    bool holiday = day >= sf - 1 && day <= sf + 4;          /* the store is shut */
    if (day >= sf - 6 && day <= sf + 6 && (holiday || rng_chance(r, 0.6)))
        return sf + 7 + (int)rng_range(r, 0, 14);
    return day;
}

static int pick_insurer(rng *r)
{
    int u = (int)rng_range(r, 0, 99), acc = 0;
    for (int i = 0; i < N_INSURERS; i++) {
        acc += insurers[i].split_pct;
        if (u < acc) return i;
    }
    return 0;
}

/* One policy row; returns its ends_on. */
static int write_policy(gen *g, store_sim *s, const vehicle *v, int insurer, bool renewal,
                        int sold_on, int starts_on, int age_years)
{
    csv_out *w = &g->out[E_INSURANCE_POLICIES];
    int ends_on = add_one_year(starts_on) - 1;
    long long price = brands[s->brand].models[v->model].price;
    long long premium_yuan = 950 + price * 32 / 1000;
    for (int y = 0; y < age_years; y++) premium_yuan = premium_yuan * 92 / 100;
    premium_yuan += rng_range(&s->r, -200, 200);
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
    return ends_on;
}

/* The vehicle's policies in the window: new at sale (when sold here), then
 * yearly renewals, fewer once the vehicle stopped coming. */
static void vehicle_policies(gen *g, store_sim *s, vehicle *v, int active_until)
{
    double renew = s->weak[DEMO_WEAK_RENEWAL] ? 0.30 : 0.66 + 0.12 * rng_unit(&s->r);
    int insurer = pick_insurer(&s->r);
    int starts_on, age = 0;
    if (v->sold_day != INT_MIN) {
        if (!rng_chance(&s->r, 0.86)) return;            /* insured elsewhere */
        v->insurer = insurer;
        starts_on = write_policy(g, s, v, insurer, false, v->sold_day, v->sold_day, 0) + 1;
    } else {
        starts_on = s->start_day + (int)rng_range(&s->r, 0, 364);
        age = (int)((v->km_start * 10LL / (v->km_per_day10 ? v->km_per_day10 : 1)) / 365) + 1;
        if (!rng_chance(&s->r, 0.6)) return;
        v->insurer = insurer;
    }
    bool first_renewal_of_park = v->sold_day == INT_MIN;
    while (starts_on - 1 <= s->end_day + 30) {
        double p = first_renewal_of_park ? 1.0 : renew;
        if (starts_on > active_until) p *= 0.35;
        int sold_on = starts_on - (int)rng_range(&s->r, 1, 25);
        if (sold_on < s->start_day) sold_on = s->start_day;
        if (sold_on > s->end_day || !rng_chance(&s->r, p)) break;
        if (rng_chance(&s->r, 0.2)) insurer = pick_insurer(&s->r);
        age++;
        starts_on = write_policy(g, s, v, insurer, true, sold_on, starts_on, age) + 1;   /* the day after it ends */
        first_renewal_of_park = false;
    }
}

/* Service visits every 4-6 months until the vehicle churns, with repairs,
 * accidents and warranty work while it is active. Returns the last day it
 * is still a customer. */
static int vehicle_visits(store_sim *s, int vi, char *err, size_t errlen, int *active_until)
{
    vehicle *v = &s->veh[vi];
    bool weak_churn = s->weak[DEMO_WEAK_CHURN];
    int entry, day;
    enum ro_kind kind = K_MAINT;
    double churn;
    if (v->sold_day != INT_MIN) {
        entry = v->sold_day;
        if (rng_chance(&s->r, 0.3) && add_event(s, v->sold_day, K_INTERNAL, vi, err, errlen) != 0) return -1;
        churn = weak_churn ? 0.16 : 0.025;
        /* first service inside 6 months even after a Spring Festival delay */
        if (rng_chance(&s->r, weak_churn ? 0.80 : 0.98)) {
            day = v->sold_day + (int)rng_range(&s->r, 30, 150);
            kind = K_FIRST;
        } else if (rng_chance(&s->r, 0.35)) {
            day = v->sold_day + (int)rng_range(&s->r, 200, 420);
        } else {
            day = INT_MAX;
        }
    } else {
        entry = s->start_day;
        churn = weak_churn ? 0.24 : 0.15;
        /* already in its rhythm: somewhere inside its current interval */
        int interval = weak_churn ? (int)rng_range(&s->r, 140, 240) : (int)rng_range(&s->r, 115, 185);
        day = s->start_day + (int)rng_range(&s->r, 0, interval - 1);
    }
    int until = entry + 60;
    while (day <= s->end_day) {
        day = festival_shift(&s->r, day);
        if (add_event(s, day, kind, vi, err, errlen) != 0) return -1;
        until = day + 180;
        if (rng_chance(&s->r, churn)) break;
        day += weak_churn ? (int)rng_range(&s->r, 140, 240) : (int)rng_range(&s->r, 115, 185);
        kind = K_MAINT;
    }
    /* unplanned work while the vehicle is a customer, month by month */
    bool young = v->sold_day != INT_MIN || rng_chance(&s->r, 0.35);
    int last = until < s->end_day ? until : s->end_day;
    for (int m0 = entry; m0 <= last; m0 += 30) {
        int y, m, d;
        civil_from_days(m0, &y, &m, &d);
        double ac = (m >= 6 && m <= 8) ? 0.035 : (m == 5 || m == 9) ? 0.012 : 0.002;
        if (rng_chance(&s->r, 0.30 / 12)) {
            if (add_event(s, festival_shift(&s->r, m0 + (int)rng_range(&s->r, 0, 29)), K_REPAIR, vi, err, errlen) != 0) return -1;
        }
        if (rng_chance(&s->r, ac)) {
            int n0 = s->nev;
            if (add_event(s, m0 + (int)rng_range(&s->r, 0, 29), K_REPAIR, vi, err, errlen) != 0) return -1;
            if (s->nev > n0) s->ev[n0].ac = true;
        }
        if (rng_chance(&s->r, 0.12 / 12)) {
            int n0 = s->nev;
            if (add_event(s, m0 + (int)rng_range(&s->r, 0, 29), K_BODY, vi, err, errlen) != 0) return -1;
            if (s->nev > n0) s->ev[n0].accident = true;
        }
        if (young && rng_chance(&s->r, 0.09 / 12)) {
            if (add_event(s, festival_shift(&s->r, m0 + (int)rng_range(&s->r, 0, 29)), K_WARRANTY, vi, err, errlen) != 0) return -1;
        }
    }
    *active_until = until;
    return 0;
}

/* A customer's invoice and its payments (individuals pay at once; insurers,
 * the maker and fleets on terms; some fleet and government accounts slowly,
 * in parts, or not at all). */
static void write_invoice(gen *g, store_sim *s, int customer, int issued, long long amount,
                          const char *ro_no, const char *deal_no)
{
    if (amount <= 0) return;
    csv_out *w = &g->out[E_INVOICES], *pw = &g->out[E_PAYMENTS];
    enum customer_type type = (enum customer_type)s->cust[customer].type;
    static const int terms[] = {0, 30, 90, 30, 45};
    char no[24], cc[16];
    snprintf(no, sizeof no, "I%07lld", ++s->next_invoice);
    customer_code(customer, cc, sizeof cc);
    csv_row_start(w);
    csv_str(w, s->code); csv_str(w, no); csv_str(w, cc); csv_date(w, issued);
    csv_date(w, issued + terms[type]); csv_hundredths(w, amount);
    csv_str(w, ro_no); csv_str(w, deal_no);
    csv_row_end(w);

    /* the plan: up to two payments (amount, days after issue); 0 = never */
    long long amt[2] = {amount, 0};
    int after[2] = {0, -1};
    rng *r = &s->r;
    double u = rng_unit(r);
    switch (type) {
    case CT_INDIVIDUAL:
        break;
    case CT_INSURER:
        if (u < 0.9) after[0] = (int)rng_range(r, 15, 60);
        else { amt[0] = amount * rng_range(r, 40, 70) / 100; amt[1] = amount - amt[0];
               after[0] = (int)rng_range(r, 15, 40); after[1] = (int)rng_range(r, 50, 120); }
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
            else if (u < 0.97) { amt[0] = amount * rng_range(r, 40, 70) / 100; amt[1] = amount - amt[0];
                                 after[0] = (int)rng_range(r, 20, 60) * slow; after[1] = (int)rng_range(r, 70, 160) * slow; }
            else { amt[0] = amount / 2; amt[1] = amount - amt[0];
                   after[0] = (int)rng_range(r, 60, 150); after[1] = -1; }
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
static int store_vehicles(gen *g, store_sim *s, int target_ros, char *err, size_t errlen)
{
    bool weak_ar = s->weak[DEMO_WEAK_RECEIVABLES];
    double fleet_share = weak_ar ? 0.10 : 0.03, gov_share = weak_ar ? 0.06 : 0.015;
    int park = (int)(4.0 * target_ros);
    for (int i = 0; i < park; i++) {
        int owner = pick_owner(s, fleet_share, gov_share, err, errlen);
        if (owner < 0) return -1;
        int sy, sm, sd;
        civil_from_days(s->start_day, &sy, &sm, &sd);
        if (add_vehicle(g, s, owner, INT_MIN, pick_model(&s->r), sy - (int)rng_range(&s->r, 1, 8), err, errlen) < 0) return -1;
    }
    csv_out *w = &g->out[E_VEHICLE_SALES];
    long long deal = 0;
    int nmonths = g->o->years * 12;
    for (int mo = 0; mo < nmonths; mo++) {
        int mi = g->start_month_index + mo, y = mi / 12, m = mi % 12 + 1;
        int first = days_from_civil(y, m, 1), ndays = calendar_days_in_month(y, m);
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
            csv_bool(w, rng_chance(&s->r, 0.12));
            csv_row_end(w);
            write_invoice(g, s, owner, day, price * 100, NULL, dno);
        }
    }
    for (int vi = 0; vi < s->nveh; vi++) {
        int until = 0;
        if (vehicle_visits(s, vi, err, errlen, &until) != 0) return -1;
        vehicle_policies(g, s, &s->veh[vi], until);
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
static int add_comebacks(store_sim *s, char *err, size_t errlen)
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

typedef struct ro_totals { long long labour, sale, cost; } ro_totals;

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
    else csv_hundredths(w, hours100 * (long long)rng_range(&s->r, 80, 108) / 100);
    csv_hundredths(w, amount);
    csv_row_end(w);
    t->labour += amount;
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
        labour_line(g, s, ro_no, &ln, "BD01", rng_range(r, 150, 500), rate, day, t);
        labour_line(g, s, ro_no, &ln, "BD02", rng_range(r, 200, 600), rate, day, t);
        for (int i = (int)rng_range(r, 1, 3); i > 0; i--) parts_line(g, s, ro_no, &pn, P_BODY, -1, 100, day, t);
        /* paint and consumables: about 18 % of the job's revenue at cost */
        long long target_cost = (t->labour + t->sale) * 235 / 1000 * (long long)rng_range(r, 85, 115) / 100;
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

static void write_followups(gen *g, store_sim *s, const char *ro_no, int closed_day, double csi_base)
{
    rng *r = &s->r;
    if (rng_chance(r, 0.62)) {
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
            static const double dimension_offset[5] = {0.1, -0.2, 0.2, -0.1, 0.3};
            csv_row_start(w);
            csv_str(w, s->code); csv_str(w, ro_no); csv_date(w, day);
            for (int d = 0; d < 5; d++) {
                double v = csi_base + dimension_offset[d] + 0.7 * rng_normal(r);
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
    double csi_base = 8.4 + 0.5 * rng_unit(r) - (s->weak[DEMO_WEAK_CHURN] ? 0.9 : 0.0);
    double appt_share = 0.25 + 0.3 * rng_unit(r);
    int month = g->start_month_index;          /* the month whose end is next */
    for (int i = 0; i <= s->nev; i++) {
        int day = i < s->nev ? s->ev[i].day : s->end_day + 1;
        while (month_index(day) > month) {
            int y = month / 12, m = month % 12 + 1;
            write_snapshot(g, s, days_from_civil(y, m, calendar_days_in_month(y, m)));
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
            if (e->accident && rng_chance(r, 0.8)) {
                payer = "insurer";
                insurer = v->insurer >= 0 ? v->insurer : pick_insurer(r);
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
        ro_totals t = {0, 0, 0};
        ro_lines(g, s, e, ro_no, &t);
        long long other = 0, discount = 0;
        if ((kind == K_REPAIR || kind == K_BODY) && rng_chance(r, 0.05)) other = rng_range(r, 100, 800) * 100;
        if ((kind == K_MAINT || kind == K_REPAIR) && rng_chance(r, 0.12))
            discount = (t.labour + t.sale) * rng_range(r, 5, 12) / 100 / 100 * 100;
        long long revenue = t.labour + t.sale + other - discount;

        /* the RO names the vehicle's owner (the house for internal work);
         * the invoice goes to whoever pays */
        customer_code(kind == K_INTERNAL ? s->cust_internal : v->customer, cc, sizeof cc);
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
        int mo = month_index(closed_day) - g->start_month_index;
        if (mo >= 0 && mo < s->nmonths) {
            s->month_revenue[mo] += revenue;
            s->month_gross[mo] += revenue - t.cost;
        }
        /* individuals pay their own bills at the till: no receivable */
        if (s->cust[bill_to].type != CT_INDIVIDUAL) write_invoice(g, s, bill_to, closed_day, revenue, ro_no, NULL);
        write_followups(g, s, ro_no, closed_day, csi_base);
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
        long long revenue = s->month_revenue[mo], gross = s->month_gross[mo];
        long long personnel = (long long)(revenue * (0.095 + 0.03 * rng_unit(&s->r)));
        long long fixed = (long long)((gross > 0 ? gross : 1000000) / (0.85 + 0.35 * rng_unit(&s->r)));
        char month[16];
        snprintf(month, sizeof month, "%04d-%02d", mi / 12, mi % 12 + 1);
        csv_row_start(w);
        csv_str(w, s->code); csv_str(w, month);
        csv_hundredths(w, personnel); csv_hundredths(w, fixed);
        csv_row_end(w);
    }
}

static void write_customers(gen *g, store_sim *s)
{
    csv_out *w = &g->out[E_CUSTOMERS];
    for (int i = 0; i < s->ncust; i++) {
        char cc[16];
        customer_code(i, cc, sizeof cc);
        csv_row_start(w);
        csv_str(w, s->code); csv_str(w, cc); csv_str(w, customer_type_names[s->cust[i].type]);
        csv_str(w, s->cust[i].name[0] ? s->cust[i].name : NULL);
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
static long long generate_store(gen *g, int idx, char *err, size_t errlen)
{
    store_sim s;
    store_init(&s, g, idx);
    long long result = -1;
    int target_ros = (int)((300 + 600 * s.size) * g->o->volume);       /* ROs a month */
    if (target_ros < 20) target_ros = 20;
    s.nmonths = g->o->years * 12;
    s.month_revenue = calloc((size_t)s.nmonths, sizeof *s.month_revenue);
    s.month_gross = calloc((size_t)s.nmonths, sizeof *s.month_gross);
    if (!s.month_revenue || !s.month_gross) { snprintf(err, errlen, "demo: out of memory"); goto done; }

    char name[128];
    store_name(&s, name, sizeof name);
    csv_out *w = &g->out[E_STORES];
    csv_row_start(w);
    csv_str(w, s.code); csv_str(w, name); csv_str(w, brands[s.brand].name);
    csv_str(w, regions[s.region].code); csv_str(w, cities[s.region][s.city].name);
    csv_date(w, days_from_civil(2006 + (int)rng_range(&s.r, 0, 12), (int)rng_range(&s.r, 1, 12), (int)rng_range(&s.r, 1, 28)));
    csv_row_end(w);

    write_staff(g, &s, target_ros);
    if (store_accounts(&s, err, errlen) != 0) goto done;
    if (parts_init(g, &s, err, errlen) != 0) goto done;
    if (store_vehicles(g, &s, target_ros, err, errlen) != 0) goto done;
    if (add_comebacks(&s, err, errlen) != 0) goto done;
    if (store_repair_orders(g, &s, err, errlen) != 0) goto done;
    write_financials(g, &s);
    write_customers(g, &s);
    result = s.nev;
done:
    store_free(&s);
    return result;
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
    gen g;
    memset(&g, 0, sizeof g);
    g.o = o;
    int end_index = o->end_year * 12 + o->end_month - 1;
    g.start_month_index = end_index - o->years * 12 + 1;
    g.start_day = days_from_civil(g.start_month_index / 12, g.start_month_index % 12 + 1, 1);
    g.end_day = days_from_civil(o->end_year, o->end_month, calendar_days_in_month(o->end_year, o->end_month));

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
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
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
            clock_gettime(CLOCK_MONOTONIC, &t1);
            fprintf(stderr, "  生成 generating: 门店 store %d/%d, %lld 工单 ROs, %.1f s\n",
                    i + 1, o->stores, total_ros, (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9);
        }
    }
    if (rows) for (int e = 0; e < E_COUNT; e++) rows[e] = g.out[e].rows;
    return close_files(&g, dir, err, errlen);
}

/* The story, for the person who will look at the dashboards. */
static void print_story(const demo_opts *o)
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

/* --- loading through the importer --- */

static double seconds_since(const struct timespec *t0)
{
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (double)(t1.tv_sec - t0->tv_sec) + (t1.tv_nsec - t0->tv_nsec) / 1e9;
}

static int entity_file_index(const char *entity)
{
    for (int e = 0; e < E_COUNT; e++) if (strcmp(entity_files[e].name, entity) == 0) return e;
    return -1;
}

static void remove_files(const char *dir)
{
    for (int e = 0; e < E_COUNT; e++) {
        char path[PATH_MAX];
        if (snprintf(path, sizeof path, "%s/%s.csv", dir, entity_files[e].name) < (int)sizeof path) unlink(path);
    }
    rmdir(dir);
}

/* Import one file; on failure err gets the importer's message and its first problems. */
static int import_one(app *a, const char *entity, const char *path, long long expect_rows, char *err, size_t errlen)
{
    import_result res;
    memset(&res, 0, sizeof res);
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int rc = import_file_deferred(a, NULL, entity, path, &res);
    double secs = seconds_since(&t0);
    if (rc == 0) {
        fprintf(stderr, "  导入 import %-20s %9lld 行 rows %7.1f s %9.0f 行/秒 rows/s\n",
                entity, res.rows, secs, secs > 0 ? (double)res.rows / secs : 0.0);
        if (res.rows != expect_rows) {
            snprintf(err, errlen, "demo: %s: the importer took %lld rows of %lld", entity, res.rows, expect_rows);
            rc = -1;
        }
    } else {
        size_t off = (size_t)snprintf(err, errlen, "demo: importing %s failed: %s", entity, res.message);
        int n = res.problems ? cJSON_GetArraySize(res.problems) : 0;
        for (int k = 0; k < n && k < 5 && off < errlen; k++) {
            const cJSON *p = cJSON_GetArrayItem(res.problems, k);
            const cJSON *line = cJSON_GetObjectItemCaseSensitive(p, "line");
            const cJSON *col = cJSON_GetObjectItemCaseSensitive(p, "column");
            const cJSON *msg = cJSON_GetObjectItemCaseSensitive(p, "message");
            off += (size_t)snprintf(err + off, errlen - off, "\n  line %d, %s: %s",
                                    cJSON_IsNumber(line) ? line->valueint : 0,
                                    cJSON_IsString(col) ? col->valuestring : "-",
                                    cJSON_IsString(msg) ? msg->valuestring : "");
        }
    }
    import_result_free(&res);
    return rc;
}

/* Import <dir>/<entity>.csv, expecting rows[] of it. */
static int import_file_of(app *a, const char *dir, const char *entity, const long long *rows, char *err, size_t errlen)
{
    int e = entity_file_index(entity);
    if (e < 0) return 0;
    char path[PATH_MAX];
    if (snprintf(path, sizeof path, "%s/%s.csv", dir, entity_files[e].name) >= (int)sizeof path) {
        snprintf(err, errlen, "demo: directory path too long: %s", dir);
        return -1;
    }
    return import_one(a, entity_files[e].name, path, rows[e], err, errlen);
}

/* Splits the demo's repair_orders file (one line per RO, grouped by store,
 * no quoted newlines) in two at the first change of store past half its
 * rows, so each half holds whole stores: a comeback stays with its
 * original. rows[] gets the rows of each half. */
static int split_by_store(const char *src, const char *dst[2], long long total, long long rows[2],
                          char *err, size_t errlen)
{
    FILE *in = fopen(src, "r"), *out[2] = { NULL, NULL };
    if (in) out[0] = fopen(dst[0], "w");
    if (out[0]) out[1] = fopen(dst[1], "w");
    char line[4096], header[4096], store[64] = "";
    int half = 0, rc = -1;
    rows[0] = rows[1] = 0;
    if (!out[1] || !fgets(header, sizeof header, in)) {
        snprintf(err, errlen, "demo: splitting %s: %s", src, strerror(errno ? errno : EIO));
        goto done;
    }
    fputs(header, out[0]);
    fputs(header, out[1]);
    while (fgets(line, sizeof line, in)) {
        size_t n = strcspn(line, ",");
        if (half == 0 && rows[0] >= total / 2 && store[0] && (strlen(store) != n || strncmp(store, line, n) != 0))
            half = 1;
        snprintf(store, sizeof store, "%.*s", (int)(n < sizeof store ? n : sizeof store - 1), line);
        fputs(line, out[half]);
        rows[half]++;
    }
    rc = ferror(in) ? -1 : 0;
    if (rc) snprintf(err, errlen, "demo: reading %s failed", src);
done:
    for (int i = 0; i < 2; i++)
        if (out[i] && fclose(out[i]) != 0 && rc == 0) {
            snprintf(err, errlen, "demo: writing %s failed: %s", dst[i], strerror(errno));
            rc = -1;
        }
    if (in) fclose(in);
    return rc;
}

/* The files after the parents of repair orders, as tasks for two lanes
 * (two connections, two transactions at once). A task starts when the tasks
 * it needs are done: everything naming a repair order waits for both halves
 * of repair_orders, payments for invoices. Listed longest first within what
 * can start, so the lanes end together. Two derived tables are rebuilt as
 * tasks too, as soon as their facts are in, beside the remaining imports:
 * the vehicles (visits and states: repair orders and sales) and the
 * invoices' open days (invoices and payments). */
typedef struct demo_task {
    const char *entity;             /* the file to import, or the derived tables' name */
    int (*rebuild)(db_conn *c, char *err, size_t errlen);   /* a derived-table task; else NULL */
    int part;                       /* repair_orders: half 1 or 2; else 0 */
    bool needs_ros;                 /* waits for both halves of repair_orders */
    const char *needs;              /* and for this entity, or NULL */
    int state;                      /* 0 waiting, 1 running, 2 done */
} demo_task;

typedef struct demo_lanes {
    app *a;
    const char *dir;
    const long long *rows;
    long long ro_rows[2];
    demo_task *tasks;
    int ntasks;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int rc;
    char err[1024];
} demo_lanes;

static bool task_done(const demo_lanes *l, const char *entity)
{
    for (int i = 0; i < l->ntasks; i++)
        if (strcmp(l->tasks[i].entity, entity) == 0 && l->tasks[i].state != 2) return false;
    return true;
}

static bool task_ready(const demo_lanes *l, const demo_task *t)
{
    return t->state == 0 && (!t->needs_ros || task_done(l, "repair_orders")) && (!t->needs || task_done(l, t->needs));
}

/* A derived-table task, on a connection of its own. */
static int rollup_task(app *a, const demo_task *t, char *err, size_t errlen)
{
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    db_conn *c = db_acquire(a->db, 5000, err, errlen);
    if (!c) return -1;
    int rc = t->rebuild(c, err, errlen);
    db_release(a->db, c);
    if (rc == 0) fprintf(stderr, "  汇总 rollups %-19s %7.1f s\n", t->entity, seconds_since(&t0));
    return rc;
}

static void *lane_run(void *arg)
{
    demo_lanes *l = arg;
    pthread_mutex_lock(&l->mu);
    for (;;) {
        demo_task *t = NULL;
        bool left = false;
        for (int i = 0; i < l->ntasks && l->rc == 0; i++) {
            if (l->tasks[i].state != 2) left = true;
            if (!t && task_ready(l, &l->tasks[i])) t = &l->tasks[i];
        }
        if (l->rc != 0 || !left) break;
        if (!t) { pthread_cond_wait(&l->cv, &l->mu); continue; }
        t->state = 1;
        pthread_mutex_unlock(&l->mu);
        char err[1024];
        int rc;
        if (t->rebuild) {
            rc = rollup_task(l->a, t, err, sizeof err);
        } else if (t->part) {
            char path[PATH_MAX];
            if (snprintf(path, sizeof path, "%s/repair_orders.%d.csv", l->dir, t->part) >= (int)sizeof path)
                path[0] = 0;        /* never: import_in_lanes made these names */
            rc = import_one(l->a, "repair_orders", path, l->ro_rows[t->part - 1], err, sizeof err);
        } else {
            rc = import_file_of(l->a, l->dir, t->entity, l->rows, err, sizeof err);
        }
        pthread_mutex_lock(&l->mu);
        t->state = 2;
        if (rc != 0 && l->rc == 0) {
            l->rc = rc;
            snprintf(l->err, sizeof l->err, "%s", err);
        }
        pthread_cond_broadcast(&l->cv);
    }
    pthread_cond_broadcast(&l->cv);
    pthread_mutex_unlock(&l->mu);
    return NULL;
}

/* Everything from repair_orders on, in two lanes. */
static int import_in_lanes(app *a, const char *dir, const long long *rows, char *err, size_t errlen)
{
    demo_task tasks[] = {
        { "repair_orders", NULL, 1, false, NULL, 0 }, { "repair_orders", NULL, 2, false, NULL, 0 },
        { "车辆 vehicles", rollup_rebuild_vehicles, 0, true, NULL, 0 },
        { "insurance_policies", NULL, 0, false, NULL, 0 }, { "parts_stock", NULL, 0, false, NULL, 0 },
        { "store_financials", NULL, 0, false, NULL, 0 },
        { "ro_parts", NULL, 0, true, NULL, 0 }, { "ro_labour", NULL, 0, true, NULL, 0 },
        { "invoices", NULL, 0, true, NULL, 0 }, { "follow_up_calls", NULL, 0, true, NULL, 0 },
        { "payments", NULL, 0, true, "invoices", 0 }, { "appointments", NULL, 0, true, NULL, 0 },
        { "csi_surveys", NULL, 0, true, NULL, 0 }, { "发票 invoices", rollup_rebuild_invoices, 0, true, "payments", 0 },
        { "保险 insurance", rollup_rebuild_matches, 0, false, "insurance_policies", 0 },
    };
    demo_lanes l = { .a = a, .dir = dir, .rows = rows, .tasks = tasks, .ntasks = (int)(sizeof tasks / sizeof *tasks) };
    char src[PATH_MAX], half1[PATH_MAX], half2[PATH_MAX];
    if (snprintf(src, sizeof src, "%s/repair_orders.csv", dir) >= (int)sizeof src ||
        snprintf(half1, sizeof half1, "%s/repair_orders.1.csv", dir) >= (int)sizeof half1 ||
        snprintf(half2, sizeof half2, "%s/repair_orders.2.csv", dir) >= (int)sizeof half2) {
        snprintf(err, errlen, "demo: directory path too long: %s", dir);
        return -1;
    }
    const char *halves[2] = { half1, half2 };
    int e = entity_file_index("repair_orders");
    int rc = split_by_store(src, halves, e >= 0 ? rows[e] : 0, l.ro_rows, err, errlen);
    if (rc == 0 && (pthread_mutex_init(&l.mu, NULL) != 0 || pthread_cond_init(&l.cv, NULL) != 0)) {
        snprintf(err, errlen, "demo: cannot create a mutex");
        rc = -1;
    }
    if (rc == 0) {
        pthread_t tid;
        bool threaded = pthread_create(&tid, NULL, lane_run, &l) == 0;
        lane_run(&l);                      /* no thread: this lane does every task */
        if (threaded) pthread_join(tid, NULL);
        pthread_cond_destroy(&l.cv);
        pthread_mutex_destroy(&l.mu);
        if (l.rc != 0) {
            snprintf(err, errlen, "%s", l.err);
            rc = -1;
        }
    }
    unlink(half1);
    unlink(half2);
    return rc;
}

static void rollup_progress(void *ud, int done, int total, const char *what)
{
    (void)ud;
    if (what) fprintf(stderr, "\r  汇总 rollups [%d/%d] %-30s", done, total, what);
    else fprintf(stderr, "\r  汇总 rollups [%d/%d] %-30s\n", done, total, "done");
}

static int make_temp_dir(const char *base, char *dir, size_t len)
{
    if (snprintf(dir, len, "%s/demo-XXXXXX", base) >= (int)len) { errno = ENAMETOOLONG; return -1; }
    return mkdtemp(dir) ? 0 : -1;
}

int demo_load(app *a, const demo_opts *o, char *err, size_t errlen)
{
    /* the files go next to the database (local mode), else to $TMPDIR */
    char dir[PATH_MAX];
    const char *tmp = getenv("TMPDIR") && *getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    const char *base = a->cfg.data_dir[0] ? a->cfg.data_dir : tmp;
    if (make_temp_dir(base, dir, sizeof dir) != 0 && (base == tmp || make_temp_dir(base = tmp, dir, sizeof dir) != 0)) {
        snprintf(err, errlen, "demo: cannot create a temporary directory in %s: %s", base, strerror(errno));
        return -1;
    }
    fprintf(stderr, "生成演示集团 / generating the demo group: %d 门店 stores, %d 年 years to %04d-%02d, seed %llu\n",
            o->stores, o->years, o->end_year, o->end_month, (unsigned long long)o->seed);
    long long rows[E_COUNT];
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    if (demo_write_csv(o, dir, rows, err, errlen) != 0) { remove_files(dir); return -1; }
    fprintf(stderr, "导入演示数据 / importing (%.1f s so far)\n", seconds_since(&t0));
    /* the parents of repair orders one after the other ... */
    for (int k = 0; import_entities[k] && strcmp(import_entities[k], "repair_orders") != 0; k++)
        if (import_file_of(a, dir, import_entities[k], rows, err, errlen) != 0) { remove_files(dir); return -1; }
    /* ... then the rest in two lanes, with the derived tables of the
     * vehicles and invoices as soon as their facts are in (the files go in
     * with their rollups deferred: each is built once, for all) ... */
    db_conn *c = db_acquire(a->db, 5000, err, errlen);
    int rc = c ? rollup_clear(c, err, errlen) : -1;
    if (c) db_release(a->db, c);
    if (rc == 0) rc = import_in_lanes(a, dir, rows, err, errlen);
    remove_files(dir);
    if (rc != 0) return -1;
    /* ... and last the per-store ones, in two lanes */
    fprintf(stderr, "汇总 / building the store rollups (%.1f s so far)\n", seconds_since(&t0));
    if (rollup_rebuild_stores(a->db, rollup_progress, NULL, err, errlen) != 0) return -1;
    c = db_acquire(a->db, 5000, err, errlen);
    if (!c) return -1;
    rc = kpi_invalidate(c, err, errlen);
    if (rc == 0) rc = auth_create_demo_users(c, err, errlen);     /* prints the demo logins */
    db_release(a->db, c);
    if (rc != 0) return -1;
    fprintf(stderr, "演示数据已加载 / demo group loaded in %.1f s\n", seconds_since(&t0));
    print_story(o);
    return 0;
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

/* --- fourscore demo --- */

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
    };
    app a;
    memset(&a, 0, sizeof a);
    char err[4096];
    if (config_load_env(&a.cfg, err, sizeof err) != 0) {
        fprintf(stderr, "fourscore: %s\n", err);
        return 2;
    }
    const char *pos[1];
    int npos = 0;
    int rc = config_parse(&a.cfg, argc, argv, opts, COUNT_OF(opts),
                          "fourscore demo [--stores N] [--years Y] [--end YYYY-MM] [--seed S] [--out DIR] [options]",
                          "Generate the demo dealer group (4S stores in 华南, 华东, 华北, 西南 with three years of\n"
                          "sales, after-sales, insurance, receivables and stock) and load it into the database\n"
                          "through the importer, then create the demo users. With --out DIR, only write one CSV\n"
                          "file per entity in the import format to DIR.",
                          pos, 0, &npos);
    if (rc == 1) return 0;
    if (rc != 0) return 2;
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
        long long rows[E_COUNT];
        fprintf(stderr, "生成演示集团 / generating the demo group: %d 门店 stores, %d 年 years to %04d-%02d, seed %llu\n",
                o.stores, o.years, o.end_year, o.end_month, (unsigned long long)o.seed);
        if (demo_write_csv(&o, dir, rows, err, sizeof err) != 0) {
            fprintf(stderr, "fourscore demo: %s\n", err);
            return 1;
        }
        for (int e = 0; e < E_COUNT; e++)
            fprintf(stderr, "  %s/%s.csv: %lld 行 rows\n", dir, entity_files[e].name, rows[e]);
        print_story(&o);
        return 0;
    }
    if (app_open(&a, true, err, sizeof err) != 0) {
        fprintf(stderr, "fourscore demo: %s\n", err);
        return 1;
    }
    rc = demo_load(&a, &o, err, sizeof err);
    if (rc != 0) fprintf(stderr, "fourscore demo: %s\n", err);
    app_close(&a);
    return rc == 0 ? 0 : 1;
}
