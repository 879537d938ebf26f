// The Store on the sql.js engine. Soft state (contact times) is kept in memory and flushed on a
// timer so that a check-in never waits for a whole-file write.
import { join } from 'node:path';
import { patchNetwork } from '../../../core/network.ts';
import { isJoinRetry } from '../../../core/join-retry.ts';
import type { Actor, AuditFilter, GatewayPatch, NewClient, NewKey, NewNode, NodeRow, Store } from '../store.ts';
import type { Network, NetworkPatch } from '../../../core/types.ts';
import type { Change } from '../../../core/change.ts';
import { assertDeletable, nodeRemoved as removedError } from '../shared/refusals.ts';
import {
  clientName, gatewayReads, joinTarget, namesRemoved, namesServedBy, networkDeleted, nodeRemoved, nodeUpserted, planGateway, recordAdded, settingsChanged,
} from '../shared/writes.ts';
import type { Sql } from './engine.ts';
import { SqliteEngine, type EngineOptions } from './engine.ts';
import { acquireLock, type DirLock } from './lock.ts';
import * as nets from './networks.ts';
import * as keys from './keys.ts';
import * as nodes from './nodes.ts';
import * as dns from './dns.ts';
import * as admin from './admin.ts';
import * as clients from './clients.ts';

export const DB_FILE = 'meshctl.db';
/** Entries of the check-in read cache, at most (one per network and per node is the need). */
const MEMO_MAX = 20_000;

/** Network versions after a rollback, or a start after an owner that died: past anything memory
 * may have served (a version read from memory whose write then failed or died with the process).
 * They jump to at least the current time in ms, so a node never sees a number again with other
 * content behind it, and versions still grow. A clean restart keeps them as they are. */
export const moveVersionsPast = (sql: Sql): void => {
  sql.run('UPDATE networks SET version = max(version + 1, ?)', [Date.now()]);
};

export interface SqliteStoreOptions extends EngineOptions {
  /** How often soft state is written out (ms). */
  softFlushMs?: number;
}

export class SqliteStore implements Store {
  private readonly soft = new Map<string, string>(); // node id -> last contact
  private readonly listeners = new Set<(c: Change) => void>();
  /** Point reads on the check-in path, valid until the next write (any write clears them). */
  private readonly memo = new Map<string, unknown>();
  private memoGeneration = -1;
  private readonly timer: NodeJS.Timeout;

  readonly engine: SqliteEngine;
  private readonly lock: DirLock;

  private constructor(engine: SqliteEngine, lock: DirLock, softFlushMs: number) {
    this.engine = engine;
    this.lock = lock;
    this.timer = setInterval(() => void this.flushSoft().catch(() => {}), softFlushMs);
    this.timer.unref();
  }

  /** Takes the data directory's lock and opens its database. */
  static async open(dataDir: string, opts: SqliteStoreOptions = {}): Promise<SqliteStore> {
    const lock = await acquireLock(join(dataDir, 'server.lock'), dataDir);
    try {
      const engine = await SqliteEngine.open(join(dataDir, DB_FILE), { onReload: moveVersionsPast, reloadOnOpen: lock.tookOver, ...opts });
      return new SqliteStore(engine, lock, opts.softFlushMs ?? 5000);
    } catch (err) {
      await lock.release();
      throw err;
    }
  }

  /** A durable write that also reports the changes it made, once they are on disk. */
  private async changing<T>(fn: (sql: Sql, emit: (c: Change) => void) => T): Promise<T> {
    const changes: Change[] = [];
    const result = await this.engine.write((s) => fn(s, (c) => changes.push(c)));
    for (const c of changes) for (const l of this.listeners) l(c);
    return result;
  }

  private memoized<T>(key: string, read: (sql: Sql) => T): T {
    if (this.memoGeneration !== this.engine.generation) {
      this.memo.clear();
      this.memoGeneration = this.engine.generation;
    }
    if (this.memo.has(key)) return this.memo.get(key) as T;
    const v = this.engine.read(read);
    // Only hits are kept, and only so many: misses (random node ids, megabyte names) would
    // otherwise grow the cache without bound between two writes.
    if (v !== undefined && this.memo.size < MEMO_MAX) this.memo.set(key, v);
    return v;
  }

