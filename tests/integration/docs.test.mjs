// docs: the repository carries its own reference, and every pointer into it
// holds. Reads the tracked files (git ls-files); needs no server, no database.
//   1. No tracked file points at contract or design files kept outside the
//      repository (a "spec" folder, a "design" page, the shared folder).
//   2. Every markdown link ](path) of a tracked .md file resolves to a tracked
//      file or folder, and its #anchor to a heading of the target page.
//   3. Every repository path a .md file names in backticks (`core/http/http.c`,
//      `schemas/`), and every docs/... path any tracked file names (a comment,
//      a --help text), exists.
//   4. Every page a tracked file names by its bare file name (`api.md`,
//      "as kpis.md says") is a page of the repository.
// A failure lists each broken reference as FILE:LINE: what, and why.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { posix } from 'node:path';
import { root } from './lib.mjs';

const tracked = execFileSync('git', ['ls-files', '-z'], { cwd: root, encoding: 'utf8' })
  .split('\0').filter(Boolean);
const trackedSet = new Set(tracked);
const trackedDirs = new Set();
for (const f of tracked) {
  for (let d = posix.dirname(f); d !== '.'; d = posix.dirname(d)) trackedDirs.add(d);
}
const topDirs = [...trackedDirs].filter((d) => !d.includes('/'));

// Text of a tracked file, or null for a binary one (a NUL byte) or one gone
// from the work tree (deleted but not yet committed).
const textCache = new Map();
function text(file) {
  if (!textCache.has(file)) {
    let t = null;
    try {
      const buf = readFileSync(posix.join(root, file));
      if (!buf.includes(0)) t = buf.toString('utf8');
    } catch { /* not in the work tree */ }
    textCache.set(file, t);
  }
  return textCache.get(file);
}

function exists(path) {
  const p = path.replace(/\/+$/, '');
  return p === '' || trackedSet.has(p) || trackedDirs.has(p);
}

function lineOf(t, index) {
  let n = 1;
  for (let i = 0; i < index; i++) if (t.charCodeAt(i) === 10) n++;
  return n;
}

