// import_concurrency: imports racing each other on the real server and a
// real MariaDB (lib.mjs). Files of one store sent in parallel, on new keys and
// on the same keys, for payments, repair orders, RO lines and invoices, and
// files of several stores at once: every answer must be 200, the stored rows
// must be those of some one-after-the-other order of the files, the counts
// of every answer those that order gives (worked out by a model of the
// upsert in this file, from the rows read back with the mariadb client), and
// the derived tables and KPIs those a rebuild from the facts gives.
// A second server runs on a MariaDB of the test's own with a 1 s lock wait, so
// that the test can hold a store's lock itself: an import then waits, is run
// again and succeeds once the lock goes, or answers 503 busy with
// Retry-After once its attempts are spent; the command line does the same;
// a killed statement or connection is answered with a clean message.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync, writeFileSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { startServer, startMariadb, fixtures, tempDir, run } from './lib.mjs';

const good = join(fixtures, 'import', 'good');
const PARENTS = ['regions', 'stores', 'insurers', 'staff', 'customers', 'vehicle_sales', 'repair_orders', 'ro_labour',
  'ro_parts', 'invoices', 'payments'];
// every derived table (core/data/rollup.c DERIVED_TABLES)
const ROLLUPS = ['rollup_ro', 'rollup_ro_day', 'rollup_ro_insurer_day', 'rollup_ro_month', 'rollup_ro_insurer_month',
  'rollup_ro_followup_day', 'rollup_ro_followup_month', 'rollup_csi_day', 'rollup_csi_month', 'rollup_premium_day',
  'rollup_premium_month', 'rollup_invoice_day', 'rollup_invoice_month', 'rollup_stock', 'rollup_stock_age',
  'rollup_vehicle_visit', 'rollup_vehicle_state', 'rollup_invoice_open', 'rollup_policy_match', 'rollup_sale_match',
  'rollup_renewal_day', 'rollup_renewal_month', 'rollup_new_policy_day', 'rollup_new_policy_month',
  'rollup_receivable_age', 'rollup_receivable_day', 'rollup_retention_last', 'rollup_retention_churn',
  'rollup_retention_first', 'rollup_horizon', 'rollup_sales_day', 'rollup_sales_month'];
// What a raw MariaDB message looks like: none may reach a client.
const RAW_DB_TEXT = /deadlock|lock wait|try restarting|\(1[0-9]{3}\)|\(2[0-9]{3}\)|mariadb|mysql|sql syntax|query execution was interrupted|connection was killed/i;

let s, admin;

const sqlOn = (socket) => (text) => execFileSync('mariadb', ['--no-defaults', `--socket=${socket}`, '-uroot', '-N', '-B',
  'fourscore', '-e', text], { encoding: 'utf8' }).trim();
let sql;

function upload(srv, cookie, entity, body) {
  return srv.request('POST', `/api/v1/import/${entity}`, { body, contentType: 'text/csv', cookie });
}

const csv = (header, rows) => `${header}\n${rows.map((r) => r.join(',')).join('\n')}\n`;
const PAY_H = 'store_code,payment_no,invoice_no,paid_on,amount';
const RO_H = 'store_code,ro_no,vin,customer_code,ro_type,payer,opened_at,closed_at,other_amount';
const PARTS_H = 'store_code,ro_no,line_no,part_no,category,qty,unit_price,unit_cost';
const INV_H = 'store_code,invoice_no,customer_code,issued_on,due_on,amount,ro_no,deal_no';

// --- a model of one file's upsert, to check answers against a serial order ---
// rows: [{key, value, group}] of a file; state: Map key -> value; group: the
// RO of an RO line (a file names whole ROs: lines of them it does not repeat go).
function applyFile(state, rows, linesPerGroup) {
  const next = new Map(state);
  let inserted = 0, updated = 0, unchanged = 0;
  if (linesPerGroup) {
    const groups = new Set(rows.map((r) => r.group));
    const keys = new Set(rows.map((r) => r.key));
    for (const k of [...next.keys()]) if (groups.has(k.split('|').slice(0, 2).join('|')) && !keys.has(k)) next.delete(k);
  }
  for (const r of rows) {
    if (!state.has(r.key)) inserted++;
    else if (state.get(r.key) === r.value) unchanged++;
    else updated++;
    next.set(r.key, r.value);
  }
  return { next, answer: { rows: rows.length, inserted, updated, unchanged } };
}

