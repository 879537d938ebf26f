// IP allocation: pure. The caller supplies the addresses in use; we return the lowest free host.
import { MeshError } from './errors.ts';
import { parseIPv4, parseNetworkCidr, sizeOf, uintToIp, isHostOf, uintOfValid } from './cidr.ts';

/** The lowest free host address of `cidr` not in `used` (valid dotted IPv4 addresses, as the
 * store holds them); never network or broadcast. */
export function allocate(cidr: string, used: Iterable<string>): string {
  const p = parseNetworkCidr(cidr);
  const taken = new Set<number>();
  for (const u of used) taken.add(uintOfValid(u));
  const last = p.base + sizeOf(p) - 1;
  for (let ip = p.base + 1; ip < last; ip++) {
    if (!taken.has(ip)) return uintToIp(ip);
  }
  throw poolExhausted(cidr);
}

/** The error for a range with no free host address left. */
export const poolExhausted = (cidr: string): MeshError =>
  new MeshError('IP_POOL_EXHAUSTED', `network range ${cidr} has no free address left`, {
    hint: 'Delete unused nodes, or create a network with a larger range',
  });

/** A network's address pool as the stores keep it, so that taking an address costs one index
 * lookup instead of a read of every address: every host below `next` is either in use or listed
 * in `free`; no host at or above `next` is in use. The lowest free host is then the smallest of
 * `free`, else `next`, exactly what `allocate` would return. */
export interface Pool {
  /** The lowest host address (uint32) never handed out since the pool was built. */
  next: number;
  /** Host addresses (uint32) below `next` that are free again, ascending. */
  free: number[];
}

/** Builds the pool of `cidr` from the addresses in use (once per network: the stores keep it). */
export function poolOf(cidr: string, used: Iterable<string>): Pool {
  const p = parseNetworkCidr(cidr);
  const taken = new Set<number>();
  let top = p.base;
  for (const u of used) {
    const ip = uintOfValid(u);
    taken.add(ip);
    if (ip > top) top = ip;
  }
  const free: number[] = [];
  for (let ip = p.base + 1; ip < top; ip++) if (!taken.has(ip)) free.push(ip);
  return { next: top + 1, free };
}

/** True when `ip` (uint32) is past the last host of `cidr`: a pool whose `next` got there is
 * exhausted unless it has free addresses. */
export function pastLastHost(cidr: string, ip: number): boolean {
  const p = parseNetworkCidr(cidr);
  return ip >= p.base + sizeOf(p) - 1;
}

/** Validates that `address` is a usable host address inside `cidr`. */
export function assertHostIn(cidr: string, address: string): void {
  const p = parseNetworkCidr(cidr);
  const ip = parseIPv4(address);
  if (!isHostOf(p, ip)) {
    throw new MeshError('INVALID_ARGUMENT', `address ${address} is not a usable host address of ${cidr}`, {
      hint: `Pick an address inside ${cidr} other than its network and broadcast addresses`,
    });
  }
}
