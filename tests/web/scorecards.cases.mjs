// scorecards cases (run by dashboards.test.mjs, in its server): the
// scorecards page renders any scorecard, and a regional manager can use the
// editor. For each shipped scorecard, run by the executive over the month of
// PERIOD: the ranked table has a column for every item the rows hold (points,
// values or both), each headed with the item's own name or the KPI's name
// from the catalogue (GET /api/v1/kpis), never a raw id, and no item column
// is empty ("—" in every row); every store links to its store page; the
// explanation paragraph of the scorecard's source is shown; the breakdown
// chart has one series per item with points, in colours at least 40 apart
// (RGB distance) for up to 12 items, its legend a list under the chart that
// never covers the plot; the grade distribution counts every store. The same
// at a phone's 390 px, where the page itself never scrolls sideways.
//
// The editor, as the demo's regional manager (rm_hb): a shipped card cannot be
// edited but copied into one of their own (name rm_hb_aftersales_balanced);
// line numbers; the pickers list KPIs with their names and units, settings
// with their labels, and the helpers, and insert at the cursor; a syntax error
// (check) and a run error (try) are shown at their line with that line marked;
// try runs without saving (the list does not change); a changed weight shows in
// the tried result; save makes version 1, a second save version 2, restore
// brings version 1 back as version 3. The saved card is deleted at the end.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { h, shots, PERIOD, USERS, consoleErrors, newContext, apiLogin, pageDrawn, chartsDrawn } from './harness.mjs';

const SHIPPED = ['aftersales_balanced', 'customer_tiers', 'yoy_growth', 'first_service_lockin'];
const RAW_ID = /^[a-z_]+\.[a-z0-9_]+/;
const hex = (c) => [1, 3, 5].map((i) => parseInt(c.slice(i, i + 2), 16));
const distance = (a, b) => Math.hypot(...hex(a).map((x, i) => x - hex(b)[i]));

async function signedIn(user, viewport = { width: 1440, height: 900 }) {
  const context = await newContext({ viewport });
  await apiLogin(context, user);
  const page = await context.newPage();
  page.setDefaultTimeout(120000);
  await page.addInitScript(() => localStorage.setItem('fourscore.lang', 'zh'));
  return { context, page };
}

async function runCard(page, name) {
  await page.selectOption('#scorecard-pick', name);
  await page.click('#run');
  await page.waitForFunction((n) => document.querySelector('#result #ranking tbody tr') && document.querySelector('#breakdown')?.dataset.chart === 'ready'
    && document.querySelector('#scorecard-pick').value === n, name);
  await chartsDrawn(page, 1);
}

// What the page shows of a result: headers, cells, links, chart series and colours, legend and plot boxes, grades.
const readResult = (page) => page.evaluate(() => {
  const box = document.querySelector('#breakdown');
  const o = echarts.getInstanceByDom(box).getOption();
  const legend = document.querySelector('#item-legend');
  const grid = echarts.getInstanceByDom(box).getModel().getComponent('grid').coordinateSystem.getRect();
  const b = box.getBoundingClientRect();
  return {
    headers: [...document.querySelectorAll('#ranking thead th')].map((th) => th.textContent),
    cells: [...document.querySelectorAll('#ranking tbody tr')].map((tr) => [...tr.children].map((td) => td.textContent)),
    links: [...document.querySelectorAll('#ranking tbody a.store-link')].map((a) => [a.dataset.store, a.getAttribute('href')]),
    about: document.querySelector('#about')?.textContent || '',
    series: o.series.map((s) => ({ name: s.name, colour: s.itemStyle?.color })),
    legend: [...legend.querySelectorAll('li')].map((li) => li.textContent),
    swatches: [...legend.querySelectorAll('.swatch')].map((e) => getComputedStyle(e).backgroundColor),
    bars: [...document.querySelectorAll('#grades .bar')].map((e) => e.getBoundingClientRect().width / e.parentElement.getBoundingClientRect().width),
    legendTop: legend.getBoundingClientRect().top, plotBottom: b.top + grid.y + grid.height, chartBottom: b.bottom,
    grades: [...document.querySelectorAll('#grades li')].map((li) => [li.dataset.grade, li.querySelector('.count').textContent]),
    overflow: document.documentElement.scrollWidth - window.innerWidth,
  };
});

