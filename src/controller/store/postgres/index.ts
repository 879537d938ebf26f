// The Store on PostgreSQL, for several controllers sharing one database. Same semantics as the
// embedded store: a write resolves after COMMIT (durable), invariants are enforced inside one
// transaction under the network's row lock (never an in-process lock, since other controllers
// write too), and each change nodes can see bumps the network's version once. Changes reach the
// subscribers of every controller through the change feed (changes.ts), in version order.
// Contact times are soft state, as in the embedded store: kept in memory, written on a timer.
// The node API's point reads (a network by name, a node by id: every check-in and Watch snapshot
// makes them) are served from memory until anything changes (see `memoized`).
import { isJoinRetry } from '../../../core/join-retry.ts';
import { patchNetwork } from '../../../core/network.ts';
import type { Actor, AuditFilter, GatewayPatch, NewClient, NewKey, NewNode, NodeRow, Store } from '../store.ts';
import type { Network, NetworkPatch } from '../../../core/types.ts';
import type { Change } from '../../../core/change.ts';
import { assertDeletable, nodeRemoved as removedError } from '../shared/refusals.ts';
import {
  clientName, gatewayReads, joinTarget, namesRemoved, namesServedBy, networkDeleted, nodeRemoved, nodeUpserted, planGateway, recordAdded, settingsChanged,
} from '../shared/writes.ts';
import { PgEngine, type PgEngineOptions, type Q } from './engine.ts';
import { ChangeFeed, notifyWrite, recordChange, storedForm, type FeedLog } from './changes.ts';
import * as nets from './networks.ts';
import * as keys from './keys.ts';
import * as nodes from './nodes.ts';
import * as dns from './dns.ts';
import * as admin from './admin.ts';
import * as clients from './clients.ts';
import * as health from './health.ts';
import type { HealthReport, SharedHealth } from '../../health-book.ts';

export interface PostgresStoreOptions extends PgEngineOptions {
  /** How often soft state is written out (ms). */
  softFlushMs?: number;
  log?: FeedLog;
  /** How long a point read is served from memory at most (ms; default MEMO_MS). */
  memoMs?: number;
}

/** How long a point read is served from memory at most, even when no notification said that
 * anything changed (a lost notification; contact times, which change without one). */
export const MEMO_MS = 1000;
/** Entries of the point-read cache, at most (one per network and per node is the need). */
const MEMO_MAX = 20_000;
/** A shared handshake report is written again only when it moved by this much (ms): node status
 * changes on a scale of minutes (core/health.ts), so this bounds the writes, not the answer. */
export const HEALTH_STEP_MS = 10_000;
/** How often queued handshake reports are written (ms): how far behind the other controllers'
 * view of node health may be, beside HEALTH_STEP_MS. */
export const HEALTH_FLUSH_MS = 1000;

/** True for a --store / MESHCTL_STORE value that names a PostgreSQL database. */
export const isPostgresUrl = (s: string): boolean => /^postgres(ql)?:\/\//.test(s);

export class PostgresStore implements Store, SharedHealth {
  private readonly soft = new Map<string, string>(); // node id -> last contact
  /** Handshake reports waiting for the next soft-state write ("subject reporter" -> report). */
  private readonly healthQueue = new Map<string, HealthReport>();
  /** What was last written per "subject reporter" (ms), for HEALTH_STEP_MS. */
  private readonly healthWritten = new Map<string, number>();
  private readonly listeners = new Set<(c: Change) => void>();
  /** Point reads: key -> value and when it was read. Cleared by every write made here and every
   * notification of a write made anywhere (changes.ts), before the change's listeners run. */
  private readonly memo = new Map<string, { at: number; value: unknown }>();
  /** Bumped by every clear: a read that started before it is not kept. */
  private memoGeneration = 0;
  private readonly timer: NodeJS.Timeout;
  private readonly healthTimer: NodeJS.Timeout;
  readonly engine: PgEngine;
  readonly feed: ChangeFeed;

  private readonly memoMs: number;

