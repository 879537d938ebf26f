// Issue 4, acceptance check 4 through the CLI: `join --daemon cron` installs a crontab line that
// `crontab -l` shows and that really checks in, `leave` of the last network removes it;
// `--daemon systemd` on a host without systemd is refused before anything is joined; `--daemon
// off` says what to schedule. (The unit file itself passes `systemd-analyze verify` in
// test/platform/service-real.test.ts.) Root's real crontab is saved and put back.
import t from 'tap';
import assert from 'node:assert/strict';
import { ExecaRunner } from '../../src/platform/runner.ts';
import { createLab, sweepStale, uniquePrefix, type Lab } from './lab.ts';
import { prereqSkip } from './prereqs.ts';
import { dropMeshctlEnv, meshTools, type JoinOut, type NodeOut } from './mesh-helpers.ts';

const skip = (await prereqSkip()) || (await missingCrontab());
dropMeshctlEnv();

async function missingCrontab(): Promise<string | false> {
  const r = await new ExecaRunner().run(['crontab', '-l'], { allowFail: true }).catch(() => null);
  if (r) return false;
  if (process.env.CI === 'true') throw new Error('crontab is missing (apt-get install -y cron)');
  return 'crontab is not installed (apt-get install -y cron)';
}

t.test('join --daemon cron / systemd / off, and leave removing what join installed', { skip, timeout: 120_000 }, async (t) => {
  await sweepStale('md');
  const lab: Lab = await createLab({ prefix: uniquePrefix('md'), hosts: ['ctl', 'n1'] });
  const host = new ExecaRunner();
  const saved = await host.run(['crontab', '-l'], { allowFail: true });
  t.teardown(async () => {
    // Put root's crontab back exactly as it was.
    if (saved.exitCode === 0) await host.run(['crontab', '-'], { input: saved.stdout });
    else await host.run(['crontab', '-r'], { allowFail: true });
    await lab.destroy();
  });
  // A line of someone else's that must survive join and leave.
  await host.run(['crontab', '-'], { input: `${saved.exitCode === 0 ? saved.stdout : ''}# e2e: someone else's line, keep me\n` });
  const D = `${lab.dir('ctl')}/data`;
  const m = meshTools(lab, D);
  await m.startController();
  await m.admin(['network', 'create', 'office', '--cidr', '10.10.0.0/24']);
  const { token } = await m.admin<{ token: string }>(['keys', 'create', 'office']);
  const dir = m.etc('n1');
  const crontab = async () => (await host.run(['crontab', '-l'], { allowFail: true })).stdout;

  // systemd is not PID 1 here: refused up front, nothing joined
  const sd = await m.mc('n1', ['join', '-t', token, '--name', 'n1', '--config-dir', dir, '--daemon', 'systemd', '--json']);
  assert.equal(sd.exitCode, 1, m.explain('n1', ['join', '--daemon', 'systemd'], sd));
  assert.match(JSON.parse(sd.stdout).error.message, /systemd is not running/);
  assert.deepEqual(await m.admin<NodeOut[]>(['nodes', 'list', 'office']), []);

  // cron: the line is there, names this config dir, and works when run as cron would run it
  const j = await m.ok<JoinOut & { daemon: string }>('n1', ['join', '-t', token, '--name', 'n1', '--config-dir', dir, '--daemon', 'cron', '--json']);
  assert.equal(j.daemon, 'cron');
  const line = (await crontab()).split('\n').find((l) => l.includes(`# meshctl-checkin ${dir}`));
  assert.ok(line, `crontab -l shows the check-in line for ${dir}:\n${await crontab()}`);
  assert.match(line, /^\* \* \* \* \* /);
  const command = line.replace(/^(\S+\s+){5}/, '').replace(/\\%/g, '%').replace(/>\/dev\/null 2>&1.*$/, '');
  const run = await lab.run('n1', ['sh', '-c', command], { allowFail: true });
  assert.equal(run.exitCode, 0, `the cron command checks in: ${command}\n${run.stdout}\n${run.stderr}`);
  assert.equal((JSON.parse(run.stdout) as { network: string }[])[0]!.network, 'office');

  // leave of the last network removes the line, and only it
  const others = async () => (await crontab()).split('\n').filter((l) => l.trim() !== '' && !l.includes('meshctl-checkin'));
  const before = await others();
  const left = await m.ok<{ left: boolean; removed: string[] }>('n1', ['leave', '-n', 'office', '--config-dir', dir, '--json']);
  assert.deepEqual(left.removed, ['crontab line']);
  assert.ok(!(await crontab()).includes(`meshctl-checkin ${dir}`), 'the line is gone');
  assert.deepEqual(await others(), before, 'other lines are kept');
  assert.ok(before.includes("# e2e: someone else's line, keep me"));

  // off: nothing scheduled, and the operator is told what to schedule
  const off = await m.mc('n1', ['join', '-t', token, '--name', 'n1', '--config-dir', dir, '--daemon', 'off']);
  assert.equal(off.exitCode, 0, off.stderr);
  assert.match(off.stdout, /meshctl did not schedule anything/);
  assert.match(off.stdout, /agent --config-dir/);
  assert.ok(!(await crontab()).includes(`meshctl-checkin ${dir}`));
});
