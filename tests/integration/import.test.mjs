// import: POST /api/v1/import/{entity} and `fourscore import` against the
// real server (lib.mjs: its own data dir and MariaDB). Every check of the
// database goes through the mariadb client on the server's socket, an
// independent path. Fixtures: tests/fixtures/import/good (a small group)
// and tests/fixtures/import/bad (refused files).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startServer, fixtures, tempDir } from './lib.mjs';

const good = join(fixtures, 'import', 'good');
const bad = join(fixtures, 'import', 'bad');
const ENTITIES = ['regions', 'stores', 'insurers', 'staff', 'customers', 'vehicle_sales', 'repair_orders', 'ro_labour',
  'ro_parts', 'parts_stock', 'insurance_policies', 'invoices', 'payments', 'store_financials', 'follow_up_calls',
  'csi_surveys', 'appointments'];
// rows per good fixture, counted by hand
const ROWS = { regions: 2, stores: 3, insurers: 2, staff: 4, customers: 5, vehicle_sales: 2, repair_orders: 4, ro_labour: 3,
  ro_parts: 4, parts_stock: 2, insurance_policies: 1, invoices: 3, payments: 3, store_financials: 1, follow_up_calls: 2,
  csi_surveys: 1, appointments: 2 };

let s, admin, upGz, upAll, metrics;

function sql(text) {
  return execFileSync('mariadb', ['--no-defaults', `--socket=${s.dataDir}/mysqld.sock`, '-uroot', '-N', '-B', 'fourscore',
    '-e', text], { encoding: 'utf8' }).trim();
}

// A checksum of every fact table: equal before and after = nothing written.
function fingerprint() {
  return sql('CHECKSUM TABLE regions, stores, insurers, staff, customers, vehicle_sales, repair_orders, ro_labour, ro_parts, '
    + 'parts_stock, insurance_policies, invoices, payments, store_financials, follow_up_calls, csi_surveys, appointments');
}

function upload(entity, body, o = {}) {
  const auth = o.token ? { token: o.token } : o.cookie === null ? {} : { cookie: o.cookie || admin };
  return s.request('POST', `/api/v1/import/${entity}`, { body, contentType: o.contentType || 'text/csv', ...auth });
}

async function token(name, flag) {
  const out = await s.cli(['token', 'create', name, ...flag]);
  assert.equal(out.code, 0, `token create ${name}: ${out.stderr}`);
  return out.stdout.trim().split('\n').pop();
}

before(async () => {
  s = await startServer();
  admin = await s.adminCookie();
  upGz = await token('up-gz01', ['--store', 'GZ01']);
  upAll = await token('up-all', ['--all-stores']);
  metrics = await token('prom', ['--metrics']);
});

after(async () => { if (s) await s.stop(); });

test('the good fixtures load in order, and again change nothing', async () => {
  for (const e of ENTITIES) {
    const r = await upload(e, readFileSync(join(good, `${e}.csv`)));
    assert.equal(r.status, 200, `${e}: ${r.text}`);
    assert.deepEqual(r.json, { entity: e, rows: ROWS[e], inserted: ROWS[e], updated: 0, unchanged: 0 });
  }
  for (const e of ENTITIES) {
    const r = await upload(e, readFileSync(join(good, `${e}.csv`)), { token: upAll });
    assert.equal(r.status, 200, `${e}: ${r.text}`);
    assert.deepEqual(r.json, { entity: e, rows: ROWS[e], inserted: 0, updated: 0, unchanged: ROWS[e] });
  }
  assert.equal(sql("SELECT COUNT(*) FROM ro_parts WHERE store_code = 'GZ01'"), '3');
  assert.equal(sql("SELECT name FROM stores WHERE store_code = 'GZ01'"), '广州天河丰田');
  // every import is audited: 17 by the admin, 17 by the all-store token
  assert.equal(sql("SELECT COUNT(*) FROM audit_log WHERE action = 'import'"), '34');
});

