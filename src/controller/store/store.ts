// The controller's store: one interface, engines behind it (sql.js now, PostgreSQL later).
// Every method is one atomic unit: invariants that need atomicity (unique names, CIDR overlap,
// IP allocation, key consumption) are enforced inside it. A method that changes data resolves
// only once the change is durable.
import type { AccessKey, AdminToken, AuditEntry, DnsRecord, Network, NetworkPatch } from '../../core/types.ts';
import type { Change } from '../../core/change.ts';
import type { RecordView } from '../../core/dns.ts';

/** A node as stored: the public record plus what only the controller needs. */
export interface NodeRow {
  id: string;
  network: string;
  name: string;
  address: string;
  publicKey: string;
  endpoint: string | null;
  endpointStated: boolean;
  listenPort: number;
  approved: boolean;
  credentialHash: string;
  createdAt: string;
  lastCheckin: string | null;
  /** Gateway roles: an ingress gateway carries external clients; an egress gateway carries ranges.
   * Absent = none (engines always fill them; optional so that older fixtures stay valid). */
  ingress?: boolean;
  egressRanges?: string[];
  egressNat?: boolean;
  /** Addresses of the enabled external clients whose gateway this node is (derived, not a column). */
  clientAddresses?: string[];
}

/** An external client as stored: never a private key. */
export interface ClientRow {
  network: string;
  name: string;
  address: string;
  publicKey: string;
  gatewayId: string;
  /** Name of the gateway node. */
  gateway: string;
  enabled: boolean;
  dns: boolean;
  fullTunnel: boolean;
  createdAt: string;
}

export interface NewClient {
  network: string;
  name: string;
  publicKey: string;
  /** Gateway node, by id or name. */
  gateway: string;
  dns: boolean;
  fullTunnel: boolean;
}

/** A change of a node's gateway roles; an absent field stays as it is, `egress: null` removes it. */
export interface GatewayPatch {
  ingress?: boolean;
  egress?: { ranges: string[]; nat: boolean } | null;
}

export interface NewNode {
  id: string;
  network: string;
  name: string;
  publicKey: string;
  endpoint: string | null;
  endpointStated: boolean;
  listenPort: number;
  credentialHash: string;
}

export interface RemovedNode {
  id: string;
  network: string;
  name: string;
  credentialHash: string;
  reason: 'deleted' | 'left' | 'network-deleted';
  removedAt: string;
}

export interface NewKey {
  network: string;
  name: string;
  secretHash: string;
  usesRemaining: number | null;
  expiresAt: string | null;
}

/** Which audit entries to read. */
export interface AuditFilter {
  since?: string;
  network?: string;
}

/** How much history a store keeps, on either engine (tests may lower these). */
export const RETENTION = {
  /** audit_log: the newest rows. */
  auditRows: 100_000,
  /** removed_nodes: tombstones younger than this many days, and at most so many of them. */
  tombstoneDays: 90,
  tombstoneRows: 100_000,
};

/** Who asked for a change, for the audit log. */
export type Actor = string;

export interface Store {
  listNetworks(): Promise<Network[]>;
  getNetwork(name: string): Promise<Network | undefined>;
  /** Refuses a taken name (ALREADY_EXISTS) or an overlapping range (CIDR_OVERLAP). */
  createNetwork(n: Network, actor: Actor): Promise<Network>;
  updateNetwork(name: string, patch: NetworkPatch, actor: Actor): Promise<Network>;
  /** Refuses a network with nodes unless `force`; removes its keys, records and nodes. */
  deleteNetwork(name: string, force: boolean, actor: Actor): Promise<void>;

  listKeys(network: string): Promise<AccessKey[]>;
  createKey(k: NewKey, actor: Actor): Promise<AccessKey>;
  revokeKey(network: string, name: string, actor: Actor): Promise<AccessKey>;

  listNodes(network?: string): Promise<NodeRow[]>;
  /** By id or by name. */
  getNode(network: string, ref: string): Promise<NodeRow | undefined>;
  getNodeById(id: string): Promise<NodeRow | undefined>;
  /** Checks and spends one use of the key, allocates the lowest free address, inserts the node,
   * bumps the network version: all or nothing. */
  joinNode(key: { network: string; name: string; secret: string }, node: NewNode, now: Date): Promise<NodeRow>;
  updateNode(id: string, patch: Partial<Pick<NodeRow, 'endpoint' | 'endpointStated' | 'listenPort' | 'publicKey'>>): Promise<NodeRow>;
  approveNode(network: string, ref: string, actor: Actor): Promise<NodeRow>;
  deleteNode(network: string, ref: string, actor: Actor): Promise<NodeRow>;
  /** Removes the node itself (it left); same effect as deleteNode. */
  leaveNode(id: string): Promise<NodeRow>;
  /** The tombstone of a node that was deleted or left, if any. */
  getRemovedNode(id: string): Promise<RemovedNode | undefined>;
  /** Records contact times (soft state: kept in memory, flushed on a timer). */
  touchNode(id: string, at: string): void;

  /** Sets gateway roles. Refuses ranges that overlap the mesh or another gateway's (CIDR_OVERLAP),
   * and taking ingress off a node that still has clients (GATEWAY_IN_USE). */
  setGateway(network: string, ref: string, patch: GatewayPatch, actor: Actor): Promise<NodeRow>;
  listClients(network: string): Promise<ClientRow[]>;
  getClient(network: string, name: string): Promise<ClientRow | undefined>;
  /** Allocates the lowest address free of nodes and clients; the gateway must be an ingress gateway (NOT_A_GATEWAY). */
  createClient(c: NewClient, actor: Actor): Promise<ClientRow>;
  setClientEnabled(network: string, name: string, enabled: boolean, actor: Actor): Promise<ClientRow>;
  deleteClient(network: string, name: string, actor: Actor): Promise<ClientRow>;

  listDns(network: string): Promise<DnsRecord[]>;
  /** The custom records only, as views carry them (sorted by name). */
  listRecords(network: string): Promise<RecordView[]>;
  /** An IPv4 address makes an A record; a name of the network's domain a CNAME. */
  addDns(network: string, name: string, address: string, actor: Actor): Promise<DnsRecord>;
  removeDns(network: string, name: string, actor: Actor): Promise<void>;

  /** The admin token whose secret hashes to `tokenHash`, revoked and expired ones included. */
  getAdminTokenByHash(tokenHash: string): Promise<AdminToken | undefined>;
  listAdminTokens(): Promise<AdminToken[]>;
  /** Refuses a taken name (ALREADY_EXISTS), revoked ones included. */
  createAdminToken(t: { name: string; hash: string; expiresAt: string | null }, actor: Actor): Promise<AdminToken>;
  /** Revokes for good (NOT_FOUND for an unknown name); the name stays taken. */
  revokeAdminToken(name: string, actor: Actor): Promise<AdminToken>;
  /** The newest `limit` entries, newest first; only those at or after `since` (ISO 8601) and
   * about `network` (its own actions and those on things in it), when given. */
  listAudit(limit: number, filter?: AuditFilter): Promise<AuditEntry[]>;

  /** Calls `listener` with each change nodes can see, after it is durable. Returns an unsubscribe. */
  subscribe(listener: (c: Change) => void): () => void;

  close(): Promise<void>;
}
