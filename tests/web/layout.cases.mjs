// layout cases (run by dashboards.test.mjs, in its server): every page (the
// overview, each domain page, the store page, the scorecards, the daily
// report and a list) at a laptop's 1440 px and a phone's 390×844, in Chinese
// and in English, for an executive, a regional manager, a store manager and
// the admin. On every
// view: the page draws without a console error and with at most one KPI
// batch; every chart passes the audit of chart-audit.mjs (a title, a
// legend that overlaps nothing, distinct tick labels, targets on scale,
// series sharing an axis only in one unit and a similar range); at 390 px
// the page itself never scrolls sideways (a wide table scrolls in its own
// box), the nav is a menu that opens, the cards stack; the month picker
// speaks the page's language. The pages without a period or charts (the
// alerts, the rules editor, the subscriptions: harness.mjs PLAIN_PAGES) go
// through the same loop without those two checks. A screenshot of each view goes to
// tests/web/screenshots/<role>-<lang>-<width>-<page>.png. A last case
// feeds the audit charts that are wrong, so it is known to catch them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { h, shots, PERIOD, USERS, DOMAINS, PLAIN_PAGES, consoleErrors, newContext, apiLogin, pageDrawn, batchCounter, newPage, login } from './harness.mjs';
import { auditCharts, SIMILAR_RANGE } from './chart-audit.mjs';

const CJK = /[\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef]/u;
// The pages of each role: [name for the screenshot, address, KPI batches the view sends].
function pagesOf(role) {
  const store = role === 'sm' ? USERS.sm.store : 'BJ003';
  const list = [];
  if (role !== 'sm') list.push(['overview', `index.html?${PERIOD}`, 1]);
  for (const d of DOMAINS) list.push([d, `domain.html?d=${d}&${PERIOD}`, 1]);
  list.push(['store', `store.html?code=${store}&${PERIOD}`, 1]);
  if (role !== 'sm') list.push(['scorecards', `scorecards.html?${PERIOD}`, 0]);
  // the daily report (its own day picker, no period) and a list (its rows from the list API, no KPI batch)
  list.push(['daily', 'daily.html?day=2026-09-30', 1]);
  list.push(['list', `list.html?id=retention.at_risk&${PERIOD}`, 0]);
  // the pages without a period or charts (PLAIN_PAGES): alerts, the rules editor, subscriptions
  for (const [name, address, who] of PLAIN_PAGES) if (who.includes(role)) list.push([name, address, 0]);
  return list;
}
// The pages that draw no chart (tables only), and the one without the period picker.
const CHARTLESS = ['scorecards', 'daily', 'list'];
const NO_PERIOD_PICKER = ['daily'];
const WIDTHS = [[1440, 900], [390, 844]];

