// domain: the domain pages (parts, insurance, receivables, labour, retention)
// as one page, domain.html?d=<domain>. PAGES below describes each domain:
// its title, the KPIs it asks for, its charts and its tables; the page is
// the same for all. The older addresses parts.html, insurance.html, ... are
// links to this same file in the web root: opened through one, the page
// takes the domain from the file name and rewrites the address to
// domain.html?d=<domain> (keeping the rest of the query), so bookmarks keep
// working and every link names one page. Every target drawn is the
// catalogue's target in force (an admin may change it); every word comes
// from i18n.js. One POST /api/v1/kpi/batch per view.
import {
  boot, batch, el, $, kpiName, fmtValue, fmtTarget, table, chart, panel, chartBox, showError, link, palette,
  axisFormatter,
} from './core.js';
import { t } from './i18n.js';

const bar = (name, data, extra = {}) => ({ name, type: 'bar', data, ...extra });
const line = (name, data, extra = {}) => ({ name, type: 'line', data, ...extra });

// The dashed line of a KPI's catalogue target on its series (two lines for
// a band or one end of it, none when the KPI has no target). Each line's
// data item is named by the KPI id, its label is the target as the cards
// show it.
function targetLine(def) {
  const tg = def?.target;
  if (tg === null || tg === undefined) return null;
  const lines = typeof tg === 'object'
    ? [tg.low, tg.high].filter(Number.isFinite).map((v) => [v, fmtValue(v, def.unit)])
    : [[tg, fmtTarget(def)]];
  if (!lines.length) return null;
  return { silent: true, symbol: 'none', lineStyle: { type: 'dashed', color: '#d64545' },
    data: lines.map(([value, label]) => ({ name: def.id, yAxis: value,
      label: { formatter: label, position: 'insideEndTop', color: '#d64545', backgroundColor: 'rgba(255,255,255,0.85)', padding: [1, 3] } })) };
}
// The smallest of 1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8 (times a power of ten) not below v.
function niceCeil(v) {
  if (!(v > 0)) return v;
  const p = 10 ** Math.floor(Math.log10(v));
  return ([1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10].find((step) => step * p >= v * (1 - 1e-9)) ?? 10) * p;
}
// Each value axis reaches the target lines drawn on it, so a target far
// above (or a band beyond) the bars still shows where it is.
function reachTargets(option) {
  const axes = [option.yAxis].flat();
  for (const s of option.series) {
    const tops = (s.markLine?.data || []).map((d) => d.yAxis);
    const axis = axes[s.yAxisIndex || 0];
    if (!tops.length || !axis) continue;
    const top = Math.max(...tops) * 1.05;
    axis.max = (extent) => niceCeil(Math.max(extent.max, top));
  }
  return option;
}
// A number target as a bar's height (a band or no target: no bar).
const targetValue = (def) => (typeof def?.target === 'number' ? def.target : null);

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

// What a domain's charts are drawn from: the by-store rows, the by-insurer
// rows, the group's values, and helpers over the catalogue and settings.
function chartKit(rows, insurers, group) {
  const def = (id) => ctx.catalogue[id];
  return {
    rows, insurers, group,
    labels: rows.map((r) => r.label),
    n: (id) => kpiName(def(id)),
    def,
    setting: (name) => ctx.settings[name] ?? '—',
    // the values of one KPI, a row each (the stores unless told)
    col: (id, list = rows) => list.map((r) => r.values[id]),
    // a series' options with the KPI's target line added, if it has a target
    withTarget: (id, extra = {}) => { const m = targetLine(def(id)); return m ? { ...extra, markLine: m } : extra; },
  };
}

