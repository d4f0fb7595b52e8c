// alerts cases (run by dashboards.test.mjs, in its server): the alerts
// pages in the browser. A regional manager (rm_hb: region HB, stores BJ003
// and TJ007) makes a rule in the editor (alert-rules.html): first with a
// webhook whose host is not allowed (the server's 400 names
// notify[0].webhook, and the page shows it beside that target), then with
// a webhook receiver of this file's own on loopback (node http, the
// harness lets 127.0.0.1); the rule arrives through the API as typed. Its
// 测试发送 button sends a sample that the receiver gets, and the page shows
// it delivered. `fourscore alerts check` opens its alerts: the KPI is
// retention.at_risk (an as-of count the demo has a value of on any day),
// "above 1" over the month to date, for every store of the region, so both
// HB stores fire (each has hundreds of at-risk vehicles, asked for below
// through the API). The alerts page lists both with the KPI's Chinese
// name from the catalogue, the value as the API gives it, a link to the
// store page that opens the store and a link to the at-risk list of that
// store; the bell counts them. A store manager (sm_bj003) sees BJ003's
// alert only, no rules editor and no link to one; they make a subscription
// on their page (a bad time is refused beside the field). The rule is
// deleted at the end (its alerts close), leaving the other cases as they were.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { h, shots, USERS, consoleErrors, newContext, apiLogin, pageDrawn } from './harness.mjs';
import { startWebhooks, waitFor } from '../integration/receivers.mjs';

let hooks;
before(async () => { hooks = await startWebhooks(); });
after(async () => { await hooks?.close(); });

const KPI = 'retention.at_risk';
const RULE = 'web-at-risk';

// A signed-in page of its own context for a demo user.
async function pageOf(who, width = 1440) {
  const context = await newContext({ viewport: { width, height: 900 } });
  await apiLogin(context, USERS[who]);
  const page = await context.newPage();
  page.setDefaultTimeout(120000);
  page.on('dialog', (d) => d.accept());          // the confirm() of a delete
  return { context, page };
}
const apiGet = async (page, path) => page.evaluate(async (p) => {
  const r = await fetch(p);
  return { status: r.status, json: await r.json() };
}, path);

