/* test_scorecard_pattern: the counted string.find, match, gmatch and gsub of
 * the scorecard sandbox (core/script/scorecard_pattern.c) against Lua's own. Two
 * plain Lua states run the same probes: one with the native string
 * library, one with the four functions replaced by
 * scorecard_pattern_install and a test meter that adds up the steps. The
 * expected answers are Lua's: every result (values, their types, the number
 * of results, gmatch's whole sequence, the arguments gsub passes to a
 * replacement function) must be the same, and so must the error-ness.
 *
 * The corpus: hand-picked edge cases (compared with their error messages)
 * and a few thousand random patterns built from a small alphabet of items
 * (characters, classes, sets, quantifiers, captures, position captures,
 * anchors, %b, %f, back-references, malformed pieces) against random
 * subjects, through all four functions with random init, plain, n and
 * replacement arguments. A random malformed pattern must fail in both; its
 * message may differ. Then the meter: steps are counted and handed over in
 * slices, and a meter that raises stops the pattern bombs in time. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <lua.h>
#include <lauxlib.h>
#include <lualib.h>

#include "check.h"
#include "scorecard_pattern.h"

/* --- the meter of the counted state --- */

typedef struct {
    sc_meter base;
    unsigned long long total, largest, limit;
    unsigned long calls;
} test_meter;

static void test_charge(lua_State *L, sc_meter *m, unsigned long long steps, const char *fn)
{
    test_meter *t = (test_meter *)(void *)m;
    t->total += steps;
    t->calls++;
    if (steps > t->largest) t->largest = steps;
    if (t->total > t->limit) luaL_error(L, "meter: %s stopped", fn);
}

static test_meter meter = { { test_charge }, 0, 0, 1ULL << 62, 0 };

/* --- the probes, the same Lua code in both states --- */

static const char probe_lua[] =
    "local fmt, mtype, pack, unpack, concat = string.format, math.type, table.pack, table.unpack, table.concat\n"
    "local function ser(...)\n"
    "  local t = { tostring(select('#', ...)) }\n"
    "  for i = 1, select('#', ...) do\n"
    "    local v = select(i, ...)\n"
    "    if type(v) == 'string' then t[#t + 1] = fmt('%q', v)\n"
    "    elseif type(v) == 'number' then t[#t + 1] = mtype(v) .. ':' .. tostring(v)\n"
    "    else t[#t + 1] = tostring(v) end\n"
    "  end\n"
    "  return concat(t, ' ')\n"
    "end\n"
    "SER = ser\n"
    /* replacements: kind s (text), n (number), t (table), f (function) */
    "local function repl_of(kind, text, log)\n"
    "  if kind == 's' then return text end\n"
    "  if kind == 'n' then return 7 end\n"
    "  if kind == 't' then return { a = '<A>', b = false, c = 3, ['1'] = 'one', [1] = 'pos1', [2] = 2.5,\n"
    "                               ['('] = true, ab = '', [''] = '<empty>' } end\n"
    "  return function(...)\n"
    "    log[#log + 1] = ser(...)\n"
    "    local a = ...\n"
    "    if a == 'b' then return nil elseif a == 'c' then return false\n"
    "    elseif a == '(' and select('#', ...) > 1 then return {} elseif a == 1 then return 1.5 end\n"
    "    return '[' .. tostring(a) .. ']'\n"
    "  end\n"
    "end\n"
    "function probe(fname, s, p, a3, a4, rkind, rtext)\n"
    "  local log, r = {}\n"
    "  if fname == 'gmatch' then\n"
    "    r = pack(pcall(function()\n"
    "      local it, out = string.gmatch(s, p, a3), {}\n"
    "      for i = 1, 200 do\n"
    "        local res = pack(it())\n"
    "        out[#out + 1] = ser(unpack(res, 1, res.n))\n"
    "        if res[1] == nil then break end\n"
    "      end\n"
    "      return concat(out, '; ')\n"
    "    end))\n"
    "  elseif fname == 'gsub' then\n"
    "    r = pack(pcall(string.gsub, s, p, repl_of(rkind, rtext, log), a3))\n"
    "  else\n"
    "    r = pack(pcall(string[fname], s, p, a3, a4))\n"
    "  end\n"
    "  return r[1], ser(unpack(r, 1, r.n)) .. ' | ' .. concat(log, '; ')\n"
    "end\n";

