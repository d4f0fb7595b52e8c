// scorecard_lookup: benchmark() and budget() of the Lua scorecard API
// (docs/api.md "Lua scorecards", core/script/scorecard_lookup.c) against the
// real server. A group of six stores is made here (SOUTH: A1, A2, A3; NORTH:
// B1, B2, B3) with a known number of closed repair orders in March 2024
// (1, 2, 3, 4, 7, 11), and budgets (`targets`) of service.ro_count for
// March and April 2024 for the SOUTH stores but A3's April.
//
// benchmark('service.ro_count') must be exactly what GET /api/v1/benchmarks
// answers, worked out by hand too: the six values sorted 1 2 3 4 7 11,
// PERCENTILE.INC: p25 h = 1.25 -> 2 + 0.25 = 2.25, median h = 2.5 -> 3.5,
// p75 h = 3.75 -> 4 + 0.75 * 3 = 6.25, group 28, stores 6; the same for a
// regional manager (the whole group, naming no store), nil for them once an
// admin sets benchmarks.shared = 0 (an admin still gets it). budget() is
// pro-rated as targets=1: A1's March 310 over 1-15 March = 310 * 15 / 31 =
// 150; over 16 March - 15 April = 310 * 16/31 + 300 * 15/30 = 160 + 150 =
// 310; A3 over the same: nil (no April budget); a store outside the
// caller's scope and a KPI without budgets are errors at their line.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from './lib.mjs';

const MARCH = 'from=2024-03-01&to=2024-03-31';
const GROUP = {
  A1: ['SOUTH', 1], A2: ['SOUTH', 2], A3: ['SOUTH', 3], B1: ['NORTH', 4], B2: ['NORTH', 7], B3: ['NORTH', 11],
};
const PASSWORD = 'lookup-pass-123';
let s, admin, rm;

function csv(lines) { return lines.join('\n') + '\n'; }

before(async () => {
  s = await startServer();
  admin = await s.adminCookie();
  const imp = async (entity, body) => {
    const r = await s.request('POST', `/api/v1/import/${entity}`, { cookie: admin, body, contentType: 'text/csv' });
    assert.equal(r.status, 200, `${entity}: ${r.text}`);
  };
  await imp('regions', csv(['region_code,name', 'SOUTH,华南', 'NORTH,华北']));
  const stores = ['store_code,name,brand,region_code,city,opened_on'];
  const customers = ['store_code,customer_code,type,name'];
  const ros = ['store_code,ro_no,vin,customer_code,advisor_code,ro_type,payer,insurer_code,opened_at,closed_at,mileage_km,other_amount,discount_amount,comeback_of'];
  let vin = 0;
  for (const [code, [region, n]] of Object.entries(GROUP)) {
    stores.push(`${code},查找${code}店,丰田,${region},广州,2015-01-01`);
    customers.push(`${code},C1,individual,客户`);
    for (let i = 0; i < n; i++) {
      const day = String(1 + i).padStart(2, '0');
      ros.push(`${code},R${i + 1},LFVKP${String(++vin).padStart(12, '0')},C1,,repair,customer,,2024-03-${day} 09:00,2024-03-${day} 11:00,100,100,,`);
    }
  }
  await imp('stores', csv(stores));
  await imp('customers', csv(customers));
  await imp('repair_orders', csv(ros));
  await imp('targets', csv(['store_code,month,kpi,value',
    'A1,2024-03,service.ro_count,310', 'A1,2024-04,service.ro_count,300',
    'A2,2024-03,service.ro_count,62', 'A2,2024-04,service.ro_count,60',
    'A3,2024-03,service.ro_count,31']));
  const u = await s.request('POST', '/api/v1/users', { cookie: admin,
    body: { username: 'rm_south', role: 'regional_manager', regions: ['SOUTH'], password: PASSWORD } });
  assert.equal(u.status, 201, u.text);
  rm = await s.login('rm_south', PASSWORD);
});

after(async () => {
  if (!s) return;
  const res = await s.stop();
  assert.doesNotMatch(s.stderr(), /Sanitizer|runtime error/, s.stderr().slice(-4000));
  assert.equal(res.code, 0);
});

function tryLua(cookie, source, period = MARCH) {
  return s.request('POST', `/api/v1/scorecards/run?${period}`, { cookie, body: source, contentType: 'text/x-lua' });
}
// The script logs what it saw as JSON-ish text: one line per value.
const show = (expr) => `local b = ${expr}\nif b == nil then log('nil') else\n` +
  `for _, k in ipairs({'stores','group','p25','median','p75'}) do log(k .. '=' .. tostring(b[k])) end end\nreturn {}`;
const parse = (log) => (log[0] === 'nil' ? null : Object.fromEntries(log.map((l) => {
  const [k, v] = l.split('=');
  return [k, v === 'nil' ? null : Number(v)];
})));

