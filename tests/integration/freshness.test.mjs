// freshness: GET /api/v1/freshness through the real server. The KPI fixture
// (tests/fixtures/kpi/) is imported entity by entity; the expected `latest`
// of every (store, entity) and each store's `through` are worked out here
// from the CSV files themselves (the greatest date of the entity's main date
// column, per store; `through` from the closed, non-internal repair orders),
// independently of the program. Then: the answer is scoped (a store manager
// sees their store, a regional manager their region's), an unchanged
// re-import moves `imported_at` only, a correction that lowers a date is
// seen, an import that fails leaves everything as it was, a row written
// behind the importer's back changes nothing (the answer reads the kept
// table, not the facts), the importer's recompute is an index dive
// (EXPLAIN), and the demo's bulk loader leaves the table filled.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { startServer, fixtures, root } from './lib.mjs';

const FIXTURE = join(fixtures, 'kpi');
const ENTITIES = ['regions', 'stores', 'insurers', 'staff', 'customers', 'vehicle_sales', 'repair_orders',
  'ro_labour', 'ro_parts', 'parts_stock', 'insurance_policies', 'invoices', 'payments', 'store_financials',
  'follow_up_calls', 'csi_surveys', 'appointments'];
// The counted entities and the column whose date each moves (docs/api.md "freshness").
const DATE_COLUMN = {
  repair_orders: 'closed_at', vehicle_sales: 'sold_on', insurance_policies: 'sold_on', invoices: 'issued_on',
  payments: 'paid_on', parts_stock: 'snapshot_on', follow_up_calls: 'called_at', csi_surveys: 'surveyed_on',
  appointments: 'booked_at', store_financials: 'month',
};

let s, admin;
const startedAt = Date.now();

function parseCsv(text) {
  const lines = text.split(/\r?\n/).filter((l) => l !== '');
  const head = lines[0].replace(/^\uFEFF/, '').split(',');
  // the fixture's fields hold no commas inside quotes in the columns read here
  return lines.slice(1).map((l) => { const f = l.split(','); return Object.fromEntries(head.map((h, i) => [h, f[i] ?? ''])); });
}
const csv = (entity) => parseCsv(readFileSync(join(FIXTURE, `${entity}.csv`), 'utf8'));
const stores = csv('stores');

// The last day of a month 'YYYY-MM'.
const lastDay = (m) => {
  const [y, mo] = m.split('-').map(Number);
  return `${m}-${String(new Date(Date.UTC(y, mo, 0)).getUTCDate()).padStart(2, '0')}`;
};

// Expected latest per store and entity, from the files.
function expectedLatest() {
  const out = Object.fromEntries(stores.map((st) => [st.store_code, {}]));
  for (const [entity, col] of Object.entries(DATE_COLUMN)) {
    for (const st of stores) out[st.store_code][entity] = null;
    for (const row of csv(entity)) {
      if (!row[col]) continue;
      const day = entity === 'store_financials' ? lastDay(row[col]) : row[col].slice(0, 10);
      const cur = out[row.store_code][entity];
      if (cur === null || day > cur) out[row.store_code][entity] = day;
    }
  }
  return out;
}
function expectedThrough() {
  const out = Object.fromEntries(stores.map((st) => [st.store_code, null]));
  for (const r of csv('repair_orders')) {
    if (!r.closed_at || r.ro_type === 'internal') continue;
    const day = r.closed_at.slice(0, 10);
    if (out[r.store_code] === null || day > out[r.store_code]) out[r.store_code] = day;
  }
  return out;
}
// Which stores each entity's file has rows of.
const storesIn = (entity) => new Set(csv(entity).map((r) => r.store_code));

// Now in Asia/Shanghai (UTC+8, no daylight saving time), as 'YYYY-MM-DD HH:MM:SS'.
const shanghai = (ms) => new Date(ms + 8 * 3600e3).toISOString().slice(0, 19).replace('T', ' ');

const sql = (text) => execFileSync('mariadb', ['--no-defaults', `--socket=${s.dataDir}/mysqld.sock`, '-uroot', '-N', '-B',
  'fourscore', '-e', text], { encoding: 'utf8' }).trim();