static lua_State *state_new(bool counted)
{
    lua_State *L = luaL_newstate();
    if (!L) return NULL;
    luaL_openlibs(L);
    if (counted) {
        lua_getglobal(L, "string");
        scorecard_pattern_install(L, -1, &meter.base);
        lua_pop(L, 1);
    }
    if (luaL_dostring(L, probe_lua) != LUA_OK) {
        printf("    probe script: %s\n", lua_tostring(L, -1));
        lua_close(L);
        return NULL;
    }
    return L;
}

static lua_State *native, *counted;

/* One probe's arguments; a3 and a4 are nil when their has_ flag is 0. */
typedef struct {
    const char *fname;
    const char *s;
    size_t ls;
    const char *p;
    size_t lp;
    int has3, has4;
    lua_Integer a3;
    int a4;                     /* find's plain, a boolean */
    char rkind;
    const char *rtext;
} probe_args;

/* Runs the probe in L; returns whether it succeeded and leaves its text in
 * out (NUL-terminated, cut to cap). */
static int probe_run(lua_State *L, const probe_args *a, char *out, size_t cap)
{
    lua_getglobal(L, "probe");
    lua_pushstring(L, a->fname);
    lua_pushlstring(L, a->s, a->ls);
    lua_pushlstring(L, a->p, a->lp);
    if (a->has3) lua_pushinteger(L, a->a3); else lua_pushnil(L);
    if (a->has4) lua_pushboolean(L, a->a4); else lua_pushnil(L);
    char kind[2] = { a->rkind ? a->rkind : 's', 0 };
    lua_pushstring(L, kind);
    lua_pushstring(L, a->rtext ? a->rtext : "");
    int ok = 0;
    if (lua_pcall(L, 7, 2, 0) != LUA_OK) {
        snprintf(out, cap, "probe failed: %s", lua_tostring(L, -1));
        lua_pop(L, 1);
        return -1;
    }
    ok = lua_toboolean(L, -2);
    snprintf(out, cap, "%s", lua_tostring(L, -1));
    lua_pop(L, 2);
    return ok;
}

static void show_bytes(char *out, size_t cap, const char *s, size_t n)
{
    size_t k = 0;
    for (size_t i = 0; i < n && k + 5 < cap; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 32 && c < 127 && c != '\\') out[k++] = (char)c;
        else k += (size_t)snprintf(out + k, cap - k, "\\%03o", c);
    }
    out[k] = 0;
}

/* --- hand-picked cases: whole expressions, messages compared too --- */

