// Table `nodes`: queries.
import { assertNameFree } from '../../../core/names.ts';
import { freeAddresses, takeAddress } from './addresses.ts';
import type { NewNode, NodeRow, RemovedNode } from '../store.ts';
import type { Sql } from './engine.ts';
import { RETENTION } from './admin.ts';
import { addressesByGateway, nodeAssignments, toNode, toRemoved, type NodeFields, type NodeRecord as Row, type RemovedRecord } from '../shared/rows.ts';
import { nodeKeyTaken, nodeNameIsClient, noSuchNode } from '../shared/refusals.ts';

/** Enabled clients' addresses by gateway id, for the nodes of `network` (every network when undefined). */
function clientAddressesByGateway(sql: Sql, network?: string): Map<string, string[]> {
  const rows = network === undefined
    ? sql.all<{ gateway_id: string; address: string }>('SELECT gateway_id, address FROM ext_clients WHERE enabled = 1 ORDER BY name')
    : sql.all<{ gateway_id: string; address: string }>('SELECT gateway_id, address FROM ext_clients WHERE network = ? AND enabled = 1 ORDER BY name', [network]);
  return addressesByGateway(rows);
}

const clientAddressesOf = (sql: Sql, id: string): string[] =>
  sql.all<{ address: string }>('SELECT address FROM ext_clients WHERE gateway_id = ? AND enabled = 1 ORDER BY name', [id]).map((r) => r.address);


export function listNodes(sql: Sql, network?: string): NodeRow[] {
  const rows = network === undefined
    ? sql.all<Row>('SELECT * FROM nodes ORDER BY network, name')
    : sql.all<Row>('SELECT * FROM nodes WHERE network = ? ORDER BY name', [network]);
  const clients = clientAddressesByGateway(sql, network);
  return rows.map((r) => toNode(r, clients.get(r.id)));
}

/** The node of `network` whose id is `ref`, else the one named `ref`. Two point queries: one
 * query with `id = ? OR name = ?` ordered by which matched took SQLite 20 times as long (a temp
 * b-tree), and a join runs this. */
export function findNode(sql: Sql, network: string, ref: string): NodeRow | undefined {
  const r = sql.get<Row>('SELECT * FROM nodes WHERE id = ? AND network = ?', [ref, network]) ?? sql.get<Row>('SELECT * FROM nodes WHERE network = ? AND name = ?', [network, ref]);
  return r && toNode(r, clientAddressesOf(sql, r.id));
}

export function findNodeById(sql: Sql, id: string): NodeRow | undefined {
  const r = sql.get<Row>('SELECT * FROM nodes WHERE id = ?', [id]);
  return r && toNode(r, clientAddressesOf(sql, r.id));
}

export function mustNode(sql: Sql, network: string, ref: string): NodeRow {
  const n = findNode(sql, network, ref);
  if (!n) throw noSuchNode(network, ref);
  return n;
}

/** Inserts a node at the lowest free address of `cidr`. */
export function insertNode(sql: Sql, n: NewNode, cidr: string, approved: boolean): NodeRow {
  // One query for every rule on the name and key (a join at scale is a handful of sql.js calls).
  const taken = sql.get<{ node: number | null; record: number | null; client: number | null; key: number | null }>(
    `SELECT (SELECT 1 FROM nodes WHERE network = ?1 AND name = ?2) AS node, (SELECT 1 FROM dns_records WHERE network = ?1 AND name = ?2) AS record,
       (SELECT 1 FROM ext_clients WHERE network = ?1 AND name = ?2) AS client, (SELECT 1 FROM nodes WHERE network = ?1 AND public_key = ?3) AS key`,
    [n.network, n.name, n.publicKey],
  )!;
  assertNameFree(n.network, n.name, 'node', { node: taken.node === 1, record: taken.record === 1 });
  if (taken.key === 1) throw nodeKeyTaken(n.network);
  if (taken.client === 1) throw nodeNameIsClient(n.network, n.name);
  const address = takeAddress(sql, n.network, cidr);
  const createdAt = new Date().toISOString();
  sql.run(
    `INSERT INTO nodes (id, network, name, address, public_key, endpoint, endpoint_stated, listen_port, approved, credential_hash, created_at, last_checkin)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    [n.id, n.network, n.name, address, n.publicKey, n.endpoint, n.endpointStated ? 1 : 0, n.listenPort, approved ? 1 : 0, n.credentialHash, createdAt, createdAt],
  );
  // the row as inserted (what findNodeById would read back)
  return {
    id: n.id, network: n.network, name: n.name, address, publicKey: n.publicKey, endpoint: n.endpoint, endpointStated: n.endpointStated,
    listenPort: n.listenPort, approved, credentialHash: n.credentialHash, createdAt, lastCheckin: createdAt,
    ingress: false, egressRanges: [], egressNat: false, clientAddresses: [],
  };
}

/** Replaces a node's credential (a join retried: the first credential never reached the node). */
export function setCredential(sql: Sql, id: string, credentialHash: string): void {
  sql.run('UPDATE nodes SET credential_hash = ? WHERE id = ?', [credentialHash, id]);
}

export function setNodeFields(sql: Sql, id: string, patch: NodeFields): void {
  const set = nodeAssignments(patch);
  if (set.length) sql.run(`UPDATE nodes SET ${set.map((a) => `${a.column} = ?`).join(', ')} WHERE id = ?`, [...set.map((a) => (typeof a.value === 'boolean' ? (a.value ? 1 : 0) : a.value)), id]);
}

/** Deletes a node, leaving a tombstone so that its credential is answered with "removed". */
export function removeNode(sql: Sql, n: NodeRow, reason: RemovedNode['reason']): void {
  sql.run('INSERT OR REPLACE INTO removed_nodes (id, network, name, credential_hash, reason, removed_at) VALUES (?, ?, ?, ?, ?, ?)', [
    n.id, n.network, n.name, n.credentialHash, reason, new Date().toISOString(),
  ]);
  // its clients go with it (ON DELETE CASCADE): their addresses are free again too
  const clients = sql.all<{ address: string }>('SELECT address FROM ext_clients WHERE gateway_id = ?', [n.id]).map((r) => r.address);
  freeAddresses(sql, n.network, [n.address, ...clients]);
  sql.run('DELETE FROM nodes WHERE id = ?', [n.id]);
  // Tombstones only serve to tell a removed node why: keep them for a while, and not too many.
  sql.run('DELETE FROM removed_nodes WHERE removed_at < ?', [new Date(Date.now() - RETENTION.tombstoneDays * 86_400_000).toISOString()]);
  sql.run('DELETE FROM removed_nodes WHERE rowid IN (SELECT rowid FROM removed_nodes ORDER BY removed_at DESC LIMIT -1 OFFSET ?)', [RETENTION.tombstoneRows]);
}

export function findRemoved(sql: Sql, id: string): RemovedNode | undefined {
  const r = sql.get<RemovedRecord>('SELECT * FROM removed_nodes WHERE id = ?', [id]);
  return r && toRemoved(r);
}

export const countNodes = (sql: Sql, network: string): number =>
  sql.get<{ n: number }>('SELECT count(*) AS n FROM nodes WHERE network = ?', [network])!.n;
