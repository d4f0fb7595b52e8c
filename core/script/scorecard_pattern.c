/* scorecard_pattern: the counted string.find, string.match, string.gmatch
 * and string.gsub of the scorecard sandbox. core/script/sandbox.c installs them
 * over the string library of every run (scorecard_pattern_install, see
 * scorecard_pattern.h) with the run's meter.
 *
 * This is the project's own backtracking matcher for the patterns of Lua
 * 5.4 as its Reference Manual defines them (§6.4.1 "Patterns", and §6.4 for
 * the four functions' arguments and results): character classes, sets,
 * the quantifiers * + - ?, anchors, captures and position captures,
 * back-references, %b and %f. What a script gets back is what Lua's own
 * functions answer; docs/security.md describes the few limits.
 *
 * Every step of the work is counted: a call of the matcher, a pattern item
 * tried, a character tried by a repetition, a character scanned by %b, a
 * byte compared by a back-reference, a start position tried, a byte
 * searched by a plain find, a byte of replacement text added by gsub. The
 * count goes to the meter every SCPAT_CHECK_STEPS steps and at the end of
 * each call; the meter charges the run and raises (luaL_error) once a
 * budget is spent, so no pattern keeps the C side busy past the budgets.
 * The matcher's recursion is bounded (PAT_MAX_DEPTH, "pattern too
 * complex"); it allocates nothing: results go through the Lua stack and
 * gsub's luaL_Buffer, both under the run's counting allocator. */
#include "scorecard_pattern.h"

#include <ctype.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include <lauxlib.h>

#define PAT_MAX_CAPTURES 32     /* as in Lua: "too many captures" past it */
#define PAT_MAX_DEPTH 200       /* nested matcher calls: "pattern too complex" past it */
#define PAT_ESC '%'
#define PAT_SPECIALS "^$*+?.([%-"
#define PLAIN_WINDOW 65536      /* candidate starts a plain search looks at between two counts */

/* the length of a capture that is still open, and of a position capture */
enum { CAP_OPEN = -1, CAP_POSITION = -2 };

typedef struct {
    const char *start;
    ptrdiff_t len;              /* bytes, or CAP_OPEN / CAP_POSITION */
} pat_capture;

typedef struct {
    lua_State *L;
    sc_meter *meter;
    const char *fn;             /* "string.find" ... for the meter */
    unsigned long long pending; /* steps not yet handed to the meter */
    const char *subj, *subj_end;
    const char *pat_end;
    int depth;                  /* nested matcher calls */
    int ncap;                   /* captures opened so far */
    pat_capture cap[PAT_MAX_CAPTURES];
} pat_matcher;

static inline int uc(char c)
{
    return (unsigned char)c;
}

/* --- counting --- */

static void pat_flush(pat_matcher *m)
{
    unsigned long long n = m->pending;
    m->pending = 0;
    m->meter->charge(m->L, m->meter, n, m->fn);
}

static inline void pat_tick(pat_matcher *m, unsigned long long n)
{
    m->pending += n;
    if (m->pending >= SCPAT_CHECK_STEPS) pat_flush(m);
}

static void pat_begin(pat_matcher *m, lua_State *L, const char *fn, const char *s, size_t ls, const char *pat_end)
{
    m->L = L;
    m->meter = (sc_meter *)lua_touserdata(L, lua_upvalueindex(1));
    m->fn = fn;
    m->pending = 0;
    m->subj = s;
    m->subj_end = s + ls;
    m->pat_end = pat_end;
    m->depth = 0;
    m->ncap = 0;
}

/* A new attempt at a start position: no captures yet. */
static void pat_restart(pat_matcher *m)
{
    m->ncap = 0;
    m->depth = 0;
    pat_tick(m, 1);
}

/* --- classes and sets --- */

/* Whether character c is in class %cl (cl a letter of the manual's list, its
 * upper case the complement); any other cl stands for itself. */