async function freshness(cookie) {
  const r = await s.request('GET', '/api/v1/freshness', { cookie });
  assert.equal(r.status, 200, r.text);
  return r;
}
const byStore = (answer) => Object.fromEntries(answer.stores.map((x) => [x.store, x]));

async function importCsv(entity, text) {
  return s.request('POST', `/api/v1/import/${entity}`, { cookie: admin, body: text, contentType: 'text/csv' });
}

before(async () => {
  s = await startServer();
  for (const entity of ENTITIES) {
    const r = await s.cli(['import', entity, join(FIXTURE, `${entity}.csv`)]);
    assert.equal(r.code, 0, `import ${entity}:\n${r.stdout}\n${r.stderr}`);
  }
  admin = await s.adminCookie();
  for (const [name, args] of [['sm_s1', ['--role', 'store_manager', '--store', 'S1']],
    ['rm_south', ['--role', 'regional_manager', '--region', 'SOUTH']], ['exec1', ['--role', 'executive']]]) {
    const out = await s.cli(['user', 'add', name, ...args, '--password-stdin'], { input: `${name}-pass-123\n` });
    assert.equal(out.code, 0, out.stderr);
  }
});

after(async () => {
  if (s) await s.stop();
});

test('every store and counted entity: latest, imported_at and through as the fixture files give them', async () => {
  const r = await freshness(admin);
  assert.deepEqual(Object.keys(r.json).sort(), ['as_of', 'stores']);
  assert.equal(r.json.as_of, shanghai(Date.now()).slice(0, 10), 'as_of is today in Asia/Shanghai');
  assert.deepEqual(r.json.stores.map((x) => x.store), stores.map((x) => x.store_code).sort(), 'every store, in code order');
  const latest = expectedLatest(), through = expectedThrough();
  const lo = shanghai(startedAt - 2000), hi = shanghai(Date.now() + 2000);
  for (const st of r.json.stores) {
    const file = stores.find((x) => x.store_code === st.store);
    assert.equal(st.name, file.name);
    assert.equal(st.through, through[st.store], `${st.store} through`);
    assert.deepEqual(Object.keys(st.entities).sort(), Object.keys(DATE_COLUMN).sort(), st.store);
    for (const [entity, v] of Object.entries(st.entities)) {
      assert.deepEqual(Object.keys(v).sort(), ['imported_at', 'latest']);
      assert.equal(v.latest, latest[st.store][entity], `${st.store} ${entity} latest`);
      if (storesIn(entity).has(st.store)) {
        assert.match(v.imported_at, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/, `${st.store} ${entity}`);
        assert.ok(v.imported_at >= lo && v.imported_at <= hi, `${st.store} ${entity} imported_at ${v.imported_at} in [${lo}, ${hi}]`);
      } else {
        assert.equal(v.imported_at, null, `${st.store} ${entity}: no rows, no import`);
      }
    }
  }
  // N2 has no data at all: every entity null, through null
  const n2 = byStore(r.json).N2;
  assert.equal(n2.through, null);
  for (const v of Object.values(n2.entities)) assert.deepEqual(v, { latest: null, imported_at: null });
});

test('scoped: a store manager sees only their store, a regional manager their region', async () => {
  const sm = await s.login('sm_s1', 'sm_s1-pass-123');
  const a = await freshness(sm);
  assert.deepEqual(a.json.stores.map((x) => x.store), ['S1']);
  assert.ok(!a.text.includes('"S2"') && !a.text.includes('"N1"'), 'no other store appears');
  const rm = await s.login('rm_south', 'rm_south-pass-123');
  const b = await freshness(rm);
  const south = stores.filter((x) => x.region_code === 'SOUTH').map((x) => x.store_code).sort();
  assert.deepEqual(b.json.stores.map((x) => x.store), south);
  const ex = await s.login('exec1', 'exec1-pass-123');
  assert.equal((await freshness(ex)).json.stores.length, stores.length);
  assert.equal((await s.request('GET', '/api/v1/freshness')).status, 401, 'no session: 401');
});