test('a corrected row is 1 updated; an RO named by ro_parts loses the lines it does not repeat', async () => {
  let r = await upload('customers', 'store_code,customer_code,type,name\nGZ01,C002,fleet,广州出租车集团\nGZ01,C003,insurer,中国人保广州\n',
    { token: upGz });
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(r.json, { entity: 'customers', rows: 2, inserted: 0, updated: 1, unchanged: 1 });
  assert.equal(sql("SELECT name FROM customers WHERE store_code = 'GZ01' AND customer_code = 'C002'"), '广州出租车集团');
  r = await upload('ro_parts', 'store_code,ro_no,line_no,part_no,category,qty,unit_price,unit_cost\nGZ01,R001,2,FILTER-01,part,1,80,50\n');
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(r.json, { entity: 'ro_parts', rows: 1, inserted: 0, updated: 0, unchanged: 1 });
  assert.equal(sql("SELECT GROUP_CONCAT(line_no) FROM ro_parts WHERE store_code = 'GZ01' AND ro_no = 'R001'"), '2');
  assert.equal(sql("SELECT COUNT(*) FROM ro_parts WHERE store_code = 'GZ01' AND ro_no = 'R002'"), '1', 'R002 untouched');
});

test('415 for another content type, 422 for an empty body, 404 for an unknown entity', async () => {
  const before = fingerprint();
  let r = await upload('regions', 'region_code,name\nNORTH,华北\n', { contentType: 'application/json' });
  assert.equal(r.status, 415, r.text);
  assert.equal(r.json.error.code, 'unsupported_media_type');
  r = await upload('regions', 'region_code,name\nNORTH,华北\n', { contentType: 'text/csv; charset=gbk' });
  assert.equal(r.status, 415, r.text);
  r = await upload('regions', '');
  assert.equal(r.status, 422, r.text);
  assert.equal(r.json.error.code, 'invalid_csv');
  assert.deepEqual(r.json.error.details[0].line, 1);
  r = await upload('vehicles', 'a\n1\n');
  assert.equal(r.status, 404, r.text);
  assert.equal(r.json.error.code, 'unknown_entity');
  assert.equal(fingerprint(), before);
});

test('who may import: no credentials 401, a metrics token 403, a store token not regions', async () => {
  const before = fingerprint();
  let r = await upload('regions', 'region_code,name\nNORTH,华北\n', { cookie: null });
  assert.equal(r.status, 401, r.text);
  r = await upload('regions', 'region_code,name\nNORTH,华北\n', { token: metrics });
  assert.equal(r.status, 403, r.text);
  for (const e of ['regions', 'stores', 'insurers']) {
    r = await upload(e, readFileSync(join(good, `${e}.csv`)), { token: upGz });
    assert.equal(r.status, 403, `${e}: ${r.text}`);
  }
  assert.equal(fingerprint(), before);
});

test('a token bound to GZ01 importing rows of other stores: 403 naming every such line, nothing written', async () => {
  const before = fingerprint();
  const r = await upload('customers', readFileSync(join(bad, 'customers_out_of_scope.csv')), { token: upGz });
  assert.equal(r.status, 403, r.text);
  assert.equal(r.json.error.code, 'store_out_of_scope');
  assert.deepEqual(r.json.error.details.map((d) => [d.line, d.column]), [[3, 1], [5, 1]]);
  assert.match(r.json.error.details[0].message, /SZ01/);
  assert.equal(fingerprint(), before);
});

