// demo_data: what the demo adds for the daily report, the freshness warnings
// and the call lists. `fourscore demo --stores 8 --years 1 --end 2026-05
// --through 20 --stale 2` is loaded through the real importer into a private
// server; the same options with --out write the files again.
//
// - Phones: every individual, fleet and government customer has a mobile
//   number of the 1xx-xxxx-xxxx form from a carrier prefix; the house, the
//   maker's warranty desk and the insurers none; the same seed writes the
//   same numbers, another seed others; the loaded table holds the file's.
// - Targets: one row per store, month and budget KPI (8 x 12 x 13, counted
//   by SQL); `targets=1` answers a full month (April) with the sum of the
//   stores' April targets (SQL), and the partial May 1-20 with 20/31 of May's.
// - --through: freshness `through` is 2026-05-20 for every store but the two
//   stale ones (the last two stores that are neither store 0 nor weak: with 8
//   stores the weak are 1, 2, 3, 5, 6, so 7 stops 2 days earlier and 4 three
//   days earlier); no RO, invoice, payment, call or survey of a store is
//   dated after its day, no stock snapshot after April's month end, and no
//   store_financials row for May (its accounts are not closed).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { run, startServer, tempDir } from './lib.mjs';

const OPTS = ['--stores', '8', '--years', '1', '--end', '2026-05', '--through', '20', '--stale', '2', '--seed', '3'];
const THROUGH = '2026-05-20';
const STALE = { 4: '2026-05-17', 7: '2026-05-18' };      // store index: its last day (3 and 2 days earlier)
const MOBILE = /^1[3-9][0-9]-[0-9]{4}-[0-9]{4}$/;

let dataDir, outA, outB, outC, s, cookie, codes;
const sql = (text) => execFileSync('mariadb', ['--no-defaults', `--socket=${dataDir}/mysqld.sock`, '-uroot', '-N', '-B',
  'fourscore', '-e', text], { encoding: 'utf8' }).trim();

// customers.csv of a --out directory as [store, code, type, phone] (no field of these files is quoted
// but names, which come before the phone: the phone is the last field)
function phones(dir) {
  return readFileSync(join(dir, 'customers.csv'), 'utf8').trim().split('\n').slice(1).map((l) => {
    const f = l.split(',');
    return [f[0], f[1], f[2], f[f.length - 1]];
  });
}

before(async () => {
  dataDir = tempDir('fs-demo-data-');
  outA = tempDir('fs-demo-data-a-');
  outB = tempDir('fs-demo-data-b-');
  outC = tempDir('fs-demo-data-c-');
  const load = await run(['demo', ...OPTS], { dataDir, timeoutMs: 600000 });
  assert.equal(load.code, 0, load.stderr);
  for (const [dir, seed] of [[outA, '3'], [outB, '3'], [outC, '4']]) {
    const r = await run(['demo', ...OPTS.slice(0, -1), seed, '--out', dir]);
    assert.equal(r.code, 0, r.stderr);
  }
  s = await startServer({ dataDir });
  cookie = await s.login('exec', 'demo1234');
  codes = sql('SELECT store_code FROM stores ORDER BY CAST(SUBSTRING(store_code, 3) AS UNSIGNED)').split('\n');
  assert.equal(codes.length, 8);
});

after(async () => {
  if (s) await s.stop();
  for (const d of [dataDir, outA, outB, outC]) if (d) rmSync(d, { recursive: true, force: true });
});

test('phones: 1xx-xxxx-xxxx for people and companies, none for the house, the maker and insurers; deterministic', () => {
  const a = phones(outA);
  assert.ok(a.length > 1000, `${a.length} customers`);
  for (const [store, code, type, phone] of a) {
    if (type === 'insurer' || (type === 'other' && phone === '')) continue;
    assert.match(phone, MOBILE, `${store}/${code} (${type})`);
  }
  for (const [, , type, phone] of a) if (type === 'insurer') assert.equal(phone, '');
  const people = a.filter(([, , type]) => type === 'individual');
  assert.ok(people.every(([, , , p]) => MOBILE.test(p)), 'every individual has a mobile number');
  assert.deepEqual(phones(outB), a, 'the same seed: the same numbers');
  const c = new Map(phones(outC).map(([st, code, , p]) => [`${st}/${code}`, p]));
  const same = a.filter(([st, code, , p]) => p && c.get(`${st}/${code}`) === p).length;
  assert.ok(same < a.length / 100, `another seed: other numbers (${same} of ${a.length} equal)`);
  // the loaded table holds the file's numbers (the load used seed 3 too)
  const loaded = sql("SELECT COUNT(*), SUM(phone REGEXP '^1[3-9][0-9]-[0-9]{4}-[0-9]{4}$') FROM customers").split('\t').map(Number);
  assert.deepEqual(loaded, [a.length, a.filter(([, , , p]) => p).length]);
  const sample = a.filter(([, , , p]) => p).slice(0, 50);
  for (const [st, code, , p] of sample) {
    assert.equal(sql(`SELECT phone FROM customers WHERE store_code = '${st}' AND customer_code = '${code}'`), p);
  }
});

