import t from 'tap';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MeshError } from '../../src/core/errors.ts';
import { FakeRunner } from '../../src/platform/fake-runner.ts';
import { CommandError, ExecaRunner } from '../../src/platform/runner.ts';
import {
  cronLine,
  detectDaemonMode,
  installCronLine,
  installSystemdUnit,
  offInstructions,
  removeCronLine,
  removeSystemdUnit,
  renderSystemdUnit,
  shellWord,
  systemdWord,
} from '../../src/platform/service.ts';

const DEV = ['/usr/bin/node', '/opt/meshctl/bin/run.js'];
const PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

async function tempDir(t: { teardown(fn: () => unknown): void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'meshctl-service-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** A FakeRunner holding one crontab (null = none), answering crontab -l, - and -r as cron does. */
function fakeCrontab(initial: string | null): { runner: FakeRunner; text: () => string | null } {
  let tab = initial;
  const runner = new FakeRunner()
    .on('crontab -l', () => (tab === null ? { exitCode: 1, stderr: 'no crontab for root' } : { stdout: tab }))
    .on('crontab -', (_argv, opts) => {
      tab = opts.input ?? '';
      return {};
    })
    .on('crontab -r', () => {
      tab = null;
      return {};
    });
  return { runner, text: () => tab };
}

t.test('detectDaemonMode: systemd when /run/systemd/system exists, else cron', async () => {
  const yes = new FakeRunner().on('test -d /run/systemd/system', { exitCode: 0 });
  assert.equal(await detectDaemonMode(yes), 'systemd');
  assert.deepEqual(yes.lines, ['test -d /run/systemd/system']);
  assert.equal(await detectDaemonMode(new FakeRunner().on('test -d /run/systemd/system', { exitCode: 1 })), 'cron');
});

t.test('the unit runs `<command> agent --config-dir <dir>`, restarts forever, and is hardened without blocking its config dir', async () => {
  const unit = renderSystemdUnit({ command: DEV, configDir: '/etc/meshctl' });
  const lines = unit.split('\n');
  for (const l of [
    'ExecStart=/usr/bin/node /opt/meshctl/bin/run.js agent --config-dir /etc/meshctl',
    'Type=simple',
    'Restart=always',
    'RestartSec=2',
    'StartLimitIntervalSec=0',
    'Wants=network-online.target',
    'After=network-online.target',
    'WantedBy=multi-user.target',
    'NoNewPrivileges=yes',
    'ProtectSystem=full',
    'ReadWritePaths=/etc/meshctl',
  ]) assert.ok(lines.includes(l), `missing: ${l}`);
  assert.ok(!/ProtectSystem=strict|MemoryDenyWriteExecute|ProtectKernelTunables|DeviceAllow|ProtectClock|^User=/m.test(unit));
  assert.deepEqual(lines.filter((l) => l.startsWith('[')), ['[Unit]', '[Service]', '[Install]']);
  assert.ok(unit.endsWith('\n'));
  // A relative config dir is made absolute (the service does not run in the caller's cwd).
  assert.match(renderSystemdUnit({ command: ['/usr/local/bin/meshctl'], configDir: 'conf' }), new RegExp(`--config-dir ${process.cwd()}/conf\n`));
});

t.test('unit words: spaces and quotes are double-quoted, % and $ escaped, ReadWritePaths does not double $', async () => {
  assert.equal(systemdWord('/usr/bin/node', true), '/usr/bin/node');
  assert.equal(systemdWord('--config-dir', true), '--config-dir');
  assert.equal(systemdWord('/opt/my app/node', true), '"/opt/my app/node"');
  assert.equal(systemdWord('/x/100%/$HOME', true), '"/x/100%%/$$HOME"');
  assert.equal(systemdWord('/x/100%/$HOME', false), '"/x/100%%/$HOME"');
  assert.equal(systemdWord('a"b\\c', true), '"a\\"b\\\\c"');
  const unit = renderSystemdUnit({ command: ['/opt/my app/node', '/opt/my app/bin/run.js'], configDir: '/srv/mesh conf' });
  assert.ok(unit.includes('\nExecStart="/opt/my app/node" "/opt/my app/bin/run.js" agent --config-dir "/srv/mesh conf"\n'));
  assert.ok(unit.includes('\nReadWritePaths="/srv/mesh conf"\n'));
});

t.test('bad input is refused before anything is written: relative program, control characters', async (t) => {
  const dir = await tempDir(t);
  const runner = new FakeRunner();
  const invalid = (e: unknown) => e instanceof MeshError && e.code === 'INVALID_ARGUMENT';
  await assert.rejects(installSystemdUnit(runner, { command: ['node', 'bin/run.js'], configDir: '/etc/meshctl', unitDir: dir }), invalid);
  await assert.rejects(installSystemdUnit(runner, { command: [], configDir: '/etc/meshctl', unitDir: dir }), invalid);
  await assert.rejects(installSystemdUnit(runner, { command: DEV, configDir: '/etc/mesh\nExecStartPre=/bin/sh', unitDir: dir }), invalid);
  await assert.rejects(installCronLine(runner, { command: DEV, configDir: '/etc/mesh\n* * * * * evil' }), invalid);
  assert.throws(() => cronLine(['meshctl'], '/etc/meshctl'), invalid);
  assert.deepEqual(runner.lines, []);
  await assert.rejects(stat(join(dir, 'meshctl-agent.service')));
});

t.test('installSystemdUnit writes the unit 0644, reloads, enables; a second identical install only re-asserts enable --now', async (t) => {
  const dir = await tempDir(t);
  const runner = new FakeRunner();
  const opts = { command: DEV, configDir: '/etc/meshctl', unitDir: dir };
  assert.deepEqual(await installSystemdUnit(runner, opts), { unitPath: join(dir, 'meshctl-agent.service'), changed: true });
  assert.deepEqual(runner.lines, ['systemctl daemon-reload', 'systemctl enable --now meshctl-agent.service']);
  const path = join(dir, 'meshctl-agent.service');
  assert.equal(await readFile(path, 'utf8'), renderSystemdUnit(opts));
  assert.equal((await stat(path)).mode & 0o777, 0o644);

  runner.clear();
  assert.equal((await installSystemdUnit(runner, opts)).changed, false);
  assert.deepEqual(runner.lines, ['systemctl enable --now meshctl-agent.service']);
});

t.test('a changed unit is reloaded and the running agent restarted; enable:false only writes and reloads', async (t) => {
  const dir = await tempDir(t);
  const runner = new FakeRunner();
  await installSystemdUnit(runner, { command: DEV, configDir: '/etc/meshctl', unitDir: dir });
  runner.clear();
  assert.equal((await installSystemdUnit(runner, { command: ['/usr/local/bin/meshctl'], configDir: '/etc/meshctl', unitDir: dir })).changed, true);
  assert.deepEqual(runner.lines, ['systemctl daemon-reload', 'systemctl enable meshctl-agent.service', 'systemctl restart meshctl-agent.service']);
  assert.match(await readFile(join(dir, 'meshctl-agent.service'), 'utf8'), /^ExecStart=\/usr\/local\/bin\/meshctl agent/m);

  const dir2 = await tempDir(t);
  const quiet = new FakeRunner();
  await installSystemdUnit(quiet, { command: DEV, configDir: '/etc/meshctl', unitDir: dir2, enable: false });
  await installSystemdUnit(quiet, { command: DEV, configDir: '/etc/meshctl', unitDir: dir2, enable: false });
  assert.deepEqual(quiet.lines, ['systemctl daemon-reload']);
});

t.test('systemctl on a host without systemd fails with a hint to use cron; other failures carry argv and stderr', async (t) => {
  const dir = await tempDir(t);
  const noSystemd = new FakeRunner().on(/^systemctl /, {
    exitCode: 1,
    stderr: 'System has not been booted with systemd as init system (PID 1). Can\'t operate.\nFailed to connect to bus: Host is down',
  });
  await assert.rejects(installSystemdUnit(noSystemd, { command: DEV, configDir: '/etc/meshctl', unitDir: dir }), (e: unknown) => {
    assert.ok(e instanceof MeshError);
    assert.match(e.message, /systemctl daemon-reload.*systemd is not running/);
    assert.match(e.hint ?? '', /--daemon cron/);
    return true;
  });
  const failing = new FakeRunner().on('systemctl enable --now meshctl-agent.service', { exitCode: 1, stderr: 'Unit has a bad setting' });
  await assert.rejects(installSystemdUnit(failing, { command: DEV, configDir: '/etc/meshctl', unitDir: dir }), (e: unknown) => {
    assert.ok(e instanceof CommandError);
    assert.deepEqual(e.argv, ['systemctl', 'enable', '--now', 'meshctl-agent.service']);
    assert.equal(e.stderr, 'Unit has a bad setting');
    return true;
  });
});

t.test('removeSystemdUnit stops, disables, deletes and reloads; absent is a no-op', async (t) => {
  const dir = await tempDir(t);
  const runner = new FakeRunner();
  assert.equal(await removeSystemdUnit(runner, dir), false);
  assert.deepEqual(runner.lines, []);
  await installSystemdUnit(runner, { command: DEV, configDir: '/etc/meshctl', unitDir: dir });
  runner.clear();
  assert.equal(await removeSystemdUnit(runner, dir), true);
  assert.deepEqual(runner.lines, ['systemctl disable --now meshctl-agent.service', 'systemctl daemon-reload']);
  await assert.rejects(stat(join(dir, 'meshctl-agent.service')), { code: 'ENOENT' });
  runner.clear();
  assert.equal(await removeSystemdUnit(runner, dir), false);
  assert.deepEqual(runner.lines, []);
});

t.test('the cron line runs checkin every minute with sbin on PATH, output discarded, tagged with the config dir', async () => {
  assert.equal(
    cronLine(DEV, '/etc/meshctl'),
    `* * * * * ${PATH} /usr/bin/node /opt/meshctl/bin/run.js checkin --config-dir /etc/meshctl --json >/dev/null 2>&1 # meshctl-checkin /etc/meshctl`,
  );
});

t.test('cron quoting: shell words single-quoted, % escaped for cron everywhere on the line', async () => {
  assert.equal(shellWord('/usr/bin/node'), '/usr/bin/node');
  assert.equal(shellWord('/opt/my app'), "'/opt/my app'");
  assert.equal(shellWord("it's"), `'it'\\''s'`);
  assert.equal(shellWord('$HOME;rm'), "'$HOME;rm'");
  assert.equal(
    cronLine(['/opt/my app/meshctl'], "/srv/100% o'k"),
    `* * * * * ${PATH} '/opt/my app/meshctl' checkin --config-dir '/srv/100\\% o'\\''k' --json >/dev/null 2>&1 # meshctl-checkin '/srv/100\\% o'\\''k'`,
  );
});

t.test('shellWord round-trips through a real sh', async () => {
  const words = ['/usr/bin/node', '/opt/my app/x', "it's", '$HOME', 'a"b\\c', '100%', '*', ''];
  const r = await new ExecaRunner().run(['sh', '-c', `printf '%s\\n' ${words.map(shellWord).join(' ')}`]);
  assert.deepEqual(r.stdout.split('\n'), words);
});

t.test('installCronLine into no crontab writes just our line; a second install reads and writes nothing', async () => {
  const { runner, text } = fakeCrontab(null);
  const first = await installCronLine(runner, { command: DEV, configDir: '/etc/meshctl' });
  assert.equal(first.changed, true);
  assert.equal(first.line, cronLine(DEV, '/etc/meshctl'));
  assert.deepEqual(runner.lines, ['crontab -l', 'crontab -']);
  assert.equal(text(), first.line + '\n');
  runner.clear();
  assert.deepEqual(await installCronLine(runner, { command: DEV, configDir: '/etc/meshctl' }), { line: first.line, changed: false });
  assert.deepEqual(runner.lines, ['crontab -l']);
});

t.test('installCronLine keeps other lines, replaces an older meshctl line for the same dir in place, leaves other dirs alone', async () => {
  const other = `* * * * * ${PATH} /usr/bin/node /old/run.js checkin --config-dir /etc/meshctl-b --json >/dev/null 2>&1 # meshctl-checkin /etc/meshctl-b`;
  const old = `* * * * * ${PATH} /usr/bin/node /old/run.js checkin --config-dir /etc/meshctl --json >/dev/null 2>&1 # meshctl-checkin /etc/meshctl`;
  const { runner, text } = fakeCrontab(['MAILTO=ops@example.com', '# backups', '0 3 * * * /usr/local/bin/backup', old, other, old, '30 4 * * 1 /bin/true', ''].join('\n'));
  const { line, changed } = await installCronLine(runner, { command: DEV, configDir: '/etc/meshctl/' });
  assert.equal(changed, true);
  assert.equal(text(), ['MAILTO=ops@example.com', '# backups', '0 3 * * * /usr/local/bin/backup', line, other, '30 4 * * 1 /bin/true', ''].join('\n'));
  runner.clear();
  assert.equal((await installCronLine(runner, { command: DEV, configDir: '/etc/meshctl' })).changed, false);
  assert.deepEqual(runner.lines, ['crontab -l']);
});

t.test('removeCronLine removes only our line for that dir; absent is a no-op; the last line removes the crontab', async () => {
  const mine = cronLine(DEV, '/etc/meshctl');
  const other = cronLine(DEV, '/etc/meshctl-b');
  const { runner, text } = fakeCrontab(['0 3 * * * /usr/local/bin/backup # meshctl-checkin is mentioned here', mine, other].join('\n') + '\n');
  assert.equal(await removeCronLine(runner, '/etc/meshctl'), true);
  assert.equal(text(), ['0 3 * * * /usr/local/bin/backup # meshctl-checkin is mentioned here', other].join('\n') + '\n');
  runner.clear();
  assert.equal(await removeCronLine(runner, '/etc/meshctl'), false);
  assert.deepEqual(runner.lines, ['crontab -l']);

  const lone = fakeCrontab(mine + '\n');
  assert.equal(await removeCronLine(lone.runner, '/etc/meshctl'), true);
  assert.deepEqual(lone.runner.lines, ['crontab -l', 'crontab -r']);
  assert.equal(lone.text(), null);
  lone.runner.clear();
  assert.equal(await removeCronLine(lone.runner, '/etc/meshctl'), false);
  assert.deepEqual(lone.runner.lines, ['crontab -l']);
});

t.test('crontab failures: a real crontab -l error is thrown; a missing crontab names the package', async () => {
  const broken = new FakeRunner().on('crontab -l', { exitCode: 1, stderr: "crontab: can't open your crontab file" });
  await assert.rejects(installCronLine(broken, { command: DEV, configDir: '/etc/meshctl' }), (e: unknown) => e instanceof CommandError && /can't open/.test(e.message));
  assert.deepEqual(broken.lines, ['crontab -l']);
  const missing = new FakeRunner().on(/^crontab/, { notFound: true });
  await assert.rejects(installCronLine(missing, { command: DEV, configDir: '/etc/meshctl' }), (e: unknown) => {
    assert.ok(e instanceof CommandError && e.notFound);
    assert.equal(e.hint, 'Install it: apt-get install -y cron');
    return true;
  });
});

t.test('offInstructions names the agent command and the cron line to schedule', async () => {
  const text = offInstructions(['/opt/my app/meshctl'], '/etc/meshctl');
  assert.match(text, /--daemon off/);
  assert.ok(text.includes("'/opt/my app/meshctl' agent --config-dir /etc/meshctl\n"));
  assert.ok(text.endsWith(cronLine(['/opt/my app/meshctl'], '/etc/meshctl')));
});
