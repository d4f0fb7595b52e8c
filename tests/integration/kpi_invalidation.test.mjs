// kpi_invalidation: an import invalidates only the stores it can change.
//
// On a small demo (`fourscore demo --stores 4 --years 1 --end 2026-09`), every
// KPI of the catalogue is asked by store for four periods (a month, a
// mid-month part, a quarter, the month before) and kept warm. Then one repair
// order is imported at store A for a vehicle whose last visit was at store B.
// What must hold:
//   - the import names A and B (and only stores credited with the VIN) in
//     data_change_stores, a store C that never saw the vehicle is not named;
//   - C's answers come from the cache (no KPI computed: the miss counter does
//     not move) and equal what they were;
//   - every answer by store, for the whole group, equals the same query
//     computed cold by `fourscore kpi` (another process, an empty cache), so
//     the stores recomputed alone and the stores kept fit together exactly;
//   - the changed stores were recomputed alone (the counter of stores
//     recomputed moved), and the numbers moved as the visit says: A has one
//     more RO in September, the vehicle left B's retention base for A's;
//   - a setting change still drops everything (C computed again);
//   - with the background refresh on, a group answer made stale by an import
//     is computed again within a moment: the next request finds it warm (no
//     KPI computed) and right (the cold computation again).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { startServer, run, tempDir } from './lib.mjs';

const PERIODS = [
  { from: '2026-09-01', to: '2026-09-30' },
  { from: '2026-09-01', to: '2026-09-15' },
  { from: '2026-07-01', to: '2026-09-30' },
  { from: '2026-08-01', to: '2026-08-31' },
];
const counter = (text, name) => Number(new RegExp(`^${name} (\\d+)$`, 'm').exec(text)?.[1] ?? NaN);
const pause = (ms) => new Promise((r) => setTimeout(r, ms));

let dataDir, s, cookie, ids, cat;
const sql = (text) => execFileSync('mariadb', ['--no-defaults', `--socket=${dataDir}/mysqld.sock`, '-uroot', '-N', '-B',
  'fourscore', '-e', text], { encoding: 'utf8' }).trim();

async function answer(period, stores) {
  const q = `/api/v1/kpi?ids=${ids.join(',')}&from=${period.from}&to=${period.to}&by=store` +
    (stores ? `&stores=${stores.join(',')}` : '');
  const r = await s.request('GET', q, { cookie });
  assert.equal(r.status, 200, `${q}: ${r.text}`);
  return r.json;
}
async function metrics() {
  const r = await s.request('GET', '/metrics', { cookie });
  assert.equal(r.status, 200);
  return { misses: counter(r.text, 'fourscore_kpi_cache_misses_total'),
    recomputed: counter(r.text, 'fourscore_kpi_stores_recomputed_total') };
}
const valueOf = (ans, store, id) => ans.rows.find((r) => r.key === store).values[id];

before(async () => {
  dataDir = tempDir('fs-invalidation-');
  const load = await run(['demo', '--stores', '4', '--years', '1', '--end', '2026-09'], { dataDir, timeoutMs: 900000 });
  assert.equal(load.code, 0, load.stderr);
  // no background refresh here (the counters must move only with the test's requests); the last test has it
  s = await startServer({ dataDir, env: { FOURSCORE_KPI_REFRESH_MS: '0' } });
  cookie = await s.login('admin', s.adminPassword);
  cat = (await s.request('GET', '/api/v1/kpis', { cookie })).json.kpis;
  ids = cat.filter((k) => k.by.includes('store')).map((k) => k.id);
  assert.ok(ids.length > 50, `the catalogue has ${ids.length} KPIs by store`);
});

after(async () => {
  if (s) await s.stop();
});

