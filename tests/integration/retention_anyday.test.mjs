// retention_anyday: the cohort KPIs (retention.churn_y1..y3,
// retention.first_service_rate) as of any day equal, day by day, what the
// catalogue's words give when worked out here from the facts alone (the
// vehicle sales and repair orders written below), whichever way the server
// answers: at a held month end from its counts, on a day after one from
// those counts moved to the day (the vehicles sold at the cohort's edges,
// those last seen at the churn threshold, and the states changed since).
//
// The oracle, per vehicle and day `to`: its latest sale on or before `to`
// (store and day), its last visit = the latest non-internal RO closed on or
// before `to` and not before that sale (the sale's day when none), its first
// visit = the first non-internal RO closed on or after the sale, at any
// store. churn_yN of a selling store: the vehicles sold in (to - 12N, to -
// 12(N - 1)] months whose last visit (or sale) is on or before to - L months
// (L = retention.lost_after_months); first_service_rate: sold in ((to - F) -
// 12, to - F] months (F = retention.first_service_months), served when the
// first visit is on or before the sale + F months. "N months before" is
// MariaDB's: the same day number, clamped to a shorter month.
//
// The group: three stores, 160 vehicles from a fixed pseudo-random sequence,
// their sales drawn mostly near the edges of the days tested (a year, two and
// three before them; F + 12 months before; L months before for the visits;
// and the weeks tested themselves), some sold again by another store, some
// served at another store, some internal ROs (never a visit). Days: every
// day from 2025-01-24 to 2025-03-08 and from 2024-02-20 to 2024-03-05 (a leap
// February), with the settings' defaults, then some days again with L = 12,
// F = 3.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readFileSync, writeFileSync } from 'node:fs';
import { startServer, tempDir } from './lib.mjs';

const IDS = ['retention.churn_y1', 'retention.churn_y2', 'retention.churn_y3', 'retention.first_service_rate'];
const STORES = ['S1', 'S2', 'S3'];

// --- dates as 'YYYY-MM-DD' ---
const ymd = (y, m, d) => `${String(y).padStart(4, '0')}-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')}`;
const monthDays = (y, m) => new Date(Date.UTC(y, m, 0)).getUTCDate();
function addMonths(day, n) {          // MariaDB's day + INTERVAL n MONTH (n may be negative)
  const [y, m, d] = day.split('-').map(Number);
  const k = y * 12 + (m - 1) + n, yy = Math.floor(k / 12), mm = k - yy * 12 + 1;
  return ymd(yy, mm, Math.min(d, monthDays(yy, mm)));
}
const addDays = (day, n) => new Date(Date.parse(`${day}T00:00:00Z`) + n * 86400000).toISOString().slice(0, 10);

// --- the facts ---
let seed = 20251203;
const rand = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
const pick = (a) => a[Math.floor(rand() * a.length)];
const near = (centre, spread) => addDays(centre, Math.floor(rand() * (2 * spread + 1)) - spread);
const SALE_CENTRES = ['2024-02-15', '2023-02-15', '2022-02-15', '2023-08-15', '2024-08-15', '2025-02-10',
  '2023-02-25', '2022-02-25', '2021-02-25', '2022-08-25'];
const VISIT_CENTRES = ['2024-05-15', '2025-02-10', '2024-02-25', '2023-05-25', '2024-12-20'];

const vehicles = [];
for (let i = 1; i <= 160; i++) {
  const vin = `LFVKP${String(i).padStart(12, '0')}`;
  const sales = [];
  const sold = rand() < 0.8 ? near(pick(SALE_CENTRES), 20) : near('2023-06-01', 600);
  sales.push({ day: sold, store: pick(STORES) });
  if (rand() < 0.12) sales.push({ day: addDays(sold, 60 + Math.floor(rand() * 500)), store: pick(STORES) });
  const ros = [];
  const n = Math.floor(rand() * 5);
  for (let k = 0; k < n; k++) {
    const day = rand() < 0.6 ? near(pick(VISIT_CENTRES), 25) : addDays(sold, Math.floor(rand() * 900));
    ros.push({ day, store: rand() < 0.8 ? sales[0].store : pick(STORES), internal: rand() < 0.1 });
  }
  if (rand() < 0.3) ros.push({ day: addDays(sold, 20 + Math.floor(rand() * 200)), store: sales[0].store, internal: false });
  vehicles.push({ vin, sales, ros });
}
// a repair order after the days tested, so the month ends up to it are held
vehicles[0].ros.push({ day: '2025-06-10', store: 'S1', internal: false });

function files() {
  let deal = 0, ro = 0;
  const sales = [], ros = [];
  for (const v of vehicles) {
    for (const x of v.sales) sales.push(`${x.store},D${++deal},${v.vin},${x.day},C1,卡罗拉,150000,0`);
    for (const x of v.ros) {
      const type = x.internal ? 'internal,internal' : 'maintenance,customer';
      ros.push(`${x.store},R${++ro},${v.vin},C1,${type},${x.day} 09:00,${x.day} 10:00`);
    }
  }
  return {
    regions: 'region_code,name\nR1,华南区\n',
    stores: 'store_code,name,brand,region_code,city,opened_on\n' +
      STORES.map((c, i) => `${c},广州${i + 1}店,丰田,R1,广州,2015-06-01`).join('\n') + '\n',
    customers: 'store_code,customer_code,type,name\n' + STORES.map((c) => `${c},C1,individual,黄先生`).join('\n') + '\n',
    vehicle_sales: 'store_code,deal_no,vin,sold_on,customer_code,model,sale_amount,referral\n' + sales.join('\n') + '\n',
    repair_orders: 'store_code,ro_no,vin,customer_code,ro_type,payer,opened_at,closed_at\n' + ros.join('\n') + '\n',
  };
}

