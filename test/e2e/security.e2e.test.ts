// Issue 9 holes 2 and 5 on real hosts: a controller whose node API listens on [::]:50051 (a
// dual-stack socket: grpc-js reports its IPv4 peers as "::ffff:a.b.c.d:port", without brackets),
// and a node whose stated endpoint no resolver knows, with wireguard-go between the others.
import t from 'tap';
import { createLab, sweepStale, uniquePrefix, type Lab, type LabProcess } from './lab.ts';
import { prereqSkip } from './prereqs.ts';
import { bare, BIN, dropMeshctlEnv, meshTools, sleep, type NodeOut } from './mesh-helpers.ts';

const STEM = 'sb';
t.setTimeout(400_000);
const skip = await prereqSkip();
dropMeshctlEnv();

t.test('holes 2 and 5 on real hosts', { skip, timeout: 380_000 }, async (t) => {
  await sweepStale(STEM);
  const lab: Lab = await createLab({ prefix: uniquePrefix(STEM), hosts: ['ctl', 'n1', 'n2', 'n3'] });
  t.teardown(() => lab.destroy());
  const D = `${lab.dir('ctl')}/data`;
  const m = meshTools(lab, D);
  // The controller's node API on the IPv6 wildcard, reached by the nodes over IPv4.
  const server: LabProcess = lab.spawn('ctl', [process.execPath, BIN, 'server', '--data-dir', D, '--api-addr', '0.0.0.0:8081', '--grpc-addr', '[::]:50051', '--public-host', lab.ip('ctl')]);
  t.teardown(() => server.stop());
  const end = Date.now() + 60_000;
  for (;;) {
    if (server.child.exitCode !== null) throw new Error(`the server exited:\n${server.output().slice(-1500)}`);
    const grpc = (await lab.run('ctl', ['ss', '-Hltn', 'sport = :50051'])).stdout;
    if (/\[::\]:50051|\*:50051/.test(grpc) && (await m.mc('ctl', ['network', 'list', '--data-dir', D, '--json'])).exitCode === 0) break;
    if (Date.now() > end) throw new Error(`the controller did not serve within 60 s:\n${server.output()}`);
    await sleep(200);
  }
  await m.admin(['network', 'create', 'office', '--cidr', '10.10.0.0/24']);
  const { token } = await m.admin<{ token: string }>(['keys', 'create', 'office', '--uses', '4']);

  await t.test('hole 2: a node states an endpoint no resolver knows; the rest of the mesh, and a new node\'s join, still work', async (t) => {
    const bad = await m.ok<{ address: string }>('n1', ['join', '-t', token, '--name', 'n1', '--endpoint', 'does-not-resolve.invalid', '--config-dir', m.etc('n1'), '--daemon', 'off', '--json']);
    t.ok(bad.address, 'n1 joins stating an unresolvable endpoint');
    const j2 = await m.join('n2', token);
    const j3 = await m.join('n3', token);
    t.ok(j2.address && j3.address, 'n2 and n3 join although n1\'s endpoint cannot be resolved');
    await m.ok('n2', ['checkin', '--config-dir', m.etc('n2'), '--json']);
    const pings = await m.meshPings(['n2', 'n3'], { n2: bare(j2.address), n3: bare(j3.address) }, 15_000);
    t.equal(pings.size, 2, 'n2 and n3 ping each other over the mesh');
    const peers = await m.wgPeers('n2', 'mesh-office');
    t.equal(peers.length, 2, 'n2 has both peers, n1 included (without an endpoint)');
  });

  await t.test('hole 5: an IPv4 node seen on a dual-stack [::]:50051 listener gets its observed endpoint', async (t) => {
    const nodes = await m.admin<NodeOut[]>(['nodes', 'list', 'office']);
    for (const h of ['n2', 'n3']) {
      const n = nodes.find((x) => x.name === h);
      t.match(n?.endpoint ?? 'null', new RegExp(`^${lab.ip(h).replace(/\./g, '\\.')}:\\d+$`), `${h}'s endpoint is the address the controller saw: ${n?.endpoint}`);
    }
  });
});