  subscribe(listener: (c: Change) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private async flushSoft(): Promise<void> {
    if (this.soft.size === 0) return;
    const batch = [...this.soft];
    this.soft.clear();
    this.engine.mutate((sql) => {
      for (const [id, at] of batch) nodes.setNodeFields(sql, id, { lastCheckin: at });
    });
    await this.engine.flush();
  }

  private withSoft(n: NodeRow): NodeRow {
    const at = this.soft.get(n.id);
    return at === undefined ? n : { ...n, lastCheckin: at };
  }

  async listNetworks() { return this.engine.read(nets.listNetworks); }
  async getNetwork(name: string) {
    const n = this.memoized(`network:${name}`, (s) => nets.findNetwork(s, name));
    return n && { ...n };
  }

  createNetwork(n: Network, actor: Actor) {
    return this.engine.write((s) => {
      const created = nets.insertNetwork(s, n);
      admin.appendAudit(s, actor, 'network.create', n.name);
      return created;
    });
  }

  updateNetwork(name: string, patch: NetworkPatch, actor: Actor) {
    return this.changing((s, emit) => {
      const prev = nets.mustNetwork(s, name);
      const next = patchNetwork(prev, patch);
      nets.saveNetworkSettings(s, next);
      if (next.version !== prev.version) emit(settingsChanged(next));
      admin.appendAudit(s, actor, 'network.update', name);
      return next;
    });
  }

  deleteNetwork(name: string, force: boolean, actor: Actor) {
    return this.changing((s, emit) => {
      const net = nets.mustNetwork(s, name);
      assertDeletable(name, nodes.countNodes(s, name), force);
      for (const n of nodes.listNodes(s, name)) nodes.removeNode(s, n, 'network-deleted');
      nets.removeNetwork(s, name); // keys and records go by ON DELETE CASCADE
      emit(networkDeleted(net));
      admin.appendAudit(s, actor, force ? 'network.delete --force' : 'network.delete', name);
    });
  }

  async listKeys(network: string) {
    return this.engine.read((s) => {
      nets.mustNetwork(s, network);
      return keys.listKeys(s, network);
    });
  }

  createKey(k: NewKey, actor: Actor) {
    return this.engine.write((s) => {
      nets.mustNetwork(s, k.network);
      const key = keys.insertKey(s, k);
      admin.appendAudit(s, actor, 'key.create', `${k.network}/${k.name}`);
      return key;
    });
  }

  revokeKey(network: string, name: string, actor: Actor) {
    return this.engine.write((s) => {
      nets.mustNetwork(s, network);
      const key = keys.revokeKey(s, network, name);
      admin.appendAudit(s, actor, 'key.revoke', `${network}/${name}`);
      return key;
    });
  }

  async listNodes(network?: string) {
    return this.engine.read((s) => {
      if (network !== undefined) nets.mustNetwork(s, network);
      return nodes.listNodes(s, network).map((n) => this.withSoft(n));
    });
  }

  async getNode(network: string, ref: string) {
    const n = this.engine.read((s) => nodes.findNode(s, network, ref));
    return n && this.withSoft(n);
  }

  async getNodeById(id: string) {
    const n = this.memoized(`node:${id}`, (s) => nodes.findNodeById(s, id));
    return n && this.withSoft({ ...n });
  }

  joinNode(key: { network: string; name: string; secret: string }, node: NewNode, now: Date) {
    return this.changing((s, emit) => {
      const net = nets.mustNetwork(s, key.network);
      // The same node repeating a join whose reply it never got: the same node, a fresh credential.
      const prev = nodes.findNode(s, key.network, node.name);
      if (prev && prev.name === node.name && isJoinRetry({ ...prev, lastContact: this.withSoft(prev).lastCheckin }, node.publicKey, now) && keys.keyAccepts(s, key.network, key.name, key.secret)) {
        nodes.setCredential(s, prev.id, node.credentialHash);
        admin.appendAudit(s, `node:${prev.id}`, 'node.join-retry', joinTarget(key, node));
        return { ...prev, credentialHash: node.credentialHash };
      }
      keys.spendKey(s, key.network, key.name, key.secret, now);
      const row = nodes.insertNode(s, node, net.cidr, !net.manualApproval);
      emit(nodeUpserted(net.name, nets.bumpVersion(s, key.network), row, net.keepalive));
      admin.appendAudit(s, `node:${node.id}`, 'node.join', joinTarget(key, node));
      return row;
    });
  }

  updateNode(id: string, patch: Partial<Pick<NodeRow, 'endpoint' | 'endpointStated' | 'listenPort' | 'publicKey'>>) {
    return this.changing((s, emit) => {
      const n = nodes.findNodeById(s, id);
      if (!n) throw removedError('update');
      nodes.setNodeFields(s, id, patch);
      const row = nodes.findNodeById(s, id)!;
      const net = nets.mustNetwork(s, n.network);
      emit(nodeUpserted(n.network, nets.bumpVersion(s, n.network), row, net.keepalive));
      return this.withSoft(row);
    });
  }

  approveNode(network: string, ref: string, actor: Actor) {
    return this.changing((s, emit) => {
      const net = nets.mustNetwork(s, network);
      const n = nodes.mustNode(s, network, ref);
      if (!n.approved) {
        nodes.setNodeFields(s, n.id, { approved: true });
        emit(nodeUpserted(network, nets.bumpVersion(s, network), { ...n, approved: true }, net.keepalive));
        admin.appendAudit(s, actor, 'node.approve', `${network}/${n.name}`);
      }
      return this.withSoft({ ...n, approved: true });
    });
  }

  deleteNode(network: string, ref: string, actor: Actor) {
    return this.changing((s, emit) => {
      nets.mustNetwork(s, network);
      const n = nodes.mustNode(s, network, ref);
      SqliteStore.removeAndTell(s, emit, n, 'deleted');
      admin.appendAudit(s, actor, 'node.delete', `${network}/${n.name}`);
      this.soft.delete(n.id);
      return n;
    });
  }

  leaveNode(id: string) {
    return this.changing((s, emit) => {
      const n = nodes.findNodeById(s, id);
      if (!n) throw removedError('leave');
      SqliteStore.removeAndTell(s, emit, n, 'left');
      admin.appendAudit(s, `node:${id}`, 'node.leave', `${n.network}/${n.name}`);
      this.soft.delete(id);
      return n;
    });
  }

  async getRemovedNode(id: string) {
    return this.engine.read((s) => nodes.findRemoved(s, id));
  }

  touchNode(id: string, at: string): void {
    this.soft.set(id, at);
  }

  async listRecords(network: string) {
    return this.engine.read((s) => dns.listRecords(s, network));
  }

  /** Re-reads node `id` after a change to what its peers route to it, and tells every node. */
  private static emitNode(s: Sql, emit: (c: Change) => void, network: string, id: string): NodeRow {
    const net = nets.mustNetwork(s, network);
    const row = nodes.findNodeById(s, id)!;
    emit(nodeUpserted(network, nets.bumpVersion(s, network), row, net.keepalive));
    return row;
  }

  /** Removes node `n` (its external clients go with it, by ON DELETE CASCADE) and tells every node,
   * the clients' names included. */
  private static removeAndTell(s: Sql, emit: (c: Change) => void, n: NodeRow, reason: 'deleted' | 'left'): void {
    const names = n.ingress ? namesServedBy(n, clients.listClients(s, n.network)) : [];
    nodes.removeNode(s, n, reason);
    emit(nodeRemoved(n, nets.bumpVersion(s, n.network)));
    if (names.length) emit(namesRemoved(n.network, nets.bumpVersion(s, n.network), names));
  }

  setGateway(network: string, ref: string, patch: GatewayPatch, actor: Actor) {
    return this.changing((s, emit) => {
      const net = nets.mustNetwork(s, network);
      const n = nodes.mustNode(s, network, ref);
      const read = gatewayReads(n, patch);
      const plan = planGateway(n, patch, net.cidr, read.clientCount ? clients.countClientsOf(s, n.id) : 0, read.nodes ? nodes.listNodes(s, network) : []);
      if (!plan) return this.withSoft(n);
      nodes.setNodeFields(s, n.id, plan.fields);
      const row = SqliteStore.emitNode(s, emit, network, n.id);
      admin.appendAudit(s, actor, 'node.gateway', `${network}/${n.name}: ${plan.what}`);
      return this.withSoft(row);
    });
  }

  async listClients(network: string) {
    return this.engine.read((s) => {
      nets.mustNetwork(s, network);
      return clients.listClients(s, network);
    });
  }

  async getClient(network: string, name: string) {
    return this.engine.read((s) => {
      nets.mustNetwork(s, network);
      return clients.findClient(s, network, name);
    });
  }

  createClient(c: NewClient, actor: Actor) {
    return this.changing((s, emit) => {
      const net = nets.mustNetwork(s, c.network);
      const row = clients.insertClient(s, c, net.cidr);
      SqliteStore.emitNode(s, emit, c.network, row.gatewayId);
      emit(clientName(row, nets.bumpVersion(s, row.network), true));
      admin.appendAudit(s, actor, 'client.create', `${c.network}/${c.name} (gateway ${row.gateway})`);
      return row;
    });
  }

  setClientEnabled(network: string, name: string, enabled: boolean, actor: Actor) {
    return this.changing((s, emit) => {
      nets.mustNetwork(s, network);
      const c = clients.mustClient(s, network, name);
      if (c.enabled === enabled) return c;
      clients.setClientEnabled(s, network, name, enabled);
      SqliteStore.emitNode(s, emit, network, c.gatewayId);
      emit(clientName(c, nets.bumpVersion(s, c.network), enabled));
      admin.appendAudit(s, actor, enabled ? 'client.enable' : 'client.disable', `${network}/${name}`);
      return { ...c, enabled };
    });
  }

  deleteClient(network: string, name: string, actor: Actor) {
    return this.changing((s, emit) => {
      nets.mustNetwork(s, network);
      const c = clients.mustClient(s, network, name);
      clients.removeClient(s, network, name);
      SqliteStore.emitNode(s, emit, network, c.gatewayId);
      if (c.enabled) emit(clientName(c, nets.bumpVersion(s, c.network), false));
      admin.appendAudit(s, actor, 'client.delete', `${network}/${name}`);
      return c;
    });
  }

  async listDns(network: string) {
    return this.engine.read((s) => {
      nets.mustNetwork(s, network);
      return dns.listDns(s, network);
    });
  }

  addDns(network: string, name: string, address: string, actor: Actor) {
    return this.changing((s, emit) => {
      const rec = dns.insertDns(s, nets.mustNetwork(s, network), name, address);
      emit(recordAdded(network, nets.bumpVersion(s, network), rec));
      admin.appendAudit(s, actor, 'dns.add', `${network}/${name}`);
      return rec;
    });
  }

  removeDns(network: string, name: string, actor: Actor) {
    return this.changing((s, emit) => {
      nets.mustNetwork(s, network);
      dns.deleteDns(s, network, name);
      emit(namesRemoved(network, nets.bumpVersion(s, network), [name]));
      admin.appendAudit(s, actor, 'dns.remove', `${network}/${name}`);
    });
  }

  async getAdminTokenByHash(hash: string) { return this.engine.read((s) => admin.getAdminTokenByHash(s, hash)); }
  async listAdminTokens() { return this.engine.read((s) => admin.listAdminTokens(s)); }
  createAdminToken(t: { name: string; hash: string; expiresAt: string | null }, actor: Actor) {
    return this.engine.write((s) => {
      const row = admin.insertAdminToken(s, t);
      admin.appendAudit(s, actor, 'admin-token.create', t.name);
      return row;
    });
  }
  revokeAdminToken(name: string, actor: Actor) {
    return this.engine.write((s) => {
      const row = admin.revokeAdminToken(s, name);
      admin.appendAudit(s, actor, 'admin-token.revoke', name);
      return row;
    });
  }
  async listAudit(limit: number, filter?: AuditFilter) { return this.engine.read((s) => admin.listAudit(s, limit, filter)); }

  async close(): Promise<void> {
    clearInterval(this.timer);
    try {
      await this.flushSoft();
      await this.engine.close();
    } finally {
      await this.lock.release();
    }
  }
}