static const char *const edge_cases[] = {
    /* empty subject, empty pattern, init beyond the length, negative init */
    "string.find('', '')", "string.find('', '', 1)", "string.find('', '', 2)", "string.find('abc', '')",
    "string.find('abc', '', 3)", "string.find('abc', '', 4)", "string.find('abc', '', 5)", "string.find('abc', 'c', 4)",
    "string.find('abc', 'b', -1)", "string.find('abc', 'b', -2)", "string.find('abc', 'a', -10)", "string.find('abc', 'a', 0)",
    "string.find('abc', '^b', 2)", "string.find('abc', '^a', 2)", "string.match('abc', '^(a)', -3)",
    "string.find('a.b', '.', 1, true)", "string.find('a.b', '.', 2, true)", "string.find('a+b', '+', 1, true)",
    "string.find('abc', '', 10, true)", "string.find('abc', '', 4, true)", "string.find('abcabc', 'ca', 1, false)",
    "string.find('a\\0b', '\\0')", "string.find('a\\0b', '%z')", "string.find('a\\0b', '[\\0]')", "string.match('a\\0b\\0', '(.%z?)$')",
    "string.match('', '')", "string.match('', '.')", "string.match('', '()')", "string.match('abc', '()', 4)",
    "string.match('abc', '()', 5)", "string.match('abc', '()a()')", "string.match('hello', '()ll()')",
    "string.match('abc', '^$')", "string.match('', '^$')", "string.match('a$b', 'a$b')", "string.match('a^b', 'a^b')",
    "string.match('^a', '^^a')", "string.find('a', '$$')", "string.match('$', '^$$')",
    "string.match('key = value', '(%w+)%s*=%s*(%w+)')", "string.match('  trim  ', '^%s*(.-)%s*$')",
    "string.match('f(a(b)c)d', '%b()')", "string.match('[[x]]', '%b[]')", "string.match('aXa', '%baa')", "string.match('x)', '%b()')",
    "string.match('THE (quick) fox', '%f[%a]%a+')", "string.find('abc', '%f[%z]')", "string.find('abc', '%f[a]')",
    "string.find('abc', '%f[^%z]')", "string.find('a b', '%f[%s]')",
    "string.match('hello', '(l)%1')", "string.match('abab', '(ab)%1')", "string.match('xx', '()x%1')", "string.match('aa', '(a*)%1$')",
    "string.match('x]y', '[]]')", "string.match('x]y', '[^]x]')", "string.match('a-z', '[a-]+')", "string.match('-a', '[-a]+')",
    "string.match('%a', '[%%]')", "string.match('a]', '[%]]')", "string.match('b', '[a-c]')", "string.match('\\255', '[\\200-\\255]')",
    "string.match('\\228\\189\\160', '[\\128-\\255]+')", "string.match('AbC1_', '%u%l%u%d%p')", "string.match('\\t\\n', '%c+')",
    "string.match('x', '%W')", "string.match('?', '%P')", "string.match('aaa', 'a-')", "string.match('aaa', 'a-$')",
    "string.match('aaab', 'a*')", "string.match('aaab', 'a+b')", "string.match('b', 'a?b')", "string.match('ab', 'a?b')",
    "string.match('*a', '*a')", "string.match('+', '+')", "string.match('a-', 'a%-')", "string.match('(', '%(')",
    /* gmatch: init (5.4), empty matches, anchors, position captures */
    "(function() local t = {} for w in string.gmatch('one two  three', '%a+') do t[#t + 1] = w end return table.concat(t, ',') end)()",
    "(function() local t = {} for w in string.gmatch('abc', '') do t[#t + 1] = '[' .. w .. ']' end return table.concat(t) end)()",
    "(function() local t = {} for w in string.gmatch('abc', '%a*') do t[#t + 1] = '[' .. w .. ']' end return table.concat(t) end)()",
    "(function() local t = {} for w in string.gmatch('a,,b,', '[^,]*') do t[#t + 1] = '[' .. w .. ']' end return table.concat(t) end)()",
    "(function() local t = {} for a, b in string.gmatch('abc', '()(.)') do t[#t + 1] = a .. b end return table.concat(t, ',') end)()",
    "(function() local t = {} for w in string.gmatch('abcabc', 'b', 3) do t[#t + 1] = w end return #t end)()",
    "(function() local t = {} for p in string.gmatch('abcabc', '()b', -3) do t[#t + 1] = p end return table.concat(t, ',') end)()",
    "(function() local t = {} for w in string.gmatch('abc', '', 10) do t[#t + 1] = '[' .. w .. ']' end return table.concat(t) end)()",
    "(function() local t = {} for w in string.gmatch('abc', '()', 4) do t[#t + 1] = w end return table.concat(t, ',') end)()",
    "(function() local t = {} for w in string.gmatch('^a^a', '^a') do t[#t + 1] = w end return table.concat(t, ',') end)()",
    "(function() local t = {} for w in string.gmatch('aaa', '^a') do t[#t + 1] = w end return #t end)()",
    "(function() local it = string.gmatch('ab', '.') return it(), it(), select('#', it()), select('#', it()) end)()",
    /* gsub: n, %0 %1 %%, table and function replacements, zero-length matches */
    "string.gsub('abc', '', '-')", "string.gsub('abc', '%w*', '-')", "string.gsub('', '', 'x')", "string.gsub('', 'a', 'x')",
    "string.gsub('a,,b', ',*', '|')", "string.gsub('abc', '^', '>')", "string.gsub('abc', '$', '<')", "string.gsub('abc', '^%w', 'X')",
    "string.gsub('hello world', '(o)', '%1%1', 1)", "string.gsub('hello world', 'o', 'O', 0)", "string.gsub('hello world', 'o', 'O', -1)",
    "string.gsub('hello world', 'o', 'O', 2.0)", "string.gsub('abc', '%w', '%0%0')", "string.gsub('abc', '%w', '%1')",
    "string.gsub('abc', '%w', '%%%0%%')", "string.gsub('hello world', '(%w+) (%w+)', '%2 %1')", "string.gsub('abc', '()b', '%1')",
    "string.gsub('abc', '(b)()', '%2%1')", "string.gsub('abc', 'b', 12)", "string.gsub('abc', 'b', 1.5)",
    "string.gsub('abc', '%w', {a = 1, b = false, c = 'C'})", "string.gsub('abc', '(%w)()', {a = 'x'})",
    "string.gsub('abc', '()%w', {[1] = 'one', [3] = 3})",
    "string.gsub('abc', '%w', function(c) if c == 'b' then return nil end return c:upper() end)",
    "string.gsub('a=1, b=2', '(%w+)=(%w+)', function(k, v) return v .. '=' .. k end)",
    "string.gsub('abc', '', function(...) return '<' .. select('#', ...) .. '>' end)",
    "string.gsub('abc', '()', function(p) return p end)",
    "string.gsub(12345, 3, 'x')", "string.find(12345, 34)", "string.match(1.5, '%d')",
    /* errors: malformed patterns, bad replacements, bad arguments */
    "string.find('a', '%')", "string.find('a', 'a%')", "string.find('a', '[a')", "string.find('a', '[')", "string.find('a', '[^')",
    "string.find('a', '[]')", "string.find('a', '[^]')", "string.find('a', '[%')", "string.find('a', '[a%]')", "string.find('a', '(a')",
    "string.find('a', 'a)')", "string.find('a', '()a)')", "string.find('a', '%1')", "string.find('a', '%0')", "string.find('a', '(a)%2')",
    "string.find('a', '(a%1)')", "string.find('a', '%b')", "string.find('a', '%ba')", "string.find('', '%bab')", "string.find('a', '%f')",
    "string.find('a', '%fa')", "string.find('a', '%f[a')", "string.match('a', '(()')", "string.match('a', '((a)')",
    "string.gmatch('a', '(')()", "string.gsub('a', '(', 'x')",
    "string.find(('a'):rep(40), ('(a)'):rep(32))", "string.find(('a'):rep(40), ('(a)'):rep(33))",
    "string.find(('a'):rep(250), ('a?'):rep(198))", "string.find(('a'):rep(250), ('a?'):rep(199))",
    "string.find(('a'):rep(250), ('a?'):rep(200))", "string.find(('a'):rep(250), ('a?'):rep(250))",
    "string.find(('a'):rep(250), ('(a)'):rep(31) .. ('a?'):rep(200))", "string.match(('x'):rep(300), ('x*'):rep(300))",
    "string.gsub('abc', '%w', '%')", "string.gsub('abc', '%w', '%x')", "string.gsub('abc', '%w', '%2')", "string.gsub('abc', '(%w)', '%3')",
    "string.gsub('abc', '%w', {a = true})", "string.gsub('abc', '%w', {a = {}})", "string.gsub('abc', '%w', function() return print end)",
    "string.gsub('abc', '%w')", "string.gsub('abc', '%w', true)", "string.gsub('abc', '%w', 'x', 'n')", "string.gsub('abc', '%w', 'x', 1.5)",
    "string.find('abc', 'b', 1.5)", "string.find(nil, 'a')", "string.find('a')", "string.match({}, 'a')", "string.gmatch('abc', 'b', 'x')",
    "string.gmatch('abc')", "string.find('abc', 'b', '2')", "string.find('abc', 'b', math.mininteger)", "string.find('abc', 'b', math.maxinteger)",
    "string.find('abc', '(b)', 2, true)", "string.find('ab(c', '(', 1, true)",
};

