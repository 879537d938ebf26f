// Issue 8 item 8: the cron default. Without a cron daemon, join still installs the line but says
// plainly that nothing will run it; with an agent already running for the config dir, no cron
// line is added at all (the agent picks the network up by itself).
import t from 'tap';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeRunner } from '../../src/platform/fake-runner.ts';
import { installSchedule, type ScheduleProbe } from '../../src/agent/schedule.ts';
import { cronDaemonRunning } from '../../src/platform/service.ts';

const noSystemd = () => new FakeRunner().on('test -d /run/systemd/system', { exitCode: 1 }).on('crontab -l', { exitCode: 1, stderr: 'no crontab for root' }).on('crontab -', {});
const probe = (p: Partial<ScheduleProbe>): ScheduleProbe => ({ agentRunning: async () => false, cronRunning: async () => true, ...p });
const cmd = ['/usr/bin/meshctl'];

t.test('no cron daemon: the line is installed and the result says nothing will run it', async (t) => {
  const r = noSystemd();
  const s = await installSchedule(r, 'auto', cmd, '/etc/meshctl', probe({ cronRunning: async () => false }));
  t.equal(s.daemon, 'cron');
  t.ok(r.lines.includes('crontab -'), 'the line is installed');
  t.match(s.warning, /no cron daemon is running on this host, so nothing runs that line/);
  t.match(s.detail, /but no cron daemon is running/);
});

t.test('a cron daemon runs: no warning', async (t) => {
  const s = await installSchedule(noSystemd(), 'cron', cmd, '/etc/meshctl', probe({}));
  t.equal(s.warning, undefined);
  t.match(s.detail, /^crontab line installed/);
});

t.test('an agent already runs for this config dir: no cron line is added', async (t) => {
  const r = noSystemd();
  const s = await installSchedule(r, 'auto', cmd, '/etc/meshctl', probe({ agentRunning: async (d) => d === '/etc/meshctl' }));
  t.equal(s.daemon, 'agent');
  t.match(s.detail, /An agent already runs for \/etc\/meshctl/);
  t.notOk(r.lines.some((l) => l.startsWith('crontab -') && l !== 'crontab -l'), `crontab was not written: ${r.lines.join('; ')}`);
});

t.test('cronDaemonRunning reads process names', async (t) => {
  const proc = await mkdtemp(join(tmpdir(), 'meshctl-proc-'));
  t.teardown(() => rm(proc, { recursive: true, force: true }));
  const add = async (pid: number, comm: string) => {
    await mkdir(join(proc, String(pid)));
    await writeFile(join(proc, String(pid), 'comm'), `${comm}\n`);
  };
  await add(1, 'init');
  await add(20, 'cronolog');
  t.equal(await cronDaemonRunning(proc), false);
  await add(30, 'cron');
  t.equal(await cronDaemonRunning(proc), true);
});
