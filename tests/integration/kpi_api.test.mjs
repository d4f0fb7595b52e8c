// kpi_api: the KPI engine through the real server: the catalogue, queries
// and batches, 400s naming the id / by / parameter, scope through a
// regional manager, the cache dropping after an import and a settings
// change, the settings routes and their audit, the plugins list with a
// refused plugin next to the good ones (the server still starts), and
// `fourscore kpi` giving the API's numbers.
//
// The plugin directory is made here: the built plugins, the out-of-tree
// example (docs/example-plugin/example.c, built with nothing but the public
// header) and a plugin with a wrong magic (tests/plugins/broken.c).
// Expected values come from the fixture's CSV files (tests/fixtures/kpi/),
// read here independently of the program.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { gunzipSync } from 'node:zlib';
import { startServer, pluginDirWith, fixtures, tempDir, root } from './lib.mjs';

const FIXTURE = join(fixtures, 'kpi');
const ENTITIES = ['regions', 'stores', 'insurers', 'staff', 'customers', 'vehicle_sales', 'repair_orders',
  'ro_labour', 'ro_parts', 'parts_stock', 'insurance_policies', 'invoices', 'payments', 'store_financials',
  'follow_up_calls', 'csi_surveys', 'appointments'];
const MARCH = { from: '2024-03-01', to: '2024-03-31' };

let s, admin, pluginDir;

// --- the fixture, read independently ---

function parseCsv(text) {
  const rows = [];
  let row = [], field = '', quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') { field += '"'; i++; } else if (ch === '"') quoted = false; else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') { row.push(field); field = ''; } else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && text[i + 1] === '\n') i++;
      row.push(field); rows.push(row); row = []; field = '';
    } else field += ch;
  }
  if (field !== '' || row.length) { row.push(field); rows.push(row); }
  const [head, ...body] = rows.filter((r) => r.length > 1 || r[0] !== '');
  return body.map((r) => Object.fromEntries(head.map((h, i) => [h.replace(/^\uFEFF/, ''), r[i] ?? ''])));
}
const csv = (entity) => parseCsv(readFileSync(join(FIXTURE, `${entity}.csv`), 'utf8'));
const stores = csv('stores');
const regionOf = Object.fromEntries(stores.map((r) => [r.store_code, r.region_code]));

// Closed, non-internal ROs per store with the date of closed_at in [from, to].
function roCounts({ from, to }, ros = csv('repair_orders')) {
  const counts = Object.fromEntries(stores.map((r) => [r.store_code, 0]));
  for (const r of ros) {
    const day = r.closed_at.slice(0, 10);
    if (r.closed_at && r.ro_type !== 'internal' && day >= from && day <= to) counts[r.store_code]++;
  }
  return counts;
}
const days = ({ from, to }) => (Date.parse(to) - Date.parse(from)) / 86400000 + 1;
const rowsByKey = (answer) => Object.fromEntries(answer.rows.map((r) => [r.key, r.values]));

// --- the server ---

before(async () => {
  pluginDir = pluginDirWith([{ src: 'docs/example-plugin/example.c', out: 'example.so' },
    { src: 'tests/plugins/broken.c', out: 'zz_bad_magic.so', flags: ['-DBROKEN_MAGIC'] }]);
  s = await startServer({ args: ['--plugin-dir', pluginDir] });
  for (const entity of ENTITIES) {
    const r = await s.cli(['import', entity, join(FIXTURE, `${entity}.csv`)]);
    assert.equal(r.code, 0, `import ${entity}:\n${r.stdout}\n${r.stderr}`);
  }
  admin = await s.adminCookie();
  const out = await s.cli(['user', 'add', 'rm_south', '--role', 'regional_manager', '--region', 'SOUTH', '--password-stdin'],
    { input: 'rm-south-pass-1\n' });
  assert.equal(out.code, 0, out.stderr);
});

after(async () => {
  if (s) await s.stop();
});

// --- plugins ---

test('a refused plugin is listed with its reason; the others load and the server serves', async () => {
  const r = await s.request('GET', '/api/v1/plugins', { cookie: admin });
  assert.equal(r.status, 200, r.text);
  const bad = r.json.find((p) => p.file.endsWith('zz_bad_magic.so'));
  assert.equal(bad.status, 'refused');
  assert.match(bad.reason, /magic/);
  const ex = r.json.find((p) => p.name === 'example');
  assert.equal(ex.status, 'loaded');
  assert.deepEqual(ex.kpis, ['example.ro_per_day']);
  assert.ok(r.json.filter((p) => p.status === 'loaded').length >= 2);
  const rm = await s.login('rm_south', 'rm-south-pass-1');
  assert.equal((await s.request('GET', '/api/v1/plugins', { cookie: rm })).status, 403, 'plugins: admin only');
  const cli = await s.cli(['plugins', '--plugin-dir', pluginDir]);
  assert.equal(cli.code, 0, cli.stderr);
  assert.match(cli.stdout, /zz_bad_magic\.so\s+REFUSED: magic/);
  assert.match(cli.stdout, /example\.ro_per_day/);
});