static void test_edge_cases(void)
{
    char got_native[4096], got_counted[4096], src[600];
    int differ = 0;
    size_t n = sizeof edge_cases / sizeof *edge_cases;
    for (size_t i = 0; i < n; i++) {
        snprintf(src, sizeof src, "return SER(pcall(function() return %s end))", edge_cases[i]);
        const char *res[2];
        lua_State *states[2] = { native, counted };
        for (int k = 0; k < 2; k++) {
            char *out = k ? got_counted : got_native;
            if (luaL_dostring(states[k], src) != LUA_OK) snprintf(out, 4096, "chunk failed: %s", lua_tostring(states[k], -1));
            else snprintf(out, 4096, "%s", lua_tostring(states[k], -1));
            lua_settop(states[k], 0);
            res[k] = out;
        }
        if (strcmp(res[0], res[1]) != 0) {
            differ++;
            CHECK(0, "edge case %s: native and counted agree", edge_cases[i]);
            printf("    native:  %.400s\n    counted: %.400s\n", res[0], res[1]);
        }
    }
    CHECK(differ == 0, "%zu hand-picked cases (errors with their messages): native and counted answer the same", n);
}

/* --- random cases --- */

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static unsigned rnd(unsigned n)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (unsigned)(rng_state % n);
}

static void put(char *buf, size_t cap, size_t *len, const char *piece)
{
    size_t n = strlen(piece);
    if (*len + n < cap) {
        memcpy(buf + *len, piece, n);
        *len += n;
    }
}

