// roles cases (run by dashboards.test.mjs, in its server): each role's page
// and the overview's year. The executive's overview shows the 12 months to
// the period against the year before, with the target where the catalogue
// has one and each month's budget where the stores have one, its cards
// open their domain page for the same period, and the regions compared;
// a regional manager's overview is titled and totalled by their region,
// compares its stores, and sets every headline KPI of the region beside
// the group median and top quartile (none, said so, when an admin switches
// benchmarks off); a store manager lands on their store;
// the domain pages filter by region within the scope; the store page shows
// the change on last year for every panel and 24-month trends of revenue,
// receivables and retention. Expected figures come from the KPI API itself
// queried by the test (by month, by store, for the months worked out here by
// hand), so the pages are checked for showing the right months and rows.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { h, PERIOD, USERS, consoleErrors, login, newPage, pageDrawn, batchCounter, newContext, apiLogin } from './harness.mjs';

// The months of a trend: `n` months ending with `end` (YYYY-MM), worked out by counting.
function monthsTo(end, n) {
  let [y, m] = end.split('-').map(Number);
  const out = [];
  for (let i = 0; i < n; i++) { out.unshift(`${y}-${String(m).padStart(2, '0')}`); if (--m === 0) { m = 12; y--; } }
  return out;
}
// The chart options of the page, by the title of each chart's figure or panel.
const chartsByTitle = (page) => page.evaluate(() => Object.fromEntries([...document.querySelectorAll('.chart')].map((box) => {
  const holder = box.closest('figure, .panel');
  const o = echarts.getInstanceByDom(box).getOption();
  return [holder.querySelector(':scope > h2, :scope > h3').textContent, {
    categories: (o.xAxis[0].type === 'category' ? o.xAxis[0] : o.yAxis[0]).data,
    series: o.series.map((s) => ({ name: s.name, type: s.type, data: s.data, targets: (s.markLine?.data || []).map((d) => d.yAxis),
      colour: s.itemStyle?.color })),
  }];
})));
const kpiApi = (page, query) => page.evaluate(async (q) => (await fetch(`/api/v1/kpi?${q}`)).json(), query);

