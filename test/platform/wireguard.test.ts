import t from 'tap';
import assert from 'node:assert/strict';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MeshError } from '../../src/core/errors.ts';
import { FakeRunner } from '../../src/platform/fake-runner.ts';
import { parseIpAddrJson, parseWgDump } from '../../src/platform/wg-parse.ts';
import { ensureInterface, plan, publicKeyOfFile, readActual, removeInterface, setConfig, type WgConfig } from '../../src/platform/wireguard.ts';
import { simHost } from './wg-sim.ts';

// RFC 7748 section 6.1: Alice's X25519 key pair, base64 as WireGuard writes keys.
const PRIV = Buffer.from('77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a', 'hex').toString('base64');
const PUB = Buffer.from('8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a', 'hex').toString('base64');
const PEER_A = 'xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=';
const PEER_B = 'TrMvSoP4jYQlY6RIzBgbssQqY3vxI2Pi+y71lOWWXX0=';

async function keyFile(t: { teardown(fn: () => unknown): void }, mode = 0o600): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'meshctl-wg-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const path = join(dir, 'private.key');
  await writeFile(path, PRIV + '\n');
  await chmod(path, mode);
  return path;
}

const config = (keyPath: string): WgConfig => ({
  interface: 'mesh-test',
  privateKeyPath: keyPath,
  listenPort: 51821,
  address: '10.10.0.1/24',
  peers: [
    { publicKey: PEER_A, allowedIps: ['10.10.0.2/32'], endpoint: '172.31.0.12:51821', keepalive: 20 },
    { publicKey: PEER_B, allowedIps: ['10.10.0.3/32'], endpoint: null, keepalive: 0 },
  ],
});

const DUMP = [
  `${PRIV}\t${PUB}\t51821\toff`,
  `${PEER_A}\t(none)\t172.31.0.12:51821\t10.10.0.2/32\t1767225600\t9244\t8876\t20`,
  `${PEER_B}\t(none)\t(none)\t10.10.0.3/32,192.168.5.0/24\t0\t0\t0\toff`,
].join('\n');

t.test('parseWgDump reads the interface line and each peer; never returns the private key', async () => {
  const d = parseWgDump(DUMP + '\n');
  assert.deepEqual(d, {
    publicKey: PUB,
    listenPort: 51821,
    peers: [
      { publicKey: PEER_A, endpoint: '172.31.0.12:51821', allowedIps: ['10.10.0.2/32'], latestHandshake: 1767225600, rxBytes: 9244, txBytes: 8876, keepalive: 20 },
      { publicKey: PEER_B, endpoint: null, allowedIps: ['10.10.0.3/32', '192.168.5.0/24'], latestHandshake: 0, rxBytes: 0, txBytes: 0, keepalive: 0 },
    ],
  });
  assert.ok(!JSON.stringify(d).includes(PRIV));
  assert.deepEqual(parseWgDump('(none)\t(none)\t0\toff\n'), { publicKey: null, listenPort: 0, peers: [] });
  assert.throws(() => parseWgDump('garbage'), MeshError);
});

t.test('parseIpAddrJson reads IPv4 addresses, the UP flag and the MTU', async () => {
  const json = JSON.stringify([{ ifname: 'mesh-test', flags: ['POINTOPOINT', 'NOARP', 'UP', 'LOWER_UP'], mtu: 1420,
    addr_info: [{ family: 'inet', local: '10.10.0.1', prefixlen: 24 }, { family: 'inet6', local: 'fe80::1', prefixlen: 64 }] }]);
  assert.deepEqual(parseIpAddrJson(json), { addresses: ['10.10.0.1/24'], up: true, mtu: 1420 });
});

t.test('readActual runs ip and wg and merges them; a missing interface is null', async () => {
  const f = new FakeRunner()
    .on('ip -j addr show dev mesh-test', { stdout: '[{"flags":["UP"],"mtu":1420,"addr_info":[{"family":"inet","local":"10.10.0.1","prefixlen":24}]}]' })
    .on('wg show mesh-test dump', { stdout: DUMP })
    .on('ip -j addr show dev mesh-gone', { exitCode: 1, stderr: 'Device "mesh-gone" does not exist.' });
  const a = await readActual(f, 'mesh-test');
  assert.equal(a?.publicKey, PUB);
  assert.deepEqual(a?.addresses, ['10.10.0.1/24']);
  assert.equal(a?.peers[0]?.latestHandshake, 1767225600);
  assert.equal(await readActual(f, 'mesh-gone'), null);
  assert.deepEqual(f.lines, ['ip -j addr show dev mesh-test', 'wg show mesh-test dump', 'ip -j addr show dev mesh-gone']);
});

t.test('ensureInterface leaves an existing interface, prefers the kernel, falls back to wireguard-go', async () => {
  const existing = new FakeRunner();
  assert.equal(await ensureInterface(existing, 'mesh-test'), 'existing');
  assert.deepEqual(existing.lines, ['ip link show dev mesh-test']);

  const kernel = simHost({ kernel: true }).runner;
  assert.equal(await ensureInterface(kernel, 'mesh-test'), 'kernel');
  assert.deepEqual(kernel.lines, ['ip link show dev mesh-test', 'ip link add dev mesh-test type wireguard']);

  const user = simHost().runner;
  assert.equal(await ensureInterface(user, 'mesh-test'), 'userspace');
  assert.deepEqual(user.lines, ['ip link show dev mesh-test', 'ip link add dev mesh-test type wireguard', 'env -u WG_PROCESS_FOREGROUND wireguard-go mesh-test']);
});

