// Fans changes out to connected Watch streams: each subscriber gets only what changes its own
// view, as an O(1) delta per change (a snapshot only when its own record or the settings changed).
// Snapshots share one read of the network's members per version (ViewBuilder), are built one per
// turn of the event loop (so that keepalives and other calls are served during a storm of them),
// and make the deltas queued behind them that they already contain unnecessary.
import { mergeDeltas, type Change, type PathUpdate, type PeerDelta, type WatchEvent } from '../../core/change.ts';
import { MeshError } from '../../core/errors.ts';
import type { Store, NodeRow } from '../store/store.ts';
import type { ViewBuilder } from './view-builder.ts';
import { deltasSince, inStepAt, type ChangeHistory } from './change-history.ts';
import type { Logger } from 'pino';
import { catchUps, pushLatency } from '../metrics.ts';

/** Streams written per turn of the event loop during a fan-out. */
const CHUNK = 256;

export interface Subscriber {
  /** Sends one event; a promise means "wait before the next" (the node API's resolves once the
   * event has gone to the socket: one write at a time per stream, see eventWriter). */
  send(ev: WatchEvent): unknown;
  end(err: MeshError): void;
}

type DeltaEvent = { version: number; delta: PeerDelta };

interface Waiting {
  c: Change;
  /** When the store emitted it (push latency). */
  t0: number;
}

/** `batch` cut into what can be fanned out as one merged delta, in order: a resync or a network's
 * deletion goes on its own. */
function runs(batch: readonly Waiting[]): Waiting[][] {
  const out: Waiting[][] = [];
  let run: Waiting[] = [];
  for (const w of batch) {
    if (w.c.kind === 'resync' || w.c.kind === 'network-deleted') {
      if (run.length) out.push(run);
      out.push([w]);
      run = [];
    } else run.push(w);
  }
  if (run.length) out.push(run);
  return out;
}

interface Sub {
  node: NodeRow;
  approved: boolean;
  out: Subscriber;
  queue: Promise<void>; // events leave in order, snapshots included
  /** Version the node holds by what was sent (a snapshot, or the deltas that caught it up): a
   * queued delta at or below it is already there. */
  snapshotVersion: number;
}

export class WatchHub {
  private readonly byNetwork = new Map<string, Map<string, Sub>>();
  private readonly views: ViewBuilder;
  private readonly history: ChangeHistory;
  private readonly log: Logger;
  private readonly unsubscribe: () => void;
  private turn: Promise<void> = Promise.resolve();
  /** One event per paths update object: an update shared by many streams is encoded once. */
  private readonly pathEvents = new WeakMap<PathUpdate, WatchEvent>();
  /** Changes are fanned out one after another (in version order), each over several turns. */
  private fanning: Promise<void> = Promise.resolve();
  /** Per network, the changes waiting for the fan-out of earlier ones to finish. */
  private readonly waiting = new Map<string, Waiting[]>();

  constructor(store: Store, views: ViewBuilder, history: ChangeHistory, log: Logger) {
    this.views = views;
    this.history = history;
    this.log = log;
    this.unsubscribe = store.subscribe((c) => this.fanOut(c));
  }

  /** Connected streams, for metrics and tests. */
  get size(): number {
    let n = 0;
    for (const m of this.byNetwork.values()) n += m.size;
    return n;
  }

  /** Registers a stream; when the node is behind (its `knownVersion` is not the current one)
   * sends it the deltas since its version first, or a snapshot when they are not all held. */
  add(node: NodeRow, knownVersion: number, currentVersion: number, out: Subscriber, viewDigest = ''): () => void {
    let subs = this.byNetwork.get(node.network);
    if (!subs) this.byNetwork.set(node.network, (subs = new Map()));
    subs.get(node.id)?.out.end(new MeshError('ALREADY_EXISTS', 'a newer Watch stream of this node replaced this one'));
    // A node that already holds `knownVersion` is not sent the deltas up to it again (a change
    // being fanned out when it connects may be one of them).
    const sub: Sub = { node, approved: node.approved, out, queue: Promise.resolve(), snapshotVersion: knownVersion === currentVersion ? knownVersion : -1 };
    subs.set(node.id, sub);
    if (knownVersion !== currentVersion) this.enqueueCatchUp(sub, knownVersion, currentVersion, viewDigest);
    return () => {
      if (subs.get(node.id) === sub) subs.delete(node.id);
    };
  }

  /** True while `nodeId` has a Watch stream open. */
  isConnected(network: string, nodeId: string): boolean {
    return this.byNetwork.get(network)?.has(nodeId) ?? false;
  }