test('the executive\'s overview tells the year: 12 months against the year before, cards that open their domain, regions compared', async () => {
  const page = await newPage('zh');
  await login(page, 'exec', 'demo1234');
  const batches = batchCounter(page);
  await page.goto(`${h.server.url}/index.html?${PERIOD}`);
  await pageDrawn(page);
  assert.equal(batches(), 1, 'one KPI batch for the whole view, the trend included');
  assert.equal(await page.$eval('h1', (e) => e.firstChild.textContent), '集团总览');
  const charts = await chartsByTitle(page);
  const ids = ['service.revenue', 'service.ro_count', 'service.revenue_per_ro', 'labour.share'];
  const names = await page.evaluate(async () => Object.fromEntries((await (await fetch('/api/v1/kpis')).json()).kpis.map((k) => [k.id, k])));
  const thisYear = await kpiApi(page, `ids=${ids}&from=2025-10-01&to=2026-09-30&by=month&targets=1`);
  const lastYearRows = await kpiApi(page, `ids=${ids}&from=2024-10-01&to=2025-09-30&by=month`);
  for (const [id, type] of [['service.revenue', 'bar'], ['service.ro_count', 'bar'], ['service.revenue_per_ro', 'line'], ['labour.share', 'line']]) {
    const c = charts[names[id].name.zh];
    assert.ok(c, `a 12-month chart titled ${names[id].name.zh}`);
    assert.deepEqual(c.categories, monthsTo('2026-09', 12), `${id}: October 2025 to September 2026`);
    // a budget KPI (revenue, RO count: the demo imports their monthly targets) has each month's budget as a third, dashed line
    const budget = names[id].budget ? thisYear.rows.map((r) => r.targets[id]) : null;
    assert.deepEqual(c.series.map((s) => s.type), budget ? [type, type, 'line'] : [type, type], `${id}: drawn as ${type}s`);
    if (budget) {
      assert.ok(budget.every((v) => typeof v === 'number' && v > 0), `${id}: the demo has a budget for every month`);
      assert.equal(c.series[2].name, '月度目标');
      assert.deepEqual(c.series[2].data, budget, `${id}: the stores' budgets of each month (GET /api/v1/kpi targets=1 by month)`);
    }
    assert.equal(c.series[0].name, `${names[id].name.zh}（去年）`, `${id}: last year's series, named so`);
    assert.match(c.series[0].colour, /^#[0-9a-f]{6}[0-9a-f]{2}$/i, `${id}: last year is faint (a translucent colour)`);
    assert.deepEqual(c.series[1].data, thisYear.rows.map((r) => r.values[id]), `${id}: this year's months`);
    assert.deepEqual(c.series[0].data, lastYearRows.rows.map((r) => r.values[id]), `${id}: the same months a year before`);
    const tg = names[id].target;
    assert.deepEqual(c.series[1].targets, typeof tg === 'number' ? [tg] : tg ? [tg.low, tg.high] : [], `${id}: its catalogue target`);
  }
  assert.deepEqual(charts['工时产值占比'].series[1].targets, [0.3], 'labour share: the default target 0.3 (docs/kpis.md)');
  // the regions compared: four regions, one bar each
  const cmp = charts['区域对比'];
  const regions = await kpiApi(page, 'ids=service.revenue&from=2026-09-01&to=2026-09-30&by=region');
  assert.equal(cmp.categories.length, regions.rows.length);
  assert.deepEqual(cmp.series[0].data, regions.rows.map((r) => r.values['service.revenue']));
  // every card opens its domain's page for the same period
  const cards = await page.$$eval('#headline a.card', (as) => as.map((a) => [a.dataset.kpi, a.getAttribute('href')]));
  assert.equal(cards.length, 9, 'nine cards, each a link');
  for (const [id, href] of cards) {
    const q = new URLSearchParams(href.split('?')[1]);
    assert.equal(href.split('?')[0], 'domain.html');
    assert.equal(q.get('d'), id.split('.')[0], `${id}: its domain`);
    assert.deepEqual([q.get('from'), q.get('to'), q.get('kind')], ['2026-09-01', '2026-09-30', 'month'], `${id}: the same period`);
  }
  await Promise.all([page.waitForURL(/domain\.html\?d=receivables&/), page.click('#headline a.card[data-kpi="receivables.over_90_share"]')]);
  await pageDrawn(page);
  assert.equal(await page.$eval('h1', (e) => e.firstChild.textContent), '应收账款');
  assert.match(await page.textContent('h1 small'), /2026-09-01 ~ 2026-09-30/);
  await page.close();
});

// The headline KPIs of the overview (web/js/overview.js HEADLINE), and those
// that add up over stores (a region's total is set against the store
// quartiles divided by its stores with a value).
const HEADLINE = ['service.revenue', 'service.ro_count', 'service.revenue_per_ro', 'labour.share',
  'parts.gross_margin', 'receivables.over_90_share', 'insurance.renewal_rate', 'retention.churn_y1', 'csi.score'];
const VOLUMES = ['service.revenue', 'service.ro_count'];
// The region against the group on a region's overview of September 2026: a
// row per headline KPI (none missing); its value is GET /api/v1/kpi by=region
// for the region, the median and top quartile GET /api/v1/benchmarks' (p75
// where higher is better, p25 where lower is), a volume per store is the
// region's value over its stores with a value (by=store, counted here), and
// the standing follows from those numbers by the KPI's direction. A ratio's
// cells read as the page formats it: one decimal of a percent.
async function checkRegionBench(page, region) {
  const shown = await page.$$eval('#region-bench[data-state="on"] #bench-table tbody tr', (trs) => trs.map((tr) => ({ ...tr.dataset,
    cells: Object.fromEntries([...tr.children].filter((td) => td.dataset.cell).map((td) => [td.dataset.cell, td.firstChild?.textContent ?? ''])) })));
  assert.deepEqual(shown.map((r) => r.kpi), HEADLINE, 'the region beside the group median and top quartile, for every headline KPI');
  const range = 'from=2026-09-01&to=2026-09-30';
  const catalogue = await page.evaluate(async () => Object.fromEntries((await (await fetch('/api/v1/kpis')).json()).kpis.map((k) => [k.id, k])));
  const bench = (await page.evaluate(async (q) => (await fetch(`/api/v1/benchmarks?${q}`)).json(), `ids=${HEADLINE}&${range}`)).values;
  const byRegion = (await kpiApi(page, `ids=${HEADLINE}&${range}&by=region&regions=${region}`)).rows;
  assert.deepEqual(byRegion.map((r) => r.key), [region]);
  const byStore = (await kpiApi(page, `ids=${VOLUMES}&${range}&by=store&regions=${region}`)).rows;
  const pct = (x) => `${(x * 100).toFixed(1)}%`;
  for (const r of shown) {
    const def = catalogue[r.kpi], b = bench[r.kpi], v = byRegion[0].values[r.kpi];
    assert.ok(b.stores >= 5 && typeof b.median === 'number', `${r.kpi}: the demo's 8 stores give a benchmark`);
    assert.equal(Number(r.value), v, `${r.kpi}: the region's value`);
    assert.equal(Number(r.median), b.median, `${r.kpi}: the group median`);
    const top = def.direction === 'higher' ? b.p75 : b.p25;
    assert.equal(Number(r.top), top, `${r.kpi}: the top quartile (${def.direction})`);
    let mine = v;
    if (VOLUMES.includes(r.kpi)) {
      const n = byStore.filter((s) => typeof s.values[r.kpi] === 'number').length;
      assert.ok(n >= 1);
      mine = v / n;
      assert.equal(Number(r.perStore), mine, `${r.kpi}: per store of the region (${n} stores)`);
    } else assert.equal(r.perStore, '', `${r.kpi}: not divided`);
    const better = (a, c) => (def.direction === 'higher' ? a >= c : a <= c);
    assert.equal(r.standing, better(mine, top) ? 'top' : better(mine, b.median) ? 'above' : 'below', `${r.kpi}: its standing`);
    if (def.unit === 'ratio') {
      assert.deepEqual([r.cells.value, r.cells.median, r.cells.top], [pct(v), pct(b.median), pct(top)], `${r.kpi}: the cells read`);
    }
  }
  const head = await page.$$eval('#bench-table thead th', (ths) => ths.map((th) => th.textContent));
  assert.deepEqual(head.slice(1, 4), [(await page.evaluate(async () => (await fetch('/api/v1/regions')).json())).find((x) => x.code === region).name,
    '集团中位数', '集团前四分位'], 'the columns: the region by its name, the median, the top quartile');
}

test('a regional manager\'s overview is their region\'s: titled and totalled by its name, its stores compared', async () => {
  const page = await newPage('zh');
  await login(page, USERS.rm.user, USERS.rm.password);
  const regions = await page.evaluate(async () => (await fetch('/api/v1/regions')).json());
  assert.equal(regions.length, 1);
  const name = regions[0].name;            // 华北 in the demo
  const batches = batchCounter(page);
  await page.goto(`${h.server.url}/index.html?${PERIOD}`);
  await pageDrawn(page);
  assert.equal(batches(), 1);
  assert.equal(await page.$eval('h1', (e) => e.firstChild.textContent), `${name}区域总览`);
  assert.equal(await page.title(), `${name}区域总览 · Fourscore`);
  assert.equal(await page.textContent('header nav a.active'), '区域总览', 'the nav names it a region overview');
  assert.doesNotMatch(await page.textContent('main'), /集团总览/, 'nothing calls it the group\'s');
  await checkRegionBench(page, regions[0].code);
  const stores = await page.evaluate(async () => (await fetch('/api/v1/stores')).json());
  const charts = await chartsByTitle(page);
  assert.ok(charts['门店对比'], 'with one region, its stores are compared');
  assert.equal(charts['门店对比'].categories.length, stores.length);
  // a domain page's total row is the region's, by name
  await page.goto(`${h.server.url}/domain.html?d=parts&${PERIOD}`);
  await pageDrawn(page);
  const first = await page.$eval('#domain-table tbody tr:first-child td', (td) => td.textContent);
  assert.equal(first, name, 'the total row is called by the region\'s name');
  // (the foot's benchmarks are the whole group's, and say so: daily.cases.mjs)
  assert.doesNotMatch(await page.textContent('#domain-table tbody'), /集团/);
  const churn = await page.goto(`${h.server.url}/domain.html?d=retention&${PERIOD}`).then(() => pageDrawn(page)).then(() => chartsByTitle(page));
  assert.equal(churn['按车龄流失率'].series[0].name, name, 'the churn chart\'s totals are the region\'s');
  // switched off by the admin: no comparison, and the page says why
  const admin = await h.server.adminCookie();
  const put = (v) => h.server.request('PUT', '/api/v1/settings', { cookie: admin, body: { 'benchmarks.shared': v } });
  assert.equal((await put(0)).status, 200);
  const errorsBefore = consoleErrors.length;
  try {
    await page.goto(`${h.server.url}/index.html?${PERIOD}`);
    await pageDrawn(page);
    assert.equal(await page.getAttribute('#region-bench', 'data-state'), 'off');
    assert.equal(await page.textContent('#bench-note'), '管理员已关闭集团对比');
    assert.equal(await page.$('#bench-table'), null, 'no figures to compare with');
  } finally {
    assert.equal((await put(1)).status, 200);
  }
  // the browser logs the 403 answer: that is expected, and only it
  const logged = consoleErrors.splice(errorsBefore);
  assert.ok(logged.length <= 1 && logged.every((e) => /status of 403/.test(e)), logged.join('\n'));
  await page.close();
});

test('a store manager lands on their store page, with the change on last year in every panel and 24-month trends', async () => {
  const page = await newPage('zh');
  await page.goto(`${h.server.url}/login.html`);
  await page.fill('#username', USERS.sm.user);
  await page.fill('#password', USERS.sm.password);
  await Promise.all([page.waitForURL(/store\.html\?code=BJ003/), page.click('#submit')]);
  await pageDrawn(page);
  // the overview, opened by hand, sends them to the same page, asking no KPI on the way
  const batches = batchCounter(page);
  await page.goto(`${h.server.url}/index.html?${PERIOD}`);
  await page.waitForURL(/store\.html\?.*code=BJ003/);
  await pageDrawn(page);
  assert.equal(batches(), 1, 'the store page\'s batch only');
  await page.reload();
  await pageDrawn(page);
  assert.equal(batches(), 1, 'one KPI batch, the trends and last year included');
  assert.equal(await page.textContent('header nav a.active'), '我的门店');
  const panels = await page.$$eval('#store-panels .panel', (ps) => ps.map((p) => ({
    rows: [...p.querySelectorAll('.v[data-kpi]')].map((v) => v.dataset.kpi),
    yoy: [...p.querySelectorAll('.d[data-yoy]')].map((d) => [d.dataset.yoy, d.textContent]) })));
  assert.ok(panels.length >= 6);
  for (const p of panels) assert.deepEqual(p.yoy.map(([id]) => id), p.rows, 'every value has its change on last year');
  // the change worked out from the API: revenue this September against last September
  const q = (from, to) => page.evaluate(async ([f, t]) => (await (await fetch(`/api/v1/kpi?ids=service.revenue,labour.share&from=${f}&to=${t}&by=store&stores=BJ003`)).json()).rows[0].values, [from, to]);
  const now = await q('2026-09-01', '2026-09-30'), before = await q('2025-09-01', '2025-09-30');
  const yoy = Object.fromEntries(panels.flatMap((p) => p.yoy));
  // one decimal with its sign (a change that rounds to nothing reads ±0.0)
  const signed = (x) => (Number(x.toFixed(1)) === 0 ? '±0.0' : `${x > 0 ? '+' : ''}${x.toFixed(1)}`);
  const pct = (now['service.revenue'] - before['service.revenue']) / before['service.revenue'] * 100;
  assert.equal(yoy['service.revenue'], `${signed(pct)}%`);
  const pts = (now['labour.share'] - before['labour.share']) * 100;
  assert.equal(yoy['labour.share'], `${signed(pts)}个百分点`, 'a ratio changes by points');
  const charts = await chartsByTitle(page);
  for (const title of ['产值与台次', '应收账款', '客户流失']) {
    assert.ok(charts[title], `a trend titled ${title}`);
    assert.deepEqual(charts[title].categories, monthsTo('2026-09', 24), `${title}: 24 months to September 2026`);
  }
  const open = await page.evaluate(async () => (await (await fetch('/api/v1/kpi?ids=receivables.open&from=2024-10-01&to=2026-09-30&by=month&stores=BJ003')).json()).rows.map((r) => r.values['receivables.open']));
  assert.deepEqual(charts['应收账款'].series[0].data, open, 'receivables as of each month end');
  assert.ok(await page.$('#benchmark-slot[data-state="on"]'), 'the benchmarks\' legend (their values: daily.cases.mjs)');
  assert.ok(await page.$('.b[data-bench="service.revenue"]'), 'the group median beside the store\'s revenue');
  await page.close();
});

test('a domain page filters to one region of the scope, names its total by it, and keeps it across pages', async () => {
  const context = await newContext();
  try {
    await apiLogin(context, USERS.exec);
    const page = await context.newPage();
    page.setDefaultTimeout(120000);
    await page.goto(`${h.server.url}/domain.html?d=labour&${PERIOD}`);
    await pageDrawn(page);
    const regions = await page.evaluate(async () => (await fetch('/api/v1/regions')).json());
    const options = await page.$$eval('#region-filter option', (os) => os.map((o) => o.value));
    assert.deepEqual(options, ['', ...regions.map((r) => r.code)], 'the whole scope, then each of its regions');
    const batches = batchCounter(page);
    await page.selectOption('#region-filter', 'HB');
    await page.waitForFunction(() => location.search.includes('region=HB'));
    await pageDrawn(page);
    assert.equal(batches(), 1, 'one batch for the filtered view');
    const stores = (await page.evaluate(async () => (await fetch('/api/v1/stores')).json())).filter((s) => s.region === 'HB');
    const rows = await page.$$eval('#domain-table tbody tr td:first-child', (tds) => tds.map((td) => td.textContent));
    const hb = regions.find((r) => r.code === 'HB').name;
    assert.deepEqual(rows.sort(), [hb, ...stores.map((s) => s.name)].sort(), 'the region\'s total and its stores, no others');
    assert.match(await page.textContent('h1 small'), new RegExp(hb));
    const navHrefs = await page.$$eval('header nav a', (as) => as.map((a) => a.getAttribute('href')));
    assert.ok(navHrefs.filter((x) => x.startsWith('domain.html')).every((x) => /[?&]region=HB(&|$)/.test(x)), 'the nav keeps the filter');
    // a region out of scope (a hand-made address) is the whole scope, not an error
    const rm = await newContext();
    await apiLogin(rm, USERS.rm);
    const p2 = await rm.newPage();
    await p2.goto(`${h.server.url}/domain.html?d=labour&${PERIOD}&region=HN`);
    await pageDrawn(p2);
    const rmRows = await p2.$$eval('#domain-table tbody tr td:first-child', (tds) => tds.length);
    assert.equal(rmRows, stores.length + 1, 'the regional manager still sees their region, total and stores');
    await rm.close();
  } finally {
    await context.close();
  }
});

test('in English, store and region names are followed by their code', async () => {
  const page = await newPage('en');
  await login(page, 'exec', 'demo1234');
  await page.evaluate(() => localStorage.setItem('fourscore.lang', 'en'));
  try {
    await page.goto(`${h.server.url}/store.html?code=BJ003&${PERIOD}`);
    await pageDrawn(page);
    const store = (await page.evaluate(async () => (await fetch('/api/v1/stores')).json())).find((s) => s.code === 'BJ003');
    assert.equal(await page.$eval('h1', (e) => e.firstChild.textContent), `${store.name} (BJ003)`);
    await page.goto(`${h.server.url}/index.html?${PERIOD}`);
    await pageDrawn(page);
    const regionCells = await page.$$eval('#region-table tbody td:first-child', (tds) => tds.map((td) => td.textContent));
    assert.ok(regionCells.length > 1 && regionCells.every((c) => /^\S.* \([A-Z]+\)$/.test(c)), regionCells.join(', '));
    const cats = await page.evaluate(() => echarts.getInstanceByDom(document.querySelector('#compare .chart')).getOption().xAxis[0].data);
    assert.deepEqual([...cats].sort(), [...regionCells].sort(), 'the chart names the regions as the table does');
  } finally {
    await page.evaluate(() => localStorage.setItem('fourscore.lang', 'zh'));
    await page.close();
  }
});
