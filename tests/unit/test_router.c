/* test_router: the route table of core/http/router.c and its matching, without a
 * server. Requests are http_req values built in memory (no connection, so
 * no headers), principals are built in memory too.
 *
 * Expected values come from the route list and the roles table of
 * docs/api.md ("Routes", "Roles"), written out below by hand, not read from
 * the table under test: every documented route is found on its own path
 * under its own method, its {name} segment is captured, a path served under
 * other methods gives method_mismatch with an Allow list of exactly those
 * methods, and each role class (anyone, the four user roles, uploader and
 * metrics tokens) passes or is refused as the roles table says. Paths reach
 * the router decoded (core/http/static.c url_path_decode, as core/http/http_server.c does
 * before routing), so the percent-escape cases go through that decoder
 * first: what the router sees of them is what is checked. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <microhttpd.h>
#include "auth.h"
#include "check.h"
#include "http.h"
#include "router.h"
#include "static.h"

/* --- the documented table --- */

/* Who may call a route, as letters of the roles table: A admin,
 * X executive, R regional manager, S store manager, U uploader token,
 * M metrics token; "*" anyone, without credentials. */
#define ANYONE  "*"
#define USERS   "AXRS"

typedef struct want_route {
    const char *method, *pattern;
    const char *path;          /* a concrete path of the pattern */
    const char *param;         /* its {name} segment as captured, or NULL */
    const char *who;
} want_route;

static const want_route want_routes[] = {
    { "GET", "/api/v1/health", "/api/v1/health", NULL, ANYONE },
    { "POST", "/api/v1/session", "/api/v1/session", NULL, ANYONE },
    { "DELETE", "/api/v1/session", "/api/v1/session", NULL, USERS },
    { "GET", "/api/v1/me", "/api/v1/me", NULL, USERS },
    { "GET", "/api/v1/regions", "/api/v1/regions", NULL, USERS },
    { "GET", "/api/v1/stores", "/api/v1/stores", NULL, USERS },
    { "POST", "/api/v1/import/{entity}", "/api/v1/import/ro_parts", "ro_parts", "AU" },
    { "GET", "/api/v1/kpis", "/api/v1/kpis", NULL, USERS },
    { "GET", "/api/v1/kpi", "/api/v1/kpi", NULL, USERS },
    { "POST", "/api/v1/kpi/batch", "/api/v1/kpi/batch", NULL, USERS },
    { "GET", "/api/v1/settings", "/api/v1/settings", NULL, USERS },
    { "PUT", "/api/v1/settings", "/api/v1/settings", NULL, "A" },
    { "GET", "/api/v1/plugins", "/api/v1/plugins", NULL, "A" },
    { "GET", "/api/v1/scorecards", "/api/v1/scorecards", NULL, USERS },
    /* "owner, admin": only regional managers own scorecards; ownership is checked inside */
    { "GET", "/api/v1/scorecards/{name}", "/api/v1/scorecards/north_rank", "north_rank", "AXR" },
    { "PUT", "/api/v1/scorecards/{name}", "/api/v1/scorecards/north_rank", "north_rank", "AR" },
    { "DELETE", "/api/v1/scorecards/{name}", "/api/v1/scorecards/north_rank", "north_rank", "AR" },
    { "POST", "/api/v1/scorecards/{name}/restore", "/api/v1/scorecards/north_rank/restore", "north_rank", "AR" },
    { "POST", "/api/v1/scorecards/{name}/run", "/api/v1/scorecards/north_rank/run", "north_rank", "AXR" },
    { "POST", "/api/v1/scorecards/run", "/api/v1/scorecards/run", NULL, "AR" },
    { "POST", "/api/v1/export", "/api/v1/export", NULL, USERS },
    { "GET", "/api/v1/users", "/api/v1/users", NULL, "A" },
    { "POST", "/api/v1/users", "/api/v1/users", NULL, "A" },
    { "PUT", "/api/v1/users/{name}", "/api/v1/users/rm_hb", "rm_hb", "A" },
    { "DELETE", "/api/v1/users/{name}", "/api/v1/users/rm_hb", "rm_hb", "A" },
    { "GET", "/api/v1/tokens", "/api/v1/tokens", NULL, "A" },
    { "POST", "/api/v1/tokens", "/api/v1/tokens", NULL, "A" },
    { "DELETE", "/api/v1/tokens/{name}", "/api/v1/tokens/uploader_s1", "uploader_s1", "A" },
    { "GET", "/api/v1/audit", "/api/v1/audit", NULL, "A" },
    { "GET", "/metrics", "/metrics", NULL, "AM" },
};
#define NWANT (int)(sizeof want_routes / sizeof want_routes[0])

