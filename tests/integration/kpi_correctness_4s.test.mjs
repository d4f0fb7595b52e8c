// kpi_correctness_4s: the KPIs of the whole 4S (机电 and 钣喷, hours in the
// workshop, accessory margin, accident share, sales and referrals, staff
// headcount and turnover, the five SERVQUAL dimensions) and the KPIs after
// re-imports, on the same hand-made fixture as kpi_correctness.test.mjs
// (described at its top; loaded by kpi_fixture.mjs into a server of this
// file's own). Every expected value is worked out by hand in the comment next
// to it; none is read back from the program.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { writeFileSync, rmSync } from 'node:fs';
import { tempDir } from './lib.mjs';
import { fx, loadKpiFixture, kpi, allLevels, near, checkAll, row, withSettings, DEFAULT_SETTINGS, KEYS, MARCH, DAYS } from './kpi_fixture.mjs';

loadKpiFixture();

const JUNE_2021 = { from: '2021-06-01', to: '2021-06-30' };

// Hours in the workshop of March's ROs (closed_at - opened_at):
//   S1: R1 2, R2 7, R3 (03-12 09:00 -> 03-15 17:00) 80, R4 (10:00 -> 23:59) 13 + 59/60 = 102 + 59/60
//   S2: R1 2, R2 (03-20 09:00 -> 03-25 17:00) 128, R3 6, R8 2 = 138;  N1: R1 3
const S1_MARCH_HOURS = 102 + 59 / 60;

test('service: 机电 + 钣喷 = 进厂台次 and the hours in the workshop, March', async () => {
  const want = {
    // bodywork: S1-R3 and S2-R2; everything else is mechanical (S2-R8 with payer internal too)
    'service.mech_ro_count': row(3, 3, 1, 0, 6, 1, 7),
    'service.body_ro_count': row(1, 1, 0, 0, 2, 0, 2),
    // pooled means over the ROs, never an average of store means; N2 has no RO: null
    'service.turnaround_hours': row(S1_MARCH_HOURS / 4, 138 / 4, 3, null, (S1_MARCH_HOURS + 138) / 8, 3,
      (S1_MARCH_HOURS + 141) / 9),
  };
  await checkAll(want);
  // the identity the dashboards show, on every row
  const rows = await allLevels(['service.ro_count', 'service.mech_ro_count', 'service.body_ro_count']);
  for (const key of KEYS) {
    const v = rows[key];
    assert.equal(v['service.mech_ro_count'] + v['service.body_ro_count'], v['service.ro_count'], `机电 + 钣喷 at ${key}`);
  }
});

test('service: 机电 / 钣喷 and hours in the workshop by month, and over part months', async () => {
  const rows = await kpi(['service.mech_ro_count', 'service.body_ro_count', 'service.turnaround_hours',
    'parts.accessory_margin', 'insurance.accident_share'], { from: '2024-02-01', to: '2024-05-31' }, 'month');
  // February: S1-R7 maintenance 09:00 -> 12:00, revenue 300 with no accessory and no insurer
  near(rows['2024-02']['service.mech_ro_count'], 1, 'Feb mech');
  near(rows['2024-02']['service.body_ro_count'], 0, 'Feb body');
  near(rows['2024-02']['service.turnaround_hours'], 3, 'Feb hours');
  near(rows['2024-02']['parts.accessory_margin'], null, 'Feb accessory margin: no accessory line');
  near(rows['2024-02']['insurance.accident_share'], 0, 'Feb accident share');
  near(rows['2024-03']['service.mech_ro_count'], 7, 'Mar mech');
  near(rows['2024-03']['service.body_ro_count'], 2, 'Mar body');
  near(rows['2024-03']['service.turnaround_hours'], (S1_MARCH_HOURS + 141) / 9, 'Mar hours');
  near(rows['2024-03']['parts.accessory_margin'], 0.5, 'Mar accessory margin');
  near(rows['2024-03']['insurance.accident_share'], 3700 / 7100, 'Mar accident share');
  // April: S1-R8 03-31 20:00 -> 04-01 00:30, counted in April by its closing date
  near(rows['2024-04']['service.mech_ro_count'], 1, 'Apr mech');
  near(rows['2024-04']['service.turnaround_hours'], 4.5, 'Apr hours');
  // May: nothing: counts 0, means and ratios null
  near(rows['2024-05']['service.mech_ro_count'], 0, 'May mech');
  near(rows['2024-05']['service.body_ro_count'], 0, 'May body');
  near(rows['2024-05']['service.turnaround_hours'], null, 'May hours');
  near(rows['2024-05']['insurance.accident_share'], null, 'May accident share');
  // 2024-02-15..2024-04-10: S1 R7 3 h + March + R8 4.5 h over 6 ROs; S2 138 / 4; N1 3
  await checkAll({
    'service.turnaround_hours': { S1: (S1_MARCH_HOURS + 7.5) / 6, S2: 34.5, N1: 3,
      SOUTH: (S1_MARCH_HOURS + 7.5 + 138) / 10, group: (S1_MARCH_HOURS + 7.5 + 141) / 11 },
    'service.mech_ro_count': { S1: 5, S2: 3, N1: 1, group: 9 },
  }, { from: '2024-02-15', to: '2024-04-10' });
});

