// demo: `fourscore demo` and `fourscore serve --demo` end to end. The CLI
// writes the files (--out) deterministically and in the import format (the
// headers are the spec's columns); a database load through the importer
// holds exactly the rows and money of those files (checked with the mariadb
// client on the server's socket, an independent path); `serve --demo` on a
// database that has stores leaves it alone and the demo logins work; and the
// KPI API tells the demo's story (the weak labour store has the lowest
// labour share, the same figure as plain SQL).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { run, startServer, tempDir } from './lib.mjs';

// The columns of docs/import.md, in the order it lists them.
const SPEC_COLUMNS = {
  regions: 'region_code,name',
  stores: 'store_code,name,brand,region_code,city,opened_on',
  insurers: 'insurer_code,name',
  staff: 'store_code,staff_code,name,role,hired_on,left_on',
  customers: 'store_code,customer_code,type,name,phone',
  vehicle_sales: 'store_code,deal_no,vin,sold_on,customer_code,model,sale_amount,referral',
  repair_orders: 'store_code,ro_no,vin,customer_code,advisor_code,ro_type,payer,insurer_code,opened_at,closed_at,mileage_km,other_amount,discount_amount,comeback_of',
  ro_labour: 'store_code,ro_no,line_no,op_code,technician_code,sold_hours,clocked_hours,amount',
  ro_parts: 'store_code,ro_no,line_no,part_no,category,qty,unit_price,unit_cost,from_stock',
  parts_stock: 'store_code,snapshot_on,part_no,qty_on_hand,unit_cost,last_issue_on,last_receipt_on',
  insurance_policies: 'store_code,policy_no,vin,insurer_code,kind,sold_on,starts_on,ends_on,premium,commission',
  invoices: 'store_code,invoice_no,customer_code,issued_on,due_on,amount,ro_no,deal_no',
  payments: 'store_code,payment_no,invoice_no,paid_on,amount',
  store_financials: 'store_code,month,aftersales_personnel_cost,fixed_expenses',
  follow_up_calls: 'store_code,ro_no,called_at,reached,complaint',
  csi_surveys: 'store_code,ro_no,surveyed_on,reliability,responsiveness,assurance,empathy,tangibles',
  appointments: 'store_code,appt_no,vin,booked_at,appointment_at,showed,ro_no',
  targets: 'store_code,month,kpi,value',
};
const ENTITIES = Object.keys(SPEC_COLUMNS);
const SMALL = ['--stores', '3', '--years', '1', '--end', '2025-06'];

// RFC 4180: records of fields, quotes doubled inside quoted fields.
function parseCsv(text) {
  const rows = [];
  let row = [], field = '', i = 0, quoted = false;
  while (i < text.length) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') { field += '"'; i += 2; continue; }
      if (c === '"') { quoted = false; i++; continue; }
      field += c; i++; continue;
    }
    if (c === '"') { quoted = true; i++; continue; }
    if (c === ',') { row.push(field); field = ''; i++; continue; }
    if (c === '\r') { i++; continue; }
    if (c === '\n') { row.push(field); rows.push(row); row = []; field = ''; i++; continue; }
    field += c; i++;
  }
  if (field !== '' || row.length) { row.push(field); rows.push(row); }
  return rows;
}

function readCsv(dir, entity) {
  const rows = parseCsv(readFileSync(join(dir, `${entity}.csv`), 'utf8'));
  const header = rows.shift();
  return rows.map((r) => Object.fromEntries(header.map((h, k) => [h, r[k]])));
}

// Decimal text to hundredths (integers: exact sums).
const cents = (s) => (s === '' || s === undefined ? 0n : BigInt(Math.round(Number(s) * 100)));

let dirA, dirB, dirC;