static bool class_has(int c, int cl)
{
    bool in;
    switch (tolower(cl)) {
    case 'a': in = isalpha(c) != 0; break;
    case 'c': in = iscntrl(c) != 0; break;
    case 'd': in = isdigit(c) != 0; break;
    case 'g': in = isgraph(c) != 0; break;
    case 'l': in = islower(c) != 0; break;
    case 'p': in = ispunct(c) != 0; break;
    case 's': in = isspace(c) != 0; break;
    case 'u': in = isupper(c) != 0; break;
    case 'w': in = isalnum(c) != 0; break;
    case 'x': in = isxdigit(c) != 0; break;
    case 'z': in = c == 0; break; /* the NUL byte, as Lua 5.4 still accepts */
    default: return cl == c;
    }
    return isupper(cl) ? !in : in;
}

/* The ']' closing the set whose body starts at p (just past '['). The first
 * character of the body (after an optional '^') is always part of it, so
 * "[]]" and "[^]]" hold ']'; a '%' takes the next character with it. */
static const char *set_close(pat_matcher *m, const char *p)
{
    const char *end = m->pat_end;
    if (p < end && *p == '^') p++;
    for (;;) {
        if (p >= end) luaL_error(m->L, "malformed pattern (missing ']')");
        if (*p++ == PAT_ESC && p < end) p++;
        if (p >= end) luaL_error(m->L, "malformed pattern (missing ']')");
        if (*p == ']') return p;
    }
}

/* Whether c is in the set from '[' at open to ']' at close. */
static bool set_has(int c, const char *open, const char *close)
{
    const char *p = open + 1;
    bool want = true;
    if (*p == '^') {
        want = false;
        p++;
    }
    while (p < close) {
        if (*p == PAT_ESC) {
            if (class_has(c, uc(p[1]))) return want;
            p += 2;
        } else if (p + 2 < close && p[1] == '-') {
            if (uc(p[0]) <= c && c <= uc(p[2])) return want;
            p += 3;
        } else {
            if (uc(*p) == c) return want;
            p++;
        }
    }
    return !want;
}

/* Past the single-character item at p: x, ., %x or [set]. */
static const char *item_end(pat_matcher *m, const char *p)
{
    char c = *p++;
    if (c == PAT_ESC) {
        if (p >= m->pat_end) luaL_error(m->L, "malformed pattern (ends with '%%')");
        return p + 1;
    }
    if (c == '[') return set_close(m, p) + 1;
    return p;
}

/* Whether the subject character at s matches the item from p to ep. */
static bool item_matches(const pat_matcher *m, const char *s, const char *p, const char *ep)
{
    if (s >= m->subj_end) return false;
    int c = uc(*s);
    switch (*p) {
    case '.': return true;
    case PAT_ESC: return class_has(c, uc(p[1]));
    case '[': return set_has(c, p, ep - 1);
    default: return uc(*p) == c;
    }
}

/* --- the matcher --- */

static const char *match_at(pat_matcher *m, const char *s, const char *p);

/* One nested call of the matcher: counted and bounded. */
static const char *match_nested(pat_matcher *m, const char *s, const char *p)
{
    if (++m->depth > PAT_MAX_DEPTH) luaL_error(m->L, "pattern too complex");
    pat_tick(m, 1);
    const char *r = match_at(m, s, p);
    m->depth--;
    return r;
}

/* item* (or item+ once one is matched): the longest run first, then
 * shorter ones. */
static const char *repeat_longest(pat_matcher *m, const char *s, const char *p, const char *ep)
{
    size_t n = 0;
    while (item_matches(m, s + n, p, ep)) {
        n++;
        pat_tick(m, 1);
    }
    for (;;) {
        const char *r = match_nested(m, s + n, ep + 1);
        if (r) return r;
        if (n == 0) return NULL;
        n--;
    }
}

/* item-: the shortest run first, one more at a time. */
static const char *repeat_shortest(pat_matcher *m, const char *s, const char *p, const char *ep)
{
    for (;;) {
        const char *r = match_nested(m, s, ep + 1);
        if (r) return r;
        if (!item_matches(m, s, p, ep)) return NULL;
        s++;
    }
}

