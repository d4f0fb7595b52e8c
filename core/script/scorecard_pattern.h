/* scorecard_pattern: string.find, string.match, string.gmatch and
 * string.gsub for the scorecard sandbox (core/script/sandbox.c). They implement
 * Lua 5.4's patterns as its Reference Manual defines them, with the same
 * results as Lua's own functions, and one difference: the matcher counts
 * its work. A backtracking pattern ("a?a?a?...",
 * "a*a*a*b", "(.-)%1", "%b()" on a long text) costs steps inside C, where
 * Lua's instruction hook never runs; here every step is counted and handed
 * to the run's meter every SCPAT_CHECK_STEPS steps, which charges it to the
 * run's budgets and stops the run (luaL_error) once one is spent. So no
 * pattern, whatever its shape or subject, runs past the budgets by more
 * than one such slice of work (well under a millisecond). */
#ifndef FS_SCORECARD_PATTERN_H
#define FS_SCORECARD_PATTERN_H
#include <lua.h>

/* steps between two calls of the meter inside one match */
#define SCPAT_CHECK_STEPS 4096

typedef struct sc_meter sc_meter;
struct sc_meter {
    /* steps done since the last call, by function fn ("string.find", ...);
     * raises with luaL_error to end the run. */
    void (*charge)(lua_State *L, sc_meter *m, unsigned long long steps, const char *fn);
};

/* Replace find, match, gmatch and gsub in the string library table at
 * strlib with the counted ones, each charging meter (which must outlive
 * the state). */
void scorecard_pattern_install(lua_State *L, int strlib, sc_meter *meter);
#endif
