#!/usr/bin/env node
// scorecards_find: does 售后综合评分 (lua/scorecards/aftersales_balanced.lua)
// find the demo's weak stores? For each seed (1, 7 and 11, or SEEDS=a,b,c) the
// default-size demo (24 stores, 3 years ending last month; about a minute
// each with a release build) is loaded into a private local-mode database,
// and the scorecard runs through `fourscore scorecard run --format json`
// over the 12-month windows ending in each of the last 6 months of the
// demo. Every window must rank each planted weak store (the ones the demo
// names on stderr: SH002, HZ006, SJ011, JN015, MY020 at the default size)
// in the bottom quarter (rank > n - n/4), and no item may give every store
// the same points. Prints a table; exits non-zero when a check fails.
//
//   node tests/bench/scorecards_find.mjs [BUILD_DIR]      (default: build)
//   SEEDS=1,7,11  END=YYYY-MM (default: last month)  KEEP=1 keeps the data dirs
//   DATA_DIRS=seed:dir,...  reuses loaded demos (e.g. DATA_DIRS=1:/tmp/s1)
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const build = resolve(process.argv[2] || join(root, 'build'));
const bin = process.env.FOURSCORE_BIN || join(build, 'fourscore');
const plugins = process.env.FOURSCORE_PLUGIN_DIR || join(build, 'plugins');
const seeds = (process.env.SEEDS || '1,7,11').split(',').map((s) => s.trim()).filter(Boolean);
const card = join(root, 'lua/scorecards/aftersales_balanced.lua');
const reuse = Object.fromEntries((process.env.DATA_DIRS || '').split(',').filter(Boolean).map((x) => x.split(':')));
const DEFAULT_WEAK = { labour_share: 'SH002', receivables: 'HZ006', renewal: 'SJ011', churn: 'JN015', slow_parts: 'MY020' };

function lastMonth() {
  const d = new Date();
  d.setUTCDate(1);
  d.setUTCMonth(d.getUTCMonth() - 1);
  return `${d.getUTCFullYear()}-${String(d.getUTCMonth() + 1).padStart(2, '0')}`;
}
const end = process.env.END || lastMonth();

// The 12-month windows ending in each of the last 6 months up to end.
function windows() {
  const [y, m] = end.split('-').map(Number);
  const out = [];
  for (let k = 0; k < 6; k++) {
    const last = new Date(Date.UTC(y, m - k, 0));           // the last day of month m - k
    const first = new Date(Date.UTC(y, m - k - 12, 1));     // the 1st, 11 months before it
    out.push({ from: first.toISOString().slice(0, 10), to: last.toISOString().slice(0, 10) });
  }
  return out;
}

function fourscore(args, dataDir) {
  const r = spawnSync(bin, [...args, '--data-dir', dataDir], {
    encoding: 'utf8', maxBuffer: 64 << 20, env: { ...process.env, FOURSCORE_PLUGIN_DIR: plugins },
  });
  if (r.status !== 0) throw new Error(`fourscore ${args.join(' ')}: exit ${r.status}\n${r.stderr}`);
  return r;
}

const failures = [];
const table = [];
for (const seed of seeds) {
  let dataDir = reuse[seed];
  let weak = DEFAULT_WEAK;
  const own = !dataDir;
  if (own) {
    dataDir = mkdtempSync(join(tmpdir(), `fs-find-${seed}-`));
    const t0 = Date.now();
    const r = fourscore(['demo', '--seed', seed, '--end', end], dataDir);
    weak = {};
    for (const m of r.stderr.matchAll(/weak (\w+): (\w+)/g)) weak[m[1]] = m[2];
    process.stderr.write(`seed ${seed}: demo loaded in ${((Date.now() - t0) / 1000).toFixed(0)} s (${dataDir})\n`);
  }
  try {
    for (const w of windows()) {
      const r = fourscore(['scorecard', 'run', card, '--from', w.from, '--to', w.to, '--format', 'json'], dataDir);
      const rows = JSON.parse(r.stdout).rows;
      const n = rows.length;
      const bottom = n - Math.floor(n / 4);          // rank > bottom: the bottom quarter
      const rank = Object.fromEntries(rows.map((x) => [x.store, x.rank]));
      const line = { seed, to: w.to, n, top: rows[0].score, last: rows[n - 1].score, weak: {}, constant: [] };
      for (const [what, store] of Object.entries(weak)) {
        line.weak[what] = `${store} ${rank[store] ?? '-'}`;
        if (!(rank[store] > bottom)) failures.push(`seed ${seed} ${w.from}..${w.to}: ${store} (${what}) ranks ${rank[store]} of ${n}, not in the bottom quarter (> ${bottom})`);
      }
      const points = {};
      for (const row of rows) for (const it of row.items || []) (points[it.kpi] ||= new Set()).add(it.points ?? null);
      for (const [id, set] of Object.entries(points)) {
        if (set.size === 1) {
          line.constant.push(id);
          failures.push(`seed ${seed} ${w.from}..${w.to}: ${id} gives every store ${[...set][0]} points`);
        }
      }
      table.push(line);
    }
  } finally {
    if (own && !process.env.KEEP) rmSync(dataDir, { recursive: true, force: true });
  }
}

const keys = Object.keys(DEFAULT_WEAK);
console.log(['seed', 'window to', 'stores', 'best', 'worst', ...keys.map((k) => `${k} (rank)`), 'constant items'].join(' | '));
for (const l of table) {
  console.log([l.seed, l.to, l.n, l.top.toFixed(1), l.last.toFixed(1), ...keys.map((k) => l.weak[k] ?? '-'),
    l.constant.join(',') || '-'].join(' | '));
}
if (failures.length) {
  console.log(`\n${failures.length} failed:\n  ${failures.join('\n  ')}`);
  process.exit(1);
}
console.log(`\nall ${table.length} windows: every weak store in the bottom quarter, no constant item`);
