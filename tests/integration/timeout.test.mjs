// timeout: the database time limits, end to end.
// The KPI statement time limit (FOURSCORE_KPI_STATEMENT_TIMEOUT): a test
// plugin (tests/plugins/slow.c) has one KPI whose query MariaDB's
// max_statement_time ends, and one whose query lifts that limit for itself,
// as a plan that never checks for being killed would: the server's own
// watchdog must end that one, 2 s past the limit. Both answer 503 with a
// message naming the time limit, long before their 20 s sleep is over, and
// the server goes on serving.
// The bound on a silent database (FOURSCORE_DB_TIMEOUT): see below.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, pluginDirWith, mariadbPids } from './lib.mjs';

const LIMIT_S = 0.5;
const PERIOD = 'from=2024-03-01&to=2024-03-31';
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
let s, cookie, pluginDir;

before(async () => {
  pluginDir = pluginDirWith([{ src: 'tests/plugins/slow.c', out: 'slow.so' }]);
  s = await startServer({ args: ['--plugin-dir', pluginDir], env: { FOURSCORE_KPI_STATEMENT_TIMEOUT: String(LIMIT_S) } });
  cookie = await s.adminCookie();
});

after(async () => {
  if (s) assert.equal((await s.stop()).code, 0, 'the server stops cleanly');
});

async function timed(method, path, body) {
  const t0 = performance.now();
  const r = await s.request(method, path, { cookie, body });
  return { r, seconds: (performance.now() - t0) / 1000 };
}

test('a KPI query MariaDB stops at the limit answers 503 naming the limit', async () => {
  const { r, seconds } = await timed('GET', `/api/v1/kpi?ids=slow.server_stops&${PERIOD}&by=group`);
  assert.equal(r.status, 503, r.text);
  assert.equal(r.json.error.code, 'db_unavailable', 'the code docs/operations.md names');
  assert.match(r.json.error.message, /slow\.server_stops.*time limit \(0\.5 s\)/);
  assert.ok(seconds < LIMIT_S + 1.5, `ended near the limit (${seconds.toFixed(2)} s), not after the 20 s sleep`);
});

test('a KPI query the server does not stop is cut by the watchdog, 503 naming the limit', async () => {
  const { r, seconds } = await timed('GET', `/api/v1/kpi?ids=slow.unstoppable&${PERIOD}&by=group`);
  assert.equal(r.status, 503, r.text);
  assert.match(r.json.error.message, /slow\.unstoppable.*time limit/);
  assert.ok(seconds > LIMIT_S + 1.5 && seconds < LIMIT_S + 6, `cut after the limit and its 2 s grace (${seconds.toFixed(2)} s)`);
});

test('a batch holding both fails as a whole with the same error; the server serves on', async () => {
  const { r, seconds } = await timed('POST', '/api/v1/kpi/batch',
    [{ ids: ['slow.server_stops', 'slow.unstoppable', 'service.ro_count'], from: '2024-03-01', to: '2024-03-31', by: 'store' }]);
  assert.equal(r.status, 503, r.text);
  assert.match(r.json.error.message, /time limit/);
  assert.ok(seconds < LIMIT_S + 8, `bounded (${seconds.toFixed(2)} s)`);
  const health = await s.request('GET', '/api/v1/health');
  assert.equal(health.status, 200, 'health after the cut connections');
  const ok = await s.request('GET', `/api/v1/kpi?ids=service.ro_count&${PERIOD}&by=group`, { cookie });
  assert.equal(ok.status, 200, ok.text);
  assert.equal(ok.json.rows.length, 1);
});

// --- identifying callers never waits behind KPI work ---
// A server with a main pool of 2 connections: four three-second KPI
// statements of different periods hold both for about 6 s. Meanwhile a
// session never seen before (so it must be looked up in the database) asks
// for /api/v1/me, and health is asked: both answer at once, on the small
// pool of their own, instead of waiting for a KPI connection.
test('with every KPI connection busy, a new session is identified and /me answers at once', async () => {
  const small = await startServer({ args: ['--plugin-dir', pluginDir],
    env: { FOURSCORE_DB_POOL: '2', FOURSCORE_KPI_STATEMENT_TIMEOUT: '10' } });
  try {
    const admin = await small.adminCookie();
    const fresh = await small.login('admin', small.adminPassword);   // a second session, not yet cached
    const months = ['2024-01', '2024-02', '2024-04', '2024-05'];
    const busy = months.map((m) => small.request('GET', `/api/v1/kpi?ids=slow.three_seconds&from=${m}-01&to=${m}-28&by=group`, { cookie: admin }));
    await sleep(500);     // the first two statements run, the other two wait for a connection
    const t0 = performance.now();
    const me = await small.request('GET', '/api/v1/me', { cookie: fresh });
    const meSeconds = (performance.now() - t0) / 1000;
    assert.equal(me.status, 200, me.text);
    assert.equal(me.json.role, 'admin');
    assert.ok(meSeconds < 1, `/api/v1/me answered in ${meSeconds.toFixed(2)} s while the KPI pool was busy`);
    const done = await Promise.all(busy);
    for (const r of done) assert.equal(r.status, 200, r.text);
  } finally {
    await small.stop();
  }
});

