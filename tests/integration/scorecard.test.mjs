// scorecard: Lua scorecards end to end against the real server (docs/api.md,
// "Lua scorecards" and the scorecard routes). The KPI fixture
// (tests/fixtures/kpi/: stores S1, S2 in region SOUTH, N1, N2 in NORTH) is
// loaded through the real importer; a regional manager of SOUTH, a second
// one of NORTH and an executive are made through the users API.
//
// Covered: every API function (period, stores, kpi with opts, customers,
// target, log), scope (a regional manager never sees NORTH, whatever opts
// say), sorting and ranks (1, 2, 2, 4), row checks, Lua errors with their
// line, budgets over HTTP with the server still serving, escapes, storage
// (PUT/GET/list/DELETE/restore, versions, rights, audit), the shipped
// scorecards with their expected rankings, and `fourscore scorecard run`.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startServer, fixtures, root, tempDir } from './lib.mjs';

const PASSWORD = 'scorecard-pass-1';
const ENTITIES = ['regions', 'stores', 'insurers', 'staff', 'customers', 'vehicle_sales', 'repair_orders',
  'ro_labour', 'ro_parts', 'parts_stock', 'insurance_policies', 'invoices', 'payments', 'store_financials',
  'follow_up_calls', 'csi_surveys', 'appointments'];
const MARCH = 'from=2024-03-01&to=2024-03-31';

let s, admin, rm, rm2, exec, sm;

before(async () => {
  s = await startServer({ env: { FOURSCORE_LUA_INSTRUCTIONS: '5000000', FOURSCORE_LUA_SECONDS: '2' } });
  admin = await s.adminCookie();
  for (const entity of ENTITIES) {
    const out = await s.cli(['import', entity, join(fixtures, 'kpi', `${entity}.csv`)]);
    assert.equal(out.code, 0, `import ${entity}: ${out.stderr}`);
  }
  const mk = async (body) => {
    const r = await s.request('POST', '/api/v1/users', { cookie: admin, body: { password: PASSWORD, ...body } });
    assert.equal(r.status, 201, `create ${body.username}: ${r.text}`);
  };
  await mk({ username: 'rm_south', role: 'regional_manager', regions: ['SOUTH'] });
  await mk({ username: 'rm_north', role: 'regional_manager', regions: ['NORTH'] });
  await mk({ username: 'exec1', role: 'executive' });
  await mk({ username: 'sm_s1', role: 'store_manager', store: 'S1' });
  rm = await s.login('rm_south', PASSWORD);
  rm2 = await s.login('rm_north', PASSWORD);
  exec = await s.login('exec1', PASSWORD);
  sm = await s.login('sm_s1', PASSWORD);
});

after(async () => {
  if (!s) return;
  const res = await s.stop();
  // a clean shutdown: no sanitizer report (the suite runs the sanitizer build)
  assert.doesNotMatch(s.stderr(), /Sanitizer|runtime error/, s.stderr().slice(-4000));
  assert.equal(res.code, 0, 'the server exits 0');
});

// POST /api/v1/scorecards/run (the editor's "try") with Lua source.
function tryLua(cookie, source, period = MARCH) {
  return s.request('POST', `/api/v1/scorecards/run?${period}`, { cookie, body: source, contentType: 'text/x-lua' });
}
function put(cookie, name, source) {
  return s.request('PUT', `/api/v1/scorecards/${name}`, { cookie, body: source, contentType: 'text/x-lua' });
}
// A script whose rows carry what it saw in `detail`: one row per store in scope, score 0.
const probe = (expr) => `local seen = ${expr}\nlocal rows = {}\nfor _, st in ipairs(stores()) do rows[#rows + 1] = {store = st.code, score = 0} end\nlog(seen)\nreturn rows`;
async function kpiRows(cookie, ids, by, period = MARCH) {
  const r = await s.request('GET', `/api/v1/kpi?ids=${ids}&${period}&by=${by}`, { cookie });
  assert.equal(r.status, 200, r.text);
  return r.json.rows;
}

// --- the API functions ---

test('period and stores(): the caller\'s stores only', async () => {
  const src = `local codes = {}\nfor _, st in ipairs(stores()) do codes[#codes + 1] = st.code .. '/' .. st.region .. '/' .. st.name end\n` +
    `log(period.from, period.to, table.concat(codes, ','))\nreturn {}`;
  let r = await tryLua(rm, src);
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(r.json.rows, []);
  assert.equal(r.json.log[0], '2024-03-01 2024-03-31 S1/SOUTH/广州天河丰田,S2/SOUTH/深圳福田丰田');
  r = await tryLua(admin, src);
  assert.match(r.json.log[0], /^2024-03-01 2024-03-31 N1\/NORTH\/.*,N2\/NORTH\/.*,S1\/SOUTH\/.*,S2\/SOUTH\/.*$/);
  assert.equal(typeof r.json.elapsed_ms, 'number');
});

