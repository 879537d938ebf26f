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
  peers: PeerReports;
}

/** One node's report per peer, packed: the peers' keys and three numbers each in one typed array.
 * Every member of a full mesh reports every other one, so the book holds N² of these (a million
 * at 1,000 nodes): a Map of objects cost about 150 bytes each, keys included (the key strings
 * came fresh from each request); this costs 28 (the caller passes keys it already holds). The
 * index by key is built when an admin first asks for one peer. */
export class PeerReports {
  private readonly keys: readonly string[];
  private readonly numbers: Float64Array;
  private index: Map<string, number> | undefined;

  constructor(peers: readonly ({ publicKey: string } & Partial<PeerReport>)[]) {
    this.keys = peers.map((p) => p.publicKey);
    this.numbers = new Float64Array(peers.length * 3);
    peers.forEach((p, i) => {
      this.numbers[i * 3] = num(p.latestHandshake);
      this.numbers[i * 3 + 1] = num(p.rxBytes);
      this.numbers[i * 3 + 2] = num(p.txBytes);
    });
  }

  get size(): number {
    return this.keys.length;
  }

  private at(i: number): PeerReport {
    return { latestHandshake: this.numbers[i * 3]!, rxBytes: this.numbers[i * 3 + 1]!, txBytes: this.numbers[i * 3 + 2]! };
  }

  get(publicKey: string): PeerReport | undefined {
    this.index ??= new Map(this.keys.map((k, i) => [k, i]));
    const i = this.index.get(publicKey);
    return i === undefined ? undefined : this.at(i);
  }

  *values(): IterableIterator<PeerReport> {
    for (let i = 0; i < this.keys.length; i++) yield this.at(i);
  }
}

export class ReportBook {
  private readonly byNetwork = new Map<string, Map<string, NodeReport>>();

  /** Replaces what node `id` of `network` reported; the caller keeps only members' keys, one
   * report per peer (and should pass the key strings it holds for them, not the request's, which
   * would otherwise be kept: a copy of every key per reporter). */
  record(network: string, id: string, version: number, peers: readonly ({ publicKey: string } & Partial<PeerReport>)[], now = Date.now()): void {
    let net = this.byNetwork.get(network);
    if (!net) this.byNetwork.set(network, (net = new Map()));
    net.set(id, { at: now, version, peers: new PeerReports(peers) });
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
