/* rollup_scope: what the rollup refresh is told about an imported file
 * (the stores and dates it touched, the VINs it named) and the progress
 * callback of the rebuilds: the types rollup.c and its steps
 * (rollup_asof.c, rollup_match.c, rollup_month_end.c) share, apart from
 * rollup.h so that the steps need not include the refresh that calls them. */
#ifndef FS_ROLLUP_SCOPE_H
#define FS_ROLLUP_SCOPE_H

/* What one imported file touched: for each store, the range of business
 * dates whose derived rows may have changed (old and new values of the rows
 * alike), and the VINs whose visit summary may have changed. Which dates an
 * entity's rows move is its line of the entity table (entities.c, `dates`).
 * from = "" with a store named: its whole range is redone (slower, correct). */
typedef struct rollup_touch {
    char store_code[33];
    char from[11], to[11];      /* YYYY-MM-DD inclusive; "" = nothing dated */
} rollup_touch;

typedef struct rollup_scope {
    const char *entity;         /* the imported entity: its line of the entity table (entities.c)
                                 * says what it feeds; an entity feeding nothing refreshes nothing */
    const rollup_touch *touched;
    int ntouched;
    const char *const *vins;    /* VINs whose visits or sales changed */
    int nvins;
} rollup_scope;

/* A rebuild's progress: done of total steps, what is being rebuilt (NULL at the end). */
typedef void (*rollup_progress_fn)(void *ud, int done, int total, const char *what);
#endif