test('kpi(): store values equal the engine\'s, scoped; by region and group fold only the caller\'s stores', async () => {
  const src = `local function dump(t) local k = {} for key, v in pairs(t) do k[#k + 1] = key .. '=' .. string.format('%.4f', v) end table.sort(k) return table.concat(k, ',') end\n` +
    `log(dump(kpi('service.revenue')))\n` +
    `log(dump(kpi('service.revenue', {by = 'region'})))\n` +
    `log(dump(kpi('service.revenue', {by = 'group'})))\n` +
    `log(dump(kpi('service.revenue', {from = '2024-03-01', to = '2024-03-15'})))\nreturn {}`;
  const fmt = (rows) => rows.filter((x) => x.values['service.revenue'] !== null)
    .map((x) => `${x.key}=${x.values['service.revenue'].toFixed(4)}`).sort().join(',');
  const r = await tryLua(rm, src);
  assert.equal(r.status, 200, r.text);
  const [byStore, byRegion, byGroup, firstHalf] = r.json.log;
  assert.equal(byStore, fmt(await kpiRows(rm, 'service.revenue', 'store')));
  assert.doesNotMatch(byStore, /N1|N2/, 'no NORTH store');
  assert.equal(byRegion, fmt(await kpiRows(rm, 'service.revenue', 'region')));
  assert.match(byRegion, /^SOUTH=[0-9.]+$/, 'only the caller\'s region');
  // by group: the sum over S1 and S2 only. Hand-worked from the fixture (March 2024,
  // closed non-internal ROs): S1 = 600 + 1250 + 2100 + 200 = 4150;
  // S2 = 300 + 1600 + 300 + 100 = 2300; group for SOUTH's manager = 6450.
  assert.equal(byGroup, 'group=6450.0000');
  const adminGroup = (await kpiRows(admin, 'service.revenue', 'group'))[0].values['service.revenue'];
  assert.equal(adminGroup, 6450 + 650, 'the admin\'s group adds N1 (650)');
  // first half of March: S1 R1 600 + R2 1250 + R3 2100 (closed 03-15); S2 R1 300
  assert.equal(firstHalf, 'S1=3950.0000,S2=300.0000');
});

test('kpi(): a regional manager asking by group gets only their region\'s figure', async () => {
  const r = await tryLua(rm2, probe(`kpi('service.revenue', {by = 'group'}).group`));
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.log[0], '650.0', 'N1 650 + N2 nothing, never the group\'s 7100');
  assert.deepEqual(r.json.rows.map((x) => x.store), ['N1', 'N2']);
});

test('kpi(): ten KPIs cost ten engine lookups (cached within a run)', async () => {
  const ids = ['service.revenue', 'service.ro_count', 'labour.share', 'labour.revenue', 'parts.revenue',
    'csi.score', 'insurance.renewal_rate', 'receivables.open', 'retention.base', 'service.comeback_rate'];
  const src = `local ids = {${ids.map((i) => `'${i}'`).join(',')}}\nfor round = 1, 5 do for _, id in ipairs(ids) do kpi(id) end end\n` +
    `local a = kpi('service.revenue') a.S1 = -1\nif kpi('service.revenue').S1 == -1 then error('cache poisoned') end\nreturn {}`;
  const r = await tryLua(admin, src);
  assert.equal(r.status, 200, r.text);
  // the server logs each run with its engine lookups: 10 distinct KPIs, 50 calls
  const tries = s.logs().split('\n').filter((l) => l.includes('try 2024-03-01..2024-03-31 by admin'));
  assert.match(tries[tries.length - 1], /: 200 \(10 KPI lookups\)/);
});

test('kpi(): an unknown id or a bad opts is a Lua error naming it, with its line', async () => {
  let r = await tryLua(rm, 'local x = 1\nreturn kpi("nope.nothing")');
  assert.equal(r.status, 422, r.text);
  assert.equal(r.json.error.code, 'script_error');
  assert.match(r.json.error.message, /nope\.nothing/);
  assert.equal(r.json.error.details[0].line, 2);
  r = await tryLua(rm, 'return kpi("service.revenue", {from = "2024-02-30"})');
  assert.equal(r.status, 422);
  assert.match(r.json.error.message, /opts\.from/);
});

test('customers(): RO revenue and visits per customer of the caller\'s stores', async () => {
  const src = `local out = {}\nfor _, c in ipairs(customers()) do out[#out + 1] = c.store .. ':' .. c.code .. ':' .. c.type .. ':' .. string.format('%.2f', c.revenue) .. ':' .. c.visits end\n` +
    `table.sort(out)\nlog(table.concat(out, ' '))\nreturn {}`;
  const r = await tryLua(rm, src);
  assert.equal(r.status, 200, r.text);
  // Hand-worked, March 2024 (closed, non-internal; revenue = labour + parts of all
  // categories + other − discount): S1 C1 R1 400+200; S1 C3 R2 600+500+200+50−100 and
  // R4 200; S1 INS R3 1000+800+300; S2 C1 R1 200+100; S2 C3 R3 300 and R8 100
  // (payer internal never excludes); S2 INS R2 800+200+600.
  assert.equal(r.json.log[0], 'S1:C1:individual:600.00:1 S1:C3:fleet:1450.00:2 S1:INS:insurer:2100.00:1 ' +
    'S2:C1:individual:300.00:1 S2:C3:fleet:400.00:2 S2:INS:insurer:1600.00:1');
  const feb = await tryLua(rm, src, 'from=2024-02-01&to=2024-02-29');
  assert.equal(feb.json.log[0], 'S1:C1:individual:300.00:1', 'February: S1 R7 200 + 100');
  const opt = await tryLua(rm, src.replace('customers()', "customers({from = '2024-02-01', to = '2024-02-29'})"));
  assert.equal(opt.json.log[0], feb.json.log[0], 'opts.from/opts.to override the period');
});

