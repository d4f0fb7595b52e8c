// scaling: Fourscore past one process, on MariaDB's own means (docs/scaling.md).
//
//   1. Two `fourscore serve` instances on one external MariaDB: a session,
//      an import (through the KPI cache: the data_generation counter) and a
//      settings change made through one are seen through the other.
//   2. A GTID read replica (--db-read): imports go to the primary and reach
//      the replica; KPI and scorecard reads go to the replica (shown by
//      stopping its SQL thread: Fourscore then answers from the stale replica
//      while the primary already holds the new rows, and by its Com_select);
//      with the replica down, reads fall back to the primary and still answer.
//
//   3. The Spider layout (tests/scaling/spider-setup.sh: the largest fact
//      tables sharded by store over two back ends): tests/scaling/spider-test.sh
//      runs the whole KPI correctness suite against it and shows a failing
//      import leaves nothing on either back end; run here as one test.
//   4. deploy/docker-compose.replica.yml is a valid compose file.
//
// Expected KPI values come from tests/fixtures/kpi/ as worked out in
// kpi_correctness.test.mjs: in March 2024 the group has 9 ROs (S1 4, S2 4,
// N1 1) with revenue 7100. The extra RO below (N1-X1, closed 2024-03-20,
// one labour line of 1000, nothing else) makes that 10 ROs and 8100.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { spawn, spawnSync } from 'node:child_process';
import { startServer, startMariadb, fixtures, tempDir, bin, root } from './lib.mjs';

const FIXTURE = join(fixtures, 'kpi');
const ENTITIES = ['regions', 'stores', 'insurers', 'staff', 'customers', 'vehicle_sales', 'repair_orders',
  'ro_labour', 'ro_parts', 'parts_stock', 'insurance_policies', 'invoices', 'payments', 'store_financials',
  'follow_up_calls', 'csi_surveys', 'appointments'];
const MARCH = 'from=2024-03-01&to=2024-03-31';
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// --- helpers ---

// POST /api/v1/import/ENTITY with CSV text; asserts 200.
async function importCsv(s, cookie, entity, csv) {
  const r = await s.request('POST', `/api/v1/import/${entity}`, { cookie, contentType: 'text/csv', body: csv });
  assert.equal(r.status, 200, `import ${entity}: ${r.status} ${r.text}`);
  return r.json;
}

async function importFixture(s, cookie) {
  for (const e of ENTITIES) await importCsv(s, cookie, e, readFileSync(join(FIXTURE, `${e}.csv`), 'utf8'));
}

// One more closed RO of N1 in March with a single labour line of 1000 (ro_no given).
async function importExtraRo(s, cookie, roNo) {
  await importCsv(s, cookie, 'repair_orders',
    'store_code,ro_no,vin,customer_code,advisor_code,ro_type,payer,insurer_code,opened_at,closed_at,mileage_km,other_amount,discount_amount,comeback_of\n' +
    `N1,${roNo},LFVKP000000000018,C1,A1,repair,customer,,2024-03-20 09:00,2024-03-20 15:00,30000,,,\n`);
  await importCsv(s, cookie, 'ro_labour',
    'store_code,ro_no,line_no,op_code,technician_code,sold_hours,clocked_hours,amount\n' +
    `N1,${roNo},1,REP,,4,,1000\n`);
}

// The group's March ro_count and revenue as Fourscore answers them.
async function groupMarch(s, cookie, extra = '') {
  const r = await s.request('GET', `/api/v1/kpi?ids=service.ro_count,service.revenue&${MARCH}&by=group${extra}`, { cookie });
  assert.equal(r.status, 200, r.text);
  return r.json.rows[0].values;
}

// A free TCP port on loopback.
function freePort() {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.on('error', rej);
    srv.listen(0, '127.0.0.1', () => { const { port } = srv.address(); srv.close(() => res(port)); });
  });
}

// One number from `mariadb -N -B -e SQL`; fails the test on an error.
async function sqlNumber(m, sql, db) {
  const r = await m.sql(sql, db);
  assert.equal(r.code, 0, `${sql}: ${r.stderr}`);
  return Number(r.stdout.trim().split('\t').pop());
}

async function sqlOk(m, sql, db) {
  const r = await m.sql(sql, db);
  assert.equal(r.code, 0, `${sql}: ${r.stderr}`);
  return r.stdout;
}

// --- 1. several instances on one database ---

