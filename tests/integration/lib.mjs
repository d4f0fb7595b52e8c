// lib: the integration tests' harness. Starts the real `fourscore serve` on a
// free loopback port with its own data dir (so its own private MariaDB, through
// the product's local mode), speaks HTTP to it, runs CLI subcommands against
// the same data dir, and can stop and restart the database under the server.
//
//   const s = await startServer();            // admin password: s.adminPassword
//   const r = await s.request('GET', '/api/v1/health');
//   const cookie = await s.login('admin', s.adminPassword);
//   const out = await s.cli(['token', 'create', 'up1', '--store', 'GZ01']);
//   await s.stop();                            // SIGTERM; resolves to the exit code
//
// The binary is FOURSCORE_BIN (the test script points it at the sanitizer
// build), else build/fourscore of this checkout.
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, readdirSync, readFileSync, writeFileSync, existsSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const bin = process.env.FOURSCORE_BIN || join(root, 'build', 'fourscore');
export const fixtures = join(root, 'tests', 'fixtures');

// Cheap password hashing for tests (the product's floor), a known admin password.
const baseEnv = {
  FOURSCORE_PWHASH_OPSLIMIT: '1',
  FOURSCORE_PWHASH_MEMLIMIT: String(8 * 1024 * 1024),
  FOURSCORE_ADMIN_PASSWORD: 'admin-pass-1234',
  // the tests' data is small: the pool local mode sizes by the machine's memory is not needed
  FOURSCORE_LOCALDB_BUFFER_POOL: '256M',
};

const STOP_MS = 60000;   // how long a stopping server or mariadbd may take
const live = new Set();
process.on('exit', () => { for (const p of live) { try { p.kill('SIGKILL'); } catch { /* gone */ } } });

export function tempDir(prefix = 'fs-') {
  return mkdtempSync(join(tmpdir(), prefix));
}

// A plugin directory of the test's own: the built plugins, linked, and each
// of extra ({src: a C file of the repository, out: the .so's name, flags:
// more cc flags}) built against the public header alone. Returns its path.
export function pluginDirWith(extra = [], prefix = 'fs-plugins-') {
  const dir = tempDir(prefix);
  const built = join(dirname(bin), 'plugins');
  for (const f of readdirSync(built).filter((f) => f.endsWith('.so'))) symlinkSync(join(built, f), join(dir, f));
  for (const { src, out, flags = [] } of extra)
    execFileSync('cc', ['-std=c11', '-shared', '-fPIC', '-I', join(root, 'core', 'include'), ...flags,
      '-o', join(dir, out), join(root, src)]);
  return dir;
}

// Run `fourscore ARGS...` to completion. opts: {env, input, dataDir, timeoutMs}.
export function run(args, opts = {}) {
  return new Promise((resolveRun, reject) => {
    const env = { ...process.env, ...baseEnv, ...(opts.env || {}) };
    const full = opts.dataDir ? [...args, '--data-dir', opts.dataDir] : args;
    const p = spawn(opts.bin || bin, full, { env, stdio: ['pipe', 'pipe', 'pipe'] });
    live.add(p);
    let stdout = '', stderr = '';
    p.stdout.on('data', (d) => { stdout += d; });
    p.stderr.on('data', (d) => { stderr += d; });
    const timer = setTimeout(() => { p.kill('SIGKILL'); reject(new Error(`fourscore ${args.join(' ')} timed out\n${stderr}`)); },
      opts.timeoutMs || 300000);
    p.on('error', reject);
    p.on('close', (code, signal) => {
      clearTimeout(timer);
      live.delete(p);
      resolveRun({ code, signal, stdout, stderr });
    });
    if (opts.input !== undefined) p.stdin.end(opts.input); else p.stdin.end();
  });
}

// The mariadbd processes whose data dir lies inside dir (read from /proc).
export function mariadbPids(dir) {
  const pids = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let cmd;
    try { cmd = readFileSync(`/proc/${name}/cmdline`, 'utf8'); } catch { continue; }
    const argv = cmd.split('\0');
    if (!/mariadbd|mysqld/.test(argv[0] || '')) continue;
    if (argv.some((a) => a.startsWith('--datadir=') && a.slice('--datadir='.length).startsWith(dir))) pids.push(Number(name));
  }
  return pids;
}

function procArgv(pid) {
  return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter((a) => a.length > 0);
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function waitGone(pid, ms) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (!existsSync(`/proc/${pid}`)) return true;
    try {
      const st = readFileSync(`/proc/${pid}/stat`, 'utf8');
      if (st.split(') ')[1]?.startsWith('Z')) return true;   // zombie: exited
    } catch { return true; }
    await sleep(50);
  }
  return false;
}