static const char *capture_open(pat_matcher *m, const char *s, const char *p, ptrdiff_t kind)
{
    if (m->ncap >= PAT_MAX_CAPTURES) luaL_error(m->L, "too many captures");
    m->cap[m->ncap].start = s;
    m->cap[m->ncap].len = kind;
    m->ncap++;
    const char *r = match_nested(m, s, p);
    if (!r) m->ncap--;
    return r;
}

/* ')' closes the innermost capture still open. */
static const char *capture_close(pat_matcher *m, const char *s, const char *p)
{
    int i = m->ncap - 1;
    while (i >= 0 && m->cap[i].len != CAP_OPEN) i--;
    if (i < 0) luaL_error(m->L, "invalid pattern capture");
    m->cap[i].len = s - m->cap[i].start;
    const char *r = match_nested(m, s, p);
    if (!r) m->cap[i].len = CAP_OPEN;
    return r;
}

/* %bxy at s (p just past "%b"): where the balanced text ends, or NULL. */
static const char *match_balance(pat_matcher *m, const char *s, const char *p)
{
    if (m->pat_end - p < 2) luaL_error(m->L, "malformed pattern (missing arguments to '%%b')");
    if (s >= m->subj_end || *s != p[0]) return NULL;
    char open = p[0], close = p[1];
    size_t depth = 1;
    for (const char *q = s + 1; q < m->subj_end; q++) {
        pat_tick(m, 1);
        if (*q == close) {
            if (--depth == 0) return q + 1;
        } else if (*q == open) {
            depth++;
        }
    }
    return NULL;
}

/* %1 .. %9 at s: the text of that capture again, or NULL. */
static const char *match_backref(pat_matcher *m, const char *s, int digit)
{
    int i = digit - '1';
    if (i < 0 || i >= m->ncap || m->cap[i].len == CAP_OPEN)
        luaL_error(m->L, "invalid capture index %%%d", i + 1);
    if (m->cap[i].len == CAP_POSITION) return NULL; /* a position is no text */
    size_t len = (size_t)m->cap[i].len;
    if ((size_t)(m->subj_end - s) < len) return NULL;
    for (size_t off = 0; off < len; off += SCPAT_CHECK_STEPS) {
        size_t n = len - off < SCPAT_CHECK_STEPS ? len - off : SCPAT_CHECK_STEPS;
        pat_tick(m, n);
        if (memcmp(m->cap[i].start + off, s + off, n) != 0) return NULL;
    }
    return s + len;
}

/* The pattern from p against the subject from s: where the match ends, or
 * NULL. Items without alternatives advance in this loop; every choice
 * (quantifier, capture) is a nested call, so that a failure backtracks. */
