// DNS record rules. Pure.
import { assertDnsLabel } from './network.ts';
import { assertHostIn } from './ipam.ts';
import { parseIPv4 } from './cidr.ts';

/** A custom record's name is a DNS label; its address must be an IPv4 address. When
 * `cidr` is given the address must also be a host of that network. */
export function assertRecord(name: string, address: string, cidr?: string): void {
  assertDnsLabel(name, 'record name');
  parseIPv4(address, 'record address');
  if (cidr !== undefined) assertHostIn(cidr, address);
}
