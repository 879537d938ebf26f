// Issue 9 in the pure core: validation of what comes from outside.
import t from 'tap';
import { newNetwork } from '../../src/core/network.ts';
import { diffWg, type WgActual, type WgConfig } from '../../src/core/wg-diff.ts';

t.test('low: ranges that cannot work are refused (0/8, 127/8, 169.254/16, 224/4, 240/4)', async (t) => {
  for (const cidr of ['0.0.0.0/8', '0.1.2.0/24', '127.0.0.0/8', '127.10.0.0/24', '169.254.0.0/16', '169.254.10.0/24', '224.0.0.0/8', '239.1.0.0/16', '240.0.0.0/8', '255.255.255.0/24', '0.0.0.0/16']) {
    t.throws(() => newNetwork({ name: 'x', cidr }), { code: 'INVALID_ARGUMENT' }, `${cidr} is refused`);
  }
  for (const cidr of ['10.10.0.0/24', '172.16.0.0/12', '192.168.50.0/24', '100.64.0.0/10', '169.253.0.0/16', '223.255.255.0/24', '126.0.0.0/8', '1.0.0.0/8']) {
    t.equal(newNetwork({ name: 'x', cidr }).cidr, cidr, `${cidr} is accepted`);
  }
});

t.test('hole 9: an endpoint WireGuard learned from a handshake is kept unless the controller\'s endpoint for that peer changed', async (t) => {
  const PK = 'P'.repeat(43) + '=';
  const SELF = 'S'.repeat(43) + '=';
  const desired = (endpoint: string | null, previous?: string | null): WgConfig => ({
    interface: 'mesh-office', privateKeyPath: '/k', listenPort: 51821, address: '10.10.0.1/24',
    peers: [{ publicKey: PK, allowedIps: ['10.10.0.2/32'], endpoint, keepalive: 20 }],
    ...(previous === undefined ? {} : { previousEndpoints: { [PK]: previous } }),
  });
  const actual = (endpoint: string | null): WgActual => ({
    interface: 'mesh-office', publicKey: SELF, listenPort: 51821, addresses: ['10.10.0.1/24'], up: true, mtu: 1420,
    peers: [{ publicKey: PK, allowedIps: ['10.10.0.2/32'], endpoint, keepalive: 20, latestHandshake: 1, rxBytes: 1, txBytes: 1 }],
  });
  t.same(diffWg(desired('192.0.2.1:51821', '192.0.2.1:51821'), SELF, actual('198.51.100.7:40000')), [], 'the peer roamed to a new address: a reconcile keeps it');
  const changed = diffWg(desired('192.0.2.9:51821', '192.0.2.1:51821'), SELF, actual('198.51.100.7:40000'));
  t.same(changed.map((c) => [c.kind, c.kind === 'update-peer' ? c.fields : []]), [['update-peer', ['endpoint']]], 'the controller gave the peer a new endpoint: it is set');
  t.same(diffWg(desired('192.0.2.1:51821', '192.0.2.1:51821'), SELF, actual(null)).map((c) => c.kind), ['update-peer'], 'no live endpoint: the controller\'s is set');
  t.same(diffWg(desired('192.0.2.1:51821'), SELF, actual('198.51.100.7:40000')).map((c) => c.kind), ['update-peer'], 'no earlier view (first apply): the controller\'s is set');
});
