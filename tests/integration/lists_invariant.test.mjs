// lists_invariant: a list and the KPI it explains are the same number
// (../shared contract "Lists", docs/kpis.md "核对"). For every list of the
// catalogue (GET /api/v1/lists) whose `explains` is set, on the hand-made
// fixture of tests/fixtures/kpi/ and on a small demo group
// (`fourscore demo --stores 6 --years 2 --end 2026-09`), for the group, each
// region and several single stores, at month ends (read by the KPIs from
// their month-end aggregates) and at mid-month days (read from the row-level
// state), GET /api/v1/list's `total` (as "count"), `sums[column]` (as "sum",
// to 0.01) or `sums[column]` / the KPI `of` (as "share", to 1e-6) equals the
// KPI from GET /api/v1/kpi for the same stores and dates. Period lists are
// asked for a whole month, a part of a month and two months and a half.
//
// Then a few lists row by row on the fixture, every expected row worked out by
// hand from tests/fixtures/kpi/*.csv (VIN n below means LFVKP0000000000nn;
// the fixture's story is told in kpi_correctness.test.mjs).
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { startServer, fixtures, run, tempDir } from './lib.mjs';

const ENTITIES = ['regions', 'stores', 'insurers', 'staff', 'customers', 'vehicle_sales', 'repair_orders',
  'ro_labour', 'ro_parts', 'parts_stock', 'insurance_policies', 'invoices', 'payments', 'store_financials',
  'follow_up_calls', 'csi_surveys', 'appointments'];
// the lists of the contract that explain a KPI (retention.at_risk too when its plugin has it)
const EXPLAINING = ['retention.warning', 'retention.lost', 'retention.maintenance_due',
  'retention.first_service_pending', 'insurance.renewals_due', 'receivables.overdue_invoices',
  'receivables.over_limit_customers', 'parts.slow_moving', 'service.comebacks', 'service.complaints'];

const vin = (n) => `LFVKP0000000000${String(n).padStart(2, '0')}`;

async function get(server, cookie, path) {
  const r = await server.request('GET', path, { cookie });
  assert.equal(r.status, 200, `${path}: ${r.status} ${r.text}`);
  return r.json;
}

// The KPI values for a scope ({stores} or {regions}, or {} for the group) and a period.
async function kpiValues(server, cookie, ids, period, scope) {
  const q = `/api/v1/kpi?ids=${ids.join(',')}&from=${period.from}&to=${period.to}&by=group${scopeQuery(scope)}`;
  const j = await get(server, cookie, q);
  assert.equal(j.rows.length, 1, `${q}: one group row`);
  return j.rows[0].values;
}

function scopeQuery(scope) {
  if (scope.stores) return `&stores=${scope.stores.join(',')}`;
  if (scope.regions) return `&regions=${scope.regions.join(',')}`;
  return '';
}

// Checks every explaining list against its KPI for every period and scope; returns how many checks ran.
async function checkInvariant(server, cookie, periods, scopes) {
  const catalogue = await get(server, cookie, '/api/v1/lists');
  const lists = catalogue.filter((l) => l.explains);
  for (const id of EXPLAINING) assert.ok(lists.some((l) => l.id === id), `the catalogue has ${id} with its KPI`);
  const ids = [...new Set(lists.flatMap((l) => [l.explains.kpi, ...(l.explains.of ? [l.explains.of] : [])]))];
  let checks = 0;
  for (const period of periods) {
    for (const scope of scopes) {
      const values = await kpiValues(server, cookie, ids, period, scope);
      for (const l of lists) {
        const q = `/api/v1/list?id=${l.id}&from=${period.from}&to=${period.to}&limit=1${scopeQuery(scope)}`;
        const page = await get(server, cookie, q);
        const what = `${l.id} ${period.from}..${period.to} ${JSON.stringify(scope)}`;
        const k = values[l.explains.kpi];
        if (l.explains.as === 'count') {
          assert.equal(page.total, k, `${what}: total ${page.total}, KPI ${l.explains.kpi} ${k}`);
        } else if (l.explains.as === 'sum') {
          const sum = page.sums[l.explains.column];
          assert.ok(Math.abs(sum - k) <= 0.01, `${what}: sums.${l.explains.column} ${sum}, KPI ${k}`);
        } else {
          assert.equal(l.explains.as, 'share', `${what}: explains as`);
          const sum = page.sums[l.explains.column], of = values[l.explains.of];
          if (k === null) {
            // no store of the scope has a snapshot: nothing to list, nothing to divide by
            assert.equal(sum, 0, `${what}: a null share lists nothing`);
            assert.ok(of === null || of === 0, `${what}: ${l.explains.of} ${of}`);
          } else {
            assert.ok(of > 0, `${what}: ${l.explains.of} ${of}`);
            assert.ok(Math.abs(sum / of - k) <= 1e-6, `${what}: sums.${l.explains.column} ${sum} / ${of}, KPI ${k}`);
          }
        }
        checks++;
      }
    }
  }
  return checks;
}

