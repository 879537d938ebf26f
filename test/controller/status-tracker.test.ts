import t from 'tap';
import { StatusTracker, type StatusEvent } from '../../src/controller/events/status-tracker.ts';
import type { MeshNode, NodeStatus } from '../../src/core/types.ts';

const node = (network: string, id: string, status: NodeStatus): MeshNode => ({
  id, name: `n-${id}`, network, address: '10.0.0.1', publicKey: 'k', endpoint: null, listenPort: 51820, status, lastCheckin: null, ingress: false, egressRanges: [], egressNat: false,
});

t.test('publishes transitions only: the first full sweep is the baseline; new and changed nodes after it', async (t) => {
  let nodes = [node('a', '1', 'healthy'), node('a', '2', 'pending'), node('b', '3', 'down')];
  const got: StatusEvent[] = [];
  const calls: (string | undefined)[] = [];
  const tr = new StatusTracker(async (net) => (calls.push(net), nodes.filter((n) => net === undefined || n.network === net)), (e) => got.push(e), { sweepMs: 0, touchMs: 10 });
  t.teardown(() => tr.close());
  await tr.sweep('a'); // before the baseline a network sweep takes the full one
  t.same(calls, [undefined]);
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
  tr.touch('a');
  tr.touch('a');
  await new Promise((r) => setTimeout(r, 50));
  await tr.sweep('b');
  t.same(got.map((e) => [e.nodeId, e.status]), [['1', 'stale']]);
  t.same(calls.slice(-3), ['a', 'a', 'b'], 'two touches, one sweep of the network');
});

t.test('a failing store read loses nothing: the next sweep publishes the transition', async (t) => {
  let fail = false;
  let status: NodeStatus = 'healthy';
  const got: StatusEvent[] = [];
  const tr = new StatusTracker(async () => {
    if (fail) throw new Error('store down');
    return [node('a', '1', status)];
  }, (e) => got.push(e), { sweepMs: 0 });
  t.teardown(() => tr.close());
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
  tr.touch('a');
  t.equal(got.length, 1, 'nothing after close');
});
