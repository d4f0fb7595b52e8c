// targets: per-store monthly budgets (the `targets` entity, docs/import.md)
// through the real server: the catalogue's "budget" flags, the import (CLI
// and HTTP, all-or-nothing, errors at their line and column, only admins and
// all-store tokens), and `targets=1` / `"targets": true` on KPI queries, pro
// rata by the days of each month inside the period and summed over the
// stores of each row, null when any (store, month) of the row lacks one.
//
// The stores are those of the KPI fixture (tests/fixtures/kpi/: SOUTH = S1,
// S2; NORTH = N1, N2). The targets are written here, with values chosen so
// that every expected sum is worked out by hand in the comments (2024 is a
// leap year: February has 29 days).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { startServer, fixtures, tempDir } from './lib.mjs';

const FIXTURE = join(fixtures, 'kpi');
const BUDGETABLE = ['service.ro_count', 'service.revenue', 'service.gross_profit', 'service.mech_ro_count',
  'service.body_ro_count', 'labour.revenue', 'labour.sold_hours', 'parts.revenue', 'parts.accessory_revenue',
  'insurance.premium', 'insurance.accident_revenue', 'sales.units', 'sales.revenue'];

// service.ro_count per store and month; N2 has no target for 2024-03.
const RO_TARGETS = {
  S1: { '2024-01': 31, '2024-02': 290, '2024-03': 310 },
  S2: { '2024-01': 62, '2024-02': 58, '2024-03': 620 },
  N1: { '2024-01': 31, '2024-02': 29, '2024-03': 93 },
  N2: { '2024-01': 31, '2024-02': 29 },
};
// service.revenue for March only, with cents.
const REVENUE_TARGETS = { S1: 3100.62, S2: 62000, N1: 9300, N2: 31 };

let s, admin, dir, secrets;

function targetsCsv() {
  const lines = ['store_code,month,kpi,value'];
  for (const [store, months] of Object.entries(RO_TARGETS))
    for (const [month, v] of Object.entries(months)) lines.push(`${store},${month},service.ro_count,${v}`);
  for (const [store, v] of Object.entries(REVENUE_TARGETS)) lines.push(`${store},2024-03,service.revenue,${v}`);
  return lines.join('\n') + '\n';
}

const close = (actual, expected, what) => {
  if (expected === null) return assert.equal(actual, null, `${what}: null`);
  assert.equal(typeof actual, 'number', `${what}: a number (got ${JSON.stringify(actual)})`);
  assert.ok(Math.abs(actual - expected) < 1e-6, `${what}: ${actual} is not ${expected}`);
};

async function kpi(query, creds = { cookie: admin }) {
  const r = await s.request('GET', `/api/v1/kpi?${query}`, creds);
  assert.equal(r.status, 200, `GET /api/v1/kpi?${query}: ${r.text}`);
  return r.json;
}
const targetsByKey = (answer) => Object.fromEntries(answer.rows.map((r) => [r.key, r.targets]));

before(async () => {
  dir = tempDir('fs-targets-');
  s = await startServer();
  for (const entity of ['regions', 'stores']) {
    const r = await s.cli(['import', entity, join(FIXTURE, `${entity}.csv`)]);
    assert.equal(r.code, 0, `import ${entity}:\n${r.stdout}\n${r.stderr}`);
  }
  admin = await s.adminCookie();
  const r = await s.request('POST', '/api/v1/users', { cookie: admin,
    body: { username: 'sm1', role: 'store_manager', store: 'S1', password: 'store-pass-1234' } });
  assert.equal(r.status, 201, r.text);
  secrets = {};
  for (const [name, flag] of [['up_s1', ['--store', 'S1']], ['up_all', ['--all-stores']]]) {
    const out = await s.cli(['token', 'create', name, ...flag]);
    assert.equal(out.code, 0, `token create ${name}: ${out.stderr}`);
    secrets[name] = out.stdout.trim().split('\n').pop();
  }
  const file = join(dir, 'targets.csv');
  writeFileSync(file, targetsCsv());
  const imp = await s.cli(['import', 'targets', file]);
  assert.equal(imp.code, 0, `import targets:\n${imp.stdout}\n${imp.stderr}`);
  // 11 service.ro_count rows (3 + 3 + 3 + 2) + 4 service.revenue rows
  assert.match(imp.stdout, /15 rows: 15 inserted, 0 updated, 0 unchanged/);
});

after(async () => { if (s) await s.stop(); });

test('the catalogue marks exactly the budgetable KPIs with "budget": true', async () => {
  const r = await s.request('GET', '/api/v1/kpis', { cookie: admin });
  assert.equal(r.status, 200);
  const flagged = r.json.kpis.filter((k) => k.budget === true).map((k) => k.id).sort();
  assert.deepEqual(flagged, [...BUDGETABLE].sort());
  for (const k of r.json.kpis) assert.equal(typeof k.budget, 'boolean', `${k.id} carries budget as a boolean`);
  assert.equal(r.json.kpis.find((k) => k.id === 'service.revenue_per_ro').budget, false);
});

