// Keeps one joined network in step: brings the interface up from the cached view, then follows
// the controller's Watch stream, applying each snapshot or delta as it arrives; reconnects with
// capped, jittered backoff (moving to the next controller first, when the token named several);
// reconciles on a slow timer; reports handshakes and its own changes.
import { MeshError } from '../core/errors.ts';
import { applyDelta, applyDeltas, type PeerDelta, type WatchEvent } from '../core/change.ts';
import { viewDigest } from '../core/view-digest.ts';
import { backoffDelay } from '../core/backoff.ts';
import type { NodeView } from '../core/view.ts';
import { NodeClient, type CheckInReply } from './client.ts';
import { failoverJitterMs, newControllerList, serversOf } from './failover.ts';
import { listenPortOf, loadState, saveState, type NetworkState } from './state.ts';
import { leavingFile, stateFile } from './paths.ts';
import { existsSync } from 'node:fs';
import { isRemoval, teardownNetwork } from './teardown.ts';
import { applyView, type AgentEnv, type CheckInResult, type StateInput } from './node.ts';
import { applyPaths, type PathUpdate } from '../core/change.ts';
import { readActual, resetPeer } from '../platform/wireguard.ts';
import { localAddresses } from '../platform/local-addresses.ts';
import { Traversal, pathTimersFromEnv } from './traversal.ts';

/** How often paths are stepped while some peer is probing or relayed, and otherwise. */
const TICK_BUSY_MS = 1000;
const TICK_IDLE_MS = 5000;

export interface WorkerOptions {
  reconcileMs?: number;
  checkInMs?: number;
}

type Wire = WatchEvent & { event?: string; snapshot?: NodeView | null; delta?: PeerDelta | null; paths?: PathUpdate | null };

export class NetworkWorker {
  readonly network: string;
  private readonly env: AgentEnv;
  private st!: NetworkState;
  private client: NodeClient | null = null;
  /** The controllers to try, in the join token's order, and the one in use. */
  private servers: string[] = [];
  private serverIdx = 0;
  private cancelWatch: (() => void) | null = null;
  private attempt = 0;
  private stopped = false;
  private chain: Promise<unknown> = Promise.resolve();
  private timers: NodeJS.Timeout[] = [];
  private retry: NodeJS.Timeout | null = null;
  private readonly opts: Required<WorkerOptions>;
  /** host:port of the controller in use. */
  get server(): string {
    return this.servers[this.serverIdx] ?? '';
  }
  /** True while the Watch stream is open. */
  connected = false;
  /** When the controller stopped answering (null while in contact). */
  lostSince: Date | null = null;
  /** The last error from the controller, while not in contact. */
  lastError: MeshError | null = null;
  /** Set when the controller says this node is gone; the worker then stops. */
  removed: MeshError | null = null;
  private readonly traversal = new Traversal(pathTimersFromEnv());
  private tickTimer: NodeJS.Timeout | null = null;
  private soonCheckIn: NodeJS.Timeout | null = null;

  constructor(env: AgentEnv, network: string, opts: WorkerOptions = {}) {
    this.env = env;
    this.network = network;
    this.opts = { reconcileMs: opts.reconcileMs ?? 30_000, checkInMs: opts.checkInMs ?? 15_000 };
  }

  private log(msg: string): void {
    this.env.log?.(`${this.network}: ${msg}`);
  }

