// What one node sees of its network: itself, the settings, its peers. Pure. These shapes are
// also the wire messages of proto/meshctl.proto (camelCase as @grpc/proto-loader presents them).
import { parseNetworkCidr } from './cidr.ts';
import type { Network } from './types.ts';
import type { RecordView } from './dns.ts';

export interface PeerView {
  id: string;
  name: string;
  publicKey: string;
  allowedIps: string[];
  endpoint: string;
  keepalive: number;
  address: string;
}

export interface SelfView {
  id: string;
  name: string;
  address: string;
  prefixLength: number;
  listenPort: number;
  endpoint: string;
  approved: boolean;
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
}

export const settingsOf = (n: Network): NetworkSettingsView => ({ name: n.name, cidr: n.cidr, keepalive: n.keepalive, listenPort: n.listenPort, domain: n.domain, dns: n.dns });

/** One node as a peer of the others: its mesh address as a /32. */
export const peerOf = (n: ViewNode, keepalive: number): PeerView => ({
  id: n.id,
  name: n.name,
  publicKey: n.publicKey,
  allowedIps: [`${n.address}/32`],
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
});

/** The view of `self`: a pending node has no peers, and nobody has a pending node as a peer. */
export function buildView(self: ViewNode, net: Network, members: readonly ViewNode[], records: readonly RecordView[] = []): NodeView {
  const peers = self.approved
    ? members.filter((m) => m.id !== self.id && m.approved).map((m) => peerOf(m, net.keepalive))
    : [];
  return { self: selfOf(self, net), network: settingsOf(net), peers, records: [...records], version: net.version };
}