static const char *match_at(pat_matcher *m, const char *s, const char *p)
{
    const char *end = m->pat_end;
    for (;;) {
        if (p == end) return s;
        pat_tick(m, 1);
        switch (*p) {
        case '(':
            if (p + 1 < end && p[1] == ')') return capture_open(m, s, p + 2, CAP_POSITION);
            return capture_open(m, s, p + 1, CAP_OPEN);
        case ')':
            return capture_close(m, s, p + 1);
        case '$':
            if (p + 1 == end) return s == m->subj_end ? s : NULL;
            break; /* elsewhere a plain '$' */
        case PAT_ESC:
            if (p + 1 < end && p[1] == 'b') {
                s = match_balance(m, s, p + 2);
                if (!s) return NULL;
                p += 4;
                continue;
            }
            if (p + 1 < end && p[1] == 'f') {
                p += 2;
                if (p >= end || *p != '[') luaL_error(m->L, "missing '[' after '%%f' in pattern");
                const char *ep = item_end(m, p);
                int before = s == m->subj ? 0 : uc(s[-1]);
                int here = s < m->subj_end ? uc(*s) : 0;
                if (set_has(before, p, ep - 1) || !set_has(here, p, ep - 1)) return NULL;
                p = ep;
                continue;
            }
            if (p + 1 < end && isdigit(uc(p[1]))) {
                s = match_backref(m, s, uc(p[1]));
                if (!s) return NULL;
                p += 2;
                continue;
            }
            break;
        default:
            break;
        }
        /* a single-character item, perhaps with a quantifier */
        const char *ep = item_end(m, p);
        bool hit = item_matches(m, s, p, ep);
        char q = ep < end ? *ep : '\0';
        if (!hit) {
            if (q == '*' || q == '?' || q == '-') {
                p = ep + 1; /* zero repetitions */
                continue;
            }
            return NULL;
        }
        switch (q) {
        case '?': {
            const char *r = match_nested(m, s + 1, ep + 1);
            if (r) return r;
            p = ep + 1;
            continue;
        }
        case '+': return repeat_longest(m, s + 1, p, ep);
        case '*': return repeat_longest(m, s, p, ep);
        case '-': return repeat_shortest(m, s, p, ep);
        default:
            s++;
            p = ep;
            continue;
        }
    }
}

/* --- results --- */

/* Capture i of a match from s to e; with no captures, capture 0 is the
 * whole match. */
static void push_capture(pat_matcher *m, int i, const char *s, const char *e)
{
    if (i >= m->ncap) {
        if (i != 0) luaL_error(m->L, "invalid capture index %%%d", i + 1);
        lua_pushlstring(m->L, s, (size_t)(e - s));
        return;
    }
    ptrdiff_t len = m->cap[i].len;
    if (len == CAP_OPEN) luaL_error(m->L, "unfinished capture");
    if (len == CAP_POSITION) lua_pushinteger(m->L, (lua_Integer)(m->cap[i].start - m->subj) + 1);
    else lua_pushlstring(m->L, m->cap[i].start, (size_t)len);
}

/* Every capture; with none, the whole match (unless s is NULL: find). */
static int push_captures(pat_matcher *m, const char *s, const char *e)
{
    int n = (m->ncap == 0 && s) ? 1 : m->ncap;
    luaL_checkstack(m->L, n, "too many captures");
    for (int i = 0; i < n; i++) push_capture(m, i, s, e);
    return n;
}

/* --- the four functions --- */

/* init as the manual has it: negative counts from the end, before the
 * start is 1. */
static lua_Integer start_index(lua_Integer init, size_t len)
{
    if (init > 0) return init;
    if (init == 0 || init < -(lua_Integer)len) return 1;
    return (lua_Integer)len + init + 1;
}

static bool has_specials(const char *p, size_t lp)
{
    for (size_t i = 0; i < lp; i++)
        if (p[i] != '\0' && strchr(PAT_SPECIALS, p[i])) return true;
    return false;
}

/* A plain search in linear time, counted by the bytes it looks at. */
static const char *plain_search(pat_matcher *m, const char *h, size_t lh, const char *n, size_t ln)
{
    if (ln == 0) return h;
    if (ln > lh) return NULL;
    size_t starts = lh - ln + 1, off = 0;
    while (off < starts) {
        size_t span = starts - off < PLAIN_WINDOW ? starts - off : PLAIN_WINDOW;
        pat_tick(m, span + ln - 1);
        const char *hit = memmem(h + off, span + ln - 1, n, ln);
        if (hit) return hit;
        off += span;
    }
    return NULL;
}

