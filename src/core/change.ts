// Changes as values: what a write did to the state nodes can see, and what each node must be
// told about it. Pure. The store produces changes; the controller's hub fans them out.
import { sortRecords, type RecordView } from './dns.ts';
import { peerOf, type NodeView, type PeerView, type SelfView, type NetworkSettingsView, type ViewNode } from './view.ts';

export type Change =
  | { kind: 'node-upserted'; network: string; version: number; node: ViewNode; keepalive: number }
  | { kind: 'node-removed'; network: string; version: number; nodeId: string; publicKey: string }
  | { kind: 'settings'; network: string; version: number; settings: NetworkSettingsView }
  | { kind: 'dns'; network: string; version: number; upserted: RecordView[]; removed: string[] }
  | { kind: 'network-deleted'; network: string; version: number }
  /** Not a write: the controller may hold stale state of the network (PostgreSQL: it was deleted
   * and created again while this controller was not listening). Every node needs a fresh view;
   * a node no longer in it must be told it was removed. Never stored, never sent as is. */
  | { kind: 'resync'; network: string; version: number };

/** The records part of a `dns` change for an external client's name: an A record while the client
 * is enabled, gone when it is disabled or deleted. */
export const clientNameChange = (c: { name: string; address: string }, resolves: boolean): { upserted: RecordView[]; removed: string[] } =>
  resolves ? { upserted: [{ name: c.name, type: 'A', address: c.address }], removed: [] } : { upserted: [], removed: [c.name] };

export interface PeerDelta {
  upserted: PeerView[];
  removed: string[];
  network?: NetworkSettingsView;
  self?: SelfView;
  /** Custom DNS records added or changed, and names of records removed. */
  recordsUpserted?: RecordView[];
  recordsRemoved?: string[];
  /** A piece of a delta sent in pieces, not the last (see splitDelta): the receiver keeps the
   * version it holds until the last piece. */
  more?: boolean;
}

/** Where to reach each peer (NAT traversal): candidates best first and the pair's relay endpoint. */
export interface PathUpdate {
  paths: { publicKey: string; candidates: { endpoint: string; kind: string }[]; relay: string }[];
  /** The network's paths version this brings the node to. */
  tag: string;
  /** Set (non-empty): only the peers that changed since paths version `base`. */
  base?: string;
}

export type PeerPathEntry = PathUpdate['paths'][number];

/** A peer's path when the update names none: the endpoint its view entry gives (where the
 * controller saw it) as the only candidate, and no relay. A full update leaves such entries out:
 * in a network without NATs every entry is one of these, N entries to each of N nodes for
 * nothing. A peer with no endpoint (an external client) has no path. */
export function defaultPath(peer: { publicKey: string; endpoint: string }): PeerPathEntry | null {
  return peer.endpoint ? { publicKey: peer.publicKey, candidates: [{ endpoint: peer.endpoint, kind: 'controller' }], relay: '' } : null;
}

/** True when `p` says no more than defaultPath of a peer at `endpoint`. */
export function isDefaultPath(p: PeerPathEntry, endpoint: string): boolean {
  const c = p.candidates;
  return p.relay === '' && c.length === 1 && c[0]!.endpoint === endpoint && c[0]!.kind === 'controller';
}

/** The path a node holds for `peer`: its entry, or the default when the node holds paths at all
 * (none held: an older controller, no NAT traversal). */
export function pathFor(held: PathUpdate | undefined, byKey: ReadonlyMap<string, PeerPathEntry>, peer: { publicKey: string; endpoint: string }): PeerPathEntry | null {
  if (!held) return null;
  return byKey.get(peer.publicKey) ?? defaultPath(peer);
}

/** Applies a path update to the paths a node holds. A partial update on top of another version
 * than its base is applied too, but leaves the tag empty, so the next check-in brings all. */
export function applyPaths(held: PathUpdate | undefined, u: PathUpdate): PathUpdate {
  if (!u.base) return { paths: u.paths ?? [], tag: u.tag };
  const byKey = new Map((held?.paths ?? []).map((p) => [p.publicKey, p]));
  for (const p of u.paths ?? []) byKey.set(p.publicKey, p);
  return { paths: [...byKey.values()], tag: held?.tag === u.base ? u.tag : '' };
}