function permutations(n) {
  if (n === 1) return [[0]];
  const out = [];
  for (const p of permutations(n - 1)) for (let i = 0; i <= p.length; i++) out.push([...p.slice(0, i), n - 1, ...p.slice(i)]);
  return out;
}

// The answers and the final state must be those of one serial order of the files.
function assertSerial(initial, files, answers, final, linesPerGroup, what) {
  const got = answers.map((a) => ({ rows: a.rows, inserted: a.inserted, updated: a.updated, unchanged: a.unchanged }));
  for (const order of permutations(files.length)) {
    let state = initial;
    const expect = new Array(files.length);
    for (const i of order) {
      const { next, answer } = applyFile(state, files[i], linesPerGroup);
      expect[i] = answer;
      state = next;
    }
    const same = JSON.stringify(expect) === JSON.stringify(got)
      && JSON.stringify([...state.entries()].sort()) === JSON.stringify([...final.entries()].sort());
    if (same) return order;
  }
  assert.fail(`${what}: no one-after-the-other order of the ${files.length} files gives these answers and rows:\n`
    + `${JSON.stringify(got)}\nstored: ${JSON.stringify([...final.entries()].sort())}`);
}

// Rows read back: key -> value, in the model's form.
function stored(query) {
  const out = new Map();
  const text = sql(query);
  if (!text) return out;
  for (const line of text.split('\n')) {
    const [key, value] = line.split('\t');
    out.set(key, value);
  }
  return out;
}

function race(entity, bodies) {
  return Promise.all(bodies.map((b) => upload(s, admin, entity, b)));
}

function assertAll200(answers, what) {
  for (const a of answers) assert.equal(a.status, 200, `${what}: ${a.status} ${a.text}`);
}

before(async () => {
  s = await startServer();
  admin = await s.adminCookie();
  sql = sqlOn(`${s.dataDir}/mysqld.sock`);
  for (const e of PARENTS) {
    const r = await upload(s, admin, e, readFileSync(join(good, `${e}.csv`)));
    assert.equal(r.status, 200, `${e}: ${r.text}`);
  }
  // an invoice per store that the racing payments can pay into
  const r = await upload(s, admin, 'invoices', csv(INV_H, [['GZ01', 'BIG1', 'C001', '2024-05-01', '', '1000000', '', ''],
    ['SZ01', 'BIG1', 'C001', '2024-05-01', '', '1000000', '', ''], ['SH01', 'BIG1', 'C001', '2024-05-01', '', '1000000', '', '']]));
  assert.equal(r.status, 200, r.text);
});

after(async () => { if (s) await s.stop(); });

test('payment files of one store sent in parallel, 10 rounds of 2 to 4: every one 200, all rows kept', async () => {
  let count = 0, cents = 0;
  for (let round = 0; round < 10; round++) {
    const k = 2 + (round % 3);
    const bodies = [];
    for (let f = 0; f < k; f++) {
      const rows = [];
      for (let i = 0; i < 4; i++) {
        const amount = round * 100 + f * 10 + i + 1;         // yuan, then .25
        rows.push(['GZ01', `PN${round}F${f}N${i}`, 'BIG1', `2024-05-${String(1 + i).padStart(2, '0')}`, `${amount}.25`]);
        count++;
        cents += amount * 100 + 25;
      }
      bodies.push(csv(PAY_H, rows));
    }
    const answers = await race('payments', bodies);
    assertAll200(answers, `round ${round}`);
    for (const a of answers) assert.deepEqual(a.json, { entity: 'payments', rows: 4, inserted: 4, updated: 0, unchanged: 0 });
  }
  // independent: the rows and their sum as MariaDB has them
  assert.equal(sql("SELECT COUNT(*) FROM payments WHERE store_code = 'GZ01' AND payment_no LIKE 'PN%'"), String(count));
  assert.equal(sql("SELECT CAST(SUM(amount) * 100 AS UNSIGNED) FROM payments WHERE store_code = 'GZ01' AND payment_no LIKE 'PN%'"),
    String(cents));
});

