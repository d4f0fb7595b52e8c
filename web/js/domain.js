// domain: the domain pages (service, parts, insurance, receivables, labour,
// retention, csi, sales) as one page, domain.html?d=<domain>. PAGES below describes
// each domain: its title, the KPIs it asks for, its charts and its tables;
// the page is the same for all. The older addresses parts.html,
// insurance.html, ... are links to this same file in the web root: opened
// through one, the page takes the domain from the file name and rewrites the
// address to domain.html?d=<domain> (keeping the rest of the query), so
// bookmarks keep working and every link names one page. The page may be
// filtered to one region of the caller's scope (?region=CODE, the toolbar's
// region filter); its total row is named for the scope (the group, the region, the
// store). Every target drawn is the catalogue's target in force (an admin
// may change it); every word comes from i18n.js. Under the store table, the
// group's median and top quartile of each KPI (GET /api/v1/benchmarks, over
// every store of the group; none below 5 stores, none when an admin has
// switched them off). A period that runs past the data is asked for up to
// where it stops and marked, and a store whose data stops earlier says so
// in its row. One POST /api/v1/kpi/batch per view.
import {
  boot, batch, el, $, kpiName, table, panel, showError, link, heading, scopeName, storeName, currentRegion,
  periodState, periodNote, storeDataNote, benchmarks, benchmarkOf, CSI_DIMENSIONS,
} from './core.js';
import { chart, chartBox, frame, kpiSeries, palette, dimensionsChart } from './charts.js';
import { t, placeName } from './i18n.js';
import { listsReady, listCell } from './lists-link.js';

// What a domain's charts are drawn from: the by-store rows, the by-insurer
// rows, the scope's values, the group's benchmarks, and helpers over the
// catalogue and settings.
function chartKit(rows, insurers, total, totalName, bench) {
  const def = (id) => ctx.catalogue[id];
  const insurerNames = insurers.map((r) => placeName(r.label, r.key));
  const col = (id, list = rows) => list.map((r) => r.values[id] ?? null);
  return {
    rows, insurers, total, totalName, insurerNames,
    // the group's medians of some KPIs (by id), or null when the benchmarks are off
    medians: (ids) => (bench.off ? null : Object.fromEntries(ids.map((id) => [id, benchmarkOf(def(id), bench.values?.[id])?.median ?? null]))),
    labels: rows.map((r) => storeName({ name: r.label, code: r.key })),
    n: (id) => kpiName(def(id)),
    def,
    setting: (name) => ctx.settings[name] ?? '—',
    col,
    // a KPI's series over the stores (or another list of rows), with its target
    kpi: (id, type, extra = {}, list = rows) => kpiSeries(def(id), type, col(id, list), extra),
  };
}
// A chart of one value per store for each series.
const byStore = (k, series) => frame({ categories: k.labels, series, rotate: 35 });