test('June 2021: a bodywork RO paid by its customer, accident work that is no bodywork, accessories', async () => {
  await checkAll({
    'service.ro_count': row(0, 1, 2, 0, 1, 2, 3),
    'service.mech_ro_count': row(0, 1, 1, 0, 1, 1, 2),
    'service.body_ro_count': row(0, 0, 1, 0, 0, 1, 1),
    // S2 26.5; N1 (52.25 + 0) / 2; group 78.75 / 3; the internal RO's 96 h and the open RO count nowhere
    'service.turnaround_hours': row(null, 26.5, 26.125, null, 26.5, 26.125, 26.25),
    'parts.accessory_revenue': row(0, 700, 500, 0, 700, 500, 1200),
    // S2 (600 - 360) + (100 - 100) = 240 of 700; N1 (500 - 200) / 500; group 540 / 1200
    'parts.accessory_margin': row(null, 240 / 700, 0.6, null, 240 / 700, 0.6, 540 / 1200),
    // payer insurer: N1-R9 300 of N1's 1600 + 300; S2 has revenue and no accident work: 0; S1 no revenue: null
    'insurance.accident_share': row(null, 0, 300 / 1900, null, 0, 300 / 1900, 300 / 2900),
  }, JUNE_2021);
});

test('parts and insurance: accessory margin and accident share, March', async () => {
  await checkAll({
    // accessory lines: only S1-R2's 1x200 (cost 100); none elsewhere: null, never 0
    'parts.accessory_margin': row(0.5, null, null, null, 0.5, null, 0.5),
    // accident revenue (S1-R3 2100, S2-R2 1600) over service revenue (4150, 2300, 650)
    'insurance.accident_share': row(2100 / 4150, 1600 / 2300, 0, null, 3700 / 6450, 0, 3700 / 7100),
  });
  // service revenue has no insurer: by=insurer is refused, naming the KPI
  const r = await fx.server.request('GET',
    `/api/v1/kpi?ids=insurance.accident_share&from=${MARCH.from}&to=${MARCH.to}&by=insurer`, { cookie: fx.cookie });
  assert.equal(r.status, 400, r.text);
  assert.match(r.json.error.message, /insurance\.accident_share/);
});

// Sales (vehicle_sales.csv), credited to the selling store by sold_on:
//   March: S1 D1 03-02 168000 (referral 0), D2 03-10 152500.50 (1); S2 D1 03-05 239800 (1);
//          N1 D1 03-20 129900 (referral empty: false).  April: S1 D5 04-10 145000 (1).
//          May: N1 D4 05-01 150000 (0).  February: none.
test('sales: units, revenue and referral share', async () => {
  await checkAll({
    'sales.units': row(2, 1, 1, 0, 3, 1, 4),
    'sales.revenue': row(320500.5, 239800, 129900, 0, 560300.5, 129900, 690200.5),
    'sales.referral_share': row(1 / 2, 1, 0, null, 2 / 3, 0, 2 / 4),
  });
  // 03-05..03-20, both ends included: S1 D2 only, S2 D1 (on `from`), N1 D1 (on `to`)
  await checkAll({
    'sales.units': row(1, 1, 1, 0, 2, 1, 3),
    'sales.revenue': { S1: 152500.5, group: 152500.5 + 239800 + 129900 },
    'sales.referral_share': row(1, 1, 0, null, 1, 0, 2 / 3),
  }, { from: '2024-03-05', to: '2024-03-20' });
  const rows = await kpi(['sales.units', 'sales.revenue', 'sales.referral_share'], { from: '2024-02-01', to: '2024-05-31' }, 'month');
  const want = { '2024-02': [0, 0, null], '2024-03': [4, 690200.5, 0.5], '2024-04': [1, 145000, 1], '2024-05': [1, 150000, 0] };
  for (const [month, [units, revenue, share]] of Object.entries(want)) {
    near(rows[month]['sales.units'], units, `${month} units`);
    near(rows[month]['sales.revenue'], revenue, `${month} revenue`);
    near(rows[month]['sales.referral_share'], share, `${month} referral share`);
  }
  // every sale counts, a vehicle sold again too: V19 was sold by N1 (2021, 2024) and S2 (2023);
  // all 18 sales of the file: S1 D1..D6, S2 D1..D4, N1 D1..D8
  await checkAll({ 'sales.units': row(6, 4, 8, 0, 10, 8, 18) }, { from: '2021-01-01', to: '2024-12-31' });
});