test('targets: one per store, month and budget KPI; targets=1 answers a month and a partial month', async () => {
  assert.equal(sql('SELECT COUNT(*) FROM targets'), String(8 * 12 * 13));
  assert.equal(sql('SELECT COUNT(*) FROM (SELECT DISTINCT store_code, month, kpi FROM targets) t'), String(8 * 12 * 13));
  assert.equal(sql("SELECT COUNT(DISTINCT month) FROM targets WHERE month BETWEEN '2025-06' AND '2026-05'"), '12');
  const r = await s.request('GET', '/api/v1/kpi?ids=service.ro_count,service.revenue&from=2026-04-01&to=2026-04-30&by=store&targets=1', { cookie });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.rows.length, 8);
  for (const row of r.json.rows) {
    for (const id of ['service.ro_count', 'service.revenue']) {
      const want = Number(sql(`SELECT value FROM targets WHERE store_code = '${row.key}' AND month = '2026-04' AND kpi = '${id}'`));
      assert.ok(row.targets[id] !== null && Math.abs(row.targets[id] - want) < 0.01, `${row.key} ${id}: ${row.targets[id]} = ${want}`);
    }
  }
  // May 1-20 (the data's last day): 20/31 of May's targets, the group's sum
  const g = await s.request('GET', '/api/v1/kpi?ids=service.ro_count,service.revenue&from=2026-05-01&to=2026-05-20&by=group&targets=1', { cookie });
  assert.equal(g.status, 200, g.text);
  for (const id of ['service.ro_count', 'service.revenue']) {
    const may = Number(sql(`SELECT SUM(value) FROM targets WHERE month = '2026-05' AND kpi = '${id}'`));
    assert.ok(Math.abs(g.json.rows[0].targets[id] - (may * 20) / 31) < 0.05, `${id}: ${g.json.rows[0].targets[id]} = ${may} x 20/31`);
  }
  // every budget KPI has a non-null target for a demo month, by store
  const ids = sql("SELECT GROUP_CONCAT(DISTINCT kpi ORDER BY kpi) FROM targets");
  const all = await s.request('GET', `/api/v1/kpi?ids=${ids}&from=2026-03-01&to=2026-03-31&by=store&targets=1`, { cookie });
  assert.equal(all.status, 200, all.text);
  for (const row of all.json.rows) for (const id of ids.split(',')) assert.notEqual(row.targets[id], null, `${row.key} ${id}`);
});

test('--through: freshness through is the day (two stores earlier), and nothing is dated after it', async () => {
  const r = await s.request('GET', '/api/v1/freshness', { cookie });
  assert.equal(r.status, 200, r.text);
  const through = Object.fromEntries(r.json.stores.map((x) => [x.store, x.through]));
  const want = Object.fromEntries(codes.map((c, i) => [c, STALE[i] || THROUGH]));
  assert.deepEqual(through, want);
  for (const [i, code] of codes.entries()) {
    const day = STALE[i] || THROUGH;
    const after = sql(`SELECT
        (SELECT COUNT(*) FROM repair_orders WHERE store_code = '${code}' AND (opened_at >= '${day}' + INTERVAL 1 DAY OR closed_at >= '${day}' + INTERVAL 1 DAY))
      + (SELECT COUNT(*) FROM invoices WHERE store_code = '${code}' AND issued_on > '${day}')
      + (SELECT COUNT(*) FROM payments WHERE store_code = '${code}' AND paid_on > '${day}')
      + (SELECT COUNT(*) FROM follow_up_calls WHERE store_code = '${code}' AND called_at >= '${day}' + INTERVAL 1 DAY)
      + (SELECT COUNT(*) FROM csi_surveys WHERE store_code = '${code}' AND surveyed_on > '${day}')
      + (SELECT COUNT(*) FROM vehicle_sales WHERE store_code = '${code}' AND sold_on > '${day}')
      + (SELECT COUNT(*) FROM insurance_policies WHERE store_code = '${code}' AND sold_on > '${day}')`);
    assert.equal(after, '0', `${code}: nothing after ${day}`);
    assert.ok(Number(sql(`SELECT COUNT(*) FROM repair_orders WHERE store_code = '${code}' AND ro_type <> 'internal' AND DATE(closed_at) = '${day}'`)) > 0,
      `${code}: ROs closed on ${day}`);
  }
  assert.equal(sql('SELECT MAX(snapshot_on) FROM parts_stock'), '2026-04-30', 'no stock snapshot inside May');
  assert.equal(sql("SELECT COUNT(*) FROM store_financials WHERE month >= '2026-05'"), '0', 'no May accounts');
});

test('demo --help names --through and --stale; a day outside the month is refused', async () => {
  const help = await run(['demo', '--help']);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /--through DAY/);
  assert.match(help.stdout, /--stale N/);
  const bad = await run(['demo', '--end', '2026-02', '--through', '30', '--out', outC]);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /--through must be a day of 2026-02 \(1 to 28, got 30\)/);
  const other = await run(['demo', '--end', '2026-02', '--through', '2026-03-05', '--out', outC]);
  assert.equal(other.code, 2);
  assert.match(other.stderr, /--through 2026-03-05 is not in the --end month/);
});
