// WireGuard reconcile by diff: desired config vs the live interface -> typed changes, each able
// to describe itself for logs and --dry-run. Pure: the platform layer reads and applies.
import { maskOf, parseIPv4, uintToIp } from './cidr.ts';

export const DEFAULT_MTU = 1420;

export interface WgPeer {
  publicKey: string;
  allowedIps: string[];
  /** "host:port"; null = none configured (a roaming peer's learned endpoint is then left alone). */
  endpoint: string | null;
  /** Persistent keepalive in seconds; 0 = off. */
  keepalive: number;
}

export interface WgConfig {
  interface: string;
  /** File holding the base64 private key, mode 0600. */
  privateKeyPath: string;
  listenPort: number;
  /** The interface address with prefix, e.g. "10.10.0.1/24". */
  address: string;
  peers: WgPeer[];
  /** Defaults to DEFAULT_MTU. */
  mtu?: number;
  /** The endpoint the controller gave each peer (by public key) in the view applied before this
   * one. A live endpoint that differs from the desired one was learned by WireGuard from a
   * handshake (the peer roamed) and is kept, unless the controller's endpoint for that peer
   * changed since. Absent: every desired endpoint is enforced. */
  previousEndpoints?: Readonly<Record<string, string | null>>;
}

export interface WgPeerState extends WgPeer {
  /** Epoch seconds of the last handshake; 0 = never. */
  latestHandshake: number;
  rxBytes: number;
  txBytes: number;
}

/** The live state of an interface, as `wg show dump` and `ip addr` report it. Carries no private key. */
export interface WgActual {
  interface: string;
  /** Null when no private key is set. */
  publicKey: string | null;
  listenPort: number;
  /** IPv4 addresses with prefix, e.g. ["10.10.0.1/24"]. */
  addresses: string[];
  up: boolean;
  mtu: number;
  peers: WgPeerState[];
}

export type PeerField = 'endpoint' | 'allowed-ips' | 'keepalive';

type Describable = { describe(): string };
export type WgChange = Describable &
  (
    | { kind: 'set-listen-port'; interface: string; listenPort: number }
    | { kind: 'set-private-key'; interface: string; privateKeyPath: string; publicKey: string }
    | { kind: 'add-peer'; interface: string; peer: WgPeer }
    | { kind: 'update-peer'; interface: string; peer: WgPeer; fields: PeerField[] }
    | { kind: 'remove-peer'; interface: string; publicKey: string }
    | { kind: 'set-address'; interface: string; address: string }
    | { kind: 'remove-address'; interface: string; address: string }
    | { kind: 'link-up'; interface: string; mtu: number }
  );

const short = (pk: string) => pk.slice(0, 8) + '…';

/** Canonical form of an allowed-IP entry: IPv4 host bits masked, bare address -> /32; others lowercased. */
export function canonicalCidr(s: string): string {
  const [ip, len] = s.trim().split('/');
  if (ip === undefined || !/^\d+\.\d+\.\d+\.\d+$/.test(ip)) return s.trim().toLowerCase();
  const bits = len === undefined ? 32 : Number(len);
  return `${uintToIp((parseIPv4(ip) & maskOf(bits)) >>> 0)}/${bits}`;
}

const sameSet = (a: string[], b: string[]) => {
  const x = [...new Set(a.map(canonicalCidr))].sort();
  const y = [...new Set(b.map(canonicalCidr))].sort();
  return x.length === y.length && x.every((v, i) => v === y[i]);
};

function peerFields(want: WgPeer, have: WgPeerState, previous: WgConfig['previousEndpoints']): PeerField[] {
  const f: PeerField[] = [];
  // HAZARD: wg reports endpoints as resolved IP:port, so a hostname endpoint differs every time.
  const controllerUnchanged = previous !== undefined && Object.hasOwn(previous, want.publicKey) && previous[want.publicKey] === want.endpoint;
  const roamed = have.endpoint !== null && controllerUnchanged;
  if (want.endpoint !== null && want.endpoint !== have.endpoint && !roamed) f.push('endpoint');
  if (!sameSet(want.allowedIps, have.allowedIps)) f.push('allowed-ips');
  if (want.keepalive !== have.keepalive) f.push('keepalive');
  return f;
}

/** The changes that take `actual` to `desired`, whose private key has public key `desiredPublicKey`; [] when in step. */
export function diffWg(desired: WgConfig, desiredPublicKey: string, actual: WgActual): WgChange[] {
  const name = desired.interface;
  const out: WgChange[] = [];
  if (actual.publicKey !== desiredPublicKey) {
    out.push({ kind: 'set-private-key', interface: name, privateKeyPath: desired.privateKeyPath, publicKey: desiredPublicKey,
      describe: () => `${name}: set private key from ${desired.privateKeyPath} (public key ${short(desiredPublicKey)})` });
  }
  if (actual.listenPort !== desired.listenPort) {
    out.push({ kind: 'set-listen-port', interface: name, listenPort: desired.listenPort,
      describe: () => `${name}: set listen port ${actual.listenPort} -> ${desired.listenPort}` });
  }
  const have = new Map(actual.peers.map((p) => [p.publicKey, p]));
  const want = new Set(desired.peers.map((p) => p.publicKey));
  for (const p of actual.peers) {
    if (!want.has(p.publicKey)) {
      out.push({ kind: 'remove-peer', interface: name, publicKey: p.publicKey, describe: () => `${name}: remove peer ${short(p.publicKey)}` });
    }
  }
  for (const peer of desired.peers) {
    const cur = have.get(peer.publicKey);
    if (cur === undefined) {
      out.push({ kind: 'add-peer', interface: name, peer,
        describe: () => `${name}: add peer ${short(peer.publicKey)} allowed-ips ${peer.allowedIps.join(',') || '(none)'} endpoint ${peer.endpoint ?? '(none)'} keepalive ${peer.keepalive}` });
      continue;
    }
    const fields = peerFields(peer, cur, desired.previousEndpoints);
    if (fields.length) {
      const was = { endpoint: cur.endpoint ?? '(none)', 'allowed-ips': cur.allowedIps.join(',') || '(none)', keepalive: String(cur.keepalive) };
      const now = { endpoint: peer.endpoint ?? '(none)', 'allowed-ips': peer.allowedIps.join(',') || '(none)', keepalive: String(peer.keepalive) };
      out.push({ kind: 'update-peer', interface: name, peer, fields,
        describe: () => `${name}: update peer ${short(peer.publicKey)}: ${fields.map((k) => `${k} ${was[k]} -> ${now[k]}`).join(', ')}` });
    }
  }
  const address = desired.address;
  for (const a of actual.addresses) {
    if (a !== address) out.push({ kind: 'remove-address', interface: name, address: a, describe: () => `${name}: remove address ${a}` });
  }
  if (!actual.addresses.includes(address)) {
    out.push({ kind: 'set-address', interface: name, address, describe: () => `${name}: set address ${address}` });
  }
  const mtu = desired.mtu ?? DEFAULT_MTU;
  if (!actual.up || actual.mtu !== mtu) {
    out.push({ kind: 'link-up', interface: name, mtu, describe: () => `${name}: set link up, mtu ${mtu}` });
  }
  return out;
}
