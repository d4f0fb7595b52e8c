// benchmarks: GET /api/v1/benchmarks through the real server, on a group
// made here: regions SOUTH and NORTH, first four stores (too few: every value
// but the count is null), then five (the quartiles are store values), then six. Each store has a known number of closed
// repair orders in March 2024 (service.ro_count) and known other amounts
// (service.revenue: the ROs have no lines, so revenue = other − discount).
// The quartiles of ro_count are worked out by hand below (PERCENTILE.INC);
// those of revenue by an independent implementation over the rows written.
// Every answer's raw text is searched for every store code and name; the
// setting benchmarks.shared = 0 is 403 benchmarks_off for an executive, a
// regional and a store manager, 200 for an admin; a regional manager gets
// the whole group's quartiles, not their region's.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from './lib.mjs';

const MARCH = 'from=2024-03-01&to=2024-03-31';
const IDS = 'service.ro_count,service.revenue';
// store -> [region, name, ROs closed in March, other amount of the i-th RO = base + 10 i]
const FIRST = {
  A1: ['SOUTH', '对标华南一店', 1, 500], A2: ['SOUTH', '对标华南二店', 2, 300],
  B1: ['NORTH', '对标华北一店', 4, 200], B2: ['NORTH', '对标华北二店', 7, 100],
};
const FIFTH = { A3: ['SOUTH', '对标华南三店', 3, 800] };
const SIXTH = { B3: ['NORTH', '对标华北三店', 11, 50] };
const MORE = { ...FIFTH, ...SIXTH };
const ALL = { ...FIRST, ...MORE };

let s, admin;

const header = {
  stores: 'store_code,name,brand,region_code,city,opened_on',
  customers: 'store_code,customer_code,type,name',
  repair_orders: 'store_code,ro_no,vin,customer_code,advisor_code,ro_type,payer,insurer_code,opened_at,closed_at,mileage_km,other_amount,discount_amount,comeback_of',
};
let vinSeq = 0;
const vin = () => `LFVKP${String(++vinSeq).padStart(12, '0')}`;

function files(group) {
  const stores = [header.stores], customers = [header.customers], ros = [header.repair_orders];
  for (const [code, [region, name, n, base]] of Object.entries(group)) {
    stores.push(`${code},${name},丰田,${region},广州,2015-01-01`);
    customers.push(`${code},C1,individual,客户`);
    for (let i = 0; i < n; i++) {
      const day = String(1 + i).padStart(2, '0');
      ros.push(`${code},R${i + 1},${vin()},C1,,repair,customer,,2024-03-${day} 09:00,2024-03-${day} 11:00,100,${base + 10 * i},,`);
    }
    // an open RO and an internal one: counted nowhere
    ros.push(`${code},OPEN1,${vin()},C1,,repair,customer,,2024-03-20 09:00,,100,999,,`);
    ros.push(`${code},INT1,${vin()},C1,,internal,internal,,2024-03-20 09:00,2024-03-20 10:00,100,999,,`);
  }
  return { stores: stores.join('\n') + '\n', customers: customers.join('\n') + '\n', repair_orders: ros.join('\n') + '\n' };
}

async function load(group) {
  const f = files(group);
  for (const entity of ['stores', 'customers', 'repair_orders']) {
    const r = await s.request('POST', `/api/v1/import/${entity}`, { cookie: admin, body: f[entity], contentType: 'text/csv' });
    assert.equal(r.status, 200, `${entity}: ${r.text}`);
  }
}

// An independent PERCENTILE.INC.
function percentile(values, p) {
  const v = [...values].sort((a, b) => a - b);
  const h = (v.length - 1) * p, lo = Math.floor(h), hi = Math.ceil(h);
  return v[lo] + (h - lo) * (v[hi] - v[lo]);
}
const revenueOf = ([, , n, base]) => Array.from({ length: n }, (_, i) => base + 10 * i).reduce((a, b) => a + b, 0);