/* string.find (find) and string.match (!find). */
static int find_or_match(lua_State *L, bool find)
{
    size_t ls, lp;
    const char *s = luaL_checklstring(L, 1, &ls);
    const char *p = luaL_checklstring(L, 2, &lp);
    lua_Integer init = start_index(luaL_optinteger(L, 3, 1), ls);
    if (init > (lua_Integer)ls + 1) {
        lua_pushnil(L);
        return 1;
    }
    pat_matcher m;
    pat_begin(&m, L, find ? "string.find" : "string.match", s, ls, p + lp);
    const char *from = s + init - 1;
    if (find && (lua_toboolean(L, 4) || !has_specials(p, lp))) {
        const char *hit = plain_search(&m, from, ls - (size_t)(init - 1), p, lp);
        pat_flush(&m);
        if (hit) {
            lua_pushinteger(L, (lua_Integer)(hit - s) + 1);
            lua_pushinteger(L, (lua_Integer)(hit - s) + (lua_Integer)lp);
            return 2;
        }
        lua_pushnil(L);
        return 1;
    }
    bool anchored = lp > 0 && *p == '^';
    if (anchored) p++;
    for (;;) {
        pat_restart(&m);
        const char *e = match_nested(&m, from, p);
        if (e) {
            pat_flush(&m);
            if (!find) return push_captures(&m, from, e);
            luaL_checkstack(L, 2, "too many captures");
            lua_pushinteger(L, (lua_Integer)(from - s) + 1);
            lua_pushinteger(L, (lua_Integer)(e - s));
            return push_captures(&m, NULL, NULL) + 2;
        }
        if (anchored || from >= m.subj_end) break;
        from++;
    }
    pat_flush(&m);
    lua_pushnil(L);
    return 1;
}

static int pat_find(lua_State *L)
{
    return find_or_match(L, true);
}

static int pat_match(lua_State *L)
{
    return find_or_match(L, false);
}

/* The iterator of gmatch. Upvalues: the meter, the subject, the pattern,
 * where the next search starts (0-based) and where the last match ended
 * (-1 before the first): an empty match there is skipped, so the search
 * moves on. */
static int gmatch_next(lua_State *L)
{
    size_t ls, lp;
    const char *s = lua_tolstring(L, lua_upvalueindex(2), &ls);
    const char *p = lua_tolstring(L, lua_upvalueindex(3), &lp);
    lua_Integer pos = lua_tointeger(L, lua_upvalueindex(4));
    lua_Integer last = lua_tointeger(L, lua_upvalueindex(5));
    pat_matcher m;
    pat_begin(&m, L, "string.gmatch", s, ls, p + lp);
    for (; pos <= (lua_Integer)ls; pos++) {
        pat_restart(&m);
        const char *e = match_nested(&m, s + pos, p);
        if (e && (lua_Integer)(e - s) != last) {
            lua_pushinteger(L, (lua_Integer)(e - s));
            lua_copy(L, -1, lua_upvalueindex(4));
            lua_replace(L, lua_upvalueindex(5));
            pat_flush(&m);
            return push_captures(&m, s + pos, e);
        }
    }
    lua_pushinteger(L, (lua_Integer)ls + 1); /* done: later calls find nothing */
    lua_replace(L, lua_upvalueindex(4));
    pat_flush(&m);
    return 0;
}

/* string.gmatch(s, pattern [, init]): '^' is no anchor here. */
static int pat_gmatch(lua_State *L)
{
    size_t ls;
    luaL_checklstring(L, 1, &ls);
    luaL_checkstring(L, 2);
    lua_Integer init = start_index(luaL_optinteger(L, 3, 1), ls);
    if (init > (lua_Integer)ls + 1) init = (lua_Integer)ls + 2; /* past the end: no match at all */
    lua_settop(L, 2);
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_pushinteger(L, init - 1);
    lua_pushinteger(L, -1);
    lua_pushcclosure(L, gmatch_next, 5);
    return 1;
}

