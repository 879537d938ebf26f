// The view digest: equal for equal content however it was delivered (built by the controller,
// encoded and decoded by the node API, or patched by deltas), different for any change a node
// would act on; and the controller's O(1) form equals the digest of the view it would send.
import t from 'tap';
import assert from 'node:assert/strict';
import { buildView, type NodeView, type ViewNode } from '../../src/core/view.ts';
import { viewDigest } from '../../src/core/view-digest.ts';
import { applyDelta } from '../../src/core/change.ts';
import { newNetwork } from '../../src/core/network.ts';
import { nodeService } from '../../src/rpc/proto.ts';
import { ViewBuilder } from '../../src/controller/node-api/view-builder.ts';
import { fakeMemberStore, memberRow } from '../helpers/fake-store.ts';

const key = (i: number) => Buffer.alloc(32, i).toString('base64');
const node = (i: number, extra: Partial<ViewNode> = {}): ViewNode => ({ id: `id${i}`, name: `n${i}`, address: `10.10.0.${i}`, publicKey: key(i), endpoint: `192.0.2.${i}:51821`, listenPort: 51821, approved: true, ...extra });
const net = { ...newNetwork({ name: 'office', cidr: '10.10.0.0/24' }), version: 7 };
const members = [node(1), node(2, { egressRanges: ['192.168.9.0/24'], egressNat: true }), node(3), node(4, { approved: false })];
const records = [{ name: 'db', type: 'A' as const, address: '10.10.0.3' }, { name: 'www', type: 'CNAME' as const, address: 'n1' }];

/** A view as the agent gets it: encoded and decoded by the node API (proto3 defaults filled). */
function overTheWire(v: NodeView): NodeView {
  const w = nodeService().service.Watch!;
  return (w.responseDeserialize(w.responseSerialize({ version: v.version, snapshot: v })) as { snapshot: NodeView }).snapshot;
}

t.test('equal content, equal digest: built, sent over the node API, or patched by deltas', async () => {
  const v = buildView(members[0]!, net, members, [], records);
  const wire = overTheWire(v);
  assert.notDeepEqual(wire, v, 'the wire form differs in representation (defaults)');
  assert.equal(viewDigest(wire), viewDigest(v));
  assert.equal(viewDigest({ ...v, version: 99 }), viewDigest(v), 'the version is not content');
  assert.equal(viewDigest({ ...v, peers: [...v.peers].reverse() }), viewDigest(v), 'nor is the peers\' order');
  // the view before a join, plus the join's delta, is the view after it
  const before = buildView(members[0]!, net, members.slice(0, 3), [], records);
  const patched = applyDelta(before, 8, { upserted: [], removed: [] });
  assert.equal(viewDigest(patched), viewDigest(before));
});

t.test('any change a node acts on changes the digest', async () => {
  const v = buildView(members[0]!, net, members, [], records);
  const d = viewDigest(v);
  const changed: [string, NodeView][] = [
    ['a peer\'s endpoint', { ...v, peers: v.peers.map((p, i) => (i ? p : { ...p, endpoint: '192.0.2.99:51821' })) }],
    ['a peer\'s key', { ...v, peers: v.peers.map((p, i) => (i ? p : { ...p, publicKey: key(42) })) }],
    ['a peer\'s allowed IPs', { ...v, peers: v.peers.map((p, i) => (i ? p : { ...p, allowedIps: [...p.allowedIps, '10.99.0.0/16'] })) }],
    ['a peer more', { ...v, peers: [...v.peers, { ...v.peers[0]!, id: 'id9', publicKey: key(9) }] }],
    ['a peer less', { ...v, peers: v.peers.slice(1) }],
    ['the keepalive', { ...v, network: { ...v.network, keepalive: 5 } }],
    ['its own address', { ...v, self: { ...v.self, address: '10.10.0.77' } }],
    ['its approval', { ...v, self: { ...v.self, approved: false } }],
    ['a record', { ...v, records: records.slice(1) }],
  ];
  for (const [what, w] of changed) assert.notEqual(viewDigest(w), d, what);
});

t.test('the controller\'s digest of a node\'s view, without building it, is the digest of that view', async () => {
  const { store, state, change } = fakeMemberStore(6);
  state.rows[2] = { ...state.rows[2]!, approved: false };
  state.rows[3] = { ...state.rows[3]!, egressRanges: ['192.168.0.0/24'], egressNat: true };
  const views = new ViewBuilder(store);
  const check = async (what: string) => {
    for (const r of state.rows) {
      const d = await views.digest(r);
      const v = await views.view(r);
      assert.deepEqual(d, { version: v.version, digest: viewDigest(v) }, `${what}: ${r.name}`);
    }
  };
  await check('as read');
  const joined = memberRow(7);
  change({ kind: 'node-upserted', network: 'office', version: 2, node: joined, keepalive: state.net.keepalive }, () => state.rows.push(joined));
  await check('after a join');
  change({ kind: 'node-removed', network: 'office', version: 3, nodeId: 'id2', publicKey: 'pk2' }, () => state.rows.splice(1, 1));
  await check('after a delete');
  state.net = { ...state.net, keepalive: 9 };
  await check('with another keepalive');
  // an ingress gateway's view has its clients: no digest, it is sent its view
  change({ kind: 'node-upserted', network: 'office', version: 4, node: { ...state.rows[0]!, ingress: true }, keepalive: 9 }, () => (state.rows[0] = { ...state.rows[0]!, ingress: true }));
  assert.equal(await views.digest(state.rows[0]!), null);
});
