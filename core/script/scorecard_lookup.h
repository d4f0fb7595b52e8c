/* scorecard_lookup: benchmark() and budget() of the scorecard API
 * (scorecard_lookup.c). Part of core/script/; only its files include it. */
#ifndef FS_SCORECARD_LOOKUP_H
#define FS_SCORECARD_LOOKUP_H
#include <lua.h>
#include "scorecard_private.h"

/* Put benchmark() and budget() into the table at env, with their per-run caches. */
void sc_lookup_install(lua_State *L, int env);
#endif
