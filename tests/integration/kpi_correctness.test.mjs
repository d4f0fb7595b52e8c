// kpi_correctness: every KPI of docs/kpis.md on the hand-made fixture of
// tests/fixtures/kpi/, loaded through the real importer (`fourscore import`)
// into a fresh local database, asked of the real engine over HTTP
// (GET /api/v1/kpi) per store, per region and for the group. Every expected
// value below is worked out by hand from the fixture in the comment next to
// it; none is read back from the program.
//
// The fixture: regions SOUTH (stores S1, S2) and NORTH (N1, N2; N2 opened
// with no data at all). The main period is March 2024 (31 days), so as-of
// KPIs are taken at 2024-03-31; to - 3/6/9/12/24/36 months = 2023-12-31,
// 2023-09-30, 2023-06-30 (clamped), 2023-03-31, 2022-03-31, 2021-03-31.
// VIN n below means LFVKP0000000000nn.
//
// Repair orders closed in March (closed, not internal):
//   S1-R1  V1  maintenance  labour 2h (clocked 1.5) 400, part 2x100 (cost 60) from stock
//          revenue 600, cost 120, GP 480; appointment kept; reached call +3 days
//   S1-R2  V2  repair  labour 3h (3) 600, part 1x500 (cost 300) not from stock,
//          accessory 1x200 (cost 100), other 50, discount 100
//          revenue 600+500+200+50-100 = 1250, cost 400, GP 850; appointment not kept;
//          reached call +4 days with complaint
//   S1-R3  V5  bodywork, payer insurer PICC  labour 5h (no clock) 1000, part 2x400
//          (cost 250, from_stock empty = 1), material 1x300 (cost 180)
//          revenue 2100, cost 680, GP 1420; call not reached
//   S1-R4  V2  repair, comeback of R2, closed 2024-03-31 23:59  labour 1h (2) 200
//          revenue 200, GP 200; reached call 2024-04-02 (+2 days)
//   S2-R1  V16 maintenance  labour 1h (1) 200, part 1x100 (cost 50): revenue 300, GP 250
//   S2-R2  V7  bodywork, payer insurer CPIC  labour 4h (4) 800, material 2x100
//          (cost 60), part 1x600 (cost 400) not from stock: revenue 1600, cost 520, GP 1080
//   S2-R3  V8  warranty  labour 2h (2.5) 300: revenue 300
//   S2-R8  V7  maintenance, payer internal (payer never excludes)  labour 1h (1) 100
//   N1-R1  V18 repair  labour 2h (no clock) 500, part 1x200 (cost 100), discount 50:
//          revenue 650, GP 550
// Not counted: S1-R5 (internal PDI, with a kept appointment, a complaint call
// and lines), S1-R6 (open), S1-R7 (closed 2024-02-20: revenue 300, part cost 70),
// S1-R8 (closed 2024-04-01 00:30: labour 150), and older ROs that only matter
// for retention and credit limits. A block of ROs in June 2021 (accessory lines,
// a bodywork RO paid by its customer, an insurer-paid repair that is no bodywork)
// is described with its test below; so are the sales with their referrals, the
// staff who joined and left around March 2024, and the surveys' dimensions.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fx, loadKpiFixture, kpi, allLevels, near, checkAll, row, withSettings, DEFAULT_SETTINGS, KEYS, MARCH, DAYS } from './kpi_fixture.mjs';

loadKpiFixture();