// --- the catalogue ---

test('the catalogue carries the fields of the spec and the settings in force', async () => {
  const r = await s.request('GET', '/api/v1/kpis', { cookie: admin });
  assert.equal(r.status, 200, r.text);
  const ex = r.json.kpis.find((k) => k.id === 'example.ro_per_day');
  assert.deepEqual(Object.keys(ex).sort(), ['budget', 'by', 'direction', 'formula', 'id', 'name', 'plugin', 'target', 'unit']);
  assert.equal(ex.budget, false, 'a plugin that does not set budget takes no targets');
  assert.equal(ex.plugin, 'example');
  assert.deepEqual(ex.name, { zh: '日均进厂台次', en: 'Repair orders per day' });
  assert.equal(ex.direction, 'higher');
  assert.equal(ex.target, 20);
  assert.deepEqual(ex.by, ['group', 'region', 'store', 'month']);
  assert.equal(r.json.settings['retention.lost_after_months'], 9);
  assert.equal(r.json.settings['insurance.new_window_days'], 30);
  assert.equal(Object.keys(r.json.settings).length >= 12, true);
  for (const k of r.json.kpis) {
    assert.ok(['higher', 'lower', 'band', 'none'].includes(k.direction), k.id);
    assert.ok(k.target === null || typeof k.target === 'number' || ('low' in k.target && 'high' in k.target), k.id);
  }
});

// --- queries ---

test('by store, region and group: ROs per day folded from per-store numerators and denominators', async () => {
  const counts = roCounts(MARCH);
  const d = days(MARCH);
  const r = await s.request('GET', `/api/v1/kpi?ids=example.ro_per_day&from=${MARCH.from}&to=${MARCH.to}&by=store`, { cookie: admin });
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(Object.keys(r.json).sort(), ['by', 'from', 'rows', 'to']);
  const byStore = rowsByKey(r.json);
  for (const st of stores) assert.ok(Math.abs(byStore[st.store_code]['example.ro_per_day'] - counts[st.store_code] / d) < 1e-9, st.store_code);
  assert.equal(r.json.rows.find((x) => x.key === 'S1').label, stores.find((x) => x.store_code === 'S1').name);

  const g = await s.request('GET', `/api/v1/kpi?ids=example.ro_per_day&from=${MARCH.from}&to=${MARCH.to}`, { cookie: admin });
  assert.equal(g.json.by, 'group');
  const total = Object.values(counts).reduce((a, b) => a + b, 0);
  assert.ok(Math.abs(g.json.rows[0].values['example.ro_per_day'] - total / (d * stores.length)) < 1e-9, 'group: summed num / summed den');
  assert.equal(g.json.rows[0].key, 'group');

  const reg = rowsByKey((await s.request('GET', `/api/v1/kpi?ids=example.ro_per_day&from=${MARCH.from}&to=${MARCH.to}&by=region`, { cookie: admin })).json);
  for (const region of new Set(Object.values(regionOf))) {
    const members = stores.filter((x) => x.region_code === region).map((x) => x.store_code);
    const want = members.reduce((a, c) => a + counts[c], 0) / (d * members.length);
    assert.ok(Math.abs(reg[region]['example.ro_per_day'] - want) < 1e-9, region);
  }
});

test('by month: every calendar month meeting the period, clipped to it', async () => {
  const period = { from: '2024-02-15', to: '2024-04-10' };
  const r = await s.request('GET', `/api/v1/kpi?ids=example.ro_per_day&from=${period.from}&to=${period.to}&by=month&stores=S1`, { cookie: admin });
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(r.json.rows.map((x) => x.key), ['2024-02', '2024-03', '2024-04']);
  const parts = [{ from: '2024-02-15', to: '2024-02-29' }, { from: '2024-03-01', to: '2024-03-31' }, { from: '2024-04-01', to: '2024-04-10' }];
  parts.forEach((p, i) => {
    const want = roCounts(p).S1 / days(p);
    assert.ok(Math.abs(r.json.rows[i].values['example.ro_per_day'] - want) < 1e-9, r.json.rows[i].key);
    assert.equal(r.json.rows[i].label, r.json.rows[i].key);
  });
});