for (const [label, viewport] of [['1440 px', { width: 1440, height: 900 }], ['390 px', { width: 390, height: 844 }]]) {
  test(`scorecards page at ${label}: every shipped scorecard rendered by what its rows hold, named from the catalogue`, async () => {
    const { context, page } = await signedIn(USERS.exec, viewport);
    try {
      await page.goto(`${h.server.url}/scorecards.html?${PERIOD}`);
      await pageDrawn(page);
      const names = await page.evaluate(async () => Object.fromEntries((await (await fetch('/api/v1/kpis')).json()).kpis.map((k) => [k.id, k.name.zh])));
      const stores = await page.evaluate(async () => (await (await fetch('/api/v1/stores')).json()).map((s) => s.code));
      for (const card of SHIPPED) {
        await runCard(page, card);
        const api = await page.evaluate(async (c) => (await fetch(`/api/v1/scorecards/${c}/run?from=2026-09-01&to=2026-09-30`, { method: 'POST' })).json(), card);
        const r = await readResult(page);
        const what = `${label} ${card}`;
        assert.ok(api.rows.length >= 1, `${what}: rows`);
        assert.equal(r.cells.length, api.rows.length, `${what}: a table row per store ranked`);
        // one item column per item the rows hold (a number as points or value at some store; an item with
        // no data anywhere, such as year-3 churn in a two-year demo, has none), after rank, store, score, grade
        const items = [];
        const holds = (it) => api.rows.some((row) => row.items.some((x) => x.kpi === it.kpi && (typeof x.points === 'number' || typeof x.value === 'number')));
        for (const row of api.rows) for (const it of row.items || []) if (!items.some((x) => x.kpi === it.kpi) && holds(it)) items.push(it);
        const itemHeaders = r.headers.slice(4);
        assert.equal(itemHeaders.length, items.length, `${what}: a column per item (${r.headers.join(' | ')})`);
        items.forEach((it, i) => {
          const name = it.label?.zh || names[it.kpi];
          assert.ok(name, `${what}: ${it.kpi} has a name`);
          assert.ok(itemHeaders[i].startsWith(name), `${what}: column ${i + 1} is headed "${name}" (got "${itemHeaders[i]}")`);
          assert.doesNotMatch(itemHeaders[i], RAW_ID, `${what}: no raw id as a header`);
          const column = r.cells.map((c) => c[4 + i]);
          assert.ok(column.some((x) => x !== '—'), `${what}: column "${itemHeaders[i]}" is not empty`);
        });
        // stores link to their store page
        assert.equal(r.links.length, api.rows.length);
        for (const [code, href] of r.links) {
          assert.ok(stores.includes(code));
          assert.match(href, new RegExp(`^store\\.html\\?(.*&)?code=${code}(&|$)`), `${what}: ${code} links to its store page`);
          assert.match(href, /from=2026-09-01&to=2026-09-30/, `${what}: for the same period`);
        }
        assert.ok(r.about.length > 40, `${what}: the explanation is shown (${r.about})`);
        assert.doesNotMatch(r.about, /^(中文|English)[:：]/, `${what}: without its label`);
        // the breakdown: a series per item with points; distinct colours; the legend under the plot
        const withPoints = items.filter((it) => api.rows.some((row) => row.items.some((x) => x.kpi === it.kpi && typeof x.points === 'number')));
        assert.equal(r.series.length, Math.max(1, withPoints.length), `${what}: a series per item with points`);
        assert.deepEqual(r.legend, r.series.map((s) => s.name), `${what}: the legend names each series`);
        const rgb = (c) => `rgb(${hex(c).join(', ')})`;
        assert.deepEqual(r.swatches, r.series.map((x) => rgb(x.colour)), `${what}: each legend swatch in its series' colour`);
        for (let i = 0; i < r.series.length; i++) for (let j = i + 1; j < r.series.length; j++) {
          assert.ok(distance(r.series[i].colour, r.series[j].colour) >= 40, `${what}: ${r.series[i].name} and ${r.series[j].name} told apart`);
        }
        assert.ok(r.legendTop >= r.plotBottom && r.legendTop >= r.chartBottom - 1, `${what}: the legend is under the bars`);
        const graded = r.grades.reduce((n, [, count]) => n + Number(count.match(/\d+/)[0]), 0);
        assert.equal(graded, api.rows.length, `${what}: the grades count every store`);
        assert.deepEqual(r.grades.map(([g]) => g), [...new Set(api.rows.map((x) => x.grade))].sort(), `${what}: each grade once`);
        const counts = r.grades.map(([, c]) => Number(c.match(/\d+/)[0]));
        r.bars.forEach((w, i) => assert.ok(Math.abs(w - counts[i] / Math.max(...counts)) < 0.02, `${what}: grade bar ${i + 1} as long as its count`));
        if (viewport.width === 390) assert.ok(r.overflow <= 1, `${what}: the page does not scroll sideways (${r.overflow} px)`);
        await page.screenshot({ path: join(shots, `scorecard-${card}-${viewport.width}.png`), fullPage: true });
      }
    } finally {
      await context.close();
    }
  });
}

