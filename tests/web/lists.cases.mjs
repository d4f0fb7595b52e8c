// lists cases (run by dashboards.test.mjs, in its server): the list page
// (list.html) and the counts of the dashboards that open it. A store manager
// opens 拟流失 from their store page and gets their call list with whole
// phone numbers; an executive opens it from the overview and gets the
// group's list, the phones masked (138****5678); the page's total is the
// count on the card it was opened from (and the KPI API's, asked by the
// test); a click on a heading sorts as GET /api/v1/list sorts; the pager
// steps through the API's pages; the store filter narrows to one store;
// 导出 CSV and 导出 Excel download the whole list (the CSV's Chinese header
// line and one line per row, the .xlsx a zip); a period list opened from a
// domain table keeps the table's period; on a phone only the table scrolls
// sideways and its heading row stays in view; on A4 the list prints with
// its title and date and without the controls. The demo has no phone
// numbers of its own here: the test gives every customer without one a
// made-up mobile number in the database first, and checks the page's
// phones against those.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { h, shots, PERIOD, USERS, newContext, apiLogin, pageDrawn } from './harness.mjs';

const TO = '2026-09-30';
const PAGE = 50;        // the page's default page size (web/js/list.js)

// SQL on the server's own database (the local mode's socket, as tests/bench/lib.sh finds it).
function sql(query) {
  const cmd = readFileSync(join(h.server.dataDir, 'mariadbd.cmd'), 'utf8');
  const sock = /--socket=([^'\s]+)/.exec(cmd)?.[1] || join(h.server.dataDir, 'mysqld.sock');
  return execFileSync('mariadb', ['--no-defaults', '-S', sock, '-uroot', '-N', '-B', 'fourscore', '-e', query], { encoding: 'utf8' });
}
// Every customer without a phone gets a made-up mobile number (13x and 8 digits, from its codes); → {store/code: phone}.
let phones = null;
function givePhones() {
  if (phones) return phones;
  sql(`UPDATE customers SET phone = CONCAT('13', MOD(CRC32(CONCAT(store_code, customer_code)), 10),
         LPAD(MOD(CRC32(CONCAT(customer_code, '/', store_code)), 100000000), 8, '0')) WHERE phone IS NULL`);
  phones = {};
  for (const line of sql('SELECT store_code, customer_code, phone FROM customers').trim().split('\n')) {
    const [s, c, p] = line.split('\t');
    phones[`${s}/${c}`] = p;
  }
  return phones;
}
// The mask of the contract (docs/api.md): of the digits, the first three and the last four around ****.
const mask = (p) => { const d = p.replace(/\D/g, ''); return d.length >= 8 ? `${d.slice(0, 3)}****${d.slice(-4)}` : '*'.repeat(d.length); };

const getJson = (page, path) => page.evaluate(async (p) => {
  const r = await fetch(p);
  if (!r.ok) throw new Error(`${p}: ${r.status} ${await r.text()}`);
  return r.json();
}, path);
const listReady = (page) => page.waitForFunction(() => document.querySelector('main')?.dataset.listState === 'ready');
// The rows of the page's table, by column key (as the cells show them).
const tableRows = (page) => page.$$eval('#list-table tbody tr:not(.empty)', (trs) => trs.map((tr) =>
  Object.fromEntries([...tr.children].map((td) => [td.dataset.key, td.textContent]))));
const total = async (page) => Number(await page.getAttribute('#list-total', 'data-total'));
const num = (text) => Number(text.replace(/[,\s]/g, ''));

async function signedIn(role, opts = {}) {
  const context = await newContext({ viewport: { width: 1440, height: 900 }, ...opts });
  await apiLogin(context, USERS[role]);
  const page = await context.newPage();
  page.setDefaultTimeout(120000);
  await page.addInitScript(() => { if (!localStorage.getItem('fourscore.lang')) localStorage.setItem('fourscore.lang', 'zh'); });
  return { context, page };
}

test('lists: a store manager opens 拟流失 from their store page: their call list with whole phones, its total the card\'s count', async () => {
  const ph = givePhones();
  const { context, page } = await signedIn('sm');
  try {
    const store = USERS.sm.store;
    await page.goto(`${h.server.url}/store.html?code=${store}&${PERIOD}`);
    await pageDrawn(page);
    const link = page.locator('#store-panels a.list-link[data-kpi="retention.at_risk"]');
    const card = num(await link.textContent());
    const q = new URLSearchParams((await link.getAttribute('href')).split('?')[1]);
    assert.deepEqual([q.get('id'), q.get('to'), q.get('stores')], ['retention.at_risk', TO, store], 'the list of the store, as of the period\'s end');
    // the card shows the KPI (asked here of the API on its own)
    const kpi = await getJson(page, `/api/v1/kpi?ids=retention.at_risk&from=2026-09-01&to=${TO}&by=store&stores=${store}`);
    assert.equal(card, kpi.rows[0].values['retention.at_risk']);
    assert.ok(card > PAGE, `more at-risk vehicles than a page (${card})`);
    // every count the store page shows that a list explains opens it
    const linked = await page.$$eval('#store-panels a.list-link', (as) => as.map((a) => a.dataset.kpi).sort());
    assert.deepEqual(linked, ['insurance.renewals_due', 'parts.slow_moving_share', 'receivables.over_limit_accounts', 'receivables.overdue',
      'retention.at_risk', 'retention.first_service_pending', 'retention.lost', 'retention.maintenance_due', 'retention.warning',
      'service.comebacks', 'service.complaints']);

    await Promise.all([page.waitForURL(/\/list\.html\?/), link.click()]);
    await listReady(page);
    await pageDrawn(page);
    assert.equal(await total(page), card, 'the list\'s total is the count it was opened from');
    assert.equal(await page.textContent('#list-total'), `共 ${card.toLocaleString('zh-CN')} 条`);
    assert.equal(await page.$eval('h1', (e) => e.firstChild.textContent), '拟流失车辆');
    assert.match(await page.textContent('h1 small'), new RegExp(`截至 ${TO}`));
    // the columns of the catalogue, named in Chinese, in order
    const def = (await getJson(page, '/api/v1/lists')).find((l) => l.id === 'retention.at_risk');
    assert.deepEqual(await page.$$eval('#list-table th', (ths) => ths.map((th) => th.textContent)), def.columns.map((c) => c.name.zh));
    const rows = await tableRows(page);
    assert.equal(rows.length, PAGE, 'a page of rows');
    for (const r of rows) {
      assert.equal(r.store, store, 'only their store');
      // whole, as the customer record has it (their own customers)
      assert.equal(r.phone, ph[`${r.customer_store}/${r.customer_code}`], `${r.vin}: the whole phone number`);
      assert.doesNotMatch(r.phone, /\*/);
    }
    assert.equal(await page.$('#list-masked'), null, 'nothing said about hidden phones');
    // the store filter holds their one store
    assert.deepEqual(await page.$$eval('#list-store option', (os) => os.map((o) => o.value)), ['', store]);
    await page.screenshot({ path: join(shots, 'list-sm-at-risk.png'), fullPage: true });
  } finally {
    await context.close();
  }
});

test('lists: an executive opens 拟流失 from the overview: the group\'s list, phones masked; the store filter narrows it', async () => {
  const ph = givePhones();
  const { context, page } = await signedIn('exec');
  try {
    await page.goto(`${h.server.url}/index.html?${PERIOD}`);
    await pageDrawn(page);
    // the overview's counts to follow up: each a link to its list for the group and the period
    const links = await page.$$eval('#list-counts a.list-link', (as) => as.map((a) => [a.dataset.kpi, a.dataset.list, a.getAttribute('href')]));
    const lists = await getJson(page, '/api/v1/lists');
    const explained = Object.fromEntries(lists.filter((l) => l.explains).map((l) => [l.explains.kpi, l.id]));
    assert.equal(links.length, 11, 'eleven counts');
    for (const [kpi, list, href] of links) {
      assert.equal(list, explained[kpi], `${kpi}: the list that explains it`);
      const q = new URLSearchParams(href.split('?')[1]);
      assert.deepEqual([q.get('from'), q.get('to'), q.get('stores'), q.get('regions')], ['2026-09-01', TO, null, null], `${kpi}: the group, the card's period`);
    }
    const link = page.locator('#list-counts a.list-link[data-kpi="retention.at_risk"]');
    const card = num(await link.textContent());
    const kpi = await getJson(page, `/api/v1/kpi?ids=retention.at_risk&from=2026-09-01&to=${TO}&by=group`);
    assert.equal(card, kpi.rows[0].values['retention.at_risk']);
    await Promise.all([page.waitForURL(/\/list\.html\?/), link.click()]);
    await listReady(page);
    assert.equal(await total(page), card, 'the group\'s list: its total is the overview\'s count');
    assert.match(await page.textContent('h1 small'), /集团/);
    let rows = await tableRows(page);
    assert.equal(rows.length, PAGE);
    for (const r of rows) {
      assert.match(r.phone, /^\d{3}\*{4}\d{4}$/, `${r.vin}: masked (${r.phone})`);
      assert.equal(r.phone, mask(ph[`${r.customer_store}/${r.customer_code}`]), `${r.vin}: the mask of the customer's phone`);
    }
    assert.equal(await page.textContent('#list-masked'), '电话号码已部分隐藏');
    // the filter: every store of the scope; one of them narrows the list to it
    const stores = await getJson(page, '/api/v1/stores');
    assert.deepEqual(await page.$$eval('#list-store option', (os) => os.map((o) => o.value)), ['', ...stores.map((s) => s.code)]);
    const store = USERS.sm.store;
    await page.selectOption('#list-store', store);
    await listReady(page);
    assert.match(page.url(), new RegExp(`[?&]stores=${store}(&|$)`), 'the address keeps the store');
    const byStore = await getJson(page, `/api/v1/kpi?ids=retention.at_risk&from=2026-09-01&to=${TO}&by=store&stores=${store}`);
    assert.equal(await total(page), byStore.rows[0].values['retention.at_risk'], 'the store\'s count');
    rows = await tableRows(page);
    assert.ok(rows.length > 0 && rows.every((r) => r.store === store && /\*{4}/.test(r.phone)), 'the store\'s rows, still masked');
    await page.screenshot({ path: join(shots, 'list-exec-at-risk.png'), fullPage: true });
    // back to the whole scope
    await page.selectOption('#list-store', '');
    await listReady(page);
    assert.equal(await total(page), card);
  } finally {
    await context.close();
  }
});

test('lists: a click on a heading sorts as the API does, both ways; the pager steps through the API\'s pages', async () => {
  givePhones();
  const { context, page } = await signedIn('exec');
  try {
    await page.goto(`${h.server.url}/list.html?id=retention.at_risk&${PERIOD}`);
    await listReady(page);
    const n = await total(page);
    const pages = Math.ceil(n / PAGE);
    assert.ok(pages >= 3, `${n} rows: pages to step through`);
    const api = (extra) => getJson(page, `/api/v1/list?id=retention.at_risk&to=${TO}&limit=${PAGE}&${extra}`);
    const vins = async () => (await tableRows(page)).map((r) => r.vin);
    // the default order: the catalogue's
    assert.deepEqual(await vins(), (await api('offset=0')).rows.map((r) => r.vin), 'the default order');
    const th = page.locator('#list-table th[data-key="last_visit_on"]');
    await th.click();
    await listReady(page);
    assert.equal(await th.getAttribute('aria-sort'), 'ascending');
    const asc = (await api('sort=last_visit_on&order=asc')).rows;
    assert.deepEqual(await vins(), asc.map((r) => r.vin), 'sorted by the last visit, oldest first, as the API sorts');
    await th.click();
    await listReady(page);
    assert.equal(await th.getAttribute('aria-sort'), 'descending');
    const desc = (await api('sort=last_visit_on&order=desc')).rows;
    assert.deepEqual(await vins(), desc.map((r) => r.vin), 'then newest first');
    assert.notDeepEqual(asc.map((r) => r.vin), desc.map((r) => r.vin), 'the two orders differ');
    assert.match(page.url(), /sort=last_visit_on&order=desc/, 'the address keeps the order');

    // the pager, in that order
    assert.equal(await page.isDisabled('#list-prev'), true);
    await page.click('#list-next');
    await listReady(page);
    assert.equal(await page.textContent('#list-page-info'), `第 2 / ${pages} 页`);
    assert.deepEqual(await vins(), (await api(`sort=last_visit_on&order=desc&offset=${PAGE}`)).rows.map((r) => r.vin), 'page 2 is the API\'s rows 51-100');
    await page.click('#list-last');
    await listReady(page);
    const lastRows = await vins();
    assert.equal(lastRows.length, n - (pages - 1) * PAGE, 'the last page holds the rest');
    assert.deepEqual(lastRows, (await api(`sort=last_visit_on&order=desc&offset=${(pages - 1) * PAGE}`)).rows.map((r) => r.vin));
    assert.equal(await page.isDisabled('#list-next'), true);
    // a reload opens the same page in the same order
    await page.reload();
    await listReady(page);
    assert.deepEqual(await vins(), lastRows, 'the address holds the page');
    await page.click('#list-first');
    await listReady(page);
    await page.selectOption('#list-size', '100');
    await listReady(page);
    assert.equal((await vins()).length, 100, 'a page of 100');
    assert.equal(await page.textContent('#list-page-info'), `第 1 / ${Math.ceil(n / 100)} 页`);
  } finally {
    await context.close();
  }
});

test('lists: 导出 CSV and 导出 Excel download the whole list: the Chinese header line, a line per row, a zip', async () => {
  const ph = givePhones();
  const { context, page } = await signedIn('exec');
  try {
    const store = USERS.sm.store;
    await page.goto(`${h.server.url}/list.html?id=retention.at_risk&stores=${store}&${PERIOD}`);
    await listReady(page);
    const n = await total(page);
    assert.ok(n > PAGE, 'more rows than the page shows');
    const def = (await getJson(page, '/api/v1/lists')).find((l) => l.id === 'retention.at_risk');
    const [csv] = await Promise.all([page.waitForEvent('download'), page.click('#list-export-csv')]);
    assert.equal(csv.suggestedFilename(), `retention.at_risk-${TO}.csv`);
    const text = readFileSync(await csv.path(), 'utf8');
    assert.equal(text.charCodeAt(0), 0xfeff, 'a byte order mark, for Excel');
    const lines = text.slice(1).replace(/\r\n$/, '').split('\r\n');
    assert.equal(lines[0], def.columns.map((c) => `"${c.name.zh}"`).join(','), 'the header line: the columns in Chinese');
    assert.equal(lines.length - 1, n, 'one line per row of the whole list');
    // the phones masked as on the page (an executive)
    const phoneAt = def.columns.findIndex((c) => c.key === 'phone');
    const codeAt = def.columns.findIndex((c) => c.key === 'customer_code');
    for (const l of lines.slice(1, 20)) {
      const cells = l.split(',').map((c) => c.replace(/^"|"$/g, ''));
      assert.equal(cells[phoneAt], mask(ph[`${store}/${cells[codeAt]}`]));
    }
    const [xlsx] = await Promise.all([page.waitForEvent('download'), page.click('#list-export-xlsx')]);
    assert.equal(xlsx.suggestedFilename(), `retention.at_risk-${TO}.xlsx`);
    const bytes = readFileSync(await xlsx.path());
    assert.equal(bytes.subarray(0, 2).toString('latin1'), 'PK', 'an .xlsx is a zip file');
    assert.ok(bytes.includes(Buffer.from('xl/worksheets/sheet1.xml')), 'with a worksheet');
    // both exports are in the audit log (newest first): who, which list, which store, how many rows
    const admin = await h.server.adminCookie();
    const audit = await h.server.request('GET', '/api/v1/audit?limit=20', { cookie: admin });
    assert.equal(audit.status, 200);
    const mine = audit.json.filter((e) => e.action === 'list.export' && e.actor === USERS.exec.user).slice(0, 2);
    assert.deepEqual(mine.map((e) => [e.target, e.detail.format, e.detail.stores, e.detail.rows]),
      [['retention.at_risk', 'xlsx', [store], n], ['retention.at_risk', 'csv', [store], n]]);
  } finally {
    await context.close();
  }
});

test('lists: a period list opened from a domain table keeps the table\'s period and its total is the cell\'s count', async () => {
  givePhones();
  const { context, page } = await signedIn('exec');
  try {
    await page.goto(`${h.server.url}/domain.html?d=service&${PERIOD}`);
    await pageDrawn(page);
    const store = USERS.sm.store;
    const cells = await page.$$eval('#domain-table a.list-link[data-kpi="service.comebacks"]', (as) => as.map((a) => [a.getAttribute('href'), a.textContent]));
    assert.equal(cells.length, 1 + 8, 'the total row and every store');
    const [groupHref] = cells[0];
    assert.equal(new URLSearchParams(groupHref.split('?')[1]).get('stores'), null, 'the total row: the whole scope');
    const storeLink = page.locator(`#domain-table a.list-link[data-kpi="service.comebacks"][href*="stores=${store}"]`);
    const count = num(await storeLink.textContent());
    await Promise.all([page.waitForURL(/\/list\.html\?/), storeLink.click()]);
    await listReady(page);
    assert.match(page.url(), /from=2026-09-01&to=2026-09-30/, 'the table\'s period');
    assert.equal(await total(page), count, 'the store\'s comebacks of the period');
    assert.match(await page.textContent('h1 small'), /2026-09-01 ~ 2026-09-30/);
    const rows = await tableRows(page);
    assert.ok(rows.every((r) => r.store === store && r.closed_at >= '2026-09-01' && r.closed_at < '2026-10-01'), 'closed in the period');
    // a money column: its sum over every row is shown
    const sum = await page.getAttribute('#list-summary [data-sum="revenue"]', 'data-value');
    const api = await getJson(page, `/api/v1/list?id=service.comebacks&from=2026-09-01&to=${TO}&stores=${store}&limit=0`);
    assert.equal(Number(sum), api.sums.revenue);
  } finally {
    await context.close();
  }
});

test('lists: on a phone only the table scrolls sideways and its heading row stays in view; in English the columns are English', async () => {
  givePhones();
  const { context, page } = await signedIn('exec', { viewport: { width: 390, height: 844 } });
  try {
    for (const lang of ['zh', 'en']) {
      await page.evaluate((l) => localStorage.setItem('fourscore.lang', l), lang).catch(() => {});
      await page.goto(`${h.server.url}/list.html?id=retention.at_risk&${PERIOD}`);
      await page.evaluate((l) => localStorage.setItem('fourscore.lang', l), lang);
      await page.reload();
      await listReady(page);
      const [scroll, inner] = await page.evaluate(() => [document.documentElement.scrollWidth, innerWidth]);
      assert.ok(scroll <= inner, `${lang}: the page is ${scroll} px wide in a ${inner} px window`);
      const box = await page.$eval('#list-table', (b) => ({ sw: b.scrollWidth, cw: b.clientWidth, right: b.getBoundingClientRect().right }));
      assert.ok(box.sw > box.cw, `${lang}: the table is wider than the phone and scrolls in its box`);
      assert.ok(box.right <= 390, `${lang}: the box fits the screen`);
      // scrolled down inside its box, the heading row stays at the box's top
      const stuck = await page.$eval('#list-table', (b) => {
        b.scrollTop = 600;
        return Math.abs(b.querySelector('th').getBoundingClientRect().top - b.getBoundingClientRect().top);
      });
      assert.ok(stuck <= 2, `${lang}: the heading row stays in view (${stuck} px off)`);
      assert.equal(await page.isVisible('#list-export-csv'), true, `${lang}: the export buttons are there`);
      assert.equal(await page.isVisible('#list-next'), true, `${lang}: the pager is there`);
      const heads = await page.$$eval('#list-table th', (ths) => ths.map((th) => th.textContent));
      const def = (await getJson(page, '/api/v1/lists')).find((l) => l.id === 'retention.at_risk');
      assert.deepEqual(heads, def.columns.map((c) => c.name[lang]), `${lang}: the columns' names`);
      await page.screenshot({ path: join(shots, `list-exec-${lang}-390.png`), fullPage: true });
    }
  } finally {
    await page.evaluate(() => localStorage.setItem('fourscore.lang', 'zh')).catch(() => {});
    await context.close();
  }
});

// A4 landscape less the stylesheet's margins (10 mm each side): 277 mm at 96 px per inch (as print.cases.mjs).
const PAPER_WIDTH = Math.floor(277 / 25.4 * 96);

test('lists: the list prints on A4 with its title and date, its rows, and none of the controls', async () => {
  givePhones();
  const { context, page } = await signedIn('exec');
  try {
    await page.goto(`${h.server.url}/list.html?id=retention.at_risk&stores=${USERS.sm.store}&${PERIOD}`);
    await listReady(page);
    const first = (await tableRows(page))[0];
    const pdf = await page.pdf({ format: 'A4', landscape: true, printBackground: true, preferCSSPageSize: true });
    const file = join(shots, 'exec-print-list.pdf');
    writeFileSync(file, pdf);
    const info = execFileSync('pdfinfo', [file], { encoding: 'utf8' });
    const count = Number(/^Pages:\s+(\d+)/m.exec(info)[1]);
    assert.ok(count >= 1 && count <= 6, `${count} pages for a page of ${PAGE} rows`);
    const text = execFileSync('pdftotext', ['-layout', file, '-'], { encoding: 'utf8' }).replace(/\s+/g, ' ');
    for (const s of ['拟流失车辆', `截至 ${TO}`, first.vin, '车架号']) assert.ok(text.includes(s), `the PDF holds "${s}"`);
    for (const control of ['退出登录', '导出 PDF', '导出 CSV', '导出 Excel', '上一页', '下一页', '确定']) assert.ok(!text.includes(control), `no "${control}" on paper`);
    await page.setViewportSize({ width: PAPER_WIDTH, height: 700 });
    await page.emulateMedia({ media: 'print' });
    const over = await page.evaluate((w) => [...document.querySelectorAll('table.data, .panel, html')]
      .map((e) => [e.tagName, Math.round(e === document.documentElement ? e.scrollWidth : e.getBoundingClientRect().right)])
      .filter(([, right]) => right > w + 1), PAPER_WIDTH);
    assert.deepEqual(over, [], 'fits the paper');
  } finally {
    await context.close();
  }
});
