// domain: the five domain pages (配件, 保险, 应收账款, 工时, 客户保持), one
// description each below: the KPIs it asks for, its charts and its table.
// The page is chosen by <body data-page>. One POST /api/v1/kpi/batch per view.
import {
  boot, batch, t, el, $, kpiName, table, chart, panel, chartBox, showError, link, palette, axisFormatter,
} from './core.js';

const bar = (name, data, extra = {}) => ({ name, type: 'bar', data, ...extra });
const line = (name, data, extra = {}) => ({ name, type: 'line', data, ...extra });
const targetLine = (value, label) => ({ silent: true, symbol: 'none', lineStyle: { type: 'dashed', color: '#d64545' },
  label: { formatter: label }, data: [{ yAxis: value }] });

// Common frame of a by-store chart: category axis of store names, one or two value axes.
function storeChart(labels, units, series, legend) {
  return {
    color: palette, tooltip: { trigger: 'axis' }, legend: { data: legend || series.map((s) => s.name), type: 'scroll' },
    grid: { left: 70, right: units[1] ? 60 : 20, bottom: 90 },
    xAxis: { type: 'category', data: labels, axisLabel: { rotate: 40, interval: 0, fontSize: 11 } },
    yAxis: units.map((u, i) => ({ type: 'value', axisLabel: { formatter: axisFormatter(u) }, splitLine: { show: i === 0 } })),
    series,
  };
}

