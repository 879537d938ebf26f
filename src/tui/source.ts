// What the dashboard reads and does, as one interface: the admin API (snapshot calls, actions and
// the event stream) behind it in a real run, a fake in component tests and the render bench.
import type { DnsRecord, ExtClient, MeshNode, Network, NetworkSpec } from '../core/types.ts';
import type { KeyView } from '../controller/services/views.ts';
import type { Change } from '../core/change.ts';
import type { NetworkStatus } from '../agent/node.ts';

/** A node's soft state as `GET /networks/:network/status` reports it. */
export interface NodeSoftState {
  id: string;
  name: string;
  address: string;
  endpoint: string | null;
  listenPort: number;
  status: MeshNode['status'];
  lastContact: string | null;
  version: number | null;
  rxBytes: number;
  txBytes: number;
  handshakes: { peer: string; publicKey: string; at: string | null }[];
}

export interface NetworkSoftState {
  network: string;
  nodes: NodeSoftState[];
}

/** One audit log entry; fields beyond these are shown as they come. */
export interface AuditEntry {
  id?: string | number;
  at?: string;
  actor?: string;
  action?: string;
  network?: string | null;
  target?: string | null;
  [k: string]: unknown;
}

/** What the event stream delivers. */
export type DashEvent =
  | { type: 'change'; id?: string; change: Change }
  | { type: 'status'; network: string; nodeId: string; name: string; status: MeshNode['status']; lastContact: string | null }
  | { type: 'reset' };

/** The stream's own state: `up` once connected, `down` (with the error) while it retries;
 * `final` when it gave up (an error no retry fixes: the dashboard then polls). */
export type LinkState = { state: 'up' } | { state: 'down'; error: Error; final?: boolean };

export interface DataSource {
  /** Where the dashboard is connected, for the header. */
  readonly label: string;
  listNetworks(): Promise<Network[]>;
  createNetwork(spec: NetworkSpec): Promise<Network>;
  listNodes(network?: string): Promise<MeshNode[]>;
  showNode(network: string, node: string): Promise<MeshNode>;
  approveNode(network: string, node: string): Promise<MeshNode>;
  deleteNode(network: string, node: string): Promise<MeshNode>;
  setIngress(network: string, node: string, on: boolean): Promise<MeshNode>;
  setEgress(network: string, node: string, egress: { ranges: string[]; nat: boolean } | null): Promise<MeshNode>;
  networkStatus(network: string): Promise<NetworkSoftState>;
  listKeys(network: string): Promise<KeyView[]>;
  createKey(network: string, req: { name?: string; uses?: number | 'unlimited'; expires?: string }): Promise<KeyView & { token: string }>;
  revokeKey(network: string, name: string): Promise<KeyView>;
  listDns(network: string): Promise<DnsRecord[]>;
  addDns(network: string, name: string, address: string): Promise<DnsRecord>;
  removeDns(network: string, name: string): Promise<void>;
  listClients(network: string): Promise<ExtClient[]>;
  /** Makes the key pair here (the private key never leaves this machine); `config` carries it. */
  createClient(network: string, req: { name: string; gateway: string }): Promise<ExtClient>;
  audit(limit: number): Promise<AuditEntry[]>;
  /** Follows the event stream until `signal` aborts, reconnecting by itself (resuming from the
   * last event id); reports each event and every change of the link's state. */
  follow(onEvent: (e: DashEvent) => void, onLink: (s: LinkState) => void, signal: AbortSignal): void;
}

/** The node side: a local agent's view over its control socket. */
export interface AgentSource {
  readonly label: string;
  status(): Promise<NetworkStatus[]>;
}