/* Every path of the table and the methods it is served under (the Allow
 * of a 405), space-separated. /api/v1/scorecards/run is also a {name} of
 * /api/v1/scorecards/{name}: GET, PUT and DELETE reach that route, whose
 * handler refuses "run" as a scorecard name (scorecard_name_valid). */
static const struct { const char *path, *methods; } want_allow[] = {
    { "/api/v1/health", "GET" },
    { "/api/v1/session", "POST DELETE" },
    { "/api/v1/me", "GET" },
    { "/api/v1/regions", "GET" },
    { "/api/v1/stores", "GET" },
    { "/api/v1/import/ro_parts", "POST" },
    { "/api/v1/kpis", "GET" },
    { "/api/v1/kpi", "GET" },
    { "/api/v1/kpi/batch", "POST" },
    { "/api/v1/settings", "GET PUT" },
    { "/api/v1/plugins", "GET" },
    { "/api/v1/scorecards", "GET" },
    { "/api/v1/scorecards/north_rank", "GET PUT DELETE" },
    { "/api/v1/scorecards/north_rank/restore", "POST" },
    { "/api/v1/scorecards/north_rank/run", "POST" },
    { "/api/v1/scorecards/run", "POST GET PUT DELETE" },
    { "/api/v1/export", "POST" },
    { "/api/v1/users", "GET POST" },
    { "/api/v1/users/rm_hb", "PUT DELETE" },
    { "/api/v1/tokens", "GET POST" },
    { "/api/v1/tokens/uploader_s1", "DELETE" },
    { "/api/v1/audit", "GET" },
    { "/metrics", "GET" },
};
#define NALLOW (int)(sizeof want_allow / sizeof want_allow[0])

static const char *const all_methods[] = { "GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE" };
#define NMETHODS (int)(sizeof all_methods / sizeof all_methods[0])

/* --- helpers --- */

static const route *match(http_req *r, const char *method, const char *path, bool *mismatch)
{
    memset(r, 0, sizeof *r);
    r->method = method;
    r->path = path;
    return router_match(r, method, path, mismatch);
}