test('identical payment files racing on the same new keys: one inserts, the others find them unchanged', async () => {
  for (let round = 0; round < 10; round++) {
    const k = 2 + (round % 3);
    const rows = [0, 1, 2].map((i) => ['GZ01', `PS${round}N${i}`, 'BIG1', '2024-05-10', `${round + i + 1}.50`]);
    const answers = await race('payments', new Array(k).fill(csv(PAY_H, rows)));
    assertAll200(answers, `round ${round}`);
    const sum = (f) => answers.reduce((t, a) => t + a.json[f], 0);
    assert.deepEqual([sum('rows'), sum('inserted'), sum('updated'), sum('unchanged')], [3 * k, 3, 0, 3 * (k - 1)],
      `round ${round}: ${answers.map((a) => a.text).join(' ')}`);
    assert.equal(answers.filter((a) => a.json.inserted === 3).length, 1);
    assert.equal(sql(`SELECT COUNT(*) FROM payments WHERE store_code = 'GZ01' AND payment_no LIKE 'PS${round}N%'`), '3');
  }
});

test('payment files with different amounts racing on the same keys: counts and rows of one serial order', async () => {
  for (let round = 0; round < 6; round++) {
    const k = 2 + (round % 3);
    const files = [];
    for (let f = 0; f < k; f++) {
      files.push([0, 1, 2, 3].map((i) => ({ key: `GZ01|PD${round}N${i}`, value: `${10 * (f + 1) + i}.00`,
        // file 0 repeats one amount of the others' so that some rows are unchanged in some orders
        row: ['GZ01', `PD${round}N${i}`, 'BIG1', '2024-05-11', i === 0 ? '5.00' : `${10 * (f + 1) + i}.00`] })));
      for (const r of files[f]) r.value = r.row[4];
    }
    const initial = stored(`SELECT CONCAT(store_code, '|', payment_no), amount FROM payments WHERE payment_no LIKE 'PD${round}N%'`);
    const answers = await race('payments', files.map((rows) => csv(PAY_H, rows.map((r) => r.row))));
    assertAll200(answers, `round ${round}`);
    const final = stored(`SELECT CONCAT(store_code, '|', payment_no), amount FROM payments WHERE payment_no LIKE 'PD${round}N%'`);
    assertSerial(initial, files, answers.map((a) => a.json), final, false, `payments round ${round}`);
  }
});

test('repair orders and their part lines racing on the same ROs: one serial order, RO lines replaced whole', async () => {
  const vin = (i) => `LVGBE40K8GP1${String(i).padStart(5, '0')}`;
  for (let round = 0; round < 6; round++) {
    const k = 2 + (round % 3);
    const ros = [];
    for (let f = 0; f < k; f++) {
      ros.push([0, 1, 2].map((i) => {
        const closed = `2024-04-${String(1 + ((f * 7 + i * 3 + round) % 28)).padStart(2, '0')} 16:00:00`;
        const other = `${f * 3 + i}.00`;
        return { key: `GZ01|RR${round}N${i}`, value: `${closed};${other}`,
          row: ['GZ01', `RR${round}N${i}`, vin(round * 10 + i), 'C001', 'repair', 'customer', '2024-04-01 08:00', closed, other] };
      }));
    }
    const roQuery = `SELECT CONCAT(store_code, '|', ro_no), CONCAT(closed_at, ';', other_amount) FROM repair_orders WHERE ro_no LIKE 'RR${round}N%'`;
    let initial = stored(roQuery);
    let answers = await race('repair_orders', ros.map((rows) => csv(RO_H, rows.map((r) => r.row))));
    assertAll200(answers, `repair_orders round ${round}`);
    assertSerial(initial, ros, answers.map((a) => a.json), stored(roQuery), false, `repair_orders round ${round}`);

    // part lines: file f names the same ROs with 1 + f lines each (some prices shared)
    const parts = [];
    for (let f = 0; f < k; f++) {
      const rows = [];
      for (let i = 0; i < 3; i++) {
        for (let line = 1; line <= 1 + f; line++) {
          const price = line === 1 ? '100.00' : `${100 + f * 10 + line}.00`;
          rows.push({ key: `GZ01|RR${round}N${i}|${line}`, value: `2.00;${price}`, group: `GZ01|RR${round}N${i}`,
            row: ['GZ01', `RR${round}N${i}`, line, `P${line}`, 'part', '2', price, '50'] });
        }
      }
      parts.push(rows);
    }
    const partsQuery = `SELECT CONCAT(store_code, '|', ro_no, '|', line_no), CONCAT(qty, ';', unit_price) FROM ro_parts WHERE ro_no LIKE 'RR${round}N%'`;
    initial = stored(partsQuery);
    answers = await race('ro_parts', parts.map((rows) => csv(PARTS_H, rows.map((r) => r.row))));
    assertAll200(answers, `ro_parts round ${round}`);
    assertSerial(initial, parts, answers.map((a) => a.json), stored(partsQuery), true, `ro_parts round ${round}`);
  }
});

