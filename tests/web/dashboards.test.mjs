// dashboards: the pages in a real headless Chromium (Debian's, driven by
// playwright-core) against a real server holding a small demo group. Logs in
// as an executive and as a regional manager; checks that every page renders
// its charts with data, the league table sorts, drill-down navigates, the
// language switch works and is remembered, exports download files that
// parse, the regional manager sees only their stores, and no page logs a
// console error. Screenshots of each page go to tests/web/screenshots/.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { startServer, run, tempDir, root } from '../integration/lib.mjs';

const shots = join(root, 'tests', 'web', 'screenshots');
mkdirSync(shots, { recursive: true });
const END = '2026-09';
const PERIOD = 'from=2026-09-01&to=2026-09-30&kind=month';
let server, browser, profile;
const consoleErrors = [];

before(async () => {
  const dataDir = tempDir('fs-web-');
  // a small demo group: 8 stores in 4 regions, 2 years ending September 2026
  const demo = await run(['demo', '--stores', '8', '--years', '2', '--end', END, '--seed', '7'], { dataDir, timeoutMs: 600000 });
  assert.equal(demo.code, 0, `demo failed:\n${demo.stderr}`);
  server = await startServer({ dataDir });
  profile = tempDir('fs-chromium-');
  browser = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    acceptDownloads: true,
    viewport: { width: 1400, height: 900 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  browser.on('page', watch);
});

after(async () => {
  await browser?.close();
  if (profile) rmSync(profile, { recursive: true, force: true });
  const res = await server?.stop('SIGTERM', { keep: false });
  if (server) rmSync(server.dataDir, { recursive: true, force: true });
  assert.equal(res?.code, 0);
});

function watch(page) {
  page.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(`${page.url()}: ${m.text()}`); });
  page.on('pageerror', (e) => consoleErrors.push(`${page.url()}: ${e.message}`));
}

async function login(page, user, password) {
  await page.goto(`${server.url}/login.html`);
  await page.fill('#username', user);
  await page.fill('#password', password);
  await Promise.all([page.waitForURL(/index\.html|\/$/), page.click('#submit')]);
}

// Waits until every chart container of the page has drawn a canvas.
async function chartsDrawn(page, min = 1) {
  await page.waitForFunction((n) => {
    const charts = [...document.querySelectorAll('.chart')];
    return charts.length >= n && charts.every((c) => c.dataset.chart === 'ready' && c.querySelector('canvas'));
  }, min, { timeout: 120000 });
}

async function newPage(lang = 'zh') {
  const page = await browser.newPage();
  // a correctness test, not a speed test: cold KPI answers on a busy machine may take a while
  page.setDefaultTimeout(120000);
  await page.addInitScript((l) => { if (!localStorage.getItem('fourscore.lang')) localStorage.setItem('fourscore.lang', l); }, lang);
  return page;
}

test('an executive sees the group overview with data, sorts the league table and drills down', async () => {
  const page = await newPage();
  await login(page, 'exec', 'demo1234');
  await page.goto(`${server.url}/index.html?${PERIOD}`);
  await page.waitForSelector('#headline .card');
  await chartsDrawn(page, 1);
  const cards = await page.$$eval('#headline .card', (cs) => cs.map((c) => ({ kpi: c.dataset.kpi, value: c.querySelector('.value').textContent })));
  assert.equal(cards.length, 9, 'nine headline cards');
  for (const c of cards) assert.notEqual(c.value, '—', `${c.kpi} has a value`);
  const revenue = cards.find((c) => c.kpi === 'service.revenue').value;
  assert.match(revenue, /[万亿]/, 'large money is shown in 万 or 亿');
  assert.match(cards.find((c) => c.kpi === 'labour.share').value, /^\d+\.\d%$/, 'a percentage with one decimal');

  const rows = () => page.$$eval('#league tbody tr', (trs) => trs.map((tr) => tr.children[0].textContent));
  assert.equal((await rows()).length, 8, 'eight stores in the league table');
  // sort by the labour share column, both ways
  const header = page.locator('#league th[data-key="labour.share"]');
  const values = () => page.$$eval('#league tbody tr', (trs, i) => trs.map((tr) => parseFloat(tr.children[i].textContent)),
    3 + ['service.revenue', 'service.ro_count', 'service.revenue_per_ro', 'labour.share'].indexOf('labour.share'));
  await header.click();
  const desc = await values();
  assert.deepEqual(desc, [...desc].sort((a, b) => b - a), 'sorted high to low');
  await header.click();
  const asc = await values();
  assert.deepEqual(asc, [...asc].sort((a, b) => a - b), 'then low to high');
  await page.screenshot({ path: join(shots, 'overview.png'), fullPage: true });

  // drill: region, then store
  await Promise.all([page.waitForURL(/region=/), page.click('#region-table tbody tr >> nth=0')]);
  await page.waitForSelector('#headline .card');
  await chartsDrawn(page, 1);
  const regionStores = (await rows()).length;
  assert.ok(regionStores >= 1 && regionStores < 8, `a region holds some of the stores (${regionStores})`);
  await page.screenshot({ path: join(shots, 'region.png'), fullPage: true });
  await Promise.all([page.waitForURL(/store\.html\?/), page.click('#league tbody tr >> nth=0')]);
  await page.waitForSelector('#identity');
  await chartsDrawn(page, 4);
  const identity = await page.textContent('#identity');
  assert.match(identity, /=.*×/, 'the identity revenue = RO count × revenue per RO is shown');
  await page.screenshot({ path: join(shots, 'store.png'), fullPage: true });
  await page.close();
});

