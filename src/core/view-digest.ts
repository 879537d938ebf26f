// A digest of a node's view, by content: what lets a node whose version number means nothing to
// the controller any more (after a crash the controller moves every network's version past
// anything it may have served, see moveVersionsPast) show that what it holds is still the
// current view, instead of being sent a whole view of thousands of peers. Pure.
//
// The peers count as a multiset: the sum of one SHA-256 per peer, modulo 2^256 (an additive
// multiset hash). So the controller gets the digest of any node's view from one sum per member
// list minus the node's own term: O(1) per node, not a pass over its peers.
import { createHash } from 'node:crypto';
import type { NodeView, PeerView, SelfView, NetworkSettingsView } from './view.ts';
import type { RecordView } from './dns.ts';

const MOD = 1n << 256n;

const sha = (s: string): string => createHash('sha256').update(s, 'utf8').digest('hex');

/** One peer's term of the sum. Fields as proto3 delivers them (absent = empty, false, 0). */
export function peerTerm(p: PeerView): bigint {
  return BigInt(`0x${sha(JSON.stringify([p.id, p.name, p.publicKey, [...(p.allowedIps ?? [])], p.endpoint ?? '', Number(p.keepalive ?? 0), p.address, p.client === true]))}`);
}

/** The sum of terms, in the digest's arithmetic. */
export function sumTerms(terms: Iterable<bigint>): bigint {
  let sum = 0n;
  for (const t of terms) sum += t;
  return sum % MOD;
}

/** The sum of the peers' terms. */
export const peersSum = (peers: readonly PeerView[]): bigint => sumTerms(peers.map(peerTerm));

/** `a - b` in the sum's arithmetic (a peer taken out). */
export const sumWithout = (a: bigint, b: bigint): bigint => (((a - b) % MOD) + MOD) % MOD;

const selfKey = (s: SelfView) => {
  const egress = s.egressRanges?.length ? [[...s.egressRanges], s.egressNat === true] : [[], false];
  return [s.id, s.name, s.address, Number(s.prefixLength), Number(s.listenPort), s.endpoint ?? '', s.approved === true, s.ingress === true, egress, [...(s.fullTunnelClients ?? [])]];
};

const settingsKey = (n: NetworkSettingsView) => [n.name, n.cidr, Number(n.keepalive), Number(n.listenPort), n.domain ?? '', n.dns !== false];

const recordsKey = (records: readonly RecordView[] | undefined) => (records ?? []).map((r) => JSON.stringify([r.name, r.type, r.address ?? ''])).sort();

/** The digest of a view from its parts: `sum` and `count` of its peers (see peersSum). */
export function digestOf(self: SelfView, network: NetworkSettingsView, records: readonly RecordView[] | undefined, sum: bigint, count: number): string {
  return sha(JSON.stringify([selfKey(self), settingsKey(network), recordsKey(records), sum.toString(16), count]));
}

const held = new WeakMap<NodeView, string>();

/** The digest of what `view` holds (its version aside). Kept per view object: an agent's view
 * is replaced, never changed in place. */
export function viewDigest(view: NodeView): string {
  let d = held.get(view);
  if (d === undefined) held.set(view, (d = digestOf(view.self, view.network, view.records, peersSum(view.peers), view.peers.length)));
  return d;
}
