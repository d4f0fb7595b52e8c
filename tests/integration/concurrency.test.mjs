// concurrency: slow KPI work does not take what other requests need.
// A test plugin (tests/plugins/slow.c) has a KPI whose one statement takes
// 3 s. Checked here:
// - health and a signed-in /api/v1/me answer at once while every worker
//   thread of the server is busy with KPI work (they have workers of their
//   own);
// - requests waiting for another request's computation of the same
//   component (single flight) hold no database connection meanwhile, so a
//   request for something else still gets one;
// - a cold request computes on extra connections only while the pool keeps
//   a reserve free, so another request still gets one at once.
// (tests/bench/concurrency.sh measures the same on a 200-store group.)
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, pluginDirWith } from './lib.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const counter = (text, name) => Number(new RegExp(`^${name} (\\d+)$`, 'm').exec(text)?.[1]);
let pluginDir, s, cookie;

before(async () => {
  pluginDir = pluginDirWith([{ src: 'tests/plugins/slow.c', out: 'slow.so' }]);
  // a main pool of 4 connections: a spare must leave 2 of them free
  s = await startServer({ args: ['--plugin-dir', pluginDir],
    env: { FOURSCORE_DB_POOL: '4', FOURSCORE_KPI_STATEMENT_TIMEOUT: '10' } });
  cookie = await s.adminCookie();
});

after(async () => {
  if (s) assert.equal((await s.stop()).code, 0, 'the server stops cleanly');
});

async function timed(srv, path, c) {
  const t0 = performance.now();
  const r = await srv.request('GET', path, { cookie: c });
  return { r, seconds: (performance.now() - t0) / 1000 };
}

test('with every worker thread on slow KPI work, health and a signed-in /me answer at once', async () => {
  const small = await startServer({ args: ['--plugin-dir', pluginDir],
    env: { FOURSCORE_THREADS: '2', FOURSCORE_KPI_STATEMENT_TIMEOUT: '10' } });
  try {
    const admin = await small.adminCookie();
    const fresh = await small.login('admin', small.adminPassword);   // a session not yet cached
    // four of different periods on two worker threads: two run, two queue, for about 6 s
    const busy = ['2024-01', '2024-02', '2024-04', '2024-05'].map((m) =>
      timed(small, `/api/v1/kpi?ids=slow.three_seconds&from=${m}-01&to=${m}-28&by=group`, admin));
    await sleep(500);
    const me = await timed(small, '/api/v1/me', fresh);
    const health = await timed(small, '/api/v1/health');
    assert.equal(me.r.status, 200, me.r.text);
    assert.equal(me.r.json.role, 'admin');
    assert.ok(me.seconds < 1, `/api/v1/me answered in ${me.seconds.toFixed(2)} s behind four slow KPI requests`);
    assert.equal(health.r.status, 200, health.r.text);
    assert.ok(health.seconds < 1, `health answered in ${health.seconds.toFixed(2)} s behind four slow KPI requests`);
    const done = await Promise.all(busy);
    for (const { r } of done) assert.equal(r.status, 200, r.text);
    assert.ok(Math.max(...done.map((d) => d.seconds)) > 5, 'the last two did queue behind the first two');
  } finally {
    await small.stop();
  }
});

test('requests waiting for one computation hold no connection: another request gets one at once', async () => {
  const before = await s.request('GET', '/metrics', { cookie });
  const misses0 = counter(before.text, 'fourscore_kpi_cache_misses_total');
  // the same component (one month) asked four ways, more than the pool's 4 connections could
  // serve if each waiter held one; the whole-answer cache cannot serve any of them
  const q = 'ids=slow.three_seconds&from=2023-06-01&to=2023-06-30';
  const same = ['group', 'store', 'region', 'month'].map((by) => timed(s, `/api/v1/kpi?${q}&by=${by}`, cookie));
  await sleep(700);
  const other = await timed(s, '/api/v1/kpi?ids=service.ro_count&from=2023-07-01&to=2023-07-31&by=group', cookie);
  assert.equal(other.r.status, 200, other.r.text);
  assert.ok(other.seconds < 1.5, `another KPI answered in ${other.seconds.toFixed(2)} s while four requests waited for one`);
  const done = await Promise.all(same);
  for (const { r } of done) assert.equal(r.status, 200, r.text);
  const later = await s.request('GET', '/metrics', { cookie });
  // the other request's one component and the shared one
  assert.equal(counter(later.text, 'fourscore_kpi_cache_misses_total') - misses0, 2, 'the slow component computed once');
  assert.ok(Math.max(...done.map((d) => d.seconds)) < 5.5, 'all four answered after the one 3 s computation');
});

test('a cold request takes extra connections only while the pool keeps its reserve', async () => {
  // three months of the slow KPI by month: three components. On a pool of 4 the
  // request computes on its own connection and one spare (a second spare would
  // leave fewer than 2 free): two rounds of 3 s, and two connections stay free.
  const slow = timed(s, '/api/v1/kpi?ids=slow.three_seconds&from=2022-01-01&to=2022-03-31&by=month', cookie);
  await sleep(700);
  const other = await timed(s, '/api/v1/kpi?ids=service.ro_count&from=2022-07-01&to=2022-07-31&by=group', cookie);
  assert.equal(other.r.status, 200, other.r.text);
  assert.ok(other.seconds < 1.5, `another KPI answered in ${other.seconds.toFixed(2)} s beside a cold request`);
  const { r, seconds } = await slow;
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.rows.length, 3);
  assert.ok(seconds > 5.5 && seconds < 9, `three 3 s components on two connections: ${seconds.toFixed(2)} s`);
});