  /** Sends `node`'s paths on its stream, after whatever is queued there; nothing when not connected. */
  sendPaths(network: string, nodeId: string, paths: PathUpdate): void {
    const sub = this.byNetwork.get(network)?.get(nodeId);
    if (sub) {
      let ev = this.pathEvents.get(paths);
      if (!ev) this.pathEvents.set(paths, (ev = { version: 0, paths }));
      const event = ev;
      sub.queue = sub.queue.then(async () => {
        await sub.out.send(event);
      });
    }
  }

  /** Queues the deltas from `from` to the latest change held for `sub`, when they are all held
   * and reach the members' version; else, when the view the node holds (`digest`) is the current one, an
   * empty delta that moves it to the current version; a snapshot otherwise. */
  private enqueueCatchUp(sub: Sub, from: number, current: number, digest: string): void {
    sub.queue = sub.queue.then(async () => {
      const caught = await deltasSince(this.history, this.views, sub.node.network, from, current, { id: sub.node.id, approved: sub.approved });
      if (!caught) {
        const version = await inStepAt(this.views, sub.node, digest, from).catch(() => null);
        if (version !== null) {
          catchUps.inc({ how: 'in-step', via: 'watch' });
          sub.snapshotVersion = version;
          await sub.out.send({ version, delta: { upserted: [], removed: [] } });
          return;
        }
        catchUps.inc({ how: 'view', via: 'watch' });
        return this.sendSnapshot(sub);
      }
      catchUps.inc({ how: 'deltas', via: 'watch' });
      sub.snapshotVersion = Math.max(caught.to, from);
      for (const ev of caught.events) await sub.out.send(ev);
    });
  }

  /** Queues a fresh view for `sub`; with `mustBeMember` (a resync: this controller's idea of the
   * network may have been stale), a node that is not a member of the network as read now is
   * told it was removed instead. */
  private enqueueSnapshot(sub: Sub, sent?: () => void, mustBeMember = false, forVersion?: number): void {
    sub.queue = sub.queue.then(() => {
      // one sent since (the catch-up of a stream that connected meanwhile) already holds it
      if (forVersion !== undefined && sub.snapshotVersion >= forVersion) return;
      return this.sendSnapshot(sub, sent, mustBeMember);
    });
  }

  private async sendSnapshot(sub: Sub, sent?: () => void, mustBeMember = false): Promise<void> {
    await this.nextTurn();
    try {
      if (mustBeMember && !(await this.views.membersOf(sub.node.network)).rows.some((r) => r.id === sub.node.id)) {
        const subs = this.byNetwork.get(sub.node.network);
        if (subs?.get(sub.node.id) === sub) subs.delete(sub.node.id);
        sub.out.end(new MeshError('NODE_REMOVED', `this node was removed from network "${sub.node.network}"`, { hint: `Clean up locally with: meshctl leave -n ${sub.node.network}` }));
        return;
      }
      const snapshot = await this.views.view(sub.node);
      sub.approved = snapshot.self.approved;
      sub.snapshotVersion = snapshot.version;
      await sub.out.send({ version: snapshot.version, snapshot });
      sent?.();
    } catch (err) {
      sub.out.end(err instanceof MeshError ? err : new MeshError('INTERNAL', 'building a snapshot failed'));
    }
  }

  /** Resolves on a later turn of the event loop than every earlier call, so that snapshots are built one per turn. */
  private nextTurn(): Promise<void> {
    const t = this.turn.then(() => new Promise<void>((resolve) => setImmediate(resolve)));
    this.turn = t;
    return t;
  }

  /** Fans `c` out after every earlier change, CHUNK streams per turn of the event loop: a change
   * in a network of thousands of streams would otherwise write to all of them in one turn (and a
   * burst of joins, each fanned out to every stream, held the loop for seconds: keepalive pings
   * went unanswered and clients dropped their connections). Changes that arrive while earlier
   * ones of their network are still waiting to be fanned out join them, and go out together as
   * one merged delta per stream (see fanOutMerged). */
  private fanOut(c: Change): void {
    const p = { c, t0: performance.now() };
    const waiting = this.waiting.get(c.network);
    if (waiting) {
      waiting.push(p);
      return;
    }
    const batch = [p];
    this.waiting.set(c.network, batch);
    this.fanning = this.fanning.then(async () => {
      if (this.waiting.get(c.network) === batch) this.waiting.delete(c.network);
      for (const run of runs(batch)) {
        if (run.length === 1) await this.fanOutOne(run[0]!.c, run[0]!.t0);
        else await this.fanOutMerged(run);
      }
    });
  }

