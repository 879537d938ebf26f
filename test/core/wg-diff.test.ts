import t from 'tap';
import assert from 'node:assert/strict';
import { canonicalCidr, diffWg, type WgActual, type WgConfig } from '../../src/core/wg-diff.ts';

const PK_A = 'A'.repeat(43) + '=';
const PK_B = 'B'.repeat(43) + '=';
const PK_C = 'C'.repeat(43) + '=';
const SELF = 'S'.repeat(43) + '=';

const desired = (): WgConfig => ({
  interface: 'mesh-test',
  privateKeyPath: '/etc/meshctl/key',
  listenPort: 51821,
  address: '10.10.0.1/24',
  peers: [
    { publicKey: PK_A, allowedIps: ['10.10.0.2/32'], endpoint: '172.31.0.12:51821', keepalive: 20 },
    { publicKey: PK_B, allowedIps: ['10.10.0.3/32', '192.168.5.0/24'], endpoint: null, keepalive: 0 },
  ],
});

// The actual state that applying desired() produces.
const inStep = (): WgActual => ({
  interface: 'mesh-test',
  publicKey: SELF,
  listenPort: 51821,
  addresses: ['10.10.0.1/24'],
  up: true,
  mtu: 1420,
  peers: [
    { publicKey: PK_B, allowedIps: ['192.168.5.0/24', '10.10.0.3/32'], endpoint: '172.31.0.13:40000', keepalive: 0, latestHandshake: 1700000000, rxBytes: 10, txBytes: 20 },
    { publicKey: PK_A, allowedIps: ['10.10.0.2/32'], endpoint: '172.31.0.12:51821', keepalive: 20, latestHandshake: 0, rxBytes: 0, txBytes: 0 },
  ],
});

const empty = (): WgActual => ({ interface: 'mesh-test', publicKey: null, listenPort: 0, addresses: [], up: false, mtu: 1420, peers: [] });

t.test('a fresh interface gets key, port, every peer, address and link up', async () => {
  const changes = diffWg(desired(), SELF, empty());
  assert.deepEqual(changes.map((c) => c.kind), ['set-private-key', 'set-listen-port', 'add-peer', 'add-peer', 'set-address', 'link-up']);
  assert.equal(changes[0]!.describe(), `mesh-test: set private key from /etc/meshctl/key (public key SSSSSSSS…)`);
  assert.ok(!changes.some((c) => c.describe().includes(SELF)), 'describe never prints whole keys');
});

t.test('an interface in step yields no changes (peer order, allowed-ip order and learned endpoints do not matter)', async () => {
  const live = inStep();
  assert.ok(live.peers.some((p) => p.publicKey === PK_B && p.endpoint !== null), 'PK_B has an endpoint WireGuard learned, where none is desired');
  assert.deepEqual(diffWg(desired(), SELF, live), []);
  // PK_A roamed too: its live endpoint differs from the controller's, which did not change.
  const roamed = { ...live, peers: live.peers.map((p) => (p.publicKey === PK_A ? { ...p, endpoint: '198.51.100.7:40000' } : p)) };
  assert.deepEqual(diffWg({ ...desired(), previousEndpoints: { [PK_A]: '172.31.0.12:51821', [PK_B]: null } }, SELF, roamed), []);
});

t.test('changed peer fields become one update naming each field', async () => {
  const d = desired();
  d.peers[0] = { ...d.peers[0]!, endpoint: '172.31.0.99:51821', keepalive: 25 };
  d.peers[1] = { ...d.peers[1]!, allowedIps: ['10.10.0.3/32'] };
  const changes = diffWg(d, SELF, inStep());
  assert.deepEqual(changes.map((c) => [c.kind, c.kind === 'update-peer' ? c.fields : null]), [
    ['update-peer', ['endpoint', 'keepalive']],
    ['update-peer', ['allowed-ips']],
  ]);
  assert.equal(changes[0]!.describe(), 'mesh-test: update peer AAAAAAAA…: endpoint 172.31.0.12:51821 -> 172.31.0.99:51821, keepalive 20 -> 25');
});

t.test('peers no longer desired are removed; new ones added', async () => {
  const d = desired();
  d.peers = [d.peers[0]!, { publicKey: PK_C, allowedIps: ['10.10.0.4/32'], endpoint: null, keepalive: 20 }];
  const changes = diffWg(d, SELF, inStep());
  assert.deepEqual(changes.map((c) => c.kind), ['remove-peer', 'add-peer']);
  assert.equal(changes[0]!.describe(), 'mesh-test: remove peer BBBBBBBB…');
  assert.equal(changes[1]!.kind === 'add-peer' && changes[1]!.peer.publicKey, PK_C);
});

t.test('a moved address is replaced, the old one removed; port, key and link follow the config', async () => {
  const a = { ...inStep(), publicKey: PK_C, listenPort: 40000, addresses: ['10.10.0.9/24'], up: false };
  const changes = diffWg(desired(), SELF, a);
  assert.deepEqual(changes.map((c) => c.describe()), [
    'mesh-test: set private key from /etc/meshctl/key (public key SSSSSSSS…)',
    'mesh-test: set listen port 40000 -> 51821',
    'mesh-test: remove address 10.10.0.9/24',
    'mesh-test: set address 10.10.0.1/24',
    'mesh-test: set link up, mtu 1420',
  ]);
});

t.test('a wrong mtu brings a link-up change with the desired mtu', async () => {
  const changes = diffWg({ ...desired(), mtu: 1380 }, SELF, inStep());
  assert.deepEqual(changes.map((c) => c.kind === 'link-up' && c.mtu), [1380]);
});

t.test('canonicalCidr masks host bits and adds /32 to bare addresses', async () => {
  assert.equal(canonicalCidr('10.10.0.5/24'), '10.10.0.0/24');
  assert.equal(canonicalCidr('10.10.0.5'), '10.10.0.5/32');
  assert.equal(canonicalCidr('FD00::1/128'), 'fd00::1/128');
  assert.deepEqual(diffWg({ ...desired(), peers: [{ ...desired().peers[0]!, allowedIps: ['10.10.0.2'] }, desired().peers[1]!] }, SELF, inStep()), []);
});