  private constructor(engine: PgEngine, softFlushMs: number, log?: FeedLog, memoMs = MEMO_MS) {
    this.engine = engine;
    this.memoMs = memoMs;
    this.feed = new ChangeFeed(engine, (c) => {
      this.forget();
      for (const l of this.listeners) l(c);
    }, log, () => this.forget());
    this.timer = setInterval(() => void this.flushSoft().catch(() => {}), softFlushMs);
    this.timer.unref();
    this.healthTimer = setInterval(() => void this.flushHealth(), HEALTH_FLUSH_MS);
    this.healthTimer.unref();
  }

  /** Connects, migrates (one controller at a time) and starts listening for changes. */
  static async open(url: string, opts: PostgresStoreOptions = {}): Promise<PostgresStore> {
    const engine = await PgEngine.open(url, opts);
    const store = new PostgresStore(engine, opts.softFlushMs ?? 5000, opts.log, opts.memoMs);
    try {
      await store.feed.start();
    } catch (err) {
      await store.close().catch(() => {});
      throw err;
    }
    return store;
  }

  /** A durable write. Every controller's point reads are forgotten: here once it committed, on
   * the others when the notification it queues arrives. */
  private async write<T>(fn: (q: Q) => Promise<T>): Promise<T> {
    try {
      return await this.engine.write(async (q) => {
        const result = await fn(q);
        await notifyWrite(q);
        return result;
      });
    } finally {
      this.forget();
    }
  }

  /** A durable write that also reports the changes it made, here and (by NOTIFY) everywhere. */
  private async changing<T>(fn: (q: Q, emit: (c: Change) => Promise<void>) => Promise<T>): Promise<T> {
    let changes: Change[] = [];
    let result: T;
    try {
      result = await this.engine.write(async (q) => {
        changes = []; // a retried transaction starts over
        const r = await fn(q, async (c) => {
          changes.push(storedForm(c));
          await recordChange(q, c);
        });
        if (changes.length === 0) await notifyWrite(q); // e.g. a setting nodes do not see
        return r;
      });
    } finally {
      this.forget();
    }
    await this.feed.committed(changes);
    return result;
  }

  /** Forgets every point read (see `memo`). */
  private forget(): void {
    this.memo.clear();
    this.memoGeneration++;
  }

  private async memoized<T>(key: string, read: (q: Q) => Promise<T>): Promise<T> {
    const hit = this.memo.get(key);
    if (hit && Date.now() - hit.at < this.memoMs) return hit.value as T;
    const generation = this.memoGeneration;
    const at = Date.now();
    const value = await this.engine.read(read);
    // Only hits are kept, and only so many (misses would grow it without bound); and only when
    // nothing was written meanwhile.
    if (value !== undefined && generation === this.memoGeneration && (this.memo.size < MEMO_MAX || this.memo.has(key))) this.memo.set(key, { at, value });
    return value;
  }

