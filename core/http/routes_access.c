/* routes_access: the HTTP side of core/access/: who is asking
 * (auth_identify: the session cookie or the Bearer token, and CSRF for
 * cookie-authenticated writes) and the routes of sessions, the caller's
 * scope, regions and stores, users, tokens and the audit log. Each route
 * parses the request, calls core/access/ and writes the answer. */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sodium.h>
#include <cJSON.h>
#include "routes_access.h"
#include "app.h"
#include "auth.h"
#include "http.h"
#include "log.h"
#include "route_util.h"

static cJSON *string_or_null(const char *s)
{
    return s ? cJSON_CreateString(s) : cJSON_CreateNull();
}

static bool origin_authority(const char *url, char *out, size_t cap)
{
    const char *p = strstr(url, "://");
    if (!p) return false;
    p += 3;
    size_t n = strcspn(p, "/?#");
    if (n == 0 || n >= cap) return false;
    memcpy(out, p, n);
    out[n] = '\0';
    return true;
}

/* CSRF: a cookie-authenticated write must come from a page of this host.
 * SameSite=Strict already keeps the cookie off cross-site requests; this is
 * the second fence (OWASP: verify the source origin against the target). */
static bool source_matches_host(http_req *r, const char *source, const char **why)
{
    const char *host = http_header(r, "Host");
    if (!host || !*host) { *why = "the request has no Host header"; return false; }
    char authority[300];
    if (!origin_authority(source, authority, sizeof authority) || strcasecmp(authority, host) != 0) {
        *why = "the request comes from another site (Origin/Referer does not match Host)";
        return false;
    }
    return true;
}

static bool csrf_ok(http_req *r, const char **why)
{
    const char *m = r->method ? r->method : "";
    if (!strcmp(m, "GET") || !strcmp(m, "HEAD") || !strcmp(m, "OPTIONS")) return true;
    const char *origin = http_header(r, "Origin");
    const char *source = origin && strcmp(origin, "null") != 0 ? origin : http_header(r, "Referer");
    if (!source) { *why = "a write with a session cookie needs an Origin or Referer header"; return false; }
    return source_matches_host(r, source, why);
}

/* A connection for identifying a caller: from the small pool of its own,
 * so it never waits behind KPI work; from the main pool when that one has
 * none to give (all four busy, or its monitor has not yet seen a database
 * that came back). *from is the pool to release it to. */
static db_conn *identify_conn(app *a, db_pool **from, char *err, size_t errlen)
{
    if (a->db_auth) {
        db_conn *c = db_acquire(a->db_auth, ROUTE_DB_WAIT_MS / 4, err, errlen);
        if (c) { *from = a->db_auth; return c; }
    }
    *from = a->db;
    return db_acquire(a->db, ROUTE_DB_WAIT_MS, err, errlen);
}

/* "Bearer SECRET" -> SECRET (trailing blanks cut into buf), or NULL. */
static const char *bearer_secret(const char *header, char *buf, size_t cap)
{
    if (strncasecmp(header, "Bearer", 6) != 0 || (header[6] != ' ' && header[6] != '\t')) return NULL;
    const char *s = header + 6;
    while (*s == ' ' || *s == '\t') s++;
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t')) n--;
    if (n == 0 || n >= cap) return NULL;
    memcpy(buf, s, n);
    buf[n] = '\0';
    return buf;
}

int auth_identify(http_req *r, principal *out)
{
    memset(out, 0, sizeof *out);
    /* A Bearer token wins over a cookie. Another Authorization scheme (say,
     * Basic from a proxy in front) does not hide the session cookie. */
    const char *authz = http_header(r, "Authorization");
    char secret[160];
    const char *token = authz ? bearer_secret(authz, secret, sizeof secret) : NULL;
    bool is_bearer = authz && strncasecmp(authz, "Bearer", 6) == 0;
    const char *cookie = is_bearer ? NULL : http_cookie(r, AUTH_SESSION_COOKIE);
    if (is_bearer && !token) return -1;
    if (!token && (!cookie || !*cookie)) return authz ? -1 : 0;
    if (!token) {
        const char *why = NULL;
        if (!csrf_ok(r, &why)) {
            log_warn("auth", "csrf: refused %s %s: %s", r->method, r->path, why);
            http_reply_errorf(r, 403, API_CSRF, "%s", why);
            return AUTH_REFUSED;
        }
    }
    app *a = r->app;
    if (!token && auth_session_cached(cookie, out)) return 1;
    char err[512];
    db_pool *pool = NULL;
    db_conn *c = identify_conn(a, &pool, err, sizeof err);
    if (!c) {
        log_error("auth", "database: %s", err);
        return -2;
    }
    int rc = token ? auth_token_principal(c, token, out, err, sizeof err)
                   : auth_session_principal(c, &a->cfg, cookie, out, err, sizeof err);
    db_release(pool, c);
    sodium_memzero(secret, sizeof secret);
    if (rc == -2) log_error("auth", "identifying the caller: %s", err);
    return rc;
}

