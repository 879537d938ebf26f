// `server --node` in the harness (simulated platform, real gRPC): the controller's host joins
// every network as a node, networks created later too, and its agent follows them.
import t from 'tap';
import { startHarness } from '../helpers/harness.ts';
import { serverNodeName, startServerNode } from '../../src/cli/server-node.ts';
import type { MeshNode } from '../../src/core/types.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

t.test('server --node: the controller joins a network created while it runs, once, with a single-use key', async (t) => {
  const h = await startHarness();
  t.teardown(() => h.stopAll());
  const logs: string[] = [];
  // (The simulated platform has one interface: one network is what it can show.)
  const env = { ...(await h.agent()), log: (m: string) => void logs.push(m) };
  const node = await startServerNode(h.ctl, env, { name: 'hq', everyMs: 100 });
  t.teardown(() => node.stop());
  t.same(await node.sync(), [], 'no network yet: nothing to join');
  await h.admin('POST', '/networks', { name: 'office', cidr: '10.60.0.0/24' });
  const names = async (net: string) => (await h.admin<MeshNode[]>('GET', `/networks/${net}/nodes`)).map((n) => n.name);
  const end = Date.now() + 10_000;
  while (!(await names('office')).includes('hq') && Date.now() < end) await sleep(50);
  t.same(await names('office'), ['hq'], `joined the network created later; its log: ${logs.slice(-3).join(' | ')}`);
  t.same(await node.sync(), [], 'nothing left to join');
  const keys = await h.admin<{ name: string; usesRemaining: number | null }[]>('GET', '/networks/office/keys');
  t.ok(keys.length === 1 && keys[0]!.usesRemaining === 0, `one single-use key, used up: ${JSON.stringify(keys)}`);
});

t.test('serverNodeName: the given name, else the host name as a DNS label', async (t) => {
  t.equal(serverNodeName('edge'), 'edge');
  t.match(serverNodeName(), /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/);
});