  subscribe(listener: (c: Change) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private async flushHealth(): Promise<void> {
    if (this.healthQueue.size === 0) return;
    const reports = [...this.healthQueue.values()];
    this.healthQueue.clear();
    // Soft state: a batch that fails (a node deleted meanwhile) is dropped, not retried.
    await this.engine.read((q) => health.writeReports(q, reports)).catch(() => {});
  }

  private async flushSoft(): Promise<void> {
    if (this.soft.size === 0) return;
    const batch = [...this.soft];
    this.soft.clear();
    await this.engine.read((q) => nodes.touchMany(q, batch));
  }

  shareHealth(reports: readonly HealthReport[]): void {
    for (const r of reports) {
      const key = `${r.subject} ${r.reporter}`;
      if (r.at < (this.healthWritten.get(key) ?? 0) + HEALTH_STEP_MS) continue;
      if (this.healthWritten.size >= 200_000) this.healthWritten.clear(); // bounded; at worst a few writes more
      this.healthWritten.set(key, r.at);
      this.healthQueue.set(key, r);
    }
  }

  sharedHealth(network?: string): Promise<HealthReport[]> {
    return this.engine.read((q) => health.readReports(q, network));
  }

  private withSoft(n: NodeRow): NodeRow {
    const at = this.soft.get(n.id);
    return at === undefined || (n.lastCheckin !== null && n.lastCheckin > at) ? n : { ...n, lastCheckin: at };
  }

  listNetworks() { return this.engine.read(nets.listNetworks); }
  getNetwork(name: string) { return this.memoized(`network:${name}`, (q) => nets.findNetwork(q, name)); }

  async createNetwork(n: Network, actor: Actor) {
    const created = await this.write(async (q) => {
      const net = await nets.insertNetwork(q, n);
      await admin.appendAudit(q, actor, 'network.create', n.name);
      const { created_at: at } = (await q.get<{ created_at: string }>('SELECT created_at FROM networks WHERE name = $1', [n.name]))!;
      return { net, at };
    });
    this.feed.created(created.net.name, created.net.version, created.at);
    return created.net;
  }

  updateNetwork(name: string, patch: NetworkPatch, actor: Actor) {
    return this.changing(async (q, emit) => {
      const prev = await nets.lockNetwork(q, name);
      const next = patchNetwork(prev, patch);
      await nets.saveNetworkSettings(q, next);
      if (next.version !== prev.version) await emit(settingsChanged(next));
      await admin.appendAudit(q, actor, 'network.update', name);
      return next;
    });
  }

  deleteNetwork(name: string, force: boolean, actor: Actor) {
    return this.changing(async (q, emit) => {
      const net = await nets.lockNetwork(q, name);
      assertDeletable(name, await nodes.countNodes(q, name), force);
      for (const n of await nodes.listNodes(q, name)) await nodes.removeNode(q, n, 'network-deleted');
      await nodes.pruneTombstones(q);
      await nets.removeNetwork(q, name); // keys and records go by ON DELETE CASCADE
      await emit(networkDeleted(net));
      await admin.appendAudit(q, actor, force ? 'network.delete --force' : 'network.delete', name);
    });
  }

  listKeys(network: string) {
    return this.engine.read(async (q) => {
      await nets.mustNetwork(q, network);
      return keys.listKeys(q, network);
    });
  }

  createKey(k: NewKey, actor: Actor) {
    return this.write(async (q) => {
      await nets.mustNetwork(q, k.network);
      const key = await keys.insertKey(q, k);
      await admin.appendAudit(q, actor, 'key.create', `${k.network}/${k.name}`);
      return key;
    });
  }

  revokeKey(network: string, name: string, actor: Actor) {
    return this.write(async (q) => {
      await nets.mustNetwork(q, network);
      const key = await keys.revokeKey(q, network, name);
      await admin.appendAudit(q, actor, 'key.revoke', `${network}/${name}`);
      return key;
    });
  }

  listNodes(network?: string) {
    return this.engine.read(async (q) => {
      if (network !== undefined) await nets.mustNetwork(q, network);
      return (await nodes.listNodes(q, network)).map((n) => this.withSoft(n));
    });
  }

  async getNode(network: string, ref: string) {
    const n = await this.engine.read((q) => nodes.findNode(q, network, ref));
    return n && this.withSoft(n);
  }

  async getNodeById(id: string) {
    const n = await this.memoized(`node:${id}`, (q) => nodes.findNodeById(q, id));
    return n && this.withSoft(n);
  }

  joinNode(key: { network: string; name: string; secret: string }, node: NewNode, now: Date) {
    return this.changing(async (q, emit) => {
      const net = await nets.lockNetwork(q, key.network);
      // The same node repeating a join whose reply it never got: the same node, a fresh credential.
      const prev = await nodes.findNode(q, key.network, node.name);
      if (prev && prev.name === node.name && isJoinRetry({ ...prev, lastContact: this.withSoft(prev).lastCheckin }, node.publicKey, now) && (await keys.keyAccepts(q, key.network, key.name, key.secret))) {
        await nodes.setCredential(q, prev.id, node.credentialHash);
        await admin.appendAudit(q, `node:${prev.id}`, 'node.join-retry', joinTarget(key, node));
        return { ...prev, credentialHash: node.credentialHash };
      }
      await keys.spendKey(q, key.network, key.name, key.secret, now);
      const row = await nodes.insertNode(q, node, net.cidr, !net.manualApproval);
      await emit(nodeUpserted(net.name, await nets.bumpVersion(q, key.network), row, net.keepalive));
      await admin.appendAudit(q, `node:${node.id}`, 'node.join', joinTarget(key, node));
      return row;
    });
  }

  updateNode(id: string, patch: Partial<Pick<NodeRow, 'endpoint' | 'endpointStated' | 'listenPort' | 'publicKey'>>) {
    return this.changing(async (q, emit) => {
      const found = await nodes.findNodeById(q, id);
      if (!found) throw removedError('update');
      const net = await nets.lockNetwork(q, found.network);
      if (!(await nodes.findNodeById(q, id))) throw removedError('update');
      await nodes.setNodeFields(q, id, patch);
      const row = (await nodes.findNodeById(q, id))!;
      await emit(nodeUpserted(row.network, await nets.bumpVersion(q, row.network), row, net.keepalive));
      return this.withSoft(row);
    });
  }

  approveNode(network: string, ref: string, actor: Actor) {
    return this.changing(async (q, emit) => {
      const net = await nets.lockNetwork(q, network);
      const n = await nodes.mustNode(q, network, ref);
      if (!n.approved) {
        await nodes.setNodeFields(q, n.id, { approved: true });
        await emit(nodeUpserted(network, await nets.bumpVersion(q, network), { ...n, approved: true }, net.keepalive));
        await admin.appendAudit(q, actor, 'node.approve', `${network}/${n.name}`);
      }
      return this.withSoft({ ...n, approved: true });
    });
  }

  async deleteNode(network: string, ref: string, actor: Actor) {
    const n = await this.changing(async (q, emit) => {
      await nets.lockNetwork(q, network);
      const n = await nodes.mustNode(q, network, ref);
      await PostgresStore.removeAndTell(q, emit, n, 'deleted');
      await admin.appendAudit(q, actor, 'node.delete', `${network}/${n.name}`);
      return n;
    });
    this.soft.delete(n.id);
    return n;
  }

  async leaveNode(id: string) {
    const n = await this.changing(async (q, emit) => {
      const found = await nodes.findNodeById(q, id);
      if (!found) throw removedError('leave');
      await nets.lockNetwork(q, found.network);
      const n = await nodes.findNodeById(q, id);
      if (!n) throw removedError('leave');
      await PostgresStore.removeAndTell(q, emit, n, 'left');
      await admin.appendAudit(q, `node:${id}`, 'node.leave', `${n.network}/${n.name}`);
      return n;
    });
    this.soft.delete(id);
    return n;
  }

  getRemovedNode(id: string) {
    return this.engine.read((q) => nodes.findRemoved(q, id));
  }

  touchNode(id: string, at: string): void {
    this.soft.set(id, at);
  }

  listRecords(network: string) {
    return this.engine.read((q) => dns.listRecords(q, network));
  }

  /** Re-reads node `id` after a change to what its peers route to it, and tells every node. */
  private static async emitNode(q: Q, emit: (c: Change) => Promise<void>, network: string, keepalive: number, id: string): Promise<NodeRow> {
    const row = (await nodes.findNodeById(q, id))!;
    await emit(nodeUpserted(network, await nets.bumpVersion(q, network), row, keepalive));
    return row;
  }

  /** Removes node `n` (its external clients go with it, by ON DELETE CASCADE) and tells every node,
   * the clients' names included. The caller holds the network's lock. */
  private static async removeAndTell(q: Q, emit: (c: Change) => Promise<void>, n: NodeRow, reason: 'deleted' | 'left'): Promise<void> {
    const names = n.ingress ? namesServedBy(n, await clients.listClients(q, n.network)) : [];
    await nodes.removeNode(q, n, reason);
    await nodes.pruneTombstones(q);
    await emit(nodeRemoved(n, await nets.bumpVersion(q, n.network)));
    if (names.length) await emit(namesRemoved(n.network, await nets.bumpVersion(q, n.network), names));
  }

  setGateway(network: string, ref: string, patch: GatewayPatch, actor: Actor) {
    return this.changing(async (q, emit) => {
      const net = await nets.lockNetwork(q, network);
      const n = await nodes.mustNode(q, network, ref);
      const read = gatewayReads(n, patch);
      const plan = planGateway(n, patch, net.cidr, read.clientCount ? await clients.countClientsOf(q, n.id) : 0, read.nodes ? await nodes.listNodes(q, network) : []);
      if (!plan) return this.withSoft(n);
      await nodes.setNodeFields(q, n.id, plan.fields);
      const row = await PostgresStore.emitNode(q, emit, network, net.keepalive, n.id);
      await admin.appendAudit(q, actor, 'node.gateway', `${network}/${n.name}: ${plan.what}`);
      return this.withSoft(row);
    });
  }

  listClients(network: string) {
    return this.engine.read(async (q) => {
      await nets.mustNetwork(q, network);
      return clients.listClients(q, network);
    });
  }

  getClient(network: string, name: string) {
    return this.engine.read(async (q) => {
      await nets.mustNetwork(q, network);
      return clients.findClient(q, network, name);
    });
  }

  createClient(c: NewClient, actor: Actor) {
    return this.changing(async (q, emit) => {
      const net = await nets.lockNetwork(q, c.network);
      const row = await clients.insertClient(q, c, net.cidr);
      await PostgresStore.emitNode(q, emit, c.network, net.keepalive, row.gatewayId);
      await emit(clientName(row, await nets.bumpVersion(q, row.network), true));
      await admin.appendAudit(q, actor, 'client.create', `${c.network}/${c.name} (gateway ${row.gateway})`);
      return row;
    });
  }

  setClientEnabled(network: string, name: string, enabled: boolean, actor: Actor) {
    return this.changing(async (q, emit) => {
      const net = await nets.lockNetwork(q, network);
      const c = await clients.mustClient(q, network, name);
      if (c.enabled === enabled) return c;
      await clients.setClientEnabled(q, network, name, enabled);
      await PostgresStore.emitNode(q, emit, network, net.keepalive, c.gatewayId);
      await emit(clientName(c, await nets.bumpVersion(q, c.network), enabled));
      await admin.appendAudit(q, actor, enabled ? 'client.enable' : 'client.disable', `${network}/${name}`);
      return { ...c, enabled };
    });
  }

  deleteClient(network: string, name: string, actor: Actor) {
    return this.changing(async (q, emit) => {
      const net = await nets.lockNetwork(q, network);
      const c = await clients.mustClient(q, network, name);
      await clients.removeClient(q, network, name);
      await PostgresStore.emitNode(q, emit, network, net.keepalive, c.gatewayId);
      if (c.enabled) await emit(clientName(c, await nets.bumpVersion(q, c.network), false));
      await admin.appendAudit(q, actor, 'client.delete', `${network}/${name}`);
      return c;
    });
  }

  listDns(network: string) {
    return this.engine.read(async (q) => {
      await nets.mustNetwork(q, network);
      return dns.listDns(q, network);
    });
  }

  addDns(network: string, name: string, address: string, actor: Actor) {
    return this.changing(async (q, emit) => {
      const net = await nets.lockNetwork(q, network);
      const rec = await dns.insertDns(q, net, name, address);
      await emit(recordAdded(network, await nets.bumpVersion(q, network), rec));
      await admin.appendAudit(q, actor, 'dns.add', `${network}/${name}`);
      return rec;
    });
  }

  removeDns(network: string, name: string, actor: Actor) {
    return this.changing(async (q, emit) => {
      await nets.lockNetwork(q, network);
      await dns.deleteDns(q, network, name);
      await emit(namesRemoved(network, await nets.bumpVersion(q, network), [name]));
      await admin.appendAudit(q, actor, 'dns.remove', `${network}/${name}`);
    });
  }

  getAdminTokenByHash(hash: string) { return this.engine.read((q) => admin.getAdminTokenByHash(q, hash)); }
  listAdminTokens() { return this.engine.read((q) => admin.listAdminTokens(q)); }
  createAdminToken(t: { name: string; hash: string; expiresAt: string | null }, actor: Actor) {
    return this.write(async (q) => {
      const row = await admin.insertAdminToken(q, t);
      await admin.appendAudit(q, actor, 'admin-token.create', t.name);
      return row;
    });
  }
  revokeAdminToken(name: string, actor: Actor) {
    return this.write(async (q) => {
      const row = await admin.revokeAdminToken(q, name);
      await admin.appendAudit(q, actor, 'admin-token.revoke', name);
      return row;
    });
  }
  listAudit(limit: number, filter?: AuditFilter) { return this.engine.read((q) => admin.listAudit(q, limit, filter)); }

  async close(): Promise<void> {
    clearInterval(this.timer);
    clearInterval(this.healthTimer);
    try {
      await this.flushSoft().catch(() => {});
      await this.flushHealth();
      await this.feed.close();
    } finally {
      await this.engine.close();
    }
  }
}