static const char *const atoms[] = {
    "a", "a", "b", "b", "c", "A", "1", " ", "x", ".", ".", "%a", "%d", "%s", "%w", "%l", "%u", "%p", "%x", "%c", "%g",
    "%A", "%D", "%S", "%W", "%z", "%.", "%%", "%(", "%)", "%-", "%]", "%^", "%$", "[ab]", "[^a]", "[a-c]", "[%d%s]", "[]a]",
    "[^]a]", "[a-]", "[%a-]", "[-a]", "[.%]]", "[^%w]", "[b-a]", "[%(%)]", "[\\0a]",
};
static const char *const specials[] = {
    "%b()", "%bab", "%baa", "%f[%a]", "%f[%A]", "%f[a]", "%f[^a]", "%f[%s]", "%f[%z]", "%1", "%1", "%2", "()", "$", "^", "*", "-",
};
static const char *const malformed[] = { "%", "[a", "(", ")", "%b", "%f", "%3", "[^", "%fa", "%0" };
static const char *const quantifiers[] = { "", "", "", "*", "+", "-", "?" };

static void gen_seq(char *buf, size_t cap, size_t *len, int depth)
{
    unsigned items = rnd(depth ? 4 : 6);
    for (unsigned i = 0; i < items; i++) {
        unsigned pick = rnd(100);
        if (pick < 60) {
            put(buf, cap, len, atoms[rnd(sizeof atoms / sizeof *atoms)]);
            put(buf, cap, len, quantifiers[rnd(sizeof quantifiers / sizeof *quantifiers)]);
        } else if (pick < 78) {
            put(buf, cap, len, specials[rnd(sizeof specials / sizeof *specials)]);
        } else if (pick < 96 && depth < 3) {
            put(buf, cap, len, "(");
            gen_seq(buf, cap, len, depth + 1);
            put(buf, cap, len, ")");
            if (rnd(6) == 0) put(buf, cap, len, quantifiers[rnd(sizeof quantifiers / sizeof *quantifiers)]);
        } else if (pick >= 98) {
            put(buf, cap, len, malformed[rnd(sizeof malformed / sizeof *malformed)]);
        }
    }
}

static size_t gen_pattern(char *buf, size_t cap)
{
    size_t len = 0;
    if (rnd(10) < 3) put(buf, cap, &len, "^");
    gen_seq(buf, cap, &len, 0);
    if (rnd(4) == 0) put(buf, cap, &len, "$");
    buf[len] = 0;
    /* "[\\0a]" stands for a set holding a NUL byte */
    for (size_t i = 0; i + 1 < len; i++)
        if (buf[i] == '\\' && buf[i + 1] == '0') {
            buf[i] = '\0';
            memmove(buf + i + 1, buf + i + 2, len - i - 1);
            len--;
        }
    return len;
}

static size_t gen_subject(char *buf, size_t cap)
{
    static const char alphabet[] = "aaabbbc()A1 .%-xx\0\344]";
    size_t len = rnd(5) ? rnd(13) : rnd(41);
    if (len >= cap) len = cap - 1;
    for (size_t i = 0; i < len; i++) buf[i] = alphabet[rnd(sizeof alphabet - 1)];
    buf[len] = 0;
    return len;
}

