// The admin operations behind the REST API: validate with core, then one store call each.
import { randomBytes } from 'node:crypto';
import { assertDnsLabel, newNetwork } from '../../core/network.ts';
import { DEFAULT_EXPIRES, resolveUses } from '../../core/keys.ts';
import { parseSince, resolveExpiry } from '../../core/duration.ts';
import { encodeJoinToken } from '../../core/join-token.ts';
import { hashSecret, newSecret } from '../../core/secret.ts';
import { encodeLoginToken } from '../../core/login-token.ts';
import type { AdminToken, AuditEntry, DnsRecord, MeshNode, Network, NetworkLiveStatus, NetworkPatch, NetworkSpec, NodeLiveStatus } from '../../core/types.ts';
import type { ReportBook } from '../report-book.ts';
import type { ControllerContext } from '../context.ts';
import { MeshError } from '../../core/errors.ts';
import { keyView, nodeView, type KeyView } from './views.ts';
import { statusChangesAt } from '../../core/health.ts';
import type { HealthBook } from '../health-book.ts';
import type { NodeRow } from '../store/store.ts';
import { exportOf, type DnsExport } from '../dns-export.ts';
import { GatewayService } from './gateways.ts';
import type { PathBook } from '../nat/path-book.ts';

export interface KeyRequest {
  name?: string;
  /** A count, or "unlimited"; default 1. */
  uses?: number | 'unlimited';
  /** A duration or date, or "0" for never; default 24h. */
  expires?: string;
}

/** Admin service: networks, keys, nodes and DNS records. `actor` names the caller for the audit log. */
export class AdminService {
  private readonly ctx: ControllerContext;
  private readonly health: HealthBook | undefined;
  /** Gateways and external clients. */
  readonly gateways: GatewayService;
  private readonly paths: PathBook | undefined;
  private readonly reports: ReportBook | undefined;
  constructor(ctx: ControllerContext, health?: HealthBook, paths?: PathBook, reports?: ReportBook) {
    this.ctx = ctx;
    this.health = health;
    this.paths = paths;
    this.reports = reports;
    this.gateways = new GatewayService(ctx, health);
  }

  private view(n: NodeRow, now = this.ctx.now()): MeshNode {
    return nodeView(n, now, this.health?.lastHandshake(n.network, n.id));
  }

  listNetworks(): Promise<Network[]> {
    return this.ctx.store.listNetworks();
  }

  async getNetwork(name: string): Promise<Network> {
    const n = await this.ctx.store.getNetwork(name);
    if (!n) throw new MeshError('NOT_FOUND', `network "${name}" does not exist`, { hint: 'List networks with: meshctl network list' });
    return n;
  }

  createNetwork(spec: NetworkSpec, actor: string): Promise<Network> {
    return this.ctx.store.createNetwork(newNetwork(spec), actor);
  }

  /** A new listen port is the default of nodes that join later; each existing node keeps the port
   * it listens on (its peers dial that one). So a port change is refused while the network has
   * nodes, rather than accepted and reaching none of them. */
  async updateNetwork(name: string, patch: NetworkPatch, actor: string): Promise<Network> {
    if (patch.listenPort !== undefined) {
      const net = await this.getNetwork(name);
      const count = patch.listenPort === net.listenPort ? 0 : (await this.ctx.store.listNodes(name)).length;
      if (count > 0) {
        throw new MeshError('NETWORK_NOT_EMPTY', `network "${name}" has ${count} node${count === 1 ? '' : 's'}, which keep listening on their own ports: --port would reach none of them`, {
          hint: 'Change a node\'s port on the node (meshctl leave, then join --port N), or set --port before nodes join',
        });
      }
    }
    return this.ctx.store.updateNetwork(name, patch, actor);
  }

  deleteNetwork(name: string, force: boolean, actor: string): Promise<void> {
    return this.ctx.store.deleteNetwork(name, force, actor);
  }

  async listKeys(network: string): Promise<KeyView[]> {
    return (await this.ctx.store.listKeys(network)).map(keyView);
  }

  /** Creates a key and returns it with its join token: the only time the secret is shown. */
  async createKey(network: string, req: KeyRequest, actor: string): Promise<KeyView & { token: string }> {
    const name = req.name ?? `key-${randomBytes(4).toString('hex')}`;
    assertDnsLabel(name, 'key name');
    const usesRemaining = resolveUses(req.uses);
    const expiresAt = resolveExpiry(req.expires ?? DEFAULT_EXPIRES, this.ctx.now())?.toISOString() ?? null;
    const secret = newSecret();
    const key = await this.ctx.store.createKey({ network, name, secretHash: hashSecret(secret), usesRemaining, expiresAt }, actor);
    const token = encodeJoinToken({ server: this.ctx.grpcPublicAddr, network, keyName: name, secret, caPin: this.ctx.caPin });
    return { ...keyView(key), token };
  }

  async revokeKey(network: string, name: string, actor: string): Promise<KeyView> {
    return keyView(await this.ctx.store.revokeKey(network, name, actor));
  }

  async listNodes(network?: string): Promise<MeshNode[]> {
    const now = this.ctx.now();
    const [rows] = await Promise.all([this.ctx.store.listNodes(network), this.health?.refresh(network)]);
    return rows.map((n) => this.view(n, now));
  }

  /** When node `n`'s status (as listNodes showed it at `now`) changes next with no news of it. */
  statusChangesAt(n: MeshNode, now: number): number | null {
    return statusChangesAt({ approved: n.status !== 'pending', lastContact: n.lastCheckin, lastHandshake: this.health?.lastHandshake(n.network, n.id) ?? null }, now);
  }