test('an unchanged re-import moves imported_at only; a correction that lowers the date is seen', async () => {
  const before = byStore((await freshness(admin)).json);
  await new Promise((r) => setTimeout(r, 1100));
  const text = readFileSync(join(FIXTURE, 'csi_surveys.csv'), 'utf8');
  let r = await importCsv('csi_surveys', text);
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.unchanged, r.json.rows, 'every row unchanged');
  const after = byStore((await freshness(admin)).json);
  for (const st of storesIn('csi_surveys')) {
    assert.equal(after[st].entities.csi_surveys.latest, before[st].entities.csi_surveys.latest);
    assert.ok(after[st].entities.csi_surveys.imported_at > before[st].entities.csi_surveys.imported_at, `${st}: later import time`);
    assert.deepEqual(after[st].entities.repair_orders, before[st].entities.repair_orders, `${st}: other entities untouched`);
  }
  // the latest survey of a store moved to an earlier day: latest drops to the next greatest
  const rows = csv('csi_surveys');
  const store = [...storesIn('csi_surveys')][0];
  const mine = rows.filter((x) => x.store_code === store).sort((x, y) => (x.surveyed_on < y.surveyed_on ? 1 : -1));
  const top = mine[0];
  const lowered = '2020-01-01';
  const lines = text.split(/\r?\n/).filter((l) => l !== '');
  const head = lines[0].split(',');
  const fixed = lines.map((l, i) => {
    if (i === 0) return l;
    const f = l.split(',');
    if (f[0] === top.store_code && f[1] === top.ro_no) f[head.indexOf('surveyed_on')] = lowered;
    return f.join(',');
  }).join('\n') + '\n';
  r = await importCsv('csi_surveys', fixed);
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.updated, 1);
  const next = mine.length > 1 ? (mine[1].surveyed_on > lowered ? mine[1].surveyed_on : lowered) : lowered;
  const third = byStore((await freshness(admin)).json);
  assert.equal(third[store].entities.csi_surveys.latest, next, 'the correction lowered latest');
  // and back as it was
  r = await importCsv('csi_surveys', text);
  assert.equal(r.status, 200, r.text);
  assert.equal(byStore((await freshness(admin)).json)[store].entities.csi_surveys.latest, before[store].entities.csi_surveys.latest);
});

test('an import that fails leaves freshness as it was (it is written in the import\'s transaction)', async () => {
  const before = (await freshness(admin)).text;
  // a good row that would move S1's appointments far ahead, then a bad one
  const csvText = 'store_code,appt_no,vin,booked_at,appointment_at,showed,ro_no\n' +
    'S1,FAILX1,LFVKP000000000001,2030-05-01 09:00,2030-05-02 09:00,,\n' +
    'S1,FAILX2,LFVKP000000000001,not-a-time,2030-05-02 09:00,,\n';
  const r = await importCsv('appointments', csvText);
  assert.equal(r.status, 422, r.text);
  assert.equal(r.json.error.details[0].line, 3);
  // a row of a store that does not exist fails at the parent check, after staging
  const r2 = await importCsv('appointments', 'store_code,appt_no,vin,booked_at,appointment_at,showed,ro_no\n' +
    'S1,FAILX3,LFVKP000000000001,2030-05-01 09:00,2030-05-02 09:00,,\nZZ9,FAILX4,LFVKP000000000001,2030-05-01 09:00,2030-05-02 09:00,,\n');
  assert.equal(r2.status, 422, r2.text);
  const after = (await freshness(admin)).text;
  const strip = (t) => { const j = JSON.parse(t); delete j.as_of; return j; };
  assert.deepEqual(strip(after), strip(before));
  assert.equal(sql("SELECT COUNT(*) FROM appointments WHERE appt_no LIKE 'FAILX%'"), '0');
});

