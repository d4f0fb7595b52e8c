/* test_scorecard_scale: the scoring helpers of the scorecard API
 * (core/script/scorecard_scale.c) at each of their edges: a level of 0,
 * equal good and bad levels, values beyond either level, levels in the
 * wrong order, non-finite values (what x/0 gives in Lua), and, through a
 * real sandboxed run, a nil value (nil, never 0 points) and ratio()'s nil
 * for a zero denominator. Every expected value is worked out by hand in
 * the comment beside it: points = max * (v - bad) / (good - bad) between
 * the levels, clamped to [0, max]. */
#include <math.h>
#include <string.h>
#include "check.h"
#include "scorecard.h"
#include "scorecard_scale.h"

static double least(double v, double good, double bad, double max)
{
    double p = -1;
    char err[256];
    if (sc_scale_at_least(v, good, bad, max, &p, err, sizeof err) != 0) return -1;
    return p;
}

static double most(double v, double good, double bad, double max)
{
    double p = -1;
    char err[256];
    if (sc_scale_at_most(v, good, bad, max, &p, err, sizeof err) != 0) return -1;
    return p;
}

static double band(double v, double lo, double hi, double blo, double bhi, double max)
{
    double p = -1;
    char err[256];
    if (sc_scale_band(v, lo, hi, blo, bhi, max, &p, err, sizeof err) != 0) return -1;
    return p;
}

static void test_at_least(void)
{
    /* good 0.30, bad 0.20, 10 points: 0.25 is half way -> 5 */
    CHECK_NUM(least(0.25, 0.30, 0.20, 10), 5, "at_least half way between the levels");
    CHECK_NUM(least(0.30, 0.30, 0.20, 10), 10, "at_least at the good level: full");
    CHECK_NUM(least(0.45, 0.30, 0.20, 10), 10, "at_least beyond the good level: full, not more");
    CHECK_NUM(least(0.20, 0.30, 0.20, 10), 0, "at_least at the bad level: none");
    CHECK_NUM(least(-3, 0.30, 0.20, 10), 0, "at_least beyond the bad level: none, not negative");
    /* bound 0: good 0.1, bad 0 -> 0.025 is a quarter -> 2.5 */
    CHECK_NUM(least(0.025, 0.1, 0, 10), 2.5, "at_least with the bad level 0");
    CHECK_NUM(least(0, 0, -1, 10), 10, "at_least with the good level 0, value 0: full");
    CHECK_NUM(least(-0.5, 0, -1, 10), 5, "at_least with the good level 0: -0.5 of -1 -> half");
    /* equal levels: a step at the level, never a division by zero */
    CHECK_NUM(least(0.30, 0.30, 0.30, 10), 10, "at_least equal levels, at the level: full");
    CHECK_NUM(least(0.2999, 0.30, 0.30, 10), 0, "at_least equal levels, just under: none");
    CHECK_NUM(least(0, 0, 0, 10), 10, "at_least equal levels 0, value 0: full");
    CHECK_NUM(least(-1e-12, 0, 0, 10), 0, "at_least equal levels 0, value under 0: none");
    CHECK_NUM(least(0.25, 0.30, 0.20, 0), 0, "at_least worth 0 points: 0");
    /* errors */
    CHECK(least(0.25, 0.20, 0.30, 10) < 0, "at_least with bad above good is an error");
    CHECK(least(INFINITY, 0.30, 0.20, 10) < 0, "at_least(inf) is an error, not full points");
    CHECK(least(-INFINITY, 0.30, 0.20, 10) < 0, "at_least(-inf) is an error, not 0 points");
    CHECK(least(NAN, 0.30, 0.20, 10) < 0, "at_least(nan) is an error, not 0 points");
    CHECK(least(0.25, NAN, 0.20, 10) < 0, "at_least with a nan level is an error");
    CHECK(least(0.25, 0.30, 0.20, -1) < 0, "at_least with negative points is an error");
    char err[256] = "";
    double p;
    sc_scale_at_least(NAN, 1, 0, 10, &p, err, sizeof err);
    CHECK(strstr(err, "at_least()") && strstr(err, "division by zero"), "the error names the helper and the likely cause: %s", err);
}

static void test_at_most(void)
{
    /* receivables over 180 days: good 0, bad 0.05, 10 points */
    CHECK_NUM(most(0, 0, 0.05, 10), 10, "at_most at the good level 0: full (the old at_most(v, 0, 10) gave 0)");
    CHECK_NUM(most(0.01, 0, 0.05, 10), 8, "at_most 0.01 of 0..0.05 -> 8");
    CHECK_NUM(most(0.05, 0, 0.05, 10), 0, "at_most at the bad level: none");
    CHECK_NUM(most(0.9, 0, 0.05, 10), 0, "at_most beyond the bad level: none");
    CHECK_NUM(most(-0.2, 0, 0.05, 10), 10, "at_most beyond the good level: full");
    /* churn y1: good 0.05, bad 0.10, 5 points: 0.06 -> 5 * 0.04 / 0.05 = 4 */
    CHECK_NUM(most(0.06, 0.05, 0.10, 5), 4, "at_most 0.06 of 0.05..0.10 -> 4");
    /* equal levels */
    CHECK_NUM(most(0, 0, 0, 10), 10, "at_most equal levels 0, value 0: full");
    CHECK_NUM(most(1e-12, 0, 0, 10), 0, "at_most equal levels 0, value above: none");
    CHECK_NUM(most(0.05, 0.05, 0.05, 10), 10, "at_most equal levels, at the level: full");
    /* errors */
    CHECK(most(0.02, 0.05, 0, 10) < 0, "at_most with bad below good is an error");
    CHECK(most(INFINITY, 0, 0.05, 10) < 0, "at_most(inf) is an error, not 0 points");
    CHECK(most(NAN, 0, 0.05, 10) < 0, "at_most(nan) is an error, not 0 points");
}