function assertNoStoreNamed(text) {
  for (const [code, [, name]] of Object.entries(ALL)) {
    assert.ok(!text.includes(code), `store code ${code} in ${text}`);
    assert.ok(!text.includes(name), `store name ${name} in ${text}`);
  }
}

async function bench(cookie, query = `ids=${IDS}&${MARCH}`) {
  const r = await s.request('GET', `/api/v1/benchmarks?${query}`, { cookie });
  assertNoStoreNamed(r.text);
  return r;
}

const near = (a, b, what) => assert.ok(Math.abs(a - b) < 1e-9, `${what}: ${a} vs ${b}`);

before(async () => {
  s = await startServer();
  admin = await s.adminCookie();
  const r = await s.request('POST', '/api/v1/import/regions', { cookie: admin, body: 'region_code,name\nSOUTH,华南区\nNORTH,华北区\n', contentType: 'text/csv' });
  assert.equal(r.status, 200, r.text);
  await load(FIRST);
  for (const [name, args] of [['exec1', ['--role', 'executive']], ['rm_south', ['--role', 'regional_manager', '--region', 'SOUTH']],
    ['sm_a1', ['--role', 'store_manager', '--store', 'A1']]]) {
    const out = await s.cli(['user', 'add', name, ...args, '--password-stdin'], { input: `${name}-pass-123\n` });
    assert.equal(out.code, 0, out.stderr);
  }
});

after(async () => {
  if (s) await s.stop();
});

test('four stores: the count only, every other value null', async () => {
  const r = await bench(admin);
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(r.json, {
    from: '2024-03-01', to: '2024-03-31',
    values: {
      'service.ro_count': { stores: 4, group: null, p25: null, median: null, p75: null },
      'service.revenue': { stores: 4, group: null, p25: null, median: null, p75: null },
    },
  });
});

test('five stores: the quartiles are the store values themselves (order statistics)', async () => {
  await load(FIFTH);
  const r = await bench(admin, `ids=service.ro_count&${MARCH}`);
  assert.equal(r.status, 200, r.text);
  // ro_count sorted: 1 2 3 4 7; h = 1, 2, 3 exactly: p25 2, median 3, p75 4; group 17
  assert.deepEqual(r.json.values['service.ro_count'], { stores: 5, group: 17, p25: 2, median: 3, p75: 4 });
});

test('six stores: group and quartiles worked out by hand; no store named', async () => {
  await load(SIXTH);
  const r = await bench(admin);
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(Object.keys(r.json).sort(), ['from', 'to', 'values']);
  const c = r.json.values['service.ro_count'];
  assert.deepEqual(Object.keys(c).sort(), ['group', 'median', 'p25', 'p75', 'stores']);
  // ro_count sorted: 1 2 3 4 7 11 (n = 6), group 28;
  // p25: h = 5·0.25 = 1.25 -> 2 + 0.25·(3 − 2) = 2.25; median: h = 2.5 -> 3 + 0.5·(4 − 3) = 3.5;
  // p75: h = 3.75 -> 4 + 0.75·(7 − 4) = 6.25
  assert.equal(c.stores, 6);
  near(c.group, 28, 'group');
  near(c.p25, 2.25, 'p25');
  near(c.median, 3.5, 'median');
  near(c.p75, 6.25, 'p75');
  const revs = Object.values(ALL).map(revenueOf);
  const v = r.json.values['service.revenue'];
  assert.equal(v.stores, 6);
  near(v.group, revs.reduce((a, b) => a + b, 0), 'revenue group');
  near(v.p25, percentile(revs, 0.25), 'revenue p25');
  near(v.median, percentile(revs, 0.5), 'revenue median');
  near(v.p75, percentile(revs, 0.75), 'revenue p75');
  // by hand: revenues A1 500, A2 300+310 = 610, B1 200+…+230 = 860, B2 100+…+160 = 910, A3 800+810+820 = 2430,
  // B3 50+…+150 = 1100; sorted 500 610 860 910 1100 2430, group 6410; p25 610 + 0.25·250 = 672.5,
  // median 860 + 0.5·50 = 885, p75 910 + 0.75·190 = 1052.5
  assert.deepEqual(v, { stores: 6, group: 6410, p25: 672.5, median: 885, p75: 1052.5 });
});

