// A FakeRunner that behaves like a host with wireguard-go: enough `ip`/`wg` to prove setConfig converges.
import { FakeRunner } from '../../src/platform/fake-runner.ts';

interface SimPeer { pk: string; endpoint: string; allowed: string; keepalive: string }

/** A simulated host; `kernel` = whether `ip link add … type wireguard` works. */
export function simHost(opts: { kernel?: boolean; pubkeyOfPath?: Record<string, string> } = {}) {
  const s = { exists: false, pub: '(none)', port: 0, addrs: [] as string[], up: false, mtu: 1420, peers: new Map<string, SimPeer>() };
  const f = new FakeRunner();
  const name = () => 'mesh-test';
  f.on(/^ip link show dev /, () => (s.exists ? { stdout: '3: mesh-test: <POINTOPOINT>' } : { exitCode: 1, stderr: 'Device "mesh-test" does not exist.' }));
  f.on(/^ip link add dev \S+ type wireguard$/, () => {
    if (!opts.kernel) return { exitCode: 2, stderr: 'Error: Unknown device type.' };
    s.exists = true;
    return {};
  });
  f.on(/^env -u WG_PROCESS_FOREGROUND wireguard-go /, () => ((s.exists = true), {}));
  f.on(/^ip -j addr show dev /, () => {
    if (!s.exists) return { exitCode: 1, stderr: 'Device "mesh-test" does not exist.' };
    const addr_info = s.addrs.map((a) => ({ family: 'inet', local: a.split('/')[0], prefixlen: Number(a.split('/')[1]) }));
    return { stdout: JSON.stringify([{ ifname: name(), flags: s.up ? ['POINTOPOINT', 'UP', 'LOWER_UP'] : ['POINTOPOINT'], mtu: s.mtu, addr_info }]) };
  });
  f.on(/^wg show \S+ dump$/, () => {
    const head = [s.pub === '(none)' ? '(none)' : 'PRIVATE', s.pub, String(s.port), 'off'].join('\t');
    const peers = [...s.peers.values()].map((p) => [p.pk, '(none)', p.endpoint, p.allowed, '0', '0', '0', p.keepalive].join('\t'));
    return { stdout: [head, ...peers].join('\n') };
  });
  f.on(/^wg set /, (argv) => {
    const a = argv.slice(3);
    if (a[0] === 'private-key') s.pub = opts.pubkeyOfPath?.[a[1]!] ?? 'UNKNOWN';
    else if (a[0] === 'listen-port') s.port = Number(a[1]);
    else if (a[0] === 'peer' && a[2] === 'remove') s.peers.delete(a[1]!);
    else if (a[0] === 'peer') {
      const p = s.peers.get(a[1]!) ?? { pk: a[1]!, endpoint: '(none)', allowed: '(none)', keepalive: 'off' };
      for (let i = 2; i < a.length; i += 2) {
        if (a[i] === 'endpoint') p.endpoint = a[i + 1]!;
        if (a[i] === 'allowed-ips') p.allowed = a[i + 1] || '(none)';
        if (a[i] === 'persistent-keepalive') p.keepalive = a[i + 1] === '0' ? 'off' : a[i + 1]!;
      }
      s.peers.set(p.pk, p);
    }
    return {};
  });
  f.on(/^ip addr replace /, (argv) => ((s.addrs = [...s.addrs.filter((x) => x !== argv[3]), argv[3]!]), {}));
  f.on(/^ip addr del /, (argv) => ((s.addrs = s.addrs.filter((x) => x !== argv[3])), {}));
  f.on(/^ip link set dev \S+ mtu \d+ up$/, (argv) => ((s.mtu = Number(argv[6])), (s.up = true), {}));
  f.on(/^ip link del dev /, () => (s.exists ? ((s.exists = false), {}) : { exitCode: 1, stderr: 'Cannot find device "mesh-test"' }));
  return { runner: f, state: s };
}
