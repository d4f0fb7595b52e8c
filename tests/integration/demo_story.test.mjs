// demo_story: the demo group tells a story a 4S manager believes. A small
// demo (8 stores, 3 years to June 2026; seeds 1 and 7, or the seeds of
// FOURSCORE_DEMO_STORY_SEEDS, comma-separated) is loaded through the real
// importer into a private server, and its figures over two 12-month windows
// (the last 12 months and the 12 before) are read from GET /api/v1/kpi, by
// store and for the group, and checked against the ranges of Chinese 4S
// practice (docs/kpis.md has each formula):
//
//   repair-to-premium 0.6-1.0 at every store (the weak-renewal store lower),
//   churn y1 2-7 %, y2 5-10 %, y3 8-15 % (the weak-churn store clearly above),
//   first-service rate 85-97 % with some stores under 95 %, over-90-day
//   receivables 5-25 % of open (the weak-receivables store far above), dead
//   debt at a few stores only, 0-5 accounts over their credit limit at most
//   stores, 1.5-2.5 sold hours per RO, labour share 25-40 % (the weak-labour
//   store clearly below), parts margins at least 4 points apart across the
//   stores, materials cost 15-21 % of bodywork revenue, technician efficiency
//   95-120 %, referral share of new-vehicle sales 10-40 %, staff turnover
//   5-30 % a year; stores differ (materials, efficiency, personnel cost,
//   follow-up rate), and each planted weak store is the worst of the group on
//   its measure (README.md's table).
//
// A range the story allows one weak store to miss is checked on the group
// without that store (the API's `stores=` filter). The cohort KPIs of the
// earlier window leave out churn y3 (its cohort was sold before the data
// begins). Referral share and staff turnover are computed here by plain SQL
// over the loaded tables (mariadb client on the server's socket), exactly as
// docs/kpis.md defines sales.referral_share (sales with `referral` / sales by
// `sold_on` in the period) and staff.turnover (leavers with `left_on` in the
// period / the mean of the staff in post on `from` and on `to`), and the
// group's figures of those two KPIs in the API must be the same.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { run, startServer, tempDir } from './lib.mjs';

const SEEDS = (process.env.FOURSCORE_DEMO_STORY_SEEDS || '1,7').split(',').map((x) => x.trim()).filter(Boolean);
const STORES = 8, YEARS = 3, END = '2026-06';
const WINDOWS = [
  { name: 'the last 12 months', from: '2025-07-01', to: '2026-06-30', cohorts: ['y1', 'y2', 'y3'] },
  { name: 'the 12 months before', from: '2024-07-01', to: '2025-06-30', cohorts: ['y1', 'y2'] },
];
const IDS = ['insurance.repair_to_premium', 'insurance.renewal_rate', 'retention.churn_y1', 'retention.churn_y2',
  'retention.churn_y3', 'retention.first_service_rate', 'receivables.open', 'receivables.over_90_share',
  'receivables.age_over_365', 'receivables.over_limit_accounts', 'labour.hours_per_ro', 'labour.share',
  'labour.tech_efficiency', 'parts.gross_margin', 'parts.materials_cost_ratio', 'parts.slow_moving_share',
  'service.personnel_cost_ratio', 'service.followup_rate', 'service.ro_count', 'sales.referral_share', 'staff.turnover'];

const pct = (x) => (x === null || x === undefined ? String(x) : `${(100 * x).toFixed(1)} %`);

