// print cases (run by dashboards.test.mjs, in its server): every page (the
// overview, each domain page, the store page, the scorecards, the daily
// report, a list) printed to PDF by headless Chromium (page.pdf, A4 landscape, as the
// browser's print to PDF does) holds a reasonable number of pages and, in
// its text (read back with pdftotext from poppler-utils), the page's title,
// its period and the date its figures run to, and none of the screen's
// controls; laid out for paper (print media, the A4 landscape width) no
// page, chart or table runs past the paper's edge; the 导出 PDF button asks
// the browser to print. The pages without a period (harness.mjs
// PLAIN_PAGES) hold their title and the day they were printed instead.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { h, shots, PERIOD, USERS, DOMAINS, PLAIN_PAGES, newContext, apiLogin, pageDrawn } from './harness.mjs';

// A4 landscape less the stylesheet's margins (10 mm each side): 277 mm at 96 px per inch.
const PAPER_WIDTH = Math.floor(277 / 25.4 * 96);

for (const role of ['exec', 'rm']) {
  test(`${role}: every page prints to a PDF holding its title, period and data date, and fits the paper`, async () => {
    const context = await newContext({ viewport: { width: 1440, height: 900 } });
    try {
      await apiLogin(context, USERS[role]);
      const page = await context.newPage();
      page.setDefaultTimeout(120000);
      // [address, the period as the paper says it]: the daily report of the period's last day covers
      // the same month; a list of vehicles as of a day (retention.at_risk) is dated by that day
      const MONTH = '2026-09-01 ~ 2026-09-30';
      const pages = [['index.html', MONTH], ...DOMAINS.map((d) => [`domain.html?d=${d}`, MONTH]), ['store.html?code=BJ003', MONTH],
        ['scorecards.html', MONTH], ['daily.html?day=2026-09-30', MONTH], ['list.html?id=retention.at_risk', '截至 2026-09-30']];
      for (const [address, period] of pages) {
        await page.setViewportSize({ width: 1440, height: 900 });
        await page.emulateMedia({ media: null });   // page.pdf prints with print media unless told otherwise
        await page.goto(`${h.server.url}/${address}${address.includes('?') ? '&' : '?'}${PERIOD}`);
        await pageDrawn(page);
        if (address.startsWith('list')) await page.waitForFunction(() => document.querySelector('main').dataset.listState === 'ready');
        const title = await page.$eval('h1', (e) => e.firstChild.textContent);
        const pdf = await page.pdf({ format: 'A4', landscape: true, printBackground: true, preferCSSPageSize: true });
        // kept beside the screenshots, for a person to look at
        const name = address.startsWith('domain') ? new URLSearchParams(address.split('?')[1]).get('d')
          : address.startsWith('list') ? new URLSearchParams(address.split('?')[1]).get('id') : address.split('.')[0];
        const file = join(shots, `${role}-print-${name}.pdf`);
        writeFileSync(file, pdf);
        const info = execFileSync('pdfinfo', [file], { encoding: 'utf8' });
        const count = Number(/^Pages:\s+(\d+)/m.exec(info)[1]);
        assert.ok(count >= 1 && count <= 12, `${address}: ${count} pages`);
        const [pw, ph] = /Page size:\s+([\d.]+) x ([\d.]+) pts/.exec(info).slice(1).map(Number);
        assert.ok(Math.abs(pw - 841.9) < 1 && Math.abs(ph - 595.3) < 1, `${address}: A4 landscape (${pw} x ${ph} pt)`);
        const text = execFileSync('pdftotext', ['-layout', file, '-'], { encoding: 'utf8' }).replace(/\s+/g, ' ');
        assert.ok(text.includes(title), `${address}: the PDF holds the title "${title}"`);
        assert.ok(text.includes(period), `${address}: and the period (${period})`);
        assert.ok(text.includes('数据截至 2026-09-30'), `${address}: and the date the figures run to: ${text.slice(0, 200)}`);
        for (const control of ['退出登录', '导出 PDF', '导出 CSV', '确定']) assert.ok(!text.includes(control), `${address}: no "${control}" on paper`);
        // laid out for paper: nothing wider than it
        await page.setViewportSize({ width: PAPER_WIDTH, height: 700 });
        await page.emulateMedia({ media: 'print' });
        const over = await page.evaluate((w) => {
          const wide = [document.documentElement.scrollWidth > w ? `the page (${document.documentElement.scrollWidth} px)` : null];
          for (const e of document.querySelectorAll('.chart canvas, table.data, .panel')) {
            const r = e.getBoundingClientRect();
            if (r.right > w + 1) wide.push(`${e.tagName.toLowerCase()}.${e.className} to ${Math.round(r.right)} px`);
          }
          return wide.filter(Boolean);
        }, PAPER_WIDTH);
        assert.deepEqual(over, [], `${address}: fits the paper`);
      }
      // the pages without a period: their title and the day they were printed, no control, within the paper
      for (const [name, address, who] of PLAIN_PAGES) {
        if (!who.includes(role)) continue;
        await page.setViewportSize({ width: 1440, height: 900 });
        await page.emulateMedia({ media: null });
        await page.goto(`${h.server.url}/${address}`);
        await pageDrawn(page);
        const title = await page.$eval('h1', (e) => e.firstChild.textContent);
        const pdf = await page.pdf({ format: 'A4', landscape: true, printBackground: true, preferCSSPageSize: true });
        const file = join(shots, `${role}-print-${name}.pdf`);
        writeFileSync(file, pdf);
        const count = Number(/^Pages:\s+(\d+)/m.exec(execFileSync('pdfinfo', [file], { encoding: 'utf8' }))[1]);
        assert.ok(count >= 1 && count <= 12, `${address}: ${count} pages`);
        const text = execFileSync('pdftotext', ['-layout', file, '-'], { encoding: 'utf8' }).replace(/\s+/g, ' ');
        assert.ok(text.includes(title), `${address}: the PDF holds the title "${title}"`);
        assert.match(text, /打印于 \d{4}-\d\d-\d\d/, `${address}: and the day it was printed`);
        // the alerts' filters are in the toolbar on the screen; on paper the state in force is said (state=all: 全部)
        if (name === 'alerts') {
          assert.equal(await page.textContent('#alerts-filters-said'), '全部', `${address}: the filters said`);
          assert.ok(text.includes(`${title} 全部`) || text.includes(' 全部 '), `${address}: and printed: ${text.slice(0, 300)}`);
        }
        for (const control of ['退出登录', '导出 PDF', '导出 CSV', '保存', '测试发送']) assert.ok(!text.includes(control), `${address}: no "${control}" on paper`);
        await page.setViewportSize({ width: PAPER_WIDTH, height: 700 });
        await page.emulateMedia({ media: 'print' });
        const over = await page.evaluate((w) => [...document.querySelectorAll('table.data, .panel, html')]
          .filter((e) => (e.tagName === 'HTML' ? e.scrollWidth : e.getBoundingClientRect().right) > w + 1)
          .map((e) => `${e.tagName.toLowerCase()}.${e.className}`), PAPER_WIDTH);
        assert.deepEqual(over, [], `${address}: fits the paper`);
      }
      // the button prints: it calls the browser's print (a stand-in counts the calls)
      await page.emulateMedia({ media: null });   // page.pdf prints with print media unless told otherwise
      await page.setViewportSize({ width: 1440, height: 900 });
      await page.goto(`${h.server.url}/index.html?${PERIOD}`);
      await pageDrawn(page);
      await page.evaluate(() => { window.printed = 0; window.print = () => { window.printed++; }; });
      await page.click('#export-pdf');
      assert.equal(await page.evaluate(() => window.printed), 1);
    } finally {
      await context.close();
    }
  });
}