test('a period with no data: a sum is 0 for every store, a ratio null for every store (0 stores: null)', async () => {
  const r = await bench(admin, `ids=service.revenue,service.revenue_per_ro&from=2019-01-01&to=2019-01-31`);
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(r.json.values, {
    'service.revenue': { stores: 6, group: 0, p25: 0, median: 0, p75: 0 },
    'service.revenue_per_ro': { stores: 0, group: null, p25: null, median: null, p75: null },
  });
});

test('whatever the scope: a regional manager and a store manager get the whole group', async () => {
  const all = (await bench(admin)).json;
  const rm = await s.login('rm_south', 'rm_south-pass-123');
  const a = await bench(rm);
  assert.equal(a.status, 200, a.text);
  assert.deepEqual(a.json, all, 'the same numbers as over every store');
  // their own KPI by store covers their region only (three stores): the benchmark is not that
  const own = await s.request('GET', `/api/v1/kpi?ids=service.ro_count&${MARCH}&by=store`, { cookie: rm });
  assert.deepEqual(own.json.rows.map((x) => x.key).sort(), ['A1', 'A2', 'A3']);
  assert.equal(a.json.values['service.ro_count'].stores, 6);
  const sm = await s.login('sm_a1', 'sm_a1-pass-123');
  const b = await bench(sm);
  assert.equal(b.status, 200, b.text);
  assert.deepEqual(b.json, all);
});

test('bad parameters are 400 naming them; no session is 401', async () => {
  let r = await bench(admin, `ids=service.ro_count&to=2024-03-31`);
  assert.equal(r.status, 400);
  assert.equal(r.json.error.code, 'bad_parameter');
  assert.match(r.json.error.message, /from/);
  r = await bench(admin, `ids=nope.kpi&${MARCH}`);
  assert.equal(r.status, 400);
  assert.match(r.json.error.message, /nope\.kpi/);
  r = await bench(admin, `ids=service.ro_count&from=2024-03-01&to=2024-3-31`);
  assert.equal(r.status, 400);
  assert.match(r.json.error.message, /to/);
  r = await s.request('GET', `/api/v1/benchmarks?ids=service.ro_count&${MARCH}`);
  assert.equal(r.status, 401);
});

test('benchmarks.shared = 0: 403 benchmarks_off for executives, regional and store managers; 200 for admins', async () => {
  const put = (v) => s.request('PUT', '/api/v1/settings', { cookie: admin, body: { 'benchmarks.shared': v } });
  let r = await put(0);
  assert.equal(r.status, 200, r.text);
  try {
    for (const [name, pass] of [['exec1', 'exec1-pass-123'], ['rm_south', 'rm_south-pass-123'], ['sm_a1', 'sm_a1-pass-123']]) {
      const cookie = await s.login(name, pass);
      const b = await bench(cookie);
      assert.equal(b.status, 403, `${name}: ${b.text}`);
      assert.equal(b.json.error.code, 'benchmarks_off', name);
      assert.match(b.json.error.message, /benchmarks\.shared/);
    }
    const a = await bench(admin);
    assert.equal(a.status, 200, a.text);
    assert.equal(a.json.values['service.ro_count'].stores, 6);
    // a non-admin may not switch it back
    const ex = await s.login('exec1', 'exec1-pass-123');
    r = await s.request('PUT', '/api/v1/settings', { cookie: ex, body: { 'benchmarks.shared': 1 } });
    assert.equal(r.status, 403);
  } finally {
    r = await put(1);
    assert.equal(r.status, 200, r.text);
  }
  const ex = await s.login('exec1', 'exec1-pass-123');
  const b = await bench(ex);
  assert.equal(b.status, 200, 'on again: 200 for an executive');
});