/* Is word one of the space-separated words of list? */
static bool has_word(const char *list, const char *word)
{
    size_t n = strlen(word);
    for (const char *p = list; (p = strstr(p, word)); p += n)
        if ((p == list || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0')) return true;
    return false;
}

static int count_words(const char *list)
{
    int n = 0;
    for (const char *p = list; *p; ) {
        while (*p == ' ') p++;
        if (!*p) break;
        n++;
        while (*p && *p != ' ') p++;
    }
    return n;
}

/* An Allow value is "M1, M2, ..." with exactly the methods of want
 * (space-separated), each once, in any order. */
static bool allow_is(const char *allow, const char *want, char *why, size_t whylen)
{
    char seen[256] = " ";
    int n = 0;
    const char *p = allow;
    while (*p) {
        size_t len = strcspn(p, ",");
        char m[32];
        if (len == 0 || len >= sizeof m) { snprintf(why, whylen, "an empty or over-long item"); return false; }
        memcpy(m, p, len);
        m[len] = '\0';
        if (!has_word(want, m)) { snprintf(why, whylen, "%s is not expected", m); return false; }
        if (has_word(seen, m)) { snprintf(why, whylen, "%s is listed twice", m); return false; }
        snprintf(seen + strlen(seen), sizeof seen - strlen(seen), "%s ", m);
        n++;
        p += len;
        if (*p) {
            if (strncmp(p, ", ", 2) != 0 || !p[2]) { snprintf(why, whylen, "items not separated by \", \""); return false; }
            p += 2;
        }
    }
    if (n != count_words(want)) { snprintf(why, whylen, "%d methods, want %d", n, count_words(want)); return false; }
    return true;
}

/* What core/http/http_server.c does with a request target before routing: decode it
 * (NULL with *why when the decoder refuses it), then match. */
static const route *match_target(http_req *r, const char *method, const char *raw, char *path, size_t pathlen,
                                 bool *mismatch, const char **why)
{
    *mismatch = false;
    if (url_path_decode(raw, path, pathlen, why) != 0) return NULL;
    return match(r, method, path, mismatch);
}

static void release_reply(http_req *r)
{
    if (r->resp) MHD_destroy_response(r->resp);
    r->resp = NULL;
}

/* --- the table, route by route ---
 * method_mismatch speaks only when no route is returned (core/http/http_server.c reads
 * it then, for a 405): an earlier line of the same path under another
 * method may have set it on the way to the route found. */

static void test_every_route(void)
{
    for (int i = 0; i < NWANT; i++) {
        const want_route *w = &want_routes[i];
        http_req r;
        bool mismatch = true;
        const route *rt = match(&r, w->method, w->path, &mismatch);
        CHECK(rt && strcmp(rt->method, w->method) == 0 && strcmp(rt->pattern, w->pattern) == 0,
              "%s %s is routed to %s %s", w->method, w->path, w->method, w->pattern);
        if (!rt) continue;
        CHECK(rt->handler != NULL, "%s %s has a handler", w->method, w->pattern);
        if (w->param) {
            CHECK(r.nparams == 1 && strcmp(r.params[0], w->param) == 0, "%s %s captures {..} = %s (got %d: %s)",
                  w->method, w->path, w->param, r.nparams, r.nparams ? r.params[0] : "");
        } else {
            CHECK_INT(r.nparams, 0, "%s %s captures nothing", w->method, w->path);
        }
    }
    /* the streamed import is the only route with a body callback */
    http_req r;
    bool mismatch;
    const route *imp = match(&r, "POST", "/api/v1/import/stores", &mismatch);
    CHECK(imp && imp->on_body && imp->on_cleanup, "the import route streams its body (on_body, on_cleanup)");
    const route *kpi = match(&r, "POST", "/api/v1/kpi/batch", &mismatch);
    CHECK(kpi && !kpi->on_body, "an ordinary route's body is buffered (no on_body)");
    /* the order of the table decides the one overlap: POST .../scorecards/run
     * is the try route; other methods reach the {name} route with "run",
     * a name scorecard.c reserves */
    const route *tryr = match(&r, "POST", "/api/v1/scorecards/run", &mismatch);
    CHECK(tryr && strcmp(tryr->pattern, "/api/v1/scorecards/run") == 0 && r.nparams == 0,
          "POST /api/v1/scorecards/run is the try route, not the scorecard named run");
    const route *get = match(&r, "GET", "/api/v1/scorecards/run", &mismatch);
    CHECK(get && strcmp(get->pattern, "/api/v1/scorecards/{name}") == 0 && r.nparams == 1 &&
          strcmp(r.params[0], "run") == 0, "GET /api/v1/scorecards/run reaches the {name} route with name run");
    /* a match sets nparams afresh: nothing is left of an earlier request's */
    memset(&r, 0, sizeof r);
    r.nparams = 3;
    snprintf(r.params[0], sizeof r.params[0], "stale");
    CHECK(router_match(&r, "GET", "/api/v1/me", &mismatch) && r.nparams == 0, "a route without {name} sets nparams 0");
    /* files of the web root are no route, and no 405 (every method): the
     * first segment alone tells; the table's own first segments still match */
    static const char *const files[] = { "/", "/index.html", "/css/app.css", "/ap", "/apix/v1/me", "/metricsx", "/Api/v1/me" };
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        for (int m = 0; m < NMETHODS; m++) {
            mismatch = true;
            CHECK(!match(&r, all_methods[m], files[i], &mismatch) && !mismatch, "%s %s: no route, no 405", all_methods[m], files[i]);
        }
    }
    CHECK(match(&r, "GET", "/metrics", &mismatch) != NULL, "GET /metrics still matches");
    mismatch = false;
    CHECK(!match(&r, "POST", "/metrics", &mismatch) && mismatch, "POST /metrics is still a 405");
    mismatch = false;
    CHECK(!match(&r, "GET", "/api/v1/nothing", &mismatch) && !mismatch, "an unknown /api path: no route");
}

/* --- methods: 405 and Allow --- */

static void test_methods(void)
{
    for (int i = 0; i < NALLOW; i++) {
        const char *path = want_allow[i].path, *methods = want_allow[i].methods;
        char allow[128], why[128] = "";
        size_t n = router_allowed_methods(path, allow, sizeof allow);
        CHECK(allow_is(allow, methods, why, sizeof why) && n == strlen(allow),
              "Allow of %s is exactly %s (got \"%s\": %s)", path, methods, allow, why);
        for (int m = 0; m < NMETHODS; m++) {
            const char *method = all_methods[m];
            /* HEAD is answered as GET */
            bool served = has_word(methods, method) || (strcmp(method, "HEAD") == 0 && has_word(methods, "GET"));
            http_req r;
            bool mismatch = !served;
            const route *rt = match(&r, method, path, &mismatch);
            if (served)
                CHECK(rt && strcmp(rt->method, strcmp(method, "HEAD") == 0 ? "GET" : method) == 0,
                      "%s %s is served", method, path);
            else
                CHECK(!rt && mismatch, "%s %s: no route, method_mismatch (405)", method, path);
        }
    }
    /* methods are case-sensitive (RFC 9110): "get" is another method, so 405 */
    http_req r;
    bool mismatch = false;
    CHECK(!match(&r, "get", "/api/v1/me", &mismatch) && mismatch, "a lower-case method is not GET: 405");
    mismatch = true;
    CHECK(!match(&r, "GET", "/api/v1/nothing", &mismatch) && !mismatch, "an unknown path: no route and no mismatch (404)");
    char allow[64] = "junk";
    CHECK(router_allowed_methods("/api/v1/nothing", allow, sizeof allow) == 0 && allow[0] == '\0',
          "an unknown path has an empty Allow list");
    /* a buffer too small for the list: never overrun, always terminated;
     * the length returned counts whole methods only */
    char small[8];
    memset(small, 'x', sizeof small);
    size_t n = router_allowed_methods("/api/v1/scorecards/north_rank", small, sizeof small);
    CHECK(memchr(small, '\0', sizeof small) != NULL && n < sizeof small && strncmp(small, "GET", 3) == 0 && n == 3,
          "a short Allow buffer holds a terminated prefix (%zu: \"%s\")", n, small);
}

/* --- pattern matching edges --- */

static void test_patterns(void)
{
    static const struct { const char *method, *path; } no_route[] = {
        { "GET", "/api/v1/me/" },                       /* trailing slash */
        { "GET", "/api/v1/me//" },
        { "GET", "/metrics/" },
        { "PUT", "/api/v1/users/" },                    /* empty {name} */
        { "PUT", "/api/v1/users//" },
        { "PUT", "/api/v1/users/rm_hb/" },              /* {name} then a trailing slash */
        { "PUT", "/api/v1/users//rm_hb" },              /* double slash: an empty segment */
        { "GET", "/api/v1//me" },
        { "GET", "//api/v1/me" },
        { "PUT", "/api/v1/users/a/b" },                 /* a {name} is one segment */
        { "POST", "/api/v1/scorecards/a/b/run" },
        { "POST", "/api/v1/scorecards//run" },
        { "POST", "/api/v1/scorecards/a/rerun" },
        { "GET", "/API/V1/ME" },                        /* paths are case-sensitive */
        { "GET", "/api/v1/Me" },
        { "GET", "/Metrics" },
        { "GET", "/api/v1/mex" },                       /* prefixes and extensions */
        { "GET", "/api/v1/m" },
        { "GET", "/api/v1" },
        { "GET", "/api/v1/" },
        { "GET", "/api" },
        { "GET", "/" },
        { "GET", "" },
        { "GET", "/api/v1/health.json" },
        { "GET", "/api/v2/health" },
        { "GET", "api/v1/health" },
    };
    for (size_t i = 0; i < sizeof no_route / sizeof no_route[0]; i++) {
        http_req r;
        bool mismatch = true;
        const route *rt = match(&r, no_route[i].method, no_route[i].path, &mismatch);
        CHECK(!rt && !mismatch, "no route at all for %s \"%s\" (404)", no_route[i].method, no_route[i].path);
    }

    /* a {name} segment is at most 129 bytes (params[] holds 130 with the NUL) */
    char path[512], name[256];
    http_req r;
    bool mismatch;
    memset(name, 'n', 129);
    name[129] = '\0';
    snprintf(path, sizeof path, "/api/v1/users/%s", name);
    const route *rt = match(&r, "PUT", path, &mismatch);
    CHECK(rt && r.nparams == 1 && strlen(r.params[0]) == 129 && strcmp(r.params[0], name) == 0,
          "a 129-byte {name} is captured whole");
    name[129] = 'n';
    name[130] = '\0';
    snprintf(path, sizeof path, "/api/v1/users/%s", name);
    mismatch = true;
    CHECK(!match(&r, "PUT", path, &mismatch) && !mismatch, "a 130-byte {name} matches no route (never cut short)");
    snprintf(path, sizeof path, "/api/v1/scorecards/%s/run", name);
    CHECK(!match(&r, "POST", path, &mismatch) && !mismatch, "nor in the middle of a pattern");
    name[129] = '\0';
    snprintf(path, sizeof path, "/api/v1/scorecards/%s/run", name);
    rt = match(&r, "POST", path, &mismatch);
    CHECK(rt && strcmp(rt->pattern, "/api/v1/scorecards/{name}/run") == 0 && strlen(r.params[0]) == 129,
          "a 129-byte {name} in the middle of a pattern is captured");

    /* the router takes a segment as it is; it is not where names are judged */
    rt = match(&r, "PUT", "/api/v1/users/..", &mismatch);
    CHECK(rt && strcmp(r.params[0], "..") == 0, "the router alone captures \"..\" verbatim");
    rt = match(&r, "PUT", "/api/v1/users/{name}", &mismatch);
    CHECK(rt && strcmp(r.params[0], "{name}") == 0, "a literal \"{name}\" is just a name");
    rt = match(&r, "PUT", "/api/v1/users/%41", &mismatch);
    CHECK(rt && strcmp(r.params[0], "%41") == 0, "the router does not decode: a decoded path is its input");
}

/* --- what the router sees of escapes: the decoder first, as in http.c --- */

static void test_decoded_targets(void)
{
    char path[1024];
    http_req r;
    bool mismatch;
    const char *why = NULL;
    const route *rt = match_target(&r, "PUT", "/api/v1/users/%E5%BC%A0%E4%B8%89", path, sizeof path, &mismatch, &why);
    CHECK(rt && strcmp(r.params[0], "张三") == 0, "an escaped UTF-8 name is captured decoded (张三)");
    rt = match_target(&r, "PUT", "/api/v1/%75sers/bob", path, sizeof path, &mismatch, &why);
    CHECK(rt && strcmp(rt->pattern, "/api/v1/users/{name}") == 0 && strcmp(r.params[0], "bob") == 0,
          "an escaped letter of the fixed part still routes (%%75 is u)");
    rt = match_target(&r, "PUT", "/api/v1/users/a%20b", path, sizeof path, &mismatch, &why);
    CHECK(rt && strcmp(r.params[0], "a b") == 0, "%%20 is a space inside the name");
    rt = match_target(&r, "PUT", "/api/v1/users/a+b", path, sizeof path, &mismatch, &why);
    CHECK(rt && strcmp(r.params[0], "a+b") == 0, "+ stays + in a path (no form decoding)");
    rt = match_target(&r, "PUT", "/api/v1/users/bob?x=1#top", path, sizeof path, &mismatch, &why);
    CHECK(rt && strcmp(r.params[0], "bob") == 0, "the query and fragment are not part of the name");
    rt = match_target(&r, "PUT", "/api/v1/users/%E5%BC%A0%E4%B8%89/", path, sizeof path, &mismatch, &why);
    CHECK(!rt && !mismatch && !why, "an escaped name with a trailing slash decodes but matches no route");

    static const struct { const char *raw, *why; } refused[] = {
        { "/api/v1/users/a%2Fb", "encoded '/'" },
        { "/api/v1/users/a%2fb", "encoded '/'" },
        { "/api/v1/users/a%5Cb", "encoded '/' or '\\'" },
        { "/api/v1/users/..", "'..'" },
        { "/api/v1/users/%2e%2e", "'..'" },
        { "/api/v1/users/.", "'.'" },
        { "/api/v1/users/bob%", "malformed %-escape" },
        { "/api/v1/users/bob%4", "malformed %-escape" },
        { "/api/v1/users/bob%zz", "malformed %-escape" },
        { "/api/v1/users/bob%00", "NUL" },
        { "/api/v1/users/bob%0A", "control characters" },
        { "api/v1/users/bob", "start with '/'" },
    };
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        why = NULL;
        rt = match_target(&r, "PUT", refused[i].raw, path, sizeof path, &mismatch, &why);
        CHECK(!rt && why && strstr(why, refused[i].why), "%s never reaches the router: %s", refused[i].raw,
              why ? why : "(accepted)");
    }

    /* the 129-byte bound is on the decoded bytes: 43 three-byte characters
     * (129 bytes, 387 escaped) fit, 44 (132 bytes) do not */
    char raw[1024];
    for (int chars = 43; chars <= 44; chars++) {
        int o = snprintf(raw, sizeof raw, "/api/v1/users/");
        for (int i = 0; i < chars; i++) o += snprintf(raw + o, sizeof raw - (size_t)o, "%%E5%%BC%%A0");
        why = NULL;
        rt = match_target(&r, "PUT", raw, path, sizeof path, &mismatch, &why);
        if (chars == 43)
            CHECK(rt && strlen(r.params[0]) == 129, "43 escaped 3-byte characters (129 bytes) are a name");
        else
            CHECK(!rt && !why && !mismatch, "44 (132 bytes decoded) match no route");
    }
}