// Per selling store, [numerator, denominator] of each KPI as of `to`.
function expected(to, lost, first) {
  const by = {};
  const add = (store, id, served) => {
    const f = (by[store] ??= {})[id] ??= [0, 0];
    f[1]++;
    if (served) f[0]++;
  };
  for (const v of vehicles) {
    const sale = v.sales.filter((x) => x.day <= to).sort((a, b) => (a.day < b.day ? 1 : -1))[0];
    if (!sale) continue;
    const visits = v.ros.filter((x) => !x.internal && x.day >= sale.day).map((x) => x.day).sort();
    const last = visits.filter((d) => d <= to).pop() ?? sale.day;
    const firstVisit = visits[0];
    for (let y = 1; y <= 3; y++)
      if (sale.day > addMonths(to, -12 * y) && sale.day <= addMonths(to, -12 * (y - 1)))
        add(sale.store, `retention.churn_y${y}`, last <= addMonths(to, -lost));
    const end = addMonths(to, -first);
    if (sale.day > addMonths(end, -12) && sale.day <= end)
      add(sale.store, 'retention.first_service_rate', firstVisit !== undefined && firstVisit <= addMonths(sale.day, first));
  }
  return by;
}

let s, admin, trace;

before(async () => {
  const dir = tempDir('fs-retention-anyday-');
  trace = join(dir, 'kpi-trace.sql');
  s = await startServer({ env: { FOURSCORE_KPI_TRACE: trace } });
  await s.importTexts(dir, files());
  admin = await s.adminCookie();
});

after(async () => { if (s) await s.stop(); });

// Checks every cohort KPI of every store as of day against the oracle; the
// statements the KPIs ran, from the trace.
async function checkDay(day, lost, first) {
  writeFileSync(trace, '');
  const r = await s.request('GET', `/api/v1/kpi?ids=${IDS.join(',')}&from=${day.slice(0, 8)}01&to=${day}&by=store`,
    { cookie: admin });
  assert.equal(r.status, 200, `${day}: ${r.text}`);
  const want = expected(day, lost, first);
  let counted = 0;
  for (const store of STORES) {
    const row = r.json.rows.find((x) => x.key === store);
    for (const id of IDS) {
      const got = row ? row.values[id] : null;
      const w = want[store]?.[id];
      if (!w) {
        assert.ok(got === null || got === undefined, `${day} ${store} ${id}: nobody in the cohort, got ${got}`);
        continue;
      }
      counted += w[1];
      assert.ok(typeof got === 'number' && Math.abs(got - w[0] / w[1]) < 1e-9,
        `${day} ${store} ${id}: ${got}, want ${w[0]}/${w[1]}`);
    }
  }
  return { counted, statements: readFileSync(trace, 'utf8').split('\n').filter((l) => l.startsWith('/* retention.')) };
}

function days(from, to) {
  const out = [];
  for (let d = from; d <= to; d = addDays(d, 1)) out.push(d);
  return out;
}

test('the cohort KPIs as of every day equal the facts: month ends from their counts, other days from the counts moved to the day', async () => {
  let moved = 0, total = 0;
  for (const day of [...days('2025-01-24', '2025-03-08'), ...days('2024-02-20', '2024-03-05')]) {
    const { counted, statements } = await checkDay(day, 9, 6);
    total += counted;
    const monthEnd = addDays(day, 1).endsWith('-01');
    if (!monthEnd && statements.some((l) => l.includes('k_vehicle_state_until') && l.includes('v.first_visit_on, -1'))) moved++;
    if (monthEnd) assert.ok(statements.some((l) => l.includes('rollup_retention_churn')), `${day}: the month-end counts`);
  }
  assert.ok(moved >= 50, `most days are answered from the month end before them and the changes since (${moved})`);
  assert.ok(total > 3000, `the cohorts are not empty (${total} vehicle-days counted)`);
});

test('other settings give other cohorts, and the kept changes follow them', async () => {
  const put = async (body) => {
    const r = await s.request('PUT', '/api/v1/settings', { cookie: admin, body });
    assert.equal(r.status, 200, r.text);
  };
  try {
    await put({ 'retention.lost_after_months': 12, 'retention.base_months': 24, 'retention.first_service_months': 3 });
    for (const day of ['2025-02-10', '2025-02-27', '2025-03-04', '2024-02-29']) await checkDay(day, 12, 3);
  } finally {
    await put({ 'retention.lost_after_months': 9, 'retention.first_service_months': 6 });
  }
  for (const day of ['2025-02-10', '2025-03-04']) await checkDay(day, 9, 6);
});