// Staff (staff.csv); in post on d: hired_on empty or <= d, and left_on empty or > d.
//   S1: T1, A1 (2018, 2019), T2 (left 2024-03-15, mid-March), P1 (hired 2024-03-10)
//   S2: T1, A1, T2 (hired_on empty, left 2024-03-31: on `to`, so not in post on it)
//   N1: T1, A1, A2 (left 2024-02-10), A3 (left 2024-03-01: on `from`, so not in post on it)
//   N2: A1 (hired 2024-01-01), O1 (hired 2024-03-31: in post on `to`), O2 (hired 2024-04-01)
test('staff: headcount on the period end and turnover, March', async () => {
  await checkAll({
    // on 03-31: S1 T1, A1, P1; S2 T1, A1; N1 T1, A1; N2 A1, O1
    'staff.headcount': row(3, 2, 2, 2, 5, 4, 9),
    // leavers / mean of in post on 03-01 and 03-31: S1 1 / ((3 + 3) / 2); S2 1 / ((3 + 2) / 2);
    // N1 A3 1 / ((2 + 2) / 2); N2 0 / ((1 + 2) / 2); regions and group sum leavers and means
    'staff.turnover': row(1 / 3, 1 / 2.5, 1 / 2, 0, 2 / 5.5, 1 / 3.5, 3 / 9),
  });
});

test('staff: by month, over two months, and a year nobody was in post', async () => {
  const rows = await kpi(['staff.headcount', 'staff.turnover'], { from: '2024-02-01', to: '2024-03-31' }, 'month');
  // February: in post on 02-01 S1 3, S2 3, N1 4 (A2 still), N2 1 = 11; on 02-29 10 (A2 left 02-10)
  near(rows['2024-02']['staff.headcount'], 10, 'Feb headcount');
  near(rows['2024-02']['staff.turnover'], 1 / 10.5, 'Feb turnover');
  near(rows['2024-03']['staff.headcount'], 9, 'Mar headcount');
  near(rows['2024-03']['staff.turnover'], 1 / 3, 'Mar turnover');
  // February and March as one period: leavers A2, A3, S1-T2, S2-T2; in post 11 on 02-01 and 9 on 03-31
  await checkAll({
    'staff.headcount': row(3, 2, 2, 2, 5, 4, 9),
    'staff.turnover': row(1 / 3, 1 / 2.5, 2 / 3, 0, 2 / 5.5, 2 / 4.5, 4 / 10),
  }, { from: '2024-02-01', to: '2024-03-31' });
  // 2017: only S2-T2 (hired_on empty) was in post; elsewhere the denominator is 0: null
  await checkAll({
    'staff.headcount': row(0, 1, 0, 0, 1, 0, 1),
    'staff.turnover': row(null, 0, null, null, 0, null, 0),
  }, { from: '2017-01-01', to: '2017-12-31' });
});

// Surveys dated in March: S1 R1 (10, 10, 10, 10, 10), R2 (8, 6, 7, 9, 5: unequal dimensions),
// R7 (6, 6, 6, 6, 6); N1 R1 (9 each). S2's survey is dated 04-01 (5 each).
const DIMENSIONS = ['csi.reliability', 'csi.responsiveness', 'csi.assurance', 'csi.empathy', 'csi.tangibles'];
const WEIGHTS = [0.32, 0.22, 0.19, 0.16, 0.11];