const PAGES = {
  service: {
    title: 'nav_service',
    ids: ['service.revenue', 'service.ro_count', 'service.mech_ro_count', 'service.body_ro_count', 'service.revenue_per_ro',
      'service.gross_profit', 'insurance.accident_share', 'service.turnaround_hours', 'service.comeback_rate',
      'service.absorption', 'service.personnel_cost_ratio', 'service.appointment_rate', 'service.followup_rate', 'service.complaint_rate',
      'service.comebacks', 'service.complaints'],
    charts: (k) => [
      [t('revenue_volume'), byStore(k, [k.kpi('service.revenue', 'bar'), k.kpi('service.ro_count', 'line')])],
      [k.n('service.revenue_per_ro'), byStore(k, [k.kpi('service.revenue_per_ro', 'bar')])],
      [t('service_quality'), byStore(k, [k.kpi('service.comeback_rate', 'bar'), k.kpi('service.complaint_rate', 'bar')])],
      [t('service_contact'), byStore(k, [k.kpi('service.appointment_rate', 'bar'), k.kpi('service.followup_rate', 'bar')])],
      [t('ro_mix'), byStore(k, [k.kpi('service.mech_ro_count', 'bar', { stack: 'ro' }), k.kpi('service.body_ro_count', 'bar', { stack: 'ro' }),
        k.kpi('service.turnaround_hours', 'line')])],
    ],
  },
  parts: {
    title: 'nav_parts',
    ids: ['parts.turnover', 'parts.fill_rate', 'parts.stock_value', 'parts.slow_moving_share', 'parts.obsolete_share',
      'parts.revenue', 'parts.gross_margin', 'parts.materials_cost_ratio', 'parts.accessory_revenue', 'parts.accessory_margin'],
    charts: (k) => [
      [t('turnover_fill'), byStore(k, [k.kpi('parts.turnover', 'bar'), k.kpi('parts.fill_rate', 'line')])],
      [t('stock_aging'), byStore(k, (() => {
        const v = (r, id) => r.values[id] ?? 0;
        const total = (r) => v(r, 'parts.stock_value');
        const obsolete = k.rows.map((r) => total(r) * v(r, 'parts.obsolete_share'));
        const slow = k.rows.map((r, i) => total(r) * v(r, 'parts.slow_moving_share') - obsolete[i]);
        const fresh = k.rows.map((r, i) => total(r) - slow[i] - obsolete[i]);
        const days = { slow: k.setting('parts.slow_moving_days'), obsolete: k.setting('parts.obsolete_days') };
        return [{ name: t('stock_fresh', days), type: 'bar', unit: 'CNY', data: fresh, stack: 'a', color: '#59a14f' },
          { name: t('stock_slow', days), type: 'bar', unit: 'CNY', data: slow, stack: 'a', color: '#f28e2b' },
          { name: t('stock_obsolete', days), type: 'bar', unit: 'CNY', data: obsolete, stack: 'a', color: '#e15759' }];
      })())],
    ],
  },
  insurance: {
    title: 'nav_insurance',
    ids: ['insurance.premium', 'insurance.new_penetration', 'insurance.renewal_rate', 'insurance.accident_revenue', 'insurance.repair_to_premium',
      'insurance.renewals_due'],
    insurerIds: ['insurance.premium', 'insurance.renewal_rate', 'insurance.accident_revenue', 'insurance.repair_to_premium', 'insurance.insurer_share'],
    charts: (k) => [
      [`${k.n('insurance.new_penetration')} / ${k.n('insurance.renewal_rate')}`,
        byStore(k, [k.kpi('insurance.new_penetration', 'bar'), k.kpi('insurance.renewal_rate', 'bar')])],
      [t('insurer_split'), {
        color: palette, tooltip: { trigger: 'item', formatter: '{b}: {d}%', confine: true },
        legend: { type: 'scroll', top: 0, left: 'center' },
        series: [{ type: 'pie', radius: ['28%', '52%'], center: ['50%', '58%'], name: k.n('insurance.insurer_share'),
          label: { formatter: '{b}\n{d}%' },
          data: k.insurers.map((r, i) => ({ name: k.insurerNames[i], value: r.values['insurance.insurer_share'] ?? 0 })) }],
      }],
      [t('repair_to_premium_insurer'), frame({ categories: k.insurerNames,
        series: [k.kpi('insurance.repair_to_premium', 'bar', {}, k.insurers)] })],
    ],
  },
  receivables: {
    title: 'nav_receivables',
    ids: ['receivables.open', 'receivables.age_0_30', 'receivables.age_31_60', 'receivables.age_61_90', 'receivables.age_91_180',
      'receivables.age_181_365', 'receivables.age_over_365', 'receivables.over_90_share', 'receivables.overdue',
      'receivables.dso', 'receivables.over_limit_accounts'],
    charts: (k) => {
      // the aging buckets are fixed by the KPIs' definitions: their day ranges label them
      const buckets = [['receivables.age_0_30', '0–30', '#59a14f'], ['receivables.age_31_60', '31–60', '#8cd17d'],
        ['receivables.age_61_90', '61–90', '#edc948'], ['receivables.age_91_180', '91–180', '#f28e2b'],
        ['receivables.age_181_365', '181–365', '#e15759'], ['receivables.age_over_365', '>365', '#9d2f2f']];
      return [
        [t('aging_by_store'), byStore(k, buckets.map(([id, label, color]) =>
          ({ name: label, type: 'bar', unit: 'CNY', data: k.col(id), stack: 'age', color })))],
        [`${t('overdue')} / ${t('over_limit')}`, byStore(k, [k.kpi('receivables.overdue', 'bar'),
          k.kpi('receivables.over_limit_accounts', 'line')])],
      ];
    },
  },
  labour: {
    title: 'nav_labour',
    ids: ['labour.revenue', 'labour.sold_hours', 'labour.effective_rate', 'labour.share', 'labour.tech_efficiency', 'labour.hours_per_ro'],
    charts: (k) => [
      [t('labour_rates'), byStore(k, [k.kpi('labour.effective_rate', 'bar'), k.kpi('labour.tech_efficiency', 'line')])],
      [t('hours_per_ro'), byStore(k, [k.kpi('labour.hours_per_ro', 'bar')])],
    ],
  },
  retention: {
    title: 'nav_retention',
    ids: ['retention.base', 'retention.at_risk', 'retention.warning', 'retention.lost', 'retention.churn_y1',
      'retention.churn_y2', 'retention.churn_y3', 'retention.first_service_rate', 'retention.first_service_pending', 'retention.maintenance_due'],
    charts: (k) => {
      const churn = ['retention.churn_y1', 'retention.churn_y2', 'retention.churn_y3'];
      const months = { at_risk: k.setting('retention.at_risk_months'), warning: k.setting('retention.warning_months'),
        lost: k.setting('retention.lost_after_months') };
      const targetOf = (id) => (typeof k.def(id)?.target === 'number' ? k.def(id).target : null);
      return [
        [t('buckets_369', months), byStore(k, ['retention.at_risk', 'retention.warning', 'retention.lost']
          .map((id) => k.kpi(id, 'bar', { stack: 'b' })))],
        [t('churn_by_age'), frame({ categories: churn.map(k.n), series: [
          { name: k.totalName, type: 'bar', unit: 'ratio', data: churn.map((id) => k.total[id] ?? null) },
          { name: t('target'), type: 'bar', unit: 'ratio', data: churn.map(targetOf), color: '#c4c9d4' },
        ] })],
        [t('first_service'), byStore(k, [k.kpi('retention.first_service_rate', 'bar')])],
      ];
    },
  },
  csi: {
    title: 'nav_csi',
    ids: ['csi.score', 'csi.responses', ...CSI_DIMENSIONS],
    charts: (k) => [
      [k.n('csi.score'), byStore(k, [k.kpi('csi.score', 'bar')])],
      [t('csi_dimensions'), byStore(k, CSI_DIMENSIONS.filter((id) => k.def(id)).map((id) => k.kpi(id, 'bar')))],
      // the scope's five dimensions, each beside the group's median (no chart without the dimensions)
      [t('servqual_scope', { name: k.totalName }), (() => {
        const dims = CSI_DIMENSIONS.map(k.def).filter(Boolean);
        return dims.length ? dimensionsChart(dims, k.totalName, k.total, k.medians(dims.map((d) => d.id))) : { series: [] };
      })()],
    ],
  },
  sales: {
    title: 'nav_sales',
    ids: ['sales.units', 'sales.revenue', 'sales.referral_share', 'insurance.new_penetration'],
    charts: (k) => [
      [t('sales_volume'), byStore(k, [k.kpi('sales.units', 'bar'), k.kpi('sales.revenue', 'line')])],
      [t('sales_conversion'), byStore(k, [k.kpi('sales.referral_share', 'bar'), k.kpi('insurance.new_penetration', 'bar')])],
    ],
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
  const scope = currentRegion ? { regions: [currentRegion] } : {};
  const state = periodState(period);
  const q = { from: state.query.from, to: state.query.to };
  const queries = [{ ids, ...q, by: 'store', ...scope }, { ids, ...q, by: 'group', ...scope }];
  if (spec.insurerIds) queries.push({ ids: insurerIds, ...q, by: 'insurer', ...scope });
  let answers, bench;
  try {
    [answers, bench] = await Promise.all([batch(queries),
      benchmarks(ids.filter((id) => ctx.catalogue[id].by?.includes('store')), q)]);
  } catch (e) { showError(main, e); return; }
  const [stores, group, insurers] = answers;
  const lists = await listsReady();
  const rows = stores.rows;
  const n = (id) => kpiName(ctx.catalogue[id]);
  const totalName = scopeName(ctx);
  // a chart whose KPIs are all missing from the catalogue is left out
  const defs = spec.charts(chartKit(rows, insurers?.rows || [], group.rows[0]?.values || {}, totalName, bench))
    .filter(([, option]) => option.series.length > 0);
  const boxes = defs.map(() => chartBox());
  const charts = el('div', { class: 'grid2' }, ...defs.map(([title], i) => panel(title, boxes[i])));
  const columns = [{ key: 'label', title: t('store'), type: 'text', render: (r) => [r.label, r.code !== 'group' && !r.bench ? storeDataNote(r.code, period) : null] },
    ...ids.map((id) => ({ key: id, title: n(id), type: 'kpi', def: ctx.catalogue[id] }))];
  // a value a list explains opens the list of its row's store (the total row: the page's scope)
  for (const c of columns) if (c.def) c.render = listCell(ctx, lists, c.key, period, currentRegion ? [currentRegion] : []);
  const trows = rows.map((r) => ({ code: r.key, label: storeName({ name: r.label, code: r.key }), ...r.values }));
  const groupRow = group.rows[0] && rows.length > 1 ? [{ code: 'group', label: totalName, ...group.rows[0].values }] : [];
  // the group's median and top quartile of each KPI, in the table's foot
  const benchRow = (key, label, pick) => {
    const row = { code: key, label, bench: true };
    for (const id of ids) row[id] = pick(benchmarkOf(ctx.catalogue[id], bench.values?.[id]));
    return ids.some((id) => row[id] !== null && row[id] !== undefined) ? row : null;
  };
  const foot = [benchRow('bench-median', t('bench_median'), (b) => b?.median ?? null),
    benchRow('bench-top', t('bench_top'), (b) => b?.top ?? null)].filter(Boolean);
  const tbl = panel(t('league'), table(columns, [...groupRow, ...trows], {
    foot, rowClass: (r) => (r.bench ? `bench-row ${r.code}` : ''),
    exportName: `${domain}-${period.from}-${period.to}`, exportTitle: t(spec.title),
    onRowClick: (r) => { if (r.code !== 'group') location.href = link('store.html', { code: r.code }); } }));
  tbl.id = 'domain-table';
  const parts = [heading(t(spec.title), period, currentRegion ? totalName : null), periodNote(state), charts, tbl];
  if (insurers) {
    const icols = [{ key: 'label', title: t('by_insurer'), type: 'text' },
      ...insurerIds.map((id) => ({ key: id, title: n(id), type: 'kpi', def: ctx.catalogue[id] }))];
    parts.push(panel(t('by_insurer'), table(icols, insurers.rows.map((r) => ({ code: r.key, label: placeName(r.label, r.key), ...r.values })),
      { exportName: `insurers-${period.from}-${period.to}` })));
  }
  main.replaceChildren(...parts.filter(Boolean));
  defs.forEach(([, option], i) => chart(boxes[i], option));
}

(async () => {
  try {
    if (!spec) {
      // a mistyped or stale ?d=: the header still lets one go on
      await boot({ page, title: t('error') });
      main.replaceChildren(el('div', { class: 'error', role: 'alert', id: 'unknown-page' }, t('unknown_page', { name: domain })));
      return;
    }
    ctx = await boot({ page, title: t(spec.title), onPeriod: render, regionPicker: true });
    await render(ctx.period);
  } catch (e) { showError(main, e); }
})();