test('catalogue: every KPI of the spec is registered with its settings in force', async () => {
  const r = await fx.server.request('GET', '/api/v1/kpis', { cookie: fx.cookie });
  assert.equal(r.status, 200, r.text);
  const list = Array.isArray(r.json) ? r.json : r.json.kpis;
  const ids = new Set(list.map((k) => k.id));
  const wanted = [
    'service.ro_count', 'service.revenue', 'service.revenue_per_ro', 'service.gross_profit', 'service.comeback_rate',
    'service.absorption', 'service.personnel_cost_ratio', 'service.appointment_rate', 'service.followup_rate',
    'service.complaint_rate', 'labour.revenue', 'labour.sold_hours', 'labour.effective_rate', 'labour.share',
    'labour.tech_efficiency', 'labour.hours_per_ro', 'parts.revenue', 'parts.gross_margin', 'parts.fill_rate',
    'parts.stock_value', 'parts.turnover', 'parts.slow_moving_share', 'parts.obsolete_share',
    'parts.materials_cost_ratio', 'parts.accessory_revenue', 'insurance.premium', 'insurance.new_penetration',
    'insurance.renewal_rate', 'insurance.accident_revenue', 'insurance.repair_to_premium', 'insurance.insurer_share',
    'receivables.open', 'receivables.age_0_30', 'receivables.age_31_60', 'receivables.age_61_90',
    'receivables.age_91_180', 'receivables.age_181_365', 'receivables.age_over_365', 'receivables.over_90_share',
    'receivables.overdue', 'receivables.dso', 'receivables.over_limit_accounts', 'retention.base',
    'retention.at_risk', 'retention.warning', 'retention.lost', 'retention.churn_y1', 'retention.churn_y2',
    'retention.churn_y3', 'retention.first_service_rate', 'csi.score', 'csi.responses',
    'service.mech_ro_count', 'service.body_ro_count', 'service.turnaround_hours', 'parts.accessory_margin',
    'insurance.accident_share', 'sales.units', 'sales.revenue', 'sales.referral_share', 'staff.headcount',
    'staff.turnover', 'csi.reliability', 'csi.responsiveness', 'csi.assurance', 'csi.empathy', 'csi.tangibles',
    'service.comebacks', 'service.complaints', 'retention.first_service_pending', 'retention.maintenance_due',
    'insurance.renewals_due'];
  for (const id of wanted) assert.ok(ids.has(id), `catalogue lacks ${id}`);
  const byId = Object.fromEntries(list.map((k) => [k.id, k]));
  assert.equal(byId['service.ro_count'].name.zh, '进厂台次');
  assert.equal(byId['labour.share'].target, 0.3);
  assert.deepEqual(byId['service.personnel_cost_ratio'].target, { low: 0.1, high: 0.12 });
  assert.ok(byId['insurance.renewal_rate'].by.includes('insurer'));
  assert.ok(!byId['insurance.new_penetration'].by.includes('insurer'));
  // the new KPIs: their plugins, units, directions and `by`
  const expect = {
    'service.mech_ro_count': ['service', 'count', 'higher'], 'service.body_ro_count': ['service', 'count', 'higher'],
    'service.turnaround_hours': ['service', 'h', 'lower'], 'parts.accessory_margin': ['parts', 'ratio', 'higher'],
    'insurance.accident_share': ['insurance', 'ratio', 'higher'], 'sales.units': ['sales', 'count', 'higher'],
    'sales.revenue': ['sales', 'CNY', 'higher'], 'sales.referral_share': ['sales', 'ratio', 'higher'],
    'staff.headcount': ['staff', 'count', 'none'], 'staff.turnover': ['staff', 'ratio', 'lower'],
    'csi.reliability': ['csi', 'score', 'higher'], 'csi.responsiveness': ['csi', 'score', 'higher'],
    'csi.assurance': ['csi', 'score', 'higher'], 'csi.empathy': ['csi', 'score', 'higher'],
    'csi.tangibles': ['csi', 'score', 'higher'],
    'service.comebacks': ['service', 'count', 'lower'], 'service.complaints': ['service', 'count', 'lower'],
    'retention.first_service_pending': ['retention', 'count', 'none'],
    'retention.maintenance_due': ['retention', 'count', 'none'], 'insurance.renewals_due': ['insurance', 'count', 'none'],
  };
  for (const [id, [plugin, unit, direction]] of Object.entries(expect)) {
    const k = byId[id];
    assert.deepEqual([k.plugin, k.unit, k.direction, k.target], [plugin, unit, direction, null], id);
    assert.deepEqual([...k.by].sort(), ['group', 'month', 'region', 'store'], `${id} by`);
  }
  assert.equal(byId['service.body_ro_count'].name.zh, '钣喷进厂台次');
  assert.equal(byId['sales.referral_share'].name.zh, '转介绍率');
  assert.equal(byId['csi.assurance'].name.zh, '安全性');
});

// --- service ---

test('service: closed non-internal ROs of March per store, region and group', async () => {
  await checkAll({
    // S1: R1..R4 (R5 internal, R6 open, R7 February, R8 April excluded); S2: R1, R2, R3, R8; N1: R1
    'service.ro_count': row(4, 4, 1, 0, 8, 1, 9),
    // S1 600+1250+2100+200 = 4150 (R2 with other +50 and discount -100); S2 300+1600+300+100 = 2300;
    // N1 500+200-50 = 650
    'service.revenue': row(4150, 2300, 650, 0, 6450, 650, 7100),
    // revenue / ROs; N2 has no RO: null, never 0
    'service.revenue_per_ro': row(4150 / 4, 2300 / 4, 650, null, 6450 / 8, 650, 7100 / 9),
    // S1 4150 - (120+400+680) = 2950; S2 2300 - (50+520) = 1730; N1 650 - 100 = 550
    'service.gross_profit': row(2950, 1730, 550, 0, 4680, 550, 5230),
    // S1-R4 is the only comeback
    'service.comeback_rate': row(1 / 4, 0, 0, null, 1 / 8, 0, 1 / 9),
    // GP / fixed_expenses of March: S1 2950/2000, S2 1730/2000; N1 has no March
    // financials (only February) and N2 none: null, left out of region and group
    'service.absorption': row(2950 / 2000, 1730 / 2000, null, null, 4680 / 4000, null, 4680 / 4000),
    // personnel cost / revenue: S1 400/4150, S2 300/2300; group leaves N1's revenue out
    'service.personnel_cost_ratio': row(400 / 4150, 300 / 2300, null, null, 700 / 6450, null, 700 / 6450),
    // S1-R1 kept its appointment (showed); S1-R2's was not kept; S1-R5's is internal; S2-R1's showed is empty
    'service.appointment_rate': row(1 / 4, 0, 0, null, 1 / 8, 0, 1 / 9),
    // reached within 3 days of closing: S1-R1 (+3, inclusive), S1-R4 (closed 03-31 23:59, called 04-02);
    // S1-R2 called +4 days, S1-R3 not reached
    'service.followup_rate': row(2 / 4, 0, 0, null, 2 / 8, 0, 2 / 9),
    // reached calls of the period's ROs: S1-R1, R2 (complaint), R4 -> 1/3; S1-R5's complaint is internal
    'service.complaint_rate': row(1 / 3, null, null, null, 1 / 3, null, 1 / 3),
  });
});

