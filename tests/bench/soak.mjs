// soak: mixed traffic against one server for a long while (SOAK_SECONDS,
// default 600): dashboard KPI batches, imports, scorecard runs and logins,
// from a few concurrent clients on loopback. Prints the error count (must be
// 0) and the server's resident memory and open file descriptors at the start
// and at the end (both must stay flat). Not part of the test suite.
//   FOURSCORE_BIN=build/fourscore node tests/bench/soak.mjs
// (SOAK_SECONDS, SOAK_CLIENTS, SOAK_DATA_DIR to reuse a loaded demo group)
import { readFileSync, readdirSync } from 'node:fs';
import { startServer, run, tempDir } from '../integration/lib.mjs';

const seconds = Number(process.env.SOAK_SECONDS || 600);
const clients = Number(process.env.SOAK_CLIENTS || 8);

function rssKb(pid) {
  const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : NaN;
}
const fds = (pid) => readdirSync(`/proc/${pid}/fd`).length;

// SOAK_DATA_DIR: a data dir that already holds a demo group (else one is loaded)
const dataDir = process.env.SOAK_DATA_DIR || tempDir('fs-soak-');
if (!process.env.SOAK_DATA_DIR) {
  console.log(`loading a demo group (6 stores, 2 years) into ${dataDir} ...`);
  const demo = await run(['demo', '--stores', '6', '--years', '2', '--end', '2026-09'], { dataDir, timeoutMs: 1800000 });
  if (demo.code !== 0) { console.error(demo.stderr); process.exit(1); }
}
const s = await startServer({ dataDir });
const pid = s.proc.pid;
const cookie = await s.adminCookie();
const stores = (await s.request('GET', '/api/v1/stores', { cookie })).json.map((x) => x.code);
const cat = (await s.request('GET', '/api/v1/kpis', { cookie })).json;
const ids = (Array.isArray(cat) ? cat : cat.kpis).map((k) => k.id).filter((id) => id !== 'insurance.insurer_share');

// warm up, then take the starting figures
for (let i = 0; i < 20; i++) await s.request('POST', '/api/v1/kpi/batch', { cookie, body: [{ ids, from: '2026-09-01', to: '2026-09-30', by: 'store' }] });
const start = { rss: rssKb(pid), fds: fds(pid) };

const counts = { kpi: 0, import: 0, scorecard: 0, login: 0, errors: 0 };
const errors = [];
const months = ['2025-10', '2025-11', '2025-12', '2026-01', '2026-02', '2026-03', '2026-04', '2026-05', '2026-06', '2026-07', '2026-08', '2026-09'];
const monthRange = (m) => { const [y, mo] = m.split('-').map(Number); const last = new Date(y, mo, 0).getDate(); return { from: `${m}-01`, to: `${m}-${String(last).padStart(2, '0')}` }; };
const check = (what, r, ok = 200) => { if (r.status !== ok) { counts.errors++; if (errors.length < 20) errors.push(`${what}: ${r.status} ${r.text.slice(0, 200)}`); } };

async function client(n) {
  const end = Date.now() + seconds * 1000;
  let i = 0;
  while (Date.now() < end) {
    const k = (n + i++) % 10;
    if (k < 6) {
      const p = monthRange(months[(n + i) % months.length]);
      check('kpi', await s.request('POST', '/api/v1/kpi/batch', { cookie, body: [
        { ids, ...p, by: 'store' }, { ids: ids.slice(0, 9), ...p, by: 'group' }, { ids: ids.slice(0, 9), ...p, by: 'region' }] }));
      counts.kpi++;
    } else if (k < 8) {
      const code = stores[i % stores.length];
      const csv = `store_code,customer_code,type,name\n${code},SOAK${n}_${i % 50},individual,压力测试客户\n`;
      check('import', await s.request('POST', '/api/v1/import/customers', { cookie, contentType: 'text/csv', body: csv }));
      counts.import++;
    } else if (k < 9) {
      const p = monthRange(months[i % months.length]);
      check('scorecard', await s.request('POST', `/api/v1/scorecards/aftersales_balanced/run?from=${p.from}&to=${p.to}`, { cookie }));
      counts.scorecard++;
    } else {
      const r = await s.request('POST', '/api/v1/session', { body: { username: 'exec', password: 'demo1234' } });
      check('login', r);
      counts.login++;
    }
  }
}
console.log(`soaking for ${seconds} s with ${clients} clients ...`);
const t0 = Date.now();
// one sample a minute: caches and pools fill during the first minutes, then
// the figures must stay flat
const samples = [];
const sampler = setInterval(() => {
  const smp = { t: Math.round((Date.now() - t0) / 1000), rss: rssKb(pid), fds: fds(pid) };
  samples.push(smp);
  console.log(`  ${String(smp.t).padStart(4)} s  rss ${smp.rss} KiB  fds ${smp.fds}`);
}, Math.max(1000, Math.min(60000, seconds * 100)));
await Promise.all(Array.from({ length: clients }, (_, n) => client(n)));
clearInterval(sampler);
const elapsed = (Date.now() - t0) / 1000;
const endFig = { rss: rssKb(pid), fds: fds(pid) };
const stop = await s.stop();

const row = (a, b, c) => console.log(`| ${a.padEnd(22)} | ${String(b).padStart(12)} | ${String(c).padStart(12)} |`);
console.log(`\n| ${'what'.padEnd(22)} | ${'start'.padStart(12)} | ${'end'.padStart(12)} |`);
console.log(`|${'-'.repeat(24)}|${'-'.repeat(14)}|${'-'.repeat(14)}|`);
row('resident memory (KiB)', start.rss, endFig.rss);
row('open descriptors', start.fds, endFig.fds);
console.log(`\nrequests in ${elapsed.toFixed(0)} s: ${counts.kpi} KPI batches, ${counts.import} imports, ${counts.scorecard} scorecard runs, ${counts.login} logins`);
console.log(`errors: ${counts.errors}`);
for (const e of errors) console.log('  ' + e);
console.log(`server exit code: ${stop.code}`);
// flat: over the second half of the run, memory grows less than 10 % and
// descriptors by at most 2 (the pools are full by then)
const mid = samples[Math.floor(samples.length / 2)] || start;
console.log(`halfway: rss ${mid.rss} KiB, fds ${mid.fds}`);
const grew = endFig.rss > mid.rss * 1.10 || endFig.fds > mid.fds + 2;
console.log(grew ? 'NOT FLAT over the second half' : 'flat over the second half');
process.exit(counts.errors === 0 && stop.code === 0 && !grew ? 0 : 1);
