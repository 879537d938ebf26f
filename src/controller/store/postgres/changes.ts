// Table `changes` and the feed that turns it into ordered change events on every controller.
// A write records its changes in the same transaction and queues NOTIFY "network:version"
// (PostgreSQL delivers it at commit, never for a rolled-back write). Each controller LISTENs on
// one connection of its own; for every network it remembers the last version it emitted, and
// on a notification (or a local commit, or the periodic sweep) reads back the changes after
// it, in version order. Because the writers of one network hold its row lock, versions commit
// in order, so "everything after the last version seen" never skips a change that commits
// later. A dropped listening connection is reopened, then every network is read back from the
// version last seen: no change is lost to a reconnect. A network deleted and created again under
// its name while nobody here listened (its creation time differs from the one seen here) is not
// continued from the old one's version: a `resync` change tells every listener to read it anew.
import pg from 'pg';
import type { Change } from '../../../core/change.ts';
import type { ViewNode } from '../../../core/view.ts';
import type { Q, PgEngine } from './engine.ts';

export const CHANNEL = 'meshctl_changes';
/** The listening connection's application_name (tests find it in pg_stat_activity). */
export const LISTENER_APP = 'meshctl-listen';
/** Changes kept per network; a controller further behind than this resyncs from a snapshot anyway. */
const KEEP = 1000;
const SWEEP_MS = 2000;

const viewNodeOf = (n: ViewNode): ViewNode => ({
  id: n.id, name: n.name, address: n.address, publicKey: n.publicKey, endpoint: n.endpoint, listenPort: n.listenPort, approved: n.approved,
  ...(n.ingress ? { ingress: true } : {}),
  ...(n.egressRanges?.length ? { egressRanges: n.egressRanges, egressNat: n.egressNat ?? false } : {}),
  ...(n.clientAddresses?.length ? { clientAddresses: n.clientAddresses } : {}),
});

/** A change as it is stored and emitted: only what views need, never a credential hash. */
export const storedForm = (c: Change): Change => (c.kind === 'node-upserted' ? { ...c, node: viewNodeOf(c.node) } : c);

/** Records `c` (in its stored form) and queues its notification; call inside the transaction
 * that made it. */
export async function recordChange(q: Q, c: Change): Promise<void> {
  await q.run(
    'WITH logged AS (INSERT INTO changes (network, version, change, at) VALUES ($1, $2, $3, $4)) SELECT pg_notify($5, $6)',
    [c.network, c.version, JSON.stringify(storedForm(c)), new Date().toISOString(), CHANNEL, `${c.network}:${c.version}`],
  );
  if (c.version % 100 === 0) await q.run('DELETE FROM changes WHERE network = $1 AND version <= $2', [c.network, c.version - KEEP]);
}

/** The payload of a write that changed nothing nodes see (a key, a token, a setting only admins
 * see): other controllers forget what they read before it. */
export const ANY_WRITE = '*';

/** Queues the notification of such a write; call inside its transaction. */
export async function notifyWrite(q: Q): Promise<void> {
  await q.run('SELECT pg_notify($1, $2)', [CHANNEL, ANY_WRITE]);
}

export const changesAfter = async (q: Q, network: string, after: number): Promise<Change[]> =>
  (await q.all<{ change: Change }>('SELECT change FROM changes WHERE network = $1 AND version > $2 ORDER BY version', [network, after])).map((r) => r.change);

export interface FeedLog {
  warn(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
}

export class ChangeFeed {
  private readonly lastSeen = new Map<string, number>();
  /** Each known network's creation time: which network of that name the versions belong to. */
  private readonly incarnation = new Map<string, string>();
  /** No reconnect before this time (ms); see dropListener. */
  private holdUntil = 0;
  /** Changes committed here, waiting for their turn (the versions before them). */
  private readonly pending = new Map<string, Map<number, Change>>();
  private readonly chains = new Map<string, Promise<void>>();
  /** The highest version a notification announced, per network. */
  private readonly target = new Map<string, number>();
  private client: pg.Client | null = null;
  private closed = false;
  private reconnectDelay = 100;
  private sweepTimer: NodeJS.Timeout | null = null;
  /** How many times the listening connection was (re)opened: 1 after start. */
  connects = 0;
  private readonly engine: PgEngine;
  private readonly emit: (c: Change) => void;
  private readonly log: FeedLog | undefined;
  private readonly onWrite: () => void;

  /** `emit` gets every change in order; `onWrite` is called for any write notified from anywhere
   * and after the listening connection was down (anything may have changed meanwhile). */
  constructor(engine: PgEngine, emit: (c: Change) => void, log?: FeedLog, onWrite: () => void = () => {}) {
    this.engine = engine;
    this.emit = emit;
    this.log = log;
    this.onWrite = onWrite;
  }