before(async () => {
  dirA = tempDir('fs-demo-a-');
  dirB = tempDir('fs-demo-b-');
  dirC = tempDir('fs-demo-c-');
  for (const [dir, seed] of [[dirA, '5'], [dirB, '5'], [dirC, '6']]) {
    const r = await run(['demo', ...SMALL, '--seed', seed, '--out', dir]);
    assert.equal(r.code, 0, r.stderr);
  }
});

after(() => {
  for (const d of [dirA, dirB, dirC]) rmSync(d, { recursive: true, force: true });
});

test('demo --help and bad options', async () => {
  const help = await run(['demo', '--help']);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /--stores N/);
  assert.match(help.stdout, /--out DIR/);
  const bad = await run(['demo', '--stores', 'many', '--out', dirA]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--stores/);
  const badEnd = await run(['demo', '--end', '2025-6', '--out', dirA]);
  assert.equal(badEnd.code, 2);
  assert.match(badEnd.stderr, /--end/);
});

test('--out writes one file per entity with exactly the spec columns', () => {
  assert.deepEqual(readdirSync(dirA).sort(), ENTITIES.map((e) => `${e}.csv`).sort());
  for (const e of ENTITIES) {
    const first = readFileSync(join(dirA, `${e}.csv`), 'utf8').split('\n', 1)[0];
    assert.equal(first, SPEC_COLUMNS[e], `${e} header`);
    assert.ok(readCsv(dirA, e).length > 0, `${e} has rows`);
  }
});

test('same seed and end month: identical files; another seed: different', () => {
  for (const e of ENTITIES) {
    const a = readFileSync(join(dirA, `${e}.csv`));
    assert.ok(a.equals(readFileSync(join(dirB, `${e}.csv`))), `${e} identical for the same seed`);
  }
  for (const e of ['repair_orders', 'ro_parts', 'vehicle_sales', 'customers']) {
    assert.ok(!readFileSync(join(dirA, `${e}.csv`)).equals(readFileSync(join(dirC, `${e}.csv`))), `${e} differs for another seed`);
  }
});

test('the files obey the rules of the import format', () => {
  const vin = /^[A-HJ-NPR-Z0-9]{17}$/;
  const ros = new Map();
  for (const r of readCsv(dirA, 'repair_orders')) {
    assert.match(r.vin, vin);
    if (r.closed_at) assert.ok(r.closed_at >= r.opened_at, `${r.ro_no} closes after it opens`);
    if (r.payer === 'insurer') assert.ok(r.insurer_code, `${r.ro_no} insurer paid names the insurer`);
    if (r.comeback_of) {
      const o = ros.get(`${r.store_code}/${r.comeback_of}`);
      assert.ok(o && o.vin === r.vin && o.opened_at < r.opened_at, `${r.ro_no} comes back to an earlier RO of its vehicle`);
    }
    ros.set(`${r.store_code}/${r.ro_no}`, r);
  }
  const open = new Map();
  for (const i of readCsv(dirA, 'invoices')) open.set(`${i.store_code}/${i.invoice_no}`, cents(i.amount));
  for (const p of readCsv(dirA, 'payments')) {
    const k = `${p.store_code}/${p.invoice_no}`;
    const left = open.get(k) - cents(p.amount);
    assert.ok(left >= 0n, `payment ${p.payment_no} does not exceed what is open`);
    open.set(k, left);
  }
  for (const f of readCsv(dirA, 'follow_up_calls')) if (f.complaint === '1') assert.equal(f.reached, '1');
  for (const p of readCsv(dirA, 'insurance_policies')) assert.ok(p.ends_on > p.starts_on);
  const stores = readCsv(dirA, 'stores');
  assert.deepEqual(stores.map((s) => s.name), ['广州天河丰田', '上海浦东本田', '北京朝阳大众']);
});

