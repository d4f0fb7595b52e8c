// alerts_instances: exactly once with several instances on one database.
// Three `fourscore serve` share one external MariaDB (started here, as a
// deployment runs one) and real receivers on loopback (receivers.mjs):
// the daily evaluation, due at start for two of them, runs on one; two
// instances importing the same store at once both evaluate it, and each
// alert is still notified once per target; two `fourscore alerts check` at
// once send each notification once. The values are counted by hand: S1
// gets 1 RO closed today (Asia/Shanghai), and every rule watches
// service.ro_count below 3 over month_to_date.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startServer, startMariadb, tempDir, run } from './lib.mjs';
import { startWebhooks, startSmtp, waitFor } from './receivers.mjs';

const today = new Date(Date.now() + 8 * 3600e3).toISOString().slice(0, 10);
const RO_HEAD = 'store_code,ro_no,vin,customer_code,advisor_code,ro_type,payer,insurer_code,opened_at,closed_at,mileage_km,other_amount,discount_amount,comeback_of';
const ro = (store, no) => `${store},${no},LFVKP00000000${String(no.length).padStart(4, '0')},C${store},,maintenance,customer,,${today} 00:00,${today} 00:01,1000,,,`;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const cleanup = [];
after(async () => { for (const f of cleanup.reverse()) await f(); });

