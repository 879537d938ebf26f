// Builds nodes' views from one read of a network's members, kept up to date by the store's change
// values afterwards: a join, a delete or an endpoint change patches the members (O(changed peers),
// not a read of the whole network per version), so N views cost one table read, and a network of
// 5,000 nodes is not read again on every join.
import { MeshError } from '../../core/errors.ts';
import { sortRecords, type RecordView } from '../../core/dns.ts';
import { buildView, peerOf, selfOf, settingsOf, type NodeView, type ViewClient, type ViewNode } from '../../core/view.ts';
import { digestOf, peerTerm, sumTerms, sumWithout } from '../../core/view-digest.ts';
import type { Change } from '../../core/change.ts';
import type { Store, NodeRow } from '../store/store.ts';

export interface Members {
  /** The network version these members are complete up to. */
  version: number;
  /** Sorted by name; never changed in place (a change makes a new array), so a caller may hold it. */
  rows: NodeRow[];
  clients: ViewClient[];
  records: RecordView[];
}

interface Entry extends Members {
  /** When the members last advanced: a network version that stays ahead of them for longer
   * than STALE_MS was bumped without a change value (a store reload), so they are read again. */
  at: number;
}

/** Longest a change is in flight between a write and its change value (the write's flush). */
const STALE_MS = 1000;

const byName = (a: { name: string }, b: { name: string }) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

const indexes = { id: new WeakMap<readonly NodeRow[], ReadonlyMap<string, NodeRow>>(), publicKey: new WeakMap<readonly NodeRow[], ReadonlyMap<string, NodeRow>>() };

/** Members by id or by public key. Member lists are never changed in place (a change makes a new
 * one), so each index is built once per list. */
function membersBy(rows: readonly NodeRow[], key: 'id' | 'publicKey'): ReadonlyMap<string, NodeRow> {
  let m = indexes[key].get(rows);
  if (!m) indexes[key].set(rows, (m = new Map(rows.map((r) => [r[key], r]))));
  return m;
}

/** Members by public key: a check-in's reported peers are looked up, not the network scanned
 * per check-in. */
export const byPublicKey = (rows: readonly NodeRow[]): ReadonlyMap<string, NodeRow> => membersBy(rows, 'publicKey');

/** Each member's term of the view digest's peer sum, per row object (a change makes new rows
 * only for what it changed) and keepalive (peers carry it). */
const terms = new WeakMap<NodeRow, { keepalive: number; term: bigint }>();
const termOf = (r: NodeRow, keepalive: number): bigint => {
  let t = terms.get(r);
  if (!t || t.keepalive !== keepalive) terms.set(r, (t = { keepalive, term: peerTerm(peerOf(r, keepalive)) }));
  return t.term;
};
/** The sum of the approved members' terms, per member list and keepalive. */
const sums = new WeakMap<readonly NodeRow[], { keepalive: number; sum: bigint; count: number }>();
function approvedSum(rows: readonly NodeRow[], keepalive: number): { sum: bigint; count: number } {
  let s = sums.get(rows);
  if (!s || s.keepalive !== keepalive) {
    const approved = rows.filter((r) => r.approved);
    sums.set(rows, (s = { keepalive, sum: sumTerms(approved.map((r) => termOf(r, keepalive))), count: approved.length }));
  }
  return s;
}

/** Index where `name` is, or would go, in `rows` (sorted by name). */
function position(rows: readonly NodeRow[], name: string): number {
  let lo = 0;
  let hi = rows.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (rows[mid]!.name < name) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** A node's row as a change carries it, merged over the row held (a change from another
 * controller carries only the fields views need, and leaves out gateway fields that are off). */
const merged = (held: NodeRow | undefined, n: ViewNode, network: string): NodeRow => ({
  ...(held ?? { network, endpointStated: false, credentialHash: '', createdAt: '', lastCheckin: null }),
  ...n,
  ingress: n.ingress ?? false,
  egressRanges: n.egressRanges ?? [],
  egressNat: n.egressNat ?? false,
  clientAddresses: n.clientAddresses ?? [],
} as NodeRow);

export class ViewBuilder {
  private readonly store: Store;
  private readonly members = new Map<string, Entry>();
  /** The read of a network's members in flight, if any. */
  private readonly reading = new Map<string, Promise<Entry>>();
  private readonly now: () => number;

  constructor(store: Store, now: () => number = Date.now) {
    this.store = store;
    this.now = now;
    store.subscribe((c) => this.apply(c));
  }

