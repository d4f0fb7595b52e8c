// operations: what IT relies on. The container's entrypoint script, run
// natively against a MariaDB of the test's own, waits for the database,
// migrates, creates the admin and serves; a mariadb-dump backup restores into
// a new server with the same figures; the server rides out its database being
// killed and restarted under traffic, losing no acknowledged import; /metrics
// answers Prometheus text to admins and metrics tokens only.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { rmSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { startServer, startMariadb, tempDir, bin, root } from './lib.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const regionsCsv = (rows) => 'region_code,name\n' + rows.map(([c, n]) => `${c},${n}`).join('\n') + '\n';

async function get(url, path, headers = {}) {
  const r = await fetch(url + path, { headers });
  return { status: r.status, text: await r.text() };
}

test('the entrypoint waits for the database, migrates, creates the admin and serves', async () => {
  const dir = tempDir('fs-entry-');
  const db = await startMariadb(dir);
  const env = {
    ...process.env, FOURSCORE_BIN: bin, FOURSCORE_DB_URL: db.url('fourscore'), FOURSCORE_LISTEN: '127.0.0.1:0',
    FOURSCORE_ADMIN_PASSWORD: 'entry-admin-pass', FOURSCORE_PWHASH_OPSLIMIT: '1', FOURSCORE_PWHASH_MEMLIMIT: String(8 << 20),
    FOURSCORE_DB_WAIT: '60',
  };
  // the entrypoint starts before the database exists
  const p = spawn(join(root, 'scripts', 'docker-entrypoint.sh'), [], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '', err = '';
  p.stdout.on('data', (d) => { out += d; });
  p.stderr.on('data', (d) => { err += d; });
  await sleep(3000);
  assert.match(err, /waiting for the database/, 'it says it is waiting');
  await db.start();
  assert.equal((await db.sql('CREATE DATABASE fourscore CHARACTER SET utf8mb4')).code, 0);
  const url = await new Promise((res, rej) => {
    const timer = setTimeout(() => rej(new Error('entrypoint did not serve:\n' + err + out)), 90000);
    const check = () => { const m = /listening on (http:\/\/[0-9.:]+)/.exec(out); if (m) { clearTimeout(timer); res(m[1]); } };
    p.stdout.on('data', check);
    check();
  });
  assert.equal((await get(url, '/api/v1/health')).status, 200);
  const migrations = await db.sql('SELECT COUNT(*) FROM schema_migrations', 'fourscore');
  assert.ok(Number(migrations.stdout.trim()) >= 1, 'migrations recorded');
  const login = await fetch(url + '/api/v1/session', { method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'admin', password: 'entry-admin-pass' }) });
  assert.equal(login.status, 200, 'the admin from FOURSCORE_ADMIN_PASSWORD logs in');
  p.kill('SIGTERM');
  const code = await new Promise((r) => p.on('close', r));
  assert.equal(code, 0, 'SIGTERM ends it cleanly');
  await db.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('a mariadb-dump backup restores into a new server with the same data', async () => {
  const dir = tempDir('fs-backup-');
  mkdirSync(join(dir, 'a')); mkdirSync(join(dir, 'b'));
  const a = await startMariadb(join(dir, 'a'));
  await a.start();
  await a.sql('CREATE DATABASE fourscore CHARACTER SET utf8mb4');
  const s1 = await startServer({ args: ['--db', a.url('fourscore')] });
  const cookie = await s1.adminCookie();
  const imp = await s1.request('POST', '/api/v1/import/regions', { cookie, contentType: 'text/csv', body: regionsCsv([['S', '华南'], ['E', '华东']]) });
  assert.equal(imp.status, 200, imp.text);
  const before = (await s1.request('GET', '/api/v1/regions', { cookie })).json;
  await s1.stop();

  const dump = await new Promise((res) => {
    const p = spawn('mariadb-dump', ['--no-defaults', '-uroot', `--socket=${a.socket}`, '--single-transaction', '--routines', 'fourscore']);
    const chunks = []; let e = '';
    p.stdout.on('data', (d) => chunks.push(d)); p.stderr.on('data', (d) => { e += d; });
    p.on('close', (code) => res({ code, sql: Buffer.concat(chunks).toString('utf8'), e }));
  });
  assert.equal(dump.code, 0, dump.e);
  await a.stop();

  const b = await startMariadb(join(dir, 'b'));
  await b.start();
  await b.sql('CREATE DATABASE fourscore CHARACTER SET utf8mb4');
  const restore = await new Promise((res) => {
    const p = spawn('mariadb', ['--no-defaults', '-uroot', `--socket=${b.socket}`, 'fourscore']);
    let e = ''; p.stderr.on('data', (d) => { e += d; });
    p.on('close', (code) => res({ code, e }));
    p.stdin.end(dump.sql);
  });
  assert.equal(restore.code, 0, restore.e);
  const s2 = await startServer({ args: ['--db', b.url('fourscore')] });
  const cookie2 = await s2.adminCookie();
  const after = (await s2.request('GET', '/api/v1/regions', { cookie: cookie2 })).json;
  assert.deepEqual(after, before, 'the restored server answers the same');
  assert.equal((await s2.stop()).code, 0);
  await b.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('the server rides out its database being killed and restarted, losing no acknowledged import', async () => {
  const s = await startServer();
  const cookie = await s.adminCookie();
  const acknowledged = [];
  let stop = false, i = 0, errors500 = 0;
  const traffic = (async () => {
    while (!stop) {
      const code = `R${i++}`;
      const r = await s.request('POST', '/api/v1/import/regions', { cookie, contentType: 'text/csv', body: regionsCsv([[code, '区域' + code]]) })
        .catch(() => ({ status: 0 }));
      if (r.status === 200) acknowledged.push(code);
      else if (r.status >= 500 && r.status !== 503) errors500++;
      await s.request('GET', '/api/v1/health').catch(() => null);
    }
  })();
  await sleep(1500);
  await s.killDb();
  const t0 = Date.now();
  const down = await s.request('GET', '/api/v1/health');
  assert.equal(down.status, 503, 'health is 503 while the database is down');
  assert.ok(Date.now() - t0 < 3000, 'and answers fast');
  const q = await s.request('GET', '/api/v1/regions', { cookie });
  assert.ok(q.status === 503 || q.status === 401, `a query fails fast with a clear error (${q.status})`);
  assert.ok(q.json?.error?.code, 'in the JSON error format');
  await sleep(1000);
  await s.restartDb();
  await sleep(1500);
  stop = true;
  await traffic;
  assert.equal(s.proc.exitCode, null, 'the server is still running');
  const cookie2 = await s.adminCookie();
  const regions = (await s.request('GET', '/api/v1/regions', { cookie: cookie2 })).json.map((r) => r.code);
  for (const code of acknowledged) assert.ok(regions.includes(code), `acknowledged import ${code} is there`);
  assert.ok(acknowledged.length > 2, 'imports were acknowledged before and after the outage');
  assert.equal(errors500, 0, 'no 500s, only 503 while down');
  const res = await s.stop();
  assert.equal(res.code, 0);
});

test('/metrics answers Prometheus text to an admin and a metrics token, and no one else', async () => {
  const s = await startServer();
  const cookie = await s.adminCookie();
  const tok = await s.cli(['token', 'create', 'prom', '--metrics']);
  assert.equal(tok.code, 0, tok.stderr);
  const secret = tok.stdout.trim().split('\n').pop();
  await s.request('GET', '/api/v1/health');
  const m1 = await s.request('GET', '/metrics', { cookie });
  assert.equal(m1.status, 200);
  assert.match(m1.headers.get('content-type'), /text\/plain/);
  assert.match(m1.text, /fourscore_http_requests_total\{route="\/api\/v1\/health",method="GET",status="200"\} \d+/);
  assert.match(m1.text, /fourscore_http_request_duration_seconds_bucket\{le="\+Inf"\} \d+/);
  assert.match(m1.text, /fourscore_db_pool_connections\{state="in_use"\} \d+/);
  const m2 = await s.request('GET', '/metrics', { token: secret });
  assert.equal(m2.status, 200, 'a metrics token reads /metrics');
  const other = await s.request('GET', '/api/v1/me', { token: secret });
  assert.equal(other.status, 403, 'and nothing else');
  assert.equal((await s.request('GET', '/metrics')).status, 401, 'no credentials: 401');
  assert.equal((await s.stop()).code, 0);
});

test('an upgrade that applies migrations to a database with data rebuilds the derived tables', async () => {
  const { spawnSync } = await import('node:child_process');
  const { join: pjoin } = await import('node:path');
  const fixture = pjoin(root, 'tests', 'fixtures', 'kpi');
  const order = ['regions', 'stores', 'insurers', 'staff', 'customers', 'vehicle_sales', 'repair_orders', 'ro_labour', 'ro_parts'];
  let s = await startServer();
  const dataDir = s.dataDir;
  for (const e of order) {
    const r = await s.cli(['import', e, pjoin(fixture, `${e}.csv`)]);
    assert.equal(r.code, 0, r.stderr);
  }
  const cookie = await s.adminCookie();
  const q = '/api/v1/kpi?ids=service.ro_count,service.revenue&from=2000-01-01&to=2099-12-31&by=group';
  const before = (await s.request('GET', q, { cookie })).json.rows[0].values;
  assert.ok(before['service.ro_count'] > 0, 'the fixture has repair orders');
  assert.equal((await s.stop('SIGTERM', { keep: true })).code, 0);

  // As if an older version ran here: the newest migration not yet applied,
  // and the derived tables it would bring empty.
  const sql = (text) => spawnSync('mariadb', ['--no-defaults', '-uroot', `--socket=${pjoin(dataDir, 'mysqld.sock')}`, 'fourscore', '-e', text], { encoding: 'utf8' });
  const db = await startServer({ dataDir });      // keeps the local server up while we edit
  const edit = sql('DELETE FROM schema_migrations WHERE version = (SELECT MAX(version) FROM (SELECT version FROM schema_migrations) v); DELETE FROM rollup_ro; DELETE FROM rollup_ro_day;');
  assert.equal(edit.status, 0, edit.stderr);
  assert.equal((await db.stop('SIGTERM', { keep: true })).code, 0);

  s = await startServer({ dataDir });
  const cookie2 = await s.adminCookie();
  const after = (await s.request('GET', q, { cookie: cookie2 })).json.rows[0].values;
  assert.deepEqual(after, before, 'the rollups were rebuilt from the facts at start');
  assert.match(s.stderr() + s.logs(), /rebuil/, 'and it said so');
  assert.equal((await s.stop()).code, 0);
  rmSync(dataDir, { recursive: true, force: true });
});
