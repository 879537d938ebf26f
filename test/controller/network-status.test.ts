// GET /api/v1/networks/:network/status: health plus what each node reported at its last check-in
// (version applied, traffic, handshakes per peer), against a real controller on loopback.
import t from 'tap';
import { startTestController, type TestController } from '../helpers/controller.ts';
import { decodeJoinToken } from '../../src/core/join-token.ts';
import { generateKeyPair } from '../../src/core/wg-key.ts';
import type { NetworkLiveStatus } from '../../src/core/types.ts';

async function join(tc: TestController, network: string, name: string) {
  const key = await tc.admin<{ token: string }>('POST', `/networks/${network}/keys`, { name: `k-${name}` });
  const jt = decodeJoinToken(key.token);
  const { publicKey } = generateKeyPair();
  const r = await tc.ctl.nodeApi.join({ network, keyName: jt.keyName, keySecret: jt.secret, name, publicKey, listenPort: 0, endpoint: '' }, '127.0.0.1:40000');
  return { id: r.nodeId, publicKey };
}

const checkIn = async (tc: TestController, id: string, knownVersion: number, handshakes: { publicKey: string; latestHandshake: number; rxBytes?: number; txBytes?: number }[]) =>
  tc.ctl.nodeApi.checkIn((await tc.ctl.ctx.store.getNodeById(id))!, { listenPort: 0, endpoint: '', knownVersion, handshakes }, '127.0.0.1:40000');

t.test('network status: handshakes per peer, traffic and version from check-ins', async (t) => {
  const tc = await startTestController({ grpc: true });
  t.teardown(() => tc.stop());
  await tc.admin('POST', '/networks', { name: 'office', cidr: '10.10.0.0/24' });
  await tc.admin('POST', '/networks', { name: 'lab', cidr: '10.20.0.0/24' });
  const n1 = await join(tc, 'office', 'n1');
  const n2 = await join(tc, 'office', 'n2');
  const n3 = await join(tc, 'office', 'n3');
  const other = await join(tc, 'lab', 'x1');

  let s = await tc.admin<NetworkLiveStatus>('GET', '/networks/office/status');
  t.equal(s.network, 'office');
  t.same(s.nodes.map((n) => n.name), ['n1', 'n2', 'n3']);
  const before = s.nodes[0]!;
  t.same({ version: before.version, rxBytes: before.rxBytes, txBytes: before.txBytes, reportedAt: before.reportedAt }, { version: null, rxBytes: 0, txBytes: 0, reportedAt: null }, 'nothing reported yet');
  t.same(before.handshakes, [{ peer: 'n2', publicKey: n2.publicKey, at: null, path: 'unknown' }, { peer: 'n3', publicKey: n3.publicKey, at: null, path: 'unknown' }], 'one entry per other member');

  const hs = Math.floor(Date.now() / 1000) - 5;
  const net = await tc.admin<{ version: number }>('GET', '/networks/office');
  await checkIn(tc, n1.id, net.version, [
    { publicKey: n2.publicKey, latestHandshake: hs, rxBytes: 1000, txBytes: 2000 },
    { publicKey: n3.publicKey, latestHandshake: 0, rxBytes: 0, txBytes: 148 },
    { publicKey: other.publicKey, latestHandshake: hs, rxBytes: 1e9, txBytes: 1e9 }, // not a member of office: ignored
  ]);
  await checkIn(tc, n2.id, net.version - 1, [{ publicKey: n1.publicKey, latestHandshake: hs + 1, rxBytes: 2000, txBytes: 1000 }]);
  s = await tc.admin<NetworkLiveStatus>('GET', '/networks/office/status');
  const [a, b, c] = s.nodes as [typeof before, typeof before, typeof before];
  t.equal(a.version, net.version);
  t.equal(b.version, net.version - 1);
  t.equal(a.rxBytes, 1000);
  t.equal(a.txBytes, 2148, 'summed over its peers; another network\'s key is not counted');
  t.equal(a.status, 'healthy');
  t.match(a.lastContact, /^\d{4}-/);
  t.match(a.reportedAt, /^\d{4}-/);
  t.same(a.handshakes, [{ peer: 'n2', publicKey: n2.publicKey, at: new Date(hs * 1000).toISOString(), path: 'unknown' }, { peer: 'n3', publicKey: n3.publicKey, at: null, path: 'unknown' }], 'path: unknown (nothing reported about NAT traversal)');
  t.same(b.handshakes.find((h) => h.peer === 'n1')!.at, new Date((hs + 1) * 1000).toISOString());
  t.equal(c.reportedAt, null);
  t.equal(c.status, 'healthy', 'its join counts as contact');
  t.same(Object.keys(a).sort(), ['address', 'endpoint', 'handshakes', 'id', 'lastContact', 'listenPort', 'name', 'reportedAt', 'rxBytes', 'status', 'txBytes', 'version']);

  // A removed node leaves the matrix (as a row and as a peer), and its report is forgotten.
  await tc.admin('DELETE', '/networks/office/nodes/n2');
  s = await tc.admin<NetworkLiveStatus>('GET', '/networks/office/status');
  t.same(s.nodes.map((n) => n.name), ['n1', 'n3']);
  t.same(s.nodes[0]!.handshakes.map((h) => h.peer), ['n3']);
  t.equal(tc.ctl.nodeApi.reports.get('office', n2.id), undefined);

  const missing = await tc.fetch(`${tc.apiUrl}/api/v1/networks/nosuch/status`, { headers: { authorization: `Bearer ${tc.token}` } });
  t.equal(missing.status, 404);
  const doc = await tc.admin<{ paths: Record<string, { get?: { responses: Record<string, unknown> } }> }>('GET', '/openapi.json');
  t.ok(doc.paths['/api/v1/networks/{network}/status']?.get?.responses['200'], 'in the OpenAPI document');
  t.ok(doc.paths['/api/v1/events']?.get, 'the event stream too');
});

t.test('a pending node reports nothing about peers and has none in the matrix', async (t) => {
  const tc = await startTestController({ grpc: true });
  t.teardown(() => tc.stop());
  await tc.admin('POST', '/networks', { name: 'office', cidr: '10.10.0.0/24', manualApproval: true });
  const p = await join(tc, 'office', 'p1');
  const q = await join(tc, 'office', 'p2');
  await checkIn(tc, p.id, 1, [{ publicKey: q.publicKey, latestHandshake: Math.floor(Date.now() / 1000), rxBytes: 5, txBytes: 5 }]);
  const s = await tc.admin<NetworkLiveStatus>('GET', '/networks/office/status');
  t.equal(s.nodes[0]!.status, 'pending');
  t.same(s.nodes[0]!.handshakes, []);
  t.equal(s.nodes[0]!.rxBytes, 0, 'a pending node\'s word is not taken');
  t.equal(s.nodes[0]!.version, 1);
});
