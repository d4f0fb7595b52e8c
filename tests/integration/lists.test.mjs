// lists: the rows behind a number (docs/kpis.md "Lists"; docs/api.md "Lists")
// through the real server on the hand-made fixture of tests/fixtures/lists/
// (its README says what it holds): the catalogue, retention.at_risk row by
// row, its total against the KPI retention.at_risk for the group, each
// region and a store at a month end (the KPI reads the month-end counts
// there) and a mid-month day (the KPI reads the states), sorting by every
// column both ways with stable paging, scope (403), bad parameters (400),
// phone masking by role in the API, CSV and xlsx, the audit of every export,
// and the example plugin's list (docs/example-plugin/example.c, built here
// with nothing but the public header), whose rows have customers of other
// stores. The scorecards' list() is in the last test.
//
// The at-risk vehicles, worked out by hand with the default settings (at
// risk: last visit or sale on or before to - 3 months and after to - 6
// months). "months" is months_since: the greatest N with the date on or
// before to - N months.
//   as of 2024-06-30 (to-3 = 03-30, to-6 = 2023-12-30):
//     V1 ...001  last visit R1 S1 2024-01-20            at risk, 5 months (to-5 = 01-30)
//     V2 ...002  sold S1, last visit R3 at S2 02-20     at risk at S2, customer C4 of S2, 4 (to-4 = 02-29)
//     V3 ...003  sold N1 02-01, no visit                at risk at N1, 4
//     V4 ...004  last visit 2024-05-01                  too recent
//     V5 ...005  last visit 2023-10-10                  warning (before to-6)
//     V6 ...006  R7 03-20 (R6 of 03-31 is internal)     at risk, 3 (to-3 = 03-30)
//     V7 ...007  resold at S2 03-01, visit R8 was the earlier owner's: at risk at S2, C5, no visit, 3
//     V8 ...008  R9 and R10 the same day at N1          at risk, last RO R10 (the later), 4
//   => 6: S1 2 (V1, V6), S2 2 (V2, V7), N1 2 (V3, V8); R1 4, R2 2.
//   as of 2024-06-15 (to-3 = 03-15, to-6 = 2023-12-15): V6 (03-20) is too
//   recent; V1 is 4 months (to-5 = 01-15 is before 01-20), V2 3, V7 3, V3 4, V8 4
//   => 5: S1 1, S2 2, N1 2; R1 3, R2 2.
// R11 (V4, 2024-07-05, after both dates) takes the retention month-end
// horizon to 2024-07-31, so that the KPI as of 2024-06-30 answers from the
// month-end counts (rollup_retention_last) and as of 2024-06-15 from the
// states; the statement trace (FOURSCORE_KPI_TRACE) shows which was read.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readFileSync, writeFileSync } from 'node:fs';
import { inflateRawSync } from 'node:zlib';
import { startServer, pluginDirWith, fixtures, root } from './lib.mjs';

const FIXTURE = join(fixtures, 'lists');
const ENTITIES = ['regions', 'stores', 'customers', 'vehicle_sales', 'repair_orders'];
const PASS = 'lists-pass-1234';
const END = '2024-06-30', MID = '2024-06-15';
const V = (n) => `LFVKP00000000000${n}`;