// --- a silent database (FOURSCORE_DB_TIMEOUT) ---
// A second server with a short bound on a silent database and a long KPI
// statement limit: a statement longer than the bound on a database that
// answers runs to its end; with mariadbd frozen by SIGSTOP, health answers
// 503 within about a second and every other request 503 db_unavailable within
// the bound; after SIGCONT all answers again, without a restart of fourscore.

const SILENT_S = 2;
let st, stCookie;

async function startStallServer() {
  if (st) return;
  st = await startServer({ args: ['--plugin-dir', pluginDir],
    env: { FOURSCORE_DB_TIMEOUT: String(SILENT_S), FOURSCORE_KPI_STATEMENT_TIMEOUT: '10' } });
  stCookie = await st.adminCookie();
}

after(async () => {
  if (st) assert.equal((await st.stop()).code, 0, 'the stall server stops cleanly');
});

async function stTimed(path, o = {}) {
  const t0 = performance.now();
  const r = await st.request(o.method || 'GET', path, { cookie: stCookie, ...o });
  return { r, seconds: (performance.now() - t0) / 1000 };
}

// Freeze the server's mariadbd for the length of fn; SIGCONT whatever happens.
async function whileFrozen(s, fn) {
  const pids = mariadbPids(s.dataDir);
  assert.ok(pids.length >= 1, 'a mariadbd runs for the data dir');
  for (const pid of pids) process.kill(pid, 'SIGSTOP');
  try {
    return await fn();
  } finally {
    for (const pid of pids) { try { process.kill(pid, 'SIGCONT'); } catch { /* gone */ } }
  }
}

// --- single flight ---
// Three identical requests of a three-second KPI, sent together on a cold
// cache (a period no test asked before, in three spellings of the same
// answer so that the whole-answer cache cannot serve them: by group, by
// store, by region). The component is computed once (one miss in /metrics),
// the other two wait for it: all three answer after about 3 s, not 9 s of
// database work.
const counter = (text, name) => Number(new RegExp(`^${name} (\\d+)$`, 'm').exec(text)?.[1]);
test('identical concurrent misses are computed once and shared', async () => {
  await startStallServer();     // its KPI statement limit (10 s) lets a 3 s statement finish
  const before = await st.request('GET', '/metrics', { cookie: stCookie });
  const misses0 = counter(before.text, 'fourscore_kpi_cache_misses_total');
  assert.ok(Number.isFinite(misses0), 'the miss counter is exposed');
  const q = 'ids=slow.three_seconds&from=2023-06-01&to=2023-06-30';
  const t0 = performance.now();
  const answers = await Promise.all(['group', 'store', 'region'].map((by) =>
    st.request('GET', `/api/v1/kpi?${q}&by=${by}`, { cookie: stCookie })));
  const seconds = (performance.now() - t0) / 1000;
  for (const r of answers) assert.equal(r.status, 200, r.text);
  const later = await st.request('GET', '/metrics', { cookie: stCookie });
  assert.equal(counter(later.text, 'fourscore_kpi_cache_misses_total') - misses0, 1, 'one computation for three requests');
  assert.ok(seconds < 6, `all three answered in ${seconds.toFixed(2)} s (one 3 s statement, shared)`);
});

test('a statement longer than FOURSCORE_DB_TIMEOUT on a database that answers is not cut', async () => {
  await startStallServer();
  const { r, seconds } = await stTimed(`/api/v1/kpi?ids=slow.three_seconds&${PERIOD}&by=group`);
  assert.equal(r.status, 200, r.text);
  assert.ok(seconds >= 3 && seconds < 8, `ran its 3 s (${seconds.toFixed(2)} s) past the ${SILENT_S} s bound`);
});

