// What one node sees of its network: itself, the settings, its peers. Pure. These shapes are
// also the wire messages of proto/meshctl.proto (camelCase as @grpc/proto-loader presents them).
import { parseNetworkCidr } from './cidr.ts';
import type { Network } from './types.ts';
import type { RecordView } from './dns.ts';
import { allowedIpsOf } from './gateway.ts';

export interface PeerView {
  id: string;
  name: string;
  publicKey: string;
  allowedIps: string[];
  endpoint: string;
  keepalive: number;
  address: string;
  /** An external client (a peer of its ingress gateway only): it roams, so no endpoint and no keepalive. */
  client?: boolean;
}

export interface SelfView {
  id: string;
  name: string;
  address: string;
  prefixLength: number;
  listenPort: number;
  endpoint: string;
  approved: boolean;
  /** Gateway roles (absent = none): forward for external clients; forward (and NAT) into ranges. */
  ingress?: boolean;
  egressRanges?: string[];
  egressNat?: boolean;
  /** Addresses of this ingress gateway's full-tunnel clients (their traffic off the mesh is masqueraded). */
  fullTunnelClients?: string[];
}

export interface NetworkSettingsView {
  name: string;
  cidr: string;
  keepalive: number;
  listenPort: number;
  /** The network's DNS domain (absent in views cached before names existed). */
  domain?: string;
  /** Whether nodes answer DNS for the network (absent: on). */
  dns?: boolean;
}

export interface NodeView {
  self: SelfView;
  network: NetworkSettingsView;
  peers: PeerView[];
  /** Custom DNS records (node names come from `self` and `peers`); sorted by name. */
  records?: RecordView[];
  version: number;
}

/** The fields of a node that views are built from. */
export interface ViewNode {
  id: string;
  name: string;
  address: string;
  publicKey: string;
  endpoint: string | null;
  listenPort: number;
  approved: boolean;
  ingress?: boolean;
  egressRanges?: string[];
  egressNat?: boolean;
  /** Addresses of the enabled external clients this node is the ingress gateway of. */
  clientAddresses?: string[];
}

/** The fields of an external client that views are built from. */
export interface ViewClient {
  name: string;
  address: string;
  publicKey: string;
  /** Id of its ingress gateway node. */
  gatewayId: string;
  enabled: boolean;
  fullTunnel: boolean;
}

export const settingsOf = (n: Network): NetworkSettingsView => ({ name: n.name, cidr: n.cidr, keepalive: n.keepalive, listenPort: n.listenPort, domain: n.domain, dns: n.dns });

/** One node as a peer of the others: its mesh address as a /32, plus what it is a gateway for. */
export const peerOf = (n: ViewNode, keepalive: number): PeerView => ({
  id: n.id,
  name: n.name,
  publicKey: n.publicKey,
  allowedIps: allowedIpsOf(n),
  endpoint: n.endpoint ?? '',
  keepalive,
  address: n.address,
});

export const selfOf = (n: ViewNode, net: Network): SelfView => ({
  id: n.id,
  name: n.name,
  address: n.address,
  prefixLength: parseNetworkCidr(net.cidr).bits,
  listenPort: n.listenPort,
  endpoint: n.endpoint ?? '',
  approved: n.approved,
  ...(n.ingress ? { ingress: true } : {}),
  ...(n.egressRanges?.length ? { egressRanges: [...n.egressRanges], egressNat: n.egressNat ?? false } : {}),
});

/** An external client as a peer of its gateway. */
export const clientPeerOf = (c: ViewClient): PeerView => ({
  id: `client:${c.name}`,
  name: c.name,
  publicKey: c.publicKey,
  allowedIps: [`${c.address}/32`],
  endpoint: '',
  keepalive: 0,
  address: c.address,
  client: true,
});

/** The view of `self`: a pending node has no peers, and nobody has a pending node as a peer. */
export function buildView(self: ViewNode, net: Network, members: readonly ViewNode[], clients: readonly ViewClient[] = [], records: readonly RecordView[] = []): NodeView {
  const peers = self.approved
    ? members.filter((m) => m.id !== self.id && m.approved).map((m) => peerOf(m, net.keepalive))
    : [];
  const selfView = selfOf(self, net);
  if (self.approved && self.ingress) {
    const mine = clients.filter((c) => c.gatewayId === self.id && c.enabled);
    peers.push(...mine.map(clientPeerOf));
    const full = mine.filter((c) => c.fullTunnel).map((c) => c.address);
    if (full.length) selfView.fullTunnelClients = full;
  }
  return { self: selfView, network: settingsOf(net), peers, records: [...records], version: net.version };
}

const WG_KEY = /^[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=$/;
const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

/** Checks a view that came from the controller before the agent uses any of it: names that
 * become DNS names are labels, the network is the one this node joined, keys, addresses and
 * endpoints have their form. Returns a reason, or null when the view is sound. */
export function viewProblem(v: NodeView, network: string): string | null {
  const label = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
  if (!v || !v.self || !v.network || !Array.isArray(v.peers)) return 'the view is incomplete';
  if (v.network.name !== network) return `the view is of network "${String(v.network.name).slice(0, 64)}", not "${network}"`;
  if (!label.test(v.self.name) || !IPV4.test(v.self.address)) return 'its own name or address is malformed';
  if (!Number.isInteger(v.self.prefixLength) || v.self.prefixLength < 8 || v.self.prefixLength > 30) return 'its prefix length is out of range';
  // Gateway fields end up in firewall rules and routes: only IPv4 prefixes and addresses.
  const prefix = /^\d{1,3}(\.\d{1,3}){3}\/\d{1,2}$/;
  if (typeof v.network.cidr !== 'string' || !prefix.test(v.network.cidr)) return 'its network range is malformed';
  if (!(v.self.egressRanges ?? []).every((r) => prefix.test(r))) return 'its egress ranges are malformed';
  if (!(v.self.fullTunnelClients ?? []).every((a) => IPV4.test(a))) return 'its full-tunnel client addresses are malformed';
  for (const p of v.peers) {
    if (!label.test(p.name) || !WG_KEY.test(p.publicKey) || !IPV4.test(p.address)) return `peer "${String(p.name).slice(0, 64)}" is malformed`;
    if (p.endpoint !== '' && !/^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]{1,253}):\d{1,5}$/.test(p.endpoint)) return `peer "${p.name}" has a malformed endpoint`;
    if (!Array.isArray(p.allowedIps) || !p.allowedIps.every((a) => /^[0-9a-fA-F:.]+\/\d{1,3}$/.test(a))) return `peer "${p.name}" has malformed allowed IPs`;
  }
  return null;
}