test('target(): catalogue targets as numbers or {low, high}, nil when none', async () => {
  const src = `local band = target('service.personnel_cost_ratio')\n` +
    `log(target('labour.share'), band.low, band.high, target('no.such'), target('service.revenue'))\nreturn {}`;
  const r = await tryLua(rm, src);
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.log[0], '0.3 0.1 0.12 nil nil');
});

// --- rows: sorting, ranks, checks ---

test('rows are sorted by score, ties by store code, ranked 1, 2, 2, 4', async () => {
  const r = await tryLua(admin, `return {\n{store = 'S2', score = 80, grade = 'B'},\n{store = 'N2', score = 70},\n` +
    `{store = 'S1', score = 90, items = {{kpi = 'labour.share', value = 0.31, points = 20}}},\n{store = 'N1', score = 80}\n}`);
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(r.json.rows.map((x) => [x.store, x.score, x.rank]),
    [['S1', 90, 1], ['N1', 80, 2], ['S2', 80, 2], ['N2', 70, 4]]);
  assert.deepEqual(r.json.rows[0].items, [{ kpi: 'labour.share', value: 0.31, points: 20 }]);
  assert.equal(r.json.rows[2].grade, 'B');
});

test('a row naming a store outside the caller\'s scope, or malformed, is 422', async () => {
  let r = await tryLua(rm, "return {{store = 'S1', score = 1}, {store = 'N1', score = 2}}");
  assert.equal(r.status, 422, r.text);
  assert.equal(r.json.error.code, 'store_out_of_scope');
  assert.equal(r.json.error.details[0].row, 2);
  r = await tryLua(rm, "return {{store = 'NOPE', score = 1}}");
  assert.equal(r.json.error.code, 'store_out_of_scope', 'an unknown store is told the same way');
  r = await tryLua(rm, "return {{store = 'S1', score = 'high'}}");
  assert.equal(r.status, 422);
  assert.equal(r.json.error.code, 'bad_row');
  assert.match(r.json.error.message, /score/);
  r = await tryLua(rm, "return {{store = 'S1', score = 1}, {store = 'S1', score = 2}}");
  assert.equal(r.json.error.code, 'bad_row', 'a store twice');
  r = await tryLua(rm, 'return 42');
  assert.equal(r.json.error.code, 'bad_result');
});

// --- errors, budgets, escapes over HTTP ---

test('a Lua error is 422 with the message and its line', async () => {
  const r = await tryLua(rm, '-- 我的评分\nlocal a = kpi("labour.share")\nlocal b = a.S1 + nil_value\nreturn {}');
  assert.equal(r.status, 422, r.text);
  assert.equal(r.json.error.code, 'script_error');
  assert.deepEqual(r.json.error.details, [{ line: 3 }]);
  assert.match(r.json.error.message, /^try:3: .*nil_value/);
});

test('budgets end a run with 422 budget_exceeded and the server goes on serving', async () => {
  const cases = {
    'while true do end': 'instructions',
    'pcall(function() while true do end end) return {}': 'instructions',
    "local s = string.rep('x', 1e9) return {}": 'memory',
    "local s = 'x' while true do s = s .. s end": 'memory',
    'local t = {} for i = 1, 1e9 do t[i] = i end': null,
  };
  for (const [src, budget] of Object.entries(cases)) {
    const r = await tryLua(rm, src);
    assert.equal(r.status, 422, `${src}: ${r.text}`);
    assert.equal(r.json.error.code, 'budget_exceeded', src);
    if (budget) assert.equal(r.json.error.details[0].budget, budget, src);
    const h = await s.request('GET', '/api/v1/health');
    assert.equal(h.status, 200, 'still serving');
  }
  const ok = await tryLua(rm, probe('1'));
  assert.equal(ok.status, 200, 'a normal run right after');
});

