// receivables_anyday: the receivables KPIs as of any day equal, day by day,
// the open amounts worked out here by an independent query over the facts
// alone (invoices, payments, customers): an invoice issued on or before the
// day is open for its amount less its payments on or before the day, aged
// from its issue day, past terms when older than 90 days (180 for a
// government customer); a customer (store, customer) is over the limit when
// it owes more than the gross profit of its ROs at the store closed in the
// six months up to the day (rollup_ro's revenue less cost, which
// tests/unit/test_rollup.c checks against the lines). On top of the KPI
// fixture, S1 gets an invoice of a government customer paid before it was
// issued and paid off by two payments on one day, and an invoice of 0. Every
// day from 2024-02-25 to 2024-04-05 (up to the horizon, 2024-04-30, they
// are read from the day rows of schemas/031) and one long after it (read
// from the last month end and the changes since); the statement trace shows
// which table was read. Terms off the buckets' edges (45 days) are answered
// from the invoices and month ends, and still equal the facts.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { startServer, fixtures, tempDir } from './lib.mjs';

const FIXTURE = join(fixtures, 'kpi');
const ENTITIES = ['regions', 'stores', 'insurers', 'staff', 'customers', 'vehicle_sales', 'repair_orders',
  'ro_labour', 'ro_parts', 'invoices', 'payments'];
const IDS = ['receivables.open', 'receivables.age_0_30', 'receivables.age_31_60', 'receivables.age_61_90',
  'receivables.age_91_180', 'receivables.age_181_365', 'receivables.age_over_365', 'receivables.over_90_share',
  'receivables.overdue'];
const BUCKETS = { 'receivables.age_0_30': [0, 30], 'receivables.age_31_60': [31, 60],
  'receivables.age_61_90': [61, 90], 'receivables.age_91_180': [91, 180], 'receivables.age_181_365': [181, 365],
  'receivables.age_over_365': [366, Infinity] };

const OVER_LIMIT = 'receivables.over_limit_accounts';
let s, admin, trace;

before(async () => {
  trace = join(tempDir('fs-recv-'), 'kpi-trace.sql');
  s = await startServer({ env: { FOURSCORE_KPI_TRACE: trace } });
  for (const entity of ENTITIES) {
    const r = await s.cli(['import', entity, join(FIXTURE, `${entity}.csv`)]);
    assert.equal(r.code, 0, `import ${entity}:\n${r.stdout}\n${r.stderr}`);
  }
  const dir = tempDir('fs-recv-odd-');
  const odd = {
    invoices: 'store_code,invoice_no,customer_code,issued_on,due_on,amount,ro_no,deal_no\n' +
      'S1,I8,C2,2024-02-27,,600,,\nS1,I9,C3,2024-03-01,,0,,\n',
    payments: 'store_code,payment_no,invoice_no,paid_on,amount\n' +
      'S1,Y5,I8,2024-02-20,100\nS1,Y6,I8,2024-03-03,250\nS1,Y7,I8,2024-03-03,250\n',
  };
  await s.importTexts(dir, odd);
  admin = await s.adminCookie();
});

after(async () => { if (s) await s.stop(); });

const sql = (text) => execFileSync('mariadb', ['--no-defaults', `--socket=${s.dataDir}/mysqld.sock`, '-uroot', '-N', '-B',
  'fourscore', '-e', text], { encoding: 'utf8' });

// Per store, the expected figures as of day, from the facts alone (terms:
// days past which an invoice is overdue, government customers' terms).
function expected(day, terms = 90, governmentTerms = 180) {
  const rows = sql(`SELECT i.store_code, COALESCE(c.type = 'government', 0), DATEDIFF('${day}', i.issued_on),
      i.amount - COALESCE((SELECT SUM(p.amount) FROM payments p WHERE p.store_code = i.store_code
        AND p.invoice_no = i.invoice_no AND p.paid_on <= '${day}'), 0)
    FROM invoices i LEFT JOIN customers c ON c.store_code = i.store_code AND c.customer_code = i.customer_code
    WHERE i.issued_on <= '${day}'`).trim().split('\n').filter(Boolean).map((l) => l.split('\t'));
  const by = {};
  for (const [store, gov, age, open] of rows) {
    const amount = Number(open), a = Number(age);
    if (!(amount > 0)) continue;
    const f = by[store] ??= Object.fromEntries(IDS.map((id) => [id, 0]));
    f['receivables.open'] += amount;
    for (const [id, [lo, hi]] of Object.entries(BUCKETS)) if (a >= lo && a <= hi) f[id] += amount;
    if (a > 90) f['receivables.over_90_share'] += amount;
    if (a > (gov === '1' ? governmentTerms : terms)) f['receivables.overdue'] += amount;
  }
  for (const f of Object.values(by)) f['receivables.over_90_share'] /= f['receivables.open'];
  const over = sql(`SELECT o.store_code, COUNT(*) FROM (SELECT i.store_code, i.customer_code,
      SUM(GREATEST(i.amount - COALESCE((SELECT SUM(p.amount) FROM payments p WHERE p.store_code = i.store_code
        AND p.invoice_no = i.invoice_no AND p.paid_on <= '${day}'), 0), 0)) AS owes
    FROM invoices i WHERE i.issued_on <= '${day}' GROUP BY i.store_code, i.customer_code) o
    WHERE o.owes > 0 AND o.owes > COALESCE((SELECT SUM(r.revenue - r.cost) FROM rollup_ro r
      WHERE r.store_code = o.store_code AND r.customer_code = o.customer_code
      AND r.day > '${day}' - INTERVAL 6 MONTH AND r.day <= '${day}'), 0)
    GROUP BY o.store_code`).trim().split('\n').filter(Boolean).map((l) => l.split('\t'));
  for (const f of Object.values(by)) f[OVER_LIMIT] = 0;
  for (const [store, n] of over) by[store][OVER_LIMIT] = Number(n);
  return by;
}