test('cheap: the answer reads the kept table, not the facts; the import recomputes with one index dive', async () => {
  const before = byStore((await freshness(admin)).json);
  // a repair order written behind the importer's back: the answer does not scan the facts, so it does not see it
  sql("INSERT INTO repair_orders (store_code, ro_no, vin, customer_code, advisor_code, ro_type, payer, opened_at, closed_at, mileage_km) " +
    "SELECT store_code, 'BEHIND1', vin, customer_code, advisor_code, 'repair', 'customer', '2031-01-01 09:00', '2031-01-01 10:00', 1 " +
    "FROM repair_orders WHERE store_code = 'S1' AND closed_at IS NOT NULL LIMIT 1");
  const after = byStore((await freshness(admin)).json);
  assert.equal(after.S1.entities.repair_orders.latest, before.S1.entities.repair_orders.latest);
  assert.equal(after.S1.through, before.S1.through);
  sql("DELETE FROM repair_orders WHERE ro_no = 'BEHIND1'");
  // the importer's recompute of a store's greatest date is answered from an index, for every counted entity
  for (const [entity, col] of Object.entries(DATE_COLUMN)) {
    const plan = sql(`EXPLAIN SELECT MAX(${col}) FROM ${entity} WHERE store_code = 'S1'`);
    assert.match(plan, /Select tables optimized away|No matching min\/max row/, `${entity}: ${plan}`);
  }
  const through = sql("EXPLAIN SELECT DATE(closed_at) FROM repair_orders WHERE store_code = 'S1' AND closed_at IS NOT NULL " +
    "AND ro_type <> 'internal' ORDER BY closed_at DESC LIMIT 1");
  assert.match(through, /k_ro_store_closed/, through);
  assert.doesNotMatch(through, /filesort/, through);
});

test('a database imported before the freshness table: the migration fills it as the importer would', async () => {
  const kept = (await freshness(admin)).json;
  // schemas/019_freshness.sql's own statements that fill the table from the facts, run on emptied tables
  const text = readFileSync(join(root, 'schemas', '019_freshness.sql'), 'utf8');
  const fill = text.slice(text.indexOf('INSERT IGNORE INTO freshness'));
  sql('DELETE FROM freshness; DELETE FROM freshness_through; ' + fill);
  const filled = (await freshness(admin)).json;
  const strip = (a) => a.stores.map((st) => ({ ...st, entities: Object.fromEntries(Object.entries(st.entities).map(([e, v]) => [e, v.latest])) }));
  assert.deepEqual(strip(filled), strip(kept));
  for (const st of filled.stores) {
    for (const [e, v] of Object.entries(st.entities)) {
      if (v.latest !== null || storesIn(e).has(st.store)) assert.match(v.imported_at, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/, `${st.store} ${e}`);
    }
  }
});

test('the demo, loaded by the bulk loader, leaves freshness filled', async () => {
  const d = await startServer();
  try {
    const out = await d.cli(['demo', '--stores', '5', '--years', '1', '--seed', '7']);
    assert.equal(out.code, 0, out.stderr);
    const dsql = (text) => execFileSync('mariadb', ['--no-defaults', `--socket=${d.dataDir}/mysqld.sock`, '-uroot', '-N', '-B',
      'fourscore', '-e', text], { encoding: 'utf8' }).trim();
    const cookie = await d.adminCookie();
    const r = await d.request('GET', '/api/v1/freshness', { cookie });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.stores.length, 5);
    // the expected values by independent SQL on the facts
    const through = Object.fromEntries(dsql("SELECT store_code, DATE(MAX(closed_at)) FROM repair_orders WHERE ro_type <> 'internal' GROUP BY store_code")
      .split('\n').map((l) => l.split('\t')));
    const ros = Object.fromEntries(dsql('SELECT store_code, DATE(MAX(closed_at)) FROM repair_orders GROUP BY store_code')
      .split('\n').map((l) => l.split('\t')));
    const sales = Object.fromEntries(dsql('SELECT store_code, MAX(sold_on) FROM vehicle_sales GROUP BY store_code')
      .split('\n').map((l) => l.split('\t')));
    for (const st of r.json.stores) {
      assert.equal(st.through, through[st.store], st.store);
      assert.equal(st.entities.repair_orders.latest, ros[st.store], st.store);
      assert.equal(st.entities.vehicle_sales.latest, sales[st.store] ?? null, st.store);
      assert.match(st.entities.repair_orders.imported_at, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
    }
  } finally {
    await d.stop();
  }
});
