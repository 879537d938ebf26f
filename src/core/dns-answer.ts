// The answer to one DNS question, from the zones a node serves. Pure: plain question in, plain
// records out, in the shapes dns-packet encodes. Authoritative for the zones' domains, NXDOMAIN
// for unknown names in them, REFUSED for everything else (never an open resolver).
import type { Zone } from './dns-zone.ts';
import { canonicalName } from './dns.ts';

/** Seconds: short, so that a changed name is not held long in a cache (resolved caches by TTL). */
export const DNS_TTL = 5;

export interface SoaData {
  mname: string;
  rname: string;
  serial: number;
  refresh: number;
  retry: number;
  expire: number;
  minimum: number;
}

export type Rr =
  | { name: string; type: 'A' | 'CNAME'; class: 'IN'; ttl: number; data: string }
  | { name: string; type: 'SOA'; class: 'IN'; ttl: number; data: SoaData };

export type Rcode = 'NOERROR' | 'NXDOMAIN' | 'REFUSED';

export interface DnsAnswer {
  rcode: Rcode;
  /** Authoritative answer (set for every name inside a served domain). */
  aa: boolean;
  answers: Rr[];
  authorities: Rr[];
}

/** The zones a responder serves, found by domain. */
export class ZoneSet {
  private readonly byDomain = new Map<string, Zone>();
  /** Grows with every change, so that answers cached from older zones can be told apart. */
  generation = 0;

  set(z: Zone): void {
    this.byDomain.set(z.domain, z);
    this.generation++;
  }

  delete(domain: string): void {
    if (this.byDomain.delete(domain)) this.generation++;
  }

  get domains(): string[] {
    return [...this.byDomain.keys()];
  }

  /** The zone `name` (canonical) falls in, if any: the longest domain that is a suffix of it. */
  find(name: string): Zone | undefined {
    for (let s = name; ; ) {
      const z = this.byDomain.get(s);
      if (z) return z;
      const i = s.indexOf('.');
      if (i < 0) return undefined;
      s = s.slice(i + 1);
    }
  }
}

const REFUSED: DnsAnswer = Object.freeze({ rcode: 'REFUSED', aa: false, answers: [], authorities: [] }) as DnsAnswer;

function soa(z: Zone): Rr {
  return {
    name: z.domain, type: 'SOA', class: 'IN', ttl: DNS_TTL,
    data: { mname: `ns.${z.domain}`, rname: `hostmaster.${z.domain}`, serial: z.serial >>> 0, refresh: 60, retry: 30, expire: 600, minimum: DNS_TTL },
  };
}

/** The answer to the question (`qname`, `qtype`, `qclass`). */
export function answer(zones: ZoneSet, qname: string, qtype: string, qclass: string = 'IN'): DnsAnswer {
  const name = canonicalName(qname);
  const z = zones.find(name);
  if (!z || (qclass !== 'IN' && qclass !== 'ANY')) return REFUSED;
  const negative = (rcode: Rcode): DnsAnswer => ({ rcode, aa: true, answers: [], authorities: [soa(z)] });
  if (name === z.domain) return qtype === 'SOA' || qtype === 'ANY' ? { rcode: 'NOERROR', aa: true, answers: [soa(z)], authorities: [] } : negative('NOERROR');
  const label = name.slice(0, name.length - z.domain.length - 1);
  if (label.includes('.')) return negative('NXDOMAIN');
  const answers: Rr[] = [];
  let current = label;
  let host = z.hosts.get(label);
  if (!host) return negative('NXDOMAIN');
  // Follow CNAMEs inside the zone (at most 8 hops: a loop ends the chain).
  for (let hops = 0; host.cname !== undefined && hops < 8; hops++) {
    answers.push({ name: `${current}.${z.domain}`, type: 'CNAME', class: 'IN', ttl: DNS_TTL, data: `${host.cname}.${z.domain}` });
    if (qtype === 'CNAME') return { rcode: 'NOERROR', aa: true, answers, authorities: [] };
    current = host.cname;
    const next = z.hosts.get(current);
    if (!next) return { rcode: 'NXDOMAIN', aa: true, answers, authorities: [soa(z)] };
    host = next;
  }
  if (host.a !== undefined && (qtype === 'A' || qtype === 'ANY')) {
    answers.push({ name: `${current}.${z.domain}`, type: 'A', class: 'IN', ttl: DNS_TTL, data: host.a });
  }
  return answers.length ? { rcode: 'NOERROR', aa: true, answers, authorities: [] } : negative('NOERROR');
}
