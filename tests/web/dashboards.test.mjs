// dashboards: the pages in a real headless Chromium (Debian's, driven by
// playwright-core) against a real server holding a small demo group (one
// server for the whole run: harness.mjs; the cases of layout.cases.mjs,
// roles.cases.mjs, print.cases.mjs, daily.cases.mjs, scorecards.cases.mjs, panels.cases.mjs and alerts.cases.mjs run in it
// too). Logs in as an
// executive and as a regional manager; checks that every page renders its
// charts with data, the league table sorts, drill-down navigates, every
// domain page of the nav renders (and the old per-domain addresses still
// open it), target lines and cards follow a target an admin changes, no
// page script holds a word outside i18n.js, the language switch works and
// is remembered, exports download files that parse, the regional manager
// sees only their stores, and no page of the whole run logs a console
// error. Screenshots go to tests/web/screenshots/ (git-ignored).
//   FOURSCORE_BIN=$PWD/build/fourscore FOURSCORE_PLUGIN_DIR=$PWD/build/plugins node --test tests/web/dashboards.test.mjs
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { root } from '../integration/lib.mjs';
import { h, shots, PERIOD, DOMAINS, consoleErrors, login, chartsDrawn, newPage } from './harness.mjs';
import './lists.cases.mjs';    // the list page and the counts that open it
import './layout.cases.mjs';
import './roles.cases.mjs';
import './print.cases.mjs';
import './daily.cases.mjs';
import './scorecards.cases.mjs';
import './panels.cases.mjs';   // the RO split, sales, staff and the SERVQUAL dimensions
import './alerts.cases.mjs';   // the alerts page, the bell, the rules editor, subscriptions