  /** Node `id` of `network` with its status, or undefined when it is gone. */
  async findNode(network: string, id: string): Promise<MeshNode | undefined> {
    const n = await this.ctx.store.getNodeById(id);
    return n && n.network === network ? this.view(n) : undefined;
  }

  /** Every node of a network with its health and what it reported at its last check-in. */
  async networkStatus(network: string): Promise<NetworkLiveStatus> {
    await this.getNetwork(network);
    const now = this.ctx.now();
    const rows = await this.ctx.store.listNodes(network);
    const members = rows.filter((n) => n.approved);
    const iso = (ms: number) => new Date(ms).toISOString();
    const nodes = rows.map((n): NodeLiveStatus => {
      const r = this.reports?.get(network, n.id);
      let rx = 0;
      let tx = 0;
      for (const p of r?.peers.values() ?? []) {
        rx += p.rxBytes;
        tx += p.txBytes;
      }
      return {
        id: n.id,
        name: n.name,
        address: n.address,
        endpoint: n.endpoint,
        listenPort: n.listenPort,
        status: this.view(n, now).status,
        lastContact: n.lastCheckin,
        version: r?.version ?? null,
        rxBytes: rx,
        txBytes: tx,
        reportedAt: r ? iso(r.at) : null,
        handshakes: n.approved
          ? members.filter((p) => p.id !== n.id).map((p) => {
            const at = r?.peers.get(p.publicKey)?.latestHandshake ?? 0;
            return { peer: p.name, publicKey: p.publicKey, at: at > 0 ? iso(at * 1000) : null, path: this.paths?.pathBetween(n, p.publicKey, p.id) ?? 'unknown' };
          })
          : [],
      };
    });
    return { network, nodes };
  }

  async getNode(network: string, ref: string): Promise<MeshNode> {
    await Promise.all([this.getNetwork(network), this.health?.refresh(network)]);
    const n = await this.ctx.store.getNode(network, ref);
    if (!n) throw new MeshError('NOT_FOUND', `node "${ref}" does not exist in network "${network}"`, { hint: `List nodes with: meshctl nodes list ${network}` });
    // Per peer: direct or relayed, the endpoint in use and the candidate that won, as the node reported.
    return this.paths ? { ...this.view(n), peers: await this.paths.peersOf(n) } : this.view(n);
  }

  async approveNode(network: string, ref: string, actor: string): Promise<MeshNode> {
    return this.view(await this.ctx.store.approveNode(network, ref, actor));
  }

  async deleteNode(network: string, ref: string, actor: string): Promise<MeshNode> {
    return this.view(await this.ctx.store.deleteNode(network, ref, actor));
  }

  listDns(network: string): Promise<DnsRecord[]> {
    return this.ctx.store.listDns(network);
  }

  addDns(network: string, name: string, address: string, actor: string): Promise<DnsRecord> {
    return this.ctx.store.addDns(network, name, address, actor);
  }

  /** The network's CoreDNS-ready hosts file and a Corefile stanza that serves it. */
  async exportDns(network: string): Promise<DnsExport> {
    const net = await this.getNetwork(network);
    return exportOf(this.ctx.store, this.ctx.dataDir ?? '/var/lib/meshctl', net);
  }

  removeDns(network: string, name: string, actor: string): Promise<void> {
    return this.ctx.store.removeDns(network, name, actor);
  }

  /** The audit log, newest first: at most `limit` (default 100, at most 10,000) entries, those
   * since a time or duration ago, of one network. */
  async listAudit(q: { since?: string; limit?: number; network?: string } = {}): Promise<AuditEntry[]> {
    const limit = q.limit ?? 100;
    if (!Number.isInteger(limit) || limit < 1 || limit > 10_000) throw new MeshError('INVALID_ARGUMENT', `limit ${limit} is not between 1 and 10000`);
    if (q.network !== undefined) assertDnsLabel(q.network, 'network name');
    const since = q.since === undefined ? undefined : parseSince(q.since, this.ctx.now()).toISOString();
    return this.ctx.store.listAudit(limit, { ...(since ? { since } : {}), ...(q.network !== undefined ? { network: q.network } : {}) });
  }

  listAdminTokens(): Promise<AdminToken[]> {
    return this.ctx.store.listAdminTokens();
  }

  /** A new named admin token; its secret is returned once, as a login token (API URL, CA pin, secret). */
  async createAdminToken(req: { name: string; expires?: string }, actor: string): Promise<AdminToken & { token: string }> {
    assertDnsLabel(req.name, 'admin token name');
    const expiresAt = req.expires === undefined ? null : resolveExpiry(req.expires, this.ctx.now())?.toISOString() ?? null;
    const secret = newSecret();
    const t = await this.ctx.store.createAdminToken({ name: req.name, hash: hashSecret(secret), expiresAt }, actor);
    const server = this.ctx.apiPublicUrl ?? 'https://127.0.0.1:8081';
    return { ...t, token: encodeLoginToken({ server, caPin: this.ctx.caPin, secret, name: t.name }) };
  }

  /** Revokes at once: the next request with it, on any route, is refused. */
  revokeAdminToken(name: string, actor: string): Promise<AdminToken> {
    return this.ctx.store.revokeAdminToken(name, actor);
  }

  /** The token the caller used (from its actor name "admin:<name>"). */
  async whoami(actor: string): Promise<AdminToken> {
    const name = actor.replace(/^admin:/, '');
    const t = (await this.ctx.store.listAdminTokens()).find((x) => x.name === name);
    if (!t) throw new MeshError('NOT_FOUND', `admin token "${name}" does not exist`);
    return t;
  }
}
