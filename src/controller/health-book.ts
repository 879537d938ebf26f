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

interface Subject {
  /** reporter node id -> ms since epoch */
  by: Map<string, number>;
  /** The (at most) two freshest reporters, freshest first. */
  top: { reporter: string; at: number }[];
}

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
    let s = net.get(subject);
    if (!s) net.set(subject, (s = { by: new Map(), top: [] }));
    if ((s.by.get(reporter) ?? 0) >= ms) return false;
    s.by.set(reporter, ms);
    // Reports only grow, so the two freshest change only by this one.
    const top = s.top.filter((e) => e.reporter !== reporter);
    top.push({ reporter, at: ms });
    top.sort((a, b) => b.at - a.at);
    s.top = top.slice(0, 2);
    return s.top.some((e) => e.reporter === reporter);
  }

  /** Merges what the other controllers shared (see SharedHealth), for `network` or all. */
  async refresh(network?: string): Promise<void> {
    if (!this.shared) return;
    for (const r of await this.shared.sharedHealth(network)) this.record(r.network, r.subject, r.reporter, r.at);
  }

  /** The latest handshake with node `id` that two members vouch for (the second-freshest of the
   * reports of distinct members), or null. */
  lastHandshake(network: string, id: string): number | null {
    const s = this.seen.get(network)?.get(id);
    return s && s.top.length === 2 ? s.top[1]!.at : null;
  }

  /** Forgets node `id` as a subject and as a reporter. */
  forgetNode(network: string, id: string): void {
    const net = this.seen.get(network);
    if (!net) return;
    net.delete(id);
    for (const s of net.values()) {
      if (!s.by.delete(id)) continue;
      if (s.top.some((e) => e.reporter === id)) s.top = [...s.by].map(([reporter, at]) => ({ reporter, at })).sort((a, b) => b.at - a.at).slice(0, 2);
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