/* --- HTTP: session, me, regions, stores --- */

void auth_route_session_create(http_req *r)
{
    /* login CSRF: a page of another site may not sign the browser in (to
     * an account of its choosing); clients without Origin are not browsers */
    const char *origin = http_header(r, "Origin"), *why = NULL;
    if (origin && !source_matches_host(r, origin, &why)) {
        log_warn("auth", "csrf: refused a login: %s", why);
        http_reply_errorf(r, 403, API_CSRF, "%s", why);
        return;
    }
    cJSON *body = route_body_object(r);
    if (!body) return;
    bool bad = false;
    const char *username = json_member_string(body, "username", &bad);
    if (bad || !username || !*username) {
        route_reply_bad_param(r, "username", "username is required (请输入用户名)");
        cJSON_Delete(body);
        return;
    }
    const char *password = json_member_string(body, "password", &bad);
    if (bad || !password || !*password) {
        route_reply_bad_param(r, "password", "password is required (请输入密码)");
        cJSON_Delete(body);
        return;
    }
    if (strlen(password) > AUTH_PASSWORD_MAX) password = "";   /* never matches; still counted */
    char ipbuf[64];
    const char *ip = http_client_ip(r, ipbuf, sizeof ipbuf);
    db_conn *c = route_db(r);
    if (!c) { cJSON_Delete(body); return; }
    principal who;
    char secret[65], err[512];
    int retry_after = 0;
    int rc = auth_login(c, &r->app->cfg, username, password, ip, &who, secret, &retry_after, err, sizeof err);
    cJSON_Delete(body);
    if (rc == 1) {
        cJSON *me = scope_json(c, &who, err, sizeof err);
        route_release(r, c);
        principal_free(&who);
        if (!me) { sodium_memzero(secret, sizeof secret); route_reply_internal(r, "login", err); return; }
        char cookie[256];
        long long idle, max;
        session_limits(&r->app->cfg, &idle, &max);
        snprintf(cookie, sizeof cookie, "%s=%s; Path=/; HttpOnly; SameSite=Strict; Max-Age=%lld%s",
                 AUTH_SESSION_COOKIE, secret, max, r->app->cfg.secure_cookie ? "; Secure" : "");
        sodium_memzero(secret, sizeof secret);
        http_reply_json(r, 200, me);
        http_add_header(r, "Set-Cookie", cookie);
        sodium_memzero(cookie, sizeof cookie);
        return;
    }
    route_release(r, c);
    if (rc == 0) {
        http_reply_error(r, 401, API_INVALID_CREDENTIALS, "用户名或密码错误 (wrong user name or password)", NULL);
    } else if (rc == AUTH_LOGIN_RATE_LIMITED) {
        char wait[32];
        snprintf(wait, sizeof wait, "%d", retry_after);
        http_reply_errorf(r, 429, API_RATE_LIMITED,
                          "登录失败次数过多，请 %d 秒后再试 (too many failed logins; try again in %d s)",
                          retry_after, retry_after);
        http_add_header(r, "Retry-After", wait);
    } else {
        route_reply_db_unavailable(r, "login", err);
    }
}