test('two instances on one database share sessions, imports (KPI cache) and settings', async () => {
  const dir = tempDir('fs-scale-multi-');
  const db = await startMariadb(dir);
  let a, b;
  try {
    await db.start();
    await sqlOk(db, 'CREATE DATABASE fourscore CHARACTER SET utf8mb4');
    a = await startServer({ args: ['--db', db.url('fourscore')] });
    b = await startServer({ args: ['--db', db.url('fourscore')] });
    assert.notEqual(a.port, b.port);

    // a session made through A works through B, and a logout through B ends it on A
    const cookie = await a.adminCookie();
    const meB = await b.request('GET', '/api/v1/me', { cookie });
    assert.equal(meB.status, 200, meB.text);
    assert.equal(meB.json.username, 'admin');
    const other = await b.adminCookie();
    assert.equal((await b.request('DELETE', '/api/v1/session', { cookie: other })).status < 300, true);
    assert.equal((await a.request('GET', '/api/v1/me', { cookie: other })).status, 401, 'logged out through B, refused by A');

    // imports through A show in B's KPIs, also after B has cached an answer
    await importFixture(a, cookie);
    assert.deepEqual(await groupMarch(b, cookie), { 'service.ro_count': 9, 'service.revenue': 7100 });
    const gen0 = await sqlNumber(db, 'SELECT generation FROM data_generation WHERE id = 1', 'fourscore');
    await importExtraRo(a, cookie, 'X1');
    const gen1 = await sqlNumber(db, 'SELECT generation FROM data_generation WHERE id = 1', 'fourscore');
    assert.ok(gen1 > gen0, `an import bumps data_generation (${gen0} -> ${gen1})`);
    assert.deepEqual(await groupMarch(b, cookie), { 'service.ro_count': 10, 'service.revenue': 8100 },
      'B drops its cached answer when A imports');

    // a settings change through B shows through A (settings and the catalogue)
    const put = await b.request('PUT', '/api/v1/settings', { cookie, body: { 'service.followup_days': 5 } });
    assert.equal(put.status, 200, put.text);
    const seen = await a.request('GET', '/api/v1/settings', { cookie });
    assert.equal(seen.status, 200, seen.text);
    assert.equal(seen.json['service.followup_days'], 5);
    const cat = await a.request('GET', '/api/v1/kpis', { cookie });
    assert.equal(cat.json.settings['service.followup_days'], 5);

    // both stop cleanly (under the sanitizers: no leak, no error)
    for (const s of [a, b]) assert.equal((await s.stop()).code, 0, s.stderr());
    a = b = null;
  } finally {
    if (a) await a.stop();
    if (b) await b.stop();
    await db.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

// --- 2. a read replica ---

// A primary with a binary log and a GTID replica of it, both on loopback TCP
// (the replica's I/O thread needs TCP) and on their own sockets.
async function startPrimaryAndReplica(dir) {
  const pPort = await freePort();
  const rPort = await freePort();
  const net = (port) => ['--skip-networking=0', `--port=${port}`, '--bind-address=127.0.0.1'];
  const primary = await startMariadb(join(dir, 'primary'),
    { args: [...net(pPort), '--log-bin=binlog', '--server-id=1', '--binlog-format=ROW'] });
  const replica = await startMariadb(join(dir, 'replica'), { args: [...net(rPort), '--server-id=2', '--read-only'] });
  await primary.start();
  await replica.start();
  await sqlOk(primary, "CREATE USER repl@'%' IDENTIFIED BY 'repl-pass-1'; GRANT REPLICATION SLAVE ON *.* TO repl@'%'");
  await sqlOk(replica, `CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT=${pPort}, MASTER_USER='repl', ` +
    "MASTER_PASSWORD='repl-pass-1', MASTER_USE_GTID=slave_pos, MASTER_CONNECT_RETRY=1; START SLAVE");
  return { primary, replica };
}

// Wait until the replica has applied everything the primary has logged.
async function caughtUp(primary, replica) {
  const pos = (await sqlOk(primary, 'SELECT @@gtid_binlog_pos')).trim();
  const r = await sqlNumber(replica, `SELECT MASTER_GTID_WAIT('${pos}', 30)`);
  assert.equal(r, 0, `the replica did not reach ${pos}`);
}

test('a GTID read replica: imports reach it, KPI and scorecard reads go to it, and fall back to the primary without it', async () => {
  const dir = tempDir('fs-scale-repl-');
  const { primary, replica } = await startPrimaryAndReplica(dir);
  let s;
  try {
    await sqlOk(primary, 'CREATE DATABASE fourscore CHARACTER SET utf8mb4');
    s = await startServer({ args: ['--db', primary.url('fourscore'), '--db-read', replica.url('fourscore')] });
    const cookie = await s.adminCookie();
    await importFixture(s, cookie);
    await caughtUp(primary, replica);
    assert.equal(await sqlNumber(replica, 'SELECT COUNT(*) FROM repair_orders', 'fourscore'),
      await sqlNumber(primary, 'SELECT COUNT(*) FROM repair_orders', 'fourscore'), 'imported rows reached the replica');

    // a KPI read runs its SELECTs on the replica
    const selects0 = await sqlNumber(replica, "SHOW GLOBAL STATUS LIKE 'Com_select'");
    assert.deepEqual(await groupMarch(s, cookie), { 'service.ro_count': 9, 'service.revenue': 7100 });
    const selects1 = await sqlNumber(replica, "SHOW GLOBAL STATUS LIKE 'Com_select'");
    assert.ok(selects1 - selects0 >= 2, `the replica ran the KPI SELECTs (Com_select ${selects0} -> ${selects1})`);

    // freeze the replica: a fresh import lands on the primary only, and
    // Fourscore's KPI and scorecard reads still see the replica's data
    await sqlOk(replica, 'STOP SLAVE SQL_THREAD');
    await importExtraRo(s, cookie, 'X1');
    assert.equal(await sqlNumber(primary, "SELECT COUNT(*) FROM repair_orders WHERE ro_no = 'X1'", 'fourscore'), 1);
    assert.equal(await sqlNumber(replica, "SELECT COUNT(*) FROM repair_orders WHERE ro_no = 'X1'", 'fourscore'), 0);
    assert.deepEqual(await groupMarch(s, cookie), { 'service.ro_count': 9, 'service.revenue': 7100 },
      'KPI reads come from the (stopped) replica');
    assert.deepEqual(await groupMarch(s, cookie, '&stores=N1'), { 'service.ro_count': 1, 'service.revenue': 650 });
    const lua = "return { { store = 'N1', score = kpi('service.ro_count', { by = 'group' }).group } }";
    let sc = await s.request('POST', `/api/v1/scorecards/run?${MARCH}`, { cookie, body: lua, contentType: 'text/x-lua' });
    assert.equal(sc.status, 200, sc.text);
    assert.equal(sc.json.rows[0].score, 9, 'scorecard reads come from the replica');

    // let it catch up: the new RO shows
    await sqlOk(replica, 'START SLAVE SQL_THREAD');
    await caughtUp(primary, replica);
    assert.deepEqual(await groupMarch(s, cookie), { 'service.ro_count': 10, 'service.revenue': 8100 });

    // the replica goes away: reads fall back to the primary and still answer
    await replica.stop();
    const health = await s.request('GET', '/api/v1/health');
    assert.equal(health.status, 200, health.text);
    await importExtraRo(s, cookie, 'X2');
    assert.deepEqual(await groupMarch(s, cookie), { 'service.ro_count': 11, 'service.revenue': 9100 },
      'with no replica the primary answers, fresh');
    sc = await s.request('POST', `/api/v1/scorecards/run?${MARCH}`, { cookie, body: lua, contentType: 'text/x-lua' });
    assert.equal(sc.status, 200, sc.text);
    assert.equal(sc.json.rows[0].score, 11);
    assert.match(s.logs() + s.stderr(), /read replica 1 not used/, 'the fallback is logged');
    assert.equal((await s.stop()).code, 0, s.stderr());
    s = null;
  } finally {
    if (s) await s.stop();
    await replica.stop();
    await primary.stop();
    await sleep(10);
    rmSync(dir, { recursive: true, force: true });
  }
});

// --- 3. Spider ---

test('Spider: the KPI correctness suite passes on tables sharded by store, imports stay all or nothing', async () => {
  const r = await new Promise((res) => {
    const p = spawn(join(root, 'tests', 'scaling', 'spider-test.sh'), [], {
      env: { ...Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== 'NODE_TEST_CONTEXT')), FOURSCORE_BIN: bin },
      stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (d) => { out += d; });
    p.stderr.on('data', (d) => { out += d; });
    p.on('close', (code) => res({ code, out }));
  });
  assert.match(r.out, /^\d+ passed, 0 failed$/m, r.out);
  assert.match(r.out, /ok - kpi_correctness: \d+ passed/, r.out);
  assert.equal(r.code, 0, r.out);
});

// --- 4. the compose file ---

test('deploy/docker-compose.replica.yml is valid (docker-compose config)', () => {
  const r = spawnSync('docker-compose', ['-f', join(root, 'deploy', 'docker-compose.replica.yml'), '--env-file', join(root, '.env.example'), 'config'],
    { encoding: 'utf8' });
  assert.equal(r.error, undefined, 'docker-compose runs (scripts/deps.sh installs it)');
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /FOURSCORE_DB_READ_URLS: mariadb:\/\/\S+@db-replica:3306\//);
  assert.match(r.stdout, /MARIADB_MASTER_HOST: db/);
});
