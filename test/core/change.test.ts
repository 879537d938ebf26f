import t from 'tap';
import assert from 'node:assert/strict';
import { deltaFor, applyDelta, type Change } from '../../src/core/change.ts';
import { buildView, type ViewNode } from '../../src/core/view.ts';
import { newNetwork } from '../../src/core/network.ts';

const node = (i: number, approved = true): ViewNode => ({ id: `id${i}`, name: `n${i}`, address: `10.10.0.${i}`, publicKey: `pk${i}`, endpoint: `172.31.0.${10 + i}:51821`, listenPort: 51821, approved });
const net = newNetwork({ name: 'office', cidr: '10.10.0.0/24' });

t.test('a joined node reaches every approved receiver as a peer delta; itself gets a snapshot', async () => {
  const c: Change = { kind: 'node-upserted', network: 'office', version: 5, node: node(4), keepalive: 20 };
  const d = deltaFor({ id: 'id1', approved: true }, c);
  assert.ok(typeof d === 'object');
  assert.deepEqual(d.upserted.map((p) => p.publicKey), ['pk4']);
  assert.equal(deltaFor({ id: 'id4', approved: true }, c), 'snapshot');
  assert.deepEqual(deltaFor({ id: 'id2', approved: false }, c), { upserted: [], removed: [] });
});

t.test('a pending node is not announced; a removed node is removed; the removed node is told', async () => {
  const pending: Change = { kind: 'node-upserted', network: 'office', version: 6, node: node(5, false), keepalive: 20 };
  assert.deepEqual(deltaFor({ id: 'id1', approved: true }, pending), { upserted: [], removed: ['pk5'] });
  const gone: Change = { kind: 'node-removed', network: 'office', version: 7, nodeId: 'id2', publicKey: 'pk2' };
  assert.deepEqual(deltaFor({ id: 'id1', approved: true }, gone), { upserted: [], removed: ['pk2'] });
  assert.equal(deltaFor({ id: 'id2', approved: true }, gone), 'removed');
  const settings = { name: 'office', cidr: '10.10.0.0/24', keepalive: 25, listenPort: 51821 };
  assert.deepEqual(deltaFor({ id: 'id1', approved: true }, { kind: 'settings', network: 'office', version: 8, settings }), { upserted: [], removed: [], network: settings });
});

t.test('applying deltas gives the same view as rebuilding it', async () => {
  const all = [node(1), node(2), node(3)];
  let v = buildView(all[0]!, { ...net, version: 3 }, all);
  const add = deltaFor({ id: 'id1', approved: true }, { kind: 'node-upserted', network: 'office', version: 4, node: node(4), keepalive: 20 });
  assert.ok(typeof add === 'object');
  v = applyDelta(v, 4, add);
  const rm = deltaFor({ id: 'id1', approved: true }, { kind: 'node-removed', network: 'office', version: 5, nodeId: 'id2', publicKey: 'pk2' });
  assert.ok(typeof rm === 'object');
  v = applyDelta(v, 5, rm);
  const expected = buildView(all[0]!, { ...net, version: 5 }, [node(1), node(3), node(4)]);
  assert.deepEqual(v, expected);
  // an upsert of a known peer replaces it (e.g. a new endpoint)
  const moved = { ...node(3), endpoint: '172.31.0.99:51821' };
  const up = deltaFor({ id: 'id1', approved: true }, { kind: 'node-upserted', network: 'office', version: 6, node: moved, keepalive: 20 });
  assert.ok(typeof up === 'object');
  v = applyDelta(v, 6, up);
  assert.equal(v.peers.find((p) => p.id === 'id3')!.endpoint, '172.31.0.99:51821');
  assert.equal(v.peers.length, 2);
  // a settings delta gives every peer the network's new keepalive, as a rebuild would
  const settings = { name: 'office', cidr: '10.10.0.0/24', keepalive: 45, listenPort: 51821, domain: 'office.internal', dns: true };
  const sd = deltaFor({ id: 'id1', approved: true }, { kind: 'settings', network: 'office', version: 7, settings });
  assert.ok(typeof sd === 'object');
  v = applyDelta(v, 7, sd);
  assert.deepEqual(v, buildView(node(1), { ...net, keepalive: 45, version: 7 }, [node(1), moved, node(4)]));
});