// Load the demo of one seed and start a server on it; the weak stores from
// the story the CLI prints ("weak labour_share: SH002 ...").
async function loadDemo(seed) {
  const dataDir = tempDir(`fs-story-${seed}-`);
  const load = await run(['demo', '--stores', String(STORES), '--years', String(YEARS), '--end', END, '--seed', seed],
    { dataDir, timeoutMs: 600000 });
  assert.equal(load.code, 0, load.stderr);
  const weak = {};
  for (const m of load.stderr.matchAll(/weak (\w+): (\w+)/g)) weak[m[1]] = m[2];
  assert.deepEqual(Object.keys(weak).sort(), ['churn', 'labour_share', 'receivables', 'renewal', 'slow_parts'],
    `the story names the five weak stores:\n${load.stderr}`);
  const server = await startServer({ dataDir });
  const cookie = await server.login('exec', 'demo1234');
  const sql = (text) => execFileSync('mariadb', ['--no-defaults', `--socket=${dataDir}/mysqld.sock`, '-uroot', '-N', '-B',
    'fourscore', '-e', text], { encoding: 'utf8' }).trim();
  const kpi = async (w, by, stores) => {
    const q = `ids=${IDS.join(',')}&from=${w.from}&to=${w.to}&by=${by}${stores ? `&stores=${stores.join(',')}` : ''}`;
    const r = await server.request('GET', `/api/v1/kpi?${q}`, { cookie });
    assert.equal(r.status, 200, r.text);
    return r.json.rows;
  };
  const codes = sql('SELECT store_code FROM stores ORDER BY store_code').split('\n');
  assert.equal(codes.length, STORES);
  const windows = [];
  for (const w of WINDOWS) {
    const byStore = Object.fromEntries((await kpi(w, 'store')).map((r) => [r.key, r.values]));
    assert.deepEqual(Object.keys(byStore).sort(), codes, 'a row for every store');
    // the group without one store (the one the story lets miss the range)
    const without = async (store) => (await kpi(w, 'group', codes.filter((c) => c !== store)))[0].values;
    const group = (await kpi(w, 'group'))[0].values;
    windows.push({ ...w, byStore, group, without });
  }
  return { seed, dataDir, server, weak, sql, codes, windows };
}

// Every check of a window: the failures, each naming the figure and its value.
function within(fails, label, v, lo, hi) {
  if (typeof v !== 'number' || !(v >= lo && v <= hi)) fails.push(`${label} = ${typeof v === 'number' ? v.toFixed(4) : v} (want ${lo}..${hi})`);
}

