// Node health as events: remembers each node's last status (healthy / stale / down / pending, as
// the API reports it) and publishes a `status` event when it changes. Status moves with time (no
// contact for 90 s: stale) as well as with check-ins and handshake reports. A node is looked at
// again soon after it checked in or changed, and when time alone would change its status (its
// deadline, from `changesAt`); nothing is read for the nodes whose status cannot have changed,
// so an idle controller with thousands of nodes does no work per node and per sweep. Without
// `changesAt` (controllers sharing a store, where another controller's check-ins are not seen
// here) every node is read again on each sweep.
import type { MeshNode, NodeStatus } from '../../core/types.ts';

/** The data of a `status` event. */
export interface StatusEvent {
  network: string;
  nodeId: string;
  name: string;
  status: NodeStatus;
  /** The node's last contact with the controller (ISO 8601), or null. */
  lastContact: string | null;
}

export interface StatusTrackerOptions {
  /** The nodes due are looked at this often, or (without `changesAt`) every node (default 5 s). */
  sweepMs?: number;
  /** A node touched is looked at after this delay (default 250 ms: many check-ins, one read each). */
  touchMs?: number;
  /** When node `n`'s status changes next with no news of it (ms since epoch), or null for never. */
  changesAt?: (n: MeshNode, now: number) => number | null;
  /** The clock `changesAt` is read against (default Date.now). */
  now?: () => number;
}

/** Node counts by network and status (the `meshctl_nodes` gauge). */
export type StatusCounts = { network: string; status: NodeStatus; count: number }[];

const keyOf = (network: string, id: string) => `${network}\0${id}`;

export class StatusTracker {
  private readonly last = new Map<string, Map<string, NodeStatus>>(); // network -> node id -> status
  private readonly nodes: (network?: string) => Promise<MeshNode[]>;
  private readonly node: (network: string, id: string) => Promise<MeshNode | undefined>;
  private readonly publish: (e: StatusEvent) => void;
  private readonly touchMs: number;
  private readonly sweepMs: number;
  private readonly changesAt: StatusTrackerOptions['changesAt'];
  private readonly now: () => number;
  /** Node key -> when its status changes next, and the same keys by sweep period (due / sweepMs). */
  private readonly due = new Map<string, number>();
  private readonly dueBy = new Map<number, Set<string>>();
  private readonly dirty = new Set<string>();
  private touchTimer: NodeJS.Timeout | undefined;
  private readonly sweepTimer: NodeJS.Timeout | undefined;
  private baseline = false;
  private running: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(
    nodes: (network?: string) => Promise<MeshNode[]>,
    node: (network: string, id: string) => Promise<MeshNode | undefined>,
    publish: (e: StatusEvent) => void,
    opts: StatusTrackerOptions = {},
  ) {
    this.nodes = nodes;
    this.node = node;
    this.publish = publish;
    this.touchMs = opts.touchMs ?? 250;
    this.sweepMs = opts.sweepMs ?? 5000;
    this.changesAt = opts.changesAt;
    this.now = opts.now ?? Date.now;
    if (this.sweepMs > 0) {
      this.sweepTimer = setInterval(() => void (this.changesAt && this.baseline ? this.sweepDue() : this.sweep()), this.sweepMs);
      this.sweepTimer.unref();
    }
  }

  /** Node `id` of `network` checked in, opened a stream or changed: look at its status soon
   * (many touches within `touchMs`, one read per node). */
  touch(network: string, id: string): void {
    if (this.closed) return;
    this.dirty.add(keyOf(network, id));
    if (this.touchTimer) return;
    this.touchTimer = setTimeout(() => void this.readTouched(), this.touchMs);
    this.touchTimer.unref();
  }

  /** Runs `fn` after whatever the tracker is reading (one pass at a time, so that two cannot
   * publish the same transition twice); a failed pass loses nothing (the next one reads again). */
  private enqueue(fn: () => Promise<void>): Promise<void> {
    this.running = this.running.then(fn).catch(() => {});
    return this.running;
  }

  /** Reads the nodes touched so far now. */
  private readTouched(): Promise<void> {
    clearTimeout(this.touchTimer);
    this.touchTimer = undefined;
    const keys = [...this.dirty];
    this.dirty.clear();
    return this.enqueue(() => this.checkNodes(keys));
  }

  /** Members reported handshakes with nodes `ids` of `network`: those last seen stale or down may
   * be alive again (a healthy one stays so until its deadline, when it is read anyway). */
  handshakes(network: string, ids: Iterable<string>): void {
    const net = this.last.get(network);
    if (!net) return;
    for (const id of ids) {
      const s = net.get(id);
      if (s === 'stale' || s === 'down') this.touch(network, id);
    }
  }

