// alerts_test_send: POST /api/v1/alert-rules/{name}/test, the 测试发送 of
// the rules editor, through the real server and real receivers on loopback
// (receivers.mjs: a node http webhook receiver, an aiosmtpd SMTP server).
// One rule of a regional manager on store S1 with four targets (JSON,
// WeCom, a webhook that answers 500 once, an email): the test answers once
// every target is done, each with its outcome; the receivers hold one
// sample each (marked 【测试】, the rule's KPI by its Chinese name, its
// threshold as value and threshold), the one that failed once holds two
// requests; nothing is recorded (no alert, no delivery). A dead webhook
// fails after its 3 attempts; another's rule is 403, a store manager's
// call 403, an unknown rule 404.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from './lib.mjs';
import { startWebhooks, startSmtp } from './receivers.mjs';

const PASSWORD = 'alerts-test-pass-1';
let s, admin, rm, rm2, sm, hooks, smtp;
const csvOf = (head, rows) => [head, ...rows.map((r) => r.join(','))].join('\n') + '\n';
// Today in Asia/Shanghai (the server's FOURSCORE_TZ, UTC+8 without daylight saving time).
const today = new Date(Date.now() + 8 * 3600e3).toISOString().slice(0, 10);

before(async () => {
  hooks = await startWebhooks();
  smtp = await startSmtp();
  s = await startServer({ env: {
    FOURSCORE_TZ: 'Asia/Shanghai', FOURSCORE_WEBHOOK_HOSTS: '127.0.0.1', FOURSCORE_MAIL_DOMAINS: 'example.com',
    FOURSCORE_SMTP_URL: smtp.url, FOURSCORE_SMTP_FROM: 'fourscore@example.com', FOURSCORE_ALERT_TIME: '23:59',
  } });
  admin = await s.adminCookie();
  const imp = async (entity, text) => {
    const r = await s.request('POST', `/api/v1/import/${entity}`, { cookie: admin, body: text, contentType: 'text/csv' });
    assert.equal(r.status, 200, r.text);
  };
  await imp('regions', csvOf('region_code,name', [['SOUTH', '华南区'], ['NORTH', '华北区']]));
  await imp('stores', csvOf('store_code,name,brand,region_code,city,opened_on', [
    ['S1', '广州天河丰田', '丰田', 'SOUTH', '广州', '2015-06-01'], ['S3', '北京朝阳大众', '大众', 'NORTH', '北京', '2017-01-01']]));
  const mk = async (body) => {
    const r = await s.request('POST', '/api/v1/users', { cookie: admin, body: { password: PASSWORD, ...body } });
    assert.equal(r.status, 201, r.text);
  };
  await mk({ username: 'rm_south', role: 'regional_manager', regions: ['SOUTH'] });
  await mk({ username: 'rm_north', role: 'regional_manager', regions: ['NORTH'] });
  await mk({ username: 'sm_s1', role: 'store_manager', store: 'S1' });
  rm = await s.login('rm_south', PASSWORD);
  rm2 = await s.login('rm_north', PASSWORD);
  sm = await s.login('sm_s1', PASSWORD);
});

after(async () => {
  if (s) {
    const res = await s.stop();
    assert.equal(res.code, 0, `the server exits cleanly: ${s.stderr().slice(-3000)}`);
  }
  if (hooks) await hooks.close();
  if (smtp) await smtp.close();
});

const testSend = (name, cookie) => s.request('POST', `/api/v1/alert-rules/${name}/test`, { cookie, body: {} });