const PAGES = {
  parts: {
    title: 'nav_parts',
    ids: ['parts.turnover', 'parts.fill_rate', 'parts.stock_value', 'parts.slow_moving_share', 'parts.obsolete_share',
      'parts.revenue', 'parts.gross_margin', 'parts.materials_cost_ratio', 'parts.accessory_revenue'],
    charts: (k) => [
      [t('turnover_fill'), storeChart(k.labels, ['times/yr', 'ratio'], [
        bar(k.n('parts.turnover'), k.col('parts.turnover'), k.withTarget('parts.turnover')),
        line(k.n('parts.fill_rate'), k.col('parts.fill_rate'), { yAxisIndex: 1 })])],
      [t('stock_aging'), storeChart(k.labels, ['CNY'], (() => {
        const v = (r, id) => r.values[id] ?? 0;
        const total = (r) => v(r, 'parts.stock_value');
        const obsolete = k.rows.map((r) => total(r) * v(r, 'parts.obsolete_share'));
        const slow = k.rows.map((r, i) => total(r) * v(r, 'parts.slow_moving_share') - obsolete[i]);
        const fresh = k.rows.map((r, i) => total(r) - slow[i] - obsolete[i]);
        const days = { slow: k.setting('parts.slow_moving_days'), obsolete: k.setting('parts.obsolete_days') };
        return [bar(t('stock_fresh', days), fresh, { stack: 'a', itemStyle: { color: '#59a14f' } }),
          bar(t('stock_slow', days), slow, { stack: 'a', itemStyle: { color: '#f28e2b' } }),
          bar(t('stock_obsolete', days), obsolete, { stack: 'a', itemStyle: { color: '#e15759' } })];
      })())],
    ],
  },
  insurance: {
    title: 'nav_insurance',
    ids: ['insurance.premium', 'insurance.new_penetration', 'insurance.renewal_rate', 'insurance.accident_revenue', 'insurance.repair_to_premium'],
    insurerIds: ['insurance.premium', 'insurance.renewal_rate', 'insurance.accident_revenue', 'insurance.repair_to_premium', 'insurance.insurer_share'],
    charts: (k) => [
      [`${k.n('insurance.new_penetration')} / ${k.n('insurance.renewal_rate')}`, storeChart(k.labels, ['ratio'], [
        bar(k.n('insurance.new_penetration'), k.col('insurance.new_penetration')),
        bar(k.n('insurance.renewal_rate'), k.col('insurance.renewal_rate'))])],
      [t('insurer_split'), {
        color: palette, tooltip: { trigger: 'item', formatter: '{b}: {d}%' }, legend: { bottom: 0 },
        series: [{ type: 'pie', radius: ['35%', '65%'], name: k.n('insurance.insurer_share'),
          data: k.insurers.map((r) => ({ name: r.label, value: r.values['insurance.insurer_share'] ?? 0 })) }],
      }],
      [t('repair_to_premium_insurer'), {
        color: palette, tooltip: { trigger: 'axis' }, grid: { left: 60, right: 20, bottom: 40 },
        xAxis: { type: 'category', data: k.insurers.map((r) => r.label) },
        yAxis: { type: 'value', axisLabel: { formatter: axisFormatter('ratio') } },
        series: [bar(k.n('insurance.repair_to_premium'), k.col('insurance.repair_to_premium', k.insurers),
          k.withTarget('insurance.repair_to_premium'))],
      }],
    ],
  },
  receivables: {
    title: 'nav_receivables',
    ids: ['receivables.open', 'receivables.age_0_30', 'receivables.age_31_60', 'receivables.age_61_90', 'receivables.age_91_180',
      'receivables.age_181_365', 'receivables.age_over_365', 'receivables.over_90_share', 'receivables.overdue',
      'receivables.dso', 'receivables.over_limit_accounts'],
    charts: (k) => {
      // the aging buckets are fixed by the KPIs' definitions: their day ranges label them
      const buckets = [['receivables.age_0_30', '0–30'], ['receivables.age_31_60', '31–60'], ['receivables.age_61_90', '61–90'],
        ['receivables.age_91_180', '91–180'], ['receivables.age_181_365', '181–365'], ['receivables.age_over_365', '>365']];
      return [
        [t('aging_by_store'), { ...storeChart(k.labels, ['CNY'],
          buckets.map(([id, label]) => bar(label, k.col(id), { stack: 'age' }))),
          color: ['#59a14f', '#8cd17d', '#edc948', '#f28e2b', '#e15759', '#9d2f2f'] }],
        [`${t('overdue')} / ${t('over_limit')}`, storeChart(k.labels, ['CNY', 'count'], [
          bar(k.n('receivables.overdue'), k.col('receivables.overdue')),
          line(k.n('receivables.over_limit_accounts'), k.col('receivables.over_limit_accounts'), { yAxisIndex: 1 })])],
      ];
    },
  },
  labour: {
    title: 'nav_labour',
    ids: ['labour.revenue', 'labour.sold_hours', 'labour.effective_rate', 'labour.share', 'labour.tech_efficiency', 'labour.hours_per_ro'],
    charts: (k) => [
      [t('labour_rates'), storeChart(k.labels, ['CNY/h', 'ratio'], [
        bar(k.n('labour.effective_rate'), k.col('labour.effective_rate')),
        line(k.n('labour.tech_efficiency'), k.col('labour.tech_efficiency'), k.withTarget('labour.tech_efficiency', { yAxisIndex: 1 }))])],
      [t('hours_per_ro'), storeChart(k.labels, ['h'], [
        bar(k.n('labour.hours_per_ro'), k.col('labour.hours_per_ro'), k.withTarget('labour.hours_per_ro'))])],
    ],
  },
  retention: {
    title: 'nav_retention',
    ids: ['retention.base', 'retention.at_risk', 'retention.warning', 'retention.lost', 'retention.churn_y1',
      'retention.churn_y2', 'retention.churn_y3', 'retention.first_service_rate'],
    charts: (k) => {
      const churn = ['retention.churn_y1', 'retention.churn_y2', 'retention.churn_y3'];
      const months = { at_risk: k.setting('retention.at_risk_months'), warning: k.setting('retention.warning_months'),
        lost: k.setting('retention.lost_after_months') };
      return [
        [t('buckets_369', months), storeChart(k.labels, ['count'], [
          bar(k.n('retention.at_risk'), k.col('retention.at_risk'), { stack: 'b' }),
          bar(k.n('retention.warning'), k.col('retention.warning'), { stack: 'b' }),
          bar(k.n('retention.lost'), k.col('retention.lost'), { stack: 'b' })])],
        [t('churn_by_age'), {
          color: palette, tooltip: { trigger: 'axis' }, legend: { bottom: 0 }, grid: { left: 60, right: 20, bottom: 60 },
          xAxis: { type: 'category', data: churn.map(k.n) },
          yAxis: { type: 'value', axisLabel: { formatter: axisFormatter('ratio') } },
          series: [
            bar(t('group'), churn.map((id) => k.group[id] ?? null)),
            bar(t('target'), churn.map((id) => targetValue(k.def(id))), { itemStyle: { color: '#d6d9e0' } }),
          ],
        }],
        [t('first_service'), storeChart(k.labels, ['ratio'], [
          bar(k.n('retention.first_service_rate'), k.col('retention.first_service_rate'), k.withTarget('retention.first_service_rate'))])],
      ];
    },
  },
};

