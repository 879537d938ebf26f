// The admin operations behind the REST API: validate with core, then one store call each.
import { randomBytes } from 'node:crypto';
import { assertDnsLabel, newNetwork } from '../../core/network.ts';
import { DEFAULT_EXPIRES, resolveUses } from '../../core/keys.ts';
import { resolveExpiry } from '../../core/duration.ts';
import { encodeJoinToken } from '../../core/join-token.ts';
import { hashSecret, newSecret } from '../../core/secret.ts';
import { encodeLoginToken } from '../../core/login-token.ts';
import type { AdminToken, DnsRecord, MeshNode, Network, NetworkPatch, NetworkSpec } from '../../core/types.ts';
import type { ControllerContext } from '../context.ts';
import { MeshError } from '../../core/errors.ts';
import { keyView, nodeView, type KeyView } from './views.ts';
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
  constructor(ctx: ControllerContext, health?: HealthBook, paths?: PathBook) {
    this.ctx = ctx;
    this.health = health;
    this.paths = paths;
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