void auth_route_session_delete(http_req *r)
{
    const principal *p = r->who;
    if (!p || p->is_token || !p->session_id[0]) {
        http_reply_error(r, 400, API_NO_SESSION, "this request carries no session to end", NULL);
        return;
    }
    db_conn *c = route_db(r);
    if (!c) return;
    char err[512];
    int rc = auth_session_end(c, p->session_id, err, sizeof err);
    if (rc == 0) rc = audit_log(c, p, "logout", p->name, NULL, err, sizeof err);
    route_release(r, c);
    if (rc != 0) { route_reply_internal(r, "logout", err); return; }
    cJSON *o = cJSON_CreateObject();
    cJSON_AddBoolToObject(o, "logged_out", true);
    http_reply_json(r, 200, o);
    char cookie[160];
    snprintf(cookie, sizeof cookie, "%s=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0%s",
             AUTH_SESSION_COOKIE, r->app->cfg.secure_cookie ? "; Secure" : "");
    http_add_header(r, "Set-Cookie", cookie);
}

void auth_route_me(http_req *r)
{
    /* who the caller is: on the identifying pool, never behind KPI work */
    char err[512];
    db_pool *pool = NULL;
    db_conn *c = identify_conn(r->app, &pool, err, sizeof err);
    if (!c) { route_reply_db_unavailable(r, r->path, err); return; }
    cJSON *me = scope_json(c, r->who, err, sizeof err);
    bool lost = !me && db_conn_lost(c);
    db_release(pool, c);
    if (!me) {
        if (lost) route_reply_db_unavailable(r, "me", err);
        else route_reply_internal(r, "me", err);
        return;
    }
    http_reply_json(r, 200, me);
}

void auth_route_regions(http_req *r)
{
    db_conn *c = route_db(r);
    if (!c) return;
    char err[512];
    cJSON *arr = regions_json(c, r->who, err, sizeof err);
    bool lost = !arr && db_conn_lost(c);      /* the database went away under the read: 503, not 500 */
    route_release(r, c);
    if (!arr) {
        if (lost) route_reply_db_unavailable(r, "regions", err);
        else route_reply_internal(r, "regions", err);
        return;
    }
    http_reply_json(r, 200, arr);
}

void auth_route_stores(http_req *r)
{
    db_conn *c = route_db(r);
    if (!c) return;
    char err[512];
    cJSON *arr = stores_json(c, r->who, err, sizeof err);
    bool lost = !arr && db_conn_lost(c);      /* the database went away under the read: 503, not 500 */
    route_release(r, c);
    if (!arr) {
        if (lost) route_reply_db_unavailable(r, "stores", err);
        else route_reply_internal(r, "stores", err);
        return;
    }
    http_reply_json(r, 200, arr);
}

/* --- HTTP: users (admin) --- */

void auth_route_users_list(http_req *r)
{
    db_conn *c = route_db(r);
    if (!c) return;
    char err[512];
    cJSON *arr = users_json(c, NULL, err, sizeof err);
    route_release(r, c);
    if (!arr) { route_reply_internal(r, "users", err); return; }
    http_reply_json(r, 200, arr);
}

/* Fill spec fields from a body; absent members keep what spec holds.
 * Returns 0, or -1 after answering 400. */
static int user_spec_from_body(http_req *r, const cJSON *body, user_spec *u, bool *role_given)
{
    bool bad = false, present;
    const char *role = json_member_string(body, "role", &bad);
    if (bad) { route_reply_bad_param(r, "role", "role must be a string"); return -1; }
    *role_given = role != NULL;
    if (role) {
        u->role = role_parse(role);
        if (u->role != ROLE_ADMIN && u->role != ROLE_EXEC && u->role != ROLE_RM && u->role != ROLE_SM) {
            route_reply_bad_param(r, "role", "role: one of admin, executive, regional_manager, store_manager");
            return -1;
        }
    }
    const char *regions[MAX_USER_REGIONS];
    int n = json_member_strings(body, "regions", regions, MAX_USER_REGIONS, &present);
    if (n < 0) { route_reply_bad_param(r, "regions", "regions must be an array of region codes (at most 64)"); return -1; }
    if (present) {
        u->nregions = n;
        for (int i = 0; i < n; i++) u->regions[i] = regions[i];
    }
    const cJSON *store = cJSON_GetObjectItemCaseSensitive(body, "store");
    if (store) {
        if (cJSON_IsNull(store)) u->store = NULL;
        else if (cJSON_IsString(store)) u->store = store->valuestring;
        else { route_reply_bad_param(r, "store", "store must be a store code or null"); return -1; }
    }
    const char *password = json_member_string(body, "password", &bad);
    if (bad) { route_reply_bad_param(r, "password", "password must be a string"); return -1; }
    if (password) u->password = password;
    return 0;
}

