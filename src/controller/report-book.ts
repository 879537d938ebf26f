// Soft state for the admin's node screen and pair matrix: what each node said at its last
// check-in (the version it had applied, its WireGuard handshakes and byte counters per peer).
// Kept in memory: it changes on every check-in, and check-ins rebuild it within one period
// after a restart. Only peers that are approved members of the node's own network are kept.
import type { Change } from '../core/change.ts';

export interface PeerReport {
  /** Unix seconds; 0 = never. */
  latestHandshake: number;
  rxBytes: number;
  txBytes: number;
}

export interface NodeReport {
  /** When the report came (ms since epoch). */
  at: number;
  /** The network version the node had applied. */
  version: number;
  /** By peer public key. */
  peers: Map<string, PeerReport>;
}

export class ReportBook {
  private readonly byNetwork = new Map<string, Map<string, NodeReport>>();

  /** Replaces what node `id` of `network` reported; the caller keeps only members' keys. */
  record(network: string, id: string, version: number, peers: readonly ({ publicKey: string } & Partial<PeerReport>)[], now = Date.now()): void {
    let net = this.byNetwork.get(network);
    if (!net) this.byNetwork.set(network, (net = new Map()));
    const m = new Map<string, PeerReport>();
    for (const p of peers) m.set(p.publicKey, { latestHandshake: num(p.latestHandshake), rxBytes: num(p.rxBytes), txBytes: num(p.txBytes) });
    net.set(id, { at: now, version, peers: m });
  }

  get(network: string, id: string): NodeReport | undefined {
    return this.byNetwork.get(network)?.get(id);
  }

  /** Keeps the book in step with the store: removed nodes and deleted networks are forgotten. */
  follow(subscribe: (listener: (c: Change) => void) => () => void): () => void {
    return subscribe((c) => {
      if (c.kind === 'node-removed') this.byNetwork.get(c.network)?.delete(c.nodeId);
      else if (c.kind === 'network-deleted') this.byNetwork.delete(c.network);
    });
  }
}

/** Counters arrive as numbers (uint64 read as Number); anything else counts as 0. */
const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : 0);
