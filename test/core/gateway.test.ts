// Gateways in core: egress ranges, what peers route to a gateway, routes and firewall from a view,
// client configs, and the shared WireGuard key code.
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { allowedIpsOf, assertEgressRanges, egressRoutesOf, firewallSpecOf, parseRange } from '../../src/core/gateway.ts';
import { buildView, viewProblem, type ViewClient, type ViewNode } from '../../src/core/view.ts';
import { applyDelta, deltaFor } from '../../src/core/change.ts';
import { clientAllowedIps, clientConfig, withPrivateKey, PRIVATE_KEY_PLACEHOLDER } from '../../src/core/client-config.ts';
import { generateKeyPair, isWgKey, publicKeyOf } from '../../src/core/wg-key.ts';
import type { Network } from '../../src/core/types.ts';

const code = (c: string) => ({ name: 'MeshError', code: c });
const net: Network = { name: 'office', cidr: '10.10.0.0/24', listenPort: 51821, keepalive: 20, manualApproval: false, domain: 'office.internal', dns: true, version: 7 };
const node = (id: string, n: number, extra: Partial<ViewNode> = {}): ViewNode => ({
  id, name: id, address: `10.10.0.${n}`, publicKey: `${id}-key`, endpoint: `172.31.0.${n}:51821`, listenPort: 51821, approved: true, ...extra,
});

t.test('egress ranges: canonical and sorted; overlaps with the mesh, each other or another gateway are refused', async (t) => {
  t.same(assertEgressRanges(['192.168.8.0/24', '192.168.7.0/24', '10.99.1.1'], net.cidr, []), ['10.99.1.1/32', '192.168.7.0/24', '192.168.8.0/24']);
  t.throws(() => assertEgressRanges(['10.10.0.128/25'], net.cidr, []), code('CIDR_OVERLAP'));
  t.throws(() => assertEgressRanges(['10.0.0.0/8'], net.cidr, []), code('CIDR_OVERLAP'), 'a range holding the mesh range');
  t.throws(() => assertEgressRanges(['0.0.0.0/0'], net.cidr, []), code('INVALID_ARGUMENT'), '/0 is no range a gateway routes');
  t.throws(() => assertEgressRanges(['192.168.0.0/16', '192.168.7.0/24'], net.cidr, []), code('CIDR_OVERLAP'));
  t.throws(() => assertEgressRanges(['192.168.7.128/25'], net.cidr, [{ node: 'n2', ranges: ['192.168.7.0/24'] }]),
    { code: 'CIDR_OVERLAP', message: /n2/ });
  t.same(assertEgressRanges(['192.168.8.0/24'], net.cidr, [{ node: 'n2', ranges: ['192.168.7.0/24'] }]), ['192.168.8.0/24']);
  t.throws(() => assertEgressRanges([], net.cidr, []), code('INVALID_ARGUMENT'));
  t.throws(() => parseRange('192.168.7.1/24'), { code: 'INVALID_ARGUMENT', hint: /192\.168\.7\.0\/24/ });
  t.throws(() => parseRange('fd00::/64'), code('INVALID_ARGUMENT'));
});

t.test('a gateway\'s peers route to it its own /32, its enabled clients\' /32s and its egress ranges', async (t) => {
  t.same(allowedIpsOf(node('n1', 1)), ['10.10.0.1/32']);
  t.same(allowedIpsOf(node('n1', 1, { clientAddresses: ['10.10.0.5'], egressRanges: ['192.168.7.0/24'] })), ['10.10.0.1/32', '10.10.0.5/32', '192.168.7.0/24']);
});

t.test('views: the ingress gateway has its enabled clients as peers; others route the clients and ranges to it', async (t) => {
  const gw = node('gw', 1, { ingress: true, clientAddresses: ['10.10.0.5'], egressRanges: ['192.168.7.0/24'], egressNat: true });
  const n2 = node('n2', 2);
  const clients: ViewClient[] = [
    { name: 'phone', address: '10.10.0.5', publicKey: 'phone-key', gatewayId: 'gw', enabled: true, fullTunnel: true },
    { name: 'old', address: '10.10.0.6', publicKey: 'old-key', gatewayId: 'gw', enabled: false, fullTunnel: false },
  ];
  const gv = buildView(gw, net, [gw, n2], clients);
  t.same(gv.peers.map((p) => [p.name, p.allowedIps, p.endpoint, p.keepalive, p.client ?? false]), [
    ['n2', ['10.10.0.2/32'], '172.31.0.2:51821', 20, false],
    ['phone', ['10.10.0.5/32'], '', 0, true],
  ]);
  t.same([gv.self.ingress, gv.self.egressRanges, gv.self.egressNat, gv.self.fullTunnelClients], [true, ['192.168.7.0/24'], true, ['10.10.0.5']]);
  const v2 = buildView(n2, net, [gw, n2], clients);
  t.same(v2.peers.map((p) => p.allowedIps), [['10.10.0.1/32', '10.10.0.5/32', '192.168.7.0/24']]);
  t.same(egressRoutesOf(v2), ['192.168.7.0/24'], 'client /32s lie in the mesh range: only the egress range needs a route');
  t.same(egressRoutesOf(gv), [], 'the gateway routes its own ranges through its uplink, not the mesh');
  t.equal(firewallSpecOf(v2, 'mesh-office'), null, 'no gateway, no firewall');
  t.same(firewallSpecOf(gv, 'mesh-office'), { interface: 'mesh-office', meshCidr: '10.10.0.0/24', natRanges: ['192.168.7.0/24'], keepRanges: [], fullTunnelSources: ['10.10.0.5'] });
  // A pending gateway has no peers, clients included.
  t.same(buildView({ ...gw, approved: false }, net, [gw, n2], clients).peers, []);
});

