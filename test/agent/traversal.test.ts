// src/agent/traversal.ts: which endpoint each peer gets, from the paths the controller sent and
// what WireGuard reports. A full paths update leaves out the peers reached at their view
// endpoint (see defaultPath): the agent must still traverse to them exactly as if named.
import t from 'tap';
import { Traversal, pathOf } from '../../src/agent/traversal.ts';
import type { NodeView, PeerView } from '../../src/core/view.ts';
import type { PathUpdate } from '../../src/core/change.ts';

const peer = (name: string, endpoint: string): PeerView => ({
  id: name, name, publicKey: name.toUpperCase().padEnd(43, 'A') + '=', allowedIps: [`10.0.0.${name.length}/32`], endpoint, keepalive: 0, address: `10.0.0.${name.length}`,
});
const p1 = peer('p', '203.0.113.7:51821');
const client = peer('client', '');
const view: NodeView = {
  self: { id: 'me', name: 'me', address: '10.0.0.1', prefixLength: 24, listenPort: 51821, endpoint: '', approved: true },
  network: { name: 'office', cidr: '10.0.0.0/24', keepalive: 20, listenPort: 51821 },
  peers: [p1, client],
  version: 3,
};
const now = 1_800_000_000_000;

t.test('a peer with no entry in a paths update is tried at its view endpoint, like a named one', async (t) => {
  const omitted: PathUpdate = { paths: [], tag: 'e.1' };
  const named: PathUpdate = { paths: [{ publicKey: p1.publicKey, candidates: [{ endpoint: p1.endpoint, kind: 'controller' }], relay: '' }], tag: 'e.1' };
  const a = new Traversal();
  const b = new Traversal();
  const ra = a.tick(view, omitted, [], now);
  const rb = b.tick(view, named, [], now);
  t.same(ra, rb, 'the same step');
  t.equal(a.endpoints.get(p1.publicKey), p1.endpoint, 'probing its view endpoint');
  t.same(ra.nudges, [p1.address], 'a packet starts the handshake');
  t.notOk(a.endpoints.has(client.publicKey), 'a peer without an endpoint (an external client) has no path');
  t.same(pathOf(omitted, p1.publicKey, p1.endpoint, p1.endpoint), { path: 'direct', candidate: { endpoint: p1.endpoint, kind: 'controller' } });
});

t.test('no paths held (an older controller): no traversal at all, the view decides', async (t) => {
  const a = new Traversal();
  const r = a.tick(view, undefined, [], now);
  t.equal(r.changed, false);
  t.equal(a.endpoints.size, 0);
  t.same(pathOf(undefined, p1.publicKey, p1.endpoint, p1.endpoint), { path: 'direct', candidate: null });
});
