// Issue 8 item 4 on real hosts: after `network delete --force`, a node running the agent takes
// its interface down within seconds and logs why, and a node kept in step by cron does so on its
// next check-in, which succeeds and removes the crontab line (so cron stops failing every
// minute). Each lab host has its own cron spool (lab.ts).
import t from 'tap';
import { existsSync } from 'node:fs';
import { createLab, sweepStale, uniquePrefix, type Lab } from './lab.ts';
import { prereqSkip } from './prereqs.ts';
import { bare, dropMeshctlEnv, meshTools, sleep, type CheckinOut, type JoinOut } from './mesh-helpers.ts';

const STEM = 'ud';
t.setTimeout(200_000);
dropMeshctlEnv();
const skip = (await prereqSkip()) || (existsSync('/var/spool/cron/crontabs') ? false : 'cron is not installed');

t.test('a deleted network is taken down on its nodes: by the agent at once, by cron at the next check-in', { skip }, async (t) => {
  await sweepStale(STEM);
  const lab: Lab = await createLab({ prefix: uniquePrefix(STEM), hosts: ['ctl', 'n1', 'n2'] });
  t.teardown(() => lab.destroy());
  const m = meshTools(lab, `${lab.dir('ctl')}/data`);
  await m.startController();
  await m.admin(['network', 'create', 'lab', '--cidr', '10.50.0.0/24']);
  const { token } = await m.admin<{ token: string }>(['keys', 'create', 'lab', '--uses', '5']);
  const a1 = await m.join('n1', token);
  const a2 = await m.ok<JoinOut>('n2', ['join', '-t', token, '--name', 'n2', '--config-dir', m.etc('n2'), '--daemon', 'cron', '--json']);
  const agent = m.spawnAgent('n1');
  await m.ok('n2', ['checkin', '--config-dir', m.etc('n2'), '--json']);
  await m.pingUntil('n1', 'n2', bare(a2.address), 15_000);
  await m.pingUntil('n2', 'n1', bare(a1.address), 15_000);

  await m.admin(['network', 'delete', 'lab', '--force']);
  const end = Date.now() + 10_000;
  while ((await m.linkExists('n1', 'mesh-lab')) && Date.now() < end) await sleep(100);
  t.notOk(await m.linkExists('n1', 'mesh-lab'), `the agent on n1 removed mesh-lab within 10 s:\n${agent.output().slice(-2000)}`);
  t.match(agent.output(), /lab: the controller says network "lab" was deleted; removed interface mesh-lab and this network's local state/);
  t.equal(agent.child.exitCode, null, 'the agent keeps running');
  t.notOk(existsSync(`${m.etc('n1')}/networks/lab.json`), 'n1 has no state for lab');

  // n2 still has it until cron's check-in runs; that check-in takes it down and succeeds.
  t.ok(await m.linkExists('n2', 'mesh-lab'));
  const r = await m.mc('n2', ['checkin', '--config-dir', m.etc('n2'), '--json']);
  t.equal(r.exitCode, 0, m.explain('n2', ['checkin'], r));
  const out = JSON.parse(r.stdout) as (CheckinOut & { removed?: string })[];
  t.match(out[0]?.removed, /the network was deleted/);
  t.notOk(await m.linkExists('n2', 'mesh-lab'), 'n2 removed mesh-lab');
  t.notOk((await lab.run('n2', ['crontab', '-l'], { allowFail: true })).stdout.includes('meshctl-checkin'), 'and the crontab line, so cron stops running a check-in that can only fail');
  t.not((await lab.run('n1', ['ping', '-c1', '-W1', bare(a2.address)], { allowFail: true })).exitCode, 0, 'the mesh no longer carries traffic');
});