// One GET with raw bytes and headers (no transparent decompression).
function rawGet(path, headers) {
  return new Promise((resolve, reject) => {
    http.get(s.url + path, { headers }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
    }).on('error', reject);
  });
}

test('a cached answer goes gzip-compressed to a client that takes gzip, plain to one that does not', async () => {
  const path = `/api/v1/kpi?ids=service.revenue,service.ro_count,labour.share,parts.revenue&from=2023-01-01&to=2024-12-31&by=month`;
  const plain = await rawGet(path, { cookie: admin });      // computes and caches (no Accept-Encoding)
  assert.equal(plain.status, 200, plain.body.toString());
  assert.equal(plain.headers['content-encoding'], undefined);
  assert.ok(plain.body.length >= 1024, `a body worth compressing (${plain.body.length} bytes)`);
  const gz = await rawGet(path, { cookie: admin, 'accept-encoding': 'gzip, deflate' });
  assert.equal(gz.status, 200);
  assert.equal(gz.headers['content-encoding'], 'gzip');
  assert.equal(gz.headers.vary, 'Accept-Encoding');
  assert.ok(gz.body.length < plain.body.length, `smaller: ${gz.body.length} < ${plain.body.length}`);
  assert.equal(gunzipSync(gz.body).toString(), plain.body.toString(), 'the same answer once inflated');
  const refused = await rawGet(path, { cookie: admin, 'accept-encoding': 'gzip;q=0' });
  assert.equal(refused.headers['content-encoding'], undefined, 'q=0 refuses gzip');
  assert.equal(refused.body.toString(), plain.body.toString());
});

