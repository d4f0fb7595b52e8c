// panels cases (run by dashboards.test.mjs, in its server): the figures
// behind the whole store, each read back against the API. The overview's
// 进厂台次 card splits into 机电 + 钣喷, which add up to it; the store page
// shows the same split under 服务产值 = 进厂台次 × 单车产值, a 销售 panel
// (units, revenue, referral share, new-car insurance penetration), a 人员
// panel (headcount, turnover), turnaround hours and accident share in its
// service panel, and the five SERVQUAL dimensions as bars beside the group's
// median, all from one KPI batch; the sales page's store rows add up to its
// total row; the service page stacks 机电 on 钣喷 per store; the CSI page
// draws the scope's five dimensions beside the group's median. Expected
// values come from GET /api/v1/kpi and GET /api/v1/benchmarks for the same
// stores and period, and from sums of the page's own rows.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { h, shots, PERIOD, login, newPage, pageDrawn, batchCounter } from './harness.mjs';

const FROM = '2026-09-01', TO = '2026-09-30';
const DIMS = ['csi.reliability', 'csi.responsiveness', 'csi.assurance', 'csi.empathy', 'csi.tangibles'];
// A count as the page prints it in Chinese ("1,234") read back as a number.
const count = (text) => Number(text.replace(/[,\s]/g, ''));
// GET /api/v1/kpi in the page's session: the rows' values by key.
const kpi = (page, ids, by = 'group', stores = '') => page.evaluate(async ([q]) => {
  const r = await fetch(`/api/v1/kpi?${q}`);
  if (!r.ok) throw new Error(`${r.status} ${await r.text()}`);
  return Object.fromEntries((await r.json()).rows.map((row) => [row.key, row.values]));
}, [`ids=${ids.join(',')}&from=${FROM}&to=${TO}&by=${by}${stores ? `&stores=${stores}` : ''}`]);
const benchmarks = (page, ids) => page.evaluate(async (q) => (await (await fetch(`/api/v1/benchmarks?${q}`)).json()).values,
  `ids=${ids.join(',')}&from=${FROM}&to=${TO}`);
const catalogue = (page) => page.evaluate(async () => Object.fromEntries((await (await fetch('/api/v1/kpis')).json()).kpis.map((k) => [k.id, k])));
// The options of the chart in the element `sel` (or of every chart whose series `pick` accepts).
const chartOption = (page, sel) => page.$eval(sel, (box) => {
  /* global echarts */
  const o = echarts.getInstanceByDom(box.querySelector('.chart') || box).getOption();
  return { xAxis: o.xAxis, yAxis: o.yAxis, legend: o.legend, series: o.series.map((s) => ({ name: s.name, type: s.type, stack: s.stack, data: s.data,
    unit: s.unit, xAxisIndex: s.xAxisIndex, yAxisIndex: s.yAxisIndex })) };
});
const allCharts = (page) => page.$$eval('.chart', (boxes) => boxes.map((box) => {
  const o = echarts.getInstanceByDom(box).getOption();
  return { title: box.closest('figure, .panel').querySelector(':scope > h2, :scope > h3').textContent, xAxis: o.xAxis, yAxis: o.yAxis,
    series: o.series.map((s) => ({ name: s.name, stack: s.stack, data: s.data, unit: s.unit, yAxisIndex: s.yAxisIndex })) };
}));

test('the overview\'s 进厂台次 card shows 机电 + 钣喷, which add up to it and are the API\'s counts', async () => {
  const page = await newPage('zh');
  await login(page, 'exec', 'demo1234');
  await page.goto(`${h.server.url}/index.html?${PERIOD}`);
  await pageDrawn(page);
  assert.equal(await page.$$eval('#headline .card', (cs) => cs.length), 9, 'still nine cards: the split has none of its own');
  const card = await page.$eval('#headline .card[data-kpi="service.ro_count"]', (c) => ({
    value: c.querySelector('.value').textContent, split: c.querySelector('.split')?.textContent ?? null,
    mech: c.querySelector('[data-part="service.mech_ro_count"]')?.textContent ?? null,
    body: c.querySelector('[data-part="service.body_ro_count"]')?.textContent ?? null }));
  assert.ok(card.mech !== null && card.body !== null, `the card shows both parts: ${JSON.stringify(card)}`);
  assert.match(card.split, /^机电 [\d,]+ \+ 钣喷 [\d,]+$/, 'read as 机电 n + 钣喷 m');
  const [ro, mech, body] = [card.value, card.mech, card.body].map(count);
  assert.ok(mech > 0 && body > 0, `the demo has both kinds of work (${mech}, ${body})`);
  assert.equal(mech + body, ro, `机电 ${mech} + 钣喷 ${body} = 进厂台次 ${ro}`);
  const api = (await kpi(page, ['service.ro_count', 'service.mech_ro_count', 'service.body_ro_count'])).group;
  assert.deepEqual([ro, mech, body], [api['service.ro_count'], api['service.mech_ro_count'], api['service.body_ro_count']],
    'the counts of GET /api/v1/kpi for the group and the period');
  await page.close();
});