/** What a Watch stream sends: a snapshot or a delta, with the network version it brings the node
 * to; or the node's paths (version 0: they come from soft state, not the versioned view). */
export type WatchEvent = { version: number; snapshot: NodeView } | { version: number; delta: PeerDelta } | { version: 0; paths: PathUpdate };

/** What `receiver` must be sent for `change`: a delta, 'snapshot' (its own record changed),
 * 'removed' (the receiver itself is gone), or a version-only delta. O(1) per receiver. */
export function deltaFor(receiver: { id: string; approved: boolean }, change: Change): PeerDelta | 'snapshot' | 'removed' {
  switch (change.kind) {
    case 'node-upserted':
      if (change.node.id === receiver.id) return 'snapshot'; // its own record (e.g. approval) may change everything
      if (!receiver.approved) return { upserted: [], removed: [] };
      return change.node.approved ? { upserted: [peerOf(change.node, change.keepalive)], removed: [] } : { upserted: [], removed: [change.node.publicKey] };
    case 'node-removed':
      if (change.nodeId === receiver.id) return 'removed';
      return { upserted: [], removed: receiver.approved ? [change.publicKey] : [] };
    case 'settings':
      // Peers carry the network's keepalive: the receiver rewrites them (see applyDelta).
      return { upserted: [], removed: [], network: change.settings };
    case 'network-deleted':
      return 'removed';
    case 'resync':
      return 'snapshot';
    case 'dns':
      return { upserted: [], removed: [], recordsUpserted: change.upserted, recordsRemoved: change.removed };
  }
}

/** One delta that does what `deltas` do in turn (each peer, record and the settings as the last
 * of them left it): what a node a few changes behind is sent, one event and one apply instead of
 * one per change. Applied to a view at any version between the first delta's base and the last
 * delta's version, it gives the view at the last one (what it touches ends as the last delta left
 * it; what it does not touch is the same in all those views). */
export function mergeDeltas(deltas: readonly PeerDelta[]): PeerDelta {
  const upserts = new Map<string, PeerView>(); // by id: a node whose key changed is one peer
  const idOfKey = new Map<string, string>();
  const removed = new Set<string>();
  const records = new Map<string, RecordView | null>();
  let network: NetworkSettingsView | undefined;
  let self: SelfView | undefined;
  for (const d of deltas) {
    for (const k of d.removed) {
      removed.add(k);
      const id = idOfKey.get(k);
      if (id !== undefined && upserts.get(id)?.publicKey === k) upserts.delete(id);
    }
    for (const p of d.upserted) {
      const before = upserts.get(p.id);
      if (before && before.publicKey !== p.publicKey) removed.add(before.publicKey);
      upserts.set(p.id, p);
      idOfKey.set(p.publicKey, p.id);
      removed.delete(p.publicKey);
    }
    for (const name of d.recordsRemoved ?? []) records.set(name, null);
    for (const r of d.recordsUpserted ?? []) records.set(r.name, r);
    if (d.network) network = d.network;
    if (d.self) self = d.self;
  }
  const recordsUpserted = [...records.values()].filter((r): r is RecordView => r !== null);
  const recordsRemoved = [...records].filter(([, r]) => r === null).map(([name]) => name);
  return {
    upserted: [...upserts.values()],
    removed: [...removed],
    ...(network ? { network } : {}),
    ...(self ? { self } : {}),
    ...(recordsUpserted.length ? { recordsUpserted } : {}),
    ...(recordsRemoved.length ? { recordsRemoved } : {}),
  };
}

type DeltaItem = { removed: string } | { recordRemoved: string } | { upserted: PeerView } | { recordUpserted: RecordView } | { settings: Pick<PeerDelta, 'network' | 'self'> };

/** `ev` as deltas that each encode to at most `max` bytes (`size` measures one; a single peer
 * larger than that goes alone), to be applied one after another with the same result as `ev`:
 * removals first, then upserts, the settings and the node's own record in the last. Every piece
 * carries `ev`'s version; all but the last are marked `more`. Applying a piece again is harmless,
 * so a receiver that loses its stream between pieces and catches up from the version it kept
 * ends where `ev` would have left it. */
