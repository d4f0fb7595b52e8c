/* scorecard_scale: the scoring helpers of the scorecard API (at_least,
 * at_most, band, ratio). The arithmetic is plain C, unit-tested at every
 * edge (tests/unit/test_scorecard_scale.c); the Lua wrappers only read the
 * arguments and raise the errors. Part of core/script/, installed by
 * sc_api_install (scorecard_api.c). See scorecard_scale.h for the rules. */
#include <math.h>
#include <stdio.h>

#include <lua.h>
#include <lauxlib.h>

#include "scorecard_scale.h"

static int check_common(const char *fn, double v, double max, char *err, size_t errlen)
{
    if (!isfinite(v)) {
        snprintf(err, errlen, "%s(): the value is %s, not a number (a division by zero?); "
                 "use ratio(a, b) to divide, it gives nil when b is 0", fn, isnan(v) ? "nan" : "inf");
        return -1;
    }
    if (!isfinite(max) || max < 0) {
        snprintf(err, errlen, "%s(): the points (%g) must be a number of 0 or more", fn, max);
        return -1;
    }
    return 0;
}

static int check_level(const char *fn, const char *what, double x, char *err, size_t errlen)
{
    if (isfinite(x)) return 0;
    snprintf(err, errlen, "%s(): the %s level must be a finite number", fn, what);
    return -1;
}

/* Full points at good or better, none at bad or worse, linear between;
 * higher is better. good == bad never divides: v is then on one side. */
static double up(double v, double good, double bad, double max)
{
    if (v >= good) return max;
    if (v <= bad) return 0;
    double p = max * (v - bad) / (good - bad);   /* bad < v < good, so good > bad */
    return p < 0 ? 0 : p > max ? max : p;
}

int sc_scale_at_least(double v, double good, double bad, double max, double *points, char *err, size_t errlen)
{
    if (check_common("at_least", v, max, err, errlen) || check_level("at_least", "good", good, err, errlen)
        || check_level("at_least", "bad", bad, err, errlen)) return -1;
    if (bad > good) {
        snprintf(err, errlen, "at_least(): the bad level (%g) is above the good level (%g); "
                 "for lower-is-better use at_most(value, good, bad, points)", bad, good);
        return -1;
    }
    *points = up(v, good, bad, max);
    return 0;
}

int sc_scale_at_most(double v, double good, double bad, double max, double *points, char *err, size_t errlen)
{
    if (check_common("at_most", v, max, err, errlen) || check_level("at_most", "good", good, err, errlen)
        || check_level("at_most", "bad", bad, err, errlen)) return -1;
    if (bad < good) {
        snprintf(err, errlen, "at_most(): the bad level (%g) is below the good level (%g); "
                 "for higher-is-better use at_least(value, good, bad, points)", bad, good);
        return -1;
    }
    *points = up(-v, -good, -bad, max);
    return 0;
}

int sc_scale_band(double v, double low, double high, double bad_low, double bad_high, double max,
                  double *points, char *err, size_t errlen)
{
    if (check_common("band", v, max, err, errlen) || check_level("band", "low", low, err, errlen)
        || check_level("band", "high", high, err, errlen) || check_level("band", "bad low", bad_low, err, errlen)
        || check_level("band", "bad high", bad_high, err, errlen)) return -1;
    if (!(bad_low <= low && low <= high && high <= bad_high)) {
        snprintf(err, errlen, "band(): the levels must be in order bad_low <= low <= high <= bad_high "
                 "(got %g, %g, %g, %g)", bad_low, low, high, bad_high);
        return -1;
    }
    if (v >= low && v <= high) *points = max;
    else if (v < low) *points = up(v, low, bad_low, max);
    else *points = up(-v, -high, -bad_high, max);
    return 0;
}

/* --- the Lua side --- */

static double arg_number(lua_State *L, int i, const char *fn, const char *what)
{
    if (lua_type(L, i) != LUA_TNUMBER)
        luaL_error(L, "%s(): the %s (argument %d) must be a number, got %s", fn, what, i, luaL_typename(L, i));
    return lua_tonumber(L, i);
}

/* nil when the value is nil (no data), else the value, which must be a number */
static int value_or_nil(lua_State *L, const char *fn, double *v)
{
    if (lua_isnoneornil(L, 1)) return 0;
    *v = arg_number(L, 1, fn, "value");
    return 1;
}

static int push_points(lua_State *L, int rc, const double *p, const char *err)
{
    if (rc != 0) return luaL_error(L, "%s", err);
    lua_pushnumber(L, *p);
    return 1;
}

/* at_least(value, good, bad, points) */
static int l_at_least(lua_State *L)
{
    double v = 0, p = 0;
    double good = arg_number(L, 2, "at_least", "good level"), bad = arg_number(L, 3, "at_least", "bad level");
    double max = arg_number(L, 4, "at_least", "points");
    if (!value_or_nil(L, "at_least", &v)) { lua_pushnil(L); return 1; }
    char err[256];
    return push_points(L, sc_scale_at_least(v, good, bad, max, &p, err, sizeof err), &p, err);
}

/* at_most(value, good, bad, points) */
static int l_at_most(lua_State *L)
{
    double v = 0, p = 0;
    double good = arg_number(L, 2, "at_most", "good level"), bad = arg_number(L, 3, "at_most", "bad level");
    double max = arg_number(L, 4, "at_most", "points");
    if (!value_or_nil(L, "at_most", &v)) { lua_pushnil(L); return 1; }
    char err[256];
    return push_points(L, sc_scale_at_most(v, good, bad, max, &p, err, sizeof err), &p, err);
}

/* band(value, low, high, bad_low, bad_high, points) */
static int l_band(lua_State *L)
{
    double v = 0, p = 0;
    double low = arg_number(L, 2, "band", "low level"), high = arg_number(L, 3, "band", "high level");
    double bad_low = arg_number(L, 4, "band", "bad low level"), bad_high = arg_number(L, 5, "band", "bad high level");
    double max = arg_number(L, 6, "band", "points");
    if (!value_or_nil(L, "band", &v)) { lua_pushnil(L); return 1; }
    char err[256];
    return push_points(L, sc_scale_band(v, low, high, bad_low, bad_high, max, &p, err, sizeof err), &p, err);
}

/* ratio(a, b): a / b, or nil when either is nil or b is 0. */
static int l_ratio(lua_State *L)
{
    if (lua_isnoneornil(L, 1) || lua_isnoneornil(L, 2)) { lua_pushnil(L); return 1; }
    double a = arg_number(L, 1, "ratio", "numerator"), b = arg_number(L, 2, "ratio", "denominator");
    if (b == 0 || !isfinite(a) || !isfinite(b)) { lua_pushnil(L); return 1; }
    lua_pushnumber(L, a / b);
    return 1;
}

void sc_scale_install(lua_State *L, int env)
{
    env = lua_absindex(L, env);
    static const luaL_Reg fns[] = {
        { "at_least", l_at_least }, { "at_most", l_at_most }, { "band", l_band }, { "ratio", l_ratio },
        { NULL, NULL },
    };
    lua_pushvalue(L, env);
    luaL_setfuncs(L, fns, 0);
    lua_pop(L, 1);
}