test('two instances and two checks on one database notify each alert once per target', async () => {
  const dir = tempDir('fs-alerts2-');
  const db = await startMariadb(join(dir, 'db'));
  await db.start();
  cleanup.push(() => db.stop());
  assert.equal((await db.sql('CREATE DATABASE fourscore CHARACTER SET utf8mb4')).code, 0);
  const hooks = await startWebhooks();
  cleanup.push(() => hooks.close());
  const smtp = await startSmtp();
  cleanup.push(() => smtp.close());
  const url = db.url('fourscore');
  const env = {
    FOURSCORE_TZ: 'Asia/Shanghai', FOURSCORE_WEBHOOK_HOSTS: '127.0.0.1', FOURSCORE_MAIL_DOMAINS: 'example.com',
    FOURSCORE_SMTP_URL: smtp.url, FOURSCORE_SMTP_FROM: 'fourscore@example.com', FOURSCORE_ALERT_TIME: '23:59',
  };
  const a = await startServer({ args: ['--db', url], env });
  cleanup.push(async () => { const r = await a.stop(); assert.equal(r.code, 0, a.stderr().slice(-2000)); });
  const admin = await a.adminCookie();
  const imp = async (srv, cookie, entity, text) => {
    const r = await srv.request('POST', `/api/v1/import/${entity}`, { cookie, body: text, contentType: 'text/csv' });
    assert.equal(r.status, 200, `${entity}: ${r.text}`);
  };
  await imp(a, admin, 'regions', 'region_code,name\nSOUTH,华南区\n');
  await imp(a, admin, 'stores', 'store_code,name,brand,region_code,city,opened_on\nS1,广州天河丰田,丰田,SOUTH,广州,2015-06-01\n');
  await imp(a, admin, 'customers', 'store_code,customer_code,type,name\nS1,CS1,individual,黄先生\n');
  await imp(a, admin, 'repair_orders', `${RO_HEAD}\n${ro('S1', 'R1')}\n`);
  const rule = (path) => ({
    kpi: 'service.ro_count', when: 'below', threshold: 3, window: 'month_to_date',
    notify: [{ webhook: hooks.url(path), format: 'json' }, { webhook: hooks.url(path + '-wecom'), format: 'wecom' },
      { email: `${path.slice(1)}@example.com` }],
  });
  // saved while no instance evaluates daily (23:59): it fires at the daily evaluation
  assert.equal((await a.request('PUT', '/api/v1/alert-rules/daily', { cookie: admin, body: rule('/daily') })).status, 201);

  // 1. two instances whose daily evaluation is due at start: one runs it
  const due = { ...env, FOURSCORE_ALERT_TIME: '00:00' };
  const [b, c] = await Promise.all([startServer({ args: ['--db', url], env: due }), startServer({ args: ['--db', url], env: due })]);
  for (const x of [b, c]) cleanup.push(async () => { const r = await x.stop(); assert.equal(r.code, 0, x.stderr().slice(-2000)); });
  await waitFor(() => hooks.received('/daily').length >= 1 && hooks.received('/daily-wecom').length >= 1 &&
    smtp.messages().length >= 1, 'the daily notifications');
  await sleep(20000);   // past the schedulers' next look (every 15 s) on both
  assert.equal(hooks.received('/daily').length, 1);
  assert.equal(hooks.received('/daily-wecom').length, 1);
  assert.equal(smtp.messages().filter((m) => m.to[0] === 'daily@example.com').length, 1);
  const ran = [b, c].filter((x) => /the daily evaluation of \d{4}-\d\d-\d\d ran on this instance/.test(x.logs()));
  assert.equal(ran.length, 1, 'exactly one instance ran the daily evaluation');
  const runs = await db.sql("SELECT job, COUNT(*) FROM schedule_runs GROUP BY job", 'fourscore');
  assert.equal(runs.stdout.trim(), 'alerts.daily\t1');

  // 2. three instances import for S1 at once: each evaluates it; one alert, one message per target
  assert.equal((await a.request('PUT', '/api/v1/alert-rules/after-import', { cookie: admin, body: { ...rule('/imp'), threshold: 10 } })).status, 201);
  await Promise.all([imp(a, admin, 'repair_orders', `${RO_HEAD}\n${ro('S1', 'R2a')}\n`),
    imp(b, await b.adminCookie(), 'repair_orders', `${RO_HEAD}\n${ro('S1', 'R2b')}\n`),
    imp(c, await c.adminCookie(), 'repair_orders', `${RO_HEAD}\n${ro('S1', 'R2c')}\n`)]);
  await waitFor(() => hooks.received('/imp').length >= 1 && hooks.received('/imp-wecom').length >= 1 &&
    smtp.messages().some((m) => m.to[0] === 'imp@example.com'), 'the notifications after the imports');
  await sleep(3000);
  assert.equal(hooks.received('/imp').length, 1);
  assert.equal(hooks.received('/imp-wecom').length, 1);
  assert.equal(smtp.messages().filter((m) => m.to[0] === 'imp@example.com').length, 1);
  // the alert opens at the first evaluation that runs: S1 had R1 and 1, 2 or 3 of R2a, R2b, R2c then
  assert.ok([2, 3, 4].includes(hooks.received('/imp')[0].json.value), JSON.stringify(hooks.received('/imp')[0].json));
  const open = await a.request('GET', '/api/v1/alerts?state=open&rule=after-import', { cookie: admin });
  assert.equal(open.json.length, 1);

  // 3. two `fourscore alerts check` at once
  assert.equal((await a.request('PUT', '/api/v1/alert-rules/checked', { cookie: admin, body: { ...rule('/chk'), threshold: 10 } })).status, 201);
  const checks = await Promise.all([run(['alerts', 'check', '--db', url], { env }), run(['alerts', 'check', '--db', url], { env })]);
  for (const ch of checks) assert.equal(ch.code, 0, ch.stderr);
  const opened = checks.map((ch) => Number(/alerts opened: (\d+)/.exec(ch.stdout)[1]));
  assert.deepEqual(opened.sort(), [0, 1], checks.map((ch) => ch.stdout).join(' | '));
  await waitFor(() => hooks.received('/chk').length >= 1 && hooks.received('/chk-wecom').length >= 1 &&
    smtp.messages().some((m) => m.to[0] === 'chk@example.com'), 'the notifications of the checks');
  await sleep(3000);
  assert.equal(hooks.received('/chk').length, 1);
  assert.equal(hooks.received('/chk-wecom').length, 1);
  assert.equal(smtp.messages().filter((m) => m.to[0] === 'chk@example.com').length, 1);
  // the daily rule's alert closed when S1 reached 4 ROs (not below 3): its two webhooks were told once
  await waitFor(() => hooks.received('/daily').length >= 2 && hooks.received('/daily-wecom').length >= 2, 'the closing messages');
  await sleep(1000);
  assert.equal(hooks.received('/daily').length, 2);
  assert.equal(hooks.received('/daily')[1].json.event, 'close');
  assert.equal(hooks.received('/daily-wecom').length, 2);
  const dl = await db.sql("SELECT status, COUNT(*) FROM alert_deliveries GROUP BY status", 'fourscore');
  // three alerts opened with three targets each, one closed with two webhooks: 11 deliveries, each sent once
  assert.equal(dl.stdout.trim(), 'sent\t11');
});