/* A replacement text with %0 .. %9 and %%. */
static void gsub_add_text(pat_matcher *m, luaL_Buffer *b, const char *s, const char *e)
{
    lua_State *L = m->L;
    size_t lr;
    const char *r = lua_tolstring(L, 3, &lr), *r_end = r + lr;
    while (r < r_end) {
        const char *esc = memchr(r, PAT_ESC, (size_t)(r_end - r));
        size_t plain = esc ? (size_t)(esc - r) : (size_t)(r_end - r);
        pat_tick(m, plain);
        luaL_addlstring(b, r, plain);
        if (!esc) return;
        r = esc + 1;
        if (r >= r_end || (*r != PAT_ESC && !isdigit(uc(*r))))
            luaL_error(L, "invalid use of '%c' in replacement string", PAT_ESC);
        if (*r == PAT_ESC) {
            luaL_addchar(b, PAT_ESC);
        } else if (*r == '0') {
            pat_tick(m, (unsigned long long)(e - s));
            luaL_addlstring(b, s, (size_t)(e - s));
        } else {
            push_capture(m, *r - '1', s, e);
            luaL_tolstring(L, -1, NULL);
            lua_remove(L, -2);
            pat_tick(m, lua_rawlen(L, -1));
            luaL_addvalue(b);
        }
        r++;
    }
}

/* The replacement of one match from s to e. */
static void gsub_add(pat_matcher *m, luaL_Buffer *b, const char *s, const char *e, int repl_type)
{
    lua_State *L = m->L;
    if (repl_type == LUA_TSTRING || repl_type == LUA_TNUMBER) {
        gsub_add_text(m, b, s, e);
        return;
    }
    if (repl_type == LUA_TFUNCTION) {
        lua_pushvalue(L, 3);
        int n = push_captures(m, s, e);
        lua_call(L, n, 1);
    } else {
        push_capture(m, 0, s, e);
        lua_gettable(L, 3);
    }
    if (!lua_toboolean(L, -1)) { /* nil or false: the match stays */
        lua_pop(L, 1);
        luaL_addlstring(b, s, (size_t)(e - s));
        return;
    }
    if (!lua_isstring(L, -1)) luaL_error(L, "invalid replacement value (a %s)", luaL_typename(L, -1));
    pat_tick(m, lua_rawlen(L, -1));
    luaL_addvalue(b);
}

/* string.gsub(s, pattern, repl [, n]) */
static int pat_gsub(lua_State *L)
{
    size_t ls, lp;
    const char *s = luaL_checklstring(L, 1, &ls);
    const char *p = luaL_checklstring(L, 2, &lp);
    int repl_type = lua_type(L, 3);
    lua_Integer max_n = luaL_optinteger(L, 4, (lua_Integer)ls + 1);
    luaL_argexpected(L, repl_type == LUA_TNUMBER || repl_type == LUA_TSTRING || repl_type == LUA_TFUNCTION ||
                            repl_type == LUA_TTABLE, 3, "string/function/table");
    pat_matcher m;
    pat_begin(&m, L, "string.gsub", s, ls, p + lp);
    bool anchored = lp > 0 && *p == '^';
    if (anchored) p++;
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    const char *at = s, *last = NULL;
    lua_Integer n = 0;
    while (n < max_n) {
        pat_restart(&m);
        const char *e = match_nested(&m, at, p);
        if (e && e != last) {
            n++;
            gsub_add(&m, &b, at, e, repl_type);
            at = last = e;
        } else if (at < m.subj_end) {
            luaL_addchar(&b, *at++);
        } else {
            break;
        }
        if (anchored) break;
    }
    pat_flush(&m);
    luaL_addlstring(&b, at, (size_t)(m.subj_end - at));
    luaL_pushresult(&b);
    lua_pushinteger(L, n);
    return 2;
}

void scorecard_pattern_install(lua_State *L, int strlib, sc_meter *meter)
{
    static const luaL_Reg counted[] = {
        { "find", pat_find }, { "match", pat_match }, { "gmatch", pat_gmatch }, { "gsub", pat_gsub }, { NULL, NULL },
    };
    strlib = lua_absindex(L, strlib);
    luaL_checkstack(L, 2, "installing the pattern functions");
    for (const luaL_Reg *r = counted; r->name; r++) {
        lua_pushlightuserdata(L, meter);
        lua_pushcclosure(L, r->func, 1);
        lua_setfield(L, strlib, r->name);
    }
}
