// The last changes of each network, as the events a node is sent for them: a node that comes
// back a few versions behind (a restarted controller, a stream that dropped, an agent started
// just after its join) is sent the deltas since its version, not a whole view. In a network of
// 5,000 nodes a view is 5,000 peers: a restart herd that was owed one view per node built and
// encoded 25 million peers. Kept in memory only: a restarted controller covers what changed
// since it started, which is what its herd needs.
import { deltaFor, mergeDeltas, type Change, type PeerDelta, type WatchEvent } from '../../core/change.ts';
import type { NodeRow, Store } from '../store/store.ts';
import type { ViewBuilder } from './view-builder.ts';

/** Changes kept per network. */
export const HISTORY = 1024;

interface Held {
  change: Change;
  /** The event of this change for approved and for pending receivers, made once and shared
   * (the node API encodes an event object once, whoever it goes to). */
  approved?: WatchEvent;
  pending?: WatchEvent;
}

/** Most changes a node is caught up over, in a network of `members` nodes. They go as one merged
 * delta (see catchUp), which names each peer at most once, so it is never larger than a whole
 * view; past `members` changes a view is likely smaller. */
export const catchUpLimit = (members: number): number => Math.min(HISTORY, Math.max(16, members));

type DeltaEvent = { version: number; delta: PeerDelta };

/** Longest a catch-up waits for changes still on their way (written, their change values not yet
 * here: a write's flush, which takes longer as the store grows) rather than send a whole view. */
export const IN_FLIGHT_MS = 2000;

interface Waiter {
  version: number;
  done: (reached: boolean) => void;
}

export class ChangeHistory {
  private readonly byNetwork = new Map<string, Held[]>();
  private readonly waiters = new Map<string, Set<Waiter>>();
  private readonly heldOf = new WeakMap<Change, Held>();
  private readonly limit: number;
  readonly unsubscribe: () => void;

  constructor(store: Store, limit = HISTORY) {
    this.limit = limit;
    this.unsubscribe = store.subscribe((c) => this.record(c));
  }

  /** Takes `c` after the changes held, or starts over when it does not follow them (a gap: a
   * change this controller was not told of; a resync or a deleted network). */
  private record(c: Change): void {
    if (c.kind === 'resync' || c.kind === 'network-deleted') {
      this.byNetwork.delete(c.network);
      return;
    }
    let held = this.byNetwork.get(c.network);
    const last = held?.[held.length - 1]?.change.version;
    if (!held || last === undefined || c.version !== last + 1) {
      if (last !== undefined && c.version <= last) return; // already held (a change seen twice)
      this.byNetwork.set(c.network, (held = []));
    }
    const h: Held = { change: c };
    this.heldOf.set(c, h);
    held.push(h);
    if (held.length > this.limit) held.splice(0, held.length - this.limit);
    const waiting = this.waiters.get(c.network);
    if (waiting) for (const w of waiting) if (w.version <= c.version) w.done(true);
  }

  /** Resolves true once the changes of `network` held reach `version`, false after `ms`. */
  reach(network: string, version: number, ms: number): Promise<boolean> {
    if ((this.latest(network) ?? -Infinity) >= version) return Promise.resolve(true);
    return new Promise((resolve) => {
      let waiting = this.waiters.get(network);
      if (!waiting) this.waiters.set(network, (waiting = new Set()));
      const set = waiting;
      const w: Waiter = {
        version,
        done: (reached) => {
          clearTimeout(timer);
          set.delete(w);
          if (set.size === 0 && this.waiters.get(network) === set) this.waiters.delete(network);
          resolve(reached);
        },
      };
      const timer = setTimeout(() => w.done(false), ms);
      set.add(w);
    });
  }

  /** The network version of the latest change held, if any. */
  latest(network: string): number | undefined {
    const held = this.byNetwork.get(network);
    return held?.[held.length - 1]?.change.version;
  }

  /** The event `receiver` is sent for `c`, shared by every receiver with the same approval. */
  eventFor(c: Change, receiver: { id: string; approved: boolean }): DeltaEvent | 'snapshot' | 'removed' {
    const d = deltaFor(receiver, c);
    if (d === 'snapshot' || d === 'removed') return d;
    // Only a change about the receiver itself differs per receiver, and that is a snapshot: the
    // delta depends on the receiver's approval alone.
    return this.shared(this.heldOf.get(c) ?? { change: c }, receiver.approved, d);
  }

  private shared(h: Held, approved: boolean, d: PeerDelta): DeltaEvent {
    const key = approved ? 'approved' : 'pending';
    return (h[key] ??= { version: h.change.version, delta: d }) as DeltaEvent;
  }

  /** The event that brings `receiver` from version `from` to `to`: the one change's own (shared)
   * event, or the changes merged into one delta (mergeDeltas); [] when there is nothing to send;
   * null as for `since`. */
  catchUp(network: string, from: number, to: number, receiver: { id: string; approved: boolean }, max = this.limit): DeltaEvent[] | null {
    const events = this.since(network, from, to, receiver, max);
    if (!events || events.length <= 1) return events;
    return [{ version: events[events.length - 1]!.version, delta: mergeDeltas(events.map((e) => e.delta)) }];
  }

  /** The deltas that bring `receiver` from version `from` to `to`, in order; null when they are
   * not all held, when one of them is about the receiver itself (it needs a whole view), or
   * when there are more than `max` of them (a whole view is smaller). */
  since(network: string, from: number, to: number, receiver: { id: string; approved: boolean }, max = this.limit): DeltaEvent[] | null {
    if (to <= from) return [];
    if (to - from > max) return null;
    const held = this.byNetwork.get(network);
    const first = held?.[0]?.change.version;
    if (!held || first === undefined || first > from + 1 || held[held.length - 1]!.change.version < to) return null;
    const out: DeltaEvent[] = [];
    for (let i = from + 1 - first; i <= to - first; i++) {
      const h = held[i]!;
      const d = deltaFor(receiver, h.change);
      if (d === 'snapshot' || d === 'removed') return null;
      out.push(this.shared(h, receiver.approved, d));
    }
    return out;
  }
}

/** The deltas that catch `receiver` up from version `from` (the network is at `current`) as far as
 * the changes seen here go, when that reaches what a whole view built now would hold: the
 * members' version, which trails `current` by the writes still on their way (a burst of joins
 * always has some; they reach the node as they are made). Members read from the store count
 * writes whose change values are still on their way: those are waited for (IN_FLIGHT_MS). Null
 * when it needs a whole view. */
export async function deltasSince(history: ChangeHistory, views: ViewBuilder, network: string, from: number, current: number, receiver: { id: string; approved: boolean }): Promise<{ to: number; events: DeltaEvent[] } | null> {
  if (history.latest(network) === undefined || from <= 0 || from >= current) return null;
  const m = await views.membersOf(network).catch(() => null);
  if (!m || !(await history.reach(network, m.version, IN_FLIGHT_MS))) return null;
  const to = history.latest(network);
  if (to === undefined) return null;
  const events = history.catchUp(network, from, to, receiver, catchUpLimit(m.rows.length));
  return events ? { to, events } : null;
}

/** The version of `node`'s current view when that view is what the node holds (`digest`, see
 * core/view-digest.ts) and newer than its `from`; null otherwise (no digest, another view). */
export async function inStepAt(views: ViewBuilder, node: NodeRow, digest: string | undefined, from: number): Promise<number | null> {
  if (!digest) return null;
  const d = await views.digest(node);
  return d && d.digest === digest && d.version > from ? d.version : null;
}
