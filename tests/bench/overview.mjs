// overview: how long the group overview (index.html, the default period: the
// last full month) takes to paint in Debian's headless Chromium on loopback,
// with the default demo group (24 stores, 3 years ending last month). Painted
// means: nine headline cards with values, the league table filled, every
// chart drawn. Every timed view follows an import (as each morning follows
// the night's uploads), so no KPI answer is cached and the database is warm.
// Timed: a first visit from a fresh browser profile, the morning visit of a
// browser that has the page cached, and a reload. The reference, side by
// side: the page's one KPI batch alone (the very body the page sends,
// caught from the browser), sent by node after an import (the floor the
// page cannot beat). Prints a table. Not part of CI.
//   node tests/bench/overview.mjs          (loads the demo group: a few minutes)
//   OVERVIEW_DATA_DIR=var node tests/bench/overview.mjs   (a data dir holding it)
//   (OVERVIEW_ROUNDS, default 3; OVERVIEW_WEB_ROOT: the dashboards to
//   serve, e.g. an older copy of web/ to compare with)
import { rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { startServer, run, tempDir, root } from '../integration/lib.mjs';

const require = createRequire(join(root, 'tests', 'web', 'package.json'));
const { chromium } = require('playwright-core');
const rounds = Number(process.env.OVERVIEW_ROUNDS || 3);

const dataDir = process.env.OVERVIEW_DATA_DIR || tempDir('fs-overview-');
// local mode's own buffer pool sizing, not the small one the tests use
const env = { FOURSCORE_LOCALDB_BUFFER_POOL: '', ...(process.env.OVERVIEW_WEB_ROOT ? { FOURSCORE_WEB_ROOT: process.env.OVERVIEW_WEB_ROOT } : {}) };
if (!process.env.OVERVIEW_DATA_DIR) {
  console.log(`loading the default demo group into ${dataDir} ...`);
  const demo = await run(['demo'], { dataDir, env, timeoutMs: 1800000 });
  if (demo.code !== 0) { console.error(demo.stderr); process.exit(1); }
}

// What the night's upload does to the caches: any import empties them. The
// file repeats the group's regions as they are (nothing changes).
async function invalidate(s, cookie) {
  const regions = (await s.request('GET', '/api/v1/regions', { cookie })).json;
  const file = join(dataDir, 'bench-regions.csv');
  writeFileSync(file, 'region_code,name\n' + regions.map((r) => `${r.code},${r.name}`).join('\n') + '\n');
  const r = await s.cli(['import', 'regions', file]);
  if (r.code !== 0) throw new Error(`import: ${r.stderr}`);
}

// The page's batch, sent alone (body: the JSON the page sent).
async function batchAlone(s, cookie, body) {
  const t0 = performance.now();
  const r = await s.request('POST', '/api/v1/kpi/batch', { cookie, body, contentType: 'application/json' });
  const ms = performance.now() - t0;
  if (r.status !== 200) throw new Error(`batch: ${r.status} ${r.text}`);
  return ms;
}

async function painted(page) {
  await page.waitForFunction(() => {
    const cards = [...document.querySelectorAll('#headline .card .value')];
    const charts = [...document.querySelectorAll('.chart')];
    return cards.length === 9 && cards.every((v) => v.textContent !== '—')
      && document.querySelectorAll('#league tbody tr').length > 0
      && charts.length > 0 && charts.every((c) => c.dataset.chart === 'ready' && c.querySelector('canvas'));
  }, null, { timeout: 120000, polling: 10 });
}

async function timeView(page, url, how) {
  const t0 = performance.now();
  if (how === 'reload') await page.reload({ waitUntil: 'commit' });
  else await page.goto(url, { waitUntil: 'commit' });
  await painted(page);
  return performance.now() - t0;
}

// One round, each view right after an import (KPI caches empty, database
// warm): a fresh browser profile opens the overview (first visit: nothing
// cached in the browser); the same browser opens it again after the next
// import (the morning visit: page and chart library cached); then a reload
// (everything warm).
function launch(profile) {
  return chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium', headless: true, viewport: { width: 1400, height: 900 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}
// The body of the overview's KPI batch, as the page sends it (one view, not timed).
async function pageBatch(s, cookie) {
  const profile = tempDir('fs-chromium-');
  const browser = await launch(profile);
  try {
    const [name, value] = cookie.split('=');
    await browser.addCookies([{ name, value, url: s.url }]);
    const page = await browser.newPage();
    const bodies = [];
    page.on('request', (r) => { if (r.method() === 'POST' && r.url().endsWith('/api/v1/kpi/batch')) bodies.push(r.postData()); });
    await page.goto(`${s.url}/index.html`, { waitUntil: 'commit' });
    await painted(page);
    if (bodies.length !== 1) throw new Error(`the overview sent ${bodies.length} KPI batches`);
    return bodies[0];
  } finally {
    await browser.close();
    rmSync(profile, { recursive: true, force: true });
  }
}

async function pageRound(s, cookie) {
  const profile = tempDir('fs-chromium-');
  const browser = await launch(profile);
  try {
    const [name, value] = cookie.split('=');
    await browser.addCookies([{ name, value, url: s.url }]);
    await invalidate(s, cookie);
    let page = await browser.newPage();
    const first = await timeView(page, `${s.url}/index.html`);
    await page.close();
    await invalidate(s, cookie);
    page = await browser.newPage();
    const morning = await timeView(page, `${s.url}/index.html`);
    const warm = await timeView(page, null, 'reload');
    return { first, morning, warm };
  } finally {
    await browser.close();
    rmSync(profile, { recursive: true, force: true });
  }
}

const server = await startServer({ dataDir, env });
// signed in through the API, so no page asks for a KPI before the timed views
const cookie = await server.login('exec', 'demo1234');
// one untimed view: the database warm, as on a server that has run a while, and the page's batch caught
const body = await pageBatch(server, cookie);
console.log(`the page's batch: ${JSON.parse(body).length} queries`);
const rows = [];
for (let i = 0; i < rounds; i++) {
  await invalidate(server, cookie);
  const alone = await batchAlone(server, cookie, body);
  const r = await pageRound(server, cookie);
  rows.push({ alone, ...r });
  console.log(`round ${i + 1}: batch alone ${alone.toFixed(0)} ms; page: first visit ${r.first.toFixed(0)} ms,`
    + ` morning ${r.morning.toFixed(0)} ms, warm ${r.warm.toFixed(0)} ms`);
}
const median = (k) => [...rows.map((r) => r[k])].sort((a, b) => a - b)[Math.floor(rows.length / 2)];
const line = (what, k, target) => {
  const v = median(k);
  console.log(`| ${what} | ${v.toFixed(0)} | ${(v / median('alone')).toFixed(2)}× | ${target ? (v <= 1000 ? '≤ 1000 ms ✓' : '≤ 1000 ms ✗') : '—'} |`);
};
console.log(`\n| overview, default period, median of ${rounds} rounds | ms | vs the batch alone | target |`);
console.log('|---|---|---|---|');
line('the KPI batch alone, after an import (reference)', 'alone', false);
line('first visit: fresh browser, after an import', 'first', true);
line('morning: browser has the page cached, after an import', 'morning', true);
line('reload: everything warm', 'warm', true);
await server.stop('SIGTERM', { keep: true });
if (!process.env.OVERVIEW_DATA_DIR) rmSync(dataDir, { recursive: true, force: true });
