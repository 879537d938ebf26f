// src/agent/schedule.ts: systemd unit, crontab line or nothing after join; removed after the last leave.
import t from 'tap';
import { join } from 'node:path';
import { installSchedule, removeScheduleIfLast, resolveDaemon } from '../../src/agent/schedule.ts';
import { saveState, type NetworkState } from '../../src/agent/state.ts';
import { FakeRunner } from '../../src/platform/fake-runner.ts';
import { cronLine, offInstructions, UNIT_NAME } from '../../src/platform/service.ts';

const CMD = ['/usr/local/bin/meshctl'];
const SYSTEMD = 'test -d /run/systemd/system';

/** A host with or without systemd, with or without a crontab program (and what `crontab -l` says). */
function host(o: { systemd: boolean; crontab?: 'missing' | 'empty' | string }): FakeRunner {
  const r = new FakeRunner().on(SYSTEMD, { exitCode: o.systemd ? 0 : 1 });
  if (o.crontab === 'missing') r.on(/^crontab /, { notFound: true });
  else if (o.crontab === undefined || o.crontab === 'empty') r.on('crontab -l', { exitCode: 1, stderr: 'no crontab for root' });
  else r.on('crontab -l', { stdout: o.crontab });
  return r;
}

t.test('off is off, and nothing on the host is even looked at', async (t) => {
  const r = host({ systemd: true });
  t.equal(await resolveDaemon(r, 'off'), 'off');
  t.same(r.calls, []);
});

t.test('auto takes systemd where it runs, cron elsewhere (checking crontab exists)', async (t) => {
  t.equal(await resolveDaemon(host({ systemd: true }), 'auto'), 'systemd');
  const r = host({ systemd: false });
  t.equal(await resolveDaemon(r, 'auto'), 'cron');
  t.same(r.lines, [SYSTEMD, 'crontab -l'], '"no crontab for root" (exit 1) is fine');
});

t.test('a scheduler the host cannot run is refused, with the way out', async (t) => {
  await t.rejects(resolveDaemon(host({ systemd: false }), 'systemd'), { code: 'INVALID_ARGUMENT', message: /systemd is not running on this host/, hint: /--daemon cron/ });
  await t.rejects(resolveDaemon(host({ systemd: true, crontab: 'missing' }), 'cron'), { code: 'INVALID_ARGUMENT', message: /crontab is not installed/, hint: /apt-get install -y cron/ });
  await t.rejects(resolveDaemon(host({ systemd: false, crontab: 'missing' }), 'auto'), { code: 'INVALID_ARGUMENT' }, 'auto on a host with neither');
  t.equal(await resolveDaemon(host({ systemd: true }), 'cron'), 'cron', 'cron may be chosen where systemd runs');
});

t.test('installSchedule off: the instructions, nothing installed', async (t) => {
  const r = host({ systemd: true });
  t.same(await installSchedule(r, 'off', CMD, '/etc/meshctl'), { daemon: 'off', detail: offInstructions(CMD, '/etc/meshctl') });
  t.same(r.calls, []);
});

t.test('installSchedule cron: our line is added to the crontab, the others kept', async (t) => {
  const r = host({ systemd: false, crontab: '0 3 * * * /usr/bin/backup\n' });
  t.same(await installSchedule(r, 'cron', CMD, '/etc/meshctl'), { daemon: 'cron', detail: 'crontab line installed: `meshctl checkin` every minute' });
  const i = r.lines.indexOf('crontab -');
  t.ok(i >= 0, 'the crontab was written');
  t.same(r.inputs[i]!.split('\n').filter(Boolean), ['0 3 * * * /usr/bin/backup', cronLine(CMD, '/etc/meshctl')]);
});

const joined = (network: string): NetworkState => ({
  network, server: '192.0.2.1:50051', caPem: '', caPin: '', nodeId: 'n', credential: 'n.s', interface: `mesh-${network}`, listenPort: 0, endpoint: '', view: null,
});

t.test('after a leave with networks left, nothing is removed or run', async (t) => {
  const root = t.testdir({ config: {}, units: { [UNIT_NAME]: '[Unit]\n' } });
  const configDir = join(root, 'config');
  await saveState(configDir, joined('other'));
  const r = host({ systemd: true, crontab: cronLine(CMD, configDir) + '\n' });
  t.same(await removeScheduleIfLast(r, configDir, join(root, 'units')), []);
  t.same(r.calls, []);
});

t.test('after the last leave, the unit and the crontab line join installed are removed', async (t) => {
  const root = t.testdir({ config: {}, units: { [UNIT_NAME]: '[Unit]\n' } });
  const configDir = join(root, 'config');
  const unitDir = join(root, 'units');
  const r = host({ systemd: true, crontab: `0 3 * * * /usr/bin/backup\n${cronLine(CMD, configDir)}\n` });
  t.same(await removeScheduleIfLast(r, configDir, unitDir), ['systemd unit', 'crontab line']);
  t.ok(r.lines.includes(`systemctl disable --now ${UNIT_NAME}`));
  const i = r.lines.lastIndexOf('crontab -');
  t.same(r.inputs[i]!.split('\n').filter(Boolean), ['0 3 * * * /usr/bin/backup'], 'the other line stays');
});

t.test('after the last leave with nothing installed, nothing is reported; a failing crontab is not fatal', async (t) => {
  const root = t.testdir({ config: { unrelated: '' }, units: {} });
  const configDir = join(root, 'config');
  t.same(await removeScheduleIfLast(host({ systemd: true }), configDir, join(root, 'units')), []);
  t.same(await removeScheduleIfLast(host({ systemd: true, crontab: 'missing' }), configDir, join(root, 'units')), []);
});