// Start `fourscore serve`. opts: {env, args, dataDir, webRoot, demo, readyMs}.
export async function startServer(opts = {}) {
  const dataDir = opts.dataDir || tempDir();
  const args = ['serve', '--listen', '127.0.0.1:0', '--data-dir', dataDir, ...(opts.args || [])];
  if (opts.webRoot) args.push('--web-root', opts.webRoot);
  if (opts.demo) args.push('--demo');
  // FOURSCORE_TEST_DB_URL: run against that external database instead of local mode
  // (e.g. the Spider layout of tests/scaling/spider-setup.sh); the test then owns it alone.
  if (process.env.FOURSCORE_TEST_DB_URL && !args.includes('--db')) opts = { ...opts, env: { FOURSCORE_DB_URL: process.env.FOURSCORE_TEST_DB_URL, ...(opts.env || {}) } };
  const env = { ...process.env, ...baseEnv, ...(opts.env || {}) };
  const proc = spawn(opts.bin || bin, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  live.add(proc);
  let out = '', errText = '';
  const exited = new Promise((r) => proc.on('close', (code, signal) => { live.delete(proc); r({ code, signal }); }));
  proc.stderr.on('data', (d) => { errText += d; });
  const url = await new Promise((resolveUrl, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start in time\n${out}\n${errText}`)), opts.readyMs || 120000);
    proc.stdout.on('data', (d) => {
      out += d;
      const m = /listening on (http:\/\/[0-9.:]+)/.exec(out);
      if (m) { clearTimeout(timer); resolveUrl(m[1]); }
    });
    exited.then(({ code }) => { clearTimeout(timer); reject(new Error(`server exited (${code}) before listening\n${out}\n${errText}`)); });
  });
  const port = Number(new URL(url).port);
  const adminPassword = env.FOURSCORE_ADMIN_PASSWORD;
  let savedDbArgv = null;

  const s = {
    url, port, dataDir, proc, adminPassword,
    logs: () => out,
    stderr: () => errText,
    exited,
    // One HTTP request. opts: {body (string|Buffer|object -> JSON), headers, cookie, token, contentType}.
    async request(method, path, o = {}) {
      const headers = { ...(o.headers || {}) };
      let body = o.body;
      if (body !== undefined && typeof body === 'object' && !Buffer.isBuffer(body)) {
        body = JSON.stringify(body);
        headers['content-type'] ??= 'application/json';
      }
      if (o.contentType) headers['content-type'] = o.contentType;
      if (o.cookie) {
        headers.cookie = o.cookie;
        headers.origin ??= url;       // a browser sends Origin on writes; CSRF checks it
      }
      if (o.token) headers.authorization = `Bearer ${o.token}`;
      const res = await fetch(url + path, { method, headers, body, redirect: 'manual' });
      const buf = Buffer.from(await res.arrayBuffer());
      const text = buf.toString('utf8');
      let json;
      try { json = JSON.parse(text); } catch { json = undefined; }
      return { status: res.status, headers: res.headers, text, json, body: buf };
    },
    // POST /api/v1/session; returns the cookie header value to send back.
    async login(username, password) {
      const r = await s.request('POST', '/api/v1/session', { body: { username, password } });
      if (r.status !== 200) throw new Error(`login ${username}: ${r.status} ${r.text}`);
      const set = r.headers.get('set-cookie') || '';
      return set.split(';')[0];
    },
    async adminCookie() { return s.login('admin', adminPassword); },
    // A CLI subcommand against the same database (attaches to the running local server).
    cli(cliArgs, o = {}) { return run(cliArgs, { ...o, env: { ...(opts.env || {}), ...(o.env || {}) }, dataDir }); },
    // Writes each {entity: CSV text} into dir/<entity>.csv and imports it, in
    // the order given; a failed import throws with what the importer said.
    async importTexts(dir, texts) {
      for (const [entity, text] of Object.entries(texts)) {
        const file = join(dir, `${entity}.csv`);
        writeFileSync(file, text);
        const r = await s.cli(['import', entity, file]);
        if (r.code !== 0) throw new Error(`import ${entity}: exit ${r.code}\n${r.stdout}\n${r.stderr}`);
      }
    },
    // Kill the local mariadbd under the running server (as a crash would).
    async killDb() {
      const pids = mariadbPids(dataDir);
      if (pids.length === 0) throw new Error('no mariadbd runs for ' + dataDir);
      savedDbArgv = procArgv(pids[0]);
      for (const pid of pids) process.kill(pid, 'SIGKILL');
      for (const pid of pids) await waitGone(pid, 10000);
    },
    // Start the same mariadbd again, detached, as an operator would.
    async restartDb() {
      if (!savedDbArgv) throw new Error('restartDb without killDb');
      const logFile = join(dataDir, 'restarted-mariadbd.log');
      writeFileSync(logFile, '');
      const p = spawn(savedDbArgv[0], savedDbArgv.slice(1), { detached: true, stdio: 'ignore' });
      p.unref();
      const end = Date.now() + 30000;
      while (Date.now() < end) {
        const r = await s.request('GET', '/api/v1/health');
        if (r.status === 200) return;
        await sleep(200);
      }
      throw new Error('database did not come back');
    },
    // SIGTERM (or sig) and wait: resolves to {code, signal}; then removes the data dir.
    // A server that does not exit within STOP_MS is killed (with its mariadbd)
    // and the stop fails, naming what the server printed last.
    async stop(sig = 'SIGTERM', { keep = false } = {}) {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(sig);
      let timer;
      const late = new Promise((r) => { timer = setTimeout(() => r(null), STOP_MS); });
      const res = await Promise.race([exited, late]);
      clearTimeout(timer);
      if (res === null) {
        try { proc.kill('SIGKILL'); } catch { /* gone */ }
        for (const pid of mariadbPids(dataDir)) { try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ } }
        await exited;
        throw new Error(`server did not exit within ${STOP_MS / 1000} s of ${sig}; its last output:\n${errText.slice(-3000)}`);
      }
      // a mariadbd we restarted by hand is not the server's to stop (its shutdown
      // may take long on a loaded machine: as long as a server's may)
      if (savedDbArgv) for (const pid of mariadbPids(dataDir)) { try { process.kill(pid, 'SIGTERM'); } catch { /* gone */ } await waitGone(pid, STOP_MS); }
      res.leftover = mariadbPids(dataDir);
      if (!keep && !opts.dataDir) rmSync(dataDir, { recursive: true, force: true });
      return res;
    },
  };
  return s;
}

// A plain MariaDB server of the test's own (not Fourscore's local mode): for
// tests that point --db at an external server, as a deployment does. Listens
// on a socket in dir only. Returns {socket, url(db), stop(), start()}.
export async function startMariadb(dir, opts = {}) {   // opts.args: more mariadbd options (later ones win)
  const datadir = join(dir, 'data');
  const socket = join(dir, 'm.sock');
  mkdirSync(join(dir, 'tmp'), { recursive: true });   // its own tmpdir: a starting mariadbd empties its tmpdir
  const init = await new Promise((res) => {
    const p = spawn('mariadb-install-db', ['--no-defaults', '--user=root', `--datadir=${datadir}`, `--tmpdir=${join(dir, 'tmp')}`,
      '--auth-root-authentication-method=normal', '--skip-test-db'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let e = ''; p.stderr.on('data', (d) => { e += d; }); p.stdout.on('data', () => {});
    p.on('close', (code) => res({ code, e }));
  });
  if (init.code !== 0) throw new Error('mariadb-install-db failed: ' + init.e);
  let proc = null;
  const args = ['--no-defaults', `--datadir=${datadir}`, `--socket=${socket}`, `--tmpdir=${join(dir, 'tmp')}`, '--skip-networking', '--skip-log-bin',
    '--innodb-log-file-size=16M', '--innodb-buffer-pool-size=64M', `--pid-file=${join(dir, 'm.pid')}`,
    `--log-error=${join(dir, 'm.err')}`, ...(process.getuid?.() === 0 ? ['--user=root'] : []), ...(opts.args || [])];
  const m = {
    socket,
    url: (db) => `mariadb://root:@localhost/${db}?socket=${socket}`,
    async start() {
      proc = spawn('mariadbd', args, { stdio: 'ignore' });
      live.add(proc);
      proc.on('close', () => live.delete(proc));
      const end = Date.now() + 30000;
      while (Date.now() < end) {
        const r = await m.sql('SELECT 1').catch(() => null);
        if (r && r.code === 0) return;
        await sleep(100);
      }
      throw new Error('mariadbd did not start: ' + readFileSync(join(dir, 'm.err'), 'utf8').slice(-2000));
    },
    // Run SQL with the mariadb client: {code, stdout, stderr}.
    sql(text, db) {
      return new Promise((res) => {
        const p = spawn('mariadb', ['--no-defaults', '-uroot', `--socket=${socket}`, '-N', '-B', ...(db ? [db] : []), '-e', text], { stdio: ['ignore', 'pipe', 'pipe'] });
        let o = '', e = ''; p.stdout.on('data', (d) => { o += d; }); p.stderr.on('data', (d) => { e += d; });
        p.on('close', (code) => res({ code, stdout: o, stderr: e }));
      });
    },
    async stop() {
      if (!proc || proc.exitCode !== null) return;
      proc.kill('SIGTERM');
      let timer;
      const gone = await Promise.race([new Promise((r) => proc.on('close', () => r(true))),
        new Promise((r) => { timer = setTimeout(() => r(false), STOP_MS); })]);
      clearTimeout(timer);
      if (!gone) {
        proc.kill('SIGKILL');
        throw new Error(`mariadbd did not exit within ${STOP_MS / 1000} s of SIGTERM`);
      }
    },
  };
  return m;
}