  /** Starts from the networks' current versions (history before now is not replayed) and listens. */
  async start(): Promise<void> {
    for (const r of await this.engine.read((q) => q.all<{ name: string; version: number; created_at: string }>('SELECT name, version, created_at FROM networks'))) {
      this.lastSeen.set(r.name, r.version);
      this.incarnation.set(r.name, r.created_at);
    }
    await this.listen();
    this.sweepTimer = setInterval(() => void this.sweep().catch(() => {}), SWEEP_MS);
    this.sweepTimer.unref();
  }

  /** A network created here (at `createdAt`, as stored): its changes start after `version`. */
  created(network: string, version: number, createdAt: string): void {
    this.lastSeen.set(network, version);
    this.incarnation.set(network, createdAt);
  }

  /** Changes committed by this controller: emitted in order, without a read when nothing is missing. */
  committed(changes: Change[]): Promise<void> {
    const nets = new Set<string>();
    for (const c of changes) {
      let p = this.pending.get(c.network);
      if (!p) this.pending.set(c.network, (p = new Map()));
      p.set(c.version, c);
      nets.add(c.network);
    }
    return Promise.all([...nets].map((n) => this.pump(n))).then(() => {});
  }

  private async listen(): Promise<void> {
    const client = new pg.Client({ connectionString: this.engine.url, application_name: LISTENER_APP, keepAlive: true });
    client.on('notification', (m) => {
      if (m.channel !== CHANNEL || !m.payload) return;
      if (m.payload === ANY_WRITE) {
        this.onWrite();
        return;
      }
      const i = m.payload.lastIndexOf(':');
      const network = m.payload.slice(0, i);
      const version = Number(m.payload.slice(i + 1));
      if (version > (this.target.get(network) ?? 0)) this.target.set(network, version);
      if (!this.lastSeen.has(network) || version > this.lastSeen.get(network)!) void this.pump(network);
    });
    const lost = (err?: Error) => {
      if (this.client !== client) return;
      this.client = null;
      client.end().catch(() => {});
      if (this.closed) return;
      this.log?.warn({ err: err?.message }, 'lost the PostgreSQL change listener; reconnecting');
      this.scheduleReconnect();
    };
    client.on('error', lost);
    client.on('end', () => lost());
    this.client = client;
    await client.connect();
    await client.query(`LISTEN ${CHANNEL}`);
    this.connects++;
    this.reconnectDelay = 100;
  }

  private scheduleReconnect(): void {
    const delay = this.reconnectDelay;
    this.reconnectDelay = Math.min(this.reconnectDelay * 2, 2000);
    setTimeout(() => {
      if (this.closed) return;
      if (Date.now() < this.holdUntil) {
        this.scheduleReconnect();
        return;
      }
      this.listen()
        .then(() => {
          this.log?.info({ connects: this.connects }, 'change listener reconnected; resyncing from the versions last seen');
          this.onWrite();
          return this.sweep();
        })
        .catch((err) => {
          this.client?.end().catch(() => {});
          this.client = null;
          this.log?.warn({ err: (err as Error).message }, 'reconnecting the change listener failed; trying again');
          this.scheduleReconnect();
        });
    }, delay).unref();
  }

  /** Reads back every network whose version is past what was seen here (after a reconnect, and
   * every few seconds as a safety net for a notification that never came). */
  async sweep(): Promise<void> {
    if (this.closed) return;
    const rows = await this.engine.read((q) => q.all<{ name: string; version: number; created_at: string }>('SELECT name, version, created_at FROM networks'));
    const current = new Map(rows.map((r) => [r.name, r.version]));
    const work: Promise<void>[] = [];
    const recreated = new Set<string>();
    for (const r of rows) {
      const inc = this.incarnation.get(r.name);
      if (this.lastSeen.has(r.name) && inc !== undefined && inc !== r.created_at) recreated.add(r.name);
    }
    for (const name of recreated) work.push(this.pump(name, 'recreated'));
    for (const [name, version] of current) {
      if (recreated.has(name)) continue;
      if (this.lastSeen.has(name) && version <= this.lastSeen.get(name)!) continue;
      if (version > (this.target.get(name) ?? 0)) this.target.set(name, version);
      work.push(this.pump(name));
    }
    // networks deleted (or deleted and created again) while nobody here was listening
    for (const [name, seen] of this.lastSeen) {
      const now = current.get(name);
      if (!recreated.has(name) && (now === undefined || now < seen)) work.push(this.pump(name, 'gone?'));
    }
    await Promise.all(work);
  }