test('service: comebacks and complaints as counts (the numerators of the two rates)', async () => {
  await checkAll({
    // S1-R4 (comeback of S1-R2) is March's only comeback
    'service.comebacks': row(1, 0, 0, 0, 1, 0, 1),
    // the reached calls of March's ROs with a complaint: S1-R2's; S1-R5's complaint is of an internal RO
    'service.complaints': row(1, 0, 0, 0, 1, 0, 1),
  });
  // February: S1-R7 has no comeback and no call
  await checkAll({
    'service.comebacks': row(0, 0, 0, 0, 0, 0, 0),
    'service.complaints': row(0, 0, 0, 0, 0, 0, 0),
  }, { from: '2024-02-01', to: '2024-02-29' });
});

test('service: by month, clipped to the period, with a month without data', async () => {
  const rows = await kpi(['service.ro_count', 'service.revenue', 'service.revenue_per_ro'],
    { from: '2024-02-15', to: '2024-05-10' }, 'month');
  assert.deepEqual(Object.keys(rows).sort(), ['2024-02', '2024-03', '2024-04', '2024-05']);
  // February 15..29: S1-R7 (labour 200 + part 100 = 300)
  near(rows['2024-02']['service.ro_count'], 1, 'Feb ro_count');
  near(rows['2024-02']['service.revenue'], 300, 'Feb revenue');
  near(rows['2024-03']['service.revenue'], 7100, 'Mar revenue');
  // April: S1-R8 closed 2024-04-01 00:30, labour 150
  near(rows['2024-04']['service.ro_count'], 1, 'Apr ro_count');
  near(rows['2024-04']['service.revenue'], 150, 'Apr revenue');
  // May 1..10: nothing: counts 0, ratios null
  near(rows['2024-05']['service.ro_count'], 0, 'May ro_count');
  near(rows['2024-05']['service.revenue'], 0, 'May revenue');
  near(rows['2024-05']['service.revenue_per_ro'], null, 'May revenue_per_ro');
});

test('service: a period of part months and whole months (month sums plus days)', async () => {
  // 2024-02-15..2024-04-10 reads February 15..29 and April 1..10 day by day and
  // March from the month sums: S1 = R7 300 + March 4150 + R8 150 = 4600 in 6 ROs;
  // S2 = March 2300 in 4 ROs (R8's payer is internal, which never excludes); N1 = 650.
  // Labour: S1 March 400 + 600 + 1000 + 200, R7 200, R8 150; S2 200 + 800 + 300 + 100; N1 500
  await checkAll({
    'service.revenue': { S1: 4600, S2: 2300, N1: 650, SOUTH: 6900, group: 7550 },
    'service.ro_count': { S1: 6, S2: 4, N1: 1, group: 11 },
    'labour.revenue': { S1: 2200 + 200 + 150, S2: 1400, group: 2550 + 1400 + 500 },
  }, { from: '2024-02-15', to: '2024-04-10' });
  // a period inside one month reads days only: March 2..31 leaves nothing out
  // (no RO of the fixture closes on March 1st) and 1..30 leaves out S1-R4 (31st, 200)
  await checkAll({
    'service.revenue': { S1: 4150, group: 7100 },
  }, { from: '2024-03-02', to: '2024-03-31' });
  await checkAll({
    'service.revenue': { S1: 4150 - 200, group: 7100 - 200 },
  }, { from: '2024-03-01', to: '2024-03-30' });
});

test('service: absorption over two months needs both months of financials', async () => {
  // February + March: S1 has both months (fixed 1900 + 2000, personnel 380 + 400);
  // S2 lacks February and N1 lacks March: null. S1 GP = 2950 + (300 - 70) = 3180.
  await checkAll({
    'service.absorption': { S1: 3180 / 3900, S2: null, N1: null, SOUTH: 3180 / 3900, group: 3180 / 3900 },
    'service.personnel_cost_ratio': { S1: 780 / 4450, S2: null, N1: null, group: 780 / 4450 },
  }, { from: '2024-02-01', to: '2024-03-31' });
});

test('service: follow-up window follows service.followup_days', async () => {
  // 4 days: S1-R2 (called +4) counts too -> 3/4
  await withSettings({ 'service.followup_days': 4 }, () => checkAll({
    'service.followup_rate': row(3 / 4, 0, 0, null, 3 / 8, 0, 3 / 9),
  }));
});

// --- labour ---