test('invalid rows: 422 with every problem in line order, nothing written', async () => {
  const before = fingerprint();
  const r = await upload('repair_orders', readFileSync(join(bad, 'repair_orders_invalid.csv')));
  assert.equal(r.status, 422, r.text);
  assert.equal(r.json.error.code, 'invalid_rows');
  // worked out by hand from the file: see its lines
  assert.deepEqual(r.json.error.details.map((d) => [d.line, d.column]),
    [[2, 3], [3, 10], [4, 8], [5, 4], [6, 14], [8, 1]]);
  const msgs = r.json.error.details.map((d) => d.message);
  assert.match(msgs[0], /vin: 'LVGBE40K8GP00000I' is not a VIN/);
  assert.match(msgs[1], /closed_at: .* is before opened_at/);
  assert.match(msgs[2], /insurer_code: required when payer is insurer/);
  assert.match(msgs[3], /customer 'C404' does not exist in store GZ01/);
  assert.match(msgs[4], /comeback_of 'R999'/);
  assert.match(msgs[5], /duplicate key \(store_code=GZ01, ro_no=R060\): the same key is on line 7/);
  assert.equal(fingerprint(), before);
});

test('malformed CSV: 422 invalid_csv with line and column', async () => {
  const before = fingerprint();
  const r = await upload('regions', readFileSync(join(bad, 'regions_unterminated.csv')));
  assert.equal(r.status, 422, r.text);
  assert.equal(r.json.error.code, 'invalid_csv');
  assert.deepEqual([r.json.error.details[0].line, r.json.error.details[0].column], [3, 2]);
  assert.match(r.json.error.details[0].message, /unterminated quote/);
  assert.equal(fingerprint(), before);
});

test('malformed CSV deep in a large body: the rest is read, 422 names the line, nothing written', async () => {
  const before = fingerprint();
  let csv = 'store_code,customer_code,type,name\n';
  for (let i = 0; i < 20000; i++) csv += `GZ01,M${i},individual,客户${i}\n`;
  csv += 'GZ01,BAD,individual,12" wheels\n';                   // line 20002: a quote in an unquoted field
  for (let i = 0; i < 20000; i++) csv += `GZ01,N${i},individual,客户${i}\n`;
  const r = await upload('customers', csv);
  assert.equal(r.status, 422, r.text);
  assert.equal(r.json.error.code, 'invalid_csv');
  assert.deepEqual([r.json.error.details[0].line, r.json.error.details[0].column], [20002, 4]);
  assert.match(r.json.error.details[0].message, /a quote inside an unquoted field/);
  assert.equal(fingerprint(), before);
});

test('more than 1000 problems: 1000 details and "more"', async () => {
  let csv = 'region_code,name\n';
  for (let i = 0; i < 1234; i++) csv += `bad code ${i},x\n`;
  const r = await upload('regions', csv);
  assert.equal(r.status, 422, r.text);
  assert.equal(r.json.error.details.length, 1000);
  assert.equal(r.json.error.more, 234);
  assert.equal(r.json.error.details[999].line, 1001);
});

test('a body streamed in small chunks: 30,000 ro_parts rows', async () => {
  // 300 ROs of SH01 first, then 100 lines each sent as a stream of small pieces
  let ros = 'store_code,ro_no,vin,customer_code,ro_type,payer,opened_at,closed_at\n';
  for (let i = 0; i < 300; i++) ros += `SH01,S${i},LSVAA4180E2${String(i).padStart(6, '0')},C001,repair,customer,2024-07-01 09:00,2024-07-02 10:00\n`;
  let r = await upload('repair_orders', ros);
  assert.equal(r.status, 200, r.text);
  let cents = 0;
  const lines = ['store_code,ro_no,line_no,part_no,category,qty,unit_price,unit_cost,from_stock\n'];
  for (let i = 0; i < 300; i++) {
    for (let l = 1; l <= 100; l++) {
      const price = 100 + ((i * 31 + l) % 5000);     // in cents
      cents += 2 * price;
      lines.push(`SH01,S${i},${l},P${l},part,2,${Math.floor(price / 100)}.${String(price % 100).padStart(2, '0')},1,\n`);
    }
  }
  const body = Buffer.from(lines.join(''));
  const stream = new ReadableStream({
    start(controller) {
      for (let off = 0; off < body.length; off += 1000) controller.enqueue(body.subarray(off, off + 1000));
      controller.close();
    },
  });
  const res = await fetch(`${s.url}/api/v1/import/ro_parts`, {
    method: 'POST', body: stream, duplex: 'half',
    headers: { 'content-type': 'text/csv', authorization: `Bearer ${upAll}` },
  });
  const json = await res.json();
  assert.equal(res.status, 200, JSON.stringify(json));
  assert.deepEqual(json, { entity: 'ro_parts', rows: 30000, inserted: 30000, updated: 0, unchanged: 0 });
  assert.equal(sql("SELECT CAST(SUM(qty * unit_price) * 100 AS UNSIGNED) FROM ro_parts WHERE store_code = 'SH01'"), String(cents));
  r = await upload('ro_parts', body, { token: upAll });
  assert.deepEqual(r.json, { entity: 'ro_parts', rows: 30000, inserted: 0, updated: 0, unchanged: 30000 });
});