test('the store page shows the RO split, the 销售 and 人员 panels, turnaround and accident share, and the SERVQUAL bars against the group median, from one batch', async () => {
  const store = 'BJ003';
  const page = await newPage('zh');
  await login(page, 'exec', 'demo1234');
  const batches = batchCounter(page);
  await page.goto(`${h.server.url}/store.html?code=${store}&${PERIOD}`);
  await pageDrawn(page);
  assert.equal(batches(), 1, 'one KPI batch for the whole page');
  const cat = await catalogue(page);
  const ids = ['service.ro_count', 'service.mech_ro_count', 'service.body_ro_count', 'service.revenue', 'service.revenue_per_ro',
    'service.turnaround_hours', 'insurance.accident_share', 'sales.units', 'sales.revenue', 'sales.referral_share',
    'insurance.new_penetration', 'staff.headcount', 'staff.turnover', ...DIMS];
  const api = (await kpi(page, ids, 'store', store))[store];

  // 服务产值 = 进厂台次 × 单车产值 stays; 进厂台次 = 机电 + 钣喷 under it
  assert.match(await page.textContent('#identity'), /=.*×/);
  const ident = Object.fromEntries(await page.$$eval('#identity-split [data-identity]', (bs) => bs.map((b) => [b.dataset.identity, b.textContent])));
  assert.deepEqual(Object.keys(ident), ['service.ro_count', 'service.mech_ro_count', 'service.body_ro_count']);
  const [ro, mech, body] = Object.values(ident).map(count);
  assert.equal(mech + body, ro, `${mech} + ${body} = ${ro}`);
  assert.deepEqual([ro, mech, body], [api['service.ro_count'], api['service.mech_ro_count'], api['service.body_ro_count']]);

  // a panel's values by KPI id
  const panelValues = (key) => page.$eval(`[data-panel="${key}"]`, (p) => ({ title: p.querySelector('h2').textContent,
    values: Object.fromEntries([...p.querySelectorAll('.v[data-kpi]')].map((v) => [v.dataset.kpi, v.textContent])) }));
  const sales = await panelValues('panel_sales');
  assert.equal(sales.title, '销售');
  assert.deepEqual(Object.keys(sales.values), ['sales.units', 'sales.revenue', 'sales.referral_share', 'insurance.new_penetration']);
  assert.ok(api['sales.units'] > 0, `the store sold cars in the period (${api['sales.units']})`);
  assert.equal(count(sales.values['sales.units']), api['sales.units'], 'units: GET /api/v1/kpi for the store and the period');
  // a share is shown as a percentage with one decimal: 0.2857 is 28.6%
  const pct = (v) => `${(v * 100).toFixed(1)}%`;
  assert.equal(sales.values['sales.referral_share'], pct(api['sales.referral_share']));
  assert.equal(sales.values['insurance.new_penetration'], pct(api['insurance.new_penetration']));
  assert.match(sales.values['sales.revenue'], /万|亿/, 'a store\'s monthly car sales run to 万 or 亿');

  const staff = await panelValues('panel_staff');
  assert.equal(staff.title, '人员');
  assert.ok(api['staff.headcount'] > 0);
  assert.equal(count(staff.values['staff.headcount']), api['staff.headcount'], 'headcount on the period\'s last day');
  assert.equal(staff.values['staff.turnover'], api['staff.turnover'] === null ? '—' : pct(api['staff.turnover']));

  const service = await panelValues('panel_service');
  assert.equal(service.values['service.turnaround_hours'], `${api['service.turnaround_hours'].toFixed(2)}小时`);
  assert.equal(service.values['insurance.accident_share'], pct(api['insurance.accident_share']));
  assert.equal(count(service.values['service.body_ro_count']), body);

  // the five dimensions: the store's mean of each beside the group's median of the store means
  const bench = await benchmarks(page, DIMS);
  const o = await chartOption(page, '#servqual');
  assert.equal(await page.textContent('#servqual h2'), '满意度五维：本店与集团中位数');
  assert.deepEqual(o.yAxis[0].data, DIMS.map((id) => cat[id].name.zh), 'five categories, the catalogue\'s names');
  assert.deepEqual(o.series.map((s) => s.name), [await page.$eval('h1', (e) => e.firstChild.textContent), '集团中位数']);
  assert.deepEqual(o.series[0].data, DIMS.map((id) => api[id]), 'the store\'s dimensions: GET /api/v1/kpi');
  assert.ok(DIMS.every((id) => typeof bench[id].median === 'number'), 'the demo has enough stores for a median');
  assert.deepEqual(o.series[1].data, DIMS.map((id) => bench[id].median), 'the medians: GET /api/v1/benchmarks');
  assert.ok(o.series.every((s) => s.type === 'bar' && s.unit === 'score'), 'bars on one axis of scores');
  // and in the CSI panel, each dimension with its median under it
  const csi = await panelValues('panel_csi');
  for (const id of DIMS) assert.equal(csi.values[id], api[id].toFixed(2), `${id} in the CSI panel`);
  const medians = await page.$$eval('[data-panel="panel_csi"] [data-bench]', (bs) => Object.fromEntries(bs.map((b) => [b.dataset.bench, Number(b.dataset.median)])));
  for (const id of DIMS) assert.equal(medians[id], bench[id].median, `${id}: its median beside it`);
  await page.screenshot({ path: join(shots, 'store-whole.png'), fullPage: true });
  await page.close();
});

