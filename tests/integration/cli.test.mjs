// cli: what every subcommand does when it opens the app (core/cli/cli.c):
// a database it cannot reach ends the command with exit 1 and one line on
// stderr saying so, prefixed as the command names itself ("fourscore
// import: ...", "fourscore: ..."), and nothing on stdout. The port asked
// for is one this test held a moment before and closed, so nothing listens
// on it. Needs no MariaDB.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { run } from './lib.mjs';

async function closedPort() {
  const srv = net.createServer();
  await new Promise((res) => srv.listen(0, '127.0.0.1', res));
  const { port } = srv.address();
  await new Promise((res) => srv.close(res));
  return port;
}

test('every command that opens the database: exit 1 and one line naming the command when it cannot be reached', async () => {
  const db = `mariadb://u:p@127.0.0.1:${await closedPort()}/db`;
  const commands = [
    [['import', 'payments', '/dev/null'], 'fourscore import: '],
    [['rollup', '--rebuild'], 'fourscore: '],
    [['demo', '--stores', '1', '--years', '1'], 'fourscore demo: '],
    [['settings'], 'fourscore: '],
    [['kpi', 'service.ro_count', '--from', '2024-01-01', '--to', '2024-01-31'], 'fourscore: '],
    [['alerts', 'check'], 'fourscore alerts: '],
    [['report', 'send', 'daily'], 'fourscore report: '],
    [['migrate'], 'fourscore: '],
    [['user', 'list'], 'fourscore: '],
    [['token', 'list'], 'fourscore: '],
  ];
  for (const [args, prefix] of commands) {
    const r = await run([...args, '--db', db], { timeoutMs: 60000 });
    const what = `fourscore ${args.join(' ')}`;
    assert.equal(r.code, 1, `${what}: exit 1 (${r.stderr})`);
    assert.equal(r.stdout, '', `${what}: nothing on stdout`);
    const lines = r.stderr.split('\n').filter((l) => l && !l.startsWith('{'));
    assert.equal(lines.length, 1, `${what}: one line (${r.stderr})`);
    assert.ok(lines[0].startsWith(prefix) && /cannot connect to MariaDB/.test(lines[0]), `${what}: ${lines[0]}`);
  }
});
