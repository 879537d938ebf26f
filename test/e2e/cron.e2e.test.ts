// `join --daemon cron` / systemd / off through the CLI on a lab host (was daemon.e2e.test.ts,
// which edited root's real crontab): the lab gives each host a private cron spool, so the
// crontab here is the host's own. It starts with someone else's job and no final newline; the
// check-in line join adds is a line of its own, really checks in when run as cron runs it, and
// leave of the last network removes it alone. Root's real crontab is never touched (compared
// byte for byte). The unit file itself is checked in test/platform/service-real.test.ts. Issue 8
// item 8: join warns when no cron daemon would run the line (a PID namespace of its own shows
// whether one runs) and adds no line beside a running agent.
import t from 'tap';
import { readFile, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { createLab, sweepStale, uniquePrefix, type Lab } from './lab.ts';
import { prereqSkip } from './prereqs.ts';
import { BIN, dropMeshctlEnv, meshTools, type JoinOut, type NodeOut } from './mesh-helpers.ts';

const STEM = 'uc';
const SPOOL = '/var/spool/cron/crontabs';
const OTHERS = '0 0 1 1 * /bin/true';
t.setTimeout(200_000);
dropMeshctlEnv();

async function skipReason(): Promise<string | false> {
  const lab = await prereqSkip();
  if (lab) return lab;
  if (existsSync(SPOOL)) return false;
  if (process.env.CI === 'true') throw new Error('cron is not installed (apt-get install -y cron)');
  return 'cron is not installed (apt-get install -y cron)';
}

t.test('join --daemon cron / systemd / off on a private cron spool, and leave removing what join installed', { skip: await skipReason() }, async (t) => {
  const realBefore = await readFile(`${SPOOL}/root`).catch(() => null);
  await sweepStale(STEM);
  const lab: Lab = await createLab({ prefix: uniquePrefix(STEM), hosts: ['ctl', 'n1'] });
  t.teardown(() => lab.destroy());
  await writeFile(`${lab.dir('n1')}/cron/root`, OTHERS, { mode: 0o600 }); // no final newline
  const m = meshTools(lab, `${lab.dir('ctl')}/data`);
  await m.startController();
  await m.admin(['network', 'create', 'office', '--cidr', '10.10.0.0/24']);
  const { token } = await m.admin<{ token: string }>(['keys', 'create', 'office', '--uses', '5']);
  const dir = m.etc('n1');
  const crontab = async () => (await lab.run('n1', ['crontab', '-l'], { allowFail: true })).stdout;
  const lines = async () => (await crontab()).split('\n').filter((l) => l.trim() !== '' && !l.startsWith('# DO NOT EDIT') && !l.startsWith('# ('));
  t.same(await lines(), [OTHERS], 'n1 reads its own crontab');

  // systemd is not PID 1 here: refused up front, nothing joined
  const sd = await m.mc('n1', ['join', '-t', token, '--name', 'n1', '--config-dir', dir, '--daemon', 'systemd', '--json']);
  t.equal(sd.exitCode, 1, m.explain('n1', ['join', '--daemon', 'systemd'], sd));
  t.match(JSON.parse(sd.stdout).error.message, /systemd is not running/);
  t.same(await m.admin<NodeOut[]>(['nodes', 'list', 'office']), []);

  // cron: the line is there, on a line of its own, and works when run as cron would run it
  const j = await m.ok<JoinOut & { daemon: string }>('n1', ['join', '-t', token, '--name', 'n1', '--config-dir', dir, '--daemon', 'cron', '--json']);
  t.equal(j.daemon, 'cron');
  const now = await lines();
  t.equal(now[0], OTHERS, 'the other job is untouched, not glued to ours');
  const line = now.find((l) => l.includes(`# meshctl-checkin ${dir}`));
  t.ok(line, `crontab -l shows the check-in line for ${dir}:\n${await crontab()}`);
  t.match(line!, /^\* \* \* \* \* /);
  const command = line!.replace(/^(\S+\s+){5}/, '').replace(/\\%/g, '%').replace(/>\/dev\/null 2>&1.*$/, '');
  const run = await lab.run('n1', ['sh', '-c', command], { allowFail: true });
  t.equal(run.exitCode, 0, `the cron command checks in: ${command}\n${run.stdout}\n${run.stderr}`);
  t.equal((JSON.parse(run.stdout) as { network: string }[])[0]!.network, 'office');

  // leave of the last network removes the line, and only it
  const left = await m.ok<{ left: boolean; removed: string[] }>('n1', ['leave', '-n', 'office', '--config-dir', dir, '--json']);
  t.same(left.removed, ['crontab line']);
  t.same(await lines(), [OTHERS], 'only the other job is left');

  // off: nothing scheduled, and the operator is told what to schedule
  const off = await m.mc('n1', ['join', '-t', token, '--name', 'n1', '--config-dir', dir, '--daemon', 'off']);
  t.equal(off.exitCode, 0, off.stderr);
  t.match(off.stdout, /meshctl did not schedule anything/);
  t.match(off.stdout, /agent --config-dir/);
  t.same(await lines(), [OTHERS]);

  // Issue 8 item 8. In a PID namespace of its own (its /proc shows only what runs there), join
  // says when no cron daemon would run the line, and says nothing when one runs.
  await m.admin(['network', 'create', 'lab2', '--cidr', '10.11.0.0/24']);
  await m.admin(['network', 'create', 'lab3', '--cidr', '10.12.0.0/24']);
  const tok = async (net: string) => (await m.admin<{ token: string }>(['keys', 'create', net])).token;
  const node = process.execPath;
  const isolated = (pre: string, args: string[]) => lab.run('n1', ['unshare', '-pf', '--mount-proc', 'sh', '-c', `${pre}exec "$@"`, 'sh', node, BIN, ...args], { allowFail: true });
  const noCron = await isolated('', ['join', '-t', await tok('lab2'), '--name', 'n1', '--config-dir', dir, '--daemon', 'cron', '--json']);
  t.equal(noCron.exitCode, 0, m.explain('n1', ['join', '--daemon', 'cron'], noCron));
  t.match(JSON.parse(noCron.stdout), { daemon: 'cron', warning: /no cron daemon is running on this host, so nothing runs that line/ });
  const human = await isolated('', ['leave', '-n', 'lab2', '--config-dir', dir]);
  t.equal(human.exitCode, 0, human.stderr);
  // A process named cron stands for the daemon (node sets its comm with process.title).
  const withCron = await isolated(`"${node}" -e "process.title='cron'; setTimeout(() => {}, 30000)" & sleep 0.5; `,
    ['join', '-t', await tok('lab2'), '--name', 'n1', '--config-dir', dir, '--daemon', 'cron', '--json']);
  t.equal(withCron.exitCode, 0, m.explain('n1', ['join', '--daemon', 'cron'], withCron));
  const wj = JSON.parse(withCron.stdout) as { daemon: string; warning?: string };
  t.equal(wj.daemon, 'cron');
  t.equal(wj.warning, undefined, 'with a cron daemon running there is nothing to warn about');
  t.equal((await lines()).filter((l) => l.includes('# meshctl-checkin')).length, 1, 'one check-in line');

  // With an agent already running for the config dir, join adds no crontab line.
  await m.ok('n1', ['leave', '-n', 'lab2', '--config-dir', dir, '--json']);
  await m.ok('n1', ['leave', '-n', 'office', '--config-dir', dir, '--json']);
  t.same(await lines(), [OTHERS], 'the last leave removed the line');
  const agent = lab.spawn('n1', [node, BIN, 'agent', '--config-dir', dir]);
  const until = Date.now() + 60_000;
  while (!existsSync(`${dir}/agent.sock`) && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
  t.ok(existsSync(`${dir}/agent.sock`), `the agent's control socket is up:\n${agent.output()}`);
  const beside = await m.ok<{ daemon: string }>('n1', ['join', '-t', await tok('lab3'), '--name', 'n1', '--config-dir', dir, '--daemon', 'cron', '--json']);
  t.equal(beside.daemon, 'agent', 'the running agent keeps the new network in step');
  t.same(await lines(), [OTHERS], 'no crontab line added beside a running agent');
  await agent.stop();
  t.same(await readFile(`${SPOOL}/root`).catch(() => null), realBefore, 'root\'s real crontab is byte for byte as before');
});
