/* auth: the interface of core/access/: roles and scope (scope.c), sessions
 * and logins (sessions.c), users and tokens (users.c), the audit log
 * (audit.c). Every request's principal comes from here, and so does the set
 * of stores it may see: the KPI engine, the importer and the scorecard runner
 * take their scope from scope_resolve(), never from their own rules. Plain C
 * values in and out: the HTTP side is core/http/routes_access.c. */
#ifndef FS_AUTH_H
#define FS_AUTH_H
#include <stdbool.h>
#include <stddef.h>
#include "db.h"
#include <cJSON.h>

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
    bool every;                       /* scope_resolve: codes are every store of the group */
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
/* Append an audit record (action e.g. "login", "import", "scorecard.save";
 * detail a short JSON or text) inside the caller's connection. who may be
 * NULL for the command line ("cli"). */
int audit_log(db_conn *c, const principal *who, const char *action, const char *target,
              const char *detail, char *err, size_t errlen);
/* First start: create user admin from FOURSCORE_ADMIN_PASSWORD or a
 * generated password printed once; nothing when an admin exists. */
int auth_ensure_admin(db_conn *c, const struct config *cfg, char *err, size_t errlen);
/* --- additions: the rest of auth's interface --- */
/* scope_resolve's answer when the database fails (bad holds its message: 503). */
#define SCOPE_DB_ERROR (-2)
#define AUTH_SESSION_COOKIE "fourscore_session"

/* The principal of the command line: admin rights over every store, audited
 * as "cli" (audit_log with who NULL says the same). */
void principal_cli(principal *p);
/* Whether p may import rows of an entity at all (before any row is read):
 * admins and uploader tokens; a group-wide entity (entity_def.global of
 * core/data/entities.c: regions, stores, insurers, targets) only admins and
 * all-store uploader tokens. Row by row, principal_sees_store decides. */
bool auth_may_import(const principal *p, bool group_wide);

/* A session found in the database is remembered for 2 s by this process;
 * this forgets them all (each is looked up again). Sign-out and user changes
 * call it. */
void auth_sessions_forget(void);
/* The steps under auth_identify and the login route, callable on a
 * connection (the unit tests use them). session_secret / token_secret are
 * what the client sends; both return 1 with *out filled, -1 when unknown,
 * revoked or expired, -2 on a database failure (err filled). */
/* 1 with *out filled when the session of session_secret was seen within
 * the last seconds (the session cache), else 0: then ask the database with
 * auth_session_principal. No database is touched. */
int auth_session_cached(const char *session_secret, principal *out);
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

bool principal_sees_region(const principal *p, const char *region_code);
/* The principal of the user named username with the scope in force now, as
 * if they had signed in (scheduled work runs as its owner: alert rules,
 * reports). 1 found, 0 no such user, -2 database failure (err filled). */
int auth_user_principal(db_conn *c, const char *username, principal *out, char *err, size_t errlen);
/* {"username","role","regions":[codes],"stores":[codes]}: the scope in force. */
cJSON *scope_json(db_conn *c, const principal *p, char *err, size_t errlen);
/* The regions / stores p sees, as the /regions and /stores routes answer them. */
cJSON *regions_json(db_conn *c, const principal *p, char *err, size_t errlen);
cJSON *stores_json(db_conn *c, const principal *p, char *err, size_t errlen);

/* --- sessions (sessions.c) --- */
/* The session limits in force: idle and absolute, in seconds. */
void session_limits(const struct config *cfg, long long *idle, long long *max);
/* End one session (id_hash as principal.session_id) / every session of a user. */
int auth_session_end(db_conn *c, const char *id_hash, char *err, size_t errlen);
int auth_sessions_end_user(db_conn *c, long long user_id, char *err, size_t errlen);

/* --- users (users.c) --- */
#define MAX_USER_REGIONS    64
typedef struct user_spec {
    const char *username;
    enum role role;
    const char *regions[MAX_USER_REGIONS];
    int nregions;
    const char *store;        /* a store manager's store, else NULL */
    const char *password;     /* NULL: keep the current one (updates) */
} user_spec;

enum save_mode { SAVE_CREATE, SAVE_UPDATE, SAVE_UPSERT };
/* Save a user in one transaction; audited. Returns 0 (*created says which),
 * or an HTTP-like status: 400 (field names the parameter), 404, 409, 500. */
int user_save(db_conn *c, const struct config *cfg, const principal *who, const user_spec *u,
              enum save_mode mode, bool *created, char *field, size_t fieldlen, char *err, size_t errlen);
/* Delete a user (and, by cascade, their sessions and regions): 0, 404, 409, 500. */
int user_remove(db_conn *c, const principal *who, const char *username, char *err, size_t errlen);
/* A user as stored, to start an update from: 1 found, 0 none, -1 error. */
typedef struct user_stored {
    enum role role;
    char store[33];
    char regions[MAX_USER_REGIONS][33];
    int nregions;
} user_stored;
int user_stored_load(db_conn *c, const char *username, user_stored *out, char *err, size_t errlen);
/* Users as [{"username","role","regions","store","created_at","updated_at"}];
 * never a password hash. username NULL: all of them. */
cJSON *users_json(db_conn *c, const char *username, char *err, size_t errlen);
/* Tokens as [{"name","kind","store","all_stores","created_by","created_at","last_used_at"}]. */
cJSON *tokens_json(db_conn *c, char *err, size_t errlen);
/* What is wrong with a token's arguments: the parameter's name (err says
 * why), or NULL when they are fine. */
const char *token_problem(const char *name, const char *kind, const char *store, bool all_stores,
                          char *err, size_t errlen);
/* User and token names: [A-Za-z0-9_.-]{1,64}. */
bool auth_name_valid(const char *s);
#define AUTH_PASSWORD_MAX 1024
/* Why a password is refused, or NULL when it is acceptable. */
const char *password_problem(const char *password);
/* The roles a user (not a token) can have. */
bool role_is_user(enum role r);
/* 1 when a store of that code exists, 0 when not (or the code is malformed), -1 on error. */
int auth_store_exists(db_conn *c, const char *code, char *err, size_t errlen);

/* --- audit (audit.c) --- */
/* At most limit entries with an id below before, newest first, as the
 * /audit route answers them. */
cJSON *audit_page(db_conn *c, long long before, long long limit, char *err, size_t errlen);
#endif