const addDay = (d, n) => new Date(Date.parse(`${d}T00:00:00Z`) + n * 86400000).toISOString().slice(0, 10);

// Asks the KPIs of ids as of day by store and checks them against the facts;
// the statements that computed the aging KPIs, from the trace.
async function checkDay(day, ids, terms, governmentTerms) {
  writeFileSync(trace, '');
  const r = await s.request('GET',
    `/api/v1/kpi?ids=${ids.join(',')}&from=${day.slice(0, 8)}01&to=${day}&by=store`, { cookie: admin });
  assert.equal(r.status, 200, `${day}: ${r.text}`);
  const want = expected(day, terms, governmentTerms);
  for (const row of r.json.rows) {
    const w = want[row.key];
    for (const id of ids) {
      const got = row.values[id];
      if (!w) {
        assert.ok(got === null || got === 0, `${day} ${row.key} ${id}: owes nothing, got ${got}`);
        continue;
      }
      assert.ok(typeof got === 'number' && Math.abs(got - w[id]) < 1e-6, `${day} ${row.key} ${id}: ${got}, want ${w[id]}`);
    }
  }
  for (const store of Object.keys(want)) assert.ok(r.json.rows.some((x) => x.key === store), `${day}: ${store} owes`);
  const statements = readFileSync(trace, 'utf8').split('\n').filter((l) => ids.some((id) => l.startsWith(`/* ${id} */`)));
  return { want, statements };
}

test('as of any day: the day rows up to the horizon, and the month end and changes since after it, give the open amounts of the facts', async () => {
  const days = [];
  for (let d = '2024-02-25'; d <= '2024-04-05'; d = addDay(d, 1)) days.push(d);
  days.push('2024-09-17');
  const overSeen = new Set(), overdueSeen = new Set();
  for (const day of days) {
    const { want, statements } = await checkDay(day, [...IDS, OVER_LIMIT], 90, 180);
    overSeen.add(Object.values(want).map((f) => f[OVER_LIMIT]).join(','));
    overdueSeen.add(Object.values(want).map((f) => f['receivables.overdue']).join(','));
    if (day <= '2024-04-30') {
      for (const id of [...IDS, OVER_LIMIT])
        assert.ok(statements.some((l) => l.startsWith(`/* ${id} */`) && l.includes('rollup_receivable_day')),
          `${day} ${id}: read from the day rows`);
      assert.ok(!statements.some((l) => l.includes('changed AS') || l.includes('unsettled AS')),
        `${day}: no invoice read`);
    } else {
      // the aging KPIs of one day share one statement, run by whichever of them comes first
      assert.ok(statements.some((l) => l.includes('rollup_receivable_age') && l.includes('changed AS')),
        `${day}: read from a month end and the changes since`);
    }
  }
  assert.ok(overSeen.size >= 2, `the customers over their limit change over the days (${[...overSeen].join(' / ')})`);
  assert.ok(overdueSeen.size >= 2, `the overdue amounts change over the days (${[...overdueSeen].join(' / ')})`);
});

test('terms off the buckets\' edges are answered from the invoices and month ends, and equal the facts', async () => {
  const put = async (terms, governmentTerms) => {
    const r = await s.request('PUT', '/api/v1/settings', { cookie: admin,
      body: { 'receivables.terms_days': terms, 'receivables.government_terms_days': governmentTerms } });
    assert.equal(r.status, 200, r.text);
  };
  try {
    await put(45, 100);
    for (const day of ['2024-03-05', '2024-03-31', '2024-04-02', '2024-09-17']) {
      const { statements } = await checkDay(day, ['receivables.overdue'], 45, 100);
      assert.ok(statements.length > 0 && !statements.some((l) => l.includes('rollup_receivable_day')),
        `${day}: overdue for 45 / 100 days is not read from the buckets`);
    }
    await put(60, 365);
    for (const day of ['2024-03-05', '2024-03-31', '2024-04-02']) {
      const { statements } = await checkDay(day, ['receivables.overdue'], 60, 365);
      assert.ok(statements.some((l) => l.includes('rollup_receivable_day')), `${day}: 60 / 365 days from the buckets`);
    }
  } finally {
    await put(90, 180);
  }
});