  /** Moves the held members of `c.network` forward by one change, or drops them when it cannot
   * (a gap in versions, a gateway's change: its clients are read with the members). */
  private apply(c: Change): void {
    if (c.kind === 'resync') {
      // what is held may be of a network deleted since (its versions start over): read anew
      this.members.delete(c.network);
      this.reading.delete(c.network);
      return;
    }
    const m = this.members.get(c.network);
    if (!m || c.version <= m.version) return; // nothing held, or already in what was read
    if (c.version !== m.version + 1 || c.kind === 'network-deleted') {
      this.members.delete(c.network);
      return;
    }
    let rows = m.rows;
    let records = m.records;
    if (c.kind === 'node-upserted') {
      const i = rows.findIndex((r) => r.id === c.node.id);
      const held = i >= 0 ? rows[i] : undefined;
      if (c.node.ingress || held?.ingress) {
        this.members.delete(c.network);
        return;
      }
      const row = merged(held, c.node, c.network);
      rows = rows.slice();
      if (i >= 0) rows.splice(i, 1);
      rows.splice(position(rows, row.name), 0, row);
    } else if (c.kind === 'node-removed') {
      const i = rows.findIndex((r) => r.id === c.nodeId);
      if (i >= 0 && rows[i]!.ingress) {
        this.members.delete(c.network);
        return;
      }
      if (i >= 0) rows = rows.slice(0, i).concat(rows.slice(i + 1));
    } else if (c.kind === 'dns') {
      const gone = new Set([...c.removed, ...c.upserted.map((r) => r.name)]);
      records = sortRecords(records.filter((r) => !gone.has(r.name)).concat(c.upserted));
    }
    // settings live in the network row, read with each view
    this.members.set(c.network, { version: c.version, rows, clients: m.clients, records, at: this.now() });
  }

  /** The network's members (and external clients), complete up to `version`: the current
   * version, or a slightly older one while the latest changes are still on their way here. */
  async membersOf(network: string): Promise<Members> {
    const net = await this.store.getNetwork(network);
    if (!net) throw new MeshError('NODE_REMOVED', `network "${network}" no longer exists`);
    let m = this.members.get(network);
    if (!m || m.version > net.version || (m.version < net.version && this.now() - m.at > STALE_MS)) {
      // One read at a time per network: on an engine whose reads are asynchronous (PostgreSQL),
      // N views asked for at once (a storm of snapshots) share it instead of reading N rows N times.
      let reading = this.reading.get(network);
      if (!reading) {
        const p = this.read(network, net.version).finally(() => {
          if (this.reading.get(network) === p) this.reading.delete(network);
        });
        this.reading.set(network, (reading = p));
      }
      m = await reading;
    }
    return m;
  }

  private async read(network: string, version: number): Promise<Entry> {
    // Read after the version: the rows hold at least every change up to it (changes after it
    // that arrive later are applied again, which leaves the rows as they are).
    const rows = (await this.store.listNodes(network)).sort(byName);
    // Only ingress gateways have client peers: skip the read in a network without one.
    const clients = rows.some((r) => r.ingress) ? await this.store.listClients(network) : [];
    const m: Entry = { version, rows, clients, records: await this.store.listRecords(network), at: this.now() };
    const held = this.members.get(network);
    // a change applied meanwhile moved the members past this read: keep those
    if (held && held.version >= m.version) return held;
    this.members.set(network, m);
    return m;
  }

  /** The view of `node`: itself, its network's settings, its peers. Its version is the version
   * of the members it was built from. */
  async view(node: NodeRow): Promise<NodeView> {
    const { net, m, self } = await this.place(node);
    return buildView(self, { ...net, version: m.version }, m.rows, m.clients, m.records);
  }

  /** The digest of the view `node` would be sent now (see core/view-digest.ts), and that view's
   * version, without building it: O(1) per node once its network's member sum is made. Null for
   * an ingress gateway (its view has client peers): it is sent its view. */
  async digest(node: NodeRow): Promise<{ version: number; digest: string } | null> {
    const { net, m, self, member } = await this.place(node);
    if (self.ingress) return null;
    let sum = 0n;
    let count = 0;
    if (self.approved) {
      const all = approvedSum(m.rows, net.keepalive);
      sum = member ? sumWithout(all.sum, termOf(self, net.keepalive)) : all.sum;
      count = member ? all.count - 1 : all.count;
    }
    return { version: m.version, digest: digestOf(selfOf(self, net), settingsOf(net), m.records, sum, count) };
  }

  /** `node`'s network, its members, and its own row among them (`member`), else `node` itself. */
  private async place(node: NodeRow) {
    const net = await this.store.getNetwork(node.network);
    if (!net) throw new MeshError('NODE_REMOVED', `network "${node.network}" no longer exists`);
    const m = await this.membersOf(node.network);
    const row = membersBy(m.rows, 'id').get(node.id);
    return { net, m, self: row ?? node, member: row !== undefined };
  }
}