test('every domain page and the scorecards page render their charts with data', async () => {
  const page = await newPage();
  await login(page, 'exec', 'demo1234');
  for (const name of ['parts', 'insurance', 'receivables', 'labour', 'retention']) {
    await page.goto(`${server.url}/${name}.html?${PERIOD}`);
    await page.waitForSelector('#domain-table tbody tr');
    await chartsDrawn(page, 2);
    const cells = await page.$$eval('#domain-table tbody tr:first-child td.num', (tds) => tds.map((td) => td.textContent));
    assert.ok(cells.some((c) => c !== '—'), `${name}: the group row has values`);
    await page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });
  }
  await page.goto(`${server.url}/scorecards.html?${PERIOD}`);
  await page.waitForSelector('#result table tbody tr');
  await chartsDrawn(page, 1);
  const ranks = await page.$$eval('#result tbody tr', (trs) => trs.map((tr) => Number(tr.children[0].textContent)));
  assert.ok(ranks.length >= 1 && ranks[0] === 1, 'a ranked table starting at 1');
  await page.screenshot({ path: join(shots, 'scorecards.png'), fullPage: true });
  await page.close();
});

test('the language switch turns the pages English and is remembered', async () => {
  const page = await newPage();
  await login(page, 'exec', 'demo1234');
  await page.goto(`${server.url}/index.html?${PERIOD}`);
  await page.waitForSelector('#headline .card');
  assert.match(await page.textContent('header nav'), /集团总览/);
  await Promise.all([page.waitForEvent('load'), page.click('#lang')]);
  await page.waitForSelector('#headline .card');
  assert.match(await page.textContent('header nav'), /Group overview/);
  await page.goto(`${server.url}/parts.html?${PERIOD}`);
  await page.waitForSelector('#domain-table');
  assert.match(await page.textContent('h1'), /Parts/, 'still English on another page');
  await page.screenshot({ path: join(shots, 'overview-en.png'), fullPage: true });
  await page.evaluate(() => localStorage.setItem('fourscore.lang', 'zh'));
  await page.close();
});

test('exports download a CSV and an Excel file that parse', async () => {
  const page = await newPage();
  await login(page, 'exec', 'demo1234');
  await page.goto(`${server.url}/index.html?${PERIOD}`);
  await page.waitForSelector('#league tbody tr');
  const [csv] = await Promise.all([page.waitForEvent('download'), page.click('#league [data-export="csv"]')]);
  const text = readFileSync(await csv.path(), 'utf8').replace(/^\uFEFF/, '');
  const lines = text.trim().split(/\r\n/);
  assert.equal(lines.length, 1 + 8, 'a header and one line per store');
  assert.match(lines[0], /门店/, 'Chinese headers');
  const cols = lines[0].split(',').length;
  for (const l of lines.slice(1)) assert.equal(l.split(',').length, cols, 'every line has every column');
  const [xlsx] = await Promise.all([page.waitForEvent('download'), page.click('#league [data-export="xlsx"]')]);
  const bytes = readFileSync(await xlsx.path());
  assert.equal(bytes.subarray(0, 2).toString('latin1'), 'PK', 'an .xlsx is a zip file');
  assert.ok(bytes.includes(Buffer.from('xl/worksheets/sheet1.xml')), 'with a worksheet');
  await page.close();
});

test('a regional manager sees only the stores of their region', async () => {
  const page = await newPage();
  await login(page, 'rm_hb', 'demo1234');
  const me = await page.evaluate(async () => (await fetch('/api/v1/me')).json());
  assert.equal(me.role, 'regional_manager');
  await page.goto(`${server.url}/index.html?${PERIOD}`);
  await page.waitForSelector('#league tbody tr');
  await chartsDrawn(page, 1);
  const shown = await page.$$eval('#league tbody tr', (trs) => trs.length);
  assert.equal(shown, me.stores.length, 'the league table holds exactly the stores in scope');
  const all = await page.evaluate(async () => (await fetch('/api/v1/stores')).json());
  assert.ok(all.every((s) => me.regions.includes(s.region)), 'every listed store is in their region');
  await page.screenshot({ path: join(shots, 'overview-regional-manager.png'), fullPage: true });
  await page.close();
});

test('no page logged a console error', () => {
  assert.deepEqual(consoleErrors, []);
});
