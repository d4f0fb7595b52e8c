/* auth: users, sessions, API tokens, roles and scope. Every request's
 * principal comes from here, and so does the set of stores it may see: the
 * KPI engine, the importer and the scorecard runner take their scope from
 * scope_resolve(), never from their own rules. */
#ifndef FS_AUTH_H
#define FS_AUTH_H
#include <stdbool.h>
#include <stddef.h>
#include "db.h"
#include "http.h"

struct config;

enum role { ROLE_NONE = 0, ROLE_ADMIN, ROLE_EXEC, ROLE_RM, ROLE_SM, ROLE_UPLOADER, ROLE_METRICS };

typedef struct principal {
    enum role role;
    char name[72];            /* user name or token name */
    bool is_token;
    bool all_stores;          /* admin, executive, all-store uploader */
    char **stores;            /* store codes in scope when !all_stores (RM: of their regions) */
    int nstores;
    char **regions;           /* a regional manager's region codes */
    int nregions;
    char session_id[72];      /* "" for tokens */
    long long user_id;
} principal;

const char *role_name(enum role r);
enum role role_parse(const char *s);
void principal_free(principal *p);
bool principal_sees_store(const principal *p, const char *store_code);

/* A resolved store set for a query: codes of the stores to return. */
typedef struct store_set {
    char **codes;
    int n;
} store_set;
void store_set_free(store_set *s);
/* stores_csv / regions_csv as in ?stores=&regions= (either may be NULL or "").
 * Neither: every store in scope. A named store or region outside the scope
 * or unknown: returns -1 and puts its name in bad (the caller answers 403). */
int scope_resolve(db_conn *c, const principal *p, const char *const *stores, int nstores,
                  const char *const *regions, int nregions, store_set *out, char *bad, size_t badlen);
/* --- seams other subsystems call --- */
/* Identify the caller of r from its session cookie or Bearer token. Returns
 * 1 with *out filled, 0 when the request carries no credentials, -1 when
 * they are invalid or expired (the router answers 401 for both), -2 when
 * the database fails (503). */
int auth_identify(http_req *r, principal *out);
/* Append an audit record (action e.g. "login", "import", "scorecard.save";
 * detail a short JSON or text) inside the caller's connection. who may be
 * NULL for the command line ("cli"). */
int audit_log(db_conn *c, const principal *who, const char *action, const char *target,
              const char *detail, char *err, size_t errlen);
/* Demo mode: one user per role with the documented demo passwords. */
int auth_create_demo_users(db_conn *c, char *err, size_t errlen);
/* First start: create user admin from FOURSCORE_ADMIN_PASSWORD or a
 * generated password printed once; nothing when an admin exists. */
int auth_ensure_admin(db_conn *c, const struct config *cfg, char *err, size_t errlen);
#endif