test('labour: lines of the period ROs', async () => {
  await checkAll({
    // S1 400+600+1000+200; S2 200+800+300+100; N1 500
    'labour.revenue': row(2200, 1400, 500, 0, 3600, 500, 4100),
    // S1 2+3+5+1; S2 1+4+2+1; N1 2
    'labour.sold_hours': row(11, 8, 2, 0, 19, 2, 21),
    'labour.effective_rate': row(200, 175, 250, null, 3600 / 19, 250, 4100 / 21),
    'labour.share': row(2200 / 4150, 1400 / 2300, 500 / 650, null, 3600 / 6450, 500 / 650, 4100 / 7100),
    // lines with clocked hours: S1 R1 (2/1.5), R2 (3/3), R4 (1/2) -> 6/6.5 (R3 has none);
    // S2 (1+4+2+1)/(1+4+2.5+1) = 8/8.5; N1's only line has none: null
    'labour.tech_efficiency': row(6 / 6.5, 8 / 8.5, null, null, 14 / 15, null, 14 / 15),
    'labour.hours_per_ro': row(11 / 4, 8 / 4, 2, null, 19 / 8, 2, 21 / 9),
  });
});

// --- parts ---

test('parts: flow over the period ROs', async () => {
  await checkAll({
    // part lines: S1 200+500+800, S2 100+600, N1 200 (S1-R5 internal and S1-R7 February excluded)
    'parts.revenue': row(1500, 700, 200, 0, 2200, 200, 2400),
    // part cost: S1 120+300+500 = 920, S2 50+400 = 450, N1 100
    'parts.gross_margin': row(580 / 1500, 250 / 700, 0.5, null, 830 / 2200, 0.5, 930 / 2400),
    // from stock: S1 R1 yes, R2 no, R3 empty = yes; S2 R1 yes, R2 no; N1 yes
    'parts.fill_rate': row(2 / 3, 1 / 2, 1, null, 3 / 5, 1, 4 / 6),
    // bodywork ROs: S1-R3 material cost 180 / revenue 2100; S2-R2 120 / 1600; N1 none: null
    'parts.materials_cost_ratio': row(180 / 2100, 120 / 1600, null, null, 300 / 3700, null, 300 / 3700),
    'parts.accessory_revenue': row(200, 0, 0, 0, 200, 0, 200),
  });
});

test('parts: stock as of the period end and its ageing', async () => {
  // Snapshot as of 2024-03-31: S1 2024-03-15 (the 04-05 one is after `to`): A 100 (issued 14 days
  // before), B 100 (182 days: slow), C 100 (never issued, received 371 days before: slow and
  // obsolete), D 100 (no dates: always both), E 100 (issued exactly 180 days before: not slow) = 500.
  // S2 2024-01-31: 300, issued 11 days before. N1 2024-03-31 (on `to`): 8x50 = 400. N2: none: null.
  await checkAll({
    'parts.stock_value': row(500, 300, 400, null, 800, 400, 1200),
    'parts.slow_moving_share': row(300 / 500, 0, 0, null, 300 / 800, 0, 300 / 1200),
    'parts.obsolete_share': row(200 / 500, 0, 0, null, 200 / 800, 0, 200 / 1200),
    // (part cost x 365 / 31) / average stock: S1 one snapshot inside March (500); S2 none inside,
    // so its snapshot as of `to` (300); N1 two inside (200 on 03-01, 400 on 03-31): 300.
    // Region and group: summed annualised cost over summed averages.
    'parts.turnover': row(920 * 365 / DAYS / 500, 450 * 365 / DAYS / 300, 100 * 365 / DAYS / 300, null,
      1370 * 365 / DAYS / 800, 100 * 365 / DAYS / 300, 1470 * 365 / DAYS / 1100),
  });
});

test('parts: the as-of snapshot is the latest on or before `to`', async () => {
  // to = 2024-03-14: S1 takes its 2024-02-29 snapshot (100), N1 its 2024-03-01 one (200)
  await checkAll({ 'parts.stock_value': row(100, 300, 200, null, 400, 200, 600) },
    { from: '2024-03-01', to: '2024-03-14' });
  // by month: February ends 02-29 (S1 100, S2 300, N1 none yet), March 03-31
  const rows = await kpi(['parts.stock_value'], { from: '2024-02-01', to: '2024-03-31' }, 'month');
  near(rows['2024-02']['parts.stock_value'], 400, 'stock value at the end of February');
  near(rows['2024-03']['parts.stock_value'], 1200, 'stock value at the end of March');
});

test('parts: ageing thresholds follow the settings', async () => {
  // slow after 182 days: B (182) is no longer slow -> C + D = 200 of 500
  // obsolete after 371 days: C (371) no longer obsolete -> D = 100 of 500
  await withSettings({ 'parts.slow_moving_days': 182, 'parts.obsolete_days': 371 }, () => checkAll({
    'parts.slow_moving_share': { S1: 200 / 500, S2: 0, group: 200 / 1200 },
    'parts.obsolete_share': { S1: 100 / 500, S2: 0, group: 100 / 1200 },
  }));
});

// --- insurance ---

test('insurance: premium, penetration, renewals, accident repairs', async () => {
  await checkAll({
    // sold in March: S1 P1 5000 (PICC, new) + R2 2500 (PAIC, renewal); S2 R6 1000 (CPIC); N1 P4 3000 (PAIC)
    'insurance.premium': row(7500, 1000, 3000, 0, 8500, 3000, 11500),
    // March sales: S1 V1 (new policy same day: yes), V2 (new policy sold at S2 30 days later: yes);
    // S2 V3 (new policy 31 days later: no); N1 V4 (only a renewal-kind policy: no)
    'insurance.new_penetration': row(1, 0, 0, null, 2 / 3, 0, 2 / 4),
    // ending in March: S1 E1 (renewed at S2, starts 1 day after its end), E2 (renewal starts 30 days
    // after: inside); S2 E3 (31 days after: outside), E4 (starts 30 days before its end: inside);
    // N1 E5 (31 days before: outside)
    'insurance.renewal_rate': row(1, 1 / 2, 0, null, 3 / 4, 0, 3 / 5),
    // payer insurer: S1-R3 2100, S2-R2 1600
    'insurance.accident_revenue': row(2100, 1600, 0, 0, 3700, 0, 3700),
    'insurance.repair_to_premium': row(2100 / 7500, 1600 / 1000, 0, null, 3700 / 8500, 0, 3700 / 11500),
  });
});