static void test_band(void)
{
    /* personnel cost 10-12 %, nothing at 6 % or 18 %, 10 points */
    CHECK_NUM(band(0.11, 0.10, 0.12, 0.06, 0.18, 10), 10, "band inside");
    CHECK_NUM(band(0.10, 0.10, 0.12, 0.06, 0.18, 10), 10, "band at the low end");
    CHECK_NUM(band(0.12, 0.10, 0.12, 0.06, 0.18, 10), 10, "band at the high end");
    CHECK_NUM(band(0.08, 0.10, 0.12, 0.06, 0.18, 10), 5, "band 0.08: half way down to 0.06 -> 5");
    CHECK_NUM(band(0.15, 0.10, 0.12, 0.06, 0.18, 10), 5, "band 0.15: half way up to 0.18 -> 5");
    CHECK_NUM(band(0.01, 0.10, 0.12, 0.06, 0.18, 10), 0, "band beyond the bad low: none");
    CHECK_NUM(band(0.50, 0.10, 0.12, 0.06, 0.18, 10), 0, "band beyond the bad high: none");
    /* a point target (low == high) and zero bounds */
    CHECK_NUM(band(0.18, 0.18, 0.18, 0.10, 0.26, 10), 10, "band with low == high, at the target");
    CHECK_NUM(band(0.22, 0.18, 0.18, 0.10, 0.26, 10), 5, "band 0.22 of 0.18..0.26 -> 5");
    CHECK_NUM(band(0, 0, 0.1, 0, 0.2, 10), 10, "band with low 0 and bad low 0, value 0: full");
    CHECK_NUM(band(-0.01, 0, 0.1, 0, 0.2, 10), 0, "band with bad low == low: a step below it");
    CHECK_NUM(band(0.3, 0.1, 0.2, 0.1, 0.2, 10), 0, "band with every edge equal to its bad edge: a step");
    CHECK(band(0.11, 0.12, 0.10, 0.06, 0.18, 10) < 0, "band with low above high is an error");
    CHECK(band(0.11, 0.10, 0.12, 0.11, 0.18, 10) < 0, "band with bad low above low is an error");
    CHECK(band(NAN, 0.10, 0.12, 0.06, 0.18, 10) < 0, "band(nan) is an error");
}

/* Through a real sandboxed run (no database: the helpers need none). */
static void lua_case(const char *what, const char *src, int want_status, const char *want_in_message)
{
    scorecard_outcome o;
    scorecard_limits lim = { 2000000, 8u << 20, 2.0, 0 };
    scorecard_run(NULL, NULL, "t_scale", src, strlen(src), "2025-01-01", "2025-01-31", &lim, &o);
    CHECK(o.status == want_status && (!want_in_message || strstr(o.message, want_in_message)),
          "%s (got %d %s: %s)", what, o.status, o.code, o.message);
    scorecard_outcome_free(&o);
}

static void test_lua(void)
{
    lua_case("nil values give nil, never 0 points",
             "assert(at_least(nil, 1, 0, 10) == nil)\n"
             "assert(at_most(nil, 0, 1, 10) == nil)\n"
             "assert(band(nil, 1, 2, 0, 3, 10) == nil)\n"
             "return {}", 200, NULL);
    lua_case("the values of the C side",
             "assert(math.abs(at_least(0.25, 0.30, 0.20, 10) - 5) < 1e-9)\n"
             "assert(at_most(0, 0, 0.05, 10) == 10)\n"
             "assert(band(0.15, 0.10, 0.12, 0.06, 0.18, 10) > 4.99)\n"
             "return {}", 200, NULL);
    lua_case("ratio: nil for a zero or missing denominator",
             "assert(ratio(1, 0) == nil and ratio(0, 0) == nil and ratio(nil, 2) == nil and ratio(2, nil) == nil)\n"
             "assert(ratio(1, 4) == 0.25)\n"
             "return {}", 200, NULL);
    lua_case("a division by zero fed to a helper is an error at its line",
             "local open = 0\n"
             "local p = at_most(5 / open, 0, 0.05, 10)\n"
             "return {}", 422, "t_scale:2:");
    lua_case("0/0 fed to a helper is an error", "local p = at_least(0/0, 1, 0, 10)\nreturn {}", 422, "not a number");
    lua_case("a text value is an error", "local p = at_least('0.3', 1, 0, 10)\nreturn {}", 422, "must be a number");
    lua_case("a missing level is an error", "local p = at_least(0.3, 1)\nreturn {}", 422, "bad level");
    lua_case("the helpers are read-only", "at_least = function() return 1 end\nreturn {}", 422, NULL);
    lua_case("a local of the same name shadows them (old scorecards keep working)",
             "local function at_least(v, g, m) return m end\nassert(at_least(0, 1, 7) == 7)\nreturn {}", 200, NULL);
}

int main(void)
{
    test_at_least();
    test_at_most();
    test_band();
    test_lua();
    return check_done();
}
