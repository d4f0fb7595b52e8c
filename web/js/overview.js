// overview: the overview of the caller's scope: the group for an executive,
// their region for a regional manager (titled and totalled by its name);
// ?region=CODE (a row of the region table, or the region filter) narrows it
// to one region. A period that runs past the data (GET /api/v1/freshness)
// is asked for up to where the data stops, marked as incomplete, and
// compared like with like (the previous period and last year cut to the
// same number of days); a period with no data at all is said so, with no
// change against any other. Headline cards (the change against the previous period and
// the same period last year, coloured against the target; each opens its
// domain page for the same period; service revenue and RO count against
// their budgets when the stores have targets for the period; the RO count
// split into mechanical and bodywork ROs), the 12 months
// to the period's end against the year before (with each month's budget
// where the stores have one), the regions (or the stores of one region)
// compared, and the store league table. A region's overview (a regional
// manager's, or one region of the group) sets each headline KPI of the
// region beside the group's median and top quartile of the store values
// (GET /api/v1/benchmarks, asked beside the batch); a volume (revenue, RO
// count) is compared per store of the region, not as the region's total.
// A store manager has no overview: their page is their store. One POST
// /api/v1/kpi/batch per view.
import {
  boot, batch, el, $, kpiName, fmtValue, fmtTarget, targetStatus, change, previousPeriod, lastYear, monthsEnding,
  table, panel, showError, link, currentPeriod, currentRegion, heading, scopeName, storeName, domainOf, lastRole,
  periodGiven, freshness, dataReach, periodState, cutTo, periodNote, storeDataNote, fmtPct, mmdd, benchmarks, benchmarkOf,
} from './core.js';
import { chart, chartBox, figure, frame, kpiSeries } from './charts.js';
import { t, placeName } from './i18n.js';
import { listCounts } from './lists-link.js';

export const HEADLINE = ['service.revenue', 'service.ro_count', 'service.revenue_per_ro', 'labour.share',
  'parts.gross_margin', 'receivables.over_90_share', 'insurance.renewal_rate', 'retention.churn_y1', 'csi.score'];
// The parts a card shows under its value (RO count = mechanical + bodywork ROs): asked for in the same batch, no card of their own.
export const SPLIT = { 'service.ro_count': [['service.mech_ro_count', 'ro_split_mech'], ['service.body_ro_count', 'ro_split_body']] };
const BATCH = [...HEADLINE, ...Object.values(SPLIT).flat().map(([id]) => id)];
// The year's story, month by month: volume as bars, value per RO and labour share as lines.
export const TREND = [['service.revenue', 'bar'], ['service.ro_count', 'bar'], ['service.revenue_per_ro', 'line'], ['labour.share', 'line']];
const TREND_COLOUR = '#1f6feb', BUDGET_COLOUR = '#6e7781';
// A budget KPI's targets month by month (null where a store of the scope has
// none), or null when no month of the answer has one.
function budgetOf(def, answer) {
  if (!def.budget) return null;
  const data = answer.rows.map((r) => (typeof r.targets?.[def.id] === 'number' ? r.targets[def.id] : null));
  return data.some((v) => v !== null) ? data : null;
}

const main = $('#main');
let ctx;

// The view's one batch: the period (up to where the data stops, with its
// targets), the one before and the same one last year (cut to as many days
// as the period has data), the 12 months to the period's end and the same
// months a year before, the period by store and (over the whole scope) by region.
function viewBatch(ids, period, state) {
  const scope = currentRegion ? { regions: [currentRegion] } : {};
  const q = state.query;
  const prev = cutTo(previousPeriod(period), state), yoy = cutTo(lastYear(period), state);
  const months = monthsEnding(period.to, 12);
  const trendIds = TREND.map(([id]) => id).filter((id) => ids.includes(id));
  return batch([
    { ids, from: q.from, to: q.to, by: 'group', ...scope, targets: true },
    { ids, ...prev, by: 'group', ...scope },
    { ids, ...yoy, by: 'group', ...scope },
    { ids: trendIds, ...months, by: 'month', ...scope, targets: true },
    { ids: trendIds, ...lastYear(months), by: 'month', ...scope },
    { ids, from: q.from, to: q.to, by: 'store', ...scope },
    ...(currentRegion ? [] : [{ ids, from: q.from, to: q.to, by: 'region' }]),
  ]);
}