test('the sales page: units, revenue, referral share and penetration by store; the store rows add up to the total row, which is the API\'s', async () => {
  const page = await newPage('zh');
  await login(page, 'exec', 'demo1234');
  await page.goto(`${h.server.url}/domain.html?d=sales&${PERIOD}`);
  await pageDrawn(page);
  assert.equal(await page.$eval('h1', (e) => e.firstChild.textContent), '新车销售');
  const cat = await catalogue(page);
  const heads = await page.$$eval('#domain-table thead th', (ths) => ths.map((th) => th.dataset.key));
  assert.deepEqual(heads, ['label', 'sales.units', 'sales.revenue', 'sales.referral_share', 'insurance.new_penetration']);
  const rows = await page.$$eval('#domain-table tbody tr', (trs) => trs.map((tr) => [...tr.children].map((td) => td.textContent)));
  const [total, ...stores] = rows;
  assert.equal(total[0], '集团', 'the total row first');
  assert.equal(stores.length, 8, 'one row per store');
  const sum = stores.reduce((s, r) => s + count(r[1]), 0);
  assert.equal(count(total[1]), sum, `units: the stores' ${stores.map((r) => r[1]).join(' + ')} = the total`);
  const api = (await kpi(page, ['sales.units', 'sales.referral_share'])).group;
  assert.equal(sum, api['sales.units'], 'and GET /api/v1/kpi for the group');
  assert.equal(total[3], `${(api['sales.referral_share'] * 100).toFixed(1)}%`, 'the pooled referral share');
  const charts = await allCharts(page);
  assert.deepEqual(charts.map((c) => c.title), ['销量与销售额', '转介绍与新保渗透']);
  assert.deepEqual(charts[0].series.map((s) => [s.name, s.yAxisIndex]), [[cat['sales.units'].name.zh, 0], [cat['sales.revenue'].name.zh, 1]],
    'units and money on axes of their own');
  assert.deepEqual(charts[1].series.map((s) => s.name), [cat['sales.referral_share'].name.zh, cat['insurance.new_penetration'].name.zh]);
  assert.deepEqual(charts[0].series[0].data, stores.map((r) => count(r[1])), 'the bars are the table\'s units');
  await page.close();
});

test('the service page stacks 机电 on 钣喷 per store, with time in the workshop; the CSI page draws its five dimensions beside the group median', async () => {
  const page = await newPage('zh');
  await login(page, 'exec', 'demo1234');
  await page.goto(`${h.server.url}/domain.html?d=service&${PERIOD}`);
  await pageDrawn(page);
  const byStore = await kpi(page, ['service.ro_count', 'service.turnaround_hours'], 'store');
  const mix = (await allCharts(page)).find((c) => c.title === '机电与钣喷台次、平均在厂时长');
  assert.ok(mix, 'the mix chart is drawn');
  const [m, b, hours] = mix.series;
  assert.equal(m.stack, 'ro'); assert.equal(b.stack, 'ro');
  assert.deepEqual(m.data.map((v, i) => v + b.data[i]), Object.values(byStore).map((v) => v['service.ro_count']), '机电 + 钣喷 = 进厂台次, store by store');
  assert.deepEqual(hours.data, Object.values(byStore).map((v) => v['service.turnaround_hours']));
  assert.equal(hours.yAxisIndex, 1, 'hours on an axis of their own');

  await page.goto(`${h.server.url}/domain.html?d=csi&${PERIOD}`);
  await pageDrawn(page);
  const cat = await catalogue(page);
  const bench = await benchmarks(page, DIMS);
  const group = (await kpi(page, DIMS)).group;
  const dims = (await allCharts(page)).find((c) => c.title === '满意度五维：集团与集团中位数');
  assert.ok(dims, 'the dimensions chart is drawn');
  assert.deepEqual(dims.yAxis[0].data, DIMS.map((id) => cat[id].name.zh), 'five categories');
  assert.deepEqual(dims.series.map((s) => s.name), ['集团', '集团中位数']);
  assert.deepEqual(dims.series[0].data, DIMS.map((id) => group[id]), 'the group\'s pooled means');
  assert.deepEqual(dims.series[1].data, DIMS.map((id) => bench[id].median), 'the medians of the store means');
  await page.screenshot({ path: join(shots, 'csi-dimensions.png'), fullPage: true });
  await page.close();
});
