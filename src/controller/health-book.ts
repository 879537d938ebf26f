// Soft state about node health: the latest WireGuard handshake each member of a network reported
// with each other member, keyed by (network, node id). Kept in memory: it changes on every
// check-in. Only approved members report, only about members of their own network, and one
// node's word alone never makes a silent node look alive: a handshake counts once a second
// member reports one (the second-freshest report is what counts).
//
// Several controllers (PostgreSQL) share what status needs through the store: each writes, for
// every node, the reports of the two freshest reporters it knows of (through `SharedHealth`, at a
// bounded rate) and merges everyone's before it shows a status. That is enough for the same
// answer everywhere: the globally freshest reporter is the freshest on the controller it reported
// to, and the second is at worst second there, so both reach the store.
import type { Change } from '../core/change.ts';

/** One member's word: `reporter` saw a handshake with `subject` at `at` (ms since epoch). */
export interface HealthReport {
  network: string;
  subject: string;
  reporter: string;
  at: number;
}

/** Where controllers sharing a store pool their reports (the PostgreSQL store). */
export interface SharedHealth {
  /** Queues reports for the other controllers; written at a bounded rate. */
  shareHealth(reports: readonly HealthReport[]): void;
  /** Every report any controller shared about members of `network`. */
  sharedHealth(network?: string): Promise<HealthReport[]>;
}

/** The store's SharedHealth, when it has one (an engine several controllers share). */
export const sharedHealthOf = (store: object): SharedHealth | undefined =>
  ('shareHealth' in store && 'sharedHealth' in store ? (store as SharedHealth) : undefined);

/** Reporters kept per subject, freshest first. Only the two freshest count (lastHandshake); the
 * others stand in when one of those is removed (forgetNode), until the next check-ins. */
const KEPT = 4;

/** The freshest reports about one subject: at most KEPT, freshest first. Not every reporter's
 * word: in a full mesh every member reports every other one, so a map of all reporters per
 * subject held N² entries (a million at 1,000 nodes). Keeping the freshest few gives the same
 * two freshest: a reporter's entry leaves the list only for fresher ones, so the least fresh kept
 * never decreases (but for removals), and a report from a reporter not kept that is fresher than
 * it is also fresher than anything that reporter said before. */
type Subject = { reporter: string; at: number }[];

export class HealthBook {
  /** network -> subject node id -> its reports */
  private readonly seen = new Map<string, Map<string, Subject>>();
  private readonly shared: SharedHealth | undefined;

  constructor(shared?: SharedHealth) {
    this.shared = shared;
  }

  /** Records handshakes that `reporter` (an approved member of `network`) saw with other members,
   * named by node id (unix seconds; 0 = never). The caller resolves keys to members. */
  report(network: string, reporter: string, handshakes: readonly { nodeId: string; latestHandshake: number }[], now = Date.now()): void {
    const out: HealthReport[] = [];
    for (const h of handshakes) {
      if (!h.latestHandshake || h.nodeId === reporter) continue;
      const ms = Math.min(h.latestHandshake * 1000, now); // a clock ahead (or a liar) cannot make a peer look alive forever
      if (this.record(network, h.nodeId, reporter, ms) && this.shared) out.push({ network, subject: h.nodeId, reporter, at: ms });
    }
    if (out.length) this.shared!.shareHealth(out);
  }

  /** Takes `reporter`'s word about `subject` if it is newer; true when the reporter is then one
   * of the subject's two freshest (what status needs, and what is shared). */
  private record(network: string, subject: string, reporter: string, ms: number): boolean {
    let net = this.seen.get(network);
    if (!net) this.seen.set(network, (net = new Map()));
    let top = net.get(subject);
    if (!top) net.set(subject, (top = []));
    const i = top.findIndex((e) => e.reporter === reporter);
    if (i >= 0) {
      if (top[i]!.at >= ms) return false;
      top[i]!.at = ms;
    } else {
      if (top.length >= KEPT && top[KEPT - 1]!.at >= ms) return false;
      top.push({ reporter, at: ms });
    }
    top.sort((a, b) => b.at - a.at);
    if (top.length > KEPT) top.length = KEPT;
    return top[0]!.reporter === reporter || top[1]?.reporter === reporter;
  }

  /** Merges what the other controllers shared (see SharedHealth), for `network` or all. */
  async refresh(network?: string): Promise<void> {
    if (!this.shared) return;
    for (const r of await this.shared.sharedHealth(network)) this.record(r.network, r.subject, r.reporter, r.at);
  }

  /** The latest handshake with node `id` that two members vouch for (the second-freshest of the
   * reports of distinct members), or null. */
  lastHandshake(network: string, id: string): number | null {
    const top = this.seen.get(network)?.get(id);
    return top && top.length >= 2 ? top[1]!.at : null;
  }

  /** Forgets node `id` as a subject and as a reporter. */
  forgetNode(network: string, id: string): void {
    const net = this.seen.get(network);
    if (!net) return;
    net.delete(id);
    for (const top of net.values()) {
      const i = top.findIndex((e) => e.reporter === id);
      if (i >= 0) top.splice(i, 1);
    }
  }

  forgetNetwork(network: string): void {
    this.seen.delete(network);
  }

  /** Keeps the book in step with the store: removed nodes and deleted networks are forgotten. */
  follow(subscribe: (listener: (c: Change) => void) => () => void): () => void {
    return subscribe((c) => {
      if (c.kind === 'node-removed') this.forgetNode(c.network, c.nodeId);
      else if (c.kind === 'network-deleted' || c.kind === 'resync') this.forgetNetwork(c.network);
      else if (c.kind === 'node-upserted' && !c.node.approved) this.forgetNode(c.network, c.node.id);
    });
  }
}
