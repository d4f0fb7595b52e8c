// http: the HTTP front of a real `fourscore serve` (its own private MariaDB,
// real loopback HTTP): health up and down, static files (types, ETag/304,
// gzip siblings, cache policy, directories), JSON errors (404, 405, 413, bad
// paths), traversal attempts sent byte for byte over a raw socket (fetch
// would normalise them away), security headers, request ids, keep-alive, and
// a graceful SIGTERM that leaves no mariadbd behind.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { gunzipSync, gzipSync } from 'node:zlib';
import { mkdirSync, writeFileSync, symlinkSync, rmSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { startServer, tempDir } from './lib.mjs';

// --- a throwaway web root, with a secret next to it (outside) ---

const base = tempDir('fs-http-');
const webRoot = join(base, 'www');
const SECRET = 'SECRET-OUTSIDE-THE-WEB-ROOT-7f3a';
const css = 'body { color: #333; }\n'.repeat(500);              // ~11 KB
const indexHtml = '<!doctype html><html lang="zh-CN"><title>门店售后看板</title></html>\n';

function buildWebRoot() {
  writeFileSync(join(base, 'secret.txt'), SECRET);
  mkdirSync(join(webRoot, 'css'), { recursive: true });
  mkdirSync(join(webRoot, 'assets'));
  mkdirSync(join(webRoot, 'reports'));
  mkdirSync(join(webRoot, 'empty'));
  writeFileSync(join(webRoot, 'index.html'), indexHtml);
  writeFileSync(join(webRoot, 'css', 'app.css'), css);
  writeFileSync(join(webRoot, 'css', 'app.css.gz'), gzipSync(css));
  writeFileSync(join(webRoot, 'css', 'plain.css'), 'p{}\n');
  writeFileSync(join(webRoot, 'assets', 'app.3f9a2c1b.js'), 'export const x = 1;\n');
  writeFileSync(join(webRoot, 'assets', 'data.json'), '{"a":1}');
  writeFileSync(join(webRoot, 'assets', 'logo.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
  writeFileSync(join(webRoot, 'reports', 'index.html'), '<!doctype html><title>报表</title>\n');
  mkdirSync(join(webRoot, '门店 报表'));
  writeFileSync(join(webRoot, '门店 报表', 'index.html'), '<!doctype html><title>门店报表</title>\n');
  writeFileSync(join(webRoot, '.env'), SECRET);
  // a big file, served from its descriptor rather than from memory
  writeFileSync(join(webRoot, 'assets', 'big.bin'), Buffer.alloc(3 * 1024 * 1024, 0x5a));
  symlinkSync('../secret.txt', join(webRoot, 'evil.txt'));
  symlinkSync(base, join(webRoot, 'up'));
  symlinkSync('index.html', join(webRoot, 'home.html'));        // inside: allowed
}

let s;
before(async () => {
  buildWebRoot();
  s = await startServer({ webRoot });
});
after(async () => {
  if (s && s.proc.exitCode === null) await s.stop();
  rmSync(base, { recursive: true, force: true });
});

// --- raw HTTP/1.1 over one socket ---

// Read one response from the socket's buffered stream; resolves {status, headers, body}.
function readResponse(state) {
  return new Promise((resolve, reject) => {
    const tryParse = () => {
      const end = state.buf.indexOf('\r\n\r\n');
      if (end < 0) return false;
      const head = state.buf.subarray(0, end).toString('latin1').split('\r\n');
      const status = Number(head[0].split(' ')[1]);
      const headers = {};
      for (const line of head.slice(1)) {
        const i = line.indexOf(':');
        headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
      }
      const len = Number(headers['content-length'] ?? 0);
      if (state.buf.length < end + 4 + len) return false;
      const body = state.buf.subarray(end + 4, end + 4 + len);
      state.buf = state.buf.subarray(end + 4 + len);
      resolve({ status, headers, body, text: body.toString('utf8') });
      return true;
    };
    if (tryParse()) return;
    const onData = () => { if (tryParse()) cleanup(); };
    const onEnd = () => { cleanup(); reject(new Error('connection closed before a full response: ' + state.buf.toString('latin1').slice(0, 200))); };
    const cleanup = () => { state.sock.off('data', onData); state.sock.off('end', onEnd); state.sock.off('close', onEnd); };
    state.sock.on('data', onData);
    state.sock.on('end', onEnd);
    state.sock.on('close', onEnd);
  });
}

async function openSocket() {
  const sock = net.connect(s.port, '127.0.0.1');
  await new Promise((resolve, reject) => { sock.once('connect', resolve); sock.once('error', reject); });
  const state = { sock, buf: Buffer.alloc(0) };
  sock.on('data', (d) => { state.buf = Buffer.concat([state.buf, d]); });
  return state;
}

// Send a request target exactly as written.
async function rawGet(target, extra = '') {
  const state = await openSocket();
  state.sock.write(`GET ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n${extra}\r\n`);
  try { return await readResponse(state); } finally { state.sock.destroy(); }
}

function assertJsonError(r, status, code) {
  assert.equal(r.status, status, r.text);
  const ct = r.headers.get ? r.headers.get('content-type') : r.headers['content-type'];
  assert.match(ct, /^application\/json/);
  const j = JSON.parse(r.text);
  assert.equal(typeof j.error, 'object');
  if (code) assert.equal(j.error.code, code);
  assert.equal(typeof j.error.message, 'string');
  assert.ok(j.error.message.length > 0);
  assert.ok(Array.isArray(j.error.details));
}

function assertSecurityHeaders(h, label) {
  const get = (n) => (h.get ? h.get(n) : h[n]);
  const csp = get('content-security-policy');
  assert.ok(csp, `${label}: CSP`);
  for (const d of ["default-src 'self'", "script-src 'self'", "style-src 'self'", "img-src 'self' data:",
    "frame-ancestors 'none'", "base-uri 'none'", "form-action 'self'"]) assert.ok(csp.includes(d), `${label}: CSP has ${d}`);
  assert.ok(!/unsafe-inline|unsafe-eval/.test(csp), `${label}: no inline script in CSP`);
  assert.equal(get('x-content-type-options'), 'nosniff', label);
  assert.match(get('referrer-policy'), /^(same-origin|no-referrer)$/, label);
  assert.equal(get('x-frame-options'), 'DENY', label);
  assert.match(get('x-request-id') || '', /^[0-9a-f]{8,}$/, `${label}: X-Request-Id`);
}

// --- health ---

test('health answers 200 ok with the database up', async () => {
  const r = await s.request('GET', '/api/v1/health');
  assert.equal(r.status, 200);
  assert.deepEqual(r.json, { status: 'ok', db: 'ok' });
  assert.equal(r.headers.get('cache-control'), 'no-store');
  assertSecurityHeaders(r.headers, 'health');
});

test('HEAD on health has the headers and no body', async () => {
  const r = await s.request('HEAD', '/api/v1/health');
  assert.equal(r.status, 200);
  assert.equal(r.body.length, 0);
});

// --- static files ---

test('/ is index.html: html, no-cache, ETag, Last-Modified', async () => {
  const r = await s.request('GET', '/');
  assert.equal(r.status, 200);
  assert.equal(r.text, indexHtml);
  assert.equal(r.headers.get('content-type'), 'text/html; charset=utf-8');
  assert.equal(r.headers.get('cache-control'), 'no-cache');
  assert.match(r.headers.get('etag'), /^"[^"]+"$/);
  assert.ok(!Number.isNaN(Date.parse(r.headers.get('last-modified'))));
  assertSecurityHeaders(r.headers, 'index.html');
});

test('content types by extension', async () => {
  const want = {
    '/css/plain.css': 'text/css; charset=utf-8',
    '/assets/app.3f9a2c1b.js': 'text/javascript; charset=utf-8',
    '/assets/data.json': 'application/json; charset=utf-8',
    '/assets/logo.svg': 'image/svg+xml',
    '/home.html': 'text/html; charset=utf-8',
  };
  for (const [path, type] of Object.entries(want)) {
    const r = await s.request('GET', path);
    assert.equal(r.status, 200, path);
    assert.equal(r.headers.get('content-type'), type, path);
  }
});

test('a hashed asset is cached for a year, immutable', async () => {
  const r = await s.request('GET', '/assets/app.3f9a2c1b.js');
  assert.equal(r.status, 200);
  assert.match(r.headers.get('cache-control'), /max-age=31536000/);
  assert.match(r.headers.get('cache-control'), /immutable/);
  const plain = await s.request('GET', '/css/plain.css');
  assert.equal(plain.headers.get('cache-control'), 'no-cache');
});

test('ETag then If-None-Match: 304 without a body; a changed file gets a new ETag', async () => {
  const r1 = await s.request('GET', '/css/plain.css');
  const etag = r1.headers.get('etag');
  const r2 = await s.request('GET', '/css/plain.css', { headers: { 'if-none-match': etag } });
  assert.equal(r2.status, 304);
  assert.equal(r2.body.length, 0);
  assert.equal(r2.headers.get('etag'), etag);
  assertSecurityHeaders(r2.headers, '304');
  const r3 = await s.request('GET', '/css/plain.css', { headers: { 'if-none-match': '"something-else"' } });
  assert.equal(r3.status, 200);
  const r4 = await s.request('GET', '/css/plain.css', { headers: { 'if-modified-since': r1.headers.get('last-modified') } });
  assert.equal(r4.status, 304);

  // change the file: within the cache's re-check time (1 s) the new bytes are served
  writeFileSync(join(webRoot, 'css', 'plain.css'), 'p{color:red}\n');
  const later = new Date(Date.now() + 5000);
  utimesSync(join(webRoot, 'css', 'plain.css'), later, later);
  await new Promise((r) => setTimeout(r, 1200));
  const r5 = await s.request('GET', '/css/plain.css', { headers: { 'if-none-match': etag } });
  assert.equal(r5.status, 200);
  assert.equal(r5.text, 'p{color:red}\n');
  assert.notEqual(r5.headers.get('etag'), etag);
});

test('gzip sibling: served compressed when accepted, plain otherwise, Vary on both', async () => {
  const gz = await rawGet('/css/app.css', 'Accept-Encoding: gzip, deflate\r\n');
  assert.equal(gz.status, 200);
  assert.equal(gz.headers['content-encoding'], 'gzip');
  assert.equal(gz.headers['vary'], 'Accept-Encoding');
  assert.equal(gz.headers['content-type'], 'text/css; charset=utf-8');
  assert.ok(gz.body.length < css.length / 4, 'the compressed body is smaller');
  assert.equal(gunzipSync(gz.body).toString('utf8'), css);

  const plain = await rawGet('/css/app.css');
  assert.equal(plain.status, 200);
  assert.equal(plain.headers['content-encoding'], undefined);
  assert.equal(plain.headers['vary'], 'Accept-Encoding');
  assert.equal(plain.text, css);
  assert.notEqual(plain.headers['etag'], gz.headers['etag'], 'each variant has its own ETag');

  const refused = await rawGet('/css/app.css', 'Accept-Encoding: gzip;q=0, identity\r\n');
  assert.equal(refused.headers['content-encoding'], undefined, 'gzip;q=0 is a refusal');

  const again = await rawGet('/css/app.css', `Accept-Encoding: gzip\r\nIf-None-Match: ${gz.headers['etag']}\r\n`);
  assert.equal(again.status, 304);
});

test('a deleted file stops being served (after the cache re-check)', async () => {
  writeFileSync(join(webRoot, 'css', 'gone.css'), 'g{}\n');
  assert.equal((await s.request('GET', '/css/gone.css')).status, 200);
  rmSync(join(webRoot, 'css', 'gone.css'));
  await new Promise((r) => setTimeout(r, 1200));
  assertJsonError(await s.request('GET', '/css/gone.css'), 404, 'not_found');
});

test('a large file is served whole', async () => {
  const r = await s.request('GET', '/assets/big.bin');
  assert.equal(r.status, 200);
  assert.equal(r.body.length, 3 * 1024 * 1024);
  assert.ok(r.body.every((b) => b === 0x5a));
});

test('directories: index.html with a slash, a redirect without, 404 when it has none', async () => {
  const r = await s.request('GET', '/reports/');
  assert.equal(r.status, 200);
  assert.match(r.text, /报表/);
  const redirect = await s.request('GET', '/reports');
  assert.equal(redirect.status, 301);
  assert.equal(redirect.headers.get('location'), '/reports/');
  assertJsonError(await s.request('GET', '/empty/'), 404, 'not_found');
  // a name with spaces and Chinese: the Location is %-encoded, and it works
  const zh = await s.request('GET', '/' + encodeURIComponent('门店 报表'));
  assert.equal(zh.status, 301);
  const loc = zh.headers.get('location');
  assert.equal(loc, '/' + encodeURIComponent('门店 报表') + '/');
  const page = await s.request('GET', loc);
  assert.equal(page.status, 200);
  assert.match(page.text, /门店报表/);
});

test('an absolute-form request target is served by its path', async () => {
  const r = await rawGet(`http://127.0.0.1:${s.port}/css/plain.css`);
  assert.equal(r.status, 200);
  assert.equal(r.headers['content-type'], 'text/css; charset=utf-8');
  const bad = await rawGet(`http://127.0.0.1:${s.port}/../secret.txt`);
  assert.equal(bad.status, 400);
  assert.ok(!bad.text.includes(SECRET));
});

test('a missing file is a JSON 404, never an HTML page', async () => {
  const r = await s.request('GET', '/nope.js');
  assertJsonError(r, 404, 'not_found');
  assertSecurityHeaders(r.headers, '404');
  assertJsonError(await s.request('GET', '/.env'), 404, 'not_found');
});

// --- API errors ---

test('unknown /api/v1 route: JSON 404 not_found', async () => {
  const r = await s.request('GET', '/api/v1/no-such-thing');
  assertJsonError(r, 404, 'not_found');
  assert.equal(r.headers.get('cache-control'), 'no-store');
  assertSecurityHeaders(r.headers, 'api 404');
  assertJsonError(await s.request('POST', '/api/v2/health'), 404, 'not_found');
  assertJsonError(await s.request('GET', '/api'), 404, 'not_found');
});

test('wrong method: JSON 405 with Allow', async () => {
  const r = await s.request('DELETE', '/api/v1/health');
  assertJsonError(r, 405, 'method_not_allowed');
  assert.match(r.headers.get('allow'), /GET/);
  const st = await s.request('POST', '/index.html', { body: 'x', contentType: 'text/plain' });
  assertJsonError(st, 405, 'method_not_allowed');
  assert.equal(st.headers.get('allow'), 'GET, HEAD');
});

test('a body over 1 MiB on an ordinary route: JSON 413 body_too_large', async () => {
  const big = Buffer.alloc(1024 * 1024 + 1, 0x61);
  const r = await s.request('POST', '/api/v1/session', { body: big, contentType: 'application/json' });
  assertJsonError(r, 413, 'body_too_large');
  // the server still serves afterwards
  assert.equal((await s.request('GET', '/api/v1/health')).status, 200);
});

test('a body of exactly 1 MiB is read whole and reaches the handler', async () => {
  // 1 MiB of padding in a JSON login: the handler answers (401 or 400), not 413
  const pad = 'x'.repeat(1024 * 1024 - 64);
  const body = JSON.stringify({ username: 'nobody', password: 'p', pad }).padEnd(1024 * 1024, ' ');
  assert.equal(Buffer.byteLength(body), 1024 * 1024);
  const r = await s.request('POST', '/api/v1/session', { body, contentType: 'application/json' });
  assert.notEqual(r.status, 413, r.text);
  assert.ok(r.status >= 400 && r.status < 500, r.text);
  assert.equal(typeof r.json?.error?.code, 'string');
});

test('a huge announced body is refused at once, before it is sent', async () => {
  const state = await openSocket();
  state.sock.write('POST /api/v1/session HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n' +
    'Content-Length: 5000000000\r\nExpect: 100-continue\r\n\r\n');
  const r = await readResponse(state);
  state.sock.destroy();
  assertJsonError(r, 413, 'body_too_large');
});

// --- the router's authorization ---

async function createToken(name, kind) {
  const out = await s.cli(['token', 'create', name, kind]);
  assert.equal(out.code, 0, out.stderr);
  const lines = out.stdout.trim().split('\n');
  return lines[lines.length - 1].trim();
}

test('router: no credentials 401, bad token 401, uploader and metrics tokens 403 off their routes', async () => {
  assertJsonError(await s.request('GET', '/api/v1/me'), 401, 'unauthorized');
  assertJsonError(await s.request('GET', '/api/v1/me', { token: 'not-a-real-token' }), 401, 'unauthorized');
  const uploader = await createToken('http-up', '--all-stores');
  const metrics = await createToken('http-metrics', '--metrics');
  const up = await s.request('GET', '/api/v1/me', { token: uploader });
  assertJsonError(up, 403, 'forbidden');
  assertSecurityHeaders(up.headers, '403');
  assertJsonError(await s.request('GET', '/api/v1/kpis', { token: uploader }), 403, 'forbidden');
  assertJsonError(await s.request('GET', '/api/v1/me', { token: metrics }), 403, 'forbidden');
  assertJsonError(await s.request('POST', '/api/v1/import/stores', { token: metrics, body: 'code\n', contentType: 'text/csv' }), 403, 'forbidden');
  // a refused upload is answered without being imported, and the connection is fine after
  assert.equal((await s.request('GET', '/api/v1/health')).status, 200);
});

test('router: an admin session reaches a user route, and the access line names the caller', async () => {
  const cookie = await s.adminCookie();
  const r = await s.request('GET', '/api/v1/me', { cookie });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.username, 'admin');
  assert.equal(r.headers.get('cache-control'), 'no-store');
  const id = r.headers.get('x-request-id');
  await new Promise((res) => setTimeout(res, 100));
  const line = s.logs().split('\n').filter((l) => l.includes(id) && l.includes('"access"')).map((l) => JSON.parse(l))[0];
  assert.ok(line, 'an access line');
  assert.equal(line.who, 'admin');
});

test('a streamed route (import) takes a body well past 1 MiB', async () => {
  // 40,000 regions, ~3 MB: over the ordinary limit, so only a streamed body gets through
  const n = 40000;
  let csv = 'region_code,name\n';
  for (let i = 0; i < n; i++) csv += `HR${String(i).padStart(6, '0')},${'华南测试大区'.repeat(3)}${i}\n`;
  assert.ok(Buffer.byteLength(csv) > 2 * 1024 * 1024);
  const token = await createToken('http-up-big', '--all-stores');
  const r = await s.request('POST', '/api/v1/import/regions', { token, body: csv, contentType: 'text/csv' });
  assert.equal(r.status, 200, r.text.slice(0, 500));
  assert.equal(r.json.entity, 'regions');
  assert.equal(r.json.rows, n);
});

// --- traversal: byte for byte over a socket ---

test('traversal attempts never return a file outside the web root', async () => {
  const attempts = [
    '/../secret.txt',
    '/../../../../etc/passwd',
    '/css/../../secret.txt',
    '/%2e%2e/secret.txt',
    '/%2E%2E/%2E%2E/etc/passwd',
    '/.%2e/secret.txt',
    '/css/%2e%2e/%2e%2e/secret.txt',
    '/..%2fsecret.txt',
    '/css%2f..%2f..%2fsecret.txt',
    '/css%5c..%5c..%5csecret.txt',
    '/css\\..\\..\\secret.txt',
    '/index.html%00.txt',
    '/evil.txt',
    '/up/secret.txt',
    '/.env',
    '/%2e%2e%2fsecret.txt',
    '/..;/secret.txt',
  ];
  for (const target of attempts) {
    const r = await rawGet(target);
    assert.ok(!r.text.includes(SECRET) && !r.text.includes('root:x:0:0'), `${target} leaked a file`);
    assert.ok([400, 403, 404].includes(r.status), `${target}: status ${r.status}`);
    assert.match(r.headers['content-type'] || '', /^application\/json/, `${target}: a JSON error`);
    assert.equal(typeof JSON.parse(r.text).error.code, 'string', target);
  }
  // the symlink out is refused by name, not just missing
  const evil = await rawGet('/evil.txt');
  assert.equal(evil.status, 403);
  // an in-root symlink still works
  assert.equal((await rawGet('/home.html')).status, 200);
});

// --- request ids and access lines ---

test('every request gets its own X-Request-Id, found in its access line', async () => {
  const a = await s.request('GET', '/api/v1/health');
  const b = await s.request('GET', '/css/plain.css');
  const ida = a.headers.get('x-request-id');
  const idb = b.headers.get('x-request-id');
  assert.notEqual(ida, idb);
  await new Promise((r) => setTimeout(r, 100));
  const lines = s.logs().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
  const access = lines.find((l) => l.sub === 'access' && l.req === ida);
  assert.ok(access, 'an access line for the health request');
  assert.equal(access.method, 'GET');
  assert.equal(access.path, '/api/v1/health');
  assert.equal(access.status, 200);
  assert.equal(typeof access.ms, 'number');
  assert.ok(lines.some((l) => l.sub === 'access' && l.req === idb && l.path === '/css/plain.css'));
});

// --- keep-alive ---

test('keep-alive: two requests, then a third, on one connection', async () => {
  const state = await openSocket();
  let closed = false;
  state.sock.on('close', () => { closed = true; });
  state.sock.write('GET /api/v1/health HTTP/1.1\r\nHost: x\r\n\r\n');
  const r1 = await readResponse(state);
  assert.equal(r1.status, 200);
  state.sock.write('GET /css/plain.css HTTP/1.1\r\nHost: x\r\n\r\n');
  const r2 = await readResponse(state);
  assert.equal(r2.status, 200);
  // an error answer does not cost the connection either
  state.sock.write('GET /api/v1/nothing HTTP/1.1\r\nHost: x\r\n\r\n');
  const r3 = await readResponse(state);
  assert.equal(r3.status, 404);
  assert.equal(closed, false, 'the connection stayed open');
  assert.notEqual(r1.headers['x-request-id'], r2.headers['x-request-id']);
  state.sock.destroy();
});

// --- the database going away (runs last but one: it kills the database) ---

test('health: 503 down, fast, when the database is gone; 200 when it is back', async () => {
  await s.killDb();
  const t0 = Date.now();
  const r = await s.request('GET', '/api/v1/health');
  const ms = Date.now() - t0;
  assert.equal(r.status, 503);
  assert.deepEqual(r.json, { status: 'down', db: 'down' });
  assert.ok(ms < 2000, `answered in ${ms} ms`);
  // static files do not need the database
  assert.equal((await s.request('GET', '/css/plain.css')).status, 200);
  await s.restartDb();              // waits for health 200
  assert.equal((await s.request('GET', '/api/v1/health')).status, 200);
});

// --- graceful stop (last) ---

test('SIGTERM: a request in flight finishes, new connections are refused, exit 0, no mariadbd left', async () => {
  const token = await createToken('http-up-stop', '--all-stores');
  const csv = 'region_code,name\nSTOP1,停机测试一\nSTOP2,停机测试二\n';
  const half = Math.floor(csv.length / 2);
  const body = Buffer.from(csv);
  const state = await openSocket();
  state.sock.write(`POST /api/v1/import/regions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\n` +
    `Content-Type: text/csv\r\nContent-Length: ${body.length}\r\n\r\n`);
  state.sock.write(body.subarray(0, half));
  await new Promise((r) => setTimeout(r, 300));
  s.proc.kill('SIGTERM');                       // the upload is half sent
  await new Promise((r) => setTimeout(r, 500));
  // no new connections once stopping
  const refused = await new Promise((resolve) => {
    const c = net.connect(s.port, '127.0.0.1');
    c.once('connect', () => { c.destroy(); resolve(false); });
    c.once('error', () => resolve(true));
  });
  assert.ok(refused, 'a new connection is refused while stopping');
  state.sock.write(body.subarray(half));
  const r = await readResponse(state);
  state.sock.destroy();
  assert.equal(r.status, 200, r.text);
  assert.equal(JSON.parse(r.text).rows, 2);
  const res = await s.stop('SIGTERM');
  assert.equal(res.code, 0, s.stderr());
  assert.deepEqual(res.leftover, []);
});