test('a whole month: each store its month\'s target, null where it has none, null for a KPI without budget', async () => {
  const a = await kpi('ids=service.ro_count,service.revenue,service.revenue_per_ro&from=2024-03-01&to=2024-03-31&by=store&targets=1');
  const t = targetsByKey(a);
  assert.deepEqual(Object.keys(t).sort(), ['N1', 'N2', 'S1', 'S2']);
  close(t.S1['service.ro_count'], 310, 'S1 March');
  close(t.S2['service.ro_count'], 620, 'S2 March');
  close(t.N1['service.ro_count'], 93, 'N1 March');
  close(t.N2['service.ro_count'], null, 'N2 has no March target');
  close(t.S1['service.revenue'], 3100.62, 'S1 March revenue, cents kept');
  close(t.N2['service.revenue'], 31, 'N2 March revenue');
  for (const k of Object.keys(t)) close(t[k]['service.revenue_per_ro'], null, `${k}: revenue_per_ro takes no targets`);
  for (const row of a.rows) assert.ok('values' in row && 'service.ro_count' in row.values, 'the values are still there');
  // the group: N2 lacks March, so the sum is null; without N2 it is 310 + 620 + 93 = 1023
  close((await kpi('ids=service.ro_count&from=2024-03-01&to=2024-03-31&targets=1')).rows[0].targets['service.ro_count'],
    null, 'group with N2');
  close((await kpi('ids=service.ro_count&from=2024-03-01&to=2024-03-31&stores=S1,S2,N1&targets=1')).rows[0]
    .targets['service.ro_count'], 1023, 'group of S1, S2, N1');
});

test('half a month and a period across two months are pro rata by days', async () => {
  // March 1-15: 15/31 of the month: S1 310*15/31 = 150, S2 620*15/31 = 300, N1 93*15/31 = 45
  const t = targetsByKey(await kpi('ids=service.ro_count&from=2024-03-01&to=2024-03-15&by=store&targets=1'));
  close(t.S1['service.ro_count'], 150, 'S1 half March');
  close(t.S2['service.ro_count'], 300, 'S2 half March');
  close(t.N1['service.ro_count'], 45, 'N1 half March');
  close(t.N2['service.ro_count'], null, 'N2 half March');
  // Feb 15 - Mar 10: S1 290*15/29 + 310*10/31 = 150 + 100 = 250; S2 58*15/29 + 620*10/31 = 30 + 200 = 230
  const t2 = targetsByKey(await kpi('ids=service.ro_count&from=2024-02-15&to=2024-03-10&by=store&stores=S1,S2&targets=1'));
  close(t2.S1['service.ro_count'], 250, 'S1 Feb 15 - Mar 10');
  close(t2.S2['service.ro_count'], 230, 'S2 Feb 15 - Mar 10');
  // one day: S1 March 31 = 310/31 = 10
  const one = await kpi('ids=service.ro_count&from=2024-03-31&to=2024-03-31&stores=S1&targets=1');
  close(one.rows[0].targets['service.ro_count'], 10, 'S1 one day');
});

test('a quarter sums the three months; a month without targets makes it null', async () => {
  // Q1: S1 31 + 290 + 310 = 631; S2 62 + 58 + 620 = 740; N1 31 + 29 + 93 = 153; N2 lacks March
  const t = targetsByKey(await kpi('ids=service.ro_count,service.revenue&from=2024-01-01&to=2024-03-31&by=store&targets=1'));
  close(t.S1['service.ro_count'], 631, 'S1 Q1');
  close(t.S2['service.ro_count'], 740, 'S2 Q1');
  close(t.N1['service.ro_count'], 153, 'N1 Q1');
  close(t.N2['service.ro_count'], null, 'N2 Q1');
  close(t.S1['service.revenue'], null, 'revenue targets only for March: the quarter is null');
  // Q2 has no target at all
  const q2 = targetsByKey(await kpi('ids=service.ro_count&from=2024-04-01&to=2024-06-30&by=store&targets=1'));
  for (const k of ['S1', 'S2', 'N1', 'N2']) close(q2[k]['service.ro_count'], null, `${k} Q2`);
});