test('an executive sees the group overview with data, sorts the league table and drills down', async () => {
  const page = await newPage();
  await login(page, 'exec', 'demo1234');
  await page.goto(`${h.server.url}/index.html?${PERIOD}`);
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

// The domain pages are one page, domain.html?d=<domain>; the header links to
// each (DOMAINS: the domains the product ships, web/js/domain.js). The
// first five had pages of their own once: their old addresses still work.
const OLD_DOMAINS = ['parts', 'insurance', 'receivables', 'labour', 'retention'];
// Charts per domain page, counted from the page descriptions in web/js/domain.js
// (service: volume, revenue per RO, quality, contact, the mechanical/bodywork mix;
// csi: the score, the dimensions by store, the dimensions against the group median;
// sales: units with revenue, referral share with new-car insurance penetration).
const DOMAIN_CHARTS = { service: 5, parts: 2, insurance: 3, receivables: 2, labour: 2, retention: 3, csi: 3, sales: 2 };

// The header's links as [{text, href (relative to the site), active}].
const navLinks = (page) => page.$$eval('header nav a', (as) => as.map((a) => ({
  text: a.textContent, href: a.getAttribute('href'), active: a.classList.contains('active') })));

test('every domain page reachable from the nav renders its title and charts with data, without a console error', async () => {
  const page = await newPage();
  await login(page, 'exec', 'demo1234');
  await page.goto(`${h.server.url}/index.html?${PERIOD}`);
  await page.waitForSelector('#headline .card');
  const links = (await navLinks(page)).filter((l) => l.href.startsWith('domain.html'));
  assert.deepEqual(links.map((l) => new URLSearchParams(l.href.split('?')[1]).get('d')), DOMAINS,
    'the nav links each domain, as domain.html?d=<domain>');
  for (const l of links) {
    const d = new URLSearchParams(l.href.split('?')[1]).get('d');
    assert.match(l.href, /[?&]from=2026-09-01&to=2026-09-30&kind=month/, `${d}: the nav link keeps the period`);
    const errorsBefore = consoleErrors.length;
    // follow the link as a user does, from whatever page is open
    await Promise.all([page.waitForURL((u) => u.search.startsWith(`?d=${d}&`)), page.click(`header nav a[href="${l.href}"]`)]);
    await page.waitForSelector('#domain-table tbody tr');
    await chartsDrawn(page, DOMAIN_CHARTS[d]);
    assert.equal(await page.$$eval('.chart', (cs) => cs.length), DOMAIN_CHARTS[d], `${d}: its charts, each drawn`);
    const h1 = await page.$eval('h1', (h) => h.firstChild.textContent);
    assert.equal(h1, l.text, `${d}: the title is the nav's name for it`);
    assert.equal(await page.title(), `${l.text} · Fourscore`);
    const active = (await navLinks(page)).filter((a) => a.active).map((a) => a.text);
    assert.deepEqual(active, [l.text], `${d}: its nav link, and only it, is marked`);
    const cells = await page.$$eval('#domain-table tbody tr:first-child td.num', (tds) => tds.map((td) => td.textContent));
    assert.ok(cells.length > 0 && cells.some((c) => c !== '—'), `${d}: the group row has values`);
    assert.deepEqual(consoleErrors.slice(errorsBefore), [], `${d}: no console error`);
    await page.screenshot({ path: join(shots, `${d}.png`), fullPage: true });
  }
  await page.goto(`${h.server.url}/scorecards.html?${PERIOD}`);
  await page.waitForSelector('#result table tbody tr');
  await chartsDrawn(page, 1);
  const ranks = await page.$$eval('#result tbody tr', (trs) => trs.map((tr) => Number(tr.children[0].textContent)));
  assert.ok(ranks.length >= 1 && ranks[0] === 1, 'a ranked table starting at 1');
  await page.screenshot({ path: join(shots, 'scorecards.png'), fullPage: true });
  await page.close();
});

test('the old addresses of the domain pages still open them, under the one address', async () => {
  const page = await newPage();
  await login(page, 'exec', 'demo1234');
  for (const d of OLD_DOMAINS) {
    const res = await page.goto(`${h.server.url}/${d}.html?${PERIOD}#league`);
    assert.equal(res.status(), 200, `${d}.html is served`);
    await page.waitForSelector('#domain-table tbody tr');
    await chartsDrawn(page, DOMAIN_CHARTS[d]);
    const u = new URL(page.url());
    assert.equal(u.pathname + u.search + u.hash, `/domain.html?d=${d}&${PERIOD}#league`,
      `${d}.html: the address becomes domain.html?d=${d} with the same period and fragment`);
    const active = (await navLinks(page)).filter((a) => a.active);
    assert.equal(active.length, 1, `${d}.html: one nav link marked`);
    assert.equal(active[0].href.split('&')[0], `domain.html?d=${d}`);
    assert.equal(await page.$eval('h1', (h) => h.firstChild.textContent), active[0].text);
  }
  // an old bookmark opened signed out: sign in, and land on the page asked for
  await page.evaluate(() => fetch('/api/v1/session', { method: 'DELETE' }));
  const errorsBefore = consoleErrors.length;
  await page.goto(`${h.server.url}/labour.html?${PERIOD}`);
  await page.waitForURL(/login\.html\?next=/);
  // the browser logs the 401 that sends the page to the sign-in: that one is expected, and only it
  const expected = consoleErrors.splice(errorsBefore);
  assert.ok(expected.length <= 1 && expected.every((e) => /status of 401/.test(e)), expected.join('\n'));
  await page.fill('#username', 'exec');
  await page.fill('#password', 'demo1234');
  await Promise.all([page.waitForURL(/domain\.html\?d=labour&/), page.click('#submit')]);
  await page.waitForSelector('#domain-table tbody tr');
  // a domain that does not exist (or an inherited property name) is said so, and the header still works
  for (const bad of ['nope', 'constructor', '']) {
    await page.goto(`${h.server.url}/domain.html?d=${bad}&${PERIOD}`);
    await page.waitForSelector('#unknown-page');
    assert.equal(await page.textContent('#unknown-page'), `没有这个页面：${bad}`);
    assert.equal((await navLinks(page)).filter((l) => l.href.startsWith('domain.html')).length, DOMAINS.length);
    assert.equal(await page.$$eval('.chart', (cs) => cs.length), 0);
  }
  await page.close();
});

// The target lines drawn on the page's charts: {kpi id: [[value, label], ...]}.
const targetLines = (page) => page.evaluate(() => {
  const out = {};
  for (const box of document.querySelectorAll('.chart')) {
    /* global echarts */
    for (const s of echarts.getInstanceByDom(box).getOption().series) {
      for (const item of s.markLine?.data || []) (out[item.name] ??= []).push([item.yAxis, item.label?.formatter]);
    }
  }
  return out;
});
// The target lines that fall outside their value axis (so would not show): [kpi id, value, [min, max]].
const targetsOffAxis = (page) => page.evaluate(() => {
  const off = [];
  for (const box of document.querySelectorAll('.chart')) {
    const inst = echarts.getInstanceByDom(box);
    for (const s of inst.getOption().series) {
      if (!s.markLine?.data?.length) continue;
      const extent = inst.getModel().getComponent('yAxis', s.yAxisIndex || 0).axis.scale.getExtent();
      for (const item of s.markLine.data) if (!(item.yAxis >= extent[0] && item.yAxis <= extent[1])) off.push([item.name, item.yAxis, extent]);
    }
  }
  return off;
});
// The "target" bars of the churn chart, y1..y3.
const churnTargets = (page) => page.evaluate((name) => {
  for (const box of document.querySelectorAll('.chart')) {
    const s = echarts.getInstanceByDom(box).getOption().series.find((x) => x.name === name);
    if (s) return s.data;
  }
  return null;
}, '目标');

test('the target lines and cards follow the catalogue when an admin changes a target', async () => {
  const admin = await h.server.adminCookie();
  const catalogue = async () => Object.fromEntries((await h.server.request('GET', '/api/v1/kpis', { cookie: admin })).json.kpis.map((k) => [k.id, k]));
  const before = await catalogue();
  // the defaults of the KPI catalogue (docs/kpis.md): turnover ≥ 8, hours per RO ≥ 2.0, first service ≥ 0.95,
  // tech efficiency ≥ 1.05, repair-to-premium ≈ 0.9 (the band 0.85–0.95), churn y1 < 0.05, y2 < 0.08, y3 < 0.12, labour share 0.3
  assert.equal(before['parts.turnover'].target, 8);
  assert.equal(before['labour.hours_per_ro'].target, 2);
  assert.equal(before['labour.share'].target, 0.3);
  assert.deepEqual(before['insurance.repair_to_premium'].target, { low: 0.85, high: 0.95 }, 'about 0.9, as a band');
  assert.deepEqual(['retention.churn_y1', 'retention.churn_y2', 'retention.churn_y3'].map((id) => before[id].target), [0.05, 0.08, 0.12]);

  const page = await newPage();
  await login(page, 'exec', 'demo1234');
  const open = async (d) => {
    await page.goto(`${h.server.url}/domain.html?d=${d}&${PERIOD}`);
    await page.waitForSelector('#domain-table tbody tr');
    await chartsDrawn(page, DOMAIN_CHARTS[d]);
    // a target far from the bars (repair-to-premium in the demo is about 0.15) still shows: its axis reaches it
    assert.deepEqual(await targetsOffAxis(page), [], `${d}: every target line inside its axis`);
  };
  await open('parts');
  assert.deepEqual((await targetLines(page))['parts.turnover'], [[8, '≥ 8.0次/年']], 'the default target, as the catalogue has it');
  await open('labour');
  assert.deepEqual(await targetLines(page), { 'labour.tech_efficiency': [[1.05, '≥ 105.0%']], 'labour.hours_per_ro': [[2, '≥ 2.00小时']] });
  await open('insurance');
  assert.deepEqual((await targetLines(page))['insurance.repair_to_premium'], [[0.85, '85.0%'], [0.95, '95.0%']], 'a band: a line at each end');
  await open('retention');
  assert.deepEqual((await targetLines(page))['retention.first_service_rate'], [[0.95, '≥ 95.0%']]);
  assert.deepEqual(await churnTargets(page), [0.05, 0.08, 0.12]);

  const put = (body) => h.server.request('PUT', '/api/v1/settings', { cookie: admin, body });
  const changed = { 'parts.turnover.target': 10, 'labour.hours_per_ro.target_low': 1.8, 'labour.hours_per_ro.target_high': 2.4,
    'retention.churn_y2.target': 0.07, 'labour.share.target': 0.35, 'retention.first_service_rate.target': 0.9 };
  const r = await put(changed);
  assert.equal(r.status, 200, r.text);
  const after = await catalogue();
  assert.equal(after['parts.turnover'].target, 10);
  assert.deepEqual(after['labour.hours_per_ro'].target, { low: 1.8, high: 2.4 });
  try {
    // the same tab, reloaded: nothing the page kept from before may hide the change
    await page.reload();
    await page.waitForSelector('#domain-table tbody tr');
    await chartsDrawn(page, 3);
    assert.deepEqual((await targetLines(page))['retention.first_service_rate'], [[0.9, '≥ 90.0%']]);
    assert.deepEqual(await churnTargets(page), [0.05, 0.07, 0.12], 'the churn target bars follow too');
    await page.screenshot({ path: join(shots, 'retention-changed-targets.png'), fullPage: true });
    await open('parts');
    assert.deepEqual((await targetLines(page))['parts.turnover'], [[10, '≥ 10.0次/年']], 'the new target');
    const th = await page.getAttribute('#domain-table th[data-key="parts.turnover"]', 'title');
    assert.match(th, /目标 ≥ 10\.0次\/年$/, 'the table heading says the new target');
    await page.screenshot({ path: join(shots, 'parts-changed-target.png'), fullPage: true });
    await open('labour');
    assert.deepEqual((await targetLines(page))['labour.hours_per_ro'], [[1.8, '1.80小时'], [2.4, '2.40小时']], 'a band: a line at each end');
    // the overview's card for labour share says the new target
    await page.goto(`${h.server.url}/index.html?${PERIOD}`);
    await page.waitForSelector('#headline .card');
    assert.equal(await page.textContent('#headline .card[data-kpi="labour.share"] .target'), '目标 ≥ 35.0%');
  } finally {
    const reset = await put(Object.fromEntries(Object.keys(changed).map((k) => [k, null])));
    assert.equal(reset.status, 200, reset.text);
  }
  // and back to the defaults
  await open('parts');
  assert.deepEqual((await targetLines(page))['parts.turnover'], [[8, '≥ 8.0次/年']], 'back to the default');
  await open('labour');
  assert.deepEqual((await targetLines(page))['labour.hours_per_ro'], [[2, '≥ 2.00小时']]);
  await page.close();
});

test('the pages hold no label of their own: every word is in i18n.js, in both languages', async () => {
  const web = join(root, 'web');
  const files = [
    ...readdirSync(web).filter((f) => f.endsWith('.html')).map((f) => join(web, f)),
    ...readdirSync(join(web, 'js')).filter((f) => f.endsWith('.js') && f !== 'i18n.js').map((f) => join(web, 'js', f)),
  ];
  assert.ok(files.length >= 10, `the shells and scripts are found (${files.length})`);
  const cjk = /[\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef]/u;
  const used = new Set();
  for (const f of files) {
    const text = readFileSync(f, 'utf8');
    text.split('\n').forEach((lineText, i) => {
      assert.doesNotMatch(lineText, cjk, `${f}:${i + 1} holds Chinese text: it belongs in web/js/i18n.js`);
      assert.doesNotMatch(lineText, /['"`](zh|en)['"`]/, `${f}:${i + 1} branches on the language: i18n.js does that`);
    });
    for (const m of text.matchAll(/\bt\('([a-z0-9_]+)'\s*[,)]/g)) used.add(m[1]);
  }
  const { dict, MONEY_STEPS } = await import(join(web, 'js', 'i18n.js'));
  assert.deepEqual(Object.keys(dict).sort(), ['en', 'zh']);
  // every word in both languages; only the steps of shortened money (万/亿 against k/M/B) differ
  const money = new Set([...MONEY_STEPS.zh, ...MONEY_STEPS.en].map((st) => st.key));
  for (const l of ['zh', 'en']) for (const st of MONEY_STEPS[l]) assert.match(dict[l][st.key] || '', /\{v\}/, `${l}: money step ${st.key}`);
  const words = (l) => Object.keys(dict[l]).filter((k) => !money.has(k)).sort();
  assert.deepEqual(words('zh'), words('en'), 'the same words in Chinese and English');
  assert.ok(used.size > 50, `the pages ask for their words (${used.size} keys)`);
  for (const k of used) assert.ok(k in dict.zh && k in dict.en, `t('${k}') is in both languages`);
});

test('a Chinese domain page shows no English word outside the KPI names', async () => {
  const zh = await newPage('zh');
  await login(zh, 'exec', 'demo1234');
  await zh.evaluate(() => localStorage.setItem('fourscore.lang', 'zh'));
  const names = await zh.evaluate(async () => (await (await fetch('/api/v1/kpis')).json()).kpis.map((k) => k.name.zh));
  // the product's name and the export formats are the same in both languages
  const same = ['Fourscore', 'CSV', 'Excel', 'PDF'];
  for (const d of DOMAINS) {
    await zh.goto(`${h.server.url}/domain.html?d=${d}&${PERIOD}`);
    await zh.waitForSelector('#domain-table tbody tr');
    await chartsDrawn(zh, DOMAIN_CHARTS[d]);
    const texts = await zh.evaluate(() => [...document.querySelectorAll('header nav, header #logout, h1, h2, th, button:not(#lang), select option')]
      .map((e) => e.textContent));
    for (const text of texts) {
      let rest = text;
      for (const w of [...names, ...same].sort((x, y) => y.length - x.length)) rest = rest.split(w).join(' ');
      assert.doesNotMatch(rest, /[A-Za-z]{2,}/, `${d}: "${text}" has an English word`);
    }
  }
  await zh.close();
});

test('an English domain page shows no Chinese outside the data', async () => {
  const page = await newPage('en');
  await login(page, 'exec', 'demo1234');
  await page.evaluate(() => localStorage.setItem('fourscore.lang', 'en'));   // the profile remembers the last choice
  const cjk = /[\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef]/u;
  const places = await page.evaluate(async () => [...(await (await fetch('/api/v1/regions')).json()), ...(await (await fetch('/api/v1/stores')).json())]);
  const escape = (x) => x.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const placeNames = new RegExp(places.map((p) => `${escape(p.name)} \\(${escape(p.code)}\\)`).join('|'), 'gu');
  try {
    for (const d of DOMAINS) {
      await page.goto(`${h.server.url}/domain.html?d=${d}&${PERIOD}`);
      await page.waitForSelector('#domain-table tbody tr');
      await chartsDrawn(page, DOMAIN_CHARTS[d]);
      // the frame, titles, headings and buttons (the switch back to 中文 aside); store and insurer names are data
      const words = await page.evaluate(() => [...document.querySelectorAll('header nav, header #who, header #logout, h1, h2, th, button:not(#lang), select option')]
        .map((e) => e.textContent));
      // a region's or a store's name (data) is shown with its code: those aside
      for (const w of words) assert.doesNotMatch(w.replace(placeNames, ''), cjk, `${d}: "${w}"`);
      const chartWords = await page.evaluate(() => [...document.querySelectorAll('.chart')].flatMap((box) => {
        const o = echarts.getInstanceByDom(box).getOption();
        // series are named by KPI or by i18n.js (a pie's slices are insurers: data)
        return [...o.series.map((s) => s.name), ...o.series.flatMap((s) => (s.markLine?.data || []).map((m) => m.label?.formatter))];
      }));
      assert.ok(chartWords.length > 0);
      for (const w of chartWords) assert.doesNotMatch(String(w), cjk, `${d}: chart "${w}"`);
    }
  } finally {
    await page.evaluate(() => localStorage.setItem('fourscore.lang', 'zh'));
  }
  await page.close();
});

test('the language switch turns the pages English and is remembered', async () => {
  const page = await newPage();
  await login(page, 'exec', 'demo1234');
  await page.goto(`${h.server.url}/index.html?${PERIOD}`);
  await page.waitForSelector('#headline .card');
  assert.match(await page.textContent('header nav'), /集团总览/);
  await Promise.all([page.waitForEvent('load'), page.click('#lang')]);
  await page.waitForSelector('#headline .card');
  assert.match(await page.textContent('header nav'), /Group overview/);
  await page.goto(`${h.server.url}/domain.html?d=parts&${PERIOD}`);
  await page.waitForSelector('#domain-table');
  assert.match(await page.textContent('h1'), /Parts/, 'still English on another page');
  await page.screenshot({ path: join(shots, 'overview-en.png'), fullPage: true });
  await page.evaluate(() => localStorage.setItem('fourscore.lang', 'zh'));
  await page.close();
});

test('exports download a CSV and an Excel file that parse', async () => {
  const page = await newPage();
  await login(page, 'exec', 'demo1234');
  await page.goto(`${h.server.url}/index.html?${PERIOD}`);
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
  await page.goto(`${h.server.url}/index.html?${PERIOD}`);
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