test('benchmark(): the quartiles of the benchmarks route, by hand too', async () => {
  const route = await s.request('GET', `/api/v1/benchmarks?ids=service.ro_count&${MARCH}`, { cookie: admin });
  assert.equal(route.status, 200, route.text);
  const want = { stores: 6, group: 28, p25: 2.25, median: 3.5, p75: 6.25 };
  assert.deepEqual(route.json.values['service.ro_count'], want);
  for (const [who, cookie] of [['admin', admin], ['a regional manager (the whole group)', rm]]) {
    const r = await tryLua(cookie, show("benchmark('service.ro_count')"));
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(parse(r.json.log), want, who);
    assert.doesNotMatch(r.text, /B1|B2|B3|查找/, 'no store named');
  }
  // opts.from/to: February has no ROs: every store counts 0
  const feb = await tryLua(rm, show("benchmark('service.ro_count', {from = '2024-02-01', to = '2024-02-29'})"));
  assert.deepEqual(parse(feb.json.log), { stores: 6, group: 0, p25: 0, median: 0, p75: 0 });
  // a ratio with no data anywhere: stores 0, the rest nil
  const none = await tryLua(rm, show("benchmark('service.revenue_per_ro', {from = '2019-01-01', to = '2019-01-31'})"));
  assert.deepEqual(parse(none.json.log), { stores: 0, group: null, p25: null, median: null, p75: null });
  // a copy each call: changing one leaves the next alone (and the cache)
  const copy = await tryLua(rm, "local a = benchmark('service.ro_count')\na.median = -1\nlog(benchmark('service.ro_count').median)\nreturn {}");
  assert.deepEqual(copy.json.log, ['3.5']);
  const bad = await tryLua(rm, "local x = 1\nlocal b = benchmark('no.such_kpi')\nreturn {}");
  assert.equal(bad.status, 422, bad.text);
  assert.equal(bad.json.error.code, 'script_error');
  assert.equal(bad.json.error.details[0].line, 2);
  assert.match(bad.json.error.message, /benchmark\('no\.such_kpi'\)/);
});

test('benchmark(): nil for the others while an admin switches benchmarks off', async () => {
  const put = (v) => s.request('PUT', '/api/v1/settings', { cookie: admin, body: { 'benchmarks.shared': v } });
  assert.equal((await put(0)).status, 200);
  try {
    const r = await tryLua(rm, show("benchmark('service.ro_count')"));
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.json.log, ['nil']);
    const a = await tryLua(admin, show("benchmark('service.ro_count')"));
    assert.equal(parse(a.json.log).median, 3.5, 'an admin still sees them');
  } finally {
    assert.equal((await put(1)).status, 200);
  }
});

test('budget(): a store\'s pro-rated budget, nil without one, only the caller\'s stores', async () => {
  const src = "log(tostring(budget('service.ro_count', 'A1')), tostring(budget('service.ro_count', 'A3')))\n" +
    "local o = {from = '2024-03-16', to = '2024-04-15'}\n" +
    "log(tostring(budget('service.ro_count', 'A1', o)), tostring(budget('service.ro_count', 'A3', o)))\nreturn {}";
  let r = await tryLua(rm, src, 'from=2024-03-01&to=2024-03-15');
  assert.equal(r.status, 200, r.text);
  const nums = r.json.log.map((l) => l.split(' ').map((x) => (x === 'nil' ? null : Number(x))));
  // A1: 310 * 15/31 = 150; A3: 31 * 15/31 = 15; then 310 * 16/31 + 300 * 15/30 = 310 and A3 nil (no April)
  assert.ok(Math.abs(nums[0][0] - 150) < 1e-9 && Math.abs(nums[0][1] - 15) < 1e-9, r.json.log[0]);
  assert.ok(Math.abs(nums[1][0] - 310) < 1e-9, r.json.log[1]);
  assert.equal(nums[1][1], null);
  // the same figures as the KPI route's targets=1
  const k = await s.request('GET', '/api/v1/kpi?ids=service.ro_count&from=2024-03-16&to=2024-04-15&by=store&targets=1', { cookie: rm });
  assert.ok(Math.abs(k.json.rows.find((x) => x.key === 'A1').targets['service.ro_count'] - nums[1][0]) < 1e-9);

  r = await tryLua(rm, "local x = 1\nlocal b = budget('service.ro_count', 'B1')\nreturn {}");
  assert.equal(r.status, 422, 'a store outside the scope');
  assert.equal(r.json.error.details[0].line, 2);
  assert.match(r.json.error.message, /B1.*not one of your stores/);
  r = await tryLua(admin, "local b = budget('service.ro_count', 'B1')\nlog(tostring(b))\nreturn {}");
  assert.deepEqual(r.json.log, ['nil'], 'an admin sees B1, which has no budget');
  r = await tryLua(rm, "local b = budget('labour.share', 'A1')\nreturn {}");
  assert.equal(r.status, 422);
  assert.match(r.json.error.message, /takes no budgets/);
  r = await tryLua(rm, "local b = budget('service.ro_count', 'A1', {from = '2024-3-1'})\nreturn {}");
  assert.equal(r.status, 422);
  assert.match(r.json.error.message, /opts\.from/);
});
