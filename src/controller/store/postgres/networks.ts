// Table `networks`: queries. Each takes the transaction handle first. A network's row is also
// its write lock: every transaction that changes what the network's nodes see locks it first
// (lockNetwork, or bumpVersion's UPDATE), so such writes on any controller run one after the
// other and get consecutive versions in commit order.
import { assertDomainFree, assertNoOverlap } from '../../../core/network.ts';
import type { Network } from '../../../core/types.ts';
import { toNetwork, type NetworkRecord as Row } from '../shared/rows.ts';
import { networkExists, noSuchNetwork } from '../shared/refusals.ts';
import type { Q } from './engine.ts';

const COLS = 'name, cidr, listen_port, keepalive, manual_approval, domain, dns, version';
/** Advisory lock key taken by network creation, so that two controllers cannot both pass the
 * overlap check for overlapping ranges. */
const CREATE_LOCK = '7305218436';

export const listNetworks = async (q: Q): Promise<Network[]> => (await q.all<Row>(`SELECT ${COLS} FROM networks ORDER BY name`)).map(toNetwork);

export async function findNetwork(q: Q, name: string): Promise<Network | undefined> {
  const r = await q.get<Row>(`SELECT ${COLS} FROM networks WHERE name = $1`, [name]);
  return r && toNetwork(r);
}

export async function mustNetwork(q: Q, name: string): Promise<Network> {
  const n = await findNetwork(q, name);
  if (!n) throw noSuchNetwork(name);
  return n;
}

/** Like mustNetwork, and holds the network's row lock until the transaction ends. */
export async function lockNetwork(q: Q, name: string): Promise<Network> {
  const r = await q.get<Row>(`SELECT ${COLS} FROM networks WHERE name = $1 FOR UPDATE`, [name]);
  if (!r) throw noSuchNetwork(name);
  return toNetwork(r);
}

export async function insertNetwork(q: Q, n: Network): Promise<Network> {
  await q.run('SELECT pg_advisory_xact_lock($1)', [CREATE_LOCK]);
  if (await findNetwork(q, n.name)) throw networkExists(n.name);
  const all = await listNetworks(q);
  assertNoOverlap(n.cidr, all);
  assertDomainFree(n.domain, n.name, all);
  // changes of an earlier network of this name are history nobody will read
  await q.run('DELETE FROM changes WHERE network = $1', [n.name]);
  await q.run('INSERT INTO networks (name, cidr, listen_port, keepalive, manual_approval, domain, dns, version, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)', [
    n.name, n.cidr, n.listenPort, n.keepalive, n.manualApproval, n.domain, n.dns, n.version, new Date().toISOString(),
  ]);
  return n;
}

export async function saveNetworkSettings(q: Q, n: Network): Promise<void> {
  // Under the creation lock, like insertNetwork: two controllers cannot both take one domain.
  await q.run('SELECT pg_advisory_xact_lock($1)', [CREATE_LOCK]);
  assertDomainFree(n.domain, n.name, await listNetworks(q));
  await q.run('UPDATE networks SET listen_port = $1, keepalive = $2, manual_approval = $3, domain = $4, dns = $5, version = $6 WHERE name = $7', [
    n.listenPort, n.keepalive, n.manualApproval, n.domain, n.dns, n.version, n.name,
  ]);
}

/** Bumps the version of `name` (a change nodes can see) and returns the new version. */
export async function bumpVersion(q: Q, name: string): Promise<number> {
  const r = await q.get<{ version: number }>('UPDATE networks SET version = version + 1 WHERE name = $1 RETURNING version', [name]);
  if (!r) throw noSuchNetwork(name);
  return r.version;
}

export async function removeNetwork(q: Q, name: string): Promise<void> {
  await q.run('DELETE FROM networks WHERE name = $1', [name]);
}
