// timeout: the KPI statement time limit (FOURSCORE_KPI_STATEMENT_TIMEOUT),
// end to end. A test plugin (tests/plugins/slow.c) has one KPI whose query
// MariaDB's max_statement_time ends, and one whose query lifts that limit for
// itself, as a plan that never checks for being killed would: the server's
// own watchdog must end that one, 2 s past the limit. Both answer 503 with a
// message naming the time limit, long before their 20 s sleep is over, and
// the server goes on serving.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join, dirname } from 'node:path';
import { readdirSync, symlinkSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { startServer, tempDir, root, bin } from './lib.mjs';

const LIMIT_S = 0.5;
const PERIOD = 'from=2024-03-01&to=2024-03-31';
let s, cookie;

before(async () => {
  const pluginDir = tempDir('fs-plugins-');
  const built = join(dirname(bin), 'plugins');
  for (const f of readdirSync(built).filter((f) => f.endsWith('.so'))) symlinkSync(join(built, f), join(pluginDir, f));
  execFileSync('cc', ['-std=c11', '-shared', '-fPIC', '-I', join(root, 'core', 'include'),
    '-o', join(pluginDir, 'slow.so'), join(root, 'tests', 'plugins', 'slow.c')]);
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
