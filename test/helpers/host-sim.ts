// A FakeRunner that behaves like a host with several links: the host's own (eth0, not
// WireGuard) and any number of WireGuard interfaces made by `ip link add` or wireguard-go.
// Enough `ip`/`wg` for the agent's join, reconcile, status and leave.
import { createPrivateKey, createPublicKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { FakeRunner } from '../../src/platform/fake-runner.ts';

/** The WireGuard public key of the base64 private key in `path` (as `wg set … private-key` would). */
function publicKeyOf(path: string): string {
  const raw = Buffer.from(readFileSync(path, 'utf8').trim(), 'base64');
  const pkcs8 = Buffer.concat([Buffer.from('302e020100300506032b656e04220420', 'hex'), raw]);
  return Buffer.from(createPublicKey(createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' })).export({ format: 'jwk' }).x!, 'base64url').toString('base64');
}

interface SimPeer { pk: string; endpoint: string; allowed: string; keepalive: string }
export interface SimLink { wg: boolean; pub: string; port: number; addrs: string[]; up: boolean; mtu: number; peers: Map<string, SimPeer> }

/** A simulated host; `links` starts with eth0 (up, 192.0.2.10/24, not WireGuard). */
export function multiHost() {
  const links = new Map<string, SimLink>();
  links.set('eth0', { wg: false, pub: '', port: 0, addrs: ['192.0.2.10/24'], up: true, mtu: 1500, peers: new Map() });
  const f = new FakeRunner();
  const gone = (n: string) => ({ exitCode: 1, stderr: `Device "${n}" does not exist.` });
  const add = (n: string) => void links.set(n, { wg: true, pub: '(none)', port: 0, addrs: [], up: false, mtu: 1420, peers: new Map() });
  f.on(/^ip link show dev /, (a) => (links.has(a[4]!) ? { stdout: `3: ${a[4]}: <POINTOPOINT>` } : gone(a[4]!)));
  f.on(/^ip link add dev \S+ type wireguard$/, (a) => (links.has(a[4]!) ? { exitCode: 2, stderr: 'RTNETLINK answers: File exists' } : (add(a[4]!), {})));
  f.on(/^env -u WG_PROCESS_FOREGROUND wireguard-go /, (a) => (add(a[4]!), {}));
  f.on(/^ip -j addr show dev /, (a) => {
    const l = links.get(a[5]!);
    if (!l) return gone(a[5]!);
    const addr_info = l.addrs.map((x) => ({ family: 'inet', local: x.split('/')[0], prefixlen: Number(x.split('/')[1]) }));
    return { stdout: JSON.stringify([{ ifname: a[5], flags: l.up ? ['UP', 'LOWER_UP'] : [], mtu: l.mtu, addr_info }]) };
  });
  const wgOf = (n: string) => {
    const l = links.get(n);
    if (!l) return { err: { exitCode: 1, stderr: 'Unable to access interface: No such device' } };
    if (!l.wg) return { err: { exitCode: 1, stderr: 'Unable to access interface: Protocol not supported' } };
    return { l };
  };
  f.on(/^wg show \S+ listen-port$/, (a) => {
    const { l, err } = wgOf(a[2]!);
    return err ?? { stdout: String(l!.port) };
  });
  f.on(/^wg show \S+ dump$/, (a) => {
    const { l, err } = wgOf(a[2]!);
    if (err) return err;
    const head = [l!.pub === '(none)' ? '(none)' : 'PRIVATE', l!.pub, String(l!.port), 'off'].join('\t');
    const peers = [...l!.peers.values()].map((p) => [p.pk, '(none)', p.endpoint, p.allowed, '0', '0', '0', p.keepalive].join('\t'));
    return { stdout: [head, ...peers].join('\n') };
  });
  f.on(/^wg set /, (argv) => {
    const { l, err } = wgOf(argv[2]!);
    if (err) return err;
    const a = argv.slice(3);
    if (a[0] === 'private-key') l!.pub = publicKeyOf(a[1]!);
    else if (a[0] === 'listen-port') l!.port = Number(a[1]);
    else if (a[0] === 'peer' && a[2] === 'remove') l!.peers.delete(a[1]!);
    else if (a[0] === 'peer') {
      const p = l!.peers.get(a[1]!) ?? { pk: a[1]!, endpoint: '(none)', allowed: '(none)', keepalive: 'off' };
      for (let i = 2; i < a.length; i += 2) {
        if (a[i] === 'endpoint') p.endpoint = a[i + 1]!;
        if (a[i] === 'allowed-ips') p.allowed = a[i + 1] || '(none)';
        if (a[i] === 'persistent-keepalive') p.keepalive = a[i + 1] === '0' ? 'off' : a[i + 1]!;
      }
      l!.peers.set(p.pk, p);
    }
    return {};
  });
  f.on(/^ip addr replace /, (a) => {
    const l = links.get(a[5]!);
    if (!l) return gone(a[5]!);
    l.addrs = [...l.addrs.filter((x) => x !== a[3]), a[3]!];
    return {};
  });
  f.on(/^ip addr del /, (a) => {
    const l = links.get(a[5]!);
    if (l) l.addrs = l.addrs.filter((x) => x !== a[3]);
    return l ? {} : gone(a[5]!);
  });
  f.on(/^ip link set dev \S+ mtu \d+ up$/, (a) => {
    const l = links.get(a[4]!);
    if (!l) return gone(a[4]!);
    l.mtu = Number(a[6]);
    l.up = true;
    return {};
  });
  f.on(/^ip link del dev /, (a) => (links.delete(a[4]!) ? {} : { exitCode: 1, stderr: `Cannot find device "${a[4]}"` }));
  return { runner: f, links };
}
