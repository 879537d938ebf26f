// Gateways: which ranges a node routes for, what every node then sees of it, and what its own
// forwarding and NAT must be. Pure. An ingress gateway carries the network's external clients
// (their /32s ride on its AllowedIPs); an egress gateway carries whole ranges behind it.
import { MeshError, invalid } from './errors.ts';
import { formatPrefix, maskOf, overlaps, parseIPv4, parseNetworkCidr, uintToIp, type Prefix } from './cidr.ts';
import type { NodeView, ViewNode } from './view.ts';

export interface Egress {
  /** Canonical IPv4 prefixes, e.g. ["192.168.7.0/24"]. */
  ranges: string[];
  /** Masquerade mesh traffic into the ranges as the gateway's own address. */
  nat: boolean;
}

/** Parses an IPv4 prefix for a route: /1 to /32, a bare address meaning /32, host bits zero. */
export function parseRange(s: string): Prefix {
  const m = /^([0-9.]+)(?:\/(\d{1,2}))?$/.exec(s.trim());
  if (!m) throw invalid(`range "${s}" is not an IPv4 prefix`, 'Give an address and prefix length, e.g. --ranges 192.168.7.0/24');
  const addr = parseIPv4(m[1]!, 'range address');
  const bits = m[2] === undefined ? 32 : Number(m[2]);
  if (bits < 1 || bits > 32) throw invalid(`range "${s}" has prefix length /${bits}; give /1 to /32`);
  const base = (addr & maskOf(bits)) >>> 0;
  if (base !== addr) throw invalid(`range "${s}" has host bits set`, `Did you mean ${uintToIp(base)}/${bits}?`);
  return { base, bits };
}

/** Validates egress ranges against the mesh range and the other gateways' ranges of the network;
 * returns them canonical and sorted. Overlaps are CIDR_OVERLAP. */
export function assertEgressRanges(ranges: readonly string[], meshCidr: string, others: readonly { node: string; ranges: readonly string[] }[]): string[] {
  if (ranges.length === 0) throw invalid('an egress gateway needs at least one range', 'For example: --ranges 192.168.7.0/24');
  const mesh = parseNetworkCidr(meshCidr);
  const mine: Prefix[] = [];
  for (const r of ranges) {
    const p = parseRange(r);
    const text = formatPrefix(p);
    if (overlaps(p, mesh)) {
      throw new MeshError('CIDR_OVERLAP', `range ${text} overlaps the mesh range ${meshCidr}`, { hint: 'An egress range must lie outside the network\'s own range' });
    }
    const dup = mine.find((q) => overlaps(p, q));
    if (dup) throw new MeshError('CIDR_OVERLAP', `ranges ${text} and ${formatPrefix(dup)} overlap`, { hint: 'Give each range once' });
    for (const o of others) {
      for (const r2 of o.ranges) {
        if (overlaps(p, parseRange(r2))) {
          throw new MeshError('CIDR_OVERLAP', `range ${text} overlaps ${r2}, which node "${o.node}" already routes`, {
            hint: 'Pick a range no other gateway of the network routes, or take it off that gateway first',
          });
        }
      }
    }
    mine.push(p);
  }
  return mine.sort((a, b) => a.base - b.base || a.bits - b.bits).map(formatPrefix);
}

/** What a node's peers route to it: its own /32, its enabled external clients' /32s, its egress ranges. */
export function allowedIpsOf(n: Pick<ViewNode, 'address' | 'clientAddresses' | 'egressRanges'>): string[] {
  return [`${n.address}/32`, ...(n.clientAddresses ?? []).map((a) => `${a}/32`), ...(n.egressRanges ?? [])];
}

/** The routes a node needs through its mesh interface besides the mesh range: every peer's
 * AllowedIPs that lie outside it (egress ranges), sorted, once each. */
export function egressRoutesOf(view: NodeView): string[] {
  const mesh = parseNetworkCidr(view.network.cidr);
  const out = new Set<string>();
  for (const p of view.peers) {
    for (const a of p.allowedIps) {
      let r: Prefix;
      try {
        r = parseRange(a);
      } catch {
        continue; // not ours to route (e.g. IPv6)
      }
      if (!overlaps(r, mesh)) out.add(formatPrefix(r));
    }
  }
  return [...out].sort();
}

/** The forwarding and NAT a gateway's interface needs; null when the node is no gateway. */
export interface FirewallSpec {
  interface: string;
  meshCidr: string;
  /** Mesh traffic into these ranges leaves as the gateway's address. */
  natRanges: string[];
  /** Egress ranges without NAT (kept out of full-tunnel masquerading). */
  keepRanges: string[];
  /** Addresses of full-tunnel clients: their traffic to anywhere off the mesh leaves as the gateway's address. */
  fullTunnelSources: string[];
}

/** The firewall a node's view asks for on `iface`: null unless it is an ingress or egress gateway. */
export function firewallSpecOf(view: NodeView, iface: string): FirewallSpec | null {
  const s = view.self;
  const ranges = s.egressRanges ?? [];
  if (!s.ingress && ranges.length === 0) return null;
  return {
    interface: iface,
    meshCidr: view.network.cidr,
    natRanges: s.egressNat ? [...ranges] : [],
    keepRanges: s.egressNat ? [] : [...ranges],
    fullTunnelSources: s.ingress ? [...(s.fullTunnelClients ?? [])].sort() : [],
  };
}