test('insurance: renewals due in the notice window, as of `to`', async () => {
  // As of 2024-02-29, policies sold on or before it ending in (02-29, 04-29] (60 days): S1 E1
  // (03-04; S2 R1 starts 03-05, 1 day after its end: renewed), S1 E2 (03-09; S1 R2 starts 04-08,
  // 30 days: renewed, although R2 is sold only on 03-25, as insurance.renewal_rate counts it),
  // S2 E3 (03-14; R3 starts 04-14, 31 days: not renewed -> due), S2 E4 (03-19; R4 starts
  // 2024-02-18, after E4's start and 30 days before its end: renewed), N1 E5 (03-24; R5 starts
  // 02-22, 31 days: due). P1 ends in 2025. So S2 1, N1 1.
  const feb = { from: '2024-02-01', to: '2024-02-29' };
  await checkAll({ 'insurance.renewals_due': row(0, 1, 1, 0, 1, 1, 2) }, feb);
  // a 31-day renewal window renews E3 and E5; a 20-day notice keeps E3 (03-14) and drops E5 (03-24)
  await withSettings({ 'insurance.renewal_window_days': 31 }, () =>
    checkAll({ 'insurance.renewals_due': row(0, 0, 0, 0, 0, 0, 0) }, feb));
  await withSettings({ 'insurance.renewal_notice_days': 20 }, () =>
    checkAll({ 'insurance.renewals_due': row(0, 1, 0, 0, 1, 0, 1) }, feb));
  // As of 2025-02-28 (to + 60 days = 2025-04-29): every policy ending then is the VIN's latest,
  // so none is renewed: S1 P1 (03-01), R2 (04-07); S2 P2 (04-08), P3 (04-04), R1 (03-04), R3
  // (04-13), R6 (03-15); N1 P4 (03-20). R4 (02-17) and R5 (02-21) ended before `to`.
  await checkAll({ 'insurance.renewals_due': row(2, 5, 1, 0, 7, 1, 8) }, { from: '2025-02-01', to: '2025-02-28' });
  // As of 2024-03-31 nothing ends in (03-31, 05-30]
  await checkAll({ 'insurance.renewals_due': row(0, 0, 0, 0, 0, 0, 0) });
});

test('insurance: by insurer', async () => {
  const ids = ['insurance.premium', 'insurance.renewal_rate', 'insurance.accident_revenue',
    'insurance.repair_to_premium', 'insurance.insurer_share'];
  const rows = await kpi(ids, MARCH, 'insurer');
  const want = {
    // premium: PICC P1 5000; CPIC R6 1000; PAIC R2 2500 + P4 3000
    'insurance.premium': { PICC: 5000, CPIC: 1000, PAIC: 5500 },
    // insurer of the expiring policy: PICC E1 yes, E3 no, E5 no; CPIC E2 yes; PAIC E4 yes
    'insurance.renewal_rate': { PICC: 1 / 3, CPIC: 1, PAIC: 1 },
    // the RO's insurer
    'insurance.accident_revenue': { PICC: 2100, CPIC: 1600 },
    'insurance.repair_to_premium': { PICC: 2100 / 5000, CPIC: 1600 / 1000, PAIC: 0 },
    // renewal premium of March 6500: PAIC 2500 + 3000, CPIC 1000, PICC none
    'insurance.insurer_share': { CPIC: 1000 / 6500, PAIC: 5500 / 6500 },
  };
  for (const [id, byIns] of Object.entries(want)) {
    for (const [ins, v] of Object.entries(byIns)) {
      assert.ok(rows[ins], `${id}: no row for insurer ${ins}`);
      near(rows[ins][id], v, `${id} ${ins}`);
    }
  }
  if (rows.PICC) near(rows.PICC['insurance.insurer_share'] ?? 0, 0, 'PICC has no renewal premium');
});

test('insurance: windows follow the settings, both sides of the date', async () => {
  // 31 days: E3 (31 after) and E5 (31 before) are renewed too; V3's policy 31 days after the sale counts
  await withSettings({ 'insurance.renewal_window_days': 31, 'insurance.new_window_days': 31 }, () => checkAll({
    'insurance.renewal_rate': row(1, 1, 1, null, 1, 1, 1),
    'insurance.new_penetration': row(1, 1, 0, null, 1, 0, 3 / 4),
  }));
});

test('insurance: matching searches the whole group while scope filters results', async () => {
  // Only S1 asked: E1 is still renewed by the policy sold at S2, V2's new policy sold at S2 still counts
  const rows = await kpi(['insurance.renewal_rate', 'insurance.new_penetration'], MARCH, 'group', '&stores=S1');
  near(rows.group['insurance.renewal_rate'], 1, 'renewal rate of S1 alone');
  near(rows.group['insurance.new_penetration'], 1, 'new penetration of S1 alone');
});

