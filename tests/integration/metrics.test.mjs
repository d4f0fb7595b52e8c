// metrics: GET /metrics as a monitoring system reads it and as a hostile
// client tries to break it. Hostile methods and paths (quotes, backslashes,
// line feeds, invalid UTF-8, hundreds of distinct ones) never reach a label
// raw and never grow the series: the text still parses under a strict parser
// of the Prometheus text format written here, unknown methods count as
// method="other" and unmatched paths as route="unmatched". Each application
// counter moves by exactly what its event should add: imported rows and
// files, rejected files, failed logins, scorecard runs and budget stops, KPI
// cache hits and misses, refused plugins. Expected increases are worked out by
// hand from the requests each test sends.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { join } from 'node:path';
import { startServer, pluginDirWith, fixtures } from './lib.mjs';

let s, admin;

before(async () => {
  s = await startServer();
  admin = await s.adminCookie();
  for (const e of ['regions', 'stores']) {
    const r = await s.cli(['import', e, join(fixtures, 'kpi', `${e}.csv`)]);
    assert.equal(r.code, 0, r.stderr);
  }
});

after(async () => {
  if (!s) return;
  const res = await s.stop();
  assert.doesNotMatch(s.stderr(), /Sanitizer|runtime error/, s.stderr().slice(-4000));
  assert.equal(res.code, 0, 'the server exits 0');
});

// --- a strict parser of the text exposition format (version 0.0.4) ---

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);

