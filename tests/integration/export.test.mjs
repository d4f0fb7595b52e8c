// export: CSV and .xlsx downloads (POST /api/v1/export) as a hostile table
// would try to abuse a spreadsheet: text cells starting with = + - @ TAB or
// CR never become formulas, numbers that are not finite (JSON 1e999 is
// infinity) are never written as inf / nan / INF; and error answers that
// echo a path, a name or a parameter (404s above all) never carry invalid
// UTF-8. The
// workbook is unzipped here with a small zip reader on node's zlib.
// Expected files are written out by hand below.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { inflateRawSync } from 'node:zlib';
import { startServer } from './lib.mjs';

let s, admin;

before(async () => {
  s = await startServer();
  admin = await s.adminCookie();
});

after(async () => {
  if (!s) return;
  const res = await s.stop();
  assert.doesNotMatch(s.stderr(), /Sanitizer|runtime error/, s.stderr().slice(-4000));
  assert.equal(res.code, 0, 'the server exits 0');
});

// The table, as JSON text: 1e999 and -1e999 cannot come out of JSON.stringify.
const TABLE = `{"filename":"hostile","title":"t",
  "columns":[{"title":"门店","type":"text"},{"title":"=cmd|' /C calc'!A0","type":"number"},{"title":"比率","type":"percent"}],
  "rows":[
    ["\\tTAB=1+1", 1e999, -1e999],
    ["\\rCR=1+1", 1.5, 0.25],
    ["=1+1", null, "x"],
    ["+1", "-2", "@SUM(A1)"],
    ["plain \\"q\\"", 0, -0.5],
    ["a\\tb", -1e400, 1e-400]
  ]}`;

function exportAs(format) {
  return s.request('POST', `/api/v1/export?format=${format}`, { cookie: admin, contentType: 'application/json', body: TABLE });
}

test('CSV: formula leads (= + - @ TAB CR) get a quote mark, non-finite numbers are empty cells', async () => {
  const r = await exportAs('csv');
  assert.equal(r.status, 200, r.text);
  assert.match(r.headers.get('content-type'), /^text\/csv/);
  const expected = '\uFEFF' + [
    '"门店","\'=cmd|\' /C calc\'!A0","比率"',
    '"\'\tTAB=1+1",,',          // 1e999 and -1e999: empty cells
    '"\'\rCR=1+1",1.5,0.25',
    '"\'=1+1",,"x"',
    '"\'+1","\'-2","\'@SUM(A1)"',
    '"plain ""q""",0,-0.5',
    '"a\tb",,0',                 // -1e400 is -infinity: empty; 1e-400 underflows to 0
  ].join('\r\n') + '\r\n';
  assert.equal(r.text, expected);
  assert.doesNotMatch(r.text, /inf|nan/i, 'no inf or nan anywhere');
});

// --- a small zip reader: the central directory, then each entry (stored or deflated) ---
function unzip(buf) {
  let eocd = -1;
  for (let i = buf.length - 22; i >= 0; i--) if (buf.readUInt32LE(i) === 0x06054b50) { eocd = i; break; }
  assert.ok(eocd >= 0, 'a zip file (end of central directory found)');
  const count = buf.readUInt16LE(eocd + 10);
  let p = buf.readUInt32LE(eocd + 16);
  const files = {};
  for (let n = 0; n < count; n++) {
    assert.equal(buf.readUInt32LE(p), 0x02014b50, 'a central directory entry');
    const method = buf.readUInt16LE(p + 10);
    const csize = buf.readUInt32LE(p + 20);
    const nameLen = buf.readUInt16LE(p + 28), extraLen = buf.readUInt16LE(p + 30), commentLen = buf.readUInt16LE(p + 32);
    const local = buf.readUInt32LE(p + 42);
    const name = buf.subarray(p + 46, p + 46 + nameLen).toString('utf8');
    assert.equal(buf.readUInt32LE(local), 0x04034b50, `a local header for ${name}`);
    const start = local + 30 + buf.readUInt16LE(local + 26) + buf.readUInt16LE(local + 28);
    const data = buf.subarray(start, start + csize);
    files[name] = (method === 0 ? data : inflateRawSync(data)).toString('utf8');
    p += 46 + nameLen + extraLen + commentLen;
  }
  return files;
}