test('an import at A for a vehicle last seen at B recomputes A and B alone; C is served from the cache', async () => {
  // the vehicle: last visit (a non-internal RO) at B in the year before September, never seen at A
  const [vin, storeB] = sql(`SELECT o.vin, o.store_code FROM repair_orders o
      WHERE o.ro_type <> 'internal' AND o.closed_at = (SELECT MAX(x.closed_at) FROM repair_orders x
        WHERE x.vin = o.vin AND x.ro_type <> 'internal')
      AND o.closed_at BETWEEN '2026-03-01' AND '2026-08-31'
      ORDER BY o.vin LIMIT 1`).split('\t');
  assert.ok(vin && storeB, 'the demo has a vehicle to move');
  const credited = new Set(sql(`SELECT store_code FROM repair_orders WHERE vin = '${vin}'
      UNION SELECT store_code FROM vehicle_sales WHERE vin = '${vin}'
      UNION SELECT store_code FROM insurance_policies WHERE vin = '${vin}'`).split('\n'));
  const all = sql('SELECT store_code FROM stores ORDER BY store_code').split('\n');
  const storeA = all.find((c) => !credited.has(c));
  const storeC = all.find((c) => !credited.has(c) && c !== storeA);
  assert.ok(storeA && storeC, `two stores that never saw ${vin} (credited: ${[...credited]})`);
  const customer = sql(`SELECT customer_code FROM customers WHERE store_code = '${storeA}' ORDER BY customer_code LIMIT 1`);

  // warm: every KPI by store for each period, for the group and for C alone
  const before = [], beforeC = [];
  for (const p of PERIODS) {
    before.push(await answer(p));
    beforeC.push(await answer(p, [storeC]));
  }
  const byInsurer = cat.filter((k) => k.by.includes('insurer')).map((k) => k.id);
  assert.ok(byInsurer.length >= 4, 'KPIs by insurer');
  const others = [['insurer', byInsurer, PERIODS[2]], ['month', ids, PERIODS[2]]].map(([by, list, p]) =>
    ({ by, list, p, q: `/api/v1/kpi?ids=${list.join(',')}&from=${p.from}&to=${p.to}&by=${by}` }));
  for (const { q } of others) assert.equal((await s.request('GET', q, { cookie })).status, 200, q);
  const m0 = await metrics();

  const file = join(tempDir('fs-invalidation-ro-'), 'repair_orders.csv');
  writeFileSync(file, 'store_code,ro_no,vin,customer_code,ro_type,payer,opened_at,closed_at\n'
    + `${storeA},INV-T1,${vin},${customer},maintenance,customer,2026-09-12 09:00,2026-09-12 11:00\n`);
  const out = await s.cli(['import', 'repair_orders', file]);
  assert.equal(out.code, 0, out.stderr);
  await pause(30);     // another process's change is seen within 20 ms (KPI_GENERATION_FRESH_MS)

  // what the import named
  const named = sql(`SELECT store_code FROM data_change_stores WHERE generation =
      (SELECT generation FROM data_generation WHERE id = 1) ORDER BY store_code`).split('\n');
  assert.deepEqual(named, [...new Set([...credited, storeA])].sort(), 'the import names A and the stores credited with the VIN');
  assert.ok(!named.includes(storeC), 'C is not named');

  // C: served from the cache, unchanged
  for (let i = 0; i < PERIODS.length; i++)
    assert.deepEqual(await answer(PERIODS[i], [storeC]), beforeC[i], `C's answer for ${PERIODS[i].from}..${PERIODS[i].to}`);
  const m1 = await metrics();
  assert.equal(m1.misses, m0.misses, 'C computed nothing');

  // the whole group: the changed stores recomputed alone, every answer as a cold computation gives it
  const after = [];
  for (const p of PERIODS) after.push(await answer(p));
  const m2 = await metrics();
  assert.ok(m2.misses > m1.misses, 'the group computed the changed stores');
  assert.ok(m2.recomputed - m1.recomputed >= named.length, `stores recomputed alone: ${m2.recomputed - m1.recomputed}`);
  for (let i = 0; i < PERIODS.length; i++) {
    const p = PERIODS[i];
    const cold = await s.cli(['kpi', ids.join(','), '--from', p.from, '--to', p.to, '--by', 'store', '--format', 'json']);
    assert.equal(cold.code, 0, cold.stderr);
    assert.deepEqual(after[i], JSON.parse(cold.stdout), `${p.from}..${p.to}: the served answer is the cold one`);
  }

  // by insurer and by month (warm from before the import): other components, the same rule
  for (const { by, list, p, q } of others) {
    const served = await s.request('GET', q, { cookie });
    assert.equal(served.status, 200, served.text);
    const cold = await s.cli(['kpi', list.join(','), '--from', p.from, '--to', p.to, '--by', by, '--format', 'json']);
    assert.equal(cold.code, 0, cold.stderr);
    assert.deepEqual(served.json, JSON.parse(cold.stdout), `by ${by}: the served answer is the cold one`);
  }
  assert.equal((s.logs() + s.stderr()).includes('computing every store'), false, 'every narrowed statement ran');

  // the numbers moved as the visit says
  const sept = 0, august = 3;
  assert.equal(valueOf(after[sept], storeA, 'service.ro_count'), valueOf(before[sept], storeA, 'service.ro_count') + 1,
    'A: one more RO in September');
  assert.equal(valueOf(after[sept], storeA, 'retention.base'), valueOf(before[sept], storeA, 'retention.base') + 1,
    'A: the vehicle joins its base');
  assert.equal(valueOf(after[sept], storeB, 'retention.base'), valueOf(before[sept], storeB, 'retention.base') - 1,
    'B: the vehicle leaves its base at once');
  assert.deepEqual(after[august].rows.find((r) => r.key === storeC), before[august].rows.find((r) => r.key === storeC),
    'C in August: as it was');
});

