// store: one store's page (a store manager's first page). The identities
// service revenue = RO count × revenue per RO and RO count = mechanical +
// bodywork ROs with the period's figures; monthly trends over the 24 months
// ending with the period (revenue and volume, rates, receivables and
// customers lost, as-of KPIs at each month's end); a panel per domain
// (service, labour, parts, insurance, receivables, retention, CSI, sales,
// staff) with each value, its light against the target and its change on
// the same period last year; the five SERVQUAL dimensions of the store's
// surveys drawn beside the group's median of each. Beside each value,
// the group median and top quartile (GET /api/v1/benchmarks: over every
// store of the group; none below 5 stores with a value, none when an admin
// has switched them off). A period that runs past the store's data is asked
// for up to where it stops, marked, and compared with last year over the
// same days. One POST /api/v1/kpi/batch per view.
import {
  boot, batch, el, $, kpiName, fmtValue, fmtTarget, targetStatus, change, lastYear, monthsEnding, panel,
  showError, link, heading, storeName, domainOf, periodState, cutTo, periodNote, benchmarks, benchmarkOf, CSI_DIMENSIONS,
} from './core.js';
import { chart, chartBox, figure, frame, kpiSeries, dimensionsChart } from './charts.js';
import { t, placeName } from './i18n.js';
import { listsReady, linkValues } from './lists-link.js';

const PANELS = [
  ['panel_service', ['service.revenue', 'service.ro_count', 'service.mech_ro_count', 'service.body_ro_count',
    'service.revenue_per_ro', 'service.gross_profit', 'insurance.accident_share', 'service.turnaround_hours',
    'service.comeback_rate', 'service.absorption', 'service.personnel_cost_ratio', 'service.appointment_rate',
    'service.followup_rate', 'service.complaint_rate', 'service.comebacks', 'service.complaints']],
  ['panel_labour', ['labour.revenue', 'labour.sold_hours', 'labour.effective_rate', 'labour.share', 'labour.tech_efficiency', 'labour.hours_per_ro']],
  ['panel_parts', ['parts.revenue', 'parts.gross_margin', 'parts.fill_rate', 'parts.stock_value', 'parts.turnover',
    'parts.slow_moving_share', 'parts.obsolete_share', 'parts.materials_cost_ratio', 'parts.accessory_revenue', 'parts.accessory_margin']],
  ['panel_insurance', ['insurance.premium', 'insurance.new_penetration', 'insurance.renewal_rate', 'insurance.accident_revenue', 'insurance.repair_to_premium',
    'insurance.renewals_due']],
  ['panel_receivables', ['receivables.open', 'receivables.age_0_30', 'receivables.age_31_60', 'receivables.age_61_90',
    'receivables.age_91_180', 'receivables.age_181_365', 'receivables.age_over_365', 'receivables.over_90_share',
    'receivables.overdue', 'receivables.dso', 'receivables.over_limit_accounts']],
  ['panel_retention', ['retention.base', 'retention.at_risk', 'retention.warning', 'retention.lost',
    'retention.churn_y1', 'retention.churn_y2', 'retention.churn_y3', 'retention.first_service_rate',
    'retention.first_service_pending', 'retention.maintenance_due']],
  ['panel_csi', ['csi.score', 'csi.responses', ...CSI_DIMENSIONS]],
  ['panel_sales', ['sales.units', 'sales.revenue', 'sales.referral_share', 'insurance.new_penetration']],
  ['panel_staff', ['staff.headcount', 'staff.turnover']],
];
// The 24-month trends: a title (a label key, or null for the KPIs' names)
// and the KPIs with how each is drawn. Receivables and retention are as of
// each month's end.
const TRENDS = [
  ['revenue_volume', [['service.revenue', 'bar'], ['service.ro_count', 'line']]],
  [null, [['labour.share', 'line'], ['parts.gross_margin', 'line']]],
  [null, [['insurance.renewal_rate', 'line'], ['service.comeback_rate', 'line']]],
  [null, [['csi.score', 'line'], ['service.followup_rate', 'line']]],
  ['receivables_trend', [['receivables.open', 'bar'], ['receivables.over_90_share', 'line']]],
  ['retention_trend', [['retention.at_risk', 'line'], ['retention.lost', 'line']]],
];

const main = $('#main');
const code = new URLSearchParams(location.search).get('code');
let ctx;

// One KPI's line in a panel: name (with its target), the value with its
// light, the change on last year; under it, the group's median and top
// quartile (bench: benchmarkOf, or null).
function kpiRow(def, v, y, bench, empty) {
  const yoy = empty ? { text: t('no_compare'), cls: '' } : change(def, v, y);
  return [
    el('span', { class: 'k', title: def.formula || '' }, kpiName(def),
      fmtTarget(def) ? el('small', { class: 'muted' }, `${t('target')} ${fmtTarget(def)}`) : null),
    el('span', { class: 'v', dataset: { kpi: def.id } }, el('span', { class: `light ${targetStatus(def, v)}` }), fmtValue(v, def.unit)),
    el('span', { class: `d ${yoy.cls}`, dataset: { yoy: def.id } }, yoy.text),
    bench ? el('span', { class: 'b', dataset: { bench: def.id, median: String(bench.median), top: bench.top === null ? '' : String(bench.top) },
      title: `${t('bench_median')} ${fmtValue(bench.median, def.unit)}${bench.top === null ? '' : ` · ${t('bench_top')} ${fmtValue(bench.top, def.unit)}`}` },
    t('bench_short_median', { v: fmtValue(bench.median, def.unit) }),
    bench.top === null ? null : ['  ', t('bench_short_top', { v: fmtValue(bench.top, def.unit) })]) : null,
  ];
}