/* 201/200 with the saved user. */
static void reply_user(http_req *r, db_conn *c, int status, const char *username)
{
    char err[512];
    cJSON *arr = users_json(c, username, err, sizeof err);
    route_release(r, c);
    if (!arr) { route_reply_internal(r, "users", err); return; }
    cJSON *one = cJSON_DetachItemFromArray(arr, 0);
    cJSON_Delete(arr);
    if (!one) { http_reply_errorf(r, 404, API_NOT_FOUND, "no user named %.64s", username); return; }
    http_reply_json(r, status, one);
}

void auth_route_users_create(http_req *r)
{
    cJSON *body = route_body_object(r);
    if (!body) return;
    bool bad = false, role_given;
    user_spec u = { .role = ROLE_NONE };
    u.username = json_member_string(body, "username", &bad);
    if (bad || !u.username) {
        route_reply_bad_param(r, "username", "username is required");
        cJSON_Delete(body);
        return;
    }
    if (user_spec_from_body(r, body, &u, &role_given) != 0) { cJSON_Delete(body); return; }
    if (!role_given) {
        route_reply_bad_param(r, "role", "role is required: admin, executive, regional_manager or store_manager");
        cJSON_Delete(body);
        return;
    }
    db_conn *c = route_db(r);
    if (!c) { cJSON_Delete(body); return; }
    char field[32], err[512], name[72];
    bool created;
    snprintf(name, sizeof name, "%s", u.username);
    int rc = user_save(c, &r->app->cfg, r->who, &u, SAVE_CREATE, &created, field, sizeof field, err, sizeof err);
    cJSON_Delete(body);
    if (rc != 0) {
        route_release(r, c);
        route_reply_status(r, rc, field, err);
        return;
    }
    reply_user(r, c, 201, name);
}

void auth_route_users_update(http_req *r)
{
    const char *username = r->nparams > 0 ? r->params[0] : "";
    if (!auth_name_valid(username)) { http_reply_errorf(r, 404, API_NOT_FOUND, "no user named %.64s", username); return; }
    cJSON *body = route_body_object(r);
    if (!body) return;
    db_conn *c = route_db(r);
    if (!c) { cJSON_Delete(body); return; }
    char err[512], field[32];
    /* start from the user as stored; the body overrides what it names */
    user_stored cur;
    int found = user_stored_load(c, username, &cur, err, sizeof err);
    if (found <= 0) {
        route_release(r, c);
        cJSON_Delete(body);
        if (found < 0) route_reply_internal(r, "users", err);
        else http_reply_errorf(r, 404, API_NOT_FOUND, "no user named %.64s", username);
        return;
    }
    user_spec u = { .username = username, .role = cur.role, .store = cur.store[0] ? cur.store : NULL };
    for (int i = 0; i < cur.nregions; i++) u.regions[u.nregions++] = cur.regions[i];
    enum role stored_role = u.role;
    bool role_given;
    int rc = -1;
    if (user_spec_from_body(r, body, &u, &role_given) == 0) {
        /* a new role starts without the old role's regions or store unless given */
        if (u.role != stored_role) {
            if (!cJSON_GetObjectItemCaseSensitive(body, "regions")) u.nregions = 0;
            if (!cJSON_GetObjectItemCaseSensitive(body, "store")) u.store = NULL;
        }
        bool created;
        rc = user_save(c, &r->app->cfg, r->who, &u, SAVE_UPDATE, &created, field, sizeof field, err, sizeof err);
        if (rc != 0) route_reply_status(r, rc, field, err);
    }
    cJSON_Delete(body);
    if (rc != 0) { route_release(r, c); return; }
    reply_user(r, c, 200, username);
}

void auth_route_users_delete(http_req *r)
{
    const char *username = r->nparams > 0 ? r->params[0] : "";
    if (!auth_name_valid(username)) { http_reply_errorf(r, 404, API_NOT_FOUND, "no user named %.64s", username); return; }
    db_conn *c = route_db(r);
    if (!c) return;
    char err[512];
    int rc = user_remove(c, r->who, username, err, sizeof err);
    route_release(r, c);
    if (rc != 0) { route_reply_status(r, rc, "username", err); return; }
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "deleted", username);
    http_reply_json(r, 200, o);
}

