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
  throw new MeshError('IP_POOL_EXHAUSTED', `network range ${cidr} has no free address left`, {
    hint: 'Delete unused nodes, or create a network with a larger range',
  });
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