// --- receivables ---

test('receivables: open amounts and ageing as of 2024-03-31', async () => {
  // S1: I1 1000 issued 03-10, paid 400 on 03-20 (the 100 of 04-05 is after `to`): 600 aged 21;
  //     I2 government 2000 aged 151; I3 fully paid; I4 fleet 800 - 300 = 500 aged 107;
  //     I5 government 1200 aged 212; I6 issued after `to`; I7 300 aged 81.  Open 4600.
  // S2: J1 700 - 200 = 500 aged 396; J2 400 issued on `to`, paid 100 on `to`: 300 aged 0;
  //     J3 government 1000 aged 60.  Open 1800.
  await checkAll({
    'receivables.open': row(4600, 1800, 0, 0, 6400, 0, 6400),
    'receivables.age_0_30': row(600, 300, 0, 0, 900, 0, 900),
    'receivables.age_31_60': row(0, 1000, 0, 0, 1000, 0, 1000),
    'receivables.age_61_90': row(300, 0, 0, 0, 300, 0, 300),
    'receivables.age_91_180': row(2500, 0, 0, 0, 2500, 0, 2500),
    'receivables.age_181_365': row(1200, 0, 0, 0, 1200, 0, 1200),
    'receivables.age_over_365': row(0, 500, 0, 0, 500, 0, 500),
    'receivables.over_90_share': row(3700 / 4600, 500 / 1800, null, null, 4200 / 6400, null, 4200 / 6400),
    // past terms: I4 (107 > 90) and I5 (government, 212 > 180); I2 (government, 151) is within terms;
    // S2 J1 (396)
    'receivables.overdue': row(1700, 500, 0, 0, 2200, 0, 2200),
    // open / (invoiced in March / 31): S1 invoiced I1 1000, S2 J2 400; nothing invoiced: null
    'receivables.dso': row(4600 * DAYS / 1000, 1800 * DAYS / 400, null, null, 6400 * DAYS / 1400, null, 6400 * DAYS / 1400),
    // credit limit = GP of the customer's ROs at the store closed in (2023-09-30, 2024-03-31]:
    // S1 C1 owes 600, limit 480 (R1) + 230 (R7, February) = 710: fine; C2 (government) owes 3200,
    // no ROs, limit 0: over; C3 owes 500, limit 850 + 200: fine; C4 owes 300, limit 200 (R10 closed
    // 2023-10-01; R9 closed 2023-09-30 is outside): over.  S2 C1 owes 800, limit 250: over;
    // C2 owes 1000, limit 0: over.
    'receivables.over_limit_accounts': row(2, 2, 0, 0, 4, 0, 4),
  });
});

test('receivables: terms follow the settings', async () => {
  // government terms 150: I2 (151) is overdue too -> S1 1700 + 2000
  await withSettings({ 'receivables.government_terms_days': 150 }, () => checkAll({
    'receivables.overdue': row(3700, 500, 0, 0, 4200, 0, 4200),
  }));
  // terms 110: I4 (107) is no longer overdue -> S1 1200 (I5), S2 500 (J1)
  await withSettings({ 'receivables.terms_days': 110 }, () => checkAll({
    'receivables.overdue': row(1200, 500, 0, 0, 1700, 0, 1700),
  }));
});

test('receivables: a day that is not a month end is computed from the invoices', async () => {
  // As of 2024-03-30 (the month-end tables of 016 hold month ends only): every age is one day less
  // than on 03-31 and J2 (issued 03-31) is not issued yet.
  // S1: I1 600 aged 20, I2 government 2000 aged 150, I4 500 aged 106, I5 government 1200 aged 211,
  //     I7 300 aged 80: 4600.  S2: J1 500 aged 395, J3 government 1000 aged 59: 1500.
  // Credit limits over (2023-09-30, 2024-03-30]: as on 03-31 (S1 C3's R4 of 03-31 drops out, but
  // R2 alone covers its 500): S1 C2 and C4, S2 C1 and C2 over.
  const period = { from: '2024-03-01', to: '2024-03-30' };
  await checkAll({
    'receivables.open': row(4600, 1500, 0, 0, 6100, 0, 6100),
    'receivables.age_0_30': row(600, 0, 0, 0, 600, 0, 600),
    'receivables.age_31_60': row(0, 1000, 0, 0, 1000, 0, 1000),
    'receivables.age_61_90': row(300, 0, 0, 0, 300, 0, 300),
    'receivables.age_91_180': row(2500, 0, 0, 0, 2500, 0, 2500),
    'receivables.age_181_365': row(1200, 0, 0, 0, 1200, 0, 1200),
    'receivables.age_over_365': row(0, 500, 0, 0, 500, 0, 500),
    'receivables.over_90_share': row(3700 / 4600, 500 / 1500, null, null, 4200 / 6100, null, 4200 / 6100),
    'receivables.overdue': row(1700, 500, 0, 0, 2200, 0, 2200),
    // invoiced 03-01..03-30 (30 days): S1 I1 1000; S2 nothing: null
    'receivables.dso': row(4600 * 30 / 1000, null, null, null, 6100 * 30 / 1000, null, 6100 * 30 / 1000),
    'receivables.over_limit_accounts': row(2, 2, 0, 0, 4, 0, 4),
  }, period);
});

