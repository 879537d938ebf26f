// Issue 10, `meshctl server --node`: the controller's host joins its own networks as a node with
// its own agent (real wireguard-go in the controller's namespace). It is the public peer that
// observes NATed nodes' mapped endpoints from the first handshake: a node behind a
// --random-fully NAT is seen on a port other than its own, so its pair with another NATed node is
// relayed at once, and every pair pings. The controller's host holds only its own node's key.
import t from 'tap';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { createLab, sweepStale, uniquePrefix, type Lab, type LabProcess } from './lab.ts';
import { natPrereqs } from './prereqs.ts';
import { bare, dropMeshctlEnv, meshTools, secs, sleep, type NodeOut, settle, tail } from './mesh-helpers.ts';

const STEM = 'sn';
const NET = 'snet';
const IF = 'mesh-snet';

dropMeshctlEnv();


const skip = await natPrereqs();
t.setTimeout(240_000);

t.test('server --node: the controller joins its networks as a node and observes the NATed nodes', { skip, timeout: 200_000 }, async (t) => {
  await sweepStale(STEM);
  const lab: Lab = await createLab({
    prefix: uniquePrefix(STEM),
    hosts: ['ctl'],
    sites: [
      { router: 'ra', nat: 'port-keeping', hosts: ['a1'] },
      { router: 'rc', nat: 'random', hosts: ['c1'] },
    ],
  });
  t.teardown(() => lab.destroy());
  const D = `${lab.dir('ctl')}/data`;
  const m = meshTools(lab, D);
  const procs: Record<string, LabProcess> = {};
  t.afterEach(() => {
    if (!t.passing()) t.comment(Object.entries(procs).map(([h, p]) => `${h}:\n${tail(p.output())}`).join('\n'));
  });
  procs.ctl = await m.startController(60_000, ['--node', '--node-name', 'ctl', '--node-config-dir', m.etc('ctl')]);
  await m.admin(['network', 'create', NET, '--cidr', '10.48.0.0/24', '--keepalive', '20']);
  const t0 = performance.now();
  let ctlNode: NodeOut | undefined;
  while (!(ctlNode = (await m.nodesList(NET)).get('ctl')) && performance.now() - t0 < 30_000) await sleep(250);
  t.ok(ctlNode, 'the controller\'s host joined the new network as node "ctl"');
  t.comment(`joined ${secs(performance.now() - t0)} after the network was created`);
  const mesh: Record<string, string> = { ctl: bare(ctlNode!.address) };
  const { token } = await m.admin<{ token: string }>(['keys', 'create', NET, '--uses', '5']);
  for (const h of ['a1', 'c1']) {
    const j = await m.join(h, token);
    mesh[h] = bare(j.address);
    procs[h] = m.spawnAgent(h);
  }
  const j0 = performance.now();
  const times = await m.meshPings(['ctl', 'a1', 'c1'], mesh, 40_000, j0);
  t.comment(`every pair pinged within ${secs(Math.max(...times.values()))} of the last join`);
  const keyOf = async (h: string) => (await m.nodesList(NET)).get(h)!.publicKey;
  const wgEndpoint = async (h: string, of: string) => {
    const k = await keyOf(of);
    return (await m.wgPeers(h, IF)).find((p) => p.publicKey === k)?.endpoint ?? '(none)';
  };
  const seen = await wgEndpoint('ctl', 'c1');
  t.equal(seen.slice(0, seen.lastIndexOf(':')), lab.publicIp('c1'), `the controller's node holds c1 at its NAT: ${seen}`);
  t.not(seen, `${lab.publicIp('c1')}:51821`, 'on a port the --random-fully NAT picked, not c1\'s own');
  const ac = await settle(() => wgEndpoint('a1', 'c1'), (ep) => ep.startsWith(`${lab.ip('ctl')}:`)); // see settle
  t.equal(ac.slice(0, ac.lastIndexOf(':')), lab.ip('ctl'), `a1 and c1 go through the controller's relay: ${ac}`);
  // The controller's host has its own node key and no other node's.
  const keys = await Promise.all(['a1', 'c1'].map(async (h) => {
    const dir = join(m.etc(h), 'networks');
    const f = (await readdir(dir)).find((x) => x.endsWith('.key'));
    return f ? (await readFile(join(dir, f), 'utf8')).trim() : '';
  }));
  t.ok(keys.every((k) => k.length === 44));
  const grep = await lab.run('ctl', ['grep', '-rlF', '-e', keys[0]!, '-e', keys[1]!, lab.dir('ctl')], { allowFail: true });
  t.equal(grep.stdout.trim(), '', 'no file on the controller\'s host holds a1\'s or c1\'s key');
});
