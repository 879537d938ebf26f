// NAT traversal, the controller's half: which endpoints a node should try for a peer, in which
// order. Pure: the facts come from check-ins (the controller's soft state), the answer goes to
// both ends of the pair at once, so that their outbound packets open both NATs together.
import { formatHostPort } from './address.ts';

/** Where a candidate endpoint came from. */
export type CandidateKind = 'stated' | 'local' | 'observed' | 'controller';

export interface Candidate {
  /** "host:port" */
  endpoint: string;
  kind: CandidateKind;
}

/** An endpoint another node's WireGuard holds for this node after a fresh direct handshake. */
export interface Observation {
  endpoint: string;
  /** ms since epoch of the report. */
  at: number;
  /** The public host the observer's own connection came from (its site); null when unknown. */
  observerSite: string | null;
}

/** What the controller knows about one node's reachability. */
export interface NatFacts {
  id: string;
  listenPort: number;
  /** The endpoint the node states (--endpoint), else null. */
  stated: string | null;
  /** The host the controller saw the node's connection come from: its public address (its site). */
  site: string | null;
  /** IPv4 addresses of the node's own interfaces (not the mesh interface), with no prefix. */
  localAddresses: string[];
  observed: Observation[];
}

/** Observations older than this are not offered: a NAT mapping may have moved since. */
export const OBSERVATION_TTL_MS = 5 * 60_000;

const sameSite = (a: NatFacts, b: NatFacts) => a.site !== null && a.site === b.site;

/**
 * The endpoints `self` should try for `peer`, best first, without duplicates:
 * 1. the endpoint the peer states;
 * 2. when both sit behind the same public address (one NAT, which may not hairpin): the peer's
 *    LAN addresses with its listen port;
 * 3. endpoints that nodes at other sites observed for it, newest first (a port-keeping NAT maps
 *    the WireGuard port the same way for every destination);
 * 4. the controller's own observation (the public address with the listen port).
 * LAN addresses of a peer at another site are offered only when nothing public is known: trying
 * them costs a candidate wait each and they almost never answer from elsewhere.
 */
export function candidatesFor(self: NatFacts, peer: NatFacts, now: number): Candidate[] {
  const out: Candidate[] = [];
  const seen = new Set<string>();
  const add = (endpoint: string, kind: CandidateKind) => {
    if (!seen.has(endpoint)) {
      seen.add(endpoint);
      out.push({ endpoint, kind });
    }
  };
  const lan = () => peer.localAddresses.forEach((a) => add(formatHostPort({ host: a, port: peer.listenPort }), 'local'));
  if (peer.stated) add(peer.stated, 'stated');
  if (sameSite(self, peer)) lan();
  const observed = peer.observed
    .filter((o) => now - o.at <= OBSERVATION_TTL_MS && (o.observerSite === null || o.observerSite !== peer.site))
    .sort((a, b) => b.at - a.at);
  for (const o of observed) add(o.endpoint, 'observed');
  if (peer.site) add(formatHostPort({ host: peer.site, port: peer.listenPort }), 'controller');
  if (out.length === 0) lan();
  return out;
}

/** The order-independent name of a pair of nodes. */
export const pairKey = (a: string, b: string): string => (a < b ? `${a}|${b}` : `${b}|${a}`);
