// overview: the group overview. Headline cards (with the change against the previous
// period and the same period last year, coloured against the target), the
// regions compared, and the store league table; ?region=CODE drills into one
// region. One POST /api/v1/kpi/batch per view.
import {
  boot, batch, byKey, el, $, kpiName, fmtValue, fmtTarget, targetStatus, change, previousPeriod, lastYear,
  table, chart, panel, chartBox, showError, link, palette, axisFormatter, currentPeriod,
} from './core.js';
import { t } from './i18n.js';

export const HEADLINE = ['service.revenue', 'service.ro_count', 'service.revenue_per_ro', 'labour.share',
  'parts.gross_margin', 'receivables.over_90_share', 'insurance.renewal_rate', 'retention.churn_y1', 'csi.score'];

const main = $('#main');
const region = new URLSearchParams(location.search).get('region');
let ctx;

// The view's one batch: the period, the one before, the same one last year,
// then the period by region (by store inside a region) and by store.
function viewBatch(ids, period) {
  const scope = region ? { regions: [region] } : {};
  const prev = previousPeriod(period), yoy = lastYear(period);
  return batch([
    { ids, ...period, by: 'group', ...scope },
    { ids, ...prev, by: 'group', ...scope },
    { ids, ...yoy, by: 'group', ...scope },
    { ids, ...period, by: region ? 'store' : 'region', ...scope },
    { ids, ...period, by: 'store', ...scope },
  ]);
}

// The first view's batch goes out at once, beside the session and catalogue
// requests and the chart library, rather than after them (the overview is
// the page opened every morning). If a headline KPI is missing from the
// catalogue it fails, and render asks again with the ids that exist.
let early = { period: currentPeriod, answers: viewBatch(HEADLINE, currentPeriod) };
early.answers.catch(() => {});        // handled (or replaced) by the first render

async function render(period) {
  main.replaceChildren(el('div', { class: 'loading' }, t('loading')));
  const ids = HEADLINE.filter((id) => ctx.catalogue[id]);
  let answers;
  try {
    const first = early && early.period === period && ids.length === HEADLINE.length ? early.answers : null;
    early = null;
    answers = await (first ? first.catch(() => viewBatch(ids, period)) : viewBatch(ids, period));
  } catch (e) { showError(main, e); return; }
  const [now, before, lastYr, compare, stores] = answers;
  const g = now.rows[0]?.values || {}, p = before.rows[0]?.values || {}, y = lastYr.rows[0]?.values || {};

  const regionName = region ? (ctx.regionByCode[region]?.name || region) : null;
  const title = el('h1', {}, region ? `${regionName}` : t('nav_overview'),
    el('small', {}, `${period.from} ~ ${period.to}`));
  const crumbs = region ? el('div', { class: 'crumbs' }, el('a', { href: link('index.html'), id: 'back-group' }, '← ' + t('back_group'))) : null;

  const cards = el('div', { class: 'cards', id: 'headline' }, ...ids.map((id) => {
    const def = ctx.catalogue[id];
    const v = g[id];
    const cp = change(def, v, p[id]), cy = change(def, v, y[id]);
    return el('div', { class: `card ${targetStatus(def, v)}`, dataset: { kpi: id } },
      el('div', { class: 'name' }, kpiName(def)),
      el('div', { class: 'value' }, fmtValue(v, def.unit)),
      el('div', { class: 'deltas' },
        el('span', { class: cp.cls }, `${t('vs_prev')} ${cp.text}`),
        el('span', { class: cy.cls }, `${t('vs_yoy')} ${cy.text}`)),
      el('div', { class: 'target' }, fmtTarget(def) ? `${t('target')} ${fmtTarget(def)}` : ''));
  }));

  // regions (or, inside a region, its stores) compared on revenue and labour share
  const cmpBox = chartBox();
  const cmpRows = compare.rows;
  const cmpPanel = panel(region ? t('store') : t('region_compare'), cmpBox);

  // the league table: a column per headline KPI
  const columns = [
    { key: 'label', title: t('store'), type: 'text' },
    { key: 'region_name', title: t('region'), type: 'text' },
    { key: 'brand', title: t('brand_col'), type: 'text' },
    ...ids.map((id) => ({ key: id, title: kpiName(ctx.catalogue[id]), type: 'kpi', def: ctx.catalogue[id] })),
  ];
  const rows = stores.rows.map((r) => {
    const s = ctx.storeByCode[r.key] || {};
    return { code: r.key, label: r.label || s.name || r.key, region_name: s.region_name || s.region || '', brand: s.brand || '', ...r.values };
  });
  const league = panel(t('league'), el('p', { class: 'muted' }, t('league_hint')),
    table(columns, rows, { exportName: `league-${period.from}-${period.to}`, sortKey: 'service.revenue',
      onRowClick: (r) => { location.href = link('store.html', { code: r.code }); } }));
  league.id = 'league';

  let regionTable = null;
  if (!region && cmpRows.length > 1) {
    const rcols = [{ key: 'label', title: t('region'), type: 'text' },
      ...ids.map((id) => ({ key: id, title: kpiName(ctx.catalogue[id]), type: 'kpi', def: ctx.catalogue[id] }))];
    regionTable = table(rcols, cmpRows.map((r) => ({ code: r.key, label: r.label, ...r.values })), {
      exportName: `regions-${period.from}-${period.to}`,
      onRowClick: (r) => { location.href = link('index.html', { region: r.code }); },
    });
    regionTable.id = 'region-table';
    cmpPanel.append(regionTable);
  }

  main.replaceChildren(...[crumbs, title, cards, cmpPanel, league].filter(Boolean));
  const rev = ctx.catalogue['service.revenue'], share = ctx.catalogue['labour.share'];
  const c = chart(cmpBox, {
    color: palette,
    tooltip: { trigger: 'axis' },
    legend: { data: [kpiName(rev), kpiName(share)] },
    grid: { left: 70, right: 60, bottom: 60 },
    xAxis: { type: 'category', data: cmpRows.map((r) => r.label), axisLabel: { rotate: cmpRows.length > 8 ? 35 : 0 } },
    yAxis: [{ type: 'value', axisLabel: { formatter: axisFormatter('CNY') } },
      { type: 'value', axisLabel: { formatter: axisFormatter('ratio') }, splitLine: { show: false } }],
    series: [
      { name: kpiName(rev), type: 'bar', data: cmpRows.map((r) => r.values['service.revenue']) },
      { name: kpiName(share), type: 'line', yAxisIndex: 1, data: cmpRows.map((r) => r.values['labour.share']) },
    ],
  });
  c.on('click', (ev) => {
    const r = cmpRows[ev.dataIndex];
    if (!r) return;
    location.href = region ? link('store.html', { code: r.key }) : link('index.html', { region: r.key });
  });
}

(async () => {
  try {
    ctx = await boot({ page: 'index.html', title: t('nav_overview'), onPeriod: render });
    await render(ctx.period);
  } catch (e) { showError(main, e); }
})();
