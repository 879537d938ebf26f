// Table `free_addresses` and column `networks.next_address`: each network's address pool
// (core/ipam.ts `Pool`), so that a join takes its address with a few index lookups instead of
// reading every address of the network. The UNIQUE (network, address) constraints of nodes and
// ext_clients stay the last word; a candidate found in use anyway is dropped and the next taken.
import { poolOf, pastLastHost, poolExhausted } from '../../../core/ipam.ts';
import { uintOfValid, uintToIp } from '../../../core/cidr.ts';
import type { Sql } from './engine.ts';

/** Every address of `network` taken by a node or an external client. */
export const usedAddresses = (sql: Sql, network: string): string[] =>
  sql.all<{ address: string }>('SELECT address FROM nodes WHERE network = ? UNION ALL SELECT address FROM ext_clients WHERE network = ?', [network, network]).map((r) => r.address);

const inUse = (sql: Sql, network: string, address: string): boolean =>
  sql.get('SELECT 1 FROM nodes WHERE network = ? AND address = ? UNION ALL SELECT 1 FROM ext_clients WHERE network = ? AND address = ?', [network, address, network, address]) !== undefined;

/** The pool's cursor and lowest free address, building the pool first (one read of the
 * network's addresses) when the network has none yet: networks made before the pool existed,
 * and new ones. */
function pool(sql: Sql, network: string, cidr: string): { next: number; free: number | null } {
  const r = sql.get<{ next: number | null; free: number | null }>(
    'SELECT next_address AS next, (SELECT min(address) FROM free_addresses WHERE network = ?1) AS free FROM networks WHERE name = ?1', [network]);
  if (r?.next != null) return { next: r.next, free: r.free };
  const p = poolOf(cidr, usedAddresses(sql, network));
  sql.run('DELETE FROM free_addresses WHERE network = ?', [network]);
  for (const ip of p.free) sql.run('INSERT INTO free_addresses (network, address) VALUES (?, ?)', [network, ip]);
  sql.run('UPDATE networks SET next_address = ? WHERE name = ?', [p.next, network]);
  return { next: p.next, free: p.free[0] ?? null };
}

/** Takes the lowest free host address of `network` (range `cidr`) for a node or client that the
 * caller inserts in the same transaction; IP_POOL_EXHAUSTED when there is none. */
export function takeAddress(sql: Sql, network: string, cidr: string): string {
  for (;;) {
    const { next, free } = pool(sql, network, cidr);
    let ip: number;
    if (free !== null) {
      ip = free;
      sql.run('DELETE FROM free_addresses WHERE network = ? AND address = ?', [network, ip]);
    } else {
      if (pastLastHost(cidr, next)) throw poolExhausted(cidr);
      ip = next;
      sql.run('UPDATE networks SET next_address = ? WHERE name = ?', [next + 1, network]);
    }
    const address = uintToIp(ip);
    if (!inUse(sql, network, address)) return address;
  }
}

/** Gives `addresses` of `network` back to its pool (the caller deletes their holders in the same
 * transaction). A network whose pool is not built yet needs nothing: building reads what is used. */
export function freeAddresses(sql: Sql, network: string, addresses: readonly string[]): void {
  for (const a of addresses) {
    const ip = uintOfValid(a);
    sql.run('INSERT OR IGNORE INTO free_addresses (network, address) SELECT ?, ? FROM networks WHERE name = ? AND next_address > ?', [network, ip, network, ip]);
  }
}
