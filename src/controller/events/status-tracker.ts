// Node health as events: remembers each node's last status (healthy / stale / down / pending, as
// the API reports it) and publishes a `status` event when it changes. Status moves with time (no
// contact for 90 s: stale) as well as with check-ins and handshake reports, so every node is swept
// on a timer, and a node is looked at again soon after it checked in or changed.
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
  /** Every node's status is recomputed this often (default 5 s). */
  sweepMs?: number;
  /** A node touched is looked at after this delay (default 250 ms: many check-ins, one read each). */
  touchMs?: number;
}

export class StatusTracker {
  private readonly last = new Map<string, Map<string, NodeStatus>>(); // network -> node id -> status
  private readonly nodes: (network?: string) => Promise<MeshNode[]>;
  private readonly node: (network: string, id: string) => Promise<MeshNode | undefined>;
  private readonly publish: (e: StatusEvent) => void;
  private readonly touchMs: number;
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
    const sweepMs = opts.sweepMs ?? 5000;
    if (sweepMs > 0) {
      this.sweepTimer = setInterval(() => void this.sweep(), sweepMs);
      this.sweepTimer.unref();
    }
  }

  /** Node `id` of `network` checked in, opened a stream or changed: look at its status soon
   * (many touches within `touchMs`, one read per node). */
  touch(network: string, id: string): void {
    if (this.closed) return;
    this.dirty.add(`${network}\0${id}`);
    if (this.touchTimer) return;
    this.touchTimer = setTimeout(() => {
      this.touchTimer = undefined;
      const keys = [...this.dirty];
      this.dirty.clear();
      this.running = this.running.then(() => this.checkNodes(keys)).catch(() => {});
    }, this.touchMs);
    this.touchTimer.unref();
  }

  private async checkNodes(keys: string[]): Promise<void> {
    if (this.closed || !this.baseline) return;
    for (const k of keys) {
      const [network, id] = k.split('\0') as [string, string];
      const n = await this.node(network, id);
      if (!n) continue; // gone: the next sweep forgets it
      let net = this.last.get(network);
      if (!net) this.last.set(network, (net = new Map()));
      if (net.get(id) === n.status) continue;
      net.set(id, n.status);
      this.publish({ network, nodeId: id, name: n.name, status: n.status, lastContact: n.lastCheckin });
    }
  }

  /** Recomputes the status of every node (of `network`), publishing each that changed. The first
   * full sweep only takes the baseline; after it a new node's first status is published too. */
  sweep(network?: string): Promise<void> {
    // One sweep at a time, so that two cannot publish the same transition twice.
    this.running = this.running.then(() => this.doSweep(network)).catch(() => {});
    return this.running;
  }

  private async doSweep(network?: string): Promise<void> {
    if (this.closed) return;
    if (network !== undefined && !this.baseline) return this.doSweep();
    const ns = await this.nodes(network);
    const announce = this.baseline;
    const seen = new Map<string, Set<string>>();
    for (const n of ns) {
      let net = this.last.get(n.network);
      if (!net) this.last.set(n.network, (net = new Map()));
      let ids = seen.get(n.network);
      if (!ids) seen.set(n.network, (ids = new Set()));
      ids.add(n.id);
      const prev = net.get(n.id);
      if (prev === n.status) continue;
      net.set(n.id, n.status);
      if (announce) this.publish({ network: n.network, nodeId: n.id, name: n.name, status: n.status, lastContact: n.lastCheckin });
    }
    // Forget nodes (and networks) that are gone.
    for (const [name, net] of this.last) {
      if (network !== undefined && name !== network) continue;
      const ids = seen.get(name);
      if (!ids) this.last.delete(name);
      else for (const id of net.keys()) if (!ids.has(id)) net.delete(id);
    }
    if (network === undefined) this.baseline = true;
  }

  close(): void {
    this.closed = true;
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    if (this.touchTimer) clearTimeout(this.touchTimer);
  }
}