test('escape attempts all end in a clean error', async () => {
  const attempts = [
    "io.open('/etc/passwd')", "os.execute('id')", "require('os')", "package.loadlib('x', 'y')",
    'debug.getinfo(1)', "load('return 1')", "loadstring('return 1')", "dofile('/etc/passwd')",
    "loadfile('/etc/passwd')", 'string.dump(print or tostring)', "collectgarbage('count')",
    "kpi = function() return {} end", 'stores = nil', 'string = nil', "string.rep = nil",
    "getmetatable('').__index = {}", "setmetatable('', {})", "rawset(_ENV, 'kpi', 1)",
    "string.format('%p', {})", "setmetatable({}, {__gc = function() end})",
  ];
  for (const a of attempts) {
    const r = await tryLua(rm, `${a}\nreturn {}`);
    assert.equal(r.status, 422, `${a}: ${r.text}`);
    assert.equal(r.json.error.code, 'script_error', a);
    assert.equal(r.json.error.details[0].line, 1, a);
  }
  const bin = Buffer.from([0x1b, 0x4c, 0x75, 0x61, 0x54, 0x00, 0x19, 0x93, 0x0d, 0x0a, 0x1a, 0x0a]);
  const r = await s.request('POST', `/api/v1/scorecards/run?${MARCH}`, { cookie: rm, body: bin, contentType: 'text/x-lua' });
  assert.equal(r.status, 422, r.text);
  assert.equal(r.json.error.code, 'syntax_error');
  const deep = await tryLua(rm, 'local function f(n) return 1 + f(n + 1) end return f(1)');
  assert.equal(deep.status, 422, 'deep recursion');
  assert.equal((await s.request('GET', '/api/v1/health')).status, 200);
});

test('?check=1 only compiles (the editor\'s check)', async () => {
  let r = await s.request('POST', '/api/v1/scorecards/run?check=1', { cookie: rm, body: 'while true do end', contentType: 'text/x-lua' });
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(r.json, { ok: true });
  r = await s.request('POST', '/api/v1/scorecards/run?check=1', { cookie: rm, body: 'local x =\n\nreturn {', contentType: 'text/x-lua' });
  assert.equal(r.status, 422);
  assert.equal(r.json.error.code, 'syntax_error');
  assert.equal(r.json.error.details[0].line, 3);
});

test('runs need from and to; inline runs are for admins and regional managers', async () => {
  let r = await tryLua(rm, 'return {}', 'from=2024-03-01');
  assert.equal(r.status, 400);
  assert.match(r.json.error.message, /^to/);
  r = await tryLua(rm, 'return {}', 'from=2024-3-1&to=2024-03-31');
  assert.equal(r.status, 400);
  assert.match(r.json.error.message, /^from/);
  r = await tryLua(exec, 'return {}');
  assert.equal(r.status, 403, 'an executive runs saved scorecards, does not try');
  r = await s.request('POST', `/api/v1/scorecards/run?${MARCH}`, { body: 'return {}' });
  assert.equal(r.status, 401);
});

// --- storage and rights ---