async function render(period) {
  main.replaceChildren(el('div', { class: 'loading' }, t('loading')));
  const store = ctx.storeByCode[code] || (ctx.stores.length === 1 ? ctx.stores[0] : null);
  if (!store) { main.replaceChildren(el('div', { class: 'error' }, t('forbidden'))); return; }
  const def = (id) => ctx.catalogue[id];
  const all = PANELS.flatMap(([, ids]) => ids).filter(def);
  const trends = TRENDS.map(([title, list]) => [title, list.filter(([id]) => def(id))]).filter(([, list]) => list.length);
  const trendIds = [...new Set(trends.flatMap(([, list]) => list.map(([id]) => id)))];
  const state = periodState(period);
  const q = state.query;
  const benchIds = all.filter((id) => def(id).by?.includes('store'));
  let now, yoy, trend, bench;
  try {
    [[now, yoy, trend], bench] = await Promise.all([batch([
      { ids: all, from: q.from, to: q.to, by: 'store', stores: [store.code] },
      { ids: all, ...cutTo(lastYear(period), state), by: 'store', stores: [store.code] },
      { ids: trendIds, ...monthsEnding(period.to, 24), by: 'month', stores: [store.code] },
    ]), benchmarks(benchIds, q)]);
  } catch (e) { showError(main, e); return; }
  const v = now.rows[0]?.values || {}, y = yoy.rows[0]?.values || {};
  const regionName = placeName(store.region_name || store.region, store.region);
  const crumbs = ctx.me.role === 'store_manager' ? null : el('div', { class: 'crumbs' },
    ctx.regions.length > 1 ? [el('a', { href: link('index.html', { region: null }) }, t('group')), ' / '] : null,
    el('a', { href: link('index.html', { region: store.region }) }, regionName), ' / ', storeName(store));
  const title = heading(storeName(store), period, store.brand, store.city);
  const term = (id) => [el('span', {}, kpiName(def(id))),
    el('b', { dataset: { identity: id } }, fmtValue(state.empty ? null : v[id], def(id).unit))];
  const identity = el('div', { class: 'identity panel', id: 'identity' },
    el('div', { class: 'identity-line' }, term('service.revenue'), '=', term('service.ro_count'), '×', term('service.revenue_per_ro')),
    def('service.mech_ro_count') && def('service.body_ro_count')
      ? el('div', { class: 'identity-line', id: 'identity-split' },
        term('service.ro_count'), '=', term('service.mech_ro_count'), '+', term('service.body_ro_count')) : null);
  // the benchmarks' legend (or why there are none)
  const benchNote = el('div', { class: 'benchmark-slot muted', id: 'benchmark-slot', dataset: { state: bench.off ? 'off' : 'on' } },
    el('b', {}, t('benchmark_title')), ' ', bench.off ? t('bench_off') : t('bench_legend'));
  const benchOf = (id) => benchmarkOf(def(id), bench.values?.[id]);

  const trendBoxes = trends.map(() => chartBox('short'));
  const trendTitle = ([key, list]) => (key ? t(key) : list.map(([id]) => kpiName(def(id))).join(' / '));
  const trendPanel = panel(t('trend_24'), el('div', { class: 'grid2' }, ...trends.map((tr, i) => figure(trendTitle(tr), trendBoxes[i]))));
  trendPanel.id = 'store-trends';
  const panels = el('div', { class: 'grid3', id: 'store-panels' }, ...PANELS.map(([key, ids]) => {
    const shown = ids.filter(def);
    const d = domainOf(shown[0] || '');
    const p = panel(t(key), el('div', { class: 'kv' },
      el('span', { class: 'kv-head' }), el('span', { class: 'kv-head' }, t('this_period')), el('span', { class: 'kv-head' }, t('vs_yoy')),
      ...shown.flatMap((id) => kpiRow(def(id), state.empty ? null : v[id], y[id], benchOf(id), state.empty))),
    d ? el('a', { class: 'more', href: link(`domain.html?d=${d}`, { region: store.region }) }, t('open_domain', { name: t(`nav_${d}`) })) : null);
    p.dataset.panel = key;
    return p;
  }));
  // the five dimensions of the store's surveys, each beside the group's median
  const dims = CSI_DIMENSIONS.map(def).filter(Boolean);
  const dimsBox = dims.length ? chartBox() : null;
  const dimsPanel = dimsBox ? panel(t('servqual_store'), dimsBox) : null;
  if (dimsPanel) dimsPanel.id = 'servqual';
  main.replaceChildren(...[crumbs, title, periodNote(state, true), identity, benchNote, trendPanel, panels, dimsPanel].filter(Boolean));
  if (dimsBox) {
    const medians = bench.off ? null : Object.fromEntries(dims.map((d) => [d.id, benchOf(d.id)?.median ?? null]));
    chart(dimsBox, dimensionsChart(dims, storeName(store), state.empty ? {} : v, medians));
  }

  // a month the store's data has not reached has no value (not a zero)
  const reached = (key) => !state.incomplete || (state.through && key <= state.through.slice(0, 7));
  const months = trend.rows.map((r) => r.key);
  trends.forEach(([, list], i) => {
    chart(trendBoxes[i], frame({ categories: months,
      series: list.map(([id, type]) => kpiSeries(def(id), type, trend.rows.map((r) => (reached(r.key) ? r.values[id] ?? null : null)))) }));
  });
  // a value a list explains opens the store's list for the period
  linkValues(panels, await listsReady(), period, { stores: [store.code] });
}

(async () => {
  try {
    ctx = await boot({ page: 'store.html', title: t('nav_store'), onPeriod: render,
      scopeStores: (c) => (c.storeByCode[code] ? [code] : c.stores.length === 1 ? [c.stores[0].code] : []) });
    await render(ctx.period);
  } catch (e) { showError(main, e); }
})();