test('invoice files racing on the same keys: one serial order', async () => {
  for (let round = 0; round < 6; round++) {
    const k = 2 + (round % 3);
    const files = [];
    for (let f = 0; f < k; f++) {
      files.push([0, 1, 2].map((i) => {
        const issued = `2024-0${1 + ((f + i + round) % 6)}-15`;
        const amount = `${1000 + f * 100 + i}.00`;
        return { key: `GZ01|IR${round}N${i}`, value: `${issued};${amount}`,
          row: ['GZ01', `IR${round}N${i}`, 'C002', issued, '', amount, '', ''] };
      }));
    }
    const query = `SELECT CONCAT(store_code, '|', invoice_no), CONCAT(issued_on, ';', amount) FROM invoices WHERE invoice_no LIKE 'IR${round}N%'`;
    const initial = stored(query);
    const answers = await race('invoices', files.map((rows) => csv(INV_H, rows.map((r) => r.row))));
    assertAll200(answers, `invoices round ${round}`);
    assertSerial(initial, files, answers.map((a) => a.json), stored(query), false, `invoices round ${round}`);
  }
});

test('files of three stores at once (ROs, invoices, payments): every one 200', async () => {
  for (let round = 0; round < 5; round++) {
    const uploads = [];
    for (const store of ['GZ01', 'SZ01', 'SH01']) {
      uploads.push(upload(s, admin, 'repair_orders', csv(RO_H, [0, 1].map((i) => [store, `RM${round}N${i}`,
        `LSVAA4180E3${String(round * 10 + i).padStart(6, '0')}`, 'C001', 'maintenance', 'customer', '2024-06-01 08:00',
        `2024-06-0${2 + i} 12:00`, `${round}.00`]))));
      uploads.push(upload(s, admin, 'invoices', csv(INV_H, [[store, `IM${round}`, 'C001', '2024-06-05', '', '300.00', '', '']])));
      uploads.push(upload(s, admin, 'payments', csv(PAY_H, [[store, `PM${round}`, 'BIG1', '2024-06-06', '1.00']])));
    }
    const answers = await Promise.all(uploads);
    assertAll200(answers, `round ${round}`);
    for (const a of answers) assert.equal(a.json.inserted, a.json.rows, a.text);
  }
  assert.equal(sql("SELECT COUNT(*) FROM repair_orders WHERE ro_no LIKE 'RM%'"), '30');
  assert.equal(sql("SELECT COUNT(*) FROM payments WHERE payment_no LIKE 'PM%'"), '15');
});