export function splitDelta<E extends { version: number; delta: PeerDelta }>(ev: E, size: (piece: { version: number; delta: PeerDelta }) => number, max: number): { version: number; delta: PeerDelta }[] {
  const d = ev.delta;
  const items: DeltaItem[] = [
    ...d.removed.map((k) => ({ removed: k })),
    ...(d.recordsRemoved ?? []).map((n) => ({ recordRemoved: n })),
    ...d.upserted.map((p) => ({ upserted: p })),
    ...(d.recordsUpserted ?? []).map((r) => ({ recordUpserted: r })),
    // last, so that it goes in the last piece, and is measured with it
    ...(d.network || d.self ? [{ settings: { ...(d.network ? { network: d.network } : {}), ...(d.self ? { self: d.self } : {}) } }] : []),
  ];
  const build = (xs: readonly DeltaItem[], more: boolean): { version: number; delta: PeerDelta } => {
    const delta: PeerDelta = { upserted: [], removed: [] };
    for (const x of xs) {
      if ('removed' in x) delta.removed.push(x.removed);
      else if ('upserted' in x) delta.upserted.push(x.upserted);
      else if ('recordRemoved' in x) (delta.recordsRemoved ??= []).push(x.recordRemoved);
      else if ('recordUpserted' in x) (delta.recordsUpserted ??= []).push(x.recordUpserted);
      else Object.assign(delta, x.settings);
    }
    if (more) delta.more = true;
    return { version: ev.version, delta };
  };
  // Greedy, in order: each item costs what it adds to a piece (its field's tag, length and
  // bytes), measured alone; a piece takes items while the sum fits, with room for the length
  // prefixes growing by a byte or two. A piece that still measures over (it should not) is halved.
  const empty = size(build([], true));
  const groups: DeltaItem[][] = [];
  let group: DeltaItem[] = [];
  let used = empty + 4;
  for (const x of items) {
    const cost = size(build([x], true)) - empty;
    if (group.length && used + cost > max) {
      groups.push(group);
      group = [];
      used = empty + 4;
    }
    group.push(x);
    used += cost;
  }
  if (group.length) groups.push(group);
  const halve = (xs: DeltaItem[]): DeltaItem[][] => {
    if (xs.length <= 1 || size(build(xs, true)) <= max) return [xs];
    const half = xs.length >> 1;
    return [...halve(xs.slice(0, half)), ...halve(xs.slice(half))];
  };
  const packed = groups.flatMap(halve);
  if (packed.length <= 1) return [ev];
  return packed.map((g, i) => build(g, i < packed.length - 1));
}

/** Applies the deltas of a catch-up (see mergeDeltas) to the view held, which must be at least at
 * `base`, the version the node said it held: those it already holds are skipped. Null when the
 * view is older than `base` (the caller keeps it and gets the rest later). */
export function applyDeltas(view: NodeView, base: number, events: readonly { version: number; delta: PeerDelta }[]): NodeView | null {
  if (view.version < base) return null;
  let v = view;
  for (const ev of events) if (ev.version > v.version) v = applyDelta(v, ev.version, ev.delta);
  return v;
}

/** Applies a delta to a cached view (the agent side). */
export function applyDelta(view: NodeView, version: number, d: PeerDelta): NodeView {
  const removed = new Set([...d.removed, ...d.upserted.map((p) => p.publicKey)]);
  const byId = new Set(d.upserted.map((p) => p.id));
  let peers = view.peers.filter((p) => !removed.has(p.publicKey) && !byId.has(p.id)).concat(d.upserted);
  if (d.network) peers = peers.map((p) => (p.client ? p : { ...p, keepalive: d.network!.keepalive }));
  peers.sort((a, b) => a.name.localeCompare(b.name));
  let records = view.records ?? [];
  if (d.recordsUpserted?.length || d.recordsRemoved?.length) {
    const gone = new Set([...(d.recordsRemoved ?? []), ...(d.recordsUpserted ?? []).map((r) => r.name)]);
    records = sortRecords(records.filter((r) => !gone.has(r.name)).concat(d.recordsUpserted ?? []));
  }
  return { self: d.self ?? view.self, network: d.network ?? view.network, peers, records, version };
}
