// store: one store's page. Monthly trends over the 24 months ending with the
// period, the identity service revenue = RO count × revenue per RO with the
// period's figures, and a panel per domain (labour, parts, insurance,
// receivables, retention, CSI). One POST /api/v1/kpi/batch per view.
import {
  boot, batch, el, $, kpiName, fmtValue, fmtTarget, targetStatus, monthsEnding, chart, panel, chartBox,
  showError, link, palette, axisFormatter,
} from './core.js';
import { t } from './i18n.js';

const PANELS = [
  ['panel_service', ['service.revenue', 'service.ro_count', 'service.revenue_per_ro', 'service.gross_profit',
    'service.comeback_rate', 'service.absorption', 'service.personnel_cost_ratio', 'service.appointment_rate',
    'service.followup_rate', 'service.complaint_rate']],
  ['panel_labour', ['labour.revenue', 'labour.sold_hours', 'labour.effective_rate', 'labour.share', 'labour.tech_efficiency', 'labour.hours_per_ro']],
  ['panel_parts', ['parts.revenue', 'parts.gross_margin', 'parts.fill_rate', 'parts.stock_value', 'parts.turnover',
    'parts.slow_moving_share', 'parts.obsolete_share', 'parts.materials_cost_ratio', 'parts.accessory_revenue']],
  ['panel_insurance', ['insurance.premium', 'insurance.new_penetration', 'insurance.renewal_rate', 'insurance.accident_revenue', 'insurance.repair_to_premium']],
  ['panel_receivables', ['receivables.open', 'receivables.age_0_30', 'receivables.age_31_60', 'receivables.age_61_90',
    'receivables.age_91_180', 'receivables.age_181_365', 'receivables.age_over_365', 'receivables.over_90_share',
    'receivables.overdue', 'receivables.dso', 'receivables.over_limit_accounts']],
  ['panel_retention', ['retention.base', 'retention.at_risk', 'retention.warning', 'retention.lost',
    'retention.churn_y1', 'retention.churn_y2', 'retention.churn_y3', 'retention.first_service_rate']],
  ['panel_csi', ['csi.score', 'csi.responses']],
];
// Flow KPIs month by month (as-of KPIs such as receivables and retention are
// shown for the period end in the panels below).
const TRENDS = [
  ['service.revenue', 'service.ro_count'], ['labour.share', 'parts.gross_margin'],
  ['insurance.renewal_rate', 'service.comeback_rate'], ['csi.score', 'service.followup_rate'],
];

const main = $('#main');
const code = new URLSearchParams(location.search).get('code');
let ctx;

async function render(period) {
  main.replaceChildren(el('div', { class: 'loading' }, t('loading')));
  const store = ctx.storeByCode[code] || (ctx.stores.length === 1 ? ctx.stores[0] : null);
  if (!store) { main.replaceChildren(el('div', { class: 'error' }, t('forbidden'))); return; }
  const all = PANELS.flatMap(([, ids]) => ids).filter((id) => ctx.catalogue[id]);
  const trendIds = [...new Set(TRENDS.flat())].filter((id) => ctx.catalogue[id]);
  let now, trend;
  try {
    [now, trend] = await batch([
      { ids: all, ...period, by: 'store', stores: [store.code] },
      { ids: trendIds, ...monthsEnding(period.to, 24), by: 'month', stores: [store.code] },
    ]);
  } catch (e) { showError(main, e); return; }
  const v = now.rows[0]?.values || {};
  const def = (id) => ctx.catalogue[id];
  const crumbs = el('div', { class: 'crumbs' },
    el('a', { href: link('index.html') }, t('group')), ' / ',
    el('a', { href: link('index.html', { region: store.region }) }, store.region_name || store.region), ' / ', store.name);
  const title = el('h1', {}, store.name, el('small', {}, `${store.brand} · ${store.city || ''} · ${period.from} ~ ${period.to}`));
  const identity = el('div', { class: 'identity panel', id: 'identity' },
    el('span', {}, kpiName(def('service.revenue'))), el('b', {}, fmtValue(v['service.revenue'], 'CNY')), '=',
    el('span', {}, kpiName(def('service.ro_count'))), el('b', {}, fmtValue(v['service.ro_count'], 'count')), '×',
    el('span', {}, kpiName(def('service.revenue_per_ro'))), el('b', {}, fmtValue(v['service.revenue_per_ro'], 'CNY')));

  const trendBoxes = TRENDS.map(() => chartBox('short'));
  const trendPanel = panel(t('trend_24'), el('div', { class: 'grid2' }, ...trendBoxes));
  const panels = el('div', { class: 'grid3' }, ...PANELS.map(([key, ids]) => panel(t(key),
    el('div', { class: 'kv' }, ...ids.filter((id) => def(id)).flatMap((id) => [
      el('span', { class: 'k', title: def(id).formula || '' }, kpiName(def(id))),
      el('span', { class: 'v', dataset: { kpi: id } }, el('span', { class: `light ${targetStatus(def(id), v[id])}` }), fmtValue(v[id], def(id).unit),
        fmtTarget(def(id)) ? el('span', { class: 'muted' }, `  (${fmtTarget(def(id))})`) : null),
    ])))));
  main.replaceChildren(crumbs, title, identity, trendPanel, panels);

  const months = trend.rows.map((r) => r.key);
  TRENDS.forEach(([a, b], i) => {
    if (!def(a) || !def(b)) return;
    const sameUnit = def(a).unit === def(b).unit;
    chart(trendBoxes[i], {
      color: palette, tooltip: { trigger: 'axis' }, legend: { data: [kpiName(def(a)), kpiName(def(b))] },
      grid: { left: 64, right: 56, bottom: 30 },
      xAxis: { type: 'category', data: months },
      yAxis: [{ type: 'value', axisLabel: { formatter: axisFormatter(def(a).unit) } },
        { type: 'value', axisLabel: { formatter: axisFormatter(def(b).unit) }, splitLine: { show: false }, show: !sameUnit }],
      series: [
        { name: kpiName(def(a)), type: def(a).unit === 'CNY' ? 'bar' : 'line', data: trend.rows.map((r) => r.values[a]) },
        { name: kpiName(def(b)), type: 'line', yAxisIndex: sameUnit ? 0 : 1, data: trend.rows.map((r) => r.values[b]) },
      ],
    });
  });
}

(async () => {
  try {
    ctx = await boot({ page: 'store.html', title: t('nav_store'), onPeriod: render });
    await render(ctx.period);
  } catch (e) { showError(main, e); }
})();