const PAGES = {
  'parts.html': {
    title: 'nav_parts',
    ids: ['parts.turnover', 'parts.fill_rate', 'parts.stock_value', 'parts.slow_moving_share', 'parts.obsolete_share',
      'parts.revenue', 'parts.gross_margin', 'parts.materials_cost_ratio', 'parts.accessory_revenue'],
    charts: (rows, n) => [
      [t('turnover_fill'), storeChart(rows.map((r) => r.label), ['times/yr', 'ratio'], [
        bar(n('parts.turnover'), rows.map((r) => r.values['parts.turnover']), { markLine: targetLine(8, '8') }),
        line(n('parts.fill_rate'), rows.map((r) => r.values['parts.fill_rate']), { yAxisIndex: 1 })])],
      [t('stock_aging'), storeChart(rows.map((r) => r.label), ['CNY'], (() => {
        const v = (r, id) => r.values[id] ?? 0;
        const total = (r) => v(r, 'parts.stock_value');
        const obsolete = rows.map((r) => total(r) * v(r, 'parts.obsolete_share'));
        const slow = rows.map((r, i) => total(r) * v(r, 'parts.slow_moving_share') - obsolete[i]);
        const fresh = rows.map((r, i) => total(r) - slow[i] - obsolete[i]);
        const lg = { zh: ['180 天内', '滞销 180–365 天', '呆滞 365 天以上'], en: ['Within 180 days', 'Slow 180–365 days', 'Obsolete over 365 days'] }[document.documentElement.lang === 'en' ? 'en' : 'zh'];
        return [bar(lg[0], fresh, { stack: 'a', itemStyle: { color: '#59a14f' } }),
          bar(lg[1], slow, { stack: 'a', itemStyle: { color: '#f28e2b' } }),
          bar(lg[2], obsolete, { stack: 'a', itemStyle: { color: '#e15759' } })];
      })())],
    ],
  },
  'insurance.html': {
    title: 'nav_insurance',
    ids: ['insurance.premium', 'insurance.new_penetration', 'insurance.renewal_rate', 'insurance.accident_revenue', 'insurance.repair_to_premium'],
    insurerIds: ['insurance.premium', 'insurance.renewal_rate', 'insurance.accident_revenue', 'insurance.repair_to_premium', 'insurance.insurer_share'],
    charts: (rows, n, insurers) => [
      [`${n('insurance.new_penetration')} / ${n('insurance.renewal_rate')}`, storeChart(rows.map((r) => r.label), ['ratio'], [
        bar(n('insurance.new_penetration'), rows.map((r) => r.values['insurance.new_penetration'])),
        bar(n('insurance.renewal_rate'), rows.map((r) => r.values['insurance.renewal_rate']))])],
      [t('insurer_split'), {
        color: palette, tooltip: { trigger: 'item', formatter: '{b}: {d}%' }, legend: { bottom: 0 },
        series: [{ type: 'pie', radius: ['35%', '65%'], name: n('insurance.insurer_share'),
          data: insurers.map((r) => ({ name: r.label, value: r.values['insurance.insurer_share'] ?? 0 })) }],
      }],
      [t('repair_to_premium_insurer'), {
        color: palette, tooltip: { trigger: 'axis' }, grid: { left: 60, right: 20, bottom: 40 },
        xAxis: { type: 'category', data: insurers.map((r) => r.label) },
        yAxis: { type: 'value', axisLabel: { formatter: axisFormatter('ratio') } },
        series: [bar(n('insurance.repair_to_premium'), insurers.map((r) => r.values['insurance.repair_to_premium']), { markLine: targetLine(0.9, '0.9') })],
      }],
    ],
  },
  'receivables.html': {
    title: 'nav_receivables',
    ids: ['receivables.open', 'receivables.age_0_30', 'receivables.age_31_60', 'receivables.age_61_90', 'receivables.age_91_180',
      'receivables.age_181_365', 'receivables.age_over_365', 'receivables.over_90_share', 'receivables.overdue',
      'receivables.dso', 'receivables.over_limit_accounts'],
    charts: (rows, n) => {
      const buckets = ['receivables.age_0_30', 'receivables.age_31_60', 'receivables.age_61_90', 'receivables.age_91_180', 'receivables.age_181_365', 'receivables.age_over_365'];
      const labels = ['0–30', '31–60', '61–90', '91–180', '181–365', '>365'];
      return [
        [t('aging_by_store'), { ...storeChart(rows.map((r) => r.label), ['CNY'],
          buckets.map((id, i) => bar(labels[i], rows.map((r) => r.values[id]), { stack: 'age' }))),
          color: ['#59a14f', '#8cd17d', '#edc948', '#f28e2b', '#e15759', '#9d2f2f'] }],
        [`${t('overdue')} / ${t('over_limit')}`, storeChart(rows.map((r) => r.label), ['CNY', 'count'], [
          bar(n('receivables.overdue'), rows.map((r) => r.values['receivables.overdue'])),
          line(n('receivables.over_limit_accounts'), rows.map((r) => r.values['receivables.over_limit_accounts']), { yAxisIndex: 1 })])],
      ];
    },
  },
  'labour.html': {
    title: 'nav_labour',
    ids: ['labour.revenue', 'labour.sold_hours', 'labour.effective_rate', 'labour.share', 'labour.tech_efficiency', 'labour.hours_per_ro'],
    charts: (rows, n) => [
      [t('labour_rates'), storeChart(rows.map((r) => r.label), ['CNY/h', 'ratio'], [
        bar(n('labour.effective_rate'), rows.map((r) => r.values['labour.effective_rate'])),
        line(n('labour.tech_efficiency'), rows.map((r) => r.values['labour.tech_efficiency']), { yAxisIndex: 1, markLine: targetLine(1.05, '1.05') })])],
      [t('hours_per_ro'), storeChart(rows.map((r) => r.label), ['h'], [
        bar(n('labour.hours_per_ro'), rows.map((r) => r.values['labour.hours_per_ro']), { markLine: targetLine(2, '2.0') })])],
    ],
  },
  'retention.html': {
    title: 'nav_retention',
    ids: ['retention.base', 'retention.at_risk', 'retention.warning', 'retention.lost', 'retention.churn_y1',
      'retention.churn_y2', 'retention.churn_y3', 'retention.first_service_rate'],
    charts: (rows, n, _ins, group) => [
      [t('buckets_369'), storeChart(rows.map((r) => r.label), ['count'], [
        bar(n('retention.at_risk'), rows.map((r) => r.values['retention.at_risk']), { stack: 'b' }),
        bar(n('retention.warning'), rows.map((r) => r.values['retention.warning']), { stack: 'b' }),
        bar(n('retention.lost'), rows.map((r) => r.values['retention.lost']), { stack: 'b' })])],
      [t('churn_by_age'), {
        color: palette, tooltip: { trigger: 'axis' }, legend: {}, grid: { left: 60, right: 20, bottom: 40 },
        xAxis: { type: 'category', data: ['churn_y1', 'churn_y2', 'churn_y3'].map((k) => n('retention.' + k)) },
        yAxis: { type: 'value', axisLabel: { formatter: axisFormatter('ratio') } },
        series: [
          bar(t('group'), ['churn_y1', 'churn_y2', 'churn_y3'].map((k) => group['retention.' + k] ?? null)),
          bar(t('target'), [0.05, 0.08, 0.12], { itemStyle: { color: '#d6d9e0' } }),
        ],
      }],
      [t('first_service'), storeChart(rows.map((r) => r.label), ['ratio'], [
        bar(n('retention.first_service_rate'), rows.map((r) => r.values['retention.first_service_rate']), { markLine: targetLine(0.95, '95%') })])],
    ],
  },
};