// the at-risk rows as of 2024-06-30, whole, in the default order (store, -months_since, vin)
const AT_RISK_END = [
  { store: 'N1', customer_store: 'N1', vin: V(3), customer_code: 'C6', customer_name: '孙八', phone: '18611112222',
    model: '普拉多', sold_on: '2024-02-01', last_visit_on: null, last_visit_store: null, last_ro_no: null, months_since: 4 },
  { store: 'N1', customer_store: 'N1', vin: V(8), customer_code: 'C6', customer_name: '孙八', phone: '18611112222',
    model: 'RAV4', sold_on: '2023-08-08', last_visit_on: '2024-02-05', last_visit_store: 'N1', last_ro_no: 'R10', months_since: 4 },
  { store: 'S1', customer_store: 'S1', vin: V(1), customer_code: 'C1', customer_name: '张三', phone: '13812345678',
    model: '卡罗拉', sold_on: '2023-01-10', last_visit_on: '2024-01-20', last_visit_store: 'S1', last_ro_no: 'R1', months_since: 5 },
  { store: 'S1', customer_store: 'S1', vin: V(6), customer_code: 'C2', customer_name: '李四', phone: '+86 139-0000-1111',
    model: '雷凌', sold_on: '2023-02-02', last_visit_on: '2024-03-20', last_visit_store: 'S1', last_ro_no: 'R7', months_since: 3 },
  { store: 'S2', customer_store: 'S2', vin: V(2), customer_code: 'C4', customer_name: '赵六', phone: '1371234',
    model: '凯美瑞', sold_on: '2022-05-05', last_visit_on: '2024-02-20', last_visit_store: 'S2', last_ro_no: 'R3', months_since: 4 },
  { store: 'S2', customer_store: 'S2', vin: V(7), customer_code: 'C5', customer_name: '钱七', phone: '158 0000 1234',
    model: '汉兰达', sold_on: '2024-03-01', last_visit_on: null, last_visit_store: null, last_ro_no: null, months_since: 3 },
];
// the masked forms (digits only; 8 or more: 3 + **** + 4; fewer: one * each)
const MASKED = { '18611112222': '186****2222', '13812345678': '138****5678', '+86 139-0000-1111': '861****1111',
  '1371234': '*******', '158 0000 1234': '158****1234' };
const COLUMNS = ['store', 'customer_store', 'vin', 'customer_code', 'customer_name', 'phone', 'model', 'sold_on',
  'last_visit_on', 'last_visit_store', 'last_ro_no', 'months_since'];

let s, pluginDir, trace;
const who = {};

async function get(path, as = 'admin') {
  return s.request('GET', path, { cookie: who[as] });
}
async function list(query, as = 'admin') {
  const r = await get(`/api/v1/list?${query}`, as);
  assert.equal(r.status, 200, `GET /api/v1/list?${query} as ${as}: ${r.text}`);
  return r.json;
}

before(async () => {
  pluginDir = pluginDirWith([{ src: 'docs/example-plugin/example.c', out: 'example.so', flags: ['-Wall', '-Wextra', '-Werror'] }],
    'fs-list-plugins-');
  trace = join(pluginDir, 'kpi-trace.sql');
  s = await startServer({ args: ['--plugin-dir', pluginDir], env: { FOURSCORE_KPI_TRACE: trace } });
  for (const entity of ENTITIES) {
    const r = await s.cli(['import', entity, join(FIXTURE, `${entity}.csv`)]);
    assert.equal(r.code, 0, `import ${entity}:\n${r.stdout}\n${r.stderr}`);
  }
  who.admin = await s.adminCookie();
  const users = [
    { username: 'exec1', role: 'executive' },
    { username: 'rm1', role: 'regional_manager', regions: ['R1'] },
    { username: 'sm1', role: 'store_manager', store: 'S1' },
    { username: 'sm2', role: 'store_manager', store: 'S2' },
  ];
  for (const u of users) {
    const r = await s.request('POST', '/api/v1/users', { cookie: who.admin, body: { ...u, password: PASS } });
    assert.equal(r.status, 201, r.text);
  }
  who.exec = await s.login('exec1', PASS);
  who.rm = await s.login('rm1', PASS);
  who.sm1 = await s.login('sm1', PASS);
  who.sm2 = await s.login('sm2', PASS);
});

after(async () => {
  if (s) await s.stop();
});

test('the catalogue lists retention.at_risk and the example plugin list with their columns', async () => {
  const r = await get('/api/v1/lists', 'sm1');
  assert.equal(r.status, 200, r.text);
  const at = r.json.find((l) => l.id === 'retention.at_risk');
  assert.ok(at, 'retention.at_risk is listed');
  assert.equal(at.plugin, 'retention');
  assert.equal(at.as_of, true);
  assert.deepEqual(at.explains, { kpi: 'retention.at_risk', as: 'count' });
  assert.deepEqual(at.columns.map((c) => c.key), COLUMNS);
  assert.deepEqual(at.default_sort, ['store', '-months_since', 'vin']);
  assert.equal(at.name.zh, '拟流失车辆');
  assert.equal(at.columns.find((c) => c.key === 'months_since').unit, 'months');
  for (const c of at.columns) assert.ok(c.name.zh && c.name.en, `column ${c.key} has both names`);
  const ex = r.json.find((l) => l.id === 'example.ro_customers');
  assert.ok(ex, 'the example plugin list is loaded');
  assert.equal(ex.plugin, 'example');
  assert.equal(ex.as_of, false);
  assert.equal(ex.explains, null);
  const plugins = await get('/api/v1/plugins');
  assert.deepEqual(plugins.json.find((p) => p.name === 'example').lists, ['example.ro_customers']);
});