test('a regional manager makes a rule in the editor, tests it, and its alerts are listed with the KPI name, store and list links; the bell counts them', async () => {
  const { context, page } = await pageOf('rm');
  try {
    await page.goto(`${h.server.url}/alert-rules.html`);
    await pageDrawn(page);
    assert.equal(await page.textContent('header nav a.active'), '预警规则', 'its nav entry');
    assert.ok(await page.isVisible('#rule-form'), 'the editor is there');
    // only KPIs answered by store are offered, by their catalogue names
    const cat = (await apiGet(page, '/api/v1/kpis')).json.kpis;
    const offered = await page.$$eval('#rule-kpi option', (os) => os.map((o) => [o.value, o.textContent]));
    assert.ok(offered.length > 10);
    for (const [id, text] of offered) {
      const def = cat.find((k) => k.id === id);
      assert.ok(def && def.by.includes('store'), `${id} is answered by store`);
      assert.equal(text, def.name.zh);
    }
    // the stores and regions offered are the manager's own
    assert.deepEqual(await page.$$eval('#rule-stores input', (is) => is.map((i) => i.value).sort()), ['BJ003', 'TJ007']);
    assert.deepEqual(await page.$$eval('#rule-regions input', (is) => is.map((i) => i.value)), ['HB']);

    await page.fill('#rule-name', RULE);
    await page.selectOption('#rule-kpi', KPI);
    await page.selectOption('#rule-when', 'outside_target');
    assert.equal(await page.isVisible('#rule-threshold'), false, 'outside_target takes no threshold: the field goes');
    await page.selectOption('#rule-when', 'above');
    assert.equal(await page.isVisible('#rule-threshold'), true);
    await page.fill('#rule-threshold', '1');
    await page.selectOption('#rule-window', 'month_to_date');
    // a webhook host that IT did not allow: the server's 400, beside that target
    await page.fill('#rule-targets .target-url', 'https://evil.example.net/hook');
    await page.selectOption('#rule-targets .target-format', 'json');
    const errorsBefore = consoleErrors.length;
    await page.click('#rule-save');
    await page.waitForFunction(() => document.querySelector('[data-error-for="notify[0]"]')?.textContent);
    const err = await page.textContent('[data-error-for="notify[0]"]');
    assert.match(err, /notify\[0\]\.webhook/, `the server's message names the field: ${err}`);
    assert.ok(await page.$('[data-field="notify"].bad, .field.bad [data-error-for="notify[0]"]'), 'the field is marked');
    // the browser logs the 400 answer: that one is expected, and only it
    const logged = consoleErrors.splice(errorsBefore);
    assert.ok(logged.length <= 1 && logged.every((e) => /status of 400/.test(e)), logged.join('\n'));
    assert.equal((await apiGet(page, '/api/v1/alert-rules')).json.length, 0, 'nothing was saved');
    // the receiver on loopback, and a second target, an email
    await page.fill('#rule-targets .target-url', hooks.url('/web-json'));
    await page.click('#add-email');
    await page.fill('#rule-targets .target-email', 'rm@example.com');
    await page.click('#rule-save');
    await page.waitForSelector(`#rules-table tr[data-rule="${RULE}"]`);
    const saved = (await apiGet(page, '/api/v1/alert-rules')).json;
    assert.equal(saved.length, 1);
    const r = saved[0];
    assert.deepEqual([r.name, r.owner, r.kpi, r.when, r.threshold, r.window, r.enabled], [RULE, 'rm_hb', KPI, 'above', 1, 'month_to_date', true]);
    assert.deepEqual(r.notify, [{ webhook: hooks.url('/web-json'), format: 'json' }, { email: 'rm@example.com' }]);
    assert.deepEqual([r.stores || [], r.regions || []], [[], []], 'no store and no region: the whole scope');

    // 测试发送: the receiver gets a sample, the page says it was delivered (the email has no mail server here)
    await page.click(`#rules-table tr[data-rule="${RULE}"] [data-action="test"]`);
    await page.waitForSelector('#test-result .test-results li');
    const results = await page.$$eval('#test-result li', (ls) => ls.map((l) => [l.dataset.target, l.dataset.status]));
    assert.deepEqual(results, [[hooks.url('/web-json'), 'sent'], ['rm@example.com', 'failed']]);
    assert.match(await page.textContent('#test-result li.failed'), /FOURSCORE_SMTP_URL/, 'the failure says why');
    const sample = hooks.received('/web-json');
    assert.equal(sample.length, 1);
    assert.equal(sample[0].json.test, true);
    assert.equal(sample[0].json.kpi, KPI);
    await page.screenshot({ path: join(shots, 'alert-rules.png'), fullPage: true });

    // the alerts open on `fourscore alerts check`, one per HB store; the receiver gets each
    const out = await h.server.cli(['alerts', 'check']);
    assert.equal(out.code, 0, out.stderr);
    await waitFor(() => hooks.received('/web-json').length >= 3, () => JSON.stringify(hooks.all().map((x) => x.json?.store)));
    const today = (await apiGet(page, '/api/v1/freshness')).json.as_of;
    const from = `${today.slice(0, 8)}01`;
    const values = (await apiGet(page, `/api/v1/kpi?ids=${KPI}&from=${from}&to=${today}&by=store`)).json.rows;
    const expected = Object.fromEntries(values.map((x) => [x.key, x.values[KPI]]));
    assert.ok(expected.BJ003 > 1 && expected.TJ007 > 1, `both stores are above 1: ${JSON.stringify(expected)}`);

    await page.goto(`${h.server.url}/alerts.html`);
    await pageDrawn(page);
    await page.waitForSelector('#alerts-box[data-ready] tbody tr');
    const rows = await page.$$eval('#alerts-box tbody tr', (trs) => trs.map((tr) => [...tr.children].map((td) => td.textContent)));
    const heads = await page.$$eval('#alerts-box thead th', (ths) => ths.map((th) => th.textContent));
    assert.deepEqual(heads, ['门店', '指标', '当前值', '阈值', '时段', '开始', '关闭', '规则', '通知']);
    const mine = rows.filter((x) => x[7] === RULE);
    assert.equal(mine.length, 2, 'one open alert per store');
    assert.deepEqual(mine.map((x) => x[0]).sort(), ['北京朝阳大众', '天津河西别克']);
    for (const x of mine) {
      const code = x[0] === '北京朝阳大众' ? 'BJ003' : 'TJ007';
      assert.match(x[1], /^拟流失 \(3–6 月\)/, 'the KPI by its catalogue name, not its id');
      assert.equal(x[2], expected[code].toLocaleString('zh-CN'), 'the value as the API counts it');
      assert.equal(x[3], '1');
      assert.equal(x[4], `本月至今（${from} ~ ${today}）`);
      assert.equal(x[6], '未关闭');
      assert.match(x[8], /127\.0\.0\.1:\d+ · 开启 · (已发送|待发送|发送中)/);
    }
    // the bell: the open alerts in scope, as the API counts them
    const open = (await apiGet(page, '/api/v1/alerts?state=open&limit=1000')).json;
    assert.equal(await page.getAttribute('#bell', 'data-count'), String(open.length));
    assert.equal(await page.textContent('#bell-count'), String(open.length));
    assert.ok(open.length >= 2);
    // a link to the at-risk list of the store, for the alert's window
    const listHref = await page.getAttribute('#alerts-box tbody tr:has(a[data-store="BJ003"]) a.list-link', 'href');
    const lq = new URLSearchParams(listHref.split('?')[1]);
    assert.deepEqual([listHref.split('?')[0], lq.get('id'), lq.get('stores'), lq.get('to')], ['list.html', KPI, 'BJ003', today]);
    await page.screenshot({ path: join(shots, 'alerts.png'), fullPage: true });
    // the filters: by store, then by a KPI no alert is on
    await page.selectOption('#alert-store', 'TJ007');
    await page.waitForFunction(() => document.querySelectorAll('#alerts-box[data-ready] tbody tr').length === 1);
    assert.match(page.url(), /store=TJ007/);
    await page.selectOption('#alert-kpi', 'service.revenue');
    await page.waitForSelector('#alerts-empty');
    await page.selectOption('#alert-kpi', '');
    await page.selectOption('#alert-store', '');
    await page.waitForFunction(() => document.querySelectorAll('#alerts-box[data-ready] tbody tr').length >= 2);
    // the store link opens the store page for the alert's period
    await Promise.all([page.waitForURL(/store\.html\?/), page.click('#alerts-box a.store-link[data-store="BJ003"]')]);
    const sq = new URL(page.url()).searchParams;
    assert.deepEqual([sq.get('code'), sq.get('from'), sq.get('to')], ['BJ003', from, today]);
    await page.waitForSelector('#identity');
    assert.match(await page.textContent('h1'), /北京朝阳大众/);
  } finally {
    await context.close();
  }
});

