// Issue 10 for nodes with no daemon: the cron line `join --daemon cron` installs runs
// `meshctl checkin`, which tries a peer's candidates too (not only the agent does). b1 sits behind
// a port-keeping NAT with no agent; its peer a1 (behind another, with an agent) states an endpoint
// nobody answers at, so b1's first candidate for a1 fails and only the next one (a1's NAT's
// public address, hole punched from both ends) works. One run of the cron line finds it; the
// next run, with the path working, tries nothing and is quick.
import t from 'tap';
import { existsSync } from 'node:fs';
import { createLab, sweepStale, uniquePrefix, type Lab, type LabProcess } from './lab.ts';
import { natPrereqs } from './prereqs.ts';
import { bare, dropMeshctlEnv, meshTools, secs, type JoinOut, tail } from './mesh-helpers.ts';

const STEM = 'ck';
const NET = 'crn';
const IF = 'mesh-crn';
const SPOOL = '/var/spool/cron/crontabs';

dropMeshctlEnv();

/** natPrereqs, plus cron. */
async function skipReason(): Promise<string | false> {
  const nat = await natPrereqs();
  if (nat || existsSync(SPOOL)) return nat;
  const why = 'needs cron (apt-get install -y cron)';
  if (process.env.CI === 'true') throw new Error(why);
  return why;
}

const skip = await skipReason();
t.setTimeout(240_000);

t.test('a cron check-in tries the candidates: the first fails, the next is hole punched, and the next run has nothing to try', { skip, timeout: 200_000 }, async (t) => {
  await sweepStale(STEM);
  const lab: Lab = await createLab({
    prefix: uniquePrefix(STEM),
    hosts: ['ctl', 'pub'],
    sites: [
      { router: 'ra', nat: 'port-keeping', hosts: ['a1'] },
      { router: 'rb', nat: 'port-keeping', hosts: ['b1'] },
    ],
  });
  t.teardown(() => lab.destroy());
  const m = meshTools(lab, `${lab.dir('ctl')}/data`);
  const procs: Record<string, LabProcess> = {};
  t.afterEach(() => {
    if (!t.passing()) t.comment(Object.entries(procs).map(([h, p]) => `${h}:\n${tail(p.output(), 2500)}`).join('\n'));
  });
  procs.ctl = await m.startController();
  await m.admin(['network', 'create', NET, '--cidr', '10.47.0.0/24', '--keepalive', '20']);
  const { token } = await m.admin<{ token: string }>(['keys', 'create', NET, '--uses', '5']);
  const mesh: Record<string, string> = {};
  // An address on the lab's segment that no host has: packets to it go nowhere (and stay in the lab).
  const nowhere = `${lab.subnet.replace(/\.0\/24$/, '')}.250:51821`;
  for (const [h, extra] of [['pub', []], ['a1', ['--endpoint', nowhere]]] as const) {
    const j = await m.ok<JoinOut>(h, ['join', '-t', token, '--name', h, ...extra, '--config-dir', m.etc(h), '--daemon', 'off', '--json']);
    mesh[h] = bare(j.address);
    procs[h] = m.spawnAgent(h);
  }
  const j = await m.ok<JoinOut & { daemon: string }>('b1', ['join', '-t', token, '--name', 'b1', '--config-dir', m.etc('b1'), '--daemon', 'cron', '--json']);
  t.equal(j.daemon, 'cron');
  mesh.b1 = bare(j.address);
  const line = (await lab.run('b1', ['crontab', '-l'])).stdout.split('\n').find((l) => l.includes('# meshctl-checkin'));
  t.ok(line, 'b1 has the check-in line in its (private) crontab');
  const command = line!.replace(/^(\S+\s+){5}/, '').replace(/\\%/g, '%').replace(/>\/dev\/null 2>&1.*$/, '');
  const keyOf = async (h: string) => (await m.nodesList(NET)).get(h)!.publicKey;
  const wgEndpoint = async (h: string, of: string) => {
    const k = await keyOf(of);
    return (await m.wgPeers(h, IF)).find((p) => p.publicKey === k)?.endpoint ?? '(none)';
  };
  t.equal(await wgEndpoint('b1', 'a1'), nowhere, 'after the join, b1 holds a1 at its stated (dead) endpoint');

  const t0 = performance.now();
  const run = await m.runLong('b1', ['sh', '-c', command], 90_000);
  const took = performance.now() - t0;
  t.equal(run.exitCode, 0, `the cron command: ${command}\n${tail(run.stdout, 2500)}\n${tail(run.stderr, 2500)}`);
  t.comment(`the cron check-in took ${secs(took)}; its log: ${run.stderr.trim().split('\n').slice(-4).join(' | ')}`);
  t.equal(await wgEndpoint('b1', 'a1'), `${lab.publicIp('a1')}:51821`, 'b1 holds a1 at the NAT\'s public address: direct, hole punched');
  await m.pingUntil('b1', 'a1', mesh.a1!, 5000);
  await m.pingUntil('a1', 'b1', mesh.b1!, 5000);
  t.ok(took < 45_000, `within the check-in's budget: ${secs(took)}`);
  const shown = await m.admin<{ peers?: { name: string; path: string; winner: { kind: string } | null }[] }>(['nodes', 'show', NET, 'b1']);
  t.equal(shown.peers?.find((p) => p.name === 'a1')?.path, 'direct', `nodes show b1: ${JSON.stringify(shown.peers)}`);

  const t1 = performance.now();
  const again = await m.runLong('b1', ['sh', '-c', command], 60_000);
  t.equal(again.exitCode, 0);
  t.ok(performance.now() - t1 < 10_000, `the next run, with the path working, tries nothing: ${secs(performance.now() - t1)}`);
  t.equal(await wgEndpoint('b1', 'a1'), `${lab.publicIp('a1')}:51821`, 'and keeps the direct endpoint');
});