test('save, read, list, run, restore, delete; rights per role; audited', async () => {
  const v1 = '-- 我的评分 / my score\nlocal r = {}\nfor _, st in ipairs(stores()) do r[#r + 1] = {store = st.code, score = 1} end\nreturn r';
  let r = await put(rm, 'my_card', 'local x = \nreturn {');
  assert.equal(r.status, 422, 'a syntax error is refused');
  assert.equal(r.json.error.code, 'syntax_error');
  assert.equal(r.json.error.details[0].line, 2);
  assert.ok(r.json.error.details[0].message);
  r = await put(rm, 'my_card', v1);
  assert.equal(r.status, 201, r.text);
  assert.equal(r.json.owner, 'rm_south');
  assert.equal(r.json.title, '我的评分 / my score');
  r = await put(rm, 'my_card', v1.replace('score = 1', 'score = 2'));
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.version, 2);

  r = await s.request('GET', '/api/v1/scorecards/my_card', { cookie: rm });
  assert.equal(r.status, 200, r.text);
  assert.match(r.json.source, /score = 2/);
  assert.deepEqual(r.json.versions.map((v) => [v.version, v.saved_by]), [[2, 'rm_south'], [1, 'rm_south']]);
  assert.match(r.json.updated_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);

  // another user's scorecard: readable (to copy it) by whoever may run it; not writable, not deletable; runnable with own scope
  for (const [who, cookie] of [['rm_north', rm2], ['exec', exec]]) {
    r = await s.request('GET', '/api/v1/scorecards/my_card', { cookie });
    assert.equal(r.status, 200, `${who} reads another's source: ${r.text}`);
    assert.match(r.json.source, /score = 2/);
  }
  assert.equal((await s.request('GET', '/api/v1/scorecards/my_card', { cookie: sm })).status, 403, 'a store manager runs none, reads none');
  assert.equal((await put(rm2, 'my_card', 'return {}')).status, 403);
  assert.equal((await s.request('DELETE', '/api/v1/scorecards/my_card', { cookie: rm2 })).status, 403);
  assert.equal((await s.request('POST', '/api/v1/scorecards/my_card/restore?version=1', { cookie: rm2 })).status, 403);
  r = await s.request('POST', `/api/v1/scorecards/my_card/run?${MARCH}`, { cookie: rm2 });
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(r.json.rows.map((x) => x.store), ['N1', 'N2'], 'runs with the caller\'s own scope');
  r = await s.request('POST', `/api/v1/scorecards/my_card/run?${MARCH}`, { cookie: exec });
  assert.equal(r.json.rows.length, 4, 'an executive sees every store');
  assert.equal(r.json.rows[0].score, 2);

  r = await s.request('GET', '/api/v1/scorecards', { cookie: exec });
  assert.equal(r.status, 200);
  const mine = r.json.find((x) => x.name === 'my_card');
  assert.equal(mine.owner, 'rm_south');
  assert.deepEqual(Object.keys(mine).sort(), ['name', 'owner', 'title', 'updated_at']);

  // admins may read and edit anyone's; the owner stays
  r = await s.request('GET', '/api/v1/scorecards/my_card', { cookie: admin });
  assert.equal(r.status, 200);
  r = await put(admin, 'my_card', v1.replace('score = 1', 'score = 3'));
  assert.equal(r.status, 200);
  assert.equal(r.json.owner, 'rm_south');

  r = await s.request('POST', '/api/v1/scorecards/my_card/restore?version=1', { cookie: rm });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.version, 4);
  r = await s.request('POST', `/api/v1/scorecards/my_card/run?${MARCH}`, { cookie: rm });
  assert.equal(r.json.rows[0].score, 1, 'version 1 is current again');
  r = await s.request('POST', '/api/v1/scorecards/my_card/restore?version=99', { cookie: rm });
  assert.equal(r.status, 404);
  r = await s.request('POST', '/api/v1/scorecards/my_card/restore', { cookie: rm });
  assert.equal(r.status, 400);
  assert.match(r.json.error.message, /^version/);

  // the last 20 versions are kept
  for (let i = 0; i < 20; i++) assert.equal((await put(rm, 'my_card', `${v1}\n-- ${i}`)).status, 200);
  r = await s.request('GET', '/api/v1/scorecards/my_card', { cookie: rm });
  assert.equal(r.json.versions.length, 20);
  assert.equal(r.json.versions[0].version, 24);
  assert.equal(r.json.versions[19].version, 5);

  r = await s.request('DELETE', '/api/v1/scorecards/my_card', { cookie: rm });
  assert.equal(r.status, 200, r.text);
  assert.equal((await s.request('GET', '/api/v1/scorecards/my_card', { cookie: rm })).status, 404);
  assert.equal((await s.request('POST', `/api/v1/scorecards/my_card/run?${MARCH}`, { cookie: rm })).status, 404);

  r = await s.request('GET', '/api/v1/audit?limit=200', { cookie: admin });
  assert.equal(r.status, 200, r.text);
  const text = JSON.stringify(r.json);
  for (const action of ['scorecard.save', 'scorecard.restore', 'scorecard.delete']) assert.match(text, new RegExp(action.replace('.', '\\.')), action);
});

test('store managers run no scorecards: an empty list, 403 on runs', async () => {
  const r = await s.request('GET', '/api/v1/scorecards', { cookie: sm });
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(r.json, []);
  assert.equal((await s.request('POST', `/api/v1/scorecards/yoy_growth/run?${MARCH}`, { cookie: sm })).status, 403);
  assert.equal((await tryLua(sm, 'return {}')).status, 403);
  assert.equal((await put(sm, 'sm_card', 'return {}')).status, 403);
});

test('names: [a-z0-9_-]{1,64}, "run" reserved; executives cannot save', async () => {
  for (const bad of ['Upper', 'a.b', 'x'.repeat(65), 'run']) {
    const r = await put(rm, encodeURIComponent(bad), 'return {}');
    assert.ok(r.status === 400 || r.status === 405, `${bad}: ${r.status}`);
  }
  assert.equal((await put(exec, 'exec_card', 'return {}')).status, 403);
  assert.equal((await put(rm, 'empty_body', '')).status, 400);
  // GBK text (as an old editor saves it) is refused with its line, not stored garbled
  const gbk = Buffer.concat([Buffer.from('return {}\n-- '), Buffer.from([0xd6, 0xd0, 0xce, 0xc4])]);
  const r = await s.request('PUT', '/api/v1/scorecards/gbk_card', { cookie: rm, body: gbk, contentType: 'text/x-lua' });
  assert.equal(r.status, 422, r.text);
  assert.equal(r.json.error.details[0].line, 2);
});

// --- the shipped scorecards ---

test('the shipped scorecards are installed, owned by admin', async () => {
  const r = await s.request('GET', '/api/v1/scorecards', { cookie: rm });
  const byName = Object.fromEntries(r.json.map((x) => [x.name, x]));
  for (const name of ['aftersales_balanced', 'customer_tiers', 'yoy_growth', 'first_service_lockin']) {
    assert.ok(byName[name], name);
    assert.equal(byName[name].owner, 'admin');
  }
  assert.match(byName.aftersales_balanced.title, /售后综合评分/);
  assert.match(byName.customer_tiers.title, /客户价值分层/);
  assert.match(byName.yoy_growth.title, /同比增长/);
  assert.match(byName.first_service_lockin.title, /首保锁定/);
  const src = await s.request('GET', '/api/v1/scorecards/customer_tiers', { cookie: rm });
  assert.equal(src.status, 200, 'a regional manager reads the admin\'s source, to copy it into their own');
  assert.match(src.json.source, /^-- 客户价值分层/);
  const copy = await put(rm, 'my_tiers', src.json.source);
  assert.equal(copy.status, 201, copy.text);
  assert.equal(copy.json.owner, 'rm_south');
  assert.equal((await put(rm, 'customer_tiers', src.json.source)).status, 403, 'but not change the shipped one');
  assert.equal((await s.request('DELETE', '/api/v1/scorecards/my_tiers', { cookie: rm })).status, 200);
});