test('a store manager sees only their store\'s alerts, no rules editor, and keeps their own subscriptions', async () => {
  const { context, page } = await pageOf('sm', 390);
  try {
    await page.goto(`${h.server.url}/alerts.html?state=all`);
    await pageDrawn(page);
    await page.waitForSelector('#alerts-box[data-ready] tbody tr');
    const stores = await page.$$eval('#alerts-box a.store-link', (as) => [...new Set(as.map((a) => a.dataset.store))]);
    assert.deepEqual(stores, ['BJ003'], 'BJ003 only, though TJ007 has an open alert of the same rule');
    const api = (await apiGet(page, '/api/v1/alerts?state=all')).json;
    assert.ok(api.length >= 1 && api.every((a) => a.store === 'BJ003'));
    assert.equal(await page.getAttribute('#bell', 'data-count'), String(api.filter((a) => !a.closed_at).length));
    assert.equal(await page.$('#rules-link'), null, 'no link to the rules editor');
    assert.equal(await page.$('header nav a[href^="alert-rules.html"]'), null, 'nor a nav entry');
    const [scroll, inner] = await page.evaluate(() => [document.documentElement.scrollWidth, innerWidth]);
    assert.ok(scroll <= inner, `390 px: the page is ${scroll} px wide`);
    await page.screenshot({ path: join(shots, 'alerts-store-manager-390.png'), fullPage: true });
    await page.goto(`${h.server.url}/alert-rules.html`);
    await page.waitForSelector('main .error');
    assert.equal(await page.textContent('main .error'), '无权访问该数据');
    assert.equal(await page.$('#rule-form'), null, 'no editor');
    assert.equal((await context.request.get(`${h.server.url}/api/v1/alert-rules`)).status(), 403);

    // a subscription of their own: a bad time is refused beside the field, a good one is kept
    await page.goto(`${h.server.url}/subscriptions.html`);
    await pageDrawn(page);
    await page.fill('#sub-name', 'my-daily');
    await page.selectOption('#sub-report', 'daily');
    await page.fill('#sub-to', 'sm@example.com, boss@example.com');
    await page.fill('#sub-time', '25:00');
    await page.click('#sub-save');
    assert.equal(await page.textContent('[data-error-for="time"]'), '请输入 00:00 到 23:59 之间的时间');
    await page.fill('#sub-to', 'sm@elsewhere.org');
    await page.fill('#sub-time', '07:45');
    const errorsBefore = consoleErrors.length;
    await page.click('#sub-save');
    await page.waitForFunction(() => [...document.querySelectorAll('#sub-form .field-error')].some((e) => e.textContent));
    const shown = await page.$$eval('#sub-form .field-error', (es) => es.filter((e) => e.textContent).map((e) => [e.dataset.errorFor, e.textContent]));
    assert.equal(shown.length, 1);
    assert.match(shown[0][0], /^to/, `beside the recipients: ${JSON.stringify(shown)}`);
    const logged = consoleErrors.splice(errorsBefore);
    assert.ok(logged.length <= 1 && logged.every((e) => /status of 400/.test(e)), logged.join('\n'));
    assert.equal((await apiGet(page, '/api/v1/subscriptions')).json.length, 0, 'a domain IT did not allow: nothing kept');
    await page.fill('#sub-to', 'sm@example.com, boss@example.com');
    await page.click('#sub-save');
    await page.waitForSelector('#subs-table tr[data-sub="my-daily"]');
    const subs = (await apiGet(page, '/api/v1/subscriptions')).json;
    assert.deepEqual(subs.map((s) => [s.name, s.report, s.to, s.time]), [['my-daily', 'daily', ['sm@example.com', 'boss@example.com'], '07:45']]);
    await page.click('#subs-table tr[data-sub="my-daily"] [data-action="delete"]');
    await page.waitForSelector('#subs-empty');
    assert.deepEqual((await apiGet(page, '/api/v1/subscriptions')).json, []);
  } finally {
    await context.close();
  }
});

test('the rule deleted in the editor closes its alerts', async () => {
  const { context, page } = await pageOf('rm');
  try {
    await page.goto(`${h.server.url}/alert-rules.html`);
    await pageDrawn(page);
    await page.click(`#rules-table tr[data-rule="${RULE}"] [data-action="delete"]`);
    await page.waitForSelector('#rules-empty');
    const left = (await apiGet(page, `/api/v1/alerts?state=open&rule=${RULE}`)).json;
    assert.deepEqual(left, []);
    const closed = (await apiGet(page, `/api/v1/alerts?state=closed&rule=${RULE}`)).json;
    assert.equal(closed.length, 2);
  } finally {
    await context.close();
  }
});