test('by=region sums the stores of each region; one store lacking a target makes its region null', async () => {
  // March: SOUTH 310 + 620 = 930; NORTH: N2 has none -> null. February: NORTH 29 + 29 = 58
  const mar = targetsByKey(await kpi('ids=service.ro_count,service.revenue&from=2024-03-01&to=2024-03-31&by=region&targets=1'));
  close(mar.SOUTH['service.ro_count'], 930, 'SOUTH March');
  close(mar.NORTH['service.ro_count'], null, 'NORTH March (N2 lacks one)');
  close(mar.NORTH['service.revenue'], 9331, 'NORTH March revenue: 9300 + 31');
  close(mar.SOUTH['service.revenue'], 65100.62, 'SOUTH March revenue: 3100.62 + 62000');
  const feb = targetsByKey(await kpi('ids=service.ro_count&from=2024-02-01&to=2024-02-29&by=region&targets=1'));
  close(feb.NORTH['service.ro_count'], 58, 'NORTH February');
  close(feb.SOUTH['service.ro_count'], 348, 'SOUTH February: 290 + 58');
});

test('by=month: each month clipped to the period', async () => {
  // S1 from Jan 16: January 31*16/31 = 16, February 290, March 1-20: 310*20/31 = 200
  const a = await kpi('ids=service.ro_count&from=2024-01-16&to=2024-03-20&by=month&stores=S1&targets=1');
  assert.deepEqual(a.rows.map((r) => r.key), ['2024-01', '2024-02', '2024-03']);
  const t = targetsByKey(a);
  close(t['2024-01']['service.ro_count'], 16, 'S1 Jan 16-31');
  close(t['2024-02']['service.ro_count'], 290, 'S1 February');
  close(t['2024-03']['service.ro_count'], 200, 'S1 March 1-20');
  // NORTH by month: January 31 + 31 = 62, February 29 + 29 = 58, March null (N2)
  const n = targetsByKey(await kpi('ids=service.ro_count&from=2024-01-01&to=2024-03-31&by=month&regions=NORTH&targets=1'));
  close(n['2024-01']['service.ro_count'], 62, 'NORTH January');
  close(n['2024-02']['service.ro_count'], 58, 'NORTH February');
  close(n['2024-03']['service.ro_count'], null, 'NORTH March');
});

test('by=insurer has null targets; without targets=1 the rows carry none', async () => {
  const a = await kpi('ids=insurance.premium&from=2024-03-01&to=2024-03-31&by=insurer&targets=1');
  for (const row of a.rows) close(row.targets['insurance.premium'], null, `insurer ${row.key}`);
  for (const q of ['', '&targets=0']) {
    const b = await kpi(`ids=service.ro_count&from=2024-03-01&to=2024-03-31&by=store${q}`);
    for (const row of b.rows) assert.equal(row.targets, undefined, `no targets without targets=1 (${q || 'absent'})`);
  }
  const bad = await s.request('GET', '/api/v1/kpi?ids=service.ro_count&from=2024-03-01&to=2024-03-31&targets=yes', { cookie: admin });
  assert.equal(bad.status, 400);
  assert.equal(bad.json.error.code, 'bad_parameter');
  assert.match(bad.json.error.message, /targets/);
});

test('a batch item with "targets": true gets them, the others do not', async () => {
  const r = await s.request('POST', '/api/v1/kpi/batch', { cookie: admin, body: [
    { ids: ['service.ro_count'], from: '2024-03-01', to: '2024-03-15', by: 'region', targets: true },
    { ids: ['service.ro_count'], from: '2024-03-01', to: '2024-03-15', by: 'region' },
    { ids: ['service.ro_count'], from: '2024-03-01', to: '2024-03-15', by: 'region', targets: false },
  ] });
  assert.equal(r.status, 200, r.text);
  const t = targetsByKey(r.json[0]);
  close(t.SOUTH['service.ro_count'], 450, 'SOUTH half March: 150 + 300');
  close(t.NORTH['service.ro_count'], null, 'NORTH half March');
  for (const i of [1, 2]) for (const row of r.json[i].rows) assert.equal(row.targets, undefined, `item ${i} has no targets`);
  const bad = await s.request('POST', '/api/v1/kpi/batch', { cookie: admin,
    body: [{ ids: ['service.ro_count'], from: '2024-03-01', to: '2024-03-15', targets: 'yes' }] });
  assert.equal(bad.status, 400);
  assert.match(bad.json.error.message, /query 0: targets/);
});