test('customer_tiers on the fixture', async () => {
  // March 2024 customers, all stores (admin), by revenue: S1/INS 2100, S2/INS 1600,
  // S1/C3 1450, N1/C1 650, S1/C1 600, S2/C3 400, S2/C1 300 (n = 7). Cut-offs:
  // platinum ceil(0.07) = 1, gold ceil(0.35) = 1 (none), iron ceil(1.4) = 2, lead the rest.
  // Score = revenue of the platinum, gold and iron customers / the store's revenue x 100:
  // S2: 1600 / (1600 + 400 + 300) = 69.565 -> 69.6 (B, >= 60); S1: 2100 / 4150 = 50.60 -> 50.6 (C);
  // N1: 0 / 650 -> 0 (D); N2: no customers, no row.
  let r = await s.request('POST', `/api/v1/scorecards/customer_tiers/run?${MARCH}`, { cookie: admin });
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(r.json.rows.map((x) => [x.store, x.score, x.grade, x.rank]),
    [['S2', 69.6, 'B', 1], ['S1', 50.6, 'C', 2], ['N1', 0, 'D', 3]]);
  const s1 = r.json.rows[1];
  assert.deepEqual(s1.items.map((i) => i.customers), [1, 0, 0, 2]);
  assert.deepEqual(s1.items.map((i) => Math.round(i.value * 1e6) / 1e6), [0.506024, 0, 0, 0.493976]);
  assert.deepEqual(s1.items.map((i) => i.label.zh), ['铂金客户产值占比', '黄金客户产值占比', '铁牌客户产值占比', '铅牌客户产值占比']);
  assert.equal(s1.revenue, 4150);
  assert.ok(r.json.log.some((l) => l.startsWith('N2 ')), 'N2 is named in the log');
  // SOUTH's manager: n = 6, the same cut-offs (1, 1, 2); the same two stores, nothing of NORTH
  r = await s.request('POST', `/api/v1/scorecards/customer_tiers/run?${MARCH}`, { cookie: rm });
  assert.deepEqual(r.json.rows.map((x) => [x.store, x.score, x.rank]), [['S2', 69.6, 1], ['S1', 50.6, 2]]);
});

test('yoy_growth on the fixture: the minimum-volume rule, then the growth', async () => {
  // 2024-03-01..2024-12-31 (306 days = 10.05 months) against 2023-03-01..2023-12-31.
  // The fixture's stores are tiny: S1 and S2 had 4 ROs a year earlier, N1 2, N2 none;
  // the shipped minimum of 100 ROs a month (1006 here, rounded up) ranks none of them.
  const period = 'from=2024-03-01&to=2024-12-31';
  let r = await s.request('POST', `/api/v1/scorecards/yoy_growth/run?${period}`, { cookie: admin });
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(r.json.rows, []);
  assert.equal(r.json.log[0], '对比期间 / compared with: 2023-03-01 .. 2023-12-31');
  for (const [store, n] of [['S1', 4], ['S2', 4], ['N1', 2], ['N2', 0]]) {
    assert.ok(r.json.log.some((l) => l.startsWith(`${store} `) && l.includes(`只有 ${n} 台次`) && l.includes('1006')), `${store}: ${r.json.log.join('\n')}`);
  }
  const source = (await s.request('GET', '/api/v1/scorecards/yoy_growth', { cookie: admin })).json.source;
  assert.match(source, /^local min_ros_per_month = 100$/m);
  // Without the rule (a copy with min_ros_per_month = 0), hand-worked:
  // S1 now: R1 600, R2 1250, R3 2100, R4 200, R8 150 -> revenue 4300, 5 ROs, labour 2350;
  //    before: R9 1000, R10 200, R11 0, R12 0 -> 1200, 4 ROs, labour 1200.
  //    0.5 * 3100/1200 + 0.3 * 1/4 + 0.2 * 1150/1200 = 1.558333 -> 155.8 (A)
  // S2 now: 2300, 4 ROs, labour 1400; before: 4 ROs with no lines (revenue 0, left out)
  //    -> only the RO count: 0 -> 0 (B)
  // N1 now: R1 650, 1 RO; before: R3, R5 (no lines) -> RO count -50 % -> -50 (D)
  // N2: no ROs either year -> no row, named in the log.
  const tryIt = (min) => s.request('POST', `/api/v1/scorecards/run?${period}`, { cookie: admin,
    body: source.replace(/^local min_ros_per_month = 100$/m, `local min_ros_per_month = ${min}`), contentType: 'text/x-lua' });
  r = await tryIt(0);
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(r.json.rows.map((x) => [x.store, x.score, x.grade, x.rank]),
    [['S1', 155.8, 'A', 1], ['S2', 0, 'B', 2], ['N1', -50, 'D', 3]]);
  assert.deepEqual(r.json.rows[0].items.map((i) => [i.kpi, Math.round(i.value * 1e4) / 1e4, i.now, i.last_year]),
    [['service.revenue', 2.5833, 4300, 1200], ['service.ro_count', 0.25, 5, 4], ['labour.revenue', 0.9583, 2350, 1200]]);
  assert.ok(r.json.log.some((l) => l.startsWith('N2 ')));
  // a minimum of 0.3 a month (3.02 here): S1 and S2 (4 a year earlier) stay, N1 (2) is left out
  r = await tryIt(0.3);
  assert.deepEqual(r.json.rows.map((x) => x.store), ['S1', 'S2']);
  assert.ok(r.json.log.some((l) => l.startsWith('N1 ') && l.includes('只有 2 台次')));
});