// Returns {families: Map(name -> {type, help}), samples: [{name, labels, value}]};
// throws naming the line on anything the format does not allow.
function parseExposition(buf) {
  const text = new TextDecoder('utf-8', { fatal: true }).decode(buf);   // throws on invalid UTF-8
  assert.ok(text.endsWith('\n'), 'the text ends with a line feed');
  const families = new Map();
  const samples = [];
  const seen = new Set();
  const lines = text.slice(0, -1).split('\n');
  lines.forEach((line, i) => {
    const where = `line ${i + 1}: ${JSON.stringify(line)}`;
    if (line.startsWith('#')) {
      const m = /^# (HELP|TYPE) (\S+) (.*)$/.exec(line);
      if (!m) { assert.match(line, /^#( |$)/, `a comment: ${where}`); return; }
      const [, kind, name, rest] = m;
      assert.match(name, NAME, `metric name: ${where}`);
      const f = families.get(name) || {};
      if (kind === 'TYPE') {
        assert.ok(TYPES.has(rest), `type: ${where}`);
        assert.equal(f.type, undefined, `one TYPE per family: ${where}`);
        assert.ok(!samples.some((x) => familyOf(x.name, families) === name), `TYPE before the samples: ${where}`);
        f.type = rest;
      } else {
        assert.equal(f.help, undefined, `one HELP per family: ${where}`);
        assert.doesNotMatch(rest.replace(/\\[\\n]/g, ''), /\\/, `HELP escapes only \\\\ and \\n: ${where}`);
        f.help = rest;
      }
      families.set(name, f);
      return;
    }
    let p = 0;
    const nm = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(line);
    assert.ok(nm, `a sample starts with a metric name: ${where}`);
    const name = nm[0];
    p = name.length;
    const labels = {};
    if (line[p] === '{') {
      p++;
      while (line[p] !== '}') {
        const ln = /^[a-zA-Z_][a-zA-Z0-9_]*/.exec(line.slice(p));
        assert.ok(ln, `a label name at column ${p + 1}: ${where}`);
        assert.match(ln[0], LABEL);
        p += ln[0].length;
        assert.equal(line.slice(p, p + 2), '="', `="after the label name at column ${p + 1}: ${where}`);
        p += 2;
        let value = '';
        for (;;) {
          assert.ok(p < line.length, `an unterminated label value: ${where}`);
          const ch = line[p];
          if (ch === '"') { p++; break; }
          if (ch === '\\') {
            const e = line[p + 1];
            assert.ok(e === '\\' || e === '"' || e === 'n', `only \\\\ \\" \\n escapes, at column ${p + 1}: ${where}`);
            value += e === 'n' ? '\n' : e;
            p += 2;
            continue;
          }
          value += ch;
          p++;
        }
        assert.ok(!(ln[0] in labels), `label ${ln[0]} given twice: ${where}`);
        labels[ln[0]] = value;
        if (line[p] === ',') p++;
        else assert.equal(line[p], '}', `, or } after a label at column ${p + 1}: ${where}`);
      }
      p++;
    }
    const rest = line.slice(p);
    const vm = /^ (\S+)( -?\d+)?$/.exec(rest);
    assert.ok(vm, `one space, a value and an optional timestamp: ${where}`);
    const v = vm[1];
    assert.ok(/^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/.test(v) || ['+Inf', '-Inf', 'NaN'].includes(v), `a number: ${where}`);
    const fam = familyOf(name, families);
    assert.ok(fam, `a sample of a family with a TYPE: ${where}`);
    const key = name + JSON.stringify(Object.entries(labels).sort());
    assert.ok(!seen.has(key), `the same series twice: ${where}`);
    seen.add(key);
    samples.push({ name, labels, value: v === '+Inf' ? Infinity : v === '-Inf' ? -Infinity : Number(v) });
  });
  // histograms: buckets cumulative, +Inf equal to _count
  for (const [name, f] of families) {
    if (f.type !== 'histogram') continue;
    const buckets = samples.filter((x) => x.name === `${name}_bucket`);
    assert.ok(buckets.length > 0 && buckets.at(-1).labels.le === '+Inf', `${name}: ends with le="+Inf"`);
    for (let i = 1; i < buckets.length; i++) assert.ok(buckets[i].value >= buckets[i - 1].value, `${name}: cumulative buckets`);
    const count = samples.find((x) => x.name === `${name}_count`);
    assert.equal(buckets.at(-1).value, count.value, `${name}: +Inf bucket equals _count`);
  }
  return { families, samples };
}

function familyOf(name, families) {
  if (families.get(name)?.type) return name;
  for (const suffix of ['_bucket', '_sum', '_count']) {
    const base = name.endsWith(suffix) ? name.slice(0, -suffix.length) : null;
    if (base && ['histogram', 'summary'].includes(families.get(base)?.type)) return base;
  }
  return null;
}

async function scrape() {
  const r = await s.request('GET', '/metrics', { cookie: admin });
  assert.equal(r.status, 200, r.text);
  return parseExposition(r.body);
}
// The value of one unlabelled counter.
async function counter(name) {
  const { samples } = await scrape();
  const x = samples.filter((v) => v.name === name);
  assert.equal(x.length, 1, `${name} is exposed once`);
  return x[0].value;
}
async function counters(names) {
  const { samples } = await scrape();
  return Object.fromEntries(names.map((n) => [n, samples.find((v) => v.name === n)?.value]));
}
// The change of each counter over fn().
async function delta(names, fn) {
  const a = await counters(names);
  for (const n of names) assert.equal(typeof a[n], 'number', `${n} is exposed`);
  await fn();
  const b = await counters(names);
  return Object.fromEntries(names.map((n) => [n, b[n] - a[n]]));
}

// One raw HTTP/1.1 request (any bytes in the method and target); resolves to
// the status line's code and the raw answer.
function raw(method, target) {
  return new Promise((resolve, reject) => {
    const sock = net.connect(s.port, '127.0.0.1');
    const chunks = [];
    sock.setTimeout(10000, () => { sock.destroy(); reject(new Error('no answer to a raw request')); });
    sock.on('data', (d) => chunks.push(d));
    sock.on('error', reject);
    sock.on('close', () => {
      const all = Buffer.concat(chunks);
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(all.toString('latin1'));
      resolve({ status: m ? Number(m[1]) : 0, raw: all });
    });
    sock.end(Buffer.concat([Buffer.from(method, 'latin1'), Buffer.from(' '), Buffer.from(target, 'latin1'),
      Buffer.from(' HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')]));
  });
}

// --- poisoning ---

test('hostile methods and paths neither break the text format nor grow the series', async () => {
  const hostileMethods = ['A"}\\x', 'A"}\\', 'B\\"', 'X{y="1"}', 'GETX', 'get', 'BREW', "Q'#", 'M\xff\xfe', '\xc3\xa9'];
  const hostilePaths = ['/api/v1/nope"}', '/api/v1/a%22%7D%5Cx', '/api/v1/%0A%23%20TYPE%20x%20counter', '/api/v1/%FF%FE',
    '/api/%5C%5C%22', '/metrics/x', '/api/v1/health/../../x', '/api/v1/\\"'];
  for (const m of hostileMethods) {
    for (const p of ['/api/v1/health', '/metrics', '/x', ...hostilePaths.slice(0, 3)]) {
      const r = await raw(m, p);
      assert.ok(r.status >= 400 || r.status === 0 || r.status === 200, `${JSON.stringify(m)} ${p}: ${r.status}`);
    }
  }
  for (const p of hostilePaths) await raw('GET', p);
  // hundreds of distinct methods and paths: each would be a series of its own
  for (let i = 0; i < 300; i++) {
    await raw(`M${i}X`, `/api/v1/unknown${i}`);
    await raw('GET', `/api/v1/nope/${i}"}`);
  }
  const r = await s.request('GET', '/metrics', { cookie: admin });
  assert.equal(r.status, 200);
  const { samples } = parseExposition(r.body);
  const reqs = samples.filter((x) => x.name === 'fourscore_http_requests_total');
  const methods = new Set(reqs.map((x) => x.labels.method));
  for (const m of methods) assert.ok(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'other'].includes(m), `method label ${JSON.stringify(m)}`);
  assert.ok(methods.has('other'), 'unknown methods count as "other"');
  const routes = new Set(reqs.map((x) => x.labels.route));
  for (const route of routes)
    assert.ok(route === 'unmatched' || route === 'static' || route === 'overflow' || /^\/(api\/v1\/|metrics$)[a-z0-9_/{}-]*$/.test(route),
      `a route label is a pattern of the route table: ${JSON.stringify(route)}`);
  assert.ok(routes.has('unmatched'), 'paths no route matches count as "unmatched"');
  assert.ok(!routes.has('overflow'), 'the series cap was not reached');
  // at least 600 (the loop) + the hostile ones went to unmatched / other
  const folded = reqs.filter((x) => x.labels.route === 'unmatched').reduce((a, x) => a + x.value, 0);
  assert.ok(folded >= 600, `unmatched requests counted (${folded})`);
  assert.ok(reqs.length < 60, `the series stay few (${reqs.length})`);
  assert.equal((await s.request('GET', '/api/v1/health')).status, 200, 'still serving');
});

test('a label holding a quote, backslash or line feed is escaped', async () => {
  // every label the server writes is escaped: the route and method labels
  // are fixed words now, so check the escaping through the parser on what a
  // request with such bytes in its path and method left behind
  await raw('A"}\\x', '/api/v1/health');
  const r = await s.request('GET', '/metrics', { cookie: admin });
  const text = r.text;
  assert.doesNotMatch(text, /A"}/, 'the raw method is not in the text');
  assert.doesNotMatch(text, /method="[^"]*\\x/, 'nor any part of it');
  const { samples } = parseExposition(r.body);
  const other = samples.find((x) => x.name === 'fourscore_http_requests_total' && x.labels.method === 'other');
  assert.ok(other && other.value >= 1, 'the request was counted as method="other"');
});

// --- the application counters ---

const regionsCsv = (rows) => 'region_code,name\n' + rows.map((r) => r.join(',')).join('\n') + '\n';

test('imports count rows and files applied, and files rejected', async () => {
  const names = ['fourscore_import_rows_total', 'fourscore_import_files_total', 'fourscore_import_rejected_total'];
  const csv = regionsCsv([['M1', '一区'], ['M2', '二区'], ['M3', '三区']]);
  const post = (body) => s.request('POST', '/api/v1/import/regions', { cookie: admin, contentType: 'text/csv', body });
  let d = await delta(names, async () => { const r = await post(csv); assert.equal(r.status, 200, r.text); });
  assert.deepEqual(d, { fourscore_import_rows_total: 3, fourscore_import_files_total: 1, fourscore_import_rejected_total: 0 }, '3 new rows');
  // the same file again: 3 rows applied, all unchanged
  d = await delta(names, async () => { const r = await post(csv); assert.equal(r.json.unchanged, 3, r.text); });
  assert.deepEqual(d, { fourscore_import_rows_total: 3, fourscore_import_files_total: 1, fourscore_import_rejected_total: 0 }, 'unchanged rows count');
  // two bad files (a missing column, not CSV): nothing written, two rejected
  d = await delta(names, async () => {
    assert.equal((await post('region_code\nM9\n')).status, 422);
    assert.equal((await post('region_code,name\n"M9,x\n')).status, 422);
  });
  assert.deepEqual(d, { fourscore_import_rows_total: 0, fourscore_import_files_total: 0, fourscore_import_rejected_total: 2 });
  // the command line counts in its own process, not in the server's
  d = await delta(names, async () => { assert.equal((await s.cli(['import', 'regions', join(fixtures, 'kpi', 'regions.csv')])).code, 0); });
  assert.deepEqual(d, { fourscore_import_rows_total: 0, fourscore_import_files_total: 0, fourscore_import_rejected_total: 0 });
});

test('failed logins count, successful ones do not', async () => {
  const n = 'fourscore_login_failures_total';
  const login = (username, password) => s.request('POST', '/api/v1/session', { body: { username, password } });
  let d = await delta([n], async () => {
    assert.equal((await login('admin', 'wrong-password-1')).status, 401);
    assert.equal((await login('admin', 'wrong-password-2')).status, 401);
    assert.equal((await login('nobody_here', 'whatever-1234')).status, 401, 'an unknown user');
    assert.equal((await login('a"}\\x', 'whatever-1234')).status, 401, 'a name no user can have');
  });
  assert.deepEqual(d, { [n]: 4 });
  d = await delta([n], async () => { assert.equal((await login('admin', s.adminPassword)).status, 200); });
  assert.deepEqual(d, { [n]: 0 }, 'a good login adds nothing');
  // five failures for one name (the per-name limit), then two refused by the rate limit: 7
  d = await delta([n], async () => {
    for (let i = 0; i < 5; i++) assert.equal((await login('rl_target', `wrong-${i}-password`)).status, 401);
    for (let i = 0; i < 2; i++) assert.equal((await login('rl_target', 'wrong-again-1')).status, 429);
  });
  assert.deepEqual(d, { [n]: 7 }, 'rate-limited attempts are failed logins too');
});

test('scorecard runs count, and runs ended by a budget count as budget_exceeded', async () => {
  const names = ['fourscore_scorecard_runs_total', 'fourscore_scorecard_budget_exceeded_total'];
  const run = (src) => s.request('POST', '/api/v1/scorecards/run?from=2024-03-01&to=2024-03-31', { cookie: admin, body: src, contentType: 'text/x-lua' });
  let d = await delta(names, async () => {
    assert.equal((await run('return {}')).status, 200);
    assert.equal((await run('local rows = {}\nfor _, st in ipairs(stores()) do rows[#rows + 1] = {store = st.code, score = 1} end\nreturn rows')).status, 200);
  });
  assert.deepEqual(d, { fourscore_scorecard_runs_total: 2, fourscore_scorecard_budget_exceeded_total: 0 });
  d = await delta(names, async () => {
    for (const src of ['while true do end', "local s = 'x' while true do s = s .. s end", 'pcall(function() while true do end end) return {}']) {
      const r = await run(src);
      assert.equal(r.status, 422, r.text);
      assert.equal(r.json.error.code, 'budget_exceeded', src);
    }
    const bad = await run('error("no")');
    assert.equal(bad.status, 422);
    assert.equal(bad.json.error.code, 'script_error', 'a script error is a run, not a budget stop');
  });
  assert.deepEqual(d, { fourscore_scorecard_runs_total: 4, fourscore_scorecard_budget_exceeded_total: 3 });
  // a check (compile only) is not a run
  d = await delta(names, async () => {
    const r = await s.request('POST', '/api/v1/scorecards/run?check=1', { cookie: admin, body: 'return {}', contentType: 'text/x-lua' });
    assert.equal(r.status, 200, r.text);
  });
  assert.deepEqual(d, { fourscore_scorecard_runs_total: 0, fourscore_scorecard_budget_exceeded_total: 0 });
});

test('KPI cache: a component computed is a miss, one found in the cache a hit', async () => {
  const names = ['fourscore_kpi_cache_hits_total', 'fourscore_kpi_cache_misses_total'];
  const kpi = async (q) => { const r = await s.request('GET', `/api/v1/kpi?${q}`, { cookie: admin }); assert.equal(r.status, 200, r.text); };
  const Q1 = 'from=2023-01-01&to=2023-03-31';
  // two ids over one period: 2 (id, period) components, none cached yet
  let d = await delta(names, () => kpi(`ids=service.ro_count,service.revenue&${Q1}&by=group`));
  assert.deepEqual(d, { fourscore_kpi_cache_hits_total: 0, fourscore_kpi_cache_misses_total: 2 });
  // by month: 2 ids x 3 months, new periods: 6 misses
  d = await delta(names, () => kpi(`ids=service.ro_count,service.revenue&${Q1}&by=month`));
  assert.deepEqual(d, { fourscore_kpi_cache_hits_total: 0, fourscore_kpi_cache_misses_total: 6 });
  // one id over Q1 by store: the components of the first request, 1 hit
  d = await delta(names, () => kpi(`ids=service.ro_count&${Q1}&by=store`));
  assert.deepEqual(d, { fourscore_kpi_cache_hits_total: 1, fourscore_kpi_cache_misses_total: 0 });
  // February by region: the month components of the second request, 2 hits
  d = await delta(names, () => kpi('ids=service.ro_count,service.revenue&from=2023-02-01&to=2023-02-28&by=region'));
  assert.deepEqual(d, { fourscore_kpi_cache_hits_total: 2, fourscore_kpi_cache_misses_total: 0 });
  // the same answer again: served whole from the answer cache, no component is looked up
  d = await delta(names, () => kpi(`ids=service.ro_count&${Q1}&by=store`));
  assert.deepEqual(d, { fourscore_kpi_cache_hits_total: 0, fourscore_kpi_cache_misses_total: 0 });
  // an import drops the cache: the first request's components are computed again
  const r = await s.request('POST', '/api/v1/import/regions', { cookie: admin, contentType: 'text/csv', body: regionsCsv([['M4', '四区']]) });
  assert.equal(r.status, 200, r.text);
  d = await delta(names, () => kpi(`ids=service.ro_count,service.revenue&${Q1}&by=group`));
  assert.deepEqual(d, { fourscore_kpi_cache_hits_total: 0, fourscore_kpi_cache_misses_total: 2 });
});

test('plugins refused at load are counted', async () => {
  assert.equal(await counter('fourscore_plugin_load_failures_total'), 0, 'the shipped plugins all load');
  const pluginDir = pluginDirWith([['BROKEN_MAGIC', 'zz_magic.so'], ['BROKEN_NO_SYMBOL', 'zz_nosym.so'], ['BROKEN_INIT', 'zz_init.so']]
    .map(([flag, out]) => ({ src: 'tests/plugins/broken.c', out, flags: [`-D${flag}`] })), 'fs-metrics-plugins-');
  const s2 = await startServer({ args: ['--plugin-dir', pluginDir] });
  try {
    const c2 = await s2.adminCookie();
    const list = await s2.request('GET', '/api/v1/plugins', { cookie: c2 });
    assert.equal(list.json.filter((p) => p.status === 'refused').length, 3, list.text);
    const m = await s2.request('GET', '/metrics', { cookie: c2 });
    const { samples } = parseExposition(m.body);
    assert.equal(samples.find((x) => x.name === 'fourscore_plugin_load_failures_total').value, 3);
  } finally {
    assert.equal((await s2.stop()).code, 0);
  }
});

test('the strict parser refuses what Prometheus refuses', () => {
  const bad = [
    '# TYPE a counter\na{m="A"}\\x"} 1\n',
    '# TYPE a counter\na{m="x\\y"} 1\n',
    '# TYPE a counter\na{m="x"} 1\na{m="x"} 2\n',
    'a 1\n',
    '# TYPE a counter\na{m="x} 1\n',
    '# TYPE a counter\na 1',
    '# TYPE a counter\na{m="x",m="y"} 1\n',
    '# TYPE a counter\na  1\n',
    '# TYPE a counter\na{m="\n"} 1\n',
  ];
  for (const t of bad) assert.throws(() => parseExposition(Buffer.from(t)), `refused: ${JSON.stringify(t)}`);
  assert.throws(() => parseExposition(Buffer.from([0x23, 0x20, 0xff, 0x0a])), 'invalid UTF-8');
  const ok = parseExposition(Buffer.from('# HELP a x\n# TYPE a counter\na{m="q\\"\\\\\\n"} 1\n'));
  assert.equal(ok.samples[0].labels.m, 'q"\\\n');
});
