// operations: what IT relies on. The container's entrypoint script, run
// natively against a MariaDB of the test's own, waits for the database,
// migrates, creates the admin and serves; a mariadb-dump backup restores into
// a new server with the same figures; in local mode the server restarts its
// killed database by itself under traffic, losing no acknowledged import; /metrics
// answers Prometheus text to admins and metrics tokens only (its series are
// tested in metrics.test.mjs); local mode's database puts every acknowledged
// commit on disk unless FOURSCORE_LOCALDB_FLUSH=2 says otherwise.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { rmSync, mkdirSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { startServer, startMariadb, tempDir, bin, root, mariadbPids, run } from './lib.mjs';

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

test('local mode restarts its killed mariadbd by itself, losing no acknowledged import; only the starter does', async () => {
  const s = await startServer();
  // a second server attached to the same data dir: it did not start the database, so it never restarts it
  const other = await startServer({ dataDir: s.dataDir });
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
  const waitHealthy = async (srv, ms) => {
    const t0 = Date.now();
    while (Date.now() - t0 < ms) {
      if ((await srv.request('GET', '/api/v1/health')).status === 200) return (Date.now() - t0) / 1000;
      await sleep(100);
    }
    throw new Error(`health did not come back in ${ms} ms\n${srv.logs()}\n${srv.stderr()}`);
  };
  await sleep(1500);
  // twice: the restarted server is supervised in turn
  const pidsSeen = [];
  for (let round = 1; round <= 2; round++) {
    const before = mariadbPids(s.dataDir);
    assert.equal(before.length, 1, 'one mariadbd runs for the data dir');
    pidsSeen.push(before[0]);
    process.kill(before[0], 'SIGKILL');
    const t0 = Date.now();
    const down = await s.request('GET', '/api/v1/health');
    assert.ok(Date.now() - t0 < 2500, `health answers fast while it is gone (${Date.now() - t0} ms)`);
    assert.ok(down.status === 503 || down.status === 200, `503 while down, or 200 once restarted (${down.status})`);
    const q = await s.request('GET', '/api/v1/regions', { cookie });
    assert.ok([200, 503].includes(q.status), `a query meanwhile answers 200 or a clear 503 (${q.status} ${q.text})`);
    if (q.status === 503) assert.ok(q.json?.error?.code, 'in the JSON error format');
    const back = await waitHealthy(s, 30000);
    assert.ok(back < 30, `health back after ${back.toFixed(1)} s`);
    await waitHealthy(other, 10000);
    const after = mariadbPids(s.dataDir);
    assert.equal(after.length, 1, `exactly one mariadbd again (${after})`);
    assert.notEqual(after[0], before[0], 'a new mariadbd');
    const killed = new RegExp(`local MariaDB server \\(pid ${before[0]}\\) was killed by signal 9[^"]*; restarting it`);
    // the log lines are written by the supervisor thread, which may come a moment after health answers again
    const restarted = new RegExp(`the local MariaDB server was restarted \\(pid ${after[0]}, answering after`);
    for (let t0 = Date.now(); Date.now() - t0 < 10000 && !(killed.test(s.logs()) && restarted.test(s.logs()));) await sleep(100);
    assert.match(s.logs(), killed, 'the log says it was killed and is being restarted');
    assert.match(s.logs(), restarted, 'and that it was');
  }
  await sleep(1500);
  stop = true;
  await traffic;
  assert.equal(s.proc.exitCode, null, 'the server is still running');
  assert.doesNotMatch(other.logs(), /restart/i, 'the attached server, which did not start the database, did not restart it');
  const cookie2 = await s.adminCookie();
  const regions = (await s.request('GET', '/api/v1/regions', { cookie: cookie2 })).json.map((r) => r.code);
  for (const code of acknowledged) assert.ok(regions.includes(code), `acknowledged import ${code} is there`);
  assert.ok(acknowledged.length > 2, 'imports were acknowledged before and after the outages');
  assert.equal(errors500, 0, 'no 500s, only 503 while down');
  const viaOther = await other.request('GET', '/api/v1/regions', { cookie: await other.adminCookie() });
  assert.equal(viaOther.status, 200, 'the attached server serves from the restarted database too');
  assert.equal((await other.stop()).code, 0);
  const res = await s.stop();
  assert.equal(res.code, 0);
  assert.deepEqual(res.leftover, [], 'no mariadbd left behind');
  rmSync(s.dataDir, { recursive: true, force: true });
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

test('local mode: an acknowledged commit is on disk by default; FOURSCORE_LOCALDB_FLUSH=2 chooses speed; other values are refused', async () => {
  // what the running server says, asked over its socket, and the command line it was started with
  const inForce = (dataDir) => spawnSync('mariadb', ['--no-defaults', '-uroot', `--socket=${join(dataDir, 'mysqld.sock')}`, '-N', '-B',
    '-e', 'SELECT @@innodb_flush_log_at_trx_commit'], { encoding: 'utf8' });
  for (const [env, want] of [[{}, '1'], [{ FOURSCORE_LOCALDB_FLUSH: '2' }, '2']]) {
    const s = await startServer({ env });
    try {
      const q = inForce(s.dataDir);
      assert.equal(q.status, 0, q.stderr);
      assert.equal(q.stdout.trim(), want, `innodb_flush_log_at_trx_commit with ${JSON.stringify(env)}`);
      assert.match(readFileSync(join(s.dataDir, 'mariadbd.cmd'), 'utf8'), new RegExp(`--innodb-flush-log-at-trx-commit=${want}\\b`));
      const cookie = await s.adminCookie();
      const imp = await s.request('POST', '/api/v1/import/regions', { cookie, contentType: 'text/csv', body: regionsCsv([['D1', '一区']]) });
      assert.equal(imp.status, 200, imp.text);
    } finally {
      assert.equal((await s.stop()).code, 0);
    }
  }
  for (const value of ['0', '3', 'yes', '1 ']) {
    const dir = tempDir('fs-flush-');
    const bad = await run(['serve', '--listen', '127.0.0.1:0'], { env: { FOURSCORE_LOCALDB_FLUSH: value }, dataDir: dir, timeoutMs: 20000 }).catch((e) => ({ code: 'timeout', stderr: String(e) }));
    assert.notEqual(bad.code, 0, `FOURSCORE_LOCALDB_FLUSH=${JSON.stringify(value)} is refused`);
    assert.match(bad.stderr, /FOURSCORE_LOCALDB_FLUSH=.*expected 1 .* or 2/, bad.stderr);
    rmSync(dir, { recursive: true, force: true });
  }
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

  // The migrations that say they leave the derived tables as they are
  // (first line '-- derived tables: unchanged') and the newest that does not.
  const files = readdirSync(pjoin(root, 'schemas')).filter((f) => /^\d+_.*\.sql$/.test(f));
  const unchanged = files.filter((f) => readFileSync(pjoin(root, 'schemas', f), 'utf8').startsWith('-- derived tables: unchanged\n'));
  const reshaping = files.filter((f) => !unchanged.includes(f)).map((f) => parseInt(f, 10)).sort((a, b) => b - a)[0];
  assert.ok(unchanged.length > 0 && reshaping > 0, 'both kinds of migration exist');
  const sql = (text) => spawnSync('mariadb', ['--no-defaults', '-uroot', `--socket=${pjoin(dataDir, 'mysqld.sock')}`, 'fourscore', '-e', text], { encoding: 'utf8' });
  const asOlder = async (text) => {
    const db = await startServer({ dataDir });      // keeps the local server up while we edit
    const edit = sql(text);
    assert.equal(edit.status, 0, edit.stderr);
    assert.equal((await db.stop('SIGTERM', { keep: true })).code, 0);
  };

  // As if an older version ran here: the newest migration that changes the
  // derived tables not yet applied, and those tables empty.
  await asOlder(`DELETE FROM schema_migrations WHERE version = ${reshaping}; DELETE FROM rollup_ro; DELETE FROM rollup_ro_day;`);
  s = await startServer({ dataDir });
  const cookie2 = await s.adminCookie();
  const after = (await s.request('GET', q, { cookie: cookie2 })).json.rows[0].values;
  assert.deepEqual(after, before, 'the rollups were rebuilt from the facts at start');
  assert.match(s.stderr() + s.logs(), /rebuil/, 'and it said so');
  assert.equal((await s.stop()).code, 0);

  // Only migrations that leave the derived tables as they are pending: applied, no rebuild.
  const versions = unchanged.map((f) => parseInt(f, 10));
  await asOlder(`DELETE FROM schema_migrations WHERE version IN (${versions.join(',')})`);
  s = await startServer({ dataDir });
  assert.doesNotMatch(s.stderr() + s.logs(), /rebuil/, 'no rebuild for them');
  assert.match(s.stderr(), new RegExp(`applying ${unchanged[0].replace('.', '\\.')} \\.\\.\\. ok`), 'they were applied');
  const cookie3 = await s.adminCookie();
  assert.deepEqual((await s.request('GET', q, { cookie: cookie3 })).json.rows[0].values, before, 'and the KPIs stand');
  assert.equal((await s.stop()).code, 0);
  rmSync(dataDir, { recursive: true, force: true });
});
