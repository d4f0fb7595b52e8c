/* rollup_match: the insurance matches of schemas/015_insurance_matches.sql
 * (each policy's distance to its nearest renewal, each sale's to its nearest
 * new policy, and their per-store counts by day and month), kept current by
 * VIN. */
#ifndef FS_ROLLUP_MATCH_H
#define FS_ROLLUP_MATCH_H
#include <stdbool.h>
#include <stddef.h>
#include "db.h"
#include "rollup_scope.h"

/* A refresh step of rollup.c's table, after an import of policies or sales:
 * redo the new-policy matches (and with renewals the renewal matches) of
 * the VINs scope names, inside the caller's transaction; every match when
 * it names none (but touched stores) or very many. Returns 0, or -1 with
 * err. */
int rollup_match_refresh(db_conn *c, const rollup_scope *scope, bool renewals, char *err, size_t errlen);
/* The connection's temporary table touched_vins (vin), emptied, then
 * holding vins. Returns 0, or -1 with err. */
int rollup_vins_load(db_conn *c, const char *const *vins, int nvins, char *err, size_t errlen);
/* Every match from the facts (inside the caller's transaction). */
int rollup_match_rebuild(db_conn *c, char *err, size_t errlen);
#endif