// The first view's batch goes out at once, beside the session and catalogue
// requests and the chart library, rather than after them (the overview is
// the page opened every morning), as soon as the freshness answer says how
// far the data goes. If a headline KPI is missing from the catalogue it
// fails, and render asks again with the ids that exist. A store manager's
// tab asks nothing: the page sends them to their store; nor does an address
// without a period (the default one depends on the data) or with a region.
let early = lastRole() === 'store_manager' || !periodGiven || currentRegion ? null : (() => {
  const period = currentPeriod;
  const state = freshness().then((f) => periodState(period, dataReach(null, f).through, !!f));
  const answers = state.then((st) => viewBatch(BATCH, period, st));
  answers.catch(() => {});             // handled (or replaced) by the first render
  return { period, state, answers };
})();

// The cards that show achievement against the stores' targets (budgets).
const BUDGETED = ['service.revenue', 'service.ro_count'];
// The headline KPIs that add up over stores: a region's total is set against
// the group's store quartiles as the average of its stores.
export const VOLUMES = ['service.revenue', 'service.ro_count'];

// Where a value stands against the group: 'top' (at the top quartile or
// beyond), 'above' (at the median or better), 'below' (worse), or null.
function standing(def, v, b) {
  if (typeof v !== 'number' || !b || (def.direction !== 'higher' && def.direction !== 'lower')) return null;
  const better = (a, c) => (def.direction === 'higher' ? a >= c : a <= c);
  if (b.top !== null && better(v, b.top)) return 'top';
  return better(v, b.median) ? 'above' : 'below';
}

// The region against the group: a row per headline KPI with the region's
// value (a volume also per store), the group median and top quartile, and
// where the region stands; or why there is nothing to set it against.
// stores: the period's answer by store (the stores with a value divide a volume).
function regionBench(ids, g, stores, bench, state, name) {
  const box = el('section', { class: 'panel', id: 'region-bench', dataset: { state: bench.off ? 'off' : 'on' } },
    el('h2', {}, t('benchmark_title')));
  if (bench.off) { box.append(el('p', { class: 'muted', id: 'bench-note' }, t('bench_off'))); return box; }
  const rows = ids.map((id) => {
    const def = ctx.catalogue[id];
    const v = state.empty ? null : g[id] ?? null;
    const b = benchmarkOf(def, bench.values?.[id]);
    const n = stores.rows.filter((r) => typeof r.values[id] === 'number').length;
    const each = VOLUMES.includes(id) && typeof v === 'number' && n ? v / n : null;
    const st = standing(def, each ?? v, b);
    return el('tr', { dataset: { kpi: id, value: v === null ? '' : String(v), perStore: each === null ? '' : String(each),
      median: b ? String(b.median) : '', top: b?.top == null ? '' : String(b.top), standing: st || '' } },
    el('td', {}, kpiName(def)),
    el('td', { class: 'num', dataset: { cell: 'value' } }, fmtValue(v, def.unit),
      each === null ? null : el('small', { class: 'muted per-store' }, ' ', t('bench_per_store', { v: fmtValue(each, def.unit) }))),
    el('td', { class: 'num', dataset: { cell: 'median' } }, b ? fmtValue(b.median, def.unit) : '—'),
    el('td', { class: 'num', dataset: { cell: 'top' } }, b?.top == null ? '—' : fmtValue(b.top, def.unit)),
    el('td', { class: st === 'below' ? 'worse' : st ? 'better' : 'muted', dataset: { cell: 'standing' } },
      b ? (st ? t(`bench_standing_${st}`) : '—') : t('bench_too_few')));
  });
  const none = rows.every((r) => r.dataset.median === '');
  box.dataset.state = none ? 'none' : 'on';
  box.append(el('p', { class: 'muted', id: 'bench-note' }, none ? t('bench_none') : t('bench_region_legend')),
    el('div', { class: 'table-wrap' }, el('table', { class: 'data', id: 'bench-table' },
      el('thead', {}, el('tr', {}, el('th', {}, t('bench_kpi')), el('th', { class: 'num' }, name),
        el('th', { class: 'num' }, t('bench_median')), el('th', { class: 'num' }, t('bench_top')), el('th', {}, t('bench_standing')))),
      el('tbody', {}, ...rows))));
  return box;
}

