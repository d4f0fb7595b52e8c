// layers: the source tree keeps the layers docs/architecture.md draws.
//  1. Every file of core/ sits in a layer folder, and includes only headers
//     of its own layer or of the layers below it (the table below).
//  2. No include cycle among core's modules (a module is X.c with X.h, or a
//     header alone); a cycle is named module by module.
//  3. No source file over 800 lines (vendored and generated files aside).
//  4. The environment is read in core/base/config.c only (config_env), so
//     that every variable the program reads is known there.
//  5. A plugin's settings are named in its plugin only: no source file of
//     core/ (the public header's comments aside) names one.
// Runs with node --test, no server; scripts/test.sh runs it with the rest.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, basename, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

// Lowest first: a layer may include its own headers and those of the layers
// above it in this list, never one below it.
export const LAYERS = ['include', 'base', 'store', 'access', 'data', 'engine', 'script', 'demo', 'http', 'cli'];
const MAX_LINES = 800;

function walk(dir, out = []) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else out.push(p);
  }
  return out;
}

function sources() {
  return walk(join(root, 'core')).filter((p) => /\.[ch]$/.test(p));
}

// layer of a core file: the first folder under core/ (core/include/... is 'include')
function layerOf(file) {
  const parts = relative(join(root, 'core'), file).split('/');
  return parts.length > 1 ? parts[0] : null;
}

function includes(file) {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/^\s*#\s*include\s+"([^"]+)"/gm)].map((m) => basename(m[1]));
}

test('every core file is in a layer folder and includes only its layer or the layers below', () => {
  const files = sources();
  const headerLayer = new Map();
  for (const f of files) if (f.endsWith('.h')) headerLayer.set(basename(f), layerOf(f));
  const problems = [];
  for (const f of files) {
    const layer = layerOf(f);
    const rel = relative(root, f);
    if (!layer || !LAYERS.includes(layer)) { problems.push(`${rel}: not in a layer folder (${LAYERS.join(', ')})`); continue; }
    for (const h of includes(f)) {
      const hl = headerLayer.get(h);
      if (!hl) { problems.push(`${rel}: includes "${h}", which is not a header of core/`); continue; }
      if (LAYERS.indexOf(hl) > LAYERS.indexOf(layer))
        problems.push(`${rel} (${layer}) includes ${h} of the higher layer ${hl}`);
    }
  }
  assert.deepEqual(problems, []);
});

// Tarjan's strongly connected components over the module graph.
export function cycles(graph) {
  let index = 0;
  const idx = new Map(), low = new Map(), onStack = new Set(), stack = [], found = [];
  const visit = (v) => {
    idx.set(v, index); low.set(v, index); index++;
    stack.push(v); onStack.add(v);
    for (const w of graph.get(v) || []) {
      if (!idx.has(w)) { visit(w); low.set(v, Math.min(low.get(v), low.get(w))); }
      else if (onStack.has(w)) low.set(v, Math.min(low.get(v), idx.get(w)));
    }
    if (low.get(v) === idx.get(v)) {
      const comp = [];
      let w;
      do { w = stack.pop(); onStack.delete(w); comp.push(w); } while (w !== v);
      if (comp.length > 1 || (graph.get(v) || new Set()).has(v)) found.push(comp.sort());
    }
  };
  for (const v of graph.keys()) if (!idx.has(v)) visit(v);
  return found;
}

test('the cycle finder names a cycle (a -> b -> a) and passes a chain', () => {
  assert.deepEqual(cycles(new Map([['a', new Set(['b'])], ['b', new Set(['a'])], ['c', new Set(['a'])]])), [['a', 'b']]);
  assert.deepEqual(cycles(new Map([['a', new Set(['b'])], ['b', new Set(['c'])], ['c', new Set()]])), []);
});

test('no include cycle among core modules', () => {
  const graph = new Map();
  for (const f of sources()) {
    const mod = basename(f).replace(/\.[ch]$/, '');
    if (!graph.has(mod)) graph.set(mod, new Set());
    for (const h of includes(f)) {
      const dep = h.replace(/\.h$/, '');
      if (dep !== mod) graph.get(mod).add(dep);
    }
  }
  const found = cycles(graph);
  assert.deepEqual(found.map((c) => c.join(' <-> ')), [], 'include cycles among modules');
});

test(`no source file over ${MAX_LINES} lines`, () => {
  const roots = ['core', 'plugins', 'web'];
  const long = [];
  for (const r of roots) {
    for (const f of walk(join(root, r))) {
      if (!/\.(c|h|js|mjs|css|html)$/.test(f) || /\/vendor\/|\.min\./.test(f)) continue;
      const n = readFileSync(f, 'utf8').split('\n').length - 1;
      if (n > MAX_LINES) long.push(`${relative(root, f)}: ${n} lines`);
    }
  }
  assert.deepEqual(long, []);
});

test('the environment is read in core/base/config.c only', () => {
  const reads = [];
  for (const f of [...sources(), ...walk(join(root, 'plugins')).filter((p) => /\.[ch]$/.test(p))]) {
    const rel = relative(root, f);
    if (rel === 'core/base/config.c') continue;
    readFileSync(f, 'utf8').split('\n').forEach((line, i) => {
      if (/\b(secure_)?getenv\s*\(/.test(line)) reads.push(`${rel}:${i + 1}: ${line.trim()}`);
    });
  }
  assert.deepEqual(reads, [], 'read these through config_env (core/base/config.c)');
});

test('a plugin\'s settings are named in its plugin only, never in core/', () => {
  const names = new Set();
  for (const f of walk(join(root, 'plugins')).filter((p) => p.endsWith('.c')))
    for (const m of readFileSync(f, 'utf8').matchAll(/FSP_SETTING\(\s*\.name\s*=\s*"([^"]+)"/g)) names.add(m[1]);
  assert.ok(names.size >= 10, `only ${names.size} plugin settings found: the pattern is wrong`);
  const found = [];
  for (const f of sources()) {
    const rel = relative(root, f);
    if (rel.startsWith('core/include/')) continue;
    readFileSync(f, 'utf8').split('\n').forEach((line, i) => {
      for (const n of names) if (line.includes(n)) found.push(`${rel}:${i + 1}: ${n}`);
    });
  }
  assert.deepEqual(found, [], 'the owner of a setting is its plugin (register_setting), not core/');
});
