/* scorecard_scale: the scoring helpers a scorecard calls to turn a value
 * into points (docs/scorecards.md, "Scoring helpers"): at_least (higher is
 * better), at_most (lower is better), band (best inside a range) and
 * ratio (a division that answers nil instead of a non-number). Part of
 * core/script/; scorecard_api.c installs them beside kpi() and stores().
 *
 * Every helper scales linearly between a good level (full points) and a
 * bad level (no points), both given by the caller. Their edges are part
 * of the contract and unit-tested (tests/unit/test_scorecard_scale.c):
 *   - a nil value gives nil (the item has no data; it is never 0 points);
 *   - a value that is not a finite number (x/0 in Lua gives inf or nan)
 *     is an error naming the helper, never a silent 0;
 *   - a level may be 0; equal good and bad levels make a step (full points
 *     at the level or better, none past it), never a division by zero;
 *   - a value beyond the good level gets the full points, beyond the bad
 *     level none; levels in the wrong order are an error. */
#ifndef FS_SCORECARD_SCALE_H
#define FS_SCORECARD_SCALE_H
#include <stddef.h>
#include <lua.h>

/* The points of v between good (max points) and bad (0 points).
 * at_least: higher is better, needs bad <= good; at_most: lower is
 * better, needs good <= bad; band: full inside [low, high], needs
 * bad_low <= low <= high <= bad_high. Return 0 with *points set, or -1
 * with a message in err (bad arguments, a non-finite value). */
int sc_scale_at_least(double v, double good, double bad, double max, double *points, char *err, size_t errlen);
int sc_scale_at_most(double v, double good, double bad, double max, double *points, char *err, size_t errlen);
int sc_scale_band(double v, double low, double high, double bad_low, double bad_high, double max,
                  double *points, char *err, size_t errlen);

/* Put at_least, at_most, band and ratio into the table at env. */
void sc_scale_install(lua_State *L, int env);
#endif