static void test_random_cases(void)
{
    static const char *const repl_texts[] = { "x", "", "%0", "%1", "<%1|%2>", "%%", "%0%0", "%", "%9", "%a", "-%1-" };
    static const char *const fnames[] = { "find", "match", "gmatch", "gsub" };
    char pat[256], subj[48], got_native[8192], got_counted[8192];
    int cases = 0, agree_ok = 0, agree_err = 0, same_message = 0, differ = 0, matched = 0;
    /* FOURSCORE_PATTERN_ROUNDS and _SEED run a longer or another corpus by hand */
    const char *env_rounds = getenv("FOURSCORE_PATTERN_ROUNDS"), *env_seed = getenv("FOURSCORE_PATTERN_SEED");
    int rounds = env_rounds && atoi(env_rounds) > 0 ? atoi(env_rounds) : 4000;
    if (env_seed && strtoull(env_seed, NULL, 10) != 0) rng_state = strtoull(env_seed, NULL, 10);
    for (int round = 0; round < rounds; round++) {
        probe_args a = { 0 };
        a.lp = gen_pattern(pat, sizeof pat);
        a.ls = gen_subject(subj, sizeof subj);
        a.p = pat;
        a.s = subj;
        for (int f = 0; f < 4; f++) {
            a.fname = fnames[f];
            a.has3 = rnd(3) == 0;
            a.a3 = (lua_Integer)rnd(31) - 15;
            a.has4 = f == 0 && rnd(6) == 0;
            a.a4 = (int)rnd(3) != 0;
            if (f == 3) {
                a.has3 = rnd(4) == 0;
                a.a3 = (lua_Integer)rnd(5) - 1;
                a.rkind = "ssssntff"[rnd(8)];
                a.rtext = repl_texts[rnd(sizeof repl_texts / sizeof *repl_texts)];
            }
            cases++;
            int ok_n = probe_run(native, &a, got_native, sizeof got_native);
            int ok_c = probe_run(counted, &a, got_counted, sizeof got_counted);
            bool same = ok_n >= 0 && ok_n == ok_c && (ok_n == 0 || strcmp(got_native, got_counted) == 0);
            if (same && ok_n) {
                agree_ok++;
                bool miss = f < 2 ? strstr(got_native, "true nil") != NULL
                          : f == 2 ? strncmp(got_native, "2 true \"0\"", 11) == 0 : strstr(got_native, "integer:0 |") != NULL;
                if (!miss) matched++;
            } else if (same) {
                agree_err++;
                if (strcmp(got_native, got_counted) == 0) same_message++;
                else if (agree_err - same_message <= 5) printf("    message differs:\n      native:  %.300s\n      counted: %.300s\n", got_native, got_counted);
            } else {
                differ++;
                if (differ <= 12) {
                    char ps[600], ss[200];
                    show_bytes(ps, sizeof ps, pat, a.lp);
                    show_bytes(ss, sizeof ss, subj, a.ls);
                    printf("    differ: %s(\"%s\", \"%s\"%s%lld%s%s) repl %c \"%s\"\n      native:  %.300s\n      counted: %.300s\n",
                           a.fname, ss, ps, a.has3 ? ", " : "", a.has3 ? (long long)a.a3 : 0LL,
                           a.has4 ? ", " : "", a.has4 ? (a.a4 ? "true" : "false") : "", a.rkind ? a.rkind : '-',
                           a.rtext ? a.rtext : "", got_native, got_counted);
                }
            }
        }
    }
    printf("    %d random probes: %d agree with results (%d with a match), %d error in both (%d with the same message), %d differ\n",
           cases, agree_ok, matched, agree_err, same_message, differ);
    CHECK(differ == 0, "%d random probes of find/match/gmatch/gsub: native and counted agree (%d differ)", cases, differ);
    CHECK(same_message == agree_err, "where both fail, with the same message (%d of %d)", same_message, agree_err);
    CHECK(agree_ok > cases / 2 && agree_err > 100 && matched > cases / 4,
          "the corpus has matches, misses and errors (%d ok, %d with a match, %d errors)", agree_ok, matched, agree_err);
}

/* --- the meter --- */

static double ms_since(const struct timespec *t0)
{
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (double)(t1.tv_sec - t0->tv_sec) * 1000.0 + (double)(t1.tv_nsec - t0->tv_nsec) / 1e6;
}

/* Runs src in the counted state; returns its error message, or NULL when it
 * succeeded (the text of its first result into out). */
static const char *run_counted(const char *src, char *out, size_t cap)
{
    out[0] = 0;
    int rc = luaL_dostring(counted, src);
    const char *v = lua_tostring(counted, -1);
    snprintf(out, cap, "%s", v ? v : "");
    lua_settop(counted, 0);
    return rc == LUA_OK ? NULL : out;
}

