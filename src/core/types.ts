// The records meshctl keeps. One type serves the store, the wire mapping and `--json`.

export interface Network {
  name: string;
  cidr: string;
  listenPort: number;
  keepalive: number;
  manualApproval: boolean;
  /** Nodes are named <node>.<domain>; defaults to <name>.internal. */
  domain: string;
  /** Whether the nodes answer DNS for this network (the per-network switch). */
  dns: boolean;
  version: number;
}

export interface NetworkSpec {
  name: string;
  cidr: string;
  listenPort?: number;
  keepalive?: number;
  manualApproval?: boolean;
  domain?: string;
  dns?: boolean;
}

export type NetworkPatch = Partial<Pick<Network, 'listenPort' | 'keepalive' | 'manualApproval' | 'domain' | 'dns'>>;

export interface AccessKey {
  name: string;
  network: string;
  usesRemaining: number | null;
  expiresAt: string | null;
  revoked: boolean;
  createdAt: string;
}

export type NodeStatus = 'pending' | 'healthy' | 'stale' | 'down';

export interface MeshNode {
  id: string;
  name: string;
  network: string;
  address: string;
  publicKey: string;
  endpoint: string | null;
  listenPort: number;
  status: NodeStatus;
  lastCheckin: string | null;
  /** Gateway roles: an ingress gateway carries external clients; egress ranges lie behind the node. */
  ingress: boolean;
  egressRanges: string[];
  egressNat: boolean;
  /** `nodes show` only: how this node reaches each peer, as it last reported. */
  peers?: NodePeerPath[];
}

/** An external client: a plain WireGuard peer behind an ingress gateway. `config` is its wg-quick
 * config (the private key only in the answer of the CLI that made it). */
export interface ExtClient {
  name: string;
  network: string;
  address: string;
  publicKey: string;
  gateway: string;
  enabled: boolean;
  dns: boolean;
  fullTunnel: boolean;
  config?: string;
}

export interface NodePeerPath {
  name: string;
  path: 'direct' | 'relayed' | 'probing' | 'unknown';
  endpoint: string | null;
  winner: { endpoint: string; kind: string } | null;
  relay: string | null;
}

export interface DnsRecord {
  name: string;
  network: string;
  /** IPv4 address; for a CNAME, the name it points to (a label of the network's domain). */
  address: string;
  source: 'node' | 'custom' | 'client';
  type: 'A' | 'CNAME';
}

/** A named admin token (the secret is only ever stored hashed). */
export interface AdminToken {
  name: string;
  createdAt: string;
  expiresAt: string | null;
  revokedAt: string | null;
}

export interface AuditEntry {
  at: string;
  actor: string;
  action: string;
  target: string;
}

/** A node as the dashboard's node screen and pair matrix see it (GET /networks/{network}/status):
 * its record and health, and soft state from its last check-in since the controller started. */
export interface NodeLiveStatus {
  id: string;
  name: string;
  address: string;
  endpoint: string | null;
  listenPort: number;
  status: NodeStatus;
  /** Last contact with the controller (check-in or Watch stream), ISO 8601, or null. */
  lastContact: string | null;
  /** The network version the node had applied at its last check-in, or null (none yet). */
  version: number | null;
  /** WireGuard bytes received from / sent to its peers, summed, as of its last check-in (0: none reported). */
  rxBytes: number;
  txBytes: number;
  /** When its last check-in report came (ISO 8601), or null. */
  reportedAt: string | null;
  /** One entry per other approved member of the network: the latest handshake this node reported with it. */
  /** path: NAT traversal, as the node reported it (relayed when the pair has a relay and nothing was reported). */
  handshakes: { peer: string; publicKey: string; at: string | null; path: 'direct' | 'relayed' | 'unknown' }[];
}

export interface NetworkLiveStatus {
  network: string;
  nodes: NodeLiveStatus[];
}