const page = document.body.dataset.page;
const spec = PAGES[page];
const main = $('#main');
let ctx;

async function render(period) {
  main.replaceChildren(el('div', { class: 'loading' }, t('loading')));
  const ids = spec.ids.filter((id) => ctx.catalogue[id]);
  const queries = [{ ids, ...period, by: 'store' }, { ids, ...period, by: 'group' }];
  if (spec.insurerIds) queries.push({ ids: spec.insurerIds.filter((id) => ctx.catalogue[id]), ...period, by: 'insurer' });
  let answers;
  try { answers = await batch(queries); } catch (e) { showError(main, e); return; }
  const [stores, group, insurers] = answers;
  const rows = stores.rows;
  const n = (id) => kpiName(ctx.catalogue[id]);
  const defs = spec.charts(rows, n, insurers?.rows || [], group.rows[0]?.values || {});
  const boxes = defs.map(() => chartBox());
  const charts = el('div', { class: 'grid2' }, ...defs.map(([title], i) => panel(title, boxes[i])));
  const columns = [{ key: 'label', title: t('store'), type: 'text' },
    ...ids.map((id) => ({ key: id, title: n(id), type: 'kpi', def: ctx.catalogue[id] }))];
  const trows = rows.map((r) => ({ code: r.key, label: r.label, ...r.values }));
  const groupRow = group.rows[0] ? [{ code: 'group', label: t('group'), ...group.rows[0].values }] : [];
  const tbl = panel(t('league'), table(columns, [...groupRow, ...trows], {
    exportName: `${page.replace('.html', '')}-${period.from}-${period.to}`, exportTitle: t(spec.title),
    onRowClick: (r) => { if (r.code !== 'group') location.href = link('store.html', { code: r.code }); } }));
  tbl.id = 'domain-table';
  const parts = [el('h1', {}, t(spec.title), el('small', {}, `${period.from} ~ ${period.to}`)), charts, tbl];
  if (insurers) {
    const icols = [{ key: 'label', title: t('by_insurer'), type: 'text' },
      ...spec.insurerIds.filter((id) => ctx.catalogue[id]).map((id) => ({ key: id, title: n(id), type: 'kpi', def: ctx.catalogue[id] }))];
    parts.push(panel(t('by_insurer'), table(icols, insurers.rows.map((r) => ({ code: r.key, label: r.label, ...r.values })),
      { exportName: `insurers-${period.from}-${period.to}` })));
  }
  main.replaceChildren(...parts);
  defs.forEach(([, option], i) => chart(boxes[i], option));
}

(async () => {
  try {
    ctx = await boot({ page, title: t(spec.title), onPeriod: render });
    await render(ctx.period);
  } catch (e) { showError(main, e); }
})();