// A month end, the period being its month; a mid-month day, from the 1st; and
// a longer period ending on a month end (for the period lists).
const monthEnd = (to) => ({ from: `${to.slice(0, 8)}01`, to });
const midMonth = (to) => ({ from: `${to.slice(0, 8)}01`, to });

describe('on the fixture', () => {
  let server, cookie;
  before(async () => {
    server = await startServer();
    for (const entity of ENTITIES) {
      const r = await server.cli(['import', entity, join(fixtures, 'kpi', `${entity}.csv`)]);
      assert.equal(r.code, 0, `import ${entity} failed:\n${r.stdout}\n${r.stderr}`);
    }
    cookie = await server.adminCookie();
  });
  after(async () => {
    if (!server) return;
    const res = await server.stop();
    assert.equal(res.code, 0, `server exited with ${res.code}\n${server.stderr().slice(-4000)}`);
  });

  test('every list equals its KPI: group, regions, stores; month ends and mid-month days', async () => {
    const periods = [
      monthEnd('2024-03-31'), midMonth('2024-03-15'), monthEnd('2024-02-29'), midMonth('2024-03-30'),
      monthEnd('2024-01-31'), midMonth('2024-04-10'), monthEnd('2025-02-28'), monthEnd('2023-12-31'),
      { from: '2024-01-15', to: '2024-03-31' },
    ];
    const scopes = [{}, { regions: ['SOUTH'] }, { regions: ['NORTH'] }, { stores: ['S1'] }, { stores: ['S2'] },
      { stores: ['N1'] }, { stores: ['N2'] }, { stores: ['S1', 'N1'] }];
    const checks = await checkInvariant(server, cookie, periods, scopes);
    assert.ok(checks >= periods.length * scopes.length * EXPLAINING.length, `${checks} checks`);
  });

  test('the invariant follows the settings', async () => {
    const settings = { 'retention.lost_after_months': 12, 'retention.maintenance_notice_days': 60,
      'retention.first_service_months': 7, 'insurance.renewal_window_days': 31, 'insurance.renewal_notice_days': 400,
      'receivables.terms_days': 30, 'parts.slow_moving_days': 30, 'parts.obsolete_days': 181 };
    const put = await server.request('PUT', '/api/v1/settings', { cookie, body: settings });
    assert.equal(put.status, 200, put.text);
    try {
      await checkInvariant(server, cookie, [monthEnd('2024-03-31'), midMonth('2024-03-15'), monthEnd('2024-02-29')],
        [{}, { regions: ['SOUTH'] }, { stores: ['N1'] }]);
    } finally {
      const back = {};
      for (const name of Object.keys(settings)) back[name] = null;
      const r = await server.request('PUT', '/api/v1/settings', { cookie, body: back });
      assert.equal(r.status, 200, r.text);
    }
  });

  // The rows of a page without the phone (the customer records of the fixture
  // carry none; masking is the list engine's and is tested with it).
  async function rows(id, period, extra = '') {
    const page = await get(server, cookie, `/api/v1/list?id=${id}&from=${period.from}&to=${period.to}${extra}`);
    for (const r of page.rows) if ('phone' in r) delete r.phone;
    return page;
  }

  test('retention.lost as of 2024-03-31, row by row', async () => {
    // Lost (last seen on or before 2023-06-30, within the 24-month base): S1 V12 (sold by S1 on
    // 2023-05-10 to C1; its only RO is internal: no visit); S2 V19 (sold again by S2 on 2023-06-01
    // to C1: its N1 visit of 2022 belongs to the earlier owner), V21 (last visit S2-R5 on
    // 2023-04-01, customer C3 of that RO, sold by S1 on 2022-10-01), V23 (sold by S2 on 2022-09-30,
    // never seen); N1 V29 (never sold, last visit N1-R7 on 2022-04-01 by C1). months_since counts
    // whole months back from 2024-03-31. Default order: store, months_since descending, VIN.
    const page = await rows('retention.lost', { from: '2024-03-31', to: '2024-03-31' });
    assert.equal(page.total, 5);
    const base = { model: null, last_visit_on: null, last_visit_store: null, last_ro_no: null };
    assert.deepEqual(page.rows, [
      { ...base, store: 'N1', customer_store: 'N1', vin: vin(29), customer_code: 'C1', customer_name: '孙先生',
        sold_on: null, last_visit_on: '2022-04-01', last_visit_store: 'N1', last_ro_no: 'R7', months_since: 23 },
      { ...base, store: 'S1', customer_store: 'S1', vin: vin(12), customer_code: 'C1', customer_name: '黄先生',
        sold_on: '2023-05-10', months_since: 10 },
      { ...base, store: 'S2', customer_store: 'S2', vin: vin(23), customer_code: 'C1', customer_name: '吴女士',
        sold_on: '2022-09-30', months_since: 18 },
      { ...base, store: 'S2', customer_store: 'S2', vin: vin(21), customer_code: 'C3', customer_name: '鹏城租车',
        sold_on: '2022-10-01', last_visit_on: '2023-04-01', last_visit_store: 'S2', last_ro_no: 'R5', months_since: 11 },
      { ...base, store: 'S2', customer_store: 'S2', vin: vin(19), customer_code: 'C1', customer_name: '吴女士',
        sold_on: '2023-06-01', months_since: 9 },
    ]);
    // the columns in the contract's order
    assert.deepEqual(Object.keys((await get(server, cookie,
      '/api/v1/list?id=retention.lost&to=2024-03-31&limit=1')).rows[0]),
    ['store', 'customer_store', 'vin', 'customer_code', 'customer_name', 'phone', 'model', 'sold_on', 'last_visit_on',
      'last_visit_store', 'last_ro_no', 'months_since']);
  });

  test('retention.maintenance_due and first_service_pending as of 2024-03-31', async () => {
    // due: last visit + 6 months in (03-31, 04-30]: N1 V24 (N1-R3 2023-10-20 by C1, sold 2023-09-30),
    // S1 V11 (S1-R10 2023-10-01 by C4 珠江物流, never sold; its 2023-09-30 visit is older)
    const due = await rows('retention.maintenance_due', { from: '2024-03-31', to: '2024-03-31' });
    assert.deepEqual(due.rows.map((r) => [r.store, r.vin, r.customer_code, r.customer_name, r.last_visit_on,
      r.last_ro_no, r.months_since, r.due_on]), [
      ['N1', vin(24), 'C1', '孙先生', '2023-10-20', 'R3', 5, '2024-04-20'],
      ['S1', vin(11), 'C4', '珠江物流', '2023-10-01', 'R10', 5, '2024-04-01'],
    ]);
    // pending: S2 V3 (sold 2024-03-05 to C1 吴女士, 汉兰达; window ends 09-05, 158 days after 03-31),
    // N1 V4 (sold 2024-03-20 to C1 孙先生, 雅阁; 09-20, 173 days)
    const pending = await rows('retention.first_service_pending', { from: '2024-03-31', to: '2024-03-31' });
    assert.deepEqual(pending.rows, [
      { store: 'N1', customer_store: 'N1', vin: vin(4), customer_code: 'C1', customer_name: '孙先生', model: '雅阁',
        sold_on: '2024-03-20', window_ends_on: '2024-09-20', days_left: 173 },
      { store: 'S2', customer_store: 'S2', vin: vin(3), customer_code: 'C1', customer_name: '吴女士', model: '汉兰达',
        sold_on: '2024-03-05', window_ends_on: '2024-09-05', days_left: 158 },
    ]);
  });

  test('insurance.renewals_due as of 2025-02-28, with the customer of each VIN', async () => {
    // Ending in (2025-02-28, 2025-04-29], none renewed (kpi_correctness: 8 policies). Customer of the
    // VIN as of `to`: its last visit's RO, else its latest sale: V1 S1-R1 (C1 黄先生), V2 S1-R4
    // (C3 羊城出租), V3 sale S2-D1 (C1 吴女士), V4 sale N1-D1 (C1 孙先生), V5 S1-R3 (INS), V6 none (no
    // RO, no sale: nulls), V7 S2-R8 (C3 鹏城租车), V10 none. Sorted by store, ends_on, policy.
    const page = await rows('insurance.renewals_due', { from: '2025-02-28', to: '2025-02-28' });
    assert.equal(page.total, 8);
    assert.equal(page.sums.premium, 5000 + 2500 + 3000 + 2000 + 1000 + 3500 + 4000 + 1800);
    assert.deepEqual(page.rows.map((r) => [r.store, r.customer_store, r.policy_no, r.vin, r.insurer_code, r.kind,
      r.ends_on, r.days_left, r.premium, r.customer_code]), [
      ['N1', 'N1', 'P4', vin(4), 'PAIC', 'renewal', '2025-03-20', 20, 3000, 'C1'],
      ['S1', 'S1', 'P1', vin(1), 'PICC', 'new', '2025-03-01', 1, 5000, 'C1'],
      ['S1', null, 'R2', vin(6), 'PAIC', 'renewal', '2025-04-07', 38, 2500, null],
      ['S2', 'S1', 'R1', vin(5), 'CPIC', 'renewal', '2025-03-04', 4, 2000, 'INS'],
      ['S2', null, 'R6', vin(10), 'CPIC', 'renewal', '2025-03-15', 15, 1000, null],
      ['S2', 'S2', 'P3', vin(3), 'CPIC', 'new', '2025-04-04', 35, 3500, 'C1'],
      ['S2', 'S1', 'P2', vin(2), 'CPIC', 'new', '2025-04-08', 39, 4000, 'C3'],
      ['S2', 'S2', 'R3', vin(7), 'PICC', 'renewal', '2025-04-13', 44, 1800, 'C3'],
    ]);
  });

  test('receivables and service lists of March 2024, row by row', async () => {
    // overdue as of 2024-03-31 (kpi_correctness: S1 1700, S2 500): S1 I5 (government C2, issued
    // 2023-09-01, 212 days > 180), S1 I4 (fleet C3, 2023-12-15, 107 > 90, 500 of 800 open), S2 J1
    // (individual C1, 2023-03-01, 396 days, 500 of 700 open); by store, age descending
    const overdue = await rows('receivables.overdue_invoices', { from: '2024-03-31', to: '2024-03-31' });
    assert.deepEqual(overdue.rows.map((r) => [r.store, r.invoice_no, r.customer_code, r.customer_type, r.amount,
      r.open_amount, r.age_days, r.terms_days]), [
      ['S1', 'I5', 'C2', 'government', 1200, 1200, 212, 180],
      ['S1', 'I4', 'C3', 'fleet', 800, 500, 107, 90],
      ['S2', 'J1', 'C1', 'individual', 700, 500, 396, 90],
    ]);
    assert.equal(overdue.sums.open_amount, 2200);
    // comebacks of March: S1-R4 (V2, closed 03-31 23:59, back 21 days after S1-R2 of 03-10 16:00)
    const comebacks = await rows('service.comebacks', { from: '2024-03-01', to: '2024-03-31' });
    assert.deepEqual(comebacks.rows, [{ store: 'S1', ro_no: 'R4', comeback_of: 'R2', vin: vin(2),
      closed_at: '2024-03-31 23:59:00', original_closed_at: '2024-03-10 16:00:00', days_between: 21,
      advisor_code: 'A1', ro_type: 'repair', revenue: 200 }]);
    // complaints: the reached complaint call of S1-R2 (C3 羊城出租); S1-R5's is of an internal RO
    const complaints = await rows('service.complaints', { from: '2024-03-01', to: '2024-03-31' });
    assert.deepEqual(complaints.rows, [{ store: 'S1', customer_store: 'S1', ro_no: 'R2',
      called_at: '2024-03-14 10:00:00', vin: vin(2), customer_code: 'C3', customer_name: '羊城出租',
      advisor_code: 'A1' }]);
    // sorted by another column, then the default keys: the same rows by open amount
    const byOpen = await rows('receivables.overdue_invoices', { from: '2024-03-31', to: '2024-03-31' },
      '&sort=open_amount&order=asc');
    assert.deepEqual(byOpen.rows.map((r) => r.invoice_no), ['I4', 'J1', 'I5']);
  });
});