static void test_counting(void)
{
    char out[512];
    meter.limit = 1ULL << 62;
    unsigned long long t0 = meter.total;
    unsigned long c0 = meter.calls;
    CHECK(run_counted("return string.find('abc', 'b')", out, sizeof out) == NULL && meter.calls == c0 + 1 && meter.total > t0,
          "a small find charges once, at its end (%lu calls, %llu steps)", meter.calls - c0, meter.total - t0);

    t0 = meter.total;
    run_counted("return string.find(('a'):rep(100000), '[b]')", out, sizeof out);
    unsigned long long steps = meter.total - t0;
    CHECK(steps >= 100000 && steps < 1000000, "a miss over 100 000 start positions: %llu steps, one or a few per position", steps);

    t0 = meter.total;
    meter.largest = 0;
    run_counted("return string.find(('a'):rep(1000000), 'b', 1, true)", out, sizeof out);
    steps = meter.total - t0;
    CHECK(steps >= 1000000 && steps < 1100000, "a plain find counts the bytes it searches (%llu for 1 000 000)", steps);
    CHECK(meter.largest <= 65536, "and hands them over in windows of 64 KiB (largest %llu)", meter.largest);

    t0 = meter.total;
    run_counted("return string.find(('a'):rep(2000), '.-b')", out, sizeof out);
    steps = meter.total - t0;
    CHECK(steps >= 2000000, "'.-b' on 2000 'a's is quadratic, and so is its count (%llu steps)", steps);

    t0 = meter.total;
    run_counted("return (string.gsub(('ab'):rep(1000), '(a)(b)', '%2%1%0'))", out, sizeof out);
    steps = meter.total - t0;
    CHECK(steps >= 4000, "gsub counts positions and the replacement text it adds (%llu steps)", steps);

    t0 = meter.total;
    run_counted("local s = ('x'):rep(50000) return string.find(s .. s, '^(.*)%1$')", out, sizeof out);
    steps = meter.total - t0;
    CHECK(steps >= 50000, "a back-reference counts the bytes it compares (%llu steps)", steps);
}

static void test_bombs(void)
{
    static const char *const bombs[] = {
        "string.find(('a'):rep(27), '^' .. ('a?'):rep(27) .. ('a'):rep(27) .. '$')",
        "string.match(('a'):rep(27), '^' .. ('a?'):rep(27) .. ('a'):rep(27) .. '$')",
        "for m in string.gmatch(('a'):rep(27), ('a?'):rep(27) .. ('a'):rep(27) .. 'b') do end",
        "string.gsub(('a'):rep(27), ('a?'):rep(27) .. ('a'):rep(27) .. 'b', 'x')",
        "string.find(('a'):rep(5000), 'a*a*a*a*b')",
        "string.find(('a'):rep(20000), 'a-b')",
        "string.find(('a'):rep(50000), '.' .. ('a'):rep(20000) .. 'b')",
        "string.find(('('):rep(60000), '%b()')",
        "string.find(('a'):rep(30000), '.-%f[%d]')",
        "string.find(('a'):rep(4000), '(a*)%1b')",
        "string.find(('a'):rep(30), '^((((a?)a?)a?)a?)' .. ('a?'):rep(26) .. ('a'):rep(30) .. '$')",
    };
    char src[600], out[512];
    for (size_t i = 0; i < sizeof bombs / sizeof *bombs; i++) {
        meter.limit = meter.total + 2000000;
        meter.largest = 0;
        snprintf(src, sizeof src, "%s return 'finished'", bombs[i]);
        struct timespec t0;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        const char *err = run_counted(src, out, sizeof out);
        double ms = ms_since(&t0);
        CHECK(err && strstr(err, "meter: string."), "%s: the meter stops it (%s)", bombs[i], out);
        CHECK(ms < 1500, "%s: within %.0f ms of 2 000 000 steps", bombs[i], ms);
        CHECK(meter.largest <= 2 * SCPAT_CHECK_STEPS, "%s: charged in slices of at most %d steps (largest %llu)", bombs[i],
              2 * SCPAT_CHECK_STEPS, meter.largest);
    }
    meter.limit = 1ULL << 62;
    CHECK(run_counted("return string.find(('a'):rep(27), ('a'):rep(27))", out, sizeof out) == NULL,
          "after a stop the state keeps working");
}

int main(void)
{
    native = state_new(false);
    counted = state_new(true);
    CHECK(native && counted, "two Lua states, native and counted");
    if (!native || !counted) return check_done();
    test_edge_cases();
    test_random_cases();
    test_counting();
    test_bombs();
    lua_close(native);
    lua_close(counted);
    return check_done();
}