// A headline card; budgets: the row's targets; state: what the data holds of the period.
function card(id, g, p, y, period, budgets, state) {
  const def = ctx.catalogue[id];
  const v = state.empty ? null : g[id];
  const none = { text: t('no_compare'), cls: '' };
  const cp = state.empty ? none : change(def, v, p[id]), cy = state.empty ? none : change(def, v, y[id]);
  const d = domainOf(id);
  const target = BUDGETED.includes(id) ? budgets?.[id] : null;
  const ach = typeof target === 'number' && target > 0 && typeof v === 'number' ? v / target : null;
  return el(d ? 'a' : 'div', { class: `card ${state.empty ? 'none' : targetStatus(def, v)}`, dataset: { kpi: id },
    href: d ? link(`domain.html?d=${d}`, {}, period) : undefined, title: d ? t('open_domain', { name: t(`nav_${d}`) }) : undefined },
  el('div', { class: 'name' }, kpiName(def)),
  el('div', { class: 'value' }, fmtValue(v, def.unit)),
  split(id, g, state),
  el('div', { class: 'deltas' },
    el('span', { class: cp.cls, dataset: { prev: id } }, `${t('vs_prev')} ${cp.text}`),
    el('span', { class: cy.cls, dataset: { yoy: id } }, `${t('vs_yoy')} ${cy.text}`)),
  state.incomplete ? el('div', { class: 'note' }, el('span', { 'aria-hidden': 'true' }, '◐ '),
    state.empty ? t('period_no_data_none') : t('period_incomplete', { d: mmdd(state.through) })) : null,
  ach !== null ? el('div', { class: `achievement ${ach < 1 ? 'short' : 'met'}`, dataset: { target: String(target), achievement: String(ach) } },
    t('card_achievement', { t: fmtValue(target, def.unit), p: fmtPct(ach) })) : null,
  el('div', { class: 'target' }, fmtTarget(def) ? `${t('target')} ${fmtTarget(def)}` : ''));
}

// The parts of a card's value (mechanical + bodywork of the RO count), each named by the catalogue in its tooltip.
function split(id, g, state) {
  const parts = (SPLIT[id] || []).filter(([pid]) => ctx.catalogue[pid]);
  if (!parts.length) return null;
  return el('div', { class: 'split', dataset: { split: id } }, ...parts.flatMap(([pid, key], i) => [i ? ' + ' : null,
    el('span', { title: kpiName(ctx.catalogue[pid]) }, t(key), ' ',
      el('b', { dataset: { part: pid } }, fmtValue(state.empty ? null : g[pid], ctx.catalogue[pid].unit)))]));
}