  /** Calls `each` for every stream of `network` as it is now, CHUNK per turn of the event loop,
   * skipping those gone or replaced meanwhile. */
  private async forEachSub(network: string, each: (sub: Sub, subs: Map<string, Sub>) => void): Promise<void> {
    const subs = this.byNetwork.get(network);
    if (!subs) return;
    const list = [...subs.values()];
    for (let i = 0; i < list.length; i += CHUNK) {
      if (i > 0) await new Promise<void>((resolve) => setImmediate(resolve));
      for (let j = i; j < Math.min(list.length, i + CHUNK); j++) {
        const sub = list[j]!;
        if (subs.get(sub.node.id) === sub) each(sub, subs);
      }
    }
    if (subs.size === 0 && this.byNetwork.get(network) === subs) this.byNetwork.delete(network);
  }

  private fanOutOne(c: Change, t0: number): Promise<void> {
    const sent = () => pushLatency.observe((performance.now() - t0) / 1000);
    // Receivers that get the same delta get the same event object: the node API encodes each
    // event once (see grpc-server.ts), not once per stream.
    return this.forEachSub(c.network, (sub, subs) => {
      const ev = this.history.eventFor(c, { id: sub.node.id, approved: sub.approved });
      if (ev === 'snapshot') {
        if (c.kind === 'node-upserted' && c.node.id === sub.node.id) sub.node = { ...sub.node, approved: c.node.approved };
        this.enqueueSnapshot(sub, sent, c.kind === 'resync', c.kind === 'resync' ? undefined : c.version);
      } else if (ev === 'removed') {
        this.endRemoved(sub, subs, c);
      } else {
        this.enqueueDelta(sub, ev, sent);
      }
    });
  }

  /** Fans out several changes of one network (no resync or deletion among them) as one delta
   * per stream, shared by all streams with the same approval: a stream that would have been
   * written once per change is written once. When joins come faster than they can be written to
   * every stream (5,000 streams, 30 joins a second), each stream gets the joins made while the
   * last ones were being written, not a backlog of one write per join and stream that grows
   * for minutes. A node a change is about gets its own view, as for one change. */
  private fanOutMerged(run: readonly Waiting[]): Promise<void> {
    const last = run[run.length - 1]!.c;
    const sent = () => pushLatency.observe((performance.now() - run[0]!.t0) / 1000);
    const about = new Map<string, Change[]>();
    for (const { c } of run) {
      const id = c.kind === 'node-upserted' ? c.node.id : c.kind === 'node-removed' ? c.nodeId : undefined;
      if (id === undefined) continue;
      const mine = about.get(id);
      if (mine) mine.push(c);
      else about.set(id, [c]);
    }
    const merged: { approved?: DeltaEvent; pending?: DeltaEvent } = {};
    const mergedFor = (approved: boolean): DeltaEvent =>
      (merged[approved ? 'approved' : 'pending'] ??= {
        version: last.version,
        delta: mergeDeltas(run.map(({ c }) => (this.history.eventFor(c, { id: '', approved }) as DeltaEvent).delta)),
      });
    return this.forEachSub(last.network, (sub, subs) => {
      const own = about.get(sub.node.id);
      if (!own) return this.enqueueDelta(sub, mergedFor(sub.approved), sent);
      const gone = own.find((c) => c.kind === 'node-removed');
      if (gone) return this.endRemoved(sub, subs, gone);
      const upserted = own[own.length - 1]!;
      if (upserted.kind === 'node-upserted') sub.node = { ...sub.node, approved: upserted.node.approved };
      // Its own changes may be ones it holds already (a node whose stream opened just after its
      // join, from the version the join gave): then the others reach it as deltas, made for it.
      sub.queue = sub.queue.then(async () => {
        if (last.version <= sub.snapshotVersion) return;
        if (own.every((c) => c.version <= sub.snapshotVersion)) {
          const events = this.history.catchUp(last.network, sub.snapshotVersion, last.version, { id: sub.node.id, approved: sub.approved });
          if (events) {
            for (const ev of events) await sub.out.send(ev);
            sent();
            return;
          }
        }
        await this.sendSnapshot(sub, sent);
      });
    });
  }

  private enqueueDelta(sub: Sub, ev: DeltaEvent, sent: () => void): void {
    sub.queue = sub.queue.then(async () => {
      if (ev.version > sub.snapshotVersion) {
        await sub.out.send(ev);
        sent();
      }
    });
  }

  private endRemoved(sub: Sub, subs: Map<string, Sub>, c: Change): void {
    subs.delete(sub.node.id);
    const why = c.kind === 'network-deleted' ? `network "${c.network}" was deleted` : `this node was removed from network "${c.network}"`;
    sub.queue = sub.queue.then(() => sub.out.end(new MeshError('NODE_REMOVED', why, { hint: `Clean up locally with: meshctl leave -n ${c.network}` })));
  }

  close(): void {
    this.unsubscribe();
    for (const subs of this.byNetwork.values()) {
      for (const sub of subs.values()) sub.out.end(new MeshError('UNREACHABLE', 'the controller is shutting down'));
    }
    this.byNetwork.clear();
    this.log.debug('watch hub closed');
  }
}