test('csi: the five SERVQUAL dimensions, pooled over the surveys of the period', async () => {
  await checkAll({
    // S1 (10 + 8 + 6) / 3; group adds N1's 9 to the pooled sum: (24 + 9) / 4
    'csi.reliability': row(8, null, 9, null, 8, 9, 33 / 4),
    'csi.responsiveness': row(22 / 3, null, 9, null, 22 / 3, 9, 31 / 4),
    'csi.assurance': row(23 / 3, null, 9, null, 23 / 3, 9, 32 / 4),
    'csi.empathy': row(25 / 3, null, 9, null, 25 / 3, 9, 34 / 4),
    'csi.tangibles': row(7, null, 9, null, 7, 9, 30 / 4),
  });
  // the weighted dimensions are csi.score on every row that has surveys
  const rows = await allLevels(['csi.score', ...DIMENSIONS]);
  for (const key of KEYS) {
    const v = rows[key];
    if (v['csi.score'] === null) {
      for (const id of DIMENSIONS) assert.equal(v[id], null, `${id} at ${key} without surveys`);
      continue;
    }
    near(DIMENSIONS.reduce((a, id, i) => a + WEIGHTS[i] * v[id], 0), v['csi.score'], `weighted dimensions at ${key}`);
  }
  const months = await kpi(DIMENSIONS, { from: '2024-02-01', to: '2024-04-30' }, 'month');
  for (const id of DIMENSIONS) near(months['2024-02'][id], null, `${id} in February (no survey)`);
  near(months['2024-03']['csi.tangibles'], 30 / 4, 'tangibles in March');
  for (const id of DIMENSIONS) near(months['2024-04'][id], 5, `${id} in April (S2's survey)`);
});

// --- a correction re-imported ---

test('an open RO closed by a re-import starts to count', async () => {
  // S1-R6 (V13, labour 2h 300) closes on 2024-03-29: S1 gets 5 ROs and 4450 revenue, and V13's
  // last visit moves from its sale (warning) to 2024-03-29 (active).
  const dir = tempDir('fs-kpi-');
  const file = join(dir, 'repair_orders.csv');
  writeFileSync(file, 'store_code,ro_no,vin,customer_code,advisor_code,ro_type,payer,opened_at,closed_at\n'
    + 'S1,R6,LFVKP000000000013,C1,A1,maintenance,customer,2024-03-28 09:00,2024-03-29 17:00\n');
  const r = await fx.server.cli(['import', 'repair_orders', file]);
  rmSync(dir, { recursive: true, force: true });
  assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
  await checkAll({
    'service.ro_count': { S1: 5, group: 10 },
    'service.revenue': { S1: 4450, group: 7400 },
    'labour.sold_hours': { S1: 13 },
    'retention.warning': { S1: 0, group: 1 },
    'retention.base': { S1: 9 },
  });
});

test('receivables at month ends follow imports of payments, repair orders and invoices', async () => {
  const dir = tempDir('fs-kpi-');
  const load = async (entity, csv) => {
    const file = join(dir, `${entity}.csv`);
    writeFileSync(file, csv);
    const r = await fx.server.cli(['import', entity, file]);
    assert.equal(r.code, 0, `${entity}: ${r.stdout}\n${r.stderr}`);
  };
  try {
    // S1 C2 pays 500 of I2 on 03-15: as of 03-31 S1 owes 4100, of which 2000 + 1200 aged over 90
    await load('payments', 'store_code,payment_no,invoice_no,paid_on,amount\nS1,Y5,I2,2024-03-15,500\n');
    await checkAll({
      'receivables.open': { S1: 4100, group: 5900 },
      'receivables.age_91_180': { S1: 2000 },
      'receivables.over_90_share': { S1: 3200 / 4100 },
      'receivables.overdue': { S1: 1700 },
    });
    // S2 C2 (government, owes 1000 on J3) has an RO closed 03-20 worth 1200 with no cost: its
    // limit is 1200 and it is no longer over (S2: only C1)
    await load('repair_orders', 'store_code,ro_no,vin,customer_code,advisor_code,ro_type,payer,opened_at,closed_at,other_amount\n'
      + 'S2,R20,LFVKP000000000099,C2,A1,repair,customer,2024-03-20 09:00,2024-03-20 12:00,1200\n');
    await checkAll({ 'receivables.over_limit_accounts': { S2: 1, group: 3 } });
    // an S2 invoice of June takes the month ends to 2024-06-30 for every store. As of 05-31:
    // S1 I1 1000 - 400 - 100 = 500, I2 1500, I4 500, I5 1200, I6 999, I7 300: 4999;
    // S2 J1 500, J2 300, J3 1000: 1800 (J4 issued in June)
    await load('invoices', 'store_code,invoice_no,customer_code,issued_on,due_on,amount,ro_no,deal_no\n'
      + 'S2,J4,C1,2024-06-10,,100,,\n');
    await checkAll({ 'receivables.open': { S1: 4999, S2: 1800, group: 6799 } }, { from: '2024-05-01', to: '2024-05-31' });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