test('after the races the derived tables and the KPIs are those a rebuild from the facts gives', async () => {
  const checksum = () => sql(`CHECKSUM TABLE ${ROLLUPS.join(', ')}`);
  const cat = await s.request('GET', '/api/v1/kpis', { cookie: admin });
  assert.equal(cat.status, 200, cat.text);
  const ids = cat.json.kpis.filter((k) => k.by.includes('store')).map((k) => k.id);
  assert.ok(ids.length > 10, 'the KPI catalogue is loaded');
  const kpis = async () => {
    const r = await s.request('GET', `/api/v1/kpi?ids=${ids.join(',')}&from=2024-01-01&to=2024-12-31&by=store`, { cookie: admin });
    assert.equal(r.status, 200, r.text);
    return r.json;
  };
  const before = { sums: checksum(), kpi: await kpis() };
  const rb = await s.cli(['rollup', '--rebuild']);
  assert.equal(rb.code, 0, rb.stderr);
  assert.equal(checksum(), before.sums, 'every derived table as the rebuild makes it');
  assert.deepEqual(await kpis(), before.kpi);
  // the races were real: the rows are there and every KPI row names a store
  assert.ok(before.kpi.rows.length >= 3);
});

// --- a store's lock held by the test: a server on a MariaDB with a 1 s lock wait ---

let dir, db, s2, admin2, sql2;

