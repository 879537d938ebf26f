import t from 'tap';
import assert from 'node:assert/strict';
import { buildView, type ViewNode } from '../../src/core/view.ts';
import { newNetwork } from '../../src/core/network.ts';

const net = { ...newNetwork({ name: 'office', cidr: '10.10.0.0/24', keepalive: 25 }), version: 7 };
const node = (i: number, approved = true, endpoint: string | null = `172.31.0.${10 + i}:51821`): ViewNode => ({
  id: `id${i}`, name: `n${i}`, address: `10.10.0.${i}`, publicKey: `pk${i}`, endpoint, listenPort: 51821, approved,
});

t.test('a node sees every other approved node as a peer, not itself', async () => {
  const all = [node(1), node(2), node(3)];
  const v = buildView(all[0]!, net, all);
  assert.deepEqual(v.peers.map((p) => p.name), ['n2', 'n3']);
  assert.deepEqual(v.peers[0], { id: 'id2', name: 'n2', publicKey: 'pk2', allowedIps: ['10.10.0.2/32'], endpoint: '172.31.0.12:51821', keepalive: 25, address: '10.10.0.2' });
  assert.equal(v.version, 7);
  assert.deepEqual(v.self, { id: 'id1', name: 'n1', address: '10.10.0.1', prefixLength: 24, listenPort: 51821, endpoint: '172.31.0.11:51821', approved: true });
  assert.deepEqual(v.network, { name: 'office', cidr: '10.10.0.0/24', keepalive: 25, listenPort: 51821, domain: 'office.internal', dns: true });
});

t.test('pending nodes have no peers and are nobody\'s peer', async () => {
  const all = [node(1), node(2, false), node(3)];
  assert.deepEqual(buildView(all[1]!, net, all).peers, []);
  assert.deepEqual(buildView(all[0]!, net, all).peers.map((p) => p.name), ['n3']);
});

t.test('an unknown endpoint is empty, not "null"', async () => {
  const all = [node(1), node(2, true, null)];
  assert.equal(buildView(all[0]!, net, all).peers[0]!.endpoint, '');
});

t.test('stated and observed endpoints', async () => {
  const { statedEndpoint, observedEndpoint } = await import('../../src/core/endpoint.ts');
  assert.equal(statedEndpoint('203.0.113.7', 51822), '203.0.113.7:51822');
  assert.equal(statedEndpoint('203.0.113.7:4000', 51822), '203.0.113.7:4000');
  assert.equal(statedEndpoint('vpn.example.org', 51821), 'vpn.example.org:51821');
  assert.throws(() => statedEndpoint('203.0.113.7:99999', 51821), /out of range/);
  assert.throws(() => statedEndpoint('a b', 51821), /not HOST:PORT|not a host/);
  assert.equal(observedEndpoint('ipv4:172.31.0.11:40000', 51821), '172.31.0.11:51821');
  assert.equal(observedEndpoint('172.31.0.11:40000', 51821), '172.31.0.11:51821');
  assert.equal(observedEndpoint('[::ffff:172.31.0.11]:40000', 51821), '172.31.0.11:51821');
  assert.equal(observedEndpoint('unix:/x', 51821), null);
});