test('demo load, then serve --demo: same rows and money as the files, logins, the story in the KPI API', async () => {
  const dataDir = tempDir('fs-demo-db-');
  const load = await run(['demo', ...SMALL, '--seed', '5'], { dataDir });
  assert.equal(load.code, 0, load.stderr);
  assert.match(load.stdout, /demo1234/);                 // the demo logins are printed
  assert.match(load.stderr, /weak labour_share: (\w+)/);
  const weakLabour = /weak labour_share: (\w+)/.exec(load.stderr)[1];

  const s = await startServer({ dataDir, demo: true });
  try {
    assert.match(s.stderr(), /the demo group is not loaded/);   // it has stores: left alone
    const sql = (text) => execFileSync('mariadb', ['--no-defaults', `--socket=${dataDir}/mysqld.sock`, '-uroot', '-N', '-B',
      'fourscore', '-e', text], { encoding: 'utf8' }).trim();

    for (const e of ENTITIES) {
      assert.equal(Number(sql(`SELECT COUNT(*) FROM ${e}`)), readCsv(dirA, e).length, `${e}: rows in the database = rows in the file`);
    }
    let sale = 0n;
    for (const p of readCsv(dirA, 'ro_parts')) sale += cents(p.qty) * cents(p.unit_price);
    assert.equal(BigInt(sql('SELECT CAST(SUM(qty * unit_price) * 10000 AS DECIMAL(24,0)) FROM ro_parts')), sale,
      'sum of qty * unit_price: the file and the database agree');
    let owed = 0n;
    for (const i of readCsv(dirA, 'invoices')) owed += cents(i.amount);
    for (const p of readCsv(dirA, 'payments')) owed -= cents(p.amount);
    assert.equal(BigInt(sql('SELECT CAST(((SELECT SUM(amount) FROM invoices) - (SELECT SUM(amount) FROM payments)) * 100 AS DECIMAL(24,0))')),
      owed, 'open receivables: the file and the database agree');

    const cookie = await s.login('exec', 'demo1234');
    const r = await s.request('GET', '/api/v1/kpi?ids=labour.share,service.ro_count&from=2024-07-01&to=2025-06-30&by=store', { cookie });
    assert.equal(r.status, 200, r.text);
    const text = JSON.stringify(r.json);
    // labour share per store by plain SQL: labour / RO revenue of closed non-internal ROs
    const rows = sql(`SELECT r.store_code, SUM(COALESCE(l.lab,0)) / SUM(COALESCE(l.lab,0) + COALESCE(p.sale,0)
        + COALESCE(r.other_amount,0) - COALESCE(r.discount_amount,0))
      FROM repair_orders r
      LEFT JOIN (SELECT store_code, ro_no, SUM(amount) lab FROM ro_labour GROUP BY store_code, ro_no) l USING (store_code, ro_no)
      LEFT JOIN (SELECT store_code, ro_no, SUM(qty*unit_price) sale FROM ro_parts GROUP BY store_code, ro_no) p USING (store_code, ro_no)
      WHERE r.closed_at >= '2024-07-01' AND r.closed_at < '2025-07-01' AND r.ro_type <> 'internal'
      GROUP BY r.store_code ORDER BY 2`).split('\n').map((l) => l.split('\t'));
    assert.equal(rows[0][0], weakLabour, 'the weak labour store has the lowest labour share by SQL');
    assert.ok(Number(rows[0][1]) < 0.25 && Number(rows[rows.length - 1][1]) > 0.28, `labour shares ${JSON.stringify(rows)}`);
    // the API names every store; the weak one's share appears as SQL computed it (4 decimals)
    for (const [code] of rows) assert.ok(text.includes(code), `the KPI answer has store ${code}`);
    const shares = [];
    JSON.stringify(r.json, (k, v) => { if (typeof v === 'number' && v > 0 && v < 1) shares.push(v); return v; });
    assert.ok(shares.some((v) => Math.abs(v - Number(rows[0][1])) < 1e-4), `the API's labour shares ${shares} include ${rows[0][1]}`);
  } finally {
    const res = await s.stop();
    assert.equal(res.code, 0);
    rmSync(dataDir, { recursive: true, force: true });
  }
});