// One POST with raw bytes and headers (no transparent decompression).
function rawPost(path, body, headers) {
  return new Promise((resolve, reject) => {
    const req = http.request(s.url + path, { method: 'POST', headers: { 'content-type': 'application/json', ...headers } }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

test('a batch goes gzip-compressed to a client that takes gzip, cold and warm alike, and inflates to the plain answer', async () => {
  // three queries: two long answers (kept compressed once computed) and a short one (stored as it is)
  const batch = JSON.stringify([
    { ids: ['service.revenue', 'service.ro_count', 'labour.share'], from: '2023-01-01', to: '2024-12-31', by: 'month' },
    { ids: ['parts.revenue'], from: '2024-01-01', to: '2024-03-31', by: 'store' },
    { ids: ['service.ro_count'], from: MARCH.from, to: MARCH.to },
  ]);
  const headers = { cookie: admin, origin: s.url };   // a browser sends Origin on writes (the CSRF check)
  const coldGz = await rawPost('/api/v1/kpi/batch', batch, { ...headers, 'accept-encoding': 'gzip' });
  assert.equal(coldGz.status, 200, coldGz.body.toString());
  assert.equal(coldGz.headers['content-encoding'], 'gzip', 'compressed on a cold batch too');
  const plain = await rawPost('/api/v1/kpi/batch', batch, headers);
  assert.equal(plain.status, 200);
  assert.equal(plain.headers['content-encoding'], undefined, 'plain to a client that does not take gzip');
  const answers = JSON.parse(plain.body.toString());
  assert.equal(answers.length, 3);
  assert.equal(gunzipSync(coldGz.body).toString(), plain.body.toString(), 'the cold gzip answer inflates to the plain one');
  const warmGz = await rawPost('/api/v1/kpi/batch', batch, { ...headers, 'accept-encoding': 'gzip, deflate' });
  assert.equal(warmGz.headers['content-encoding'], 'gzip');
  assert.equal(gunzipSync(warmGz.body).toString(), plain.body.toString(), 'the warm one (joined from kept pieces) too');
  assert.ok(warmGz.body.length < plain.body.length / 2, `much smaller: ${warmGz.body.length} vs ${plain.body.length}`);
  const refused = await rawPost('/api/v1/kpi/batch', batch, { ...headers, 'accept-encoding': 'gzip;q=0' });
  assert.equal(refused.headers['content-encoding'], undefined, 'q=0 refuses gzip');
  assert.equal(refused.body.toString(), plain.body.toString());
});

test('400 names the unknown id, the unsupported by, the missing or bad parameter', async () => {
  const base = `from=${MARCH.from}&to=${MARCH.to}`;
  let r = await s.request('GET', `/api/v1/kpi?ids=example.ro_per_day,no.such_kpi&${base}`, { cookie: admin });
  assert.equal(r.status, 400);
  assert.match(r.json.error.message, /no\.such_kpi/);
  r = await s.request('GET', `/api/v1/kpi?ids=example.ro_per_day&${base}&by=insurer`, { cookie: admin });
  assert.equal(r.status, 400);
  assert.match(r.json.error.message, /example\.ro_per_day/);
  assert.match(r.json.error.message, /insurer/);
  r = await s.request('GET', `/api/v1/kpi?ids=example.ro_per_day&${base}&by=week`, { cookie: admin });
  assert.equal(r.status, 400);
  assert.match(r.json.error.message, /by/);
  r = await s.request('GET', `/api/v1/kpi?ids=example.ro_per_day&to=${MARCH.to}`, { cookie: admin });
  assert.equal(r.status, 400);
  assert.match(r.json.error.message, /from/);
  r = await s.request('GET', `/api/v1/kpi?from=${MARCH.from}&to=${MARCH.to}`, { cookie: admin });
  assert.equal(r.status, 400);
  assert.match(r.json.error.message, /ids/);
  r = await s.request('GET', `/api/v1/kpi?ids=example.ro_per_day&from=2024-02-30&to=${MARCH.to}`, { cookie: admin });
  assert.equal(r.status, 400);
  assert.match(r.json.error.message, /from/);
  r = await s.request('GET', `/api/v1/kpi?ids=example.ro_per_day&${base}`);
  assert.equal(r.status, 401, 'no credentials: 401');
});

test('a regional manager sees only the stores of the region; others are 403', async () => {
  const rm = await s.login('rm_south', 'rm-south-pass-1');
  const south = stores.filter((x) => x.region_code === 'SOUTH').map((x) => x.store_code).sort();
  const counts = roCounts(MARCH);
  const d = days(MARCH);
  let r = await s.request('GET', `/api/v1/kpi?ids=example.ro_per_day&from=${MARCH.from}&to=${MARCH.to}&by=store`, { cookie: rm });
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(r.json.rows.map((x) => x.key).sort(), south);
  r = await s.request('GET', `/api/v1/kpi?ids=example.ro_per_day&from=${MARCH.from}&to=${MARCH.to}`, { cookie: rm });
  const want = south.reduce((a, c) => a + counts[c], 0) / (d * south.length);
  assert.ok(Math.abs(r.json.rows[0].values['example.ro_per_day'] - want) < 1e-9, 'group over the scope only');
  const north = stores.find((x) => x.region_code === 'NORTH').store_code;
  r = await s.request('GET', `/api/v1/kpi?ids=example.ro_per_day&from=${MARCH.from}&to=${MARCH.to}&stores=${north}`, { cookie: rm });
  assert.equal(r.status, 403);
  r = await s.request('GET', `/api/v1/kpi?ids=example.ro_per_day&from=${MARCH.from}&to=${MARCH.to}&regions=NORTH`, { cookie: rm });
  assert.equal(r.status, 403);
  r = await s.request('GET', `/api/v1/kpi?ids=example.ro_per_day&from=${MARCH.from}&to=${MARCH.to}&stores=NOPE`, { cookie: admin });
  assert.equal(r.status, 403, 'an unknown store is 403 like an out-of-scope one');
});

test('batch: one request, the answers of the single queries in order', async () => {
  const queries = [
    { ids: ['example.ro_per_day'], from: MARCH.from, to: MARCH.to, by: 'store' },
    { ids: ['example.ro_per_day'], from: '2024-01-01', to: '2024-03-31', by: 'month', regions: ['SOUTH'] },
  ];
  const r = await s.request('POST', '/api/v1/kpi/batch', { cookie: admin, body: queries });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.length, 2);
  const one = await s.request('GET', `/api/v1/kpi?ids=example.ro_per_day&from=${MARCH.from}&to=${MARCH.to}&by=store`, { cookie: admin });
  assert.deepEqual(r.json[0], one.json);
  const two = await s.request('GET', '/api/v1/kpi?ids=example.ro_per_day&from=2024-01-01&to=2024-03-31&by=month&regions=SOUTH', { cookie: admin });
  assert.deepEqual(r.json[1], two.json);
  const bad = await s.request('POST', '/api/v1/kpi/batch', { cookie: admin, body: [queries[0], { ids: ['nope.x'], from: MARCH.from, to: MARCH.to }] });
  assert.equal(bad.status, 400);
  assert.match(bad.json.error.message, /query 1/);
  assert.match(bad.json.error.message, /nope\.x/);
  const notArray = await s.request('POST', '/api/v1/kpi/batch', { cookie: admin, body: { ids: [] } });
  assert.equal(notArray.status, 400);
});

test('an import drops cached answers at once', async () => {
  const q = `/api/v1/kpi?ids=example.ro_per_day&from=${MARCH.from}&to=${MARCH.to}&by=store&stores=S1`;
  const before = (await s.request('GET', q, { cookie: admin })).json.rows[0].values['example.ro_per_day'];
  await s.request('GET', q, { cookie: admin });           // now cached
  const ro = csv('repair_orders').find((r) => r.store_code === 'S1' && r.closed_at);
  const file = join(tempDir('fs-kpi-import-'), 'repair_orders.csv');
  writeFileSync(file, 'store_code,ro_no,vin,customer_code,ro_type,payer,opened_at,closed_at\n'
    + `S1,RX900,${ro.vin},${ro.customer_code},maintenance,customer,2024-03-20 09:00,2024-03-20 10:00\n`);
  const out = await s.cli(['import', 'repair_orders', file]);
  assert.equal(out.code, 0, out.stderr);
  const after = (await s.request('GET', q, { cookie: admin })).json.rows[0].values['example.ro_per_day'];
  assert.ok(Math.abs(after - (before + 1 / days(MARCH))) < 1e-9, `one more RO: ${before} -> ${after}`);
});

// The batches answered whole (GET /metrics).
async function batchHits() {
  const r = await s.request('GET', '/metrics', { cookie: admin });
  assert.equal(r.status, 200, r.text);
  const m = r.text.match(/^fourscore_kpi_batch_hits_total (\d+)$/m);
  assert.ok(m, 'the counter is exposed');
  return Number(m[1]);
}

test('a batch sent again is answered whole, for its caller\'s scope only, and joined again after an import', async () => {
  const body = [{ ids: ['example.ro_per_day'], from: MARCH.from, to: MARCH.to, by: 'store' },
    { ids: ['example.ro_per_day'], from: MARCH.from, to: MARCH.to }];
  const post = async (cookie) => {
    const r = await s.request('POST', '/api/v1/kpi/batch', { cookie, body });
    assert.equal(r.status, 200, r.text);
    return r.json;
  };
  const out = await s.cli(['user', 'add', 'sm_s1', '--role', 'store_manager', '--store', 'S1', '--password-stdin'],
    { input: 'sm-s1-pass-1\n' });
  assert.equal(out.code, 0, out.stderr);
  const sm = await s.login('sm_s1', 'sm-s1-pass-1');
  const rm = await s.login('rm_south', 'rm-south-pass-1');
  const first = await post(admin);
  let hits = await batchHits();
  assert.deepEqual(await post(admin), first, 'the same answer the second time');
  assert.equal(await batchHits(), hits + 1, 'answered whole, not joined again');
  // the same bytes from callers of other scopes: their own stores, never the admin's answer
  hits = await batchHits();
  const mine = await post(sm);
  assert.deepEqual(mine[0].rows.map((x) => x.key), ['S1'], 'a store manager sees their store');
  const south = stores.filter((x) => x.region_code === 'SOUTH').map((x) => x.store_code).sort();
  const ours = await post(rm);
  assert.deepEqual(ours[0].rows.map((x) => x.key).sort(), south, 'a regional manager their region');
  assert.equal(await batchHits(), hits, 'another scope is another batch');
  assert.deepEqual(await post(sm), mine);
  assert.equal(await batchHits(), hits + 1);
  // gzip and plain are kept apart, each the same answer
  const raw = JSON.stringify(body);
  const headers = { cookie: admin, origin: s.url };
  const gz1 = await rawPost('/api/v1/kpi/batch', raw, { ...headers, 'accept-encoding': 'gzip' });
  const gz2 = await rawPost('/api/v1/kpi/batch', raw, { ...headers, 'accept-encoding': 'gzip' });
  const plain = await rawPost('/api/v1/kpi/batch', raw, headers);
  assert.equal(gz2.headers['content-encoding'], 'gzip');
  assert.equal(plain.headers['content-encoding'], undefined);
  assert.equal(gunzipSync(gz1.body).toString(), plain.body.toString());
  assert.equal(gunzipSync(gz2.body).toString(), plain.body.toString());
  // an import (another process: the CLI) changes S1: the next batch has it
  const perDay = (answer, key) => answer[0].rows.find((x) => x.key === key).values['example.ro_per_day'];
  const before = perDay(await post(admin), 'S1');
  const ro = csv('repair_orders').find((r) => r.store_code === 'S1' && r.closed_at);
  const file = join(tempDir('fs-kpi-batch-'), 'repair_orders.csv');
  writeFileSync(file, 'store_code,ro_no,vin,customer_code,ro_type,payer,opened_at,closed_at\n'
    + `S1,RX901,${ro.vin},${ro.customer_code},maintenance,customer,2024-03-21 09:00,2024-03-21 10:00\n`);
  const imported = await s.cli(['import', 'repair_orders', file]);
  assert.equal(imported.code, 0, imported.stderr);
  await new Promise((resolve) => setTimeout(resolve, 50));   // past the moment a generation read is taken as current
  const after = await post(admin);
  assert.ok(Math.abs(perDay(after, 'S1') - (before + 1 / days(MARCH))) < 1e-9, `one more RO: ${before} -> ${perDay(after, 'S1')}`);
  assert.ok(Math.abs(perDay(await post(sm), 'S1') - perDay(after, 'S1')) < 1e-9, 'the store manager\'s batch too');
});

test('an import of stores renames a store in the answers at once, an import of facts keeps the directory', async () => {
  // the engine keeps its directory (names, regions) while the directory
  // generation stays (moved only by imports of regions, stores, insurers):
  // the label must follow a stores import, and survive an RO import
  const q = `/api/v1/kpi?ids=example.ro_per_day&from=${MARCH.from}&to=${MARCH.to}&by=store&stores=S1`;
  // the imports run in another process, whose change the server sees within
  // 20 ms (KPI_GENERATION_FRESH_MS of core/engine/kpi_cache.c): wait that out
  const label = async () => {
    await new Promise((r) => setTimeout(r, 30));
    return (await s.request('GET', q, { cookie: admin })).json.rows[0].label;
  };
  const s1 = stores.find((x) => x.store_code === 'S1');
  assert.equal(await label(), s1.name);
  const head = readFileSync(join(FIXTURE, 'stores.csv'), 'utf8').split(/\r?\n/)[0].replace(/^\uFEFF/, '').split(',');
  const line = (name) => head.map((h) => {
    const v = h === 'name' ? name : s1[h];
    return /[",]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
  }).join(',');
  const file = join(tempDir('fs-kpi-stores-'), 'stores.csv');
  writeFileSync(file, `${head.join(',')}\n${line('广州旗舰店')}\n`);
  let out = await s.cli(['import', 'stores', file]);
  assert.equal(out.code, 0, out.stderr);
  assert.equal(await label(), '广州旗舰店', 'the new name at once');
  const ro = csv('repair_orders').find((r) => r.store_code === 'S1' && r.closed_at);
  const roFile = join(tempDir('fs-kpi-import-'), 'repair_orders.csv');
  writeFileSync(roFile, 'store_code,ro_no,vin,customer_code,ro_type,payer,opened_at,closed_at\n'
    + `S1,RX901,${ro.vin},${ro.customer_code},maintenance,customer,2024-03-21 09:00,2024-03-21 10:00\n`);
  out = await s.cli(['import', 'repair_orders', roFile]);
  assert.equal(out.code, 0, out.stderr);
  assert.equal(await label(), '广州旗舰店', 'still the new name after an RO import');
  writeFileSync(file, `${head.join(',')}\n${line(s1.name)}\n`);
  out = await s.cli(['import', 'stores', file]);
  assert.equal(out.code, 0, out.stderr);
  assert.equal(await label(), s1.name, 'the old name back');
});

// --- settings ---

test('settings: anyone reads, admins change (validated, audited), the catalogue follows', async () => {
  const rm = await s.login('rm_south', 'rm-south-pass-1');
  let r = await s.request('GET', '/api/v1/settings', { cookie: rm });
  assert.equal(r.status, 200);
  assert.equal(r.json['retention.at_risk_months'], 3);
  r = await s.request('PUT', '/api/v1/settings', { cookie: rm, body: { 'retention.lost_after_months': 12 } });
  assert.equal(r.status, 403, 'settings: admins change them');
  r = await s.request('PUT', '/api/v1/settings', { cookie: admin, body: { 'retention.warning_months': 2 } });
  assert.equal(r.status, 400);
  assert.match(r.json.error.message, /retention\.at_risk_months/);
  // the contract's code, naming the setting changed (the plugin's message names both ends of the rule)
  assert.equal(r.json.error.code, 'bad_parameter', r.text);
  assert.equal(r.json.error.details?.[0]?.parameter, 'retention.warning_months', r.text);
  r = await s.request('PUT', '/api/v1/settings', { cookie: admin, body: { 'retention.nope': 2 } });
  assert.equal(r.status, 400);
  assert.match(r.json.error.message, /retention\.nope/);
  assert.equal(r.json.error.code, 'bad_parameter', r.text);
  assert.equal(r.json.error.details?.[0]?.parameter, 'retention.nope', r.text);
  r = await s.request('PUT', '/api/v1/settings', { cookie: admin, body: { 'retention.lost_after_months': 12, 'example.ro_per_day.target': 25 } });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json['retention.lost_after_months'], 12);
  const cat = await s.request('GET', '/api/v1/kpis', { cookie: admin });
  assert.equal(cat.json.settings['retention.lost_after_months'], 12);
  assert.equal(cat.json.kpis.find((k) => k.id === 'example.ro_per_day').target, 25, 'targets are settable');
  const audit = await s.request('GET', '/api/v1/audit?limit=20', { cookie: admin });
  assert.equal(audit.status, 200, audit.text);
  assert.ok(JSON.stringify(audit.json).includes('settings.update'), 'the change is audited');
  // the command line reads and changes them the same way
  let out = await s.cli(['settings', 'set', 'retention.lost_after_months', '30', '--plugin-dir', pluginDir]);
  assert.notEqual(out.code, 0);
  assert.match(out.stderr, /retention\.base_months/);
  out = await s.cli(['settings', 'reset', 'retention.lost_after_months']);
  assert.equal(out.code, 0, out.stderr);
  assert.match(out.stdout, /retention\.lost_after_months\s+9/);
});

// Every setting is defined once, by the plugin that reads it (or the core):
// the ranges below are those of the plugins' sources, where the core's old
// table said otherwise (terms to 3650 days, months from 1 to 120, follow-up
// to 365 days).
test('setting_defs: every setting with its range and owner; changes follow the plugin\'s range and checks', async () => {
  const r = await s.request('GET', '/api/v1/kpis', { cookie: admin });
  assert.equal(r.status, 200, r.text);
  const defs = r.json.setting_defs;
  assert.ok(Array.isArray(defs), 'setting_defs is a list');
  const byName = Object.fromEntries(defs.map((d) => [d.name, d]));
  assert.equal(Object.keys(byName).length, defs.length, 'each setting is defined once');
  for (const d of defs) {
    assert.deepEqual(Object.keys(d).sort(), ['default', 'label', 'max', 'min', 'name', 'owner'], d.name);
    assert.deepEqual(Object.keys(d.label).sort(), ['en', 'zh'], d.name);
    assert.ok(d.label.zh && d.label.en, `${d.name} has both names`);
    assert.ok(d.min <= d.default && d.default <= d.max, `${d.name}: default within its range`);
    assert.equal(r.json.settings[d.name], d.default, `${d.name}: the value in force is the default`);
  }
  const expect = {
    'retention.lost_after_months': ['retention', 9, 0, 1200], 'retention.at_risk_months': ['retention', 3, 0, 1200],
    'retention.warning_months': ['retention', 6, 0, 1200], 'retention.base_months': ['retention', 24, 1, 1200],
    'retention.first_service_months': ['retention', 6, 0, 1200],
    'receivables.terms_days': ['receivables', 90, 0, 36500], 'receivables.government_terms_days': ['receivables', 180, 0, 36500],
    'parts.slow_moving_days': ['parts', 180, 0, 36500], 'parts.obsolete_days': ['parts', 365, 0, 36500],
    'service.followup_days': ['service', 3, 0, 3650],
    'insurance.renewal_window_days': ['insurance', 30, 0, 3650], 'insurance.new_window_days': ['insurance', 30, 0, 3650],
    'retention.maintenance_interval_months': ['retention', 6, 1, 1200],
    'retention.maintenance_notice_days': ['retention', 30, 0, 3650],
    'insurance.renewal_notice_days': ['insurance', 60, 0, 3650],
    'benchmarks.shared': ['core', 1, 0, 1],
    'example.open_days_per_week': ['example', 7, 1, 7],
  };
  for (const [name, [owner, dflt, min, max]] of Object.entries(expect)) {
    assert.deepEqual(byName[name] && [byName[name].owner, byName[name].default, byName[name].min, byName[name].max],
      [owner, dflt, min, max], name);
  }
  assert.equal(defs.length, Object.keys(expect).length, 'no other setting is defined');
  // docs/api.md lists every setting of the shipped plugins and the core with
  // the range the server answers (the out-of-tree example is not shipped)
  const api = readFileSync(join(root, 'docs', 'api.md'), 'utf8');
  const section = api.slice(api.indexOf('### GET /api/v1/settings'), api.indexOf('### PUT /api/v1/settings'));
  const documented = {};
  for (const m of section.matchAll(/^\| `([a-z_.]+)` \| ([a-z]+) \| (\d+) \| (\d+) \| (\d+) \|$/gm))
    documented[m[1]] = [m[2], Number(m[3]), Number(m[4]), Number(m[5])];
  const served = Object.fromEntries(defs.filter((d) => d.owner !== 'example').map((d) => [d.name, [d.owner, d.default, d.min, d.max]]));
  assert.deepEqual(documented, served, 'docs/api.md "GET /api/v1/settings": owner, default, min, max of every setting');
  assert.deepEqual(byName['service.followup_days'].label, { zh: '回访时限（天）', en: 'Follow-up within (days)' });

  // the plugin's range decides: the top of it is taken, one past it is a 400 naming the setting
  let put = await s.request('PUT', '/api/v1/settings', { cookie: admin, body: { 'receivables.terms_days': 36500, 'service.followup_days': 3650 } });
  assert.equal(put.status, 200, put.text);
  assert.equal(put.json['receivables.terms_days'], 36500);
  for (const [name, value, range] of [['receivables.terms_days', 36501, 'from 0 to 36500'], ['service.followup_days', 3651, 'from 0 to 3650'],
    ['retention.base_months', 0, 'from 1 to 1200'], ['benchmarks.shared', 2, 'from 0 to 1'], ['example.open_days_per_week', 6.5, 'whole number']]) {
    put = await s.request('PUT', '/api/v1/settings', { cookie: admin, body: { [name]: value } });
    assert.equal(put.status, 400, `${name} = ${value}: ${put.text}`);
    assert.ok(put.json.error.message.includes(name) && put.json.error.message.includes(range), put.json.error.message);
    assert.equal(put.json.error.code, 'bad_parameter', put.text);
    assert.equal(put.json.error.details?.[0]?.parameter, name, put.text);
  }
  // the retention plugin's check, with the would-be values
  put = await s.request('PUT', '/api/v1/settings', { cookie: admin, body: { 'retention.at_risk_months': 6 } });
  assert.equal(put.status, 400, put.text);
  assert.match(put.json.error.message, /retention\.at_risk_months.*retention\.warning_months/);
  put = await s.request('PUT', '/api/v1/settings', { cookie: admin, body: { 'retention.at_risk_months': 0 } });
  assert.equal(put.status, 200, `at_risk 0 is within the plugin's range: ${put.text}`);

  // the out-of-tree example's own setting reaches its compute: with 6 open days a week
  // a store's ROs are spread over days x 6/7, so every value is 7/6 of the 7-day one
  const q = `/api/v1/kpi?ids=example.ro_per_day&from=${MARCH.from}&to=${MARCH.to}&by=group`;
  const seven = (await s.request('GET', q, { cookie: admin })).json.rows[0].values['example.ro_per_day'];
  put = await s.request('PUT', '/api/v1/settings', { cookie: admin, body: { 'example.open_days_per_week': 6 } });
  assert.equal(put.status, 200, put.text);
  const six = (await s.request('GET', q, { cookie: admin })).json.rows[0].values['example.ro_per_day'];
  assert.ok(seven > 0 && Math.abs(six - seven * 7 / 6) < 1e-9, `7 days ${seven}, 6 days ${six}`);

  const reset = Object.fromEntries(['receivables.terms_days', 'service.followup_days', 'retention.at_risk_months',
    'example.open_days_per_week'].map((n) => [n, null]));
  put = await s.request('PUT', '/api/v1/settings', { cookie: admin, body: reset });
  assert.equal(put.status, 200, put.text);
  for (const n of Object.keys(reset)) assert.equal(put.json[n], expect[n][1], `${n} is back to its default`);

  const cli = await s.cli(['plugins', '--plugin-dir', pluginDir]);
  assert.equal(cli.code, 0, cli.stderr);
  assert.match(cli.stdout, /setting example\.open_days_per_week\s+7 \[1, 7\]/);
  assert.match(cli.stdout, /setting receivables\.terms_days\s+90 \[0, 36500\]/);
});

// --- the command line ---

test('fourscore kpi gives the API numbers (json, csv, table)', async () => {
  const api = await s.request('GET', `/api/v1/kpi?ids=example.ro_per_day&from=${MARCH.from}&to=${MARCH.to}&by=store`, { cookie: admin });
  const dir = ['--plugin-dir', pluginDir];
  let out = await s.cli(['kpi', 'example.ro_per_day', '--from', MARCH.from, '--to', MARCH.to, '--by', 'store', '--format', 'json', ...dir]);
  assert.equal(out.code, 0, out.stderr);
  assert.deepEqual(JSON.parse(out.stdout), api.json);
  out = await s.cli(['kpi', 'example.ro_per_day', '--from', MARCH.from, '--to', MARCH.to, '--by', 'store', '--format', 'csv', ...dir]);
  assert.equal(out.code, 0, out.stderr);
  const lines = out.stdout.trim().split('\n');
  assert.equal(lines[0], 'key,label,example.ro_per_day');
  assert.equal(lines.length, 1 + api.json.rows.length);
  out = await s.cli(['kpi', 'no.such', '--from', MARCH.from, '--to', MARCH.to, ...dir]);
  assert.equal(out.code, 2);
  assert.match(out.stderr, /no\.such/);
  out = await s.cli(['kpi', '--help']);
  assert.equal(out.code, 0);
  assert.match(out.stdout, /--format/);
});