test('a test delivery sends one sample of the rule to each target and answers how each went', async () => {
  let r = await s.request('PUT', '/api/v1/alert-rules/ro-low', { cookie: rm, body: {
    kpi: 'service.ro_count', when: 'below', threshold: 3, window: 'month_to_date', stores: ['S1'],
    notify: [{ webhook: hooks.url('/json'), format: 'json' }, { webhook: hooks.url('/wecom'), format: 'wecom' },
      { webhook: hooks.url('/fail-once-a'), format: 'dingtalk' }, { email: 'boss@example.com' }] } });
  assert.equal(r.status, 201, r.text);
  r = await testSend('ro-low', rm);
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.rule, 'ro-low');
  const byTarget = Object.fromEntries(r.json.results.map((x) => [x.target, x]));
  assert.equal(r.json.results.length, 4, 'one outcome per target');
  assert.deepEqual([byTarget[hooks.url('/json')].status, byTarget[hooks.url('/json')].attempts], ['sent', 1]);
  assert.deepEqual([byTarget[hooks.url('/wecom')].status, byTarget[hooks.url('/wecom')].attempts], ['sent', 1]);
  // 500 on the first attempt, 200 on the second: sent, after 2 attempts
  assert.deepEqual([byTarget[hooks.url('/fail-once-a')].status, byTarget[hooks.url('/fail-once-a')].attempts], ['sent', 2]);
  assert.deepEqual([byTarget['boss@example.com'].status, byTarget['boss@example.com'].kind], ['sent', 'email']);
  // the answer came after the sends: everything is there already
  assert.equal(hooks.received('/json').length, 1);
  assert.equal(hooks.received('/wecom').length, 1);
  assert.equal(hooks.received('/fail-once-a', true).length, 2, 'the 500 and the retry');
  assert.equal(smtp.messages().length, 1);

  // the sample: the rule's store and KPI, its threshold as value and threshold (3), today's month to date
  const j = hooks.received('/json')[0].json;
  assert.equal(j.test, true);
  assert.equal(j.rule, 'ro-low');
  assert.equal(j.store, 'S1');
  assert.match(j.store_name, /^【测试】/);
  assert.equal(j.kpi, 'service.ro_count');
  assert.equal(j.value, 3);
  assert.equal(j.threshold, 3);
  assert.equal(j.window, 'month_to_date');
  assert.equal(j.from, today.slice(0, 8) + '01');
  assert.equal(j.to, today);
  const w = hooks.received('/wecom')[0].json;
  assert.equal(w.msgtype, 'markdown');
  for (const word of ['【测试】', '进厂台次', '本月至今', '阈值']) assert.ok(w.markdown.content.includes(word), `WeCom: ${word} in ${w.markdown.content}`);
  const d = hooks.received('/fail-once-a')[0].json;   // the delivered one (the retry)
  assert.match(d.markdown.title, /【测试】/);
  const m = smtp.messages()[0];
  assert.deepEqual(m.to, ['boss@example.com']);
  assert.match(m.subject, /^【测试】【经营预警】/);
  assert.match(m.subject, /进厂台次/);

  // nothing recorded: no alert, so no delivery either
  r = await s.request('GET', '/api/v1/alerts?state=all', { cookie: admin });
  assert.deepEqual(r.json, []);
});

test('a dead webhook fails the test after its 3 attempts, with the reason', async () => {
  let r = await s.request('PUT', '/api/v1/alert-rules/dead-hook', { cookie: rm, body: {
    kpi: 'service.revenue', when: 'above', threshold: 1000000, window: 'last_30_days',
    notify: [{ webhook: hooks.url('/dead-1'), format: 'json' }] } });
  assert.equal(r.status, 201, r.text);
  const t0 = Date.now();
  r = await testSend('dead-hook', rm);
  const ms = Date.now() - t0;
  assert.equal(r.status, 200, r.text);
  const [x] = r.json.results;
  assert.equal(x.status, 'failed');
  assert.equal(x.attempts, 3);
  assert.equal(x.http_status, 500);
  assert.ok(x.last_error && x.last_error.length > 0, JSON.stringify(x));
  assert.equal(hooks.received('/dead-1', true).length, 3);
  // the backoff between the attempts is 1 s then 3 s (notify_backoff_ms): at least 4 s in all
  assert.ok(ms >= 4000 && ms < 20000, `answered after ${ms} ms`);
  // no store in the rule: a sample store; last_30_days: [today - 29 days, today]
  const j = hooks.received('/dead-1', true)[0].json;
  assert.equal(j.store, 'TEST');
  const from = new Date(Date.parse(today + 'T00:00:00Z') - 29 * 86400e3).toISOString().slice(0, 10);
  assert.deepEqual([j.from, j.to], [from, today]);
});

test('only the owner and admins may test a rule; an unknown rule is 404', async () => {
  assert.equal((await testSend('ro-low', rm2)).status, 403, 'another regional manager');
  assert.equal((await testSend('ro-low', sm)).status, 403, 'a store manager');
  assert.equal((await testSend('no-such-rule', rm)).status, 404);
  assert.equal((await testSend('BAD', rm)).status, 400);
  const before = hooks.received('/json').length;
  const r = await testSend('ro-low', admin);
  assert.equal(r.status, 200, r.text);
  assert.equal(hooks.received('/json').length, before + 1, 'an admin may');
});
