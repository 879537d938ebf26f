// Table `networks`: queries. Each takes the transaction handle first.
import { assertDomainFree, assertNoOverlap } from '../../../core/network.ts';
import type { Network } from '../../../core/types.ts';
import { toNetwork, type NetworkRecord as Row } from '../shared/rows.ts';
import { networkExists, noSuchNetwork } from '../shared/refusals.ts';
import type { Sql } from './engine.ts';

export const listNetworks = (sql: Sql): Network[] => sql.all<Row>('SELECT * FROM networks ORDER BY name').map(toNetwork);

export function findNetwork(sql: Sql, name: string): Network | undefined {
  const r = sql.get<Row>('SELECT * FROM networks WHERE name = ?', [name]);
  return r && toNetwork(r);
}

export function mustNetwork(sql: Sql, name: string): Network {
  const n = findNetwork(sql, name);
  if (!n) throw noSuchNetwork(name);
  return n;
}

export function insertNetwork(sql: Sql, n: Network): Network {
  if (findNetwork(sql, n.name)) throw networkExists(n.name);
  const all = listNetworks(sql);
  assertNoOverlap(n.cidr, all);
  assertDomainFree(n.domain, n.name, all);
  sql.run('INSERT INTO networks (name, cidr, listen_port, keepalive, manual_approval, domain, dns, version, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)', [
    n.name, n.cidr, n.listenPort, n.keepalive, n.manualApproval ? 1 : 0, n.domain, n.dns ? 1 : 0, n.version, new Date().toISOString(),
  ]);
  return n;
}

export function saveNetworkSettings(sql: Sql, n: Network): void {
  assertDomainFree(n.domain, n.name, listNetworks(sql));
  sql.run('UPDATE networks SET listen_port = ?, keepalive = ?, manual_approval = ?, domain = ?, dns = ?, version = ? WHERE name = ?', [
    n.listenPort, n.keepalive, n.manualApproval ? 1 : 0, n.domain, n.dns ? 1 : 0, n.version, n.name,
  ]);
}

/** Bumps the version of `name` (a change nodes can see) and returns the new version. */
export function bumpVersion(sql: Sql, name: string): number {
  return sql.get<{ version: number }>('UPDATE networks SET version = version + 1 WHERE name = ? RETURNING version', [name])!.version;
}

export function removeNetwork(sql: Sql, name: string): void {
  sql.run('DELETE FROM networks WHERE name = ?', [name]);
}
