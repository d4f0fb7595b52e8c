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
/* Frees what the principal holds (its store and region lists), not p itself. */
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
/* The same over a directory the caller holds (the KPI engine's, per data
 * generation), with no database round trip: every store's code and region
 * (store_codes in code order) and every region's code. */
typedef struct scope_dir {
    int nstores;
    const char *const *store_codes, *const *store_regions;
    int nregions;
    const char *const *region_codes;
} scope_dir;
int scope_resolve_dir(const scope_dir *dir, const principal *p, const char *const *stores, int nstores,
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
/* Demo mode: one user per role with the documented demo passwords (exec,
 * rm_<first region>, sm_<first store>; password demo1234), made from the demo
 * data already loaded; prints the logins on stdout. */
int auth_create_demo_users(db_conn *c, char *err, size_t errlen);
/* First start: create user admin from FOURSCORE_ADMIN_PASSWORD or a
 * generated password printed once; nothing when an admin exists. */
int auth_ensure_admin(db_conn *c, const struct config *cfg, char *err, size_t errlen);
/* --- additions: the rest of auth's interface --- */
/* auth_identify's answer when it refused the request itself with its reply
 * already set (403 `csrf`: a cookie-authenticated POST/PUT/DELETE whose
 * Origin, or else Referer, does not name this Host). The router sends that
 * reply as it is. */
#define AUTH_REFUSED (-3)
/* scope_resolve's answer when the database fails (bad holds its message: 503). */
#define SCOPE_DB_ERROR (-2)
#define AUTH_SESSION_COOKIE "fourscore_session"

/* The principal of the command line: admin rights over every store, audited
 * as "cli" (audit_log with who NULL says the same). */
void principal_cli(principal *p);
/* Whether p may import rows of entity at all (before any row is read):
 * admins and uploader tokens; `regions`, `stores` and `insurers` only admins
 * and all-store uploader tokens. Row by row, principal_sees_store decides. */
bool auth_may_import(const principal *p, const char *entity);

/* A session found in the database is remembered for 2 s by this process;
 * this forgets them all (each is looked up again). Sign-out and user changes
 * call it. */
void auth_sessions_forget(void);
/* The steps under auth_identify and the login route, callable on a
 * connection (the unit tests use them). session_secret / token_secret are
 * what the client sends; both return 1 with *out filled, -1 when unknown,
 * revoked or expired, -2 on a database failure (err filled). */
int auth_session_principal(db_conn *c, const struct config *cfg, const char *session_secret,
                           principal *out, char *err, size_t errlen);
int auth_token_principal(db_conn *c, const char *token_secret, principal *out, char *err, size_t errlen);
/* Check a password, honouring the rate limits; on success open a session:
 * session_secret_out (65 bytes) gets the cookie value, *out the principal.
 * Returns 1 ok, 0 bad credentials, -3 rate limited (*retry_after_s set),
 * -2 database failure. ip may be NULL ("-"). */
#define AUTH_LOGIN_RATE_LIMITED (-3)
int auth_login(db_conn *c, const struct config *cfg, const char *username, const char *password,
               const char *ip, principal *out, char session_secret_out[65], int *retry_after_s,
               char *err, size_t errlen);
/* Create an API token; secret_out (80 bytes) gets the secret, shown once.
 * kind "uploader" (store or all_stores) or "metrics". Returns 0, or an HTTP
 * status (400 bad argument, 409 name taken, 500) with err naming the problem. */
int auth_token_create(db_conn *c, const principal *who, const char *name, const char *kind,
                      const char *store, bool all_stores, char secret_out[80], char *err, size_t errlen);
/* Revoke (delete) a token: at once, for every instance. 0, 404 or 500. */
int auth_token_revoke(db_conn *c, const principal *who, const char *name, char *err, size_t errlen);

/* --- routes (core/router.c lists them) --- */
void auth_route_session_create(http_req *r);   /* POST /api/v1/session      public */
void auth_route_session_delete(http_req *r);   /* DELETE /api/v1/session    users */
void auth_route_me(http_req *r);               /* GET /api/v1/me            users */
void auth_route_regions(http_req *r);          /* GET /api/v1/regions       users */
void auth_route_stores(http_req *r);           /* GET /api/v1/stores        users */
void auth_route_users_list(http_req *r);       /* GET /api/v1/users         admin */
void auth_route_users_create(http_req *r);     /* POST /api/v1/users        admin */
void auth_route_users_update(http_req *r);     /* PUT /api/v1/users/{name}  admin */
void auth_route_users_delete(http_req *r);     /* DELETE /api/v1/users/{name} admin */
void auth_route_tokens_list(http_req *r);      /* GET /api/v1/tokens        admin */
void auth_route_tokens_create(http_req *r);    /* POST /api/v1/tokens       admin */
void auth_route_tokens_delete(http_req *r);    /* DELETE /api/v1/tokens/{name} admin */
void auth_route_audit(http_req *r);            /* GET /api/v1/audit         admin */
#endif