// Which domain: ?d=, else the name of the file the page was opened as.
const query = new URLSearchParams(location.search);
const fileName = location.pathname.split('/').pop().replace(/\.html$/, '');
const domain = query.get('d') ?? fileName;
const spec = Object.hasOwn(PAGES, domain) ? PAGES[domain] : null;
if (spec && !query.has('d')) {
  const q = new URLSearchParams([['d', domain], ...query]);
  history.replaceState(null, '', `domain.html?${q}${location.hash}`);
}
const page = `domain.html?d=${domain}`;
const main = $('#main');
let ctx;

async function render(period) {
  main.replaceChildren(el('div', { class: 'loading' }, t('loading')));
  const ids = spec.ids.filter((id) => ctx.catalogue[id]);
  const insurerIds = (spec.insurerIds || []).filter((id) => ctx.catalogue[id]);
  const queries = [{ ids, ...period, by: 'store' }, { ids, ...period, by: 'group' }];
  if (spec.insurerIds) queries.push({ ids: insurerIds, ...period, by: 'insurer' });
  let answers;
  try { answers = await batch(queries); } catch (e) { showError(main, e); return; }
  const [stores, group, insurers] = answers;
  const rows = stores.rows;
  const n = (id) => kpiName(ctx.catalogue[id]);
  const defs = spec.charts(chartKit(rows, insurers?.rows || [], group.rows[0]?.values || {}));
  const boxes = defs.map(() => chartBox());
  const charts = el('div', { class: 'grid2' }, ...defs.map(([title], i) => panel(title, boxes[i])));
  const columns = [{ key: 'label', title: t('store'), type: 'text' },
    ...ids.map((id) => ({ key: id, title: n(id), type: 'kpi', def: ctx.catalogue[id] }))];
  const trows = rows.map((r) => ({ code: r.key, label: r.label, ...r.values }));
  const groupRow = group.rows[0] ? [{ code: 'group', label: t('group'), ...group.rows[0].values }] : [];
  const tbl = panel(t('league'), table(columns, [...groupRow, ...trows], {
    exportName: `${domain}-${period.from}-${period.to}`, exportTitle: t(spec.title),
    onRowClick: (r) => { if (r.code !== 'group') location.href = link('store.html', { code: r.code }); } }));
  tbl.id = 'domain-table';
  const parts = [el('h1', {}, t(spec.title), el('small', {}, `${period.from} ~ ${period.to}`)), charts, tbl];
  if (insurers) {
    const icols = [{ key: 'label', title: t('by_insurer'), type: 'text' },
      ...insurerIds.map((id) => ({ key: id, title: n(id), type: 'kpi', def: ctx.catalogue[id] }))];
    parts.push(panel(t('by_insurer'), table(icols, insurers.rows.map((r) => ({ code: r.key, label: r.label, ...r.values })),
      { exportName: `insurers-${period.from}-${period.to}` })));
  }
  main.replaceChildren(...parts);
  defs.forEach(([, option], i) => chart(boxes[i], reachTargets(option)));
}

(async () => {
  try {
    if (!spec) {
      // a mistyped or stale ?d=: the header still lets one go on
      await boot({ page, title: t('error') });
      main.replaceChildren(el('div', { class: 'error', role: 'alert', id: 'unknown-page' }, t('unknown_page', { name: domain })));
      return;
    }
    ctx = await boot({ page, title: t(spec.title), onPeriod: render });
    await render(ctx.period);
  } catch (e) { showError(main, e); }
})();
