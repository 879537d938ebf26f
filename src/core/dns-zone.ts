// A network's names as one zone: every node as <name>.<domain> plus the custom records, built
// from the view a node already holds. Pure.
import type { NodeView } from './view.ts';
import { defaultDomain, type RecordView } from './dns.ts';

export interface ZoneHost {
  /** IPv4 address (a node or an A record). */
  a?: string;
  /** Another label of the same zone (a CNAME record). */
  cname?: string;
}

export interface Zone {
  domain: string;
  /** The network version the zone was built from (the SOA serial). */
  serial: number;
  /** Label -> what it resolves to. */
  hosts: Map<string, ZoneHost>;
}

/** Whether the view's network serves DNS (a per-network switch; on unless turned off). */
export const dnsEnabled = (view: NodeView): boolean => view.network.dns !== false;

/** The domain of the view's network. */
export const domainOf = (view: NodeView): string => view.network.domain || defaultDomain(view.network.name);

/** The zone of a view: itself and its peers by name, then the custom records. A record never
 * shadows a node (the controller refuses that; if it happened anyway, the node wins). */
export function zoneOf(view: NodeView): Zone {
  const hosts = new Map<string, ZoneHost>();
  hosts.set(view.self.name, { a: view.self.address });
  for (const p of view.peers) hosts.set(p.name, { a: p.address });
  for (const r of view.records ?? []) if (!hosts.has(r.name)) hosts.set(r.name, hostOf(r));
  return { domain: domainOf(view), serial: view.version, hosts };
}

const hostOf = (r: RecordView): ZoneHost => (r.type === 'CNAME' ? { cname: r.address } : { a: r.address });

/** Name -> address for every name of the zone that resolves to an address (CNAMEs followed),
 * sorted by name: the content of a hosts file. */
export function zoneAddresses(z: Zone): { name: string; address: string }[] {
  const out: { name: string; address: string }[] = [];
  for (const label of [...z.hosts.keys()].sort()) {
    const a = resolveLabel(z, label);
    if (a) out.push({ name: `${label}.${z.domain}`, address: a });
  }
  return out;
}

/** The address `label` ends at after at most 8 CNAME hops, or undefined. */
export function resolveLabel(z: Zone, label: string): string | undefined {
  let h = z.hosts.get(label);
  for (let hops = 0; h && hops < 8; hops++) {
    if (h.a) return h.a;
    h = h.cname === undefined ? undefined : z.hosts.get(h.cname);
  }
  return undefined;
}