t.test('ensureInterface: no kernel WireGuard and no wireguard-go is WIREGUARD_UNAVAILABLE naming the packages', async () => {
  const f = new FakeRunner()
    .on('ip link show dev mesh-test', { exitCode: 1, stderr: 'Device "mesh-test" does not exist.' })
    .on('ip link add dev mesh-test type wireguard', { exitCode: 2, stderr: 'Error: Unknown device type.' })
    .on(/wireguard-go/, { exitCode: 127, stderr: "env: 'wireguard-go': No such file or directory" });
  await assert.rejects(ensureInterface(f, 'mesh-test'), (e: unknown) => {
    assert.ok(e instanceof MeshError);
    assert.equal(e.code, 'WIREGUARD_UNAVAILABLE');
    assert.match(e.message, /wireguard-go is not installed/);
    assert.match(e.hint ?? '', /apt-get install -y wireguard-go wireguard-tools/);
    return true;
  });
});

t.test('ensureInterface: permission denied is NOT_ROOT; a bad name is refused before running anything', async () => {
  const f = new FakeRunner()
    .on('ip link show dev mesh-test', { exitCode: 1, stderr: 'Device "mesh-test" does not exist.' })
    .on('ip link add dev mesh-test type wireguard', { exitCode: 2, stderr: 'RTNETLINK answers: Operation not permitted' });
  await assert.rejects(ensureInterface(f, 'mesh-test'), (e: unknown) => e instanceof MeshError && e.code === 'NOT_ROOT');
  const g = new FakeRunner();
  await assert.rejects(ensureInterface(g, 'mesh-much-too-long-name'), (e: unknown) => e instanceof MeshError && e.code === 'INVALID_ARGUMENT');
  assert.deepEqual(g.calls, []);
});

t.test('setConfig on a fresh host runs exactly these commands; a second call changes nothing', async (t) => {
  const key = await keyFile(t);
  const { runner } = simHost({ pubkeyOfPath: { [key]: PUB } });
  const first = await setConfig(runner, config(key));
  assert.deepEqual(runner.lines, [
    'ip link show dev mesh-test',
    'ip link add dev mesh-test type wireguard',
    'env -u WG_PROCESS_FOREGROUND wireguard-go mesh-test',
    'ip -j addr show dev mesh-test',
    'wg show mesh-test dump',
    `wg set mesh-test private-key ${key}`,
    'wg set mesh-test listen-port 51821',
    `wg set mesh-test peer ${PEER_A} endpoint 172.31.0.12:51821 allowed-ips 10.10.0.2/32 persistent-keepalive 20`,
    `wg set mesh-test peer ${PEER_B} allowed-ips 10.10.0.3/32 persistent-keepalive 0`,
    'ip addr replace 10.10.0.1/24 dev mesh-test',
    'ip link set dev mesh-test mtu 1420 up',
  ]);
  assert.equal(first.length, 6);
  runner.clear();
  assert.deepEqual(await setConfig(runner, config(key)), []);
  assert.deepEqual(runner.lines, ['ip link show dev mesh-test', 'ip -j addr show dev mesh-test', 'wg show mesh-test dump']);
});

t.test('setConfig removes a dropped peer and updates a changed one', async (t) => {
  const key = await keyFile(t);
  const { runner } = simHost({ pubkeyOfPath: { [key]: PUB } });
  await setConfig(runner, config(key));
  runner.clear();
  const next = config(key);
  next.peers = [{ ...next.peers[0]!, allowedIps: ['10.10.0.2/32', '192.168.7.0/24'] }];
  const changes = await setConfig(runner, next);
  assert.deepEqual(changes.map((c) => c.describe()), [
    `mesh-test: remove peer ${PEER_B.slice(0, 8)}…`,
    `mesh-test: update peer ${PEER_A.slice(0, 8)}…: allowed-ips 10.10.0.2/32 -> 10.10.0.2/32,192.168.7.0/24`,
  ]);
  assert.deepEqual(runner.lines.slice(3), [
    `wg set mesh-test peer ${PEER_B} remove`,
    `wg set mesh-test peer ${PEER_A} endpoint 172.31.0.12:51821 allowed-ips 10.10.0.2/32,192.168.7.0/24 persistent-keepalive 20`,
  ]);
  assert.deepEqual(await setConfig(runner, next), []);
});

t.test('plan changes nothing and treats a missing interface as empty', async (t) => {
  const key = await keyFile(t);
  const { runner } = simHost();
  const changes = await plan(runner, config(key));
  assert.equal(changes.length, 6);
  assert.deepEqual(runner.lines, ['ip -j addr show dev mesh-test']);
});

t.test('publicKeyOfFile derives the X25519 public key and refuses a key file others can read', async (t) => {
  assert.equal(await publicKeyOfFile(await keyFile(t)), PUB);
  await assert.rejects(publicKeyOfFile(await keyFile(t, 0o644)), (e: unknown) => e instanceof MeshError && e.code === 'CONFIG_INVALID' && /^chmod 600 \//.test(e.hint ?? ''));
  await assert.rejects(publicKeyOfFile('/nonexistent/key'), (e: unknown) => e instanceof MeshError && e.code === 'CONFIG_INVALID');
});

t.test('removeInterface deletes the link and is a no-op when it is gone', async () => {
  const { runner, state } = simHost();
  state.exists = true;
  assert.equal(await removeInterface(runner, 'mesh-test'), true);
  assert.equal(await removeInterface(runner, 'mesh-test'), false);
  assert.deepEqual(runner.lines, ['ip link del dev mesh-test', 'ip link del dev mesh-test']);
});
