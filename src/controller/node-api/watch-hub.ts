// Fans changes out to connected Watch streams: each subscriber gets only what changes its own
// view, as an O(1) delta per change (a snapshot only when its own record or the settings changed).
import { deltaFor, type Change, type WatchEvent } from '../../core/change.ts';
import { MeshError } from '../../core/errors.ts';
import type { Store, NodeRow } from '../store/store.ts';
import type { NodeApi } from './service.ts';
import type { Logger } from 'pino';

export interface Subscriber {
  send(ev: WatchEvent): void;
  end(err: MeshError): void;
}

interface Sub {
  node: NodeRow;
  approved: boolean;
  out: Subscriber;
  queue: Promise<void>; // events leave in order, snapshots included
}

export class WatchHub {
  private readonly byNetwork = new Map<string, Map<string, Sub>>();
  private readonly api: NodeApi;
  private readonly log: Logger;
  private readonly unsubscribe: () => void;

  constructor(store: Store, api: NodeApi, log: Logger) {
    this.api = api;
    this.log = log;
    this.unsubscribe = store.subscribe((c) => this.fanOut(c));
  }

  /** Connected streams, for metrics and tests. */
  get size(): number {
    let n = 0;
    for (const m of this.byNetwork.values()) n += m.size;
    return n;
  }

  /** Registers a stream; sends a snapshot first when the node is behind `knownVersion`. */
  add(node: NodeRow, knownVersion: number, currentVersion: number, out: Subscriber): () => void {
    let subs = this.byNetwork.get(node.network);
    if (!subs) this.byNetwork.set(node.network, (subs = new Map()));
    subs.get(node.id)?.out.end(new MeshError('ALREADY_EXISTS', 'a newer Watch stream of this node replaced this one'));
    const sub: Sub = { node, approved: node.approved, out, queue: Promise.resolve() };
    subs.set(node.id, sub);
    if (knownVersion !== currentVersion) this.enqueueSnapshot(sub);
    return () => {
      if (subs.get(node.id) === sub) subs.delete(node.id);
    };
  }

  private enqueueSnapshot(sub: Sub): void {
    sub.queue = sub.queue.then(async () => {
      try {
        const snapshot = await this.api.view(sub.node);
        sub.approved = snapshot.self.approved;
        sub.out.send({ version: snapshot.version, snapshot });
      } catch (err) {
        sub.out.end(err instanceof MeshError ? err : new MeshError('INTERNAL', 'building a snapshot failed'));
      }
    });
  }

  private fanOut(c: Change): void {
    const subs = this.byNetwork.get(c.network);
    if (!subs) return;
    for (const sub of subs.values()) {
      const d = deltaFor({ id: sub.node.id, approved: sub.approved }, c);
      if (d === 'snapshot') {
        if (c.kind === 'node-upserted' && c.node.id === sub.node.id) sub.node = { ...sub.node, approved: c.node.approved };
        this.enqueueSnapshot(sub);
      } else if (d === 'removed') {
        subs.delete(sub.node.id);
        const why = c.kind === 'network-deleted' ? `network "${c.network}" was deleted` : `this node was removed from network "${c.network}"`;
        sub.queue = sub.queue.then(() => sub.out.end(new MeshError('NODE_REMOVED', why, { hint: `Clean up locally with: meshctl leave -n ${c.network}` })));
      } else {
        sub.queue = sub.queue.then(() => sub.out.send({ version: c.version, delta: d }));
      }
    }
    if (subs.size === 0) this.byNetwork.delete(c.network);
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