test('fourscore import: counts on success; FILE:LINE:COLUMN lines and exit 1 on failure', async () => {
  const dir = tempDir('fs-import-cli-');
  const ok = join(dir, 'insurers.csv');
  writeFileSync(ok, 'insurer_code,name\nPICC,中国人保\nCPIC,太平洋保险\n');
  let out = await s.cli(['import', 'insurers', ok]);
  assert.equal(out.code, 0, out.stderr);
  assert.match(out.stdout, /insurers\.csv: 2 rows: 1 inserted, 0 updated, 1 unchanged/);
  const before = fingerprint();
  const badFile = join(bad, 'repair_orders_invalid.csv');
  out = await s.cli(['import', 'repair_orders', badFile]);
  assert.equal(out.code, 1);
  assert.match(out.stderr, new RegExp(`${badFile.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:2:3: vin: `));
  assert.match(out.stderr, /repair_orders_invalid\.csv:8:1: duplicate key/);
  assert.equal(fingerprint(), before);
  out = await s.cli(['import', '--help']);
  assert.equal(out.code, 0);
  assert.match(out.stdout, /fourscore import/);
});

test('customers.phone: optional; digits, +, - and spaces up to 20; a bad one is named by line and column', async () => {
  // a file with the column: stored as written
  let r = await upload('customers', 'store_code,customer_code,type,name,phone\n'
    + 'GZ01,P001,individual,王先生,139-1234-5678\nGZ01,P002,individual,李女士,+86 139 1234 5678\nGZ01,P003,individual,张先生,\n');
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(r.json, { entity: 'customers', rows: 3, inserted: 3, updated: 0, unchanged: 0 });
  assert.equal(sql("SELECT GROUP_CONCAT(COALESCE(phone, 'NULL') ORDER BY customer_code SEPARATOR '|') FROM customers "
    + "WHERE store_code = 'GZ01' AND customer_code LIKE 'P00%'"), '139-1234-5678|+86 139 1234 5678|NULL');
  // an old file without the column still imports
  r = await upload('customers', 'store_code,customer_code,type,name\nGZ01,P004,individual,赵先生\n');
  assert.equal(r.status, 200, r.text);
  assert.equal(sql("SELECT COALESCE(phone, 'NULL') FROM customers WHERE store_code = 'GZ01' AND customer_code = 'P004'"), 'NULL');
  // letters, a slash, 21 characters: refused at line and column 5 (phone), nothing written
  const before = fingerprint();
  r = await upload('customers', 'store_code,customer_code,type,name,phone\n'
    + 'GZ01,P005,individual,钱先生,139-1234-5678\nGZ01,P006,individual,孙先生,139x12345678\n'
    + 'GZ01,P007,individual,周先生,139/1234/5678\nGZ01,P008,individual,吴先生,+86 139 1234 5678 000\n');
  assert.equal(r.status, 422, r.text);
  assert.deepEqual(r.json.error.details.map((d) => [d.line, d.column]), [[3, 5], [4, 5], [5, 5]]);
  assert.match(r.json.error.details[0].message, /^phone: '139x12345678' is not a phone number/);
  assert.equal(fingerprint(), before);
});
