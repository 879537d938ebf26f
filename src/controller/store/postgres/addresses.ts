// Table `free_addresses` and column `networks.next_address`: each network's address pool
// (core/ipam.ts `Pool`), twin of sqlite/addresses.ts. Callers hold the network's row lock, so one
// allocation per network runs at a time across controllers; the UNIQUE (network, address)
// constraints of nodes and ext_clients stay the last word, and a candidate found in use anyway is
// dropped and the next taken.
import { poolOf, pastLastHost, poolExhausted } from '../../../core/ipam.ts';
import { uintOfValid, uintToIp } from '../../../core/cidr.ts';
import type { Q } from './engine.ts';

/** Every address of `network` taken by a node or an external client. */
export const usedAddresses = async (q: Q, network: string): Promise<string[]> =>
  (await q.all<{ address: string }>('SELECT address FROM nodes WHERE network = $1 UNION ALL SELECT address FROM ext_clients WHERE network = $1', [network])).map((r) => r.address);

const inUse = async (q: Q, network: string, address: string): Promise<boolean> =>
  (await q.get('SELECT 1 FROM nodes WHERE network = $1 AND address = $2 UNION ALL SELECT 1 FROM ext_clients WHERE network = $1 AND address = $2', [network, address])) !== undefined;

/** The pool's cursor, building the pool first when the network has none yet. */
async function cursor(q: Q, network: string, cidr: string): Promise<number> {
  const r = await q.get<{ next_address: string | null }>('SELECT next_address FROM networks WHERE name = $1', [network]);
  if (r?.next_address != null) return Number(r.next_address);
  const pool = poolOf(cidr, await usedAddresses(q, network));
  await q.run('DELETE FROM free_addresses WHERE network = $1', [network]);
  if (pool.free.length) await q.run('INSERT INTO free_addresses (network, address) SELECT $1, unnest($2::bigint[])', [network, pool.free]);
  await q.run('UPDATE networks SET next_address = $1 WHERE name = $2', [pool.next, network]);
  return pool.next;
}

/** Takes the lowest free host address of `network` (range `cidr`) for a node or client that the
 * caller inserts in the same transaction; IP_POOL_EXHAUSTED when there is none. */
export async function takeAddress(q: Q, network: string, cidr: string): Promise<string> {
  for (;;) {
    const next = await cursor(q, network, cidr);
    const f = await q.get<{ address: string }>(
      'DELETE FROM free_addresses WHERE network = $1 AND address = (SELECT min(address) FROM free_addresses WHERE network = $1) RETURNING address', [network]);
    let ip: number;
    if (f) ip = Number(f.address);
    else {
      if (pastLastHost(cidr, next)) throw poolExhausted(cidr);
      ip = next;
      await q.run('UPDATE networks SET next_address = $1 WHERE name = $2', [next + 1, network]);
    }
    const address = uintToIp(ip);
    if (!(await inUse(q, network, address))) return address;
  }
}

/** Gives `addresses` of `network` back to its pool (the caller deletes their holders in the same
 * transaction). A network whose pool is not built yet needs nothing. */
export async function freeAddresses(q: Q, network: string, addresses: readonly string[]): Promise<void> {
  if (addresses.length === 0) return;
  await q.run(
    `INSERT INTO free_addresses (network, address) SELECT $1, a FROM unnest($2::bigint[]) AS a, networks n
     WHERE n.name = $1 AND n.next_address > a ON CONFLICT DO NOTHING`,
    [network, addresses.map(uintOfValid)],
  );
}