for (const role of ['exec', 'rm', 'sm', 'admin']) {
  test(`${role}: every page at 1440 and 390 px, in Chinese and English: drawn, charts audited, no sideways scroll on the phone`, async () => {
    const context = await newContext({ viewport: { width: 1440, height: 900 } });
    try {
      await apiLogin(context, USERS[role]);
      const page = await context.newPage();
      page.setDefaultTimeout(120000);
      const batches = batchCounter(page);
      for (const lang of ['zh', 'en']) {
        await page.goto(`${h.server.url}/login.html`);
        await page.evaluate((l) => localStorage.setItem('fourscore.lang', l), lang);
        for (const [width, height] of WIDTHS) {
          await page.setViewportSize({ width, height });
          let menuChecked = false;
          for (const [name, address, expectBatches] of pagesOf(role)) {
            const what = `${role} ${lang} ${width}px ${name}`;
            const errorsBefore = consoleErrors.length;
            batches();
            await page.goto(`${h.server.url}/${address}`);
            await pageDrawn(page);
            if (name === 'list') await page.waitForFunction(() => document.querySelector('main').dataset.listState === 'ready');
            assert.equal(await page.getAttribute('html', 'lang'), lang === 'zh' ? 'zh-CN' : 'en', `${what}: the page's language`);
            const charts = await page.evaluate(auditCharts, SIMILAR_RANGE);
            const plain = PLAIN_PAGES.some(([n]) => n === name);
            if (!CHARTLESS.includes(name) && !plain) assert.ok(charts.length >= 1, `${what}: charts drawn`);
            for (const c of charts) assert.deepEqual(c.problems, [], `${what}: chart "${c.title}"`);
            assert.ok(await page.$('#toolbar #export-pdf'), `${what}: a 导出 PDF button`);
            assert.equal(await page.$('input[type="month"], input[type="date"]'), null, `${what}: no native date picker (it speaks the browser's language)`);
            if (!NO_PERIOD_PICKER.includes(name) && !plain) {
              const month = await page.$eval('#period-month option:checked', (o) => o.textContent);
              assert.equal(month, lang === 'zh' ? '9月' : 'Sep', `${what}: the month picker in the page's language`);
            }
            if (width === 390) {
              const [scroll, inner] = await page.evaluate(() => [document.documentElement.scrollWidth, innerWidth]);
              assert.ok(scroll <= inner, `${what}: the page is ${scroll} px wide in a ${inner} px window`);
              if (!menuChecked) {
                assert.equal(await page.isVisible('#nav'), false, `${what}: the nav is folded into the menu`);
                await page.click('#menu-toggle');
                assert.equal(await page.isVisible('#nav a >> nth=1'), true, `${what}: the menu opens`);
                const navBox = await page.$eval('#nav', (n) => n.getBoundingClientRect().width);
                assert.ok(navBox <= width, `${what}: the open menu fits`);
                await page.click('#menu-toggle');
                menuChecked = true;
              }
              const cards = await page.$$eval('#headline .card', (cs) => cs.map((c) => c.getBoundingClientRect().right));
              for (const right of cards) assert.ok(right <= width, `${what}: the cards stack inside the screen`);
            }
            if (lang === 'en') {
              const chrome = await page.evaluate(() => [...document.querySelectorAll('header nav a, #toolbar button, #toolbar select option, h2, th')]
                .map((e) => e.textContent));
              const regionAndStores = new Set(await page.evaluate(async () => [
                ...(await (await fetch('/api/v1/regions')).json()).map((r) => r.name),
                ...(await (await fetch('/api/v1/stores')).json()).map((s) => s.name),
              ]));
              for (const text of chrome) {
                if (!CJK.test(text)) continue;
                // a region's or a store's name (data, with no English name) is followed by its code
                const named = [...regionAndStores].find((n) => text.includes(n));
                assert.ok(named && /\([A-Z0-9]+\)/.test(text), `${what}: "${text}" is Chinese without a code`);
              }
            }
            assert.ok(batches() <= expectBatches, `${what}: at most ${expectBatches} KPI batch per view`);
            assert.deepEqual(consoleErrors.slice(errorsBefore), [], `${what}: no console error`);
            await page.screenshot({ path: join(shots, `${role}-${lang}-${width}-${name}.png`), fullPage: true });
          }
        }
      }
      // the sign-in page too, on the phone
      await page.setViewportSize({ width: 390, height: 844 });
      await context.clearCookies();
      await page.goto(`${h.server.url}/login.html`);
      const [scroll, inner] = await page.evaluate(() => [document.documentElement.scrollWidth, innerWidth]);
      assert.ok(scroll <= inner, `login at 390 px: ${scroll} px wide`);
      await page.screenshot({ path: join(shots, `${role}-login-390.png`), fullPage: true });
    } finally {
      await context.close();
    }
  });
}