describe('on a small demo', () => {
  let server, cookie, stores, regions, dataDir;
  before(async () => {
    dataDir = tempDir('fs-lists-demo-');
    const load = await run(['demo', '--stores', '6', '--years', '2', '--end', '2026-09'], { dataDir, timeoutMs: 900000 });
    assert.equal(load.code, 0, load.stderr);
    server = await startServer({ dataDir });
    cookie = await server.login('exec', 'demo1234');
    const all = await get(server, cookie, '/api/v1/stores');
    stores = all.map((s) => s.code);
    regions = [...new Set(all.map((s) => s.region))];
    assert.equal(stores.length, 6);
  });
  after(async () => {
    if (!server) return;
    const res = await server.stop();
    assert.equal(res.code, 0, `server exited with ${res.code}\n${server.stderr().slice(-4000)}`);
  });

  test('every list equals its KPI: group, each region, three stores; month ends and mid-month days', async () => {
    const periods = [monthEnd('2026-08-31'), midMonth('2026-09-15'), monthEnd('2026-06-30'), midMonth('2026-05-20'),
      monthEnd('2025-12-31'), midMonth('2025-11-14'), { from: '2026-04-16', to: '2026-06-30' }];
    const scopes = [{}, ...regions.map((r) => ({ regions: [r] })), { stores: [stores[0]] }, { stores: [stores[3]] },
      { stores: [stores[5]] }];
    // the demo must give the lists something to list at the latest month end
    const counts = await kpiValues(server, cookie, ['retention.lost', 'retention.maintenance_due',
      'retention.first_service_pending', 'insurance.renewals_due', 'receivables.overdue', 'service.comebacks'],
    monthEnd('2026-08-31'), {});
    for (const [id, v] of Object.entries(counts)) assert.ok(v > 0, `${id} is ${v} on the demo`);
    await checkInvariant(server, cookie, periods, scopes);
  });

  // A day that is not a held month end is answered from the month end before
  // it and the changes since (plugins/retention, plugins/receivables): day by
  // day over seven weeks (two month ends among them) and one day past the
  // data's horizon, the bands equal the vehicles' states counted here with
  // MariaDB's own date arithmetic, and the open and overdue amounts equal the
  // invoices less their payments counted here from the facts.
  test('any day: retention bands and receivables equal a count over the states and the facts', async () => {
    const sql = (text) => execFileSync('mariadb', ['--no-defaults', `--socket=${dataDir}/mysqld.sock`, '-uroot', '-N', '-B',
      'fourscore', '-e', text], { encoding: 'utf8' }).trim().split('\n').filter(Boolean).map((l) => l.split('\t'));
    const ids = ['retention.base', 'retention.at_risk', 'retention.warning', 'retention.lost', 'receivables.open',
      'receivables.overdue'];
    const days = [];
    for (let t = Date.parse('2026-07-20T00:00:00Z'); t <= Date.parse('2026-09-05T00:00:00Z'); t += 86400000)
      days.push(new Date(t).toISOString().slice(0, 10));
    days.push('2026-10-12');
    for (const day of days) {
      const want = {};
      const blank = () => Object.fromEntries(ids.map((id) => [id, 0]));
      for (const [st, base, risk, warn, lost] of sql(`SELECT v.last_store_code, COUNT(*),
          SUM(v.from_on <= '${day}' - INTERVAL 3 MONTH AND v.from_on > '${day}' - INTERVAL 6 MONTH),
          SUM(v.from_on <= '${day}' - INTERVAL 6 MONTH AND v.from_on > '${day}' - INTERVAL 9 MONTH),
          SUM(v.from_on <= '${day}' - INTERVAL 9 MONTH)
        FROM rollup_vehicle_state v WHERE v.from_on <= '${day}' AND v.until_on > '${day}'
          AND v.from_on > '${day}' - INTERVAL 24 MONTH GROUP BY 1`))
        Object.assign(want[st] ??= blank(), { 'retention.base': +base, 'retention.at_risk': +risk,
          'retention.warning': +warn, 'retention.lost': +lost });
      for (const [st, gov, age, open] of sql(`SELECT i.store_code, COALESCE(c.type = 'government', 0),
          DATEDIFF('${day}', i.issued_on), i.amount - COALESCE((SELECT SUM(p.amount) FROM payments p
            WHERE p.store_code = i.store_code AND p.invoice_no = i.invoice_no AND p.paid_on <= '${day}'), 0)
        FROM invoices i LEFT JOIN customers c ON c.store_code = i.store_code AND c.customer_code = i.customer_code
        WHERE i.issued_on <= '${day}'`)) {
        if (!(Number(open) > 0)) continue;
        const w = want[st] ??= blank();
        w['receivables.open'] += Number(open);
        if (Number(age) > (gov === '1' ? 180 : 90)) w['receivables.overdue'] += Number(open);
      }
      const answer = await get(server, cookie, `/api/v1/kpi?ids=${ids.join(',')}&from=${day.slice(0, 8)}01&to=${day}&by=store`);
      for (const row of answer.rows)
        for (const id of ids) {
          const got = row.values[id] ?? 0, w = want[row.key]?.[id] ?? 0;
          assert.ok(Math.abs(got - w) < 1e-6, `${day} ${row.key} ${id}: ${got}, counted ${w}`);
        }
    }
  });
});
