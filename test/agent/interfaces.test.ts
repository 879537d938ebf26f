// Issue 8 items 1 and 3 in the harness (real controller on loopback, simulated host with eth0):
// meshctl never takes over an interface it did not make, and two networks whose default names
// collide get two interfaces.
import t from 'tap';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join as pathJoin } from 'node:path';
import { startTestController, type TestController } from '../helpers/controller.ts';
import { multiHost } from '../helpers/host-sim.ts';
import { join, leave } from '../../src/agent/node.ts';
import { alternateInterfaces } from '../../src/agent/interfaces.ts';
import { removeWireGuardInterface } from '../../src/platform/wireguard.ts';
import { MeshError } from '../../src/core/errors.ts';

let tc: TestController;
const dirs: string[] = [];
t.before(async () => {
  tc = await startTestController({ grpc: true });
});
t.teardown(async () => {
  await tc?.stop();
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

const admin = <T>(method: string, path: string, body?: unknown) => tc.admin<T>(method, path, body);
const tokenFor = async (network: string) => (await admin<{ token: string }>('POST', `/networks/${network}/keys`, { uses: 'unlimited' })).token;
const newDir = async () => {
  const d = await mkdtemp(pathJoin(tmpdir(), 'meshctl-if-'));
  dirs.push(d);
  return d;
};

t.test('join --interface eth0 is refused before anything happens, and eth0 is untouched', async (t) => {
  await admin('POST', '/networks', { name: 'office', cidr: '10.10.0.0/24' });
  const host = multiHost();
  const env = { configDir: await newDir(), runner: host.runner };
  const err = await join(env, { token: await tokenFor('office'), name: 'n1', interface: 'eth0' }).then(() => null, (e: unknown) => e);
  t.ok(err instanceof MeshError, `refused with a MeshError: ${err}`);
  t.equal((err as MeshError).code, 'ALREADY_EXISTS');
  t.match((err as MeshError).message, /eth0 already exists .* meshctl did not create it/);
  t.ok(host.links.has('eth0'), 'eth0 is still there');
  t.same(host.links.get('eth0')!.addrs, ['192.0.2.10/24'], 'and keeps its address');
  t.notOk(host.runner.lines.some((l) => / eth0( |$)/.test(l) && !l.startsWith('ip link show')), `nothing but a look at eth0 was run: ${host.runner.lines.join('; ')}`);
  t.same(await admin('GET', '/networks/office/nodes'), [], 'the controller never saw a join');
});

t.test('removeWireGuardInterface refuses a link that is not WireGuard', async (t) => {
  const host = multiHost();
  await t.rejects(removeWireGuardInterface(host.runner, 'eth0'), { code: 'COMMAND_FAILED', message: /not a WireGuard interface/ });
  t.ok(host.links.has('eth0'));
  t.equal(await removeWireGuardInterface(host.runner, 'mesh-absent'), false);
});

t.test('two networks whose default names collide get two interfaces; leaving one keeps the other', async (t) => {
  const long = 'thisnameisveryveryverylongmorethan15';
  const other = 'thisnameisother';
  await admin('POST', '/networks', { name: long, cidr: '10.30.0.0/24' });
  await admin('POST', '/networks', { name: other, cidr: '10.31.0.0/24' });
  const host = multiHost();
  const logs: string[] = [];
  const env = { configDir: await newDir(), runner: host.runner, log: (m: string) => void logs.push(m) };
  const a = await join(env, { token: await tokenFor(long), name: 'n1' });
  const b = await join(env, { token: await tokenFor(other), name: 'n1', port: 51900 });
  t.equal(a.interface, 'mesh-thisnameis');
  t.not(b.interface, a.interface, 'the second network gets its own interface');
  t.equal(b.interface, alternateInterfaces(other)[0]);
  t.ok(logs.some((l) => l.includes(`interface mesh-thisnameis is taken (network "${long}" uses it); using ${b.interface}`)), `the join says which: ${logs.join(' | ')}`);
  t.same(host.links.get(a.interface)!.addrs, [`${a.address}/24`], 'the first keeps its address');
  t.same(host.links.get(b.interface)!.addrs, [`${b.address}/24`]);
  // An explicit name another network uses is refused.
  await admin('POST', '/networks', { name: 'third', cidr: '10.32.0.0/24' });
  await t.rejects(join(env, { token: await tokenFor('third'), name: 'n1', interface: a.interface }), { code: 'ALREADY_EXISTS', message: new RegExp(`used by network "${long}"`) });
  await leave(env, other);
  t.notOk(host.links.has(b.interface), 'leave removed the second network\'s interface');
  t.ok(host.links.get(a.interface)?.up, 'and the first is still up');
  t.same(host.links.get(a.interface)!.addrs, [`${a.address}/24`]);
});