t.test('an agent refuses a view whose gateway fields are not plain IPv4 (they end up in firewall rules)', async (t) => {
  const gk = generateKeyPair().publicKey;
  const gw = node('gw', 1, { ingress: true, egressRanges: ['192.168.7.0/24'], egressNat: true, publicKey: gk });
  const v = buildView(gw, net, [gw], []);
  t.equal(viewProblem(v, 'office'), null);
  t.match(viewProblem({ ...v, self: { ...v.self, egressRanges: ['192.168.7.0/24 ip daddr 0.0.0.0/0 drop'] } }, 'office'), /egress ranges/);
  t.match(viewProblem({ ...v, self: { ...v.self, fullTunnelClients: ['10.10.0.5; flush ruleset'] } }, 'office'), /full-tunnel/);
  t.match(viewProblem({ ...v, network: { ...v.network, cidr: '10.10.0.0/24 }' } }, 'office'), /network range/);
});

t.test('a change of the gateway reaches others as an O(1) delta with its new AllowedIPs, and the gateway as a snapshot', async (t) => {
  const gw = node('gw', 1, { ingress: true, clientAddresses: ['10.10.0.5'] });
  const change = { kind: 'node-upserted' as const, network: 'office', version: 8, node: gw, keepalive: 20 };
  t.equal(deltaFor({ id: 'gw', approved: true }, change), 'snapshot');
  const d = deltaFor({ id: 'n2', approved: true }, change);
  t.not(d, 'snapshot');
  if (typeof d === 'string') return;
  t.same(d.upserted[0]!.allowedIps, ['10.10.0.1/32', '10.10.0.5/32']);
  // A settings delta rewrites node peers' keepalive, never a client's (it roams; the client keeps alive).
  const gv = buildView(gw, net, [gw, node('n2', 2)], [{ name: 'phone', address: '10.10.0.5', publicKey: 'pk', gatewayId: 'gw', enabled: true, fullTunnel: false }]);
  const after = applyDelta(gv, 9, { upserted: [], removed: [], network: { ...gv.network, keepalive: 30 } });
  t.same(after.peers.map((p) => [p.name, p.keepalive]), [['n2', 30], ['phone', 0]]);
});

t.test('client config: wg-quick text with the placeholder; the private key put in only by its maker', async (t) => {
  const gwKey = generateKeyPair();
  const cfg = clientConfig({
    name: 'phone', network: 'office', address: '10.10.0.5', dns: '10.10.0.1', gateway: 'gw', gatewayPublicKey: gwKey.publicKey,
    endpoint: '172.31.0.11:51821', allowedIps: clientAllowedIps('10.10.0.0/24', ['192.168.7.0/24', '192.168.7.0/24'], false), keepalive: 20,
  });
  t.equal(cfg, [
    '# meshctl external client phone of network office, through gateway gw',
    '[Interface]',
    `PrivateKey = ${PRIVATE_KEY_PLACEHOLDER}`,
    'Address = 10.10.0.5/32',
    'DNS = 10.10.0.1',
    '',
    '[Peer]',
    `PublicKey = ${gwKey.publicKey}`,
    'Endpoint = 172.31.0.11:51821',
    'AllowedIPs = 10.10.0.0/24, 192.168.7.0/24',
    'PersistentKeepalive = 20',
    '',
  ].join('\n'));
  const mine = generateKeyPair();
  const full = withPrivateKey(cfg, mine.privateKey);
  t.match(full, new RegExp(`^PrivateKey = ${mine.privateKey.replace(/[+/]/g, '\\$&')}$`, 'm'));
  t.notMatch(full, PRIVATE_KEY_PLACEHOLDER);
  t.throws(() => withPrivateKey(cfg, 'nope'), code('INVALID_ARGUMENT'));
  t.same(clientAllowedIps('10.10.0.0/24', ['192.168.7.0/24'], true), ['0.0.0.0/0']);
  t.notMatch(clientConfig({ name: 'x', network: 'o', address: '10.10.0.9', dns: null, gateway: 'gw', gatewayPublicKey: 'k', endpoint: 'e:1', allowedIps: ['10.10.0.0/24'], keepalive: 0 }), /DNS =|PersistentKeepalive/);
});

t.test('keys: one generator for nodes and clients; public keys as `wg pubkey` derives them', async (t) => {
  const k = generateKeyPair();
  t.ok(isWgKey(k.privateKey) && isWgKey(k.publicKey));
  t.equal(publicKeyOf(k.privateKey), k.publicKey);
  t.notOk(isWgKey('not a key'));
  let wg: string | null = null;
  try {
    wg = execFileSync('wg', ['pubkey'], { input: k.privateKey + '\n' }).toString().trim();
  } catch { /* wg not installed: the derivation is still checked against node:crypto above */ }
  if (wg !== null) t.equal(wg, k.publicKey, 'wg pubkey agrees');
});
