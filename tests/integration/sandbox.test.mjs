// sandbox: hostile scorecards against the real server (docs/security.md,
// "The scorecard sandbox"). Every script here once crashed or hung the
// server, or is a variant of one that did: metamethods on every level of
// the result, pattern bombs of every backtracking construct, answers
// amplified through shared strings and tables, budget stops inside
// metamethods and tostring, pcall trying to swallow them, work done inside
// C (string.rep, table.sort). Each must end in a clean 422 within its budget
// (loosely: budget + 2 s), and the server must stay healthy: health 200 and
// a normal scorecard still ranks correctly, also when an executive runs a
// manager's saved hostile scorecard.
//
// The server runs with FOURSCORE_LUA_SECONDS=1.5 and an instruction budget
// too large to matter, so that the wall clock is what stops the bombs: the
// hardest bound to keep, since the hook never runs inside C.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startServer, fixtures } from './lib.mjs';

const PASSWORD = 'sandbox-pass-1';
const MARCH = 'from=2024-03-01&to=2024-03-31';
const SECONDS = 1.5;
const BOUND_MS = (SECONDS + 2) * 1000;

let s, admin, rm, exec;

before(async () => {
  s = await startServer({ env: { FOURSCORE_LUA_INSTRUCTIONS: '1000000000000', FOURSCORE_LUA_SECONDS: String(SECONDS) } });
  admin = await s.adminCookie();
  for (const entity of ['regions', 'stores']) {
    const out = await s.cli(['import', entity, join(fixtures, 'kpi', `${entity}.csv`)]);
    assert.equal(out.code, 0, `import ${entity}: ${out.stderr}`);
  }
  const mk = async (body) => {
    const r = await s.request('POST', '/api/v1/users', { cookie: admin, body: { password: PASSWORD, ...body } });
    assert.equal(r.status, 201, `create ${body.username}: ${r.text}`);
  };
  await mk({ username: 'rm_south', role: 'regional_manager', regions: ['SOUTH'] });
  await mk({ username: 'exec1', role: 'executive' });
  rm = await s.login('rm_south', PASSWORD);
  exec = await s.login('exec1', PASSWORD);
});

after(async () => {
  if (!s) return;
  const res = await s.stop();
  assert.doesNotMatch(s.stderr(), /Sanitizer|runtime error/, s.stderr().slice(-4000));
  assert.equal(res.code, 0, 'the server exits 0');
});

function tryLua(cookie, source) {
  return s.request('POST', `/api/v1/scorecards/run?${MARCH}`, { cookie, body: source, contentType: 'text/x-lua' });
}

// A normal scorecard: score = 10 * (position of the code in the sorted list),
// so SOUTH's manager gets S2 (20) rank 1, S1 (10) rank 2.
const NORMAL = "local codes = {}\nfor _, st in ipairs(stores()) do codes[#codes + 1] = st.code end\ntable.sort(codes)\n" +
  "local rows = {}\nfor i, c in ipairs(codes) do rows[i] = {store = c, score = 10 * i, grade = c:match('^%u') } end\nreturn rows";

async function healthy(what) {
  const h = await s.request('GET', '/api/v1/health');
  assert.equal(h.status, 200, `${what}: health after it`);
  const r = await tryLua(rm, NORMAL);
  assert.equal(r.status, 200, `${what}: a normal scorecard after it: ${r.text}`);
  assert.deepEqual(r.json.rows.map((x) => [x.store, x.score, x.rank, x.grade]), [['S2', 20, 1, 'S'], ['S1', 10, 2, 'S']],
    `${what}: and it ranks as before`);
}

// Run src as rm (or cookie), expecting 422 code within BOUND_MS; returns the answer.
async function expect422(what, src, code, cookie = rm) {
  const t0 = Date.now();
  const r = await tryLua(cookie, src);
  const ms = Date.now() - t0;
  assert.equal(r.status, 422, `${what}: ${r.status} ${r.text.slice(0, 300)}`);
  assert.equal(r.json.error.code, code, `${what}: ${r.json.error.message}`);
  assert.ok(ms < BOUND_MS, `${what}: answered in ${ms} ms, more than ${BOUND_MS}`);
  return r;
}

