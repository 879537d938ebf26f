// Network specs: validation and defaults. Pure.
import { invalid, MeshError } from './errors.ts';
import { formatPrefix, overlaps, parseIPv4, parseNetworkCidr } from './cidr.ts';
import type { Network, NetworkPatch, NetworkSpec } from './types.ts';
import { assertDomain, canonicalName, defaultDomain } from './dns.ts';

export const DEFAULT_LISTEN_PORT = 51821;
export const DEFAULT_KEEPALIVE = 20;
export const MAX_KEEPALIVE = 3600;

const LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

/** True when `name` is a DNS label: lowercase letters, digits, hyphen, 1-63, no edge hyphen. */
export const isDnsLabel = (name: unknown): name is string => typeof name === 'string' && LABEL.test(name);

/** Throws unless `name` is a DNS label: lowercase letters, digits, hyphen, 1-63, no edge hyphen. */
export function assertDnsLabel(name: string, what: string): void {
  if (!LABEL.test(name)) {
    throw invalid(
      `${what} "${name}" is not a valid name: use 1-63 lowercase letters, digits and hyphens, not starting or ending with a hyphen`,
      `For example: ${suggestLabel(name) || 'office'}`,
    );
  }
}

/** A best-effort valid label derived from `s` (for hints and default node names). */
export function suggestLabel(s: string): string {
  return s.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 63).replace(/-+$/, '');
}

export function assertPort(port: number, what = 'listen port'): void {
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw invalid(`${what} ${port} is out of range 1-65535`);
}

export function assertKeepalive(k: number): void {
  if (!Number.isInteger(k) || k < 0 || k > MAX_KEEPALIVE) {
    throw invalid(`keepalive ${k} is out of range 0-${MAX_KEEPALIVE} seconds`, 'Use 0 to turn keepalive off, or e.g. 20');
  }
}

/** Ranges a mesh cannot use: "this network", loopback, link-local, multicast, reserved. */
export const UNUSABLE_RANGES: readonly { cidr: string; why: string }[] = [
  { cidr: '0.0.0.0/8', why: '"this network" addresses, which hosts do not route' },
  { cidr: '127.0.0.0/8', why: 'loopback: every host keeps it for itself' },
  { cidr: '169.254.0.0/16', why: 'link-local: not routed, and used for cloud metadata services' },
  { cidr: '224.0.0.0/4', why: 'multicast' },
  { cidr: '240.0.0.0/4', why: 'reserved (and the broadcast address)' },
];

/** Throws INVALID_ARGUMENT when `cidr` shares any address with an unusable range. */
export function assertUsableRange(cidr: string): void {
  const p = parseNetworkCidr(cidr);
  for (const r of UNUSABLE_RANGES) {
    const [ip, bits] = r.cidr.split('/');
    if (overlaps(p, { base: parseIPv4(ip!), bits: Number(bits) })) {
      throw invalid(`range ${cidr} overlaps ${r.cidr}, ${r.why}`, 'Use a private range such as 10.10.0.0/24, 172.16.0.0/24 or 192.168.50.0/24');
    }
  }
}

/** Validates a spec and fills defaults. Version starts at 1. */
export function newNetwork(spec: NetworkSpec): Network {
  assertDnsLabel(spec.name, 'network name');
  const p = parseNetworkCidr(spec.cidr);
  assertUsableRange(formatPrefix(p));
  const listenPort = spec.listenPort ?? DEFAULT_LISTEN_PORT;
  const keepalive = spec.keepalive ?? DEFAULT_KEEPALIVE;
  assertPort(listenPort);
  assertKeepalive(keepalive);
  const domain = spec.domain === undefined ? defaultDomain(spec.name) : canonicalName(spec.domain);
  assertDomain(domain);
  return { name: spec.name, cidr: formatPrefix(p), listenPort, keepalive, manualApproval: spec.manualApproval ?? false, domain, dns: spec.dns ?? true, version: 1 };
}

/** Throws CIDR_OVERLAP when `cidr` shares addresses with any existing network. */
export function assertNoOverlap(cidr: string, existing: readonly Pick<Network, 'name' | 'cidr'>[]): void {
  const p = parseNetworkCidr(cidr);
  for (const n of existing) {
    if (overlaps(p, parseNetworkCidr(n.cidr))) {
      throw new MeshError('CIDR_OVERLAP', `range ${cidr} overlaps network "${n.name}" (${n.cidr})`, {
        hint: 'Pick a range that no other network uses',
      });
    }
  }
}

/** Applies a validated patch; bumps the version when anything nodes see changed. */
export function patchNetwork(n: Network, patch: NetworkPatch): Network {
  if (patch.listenPort !== undefined) assertPort(patch.listenPort);
  if (patch.keepalive !== undefined) assertKeepalive(patch.keepalive);
  if (patch.domain !== undefined) patch = { ...patch, domain: canonicalName(patch.domain) };
  if (patch.domain !== undefined) assertDomain(patch.domain);
  const next: Network = { ...n, ...Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined)) };
  const changed = next.listenPort !== n.listenPort || next.keepalive !== n.keepalive || next.manualApproval !== n.manualApproval ||
    next.domain !== n.domain || next.dns !== n.dns;
  return changed ? { ...next, version: n.version + 1 } : n;
}

/** Throws ALREADY_EXISTS when another network already uses `domain` (a node in both could not
 * tell their names apart). */
export function assertDomainFree(domain: string, self: string, existing: readonly Pick<Network, 'name' | 'domain'>[]): void {
  const other = existing.find((n) => n.name !== self && n.domain === domain);
  if (other) {
    throw new MeshError('ALREADY_EXISTS', `domain ${domain} is already the domain of network "${other.name}"`, { hint: 'Pick another --domain' });
  }
}