  /** Node `id` of `network` is gone (removed, or its network deleted when `id` is undefined). */
  forget(network: string, id?: string): void {
    const net = this.last.get(network);
    if (!net) return;
    for (const i of id === undefined ? [...net.keys()] : [id]) {
      net.delete(i);
      this.setDue(keyOf(network, i), null);
    }
    if (id === undefined || net.size === 0) this.last.delete(network);
  }

  /** Every node's status, counted by network and status: the nodes touched are read first, and
   * before the first sweep that sweep is made now (a failure of it is thrown). */
  async counts(): Promise<StatusCounts> {
    if (!this.baseline && !this.closed) {
      const first = this.running.then(() => this.doSweep());
      this.running = first.catch(() => {});
      await first;
    }
    await (this.dirty.size ? this.readTouched() : this.running);
    const out: StatusCounts = [];
    for (const [network, net] of this.last) {
      const by = new Map<NodeStatus, number>();
      for (const s of net.values()) by.set(s, (by.get(s) ?? 0) + 1);
      for (const [status, count] of by) out.push({ network, status, count });
    }
    return out;
  }

  /** The sweep period `at` falls in. */
  private periodOf(at: number): number {
    return Math.floor(at / Math.max(1, this.sweepMs));
  }

  private setDue(key: string, at: number | null): void {
    const prev = this.due.get(key);
    if (prev === at) return;
    if (prev !== undefined) {
      const b = this.periodOf(prev);
      const set = this.dueBy.get(b);
      set?.delete(key);
      if (set?.size === 0) this.dueBy.delete(b);
      this.due.delete(key);
    }
    if (at === null || !this.changesAt) return;
    this.due.set(key, at);
    const b = this.periodOf(at);
    let set = this.dueBy.get(b);
    if (!set) this.dueBy.set(b, (set = new Set()));
    set.add(key);
  }

  /** Takes node `n`'s status; true when it changed. */
  private record(n: MeshNode, now: number): boolean {
    let net = this.last.get(n.network);
    if (!net) this.last.set(n.network, (net = new Map()));
    this.setDue(keyOf(n.network, n.id), this.changesAt?.(n, now) ?? null);
    if (net.get(n.id) === n.status) return false;
    net.set(n.id, n.status);
    return true;
  }

  private announce(n: MeshNode): void {
    this.publish({ network: n.network, nodeId: n.id, name: n.name, status: n.status, lastContact: n.lastCheckin });
  }

  private async checkNodes(keys: string[]): Promise<void> {
    if (this.closed || !this.baseline) return;
    for (const k of keys) {
      const [network, id] = k.split('\0') as [string, string];
      const n = await this.node(network, id);
      if (this.closed) return;
      if (!n) {
        this.forget(network, id);
        continue;
      }
      if (this.record(n, this.now())) this.announce(n);
    }
  }

  /** Looks at the nodes whose deadline has passed. */
  private sweepDue(): Promise<void> {
    const now = this.now();
    const keys: string[] = [];
    for (const [b, set] of this.dueBy) {
      if (b * this.sweepMs > now) continue;
      for (const k of set) if (this.due.get(k)! <= now) keys.push(k);
    }
    if (keys.length === 0) return this.running;
    // Not looked at again before the read: a failed read leaves it due for the next sweep.
    return this.enqueue(() => this.checkNodes(keys));
  }

  /** Recomputes the status of every node (of `network`), publishing each that changed. The first
   * full sweep only takes the baseline; after it a new node's first status is published too. */
  sweep(network?: string): Promise<void> {
    return this.enqueue(() => this.doSweep(network));
  }

  private async doSweep(network?: string): Promise<void> {
    if (this.closed) return;
    if (network !== undefined && !this.baseline) return this.doSweep();
    const ns = await this.nodes(network);
    if (this.closed) return;
    const announce = this.baseline;
    const now = this.now();
    const seen = new Map<string, Set<string>>();
    for (const n of ns) {
      let ids = seen.get(n.network);
      if (!ids) seen.set(n.network, (ids = new Set()));
      ids.add(n.id);
      if (this.record(n, now) && announce) this.announce(n);
    }
    // Forget nodes (and networks) that are gone.
    for (const [name, net] of [...this.last]) {
      if (network !== undefined && name !== network) continue;
      const ids = seen.get(name);
      if (!ids) this.forget(name);
      else for (const id of [...net.keys()]) if (!ids.has(id)) this.forget(name, id);
    }
    if (network === undefined) this.baseline = true;
  }

  close(): void {
    this.closed = true;
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    if (this.touchTimer) clearTimeout(this.touchTimer);
  }
}