test('aftersales_balanced on the fixture matches its documented scoring', async () => {
  // The scoring of lua/scorecards/aftersales_balanced.lua, written again here from
  // its header and docs/scorecards.md (levels: good -> full points, bad -> none,
  // linear between; each item rounded to 0.1), applied to the engine's figures.
  const ids = ['service.ro_count', 'retention.base', 'service.absorption', 'labour.share', 'service.personnel_cost_ratio',
    'parts.slow_moving_share', 'insurance.renewal_rate', 'receivables.open', 'receivables.age_181_365',
    'receivables.age_over_365', 'retention.churn_y1', 'retention.churn_y2', 'retention.churn_y3',
    'retention.first_service_rate', 'csi.score'];
  const rows = await kpiRows(admin, ids.join(','), 'store');
  const v = Object.fromEntries(rows.map((x) => [x.key, x.values]));
  // between the levels only (good !== bad there): max * (x - bad) / (good - bad)
  const lin = (x, good, bad, max) => max * Math.min(1, Math.max(0, (x - bad) / (good - bad)));
  const up = (x, good, bad, max) => (x >= good ? max : x <= bad ? 0 : lin(x, good, bad, max));
  const down = (x, good, bad, max) => (x <= good ? max : x >= bad ? 0 : lin(x, good, bad, max));
  const band = (x, lo, hi, blo, bhi, max) => (x >= lo && x <= hi ? max : x < lo ? up(x, lo, blo, max) : down(x, hi, bhi, max));
  const years = 31 / 365;
  const expected = [];
  for (const store of ['N1', 'N2', 'S1', 'S2']) {
    const k = v[store];
    let earned = 0, possible = 0;
    const add = (x, max, f) => {
      if (x === null || x === undefined) return;
      earned += Math.round(f(x) * 10) / 10;
      possible += max;
    };
    const visits = k['service.ro_count'] !== null && k['retention.base'] ? k['service.ro_count'] / years / k['retention.base'] : null;
    add(visits, 8, (x) => up(x, 3, 1, 8));
    add(k['service.absorption'], 6, (x) => up(x, 1.0, 0.7, 6));
    add(k['labour.share'], 14, (x) => up(x, 0.30, 0.20, 14));
    add(k['service.personnel_cost_ratio'], 6, (x) => band(x, 0.10, 0.12, 0.07, 0.15, 6));
    add(k['parts.slow_moving_share'], 14, (x) => down(x, 0.05, 0.15, 14));
    add(k['insurance.renewal_rate'], 14, (x) => up(x, 0.65, 0.40, 14));
    const open = k['receivables.open'];
    if (open !== null) {
      const aged = (k['receivables.age_181_365'] ?? 0) + (k['receivables.age_over_365'] ?? 0);
      add(open > 0 ? aged / open : 0, 14, (x) => down(x, 0, 0.20, 14));
    }
    [0.05, 0.08, 0.12].forEach((lim, i) => add(k[`retention.churn_y${i + 1}`], 4, (x) => down(x, lim, 2 * lim, 4)));
    add(k['retention.first_service_rate'], 6, (x) => up(x, 0.95, 0.70, 6));
    add(k['csi.score'], 6, (x) => up(x, 9.0, 7.0, 6));
    const score = possible > 0 ? Math.round(1000 * earned / possible) / 10 : 0;
    expected.push([store, score]);
  }
  expected.sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  const r = await s.request('POST', `/api/v1/scorecards/aftersales_balanced/run?${MARCH}`, { cookie: admin });
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(r.json.rows.map((x) => [x.store, x.score]), expected);
  assert.equal(r.json.rows[0].rank, 1);
  for (const row of r.json.rows) {
    assert.equal(row.items.length, 12, 'twelve items a store');
    assert.equal(row.items.reduce((t, i) => t + i.max, 0), 100, 'the weights add up to 100');
  }
  const mine = await s.request('POST', `/api/v1/scorecards/aftersales_balanced/run?${MARCH}`, { cookie: rm });
  assert.deepEqual(mine.json.rows.map((x) => x.store).sort(), ['S1', 'S2']);
});