  /** Emits, in version order, every change of `network` after the last one emitted here. One
   * pump per network at a time. */
  private pump(network: string, mode: 'next' | 'gone?' | 'recreated' = 'next'): Promise<void> {
    const prev = this.chains.get(network) ?? Promise.resolve();
    const next = prev.then(() => (mode === 'recreated' ? this.resync(network) : this.drain(network, mode === 'gone?'))).catch((err) => {
      this.log?.warn({ err: (err as Error).message, network }, 'reading back changes failed; the sweep will retry');
    });
    this.chains.set(network, next);
    void next.then(() => {
      if (this.chains.get(network) === next) this.chains.delete(network);
    });
    return next;
  }

  private async drain(network: string, maybeGone: boolean): Promise<void> {
    if (this.closed) return;
    const pend = this.pending.get(network);
    let last = this.lastSeen.get(network) ?? 0;
    // The common case: this controller's own commits, each the next version.
    if (this.lastSeen.has(network)) {
      while (pend?.has(last + 1) && this.lastSeen.has(network)) {
        const c = pend.get(last + 1)!;
        pend.delete(last + 1);
        last = this.deliver(c);
      }
    }
    const known = this.lastSeen.has(network);
    const behind = (this.target.get(network) ?? 0) > last || (pend !== undefined && pend.size > 0);
    if (known && (behind || maybeGone)) {
      const rows = await this.engine.read((q) => changesAfter(q, network, last));
      for (const c of rows) {
        if (!this.lastSeen.has(network)) break;
        if (c.version > last) last = this.deliver(c);
      }
      if (maybeGone && rows.length === 0 && this.lastSeen.has(network)) {
        // Deleted while nobody here listened, and its history went with a network created again
        // under its name: say so, then follow the new one.
        this.deliver({ kind: 'network-deleted', network, version: last + 1 });
      }
    }
    if (!this.lastSeen.has(network) && (behind || maybeGone || !known)) {
      // Unknown here (created elsewhere), or deleted: a network of this name that exists now has
      // only its own rows (creation clears older ones in the same transaction).
      const net = await this.engine.read((q) => q.get<{ version: number; created_at: string }>('SELECT version, created_at FROM networks WHERE name = $1', [network]));
      if (net) {
        this.incarnation.set(network, net.created_at);
        const rows = await this.engine.read((q) => changesAfter(q, network, 0));
        for (const c of rows) this.deliver(c);
        // rows hold every version up to net.version (read before them); the first has none
        if (rows.length === 0 || this.lastSeen.has(network)) this.lastSeen.set(network, Math.max(this.lastSeen.get(network) ?? 0, net.version));
      }
    }
    if (pend) {
      const seen = this.lastSeen.get(network);
      for (const v of pend.keys()) if (seen === undefined || v <= seen) pend.delete(v);
      if (pend.size === 0) this.pending.delete(network);
    }
  }

  /** `network` was deleted and created again while nobody here listened: its versions start
   * over, and what this controller (and the streams it serves) holds of the old one is stale.
   * Emits `resync` at the new network's version, from which its changes continue. */
  private async resync(network: string): Promise<void> {
    if (this.closed) return;
    const net = await this.engine.read((q) => q.get<{ version: number; created_at: string }>('SELECT version, created_at FROM networks WHERE name = $1', [network]));
    if (!net) {
      // deleted again since the sweep looked
      if (this.lastSeen.has(network)) this.deliver({ kind: 'network-deleted', network, version: this.lastSeen.get(network)! + 1 });
      return;
    }
    if (this.incarnation.get(network) === net.created_at) return; // already resynced
    this.log?.info({ network, version: net.version }, 'network was deleted and created again while the change listener was down; every stream gets a fresh view');
    this.incarnation.set(network, net.created_at);
    this.target.set(network, net.version);
    this.pending.delete(network);
    this.deliver({ kind: 'resync', network, version: net.version });
  }

  /** Emits one change and records it as seen; returns the version to continue after. */
  private deliver(c: Change): number {
    if (c.kind === 'network-deleted') {
      this.lastSeen.delete(c.network);
      this.target.delete(c.network);
      this.incarnation.delete(c.network);
    } else this.lastSeen.set(c.network, c.version);
    try {
      this.emit(c);
    } catch (err) {
      this.log?.warn({ err: (err as Error).message }, 'a change listener threw');
    }
    return c.kind === 'network-deleted' ? 0 : c.version;
  }

  /** Ends the listening connection (as a network failure would), and keeps it down for
   * `holdMs`; for tests. */
  dropListener(holdMs = 0): void {
    this.holdUntil = Date.now() + holdMs;
    this.client?.emit('error', new Error('dropped by test'));
  }

  /** Lets a listener held down by dropListener reconnect (within 2 s); for tests. */
  releaseListener(): void {
    this.holdUntil = 0;
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    const c = this.client;
    this.client = null;
    await c?.end().catch(() => {});
    await Promise.all([...this.chains.values()]);
  }
}