test('a setting change still drops every store', async () => {
  const storeC = sql('SELECT MAX(store_code) FROM stores');
  await answer(PERIODS[0], [storeC]);
  const m0 = await metrics();
  await answer(PERIODS[0], [storeC]);
  assert.equal((await metrics()).misses, m0.misses, 'warm');
  const current = (await s.request('GET', '/api/v1/settings', { cookie })).json['service.followup_days'];
  const put = await s.request('PUT', '/api/v1/settings', { cookie, body: { 'service.followup_days': current } });
  assert.equal(put.status, 200, put.text);
  await answer(PERIODS[0], [storeC]);
  assert.ok((await metrics()).misses > m0.misses, 'computed again after the setting');
});

test('the background refresh computes a stale group answer again before the next request', async () => {
  await s.stop();
  s = await startServer({ dataDir, env: { FOURSCORE_KPI_REFRESH_MS: '100' } });
  cookie = await s.login('admin', s.adminPassword);
  const p = PERIODS[2];
  await answer(p);
  const storeA = sql('SELECT MIN(store_code) FROM stores');
  const [vin, customer] = sql(`SELECT vin, customer_code FROM repair_orders WHERE store_code = '${storeA}'
      ORDER BY closed_at DESC LIMIT 1`).split('\t');
  const file = join(tempDir('fs-invalidation-ro-'), 'repair_orders.csv');
  writeFileSync(file, 'store_code,ro_no,vin,customer_code,ro_type,payer,opened_at,closed_at\n'
    + `${storeA},INV-T2,${vin},${customer},repair,customer,2026-09-20 09:00,2026-09-20 15:00\n`);
  const m0 = await metrics();
  const out = await s.cli(['import', 'repair_orders', file]);
  assert.equal(out.code, 0, out.stderr);
  // wait for the refresh: the misses move (the changed store recomputed), then stay for a second
  let m = m0, still = 0;
  for (let i = 0; i < 300 && still < 10; i++) {
    await pause(100);
    const now = await metrics();
    still = now.misses > m0.misses && now.misses === m.misses ? still + 1 : 0;
    m = now;
  }
  assert.ok(m.misses > m0.misses && m.recomputed > m0.recomputed, 'the refresh recomputed the changed store');
  const served = await answer(p);
  assert.equal((await metrics()).misses, m.misses, 'the next request computed nothing');
  const cold = await s.cli(['kpi', ids.join(','), '--from', p.from, '--to', p.to, '--by', 'store', '--format', 'json']);
  assert.equal(cold.code, 0, cold.stderr);
  assert.deepEqual(served, JSON.parse(cold.stdout), 'and is the cold answer');
});
