// src/agent/reconcile.ts: a node's view becomes an interface config, applied (or planned) by diff.
import t from 'tap';
import { join } from 'node:path';
import { dryRun, reconcile, wgConfigOf } from '../../src/agent/reconcile.ts';
import { generateKeyFile } from '../../src/agent/wg-keys.ts';
import { FakeRunner } from '../../src/platform/fake-runner.ts';
import type { NodeView } from '../../src/core/view.ts';

const PEER_A = 'A'.repeat(43) + '=';
const PEER_B = 'B'.repeat(43) + '=';

const view = (peers: NodeView['peers']): NodeView => ({
  network: 'office',
  version: 7,
  self: { id: 'n1', name: 'n1', address: '10.10.0.1', prefixLength: 24, listenPort: 51821 },
  peers,
} as unknown as NodeView);

const peerA = { name: 'a', publicKey: PEER_A, allowedIps: ['10.10.0.2/32'], endpoint: '192.0.2.2:51821', keepalive: 25 };
const peerB = { name: 'b', publicKey: PEER_B, allowedIps: ['10.10.0.3/32'], endpoint: '', keepalive: 0 };

t.test('wgConfigOf: own address with the prefix length, each peer; an unknown endpoint is null, not ""', async (t) => {
  const cfg = wgConfigOf(view([peerA, peerB] as unknown as NodeView['peers']), 'mesh-office', '/etc/meshctl/networks/office.key', 51821);
  t.same(cfg, {
    interface: 'mesh-office',
    privateKeyPath: '/etc/meshctl/networks/office.key',
    listenPort: 51821,
    address: '10.10.0.1/24',
    peers: [
      { publicKey: PEER_A, allowedIps: ['10.10.0.2/32'], endpoint: '192.0.2.2:51821', keepalive: 25 },
      { publicKey: PEER_B, allowedIps: ['10.10.0.3/32'], endpoint: null, keepalive: 0 },
    ],
  });
  t.strictSame(Object.keys(cfg.peers[0]!).sort(), ['allowedIps', 'endpoint', 'keepalive', 'publicKey'], 'peer names do not leak into the WireGuard config');
});

/** A runner whose host has no interface yet, and whose `ip link add ... type wireguard` works. */
const freshHost = () => new FakeRunner()
  .on(/^ip link show dev /, { exitCode: 1, stderr: 'Device "mesh-office" does not exist.' })
  .on(/^ip -j addr show dev /, { exitCode: 1, stderr: 'Device "mesh-office" does not exist.' })
  .on(/^ip link add /, {});

t.test('dryRun reads the interface and plans, but runs nothing that changes it', async (t) => {
  const key = join(t.testdir(), 'office.key');
  await generateKeyFile(key);
  const runner = freshHost();
  const cfg = wgConfigOf(view([peerA] as unknown as NodeView['peers']), 'mesh-office', key, 51821);
  const changes = await dryRun(runner, cfg);
  t.same(changes.map((c) => c.kind), ['set-private-key', 'set-listen-port', 'add-peer', 'set-address', 'link-up']);
  t.same(runner.lines, ['ip -j addr show dev mesh-office'], 'only a read');
});

t.test('reconcile creates the interface and runs each planned change, in order', async (t) => {
  const key = join(t.testdir(), 'office.key');
  await generateKeyFile(key);
  const runner = freshHost();
  const cfg = wgConfigOf(view([peerA] as unknown as NodeView['peers']), 'mesh-office', key, 51821);
  const changes = await reconcile(runner, cfg);
  t.same(changes.map((c) => c.kind), ['set-private-key', 'set-listen-port', 'add-peer', 'set-address', 'link-up']);
  t.same(runner.lines.slice(0, 2), ['ip link show dev mesh-office', 'ip link add dev mesh-office type wireguard'], 'the interface is made first');
  const writes = runner.lines.filter((l) => !/^ip -j addr show|^ip link add|^ip link show|^wg show/.test(l));
  t.same(writes, [
    `wg set mesh-office private-key ${key}`,
    'wg set mesh-office listen-port 51821',
    `wg set mesh-office peer ${PEER_A} endpoint 192.0.2.2:51821 allowed-ips 10.10.0.2/32 persistent-keepalive 25`,
    'ip addr replace 10.10.0.1/24 dev mesh-office',
    'ip link set dev mesh-office mtu 1420 up',
  ]);
});