// Holds the stores row of store for ms in a client session of its own;
// resolves once the lock is held, to {ended}: a promise of the session's end.
async function holdStoreLock(store, ms) {
  const p = spawn('mariadb', ['--no-defaults', '-uroot', `--socket=${db.socket}`, '-N', '-B', '-n', 'fourscore', '-e',
    `START TRANSACTION; SELECT store_code FROM stores WHERE store_code = '${store}' FOR UPDATE; `
    + `SELECT SLEEP(${ms / 1000}); ROLLBACK;`], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const ended = new Promise((r) => p.on('close', r));
  await new Promise((resolve, reject) => {
    p.stdout.on('data', (d) => { out += d; if (out.includes(store)) resolve(); });
    p.on('close', () => reject(new Error('the lock session ended before holding the lock')));
  });
  return { ended };
}

describeLocked();
function describeLocked() {
  before(async () => {
    dir = tempDir('fs-import-lock-');
    mkdirSync(join(dir, 'db'));
    db = await startMariadb(join(dir, 'db'), { args: ['--innodb-lock-wait-timeout=1'] });
    await db.start();
    await db.sql('CREATE DATABASE fourscore CHARACTER SET utf8mb4');
    s2 = await startServer({ args: ['--db', db.url('fourscore')] });
    admin2 = await s2.adminCookie();
    sql2 = sqlOn(db.socket);
    for (const e of ['regions', 'stores', 'insurers', 'staff', 'customers', 'vehicle_sales', 'repair_orders', 'invoices']) {
      const r = await upload(s2, admin2, e, readFileSync(join(good, `${e}.csv`)));
      assert.equal(r.status, 200, `${e}: ${r.text}`);
    }
  });
  after(async () => {
    if (s2) await s2.stop();
    if (db) await db.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });
}

const payments = (nos) => csv(PAY_H, nos.map((no) => ['GZ01', no, 'INV003', '2024-02-01', '10.00']));

test('an import waiting on a held store lock runs again and succeeds once the lock goes', async () => {
  const session = await holdStoreLock('GZ01', 2500);
  const t0 = Date.now();
  const r = await upload(s2, admin2, 'payments', payments(['LW1', 'LW2']));
  const took = Date.now() - t0;
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(r.json, { entity: 'payments', rows: 2, inserted: 2, updated: 0, unchanged: 0 });
  assert.ok(took >= 1000, `it waited for the lock (${took} ms)`);
  await session.ended;
  assert.match(s2.logs(), /lost a lock conflict with another transaction while waiting for other imports of store GZ01 \(attempt 1 of 5\)/);
  assert.equal(sql2("SELECT COUNT(*) FROM payments WHERE payment_no LIKE 'LW%'"), '2');
});

test('a lock held past every attempt: 503 busy with Retry-After and a clean message, nothing written; then 200', async () => {
  const session = await holdStoreLock('GZ01', 12000);
  const t0 = Date.now();
  const r = await upload(s2, admin2, 'payments', payments(['LX1']));
  const took = Date.now() - t0;
  assert.equal(r.status, 503, r.text);
  assert.equal(r.json.error.code, 'busy');
  assert.match(r.json.error.message, /nothing was written: send it again in a few seconds/);
  assert.match(r.json.error.message, /5 attempts/);
  assert.doesNotMatch(r.text, RAW_DB_TEXT);
  assert.equal(r.headers.get('retry-after'), '5');
  assert.ok(took >= 5000 && took < 11000, `five attempts of about 1 s each (${took} ms)`);
  assert.equal(sql2("SELECT COUNT(*) FROM payments WHERE payment_no = 'LX1'"), '0');
  await session.ended;
  const again = await upload(s2, admin2, 'payments', payments(['LX1']));
  assert.equal(again.status, 200, again.text);
  assert.equal(sql2("SELECT COUNT(*) FROM payments WHERE payment_no = 'LX1'"), '1');
});

test('fourscore import runs a file again the same way, and reports spent attempts plainly', async () => {
  const file = join(dir, 'payments.csv');
  writeFileSync(file, payments(['LC1', 'LC2', 'LC3']));
  let session = await holdStoreLock('GZ01', 2500);
  let out = await run(['import', 'payments', file, '--db', db.url('fourscore')]);
  assert.equal(out.code, 0, out.stderr);
  assert.match(out.stdout, /payments\.csv: 3 rows: 3 inserted, 0 updated, 0 unchanged/);
  assert.match(out.stderr, /lost a lock conflict/);
  await session.ended;
  writeFileSync(file, payments(['LC4']));
  session = await holdStoreLock('GZ01', 12000);
  out = await run(['import', 'payments', file, '--db', db.url('fourscore')], { env: { FOURSCORE_IMPORT_ATTEMPTS: '2' } });
  assert.equal(out.code, 1, out.stdout);
  assert.match(out.stderr, /payments\.csv: other imports were writing the same data at the same time .*\(2 attempts\); nothing was written/);
  await session.ended;
  assert.equal(sql2("SELECT COUNT(*) FROM payments WHERE payment_no LIKE 'LC%'"), '3');
});

// The import's own connection, found by what it runs while it waits for the lock.
async function importConnection() {
  for (let i = 0; i < 50; i++) {
    const id = sql2("SELECT id FROM information_schema.processlist WHERE info LIKE 'SELECT store_code FROM stores WHERE store_code = ? FOR UPDATE%' LIMIT 1");
    if (id) return id;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error('the import never waited for the lock');
}

test('a database error inside an import is a clean message (the server log has MariaDB\'s text)', async () => {
  // the statement interrupted: 500 internal naming what was being done
  let session = await holdStoreLock('GZ01', 3000);
  let pending = upload(s2, admin2, 'payments', payments(['LK1']));
  sql2(`KILL QUERY ${await importConnection()}`);
  let r = await pending;
  assert.equal(r.status, 500, r.text);
  assert.equal(r.json.error.code, 'internal');
  assert.match(r.json.error.message, /while waiting for other imports of store GZ01 \(a database error; the server log has the details\); nothing was written/);
  assert.doesNotMatch(r.text, RAW_DB_TEXT);
  assert.match(s2.logs(), /waiting for other imports of store GZ01: Query execution was interrupted/);
  await session.ended;
  // the connection killed: 503 unavailable with Retry-After
  session = await holdStoreLock('GZ01', 3000);
  pending = upload(s2, admin2, 'payments', payments(['LK1']));
  sql2(`KILL CONNECTION ${await importConnection()}`);
  r = await pending;
  assert.equal(r.status, 503, r.text);
  assert.equal(r.json.error.code, 'db_unavailable');
  assert.doesNotMatch(r.text, RAW_DB_TEXT);
  assert.equal(r.headers.get('retry-after'), '5');
  await session.ended;
  assert.equal(sql2("SELECT COUNT(*) FROM payments WHERE payment_no = 'LK1'"), '0');
  // and the server goes on
  r = await upload(s2, admin2, 'payments', payments(['LK1']));
  assert.equal(r.status, 200, r.text);
});