test('retention.at_risk as of a month end: the rows worked out by hand, whole for an admin', async () => {
  const a = await list(`id=retention.at_risk&to=${END}`);
  assert.equal(a.id, 'retention.at_risk');
  assert.equal(a.to, END);
  assert.equal(a.total, 6);
  assert.deepEqual(a.sums, {});
  assert.deepEqual(a.rows, AT_RISK_END);
  const mid = await list(`id=retention.at_risk&to=${MID}`);
  assert.equal(mid.total, 5);
  assert.deepEqual(mid.rows.map((r) => [r.vin, r.months_since]),
    [[V(3), 4], [V(8), 4], [V(1), 4], [V(2), 3], [V(7), 3]]);
  // from is ignored for an as-of list
  assert.equal((await list(`id=retention.at_risk&from=2000-01-01&to=${END}`)).total, 6);
});

test('total equals the KPI retention.at_risk by group, by region and for a store, at a month end and mid-month', async () => {
  const hand = { [END]: { group: 6, R1: 4, R2: 2, S1: 2 }, [MID]: { group: 5, R1: 3, R2: 2, S1: 1 } };
  for (const to of [END, MID]) {
    writeFileSync(trace, '');
    for (const [key, filter] of [['group', ''], ['R1', '&regions=R1'], ['R2', '&regions=R2'], ['S1', '&stores=S1']]) {
      const l = await list(`id=retention.at_risk&to=${to}${filter}`);
      const k = await get(`/api/v1/kpi?ids=retention.at_risk&from=${to}&to=${to}&by=group${filter}`);
      assert.equal(k.status, 200, k.text);
      const value = k.json.rows[0].values['retention.at_risk'];
      assert.equal(l.total, value, `${to} ${key}: list total ${l.total}, KPI ${value}`);
      assert.equal(l.total, hand[to][key], `${to} ${key}: by hand ${hand[to][key]}`);
      assert.ok(l.rows.every((r) => key === 'group' || r.store === key || (key === 'R1' ? ['S1', 'S2'] : ['N1']).includes(r.store)));
    }
    const kpiRead = readFileSync(trace, 'utf8').split('\n').filter((l) => l.startsWith('/* retention.at_risk */') &&
      !l.includes('rollup_horizon'));
    assert.ok(kpiRead.length > 0, 'the KPI was computed');
    const table = to === END ? 'rollup_retention_last' : 'rollup_vehicle_state';
    assert.ok(kpiRead.every((l) => l.includes(table)), `as of ${to} the KPI reads ${table}:\n${kpiRead.join('\n')}`);
    // the list's own statements are traced as the engine ran them, ready to replay: per page, the
    // page, total and sums cut from the list's keys (keys_sql), then the whole rows of that page alone
    const listRead = readFileSync(trace, 'utf8').split('\n').filter((l) => l.startsWith('/* list retention.at_risk */'));
    assert.equal(listRead.length, 8, 'two statements per page');
    for (let i = 0; i < listRead.length; i += 2) {
      assert.ok(listRead[i].includes('COUNT(*) OVER ()') && !listRead[i].includes('customers'), 'the keys first');
      assert.ok(!listRead[i + 1].includes('COUNT(*) OVER ()') && listRead[i + 1].includes('customers') &&
        /l\.`vin` IN \(/.test(listRead[i + 1]), 'then the rows of the page by their VINs');
    }
    assert.ok(listRead.every((l) => l.includes(`'${to}'`) && !l.includes('?')));
  }
});

const cmp = (a, b) => (a === b ? 0 : a === null ? -1 : b === null ? 1 : a < b ? -1 : 1);

test('sorted by every column both ways; pages put together are the one big page', async () => {
  for (const col of COLUMNS) {
    for (const order of ['asc', 'desc']) {
      const q = `id=retention.at_risk&to=${END}&sort=${col}&order=${order}`;
      const all = await list(`${q}&limit=1000`);
      assert.equal(all.rows.length, 6);
      for (let i = 1; i < all.rows.length; i++) {
        const c = cmp(all.rows[i - 1][col], all.rows[i][col]) * (order === 'asc' ? 1 : -1);
        assert.ok(c <= 0, `${col} ${order}: row ${i} out of order`);
      }
      const pages = [];
      for (let off = 0; off < 6; off += 4) {
        const p = await list(`${q}&limit=4&offset=${off}`);
        assert.equal(p.total, 6, 'total counts every row, whatever the page');
        pages.push(...p.rows);
      }
      assert.deepEqual(pages, all.rows, `${col} ${order}: stable paging`);
    }
  }
  // pages cut from the keys (the default order, a key column) hold the very rows, in the very order,
  // that the whole statement gives (the export reads it in one pass, without keys)
  for (const sort of ['', '&sort=months_since&order=asc', '&sort=sold_on&order=desc']) {
    const paged = [];
    for (let off = 0; off < 6; off += 4) paged.push(...(await list(`id=retention.at_risk&to=${END}${sort}&limit=4&offset=${off}`)).rows);
    const csv = await get(`/api/v1/list/export?format=csv&id=retention.at_risk&to=${END}${sort}`);
    assert.equal(csv.status, 200, csv.text);
    const vins = csvRows(csv.text).slice(1).map((row) => row[2]);
    assert.equal(vins.length, 6);
    assert.deepEqual(paged.map((r) => r.vin), vins, `${sort || 'default order'}: pages by keys = the whole statement`);
  }
  const past = await list(`id=retention.at_risk&to=${END}&offset=10`);
  assert.equal(past.total, 6, 'a page past the end still has the total');
  assert.deepEqual(past.rows, []);
  assert.equal((await list(`id=retention.at_risk&to=${END}&limit=2`)).rows.length, 2);
});

test('outside the scope is 403; a bad parameter is 400 naming it', async () => {
  for (const [as, q] of [['sm1', 'stores=S2'], ['rm', 'regions=R2'], ['rm', 'stores=N1'], ['admin', 'stores=NOPE']]) {
    const r = await get(`/api/v1/list?id=retention.at_risk&to=${END}&${q}`, as);
    assert.equal(r.status, 403, `${as} ${q}: ${r.text}`);
    const e = await get(`/api/v1/list/export?format=csv&id=retention.at_risk&to=${END}&${q}`, as);
    assert.equal(e.status, 403, `export ${as} ${q}`);
  }
  const bad = [
    ['to=2024-06-30', 'id'], ['id=nope.list&to=2024-06-30', 'id'], ['id=retention.at_risk', 'to'],
    ['id=retention.at_risk&to=2024-02-30', 'to'], ['id=retention.at_risk&to=2024-06-30&limit=1001', 'limit'],
    ['id=retention.at_risk&to=2024-06-30&limit=x', 'limit'], ['id=retention.at_risk&to=2024-06-30&offset=-1', 'offset'],
    ['id=retention.at_risk&to=2024-06-30&sort=name;drop', 'sort'], ['id=retention.at_risk&to=2024-06-30&sort=phone2', 'sort'],
    ['id=retention.at_risk&to=2024-06-30&order=up', 'order'], ['id=example.ro_customers&to=2024-02-29', 'from'],
    ['id=example.ro_customers&from=2024-03-01&to=2024-02-29', 'from'],
  ];
  for (const [q, param] of bad) {
    const r = await get(`/api/v1/list?${q}`);
    assert.equal(r.status, 400, `${q}: ${r.text}`);
    assert.equal(r.json.error.code, 'bad_parameter');
    assert.equal(r.json.error.details[0].parameter, param, `${q} names ${param}`);
  }
  assert.equal((await get(`/api/v1/list/export?id=retention.at_risk&to=${END}`)).status, 400, 'format is required');
  assert.equal((await get(`/api/v1/list/export?format=pdf&id=retention.at_risk&to=${END}`)).status, 400);
  assert.equal((await get(`/api/v1/list/export?format=csv&lang=fr&id=retention.at_risk&to=${END}`)).status, 400);
  assert.equal((await s.request('GET', `/api/v1/list?id=retention.at_risk&to=${END}`)).status, 401, 'signed in only');
});

const phones = (rows) => Object.fromEntries(rows.map((r) => [r.vin, r.phone]));

test('phones: whole to an admin and to a store manager for their store, masked for the others', async () => {
  const whole = phones(AT_RISK_END);
  const masked = Object.fromEntries(Object.entries(whole).map(([v, p]) => [v, MASKED[p]]));
  assert.deepEqual(phones((await list(`id=retention.at_risk&to=${END}`)).rows), whole, 'admin');
  assert.deepEqual(phones((await list(`id=retention.at_risk&to=${END}`, 'exec')).rows), masked, 'executive');
  const rm = await list(`id=retention.at_risk&to=${END}`, 'rm');
  assert.deepEqual(phones(rm.rows), { [V(1)]: masked[V(1)], [V(6)]: masked[V(6)], [V(2)]: masked[V(2)], [V(7)]: masked[V(7)] },
    'regional manager of R1: its stores, masked');
  const sm1 = await list(`id=retention.at_risk&to=${END}`, 'sm1');
  assert.deepEqual(phones(sm1.rows), { [V(1)]: whole[V(1)], [V(6)]: whole[V(6)] }, 'store manager, own store');
  // the example list: R3 is a repair at S2 of a vehicle sold by S1, so its
  // customer's record is at S1 — S2's manager sees it masked; R9, R10 are N1's
  const q = 'id=example.ro_customers&from=2024-02-01&to=2024-02-29';
  const adm = await list(q);
  assert.deepEqual(adm.rows.map((r) => [r.store, r.customer_store, r.ro_no, r.phone]),
    [['N1', 'N1', 'R10', '18611112222'], ['N1', 'N1', 'R9', '18611112222'], ['S2', 'S1', 'R3', '+86 139-0000-1111']]);
  // sums: every money column over every row (170000 + 170000 + 180000)
  assert.deepEqual(adm.sums, { sale_amount: 520000 });
  const sm2 = await list(q, 'sm2');
  assert.deepEqual(sm2.rows.map((r) => [r.ro_no, r.customer_store, r.phone]), [['R3', 'S1', '861****1111']],
    "another store's customer: masked for S2's manager");
  assert.equal(sm2.total, 1);
  assert.deepEqual(sm2.sums, { sale_amount: 180000 });
  const sm2own = await list(`id=retention.at_risk&to=${END}`, 'sm2');
  assert.deepEqual(phones(sm2own.rows), { [V(2)]: whole[V(2)], [V(7)]: whole[V(7)] }, "S2's manager, S2's customers: whole");
});

// --- exports ---

// The cells of the first sheet of an xlsx (a zip: central directory, then
// each entry deflated), as rows of strings; inline strings (constant-memory
// mode) and numbers.
function xlsxRows(buf) {
  let eocd = buf.length - 22;
  while (eocd >= 0 && buf.readUInt32LE(eocd) !== 0x06054b50) eocd--;
  assert.ok(eocd >= 0, 'the xlsx is a zip');
  const n = buf.readUInt16LE(eocd + 10);
  let p = buf.readUInt32LE(eocd + 16);
  const files = {};
  for (let i = 0; i < n; i++) {
    const method = buf.readUInt16LE(p + 10), csize = buf.readUInt32LE(p + 20);
    const nlen = buf.readUInt16LE(p + 28), xlen = buf.readUInt16LE(p + 30), clen = buf.readUInt16LE(p + 32);
    const local = buf.readUInt32LE(p + 42);
    const name = buf.toString('utf8', p + 46, p + 46 + nlen);
    const start = local + 30 + buf.readUInt16LE(local + 26) + buf.readUInt16LE(local + 28);
    const data = buf.subarray(start, start + csize);
    files[name] = method === 8 ? inflateRawSync(data).toString('utf8') : data.toString('utf8');
    p += 46 + nlen + xlen + clen;
  }
  const sheet = files['xl/worksheets/sheet1.xml'];
  assert.ok(sheet, 'the workbook has a sheet');
  const unescape = (t) => t.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&amp;/g, '&');
  return [...sheet.matchAll(/<row[^>]*>(.*?)<\/row>/gs)].map((m) =>
    [...m[1].matchAll(/<c r="([A-Z]+)\d+"[^>]*?(?:\/>|>(.*?)<\/c>)/gs)].map((c) => {
      const inner = c[2] || '';
      const t = inner.match(/<t[^>]*>(.*?)<\/t>/s);
      const v = inner.match(/<v>(.*?)<\/v>/s);
      return { col: c[1], text: t ? unescape(t[1]) : v ? v[1] : '' };
    }));
}

