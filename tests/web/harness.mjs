// harness: what the browser tests share: one small demo group and one real
// server for the whole run (started before the first test, stopped after
// the last), one headless Chromium (Debian's, driven by playwright-core),
// sign-in helpers, the waits for a page to be drawn, and the console errors
// every page logged. dashboards.test.mjs is the run's one entry point: it
// imports the *.cases.mjs files, so all cases share this server.
import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { startServer, run, tempDir, root } from '../integration/lib.mjs';

export const shots = join(root, 'tests', 'web', 'screenshots');
mkdirSync(shots, { recursive: true });
export const END = '2026-09';
export const PERIOD = 'from=2026-09-01&to=2026-09-30&kind=month';
// The demo's logins (one per role, password demo1234) and the store and region they see.
export const USERS = {
  exec: { user: 'exec', password: 'demo1234', role: 'executive' },
  rm: { user: 'rm_hb', password: 'demo1234', role: 'regional_manager', region: 'HB' },
  sm: { user: 'sm_bj003', password: 'demo1234', role: 'store_manager', store: 'BJ003' },
};
// The domain pages the product ships (web/js/domain.js), in the nav's order.
export const DOMAINS = ['service', 'parts', 'insurance', 'receivables', 'labour', 'retention', 'csi', 'sales'];
// The pages with neither a period nor charts: [name, address, the roles (USERS keys) that open them].
export const PLAIN_PAGES = [
  ['alerts', 'alerts.html?state=all', ['exec', 'rm', 'sm', 'admin']],
  ['alert-rules', 'alert-rules.html', ['rm', 'admin']],
  ['subscriptions', 'subscriptions.html', ['exec', 'rm', 'sm', 'admin']],
];

export const h = { server: null, browser: null, context: null };
export const consoleErrors = [];

before(async () => {
  const dataDir = tempDir('fs-web-');
  // a small demo group: 8 stores in 4 regions, 2 years ending September 2026
  const demo = await run(['demo', '--stores', '8', '--years', '2', '--end', END, '--seed', '7'], { dataDir, timeoutMs: 600000 });
  assert.equal(demo.code, 0, `demo failed:\n${demo.stderr}`);
  for (const u of Object.values(USERS)) assert.match(demo.stdout, new RegExp(`\\b${u.user}\\b`), `the demo made the login ${u.user}`);
  // notifications may go to receivers on loopback only (alerts.cases.mjs starts them), mail to example.com
  h.server = await startServer({ dataDir, env: { FOURSCORE_WEBHOOK_HOSTS: '127.0.0.1', FOURSCORE_MAIL_DOMAINS: 'example.com' } });
  USERS.admin = { user: 'admin', password: h.server.adminPassword, role: 'admin' };
  h.browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  h.context = await newContext();
});

after(async () => {
  await h.browser?.close();
  const res = await h.server?.stop('SIGTERM', { keep: false });
  if (h.server) rmSync(h.server.dataDir, { recursive: true, force: true });
  assert.equal(res?.code, 0);
});

function watch(page) {
  page.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(`${page.url()}: ${m.text()}`); });
  page.on('pageerror', (e) => consoleErrors.push(`${page.url()}: ${e.message}`));
}
// A browser context of its own (its own cookies and storage: one signed-in user).
export async function newContext(opts = {}) {
  const c = await h.browser.newContext({ acceptDownloads: true, viewport: { width: 1400, height: 900 }, ...opts });
  c.on('page', watch);
  return c;
}

// Signs in through the form, as a person does; resolves on the first page.
export async function login(page, user, password) {
  await page.goto(`${h.server.url}/login.html`);
  await page.fill('#username', user);
  await page.fill('#password', password);
  await Promise.all([page.waitForURL(/index\.html|store\.html|\/$/), page.click('#submit')]);
  // the landing page's own requests (its KPI batch) are done before the caller counts or navigates
  await page.waitForLoadState('networkidle');
}
// Signs a context in through the API (its pages share the cookie).
export async function apiLogin(context, { user, password }) {
  const r = await context.request.post(`${h.server.url}/api/v1/session`, { data: { username: user, password },
    headers: { origin: h.server.url } });
  assert.equal(r.status(), 200, `login ${user}`);
}

// Waits until every chart container of the page has drawn a canvas.
export async function chartsDrawn(page, min = 1) {
  await page.waitForFunction((n) => {
    const charts = [...document.querySelectorAll('.chart')];
    return charts.length >= n && charts.every((c) => c.dataset.chart === 'ready' && c.querySelector('canvas'));
  }, min, { timeout: 120000 });
}
// Waits until the page shows its content: a heading, nothing loading, every
// chart drawn; an error shown instead fails, with its words.
export async function pageDrawn(page) {
  await page.waitForFunction(() => {
    const main = document.querySelector('main');
    if (!main || main.querySelector('.loading') || !main.querySelector('h1, form, .error')) return false;
    return [...document.querySelectorAll('.chart')].every((c) => c.dataset.chart === 'ready' && c.querySelector('canvas'));
  }, null, { timeout: 120000 });
  const error = await page.$eval('main', (m) => m.querySelector('.error')?.textContent ?? null);
  assert.equal(error, null, `${page.url()} shows an error`);
}

export async function newPage(lang = 'zh', context = h.context) {
  const page = await context.newPage();
  // a correctness test, not a speed test: cold KPI answers on a busy machine may take a while
  page.setDefaultTimeout(120000);
  await page.addInitScript((l) => { if (!localStorage.getItem('fourscore.lang')) localStorage.setItem('fourscore.lang', l); }, lang);
  return page;
}

// Counts the page's POST /api/v1/kpi/batch requests: () → the count since the last call.
export function batchCounter(page) {
  let n = 0;
  page.on('request', (r) => { if (r.method() === 'POST' && new URL(r.url()).pathname === '/api/v1/kpi/batch') n++; });
  return () => { const v = n; n = 0; return v; };
}