// --- retention ---

// Vehicles as of 2024-03-31 (last visit; store credited):
//   S1: V1 (03-05), V2 (03-31 23:59), V5 (03-15), V14 (02-20) active; V11 (2023-10-01; its
//       2023-09-30 visit is older) at risk; V15 (2023-11-15; its 2024-04-01 visit is after `to`)
//       at risk; V17 (2023-12-20 10:00 at S1 and at S2: tie to S1) at risk; V13 (sold
//       2023-08-15; only an open RO since) warning; V12 (sold 2023-05-10; only an internal RO) lost.
//   S2: V3 (sold 03-05), V7 (03-28), V8 (03-26), V16 (03-03 at S2; also 2024-01-10 at N1) active;
//       V30 (2023-12-31, on to - 3 months) at risk; V22 (2023-07-16) warning; V19 (sold by N1 in
//       2021, visited N1 in 2022, sold again by S2 on 2023-06-01: counts from that sale) lost;
//       V21 (2023-04-01) lost; V23 (sold 2022-09-30, never seen) lost.
//   N1: V4 (sold 03-20), V18 (03-18) active; V24 (2023-10-20), V27 (2023-12-01) at risk;
//       V29 (2022-04-01) lost; V28 (2022-03-31 = to - 24 months) is out of the base;
//       V25, V26 (sold 2021, never seen) out of the base.
test('retention: base and ageing bands', async () => {
  await checkAll({
    'retention.base': row(9, 9, 5, 0, 18, 5, 23),
    'retention.at_risk': row(3, 1, 2, 0, 4, 2, 6),
    'retention.warning': row(1, 1, 0, 0, 2, 0, 2),
    'retention.lost': row(1, 3, 1, 0, 4, 1, 5),
  });
});

test('retention: a day that is not a month end is computed from the vehicles\' states', async () => {
  // As of 2024-03-30 (the month-end counts of 017 hold month ends only): to - 3 months is
  // 2023-12-30, so S2's V30 (2023-12-31) is active, not at risk; to - 24 months is 2022-03-30, so
  // N1's V28 (2022-03-31) is in the base, and lost. V2's 03-31 visit is after `to`, but its 03-10
  // visit keeps it active at S1. Nothing else changes.
  await checkAll({
    'retention.base': row(9, 9, 6, 0, 18, 6, 24),
    'retention.at_risk': row(3, 0, 2, 0, 3, 2, 5),
    'retention.warning': row(1, 1, 0, 0, 2, 0, 2),
    'retention.lost': row(1, 3, 2, 0, 4, 2, 6),
  }, { from: '2024-03-01', to: '2024-03-30' });
});

test('retention: churn cohorts and first service by selling store', async () => {
  await checkAll({
    // sold in (2023-03-31, 2024-03-31]: S1 V1, V2, V12 (lost), V13; S2 V3, V19 (lost); N1 V4, V24
    'retention.churn_y1': row(1 / 4, 1 / 2, 0, null, 2 / 6, 0, 2 / 8),
    // (2022-03-31, 2023-03-31]: S1 V21 (last 2023-04-01: lost); S2 V22 (2023-07-16), V23 (lost);
    // N1 V16 (seen 2024-03-03)
    'retention.churn_y2': row(1, 1 / 2, 0, null, 2 / 3, 0, 2 / 4),
    // (2021-03-31, 2022-03-31]: N1 V25 (never seen: lost), V27 (2023-12-01); V26 sold on the
    // boundary is out; V19's 2021 sale is not its latest
    'retention.churn_y3': row(null, null, 1 / 2, null, null, 1 / 2, 1 / 2),
    // sold in (2022-09-30, 2023-09-30]: S1 V12 (internal RO only: no), V13 (open RO only: no),
    // V21 (served at S2 on sold_on + 6 months exactly: yes); S2 V19 (no), V22 (served 6 months
    // + 1 day after: no); V23 sold on the boundary is out; N1 V24 (yes)
    'retention.first_service_rate': row(1 / 3, 0, 1, null, 1 / 5, 1, 2 / 6),
  });
});

