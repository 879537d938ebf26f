// Table `nodes` (and `removed_nodes`, the tombstones): queries.
import { assertNameFree } from '../../../core/names.ts';
import { nameUse } from './dns.ts';
import { freeAddresses, takeAddress } from './addresses.ts';
import type { NewNode, NodeRow, RemovedNode } from '../store.ts';
import type { Q } from './engine.ts';
import { RETENTION } from '../store.ts';
import { addressesByGateway, nodeAssignments, toNode, toRemoved, type NodeFields, type NodeRecord as Row, type RemovedRecord } from '../shared/rows.ts';
import { nodeKeyTaken, nodeNameIsClient, noSuchNode } from '../shared/refusals.ts';

/** Enabled clients' addresses by gateway id, for the nodes of `network` (every network when undefined). */
async function clientAddressesByGateway(q: Q, network?: string): Promise<Map<string, string[]>> {
  const rows = network === undefined
    ? await q.all<{ gateway_id: string; address: string }>('SELECT gateway_id, address FROM ext_clients WHERE enabled ORDER BY name')
    : await q.all<{ gateway_id: string; address: string }>('SELECT gateway_id, address FROM ext_clients WHERE network = $1 AND enabled ORDER BY name', [network]);
  return addressesByGateway(rows);
}

const clientAddressesOf = async (q: Q, id: string): Promise<string[]> =>
  (await q.all<{ address: string }>('SELECT address FROM ext_clients WHERE gateway_id = $1 AND enabled ORDER BY name', [id])).map((r) => r.address);


export async function listNodes(q: Q, network?: string): Promise<NodeRow[]> {
  const rows = network === undefined
    ? await q.all<Row>('SELECT * FROM nodes ORDER BY network, name')
    : await q.all<Row>('SELECT * FROM nodes WHERE network = $1 ORDER BY name', [network]);
  const clients = await clientAddressesByGateway(q, network);
  return rows.map((r) => toNode(r, clients.get(r.id)));
}

export async function findNode(q: Q, network: string, ref: string): Promise<NodeRow | undefined> {
  const r = await q.get<Row>('SELECT * FROM nodes WHERE network = $1 AND (id = $2 OR name = $2) ORDER BY (id = $2) DESC LIMIT 1', [network, ref]);
  return r && toNode(r, await clientAddressesOf(q, r.id));
}

export async function findNodeById(q: Q, id: string): Promise<NodeRow | undefined> {
  const r = await q.get<Row>('SELECT * FROM nodes WHERE id = $1', [id]);
  return r && toNode(r, await clientAddressesOf(q, r.id));
}

export async function mustNode(q: Q, network: string, ref: string): Promise<NodeRow> {
  const n = await findNode(q, network, ref);
  if (!n) throw noSuchNode(network, ref);
  return n;
}

/** Inserts a node at the lowest free address of `cidr`. The caller holds the network's lock, so
 * no other controller allocates in this network meanwhile; the UNIQUE (network, address)
 * constraint stays the last word. */
export async function insertNode(q: Q, n: NewNode, cidr: string, approved: boolean): Promise<NodeRow> {
  assertNameFree(n.network, n.name, 'node', await nameUse(q, n.network, n.name));
  if (await q.get('SELECT 1 FROM nodes WHERE network = $1 AND public_key = $2', [n.network, n.publicKey])) throw nodeKeyTaken(n.network);
  if (await q.get('SELECT 1 FROM ext_clients WHERE network = $1 AND name = $2', [n.network, n.name])) throw nodeNameIsClient(n.network, n.name);
  const address = await takeAddress(q, n.network, cidr);
  const createdAt = new Date().toISOString();
  const r = await q.get<Row>(
    `INSERT INTO nodes (id, network, name, address, public_key, endpoint, endpoint_stated, listen_port, approved, credential_hash, created_at, last_checkin)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11) RETURNING *`,
    [n.id, n.network, n.name, address, n.publicKey, n.endpoint, n.endpointStated, n.listenPort, approved, n.credentialHash, createdAt],
  );
  return toNode(r!);
}

/** Replaces a node's credential (a join retried: the first credential never reached the node). */
export async function setCredential(q: Q, id: string, credentialHash: string): Promise<void> {
  await q.run('UPDATE nodes SET credential_hash = $1 WHERE id = $2', [credentialHash, id]);
}

export async function setNodeFields(q: Q, id: string, patch: NodeFields): Promise<void> {
  const set = nodeAssignments(patch);
  if (set.length) await q.run(`UPDATE nodes SET ${set.map((a, i) => `${a.column} = $${i + 1}`).join(', ')} WHERE id = $${set.length + 1}`, [...set.map((a) => a.value), id]);
}

/** Writes many contact times in one statement; a later time never goes back to an earlier one. */
export async function touchMany(q: Q, batch: [id: string, at: string][]): Promise<void> {
  if (batch.length === 0) return;
  await q.run(
    `UPDATE nodes SET last_checkin = t.at FROM unnest($1::text[], $2::text[]) AS t(id, at)
     WHERE nodes.id = t.id AND (nodes.last_checkin IS NULL OR nodes.last_checkin < t.at)`,
    [batch.map((b) => b[0]), batch.map((b) => b[1])],
  );
}

/** Deletes a node, leaving a tombstone so that its credential is answered with "removed". */
export async function removeNode(q: Q, n: NodeRow, reason: RemovedNode['reason']): Promise<void> {
  await q.run(
    `INSERT INTO removed_nodes (id, network, name, credential_hash, reason, removed_at) VALUES ($1, $2, $3, $4, $5, $6)
     ON CONFLICT (id) DO UPDATE SET network = EXCLUDED.network, name = EXCLUDED.name, credential_hash = EXCLUDED.credential_hash,
       reason = EXCLUDED.reason, removed_at = EXCLUDED.removed_at`,
    [n.id, n.network, n.name, n.credentialHash, reason, new Date().toISOString()],
  );
  // its clients go with it (ON DELETE CASCADE): their addresses are free again too
  const clients = (await q.all<{ address: string }>('SELECT address FROM ext_clients WHERE gateway_id = $1', [n.id])).map((r) => r.address);
  await freeAddresses(q, n.network, [n.address, ...clients]);
  await q.run('DELETE FROM nodes WHERE id = $1', [n.id]);
}

/** Tombstones only serve to tell a removed node why: keeps those younger than
 * RETENTION.tombstoneDays, and the newest RETENTION.tombstoneRows of them (as the embedded store
 * does). Once per transaction that removed nodes, after the removals. */
export async function pruneTombstones(q: Q): Promise<void> {
  await q.run('DELETE FROM removed_nodes WHERE removed_at < $1', [new Date(Date.now() - RETENTION.tombstoneDays * 86_400_000).toISOString()]);
  await q.run(
    'DELETE FROM removed_nodes WHERE id IN (SELECT id FROM removed_nodes ORDER BY removed_at DESC, id DESC OFFSET $1)',
    [RETENTION.tombstoneRows],
  );
}

export async function findRemoved(q: Q, id: string): Promise<RemovedNode | undefined> {
  const r = await q.get<RemovedRecord>('SELECT * FROM removed_nodes WHERE id = $1', [id]);
  return r && toRemoved(r);
}

export const countNodes = async (q: Q, network: string): Promise<number> =>
  Number((await q.get<{ n: string }>('SELECT count(*) AS n FROM nodes WHERE network = $1', [network]))!.n);