/* --- HTTP: tokens (admin) --- */

void auth_route_tokens_list(http_req *r)
{
    db_conn *c = route_db(r);
    if (!c) return;
    char err[512];
    cJSON *arr = tokens_json(c, err, sizeof err);
    route_release(r, c);
    if (!arr) { route_reply_internal(r, "tokens", err); return; }
    http_reply_json(r, 200, arr);
}

void auth_route_tokens_create(http_req *r)
{
    cJSON *body = route_body_object(r);
    if (!body) return;
    bool bad = false;
    const char *name = json_member_string(body, "name", &bad);
    if (bad || !name) { route_reply_bad_param(r, "name", "name is required"); cJSON_Delete(body); return; }
    const char *kind = json_member_string(body, "kind", &bad);
    if (bad || !kind) { route_reply_bad_param(r, "kind", "kind is required: uploader or metrics"); cJSON_Delete(body); return; }
    const char *store = json_member_string(body, "store", &bad);
    if (bad) { route_reply_bad_param(r, "store", "store must be a store code"); cJSON_Delete(body); return; }
    const cJSON *all = cJSON_GetObjectItemCaseSensitive(body, "all_stores");
    if (all && !cJSON_IsBool(all) && !cJSON_IsNull(all)) {
        route_reply_bad_param(r, "all_stores", "all_stores must be true or false");
        cJSON_Delete(body);
        return;
    }
    bool all_stores = cJSON_IsTrue(all);
    db_conn *c = route_db(r);
    if (!c) { cJSON_Delete(body); return; }
    char secret[80], err[512];
    int rc = auth_token_create(c, r->who, name, kind, store, all_stores, secret, err, sizeof err);
    route_release(r, c);
    if (rc != 0) {
        char why[512];
        const char *param = rc == 400 ? token_problem(name, kind, store, all_stores, why, sizeof why) : NULL;
        route_reply_status(r, rc, param ? param : "name", err);
        cJSON_Delete(body);
        return;
    }
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "name", name);
    cJSON_AddStringToObject(o, "kind", !strcmp(kind, "metrics") ? "metrics" : "uploader");
    cJSON_AddItemToObject(o, "store", string_or_null(store));
    cJSON_AddBoolToObject(o, "all_stores", all_stores);
    cJSON_AddStringToObject(o, "secret", secret);
    sodium_memzero(secret, sizeof secret);
    cJSON_Delete(body);
    http_reply_json(r, 201, o);
}

void auth_route_tokens_delete(http_req *r)
{
    const char *name = r->nparams > 0 ? r->params[0] : "";
    db_conn *c = route_db(r);
    if (!c) return;
    char err[512];
    int rc = auth_token_revoke(c, r->who, name, err, sizeof err);
    route_release(r, c);
    if (rc != 0) { route_reply_status(r, rc, "name", err); return; }
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "revoked", name);
    http_reply_json(r, 200, o);
}

/* --- HTTP: audit (admin) --- */

#define AUDIT_PAGE_DEFAULT 50
#define AUDIT_PAGE_MAX 500

/* A whole decimal number in [lo, hi], or false. */
static bool parse_int_param(const char *s, long long lo, long long hi, long long *out)
{
    if (!s || !*s) return false;
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || *end || v < lo || v > hi || !isdigit((unsigned char)s[0])) return false;
    *out = v;
    return true;
}

void auth_route_audit(http_req *r)
{
    long long before = LLONG_MAX, limit = AUDIT_PAGE_DEFAULT;
    const char *b = http_query(r, "before"), *l = http_query(r, "limit");
    if (b && !parse_int_param(b, 1, LLONG_MAX, &before)) {
        route_reply_bad_param(r, "before", "before: the id of an audit entry (a positive whole number)");
        return;
    }
    if (l && !parse_int_param(l, 1, AUDIT_PAGE_MAX, &limit)) {
        route_reply_bad_param(r, "limit", "limit: a whole number from 1 to 500");
        return;
    }
    db_conn *c = route_db(r);
    if (!c) return;
    char err[512];
    cJSON *arr = audit_page(c, before, limit, err, sizeof err);
    route_release(r, c);
    if (!arr) { route_reply_internal(r, "audit", err); return; }
    http_reply_json(r, 200, arr);
}
