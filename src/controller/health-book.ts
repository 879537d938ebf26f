// Soft state about node health: the latest WireGuard handshake each member of a network reported
// with each other member, keyed by (network, node id). Kept in memory: it changes on every
// check-in. Only approved members report, only about members of their own network, and one
// node's word alone never makes a silent node look alive: a handshake counts once a second
// member reports one (the second-freshest report is what counts).
import type { Change } from '../core/change.ts';

export class HealthBook {
  /** network -> subject node id -> reporter node id -> ms since epoch */
  private readonly seen = new Map<string, Map<string, Map<string, number>>>();

  /** Records handshakes that `reporter` (an approved member of `network`) saw with other members,
   * named by node id (unix seconds; 0 = never). The caller resolves keys to members. */
  report(network: string, reporter: string, handshakes: readonly { nodeId: string; latestHandshake: number }[], now = Date.now()): void {
    let net = this.seen.get(network);
    for (const h of handshakes) {
      if (!h.latestHandshake || h.nodeId === reporter) continue;
      const ms = Math.min(h.latestHandshake * 1000, now); // a clock ahead (or a liar) cannot make a peer look alive forever
      if (!net) this.seen.set(network, (net = new Map()));
      let by = net.get(h.nodeId);
      if (!by) net.set(h.nodeId, (by = new Map()));
      if ((by.get(reporter) ?? 0) < ms) by.set(reporter, ms);
    }
  }

  /** The latest handshake with node `id` that two members vouch for (the second-freshest of the
   * reports of distinct members), or null. */
  lastHandshake(network: string, id: string): number | null {
    const by = this.seen.get(network)?.get(id);
    if (!by || by.size < 2) return null;
    return [...by.values()].sort((a, b) => b - a)[1]!;
  }

  /** Forgets node `id` as a subject and as a reporter. */
  forgetNode(network: string, id: string): void {
    const net = this.seen.get(network);
    if (!net) return;
    net.delete(id);
    for (const by of net.values()) by.delete(id);
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