test('a frozen database: health 503 within ~1 s, requests 503 db_unavailable within the bound; SIGCONT: all back', async () => {
  await startStallServer();
  const ok = await stTimed(`/api/v1/kpi?ids=service.ro_count&${PERIOD}&by=group`);
  assert.equal(ok.r.status, 200, ok.r.text);
  const serverPid = st.proc.pid;
  // a second session, never used before: its first request must reach the
  // database (no answer cached for it)
  const fresh = await st.login('admin', st.adminPassword);
  await whileFrozen(st, async () => {
    // a request already waiting on the database when it froze
    const inFlight = stTimed(`/api/v1/kpi?ids=slow.three_seconds&from=2024-04-01&to=2024-04-30&by=group`);
    await sleep(200);
    const t0 = performance.now();
    const health = await st.request('GET', '/api/v1/health');
    const hs = (performance.now() - t0) / 1000;
    assert.equal(health.status, 503, health.text);
    assert.deepEqual(health.json, { status: 'down', db: 'down' });
    assert.ok(hs < 1.5, `health answered in ${hs.toFixed(2)} s`);

    // eight at once, of kinds that each need the database: KPIs of a period not
    // cached, the session of a cookie not seen before, a scorecard list, the catalogue
    const paths = [
      `/api/v1/kpi?ids=service.ro_count&from=2023-01-01&to=2023-01-31&by=group`,
      `/api/v1/kpi?ids=service.revenue&from=2023-02-01&to=2023-02-28&by=store`,
      `/api/v1/kpi?ids=service.ro_count,service.revenue&from=2022-01-01&to=2022-12-31&by=month`,
      `/api/v1/kpis`,
      `/api/v1/scorecards`,
      `/api/v1/regions`,
      `/api/v1/me`,
      `/api/v1/kpi?ids=service.ro_count&from=2021-01-01&to=2021-01-31&by=group`,
    ];
    // health beside them, started last: it answers within ~1 s all the same
    const crowd = paths.map((p, i) => stTimed(p, { cookie: i % 2 ? fresh : stCookie }));
    await sleep(50);
    const t2 = performance.now();
    const healthAmid = await st.request('GET', '/api/v1/health');
    const hs2 = (performance.now() - t2) / 1000;
    assert.equal(healthAmid.status, 503, healthAmid.text);
    assert.ok(hs2 < 1.5, `health amid eight waiting requests answered in ${hs2.toFixed(2)} s`);
    const answers = await Promise.all(crowd);
    for (const [i, { r, seconds }] of answers.entries()) {
      assert.equal(r.status, 503, `${paths[i]}: ${r.status} ${r.text}`);
      assert.ok(r.json?.error?.code, `${paths[i]}: a JSON error (${r.text})`);
      assert.ok(seconds < SILENT_S + 1.5, `${paths[i]} failed within the bound (${seconds.toFixed(2)} s)`);
    }
    const kpi = answers[0].r;
    assert.equal(kpi.json.error.code, 'db_unavailable', kpi.text);
    for (const { r } of answers) assert.match(r.json.error.message, /database|数据库/, `the message says the database is the trouble (${r.text})`);
    const waited = await inFlight;
    assert.equal(waited.r.status, 503, waited.r.text);
    assert.equal(waited.r.json.error.code, 'db_unavailable');
    assert.ok(waited.seconds < SILENT_S + 1.5, `the request in flight ended within the bound (${waited.seconds.toFixed(2)} s)`);

    // once the database has been silent past the bound, a new request fails at once
    const late = await stTimed(`/api/v1/kpi?ids=service.revenue&from=2020-01-01&to=2020-01-31&by=group`);
    assert.equal(late.r.status, 503, late.r.text);
    assert.equal(late.r.json.error.code, 'db_unavailable');
    assert.ok(late.seconds < 0.5, `fails fast once the database is known silent (${late.seconds.toFixed(2)} s)`);
    const h2 = await st.request('GET', '/api/v1/health');
    assert.equal(h2.status, 503, 'still down while frozen');
    await sleep(Math.max(0, 6000 - (performance.now() - t0)));   // frozen for about 6 s in all
  });
  // thawed: health and requests answer again within a few seconds, same process
  const t1 = performance.now();
  let health;
  while (performance.now() - t1 < 5000) {
    health = await st.request('GET', '/api/v1/health');
    if (health.status === 200) break;
    await sleep(100);
  }
  assert.equal(health.status, 200, `health is back (${health.text})`);
  assert.ok((performance.now() - t1) / 1000 < 3, `within ${((performance.now() - t1) / 1000).toFixed(2)} s of SIGCONT`);
  // every pooled connection works again: more requests at once than the pool holds
  const again = await Promise.all(Array.from({ length: 24 }, (_, i) =>
    st.request('GET', `/api/v1/kpi?ids=service.ro_count&from=2019-${String((i % 12) + 1).padStart(2, '0')}-01&to=2019-${String((i % 12) + 1).padStart(2, '0')}-28&by=group`,
      { cookie: i % 2 ? fresh : stCookie })));
  for (const r of again) assert.equal(r.status, 200, r.text);
  assert.equal(st.proc.pid, serverPid);
  assert.equal(st.proc.exitCode, null, 'fourscore was not restarted: the same process serves');
  assert.match(st.logs(), /no answer for \d+ ms \(stalled or unreachable\)/, 'the log says the database went silent');
  assert.match(st.logs(), /the database answers again/, 'and that it came back');
});