  /** Runs `fn` after everything queued before it: applies never interleave. */
  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const p = this.chain.then(fn);
    this.chain = p.catch(() => {});
    return p;
  }

  async start(): Promise<void> {
    this.st = await loadState(this.env.configDir, this.network);
    if (this.st.view) {
      // The mesh comes up from the cache even when the controller is unreachable.
      await this.serial(() => this.apply(this.st.view!)).catch((err) => this.log(`applying the cached view: ${(err as Error).message}`));
    }
    this.servers = serversOf(this.st);
    this.serverIdx = Math.max(0, this.servers.indexOf(this.st.server));
    this.client = new NodeClient(this.servers[this.serverIdx]!, this.st.caPem, this.st.credential);
    this.timers.push(setInterval(() => void this.serial(() => this.reapply()).catch(() => {}), this.opts.reconcileMs));
    this.timers.push(setInterval(() => void this.checkIn().then(() => this.reconnectNow(), () => {}), this.opts.checkInMs));
    for (const t of this.timers) t.unref();
    this.connect();
    this.scheduleTick(0);
  }

  private scheduleTick(ms: number): void {
    if (this.stopped) return;
    if (this.tickTimer) clearTimeout(this.tickTimer);
    this.tickTimer = setTimeout(() => {
      this.tickTimer = null;
      void this.serial(() => this.tick())
        .catch((err) => this.log(`trying paths: ${(err as Error).message}`))
        .finally(() => this.scheduleTick(this.traversal.busy ? TICK_BUSY_MS : TICK_IDLE_MS));
    }, ms);
    this.tickTimer.unref();
  }

  /** One NAT traversal step for every peer: set the endpoints it picks, send the packets that
   * start handshakes, and tell the controller at once when a path was won or every candidate failed. */
  private async tick(): Promise<void> {
    const view = this.st.view;
    if (!view || !this.st.paths || this.stopped) return;
    const actual = await readActual(this.env.runner, this.st.interface).catch(() => null);
    const r = this.traversal.tick(view, this.st.paths, actual?.peers ?? null);
    for (const k of r.resets) await resetPeer(this.env.runner, this.st.interface, k).catch(() => {});
    if (r.changed) await this.apply(view);
    if (this.env.nudge) for (const a of r.nudges) void this.env.nudge(a);
    for (const e of r.events) this.log(e);
    if (r.events.length) this.checkInSoon();
  }

  private checkInSoon(): void {
    if (this.soonCheckIn || this.stopped) return;
    this.soonCheckIn = setTimeout(() => {
      this.soonCheckIn = null;
      void this.checkIn().catch(() => {});
    }, 100);
  }

  private async adoptPaths(u: PathUpdate): Promise<void> {
    if (!u.base && this.st.paths?.tag === u.tag && u.tag !== '') return;
    this.st = { ...this.st, paths: applyPaths(this.st.paths, u) };
    await saveState(this.env.configDir, this.st);
    this.scheduleTick(0);
  }

  private async apply(view: NodeView, previous: NodeView | null = this.st.view): Promise<string[]> {
    // `meshctl leave` removes the state, then the interface: never bring back what it removed.
    if (!existsSync(stateFile(this.env.configDir, this.network))) {
      this.log('left; stopping');
      this.stop();
      await this.dropDns();
      return [];
    }
    return applyView(this.env, this.st, view, false, previous, this.traversal.endpoints);
  }

  private async reapply(): Promise<void> {
    if (this.st.view) await this.apply(this.st.view);
  }

  private async adopt(view: NodeView): Promise<string[]> {
    const previous = this.st.view;
    if (previous && view.version < previous.version) {
      // A late reply (a check-in answered before a pushed update) must not take the node back.
      this.log(`ignoring a view of version ${view.version}, older than the one applied (${previous.version})`);
      return [];
    }
    this.st = { ...this.st, view };
    const changes = await this.apply(view, previous);
    await saveState(this.env.configDir, this.st);
    this.scheduleTick(0); // new peers start probing now
    return changes;
  }

  private connect(): void {
    if (this.stopped || !this.client) return;
    let opened = false;
    let cancel: (() => void) | null = null;
    /** Counts this attempt's stream as open, unless it has already ended (onEnd clears cancelWatch). */
    const markOpen = (how: string) => {
      if (opened || this.stopped || this.cancelWatch !== cancel) return;
      opened = true;
      this.connected = true;
      this.lostSince = null;
      this.lastError = null;
      this.attempt = 0;
      this.log(how);
    };
    cancel = this.client.watch(
      this.st.view?.version ?? 0,
      (ev: Wire) => {
        markOpen('watching the controller');
        void this.serial(() => this.onEvent(ev)).catch((err) => this.log(`applying an update: ${(err as Error).message}`));
      },
      (err) => this.onEnd(err),
      this.st.view ? viewDigest(this.st.view) : '',
    );
    this.cancelWatch = cancel;
    // The stream sends nothing while in step: count it open after a quiet check-in succeeds. The
    // stream brings the view from the version it was opened with; the check-in need not.
    void this.checkIn({ watching: true }).then(() => markOpen('in contact with the controller'), () => {});
  }

  private async onEvent(ev: Wire): Promise<void> {
    if (ev.paths && (ev.event === undefined || ev.event === 'paths')) {
      await this.adoptPaths(ev.paths);
    } else if (ev.snapshot && (ev.event === undefined || ev.event === 'snapshot')) {
      await this.adopt(ev.snapshot);
    } else if (ev.delta && this.st.view) {
      // a piece of a delta sent in pieces, not the last: the version held stays until the last
      const version = ev.delta.more ? this.st.view.version : ev.version;
      await this.adopt(applyDelta(this.st.view, version, ev.delta));
    }
  }

  private onEnd(err: Error): void {
    this.connected = false;
    this.lostSince ??= new Date();
    this.lastError = err instanceof MeshError ? err : new MeshError('UNREACHABLE', err.message);
    this.cancelWatch = null;
    if (this.stopped) return;
    if (isRemoval(err)) {
      void this.removedByController(err);
      return;
    }
    if (err instanceof MeshError && err.code === 'UNAUTHENTICATED') {
      // Not the controller's word that the node is gone (it may have been restored from an old
      // backup): stop, but leave the mesh as it is.
      this.removed = err;
      this.log(`stopped: ${err.message}. The interface stays up from the cached view; if this node was really removed, run \`meshctl leave -n ${this.network}\``);
      this.stop();
      return;
    }
    const n = this.servers.length;
    const attempt = this.attempt++;
    let delay: number;
    if (n > 1) {
      // Move to the next controller: after a short random pause while some are left untried in
      // this round, then with the usual backoff once every one has failed.
      const from = this.servers[this.serverIdx]!;
      this.serverIdx = (this.serverIdx + 1) % n;
      const to = this.servers[this.serverIdx]!;
      this.client?.close();
      this.client = new NodeClient(to, this.st.caPem, this.st.credential);
      this.st = { ...this.st, server: to };
      delay = attempt < n - 1 ? failoverJitterMs() : backoffDelay(attempt - (n - 1));
      this.log(`lost the controller at ${from} (${err.message}); trying ${to} in ${(delay / 1000).toFixed(1)}s`);
    } else {
      delay = backoffDelay(attempt);
      this.log(`lost the controller (${err.message}); retrying in ${(delay / 1000).toFixed(1)}s`);
    }
    this.retry = setTimeout(() => {
      this.retry = null;
      this.connect();
    }, delay);
  }

  /** The controller says this node is no longer in the network: stop, and take the network down
   * here (unless the user's own `meshctl leave` is what removed it: then there is nothing to do). */
  private async removedByController(err: MeshError): Promise<void> {
    if (this.removed) return;
    this.removed = err;
    this.stop();
    await this.serial(async () => {
      if (!existsSync(stateFile(this.env.configDir, this.network)) || existsSync(leavingFile(this.env.configDir, this.network))) {
        this.log('left this network (meshctl leave); stopped');
        return;
      }
      await teardownNetwork(this.env, this.st, err.message);
    }).catch((e) => this.log(`removing the network after the controller removed this node: ${(e as Error).message}`));
  }

  /** A periodic check-in got through while the stream waits out its backoff: the controller is
   * back, so reconnect now instead of at the end of a delay of up to 30 s. Check-in timers are
   * spread over the nodes, so this does not bring them all back at once. */
  private reconnectNow(): void {
    if (this.connected || this.stopped || !this.retry) return;
    clearTimeout(this.retry);
    this.retry = null;
    this.log('the controller answers again; reconnecting now');
    this.connect();
  }

  /** One check-in now: reports handshakes and own changes; applies the view when behind (unless
   * `watching`: a Watch stream opened just now from the version held brings it). */
  async checkIn(opts: { watching?: boolean } = {}): Promise<CheckInResult> {
    if (!this.client) throw new MeshError('NOT_JOINED', `network ${this.network} is not running`);
    const actual = await readActual(this.env.runner, this.st.interface).catch(() => null);
    const sent = this.st.view;
    const reply = await this.client.checkIn({
      listenPort: listenPortOf(this.st),
      endpoint: this.st.endpoint,
      knownVersion: this.st.view?.version ?? 0,
      handshakes: (actual?.peers ?? []).map((p) => ({ publicKey: p.publicKey, latestHandshake: p.latestHandshake, rxBytes: p.rxBytes, txBytes: p.txBytes, ...this.traversal.report(p) })),
      localAddresses: await localAddresses(this.env.runner, [this.st.interface]),
      pathsTag: this.st.paths?.tag ?? '',
      acceptsDeltas: Boolean(this.st.view), // deltas apply to a view held
      viewDigest: sent ? viewDigest(sent) : '',
      ...(opts.watching ? { watching: true } : {}),
    }).catch(async (err: unknown) => {
      if (isRemoval(err)) await this.removedByController(err);
      throw err;
    });
    const current = this.server;
    const servers = newControllerList(this.servers, reply.controllers, current);
    if (servers) {
      // Learned from the controller: keep talking to the one in use, fail over along the new list.
      this.servers = servers;
      this.serverIdx = servers.indexOf(current);
      this.st = { ...this.st, servers: this.servers };
      if (!reply.view) await this.serial(() => saveState(this.env.configDir, this.st));
      this.log(`controllers: ${this.servers.join(', ')}`);
    }
    const changes = reply.view
      ? await this.serial(() => this.adopt(reply.view!))
      : reply.inStep || reply.deltas.length
        ? await this.serial(() => this.caughtUp(reply, sent))
        : [];
    if (reply.paths) await this.serial(() => this.adoptPaths(reply.paths!));
    return { network: this.network, version: reply.version, changed: reply.changed, peers: this.st.view?.peers.length ?? 0, changes };
  }

  /** A check-in reply that brings no view: the view held is current (by its digest: the version
   * moves, what is held stays), or the deltas since the version sent. A Watch event may have moved
   * the view meanwhile: a digest that no longer matches changes nothing, deltas it holds are skipped. */
  private async caughtUp(reply: CheckInReply, sent: NodeView | null): Promise<string[]> {
    const held = this.st.view;
    if (!held || !sent) return [];
    const next = reply.inStep
      ? (viewDigest(held) === viewDigest(sent) ? { ...held, version: reply.version } : null)
      : applyDeltas(held, sent.version, reply.deltas);
    return next && next.version > held.version ? this.adopt(next) : [];
  }

  /** Stops answering for this network's names and undoes the host's use of them. */
  async dropDns(): Promise<void> {
    if (!this.env.dns || !this.st) return;
    await this.env.dns.remove(this.network, this.st.interface).catch((err) => this.log(`dns: ${(err as Error).message}`));
  }

  /** What `meshctl status` shows for this network (see networkState). */
  stateInput(): StateInput {
    if (this.removed) return { error: this.removed };
    if (!this.connected) return { error: this.lastError ?? new MeshError('UNREACHABLE', 'not connected to the controller yet'), since: this.lostSince };
    return { controllerVersion: this.st.view?.version ?? 0 };
  }

  stop(): void {
    this.stopped = true;
    for (const t of this.timers) clearInterval(t);
    if (this.tickTimer) clearTimeout(this.tickTimer);
    if (this.soonCheckIn) clearTimeout(this.soonCheckIn);
    if (this.retry) clearTimeout(this.retry);
    this.cancelWatch?.();
    this.client?.close();
    this.client = null;
  }
}