/* --- roles --- */

typedef struct role_case {
    char letter;               /* as in want_route.who */
    const char *what;
    principal p;
} role_case;

static void test_roles(void)
{
    static char *rm_stores[] = { "S1", "S2" }, *rm_regions[] = { "R1" }, *sm_stores[] = { "S3" };
    role_case cases[] = {
        { 'A', "admin", { .role = ROLE_ADMIN, .name = "admin", .all_stores = true } },
        { 'X', "executive", { .role = ROLE_EXEC, .name = "exec", .all_stores = true } },
        { 'R', "regional manager", { .role = ROLE_RM, .name = "rm_hb", .stores = rm_stores, .nstores = 2,
                                     .regions = rm_regions, .nregions = 1 } },
        { 'S', "store manager", { .role = ROLE_SM, .name = "sm_s3", .stores = sm_stores, .nstores = 1 } },
        { 'U', "uploader token", { .role = ROLE_UPLOADER, .name = "up_s3", .is_token = true, .stores = sm_stores,
                                   .nstores = 1 } },
        { 'U', "all-store uploader token", { .role = ROLE_UPLOADER, .name = "up_all", .is_token = true,
                                             .all_stores = true } },
        { 'M', "metrics token", { .role = ROLE_METRICS, .name = "prom", .is_token = true } },
        /* no role at all, even with every store: only public routes */
        { '-', "a principal without a role", { .role = ROLE_NONE, .name = "nobody", .all_stores = true } },
    };
    int ncases = (int)(sizeof cases / sizeof cases[0]);
    for (int i = 0; i < NWANT; i++) {
        const want_route *w = &want_routes[i];
        http_req r;
        bool mismatch;
        const route *rt = match(&r, w->method, w->path, &mismatch);
        if (!rt) continue;                      /* reported by test_every_route */
        bool public = strcmp(w->who, ANYONE) == 0;
        for (int c = 0; c < ncases; c++) {
            bool want = public || strchr(w->who, cases[c].letter) != NULL;
            CHECK(router_role_allows(rt, &cases[c].p) == want, "%s %s: %s %s", w->method, w->pattern,
                  cases[c].what, want ? "may call it" : "is refused (403)");
        }
        CHECK(router_role_allows(rt, NULL) == public, "%s %s: without a principal %s", w->method, w->pattern,
              public ? "it is open" : "it is closed");
    }
    CHECK(!router_role_allows(NULL, &cases[0].p), "no route: nobody is allowed");
}

/* router_authorize itself, on requests with no credentials (no connection:
 * no Authorization header, no cookie). */
static void test_authorize(void)
{
    http_req r;
    bool mismatch;
    memset(&r, 0, sizeof r);
    CHECK(!router_authorize(&r), "a request without a route is not authorized");

    const route *rt = match(&r, "GET", "/api/v1/health", &mismatch);
    r.route = rt;
    CHECK(rt && router_authorize(&r) && !r.resp && !r.who, "a public route passes without credentials, no answer set");
    release_reply(&r);

    for (int i = 0; i < NWANT; i++) {
        if (strcmp(want_routes[i].who, ANYONE) == 0) continue;
        rt = match(&r, want_routes[i].method, want_routes[i].path, &mismatch);
        r.route = rt;
        bool ok = rt && router_authorize(&r);
        CHECK(!ok && r.status == 401 && r.resp && !r.who, "%s %s without credentials: 401 (%d)", want_routes[i].method,
              want_routes[i].pattern, r.status);
        release_reply(&r);
    }
}

int main(void)
{
    test_every_route();
    test_methods();
    test_patterns();
    test_decoded_targets();
    test_roles();
    test_authorize();
    return check_done();
}
