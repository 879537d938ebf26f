import t from 'tap';
import { StatusTracker, type StatusEvent } from '../../src/controller/events/status-tracker.ts';
import type { MeshNode, NodeStatus } from '../../src/core/types.ts';

const node = (network: string, id: string, status: NodeStatus): MeshNode => ({
  id, name: `n-${id}`, network, address: '10.0.0.1', publicKey: 'k', endpoint: null, listenPort: 51820, status, lastCheckin: null, ingress: false, egressRanges: [], egressNat: false,
});

function tracker(nodesOf: () => MeshNode[], opts = {}) {
  const got: StatusEvent[] = [];
  const calls: string[] = [];
  const tr = new StatusTracker(
    async (net) => (calls.push(`list ${net ?? '*'}`), nodesOf().filter((n) => net === undefined || n.network === net)),
    async (net, id) => (calls.push(`one ${net}/${id}`), nodesOf().find((n) => n.network === net && n.id === id)),
    (e) => got.push(e),
    { sweepMs: 0, touchMs: 10, ...opts },
  );
  return { tr, got, calls };
}

t.test('publishes transitions only: the first full sweep is the baseline; new and changed nodes after it', async (t) => {
  let nodes = [node('a', '1', 'healthy'), node('a', '2', 'pending'), node('b', '3', 'down')];
  const { tr, got, calls } = tracker(() => nodes);
  t.teardown(() => tr.close());
  await tr.sweep('a'); // before the baseline a network sweep takes the full one
  t.same(calls, ['list *']);
  t.same(got, []);
  nodes = [node('a', '1', 'stale'), node('a', '2', 'pending'), node('b', '3', 'down'), node('b', '4', 'down')];
  await tr.sweep();
  t.same(got.map((e) => [e.network, e.nodeId, e.status]), [['a', '1', 'stale'], ['b', '4', 'down']]);
  t.same(Object.keys(got[0]!).sort(), ['lastContact', 'name', 'network', 'nodeId', 'status']);
  got.length = 0;
  await tr.sweep();
  t.same(got, [], 'nothing changed, nothing sent');
  // A node removed and back (same id): announced again.
  nodes = nodes.filter((n) => n.id !== '1');
  await tr.sweep('a');
  nodes.push(node('a', '1', 'stale'));
  await tr.sweep('a');
  t.same(got.map((e) => [e.nodeId, e.status]), [['1', 'stale']]);
});

t.test('a touched node is read on its own, once per burst of touches', async (t) => {
  const nodes = [node('a', '1', 'stale'), node('a', '2', 'down')];
  const { tr, got, calls } = tracker(() => nodes);
  t.teardown(() => tr.close());
  tr.touch('a', '1'); // before the baseline: nothing to compare with
  await new Promise((r) => setTimeout(r, 40));
  t.same(got, []);
  await tr.sweep();
  calls.length = 0;
  nodes[0] = node('a', '1', 'healthy');
  for (let i = 0; i < 5; i++) tr.touch('a', '1');
  tr.touch('a', '2');
  tr.touch('a', '9'); // gone
  await new Promise((r) => setTimeout(r, 40));
  await tr.sweep('a');
  t.same(calls, ['one a/1', 'one a/2', 'one a/9', 'list a'], 'one read per touched node, no list');
  t.same(got.map((e) => [e.nodeId, e.status]), [['1', 'healthy']]);
});

t.test('a failing store read loses nothing: the next sweep publishes the transition', async (t) => {
  let fail = false;
  let status: NodeStatus = 'healthy';
  const { tr, got } = tracker(() => {
    if (fail) throw new Error('store down');
    return [node('a', '1', status)];
  });
  await tr.sweep();
  fail = true;
  status = 'stale';
  await tr.sweep();
  fail = false;
  await tr.sweep();
  t.same(got.map((e) => e.status), ['stale']);
  tr.close();
  status = 'down';
  await tr.sweep();
  tr.touch('a', '1');
  t.equal(got.length, 1, 'nothing after close');
});

t.test('with deadlines: after the baseline only the nodes whose deadline passed are read, never the list', async (t) => {
  let clock = 1_000_000;
  const due: Record<string, number | null> = { 1: clock + 90_000, 2: clock + 300_000, 3: null };
  let nodes = [node('a', '1', 'healthy'), node('a', '2', 'stale'), node('b', '3', 'down')];
  const { tr, got, calls } = tracker(() => nodes, { sweepMs: 10, now: () => clock, changesAt: (n: MeshNode) => due[n.id] ?? null });
  t.teardown(() => tr.close());
  t.same(await tr.counts(), [{ network: 'a', status: 'healthy', count: 1 }, { network: 'a', status: 'stale', count: 1 }, { network: 'b', status: 'down', count: 1 }], 'counts before any sweep take the first one');
  t.same(calls, ['list *'], 'one listing');
  calls.length = 0;
  await new Promise((r) => setTimeout(r, 60));
  t.same(calls, [], 'nothing is due: no read at all');
  clock += 90_001; // node 1's deadline
  nodes = [node('a', '1', 'stale'), node('a', '2', 'stale'), node('b', '3', 'down')];
  due[1] = clock + 210_000;
  await new Promise((r) => setTimeout(r, 60));
  t.same(calls, ['one a/1'], 'node 1 read once, at its deadline');
  t.same(got.map((e) => [e.nodeId, e.status]), [['1', 'stale']]);
  t.same((await tr.counts())!.find((c) => c.network === 'a' && c.status === 'stale')?.count, 2);
  // A handshake report touches the nodes last seen stale or down, not the healthy ones.
  nodes = [node('a', '1', 'stale'), node('a', '2', 'healthy'), node('b', '3', 'healthy')];
  calls.length = 0;
  tr.handshakes('a', ['2']);
  tr.handshakes('b', ['3', '9']);
  t.same(await tr.counts(), [{ network: 'a', status: 'stale', count: 1 }, { network: 'a', status: 'healthy', count: 1 }, { network: 'b', status: 'healthy', count: 1 }], 'counts read the touched nodes first');
  t.same(calls.sort(), ['one a/2', 'one b/3'], 'node 9 is unknown, node 1 not reported');
  t.same(got.slice(1).map((e) => [e.nodeId, e.status]), [['2', 'healthy'], ['3', 'healthy']]);
  calls.length = 0;
  tr.handshakes('a', ['2']);
  await new Promise((r) => setTimeout(r, 30));
  t.same(calls, [], 'a healthy node is not read for a report');
  // Removed: forgotten, no longer counted or due.
  tr.forget('a', '1');
  tr.forget('b');
  t.same(await tr.counts(), [{ network: 'a', status: 'healthy', count: 1 }]);
  clock += 10 * 60_000;
  due[2] = clock + 90_000; // what it is when read again
  await new Promise((r) => setTimeout(r, 60));
  t.same(calls, ['one a/2'], 'only node 2 is still due, and read once: its next deadline is later');
});