test('a bad targets file is refused whole, each problem at its line and column', async () => {
  const csv = 'kpi,store_code,value,month\n' +
    'service.nope,S1,10,2024-05\n' +          // line 2: unknown KPI (column 1)
    'service.revenue_per_ro,S1,10,2024-05\n' + // line 3: a KPI without budget (column 1)
    'service.ro_count,S1,-5,2024-05\n' +       // line 4: negative value (column 3)
    'service.ro_count,S1,5,2024-13\n' +        // line 5: not a month (column 4)
    'service.ro_count,ZZ,5,2024-05\n' +        // line 6: no such store (column 2)
    'service.ro_count,S2,5.123,2024-05\n' +    // line 7: three decimals (column 3)
    'service.ro_count,N1,7,2024-05\n';         // line 8: fine, but the file fails
  const r = await s.request('POST', '/api/v1/import/targets', { cookie: admin, contentType: 'text/csv', body: csv });
  assert.equal(r.status, 422, r.text);
  const got = r.json.error.details.map((d) => [d.line, d.column]);
  assert.deepEqual(got, [[2, 1], [3, 1], [4, 3], [5, 4], [6, 2], [7, 3]], JSON.stringify(r.json.error.details));
  const msg = Object.fromEntries(r.json.error.details.map((d) => [d.line, d.message]));
  assert.match(msg[2], /kpi: 'service\.nope' is not a KPI id of the catalogue/);
  assert.match(msg[3], /kpi: 'service\.revenue_per_ro' takes no targets/);
  assert.match(msg[4], /value/);
  assert.match(msg[5], /month: '2024-13' is not a month/);
  assert.match(msg[6], /ZZ/);
  // nothing was written: May has no target
  const may = await kpi('ids=service.ro_count&from=2024-05-01&to=2024-05-31&stores=S1&targets=1');
  close(may.rows[0].targets['service.ro_count'], null, 'S1 May after the refused file');
  // the same key twice in a file names both lines
  const dup = await s.request('POST', '/api/v1/import/targets', { cookie: admin, contentType: 'text/csv',
    body: 'store_code,month,kpi,value\nS1,2024-05,service.ro_count,1\nS1,2024-05,service.ro_count,2\n' });
  assert.equal(dup.status, 422);
  assert.match(dup.json.error.details[0].message, /2/);
  // the command line says the same
  const file = join(dir, 'bad.csv');
  writeFileSync(file, csv);
  const cli = await s.cli(['import', 'targets', file]);
  assert.notEqual(cli.code, 0);
  assert.match(cli.stderr + cli.stdout, /service\.nope/);
  assert.match(cli.stderr + cli.stdout, /takes no targets/);
});

test('only admins and all-store tokens import targets', async () => {
  const body = 'store_code,month,kpi,value\nS1,2024-05,service.ro_count,300\n';
  const sm = await s.login('sm1', 'store-pass-1234');
  const bySm = await s.request('POST', '/api/v1/import/targets', { cookie: sm, contentType: 'text/csv', body });
  assert.equal(bySm.status, 403, bySm.text);
  const byStoreToken = await s.request('POST', '/api/v1/import/targets', { token: secrets.up_s1, contentType: 'text/csv', body });
  assert.equal(byStoreToken.status, 403, byStoreToken.text);
  close((await kpi('ids=service.ro_count&from=2024-05-01&to=2024-05-31&stores=S1&targets=1')).rows[0]
    .targets['service.ro_count'], null, 'nothing written by the refused imports');
  const byAll = await s.request('POST', '/api/v1/import/targets', { token: secrets.up_all, contentType: 'text/csv', body });
  assert.equal(byAll.status, 200, byAll.text);
  assert.deepEqual(byAll.json, { entity: 'targets', rows: 1, inserted: 1, updated: 0, unchanged: 0 });
  close((await kpi('ids=service.ro_count&from=2024-05-01&to=2024-05-31&stores=S1&targets=1')).rows[0]
    .targets['service.ro_count'], 300, 'S1 May after the all-store token');
  // a correction replaces it and the answer follows (no stale cache, no read of the budgets kept from
  // before it: the same months and ids asked just before): 310 -> 341 for S1 March
  close((await kpi('ids=service.ro_count&from=2024-03-01&to=2024-03-31&stores=S1&targets=1')).rows[0]
    .targets['service.ro_count'], 310, 'S1 March before the correction');
  const fix = await s.request('POST', '/api/v1/import/targets', { cookie: admin, contentType: 'text/csv',
    body: 'store_code,month,kpi,value\nS1,2024-05,service.ro_count,300\nS1,2024-03,service.ro_count,341\n' });
  assert.equal(fix.status, 200, fix.text);
  assert.deepEqual(fix.json, { entity: 'targets', rows: 2, inserted: 0, updated: 1, unchanged: 1 });
  close((await kpi('ids=service.ro_count&from=2024-03-01&to=2024-03-31&stores=S1&targets=1')).rows[0]
    .targets['service.ro_count'], 341, 'S1 March after the correction');
  // a store manager reads targets of their own store
  const own = await kpi('ids=service.ro_count&from=2024-03-01&to=2024-03-15&by=store&targets=1', { cookie: sm });
  assert.deepEqual(own.rows.map((r) => r.key), ['S1']);
  close(own.rows[0].targets['service.ro_count'], 341 * 15 / 31, 'S1 half March after the correction');
});