async function render(period) {
  main.replaceChildren(el('div', { class: 'loading' }, t('loading')));
  const ids = HEADLINE.filter((id) => ctx.catalogue[id]);
  const asked = BATCH.filter((id) => ctx.catalogue[id]);
  const state = periodState(period);
  const regional = currentRegion || ctx.me.role === 'regional_manager';
  // the group's benchmarks, asked beside the batch (not in it)
  const benchAsked = regional ? benchmarks(ids.filter((id) => ctx.catalogue[id].by?.includes('store')), state.query) : null;
  let answers, bench;
  try {
    const same = early && early.period === period && asked.length === BATCH.length
      && JSON.stringify(await early.state) === JSON.stringify(state);
    const first = same ? early.answers : null;
    early = null;
    answers = await (first ? first.catch(() => viewBatch(asked, period, state)) : viewBatch(asked, period, state));
    bench = await benchAsked;
  } catch (e) { showError(main, e); return; }
  const [now, before, lastYr, months, monthsBefore, stores, regionRows] = answers;
  // regions are compared while the scope holds more than one; else its stores
  const by = regionRows && regionRows.rows.length > 1 ? 'region' : 'store';
  const compare = by === 'region' ? regionRows : stores;
  const g = now.rows[0]?.values || {}, p = before.rows[0]?.values || {}, y = lastYr.rows[0]?.values || {};

  // the group's overview, or a region's (by its name)
  const title = regional ? t('region_overview', { name: scopeName(ctx) }) : t('nav_overview');
  const crumbs = currentRegion && ctx.regions.length > 1
    ? el('div', { class: 'crumbs' }, el('a', { href: link('index.html', { region: null }), id: 'back-group' }, '← ' + t('back_group'))) : null;
  const budgets = now.rows[0]?.targets || {};
  const cards = el('div', { class: 'cards', id: 'headline' }, ...ids.map((id) => card(id, g, p, y, period, budgets, state)));

  // the 12 months, each KPI its own chart: this year against the year before, with the target
  const trendIds = TREND.filter(([id]) => ctx.catalogue[id]);
  const monthLabels = months.rows.map((r) => r.key);
  const trendBoxes = trendIds.map(() => chartBox('short'));
  // a month the data has not reached has no value (not a zero)
  const reached = (key) => !state.incomplete || (state.through && key <= state.through.slice(0, 7));
  const trend = panel(t('trend_12'), el('div', { class: 'grid2' },
    ...trendIds.map(([id], i) => figure(kpiName(ctx.catalogue[id]), trendBoxes[i]))));
  trend.id = 'trend';

  // a region against the group's median and top quartile
  const benchPanel = regional ? regionBench(ids, g, stores, bench, state, scopeName(ctx)) : null;

  // regions (or one region's stores) compared on revenue and labour share
  const cmpBox = chartBox();
  const cmpRows = compare.rows;
  const cmpLabel = (r) => (by === 'region' ? placeName(r.label, r.key) : storeName({ name: r.label, code: r.key }));
  const cmpPanel = panel(by === 'region' ? t('region_compare') : t('store_compare'), cmpBox);
  cmpPanel.id = 'compare';

  // the league table: a column per headline KPI
  const columns = [
    { key: 'label', title: t('store'), type: 'text', render: (r) => [r.label, storeDataNote(r.code, period)] },
    { key: 'region_name', title: t('region'), type: 'text' },
    { key: 'brand', title: t('brand_col'), type: 'text' },
    ...ids.map((id) => ({ key: id, title: kpiName(ctx.catalogue[id]), type: 'kpi', def: ctx.catalogue[id] })),
  ];
  const rows = stores.rows.map((r) => {
    const s = ctx.storeByCode[r.key] || {};
    return { code: r.key, label: storeName({ name: r.label || s.name, code: r.key }), region_name: placeName(s.region_name || s.region || '', s.region),
      brand: s.brand || '', ...r.values };
  });
  const league = panel(t('league'), el('p', { class: 'muted' }, t('league_hint')),
    table(columns, rows, { exportName: `league-${period.from}-${period.to}`, sortKey: 'service.revenue',
      onRowClick: (r) => { location.href = link('store.html', { code: r.code }); } }));
  league.id = 'league';

  if (by === 'region') {
    const rcols = [{ key: 'label', title: t('region'), type: 'text' },
      ...ids.map((id) => ({ key: id, title: kpiName(ctx.catalogue[id]), type: 'kpi', def: ctx.catalogue[id] }))];
    const regionTable = table(rcols, cmpRows.map((r) => ({ code: r.key, label: cmpLabel(r), ...r.values })), {
      exportName: `regions-${period.from}-${period.to}`,
      onRowClick: (r) => { location.href = link('index.html', { region: r.code }); },
    });
    regionTable.id = 'region-table';
    cmpPanel.append(regionTable);
  }

  main.replaceChildren(...[crumbs, heading(title, period), periodNote(state, true), cards, benchPanel, trend, cmpPanel, league].filter(Boolean));

  // the counts to follow up, under the cards: each opens its list for the same scope and period
  cards.after(listCounts(ctx, period, currentRegion ? [currentRegion] : []) || '');
  trendIds.forEach(([id, type], i) => {
    const def = ctx.catalogue[id];
    const values = (answer, mine = true) => answer.rows.map((r) => (mine && !reached(r.key) ? null : r.values[id] ?? null));
    chart(trendBoxes[i], frame({ categories: monthLabels, series: [
      // last year first: its bar stands left of this year's, faint
      { name: t('last_year_series', { name: kpiName(def) }), type, unit: def.unit, data: values(monthsBefore, false), faint: true, color: TREND_COLOUR },
      kpiSeries(def, type, values(months), { color: TREND_COLOUR }),
      // the stores' budgets of each month, where the KPI has them
      ...(budgetOf(def, months) ? [{ name: t('budget_series'), type: 'line', unit: def.unit, data: budgetOf(def, months), color: BUDGET_COLOUR, dashed: true }] : []),
    ] }));
  });
  const rev = ctx.catalogue['service.revenue'], share = ctx.catalogue['labour.share'];
  const onClick = (ev) => {
    const r = cmpRows[ev.dataIndex];
    if (!r) return;
    location.href = by === 'store' ? link('store.html', { code: r.key }) : link('index.html', { region: r.key });
  };
  chart(cmpBox, frame({ categories: cmpRows.map(cmpLabel), rotate: cmpRows.length > 6 ? 35 : 0, series: [
    kpiSeries(rev, 'bar', cmpRows.map((r) => r.values['service.revenue'] ?? null)),
    kpiSeries(share, 'line', cmpRows.map((r) => r.values['labour.share'] ?? null)),
  ] }), { onClick });
}

(async () => {
  try {
    ctx = await boot({ page: 'index.html', title: t('nav_overview'), onPeriod: render, regionPicker: true });
    if (ctx.me.role === 'store_manager' && ctx.stores.length === 1) {
      location.replace(link('store.html', { code: ctx.stores[0].code }));
      return;
    }
    await render(ctx.period);
  } catch (e) { showError(main, e); }
})();