test('the period picker picks a month in the page\'s language and refuses a bad custom date', async () => {
  const page = await newPage('zh');
  await login(page, 'exec', 'demo1234');
  await page.goto(`${h.server.url}/domain.html?d=labour&${PERIOD}`);
  await pageDrawn(page);
  const months = await page.$$eval('#period-month option', (os) => os.map((o) => o.textContent));
  assert.deepEqual(months, Array.from({ length: 12 }, (_, i) => `${i + 1}月`));
  await page.selectOption('#period-month-year', '2026');
  await page.selectOption('#period-month', '8');
  await page.click('#period-apply');
  await page.waitForFunction(() => location.search.includes('from=2026-08-01'));
  await pageDrawn(page);
  assert.match(page.url(), /from=2026-08-01&to=2026-08-31&kind=month/, 'August 2026, whole');
  assert.match(await page.textContent('h1 small'), /2026-08-01 ~ 2026-08-31/);
  // a custom period: a date that does not exist is refused, and the page stays as it was
  await page.selectOption('#period-kind', 'custom');
  await page.fill('#period-from', '2026-02-30');
  await page.fill('#period-to', '2026-03-31');
  await page.click('#period-apply');
  assert.match(page.url(), /from=2026-08-01/, 'nothing applied');
  assert.notEqual(await page.$eval('#period-from', (i) => i.validationMessage), '', 'the field says why');
  // the end before the start is refused too; a good one is applied
  await page.fill('#period-from', '2026-03-31');
  await page.fill('#period-to', '2026-03-01');
  await page.click('#period-apply');
  assert.match(page.url(), /from=2026-08-01/);
  await page.fill('#period-to', '2026-04-15');
  await page.click('#period-apply');
  await page.waitForFunction(() => location.search.includes('from=2026-03-31'));
  assert.match(page.url(), /from=2026-03-31&to=2026-04-15&kind=custom/);
  await page.evaluate(() => localStorage.setItem('fourscore.lang', 'en'));
  await page.reload();
  await pageDrawn(page);
  assert.deepEqual((await page.$$eval('#period-month option', (os) => os.map((o) => o.textContent))).slice(0, 3), ['Jan', 'Feb', 'Mar']);
  await page.evaluate(() => localStorage.setItem('fourscore.lang', 'zh'));
  await page.close();
});

test('the chart audit catches a legend on the axis labels, repeated ticks, an off-scale target and mixed units', async () => {
  const page = await newPage('zh');
  await login(page, 'exec', 'demo1234');
  await page.goto(`${h.server.url}/domain.html?d=labour&${PERIOD}`);
  await pageDrawn(page);
  await page.evaluate(() => {
    // a chart as the dashboards drew them before: the legend at the bottom over rotated labels,
    // an axis of hours labelled with no decimals, a target above the axis, renewal and comeback on one axis
    const fig = document.createElement('figure');
    fig.className = 'figure';
    const heading = document.createElement('h3');
    heading.textContent = 'bad';
    const box = document.createElement('div');
    box.className = 'chart';
    Object.assign(box.style, { width: '390px', height: '260px' });
    fig.append(heading, box);
    document.querySelector('main').append(fig);
    const c = echarts.init(box);
    const names = Array.from({ length: 8 }, (_, i) => `store number ${i + 1}`);
    c.setOption({ animation: false, legend: { bottom: 0, data: ['a', 'b'] }, grid: { bottom: 20 },
      xAxis: { type: 'category', data: names, axisLabel: { rotate: 40, interval: 0 } },
      yAxis: { type: 'value', unit: 'h', max: 1.5, axisLabel: { formatter: (v) => v.toFixed(0) } },
      series: [{ name: 'a', type: 'bar', unit: 'h', data: [1.2, 1.4, 1.1, 1.3, 1, 1.2, 1.4, 1.3], markLine: { data: [{ name: 't', yAxis: 2 }] } },
        { name: 'b', type: 'line', unit: 'ratio', data: [0.01, 0.02, 0.01, 0.015, 0.01, 0.01, 0.02, 0.01] }] });
  });
  const found = (await page.evaluate(auditCharts, SIMILAR_RANGE)).find((c) => c.title === 'bad');
  assert.ok(found, 'the bad chart is audited');
  const text = found.problems.join('\n');
  assert.match(text, /the legend overlaps/, text);
  assert.match(text, /repeats tick labels/, text);
  assert.match(text, /target 2 of t off its axis/, text);
  assert.match(text, /"b" \(ratio\) on an axis of h/, text);
  // the page's own charts pass
  for (const c of (await page.evaluate(auditCharts, SIMILAR_RANGE)).filter((x) => x.title !== 'bad')) assert.deepEqual(c.problems, [], c.title);
  await page.close();
});
