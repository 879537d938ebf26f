// Rows as both engines return them, and their mappers to the store's records. The engines differ
// only in how a boolean column comes back: 0/1 from SQLite, true/false from PostgreSQL.
import { defaultDomain, type RecordView } from '../../../core/dns.ts';
import type { AccessKey, Network } from '../../../core/types.ts';
import type { ClientRow, NodeRow, RemovedNode } from '../store.ts';

/** A boolean column: 0/1 (SQLite) or false/true (PostgreSQL). */
export type Flag = number | boolean;
export const flag = (v: Flag): boolean => (typeof v === 'boolean' ? v : v !== 0);

export interface NetworkRecord {
  name: string;
  cidr: string;
  listen_port: number;
  keepalive: number;
  manual_approval: Flag;
  domain: string | null;
  dns: Flag;
  version: number;
}

export const toNetwork = (r: NetworkRecord): Network => ({
  name: r.name,
  cidr: r.cidr,
  listenPort: r.listen_port,
  keepalive: r.keepalive,
  manualApproval: flag(r.manual_approval),
  domain: r.domain ?? defaultDomain(r.name),
  dns: flag(r.dns),
  version: r.version,
});

export interface NodeRecord {
  id: string;
  network: string;
  name: string;
  address: string;
  public_key: string;
  endpoint: string | null;
  endpoint_stated: Flag;
  listen_port: number;
  approved: Flag;
  credential_hash: string;
  created_at: string;
  last_checkin: string | null;
  ingress: Flag;
  egress_ranges: string;
  egress_nat: Flag;
}

export const toNode = (r: NodeRecord, clientAddresses: string[] = []): NodeRow => ({
  id: r.id,
  network: r.network,
  name: r.name,
  address: r.address,
  publicKey: r.public_key,
  endpoint: r.endpoint,
  endpointStated: flag(r.endpoint_stated),
  listenPort: r.listen_port,
  approved: flag(r.approved),
  credentialHash: r.credential_hash,
  createdAt: r.created_at,
  lastCheckin: r.last_checkin,
  ingress: flag(r.ingress),
  egressRanges: r.egress_ranges ? r.egress_ranges.split(',') : [],
  egressNat: flag(r.egress_nat),
  clientAddresses,
});

/** Enabled clients' addresses grouped by their gateway's id (rows in the order they came). */
export function addressesByGateway(rows: readonly { gateway_id: string; address: string }[]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const r of rows) {
    const l = out.get(r.gateway_id);
    if (l) l.push(r.address);
    else out.set(r.gateway_id, [r.address]);
  }
  return out;
}

/** The node fields a write may set. */
export type NodeFields = Partial<Pick<NodeRow, 'endpoint' | 'endpointStated' | 'listenPort' | 'publicKey' | 'approved' | 'lastCheckin' | 'ingress' | 'egressNat'> & { egressRanges: string[] }>;

const NODE_COLUMNS: Record<keyof NodeFields, string> = {
  endpoint: 'endpoint', endpointStated: 'endpoint_stated', listenPort: 'listen_port', publicKey: 'public_key', approved: 'approved', lastCheckin: 'last_checkin',
  ingress: 'ingress', egressNat: 'egress_nat', egressRanges: 'egress_ranges',
};

/** The columns a node patch sets and their values, in the patch's order (undefined fields left
 * out, lists comma-separated as stored; booleans stay booleans for the engine to convert). */
export function nodeAssignments(patch: NodeFields): { column: string; value: string | number | boolean | null }[] {
  const out: { column: string; value: string | number | boolean | null }[] = [];
  for (const [k, v] of Object.entries(patch) as [keyof NodeFields, NodeFields[keyof NodeFields]][]) {
    if (v === undefined) continue;
    out.push({ column: NODE_COLUMNS[k], value: Array.isArray(v) ? v.join(',') : v });
  }
  return out;
}

export interface RemovedRecord {
  id: string;
  network: string;
  name: string;
  credential_hash: string;
  reason: RemovedNode['reason'];
  removed_at: string;
}

export const toRemoved = (r: RemovedRecord): RemovedNode =>
  ({ id: r.id, network: r.network, name: r.name, credentialHash: r.credential_hash, reason: r.reason, removedAt: r.removed_at });

export interface ClientRecord {
  network: string;
  name: string;
  address: string;
  public_key: string;
  gateway_id: string;
  gateway: string;
  enabled: Flag;
  dns: Flag;
  full_tunnel: Flag;
  created_at: string;
}

export const toClient = (r: ClientRecord): ClientRow => ({
  network: r.network,
  name: r.name,
  address: r.address,
  publicKey: r.public_key,
  gatewayId: r.gateway_id,
  gateway: r.gateway,
  enabled: flag(r.enabled),
  dns: flag(r.dns),
  fullTunnel: flag(r.full_tunnel),
  createdAt: r.created_at,
});

/** A client with its gateway's name: what toClient reads. */
export const CLIENT_SELECT = 'SELECT c.*, n.name AS gateway FROM ext_clients c JOIN nodes n ON n.id = c.gateway_id';

export interface KeyRecord {
  network: string;
  name: string;
  secret_hash: string;
  uses_remaining: number | null;
  expires_at: string | null;
  revoked: Flag;
  created_at: string;
}

export const toKey = (r: KeyRecord): AccessKey => ({
  name: r.name,
  network: r.network,
  usesRemaining: r.uses_remaining,
  expiresAt: r.expires_at,
  revoked: flag(r.revoked),
  createdAt: r.created_at,
});

export interface RecordRecord { name: string; type: string; address: string }

export const toRecordView = (r: RecordRecord): RecordView => ({ name: r.name, type: r.type === 'CNAME' ? 'CNAME' : 'A', address: r.address });