for (const seed of SEEDS) {
  describe(`the demo story, seed ${seed}`, () => {
    let d;
    before(async () => { d = await loadDemo(seed); });
    after(async () => {
      if (!d) return;
      const res = await d.server.stop();
      assert.equal(res.code, 0);
      rmSync(d.dataDir, { recursive: true, force: true });
    });

    test('repair-to-premium 0.6-1.0 at every store, the weak-renewal store lower than all', (t) => {
      // the group's figures, for whoever reads the test's output
      for (const w of d.windows) {
        t.diagnostic(`${w.name} (${w.from} .. ${w.to}), weak ${JSON.stringify(d.weak)}: ` + IDS.map((id) => {
          const v = w.group[id];
          return `${id} ${typeof v === 'number' ? (Math.abs(v) < 10 ? v.toFixed(3) : v.toFixed(0)) : v}`;
        }).join(', '));
      }
      for (const w of d.windows) {
        const fails = [];
        const weak = d.weak.renewal;
        for (const [code, v] of Object.entries(w.byStore)) {
          if (code !== weak) within(fails, `${w.name}: ${code} repair_to_premium`, v['insurance.repair_to_premium'], 0.6, 1.0);
        }
        const others = Math.min(...Object.entries(w.byStore).filter(([c]) => c !== weak).map(([, v]) => v['insurance.repair_to_premium']));
        if (!(w.byStore[weak]['insurance.repair_to_premium'] < others)) fails.push(`${w.name}: ${weak} is not the lowest`);
        const renewal = Object.entries(w.byStore).sort((a, b) => a[1]['insurance.renewal_rate'] - b[1]['insurance.renewal_rate']);
        if (renewal[0][0] !== weak) fails.push(`${w.name}: the lowest renewal rate is ${renewal[0][0]}, not ${weak}`);
        assert.deepEqual(fails, []);
      }
    });

    test('churn y1 2-7 %, y2 5-10 %, y3 8-15 %, the weak-churn store clearly above', async () => {
      const ranges = { y1: [0.02, 0.07], y2: [0.05, 0.10], y3: [0.08, 0.15] };
      for (const w of d.windows) {
        const fails = [];
        const weak = d.weak.churn;
        const rest = await w.without(weak);
        for (const y of w.cohorts) {
          const id = `retention.churn_${y}`;
          within(fails, `${w.name}: group without ${weak} churn_${y}`, rest[id], ...ranges[y]);
          // clearly above: 1.5 times the rest of the group, and above the range's top from year 2 on
          const v = w.byStore[weak][id];
          if (!(v >= 1.5 * rest[id])) fails.push(`${w.name}: ${weak} churn_${y} ${pct(v)} is not clearly above the rest's ${pct(rest[id])}`);
          if (y !== 'y1' && !(v > ranges[y][1])) fails.push(`${w.name}: ${weak} churn_${y} ${pct(v)} is within the range`);
        }
        assert.deepEqual(fails, []);
      }
    });

    test('first-service rate 85-97 %, some stores under 95 %, the weak-churn store lowest', async () => {
      for (const w of d.windows) {
        const fails = [];
        const weak = d.weak.churn;
        // missed first services are part of the weak-churn store's story: the range is the rest's
        within(fails, `${w.name}: group without ${weak} first_service_rate`, (await w.without(weak))['retention.first_service_rate'], 0.85, 0.97);
        const rates = Object.entries(w.byStore).map(([c, v]) => [c, v['retention.first_service_rate']]).sort((a, b) => a[1] - b[1]);
        if (rates.filter(([c, v]) => c !== weak && v < 0.95).length < 2) fails.push(`${w.name}: fewer than two healthy stores under 95 %: ${JSON.stringify(rates)}`);
        if (rates[0][0] !== weak) fails.push(`${w.name}: the lowest first-service rate is ${rates[0][0]}, not ${weak}`);
        assert.deepEqual(fails, []);
      }
    });

    test('receivables: 5-25 % over 90 days, the weak store far above; dead debt at a few stores; 0-5 accounts over limit at most', async () => {
      for (const w of d.windows) {
        const fails = [];
        const weak = d.weak.receivables;
        const rest = await w.without(weak);
        within(fails, `${w.name}: group without ${weak} over_90_share`, rest['receivables.over_90_share'], 0.05, 0.25);
        const weakShare = w.byStore[weak]['receivables.over_90_share'];
        if (!(weakShare >= 0.4 && weakShare >= 2 * rest['receivables.over_90_share'])) fails.push(`${w.name}: ${weak} over 90 days ${pct(weakShare)} is not far above`);
        const healthy = Object.entries(w.byStore).filter(([c]) => c !== weak);
        const dead = healthy.filter(([, v]) => v['receivables.age_over_365'] > 0).map(([c]) => c);
        if (dead.length > Math.ceil(healthy.length / 3)) fails.push(`${w.name}: dead debt at ${dead.length} of ${healthy.length} healthy stores (${dead})`);
        if (!(w.byStore[weak]['receivables.age_over_365'] > 0)) fails.push(`${w.name}: the weak receivables store has no dead debt`);
        const overLimit = Object.entries(w.byStore).map(([c, v]) => [c, v['receivables.over_limit_accounts']]);
        const many = overLimit.filter(([, n]) => n > 5);
        if (many.length > Math.floor(STORES / 4)) fails.push(`${w.name}: more than 5 accounts over limit at ${many.length} stores: ${JSON.stringify(overLimit)}`);
        const ranked = Object.entries(w.byStore).sort((a, b) => b[1]['receivables.over_90_share'] - a[1]['receivables.over_90_share']);
        if (ranked[0][0] !== weak) fails.push(`${w.name}: the highest over-90 share is ${ranked[0][0]}, not ${weak}`);
        assert.deepEqual(fails, []);
      }
    });

    test('workshop: 1.5-2.5 hours per RO, labour share 25-40 % (the weak store clearly below), efficiency 95-120 %, materials 15-21 %', async () => {
      for (const w of d.windows) {
        const fails = [];
        const weak = d.weak.labour_share;
        const rest = await w.without(weak);
        within(fails, `${w.name}: group hours_per_ro`, w.group['labour.hours_per_ro'], 1.5, 2.5);
        within(fails, `${w.name}: group without ${weak} labour.share`, rest['labour.share'], 0.25, 0.40);
        const weakShare = w.byStore[weak]['labour.share'];
        const next = Math.min(...Object.entries(w.byStore).filter(([c]) => c !== weak).map(([, v]) => v['labour.share']));
        if (!(weakShare < 0.25 && weakShare < next - 0.05)) fails.push(`${w.name}: ${weak} labour share ${pct(weakShare)} is not clearly below the next lowest ${pct(next)}`);
        within(fails, `${w.name}: group tech_efficiency`, w.group['labour.tech_efficiency'], 0.95, 1.20);
        within(fails, `${w.name}: group materials_cost_ratio`, w.group['parts.materials_cost_ratio'], 0.15, 0.21);
        assert.deepEqual(fails, []);
      }
    });

    test('stores differ as brands and sizes do: parts margins 4+ points apart, and materials, efficiency, personnel cost, follow-up', () => {
      for (const w of d.windows) {
        const fails = [];
        const spread = (id) => {
          const vs = Object.values(w.byStore).map((v) => v[id]);
          return Math.max(...vs) - Math.min(...vs);
        };
        // parts margin by brand list and local pricing; the others are each store's own way of working
        for (const [id, least] of [['parts.gross_margin', 0.04], ['parts.materials_cost_ratio', 0.015], ['labour.tech_efficiency', 0.04],
          ['service.personnel_cost_ratio', 0.01], ['service.followup_rate', 0.08]]) {
          const s = spread(id);
          if (!(s >= least)) fails.push(`${w.name}: ${id} spans ${pct(s)} across the stores (want at least ${pct(least)})`);
        }
        // every store's materials and efficiency stay believable even so
        for (const [code, v] of Object.entries(w.byStore)) {
          within(fails, `${w.name}: ${code} materials_cost_ratio`, v['parts.materials_cost_ratio'], 0.14, 0.22);
          within(fails, `${w.name}: ${code} tech_efficiency`, v['labour.tech_efficiency'], 0.93, 1.22);
        }
        assert.deepEqual(fails, []);
      }
    });

    test('slow-moving parts: the weak parts store has the highest share', () => {
      for (const w of d.windows) {
        const ranked = Object.entries(w.byStore).sort((a, b) => b[1]['parts.slow_moving_share'] - a[1]['parts.slow_moving_share']);
        assert.equal(ranked[0][0], d.weak.slow_parts, `${w.name}: ${JSON.stringify(ranked.map(([c, v]) => [c, v['parts.slow_moving_share']]))}`);
      }
    });

    test('referral share 10-40 % and staff turnover 5-30 % a year (plain SQL as docs/kpis.md defines them)', () => {
      for (const w of d.windows) {
        const fails = [];
        // sales.referral_share: sales with referral (empty is false) / sales, by sold_on in the period
        const [refs, sales] = d.sql(`SELECT SUM(COALESCE(referral, 0)), COUNT(*) FROM vehicle_sales
          WHERE sold_on BETWEEN '${w.from}' AND '${w.to}'`).split('\t').map(Number);
        assert.ok(sales > 0, 'the window has sales');
        within(fails, `${w.name}: referral share (${refs}/${sales})`, refs / sales, 0.10, 0.40);
        if (!(Math.abs(w.group['sales.referral_share'] - refs / sales) < 1e-9)) fails.push(`${w.name}: the API's sales.referral_share ${w.group['sales.referral_share']} is not ${refs}/${sales}`);
        // staff.turnover: leavers with left_on in the period / mean of the staff in post on from and on to
        const inPost = (day) => `(hired_on IS NULL OR hired_on <= '${day}') AND (left_on IS NULL OR left_on > '${day}')`;
        const [left, atFrom, atTo] = d.sql(`SELECT (SELECT COUNT(*) FROM staff WHERE left_on BETWEEN '${w.from}' AND '${w.to}'),
          (SELECT COUNT(*) FROM staff WHERE ${inPost(w.from)}), (SELECT COUNT(*) FROM staff WHERE ${inPost(w.to)})`).split('\t').map(Number);
        assert.ok(atFrom > 0 && atTo > 0, 'staff in post');
        const turnover = left / ((atFrom + atTo) / 2);
        within(fails, `${w.name}: staff turnover (${left} / mean(${atFrom}, ${atTo}))`, turnover, 0.05, 0.30);
        if (!(Math.abs(w.group['staff.turnover'] - turnover) < 1e-9)) fails.push(`${w.name}: the API's staff.turnover ${w.group['staff.turnover']} is not ${turnover}`);
        // each store's referral share differs: the best at least 8 points above the worst
        const perStore = d.sql(`SELECT store_code, SUM(COALESCE(referral, 0)) / COUNT(*) FROM vehicle_sales
          WHERE sold_on BETWEEN '${w.from}' AND '${w.to}' GROUP BY store_code`).split('\n').map((l) => Number(l.split('\t')[1]));
        if (!(Math.max(...perStore) - Math.min(...perStore) >= 0.08)) fails.push(`${w.name}: referral shares by store ${perStore} hardly differ`);
        assert.deepEqual(fails, []);
      }
    });
  });
}