test('xlsx: text is never a formula, non-finite numbers are empty cells, never <v>INF</v>', async () => {
  const r = await exportAs('xlsx');
  assert.equal(r.status, 200, r.text);
  const files = unzip(r.body);
  const sheet = files['xl/worksheets/sheet1.xml'];
  assert.ok(sheet, Object.keys(files).join(' '));
  assert.doesNotMatch(sheet, /<f[ >]/, 'no formula anywhere');
  assert.doesNotMatch(sheet, /<v>[^<]*(inf|nan)/i, 'no INF / NAN value');
  const cells = Object.fromEntries([...sheet.matchAll(/<c r="([A-Z]+\d+)"([^>]*?)(?:\/>|>(.*?)<\/c>)/g)].map((m) => [m[1], { attrs: m[2], inner: m[3] || '' }]));
  // the non-finite numbers are not written: no cell at all (B2, C2, B7)
  for (const ref of ['B2', 'C2', 'B7']) assert.equal(cells[ref], undefined, `${ref} is empty: ${JSON.stringify(cells[ref])}`);
  assert.equal(cells.B3.inner, '<v>1.5</v>');
  assert.equal(cells.C3.inner, '<v>0.25</v>');
  assert.equal(cells.C7.inner, '<v>0</v>', '1e-400 underflows to 0');
  // every text cell is a shared string, and the strings are the texts as given
  const shared = [...files['xl/sharedStrings.xml'].matchAll(/<t[^>]*>([^<]*)<\/t>/g)].map((m) => m[1]);
  const text = (ref) => { assert.match(cells[ref].attrs, /t="s"/, `${ref} is a string cell`); return shared[Number(/<v>(\d+)<\/v>/.exec(cells[ref].inner)[1])]; };
  assert.equal(text('A4'), '=1+1');
  assert.equal(text('A5'), '+1');
  assert.equal(text('B5'), '-2');
  assert.equal(text('C5'), '@SUM(A1)');
  assert.equal(text('B1'), "=cmd|' /C calc'!A0");
  assert.match(text('A2'), /^(\t|_x0009_)TAB=1\+1$/);
  assert.match(text('A3'), /^(\r|_x000D_|&#13;|&#xD;)CR=1\+1$/i);
});

test('a body with a non-number where a cell goes is still refused with the row named', async () => {
  const r = await s.request('POST', '/api/v1/export?format=csv', { cookie: admin, body: { columns: [{ title: 'a' }], rows: [['x'], [{ a: 1 }]] } });
  assert.equal(r.status, 400);
  assert.match(r.json.error.message, /rows\[1\]/);
});

// --- error answers never echo invalid UTF-8 ---

function raw(target) {
  return new Promise((resolve, reject) => {
    const sock = net.connect(s.port, '127.0.0.1');
    const chunks = [];
    sock.setTimeout(10000, () => { sock.destroy(); reject(new Error('no answer')); });
    sock.on('data', (d) => chunks.push(d));
    sock.on('error', reject);
    sock.on('close', () => {
      const all = Buffer.concat(chunks);
      const head = all.indexOf('\r\n\r\n');
      resolve({ status: Number(/^HTTP\/1\.[01] (\d{3})/.exec(all.toString('latin1'))?.[1] || 0), body: all.subarray(head + 4) });
    });
    sock.end(Buffer.concat([Buffer.from('GET '), target, Buffer.from(' HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')]));
  });
}

test('404s and other error answers that echo the path or a name are valid UTF-8', async () => {
  const cases = [
    '/api/v1/%FF%FE', '/api/v1/x%C0%AF', '/api/v1/x%ED%A0%80', '/api/v1/x%F4%90%80%80', '/api/v1/x%E4%B8',
    '/nope%FF.html', '/%E4%B8.js', '/api/v1/users/%FF%FF', '/api/v1/scorecards/%FF',
    // a parameter echoed in the message and in the details
    '/api/v1/kpi?ids=%FF%FE&from=2024-01-01&to=2024-01-31', '/api/v1/kpi?ids=service.ro_count&from=2024-01-0%FF&to=2024-01-31',
    '/api/v1/kpi?ids=service.ro_count&from=2024-01-01&to=2024-01-31&by=%C0%AF',
    // 400 x "中" (1200 bytes): the message is cut at its limit, possibly inside a character
    '/api/v1/' + '%E4%B8%AD'.repeat(400), '/x' + '%E4%B8%AD'.repeat(400),
  ];
  const decoder = new TextDecoder('utf-8', { fatal: true });
  for (const path of cases) {
    const r = await s.request('GET', path, { cookie: admin });
    assert.ok(r.status >= 400 && r.status < 500, `${path.slice(0, 40)}: ${r.status}`);
    assert.doesNotThrow(() => decoder.decode(r.body), `${path.slice(0, 40)}: the answer is valid UTF-8`);
    const j = JSON.parse(decoder.decode(r.body));
    assert.ok(j.error?.code, `${path.slice(0, 40)}: a JSON error`);
  }
  // an invalid byte is shown as U+FFFD, and the valid text around it is kept
  const r = await s.request('GET', '/api/v1/ab%FFcd', { cookie: admin });
  assert.equal(r.status, 404);
  assert.match(r.json.error.message, /没有这个接口.*\/api\/v1\/ab\uFFFDcd/);
  // raw bytes (not percent-encoded) in the request line
  for (const target of [Buffer.from([0x2f, 0x61, 0x70, 0x69, 0x2f, 0x76, 0x31, 0x2f, 0xff, 0xc3]), Buffer.from([0x2f, 0xe4, 0xb8, 0x2f, 0x78])]) {
    const a = await raw(target);
    assert.ok(a.status >= 400, `raw ${target.toString('hex')}: ${a.status}`);
    assert.doesNotThrow(() => decoder.decode(a.body), `raw ${target.toString('hex')}: the answer is valid UTF-8`);
  }
  assert.equal((await s.request('GET', '/api/v1/health')).status, 200, 'still serving');
});