test('the editor: copy a shipped scorecard, pickers, errors at their line, try without saving, save, versions, restore', async () => {
  const { context, page } = await signedIn(USERS.rm);
  const mine = `${USERS.rm.user}_aftersales_balanced`;
  const list = () => page.evaluate(async () => (await (await fetch('/api/v1/scorecards')).json()).map((s) => s.name));
  try {
    await page.goto(`${h.server.url}/scorecards.html?${PERIOD}`);
    await pageDrawn(page);
    await page.selectOption('#scorecard-pick', 'aftersales_balanced');
    await page.waitForFunction(() => document.querySelector('#edit').hidden);
    assert.ok(await page.isVisible('#copy'), 'a shipped card: copy, not edit');
    await page.click('#copy');
    await page.waitForFunction(() => document.querySelector('#source').value.length > 100);
    assert.equal(await page.inputValue('#scorecard-name'), mine, 'the copy gets a name of its own');
    const src = await page.inputValue('#source');
    assert.match(src.split('\n')[0], /^-- 售后综合评分/, 'the source is the shipped one');
    assert.equal(await page.$$eval('#gutter span', (s) => s.length), src.split('\n').length, 'a line number per line');

    // pickers: names and units, inserted at the cursor
    const kpiOptions = await page.$$eval('#kpi-pick option', (os) => os.map((o) => [o.value, o.textContent]));
    const share = kpiOptions.find(([v]) => v === 'labour.share');
    assert.match(share[1], /^工时产值占比 · labour\.share · 单位：比例（%）$/);
    assert.ok(kpiOptions.length > 50, 'every KPI of the catalogue');
    await page.waitForFunction(() => document.querySelectorAll('#setting-pick option').length > 5);
    const settingText = await page.$eval('#setting-pick option[value="retention.lost_after_months"]', (o) => o.textContent);
    assert.match(settingText, /流失判定（月） · retention\.lost_after_months = 9/);
    await page.$eval('#source', (a) => { a.focus(); a.setSelectionRange(0, 0); });
    await page.selectOption('#kpi-pick', 'labour.share');
    assert.ok((await page.inputValue('#source')).startsWith('kpi("labour.share")'), 'the KPI inserted at the cursor');
    await page.$eval('#source', (a) => a.setSelectionRange(0, 'kpi("labour.share")'.length));
    await page.selectOption('#helper-pick', 'at_least(value, good, bad, points)');
    assert.ok((await page.inputValue('#source')).startsWith('at_least(value, good, bad, points)'), 'a helper replaces the selection');
    // a syntax error at its line (the browser logs the two 422 answers: expected, and only those)
    const errorsBefore = consoleErrors.length;
    const broken = src.split('\n');
    broken[4] = 'local x = = 1';
    await page.fill('#source', broken.join('\n'));
    await page.click('#check');
    await page.waitForSelector('#script-error');
    assert.match(await page.textContent('#script-error'), /^第 5 行/);
    assert.equal(await page.$eval('#gutter .bad-line', (s) => s.dataset.line), '5', 'line 5 is marked');
    // a run error at its line
    const failing = src.split('\n');
    const at = failing.findIndex((l) => l.startsWith('local rows = {}'));
    failing.splice(at, 0, 'error("没有这个指标")');
    await page.fill('#source', failing.join('\n'));
    await page.click('#try');
    await page.waitForSelector('#script-error');
    assert.match(await page.textContent('#script-error'), new RegExp(`^第 ${at + 1} 行.*没有这个指标`));
    assert.equal(await page.$eval('#gutter .bad-line', (s) => s.dataset.line), String(at + 1));
    const expected = consoleErrors.splice(errorsBefore);
    assert.ok(expected.length <= 2 && expected.every((e) => /status of 422/.test(e)), expected.join('\n'));

    // change a weight (labour share 14 -> 20) and try: not saved, the result shows it
    const changed = src.replace(/(\{ id = "labour\.share", weight = )14,/, '$120,');
    assert.notEqual(changed, src);
    await page.fill('#source', changed);
    await page.click('#try');
    await page.waitForSelector('#editor-notice');
    const tried = await page.evaluate(() => [...document.querySelectorAll('#ranking tbody tr')].length);
    assert.ok(tried >= 1, 'the tried result is shown');
    assert.ok(!(await list()).includes(mine), 'trying saves nothing');
    const triedMax = await page.evaluate(async (body) => (await (await fetch('/api/v1/scorecards/run?from=2026-09-01&to=2026-09-30',
      { method: 'POST', body, headers: { 'content-type': 'text/x-lua' } })).json()).rows[0].items.find((i) => i.kpi === 'labour.share').max, changed);
    assert.equal(triedMax, 20);

    // twelve items with points: twelve colours told apart, the legend under the bars
    const twelve = 'local rows = {}\nfor _, s in ipairs(stores()) do\n  local items = {}\n' +
      '  for i = 1, 12 do items[i] = { kpi = "item" .. i, label = "项目" .. i, points = i } end\n' +
      '  rows[#rows + 1] = { store = s.code, score = 78, grade = "B", items = items }\nend\nreturn rows';
    await page.fill('#source', twelve);
    await page.click('#try');
    await page.waitForFunction(() => document.querySelectorAll('#item-legend li').length === 12 && document.querySelector('#breakdown')?.dataset.chart === 'ready');
    const r12 = await readResult(page);
    assert.equal(r12.series.length, 12);
    assert.deepEqual(r12.headers.slice(4), Array.from({ length: 12 }, (_, i) => `项目${i + 1}（分）`), 'points-only items: "(分)" in the header');
    for (let i = 0; i < 12; i++) for (let j = i + 1; j < 12; j++) {
      assert.ok(distance(r12.series[i].colour, r12.series[j].colour) >= 40, `colours ${i + 1} and ${j + 1} told apart`);
    }
    assert.ok(r12.legendTop >= r12.chartBottom - 1, 'the legend is under the bars');
    assert.deepEqual(r12.grades, [['B', `${r12.cells.length} 家`]]);

    // save, save again, restore
    await page.fill('#source', changed);
    await page.click('#save');
    await page.waitForFunction(() => document.querySelectorAll('#versions li').length === 1);
    assert.ok((await list()).includes(mine), 'saved under its own name');
    const saved = await page.evaluate(async (n) => (await fetch(`/api/v1/scorecards/${n}`)).json(), mine);
    assert.equal(saved.owner, USERS.rm.user);
    assert.match(saved.source, /weight = 20/);
    await page.waitForSelector('#scorecard-pick');
    await page.selectOption('#scorecard-pick', mine);
    await page.waitForFunction(() => !document.querySelector('#edit').hidden);
    await page.click('#edit');
    await page.waitForFunction(() => document.querySelectorAll('#versions li').length === 1);
    await page.fill('#source', changed.replace(/(\{ id = "labour\.share", weight = )20,/, '$125,'));
    await page.click('#save');
    await page.waitForFunction(() => document.querySelectorAll('#versions li').length === 2);
    await page.click('#versions button[data-version="1"]');
    await page.waitForFunction(() => document.querySelectorAll('#versions li').length === 3);
    assert.match(await page.inputValue('#source'), /\{ id = "labour\.share", weight = 20,/, 'version 1 is back in the editor');
    const after = await page.evaluate(async (n) => (await fetch(`/api/v1/scorecards/${n}`)).json(), mine);
    assert.deepEqual(after.versions.map((v) => v.version), [3, 2, 1]);
    assert.match(after.source, /weight = 20/);
    await page.screenshot({ path: join(shots, 'scorecard-editor.png'), fullPage: true });
  } finally {
    await page.evaluate(async (n) => fetch(`/api/v1/scorecards/${n}`, { method: 'DELETE' }), mine).catch(() => {});
    await context.close();
  }
});