test('retention: first services pending and maintenance due, as of `to`', async () => {
  // Pending as of 2024-03-31: latest sale in (2023-09-30, 2024-03-31] and no visit since by `to`:
  // S1 V1 (sold 03-02, R1 on 03-05) and V2 (sold 03-10, R2 closed that day: a visit on the sale day
  // counts) have visited; S2 V3 (sold 03-05) and N1 V4 (sold 03-20) have not. N1 V24's sale on
  // 2023-09-30 is on to - 6 months: out. Credited to the selling store.
  // Maintenance due: base vehicles seen since their latest sale whose last visit + 6 months is in
  // (03-31, 04-30], i.e. last visit in [2023-10-01, 2023-10-31]: S1 V11 (2023-10-01, due 04-01),
  // N1 V24 (2023-10-20, due 04-20). Credited to the store of the last visit.
  await checkAll({
    'retention.first_service_pending': row(0, 1, 1, 0, 1, 1, 2),
    'retention.maintenance_due': row(1, 0, 1, 0, 1, 1, 2),
  });
  // As of 2024-03-15 (not a month end): V4 is not sold yet, so only S2 V3 is pending; due means
  // last visit in [2023-09-16, 2023-10-14]: S1 V11 alone (V24's 10-20 is after).
  await checkAll({
    'retention.first_service_pending': row(0, 1, 0, 0, 1, 0, 1),
    'retention.maintenance_due': row(1, 0, 0, 0, 1, 0, 1),
  }, { from: '2024-03-01', to: '2024-03-15' });
  // As of 2024-01-31 S1 V13's sale (2023-08-15) + 6 months = 2024-02-15 is inside the notice
  // window, but V13 has not visited since its sale (only an open RO): not due; no vehicle was last
  // seen in [2023-08-01, 2023-09-01] (+ 6 months in (01-31, 03-01]). Pending (sold in
  // (2023-07-31, 2024-01-31], unseen): S1 V13; N1 V24 was seen on 2023-10-20.
  await checkAll({
    'retention.first_service_pending': row(1, 0, 0, 0, 1, 0, 1),
    'retention.maintenance_due': row(0, 0, 0, 0, 0, 0, 0),
  }, { from: '2024-01-01', to: '2024-01-31' });
  // a 5-month interval: last visit in [2023-11-01, 2023-11-30]: S1 V15 (11-15); a 60-day notice
  // with 6 months: last visit in [2023-10-01, 2023-11-30]: S1 V11, V15; N1 V24.
  await withSettings({ 'retention.maintenance_interval_months': 5 }, () =>
    checkAll({ 'retention.maintenance_due': row(1, 0, 0, 0, 1, 0, 1) }));
  await withSettings({ 'retention.maintenance_notice_days': 60 }, () =>
    checkAll({ 'retention.maintenance_due': row(2, 0, 1, 0, 2, 1, 3) }));
  // first service within 7 months: sold in (2023-08-31, 2024-03-31]: the same two (V13's
  // 2023-08-15 is still out)
  await withSettings({ 'retention.first_service_months': 7 }, () =>
    checkAll({ 'retention.first_service_pending': row(0, 1, 1, 0, 1, 1, 2) }));
});

test('retention: months follow the settings', async () => {
  // lost after 12 months (to - 12 = 2023-03-31): S2 V23, N1 V29 lost; warning becomes
  // (2023-03-31, 2023-09-30]: S1 V12, V13; S2 V19, V21, V22; churn y1 has nobody that old
  await withSettings({ 'retention.lost_after_months': 12 }, () => checkAll({
    'retention.lost': row(0, 1, 1, 0, 1, 1, 2),
    'retention.warning': row(2, 3, 0, 0, 5, 0, 5),
    'retention.churn_y1': row(0, 0, 0, null, 0, 0, 0),
  }));
  // first service within 7 months, cohort (2022-08-31, 2023-08-31]: S1 V12, V13, V21 (yes);
  // S2 V19, V22 (seen 6 months + 1 day after: yes now), V23; N1 V24 leaves the cohort
  await withSettings({ 'retention.first_service_months': 7 }, () => checkAll({
    'retention.first_service_rate': row(1 / 3, 1 / 3, null, null, 2 / 6, null, 2 / 6),
  }));
});

// --- csi ---

test('csi: pooled SERVQUAL score of the surveys dated in the period', async () => {
  // S1: R1 all 10 -> 10; R2 0.32*8 + 0.22*6 + 0.19*7 + 0.16*9 + 0.11*5 = 7.2; R7 (February RO,
  // surveyed 03-01) all 6 -> 6; mean 23.2/3. S2's survey is dated 04-01: none. N1: 9.
  await checkAll({
    'csi.score': row(23.2 / 3, null, 9, null, 23.2 / 3, 9, 32.2 / 4),
    'csi.responses': row(3, 0, 1, 0, 3, 1, 4),
  });
});

// --- the whole 4S: 机电 / 钣喷, time in the workshop, accessories, accident share, sales, staff, SERVQUAL ---

// June 2021 is a block of its own (no other RO of the fixture closes in 2021, and nothing of it
// reaches a window of the tests above: its VINs are never sold, their visits are older than
// 24 months before 2024-03-31, and the yearly scorecard compares 2023 with 2024):
//   S2-R9  V31  repair, payer customer, 06-03 08:00 -> 06-04 10:30 (26.5 h)  labour 1h 200,
//          accessory 2x300 (cost 180), accessory 1x100 (cost 100: no margin), part 1x100 (cost 50)
//          revenue 200 + 600 + 100 + 100 = 1000
//   N1-R8  V32  bodywork, payer customer (a bodywork RO no insurer pays), 06-10 08:00 -> 06-12 12:15
//          (52.25 h)  labour 3h 900, material 1x200 (cost 40), accessory 1x500 (cost 200): revenue 1600
//   N1-R9  V33  repair, payer insurer PAIC (accident work that is no bodywork), opened and closed
//          06-20 09:00 (0 h)  labour 1h 300: revenue 300
//   Not counted: N1-R10 (internal, 96 h, accessory 1x1000 cost 100), S1-R13 (open, bodywork, same accessory).
