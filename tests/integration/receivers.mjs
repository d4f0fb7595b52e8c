// receivers: the real receivers of the alert tests, on loopback only. A
// webhook receiver (node http) that records every POST and answers as its
// path says, and an SMTP server (tests/integration/smtp_receiver.py, on
// aiosmtpd) whose messages are read back parsed by Python's email package.
//
//   const hooks = await startWebhooks();   // hooks.url('/ok'), hooks.received('/ok')
//   const smtp = await startSmtp();        // smtp.url, await smtp.messages()
//
// Paths: /fail-once-* answers 500 to its first request and then 200; /dead*
// answers 500 always; /slow* waits 8 s (past the sender's 5 s limit); any
// other answers 200 {"errcode":0,"errmsg":"ok"} as the WeCom and DingTalk robots do.
import http from 'node:http';
import net from 'node:net';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

export async function startWebhooks() {
  const got = [];          // {path, status, body, json, at}
  const seen = new Map();  // path -> requests so far
  const server = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (d) => { body += d; });
    req.on('end', () => {
      const n = (seen.get(req.url) || 0) + 1;
      seen.set(req.url, n);
      let status = 200;
      if (req.url.startsWith('/fail-once') && n === 1) status = 500;
      if (req.url.startsWith('/dead')) status = 500;
      let json;
      try { json = JSON.parse(body); } catch { json = undefined; }
      const answer = () => {
        got.push({ path: req.url, method: req.method, status, body, json, contentType: req.headers['content-type'], at: Date.now() });
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(status === 200 ? '{"errcode":0,"errmsg":"ok"}' : '{"error":"down"}');
      };
      if (req.url.startsWith('/slow')) setTimeout(answer, 8000); else answer();
    });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const port = server.address().port;
  return {
    port,
    url: (path) => `http://127.0.0.1:${port}${path}`,
    all: () => got.slice(),
    // the requests to path answered 200 (delivered), or every request with all=true
    received: (path, all = false) => got.filter((g) => g.path === path && (all || g.status === 200)),
    close: () => new Promise((r) => { server.closeAllConnections?.(); server.close(() => r()); }),
  };
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
  });
}

export async function startSmtp() {
  const dir = mkdtempSync(join(tmpdir(), 'fs-smtp-'));
  const port = await freePort();
  // Debian's python (the one python3-aiosmtpd installs into), whatever python3 the PATH finds first
  const python = process.env.FOURSCORE_TEST_PYTHON || '/usr/bin/python3';
  const p = spawn(python, [join(here, 'smtp_receiver.py'), String(port), dir], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  p.stderr.on('data', (d) => { err += d; });
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the SMTP receiver did not start: ' + err)), 20000);
    let out = '';
    p.stdout.on('data', (d) => { out += d; if (/ready/.test(out)) { clearTimeout(timer); resolve(); } });
    p.on('close', (code) => { clearTimeout(timer); reject(new Error(`the SMTP receiver exited (${code}): ${err}`)); });
  });
  return {
    port,
    url: `smtp://127.0.0.1:${port}`,
    messages() {
      return readdirSync(dir).filter((f) => f.endsWith('.json')).sort((a, b) => parseInt(a, 10) - parseInt(b, 10))
        .map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')));
    },
    async close() {
      p.kill('SIGINT');
      await new Promise((r) => { if (p.exitCode !== null) r(); else p.on('close', r); setTimeout(r, 5000); });
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

// Wait until fn() is true (polling), or throw with what(): the state seen last.
export async function waitFor(fn, what, ms = 20000) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await fn()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('timed out waiting: ' + (typeof what === 'function' ? what() : what));
}