function csvRows(text) {
  assert.ok(text.startsWith('\uFEFF'), 'the CSV starts with a BOM');
  return text.slice(1).trim().split('\r\n').map((line) =>
    [...line.matchAll(/("(?:[^"]|"")*"|[^,]*)(,|$)/g)].slice(0, -1).map((m) => m[1].replace(/^"|"$/g, '').replace(/""/g, '"')));
}

async function audits() {
  const r = await get('/api/v1/audit?limit=500');
  assert.equal(r.status, 200, r.text);
  return r.json.filter((e) => e.action === 'list.export');
}

test('exports: the whole list as CSV and xlsx, headers in Chinese or English, phones as in the API, each audited', async () => {
  const before = (await audits()).length;
  const base = `id=retention.at_risk&to=${END}`;
  let r = await get(`/api/v1/list/export?format=csv&${base}`);
  assert.equal(r.status, 200, r.text);
  assert.match(r.headers.get('content-type'), /text\/csv/);
  assert.match(r.headers.get('content-disposition'), /attachment; filename="retention\.at_risk-2024-06-30\.csv"/);
  let rows = csvRows(r.text);
  assert.equal(rows[0][0], '门店');
  assert.equal(rows[0][5], '电话');
  assert.equal(rows.length, 7, 'a header and every row (no limit)');
  // a phone starting with + gets a leading ' (it could read as a formula)
  assert.deepEqual(rows.slice(1).map((c) => c[5]), AT_RISK_END.map((x) => (x.phone.startsWith('+') ? `'${x.phone}` : x.phone)));
  assert.deepEqual(rows.slice(1).map((c) => c[2]), AT_RISK_END.map((x) => x.vin));

  r = await get(`/api/v1/list/export?format=csv&lang=en&${base}`, 'exec');
  assert.equal(r.status, 200, r.text);
  rows = csvRows(r.text);
  assert.equal(rows[0][0], 'Store');
  assert.equal(rows[0][5], 'Phone');
  assert.deepEqual(rows.slice(1).map((c) => c[5]), AT_RISK_END.map((x) => MASKED[x.phone]), 'masked for an executive');

  r = await get(`/api/v1/list/export?format=xlsx&${base}`, 'rm');
  assert.equal(r.status, 200, r.text);
  assert.match(r.headers.get('content-type'), /spreadsheetml/);
  let x = xlsxRows(r.body);
  assert.equal(x[0][0].text, '门店');
  const rmRows = AT_RISK_END.filter((v) => v.store !== 'N1');
  assert.equal(x.length, 1 + rmRows.length);
  const cell = (row, col) => (row.find((c) => c.col === col) || { text: null }).text;
  assert.deepEqual(x.slice(1).map((row) => cell(row, 'F')), rmRows.map((v) => MASKED[v.phone]), 'masked for the RM');
  assert.deepEqual(x.slice(1).map((row) => Number(cell(row, 'L'))), rmRows.map((v) => v.months_since), 'numbers');

  r = await get(`/api/v1/list/export?format=xlsx&${base}`, 'sm1');
  x = xlsxRows(r.body);
  assert.deepEqual(x.slice(1).map((row) => cell(row, 'F')), ['13812345678', '+86 139-0000-1111'], 'whole for own store');

  // another store's customer in a file: S2's manager gets R3's phone (a customer of S1) masked
  const exq = 'id=example.ro_customers&from=2024-02-01&to=2024-02-29';
  r = await get(`/api/v1/list/export?format=csv&${exq}`, 'sm2');
  assert.deepEqual(csvRows(r.text).slice(1).map((c) => [c[2], c[6], c[8]]), [['R3', '861****1111', '180000.00']]);   // the amount as the database writes a DECIMAL(14,2)
  r = await get(`/api/v1/list/export?format=xlsx&${exq}`, 'sm2');
  x = xlsxRows(r.body);
  assert.deepEqual(x.slice(1).map((row) => [cell(row, 'C'), cell(row, 'G'), Number(cell(row, 'I'))]),
    [['R3', '861****1111', 180000]]);

  const after = (await audits()).slice(2);
  assert.equal(after.length - before, 4, 'one audit entry per export');
  const [last, , second, first] = after;     // newest first
  assert.equal(last.actor, 'sm1');
  assert.equal(last.target, 'retention.at_risk');
  assert.equal(last.detail.rows, 2);
  assert.equal(last.detail.format, 'xlsx');
  assert.equal(second.actor, 'exec1');
  assert.equal(second.detail.rows, 6);
  assert.equal(second.detail.lang, 'en');
  assert.equal(first.actor, 'admin');
  assert.equal(first.detail.to, END);
  // the filters as asked
  await get(`/api/v1/list/export?format=csv&${base}&stores=S2&sort=vin&order=desc`);
  const f = (await audits())[0];
  assert.deepEqual(f.detail.stores, ['S2']);
  assert.equal(f.detail.sort, 'vin');
  assert.equal(f.detail.order, 'desc');
  assert.equal(f.detail.rows, 2);
  // a refused export is not audited
  await get(`/api/v1/list/export?format=csv&${base}&stores=S2`, 'sm1');
  assert.equal((await audits()).length, after.length + 2 + 1);
});

test('scorecards: list() rows as tables, masked for the caller, with opts.stores and opts.limit', async () => {
  const lua = `
    local rows = list("retention.at_risk", { to = "${END}" })
    local all = list("retention.at_risk", { to = "${END}", stores = { "S2" }, limit = 1 })
    local out = {}
    for _, st in ipairs(stores()) do
      local n, phone = 0, nil
      for _, r in ipairs(rows) do if r.store == st.code then n = n + 1; phone = phone or r.phone end end
      log(st.code, n, phone, #all, all[1].vin, math.type(rows[1].months_since), tostring(rows[1].last_visit_on))
      out[#out + 1] = { store = st.code, score = n }
    end
    return out`;
  const r = await s.request('POST', `/api/v1/scorecards/run?from=${END}&to=${END}`,
    { cookie: who.rm, body: lua, contentType: 'text/x-lua' });
  assert.equal(r.status, 200, r.text);
  // R1's stores: S1 2 (V1 first by the default order), S2 2; masked for a regional manager
  assert.deepEqual(r.json.rows.map((x) => [x.store, x.score]).sort(), [['S1', 2], ['S2', 2]]);
  assert.ok(r.json.log.includes(`S1 2 138****5678 1 ${V(2)} integer 2024-01-20`), r.json.log.join('\n'));
  assert.ok(r.json.log.includes(`S2 2 ******* 1 ${V(2)} integer 2024-01-20`), r.json.log.join('\n'));
  // the example of docs/scorecards.md: as of 2024-03-31 (to-3 = 2023-12-31, to-6 = 2023-09-30) the only
  // vehicle at risk is V5 (last visit 2023-10-10, S2); by 2024-06-30 it has aged into the warning band:
  // S2 scores 100, no other store had one at risk at the start
  const docs = readFileSync(join(root, 'docs', 'scorecards.md'), 'utf8');
  const example = docs.slice(docs.indexOf('An example with `list()`')).match(/```lua\n([\s\S]*?)```/)[1];
  const ex = await s.request('POST', `/api/v1/scorecards/run?from=2024-03-31&to=${END}`,
    { cookie: who.rm, body: example, contentType: 'text/x-lua' });
  assert.equal(ex.status, 200, ex.text);
  assert.deepEqual(ex.json.rows.map((x) => [x.store, x.score]), [['S2', 100]]);
  const bad = await s.request('POST', `/api/v1/scorecards/run?from=${END}&to=${END}`,
    { cookie: who.rm, body: 'return list("retention.at_risk", { limit = 10001 })', contentType: 'text/x-lua' });
  assert.equal(bad.status, 422, bad.text);
  assert.match(bad.json.error.message, /limit/);
  const out = await s.request('POST', `/api/v1/scorecards/run?from=${END}&to=${END}`,
    { cookie: who.rm, body: 'return list("retention.at_risk", { stores = { "N1" } })', contentType: 'text/x-lua' });
  assert.equal(out.status, 403, out.text);
});
