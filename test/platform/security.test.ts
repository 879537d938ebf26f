// Issue 9 in the platform layer: what reaches `wg` and `ip`.
import t from 'tap';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeRunner } from '../../src/platform/fake-runner.ts';
import { setConfig, type WgConfig } from '../../src/platform/wireguard.ts';

const PRIV = Buffer.from('77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a', 'hex').toString('base64');
const PEERS = ['xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=', 'TrMvSoP4jYQlY6RIzBgbssQqY3vxI2Pi+y71lOWWXX0=', 'HIgo9xNzJMWLKASShiTqIybxZ0U3wGLiUeJ1PKf8ykw='];

t.test('hole 2: a peer whose endpoint cannot be resolved keeps neither the other peers nor the address and link from being set', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'meshctl-hole2-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const key = join(dir, 'k');
  await writeFile(key, PRIV + '\n');
  await chmod(key, 0o600);
  const f = new FakeRunner();
  f.on('ip link show dev mesh-test', { stdout: '3: mesh-test' });
  f.on('ip -j addr show dev mesh-test', { stdout: JSON.stringify([{ ifname: 'mesh-test', flags: ['POINTOPOINT'], mtu: 1420, addr_info: [] }]) });
  f.on('wg show mesh-test dump', { stdout: '(none)\t(none)\t0\toff' });
  // As the real wg does: a name it cannot resolve fails the whole `wg set`.
  f.on(/ endpoint does-not-resolve\.invalid:/, { exitCode: 1, stderr: 'Name or service not known: `does-not-resolve.invalid:51821\'' });
  const cfg: WgConfig = {
    interface: 'mesh-test', privateKeyPath: key, listenPort: 51821, address: '10.10.0.1/24',
    peers: [
      { publicKey: PEERS[0]!, allowedIps: ['10.10.0.2/32'], endpoint: 'does-not-resolve.invalid:51821', keepalive: 20 },
      { publicKey: PEERS[1]!, allowedIps: ['10.10.0.3/32'], endpoint: '172.31.0.13:51821', keepalive: 20 },
      { publicKey: PEERS[2]!, allowedIps: ['10.10.0.4/32'], endpoint: 'peer4.example:51821', keepalive: 20 },
    ],
  };
  const resolve = async (host: string) => {
    if (host === 'peer4.example') return '198.51.100.4';
    throw new Error(`resolving ${host}: ENOTFOUND`);
  };
  const changes = await setConfig(f, cfg, resolve);
  const ran = f.lines;
  t.ok(ran.includes(`wg set mesh-test peer ${PEERS[1]} endpoint 172.31.0.13:51821 allowed-ips 10.10.0.3/32 persistent-keepalive 20`), 'the next peer is set');
  t.ok(ran.includes(`wg set mesh-test peer ${PEERS[2]} endpoint 198.51.100.4:51821 allowed-ips 10.10.0.4/32 persistent-keepalive 20`), 'a name is resolved by the agent, and wg is given the address');
  t.ok(ran.includes(`wg set mesh-test peer ${PEERS[0]} allowed-ips 10.10.0.2/32 persistent-keepalive 20`), 'the unresolvable peer is still set, without an endpoint');
  t.ok(ran.includes('ip addr replace 10.10.0.1/24 dev mesh-test'), 'the node\'s own address is set');
  t.ok(ran.includes('ip link set dev mesh-test mtu 1420 up'), 'and the link brought up');
  t.match(changes.map((c) => c.describe()).join('\n'), /does-not-resolve\.invalid.*\(failed: resolving does-not-resolve\.invalid: ENOTFOUND\)/, 'the failure is reported with the change');
});
