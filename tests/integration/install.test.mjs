// install: `cmake --install` gives a layout that works without the source
// tree. The tracked files are copied to a temporary tree, built there with
// BUILD_TESTING=OFF and installed into a temporary prefix; then the tree and
// its build are deleted, and the installed binary, with no FOURSCORE_*
// directory set, must find its plugins, migrations, web root and shipped
// scorecards under the prefix: `fourscore plugins` lists the nine plugins
// of PREFIX/lib/fourscore/plugins, and `serve` migrates a fresh data dir,
// serves PREFIX/share/fourscore/web (a marker written into the installed
// index.html comes back) and lists the shipped scorecards.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync, readFileSync, existsSync, readdirSync, lstatSync } from 'node:fs';
import { join } from 'node:path';
import { root, tempDir, startServer, run } from './lib.mjs';

// The directories the product would otherwise take from the environment the suite sets.
const noDirs = { FOURSCORE_PLUGIN_DIR: '', FOURSCORE_WEB_ROOT: '', FOURSCORE_SCHEMA_DIR: '', FOURSCORE_LUA_DIR: '' };

test('an installed Fourscore runs without its source tree', { timeout: 900000 }, async () => {
  const work = tempDir('fs-install-');
  const src = join(work, 'src'), build = join(work, 'build'), prefix = join(work, 'prefix');
  mkdirSync(src);
  const files = execFileSync('git', ['ls-files', '-z'], { cwd: root }).toString().split('\0').filter(Boolean);
  execFileSync('tar', ['-C', root, '-cf', join(work, 'src.tar'), '--null', '-T', '-'], { input: files.join('\0') });
  execFileSync('tar', ['-C', src, '-xf', join(work, 'src.tar')]);
  execFileSync('cmake', ['-S', src, '-B', build, '-DCMAKE_BUILD_TYPE=Release', '-DBUILD_TESTING=OFF',
    `-DCMAKE_INSTALL_PREFIX=${prefix}`], { stdio: 'ignore' });
  execFileSync('cmake', ['--build', build, '-j2'], { stdio: 'ignore' });
  execFileSync('cmake', ['--install', build], { stdio: 'ignore' });
  rmSync(src, { recursive: true, force: true });
  rmSync(build, { recursive: true, force: true });

  const bin = join(prefix, 'bin', 'fourscore');
  const share = join(prefix, 'share', 'fourscore');
  assert.ok(existsSync(bin), 'bin/fourscore installed');
  for (const d of ['web', 'schemas', 'scorecards']) assert.ok(readdirSync(join(share, d)).length > 0, `share/fourscore/${d} installed`);
  assert.ok(lstatSync(join(share, 'web', 'parts.html')).isSymbolicLink(), 'the old page names stay links to domain.html');

  const plugins = await run(['plugins'], { env: noDirs, bin });
  assert.equal(plugins.code, 0, plugins.stderr);
  assert.match(plugins.stdout, new RegExp(`plugin directory: ${prefix}/lib[a-z0-9_/-]*/fourscore/plugins`));
  assert.match(plugins.stdout, /9 loaded, 0 refused/);

  const index = join(share, 'web', 'index.html');
  writeFileSync(index, readFileSync(index, 'utf8').replace('</head>', '<meta name="installed-marker" content="yes"></head>'));
  const s = await startServer({ bin, env: noDirs });
  try {
    const page = await s.request('GET', '/');
    assert.equal(page.status, 200);
    assert.match(page.text, /installed-marker/);
    const cookie = await s.login('admin', s.adminPassword);
    const cards = await s.request('GET', '/api/v1/scorecards', { cookie });
    assert.equal(cards.status, 200);
    const names = cards.json.map((c) => c.name).sort();
    const shipped = readdirSync(join(share, 'scorecards')).filter((f) => f.endsWith('.lua')).map((f) => f.replace(/\.lua$/, '')).sort();
    for (const n of shipped) assert.ok(names.includes(n), `shipped scorecard ${n} installed from the prefix`);
  } finally {
    await s.stop();
    rmSync(work, { recursive: true, force: true });
  }
});
