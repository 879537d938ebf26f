// What one node sees of its network: itself, the settings, its peers. Pure. These shapes are
// also the wire messages of proto/meshctl.proto (camelCase as @grpc/proto-loader presents them).
import { parseNetworkCidr } from './cidr.ts';
import type { Network } from './types.ts';
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
}

export interface NodeView {
  self: SelfView;
  network: NetworkSettingsView;
  peers: PeerView[];
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

export const settingsOf = (n: Network): NetworkSettingsView => ({ name: n.name, cidr: n.cidr, keepalive: n.keepalive, listenPort: n.listenPort });

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
export function buildView(self: ViewNode, net: Network, members: readonly ViewNode[], clients: readonly ViewClient[] = []): NodeView {
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
  return { self: selfView, network: settingsOf(net), peers, version: net.version };
}