// GitHub's heading anchors: lower case, punctuation dropped (letters of any
// script, digits, '-' and '_' kept), spaces to '-', repeats numbered -1, -2.
function anchorsOf(file) {
  const t = text(file) ?? '';
  const seen = new Map();
  const out = new Set();
  let fenced = false;
  for (const line of t.split('\n')) {
    if (/^\s*(```|~~~)/.test(line)) fenced = !fenced;
    if (fenced) continue;
    const m = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (!m) continue;
    const plain = m[1].replace(/`([^`]*)`/g, '$1').replace(/\[([^\]]*)\]\([^)]*\)/g, '$1');
    let slug = plain.toLowerCase().replace(/[^\p{L}\p{M}\p{N}\s_-]/gu, '').replace(/\s/g, '-');
    const n = seen.get(slug) ?? 0;
    seen.set(slug, n + 1);
    if (n > 0) slug = `${slug}-${n}`;
    out.add(slug);
  }
  return out;
}

// Folders named after the contract files kept outside the repository; the
// words are split so that this file does not name them itself.
const outside = [
  new RegExp('(?<![A-Za-z0-9_.-])' + 'spec' + '/'),
  new RegExp('(?<![A-Za-z0-9_.-])' + 'design' + '\\.md'),
  new RegExp('/' + 'work' + '/' + 'shared'),
  new RegExp('\\.\\./' + 'shared' + '/'),
];

test('no tracked file refers to contract or design files outside the repository', () => {
  const found = [];
  for (const file of tracked) {
    const t = text(file);
    if (t === null) continue;
    for (const re of outside) {
      const g = new RegExp(re.source, 'g');
      for (const m of t.matchAll(g)) {
        const ln = lineOf(t, m.index);
        found.push(`${file}:${ln}: ${t.split('\n')[ln - 1].trim().slice(0, 120)}`);
      }
    }
  }
  assert.ok(found.length === 0, 'point these at the docs/ of the repository instead:\n' + found.join('\n'));
});

test('every markdown link of a tracked .md file resolves, anchors included', () => {
  const broken = [];
  let checked = 0;
  for (const file of tracked.filter((f) => f.endsWith('.md'))) {
    const t = text(file);
    if (t === null) continue;
    // links outside fenced code blocks; inline code spans are blanked first
    const prose = t.replace(/^(```|~~~)[\s\S]*?^\1/gm, (b) => b.replace(/[^\n]/g, ' '))
      .replace(/`[^`\n]*`/g, (c) => ' '.repeat(c.length));
    for (const m of prose.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) {
      const target = m[1];
      if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue;          // http:, mailto:, ...
      checked++;
      const [pathPart, anchor] = target.split('#');
      const rel = decodeURIComponent(pathPart.split('?')[0]);
      const path = rel === '' ? file
        : rel.startsWith('/') ? rel.slice(1) : posix.normalize(posix.join(posix.dirname(file), rel));
      const where = `${file}:${lineOf(t, m.index)}: (${target})`;
      if (path.startsWith('..') || !exists(path)) { broken.push(`${where}: no such file or folder in the repository`); continue; }
      if (anchor && path.endsWith('.md') && !anchorsOf(path).has(decodeURIComponent(anchor).toLowerCase()))
        broken.push(`${where}: ${path} has no heading with the anchor #${anchor}`);
    }
  }
  assert.ok(checked > 10, `only ${checked} links found: the link pattern is wrong`);
  assert.ok(broken.length === 0, 'broken links:\n' + broken.join('\n'));
});

test('every repository path the docs name, and every docs/ path anywhere, exists', () => {
  const missing = [];
  const repoPath = new RegExp('`(' + topDirs.map((d) => d.replace(/[.]/g, '\\.')).join('|') + ')(/[^`\\s]*)?`', 'g');
  const docsPath = /(?<![A-Za-z0-9_./-])docs\/[A-Za-z0-9_./-]*[A-Za-z0-9_\/]/g;
  const placeholder = /[<>*{}]|NNN|\.\.\./;
  let checked = 0;
  for (const file of tracked) {
    const t = text(file);
    if (t === null) continue;
    const names = [];
    if (file.endsWith('.md')) for (const m of t.matchAll(repoPath)) if (m[2]) names.push([m[1] + m[2], m.index]);
    for (const m of t.matchAll(docsPath)) names.push([m[0], m.index]);
    for (const [name, index] of names) {
      if (placeholder.test(name)) continue;
      const path = name.replace(/[.,:;]+$/, '');
      checked++;
      if (!exists(path)) missing.push(`${file}:${lineOf(t, index)}: ${path} is not in the repository`);
    }
  }
  assert.ok(checked > 20, `only ${checked} paths found: the path pattern is wrong`);
  assert.ok(missing.length === 0, 'paths that do not exist:\n' + [...new Set(missing)].join('\n'));
});

test('every page named by its bare file name (api.md, kpis.md) is a page of the repository', () => {
  const pages = new Set(tracked.filter((f) => f.endsWith('.md')).map((f) => posix.basename(f)));
  const bare = /(?<![A-Za-z0-9_./-])([A-Za-z0-9_-]+\.md)(?![A-Za-z0-9_])/g;
  const missing = [];
  let checked = 0;
  for (const file of tracked) {
    const t = text(file);
    if (t === null) continue;
    for (const m of t.matchAll(bare)) {
      checked++;
      if (!pages.has(m[1])) missing.push(`${file}:${lineOf(t, m.index)}: ${m[1]} is no page of the repository`);
    }
  }
  assert.ok(checked > 50, `only ${checked} page names found: the pattern is wrong`);
  assert.ok(missing.length === 0, 'point these at a page of docs/:\n' + missing.join('\n'));
});
