// DNS names and records: domains, record validation, and the records a node's view carries. Pure.
import { assertDnsLabel } from './network.ts';
import { assertHostIn } from './ipam.ts';
import { parseIPv4 } from './cidr.ts';
import { invalid } from './errors.ts';

export type RecordType = 'A' | 'CNAME';

/** A custom record as views carry it: `name` is a label of the network's domain; `address` is an
 * IPv4 address (A) or another label of the same domain (CNAME). */
export interface RecordView {
  name: string;
  type: RecordType;
  address: string;
}

/** `.internal` is reserved for private use; a bare `<network>` could shadow a real top-level domain. */
export const defaultDomain = (network: string): string => `${network}.internal`;

/** Throws unless `domain` is 2-127 dot-separated DNS labels, at most 253 characters, lowercase. */
export function assertDomain(domain: string): void {
  const labels = domain.split('.');
  if (domain.length > 253 || labels.length < 2 || labels.some((l) => !/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/.test(l))) {
    throw invalid(`domain "${domain}" is not a valid DNS domain: use two or more dot-separated labels of lowercase letters, digits and hyphens`, 'For example: office.internal');
  }
}

/** Lowercase, without the trailing dot: the form names are compared in. */
export const canonicalName = (name: string): string => (name.endsWith('.') ? name.slice(0, -1) : name).toLowerCase();

/** Validates a custom record and says its type: an IPv4 address makes an A record (a host of
 * `cidr` when given), anything else a CNAME to another name in `domain` (given as a label or as
 * `<label>.<domain>`; returned as the label). */
export function parseRecord(name: string, address: string, domain?: string, cidr?: string): RecordView {
  assertDnsLabel(name, 'record name');
  if (/^[0-9.]+$/.test(address)) {
    parseIPv4(address, 'record address');
    if (cidr !== undefined) assertHostIn(cidr, address);
    return { name, type: 'A', address };
  }
  let target = canonicalName(address);
  if (domain !== undefined && target.endsWith(`.${domain}`)) target = target.slice(0, -domain.length - 1);
  if (target.includes('.')) {
    throw invalid(`record address "${address}" is neither an IPv4 address nor a name in ${domain ?? 'the network\'s domain'}`, `A CNAME points to another name of the network, e.g. ${domain ? `n1.${domain}` : 'n1'}`);
  }
  assertDnsLabel(target, 'CNAME target');
  if (target === name) throw invalid(`record "${name}" cannot be a CNAME to itself`);
  return { name, type: 'CNAME', address: target };
}

/** A custom record's name is a DNS label; its address must be an IPv4 address (or a name in the
 * domain: a CNAME). When `cidr` is given an IPv4 address must also be a host of that network. */
export function assertRecord(name: string, address: string, cidr?: string): void {
  parseRecord(name, address, undefined, cidr);
}

/** Sorted by name, so that views compare equal whatever order the records came in. */
export const sortRecords = (rs: RecordView[]): RecordView[] => rs.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