test('the example of docs/scorecards.md runs as written', async () => {
  const doc = readFileSync(join(root, 'docs', 'scorecards.md'), 'utf8');
  const example = /```lua\n(-- 工时产值占比排名[\s\S]*?)```/.exec(doc);
  assert.ok(example, 'the example is in the guide');
  const r = await tryLua(rm, example[1]);
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(r.json.rows.map((x) => x.store).sort(), ['S1', 'S2']);
  for (const row of r.json.rows) assert.ok(['达标', '未达标'].includes(row.grade));
});

test('the walk-through of docs/scorecards.md works as written: copy, change a weight, add an item, save', async () => {
  const doc = readFileSync(join(root, 'docs', 'scorecards.md'), 'utf8');
  const weightLine = /```lua\n\s*(\{ id = "labour\.share", weight = 14, score = "at_least",)\n\s*```/.exec(doc);
  const newItem = /```lua\n\s*(\{ id = "service\.comeback_rate"[^\n]*)\n\s*```/.exec(doc);
  assert.ok(weightLine && newItem, 'the guide shows the line to change and the item to add');
  const shipped = (await s.request('GET', '/api/v1/scorecards/aftersales_balanced', { cookie: rm })).json.source;
  assert.ok(shipped.includes(weightLine[1]), 'the line the guide shows is in the shipped card');
  let mine = shipped.replace(weightLine[1], weightLine[1].replace('weight = 14', 'weight = 20'));
  const csi = mine.indexOf('{ id = "csi.score"');
  const eol = mine.indexOf('\n', csi);
  mine = `${mine.slice(0, eol + 1)}  ${newItem[1]}\n${mine.slice(eol + 1)}`;
  const r = await tryLua(rm, mine);
  assert.equal(r.status, 200, r.text);
  for (const row of r.json.rows) {
    assert.equal(row.items.length, 13);
    assert.equal(row.items.find((i) => i.kpi === 'labour.share').max, 20);
    const cb = row.items.find((i) => i.kpi === 'service.comeback_rate');
    assert.equal(cb.max, 6);
    // hand-worked from the item: full at 0.5 %, none at 2 %, linear between
    if (cb.value !== undefined) {
      const want = cb.value <= 0.005 ? 6 : cb.value >= 0.02 ? 0 : 6 * (0.02 - cb.value) / 0.015;
      assert.equal(cb.points, Math.round(want * 10) / 10);
    }
  }
  const saved = await put(rm, 'rm_south_aftersales_balanced', mine);
  assert.equal(saved.status, 201, saved.text);
  assert.equal(saved.json.owner, 'rm_south');
  assert.equal((await s.request('DELETE', '/api/v1/scorecards/rm_south_aftersales_balanced', { cookie: rm })).status, 200);
});

// --- the command line ---

test('fourscore scorecard run prints the ranked table, with --as scoping', async () => {
  const file = join(root, 'lua', 'scorecards', 'customer_tiers.lua');
  let out = await s.cli(['scorecard', 'run', file, '--from', '2024-03-01', '--to', '2024-03-31']);
  assert.equal(out.code, 0, out.stderr);
  const lines = out.stdout.trim().split('\n').filter((l) => /^\d/.test(l));
  assert.deepEqual(lines.map((l) => l.split(/\s+/).slice(0, 4)),
    [['1', 'S2', '69.60', 'B'], ['2', 'S1', '50.60', 'C'], ['3', 'N1', '0.00', 'D']]);
  assert.match(out.stdout, /广州天河丰田/);
  out = await s.cli(['scorecard', 'run', file, '--from', '2024-03-01', '--to', '2024-03-31', '--as', 'rm_north', '--format', 'json']);
  assert.equal(out.code, 0, out.stderr);
  const last = out.stdout.trim().split('\n').pop();   // the answer is one line (log lines may precede it)
  assert.deepEqual(JSON.parse(last).rows.map((x) => x.store), ['N1']);
  const bad = join(tempDir('fs-sc-'), 'broken.lua');
  writeFileSync(bad, 'local x = 1\nerror("目标缺失")\n');
  out = await s.cli(['scorecard', 'run', bad, '--from', '2024-03-01', '--to', '2024-03-31']);
  assert.equal(out.code, 1);
  assert.match(out.stderr, /broken:2: 目标缺失/);
  assert.match(out.stderr, /line 2/);
  out = await s.cli(['scorecard', 'run', file, '--from', '2024-03-01']);
  assert.equal(out.code, 2);
  assert.match(out.stderr, /--to/);
  out = await s.cli(['scorecard', 'run', file, '--from', '2024-03-01', '--to', '2024-03-31', '--as', 'nobody']);
  assert.equal(out.code, 1);
  assert.match(out.stderr, /nobody/);
});