function rssKiB() {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${s.proc.pid}/status`, 'utf8'));
  return Number(m[1]);
}

// --- 1. the result: metamethods never run, never reach the ranking ---

test('a row answering store and score through __index (once a crash) is 422 naming the row', async () => {
  const src = 'local mine = stores()[1].code\n' +
    'return { setmetatable({}, {__index=function(t,k) if k=="store" then return mine end if k=="score" then return 1 end end}) }';
  const r = await expect422('the crash', src, 'bad_row');
  assert.deepEqual(r.json.error.details, [{ row: 1 }]);
  assert.match(r.json.error.message, /^try: row 1: .*metatable/);
  await healthy('the crash');
});

test('metamethods on the row, on items, on an item, on the result: refused, naming the row', async () => {
  const metamethods = [
    '__index = function(t, k) if k == "store" then return "S1" end if k == "score" then return 5 end end',
    '__index = function() while true do end end',
    '__newindex = function() while true do end end',
    '__len = function() while true do end end',
    '__pairs = function() while true do end end',
    '__tostring = function() while true do end end',
    '__eq = function() return true end',
    '__lt = function() while true do end end',
    '__metatable = "locked"',
  ];
  const ok = "{store = 'S1', score = 1}";
  for (const mm of metamethods) {
    const cases = [
      [`the row with ${mm}`, `return { ${ok}, setmetatable({store = 'S2', score = 2}, {${mm}}) }`, 'bad_row', 2],
      [`an empty row with ${mm}`, `return { ${ok}, setmetatable({}, {${mm}}) }`, 'bad_row', 2],
      [`items with ${mm}`, `return { ${ok}, {store = 'S2', score = 2, items = setmetatable({{kpi = 'a'}}, {${mm}})} }`, 'bad_row', 2],
      [`an item with ${mm}`, `return { ${ok}, {store = 'S2', score = 2, items = {{kpi = 'a'}, setmetatable({kpi = 'b'}, {${mm}})}} }`, 'bad_row', 2],
      [`the result with ${mm}`, `return setmetatable({ ${ok} }, {${mm}})`, 'bad_result', 0],
    ];
    for (const [what, src, code, row] of cases) {
      const r = await expect422(what, src, code);
      assert.match(r.json.error.message, /metatable/, what);
      if (row) assert.deepEqual(r.json.error.details, [{ row }], what);
    }
  }
  // the scope check sees what is answered: a store with a NUL byte, a key
  // with one (which would duplicate "store" in the JSON)
  let r = await expect422('a store with a NUL byte', "return { {store = 'S1\\0N1', score = 1} }", 'bad_row');
  assert.match(r.json.error.message, /NUL/);
  r = await expect422('a key with a NUL byte', "return { {store = 'S1', score = 1, ['store\\0x'] = 'N1'} }", 'bad_row');
  assert.match(r.json.error.message, /NUL/);
  r = await expect422('a score that is NaN', "return { {store = 'S1', score = 0/0} }", 'bad_row');
  assert.match(r.json.error.message, /'score' must be a number/);
  r = await expect422('an out-of-scope store behind a plain row', "return { {store = 'S1', score = 1}, {store = 'N1', score = 2} }", 'store_out_of_scope');
  assert.deepEqual(r.json.error.details, [{ row: 2 }]);
  await healthy('metamethods');
});

// --- 2. pattern bombs: every construct, every function ---

test('pattern bombs of every backtracking construct end on the deadline', async () => {
  const bombs = [
    "string.find(('a'):rep(27), '^' .. ('a?'):rep(27) .. ('a'):rep(27) .. '$')",
    "string.match(('a'):rep(27), '^' .. ('a?'):rep(27) .. ('a'):rep(27) .. '$')",
    "for m in string.gmatch(('a'):rep(27), ('a?'):rep(27) .. ('a'):rep(27) .. 'b') do end",
    "string.gsub(('a'):rep(27), ('a?'):rep(27) .. ('a'):rep(27) .. 'b', 'x')",
    "string.find(('a'):rep(5000), 'a*a*a*a*b')",
    "string.find(('a'):rep(200000), 'a-b')",
    "string.match(('a'):rep(5000), 'a+a+a+b')",
    "string.find(('a'):rep(30), '^' .. ('(a?)'):rep(30) .. ('a'):rep(30) .. '$')",
    "string.find(('('):rep(100000), '%b()')",
    "for m in string.gmatch(('('):rep(100000), '%b()') do end",
    "string.find(('a'):rep(100000), '.-%f[%d]')",
    "string.gsub(('a'):rep(100000), '.-%f[%d]', '')",
    "string.find(('a'):rep(40000), '(a*)%1b')",
    "string.match(('a'):rep(40000), '(a*)%1b')",
    "local h, n = ('a'):rep(8 << 20), ('a'):rep(300) .. 'b' while true do h:find(n, 1, true) end",
    "while true do pcall(string.find, ('a'):rep(27), ('a?'):rep(27) .. ('a'):rep(27) .. 'b') end",
  ];
  for (const b of bombs) {
    const r = await expect422(b, `${b}\nreturn {}`, 'budget_exceeded');
    assert.equal(r.json.error.details[0].budget, 'time', b);
    assert.ok(!/^\s*$/.test(r.json.error.message), b);
  }
  const r = await tryLua(rm, "string.find(('a'):rep(27), '^' .. ('a?'):rep(27) .. ('a'):rep(27) .. '$')\nreturn {}");
  assert.match(r.json.error.message, /time budget in string\.find/, 'the message names the function');
  await healthy('pattern bombs');
});

// --- 3. the answer's size ---

test('one 4 MiB text referenced 40 times: 422 budget_exceeded, nothing built past the bound', async () => {
  const before = rssKiB();
  const t0 = Date.now();
  const r = await expect422('4 MiB x 40',
    "local s = string.rep('x', 4 << 20) local items = {}\nfor i = 1, 40 do items[i] = s end\n" +
    "return { {store = stores()[1].code, score = 1, items = items} }", 'budget_exceeded');
  assert.equal(r.json.error.details[0].budget, 'result');
  assert.equal(r.json.error.details[0].limit_bytes, 8 << 20);
  assert.match(r.json.error.message, /too large.*8\.0 MiB.*fewer rows/);
  assert.ok(r.body.length < 2000, 'the error itself is small');
  const grown = (rssKiB() - before) / 1024;
  // before the fix: a 168 MB answer and +330 MB of RSS
  assert.ok(grown < 120, `server RSS grew ${grown.toFixed(0)} MiB (${Date.now() - t0} ms)`);
  await healthy('4 MiB x 40');
});

test('amplification through nested tables and many rows is bounded too', async () => {
  let r = await expect422('1M numbers through shared tables',
    'local t = {} for i = 1, 100 do t[i] = i + 0.5 end\nlocal l2 = {} for i = 1, 100 do l2[i] = t end\n' +
    "local l3 = {} for i = 1, 100 do l3[i] = l2 end\nreturn { {store = 'S1', score = 1, items = l3} }", 'budget_exceeded');
  assert.ok(['result', 'memory'].includes(r.json.error.details[0].budget), r.text);
  r = await expect422('a shared 1 MiB grade in rows of two stores, and many fields',
    "local g = string.rep('A', 1 << 20) local row = {store = 'S1', score = 1}\n" +
    "for i = 1, 20 do row['f' .. i] = g end return { row, {store = 'S2', score = 2, grade = g} }", 'budget_exceeded');
  assert.equal(r.json.error.details[0].budget, 'result');
  // a large answer under the bound is answered whole
  r = await tryLua(rm, "local g = string.rep('B', 1 << 20)\nreturn { {store = 'S1', score = 1, grade = g}, {store = 'S2', score = 2, grade = g} }");
  assert.equal(r.status, 200, r.text.slice(0, 300));
  assert.deepEqual(r.json.rows.map((x) => [x.store, x.rank, x.grade.length]), [['S2', 1, 1 << 20], ['S1', 2, 1 << 20]]);
  assert.ok(r.body.length < 8 << 20 && r.body.length > 2 << 20, `the answer is ${r.body.length} bytes`);
  await healthy('amplification');
});

// --- 4. budget stops inside metamethods, tostring, pcall, C ---

test('budget stops inside metamethods, tostring and C work; pcall cannot swallow them', async () => {
  const cases = [
    ['__index', 'local t = setmetatable({}, {__index = function() while true do end end}) local x = t.a'],
    ['__eq', 'local mt = {__eq = function() while true do end end} local x = setmetatable({}, mt) == setmetatable({}, mt)'],
    ['__concat', "local x = setmetatable({}, {__concat = function() while true do end end}) .. 'x'"],
    ['tostring', 'local x = tostring(setmetatable({}, {__tostring = function() while true do end end}))'],
    ['log', 'log(setmetatable({}, {__tostring = function() while true do end end}))'],
    ['string.format %s', "local x = string.format('%s', setmetatable({}, {__tostring = function() while true do end end}))"],
    ['pcall around tostring', 'while true do pcall(tostring, setmetatable({}, {__tostring = function() while true do end end})) end'],
    ['pcall(pcall(pcall))', 'local function f() while true do end end while true do pcall(pcall, pcall, f) end'],
    ['__close', 'do local x <close> = setmetatable({}, {__close = function() while true do end end}) end'],
    ['table.sort of many references to one long text', "local a = ('x'):rep(1 << 20) local t = {} for i = 1, 10000 do t[i] = a end table.sort(t)"],
    ['table.insert at the front of a long list', 'local t = {} for i = 1, 1e6 do t[i] = i end while true do table.insert(t, 1, 0) table.remove(t, 1) end'],
    ['comparing two long texts', "local a = ('x'):rep(8 << 20) local b = a:sub(1, -2) .. 'x' while true do local x = a < b end"],
    ['string.upper of a long text', "local s = ('x'):rep(8 << 20) while true do local u = s:upper() end"],
  ];
  for (const [what, src] of cases) {
    const r = await expect422(what, `${src}\nreturn {}`, 'budget_exceeded');
    assert.equal(r.json.error.details[0].budget, 'time', what);
  }
  const mem = [
    ['string.rep of 1e9', "local s = string.rep('x', 1e9)"],
    ['string.rep with a separator', "local s = string.rep('ab', 1e8, ',')"],
    ['doubling a text inside pcall', "local s = 'x' for i = 1, 100 do pcall(function() s = s .. s end) end"],
    ['a __tostring making a huge text', "local x = tostring(setmetatable({}, {__tostring = function() return ('x'):rep(1e9) end}))"],
  ];
  for (const [what, src] of mem) {
    const r = await expect422(what, `${src}\nreturn {}`, 'budget_exceeded');
    assert.equal(r.json.error.details[0].budget, 'memory', what);
  }
  const t0 = Date.now();
  const r = await tryLua(rm, "if string.rep('', 2^62) ~= '' then error('rep') end\nreturn {}");
  assert.equal(r.status, 200, `string.rep('', 2^62) is answered at once: ${r.text}`);
  assert.ok(Date.now() - t0 < 1000);
  await healthy('budget stops');
});

// --- 5. saved hostile scorecards run by an executive ---

test('an executive running a manager\'s saved hostile scorecards gets 422s and the server keeps serving', async () => {
  const saved = {
    hostile_rows: ['local mine = stores()[1].code\n' +
      'return { setmetatable({}, {__index=function(t,k) if k=="store" then return mine end if k=="score" then return 1 end end}) }', 'bad_row'],
    hostile_loop_index: ["return { {store = 'S1', score = 1}, setmetatable({}, {__index = function() while true do end end}) }", 'bad_row'],
    hostile_pattern: ["string.find(('a'):rep(27), '^' .. ('a?'):rep(27) .. ('a'):rep(27) .. '$')\nreturn {}", 'budget_exceeded'],
    hostile_size: ["local s = string.rep('x', 4 << 20) local items = {}\nfor i = 1, 40 do items[i] = s end\n" +
      'return { {store = stores()[1].code, score = 1, items = items} }', 'budget_exceeded'],
    hostile_sort: ["local a = ('x'):rep(1 << 20) local t = {} for i = 1, 10000 do t[i] = a end table.sort(t)\nreturn {}", 'budget_exceeded'],
  };
  for (const [name, [src]] of Object.entries(saved)) {
    const r = await s.request('PUT', `/api/v1/scorecards/${name}`, { cookie: rm, body: src, contentType: 'text/x-lua' });
    assert.equal(r.status, 201, `${name}: ${r.text}`);
  }
  for (const [name, [, code]] of Object.entries(saved)) {
    for (const [who, cookie] of [['exec1', exec], ['rm_south', rm]]) {
      const t0 = Date.now();
      const r = await s.request('POST', `/api/v1/scorecards/${name}/run?${MARCH}`, { cookie });
      assert.equal(r.status, 422, `${who} runs ${name}: ${r.text.slice(0, 300)}`);
      assert.equal(r.json.error.code, code, `${who} runs ${name}: ${r.json.error.message}`);
      assert.ok(Date.now() - t0 < BOUND_MS, `${who} runs ${name} in ${Date.now() - t0} ms`);
      assert.equal((await s.request('GET', '/api/v1/health')).status, 200, `health after ${who} runs ${name}`);
    }
  }
  // a normal saved scorecard, run by the executive with every store
  let r = await s.request('PUT', '/api/v1/scorecards/normal_card', { cookie: rm, body: NORMAL, contentType: 'text/x-lua' });
  assert.equal(r.status, 201, r.text);
  r = await s.request('POST', `/api/v1/scorecards/normal_card/run?${MARCH}`, { cookie: exec });
  assert.equal(r.status, 200, r.text);
  // sorted codes N1, N2, S1, S2 score 10, 20, 30, 40
  assert.deepEqual(r.json.rows.map((x) => [x.store, x.score, x.rank]), [['S2', 40, 1], ['S1', 30, 2], ['N2', 20, 3], ['N1', 10, 4]]);
  await healthy('saved hostile scorecards');
});
